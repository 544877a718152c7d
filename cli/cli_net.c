#include "cli/cli_net.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/cli_keys.h"
#include "cli/cli_report_json.h"
#include "common/util.h"

void cli_net_defaults(struct rp_net_opts *a)
{
	rp_net_opts_default(a);
	/* Ctrl-C and SIGTERM are heard in every request, a stalled one too. */
	a->http.stop = &cli_stop;
}

struct net_only {
	struct rp_net_opts net;
};

static const struct cli_opt net_opts[] = {
    CLI_NET_OPTS(struct net_only, net),
    {0},
};

int cli_net_set(const struct cli_cmd *cmd, struct rp_net_opts *a, const char *name, const char *arg)
{
	return cli_set_named(cmd, net_opts, (struct net_only *)(void *)a, name, arg);
}

static int number(const struct cli_cmd *cmd, const struct cli_opt *o, const char *arg, uint64_t lo,
		  uint64_t hi, uint64_t *out)
{
	if (rp_parse_u64(arg, out, NULL) != 0 || *out < lo || *out > hi)
		return cli_usage(cmd, "--%s must be a number from %llu to %llu, not '%s'", o->name,
				 (unsigned long long)lo, (unsigned long long)hi, arg);
	return 0;
}

static int number_uint(const struct cli_cmd *cmd, const struct cli_opt *o, const char *arg,
		       uint64_t lo, uint64_t hi, unsigned *field)
{
	uint64_t v;
	int rc = number(cmd, o, arg, lo, hi, &v);

	if (rc == 0)
		*field = (unsigned)v;
	return rc;
}

int cli_set_connections(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			const char *arg)
{
	return number_uint(cmd, o, arg, 1, RP_NET_CONNECTIONS_MAX, field);
}

int cli_set_chunk_size(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		       const char *arg)
{
	uint64_t *chunk_size = field;
	struct rp_err err;

	(void)o;
	rp_err_init(&err);
	if (rp_parse_size(arg, chunk_size, &err) != 0 ||
	    rp_chunk_size_check(*chunk_size, &err) != 0)
		return cli_usage(cmd, "--chunk-size: %s", err.msg);
	return 0;
}

int cli_set_retries(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		    const char *arg)
{
	return number_uint(cmd, o, arg, 0, RP_NET_RETRIES_MAX, field);
}

int cli_set_retry_base_ms(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			  const char *arg)
{
	return number_uint(cmd, o, arg, 1, RP_NET_RETRY_BASE_MS_MAX, field);
}

int cli_set_low_speed_time(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			   const char *arg)
{
	uint64_t v;
	int rc = number(cmd, o, arg, 1, 3600, &v);

	if (rc == 0)
		*(long *)field = (long)v;
	return rc;
}

int cli_set_range_timeout(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			  const char *arg)
{
	return number_uint(cmd, o, arg, 1, RP_NET_RANGE_TIMEOUT_MAX_S, field);
}

int cli_set_transport_hash(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			   const char *arg)
{
	enum rp_th_request *th = field;

	(void)o;
	if (strcmp(arg, "auto") == 0)
		*th = RP_THR_AUTO;
	else if (strcmp(arg, "crc64") == 0)
		*th = RP_THR_CRC64;
	else if (strcmp(arg, "md5") == 0)
		*th = RP_THR_MD5;
	else if (strcmp(arg, "none") == 0)
		*th = RP_THR_NONE;
	else
		return cli_usage(cmd, "--transport-hash must be auto, crc64, md5 or none");
	return 0;
}

int cli_set_resolve(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		    const char *arg)
{
	struct rp_http_opts *h = field;

	(void)o;
	if (h->resolve_count >= RP_HTTP_MAX_RESOLVE)
		return cli_usage(cmd, "at most %d --resolve options", RP_HTTP_MAX_RESOLVE);
	if (!strchr(arg, ':') || strchr(arg, ':') == strrchr(arg, ':'))
		return cli_usage(cmd, "--resolve takes HOST:PORT:ADDR, not '%s'", arg);
	h->resolve[h->resolve_count++] = arg;
	return 0;
}

int cli_set_require_private(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			    const char *arg)
{
	struct rp_http_opts *h = field;
	char proxy[256], var[40];

	(void)o;
	(void)arg;
	h->require_private = true;
	/* The proxy's address would be the one checked, not the service's: say that it is left
	 * out rather than let an operator believe traffic goes through it. */
	if (rp_http_env_proxy("https://host.invalid/", proxy, sizeof(proxy), var, sizeof(var)))
		fprintf(stderr,
			"cvmrestore: %s: note: --require-private connects directly: the proxy %s "
			"from %s is not used\n",
			cmd->name, proxy, var);
	return 0;
}

