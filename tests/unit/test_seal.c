/*
 * Tests of formats/seal.c: the documented format (docs/seal.md) parsed field by field, every
 * malformed field rejected with RP_EFORMAT and a message naming it, and the writer's output
 * parsed back to the same seal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "common/util.h"
#include "formats/seal.h"

#define HEX_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define HEX_SHA256 "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0"
#define HEX_MD5 "0f0e0d0c0b0a09080706050403020100"
#define HEX_SHA1 "0102030405060708090a0b0c0d0e0f1011121314"

/* The members of a valid seal, in document order; a case replaces or removes one of them. */
enum member {
	M_FORMAT,
	M_VERSION,
	M_TOOL,
	M_CREATED,
	M_SOURCE,
	M_CHUNK_SIZE,
	M_CHUNK_COUNT,
	M_CHUNKS,
	M_DIGESTS,
	M_COUNT
};

static const char *const member_names[M_COUNT] = {
    "format",	  "version",	 "tool",   "created", "source",
    "chunk_size", "chunk_count", "chunks", "digests",
};

static const char *const member_defaults[M_COUNT] = {
    "\"cvmrestore-seal\"",
    "1",
    "\"cvmrestore 0.1.0\"",
    "\"2026-11-28T10:00:00Z\"",
    "{\"name\": \"disk.vhd\", \"format\": \"vhd-fixed\", \"virtual_size\": 10000}",
    "4096",
    "3",
    "[\"" HEX_A "\", \"zero\", \"unallocated\"]",
    "{\"sha256\": \"" HEX_SHA256 "\", \"md5\": \"" HEX_MD5 "\", \"sha1\": \"" HEX_SHA1 "\"}",
};

#define REMOVE ((const char *)1)

/* Build the document with member m replaced by value (REMOVE: left out; NULL: unchanged). */
static char *build_doc(enum member m, const char *value)
{
	size_t cap = 8192, len = 0;
	char *doc = malloc(cap);
	int i;

	assert_non_null(doc);
	len += (size_t)snprintf(doc + len, cap - len, "{");
	for (i = 0; i < M_COUNT; i++) {
		const char *v = (int)m == i && value ? value : member_defaults[i];
		if ((int)m == i && value == REMOVE)
			continue;
		len += (size_t)snprintf(doc + len, cap - len, "%s\"%s\": %s", len > 1 ? ", " : "",
					member_names[i], v);
		assert_true(len < cap);
	}
	len += (size_t)snprintf(doc + len, cap - len, "}");
	assert_true(len < cap);
	return doc;
}

static int parse_text(const char *text, struct rp_seal **out, struct rp_err *err)
{
	return rp_seal_parse(text, strlen(text), out, err);
}

static void test_parse_valid(void **state)
{
	struct rp_seal *s = NULL;
	struct rp_err err;
	char *doc = build_doc(M_COUNT, NULL);
	uint8_t a[32], d[32];
	struct rp_seal_chunk c0, c1, c2;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(parse_text(doc, &s, &err), 0);
	assert_int_equal(s->version, 1);
	assert_string_equal(s->tool, "cvmrestore 0.1.0");
	assert_string_equal(s->created, "2026-11-28T10:00:00Z");
	assert_string_equal(s->source_name, "disk.vhd");
	assert_string_equal(s->source_format, "vhd-fixed");
	assert_int_equal(s->virtual_size, 10000);
	assert_int_equal(s->chunk_size, 4096);
	assert_int_equal(s->chunk_count, 3);
	rp_seal_chunk_get(s, 0, &c0);
	rp_seal_chunk_get(s, 1, &c1);
	rp_seal_chunk_get(s, 2, &c2);
	assert_int_equal(c0.state, RP_CHUNK_DATA);
	assert_int_equal(rp_unhex(HEX_A, a, sizeof(a)), 0);
	assert_memory_equal(c0.sha256, a, 32);
	assert_int_equal(c1.state, RP_CHUNK_ZERO);
	assert_int_equal(c2.state, RP_CHUNK_UNALLOCATED);
	memset(d, 0, sizeof(d));
	assert_memory_equal(c1.sha256, d, 32);
	assert_memory_equal(c2.sha256, d, 32);
	assert_true(s->has_sha256 && s->has_md5 && s->has_sha1);
	assert_int_equal(rp_unhex(HEX_SHA256, d, 32), 0);
	assert_memory_equal(s->sha256, d, 32);
	assert_int_equal(rp_unhex(HEX_MD5, d, 16), 0);
	assert_memory_equal(s->md5, d, 16);
	assert_int_equal(rp_unhex(HEX_SHA1, d, 20), 0);
	assert_memory_equal(s->sha1, d, 20);
	rp_seal_free(s);
	free(doc);
}

