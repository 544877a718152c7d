#include "net/net.h"

#include <string.h>

#include "net/retry.h"

void rp_net_opts_default(struct rp_net_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connections = RP_NET_CONNECTIONS_DEFAULT;
	o->chunk_size = RP_CHUNK_DEFAULT;
	o->retries = RP_NET_RETRIES_DEFAULT;
	o->retry_base_ms = RP_RETRY_BASE_MS;
	o->th = RP_THR_AUTO;
	rp_rate_init(&o->rate, 0);
	rp_http_log_init(&o->log);
	o->http.rate = &o->rate;
	o->http.log = &o->log;
}

int rp_net_opts_check(const struct rp_net_opts *o, struct rp_err *err)
{
	if (o->connections < 1 || o->connections > RP_NET_CONNECTIONS_MAX)
		return rp_err_set(err, RP_EUSAGE, "connections %u: 1 to %u expected",
				  o->connections, RP_NET_CONNECTIONS_MAX);
	if (o->retries > RP_NET_RETRIES_MAX)
		return rp_err_set(err, RP_EUSAGE, "retries %u: at most %u expected", o->retries,
				  RP_NET_RETRIES_MAX);
	if (o->retry_base_ms > RP_NET_RETRY_BASE_MS_MAX)
		return rp_err_set(err, RP_EUSAGE, "retry base %u ms: at most %u expected",
				  o->retry_base_ms, RP_NET_RETRY_BASE_MS_MAX);
	if (o->range_timeout_s > RP_NET_RANGE_TIMEOUT_MAX_S)
		return rp_err_set(err, RP_EUSAGE, "range timeout %u s: at most %u expected",
				  o->range_timeout_s, RP_NET_RANGE_TIMEOUT_MAX_S);
	if (o->rate.bps && (o->rate.bps < RP_RATE_MIN || o->rate.bps > RP_RATE_MAX))
		return rp_err_set(err, RP_EUSAGE, "rate limit %llu bytes/s: %llu to %llu expected",
				  (unsigned long long)o->rate.bps, RP_RATE_MIN, RP_RATE_MAX);
	return rp_chunk_size_check(o->chunk_size, err);
}
