/* cvmrestore inspect: every structural fact and every problem of an image. */
#include <string.h>

#include "cli/cli_report_json.h"
#include "cli/cli_util.h"

struct inspect_args {
	struct cli_image_args img;
	bool json;
};

static const struct cli_opt inspect_opts[] = {
    CLI_IMAGE_OPTS(struct inspect_args, img, "read past checksum errors (still listed)"),
    CLI_OPT_FLAG("json", 0, "print one JSON document on stdout", struct inspect_args, json),
    {0},
};

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct inspect_args a = {0};
	struct rp_image *img = NULL;
	struct rp_json *desc = NULL;
	const struct rp_problems *probs;
	const char *pos[1];
	struct rp_err err;
	int npos, rc;
	size_t i;

	rc = cli_parse(cmd, argc, argv, &a, pos, 1, &npos);
	if (rc)
		return rc;
	if (npos != 1)
		return cli_usage(cmd, "expected one IMAGE");
	rc = cli_open_image(cmd, pos[0], &a.img, true, &img);
	if (rc)
		return rc;
	rp_err_init(&err);
	if (rp_image_describe(img, &desc, &err) != 0) {
		rp_err_prefix(&err, "'%s'", pos[0]);
		rc = cli_fail(cmd, &err);
		goto out;
	}
	if (a.json) {
		cli_doc_envelope(desc, CLI_SCHEMA_INSPECT, "inspect");
		rc = cli_print_json(desc);
	} else
		cli_print_tree(stdout, desc, 0);
	if (rc)
		goto out;
	/* The report is printed; the first fatal problem, if any, is the error line. */
	probs = rp_image_problems(img);
	for (i = 0; i < probs->n; i++) {
		if (probs->v[i].code != RP_OK) {
			rp_err_set_hint(&err, probs->v[i].code, probs->v[i].hint, "'%s': %s",
					pos[0], probs->v[i].msg);
			rc = cli_fail(cmd, &err);
			break;
		}
	}
out:
	rp_json_free(desc);
	rp_image_free(img);
	return rc;
}

const struct cli_cmd cli_cmd_inspect = {
    .name = "inspect",
    .args = "IMAGE",
    .summary = "show the format, structures, partitions, LUKS headers and problems of an image",
    .details = "IMAGE is a raw disk, a VHD (fixed, dynamic, differencing) or a VHDX. Every check "
	       "runs and every problem is listed;\nthe exit code is 3 when a problem makes the "
	       "image unreadable.",
    .opts = inspect_opts,
    .run = run,
};
