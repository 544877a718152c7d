/*
 * Fuzz target for rp_select_state_parse (the verify --state file, docs/report.md): any input is
 * accepted or rejected with RP_EFORMAT and a message, never crashes or allocates by a count the
 * document claims. An accepted state must format and parse back to the same state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify/select.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_select_state a, b;
	struct rp_err err;
	char *text = NULL;
	size_t i;
	int rc;

	rp_err_init(&err);
	rc = rp_select_state_parse((const char *)data, size, &a, &err);
	if (rc) {
		if (rc != RP_EFORMAT || err.msg[0] == '\0' || a.chunk_run)
			abort();
		return 0;
	}
	if (rp_select_state_format(&a, &text, &err) != 0)
		abort();
	if (rp_select_state_parse(text, strlen(text), &b, &err) != 0)
		abort();
	if (a.virtual_size != b.virtual_size || a.chunk_size != b.chunk_size ||
	    a.chunk_count != b.chunk_count || a.last_run != b.last_run || a.nruns != b.nruns ||
	    memcmp(a.chunk_run, b.chunk_run, (size_t)a.chunk_count * sizeof(a.chunk_run[0])) != 0)
		abort();
	for (i = 0; i < a.nruns; i++)
		if (a.runs[i].run != b.runs[i].run || a.runs[i].chunks != b.runs[i].chunks ||
		    strcmp(a.runs[i].started, b.runs[i].started) != 0 ||
		    strcmp(a.runs[i].mode, b.runs[i].mode) != 0)
			abort();
	free(text);
	rp_select_state_release(&a);
	rp_select_state_release(&b);
	return 0;
}
