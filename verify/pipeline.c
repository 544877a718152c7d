/*
 * The chunk pipeline (pipeline.h).
 *
 * Threads: N workers, an optional in-order digester, and the caller: for a sync source it only
 * waits and reports progress (rp_pipe_run); for an async source it is the source's driver (the
 * libcurl loop of restore/fetch.c). All shared state lives in struct rp_pipe under its lock,
 * except what one thread owns: a slot's buffer and verdict while the slot is FILL (its filler),
 * CHECKING (its worker) or DIGEST (the digester), and the digest contexts (the digester).
 */
#include "verify/pipeline.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/endian.h"
#include "common/secret.h"
#include "common/util.h"

#define PIPE_MAX_WORKERS 256u
#define PIPE_PROGRESS_NS 200000000L

struct rp_pipe {
	struct rp_pipe_opts o;
	uint64_t chunk_count;
	bool in_order; /* a digester runs: whole digests or hash windows */
	unsigned nworkers, nslots;
	struct rp_pipe_slot *slot;
	pthread_t *workers;
	unsigned started; /* workers started */
	pthread_t digester;
	bool digester_started;
	size_t buf_size;

	pthread_mutex_t lock;
	pthread_cond_t work;   /* a slot to check, a slot free, quit: workers */
	pthread_cond_t digest; /* a chunk committed, quit: the digester */
	pthread_cond_t main;   /* a thread finished: the coordinator (CLOCK_MONOTONIC) */
	unsigned running;      /* threads not yet finished */
	uint64_t next_index;   /* next chunk to hand out */
	uint64_t digest_next;  /* next chunk for the digester */
	uint64_t finished;     /* chunks committed or skipped */
	uint64_t done_bytes;
	uint64_t skipped;
	uint64_t compared;
	bool quit;
	int rc; /* first failure, err */
	struct rp_err err;

	/* mismatches: a max-heap on index of the lowest RP_SCAN_MAX_MISMATCHES */
	struct rp_scan_mismatch *mm;
	size_t mm_len, mm_total;

	struct rp_seal *seal;

	/* the digester's own */
	struct rp_digest *whole[RP_DIGEST_COUNT];
	struct rp_digest *window;
	uint64_t window_fill, window_next;
	uint8_t *windows;
	uint64_t window_count;
	uint8_t *zeros;
};

static uint64_t chunk_len(const struct rp_pipe *p, uint64_t i)
{
	uint64_t off = i * p->o.chunk_size;

	return p->o.size - off < p->o.chunk_size ? p->o.size - off : p->o.chunk_size;
}

/* ---- the slot state machine ---- */

#define BIT(s) (1u << (s))

/* The only writer of a slot's state (lock held); it checks that the transition is legal. */
static void pipe_set(struct rp_pipe *p, struct rp_pipe_slot *s, enum rp_slot_state to)
{
	static const unsigned legal[] = {
	    [RP_SLOT_FREE] = BIT(RP_SLOT_FILL) | BIT(RP_SLOT_CHECK_Q),
	    [RP_SLOT_FILL] =
		BIT(RP_SLOT_WAIT) | BIT(RP_SLOT_CHECK_Q) | BIT(RP_SLOT_DIGEST) | BIT(RP_SLOT_FREE),
	    [RP_SLOT_WAIT] = BIT(RP_SLOT_FILL),
	    [RP_SLOT_CHECK_Q] = BIT(RP_SLOT_CHECKING),
	    [RP_SLOT_CHECKING] = BIT(RP_SLOT_CHECKED),
	    [RP_SLOT_CHECKED] = BIT(RP_SLOT_DIGEST) | BIT(RP_SLOT_FREE) | BIT(RP_SLOT_WAIT),
	    [RP_SLOT_DIGEST] = BIT(RP_SLOT_FREE),
	};

	/* Checked in every build (one bit test): a wrong transition is a bug that would corrupt
	 * a disk image or hang the run, so it stops the program where it happens. */
	if ((unsigned)s->state >= sizeof(legal) / sizeof(legal[0]) ||
	    !(legal[s->state] & BIT(to))) {
		fprintf(stderr,
			"chunk pipeline: slot %u (chunk %" PRIu64
			"): illegal state change %d -> %d\n",
			s->id, s->chunk, (int)s->state, (int)to);
		abort();
	}
	s->state = to;
	switch (to) {
	case RP_SLOT_CHECK_Q:
		pthread_cond_signal(&p->work);
		break;
	case RP_SLOT_FREE:
		pthread_cond_broadcast(&p->work);
		pthread_cond_signal(&p->digest);
		break;
	case RP_SLOT_DIGEST:
		pthread_cond_signal(&p->digest);
		break;
	default:
		break;
	}
}

void rp_pipe_set(struct rp_pipe *p, struct rp_pipe_slot *s, enum rp_slot_state to)
{
	pthread_mutex_lock(&p->lock);
	pipe_set(p, s, to);
	pthread_mutex_unlock(&p->lock);
}

static void wakeup(struct rp_pipe *p)
{
	if (p->o.wakeup)
		p->o.wakeup(p->o.wakeup_ctx);
}

/* ---- failures ---- */

