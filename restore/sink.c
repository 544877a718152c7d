/*
 * The file sink and its journal. The journal only ever lists chunks whose bytes are durable:
 * tick() encodes the verified chunks (with the SHA-256 of each data chunk), fdatasyncs
 * OUT.partial, and only then replaces OUT.journal (write to OUT.journal.tmp, fsync, rename).
 * The journal's bytes are restore/journal.c's (docs/journal.md); on resume every chunk it
 * lists is read back and checked against what it says was written before it is relied on.
 */
#include "restore/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/endian.h"
#include "common/outfile.h"
#include "common/util.h"
#include "restore/preflight.h"
#include "restore/journal.h"
#include "verify/digest.h"

#define ZERO_GRAIN (64u * 1024)

struct rp_file_sink {
	char *out;
	char *partial;
	char *journal;
	char *lock_path; /* OUT.lock, held for the whole run (sink_lock) */
	int lock_fd;
	int fd;		      /* of.fd for a file, or the block device */
	struct rp_outfile of; /* OUT.partial until renamed to OUT (common/outfile.h) */
	bool resumed;
	struct rp_sink_id id;
	char *source;
	char *etag;
	uint64_t chunks;
	uint8_t *done_before;	     /* from the journal we resumed */
	uint8_t *verified;	     /* this run and before */
	uint8_t *data;		     /* verified chunks that hold data (the others are zero) */
	struct digest_group *groups; /* what was written, for data chunks (digest_put) */
	uint64_t resumed_chunks;
	uint64_t rechecked; /* chunks the journal listed, read back and checked */
	uint64_t refetched; /* of those, chunks that did not match and are fetched again */
	bool old_journal;   /* the journal was of an older version: nothing was trusted */
	pthread_mutex_t lock;
	bool dirty;
	bool block;	  /* OUT is a block device: written in place, zeros written, no rename */
	bool broken;	  /* a write or sync failed: the journal is never written again */
	uint64_t written; /* bytes written (atomic) */
	uint64_t holes;	  /* bytes of zero runs not written (atomic) */
};

/*
 * The SHA-256 of what was written, for the data chunks only: per group of 64 chunks a mask of
 * the chunks that have one and their digests packed in chunk order. 16 bytes per 64 chunks plus
 * 32 per data chunk (a digest for every chunk was 512 MiB of a 64 TiB disk, resident wherever
 * written chunks are scattered). A group's mask is the same as its bits of the data bitmap.
 * The journal asks for the digests in chunk order (digest_of). Lock held, or one thread.
 *
 * With a seal (id.seal), a data chunk whose SHA-256 is the seal's keeps none here: its data bit
 * says it holds data and digest_get reads the seal's (one table of digests, not two: 8 MiB
 * less at 256 Ki data chunks). Only a chunk written with other bytes than the seal's (a resumed
 * journal's chunk before its re-check) keeps its own copy here: the journal must say what was
 * written, which the seal does not know.
 */
struct digest_group {
	uint64_t mask;
	uint8_t *d; /* 32 bytes per bit set in mask, in chunk order */
};

static unsigned digest_rank(const struct digest_group *g, unsigned bit)
{
	return (unsigned)__builtin_popcountll(g->mask & ((UINT64_C(1) << bit) - 1));
}

/* The digest of data chunk i (its data bit set): its own, or the seal's. */
static const uint8_t *digest_get(const struct rp_file_sink *s, uint64_t i)
{
	const struct digest_group *g = &s->groups[i / 64];
	unsigned bit = (unsigned)(i % 64);

	if (!((g->mask >> bit) & 1))
		return s->id.seal ? rp_seal_chunk_sha(s->id.seal, i) : NULL;
	return g->d + 32 * (size_t)digest_rank(g, bit);
}

static void digest_drop(struct rp_file_sink *s, uint64_t i);

static const uint8_t *digest_of(const void *ctx, uint64_t i)
{
	return digest_get(ctx, i);
}

