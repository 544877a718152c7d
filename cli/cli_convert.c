/* cvmrestore convert: any supported image to an Azure-ready fixed VHD or raw. */
#include <string.h>

#include "cli/cli_checksum.h"
#include "cli/cli_report_json.h"
#include "cli/cli_progress.h"
#include "cli/cli_util.h"
#include "common/outfile.h"
#include "restore/convert.h"

struct convert_args {
	struct cli_image_args img;
	struct rp_convert_opts conv;
	struct cli_checksum_args sum;
	bool quiet;
	struct cli_progress_opts progress;
	bool json;
};

static int set_to(const struct cli_cmd *cmd, const struct cli_opt *o, void *field, const char *arg)
{
	enum rp_convert_to *to = field;

	(void)o;
	if (strcmp(arg, "vhd") == 0)
		*to = RP_CONVERT_VHD;
	else if (strcmp(arg, "raw") == 0)
		*to = RP_CONVERT_RAW;
	else
		return cli_usage(cmd, "--to must be vhd or raw, not '%s'", arg);
	return 0;
}

#define A struct convert_args
static const struct cli_opt convert_opts[] = {
    CLI_OPT_SET("to", 0, "vhd|raw", "output format (default vhd: fixed, a whole number of MiB)", A,
		conv.to, set_to),
    CLI_IMAGE_OPTS(A, img, "read past checksum errors"),
    CLI_OPT_FLAG("force", 'f', "replace OUT if it exists", A, conv.force),
    CLI_OPT_SET("threads", 0, "N", "worker threads (default: number of cores)", A, conv.threads,
		cli_set_threads),
    CLI_OPT_FLAG("no-sync", 0, "do not flush OUT to disk before the rename (not crash-safe)", A,
		 conv.no_sync),
    CLI_OPT_FLAG("quiet", 'q', "no progress on the terminal", A, quiet),
    CLI_PROGRESS_OPTS(A, progress),
    CLI_OPT_FLAG("json", 0, "print a JSON report on stdout", A, json),
    CLI_CHECKSUM_OPTS(A, sum, "OUT as written"),
    {0},
};
#undef A

static int report(const struct convert_args *a, const char *in, const char *out,
		  const struct rp_image *img, const struct rp_convert_result *r)
{
	struct rp_json *o = cli_doc_new(CLI_SCHEMA_CONVERT, "convert");
	int rc = 0;

	rp_json_set_str(o, "input", RP_URL(in));
	rp_json_set_str(o, "input_format", rp_image_format_name(img));
	rp_json_set_str(o, "output", RP_URL(out));
	rp_json_set_str(o, "output_format", a->conv.to == RP_CONVERT_VHD ? "vhd-fixed" : "raw");
	rp_json_set_u64(o, "virtual_size", r->virtual_size);
	rp_json_set_u64(o, "output_size", r->output_size);
	rp_json_set_u64(o, "bytes_written", r->bytes_written);
	rp_json_set_u64(o, "bytes_holes", r->bytes_holes);
	rp_json_set(o, "seconds", rp_json_new_real(r->seconds));
	if (a->sum.file)
		rp_json_set_str(o, "checksum_file", RP_URL(a->sum.file));
	if (a->json) {
		rc = cli_print_json(o);
	} else if (!a->quiet) {
		char w[32], s[32];
		cli_fmt_size(r->bytes_written, w, sizeof(w));
		cli_fmt_size(r->output_size, s, sizeof(s));
		printf("converted '%s' (%s) to '%s' (%s, %s): %s written, the rest left as holes, "
		       "in %.1f s\n",
		       RP_PATH(in), rp_image_format_name(img), RP_PATH(out),
		       a->conv.to == RP_CONVERT_VHD ? "fixed VHD" : "raw", s, w, r->seconds);
	}
	rp_json_free(o);
	return rc;
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct convert_args a = {0};
	struct rp_convert_result r;
	struct rp_image *img = NULL;
	struct cli_progress prog;
	const char *pos[2];
	struct rp_err err;
	int npos, rc;

	rc = cli_parse(cmd, argc, argv, &a, pos, 2, &npos);
	if (rc)
		return rc;
	if (npos != 2)
		return cli_usage(cmd, "expected IN and OUT");
	rc = cli_open_image(cmd, pos[0], &a.img, false, &img);
	if (rc)
		return rc;
	cli_progress_init(&prog, "convert", &a.progress, a.quiet, a.json);
	a.conv.progress = cli_progress_cb;
	a.conv.progress_ctx = &prog;
	a.conv.stop = &cli_stop;
	a.conv.out_mode = rp_outfile_mode_like(pos[0]);
	rp_err_init(&err);
	rc = rp_convert(img, pos[1], &a.conv, &r, &err);
	cli_progress_end(&prog);
	/* OUT is complete (and synced unless --no-sync): its checksums from its bytes. */
	if (rc == 0 && a.sum.file)
		rc = cli_checksum_write(&a.sum, &pos[1], 1, &err);
	if (rc) {
		if (rc == RP_EINTR)
			rp_err_set(&err, RP_EINTR, "interrupted; '%s' was not written", pos[1]);
		rc = cli_fail(cmd, &err);
	} else {
		rc = report(&a, pos[0], pos[1], img, &r);
	}
	rp_image_free(img);
	return rc;
}

const struct cli_cmd cli_cmd_convert = {
    .name = "convert",
    .args = "IN OUT",
    .summary = "convert an image (chains included) to an Azure-ready fixed VHD or raw",
    .details =
	"The output is written to OUT.partial and renamed to OUT when complete. A VHD output "
	"has its virtual size\nrounded up to a whole MiB (zero padded); zero and "
	"unallocated ranges become holes.",
    .opts = convert_opts,
    .run = run,
};
