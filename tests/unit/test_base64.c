/*
 * Tests of common/base64.c: the RFC 4648 section 10 vectors in both alphabets, with and without
 * padding, and every kind of malformed input rejected with its code and message.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "common/base64.h"

struct vector {
	const char *plain;
	const char *b64;
};

/* RFC 4648 section 10 */
static const struct vector rfc_vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void strip_pad(const char *in, char *out)
{
	size_t n = strlen(in);

	while (n > 0 && in[n - 1] == '=')
		n--;
	memcpy(out, in, n);
	out[n] = '\0';
}

static void test_rfc_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
		const char *p = rfc_vectors[i].plain, *e = rfc_vectors[i].b64;
		char out[32], nopad[32];
		uint8_t dec[32];
		size_t n = 99;
		bool ok;

		assert_int_equal(
		    rp_b64_encode((const uint8_t *)p, strlen(p), RP_B64_STD, out, sizeof(out), &n),
		    0);
		assert_string_equal(out, e);
		assert_int_equal(n, strlen(e));
		assert_int_equal(rp_b64_encoded_len(strlen(p), RP_B64_STD, &ok), strlen(e));
		assert_true(ok);
		strip_pad(e, nopad);
		assert_int_equal(rp_b64_encode((const uint8_t *)p, strlen(p),
					       RP_B64_URL | RP_B64_NOPAD, out, sizeof(out), &n),
				 0);
		assert_string_equal(out, nopad);
		assert_int_equal(rp_b64_encoded_len(strlen(p), RP_B64_NOPAD, &ok), strlen(nopad));
		/* decode: padded standard, unpadded url, padded url, either with ANY */
		assert_int_equal(
		    rp_b64_decode(e, strlen(e), RP_B64_STD, dec, sizeof(dec), &n, NULL), 0);
		assert_int_equal(n, strlen(p));
		assert_memory_equal(dec, p, n);
		assert_int_equal(
		    rp_b64_decode(nopad, strlen(nopad), RP_B64_URL, dec, sizeof(dec), &n, NULL), 0);
		assert_int_equal(n, strlen(p));
		assert_memory_equal(dec, p, n);
		assert_int_equal(
		    rp_b64_decode(e, strlen(e), RP_B64_URL, dec, sizeof(dec), &n, NULL), 0);
		assert_int_equal(n, strlen(p));
		assert_int_equal(
		    rp_b64_decode(nopad, strlen(nopad), RP_B64_ANY, dec, sizeof(dec), &n, NULL), 0);
		assert_int_equal(n, strlen(p));
		assert_true(rp_b64_decoded_max(strlen(e)) >= strlen(p));
		assert_true(rp_b64_decoded_max(strlen(nopad)) >= strlen(p));
	}
}

