/*
 * Tests of formats/kvdoc.c: Key Vault wrap/unwrap answers, secrets with ADE tags, error bodies,
 * WWW-Authenticate challenges, vault URLs and the challenge resource check. Each parser gets its
 * good inputs and a table of malformed ones (one changed field each) asserting the code, a piece
 * of the message, and that the out-parameters stay untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "formats/kvdoc.h"

#define KID "https://kv1.vault.azure.net/keys/kek1/0123456789abcdef0123456789abcdef"

struct bad_case {
	const char *in;
	int code;
	const char *msg;
};

static void check_case(size_t i, int rc, const struct rp_err *err, const struct bad_case *c)
{
	if (rc != c->code || !strstr(err->msg, c->msg))
		fail_msg("case %zu (%s): rc %d, message '%s', want %d '%s'", i, c->in, rc, err->msg,
			 c->code, c->msg);
}

static void test_key_result(void **state)
{
	static const char good[] = "{\"kid\":\"" KID "\",\"value\":\"AAECA_-A\"}";
	static const char padded[] = "{\"value\":\"AAECAw==\",\"kid\":\"k\",\"extra\":[1]}";
	static const uint8_t want[] = {0, 1, 2, 3, 0xff, 0x80};
	struct rp_secret v;
	struct rp_err err;
	char kid[200];

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_kvdoc_parse_key_result(good, strlen(good), kid, sizeof(kid), &v, &err),
			 0);
	assert_string_equal(kid, KID);
	assert_int_equal(v.len, sizeof(want));
	assert_memory_equal(v.p, want, sizeof(want));
	rp_secret_free(&v);
	assert_int_equal(
	    rp_kvdoc_parse_key_result(padded, strlen(padded), kid, sizeof(kid), &v, &err), 0);
	assert_string_equal(kid, "k");
	assert_int_equal(v.len, 4);
	rp_secret_free(&v);
}

static void test_key_result_errors(void **state)
{
	static const struct bad_case cases[] = {
	    {"", RP_EFORMAT, "key vault answer: invalid JSON at line"},
	    {"{\"kid\":\"k\",\"value\":\"AA\"", RP_EFORMAT, "key vault answer: invalid JSON"},
	    {"[\"k\",\"AA\"]", RP_EFORMAT, "key vault answer: not a JSON object"},
	    {"{\"kid\":\"k\",\"kid\":\"j\",\"value\":\"AA\"}", RP_EFORMAT, "invalid JSON"},
	    {"{\"value\":\"AAECAw\"}", RP_EFORMAT, "key vault answer: no \"kid\""},
	    {"{\"kid\":7,\"value\":\"AAECAw\"}", RP_EFORMAT, "\"kid\" is not a string"},
	    {"{\"kid\":\"\",\"value\":\"AAECAw\"}", RP_EFORMAT, "\"kid\" is empty"},
	    {"{\"kid\":\"a\\nb\",\"value\":\"AAECAw\"}", RP_EFORMAT,
	     "\"kid\" holds a non-printable character"},
	    {"{\"kid\":\"" KID KID KID "\",\"value\":\"AAECAw\"}", RP_EFORMAT,
	     "\"kid\" is longer than 199 characters"},
	    {"{\"kid\":\"k\"}", RP_EFORMAT, "key vault answer: no \"value\""},
	    {"{\"kid\":\"k\",\"value\":null}", RP_EFORMAT, "\"value\" is not a string"},
	    {"{\"kid\":\"k\",\"value\":\"\"}", RP_EFORMAT, "\"value\" has 0 characters"},
	    {"{\"kid\":\"k\",\"value\":\"AAEC+w\"}", RP_EFORMAT,
	     "key vault answer: \"value\": base64"},
	    {"{\"kid\":\"k\",\"value\":\"AAECAx\"}", RP_EFORMAT, "\"value\": base64"},
	    {"{\"kid\":\"k\",\"value\":\"AAECA\"}", RP_EFORMAT, "\"value\": base64"},
	    {"{\"kid\":\"k\",\"value\":\"AA EC\"}", RP_EFORMAT, "\"value\": base64"},
	    {"{\"kid\":\"k\",\"value\":\"==\"}", RP_EFORMAT, "\"value\""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_secret v;
		struct rp_err err;
		char kid[200];
		int rc;

		memset(&v, 0x5a, sizeof(v));
		memset(kid, 'z', sizeof(kid));
		rp_err_init(&err);
		rc = rp_kvdoc_parse_key_result(cases[i].in, strlen(cases[i].in), kid, sizeof(kid),
					       &v, &err);
		check_case(i, rc, &err, &cases[i]);
		assert_int_equal(kid[0], 'z');
		assert_int_equal(v.len, 0x5a5a5a5a5a5a5a5a);
	}
}

static void test_key_result_limits(void **state)
{
	size_t n = RP_KV_VALUE_MAX + 1, i;
	char *doc = malloc(n + 64);
	struct rp_secret v;
	struct rp_err err;
	char kid[8];

	(void)state;
	assert_non_null(doc);
	memcpy(doc, "{\"kid\":\"k\",\"value\":\"", 20);
	for (i = 0; i < n; i++)
		doc[20 + i] = 'A';
	memcpy(doc + 20 + n, "\"}", 3);
	rp_err_init(&err);
	assert_int_equal(rp_kvdoc_parse_key_result(doc, strlen(doc), kid, sizeof(kid), &v, &err),
			 RP_EFORMAT);
	assert_non_null(strstr(err.msg, "\"value\" has 65537 characters (1 to 65536 allowed)"));
	free(doc);
	/* a NUL inside the body is not the end of the text */
	assert_int_equal(rp_kvdoc_parse_key_result("{\"kid\":\"k\",\"value\":\"AA\"}\0x", 25, kid,
						   sizeof(kid), &v, &err),
			 RP_EFORMAT);
}

