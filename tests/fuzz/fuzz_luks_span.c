/*
 * Fuzz rp_luks_header_span (verify/luks_header.c): the input is the first bytes of a LUKS
 * volume (LUKS1 phdr, or LUKS2 binary header + JSON area). When the parser asks for more bytes
 * than it was given it must ask for no more than the input could hold in a real volume; a span
 * it accepts must lie within RP_LUKS_MAX_HEADER.
 *
 * Seeds are made by tests/fuzz/make_seeds_luks.sh from volumes cryptsetup formats.
 */
#include <stdint.h>
#include <stdlib.h>

#include "verify/luks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t span = 0, need = 0;
	struct rp_err err;
	int rc;

	rp_err_init(&err);
	rc = rp_luks_header_span(data, size, &span, &need, &err);
	if (rc == 0 && (span == 0 || span > RP_LUKS_MAX_HEADER))
		abort();
	if (rc == 1 && (need <= size || need > 4u * 1024 * 1024))
		abort();
	if (rc < 0 && (rc != RP_EFORMAT || err.msg[0] == 0))
		abort();
	return 0;
}
