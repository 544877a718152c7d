/* Key options shared by unwrap, restore and verify (docs/keys.md). */
#ifndef RP_CLI_KEYS_H
#define RP_CLI_KEYS_H

#include "cli/cli_net.h"
#include "restore/keys.h"

/* Where a KEK comes from (struct rp_key_opts at offsetof(T, m)); the network options of
 * cli_net.h say how Key Vault is reached. */
#define CLI_KEK_OPTS(T, m)                                                                         \
	CLI_OPT_STR("kek-file", 0, "FILE",                                                         \
		    "key encryption key: PEM RSA private key, JWK or raw AES", T, m.kek_file),     \
	    CLI_OPT_STR("kek-pass-file", 0, "FILE", "passphrase of an encrypted PEM --kek-file",   \
			T, m.kek_pass_file),                                                       \
	    CLI_OPT_STR("kek-url", 0, "URL",                                                       \
			"Key Vault / Managed HSM key https://VAULT/keys/NAME[/VER]", T,            \
			m.kek_url),                                                                \
	    CLI_OPT_FLAG("allow-rsa1_5", 0, "permit the legacy RSA1_5 algorithm", T,               \
			 m.allow_rsa1_5)

/* A LUKS key check added to restore and verify reports (docs/luks.md); struct cli_luks_args at
 * offsetof(T, m). */
#define CLI_LUKS_OPTS(T, m)                                                                        \
	CLI_OPT_SET("luks-passphrase-file", 0, "FILE",                                             \
		    "check that this passphrase opens a LUKS volume of the disk", T, m,            \
		    cli_set_luks_passphrase_file),                                                 \
	    CLI_OPT_SET("luks-key-file", 0, "FILE",                                                \
			"check that this key file opens a LUKS volume of the disk", T, m,          \
			cli_set_luks_key_file)

struct cli_luks_args {
	const char *passphrase_file;
	const char *key_file;
};

/* Setters of CLI_LUKS_OPTS (field: struct cli_luks_args); one of the two, not both. */
int cli_set_luks_passphrase_file(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
				 const char *arg);
int cli_set_luks_key_file(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
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

/* Check the KEK options together (one source, https URL): 0 or a usage exit code. */
int cli_kek_check(const struct cli_cmd *cmd, const struct rp_key_opts *o);

/* The key facts for a report (never key bytes). */
struct rp_json *cli_key_info_json(const struct rp_key_info *info);

#endif
