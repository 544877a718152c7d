/*
 * Fuzz target for rp_encdata_parse (a blob's encryptiondata metadata): any input is accepted or
 * refused with RP_EFORMAT and a message; an accepted one has a sane geometry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/encdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_encdata ed;
	struct rp_err err;
	uint64_t plain;
	int rc;

	rp_err_init(&err);
	rc = rp_encdata_parse((const char *)data, size, &ed, &err);
	if (rc) {
		if (rc != RP_EFORMAT || !err.msg[0])
			abort();
		return 0;
	}
	if (ed.region_len == 0 || ed.region_len > RP_ENCDATA_MAX_REGION ||
	    ed.wrapped_len > RP_ENCDATA_MAX_WRAPPED || !ed.key_id[0] || !ed.wrap_alg[0] ||
	    (strcmp(ed.protocol, "2.0") != 0 && strcmp(ed.protocol, "2.1") != 0))
		abort();
	rc = rp_encdata_plain_size(&ed, size * 4099u, &plain, &err);
	if (rc == 0 && plain > size * 4099u)
		abort();
	return 0;
}
