#include "net/keyvault.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/base64.h"
#include "common/util.h"
#include "net/retry.h"

#define KV_API "api-version=7.4"
#define KV_ATTEMPTS 4
#define KV_MAX_BODY (1u << 20)
#define KV_WRAPPED_MAX 8192 /* an RSA-16384 block is 2048 bytes; AES-KW of a 4 KiB key fits */
#define KV_HSM_SUFFIX ".managedhsm.azure.net"

struct rp_kv {
	struct rp_http_opts http_opts; /* copy; strings borrowed from the caller */
	struct rp_auth_opts auth_opts;
	bool has_cred;
	struct rp_http *http;
	struct rp_auth *auth; /* for audience, or NULL */
	char audience[512];
	/* The host whose 401 challenge named a resource of its own domain: only it gets the
	 * token (the first request to a host carries none, as Azure's SDKs do, so a URL from a
	 * secret's tag or a typo cannot collect a token). */
	char trusted_host[RP_KV_HOST_MAX + 1];
	unsigned retry_base_ms;
	volatile sig_atomic_t *stop;
};

/* A client for audience: the one we have if it fits, else a new one. */
static int use_audience(struct rp_kv *kv, const char *audience, struct rp_err *err)
{
	struct rp_http_opts token_http;
	struct rp_auth *a = NULL;
	int rc;

	if (kv->auth && strcmp(kv->audience, audience) == 0)
		return 0;
	if (strlen(audience) >= sizeof(kv->audience))
		return rp_err_set(err, RP_EAUTH, "key vault: audience longer than %zu characters",
				  sizeof(kv->audience) - 1);
	/* --require-private guards where keys go (the vault), not where tokens come from: IMDS
	 * is link-local and the token authority is public (as for blobs, restore.c). */
	token_http = kv->http_opts;
	token_http.require_private = false;
	rc = rp_auth_new(&kv->auth_opts, &token_http, audience, &a, err);
	if (rc)
		return rc;
	rp_auth_free(kv->auth);
	kv->auth = a;
	snprintf(kv->audience, sizeof(kv->audience), "%s", audience);
	return 0;
}

int rp_kv_new(const struct rp_http_opts *http, const struct rp_auth_opts *auth, struct rp_kv **out,
	      struct rp_err *err)
{
	struct rp_kv *kv = calloc(1, sizeof(*kv));
	const char *env = getenv("RP_KV_RETRY_BASE_MS");
	uint64_t base = 500;
	int rc;

	if (!kv)
		return rp_err_set(err, RP_EIO, "out of memory");
	if (http)
		kv->http_opts = *http;
	if (auth)
		kv->auth_opts = *auth;
	kv->has_cred = kv->auth_opts.bearer_token_file || kv->auth_opts.identity ||
		       kv->auth_opts.client_credentials;
	if (env && rp_parse_u64(env, &base, NULL) == 0 && base <= 60000)
		kv->retry_base_ms = (unsigned)base;
	else
		kv->retry_base_ms = 500;
	rc = rp_http_new(&kv->http_opts, &kv->http, err);
	/* Made now so that a bad credential option is reported before any request. */
	if (!rc && kv->has_cred)
		rc = use_audience(kv, RP_AUDIENCE_VAULT, err);
	if (rc) {
		rp_kv_free(kv);
		return rc;
	}
	*out = kv;
	return 0;
}

void rp_kv_set_stop(struct rp_kv *kv, volatile sig_atomic_t *stop)
{
	kv->stop = stop;
}

void rp_kv_free(struct rp_kv *kv)
{
	if (!kv)
		return;
	rp_auth_free(kv->auth);
	rp_http_free(kv->http);
	free(kv);
}

static bool host_is_hsm(const char *host)
{
	size_t n = strlen(host), s = strlen(KV_HSM_SUFFIX);

	return n > s && strcmp(host + n - s, KV_HSM_SUFFIX) == 0;
}

/*
 * A 401: accept its challenge (and get a credential for its resource) or say why not. Returns 0
 * when the request should be sent again.
 */
