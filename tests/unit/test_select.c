/*
 * Tests of verify/select.c (chunk selection, the state file) and of the selection and hash
 * window options of verify/scan.c that use it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "common/base64.h"
#include "common/util.h"
#include "formats/image.h"
#include "verify/scan.h"
#include "verify/select.h"

static void test_splitmix64(void **state)
{
	uint64_t s = 0;

	(void)state;
	/* The reference outputs of splitmix64.c (Vigna) for seed 0. */
	assert_true(rp_splitmix64(&s) == 0xe220a8397b1dcdafull);
	assert_true(rp_splitmix64(&s) == 0x6e789e6aa1b965f4ull);
	assert_true(rp_splitmix64(&s) == 0x06c45d188009454full);
}

static void test_parse_percent(void **state)
{
	static const struct {
		const char *in;
		uint32_t ppm;
	} ok[] = {{"5", 50000},	 {"0.5", 5000},	      {"100", 1000000},
		  {"0.0001", 1}, {"12.3456", 123456}, {"007", 70000}};
	static const char *const bad[] = {"0",	 "101", "",	"5%", "1.",	 ".5",
					  "1e2", "-1",	"1000", " 5", "0.00001", "100.0001"};
	struct rp_err err;
	uint32_t ppm;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ppm = 0;
		assert_int_equal(rp_select_parse_percent(ok[i].in, &ppm, &err), 0);
		assert_int_equal(ppm, ok[i].ppm);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rp_err_init(&err);
		assert_int_equal(rp_select_parse_percent(bad[i], &ppm, &err), RP_EUSAGE);
		assert_non_null(strstr(err.msg, "a percentage must be more than 0"));
	}
}

static void test_parse_fraction(void **state)
{
	static const struct {
		const char *in;
		bool one_based;
		int rc;
		uint32_t a, b;
		const char *msg;
	} cases[] = {
	    {"1/7", true, 0, 1, 7, NULL},
	    {"7/7", true, 0, 7, 7, NULL},
	    {"0/4", false, 0, 0, 4, NULL},
	    {"3/4", false, 0, 3, 4, NULL},
	    {"0/7", true, RP_EUSAGE, 0, 0, "--x 0/7: the number before '/' must be 1 to the count"},
	    {"8/7", true, RP_EUSAGE, 0, 0, "must be 1 to the count"},
	    {"4/4", false, RP_EUSAGE, 0, 0, "must be 0 to the count - 1"},
	    {"1/0", true, RP_EUSAGE, 0, 0, "the count after '/' must be 1 to 1000000"},
	    {"1/1000001", true, RP_EUSAGE, 0, 0, "the count after '/' must be"},
	    {"3", true, RP_EUSAGE, 0, 0, "--x takes RUN/COUNT, not '3'"},
	    {"/3", false, RP_EUSAGE, 0, 0, "--x takes INDEX/COUNT"},
	    {"1/", true, RP_EUSAGE, 0, 0, "takes RUN/COUNT"},
	    {"a/3", true, RP_EUSAGE, 0, 0, "takes RUN/COUNT"},
	    {"1/3/5", true, RP_EUSAGE, 0, 0, "takes RUN/COUNT"},
	};
	struct rp_err err;
	uint32_t a, b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rp_err_init(&err);
		a = b = 99;
		assert_int_equal(
		    rp_select_parse_fraction("--x", cases[i].in, cases[i].one_based, &a, &b, &err),
		    cases[i].rc);
		if (cases[i].rc == 0) {
			assert_int_equal(a, cases[i].a);
			assert_int_equal(b, cases[i].b);
		} else if (!strstr(err.msg, cases[i].msg)) {
			fail_msg("'%s': message '%s' lacks '%s'", cases[i].in, err.msg,
				 cases[i].msg);
		}
	}
}

static void test_always(void **state)
{
	const uint64_t mib = 1u << 20;

	(void)state;
	/* 40 MiB in 1 MiB chunks: the first and the last (the GPT backup's 20 KiB). */
	assert_true(rp_select_always(0, mib, 40 * mib));
	assert_false(rp_select_always(1, mib, 40 * mib));
	assert_false(rp_select_always(38, mib, 40 * mib));
	assert_true(rp_select_always(39, mib, 40 * mib));
	/* 4 KiB chunks: the tail spans the last five. */
	assert_false(rp_select_always(10234, 4096, 10240 * 4096ull));
	assert_true(rp_select_always(10235, 4096, 10240 * 4096ull));
	/* A short last chunk of 512 bytes: the tail reaches into the chunk before it. */
	assert_true(rp_select_always(8, mib, 8 * mib + 512));
	assert_true(rp_select_always(7, mib, 8 * mib + 512));
	assert_false(rp_select_always(6, mib, 8 * mib + 512));
}

