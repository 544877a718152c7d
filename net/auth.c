/*
 * Credentials for blob and Key Vault requests (docs/azure.md "Authentication"): a bearer token
 * file, a managed identity through IMDS, or client credentials (the pure parts: auth_parse.c).
 *
 * Secrets (tokens, the client secret, the form body that carries it, answer bodies that carry a
 * token) live in heap buffers wiped with explicit_bzero before free and are never formatted
 * into a message; as a last guard every message this file hands back is scrubbed of the client
 * secret and the cached token. Not covered: copies that curl and jansson make internally.
 */
#include "net/auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "net/auth_int.h"
#include "net/retry.h"

#define TOKEN_BODY_MAX (64 * 1024)
#define RETRY_BASE_MS_DEFAULT 500
#define RETRY_BASE_MS_MAX 60000
#define RETRY_DELAY_CAP_MS 20000
/* IMDS asks clients to keep retrying 410 for at least 70 s while it is being updated. */
#define RETRY_BUDGET_MS 70000
#define RETRY_MAX_ATTEMPTS 10
#define TRANSPORT_MAX_ATTEMPTS 3
#define IMDS_API_VERSION "2018-02-01"

enum auth_kind { AUTH_NONE, AUTH_FILE, AUTH_IMDS, AUTH_CLIENT };

struct rp_auth {
	enum auth_kind kind;
	char *audience;
	char *bearer_file;
	char *endpoint; /* IMDS endpoint or authority host, no trailing '/' */
	char *identity_client_id;
	char *tenant;
	char *client_id;
	char *client_secret;	       /* secret */
	struct rp_http_opts http_opts; /* deep copy; allow_http forced on for IMDS */
	char *owned[RP_HTTP_MAX_RESOLVE + 2];
	struct rp_http *http;
	char *token; /* secret; NULL when nothing is cached */
	size_t token_len;
	int64_t refresh_at_ms; /* monotonic */
	uint64_t retry_base_ms;
	/* The managed-disk rule (rp_auth_challenge): the host of the bound blob, whether it is a
	 * managed-disk host, whether it asked for a disk token, and whether we answered. */
	char host[256];
	bool disk_host;
	bool disk_challenged;
	bool disk; /* audience is RP_AUDIENCE_DISK, for host alone */
};

static void scrub_err(const struct rp_auth *a, struct rp_err *err)
{
	const char *secrets[3] = {a->client_secret, a->token, NULL};

	if (!err)
		return;
	if (!secrets[0]) {
		secrets[0] = a->token;
		secrets[1] = NULL;
	}
	rp_auth_redact(err->msg, sizeof(err->msg), secrets);
}

static int dup_str(const char *s, char **out, struct rp_err *err)
{
	*out = strdup(s);
	if (!*out)
		return rp_err_set(err, RP_EIO, "out of memory");
	return 0;
}

/* Copy http_opts with its strings, so the caller's may go away after rp_auth_new. */
static int copy_http_opts(struct rp_auth *a, const struct rp_http_opts *src, struct rp_err *err)
{
	size_t k = 0, i;
	int rc;

	a->http_opts = *src;
	if (src->resolve_count > RP_HTTP_MAX_RESOLVE)
		return rp_err_set(err, RP_EUSAGE, "more than %d pinned names (HOST:PORT:ADDR)",
				  RP_HTTP_MAX_RESOLVE);
	if (src->cacert) {
		rc = dup_str(src->cacert, &a->owned[k], err);
		if (rc)
			return rc;
		a->http_opts.cacert = a->owned[k++];
	}
	if (src->x_ms_version) {
		rc = dup_str(src->x_ms_version, &a->owned[k], err);
		if (rc)
			return rc;
		a->http_opts.x_ms_version = a->owned[k++];
	}
	for (i = 0; i < src->resolve_count; i++) {
		rc = dup_str(src->resolve[i], &a->owned[k], err);
		if (rc)
			return rc;
		a->http_opts.resolve[i] = a->owned[k++];
	}
	return 0;
}

