/* net/retry: the backoff policy (deterministic: the random value is the test's) and the rules
 * for what is worth another attempt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "net/http.h"
#include "net/retry.h"

static void test_backoff(void **state)
{
	struct rp_retry_policy def = {0}, p = {.base_ms = 100, .cap_ms = 1000};

	(void)state;
	/* the default: 800 ms doubling, jitter in [d/2, d) */
	assert_int_equal(rp_retry_delay_ms(&def, 0, -1, 0), 400);
	assert_int_equal(rp_retry_delay_ms(&def, 0, -1, 999), 400 + 400 * 999 / 1000);
	assert_int_equal(rp_retry_delay_ms(&def, 0, -1, 1000), 400); /* only rnd % 1000 */
	assert_int_equal(rp_retry_delay_ms(&def, 1, -1, 0), 800);
	assert_int_equal(rp_retry_delay_ms(&def, 2, -1, 500), 1600 + 800);
	/* capped at 60 s, however many attempts (no overflow) */
	assert_int_equal(rp_retry_delay_ms(&def, 7, -1, 0), RP_RETRY_CAP_MS / 2);
	assert_int_equal(rp_retry_delay_ms(&def, 4000000000u, -1, 999),
			 RP_RETRY_CAP_MS / 2 + RP_RETRY_CAP_MS / 2 * 999 / 1000);
	/* the caller's base and cap */
	assert_int_equal(rp_retry_delay_ms(&p, 0, -1, 0), 50);
	assert_int_equal(rp_retry_delay_ms(&p, 3, -1, 0), 400);
	assert_int_equal(rp_retry_delay_ms(&p, 4, -1, 0), 500);
	assert_int_equal(rp_retry_delay_ms(&p, 4, -1, 999), 999);
	/* Retry-After is honoured as is, up to the cap; 0 is "now" */
	assert_int_equal(rp_retry_delay_ms(&p, 3, 250, 999), 250);
	assert_int_equal(rp_retry_delay_ms(&p, 0, 0, 999), 0);
	assert_int_equal(rp_retry_delay_ms(&p, 0, 5000, 0), 1000);
	assert_int_equal(rp_retry_delay_ms(&def, 0, 120000, 0), RP_RETRY_CAP_MS);
	/* a 1 ms step still waits between 0 and 1 ms */
	p.base_ms = 1;
	assert_true(rp_retry_delay_ms(&p, 0, -1, 999) <= 1);
}

static void test_retry_after(void **state)
{
	char ra[] = "Retry-After", ms[] = "x-ms-retry-after-ms";
	char v2[] = "2", v150[] = "150", soon[] = "soon", date[] = "Wed, 21 Oct 2015 07:28:00 GMT";
	char v600[] = "600", v599[] = "599";
	struct rp_http_header h[2];
	struct rp_http_response r = {.status = 503, .headers = h};

	(void)state;
	assert_int_equal(rp_retry_after_ms(&r), -1);
	h[0] = (struct rp_http_header){.name = ra, .value = v2};
	r.header_count = 1;
	assert_int_equal(rp_retry_after_ms(&r), 2000);
	/* the milliseconds header wins */
	h[1] = (struct rp_http_header){.name = ms, .value = v150};
	r.header_count = 2;
	assert_int_equal(rp_retry_after_ms(&r), 150);
	/* nonsense and 10 minutes or more are not a wait */
	h[1].value = soon;
	assert_int_equal(rp_retry_after_ms(&r), 2000);
	h[0].value = date;
	assert_int_equal(rp_retry_after_ms(&r), -1);
	h[0].value = v600;
	assert_int_equal(rp_retry_after_ms(&r), -1);
	h[0].value = v599;
	assert_int_equal(rp_retry_after_ms(&r), 599000);
}

static void test_status(void **state)
{
	static const long yes[] = {408, 429, 500, 502, 503, 504, 599};
	static const long no[] = {200, 206, 400, 401, 403, 404, 409, 410, 412, 416, 600};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(rp_retry_status(yes[i]));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(rp_retry_status(no[i]));
}

/* A transport failure is retried; a refusal, an interruption or a usage error is not. */
static void test_transport(void **state)
{
	struct rp_http_opts o = {0};
	struct rp_http *h = NULL;
	struct rp_http_response r;
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	o.allow_http = true;
	assert_int_equal(rp_http_new(&o, &h, &err), 0);
	memset(&r, 0, sizeof(r));
	/* nothing listens on port 1 */
	assert_int_equal(
	    rp_http_request(h, "GET", "http://127.0.0.1:1/", NULL, NULL, 0, 1024, &r, &err),
	    RP_EIO);
	assert_true(rp_retry_transport(h, RP_EIO));
	assert_false(rp_retry_transport(h, RP_EAUTH));
	assert_false(rp_retry_transport(h, RP_EINTR));
	assert_false(rp_retry_transport(h, RP_EUSAGE));
	rp_http_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_transport),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
