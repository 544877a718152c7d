/*
 * verify of a local image or a URL (cli_verify_run.h): the passes over the selected chunks,
 * the evidence of what was read, and the report, metrics and audit lines.
 */
#include "cli/cli_verify_run.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "net/http.h"
#include "restore/blob_read.h"
#include "restore/seal_source.h"
#include "restore/verify_run.h"
#include "verify/luks.h"

#define DEFAULT_CHUNK RP_CHUNK_DEFAULT

/*
 * The --luks-* key check after a pass. Its volumes replace the report's header-only LUKS
 * list of d; a key that opens nothing, or (URL) a chunk that does not check
 * out, is a reason of d (exit 1); anything else that stops the check is code and err (with a
 * reason code, or NULL for the default), and the pass's own results stand.
 */
struct cli_vluks {
	struct verify_args *a;
	struct cli_disk_report *d;
	int code;
	struct rp_err err;
	const char *reason;
};

/* ---- the --luks-* key check, after the pass: on the local image, or on a URL through
 * verified chunk reads (restore/blob_read.h) ---- */

/* A failed read of the LUKS check on a URL: data that did not check out fails the disk (exit 1);
 * anything else is an error of the check. The pass's results are kept either way. */
static void blob_failure(struct cli_vluks *k, const struct rp_err *e)
{
	if (e->code == RP_EVERIFY) {
		cli_disk_reason(k->d, rp_reason_name(rp_err_reason_of(e)), "LUKS check: %s",
				e->msg);
		return;
	}
	k->code = rp_err_set_reason(&k->err, e->code, e->reason, "LUKS check: %s", e->msg);
	if (e->reason != RP_R_NONE)
		k->reason = rp_reason_name(e->reason);
}

/* The key check of --luks-*: its volumes replace the report's header-only luks list; a key
 * that opens nothing fails the disk (luks-no-key), a volume that cannot be checked is an error. */
static void luks_check(struct cli_vluks *k, struct rp_image *img, const struct rp_blob_reader *r)
{
	const struct cli_luks_args *l = &k->a->luks;
	struct rp_luks_result res;
	struct rp_luks_key key;
	struct rp_json *vols, *f;
	struct rp_err err;
	size_t i;
	int rc;

	memset(&res, 0, sizeof(res));
	rp_err_init(&err);
	rc = rp_luks_key_read(l->key_file ? RP_LUKS_KEY_FILE : RP_LUKS_PASSPHRASE,
			      l->key_file ? l->key_file : l->passphrase_file, &key, &err);
	if (rc == 0) {
		rc = rp_luks_check_image(img, &key, NULL, -1, &res, &err);
		rp_luks_key_release(&key);
	}
	/* A blob chunk that did not check out is that failure, not the key's. */
	if (r && rp_blob_reader_failure(r, &err)) {
		blob_failure(k, &err);
		rp_luks_result_release(&res);
		return;
	}
	vols = rp_json_new_array();
	for (i = 0; i < res.count; i++)
		rp_json_append(vols, rp_luks_volume_json(&res.vol[i]));
	if (res.count) {
		rp_json_free(k->d->luks);
		k->d->luks = vols;
	} else {
		rp_json_free(vols);
	}
	f = rp_json_new_object();
	rp_json_set_str(f, "key", l->key_file ? "key file" : "passphrase file");
	rp_json_set_str(f, "key_path", RP_URL(l->key_file ? l->key_file : l->passphrase_file));
	rp_json_set_u64(f, "volumes", res.count);
	rp_json_set_str(f, "result",
			rc == 0		   ? "opened"
			: rc == RP_EVERIFY ? "no-key-opened"
					   : "error");
	cli_audit_event(&k->a->audit, "key-check", f);
	if (rc == RP_EVERIFY)
		cli_disk_reason(k->d, "luks-no-key", "%s", RP_MSG(err.msg));
	else if (rc) {
		k->err = err; /* its hint too */
		rp_err_prefix(&k->err, "LUKS check");
		k->code = rc;
	}
	rp_luks_result_release(&res);
}

static void audit_blob_chunk(void *ctx, uint64_t index, uint64_t off, uint64_t len)
{
	struct cli_vluks *k = ctx;
	struct rp_json *f = rp_json_new_object();

	rp_json_set_str(f, "source", "blob");
	rp_json_set_u64(f, "offset", off);
	rp_json_set_u64(f, "length", len);
	rp_json_set_u64(f, "first_chunk", index);
	rp_json_set_u64(f, "chunks", 1);
	rp_json_set_str(f, "purpose", "LUKS key check");
	cli_audit_event(&k->a->audit, "read", f);
}

