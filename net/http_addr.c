/*
 * The address policy of net/http.h: which addresses count as private (--require-private,
 * --private-cidr). Pure: no libcurl here; net/http.c applies it to every connection. URL
 * redaction is common/text.h's rp_url_redact().
 */
#include "net/http.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

int rp_cidr_parse(const char *text, struct rp_cidr *c, struct rp_err *err)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	uint64_t prefix;
	struct in_addr v4;
	size_t n = slash ? (size_t)(slash - text) : strlen(text);

	if (n == 0 || n >= sizeof(addr))
		return rp_err_set(err, RP_EUSAGE, "'%s' is not an address range (e.g. 10.0.0.0/8)",
				  text);
	memcpy(addr, text, n);
	addr[n] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, addr, &v4) == 1) {
		c->addr[10] = 0xff;
		c->addr[11] = 0xff;
		memcpy(c->addr + 12, &v4, 4);
		c->prefix = 96 + 32;
		if (slash) {
			if (rp_parse_u64(slash + 1, &prefix, NULL) != 0 || prefix > 32)
				return rp_err_set(err, RP_EUSAGE, "'%s': bad prefix length", text);
			c->prefix = 96 + (unsigned)prefix;
		}
		return 0;
	}
	if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->prefix = 128;
		if (slash) {
			if (rp_parse_u64(slash + 1, &prefix, NULL) != 0 || prefix > 128)
				return rp_err_set(err, RP_EUSAGE, "'%s': bad prefix length", text);
			c->prefix = (unsigned)prefix;
		}
		return 0;
	}
	return rp_err_set(err, RP_EUSAGE, "'%s' is not an address range (e.g. 10.0.0.0/8)", text);
}

static bool cidr_match(const struct rp_cidr *c, const uint8_t a[16])
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (memcmp(c->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((c->addr[full] ^ a[full]) & (0xFF << (8 - rest))) == 0;
}

bool rp_addr_is_private(const struct rp_http_opts *o, const char *addr)
{
	/* RFC 1918, RFC 6598 shared space, and unique local IPv6 (RFC 4193; docs/azure.md). */
	static const char *const builtin[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
					      "100.64.0.0/10", "fc00::/7"};
	uint8_t a[16] = {0};
	struct in_addr v4;
	struct rp_cidr c;
	size_t i;

	if (inet_pton(AF_INET, addr, &v4) == 1) {
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &v4, 4);
	} else if (inet_pton(AF_INET6, addr, a) != 1) {
		return false;
	}
	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (rp_cidr_parse(builtin[i], &c, NULL) == 0 && cidr_match(&c, a))
			return true;
	for (i = 0; o && i < o->private_extra_count; i++)
		if (cidr_match(&o->private_extra[i], a))
			return true;
	return false;
}
