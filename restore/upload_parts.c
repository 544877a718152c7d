/*
 * The pure pieces of the upload (restore/upload.h): the image check, the spans of non-zero
 * pages, and the upload journal.
 *
 * Journal layout (docs/staging.md), version 2, little-endian:
 *   0  8  magic "CVMRUPJ2"
 *   8  8  image size
 *  16  8  chunk size
 *  24  8  chunk count
 *  32  8  image mtime, nanoseconds since the epoch
 *  40  2  target length T
 *  42  T  target URL without its query
 *  42+T   done bitmap, ceil(count / 8) bytes (bit i % 8 of byte i / 8: chunk i acknowledged)
 *  then   data bitmap, same size (chunk i has non-zero pages; a subset of done)
 *  then   32 bytes per done data chunk, in chunk order: the SHA-256 of the chunk's bytes as
 *         read and sent (whole pages, zero pages included)
 *  end-4  CRC-32C of everything before
 * Version 1 ("CVMRUPJ1") had no digests; it is not trusted (restore/upload.c starts over).
 */
#include "restore/upload.h"

#include <stdlib.h>
#include <string.h>

#include "common/endian.h"
#include "common/util.h"
#include "formats/vhd.h"

#define J_MAGIC "CVMRUPJ2"
#define J_HEAD 42
#define J_TARGET_MAX 4096

int rp_upload_check_vhd(const uint8_t *footer, uint64_t file_size, struct rp_err *err)
{
	struct vhd_footer f;
	uint64_t vsize;
	int rc;

	if (file_size < VHD_FOOTER_SIZE || (file_size - VHD_FOOTER_SIZE) % RP_UPLOAD_MIB)
		return rp_err_set(
		    err, RP_EFORMAT,
		    "%llu bytes is not N MiB + 512: Azure takes only fixed VHDs of a "
		    "whole number of MiB; make one with 'cvmrestore convert IN OUT.vhd'",
		    (unsigned long long)file_size);
	vsize = file_size - VHD_FOOTER_SIZE;
	if (memcmp(footer, "conectix", 8) != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "no VHD footer (cookie 'conectix' at 0x%llx): Azure takes only "
				  "fixed VHDs; make one with 'cvmrestore convert IN OUT.vhd'",
				  (unsigned long long)vsize);
	rc = vhd_footer_parse(footer, VHD_FOOTER_SIZE, 0, &f, err);
	if (rc) {
		rp_err_prefix(err, "vhd footer at 0x%llx", (unsigned long long)vsize);
		return rc;
	}
	if (f.disk_type != VHD_TYPE_FIXED)
		return rp_err_set(
		    err, RP_EFORMAT,
		    "vhd footer disk type at +60 is %u, not 2 (fixed): convert it with "
		    "'cvmrestore convert IN OUT.vhd'",
		    f.disk_type);
	if (f.current_size != vsize)
		return rp_err_set(
		    err, RP_EFORMAT,
		    "vhd footer current size at +48 is %llu, but the file holds %llu "
		    "bytes before the footer; make a new one with 'cvmrestore convert "
		    "IN OUT.vhd'",
		    (unsigned long long)f.current_size, (unsigned long long)vsize);
	if (vsize < RP_UPLOAD_MIN_DISK || vsize > RP_UPLOAD_MAX_DISK)
		return rp_err_set(err, RP_EFORMAT,
				  "a virtual size of %llu bytes is outside what Azure takes for an "
				  "upload (20 MiB to 32 TiB)",
				  (unsigned long long)vsize);
	return 0;
}

size_t rp_upload_spans(const uint8_t *buf, size_t len, size_t merge_gap,
		       struct rp_upload_span *spans, size_t max)
{
	size_t n = 0, off;
	bool open = false;
	size_t start = 0, end = 0; /* the open span [start, end) */

	for (off = 0; off < len; off += VHD_SECTOR) {
		size_t k = len - off < VHD_SECTOR ? len - off : VHD_SECTOR;

		if (rp_is_zero(buf + off, k))
			continue;
		if (open && off - end <= merge_gap) {
			end = off + VHD_SECTOR;
			continue;
		}
		if (open) {
			if (n < max)
				spans[n] = (struct rp_upload_span){(uint32_t)start,
								   (uint32_t)(end - start)};
			n++;
		}
		open = true;
		start = off;
		end = off + VHD_SECTOR;
	}
	if (open) {
		if (n < max)
			spans[n] =
			    (struct rp_upload_span){(uint32_t)start, (uint32_t)(end - start)};
		n++;
	}
	return n;
}

