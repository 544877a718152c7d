/*
 * The bandwidth cap (--limit-rate): one token bucket shared by every transfer of a run, the
 * parallel ranged reads of the fetch engine and the upload workers' threads alike, so that the
 * total over all connections holds to the cap (libcurl's own limit, MAX_RECV_SPEED, is per
 * transfer). Transfers account the body bytes they moved (rp_rate_take) and wait the time it
 * returns before they move more; the bucket holds at most a tenth of a second of bytes, so a
 * pause never lets a burst through (docs/operations.md). Thread-safe.
 */
#ifndef RP_NET_RATE_H
#define RP_NET_RATE_H

#include <pthread.h>
#include <stdint.h>

#include "common/err.h"

#define RP_RATE_MIN 1024ull	 /* the smallest cap, bytes per second */
#define RP_RATE_MAX (1ull << 40) /* the largest, 1 TiB/s */

struct rp_rate {
	uint64_t bps; /* bytes per second over all transfers; 0: no cap */
	pthread_mutex_t lock;
	double tokens; /* bytes that may move now; negative: a debt to wait off */
	double last;   /* rp_now_s() of the last refill; 0: not started */
};

/* An idle bucket with cap bps (0: none). Not freed: the lock needs no destruction. */
void rp_rate_init(struct rp_rate *r, uint64_t bps);

/* Account n bytes moved; returns the milliseconds to wait before moving more (0: none). */
uint64_t rp_rate_take(struct rp_rate *r, uint64_t n);

/*
 * Parse a rate as curl's --limit-rate: a number of bytes per second with an optional suffix K,
 * M, G or T (powers of 1024, either case, optionally followed by "B" or "/s"). RP_EUSAGE for
 * anything else, 0, or a value outside RP_RATE_MIN..RP_RATE_MAX.
 */
int rp_rate_parse(const char *text, uint64_t *bps, struct rp_err *err);

#endif