static uint64_t count_map(const uint8_t *m, uint64_t n)
{
	uint64_t i, c = 0;

	for (i = 0; i < n; i++)
		c += m[i] != 0;
	return c;
}

static void test_sample(void **state)
{
	const uint64_t n = 1000, cs = 4096;
	struct rp_select_spec s = {.mode = RP_SELECT_SAMPLE, .ppm = 100000, .seed = 1};
	uint8_t *a = malloc(n), *b = malloc(n);
	unsigned hits[1000] = {0};
	struct rp_seal *seal = NULL;
	struct rp_err err;
	uint64_t sel = 0, i, seed;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(rp_select_build(&s, NULL, n * cs, cs, a, &sel, &err), 0);
	/* exactly 10% drawn, plus chunk 0 and the last five (20 KiB tail) unless drawn already */
	assert_true(sel >= 100 && sel <= 106);
	assert_int_equal(sel, count_map(a, n));
	assert_true(a[0] && a[n - 1] && a[n - 5]);
	assert_int_equal(rp_select_build(&s, NULL, n * cs, cs, b, &sel, &err), 0);
	assert_memory_equal(a, b, n);
	s.seed = 2;
	assert_int_equal(rp_select_build(&s, NULL, n * cs, cs, b, &sel, &err), 0);
	assert_true(memcmp(a, b, n) != 0);
	/* Every chunk comes up under some seed, at about its share (10% of 300 = 30). */
	for (seed = 0; seed < 300; seed++) {
		s.seed = seed;
		assert_int_equal(rp_select_build(&s, NULL, n * cs, cs, a, &sel, &err), 0);
		for (i = 0; i < n; i++)
			hits[i] += a[i];
	}
	for (i = 1; i < n - 5; i++)
		if (hits[i] < 8 || hits[i] > 70)
			fail_msg("chunk %llu drawn %u times in 300 samples", (unsigned long long)i,
				 hits[i]);
	/* With a seal only its data chunks are candidates. */
	assert_int_equal(rp_seal_new(n * cs, cs, &seal, &err), 0);
	for (i = 0; i < n; i++) {
		struct rp_seal_chunk c = {.state =
					      i % 10 == 3 ? RP_CHUNK_DATA : RP_CHUNK_UNALLOCATED};

		assert_int_equal(rp_seal_chunk_set(seal, i, &c, &err), 0);
	}
	s.seed = 9;
	s.ppm = 500000;
	assert_int_equal(rp_select_build(&s, seal, n * cs, cs, a, &sel, &err), 0);
	for (i = 1; i < n - 5; i++)
		if (a[i] && i % 10 != 3)
			fail_msg("chunk %llu without data was sampled", (unsigned long long)i);
	assert_int_equal(count_map(a + 1, n - 6), 50);
	/* A sample of shard 2 of 4: only chunks 500..749, 10% of them, none always added. */
	s.ppm = 100000;
	s.shard = 2;
	s.shards = 4;
	assert_int_equal(rp_select_build(&s, NULL, n * cs, cs, a, &sel, &err), 0);
	assert_int_equal(sel, 25);
	assert_int_equal(count_map(a + 500, 250), 25);
	/* The last shard holds the tail: always added there. */
	s.shard = 3;
	assert_int_equal(rp_select_build(&s, NULL, n * cs, cs, a, &sel, &err), 0);
	assert_true(a[n - 1] && a[n - 5] && !a[0]);
	assert_int_equal(count_map(a, 750), 0);
	s.shard = 4;
	rp_err_init(&err);
	assert_int_equal(rp_select_build(&s, NULL, n * cs, cs, a, &sel, &err), RP_EUSAGE);
	assert_non_null(strstr(err.msg, "sample: shard 4 of 4 is out of range"));
	s.shards = 0;
	s.shard = 0;
	/* 100% is every candidate. */
	s.ppm = 1000000;
	assert_int_equal(rp_select_build(&s, NULL, n * cs, cs, a, &sel, &err), 0);
	assert_int_equal(sel, n);
	rp_seal_free(seal);
	free(a);
	free(b);
}

