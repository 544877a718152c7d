/*
 * DNS answers (RFC 1035 section 4) as preflight reads them: the CNAME chain from the name asked
 * to the name that holds the addresses, and those addresses. Pure: the caller sends the query
 * (net/dns.c) and hands the answer over. Thread-safe.
 */
#ifndef RP_FORMATS_DNSMSG_H
#define RP_FORMATS_DNSMSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define RP_DNS_MAX_CHAIN 8 /* names: the one asked and up to 7 CNAME targets */
#define RP_DNS_MAX_ADDRS 8
#define RP_DNS_NAME_MAX 256 /* a name as text, without the trailing dot, plus NUL */
#define RP_DNS_ADDR_MAX 46  /* INET6_ADDRSTRLEN */

struct rp_dns_answer {
	int rcode;				       /* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ... */
	char chain[RP_DNS_MAX_CHAIN][RP_DNS_NAME_MAX]; /* chain[0]: the name asked */
	size_t chain_len;
	char addrs[RP_DNS_MAX_ADDRS][RP_DNS_ADDR_MAX]; /* A and AAAA of the chain's last name */
	size_t addr_count;
};

/*
 * Parse a DNS response to a query for qname. Names are compared without case; bytes outside
 * [A-Za-z0-9._-] in a name become '?', so names are safe to print. A chain longer than
 * RP_DNS_MAX_CHAIN or that loops is RP_EFORMAT, as is any malformed message (truncated
 * records, compression pointers that do not point back, names over 255 bytes). A response with
 * no answer for qname (NXDOMAIN, or NOERROR without records) parses, with chain_len 1 and
 * addr_count 0; out->rcode says which.
 */
int rp_dns_parse(const uint8_t *msg, size_t len, const char *qname, struct rp_dns_answer *out,
		 struct rp_err *err);

#endif
