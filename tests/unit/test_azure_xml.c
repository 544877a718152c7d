/*
 * Tests of formats/azure_xml.c: Get Page Ranges bodies as Azure and Azurite write them, diff
 * listings with ClearRange, paging markers, error bodies, and every malformed or hostile body
 * (DTDs, entity bombs, deep nesting, huge text, too many ranges) refused with code and message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "formats/azure_xml.h"

#define XML_DECL "<?xml version=\"1.0\" encoding=\"utf-8\"?>"

static int parse_pl(const char *xml, size_t max, struct rp_page_list *pl, struct rp_err *err)
{
	return rp_az_parse_page_list(xml, strlen(xml), max, pl, err);
}

static void test_page_list_azure(void **state)
{
	static const char xml[] =
	    XML_DECL "<PageList><PageRange><Start>0</Start><End>511</End></PageRange>"
		     "<PageRange><Start>1048576</Start><End>5242879</End></PageRange>"
		     "<PageRange><Start>5242880</Start><End>5243391</End></PageRange>"
		     "<NextMarker>2!104!MDAwMDM1IWJsb2IvMTAyNCE-</NextMarker></PageList>";
	struct rp_page_list pl;
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(parse_pl(xml, 100, &pl, &err), 0);
	assert_int_equal(pl.npages, 3);
	assert_int_equal(pl.nclear, 0);
	assert_int_equal(pl.pages[0].start, 0);
	assert_int_equal(pl.pages[0].end, 511);
	assert_int_equal(pl.pages[1].start, 1048576);
	assert_int_equal(pl.pages[1].end, 5242879);
	/* adjacent ranges (Azurite does not merge them) are kept */
	assert_int_equal(pl.pages[2].start, 5242880);
	assert_string_equal(pl.next_marker, "2!104!MDAwMDM1IWJsb2IvMTAyNCE-");
	rp_page_list_release(&pl);
	assert_null(pl.pages);
	rp_page_list_release(&pl);
}

static void test_page_list_variants(void **state)
{
	struct rp_page_list pl;
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	/* empty list, empty marker, whitespace and a BOM, unknown elements and attributes */
	assert_int_equal(
	    parse_pl("\xEF\xBB\xBF<PageList>\n  <NextMarker/>\n</PageList>\n", 10, &pl, &err), 0);
	assert_int_equal(pl.npages + pl.nclear, 0);
	assert_string_equal(pl.next_marker, "");
	rp_page_list_release(&pl);
	assert_int_equal(
	    parse_pl("<PageList xmlns:x=\"u\"><Future a=\"1\"><Deep><Er/></Deep></Future>"
		     "<PageRange><Start>512</Start><Extra>x</Extra><End>1023</End></PageRange>"
		     "</PageList>",
		     10, &pl, &err),
	    0);
	assert_int_equal(pl.npages, 1);
	assert_int_equal(pl.pages[0].start, 512);
	rp_page_list_release(&pl);
	/* a diff listing: interleaved, each kind sorted, disjoint */
	assert_int_equal(parse_pl("<PageList><PageRange><Start>0</Start><End>511</End></PageRange>"
				  "<ClearRange><Start>512</Start><End>1023</End></ClearRange>"
				  "<PageRange><Start>1024</Start><End>2047</End></PageRange>"
				  "<ClearRange><Start>4096</Start><End>8191</End></ClearRange>"
				  "</PageList>",
				  4, &pl, &err),
			 0);
	assert_int_equal(pl.npages, 2);
	assert_int_equal(pl.nclear, 2);
	assert_int_equal(pl.clear[1].start, 4096);
	assert_int_equal(pl.clear[1].end, 8191);
	rp_page_list_release(&pl);
	/* the largest offsets: End 2^64 - 1 - 511 */
	assert_int_equal(parse_pl("<PageList><PageRange><Start>18446744073709550592</Start>"
				  "<End>18446744073709551103</End></PageRange></PageList>",
				  1, &pl, &err),
			 0);
	assert_int_equal(pl.pages[0].end, 18446744073709551103ull);
	rp_page_list_release(&pl);
}

