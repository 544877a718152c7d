#include "restore/restore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "common/util.h"
#include "common/outfile.h"
#include "formats/vhd.h"
#include "net/blob.h"
#include "restore/cse.h"
#include "restore/sink.h"

#define PLAN_WINDOW (1ull << 30)
#define MAX_HASHED_RANGE (4u << 20)

bool rp_is_url(const char *s)
{
	return strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "http://", 7) == 0;
}

/* The footer (and, encrypted, its region): pinned to the HEAD's version like every chunk. */
static int blob_read(void *ctx, uint64_t off, uint8_t *buf, size_t len, struct rp_err *err)
{
	struct rp_blob *b = ctx;
	struct rp_http_response r;
	char msg[256];
	int rc = rp_blob_get_range(b, off, len, NULL, 0, buf, &r, err);

	if (rc)
		return rc;
	if (!rp_source_same(b->etag, b->last_modified, rp_http_header(&r, "ETag"),
			    rp_http_header(&r, "Last-Modified"), msg, sizeof(msg)))
		rc = rp_err_set_reason(
		    err, RP_EIO, RP_R_SOURCE_CHANGED,
		    "the source changed during the restore: %s answered the range at "
		    "0x%llx with %s",
		    b->display, (unsigned long long)off, msg);
	rp_http_response_release(&r);
	return rc;
}

/* The last 512 bytes of the disk image (plaintext when encrypted): a fixed VHD footer, or not a
 * VHD at all (a guest state blob, a raw mirror). */
static int check_footer(struct rp_blob *b, const struct rp_cse *c, uint8_t footer[VHD_FOOTER_SIZE],
			bool *is_vhd, struct rp_err *err)
{
	uint64_t size = c ? c->plain_size : b->size;
	int rc;

	*is_vhd = false;
	if (size < VHD_FOOTER_SIZE)
		return 0;
	if (c)
		rc = rp_cse_read_plain(c, blob_read, b, size - VHD_FOOTER_SIZE, footer,
				       VHD_FOOTER_SIZE, err);
	else
		rc = blob_read(b, size - VHD_FOOTER_SIZE, footer, VHD_FOOTER_SIZE, err);
	if (rc)
		return rc;
	return vhd_image_footer_check(b->display, size, footer, is_vhd, err);
}

/* Ask for a hash on a small first range and see what the server does (docs/azure.md: Azurite
 * answers a CRC64 request with 500 FeatureNotSupported when strict, ignores it when loose). */
static int probe_transport_hash(struct rp_blob *b, enum rp_th_request want,
				enum rp_transport_hash *th, struct rp_err *err)
{
	uint8_t buf[512];
	size_t len = b->size < sizeof(buf) ? (size_t)b->size : sizeof(buf);
	struct rp_http_response r;
	int rc;

	*th = RP_TH_NONE;
	if (want == RP_THR_NONE || len == 0)
		return 0;
	if (want == RP_THR_AUTO || want == RP_THR_CRC64) {
		unsigned attempt;

		/* A 500 FeatureNotSupported means "no CRC64 here"; any other 500 is a busy
		 * server, retried like every other request. */
		for (attempt = 0;; attempt++) {
			const char *code;
			bool busy;

			rc = rp_blob_get_range(b, 0, len, "x-ms-range-get-content-crc64: true", 500,
					       buf, &r, err);
			if (rc)
				return rc;
			code = rp_http_header(&r, "x-ms-error-code");
			busy =
			    r.status == 500 && !(code && strcmp(code, "FeatureNotSupported") == 0);
			if (!busy || attempt >= b->retries)
				break;
			rp_http_response_release(&r);
			nanosleep(&(struct timespec){.tv_nsec = 200000000L}, NULL);
		}
		if (r.status == 206 && rp_http_header(&r, "x-ms-content-crc64"))
			*th = RP_TH_CRC64;
		rp_http_response_release(&r);
		if (*th == RP_TH_CRC64)
			return 0;
		if (want == RP_THR_CRC64)
			return rp_err_set_hint(err, RP_EFORMAT, RP_H_TH_CRC64,
					       "%s: the server does not give x-ms-content-crc64",
					       b->display);
	}
	rc = rp_blob_get_range(b, 0, len, "x-ms-range-get-content-md5: true", 0, buf, &r, err);
	if (rc)
		return rc;
	if (rp_http_header(&r, "Content-MD5"))
		*th = RP_TH_MD5;
	rp_http_response_release(&r);
	if (*th == RP_TH_NONE && want == RP_THR_MD5)
		return rp_err_set_hint(err, RP_EFORMAT, RP_H_TH_MD5,
				       "%s: the server does not give Content-MD5 for ranges",
				       b->display);
	return 0;
}