static void test_rolling_and_shards(void **state)
{
	static const uint64_t counts[] = {1, 2, 7, 40, 1001};
	static const uint32_t parts[] = {1, 2, 3, 7, 64};
	uint8_t *m = malloc(1001);
	unsigned seen[1001];
	struct rp_err err;
	size_t c, p;

	(void)state;
	assert_non_null(m);
	for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		for (p = 0; p < sizeof(parts) / sizeof(parts[0]); p++) {
			uint64_t n = counts[c], i, sel, total = 0;
			uint32_t k;
			int mode;

			for (mode = 0; mode < 2; mode++) {
				memset(seen, 0, sizeof(seen));
				total = 0;
				for (k = 0; k < parts[p]; k++) {
					struct rp_select_spec s = {0};

					if (mode == 0) {
						s.mode = RP_SELECT_ROLLING;
						s.run = k + 1;
						s.runs = parts[p];
					} else {
						s.mode = RP_SELECT_SHARD;
						s.shard = k;
						s.shards = parts[p];
					}
					assert_int_equal(rp_select_build(&s, NULL, n * 512 - 100,
									 512, m, &sel, &err),
							 0);
					total += sel;
					for (i = 0; i < n; i++)
						seen[i] += m[i];
					if (mode == 0)
						for (i = 0; i < n; i++)
							assert_int_equal(m[i], i % parts[p] == k);
				}
				assert_int_equal(total, n);
				for (i = 0; i < n; i++)
					if (seen[i] != 1)
						fail_msg(
						    "%s: %llu chunks in %u parts: chunk %llu in %u",
						    mode ? "shard" : "rolling",
						    (unsigned long long)n, parts[p],
						    (unsigned long long)i, seen[i]);
			}
		}
	}
	free(m);
}

static void test_build_errors(void **state)
{
	static const struct {
		struct rp_select_spec s;
		const char *msg;
	} cases[] = {
	    {{.mode = RP_SELECT_SAMPLE, .ppm = 0}, "sample: ppm 0 is not in 1..1000000"},
	    {{.mode = RP_SELECT_SAMPLE, .ppm = 1000001}, "sample: ppm 1000001"},
	    {{.mode = RP_SELECT_ROLLING, .run = 0, .runs = 3},
	     "rolling: run 0 of 3 is out of range"},
	    {{.mode = RP_SELECT_ROLLING, .run = 4, .runs = 3}, "rolling: run 4 of 3"},
	    {{.mode = RP_SELECT_SHARD, .shard = 3, .shards = 3}, "shard: shard 3 of 3 is out of"},
	    {{.mode = RP_SELECT_SHARD, .shard = 0, .shards = 0}, "shard: shard 0 of 0"},
	    {{.mode = RP_SELECT_MAX_DURATION}, "mode max-duration is not a fixed selection"},
	};
	uint8_t m[8];
	uint64_t sel;
	struct rp_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rp_err_init(&err);
		assert_int_equal(rp_select_build(&cases[i].s, NULL, 8 * 512, 512, m, &sel, &err),
				 RP_EUSAGE);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
	}
	rp_err_init(&err);
	assert_int_equal(rp_select_build(&cases[0].s, NULL, 8 * 512, 0, m, &sel, &err), RP_EUSAGE);
	assert_non_null(strstr(err.msg, "chunk size is 0"));
}

/* A state of 10 chunks after runs 1 (chunks 0-3) and 2 (chunks 2-5), as text. */
static char *state_text(void)
{
	struct rp_select_state st;
	uint8_t c1[10] = {1, 1, 1, 1}, c2[10] = {0, 0, 1, 1, 1, 1};
	struct rp_err err;
	char *text = NULL;

	assert_int_equal(rp_select_state_init(&st, 10 * 4096 - 512, 4096, &err), 0);
	rp_select_state_record(&st, c1, 1795870000, "max-duration");
	rp_select_state_record(&st, c2, 1795880000, "rolling");
	assert_int_equal(rp_select_state_format(&st, &text, &err), 0);
	rp_select_state_release(&st);
	return text;
}

