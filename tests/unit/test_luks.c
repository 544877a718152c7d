/*
 * Tests for verify/luks_header.c: the header region span of LUKS1 (the cryptsetup-written
 * testdata/luks1-header.bin, made by testdata/make-parser-vectors.sh, and synthetic phdrs) and
 * LUKS2 (synthetic binary header + JSON area), "need more bytes" answers, table-driven error
 * cases changing one field each, and key reading (passphrase newline rules, key files, volume
 * keys). The libcryptsetup side is tested against cryptsetup by tests/integration/test_luks.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "verify/luks.h"

#define L2_SIZE 16384u

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* A LUKS1 phdr as cryptsetup lays it out for a 512-bit key: slot k at 8 + 504 k sectors. */
static void make_luks1(uint8_t *b)
{
	unsigned k;

	memset(b, 0, 4096);
	memcpy(b, "LUKS\xba\xbe", 6);
	put_be16(b + 6, 1);
	put_be32(b + 108, 64);
	for (k = 0; k < 8; k++) {
		put_be32(b + 208 + k * 48, k == 0 ? 0x00AC71F3 : 0x0000DEAD);
		put_be32(b + 208 + k * 48 + 40, 8 + 504 * k);
		put_be32(b + 208 + k * 48 + 44, 4000);
	}
}

/* A LUKS2 primary header of 16 KiB with the given JSON text. */
static void make_luks2(uint8_t *b, const char *json)
{
	memset(b, 0, L2_SIZE);
	memcpy(b, "LUKS\xba\xbe", 6);
	put_be16(b + 6, 2);
	put_be64(b + 8, L2_SIZE);
	memcpy(b + 4096, json, strlen(json));
}

static const char good_json[] =
    "{\"keyslots\":{},\"tokens\":{},\"segments\":{},\"digests\":{},"
    "\"config\":{\"json_size\":\"12288\",\"keyslots_size\":\"16744448\"}}";

static void test_luks1_span(void **state)
{
	uint8_t b[4096];
	uint64_t span = 0, need = 0;
	size_t len;
	uint8_t *v;

	(void)state;
	/* cryptsetup's own header: luksHeaderBackup writes 4036 sectors (rounded to 4 KiB) */
	v = unit_testdata("luks1-header.bin", &len);
	assert_int_equal(rp_luks_header_span(v, len, &span, &need, NULL), 0);
	assert_int_equal(span, 4036ull * 512);
	free(v);
	make_luks1(b);
	assert_int_equal(rp_luks_header_span(b, sizeof(b), &span, &need, NULL), 0);
	assert_int_equal(span, (8ull + 504 * 7 + 500) * 512);
	/* too short: asks for the 592-byte phdr */
	assert_int_equal(rp_luks_header_span(b, 300, &span, &need, NULL), 1);
	assert_int_equal(need, 592);
	assert_int_equal(rp_luks_header_span(b, 4, &span, &need, NULL), 1);
	assert_int_equal(need, 4096);
}

static void test_luks2_span(void **state)
{
	uint8_t *b = malloc(L2_SIZE);
	uint64_t span = 0, need = 0;

	(void)state;
	assert_non_null(b);
	make_luks2(b, good_json);
	assert_int_equal(rp_luks_header_span(b, L2_SIZE, &span, &need, NULL), 0);
	assert_int_equal(span, 2ull * L2_SIZE + 16744448);
	/* only the binary header: asks for the whole header */
	assert_int_equal(rp_luks_header_span(b, 4096, &span, &need, NULL), 1);
	assert_int_equal(need, L2_SIZE);
	assert_int_equal(rp_luks_header_span(b, 1000, &span, &need, NULL), 1);
	assert_int_equal(need, 4096);
	/* the secondary header (magic SKUL) gives the same span */
	memcpy(b, "SKUL\xba\xbe", 6);
	span = 0;
	assert_int_equal(rp_luks_header_span(b, L2_SIZE, &span, &need, NULL), 0);
	assert_int_equal(span, 2ull * L2_SIZE + 16744448);
	free(b);
}

struct span_case {
	const char *name;
	unsigned version;
	unsigned off; /* LUKS1: byte offset to patch with a be32; LUKS2: header size field */
	uint64_t value;
	const char *json; /* LUKS2: the JSON text (NULL: good_json) */
	const char *msg;
};

