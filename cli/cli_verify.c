/*
 * cvmrestore verify: structural checks plus whole-disk digests, or, with a seal, every chunk
 * hashed in parallel and compared with it.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_digests.h"
#include "cli/cli_net.h"
#include "cli/cli_rpsource.h"
#include "formats/descriptor.h"
#include "common/util.h"

struct verify_args {
	struct rp_seal *preset; /* the seal of a descriptor's disk (owned until taken) */
	const char *disk;
	struct cli_image_args img;
	struct cli_net_args net;
	const char *seal;
	unsigned digests;
	bool digests_set;
	unsigned threads;
	bool quiet;
	bool json;
};

static const struct cli_opt verify_opts[] = {
	{"seal", 0, true, "SEAL.json", "compare every chunk with this seal"},
	{"disk", 0, true, "NAME", "the disk of a recovery point descriptor (its seal is used)"},
	{"digests", 0, true, "LIST", "whole-disk digests: sha256,md5,sha1 (default: sha256 without "
				     "a seal, none with one)"},
	{"parent", 0, true, "PATH", "parent of a differencing image (repeat, nearest first)"},
	{"ignore-checksums", 0, false, NULL, "read past checksum errors (still reported)"},
	{"threads", 0, true, "N", "worker threads (default: number of cores)"},
	{"quiet", 'q', false, NULL, "no progress on the terminal"},
	{"json", 0, false, NULL, "print one JSON document on stdout"},
	CLI_NET_OPTS,
	{0},
};

static int on_opt(void *ctx, const struct cli_cmd *cmd, int idx, const char *arg)
{
	struct verify_args *a = ctx;
	const char *name = cmd->opts[idx].name;

	if (strcmp(name, "seal") == 0) {
		a->seal = arg;
	} else if (strcmp(name, "disk") == 0) {
		a->disk = arg;
	} else if (strcmp(name, "digests") == 0) {
		a->digests_set = true;
		return cli_parse_digests(cmd, arg, &a->digests);
	} else if (strcmp(name, "threads") == 0) {
		return cli_parse_threads(cmd, arg, &a->threads);
	} else if (strcmp(name, "quiet") == 0) {
		a->quiet = true;
	} else if (strcmp(name, "json") == 0) {
		a->json = true;
	} else {
		int rc = cli_image_arg(cmd, &a->img, name, arg);
		if (rc == 1)
			rc = cli_net_arg(cmd, &a->net, name, arg);
		return rc == 1 ? cli_usage(cmd, "unhandled option --%s", name) : rc;
	}
	return 0;
}

static const char *state_text(uint8_t state, const uint8_t *digest, char *hex)
{
	if (state == RP_CHUNK_ZERO)
		return "zero";
	if (state == RP_CHUNK_UNALLOCATED)
		return "unallocated";
	rp_hex(digest, 32, hex);
	return hex;
}

static struct rp_json *mismatches_json(const struct rp_scan_result *r)
{
	struct rp_json *arr = rp_json_new_array();
	size_t i;

	for (i = 0; i < r->mismatch_count && i < RP_SCAN_MAX_MISMATCHES; i++) {
		const struct rp_scan_mismatch *m = &r->mismatches[i];
		struct rp_json *o = rp_json_new_object();
		char hex[65];

		rp_json_set_u64(o, "index", m->index);
		rp_json_set_u64(o, "offset", m->offset);
		rp_json_set_u64(o, "length", m->length);
		rp_json_set_str(o, "expected", state_text(m->expected_state, m->expected, hex));
		rp_json_set_str(o, "actual", state_text(m->actual_state, m->actual, hex));
		rp_json_append(arr, o);
	}
	return arr;
}

/* Whole-disk digests the seal has and we computed must agree. */
static int compare_whole(const struct rp_seal *s, const struct rp_scan_result *r,
			 struct rp_json *failures)
{
	const bool has[RP_DIGEST_COUNT] = {s->has_sha256, s->has_md5, s->has_sha1};
	const uint8_t *want[RP_DIGEST_COUNT] = {s->sha256, s->md5, s->sha1};
	int bad = 0;
	unsigned i;

