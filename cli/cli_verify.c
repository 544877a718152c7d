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
#include "cli/cli_ops.h"
#include "cli/cli_progress.h"
#include "cli/cli_report_json.h"
#include "cli/cli_rpsource.h"
#include "cli/cli_verify_run.h"
#include "cli/cli_vselect.h"
#include "common/util.h"
#include "formats/descriptor.h"
#include "restore/cse.h"

static int set_hash_window(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			   const char *arg)
{
	uint64_t *hash_window = field;
	struct rp_err err;

	(void)o;
	rp_err_init(&err);
	if (rp_parse_size(arg, hash_window, &err) != 0)
		return cli_usage(cmd, "--hash-window: %s", err.msg);
	if (*hash_window == 0 || *hash_window % 512)
		return cli_usage(cmd, "--hash-window must be a multiple of 512, not '%s'", arg);
	return 0;
}

#define A struct verify_args
static const struct cli_opt verify_opts[] = {
    CLI_OPT_STR("seal", 0, "SEAL.json",
		"compare every chunk with this seal (a file or an https:// URL)", A, seal),
    CLI_OPT_STR("disk", 0, "NAME", "the disk of a recovery point descriptor (its seal is used)", A,
		disk),
    CLI_OPT_SET("digests", 0, "LIST",
		"also linear whole-disk digests of every byte: sha256,md5,sha1 "
		"(default: none; the identity seal-sha256 is always computed)",
		A, digests, cli_set_digests),
    CLI_OPT_FLAG("evidence", 0,
		 "evidence digests: MD5, SHA-1 and SHA-256 of the logical disk "
		 "(a full run)",
		 A, evidence),
    CLI_OPT_SET("hash-window", 0, "SIZE",
		"also SHA-256 per window of SIZE bytes, a multiple of 512 "
		"(full run)",
		A, hash_window, set_hash_window),
    CLI_IMAGE_OPTS(A, img, "read past checksum errors (still reported)"),
    CLI_OPT_SET("threads", 0, "N", "worker threads (default: number of cores)", A, threads,
		cli_set_threads),
    CLI_VSEL_OPTS(A, sel),
    CLI_OPT_FLAG("json", 0, "print the report (docs/report.md) as one JSON document", A, json),
    CLI_OPT_STR("prometheus", 0, "FILE", "write node_exporter textfile metrics (atomically)", A,
		prometheus),
    CLI_OPT_STR("audit-log", 0, "FILE", "append one JSON line per action to FILE", A, audit_log),
    CLI_OPT_STR("case-id", 0, "TEXT", "case identifier, carried into the report and audit log", A,
		kase.case_id),
    CLI_OPT_STR("evidence-id", 0, "TEXT", "evidence item identifier", A, kase.evidence_id),
    CLI_OPT_STR("examiner", 0, "TEXT", "who ran the examination", A, kase.examiner),
    CLI_OPT_STR("notes", 0, "TEXT", "free text for the report", A, kase.notes),
    CLI_OPT_FLAG("allow-outside-sources", 0,
		 "let a descriptor name local files outside its folder (absolute, '..', links)", A,
		 allow_outside),
    CLI_OPT_FLAG("quiet", 'q', "no progress on the terminal", A, quiet),
    CLI_CHECKSUM_OPTS(A, sum, "the image file as verified (a local image)"),
    CLI_PROGRESS_OPTS(struct verify_args, progress),
    CLI_TRANSFER_OPS_OPTS(struct verify_args, net),
    CLI_NET_OPTS(A, net),
    CLI_KEK_OPTS(A, keys),
    CLI_LUKS_OPTS(A, luks),
    {0},
};
#undef A

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
	a.digests = CLI_DIGESTS_UNSET;
	rc = cli_parse(cmd, argc, argv, &a, pos, 1, &npos);
	if (rc)
		return rc;
	a.digests_set = a.digests != CLI_DIGESTS_UNSET;
	if (!a.digests_set)
		a.digests = 0;
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
	if (a.sum.file && (rp_is_url(pos[0]) || rp_cse_sidecar(pos[0], sidecar, sizeof(sidecar))))
		rc = cli_usage(cmd, "--checksum-file is for a local image: restore a URL or an "
				    "encrypted copy with --checksum-file instead");
	else if (rp_is_url(pos[0]))
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