static void vluks_remote(struct cli_vluks *k, const char *url, const char *etag, uint64_t blob_size,
			 enum rp_transport_hash th, const struct rp_seal *seal)
{
	struct verify_args *a = k->a;
	struct rp_blob_reader_opts ro = {
	    .url = url,
	    .net = &a->net,
	    .etag = etag,
	    .blob_size = blob_size,
	    .th = th,
	    .seal = seal,
	    .on_chunk = audit_blob_chunk,
	    .on_chunk_ctx = k,
	    .stop = &cli_stop,
	};
	struct rp_blob_reader *r = NULL;
	struct rp_image *img = NULL;
	struct rp_err e;
	int rc;

	rp_err_init(&e);
	rc = rp_blob_reader_open(&ro, &r, &e);
	if (rc == 0)
		rc = rp_blob_reader_image(r, &img, &e);
	if (rc)
		blob_failure(k, &e);
	else
		luks_check(k, img, r);
	rp_image_free(img);
	rp_blob_reader_free(r);
}

static void vluks_local(struct cli_vluks *k, struct rp_image *img)
{
	luks_check(k, img, NULL);
}

/* ---- the passes ---- */

struct vrun {
	const struct cli_cmd *cmd;
	struct verify_args *a;
	struct cli_vsel v;
	struct cli_disk_report d;
	struct cli_report_source src;
	bool identity_done;
	uint8_t identity[32];
	bool whole_done[RP_DIGEST_COUNT];
	uint8_t whole[RP_DIGEST_COUNT][RP_DIGEST_MAX];
	uint8_t *windows;
	struct rp_seal *seal;
	int code; /* the run's error (0: none), message in err */
	struct rp_err err;
	struct cli_vluks luks; /* the --luks-* check after the pass */
	char display[1024];    /* the source as reported: a path, a URL without its query */
	char url[1024];	       /* a URL's display form */
	char etag[128];
};

static void vrun_init(struct vrun *vr, const struct cli_cmd *cmd, struct verify_args *a)
{
	memset(vr, 0, sizeof(*vr));
	vr->cmd = cmd;
	vr->a = a;
	vr->v.a = &a->sel;
	rp_err_init(&vr->err);
	vr->luks.a = a;
	vr->luks.d = &vr->d;
	rp_err_init(&vr->luks.err);
}

static void vrun_release(struct vrun *vr)
{
	cli_vsel_release(&vr->v);
	rp_json_free(vr->d.coverage);
	rp_json_free(vr->d.luks);
	free(vr->windows);
	rp_seal_free(vr->seal);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s && s[1] ? s + 1 : p;
}

/* The seal: --seal FILE, or the descriptor's. Returns 0 or the error code (in vr->err). */
static int load_seal(struct vrun *vr)
{
	struct verify_args *a = vr->a;
	struct stat st;
	int rc;

	if (a->seal) {
		rc = rp_seal_source_load(a->seal, &a->net, &vr->seal, &vr->err);
		if (rc)
			return rc;
		if (stat(a->seal, &st) == 0) {
			struct rp_json *f = rp_json_new_object();
			rp_json_set_str(f, "role", "seal");
			rp_json_set_str(f, "how", "read-only (fopen \"r\"), parsed as JSON");
			rp_json_set(f, "file", cli_audit_stat_json(a->seal, &st));
			cli_audit_event(&a->audit, "open", f);
		}
	} else if (a->preset) {
		vr->seal = a->preset;
		a->preset = NULL;
	}
	if (a->descriptor && stat(a->descriptor, &st) == 0) {
		struct rp_json *f = rp_json_new_object();
		rp_json_set_str(f, "role", "recovery point descriptor");
		rp_json_set_str(f, "how", "read-only, parsed as JSON");
		rp_json_set(f, "file", cli_audit_stat_json(a->descriptor, &st));
		cli_audit_event(&a->audit, "open", f);
	}
	return 0;
}