static int take_challenge(struct rp_kv *kv, const struct rp_kv_url *u,
			  const struct rp_http_response *r, struct rp_err *err)
{
	const char *h = rp_http_header(r, "WWW-Authenticate");
	struct rp_kv_challenge c;
	char rhost[RP_KV_HOST_MAX + 1];
	int rc;

	if (!h)
		return rp_err_set(err, RP_EAUTH,
				  "key vault %s answered 401 without a WWW-Authenticate challenge",
				  u->host);
	rc = rp_kvdoc_parse_challenge(h, strlen(h), &c, err);
	if (rc) {
		rp_err_prefix(err, "key vault %s answered 401 with a challenge that does not parse",
			      u->host);
		return RP_EAUTH;
	}
	if (!rp_kvdoc_resource_fits(c.resource, u->host, rhost, sizeof(rhost)))
		return rp_err_set(err, RP_EAUTH,
				  "key vault %s: refused its 401 challenge: the resource host '%s' "
				  "is not %s nor a parent domain of it",
				  u->host, rhost, u->host);
	if (!kv->has_cred)
		return rp_err_set_hint(err, RP_EAUTH, RP_H_TOKEN, "key vault %s needs a token",
				       u->host);
	if (strcmp(kv->trusted_host, u->host) == 0) {
		/* Our token was refused: fetch a new one (a rotated file, an expired token). */
		if (kv->auth)
			rp_auth_invalidate(kv->auth);
	}
	snprintf(kv->trusted_host, sizeof(kv->trusted_host), "%s", u->host);
	if (kv->auth && strcmp(kv->audience, c.resource) == 0)
		return 0;
	return use_audience(kv, c.resource, err);
}

/*
 * Send the request with credentials, challenge handling and retries. 0 with *resp for any
 * answer left to judge (including a 429/5xx after the last attempt); else an error.
 */
static int kv_send(struct rp_kv *kv, const struct rp_kv_url *u, const char *method, const char *url,
		   const char *display, const char *body, size_t blen,
		   struct rp_http_response *resp, struct rp_err *err)
{
	char auth[8192];
	const char *headers[4];
	bool challenged = false;
	unsigned attempt = 0;
	int rc;

	if (kv->has_cred) {
		rc = use_audience(kv, host_is_hsm(u->host) ? RP_AUDIENCE_HSM : RP_AUDIENCE_VAULT,
				  err);
		if (rc)
			return rc;
	}
	for (;;) {
		size_t n = 0;
		long wait = -1;

		if (kv->stop && *kv->stop)
			return rp_err_set(err, RP_EINTR, "interrupted");
		auth[0] = '\0';
		if (kv->has_cred && strcmp(kv->trusted_host, u->host) == 0) {
			rc = rp_auth_header(kv->auth, auth, sizeof(auth), err);
			if (rc) {
				rp_err_prefix(err, "key vault %s", u->host);
				return rc;
			}
			headers[n++] = auth;
		}
		if (body)
			headers[n++] = "Content-Type: application/json";
		headers[n++] = "Accept: application/json";
		headers[n] = NULL;
		rc = rp_http_request(kv->http, method, url, headers, body, blen, KV_MAX_BODY, resp,
				     err);
		rp_wipe(auth, sizeof(auth));
		attempt++;
		if (rc) {
			if (!rp_retry_transport(kv->http, rc) || attempt >= KV_ATTEMPTS) {
				rp_err_prefix(err, "key vault %s", display);
				return rc;
			}
		} else if (resp->status == 401 && !challenged) {
			challenged = true;
			attempt--; /* answering the challenge is not a retry */
			rc = take_challenge(kv, u, resp, err);
			rp_http_response_release(resp);
			if (rc)
				return rc;
			continue;
		} else if (rp_retry_status(resp->status) && attempt < KV_ATTEMPTS) {
			wait = rp_retry_after_ms(resp);
			rp_http_response_release(resp);
		} else {
			return 0;
		}
		rp_sleep_ms(
		    rp_retry_delay_ms(&(struct rp_retry_policy){.base_ms = kv->retry_base_ms},
				      attempt - 1, wait, rp_retry_random()),
		    kv->stop);
	}
}

/*
 * Turn a non-200 answer into the error. kind: "key" or "secret"; alg: the unwrap algorithm, or
 * NULL for a secret.
 */
