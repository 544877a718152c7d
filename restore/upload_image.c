/*
 * The local image as the upload engine (restore/upload.c) and its post-check
 * (restore/upload_check.c) both see it: chunk bitmaps and chunk reads. Both call down to this
 * unit; it calls neither.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "restore/upload_int.h"

bool rp_up_bit(const uint8_t *b, uint64_t i)
{
	return (b[i / 8] >> (i % 8)) & 1;
}

int rp_up_read_chunk(struct up *u, uint8_t *buf, uint64_t c, size_t *plen, struct rp_err *err)
{
	uint64_t off = c * RP_UPLOAD_CHUNK;
	uint64_t end = off + RP_UPLOAD_CHUNK < u->blob_size ? off + RP_UPLOAD_CHUNK : u->blob_size;
	size_t len = (size_t)(end - off), got = 0;

	memset(buf, 0, len);
	while (off + got < u->file_size && got < len) {
		ssize_t k = pread(u->fd, buf + got, len - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return rp_err_errno(err, k < 0 ? errno : EIO,
					    "%s: cannot read at 0x%" PRIx64, u->o->image,
					    off + got);
		got += (size_t)k;
	}
	*plen = len;
	return 0;
}
