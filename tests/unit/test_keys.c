/*
 * Tests of the key formats and primitives: formats/jwk.c, formats/encdata.c and verify/crypto.c
 * (RFC 3394 and RFC 5649 vectors, AES-256-GCM round trips and tampering, the algorithm/KEK fit).
 * RSA unwrap against independently wrapped keys is tested in tests/integration/test_unwrap.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "common/util.h"
#include "formats/encdata.h"
#include "formats/jwk.h"
#include "verify/crypto.h"

/* ---- AES key wrap vectors ---- */

struct kw_vector {
	const char *alg, *kek, *key, *wrapped;
};

static const struct kw_vector kw_vectors[] = {
    /* RFC 3394 4.1, 4.3, 4.6 */
    {"A128KW", "000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
     "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
    {"A256KW", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
     "00112233445566778899AABBCCDDEEFF", "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
    {"A256KW", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
     "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
     "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
    {"CKM_AES_KEY_WRAP", "000102030405060708090A0B0C0D0E0F1011121314151617",
     "00112233445566778899AABBCCDDEEFF", "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
    /* RFC 5649 section 6 */
    {"CKM_AES_KEY_WRAP_PAD", "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
     "c37b7e6492584340bed12207808941155068f738",
     "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"},
    {"CKM_AES_KEY_WRAP_PAD", "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8", "466f7250617369",
     "afbeb0f07dfbf5419200f2ccb50bb24f"},
};

static void test_kw_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kw_vectors) / sizeof(kw_vectors[0]); i++) {
		uint8_t kek[32], key[64], w[64];
		size_t kl = unit_unhex(kw_vectors[i].kek, kek, sizeof(kek)),
		       yl = unit_unhex(kw_vectors[i].key, key, sizeof(key));
		size_t wl = unit_unhex(kw_vectors[i].wrapped, w, sizeof(w));
		struct rp_kek *k = NULL;
		struct rp_secret out;
		enum rp_wrap_alg alg;
		struct rp_err err;

		assert_int_equal(rp_wrap_alg_parse(kw_vectors[i].alg, &alg, &err), 0);
		assert_int_equal(rp_kek_load(kek, kl, NULL, "kek", &k, &err), 0);
		assert_int_equal(rp_kek_unwrap(k, alg, w, wl, &out, &err), 0);
		assert_int_equal(out.len, yl);
		assert_memory_equal(out.p, key, yl);
		rp_secret_free(&out);
		/* One flipped bit fails the integrity check: exit 5 territory. */
		w[wl / 2] ^= 1;
		assert_int_equal(rp_kek_unwrap(k, alg, w, wl, &out, &err), RP_EAUTH);
		assert_non_null(strstr(err.msg, "integrity check"));
		assert_null(out.p);
		rp_kek_free(k);
	}
}

struct misfit {
	const char *alg;
	size_t kek_len;
	size_t wrapped_len;
	int code;
	const char *msg;
};

static const struct misfit misfits[] = {
    {"RSA-OAEP", 32, 256, RP_EUSAGE, "does not fit kek, a AES-256 key"},
    {"A256KW", 16, 24, RP_EUSAGE, "A256KW needs a 256-bit key"},
    {"A128KW", 32, 24, RP_EUSAGE, "A128KW needs a 128-bit key"},
    {"A256KW", 32, 20, RP_EFORMAT, "the wrapped key has 20 bytes"},
    {"A256KW", 32, 16, RP_EFORMAT, "multiple of 8 from 24"},
    {"CKM_AES_KEY_WRAP_PAD", 32, 8, RP_EFORMAT, "multiple of 8 from 16"},
    {"A256KW", 32, 0, RP_EFORMAT, "the wrapped key is empty"},
};

static void test_misfits(void **state)
{
	uint8_t kek[32] = {1}, w[256] = {2};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(misfits) / sizeof(misfits[0]); i++) {
		struct rp_kek *k = NULL;
		struct rp_secret out;
		enum rp_wrap_alg alg;
		struct rp_err err;

		assert_int_equal(rp_wrap_alg_parse(misfits[i].alg, &alg, &err), 0);
		assert_int_equal(rp_kek_load(kek, misfits[i].kek_len, NULL, "kek", &k, &err), 0);
		assert_int_equal(rp_kek_unwrap(k, alg, w, misfits[i].wrapped_len, &out, &err),
				 misfits[i].code);
		if (!strstr(err.msg, misfits[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, misfits[i].msg);
		rp_kek_free(k);
	}
}

static void test_alg_names(void **state)
{
	enum rp_wrap_alg alg;
	struct rp_err err;

	(void)state;
	assert_int_equal(rp_wrap_alg_parse("RSA-OAEP-256", &alg, &err), 0);
	assert_int_equal(alg, RP_WRAP_RSA_OAEP_256);
	assert_true(rp_wrap_alg_is_rsa(alg));
	assert_int_equal(rp_wrap_alg_parse("rsa-oaep", &alg, &err), RP_EUSAGE);
	assert_non_null(strstr(err.msg, "unknown key wrap algorithm"));
	assert_int_equal(rp_wrap_alg_parse("", &alg, &err), RP_EUSAGE);
}

/* ---- KEK files ---- */

struct bad_kek {
	const char *text;
	int code;
	const char *msg;
};

static const struct bad_kek bad_keks[] = {
    {"not a key at all, just text", RP_EFORMAT, "not a PEM private key, a JWK or a raw AES key"},
    {"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", RP_EFORMAT,
     "not a PEM private key"},
    {"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", RP_EAUTH,
     "kek.file: the private key is encrypted"},
    {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\",\"d\":\"AA\"}", RP_EFORMAT,
     "key type \"EC\" is not supported"},
    {"{\"kty\":\"oct\",\"k\":\"AAAA\"}", RP_EFORMAT, "the oct key \"k\" has 3 bytes"},
    {"{\"kty\":\"oct\",\"k\":\"AA!A\"}", RP_EFORMAT, "jwk: member \"k\""},
    {"{\"kty\":\"oct\"}", RP_EFORMAT, "member \"k\" is missing"},
    {"{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", RP_EFORMAT, "no private exponent"},
    {"{\"kty\":7}", RP_EFORMAT, "\"kty\" is missing or not a string"},
    {"{\"kty\":\"RSA\",", RP_EFORMAT, "jwk"},
    {"[1,2,3]", RP_EFORMAT, "not a PEM private key, a JWK"},
    {"{} ", RP_EFORMAT, "\"kty\" is missing"},
};

static void test_bad_keks(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_keks) / sizeof(bad_keks[0]); i++) {
		struct rp_kek *k = NULL;
		struct rp_err err;
		int rc = rp_kek_load((const uint8_t *)bad_keks[i].text, strlen(bad_keks[i].text),
				     NULL, "kek.file", &k, &err);

		if (rc != bad_keks[i].code || !strstr(err.msg, bad_keks[i].msg))
			fail_msg("case %zu: rc %d '%s', want %d '%s'", i, rc, err.msg,
				 bad_keks[i].code, bad_keks[i].msg);
		assert_null(k);
		/* The library states the fact; the command line names --kek-pass-file. */
		assert_int_equal(err.hint,
				 bad_keks[i].code == RP_EAUTH ? RP_H_KEK_PASS : RP_H_NONE);
	}
}

