/*
 * nbd/served.h, the core of the nbdkit plugin, without nbdkit (so the sanitizer build runs
 * it): a local raw disk with a seal reads back its bytes from many threads at once through a
 * cache of two chunks (which never grows past them); a chunk the seal records as zeros reads as
 * zeros without a fetch and is a zero extent; a chunk changed in the file fails its read with
 * RP_EVERIFY, reason seal mismatch, after the retries (each logged), while the others still
 * read; no seal is RP_EUSAGE unless unverified; reads past the end are RP_EUSAGE.
 */
#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "formats/seal.h"
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
	assert_int_equal(rp_served_extent(s, 100, 0, &kind, &run, &err), 0);
	assert_int_equal(kind, RP_SERVED_DATA);
	assert_int_equal(run, CS - 100);
	assert_int_equal(rp_served_extent(s, CS, 0, &kind, &run, &err), 0);
	assert_int_equal(kind, RP_SERVED_ZERO);
	assert_int_equal(run, CS);
	/* chunks 2-5 are data: one run, to the end or to the end asked for */
	assert_int_equal(rp_served_extent(s, 2 * CS + 1, 0, &kind, &run, &err), 0);
	assert_int_equal(kind, RP_SERVED_DATA);
	assert_int_equal(run, SIZE - 2 * CS - 1);
	assert_int_equal(rp_served_extent(s, 2 * CS + 1, 3 * CS + 7, &kind, &run, &err), 0);
	assert_int_equal(run, CS + 6);
	assert_int_equal(rp_served_extent(s, (NCHUNK - 1) * CS, 0, &kind, &run, &err), 0);
	assert_int_equal(run, SIZE - (NCHUNK - 1) * CS);
	assert_int_equal(rp_served_extent(s, SIZE, 0, &kind, &run, &err), RP_EUSAGE);
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

/*
 * A big sparse disk: 128 GiB in 2 Mi chunks of 64 KiB (a sparse file; the seal built in
 * memory), data in chunks 0, 5, 6, 1000000 and the last, zero chunks at 7-9, the rest
 * unallocated. The extents are runs: a handful of calls walk the whole disk (past
 * RP_SERVED_EXTENT_CHUNKS chunks at once), their zero bytes are the seal's zero and
 * unallocated chunks, and the data chunks read back verified.
 */
#define BIG_CHUNKS (2ull << 20)
#define BIG_SIZE (BIG_CHUNKS * CS)