/* One audit line per run of consecutive chunks that were read (or fetched). */
static void audit_reads(struct vrun *vr, const char *what)
{
	const struct cli_vsel *v = &vr->v;
	uint64_t i = 0, start, n;

	if (vr->a->audit.fd < 0 || !v->ready)
		return;
	while (i < v->chunk_count) {
		struct rp_json *f;

		if (!cli_vsel_checked(v, i) ||
		    rp_seal_chunk_state(v->actual, i) == RP_CHUNK_UNALLOCATED) {
			i++;
			continue;
		}
		start = i;
		while (i < v->chunk_count && cli_vsel_checked(v, i) &&
		       rp_seal_chunk_state(v->actual, i) != RP_CHUNK_UNALLOCATED)
			i++;
		n = i * v->chunk_size < v->virtual_size ? i * v->chunk_size : v->virtual_size;
		f = rp_json_new_object();
		rp_json_set_str(f, "source", what);
		rp_json_set_u64(f, "offset", start * v->chunk_size);
		rp_json_set_u64(f, "length", n - start * v->chunk_size);
		rp_json_set_u64(f, "first_chunk", start);
		rp_json_set_u64(f, "chunks", i - start);
		cli_audit_event(&vr->a->audit, "read", f);
	}
}

static void audit_digests(struct vrun *vr, const char *from)
{
	struct cli_audit *au = &vr->a->audit;
	unsigned k;

	if (vr->identity_done) {
		struct rp_json *f = rp_json_new_object();
		char hex[65];

		rp_hex(vr->identity, 32, hex);
		rp_json_set_str(f, "scope", "logical disk (chunk records)");
		rp_json_set_str(f, "algorithm", RP_SEAL_IDENTITY_NAME);
		rp_json_set_str(f, "value", hex);
		rp_json_set_str(f, "from", from);
		cli_audit_event(au, "digest", f);
	}
	for (k = 0; k < RP_DIGEST_COUNT; k++) {
		struct rp_json *f;
		char hex[2 * RP_DIGEST_MAX + 1];

		if (!vr->whole_done[k])
			continue;
		rp_hex(vr->whole[k], rp_digest_size((enum rp_digest_alg)k), hex);
		f = rp_json_new_object();
		rp_json_set_str(f, "scope", "logical disk");
		rp_json_set_str(f, "algorithm", rp_digest_name((enum rp_digest_alg)k));
		rp_json_set_str(f, "value", hex);
		rp_json_set_str(f, "from", from);
		cli_audit_event(au, "digest", f);
	}
	if (vr->windows) {
		struct rp_json *f = rp_json_new_object();
		rp_json_set_str(f, "scope", "hash windows");
		rp_json_set_str(f, "algorithm", "sha256");
		rp_json_set_u64(f, "window_size", vr->a->hash_window);
		rp_json_set_u64(f, "windows", vr->d.window_count);
		cli_audit_event(au, "digest", f);
	}
	if (vr->seal && vr->v.ready) {
		uint64_t checked = 0, i;
		struct rp_json *f = rp_json_new_object();

		for (i = 0; i < vr->v.chunk_count; i++)
			checked += cli_vsel_checked(&vr->v, i);
		rp_json_set_str(f, "scope", "chunks against the seal");
		rp_json_set_str(f, "algorithm", "sha256");
		rp_json_set_u64(f, "chunks", checked);
		rp_json_set_u64(f, "mismatches", vr->v.mismatch_count);
		cli_audit_event(au, "compare", f);
	}
}

/* The identity and the whole-disk digests the seal has and we computed must agree. */
static void compare_whole(struct vrun *vr)
{
	unsigned i;

	if (vr->seal->has_identity && vr->identity_done &&
	    memcmp(vr->seal->identity, vr->identity, 32) != 0) {
		char e[65], g[65];

		rp_hex(vr->seal->identity, 32, e);
		rp_hex(vr->identity, 32, g);
		cli_disk_reason(&vr->d, "seal-mismatch",
				"whole-disk %s mismatch (expected %s, got %s)",
				RP_SEAL_IDENTITY_NAME, e, g);
	}

	for (i = 0; rp_whole_differs(vr->seal, vr->whole_done,
				     (const uint8_t(*)[RP_DIGEST_MAX])vr->whole, &i);
	     i++) {
		size_t n = rp_digest_size((enum rp_digest_alg)i);
		char e[2 * RP_DIGEST_MAX + 1], g[2 * RP_DIGEST_MAX + 1];

		rp_hex(rp_seal_whole(vr->seal, (enum rp_digest_alg)i), n, e);
		rp_hex(vr->whole[i], n, g);
		cli_disk_reason(&vr->d, "seal-mismatch",
				"whole-disk %s mismatch (expected %s, got %s)",
				rp_digest_name((enum rp_digest_alg)i), e, g);
	}
}

