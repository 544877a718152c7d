/*
 * Tests of verify/scan.c over raw image files made here: random data with chunks of explicit
 * zeros and holes. Chunk digests are checked against rp_sha256 of the test's own copy of the
 * bytes, whole-disk digests against one-shot hashing, and 1, 2 and 4 threads must agree.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "common/util.h"
#include "formats/image.h"
#include "formats/seal.h"
#include "verify/digest.h"
#include "verify/scan.h"

#define CS 16384u

struct fixture {
	char dir[4096];
	char path[4200];
	uint8_t *data; /* the image's bytes (holes are zeros) */
	uint64_t size, cs, count;
	uint8_t *state; /* expected state per chunk */
	struct rp_image *img;
};

/* Chunk k's kind in the generated image: data, explicit zeros, or a hole; the last is data. */
static uint8_t layout(uint64_t k, uint64_t count)
{
	if (k + 1 == count)
		return RP_CHUNK_DATA;
	if (k % 7 == 2)
		return RP_CHUNK_UNALLOCATED;
	if (k % 5 == 1)
		return RP_CHUNK_ZERO;
	return RP_CHUNK_DATA;
}

static void make_image(struct fixture *f, uint64_t cs, uint64_t full_chunks, uint64_t tail)
{
	struct rp_err err;
	uint64_t k;
	off_t data;
	int fd;

	memset(f, 0, sizeof(*f));
	unit_tmpdir(f->dir, sizeof(f->dir), "test_scan");
	snprintf(f->path, sizeof(f->path), "%s/disk.raw", f->dir);
	f->cs = cs;
	f->size = full_chunks * cs + tail;
	f->count = rp_seal_chunks_for(f->size, cs);
	f->data = calloc(1, (size_t)f->size);
	f->state = calloc(1, (size_t)f->count);
	assert_non_null(f->data);
	assert_non_null(f->state);
	rp_err_init(&err);
	fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)f->size), 0);
	for (k = 0; k < f->count; k++) {
		uint64_t off = k * cs, len = f->size - off < cs ? f->size - off : cs;

		f->state[k] = layout(k, f->count);
		if (f->state[k] == RP_CHUNK_UNALLOCATED)
			continue;
		if (f->state[k] == RP_CHUNK_DATA)
			assert_int_equal(rp_random_bytes(f->data + off, (size_t)len, &err), 0);
		assert_int_equal(pwrite(fd, f->data + off, (size_t)len, (off_t)off), (ssize_t)len);
	}
	/* Without hole support in the file system, holes read as allocated zeros. */
	data = lseek(fd, (off_t)(2 * cs), SEEK_DATA);
	for (k = 0; f->count > 3 && data == (off_t)(2 * cs) && k < f->count; k++)
		if (f->state[k] == RP_CHUNK_UNALLOCATED)
			f->state[k] = RP_CHUNK_ZERO;
	close(fd);
	assert_int_equal(rp_image_open(f->path, NULL, &f->img, &err), 0);
	assert_int_equal(rp_image_virtual_size(f->img), f->size);
}

static void free_image(struct fixture *f)
{
	rp_image_free(f->img);
	unlink(f->path);
	rmdir(f->dir);
	free(f->data);
	free(f->state);
}

static uint64_t chunk_len(const struct fixture *f, uint64_t k)
{
	uint64_t off = k * f->cs;

	return f->size - off < f->cs ? f->size - off : f->cs;
}

/* Check result->seal against the fixture's own bytes. */
static void check_chunks(const struct fixture *f, const struct rp_seal *s)
{
	uint64_t k;

	assert_int_equal(s->virtual_size, f->size);
	assert_int_equal(s->chunk_size, f->cs);
	assert_int_equal(s->chunk_count, f->count);
	assert_string_equal(s->source_format, "raw");
	assert_string_equal(s->source_name, f->path);
	for (k = 0; k < f->count; k++) {
		uint8_t want[32];
		struct rp_seal_chunk c;

		rp_seal_chunk_get(s, k, &c);
		if (c.state != f->state[k])
			fail_msg("chunk %llu: state %u, expected %u", (unsigned long long)k,
				 c.state, f->state[k]);
		if (f->state[k] != RP_CHUNK_DATA)
			continue;
		assert_int_equal(rp_sha256(f->data + k * f->cs, (size_t)chunk_len(f, k), want), 0);
		assert_memory_equal(c.sha256, want, 32);
	}
}

