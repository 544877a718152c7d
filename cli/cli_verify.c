/*
 * cvmrestore verify: structural checks plus whole-disk digests, or, with a seal, every chunk
 * (or a selection of them: --sample, --rolling, --shard, --max-duration) hashed in parallel and
 * compared with it. One report (docs/report.md) for people, --json, --prometheus and the
 * --audit-log.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_audit.h"
#include "cli/cli_digests.h"
#include "cli/cli_net.h"
#include "cli/cli_report_json.h"
#include "cli/cli_rpsource.h"
#include "cli/cli_verify_run.h"
#include "cli/cli_vselect.h"
#include "common/util.h"
#include "formats/descriptor.h"
#include "restore/cse.h"

static const struct cli_opt verify_opts[] = {
    CLI_OPT_CALL("seal", 0, true, "SEAL.json", "compare every chunk with this seal"),
    CLI_OPT_CALL("disk", 0, true, "NAME",
		 "the disk of a recovery point descriptor (its seal is used)"),
    CLI_OPT_CALL("digests", 0, true, "LIST",
		 "also linear whole-disk digests of every byte: sha256,md5,sha1 "
		 "(default: none; the identity seal-sha256 is always computed)"),
    CLI_OPT_CALL("evidence", 0, false, NULL,
		 "evidence digests: MD5, SHA-1 and SHA-256 of the logical disk "
		 "(a full run)"),
    CLI_OPT_CALL("hash-window", 0, true, "SIZE",
		 "also SHA-256 per window of SIZE bytes, a multiple of 512 "
		 "(full run)"),
    CLI_OPT_CALL("parent", 0, true, "PATH",
		 "parent of a differencing image (repeat, nearest first)"),
    CLI_OPT_CALL("ignore-checksums", 0, false, NULL, "read past checksum errors (still reported)"),
    CLI_OPT_CALL("threads", 0, true, "N", "worker threads (default: number of cores)"),
    CLI_VSEL_OPTS,
    CLI_OPT_CALL("json", 0, false, NULL, "print the report (docs/report.md) as one JSON document"),
    CLI_OPT_CALL("prometheus", 0, true, "FILE",
		 "write node_exporter textfile metrics (atomically)"),
    CLI_OPT_CALL("audit-log", 0, true, "FILE", "append one JSON line per action to FILE"),
    CLI_OPT_CALL("case-id", 0, true, "TEXT",
		 "case identifier, carried into the report and audit log"),
    CLI_OPT_CALL("evidence-id", 0, true, "TEXT", "evidence item identifier"),
    CLI_OPT_CALL("examiner", 0, true, "TEXT", "who ran the examination"),
    CLI_OPT_CALL("notes", 0, true, "TEXT", "free text for the report"),
    CLI_OPT_CALL("allow-outside-sources", 0, false, NULL,
		 "let a descriptor name local files outside its folder (absolute, '..', links)"),
    CLI_OPT_CALL("quiet", 'q', false, NULL, "no progress on the terminal"),
    CLI_NET_OPTS,
    CLI_KEK_OPTS,
    CLI_LUKS_OPTS,
    {0},
};

static int on_opt(void *ctx, const struct cli_cmd *cmd, int idx, const char *arg)
{
	struct verify_args *a = ctx;
	const char *name = cmd->opts[idx].name;
	struct rp_err err;
	int rc;

	rp_err_init(&err);
	if (strcmp(name, "seal") == 0) {
		a->seal = arg;
	} else if (strcmp(name, "disk") == 0) {
		a->disk = arg;
	} else if (strcmp(name, "allow-outside-sources") == 0) {
		a->allow_outside = true;
	} else if (strcmp(name, "digests") == 0) {
		a->digests_set = true;
		return cli_parse_digests(cmd, arg, &a->digests);
	} else if (strcmp(name, "evidence") == 0) {
		a->evidence = true;
	} else if (strcmp(name, "hash-window") == 0) {
		if (rp_parse_size(arg, &a->hash_window, &err) != 0)
			return cli_usage(cmd, "--hash-window: %s", err.msg);
		if (a->hash_window == 0 || a->hash_window % 512)
			return cli_usage(cmd, "--hash-window must be a multiple of 512, not '%s'",
					 arg);
	} else if (strcmp(name, "threads") == 0) {
		return cli_parse_threads(cmd, arg, &a->threads);
	} else if (strcmp(name, "quiet") == 0) {
		a->quiet = true;
	} else if (strcmp(name, "json") == 0) {
		a->json = true;
	} else if (strcmp(name, "prometheus") == 0) {
		a->prometheus = arg;
	} else if (strcmp(name, "audit-log") == 0) {
		a->audit_log = arg;
	} else if (strcmp(name, "case-id") == 0) {
		a->kase.case_id = arg;
	} else if (strcmp(name, "evidence-id") == 0) {
		a->kase.evidence_id = arg;
	} else if (strcmp(name, "examiner") == 0) {
		a->kase.examiner = arg;
	} else if (strcmp(name, "notes") == 0) {
		a->kase.notes = arg;
	} else {
		rc = cli_vsel_arg(cmd, &a->sel, name, arg);
		if (rc == 1)
			rc = cli_image_arg(cmd, &a->img, name, arg);
		if (rc == 1)
			rc = cli_net_arg(cmd, &a->net, name, arg);
		if (rc == 1)
			rc = cli_kek_arg(cmd, &a->keys, name, arg);
		if (rc == 1)
			rc = cli_luks_arg(cmd, &a->luks, name, arg);
		return rc == 1 ? cli_usage(cmd, "unhandled option --%s", name) : rc;
	}
	return 0;
}

/*
 * A recovery point descriptor as SOURCE: pick the disk (--disk, or the only one), use its
 * source (relative to the descriptor's folder) and its seal. Returns true when it printed an
 * error (exit code in *rc).
 */
