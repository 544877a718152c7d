#include "net/rate.h"

#include <string.h>

#include "common/util.h"

void rp_rate_init(struct rp_rate *r, uint64_t bps)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->bps = bps;
}

uint64_t rp_rate_take(struct rp_rate *r, uint64_t n)
{
	double now, burst, wait;

	if (!r || !r->bps)
		return 0;
	burst = (double)r->bps / 10.0; /* 100 ms of bytes at most: no burst past the cap */
	pthread_mutex_lock(&r->lock);
	now = rp_now_s();
	if (r->last == 0)
		r->tokens = burst;
	else
		r->tokens += (now - r->last) * (double)r->bps;
	if (r->tokens > burst)
		r->tokens = burst;
	r->last = now;
	r->tokens -= (double)n;
	wait = r->tokens < 0 ? -r->tokens * 1000.0 / (double)r->bps : 0;
	pthread_mutex_unlock(&r->lock);
	return (uint64_t)(wait + 0.999);
}

int rp_rate_parse(const char *text, uint64_t *bps, struct rp_err *err)
{
	const char *p = text;
	uint64_t v = 0, mult = 1;
	int digits = 0;

	while (*p >= '0' && *p <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return rp_err_set(err, RP_EUSAGE, "rate '%s' is too large", text);
		v = v * 10 + (uint64_t)(*p++ - '0');
		digits++;
	}
	if (!digits)
		return rp_err_set(err, RP_EUSAGE,
				  "rate '%s' is not a number of bytes per second (e.g. 500K, 2M)",
				  text);
	switch (*p) {
	case 'k':
	case 'K':
		mult = 1ull << 10;
		p++;
		break;
	case 'm':
	case 'M':
		mult = 1ull << 20;
		p++;
		break;
	case 'g':
	case 'G':
		mult = 1ull << 30;
		p++;
		break;
	case 't':
	case 'T':
		mult = 1ull << 40;
		p++;
		break;
	default:
		break;
	}
	if (*p == 'b' || *p == 'B')
		p++;
	if (strcmp(p, "/s") == 0)
		p += 2;
	if (*p)
		return rp_err_set(err, RP_EUSAGE,
				  "rate '%s': unknown suffix '%s' (K, M, G or T expected)", text,
				  p);
	if (v == 0)
		return rp_err_set(err, RP_EUSAGE, "rate '%s': a cap of 0 would move nothing", text);
	if (v > RP_RATE_MAX / mult || v * mult > RP_RATE_MAX || v * mult < RP_RATE_MIN)
		return rp_err_set(err, RP_EUSAGE, "rate '%s': 1K to 1T bytes per second expected",
				  text);
	*bps = v * mult;
	return 0;
}
