/*
 * The restore journal's bytes (docs/journal.md), version 2, little-endian:
 *   0  8  magic "CVMRJNL2"
 *   8  8  size (bytes of data)
 *  16  8  chunk size
 *  24  8  chunk count
 *  32  4  output format (0 raw, 1 vhd)
 *  36  2  ETag length E, then E bytes of ETag
 *   .  2  source length S, then S bytes of source (without its query)
 *   .  B  done bitmap, B = ceil(count / 8)
 *   .  B  data bitmap (a subset of done; the other done chunks are zero)
 *   .  32 per done data chunk, in chunk order: the SHA-256 of the bytes written
 *   .  4  CRC-32C of everything before
 * Version 1 ("CVMRJNL1") ended after one bitmap; it is recognised, never trusted.
 */
#include "restore/journal.h"

#include <stdlib.h>
#include <string.h>

#include "common/endian.h"
#include "common/util.h"

#define HEAD 36u

static size_t bitmap_bytes(uint64_t chunks)
{
	return (size_t)((chunks + 7) / 8);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint64_t count_data(const struct rp_journal *j)
{
	uint64_t i, n = 0;

	for (i = 0; i < j->chunks; i++)
		n += rp_journal_bit(j->done, i) && rp_journal_bit(j->data, i);
	return n;
}

int rp_journal_encode(const struct rp_journal *j, uint8_t **out, size_t *len, struct rp_err *err)
{
	size_t bb = bitmap_bytes(j->chunks), o, n;
	uint64_t d = count_data(j), i;
	uint8_t *b;

	*out = NULL;
	*len = 0;
	if (j->etag_len > 0xffff || j->source_len > 0xffff)
		return rp_err_set(err, RP_EUSAGE, "the ETag or source is too long for the journal");
	if (d > (SIZE_MAX - 2 * bb - j->etag_len - j->source_len - HEAD - 8) / 32)
		return rp_err_set(err, RP_EIO, "out of memory");
	n = HEAD + 2 + j->etag_len + 2 + j->source_len + 2 * bb + (size_t)d * 32 + 4;
	b = calloc(1, n);
	if (!b)
		return rp_err_set(err, RP_EIO, "out of memory");
	memcpy(b, RP_JOURNAL_MAGIC, 8);
	rp_put_le64(b + 8, j->size);
	rp_put_le64(b + 16, j->chunk_size);
	rp_put_le64(b + 24, j->chunks);
	rp_put_le32(b + 32, j->output_format);
	o = HEAD;
	put_le16(b + o, (uint16_t)j->etag_len);
	if (j->etag_len)
		memcpy(b + o + 2, j->etag, j->etag_len);
	o += 2 + j->etag_len;
	put_le16(b + o, (uint16_t)j->source_len);
	if (j->source_len)
		memcpy(b + o + 2, j->source, j->source_len);
	o += 2 + j->source_len;
	for (i = 0; i < j->chunks; i++) {
		bool done = rp_journal_bit(j->done, i), data = done && rp_journal_bit(j->data, i);

		if (done)
			b[o + i / 8] |= (uint8_t)(1u << (i % 8));
		if (data)
			b[o + bb + i / 8] |= (uint8_t)(1u << (i % 8));
	}
	o += 2 * bb;
	for (i = 0; i < j->chunks; i++) {
		const uint8_t *dg;

		if (!rp_journal_bit(j->done, i) || !rp_journal_bit(j->data, i))
			continue;
		dg = j->sha256 ? j->sha256 + i * 32 : j->digest_of(j->digest_ctx, i);
		if (!dg) {
			free(b);
			return rp_err_set(err, RP_EIO, "no digest for the data chunk %llu",
					  (unsigned long long)i);
		}
		memcpy(b + o, dg, 32);
		o += 32;
	}
	rp_put_le32(b + o, rp_crc32c(0, b, o));
	*out = b;
	*len = n;
	return 0;
}

int rp_journal_parse(const uint8_t *buf, size_t len, struct rp_journal *out, struct rp_err *err)
{
	struct rp_journal j;
	size_t o, end, bb, el, sl;
	uint64_t i, want;

	memset(&j, 0, sizeof(j));
	if (len < HEAD + 2 + 2 + 4)
		return rp_err_set(err, RP_EFORMAT,
				  "is damaged: %zu bytes is too short for a journal", len);
	end = len - 4;
	if (memcmp(buf, RP_JOURNAL_MAGIC, 8) != 0 && memcmp(buf, RP_JOURNAL_MAGIC_V1, 8) != 0)
		return rp_err_set(err, RP_EFORMAT, "is not a journal (bad magic)");
	if (rp_le32(buf + end) != rp_crc32c(0, buf, end))
		return rp_err_set(err, RP_EFORMAT, "is damaged (checksum)");
	if (memcmp(buf, RP_JOURNAL_MAGIC_V1, 8) == 0) {
		memset(out, 0, sizeof(*out));
		out->version = 1;
		return 0;
	}
	j.version = RP_JOURNAL_VERSION;
	j.size = rp_le64(buf + 8);
	j.chunk_size = rp_le64(buf + 16);
	j.chunks = rp_le64(buf + 24);
	j.output_format = rp_le32(buf + 32);
	if (j.chunk_size == 0)
		return rp_err_set(err, RP_EFORMAT, "is damaged (chunk size 0)");
	want = j.size / j.chunk_size + (j.size % j.chunk_size != 0);
	if (j.chunks != want)
		return rp_err_set(
		    err, RP_EFORMAT,
		    "is damaged (%llu chunks, but %llu bytes in chunks of %llu make %llu)",
		    (unsigned long long)j.chunks, (unsigned long long)j.size,
		    (unsigned long long)j.chunk_size, (unsigned long long)want);
	if (j.output_format > 1)
		return rp_err_set(err, RP_EFORMAT, "is damaged (output format %u)",
				  (unsigned)j.output_format);
	o = HEAD;
	el = rp_le16(buf + o);
	if (el > end - o - 2 || end - o - 2 - el < 2)
		return rp_err_set(err, RP_EFORMAT, "is damaged (ETag length)");
	j.etag = (const char *)(buf + o + 2);
	j.etag_len = el;
	o += 2 + el;
	sl = rp_le16(buf + o);
	if (sl > end - o - 2)
		return rp_err_set(err, RP_EFORMAT, "is damaged (source length)");
	j.source = (const char *)(buf + o + 2);
	j.source_len = sl;
	o += 2 + sl;
	/* The count is checked against the bytes left before the size of the bitmaps is taken. */
	if (j.chunks / 8 > (end - o) / 2)
		return rp_err_set(err, RP_EFORMAT, "is damaged (bitmaps)");
	bb = bitmap_bytes(j.chunks);
	if (2 * bb > end - o)
		return rp_err_set(err, RP_EFORMAT, "is damaged (bitmaps)");
	j.done = buf + o;
	j.data = buf + o + bb;
	o += 2 * bb;
	for (i = 0; i < j.chunks; i++) {
		if (rp_journal_bit(j.data, i) && !rp_journal_bit(j.done, i))
			return rp_err_set(err, RP_EFORMAT,
					  "is damaged (chunk %llu holds data but is not done)",
					  (unsigned long long)i);
		j.data_chunks += rp_journal_bit(j.data, i);
	}
	/* Bits past the last chunk are zero: one journal, one encoding. */
	for (i = j.chunks; i < (uint64_t)bb * 8; i++)
		if (rp_journal_bit(j.done, i) || rp_journal_bit(j.data, i))
			return rp_err_set(err, RP_EFORMAT, "is damaged (bits past the last chunk)");
	if (j.data_chunks > (end - o) / 32 || (end - o) != j.data_chunks * 32)
		return rp_err_set(err, RP_EFORMAT,
				  "is damaged (%llu data chunks, %zu bytes of digests)",
				  (unsigned long long)j.data_chunks, end - o);
	j.digests = buf + o;
	*out = j;
	return 0;
}
