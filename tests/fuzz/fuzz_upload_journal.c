/*
 * Fuzz target for rp_upload_journal_parse: any bytes must be accepted or refused with
 * RP_EFORMAT or RP_EIO and a message, never read past the input. An accepted journal must
 * encode back to the same bytes. The expected identity is fixed (the seeds are made for it by
 * tests/fuzz/make_seeds_upload_journal.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restore/upload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rp_upload_journal_id id = {67109376, 4194304, 17, 1700000000000000000,
						       "https://127.0.0.1/c/disk.vhd"};
	uint8_t done[3], dat[3], sha[17 * 32] = {0}, *back = NULL;
	struct rp_err err;
	size_t len = 0;
	int rc;

	rp_err_init(&err);
	rc = rp_upload_journal_parse(data, size, &id, done, dat, sha, &err);
	if (rc) {
		if ((rc != RP_EFORMAT && rc != RP_EIO) || err.msg[0] == '\0')
			abort();
		return 0;
	}
	if (rp_upload_journal_encode(&id, done, dat, sha, &back, &len, &err) != 0)
		abort();
	if (len != size || memcmp(back, data, size) != 0)
		abort();
	free(back);
	return 0;
}
