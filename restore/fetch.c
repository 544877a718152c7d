/*
 * The fetch engine (fetch.h). This file is longer than most (about 950 lines) because the
 * transfer loop, the check workers and the in-order digester share one set of slot states,
 * and splitting them would spread that state machine over several files.
 *
 * Slot life cycle: FREE -> FETCH (in libcurl) -> CHECK_Q -> CHECKING (a worker) -> CHECKED
 * (result for the transfer thread) -> DIGEST (in-order digester: whole digests, hash windows) ->
 * FREE. A failed check or transfer goes to WAIT (backoff) and back to FETCH. The transfer
 * thread hands chunks to slots in increasing order, so the digester's next chunk always has a
 * slot before any later chunk: the window cannot deadlock.
 */
#include "restore/fetch.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/util.h"
#include "verify/crc64.h"

enum slot_state { S_FREE, S_FETCH, S_WAIT, S_CHECK_Q, S_CHECKING, S_CHECKED, S_DIGEST };

/* Per chunk, for the digester: what became of it. */
enum { C_PENDING = 0, C_ZERO_FILL = 1, C_IN_SLOT = 2 };

struct slot {
	enum slot_state state;
	uint8_t *buf;
	uint8_t *data; /* the chunk's plaintext: buf, or inside buf once decrypted */
	uint64_t chunk;
	uint64_t off; /* plaintext offset and length */
	size_t len;
	uint64_t soff; /* the stored range fetched (differs when encrypted) */
	size_t slen;
	unsigned attempt;
	unsigned slow;	/* attempts cut at the range deadline */
	double started; /* when the current transfer began */
	long deadline_ms;
	bool read_back; /* verified by an earlier run: read from the sink, not fetched */
	double wait_until;
	struct rp_http_xfer_result xr;
	int check_rc;		     /* worker's verdict: 0, or RP_EVERIFY/RP_EIO with check_msg */
	enum rp_reason check_reason; /* which check failed (common/err.h) */
	char check_msg[RP_ERR_MSG_MAX];
	bool check_retryable;
	struct rp_seal_chunk actual;
};

struct engine {
	const struct rp_fetch_opts *o;
	struct rp_fetch_result *r;
	struct rp_http_multi *multi;
	uint64_t chunks;
	unsigned nslots;
	struct slot *slot;
	uint8_t *chunk_fill;  /* C_* per chunk, for the digester */
	uint32_t *chunk_slot; /* slot index per chunk while C_IN_SLOT */
	uint64_t next_plan;   /* next chunk to hand to a slot */
	uint64_t digest_next; /* next chunk for the digester */
	uint64_t done_bytes;
	uint64_t chunks_finished;
	unsigned in_flight; /* transfers in libcurl (transfer thread only) */
	pthread_mutex_t lock;
	pthread_cond_t work;   /* workers wait for CHECK_Q slots */
	pthread_cond_t digest; /* the digester waits for its next chunk */
	bool quit;
	int rc; /* first failure */
	struct rp_err err;
	struct rp_digest *whole[RP_DIGEST_COUNT];
	bool in_order;		  /* a digester thread runs: whole digests or hash windows */
	struct rp_digest *window; /* the current hash window (digester thread only) */
	uint64_t window_fill, window_next;
	uint8_t *zeros;
	char auth_header[8192];
	unsigned seed;
};

