/*
 * Pure parsers of the XML bodies Azure Blob Storage answers with: the Get Page Ranges list and
 * the error body. The only users of expat; the adapter is formats/azure_xml.c.
 *
 * Both parsers take the whole body (buf[0..len), UTF-8 or with an XML declaration naming its
 * encoding), or for a page list also the body piece by piece as it arrives (a stream), refuse any
 * DTD (so no entity can expand: no "billion laughs", no external entities), limit nesting depth and
 * text length, and report RP_EFORMAT with a message that names the element ("page list:
 * PageRange[3].End: ..."). Thread-safe: no shared state.
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

/*
 * A page list parsed as its bytes arrive, holding none of them: each range goes to fn (clear:
 * a <ClearRange>) as soon as its element ends, checked as above, in document order. fn returns
 * 0 to go on, or an error code with err set, which stops the parse and is returned by the feed
 * that called it. As no list is kept, a range is compared for overlap only with the last range
 * of the other kind (a PageRange with the last ClearRange before it, and the other way round).
 */
typedef int (*rp_az_range_fn)(void *ctx, bool clear, uint64_t start, uint64_t end,
			      struct rp_err *err);

struct rp_az_page_stream;

/* A parser for one Get Page Ranges body; max_ranges bounds the ranges it will hand to fn. */
int rp_az_page_stream_new(size_t max_ranges, rp_az_range_fn fn, void *ctx,
			  struct rp_az_page_stream **out, struct rp_err *err);

/*
 * Parse the next len bytes of the body (any split, even inside a name or a number); last: the
 * body ends with them (an unfinished document is then RP_EFORMAT). After a failure every later
 * call returns it again (err is set only by the call that failed).
 */
int rp_az_page_stream_feed(struct rp_az_page_stream *s, const char *buf, size_t len, bool last,
			   struct rp_err *err);

/* NextMarker once the last bytes were fed without error ("" if none: the listing is done). */
const char *rp_az_page_stream_marker(const struct rp_az_page_stream *s);

/* Ranges handed to fn so far. */
size_t rp_az_page_stream_count(const struct rp_az_page_stream *s);

void rp_az_page_stream_free(struct rp_az_page_stream *s);

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