static void test_extents_runs(void **state)
{
	static const uint64_t data[] = {0, 5, 6, 1000000, BIG_CHUNKS - 1};
	char big[4200], bigseal[4200];
	struct rp_served_opts o = {.source = big, .seal_path = bigseal, .net = &net};
	struct rp_seal *seal = NULL;
	struct rp_served *s = NULL;
	struct rp_served_stats st;
	uint64_t counts[3], off,
	    zero_bytes = 0, data_bytes = 0,
	    want_run[][2] =
		{
		    {RP_SERVED_DATA, 1}, {RP_SERVED_ZERO, 4},
		    {RP_SERVED_DATA, 2}, {RP_SERVED_ZERO, 1000000 - 7},
		    {RP_SERVED_DATA, 1}, {RP_SERVED_ZERO, BIG_CHUNKS - 1000001 - 1},
		    {RP_SERVED_DATA, 1},
		},
	    got_run[8][2];
	unsigned calls = 0, nrun = 0, k;
	uint8_t *chunk = malloc(CS), *buf = malloc(CS);
	struct rp_err err;
	FILE *f;

	(void)state;
	assert_non_null(chunk);
	assert_non_null(buf);
	snprintf(big, sizeof(big), "%s/big.raw", dir);
	snprintf(bigseal, sizeof(bigseal), "%s/big-seal.json", dir);
	rp_err_init(&err);
	assert_int_equal(rp_seal_new(BIG_SIZE, CS, &seal, &err), 0);
	for (off = 0; off < BIG_CHUNKS; off++) {
		struct rp_seal_chunk c = {.state = off >= 7 && off <= 9 ? RP_CHUNK_ZERO
									: RP_CHUNK_UNALLOCATED};

		assert_int_equal(rp_seal_chunk_set(seal, off, &c, &err), 0);
	}
	f = fopen(big, "w");
	assert_non_null(f);
	for (k = 0; k < sizeof(data) / sizeof(data[0]); k++) {
		struct rp_seal_chunk c = {.state = RP_CHUNK_DATA};

		memcpy(chunk, bytes + (k % 4) * CS, CS);
		chunk[0] = (uint8_t)(k + 1);
		assert_int_equal(rp_sha256(chunk, CS, c.sha256), 0);
		assert_int_equal(rp_seal_chunk_set(seal, data[k], &c, &err), 0);
		assert_int_equal(fseeko(f, (off_t)(data[k] * CS), SEEK_SET), 0);
		assert_int_equal(fwrite(chunk, 1, CS, f), CS);
	}
	assert_int_equal(fclose(f), 0);
	if (rp_seal_write(bigseal, seal, &err) != 0)
		fail_msg("seal: %s", err.msg);
	rp_seal_counts(seal, counts);
	rp_seal_free(seal);

	rp_net_opts_default(&net);
	if (rp_served_open(&o, &s, &err) != 0)
		fail_msg("open: %s", err.msg);
	assert_int_equal(rp_served_size(s), BIG_SIZE);
	for (off = 0; off < BIG_SIZE; calls++) {
		enum rp_served_kind kind;
		uint64_t run;

		assert_true(calls < 16);
		assert_int_equal(rp_served_extent(s, off, 0, &kind, &run, &err), 0);
		assert_true(run >= 1 && run <= BIG_SIZE - off);
		assert_true(run <= (uint64_t)RP_SERVED_EXTENT_CHUNKS * CS);
		if (kind == RP_SERVED_ZERO)
			zero_bytes += run;
		else
			data_bytes += run;
		/* runs of one kind are split only by the cap: merge them back */
		if (nrun > 0 && got_run[nrun - 1][0] == kind) {
			got_run[nrun - 1][1] += run;
		} else {
			assert_true(nrun < sizeof(got_run) / sizeof(got_run[0]));
			got_run[nrun][0] = kind;
			got_run[nrun][1] = run;
			nrun++;
		}
		off += run;
	}
	assert_int_equal(nrun, sizeof(want_run) / sizeof(want_run[0]));
	for (k = 0; k < nrun; k++) {
		assert_int_equal(got_run[k][0], want_run[k][0]);
		assert_int_equal(got_run[k][1], want_run[k][1] * CS);
	}
	assert_int_equal(zero_bytes, (counts[RP_CHUNK_ZERO] + counts[RP_CHUNK_UNALLOCATED]) * CS);
	assert_int_equal(data_bytes, counts[RP_CHUNK_DATA] * CS);
	assert_int_equal(counts[RP_CHUNK_DATA], 5);

	/* a data chunk reads back verified, a hole as zeros without a fetch */
	assert_int_equal(rp_served_read(s, buf, CS, 1000000ull * CS, &err), 0);
	assert_int_equal(buf[0], 4);
	assert_memory_equal(buf + 1, bytes + 3 * CS + 1, CS - 1);
	assert_int_equal(rp_served_read(s, buf, CS, 123456ull * CS, &err), 0);
	memset(chunk, 0, CS);
	assert_memory_equal(buf, chunk, CS);
	rp_served_stats(s, &st);
	assert_int_equal(st.fetches, 1);
	assert_int_equal(st.zero_chunks, 1);
	rp_served_free(s);
	unlink(big);
	unlink(bigseal);
	free(chunk);
	free(buf);
}

/*
 * A version 1 seal may record an all-zero chunk as data with the SHA-256 of zeros (this tool
 * writes "zero"). Restore fetches such a chunk and fails it (a zero chunk is never data); so
 * does the plugin: the extent is data, the read fails the seal check.
 */
