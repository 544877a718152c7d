/* cvmrestore upload: a fixed VHD (and its guest state and VM metadata) to managed-disk upload
 * SASes. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_net.h"
#include "cli/cli_report_json.h"
#include "cli/cli_ops.h"
#include "cli/cli_progress.h"
#include "restore/upload.h"

struct upload_args {
	struct rp_net_opts net;
	const char *guest_state;
	const char *guest_state_url;
	const char *vm_metadata;
	const char *vm_metadata_url;
	const char *seal;
	const char *journal;
	bool create;
	bool verify_all;
	bool quiet;
	struct cli_progress_opts progress;
	bool json;
};

static int set_chunk_size(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			  const char *arg)
{
	(void)o;
	(void)field;
	(void)arg;
	return cli_usage(cmd,
			 "upload always sends 4 MiB pages at most; --chunk-size is for restore");
}

#define A struct upload_args
static const struct cli_opt upload_opts[] = {
    CLI_OPT_STR("guest-state", 0, "FILE", "the guest state (_vmgs) to upload too", A, guest_state),
    CLI_OPT_STR("guest-state-url", 0, "SAS_URL", "where --guest-state goes (securityDataAccessSAS)",
		A, guest_state_url),
    CLI_OPT_STR("vm-metadata", 0, "FILE", "a confidential VM's metadata (_vmmd) to upload too", A,
		vm_metadata),
    CLI_OPT_STR("vm-metadata-url", 0, "SAS_URL",
		"where --vm-metadata goes (securityMetadataAccessSAS)", A, vm_metadata_url),
    CLI_OPT_FLAG("create", 0, "create (or replace) the page blob(s) at the right size", A, create),
    CLI_OPT_FLAG("verify-all", 0, "read back every chunk with data, not a sample", A, verify_all),
    CLI_OPT_STR("seal", 0, "SEAL.json", "compare what is read back with this seal (4M chunks)", A,
		seal),
    CLI_OPT_STR("journal", 0, "FILE", "the resume journal (default IMAGE.upload-journal)", A,
		journal),
    CLI_OPT_FLAG("quiet", 'q', "no progress on the terminal", A, quiet),
    CLI_OPT_FLAG("json", 0, "print a JSON report on stdout", A, json),
    CLI_PROGRESS_OPTS(struct upload_args, progress),
    CLI_TRANSFER_OPS_OPTS(struct upload_args, net),
    CLI_NET_OPTS_CHUNK(A, net, set_chunk_size),
    {0},
};
#undef A

static struct rp_json *report_json(const char *image, const struct rp_upload_report *r, int rc,
				   const char *error)
{
	struct rp_json *o = rp_json_new_object(), *pc = rp_json_new_object();

	rp_json_set_str(o, "image", RP_URL(image));
	rp_json_set_str(o, "target", RP_URL(r->target));
	rp_json_set_u64(o, "image_size", r->image_size);
	rp_json_set_u64(o, "blob_size", r->blob_size);
	rp_json_set_bool(o, "created", r->created);
	rp_json_set_bool(o, "resumed", r->resumed);
	rp_json_set_u64(o, "chunks", r->chunks);
	rp_json_set_u64(o, "chunks_resumed", r->chunks_resumed);
	rp_json_set_u64(o, "chunks_rechecked", r->chunks_rechecked);
	rp_json_set_u64(o, "chunks_resent", r->chunks_resent);
	if (r->journal_old)
		rp_json_set_str(o, "journal_note",
				"the journal was written by an older version and "
				"is not trusted: the upload started over");
	rp_json_set_u64(o, "bytes_sent", r->bytes_sent);
	rp_json_set_u64(o, "bytes_data", r->bytes_data);
	rp_json_set_u64(o, "bytes_skipped", r->bytes_skipped);
	rp_json_set_u64(o, "bytes_cleared", r->bytes_cleared);
	rp_json_set_u64(o, "requests", r->requests);
	rp_json_set_u64(o, "retries", r->retries);
	rp_json_set_str(o, "transport_hash", r->hash ? r->hash : "crc64");
	rp_json_set_u64(pc, "ranges_listed", r->ranges_listed);
	rp_json_set_str(pc, "pages_compared", "every 512-byte page against the pages sent");
	rp_json_set_u64(pc, "bytes_unlisted", r->bytes_unlisted);
	rp_json_set_u64(pc, "bytes_unsent", r->bytes_unsent);
	rp_json_set_u64(pc, "chunks_checked", r->chunks_checked);
	rp_json_set_u64(pc, "chunks_with_data", r->chunks_data);
	rp_json_set(pc, "against",
		    r->check_against ? rp_json_new_string(r->check_against) : rp_json_new_null());
	rp_json_set_u64(pc, "mismatches", r->check_mismatches);
	if (r->check_first[0])
		rp_json_set_str(pc, "first_mismatch", r->check_first);
	rp_json_set(o, "post_check", pc);
	rp_json_set(o, "seconds", rp_json_new_real(r->seconds));
	cli_doc_verdict(o, rp_code_exit(rc));
	if (error)
		rp_json_set_str(o, "error", error);
	return o;
}

static void print_human(FILE *f, const char *what, const struct rp_upload_report *r, int rc)
{
	char a[32], b[32], c[32];

	cli_fmt_size(r->blob_size, a, sizeof(a));
	cli_fmt_size(r->bytes_sent, b, sizeof(b));
	cli_fmt_size(r->bytes_skipped, c, sizeof(c));
	fprintf(f, "%s: %s (%s, %s%s)\n", what, r->target[0] ? RP_TEXT(r->target) : "?",
		r->created ? "new page blob" : "existing page blob", a,
		r->resumed ? ", resumed" : "");
	if (r->resumed)
		fprintf(
		    f,
		    "  resume: %llu chunks the journal listed re-checked against the image, %llu "
		    "changed and sent again\n",
		    (unsigned long long)r->chunks_rechecked, (unsigned long long)r->chunks_resent);
	if (r->journal_old)
		fprintf(f,
			"  note: the journal was written by an older version and is not trusted: "
			"the upload started over\n");
	fprintf(f, "  sent %s in %llu requests (%s), skipped %s of zeros, %llu retries, %.1f s\n",
		b, (unsigned long long)r->requests, r->hash ? r->hash : "crc64", c,
		(unsigned long long)r->retries, r->seconds);
	if (r->check_against)
		fprintf(f,
			"  post-check: page ranges compared page by page with the pages sent; "
			"%llu of %llu chunks with data read back against the %s; %llu "
			"differences\n",
			(unsigned long long)r->chunks_checked, (unsigned long long)r->chunks_data,
			r->check_against, (unsigned long long)r->check_mismatches);
	fprintf(f, "  verdict: %s\n", cli_verdict_word(rp_code_exit(rc)));
}

static int upload_one(struct upload_args *a, const char *image, const char *url,
		      enum rp_upload_kind kind, const struct rp_seal *seal, const char *journal,
		      const char *label, struct rp_upload_report *rep, struct rp_err *err)
{
	struct rp_upload_opts o = {0};
	struct cli_progress prog;
	int rc;

	cli_progress_init(&prog, label, &a->progress, a->quiet, a->json);
	prog.detail = true;
	/* Zero pages are not sent because they are zero (a new page blob reads zeros there), not
	 * because the image never wrote them. */
	prog.skipped_as = "of zero pages skipped";
	o.image = image;
	o.url = url;
	o.kind = kind;
	o.create = a->create;
	o.use_md5 = a->net.th == RP_THR_MD5;
	o.verify_all = a->verify_all;
	o.seal = seal;
	o.journal = journal;
	o.net = a->net;
	if (!o.net.connections) /* no --connections: fewer than restore's */
		o.net.connections = 8;
	o.progress = cli_progress_cb;
	o.progress_ctx = &prog;
	o.progress_detail = cli_progress_detail;
	o.stop = &cli_stop;
	rc = rp_upload_run(&o, rep, err);
	cli_progress_end(&prog);
	return rc;
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct upload_args a = {0};
	struct rp_upload_report disk, side;
	struct rp_seal *seal = NULL;
	struct rp_json *report = NULL;
	const char *pos[2];
	struct rp_err err;
	int npos, rc, out_rc;
	size_t i;
	/* The blobs beside a CVM's disk: any size, each to its own SAS (set once parsed). */
	struct {
		const char *file, *url, *key, *what;
	} extra[] = {
	    {NULL, NULL, "guest_state", "guest state"},
	    {NULL, NULL, "vm_metadata", "VM metadata"},
	};

	cli_net_defaults(&a.net);
	a.net.connections = 0; /* none given: upload's own default (send_one) */
	rc = cli_parse(cmd, argc, argv, &a, pos, 2, &npos);
	if (rc)
		return rc;
	if (npos != 2)
		return cli_usage(cmd, "expected IMAGE and SAS_URL");
	if (!rp_is_url(pos[1]))
		return cli_usage(cmd, "SAS_URL must be an https:// URL");
	extra[0].file = a.guest_state;
	extra[0].url = a.guest_state_url;
	extra[1].file = a.vm_metadata;
	extra[1].url = a.vm_metadata_url;
	if (!!a.guest_state != !!a.guest_state_url)
		return cli_usage(cmd,
				 "--guest-state FILE and --guest-state-url SAS_URL go together");
	if (!!a.vm_metadata != !!a.vm_metadata_url)
		return cli_usage(cmd,
				 "--vm-metadata FILE and --vm-metadata-url SAS_URL go together");
	if (a.vm_metadata && !a.guest_state)
		return cli_usage(cmd, "--vm-metadata goes with --guest-state: a confidential VM's "
				      "OS disk has both");
	if (a.net.th == RP_THR_NONE)
		return cli_usage(cmd, "an upload always sends a per-request hash: --transport-hash "
				      "crc64 or md5");
	if ((rc = cli_net_check_url(cmd, &a.net, pos[1])) != 0 ||
	    (a.guest_state_url && (rc = cli_net_check_url(cmd, &a.net, a.guest_state_url)) != 0))
		return rc;
	if (a.vm_metadata_url && ((rc = cli_net_check_url(cmd, &a.net, a.vm_metadata_url)) != 0))
		return rc;
	if (a.guest_state_url && !rp_is_url(a.guest_state_url))
		return cli_usage(cmd, "--guest-state-url must be an https:// URL");
	if (a.vm_metadata_url && !rp_is_url(a.vm_metadata_url))
		return cli_usage(cmd, "--vm-metadata-url must be an https:// URL");
	if (a.journal && a.guest_state)
		return cli_usage(cmd, "--journal names the disk's journal: not with --guest-state");
	rp_err_init(&err);
	if (a.seal && rp_seal_load(a.seal, &seal, &err) != 0) {
		rp_err_prefix(&err, "seal '%s'", a.seal);
		return cli_fail(cmd, &err);
	}
	rc = upload_one(&a, pos[0], pos[1], RP_UPLOAD_DISK, seal, a.journal, "disk", &disk, &err);
	report = report_json(pos[0], &disk, rc, rc ? RP_MSG(err.msg) : NULL);
	if (!a.json && !a.quiet && (rc == 0 || disk.chunks_checked))
		print_human(stdout, "disk", &disk, rc);
	for (i = 0; rc == 0 && i < sizeof(extra) / sizeof(extra[0]); i++) {
		if (!extra[i].file)
			continue;
		rc = upload_one(&a, extra[i].file, extra[i].url, RP_UPLOAD_GUEST_STATE, NULL, NULL,
				extra[i].what, &side, &err);
		if (rc)
			rp_err_prefix(&err, "%s", extra[i].what);
		rp_json_set(report, extra[i].key,
			    report_json(extra[i].file, &side, rc, rc ? RP_MSG(err.msg) : NULL));
		if (rc)
			cli_doc_verdict(report, rp_code_exit(rc));
		if (!a.json && !a.quiet && (rc == 0 || side.chunks_checked))
			print_human(stdout, extra[i].what, &side, rc);
	}
	cli_doc_envelope(report, CLI_SCHEMA_UPLOAD, "upload");
	out_rc = a.json ? cli_print_json(report) : 0;
	rp_json_free(report);
	rp_seal_free(seal);
	if (rc)
		return cli_fail(cmd, &err);
	return out_rc;
}

const struct cli_cmd cli_cmd_upload = {
    .name = "upload",
    .args = "IMAGE SAS_URL",
    .summary = "upload a fixed VHD (and guest state, VM metadata) to a managed disk's upload SASes",
    .details = "IMAGE must be an Azure-ready fixed VHD (N MiB + 512 bytes; make one with "
	       "'cvmrestore convert IN OUT.vhd').\nSAS_URL is the disk's write SAS (az disk "
	       "grant-access --access-level Write; the page blob must\nhold exactly the file's "
	       "size), or with --create any page blob URL that may be created.\nOnly pages that "
	       "are not all zeros are sent, in Put Page requests of at most 4 MiB, each with\n"
	       "x-ms-content-crc64 (or Content-MD5 with --transport-hash md5), retried with "
	       "backoff.\nA journal (IMAGE.upload-journal) lets the same command resume after a "
	       "failure. Afterwards\nthe target's page ranges are listed and a sample of chunks "
	       "(all with --verify-all) is read\nback and compared with the image (or --seal): "
	       "a difference exits 1. --connections defaults\nto 8 here. SAS signatures never "
	       "appear in the output.",
    .opts = upload_opts,
    .run = run,
};
