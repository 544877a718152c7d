/*
 * The resolver of net/dns.h: libresolv reads /etc/resolv.conf and builds the query; we send
 * it over UDP ourselves (IPv4 servers) and hand the answer to formats/dnsmsg.c.
 */
#include "net/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"

static int set_server(res_state st, const char *server, struct rp_err *err)
{
	char addr[INET_ADDRSTRLEN + 1];
	const char *colon = strrchr(server, ':');
	size_t n = colon ? (size_t)(colon - server) : strlen(server);
	uint64_t port = 53;
	struct in_addr a;

	if (n == 0 || n >= sizeof(addr))
		return rp_err_set(err, RP_EUSAGE, "DNS server '%s': not ADDR or ADDR:PORT", server);
	memcpy(addr, server, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1 ||
	    (colon && (rp_parse_u64(colon + 1, &port, NULL) != 0 || port == 0 || port > 65535)))
		return rp_err_set(err, RP_EUSAGE, "DNS server '%s': not an IPv4 ADDR or ADDR:PORT",
				  server);
	st->nscount = 1;
	st->nsaddr_list[0].sin_family = AF_INET;
	st->nsaddr_list[0].sin_addr = a;
	st->nsaddr_list[0].sin_port = htons((uint16_t)port);
	return 0;
}

/*
 * Send the query to one server over UDP and wait for the answer with its ID: res_nsend would
 * hide SERVFAIL and REFUSED behind a time-out (it moves on to the next server), and those are
 * what tell a broken forwarder from a silent one.
 */
static ssize_t exchange(const struct sockaddr_in *ns, const unsigned char *q, int qlen,
			unsigned char *a, size_t asz, int *eno)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), attempt;
	ssize_t n = -1;

	*eno = errno;
	if (fd < 0)
		return -1;
	for (attempt = 0; attempt < 2 && n < 0; attempt++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (sendto(fd, q, (size_t)qlen, 0, (const struct sockaddr *)ns, sizeof(*ns)) < 0) {
			*eno = errno;
			break;
		}
		while (n < 0) {
			int r = poll(&p, 1, 2000);

			if (r <= 0) {
				*eno = r == 0 ? ETIMEDOUT : errno;
				break;
			}
			n = recv(fd, a, asz, 0);
			if (n < 0) {
				*eno = errno;
				if (errno == ECONNREFUSED)
					attempt = 2;
				break;
			}
			if (n < 2 || a[0] != q[0] || a[1] != q[1])
				n = -1; /* not our answer: wait on */
		}
	}
	close(fd);
	return n;
}

static int ask(res_state st, const char *host, int type, const char *who, struct rp_dns_answer *out,
	       struct rp_err *err)
{
	unsigned char q[NS_PACKETSZ], a[8192];
	int qlen, eno = 0, i;
	ssize_t alen = -1;

	qlen = res_nmkquery(st, ns_o_query, host, ns_c_in, type, NULL, 0, NULL, q, sizeof(q));
	if (qlen < 0)
		return rp_err_set(err, RP_EUSAGE, "'%s' is not a name that can be resolved", host);
	for (i = 0; i < st->nscount && alen < 0; i++)
		if (st->nsaddr_list[i].sin_family == AF_INET)
			alen = exchange(&st->nsaddr_list[i], q, qlen, a, sizeof(a), &eno);
	if (alen < 0)
		return rp_err_set(err, RP_EIO, "no answer from %s for %s (%s)", who, host,
				  strerror(eno ? eno : EHOSTUNREACH));
	if (rp_dns_parse(a, (size_t)alen, host, out, err) != 0) {
		rp_err_prefix(err, "%s", who);
		return RP_EFORMAT;
	}
	if (out->rcode == ns_r_servfail || out->rcode == ns_r_refused)
		return rp_err_set(err, RP_EIO, "%s answers %s for %s", who,
				  out->rcode == ns_r_servfail ? "SERVFAIL" : "REFUSED", host);
	return 0;
}

int rp_dns_resolve(const char *host, const char *server, struct rp_dns_answer *out,
		   struct rp_err *err)
{
	struct __res_state st;
	char who[80];
	int rc;

	memset(&st, 0, sizeof(st));
	memset(out, 0, sizeof(*out));
	if (res_ninit(&st) != 0)
		return rp_err_set(err, RP_EIO, "cannot set up the resolver (/etc/resolv.conf)");
	st.retrans = 2;
	st.retry = 2;
	rc = server ? set_server(&st, server, err) : 0;
	if (rc == 0) {
		snprintf(who, sizeof(who), "%s%s",
			 server ? "the DNS server " : "the system's resolver",
			 server ? server : "");
		rc = ask(&st, host, ns_t_a, who, out, err);
		if (rc == 0 && out->addr_count == 0 && out->rcode == ns_r_noerror)
			rc = ask(&st, host, ns_t_aaaa, who, out, err);
	}
	res_nclose(&st);
	return rc;
}
