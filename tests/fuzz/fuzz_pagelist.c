/*
 * Fuzz target for formats/azure_xml.c: every input goes through the page list parser, the
 * streaming page list parser (fed in pieces whose sizes the input's first byte picks) and the
 * error body parser. Each must accept or refuse with a message, never crash, grow past its
 * limits or leave memory behind; an accepted page list must satisfy its documented invariants,
 * and the stream must accept it too, handing over the same ranges and marker.
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

struct seen {
	struct rp_page_range r[2][MAX_RANGES];
	size_t n[2];
};

static int seen_range(void *ctx, bool clear, uint64_t start, uint64_t end, struct rp_err *err)
{
	struct seen *s = ctx;
	int k = clear ? 1 : 0;

	(void)err;
	if (s->n[0] + s->n[1] >= MAX_RANGES) /* the stream's own limit must come first */
		abort();
	s->r[k][s->n[k]].start = start;
	s->r[k][s->n[k]++].end = end;
	return 0;
}

/* The stream over data in pieces of 1 + (data[0] % 37) bytes; 0 or its error. */
static int stream(const uint8_t *data, size_t size, struct seen *seen, char *marker)
{
	struct rp_az_page_stream *s;
	size_t piece = size ? 1 + data[0] % 37 : 1, off = 0;
	struct rp_err err;
	int rc;

	rp_err_init(&err);
	memset(seen, 0, sizeof(*seen));
	if (rp_az_page_stream_new(MAX_RANGES, seen_range, seen, &s, &err) != 0)
		abort();
	do {
		size_t n = size - off < piece ? size - off : piece;

		rc = rp_az_page_stream_feed(s, (const char *)data + off, n, off + n == size, &err);
		off += n;
	} while (rc == 0 && off < size);
	if (rc && err.msg[0] == '\0')
		abort();
	if (strlen(rp_az_page_stream_marker(s)) > RP_AZ_MARKER_MAX)
		abort();
	memcpy(marker, rp_az_page_stream_marker(s), strlen(rp_az_page_stream_marker(s)) + 1);
	if (rc == 0 && rp_az_page_stream_count(s) != seen->n[0] + seen->n[1])
		abort();
	rp_az_page_stream_free(s);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seen seen;
	char marker[RP_AZ_MARKER_MAX + 1];
	struct rp_page_list pl;
	struct rp_az_error e;
	struct rp_err err;
	int rc;

	rp_err_init(&err);
	rc = rp_az_parse_page_list((const char *)data, size, MAX_RANGES, &pl, &err);
	if (stream(data, size, &seen, marker) != 0 && rc == 0)
		abort();
	if (rc == 0 &&
	    (seen.n[0] != pl.npages || seen.n[1] != pl.nclear ||
	     (pl.npages && memcmp(seen.r[0], pl.pages, pl.npages * sizeof(*pl.pages)) != 0) ||
	     (pl.nclear && memcmp(seen.r[1], pl.clear, pl.nclear * sizeof(*pl.clear)) != 0) ||
	     strcmp(marker, pl.next_marker) != 0))
		abort();
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
