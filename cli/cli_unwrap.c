/*
 * cvmrestore unwrap: turn a wrapped disk key (or an ADE BEK secret) into the key bytes, with a
 * local KEK or Key Vault / Managed HSM (docs/keys.md). The key goes to a new file (mode 0600,
 * O_EXCL) or into a pipe; never to a terminal, a log or a report.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_keys.h"
#include "cli/cli_report_json.h"
#include "cli/cli_ops.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/outfile.h"

#define MAX_WRAPPED (16u << 10)

struct unwrap_args {
	struct rp_net_opts net;
	struct rp_key_opts keys;
	const char *alg;
	const char *wrapped_file;
	const char *wrapped_b64;
	const char *secret_url;
	const char *out;
	bool json;
};

#define A struct unwrap_args
static const struct cli_opt unwrap_opts[] = {
    CLI_OPT_STR("alg", 0, "ALG",
		"RSA-OAEP, RSA-OAEP-256, RSA1_5, A128KW, A192KW, A256KW, CKM_AES_KEY_WRAP[_PAD]", A,
		alg),
    CLI_KEK_OPTS(A, keys),
    CLI_OPT_STR("wrapped-file", 0, "FILE", "the wrapped key, as raw bytes", A, wrapped_file),
    CLI_OPT_STR("wrapped-b64", 0, "TEXT", "the wrapped key in base64 or base64url", A, wrapped_b64),
    CLI_OPT_STR("secret-url", 0, "URL", "an ADE BEK secret https://VAULT/secrets/NAME[/VER]", A,
		secret_url),
    CLI_OPT_STR("output", 'o', "KEYFILE", "new file for the key (mode 0600), or - for a pipe", A,
		out),
    CLI_OPT_FLAG("json", 0, "print a JSON report (key id, algorithm, length) on stdout", A, json),
    CLI_LOG_OPTS(struct unwrap_args, net),
    CLI_CONN_OPTS(A, net),
    {0},
};
#undef A

static int read_wrapped(const struct unwrap_args *a, struct rp_secret *w, struct rp_err *err)
{
	size_t n = 0, len;
	int rc;

	if (a->wrapped_file)
		return rp_secret_read_file(a->wrapped_file, MAX_WRAPPED, w, err);
	len = strlen(a->wrapped_b64);
	while (len && (a->wrapped_b64[len - 1] == '\n' || a->wrapped_b64[len - 1] == ' '))
		len--;
	rc = rp_secret_alloc(w, rp_b64_decoded_max(len) + 1, err);
	if (rc)
		return rc;
	rc = rp_b64_decode(a->wrapped_b64, len, RP_B64_ANY | RP_B64_NOPAD, w->p, w->cap, &n, err);
	if (rc) {
		rp_secret_free(w);
		rp_err_prefix(err, "--wrapped-b64");
		return RP_EFORMAT;
	}
	w->len = n;
	return 0;
}

/*
 * Write the key: a new file (0600, written under a temporary name, fsynced and linked into
 * place, the directory fsynced: common/outfile.h; nothing is left on failure) or stdout.
 */