static const struct span_case span_cases[] = {
    {"key bytes 0", 1, 108, 0, NULL, "luks1 header at +108: key bytes 0 is not in [1, 512]"},
    {"key bytes 513", 1, 108, 513, NULL, "key bytes 513 is not in [1, 512]"},
    {"slot 3 stripes 0", 1, 208 + 3 * 48 + 44, 0, NULL,
     "luks1 header at +396: key slot 3 has 0 stripes"},
    {"slot 7 far away", 1, 208 + 7 * 48 + 40, 200000, NULL,
     "key slot 7 material ends at sector 200500, past the 64 MiB we copy"},
    {"version 3", 1, 4, 3, NULL, "luks header at +6: version 3 is not 1 or 2"},
    {"no magic", 1, 0, 0x4e4f5045, NULL, "luks header at +0: no LUKS magic"},
    {"header size not a power of two", 2, 8, 20000, NULL,
     "luks2 header at +8: header size 20000 is not a power of two in [16 KiB, 4 MiB]"},
    {"header size 8 MiB", 2, 8, 8u << 20, NULL, "header size 8388608 is not a power of two"},
    {"header size 8 KiB", 2, 8, 8192, NULL, "header size 8192 is not a power of two"},
    {"json broken", 2, 0, 0, "{\"config\":", "luks2 json area at +4096: invalid JSON"},
    {"no config", 2, 0, 0, "{\"keyslots\":{}}", "luks2 json: no config object"},
    {"config not an object", 2, 0, 0, "{\"config\":[]}", "luks2 json: no config object"},
    {"json_size missing", 2, 0, 0, "{\"config\":{\"keyslots_size\":\"4096\"}}",
     "luks2 json: config.json_size is missing or not a string"},
    {"json_size a number", 2, 0, 0, "{\"config\":{\"json_size\":12288,\"keyslots_size\":\"4096\"}}",
     "config.json_size is missing or not a string"},
    {"json_size wrong", 2, 0, 0, "{\"config\":{\"json_size\":\"4096\",\"keyslots_size\":\"4096\"}}",
     "luks2 json: config.json_size 4096 does not match header size 16384 - 4096"},
    {"keyslots_size not decimal", 2, 0, 0,
     "{\"config\":{\"json_size\":\"12288\",\"keyslots_size\":\"0x1000\"}}",
     "luks2 json: config.keyslots_size is not a decimal number"},
    {"keyslots_size 20 digits", 2, 0, 0,
     "{\"config\":{\"json_size\":\"12288\",\"keyslots_size\":\"99999999999999999999\"}}",
     "config.keyslots_size is not a decimal number"},
    {"keyslots_size unaligned", 2, 0, 0,
     "{\"config\":{\"json_size\":\"12288\",\"keyslots_size\":\"4097\"}}",
     "luks2 json: config.keyslots_size 4097 is not a multiple of 4096 that fits in 64 MiB"},
    {"keyslots_size too big", 2, 0, 0,
     "{\"config\":{\"json_size\":\"12288\",\"keyslots_size\":\"67108864\"}}",
     "config.keyslots_size 67108864 is not a multiple of 4096 that fits in 64 MiB"},
};

static void test_span_errors(void **state)
{
	uint8_t *b = malloc(L2_SIZE);
	uint64_t span, need;
	struct rp_err err;
	size_t i;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < sizeof(span_cases) / sizeof(span_cases[0]); i++) {
		const struct span_case *c = &span_cases[i];

		if (c->version == 1) {
			make_luks1(b);
			if (c->off == 4)
				put_be16(b + 6, (uint16_t)c->value);
			else
				put_be32(b + c->off, (uint32_t)c->value);
		} else {
			make_luks2(b, c->json ? c->json : good_json);
			if (c->off == 8)
				put_be64(b + 8, c->value);
		}
		rp_err_init(&err);
		span = need = 0;
		if (rp_luks_header_span(b, L2_SIZE, &span, &need, &err) != RP_EFORMAT ||
		    !strstr(err.msg, c->msg))
			fail_msg("case '%s': got code %d message '%s', want '%s'", c->name,
				 err.code, err.msg, c->msg);
		assert_int_equal(span, 0);
	}
	free(b);
}

struct key_case {
	const char *name;
	enum rp_luks_key_kind kind;
	const char *data;
	size_t len;
	int code;
	const char *want; /* the key bytes (code 0) or a message part */
	size_t want_len;
};