static size_t bitmap_bytes(uint64_t count)
{
	return (size_t)((count + 7) / 8);
}

/* Done chunks with data: those whose digest the journal holds. */
static uint64_t done_data(const uint8_t *done, const uint8_t *data, uint64_t count)
{
	uint64_t i, d = 0;

	for (i = 0; i < count; i++)
		d += (done[i / 8] >> (i % 8)) & (data[i / 8] >> (i % 8)) & 1;
	return d;
}

/* Where the digests are: 32 bytes per chunk (sha256), or a compact store (sent); read when
 * encoding, written when parsing. */
struct digests {
	const uint8_t *sha256_in;
	const struct rp_seal *sent_in;
	uint8_t *sha256;
	struct rp_seal *sent;
};

static const uint8_t *digest_get(const struct digests *dg, uint64_t i)
{
	return dg->sha256_in ? dg->sha256_in + i * 32 : rp_seal_chunk_sha(dg->sent_in, i);
}

static int digest_put(const struct digests *dg, uint64_t i, const uint8_t *d, struct rp_err *err)
{
	struct rp_seal_chunk c = {.state = RP_CHUNK_DATA};

	if (dg->sha256) {
		memcpy(dg->sha256 + i * 32, d, 32);
		return 0;
	}
	memcpy(c.sha256, d, 32);
	return rp_seal_chunk_set(dg->sent, i, &c, err);
}

static int journal_encode(const struct rp_upload_journal_id *id, const uint8_t *done,
			  const uint8_t *data, const struct digests *dg, uint8_t **out,
			  size_t *out_len, struct rp_err *err)
{
	size_t tl = strlen(id->target), bm, n;
	uint64_t d, i;
	uint8_t *j, *p;
	const uint8_t *dd;

	if (tl > J_TARGET_MAX || id->chunk_count > ((uint64_t)SIZE_MAX - 8192) / 40)
		return rp_err_set(err, RP_EUSAGE,
				  "upload journal: target or chunk count too large");
	bm = bitmap_bytes(id->chunk_count);
	d = done_data(done, data, id->chunk_count);
	n = J_HEAD + tl + 2 * bm + (size_t)d * 32 + 4;
	j = malloc(n);
	if (!j)
		return rp_err_set(err, RP_EIO, "out of memory");
	memcpy(j, J_MAGIC, 8);
	rp_put_le64(j + 8, id->image_size);
	rp_put_le64(j + 16, id->chunk_size);
	rp_put_le64(j + 24, id->chunk_count);
	rp_put_le64(j + 32, (uint64_t)id->image_mtime_ns);
	j[40] = (uint8_t)tl;
	j[41] = (uint8_t)(tl >> 8);
	memcpy(j + J_HEAD, id->target, tl);
	memcpy(j + J_HEAD + tl, done, bm);
	memcpy(j + J_HEAD + tl + bm, data, bm);
	p = j + J_HEAD + tl + 2 * bm;
	for (i = 0; i < id->chunk_count; i++) {
		if (!((done[i / 8] >> (i % 8)) & (data[i / 8] >> (i % 8)) & 1))
			continue;
		dd = digest_get(dg, i);
		if (!dd) {
			free(j);
			return rp_err_set(err, RP_EIO, "upload journal: no digest for chunk %llu",
					  (unsigned long long)i);
		}
		memcpy(p, dd, 32);
		p += 32;
	}
	rp_put_le32(j + n - 4, rp_crc32c(0, j, n - 4));
	*out = j;
	*out_len = n;
	return 0;
}

int rp_upload_journal_encode(const struct rp_upload_journal_id *id, const uint8_t *done,
			     const uint8_t *data, const uint8_t *sha256, uint8_t **out,
			     size_t *out_len, struct rp_err *err)
{
	struct digests dg = {.sha256_in = sha256};

	return journal_encode(id, done, data, &dg, out, out_len, err);
}