	for (i = 0; i < RP_DIGEST_COUNT; i++) {
		size_t n = rp_digest_size((enum rp_digest_alg)i);
		char msg[256], e[2 * RP_DIGEST_MAX + 1], g[2 * RP_DIGEST_MAX + 1];

		if (!has[i] || !r->whole_done[i] || memcmp(want[i], r->whole[i], n) == 0)
			continue;
		rp_hex(want[i], n, e);
		rp_hex(r->whole[i], n, g);
		snprintf(msg, sizeof(msg), "whole-disk %s mismatch (expected %s, got %s)",
			 rp_digest_name((enum rp_digest_alg)i), e, g);
		rp_json_append(failures, rp_json_new_string(msg));
		bad = 1;
	}
	return bad;
}

static struct rp_json *problems_json(const struct rp_json *desc)
{
	struct rp_json *p = rp_json_get(desc, "problems");
	char *text = p ? rp_json_dump(p, false) : NULL;
	struct rp_json *copy = NULL;

	if (!text || rp_json_parse(text, strlen(text), &copy, NULL) != 0)
		copy = rp_json_new_array();
	free(text);
	return copy;
}

static void print_human(const struct verify_args *a, const char *src, struct rp_json *o,
			const struct rp_scan_result *r, bool ok)
{
	size_t i;

	if (a->quiet && ok)
		return;
	printf("source: %s (%s)\n", src, rp_json_string(rp_json_get(o, "format")));
	if (a->seal || r->chunks_compared)
		printf("seal: %s, %llu chunks compared, %zu mismatched\n",
		       a->seal ? a->seal : "from the descriptor",
		       (unsigned long long)r->chunks_compared, r->mismatch_count);
	for (i = 0; i < r->mismatch_count && i < 20; i++) {
		const struct rp_scan_mismatch *m = &r->mismatches[i];
		char e[65], g[65];
		printf("  chunk %llu at 0x%llx (%llu bytes): expected %s, got %s\n",
		       (unsigned long long)m->index, (unsigned long long)m->offset,
		       (unsigned long long)m->length, state_text(m->expected_state, m->expected, e),
		       state_text(m->actual_state, m->actual, g));
	}
	if (r->mismatch_count > 20)
		printf("  ... and %zu more (see --json)\n", r->mismatch_count - 20);
	cli_print_tree(stdout, rp_json_get(o, "digests"), 2);
	for (i = 0; i < rp_json_array_size(rp_json_get(o, "failures")); i++)
		printf("  %s\n", rp_json_string(rp_json_array_at(rp_json_get(o, "failures"), i)));
	for (i = 0; i < rp_json_array_size(rp_json_get(o, "problems")); i++)
		printf("problem: %s\n",
		       rp_json_string(rp_json_get(rp_json_array_at(rp_json_get(o, "problems"), i),
						  "message")));
	printf("verdict: %s (%.1f s)\n", ok ? "ok" : "FAILED", r->seconds);
}

/* A fatal problem on the disk (a GPT checksum, say) fails verification as malformed input. */
static int first_fatal(const struct cli_cmd *cmd, const char *path, const struct rp_image *img)
{
	const struct rp_problems *p = rp_image_problems(img);
	struct rp_err err;
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (p->v[i].code != RP_OK) {
			rp_err_set(&err, p->v[i].code, "'%s': %s", path, p->v[i].msg);
			return cli_fail(cmd, &err);
		}
	}
	return 0;
}

