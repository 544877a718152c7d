/* cvmrestore restore: one blob (Azure URL, HTTPS mirror) to a verified local file. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_checksum.h"
#include "cli/cli_digests.h"
#include "cli/cli_keys.h"
#include "cli/cli_net.h"
#include "cli/cli_ops.h"
#include "cli/cli_progress.h"
#include "cli/cli_report_json.h"
#include "cli/cli_rpsource.h"
#include "common/outfile.h"
#include "formats/descriptor.h"
#include "restore/convert.h"
#include "restore/cse.h"
#include "restore/seal_source.h"

struct restore_args {
	struct rp_net_opts net;
	struct rp_key_opts keys;
	struct cli_luks_args luks;
	const char *out;
	const char *disk;
	const char *out_dir;
	bool all;
	bool exact; /* copy a local source byte for byte (the guest state, VM metadata) */
	const char *seal;
	enum rp_out_format format;
	unsigned digests;
	bool digests_set; /* --digests given: computed even with a seal */
	bool force;
	bool no_space_check;
	bool allow_outside; /* --allow-outside-sources */
	bool quiet;
	struct cli_progress_opts progress;
	bool json;
	const char *report; /* --report FILE */
	struct cli_checksum_args sum;
	const char *descriptor; /* the recovery point descriptor SOURCE, if it is one */
	char **summed;		/* --all: the files written, for --checksum-file at the end */
	size_t nsummed;
};

static int set_format(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		      const char *arg)
{
	enum rp_out_format *format = field;

	(void)o;
	if (strcmp(arg, "vhd") == 0)
		*format = RP_OUT_VHD;
	else if (strcmp(arg, "raw") == 0)
		*format = RP_OUT_RAW;
	else
		return cli_usage(cmd, "--format must be vhd or raw, not '%s'", arg);
	return 0;
}

#define A struct restore_args
static const struct cli_opt restore_opts[] = {
    CLI_OPT_STR("output", 'o', "OUT", "where to write the disk", A, out),
    CLI_OPT_STR("disk", 0, "NAME", "the disk of a recovery point descriptor to restore", A, disk),
    CLI_OPT_FLAG("all", 0, "every blob of a recovery point descriptor, into --out-dir", A, all),
    CLI_OPT_STR("out-dir", 0, "DIR", "where --all writes (NAME.vhd, guest_state.blob, ...)", A,
		out_dir),
    CLI_OPT_SET("format", 0, "vhd|raw", "vhd keeps the Azure fixed VHD (default for VHD blobs)", A,
		format, set_format),
    CLI_OPT_STR(
	"seal", 0, "SEAL.json",
	"check every chunk's SHA-256 before it is written (SEAL.json: a file or an https:// URL)",
	A, seal),
    CLI_OPT_SET("digests", 0, "LIST",
		"also linear whole-disk digests of every byte: sha256,md5,sha1 "
		"(default: none; the identity seal-sha256 is always computed, and a "
		"seal's digests are shown as its claim)",
		A, digests, cli_set_digests),
    CLI_OPT_FLAG("force", 'f', "replace OUT if it exists", A, force),
    CLI_OPT_FLAG("no-space-check", 0,
		 "start even if the bytes to write exceed the free space where OUT goes", A,
		 no_space_check),
    CLI_OPT_FLAG("allow-outside-sources", 0,
		 "let a descriptor name local files outside its folder (absolute, '..', links)", A,
		 allow_outside),
    CLI_OPT_FLAG("quiet", 'q', "no progress on the terminal", A, quiet),
    CLI_OPT_FLAG("json", 0, "print a JSON report on stdout", A, json),
    CLI_OPT_STR("report", 0, "FILE", "also write the cvmrestore-report/1 document (docs/report.md)",
		A, report),
    CLI_CHECKSUM_OPTS(A, sum, "OUT as written (with --all: every file)"),
    CLI_PROGRESS_OPTS(struct restore_args, progress),
    CLI_TRANSFER_OPS_OPTS(struct restore_args, net),
    CLI_NET_OPTS(A, net),
    CLI_KEK_OPTS(A, keys),
    CLI_LUKS_OPTS(A, luks),
    {0},
};
#undef A

