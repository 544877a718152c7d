#include "net/retry.h"

#include "common/err.h"
#include "common/util.h"
#include "net/http.h"

uint64_t rp_retry_delay_ms(const struct rp_retry_policy *p, unsigned n, long retry_after_ms,
			   uint32_t rnd)
{
	uint64_t cap = p->cap_ms ? p->cap_ms : RP_RETRY_CAP_MS;
	uint64_t d = p->base_ms ? p->base_ms : RP_RETRY_BASE_MS;

	if (retry_after_ms >= 0)
		return (uint64_t)retry_after_ms < cap ? (uint64_t)retry_after_ms : cap;
	for (; n > 0 && d < cap; n--)
		d *= 2;
	if (d > cap)
		d = cap;
	return d / 2 + (d - d / 2) * (rnd % 1000) / 1000;
}

long rp_retry_after_ms(const struct rp_http_response *r)
{
	const char *v = rp_http_header(r, "x-ms-retry-after-ms");
	uint64_t n;

	if (v && rp_parse_u64(v, &n, NULL) == 0 && n < 600000)
		return (long)n;
	v = rp_http_header(r, "Retry-After");
	if (v && rp_parse_u64(v, &n, NULL) == 0 && n < 600)
		return (long)(n * 1000);
	return -1;
}

uint32_t rp_retry_random(void)
{
	uint32_t r = 0;

	if (rp_random_bytes(&r, sizeof(r), NULL) != 0)
		return 0;
	return r;
}

bool rp_retry_status(long status)
{
	return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

bool rp_retry_transport(const struct rp_http *h, int rc)
{
	return rc == RP_EIO && !rp_http_failed_for_good(h);
}