static void test_chunk_digests(void **state)
{
	static const unsigned threads[] = {1, 2, 4};
	struct rp_seal *first = NULL;
	struct fixture f;
	size_t t;

	(void)state;
	/* 40 full chunks and a short one of 5000 bytes */
	make_image(&f, CS, 40, 5000);
	for (t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		struct rp_scan_opts o = {
		    .chunk_size = CS, .threads = threads[t], .chunk_digests = true};
		struct rp_scan_result r;
		struct rp_err err;
		uint64_t skipped = 0, k;

		rp_err_init(&err);
		assert_int_equal(rp_scan_run(f.img, &o, &r, &err), 0);
		check_chunks(&f, r.pipe.seal);
		for (k = 0; k < f.count; k++)
			if (f.state[k] == RP_CHUNK_UNALLOCATED)
				skipped += chunk_len(&f, k);
		assert_int_equal(r.bytes_skipped, skipped);
		assert_int_equal(r.bytes_read + r.bytes_skipped, f.size);
		assert_int_equal(r.pipe.chunks_compared, 0);
		assert_int_equal(r.pipe.mismatch_count, 0);
		assert_false(r.pipe.whole_done[RP_DIGEST_SHA256]);
		assert_false(r.pipe.seal->has_sha256);
		assert_true(r.seconds >= 0);
		if (!first) {
			first = r.pipe.seal;
			r.pipe.seal = NULL;
		} else {
			assert_true(rp_seal_chunks_equal(first, r.pipe.seal));
		}
		rp_scan_result_release(&r);
	}
	rp_seal_free(first);
	free_image(&f);
}

static void one_shot(const uint8_t *data, size_t len, enum rp_digest_alg alg, uint8_t *out)
{
	struct rp_digest *d = NULL;

	assert_int_equal(rp_digest_new(alg, &d, NULL), 0);
	assert_int_equal(rp_digest_update(d, data, len), 0);
	assert_int_equal(rp_digest_final(d, out), 0);
	rp_digest_free(d);
}

static void test_whole_digests(void **state)
{
	static const unsigned threads[] = {1, 2, 4};
	uint8_t want[RP_DIGEST_COUNT][RP_DIGEST_MAX];
	struct fixture f;
	size_t t;
	unsigned a;

	(void)state;
	make_image(&f, 4096, 300, 512);
	for (a = 0; a < RP_DIGEST_COUNT; a++)
		one_shot(f.data, (size_t)f.size, (enum rp_digest_alg)a, want[a]);
	for (t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		/* with and without chunk digests; sha256 alone, and all three */
		for (a = 0; a < 2; a++) {
			struct rp_scan_opts o = {.chunk_size = 4096,
						 .threads = threads[t],
						 .chunk_digests = a == 1,
						 .whole_digests = a == 1 ? 7u : 1u};
			struct rp_scan_result r;
			struct rp_err err;

			rp_err_init(&err);
			if (rp_scan_run(f.img, &o, &r, &err) != 0)
				fail_msg("%s", err.msg);
			assert_true(r.pipe.whole_done[RP_DIGEST_SHA256]);
			assert_memory_equal(r.pipe.whole[RP_DIGEST_SHA256], want[RP_DIGEST_SHA256],
					    32);
			assert_true(r.pipe.seal->has_sha256);
			assert_memory_equal(r.pipe.seal->sha256, want[RP_DIGEST_SHA256], 32);
			assert_int_equal(r.pipe.whole_done[RP_DIGEST_MD5], a == 1);
			assert_int_equal(r.pipe.whole_done[RP_DIGEST_SHA1], a == 1);
			if (a == 1) {
				assert_memory_equal(r.pipe.whole[RP_DIGEST_MD5],
						    want[RP_DIGEST_MD5], 16);
				assert_memory_equal(r.pipe.seal->md5, want[RP_DIGEST_MD5], 16);
				assert_memory_equal(r.pipe.whole[RP_DIGEST_SHA1],
						    want[RP_DIGEST_SHA1], 20);
				assert_memory_equal(r.pipe.seal->sha1, want[RP_DIGEST_SHA1], 20);
				check_chunks(&f, r.pipe.seal);
			}
			rp_scan_result_release(&r);
		}
	}
	free_image(&f);
}

