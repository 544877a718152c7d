/* Unit tests for the pure parts of restore/http.c: private address ranges (URL redaction:
 * test_text.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "restore/http.h"

static void test_private(void **state)
{
	static const struct {
		const char *addr;
		bool priv;
	} cases[] = {
		{"10.1.2.3", true},       {"172.16.0.1", true},    {"172.31.255.255", true},
		{"172.32.0.1", false},    {"192.168.1.1", true},   {"100.64.0.1", true},
		{"100.128.0.1", false},   {"8.8.8.8", false},      {"127.0.0.1", false},
		{"fd12:3456::1", true},   {"fe80::1", false},      {"2001:db8::1", false},
		{"169.254.169.254", false}, {"not-an-address", false},
	};
	struct rp_http_opts o;
	struct rp_err err;
	size_t i;

	(void)state;
	memset(&o, 0, sizeof(o));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(rp_addr_is_private(&o, cases[i].addr), cases[i].priv);
	rp_err_init(&err);
	assert_int_equal(rp_cidr_parse("127.0.0.0/8", &o.private_extra[0], &err), 0);
	o.private_extra_count = 1;
	assert_true(rp_addr_is_private(&o, "127.0.0.1"));
	assert_false(rp_addr_is_private(&o, "128.0.0.1"));
	assert_int_equal(rp_cidr_parse("::1/128", &o.private_extra[1], &err), 0);
	o.private_extra_count = 2;
	assert_true(rp_addr_is_private(&o, "::1"));
}

static void test_cidr_errors(void **state)
{
	static const char *const bad[] = {"", "10.0.0.0/33", "10.0.0.0/x", "::/129", "host/8",
					  "/8", "10.0.0/8"};
	struct rp_cidr c;
	struct rp_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rp_err_init(&err);
		assert_int_equal(rp_cidr_parse(bad[i], &c, &err), RP_EUSAGE);
		assert_true(strstr(err.msg, "address range") || strstr(err.msg, "prefix"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private),
		cmocka_unit_test(test_cidr_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