/* Many ranges: the arrays grow past their first allocation, up to the limit and no further. */
static void test_page_list_many(void **state)
{
	size_t n = 5000, i, cap = n * 80 + 64, len = 0;
	char *xml = malloc(cap);
	struct rp_page_list pl;
	struct rp_err err;

	(void)state;
	assert_non_null(xml);
	len += (size_t)snprintf(xml + len, cap - len, "<PageList>");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(xml + len, cap - len,
					"<PageRange><Start>%zu</Start><End>%zu</End></PageRange>",
					i * 1024, i * 1024 + 511);
	snprintf(xml + len, cap - len, "</PageList>");
	rp_err_init(&err);
	assert_int_equal(parse_pl(xml, n, &pl, &err), 0);
	assert_int_equal(pl.npages, n);
	assert_int_equal(pl.pages[n - 1].start, (n - 1) * 1024);
	rp_page_list_release(&pl);
	assert_int_equal(parse_pl(xml, n - 1, &pl, &err), RP_EFORMAT);
	assert_string_equal(err.msg, "page list: more than 4999 ranges");
	assert_null(pl.pages);
	free(xml);
}

struct bad_case {
	const char *xml;
	int code;
	const char *msg;
};

#define PR(s, e) "<PageRange><Start>" s "</Start><End>" e "</End></PageRange>"
#define CR(s, e) "<ClearRange><Start>" s "</Start><End>" e "</End></ClearRange>"
#define PL(x) "<PageList>" x "</PageList>"

