/*
 * What every networked command shares: the transport (TLS, addresses, proxy, timeouts), the
 * credential, and how hard to try (connections, retries, the backoff's first step, the range
 * deadline, the chunk, the per-range hash asked for). One struct, filled by the command line
 * (cli/cli_net.c) and checked by one function with one set of limits.
 */
#ifndef RP_NET_NET_H
#define RP_NET_NET_H

#include <stdint.h>

#include "common/err.h"
#include "common/util.h" /* RP_CHUNK_* */
#include "net/auth.h"
#include "net/http.h"

#define RP_NET_CONNECTIONS_DEFAULT 16
#define RP_NET_CONNECTIONS_MAX 64
#define RP_NET_RETRIES_DEFAULT 5
#define RP_NET_RETRIES_MAX 100
#define RP_NET_RETRY_BASE_MS_MAX 60000
#define RP_NET_RANGE_TIMEOUT_MAX_S 86400

/* The per-range hash to ask the Blob service for. */
enum rp_th_request {
	RP_THR_AUTO, /* crc64 where the server gives it, else md5, else none */
	RP_THR_CRC64,
	RP_THR_MD5,
	RP_THR_NONE,
};

struct rp_net_opts {
	struct rp_http_opts http;
	struct rp_auth_opts auth;
	unsigned connections;	  /* parallel connections, 1 to RP_NET_CONNECTIONS_MAX */
	uint64_t chunk_size;	  /* bytes per ranged read (rp_chunk_size_check) */
	unsigned retries;	  /* per request or chunk, up to RP_NET_RETRIES_MAX */
	unsigned retry_base_ms;	  /* the backoff's first step (net/retry.h); 0: its default */
	unsigned range_timeout_s; /* floor of a range's deadline (restore/fetch.h); 0: default */
	enum rp_th_request th;
	/* --limit-rate: the bucket every transfer shares (rate.bps: bytes per second, 0: no
	 * cap), and the request log (--log-file, -v). http.rate and http.log point here once
	 * rp_net_opts_default has run: a copy of these options shares both. */
	struct rp_rate rate;
	struct rp_http_log log;
};

/* The defaults: 16 connections, RP_CHUNK_DEFAULT, 5 retries, RP_RETRY_BASE_MS, auto hash, no
 * cap, no log. */
void rp_net_opts_default(struct rp_net_opts *o);

/* 0 if every number in o is within its limits, else RP_EUSAGE naming the first that is not. */
int rp_net_opts_check(const struct rp_net_opts *o, struct rp_err *err);

#endif
