/*
 * The pure parts of the managed-disk rule of net/auth.c (docs/azure.md "Managed disks with
 * Entra ID data access"): the storage Bearer challenge, the host of a URL and the managed-disk
 * host form. Declared in net/auth_int.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/url.h"
#include "net/auth_int.h"

#define DISK_HOST_SUFFIX ".blob.storage.azure.net"

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_printable(char c)
{
	return c > 0x20 && c < 0x7f;
}

/*
 * One parameter at h[*i]: name=value with value a token (up to a space or comma) or a quoted
 * string. False when the text there is not a parameter or a value does not fit.
 */
static bool next_param(const char *h, size_t *i, char *name, size_t namesz, char *val, size_t valsz)
{
	size_t p = *i, n = 0, v = 0;

	while (h[p] && h[p] != '=' && h[p] != ',' && !is_ows(h[p])) {
		if (n + 1 >= namesz || !is_printable(h[p]))
			return false;
		name[n++] = h[p++];
	}
	name[n] = '\0';
	if (n == 0 || h[p] != '=')
		return false;
	p++;
	if (h[p] == '"') {
		for (p++; h[p] != '"'; p++) {
			if (!h[p])
				return false;
			if (h[p] == '\\' && h[p + 1])
				p++;
			if (v + 1 >= valsz || !is_printable(h[p]))
				return false;
			val[v++] = h[p];
		}
		p++;
	} else {
		while (h[p] && h[p] != ',' && !is_ows(h[p])) {
			if (v + 1 >= valsz || !is_printable(h[p]))
				return false;
			val[v++] = h[p++];
		}
	}
	val[v] = '\0';
	*i = p;
	return true;
}

bool rp_auth_parse_storage_challenge(const char *h, struct rp_storage_challenge *out)
{
	struct rp_storage_challenge c;
	char name[64], val[sizeof(c.resource_id)];
	size_t i = 0;

	memset(&c, 0, sizeof(c));
	if (!h)
		return false;
	while (is_ows(h[i]))
		i++;
	if (strncasecmp(h + i, "bearer", 6) != 0 || (h[i + 6] && !is_ows(h[i + 6])))
		return false;
	i += 6;
	for (;;) {
		while (is_ows(h[i]) || h[i] == ',')
			i++;
		if (!h[i])
			break;
		if (!next_param(h, &i, name, sizeof(name), val, sizeof(val)))
			return false;
		if (strcasecmp(name, "resource_id") == 0)
			memcpy(c.resource_id, val, strlen(val) + 1);
		else if (strcasecmp(name, "authorization_uri") == 0)
			memcpy(c.authorization_uri, val, strlen(val) + 1);
	}
	*out = c;
	return true;
}

bool rp_auth_url_host(const char *url, char *host, size_t hostsz)
{
	struct rp_url_host u;
	size_t n, i, b;

	if (!rp_url_host(url, &u))
		return false;
	b = u.ipv6 ? 1
		   : 0; /* an IPv6 literal keeps its []: never a managed-disk host, but a host */
	n = u.host_len + 2 * b;
	if (n >= hostsz)
		return false;
	for (i = 0; i < u.host_len; i++) {
		char c = u.host[i];

		host[b + i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	if (b) {
		host[0] = '[';
		host[n - 1] = ']';
	}
	host[n] = '\0';
	return true;
}

bool rp_auth_is_disk_host(const char *host)
{
	size_t n = strlen(host), s = strlen(DISK_HOST_SUFFIX), i;

	/* md-NAME[.ZONE].blob.storage.azure.net (the service puts a zone label there:
	 * md-....z22.blob.storage.azure.net) */
	if (n <= s + 3 || strncmp(host, "md-", 3) != 0 || strcmp(host + n - s, DISK_HOST_SUFFIX))
		return false;
	for (i = 0; i < n - s; i++) {
		char c = host[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
		if (c == '.' && (i == 0 || host[i - 1] == '.'))
			return false;
	}
	return host[n - s - 1] != '.';
}
