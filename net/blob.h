/*
 * Azure Blob REST over net/http.h (docs/azure.md "Blob reads"): properties, small ranged
 * reads (the VHD footer, the transport-hash probe) and the page-range plan, listed lazily in
 * windows so that the first chunks move at once. Plain HTTPS servers (an nginx mirror) answer
 * the same reads; they have no page ranges, so every chunk is planned as written.
 *
 * URLs may hold a SAS: messages use the display form (rp_url_redact) only.
 */
#ifndef RP_NET_BLOB_H
#define RP_NET_BLOB_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "net/auth.h"
#include "net/http.h"

struct rp_blob {
	struct rp_http *http;
	struct rp_auth *auth;
	const char *url;
	char display[1024];
	unsigned retries;
	unsigned retry_base_ms;
	/* from HEAD */
	uint64_t size;
	char etag[128];
	char blob_type[32]; /* "PageBlob", "BlockBlob", or "" for a plain server */
	char last_modified[64];
	char encryptiondata[8192]; /* x-ms-meta-encryptiondata, if any */
};

/* HEAD the blob: size, ETag, type. 403 with an expired SAS says so (RP_EAUTH). */
int rp_blob_head(struct rp_blob *b, struct rp_err *err);

/*
 * Read [off, off+len) into buf with If-Match on the ETag. hash_header (may be NULL) is sent as is
 * (e.g. "x-ms-range-get-content-crc64: true"); the answer's headers are kept in resp (release
 * it). A non-206 answer is an error, except that *status gets the code for the caller to judge
 * when allow_status is that code.
 */
/*
 * A non-success answer as a message (SAS expiry and permissions named, the service's error code
 * and message, never the query) and a code; true if another attempt may mend it (408, 429, 5xx,
 * and a body damaged on the way: 400 Crc64Mismatch / Md5Mismatch). denied_hint is appended to
 * an access-denied message (may be NULL); etag is named for a 412.
 */
bool rp_blob_judge(const char *url, const char *display, const char *etag, const char *what,
		   const char *denied_hint, const struct rp_http_response *r, struct rp_err *err);

int rp_blob_get_range(struct rp_blob *b, uint64_t off, size_t len, const char *hash_header,
		      long allow_status, uint8_t *buf, struct rp_http_response *resp,
		      struct rp_err *err);

struct rp_page_plan;

/* A plan over size bytes in chunks of chunk_size, listing page ranges window bytes at a time. */
int rp_page_plan_new(struct rp_blob *b, uint64_t size, uint64_t chunk_size, uint64_t window,
		     struct rp_page_plan **out, struct rp_err *err);
void rp_page_plan_free(struct rp_page_plan *p);

/* rp_fetch_plan_fn: is any byte of chunk written? Chunks must be asked for in order. */
int rp_page_plan_chunk(void *plan, uint64_t chunk, bool *allocated, struct rp_err *err);

/* Bytes listed as written so far. */
uint64_t rp_page_plan_written(const struct rp_page_plan *p);

/*
 * Also hand every page range the plan lists to fn (inclusive byte offsets, clipped to the
 * window being listed, in listing order), before the rp_page_plan_chunk call that listed it
 * returns. fn NULL: none (the default).
 */
void rp_page_plan_on_range(struct rp_page_plan *p,
			   void (*fn)(void *ctx, uint64_t start, uint64_t end), void *ctx);

#endif
