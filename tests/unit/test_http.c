/*
 * Unit tests for the pure parts of net/http.c: private address ranges and the proxy libcurl
 * takes from the environment (URL redaction: test_text.c).
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "net/http.h"
#include "net/net.h"
#include "net/retry.h"

static void test_private(void **state)
{
	static const struct {
		const char *addr;
		bool priv;
	} cases[] = {
	    {"10.1.2.3", true},		{"172.16.0.1", true},	   {"172.31.255.255", true},
	    {"172.32.0.1", false},	{"192.168.1.1", true},	   {"100.64.0.1", true},
	    {"100.128.0.1", false},	{"8.8.8.8", false},	   {"127.0.0.1", false},
	    {"fd12:3456::1", true},	{"fe80::1", false},	   {"2001:db8::1", false},
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
	static const char *const bad[] = {"",	    "10.0.0.0/33", "10.0.0.0/x", "::/129",
					  "host/8", "/8",	   "10.0.0/8"};
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

static void test_env_proxy(void **state)
{
	static const char *const vars[] = {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY",
					   "all_proxy",	  "ALL_PROXY",	 "no_proxy",   "NO_PROXY"};
	static const struct {
		const char *set[3][2];	       /* variable, value */
		const char *url, *proxy, *var; /* proxy NULL: direct */
	} cases[] = {
	    {{{"https_proxy", "http://p:3128"}},
	     "https://a.blob.core.windows.net/c",
	     "http://p:3128",
	     "https_proxy"},
	    {{{"HTTPS_PROXY", "http://u:pw@p:3128"}},
	     "https://h/x",
	     "http://p:3128",
	     "HTTPS_PROXY"},
	    /* HTTP_PROXY (uppercase) is ignored for http, as by libcurl */
	    {{{"HTTP_PROXY", "http://p:1"}}, "http://169.254.169.254/metadata", NULL, NULL},
	    {{{"http_proxy", "http://p:1"}},
	     "http://169.254.169.254/metadata",
	     "http://p:1",
	     "http_proxy"},
	    {{{"ALL_PROXY", "socks5://p:1080"}},
	     "https://h:8443/x?sig=S",
	     "socks5://p:1080",
	     "ALL_PROXY"},
	    {{{"all_proxy", "http://a:1"}, {"https_proxy", "http://b:2"}},
	     "https://h/",
	     "http://b:2",
	     "https_proxy"},
	    {{{"https_proxy", "http://p:1"}, {"no_proxy", "*"}}, "https://h/", NULL, NULL},
	    {{{"https_proxy", "http://p:1"}, {"no_proxy", "x.org, .windows.net"}},
	     "https://a.blob.core.windows.net/c",
	     NULL,
	     NULL},
	    {{{"https_proxy", "http://p:1"}, {"NO_PROXY", "core.windows.net"}},
	     "https://user@a.blob.core.windows.net:443/c",
	     NULL,
	     NULL},
	    /* a suffix that is not a whole label does not match */
	    {{{"https_proxy", "http://p:1"}, {"no_proxy", "windows.net"}},
	     "https://evilwindows.net/",
	     "http://p:1",
	     "https_proxy"},
	    {{{"https_proxy", "http://p:1"}, {"no_proxy", "::1"}},
	     "https://[::1]:8443/",
	     NULL,
	     NULL},
	    {{{"https_proxy", ""}}, "https://h/", NULL, NULL},
	    {{{NULL}}, "https://h/", NULL, NULL},
	};
	char proxy[128], var[40];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (j = 0; j < sizeof(vars) / sizeof(vars[0]); j++)
			unsetenv(vars[j]);
		for (j = 0; j < 3 && cases[i].set[j][0]; j++)
			setenv(cases[i].set[j][0], cases[i].set[j][1], 1);
		if (!cases[i].proxy) {
			assert_false(rp_http_env_proxy(cases[i].url, proxy, sizeof(proxy), var,
						       sizeof(var)));
			continue;
		}
		assert_true(
		    rp_http_env_proxy(cases[i].url, proxy, sizeof(proxy), var, sizeof(var)));
		assert_string_equal(proxy, cases[i].proxy);
		assert_string_equal(var, cases[i].var);
	}
	for (j = 0; j < sizeof(vars) / sizeof(vars[0]); j++)
		unsetenv(vars[j]);
}

/* The defaults pass the one check; each limit is where net/net.h says, and named when broken. */
static void test_net_opts(void **state)
{
	struct rp_net_opts o;
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	rp_net_opts_default(&o);
	assert_int_equal(o.connections, 16);
	assert_int_equal(o.chunk_size, 4u << 20);
	assert_int_equal(o.retries, 5);
	assert_int_equal(o.retry_base_ms, RP_RETRY_BASE_MS);
	assert_int_equal(o.th, RP_THR_AUTO);
	assert_int_equal(rp_net_opts_check(&o, &err), 0);
	o.connections = 0;
	assert_int_equal(rp_net_opts_check(&o, &err), RP_EUSAGE);
	assert_string_equal(err.msg, "connections 0: 1 to 64 expected");
	o.connections = 64;
	assert_int_equal(rp_net_opts_check(&o, &err), 0);
	o.connections = 65;
	assert_int_equal(rp_net_opts_check(&o, &err), RP_EUSAGE);
	o.connections = 1;
	o.retries = 101;
	assert_int_equal(rp_net_opts_check(&o, &err), RP_EUSAGE);
	assert_string_equal(err.msg, "retries 101: at most 100 expected");
	o.retries = 100;
	o.retry_base_ms = 60001;
	assert_int_equal(rp_net_opts_check(&o, &err), RP_EUSAGE);
	o.retry_base_ms = 60000;
	o.range_timeout_s = 86401;
	assert_int_equal(rp_net_opts_check(&o, &err), RP_EUSAGE);
	o.range_timeout_s = 86400;
	assert_int_equal(rp_net_opts_check(&o, &err), 0);
	o.chunk_size = 2048;
	assert_int_equal(rp_net_opts_check(&o, &err), RP_EUSAGE);
	assert_string_equal(err.msg, "chunk size 2048: a multiple of 512 from 4K to 64M expected");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_private),
	    cmocka_unit_test(test_cidr_errors),
	    cmocka_unit_test(test_env_proxy),
	    cmocka_unit_test(test_net_opts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