/* The bytes a page blob's page ranges list (holes are never written), over the whole blob:
 * one listing per window, with a plan of its own so the fetch plan starts fresh. */
static int listed_bytes(struct rp_blob *b, uint64_t size, uint64_t chunk_size, uint64_t *bytes,
			struct rp_err *err)
{
	struct rp_page_plan *p = NULL;
	uint64_t per = PLAN_WINDOW / chunk_size, n = (size + chunk_size - 1) / chunk_size, k;
	bool alloc;
	int rc = rp_page_plan_new(b, size, chunk_size, PLAN_WINDOW, &p, err);

	for (k = 0; rc == 0 && k < n; k += per ? per : 1)
		rc = rp_page_plan_chunk(p, k, &alloc, err);
	if (rc == 0)
		*bytes = rp_page_plan_written(p);
	rp_page_plan_free(p);
	return rc;
}

/* The bytes a restore will write (the listed bytes of a page blob, else the whole disk, plus the
 * footer); the sink compares them, less what a resumed partial holds, with the free space. */
static int out_bytes_needed(struct rp_blob *b, bool page_plan, uint64_t vsize, uint64_t chunk_size,
			    bool vhd_out, uint64_t *need, struct rp_err *err)
{
	int rc;

	*need = vsize;
	if (page_plan) {
		rc = listed_bytes(b, vsize, chunk_size, need, err);
		if (rc)
			return rc;
	}
	*need += vhd_out ? VHD_FOOTER_SIZE : 0;
	return 0;
}

static int restore_run(const struct rp_restore_opts *o, struct rp_restore_report *rep,
		       struct rp_err *err)
{
	struct rp_blob b = {0};
	struct rp_page_plan *plan = NULL;
	struct rp_file_sink *sink = NULL;
	struct rp_fetch_opts fo = {0};
	struct rp_cse cse = {0};
	bool enc = false;
	uint64_t chunk_size = o->net.chunk_size;
	struct rp_http_opts token_http;
	uint8_t footer[VHD_FOOTER_SIZE];
	bool is_vhd = false, vhd_out;
	double t0 = rp_now_s();
	struct stat st;
	int rc;

