/*
 * Where keys come from (docs/keys.md): a key encryption key (KEK) from a local file or Key Vault /
 * Managed HSM, a wrapped key from a file, text or an ADE BEK secret, and the content key of a
 * client-side encrypted blob. Everything unwrapped lands in struct rp_secret buffers.
 *
 * Reports describe a key by where it came from, its algorithm and its length (struct
 * rp_key_info), never by its bytes.
 */
#ifndef RP_RESTORE_KEYS_H
#define RP_RESTORE_KEYS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secret.h"
#include "formats/encdata.h"
#include "net/auth.h"
#include "net/http.h"

struct rp_key_opts {
	const char *kek_file;		 /* --kek-file: PEM, JWK or raw AES */
	const char *kek_pass_file;	 /* --kek-pass-file: passphrase of an encrypted PEM */
	const char *kek_url;		 /* --kek-url: https://VAULT/keys/NAME[/VERSION] */
	bool allow_rsa1_5;		 /* --allow-rsa1_5 */
	const struct rp_http_opts *http; /* for Key Vault */
	const struct rp_auth_opts *auth;
	volatile sig_atomic_t *stop; /* Key Vault retries end when set (Ctrl-C) */
};

struct rp_key_info {
	char kek[1024];	   /* the KEK: a file path or a key URL (a kid from the vault if known) */
	char kek_type[32]; /* "RSA-2048", "AES-256", "key vault" */
	char alg[32];	   /* the wrap algorithm */
	char secret[1024]; /* the secret URL for an ADE BEK, else "" */
	bool bek_wrapped;  /* the secret was a wrapped BEK */
	size_t len;	   /* bytes of the result */
};

/* True if a KEK is configured (a file or a URL). */
bool rp_keys_have_kek(const struct rp_key_opts *o);

/*
 * Unwrap wrapped[0..wlen) with algorithm alg (JWA name) and the configured KEK; fallback_url
 * (may be NULL) is used as --kek-url when no KEK is configured. RP_EUSAGE when there is no KEK,
 * the algorithm is unknown or does not fit the KEK, or RSA1_5 is not allowed; otherwise as
 * rp_kek_unwrap / rp_kv_unwrap.
 */
int rp_keys_unwrap(const struct rp_key_opts *o, const char *alg, const char *fallback_url,
		   const uint8_t *wrapped, size_t wlen, struct rp_secret *out,
		   struct rp_key_info *info, struct rp_err *err);

/*
 * An ADE BEK from the secret at secret_url: unwrapped with the KEK its tags name (or the
 * configured one, and alg if not NULL), then base64-decoded to the passphrase bytes; a secret
 * without KEK tags is decoded directly. RP_EFORMAT when the value is not base64.
 */
int rp_keys_bek(const struct rp_key_opts *o, const char *secret_url, const char *alg,
		struct rp_secret *passphrase, struct rp_key_info *info, struct rp_err *err);

/*
 * The 32-byte AES key of a client-side encrypted blob: unwrap ed's wrapped key with the
 * configured KEK (the metadata's KeyId is named in messages, never fetched by itself) and check
 * the protocol prefix (RP_EVERIFY on tampering).
 */
int rp_keys_content_key(const struct rp_key_opts *o, const struct rp_encdata *ed,
			struct rp_secret *cek, struct rp_key_info *info, struct rp_err *err);

#endif
