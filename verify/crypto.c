#include "verify/crypto.h"

#include "common/json.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

struct rp_kek {
	EVP_PKEY *rsa;	      /* or NULL */
	struct rp_secret aes; /* 16, 24 or 32 bytes when rsa is NULL */
	char describe[32];
	char name[512];
};

static const char *const alg_names[RP_WRAP_COUNT] = {
    "RSA-OAEP", "RSA-OAEP-256", "RSA1_5",	    "A128KW",
    "A192KW",	"A256KW",	"CKM_AES_KEY_WRAP", "CKM_AES_KEY_WRAP_PAD",
};

const char *rp_wrap_alg_name(enum rp_wrap_alg alg)
{
	return (unsigned)alg < RP_WRAP_COUNT ? alg_names[alg] : "?";
}

int rp_wrap_alg_parse(const char *name, enum rp_wrap_alg *alg, struct rp_err *err)
{
	unsigned i;

	for (i = 0; i < RP_WRAP_COUNT; i++)
		if (strcmp(name, alg_names[i]) == 0) {
			*alg = (enum rp_wrap_alg)i;
			return 0;
		}
	return rp_err_set(err, RP_EUSAGE,
			  "unknown key wrap algorithm (known: RSA-OAEP, RSA-OAEP-256, RSA1_5, "
			  "A128KW, A192KW, A256KW, CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD)");
}

bool rp_wrap_alg_is_rsa(enum rp_wrap_alg alg)
{
	return alg == RP_WRAP_RSA_OAEP || alg == RP_WRAP_RSA_OAEP_256 || alg == RP_WRAP_RSA1_5;
}

/* OpenSSL's reason for the last failure, without data (its strings carry none). */
static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown error";
}

static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	const struct rp_secret *pass = u;
	size_t n;

	(void)rwflag;
	if (!pass || !pass->p || size <= 0)
		return -1;
	n = pass->len;
	/* A passphrase file ends with one newline, as echo writes it: not part of it. */
	if (n && pass->p[n - 1] == '\n')
		n--;
	if (n && pass->p[n - 1] == '\r')
		n--;
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pass->p, n);
	return (int)n;
}

static int kek_new(const char *name, struct rp_kek **out, struct rp_err *err)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return rp_err_set(err, RP_EIO, "out of memory");
	snprintf((*out)->name, sizeof((*out)->name), "%s", name);
	return 0;
}

static int load_pem(const uint8_t *buf, size_t len, const struct rp_secret *pass, struct rp_kek *k,
		    struct rp_err *err)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	bool encrypted = memmem(buf, len, "ENCRYPTED", 9) != NULL;

	if (!bio)
		return rp_err_set(err, RP_EIO, "out of memory");
	ERR_clear_error();
	k->rsa = PEM_read_bio_PrivateKey(bio, NULL, pem_pass_cb, (void *)pass);
	BIO_free(bio);
	if (!k->rsa) {
		if (encrypted && !pass)
			return rp_err_set_hint(err, RP_EAUTH, RP_H_KEK_PASS,
					       "%s: the private key is encrypted", k->name);
		if (encrypted)
			return rp_err_set(
			    err, RP_EAUTH,
			    "%s: the passphrase does not decrypt the private key (%s)", k->name,
			    ossl_reason());
		return rp_err_set(err, RP_EFORMAT, "%s: not a PEM private key (%s)", k->name,
				  ossl_reason());
	}
	if (!EVP_PKEY_is_a(k->rsa, "RSA"))
		return rp_err_set(err, RP_EFORMAT, "%s: a %s key; only RSA keys unwrap", k->name,
				  EVP_PKEY_get0_type_name(k->rsa));
	return 0;
}