static void output_event(struct vrun *vr, const char *role, const char *path)
{
	struct rp_json *f = rp_json_new_object();

	rp_json_set_str(f, "role", role);
	rp_json_set_str(f, "path", RP_URL(path));
	rp_json_set_str(f, "how", "temporary file, fsync, rename");
	cli_audit_event(&vr->a->audit, "write", f);
}

/* Report, metrics, state and the last audit line; returns the exit code. */
static int finish(struct vrun *vr)
{
	struct verify_args *a = vr->a;
	struct cli_disk_report *d = &vr->d;
	struct rp_json *report, *f;
	struct timespec t1;
	uint64_t checked = 0, bytes = 0;
	int exit_code, out_rc = 0;
	bool failed;
	time_t ended;

	d->ran = vr->v.ready && vr->code == 0;
	d->checked = vr->v.checked;
	d->all_checked = vr->v.all && vr->v.passes > 0;
	d->no_chunk_map = !a->json; /* the human report does not print it */
	d->expect = vr->seal;
	d->actual = vr->v.actual;
	d->mismatches = vr->v.mismatches;
	d->mismatch_count = vr->v.mismatch_count;
	d->chunk_size = vr->v.chunk_size;
	d->chunk_count = vr->v.chunk_count;
	if (d->ran && d->mismatch_count && d->nreasons < CLI_REPORT_MAX_REASONS) {
		/* The chunk count first: the whole-disk differences follow from it. */
		memmove(&d->reasons[1], &d->reasons[0], d->nreasons * sizeof(d->reasons[0]));
		d->nreasons++;
		d->reasons[0].code = "seal-mismatch";
		snprintf(d->reasons[0].message, sizeof(d->reasons[0].message),
			 "%zu chunks differ from the seal", d->mismatch_count);
	}
	if (d->ran && vr->v.have_state) {
		if (cli_vsel_save(&vr->v, a->started, &vr->err) != 0)
			vr->code = vr->err.code ? vr->err.code : RP_EIO;
		else
			output_event(vr, "state", a->sel.state);
	}
	if (vr->code && d->nreasons == 0)
		cli_disk_reason(d, cli_reason_for(vr->code), "%s", RP_MSG(vr->err.msg));
	/* What the data showed (exit 1) outranks a key check that could not finish. */
	failed = d->nreasons > 0;
	if (vr->luks.code)
		cli_disk_reason(d,
				vr->luks.reason ? vr->luks.reason : cli_reason_for(vr->luks.code),
				"%s", RP_MSG(vr->luks.err.msg));
	if (vr->v.ready)
		d->coverage = cli_vsel_coverage(&vr->v);
	cli_disk_totals(d, &checked, &bytes);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ended = time(NULL);
	exit_code = vr->code	    ? rp_code_exit(vr->code)
		    : failed	    ? 1
		    : vr->luks.code ? rp_code_exit(vr->luks.code)
		    : d->nreasons   ? 1
				    : 0;
	if (a->prometheus) {
		struct cli_prom p = {
		    .recovery_point =
			vr->src.recovery_point ? vr->src.recovery_point : vr->src.display,
		    .disk = d->name,
		    .shard = a->sel.has_shard,
		    .shard_index = a->sel.spec.shard,
		    .shards = a->sel.spec.shards,
		    .success = exit_code == 0,
		    .timestamp = ended,
		    .bytes_verified = bytes,
		    .checked_chunks = checked,
		    .mismatched_chunks = d->ran ? d->mismatch_count : 0,
		    .seconds = (double)(t1.tv_sec - a->t0.tv_sec) +
			       (double)(t1.tv_nsec - a->t0.tv_nsec) / 1e9,
		};
		struct rp_err perr;

		rp_err_init(&perr);
		if (cli_prom_write(a->prometheus, &p, &perr) != 0) {
			if (!vr->code) {
				vr->code = perr.code;
				vr->err = perr;
				exit_code = rp_code_exit(perr.code);
				cli_disk_reason(d, cli_reason_for(perr.code), "%s",
						RP_MSG(perr.msg));
			}
		} else {
			output_event(vr, "prometheus", a->prometheus);
		}
	}
	report = cli_report_new("verify", a->started, ended, &a->kase, &vr->src, exit_code);
	cli_report_provenance(report,
			      a->seal	 ? a->seal
			      : vr->seal ? a->descriptor
					 : NULL,
			      a->seal ? "file" : "descriptor");
	cli_report_add_disk(report, d);
	if (a->json) {
		out_rc = cli_print_json(report);
		f = rp_json_new_object();
		rp_json_set_str(f, "role", "report");
		rp_json_set_str(f, "path", "-");
		cli_audit_event(&a->audit, "write", f);
	} else if (d->ran && (!a->quiet || exit_code)) {
		cli_report_print(stdout, report);
	}
	rp_json_free(report);
	f = rp_json_new_object();
	rp_json_set_str(f, "verdict", exit_code == 0 ? "pass" : exit_code == 1 ? "fail" : "error");
	rp_json_set_u64(f, "exit_code", (uint64_t)exit_code);
	rp_json_set_u64(f, "chunks_checked", checked);
	rp_json_set_u64(f, "bytes_verified", bytes);
	cli_audit_event(&a->audit, "end", f);
	if (vr->code)
		return cli_fail(vr->cmd, &vr->err);
	if (exit_code && exit_code != 1)
		return cli_fail(vr->cmd, &vr->luks.err);
	if (exit_code) {
		struct rp_err e;
		rp_err_init(&e);
		if (d->mismatch_count)
			rp_err_set(&e, RP_EVERIFY,
				   "'%s' does not match the seal: %zu chunks differ",
				   vr->src.display, d->mismatch_count);
		else
			rp_err_set(&e, RP_EVERIFY, "'%s': %s", vr->src.display,
				   d->reasons[0].message);
		return cli_fail(vr->cmd, &e);
	}
	return out_rc;
}