	memset(rep, 0, sizeof(*rep));
	rp_url_redact(o->url, rep->source, sizeof(rep->source));
	if ((rc = rp_net_opts_check(&o->net, err)) != 0)
		return rc;
	if (o->net.th != RP_THR_NONE && o->net.chunk_size > MAX_HASHED_RANGE)
		return rp_err_set_hint(err, RP_EUSAGE, RP_H_TH_CHUNK,
				       "chunks may be at most 4 MiB while transport hashes are on "
				       "(the service hashes ranges of 4 MiB or less)");
	/* Refuse before any request: OUT must name a file or a block device, not a directory, and
	 * an existing OUT needs --force (the sink checks again). */
	if (o->out && (rc = rp_outfile_check_target(o->out, err)) != 0)
		return rc;
	if (o->out && !o->force && stat(o->out, &st) == 0)
		return rp_err_set_hint(err, RP_EUSAGE, RP_H_FORCE, "'%s' exists", o->out);
	rc = rp_http_new(&o->net.http, &b.http, err);
	if (rc)
		return rc;
	/* --require-private guards where the SAS or token goes (storage), not where a token comes
	 * from: IMDS is link-local and the token authority is public. */
	token_http = o->net.http;
	token_http.require_private = false;
	rc = rp_auth_new(&o->net.auth, &token_http, RP_AUDIENCE_STORAGE, &b.auth, err);
	if (rc)
		goto out;
	b.url = o->url;
	b.retries = o->net.retries;
	b.retry_base_ms = o->net.retry_base_ms;
	rc = rp_blob_head(&b, err);
	if (rc)
		goto out;
	snprintf(rep->etag, sizeof(rep->etag), "%s", b.etag);
	snprintf(rep->blob_type, sizeof(rep->blob_type), "%s", b.blob_type);
	rep->blob_size = b.size;
	if (b.encryptiondata[0] && o->refuse_encrypted) {
		rc = rp_err_set_hint(err, RP_EUSAGE, RP_H_LUKS_ENCRYPTED,
				     "%s is client-side encrypted: its stored bytes are ciphertext",
				     b.display);
		goto out;
	}
	if (b.encryptiondata[0]) {
		if (strcmp(b.blob_type, "PageBlob") == 0) {
			rc = rp_err_set(
			    err, RP_EFORMAT,
			    "%s: a page blob with encryptiondata: client-side encryption "
			    "is for block blobs",
			    b.display);
			goto out;
		}
		rc = rp_cse_open(&cse, b.encryptiondata, strlen(b.encryptiondata), b.size, o->keys,
				 b.display, &rep->cek, err);
		if (rc)
			goto out;
		enc = true;
		rep->encrypted = true;
		snprintf(rep->enc_protocol, sizeof(rep->enc_protocol), "%s", cse.ed.protocol);
		rep->region_len = cse.ed.region_len;
		/* A chunk is a region: each is authenticated by its own tag. */
		chunk_size = cse.ed.region_len;
	}
	rc = check_footer(&b, enc ? &cse : NULL, footer, &is_vhd, err);
	if (rc)
		goto out;
	rep->is_vhd = is_vhd;
	rep->virtual_size = (enc ? cse.plain_size : b.size) - (is_vhd ? VHD_FOOTER_SIZE : 0);
	/* Bounded bookkeeping: 16 Mi chunks (64 TiB at 4 MiB). */
	if (rep->virtual_size / chunk_size > (1u << 24)) {
		rc = rp_err_set_hint(err, RP_EUSAGE, RP_H_CHUNK_LARGER,
				     "%s: %llu bytes in chunks of %llu is more than 16 Mi chunks",
				     b.display, (unsigned long long)rep->virtual_size,
				     (unsigned long long)chunk_size);
		goto out;
	}
	if (o->format == RP_OUT_VHD && !is_vhd) {
		rc = rp_err_set_reason(err, RP_EFORMAT, RP_R_FOOTER,
				       "%s: the blob has no VHD footer, which a VHD output needs",
				       b.display);
		rp_err_hint(err, RP_H_FORMAT_RAW);
		goto out;
	}
	vhd_out = is_vhd && o->format != RP_OUT_RAW;
	if (o->out)
		snprintf(rep->output_format, sizeof(rep->output_format), "%s",
			 vhd_out ? "vhd" : "raw");
	if (o->seal && o->seal->virtual_size != rep->virtual_size) {
		rc = rp_err_set(err, RP_EVERIFY,
				"the seal is for a disk of %llu bytes, %s holds %llu",
				(unsigned long long)o->seal->virtual_size, b.display,
				(unsigned long long)rep->virtual_size);
		goto out;
	}
	if (enc && o->seal && o->seal->chunk_size != chunk_size) {
		rc = rp_err_set_hint(
		    err, RP_EUSAGE, RP_H_SEAL_CHUNK,
		    "the seal has chunks of %llu bytes, but %s is encrypted in regions of "
		    "%llu: its seal needs chunks of %llu bytes",
		    (unsigned long long)o->seal->chunk_size, b.display,
		    (unsigned long long)chunk_size, (unsigned long long)chunk_size);
		goto out;
	}
	/* The AES-GCM tag of each region authenticates every stored byte; the service's hashes
	 * cover at most 4 MiB, less than a region with its nonce and tag. */
	if (!enc) {
		rc = probe_transport_hash(&b, o->net.th, &rep->th, err);
		if (rc)
			goto out;
	}
	if (!enc && strcmp(b.blob_type, "PageBlob") == 0) {
		rc = rp_page_plan_new(&b, rep->virtual_size, o->net.chunk_size, PLAN_WINDOW, &plan,
				      err);
		if (rc)
			goto out;
	}
	if (o->out) {
		struct rp_sink_id id = {
		    .source = rep->source,
		    .etag = b.etag,
		    .size = rep->virtual_size,
		    .chunk_size = chunk_size,
		    .output_format = vhd_out ? 1 : 0,
		    .seal = o->seal,
		};
		if (!o->no_space_check) {
			rc = out_bytes_needed(&b, plan != NULL, rep->virtual_size, chunk_size,
					      vhd_out, &id.space_needed, err);
			if (rc)
				goto out;
			id.space_check = true;
		}
		rc = rp_file_sink_open(o->out, &id, o->force, &sink, &rep->resumed, err);
		if (rc)
			goto out;
		fo.sink = rp_file_sink_callbacks(sink);
	}
	fo.url = o->url;
	fo.display = rep->source;
	fo.auth = b.auth;
	fo.http = &o->net.http;
	fo.etag = b.etag;
	fo.last_modified = b.last_modified;
	fo.size = rep->virtual_size;
	fo.total_size = b.size;
	fo.chunk_size = chunk_size;
	if (enc) {
		fo.overhead = RP_ENCDATA_OVERHEAD;
		fo.region_total = cse.plain_size;
		fo.decrypt = rp_cse_decrypt;
		fo.decrypt_ctx = &cse;
	}
	fo.connections = o->net.connections;
	fo.retries = o->net.retries;
	fo.retry_base_ms = o->net.retry_base_ms;
	fo.range_timeout_s = o->net.range_timeout_s;
	fo.limit_rate = o->limit_rate;
	fo.th = rep->th;
	fo.expect = o->seal;
	fo.keep_going = o->keep_going;
	fo.whole_digests = o->whole_digests;
	fo.hash_window = o->select ? 0 : o->hash_window;
	/* Whole-disk digests are computed when asked for, and only then: the caller decides
	 * (a seal's own whole-disk digests are its claim, never reported as the disk's). */
	/* A part of the disk has no whole-disk digest (and the seal's would not be proven). */
	if (o->select)
		fo.whole_digests = 0;
	fo.select = o->select;
	fo.select_ctx = o->select_ctx;
	if (o->select_init) {
		rc = o->select_init(o->select_ctx, rep->virtual_size, chunk_size, err);
		if (rc)
			goto out;
	}
	fo.plan = plan ? rp_page_plan_chunk : NULL;
	fo.plan_ctx = plan;
	fo.progress = o->progress;
	fo.progress_ctx = o->progress_ctx;
	fo.progress_detail = o->progress_detail;
	fo.stop = o->stop;
	rc = rp_fetch_run(&fo, &rep->fetch, err);
	if (sink)
		rp_file_sink_resume_stats(sink, &rep->resume);
	if (plan)
		rep->written_listed = rp_page_plan_written(plan);
	if (rc)
		goto out;
	/* A seal whose chunks all match but whose whole-disk digest does not is inconsistent with
	 * the bytes: a verification failure, whatever the chunks said. keep_going (verify)
	 * records findings instead: the caller compares and reports them with the digests. */
	if (o->seal && !o->keep_going) {
		unsigned a = 0;

		if (o->seal->has_identity && rep->fetch.pipe.seal &&
		    rep->fetch.pipe.seal->has_identity &&
		    memcmp(o->seal->identity, rep->fetch.pipe.seal->identity, 32) != 0) {
			char want[65], got[65];

			rp_hex(o->seal->identity, 32, want);
			rp_hex(rep->fetch.pipe.seal->identity, 32, got);
			rc = rp_err_set(
			    err, RP_EVERIFY,
			    "whole-disk %s mismatch (the seal says %s, computed %s): the "
			    "seal is inconsistent with its chunks",
			    RP_SEAL_IDENTITY_NAME, want, got);
			goto out;
		}
		if (rp_whole_differs(o->seal, rep->fetch.pipe.whole_done,
				     (const uint8_t(*)[RP_DIGEST_MAX])rep->fetch.pipe.whole, &a)) {
			size_t n = rp_digest_size((enum rp_digest_alg)a);
			char want[2 * RP_DIGEST_MAX + 1], got[2 * RP_DIGEST_MAX + 1];

			rp_hex(rp_seal_whole(o->seal, (enum rp_digest_alg)a), n, want);
			rp_hex(rep->fetch.pipe.whole[a], n, got);
			rc = rp_err_set(
			    err, RP_EVERIFY,
			    "whole-disk %s mismatch (the seal says %s, computed %s): the "
			    "seal is inconsistent with the bytes",
			    rp_digest_name((enum rp_digest_alg)a), want, got);
			goto out;
		}
	}
	if (rep->fetch.pipe.mismatch_count) {
		rc = rp_err_set(err, RP_EVERIFY, "%s does not match the seal: %zu chunks differ",
				rep->source, rep->fetch.pipe.mismatch_count);
		goto out;
	}
	if (sink) {
		if (o->stop && *o->stop) {
			rc = rp_err_set(err, RP_EINTR, "interrupted");
			goto out;
		}
		rc = rp_file_sink_finish(sink, vhd_out ? footer : NULL,
					 vhd_out ? VHD_FOOTER_SIZE : 0, err);
	}
out:
	if (rc && sink && err) {
		char msg[RP_ERR_MSG_MAX];
		enum rp_hint hint;

		/* After a change of the source a resume would be refused: say so instead. */
		if (rep->fetch.source_changed)
			snprintf(msg, sizeof(msg),
				 "%s; '%s' and its journal are kept, but they hold the old "
				 "content: remove them to start over",
				 err->msg, rp_file_sink_partial_path(sink));
		else
			snprintf(msg, sizeof(msg),
				 "%s; '%s' and its journal are kept: run the same command again to "
				 "resume",
				 err->msg, rp_file_sink_partial_path(sink));
		hint = err->hint;
		rp_err_set_reason(err, rc, err->reason, "%s", msg);
		rp_err_hint(err, hint);
	}
	rep->seconds = rp_now_s() - t0;
	rp_file_sink_free(sink);
	rp_cse_close(&cse);
	rp_page_plan_free(plan);
	rp_auth_free(b.auth);
	rp_http_free(b.http);
	return rc;
}

int rp_restore_run(const struct rp_restore_opts *o, struct rp_restore_report *rep,
		   struct rp_err *err)
{
	struct rp_err local;
	int rc;

	rp_err_init(&local);
	rc = restore_run(o, rep, err ? err : &local);
	rp_restore_report_failed(rep, rc, err ? err : &local);
	return rc;
}

void rp_restore_report_release(struct rp_restore_report *rep)
{
	rp_fetch_result_release(&rep->fetch);
}

int rp_restore_probe_th(struct rp_blob *b, enum rp_th_request want, enum rp_transport_hash *th,
			struct rp_err *err)
{
	return probe_transport_hash(b, want, th, err);
}