/* Valid variations: each must parse, and check() looks at what it changed. */
struct ok_case {
	enum member m;
	const char *value;
};

static void test_parse_valid_variations(void **state)
{
	static const struct ok_case cases[] = {
	    /* uppercase hex digits */
	    {M_CHUNKS, "[\"00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF\","
		       " \"zero\", \"unallocated\"]"},
	    /* the digests object may be empty, and unknown digests are ignored */
	    {M_DIGESTS, "{}"},
	    {M_DIGESTS, "{\"crc64\": \"0011\", \"md5\": \"" HEX_MD5 "\"}"},
	    /* unknown members are ignored, also inside source */
	    {M_TOOL, "\"t\", \"future\": {\"x\": [1, 2]}"},
	    {M_SOURCE, "{\"name\": \"\", \"format\": \"raw\", \"virtual_size\": 10000, "
		       "\"etag\": \"0x1\"}"},
	    /* an exact multiple: 2 chunks of 5120 */
	    {M_CHUNK_SIZE, "5120, \"chunk_count\": 2, \"chunks\": [\"zero\", \"zero\"]"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_seal *s = NULL;
		struct rp_err err;
		char *doc;

		/* M_CHUNK_SIZE's case supplies chunk_count and chunks itself: drop the defaults */
		if (cases[i].m == M_CHUNK_SIZE) {
			doc = malloc(1024);
			assert_non_null(doc);
			snprintf(
			    doc, 1024,
			    "{\"format\": \"cvmrestore-seal\", \"version\": 1, \"tool\": \"t\", "
			    "\"created\": \"c\", \"source\": {\"name\": \"n\", \"format\": "
			    "\"raw\", \"virtual_size\": 10240}, \"chunk_size\": %s, "
			    "\"digests\": {}}",
			    cases[i].value);
		} else {
			doc = build_doc(cases[i].m, cases[i].value);
		}
		rp_err_init(&err);
		if (parse_text(doc, &s, &err) != 0)
			fail_msg("case %zu: %s", i, err.msg);
		if (cases[i].m == M_DIGESTS) {
			assert_false(s->has_sha256);
			assert_false(s->has_sha1);
		}
		if (cases[i].m == M_CHUNKS) {
			struct rp_seal_chunk c;

			rp_seal_chunk_get(s, 0, &c);
			assert_int_equal(c.sha256[8], 0x88);
		}
		if (cases[i].m == M_CHUNK_SIZE)
			assert_int_equal(s->chunk_count, 2);
		rp_seal_free(s);
		free(doc);
	}
}

struct bad_case {
	enum member m;
	const char *value;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
    {M_FORMAT, REMOVE, "seal: format is missing"},
    {M_FORMAT, "5", "seal: format is not a string"},
    {M_FORMAT, "\"qcow2\"", "seal: format 'qcow2' is not 'cvmrestore-seal'"},
    {M_VERSION, REMOVE, "seal: version is missing"},
    {M_VERSION, "3", "seal version 3 is newer than this tool understands"},
    {M_VERSION, "0", "seal: version 0 is not valid"},
    {M_VERSION, "\"1\"", "seal: version is not a non-negative integer"},
    {M_VERSION, "-1", "seal: version is not a non-negative integer"},
    {M_VERSION, "1.0", "seal: version is not a non-negative integer"},
    {M_TOOL, REMOVE, "seal: tool is missing"},
    {M_TOOL, "null", "seal: tool is not a string"},
    {M_CREATED, "\"2026-11-28T10:00:00Z and much more text\"",
     "seal: created is longer than 31 bytes"},
    {M_SOURCE, REMOVE, "seal: source is missing"},
    {M_SOURCE, "[]", "seal: source is not an object"},
    {M_SOURCE, "{\"format\": \"raw\", \"virtual_size\": 10000}", "seal: source.name is missing"},
    {M_SOURCE, "{\"name\": \"n\", \"format\": 1, \"virtual_size\": 10000}",
     "seal: source.format is not a string"},
    {M_SOURCE, "{\"name\": \"n\", \"format\": \"raw\"}", "seal: source.virtual_size is missing"},
    {M_SOURCE, "{\"name\": \"n\", \"format\": \"raw\", \"virtual_size\": \"10000\"}",
     "seal: source.virtual_size is not a non-negative integer"},
    {M_SOURCE, "{\"name\": \"n\", \"format\": \"raw\", \"virtual_size\": 20000}",
     "seal: chunk_count 3 does not match virtual_size 20000 / chunk_size 4096 (5 chunks)"},
    {M_CHUNK_SIZE, REMOVE, "seal: chunk_size is missing"},
    {M_CHUNK_SIZE, "4000", "seal: chunk_size 4000 is not a multiple of 512 between 4096"},
    {M_CHUNK_SIZE, "2048", "seal: chunk_size 2048 is not a multiple of 512"},
    {M_CHUNK_SIZE, "2147483648", "seal: chunk_size 2147483648 is not a multiple of 512"},
    {M_CHUNK_SIZE, "0", "seal: chunk_size 0 is not a multiple of 512"},
    {M_CHUNK_COUNT, "2",
     "seal: chunk_count 2 does not match virtual_size 10000 / chunk_size 4096 (3 chunks)"},
    {M_CHUNK_COUNT, "18446744073709551615", "seal: invalid JSON at line 1, column 240: too big"},
    {M_CHUNK_COUNT, "9223372036854775807", "seal: chunk_count 9223372036854775807 does not match"},
    {M_CHUNK_COUNT, REMOVE, "seal: chunk_count is missing"},
    {M_CHUNKS, REMOVE, "seal: chunks is missing"},
    {M_CHUNKS, "{}", "seal: chunks is not an array"},
    {M_CHUNKS, "[\"zero\", \"zero\"]", "seal: chunks has 2 entries, chunk_count is 3"},
    {M_CHUNKS, "[\"zero\", \"zero\", \"zero\", \"zero\"]",
     "seal: chunks has 4 entries, chunk_count is 3"},
    {M_CHUNKS, "[\"zero\", 5, \"zero\"]", "seal: chunks[1] is not a string"},
    {M_CHUNKS, "[\"zero\", \"zero\", \"xyz\"]",
     "seal: chunks[2]: 'xyz' is not a sha256 digest, 'zero' or 'unallocated'"},
    {M_CHUNKS, "[\"Zero\", \"zero\", \"zero\"]", "seal: chunks[0]: 'Zero' is not a sha256"},
    {M_CHUNKS, "[\"zero\", \"zero\", \"" HEX_A "0\"]", "seal: chunks[2]: '" HEX_A "0' is not"},
    {M_CHUNKS,
     "[\"zero\", \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeef\","
     " \"zero\"]",
     "seal: chunks[1]: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeef' is not"},
    {M_CHUNKS,
     "[\"zero\", \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeg0\","
     " \"zero\"]",
     "seal: chunks[1]: "},
    {M_DIGESTS, REMOVE, "seal: digests is missing"},
    {M_DIGESTS, "[]", "seal: digests is not an object"},
    {M_DIGESTS, "{\"sha256\": \"" HEX_MD5 "\"}",
     "seal: digests.sha256: '" HEX_MD5 "' is not 64 hex digits"},
    {M_DIGESTS, "{\"md5\": \"0f0e0d0c0b0a09080706050403020g00\"}",
     "seal: digests.md5: '0f0e0d0c0b0a09080706050403020g00' is not 32 hex digits"},
    {M_DIGESTS, "{\"sha1\": 5}", "seal: digests.sha1 is not a string"},
    {M_DIGESTS, "{\"sha1\": \"" HEX_SHA1 "00\"}", "seal: digests.sha1: "},
};

static void test_parse_bad_fields(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct rp_seal *s = NULL;
		struct rp_err err;
		char *doc = build_doc(c->m, c->value);
		int rc;

		rp_err_init(&err);
		rc = parse_text(doc, &s, &err);
		if (rc != RP_EFORMAT || !strstr(err.msg, c->msg))
			fail_msg("case %zu (%s): rc %d, message '%s', expected '%s'", i,
				 member_names[c->m], rc, err.msg, c->msg);
		assert_null(s);
		free(doc);
	}
}