static void test_v1_zero_digest(void **state)
{
	struct rp_served_opts o = {.source = disk, .seal_path = NULL, .net = &net, .retries = 0};
	char path[4200];
	struct rp_seal *seal = NULL;
	struct rp_seal_chunk c = {.state = RP_CHUNK_DATA};
	struct rp_served *s = NULL;
	enum rp_served_kind kind;
	uint8_t *zeros = calloc(1, CS), buf[512];
	uint64_t run;
	struct rp_err err;
	size_t len;
	char *text;

	(void)state;
	assert_non_null(zeros);
	snprintf(path, sizeof(path), "%s/v1-zero-digest.json", dir);
	rp_err_init(&err);
	assert_int_equal(rp_seal_load(sealp, &seal, &err), 0);
	assert_int_equal(rp_seal_chunk_state(seal, 1), RP_CHUNK_ZERO);
	assert_int_equal(rp_sha256(zeros, CS, c.sha256), 0);
	assert_int_equal(rp_seal_chunk_set(seal, 1, &c, &err), 0);
	assert_int_equal(rp_seal_write_version(path, seal, 1, &err), 0);
	rp_seal_free(seal);
	text = (char *)unit_read(path, &len);
	assert_non_null(strstr(text, "\"version\": 1"));
	free(text);

	o.seal_path = path;
	rp_net_opts_default(&net);
	if (rp_served_open(&o, &s, &err) != 0)
		fail_msg("open: %s", err.msg);
	assert_int_equal(rp_served_extent(s, CS, 0, &kind, &run, &err), 0);
	assert_int_equal(kind, RP_SERVED_DATA);
	assert_int_equal(rp_served_read(s, buf, sizeof(buf), CS + 512, &err), RP_EVERIFY);
	assert_int_equal(rp_err_reason_of(&err), RP_R_SEAL_MISMATCH);
	rp_err_init(&err);
	assert_int_equal(rp_served_read(s, buf, sizeof(buf), 0, &err), 0);
	rp_served_free(s);
	free(zeros);
}

