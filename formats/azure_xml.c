/*
 * The expat adapter (the only file that includes <expat.h>): Get Page Ranges lists and error
 * bodies of Azure Blob Storage (formats/azure_xml.h).
 *
 * Both documents are flat (root, children, leaves), so one small state machine per document
 * follows the element path with a depth counter. Every DTD is refused at its start, before any
 * entity could be declared: page lists and errors never carry one, and refusing it is the only
 * complete defence against entity expansion attacks and external entities.
 */
#include "formats/azure_xml.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

enum doc_kind { DOC_PAGE_LIST, DOC_ERROR };

/* The leaf whose text is being collected. */
enum leaf { LEAF_NONE, LEAF_START, LEAF_END, LEAF_MARKER, LEAF_CODE, LEAF_MESSAGE };

struct xml_ctx {
	XML_Parser parser;
	enum doc_kind kind;
	const char *what; /* message prefix */
	struct rp_err *err;
	int rc;
	int depth;
	int skip_depth; /* > 0: inside an unknown element that started at this depth */
	enum leaf leaf;
	bool truncate_text; /* cut long text instead of refusing it (error messages) */
	char text[RP_AZ_XML_MAX_TEXT + 1];
	size_t text_len;

	/* page list: ranges go to fn as each one ends (pages, clear: index 0, 1 below) */
	rp_az_range_fn fn;
	void *fn_ctx;
	size_t max_ranges;
	bool in_range, range_clear, have_start, have_end, have_marker;
	uint64_t start, end;
	size_t count[2];
	uint64_t last_start[2], last_end[2];
	char next_marker[RP_AZ_MARKER_MAX + 1];
	bool stream;   /* ranges are not kept: only the last of the other kind is compared */
	bool finished; /* the last bytes were fed */
	struct rp_page_list *pl; /* the whole-body parse: the list fn appends to */
	size_t pages_cap, clear_cap;

	/* error body */
	struct rp_az_error *ae;
	bool have_code, have_message;
};