#define SECRET_WRAPPED                                                                             \
	"{\"value\":\"c2VjcmV0LXdyYXBwZWQ\",\"contentType\":\"Wrapped BEK\","                      \
	"\"id\":\"https://kv1.vault.azure.net/secrets/bek1/abc\","                                 \
	"\"attributes\":{\"enabled\":true,\"created\":1700000000,\"recoveryLevel\":"               \
	"\"Recoverable\"},"                                                                        \
	"\"tags\":{\"DiskEncryptionKeyEncryptionAlgorithm\":\"RSA-OAEP\","                         \
	"\"DiskEncryptionKeyEncryptionKeyURL\":\"" KID "\","                                       \
	"\"DiskEncryptionKeyFileName\":\"LinuxPassPhraseFileName\",\"MachineName\":\"vm1\","       \
	"\"VolumeType\":\"OS\"}}"

static void test_secret(void **state)
{
	static const char plain[] =
	    "{\"value\":\"cGFzcw==\",\"id\":\"https://kv1.vault.azure.net/secrets/bek2/v\","
	    "\"contentType\":\"BEK\",\"attributes\":{\"enabled\":false},"
	    "\"tags\":{\"DiskEncryptionKeyFileName\":\"LinuxPassPhraseFileName_1_0\"}}";
	static const char bare[] = "{\"value\":\"x\",\"id\":\"i\",\"tags\":null}";
	struct rp_kv_secret s;
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_kvdoc_parse_secret(SECRET_WRAPPED, strlen(SECRET_WRAPPED), &s, &err),
			 0);
	assert_int_equal(s.value.len, 19);
	assert_memory_equal(s.value.p, "c2VjcmV0LXdyYXBwZWQ", 19);
	assert_string_equal(s.id, "https://kv1.vault.azure.net/secrets/bek1/abc");
	assert_string_equal(s.content_type, "Wrapped BEK");
	assert_string_equal(s.kek_alg, "RSA-OAEP");
	assert_string_equal(s.kek_url, KID);
	assert_string_equal(s.file_name, "LinuxPassPhraseFileName");
	assert_string_equal(s.machine_name, "vm1");
	assert_true(s.enabled);
	rp_kv_secret_release(&s);
	assert_null(s.value.p);
	rp_kv_secret_release(&s);

	assert_int_equal(rp_kvdoc_parse_secret(plain, strlen(plain), &s, &err), 0);
	assert_string_equal(s.content_type, "BEK");
	assert_string_equal(s.kek_alg, "");
	assert_string_equal(s.kek_url, "");
	assert_string_equal(s.file_name, "LinuxPassPhraseFileName_1_0");
	assert_false(s.enabled);
	assert_string_equal((const char *)s.value.p, "cGFzcw==");
	rp_kv_secret_release(&s);

	assert_int_equal(rp_kvdoc_parse_secret(bare, strlen(bare), &s, &err), 0);
	assert_true(s.enabled);
	assert_string_equal(s.content_type, "");
	rp_kv_secret_release(&s);
}