/* Record chunk i's digest (replacing one it had); -1 when out of memory (nothing changed). */
static int digest_put(struct rp_file_sink *s, uint64_t i, const uint8_t sha[32])
{
	struct digest_group *g = &s->groups[i / 64];
	unsigned bit = (unsigned)(i % 64), r = digest_rank(g, bit);
	unsigned n = (unsigned)__builtin_popcountll(g->mask);
	uint8_t *d;
	const uint8_t *sealed = s->id.seal ? rp_seal_chunk_sha(s->id.seal, i) : NULL;

	if (sealed && memcmp(sealed, sha, 32) == 0) {
		digest_drop(s, i); /* the seal's is the one */
		return 0;
	}
	if ((g->mask >> bit) & 1) {
		memcpy(g->d + 32 * (size_t)r, sha, 32);
		return 0;
	}
	d = realloc(g->d, 32 * (size_t)(n + 1));
	if (!d)
		return -1;
	memmove(d + 32 * (size_t)(r + 1), d + 32 * (size_t)r, 32 * (size_t)(n - r));
	memcpy(d + 32 * (size_t)r, sha, 32);
	g->d = d;
	g->mask |= UINT64_C(1) << bit;
	return 0;
}

/* Forget chunk i's digest, if it has one. */
static void digest_drop(struct rp_file_sink *s, uint64_t i)
{
	struct digest_group *g = &s->groups[i / 64];
	unsigned bit = (unsigned)(i % 64), r = digest_rank(g, bit);
	unsigned n = (unsigned)__builtin_popcountll(g->mask);

	if (!((g->mask >> bit) & 1))
		return;
	memmove(g->d + 32 * (size_t)r, g->d + 32 * (size_t)(r + 1), 32 * (size_t)(n - r - 1));
	g->mask &= ~(UINT64_C(1) << bit);
	if (!g->mask) {
		free(g->d);
		g->d = NULL;
	}
}

static char *path_with(const char *base, const char *suffix)
{
	size_t n = strlen(base) + strlen(suffix) + 1;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s%s", base, suffix);
	return p;
}

static size_t bitmap_bytes(uint64_t chunks)
{
	return (size_t)((chunks + 7) / 8);
}

/* At most 64 KiB per pwrite: measured here, 4 MiB buffered writes cost several times the
 * system time of 64 KiB ones (the kernel allocates high-order page-cache folios for large
 * writes; docs/benchmarks.md), and 64 calls per chunk cost nothing measurable. */
#define WRITE_MAX (64u * 1024)

static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len < WRITE_MAX ? len : WRITE_MAX, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* The journal as it stands (lock held, or one thread). */
static void journal_fill(const struct rp_file_sink *s, struct rp_journal *jn)
{
	memset(jn, 0, sizeof(*jn));
	jn->size = s->id.size;
	jn->chunk_size = s->id.chunk_size;
	jn->chunks = s->chunks;
	jn->output_format = s->id.output_format;
	jn->etag = s->etag;
	jn->etag_len = strlen(s->etag);
	jn->source = s->source;
	jn->source_len = strlen(s->source);
	jn->done = s->verified;
	jn->data = s->data;
	jn->digest_of = digest_of;
	jn->digest_ctx = s;
}

static int journal_put(void *ctx, const uint8_t *p, size_t n, struct rp_err *err)
{
	const struct rp_outfile *f = ctx;

	return rp_outfile_write_all(f->fd, p, n, f->tmp, err);
}

/*
 * Start replacing OUT.journal: a new temporary file with an unpredictable name (never through a
 * planted link; common/outfile.h) into which the journal's bytes are encoded in pieces
 * (rp_journal_encode_to: one 64 KiB piece in memory, not the whole journal, whose bitmaps and
 * digests are 12 MiB at 64 TiB with 256 Ki data chunks). Lock held, or one thread: what the
 * file says is the snapshot. rp_outfile_commit (fsync, rename, directory fsync) makes it the
 * journal; rp_outfile_abort drops it.
 */
