/*
 * A client of Azure Key Vault and Managed HSM (docs/azure.md "Key Vault and Managed HSM"):
 * unwrapkey with a key, and reading a secret (an ADE BEK with its tags, struct rp_kv_secret from
 * formats/kvdoc.h). Requests go through net/http.c (TLS, --cacert, --resolve,
 * --require-private) with a bearer token from net/auth.c.
 *
 * Authentication: the audience comes from the URL host (*.managedhsm.azure.net:
 * RP_AUDIENCE_HSM, anything else RP_AUDIENCE_VAULT). The first request carries a token when a
 * credential is configured (bearer token file, --identity, client credentials) and none
 * otherwise. A 401 answer's Bearer challenge is accepted only when the host of its resource (or
 * scope without "/.default") is the vault host or a parent domain of it at a label boundary;
 * then, with a credential, a token for that resource is fetched and the request is sent once
 * more. A refused challenge, or an accepted one with no credential to answer it, is RP_EAUTH.
 *
 * Errors (messages name the URL without query; never a token, wrapped or unwrapped bytes or a
 * secret's value):
 *   401, 403                  RP_EAUTH  "key vault: CODE: MESSAGE [INNER] (HTTP S from URL)"
 *   400 on unwrapkey          RP_EAUTH  "key vault could not unwrap with KEY (ALG): CODE: ..."
 *   404                       RP_EUSAGE "key vault: key not found: URL (...)" / "secret not found"
 *   429, 5xx, transport       retried (4 attempts, backoff honouring Retry-After), then RP_EIO
 *   other status             RP_EIO
 *   a 200 body that does not parse   RP_EFORMAT
 * The environment variable RP_KV_RETRY_BASE_MS (tests) sets the first backoff step (default 500).
 *
 * Not thread-safe: one struct rp_kv per thread.
 */
#ifndef RP_NET_KEYVAULT_H
#define RP_NET_KEYVAULT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secret.h"
#include "formats/kvdoc.h"
#include "net/auth.h"
#include "net/http.h"

struct rp_kv;

/*
 * A client. http and auth are copied, but the strings they point to are borrowed: they must
 * outlive the client. auth may be NULL (no credential). RP_EIO if memory runs out.
 */
int rp_kv_new(const struct rp_http_opts *http, const struct rp_auth_opts *auth, struct rp_kv **out,
	      struct rp_err *err);
void rp_kv_free(struct rp_kv *kv); /* NULL: no-op */

/* Stop retrying (RP_EINTR) once *stop is non-zero (set by a signal handler); NULL: never. */
void rp_kv_set_stop(struct rp_kv *kv, volatile sig_atomic_t *stop);

/*
 * Unwrap wrapped[0..wlen) with the key at key_url (https://HOST/keys/NAME[/VERSION]; else
 * RP_EUSAGE naming the URL) and algorithm alg (sent as given: RSA-OAEP, RSA-OAEP-256, RSA1_5,
 * A128KW, ... ; letters, digits, '-' and '_' only). POST {key_url}/unwrapkey?api-version=7.4.
 * On success out gets the unwrapped bytes (allocated; free with rp_secret_free) and kid
 * (kidsz bytes) the answer's kid; on failure neither is touched.
 */
int rp_kv_unwrap(struct rp_kv *kv, const char *key_url, const char *alg, const uint8_t *wrapped,
		 size_t wlen, struct rp_secret *out, char *kid, size_t kidsz, struct rp_err *err);

/*
 * Read the secret at secret_url (https://HOST/secrets/NAME[/VERSION]): GET
 * ...?api-version=7.4. On success *out holds it (release with rp_kv_secret_release); value is
 * the secret's text, not decoded.
 */
int rp_kv_get_secret(struct rp_kv *kv, const char *secret_url, struct rp_kv_secret *out,
		     struct rp_err *err);

#endif