static void test_jwk_oct(void **state)
{
	const char *t = "{\"kty\":\"oct\",\"kid\":\"k1\",\"k\":\"AAECAwQFBgcICQoLDA0ODw\"}";
	struct rp_jwk j;
	struct rp_err err;

	(void)state;
	assert_int_equal(rp_jwk_parse(t, strlen(t), &j, &err), 0);
	assert_int_equal(j.kty, RP_JWK_OCT);
	assert_int_equal(j.k.len, 16);
	assert_int_equal(j.k.p[15], 15);
	assert_string_equal(j.kid, "k1");
	rp_jwk_release(&j);
}

/* ---- AES-256-GCM ---- */

static void test_gcm(void **state)
{
	uint8_t key[32], nonce[12], tag[16], buf[1000], orig[1000];
	struct rp_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	memset(nonce, 7, sizeof(nonce));
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = orig[i] = (uint8_t)(i * 31);
	assert_int_equal(rp_gcm_encrypt(key, nonce, buf, sizeof(buf), tag, &err), 0);
	assert_memory_not_equal(buf, orig, sizeof(buf));
	assert_int_equal(rp_gcm_decrypt(key, nonce, buf, sizeof(buf), tag, &err), 0);
	assert_memory_equal(buf, orig, sizeof(buf));
	assert_int_equal(rp_gcm_encrypt(key, nonce, buf, sizeof(buf), tag, &err), 0);
	buf[500] ^= 0x80;
	assert_int_equal(rp_gcm_decrypt(key, nonce, buf, sizeof(buf), tag, &err), RP_EVERIFY);
	assert_non_null(strstr(err.msg, "authentication tag does not match"));
	assert_int_equal(rp_err_reason_of(&err), RP_R_DECRYPT_TAG);
}

/* ---- encryptiondata ---- */

#define ED_GOOD                                                                                    \
	"{\"EncryptionMode\":\"FullBlob\",\"WrappedContentKey\":{\"KeyId\":\"local:kek1\","        \
	"\"EncryptedKey\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJw==\","           \
	"\"Algorithm\":\"A256KW\"},\"EncryptionAgent\":{\"Protocol\":\"2.0\","                     \
	"\"EncryptionAlgorithm\":\"AES_GCM_256\"},\"EncryptedRegionInfo\":{\"DataLength\":"        \
	"4194304,"                                                                                 \
	"\"NonceLength\":12},\"KeyWrappingMetadata\":{\"EncryptionLibrary\":\"test\"}}"