static int journal_begin(struct rp_file_sink *s, struct rp_outfile *f, struct rp_err *err)
{
	struct rp_journal jn;
	int rc = rp_outfile_begin(f, s->journal, 0600, true, err);

	if (rc == 0) {
		journal_fill(s, &jn);
		rc = rp_journal_encode_to(&jn, journal_put, f, err);
		if (rc)
			rp_outfile_abort(f);
	}
	if (rc)
		rp_err_prefix(err, "cannot write the journal");
	return rc;
}

static int journal_commit(struct rp_outfile *f, struct rp_err *err)
{
	int rc = rp_outfile_commit(f, err);

	if (rc)
		rp_err_prefix(err, "cannot write the journal");
	return rc;
}

/* The journal read must be for this restore: RP_EIO naming what changed otherwise (the same
 * as a change of the source during a restore). */
static int journal_check_id(const struct rp_file_sink *s, const struct rp_journal *j,
			    struct rp_err *err)
{
	if (j->size != s->id.size || j->chunk_size != s->id.chunk_size || j->chunks != s->chunks ||
	    j->output_format != s->id.output_format)
		return rp_err_set(
		    err, RP_EIO,
		    "cannot resume: '%s' was for %llu bytes in chunks of %llu (%s), this "
		    "restore is %llu bytes in chunks of %llu (%s); remove '%s' and '%s' "
		    "to start over",
		    s->journal, (unsigned long long)j->size, (unsigned long long)j->chunk_size,
		    j->output_format ? "vhd" : "raw", (unsigned long long)s->id.size,
		    (unsigned long long)s->id.chunk_size, s->id.output_format ? "vhd" : "raw",
		    s->partial, s->journal);
	if (j->etag_len != strlen(s->etag) || memcmp(j->etag, s->etag, j->etag_len) != 0)
		return rp_err_set(
		    err, RP_EIO,
		    "cannot resume: the source changed since the interrupted restore (ETag "
		    "%.*s, now %s); remove '%s' and '%s' to start over",
		    (int)j->etag_len, j->etag, s->etag, s->partial, s->journal);
	if (j->source_len != strlen(s->source) || memcmp(j->source, s->source, j->source_len) != 0)
		return rp_err_set(
		    err, RP_EIO,
		    "cannot resume: '%s' was for the source %.*s, this restore is from "
		    "%s; remove '%s' and '%s' to start over",
		    s->journal, (int)j->source_len, j->source, s->source, s->partial, s->journal);
	return 0;
}

/* Take the chunks a checked journal lists: done, and for data chunks what was written. */
static int journal_take(struct rp_file_sink *s, const struct rp_journal *j, struct rp_err *err)
{
	size_t bb = bitmap_bytes(s->chunks);
	uint64_t i, d = 0;

	memcpy(s->done_before, j->done, bb);
	memcpy(s->verified, j->done, bb);
	memcpy(s->data, j->data, bb);
	for (i = 0; i < s->chunks; i++) {
		if (!rp_journal_bit(j->done, i))
			continue;
		s->resumed_chunks++;
		if (rp_journal_bit(j->data, i) && digest_put(s, i, j->digests + 32 * d++) != 0)
			return rp_err_set(err, RP_EIO, "out of memory");
	}
	return 0;
}

/* Encode and write the journal as it stands (one thread). */
static int journal_write_now(struct rp_file_sink *s, struct rp_err *err)
{
	struct rp_outfile f;
	int rc;

	if (s->id.no_journal)
		return 0;
	rc = journal_begin(s, &f, err);
	return rc ? rc : journal_commit(&f, err);
}

/* Read and parse the journal; RP_EFORMAT if it is damaged, RP_EIO (with what changed) if it is
 * for another source or size. A journal of an older version is not trusted: nothing is taken
 * from it and s->old_journal says so (every chunk is fetched again). */