/* --checksum-file: the file just completed now (one disk), or every file of --all at the end. */
static int checksum_out(struct restore_args *a, const char *out, struct rp_err *err)
{
	char **v;

	if (!a->sum.file)
		return 0;
	if (!a->all)
		return cli_checksum_write(&a->sum, &out, 1, err);
	v = realloc(a->summed, (a->nsummed + 1) * sizeof(*v));
	if (!v)
		return rp_err_set(err, RP_EIO, "out of memory");
	a->summed = v;
	if (!(v[a->nsummed] = strdup(out)))
		return rp_err_set(err, RP_EIO, "out of memory");
	a->nsummed++;
	return 0;
}

/* --report FILE: the run in the envelope verify --json uses, written atomically. The run's
 * own failure wins over a failure to write the report. */
static int write_report(const struct restore_args *a, const struct rp_restore_report *rep,
			const struct rp_seal *seal, const char *seal_path, const char *out,
			const char *label, time_t started, int rc, struct rp_err *err)
{
	struct rp_json *doc;
	struct rp_err werr;
	int wrc;

	if (!a->report)
		return rc;
	rp_err_init(&werr);
	doc = cli_report_restore("restore", rep, seal, out, label[0] ? label : NULL, started,
				 time(NULL), rc ? err : NULL);
	/* The seal's file (or the descriptor holding it), the host and the libraries. */
	if (doc && seal_path)
		cli_report_provenance(doc,
				      strcmp(seal_path, "descriptor") == 0 && a->descriptor
					  ? a->descriptor
					  : seal_path,
				      strcmp(seal_path, "descriptor") == 0 ? "descriptor" : "file");
	else if (doc)
		cli_report_provenance(doc, NULL, NULL);
	wrc = doc ? rp_json_write_file(a->report, doc, &werr) : RP_EIO;
	rp_json_free(doc);
	if (wrc && rc == 0) {
		rp_err_set(err, wrc, "--report %s: %s", a->report, werr.msg);
		return wrc;
	}
	return rc;
}

