/*
 * Tests of verify/pipeline.c through its async API, driven here as restore/fetch.c drives it:
 * chunks handed out in order, some as holes, filled from memory, checked by workers (with a
 * source check that fails a chunk's first attempt), retried, committed out of order. The
 * whole-disk digest must equal one-shot hashing of the bytes (holes as zeros), and mismatches
 * recorded in any order come out by chunk index. Also the random-access chunk check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "verify/digest.h"
#include "verify/pipeline.h"

#define CS 4096u
#define N 40u

struct drv {
	uint8_t data[N * CS]; /* the disk: holes are zeros */
	bool hole[N];
	unsigned attempts[N];
	unsigned checks; /* atomic */
};

/* Fail the first attempt of every seventh chunk, as a transport hash would. */
static int src_check(void *ctx, struct rp_pipe_slot *s, struct rp_err *err)
{
	struct drv *d = ctx;

	__atomic_add_fetch(&d->checks, 1, __ATOMIC_RELAXED);
	if (s->chunk % 7 == 3 && d->attempts[s->chunk] == 0)
		return rp_err_set_reason(err, RP_EVERIFY, RP_R_TRANSPORT_HASH, "crc64 mismatch");
	return 0;
}

struct collect_ctx {
	struct rp_pipe *p;
	struct drv *d;
	unsigned retried;
};

static void collect(void *ctx, struct rp_pipe_slot *s)
{
	struct collect_ctx *c = ctx;

	if (s->check_rc) {
		assert_int_equal(s->check_rc, RP_EVERIFY);
		assert_int_equal(s->check_err.reason, RP_R_TRANSPORT_HASH);
		c->d->attempts[s->chunk]++;
		c->retried++;
		rp_pipe_set(c->p, s, RP_SLOT_WAIT);
		rp_pipe_set(c->p, s, RP_SLOT_FILL);
		memcpy(s->buf, c->d->data + s->off, s->len);
		rp_pipe_set(c->p, s, RP_SLOT_CHECK_Q);
		return;
	}
	rp_pipe_commit(c->p, s);
}

static void test_async_digest_and_retry(void **state)
{
	struct drv *d = calloc(1, sizeof(*d));
	struct rp_pipe_opts o = {0};
	struct collect_ctx c = {0};
	struct rp_pipe_result r;
	struct rp_pipe *p = NULL;
	struct rp_err err;
	uint8_t want[32];
	unsigned i;

	(void)state;
	assert_non_null(d);
	srand(7);
	for (i = 0; i < N * CS; i++)
		d->data[i] = (uint8_t)rand();
	for (i = 0; i < N; i += 5) {
		d->hole[i] = true;
		memset(d->data + i * CS, 0, CS);
	}
	o.size = (uint64_t)N * CS - 100; /* a short last chunk */
	o.chunk_size = CS;
	o.workers = 3;
	o.slots = 4;
	o.hash_chunks = true;
	o.whole_digests = 1u << RP_DIGEST_SHA256;
	o.hash_window = 8192;
	o.on_mismatch = RP_MM_VERDICT;
	o.check = src_check;
	o.src_ctx = d;
	rp_err_init(&err);
	assert_int_equal(rp_pipe_new(&o, &p, &err), 0);
	assert_int_equal(rp_pipe_start(p, &err), 0);
	c.p = p;
	c.d = d;
	while (!rp_pipe_done(p)) {
		uint64_t next = rp_pipe_next(p);

		if (next < N && d->hole[next]) {
			assert_int_equal(rp_pipe_hole(p, &err), 0);
		} else if (next < N) {
			struct rp_pipe_slot *s = rp_pipe_take(p);

			if (s) {
				assert_int_equal(s->chunk, next);
				memcpy(s->buf, d->data + s->off, s->len);
				rp_pipe_set(p, s, RP_SLOT_CHECK_Q);
			}
		}
		rp_pipe_each_checked(p, collect, &c);
		usleep(100);
	}
	rp_pipe_stop(p);
	assert_int_equal(rp_pipe_failed(p, &err), 0);
	assert_int_equal(rp_pipe_finish(p, &r, &err), 0);
	assert_true(c.retried >= 5);
	assert_true(r.whole_done[RP_DIGEST_SHA256]);
	assert_int_equal(rp_sha256(d->data, (size_t)o.size, want), 0);
	assert_memory_equal(r.whole[RP_DIGEST_SHA256], want, 32);
	assert_int_equal(r.window_count, (o.size + 8191) / 8192);
	assert_int_equal(rp_sha256(d->data + 8192, 8192, want), 0);
	assert_memory_equal(r.windows + 32, want, 32);
	for (i = 0; i < N; i++)
		assert_int_equal(rp_seal_chunk_state(r.seal, i),
				 d->hole[i] ? RP_CHUNK_UNALLOCATED : RP_CHUNK_DATA);
	rp_pipe_result_release(&r);
	rp_pipe_free(p);
	free(d);
}