static void start_event(struct vrun *vr, const char *kind)
{
	struct verify_args *a = vr->a;
	struct rp_json *f = rp_json_new_object();

	rp_json_set_str(f, "command", "verify");
	rp_json_set_str(f, "source_kind", kind);
	rp_json_set_str(f, "source", vr->src.display);
	rp_json_set_str(f, "mode", rp_select_mode_name(cli_vsel_mode(&a->sel)));
	if (a->kase.case_id)
		rp_json_set_str(f, "case_id", a->kase.case_id);
	if (a->kase.evidence_id)
		rp_json_set_str(f, "evidence_id", a->kase.evidence_id);
	if (a->kase.examiner)
		rp_json_set_str(f, "examiner", a->kase.examiner);
	cli_audit_event(&a->audit, "start", f);
}

/* A fatal problem on the disk (a GPT checksum, say) fails verification as malformed input. */
static int first_fatal(const char *path, const struct rp_image *img, struct rp_err *err)
{
	const struct rp_problems *p = rp_image_problems(img);
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].code != RP_OK)
			return rp_err_set_hint(err, p->v[i].code, p->v[i].hint, "'%s': %s", path,
					       p->v[i].msg);
	return 0;
}

static bool same_file(const struct stat *x, const struct stat *y)
{
	return x->st_size == y->st_size && x->st_ino == y->st_ino && x->st_dev == y->st_dev &&
	       x->st_mtim.tv_sec == y->st_mtim.tv_sec && x->st_mtim.tv_nsec == y->st_mtim.tv_nsec &&
	       x->st_ctim.tv_sec == y->st_ctim.tv_sec && x->st_ctim.tv_nsec == y->st_ctim.tv_nsec;
}

/* The library's passes (restore/verify_run.h) report to the selection: each pass's chunks, and
 * whether there is another. */
static int pass_merge(void *ctx, const struct rp_seal *actual, const struct rp_scan_mismatch *mm,
		      size_t count, struct rp_err *err)
{
	struct vrun *vr = ctx;

	if (!cli_vsel_partial(&vr->a->sel) && vr->v.checked)
		memset(vr->v.checked, 1, (size_t)vr->v.chunk_count);
	return cli_vsel_merge(&vr->v, actual, mm, count, err);
}

static bool pass_next(void *ctx)
{
	struct vrun *vr = ctx;

	return cli_vsel_next_pass(&vr->v);
}