static void fail_locked(struct rp_pipe *p, const struct rp_err *err)
{
	if (p->rc == 0) {
		p->err = *err;
		p->rc = err->code ? err->code : RP_EIO;
		p->err.code = p->rc;
	}
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->digest);
}

void rp_pipe_fail(struct rp_pipe *p, const struct rp_err *err)
{
	pthread_mutex_lock(&p->lock);
	fail_locked(p, err);
	pthread_mutex_unlock(&p->lock);
	wakeup(p);
}

int rp_pipe_failed(struct rp_pipe *p, struct rp_err *err)
{
	int rc;

	pthread_mutex_lock(&p->lock);
	rc = p->rc;
	if (rc && err)
		*err = p->err;
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static bool stop_requested(const struct rp_pipe *p)
{
	/* The flag is set by a signal handler (or another thread): read it atomically. */
	return p->o.stop && __atomic_load_n(p->o.stop, __ATOMIC_RELAXED) != 0;
}

/* ---- mismatches: the lowest indices, by index ---- */

static void mm_sift_down(struct rp_scan_mismatch *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct rp_scan_mismatch t;

		if (l < n && h[l].index > h[m].index)
			m = l;
		if (r < n && h[r].index > h[m].index)
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void mm_add_locked(struct rp_pipe *p, const struct rp_scan_mismatch *m)
{
	struct rp_scan_mismatch *h = p->mm;
	size_t i;

	p->mm_total++;
	if (p->mm_len < RP_SCAN_MAX_MISMATCHES) {
		i = p->mm_len++;
		h[i] = *m;
		while (i > 0 && h[(i - 1) / 2].index < h[i].index) {
			struct rp_scan_mismatch t = h[i];
			h[i] = h[(i - 1) / 2];
			h[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
	} else if (m->index < h[0].index) {
		h[0] = *m;
		mm_sift_down(h, p->mm_len, 0);
	}
}

static int mm_cmp(const void *a, const void *b)
{
	const struct rp_scan_mismatch *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

bool rp_whole_differs(const struct rp_seal *seal, const bool done[RP_DIGEST_COUNT],
		      const uint8_t whole[RP_DIGEST_COUNT][RP_DIGEST_MAX], unsigned *alg)
{
	const bool has[RP_DIGEST_COUNT] = {seal->has_sha256, seal->has_md5, seal->has_sha1};
	const uint8_t *want[RP_DIGEST_COUNT] = {seal->sha256, seal->md5, seal->sha1};

	for (; *alg < RP_DIGEST_COUNT; ++*alg) {
		size_t n = rp_digest_size((enum rp_digest_alg) * alg);

		if (has[*alg] && done[*alg] && memcmp(want[*alg], whole[*alg], n) != 0)
			return true;
	}
	return false;
}

const uint8_t *rp_seal_whole(const struct rp_seal *seal, enum rp_digest_alg alg)
{
	return alg == RP_DIGEST_SHA256 ? seal->sha256
	       : alg == RP_DIGEST_MD5  ? seal->md5
				       : seal->sha1;
}

bool rp_seal_chunk_same(const struct rp_seal_chunk *want, const struct rp_seal_chunk *got)
{
	bool wz = want->state != RP_CHUNK_DATA, gz = got->state != RP_CHUNK_DATA;

	if (wz || gz)
		return wz && gz;
	return memcmp(want->sha256, got->sha256, sizeof(got->sha256)) == 0;
}

static void mismatch_locked(struct rp_pipe *p, uint64_t i, const struct rp_seal_chunk *got)
{
	struct rp_seal_chunk want;
	struct rp_scan_mismatch m;

	rp_seal_chunk_get(p->o.expect, i, &want);
	memset(&m, 0, sizeof(m));
	m.index = i;
	m.offset = i * p->o.chunk_size;
	m.length = chunk_len(p, i);
	m.expected_state = want.state;
	m.actual_state = got->state;
	memcpy(m.expected, want.sha256, sizeof(m.expected));
	memcpy(m.actual, got->sha256, sizeof(m.actual));
	mm_add_locked(p, &m);
}

void rp_pipe_mismatch(struct rp_pipe *p, const struct rp_pipe_slot *s)
{
	pthread_mutex_lock(&p->lock);
	mismatch_locked(p, s->chunk, &s->actual);
	pthread_mutex_unlock(&p->lock);
}

#define IDENTITY_DOMAIN "cvmrestore/seal-sha256/1"

int rp_seal_identity(const struct rp_seal *s, uint8_t out[32], struct rp_err *err)
{
	uint8_t buf[64 * 33], *b = buf;
	struct rp_digest *d = NULL;
	uint64_t g, ng = s->chunk_count / 64 + (s->chunk_count % 64 != 0);
	int rc;

	rc = rp_digest_new(RP_DIGEST_SHA256, &d, err);
	if (rc)
		return rc;
	memcpy(b, IDENTITY_DOMAIN, sizeof(IDENTITY_DOMAIN) - 1);
	b += sizeof(IDENTITY_DOMAIN) - 1;
	rp_put_le64(b, s->chunk_size);
	rp_put_le64(b + 8, s->virtual_size);
	b += 16;
	rc = rp_digest_update(d, buf, (size_t)(b - buf));
	/* A group of 64 chunks at a time: 64 'Z' bytes for a group without data. */
	for (g = 0; rc == 0 && g < ng; g++) {
		uint64_t first = 64 * g,
			 n = s->chunk_count - first < 64 ? s->chunk_count - first : 64;
		uint64_t k;

		b = buf;
		for (k = 0; k < n; k++) {
			struct rp_seal_chunk c;

			if (rp_seal_chunk_state(s, first + k) != RP_CHUNK_DATA) {
				*b++ = 'Z';
				continue;
			}
			rp_seal_chunk_get(s, first + k, &c);
			*b++ = 'D';
			memcpy(b, c.sha256, 32);
			b += 32;
		}
		rc = rp_digest_update(d, buf, (size_t)(b - buf));
	}
	if (rc == 0)
		rc = rp_digest_final(d, out);
	rp_digest_free(d);
	if (rc)
		return rp_err_set(err, RP_EIO, "%s failed", RP_SEAL_IDENTITY_NAME);
	return 0;
}

/* ---- the checks of a chunk ---- */

int rp_chunk_classify(const uint8_t *data, size_t len, bool hash, struct rp_seal_chunk *got,
		      struct rp_err *err)
{
	memset(got, 0, sizeof(*got));
	if (!data) {
		got->state = RP_CHUNK_UNALLOCATED;
	} else if (rp_is_zero(data, len)) {
		got->state = RP_CHUNK_ZERO;
	} else {
		got->state = RP_CHUNK_DATA;
		if (hash && rp_sha256(data, len, got->sha256) != 0)
			return rp_err_set(err, RP_EIO, "sha256 failed");
	}
	return 0;
}

int rp_chunk_verify(const struct rp_seal *expect, uint64_t i, const uint8_t *data, size_t len,
		    struct rp_seal_chunk *got, struct rp_err *err)
{
	struct rp_seal_chunk want;
	int rc = rp_chunk_classify(data, len, true, got, err);

	if (rc)
		return rc;
	if (expect && i < expect->chunk_count)
		rp_seal_chunk_get(expect, i, &want);
	if (expect && (i >= expect->chunk_count || !rp_seal_chunk_same(&want, got)))
		return rp_err_set_reason(err, RP_EVERIFY, RP_R_SEAL_MISMATCH,
					 "chunk %" PRIu64 " at 0x%" PRIx64
					 ": sha256 mismatch with the seal",
					 i, i * expect->chunk_size);
	return 0;
}

/* A filled slot (its worker): classify and hash the chunk, compare it with the seal, sink it. */
static int verify_slot(struct rp_pipe *p, struct rp_pipe_slot *s, struct rp_err *err)
{
	const struct rp_pipe_opts *o = &p->o;
	struct rp_seal_chunk *a = &s->actual, want;
	int rc;

	rc = rp_chunk_classify(s->data, s->len, o->hash_chunks || o->expect, a, err);
	if (rc) {
		rp_err_prefix(err, "chunk %" PRIu64 " at 0x%" PRIx64, s->chunk, s->off);
		return rc;
	}
	if (o->expect)
		rp_seal_chunk_get(o->expect, s->chunk, &want);
	if (o->expect && !rp_seal_chunk_same(&want, a)) {
		const struct rp_seal_chunk *w = &want;
		char sa[65], sb[65];

		switch (o->on_mismatch) {
		case RP_MM_RECORD:
			pthread_mutex_lock(&p->lock);
			mismatch_locked(p, s->chunk, a);
			pthread_mutex_unlock(&p->lock);
			break;
		case RP_MM_FAIL:
			return rp_err_set_reason(err, RP_EVERIFY, RP_R_SEAL_MISMATCH,
						 "chunk %" PRIu64 " at 0x%" PRIx64
						 ": sha256 mismatch with the seal",
						 s->chunk, s->off);
		case RP_MM_VERDICT:
			if (w->state == RP_CHUNK_DATA)
				rp_hex(w->sha256, 32, sa);
			else
				snprintf(sa, sizeof(sa), "zero");
			if (a->state == RP_CHUNK_DATA)
				rp_hex(a->sha256, 32, sb);
			else
				snprintf(sb, sizeof(sb), "zero");
			return rp_err_set_reason(
			    err, RP_EVERIFY, RP_R_SEAL_MISMATCH,
			    "sha256 mismatch with the seal (expected %s, got %s)", sa, sb);
		}
	}
	if (s->read_back)
		return 0;
	if (o->sink.write) {
		rp_err_init(err);
		rc = o->sink.write(o->sink.ctx, s->chunk, s->off,
				   a->state == RP_CHUNK_DATA ? s->data : NULL, s->len,
				   (enum rp_chunk_state)a->state, err);
		if (rc) {
			/* A sink may fail without a message; the code it returned is what counts.
			 */
			if (err->msg[0] == '\0')
				rp_err_set(err, rc, "error %d", rc);
			err->code = rc;
			rp_err_prefix(err, "chunk %" PRIu64 " at 0x%" PRIx64, s->chunk, s->off);
			s->check_retryable = false;
			return rc;
		}
	}
	if (o->sink.verified)
		o->sink.verified(o->sink.ctx, s->chunk, a);
	return 0;
}

/* An async source's slot: read back (resume) or the source's checks, then ours. */
static void check_slot(struct rp_pipe *p, struct rp_pipe_slot *s)
{
	const struct rp_pipe_opts *o = &p->o;
	struct rp_err *err = &s->check_err;

	rp_err_init(err);
	s->check_retryable = true;
	s->data = s->buf;
	if (s->read_back) {
		s->check_rc = o->sink.read_back(o->sink.ctx, s->off, s->buf, s->len, err);
		if (s->check_rc) {
			s->check_retryable = false;
			return;
		}
	} else if (o->check) {
		s->check_rc = o->check(o->src_ctx, s, err);
		if (s->check_rc)
			return;
	}
	s->check_rc = verify_slot(p, s, err);
}

/* The chunk in s is done (lock held). */
static void commit_locked(struct rp_pipe *p, struct rp_pipe_slot *s)
{
	struct rp_err err;

	rp_err_init(&err);
	if (rp_seal_chunk_set(p->seal, s->chunk, &s->actual, &err) != 0)
		fail_locked(p, &err);
	if (p->o.expect)
		p->compared++;
	p->done_bytes += s->len;
	p->finished++;
	pipe_set(p, s, p->in_order ? RP_SLOT_DIGEST : RP_SLOT_FREE);
}

void rp_pipe_commit(struct rp_pipe *p, struct rp_pipe_slot *s)
{
	pthread_mutex_lock(&p->lock);
	commit_locked(p, s);
	pthread_mutex_unlock(&p->lock);
}

/* ---- handing out chunks (lock held) ---- */

static struct rp_pipe_slot *free_slot(struct rp_pipe *p)
{
	unsigned i;

	for (i = 0; i < p->nslots; i++)
		if (p->slot[i].state == RP_SLOT_FREE)
			return &p->slot[i];
	return NULL;
}

/* Ask the selection about the next chunk; false: it (or all the rest) was skipped. */
static bool pick_locked(struct rp_pipe *p)
{
	int pick;

	if (!p->o.select)
		return true;
	pick = p->o.select(p->o.select_ctx, p->next_index);
	if (pick == RP_PICK_CHECK)
		return true;
	do {
		p->done_bytes += chunk_len(p, p->next_index);
		p->skipped++;
		p->finished++;
		p->next_index++;
	} while (pick == RP_PICK_STOP && p->next_index < p->chunk_count);
	return false;
}

static void assign_locked(struct rp_pipe *p, struct rp_pipe_slot *s)
{
	uint64_t c = p->next_index++;

	s->chunk = c;
	s->off = c * p->o.chunk_size;
	s->len = (size_t)chunk_len(p, c);
	s->data = s->buf;
	s->read_back = false;
	s->hole_end = 0;
	s->check_rc = 0;
	rp_err_init(&s->check_err);
	pipe_set(p, s, RP_SLOT_FILL);
}

uint64_t rp_pipe_next(const struct rp_pipe *p)
{
	return p->next_index;
}

bool rp_pipe_pick(struct rp_pipe *p)
{
	bool ok;

	pthread_mutex_lock(&p->lock);
	ok = pick_locked(p);
	pthread_mutex_unlock(&p->lock);
	return ok;
}

struct rp_pipe_slot *rp_pipe_take(struct rp_pipe *p)
{
	struct rp_pipe_slot *s;

	pthread_mutex_lock(&p->lock);
	s = p->next_index < p->chunk_count && !p->quit ? free_slot(p) : NULL;
	if (s)
		assign_locked(p, s);
	pthread_mutex_unlock(&p->lock);
	return s;
}

int rp_pipe_hole(struct rp_pipe *p, struct rp_err *err)
{
	const struct rp_pipe_opts *o = &p->o;
	uint64_t c = p->next_index, off = c * o->chunk_size;
	struct rp_seal_chunk hole = {.state = RP_CHUNK_UNALLOCATED}, want = {0};
	size_t len = (size_t)chunk_len(p, c);
	int rc;

	if (o->expect)
		rp_seal_chunk_get(o->expect, c, &want);
	if (o->expect && !rp_seal_chunk_same(&want, &hole)) {
		if (o->on_mismatch == RP_MM_FAIL ||
		    (o->on_mismatch == RP_MM_VERDICT && !o->keep_going))
			return rp_err_set_reason(err, RP_EVERIFY, RP_R_SEAL_MISMATCH,
						 "chunk %" PRIu64 " at 0x%" PRIx64
						 ": never written in the source, but the seal has "
						 "data",
						 c, off);
	}
	if (o->sink.write) {
		rp_err_init(err);
		rc = o->sink.write(o->sink.ctx, c, off, NULL, len, RP_CHUNK_UNALLOCATED, err);
		if (rc) {
			if (err->msg[0] == '\0')
				rp_err_set(err, rc, "error %d", rc);
			err->code = rc;
			return rc;
		}
	}
	if (o->sink.verified)
		o->sink.verified(o->sink.ctx, c, NULL);
	pthread_mutex_lock(&p->lock);
	rc = rp_seal_chunk_set(p->seal, c, &hole, err); /* a hole allocates nothing */
	if (rc) {
		pthread_mutex_unlock(&p->lock);
		return rc;
	}
	if (o->expect) {
		if (!rp_seal_chunk_same(&want, &hole))
			mismatch_locked(p, c, &hole);
		p->compared++;
	}
	p->done_bytes += len;
	p->finished++;
	p->next_index++;
	pthread_cond_signal(&p->digest);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/*
 * After a sync source's chunk turned out unallocated up to hole_end: commit the following
 * chunks that lie wholly inside that range as holes, at once (lock held). Only without a sink
 * (which would want to see each chunk) and a selection: a never-written range then costs a few
 * bit operations per chunk instead of a slot, a read and a lock round each.
 */
static void holes_locked(struct rp_pipe *p, uint64_t hole_end)
{
	const struct rp_pipe_opts *o = &p->o;
	struct rp_seal_chunk hole = {.state = RP_CHUNK_UNALLOCATED}, want;
	struct rp_err err;

	if (o->sink.write || o->sink.verified || o->select || o->on_mismatch == RP_MM_VERDICT)
		return;
	rp_err_init(&err);
	while (!p->quit && p->next_index < p->chunk_count) {
		uint64_t c = p->next_index, len = chunk_len(p, c);

		if (c * o->chunk_size + len > hole_end)
			break;
		if (o->expect) {
			rp_seal_chunk_get(o->expect, c, &want);
			if (!rp_seal_chunk_same(&want, &hole)) {
				if (o->on_mismatch == RP_MM_FAIL) {
					rp_err_set_reason(&err, RP_EVERIFY, RP_R_SEAL_MISMATCH,
							  "chunk %" PRIu64 " at 0x%" PRIx64
							  ": never written in the source, but the "
							  "seal has data",
							  c, c * o->chunk_size);
					fail_locked(p, &err);
					return;
				}
				mismatch_locked(p, c, &hole);
			}
			p->compared++;
		}
		if (rp_seal_chunk_set(p->seal, c, &hole, &err) != 0) {
			fail_locked(p, &err);
			return;
		}
		p->done_bytes += len;
		p->finished++;
		p->next_index++;
	}
	pthread_cond_signal(&p->digest);
}

/* ---- workers ---- */

/* A sync source's chunk: read it, check it, sink it (slot owned, lock not held). */
static int fill_slot(struct rp_pipe *p, struct rp_pipe_slot *s, struct rp_err *err)
{
	int rc;

	rp_err_init(err);
	s->data = s->buf;
	rc = p->o.read(p->o.src_ctx, s, err);
	if (rc) {
		if (err->msg[0] == '\0')
			rp_err_set(err, rc, "error %d", rc);
		err->code = rc;
		return rc;
	}
	return verify_slot(p, s, err);
}

static void thread_finished_locked(struct rp_pipe *p)
{
	p->running--;
	pthread_cond_signal(&p->main);
}

static void *worker_main(void *arg)
{
	struct rp_pipe *p = arg;
	struct rp_err err;

	pthread_mutex_lock(&p->lock);
	while (!p->quit) {
		struct rp_pipe_slot *s = NULL;
		unsigned i;
		int rc;

		for (i = 0; i < p->nslots; i++)
			if (p->slot[i].state == RP_SLOT_CHECK_Q) {
				s = &p->slot[i];
				break;
			}
		if (s) {
			pipe_set(p, s, RP_SLOT_CHECKING);
			pthread_mutex_unlock(&p->lock);
			check_slot(p, s);
			pthread_mutex_lock(&p->lock);
			pipe_set(p, s, RP_SLOT_CHECKED);
			pthread_mutex_unlock(&p->lock);
			wakeup(p);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		if (!p->o.read) {
			pthread_cond_wait(&p->work, &p->lock);
			continue;
		}
		/* A sync source: this worker reads the next chunk itself. */
		if (p->next_index >= p->chunk_count)
			break;
		if (stop_requested(p)) {
			rp_err_set_reason(&err, RP_EINTR, RP_R_INTERRUPTED, "interrupted");
			fail_locked(p, &err);
			break;
		}
		if (!pick_locked(p))
			continue;
		s = free_slot(p);
		if (!s) {
			pthread_cond_wait(&p->work, &p->lock);
			continue;
		}
		assign_locked(p, s);
		pthread_mutex_unlock(&p->lock);
		rc = fill_slot(p, s, &err);
		pthread_mutex_lock(&p->lock);
		if (rc) {
			fail_locked(p, &err);
			break;
		}
		{
			uint64_t hole_end = s->data ? 0 : s->hole_end;

			commit_locked(p, s);
			if (hole_end)
				holes_locked(p, hole_end);
		}
	}
	thread_finished_locked(p);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* ---- the in-order digester ---- */

/* Feed the piecewise hashes: windows may start and end anywhere inside a chunk. */
static int window_update(struct rp_pipe *p, const uint8_t *data, size_t len, struct rp_err *err)
{
	uint64_t w = p->o.hash_window;

	while (len > 0) {
		size_t n = w - p->window_fill < len ? (size_t)(w - p->window_fill) : len;

		if (rp_digest_update(p->window, data, n) != 0)
			return rp_err_set(err, RP_EIO, "window sha256 update failed");
		data += n;
		len -= n;
		p->window_fill += n;
		if (p->window_fill == w) {
			if (rp_digest_final(p->window, p->windows + 32 * p->window_next) != 0)
				return rp_err_set(err, RP_EIO, "window sha256 failed");
			p->window_next++;
			p->window_fill = 0;
		}
	}
	return 0;
}

static int digest_update(struct rp_pipe *p, const uint8_t *data, size_t len, struct rp_err *err)
{
	unsigned a;

	for (a = 0; a < RP_DIGEST_COUNT; a++) {
		if (p->whole[a] && rp_digest_update(p->whole[a], data, len) != 0)
			return rp_err_set(err, RP_EIO, "%s update failed",
					  rp_digest_name((enum rp_digest_alg)a));
	}
	return p->window ? window_update(p, data, len, err) : 0;
}

/* The slot holding chunk i (lock held); NULL if none does: a hole, committed without one. */
static struct rp_pipe_slot *slot_of(struct rp_pipe *p, uint64_t i)
{
	unsigned k;

	for (k = 0; k < p->nslots; k++)
		if (p->slot[k].state != RP_SLOT_FREE && p->slot[k].chunk == i)
			return &p->slot[k];
	return NULL;
}

static void *digester_main(void *arg)
{
	struct rp_pipe *p = arg;
	struct rp_err err;

	rp_err_init(&err);
	pthread_mutex_lock(&p->lock);
	while (!p->quit && p->digest_next < p->chunk_count) {
		uint64_t i = p->digest_next;
		struct rp_pipe_slot *s;
		const uint8_t *data;
		int rc;

		s = i < p->next_index ? slot_of(p, i) : NULL;
		if (i >= p->next_index || (s && s->state != RP_SLOT_DIGEST)) {
			pthread_cond_wait(&p->digest, &p->lock);
			continue;
		}
		/* Unallocated chunks were not read: their bytes are zeros. */
		data = s && s->actual.state != RP_CHUNK_UNALLOCATED ? s->data : p->zeros;
		pthread_mutex_unlock(&p->lock);
		rc = digest_update(p, data, (size_t)chunk_len(p, i), &err);
		pthread_mutex_lock(&p->lock);
		if (s)
			pipe_set(p, s, RP_SLOT_FREE);
		p->digest_next++;
		if (rc) {
			fail_locked(p, &err);
			break;
		}
		pthread_mutex_unlock(&p->lock);
		wakeup(p);
		pthread_mutex_lock(&p->lock);
	}
	thread_finished_locked(p);
	pthread_mutex_unlock(&p->lock);
	wakeup(p);
	return NULL;
}

/* ---- set up, run, finish ---- */

static unsigned worker_count(const struct rp_pipe_opts *o, uint64_t chunks)
{
	long n = o->workers ? (long)o->workers : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if ((unsigned long)n > PIPE_MAX_WORKERS)
		n = PIPE_MAX_WORKERS;
	/* A sync source never has more workers than chunks. */
	if (o->read && (uint64_t)n > chunks)
		n = chunks ? (long)chunks : 1;
	return (unsigned)n;
}

static int check_opts(const struct rp_pipe_opts *o, struct rp_err *err)
{
	if (o->chunk_size == 0 || o->chunk_size % 512 != 0)
		return rp_err_set(err, RP_EUSAGE, "chunk size %" PRIu64 " is not a multiple of 512",
				  o->chunk_size);
	if (o->whole_digests >> RP_DIGEST_COUNT)
		return rp_err_set(err, RP_EUSAGE, "unknown whole-disk digest in mask 0x%x",
				  o->whole_digests);
	if (o->select && (o->whole_digests || o->hash_window))
		return rp_err_set(err, RP_EUSAGE,
				  "whole-disk digests and hash windows need every chunk, not a "
				  "selection");
	if (o->expect &&
	    (o->expect->virtual_size != o->size || o->expect->chunk_size != o->chunk_size))
		return rp_err_set(err, RP_EUSAGE,
				  "the seal is for %" PRIu64 " bytes in chunks of %" PRIu64
				  ", the source has %" PRIu64 " bytes in chunks of %" PRIu64,
				  o->expect->virtual_size, o->expect->chunk_size, o->size,
				  o->chunk_size);
	if (o->hash_window) {
		uint64_t n = o->size / o->hash_window + (o->size % o->hash_window != 0);

		if (o->hash_window % 512 != 0)
			return rp_err_set(err, RP_EUSAGE,
					  "hash window %" PRIu64 " is not a multiple of 512",
					  o->hash_window);
		if (n > RP_SCAN_MAX_WINDOWS)
			return rp_err_set(err, RP_EUSAGE,
					  "hash window %" PRIu64 " gives %" PRIu64
					  " windows, more than %u",
					  o->hash_window, n, RP_SCAN_MAX_WINDOWS);
	}
	if (o->read && o->check)
		return rp_err_set(err, RP_EUSAGE, "a source is either sync (read) or async");
	return 0;
}

static int alloc_slots(struct rp_pipe *p, struct rp_err *err)
{
	const struct rp_pipe_opts *o = &p->o;
	unsigned i;

	p->nslots = o->slots ? o->slots : p->in_order ? 2 * p->nworkers : p->nworkers;
	p->slot = calloc(p->nslots, sizeof(*p->slot));
	if (!p->slot)
		return rp_err_set(err, RP_EIO, "out of memory");
	p->buf_size = (size_t)o->chunk_size + o->buf_extra;
	if (o->huge_bufs)
		p->buf_size = (p->buf_size + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
	for (i = 0; i < p->nslots; i++) {
		struct rp_pipe_slot *s = &p->slot[i];

		s->id = i;
		s->state = RP_SLOT_FREE;
		/* 2 MiB aligned and backed by huge pages where the kernel allows: a 4 MiB chunk
		 * then costs two page faults on first use instead of a thousand. */
		s->buf = o->huge_bufs ? aligned_alloc(2u << 20, p->buf_size) : malloc(p->buf_size);
		if (!s->buf)
			return rp_err_set(err, RP_EIO,
					  "out of memory for chunk buffers of %" PRIu64 " bytes",
					  o->chunk_size);
		if (o->huge_bufs)
			madvise(s->buf, p->buf_size, MADV_HUGEPAGE);
	}
	return 0;
}

int rp_pipe_new(const struct rp_pipe_opts *o, struct rp_pipe **out, struct rp_err *err)
{
	pthread_condattr_t ca;
	struct rp_pipe *p;
	unsigned a;
	int rc;

	*out = NULL;
	rc = check_opts(o, err);
	if (rc)
		return rc;
	p = calloc(1, sizeof(*p));
	if (!p)
		return rp_err_set(err, RP_EIO, "out of memory");
	p->o = *o;
	rp_err_init(&p->err);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->digest, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->main, &ca);
	pthread_condattr_destroy(&ca);
	*out = p;
	rc = rp_seal_new(o->size, o->chunk_size, &p->seal, err);
	if (rc)
		return rc;
	/* The result keeps no second copy of the digests that match the seal (the chunks that
	 * differ keep their own): the result must not outlive expect (every caller's does not). */
	if (o->expect && !o->expect->base) {
		rc = rp_seal_borrow(p->seal, o->expect, err);
		if (rc)
			return rc;
	}
	p->chunk_count = p->seal->chunk_count;
	p->in_order = o->whole_digests || o->hash_window;
	p->nworkers = worker_count(o, p->chunk_count);
	p->workers = calloc(p->nworkers, sizeof(*p->workers));
	if (!p->workers)
		return rp_err_set(err, RP_EIO, "out of memory");
	rc = alloc_slots(p, err);
	if (rc)
		return rc;
	if (o->expect) {
		p->mm = calloc(RP_SCAN_MAX_MISMATCHES, sizeof(*p->mm));
		if (!p->mm)
			return rp_err_set(err, RP_EIO, "out of memory");
	}
	for (a = 0; a < RP_DIGEST_COUNT; a++) {
		if (!(o->whole_digests & (1u << a)))
			continue;
		rc = rp_digest_new((enum rp_digest_alg)a, &p->whole[a], err);
		if (rc)
			return rc;
	}
	if (o->hash_window) {
		p->window_count = o->size / o->hash_window + (o->size % o->hash_window != 0);
		p->windows = calloc(p->window_count ? (size_t)p->window_count : 1, 32);
		if (!p->windows)
			return rp_err_set(err, RP_EIO, "out of memory for hash windows");
		rc = rp_digest_new(RP_DIGEST_SHA256, &p->window, err);
		if (rc)
			return rc;
	}
	if (p->in_order) {
		p->zeros = calloc(1, (size_t)o->chunk_size);
		if (!p->zeros)
			return rp_err_set(err, RP_EIO, "out of memory");
	}
	return 0;
}

int rp_pipe_start(struct rp_pipe *p, struct rp_err *err)
{
	struct rp_err terr;
	unsigned i;
	int rc;

	rp_err_init(&terr);
	pthread_mutex_lock(&p->lock);
	if (p->in_order) {
		p->running++;
		rc = pthread_create(&p->digester, NULL, digester_main, p);
		if (rc) {
			p->running--;
			rp_err_errno(&terr, rc, "cannot start the digest thread");
			fail_locked(p, &terr);
		} else {
			p->digester_started = true;
		}
	}
	for (i = 0; i < p->nworkers && !p->quit; i++) {
		p->running++;
		rc = pthread_create(&p->workers[i], NULL, worker_main, p);
		if (rc) {
			p->running--;
			rp_err_errno(&terr, rc, "cannot start worker thread %u", i);
			fail_locked(p, &terr);
			break;
		}
		p->started++;
	}
	rc = p->rc;
	if (rc && err)
		*err = p->err;
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void rp_pipe_stop(struct rp_pipe *p)
{
	unsigned i;

	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->digest);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->started; i++)
		pthread_join(p->workers[i], NULL);
	p->started = 0;
	if (p->digester_started)
		pthread_join(p->digester, NULL);
	p->digester_started = false;
}

/* Wait for every thread of a sync run, calling progress about every 200 ms. */
static void coordinate(struct rp_pipe *p)
{
	const struct rp_pipe_opts *o = &p->o;

	pthread_mutex_lock(&p->lock);
	while (p->running > 0) {
		struct timespec deadline;
		uint64_t done;

		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_nsec += PIPE_PROGRESS_NS;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		while (p->running > 0 &&
		       pthread_cond_timedwait(&p->main, &p->lock, &deadline) != ETIMEDOUT)
			;
		done = p->done_bytes;
		if (o->progress && p->running > 0) {
			pthread_mutex_unlock(&p->lock);
			o->progress(o->progress_ctx, done, o->size);
			pthread_mutex_lock(&p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
}

int rp_pipe_run(struct rp_pipe *p, struct rp_err *err)
{
	int rc;

	if (!p->o.read)
		return rp_err_set(err, RP_EUSAGE, "rp_pipe_run needs a sync source");
	rp_pipe_start(p, NULL);
	coordinate(p);
	rp_pipe_stop(p);
	rc = rp_pipe_failed(p, err);
	if (rc == 0 && p->o.progress)
		p->o.progress(p->o.progress_ctx, p->done_bytes, p->o.size);
	return rc;
}

void rp_pipe_each_checked(struct rp_pipe *p, void (*fn)(void *ctx, struct rp_pipe_slot *s),
			  void *ctx)
{
	unsigned i;

	for (i = 0; i < p->nslots; i++) {
		bool checked;

		pthread_mutex_lock(&p->lock);
		checked = !p->quit && p->slot[i].state == RP_SLOT_CHECKED;
		pthread_mutex_unlock(&p->lock);
		if (checked)
			fn(ctx, &p->slot[i]);
	}
}

bool rp_pipe_done(struct rp_pipe *p)
{
	bool done;

	pthread_mutex_lock(&p->lock);
	done = p->finished == p->chunk_count && (!p->in_order || p->digest_next == p->chunk_count);
	pthread_mutex_unlock(&p->lock);
	return done;
}

uint64_t rp_pipe_done_bytes(struct rp_pipe *p)
{
	uint64_t n;

	pthread_mutex_lock(&p->lock);
	n = p->done_bytes;
	pthread_mutex_unlock(&p->lock);
	return n;
}

struct rp_pipe_slot *rp_pipe_slot(struct rp_pipe *p, unsigned id)
{
	return &p->slot[id];
}

unsigned rp_pipe_slots(const struct rp_pipe *p)
{
	return p->nslots;
}

int rp_pipe_finish(struct rp_pipe *p, struct rp_pipe_result *r, struct rp_err *err)
{
	struct rp_seal *s;
	unsigned a;

	memset(r, 0, sizeof(*r));
	r->chunks_compared = p->compared;
	r->chunks_skipped = p->skipped;
	r->mismatch_count = p->mm_total;
	if (p->mm_len)
		qsort(p->mm, p->mm_len, sizeof(*p->mm), mm_cmp);
	r->mismatches = p->mm;
	p->mm = NULL;
	r->seal = p->seal;
	p->seal = NULL;
	/* After a failure: what was done so far, and no digest of a part. */
	if (p->rc)
		return p->rc;
	if (p->window && p->window_fill > 0) {
		if (rp_digest_final(p->window, p->windows + 32 * p->window_next) != 0)
			return rp_err_set(err, RP_EIO, "window sha256 failed");
		p->window_next++;
		p->window_fill = 0;
	}
	if (p->window && p->window_next == p->window_count) {
		r->windows = p->windows;
		r->window_count = p->window_count;
		p->windows = NULL;
	}
	for (a = 0; a < RP_DIGEST_COUNT; a++) {
		if (!p->whole[a])
			continue;
		if (rp_digest_final(p->whole[a], r->whole[a]) != 0)
			return rp_err_set(err, RP_EIO, "%s failed",
					  rp_digest_name((enum rp_digest_alg)a));
		r->whole_done[a] = true;
	}
	s = r->seal;
	if ((p->o.hash_chunks || p->o.expect) && p->skipped == 0) {
		if (rp_seal_identity(s, r->identity, err) != 0)
			return err ? err->code : RP_EIO;
		r->identity_done = true;
		s->has_identity = true;
		memcpy(s->identity, r->identity, sizeof(s->identity));
	}
	s->has_sha256 = r->whole_done[RP_DIGEST_SHA256];
	s->has_md5 = r->whole_done[RP_DIGEST_MD5];
	s->has_sha1 = r->whole_done[RP_DIGEST_SHA1];
	memcpy(s->sha256, r->whole[RP_DIGEST_SHA256], sizeof(s->sha256));
	memcpy(s->md5, r->whole[RP_DIGEST_MD5], sizeof(s->md5));
	memcpy(s->sha1, r->whole[RP_DIGEST_SHA1], sizeof(s->sha1));
	return 0;
}

void rp_pipe_result_release(struct rp_pipe_result *r)
{
	rp_seal_free(r->seal);
	free(r->mismatches);
	free(r->windows);
	memset(r, 0, sizeof(*r));
}

void rp_pipe_free(struct rp_pipe *p)
{
	unsigned i, a;

	if (!p)
		return;
	rp_pipe_stop(p);
	for (i = 0; p->slot && i < p->nslots; i++) {
		if (p->o.wipe_bufs && p->slot[i].buf)
			rp_wipe(p->slot[i].buf, p->buf_size);
		free(p->slot[i].buf);
	}
	free(p->slot);
	free(p->workers);
	free(p->mm);
	free(p->zeros);
	free(p->windows);
	rp_seal_free(p->seal);
	for (a = 0; a < RP_DIGEST_COUNT; a++)
		rp_digest_free(p->whole[a]);
	rp_digest_free(p->window);
	pthread_cond_destroy(&p->main);
	pthread_cond_destroy(&p->digest);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