static void test_default_chunk_size(void **state)
{
	struct rp_scan_opts o = {.chunk_digests = true, .whole_digests = 1u << RP_DIGEST_MD5};
	struct rp_scan_result r;
	struct rp_err err;
	struct fixture f;
	uint8_t want[16];

	(void)state;
	make_image(&f, CS, 3, 100);
	one_shot(f.data, (size_t)f.size, RP_DIGEST_MD5, want);
	rp_err_init(&err);
	assert_int_equal(rp_scan_run(f.img, &o, &r, &err), 0);
	assert_int_equal(r.pipe.seal->chunk_size, 4u << 20);
	assert_int_equal(r.pipe.seal->chunk_count, 1);
	assert_int_equal(rp_seal_chunk_state(r.pipe.seal, 0), RP_CHUNK_DATA);
	assert_memory_equal(r.pipe.whole[RP_DIGEST_MD5], want, 16);
	rp_scan_result_release(&r);
	free_image(&f);
}

/* Scan once to get the seal the image matches. */
static struct rp_seal *seal_of(struct fixture *f)
{
	struct rp_scan_opts o = {.chunk_size = f->cs, .threads = 2, .chunk_digests = true};
	struct rp_scan_result r;
	struct rp_seal *s;

	assert_int_equal(rp_scan_run(f->img, &o, &r, NULL), 0);
	s = r.pipe.seal;
	r.pipe.seal = NULL;
	rp_scan_result_release(&r);
	return s;
}

static void test_compare(void **state)
{
	static const unsigned threads[] = {1, 2, 4};
	struct rp_seal_chunk want3;
	struct rp_seal *s;
	struct fixture f;
	size_t t;

	(void)state;
	make_image(&f, CS, 20, 4096);
	s = seal_of(&f);
	assert_int_equal(f.state[3], RP_CHUNK_DATA);
	assert_int_equal(f.state[6], RP_CHUNK_ZERO);
	assert_int_equal(f.state[9], RP_CHUNK_UNALLOCATED);
	{
		struct rp_seal_chunk c;

		rp_seal_chunk_get(s, 3, &c);
		c.sha256[31] ^= 1; /* a changed digest */
		assert_int_equal(rp_seal_chunk_set(s, 3, &c, NULL), 0);
		rp_seal_chunk_get(s, 6, &c);
		c.state = RP_CHUNK_DATA; /* a zero chunk that was sealed as data */
		assert_int_equal(rp_seal_chunk_set(s, 6, &c, NULL), 0);
		/* zero and unallocated are interchangeable: not a mismatch */
		c.state = RP_CHUNK_ZERO;
		assert_int_equal(rp_seal_chunk_set(s, 9, &c, NULL), 0);
		rp_seal_chunk_get(s, 3, &want3);
	}
	for (t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		struct rp_scan_opts o = {.threads = threads[t], .expect = s};
		struct rp_scan_result r;
		struct rp_err err;
		const struct rp_scan_mismatch *m;

		rp_err_init(&err);
		assert_int_equal(rp_scan_run(f.img, &o, &r, &err), 0);
		assert_int_equal(r.pipe.seal->chunk_size, CS);
		assert_int_equal(r.pipe.chunks_compared, f.count);
		assert_int_equal(r.pipe.mismatch_count, 2);
		m = &r.pipe.mismatches[0];
		assert_int_equal(m->index, 3);
		assert_int_equal(m->offset, 3 * CS);
		assert_int_equal(m->length, CS);
		assert_int_equal(m->expected_state, RP_CHUNK_DATA);
		assert_int_equal(m->actual_state, RP_CHUNK_DATA);
		assert_memory_equal(m->expected, want3.sha256, 32);
		assert_int_equal(m->expected[31] ^ 1, m->actual[31]);
		m = &r.pipe.mismatches[1];
		assert_int_equal(m->index, 6);
		assert_int_equal(m->expected_state, RP_CHUNK_DATA);
		assert_int_equal(m->actual_state, RP_CHUNK_ZERO);
		rp_scan_result_release(&r);
	}
	rp_seal_free(s);
	free_image(&f);
}