/* An endpoint URL without trailing slashes; "https://" is put in front of a bare host. */
static int dup_endpoint(const char *s, bool add_scheme, char **out, struct rp_err *err)
{
	size_t n = strlen(s);
	bool bare = add_scheme && !strstr(s, "://");

	while (n > 0 && s[n - 1] == '/')
		n--;
	*out = malloc(n + 9);
	if (!*out)
		return rp_err_set(err, RP_EIO, "out of memory");
	snprintf(*out, n + 9, "%s%.*s", bare ? "https://" : "", (int)n, s);
	return 0;
}

static int client_env(const char *name, char **out, struct rp_err *err)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return rp_err_set(err, RP_EUSAGE,
				  "client credentials need the environment variable %s", name);
	return dup_str(v, out, err);
}

static int setup_client(struct rp_auth *a, const struct rp_auth_opts *o, struct rp_err *err)
{
	const char *auth = o->authority_host;
	size_t i;
	int rc;

	rc = client_env("AZURE_TENANT_ID", &a->tenant, err);
	if (!rc)
		rc = client_env("AZURE_CLIENT_ID", &a->client_id, err);
	if (!rc)
		rc = client_env("AZURE_CLIENT_SECRET", &a->client_secret, err);
	if (rc)
		return rc;
	/* The tenant goes into the URL path: a GUID or a domain name, nothing else. */
	for (i = 0; a->tenant[i]; i++) {
		char c = a->tenant[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return rp_err_set(err, RP_EUSAGE,
					  "AZURE_TENANT_ID '%s' is not a tenant id or domain name",
					  a->tenant);
	}
	if (!auth || !*auth)
		auth = getenv("AZURE_AUTHORITY_HOST");
	if (!auth || !*auth)
		auth = RP_AUTHORITY_DEFAULT;
	rc = dup_endpoint(auth, true, &a->endpoint, err);
	if (!rc && !a->http_opts.allow_http && strncmp(a->endpoint, "https://", 8) != 0)
		rc = rp_err_set(err, RP_EUSAGE, "authority host '%s' is not an https:// URL",
				a->endpoint);
	return rc;
}

static uint64_t retry_base_ms(void)
{
	const char *s = getenv("RP_AUTH_RETRY_BASE_MS");
	uint64_t v;

	if (!s || rp_parse_u64(s, &v, NULL) != 0 || v > RETRY_BASE_MS_MAX)
		return RETRY_BASE_MS_DEFAULT;
	return v;
}

int rp_auth_new(const struct rp_auth_opts *o, const struct rp_http_opts *http_opts,
		const char *audience, struct rp_auth **out, struct rp_err *err)
{
	struct rp_auth *a;
	int n = (o->bearer_token_file != NULL) + o->identity + o->client_credentials;
	int rc;

	if (n > 1)
		return rp_err_set_hint(err, RP_EUSAGE, RP_H_ONE_TOKEN,
				       "more than one kind of credential for bearer tokens (a "
				       "token file, a managed identity, client credentials)");
	a = calloc(1, sizeof(*a));
	if (!a)
		return rp_err_set(err, RP_EIO, "out of memory");
	a->retry_base_ms = retry_base_ms();
	a->kind = o->bearer_token_file	  ? AUTH_FILE
		  : o->identity		  ? AUTH_IMDS
		  : o->client_credentials ? AUTH_CLIENT
					  : AUTH_NONE;
	if (a->kind != AUTH_NONE && (!audience || !*audience)) {
		rc = rp_err_set(err, RP_EUSAGE, "a bearer credential needs an audience");
		goto fail;
	}
	rc = dup_str(audience ? audience : "", &a->audience, err);
	if (!rc && http_opts)
		rc = copy_http_opts(a, http_opts, err);
	if (rc)
		goto fail;
	switch (a->kind) {
	case AUTH_FILE:
		rc = dup_str(o->bearer_token_file, &a->bearer_file, err);
		break;
	case AUTH_IMDS:
		rc = dup_endpoint(o->imds_endpoint ? o->imds_endpoint : RP_IMDS_DEFAULT, false,
				  &a->endpoint, err);
		if (!rc && strncmp(a->endpoint, "http://", 7) != 0 &&
		    strncmp(a->endpoint, "https://", 8) != 0)
			rc = rp_err_set(err, RP_EUSAGE,
					"the IMDS endpoint '%s' is not an http:// or https:// URL",
					a->endpoint);
		if (!rc && o->identity_client_id)
			rc = dup_str(o->identity_client_id, &a->identity_client_id, err);
		/* IMDS is plain http on a link-local address: allowed for this handle only, and
		 * never through a proxy (the Azure SDKs' rule: a proxy cannot reach it, and would
		 * see the token). */
		a->http_opts.allow_http = true;
		a->http_opts.no_proxy = true;
		break;
	case AUTH_CLIENT:
		rc = setup_client(a, o, err);
		break;
	case AUTH_NONE:
		break;
	}
	if (rc)
		goto fail;
	*out = a;
	return 0;
fail:
	scrub_err(a, err);
	rp_auth_free(a);
	return rc;
}

static void drop_token(struct rp_auth *a)
{
	rp_auth_secret_free(a->token, a->token_len);
	a->token = NULL;
	a->token_len = 0;
	a->refresh_at_ms = 0;
}

void rp_auth_free(struct rp_auth *a)
{
	size_t i;

	if (!a)
		return;
	drop_token(a);
	rp_http_free(a->http);
	rp_auth_secret_free(a->client_secret, a->client_secret ? strlen(a->client_secret) : 0);
	free(a->audience);
	free(a->bearer_file);
	free(a->endpoint);
	free(a->identity_client_id);
	free(a->tenant);
	free(a->client_id);
	for (i = 0; i < sizeof(a->owned) / sizeof(a->owned[0]); i++)
		free(a->owned[i]);
	free(a);
}

bool rp_auth_has_bearer(const struct rp_auth *a)
{
	return a && a->kind != AUTH_NONE && (!a->disk_host || a->disk);
}

void rp_auth_invalidate(struct rp_auth *a)
{
	if (a)
		drop_token(a);
}

struct token_req {
	const char *what; /* "managed identity token from <url>" */
	const char *kind; /* "managed identity token": for transport errors, which name the URL */
	const char *method;
	const char *url;
	const char *const *headers;
	const char *body; /* secret for client credentials */
	size_t body_len;
	bool imds;
};

static bool status_retryable(long st, bool imds)
{
	return rp_retry_status(st) || (imds && (st == 404 || st == 410));
}

/* The answer body may hold a token: wipe it before it goes back to the allocator. */
static void response_wipe_release(struct rp_http_response *r)
{
	if (r->body)
		explicit_bzero(r->body, r->body_len);
	rp_http_response_release(r);
}

static uint64_t backoff_ms(const struct rp_auth *a, unsigned attempt,
			   const struct rp_http_response *r)
{
	struct rp_retry_policy p = {.base_ms = (unsigned)a->retry_base_ms,
				    .cap_ms = RETRY_DELAY_CAP_MS};

	return rp_retry_delay_ms(&p, attempt - 1, r ? rp_retry_after_ms(r) : -1, rp_retry_random());
}

static int fetch_token(struct rp_auth *a, const struct token_req *r, struct rp_token_answer *tok,
		       struct rp_err *err)
{
	const char *secrets[2] = {a->client_secret, NULL};
	int64_t start = rp_now_ms();
	unsigned attempt, transport_failures = 0;
	int rc;

	if (!a->http) {
		rc = rp_http_new(&a->http_opts, &a->http, err);
		if (rc)
			return rc;
	}
	for (attempt = 1;; attempt++) {
		struct rp_http_response resp;
		struct rp_err e2;
		bool retry, gave_up = false;
		uint64_t delay;

		memset(&resp, 0, sizeof(resp));
		rp_err_init(&e2);
		rc = rp_http_request(a->http, r->method, r->url, r->headers, r->body, r->body_len,
				     TOKEN_BODY_MAX, &resp, &e2);
		if (rc == 0 && resp.status == 200) {
			rc = rp_auth_parse_token(resp.body, resp.body_len, time(NULL), tok, err);
			if (rc)
				rp_err_prefix(err, "%s", r->what);
			response_wipe_release(&resp);
			return rc;
		}
		/* retry: worth another attempt; gave up: it was, but attempts or time ran out */
		retry = rc == 0 ? status_retryable(resp.status, r->imds)
				: rp_retry_transport(a->http, rc);
		delay = backoff_ms(a, attempt, rc == 0 ? &resp : NULL);
		if (rc != 0 && ++transport_failures >= TRANSPORT_MAX_ATTEMPTS)
			gave_up = true;
		if (attempt >= RETRY_MAX_ATTEMPTS ||
		    rp_now_ms() - start + (int64_t)delay > RETRY_BUDGET_MS)
			gave_up = true;
		if (!retry || gave_up) {
			char what[600];

			if (retry)
				snprintf(what, sizeof(what), "%s (gave up after %u attempts)",
					 r->what, attempt);
			else
				snprintf(what, sizeof(what), "%s", r->what);
			if (rc == 0) {
				rc = rp_auth_error_answer(retry ? RP_EIO : RP_EAUTH, what,
							  resp.status, resp.body, resp.body_len,
							  secrets, err);
				response_wipe_release(&resp);
			} else if (err) {
				*err = e2;
				if (retry)
					rp_err_prefix(err, "%s (gave up after %u attempts)",
						      r->kind, attempt);
				else
					rp_err_prefix(err, "%s", r->kind);
			}
			return rc;
		}
		if (rc == 0)
			response_wipe_release(&resp);
		rp_sleep_ms(delay, NULL);
	}
}

/* Append "&name=<encoded value>" (or without '&' at the start) to buf[*o..sz). */
static bool append_param(char *buf, size_t sz, size_t *o, const char *name, const char *value)
{
	int n = snprintf(buf + *o, sz - *o, "%s%s=", *o ? "&" : "", name);

	if (n < 0 || (size_t)n >= sz - *o)
		return false;
	*o += (size_t)n;
	if (!rp_auth_url_encode(value, buf + *o, sz - *o))
		return false;
	*o += strlen(buf + *o);
	return true;
}

static int obtain_imds(struct rp_auth *a, struct rp_token_answer *tok, struct rp_err *err)
{
	static const char *const headers[] = {"Metadata: true", NULL};
	size_t sz = strlen(a->endpoint) + 3 * strlen(a->audience) + 128 +
		    (a->identity_client_id ? 3 * strlen(a->identity_client_id) : 0);
	char *url = malloc(sz), *q;
	char what[600], shown[512];
	struct token_req r = {.what = what,
			      .kind = "managed identity token",
			      .method = "GET",
			      .headers = headers,
			      .imds = true};
	size_t o = 0;
	int rc;

	if (!url)
		return rp_err_set(err, RP_EIO, "out of memory");
	o = (size_t)snprintf(url, sz, "%s/metadata/identity/oauth2/token?", a->endpoint);
	rp_url_redact(url, shown, sizeof(shown));
	snprintf(what, sizeof(what), "managed identity token from %s", shown);
	q = url + o;
	o = 0;
	if (!append_param(q, sz - (size_t)(q - url), &o, "api-version", IMDS_API_VERSION) ||
	    !append_param(q, sz - (size_t)(q - url), &o, "resource", a->audience) ||
	    (a->identity_client_id &&
	     !append_param(q, sz - (size_t)(q - url), &o, "client_id", a->identity_client_id))) {
		free(url);
		return rp_err_set(err, RP_EIO, "managed identity request does not fit");
	}
	r.url = url;
	rc = fetch_token(a, &r, tok, err);
	free(url);
	return rc;
}

static int obtain_client(struct rp_auth *a, struct rp_token_answer *tok, struct rp_err *err)
{
	static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded",
					      "Accept: application/json", NULL};
	size_t aud_len = strlen(a->audience);
	size_t sz = strlen(a->endpoint) + strlen(a->tenant) + 64;
	size_t bsz = 3 * (strlen(a->client_id) + strlen(a->client_secret) + aud_len) + 128;
	char *url = malloc(sz), *body = malloc(bsz), *scope = malloc(aud_len + 16);
	char what[600], shown[512];
	struct token_req r = {
	    .what = what, .kind = "client credentials token", .method = "POST", .headers = headers};
	size_t o = 0;
	int rc;

	if (!url || !body || !scope) {
		rc = rp_err_set(err, RP_EIO, "out of memory");
		goto out;
	}
	/* The disk service checks for its audience with the '/': the scope keeps it
	 * ("https://disk.azure.com//.default", as azcopy and the Azure SDKs ask). */
	while (aud_len > 0 && a->audience[aud_len - 1] == '/' &&
	       strcmp(a->audience, RP_AUDIENCE_DISK) != 0)
		aud_len--;
	snprintf(scope, aud_len + 16, "%.*s/.default", (int)aud_len, a->audience);
	snprintf(url, sz, "%s/%s/oauth2/v2.0/token", a->endpoint, a->tenant);
	rp_url_redact(url, shown, sizeof(shown));
	snprintf(what, sizeof(what), "client credentials token from %s", shown);
	if (!append_param(body, bsz, &o, "grant_type", "client_credentials") ||
	    !append_param(body, bsz, &o, "client_id", a->client_id) ||
	    !append_param(body, bsz, &o, "client_secret", a->client_secret) ||
	    !append_param(body, bsz, &o, "scope", scope)) {
		rc = rp_err_set(err, RP_EIO, "client credentials request does not fit");
		goto out;
	}
	r.url = url;
	r.body = body;
	r.body_len = o;
	rc = fetch_token(a, &r, tok, err);
out:
	free(url);
	free(scope);
	rp_auth_secret_free(body, body ? bsz : 0);
	return rc;
}

