/*
 * Name resolution that shows its work, for preflight: one query (A, then AAAA when A has no
 * address) sent with the C library's resolver (libresolv) to the servers of /etc/resolv.conf
 * or to one given server, and the CNAME chain of the answer (formats/dnsmsg.h). getaddrinfo
 * hides that chain, and the chain is what tells a private endpoint's DNS from a public answer.
 */
#ifndef RP_NET_DNS_H
#define RP_NET_DNS_H

#include "common/err.h"
#include "formats/dnsmsg.h"

/*
 * Resolve host. server is NULL (the system's resolvers) or "ADDR" / "ADDR:PORT" (IPv4, port 53
 * by default). A server that does not answer, or answers SERVFAIL or REFUSED, is RP_EIO naming
 * it; NXDOMAIN and an empty answer are 0 with out->addr_count 0 and out->rcode set; a
 * malformed answer is RP_EFORMAT. Thread-safe (a resolver state per call).
 */
int rp_dns_resolve(const char *host, const char *server, struct rp_dns_answer *out,
		   struct rp_err *err);

#endif