static void test_parse_not_a_seal(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
	    {"", "seal: invalid JSON"},
	    {"{\"format\": ", "seal: invalid JSON"},
	    {"[1, 2]", "seal: the document is not a JSON object"},
	    {"\"cvmrestore-seal\"", "seal: invalid JSON at line 1"},
	    {"{\"format\": \"cvmrestore-seal\", \"format\": \"x\"}", "seal: invalid JSON"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_seal *s = NULL;
		struct rp_err err;
		int rc;

		rp_err_init(&err);
		rc = rp_seal_parse(cases[i].text, strlen(cases[i].text), &s, &err);
		if (rc != RP_EFORMAT || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: rc %d, message '%s'", i, rc, err.msg);
		assert_null(s);
	}
}

/* A short document that claims 2^32 chunks is refused before anything is allocated for them. */
static void test_parse_huge_claim(void **state)
{
	static const char doc[] =
	    "{\"format\": \"cvmrestore-seal\", \"version\": 1, \"tool\": \"t\", "
	    "\"created\": \"c\", \"source\": {\"name\": \"n\", \"format\": \"raw\", "
	    "\"virtual_size\": 4611686018427387904}, \"chunk_size\": 1073741824, "
	    "\"chunk_count\": 4294967296, \"chunks\": [\"zero\"], \"digests\": {}}";
	struct rp_seal *s = NULL;
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(parse_text(doc, &s, &err), RP_EFORMAT);
	assert_string_equal(err.msg, "seal: chunks has 1 entries, chunk_count is 4294967296");
	assert_null(s);
}

static void test_chunks_for(void **state)
{
	(void)state;
	assert_int_equal(rp_seal_chunks_for(0, 4096), 0);
	assert_int_equal(rp_seal_chunks_for(1, 4096), 1);
	assert_int_equal(rp_seal_chunks_for(4096, 4096), 1);
	assert_int_equal(rp_seal_chunks_for(4097, 4096), 2);
	assert_int_equal(rp_seal_chunks_for(UINT64_MAX, 4096), (UINT64_MAX >> 12) + 1);
	assert_int_equal(rp_seal_chunks_for(100, 0), 0);
}

static void test_new_bad_chunk_size(void **state)
{
	static const uint64_t sizes[] = {0, 512, 4095, 4100, 2ull * 1024 * 1024 * 1024, UINT64_MAX};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct rp_seal *s = NULL;
		struct rp_err err;

		rp_err_init(&err);
		assert_int_equal(rp_seal_new(1 << 20, sizes[i], &s, &err), RP_EUSAGE);
		assert_non_null(strstr(err.msg, "is not a multiple of 512 between 4096 and"));
		assert_null(s);
	}
}