/* What a whole pass computed, for the report. */
static void take_out(struct vrun *vr, struct rp_verify_out *out)
{
	vr->identity_done = out->identity_done;
	memcpy(vr->identity, out->identity, sizeof(vr->identity));
	memcpy(vr->whole_done, out->whole_done, sizeof(vr->whole_done));
	memcpy(vr->whole, out->whole, sizeof(vr->whole));
	free(vr->windows);
	vr->windows = out->windows;
	vr->d.window_count = out->window_count;
	out->windows = NULL;
}

/* The local passes: one, or one per least-recently-verified tier. */
static int scan_passes(struct vrun *vr, struct rp_image *img)
{
	struct verify_args *a = vr->a;
	bool partial = cli_vsel_partial(&a->sel);
	struct rp_verify_passes passes = {.merge = pass_merge, .next = pass_next, .ctx = vr};
	struct rp_verify_out out = {0};
	struct rp_scan_opts so = {0};
	struct cli_progress prog;
	int rc;

	cli_progress_init(&prog, "verify", &a->progress, a->quiet, a->json);
	so.chunk_size = vr->v.chunk_size;
	so.threads = a->threads;
	so.identity = !partial;
	so.whole_digests = partial ? 0 : a->digests;
	so.hash_window = partial ? 0 : a->hash_window;
	so.expect = vr->seal;
	so.select = partial ? cli_vsel_pick : NULL;
	so.select_ctx = &vr->v;
	so.progress = cli_progress_cb;
	so.progress_ctx = &prog;
	so.stop = &cli_stop;
	rc = rp_verify_image(img, &so, &passes, &out, &vr->err);
	if (rc) {
		rp_err_prefix(&vr->err, "'%s'", vr->src.display);
		vr->code = rc;
	} else {
		take_out(vr, &out);
	}
	rp_verify_out_release(&out);
	cli_progress_end(&prog);
	return rc;
}

int cli_verify_local(const struct cli_cmd *cmd, struct verify_args *a, const char *path)
{
	struct vrun vr;
	struct rp_image *img = NULL;
	struct rp_json *desc = NULL, *f;
	struct stat before[RP_IMAGE_MAX_CHAIN + 2];
	bool have[RP_IMAGE_MAX_CHAIN + 2];
	const char *in[RP_IMAGE_MAX_CHAIN + 2];
	size_t nin = 0, i;
	int rc;

	vrun_init(&vr, cmd, a);
	rp_url_redact(a->descriptor ? a->descriptor : path, vr.display, sizeof(vr.display));
	vr.src.kind = a->descriptor ? "descriptor" : "file";
	vr.src.display = vr.display;
	vr.src.recovery_point = a->descriptor ? a->rp_id : NULL;
	vr.d.name = a->descriptor ? a->disk_name : base_name(vr.display);
	start_event(&vr, vr.src.kind);
	vr.code = load_seal(&vr);
	if (vr.code)
		goto finish;
	/* The identity (seal-sha256) always; the linear digests only when asked for. */
	if (!a->digests_set && !a->evidence)
		a->digests = 0;
	/* The image and its parents: what they look like before, to compare after. */
	in[nin++] = path;
	for (i = 0; i < a->img.parent_count && nin < sizeof(in) / sizeof(in[0]); i++)
		in[nin++] = a->img.parents[i];
	for (i = 0; i < nin; i++)
		have[i] = stat(in[i], &before[i]) == 0;
	{
		struct rp_image_opts io = {.parents = a->img.parents,
					   .parent_count = a->img.parent_count,
					   .ignore_checksums = a->img.ignore_checksums};

		vr.code = rp_image_open(path, &io, &img, &vr.err);
		if (vr.code) {
			rp_err_prefix(&vr.err, "'%s'", path);
			goto finish;
		}
	}
	for (i = 0; i < nin; i++) {
		if (!have[i])
			continue;
		f = rp_json_new_object();
		rp_json_set_str(f, "role", i ? "parent image" : "image");
		rp_json_set_str(f, "how", "read-only (O_RDONLY|O_CLOEXEC), never written");
		if (i == 0)
			rp_json_set_str(f, "format", rp_image_format_name(img));
		rp_json_set(f, "file", cli_audit_stat_json(in[i], &before[i]));
		cli_audit_event(&a->audit, "open", f);
	}
	vr.d.format = rp_image_format_name(img);
	vr.d.virtual_size = rp_image_virtual_size(img);
	vr.d.image_size = rp_image_file_size(img);
	/* The structural checks of inspect (partition tables, LUKS headers). */
	vr.code = rp_image_describe(img, &desc, &vr.err);
	if (vr.code == 0)
		vr.code = first_fatal(path, img, &vr.err);
	if (vr.code)
		goto finish;
	vr.d.describe = desc;
	if (vr.seal && vr.seal->virtual_size != vr.d.virtual_size) {
		vr.code = rp_err_set(&vr.err, RP_EVERIFY,
				     "the seal is for a disk of %llu bytes, '%s' has %llu",
				     (unsigned long long)vr.seal->virtual_size, path,
				     (unsigned long long)vr.d.virtual_size);
		goto finish;
	}
	vr.v.seal = vr.seal;
	vr.code = cli_vsel_init(&vr.v, vr.d.virtual_size,
				vr.seal ? vr.seal->chunk_size : DEFAULT_CHUNK, &vr.err);
	if (vr.code)
		goto finish;
	scan_passes(&vr, img);
	if (vr.code == 0) {
		if (vr.seal)
			compare_whole(&vr);
		vr.d.identity = vr.identity_done ? vr.identity : NULL;
		vr.d.whole_done = vr.whole_done;
		vr.d.whole = (const uint8_t(*)[RP_DIGEST_MAX])vr.whole;
		vr.d.windows = vr.windows;
		vr.d.window_size = a->hash_window;
		audit_reads(&vr, "image");
		audit_digests(&vr, "computed");
	}
	if (vr.code == 0 && cli_luks_wanted(&a->luks))
		vluks_local(&vr.luks, img);
	/* The input must be exactly as it was: same size, inode and times (atime aside). */
	for (i = 0; i < nin; i++) {
		struct stat after;
		bool same;

		if (!have[i] || stat(in[i], &after) != 0)
			continue;
		same = same_file(&before[i], &after);
		f = rp_json_new_object();
		rp_json_set_str(f, "path", RP_URL(in[i]));
		rp_json_set_bool(f, "unchanged", same);
		rp_json_set(f, "after", cli_audit_stat_json(in[i], &after));
		cli_audit_event(&a->audit, "close", f);
		if (!same && vr.code == 0)
			cli_disk_reason(&vr.d, "source-changed",
					"'%s' changed while it was verified (size, inode, mtime or "
					"ctime)",
					in[i]);
	}
	/* --checksum-file: every byte of the image file read again, after the check. */
	if (vr.code == 0 && a->sum.file) {
		if (cli_checksum_write(&a->sum, &path, 1, &vr.err) != 0)
			vr.code = vr.err.code ? vr.err.code : RP_EIO;
		else
			output_event(&vr, "checksum", a->sum.file);
	}
finish:
	rc = finish(&vr);
	rp_json_free(desc);
	rp_image_free(img);
	vrun_release(&vr);
	return rc;
}

