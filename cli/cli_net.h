/* The command line of the network options (net/net.h): restore, verify, upload, stage... */
#ifndef RP_CLI_NET_H
#define RP_CLI_NET_H

#include "cli/cli_util.h"
#include "net/net.h"
#include "restore/restore.h"

/* Where requests go and with which credential (struct rp_net_opts at offsetof(T, m)): every
 * command that talks to Azure. */
#define CLI_CONN_OPTS(T, m)                                                                        \
	CLI_OPT_SET("resolve", 0, "HOST:PORT:ADDR",                                                \
		    "pin a name to an address (repeat), as curl's", T, m.http, cli_set_resolve),   \
	    CLI_OPT_FLAG_SET("require-private", 0,                                                 \
			     "refuse to send anything to a non-private address", T, m.http,        \
			     cli_set_require_private),                                             \
	    CLI_OPT_SET("private-cidr", 0, "CIDR", "count this range as private too (repeat)", T,  \
			m.http, cli_set_private_cidr),                                             \
	    CLI_OPT_STR("cacert", 0, "FILE", "trust the CA certificates in FILE (PEM)", T,         \
			m.http.cacert),                                                            \
	    CLI_OPT_STR("bearer-token-file", 0, "FILE",                                            \
			"send the token in FILE (re-read after a 401)", T,                         \
			m.auth.bearer_token_file),                                                 \
	    CLI_OPT_FLAG("identity", 0, "a managed identity token from IMDS", T, m.auth.identity), \
	    CLI_OPT_STR("imds-endpoint", 0, "URL",                                                 \
			"IMDS address (default http://169.254.169.254)", T, m.auth.imds_endpoint), \
	    CLI_OPT_STR("identity-client-id", 0, "ID", "client id of a user-assigned identity", T, \
			m.auth.identity_client_id),                                                \
	    CLI_OPT_FLAG("client-credentials", 0,                                                  \
			 "a token for AZURE_CLIENT_ID/AZURE_CLIENT_SECRET in AZURE_TENANT_ID", T,  \
			 m.auth.client_credentials),                                               \
	    CLI_OPT_STR("authority-host", 0, "URL",                                                \
			"token authority (default login.microsoftonline.com)", T,                  \
			m.auth.authority_host)

/* The transfer engine's options, then the connection's (struct rp_net_opts at offsetof(T, m)).
 * set_chunk parses --chunk-size (cli_set_chunk_size; upload refuses it). */
#define CLI_NET_OPTS_CHUNK(T, m, set_chunk)                                                        \
	CLI_OPT_SET("connections", 0, "N", "parallel connections, 1 to 64 (default 16)", T,        \
		    m.connections, cli_set_connections),                                           \
	    CLI_OPT_SET("chunk-size", 0, "SIZE",                                                   \
			"bytes per ranged read: 4K to 64M, 512-aligned (4M)", T, m.chunk_size,     \
			set_chunk),                                                                \
	    CLI_OPT_SET("retries", 0, "N", "retries per chunk (default 5)", T, m.retries,          \
			cli_set_retries),                                                          \
	    CLI_OPT_SET("retry-base-ms", 0, "MS",                                                  \
			"first backoff; doubles with jitter up to 60 s (800)", T, m.retry_base_ms, \
			cli_set_retry_base_ms),                                                    \
	    CLI_OPT_SET("transport-hash", 0, "auto|crc64|md5|none",                                \
			"per-range hash from the service", T, m.th, cli_set_transport_hash),       \
	    CLI_OPT_SET("low-speed-time", 0, "S",                                                  \
			"abort a transfer under 1 KiB/s for S seconds (60)", T,                    \
			m.http.low_speed_time_s, cli_set_low_speed_time),                          \
	    CLI_OPT_SET("range-timeout", 0, "S",                                                   \
			"a ranged read must end within max(S, its bytes / 100 "                    \
			"KiB/s), else it is retried twice, then fails (30)",                       \
			T, m.range_timeout_s, cli_set_range_timeout),                              \
	    CLI_OPT_FLAG("allow-http", 0, "permit http:// sources (no TLS)", T,                    \
			 m.http.allow_http),                                                       \
	    CLI_CONN_OPTS(T, m)
#define CLI_NET_OPTS(T, m) CLI_NET_OPTS_CHUNK(T, m, cli_set_chunk_size)

/* Setters of the options above: each parses its value into the field (the one named in its
 * table entry) or prints a usage error naming the option and returns CLI_EXIT_USAGE. */
int cli_set_connections(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			const char *arg); /* unsigned */
int cli_set_chunk_size(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		       const char *arg); /* uint64_t, rp_chunk_size_check */
int cli_set_retries(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		    const char *arg); /* unsigned */
int cli_set_retry_base_ms(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			  const char *arg); /* unsigned */
int cli_set_transport_hash(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			   const char *arg); /* enum rp_th_request */
int cli_set_low_speed_time(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			   const char *arg); /* long */
int cli_set_range_timeout(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			  const char *arg); /* unsigned */
int cli_set_resolve(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		    const char *arg); /* struct rp_http_opts: one more --resolve */
int cli_set_require_private(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			    const char *arg); /* struct rp_http_opts; notes a proxy left out */
int cli_set_private_cidr(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			 const char *arg); /* struct rp_http_opts: one more --private-cidr */

/* rp_net_opts_default, with the stop flag every request listens to (cli_stop). */
void cli_net_defaults(struct rp_net_opts *a);

/* One network option by its name (the nbdkit plugin's keys): cli_set_named over the table of
 * CLI_NET_OPTS; 1 if name is not one of them. */
int cli_net_set(const struct cli_cmd *cmd, struct rp_net_opts *a, const char *name,
		const char *arg);

/* The report of a network restore or verify as JSON (no secrets: the source is redacted). */
struct rp_json *cli_net_report(const struct rp_restore_report *rep, const char *out,
			       const char *seal_path, const struct rp_seal *seal, int rc,
			       const char *error);

/* Print the report for people. */
void cli_net_print(FILE *f, const struct rp_json *report);

/* http:// only with --allow-http; prints the usage error (exit 2). */
int cli_net_check_url(const struct cli_cmd *cmd, const struct rp_net_opts *a, const char *url);
#endif