static void test_secret_errors(void **state)
{
	static const struct bad_case cases[] = {
	    {"{\"value\":\"x\",\"id\":\"i\"", RP_EFORMAT, "key vault secret: invalid JSON"},
	    {"[\"x\"]", RP_EFORMAT, "key vault secret: not a JSON object"},
	    {"{\"value\":\"x\"}", RP_EFORMAT, "key vault secret: no \"id\""},
	    {"{\"value\":\"x\",\"id\":[]}", RP_EFORMAT, "\"id\" is not a string"},
	    {"{\"value\":\"x\",\"id\":\"\"}", RP_EFORMAT, "\"id\" is empty"},
	    {"{\"value\":\"x\",\"id\":\"i\\u0001\"}", RP_EFORMAT, "\"id\" holds a non-printable"},
	    {"{\"id\":\"i\"}", RP_EFORMAT, "key vault secret: no \"value\""},
	    {"{\"id\":\"i\",\"value\":1}", RP_EFORMAT, "\"value\" is not a string"},
	    {"{\"id\":\"i\",\"value\":\"\"}", RP_EFORMAT, "\"value\" has 0 characters"},
	    {"{\"id\":\"i\",\"value\":\"x\",\"contentType\":true}", RP_EFORMAT,
	     "\"contentType\" is not a string"},
	    {"{\"id\":\"i\",\"value\":\"x\",\"contentType\":"
	     "\"0123456789012345678901234567890123456789012345678901234567890123\"}",
	     RP_EFORMAT, "\"contentType\" is longer than 63 characters"},
	    {"{\"id\":\"i\",\"value\":\"x\",\"attributes\":[]}", RP_EFORMAT,
	     "\"attributes\" is not an object"},
	    {"{\"id\":\"i\",\"value\":\"x\",\"attributes\":{\"enabled\":\"yes\"}}", RP_EFORMAT,
	     "attributes.enabled is not true or false"},
	    {"{\"id\":\"i\",\"value\":\"x\",\"tags\":\"t\"}", RP_EFORMAT,
	     "key vault secret: tags: not an object"},
	    {"{\"id\":\"i\",\"value\":\"x\",\"tags\":{\"DiskEncryptionKeyEncryptionAlgorithm\":1}}",
	     RP_EFORMAT, "tags: \"DiskEncryptionKeyEncryptionAlgorithm\" is not a string"},
	    {"{\"id\":\"i\",\"value\":\"x\",\"tags\":{\"DiskEncryptionKeyEncryptionAlgorithm\":"
	     "\"RSA-OAEP-256-RSA-OAEP-256-RSA-OAEP\"}}",
	     RP_EFORMAT, "\"DiskEncryptionKeyEncryptionAlgorithm\" is longer than 31 characters"},
	    {"{\"id\":\"i\",\"value\":\"x\",\"tags\":{\"DiskEncryptionKeyEncryptionKeyURL\":"
	     "\"a\\tb\"}}",
	     RP_EFORMAT, "\"DiskEncryptionKeyEncryptionKeyURL\" holds a non-printable"},
	    {"{\"id\":\"i\",\"value\":\"x\",\"tags\":{\"DiskEncryptionKeyFileName\":{}}}",
	     RP_EFORMAT, "\"DiskEncryptionKeyFileName\" is not a string"},
	    {"{\"id\":\"i\",\"value\":\"x\",\"tags\":{\"MachineName\":null}}", RP_EFORMAT,
	     "\"MachineName\" is not a string"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_kv_secret s;
		struct rp_err err;
		int rc;

		memset(&s, 'z', sizeof(s));
		rp_err_init(&err);
		rc = rp_kvdoc_parse_secret(cases[i].in, strlen(cases[i].in), &s, &err);
		check_case(i, rc, &err, &cases[i]);
		assert_int_equal(s.id[0], 'z');
	}
}

static void test_error_body(void **state)
{
	static const char disabled[] =
	    "{\"error\":{\"code\":\"Forbidden\",\"message\":\"Operation unwrapKey is not allowed "
	    "on a disabled key.\",\"innererror\":{\"code\":\"KeyDisabled\"}}}";
	static const char nasty[] =
	    "{\"error\":{\"code\":\"Bad\\u001b[31m\",\"message\":\"line1\\r\\n"
	    "line2\\u0007\\t\",\"innererror\":null}}";
	struct rp_kv_error e;
	struct rp_err err;
	char big[1200];
	size_t i;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_kvdoc_parse_error(disabled, strlen(disabled), &e, &err), 0);
	assert_string_equal(e.code, "Forbidden");
	assert_string_equal(e.message, "Operation unwrapKey is not allowed on a disabled key.");
	assert_string_equal(e.inner, "KeyDisabled");
	assert_int_equal(rp_kvdoc_parse_error(nasty, strlen(nasty), &e, &err), 0);
	assert_string_equal(e.code, "Bad [31m");
	assert_string_equal(e.message, "line1  line2");
	assert_string_equal(e.inner, "");
	/* a long message is cut, and never inside a UTF-8 sequence (U+00E9 is 2 bytes) */
	memcpy(big, "{\"error\":{\"code\":\"c\",\"message\":\"", 32);
	for (i = 0; i < 1000; i++)
		big[32 + i] = (i % 2) ? (char)0xa9 : (char)0xc3;
	memcpy(big + 32 + 1000, "\"}}", 4);
	assert_int_equal(rp_kvdoc_parse_error(big, strlen(big), &e, &err), 0);
	assert_int_equal(strlen(e.message), RP_KV_MESSAGE_MAX - 2);
	assert_int_equal((unsigned char)e.message[RP_KV_MESSAGE_MAX - 3], 0xa9);
	assert_int_equal(rp_kvdoc_parse_error("{\"error\":{\"code\":\"c\"}}", 22, &e, &err), 0);
	assert_string_equal(e.message, "");
}

