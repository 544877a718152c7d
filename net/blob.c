#include "net/blob.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "formats/azure_xml.h"
#include "net/retry.h"

/* A page list is parsed as it arrives (never held): an error answer's body is kept, up to this */
#define ERROR_MAX_BODY (1u << 20)
/* Bytes of XML per range a listing may take (a range element is about 70), beyond a start */
#define PAGE_LIST_BYTES_PER_RANGE 512u
#define PAGE_LIST_BYTES_BASE (1u << 20)

/* A 2xx body handed to fn as it arrives; restart is called before every attempt (a retried
 * request starts the body again). */
struct body_stream {
	rp_http_body_fn fn;
	int (*restart)(void *ctx, struct rp_err *err);
	void *ctx;
};

/* What a 403's error code says about its cause (Blob service error codes). */
static const char *denied_code_hint(const char *code)
{
	if (strcmp(code, "AuthorizationFailure") == 0)
		return "; the request did not come through a network the account allows (its "
		       "firewall, or not through its private endpoint)";
	if (strcmp(code, "AuthorizationPermissionMismatch") == 0)
		return "; the credential has no data role for this (e.g. Storage Blob Data Reader)";
	if (strcmp(code, "AuthenticationFailed") == 0)
		return "; the SAS signature or its time window is not valid";
	return "";
}

/* A SAS naming a stored access policy has its expiry there: the grant may have ended. */
static void policy_hint(const char *url, char *out, size_t outsz)
{
	char id[72];

	out[0] = '\0';
	if (rp_sas_policy(url, id, sizeof(id)))
		snprintf(out, outsz,
			 "; the SAS takes its permissions and expiry from the stored access policy "
			 "'%s' (si=): the access grant may have ended - grant access again "
			 "(beginGetAccess, az disk grant-access)",
			 id);
}

bool rp_blob_judge(const char *url, const char *display, const char *etag, const char *what,
		   const char *denied_hint, const struct rp_http_response *r, struct rp_err *err)
{
	struct rp_az_error ae = {{0}, {0}};
	const char *code = rp_http_header(r, "x-ms-error-code");
	char when[RP_TIME_STR], perms[16], policy[256];
	bool has = false;
	time_t se = 0;

	if (r->body_len && rp_az_parse_error(r->body, r->body_len, &ae, NULL) == 0 && !code)
		code = ae.code;
	if (!code)
		code = "";
	if (r->status == 401 || r->status == 403) {
		rp_sas_info(url, &has, &se, perms, sizeof(perms));
		if (has && se && se <= time(NULL)) {
			rp_time_iso(se, when);
			rp_err_set(err, RP_EAUTH,
				   "%s: %s: the SAS expired at %s (se=); get a new one (%ld %s)",
				   display, what, when, r->status, code);
		} else {
			policy_hint(url, policy, sizeof(policy));
			rp_err_set(err, RP_EAUTH, "%s: %s: access denied (%ld %s%s%s)%s%s%s",
				   display, what, r->status, code, ae.message[0] ? ": " : "",
				   ae.message, denied_code_hint(code),
				   denied_hint ? denied_hint : "", policy);
		}
		return false;
	}
	if (r->status == 404) {
		rp_err_set(err, RP_EIO, "%s: %s: not found (404 %s)", display, what, code);
		return false;
	}
	if (r->status == 412) {
		rp_err_set(err, RP_EIO,
			   "%s: %s: blob changed during restore: it no longer has ETag %s "
			   "(412 %s)",
			   display, what, etag ? etag : "", code);
		return false;
	}
	rp_err_set(err, RP_EIO, "%s: %s: HTTP %ld %s%s%s", display, what, r->status, code,
		   ae.message[0] ? ": " : "", ae.message);
	/* A hash mismatch (400 Crc64Mismatch / Md5Mismatch) means the body was damaged on the
	 * way: send it again. */
	return rp_retry_status(r->status) ||
	       (r->status == 400 &&
		(strcmp(code, "Crc64Mismatch") == 0 || strcmp(code, "Md5Mismatch") == 0));
}