static bool descriptor_disk(const struct cli_cmd *cmd, struct verify_args *a, const char **src,
			    char **copy, int *rc)
{
	struct rp_descriptor *d = NULL;
	const char *path = *src;
	struct rp_desc_disk *k = NULL;
	struct rp_err err;
	size_t i;

	if (!cli_is_descriptor(path)) {
		if (a->disk) {
			*rc = cli_usage(cmd, "--disk is for a recovery point descriptor");
			return true;
		}
		return false;
	}
	rp_err_init(&err);
	if (rp_descriptor_load(path, &d, &err) != 0) {
		*rc = cli_fail(cmd, &err);
		return true;
	}
	for (i = 0; i < d->ndisks; i++)
		if ((a->disk && strcmp(d->disks[i].name, a->disk) == 0) ||
		    (!a->disk && d->ndisks == 1))
			k = &d->disks[i];
	if (!k) {
		*rc = cli_usage(cmd,
				a->disk ? "the recovery point has no disk named '%s'"
					: "the recovery point has several disks: choose one with "
					  "--disk NAME%s",
				a->disk ? a->disk : "");
		rp_descriptor_free(d);
		return true;
	}
	if (cli_descriptor_source(path, k->source, a->allow_outside, copy, &err) != 0) {
		rp_err_prefix(&err, "disk '%s'", k->name);
		rp_descriptor_free(d);
		*rc = cli_fail(cmd, &err);
		return true;
	}
	a->preset = k->seal;
	k->seal = NULL;
	a->descriptor = path;
	snprintf(a->rp_id, sizeof(a->rp_id), "%s", d->id);
	snprintf(a->disk_name, sizeof(a->disk_name), "%s", k->name);
	rp_descriptor_free(d);
	if (!*copy) {
		rp_err_set(&err, RP_EIO, "out of memory");
		*rc = cli_fail(cmd, &err);
		return true;
	}
	*src = *copy;
	return false;
}

/* Option combinations that cannot work, before anything is opened. */
static int check_args(const struct cli_cmd *cmd, struct verify_args *a)
{
	int rc = cli_vsel_check(cmd, &a->sel);

	if (rc)
		return rc;
	if (cli_vsel_partial(&a->sel) && (a->evidence || a->hash_window || a->digests_set))
		return cli_usage(cmd, "--evidence, --hash-window and --digests need every chunk: "
				      "leave out --sample, --rolling, --shard and --max-duration");
	if (cli_vsel_partial(&a->sel) && !a->seal && !a->preset)
		return cli_usage(cmd, "checking a part of the disk needs a seal (--seal, or a "
				      "recovery point descriptor) to compare the chunks with");
	if (a->evidence)
		a->digests =
		    (1u << RP_DIGEST_SHA256) | (1u << RP_DIGEST_MD5) | (1u << RP_DIGEST_SHA1);
	return 0;
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	char sidecar[4096];
	struct verify_args a;
	char *source_copy = NULL;
	const char *pos[1];
	struct rp_err err;
	int npos, rc;

	memset(&a, 0, sizeof(a));
	cli_audit_init(&a.audit);
	cli_net_defaults(&a.net);
	rc = cli_parse(cmd, argc, argv, on_opt, &a, pos, 1, &npos);
	if (rc)
		return rc;
	if (npos != 1)
		return cli_usage(cmd, "expected one SOURCE");
	if (descriptor_disk(cmd, &a, &pos[0], &source_copy, &rc))
		return rc;
	rc = check_args(cmd, &a);
	if (rc == 0)
		rc = cli_kek_check(cmd, &a.keys);
	if (rc)
		goto out;
	a.keys.http = &a.net.http;
	a.keys.auth = &a.net.auth;
	a.keys.stop = &cli_stop;
	rp_err_init(&err);
	a.started = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &a.t0);
	if (a.audit_log && cli_audit_open(&a.audit, a.audit_log, &err) != 0) {
		rc = cli_fail(cmd, &err);
		goto out;
	}
	if (rp_is_url(pos[0]))
		rc = cli_verify_remote(cmd, &a, pos[0]);
	else if (rp_cse_sidecar(pos[0], sidecar, sizeof(sidecar)))
		rc = cli_verify_encrypted_copy(cmd, &a, pos[0], sidecar);
	else
		rc = cli_verify_local(cmd, &a, pos[0]);
	if (cli_audit_close(&a.audit, &err) != 0 && rc == 0)
		rc = cli_fail(cmd, &err);
out:
	rp_seal_free(a.preset);
	if (source_copy) {
		explicit_bzero(source_copy, strlen(source_copy));
		free(source_copy);
	}
	return rc;
}

const struct cli_cmd cli_cmd_verify = {
    .name = "verify",
    .args = "SOURCE",
    .summary = "check an image: structure and digests, or every chunk against a seal",
    .details = "SOURCE is a local image, an https:// URL (the restore pipeline with nothing "
	       "written) or a recovery\npoint descriptor.\nWithout --seal: the structural checks "
	       "of inspect and the whole-disk digests.\n"
	       "With --seal: every chunk is hashed in parallel and compared; each mismatch is "
	       "reported with its\nindex, offset, length, expected and actual digest, and the "
	       "exit code is 1.\n"
	       "--sample, --rolling, --shard and --max-duration/--max-chunks check a part of the "
	       "chunks (only those\nare read or fetched); a part has no whole-disk digests. "
	       "--state FILE records which run checked\neach chunk. The report, its chunk map "
	       "and the audit log are described in docs/report.md.",
    .opts = verify_opts,
    .run = run,
};