/* Bytes 0xfb 0xff 0xbf use the two characters where the alphabets differ. */
static void test_alphabets(void **state)
{
	static const uint8_t b[] = {0xfb, 0xff, 0xbf, 0xfe};
	char out[16];
	uint8_t dec[8];
	size_t n;

	(void)state;
	assert_int_equal(rp_b64_encode(b, sizeof(b), RP_B64_STD, out, sizeof(out), &n), 0);
	assert_string_equal(out, "+/+//g==");
	assert_int_equal(rp_b64_encode(b, sizeof(b), RP_B64_URL, out, sizeof(out), &n), 0);
	assert_string_equal(out, "-_-__g==");
	assert_int_equal(rp_b64_decode("-_-__g", 6, RP_B64_ANY, dec, sizeof(dec), &n, NULL), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(dec, b, 4);
	assert_int_equal(rp_b64_decode("+/+//g==", 8, RP_B64_ANY, dec, sizeof(dec), &n, NULL), 0);
	assert_memory_equal(dec, b, 4);
	/* exactly-sized output buffer, and one byte too small */
	assert_int_equal(rp_b64_encode(b, 3, RP_B64_STD, out, 5, &n), 0);
	assert_int_equal(rp_b64_encode(b, 3, RP_B64_STD, out, 4, &n), RP_EUSAGE);
}

struct bad_case {
	const char *text;
	int flags;
	int code;
	const char *msg;
};

static void test_decode_errors(void **state)
{
	static const struct bad_case cases[] = {
	    {"Zm9v YmFy", RP_B64_STD, RP_EFORMAT, "invalid character at offset 4"},
	    {"Zm9v\nYmFy", RP_B64_STD, RP_EFORMAT, "invalid character at offset 4"},
	    {"Zm9v*mFy", RP_B64_ANY, RP_EFORMAT, "invalid character at offset 4"},
	    {"Zm9=YmFy", RP_B64_STD, RP_EFORMAT, "invalid character at offset 3"},
	    {"-_-__g==", RP_B64_STD, RP_EFORMAT, "invalid character at offset 0"},
	    {"+/+//g==", RP_B64_URL, RP_EFORMAT, "invalid character at offset 0"},
	    {"+_+__g==", RP_B64_ANY, RP_EFORMAT, "mixed standard and url alphabets at offset 1"},
	    {"Zm8", RP_B64_STD, RP_EFORMAT, "length 3 is not a multiple of 4 (padding missing)"},
	    {"Zg=", RP_B64_STD, RP_EFORMAT, "padding at offset 2 does not complete a group of 4"},
	    {"Zg=", RP_B64_URL, RP_EFORMAT, "padding at offset 2 does not complete a group of 4"},
	    {"Zm8==", RP_B64_URL, RP_EFORMAT, "padding at offset 3 does not complete a group"},
	    {"Zm8=====", RP_B64_STD, RP_EFORMAT, "too much padding at offset 3"},
	    {"Z===", RP_B64_STD, RP_EFORMAT, "too much padding at offset 1"},
	    {"Zm8==", RP_B64_STD, RP_EFORMAT, "does not complete a group of 4"},
	    {"Zm9vZ", RP_B64_URL, RP_EFORMAT, "a single character in the last group at offset 4"},
	    {"Zh==", RP_B64_STD, RP_EFORMAT, "non-zero trailing bits at offset 1"},
	    {"Zm9=", RP_B64_STD, RP_EFORMAT, "non-zero trailing bits at offset 2"},
	    {"Zm9", RP_B64_URL, RP_EFORMAT, "non-zero trailing bits at offset 2"},
	    {"Zg==Zg==", RP_B64_STD, RP_EFORMAT, "invalid character at offset 2"},
	    {"====", RP_B64_STD, RP_EFORMAT, "too much padding at offset 0"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_err err;
		uint8_t out[16];
		size_t n = 77;
		int rc;

		rp_err_init(&err);
		rc = rp_b64_decode(cases[i].text, strlen(cases[i].text), cases[i].flags, out,
				   sizeof(out), &n, &err);
		if (rc != cases[i].code || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu ('%s'): rc %d, message '%s'", i, cases[i].text, rc,
				 err.msg);
		assert_non_null(strstr(err.msg, "base64: "));
		assert_int_equal(n, 77);
	}
}

static void test_sizes(void **state)
{
	struct rp_err err;
	uint8_t out[2];
	size_t n;
	bool ok = true;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_b64_decode("Zm9v", 4, RP_B64_STD, out, sizeof(out), &n, &err),
			 RP_EUSAGE);
	assert_non_null(strstr(err.msg, "output buffer of 2 bytes is too small"));
	assert_int_equal(rp_b64_encoded_len(SIZE_MAX, RP_B64_STD, &ok), 0);
	assert_false(ok);
	assert_int_equal(rp_b64_encoded_len(SIZE_MAX / 4 * 3, RP_B64_STD, &ok), 0);
	assert_false(ok);
	assert_int_equal(rp_b64_encode(out, SIZE_MAX, RP_B64_STD, (char *)out, 1, &n), RP_EUSAGE);
	assert_int_equal(rp_b64_decoded_max(SIZE_MAX), SIZE_MAX / 4 * 3 + 2);
	/* the empty text decodes to nothing, in every mode */
	assert_int_equal(rp_b64_decode("", 0, RP_B64_STD, out, 0, &n, NULL), 0);
	assert_int_equal(n, 0);
}

/* Every byte string up to 5 bytes round-trips in both alphabets with and without padding. */
static void test_roundtrip(void **state)
{
	static const int modes[] = {RP_B64_STD, RP_B64_URL, RP_B64_NOPAD,
				    RP_B64_URL | RP_B64_NOPAD};
	uint8_t in[5], dec[8];
	char enc[16];
	unsigned v;
	size_t len, m;

	(void)state;
	for (v = 0; v < 70000; v += 7) {
		for (len = 0; len <= sizeof(in); len++) {
			in[0] = (uint8_t)v;
			in[1] = (uint8_t)(v >> 8);
			in[2] = (uint8_t)(v * 31);
			in[3] = (uint8_t)(v >> 3);
			in[4] = (uint8_t)~v;
			for (m = 0; m < 4; m++) {
				size_t n, d;

				assert_int_equal(
				    rp_b64_encode(in, len, modes[m], enc, sizeof(enc), &n), 0);
				assert_int_equal(
				    rp_b64_decode(enc, n, modes[m], dec, sizeof(dec), &d, NULL), 0);
				assert_int_equal(d, len);
				assert_memory_equal(dec, in, len);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc_vectors),	  cmocka_unit_test(test_alphabets),
	    cmocka_unit_test(test_decode_errors), cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