static int journal_load(struct rp_file_sink *s, struct rp_err *err)
{
	struct rp_journal jn;
	struct stat st;
	uint8_t *j = NULL;
	/* The largest journal this restore can have: two ETag/source fields of at most 64 KiB,
	 * two bitmaps and a digest per chunk. */
	uint64_t max = 44 + 2 * 0xffffu + 2 * (uint64_t)bitmap_bytes(s->chunks) + 32 * s->chunks;
	int fd, rc = 0;

	fd = open(s->journal, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rp_err_errno(err, errno, "cannot open the journal '%s'", s->journal);
	if (fstat(fd, &st) != 0 || st.st_size < 8 || (uint64_t)st.st_size > max) {
		rc = rp_err_set(err, RP_EFORMAT, "the journal '%s' is damaged (size)", s->journal);
		goto out;
	}
	j = malloc((size_t)st.st_size);
	if (!j || pread(fd, j, (size_t)st.st_size, 0) != st.st_size) {
		rc = rp_err_set(err, RP_EIO, "cannot read the journal '%s'", s->journal);
		goto out;
	}
	rc = rp_journal_parse(j, (size_t)st.st_size, &jn, err);
	if (rc) {
		char why[RP_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err ? err->msg : "");
		rp_err_set(err, rc, "the journal '%s' %s; remove '%s' and '%s' to start over",
			   s->journal, why, s->partial, s->journal);
		goto out;
	}
	if (jn.version != RP_JOURNAL_VERSION) {
		s->old_journal = true;
		goto out;
	}
	rc = journal_check_id(s, &jn, err);
	if (rc == 0)
		rc = journal_take(s, &jn, err);
out:
	free(j);
	close(fd);
	return rc;
}

static void sink_release(struct rp_file_sink *s);

/* Hold OUT.lock (for a device: NAME.cvmrestore-lock beside its journal) for the whole run, so
 * that a second restore to the same OUT stops before touching the partial or the journal. */
static int sink_lock(struct rp_file_sink *s, const char *lock_name, struct rp_err *err)
{
	size_t n = strlen(s->out) + 8;
	char *what = malloc(n);
	int rc;

	s->lock_path = path_with(lock_name, s->block ? ".cvmrestore-lock" : ".lock");
	if (!what || !s->lock_path) {
		free(what);
		return rp_err_set(err, RP_EIO, "out of memory");
	}
	snprintf(what, n, "'%s'", s->out);
	rc = rp_outfile_lock(s->lock_path, what, &s->lock_fd, err);
	free(what);
	return rc;
}

/* Under the lock, before the partial is created: what is left to write must fit. */
static int sink_space_check(const struct rp_file_sink *s, bool resuming, struct rp_err *err)
{
	struct stat st;
	uint64_t have = 0;
	int rc;

	if (!s->id.space_check)
		return 0;
	if (resuming && lstat(s->partial, &st) == 0 && S_ISREG(st.st_mode))
		have = (uint64_t)st.st_blocks * 512;
	rc = rp_space_check(s->out, s->id.space_needed > have ? s->id.space_needed - have : 0, NULL,
			    err);
	if (rc) {
		rp_err_prefix(err, "the restore would not fit");
		rp_err_hint(err, RP_H_NO_SPACE_CHECK);
	}
	return rc;
}

/* OUT.partial, new (O_EXCL and O_NOFOLLOW, so a planted link or file is refused, never
 * truncated; 0600 unless id.mode, as the disk may hold anything) or the one we resume (a regular
 * file of ours, never through a link), to be renamed to OUT (common/outfile.h). */
static int sink_open_partial(struct rp_file_sink *s, bool force, bool resume, struct rp_err *err)
{
	int rc = rp_outfile_begin_named(&s->of, s->out, s->partial, s->id.mode ? s->id.mode : 0600,
					force, resume, err);

	if (rc == 0) {
		s->fd = s->of.fd;
		s->of.nosync = s->id.no_sync;
	}
	return rc;
}

/* A block device: big enough, opened in place; a matching journal resumes. Old contents are
 * never trusted: every range, zero or not, is written. */
static int open_block(struct rp_file_sink *s, const struct rp_sink_id *id,
		      struct rp_file_sink **out_sink, bool *resumed, struct rp_err *err)
{
	struct stat st;
	off_t end;
	int rc;

	s->fd = open(s->out, O_RDWR | O_CLOEXEC);
	if (s->fd < 0) {
		rc = rp_err_errno(err, errno, "cannot open '%s'", s->out);
		goto fail;
	}
	end = lseek(s->fd, 0, SEEK_END);
	if (end < 0 || (uint64_t)end < id->size + (id->output_format ? 512u : 0u)) {
		rc = rp_err_set(err, RP_EUSAGE,
				"the block device '%s' holds %lld bytes, the disk "
				"needs %llu",
				s->out, (long long)end,
				(unsigned long long)(id->size + (id->output_format ? 512u : 0u)));
		goto fail;
	}
	if (stat(s->journal, &st) == 0) {
		rc = journal_load(s, err);
		if (rc)
			goto fail;
		s->resumed = true;
		*resumed = !s->old_journal;
	}
	if (!*resumed) {
		rc = journal_write_now(s, err);
		if (rc)
			goto fail;
	}
	*out_sink = s;
	return 0;
fail:
	sink_release(s);
	return rc;
}

int rp_file_sink_open(const char *out, const struct rp_sink_id *id, bool force,
		      struct rp_file_sink **out_sink, bool *resumed, struct rp_err *err)
{
	struct rp_file_sink *s;
	struct stat st, partial_st;
	bool have_partial, have_journal;
	int rc;

	*resumed = false;
	if (stat(out, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return rp_err_set(err, RP_EUSAGE,
				  "'%s' is neither a regular file nor a block device", out);
	if (stat(out, &st) == 0 && !force)
		return rp_err_set_hint(err, RP_EUSAGE, RP_H_FORCE, "'%s' exists", out);
	if (id->no_journal && stat(out, &st) == 0 && !S_ISREG(st.st_mode))
		return rp_err_set(err, RP_EUSAGE, "'%s' is not a regular file", out);
	s = calloc(1, sizeof(*s));
	if (!s)
		return rp_err_set(err, RP_EIO, "out of memory");
	s->fd = -1;
	s->of.fd = -1;
	s->lock_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	s->id = *id;
	s->chunks = rp_seal_chunks_for(id->size, id->chunk_size);
	/* A seal of another shape is refused by the pipeline; here it is only not used. */
	if (id->seal &&
	    (id->seal->virtual_size != id->size || id->seal->chunk_size != id->chunk_size ||
	     id->seal->chunk_count != s->chunks))
		s->id.seal = NULL;
	s->out = strdup(out);
	s->block = stat(out, &st) == 0 && S_ISBLK(st.st_mode);
	if (s->block) {
		/* A device is written in place (there is no name to rename to); its journal lives
		 * in the current folder, named for the device. */
		const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
		s->partial = strdup(out);
		s->journal = path_with(base, ".cvmrestore-journal");
	} else {
		s->partial = path_with(out, ".partial");
		s->journal = path_with(out, ".journal");
	}
	s->source = strndup(id->source, 4000);
	s->etag = strndup(id->etag ? id->etag : "", 1000);
	s->done_before = calloc(bitmap_bytes(s->chunks) + 1, 1);
	s->verified = calloc(bitmap_bytes(s->chunks) + 1, 1);
	s->data = calloc(bitmap_bytes(s->chunks) + 1, 1);
	s->groups = calloc((size_t)(s->chunks / 64 + 1), sizeof(*s->groups));
	if (!s->out || !s->partial || !s->journal || !s->source || !s->etag || !s->done_before ||
	    !s->verified || !s->data || !s->groups) {
		rc = rp_err_set(err, RP_EIO, "out of memory");
		goto fail;
	}
	rc = sink_lock(s, s->block ? (strrchr(out, '/') ? strrchr(out, '/') + 1 : out) : out, err);
	if (rc)
		goto fail;
	if (s->block)
		return open_block(s, id, out_sink, resumed, err);
	/* lstat: a dangling link planted at OUT.partial is a name that exists. */
	have_partial = lstat(s->partial, &partial_st) == 0;
	if (s->id.no_journal) {
		/* Nothing to resume: a stale partial of ours goes (under the lock), a planted name
		 * stays and is refused by the create. */
		if (have_partial && S_ISREG(partial_st.st_mode) && partial_st.st_uid == geteuid())
			rc = rp_outfile_remove_stale(s->partial, err);
		if (rc == 0)
			rc = sink_open_partial(s, force, false, err);
		if (rc == 0 && ftruncate(s->fd, (off_t)id->size) != 0)
			rc = rp_err_errno(err, errno, "cannot size '%s'", s->partial);
		if (rc)
			goto fail;
		*out_sink = s;
		return 0;
	}
	have_journal = lstat(s->journal, &st) == 0;
	rc = sink_space_check(s, have_partial && have_journal, err);
	if (rc)
		goto fail;
	if (have_partial && have_journal) {
		rc = journal_load(s, err);
		if (rc)
			goto fail;
		rc = sink_open_partial(s, force, true, err);
		if (rc)
			goto fail;
		s->resumed = true;
		*resumed = !s->old_journal;
		/* An old journal is replaced at once by one that lists nothing. */
		if (s->old_journal) {
			rc = journal_write_now(s, err);
			if (rc)
				goto fail;
		}
	} else {
		if (have_partial && !have_journal && S_ISLNK(partial_st.st_mode)) {
			rc = rp_err_set(err, RP_EIO,
					"'%s' is a symbolic link; refusing to write through it",
					s->partial);
			goto fail;
		}
		if (have_partial && !have_journal) {
			rc = rp_err_set(err, RP_EUSAGE,
					"'%s' exists without its journal: remove it to start over",
					s->partial);
			goto fail;
		}
		if (have_journal)
			unlink(s->journal);
		rc = sink_open_partial(s, force, false, err);
		if (rc)
			goto fail;
		if (ftruncate(s->fd, (off_t)id->size) != 0) {
			rc = rp_err_errno(err, errno, "cannot size '%s'", s->partial);
			goto fail;
		}
		/* An empty journal first: a partial file always has one. */
		rc = journal_write_now(s, err);
		if (rc)
			goto fail;
	}
	*out_sink = s;
	return 0;
fail:
	sink_release(s);
	return rc;
}

/* Zero runs of ZERO_GRAIN stay holes; in a resumed file they are punched, since an earlier
 * run may have left bytes there before failing. */
static int sink_write(void *ctx, uint64_t index, uint64_t off, const uint8_t *data, size_t len,
		      enum rp_chunk_state state, struct rp_err *err)
{
	struct rp_file_sink *s = ctx;
	size_t pos = 0;

	(void)index;
	(void)state;
	while (pos < len) {
		size_t n = len - pos < ZERO_GRAIN ? len - pos : ZERO_GRAIN, start = pos;
		bool zero = !data || rp_is_zero(data + pos, n);

		while (pos < len) {
			n = len - pos < ZERO_GRAIN ? len - pos : ZERO_GRAIN;
			if ((!data || rp_is_zero(data + pos, n)) != zero)
				break;
			pos += n;
		}
		if (!zero) {
			int rc = write_all(s->fd, data + start, pos - start, off + start);
			if (rc) {
				s->broken = true;
				return rp_err_errno(err, -rc, "cannot write '%s' at 0x%llx",
						    s->partial, (unsigned long long)(off + start));
			}
			__atomic_add_fetch(&s->written, (uint64_t)(pos - start), __ATOMIC_RELAXED);
			/* Start writeback at once, so the periodic sync before each journal
			 * update (and the final fsync) has little left to do. */
			if (!s->id.no_sync)
				sync_file_range(s->fd, (off64_t)(off + start),
						(off64_t)(pos - start), SYNC_FILE_RANGE_WRITE);
			continue;
		}
		__atomic_add_fetch(&s->holes, (uint64_t)(pos - start), __ATOMIC_RELAXED);
		if ((s->resumed || s->block) &&
		    fallocate(s->fd,
			      s->block ? FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE
				       : FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(off + start), (off_t)(pos - start)) != 0) {
			/* No hole punching here: write the zeros. */
			static const uint8_t zeros[ZERO_GRAIN];
			uint64_t z;
			for (z = off + start; z < off + pos; z += ZERO_GRAIN) {
				size_t k = off + pos - z < ZERO_GRAIN ? (size_t)(off + pos - z)
								      : ZERO_GRAIN;
				int rc = write_all(s->fd, zeros, k, z);
				if (rc) {
					s->broken = true;
					return rp_err_errno(err, -rc, "cannot write '%s'",
							    s->partial);
				}
			}
		}
	}
	return 0;
}

/*
 * A chunk the journal listed, read back from OUT.partial: it must be what the journal says was
 * written (the SHA-256 of a data chunk; zeros otherwise). RP_EVERIFY if not: the fetch engine
 * then forgets the chunk (unverified) and fetches it again.
 */
static int resumed_check(struct rp_file_sink *s, uint64_t index, const uint8_t *buf, size_t len,
			 struct rp_err *err)
{
	uint8_t want[32], got[32];
	char hw[65], hg[65];
	bool data;

	pthread_mutex_lock(&s->lock);
	s->rechecked++;
	data = rp_journal_bit(s->data, index) && digest_get(s, index);
	if (data)
		memcpy(want, digest_get(s, index), 32);
	pthread_mutex_unlock(&s->lock);
	if (!data) {
		if (rp_is_zero(buf, len))
			return 0;
		return rp_err_set(
		    err, RP_EVERIFY,
		    "'%s' chunk %llu is not zero as the journal says: fetching it again",
		    s->partial, (unsigned long long)index);
	}
	if (rp_sha256(buf, len, got) != 0)
		return rp_err_set(err, RP_EIO, "sha256 failed");
	if (memcmp(want, got, 32) == 0)
		return 0;
	rp_hex(want, 32, hw);
	rp_hex(got, 32, hg);
	return rp_err_set(err, RP_EVERIFY,
			  "'%s' chunk %llu does not match the journal (sha256 %s, journal %s): "
			  "fetching it again",
			  s->partial, (unsigned long long)index, hg, hw);
}

static int sink_read_back(void *ctx, uint64_t off, uint8_t *buf, size_t len, struct rp_err *err)
{
	struct rp_file_sink *s = ctx;
	uint64_t index = off / s->id.chunk_size;
	uint8_t *start = buf;
	size_t want = len;

	while (len > 0) {
		ssize_t n = pread(s->fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return rp_err_errno(err, n < 0 ? errno : EIO, "cannot read back '%s'",
					    s->partial);
		buf += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return resumed_check(s, index, start, want, err);
}

static bool sink_done_before(void *ctx, uint64_t index)
{
	struct rp_file_sink *s = ctx;

	return index < s->chunks && ((s->done_before[index / 8] >> (index % 8)) & 1);
}

static void sink_verified(void *ctx, uint64_t index, const struct rp_seal_chunk *got)
{
	struct rp_file_sink *s = ctx;

	pthread_mutex_lock(&s->lock);
	s->verified[index / 8] |= (uint8_t)(1u << (index % 8));
	/* What the journal will say was written: the SHA-256 of a data chunk, or zero. Without
	 * memory for the digest the journal does not list the chunk (a resume fetches it). */
	if (got && got->state == RP_CHUNK_DATA) {
		if (digest_put(s, index, got->sha256) == 0) {
			s->data[index / 8] |= (uint8_t)(1u << (index % 8));
		} else {
			s->verified[index / 8] &= (uint8_t) ~(1u << (index % 8));
			s->data[index / 8] &= (uint8_t) ~(1u << (index % 8));
		}
	} else {
		s->data[index / 8] &= (uint8_t) ~(1u << (index % 8));
		digest_drop(s, index);
	}
	s->dirty = true;
	pthread_mutex_unlock(&s->lock);
}

static void sink_unverified(void *ctx, uint64_t index)
{
	struct rp_file_sink *s = ctx;

	pthread_mutex_lock(&s->lock);
	s->verified[index / 8] &= (uint8_t) ~(1u << (index % 8));
	s->done_before[index / 8] &= (uint8_t) ~(1u << (index % 8));
	s->data[index / 8] &= (uint8_t) ~(1u << (index % 8));
	digest_drop(s, index);
	s->refetched++;
	s->dirty = true;
	pthread_mutex_unlock(&s->lock);
}

static int sink_tick(void *ctx, struct rp_err *err)
{
	struct rp_file_sink *s = ctx;
	struct rp_outfile f;
	int rc;

	pthread_mutex_lock(&s->lock);
	if (!s->dirty || s->broken) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	/* The snapshot is the journal's bytes, written to its temporary file before the data is
	 * synced. The lock is held while they go into the page cache (a few milliseconds for
	 * 16 Mi chunks, as long as building them in memory took). */
	rc = journal_begin(s, &f, err);
	s->dirty = false;
	pthread_mutex_unlock(&s->lock);
	if (rc)
		return rc;
	/* The data first: the journal may only list chunks that are on disk. */
	if (fdatasync(s->fd) != 0) {
		/* Linux forgets a writeback error once reported: never trust later syncs. */
		s->broken = true;
		rp_outfile_abort(&f);
		return rp_err_errno(err, errno, "cannot sync '%s'", s->partial);
	}
	return journal_commit(&f, err);
}

struct rp_chunk_sink rp_file_sink_callbacks(struct rp_file_sink *s)
{
	struct rp_chunk_sink cb = {
	    .write = sink_write,
	    .read_back = sink_read_back,
	    .done_before = sink_done_before,
	    .verified = sink_verified,
	    .unverified = sink_unverified,
	    .tick = sink_tick,
	    .ctx = s,
	};
	return cb;
}

void rp_file_sink_resume_stats(const struct rp_file_sink *s, struct rp_resume_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->listed = s->resumed_chunks;
	st->rechecked = s->rechecked;
	st->refetched = s->refetched;
	st->old_journal = s->old_journal;
}

const char *rp_file_sink_partial_path(const struct rp_file_sink *s)
{
	return s->partial;
}

int rp_file_sink_finish(struct rp_file_sink *s, const uint8_t *tail, size_t tail_len,
			struct rp_err *err)
{
	int rc;

	if (tail_len) {
		rc = write_all(s->fd, tail, tail_len, s->id.size);
		if (rc)
			return rp_err_errno(err, -rc, "cannot write the footer of '%s'",
					    s->partial);
	} else if (!s->block && ftruncate(s->fd, (off_t)s->id.size) != 0) {
		return rp_err_errno(err, errno, "cannot size '%s'", s->partial);
	}
	if (s->block) {
		if (fsync(s->fd) != 0)
			return rp_err_errno(err, errno, "cannot sync '%s'", s->partial);
		unlink(s->journal);
		close(s->fd);
		s->fd = -1;
		return 0;
	}
	/* fsync, rename to OUT, directory fsync; a failure keeps OUT.partial (to resume). */
	s->fd = -1;
	rc = rp_outfile_commit(&s->of, err);
	if (rc)
		return rc;
	if (!s->id.no_journal)
		unlink(s->journal);
	return 0;
}

void rp_file_sink_counts(const struct rp_file_sink *s, uint64_t *written, uint64_t *holes)
{
	*written = __atomic_load_n(&s->written, __ATOMIC_RELAXED);
	*holes = __atomic_load_n(&s->holes, __ATOMIC_RELAXED);
}

static void sink_release(struct rp_file_sink *s)
{
	uint64_t g;

	if (s->block && s->fd >= 0)
		close(s->fd);
	else if (s->id.no_journal) /* nothing resumes it: an unfinished partial goes */
		rp_outfile_abort(&s->of);
	else
		rp_outfile_close(&s->of);
	rp_outfile_unlock(s->lock_path, s->lock_fd);
	free(s->lock_path);
	free(s->out);
	free(s->partial);
	free(s->journal);
	free(s->source);
	free(s->etag);
	free(s->done_before);
	free(s->verified);
	free(s->data);
	if (s->groups)
		for (g = 0; g <= s->chunks / 64; g++)
			free(s->groups[g].d);
	free(s->groups);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void rp_file_sink_free(struct rp_file_sink *s)
{
	if (!s)
		return;
	if (s->fd >= 0 && !s->id.no_journal) {
		struct rp_err e;
		rp_err_init(&e);
		sink_tick(s, &e);
	}
	sink_release(s);
}
