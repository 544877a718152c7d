/*
 * Pure parsers of the XML bodies Azure Blob Storage answers with: the Get Page Ranges list and
 * the error body. The only users of expat; the adapter is formats/azure_xml.c.
 *
 * Both parsers take the whole body (buf[0..len), UTF-8 or with an XML declaration naming its
 * encoding), refuse any DTD (so no entity can expand: no "billion laughs", no external
 * entities), limit nesting depth and text length, and report RP_EFORMAT with a message that
 * names the element ("page list: PageRange[3].End: ..."). Thread-safe: no shared state.
 */
#ifndef RP_FORMATS_AZURE_XML_H
#define RP_FORMATS_AZURE_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define RP_AZ_MARKER_MAX 1024	/* a NextMarker longer than this (without NUL) is refused */
#define RP_AZ_XML_MAX_DEPTH 16	/* deeper nesting is refused */
#define RP_AZ_XML_MAX_TEXT 4096 /* longer text inside one element is refused */

/* An inclusive byte range [start, end] of a page blob; start and end + 1 are 512-aligned. */
struct rp_page_range {
	uint64_t start;
	uint64_t end;
};

/*
 * A parsed page list. pages are the <PageRange> elements, clear the <ClearRange> elements (only
 * in diff listings), each in document order, sorted by start and not overlapping (adjacent
 * ranges are kept as they are: Azurite does not merge them); no page range overlaps a clear
 * range. next_marker is "" when the listing is complete. Release with rp_page_list_release().
 */
struct rp_page_list {
	struct rp_page_range *pages;
	size_t npages;
	struct rp_page_range *clear;
	size_t nclear;
	char next_marker[RP_AZ_MARKER_MAX + 1];
};

void rp_page_list_init(struct rp_page_list *pl);

/* Free the arrays and reset pl to empty; safe on an initialized or released list. */
void rp_page_list_release(struct rp_page_list *pl);

/*
 * Parse a Get Page Ranges body into *out (initialized by the call; released on failure).
 * max_ranges bounds npages + nclear (and so the memory used); more is RP_EFORMAT. Unknown
 * elements are skipped (within the depth limit) so that later service versions still parse.
 */
int rp_az_parse_page_list(const char *buf, size_t len, size_t max_ranges, struct rp_page_list *out,
			  struct rp_err *err);

#define RP_AZ_CODE_MAX 128
#define RP_AZ_MESSAGE_MAX 512

/*
 * An Azure Storage error: <Error><Code>..</Code><Message>..</Message>...</Error>. Both fields
 * are cut to fit (at a UTF-8 character boundary) and control characters become spaces, so they
 * can be shown as they are. message is "" if the body has none.
 */
struct rp_az_error {
	char code[RP_AZ_CODE_MAX];
	char message[RP_AZ_MESSAGE_MAX];
};

/* Parse an error body; RP_EFORMAT if it is not one or has no Code. */
int rp_az_parse_error(const char *buf, size_t len, struct rp_az_error *out, struct rp_err *err);

#endif