static void test_page_list_errors(void **state)
{
	static const struct bad_case cases[] = {
	    {"", RP_EFORMAT, "page list: invalid XML at line 1, column 0: no element found"},
	    {"<PageList>", RP_EFORMAT, "page list: invalid XML at line 1, column 10"},
	    {"<Error><Code>x</Code></Error>", RP_EFORMAT,
	     "page list: the root element is 'Error', not PageList"},
	    {PL(PR("1", "511")), RP_EFORMAT,
	     "page list: PageRange[0].Start 1 is not a multiple of 512"},
	    {PL(PR("0", "512")), RP_EFORMAT,
	     "page list: PageRange[0].End 512: End + 1 is not a multiple of 512"},
	    {PL(PR("0", "18446744073709551615")), RP_EFORMAT,
	     "PageRange[0].End 18446744073709551615: End + 1 is not a multiple of 512"},
	    {PL(PR("1024", "511")), RP_EFORMAT,
	     "page list: PageRange[0]: Start 1024 is after End 511"},
	    {PL(PR("0", "1023") PR("512", "1535")), RP_EFORMAT,
	     "page list: PageRange[1] (Start 512) is not after PageRange[0] (End 1023): ranges "
	     "are not sorted or overlap"},
	    {PL(PR("1024", "1535") PR("0", "511")), RP_EFORMAT,
	     "PageRange[1] (Start 0) is not after"},
	    {PL(CR("1024", "1535") CR("0", "511")), RP_EFORMAT,
	     "ClearRange[1] (Start 0) is not after ClearRange[0]"},
	    {PL(PR("0", "1023") CR("512", "1023")), RP_EFORMAT,
	     "page list: PageRange[0] and ClearRange[0] overlap"},
	    {PL(PR("-0", "511")), RP_EFORMAT,
	     "page list: PageRange[0].Start: '-0' is not a decimal number below 2^64"},
	    {PL(PR(" 0", "511")), RP_EFORMAT, "PageRange[0].Start: ' 0' is not a decimal number"},
	    {PL(PR("0x0", "511")), RP_EFORMAT, "PageRange[0].Start: '0x0' is not a decimal number"},
	    {PL(PR("", "511")), RP_EFORMAT, "PageRange[0].Start: '' is not a decimal number"},
	    {PL(PR("0", "18446744073709551616")), RP_EFORMAT,
	     "PageRange[0].End: '18446744073709551616' is not a decimal number below 2^64"},
	    {PL(PR("0", "000000000000000000000511")), RP_EFORMAT,
	     "PageRange[0].End: '000000000000000000000511' is not a decimal"},
	    {PL("<PageRange><Start>0</Start></PageRange>"), RP_EFORMAT,
	     "page list: PageRange[0]: End is missing"},
	    {PL("<ClearRange><End>511</End></ClearRange>"), RP_EFORMAT,
	     "page list: ClearRange[0]: Start is missing"},
	    {PL("<PageRange><Start>0</Start><Start>0</Start><End>511</End></PageRange>"),
	     RP_EFORMAT, "page list: PageRange[0]: Start appears twice"},
	    {PL("<PageRange><Start><b>0</b></Start><End>511</End></PageRange>"), RP_EFORMAT,
	     "page list: unexpected element 'b' inside a text element"},
	    {PL("<NextMarker>a</NextMarker><NextMarker>b</NextMarker>"), RP_EFORMAT,
	     "page list: NextMarker appears twice"},
	    {"<!DOCTYPE PageList><PageList/>", RP_EFORMAT, "page list: a DTD is not allowed"},
	    {"<!DOCTYPE PageList [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>"
	     "<PageList><NextMarker>&b;</NextMarker></PageList>",
	     RP_EFORMAT, "page list: a DTD is not allowed"},
	    {"<!DOCTYPE PageList SYSTEM \"file:///etc/passwd\"><PageList/>", RP_EFORMAT,
	     "page list: a DTD is not allowed"},
	    {PL("<NextMarker>&x;</NextMarker>"), RP_EFORMAT,
	     "page list: invalid XML at line 1, column 22: undefined entity"},
	    {PL("<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a></a></a></a></a></a></a></a></a>"
		"</a></a></a></a></a></a></a></a>"),
	     RP_EFORMAT, "page list: elements nested deeper than 16 (at 'a')"},
	    {"<PageList><PageRange><Start>0</Start><End>511</End></PageRange>", RP_EFORMAT,
	     "page list: invalid XML"},
	    {PL(PR("0", "511")) "<x/>", RP_EFORMAT, "junk after document element"},
	    {"<PageList>\xff</PageList>", RP_EFORMAT, "not well-formed (invalid token)"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_page_list pl;
		struct rp_err err;
		int rc;

		rp_err_init(&err);
		rc = parse_pl(cases[i].xml, 100, &pl, &err);
		if (rc != cases[i].code || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: rc %d, message '%s'", i, rc, err.msg);
		assert_null(pl.pages);
		assert_null(pl.clear);
		assert_int_equal(pl.npages + pl.nclear, 0);
	}
}

/* Text bounds: a long marker and a huge text node. */
static void test_page_list_text_limits(void **state)
{
	size_t big = 100000, len;
	char *xml = malloc(big + 64);
	struct rp_page_list pl;
	struct rp_err err;

	(void)state;
	assert_non_null(xml);
	rp_err_init(&err);
	len = (size_t)snprintf(xml, 64, "<PageList><NextMarker>");
	memset(xml + len, 'm', RP_AZ_MARKER_MAX);
	snprintf(xml + len + RP_AZ_MARKER_MAX, 64, "</NextMarker></PageList>");
	assert_int_equal(parse_pl(xml, 1, &pl, &err), 0);
	assert_int_equal(strlen(pl.next_marker), RP_AZ_MARKER_MAX);
	rp_page_list_release(&pl);
	memset(xml + len, 'm', RP_AZ_MARKER_MAX + 1);
	snprintf(xml + len + RP_AZ_MARKER_MAX + 1, 64, "</NextMarker></PageList>");
	assert_int_equal(parse_pl(xml, 1, &pl, &err), RP_EFORMAT);
	assert_string_equal(err.msg, "page list: NextMarker is longer than 1024 bytes");
	memset(xml + len, '7', big);
	snprintf(xml + len + big, 64, "</NextMarker></PageList>");
	assert_int_equal(parse_pl(xml, 1, &pl, &err), RP_EFORMAT);
	assert_string_equal(err.msg, "page list: text longer than 4096 bytes in one element");
	/* text outside the elements we read is not collected, however long */
	len = (size_t)snprintf(xml, 64, "<PageList><Other>");
	memset(xml + len, 'x', big);
	snprintf(xml + len + big, 64, "</Other></PageList>");
	assert_int_equal(parse_pl(xml, 1, &pl, &err), 0);
	rp_page_list_release(&pl);
	free(xml);
}

static void test_error_body(void **state)
{
	struct rp_az_error e;
	struct rp_err err;
	static const char xml[] =
	    "\xEF\xBB\xBF" XML_DECL
	    "<Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the "
	    "request.\nRequestId:0f1e\nTime:2026-11-28T10:00:00.0000000Z</Message>"
	    "<AuthenticationErrorDetail>Signed expiry time [Fri, 27 Nov 2026] must be after signed "
	    "start time</AuthenticationErrorDetail></Error>";
	char *big;
	size_t i;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_az_parse_error(xml, strlen(xml), &e, &err), 0);
	assert_string_equal(e.code, "AuthenticationFailed");
	assert_string_equal(e.message, "Server failed to authenticate the request. RequestId:0f1e "
				       "Time:2026-11-28T10:00:00.0000000Z");
	/* no message; code with spaces around it */
	assert_int_equal(
	    rp_az_parse_error("<Error><Code> ServerBusy\n</Code></Error>", 40, &e, &err), 0);
	assert_string_equal(e.code, "ServerBusy");
	assert_string_equal(e.message, "");
	/* a long message is cut at a character boundary, never mid-UTF-8 */
	big = malloc(20000);
	assert_non_null(big);
	i = (size_t)snprintf(big, 100, "<Error><Code>X</Code><Message>");
	while (i < 19900) {
		memcpy(big + i, "\xC3\xA9", 2); /* é */
		i += 2;
	}
	snprintf(big + i, 100, "</Message></Error>");
	assert_int_equal(rp_az_parse_error(big, strlen(big), &e, &err), 0);
	assert_int_equal(strlen(e.message), RP_AZ_MESSAGE_MAX - 2);
	assert_int_equal((unsigned char)e.message[RP_AZ_MESSAGE_MAX - 3], 0xA9);
	free(big);
}

static void test_error_body_errors(void **state)
{
	static const struct bad_case cases[] = {
	    {"", RP_EFORMAT, "azure error: invalid XML at line 1, column 0: no element found"},
	    {"<PageList/>", RP_EFORMAT, "azure error: the root element is 'PageList', not Error"},
	    {"<Error><Message>m</Message></Error>", RP_EFORMAT, "azure error: Code is missing"},
	    {"<Error><Code> </Code></Error>", RP_EFORMAT, "azure error: Code is empty"},
	    {"<Error><Code>a</Code><Code>b</Code></Error>", RP_EFORMAT,
	     "azure error: Code appears twice"},
	    {"<Error><Code>a</Code><Message>a</Message><Message>b</Message></Error>", RP_EFORMAT,
	     "azure error: Message appears twice"},
	    {"<!DOCTYPE Error [<!ENTITY e \"x\">]><Error><Code>&e;</Code></Error>", RP_EFORMAT,
	     "azure error: a DTD is not allowed"},
	    {"<Error><Code>a<i/></Code></Error>", RP_EFORMAT,
	     "azure error: unexpected element 'i' inside a text element"},
	    {"{\"error\":{\"code\":\"x\"}}", RP_EFORMAT, "azure error: invalid XML at line 1"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_az_error e;
		struct rp_err err;
		int rc;

		memset(&e, 'z', sizeof(e));
		rp_err_init(&err);
		rc = rp_az_parse_error(cases[i].xml, strlen(cases[i].xml), &e, &err);
		if (rc != cases[i].code || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: rc %d, message '%s'", i, rc, err.msg);
		assert_int_equal(e.code[0], 'z'); /* untouched on failure */
	}
}

/* Ranges a stream hands over, kept for the test. */
struct got {
	struct rp_page_range r[16];
	bool clear[16];
	size_t n;
	size_t fail_at; /* refuse the range with this index (SIZE_MAX: none) */
};

static int got_range(void *ctx, bool clear, uint64_t start, uint64_t end, struct rp_err *err)
{
	struct got *g = ctx;

	if (g->n == g->fail_at)
		return rp_err_set(err, RP_EFORMAT, "range %zu refused", g->n);
	if (g->n >= 16)
		return rp_err_set(err, RP_EIO, "too many");
	g->r[g->n].start = start;
	g->r[g->n].end = end;
	g->clear[g->n++] = clear;
	return 0;
}

/* A stream fed in pieces of every size (1 byte: splits inside names and numbers) hands over
 * the ranges the whole-body parser finds, in order, and the same marker. */
static void test_page_stream_pieces(void **state)
{
	static const char xml[] =
	    XML_DECL "<PageList><PageRange><Start>0</Start><End>511</End></PageRange>"
		     "<ClearRange><Start>512</Start><End>1023</End></ClearRange>"
		     "<PageRange><Start>1048576</Start><End>5242879</End></PageRange>"
		     "<NextMarker>2!104!MDAwMDM1IWJsb2IvMTAyNCE-</NextMarker></PageList>";
	size_t piece, len = strlen(xml);

	(void)state;
	for (piece = 1; piece <= len; piece++) {
		struct rp_az_page_stream *s;
		struct got g = {.fail_at = SIZE_MAX};
		struct rp_err err;
		size_t off;

		rp_err_init(&err);
		assert_int_equal(rp_az_page_stream_new(10, got_range, &g, &s, &err), 0);
		for (off = 0; off < len; off += piece) {
			size_t n = len - off < piece ? len - off : piece;

			assert_int_equal(rp_az_page_stream_feed(s, xml + off, n, false, &err), 0);
			/* the marker is known only at the end */
			assert_string_equal(rp_az_page_stream_marker(s), "");
		}
		assert_int_equal(rp_az_page_stream_feed(s, "", 0, true, &err), 0);
		assert_int_equal(g.n, 3);
		assert_int_equal(rp_az_page_stream_count(s), 3);
		assert_true(!g.clear[0] && g.clear[1] && !g.clear[2]);
		assert_int_equal(g.r[1].start, 512);
		assert_int_equal(g.r[2].end, 5242879);
		assert_string_equal(rp_az_page_stream_marker(s), "2!104!MDAwMDM1IWJsb2IvMTAyNCE-");
		rp_az_page_stream_free(s);
	}
	rp_az_page_stream_free(NULL);
}

/* Failures: the first one wins and is returned again; the range function's own error stops the
 * parse; an unfinished body, bytes after the end, overlap with the last range of the other
 * kind, and the range limit. */
static void test_page_stream_errors(void **state)
{
	static const struct {
		const char *xml;
		size_t max, fail_at;
		int code;
		const char *msg;
	} cases[] = {
	    {"<PageList><PageRange><Start>1</Start><End>511</End></PageRange>", 10, SIZE_MAX,
	     RP_EFORMAT, "page list: PageRange[0].Start 1 is not a multiple of 512"},
	    {"<PageList><PageRange><Start>0</Start><End>511</End></PageRange>", 10, 0, RP_EFORMAT,
	     "range 0 refused"},
	    {"<PageList><PageRange><Start>0</Start>", 10, SIZE_MAX, RP_EFORMAT,
	     "page list: invalid XML at line 1"},
	    {"<PageList><PageRange><Start>0</Start><End>1023</End></PageRange>"
	     "<ClearRange><Start>512</Start><End>1023</End></ClearRange></PageList>",
	     10, SIZE_MAX, RP_EFORMAT, "page list: ClearRange[0] overlaps PageRange[0]"},
	    {"<PageList><PageRange><Start>0</Start><End>511</End></PageRange>"
	     "<PageRange><Start>512</Start><End>1023</End></PageRange></PageList>",
	     1, SIZE_MAX, RP_EFORMAT, "page list: more than 1 ranges"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_az_page_stream *s;
		struct got g = {.fail_at = cases[i].fail_at};
		struct rp_err err, err2;
		int rc;

		rp_err_init(&err);
		rp_err_init(&err2);
		assert_int_equal(rp_az_page_stream_new(cases[i].max, got_range, &g, &s, &err), 0);
		rc = rp_az_page_stream_feed(s, cases[i].xml, strlen(cases[i].xml), false, &err);
		if (rc == 0)
			rc = rp_az_page_stream_feed(s, "", 0, true, &err);
		if (rc != cases[i].code || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: rc %d, message '%s'", i, rc, err.msg);
		/* later feeds give the same code and leave a new err alone */
		assert_int_equal(rp_az_page_stream_feed(s, "<x/>", 4, true, &err2), rc);
		assert_string_equal(rp_az_page_stream_marker(s), "");
		rp_az_page_stream_free(s);
	}
	{
		struct rp_az_page_stream *s;
		struct got g = {.fail_at = SIZE_MAX};
		struct rp_err err;

		rp_err_init(&err);
		assert_int_equal(rp_az_page_stream_new(10, got_range, &g, &s, &err), 0);
		assert_int_equal(rp_az_page_stream_feed(s, "<PageList/>", 11, true, &err), 0);
		assert_int_equal(rp_az_page_stream_feed(s, " ", 1, true, &err), RP_EFORMAT);
		assert_non_null(strstr(err.msg, "bytes after the end"));
		rp_az_page_stream_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_page_list_azure),	  cmocka_unit_test(test_page_list_variants),
	    cmocka_unit_test(test_page_list_many),	  cmocka_unit_test(test_page_list_errors),
	    cmocka_unit_test(test_page_list_text_limits), cmocka_unit_test(test_error_body),
	    cmocka_unit_test(test_error_body_errors),	  cmocka_unit_test(test_page_stream_pieces),
	    cmocka_unit_test(test_page_stream_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