/* A seal made in memory, written as JSON and parsed back, is the same seal. */
static void roundtrip(uint64_t virtual_size, uint64_t chunk_size, bool digests, unsigned version)
{
	struct rp_seal *s = NULL, *t = NULL;
	struct rp_json *j = NULL;
	struct rp_err err;
	char *text;
	uint64_t i;

	rp_err_init(&err);
	assert_int_equal(rp_seal_new(virtual_size, chunk_size, &s, &err), 0);
	assert_int_equal(s->chunk_count, rp_seal_chunks_for(virtual_size, chunk_size));
	assert_string_equal(s->tool, "cvmrestore " RP_VERSION);
	assert_int_equal(strlen(s->created), 20);
	snprintf(s->source_name, sizeof(s->source_name), "dir/disk \"1\".vhd");
	snprintf(s->source_format, sizeof(s->source_format), "vhd-dynamic");
	for (i = 0; i < s->chunk_count; i++) {
		struct rp_seal_chunk c = {.state = (uint8_t)(i % 3)};

		/* runs of one state too, so that the version 2 table has runs longer than 1 */
		if (i > 40 && i < 200)
			c.state = i < 100 ? RP_CHUNK_UNALLOCATED : RP_CHUNK_DATA;
		if (c.state == RP_CHUNK_DATA)
			memset(c.sha256, (int)(i * 7 + 1), 32);
		assert_int_equal(rp_seal_chunk_set(s, i, &c, &err), 0);
	}
	s->has_sha256 = s->has_sha1 = digests;
	memset(s->sha256, 0xab, 32);
	memset(s->sha1, 0x5c, 20);
	s->has_identity = digests;
	memset(s->identity, 0x3c, 32);
	assert_int_equal(rp_seal_to_json_version(s, version, &j, &err), 0);
	text = rp_json_dump(j, false);
	assert_non_null(text);
	if (rp_seal_parse(text, strlen(text), &t, &err) != 0)
		fail_msg("%s: %s", err.msg, text);
	assert_int_equal(t->version, version);
	assert_int_equal(t->has_identity, digests);
	if (digests)
		assert_memory_equal(t->identity, s->identity, 32);
	assert_string_equal(t->tool, s->tool);
	assert_string_equal(t->created, s->created);
	assert_string_equal(t->source_name, s->source_name);
	assert_string_equal(t->source_format, s->source_format);
	assert_int_equal(t->virtual_size, virtual_size);
	assert_int_equal(t->chunk_size, chunk_size);
	assert_int_equal(t->chunk_count, s->chunk_count);
	assert_true(rp_seal_chunks_equal(t, s));
	assert_int_equal(t->has_sha256, digests);
	assert_false(t->has_md5);
	assert_int_equal(t->has_sha1, digests);
	if (digests) {
		assert_memory_equal(t->sha256, s->sha256, 32);
		assert_memory_equal(t->sha1, s->sha1, 20);
	}
	free(text);
	rp_json_free(j);
	rp_seal_free(s);
	rp_seal_free(t);
}

