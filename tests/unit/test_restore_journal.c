/*
 * Tests of restore/journal.c, the restore journal's bytes (docs/journal.md): a round trip with
 * digests only for done data chunks, a version 1 journal recognised (not trusted), and damaged
 * journals refused (table-driven, one changed field per case, code and message); the
 * streaming encoder equal byte for byte to the whole-buffer encoder it replaced.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "common/endian.h"
#include "common/util.h"
#include "restore/journal.h"

#define CHUNKS 10

/* chunk i's digest is 32 bytes of i + 1 */
static uint8_t sha[CHUNKS * 32];

static uint8_t *journal(size_t *len)
{
	/* done: 0, 1, 2, 9; data: 0, 9 */
	static const uint8_t done[2] = {0x07, 0x02}, data[2] = {0x01, 0x02};
	struct rp_journal j = {
	    .size = 40u << 20,
	    .chunk_size = 4u << 20,
	    .chunks = CHUNKS,
	    .output_format = 1,
	    .etag = "\"0x8D\"",
	    .etag_len = 6,
	    .source = "https://h/c/d.vhd",
	    .source_len = 17,
	    .done = done,
	    .data = data,
	    .sha256 = sha,
	};
	uint8_t *b = NULL;
	size_t i;

	for (i = 0; i < sizeof(sha); i++)
		sha[i] = (uint8_t)(i / 32 + 1);
	assert_int_equal(rp_journal_encode(&j, &b, len, NULL), 0);
	return b;
}

/* Where the bitmaps start in journal()'s bytes. */
#define BITMAPS (36 + 2 + 6 + 2 + 17)

static void fix_crc(uint8_t *b, size_t len)
{
	rp_put_le32(b + len - 4, rp_crc32c(0, b, len - 4));
}

static void test_round_trip(void **state)
{
	struct rp_journal j;
	uint8_t want[32], *b;
	size_t len;

	(void)state;
	b = journal(&len);
	assert_int_equal(len, BITMAPS + 2 * 2 + 2 * 32 + 4);
	assert_memory_equal(b, "CVMRJNL2", 8);
	assert_int_equal(rp_journal_parse(b, len, &j, NULL), 0);
	assert_int_equal(j.version, RP_JOURNAL_VERSION);
	assert_int_equal(j.chunks, CHUNKS);
	assert_int_equal(j.output_format, 1);
	assert_int_equal(j.etag_len, 6);
	assert_memory_equal(j.source, "https://h/c/d.vhd", 17);
	assert_int_equal(j.data_chunks, 2);
	assert_true(rp_journal_bit(j.done, 2));
	assert_false(rp_journal_bit(j.data, 2));
	memset(want, 1, 32);
	assert_memory_equal(j.digests, want, 32);
	memset(want, 10, 32);
	assert_memory_equal(j.digests + 32, want, 32);
	free(b);
}

static void test_version1(void **state)
{
	struct rp_journal j;
	uint8_t *b;
	size_t len;

	(void)state;
	b = journal(&len);
	b[7] = '1';
	fix_crc(b, len);
	assert_int_equal(rp_journal_parse(b, len, &j, NULL), 0);
	assert_int_equal(j.version, 1);
	assert_null(j.done);
	free(b);
}

enum change {
	C_MAGIC,
	C_CRC,
	C_SHORT,
	C_CHUNK0,
	C_COUNT,
	C_FORMAT,
	C_ETAG_LEN,
	C_SOURCE_LEN,
	C_DATA_NOT_DONE,
	C_PAST_END,
	C_CLAIM_DATA,
	C_DIGEST_CUT,
};

struct jcase {
	enum change change;
	const char *msg;
};

