/* cvmrestore restore: one blob (Azure URL, HTTPS mirror) to a verified local file. */
#include <string.h>

#include "cli/cli_digests.h"
#include "cli/cli_net.h"

struct restore_args {
	struct cli_net_args net;
	const char *out;
	const char *seal;
	enum rp_out_format format;
	unsigned digests;
	bool force;
	bool quiet;
	bool json;
};

static const struct cli_opt restore_opts[] = {
	{"output", 'o', true, "OUT", "where to write the disk (required)"},
	{"format", 0, true, "vhd|raw", "vhd keeps the Azure fixed VHD (default for VHD blobs)"},
	{"seal", 0, true, "SEAL.json", "check every chunk's SHA-256 before it is written"},
	{"digests", 0, true, "LIST", "whole-disk digests: sha256,md5,sha1 (default sha256)"},
	{"force", 'f', false, NULL, "replace OUT if it exists"},
	{"quiet", 'q', false, NULL, "no progress on the terminal"},
	{"json", 0, false, NULL, "print a JSON report on stdout"},
	CLI_NET_OPTS,
	{0},
};

static int on_opt(void *ctx, const struct cli_cmd *cmd, int idx, const char *arg)
{
	struct restore_args *a = ctx;
	const char *name = cmd->opts[idx].name;

	if (strcmp(name, "output") == 0) {
		a->out = arg;
	} else if (strcmp(name, "format") == 0) {
		if (strcmp(arg, "vhd") == 0)
			a->format = RP_OUT_VHD;
		else if (strcmp(arg, "raw") == 0)
			a->format = RP_OUT_RAW;
		else
			return cli_usage(cmd, "--format must be vhd or raw, not '%s'", arg);
	} else if (strcmp(name, "seal") == 0) {
		a->seal = arg;
	} else if (strcmp(name, "digests") == 0) {
		return cli_parse_digests(cmd, arg, &a->digests);
	} else if (strcmp(name, "force") == 0) {
		a->force = true;
	} else if (strcmp(name, "quiet") == 0) {
		a->quiet = true;
	} else if (strcmp(name, "json") == 0) {
		a->json = true;
	} else {
		int rc = cli_net_arg(cmd, &a->net, name, arg);
		return rc == 1 ? cli_usage(cmd, "unhandled option --%s", name) : rc;
	}
	return 0;
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct restore_args a = {.digests = 1u << RP_DIGEST_SHA256};
	struct rp_restore_opts o = {0};
	struct rp_restore_report rep;
	struct rp_seal *seal = NULL;
	struct rp_json *report;
	struct cli_progress prog;
	const char *pos[1];
	struct rp_err err;
	int npos, rc, out_rc;

	cli_net_defaults(&a.net);
	rc = cli_parse(cmd, argc, argv, on_opt, &a, pos, 1, &npos);
	if (rc)
		return rc;
	if (npos != 1)
		return cli_usage(cmd, "expected one SOURCE");
	if (!a.out)
		return cli_usage(cmd, "missing -o OUT");
	if (!rp_is_url(pos[0]))
		return cli_usage(cmd, "SOURCE must be an https:// URL (for a local image use convert)");
	rc = cli_net_check_url(cmd, &a.net, pos[0]);
	if (rc)
		return rc;
	rp_err_init(&err);
	if (a.seal && rp_seal_load(a.seal, &seal, &err) != 0) {
		rp_err_prefix(&err, "seal '%s'", a.seal);
		return cli_fail(cmd, &err);
	}
	if (seal)
		a.net.chunk_size = seal->chunk_size;
	cli_progress_init(&prog, "restore", a.quiet || a.json);
	o.url = pos[0];
	o.out = a.out;
	o.format = a.format;
	o.force = a.force;
	o.http = a.net.http;
	o.auth = a.net.auth;
	o.connections = a.net.connections;
	o.chunk_size = a.net.chunk_size;
	o.retries = a.net.retries;
	o.retry_base_ms = a.net.retry_base_ms;
	o.th = a.net.th;
	o.seal = seal;
	o.whole_digests = a.digests;
	o.progress = cli_progress_cb;
	o.progress_ctx = &prog;
	o.stop = &cli_stop;
	rc = rp_restore_run(&o, &rep, &err);
	cli_progress_end(&prog);
	report = cli_net_report(&rep, a.out, a.seal, seal, rc, rc ? err.msg : NULL);
	out_rc = 0;
	if (a.json)
		out_rc = cli_print_json(report);
	else if (!a.quiet && rc == 0)
		cli_net_print(stdout, report);
	rp_json_free(report);
	if (rc)
		out_rc = cli_fail(cmd, &err);
	rp_restore_report_release(&rep);
	rp_seal_free(seal);
	return out_rc;
}

const struct cli_cmd cli_cmd_restore = {
	.name = "restore",
	.args = "SOURCE -o OUT",
	.summary = "restore a disk blob over HTTPS, verified as it streams, sparse and resumable",
	.details = "SOURCE is an https:// Azure blob URL (with a SAS, or a credential option) or the URL "
		   "of any server that\nserves byte ranges. Writes go to OUT.partial with a journal "
		   "OUT.journal; running the same\ncommand again after a failure resumes it. No "
		   "unverified byte reaches OUT.",
	.opts = restore_opts,
	.run = run,
};
