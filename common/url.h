/*
 * The authority of an absolute URL, "scheme://[userinfo@]host[:port]/...": where its host and
 * port are. One splitter for the places that need the host (the managed-disk audience check,
 * no_proxy matching, preflight's name resolution). Pure; thread-safe.
 */
#ifndef RP_COMMON_URL_H
#define RP_COMMON_URL_H

#include <stdbool.h>
#include <stddef.h>

struct rp_url_host {
	const char *host; /* into the URL: without user info and without an IPv6 literal's [] */
	size_t host_len;  /* > 0 */
	const char *port; /* into the URL, or NULL when none is given ("h:" gives "", 0) */
	size_t port_len;
	bool ipv6; /* the host was written as a bracketed literal "[...]" */
};

/*
 * Split url into out: the authority runs from after "://" to the first '/', '?' or '#'; the user
 * info ends at its last '@'. False (out unchanged) when there is no "://", no host, or an IPv6
 * literal without its closing ']' or followed by anything but ":PORT".
 */
bool rp_url_host(const char *url, struct rp_url_host *out);

#endif
