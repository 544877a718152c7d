/*
 * Fuzz target: the input as a VHD footer, parsed with and without VHD_IGNORE_CHECKSUMS.
 * With the flag, the result must differ from the strict parse only by the checksum.
 */
#include <stdint.h>
#include <stdlib.h>

#include "formats/vhd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhd_footer strict, lax;
	struct rp_err err;
	int rc_strict, rc_lax;

	rp_err_init(&err);
	rc_strict = vhd_footer_parse(data, size, 0, &strict, &err);
	rc_lax = vhd_footer_parse(data, size, VHD_IGNORE_CHECKSUMS, &lax, &err);
	/* A strict success implies a lax success with a good checksum. */
	if (rc_strict == 0 && (rc_lax != 0 || !lax.checksum_ok || !strict.checksum_ok))
		abort();
	if (rc_lax == 0 && lax.checksum_ok && rc_strict != 0)
		abort();
	return 0;
}