static void test_error_body_errors(void **state)
{
	static const struct bad_case cases[] = {
	    {"<Error><Code>x</Code></Error>", RP_EFORMAT, "key vault error: invalid JSON"},
	    {"[]", RP_EFORMAT, "key vault error: not a JSON object"},
	    {"{}", RP_EFORMAT, "key vault error: no \"error\""},
	    {"{\"error\":\"Forbidden\"}", RP_EFORMAT, "\"error\" is not an object"},
	    {"{\"error\":{\"message\":\"m\"}}", RP_EFORMAT, "error.code is missing"},
	    {"{\"error\":{\"code\":\"\"}}", RP_EFORMAT, "error.code is missing, empty"},
	    {"{\"error\":{\"code\":\"\\u007f\\u0001\"}}", RP_EFORMAT,
	     "error.code holds only control characters"},
	    {"{\"error\":{\"code\":5}}", RP_EFORMAT,
	     "error.code is missing, empty or not a string"},
	    {"{\"error\":{\"code\":\"c\",\"message\":5}}", RP_EFORMAT,
	     "error.message is not a string"},
	    {"{\"error\":{\"code\":\"c\",\"innererror\":\"x\"}}", RP_EFORMAT,
	     "error.innererror is not an object"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_kv_error e;
		struct rp_err err;
		int rc;

		memset(&e, 'z', sizeof(e));
		rp_err_init(&err);
		rc = rp_kvdoc_parse_error(cases[i].in, strlen(cases[i].in), &e, &err);
		check_case(i, rc, &err, &cases[i]);
		assert_int_equal(e.code[0], 'z');
	}
}

static void test_challenge(void **state)
{
	static const struct {
		const char *in, *authority, *resource;
	} good[] = {
	    {"Bearer authorization=\"https://login.microsoftonline.com/72f988bf\", "
	     "resource=\"https://vault.azure.net\"",
	     "https://login.microsoftonline.com/72f988bf", "https://vault.azure.net"},
	    {"bearer authorization_uri=\"https://login.windows.net/t\",scope="
	     "\"https://managedhsm.azure.net/.default\"",
	     "https://login.windows.net/t", "https://managedhsm.azure.net"},
	    {"Bearer  resource=https://vault.azure.net/ , authorization=https://a/t", "https://a/t",
	     "https://vault.azure.net"},
	    {"Bearer realm=\"\", resource=\"https://v\\\"x\", error=\"invalid_token\", PoP "
	     "nonce=\"n\"",
	     "", "https://v\"x"},
	    {"Bearer scope=\"https://x.test/.default\", resource=\"https://vault.test\"", "",
	     "https://vault.test"},
	};
	static const struct bad_case cases[] = {
	    {"", RP_EFORMAT, "WWW-Authenticate: not a Bearer challenge"},
	    {"Basic realm=\"x\"", RP_EFORMAT, "not a Bearer challenge"},
	    {"Bearerx resource=\"https://v\"", RP_EFORMAT, "not a Bearer challenge"},
	    {"Bearer", RP_EFORMAT, "Bearer challenge without resource or scope"},
	    {"Bearer authorization=\"https://a/t\"", RP_EFORMAT, "without resource or scope"},
	    {"Bearer resource=\"\"", RP_EFORMAT, "without resource or scope"},
	    {"Bearer resource=\"/\"", RP_EFORMAT, "without resource or scope"},
	    {"Bearer resource=\"https://v", RP_EFORMAT, "parameter resource: unterminated quoted"},
	    {"Bearer resource=\"https://v\x01\"", RP_EFORMAT, "resource: control character"},
	    {"Bearer resource=\"https://v\" x", RP_EFORMAT, "unexpected character at offset 28"},
	    {"Bearer resource=https://v;x", RP_EFORMAT, "unexpected character at offset 25"},
	    {"Bearer resource=\"https://\xc3\xa9\"", RP_EFORMAT, "non-printable character"},
	    {"Bearer "
	     "resource=\"https://vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
	     "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
	     "vv"
	     "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
	     "vv"
	     "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
	     "vv"
	     "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
	     "vv"
	     "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
	     "vv"
	     "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
	     "vv"
	     "\"",
	     RP_EFORMAT, "parameter resource is longer than 511 characters"},
	    {"Bearer xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=1",
	     RP_EFORMAT, "parameter name at offset 7 is too long"},
	};
	struct rp_kv_challenge c;
	struct rp_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rp_err_init(&err);
		if (rp_kvdoc_parse_challenge(good[i].in, strlen(good[i].in), &c, &err) != 0)
			fail_msg("good %zu: %s", i, err.msg);
		assert_string_equal(c.authority, good[i].authority);
		assert_string_equal(c.resource, good[i].resource);
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		memset(&c, 'z', sizeof(c));
		rp_err_init(&err);
		rc = rp_kvdoc_parse_challenge(cases[i].in, strlen(cases[i].in), &c, &err);
		check_case(i, rc, &err, &cases[i]);
		assert_int_equal(c.resource[0], 'z');
	}
	rp_err_init(&err);
	assert_int_equal(rp_kvdoc_parse_challenge("Bearer resource=\"a\0b\"", 21, &c, &err),
			 RP_EFORMAT);
	assert_non_null(strstr(err.msg, "holds a NUL byte"));
}

