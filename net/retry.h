/*
 * The one retry policy of every networked client (ranged reads, upload, Blob REST, tokens, Key
 * Vault): which answers are worth another attempt, and how long to wait before it.
 *
 * The wait before retry n (0 for the first) is exponential, base * 2^n, capped, with jitter: a
 * random point in [d/2, d), so that many clients backing off together do not come back
 * together, and no retry comes sooner than half the step. A Retry-After (or
 * x-ms-retry-after-ms) the server sent is honoured as it is, up to the same cap. The policy is
 * pure: the caller passes the random value (rp_retry_random() or its own rand_r()), so tests
 * are deterministic. How many attempts, and for how long in all, stays the caller's decision.
 */
#ifndef RP_NET_RETRY_H
#define RP_NET_RETRY_H

#include <stdbool.h>
#include <stdint.h>

struct rp_http;
struct rp_http_response;

#define RP_RETRY_BASE_MS 800  /* the first step when the caller sets none (--retry-base-ms) */
#define RP_RETRY_CAP_MS 60000 /* the longest wait when the caller sets none (the SDKs' cap) */

struct rp_retry_policy {
	unsigned base_ms; /* the first step; 0: RP_RETRY_BASE_MS */
	unsigned cap_ms;  /* no wait longer, Retry-After included; 0: RP_RETRY_CAP_MS */
};

/*
 * Milliseconds to wait before retry n (0 for the first). retry_after_ms: what the server asked
 * for, or -1 if it did not. rnd: any random value (only rnd % 1000 is used).
 */
uint64_t rp_retry_delay_ms(const struct rp_retry_policy *p, unsigned n, long retry_after_ms,
			   uint32_t rnd);

/* The server's wait before a retry (x-ms-retry-after-ms, else Retry-After in seconds), or -1
 * if it sent neither (or nonsense, or more than 10 minutes). */
long rp_retry_after_ms(const struct rp_http_response *r);

/* A random value for rp_retry_delay_ms from the OS random source (0 if it fails). */
uint32_t rp_retry_random(void);

/* True for an HTTP status another attempt may mend: 408, 429 and 5xx (busy, throttled, broken
 * for now). Callers add their own (a Blob hash mismatch, IMDS's 404 and 410). */
bool rp_retry_status(long status);

/* True if rc, a failed rp_http_request on h, may go better next time: a transport failure
 * (RP_EIO) that is not one for good (an untrusted certificate, say). Refusals (RP_EAUTH), an
 * interruption (RP_EINTR) and the caller's mistakes (RP_EUSAGE) are not. */
bool rp_retry_transport(const struct rp_http *h, int rc);

#endif
