/*
 * Every file cvmrestore writes is opened here, so that no writer follows a planted link or
 * truncates a file it did not create (docs/files.md).
 *
 * - rp_outfile_create: a new regular file, O_CREAT|O_EXCL|O_NOFOLLOW: a name that exists (a
 *   symbolic link planted by another user, a file) is refused, never opened.
 * - rp_outfile_reopen: an existing file of ours (a restore's OUT.partial on resume): opened
 *   with O_NOFOLLOW and refused unless it is a regular file owned by the effective user.
 * - rp_outfile_begin/commit/abort: replace a file atomically: the bytes go to a new temporary
 *   file with an unpredictable name in the same directory (created as above), which is
 *   fsynced, renamed over the final name (or linked, when the final name must not exist) and
 *   the directory fsynced. A final name that is a symbolic link is refused.
 *   rp_outfile_begin_named does the same through a temporary file the caller names (a
 *   restore's OUT.partial), which a later run may reopen and go on writing.
 * - rp_outfile_append: an append-only log, created if missing, never through a link.
 * - rp_outfile_lock: an exclusive lock for a whole run (fcntl, with our PID in the file), so
 *   that a second run on the same output stops at once naming the holder's PID.
 *
 * A refusal is RP_EIO (exit 4) with a message that names the file and says what is wrong:
 * "'X' is a symbolic link; refusing to write through it", "'X' exists; refusing to overwrite
 * it". Functions are thread-safe (they keep no state besides what the caller passes).
 */
#ifndef RP_COMMON_OUTFILE_H
#define RP_COMMON_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/*
 * Create path as a new regular file with mode (before the umask), opened O_RDWR if rdwr else
 * O_WRONLY, always O_CLOEXEC. *fd is set on success only.
 */
int rp_outfile_create(const char *path, mode_t mode, bool rdwr, int *fd, struct rp_err *err);

/*
 * Reopen an existing file of ours read-write: refused (RP_EIO) if it is a symbolic link, not
 * a regular file, or owned by another user. *fd is set on success only.
 */
int rp_outfile_reopen(const char *path, int *fd, struct rp_err *err);

/*
 * Remove a stale file of ours (e.g. an OUT.partial that a killed run left), only under the
 * run lock: unlink never follows a link. Returns 0 if path is gone afterwards.
 */
int rp_outfile_remove_stale(const char *path, struct rp_err *err);

/* A file being written for an atomic replace. Embed it; release with commit or abort. */
struct rp_outfile {
	int fd;	      /* the temporary file, open for writing */
	char *path;   /* the final name */
	char *tmp;    /* the temporary name: "<path>.tmp-<12 random hex>", or the caller's */
	bool replace; /* commit may replace an existing regular file at path */
	bool nosync;  /* set after begin to skip the fsyncs (not crash-safe) */
	bool keep;    /* a named temporary file: a failed commit leaves it (to resume) */
};

/*
 * Start writing path: refuses a path that is a symbolic link (RP_EIO), a path that exists when
 * !replace (RP_EUSAGE "'X' exists; use --force to replace it"), a directory (RP_EUSAGE), then
 * creates the temporary file with mode. On failure f holds nothing to release.
 */
int rp_outfile_begin(struct rp_outfile *f, const char *path, mode_t mode, bool replace,
		     struct rp_err *err);

/*
 * Start writing path through the temporary file tmp, a name the caller chooses so that a later
 * run can find it again (a restore's OUT.partial, a big file written in place and resumed):
 * path is checked as for rp_outfile_begin, then tmp is created new (rp_outfile_create, read-write,
 * with mode) or, when resume, the existing one of ours is opened (rp_outfile_reopen). A failed
 * commit leaves tmp; rp_outfile_abort removes it, rp_outfile_close keeps it.
 */
int rp_outfile_begin_named(struct rp_outfile *f, const char *path, const char *tmp, mode_t mode,
			   bool replace, bool resume, struct rp_err *err);

/*
 * fsync (unless nosync), close, rename to the final name (link then unlink if !replace, so that
 * a name created meanwhile is not replaced), fsync the directory. On failure the temporary
 * file is removed. f is released either way.
 */
int rp_outfile_commit(struct rp_outfile *f, struct rp_err *err);

/* Close and remove the temporary file; a released or zeroed f is a no-op. */
void rp_outfile_abort(struct rp_outfile *f);

/* Close and keep the temporary file (to resume later); a released or zeroed f is a no-op. */
void rp_outfile_close(struct rp_outfile *f);

/* Write all len bytes at the file position (EINTR retried); 0 or RP_EIO naming name. */
int rp_outfile_write_all(int fd, const void *buf, size_t len, const char *name, struct rp_err *err);

/* Replace path with the len bytes of buf, atomically (begin, write, commit). */
int rp_outfile_replace(const char *path, const void *buf, size_t len, mode_t mode, bool replace,
		       struct rp_err *err);

/* Open path for appending (created with mode if missing), refusing a link or a non-file. */
int rp_outfile_append(const char *path, mode_t mode, int *fd, struct rp_err *err);

/* fsync the directory that holds path (so that a rename in it survives a crash); 0 or RP_EIO. */
int rp_outfile_sync_dir(const char *path, struct rp_err *err);

/*
 * Take the run lock lock_path (a regular file of ours, created if missing, 0600) for what,
 * e.g. "'out.vhd'". Held until rp_outfile_unlock. If another process holds it: RP_EIO
 * "'<what>' is in use by another cvmrestore (pid N, lock '<lock_path>')". *fd is set on
 * success only.
 */
int rp_outfile_lock(const char *lock_path, const char *what, int *fd, struct rp_err *err);

/*
 * Before any work: a path that names a directory cannot be an output (RP_EUSAGE "'X' is a
 * directory; give the name of a file to write"). Anything else passes.
 */
int rp_outfile_check_target(const char *path, struct rp_err *err);

/*
 * The mode for a file made from the local file src: src's permission bits without write for
 * group and others (a source only its owner may read gives an output only its owner may
 * read); 0600 if src cannot be looked at.
 */
unsigned rp_outfile_mode_like(const char *src);

/*
 * Copy the file src into path byte for byte (begin, write, commit; mode as
 * rp_outfile_mode_like(src); replace as for rp_outfile_begin). For blobs that must stay exactly
 * as they are, such as a confidential VM's guest state: nothing is interpreted.
 */
int rp_outfile_copy(const char *src, const char *path, bool replace, struct rp_err *err);

/* Remove the lock file (while still holding it) and release it; fd < 0 is a no-op. */
void rp_outfile_unlock(const char *lock_path, int fd);

#endif