static int judge(const struct rp_kv_url *u, const char *display, const char *kind, const char *alg,
		 const struct rp_http_response *r, struct rp_err *err)
{
	struct rp_kv_error e;
	char detail[RP_KV_CODE_MAX * 2 + RP_KV_MESSAGE_MAX + 16];
	long s = r->status;

	if (r->body_len && rp_kvdoc_parse_error(r->body, r->body_len, &e, NULL) == 0)
		snprintf(detail, sizeof(detail), "%s%s%s%s%s%s", e.code, e.message[0] ? ": " : "",
			 e.message, e.inner[0] ? " (" : "", e.inner, e.inner[0] ? ")" : "");
	else
		snprintf(detail, sizeof(detail), "no error body");
	if (s == 401 || s == 403)
		return rp_err_set(err, RP_EAUTH, "key vault: %s (HTTP %ld from %s)", detail, s,
				  display);
	if (s == 404)
		return rp_err_set(err, RP_EUSAGE, "key vault: %s not found: %s (%s)", kind,
				  u->object, detail);
	if (s == 400 && alg)
		return rp_err_set(err, RP_EAUTH, "key vault could not unwrap with %s (%s): %s",
				  u->object, alg, detail);
	if (s == 400)
		return rp_err_set(err, RP_EUSAGE, "key vault: %s (HTTP 400 from %s)", detail,
				  display);
	if (rp_retry_status(s))
		return rp_err_set(err, RP_EIO,
				  "key vault: %s (HTTP %ld from %s; gave up after %d attempts)",
				  detail, s, display, KV_ATTEMPTS);
	return rp_err_set(err, RP_EIO, "key vault: unexpected HTTP %ld from %s: %s", s, display,
			  detail);
}

static bool alg_ok(const char *alg)
{
	size_t n = strlen(alg), i;

	if (n == 0 || n > 32)
		return false;
	for (i = 0; i < n; i++) {
		char c = alg[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

int rp_kv_unwrap(struct rp_kv *kv, const char *key_url, const char *alg, const uint8_t *wrapped,
		 size_t wlen, struct rp_secret *out, char *kid, size_t kidsz, struct rp_err *err)
{
	struct rp_http_response r = {0};
	struct rp_kv_url u;
	char url[RP_KV_URL_MAX + 64], display[RP_KV_URL_MAX + 16];
	char *body = NULL;
	size_t b64len, bodysz, used = 0;
	bool ok = true;
	int rc;

	rc = rp_kvdoc_parse_url(key_url, "keys", &u, err);
	if (rc)
		return rc;
	if (!alg_ok(alg))
		return rp_err_set(err, RP_EUSAGE, "key vault: '%s' is not an algorithm name", alg);
	if (wlen == 0 || wlen > KV_WRAPPED_MAX)
		return rp_err_set(err, RP_EUSAGE,
				  "key vault: a wrapped key of %zu bytes (1 to %u allowed)", wlen,
				  KV_WRAPPED_MAX);
	snprintf(url, sizeof(url), "%s/unwrapkey?" KV_API, u.object);
	snprintf(display, sizeof(display), "%s/unwrapkey", u.object);
	b64len = rp_b64_encoded_len(wlen, RP_B64_URL | RP_B64_NOPAD, &ok);
	bodysz = b64len + strlen(alg) + 32;
	body = malloc(bodysz);
	if (!ok || !body) {
		free(body);
		return rp_err_set(err, RP_EIO, "out of memory");
	}
	used = (size_t)snprintf(body, bodysz, "{\"alg\":\"%s\",\"value\":\"", alg);
	rc = rp_b64_encode(wrapped, wlen, RP_B64_URL | RP_B64_NOPAD, body + used, bodysz - used,
			   &b64len);
	if (rc) {
		rc = rp_err_set(err, RP_EIO, "key vault: cannot encode the wrapped key");
		goto out;
	}
	used += b64len;
	snprintf(body + used, bodysz - used, "\"}");
	used += 2;
	rc = kv_send(kv, &u, "POST", url, display, body, used, &r, err);
	if (rc)
		goto out;
	if (r.status != 200) {
		rc = judge(&u, display, "key", alg, &r, err);
		goto out;
	}
	rc = rp_kvdoc_parse_key_result(r.body, r.body_len, kid, kidsz, out, err);
	if (rc)
		rp_err_prefix(err, "%s", display);
out:
	rp_http_response_release(&r);
	rp_wipe(body, bodysz);
	free(body);
	return rc;
}

int rp_kv_get_secret(struct rp_kv *kv, const char *secret_url, struct rp_kv_secret *out,
		     struct rp_err *err)
{
	struct rp_http_response r = {0};
	struct rp_kv_url u;
	char url[RP_KV_URL_MAX + 64];
	int rc;

	rc = rp_kvdoc_parse_url(secret_url, "secrets", &u, err);
	if (rc)
		return rc;
	snprintf(url, sizeof(url), "%s?" KV_API, u.object);
	rc = kv_send(kv, &u, "GET", url, u.object, NULL, 0, &r, err);
	if (rc)
		goto out;
	if (r.status != 200) {
		rc = judge(&u, u.object, "secret", NULL, &r, err);
		goto out;
	}
	rc = rp_kvdoc_parse_secret(r.body, r.body_len, out, err);
	if (rc)
		rp_err_prefix(err, "%s", u.object);
out:
	rp_http_response_release(&r);
	return rc;
}
