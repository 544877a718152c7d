/* Key options shared by unwrap, restore and verify (docs/keys.md). */
#ifndef RP_CLI_KEYS_H
#define RP_CLI_KEYS_H

#include "cli/cli_net.h"
#include "restore/keys.h"

/* Where a KEK comes from; the network options of cli_net.h say how Key Vault is reached. */
#define CLI_KEK_OPTS                                                                               \
	{"kek-file", 0, true, "FILE", "key encryption key: PEM RSA private key, JWK or raw AES"},  \
	{"kek-pass-file", 0, true, "FILE", "passphrase of an encrypted PEM --kek-file"},           \
	{"kek-url", 0, true, "URL", "Key Vault / Managed HSM key https://VAULT/keys/NAME[/VER]"},   \
	{"allow-rsa1_5", 0, false, NULL, "permit the legacy RSA1_5 algorithm"}

/* The transport and credential options that reach Key Vault (a subset of CLI_NET_OPTS). */
#define CLI_VAULT_NET_OPTS                                                                         \
	{"resolve", 0, true, "HOST:PORT:ADDR", "pin a name to an address (repeat), as curl's"},    \
	{"require-private", 0, false, NULL, "refuse to send anything to a non-private address"},   \
	{"private-cidr", 0, true, "CIDR", "count this range as private too (repeat)"},             \
	{"cacert", 0, true, "FILE", "trust the CA certificates in FILE (PEM)"},                    \
	{"bearer-token-file", 0, true, "FILE", "send the token in FILE (re-read after a 401)"},    \
	{"identity", 0, false, NULL, "a managed identity token from IMDS"},                        \
	{"imds-endpoint", 0, true, "URL", "IMDS address (default http://169.254.169.254)"},        \
	{"identity-client-id", 0, true, "ID", "client id of a user-assigned identity"},            \
	{"client-credentials", 0, false, NULL,                                                     \
	 "a token for AZURE_CLIENT_ID/AZURE_CLIENT_SECRET in AZURE_TENANT_ID"},                    \
	{"authority-host", 0, true, "URL", "token authority (default login.microsoftonline.com)"}

/* A LUKS key check added to restore and verify reports (docs/luks.md). */
#define CLI_LUKS_OPTS                                                                              \
	{"luks-passphrase-file", 0, true, "FILE", "check that this passphrase opens the disk's LUKS"}, \
	{"luks-key-file", 0, true, "FILE", "check that this key file opens the disk's LUKS volumes"}

struct cli_luks_args {
	const char *passphrase_file;
	const char *key_file;
};

/* Handle one of CLI_LUKS_OPTS; returns 1 if name is not one of them. */
int cli_luks_arg(const struct cli_cmd *cmd, struct cli_luks_args *a, const char *name,
		 const char *arg);

static inline bool cli_luks_wanted(const struct cli_luks_args *a)
{
	return a->passphrase_file || a->key_file;
}

/*
 * Check the LUKS key against the image at path (a restored disk or a local copy) and put the
 * result into report as "luks". 0 when it opens a volume, RP_EVERIFY when it opens none, or the
 * error (no LUKS volume: RP_EFORMAT), each with err set.
 */
int cli_luks_report(const struct cli_luks_args *a, const char *path, struct rp_json *report,
		    struct rp_err *err);

/* Handle one of CLI_KEK_OPTS into o; returns 1 if name is not one of them. */
int cli_kek_arg(const struct cli_cmd *cmd, struct rp_key_opts *o, const char *name,
		const char *arg);

/* Check the KEK options together (one source, https URL): 0 or a usage exit code. */
int cli_kek_check(const struct cli_cmd *cmd, const struct rp_key_opts *o);

/* The key facts for a report (never key bytes). */
struct rp_json *cli_key_info_json(const struct rp_key_info *info);

#endif