static void test_encdata_good(void **state)
{
	struct rp_encdata ed;
	struct rp_err err;
	uint64_t plain;
	uint8_t cek[40] = {'2', '.', '0', 0, 0, 0, 0, 0};

	(void)state;
	assert_int_equal(rp_encdata_parse(ED_GOOD, strlen(ED_GOOD), &ed, &err), 0);
	assert_string_equal(ed.protocol, "2.0");
	assert_string_equal(ed.wrap_alg, "A256KW");
	assert_string_equal(ed.key_id, "local:kek1");
	assert_int_equal(ed.wrapped_len, 40);
	assert_int_equal(ed.region_len, 4194304);
	/* geometry: two full regions and one of 100 bytes */
	assert_int_equal(rp_encdata_plain_size(&ed, 2 * (4194304 + 28) + 128, &plain, &err), 0);
	assert_int_equal(plain, 2 * 4194304 + 100);
	assert_int_equal(rp_encdata_plain_size(&ed, 0, &plain, &err), 0);
	assert_int_equal(plain, 0);
	assert_int_equal(rp_encdata_plain_size(&ed, 4194304 + 28 + 28, &plain, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "last region holds 28 bytes"));
	assert_int_equal(rp_encdata_check_cek(&ed, cek, sizeof(cek), &err), 0);
	cek[2] = '1';
	assert_int_equal(rp_encdata_check_cek(&ed, cek, sizeof(cek), &err), RP_EVERIFY);
	assert_non_null(strstr(err.msg, "tampered"));
	assert_int_equal(rp_encdata_check_cek(&ed, cek, 32, &err), RP_EVERIFY);
}

struct ed_case {
	const char *from, *to, *msg;
};

static const struct ed_case ed_cases[] = {
    {"\"Protocol\":\"2.0\"", "\"Protocol\":\"1.0\"", "protocol 1.0 (AES-CBC) is refused"},
    {"\"Protocol\":\"2.0\"", "\"Protocol\":\"3.0\"", "Protocol is not 2.0 or 2.1"},
    {"\"Protocol\":\"2.0\"", "\"Protocol\":2", "\"EncryptionAgent.Protocol\" is missing"},
    {"AES_GCM_256", "AES_CBC_256", "EncryptionAlgorithm is not AES_GCM_256"},
    {"FullBlob", "Partial", "EncryptionMode is not FullBlob"},
    {"\"NonceLength\":12", "\"NonceLength\":16", "NonceLength must be 12"},
    {"\"DataLength\":4194304", "\"DataLength\":0", "DataLength must be an integer"},
    {"\"DataLength\":4194304", "\"DataLength\":67108865", "DataLength must be an integer"},
    {"\"DataLength\":4194304", "\"DataLength\":\"4\"", "DataLength must be an integer"},
    {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJw==", "AAEC*", "EncryptedKey"},
    {"\"KeyId\":\"local:kek1\",", "", "\"WrappedContentKey.KeyId\" is missing"},
    {"\"KeyId\":\"local:kek1\"", "\"KeyId\":\"\"", "KeyId\" has 0 bytes"},
    {"\"WrappedContentKey\":{", "\"X\":{", "\"WrappedContentKey\" is missing"},
    {"{\"EncryptionMode\"", "[{\"EncryptionMode\"", "encryptiondata"},
};

static void test_encdata_bad(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ed_cases) / sizeof(ed_cases[0]); i++) {
		char buf[1024];
		const char *at = strstr(ED_GOOD, ed_cases[i].from);
		struct rp_encdata ed;
		struct rp_err err;
		size_t pre;
		int rc;

		assert_non_null(at);
		pre = (size_t)(at - ED_GOOD);
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)pre, ED_GOOD, ed_cases[i].to,
			 at + strlen(ed_cases[i].from));
		rc = rp_encdata_parse(buf, strlen(buf), &ed, &err);
		if (rc != RP_EFORMAT || !strstr(err.msg, ed_cases[i].msg))
			fail_msg("case %zu: rc %d '%s', want '%s'", i, rc, err.msg,
				 ed_cases[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kw_vectors),	 cmocka_unit_test(test_misfits),
	    cmocka_unit_test(test_alg_names),	 cmocka_unit_test(test_bad_keks),
	    cmocka_unit_test(test_jwk_oct),	 cmocka_unit_test(test_gcm),
	    cmocka_unit_test(test_encdata_good), cmocka_unit_test(test_encdata_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
