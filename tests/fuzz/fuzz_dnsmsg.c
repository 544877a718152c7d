/*
 * Fuzz target for formats/dnsmsg.c: any bytes as the answer to a query for a fixed name. The
 * parser must accept or refuse with a message, never read outside the input or loop; an
 * accepted answer keeps its documented invariants (bounded chain, printable names, no empty
 * address).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_dns_answer a;
	struct rp_err err;
	size_t i, j;

	rp_err_init(&err);
	if (rp_dns_parse(data, size, "acct.blob.core.windows.net", &a, &err) != 0) {
		if (err.msg[0] == '\0')
			abort();
		return 0;
	}
	if (a.chain_len < 1 || a.chain_len > RP_DNS_MAX_CHAIN || a.addr_count > RP_DNS_MAX_ADDRS ||
	    a.rcode < 0 || a.rcode > 15)
		abort();
	for (i = 0; i < a.chain_len; i++)
		for (j = 0; a.chain[i][j]; j++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				    ".-_?",
				    a.chain[i][j]))
				abort();
	for (i = 0; i < a.addr_count; i++)
		if (a.addrs[i][0] == '\0')
			abort();
	return 0;
}
