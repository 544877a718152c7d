/*
 * The file sink and its journal. The journal only ever lists chunks whose bytes are durable:
 * tick() snapshots the verified bits, fdatasyncs OUT.partial, and only then replaces
 * OUT.journal (write to OUT.journal.tmp, fsync, rename).
 *
 * Journal layout (docs/journal.md), little-endian:
 *   0  8  magic "CVMRJNL1"
 *   8  8  size (bytes of data)
 *  16  8  chunk size
 *  24  8  chunk count
 *  32  4  output format (0 raw, 1 vhd)
 *  36  2  ETag length E, then E bytes of ETag
 *   .  2  source length S, then S bytes of source (without secrets)
 *   .  ceil(count / 8) bytes of bitmap (bit i%8 of byte i/8: chunk i verified)
 *   .  4  CRC-32C of everything before
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

#define ZERO_GRAIN (64u * 1024)
#define JOURNAL_MAGIC "CVMRJNL1"
#define JOURNAL_MAX (64u << 20)

struct rp_file_sink {
	char *out;
	char *partial;
	char *journal;
	char *journal_tmp;
	char *lock_path; /* OUT.lock, held for the whole run (sink_lock) */
	int lock_fd;
	int fd;
	bool resumed;
	struct rp_sink_id id;
	char *source;
	char *etag;
	uint64_t chunks;
	uint8_t *done_before; /* from the journal we resumed */
	uint8_t *verified;    /* this run and before */
	uint64_t resumed_chunks;
	pthread_mutex_t lock;
	bool dirty;
	bool block; /* OUT is a block device: written in place, zeros written, no rename */
	bool broken; /* a write or sync failed: the journal is never written again */
};

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

/* Replace OUT.journal with the len bytes of j: a new temporary file with an unpredictable name
 * (never through a planted link), fsync, rename, directory fsync (common/outfile.h). */
static int journal_replace(struct rp_file_sink *s, const uint8_t *j, size_t len,
			   struct rp_err *err)
{
	int rc = rp_outfile_replace(s->journal, j, len, 0600, true, err);

	if (rc)
		rp_err_prefix(err, "cannot write the journal");
	return rc;
}

static int journal_write(struct rp_file_sink *s, const uint8_t *bits, struct rp_err *err)
{
	size_t el = strlen(s->etag), sl = strlen(s->source), bb = bitmap_bytes(s->chunks);
	size_t len = 36 + 2 + el + 2 + sl + bb + 4, o = 0;
	uint8_t *j = malloc(len);
	int rc = 0;

	if (!j)
		return rp_err_set(err, RP_EIO, "out of memory");
	memcpy(j, JOURNAL_MAGIC, 8);
	rp_put_le64(j + 8, s->id.size);
	rp_put_le64(j + 16, s->id.chunk_size);
	rp_put_le64(j + 24, s->chunks);
	rp_put_le32(j + 32, s->id.output_format);
	o = 36;
	j[o] = (uint8_t)el;
	j[o + 1] = (uint8_t)(el >> 8);
	memcpy(j + o + 2, s->etag, el);
	o += 2 + el;
	j[o] = (uint8_t)sl;
	j[o + 1] = (uint8_t)(sl >> 8);
	memcpy(j + o + 2, s->source, sl);
	o += 2 + sl;
	memcpy(j + o, bits, bb);
	o += bb;
	rp_put_le32(j + o, rp_crc32c(0, j, o));
	rc = journal_replace(s, j, len, err);
	free(j);
	return rc;
}

/* Parse a journal; RP_EFORMAT if it is damaged, RP_EIO (with what changed) if it is for
 * another source or size. */
