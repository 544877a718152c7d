/* cvmrestore seal: record the chunk digests and the whole-disk identity of an image (and its
 * linear whole-disk digests when asked for). */
#include <string.h>
#include <time.h>

#include "cli/cli_digests.h"
#include "cli/cli_report_json.h"
#include "cli/cli_progress.h"
#include "common/outfile.h"
#include "common/util.h"

struct seal_args {
	struct cli_image_args img;
	const char *output;
	uint64_t chunk_size;
	unsigned digests;
	unsigned seal_version;
	unsigned threads;
	bool quiet;
	struct cli_progress_opts progress;
	bool json;
};

static int set_chunk_size(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			  const char *arg)
{
	uint64_t *chunk_size = field;
	struct rp_err err;

	(void)o;
	rp_err_init(&err);
	if (rp_parse_size(arg, chunk_size, &err) != 0)
		return cli_usage(cmd, "--chunk-size: %s", err.msg);
	if (*chunk_size % 512 || *chunk_size < RP_SEAL_MIN_CHUNK || *chunk_size > RP_SEAL_MAX_CHUNK)
		return cli_usage(cmd, "--chunk-size must be a multiple of 512 from %u to %u bytes",
				 RP_SEAL_MIN_CHUNK, RP_SEAL_MAX_CHUNK);
	return 0;
}

static int set_seal_version(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			    const char *arg)
{
	unsigned *v = field;

	(void)o;
	if (strcmp(arg, "1") == 0 || strcmp(arg, "2") == 0) {
		*v = (unsigned)(arg[0] - '0');
		return 0;
	}
	return cli_usage(cmd, "--seal-version takes 1 or 2, not '%s'", arg);
}

static int set_digests(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		       const char *arg)
{
	(void)o;
	return cli_parse_digests(cmd, arg, field);
}

#define A struct seal_args
static const struct cli_opt seal_opts[] = {
    CLI_OPT_STR("output", 'o', "SEAL.json", "where to write the seal (required)", A, output),
    CLI_OPT_SET("chunk-size", 0, "SIZE", "chunk size, a multiple of 512 (default 4M)", A,
		chunk_size, set_chunk_size),
    CLI_OPT_SET("digests", 0, "LIST",
		"also linear whole-disk digests of every byte: sha256,md5,sha1 (default: none; "
		"the identity seal-sha256 is always recorded)",
		A, digests, set_digests),
    CLI_OPT_SET("seal-version", 0, "N",
		"seal file version: 2 (default, compact) or 1 (a JSON array, for older readers)", A,
		seal_version, set_seal_version),
    CLI_IMAGE_OPTS(A, img, "read past checksum errors"),
    CLI_OPT_SET("threads", 0, "N", "worker threads (default: number of cores)", A, threads,
		cli_set_threads),
    CLI_OPT_FLAG("quiet", 'q', "no progress on the terminal", A, quiet),
    CLI_PROGRESS_OPTS(A, progress),
    CLI_OPT_FLAG("json", 0, "print a JSON report on stdout", A, json),
    {0},
};
#undef A

static int report(const struct seal_args *a, const char *src, const struct rp_seal *s,
		  const struct rp_scan_result *r)
{
	uint64_t counts[3] = {0, 0, 0};
	struct rp_json *o = cli_doc_new(CLI_SCHEMA_SEAL_RUN, "seal"), *c = rp_json_new_object();
	int rc = 0;

	rp_seal_counts(s, counts);
	rp_json_set_str(o, "source", RP_URL(src));
	rp_json_set_str(o, "format", s->source_format);
	rp_json_set_str(o, "seal", RP_URL(a->output));
	rp_json_set_u64(o, "virtual_size", s->virtual_size);
	rp_json_set_u64(o, "chunk_size", s->chunk_size);
	rp_json_set_u64(c, "total", s->chunk_count);
	rp_json_set_u64(c, "data", counts[RP_CHUNK_DATA]);
	rp_json_set_u64(c, "zero", counts[RP_CHUNK_ZERO]);
	rp_json_set_u64(c, "unallocated", counts[RP_CHUNK_UNALLOCATED]);
	rp_json_set(o, "chunks", c);
	if (s->has_identity) {
		struct rp_json *id = rp_json_new_object();
		char hex[65];

		rp_hex(s->identity, 32, hex);
		rp_json_set_str(id, RP_SEAL_IDENTITY_NAME, hex);
		rp_json_set(o, "identity", id);
	}
	rp_json_set(o, "digests", cli_digests_json(r));
	rp_json_set_u64(o, "bytes_read", r->bytes_read);
	rp_json_set(o, "seconds", rp_json_new_real(r->seconds));
	if (a->json)
		rc = cli_print_json(o);
	else if (!a->quiet)
		cli_print_tree(stdout, o, 0);
	rp_json_free(o);
	return rc;
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct seal_args a = {.seal_version = RP_SEAL_VERSION};
	struct rp_scan_result r = {0};
	struct rp_scan_opts so = {0};
	struct rp_image *img = NULL;
	struct cli_progress prog;
	const char *pos[1];
	struct rp_err err;
	struct rp_seal *s;
	int npos, rc;

	rc = cli_parse(cmd, argc, argv, &a, pos, 1, &npos);
	if (rc)
		return rc;
	if (npos != 1)
		return cli_usage(cmd, "expected one SOURCE");
	if (!a.output)
		return cli_usage(cmd, "missing -o SEAL.json");
	rp_err_init(&err);
	if (rp_outfile_check_target(a.output, &err) != 0)
		return cli_fail(cmd, &err);
	rc = cli_open_image(cmd, pos[0], &a.img, false, &img);
	if (rc)
		return rc;
	cli_progress_init(&prog, "seal", &a.progress, a.quiet, a.json);
	so.chunk_size = a.chunk_size;
	so.threads = a.threads;
	so.chunk_digests = true;
	so.identity = true;
	so.whole_digests = a.digests;
	so.progress = cli_progress_cb;
	so.progress_ctx = &prog;
	so.stop = &cli_stop;
	rp_err_init(&err);
	rc = rp_scan_run(img, &so, &r, &err);
	cli_progress_end(&prog);
	if (rc) {
		rc = cli_fail(cmd, &err);
		goto out;
	}
	s = r.pipe.seal;
	snprintf(s->tool, sizeof(s->tool), "cvmrestore %s", RP_VERSION);
	rp_time_iso(time(NULL), s->created);
	rp_url_redact(pos[0], s->source_name, sizeof(s->source_name));
	snprintf(s->source_format, sizeof(s->source_format), "%s", rp_image_format_name(img));
	if (rp_seal_write_version(a.output, s, a.seal_version, &err) != 0) {
		rc = cli_fail(cmd, &err);
		goto out;
	}
	rc = report(&a, pos[0], s, &r);
out:
	rp_scan_result_release(&r);
	rp_image_free(img);
	return rc;
}

const struct cli_cmd cli_cmd_seal = {
    .name = "seal",
    .args = "SOURCE -o SEAL.json",
    .summary = "record the chunk digests and whole-disk identity of an image (docs/seal.md)",
    .details = "The digests are of the virtual disk's bytes, so a seal made from one copy verifies "
	       "any other copy,\nin any supported format. The identity (seal-sha256) is computed "
	       "from the chunk digests:\nnever-written ranges cost nothing. --digests adds the "
	       "linear SHA-256/MD5/SHA-1 of every byte.",
    .opts = seal_opts,
    .run = run,
};