static void fail(struct xml_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record the first failure (RP_EFORMAT, "<what>: <text>") and stop the parser; later callbacks
 * see ctx->rc and return. */
static void fail(struct xml_ctx *c, const char *fmt, ...)
{
	char msg[RP_ERR_MSG_MAX];
	va_list ap;

	if (c->rc)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->rc = rp_err_set(c->err, RP_EFORMAT, "%s: %s", c->what, msg);
	XML_StopParser(c->parser, XML_FALSE);
}

static const char *range_name(const struct xml_ctx *c)
{
	return c->range_clear ? "ClearRange" : "PageRange";
}

static size_t range_index(const struct xml_ctx *c)
{
	return c->count[c->range_clear];
}

/* Strict decimal: 1 to 20 digits, no sign or spaces, below 2^64. */
static bool parse_dec(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return false;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static void leaf_number(struct xml_ctx *c, const char *field, uint64_t *dst, bool *have)
{
	if (*have)
		fail(c, "%s[%zu]: %s appears twice", range_name(c), range_index(c), field);
	else if (!parse_dec(c->text, c->text_len, dst))
		fail(c, "%s[%zu].%s: '%.24s' is not a decimal number below 2^64", range_name(c),
		     range_index(c), field, c->text);
	else
		*have = true;
}

/* Grow *arr (of *cap entries) to hold one more than n, within the caller's limit. */
static int grow(struct rp_page_range **arr, size_t *cap, size_t n)
{
	struct rp_page_range *na;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	if (ncap < *cap || ncap > SIZE_MAX / sizeof(**arr))
		return RP_EIO;
	na = realloc(*arr, ncap * sizeof(**arr));
	if (!na)
		return RP_EIO;
	*arr = na;
	*cap = ncap;
	return 0;
}

/* The whole-body parse's rp_az_range_fn: append the range to its list. */
static int append_range(void *ctx, bool clear, uint64_t start, uint64_t end, struct rp_err *err)
{
	struct xml_ctx *c = ctx;
	struct rp_page_list *pl = c->pl;
	struct rp_page_range **arr = clear ? &pl->clear : &pl->pages;
	size_t *n = clear ? &pl->nclear : &pl->npages;
	size_t *cap = clear ? &c->clear_cap : &c->pages_cap;

	if (grow(arr, cap, *n) != 0)
		return rp_err_set(err, RP_EIO, "%s: out of memory for %zu ranges", c->what, *n);
	(*arr)[*n].start = start;
	(*arr)[*n].end = end;
	(*n)++;
	return 0;
}

/* A finished <PageRange> or <ClearRange>: check it and hand it to fn. */
static int range_done(struct xml_ctx *c)
{
	int k = c->range_clear ? 1 : 0, rc;
	size_t *n = &c->count[k];
	const char *name = range_name(c);

	if (!c->have_start || !c->have_end)
		return rp_err_set(c->err, RP_EFORMAT, "%s: %s[%zu]: %s is missing", c->what, name,
				  *n, c->have_start ? "End" : "Start");
	if (c->start % 512 != 0)
		return rp_err_set(c->err, RP_EFORMAT,
				  "%s: %s[%zu].Start %" PRIu64 " is not a multiple of 512", c->what,
				  name, *n, c->start);
	if (c->end == UINT64_MAX || (c->end + 1) % 512 != 0)
		return rp_err_set(c->err, RP_EFORMAT,
				  "%s: %s[%zu].End %" PRIu64 ": End + 1 is not a multiple of 512",
				  c->what, name, *n, c->end);
	if (c->start > c->end)
		return rp_err_set(c->err, RP_EFORMAT,
				  "%s: %s[%zu]: Start %" PRIu64 " is after End %" PRIu64, c->what,
				  name, *n, c->start, c->end);
	if (*n > 0 && c->start <= c->last_end[k])
		return rp_err_set(c->err, RP_EFORMAT,
				  "%s: %s[%zu] (Start %" PRIu64
				  ") is not after %s[%zu] (End %" PRIu64
				  "): ranges are not sorted or overlap",
				  c->what, name, *n, c->start, name, *n - 1, c->last_end[k]);
	/* A stream keeps no list: compare with the last range of the other kind only. */
	if (c->stream && c->count[!k] > 0 && c->start <= c->last_end[!k] &&
	    c->last_start[!k] <= c->end)
		return rp_err_set(c->err, RP_EFORMAT, "%s: %s[%zu] overlaps %s[%zu]", c->what, name,
				  *n, k ? "PageRange" : "ClearRange", c->count[!k] - 1);
	if (c->count[0] + c->count[1] >= c->max_ranges)
		return rp_err_set(c->err, RP_EFORMAT, "%s: more than %zu ranges", c->what,
				  c->max_ranges);
	rc = c->fn(c->fn_ctx, k == 1, c->start, c->end, c->err);
	if (rc)
		return rc;
	c->last_start[k] = c->start;
	c->last_end[k] = c->end;
	(*n)++;
	return 0;
}

/* Copy text into dst[0..size) for display: control characters become spaces, surrounding
 * spaces go, and a cut falls on a UTF-8 character boundary. */
static void copy_display(char *dst, size_t size, const char *src, size_t len)
{
	size_t i, o = 0;

	while (len > 0 && (unsigned char)src[0] <= ' ') {
		src++;
		len--;
	}
	while (len > 0 && (unsigned char)src[len - 1] <= ' ')
		len--;
	if (len > size - 1) {
		len = size - 1;
		while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
			len--;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[o++] = (ch < 0x20 || ch == 0x7F) ? ' ' : (char)ch;
	}
	dst[o] = '\0';
}

static void start_leaf(struct xml_ctx *c, enum leaf leaf)
{
	c->leaf = leaf;
	c->text_len = 0;
	c->text[0] = '\0';
}

static void page_list_start(struct xml_ctx *c, const char *name)
{
	if (c->depth == 1) {
		if (strcmp(name, "PageList") != 0)
			fail(c, "the root element is '%.40s', not PageList", name);
	} else if (c->depth == 2) {
		if (strcmp(name, "PageRange") == 0 || strcmp(name, "ClearRange") == 0) {
			c->in_range = true;
			c->range_clear = name[0] == 'C';
			c->have_start = c->have_end = false;
		} else if (strcmp(name, "NextMarker") == 0) {
			if (c->have_marker)
				fail(c, "NextMarker appears twice");
			start_leaf(c, LEAF_MARKER);
		} else {
			c->skip_depth = c->depth;
		}
	} else if (c->depth == 3 && c->in_range) {
		if (strcmp(name, "Start") == 0)
			start_leaf(c, LEAF_START);
		else if (strcmp(name, "End") == 0)
			start_leaf(c, LEAF_END);
		else
			c->skip_depth = c->depth;
	} else {
		c->skip_depth = c->depth;
	}
}

static void page_list_end(struct xml_ctx *c)
{
	int rc;

	if (c->depth == 3 && c->leaf == LEAF_START) {
		leaf_number(c, "Start", &c->start, &c->have_start);
	} else if (c->depth == 3 && c->leaf == LEAF_END) {
		leaf_number(c, "End", &c->end, &c->have_end);
	} else if (c->depth == 2 && c->leaf == LEAF_MARKER) {
		if (c->text_len > RP_AZ_MARKER_MAX) {
			fail(c, "NextMarker is longer than %d bytes", RP_AZ_MARKER_MAX);
			return;
		}
		memcpy(c->next_marker, c->text, c->text_len + 1);
		c->have_marker = true;
	} else if (c->depth == 2 && c->in_range) {
		c->in_range = false;
		rc = range_done(c);
		if (rc) {
			c->rc = rc;
			XML_StopParser(c->parser, XML_FALSE);
		}
	}
	c->leaf = LEAF_NONE;
}

static void error_start(struct xml_ctx *c, const char *name)
{
	if (c->depth == 1) {
		if (strcmp(name, "Error") != 0)
			fail(c, "the root element is '%.40s', not Error", name);
	} else if (c->depth == 2 && strcmp(name, "Code") == 0) {
		if (c->have_code)
			fail(c, "Code appears twice");
		start_leaf(c, LEAF_CODE);
	} else if (c->depth == 2 && strcmp(name, "Message") == 0) {
		if (c->have_message)
			fail(c, "Message appears twice");
		start_leaf(c, LEAF_MESSAGE);
	} else {
		c->skip_depth = c->depth;
	}
}

static void error_end(struct xml_ctx *c)
{
	if (c->leaf == LEAF_CODE) {
		copy_display(c->ae->code, sizeof(c->ae->code), c->text, c->text_len);
		c->have_code = true;
	} else if (c->leaf == LEAF_MESSAGE) {
		copy_display(c->ae->message, sizeof(c->ae->message), c->text, c->text_len);
		c->have_message = true;
	}
	c->leaf = LEAF_NONE;
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct xml_ctx *c = data;

	(void)attrs;
	if (c->rc)
		return;
	if (++c->depth > RP_AZ_XML_MAX_DEPTH) {
		fail(c, "elements nested deeper than %d (at '%.40s')", RP_AZ_XML_MAX_DEPTH, name);
		return;
	}
	if (c->skip_depth)
		return;
	if (c->leaf != LEAF_NONE) {
		fail(c, "unexpected element '%.40s' inside a text element", name);
		return;
	}
	if (c->kind == DOC_PAGE_LIST)
		page_list_start(c, name);
	else
		error_start(c, name);
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
	struct xml_ctx *c = data;

	(void)name;
	if (c->rc)
		return;
	if (c->skip_depth) {
		if (c->depth == c->skip_depth)
			c->skip_depth = 0;
	} else if (c->kind == DOC_PAGE_LIST) {
		page_list_end(c);
	} else {
		error_end(c);
	}
	c->depth--;
}

static void XMLCALL on_text(void *data, const XML_Char *s, int len)
{
	struct xml_ctx *c = data;
	size_t n = len > 0 ? (size_t)len : 0;

	if (c->rc || c->skip_depth || c->leaf == LEAF_NONE)
		return;
	if (n > RP_AZ_XML_MAX_TEXT - c->text_len) {
		if (!c->truncate_text) {
			fail(c, "text longer than %d bytes in one element", RP_AZ_XML_MAX_TEXT);
			return;
		}
		n = RP_AZ_XML_MAX_TEXT - c->text_len;
	}
	memcpy(c->text + c->text_len, s, n);
	c->text_len += n;
	c->text[c->text_len] = '\0';
}

static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	fail(data, "a DTD is not allowed");
}

static void XMLCALL on_entity(void *data, const XML_Char *name, int is_param, const XML_Char *value,
			      int value_len, const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	fail(data, "entity declaration '%.40s' is not allowed", name);
}

/* Make ctx's parser (freed by the caller with XML_ParserFree(c->parser)). */
static int make_parser(struct xml_ctx *c)
{
	XML_Parser p = XML_ParserCreate(NULL);

	if (!p)
		return rp_err_set(c->err, RP_EIO, "%s: out of memory", c->what);
	c->parser = p;
	XML_SetUserData(p, c);
	XML_SetElementHandler(p, on_start, on_end);
	XML_SetCharacterDataHandler(p, on_text);
	XML_SetStartDoctypeDeclHandler(p, on_doctype);
	XML_SetEntityDeclHandler(p, on_entity);
	XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
	return 0;
}

/* Feed buf to ctx's parser (last: no more follows); 0, ctx->rc, or RP_EFORMAT for malformed
 * XML. After a failure every later call returns it again. */
static int feed_parser(struct xml_ctx *c, const char *buf, size_t len, bool last)
{
	if (c->rc)
		return c->rc;
	if (c->finished)
		return c->rc = rp_err_set(c->err, RP_EFORMAT, "%s: bytes after the end", c->what);
	do {
		/* expat takes an int: hand over at most 1 GiB at a time */
		int n = len > (1u << 30) ? (1 << 30) : (int)len;
		bool fin = last && (size_t)n == len;

		if (XML_Parse(c->parser, buf, n, fin ? XML_TRUE : XML_FALSE) == XML_STATUS_ERROR) {
			if (!c->rc)
				c->rc = rp_err_set(
				    c->err, RP_EFORMAT,
				    "%s: invalid XML at line %lu, column %lu: %s", c->what,
				    (unsigned long)XML_GetCurrentLineNumber(c->parser),
				    (unsigned long)XML_GetCurrentColumnNumber(c->parser),
				    XML_ErrorString(XML_GetErrorCode(c->parser)));
			return c->rc;
		}
		if (c->rc)
			return c->rc;
		buf += n;
		len -= (size_t)n;
	} while (len > 0);
	c->finished = last;
	return 0;
}

/* Run expat over the whole of buf with ctx's handlers. */
static int run_parser(struct xml_ctx *c, const char *buf, size_t len)
{
	int rc = make_parser(c);

	if (rc)
		return rc;
	rc = feed_parser(c, buf, len, true);
	XML_ParserFree(c->parser);
	c->parser = NULL;
	return rc;
}

void rp_page_list_init(struct rp_page_list *pl)
{
	memset(pl, 0, sizeof(*pl));
}

void rp_page_list_release(struct rp_page_list *pl)
{
	free(pl->pages);
	free(pl->clear);
	rp_page_list_init(pl);
}

/* Page ranges and clear ranges may interleave, but must not cover the same bytes. */
static int check_disjoint(const struct rp_page_list *pl, struct rp_err *err)
{
	size_t i = 0, j = 0;

	while (i < pl->npages && j < pl->nclear) {
		const struct rp_page_range *a = &pl->pages[i], *b = &pl->clear[j];

		if (a->start <= b->end && b->start <= a->end)
			return rp_err_set(err, RP_EFORMAT,
					  "page list: PageRange[%zu] and ClearRange[%zu] overlap",
					  i, j);
		if (a->end < b->start)
			i++;
		else
			j++;
	}
	return 0;
}

int rp_az_parse_page_list(const char *buf, size_t len, size_t max_ranges, struct rp_page_list *out,
			  struct rp_err *err)
{
	struct xml_ctx *c;
	int rc;

	rp_page_list_init(out);
	/* The context holds a 4 KiB text buffer: keep it off the (possibly small) thread stack. */
	c = calloc(1, sizeof(*c));
	if (!c)
		return rp_err_set(err, RP_EIO, "page list: out of memory");
	c->kind = DOC_PAGE_LIST;
	c->what = "page list";
	c->err = err;
	c->pl = out;
	c->fn = append_range;
	c->fn_ctx = c;
	c->max_ranges = max_ranges;
	rc = run_parser(c, buf, len);
	if (!rc)
		rc = check_disjoint(out, err);
	if (!rc)
		memcpy(out->next_marker, c->next_marker, sizeof(out->next_marker));
	if (rc)
		rp_page_list_release(out);
	free(c);
	return rc;
}

struct rp_az_page_stream {
	struct xml_ctx c;
};

int rp_az_page_stream_new(size_t max_ranges, rp_az_range_fn fn, void *ctx,
			  struct rp_az_page_stream **out, struct rp_err *err)
{
	struct rp_az_page_stream *s;
	int rc;

	*out = NULL;
	if (!fn)
		return rp_err_set(err, RP_EUSAGE, "page list: no range function");
	s = calloc(1, sizeof(*s));
	if (!s)
		return rp_err_set(err, RP_EIO, "page list: out of memory");
	s->c.kind = DOC_PAGE_LIST;
	s->c.what = "page list";
	s->c.err = err;
	s->c.fn = fn;
	s->c.fn_ctx = ctx;
	s->c.max_ranges = max_ranges;
	s->c.stream = true;
	rc = make_parser(&s->c);
	if (rc) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int rp_az_page_stream_feed(struct rp_az_page_stream *s, const char *buf, size_t len, bool last,
			   struct rp_err *err)
{
	int rc;

	s->c.err = err;
	rc = feed_parser(&s->c, buf, len, last);
	s->c.err = NULL;
	return rc;
}

const char *rp_az_page_stream_marker(const struct rp_az_page_stream *s)
{
	return s->c.finished && !s->c.rc ? s->c.next_marker : "";
}

size_t rp_az_page_stream_count(const struct rp_az_page_stream *s)
{
	return s->c.count[0] + s->c.count[1];
}

void rp_az_page_stream_free(struct rp_az_page_stream *s)
{
	if (!s)
		return;
	XML_ParserFree(s->c.parser);
	free(s);
}

int rp_az_parse_error(const char *buf, size_t len, struct rp_az_error *out, struct rp_err *err)
{
	struct xml_ctx *c;
	struct rp_az_error e;
	int rc;

	memset(&e, 0, sizeof(e));
	c = calloc(1, sizeof(*c));
	if (!c)
		return rp_err_set(err, RP_EIO, "azure error: out of memory");
	c->kind = DOC_ERROR;
	c->what = "azure error";
	c->err = err;
	c->ae = &e;
	c->truncate_text = true;
	rc = run_parser(c, buf, len);
	if (!rc && !c->have_code)
		rc = rp_err_set(err, RP_EFORMAT, "azure error: Code is missing");
	else if (!rc && e.code[0] == '\0')
		rc = rp_err_set(err, RP_EFORMAT, "azure error: Code is empty");
	if (!rc)
		*out = e;
	free(c);
	return rc;
}