static int obtain(struct rp_auth *a, struct rp_err *err)
{
	struct rp_token_answer tok = {0};
	int rc;

	if (a->kind == AUTH_FILE) {
		char *t = NULL;
		size_t n = 0;

		rc = rp_auth_read_token_file(a->bearer_file, &t, &n, err);
		if (rc)
			return rc;
		drop_token(a);
		a->token = t;
		a->token_len = n;
		return 0;
	}
	rc = a->kind == AUTH_IMDS ? obtain_imds(a, &tok, err) : obtain_client(a, &tok, err);
	if (rc)
		return rc;
	drop_token(a);
	a->token = tok.access_token;
	a->token_len = tok.token_len;
	a->refresh_at_ms = rp_now_ms() + (int64_t)rp_auth_refresh_after(tok.lifetime_s) * 1000;
	return 0;
}

int rp_auth_header(struct rp_auth *a, char *out, size_t outsz, struct rp_err *err)
{
	static const char prefix[] = "Authorization: Bearer ";
	size_t need;
	int rc;

	if (outsz > 0)
		out[0] = '\0';
	if (!rp_auth_has_bearer(a))
		return 0;
	if (!a->token || (a->kind != AUTH_FILE && rp_now_ms() >= a->refresh_at_ms)) {
		rc = obtain(a, err);
		if (rc) {
			scrub_err(a, err);
			return rc;
		}
	}
	need = sizeof(prefix) - 1 + a->token_len + 1;
	if (need > outsz)
		return rp_err_set(err, RP_EUSAGE,
				  "authorization header needs %zu bytes, the buffer has %zu", need,
				  outsz);
	memcpy(out, prefix, sizeof(prefix) - 1);
	memcpy(out + sizeof(prefix) - 1, a->token, a->token_len + 1);
	return 0;
}

