/* Unit tests for common/: errors, number and size parsing, encodings, CRC-32C, JSON. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "common/err.h"
#include "common/json.h"
#include "common/problems.h"
#include "common/util.h"

static void test_err_prefix_and_exit(void **state)
{
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_err_set(&err, RP_EVERIFY, "sha256 mismatch (%s)", "x"), RP_EVERIFY);
	rp_err_prefix(&err, "chunk %d at 0x%x", 17, 0x4400000);
	assert_string_equal(err.msg, "chunk 17 at 0x4400000: sha256 mismatch (x)");
	assert_int_equal(rp_err_set(NULL, RP_EIO, "ignored"), RP_EIO);
	assert_int_equal(rp_code_exit(RP_OK), 0);
	assert_int_equal(rp_code_exit(RP_EVERIFY), 1);
	assert_int_equal(rp_code_exit(RP_EUSAGE), 2);
	assert_int_equal(rp_code_exit(RP_EFORMAT), 3);
	assert_int_equal(rp_code_exit(RP_EIO), 4);
	assert_int_equal(rp_code_exit(RP_EAUTH), 5);
	assert_int_equal(rp_code_exit(RP_EINTR), 130);
}

static void test_err_reason(void **state)
{
	struct rp_err err;
	int r;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_err_reason_of(&err), RP_R_NONE);
	/* Set where the failure starts, kept through every prefix. */
	assert_int_equal(rp_err_set_reason(&err, RP_EVERIFY, RP_R_TRANSPORT_HASH, "crc64 differs"),
			 RP_EVERIFY);
	rp_err_prefix(&err, "chunk 3");
	assert_int_equal(rp_err_reason_of(&err), RP_R_TRANSPORT_HASH);
	assert_string_equal(rp_reason_name(rp_err_reason_of(&err)), "transport-hash");
	/* A plain rp_err_set forgets an earlier reason and falls back to the code's. */
	rp_err_set(&err, RP_EFORMAT, "bad footer text that says seal");
	assert_int_equal(rp_err_reason_of(&err), RP_R_FORMAT);
	assert_string_equal(rp_reason_name(rp_err_reason_of(&err)), "format-error");
	assert_int_equal(rp_reason_of_code(RP_EVERIFY), RP_R_SEAL_MISMATCH);
	assert_int_equal(rp_reason_of_code(RP_EINTR), RP_R_INTERRUPTED);
	assert_int_equal(rp_err_set_reason(NULL, RP_EIO, RP_R_TLS, "ignored"), RP_EIO);
	/* Every reason has its own word. */
	for (r = 1; r < RP_R_COUNT; r++) {
		int q;

		assert_non_null(rp_reason_name((enum rp_reason)r));
		for (q = 1; q < r; q++)
			assert_string_not_equal(rp_reason_name((enum rp_reason)r),
						rp_reason_name((enum rp_reason)q));
	}
}

static void test_err_hint(void **state)
{
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(err.hint, RP_H_NONE);
	/* Set with the fact, kept through every prefix, forgotten by the next rp_err_set. */
	assert_int_equal(rp_err_set_hint(&err, RP_EUSAGE, RP_H_KEK, "no key encryption key"),
			 RP_EUSAGE);
	rp_err_prefix(&err, "disk 0");
	assert_int_equal(err.hint, RP_H_KEK);
	assert_string_equal(err.msg, "disk 0: no key encryption key");
	assert_int_equal(rp_err_reason_of(&err), RP_R_USAGE);
	rp_err_set_reason(&err, RP_EIO, RP_R_TLS, "handshake");
	assert_int_equal(err.hint, RP_H_NONE);
	rp_err_set_hint(&err, RP_EAUTH, RP_H_TOKEN, "needs a token");
	rp_err_set(&err, RP_EIO, "later");
	assert_int_equal(err.hint, RP_H_NONE);
	assert_int_equal(rp_err_set_hint(NULL, RP_EIO, RP_H_TOKEN, "ignored"), RP_EIO);
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint64_t value;
		const char *msg;
	} cases[] = {
	    {"0", 0, 0, NULL},
	    {"512", 0, 512, NULL},
	    {"4K", 0, 4096, NULL},
	    {"4M", 0, 4u << 20, NULL},
	    {"4MiB", 0, 4u << 20, NULL},
	    {"2g", 0, 2ull << 30, NULL},
	    {"3T", 0, 3ull << 40, NULL},
	    {"12Q", RP_EUSAGE, 0, "not a size"},
	    {"", RP_EUSAGE, 0, "not a size"},
	    {"-1", RP_EUSAGE, 0, "not a size"},
	    {" 1", RP_EUSAGE, 0, "not a size"},
	    {"4Mx", RP_EUSAGE, 0, "not a size"},
	    {"99999999999999999999", RP_EUSAGE, 0, "too large"},
	    {"16777216T", RP_EUSAGE, 0, "too large"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_err err;
		uint64_t v = 12345;

		rp_err_init(&err);
		assert_int_equal(rp_parse_size(cases[i].text, &v, &err), cases[i].rc);
		if (cases[i].rc == 0) {
			assert_true(v == cases[i].value);
		} else {
			assert_true(v == 12345); /* untouched on failure */
			assert_non_null(strstr(err.msg, cases[i].msg));
		}
	}
}