static void test_roundtrip(void **state)
{
	(void)state;
	unsigned v;

	for (v = 1; v <= 2; v++) {
		roundtrip(10000, 4096, true, v);
		roundtrip(1ull << 30, 4ull << 20, false, v);
		roundtrip(0, 4096, true, v);
		roundtrip(512, RP_SEAL_MAX_CHUNK, true, v);
		roundtrip(1000 * 4096 + 1, 4096, true, v);
	}
}

static void test_to_json_inconsistent(void **state)
{
	struct rp_seal *s = NULL;
	struct rp_json *j = NULL;
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_seal_new(10000, 4096, &s, &err), 0);
	s->virtual_size = 20000;
	assert_int_equal(rp_seal_to_json(s, &j, &err), RP_EUSAGE);
	assert_non_null(strstr(err.msg, "seal: inconsistent sizes (virtual size 20000"));
	assert_null(j);
	rp_seal_free(s);
}

/* The compact chunks: set in any order, overwrite, turn data into zero and back; every get
 * agrees with a plain array kept beside. */
static void test_chunk_accessors(void **state)
{
	enum { N = 300 };
	struct rp_seal_chunk shadow[N], c;
	struct rp_seal *s = NULL;
	struct rp_err err;
	uint64_t counts[3], want[3] = {0, 0, 0};
	unsigned i, k, x = 12345;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_seal_new((uint64_t)N * 4096, 4096, &s, &err), 0);
	memset(shadow, 0, sizeof(shadow));
	for (i = 0; i < N; i++)
		shadow[i].state = RP_CHUNK_ZERO;
	for (k = 0; k < 5000; k++) {
		x = x * 1103515245u + 12345u;
		i = (x >> 8) % N;
		memset(&c, 0, sizeof(c));
		c.state = (uint8_t)((x >> 20) % 3);
		if (c.state == RP_CHUNK_DATA)
			memset(c.sha256, (int)(k & 0xff), 32);
		assert_int_equal(rp_seal_chunk_set(s, i, &c, &err), 0);
		shadow[i] = c;
	}
	for (i = 0; i < N; i++) {
		rp_seal_chunk_get(s, i, &c);
		assert_int_equal(c.state, shadow[i].state);
		assert_int_equal(rp_seal_chunk_state(s, i), shadow[i].state);
		assert_memory_equal(c.sha256, shadow[i].sha256, 32);
		want[shadow[i].state]++;
	}
	rp_seal_counts(s, counts);
	assert_memory_equal(counts, want, sizeof(want));
	c.state = 7;
	assert_int_equal(rp_seal_chunk_set(s, 0, &c, &err), RP_EUSAGE);
	c.state = RP_CHUNK_ZERO;
	assert_int_equal(rp_seal_chunk_set(s, N, &c, &err), RP_EUSAGE);
	rp_seal_free(s);
}

/* A seal that borrows its digests from a base: set in any order, matching the base or not,
 * cleared and set again; every get agrees with a plain array, the seal equals a plain copy, and
 * a seal that matched the base everywhere equals the base. */
