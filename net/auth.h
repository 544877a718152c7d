/*
 * Credentials for blob and Key Vault requests (docs/azure.md "Authentication"): a SAS in the URL
 * (nothing to add), a bearer token read from a file (re-read after a 401, so a rotating file
 * works), a managed identity through IMDS, or client credentials (AZURE_TENANT_ID,
 * AZURE_CLIENT_ID, AZURE_CLIENT_SECRET) against an overridable authority host. Tokens are
 * cached and refreshed five minutes before they expire.
 *
 * Tokens and secrets are secrets: they are kept in buffers that are wiped when freed and never
 * put into a message. Not thread-safe: one struct rp_auth per thread (the fetch engine uses
 * it from its one transfer thread).
 */
#ifndef RP_NET_AUTH_H
#define RP_NET_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/err.h"
#include "net/http.h"

#define RP_AUDIENCE_STORAGE "https://storage.azure.com"
#define RP_AUDIENCE_VAULT "https://vault.azure.net"
#define RP_AUDIENCE_HSM "https://managedhsm.azure.net"
/* Managed disks with Entra ID data access; the trailing '/' is part of it (docs/azure.md). */
#define RP_AUDIENCE_DISK "https://disk.azure.com/"
#define RP_IMDS_DEFAULT "http://169.254.169.254"
#define RP_AUTHORITY_DEFAULT "https://login.microsoftonline.com"

struct rp_auth_opts {
	const char *bearer_token_file;	/* --bearer-token-file */
	bool identity;			/* --identity: managed identity through IMDS */
	const char *imds_endpoint;	/* --imds-endpoint, NULL: RP_IMDS_DEFAULT */
	const char *identity_client_id; /* --identity-client-id (user-assigned), or NULL */
	bool client_credentials;	/* use AZURE_TENANT_ID/CLIENT_ID/CLIENT_SECRET */
	const char *authority_host;	/* NULL: AZURE_AUTHORITY_HOST or RP_AUTHORITY_DEFAULT */
};

struct rp_auth;

/*
 * A credential for audience (RP_AUDIENCE_*). With no credential option set, rp_auth_header
 * gives an empty header (a SAS URL or a public server). http_opts is used for the token
 * requests (IMDS is plain http on a link-local address: allowed for it alone). RP_EUSAGE if
 * client credentials are asked for and a variable is missing (named in the message).
 */
int rp_auth_new(const struct rp_auth_opts *o, const struct rp_http_opts *http_opts,
		const char *audience, struct rp_auth **out, struct rp_err *err);
void rp_auth_free(struct rp_auth *a);

/*
 * True when requests carry an Authorization header: a bearer credential is configured and,
 * toward a managed-disk host, that host asked for a token (rp_auth_challenge).
 */
bool rp_auth_has_bearer(const struct rp_auth *a);

/*
 * Tie a to the blob whose requests it authorizes (call before the first request; a later call
 * for another host is ignored). Toward a managed-disk host (md-...blob.storage.azure.net) no
 * token is sent until that host asks for one with a challenge for RP_AUDIENCE_DISK: a disk
 * grant's SAS alone authorizes unless the disk has Entra ID data access.
 */
void rp_auth_bind(struct rp_auth *a, const char *url);

enum { RP_CHALLENGE_NONE = 0, RP_CHALLENGE_FOLLOW = 1 };

/*
 * A 401 or 403 from url (the bound blob) with its WWW-Authenticate header ("" when the answer
 * has none, NULL when the caller cannot see the headers: a 401 then counts as a refusal of our
 * disk token): the one rule for managed disks with Entra ID data access (docs/azure.md).
 *   RP_CHALLENGE_FOLLOW: send the request again; a now gives a token for RP_AUDIENCE_DISK. Only
 *     for a Bearer challenge whose resource_id is exactly RP_AUDIENCE_DISK, from a managed-disk
 *     host, with a credential option given; or (may_retry) when the disk refused a token of
 *     ours that may have expired: it is fetched again.
 *   RP_CHALLENGE_NONE: nothing for this rule; the caller goes on as before.
 *   RP_EAUTH with a message saying what to do: a disk challenge without a credential option,
 *     from a host that is not a managed-disk host, naming another resource from a managed-disk
 *     host, or a refused token (!may_retry). No token is fetched for any other audience.
 */
int rp_auth_challenge(struct rp_auth *a, const char *url, long status, const char *www_authenticate,
		      bool may_retry, struct rp_err *err);

/* True once the bound host answered with a challenge for RP_AUDIENCE_DISK (followed or not). */
bool rp_auth_disk_challenged(const struct rp_auth *a);

/*
 * The header to send, "Authorization: Bearer <token>", into out (outsz bytes; the caller wipes
 * it after use), or "" when there is no bearer credential. Fetches or refreshes the token as
 * needed: RP_EAUTH when the token endpoint refuses (its error code and description, never the
 * secret), RP_EIO when it cannot be reached.
 */
int rp_auth_header(struct rp_auth *a, char *out, size_t outsz, struct rp_err *err);

/* After a 401: forget the cached token, so the next rp_auth_header re-reads or re-fetches. */
void rp_auth_invalidate(struct rp_auth *a);

/*
 * SAS facts from a URL's query, for messages and preflight: *has_sas when the query has sig=;
 * *expiry from se= (ISO 8601, UTC) or 0 if absent or unparsable; perms from sp= (or "").
 */
void rp_sas_info(const char *url, bool *has_sas, time_t *expiry, char *perms, size_t perms_sz);

/*
 * The stored access policy a SAS names (si=, as written, with any character outside
 * [A-Za-z0-9._~%-] shown as '?', into id; "" and false without one). Such a SAS (managed-disk and
 * restore-point grants use them) may carry neither sp= nor se=: its permissions and expiry are in
 * the policy, which only the service knows.
 */
bool rp_sas_policy(const char *url, char *id, size_t idsz);

#endif