static int journal_load(struct rp_file_sink *s, struct rp_err *err)
{
	struct stat st;
	uint8_t *j = NULL;
	size_t o, el, sl, bb = bitmap_bytes(s->chunks);
	int fd, rc = 0;

	fd = open(s->journal, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rp_err_errno(err, errno, "cannot open the journal '%s'", s->journal);
	if (fstat(fd, &st) != 0 || st.st_size < 52 || (uint64_t)st.st_size > JOURNAL_MAX) {
		rc = rp_err_set(err, RP_EFORMAT, "the journal '%s' is damaged (size)", s->journal);
		goto out;
	}
	j = malloc((size_t)st.st_size);
	if (!j || pread(fd, j, (size_t)st.st_size, 0) != st.st_size) {
		rc = rp_err_set(err, RP_EIO, "cannot read the journal '%s'", s->journal);
		goto out;
	}
	o = (size_t)st.st_size - 4;
	if (memcmp(j, JOURNAL_MAGIC, 8) != 0 || rp_le32(j + o) != rp_crc32c(0, j, o)) {
		rc = rp_err_set(err, RP_EFORMAT, "the journal '%s' is damaged (magic or checksum)",
				s->journal);
		goto out;
	}
	el = (size_t)(j[36] | j[37] << 8);
	if (38 + el + 2 > o) {
		rc = rp_err_set(err, RP_EFORMAT, "the journal '%s' is damaged (ETag)", s->journal);
		goto out;
	}
	sl = (size_t)(j[38 + el] | j[39 + el] << 8);
	if (40 + el + sl + bb != o) {
		rc = rp_err_set(err, RP_EFORMAT, "the journal '%s' is damaged (lengths)", s->journal);
		goto out;
	}
	if (rp_le64(j + 8) != s->id.size || rp_le64(j + 16) != s->id.chunk_size ||
	    rp_le64(j + 24) != s->chunks || rp_le32(j + 32) != s->id.output_format) {
		rc = rp_err_set(err, RP_EIO,
				"cannot resume: '%s' was for %llu bytes in chunks of %llu (%s), this "
				"restore is %llu bytes in chunks of %llu (%s); remove '%s' and '%s' to "
				"start over",
				s->journal, (unsigned long long)rp_le64(j + 8),
				(unsigned long long)rp_le64(j + 16), rp_le32(j + 32) ? "vhd" : "raw",
				(unsigned long long)s->id.size, (unsigned long long)s->id.chunk_size,
				s->id.output_format ? "vhd" : "raw", s->partial, s->journal);
		goto out;
	}
	if (el != strlen(s->etag) || memcmp(j + 38, s->etag, el) != 0) {
		rc = rp_err_set(err, RP_EIO,
				"cannot resume: the source changed since the interrupted restore (ETag "
				"%.*s, now %s); remove '%s' and '%s' to start over",
				(int)el, (const char *)(j + 38), s->etag, s->partial, s->journal);
		goto out;
	}
	memcpy(s->done_before, j + 40 + el + sl, bb);
	memcpy(s->verified, s->done_before, bb);
	for (o = 0; o < s->chunks; o++)
		s->resumed_chunks += (s->done_before[o / 8] >> (o % 8)) & 1;
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
	if (rc)
		rp_err_prefix(err, "the restore would not fit (--no-space-check tries anyway)");
	return rc;
}

/* A new OUT.partial: O_EXCL and O_NOFOLLOW, so a planted link or file is refused, never
 * truncated; 0600, as the disk may hold anything. */
static int sink_create_partial(struct rp_file_sink *s, struct rp_err *err)
{
	return rp_outfile_create(s->partial, 0600, true, &s->fd, err);
}

/* The OUT.partial we resume: a regular file of ours, never through a link. */
static int sink_reopen_partial(struct rp_file_sink *s, struct rp_err *err)
{
	return rp_outfile_reopen(s->partial, &s->fd, err);
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
		rc = rp_err_set(err, RP_EUSAGE, "the block device '%s' holds %lld bytes, the disk "
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
		*resumed = true;
	} else {
		rc = journal_write(s, s->verified, err);
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
		return rp_err_set(err, RP_EUSAGE, "'%s' is neither a regular file nor a block device",
				  out);
	if (stat(out, &st) == 0 && !force)
		return rp_err_set(err, RP_EUSAGE, "'%s' exists; use --force to replace it", out);
	s = calloc(1, sizeof(*s));
	if (!s)
		return rp_err_set(err, RP_EIO, "out of memory");
	s->fd = -1;
	s->lock_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	s->id = *id;
	s->chunks = rp_seal_chunks_for(id->size, id->chunk_size);
	s->out = strdup(out);
	s->block = stat(out, &st) == 0 && S_ISBLK(st.st_mode);
	if (s->block) {
		/* A device is written in place (there is no name to rename to); its journal lives
		 * in the current folder, named for the device. */
		const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
		s->partial = strdup(out);
		s->journal = path_with(base, ".cvmrestore-journal");
		s->journal_tmp = path_with(base, ".cvmrestore-journal.tmp");
	} else {
		s->partial = path_with(out, ".partial");
		s->journal = path_with(out, ".journal");
		s->journal_tmp = path_with(out, ".journal.tmp");
	}
	s->source = strndup(id->source, 4000);
	s->etag = strndup(id->etag ? id->etag : "", 1000);
	s->done_before = calloc(bitmap_bytes(s->chunks) + 1, 1);
	s->verified = calloc(bitmap_bytes(s->chunks) + 1, 1);
	if (!s->out || !s->partial || !s->journal || !s->journal_tmp || !s->source || !s->etag ||
	    !s->done_before || !s->verified) {
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
	have_journal = lstat(s->journal, &st) == 0;
	rc = sink_space_check(s, have_partial && have_journal, err);
	if (rc)
		goto fail;
	if (have_partial && have_journal) {
		rc = journal_load(s, err);
		if (rc)
			goto fail;
		rc = sink_reopen_partial(s, err);
		if (rc)
			goto fail;
		s->resumed = true;
		*resumed = true;
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
		rc = sink_create_partial(s, err);
		if (rc)
			goto fail;
		if (ftruncate(s->fd, (off_t)id->size) != 0) {
			rc = rp_err_errno(err, errno, "cannot size '%s'", s->partial);
			goto fail;
		}
		/* An empty journal first: a partial file always has one. */
		rc = journal_write(s, s->verified, err);
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
		      struct rp_err *err)
{
	struct rp_file_sink *s = ctx;
	size_t pos = 0;

	(void)index;
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
				return rp_err_errno(err, -rc, "cannot write '%s' at 0x%llx", s->partial,
						    (unsigned long long)(off + start));
			}
			/* Start writeback at once, so the periodic sync before each journal
			 * update has little left to do. */
			sync_file_range(s->fd, (off64_t)(off + start), (off64_t)(pos - start),
					SYNC_FILE_RANGE_WRITE);
		} else if ((s->resumed || s->block) &&
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
					return rp_err_errno(err, -rc, "cannot write '%s'", s->partial);
				}
			}
		}
	}
	return 0;
}

