/*
 * Tests of verify/crc64.c: the check values of docs/azure.md "CRC-64 as Azure computes it" (from
 * the Azure SDKs), incremental use, combine over random splits, and the base64 wire form.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "verify/crc64.h"

struct check_case {
	const char *text; /* NULL: zeros of zero_len bytes */
	size_t zero_len;
	uint64_t crc;
	const char *b64; /* NULL: not listed */
};

static const struct check_case checks[] = {
    {"", 0, 0x0000000000000000ull, "AAAAAAAAAAA="},
    {"Hello Azure!", 0, 0xC7A37FBFA4D9D80Eull, "DtjZpL9/o8c="},
    {"123456789", 0, 0xAE8B14860A799888ull, "iJh5CoYUi64="},
    {NULL, 512, 0x1DE60E2868A782E9ull, NULL},
    {NULL, 4u << 20, 0x043257E6895EFCEDull, NULL},
};

static uint8_t *case_bytes(const struct check_case *c, size_t *len)
{
	size_t n = c->text ? strlen(c->text) : c->zero_len;
	uint8_t *b = calloc(n ? n : 1, 1);

	assert_non_null(b);
	if (c->text)
		memcpy(b, c->text, n);
	*len = n;
	return b;
}

static void test_check_values(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		size_t len;
		uint8_t *b = case_bytes(&checks[i], &len);
		char b64[RP_CRC64_B64_SIZE];
		uint64_t back = 1;

		assert_int_equal(rp_crc64(0, b, len), checks[i].crc);
		rp_crc64_to_b64(checks[i].crc, b64);
		assert_int_equal(strlen(b64), 12);
		if (checks[i].b64)
			assert_string_equal(b64, checks[i].b64);
		assert_int_equal(rp_crc64_from_b64(b64, &back, NULL), 0);
		assert_int_equal(back, checks[i].crc);
		free(b);
	}
	assert_int_equal(rp_crc64(0, NULL, 0), 0);
}

/* Feeding the data in pieces at every alignment gives the same CRC. */
static void test_incremental(void **state)
{
	uint8_t buf[300];
	uint64_t whole;
	size_t i, cut;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	whole = rp_crc64(0, buf, sizeof(buf));
	for (cut = 0; cut <= sizeof(buf); cut++) {
		uint64_t c = rp_crc64(0, buf, cut);

		assert_int_equal(rp_crc64(c, buf + cut, sizeof(buf) - cut), whole);
	}
	/* unaligned starts */
	for (i = 1; i < 9; i++)
		assert_int_equal(rp_crc64(rp_crc64(0, buf, i), buf + i, sizeof(buf) - i), whole);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_combine_random_splits(void **state)
{
	size_t len = 1u << 20, i;
	uint8_t *buf = malloc(len);
	uint64_t seed = 0x9e3779b97f4a7c15ull, whole;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)rng_next(&seed);
	whole = rp_crc64(0, buf, len);
	for (i = 0; i < 200; i++) {
		size_t cut = (size_t)(rng_next(&seed) % (len + 1));
		uint64_t a = rp_crc64(0, buf, cut), b = rp_crc64(0, buf + cut, len - cut);

		assert_int_equal(rp_crc64_combine(a, b, len - cut), whole);
	}
	/* many pieces, combined left to right (as per-range CRCs of a disk are) */
	{
		uint64_t acc = 0;
		size_t off = 0;

		while (off < len) {
			size_t n = (size_t)(rng_next(&seed) % 70000) + 1;

			if (n > len - off)
				n = len - off;
			acc = rp_crc64_combine(acc, rp_crc64(0, buf + off, n), n);
			off += n;
		}
		assert_int_equal(acc, whole);
	}
	/* a zero-length second piece leaves the first unchanged */
	assert_int_equal(rp_crc64_combine(whole, 0, 0), whole);
	/* 4 MiB of zeros from 8192 pieces of 512 zeros */
	{
		uint64_t z512 = 0x1DE60E2868A782E9ull, acc = 0;

		for (i = 0; i < 8192; i++)
			acc = rp_crc64_combine(acc, z512, 512);
		assert_int_equal(acc, 0x043257E6895EFCEDull);
	}
	free(buf);
}

struct bad_b64 {
	const char *text;
};

static void test_from_b64_errors(void **state)
{
	static const struct bad_b64 cases[] = {
	    {""},
	    {"AAAAAAAAAA=="},  /* 7 bytes */
	    {"AAAAAAAAAAA"},   /* no padding */
	    {"AAAAAAAAAAAA"},  /* 9 bytes' worth */
	    {"AAAAAAAAAAB="},  /* non-zero trailing bits */
	    {"DtjZpL9_o8c="},  /* url alphabet */
	    {"DtjZpL9/o8c= "}, /* trailing space */
	    {"AAAAAAAAAAAAAAAA"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_err err;
		uint64_t v = 42;

		rp_err_init(&err);
		assert_int_equal(rp_crc64_from_b64(cases[i].text, &v, &err), RP_EFORMAT);
		assert_non_null(strstr(err.msg, "crc64: '"));
		assert_non_null(strstr(err.msg, "is not 8 bytes of base64"));
		assert_int_equal(v, 42);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_values),
	    cmocka_unit_test(test_incremental),
	    cmocka_unit_test(test_combine_random_splits),
	    cmocka_unit_test(test_from_b64_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
