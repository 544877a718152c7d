#include "common/url.h"

#include <string.h>

bool rp_url_host(const char *url, struct rp_url_host *out)
{
	const char *sep = strstr(url, "://"), *h, *end, *at, *p;
	struct rp_url_host r = {0};

	if (!sep)
		return false;
	h = sep + 3;
	end = h + strcspn(h, "/?#");
	for (at = NULL, p = h; p < end; p++)
		if (*p == '@')
			at = p;
	if (at)
		h = at + 1;
	if (h < end && *h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));

		if (!close || (close + 1 < end && close[1] != ':'))
			return false;
		r.ipv6 = true;
		r.host = h + 1;
		r.host_len = (size_t)(close - h - 1);
		p = close + 1;
	} else {
		const char *colon = memchr(h, ':', (size_t)(end - h));

		r.host = h;
		r.host_len = (size_t)((colon ? colon : end) - h);
		p = colon ? colon : end;
	}
	if (r.host_len == 0)
		return false;
	if (p < end) { /* *p == ':' */
		r.port = p + 1;
		r.port_len = (size_t)(end - p - 1);
	}
	*out = r;
	return true;
}