/* One blob or file to OUT; the report goes into reports (an array). */
static int restore_one(const struct cli_cmd *cmd, struct restore_args *a, const char *source,
		       const char *out, const struct rp_seal *seal, const char *seal_path,
		       const char *label, struct rp_json *reports, struct rp_err *err)
{
	struct cli_progress prog;
	struct rp_json *report;
	char sidecar[4096];
	time_t started = time(NULL);
	bool copy;
	int rc;

	(void)cmd;
	cli_progress_init(&prog, label[0] ? label : "restore", &a->progress, a->quiet, a->json);
	/* An offline copy of a client-side encrypted blob (its metadata beside it) takes the same
	 * options as a URL; the network ones go unused. */
	copy = !rp_is_url(source) && rp_cse_sidecar(source, sidecar, sizeof(sidecar));
	if (a->exact && !copy && !rp_is_url(source)) {
		/* A guest state or VM metadata file: every byte as it is (a VHD-packaged guest
		 * state keeps its own footer), nothing interpreted. */
		struct stat st;

		rc = rp_outfile_copy(source, out, a->force, err);
		if (rc == 0)
			rc = checksum_out(a, out, err);
		report = cli_doc_new(CLI_SCHEMA_RESTORE, "restore");
		rp_json_set_str(report, "source", source);
		rp_json_set(report, "output", rp_json_new_string(out));
		rp_json_set_str(report, "output_format", "exact");
		if (rc == 0 && stat(out, &st) == 0)
			rp_json_set_u64(report, "bytes_written", (uint64_t)st.st_size);
		cli_doc_verdict(report, rp_code_exit(rc));
		if (rc)
			rp_json_set_str(report, "error", err->msg);
	} else if (copy || rp_is_url(source)) {
		struct rp_restore_opts o = {0};
		struct rp_restore_report rep;

		o.url = source;
		o.out = out;
		o.format = a->format;
		o.force = a->force;
		o.no_space_check = a->no_space_check;
		o.net = a->net;
		if (seal)
			o.net.chunk_size = seal->chunk_size;
		o.seal = seal;
		/* The identity (seal-sha256, from the chunk digests) always; the linear
		 * whole-disk digests (every byte, holes included) when asked for. The seal's own
		 * are shown as its claim (cli_seal_claims_json), never as the disk's. */
		o.whole_digests = a->digests_set ? a->digests : 0;
		o.keys = &a->keys;
		o.progress = cli_progress_cb;
		o.progress_ctx = &prog;
		o.progress_detail = cli_progress_detail;
		o.stop = &cli_stop;
		rc = copy ? rp_cse_file_run(&o, sidecar, &rep, err) : rp_restore_run(&o, &rep, err);
		if (rc == 0)
			rc = checksum_out(a, out, err);
		rc = write_report(a, &rep, seal, seal_path, out, label, started, rc, err);
		report =
		    cli_net_report(&rep, out, seal_path, seal, rc, rc ? RP_MSG(err->msg) : NULL);
		rp_restore_report_release(&rep);
	} else {
		/* An offline copy: read through the image layer, checked against the seal. */
		struct rp_image_opts io = {0};
		struct rp_convert_opts co = {0};
		struct rp_convert_result cr;
		struct rp_image *img = NULL;

		memset(&cr, 0, sizeof(cr));
		rc = a->report
			 ? rp_err_set(err, RP_EUSAGE,
				      "--report is for URLs and encrypted copies; for a local "
				      "image, verify OUT --json gives the report")
			 : rp_image_open(source, &io, &img, err);
		if (rc == 0) {
			co.to = a->format == RP_OUT_RAW || (a->format == RP_OUT_AUTO &&
							    rp_image_format(img) == RP_IMAGE_RAW)
				    ? RP_CONVERT_RAW
				    : RP_CONVERT_VHD;
			co.force = a->force;
			co.expect = seal;
			co.out_mode = rp_outfile_mode_like(source);
			co.progress = cli_progress_cb;
			co.progress_ctx = &prog;
			co.stop = &cli_stop;
			rc = rp_convert(img, out, &co, &cr, err);
			if (rc == 0)
				rc = checksum_out(a, out, err);
		}
		report = cli_doc_new(CLI_SCHEMA_RESTORE, "restore");
		rp_json_set_str(report, "source", RP_URL(source));
		rp_json_set(report, "output", rp_json_new_string(out));
		if (img)
			rp_json_set_str(report, "input_format", rp_image_format_name(img));
		rp_json_set_str(report, "output_format", co.to == RP_CONVERT_RAW ? "raw" : "vhd");
		rp_json_set_u64(report, "virtual_size", cr.virtual_size);
		rp_json_set_u64(report, "bytes_written", cr.bytes_written);
		rp_json_set(report, "seal",
			    seal_path ? rp_json_new_string(RP_URL(seal_path)) : rp_json_new_null());
		rp_json_set_u64(report, "chunks_compared", cr.chunks_compared);
		rp_json_set(report, "seconds", rp_json_new_real(cr.seconds));
		cli_doc_verdict(report, rp_code_exit(rc));
		if (rc)
			rp_json_set_str(report, "error", RP_MSG(err->msg));
		rp_image_free(img);
	}
	cli_progress_end(&prog);
	/* The key check reads the verified output, as an operator would open it. */
	if (rc == 0 && cli_luks_wanted(&a->luks) && !a->all)
		rc = cli_luks_report(&a->luks, out, report, err);
	if (label[0])
		rp_json_set_str(report, "name", label);
	if (!a->json && !a->quiet && rc == 0) {
		if (rp_json_get(report, "etag"))
			cli_net_print(stdout, report);
		else
			cli_print_tree(stdout, report, 0);
		if (rp_json_get(report, "luks")) {
			printf("luks:\n");
			cli_print_tree(stdout, rp_json_get(report, "luks"), 1);
		}
	}
	rp_json_append(reports, report);
	return rc;
}

