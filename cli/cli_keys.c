#include "cli/cli_keys.h"

#include <string.h>
#include <strings.h>

#include "cli/cli_report_json.h"

#include "formats/image.h"
#include "verify/luks.h"

int cli_kek_check(const struct cli_cmd *cmd, const struct rp_key_opts *o)
{
	if (o->kek_file && o->kek_url)
		return cli_usage(cmd, "give --kek-file or --kek-url, not both");
	if (o->kek_pass_file && !o->kek_file)
		return cli_usage(cmd, "--kek-pass-file goes with --kek-file");
	if (o->kek_url && strncasecmp(o->kek_url, "https://", 8) != 0)
		return cli_usage(cmd,
				 "--kek-url must be an https:// Key Vault or Managed HSM key URL");
	return 0;
}

struct rp_json *cli_key_info_json(const struct rp_key_info *info)
{
	struct rp_json *k = rp_json_new_object();

	if (info->secret[0]) {
		rp_json_set_str(k, "secret", info->secret);
		rp_json_set_bool(k, "bek_wrapped", info->bek_wrapped);
	}
	if (info->kek[0])
		rp_json_set_str(k, "kek", info->kek);
	if (info->kek_type[0])
		rp_json_set_str(k, "kek_type", info->kek_type);
	if (info->alg[0])
		rp_json_set_str(k, "algorithm", info->alg);
	rp_json_set_u64(k, "length", info->len);
	return k;
}

static int luks_one(const struct cli_cmd *cmd, const struct cli_luks_args *a)
{
	if (a->passphrase_file && a->key_file)
		return cli_usage(cmd, "give --luks-passphrase-file or --luks-key-file, not both");
	return 0;
}

int cli_set_luks_passphrase_file(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
				 const char *arg)
{
	struct cli_luks_args *a = field;

	(void)o;
	a->passphrase_file = arg;
	return luks_one(cmd, a);
}

int cli_set_luks_key_file(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			  const char *arg)
{
	struct cli_luks_args *a = field;

	(void)o;
	a->key_file = arg;
	return luks_one(cmd, a);
}

int cli_luks_report(const struct cli_luks_args *a, const char *path, struct rp_json *report,
		    struct rp_err *err)
{
	struct rp_image_opts io = {0};
	struct rp_image *img = NULL;
	struct rp_luks_key key;
	struct rp_luks_result res;
	int rc;

	memset(&res, 0, sizeof(res));
	rc = rp_luks_key_read(a->key_file ? RP_LUKS_KEY_FILE : RP_LUKS_PASSPHRASE,
			      a->key_file ? a->key_file : a->passphrase_file, &key, err);
	if (rc)
		return rc;
	rc = rp_image_open(path, &io, &img, err);
	if (rc == 0)
		rc = rp_luks_check_image(img, &key, NULL, -1, &res, err);
	if (res.count || rc == 0)
		rp_json_set(report, "luks", rp_luks_result_json(&res));
	else
		rp_json_set_str(report, "luks_error", RP_MSG(err->msg));
	if (rc) {
		rp_err_prefix(err, "LUKS check of %s", path);
		cli_doc_verdict(report, rp_code_exit(rc));
		rp_json_set_str(report, "error", RP_MSG(err->msg));
	}
	rp_luks_result_release(&res);
	rp_luks_key_release(&key);
	rp_image_free(img);
	return rc;
}