/* The files under DIR/<64 hex digits>/: how many chunk files, and that none is temporary. */
static unsigned dc_files(const char *cdir, char *sub, size_t size)
{
	struct dirent *d;
	unsigned n = 0;
	DIR *dh = opendir(cdir);

	assert_non_null(dh);
	sub[0] = '\0';
	while ((d = readdir(dh)) != NULL)
		if (d->d_name[0] != '.') {
			assert_int_equal(strlen(d->d_name), 64);
			snprintf(sub, size, "%s/%s", cdir, d->d_name);
		}
	closedir(dh);
	assert_true(sub[0] != '\0');
	dh = opendir(sub);
	assert_non_null(dh);
	while ((d = readdir(dh)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		assert_int_equal(strlen(d->d_name), 16);
		n++;
	}
	closedir(dh);
	return n;
}

static struct rp_served *open_dc(const char *cdir, uint64_t bound)
{
	struct rp_served_opts o = {
	    .source = disk,
	    .seal_path = sealp,
	    .net = &net,
	    .retries = 2,
	    .cache_dir = cdir,
	    .cache_dir_bytes = bound,
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

/*
 * cache_dir: a first run writes each verified data chunk (not the zero one) as a file of
 * mode 0600 in a folder of mode 0700 named by the seal's identity; a second run over a source
 * whose chunk 2 is now corrupt reads every chunk from the files, checked, none fetched; a file
 * corrupted in the folder is found by the check, removed (logged) and the chunk fetched again;
 * the folder stays within cache_dir_bytes (oldest written removed first); a temporary file left
 * by a run that stopped is removed; without a seal a cache folder is refused.
 */
static void test_cache_dir(void **state)
{
	char cdir[4200], sub[4300], path[4400];
	uint8_t *buf = malloc(SIZE), *copy = malloc(SIZE);
	struct rp_served_stats st;
	struct rp_served *s;
	struct stat sb;
	struct rp_err err;
	size_t len;
	uint8_t *f;

	(void)state;
	assert_non_null(buf);
	assert_non_null(copy);
	snprintf(cdir, sizeof(cdir), "%s/cachedir", dir);
	rp_err_init(&err);

	s = open_dc(cdir, 0);
	assert_int_equal(rp_served_read(s, buf, SIZE, 0, &err), 0);
	assert_memory_equal(buf, bytes, SIZE);
	rp_served_stats(s, &st);
	assert_int_equal(st.fetches, NCHUNK - 1);
	assert_int_equal(st.disk_writes, NCHUNK - 1);
	assert_int_equal(st.disk_hits, 0);
	rp_served_free(s);
	assert_int_equal(dc_files(cdir, sub, sizeof(sub)), NCHUNK - 1);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/%016x", sub, 1u);
	assert_int_not_equal(access(path, F_OK), 0); /* the zero chunk has no file */
	snprintf(path, sizeof(path), "%s/%016x", sub, 2u);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	f = unit_read(path, &len);
	assert_int_equal(len, CS);
	assert_memory_equal(f, bytes + 2 * CS, CS);
	free(f);

	/* the second run: the source's chunk 2 is corrupt, the folder has it right */
	memcpy(copy, bytes, SIZE);
	copy[2 * CS + 5] ^= 1;
	unit_write(disk, copy, SIZE);
	snprintf(path, sizeof(path), "%s/.tmp-0000000000000003-1-1", sub);
	unit_write(path, "partial", 7);
	s = open_dc(cdir, 0);
	assert_int_not_equal(access(path, F_OK), 0); /* the stale temporary file is gone */
	assert_int_equal(rp_served_read(s, buf, SIZE, 0, &err), 0);
	assert_memory_equal(buf, bytes, SIZE);
	rp_served_stats(s, &st);
	assert_int_equal(st.fetches, 0);
	assert_int_equal(st.disk_hits, NCHUNK - 1);
	assert_int_equal(st.disk_bad, 0);
	rp_served_free(s);
	unit_write(disk, bytes, SIZE);

	/* a file corrupted in the folder: found, removed, fetched again, written again */
	snprintf(path, sizeof(path), "%s/%016x", sub, 3u);
	memcpy(copy, bytes + 3 * CS, CS);
	copy[100] ^= 0x40;
	unit_write(path, copy, CS);
	logs.warn = 0;
	s = open_dc(cdir, 0);
	assert_int_equal(rp_served_read(s, buf, 512, 3 * CS + 512, &err), 0);
	assert_memory_equal(buf, bytes + 3 * CS + 512, 512);
	rp_served_stats(s, &st);
	assert_int_equal(st.disk_bad, 1);
	assert_int_equal(st.fetches, 1);
	assert_int_equal(st.disk_writes, 1);
	assert_int_equal(logs.warn, 1);
	assert_non_null(strstr(logs.last, "chunk 3 in the cache directory failed the "
					  "seal-mismatch check: removed, fetching it again"));
	rp_served_free(s);
	f = unit_read(path, &len);
	assert_memory_equal(f, bytes + 3 * CS, CS);
	free(f);

	/* a bound of two chunks: the oldest files go, at the start and while reading */
	s = open_dc(cdir, 2 * CS);
	assert_int_equal(dc_files(cdir, sub, sizeof(sub)), 2);
	rp_served_stats(s, &st);
	assert_int_equal(st.disk_evicted, NCHUNK - 1 - 2);
	assert_int_equal(rp_served_read(s, buf, SIZE, 0, &err), 0);
	assert_memory_equal(buf, bytes, SIZE);
	rp_served_stats(s, &st);
	assert_int_equal(st.disk_hits + st.fetches, NCHUNK - 1);
	assert_int_equal(st.disk_writes, st.fetches);
	assert_int_equal(st.disk_evicted, NCHUNK - 1 - 2 + st.disk_writes);
	rp_served_free(s);
	assert_int_equal(dc_files(cdir, sub, sizeof(sub)), 2);
	snprintf(path, sizeof(path), "%s/%016x", sub, 5u); /* the last one read was kept */
	assert_int_equal(access(path, F_OK), 0);

	/* no seal: refused */
	{
		struct rp_served_opts o = {
		    .source = disk, .unverified = true, .net = &net, .cache_dir = cdir};

		s = NULL;
		assert_int_equal(rp_served_open(&o, &s, &err), RP_EUSAGE);
		assert_null(s);
		assert_non_null(strstr(err.msg, "a cache directory needs a seal"));
	}
	unit_rmtree(cdir);
	free(buf);
	free(copy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_threads_cache), cmocka_unit_test(test_extents),
	    cmocka_unit_test(test_extents_runs),	cmocka_unit_test(test_v1_zero_digest),
	    cmocka_unit_test(test_corrupt_chunk),	cmocka_unit_test(test_seal_required),
	    cmocka_unit_test(test_cache_dir),
	};
	int rc;

	write_fixture();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unit_rmtree(dir);
	free(bytes);
	return rc;
}