/* More mismatches than are kept: the count is exact and the lowest indices are kept, sorted. */
static void test_many_mismatches(void **state)
{
	struct rp_scan_opts o = {.threads = 4};
	struct rp_scan_result r;
	struct rp_seal *s = NULL;
	struct rp_err err;
	struct fixture f;
	size_t k;

	(void)state;
	make_image(&f, 4096, RP_SCAN_MAX_MISMATCHES + 200, 0);
	rp_err_init(&err);
	/* all entries DATA with a zero digest: every chunk mismatches */
	assert_int_equal(rp_seal_new(f.size, 4096, &s, &err), 0);
	for (k = 0; k < f.count; k++) {
		struct rp_seal_chunk c = {.state = RP_CHUNK_DATA};

		assert_int_equal(rp_seal_chunk_set(s, k, &c, &err), 0);
	}
	o.expect = s;
	assert_int_equal(rp_scan_run(f.img, &o, &r, &err), 0);
	assert_int_equal(r.pipe.mismatch_count, f.count);
	for (k = 0; k < RP_SCAN_MAX_MISMATCHES; k++)
		assert_int_equal(r.pipe.mismatches[k].index, k);
	rp_scan_result_release(&r);
	rp_seal_free(s);
	free_image(&f);
}

static void test_usage_errors(void **state)
{
	struct rp_seal *s = NULL;
	struct fixture f;
	struct rp_err err;
	struct {
		uint64_t chunk_size;
		uint64_t seal_size;
		unsigned whole;
		int code;
		const char *msg;
	} cases[] = {
	    {0, 999, 0, RP_EVERIFY, "seal is for a disk of 999 bytes, this image has 69632"},
	    {8192, 69632, 0, RP_EUSAGE, "chunk size 8192 differs from the seal's 16384"},
	    {1000, 0, 0, RP_EUSAGE, "chunk size 1000 is not a multiple of 512"},
	    {0, 0, 8, RP_EUSAGE, "unknown whole-disk digest in mask 0x8"},
	};
	size_t i;

	(void)state;
	make_image(&f, CS, 4, 4096);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_scan_opts o = {.chunk_size = cases[i].chunk_size,
					 .whole_digests = cases[i].whole};
		struct rp_scan_result r;

		rp_err_init(&err);
		if (cases[i].seal_size) {
			assert_int_equal(rp_seal_new(cases[i].seal_size, CS, &s, &err), 0);
			o.expect = s;
		}
		assert_int_equal(rp_scan_run(f.img, &o, &r, &err), cases[i].code);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: '%s'", i, err.msg);
		rp_scan_result_release(&r);
		rp_seal_free(s);
		s = NULL;
	}
	free_image(&f);
}

/* A sink that records what it saw, fails at one chunk, or raises the stop flag. */
struct sink_ctx {
	const struct fixture *f;
	uint64_t fail_at; /* UINT64_MAX: never */
	uint64_t stop_at; /* UINT64_MAX: never */
	volatile sig_atomic_t *stop;
	uint8_t *seen; /* per chunk: 1 + state */
	unsigned calls;
};

static int record_sink(void *ctx, uint64_t index, uint64_t offset, const uint8_t *data, size_t len,
		       enum rp_chunk_state st, struct rp_err *err)
{
	struct sink_ctx *c = ctx;
	const struct fixture *f = c->f;

	__atomic_fetch_add(&c->calls, 1, __ATOMIC_RELAXED);
	if (index == c->stop_at)
		__atomic_store_n(c->stop, 1, __ATOMIC_RELAXED);
	if (index == c->fail_at)
		return rp_err_set(err, RP_EIO, "disk full");
	if (offset != index * f->cs || len != chunk_len(f, index) || c->seen[index])
		return rp_err_set(err, RP_EUSAGE, "bad call");
	if ((st == RP_CHUNK_DATA) != (data != NULL))
		return rp_err_set(err, RP_EUSAGE, "data pointer does not match the state");
	if (data && memcmp(data, f->data + offset, len) != 0)
		return rp_err_set(err, RP_EUSAGE, "wrong bytes");
	c->seen[index] = (uint8_t)(1 + st);
	return 0;
}

struct progress_ctx {
	unsigned calls;
	uint64_t last_done, total;
};

static void record_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct progress_ctx *p = ctx;

	p->calls++;
	p->last_done = done;
	p->total = total;
}