static int load_jwk_rsa(const struct rp_jwk *j, struct rp_kek *k, struct rp_err *err)
{
	static const char *const params[RP_JWK_RSA_MEMBERS] = {
	    OSSL_PKEY_PARAM_RSA_N,	   OSSL_PKEY_PARAM_RSA_E,
	    OSSL_PKEY_PARAM_RSA_D,	   OSSL_PKEY_PARAM_RSA_FACTOR1,
	    OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
	    OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *p = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *bn[RP_JWK_RSA_MEMBERS] = {0};
	int i, rc = RP_EFORMAT;

	if (!bld)
		return rp_err_set(err, RP_EIO, "out of memory");
	for (i = 0; i < RP_JWK_RSA_MEMBERS; i++) {
		if (!j->rsa[i].p)
			continue;
		bn[i] = i == RP_JWK_N || i == RP_JWK_E
			    ? BN_bin2bn(j->rsa[i].p, (int)j->rsa[i].len, NULL)
			    : BN_secure_new();
		if (bn[i] && i != RP_JWK_N && i != RP_JWK_E &&
		    !BN_bin2bn(j->rsa[i].p, (int)j->rsa[i].len, bn[i])) {
			BN_clear_free(bn[i]);
			bn[i] = NULL;
		}
		if (!bn[i] || !OSSL_PARAM_BLD_push_BN(bld, params[i], bn[i])) {
			rp_err_set(err, RP_EIO, "out of memory");
			rc = RP_EIO;
			goto out;
		}
	}
	p = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!p || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &k->rsa, EVP_PKEY_KEYPAIR, p) <= 0) {
		rp_err_set(err, RP_EFORMAT, "%s: the JWK is not a usable RSA private key (%s)",
			   k->name, ossl_reason());
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < RP_JWK_RSA_MEMBERS; i++)
		BN_clear_free(bn[i]);
	OSSL_PARAM_free(p);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* A raw AES key may start with '{' by chance: it is a JWK only if it parses as JSON. */
static bool looks_like_json(const uint8_t *buf, size_t len)
{
	struct rp_json *doc = NULL;
	bool ok = rp_json_parse((const char *)buf, len, &doc, NULL) == 0;

	rp_json_free(doc);
	return ok;
}

int rp_kek_load(const uint8_t *buf, size_t len, const struct rp_secret *pass, const char *name,
		struct rp_kek **out, struct rp_err *err)
{
	struct rp_kek *k;
	size_t i = 0;
	int rc;

	*out = NULL;
	rc = kek_new(name, &k, err);
	if (rc)
		return rc;
	while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
		i++;
	if (len - i >= 10 && memcmp(buf + i, "-----BEGIN", 10) == 0) {
		rc = load_pem(buf, len, pass, k, err);
	} else if (i < len && buf[i] == '{' &&
		   (!(len == 16 || len == 24 || len == 32) || looks_like_json(buf, len))) {
		struct rp_jwk j;

		rc = rp_jwk_parse((const char *)buf, len, &j, err);
		if (rc)
			rp_err_prefix(err, "%s", name);
		else if (j.kty == RP_JWK_RSA)
			rc = load_jwk_rsa(&j, k, err);
		else
			rc = rp_secret_dup(&k->aes, j.k.p, j.k.len, err);
		rp_jwk_release(&j);
	} else if (len == 16 || len == 24 || len == 32) {
		rc = rp_secret_dup(&k->aes, buf, len, err);
	} else {
		rc = rp_err_set(err, RP_EFORMAT,
				"%s: not a PEM private key, a JWK or a raw AES key of 16, 24 or 32 "
				"bytes (it has %zu bytes)",
				name, len);
	}
	if (rc) {
		rp_kek_free(k);
		return rc;
	}
	if (k->rsa)
		snprintf(k->describe, sizeof(k->describe), "RSA-%d", EVP_PKEY_get_bits(k->rsa));
	else
		snprintf(k->describe, sizeof(k->describe), "AES-%zu", k->aes.len * 8);
	*out = k;
	return 0;
}

void rp_kek_free(struct rp_kek *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->rsa);
	rp_secret_free(&k->aes);
	free(k);
}

const char *rp_kek_describe(const struct rp_kek *k)
{
	return k->describe;
}

