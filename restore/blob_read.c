/* Verified random reads of a blob: whole chunks, transport hash per request, seal per chunk. */
#include "restore/blob_read.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "restore/restore.h"
#include "verify/pipeline.h"

#define PIECE_MAX (4u * 1024 * 1024) /* Azure's limit for a range with a transport hash */

struct rp_blob_reader {
	struct rp_blob blob;
	struct rp_blob *b; /* &blob */
	enum rp_transport_hash th;
	const struct rp_seal *seal;
	uint64_t chunk_size;
	uint8_t *buf;	 /* the cached chunk */
	uint64_t cached; /* its index, UINT64_MAX for none */
	void (*on_chunk)(void *ctx, uint64_t index, uint64_t off, uint64_t len);
	void *on_chunk_ctx;
	volatile sig_atomic_t *stop;
	struct rp_image_source src; /* rp_blob_reader_image's */
	int failed;		    /* the first failure's code, message in ferr */
	struct rp_err ferr;
};

int rp_blob_reader_open(const struct rp_blob_reader_opts *o, struct rp_blob_reader **out,
			struct rp_err *err)
{
	uint64_t chunk_size = o->seal ? o->seal->chunk_size : o->net->chunk_size;
	struct rp_http_opts token_http;
	struct rp_blob_reader *r;
	int rc;

	*out = NULL;
	if ((rc = rp_chunk_size_check(chunk_size, err)) != 0)
		return rc;
	r = calloc(1, sizeof(*r));
	if (r)
		r->buf = malloc((size_t)chunk_size);
	if (!r || !r->buf) {
		free(r);
		return rp_err_set(err, RP_EIO, "out of memory for a %" PRIu64 "-byte chunk",
				  chunk_size);
	}
	r->b = &r->blob;
	r->th = o->th;
	r->seal = o->seal;
	r->chunk_size = chunk_size;
	r->cached = UINT64_MAX;
	r->on_chunk = o->on_chunk;
	r->on_chunk_ctx = o->on_chunk_ctx;
	r->stop = o->stop;
	rp_err_init(&r->ferr);
	r->blob.url = o->url;
	r->blob.retries = o->net->retries;
	r->blob.retry_base_ms = o->net->retry_base_ms;
	rc = rp_http_new(&o->net->http, &r->blob.http, err);
	if (rc)
		goto fail;
	/* As in restore.c: --require-private guards storage, not the token's source. */
	token_http = o->net->http;
	token_http.require_private = false;
	rc = rp_auth_new(&o->net->auth, &token_http, RP_AUDIENCE_STORAGE, &r->blob.auth, err);
	if (rc)
		goto fail;
	rc = rp_blob_head(&r->blob, err);
	if (rc)
		goto fail;
	if (r->blob.encryptiondata[0]) {
		rc = rp_err_set(err, RP_EUSAGE,
				"%s is client-side encrypted: its stored bytes are ciphertext; "
				"restore it, then check the restored file",
				r->blob.display);
		goto fail;
	}
	if (o->etag && strcmp(o->etag, r->blob.etag) != 0) {
		rc = rp_err_set_reason(err, RP_EIO, RP_R_SOURCE_CHANGED,
				       "%s changed after it was verified (ETag %s, now %s)",
				       r->blob.display, o->etag, r->blob.etag);
		goto fail;
	}
	if (o->blob_size && o->blob_size != r->blob.size) {
		rc = rp_err_set_reason(err, RP_EIO, RP_R_SOURCE_CHANGED,
				       "%s changed after it was verified (%" PRIu64
				       " bytes, now %" PRIu64 ")",
				       r->blob.display, o->blob_size, r->blob.size);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	rp_blob_reader_free(r);
	return rc;
}

void rp_blob_reader_free(struct rp_blob_reader *r)
{
	if (!r)
		return;
	rp_auth_free(r->blob.auth);
	rp_http_free(r->blob.http);
	free(r->buf);
	free(r);
}

uint64_t rp_blob_reader_size(const struct rp_blob_reader *r)
{
	return r->blob.size;
}

const char *rp_blob_reader_name(const struct rp_blob_reader *r)
{
	return r->blob.display;
}

const char *rp_blob_reader_etag(const struct rp_blob_reader *r)
{
	return r->blob.etag;
}

const char *rp_blob_reader_type(const struct rp_blob_reader *r)
{
	return r->blob.blob_type;
}

int rp_blob_reader_page_ranges(struct rp_blob_reader *r, uint64_t start, uint64_t window,
			       void (*fn)(void *ctx, uint64_t start, uint64_t end), void *ctx,
			       struct rp_err *err)
{
	struct rp_page_plan *p = NULL;
	bool written;
	int rc;

	if (window == 0 || start % window != 0)
		return rp_err_set(err, RP_EUSAGE,
				  "page ranges at 0x%" PRIx64 ": not a multiple of the window",
				  start);
	/* A plan whose one "chunk" is the window: one listing, every range handed to fn. */
	rc = rp_page_plan_new(r->b, r->blob.size, window, window, &p, err);
	if (rc)
		return rc;
	rp_page_plan_on_range(p, fn, ctx);
	rc = rp_page_plan_chunk(p, start / window, &written, err);
	rp_page_plan_free(p);
	return rc;
}

int rp_blob_reader_probe_th(struct rp_blob_reader *r, enum rp_th_request want,
			    enum rp_transport_hash *th, struct rp_err *err)
{
	int rc = rp_restore_probe_th(r->b, want, th, err);