int cli_set_private_cidr(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			 const char *arg)
{
	struct rp_http_opts *h = field;
	struct rp_err err;

	(void)o;
	rp_err_init(&err);
	if (h->private_extra_count >= RP_HTTP_MAX_CIDRS)
		return cli_usage(cmd, "at most %d --private-cidr options", RP_HTTP_MAX_CIDRS);
	if (rp_cidr_parse(arg, &h->private_extra[h->private_extra_count], &err))
		return cli_usage(cmd, "--private-cidr: %s", err.msg);
	h->private_extra_count++;
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

struct rp_json *cli_net_report(const struct rp_restore_report *rep, const char *out,
			       const char *seal_path, const struct rp_seal *seal, int rc,
			       const char *error)
{
	const struct rp_fetch_result *f = &rep->fetch;
	struct rp_json *o = cli_doc_new(CLI_SCHEMA_RESTORE, "restore"), *d = rp_json_new_object(),
		       *mm;
	unsigned i;
	size_t k;

	rp_json_set_str(o, "source", RP_URL(rep->source));
	rp_json_set_str(o, "etag", rep->etag);
	rp_json_set_str(o, "blob_type", rep->blob_type);
	rp_json_set_u64(o, "blob_size", rep->blob_size);
	rp_json_set_u64(o, "virtual_size", rep->virtual_size);
	rp_json_set_bool(o, "vhd", rep->is_vhd);
	rp_json_set(o, "output", out ? rp_json_new_string(RP_URL(out)) : rp_json_new_null());
	if (out)
		rp_json_set_str(o, "output_format", rep->output_format);
	rp_json_set_str(o, "transport_hash",
			rep->encrypted ? "aes-gcm-tag" : rp_transport_hash_name(rep->th));
	if (rep->encrypted) {
		struct rp_json *e = rp_json_new_object();

		rp_json_set_str(e, "protocol", rep->enc_protocol);
		rp_json_set_str(e, "algorithm", "AES_GCM_256");
		rp_json_set_u64(e, "region_length", rep->region_len);
		rp_json_set(e, "content_key", cli_key_info_json(&rep->cek));
		rp_json_set(o, "client_side_encryption", e);
	}
	rp_json_set(o, "seal",
		    seal_path ? rp_json_new_string(RP_URL(seal_path)) : rp_json_new_null());
	if (seal && strcmp(seal->source_name, rep->source) != 0)
		rp_json_set_str(o, "seal_source", seal->source_name);
	rp_json_set_bool(o, "resumed", rep->resumed);
	/* What a resume relied on: every chunk the journal listed is re-checked (docs/journal.md).
	 */
	rp_json_set_u64(o, "chunks_resumed_listed", rep->resume.listed);
	rp_json_set_u64(o, "chunks_rechecked", rep->resume.rechecked);
	rp_json_set_u64(o, "chunks_refetched", rep->resume.refetched);
	if (rep->resume.old_journal)
		rp_json_set_str(o, "journal_note",
				"the journal was written by an older version and "
				"is not trusted: every chunk was fetched again");
	rp_json_set_u64(o, "chunk_size", f->pipe.seal ? f->pipe.seal->chunk_size : 0);
	rp_json_set_u64(o, "chunks", f->pipe.seal ? f->pipe.seal->chunk_count : 0);
	rp_json_set_u64(o, "chunks_fetched", f->chunks_fetched);
	rp_json_set_u64(o, "chunks_compared", f->pipe.chunks_compared);
	rp_json_set_u64(o, "bytes_fetched", f->bytes_fetched);
	rp_json_set_u64(o, "bytes_skipped", f->bytes_skipped);
	rp_json_set_u64(o, "bytes_resumed", f->bytes_resumed);
	rp_json_set_u64(o, "retries", f->retries);
	for (i = 0; i < RP_DIGEST_COUNT; i++) {
		char hex[2 * RP_DIGEST_MAX + 1];
		if (!f->pipe.whole_done[i])
			continue;
		rp_hex(f->pipe.whole[i], rp_digest_size((enum rp_digest_alg)i), hex);
		rp_json_set_str(d, rp_digest_name((enum rp_digest_alg)i), hex);
	}
	rp_json_set(o, "digests", d);
	if (f->pipe.seal && f->pipe.seal->has_identity) {
		char hex[65];
		struct rp_json *id = rp_json_new_object();

		rp_hex(f->pipe.seal->identity, 32, hex);
		rp_json_set_str(id, RP_SEAL_IDENTITY_NAME, hex);
		rp_json_set(o, "identity", id);
	}
	cli_seal_claims_add(o, seal);
	rp_json_set_u64(o, "mismatch_count", f->pipe.mismatch_count);
	mm = rp_json_new_array();
	for (k = 0; f->pipe.mismatches && k < f->pipe.mismatch_count && k < RP_SCAN_MAX_MISMATCHES;
	     k++) {
		const struct rp_scan_mismatch *m = &f->pipe.mismatches[k];
		struct rp_json *e = rp_json_new_object();
		char hex[65];

		rp_json_set_u64(e, "index", m->index);
		rp_json_set_u64(e, "offset", m->offset);
		rp_json_set_u64(e, "length", m->length);
		rp_json_set_str(e, "expected", state_text(m->expected_state, m->expected, hex));
		rp_json_set_str(e, "actual", state_text(m->actual_state, m->actual, hex));
		rp_json_append(mm, e);
	}
	rp_json_set(o, "mismatches", mm);
	rp_json_set(o, "seconds", rp_json_new_real(rep->seconds));
	if (rep->th == RP_TH_NONE && !rep->encrypted && !seal && rep->blob_size)
		rp_json_set_str(o, "warning",
				"the server gave no per-range hash and there was no "
				"seal: the data was not verified (seal the disk, or "
				"restore from a source that gives MD5 or CRC64)");
	cli_doc_verdict(o, rp_code_exit(rc));
	if (error)
		rp_json_set_str(o, "error", error);
	return o;
}

void cli_net_print(FILE *f, const struct rp_json *r)
{
	uint64_t fetched = 0, skipped = 0, resumed = 0, retries = 0, vsize = 0, compared = 0;
	char a[32], b[32], c[32], v[32];
	bool resumed_flag = false;
	const char *verdict = rp_json_string(rp_json_get(r, "verdict"));
	size_t i;

	rp_json_u64(rp_json_get(r, "bytes_fetched"), &fetched);
	rp_json_u64(rp_json_get(r, "bytes_skipped"), &skipped);
	rp_json_u64(rp_json_get(r, "bytes_resumed"), &resumed);
	rp_json_u64(rp_json_get(r, "retries"), &retries);
	rp_json_u64(rp_json_get(r, "virtual_size"), &vsize);
	rp_json_u64(rp_json_get(r, "chunks_compared"), &compared);
	cli_fmt_size(fetched, a, sizeof(a));
	cli_fmt_size(skipped, b, sizeof(b));
	cli_fmt_size(resumed, c, sizeof(c));
	cli_fmt_size(vsize, v, sizeof(v));
	fprintf(f, "source: %s (ETag %s)\n", RP_TEXT(rp_json_string(rp_json_get(r, "source"))),
		RP_ESC(rp_json_string(rp_json_get(r, "etag"))));
	if (rp_json_string(rp_json_get(r, "output")))
		fprintf(f, "output: %s (%s)\n", RP_PATH(rp_json_string(rp_json_get(r, "output"))),
			rp_json_string(rp_json_get(r, "output_format")));
	fprintf(f, "disk: %s; fetched %s, skipped %s never written, %s verified before\n", v, a, b,
		c);
	fprintf(f, "checks: transport hash %s, %llu chunks against the seal, %llu retries\n",
		rp_json_string(rp_json_get(r, "transport_hash")), (unsigned long long)compared,
		(unsigned long long)retries);
	if (rp_json_bool(rp_json_get(r, "resumed"), &resumed_flag) == 0 && resumed_flag) {
		uint64_t listed = 0, rechecked = 0, refetched = 0;

		rp_json_u64(rp_json_get(r, "chunks_resumed_listed"), &listed);
		rp_json_u64(rp_json_get(r, "chunks_rechecked"), &rechecked);
		rp_json_u64(rp_json_get(r, "chunks_refetched"), &refetched);
		fprintf(f,
			"resume: the journal listed %llu chunks; %llu re-checked against it, %llu "
			"did not match and were fetched again\n",
			(unsigned long long)listed, (unsigned long long)rechecked,
			(unsigned long long)refetched);
	}
	if (rp_json_string(rp_json_get(r, "journal_note")))
		fprintf(f, "note: %s\n", rp_json_string(rp_json_get(r, "journal_note")));
	if (rp_json_string(rp_json_get(r, "seal_source")))
		fprintf(f, "note: the seal was made from %s\n",
			RP_ESC(rp_json_string(rp_json_get(r, "seal_source"))));
	cli_print_tree(f, rp_json_get(r, "digests"), 2);
	cli_seal_claims_print(f, r, "");
	for (i = 0; i < rp_json_array_size(rp_json_get(r, "mismatches")) && i < 20; i++) {
		const struct rp_json *m = rp_json_array_at(rp_json_get(r, "mismatches"), i);
		uint64_t idx = 0, off = 0;
		rp_json_u64(rp_json_get(m, "index"), &idx);
		rp_json_u64(rp_json_get(m, "offset"), &off);
		fprintf(f, "  chunk %llu at 0x%llx: expected %s, got %s\n", (unsigned long long)idx,
			(unsigned long long)off, rp_json_string(rp_json_get(m, "expected")),
			rp_json_string(rp_json_get(m, "actual")));
	}
	if (rp_json_string(rp_json_get(r, "warning")))
		fprintf(f, "warning: %s\n", RP_TEXT(rp_json_string(rp_json_get(r, "warning"))));
	fprintf(f, "verdict: %s\n", verdict ? verdict : "?");
}

int cli_net_check_url(const struct cli_cmd *cmd, const struct rp_net_opts *a, const char *url)
{
	if (strncasecmp(url, "http://", 7) == 0 && !a->http.allow_http)
		return cli_usage(cmd,
				 "http:// sends the SAS and data in the clear; use https:// or "
				 "add --allow-http");
	return 0;
}