static const struct jcase cases[] = {
    {C_MAGIC, "is not a journal (bad magic)"},
    {C_CRC, "is damaged (checksum)"},
    {C_SHORT, "too short for a journal"},
    {C_CHUNK0, "is damaged (chunk size 0)"},
    {C_COUNT, "is damaged (11 chunks, but 41943040 bytes in chunks of 4194304 make 10)"},
    {C_FORMAT, "is damaged (output format 7)"},
    {C_ETAG_LEN, "is damaged (ETag length)"},
    {C_SOURCE_LEN, "is damaged (source length)"},
    {C_DATA_NOT_DONE, "is damaged (chunk 3 holds data but is not done)"},
    {C_PAST_END, "is damaged (bits past the last chunk)"},
    /* an editor claims chunk 1 holds data and fixes the checksum, without a digest for it */
    {C_CLAIM_DATA, "is damaged (3 data chunks, 64 bytes of digests)"},
    {C_DIGEST_CUT, "is damaged (2 data chunks, 32 bytes of digests)"},
};

static void test_damaged(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct jcase *c = &cases[i];
		struct rp_journal j;
		struct rp_err err;
		size_t len;
		uint8_t *b = journal(&len);
		bool crc = true;

		rp_err_init(&err);
		switch (c->change) {
		case C_MAGIC:
			b[0] = 'X';
			break;
		case C_CRC:
			b[20] ^= 1;
			crc = false;
			break;
		case C_SHORT:
			len = 20;
			crc = false;
			break;
		case C_CHUNK0:
			rp_put_le64(b + 16, 0);
			break;
		case C_COUNT:
			rp_put_le64(b + 24, CHUNKS + 1);
			break;
		case C_FORMAT:
			rp_put_le32(b + 32, 7);
			break;
		case C_ETAG_LEN:
			b[36] = 0xff;
			break;
		case C_SOURCE_LEN:
			b[36 + 2 + 6] = 0xff;
			break;
		case C_DATA_NOT_DONE:
			b[BITMAPS + 2] |= 0x08;
			break;
		case C_PAST_END:
			b[BITMAPS + 1] |= 0x80;
			break;
		case C_CLAIM_DATA:
			b[BITMAPS + 2] |= 0x02;
			break;
		case C_DIGEST_CUT:
			memmove(b + len - 36, b + len - 4, 4);
			len -= 32;
			break;
		}
		if (crc)
			fix_crc(b, len);
		assert_int_equal(rp_journal_parse(b, len, &j, &err), RP_EFORMAT);
		if (!strstr(err.msg, c->msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, c->msg);
		free(b);
	}
}

/* ---- the encoder as it was before it wrote in pieces (a whole buffer), kept as the
 * reference the streaming encoder must equal byte for byte ---- */

static void ref_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint8_t *ref_encode(const struct rp_journal *j, size_t *len)
{
	size_t bb = (size_t)((j->chunks + 7) / 8), o, n;
	uint64_t d = 0, i;
	uint8_t *b;

	for (i = 0; i < j->chunks; i++)
		d += rp_journal_bit(j->done, i) && rp_journal_bit(j->data, i);
	n = 36 + 2 + j->etag_len + 2 + j->source_len + 2 * bb + (size_t)d * 32 + 4;
	b = calloc(1, n);
	assert_non_null(b);
	memcpy(b, RP_JOURNAL_MAGIC, 8);
	rp_put_le64(b + 8, j->size);
	rp_put_le64(b + 16, j->chunk_size);
	rp_put_le64(b + 24, j->chunks);
	rp_put_le32(b + 32, j->output_format);
	o = 36;
	ref_le16(b + o, (uint16_t)j->etag_len);
	memcpy(b + o + 2, j->etag, j->etag_len);
	o += 2 + j->etag_len;
	ref_le16(b + o, (uint16_t)j->source_len);
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
		if (!rp_journal_bit(j->done, i) || !rp_journal_bit(j->data, i))
			continue;
		memcpy(b + o, j->sha256 ? j->sha256 + i * 32 : j->digest_of(j->digest_ctx, i), 32);
		o += 32;
	}
	rp_put_le32(b + o, rp_crc32c(0, b, o));
	*len = n;
	return b;
}

/* What rp_journal_encode_to handed out, and how. */
struct sink_buf {
	uint8_t *b;
	size_t n, cap, pieces, largest;
	size_t fail_at; /* fail the put that would pass this many bytes (0: never) */
};