/* One request with the credential and retries for transport errors and busy servers. */
static int request(struct rp_blob *b, const char *method, const char *url, const char **extra,
		   size_t max_body, long ok_status, long allow_status, const char *what,
		   const struct body_stream *bs, struct rp_http_response *resp, struct rp_err *err)
{
	char auth[8192];
	const char *headers[12];
	unsigned attempt;
	int rc = 0;

	rp_auth_bind(b->auth, url);
	for (attempt = 0;; attempt++) {
		size_t n = 0, i;
		long wait = -1;

		auth[0] = '\0';
		if (b->auth) {
			rc = rp_auth_header(b->auth, auth, sizeof(auth), err);
			if (rc)
				break;
			headers[n++] = auth;
		}
		for (i = 0; extra && extra[i] && n < 11; i++)
			headers[n++] = extra[i];
		headers[n] = NULL;
		if (bs) {
			rc = bs->restart(bs->ctx, err);
			if (rc) {
				explicit_bzero(auth, sizeof(auth));
				break;
			}
			rc = rp_http_request_stream(b->http, url, headers, max_body, bs->fn,
						    bs->ctx, resp, err);
		} else {
			rc = rp_http_request(b->http, method, url, headers, NULL, 0, max_body, resp,
					     err);
		}
		explicit_bzero(auth, sizeof(auth));
		if (rc && !rp_retry_transport(b->http, rc))
			break;
		if (rc == 0) {
			if (resp->status == ok_status ||
			    (allow_status && resp->status == allow_status))
				break;
			if ((resp->status == 401 || resp->status == 403) && b->auth) {
				/* A managed disk asking for an Entra ID token (net/auth.h). */
				const char *h = rp_http_header(resp, "WWW-Authenticate");

				rc = rp_auth_challenge(b->auth, url, resp->status, h ? h : "",
						       attempt == 0, err);
				if (rc != RP_CHALLENGE_NONE) {
					rp_http_response_release(resp);
					if (rc < 0)
						break;
					continue;
				}
			}
			if (resp->status == 401 && b->auth && rp_auth_has_bearer(b->auth) &&
			    attempt == 0) {
				rp_auth_invalidate(b->auth);
				rp_http_response_release(resp);
				continue;
			}
			wait = rp_retry_after_ms(resp);
			rc = RP_EIO;
			if (!rp_blob_judge(b->url, b->display, b->etag, what, NULL, resp, err)) {
				rc = err ? err->code : RP_EIO;
				rp_http_response_release(resp);
				break;
			}
			rp_http_response_release(resp);
		} else {
			rp_err_prefix(err, "%s", what);
		}
		if (attempt >= b->retries)
			break;
		rp_sleep_ms(
		    rp_retry_delay_ms(&(struct rp_retry_policy){.base_ms = b->retry_base_ms},
				      attempt, wait, rp_retry_random()),
		    NULL);
	}
	return rc;
}

int rp_blob_head(struct rp_blob *b, struct rp_err *err)
{
	struct rp_http_response r;
	const char *v;
	int rc;

	rp_url_redact(b->url, b->display, sizeof(b->display));
	rc = request(b, "HEAD", b->url, NULL, 0, 200, 0, "properties", NULL, &r, err);
	if (rc)
		return rc;
	v = rp_http_header(&r, "Content-Length");
	if (!v || rp_parse_u64(v, &b->size, NULL) != 0) {
		rp_http_response_release(&r);
		return rp_err_set(err, RP_EFORMAT, "%s: no Content-Length in the answer to HEAD",
				  b->display);
	}
	v = rp_http_header(&r, "ETag");
	snprintf(b->etag, sizeof(b->etag), "%s", v ? v : "");
	v = rp_http_header(&r, "x-ms-blob-type");
	snprintf(b->blob_type, sizeof(b->blob_type), "%s", v ? v : "");
	v = rp_http_header(&r, "Last-Modified");
	snprintf(b->last_modified, sizeof(b->last_modified), "%s", v ? v : "");
	v = rp_http_header(&r, "x-ms-meta-encryptiondata");
	snprintf(b->encryptiondata, sizeof(b->encryptiondata), "%s", v ? v : "");
	rp_http_response_release(&r);
	return 0;
}

int rp_blob_get_range(struct rp_blob *b, uint64_t off, size_t len, const char *hash_header,
		      long allow_status, uint8_t *buf, struct rp_http_response *resp,
		      struct rp_err *err)
{
	char range[80], ifmatch[160];
	const char *extra[4];
	size_t n = 0;
	int rc;

	snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-%" PRIu64, off, off + len - 1);
	extra[n++] = range;
	if (b->etag[0]) {
		snprintf(ifmatch, sizeof(ifmatch), "If-Match: %s", b->etag);
		extra[n++] = ifmatch;
	}
	if (hash_header)
		extra[n++] = hash_header;
	extra[n] = NULL;
	rc = request(b, "GET", b->url, extra, len + 65536, 206, allow_status, "ranged read", NULL,
		     resp, err);
	if (rc)
		return rc;
	if (resp->status == 206) {
		const char *cr = rp_http_header(resp, "Content-Range");
		unsigned long long a = 0, z = 0, t = 0;

		if (!cr || sscanf(cr, "bytes %llu-%llu/%llu", &a, &z, &t) != 3 || a != off ||
		    z != off + len - 1 || (b->size && t != b->size)) {
			rp_http_response_release(resp);
			return rp_err_set(err, RP_EIO,
					  "%s: ranged read at 0x%" PRIx64
					  ": Content-Range does not match what was asked",
					  b->display, off);
		}
		if (resp->body_len != len) {
			rp_http_response_release(resp);
			return rp_err_set(err, RP_EIO,
					  "%s: ranged read at 0x%" PRIx64
					  ": %zu bytes instead of %zu",
					  b->display, off, resp->body_len, len);
		}
		memcpy(buf, resp->body, len);
	}
	return 0;
}

