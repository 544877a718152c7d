/*
 * The fetch engine (fetch.h): the transfer side of the chunk pipeline (verify/pipeline.h).
 *
 * This file keeps the transfer loop, its retries and the plan: the calling thread runs the
 * libcurl multi loop, hands chunks to the pipeline's slots in increasing order, starts their
 * transfers, classifies answers, and decides on each worker verdict (commit, fetch again, or
 * fail). The pipeline owns the slots and their state machine, the workers (which run this
 * file's transport check and decryption, then the seal comparison and the sink), the in-order
 * digester and the mismatch list.
 *
 * A slot's transfer side (struct slot here) is the driver's alone: attempts, the range fetched,
 * the answer, the backoff deadline.
 */
#include "restore/fetch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/util.h"
#include "net/net.h"
#include "net/retry.h"
#include "verify/crc64.h"

/* The transfer side of pipeline slot ps (transfer thread only). */
struct slot {
	struct rp_pipe_slot *ps;
	uint64_t chunk;
	uint64_t off; /* plaintext offset and length */
	size_t len;
	uint64_t soff; /* the stored range fetched (differs when encrypted) */
	size_t slen;
	unsigned attempt;
	unsigned slow;	/* attempts cut at the range deadline */
	double started; /* when the current transfer began */
	long deadline_ms;
	bool waiting; /* in WAIT until wait_until */
	double wait_until;
	struct rp_http_xfer_result xr;
};

struct engine {
	const struct rp_fetch_opts *o;
	struct rp_fetch_result *r;
	struct rp_http_multi *multi;
	struct rp_pipe *pipe;
	uint64_t chunks;
	unsigned nslots;
	struct slot *slot;  /* by pipeline slot id */
	unsigned in_flight; /* transfers in libcurl */
	uint64_t picked;    /* the chunk the selection already said yes to (UINT64_MAX: none) */
	uint64_t planned;   /* the chunk the plan already said is allocated (UINT64_MAX: none) */
	char auth_header[8192];
	unsigned seed;
};

const char *rp_transport_hash_name(enum rp_transport_hash th)
{
	return th == RP_TH_CRC64 ? "crc64" : th == RP_TH_MD5 ? "md5" : "none";
}

static uint64_t chunk_len(const struct engine *e, uint64_t i)
{
	uint64_t off = i * e->o->chunk_size;

	return e->o->size - off < e->o->chunk_size ? e->o->size - off : e->o->chunk_size;
}

/* Record the first failure and which check it was; everyone stops. */
static void fail_why(struct engine *e, int rc, enum rp_reason why, const char *msg)
{
	struct rp_err err;

	rp_err_set_reason(&err, rc, why, "%s", msg);
	rp_pipe_fail(e->pipe, &err);
}

static void fail(struct engine *e, int rc, const char *msg)
{
	fail_why(e, rc, RP_R_NONE, msg);
}

/* Fail with err's code, reason and message (RP_EIO if it has no code). */
static void fail_err(struct engine *e, const struct rp_err *err)
{
	struct rp_err copy = *err; /* its hint too */

	if (!copy.code)
		copy.code = RP_EIO;
	rp_pipe_fail(e->pipe, &copy);
}

