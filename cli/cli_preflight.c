/* cvmrestore preflight: PASS/FAIL for everything a restore needs, before it starts. */
#include <string.h>

#include "cli/cli_net.h"
#include "cli/cli_report_json.h"
#include "cli/cli_ops.h"
#include "restore/preflight.h"

struct preflight_args {
	struct rp_net_opts net;
	const char *out;
	const char *dns_server;
	bool json;
};

#define A struct preflight_args
static const struct cli_opt preflight_opts[] = {
    CLI_OPT_STR("output", 'o', "OUT", "where the restore would write (checks free space)", A, out),
    CLI_OPT_FLAG("json", 0, "print one JSON document on stdout", A, json),
    CLI_OPT_STR("dns-server", 0, "ADDR[:PORT]",
		"resolve with this DNS server (IPv4) instead of the system's resolvers", A,
		dns_server),
    CLI_LOG_OPTS(struct preflight_args, net),
    CLI_NET_OPTS(A, net),
    {0},
};
#undef A

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct preflight_args a;
	struct rp_preflight pf;
	struct rp_json *o, *arr;
	const char *pos[1];
	struct rp_err err;
	int npos, rc, out_rc = 0;
	unsigned i;

	memset(&a, 0, sizeof(a));
	cli_net_defaults(&a.net);
	rc = cli_parse(cmd, argc, argv, &a, pos, 1, &npos);
	if (rc)
		return rc;
	if (npos != 1)
		return cli_usage(cmd, "expected one SOURCE");
	if (!rp_is_url(pos[0]))
		return cli_usage(cmd, "SOURCE must be an https:// URL");
	rc = cli_net_check_url(cmd, &a.net, pos[0]);
	if (rc)
		return rc;
	rc = rp_preflight_run(pos[0], a.out, &a.net.http, &a.net.auth, a.dns_server, &pf);
	o = cli_doc_new(CLI_SCHEMA_PREFLIGHT, "preflight");
	arr = rp_json_new_array();
	rp_json_set_str(o, "source", RP_URL(pf.source));
	for (i = 0; i < pf.count; i++) {
		const struct rp_check *c = &pf.check[i];
		struct rp_json *e = rp_json_new_object();
		char words[512], text[sizeof(c->hint) + 512];
		const char *flag = cli_hint(cmd, c->flag, NULL, words, sizeof(words));
		bool hint;

		/* The check's hint, then the option that could get past it (as cli_fail says). */
		snprintf(text, sizeof(text), "%s%s%s", c->hint, c->hint[0] && flag ? "; " : "",
			 flag ? flag : "");
		hint = (!c->pass || c->warn) && text[0];

		rp_json_set_str(e, "check", c->name);
		rp_json_set_str(e, "result",
				c->skipped ? "skip"
				: !c->pass ? "fail"
				: c->warn  ? "warn"
					   : "pass");
		rp_json_set_str(e, "detail", c->detail);
		if (hint)
			rp_json_set_str(e, "hint", text);
		rp_json_append(arr, e);
		if (!a.json)
			printf("%-4s %-15s %s%s%s\n",
			       c->skipped ? "SKIP"
			       : !c->pass ? "FAIL"
			       : c->warn  ? "WARN"
					  : "PASS",
			       c->name, RP_TEXT(c->detail), hint ? " -- " : "",
			       hint ? RP_TEXT(text) : "");
	}
	rp_json_set(o, "checks", arr);
	cli_doc_verdict(o, rp_code_exit(rc));
	if (a.json)
		out_rc = cli_print_json(o);
	rp_json_free(o);
	if (rc) {
		for (i = 0; i < pf.count && pf.check[i].pass; i++)
			;
		rp_err_set(&err, rc, "%s check failed: %s", pf.check[i].name, pf.check[i].detail);
		out_rc = cli_fail(cmd, &err);
	}
	return out_rc;
}

const struct cli_cmd cli_cmd_preflight = {
    .name = "preflight",
    .args = "SOURCE",
    .summary = "check DNS, TLS, SAS, the blob, its page ranges and free space before a restore",
    .details = "Every check runs and prints PASS, WARN or FAIL (both with a hint) or SKIP; the "
	       "exit code is 0 only if none failed. The dns check resolves with its own resolver "
	       "and shows the CNAME chain (a public answer is WARN, or FAIL with "
	       "--require-private); the later checks connect to the address it found. The "
	       "entra-id check says whether a managed disk asks for an Entra ID token "
	       "(https://disk.azure.com/) and whether a credential option answered it.",
    .opts = preflight_opts,
    .run = run,
};