static int unwrap_rsa(const struct rp_kek *k, enum rp_wrap_alg alg, const uint8_t *in, size_t inlen,
		      struct rp_secret *out, struct rp_err *err)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->rsa, NULL);
	size_t n = 0, modlen = (size_t)EVP_PKEY_get_size(k->rsa);
	const char *md = alg == RP_WRAP_RSA_OAEP_256 ? "SHA256" : "SHA1";
	int rc = RP_EAUTH;

	if (!ctx)
		return rp_err_set(err, RP_EIO, "out of memory");
	/* A length no RSA key of 1024 to 16384 bits wraps to is malformed input, not a wrong
	 * KEK (docs/keys.md: 3 for a wrapped key of impossible length). */
	if (inlen < 128 || inlen > 2048) {
		rc = rp_err_set(err, RP_EFORMAT,
				"the wrapped key has %zu bytes; %s output is as long as the KEK's "
				"modulus, 128 to 2048 bytes",
				inlen, rp_wrap_alg_name(alg));
		goto out;
	}
	if (inlen != modlen) {
		/* The usual wrong KEK: one of another size (a 3072-bit KEK wraps to 384 bytes). */
		rc = rp_err_set(err, RP_EAUTH,
				"%s unwrap with %s (%s) failed: the wrapped key has %zu bytes, but "
				"this key wraps to %zu: it is not the KEK that wrapped it",
				rp_wrap_alg_name(alg), k->name, k->describe, inlen, modlen);
		goto out;
	}
	ERR_clear_error();
	if (EVP_PKEY_decrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(
		ctx, alg == RP_WRAP_RSA1_5 ? RSA_PKCS1_PADDING : RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    (alg != RP_WRAP_RSA1_5 && (EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, md, NULL) <= 0 ||
				       EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, md, NULL) <= 0))) {
		rc = rp_err_set(err, RP_EIO, "%s: cannot set up %s (%s)", k->name,
				rp_wrap_alg_name(alg), ossl_reason());
		goto out;
	}
#ifdef OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION
	/* OpenSSL 3.2+ would answer a wrong key with random bytes (implicit rejection): a
	 * wrong KEK must fail, not give a garbage key. */
	if (alg == RP_WRAP_RSA1_5 &&
	    EVP_PKEY_CTX_ctrl_str(ctx, "rsa_pkcs1_implicit_rejection", "0") <= 0) {
		rc = rp_err_set(err, RP_EIO, "%s: cannot turn off implicit rejection", k->name);
		goto out;
	}
#endif
	rc = rp_secret_alloc(out, modlen, err);
	if (rc)
		goto out;
	n = modlen;
	if (EVP_PKEY_decrypt(ctx, out->p, &n, in, inlen) <= 0) {
		rp_secret_free(out);
		rc =
		    rp_err_set(err, RP_EAUTH,
			       "%s unwrap with %s (%s) failed: the key is not the one that wrapped "
			       "it, or the wrapped key was altered",
			       rp_wrap_alg_name(alg), k->name, k->describe);
		goto out;
	}
	out->len = n;
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

static int unwrap_aes(const struct rp_kek *k, enum rp_wrap_alg alg, const uint8_t *in, size_t inlen,
		      struct rp_secret *out, struct rp_err *err)
{
	bool pad = alg == RP_WRAP_CKM_AES_KEY_WRAP_PAD;
	size_t want = alg == RP_WRAP_A128KW   ? 16
		      : alg == RP_WRAP_A192KW ? 24
		      : alg == RP_WRAP_A256KW ? 32
					      : 0;
	const EVP_CIPHER *c;
	EVP_CIPHER_CTX *ctx;
	int n = 0, fin = 0, rc;