static void test_chunk_borrow(void **state)
{
	enum { N = 300 };
	struct rp_seal_chunk shadow[N], c;
	struct rp_seal *base = NULL, *s = NULL, *plain = NULL, *same = NULL;
	struct rp_err err;
	unsigned i, k, x = 777;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_seal_new((uint64_t)N * 4096, 4096, &base, &err), 0);
	assert_int_equal(rp_seal_new((uint64_t)N * 4096, 4096, &s, &err), 0);
	assert_int_equal(rp_seal_new((uint64_t)N * 4096, 4096, &plain, &err), 0);
	assert_int_equal(rp_seal_new((uint64_t)N * 4096, 4096, &same, &err), 0);
	for (i = 0; i < N; i++) {
		memset(&c, 0, sizeof(c));
		c.state = (uint8_t)(i % 5 == 0 ? RP_CHUNK_UNALLOCATED : i % 3 ? RP_CHUNK_DATA : 0);
		if (c.state == RP_CHUNK_DATA)
			memset(c.sha256, (int)(i & 0xff), 32);
		assert_int_equal(rp_seal_chunk_set(base, i, &c, &err), 0);
	}
	assert_int_equal(rp_seal_borrow(s, base, &err), 0);
	assert_int_equal(rp_seal_borrow(same, base, &err), 0);
	assert_int_equal(rp_seal_borrow(s, base, &err), RP_EUSAGE);  /* once */
	assert_int_equal(rp_seal_borrow(plain, s, &err), RP_EUSAGE); /* no chains */
	for (i = 0; i < N; i++) {
		rp_seal_chunk_get(base, i, &c);
		assert_int_equal(rp_seal_chunk_set(same, i, &c, &err), 0);
		shadow[i].state = RP_CHUNK_ZERO;
		memset(shadow[i].sha256, 0, 32);
	}
	assert_true(rp_seal_chunks_equal(same, base));
	assert_true(rp_seal_chunks_equal(base, same));
	for (k = 0; k < 6000; k++) {
		x = x * 1103515245u + 12345u;
		i = (x >> 8) % N;
		if ((x >> 20) % 2) { /* what the base says, often */
			rp_seal_chunk_get(base, i, &c);
		} else {
			memset(&c, 0, sizeof(c));
			c.state = (uint8_t)((x >> 22) % 3);
			if (c.state == RP_CHUNK_DATA)
				memset(c.sha256, (int)((k * 7) & 0xff), 32);
		}
		assert_int_equal(rp_seal_chunk_set(s, i, &c, &err), 0);
		assert_int_equal(rp_seal_chunk_set(plain, i, &c, &err), 0);
		shadow[i] = c;
	}
	for (i = 0; i < N; i++) {
		const uint8_t *d = rp_seal_chunk_sha(s, i);

		rp_seal_chunk_get(s, i, &c);
		assert_int_equal(c.state, shadow[i].state);
		assert_memory_equal(c.sha256, shadow[i].sha256, 32);
		if (shadow[i].state == RP_CHUNK_DATA)
			assert_memory_equal(d, shadow[i].sha256, 32);
		else
			assert_null(d);
	}
	assert_true(rp_seal_chunks_equal(s, plain));
	assert_true(rp_seal_chunks_equal(plain, s));
	/* a digest that differs in one chunk makes the seals differ */
	rp_seal_chunk_get(base, 1, &c);
	c.sha256[0] ^= 1;
	assert_int_equal(rp_seal_chunk_set(same, 1, &c, &err), 0);
	assert_false(rp_seal_chunks_equal(same, base));
	rp_seal_free(s);
	rp_seal_free(same);
	rp_seal_free(plain);
	rp_seal_free(base);
}

/* A parsed seal keeps its digests in one slab: reading it, then changing chunks of it (data
 * added, replaced and cleared in groups whose digests are in the slab) agrees with a plain seal
 * given the same changes; freeing it frees the slab once (ASan). */
