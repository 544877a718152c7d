/*
 * Safe creation, atomic replacement, append-only logs and run locks (see outfile.h).
 *
 * Why each flag: O_NOFOLLOW so that a symbolic link at the final component is never
 * followed (ELOOP); O_EXCL with O_CREAT so that a name that exists - a link planted by another
 * user in a directory that is not sticky, where fs.protected_symlinks does not apply, or a
 * hard link to someone else's file - is refused instead of truncated; unpredictable temporary
 * names so that nobody can plant one in advance; rename(2) replaces a link at the final name
 * without following it, and the directory fsync makes the rename durable.
 */
#include "common/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

static int refuse_existing(const char *path, int e, struct rp_err *err)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return rp_err_set(err, RP_EIO,
				  "'%s' is a symbolic link; refusing to write through it", path);
	if (e == EEXIST)
		return rp_err_set(
		    err, RP_EIO, "'%s' exists; refusing to overwrite it (remove it if it is stale)",
		    path);
	return rp_err_errno(err, e, "cannot create '%s'", path);
}

int rp_outfile_create(const char *path, mode_t mode, bool rdwr, int *fd, struct rp_err *err)
{
	int f = open(path, (rdwr ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     mode);

	if (f < 0)
		return refuse_existing(path, errno, err);
	*fd = f;
	return 0;
}

/* A file we may write into in place: regular, ours, and not linked from elsewhere. */
static int check_ours(int fd, const char *path, struct rp_err *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return rp_err_errno(err, errno, "cannot stat '%s'", path);
	if (!S_ISREG(st.st_mode))
		return rp_err_set(err, RP_EIO,
				  "'%s' is not a regular file; refusing to write to it", path);
	if (st.st_uid != geteuid())
		return rp_err_set(err, RP_EIO,
				  "'%s' belongs to uid %lu, not to us; refusing to write to it",
				  path, (unsigned long)st.st_uid);
	if (st.st_nlink != 1)
		return rp_err_set(err, RP_EIO, "'%s' has %lu hard links; refusing to write to it",
				  path, (unsigned long)st.st_nlink);
	return 0;
}

int rp_outfile_reopen(const char *path, int *fd, struct rp_err *err)
{
	int f = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), rc;

	if (f < 0) {
		if (errno == ELOOP)
			return refuse_existing(path, errno, err);
		return rp_err_errno(err, errno, "cannot open '%s'", path);
	}
	rc = check_ours(f, path, err);
	if (rc == 0 && fcntl(f, F_SETFL, 0) != 0)
		rc = rp_err_errno(err, errno, "cannot open '%s'", path);
	if (rc) {
		close(f);
		return rc;
	}
	*fd = f;
	return 0;
}

int rp_outfile_remove_stale(const char *path, struct rp_err *err)
{
	if (unlink(path) != 0 && errno != ENOENT)
		return rp_err_errno(err, errno, "cannot remove the stale '%s'", path);
	return 0;
}

int rp_outfile_write_all(int fd, const void *buf, size_t len, const char *name, struct rp_err *err)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return rp_err_errno(err, n < 0 ? errno : EIO, "cannot write '%s'", name);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int rp_outfile_sync_dir(const char *path, struct rp_err *err)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return rp_err_set(err, RP_EIO, "out of memory");
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = rp_err_errno(err, errno, "cannot open the directory of '%s'", path);
	} else {
		/* Some file systems cannot sync a directory (EINVAL): nothing more to do there. */
		if (fsync(fd) != 0 && errno != EINVAL)
			rc = rp_err_errno(err, errno, "cannot sync the directory of '%s'", path);
		close(fd);
	}
	free(copy);
	return rc;
}

/* The final name must not be a link or a directory, nor exist unless replace. */
static int check_final(const char *path, bool replace, struct rp_err *err)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode))
			return rp_err_set(err, RP_EIO,
					  "'%s' is a symbolic link; refusing to write through it",
					  path);
		if (S_ISDIR(st.st_mode))
			return rp_err_set(err, RP_EUSAGE, "'%s' is a directory", path);
		if (!replace)
			return rp_err_set(err, RP_EUSAGE, "'%s' exists; use --force to replace it",
					  path);
		if (!S_ISREG(st.st_mode))
			return rp_err_set(err, RP_EUSAGE, "'%s' is not a regular file", path);
	}
	return 0;
}