	if (want && k->aes.len != want)
		return rp_err_set(err, RP_EUSAGE, "%s needs a %zu-bit key; %s is %s",
				  rp_wrap_alg_name(alg), want * 8, k->name, k->describe);
	if (inlen % 8 || inlen < (pad ? 16u : 24u) || inlen > 4096)
		return rp_err_set(
		    err, RP_EFORMAT,
		    "the wrapped key has %zu bytes; %s output is a multiple of 8 from "
		    "%u bytes",
		    inlen, rp_wrap_alg_name(alg), pad ? 16u : 24u);
	switch (k->aes.len) {
	case 16:
		c = pad ? EVP_aes_128_wrap_pad() : EVP_aes_128_wrap();
		break;
	case 24:
		c = pad ? EVP_aes_192_wrap_pad() : EVP_aes_192_wrap();
		break;
	default:
		c = pad ? EVP_aes_256_wrap_pad() : EVP_aes_256_wrap();
		break;
	}
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return rp_err_set(err, RP_EIO, "out of memory");
	rc = rp_secret_alloc(out, inlen + 16, err);
	if (rc)
		goto out;
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_DecryptInit_ex(ctx, c, NULL, k->aes.p, NULL) <= 0 ||
	    EVP_DecryptUpdate(ctx, out->p, &n, in, (int)inlen) <= 0 ||
	    EVP_DecryptFinal_ex(ctx, out->p + n, &fin) <= 0) {
		rp_secret_free(out);
		rc = rp_err_set(err, RP_EAUTH,
				"%s unwrap with %s (%s) failed the integrity check: the key is not "
				"the one that wrapped it, or the wrapped key was altered",
				rp_wrap_alg_name(alg), k->name, k->describe);
		goto out;
	}
	out->len = (size_t)n + (size_t)fin;
	rc = 0;
out:
	ERR_clear_error();
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int rp_kek_unwrap(const struct rp_kek *k, enum rp_wrap_alg alg, const uint8_t *in, size_t inlen,
		  struct rp_secret *out, struct rp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (rp_wrap_alg_is_rsa(alg) != (k->rsa != NULL))
		return rp_err_set(err, RP_EUSAGE, "%s does not fit %s, a %s key",
				  rp_wrap_alg_name(alg), k->name, k->describe);
	if (inlen == 0)
		return rp_err_set(err, RP_EFORMAT, "the wrapped key is empty");
	return k->rsa ? unwrap_rsa(k, alg, in, inlen, out, err)
		      : unwrap_aes(k, alg, in, inlen, out, err);
}

static int gcm(bool enc, const uint8_t key[32], const uint8_t nonce[12], uint8_t *buf, size_t len,
	       uint8_t tag[16], struct rp_err *err)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	if (!ctx)
		return rp_err_set(err, RP_EIO, "out of memory");
	if (len > INT_MAX) {
		EVP_CIPHER_CTX_free(ctx);
		return rp_err_set(err, RP_EUSAGE, "region too large");
	}
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc ? 1 : 0) > 0 &&
	     EVP_CipherUpdate(ctx, buf, &n, buf, (int)len) > 0;
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) > 0 &&
		     EVP_CipherFinal_ex(ctx, buf + n, &n) > 0;
	else if (ok)
		ok = EVP_CipherFinal_ex(ctx, buf + n, &n) > 0 &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) > 0;
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	if (!ok && enc)
		return rp_err_set(err, RP_EIO, "aes-256-gcm encryption failed");
	if (!ok)
		return rp_err_set_reason(err, RP_EVERIFY, RP_R_DECRYPT_TAG,
					 "aes-256-gcm authentication tag does not match");
	return 0;
}

int rp_gcm_decrypt(const uint8_t key[32], const uint8_t nonce[12], uint8_t *buf, size_t len,
		   const uint8_t tag[16], struct rp_err *err)
{
	uint8_t t[16];

	memcpy(t, tag, 16);
	return gcm(false, key, nonce, buf, len, t, err);
}

int rp_gcm_encrypt(const uint8_t key[32], const uint8_t nonce[12], uint8_t *buf, size_t len,
		   uint8_t tag[16], struct rp_err *err)
{
	return gcm(true, key, nonce, buf, len, tag, err);
}