static void test_parsed_slab(void **state)
{
	enum { N = 500 };
	struct rp_seal *a = NULL, *b = NULL;
	struct rp_seal_chunk c, d;
	struct rp_json *j = NULL;
	struct rp_err err;
	unsigned i, k, v, x = 4242;
	char *text;

	(void)state;
	rp_err_init(&err);
	for (v = 1; v <= 2; v++) {
		assert_int_equal(rp_seal_new((uint64_t)N * 4096, 4096, &a, &err), 0);
		for (i = 0; i < N; i++) {
			memset(&c, 0, sizeof(c));
			c.state = (uint8_t)(i % 7 == 0 ? RP_CHUNK_ZERO
					    : i % 3    ? RP_CHUNK_DATA
						       : RP_CHUNK_UNALLOCATED);
			if (c.state == RP_CHUNK_DATA)
				memset(c.sha256, (int)(i & 0xff), 32);
			assert_int_equal(rp_seal_chunk_set(a, i, &c, &err), 0);
		}
		assert_int_equal(rp_seal_to_json_version(a, v, &j, &err), 0);
		text = rp_json_dump(j, false);
		assert_non_null(text);
		assert_int_equal(rp_seal_parse(text, strlen(text), &b, &err), 0);
		assert_non_null(b->slab);
		assert_true(rp_seal_chunks_equal(a, b));
		for (k = 0; k < 4000; k++) {
			x = x * 1103515245u + 12345u;
			i = (x >> 8) % N;
			memset(&c, 0, sizeof(c));
			c.state = (uint8_t)((x >> 20) % 3);
			if (c.state == RP_CHUNK_DATA)
				memset(c.sha256, (int)((k * 13) & 0xff), 32);
			assert_int_equal(rp_seal_chunk_set(a, i, &c, &err), 0);
			assert_int_equal(rp_seal_chunk_set(b, i, &c, &err), 0);
			if (k % 97 == 0)
				assert_true(rp_seal_chunks_equal(a, b));
		}
		for (i = 0; i < N; i++) {
			rp_seal_chunk_get(a, i, &c);
			rp_seal_chunk_get(b, i, &d);
			assert_int_equal(c.state, d.state);
			assert_memory_equal(c.sha256, d.sha256, 32);
		}
		free(text);
		rp_json_free(j);
		rp_seal_free(a);
		rp_seal_free(b);
	}
}

static void test_write_load(void **state)
{
	char dir[4096], path[4200], bad[4200];
	struct rp_seal *s = NULL, *t = NULL;
	struct rp_err err;
	const char *bad_text = "{\"format\": \"cvmrestore-seal\", \"version\": 7}";

	(void)state;
	unit_tmpdir(dir, sizeof(dir), "test_seal");
	snprintf(path, sizeof(path), "%s/disk.seal.json", dir);
	snprintf(bad, sizeof(bad), "%s/bad.seal.json", dir);
	rp_err_init(&err);
	assert_int_equal(rp_seal_new(3 * 4096 + 512, 4096, &s, &err), 0);
	{
		struct rp_seal_chunk c = {.state = RP_CHUNK_DATA};

		assert_int_equal(rp_seal_chunk_set(s, 0, &c, &err), 0);
	}
	assert_int_equal(rp_seal_write(path, s, &err), 0);
	assert_int_equal(rp_seal_load(path, &t, &err), 0);
	assert_int_equal(t->chunk_count, 4);
	assert_int_equal(rp_seal_chunk_state(t, 3), RP_CHUNK_ZERO);
	assert_int_equal(rp_seal_chunk_state(t, 0), RP_CHUNK_DATA);
	rp_seal_free(t);
	t = NULL;

	/* a file that is JSON but not a valid seal: the message names the file and the field */
	unit_write(bad, bad_text, strlen(bad_text));
	assert_int_equal(rp_seal_load(bad, &t, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "bad.seal.json': seal version 7 is newer"));
	assert_null(t);

	assert_int_equal(rp_seal_load("/nonexistent/seal.json", &t, &err), RP_EIO);
	assert_non_null(strstr(err.msg, "cannot open '/nonexistent/seal.json'"));

	/* a write into a missing directory fails with the path in the message */
	assert_int_equal(rp_seal_write("/nonexistent/dir/seal.json", s, &err), RP_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/dir/seal.json"));

	rp_seal_free(s);
	unit_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_valid),
	    cmocka_unit_test(test_parse_valid_variations),
	    cmocka_unit_test(test_parse_bad_fields),
	    cmocka_unit_test(test_parse_not_a_seal),
	    cmocka_unit_test(test_parse_huge_claim),
	    cmocka_unit_test(test_chunks_for),
	    cmocka_unit_test(test_new_bad_chunk_size),
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_to_json_inconsistent),
	    cmocka_unit_test(test_chunk_accessors),
	    cmocka_unit_test(test_chunk_borrow),
	    cmocka_unit_test(test_parsed_slab),
	    cmocka_unit_test(test_write_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
