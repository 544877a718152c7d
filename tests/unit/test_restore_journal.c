/*
 * Tests of restore/journal.c, the restore journal's bytes (docs/journal.md): a round trip with
 * digests only for done data chunks, a version 1 journal recognised (not trusted), and damaged
 * journals refused (table-driven, one changed field per case, code and message).
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_version1),
	    cmocka_unit_test(test_damaged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
