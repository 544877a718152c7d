/* The command line of the network options (net/net.h): restore, verify, upload, stage... */
#ifndef RP_CLI_NET_H
#define RP_CLI_NET_H

#include "cli/cli_util.h"
#include "net/net.h"
#include "restore/restore.h"

/* Where requests go and with which credential: every command that talks to Azure. */
#define CLI_CONN_OPTS                                                                              \
	CLI_OPT_CALL("resolve", 0, true, "HOST:PORT:ADDR",                                         \
		     "pin a name to an address (repeat), as curl's"),                              \
	    CLI_OPT_CALL("require-private", 0, false, NULL,                                        \
			 "refuse to send anything to a non-private address"),                      \
	    CLI_OPT_CALL("private-cidr", 0, true, "CIDR",                                          \
			 "count this range as private too (repeat)"),                              \
	    CLI_OPT_CALL("cacert", 0, true, "FILE", "trust the CA certificates in FILE (PEM)"),    \
	    CLI_OPT_CALL("bearer-token-file", 0, true, "FILE",                                     \
			 "send the token in FILE (re-read after a 401)"),                          \
	    CLI_OPT_CALL("identity", 0, false, NULL, "a managed identity token from IMDS"),        \
	    CLI_OPT_CALL("imds-endpoint", 0, true, "URL",                                          \
			 "IMDS address (default http://169.254.169.254)"),                         \
	    CLI_OPT_CALL("identity-client-id", 0, true, "ID",                                      \
			 "client id of a user-assigned identity"),                                 \
	    CLI_OPT_CALL("client-credentials", 0, false, NULL,                                     \
			 "a token for AZURE_CLIENT_ID/AZURE_CLIENT_SECRET in AZURE_TENANT_ID"),    \
	    CLI_OPT_CALL("authority-host", 0, true, "URL",                                         \
			 "token authority (default login.microsoftonline.com)")

/* The transfer engine's options, then the connection's. */
#define CLI_NET_OPTS                                                                               \
	CLI_OPT_CALL("connections", 0, true, "N", "parallel connections, 1 to 64 (default 16)"),   \
	    CLI_OPT_CALL("chunk-size", 0, true, "SIZE",                                            \
			 "bytes per ranged read: 4K to 64M, 512-aligned (4M)"),                    \
	    CLI_OPT_CALL("retries", 0, true, "N", "retries per chunk (default 5)"),                \
	    CLI_OPT_CALL("retry-base-ms", 0, true, "MS",                                           \
			 "first backoff; doubles with jitter up to 60 s (800)"),                   \
	    CLI_OPT_CALL("transport-hash", 0, true, "auto|crc64|md5|none",                         \
			 "per-range hash from the service"),                                       \
	    CLI_OPT_CALL("low-speed-time", 0, true, "S",                                           \
			 "abort a transfer under 1 KiB/s for S seconds (60)"),                     \
	    CLI_OPT_CALL("range-timeout", 0, true, "S",                                            \
			 "a ranged read must end within max(S, its bytes / 100 "                   \
			 "KiB/s), else it is retried twice, then fails (30)"),                     \
	    CLI_OPT_CALL("allow-http", 0, false, NULL, "permit http:// sources (no TLS)"),         \
	    CLI_CONN_OPTS

/* rp_net_opts_default, with the stop flag every request listens to (cli_stop). */
void cli_net_defaults(struct rp_net_opts *a);

/* Handle one of the options above; returns 1 if name is not a network option. */
int cli_net_arg(const struct cli_cmd *cmd, struct rp_net_opts *a, const char *name,
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