/* Mismatches recorded in any order come out sorted by index, the lowest ones kept. */
static void test_mismatches_by_index(void **state)
{
	struct rp_seal *seal = NULL;
	struct rp_pipe_opts o = {0};
	struct rp_pipe_result r;
	struct rp_pipe *p = NULL;
	struct rp_pipe_slot s;
	const uint64_t n = RP_SCAN_MAX_MISMATCHES + 500;
	struct rp_err err;
	uint64_t i;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_seal_new(n * CS, CS, &seal, &err), 0);
	for (i = 0; i < n; i++) {
		struct rp_seal_chunk c = {.state = RP_CHUNK_DATA};

		assert_int_equal(rp_seal_chunk_set(seal, i, &c, &err), 0);
	}
	o.size = n * CS;
	o.chunk_size = CS;
	o.expect = seal;
	o.on_mismatch = RP_MM_VERDICT;
	o.keep_going = true;
	assert_int_equal(rp_pipe_new(&o, &p, &err), 0);
	memset(&s, 0, sizeof(s));
	for (i = 0; i < n; i++) {
		s.chunk = n - 1 - i; /* the highest first, as a slow first chunk would */
		s.actual.state = RP_CHUNK_ZERO;
		rp_pipe_mismatch(p, &s);
	}
	rp_pipe_fail(p, &err); /* a run cut short still gives its mismatches */
	assert_int_not_equal(rp_pipe_finish(p, &r, NULL), 0);
	assert_int_equal(r.mismatch_count, n);
	for (i = 0; i < RP_SCAN_MAX_MISMATCHES; i++)
		assert_int_equal(r.mismatches[i].index, i);
	rp_pipe_result_release(&r);
	rp_pipe_free(p);
	rp_seal_free(seal);
}

static void test_chunk_verify(void **state)
{
	uint8_t buf[CS];
	struct rp_seal *seal = NULL;
	struct rp_seal_chunk got;
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(rp_seal_new(2 * CS, CS, &seal, &err), 0);
	got.state = RP_CHUNK_DATA;
	assert_int_equal(rp_sha256(buf, sizeof(buf), got.sha256), 0);
	assert_int_equal(rp_seal_chunk_set(seal, 0, &got, &err), 0);
	assert_int_equal(rp_chunk_verify(seal, 0, buf, sizeof(buf), &got, &err), 0);
	assert_int_equal(got.state, RP_CHUNK_DATA);
	assert_int_equal(rp_chunk_verify(seal, 1, buf, sizeof(buf), &got, &err), RP_EVERIFY);
	assert_int_equal(err.reason, RP_R_SEAL_MISMATCH);
	assert_string_equal(err.msg, "chunk 1 at 0x1000: sha256 mismatch with the seal");
	memset(buf, 0, sizeof(buf));
	assert_int_equal(rp_chunk_verify(seal, 1, buf, sizeof(buf), &got, &err), 0);
	assert_int_equal(got.state, RP_CHUNK_ZERO);
	rp_seal_free(seal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_async_digest_and_retry),
	    cmocka_unit_test(test_mismatches_by_index),
	    cmocka_unit_test(test_chunk_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
