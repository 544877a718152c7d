/* Key options shared by unwrap, restore and verify (docs/keys.md). */
#ifndef RP_CLI_KEYS_H
#define RP_CLI_KEYS_H

#include "cli/cli_net.h"
#include "restore/keys.h"

/* Where a KEK comes from; the network options of cli_net.h say how Key Vault is reached. */
#define CLI_KEK_OPTS                                                                               \
	CLI_OPT_CALL("kek-file", 0, true, "FILE",                                                  \
		     "key encryption key: PEM RSA private key, JWK or raw AES"),                   \
	    CLI_OPT_CALL("kek-pass-file", 0, true, "FILE",                                         \
			 "passphrase of an encrypted PEM --kek-file"),                             \
	    CLI_OPT_CALL("kek-url", 0, true, "URL",                                                \
			 "Key Vault / Managed HSM key https://VAULT/keys/NAME[/VER]"),             \
	    CLI_OPT_CALL("allow-rsa1_5", 0, false, NULL, "permit the legacy RSA1_5 algorithm")

/* A LUKS key check added to restore and verify reports (docs/luks.md). */
#define CLI_LUKS_OPTS                                                                              \
	CLI_OPT_CALL("luks-passphrase-file", 0, true, "FILE",                                      \
		     "check that this passphrase opens a LUKS volume of the disk"),                \
	    CLI_OPT_CALL("luks-key-file", 0, true, "FILE",                                         \
			 "check that this key file opens a LUKS volume of the disk")

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
