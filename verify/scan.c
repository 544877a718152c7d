/*
 * The chunk pipeline over a local image (see scan.h).
 *
 * Threads: N workers, an optional in-order digester, and the calling thread, which only waits,
 * reports progress and joins. All shared state lives in struct scan and is guarded by its lock,
 * except what a single thread owns: a worker's buffer while it processes a chunk, and the seal's
 * entry for that chunk (each chunk index is handed to exactly one worker).
 *
 * Whole-disk digests need the bytes in order while workers finish in any order. They use a
 * pool of threads * 2 buffers and a window of as many slots: chunk indices are handed out in
 * order together with a buffer, a finished chunk i parks its buffer in slot i % pool, and the
 * digester consumes slots next, next + 1, ... and returns the buffers. Every chunk from the
 * digester's next up to the last one handed out holds a buffer, so at most pool chunks are in
 * flight, slot i % pool is free again before chunk i + pool gets a buffer, and the chunk the
 * digester waits for is always being read by a worker that waits for nothing: no deadlock.
 */
#include "verify/scan.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

#define SCAN_DEFAULT_CHUNK RP_CHUNK_DEFAULT
#define SCAN_MAX_THREADS 256u
#define SCAN_PROGRESS_NS 200000000L

struct scan;

struct scan_worker {
	struct scan *scan;
	pthread_t thread;
	uint8_t *own_buf; /* without whole digests: this worker's only buffer */
	struct rp_err err;
	uint64_t bytes_read, bytes_skipped, compared;
};

struct scan_slot {
	uint8_t *buf;
	bool ready;
	uint8_t state;
};

struct scan {
	struct rp_image *img;
	const struct rp_scan_opts *opts;
	struct rp_scan_result *result;
	uint64_t virtual_size, chunk_size, chunk_count;
	bool hash_chunks;

	pthread_mutex_t lock;
	pthread_cond_t work_cv; /* buffer returned, slot filled, stop: workers and digester */
	pthread_cond_t main_cv; /* a thread finished: the coordinator (CLOCK_MONOTONIC) */
	uint64_t next_index;	/* next chunk to hand out */
	uint64_t done_bytes;
	unsigned running; /* threads not yet finished */
	bool stopping;
	int error;
	struct rp_err first_err;

	/* mismatches: a max-heap on index of the lowest RP_SCAN_MAX_MISMATCHES, sorted at the end
	 */
	struct rp_scan_mismatch *mm;
	size_t mm_len;
	size_t mm_total;

	/* whole-disk digests (window mode only) */
	bool window_mode;
	size_t pool_size;
	uint8_t **pool_free; /* stack of free buffers */
	size_t nfree;
	struct scan_slot *slots;
	uint8_t *zero_buf;
	struct rp_digest *whole[RP_DIGEST_COUNT];
	uint64_t digest_next;
	struct rp_err digest_err;

	/* piecewise hashes (window mode, digester thread only) */
	struct rp_digest *window;
	uint64_t window_fill; /* bytes in the current window */
	uint64_t window_next; /* index of the current window */
	uint8_t *windows;     /* window_count * 32 bytes */
	uint64_t window_count;

	uint64_t skipped; /* chunks the selection skipped */
};

static uint64_t chunk_len(const struct scan *sc, uint64_t i)
{
	uint64_t off = i * sc->chunk_size;

	return sc->virtual_size - off < sc->chunk_size ? sc->virtual_size - off : sc->chunk_size;
}

static bool stop_requested(const struct scan *sc)
{
	/* The flag is set by a signal handler (or another thread): read it atomically. */
	return sc->opts->stop && __atomic_load_n(sc->opts->stop, __ATOMIC_RELAXED) != 0;
}

/* Record the first error (code and message) and tell everyone to stop. Called with lock held. */
static void fail_locked(struct scan *sc, int code, const struct rp_err *err)
{
	if (sc->error == 0) {
		sc->error = code;
		if (err)
			sc->first_err = *err;
		else
			rp_err_set(&sc->first_err, code, "unknown error");
		sc->first_err.code = code;
	}
	sc->stopping = true;
	pthread_cond_broadcast(&sc->work_cv);
}