int rp_upload_journal_encode_sent(const struct rp_upload_journal_id *id, const uint8_t *done,
				  const uint8_t *data, const struct rp_seal *sent, uint8_t **out,
				  size_t *out_len, struct rp_err *err)
{
	struct digests dg = {.sent_in = sent};

	return journal_encode(id, done, data, &dg, out, out_len, err);
}

static int journal_parse(const uint8_t *buf, size_t len, const struct rp_upload_journal_id *id,
			 uint8_t *done, uint8_t *data, const struct digests *dg, struct rp_err *err)
{
	size_t tl, bm = bitmap_bytes(id->chunk_count), o;
	uint64_t i, d;

	if (len < J_HEAD + 4 || memcmp(buf, J_MAGIC, 8) != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "upload journal: bad magic at +0 or too short "
				  "(%zu bytes)",
				  len);
	if (rp_le32(buf + len - 4) != rp_crc32c(0, buf, len - 4))
		return rp_err_set(err, RP_EFORMAT,
				  "upload journal: checksum at +%zu does not match", len - 4);
	tl = (size_t)buf[40] | (size_t)buf[41] << 8;
	if (rp_le64(buf + 8) != id->image_size)
		return rp_err_set(err, RP_EIO,
				  "upload journal: it is for an image of %llu bytes, "
				  "this one has %llu",
				  (unsigned long long)rp_le64(buf + 8),
				  (unsigned long long)id->image_size);
	if ((int64_t)rp_le64(buf + 32) != id->image_mtime_ns)
		return rp_err_set(err, RP_EIO,
				  "upload journal: the image was modified since the "
				  "journal was written");
	if (rp_le64(buf + 16) != id->chunk_size || rp_le64(buf + 24) != id->chunk_count)
		return rp_err_set(err, RP_EIO,
				  "upload journal: chunk size or count at +16 differs");
	if (len < J_HEAD + tl + 4)
		return rp_err_set(err, RP_EFORMAT,
				  "upload journal: target length %zu at +40 runs "
				  "past the end",
				  tl);
	if (tl != strlen(id->target) || memcmp(buf + J_HEAD, id->target, tl) != 0)
		return rp_err_set(err, RP_EIO, "upload journal: it is for another target (%.*s)",
				  (int)(tl < 512 ? tl : 512), (const char *)(buf + J_HEAD));
	if (len < J_HEAD + tl + 2 * bm + 4)
		return rp_err_set(err, RP_EFORMAT, "upload journal: %zu bytes, want at least %zu",
				  len, J_HEAD + tl + 2 * bm + 4);
	o = J_HEAD + tl;
	for (i = 0; i < id->chunk_count; i++)
		if (((buf[o + bm + i / 8] >> (i % 8)) & 1) && !((buf[o + i / 8] >> (i % 8)) & 1))
			return rp_err_set(err, RP_EFORMAT,
					  "upload journal: chunk %llu has data but is not done",
					  (unsigned long long)i);
	d = done_data(buf + o, buf + o + bm, id->chunk_count);
	if ((len - o - 2 * bm - 4) / 32 != d || (len - o - 2 * bm - 4) % 32 != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "upload journal: %zu bytes, want %zu (%llu chunk digests)", len,
				  o + 2 * bm + (size_t)d * 32 + 4, (unsigned long long)d);
	memcpy(done, buf + o, bm);
	memcpy(data, buf + o + bm, bm);
	o += 2 * bm;
	for (i = 0; i < id->chunk_count; i++) {
		if (!((done[i / 8] >> (i % 8)) & (data[i / 8] >> (i % 8)) & 1))
			continue;
		if (digest_put(dg, i, buf + o, err) != 0)
			return RP_EIO;
		o += 32;
	}
	return 0;
}

int rp_upload_journal_parse(const uint8_t *buf, size_t len, const struct rp_upload_journal_id *id,
			    uint8_t *done, uint8_t *data, uint8_t *sha256, struct rp_err *err)
{
	struct digests dg = {.sha256 = sha256};

	return journal_parse(buf, len, id, done, data, &dg, err);
}

int rp_upload_journal_parse_sent(const uint8_t *buf, size_t len,
				 const struct rp_upload_journal_id *id, uint8_t *done,
				 uint8_t *data, struct rp_seal *sent, struct rp_err *err)
{
	struct digests dg = {.sent = sent};

	return journal_parse(buf, len, id, done, data, &dg, err);
}