static int sink_read_back(void *ctx, uint64_t off, uint8_t *buf, size_t len, struct rp_err *err)
{
	struct rp_file_sink *s = ctx;

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
	return 0;
}

static bool sink_done_before(void *ctx, uint64_t index)
{
	struct rp_file_sink *s = ctx;

	return index < s->chunks && ((s->done_before[index / 8] >> (index % 8)) & 1);
}

static void sink_verified(void *ctx, uint64_t index)
{
	struct rp_file_sink *s = ctx;

	pthread_mutex_lock(&s->lock);
	s->verified[index / 8] |= (uint8_t)(1u << (index % 8));
	s->dirty = true;
	pthread_mutex_unlock(&s->lock);
}

static void sink_unverified(void *ctx, uint64_t index)
{
	struct rp_file_sink *s = ctx;

	pthread_mutex_lock(&s->lock);
	s->verified[index / 8] &= (uint8_t)~(1u << (index % 8));
	s->done_before[index / 8] &= (uint8_t)~(1u << (index % 8));
	s->dirty = true;
	pthread_mutex_unlock(&s->lock);
}

static int sink_tick(void *ctx, struct rp_err *err)
{
	struct rp_file_sink *s = ctx;
	size_t bb = bitmap_bytes(s->chunks);
	uint8_t *snap;
	int rc;

	pthread_mutex_lock(&s->lock);
	if (!s->dirty || s->broken) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	snap = malloc(bb + 1);
	if (snap)
		memcpy(snap, s->verified, bb);
	s->dirty = false;
	pthread_mutex_unlock(&s->lock);
	if (!snap)
		return rp_err_set(err, RP_EIO, "out of memory");
	/* The data first: the journal may only list chunks that are on disk. */
	if (fdatasync(s->fd) != 0) {
		/* Linux forgets a writeback error once reported: never trust later syncs. */
		s->broken = true;
		free(snap);
		return rp_err_errno(err, errno, "cannot sync '%s'", s->partial);
	}
	rc = journal_write(s, snap, err);
	free(snap);
	return rc;
}

struct rp_fetch_sink rp_file_sink_callbacks(struct rp_file_sink *s)
{
	struct rp_fetch_sink cb = {
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

uint64_t rp_file_sink_resumed_chunks(const struct rp_file_sink *s)
{
	return s->resumed_chunks;
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
			return rp_err_errno(err, -rc, "cannot write the footer of '%s'", s->partial);
	} else if (!s->block && ftruncate(s->fd, (off_t)s->id.size) != 0) {
		return rp_err_errno(err, errno, "cannot size '%s'", s->partial);
	}
	if (fsync(s->fd) != 0)
		return rp_err_errno(err, errno, "cannot sync '%s'", s->partial);
	if (s->block) {
		unlink(s->journal);
		close(s->fd);
		s->fd = -1;
		return 0;
	}
	if (rename(s->partial, s->out) != 0)
		return rp_err_errno(err, errno, "cannot rename '%s' to '%s'", s->partial, s->out);
	unlink(s->journal);
	rc = rp_outfile_sync_dir(s->out, err);
	if (rc)
		return rc;
	close(s->fd);
	s->fd = -1;
	return 0;
}

static void sink_release(struct rp_file_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	rp_outfile_unlock(s->lock_path, s->lock_fd);
	free(s->lock_path);
	free(s->out);
	free(s->partial);
	free(s->journal);
	free(s->journal_tmp);
	free(s->source);
	free(s->etag);
	free(s->done_before);
	free(s->verified);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void rp_file_sink_free(struct rp_file_sink *s)
{
	if (!s)
		return;
	if (s->fd >= 0) {
		struct rp_err e;
		rp_err_init(&e);
		sink_tick(s, &e);
	}
	sink_release(s);
}
