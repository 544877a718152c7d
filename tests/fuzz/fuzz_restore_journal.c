/*
 * Fuzz target for rp_journal_parse (the restore journal, docs/journal.md): any bytes must be
 * accepted or refused with RP_EFORMAT and a message, never read past the input. An accepted
 * version 2 journal must encode back to the same bytes. Seeds: make_seeds_restore_journal.py.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restore/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_journal j;
	struct rp_err err;
	uint8_t *sha, *back = NULL;
	uint64_t i, d = 0;
	size_t len = 0;
	int rc;

	rp_err_init(&err);
	rc = rp_journal_parse(data, size, &j, &err);
	if (rc) {
		if (rc != RP_EFORMAT || err.msg[0] == '\0')
			abort();
		return 0;
	}
	if (j.version == 1)
		return 0;
	if (j.version != RP_JOURNAL_VERSION || j.chunks > (uint64_t)size * 8)
		abort();
	/* The digests, back at their chunks' places, as the sink keeps them. */
	sha = calloc(j.chunks ? (size_t)j.chunks : 1, 32);
	if (!sha)
		abort();
	for (i = 0; i < j.chunks; i++)
		if (rp_journal_bit(j.data, i))
			memcpy(sha + i * 32, j.digests + 32 * d++, 32);
	if (d != j.data_chunks)
		abort();
	j.sha256 = sha;
	if (rp_journal_encode(&j, &back, &len, &err) != 0)
		abort();
	if (len != size || memcmp(back, data, size) != 0)
		abort();
	free(back);
	free(sha);
	return 0;
}
