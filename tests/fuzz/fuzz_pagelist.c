/*
 * Fuzz target for formats/azure_xml.c: every input goes through the page list parser and the
 * error body parser. Each must accept or refuse with a message, never crash, grow past its
 * limits or leave memory behind; an accepted page list must satisfy its documented invariants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/azure_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RANGES 64

static void check_ranges(const struct rp_page_range *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (r[i].start % 512 != 0 || (r[i].end + 1) % 512 != 0 || r[i].start > r[i].end)
			abort();
		if (i > 0 && r[i].start <= r[i - 1].end)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_page_list pl;
	struct rp_az_error e;
	struct rp_err err;
	int rc;

	rp_err_init(&err);
	rc = rp_az_parse_page_list((const char *)data, size, MAX_RANGES, &pl, &err);
	if (rc) {
		if (err.msg[0] == '\0' || pl.pages || pl.clear || pl.npages || pl.nclear)
			abort();
	} else {
		if (pl.npages + pl.nclear > MAX_RANGES || strlen(pl.next_marker) > RP_AZ_MARKER_MAX)
			abort();
		check_ranges(pl.pages, pl.npages);
		check_ranges(pl.clear, pl.nclear);
		rp_page_list_release(&pl);
	}
	rp_err_init(&err);
	rc = rp_az_parse_error((const char *)data, size, &e, &err);
	if (rc) {
		if (err.msg[0] == '\0')
			abort();
	} else {
		size_t i;

		if (e.code[0] == '\0' || strlen(e.code) >= sizeof(e.code) ||
		    strlen(e.message) >= sizeof(e.message))
			abort();
		for (i = 0; e.message[i]; i++)
			if ((unsigned char)e.message[i] < 0x20)
				abort();
	}
	return 0;
}
