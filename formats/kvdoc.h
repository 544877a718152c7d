/*
 * Pure parsers of what Azure Key Vault and Managed HSM answer (docs/azure.md "Key Vault and
 * Managed HSM"; the ADE secret: docs/keys.md "ADE: the BEK secret, ..."), and the checks on
 * vault URLs and on the 401 challenge that net/keyvault.c needs:
 *
 *   - a wrapkey/unwrapkey answer {"kid": "..", "value": "<base64url>"} -> kid and bytes;
 *   - a secret answer {"value", "id", "contentType", "attributes": {"enabled"}, "tags": {..}}
 *     with the ADE tags -> struct rp_kv_secret;
 *   - an error body {"error": {"code", "message", "innererror": {"code"}}} -> struct rp_kv_error
 *     (texts truncated, control characters replaced by spaces: the CLI prints them);
 *   - the WWW-Authenticate header: Bearer authorization= / authorization_uri= and resource= /
 *     scope= -> struct rp_kv_challenge.
 *
 * Bodies are (buf, len), need no NUL and may hold anything. Every parser sets its
 * out-parameters only on success and reports RP_EFORMAT naming the field; key material (the
 * unwrapped bytes, a secret's value) is held in struct rp_secret and never put into a message.
 * All functions are thread-safe (no shared state).
 */
#ifndef RP_FORMATS_KVDOC_H
#define RP_FORMATS_KVDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secret.h"

#define RP_KV_NAME_MAX 127 /* key, secret and version names: [0-9a-zA-Z-]{1,127} */
#define RP_KV_HOST_MAX 253
#define RP_KV_URL_MAX 1024
#define RP_KV_VALUE_MAX 65536 /* longest "value" accepted in an answer (characters) */

/*
 * A secret as Key Vault answers GET /secrets/NAME[/VERSION]. value holds the "value" string's
 * bytes exactly (for an ADE BEK: base64 of the passphrase, or the base64url output of wrapkey;
 * not decoded here). Tags absent from the answer are "". enabled is attributes.enabled (true
 * when the answer has no attributes). Release with rp_kv_secret_release().
 */
struct rp_kv_secret {
	struct rp_secret value;
	char id[512];
	char content_type[64];
	char kek_alg[32];	/* tag DiskEncryptionKeyEncryptionAlgorithm */
	char kek_url[1024];	/* tag DiskEncryptionKeyEncryptionKeyURL */
	char file_name[256];	/* tag DiskEncryptionKeyFileName */
	char machine_name[256]; /* tag MachineName */
	bool enabled;
};

/* Wipe and free the value, zero the struct; safe twice and on a zeroed struct. */
void rp_kv_secret_release(struct rp_kv_secret *s);

/*
 * An answer to wrapkey or unwrapkey. kid (kidsz bytes, NUL-terminated) gets "kid" (printable
 * ASCII, non-empty); *value gets the base64url-decoded "value" (allocated here, non-empty; the
 * caller frees it with rp_secret_free). Messages start "key vault answer: ".
 */
int rp_kvdoc_parse_key_result(const char *buf, size_t len, char *kid, size_t kidsz,
			      struct rp_secret *value, struct rp_err *err);

/* A secret answer into *out (see struct rp_kv_secret). Messages start "key vault secret: ". */
int rp_kvdoc_parse_secret(const char *buf, size_t len, struct rp_kv_secret *out,
			  struct rp_err *err);

#define RP_KV_CODE_MAX 128
#define RP_KV_MESSAGE_MAX 512

/* An error body. inner is innererror.code or "". Texts are printable: safe to print. */
struct rp_kv_error {
	char code[RP_KV_CODE_MAX];
	char message[RP_KV_MESSAGE_MAX];
	char inner[RP_KV_CODE_MAX];
};

/* error.code is required (a non-empty string); message and innererror are optional. */
int rp_kvdoc_parse_error(const char *buf, size_t len, struct rp_kv_error *out, struct rp_err *err);

/*
 * A Bearer challenge: authority from authorization= (or authorization_uri=), "" if absent;
 * resource from resource= or, failing that, scope= without its "/.default" suffix, without a
 * trailing '/'. Parameters are token=token or token="quoted-string" (RFC 7235), separated by
 * commas; unknown ones are skipped; the header may end with another challenge (a scheme after
 * a comma), which is ignored. RP_EFORMAT if the scheme is not Bearer or no resource is given.
 */
struct rp_kv_challenge {
	char authority[512];
	char resource[512];
};

int rp_kvdoc_parse_challenge(const char *buf, size_t len, struct rp_kv_challenge *out,
			     struct rp_err *err);

/*
 * A Key Vault object URL https://HOST[:PORT]/KIND/NAME[/VERSION] (KIND "keys" or "secrets"),
 * split into its parts. No user info, query, fragment, trailing '/' or other path; HOST is a DNS
 * name ([0-9a-zA-Z.-], labels not empty); names are [0-9a-zA-Z-]{1,127}. RP_EUSAGE otherwise,
 * with a message quoting the URL (it has no query, so it holds no secret).
 */
struct rp_kv_url {
	char host[RP_KV_HOST_MAX + 1]; /* lowercase, without the port */
	char object[RP_KV_URL_MAX];    /* the URL as given (validated), for requests and messages */
	char name[RP_KV_NAME_MAX + 1];
	char version[RP_KV_NAME_MAX + 1]; /* "" if absent */
};

int rp_kvdoc_parse_url(const char *url, const char *kind, struct rp_kv_url *out,
		       struct rp_err *err);

/*
 * May a challenge's resource speak for vault_host? True when resource is https://RHOST[/...]
 * and RHOST (case-insensitive, at least two labels) equals vault_host or is a suffix of it at a
 * label boundary: kv1.vault.azure.net accepts https://vault.azure.net, not https://ault.azure.net
 * nor https://net. rhost (rhostsz bytes) gets RHOST for messages, or "" if resource is not an
 * https URL.
 */
bool rp_kvdoc_resource_fits(const char *resource, const char *vault_host, char *rhost,
			    size_t rhostsz);

#endif