static bool failed(struct engine *e)
{
	return rp_pipe_failed(e->pipe, NULL) != 0;
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

/* The pipeline's check of a fetched slot, before its own (a worker thread): the transport hash
 * over the stored bytes, then decryption of what it vouched for. */
static int fetch_check(void *ctx, struct rp_pipe_slot *ps, struct rp_err *err)
{
	struct engine *e = ctx;
	const struct rp_fetch_opts *o = e->o;
	struct slot *s = &e->slot[ps->id];
	char msg[RP_ERR_MSG_MAX];
	int rc;

	rc = rp_transport_check(o->th, s->xr.crc64, s->xr.md5, ps->buf, s->slen, msg, sizeof(msg));
	if (rc)
		return rp_err_set_reason(
		    err, rc, rc == RP_EVERIFY ? RP_R_TRANSPORT_HASH : RP_R_NONE, "%s", msg);
	/* Decrypt only what the transport check vouched for; a failed tag is fetched again (a
	 * corrupted transfer without a transport hash looks the same) and then fails naming the
	 * region. */
	if (o->decrypt) {
		rc = o->decrypt(o->decrypt_ctx, ps->chunk, ps->buf, s->slen, &ps->data, err);
		if (rc)
			return err->code ? err->code : RP_EVERIFY;
	}
	return 0;
}

static void wakeup(void *ctx)
{
	rp_http_multi_wakeup(ctx);
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
	s->started = rp_now_s();
	rc = rp_http_multi_get_range(e->multi, o->url, headers, s->soff, s->slen, s->ps->buf,
				     s->deadline_ms, s, &err);
	if (rc) {
		fail_why(e, rc, err.reason, err.msg);
		return rc;
	}
	if (s->waiting)
		rp_pipe_set(e->pipe, s->ps, RP_SLOT_FILL);
	s->waiting = false;
	e->in_flight++;
	return 0;
}

static double backoff_s(struct engine *e, unsigned attempt, long retry_after_ms)
{
	return (double)rp_retry_delay_ms(&(struct rp_retry_policy){.base_ms = e->o->retry_base_ms},
					 attempt, retry_after_ms, (uint32_t)rand_r(&e->seed)) /
	       1000.0;
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
	s->ps->read_back = false;
	s->wait_until = rp_now_s() + backoff_s(e, s->attempt - 1, retry_after_ms);
	s->waiting = true;
	rp_http_log_retry(e->o->http->log, e->o->url, s->off, s->ps->len, s->attempt,
			  s->wait_until - rp_now_s(),
			  why == RP_R_NONE ? "transfer" : rp_reason_name(why), what);
	rp_pipe_set(e->pipe, s->ps, RP_SLOT_WAIT);
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
	    rp_now_s() - s->started >= (double)s->deadline_ms / 1000.0 * 0.95) {
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
		rp_pipe_set(e->pipe, s->ps, RP_SLOT_CHECK_Q);
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
	if ((r->status == 401 || r->status == 403) && e->o->auth) {
		/* A managed disk that took an Entra ID token at HEAD refuses it (net/auth.h). */
		struct rp_err aerr;
		int arc;

		rp_err_init(&aerr);
		arc = rp_auth_challenge(e->o->auth, e->o->url, r->status, NULL, s->attempt == 0,
					&aerr);
		if (arc < 0) {
			fail(e, arc, aerr.msg);
			return;
		}
		if (arc == RP_CHALLENGE_FOLLOW) {
			retry_or_fail(e, s, RP_EAUTH, "401 unauthorized", 0);
			return;
		}
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

/* A worker's verdict on slot ps (transfer thread): commit, fetch again, or fail. */
static void collect(void *ctx, struct rp_pipe_slot *ps)
{
	struct engine *e = ctx;
	const struct rp_fetch_opts *o = e->o;
	struct slot *s = &e->slot[ps->id];

	if (ps->check_rc == RP_EVERIFY && o->expect && o->keep_going && !ps->read_back &&
	    s->attempt >= o->retries && ps->check_err.reason == RP_R_SEAL_MISMATCH) {
		/* verify: a chunk that keeps differing from the seal is a finding. */
		rp_pipe_mismatch(e->pipe, ps);
		ps->check_rc = 0;
	}
	if (ps->check_rc) {
		if (ps->read_back) {
			/* Our own partial output disagrees: fetch the chunk afresh, and until
			 * then the journal must not list it. */
			if (o->sink.unverified)
				o->sink.unverified(o->sink.ctx, ps->chunk);
			ps->read_back = false;
			s->wait_until = 0;
			s->waiting = true;
			rp_pipe_set(e->pipe, ps, RP_SLOT_WAIT);
			return;
		}
		if (!ps->check_retryable) {
			/* The sink failed (its message names the chunk). */
			fail_err(e, &ps->check_err);
			return;
		}
		/* A check failure is not a busy server: fetch again at once. */
		retry_or_fail_why(e, s, ps->check_rc, ps->check_err.reason, ps->check_err.msg, 0);
		return;
	}
	if (ps->read_back)
		e->r->bytes_resumed += ps->len;
	rp_pipe_commit(e->pipe, ps);
}

/* Hand the next chunks to free slots, in increasing order. */
static int schedule(struct engine *e)
{
	const struct rp_fetch_opts *o = e->o;
	struct rp_err err;

	while (rp_pipe_next(e->pipe) < e->chunks && !failed(e) && e->in_flight < o->connections) {
		uint64_t c = rp_pipe_next(e->pipe);
		struct rp_pipe_slot *ps;
		struct slot *s;
		bool alloc = true;

		/* Not selected: counts as finished, never fetched (no whole digests). */
		if (o->select && e->picked != c) {
			if (!rp_pipe_pick(e->pipe))
				continue;
			e->picked = c;
		}
		rp_err_init(&err);
		if (o->plan && e->planned != c) {
			if (o->plan(o->plan_ctx, c, &alloc, &err) != 0) {
				fail_err(e, &err);
				return -1;
			}
			if (alloc)
				e->planned = c;
		}
		/* Chunks never written need no slot: they are holes and digest as zeros. */
		if (!alloc) {
			if (rp_pipe_hole(e->pipe, &err) != 0) {
				fail_err(e, &err);
				return -1;
			}
			e->r->bytes_skipped += chunk_len(e, c);
			continue;
		}
		ps = rp_pipe_take(e->pipe);
		if (!ps)
			break;
		s = &e->slot[ps->id];
		memset(s, 0, sizeof(*s));
		s->ps = ps;
		s->chunk = c;
		s->off = ps->off;
		s->len = ps->len;
		s->soff = c * (o->chunk_size + o->overhead);
		s->slen = s->len + o->overhead;
		/* An encrypted region is authenticated whole: fetch all of it even where the
		 * disk ends inside it (a VHD footer follows), and use only the disk's part. */
		if (o->overhead && o->region_total > s->off)
			s->slen = (size_t)(o->region_total - s->off < o->chunk_size
					       ? o->region_total - s->off
					       : o->chunk_size) +
				  o->overhead;
		ps->read_back = o->sink.done_before && o->sink.done_before(o->sink.ctx, c);
		if (ps->read_back)
			rp_pipe_set(e->pipe, ps, RP_SLOT_CHECK_Q);
		else if (start_fetch(e, s) != 0)
			return -1;
	}
	return 0;
}

static int restart_waiting(struct engine *e)
{
	double t = rp_now_s();
	unsigned i;

	for (i = 0; i < e->nslots && !failed(e) && e->in_flight < e->o->connections; i++) {
		struct slot *s = &e->slot[i];

		if (s->waiting && s->wait_until <= t && start_fetch(e, s) != 0)
			return -1;
	}
	return 0;
}

static int setup(struct engine *e, struct rp_err *err)
{
	const struct rp_fetch_opts *o = e->o;
	struct rp_pipe_opts po = {0};
	int rc;

	e->chunks = rp_seal_chunks_for(o->size, o->chunk_size);
	po.size = o->size;
	po.chunk_size = o->chunk_size;
	po.workers = o->workers;
	/* A buffer per transfer plus room for chunks being checked or waiting for the in-order
	 * digester: enough to keep every connection busy, and bounded (24 x 4 MiB at defaults). */
	po.slots = o->connections + 8;
	po.buf_extra = o->overhead;
	po.huge_bufs = true;
	po.hash_chunks = true;
	po.whole_digests = o->whole_digests;
	po.hash_window = o->hash_window;
	po.expect = o->expect;
	po.on_mismatch = RP_MM_VERDICT;
	po.keep_going = o->keep_going;
	po.sink = o->sink;
	po.select = o->select;
	po.select_ctx = o->select_ctx;
	po.stop = o->stop;
	po.check = fetch_check;
	po.src_ctx = e;
	rc = rp_http_multi_new(o->http, o->connections, &e->multi, err);
	if (rc)
		return rc;
	po.wakeup = wakeup;
	po.wakeup_ctx = e->multi;
	rc = rp_pipe_new(&po, &e->pipe, err);
	if (rc)
		return rc;
	e->nslots = rp_pipe_slots(e->pipe);
	e->slot = calloc(e->nslots, sizeof(*e->slot));
	if (!e->slot)
		return rp_err_set(err, RP_EIO, "out of memory");
	return 0;
}

/* The pipeline's results into r: after a failure, what was done so far. */
static int take_results(struct engine *e, struct rp_err *err)
{
	int rc;

	rc = rp_pipe_failed(e->pipe, err);
	if (rp_pipe_finish(e->pipe, &e->r->pipe, rc ? NULL : err) != 0 && rc == 0)
		rc = rp_pipe_failed(e->pipe, NULL) ? rp_pipe_failed(e->pipe, NULL) : RP_EIO;
	return rc;
}

int rp_fetch_run(const struct rp_fetch_opts *o, struct rp_fetch_result *r, struct rp_err *err)
{
	struct engine e;
	double t0 = rp_now_s(), last_tick = t0;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&e, 0, sizeof(e));
	e.o = o;
	e.r = r;
	e.picked = e.planned = UINT64_MAX;
	e.seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	if (o->connections == 0 || o->connections > RP_NET_CONNECTIONS_MAX || o->chunk_size == 0 ||
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
	rp_pipe_start(e.pipe, NULL);
	while (!failed(&e)) {
		struct rp_err merr;
		int left;

		if (o->stop && *o->stop) {
			fail_why(&e, RP_EINTR, RP_R_INTERRUPTED, "interrupted");
			break;
		}
		/* Retries first: a chunk the digester waits for must not queue behind new ones. */
		if (restart_waiting(&e) != 0 || schedule(&e) != 0)
			break;
		rp_err_init(&merr);
		left = rp_http_multi_run(e.multi, 100, on_done, &e, &merr);
		if (left < 0) {
			fail(&e, RP_EIO, merr.msg);
			break;
		}
		rp_pipe_each_checked(e.pipe, collect, &e);
		if (rp_now_s() - last_tick >= 2.0) {
			struct rp_err terr;
			last_tick = rp_now_s();
			rp_err_init(&terr);
			if (o->sink.tick && o->sink.tick(o->sink.ctx, &terr) != 0)
				fail_err(&e, &terr);
			if (o->progress_detail)
				o->progress_detail(o->progress_ctx, r->bytes_skipped, r->retries);
			if (o->progress)
				o->progress(o->progress_ctx, rp_pipe_done_bytes(e.pipe), o->size);
		}
		if (rp_pipe_done(e.pipe))
			break;
	}
	rp_pipe_stop(e.pipe);
	rc = take_results(&e, err);
	if (rc == 0 && o->progress)
		o->progress(o->progress_ctx, rp_pipe_done_bytes(e.pipe), o->size);
out:
	r->seconds = rp_now_s() - t0;
	/* Transfers first: they write into the pipeline's buffers. */
	rp_http_multi_free(e.multi);
	rp_pipe_free(e.pipe);
	free(e.slot);
	explicit_bzero(e.auth_header, sizeof(e.auth_header));
	return rc;
}

void rp_fetch_result_release(struct rp_fetch_result *r)
{
	rp_pipe_result_release(&r->pipe);
	memset(r, 0, sizeof(*r));
}