	if (rc == 0)
		r->th = *th;
	return rc;
}

int rp_blob_reader_image(struct rp_blob_reader *r, struct rp_image **img, struct rp_err *err)
{
	int rc;

	/* The image keeps a pointer to its source: it lives in the reader. */
	r->src.read = rp_blob_reader_read;
	r->src.ctx = r;
	r->src.size = rp_blob_reader_size(r);
	r->src.name = rp_blob_reader_name(r);
	*img = NULL;
	rc = rp_image_open_source(&r->src, NULL, img, err);
	if (rc)
		rp_blob_reader_failure(r, err);
	return rc;
}

int rp_blob_reader_failure(const struct rp_blob_reader *r, struct rp_err *err)
{
	if (r->failed && err)
		*err = r->ferr;
	return r->failed;
}

/* One request of at most PIECE_MAX bytes, checked with the transport hash; a damaged body is
 * fetched again as often as the blob's retries allow. */
static int read_piece(struct rp_blob_reader *r, uint64_t off, size_t len, uint8_t *buf,
		      struct rp_err *err)
{
	const char *hh = r->th == RP_TH_CRC64 ? "x-ms-range-get-content-crc64: true"
			 : r->th == RP_TH_MD5 ? "x-ms-range-get-content-md5: true"
					      : NULL;
	unsigned attempt;
	int rc = 0;

	for (attempt = 0; attempt <= r->b->retries; attempt++) {
		struct rp_http_response resp;
		char msg[256];

		if (r->stop && *r->stop)
			return rp_err_set(err, RP_EINTR, "interrupted");
		memset(&resp, 0, sizeof(resp));
		rc = rp_blob_get_range(r->b, off, len, hh, 412, buf, &resp, err);
		if (rc)
			return rc;
		if (resp.status == 412) {
			rp_http_response_release(&resp);
			return rp_err_set_reason(
			    err, RP_EIO, RP_R_SOURCE_CHANGED,
			    "%s changed after it was verified (412 to If-Match %s)", r->b->display,
			    r->b->etag);
		}
		if (!rp_source_same(r->b->etag, r->b->last_modified, rp_http_header(&resp, "ETag"),
				    rp_http_header(&resp, "Last-Modified"), msg, sizeof(msg))) {
			rp_http_response_release(&resp);
			return rp_err_set_reason(
			    err, RP_EIO, RP_R_SOURCE_CHANGED,
			    "%s changed after it was verified: the range at 0x%" PRIx64
			    " came with %s",
			    r->b->display, off, msg);
		}
		rc = rp_transport_check(r->th, rp_http_header(&resp, "x-ms-content-crc64"),
					rp_http_header(&resp, "Content-MD5"), buf, len, msg,
					sizeof(msg));
		rp_http_response_release(&resp);
		if (rc == 0)
			return 0;
		rp_err_set_reason(err, rc, rc == RP_EVERIFY ? RP_R_TRANSPORT_HASH : RP_R_NONE,
				  "%s: range at 0x%" PRIx64 ": %s (after %u retries)",
				  r->b->display, off, msg, attempt);
		if (rc != RP_EVERIFY)
			return rc;
	}
	return rc;
}

/* Fetch chunk i into r->buf and check it against the seal. */
static int load_chunk(struct rp_blob_reader *r, uint64_t i, struct rp_err *err)
{
	uint64_t off = i * r->chunk_size, len = r->b->size - off, done, cover;
	int rc;

	if (len > r->chunk_size)
		len = r->chunk_size;
	r->cached = UINT64_MAX;
	for (done = 0; done < len; done += PIECE_MAX) {
		size_t n = (size_t)(len - done < PIECE_MAX ? len - done : PIECE_MAX);

		rc = read_piece(r, off + done, n, r->buf + done, err);
		if (rc)
			return rc;
	}
	/* The seal covers the virtual disk: [off, cover) of this chunk. */
	cover = !r->seal || off >= r->seal->virtual_size ? 0
		: r->seal->virtual_size - off < len	 ? r->seal->virtual_size - off
							 : len;
	if (cover) {
		/* The streaming pass's own check of a chunk (verify/pipeline.h). */
		struct rp_seal_chunk got;

		rc = rp_chunk_verify(r->seal, i, r->buf, (size_t)cover, &got, err);
		if (rc) {
			rp_err_prefix(err, "%s", r->b->display);
			return rc;
		}
	}
	r->cached = i;
	if (r->on_chunk)
		r->on_chunk(r->on_chunk_ctx, i, off, len);
	return 0;
}

int rp_blob_reader_read(void *ctx, void *buf, size_t len, uint64_t off, struct rp_err *err)
{
	struct rp_blob_reader *r = ctx;
	uint8_t *p = buf;

	if (off > r->b->size || len > r->b->size - off)
		return rp_err_set(err, RP_EUSAGE,
				  "%s: %zu bytes at 0x%" PRIx64 " lie past the end (%" PRIu64 ")",
				  r->b->display, len, off, r->b->size);
	while (len > 0) {
		uint64_t i = off / r->chunk_size, in = off - i * r->chunk_size;
		size_t n = (size_t)(r->chunk_size - in < len ? r->chunk_size - in : len);
		int rc;

		if (r->cached != i) {
			struct rp_err e;

			rp_err_init(&e);
			rc = load_chunk(r, i, &e);
			if (rc) {
				if (!r->failed) {
					r->failed = rc;
					r->ferr = e;
				}
				if (err)
					*err = e;
				return rc;
			}
		}
		memcpy(p, r->buf + in, n);
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}