/* A URL (sidecar NULL) through the restore pipeline, or a local copy of a client-side
 * encrypted blob with its metadata in sidecar. */
static int verify_stream(const struct cli_cmd *cmd, struct verify_args *a, const char *url,
			 const char *sidecar)
{
	bool partial = cli_vsel_partial(&a->sel);
	enum rp_transport_hash th = RP_TH_NONE;
	uint64_t blob_size = 0;
	struct rp_restore_opts o = {0};
	struct rp_verify_passes passes = {.merge = pass_merge, .next = pass_next};
	struct rp_verify_out out = {0};
	struct cli_progress prog;
	struct vrun vr;
	struct rp_json *f;
	int rc;

	if (a->img.parent_count)
		return cli_usage(cmd, "--parent is for local images, not URLs or encrypted copies");
	if (sidecar && cli_luks_wanted(&a->luks))
		return cli_usage(cmd,
				 "--luks-* with an encrypted copy: restore it, then verify the "
				 "restored file with --luks-*");
	if (sidecar && partial)
		return cli_usage(cmd, "an encrypted copy is verified whole: --sample, --rolling, "
				      "--shard and --max-* are for images and URLs");
	if (sidecar && a->hash_window)
		return cli_usage(cmd, "--hash-window is for images and URLs, not encrypted copies");
	rc = sidecar ? 0 : cli_net_check_url(cmd, &a->net, url);
	if (rc)
		return rc;
	vrun_init(&vr, cmd, a);
	passes.ctx = &vr;
	rp_url_redact(url, vr.url, sizeof(vr.url));
	rp_url_redact(a->descriptor ? a->descriptor : vr.url, vr.display, sizeof(vr.display));
	vr.src.kind = a->descriptor ? "descriptor" : sidecar ? "file" : "url";
	vr.src.display = vr.display;
	vr.src.recovery_point = a->descriptor ? a->rp_id : NULL;
	vr.d.name = a->descriptor ? a->disk_name : base_name(vr.url);
	start_event(&vr, vr.src.kind);
	vr.code = load_seal(&vr);
	if (vr.code) {
		rc = finish(&vr);
		goto out;
	}
	if (vr.seal)
		a->net.chunk_size = vr.seal->chunk_size;
	vr.v.seal = vr.seal;
	o.url = url;
	o.net = a->net;
	o.seal = vr.seal;
	o.keep_going = true;
	/* As for a local image: the identity always, the linear digests only when asked for (the
	 * seal's own are shown apart as its claim, never as computed). */
	o.whole_digests = partial || !(a->digests_set || a->evidence) ? 0 : a->digests;
	o.hash_window = partial ? 0 : a->hash_window;
	o.select = partial ? cli_vsel_pick : NULL;
	o.select_ctx = &vr.v;
	o.select_init = cli_vsel_init;
	o.keys = &a->keys;
	o.stop = &cli_stop;
	/* The key check reads the stored bytes again: an encrypted blob's are ciphertext. */
	o.refuse_encrypted = !sidecar && cli_luks_wanted(&a->luks);
	cli_progress_init(&prog, "verify", &a->progress, a->quiet, a->json);
	o.progress = cli_progress_cb;
	o.progress_ctx = &prog;
	o.progress_detail = cli_progress_detail;
	f = rp_json_new_object();
	rp_json_set_str(f, "role", sidecar ? "encrypted copy" : "blob");
	rp_json_set_str(f, sidecar ? "path" : "url", vr.url);
	if (sidecar)
		rp_json_set_str(f, "metadata", sidecar);
	rp_json_set_str(f, "how",
			sidecar ? "read-only (O_RDONLY|O_CLOEXEC), never written"
				: "HTTPS HEAD and ranged GETs with If-Match (read-only)");
	cli_audit_event(&a->audit, "open", f);
	rc = rp_verify_stream(&o, sidecar, &passes, &out, &vr.err);
	if (out.described) {
		th = out.th;
		blob_size = out.blob_size;
		snprintf(vr.etag, sizeof(vr.etag), "%s", out.etag);
		vr.src.etag = vr.etag;
		vr.d.virtual_size = out.virtual_size;
		vr.d.image_size = out.blob_size;
		vr.d.format = out.is_vhd ? "vhd-fixed" : "raw";
		if (out.th == RP_TH_NONE && !vr.seal && out.blob_size)
			vr.d.warning = "the server gave no per-range hash and there was no seal: "
				       "the data was read but not verified";
	}
	if (rc == 0) {
		take_out(&vr, &out);
	} else {
		/* Which check failed, as the library recorded it (common/err.h). */
		const char *why = rp_reason_name(rp_err_reason_of(&vr.err));

		vr.code = rc;
		if (vr.err.reason != RP_R_NONE && strcmp(why, cli_reason_for(rc)) != 0)
			cli_disk_reason(&vr.d, why, "%s", RP_MSG(vr.err.msg));
	}
	rp_verify_out_release(&out);
	cli_progress_end(&prog);
	if (vr.code == 0) {
		if (vr.seal && !partial)
			compare_whole(&vr);
		vr.d.identity = vr.identity_done ? vr.identity : NULL;
		vr.d.whole_done = vr.whole_done;
		vr.d.whole = (const uint8_t(*)[RP_DIGEST_MAX])vr.whole;
		vr.d.windows = vr.windows;
		vr.d.window_size = a->hash_window;
		audit_reads(&vr, "blob");
		audit_digests(&vr, "computed");
	}
	if (vr.code == 0 && !cli_stop && cli_luks_wanted(&a->luks))
		vluks_remote(&vr.luks, url, vr.etag, blob_size, th, vr.seal);
	rc = finish(&vr);
out:
	vrun_release(&vr);
	return rc;
}

int cli_verify_remote(const struct cli_cmd *cmd, struct verify_args *a, const char *url)
{
	return verify_stream(cmd, a, url, NULL);
}

int cli_verify_encrypted_copy(const struct cli_cmd *cmd, struct verify_args *a, const char *path,
			      const char *sidecar)
{
	return verify_stream(cmd, a, path, sidecar);
}
