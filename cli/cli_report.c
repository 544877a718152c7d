/* cvmrestore report: a cvmrestore-report/1 JSON document as one self-contained HTML page. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_util.h"
#include "common/outfile.h"
#include "verify/report_html.h"

/* Larger than any report of a disk Azure allows (a chunk map of 65536 chunks, hash windows). */
#define REPORT_MAX_BYTES ((size_t)256 << 20)

struct report_args {
	const char *out;
	bool force;
};

static const struct cli_opt report_opts[] = {
    CLI_OPT_STR("output", 'o', "REPORT.html", "write the page here (required)", struct report_args,
		out),
    CLI_OPT_FLAG("force", 'f', "replace REPORT.html if it exists", struct report_args, force),
    {0},
};

static int exists_error(const char *out, struct rp_err *err)
{
	return rp_err_set(err, RP_EUSAGE, "'%s' exists; use --force to replace it", out);
}

/* Write text to out through a new temporary file in its folder, then rename (or link, which
 * refuses to replace a file that appeared meanwhile, without --force): common/outfile.h. */
static int write_page(const char *out, const char *text, size_t len, bool force, struct rp_err *err)
{
	struct rp_outfile f;
	int rc = rp_outfile_begin(&f, out, 0644, force, err);

	if (rc)
		return rc;
	rc = rp_outfile_write_all(f.fd, text, len, f.tmp, err);
	if (!rc && cli_stop)
		rc = rp_err_set(err, RP_EINTR, "interrupted");
	if (rc) {
		rp_outfile_abort(&f);
		return rc;
	}
	return rp_outfile_commit(&f, err);
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct report_args a = {0};
	struct rp_json *doc = NULL;
	const char *pos[1];
	char *html = NULL;
	struct stat st;
	struct rp_err err;
	size_t len;
	int npos, rc;

	rc = cli_parse(cmd, argc, argv, &a, pos, 1, &npos);
	if (rc)
		return rc;
	if (npos != 1)
		return cli_usage(cmd, "expected one REPORT.json");
	if (!a.out)
		return cli_usage(cmd, "-o REPORT.html is required");
	rp_err_init(&err);
	if (!a.force && lstat(a.out, &st) == 0) {
		exists_error(a.out, &err);
		return cli_fail(cmd, &err);
	}
	/* A report that cannot be read is an I/O failure (exit 4, docs/exit-codes.md); one that
	 * is not a report is malformed input (exit 3). */
	if (stat(pos[0], &st) != 0) {
		rp_err_errno(&err, errno, "cannot read '%s'", pos[0]);
		err.code = RP_EIO;
		return cli_fail(cmd, &err);
	}
	if (!S_ISREG(st.st_mode)) {
		rp_err_set(&err, RP_EIO, "cannot read '%s': not a regular file", pos[0]);
		return cli_fail(cmd, &err);
	}
	rc = rp_json_load_file(pos[0], REPORT_MAX_BYTES, &doc, &err);
	if (!rc) {
		rc = rp_report_html_render(doc, &html, &len, &err);
		if (rc)
			rp_err_prefix(&err, "'%s'", pos[0]);
	}
	if (!rc)
		rc = write_page(a.out, html, len, a.force, &err);
	rc = rc ? cli_fail(cmd, &err) : CLI_EXIT_OK;
	free(html);
	rp_json_free(doc);
	return rc;
}

const struct cli_cmd cli_cmd_report = {
    .name = "report",
    .args = "REPORT.json",
    .summary = "render a JSON report (verify --json) as a self-contained HTML page",
    .details = "The page needs no network and runs no script. It shows the verdict, the case "
	       "metadata, the source,\nand per disk the sizes, coverage, digests, partitions, LUKS "
	       "volumes, mismatches and a picture\nof the chunk map (docs/report-html.md).\nExit 4 "
	       "when REPORT.json cannot be read or the page cannot be written, 3 when "
	       "REPORT.json\nis not a " RP_REPORT_SCHEMA " document (or is over 256 MiB), 2 when "
	       "REPORT.html exists\n(without --force).",
    .opts = report_opts,
    .run = run,
};
