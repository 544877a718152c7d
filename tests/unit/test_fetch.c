/* Unit tests for the pure parts of restore/fetch.c: the range deadline and the source pinning. */
#include <string.h>

#include "unit.h"

#include "restore/fetch.h"

#define MIB (1024u * 1024)

/* At defaults a server that trickles ends the restore within 3 minutes: every attempt of a
 * 4 MiB range is cut at its deadline, RP_FETCH_SLOW_RETRIES retries follow with the default
 * backoff (800 ms, doubling; at most d per retry), then the run fails. */
static void test_deadline_defaults(void **state)
{
	struct rp_fetch_opts o = {.connections = 16, .retries = 5, .retry_base_ms = 800};
	long d = rp_fetch_range_deadline_ms(&o, 4 * MIB);
	double backoff = 0, total;
	unsigned i;

	(void)state;
	assert_int_equal(d, (long)(4.0 * MIB / RP_FETCH_MIN_RATE * 1000));
	for (i = 0; i < RP_FETCH_SLOW_RETRIES; i++)
		backoff += 0.8 * (double)(1u << i);
	total = (RP_FETCH_SLOW_RETRIES + 1) * (double)d / 1000 + backoff;
	assert_true(total < 180);
	/* small ranges get the floor */
	assert_int_equal(rp_fetch_range_deadline_ms(&o, 512), RP_FETCH_RANGE_FLOOR_S * 1000L);
	/* the floor is the option's, the rate term still scales with the range */
	o.range_timeout_s = 2;
	assert_int_equal(rp_fetch_range_deadline_ms(&o, 64 * 1024), 2000);
	assert_int_equal(rp_fetch_range_deadline_ms(&o, 64 * MIB),
			 (long)(64.0 * MIB / RP_FETCH_MIN_RATE * 1000));
}

/* A cap on the total rate never fails a healthy range: each connection gets cap / connections,
 * and the deadline leaves four times the time that share needs. */
static void test_deadline_scales_with_cap(void **state)
{
	static const uint64_t caps[] = {64 * 1024, 1 * MIB, 10 * MIB, 100 * MIB, 1000 * MIB};
	static const unsigned conns[] = {1, 4, 16, 64};
	static const uint64_t sizes[] = {4096, 1 * MIB, 4 * MIB, 64 * MIB};
	size_t i, j, k;

	(void)state;
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		for (j = 0; j < sizeof(conns) / sizeof(conns[0]); j++)
			for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
				struct rp_fetch_opts o = {.connections = conns[j],
							  .limit_rate = caps[i]};
				double share = (double)caps[i] / conns[j];
				double need = (double)sizes[k] / share;
				long d = rp_fetch_range_deadline_ms(&o, sizes[k]);

				assert_true((double)d / 1000 >= need * 4 - 0.01);
				assert_true(d >= RP_FETCH_RANGE_FLOOR_S * 1000L);
			}
}

static void test_source_same(void **state)
{
	char msg[256];

	(void)state;
	assert_true(rp_source_same(NULL, NULL, "\"x\"", NULL, msg, sizeof(msg)));
	assert_true(rp_source_same("", "", "", "", msg, sizeof(msg)));
	assert_true(rp_source_same("\"a\"", "Mon", "\"a\"", "Mon", msg, sizeof(msg)));
	assert_true(rp_source_same("\"a\"", "", "\"a\"", "Tue", msg, sizeof(msg)));
	assert_true(rp_source_same("\"a\"", "Mon", "\"a\"", "", msg, sizeof(msg)));
	assert_false(rp_source_same("\"a\"", NULL, "\"b\"", NULL, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "ETag \"b\", not \"a\""));
	assert_false(rp_source_same("\"a\"", NULL, "", NULL, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "without ETag"));
	assert_false(rp_source_same("\"a\"", "Mon", "\"a\"", "Tue", msg, sizeof(msg)));
	assert_non_null(strstr(msg, "Last-Modified Tue, not Mon"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deadline_defaults),
	    cmocka_unit_test(test_deadline_scales_with_cap),
	    cmocka_unit_test(test_source_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
