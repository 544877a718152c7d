/*
 * The key adapter: the only file that includes OpenSSL's key and cipher headers (digest.c has
 * the digests). Key encryption keys (an RSA private key from PEM or a JWK, an AES key raw or
 * from a JWK), the unwrap algorithms Key Vault and Managed HSM use (docs/azure.md "Key Vault
 * and Managed HSM"), and AES-256-GCM for client-side encrypted blobs.
 *
 * Unwrapped keys land in struct rp_secret buffers; OpenSSL's own copies of key material are
 * freed with the clear_free variants. Messages name the algorithm and the key, never bytes.
 * A struct rp_kek may be used by several threads at once (read-only after loading).
 */
#ifndef RP_VERIFY_CRYPTO_H
#define RP_VERIFY_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secret.h"
#include "formats/jwk.h"

enum rp_wrap_alg {
	RP_WRAP_RSA_OAEP,     /* SHA-1, MGF1-SHA-1 */
	RP_WRAP_RSA_OAEP_256, /* SHA-256, MGF1-SHA-256 */
	RP_WRAP_RSA1_5,	      /* PKCS#1 v1.5: legacy, refused unless allowed */
	RP_WRAP_A128KW,	      /* RFC 3394 */
	RP_WRAP_A192KW,
	RP_WRAP_A256KW,
	RP_WRAP_CKM_AES_KEY_WRAP,     /* RFC 3394 with any AES key size */
	RP_WRAP_CKM_AES_KEY_WRAP_PAD, /* RFC 5649 */
	RP_WRAP_COUNT,
};

/* The JWA name, e.g. "RSA-OAEP-256". */
const char *rp_wrap_alg_name(enum rp_wrap_alg alg);

/* Parse a JWA name (exact, case-sensitive as Key Vault's). RP_EUSAGE naming the known ones. */
int rp_wrap_alg_parse(const char *name, enum rp_wrap_alg *alg, struct rp_err *err);

bool rp_wrap_alg_is_rsa(enum rp_wrap_alg alg);

struct rp_kek;

/*
 * Load a KEK from a file's bytes: PEM (an RSA private key, PKCS#1 or PKCS#8, encrypted ones
 * with pass, which may be NULL), a JWK (RSA private or oct), or a raw AES key of 16, 24 or 32
 * bytes. name is how messages call the key (a path). RP_EFORMAT for anything else, RP_EAUTH for
 * an encrypted PEM whose passphrase is missing or wrong.
 */
int rp_kek_load(const uint8_t *buf, size_t len, const struct rp_secret *pass, const char *name,
		struct rp_kek **out, struct rp_err *err);
void rp_kek_free(struct rp_kek *k);

/* "RSA-2048" or "AES-256": for reports. */
const char *rp_kek_describe(const struct rp_kek *k);

/*
 * Unwrap in[0..inlen) with the KEK. RP_EUSAGE when the algorithm does not fit the key (an RSA
 * algorithm with an AES key, A256KW with a 128-bit key), RP_EFORMAT when the input cannot be a
 * wrapped key for it (wrong length), RP_EAUTH when the unwrap fails (the KEK is not the one
 * that wrapped it, or the wrapped key was altered).
 */
int rp_kek_unwrap(const struct rp_kek *k, enum rp_wrap_alg alg, const uint8_t *in, size_t inlen,
		  struct rp_secret *out, struct rp_err *err);

/*
 * AES-256-GCM decryption in place of buf[0..len) with a 12-byte nonce and a 16-byte tag, no AAD.
 * 0, or RP_EVERIFY when the tag does not match (the message says so; the caller names the
 * region). buf holds unauthenticated garbage after a failure: never use it.
 */
int rp_gcm_decrypt(const uint8_t key[32], const uint8_t nonce[12], uint8_t *buf, size_t len,
		   const uint8_t tag[16], struct rp_err *err);

/* Encryption, for tests and fixtures only (our own round trips; independent vectors come from
 * Python's cryptography). */
int rp_gcm_encrypt(const uint8_t key[32], const uint8_t nonce[12], uint8_t *buf, size_t len,
		   uint8_t tag[16], struct rp_err *err);

#endif