static void test_parse_u64(void **state)
{
	uint64_t v = 0;
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_parse_u64("18446744073709551615", &v, &err), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(rp_parse_u64("18446744073709551616", &v, &err), RP_EUSAGE);
	assert_non_null(strstr(err.msg, "too large"));
	assert_int_equal(rp_parse_u64("12a", &v, &err), RP_EUSAGE);
	assert_non_null(strstr(err.msg, "not a number"));
	assert_int_equal(rp_parse_u64("+1", &v, &err), RP_EUSAGE);
}

static void test_utf16(void **state)
{
	/* "Aé€" + U+1F600 (surrogate pair), little-endian, then a NUL and junk after it. */
	static const uint8_t le[] = {0x41, 0x00, 0xE9, 0x00, 0xAC, 0x20, 0x3D,
				     0xD8, 0x00, 0xDE, 0x00, 0x00, 0x42, 0x00};
	static const uint8_t be[] = {0x00, 0x41, 0xD8, 0x00}; /* A + unpaired high surrogate */
	char out[32];

	(void)state;
	assert_int_equal(rp_utf16_to_utf8(le, sizeof(le), true, out, sizeof(out)), 0);
	assert_string_equal(out, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
	assert_int_equal(rp_utf16_to_utf8(be, sizeof(be), false, out, sizeof(out)), 0);
	assert_string_equal(out, "A\xEF\xBF\xBD");
	assert_int_equal(rp_utf16_to_utf8(le, sizeof(le), true, out, 4), RP_EFORMAT);
	assert_int_equal(rp_utf16_to_utf8(le, 1, true, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void test_crc32c(void **state)
{
	uint8_t zeros[32] = {0};

	(void)state;
	/* RFC 3720 B.4 and the usual check value. */
	assert_int_equal(rp_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(rp_crc32c(0, zeros, sizeof(zeros)), 0x8A9136AAu);
	/* Running value: two halves give the same as the whole. */
	assert_int_equal(rp_crc32c(rp_crc32c(0, "12345", 5), "6789", 4), 0xE3069283u);
}

static void test_uuid_hex_time(void **state)
{
	static const uint8_t b[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				      0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	char s[RP_UUID_STR], hex[33], t[RP_TIME_STR];
	uint8_t back[16];

	(void)state;
	rp_uuid_format_be(b, s);
	assert_string_equal(s, "00112233-4455-6677-8899-aabbccddeeff");
	rp_guid_format_le(b, s);
	assert_string_equal(s, "33221100-5544-7766-8899-aabbccddeeff");
	rp_hex(b, 16, hex);
	assert_string_equal(hex, "00112233445566778899aabbccddeeff");
	assert_int_equal(rp_unhex("00112233445566778899AABBCCDDEEFF", back, 16), 0);
	assert_memory_equal(back, b, 16);
	assert_int_equal(rp_unhex("0011", back, 16), RP_EFORMAT);
	assert_int_equal(rp_unhex("zz112233445566778899aabbccddeeff", back, 16), RP_EFORMAT);
	assert_int_equal(rp_hex_digit('0'), 0);
	assert_int_equal(rp_hex_digit('f'), 15);
	assert_int_equal(rp_hex_digit('A'), 10);
	assert_int_equal(rp_hex_digit('g'), -1);
	assert_int_equal(rp_hex_digit('%'), -1);
	rp_time_iso(946684800, t);
	assert_string_equal(t, "2000-01-01T00:00:00Z");
	assert_true(rp_is_zero(back, 0));
	memset(back, 0, sizeof(back));
	assert_true(rp_is_zero(back, sizeof(back)));
	back[15] = 1;
	assert_false(rp_is_zero(back, sizeof(back)));
}

static void test_json(void **state)
{
	static const char doc[] = "{\"a\": 1, \"b\": \"x\", \"c\": [true, null], \"d\": -2}";
	struct rp_json *root = NULL, *o;
	struct rp_err err;
	uint64_t u;
	bool b;
	char *text;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_json_parse(doc, strlen(doc), &root, &err), 0);
	assert_int_equal(rp_json_u64(rp_json_get(root, "a"), &u), 0);
	assert_true(u == 1);
	assert_int_equal(rp_json_u64(rp_json_get(root, "d"), &u), RP_EFORMAT);
	assert_int_equal(rp_json_u64(rp_json_get(root, "b"), &u), RP_EFORMAT);
	assert_string_equal(rp_json_string(rp_json_get(root, "b")), "x");
	assert_null(rp_json_string(rp_json_get(root, "a")));
	assert_null(rp_json_get(root, "missing"));
	assert_int_equal(rp_json_array_size(rp_json_get(root, "c")), 2);
	assert_int_equal(rp_json_bool(rp_json_array_at(rp_json_get(root, "c"), 0), &b), 0);
	assert_true(b);
	assert_true(rp_json_is_null(rp_json_array_at(rp_json_get(root, "c"), 1)));
	assert_string_equal(rp_json_object_key_at(root, 2, NULL), "c");
	assert_null(rp_json_object_key_at(root, 4, NULL));
	rp_json_free(root);

	assert_int_equal(rp_json_parse("{\"a\":1,\"a\":2}", 13, &root, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "duplicate"));
	assert_int_equal(rp_json_parse("{\"a\":", 5, &root, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "line 1"));
	/* The text near the error is never quoted: it may be a secret. */
	assert_int_equal(rp_json_parse("{\"sas\": sig=SECRETSIG}", 22, &root, &err), RP_EFORMAT);
	assert_null(strstr(err.msg, "SECRETSIG"));
	/* Nor what jansson decoded from it (an escape), nor a token too long for its quote. */
	assert_int_equal(rp_json_parse("{\"k\": \"\\ud834\\u0041\"}", 22, &root, &err), RP_EFORMAT);
	assert_null(strstr(err.msg, "0041"));
	assert_string_equal(err.msg,
			    "invalid JSON at line 1, column 20: unexpected character or token");
	assert_int_equal(rp_json_parse("[SECRETSIGSECRETSIGSECRETSIG]", 29, &root, &err),
			 RP_EFORMAT);
	assert_null(strstr(err.msg, "SECRETSIG"));
	assert_int_equal(rp_json_parse("{\"a\":", 5, &root, &err), RP_EFORMAT);
	assert_string_equal(err.msg, "invalid JSON at line 1, column 5: the text ends early");

	o = rp_json_new_object();
	assert_int_equal(rp_json_set_str(o, "k", "v"), 0);
	assert_int_equal(rp_json_set_u64(o, "n", 42), 0);
	assert_int_equal(rp_json_set(o, "bad", NULL), RP_EIO);
	text = rp_json_dump(o, false);
	assert_string_equal(text, "{\"k\":\"v\",\"n\":42}");
	free(text);
	rp_json_free(o);
}

static void test_problems(void **state)
{
	struct rp_problems p;
	struct rp_err err;
	int i;

	(void)state;
	rp_problems_init(&p);
	for (i = 0; i < 20; i++)
		assert_int_equal(rp_problems_add(&p, RP_EFORMAT, i % 2 == 0, "problem %d", i), 0);
	rp_err_set(&err, RP_EVERIFY, "from err");
	assert_int_equal(rp_problems_add_err(&p, &err, false), 0);
	assert_int_equal(p.n, 21);
	assert_string_equal(p.v[19].msg, "problem 19");
	assert_true(p.v[0].checksum);
	assert_int_equal(p.v[20].code, RP_EVERIFY);
	rp_problems_release(&p);
	assert_int_equal(p.n, 0);
}

/* One chunk size rule: a multiple of 512 from 4 KiB to 64 MiB. */
static void test_chunk_size(void **state)
{
	static const uint64_t ok[] = {4096, 4608, RP_CHUNK_DEFAULT, 64u << 20};
	static const uint64_t bad[] = {0, 512, 3584, 4097, 5000, (64u << 20) + 512, UINT64_MAX};
	struct rp_err err;
	size_t i;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(RP_CHUNK_DEFAULT, 4u << 20);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(rp_chunk_size_check(ok[i], &err), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rp_chunk_size_check(bad[i], &err), RP_EUSAGE);
	assert_int_equal(rp_chunk_size_check(5000, NULL), RP_EUSAGE);
	assert_int_equal(rp_chunk_size_check(512, &err), RP_EUSAGE);
	assert_string_equal(err.msg, "chunk size 512: a multiple of 512 from 4K to 64M expected");
}

/* The clock moves forward; a sleep lasts its time, or ends at once when told to stop. */
static void test_clock_sleep(void **state)
{
	volatile sig_atomic_t stop = 1;
	double t0 = rp_now_s();
	int64_t m0 = rp_now_ms();

	(void)state;
	rp_sleep_ms(250, NULL);
	assert_true(rp_now_s() - t0 >= 0.25);
	assert_true(rp_now_ms() - m0 >= 250);
	t0 = rp_now_s();
	rp_sleep_ms(5000, &stop);
	assert_true(rp_now_s() - t0 < 1.0);
	stop = 0;
	t0 = rp_now_s();
	rp_sleep_ms(120, &stop);
	assert_true(rp_now_s() - t0 >= 0.12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_err_prefix_and_exit),
	    cmocka_unit_test(test_err_reason),
	    cmocka_unit_test(test_err_hint),
	    cmocka_unit_test(test_parse_size),
	    cmocka_unit_test(test_parse_u64),
	    cmocka_unit_test(test_utf16),
	    cmocka_unit_test(test_crc32c),
	    cmocka_unit_test(test_uuid_hex_time),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_problems),
	    cmocka_unit_test(test_chunk_size),
	    cmocka_unit_test(test_clock_sleep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
