/*
 * Which proxy libcurl takes for a URL from the environment, so that messages can name it and
 * the command line can say when it is not used. The rules are libcurl's (lib/url.c): the
 * variable "<scheme>_proxy" in lowercase, then in uppercase except for http (HTTP_PROXY can be
 * set by a web server's client through CGI), then all_proxy and ALL_PROXY; no_proxy (then
 * NO_PROXY) lists hosts that go direct: "*" is every host, an entry matches the host itself
 * and the names below it (a leading dot is ignored), case-insensitively. Pure apart from
 * getenv: no libcurl here.
 */
#include "net/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/url.h"

static const char *env_first(const char *a, const char *b)
{
	const char *v = getenv(a);

	if ((!v || !*v) && b)
		v = getenv(b);
	return v && *v ? v : NULL;
}

/* Does one no_proxy entry (len bytes, no spaces) cover host? */
static bool noproxy_entry(const char *e, size_t len, const char *host, size_t hlen)
{
	if (len == 1 && e[0] == '*')
		return true;
	if (len && e[0] == '.') {
		e++;
		len--;
	}
	if (len == 0 || len > hlen)
		return false;
	if (strncasecmp(host + hlen - len, e, len) != 0)
		return false;
	return hlen == len || host[hlen - len - 1] == '.';
}

static bool host_in_noproxy(const char *host, size_t hlen)
{
	const char *list = env_first("no_proxy", "NO_PROXY");
	const char *p = list;

	while (p && *p) {
		size_t skip = strspn(p, " ,"), len;

		p += skip;
		len = strcspn(p, " ,");
		if (len && noproxy_entry(p, len, host, hlen))
			return true;
		p += len;
	}
	return false;
}

/* The host of url (no user info, port or IPv6 brackets) as [*host, *host + *hlen). */
static bool url_host(const char *url, const char **host, size_t *hlen)
{
	struct rp_url_host u;

	if (!rp_url_host(url, &u))
		return false;
	*host = u.host;
	*hlen = u.host_len;
	return true;
}

bool rp_http_env_proxy(const char *url, char *proxy, size_t proxysz, char *var, size_t varsz)
{
	char name[40];
	const char *host, *v = NULL;
	size_t slen = strcspn(url, ":"), hlen, i;
	int pass;

	if (slen == 0 || slen + sizeof("_proxy") > sizeof(name) || !url_host(url, &host, &hlen))
		return false;
	/* lowercase <scheme>_proxy; uppercase, except HTTP_PROXY; all_proxy; ALL_PROXY */
	for (pass = 0; pass < 4 && !v; pass++) {
		if (pass < 2) {
			for (i = 0; i < slen; i++)
				name[i] = (char)(pass ? url[i] & ~0x20 : url[i] | 0x20);
			memcpy(name + slen, pass ? "_PROXY" : "_proxy", sizeof("_proxy"));
			if (pass && strcmp(name, "HTTP_PROXY") == 0)
				continue;
		} else {
			snprintf(name, sizeof(name), "%s", pass == 2 ? "all_proxy" : "ALL_PROXY");
		}
		v = env_first(name, NULL);
	}
	if (!v || host_in_noproxy(host, hlen))
		return false;
	if (proxy && proxysz)
		rp_url_redact(v, proxy, proxysz);
	if (var && varsz)
		snprintf(var, varsz, "%s", name);
	return true;
}
