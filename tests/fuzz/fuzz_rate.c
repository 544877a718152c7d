/*
 * Fuzz target for net/rate.c rp_rate_parse (--limit-rate): any text either parses to a cap from
 * RP_RATE_MIN to RP_RATE_MAX or is refused with a message, never both, never a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/rate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	struct rp_err err;
	uint64_t v = 0;
	int rc;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	rp_err_init(&err);
	rc = rp_rate_parse(in, &v, &err);
	if (rc == 0 && (v < RP_RATE_MIN || v > RP_RATE_MAX))
		abort();
	if (rc != 0 && (rc != RP_EUSAGE || !err.msg[0]))
		abort();
	free(in);
	return 0;
}
