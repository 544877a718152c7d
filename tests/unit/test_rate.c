/*
 * net/rate.c: --limit-rate parsing (curl's suffixes, powers of 1024, every bad value refused
 * with a message) and the shared bucket (a burst of at most 100 ms, then waits that hold the
 * total to the cap, whoever takes).
 */
#include "unit.h"

#include <string.h>

#include "net/rate.h"

static void test_parse(void **state)
{
	static const struct {
		const char *text;
		uint64_t bps;
	} good[] = {
	    {"1024", 1024},	  {"1K", 1024},
	    {"500k", 500 * 1024}, {"2M", 2 * 1048576},
	    {"2MB", 2 * 1048576}, {"2M/s", 2 * 1048576},
	    {"1G", 1073741824},	  {"1T", 1099511627776ull},
	};
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
	    {"0", "a cap of 0"},
	    {"0K", "a cap of 0"},
	    {"5X", "unknown suffix 'X'"},
	    {"fast", "is not a number"},
	    {"", "is not a number"},
	    {"-1M", "is not a number"},
	    {"1.5M", "unknown suffix '.5M'"},
	    {"100", "1K to 1T"},
	    {"2T", "1K to 1T"},
	    {"99999999999999999999", "too large"},
	    {"18446744073709551615K", "too large"},
	};
	struct rp_err err;
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rp_err_init(&err);
		assert_int_equal(rp_rate_parse(good[i].text, &v, &err), 0);
		assert_int_equal(v, good[i].bps);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rp_err_init(&err);
		v = 7;
		assert_int_equal(rp_rate_parse(bad[i].text, &v, &err), RP_EUSAGE);
		assert_non_null(strstr(err.msg, bad[i].msg));
		assert_int_equal(v, 7);
	}
}

static void test_bucket(void **state)
{
	struct rp_rate r;
	uint64_t wait;

	(void)state;
	rp_rate_init(&r, 0);
	assert_int_equal(rp_rate_take(&r, 1u << 30), 0); /* no cap: never a wait */
	assert_int_equal(rp_rate_take(NULL, 1u << 30), 0);

	rp_rate_init(&r, 1048576);
	/* 100 ms of bytes may go at once, no more */
	assert_int_equal(rp_rate_take(&r, 104857), 0);
	/* then a second's worth more means a wait of about a second */
	wait = rp_rate_take(&r, 1048576);
	assert_in_range(wait, 990, 1001);
	/* a debt adds up, whoever takes (the bucket is shared) */
	wait = rp_rate_take(&r, 524288);
	assert_in_range(wait, 1490, 1501);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_bucket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