static void fail(struct scan *sc, int code, const struct rp_err *err)
{
	pthread_mutex_lock(&sc->lock);
	fail_locked(sc, code, err);
	pthread_mutex_unlock(&sc->lock);
}

/* Keep the mismatches with the lowest indices: a max-heap on index of at most the limit. */
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

static void mm_add_locked(struct scan *sc, const struct rp_scan_mismatch *m)
{
	struct rp_scan_mismatch *h = sc->mm;
	size_t i;

	sc->mm_total++;
	if (sc->mm_len < RP_SCAN_MAX_MISMATCHES) {
		i = sc->mm_len++;
		h[i] = *m;
		while (i > 0 && h[(i - 1) / 2].index < h[i].index) {
			struct rp_scan_mismatch t = h[i];
			h[i] = h[(i - 1) / 2];
			h[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
	} else if (m->index < h[0].index) {
		h[0] = *m;
		mm_sift_down(h, sc->mm_len, 0);
	}
}

static int mm_cmp(const void *a, const void *b)
{
	const struct rp_scan_mismatch *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static bool state_is_zero(uint8_t s)
{
	return s == RP_CHUNK_ZERO || s == RP_CHUNK_UNALLOCATED;
}

static void compare_chunk(struct scan_worker *w, uint64_t i, uint64_t len,
			  const struct rp_seal_chunk *got)
{
	struct scan *sc = w->scan;
	const struct rp_seal_chunk *exp = &sc->opts->expect->chunks[i];
	struct rp_scan_mismatch m;
	bool match;

	w->compared++;
	if (state_is_zero(exp->state) || state_is_zero(got->state))
		match = state_is_zero(exp->state) && state_is_zero(got->state);
	else
		match = memcmp(exp->sha256, got->sha256, sizeof(got->sha256)) == 0;
	if (match)
		return;
	memset(&m, 0, sizeof(m));
	m.index = i;
	m.offset = i * sc->chunk_size;
	m.length = len;
	m.expected_state = exp->state;
	m.actual_state = got->state;
	memcpy(m.expected, exp->sha256, sizeof(m.expected));
	memcpy(m.actual, got->sha256, sizeof(m.actual));
	pthread_mutex_lock(&sc->lock);
	mm_add_locked(sc, &m);
	pthread_mutex_unlock(&sc->lock);
}

/* Is any byte of [off, off+len) allocated? Walks the image's extents over the chunk. */
static int chunk_allocated(struct scan *sc, uint64_t off, uint64_t len, bool *any,
			   struct rp_err *err)
{
	uint64_t pos = off, end = off + len;

	*any = false;
	while (pos < end) {
		bool alloc = false;
		uint64_t run = 0;
		int rc = rp_image_extent(sc->img, pos, &alloc, &run, err);
		if (rc)
			return rc;
		if (alloc) {
			*any = true;
			return 0;
		}
		/* A zero run would loop forever: the image layer promised at least a sector. */
		if (run == 0)
			return rp_err_set(err, RP_EIO,
					  "image extent at 0x%" PRIx64 " has an empty run", pos);
		pos += run < end - pos ? run : end - pos;
	}
	return 0;
}

/* Read, classify, hash, compare and sink chunk i into buf; returns the chunk's state. */
static int process_chunk(struct scan_worker *w, uint64_t i, uint8_t *buf, uint8_t *state)
{
	struct scan *sc = w->scan;
	uint64_t off = i * sc->chunk_size, len = chunk_len(sc, i);
	struct rp_seal_chunk c;
	bool any = false;
	int rc;

	memset(&c, 0, sizeof(c));
	rp_err_init(&w->err);
	rc = chunk_allocated(sc, off, len, &any, &w->err);
	if (rc)
		goto fail;
	if (!any) {
		c.state = RP_CHUNK_UNALLOCATED;
		w->bytes_skipped += len;
	} else {
		rc = rp_image_read(sc->img, buf, (size_t)len, off, &w->err);
		if (rc)
			goto fail;
		w->bytes_read += len;
		if (rp_is_zero(buf, (size_t)len)) {
			c.state = RP_CHUNK_ZERO;
		} else {
			c.state = RP_CHUNK_DATA;
			if (sc->hash_chunks && rp_sha256(buf, (size_t)len, c.sha256) != 0) {
				rc = rp_err_set(&w->err, RP_EIO, "sha256 failed");
				goto fail;
			}
		}
	}
	sc->result->seal->chunks[i] = c;
	if (sc->opts->expect)
		compare_chunk(w, i, len, &c);
	if (sc->opts->sink) {
		rc = sc->opts->sink(sc->opts->sink_ctx, i, off,
				    c.state == RP_CHUNK_DATA ? buf : NULL, (size_t)len,
				    (enum rp_chunk_state)c.state, &w->err);
		if (rc)
			goto fail;
	}
	*state = c.state;
	return 0;
fail:
	/* A sink may fail without a message; the code it returned is what counts. */
	if (w->err.msg[0] == '\0')
		rp_err_set(&w->err, rc, "error %d", rc);
	w->err.code = rc;
	rp_err_prefix(&w->err, "chunk %" PRIu64 " at 0x%" PRIx64, i, off);
	return rc;
}

/* Hand out the next chunk index (and in window mode a buffer); false when there is no more. */
static bool next_chunk(struct scan_worker *w, uint64_t *index, uint8_t **buf)
{
	struct scan *sc = w->scan;
	bool ok = false;

	pthread_mutex_lock(&sc->lock);
	for (;;) {
		if (sc->stopping || sc->next_index >= sc->chunk_count)
			break;
		if (stop_requested(sc)) {
			struct rp_err stop_err;

			rp_err_set(&stop_err, RP_EINTR, "interrupted");
			fail_locked(sc, RP_EINTR, &stop_err);
			break;
		}
		if (sc->opts->select) {
			/* Only without window mode (scan_setup): no buffer or slot to skip. */
			int pick = sc->opts->select(sc->opts->select_ctx, sc->next_index);

			if (pick == RP_PICK_STOP) {
				for (; sc->next_index < sc->chunk_count; sc->next_index++) {
					sc->done_bytes += chunk_len(sc, sc->next_index);
					sc->skipped++;
				}
				break;
			}
			if (pick != RP_PICK_CHECK) {
				sc->done_bytes += chunk_len(sc, sc->next_index);
				sc->skipped++;
				sc->next_index++;
				continue;
			}
		}
		if (!sc->window_mode) {
			*buf = w->own_buf;
		} else if (sc->nfree > 0) {
			*buf = sc->pool_free[--sc->nfree];
		} else {
			pthread_cond_wait(&sc->work_cv, &sc->lock);
			continue;
		}
		*index = sc->next_index++;
		ok = true;
		break;
	}
	pthread_mutex_unlock(&sc->lock);
	return ok;
}

static void thread_finished(struct scan *sc)
{
	pthread_mutex_lock(&sc->lock);
	sc->running--;
	pthread_cond_signal(&sc->main_cv);
	pthread_mutex_unlock(&sc->lock);
}

static void *worker_main(void *arg)
{
	struct scan_worker *w = arg;
	struct scan *sc = w->scan;
	uint64_t i;
	uint8_t *buf;

	while (next_chunk(w, &i, &buf)) {
		uint8_t state = RP_CHUNK_DATA;
		int rc;

		rc = process_chunk(w, i, buf, &state);
		pthread_mutex_lock(&sc->lock);
		if (rc)
			fail_locked(sc, rc, &w->err);
		else
			sc->done_bytes += chunk_len(sc, i);
		if (sc->window_mode) {
			/* Park the buffer even after an error: the slot keeps it until cleanup. */
			sc->slots[i % sc->pool_size].buf = buf;
			sc->slots[i % sc->pool_size].state = state;
			sc->slots[i % sc->pool_size].ready = true;
			pthread_cond_broadcast(&sc->work_cv);
		}
		pthread_mutex_unlock(&sc->lock);
		if (rc)
			break;
	}
	thread_finished(sc);
	return NULL;
}

/* Feed the piecewise hashes: windows may start and end anywhere inside a chunk. */
static int window_update(struct scan *sc, const uint8_t *data, size_t len)
{
	uint64_t w = sc->opts->hash_window;

	while (len > 0) {
		size_t n = w - sc->window_fill < len ? (size_t)(w - sc->window_fill) : len;

		if (rp_digest_update(sc->window, data, n) != 0)
			return rp_err_set(&sc->digest_err, RP_EIO, "window sha256 update failed");
		data += n;
		len -= n;
		sc->window_fill += n;
		if (sc->window_fill == w) {
			if (rp_digest_final(sc->window, sc->windows + 32 * sc->window_next) != 0)
				return rp_err_set(&sc->digest_err, RP_EIO, "window sha256 failed");
			sc->window_next++;
			sc->window_fill = 0;
		}
	}
	return 0;
}

static int digest_update_all(struct scan *sc, const uint8_t *data, size_t len)
{
	unsigned a;

	for (a = 0; a < RP_DIGEST_COUNT; a++) {
		if (sc->whole[a] && rp_digest_update(sc->whole[a], data, len) != 0)
			return rp_err_set(&sc->digest_err, RP_EIO, "%s update failed",
					  rp_digest_name((enum rp_digest_alg)a));
	}
	return sc->window ? window_update(sc, data, len) : 0;
}

static void *digester_main(void *arg)
{
	struct scan *sc = arg;

	pthread_mutex_lock(&sc->lock);
	while (sc->digest_next < sc->chunk_count) {
		struct scan_slot *slot = &sc->slots[sc->digest_next % sc->pool_size];
		uint64_t len = chunk_len(sc, sc->digest_next);
		const uint8_t *data;
		uint8_t *buf;
		int rc;

		if (sc->stopping)
			break;
		if (!slot->ready) {
			pthread_cond_wait(&sc->work_cv, &sc->lock);
			continue;
		}
		buf = slot->buf;
		/* Unallocated chunks were not read: their bytes are zeros. */
		data = slot->state == RP_CHUNK_UNALLOCATED ? sc->zero_buf : buf;
		pthread_mutex_unlock(&sc->lock);
		rc = digest_update_all(sc, data, (size_t)len);
		pthread_mutex_lock(&sc->lock);
		slot->ready = false;
		slot->buf = NULL;
		sc->pool_free[sc->nfree++] = buf;
		sc->digest_next++;
		pthread_cond_broadcast(&sc->work_cv);
		if (rc) {
			fail_locked(sc, rc, &sc->digest_err);
			break;
		}
	}
	pthread_mutex_unlock(&sc->lock);
	thread_finished(sc);
	return NULL;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Wait for every thread, calling the progress callback about every 200 ms. */
static void coordinate(struct scan *sc)
{
	const struct rp_scan_opts *o = sc->opts;

	pthread_mutex_lock(&sc->lock);
	while (sc->running > 0) {
		struct timespec deadline;
		uint64_t done;

		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_nsec += SCAN_PROGRESS_NS;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		while (sc->running > 0 &&
		       pthread_cond_timedwait(&sc->main_cv, &sc->lock, &deadline) != ETIMEDOUT)
			;
		done = sc->done_bytes;
		if (o->progress && sc->running > 0) {
			pthread_mutex_unlock(&sc->lock);
			o->progress(o->progress_ctx, done, sc->virtual_size);
			pthread_mutex_lock(&sc->lock);
		}
	}
	pthread_mutex_unlock(&sc->lock);
}

static unsigned thread_count(const struct rp_scan_opts *o, uint64_t chunks)
{
	long n = o->threads ? (long)o->threads : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if ((unsigned long)n > SCAN_MAX_THREADS)
		n = SCAN_MAX_THREADS;
	if ((uint64_t)n > chunks)
		n = chunks ? (long)chunks : 1;
	return (unsigned)n;
}

/* Check the options against the image and pick the chunk size. */
static int scan_setup(struct scan *sc, struct rp_err *err)
{
	const struct rp_scan_opts *o = sc->opts;
	const struct rp_seal *e = o->expect;
	unsigned a;
	int rc;

	sc->virtual_size = rp_image_virtual_size(sc->img);
	sc->chunk_size = o->chunk_size ? o->chunk_size : SCAN_DEFAULT_CHUNK;
	if (e) {
		/* Not a usage error: the seal names content, and a disk of another size is not
		 * the disk that was sealed (docs/seal.md, exit 1 as from the command line). */
		if (e->virtual_size != sc->virtual_size)
			return rp_err_set(err, RP_EVERIFY,
					  "seal is for a disk of %" PRIu64
					  " bytes, this image has %" PRIu64,
					  e->virtual_size, sc->virtual_size);
		if (o->chunk_size && o->chunk_size != e->chunk_size)
			return rp_err_set(err, RP_EUSAGE,
					  "chunk size %" PRIu64 " differs from the seal's %" PRIu64,
					  o->chunk_size, e->chunk_size);
		sc->chunk_size = e->chunk_size;
	}
	if (o->whole_digests >> RP_DIGEST_COUNT)
		return rp_err_set(err, RP_EUSAGE, "unknown whole-disk digest in mask 0x%x",
				  o->whole_digests);
	if (o->select && (o->whole_digests || o->hash_window))
		return rp_err_set(err, RP_EUSAGE,
				  "whole-disk digests and hash windows need every chunk, not a "
				  "selection");
	if (o->hash_window) {
		uint64_t n;

		if (o->hash_window % 512 != 0)
			return rp_err_set(err, RP_EUSAGE,
					  "hash window %" PRIu64 " is not a multiple of 512",
					  o->hash_window);
		n = sc->virtual_size / o->hash_window + (sc->virtual_size % o->hash_window != 0);
		if (n > RP_SCAN_MAX_WINDOWS)
			return rp_err_set(err, RP_EUSAGE,
					  "hash window %" PRIu64 " gives %" PRIu64
					  " windows, more than %u",
					  o->hash_window, n, RP_SCAN_MAX_WINDOWS);
		sc->window_count = n;
		sc->windows = calloc(n ? (size_t)n : 1, 32);
		if (!sc->windows)
			return rp_err_set(err, RP_EIO, "out of memory for hash windows");
		rc = rp_digest_new(RP_DIGEST_SHA256, &sc->window, err);
		if (rc)
			return rc;
	}
	rc = rp_seal_new(sc->virtual_size, sc->chunk_size, &sc->result->seal, err);
	if (rc)
		return rc;
	sc->chunk_count = sc->result->seal->chunk_count;
	if (e && e->chunk_count != sc->chunk_count)
		return rp_err_set(err, RP_EUSAGE, "seal has %" PRIu64 " chunks, expected %" PRIu64,
				  e->chunk_count, sc->chunk_count);
	if (rp_image_path(sc->img))
		snprintf(sc->result->seal->source_name, sizeof(sc->result->seal->source_name), "%s",
			 rp_image_path(sc->img));
	snprintf(sc->result->seal->source_format, sizeof(sc->result->seal->source_format), "%s",
		 rp_image_format_name(sc->img));
	sc->hash_chunks = o->chunk_digests || e;
	for (a = 0; a < RP_DIGEST_COUNT; a++) {
		if (!(o->whole_digests & (1u << a)))
			continue;
		rc = rp_digest_new((enum rp_digest_alg)a, &sc->whole[a], err);
		if (rc)
			return rc;
	}
	if (o->expect) {
		sc->mm = calloc(RP_SCAN_MAX_MISMATCHES, sizeof(*sc->mm));
		if (!sc->mm)
			return rp_err_set(err, RP_EIO, "out of memory");
	}
	return 0;
}

/* Allocate chunk buffers: the pool and window, or one per worker. */
static int alloc_buffers(struct scan *sc, struct scan_worker *w, unsigned nthreads,
			 struct rp_err *err)
{
	size_t i;

	if (!sc->window_mode) {
		for (i = 0; i < nthreads; i++) {
			w[i].own_buf = malloc((size_t)sc->chunk_size);
			if (!w[i].own_buf)
				goto oom;
		}
		return 0;
	}
	sc->pool_size = (size_t)nthreads * 2;
	sc->pool_free = calloc(sc->pool_size, sizeof(*sc->pool_free));
	sc->slots = calloc(sc->pool_size, sizeof(*sc->slots));
	sc->zero_buf = calloc(1, (size_t)sc->chunk_size);
	if (!sc->pool_free || !sc->slots || !sc->zero_buf)
		goto oom;
	for (i = 0; i < sc->pool_size; i++) {
		sc->pool_free[i] = malloc((size_t)sc->chunk_size);
		if (!sc->pool_free[i])
			goto oom;
		sc->nfree++;
	}
	return 0;
oom:
	return rp_err_set(err, RP_EIO, "out of memory for chunk buffers of %" PRIu64 " bytes",
			  sc->chunk_size);
}

static void free_buffers(struct scan *sc, struct scan_worker *w, unsigned nthreads)
{
	size_t i;

	for (i = 0; w && i < nthreads; i++)
		free(w[i].own_buf);
	for (i = 0; sc->pool_free && i < sc->nfree; i++)
		free(sc->pool_free[i]);
	/* After an error, buffers may still sit in window slots. */
	for (i = 0; sc->slots && i < sc->pool_size; i++)
		free(sc->slots[i].buf);
	free(sc->pool_free);
	free(sc->slots);
	free(sc->zero_buf);
}

/* Start the digester and the workers, wait for them all; returns the first error. */
static int run_threads(struct scan *sc, struct scan_worker *w, unsigned nthreads)
{
	pthread_t digester;
	bool have_digester = false;
	unsigned i, started = 0;
	struct rp_err terr;
	int rc;

	rp_err_init(&terr);
	if (sc->window_mode) {
		sc->running++;
		rc = pthread_create(&digester, NULL, digester_main, sc);
		if (rc) {
			sc->running--;
			rp_err_errno(&terr, rc, "cannot start the digest thread");
			fail(sc, RP_EIO, &terr);
		} else {
			have_digester = true;
		}
	}
	for (i = 0; i < nthreads; i++) {
		bool stopping;

		w[i].scan = sc;
		rp_err_init(&w[i].err);
		pthread_mutex_lock(&sc->lock);
		stopping = sc->stopping;
		if (!stopping)
			sc->running++;
		pthread_mutex_unlock(&sc->lock);
		if (stopping)
			break;
		rc = pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
		if (rc) {
			pthread_mutex_lock(&sc->lock);
			sc->running--;
			rp_err_errno(&terr, rc, "cannot start worker thread %u", i);
			fail_locked(sc, RP_EIO, &terr);
			pthread_mutex_unlock(&sc->lock);
			break;
		}
		started++;
	}
	coordinate(sc);
	for (i = 0; i < started; i++)
		pthread_join(w[i].thread, NULL);
	if (have_digester)
		pthread_join(digester, NULL);
	return sc->error;
}

static void collect(struct scan *sc, struct scan_worker *w, unsigned nthreads)
{
	struct rp_scan_result *r = sc->result;
	struct rp_seal *s = r->seal;
	unsigned i;

	for (i = 0; i < nthreads; i++) {
		r->bytes_read += w[i].bytes_read;
		r->bytes_skipped += w[i].bytes_skipped;
		r->chunks_compared += w[i].compared;
	}
	r->chunks_skipped = sc->skipped;
	if (sc->window && sc->window_fill > 0 &&
	    rp_digest_final(sc->window, sc->windows + 32 * sc->window_next) == 0) {
		sc->window_next++;
		sc->window_fill = 0;
	}
	if (sc->window && sc->window_next == sc->window_count) {
		r->windows = sc->windows;
		r->window_count = sc->window_count;
		sc->windows = NULL;
	}
	r->mismatch_count = sc->mm_total;
	if (sc->mm_len)
		qsort(sc->mm, sc->mm_len, sizeof(*sc->mm), mm_cmp);
	r->mismatches = sc->mm;
	sc->mm = NULL;
	for (i = 0; i < RP_DIGEST_COUNT; i++) {
		if (!sc->whole[i] || rp_digest_final(sc->whole[i], r->whole[i]) != 0)
			continue;
		r->whole_done[i] = true;
	}
	s->has_sha256 = r->whole_done[RP_DIGEST_SHA256];
	s->has_md5 = r->whole_done[RP_DIGEST_MD5];
	s->has_sha1 = r->whole_done[RP_DIGEST_SHA1];
	memcpy(s->sha256, r->whole[RP_DIGEST_SHA256], sizeof(s->sha256));
	memcpy(s->md5, r->whole[RP_DIGEST_MD5], sizeof(s->md5));
	memcpy(s->sha1, r->whole[RP_DIGEST_SHA1], sizeof(s->sha1));
}

int rp_scan_run(struct rp_image *img, const struct rp_scan_opts *opts,
		struct rp_scan_result *result, struct rp_err *err)
{
	struct scan sc;
	struct scan_worker *w = NULL;
	pthread_condattr_t ca;
	struct timespec t0;
	unsigned nthreads = 0, a;
	int rc;

	memset(result, 0, sizeof(*result));
	memset(&sc, 0, sizeof(sc));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sc.img = img;
	sc.opts = opts;
	sc.result = result;
	rp_err_init(&sc.first_err);
	rp_err_init(&sc.digest_err);
	rc = scan_setup(&sc, err);
	if (rc)
		goto out_setup;
	nthreads = thread_count(opts, sc.chunk_count);
	sc.window_mode = opts->whole_digests != 0 || opts->hash_window != 0;
	w = calloc(nthreads, sizeof(*w));
	if (!w) {
		rc = rp_err_set(err, RP_EIO, "out of memory");
		goto out_setup;
	}
	rc = alloc_buffers(&sc, w, nthreads, err);
	if (rc)
		goto out_buffers;
	pthread_mutex_init(&sc.lock, NULL);
	pthread_cond_init(&sc.work_cv, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sc.main_cv, &ca);
	pthread_condattr_destroy(&ca);

	rc = run_threads(&sc, w, nthreads);
	if (rc) {
		if (err)
			*err = sc.first_err;
	} else {
		collect(&sc, w, nthreads);
		if (opts->progress)
			opts->progress(opts->progress_ctx, sc.done_bytes, sc.virtual_size);
	}
	pthread_cond_destroy(&sc.main_cv);
	pthread_cond_destroy(&sc.work_cv);
	pthread_mutex_destroy(&sc.lock);
out_buffers:
	free_buffers(&sc, w, nthreads);
	free(w);
out_setup:
	for (a = 0; a < RP_DIGEST_COUNT; a++)
		rp_digest_free(sc.whole[a]);
	rp_digest_free(sc.window);
	free(sc.windows);
	free(sc.mm);
	result->seconds = seconds_since(&t0);
	return rc;
}

void rp_scan_result_release(struct rp_scan_result *result)
{
	if (!result)
		return;
	rp_seal_free(result->seal);
	free(result->mismatches);
	free(result->windows);
	memset(result, 0, sizeof(*result));
}