static int write_key(const char *path, const struct rp_secret *key, struct rp_err *err)
{
	struct rp_outfile f;
	struct stat st;
	int rc;

	if (strcmp(path, "-") == 0)
		return rp_outfile_write_all(STDOUT_FILENO, key->p, key->len, "stdout", err);
	if (lstat(path, &st) == 0 && !S_ISLNK(st.st_mode))
		return rp_err_set(err, RP_EUSAGE,
				  "'%s' exists: the key file must be new (remove it first)", path);
	rc = rp_outfile_begin(&f, path, 0600, false, err);
	if (rc)
		return rc;
	rc = rp_outfile_write_all(f.fd, key->p, key->len, f.tmp, err);
	if (rc) {
		rp_outfile_abort(&f);
		return rc;
	}
	return rp_outfile_commit(&f, err);
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct unwrap_args a;
	struct rp_secret wrapped = {0}, key = {0};
	struct rp_key_info info;
	struct rp_auth_opts auth;
	struct rp_err err;
	struct stat ost;
	int rc, nsrc, npos;
	const char *pos[1];

	memset(&a, 0, sizeof(a));
	memset(&info, 0, sizeof(info));
	rp_err_init(&err);
	cli_net_defaults(&a.net);
	rc = cli_parse(cmd, argc, argv, &a, pos, 0, &npos);
	if (rc)
		return rc;
	nsrc = !!a.wrapped_file + !!a.wrapped_b64 + !!a.secret_url;
	if (nsrc != 1)
		return cli_usage(cmd,
				 "give exactly one of --wrapped-file, --wrapped-b64, --secret-url");
	if (!a.out)
		return cli_usage(cmd, "give -o KEYFILE (a new file) or -o - (into a pipe)");
	if (strcmp(a.out, "-") == 0 && isatty(STDOUT_FILENO))
		return cli_usage(cmd, "-o - writes key bytes: redirect stdout into a pipe or file, "
				      "never a terminal");
	if (strcmp(a.out, "-") == 0 && a.json)
		return cli_usage(cmd, "--json and -o - both want stdout; write the key to a file");
	if (!a.secret_url && !a.alg)
		return cli_usage(cmd, "--alg is needed (only --secret-url can take it from tags)");
	if (!a.secret_url && !rp_keys_have_kek(&a.keys))
		return cli_usage(cmd, "give a key encryption key: --kek-file or --kek-url");
	if (a.secret_url && strncasecmp(a.secret_url, "https://", 8) != 0)
		return cli_usage(cmd, "--secret-url must be an https:// Key Vault secret URL");
	rc = cli_kek_check(cmd, &a.keys);
	if (rc)
		return rc;
	if (strcmp(a.out, "-") != 0 && lstat(a.out, &ost) == 0) {
		struct rp_err lerr;

		rp_err_init(&lerr);
		if (S_ISLNK(ost.st_mode)) {
			rp_err_set(&lerr, RP_EIO,
				   "'%s' is a symbolic link; refusing to write through it", a.out);
			return cli_fail(cmd, &lerr);
		}
		return cli_usage(cmd, "'%s' exists: the key file must be new (remove it first)",
				 a.out);
	}
	auth = a.net.auth;
	a.keys.http = &a.net.http;
	a.keys.auth = &auth;
	a.keys.stop = &cli_stop;
	if (a.secret_url) {
		rc = rp_keys_bek(&a.keys, a.secret_url, a.alg, &key, &info, &err);
	} else {
		rc = read_wrapped(&a, &wrapped, &err);
		if (rc == 0)
			rc = rp_keys_unwrap(&a.keys, a.alg, NULL, wrapped.p, wrapped.len, &key,
					    &info, &err);
	}
	if (rc == 0)
		rc = write_key(a.out, &key, &err);
	rp_secret_free(&wrapped);
	rp_secret_free(&key);
	if (rc)
		return cli_fail(cmd, &err);
	if (a.json) {
		struct rp_json *r = cli_key_info_json(&info);

		rp_json_set_str(r, "output", RP_URL(a.out));
		cli_doc_envelope(r, CLI_SCHEMA_UNWRAP, "unwrap");
		rc = cli_print_json(r);
		rp_json_free(r);
		return rc;
	}
	if (strcmp(a.out, "-") != 0)
		fprintf(stderr, "cvmrestore: unwrap: %zu-byte key from %s (%s, %s) written to %s\n",
			info.len, RP_TEXT(info.kek[0] ? info.kek : info.secret),
			info.alg[0] ? info.alg : "base64",
			info.kek_type[0] ? info.kek_type : "no KEK", RP_PATH(a.out));
	return 0;
}

const struct cli_cmd cli_cmd_unwrap = {
    .name = "unwrap",
    .args = "",
    .summary = "unwrap a disk key or an ADE BEK with a local KEK or Key Vault / Managed HSM",
    .details = "The wrapped key comes from --wrapped-file, --wrapped-b64 or an ADE BEK secret "
	       "(--secret-url: its tags name the KEK and algorithm unless --kek-* and --alg are "
	       "given; the result is the passphrase bytes). The key is written to a new file "
	       "(mode 0600) or, with -o -, into a pipe; never to a terminal. Exit 5 when the KEK "
	       "does not unwrap the key, 2 when the algorithm does not fit the KEK. See "
	       "docs/keys.md.",
    .opts = unwrap_opts,
    .run = run,
};
