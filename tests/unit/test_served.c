/*
 * nbd/served.h, the core of the nbdkit plugin, without nbdkit (so the sanitizer build runs
 * it): a local raw disk with a seal reads back its bytes from many threads at once through a
 * cache of two chunks (which never grows past them); a chunk the seal records as zeros reads as
 * zeros without a fetch and is a zero extent; a chunk changed in the file fails its read with
 * RP_EVERIFY, reason seal mismatch, after the retries (each logged), while the others still
 * read; no seal is RP_EUSAGE unless unverified; reads past the end are RP_EUSAGE.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "nbd/served.h"
#include "verify/digest.h"

#define CS 65536u
#define NCHUNK 6
#define SIZE (NCHUNK * CS - 512) /* the last chunk is short */

static char dir[4096], disk[4200], sealp[4200];
static uint8_t *bytes;

static void write_fixture(void)
{
	char *json;
	size_t cap = 4096 + NCHUNK * 80, n;
	uint8_t whole[32];
	unsigned i, k;
	FILE *f;

	unit_tmpdir(dir, sizeof(dir), "served");
	snprintf(disk, sizeof(disk), "%s/disk.raw", dir);
	snprintf(sealp, sizeof(sealp), "%s/seal.json", dir);
	bytes = calloc(1, SIZE);
	assert_non_null(bytes);
	srand(15);
	for (i = 0; i < SIZE; i++)
		bytes[i] = (uint8_t)rand();
	memset(bytes + CS, 0, CS); /* chunk 1: zeros */
	unit_write(disk, bytes, SIZE);
	json = malloc(cap);
	assert_non_null(json);
	n = (size_t)snprintf(
	    json, cap,
	    "{\"format\": \"cvmrestore-seal\", \"version\": 1, \"tool\": \"test\", "
	    "\"created\": \"2026-12-06T00:00:00Z\", \"source\": {\"name\": "
	    "\"disk.raw\", \"format\": \"raw\", \"virtual_size\": %u}, "
	    "\"chunk_size\": %u, \"chunk_count\": %u, \"chunks\": [",
	    SIZE, CS, NCHUNK);
	for (i = 0; i < NCHUNK; i++) {
		uint8_t d[32];
		size_t len = i == NCHUNK - 1 ? SIZE - i * CS : CS;

		if (i == 1) {
			n += (size_t)snprintf(json + n, cap - n, "\"zero\",");
			continue;
		}
		assert_int_equal(rp_sha256(bytes + (size_t)i * CS, len, d), 0);
		n += (size_t)snprintf(json + n, cap - n, "\"");
		for (k = 0; k < 32; k++)
			n += (size_t)snprintf(json + n, cap - n, "%02x", d[k]);
		n += (size_t)snprintf(json + n, cap - n, "\"%s", i + 1 < NCHUNK ? "," : "");
	}
	assert_int_equal(rp_sha256(bytes, SIZE, whole), 0);
	n += (size_t)snprintf(json + n, cap - n, "], \"digests\": {\"sha256\": \"");
	for (k = 0; k < 32; k++)
		n += (size_t)snprintf(json + n, cap - n, "%02x", whole[k]);
	n += (size_t)snprintf(json + n, cap - n, "\"}}\n");
	f = fopen(sealp, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(json, 1, n, f), n);
	fclose(f);
	free(json);
}

struct logs {
	pthread_mutex_t mu;
	unsigned warn, error;
	char last[2048];
};

static void on_log(void *ctx, enum rp_served_log level, const char *msg)
{
	struct logs *l = ctx;

	pthread_mutex_lock(&l->mu);
	if (level == RP_SERVED_LOG_WARN)
		l->warn++;
	if (level == RP_SERVED_LOG_ERROR)
		l->error++;
	snprintf(l->last, sizeof(l->last), "%s", msg);
	pthread_mutex_unlock(&l->mu);
}

static struct rp_net_opts net;
static struct logs logs = {.mu = PTHREAD_MUTEX_INITIALIZER};

static struct rp_served *open_ok(const char *seal, bool unverified, uint64_t cache)
{
	struct rp_served_opts o = {
	    .source = disk,
	    .seal_path = seal,
	    .unverified = unverified,
	    .net = &net,
	    .cache_bytes = cache,
	    .readahead = 2,
	    .retries = 2,
	    .log = on_log,
	    .log_ctx = &logs,
	};
	struct rp_served *s = NULL;
	struct rp_err err;

	rp_err_init(&err);
	rp_net_opts_default(&net);
	if (rp_served_open(&o, &s, &err) != 0)
		fail_msg("open: %s", err.msg);
	return s;
}

struct worker {
	struct rp_served *s;
	unsigned seed;
	int bad;
};