static void test_url(void **state)
{
	static const struct {
		const char *url, *kind, *host, *name, *version;
	} good[] = {
	    {"https://kv1.vault.azure.net/keys/kek1", "keys", "kv1.vault.azure.net", "kek1", ""},
	    {"https://KV1.Vault.Azure.NET:8443/keys/kek-1/0123abcd", "keys", "kv1.vault.azure.net",
	     "kek-1", "0123abcd"},
	    {"HTTPS://hsm1.managedhsm.azure.net/secrets/bek1/v", "secrets",
	     "hsm1.managedhsm.azure.net", "bek1", "v"},
	};
	static const struct {
		const char *url, *kind, *msg;
	} bad[] = {
	    {"http://kv1.vault.azure.net/keys/k", "keys",
	     "'http://kv1.vault.azure.net/keys/k' is "
	     "not a key vault key URL: want "
	     "https://HOST/keys/NAME[/VERSION]"},
	    {"https://kv1.vault.azure.net/keys/k?api-version=7.4&sig=SECRET", "keys",
	     "'https://kv1.vault.azure.net/keys/k' is not"},
	    {"https://kv1.vault.azure.net/keys/k#f", "keys", "is not a key vault key URL"},
	    {"https://kv1.vault.azure.net/keys/k/", "keys", "is not"},
	    {"https://kv1.vault.azure.net/keys/k/v/x", "keys", "is not"},
	    {"https://kv1.vault.azure.net/keys/", "keys", "is not"},
	    {"https://kv1.vault.azure.net/keys", "keys", "is not"},
	    {"https://kv1.vault.azure.net/secrets/k", "keys", "is not"},
	    {"https://kv1.vault.azure.net/keys/k", "secrets",
	     "not a key vault secret URL: want "
	     "https://HOST/secrets/"},
	    {"https://kv1.vault.azure.net/keys/k_1", "keys", "is not"},
	    {"https://kv1.vault.azure.net/keys/k%31", "keys", "is not"},
	    {"https://kv1.vault.azure.net/keys/"
	     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	     "kkkk"
	     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
	     "keys", "is not"},
	    {"https:///keys/k", "keys", "is not"},
	    {"https://a..b/keys/k", "keys", "is not"},
	    {"https://kv1.vault.azure.net./keys/k", "keys", "is not"},
	    {"https://user@kv1.vault.azure.net/keys/k", "keys", "is not"},
	    {"https://kv1.vault.azure.net:/keys/k", "keys", "is not"},
	    {"https://kv1.vault.azure.net:80a/keys/k", "keys", "is not"},
	    {"https://kv1.vault.azure.net:123456/keys/k", "keys", "is not"},
	    {"https://[::1]/keys/k", "keys", "is not"},
	    {"https://kv1.vault.azure.net//keys/k", "keys", "is not"},
	};
	struct rp_kv_url u;
	struct rp_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rp_err_init(&err);
		if (rp_kvdoc_parse_url(good[i].url, good[i].kind, &u, &err) != 0)
			fail_msg("good %zu: %s", i, err.msg);
		assert_string_equal(u.host, good[i].host);
		assert_string_equal(u.name, good[i].name);
		assert_string_equal(u.version, good[i].version);
		assert_string_equal(u.object, good[i].url);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;

		memset(&u, 'z', sizeof(u));
		rp_err_init(&err);
		rc = rp_kvdoc_parse_url(bad[i].url, bad[i].kind, &u, &err);
		if (rc != RP_EUSAGE || !strstr(err.msg, bad[i].msg) || strstr(err.msg, "SECRET"))
			fail_msg("bad %zu (%s): rc %d, '%s'", i, bad[i].url, rc, err.msg);
		assert_int_equal(u.host[0], 'z');
	}
}