static void test_state_roundtrip(void **state)
{
	static const uint32_t want[10] = {1, 1, 2, 2, 2, 2, 0, 0, 0, 0};
	struct rp_select_state st;
	char *text = state_text();
	struct rp_err err;
	uint64_t after = UINT64_MAX, sel = 0;
	uint8_t m[10];

	(void)state;
	assert_int_equal(rp_select_state_parse(text, strlen(text), &st, &err), 0);
	assert_int_equal(st.chunk_count, 10);
	assert_int_equal(st.last_run, 2);
	assert_memory_equal(st.chunk_run, want, sizeof(want));
	assert_int_equal(st.nruns, 2);
	assert_string_equal(st.runs[0].mode, "max-duration");
	assert_string_equal(st.runs[1].started, "2026-11-28T15:33:20Z");
	assert_int_equal(st.runs[1].chunks, 4);
	/* tiers, least recently verified first: never (6-9), run 1 (0-1), run 2 (2-5) */
	assert_true(rp_select_lrv_tier(&st, &after, m, &sel));
	assert_int_equal(after, 0);
	assert_int_equal(sel, 4);
	assert_true(m[6] && m[9] && !m[0]);
	assert_true(rp_select_lrv_tier(&st, &after, m, &sel));
	assert_true(after == 1 && sel == 2 && m[0] && m[1] && !m[2]);
	assert_true(rp_select_lrv_tier(&st, &after, m, &sel));
	assert_true(after == 2 && sel == 4 && m[2] && m[5]);
	assert_false(rp_select_lrv_tier(&st, &after, m, &sel));
	rp_select_state_release(&st);
	free(text);
}

static void test_state_run_records_capped(void **state)
{
	struct rp_select_state st;
	uint8_t c[3] = {1, 0, 0};
	struct rp_err err;
	unsigned i;

	(void)state;
	assert_int_equal(rp_select_state_init(&st, 3 * 512, 512, &err), 0);
	for (i = 0; i < RP_SELECT_STATE_MAX_RUNS + 5; i++)
		rp_select_state_record(&st, c, 0, "sample");
	assert_int_equal(st.nruns, RP_SELECT_STATE_MAX_RUNS);
	assert_int_equal(st.runs[0].run, 6);
	assert_int_equal(st.chunk_run[0], RP_SELECT_STATE_MAX_RUNS + 5);
	rp_select_state_release(&st);
}

/* Replace the first occurrence of from with to in text (fresh copy). */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);

	assert_non_null(p);
	assert_non_null(out);
	memcpy(out, text, (size_t)(p - text));
	memcpy(out + (p - text), to, strlen(to));
	memcpy(out + (p - text) + strlen(to), p + strlen(from), strlen(p + strlen(from)) + 1);
	return out;
}

static void test_state_parse_errors(void **state)
{
	/* Each case changes one member of a good state text. */
	static const struct {
		const char *from, *to, *msg;
	} cases[] = {
	    {"\"cvmrestore-verify-state\"", "\"other\"", "state: format is not"},
	    {"\"version\":1", "\"version\":2", "state: version 2 is not 1"},
	    {"\"virtual_size\":40448", "\"virtual_size\":-1", "state: virtual_size is missing"},
	    {"\"chunk_size\":4096", "\"chunk_size\":0", "state: chunk_count 10 does not fit"},
	    {"\"chunk_count\":10", "\"chunk_count\":11", "state: chunk_count 11 does not fit"},
	    {"\"last_run\":2", "\"last_run\":4294967296", "state: last_run 4294967296 is too"},
	    {"\"last_run\":2", "\"last_run\":1", "state: runs[1] needs run (1..last_run)"},
	    {"\"runs\":[", "\"runs\":7,\"x\":[", "state: runs is missing or not an array"},
	    {"\"mode\":\"rolling\"", "\"mode\":7", "state: runs[1] needs run"},
	    {"\"chunk_runs\":\"", "\"chunk_runs\":\"!", "state: chunk_runs: base64"},
	    {"\"chunk_runs\":\"", "\"chunk_runs\":\"AAAA", "state: chunk_runs holds 43 bytes"},
	    {"\"chunk_runs\":\"AQAAAA", "\"chunk_runs\":\"CQAAAA", "chunk_runs[0] names run 9"},
	    {"\"chunk_runs\":", "\"chunk_runz\":", "state: chunk_runs is missing"},
	    {"{", "[", "state"},
	};
	char *good = state_text(), *bad;
	struct rp_select_state st;
	struct rp_err err;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bad = edit(good, cases[i].from, cases[i].to);
		rp_err_init(&err);
		rc = rp_select_state_parse(bad, strlen(bad), &st, &err);
		if (rc != RP_EFORMAT || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: rc %d, '%s' lacks '%s'", i, rc, err.msg, cases[i].msg);
		assert_null(st.chunk_run);
		free(bad);
	}
	free(good);
}