const char *rp_transport_hash_name(enum rp_transport_hash th)
{
	return th == RP_TH_CRC64 ? "crc64" : th == RP_TH_MD5 ? "md5" : "none";
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t chunk_len(const struct engine *e, uint64_t i)
{
	uint64_t off = i * e->o->chunk_size;

	return e->o->size - off < e->o->chunk_size ? e->o->size - off : e->o->chunk_size;
}

/* Record the first failure and which check it was (lock held). */
static void fail_why_locked(struct engine *e, int rc, enum rp_reason why, const char *msg)
{
	if (e->rc == 0) {
		e->rc = rc;
		rp_err_set_reason(&e->err, rc, why, "%s", msg);
	}
	e->quit = true;
	pthread_cond_broadcast(&e->work);
	pthread_cond_broadcast(&e->digest);
}

static void fail_why(struct engine *e, int rc, enum rp_reason why, const char *msg)
{
	pthread_mutex_lock(&e->lock);
	fail_why_locked(e, rc, why, msg);
	pthread_mutex_unlock(&e->lock);
	rp_http_multi_wakeup(e->multi);
}

static void fail(struct engine *e, int rc, const char *msg)
{
	fail_why(e, rc, RP_R_NONE, msg);
}

/* Fail with err's code, reason and message (RP_EIO if it has no code). */
static void fail_err(struct engine *e, const struct rp_err *err)
{
	fail_why(e, err->code ? err->code : RP_EIO, err->reason, err->msg);
}

/* ---- checks (worker threads) ---- */

bool rp_source_same(const char *pinned_etag, const char *pinned_lm, const char *etag,
		    const char *lm, char *msg, size_t msgsz)
{
	if (!pinned_etag || !pinned_etag[0])
		return true;
	if (!etag || !etag[0]) {
		snprintf(msg, msgsz, "an answer without ETag, the blob's was %s", pinned_etag);
		return false;
	}
	if (strcmp(etag, pinned_etag) != 0) {
		snprintf(msg, msgsz, "ETag %s, not %s (the server ignored If-Match)", etag,
			 pinned_etag);
		return false;
	}
	if (pinned_lm && pinned_lm[0] && lm && lm[0] && strcmp(lm, pinned_lm) != 0) {
		snprintf(msg, msgsz, "Last-Modified %s, not %s", lm, pinned_lm);
		return false;
	}
	return true;
}

int rp_transport_check(enum rp_transport_hash th, const char *crc64_b64, const char *md5_b64,
		       const uint8_t *buf, size_t len, char *msg, size_t msgsz)
{
	if (th == RP_TH_CRC64) {
		uint64_t want, got;
		struct rp_err err;

		if (!crc64_b64 || !crc64_b64[0]) {
			snprintf(msg, msgsz, "the server sent no x-ms-content-crc64");
			return RP_EVERIFY;
		}
		if (rp_crc64_from_b64(crc64_b64, &want, &err) != 0) {
			snprintf(msg, msgsz, "x-ms-content-crc64: %s", err.msg);
			return RP_EVERIFY;
		}
		got = rp_crc64(0, buf, len);
		if (got != want) {
			char w[RP_CRC64_B64_SIZE], g[RP_CRC64_B64_SIZE];
			rp_crc64_to_b64(want, w);
			rp_crc64_to_b64(got, g);
			snprintf(msg, msgsz, "crc64 mismatch (server %s, received %s)", w, g);
			return RP_EVERIFY;
		}
	} else if (th == RP_TH_MD5) {
		uint8_t md[16];
		struct rp_digest *d = NULL;
		char got[32];
		size_t n = 0;

		if (!md5_b64 || !md5_b64[0]) {
			snprintf(msg, msgsz, "the server sent no Content-MD5");
			return RP_EVERIFY;
		}
		if (rp_digest_new(RP_DIGEST_MD5, &d, NULL) != 0 ||
		    rp_digest_update(d, buf, len) != 0 || rp_digest_final(d, md) != 0) {
			rp_digest_free(d);
			snprintf(msg, msgsz, "md5 failed");
			return RP_EIO;
		}
		rp_digest_free(d);
		rp_b64_encode(md, sizeof(md), RP_B64_STD, got, sizeof(got), &n);
		if (strcmp(got, md5_b64) != 0) {
			snprintf(msg, msgsz, "md5 mismatch (server %s, received %s)", md5_b64, got);
			return RP_EVERIFY;
		}
	}
	return 0;
}

static void record_mismatch(struct engine *e, const struct slot *s)
{
	struct rp_fetch_result *r = e->r;
	const struct rp_seal_chunk *want = &e->o->expect->chunks[s->chunk];

	if (r->mismatch_count < RP_SCAN_MAX_MISMATCHES) {
		struct rp_scan_mismatch *m = &r->mismatches[r->mismatch_count];
		m->index = s->chunk;
		m->offset = s->off;
		m->length = s->len;
		m->expected_state = want->state;
		m->actual_state = s->actual.state;
		memcpy(m->expected, want->sha256, 32);
		memcpy(m->actual, s->actual.sha256, 32);
	}
	r->mismatch_count++;
}

static bool seal_matches(const struct rp_seal_chunk *want, const struct rp_seal_chunk *got)
{
	bool wz = want->state != RP_CHUNK_DATA, gz = got->state != RP_CHUNK_DATA;

	if (wz || gz)
		return wz && gz;
	return memcmp(want->sha256, got->sha256, 32) == 0;
}

static void check_slot(struct engine *e, struct slot *s)
{
	const struct rp_fetch_opts *o = e->o;
	struct rp_err err;
	char sa[65], sb[65];

	rp_err_init(&err);
	s->check_rc = 0;
	s->check_reason = RP_R_NONE;
	s->check_retryable = true;
	s->check_msg[0] = '\0';
	s->data = s->buf;
	if (s->read_back) {
		if (o->sink.read_back(o->sink.ctx, s->off, s->buf, s->len, &err) != 0) {
			s->check_rc = err.code ? err.code : RP_EIO;
			s->check_reason = err.reason;
			s->check_retryable = false;
			snprintf(s->check_msg, sizeof(s->check_msg), "%s", err.msg);
			return;
		}
	} else {
		s->check_rc = rp_transport_check(e->o->th, s->xr.crc64, s->xr.md5, s->buf, s->slen,
						 s->check_msg, sizeof(s->check_msg));
		if (s->check_rc) {
			s->check_reason = RP_R_TRANSPORT_HASH;
			return;
		}
		/* Decrypt only what the transport check vouched for; a failed tag is fetched
		 * again (a corrupted transfer without a transport hash looks the same) and then
		 * fails naming the region. */
		if (o->decrypt &&
		    o->decrypt(o->decrypt_ctx, s->chunk, s->buf, s->slen, &s->data, &err) != 0) {
			s->check_rc = err.code ? err.code : RP_EVERIFY;
			s->check_reason = err.reason;
			snprintf(s->check_msg, sizeof(s->check_msg), "%s", err.msg);
			return;
		}
	}
	memset(&s->actual, 0, sizeof(s->actual));
	if (rp_is_zero(s->data, s->len)) {
		s->actual.state = RP_CHUNK_ZERO;
	} else {
		s->actual.state = RP_CHUNK_DATA;
		if (rp_sha256(s->data, s->len, s->actual.sha256) != 0) {
			s->check_rc = RP_EIO;
			snprintf(s->check_msg, sizeof(s->check_msg), "sha256 failed");
			return;
		}
	}
	if (o->expect && !seal_matches(&o->expect->chunks[s->chunk], &s->actual)) {
		const struct rp_seal_chunk *w = &o->expect->chunks[s->chunk];
		if (w->state == RP_CHUNK_DATA)
			rp_hex(w->sha256, 32, sa);
		else
			snprintf(sa, sizeof(sa), "zero");
		if (s->actual.state == RP_CHUNK_DATA)
			rp_hex(s->actual.sha256, 32, sb);
		else
			snprintf(sb, sizeof(sb), "zero");
		snprintf(s->check_msg, sizeof(s->check_msg),
			 "sha256 mismatch with the seal (expected %s, got %s)", sa, sb);
		s->check_rc = RP_EVERIFY;
		s->check_reason = RP_R_SEAL_MISMATCH;
		/* Data read back from our own output is not fetched again from the source: a
		 * mismatch there means the partial file is damaged; fetch it afresh. */
		return;
	}
	if (!s->read_back && o->sink.write &&
	    o->sink.write(o->sink.ctx, s->chunk, s->off,
			  s->actual.state == RP_CHUNK_DATA ? s->data : NULL, s->len, &err) != 0) {
		s->check_rc = err.code ? err.code : RP_EIO;
		s->check_reason = err.reason;
		s->check_retryable = false;
		snprintf(s->check_msg, sizeof(s->check_msg), "%s", err.msg);
		return;
	}
	if (!s->read_back && o->sink.verified)
		o->sink.verified(o->sink.ctx, s->chunk, &s->actual);
}

static void *worker_main(void *arg)
{
	struct engine *e = arg;

	pthread_mutex_lock(&e->lock);
	for (;;) {
		struct slot *s = NULL;
		unsigned i;

		while (!e->quit) {
			for (i = 0; i < e->nslots; i++)
				if (e->slot[i].state == S_CHECK_Q) {
					s = &e->slot[i];
					break;
				}
			if (s)
				break;
			pthread_cond_wait(&e->work, &e->lock);
		}
		if (e->quit)
			break;
		s->state = S_CHECKING;
		pthread_mutex_unlock(&e->lock);
		check_slot(e, s);
		pthread_mutex_lock(&e->lock);
		s->state = S_CHECKED;
		rp_http_multi_wakeup(e->multi);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* ---- in-order whole-disk digests ---- */

/* Feed the piecewise hashes: windows may start and end anywhere inside a chunk. */
static void window_update(struct engine *e, const uint8_t *data, size_t len)
{
	uint64_t w = e->o->hash_window;

	while (len) {
		size_t n = w - e->window_fill < len ? (size_t)(w - e->window_fill) : len;

		rp_digest_update(e->window, data, n);
		data += n;
		len -= n;
		e->window_fill += n;
		if (e->window_fill == w) {
			rp_digest_final(e->window, e->r->windows + 32 * e->window_next++);
			e->window_fill = 0;
		}
	}
}

static void *digester_main(void *arg)
{
	struct engine *e = arg;
	unsigned a;

	pthread_mutex_lock(&e->lock);
	while (e->digest_next < e->chunks) {
		uint64_t i = e->digest_next;
		const uint8_t *data;
		size_t len = (size_t)chunk_len(e, i);
		struct slot *s = NULL;

		while (!e->quit && e->chunk_fill[i] == C_PENDING)
			pthread_cond_wait(&e->digest, &e->lock);
		if (e->quit)
			break;
		if (e->chunk_fill[i] == C_IN_SLOT)
			s = &e->slot[e->chunk_slot[i]];
		pthread_mutex_unlock(&e->lock);
		data = s ? s->data : e->zeros;
		for (a = 0; a < RP_DIGEST_COUNT; a++)
			if (e->whole[a])
				rp_digest_update(e->whole[a], data, len);
		if (e->window)
			window_update(e, data, len);
		pthread_mutex_lock(&e->lock);
		if (s)
			s->state = S_FREE;
		e->digest_next++;
		rp_http_multi_wakeup(e->multi);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* ---- the transfer thread ---- */

long rp_fetch_range_deadline_ms(const struct rp_fetch_opts *o, uint64_t bytes)
{
	double floor_s = o->range_timeout_s ? o->range_timeout_s : RP_FETCH_RANGE_FLOOR_S;
	double rate = RP_FETCH_MIN_RATE, s;
	unsigned conns = o->connections ? o->connections : 1;

	if (o->limit_rate && (double)o->limit_rate / conns / 4 < rate)
		rate = (double)o->limit_rate / conns / 4;
	if (rate < 1)
		rate = 1;
	s = (double)bytes / rate;
	if (s < floor_s)
		s = floor_s;
	if (s > 86400.0 * 7)
		s = 86400.0 * 7;
	return (long)(s * 1000);
}

static int start_fetch(struct engine *e, struct slot *s)
{
	const struct rp_fetch_opts *o = e->o;
	const char *headers[6];
	char ifmatch[160];
	struct rp_err err;
	size_t n = 0;
	int rc;

	rp_err_init(&err);
	if (o->auth) {
		rc = rp_auth_header(o->auth, e->auth_header, sizeof(e->auth_header), &err);
		if (rc) {
			fail_why(e, rc, err.reason, err.msg);
			return rc;
		}
		headers[n++] = e->auth_header;
	}
	if (o->etag && o->etag[0]) {
		snprintf(ifmatch, sizeof(ifmatch), "If-Match: %s", o->etag);
		headers[n++] = ifmatch;
	}
	if (o->th == RP_TH_CRC64)
		headers[n++] = "x-ms-range-get-content-crc64: true";
	else if (o->th == RP_TH_MD5)
		headers[n++] = "x-ms-range-get-content-md5: true";
	headers[n] = NULL;
	s->deadline_ms = rp_fetch_range_deadline_ms(o, s->slen);
	s->started = now_s();
	rc = rp_http_multi_get_range(e->multi, o->url, headers, s->soff, s->slen, s->buf,
				     s->deadline_ms, s, &err);
	if (rc) {
		fail_why(e, rc, err.reason, err.msg);
		return rc;
	}
	pthread_mutex_lock(&e->lock);
	s->state = S_FETCH;
	pthread_mutex_unlock(&e->lock);
	e->in_flight++;
	return 0;
}

static double backoff_s(struct engine *e, unsigned attempt, long retry_after_ms)
{
	double base = (e->o->retry_base_ms ? e->o->retry_base_ms : 800) / 1000.0, d;

	if (retry_after_ms >= 0)
		return (double)(retry_after_ms < 60000 ? retry_after_ms : 60000) / 1000.0;
	d = base * (double)(1u << (attempt < 16 ? attempt : 16));
	if (d > 60)
		d = 60;
	/* Full jitter in [d/2, d): many clients backing off together do not come back together. */
	return d / 2 + d / 2 * (double)(rand_r(&e->seed) % 1000) / 1000.0;
}

/* A transfer or a check of slot s failed with a retryable problem (why: which check, or
 * RP_R_NONE). Lock not held. */
static void retry_or_fail_why(struct engine *e, struct slot *s, int code, enum rp_reason why,
			      const char *what, long retry_after_ms)
{
	char msg[RP_ERR_MSG_MAX];

	if (s->attempt >= e->o->retries) {
		snprintf(msg, sizeof(msg),
			 "chunk %" PRIu64 " at 0x%" PRIx64 ": %s (after %u retries)", s->chunk,
			 s->off, what, s->attempt);
		fail_why(e, code, why, msg);
		return;
	}
	s->attempt++;
	e->r->retries++;
	pthread_mutex_lock(&e->lock);
	s->read_back = false;
	s->wait_until = now_s() + backoff_s(e, s->attempt - 1, retry_after_ms);
	s->state = S_WAIT;
	pthread_mutex_unlock(&e->lock);
}

static void retry_or_fail(struct engine *e, struct slot *s, int code, const char *what,
			  long retry_after_ms)
{
	retry_or_fail_why(e, s, code, RP_R_NONE, what, retry_after_ms);
}

static bool sas_expired(const char *url, char *when, size_t whensz)
{
	bool has = false;
	time_t se = 0;
	char perms[16];

	rp_sas_info(url, &has, &se, perms, sizeof(perms));
	if (!has || se == 0 || se > time(NULL))
		return false;
	rp_time_iso(se, when);
	(void)whensz;
	return true;
}

/* An answer came for slot s (transfer thread, lock not held). */
static void on_done(void *ctx, void *user, const struct rp_http_xfer_result *r)
{
	struct engine *e = ctx;
	struct slot *s = user;
	char what[RP_ERR_MSG_MAX], when[RP_TIME_STR];

	e->in_flight--;
	s->xr = *r;
	if (r->code == RP_EAUTH) {
		fail(e, RP_EAUTH, r->msg);
		return;
	}
	if (r->code && r->permanent) {
		fail(e, r->code, r->msg);
		return;
	}
	if (r->code && r->timed_out &&
	    now_s() - s->started >= (double)s->deadline_ms / 1000.0 * 0.95) {
		unsigned most =
		    e->o->retries < RP_FETCH_SLOW_RETRIES ? e->o->retries : RP_FETCH_SLOW_RETRIES;

		snprintf(what, sizeof(what),
			 "too slow: %s did not send %zu bytes within %.0f s (the range deadline)",
			 e->o->display, s->slen, (double)s->deadline_ms / 1000.0);
		if (s->slow >= most) {
			char msg[RP_ERR_MSG_MAX];

			snprintf(msg, sizeof(msg),
				 "chunk %" PRIu64 " at 0x%" PRIx64 ": %s (after %u retries)",
				 s->chunk, s->off, what, s->attempt);
			fail(e, RP_EIO, msg);
			return;
		}
		s->slow++;
		retry_or_fail(e, s, RP_EIO, what, -1);
		return;
	}
	if (r->code) {
		retry_or_fail(e, s, RP_EIO, r->msg, -1);
		return;
	}
	if (r->status == 206) {
		unsigned long long a = 0, b = 0, t = 0;
		int n = 0;

		if (r->received != s->slen || r->overflow) {
			snprintf(what, sizeof(what), "short body: %zu of %zu bytes", r->received,
				 s->slen);
			retry_or_fail(e, s, RP_EIO, what, -1);
			return;
		}
		/* The bytes must be the ones asked for: a proxy or mirror answering another
		 * range would pass every hash the server computed over what it sent. */
		if (sscanf(r->content_range, "bytes %llu-%llu/%llu%n", &a, &b, &t, &n) != 3 ||
		    a != s->soff || b != s->soff + s->slen - 1 ||
		    (e->o->total_size && t != e->o->total_size)) {
			snprintf(what, sizeof(what),
				 "Content-Range '%s' does not match bytes %" PRIu64 "-%" PRIu64
				 "/%" PRIu64,
				 r->content_range, s->soff, s->soff + s->slen - 1,
				 e->o->total_size);
			retry_or_fail(e, s, RP_EIO, what, -1);
			return;
		}
		/* Before any check of the bytes: a server that ignores If-Match sends another
		 * version whose own transport hash (and, for a changed chunk, seal mismatch)
		 * would otherwise be taken for damage on the way, or pass. */
		if (!rp_source_same(e->o->etag, e->o->last_modified, r->etag, r->last_modified,
				    what, sizeof(what))) {
			char msg[RP_ERR_MSG_MAX];

			snprintf(msg, sizeof(msg),
				 "the source changed during the restore: chunk %" PRIu64
				 " at 0x%" PRIx64 ": %s answered with %s",
				 s->chunk, s->off, e->o->display, what);
			e->r->source_changed = true;
			fail_why(e, RP_EIO, RP_R_SOURCE_CHANGED, msg);
			return;
		}
		e->r->bytes_fetched += s->slen;
		e->r->chunks_fetched++;
		pthread_mutex_lock(&e->lock);
		s->state = S_CHECK_Q;
		pthread_cond_signal(&e->work);
		pthread_mutex_unlock(&e->lock);
		return;
	}
	if (r->status == 200) {
		fail(e, RP_EFORMAT, "the server ignored the Range header (200 instead of 206)");
		return;
	}
	if (r->status == 412) {
		snprintf(what, sizeof(what),
			 "the source changed during the restore: %s no longer has ETag %s "
			 "(412 %s)",
			 e->o->display, e->o->etag ? e->o->etag : "", r->error_code);
		e->r->source_changed = true;
		fail_why(e, RP_EIO, RP_R_SOURCE_CHANGED, what);
		return;
	}
	if (r->status == 401 && e->o->auth && rp_auth_has_bearer(e->o->auth) && s->attempt == 0) {
		/* A rotated token file or an expired token: fetch a new one, once. */
		rp_auth_invalidate(e->o->auth);
		retry_or_fail(e, s, RP_EAUTH, "401 unauthorized", 0);
		return;
	}
	if (r->status == 401 || r->status == 403) {
		if (sas_expired(e->o->url, when, sizeof(when)))
			snprintf(what, sizeof(what),
				 "%s: the SAS expired at %s (se=); get a new one (%ld %s)",
				 e->o->display, when, r->status, r->error_code);
		else
			snprintf(what, sizeof(what), "%s: access denied (%ld %s%s%s)",
				 e->o->display, r->status, r->error_code, r->msg[0] ? ": " : "",
				 r->msg);
		fail(e, RP_EAUTH, what);
		return;
	}
	if (r->status == 404) {
		snprintf(what, sizeof(what), "%s: not found (404 %s)", e->o->display,
			 r->error_code);
		fail(e, RP_EIO, what);
		return;
	}
	if (r->status == 416) {
		snprintf(what, sizeof(what), "%s: range 0x%" PRIx64 "+%zu is past the end (416)",
			 e->o->display, s->soff, s->slen);
		fail(e, RP_EFORMAT, what);
		return;
	}
	if (r->status == 408 || r->status == 429 || r->status >= 500) {
		snprintf(what, sizeof(what), "HTTP %ld %s", r->status, r->error_code);
		retry_or_fail(e, s, RP_EIO, what, r->retry_after_ms);
		return;
	}
	snprintf(what, sizeof(what), "%s: unexpected HTTP %ld %s%s%s", e->o->display, r->status,
		 r->error_code, r->msg[0] ? ": " : "", r->msg);
	fail(e, RP_EIO, what);
}

/* Results from the workers (lock held). */
static void collect_checked(struct engine *e)
{
	const struct rp_fetch_opts *o = e->o;
	unsigned i;

	for (i = 0; i < e->nslots && !e->quit; i++) {
		struct slot *s = &e->slot[i];
		char msg[RP_ERR_MSG_MAX];

		if (s->state != S_CHECKED)
			continue;
		if (s->check_rc == RP_EVERIFY && o->expect && o->keep_going && !s->read_back &&
		    s->attempt >= o->retries && s->check_reason == RP_R_SEAL_MISMATCH) {
			/* verify: a chunk that keeps differing from the seal is a finding. */
			record_mismatch(e, s);
			s->check_rc = 0;
		}
		if (s->check_rc) {
			if (s->read_back) {
				/* Our own partial output disagrees: fetch the chunk afresh, and
				 * until then the journal must not list it. */
				if (o->sink.unverified)
					o->sink.unverified(o->sink.ctx, s->chunk);
				s->read_back = false;
				s->state = S_WAIT;
				s->wait_until = 0;
				continue;
			}
			if (!s->check_retryable) {
				snprintf(msg, sizeof(msg), "chunk %" PRIu64 " at 0x%" PRIx64 ": %s",
					 s->chunk, s->off, s->check_msg);
				fail_why_locked(e, s->check_rc, s->check_reason, msg);
				return;
			}
			/* A check failure is not a busy server: fetch again at once. */
			pthread_mutex_unlock(&e->lock);
			retry_or_fail_why(e, s, s->check_rc, s->check_reason, s->check_msg, 0);
			pthread_mutex_lock(&e->lock);
			continue;
		}
		e->r->seal->chunks[s->chunk] = s->actual;
		if (o->expect)
			e->r->chunks_compared++;
		if (s->read_back)
			e->r->bytes_resumed += s->len;
		e->done_bytes += s->len;
		e->chunks_finished++;
		if (e->in_order) {
			s->state = S_DIGEST;
			e->chunk_slot[s->chunk] = (uint32_t)i;
			e->chunk_fill[s->chunk] = C_IN_SLOT;
			pthread_cond_signal(&e->digest);
		} else {
			s->state = S_FREE;
		}
	}
}

/* Hand the next chunks to free slots (lock not held). */
static int schedule(struct engine *e)
{
	const struct rp_fetch_opts *o = e->o;
	unsigned i;

	for (i = 0;
	     i < e->nslots && e->next_plan < e->chunks && !e->quit && e->in_flight < o->connections;
	     i++) {
		struct slot *s = &e->slot[i];
		uint64_t c;
		bool alloc = true, is_free;
		struct rp_err err;

		pthread_mutex_lock(&e->lock);
		is_free = s->state == S_FREE;
		pthread_mutex_unlock(&e->lock);
		if (!is_free)
			continue;
		/* Chunks never written need no slot: they are holes and digest as zeros. */
		while (e->next_plan < e->chunks) {
			c = e->next_plan;
			if (o->select) {
				/* Not selected: counts as finished, never fetched (no whole
				 * digests). */
				int pick = o->select(o->select_ctx, c);
				uint64_t end = pick == RP_PICK_STOP ? e->chunks : c + 1;

				if (pick != RP_PICK_CHECK) {
					pthread_mutex_lock(&e->lock);
					for (; e->next_plan < end; e->next_plan++) {
						e->done_bytes += chunk_len(e, e->next_plan);
						e->chunks_finished++;
					}
					pthread_mutex_unlock(&e->lock);
					continue;
				}
			}
			rp_err_init(&err);
			if (o->plan && o->plan(o->plan_ctx, c, &alloc, &err) != 0) {
				fail_err(e, &err);
				return e->rc;
			}
			if (alloc)
				break;
			pthread_mutex_lock(&e->lock);
			e->r->seal->chunks[c].state = RP_CHUNK_UNALLOCATED;
			if (o->expect &&
			    !seal_matches(&o->expect->chunks[c], &e->r->seal->chunks[c])) {
				struct slot tmp = {.chunk = c,
						   .off = c * o->chunk_size,
						   .len = (size_t)chunk_len(e, c)};
				tmp.actual = e->r->seal->chunks[c];
				if (!o->keep_going) {
					char msg[RP_ERR_MSG_MAX];
					snprintf(
					    msg, sizeof(msg),
					    "chunk %" PRIu64 " at 0x%" PRIx64
					    ": never written in the source, but the seal has data",
					    c, tmp.off);
					fail_why_locked(e, RP_EVERIFY, RP_R_SEAL_MISMATCH, msg);
					pthread_mutex_unlock(&e->lock);
					return e->rc;
				}
				record_mismatch(e, &tmp);
			}
			if (o->expect)
				e->r->chunks_compared++;
			if (o->sink.write) {
				struct rp_err werr;
				rp_err_init(&werr);
				if (o->sink.write(o->sink.ctx, c, c * o->chunk_size, NULL,
						  (size_t)chunk_len(e, c), &werr) != 0) {
					fail_why_locked(e, werr.code ? werr.code : RP_EIO,
							werr.reason, werr.msg);
					pthread_mutex_unlock(&e->lock);
					return e->rc;
				}
			}
			if (o->sink.verified)
				o->sink.verified(o->sink.ctx, c, NULL);
			e->r->bytes_skipped += chunk_len(e, c);
			e->done_bytes += chunk_len(e, c);
			e->chunks_finished++;
			e->chunk_fill[c] = C_ZERO_FILL;
			pthread_cond_signal(&e->digest);
			pthread_mutex_unlock(&e->lock);
			e->next_plan++;
		}
		if (e->next_plan >= e->chunks)
			break;
		c = e->next_plan++;
		s->chunk = c;
		s->off = c * o->chunk_size;
		s->len = (size_t)chunk_len(e, c);
		s->soff = c * (o->chunk_size + o->overhead);
		s->slen = s->len + o->overhead;
		/* An encrypted region is authenticated whole: fetch all of it even where the
		 * disk ends inside it (a VHD footer follows), and use only the disk's part. */
		if (o->overhead && o->region_total > s->off)
			s->slen = (size_t)(o->region_total - s->off < o->chunk_size
					       ? o->region_total - s->off
					       : o->chunk_size) +
				  o->overhead;
		s->attempt = 0;
		s->slow = 0;
		s->read_back = o->sink.done_before && o->sink.done_before(o->sink.ctx, c);
		if (s->read_back) {
			pthread_mutex_lock(&e->lock);
			s->state = S_CHECK_Q;
			pthread_cond_signal(&e->work);
			pthread_mutex_unlock(&e->lock);
		} else if (start_fetch(e, s) != 0) {
			return e->rc;
		}
	}
	return 0;
}

static int restart_waiting(struct engine *e)
{
	double t = now_s();
	unsigned i;

	for (i = 0; i < e->nslots && !e->quit && e->in_flight < e->o->connections; i++) {
		struct slot *s = &e->slot[i];
		bool due;

		pthread_mutex_lock(&e->lock);
		due = s->state == S_WAIT && s->wait_until <= t;
		pthread_mutex_unlock(&e->lock);
		if (due && start_fetch(e, s) != 0)
			return e->rc;
	}
	return 0;
}

static int setup(struct engine *e, struct rp_err *err)
{
	const struct rp_fetch_opts *o = e->o;
	unsigned i, a;
	int rc;

	e->chunks = rp_seal_chunks_for(o->size, o->chunk_size);
	rc = rp_seal_new(o->size, o->chunk_size, &e->r->seal, err);
	if (rc)
		return rc;
	if (o->expect &&
	    (o->expect->virtual_size != o->size || o->expect->chunk_size != o->chunk_size))
		return rp_err_set(
		    err, RP_EUSAGE,
		    "the seal is for %llu bytes in chunks of %llu, the source has %llu "
		    "bytes in chunks of %llu",
		    (unsigned long long)o->expect->virtual_size,
		    (unsigned long long)o->expect->chunk_size, (unsigned long long)o->size,
		    (unsigned long long)o->chunk_size);
	/* A buffer per transfer plus room for chunks being checked or waiting for the in-order
	 * digester: enough to keep every connection busy, and bounded (24 x 4 MiB at defaults). */
	e->nslots = o->connections + 8;
	e->slot = calloc(e->nslots, sizeof(*e->slot));
	e->chunk_fill = calloc(e->chunks ? e->chunks : 1, 1);
	e->chunk_slot = calloc(e->chunks ? e->chunks : 1, sizeof(uint32_t));
	e->r->mismatches = calloc(RP_SCAN_MAX_MISMATCHES, sizeof(*e->r->mismatches));
	if (!e->slot || !e->chunk_fill || !e->chunk_slot || !e->r->mismatches)
		return rp_err_set(err, RP_EIO, "out of memory");
	for (i = 0; i < e->nslots; i++) {
		/* 2 MiB aligned and backed by huge pages where the kernel allows: a 4 MiB chunk
		 * then costs two page faults on first use instead of a thousand. */
		size_t sz = ((size_t)o->chunk_size + o->overhead + (2u << 20) - 1) &
			    ~(size_t)((2u << 20) - 1);
		e->slot[i].buf = aligned_alloc(2u << 20, sz);
		if (!e->slot[i].buf)
			return rp_err_set(err, RP_EIO, "out of memory for chunk buffers");
		madvise(e->slot[i].buf, sz, MADV_HUGEPAGE);
	}
	for (a = 0; a < RP_DIGEST_COUNT; a++) {
		if (!(o->whole_digests & (1u << a)))
			continue;
		rc = rp_digest_new((enum rp_digest_alg)a, &e->whole[a], err);
		if (rc)
			return rc;
	}
	if (o->hash_window) {
		uint64_t n = o->size / o->hash_window + (o->size % o->hash_window != 0);

		if (o->hash_window % 512 || n > RP_SCAN_MAX_WINDOWS)
			return rp_err_set(
			    err, RP_EUSAGE,
			    "hash window %llu: a multiple of 512 giving at most %u windows",
			    (unsigned long long)o->hash_window, RP_SCAN_MAX_WINDOWS);
		e->r->window_count = n;
		e->r->windows = calloc(n ? (size_t)n : 1, 32);
		if (!e->r->windows)
			return rp_err_set(err, RP_EIO, "out of memory for hash windows");
		rc = rp_digest_new(RP_DIGEST_SHA256, &e->window, err);
		if (rc)
			return rc;
	}
	e->in_order = o->whole_digests || o->hash_window;
	if (e->in_order) {
		e->zeros = calloc(1, (size_t)o->chunk_size);
		if (!e->zeros)
			return rp_err_set(err, RP_EIO, "out of memory");
	}
	return rp_http_multi_new(o->http, o->connections, &e->multi, err);
}

static void teardown(struct engine *e)
{
	unsigned i, a;

	rp_http_multi_free(e->multi);
	for (i = 0; e->slot && i < e->nslots; i++)
		free(e->slot[i].buf);
	free(e->slot);
	free(e->chunk_fill);
	free(e->chunk_slot);
	free(e->zeros);
	for (a = 0; a < RP_DIGEST_COUNT; a++)
		rp_digest_free(e->whole[a]);
	rp_digest_free(e->window);
	explicit_bzero(e->auth_header, sizeof(e->auth_header));
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->work);
	pthread_cond_destroy(&e->digest);
}

static int mm_cmp(const void *a, const void *b)
{
	const struct rp_scan_mismatch *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

int rp_fetch_run(const struct rp_fetch_opts *o, struct rp_fetch_result *r, struct rp_err *err)
{
	struct engine e;
	pthread_t workers[64], digester;
	unsigned nworkers, started = 0, i, a;
	bool digester_started = false;
	double t0 = now_s(), last_tick = t0;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&e, 0, sizeof(e));
	e.o = o;
	e.r = r;
	e.seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	pthread_mutex_init(&e.lock, NULL);
	pthread_cond_init(&e.work, NULL);
	pthread_cond_init(&e.digest, NULL);
	if (o->connections == 0 || o->connections > 64 || o->chunk_size == 0 ||
	    o->chunk_size % 512 != 0) {
		rc = rp_err_set(err, RP_EUSAGE, "bad connections or chunk size");
		goto out;
	}
	if (o->select && (o->whole_digests || o->hash_window)) {
		rc = rp_err_set(err, RP_EUSAGE,
				"whole-disk digests need every chunk, not a selection");
		goto out;
	}
	rc = setup(&e, err);
	if (rc)
		goto out;
	nworkers = o->workers ? o->workers : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (nworkers < 1)
		nworkers = 1;
	if (nworkers > 64)
		nworkers = 64;
	for (i = 0; i < nworkers; i++) {
		if (pthread_create(&workers[i], NULL, worker_main, &e) != 0)
			break;
		started++;
	}
	if (e.in_order && pthread_create(&digester, NULL, digester_main, &e) == 0)
		digester_started = true;
	if (started == 0 || (e.in_order && !digester_started)) {
		fail(&e, RP_EIO, "cannot start threads");
	}
	while (!e.quit) {
		bool all_done;
		int left;

		if (o->stop && *o->stop) {
			fail(&e, RP_EINTR, "interrupted");
			break;
		}
		/* Retries first: a chunk the digester waits for must not queue behind new ones. */
		if (restart_waiting(&e) != 0 || schedule(&e) != 0)
			break;
		left = rp_http_multi_run(e.multi, 100, on_done, &e, &e.err);
		if (left < 0) {
			char msg[RP_ERR_MSG_MAX];
			snprintf(msg, sizeof(msg), "%s", e.err.msg);
			fail(&e, RP_EIO, msg);
			break;
		}
		pthread_mutex_lock(&e.lock);
		collect_checked(&e);
		all_done =
		    e.chunks_finished == e.chunks && (!e.in_order || e.digest_next == e.chunks);
		pthread_mutex_unlock(&e.lock);
		if (now_s() - last_tick >= 2.0) {
			struct rp_err terr;
			last_tick = now_s();
			rp_err_init(&terr);
			if (o->sink.tick && o->sink.tick(o->sink.ctx, &terr) != 0)
				fail_err(&e, &terr);
			if (o->progress_detail)
				o->progress_detail(o->progress_ctx, r->bytes_skipped, r->retries);
			if (o->progress)
				o->progress(o->progress_ctx, e.done_bytes, o->size);
		}
		if (all_done)
			break;
	}
	pthread_mutex_lock(&e.lock);
	e.quit = true;
	pthread_cond_broadcast(&e.work);
	pthread_cond_broadcast(&e.digest);
	pthread_mutex_unlock(&e.lock);
	for (i = 0; i < started; i++)
		pthread_join(workers[i], NULL);
	if (digester_started)
		pthread_join(digester, NULL);
	rc = e.rc;
	if (rc) {
		if (err)
			*err = e.err;
		goto out;
	}
	if (o->progress)
		o->progress(o->progress_ctx, e.done_bytes, o->size);
	for (a = 0; a < RP_DIGEST_COUNT; a++) {
		if (!e.whole[a])
			continue;
		rp_digest_final(e.whole[a], r->whole[a]);
		r->whole_done[a] = true;
	}
	if (e.window && e.window_fill)
		rp_digest_final(e.window, r->windows + 32 * e.window_next++);
	if (r->whole_done[RP_DIGEST_SHA256]) {
		r->seal->has_sha256 = true;
		memcpy(r->seal->sha256, r->whole[RP_DIGEST_SHA256], 32);
	}
	if (r->whole_done[RP_DIGEST_MD5]) {
		r->seal->has_md5 = true;
		memcpy(r->seal->md5, r->whole[RP_DIGEST_MD5], 16);
	}
	if (r->whole_done[RP_DIGEST_SHA1]) {
		r->seal->has_sha1 = true;
		memcpy(r->seal->sha1, r->whole[RP_DIGEST_SHA1], 20);
	}
	if (r->mismatch_count > 1)
		qsort(r->mismatches,
		      r->mismatch_count < RP_SCAN_MAX_MISMATCHES ? r->mismatch_count
								 : RP_SCAN_MAX_MISMATCHES,
		      sizeof(*r->mismatches), mm_cmp);
out:
	r->seconds = now_s() - t0;
	teardown(&e);
	return rc;
}

void rp_fetch_result_release(struct rp_fetch_result *r)
{
	rp_seal_free(r->seal);
	free(r->mismatches);
	free(r->windows);
	memset(r, 0, sizeof(*r));
}