static void test_resource_fits(void **state)
{
	static const struct {
		const char *resource, *host;
		bool fits;
		const char *rhost;
	} cases[] = {
	    {"https://vault.azure.net", "kv1.vault.azure.net", true, "vault.azure.net"},
	    {"https://Vault.Azure.Net/", "kv1.vault.azure.net", true, "vault.azure.net"},
	    {"https://kv1.vault.azure.net", "kv1.vault.azure.net", true, "kv1.vault.azure.net"},
	    {"https://managedhsm.azure.net", "hsm1.managedhsm.azure.net", true,
	     "managedhsm.azure.net"},
	    {"https://ault.azure.net", "kv1.vault.azure.net", false, "ault.azure.net"},
	    {"https://vault.azure.net", "kv1.vault.azure.net.evil.test", false, "vault.azure.net"},
	    {"https://evil.test", "kv1.vault.azure.net", false, "evil.test"},
	    {"https://net", "kv1.vault.azure.net", false, "net"},
	    {"https://kv2.kv1.vault.azure.net", "kv1.vault.azure.net", false,
	     "kv2.kv1.vault.azure.net"},
	    {"http://vault.azure.net", "kv1.vault.azure.net", false, ""},
	    {"vault.azure.net", "kv1.vault.azure.net", false, ""},
	    {"https://vault.azure.net:443", "kv1.vault.azure.net", false, "vault.azure.net:443"},
	    {"https://", "kv1.vault.azure.net", false, ""},
	};
	char rhost[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool f =
		    rp_kvdoc_resource_fits(cases[i].resource, cases[i].host, rhost, sizeof(rhost));
		if (f != cases[i].fits || strcmp(rhost, cases[i].rhost) != 0)
			fail_msg("case %zu: %s for %s: %d '%s'", i, cases[i].resource,
				 cases[i].host, f, rhost);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_result),
	    cmocka_unit_test(test_key_result_errors),
	    cmocka_unit_test(test_key_result_limits),
	    cmocka_unit_test(test_secret),
	    cmocka_unit_test(test_secret_errors),
	    cmocka_unit_test(test_error_body),
	    cmocka_unit_test(test_error_body_errors),
	    cmocka_unit_test(test_challenge),
	    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_resource_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