int rp_outfile_begin(struct rp_outfile *f, const char *path, mode_t mode, bool replace,
		     struct rp_err *err)
{
	uint8_t rnd[6];
	char hex[13];
	size_t n;
	int rc;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	rc = check_final(path, replace, err);
	if (rc)
		return rc;
	rc = rp_random_bytes(rnd, sizeof(rnd), err);
	if (rc)
		return rc;
	rp_hex(rnd, sizeof(rnd), hex);
	n = strlen(path) + sizeof(".tmp-") + sizeof(hex);
	f->path = strdup(path);
	f->tmp = malloc(n);
	if (!f->path || !f->tmp) {
		rc = rp_err_set(err, RP_EIO, "out of memory");
		goto fail;
	}
	snprintf(f->tmp, n, "%s.tmp-%s", path, hex);
	rc = rp_outfile_create(f->tmp, mode, false, &f->fd, err);
	if (rc)
		goto fail;
	f->replace = replace;
	return 0;
fail:
	free(f->path);
	free(f->tmp);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	return rc;
}

int rp_outfile_begin_named(struct rp_outfile *f, const char *path, const char *tmp, mode_t mode,
			   bool replace, bool resume, struct rp_err *err)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	rc = check_final(path, replace, err);
	if (rc)
		return rc;
	f->path = strdup(path);
	f->tmp = strdup(tmp);
	if (!f->path || !f->tmp)
		rc = rp_err_set(err, RP_EIO, "out of memory");
	else if (resume)
		rc = rp_outfile_reopen(tmp, &f->fd, err);
	else
		rc = rp_outfile_create(tmp, mode, true, &f->fd, err);
	if (rc) {
		free(f->path);
		free(f->tmp);
		memset(f, 0, sizeof(*f));
		f->fd = -1;
		return rc;
	}
	f->replace = replace;
	f->keep = true;
	return 0;
}

static void outfile_release(struct rp_outfile *f)
{
	free(f->path);
	free(f->tmp);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

/* Put the finished temporary file at its final name. */
static int outfile_place(struct rp_outfile *f, struct rp_err *err)
{
	struct stat st;

	if (f->replace) {
		if (rename(f->tmp, f->path) != 0)
			return rp_err_errno(err, errno, "cannot rename '%s' to '%s'", f->tmp,
					    f->path);
		return 0;
	}
	/* link(2) fails if the final name appeared meanwhile, where rename would replace it. */
	if (link(f->tmp, f->path) == 0) {
		unlink(f->tmp);
		return 0;
	}
	if (errno == EEXIST)
		return refuse_existing(f->path, EEXIST, err);
	/* A file system without hard links: the check and the rename are then two steps. */
	if (lstat(f->path, &st) == 0)
		return refuse_existing(f->path, EEXIST, err);
	if (rename(f->tmp, f->path) != 0)
		return rp_err_errno(err, errno, "cannot rename '%s' to '%s'", f->tmp, f->path);
	return 0;
}

int rp_outfile_commit(struct rp_outfile *f, struct rp_err *err)
{
	int rc = 0;

	if (!f->nosync && fsync(f->fd) != 0)
		rc = rp_err_errno(err, errno, "cannot sync '%s'", f->tmp);
	if (close(f->fd) != 0 && rc == 0)
		rc = rp_err_errno(err, errno, "cannot close '%s'", f->tmp);
	f->fd = -1;
	if (rc == 0)
		rc = outfile_place(f, err);
	if (rc) {
		if (!f->keep)
			unlink(f->tmp);
	} else if (!f->nosync) {
		rc = rp_outfile_sync_dir(f->path, err);
	}
	outfile_release(f);
	return rc;
}

void rp_outfile_abort(struct rp_outfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp)
		unlink(f->tmp);
	outfile_release(f);
}

void rp_outfile_close(struct rp_outfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	outfile_release(f);
}

int rp_outfile_replace(const char *path, const void *buf, size_t len, mode_t mode, bool replace,
		       struct rp_err *err)
{
	struct rp_outfile f;
	int rc = rp_outfile_begin(&f, path, mode, replace, err);

	if (rc)
		return rc;
	rc = rp_outfile_write_all(f.fd, buf, len, f.tmp, err);
	if (rc) {
		rp_outfile_abort(&f);
		return rc;
	}
	return rp_outfile_commit(&f, err);
}