/* ---- managed disks with Entra ID data access (docs/azure.md) ---- */

void rp_auth_bind(struct rp_auth *a, const char *url)
{
	if (!a || a->host[0] || !url || !rp_auth_url_host(url, a->host, sizeof(a->host)))
		return;
	a->disk_host = rp_auth_is_disk_host(a->host);
}

bool rp_auth_disk_challenged(const struct rp_auth *a)
{
	return a && a->disk_challenged;
}

/* From now on a gives tokens for the disk audience (and only to its bound host). */
static int use_disk_audience(struct rp_auth *a, struct rp_err *err)
{
	char *aud = strdup(RP_AUDIENCE_DISK);

	if (!aud)
		return rp_err_set(err, RP_EIO, "out of memory");
	free(a->audience);
	a->audience = aud;
	drop_token(a);
	a->disk = true;
	return 0;
}

int rp_auth_challenge(struct rp_auth *a, const char *url, long status, const char *www_authenticate,
		      bool may_retry, struct rp_err *err)
{
	struct rp_storage_challenge c;
	char host[256];
	bool parsed;

	if (!a || !url || !rp_auth_url_host(url, host, sizeof(host)))
		return RP_CHALLENGE_NONE;
	rp_auth_bind(a, url);
	parsed = rp_auth_parse_storage_challenge(www_authenticate, &c);
	if (a->host[0] && strcmp(host, a->host) != 0) {
		/* Not the blob a serves: it never gets our token, whatever it asks. */
		if (parsed && strcmp(c.resource_id, RP_AUDIENCE_DISK) == 0)
			return rp_err_set(err, RP_EAUTH,
					  "%s answered %ld with a challenge for the managed-disk "
					  "audience %s, but it is not the host of the disk (%s): "
					  "refused, no token is sent to it",
					  host, status, RP_AUDIENCE_DISK, a->host);
		return RP_CHALLENGE_NONE;
	}
	if (parsed && strcmp(c.resource_id, RP_AUDIENCE_DISK) == 0) {
		if (!rp_auth_is_disk_host(host))
			return rp_err_set(
			    err, RP_EAUTH,
			    "%s answered %ld with a challenge for the managed-disk "
			    "audience %s, but it is not a managed-disk host "
			    "(md-...blob.storage.azure.net): refused, no token is sent "
			    "to it",
			    host, status, RP_AUDIENCE_DISK);
		a->disk_challenged = true;
		if (a->kind == AUTH_NONE)
			return rp_err_set_hint(
			    err, RP_EAUTH, RP_H_TOKEN,
			    "%s: the disk requires Microsoft Entra ID data access "
			    "(dataAccessAuthMode AzureActiveDirectory): it answered %ld asking for "
			    "a token for %s beside the SAS (the identity needs the role Data "
			    "Operator for Managed Disks on the disk)",
			    host, status, RP_AUDIENCE_DISK);
		if (!a->disk)
			return use_disk_audience(a, err) ? RP_EAUTH : RP_CHALLENGE_FOLLOW;
	} else if (parsed && rp_auth_is_disk_host(host) && c.resource_id[0]) {
		return rp_err_set(err, RP_EAUTH,
				  "%s answered %ld with a challenge for resource '%.200s': from a "
				  "managed-disk host only %s is answered; refused, no token is "
				  "fetched for it",
				  host, status, c.resource_id, RP_AUDIENCE_DISK);
	} else if (!a->disk || www_authenticate || status != 401) {
		/* Not about our disk token: an expired SAS or an ended grant, say (the caller
		 * judges the answer). */
		return RP_CHALLENGE_NONE;
	}
	/* The disk refused a disk token of ours (its challenge again, or a 401 the caller
	 * cannot see the header of). */
	if (may_retry) {
		drop_token(a); /* expired or rotated: fetch it again, once */
		return RP_CHALLENGE_FOLLOW;
	}
	return rp_err_set(
	    err, RP_EAUTH,
	    "%s: the disk refused the token for %s (HTTP %ld): the identity needs the "
	    "role Data Operator for Managed Disks on the disk, and a token file must "
	    "hold a token for that audience",
	    host, RP_AUDIENCE_DISK, status);
}