/* verify of a URL: the restore pipeline with no sink. */
static int run_remote(const struct cli_cmd *cmd, struct verify_args *a, const char *url)
{
	struct rp_restore_opts o = {0};
	struct rp_restore_report rep;
	struct rp_seal *seal = NULL;
	struct rp_json *report;
	struct cli_progress prog;
	struct rp_err err;
	int rc, out_rc = 0;

	rp_err_init(&err);
	if (a->img.parent_count)
		return cli_usage(cmd, "--parent is for local images, not URLs");
	rc = cli_net_check_url(cmd, &a->net, url);
	if (rc)
		return rc;
	if (a->seal && rp_seal_load(a->seal, &seal, &err) != 0) {
		rp_err_prefix(&err, "seal '%s'", a->seal);
		return cli_fail(cmd, &err);
	}
	if (!seal) {
		seal = a->preset;
		a->preset = NULL;
	}
	if (seal)
		a->net.chunk_size = seal->chunk_size;
	cli_progress_init(&prog, "verify", a->quiet || a->json);
	o.url = url;
	o.http = a->net.http;
	o.auth = a->net.auth;
	o.connections = a->net.connections;
	o.chunk_size = a->net.chunk_size;
	o.retries = a->net.retries;
	o.retry_base_ms = a->net.retry_base_ms;
	o.th = a->net.th;
	o.seal = seal;
	o.keep_going = true;
	o.whole_digests = a->digests_set ? a->digests : 1u << RP_DIGEST_SHA256;
	o.progress = cli_progress_cb;
	o.progress_ctx = &prog;
	o.progress_detail = cli_progress_detail;
	o.stop = &cli_stop;
	rc = rp_restore_run(&o, &rep, &err);
	cli_progress_end(&prog);
	report = cli_net_report(&rep, NULL, a->seal ? a->seal : seal ? "descriptor" : NULL, seal, rc,
				rc ? err.msg : NULL);
	if (a->json)
		out_rc = cli_print_json(report);
	else if (!a->quiet || rc)
		cli_net_print(stdout, report);
	rp_json_free(report);
	if (rc)
		out_rc = cli_fail(cmd, &err);
	rp_restore_report_release(&rep);
	rp_seal_free(seal);
	return out_rc;
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
		if ((a->disk && strcmp(d->disks[i].name, a->disk) == 0) || (!a->disk && d->ndisks == 1))
			k = &d->disks[i];
	if (!k) {
		*rc = cli_usage(cmd, a->disk ? "the recovery point has no disk named '%s'"
					    : "the recovery point has several disks: choose one with "
					      "--disk NAME%s",
				a->disk ? a->disk : "");
		rp_descriptor_free(d);
		return true;
	}
	*copy = cli_descriptor_source(path, k->source);
	a->preset = k->seal;
	k->seal = NULL;
	rp_descriptor_free(d);
	if (!*copy) {
		rp_err_set(&err, RP_EIO, "out of memory");
		*rc = cli_fail(cmd, &err);
		return true;
	}
	*src = *copy;
	return false;
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct verify_args a = {0};
	char *source_copy = NULL;
	struct rp_scan_result r = {0};
	struct rp_scan_opts so = {0};
	struct rp_image *img = NULL;
	struct rp_seal *seal = NULL;
	struct rp_json *desc = NULL, *o = NULL, *failures;
	struct cli_progress prog;
	const char *pos[1];
	struct rp_err err;
	int npos, rc;
	bool ok;

	cli_net_defaults(&a.net);
	rc = cli_parse(cmd, argc, argv, on_opt, &a, pos, 1, &npos);
	if (rc)
		return rc;
	if (npos != 1)
		return cli_usage(cmd, "expected one SOURCE");
	if (descriptor_disk(cmd, &a, &pos[0], &source_copy, &rc))
		return rc;
	if (rp_is_url(pos[0])) {
		rc = run_remote(cmd, &a, pos[0]);
		goto out;
	}
	if (!a.digests_set)
		a.digests = a.seal || a.preset ? 0 : 1u << RP_DIGEST_SHA256;
	rp_err_init(&err);
	if (!a.seal && a.preset) {
		seal = a.preset;
		a.preset = NULL;
	}
	if (a.seal && rp_seal_load(a.seal, &seal, &err) != 0) {
		rp_err_prefix(&err, "seal '%s'", a.seal);
		return cli_fail(cmd, &err);
	}
	rc = cli_open_image(cmd, pos[0], &a.img, false, &img);
	if (rc)
		goto out;
	/* The structural checks of inspect (partition tables, LUKS headers). */
	if (rp_image_describe(img, &desc, &err) != 0) {
		rc = cli_fail(cmd, &err);
		goto out;
	}
	rc = first_fatal(cmd, pos[0], img);
	if (rc)
		goto out;
	if (seal && seal->virtual_size != rp_image_virtual_size(img)) {
		rp_err_set(&err, RP_EVERIFY,
			   "the seal is for a disk of %llu bytes, '%s' has %llu",
			   (unsigned long long)seal->virtual_size, pos[0],
			   (unsigned long long)rp_image_virtual_size(img));
		rc = cli_fail(cmd, &err);
		goto out;
	}
	cli_progress_init(&prog, "verify", a.quiet || a.json);
	so.threads = a.threads;
	so.whole_digests = a.digests;
	so.expect = seal;
	so.progress = cli_progress_cb;
	so.progress_ctx = &prog;
	so.stop = &cli_stop;
	rc = rp_scan_run(img, &so, &r, &err);
	cli_progress_end(&prog);
	if (rc) {
		rp_err_prefix(&err, "'%s'", pos[0]);
		rc = cli_fail(cmd, &err);
		goto out;
	}
	o = rp_json_new_object();
	failures = rp_json_new_array();
	ok = r.mismatch_count == 0;
	if (seal && compare_whole(seal, &r, failures))
		ok = false;
	rp_json_set_str(o, "source", pos[0]);
	rp_json_set_str(o, "format", rp_image_format_name(img));
	rp_json_set_u64(o, "virtual_size", rp_image_virtual_size(img));
	rp_json_set_str(o, "verdict", ok ? "ok" : "failed");
	rp_json_set(o, "seal", a.seal   ? rp_json_new_string(a.seal)
			       : seal ? rp_json_new_string("descriptor")
				      : rp_json_new_null());
	if (seal)
		rp_json_set_str(o, "seal_source", seal->source_name);
	rp_json_set_u64(o, "chunk_size", r.seal ? r.seal->chunk_size : 0);
	rp_json_set_u64(o, "chunks", r.seal ? r.seal->chunk_count : 0);
	rp_json_set_u64(o, "chunks_compared", r.chunks_compared);
	rp_json_set_u64(o, "mismatch_count", r.mismatch_count);
	rp_json_set(o, "mismatches", mismatches_json(&r));
	rp_json_set(o, "digests", cli_digests_json(&r));
	rp_json_set(o, "failures", failures);
	rp_json_set_u64(o, "bytes_read", r.bytes_read);
	rp_json_set_u64(o, "bytes_skipped", r.bytes_skipped);
	rp_json_set(o, "seconds", rp_json_new_real(r.seconds));
	rp_json_set(o, "problems", problems_json(desc));
	if (a.json)
		rc = cli_print_json(o);
	else
		print_human(&a, pos[0], o, &r, ok);
	if (rc == 0 && !ok) {
		rp_err_set(&err, RP_EVERIFY, "'%s' does not match the seal: %zu chunks differ",
			   pos[0], r.mismatch_count);
		rc = cli_fail(cmd, &err);
	}
out:
	rp_json_free(o);
	rp_json_free(desc);
	rp_scan_result_release(&r);
	rp_seal_free(seal);
	rp_seal_free(a.preset);
	rp_image_free(img);
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
	.details = "SOURCE is a local image or an https:// URL (the restore pipeline with nothing "
		   "written).\nWithout --seal: the structural checks of inspect and the whole-disk "
		   "digests.\n"
		   "With --seal: every chunk is hashed in parallel and compared; each mismatch is "
		   "reported with its\nindex, offset, length, expected and actual digest, and the "
		   "exit code is 1.",
	.opts = verify_opts,
	.run = run,
};