static void test_sink_and_progress(void **state)
{
	struct fixture f;
	unsigned threads;

	(void)state;
	make_image(&f, CS, 30, 3000);
	for (threads = 1; threads <= 4; threads *= 2) {
		struct sink_ctx c = {.f = &f, .fail_at = UINT64_MAX, .stop_at = UINT64_MAX};
		struct progress_ctx p = {0};
		struct rp_scan_opts o = {.chunk_size = CS,
					 .threads = threads,
					 .whole_digests = 1,
					 .sink = record_sink,
					 .sink_ctx = &c,
					 .progress = record_progress,
					 .progress_ctx = &p};
		struct rp_scan_result r;
		struct rp_err err;
		uint64_t k;

		c.seen = calloc(1, (size_t)f.count);
		assert_non_null(c.seen);
		rp_err_init(&err);
		if (rp_scan_run(f.img, &o, &r, &err) != 0)
			fail_msg("%s", err.msg);
		assert_int_equal(c.calls, f.count);
		for (k = 0; k < f.count; k++)
			assert_int_equal(c.seen[k], 1 + f.state[k]);
		assert_true(p.calls >= 1);
		assert_int_equal(p.last_done, f.size);
		assert_int_equal(p.total, f.size);
		rp_scan_result_release(&r);
		free(c.seen);
	}
	free_image(&f);
}

static void test_sink_error(void **state)
{
	struct fixture f;
	unsigned threads, whole;

	(void)state;
	make_image(&f, CS, 30, 0);
	for (threads = 1; threads <= 4; threads *= 2) {
		for (whole = 0; whole < 2; whole++) {
			struct sink_ctx c = {.f = &f, .fail_at = 3, .stop_at = UINT64_MAX};
			struct rp_scan_opts o = {.chunk_size = CS,
						 .threads = threads,
						 .whole_digests = whole,
						 .chunk_digests = true,
						 .sink = record_sink,
						 .sink_ctx = &c};
			struct rp_scan_result r;
			struct rp_err err;

			c.seen = calloc(1, (size_t)f.count);
			assert_non_null(c.seen);
			rp_err_init(&err);
			assert_int_equal(rp_scan_run(f.img, &o, &r, &err), RP_EIO);
			assert_string_equal(err.msg, "chunk 3 at 0xc000: disk full");
			assert_int_equal(err.code, RP_EIO);
			assert_false(r.pipe.whole_done[RP_DIGEST_SHA256]);
			rp_scan_result_release(&r);
			free(c.seen);
		}
	}
	free_image(&f);
}

static void test_read_error(void **state)
{
	struct rp_scan_opts o = {.chunk_size = CS, .threads = 2, .whole_digests = 1};
	struct rp_scan_result r;
	struct rp_err err;
	struct fixture f;

	(void)state;
	make_image(&f, CS, 12, 0);
	assert_int_equal(f.state[4], RP_CHUNK_DATA);
	/* The file shrinks after opening: chunk 4 is cut short. */
	assert_int_equal(truncate(f.path, 4 * CS + 100), 0);
	rp_err_init(&err);
	assert_int_equal(rp_scan_run(f.img, &o, &r, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "chunk 4 at 0x10000: "));
	rp_scan_result_release(&r);
	free_image(&f);
}

static void test_stop(void **state)
{
	struct fixture f;
	unsigned threads;

	(void)state;
	make_image(&f, CS, 30, 0);
	for (threads = 1; threads <= 4; threads *= 2) {
		volatile sig_atomic_t stop = 0;
		struct sink_ctx c = {.f = &f, .fail_at = UINT64_MAX, .stop_at = 2, .stop = &stop};
		struct rp_scan_opts o = {.chunk_size = CS,
					 .threads = threads,
					 .whole_digests = 1,
					 .sink = record_sink,
					 .sink_ctx = &c,
					 .stop = &stop};
		struct rp_scan_result r;
		struct rp_err err;

		c.seen = calloc(1, (size_t)f.count);
		assert_non_null(c.seen);
		rp_err_init(&err);
		assert_int_equal(rp_scan_run(f.img, &o, &r, &err), RP_EINTR);
		assert_string_equal(err.msg, "interrupted");
		/* every worker stops after its current chunk */
		assert_true(c.calls < f.count);
		rp_scan_result_release(&r);
		free(c.seen);

		/* a flag raised before the start stops before the first chunk */
		c.calls = 0;
		c.seen = calloc(1, (size_t)f.count);
		assert_non_null(c.seen);
		assert_int_equal(rp_scan_run(f.img, &o, &r, &err), RP_EINTR);
		assert_int_equal(c.calls, 0);
		rp_scan_result_release(&r);
		free(c.seen);
	}
	free_image(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chunk_digests),      cmocka_unit_test(test_whole_digests),
	    cmocka_unit_test(test_default_chunk_size), cmocka_unit_test(test_compare),
	    cmocka_unit_test(test_many_mismatches),    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_sink_and_progress),  cmocka_unit_test(test_sink_error),
	    cmocka_unit_test(test_read_error),	       cmocka_unit_test(test_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
