#include "restore/convert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/outfile.h"
#include "common/util.h"
#include "formats/vhd.h"

#define MIB (1024u * 1024)

struct convert_sink {
	int fd;
	const char *path;
	uint64_t written;
	uint64_t holes;
	bool no_sync;
};

#define ZERO_GRAIN (64u * 1024)

static int write_all(struct convert_sink *s, const uint8_t *data, size_t len, uint64_t offset,
		     struct rp_err *err)
{
	while (len > 0) {
		ssize_t n = pwrite(s->fd, data, len, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return rp_err_errno(err, n < 0 ? errno : EIO, "cannot write '%s' at 0x%llx",
					    s->path, (unsigned long long)offset);
		__atomic_add_fetch(&s->written, (uint64_t)n, __ATOMIC_RELAXED);
		data += n;
		offset += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Worker threads write their chunks at their own offsets. Zero chunks, and zero runs of
 * ZERO_GRAIN bytes inside a chunk, are not written: the output was sized up front, so they stay
 * holes and read as zeros.
 */
static int write_chunk(void *ctx, uint64_t index, uint64_t offset, const uint8_t *data, size_t len,
		       enum rp_chunk_state state, struct rp_err *err)
{
	struct convert_sink *s = ctx;
	size_t pos = 0, holes = 0;

	(void)index;
	(void)state;
	if (!data) {
		__atomic_add_fetch(&s->holes, len, __ATOMIC_RELAXED);
		return 0;
	}
	while (pos < len) {
		size_t start, n;
		int rc;

		n = len - pos < ZERO_GRAIN ? len - pos : ZERO_GRAIN;
		if (rp_is_zero(data + pos, n)) {
			holes += n;
			pos += n;
			continue;
		}
		start = pos;
		while (pos < len) {
			n = len - pos < ZERO_GRAIN ? len - pos : ZERO_GRAIN;
			if (rp_is_zero(data + pos, n))
				break;
			pos += n;
		}
		rc = write_all(s, data + start, pos - start, offset + start, err);
		if (rc)
			return rc;
		/* Start writeback now, without waiting for it: the final fsync then finds little
		 * left to do, and the disk works while we read and check the next chunks. */
		if (!s->no_sync)
			sync_file_range(s->fd, (off64_t)(offset + start), (off64_t)(pos - start),
					SYNC_FILE_RANGE_WRITE);
	}
	__atomic_add_fetch(&s->holes, holes, __ATOMIC_RELAXED);
	return 0;
}

static int write_footer(int fd, const char *path, uint64_t size, struct rp_err *err)
{
	uint8_t footer[VHD_FOOTER_SIZE], uuid[16];
	time_t now = time(NULL);
	uint32_t stamp = now > VHD_EPOCH ? (uint32_t)(now - VHD_EPOCH) : 0;
	int rc;

	rc = rp_random_bytes(uuid, sizeof(uuid), err);
	if (rc)
		return rc;
	uuid[6] = (uint8_t)((uuid[6] & 0x0F) | 0x40); /* RFC 4122 version 4 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3F) | 0x80);
	vhd_footer_build_fixed(size, uuid, stamp, footer);
	if (pwrite(fd, footer, sizeof(footer), (off_t)size) != (ssize_t)sizeof(footer))
		return rp_err_errno(err, errno ? errno : EIO, "cannot write the footer of '%s'",
				    path);
	return 0;
}

/* OUT.lock for the whole run, then a new OUT.partial (a stale one of ours is removed under the
 * lock; a planted link or file is refused, never truncated: common/outfile.h). */
static int open_partial(const char *out_path, const char *partial, mode_t mode, int *lock_fd,
			int *fd, struct rp_err *err)
{
	size_t n = strlen(out_path) + sizeof(".lock") + 2;
	char *lock = malloc(n), *what = malloc(n);
	struct stat st;
	int rc;

	if (!lock || !what) {
		rc = rp_err_set(err, RP_EIO, "out of memory");
		goto out;
	}
	snprintf(lock, n, "%s.lock", out_path);
	snprintf(what, n, "'%s'", out_path);
	rc = rp_outfile_lock(lock, what, lock_fd, err);
	if (rc)
		goto out;
	if (lstat(partial, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid())
		rc = rp_outfile_remove_stale(partial, err);
	if (rc == 0)
		rc = rp_outfile_create(partial, mode, false, fd, err);
	if (rc) {
		rp_outfile_unlock(lock, *lock_fd);
		*lock_fd = -1;
	}
out:
	free(lock);
	free(what);
	return rc;
}

static void unlock_out(const char *out_path, int lock_fd)
{
	size_t n = strlen(out_path) + sizeof(".lock");
	char *lock = malloc(n);

	if (lock) {
		snprintf(lock, n, "%s.lock", out_path);
		rp_outfile_unlock(lock, lock_fd);
	} else if (lock_fd >= 0) {
		close(lock_fd);
	}
	free(lock);
}

int rp_convert(struct rp_image *img, const char *out_path, const struct rp_convert_opts *opts,
	       struct rp_convert_result *result, struct rp_err *err)
{
	uint64_t vsize = rp_image_virtual_size(img), data_size, file_size;
	struct rp_scan_opts so = {0};
	struct rp_scan_result sr = {0};
	struct convert_sink sink = {0};
	struct stat st;
	char *partial = NULL;
	size_t plen;
	int rc, lock_fd = -1;

	memset(result, 0, sizeof(*result));
	rc = rp_outfile_check_target(out_path, err);
	if (rc)
		return rc;
	if (stat(out_path, &st) == 0 && !opts->force)
		return rp_err_set_hint(err, RP_EUSAGE, RP_H_FORCE, "'%s' exists", out_path);
	if (opts->to == RP_CONVERT_VHD) {
		/* Azure takes fixed VHDs of a whole number of MiB (docs/azure.md). */
		if (vsize > UINT64_MAX - MIB)
			return rp_err_set(err, RP_EFORMAT, "virtual size %llu is too large",
					  (unsigned long long)vsize);
		data_size = (vsize + MIB - 1) / MIB * MIB;
		file_size = data_size + VHD_FOOTER_SIZE;
	} else {
		data_size = vsize;
		file_size = vsize;
	}
	plen = strlen(out_path) + sizeof(".partial");
	partial = malloc(plen);
	if (!partial)
		return rp_err_set(err, RP_EIO, "out of memory");
	snprintf(partial, plen, "%s.partial", out_path);
	sink.path = partial;
	sink.no_sync = opts->no_sync;
	sink.fd = -1;
	rc = open_partial(out_path, partial, opts->out_mode ? (mode_t)opts->out_mode : 0644,
			  &lock_fd, &sink.fd, err);
	if (rc) {
		free(partial);
		return rc;
	}
	/* The whole size first: what is never written stays a hole and reads as zeros. */
	if (ftruncate(sink.fd, (off_t)data_size) != 0) {
		rc = rp_err_errno(err, errno, "cannot size '%s' to %llu bytes", partial,
				  (unsigned long long)file_size);
		goto fail;
	}
	so.threads = opts->threads;
	so.sink = write_chunk;
	so.sink_ctx = &sink;
	so.progress = opts->progress;
	so.progress_ctx = opts->progress_ctx;
	so.stop = opts->stop;
	so.expect = opts->expect;
	rc = rp_scan_run(img, &so, &sr, err);
	result->seconds = sr.seconds;
	result->chunks_compared = sr.chunks_compared;
	if (rc == 0 && sr.mismatch_count) {
		const struct rp_scan_mismatch *m = &sr.mismatches[0];
		rc = rp_err_set(
		    err, RP_EVERIFY,
		    "%zu chunks differ from the seal, the first chunk %llu at 0x%llx; '%s' "
		    "was not written",
		    sr.mismatch_count, (unsigned long long)m->index, (unsigned long long)m->offset,
		    out_path);
	}
	rp_scan_result_release(&sr);
	if (rc)
		goto fail;
	if (opts->to == RP_CONVERT_VHD) {
		rc = write_footer(sink.fd, partial, data_size, err);
		if (rc)
			goto fail;
	}
	if (!opts->no_sync && fsync(sink.fd) != 0) {
		rc = rp_err_errno(err, errno, "cannot sync '%s'", partial);
		goto fail;
	}
	if (close(sink.fd) != 0) {
		sink.fd = -1;
		rc = rp_err_errno(err, errno, "cannot close '%s'", partial);
		goto fail;
	}
	sink.fd = -1;
	/* A signal that came after the last chunk still means "do not leave OUT behind". */
	if (opts->stop && *opts->stop) {
		rc = rp_err_set(err, RP_EINTR, "interrupted");
		goto fail;
	}
	if (rename(partial, out_path) != 0) {
		rc = rp_err_errno(err, errno, "cannot rename '%s' to '%s'", partial, out_path);
		goto fail;
	}
	if (!opts->no_sync) {
		rc = rp_outfile_sync_dir(out_path, err);
		if (rc)
			goto fail;
	}
	unlock_out(out_path, lock_fd);
	result->virtual_size = vsize;
	result->output_size = file_size;
	result->bytes_written = sink.written;
	result->bytes_holes = sink.holes + (data_size - vsize);
	free(partial);
	return 0;
fail:
	if (sink.fd >= 0)
		close(sink.fd);
	if (lock_fd >= 0)
		unlink(partial);
	unlock_out(out_path, lock_fd);
	free(partial);
	return rc;
}