int rp_outfile_append(const char *path, mode_t mode, int *fd, struct rp_err *err)
{
	struct stat st;
	int f =
	    open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);

	if (f < 0) {
		if (errno == ELOOP)
			return refuse_existing(path, errno, err);
		if (errno == ENXIO) /* a FIFO without a reader */
			return rp_err_set(err, RP_EIO,
					  "'%s' is not a regular file; refusing to append to it",
					  path);
		return rp_err_errno(err, errno, "cannot open '%s'", path);
	}
	if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(f);
		return rp_err_set(err, RP_EIO,
				  "'%s' is not a regular file; refusing to append to it", path);
	}
	if (fcntl(f, F_SETFL, O_APPEND) != 0) {
		close(f);
		return rp_err_errno(err, errno, "cannot open '%s'", path);
	}
	*fd = f;
	return 0;
}

/* The PID in a lock file, 0 if none can be read. */
static long lock_file_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	uint64_t v;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (rp_parse_u64(buf, &v, NULL) != 0 || v > 0x7fffffff)
		return 0;
	return (long)v;
}

int rp_outfile_lock(const char *lock_path, const char *what, int *fd, struct rp_err *err)
{
	int tries;

	/* The lock file is removed by its holder at the end: if we opened it just before that,
	 * the lock we took is on a removed inode, so check the name still leads to it. */
	for (tries = 0; tries < 10; tries++) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		struct stat a, b;
		char pid[24];
		int f, rc;

		f = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
		if (f < 0) {
			if (errno == ELOOP)
				return refuse_existing(lock_path, errno, err);
			return rp_err_errno(err, errno, "cannot open the lock '%s'", lock_path);
		}
		rc = check_ours(f, lock_path, err);
		if (rc) {
			close(f);
			return rc;
		}
		if (fcntl(f, F_SETLK, &fl) != 0) {
			long holder = 0;
			if (errno != EAGAIN && errno != EACCES) {
				rc = rp_err_errno(err, errno, "cannot lock '%s'", lock_path);
				close(f);
				return rc;
			}
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			fl.l_start = 0;
			fl.l_len = 0;
			if (fcntl(f, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
				holder = (long)fl.l_pid;
			if (holder == 0)
				holder = lock_file_pid(f);
			close(f);
			return rp_err_set(
			    err, RP_EIO,
			    "%s is in use by another cvmrestore (pid %ld, lock '%s'); "
			    "wait for it to end",
			    what, holder, lock_path);
		}
		if (fstat(f, &a) != 0 || stat(lock_path, &b) != 0 || a.st_ino != b.st_ino ||
		    a.st_dev != b.st_dev) {
			close(f);
			continue;
		}
		snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (ftruncate(f, 0) != 0 ||
		    pwrite(f, pid, strlen(pid), 0) != (ssize_t)strlen(pid)) {
			rc = rp_err_errno(err, errno ? errno : EIO, "cannot write the lock '%s'",
					  lock_path);
			unlink(lock_path);
			close(f);
			return rc;
		}
		*fd = f;
		return 0;
	}
	return rp_err_set(err, RP_EIO, "cannot lock '%s': it keeps being replaced", lock_path);
}

void rp_outfile_unlock(const char *lock_path, int fd)
{
	if (fd < 0)
		return;
	unlink(lock_path);
	close(fd);
}

int rp_outfile_check_target(const char *path, struct rp_err *err)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return rp_err_set(err, RP_EUSAGE,
				  "'%s' is a directory; give the name of a file to write", path);
	return 0;
}

unsigned rp_outfile_mode_like(const char *src)
{
	struct stat st;

	if (stat(src, &st) != 0)
		return 0600;
	return (unsigned)(st.st_mode & 0644);
}

#define OUTFILE_COPY_BUF (1u << 20)

int rp_outfile_copy(const char *src, const char *path, bool replace, struct rp_err *err)
{
	struct rp_outfile f = {.fd = -1};
	uint8_t *buf = malloc(OUTFILE_COPY_BUF);
	int in = open(src, O_RDONLY | O_CLOEXEC), rc = 0;
	struct stat st;
	ssize_t k;

	if (!buf || in < 0 || fstat(in, &st) != 0)
		rc = rp_err_errno(err, buf ? errno : ENOMEM, "cannot read '%s'", src);
	if (rc == 0)
		rc = rp_outfile_begin(&f, path, (mode_t)rp_outfile_mode_like(src), replace, err);
	while (rc == 0 && (k = read(in, buf, OUTFILE_COPY_BUF)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			rc = rp_err_errno(err, errno, "cannot copy '%s'", src);
		else
			rc = rp_outfile_write_all(f.fd, buf, (size_t)k, f.tmp, err);
	}
	if (rc == 0)
		rc = rp_outfile_commit(&f, err);
	else
		rp_outfile_abort(&f);
	if (in >= 0)
		close(in);
	free(buf);
	return rc;
}