static const struct key_case key_cases[] = {
    {"passphrase", RP_LUKS_PASSPHRASE, "secret", 6, 0, "secret", 6},
    {"passphrase newline", RP_LUKS_PASSPHRASE, "secret\n", 7, 0, "secret", 6},
    {"passphrase crlf keeps cr", RP_LUKS_PASSPHRASE, "secret\r\n", 8, 0, "secret\r", 7},
    {"passphrase two lines", RP_LUKS_PASSPHRASE, "sec\nret", 7, RP_EUSAGE,
     "passphrase file has more than one line", 0},
    {"passphrase two newlines", RP_LUKS_PASSPHRASE, "secret\n\n", 8, RP_EUSAGE,
     "more than one line", 0},
    {"passphrase only newline", RP_LUKS_PASSPHRASE, "\n", 1, RP_EUSAGE, "the passphrase is empty",
     0},
    {"passphrase empty", RP_LUKS_PASSPHRASE, "", 0, RP_EUSAGE, "the passphrase is empty", 0},
    {"key file keeps newlines", RP_LUKS_KEY_FILE, "a\nb\n", 4, 0, "a\nb\n", 4},
    {"key file binary", RP_LUKS_KEY_FILE, "\0\1\2", 3, 0, "\0\1\2", 3},
    {"key file empty", RP_LUKS_KEY_FILE, "", 0, RP_EUSAGE, "the key file is empty", 0},
    {"volume key", RP_LUKS_VOLUME_KEY, "0123456789abcdef", 16, 0, "0123456789abcdef", 16},
    {"volume key empty", RP_LUKS_VOLUME_KEY, "", 0, RP_EUSAGE, "the volume key is empty", 0},
};

static void test_key_read(void **state)
{
	struct rp_luks_key key;
	struct rp_err err;
	size_t i;
	char *path;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		const struct key_case *c = &key_cases[i];

		path = unit_tmpfile("test_luks_key", c->data, c->len);
		rp_err_init(&err);
		rc = rp_luks_key_read(c->kind, path, &key, &err);
		if (rc != c->code)
			fail_msg("case '%s': code %d, want %d (%s)", c->name, rc, c->code, err.msg);
		if (rc == 0) {
			assert_int_equal(key.data.len, c->want_len);
			assert_memory_equal(key.data.p, c->want, c->want_len);
			assert_int_equal(key.kind, c->kind);
			assert_ptr_equal(key.path, path);
		} else {
			if (!strstr(err.msg, c->want) || !strstr(err.msg, path))
				fail_msg("case '%s': message '%s' lacks '%s' or the path", c->name,
					 err.msg, c->want);
			assert_null(key.data.p);
		}
		rp_luks_key_release(&key);
		rp_luks_key_release(&key); /* twice is harmless */
		unlink(path);
		free(path);
	}
}

static void test_key_limits(void **state)
{
	uint8_t big[RP_LUKS_MAX_VOLUME_KEY + 1];
	struct rp_luks_key key;
	struct rp_err err;
	char *path;

	(void)state;
	memset(big, 0x41, sizeof(big));
	path = unit_tmpfile("test_luks_key", big, sizeof(big));
	rp_err_init(&err);
	assert_int_equal(rp_luks_key_read(RP_LUKS_VOLUME_KEY, path, &key, &err), RP_EUSAGE);
	assert_non_null(strstr(err.msg, "larger than 512 bytes"));
	/* the content is never in the message */
	assert_null(strstr(err.msg, "AAAA"));
	unlink(path);
	free(path);
	rp_err_init(&err);
	assert_int_equal(rp_luks_key_read(RP_LUKS_KEY_FILE, "/nonexistent/key", &key, &err),
			 RP_EUSAGE);
	assert_non_null(strstr(err.msg, "/nonexistent/key: cannot open"));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(rp_luks_outcome_name(RP_LUKS_OPENED), "opened");
	assert_string_equal(rp_luks_outcome_name(RP_LUKS_NO_KEY), "no-key-opened");
	assert_string_equal(rp_luks_outcome_name(RP_LUKS_ERROR), "error");
	assert_string_equal(rp_luks_key_kind_name(RP_LUKS_PASSPHRASE), "passphrase");
	assert_string_equal(rp_luks_key_kind_name(RP_LUKS_KEY_FILE), "key file");
	assert_string_equal(rp_luks_key_kind_name(RP_LUKS_VOLUME_KEY), "volume key");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_luks1_span),	cmocka_unit_test(test_luks2_span),
	    cmocka_unit_test(test_span_errors), cmocka_unit_test(test_key_read),
	    cmocka_unit_test(test_key_limits),	cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
