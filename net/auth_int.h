/*
 * Internal to net/auth.c: the pure parts, exposed for tests/unit/test_auth.c.
 *
 * Nothing here formats a token or a secret into a message: messages name the field, the file
 * or the HTTP status only. Buffers that held a secret are wiped (explicit_bzero) before free.
 */
#ifndef RP_NET_AUTH_INT_H
#define RP_NET_AUTH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

/* Longest token accepted from a file or a token endpoint (JWTs are a few KiB). */
#define RP_TOKEN_MAX 16384
/* Longest lifetime accepted in a token answer: one year (Azure gives hours). */
#define RP_TOKEN_MAX_LIFETIME (366 * 24 * 3600)
/* Refresh when this many seconds remain, or at half the lifetime if that is shorter. */
#define RP_TOKEN_REFRESH_MARGIN 300

struct rp_token_answer {
	char *access_token; /* malloc'd, NUL-terminated; release with rp_token_answer_release */
	size_t token_len;
	uint64_t lifetime_s; /* seconds from now until the token expires */
};

/*
 * Parse a token endpoint's JSON answer (IMDS or the v2.0 token endpoint): access_token (a
 * non-empty string of printable ASCII without spaces) and expires_in (seconds, a number or a
 * string of digits) or, failing that, expires_on (Unix seconds, number or string; now is the
 * current time). RP_EFORMAT naming the field on failure; the body is never quoted. out is set
 * only on success.
 */
int rp_auth_parse_token(const char *body, size_t len, time_t now, struct rp_token_answer *out,
			struct rp_err *err);

/* Wipe and free the token; leaves t zeroed. NULL is a no-op. */
void rp_token_answer_release(struct rp_token_answer *t);

/*
 * Set err to code (RP_EAUTH for a refusal, RP_EIO when retries ran out) for an error answer of
 * a token endpoint: "what: HTTP <status>" followed
 * by the answer's "error" and "error_description" (or {"error":{"code","message"}}) when the
 * body is JSON. The texts are cut to printable ASCII of bounded length, and any occurrence of
 * each of the secrets (a NULL-terminated list, may be NULL) is replaced by "[redacted]".
 * Returns code.
 */
int rp_auth_error_answer(int code, const char *what, long status, const char *body, size_t len,
			 const char *const *secrets, struct rp_err *err);

/*
 * Check a token (from a file or an answer): 1..RP_TOKEN_MAX bytes, each printable ASCII and not
 * a space. Returns 0, or RP_EFORMAT with "<what> ..." naming the offending byte's offset.
 */
int rp_auth_check_token(const char *what, const char *tok, size_t len, struct rp_err *err);

/*
 * Read a bearer token file: trailing whitespace trimmed, then rp_auth_check_token. *out is a
 * malloc'd NUL-terminated copy (wipe before free). Errors name the file, never its content:
 * RP_EIO if it cannot be read, RP_EFORMAT if empty, larger than RP_TOKEN_MAX or not a token.
 */
int rp_auth_read_token_file(const char *path, char **out, size_t *out_len, struct rp_err *err);

/* Percent-encode s (all but A-Z a-z 0-9 - . _ ~) into out; false if it does not fit. */
bool rp_auth_url_encode(const char *s, char *out, size_t outsz);

/*
 * Seconds after fetching at which a token with this lifetime is refreshed: lifetime minus
 * RP_TOKEN_REFRESH_MARGIN, or half the lifetime when that comes sooner.
 */
uint64_t rp_auth_refresh_after(uint64_t lifetime_s);

/* Wipe len bytes at p (explicit_bzero) and free p. NULL is a no-op. */
void rp_auth_secret_free(void *p, size_t len);

/* Replace each occurrence of each secret (NULL-terminated list) in msg by "[redacted]". */
void rp_auth_redact(char *msg, size_t msgsz, const char *const *secrets);

/* Parse an se= time: "2026-11-28T10:00:00Z", with fractional seconds, or "2026-11-28". */
bool rp_auth_parse_iso_time(const char *s, time_t *out);

/*
 * A storage Bearer challenge (WWW-Authenticate): "Bearer authorization_uri=URI resource_id=URI",
 * parameters separated by spaces or commas, values as tokens or quoted strings. resource_id
 * and authorization_uri (printable ASCII, each "" when absent) into out. False if it is not
 * a Bearer challenge or does not parse, or a value does not fit.
 */
struct rp_storage_challenge {
	char authorization_uri[512];
	char resource_id[512];
};
bool rp_auth_parse_storage_challenge(const char *h, struct rp_storage_challenge *out);

/* The host of an http(s) URL, lowercased, without port or user info; false if none fits. */
bool rp_auth_url_host(const char *url, char *host, size_t hostsz);

/* A managed-disk data host: md-<name>.<label>...blob.storage.azure.net (lowercase). */
bool rp_auth_is_disk_host(const char *host);

#endif