struct rp_page_plan {
	struct rp_blob *b;
	uint64_t size;
	uint64_t chunk_size;
	uint64_t window;    /* bytes per listing, a multiple of chunk_size */
	uint64_t win_start; /* the window listed last */
	bool listed;
	uint8_t *bits; /* one bit per chunk of the listed window */
	uint64_t written;
	bool have_hw;
	uint64_t hw; /* the last byte marked in this window: an answer read again (a retry)
		      * marks and counts nothing twice */
	void (*on_range)(void *ctx, uint64_t start, uint64_t end);
	void *on_range_ctx;
};

int rp_page_plan_new(struct rp_blob *b, uint64_t size, uint64_t chunk_size, uint64_t window,
		     struct rp_page_plan **out, struct rp_err *err)
{
	struct rp_page_plan *p;

	if (chunk_size == 0 || window < chunk_size)
		return rp_err_set(err, RP_EUSAGE, "bad page plan window");
	p = calloc(1, sizeof(*p));
	if (!p)
		return rp_err_set(err, RP_EIO, "out of memory");
	p->b = b;
	p->size = size;
	p->chunk_size = chunk_size;
	p->window = window / chunk_size * chunk_size;
	p->bits = calloc((size_t)(p->window / chunk_size / 8 + 1), 1);
	if (!p->bits) {
		free(p);
		return rp_err_set(err, RP_EIO, "out of memory");
	}
	*out = p;
	return 0;
}

void rp_page_plan_free(struct rp_page_plan *p)
{
	if (!p)
		return;
	free(p->bits);
	free(p);
}

uint64_t rp_page_plan_written(const struct rp_page_plan *p)
{
	return p->written;
}

void rp_page_plan_on_range(struct rp_page_plan *p,
			   void (*fn)(void *ctx, uint64_t start, uint64_t end), void *ctx)
{
	p->on_range = fn;
	p->on_range_ctx = ctx;
}

static void mark(struct rp_page_plan *p, uint64_t start, uint64_t end)
{
	uint64_t win_end = p->win_start + p->window, c;

	if (end >= win_end)
		end = win_end - 1;
	if (start < p->win_start)
		start = p->win_start;
	if (p->have_hw && start <= p->hw)
		start = p->hw + 1;
	if (start > end)
		return;
	p->have_hw = true;
	p->hw = end;
	p->written += end - start + 1;
	if (p->on_range)
		p->on_range(p->on_range_ctx, start, end);
	for (c = (start - p->win_start) / p->chunk_size; c <= (end - p->win_start) / p->chunk_size;
	     c++)
		p->bits[c / 8] |= (uint8_t)(1u << (c % 8));
}

/*
 * One window's listing while its answers stream in: each answer is parsed as its bytes arrive
 * and every range marks the window's bits at once, so memory stays the same whether an answer
 * lists ten ranges or two million (docs/azure.md "Page ranges").
 */
struct listing {
	struct rp_page_plan *p;
	struct rp_az_page_stream *xml; /* the answer being read */
	uint64_t body_bytes;	       /* of the answer being read */
	uint64_t max_ranges;	       /* in the whole listing: every range holds a 512-byte page */
	uint64_t ranges, ranges_before; /* listed so far; before the answer being read */
	bool have_prev;
	uint64_t prev_end; /* End of the last range of the answers before this one */
	bool have_last;
	uint64_t last_end; /* End of the last range so far */
};

static int listing_range(void *ctx, bool clear, uint64_t start, uint64_t end, struct rp_err *err)
{
	struct listing *l = ctx;

	/* Clear ranges come only in diff listings, which the plan never asks for. */
	if (clear)
		return 0;
	if (l->have_prev && start <= l->prev_end)
		return rp_err_set(err, RP_EFORMAT,
				  "page list: PageRange %" PRIu64 "-%" PRIu64
				  " is not after the ranges of the previous answer (End %" PRIu64
				  "): NextMarker went back",
				  start, end, l->prev_end);
	if (++l->ranges > l->max_ranges)
		return rp_err_set(err, RP_EFORMAT,
				  "page list: more than %" PRIu64 " ranges for %" PRIu64
				  " bytes: they cannot all hold a page",
				  l->max_ranges, l->p->window);
	l->have_last = true;
	l->last_end = end;
	mark(l->p, start, end);
	return 0;
}