static void *reader(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(3 * CS);
	unsigned k;

	for (k = 0; buf && k < 300; k++) {
		uint64_t off = (uint64_t)rand_r(&w->seed) % SIZE;
		size_t len = (size_t)rand_r(&w->seed) % (3 * CS) + 1;
		struct rp_err err;

		if (k % 10 == 0)
			off = (uint64_t)(k / 10) * 4096 % SIZE; /* sequential: read-ahead */
		if (len > SIZE - off)
			len = (size_t)(SIZE - off);
		rp_err_init(&err);
		if (rp_served_read(w->s, buf, len, off, &err) != 0 ||
		    memcmp(buf, bytes + off, len) != 0)
			w->bad++;
	}
	free(buf);
	return NULL;
}

static void test_reads_threads_cache(void **state)
{
	struct rp_served *s = open_ok(sealp, false, 2 * CS);
	struct worker w[4];
	pthread_t t[4];
	struct rp_served_stats st;
	unsigned i;

	(void)state;
	assert_int_equal(rp_served_size(s), SIZE);
	assert_true(rp_served_sealed(s));
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){.s = s, .seed = i + 1};
		assert_int_equal(pthread_create(&t[i], NULL, reader, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	rp_served_stats(s, &st);
	assert_int_equal(st.cache_slots, 2);
	assert_true(st.cache_bytes <= 2 * CS);
	assert_true(st.zero_chunks > 0);
	assert_true(st.fetches >= NCHUNK - 1);
	assert_int_equal(st.failures, 0);
	rp_served_free(s);
}

static void test_extents(void **state)
{
	struct rp_served *s = open_ok(sealp, false, 0);
	enum rp_served_kind kind;
	uint64_t run;
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_served_extent(s, 100, &kind, &run, &err), 0);
	assert_int_equal(kind, RP_SERVED_DATA);
	assert_int_equal(run, CS - 100);
	assert_int_equal(rp_served_extent(s, CS, &kind, &run, &err), 0);
	assert_int_equal(kind, RP_SERVED_ZERO);
	assert_int_equal(run, CS);
	assert_int_equal(rp_served_extent(s, (NCHUNK - 1) * CS, &kind, &run, &err), 0);
	assert_int_equal(run, SIZE - (NCHUNK - 1) * CS);
	assert_int_equal(rp_served_extent(s, SIZE, &kind, &run, &err), RP_EUSAGE);
	rp_served_free(s);
}

static void test_corrupt_chunk(void **state)
{
	struct rp_served *s;
	uint8_t *copy = malloc(SIZE), buf[4096];
	struct rp_err err;

	(void)state;
	assert_non_null(copy);
	memcpy(copy, bytes, SIZE);
	copy[2 * CS + 77] ^= 0xFF;
	unit_write(disk, copy, SIZE);
	logs.warn = 0;
	s = open_ok(sealp, false, 0);
	rp_err_init(&err);
	assert_int_equal(rp_served_read(s, buf, sizeof(buf), 2 * CS + 4096, &err), RP_EVERIFY);
	assert_int_equal(rp_err_reason_of(&err), RP_R_SEAL_MISMATCH);
	assert_non_null(strstr(err.msg, "chunk 2 (0x20000, 65536 bytes) failed the seal-mismatch "
					"check 3 times"));
	assert_int_equal(logs.warn, 2);
	/* a read that starts in a good chunk and runs into the bad one fails too */
	assert_int_equal(rp_served_read(s, buf, sizeof(buf), 2 * CS - 512, &err), RP_EVERIFY);
	/* the others still read */
	rp_err_init(&err);
	assert_int_equal(rp_served_read(s, buf, sizeof(buf), 3 * CS, &err), 0);
	assert_memory_equal(buf, bytes + 3 * CS, sizeof(buf));
	assert_int_equal(rp_served_read(s, buf, sizeof(buf), 0, &err), 0);
	assert_memory_equal(buf, bytes, sizeof(buf));
	rp_served_free(s);
	unit_write(disk, bytes, SIZE);
	free(copy);
}

static void test_seal_required(void **state)
{
	struct rp_served_opts o = {.source = disk, .net = &net};
	struct rp_served *s = NULL;
	struct rp_err err;
	uint8_t buf[512];

	(void)state;
	rp_err_init(&err);
	rp_net_opts_default(&net);
	assert_int_equal(rp_served_open(&o, &s, &err), RP_EUSAGE);
	assert_null(s);
	assert_non_null(strstr(err.msg, "no seal for"));
	s = open_ok(NULL, true, 0);
	assert_false(rp_served_sealed(s));
	assert_string_equal(rp_served_mode(s), "unverified");
	assert_int_equal(rp_served_read(s, buf, sizeof(buf), SIZE - 512, &err), 0);
	assert_memory_equal(buf, bytes + SIZE - 512, sizeof(buf));
	assert_int_equal(rp_served_read(s, buf, sizeof(buf), SIZE - 256, &err), RP_EUSAGE);
	rp_served_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_threads_cache),
	    cmocka_unit_test(test_extents),
	    cmocka_unit_test(test_corrupt_chunk),
	    cmocka_unit_test(test_seal_required),
	};
	int rc;

	write_fixture();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unit_rmtree(dir);
	free(bytes);
	return rc;
}
