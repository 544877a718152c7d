/* common/url.h: the host and port of a URL's authority. */
#include "unit.h"

#include <string.h>

#include "common/url.h"

struct url_case {
	const char *url;
	bool ok;
	const char *host; /* expected host (when ok) */
	const char *port; /* expected port, or NULL for none */
	bool ipv6;
};

static const struct url_case cases[] = {
    {"https://acct.blob.core.windows.net/c/b?sv=1&sig=x", true, "acct.blob.core.windows.net", NULL,
     false},
    {"https://host:8443/c/b", true, "host", "8443", false},
    {"http://host", true, "host", NULL, false},			 /* no path */
    {"https://host?sig=a", true, "host", NULL, false},		 /* no path, a query */
    {"https://host#frag", true, "host", NULL, false},		 /* no path, a fragment */
    {"https://host:", true, "host", "", false},			 /* an empty port */
    {"https://user@host/p", true, "host", NULL, false},		 /* user info */
    {"https://user:pa:ss@host:99/p", true, "host", "99", false}, /* ':' in user info */
    {"https://a@b@host/p", true, "host", NULL, false},		 /* the last '@' ends it */
    {"https://h/p@q", true, "h", NULL, false},			 /* '@' in the path */
    {"https://[::1]:8443/c/b", true, "::1", "8443", true},
    {"https://[fe80::1%25eth0]/x", true, "fe80::1%25eth0", NULL, true},
    {"https://u:p@[2001:db8::7]", true, "2001:db8::7", NULL, true},
    {"http://[::1]", true, "::1", NULL, true},
    {"https://[::1/x", false, NULL, NULL, false},   /* no closing ']' */
    {"https://[::1]x/p", false, NULL, NULL, false}, /* not ":PORT" after it */
    {"https://[]:1/", false, NULL, NULL, false},    /* an empty literal */
    {"https:///path", false, NULL, NULL, false},    /* no host */
    {"https://user@/p", false, NULL, NULL, false},  /* no host after the user info */
    {"https://:443/p", false, NULL, NULL, false},   /* a port, no host */
    {"no-scheme", false, NULL, NULL, false},
    {"", false, NULL, NULL, false},
};

static void test_url_host(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct url_case *c = &cases[i];
		struct rp_url_host u = {.host = "unchanged"};

		assert_int_equal(rp_url_host(c->url, &u), c->ok);
		if (!c->ok) {
			assert_string_equal(u.host, "unchanged");
			continue;
		}
		assert_int_equal(u.host_len, strlen(c->host));
		assert_memory_equal(u.host, c->host, u.host_len);
		assert_int_equal(u.ipv6, c->ipv6);
		if (!c->port) {
			assert_null(u.port);
			continue;
		}
		assert_non_null(u.port);
		assert_int_equal(u.port_len, strlen(c->port));
		assert_memory_equal(u.port, c->port, u.port_len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
