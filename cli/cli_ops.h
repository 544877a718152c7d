/*
 * What operators ask of every command that talks to a server: a request log (--log-file, -v)
 * and, for the commands that move a disk's bytes, a bandwidth cap (--limit-rate). Both are
 * fields of struct rp_net_opts (net/net.h); the options bind to them directly.
 */
#ifndef RP_CLI_OPS_H
#define RP_CLI_OPS_H

#include "cli/cli_util.h"

/* The setters: --log-file opens FILE (struct rp_http_log), -v counts (struct rp_http_log),
 * --limit-rate parses RATE (uint64_t bytes per second). */
int cli_set_log_file(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		     const char *arg);
int cli_set_verbose(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		    const char *arg);
int cli_set_limit_rate(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		       const char *arg);

/* The request log of the struct rp_net_opts at offsetof(T, m): every networked command. */
#define CLI_LOG_OPTS(T, m)                                                                         \
	CLI_OPT_SET("log-file", 0, "FILE",                                                         \
		    "append one line per HTTP request to FILE (created 0600; no secrets)", T,      \
		    m.log, cli_set_log_file),                                                      \
	{                                                                                          \
		"verbose", 'v', false, NULL,                                                       \
		    "print one line per HTTP request on stderr (repeat for the address)", CLI_SET, \
		    offsetof(T, m.log), cli_set_verbose                                            \
	}

/* The request log and the bandwidth cap: the commands that move a disk's bytes. */
#define CLI_TRANSFER_OPS_OPTS(T, m)                                                                \
	CLI_LOG_OPTS(T, m), CLI_OPT_SET("limit-rate", 0, "RATE",                                   \
					"bytes/s over all connections; K, M, G: powers of 1024",   \
					T, m.rate.bps, cli_set_limit_rate)

#endif