static int listing_body(void *ctx, const char *data, size_t len, struct rp_err *err)
{
	struct listing *l = ctx;
	uint64_t cap = PAGE_LIST_BYTES_BASE + l->max_ranges * PAGE_LIST_BYTES_PER_RANGE;

	l->body_bytes += len;
	if (l->body_bytes > cap)
		return rp_err_set(err, RP_EFORMAT,
				  "page list: an answer of more than %" PRIu64 " bytes for %" PRIu64
				  " ranges at most",
				  cap, l->max_ranges);
	return rp_az_page_stream_feed(l->xml, data, len, false, err);
}

/* Before every attempt at an answer: parse it from its start. */
static int listing_restart(void *ctx, struct rp_err *err)
{
	struct listing *l = ctx;

	rp_az_page_stream_free(l->xml);
	l->xml = NULL;
	l->body_bytes = 0;
	l->ranges = l->ranges_before;
	l->have_last = l->have_prev;
	l->last_end = l->prev_end;
	return rp_az_page_stream_new(SIZE_MAX, listing_range, l, &l->xml, err);
}

/* The opaque marker for a query: percent-encode everything but unreserved characters. */
static void marker_query(const char *next, char *marker, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *m = (const unsigned char *)next;
	size_t o = 0;

	for (; *m && o + 4 < size; m++) {
		if ((*m >= 'A' && *m <= 'Z') || (*m >= 'a' && *m <= 'z') ||
		    (*m >= '0' && *m <= '9') || *m == '-' || *m == '_' || *m == '.' || *m == '~') {
			marker[o++] = (char)*m;
		} else {
			marker[o++] = '%';
			marker[o++] = hex[*m >> 4];
			marker[o++] = hex[*m & 15];
		}
	}
	marker[o] = '\0';
}

/* List the page ranges of [win_start, win_start + window), following NextMarker. */
static int list_window(struct rp_page_plan *p, struct rp_err *err)
{
	struct rp_blob *b = p->b;
	uint64_t end = p->win_start + p->window;
	char marker[RP_AZ_MARKER_MAX * 3 + 1] = "";
	struct listing l = {.p = p};
	struct body_stream bs = {listing_body, listing_restart, &l};
	char *url = NULL;
	int rc = 0;

	if (end > p->size)
		end = p->size;
	/* Sorted, disjoint ranges of whole pages: at most one per page, and one more at each
	 * edge of the window. */
	l.max_ranges = p->window / 512 + 2;
	memset(p->bits, 0, (size_t)(p->window / p->chunk_size / 8 + 1));
	p->have_hw = false;
	do {
		struct rp_http_response r;
		char range[80], ifmatch[160];
		const char *extra[3] = {range, NULL, NULL};
		size_t ulen = strlen(b->url) + sizeof(marker) + 64;

		free(url);
		url = malloc(ulen);
		if (!url)
			return rp_err_set(err, RP_EIO, "out of memory");
		snprintf(url, ulen, "%s%scomp=pagelist%s%s", b->url,
			 strchr(b->url, '?') ? "&" : "?", marker[0] ? "&marker=" : "", marker);
		snprintf(range, sizeof(range), "x-ms-range: bytes=%" PRIu64 "-%" PRIu64,
			 p->win_start, end - 1);
		/* The plan decides what is never fetched: it must describe the same blob. */
		if (b->etag[0]) {
			snprintf(ifmatch, sizeof(ifmatch), "If-Match: %s", b->etag);
			extra[1] = ifmatch;
		}
		rc = request(b, "GET", url, extra, ERROR_MAX_BODY, 200, 0, "page ranges", &bs, &r,
			     err);
		if (rc == 0) {
			rp_http_response_release(&r);
			rc = rp_az_page_stream_feed(l.xml, "", 0, true, err);
		}
		if (rc) {
			if (rc == RP_EFORMAT)
				rp_err_prefix(err, "%s: page ranges", b->display);
			break;
		}
		marker_query(rp_az_page_stream_marker(l.xml), marker, sizeof(marker));
		l.ranges_before = l.ranges;
		l.have_prev = l.have_last;
		l.prev_end = l.last_end;
	} while (marker[0]);
	rp_az_page_stream_free(l.xml);
	free(url);
	p->listed = rc == 0;
	return rc;
}

int rp_page_plan_chunk(void *plan, uint64_t chunk, bool *allocated, struct rp_err *err)
{
	struct rp_page_plan *p = plan;
	uint64_t off = chunk * p->chunk_size, c;
	int rc;

	if (!p->listed || off < p->win_start || off >= p->win_start + p->window) {
		p->win_start = off / p->window * p->window;
		rc = list_window(p, err);
		if (rc)
			return rc;
	}
	c = (off - p->win_start) / p->chunk_size;
	*allocated = (p->bits[c / 8] >> (c % 8)) & 1;
	return 0;
}