static void test_state_files(void **state)
{
	char dir[4096], path[4200], tmp[4300];
	struct rp_select_state st, back;
	uint8_t c[5] = {0, 1, 0, 1, 0};
	struct rp_err err;
	struct stat sb;
	bool existed = true;

	(void)state;
	unit_tmpdir(dir, sizeof(dir), "test_select");
	snprintf(path, sizeof(path), "%s/state.json", dir);
	assert_int_equal(rp_select_state_load(path, 5 * 512, 512, &st, &existed, &err), 0);
	assert_false(existed);
	assert_int_equal(st.chunk_count, 5);
	rp_select_state_record(&st, c, 0, "shard");
	assert_int_equal(rp_select_state_write(path, &st, &err), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	assert_int_not_equal(access(tmp, F_OK), 0);
	assert_int_equal(rp_select_state_load(path, 5 * 512, 512, &back, &existed, &err), 0);
	assert_true(existed);
	assert_memory_equal(back.chunk_run, st.chunk_run, 5 * sizeof(uint32_t));
	rp_select_state_release(&back);
	rp_err_init(&err);
	assert_int_equal(rp_select_state_load(path, 6 * 512, 512, &back, &existed, &err),
			 RP_EUSAGE);
	assert_non_null(strstr(err.msg,
			       "is for a disk of 2560 bytes in chunks of 512, this one has "
			       "3072"));
	rp_select_state_release(&st);
	unit_rmtree(dir);
}

/* ---- scan with a selection and hash windows ---- */

struct pick_ctx {
	uint64_t calls, stop_at;
	uint8_t want[64];
};

static int pick(void *ctx, uint64_t i)
{
	struct pick_ctx *p = ctx;

	assert_int_equal(i, p->calls); /* once per chunk, in increasing order */
	p->calls++;
	if (p->stop_at && i >= p->stop_at)
		return RP_PICK_STOP;
	return p->want[i] ? RP_PICK_CHECK : RP_PICK_SKIP;
}

static void make_raw(char *dir, size_t dirsz, char *path, size_t pathsz, uint8_t *data, size_t size)
{
	struct rp_err err;

	unit_tmpdir(dir, dirsz, "test_select");
	snprintf(path, pathsz, "%s/d.raw", dir);
	assert_int_equal(rp_random_bytes(data, size, &err), 0);
	unit_write(path, data, size);
}

static void test_scan_select(void **state)
{
	enum { CS = 4096, N = 20 };
	char dir[4096], path[4200];
	uint8_t *data = malloc(N * CS);
	struct rp_scan_result r;
	struct rp_image *img = NULL;
	struct rp_seal *expect = NULL;
	struct pick_ctx p;
	struct rp_err err;
	unsigned i;

	(void)state;
	assert_non_null(data);
	make_raw(dir, sizeof(dir), path, sizeof(path), data, N * CS);
	assert_int_equal(rp_image_open(path, NULL, &img, &err), 0);
	assert_int_equal(rp_seal_new(N * CS, CS, &expect, &err), 0);
	for (i = 0; i < N; i++) {
		struct rp_seal_chunk c = {.state = RP_CHUNK_DATA};

		assert_int_equal(rp_sha256(data + i * CS, CS, c.sha256), 0);
		if (i == 7 || i == 8)
			c.sha256[0] ^= 1; /* chunk 7 "corrupt"; chunk 8 too, but never selected */
		assert_int_equal(rp_seal_chunk_set(expect, i, &c, &err), 0);
	}
	memset(&p, 0, sizeof(p));
	p.want[1] = p.want[7] = p.want[12] = 1;
	{
		struct rp_scan_opts o = {.chunk_size = CS,
					 .threads = 2,
					 .expect = expect,
					 .select = pick,
					 .select_ctx = &p};
		assert_int_equal(rp_scan_run(img, &o, &r, &err), 0);
	}
	assert_int_equal(p.calls, N);
	assert_int_equal(r.bytes_read, 3 * CS);
	assert_int_equal(r.pipe.chunks_compared, 3);
	assert_int_equal(r.pipe.chunks_skipped, N - 3);
	assert_int_equal(r.pipe.mismatch_count, 1);
	assert_int_equal(r.pipe.mismatches[0].index, 7);
	rp_scan_result_release(&r);
	/* A budget: STOP at chunk 10 skips 10..19 without asking again. */
	memset(&p, 0, sizeof(p));
	memset(p.want, 1, sizeof(p.want));
	p.stop_at = 10;
	{
		struct rp_scan_opts o = {.chunk_size = CS,
					 .threads = 3,
					 .expect = expect,
					 .select = pick,
					 .select_ctx = &p};
		assert_int_equal(rp_scan_run(img, &o, &r, &err), 0);
	}
	assert_int_equal(p.calls, 11);
	assert_int_equal(r.pipe.chunks_compared, 10);
	assert_int_equal(r.bytes_read, 10 * CS);
	assert_int_equal(r.pipe.mismatch_count, 2);
	rp_scan_result_release(&r);
	/* Whole digests or windows with a selection are refused. */
	{
		struct rp_scan_opts o = {
		    .chunk_size = CS, .whole_digests = 1, .select = pick, .select_ctx = &p};
		rp_err_init(&err);
		assert_int_equal(rp_scan_run(img, &o, &r, &err), RP_EUSAGE);
		assert_non_null(strstr(err.msg, "need every chunk, not a selection"));
		rp_scan_result_release(&r);
	}
	rp_seal_free(expect);
	rp_image_free(img);
	unit_rmtree(dir);
	free(data);
}

static void test_scan_windows(void **state)
{
	/* 20 chunks of 4 KiB and windows of 3 KiB, 4 KiB, 12.5 KiB and the whole disk. */
	static const uint64_t windows[] = {3072, 4096, 12800, 20 * 4096, 1u << 20};
	enum { CS = 4096, N = 20, SIZE = N * CS };
	char dir[4096], path[4200];
	uint8_t *data = malloc(SIZE), want[32];
	struct rp_image *img = NULL;
	struct rp_scan_result r;
	struct rp_err err;
	size_t w;
	uint64_t k;

	(void)state;
	assert_non_null(data);
	make_raw(dir, sizeof(dir), path, sizeof(path), data, SIZE);
	memset(data + 5 * CS, 0, CS); /* the digests see zeros as they are */
	{
		int fd = open(path, O_WRONLY);
		assert_int_equal(pwrite(fd, data + 5 * CS, CS, 5 * CS), CS);
		close(fd);
	}
	assert_int_equal(rp_image_open(path, NULL, &img, &err), 0);
	for (w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
		struct rp_scan_opts o = {.chunk_size = CS, .threads = 2, .hash_window = windows[w]};
		uint64_t n = (SIZE + windows[w] - 1) / windows[w];

		assert_int_equal(rp_scan_run(img, &o, &r, &err), 0);
		assert_int_equal(r.pipe.window_count, n);
		for (k = 0; k < n; k++) {
			uint64_t off = k * windows[w];
			uint64_t len = SIZE - off < windows[w] ? SIZE - off : windows[w];
			assert_int_equal(rp_sha256(data + off, (size_t)len, want), 0);
			if (memcmp(want, r.pipe.windows + 32 * k, 32) != 0)
				fail_msg("window %llu of %llu bytes differs", (unsigned long long)k,
					 (unsigned long long)windows[w]);
		}
		rp_scan_result_release(&r);
	}
	{
		struct rp_scan_opts o = {.chunk_size = CS, .hash_window = 1000};
		rp_err_init(&err);
		assert_int_equal(rp_scan_run(img, &o, &r, &err), RP_EUSAGE);
		assert_non_null(strstr(err.msg, "hash window 1000 is not a multiple of 512"));
		rp_scan_result_release(&r);
	}
	rp_image_free(img);
	unit_rmtree(dir);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_splitmix64),
	    cmocka_unit_test(test_parse_percent),
	    cmocka_unit_test(test_parse_fraction),
	    cmocka_unit_test(test_always),
	    cmocka_unit_test(test_sample),
	    cmocka_unit_test(test_rolling_and_shards),
	    cmocka_unit_test(test_build_errors),
	    cmocka_unit_test(test_state_roundtrip),
	    cmocka_unit_test(test_state_run_records_capped),
	    cmocka_unit_test(test_state_parse_errors),
	    cmocka_unit_test(test_state_files),
	    cmocka_unit_test(test_scan_select),
	    cmocka_unit_test(test_scan_windows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