static int collect(void *ctx, const uint8_t *p, size_t n, struct rp_err *err)
{
	struct sink_buf *s = ctx;

	if (s->fail_at && s->n + n > s->fail_at)
		return rp_err_set(err, RP_EIO, "disk full (test)");
	assert_true(s->n + n <= s->cap);
	memcpy(s->b + s->n, p, n);
	s->n += n;
	s->pieces++;
	if (n > s->largest)
		s->largest = n;
	return 0;
}

static const uint8_t *digest_of_chunk(const void *ctx, uint64_t i)
{
	return (const uint8_t *)ctx + 32 * i;
}

/* The streaming encoder against the whole-buffer one: random journals of many sizes (bits
 * past the last chunk set, data bits without done ones, with sha256 or digest_of), every byte
 * equal, no piece over RP_JOURNAL_PIECE; and a put that fails ends it with its error. */
static void test_pieces_equal_whole(void **state)
{
	static const uint64_t counts[] = {0, 1, 7, 8, 9, 63, 64, 65, 1000, 70001, 1u << 20};
	unsigned x = 99, c, mode;
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		for (mode = 0; mode < 3; mode++) {
			uint64_t n = counts[c], i;
			size_t bb = (size_t)((n + 7) / 8) + 1, want_len, len = 0, k;
			uint8_t *done = calloc(bb, 1), *data = calloc(bb, 1);
			uint8_t *dg = malloc((size_t)(n ? n : 1) * 32), *want;
			struct rp_journal j = {.size = n * 4096 - (n ? 100 : 0),
					       .chunk_size = 4096,
					       .chunks = n,
					       .output_format = mode & 1,
					       .etag = "\"0x8DABC\"",
					       .etag_len = 9,
					       .source = "https://h.invalid/c/disk.vhd",
					       .source_len = 28};
			struct sink_buf sb = {0};

			assert_non_null(done);
			assert_non_null(data);
			assert_non_null(dg);
			for (k = 0; k < bb; k++) { /* dense, sparse, or all set, with stray bits */
				x = x * 1103515245u + 12345u;
				done[k] = (uint8_t)(mode == 2 ? 0xff : x >> 16);
				x = x * 1103515245u + 12345u;
				data[k] = (uint8_t)(mode == 1 ? (x >> 16) & 0x11 : x >> 16);
			}
			for (i = 0; i < n * 32; i++)
				dg[i] = (uint8_t)(i * 31 + i / 32);
			j.done = done;
			j.data = data;
			if (mode == 1) {
				j.digest_of = digest_of_chunk;
				j.digest_ctx = dg;
			} else {
				j.sha256 = dg;
			}
			want = ref_encode(&j, &want_len);
			assert_int_equal(rp_journal_encoded_size(&j, &len, &err), 0);
			assert_int_equal(len, want_len);
			sb.cap = want_len;
			sb.b = malloc(want_len);
			assert_non_null(sb.b);
			assert_int_equal(rp_journal_encode_to(&j, collect, &sb, &err), 0);
			assert_int_equal(sb.n, want_len);
			assert_memory_equal(sb.b, want, want_len);
			assert_true(sb.largest <= RP_JOURNAL_PIECE);
			if (want_len > 3 * RP_JOURNAL_PIECE)
				assert_true(sb.pieces >= 3);
			free(sb.b);
			/* the whole-buffer entry point gives the same bytes */
			{
				uint8_t *b = NULL;
				size_t bl = 0;

				assert_int_equal(rp_journal_encode(&j, &b, &bl, &err), 0);
				assert_int_equal(bl, want_len);
				assert_memory_equal(b, want, want_len);
				free(b);
			}
			/* a failing put stops the encoding with its error */
			memset(&sb, 0, sizeof(sb));
			sb.cap = want_len;
			sb.b = malloc(want_len);
			sb.fail_at = want_len / 2 + 1;
			rp_err_init(&err);
			assert_int_equal(rp_journal_encode_to(&j, collect, &sb, &err), RP_EIO);
			assert_non_null(strstr(err.msg, "disk full (test)"));
			assert_true(sb.n < want_len);
			free(sb.b);
			free(want);
			free(done);
			free(data);
			free(dg);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_version1),
	    cmocka_unit_test(test_damaged),
	    cmocka_unit_test(test_pieces_equal_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
