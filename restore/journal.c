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

/* Bits of byte k of a bitmap of chunks that are chunks (those past the last are zero). */
static uint8_t valid_bits(uint64_t chunks, size_t k)
{
	uint64_t left = chunks - (uint64_t)k * 8;

	return (uint8_t)(left >= 8 ? 0xffu : (1u << left) - 1);
}

/* Byte k of the encoded data bitmap: done data chunks only. */
static uint8_t data_byte(const struct rp_journal *j, size_t k)
{
	return (uint8_t)(j->done[k] & j->data[k] & valid_bits(j->chunks, k));
}

static uint64_t count_data(const struct rp_journal *j)
{
	size_t k, bb = bitmap_bytes(j->chunks);
	uint64_t n = 0;

	for (k = 0; k < bb; k++)
		n += (uint64_t)__builtin_popcount(data_byte(j, k));
	return n;
}

/* The pieces on their way out: a buffer of RP_JOURNAL_PIECE bytes, the CRC so far. */
struct piece {
	uint8_t *b;
	size_t n;
	uint32_t crc;
	rp_journal_put_fn put;
	void *ctx;
	struct rp_err *err;
	int rc;
};

static void piece_flush(struct piece *p)
{
	if (p->rc || p->n == 0)
		return;
	p->crc = rp_crc32c(p->crc, p->b, p->n);
	p->rc = p->put(p->ctx, p->b, p->n, p->err);
	p->n = 0;
}

static void piece_add(struct piece *p, const void *src, size_t len)
{
	const uint8_t *q = src;

	while (len > 0 && !p->rc) {
		size_t k = RP_JOURNAL_PIECE - p->n < len ? RP_JOURNAL_PIECE - p->n : len;

		memcpy(p->b + p->n, q, k);
		p->n += k;
		q += k;
		len -= k;
		if (p->n == RP_JOURNAL_PIECE)
			piece_flush(p);
	}
}

static void piece_byte(struct piece *p, uint8_t v)
{
	piece_add(p, &v, 1);
}

int rp_journal_encoded_size(const struct rp_journal *j, size_t *len, struct rp_err *err)
{
	size_t bb = bitmap_bytes(j->chunks);
	uint64_t d;

	*len = 0;
	if (j->etag_len > 0xffff || j->source_len > 0xffff)
		return rp_err_set(err, RP_EUSAGE, "the ETag or source is too long for the journal");
	d = count_data(j);
	if (bb > (SIZE_MAX - j->etag_len - j->source_len - HEAD - 8) / 2 ||
	    d > (SIZE_MAX - 2 * bb - j->etag_len - j->source_len - HEAD - 8) / 32)
		return rp_err_set(err, RP_EIO, "out of memory");
	*len = HEAD + 2 + j->etag_len + 2 + j->source_len + 2 * bb + (size_t)d * 32 + 4;
	return 0;
}

int rp_journal_encode_to(const struct rp_journal *j, rp_journal_put_fn put, void *ctx,
			 struct rp_err *err)
{
	size_t bb = bitmap_bytes(j->chunks), k, len;
	uint8_t head[HEAD + 2], le[4];
	struct piece p = {.put = put, .ctx = ctx, .err = err};
	int rc = rp_journal_encoded_size(j, &len, err);

	if (rc)
		return rc;
	p.b = malloc(RP_JOURNAL_PIECE);
	if (!p.b)
		return rp_err_set(err, RP_EIO, "out of memory");
	memcpy(head, RP_JOURNAL_MAGIC, 8);
	rp_put_le64(head + 8, j->size);
	rp_put_le64(head + 16, j->chunk_size);
	rp_put_le64(head + 24, j->chunks);
	rp_put_le32(head + 32, j->output_format);
	put_le16(head + HEAD, (uint16_t)j->etag_len);
	piece_add(&p, head, sizeof(head));
	piece_add(&p, j->etag, j->etag_len);
	put_le16(le, (uint16_t)j->source_len);
	piece_add(&p, le, 2);
	piece_add(&p, j->source, j->source_len);
	for (k = 0; k < bb; k++)
		piece_byte(&p, (uint8_t)(j->done[k] & valid_bits(j->chunks, k)));
	for (k = 0; k < bb; k++)
		piece_byte(&p, data_byte(j, k));
	/* The digests of the done data chunks, in chunk order (whole zero bytes skipped). */
	for (k = 0; k < bb && !p.rc; k++) {
		uint8_t v = data_byte(j, k);

		while (v && !p.rc) {
			uint64_t i = (uint64_t)k * 8 + (unsigned)__builtin_ctz(v);
			const uint8_t *dg =
			    j->sha256 ? j->sha256 + i * 32 : j->digest_of(j->digest_ctx, i);

			v &= (uint8_t)(v - 1);
			if (!dg) {
				free(p.b);
				return rp_err_set(err, RP_EIO, "no digest for the data chunk %llu",
						  (unsigned long long)i);
			}
			piece_add(&p, dg, 32);
		}
	}
	piece_flush(&p);
	if (!p.rc) {
		rp_put_le32(le, p.crc);
		p.rc = put(ctx, le, 4, err);
	}
	free(p.b);
	return p.rc;
}

/* rp_journal_encode's buffer, filled in order. */
struct whole {
	uint8_t *b;
	size_t n, cap;
};

static int whole_put(void *ctx, const uint8_t *p, size_t n, struct rp_err *err)
{
	struct whole *w = ctx;

	if (n > w->cap - w->n)
		return rp_err_set(err, RP_EIO, "internal: the journal is longer than its size");
	memcpy(w->b + w->n, p, n);
	w->n += n;
	return 0;
}

int rp_journal_encode(const struct rp_journal *j, uint8_t **out, size_t *len, struct rp_err *err)
{
	struct whole w = {0};
	int rc;

	*out = NULL;
	*len = 0;
	rc = rp_journal_encoded_size(j, &w.cap, err);
	if (rc)
		return rc;
	w.b = malloc(w.cap);
	if (!w.b)
		return rp_err_set(err, RP_EIO, "out of memory");
	rc = rp_journal_encode_to(j, whole_put, &w, err);
	if (rc == 0 && w.n != w.cap)
		rc = rp_err_set(err, RP_EIO, "internal: the journal is shorter than its size");
	if (rc) {
		free(w.b);
		return rc;
	}
	*out = w.b;
	*len = w.n;
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