static int run_descriptor(const struct cli_cmd *cmd, struct restore_args *a, const char *path,
			  struct rp_json *reports, struct rp_err *err)
{
	struct rp_descriptor *d = NULL;
	struct rp_seal *override = NULL;
	struct rp_err first_err;
	size_t i, chosen = 0;
	int rc, first = 0;

	rc = rp_descriptor_load(path, &d, err);
	if (rc)
		return rc;
	a->descriptor = path;
	if (a->all && mkdir(a->out_dir, 0755) != 0 && errno != EEXIST) {
		rc = rp_err_errno(err, errno, "cannot create '%s'", a->out_dir);
		goto out;
	}
	if (a->seal && (rc = rp_seal_source_load(a->seal, &a->net, &override, err)) != 0)
		goto out;
	for (i = 0; i < d->ndisks && rc == 0; i++) {
		struct rp_desc_disk *k = &d->disks[i];
		char out[4096], *src;
		int one;

		if (!a->all && !(a->disk && strcmp(a->disk, k->name) == 0))
			continue;
		chosen++;
		if (a->all)
			snprintf(out, sizeof(out), "%s/%s.%s", a->out_dir, k->name,
				 a->format == RP_OUT_RAW ? "raw" : "vhd");
		else
			snprintf(out, sizeof(out), "%s", a->out);
		rc = cli_descriptor_source(path, k->source, a->allow_outside, &src, err);
		if (rc) {
			rp_err_prefix(err, "disk '%s'", k->name);
			break;
		}
		one = restore_one(cmd, a, src, out, override ? override : k->seal,
				  override  ? a->seal
				  : k->seal ? "descriptor"
					    : NULL,
				  k->name, reports, err);
		free(src);
		if (one) {
			/* --all goes on with the other disks; the first failure is the error. */
			rp_err_prefix(err, "disk '%s'", k->name);
			if (!first) {
				first = one;
				first_err = *err;
			}
			if (!a->all) {
				rc = one;
				break;
			}
		}
	}
	if (rc == 0 && a->all) {
		const struct rp_desc_blob *extra[2] = {&d->guest_state, &d->vm_metadata};
		static const char *const names[2] = {"guest_state", "vm_metadata"};
		enum rp_out_format keep = a->format;

		/* The guest state and VM metadata keep their own format: a blob as the service
		 * holds it (auto keeps a VHD's footer), a local file copied byte for byte. */
		a->format = RP_OUT_AUTO;
		a->exact = true;
		for (i = 0; i < 2; i++) {
			char out[4096], *src;
			int one;
			if (!extra[i]->source)
				continue;
			snprintf(out, sizeof(out), "%s/%s.blob", a->out_dir, names[i]);
			one = cli_descriptor_source(path, extra[i]->source, a->allow_outside, &src,
						    err);
			if (one) {
				rp_err_prefix(err, "%s", names[i]);
				if (!first) {
					first = one;
					first_err = *err;
				}
				continue;
			}
			one = restore_one(cmd, a, src, out, NULL, NULL, names[i], reports, err);
			free(src);
			if (one && !first) {
				rp_err_prefix(err, "%s", names[i]);
				first = one;
				first_err = *err;
			}
		}
		a->format = keep;
		a->exact = false;
	}
	if (rc == 0 && chosen == 0)
		rc = rp_err_set(err, RP_EUSAGE, "the recovery point has no disk named '%s'",
				a->disk ? a->disk : "");
	if (rc == 0 && !first && a->all && a->sum.file)
		rc = cli_checksum_write(&a->sum, (const char *const *)a->summed, a->nsummed, err);
	if (rc == 0 && first) {
		rc = first;
		*err = first_err;
	}
out:
	rp_seal_free(override);
	rp_descriptor_free(d);
	return rc;
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct restore_args a = {0};
	struct rp_seal *seal = NULL;
	struct rp_json *reports;
	const char *pos[1];
	struct rp_err err;
	int npos, rc, out_rc = 0;

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
	rc = cli_kek_check(cmd, &a.keys);
	if (rc)
		return rc;
	a.keys.http = &a.net.http;
	a.keys.auth = &a.net.auth;
	a.keys.stop = &cli_stop;
	rp_err_init(&err);
	reports = rp_json_new_array();
	if (cli_is_descriptor(pos[0])) {
		if (a.all == !!a.disk)
			rc = cli_usage(cmd, "a recovery point needs --disk NAME -o OUT, or --all "
					    "--out-dir DIR");
		else if (a.all && (!a.out_dir || a.out))
			rc = cli_usage(cmd, "--all writes into --out-dir DIR (not -o)");
		else if (a.all && a.report)
			rc = cli_usage(cmd, "--report is for one disk (--disk NAME)");
		else if (a.disk && !a.out)
			rc = cli_usage(cmd, "missing -o OUT");
		if (rc) {
			rp_json_free(reports);
			return rc;
		}
		rc = run_descriptor(cmd, &a, pos[0], reports, &err);
	} else {
		if (!a.out || a.all || a.disk) {
			rp_json_free(reports);
			return cli_usage(cmd, a.out ? "--disk and --all are for a recovery point "
						      "descriptor"
						    : "missing -o OUT");
		}
		if (rp_is_url(pos[0]) && (rc = cli_net_check_url(cmd, &a.net, pos[0])) != 0) {
			rp_json_free(reports);
			return rc;
		}
		if (a.seal && rp_seal_source_load(a.seal, &a.net, &seal, &err) != 0) {
			rp_json_free(reports);
			return cli_fail(cmd, &err);
		}
		rc = restore_one(cmd, &a, pos[0], a.out, seal, a.seal, "", reports, &err);
	}
	if (a.json) {
		/* One disk: its report; several: {"disks": [...]} with a verdict each. */
		if (rp_json_array_size(reports) == 1 && !a.all) {
			out_rc = cli_print_json(rp_json_array_at(reports, 0));
		} else {
			struct rp_json *o = cli_doc_new(CLI_SCHEMA_RESTORE, "restore");
			cli_doc_verdict(o, rp_code_exit(rc));
			rp_json_set(o, "disks", reports);
			reports = NULL;
			out_rc = cli_print_json(o);
			rp_json_free(o);
		}
	}
	rp_json_free(reports);
	if (rc)
		out_rc = cli_fail(cmd, &err);
	rp_seal_free(seal);
	while (a.nsummed)
		free(a.summed[--a.nsummed]);
	free(a.summed);
	return out_rc;
}

const struct cli_cmd cli_cmd_restore = {
    .name = "restore",
    .args = "SOURCE (-o OUT | --disk NAME -o OUT | --all --out-dir DIR)",
    .summary = "restore a disk blob over HTTPS, verified as it streams, sparse and resumable",
    .details = "SOURCE is an https:// Azure blob URL (with a SAS, or a credential option), the URL "
	       "of any server that\nserves byte ranges, a local image (an offline copy), or a "
	       "recovery point descriptor\n(docs/recovery-point.md). Network writes go to "
	       "OUT.partial with a journal OUT.journal;\nrunning the same command again after a "
	       "failure resumes it. No unverified byte reaches OUT.\nOUT.lock is held for the "
	       "whole run: a second restore to OUT exits 4 naming its PID.\nA restore whose "
	       "bytes do not fit in the free space is refused before it starts (exit 4;\n"
	       "--no-space-check tries anyway). A name planted at OUT.partial is refused "
	       "(docs/files.md).",
    .opts = restore_opts,
    .run = run,
};
