/* DNS responses: header, question skip, answer records, name compression (RFC 1035 4.1). */
#include "formats/dnsmsg.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/endian.h"

#define DNS_HDR 12
#define TYPE_A 1
#define TYPE_CNAME 5
#define TYPE_AAAA 28
#define CLASS_IN 1
#define MAX_RECORDS 64

struct record {
	uint16_t type;
	char owner[RP_DNS_NAME_MAX];
	size_t rdata, rdlen; /* offset and length in the message */
};

/*
 * Read the name at *pos into out (dotted text, no trailing dot) and move *pos past it. A
 * pointer must point before the name it sits in, so no chain of pointers can loop.
 */
static int read_name(const uint8_t *m, size_t len, size_t *pos, char *out, struct rp_err *err)
{
	size_t p = *pos, o = 0, total = 0, limit = *pos, end = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return rp_err_set(err, RP_EFORMAT, "dns answer: a name runs past the end");
		l = m[p];
		if ((l & 0xC0) == 0xC0) {
			size_t to;

			if (p + 1 >= len)
				return rp_err_set(err, RP_EFORMAT, "dns answer: a cut pointer");
			to = (size_t)((l & 0x3F) << 8 | m[p + 1]);
			if (to >= limit)
				return rp_err_set(
				    err, RP_EFORMAT,
				    "dns answer: a name pointer that does not point back");
			if (!jumped)
				end = p + 2;
			jumped = true;
			limit = to;
			p = to;
			continue;
		}
		if (l & 0xC0)
			return rp_err_set(err, RP_EFORMAT, "dns answer: an unknown label type");
		if (l == 0) {
			if (!jumped)
				end = p + 1;
			break;
		}
		if (p + 1 + l > len)
			return rp_err_set(err, RP_EFORMAT, "dns answer: a label runs past the end");
		total += (size_t)l + 1;
		if (total > 255 || o + l + 2 > RP_DNS_NAME_MAX)
			return rp_err_set(err, RP_EFORMAT, "dns answer: a name over 255 bytes");
		if (o)
			out[o++] = '.';
		for (size_t i = 0; i < l; i++) {
			char ch = (char)m[p + 1 + i];
			bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';

			out[o++] = ok ? ch : '?';
		}
		p += 1 + l;
	}
	out[o] = '\0';
	*pos = end;
	return 0;
}

static bool same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

int rp_dns_parse(const uint8_t *msg, size_t len, const char *qname, struct rp_dns_answer *out,
		 struct rp_err *err)
{
	struct record rec[MAX_RECORDS];
	size_t pos = DNS_HDR, nrec = 0, qd, an, i, j;
	char name[RP_DNS_NAME_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < DNS_HDR)
		return rp_err_set(err, RP_EFORMAT, "dns answer: %zu bytes, shorter than a header",
				  len);
	if (!(msg[2] & 0x80))
		return rp_err_set(err, RP_EFORMAT, "dns answer: not a response");
	if (msg[2] & 0x02)
		return rp_err_set(err, RP_EFORMAT, "dns answer: truncated (TC set)");
	out->rcode = msg[3] & 0x0F;
	qd = rp_be16(msg + 4);
	an = rp_be16(msg + 6);
	for (i = 0; i < qd; i++) {
		rc = read_name(msg, len, &pos, name, err);
		if (rc)
			return rc;
		if (pos + 4 > len)
			return rp_err_set(err, RP_EFORMAT, "dns answer: a cut question");
		pos += 4;
	}
	for (i = 0; i < an; i++) {
		struct record r;
		uint16_t klass;

		rc = read_name(msg, len, &pos, r.owner, err);
		if (rc)
			return rc;
		if (pos + 10 > len)
			return rp_err_set(err, RP_EFORMAT, "dns answer: a cut record");
		r.type = rp_be16(msg + pos);
		klass = rp_be16(msg + pos + 2);
		r.rdlen = rp_be16(msg + pos + 8);
		r.rdata = pos + 10;
		if (r.rdata + r.rdlen > len)
			return rp_err_set(err, RP_EFORMAT, "dns answer: record data past the end");
		pos = r.rdata + r.rdlen;
		if (klass != CLASS_IN ||
		    (r.type != TYPE_A && r.type != TYPE_AAAA && r.type != TYPE_CNAME))
			continue;
		if ((r.type == TYPE_A && r.rdlen != 4) || (r.type == TYPE_AAAA && r.rdlen != 16))
			return rp_err_set(err, RP_EFORMAT, "dns answer: an address of %zu bytes",
					  r.rdlen);
		if (nrec == MAX_RECORDS)
			return rp_err_set(err, RP_EFORMAT, "dns answer: more than %d records",
					  MAX_RECORDS);
		rec[nrec++] = r;
	}
	snprintf(out->chain[0], sizeof(out->chain[0]), "%s", qname);
	out->chain_len = 1;
	for (;;) {
		const char *cur = out->chain[out->chain_len - 1];
		bool next = false;

		for (i = 0; i < nrec && !next; i++) {
			size_t p = rec[i].rdata;

			if (rec[i].type != TYPE_CNAME || !same_name(rec[i].owner, cur))
				continue;
			if (out->chain_len == RP_DNS_MAX_CHAIN)
				return rp_err_set(err, RP_EFORMAT,
						  "dns answer: a CNAME chain longer than %d names",
						  RP_DNS_MAX_CHAIN);
			rc = read_name(msg, len, &p, out->chain[out->chain_len], err);
			if (rc)
				return rc;
			for (j = 0; j < out->chain_len; j++)
				if (same_name(out->chain[j], out->chain[out->chain_len]))
					return rp_err_set(err, RP_EFORMAT,
							  "dns answer: the CNAME chain loops at %s",
							  out->chain[j]);
			out->chain_len++;
			next = true;
		}
		if (!next)
			break;
	}
	for (i = 0; i < nrec && out->addr_count < RP_DNS_MAX_ADDRS; i++) {
		if (rec[i].type == TYPE_CNAME ||
		    !same_name(rec[i].owner, out->chain[out->chain_len - 1]))
			continue;
		inet_ntop(rec[i].type == TYPE_A ? AF_INET : AF_INET6, msg + rec[i].rdata,
			  out->addrs[out->addr_count++], RP_DNS_ADDR_MAX);
	}
	return 0;
}
