/*
 * The HTML report: renders a report document (verify/report.h, docs/report.md, written by
 * `verify --json`) as one self-contained page (inline CSS, no script, no network; a strict
 * Content-Security-Policy) with the verdict, case metadata, source, and per disk the sizes,
 * coverage, digests, partitions, LUKS volumes, mismatches and a grid picture of the chunk map.
 *
 * Every string taken from the document is HTML-escaped. Unknown members are ignored, absent
 * optional ones are left out of the page; a member present with the wrong type, a chunk map with
 * a state other than ". v X -", or a "schema" other than RP_REPORT_SCHEMA (verify/report.h) is
 * RP_EFORMAT with a message that names the member (never its content).
 *
 * The functions are pure and thread-safe. Outputs are set only on success.
 */
#ifndef RP_VERIFY_REPORT_HTML_H
#define RP_VERIFY_REPORT_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/json.h"
#include "verify/report.h"

/* The grid stays at or below this many cells; larger disks put several chunks in a cell. */
#define RP_REPORT_HTML_MAX_CELLS 20000u

struct rp_report_html_counts {
	uint64_t never;
	uint64_t verified;
	uint64_t mismatched;
	uint64_t unchecked;
};

/*
 * Count the states in map[0..len); RP_EFORMAT (naming the chunk index) for any other character.
 * err may be NULL.
 */
int rp_report_html_count_states(const char *map, size_t len, struct rp_report_html_counts *out,
				struct rp_err *err);

/* Chunks per grid cell so that ceil(chunks / k) <= max_cells (k >= 1; max_cells 0 means 1). */
uint64_t rp_report_html_grid_group(uint64_t chunks, uint64_t max_cells);

/*
 * The state a cell of chunks map[0..len) shows: the worst of them, X > - > v > . ('.' for an
 * empty range). Characters other than the four states count as '.' (the map is checked first).
 */
char rp_report_html_worst(const char *map, size_t len);

/*
 * A malloc'd copy of s escaped for HTML text and attribute values: & < > " ' become entities and
 * control characters other than tab and newline become U+FFFD. NULL when out of memory.
 */
char *rp_report_html_escape(const char *s);

/*
 * Render report (a parsed document) as HTML: *out is malloc'd and NUL-terminated, *out_len its
 * length without the NUL. RP_EFORMAT for a malformed document, RP_EIO when out of memory.
 */
int rp_report_html_render(const struct rp_json *report, char **out, size_t *out_len,
			  struct rp_err *err);

/* Parse text[0..len) as JSON and render it; the same errors plus invalid JSON (RP_EFORMAT). */
int rp_report_html_from_text(const char *text, size_t len, char **out, size_t *out_len,
			     struct rp_err *err);

#endif
