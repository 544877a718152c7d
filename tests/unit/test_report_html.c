/*
 * Tests of verify/report_html.c: HTML escaping of every string from the document, the chunk
 * counts and the grid aggregation (worst state per cell, at most 20000 cells), the page of a full
 * report, and every malformed report rejected with RP_EFORMAT and a message naming the member
 * (one changed member per case).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "verify/report_html.h"

/* A full report: every member of docs/report.md once, the notes an injection attempt. */
static const char base[] =
    "{\"schema\": \"cvmrestore-report/1\",\n"
    " \"tool\": {\"name\": \"cvmrestore\", \"version\": \"0.1.0\"},\n"
    " \"command\": \"verify\", \"started\": \"2026-11-28T13:00:00Z\","
    " \"ended\": \"2026-11-28T13:00:05Z\",\n"
    " \"case\": {\"case_id\": \"CASE-7\", \"evidence_id\": \"EV-1\", \"examiner\": \"O'Brien & "
    "\\\"Q\\\"\", \"notes\": \"<script>alert(1)</script>\"},\n"
    " \"source\": {\"kind\": \"url\", \"display\": \"https://a.blob/c/d.vhd\", \"etag\": \"0x8D\","
    " \"recovery_point\": \"rp-1\"},\n"
    " \"verdict\": \"fail\", \"exit_code\": 1, \"future_member\": {\"x\": [1]},\n"
    " \"disks\": [{\"name\": \"os-disk<b>\", \"virtual_size\": 33554432, \"image_size\": 33555"
    "000, \"format\": \"vhd-dynamic\", \"chunk_size\": 4194304, \"chunks_total\": 8,"
    " \"chunks_checked\": 6, \"bytes_verified\": 8388608,\n"
    "  \"coverage\": {\"mode\": \"sample\", \"percent\": 75, \"seed\": 1},\n"
    "  \"chunk_map\": \"v.vX--.v\",\n"
    "  \"mismatches\": [{\"index\": 3, \"offset\": 12582912, \"length\": 4194304,"
    " \"reason\": \"seal-mismatch\", \"expected\": \"aa\", \"actual\": \"bb\"}],\n"
    "  \"digests\": {\"sha256\": \"d256\", \"md5\": \"d5\", \"sha1\": \"d1\"},\n"
    "  \"hash_windows\": {\"size\": 1048576, \"sha256\": [\"w0\", \"w1\"]},\n"
    "  \"partitions\": [{\"index\": 1, \"scheme\": \"gpt\", \"type\": \"linux\", \"name\": "
    "\"root\", \"start\": 1048576, \"size\": 1048576}],\n"
    "  \"luks\": [{\"partition\": 1, \"version\": 2, \"uuid\": \"u-1\", \"cipher\": "
    "\"aes-xts-plain64\", \"key_bits\": 512, \"keyslots\": [0, 1], \"opened_keyslot\": 0,"
    " \"result\": \"opened\", \"message\": \"ok\"}],\n"
    "  \"verdict\": \"fail\", \"reasons\": [{\"code\": \"seal-mismatch\", \"message\": \"1 chunk "
    "differs\"}], \"unknown_disk_member\": 5}]}\n";

static char *render_text(const char *text, int want_rc, struct rp_err *err)
{
	char *html = NULL;
	size_t len = 0;
	int rc;

	rp_err_init(err);
	rc = rp_report_html_from_text(text, strlen(text), &html, &len, err);
	assert_int_equal(rc, want_rc);
	if (rc) {
		assert_null(html);
		return NULL;
	}
	assert_non_null(html);
	assert_int_equal(strlen(html), len);
	return html;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void test_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"", ""},
	    {"plain text", "plain text"},
	    {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
	    {"a & b", "a &amp; b"},
	    {"\"double\" 'single'", "&quot;double&quot; &#39;single&#39;"},
	    {"&amp;", "&amp;amp;"},
	    {"tab\tnew\nline", "tab\tnew\nline"},
	    {"bell\a esc\x1b del\x7f", "bell&#xFFFD; esc&#xFFFD; del&#xFFFD;"},
	    {"caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = rp_report_html_escape(cases[i].in);
		assert_non_null(got);
		assert_string_equal(got, cases[i].out);
		free(got);
	}
}

static void test_counts(void **state)
{
	struct rp_report_html_counts c = {99, 99, 99, 99};
	struct rp_err err;

	(void)state;
	assert_int_equal(rp_report_html_count_states(".vvX--.-", 8, &c, NULL), 0);
	assert_int_equal(c.never, 2);
	assert_int_equal(c.verified, 2);
	assert_int_equal(c.mismatched, 1);
	assert_int_equal(c.unchecked, 3);
	assert_int_equal(rp_report_html_count_states("", 0, &c, NULL), 0);
	assert_int_equal(c.never + c.verified + c.mismatched + c.unchecked, 0);

	c.never = 42;
	rp_err_init(&err);
	assert_int_equal(rp_report_html_count_states("vvvx", 4, &c, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "chunk 3 has an unknown state"));
	assert_int_equal(c.never, 42); /* untouched on failure */
	assert_int_equal(rp_report_html_count_states("v\0v", 3, &c, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "chunk 1 "));
}

static void test_grid_group(void **state)
{
	static const struct {
		uint64_t chunks, max, k;
	} cases[] = {
	    {0, 20000, 1},	   {1, 20000, 1},
	    {20000, 20000, 1},	   {20001, 20000, 2},
	    {40000, 20000, 2},	   {40001, 20000, 3},
	    {5000000, 20000, 250}, {5000001, 20000, 251},
	    {10, 0, 10},	   {UINT64_MAX, 20000, UINT64_MAX / 20000 + 1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t k = rp_report_html_grid_group(cases[i].chunks, cases[i].max);
		assert_int_equal(k, cases[i].k);
		/* the cells fit */
		if (cases[i].max)
			assert_true(cases[i].chunks / k + (cases[i].chunks % k != 0) <=
				    cases[i].max);
	}
}

static void test_worst(void **state)
{
	static const struct {
		const char *map;
		char want;
	} cases[] = {
	    {"", '.'},	  {"....", '.'}, {"..v.", 'v'}, {"v-v", '-'},
	    {"-v.", '-'}, {"v.X-", 'X'}, {"X...", 'X'}, {"...X", 'X'},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(rp_report_html_worst(cases[i].map, strlen(cases[i].map)),
				 cases[i].want);
}

static void test_full_report(void **state)
{
	struct rp_err err;
	char *html = render_text(base, 0, &err), *grid;

	(void)state;
	assert_non_null(strstr(html, "<!DOCTYPE html>"));
	assert_non_null(strstr(html, "<meta http-equiv=\"Content-Security-Policy\" "
				     "content=\"default-src 'none'; style-src 'unsafe-inline'; "
				     "script-src 'none'; img-src data:\">"));
	/* the injected notes are text, not markup; quotes escaped */
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<b>"));
	assert_non_null(strstr(html, "os-disk&lt;b&gt;"));
	assert_non_null(strstr(html, "O&#39;Brien &amp; &quot;Q&quot;"));
	/* no network: nothing is loaded from elsewhere */
	assert_null(strstr(html, "src="));
	assert_null(strstr(html, "href="));
	assert_null(strstr(html, "url("));
	/* verdict, metadata, tables */
	assert_non_null(strstr(html, "class=\"verdict v-fail\""));
	assert_non_null(strstr(html, ">FAIL<"));
	assert_non_null(strstr(html, "CASE-7"));
	assert_non_null(strstr(html, "2026-11-28T13:00:05Z"));
	assert_non_null(strstr(html, "https://a.blob/c/d.vhd"));
	assert_non_null(strstr(html, "aes-xts-plain64"));
	assert_non_null(strstr(html, "<td>0, 1</td>"));
	assert_non_null(strstr(html, "<details><summary>Hash windows: 2 SHA-256 digests"));
	assert_non_null(strstr(html, "12582912 <span class=\"note\">(0xc00000)</span>"));
	/* the grid: one cell per chunk, the mismatch at chunk 3 */
	assert_non_null(strstr(html, "Each cell is one chunk of 4194304 bytes"));
	grid = strstr(html, "<div class=\"grid\"");
	assert_non_null(grid);
	assert_int_equal(count_of(grid, "<i class=\"s-v\"></i>"), 3);
	assert_int_equal(count_of(grid, "<i class=\"s-n\"></i>"), 2);
	assert_int_equal(count_of(grid, "<i class=\"s-u\"></i>"), 2);
	assert_int_equal(count_of(html, "class=\"s-x mismatch\""), 1);
	assert_non_null(strstr(html, "<i class=\"s-x mismatch\" data-chunk=\"3\" title=\"chunk 3 "
				     "at offset 12582912 (0xc00000): mismatched\"></i>"));
	assert_non_null(strstr(html, "mismatched: 1 (12.5%)"));
	assert_non_null(strstr(html, "not checked this run: 2 (25.0%)"));
	assert_non_null(strstr(html, "verified: 3 (37.5%)"));
	assert_non_null(strstr(html, "never written: 2 (25.0%)"));
	free(html);
}

static void test_minimal_report(void **state)
{
	struct rp_err err;
	char *html = render_text("{\"schema\": \"cvmrestore-report/1\", \"verdict\": \"pass\", "
				 "\"case\": null, \"disks\": [{}]}",
				 0, &err);

	(void)state;
	assert_non_null(strstr(html, ">PASS<"));
	assert_non_null(strstr(html, "Disk (unnamed)"));
	assert_non_null(strstr(html, "This report has no chunk map."));
	assert_null(strstr(html, "<h2>Case</h2>"));
	free(html);
	html =
	    render_text("{\"schema\": \"cvmrestore-report/1\", \"verdict\": \"error\"}", 0, &err);
	assert_non_null(strstr(html, ">ERROR<"));
	assert_non_null(strstr(html, "This report has no disks."));
	assert_null(strstr(html, "<h2>Run</h2>"));
	free(html);
}

/* Two million chunks: 100 per cell, 20000 cells; one mismatch and a few unchecked chunks. */
static void test_aggregated_grid(void **state)
{
	static const char head[] = "{\"schema\": \"cvmrestore-report/1\", \"verdict\": \"fail\", "
				   "\"disks\": [{\"chunk_size\": 1048576, \"chunk_map\": \"";
	const size_t n = 2000000;
	size_t hl = strlen(head), i;
	char *text = malloc(hl + n + 8), *html, *p;
	struct rp_err err;

	(void)state;
	assert_non_null(text);
	memcpy(text, head, hl);
	for (i = 0; i < n; i++)
		text[hl + i] = i < n / 2 ? 'v' : '.';
	text[hl + 1234567] = 'X';
	text[hl + 500] = '-';
	memcpy(text + hl + n, "\"}]}", 5);
	html = render_text(text, 0, &err);
	assert_non_null(strstr(html, "Aggregated: each cell stands for 100 chunks of 104857600 "
				     "bytes"));
	p = strstr(html, "<div class=\"grid\"");
	assert_non_null(p);
	assert_int_equal(count_of(p, "<i class="), 20000);
	assert_int_equal(count_of(p, "class=\"s-x mismatch\""), 1);
	assert_non_null(strstr(p, "data-chunk=\"1234500-1234599\" title=\"chunks 1234500-1234599 "
				  "at offset 1294467072000 (0x12d64400000): mismatched\""));
	assert_int_equal(count_of(p, "<i class=\"s-u\"></i>"), 1); /* cell 5: '-' beats 'v' */
	assert_int_equal(count_of(p, "<i class=\"s-v\"></i>"), 9999);
	assert_int_equal(count_of(p, "<i class=\"s-n\"></i>"), 9999);
	assert_non_null(strstr(html, "mismatched: 1 (&lt;0.1%)"));
	assert_non_null(strstr(html, "never written: 999999 "));
	free(html);
	free(text);
}

/* Each case changes one member of base (find must occur once) and names the member. */
static const struct {
	const char *find, *replace;
	int code;
	const char *msg;
} bad_cases[] = {
    {"{\"schema\"", "[{\"schema\"", RP_EFORMAT, "invalid JSON at line"},
    {"\"schema\": \"cvmrestore-report/1\"", "\"schema\": \"cvmrestore-report/2<x>\"", RP_EFORMAT,
     "schema: unsupported (want \"cvmrestore-report/1\")"},
    {"\"schema\": \"cvmrestore-report/1\"", "\"schema\": null", RP_EFORMAT, "schema: missing"},
    {"\"schema\": \"cvmrestore-report/1\"", "\"schema\": 1", RP_EFORMAT, "schema: not a string"},
    {"\"verdict\": \"fail\", \"exit", "\"verdict\": \"maybe\", \"exit", RP_EFORMAT,
     "verdict: not pass, fail or error"},
    {"\"verdict\": \"fail\", \"exit", "\"exit", RP_EFORMAT, "verdict: missing"},
    {"\"exit_code\": 1", "\"exit_code\": -1", RP_EFORMAT, "exit_code: not a non-negative integer"},
    {"\"version\": \"0.1.0\"", "\"version\": 1", RP_EFORMAT, "tool.version: not a string"},
    {"\"started\": \"2026-11-28T13:00:00Z\"", "\"started\": {}", RP_EFORMAT,
     "started: not a string"},
    {"\"case\": {", "\"case\": [], \"x\": {", RP_EFORMAT, "case: not an object"},
    {"\"notes\": \"<script>alert(1)</script>\"", "\"notes\": 7", RP_EFORMAT,
     "case.notes: not a string"},
    {"\"display\": \"https://a.blob/c/d.vhd\"", "\"display\": true", RP_EFORMAT,
     "source.display: not a string"},
    {"\"disks\": [{", "\"disks\": 5, \"disks_old\": [{", RP_EFORMAT, "disks: not an array"},
    {"\"disks\": [{\"name\"", "\"disks\": [7, {\"name\"", RP_EFORMAT, "disks[0]: not an object"},
    {"\"name\": \"os-disk<b>\"", "\"name\": [\"os\"]", RP_EFORMAT, "disks[0].name: not a string"},
    {"\"virtual_size\": 33554432", "\"virtual_size\": -1", RP_EFORMAT,
     "disks[0].virtual_size: not a non-negative integer"},
    {"\"virtual_size\": 33554432", "\"virtual_size\": \"32M\"", RP_EFORMAT,
     "disks[0].virtual_size: not a non-negative integer"},
    {"\"virtual_size\": 33554432", "\"virtual_size\": 1.5", RP_EFORMAT,
     "disks[0].virtual_size: not a non-negative integer"},
    {"\"coverage\": {", "\"coverage\": 3, \"c2\": {", RP_EFORMAT,
     "disks[0].coverage: not an object"},
    {"\"percent\": 75", "\"percent\": \"75%\"", RP_EFORMAT,
     "disks[0].coverage.percent: not a non-negative integer"},
    {"\"chunk_map\": \"v.vX--.v\"", "\"chunk_map\": \"v.vx--.v\"", RP_EFORMAT,
     "disks[0].chunk_map: chunk 3 has an unknown state"},
    {"\"chunk_map\": \"v.vX--.v\"", "\"chunk_map\": \"v.vX--.\"", RP_EFORMAT,
     "disks[0].chunk_map: length 7 differs from chunks_total 8"},
    {"\"chunk_map\": \"v.vX--.v\"", "\"chunk_map\": [\"v\"]", RP_EFORMAT,
     "disks[0].chunk_map: not a string"},
    {"\"chunks_total\": 8", "\"chunks_total\": \"8\"", RP_EFORMAT,
     "disks[0].chunks_total: not a non-negative integer"},
    {"\"mismatches\": [{", "\"mismatches\": [\"3\", {", RP_EFORMAT,
     "disks[0].mismatches[0]: not an object"},
    {"\"offset\": 12582912", "\"offset\": \"0xc00000\"", RP_EFORMAT,
     "disks[0].mismatches[0].offset: not a non-negative integer"},
    {"\"expected\": \"aa\"", "\"expected\": 170", RP_EFORMAT,
     "disks[0].mismatches[0].expected: not a string"},
    {"\"digests\": {", "\"digests\": [], \"d2\": {", RP_EFORMAT, "disks[0].digests: not an object"},
    {"\"md5\": \"d5\"", "\"md5\": 5", RP_EFORMAT, "disks[0].digests.md5: not a string"},
    {"\"hash_windows\": {", "\"hash_windows\": 1, \"h2\": {", RP_EFORMAT,
     "disks[0].hash_windows: not an object"},
    {"\"size\": 1048576, \"sha256\"", "\"size\": -5, \"sha256\"", RP_EFORMAT,
     "disks[0].hash_windows.size: not a non-negative integer"},
    {"[\"w0\", \"w1\"]", "[\"w0\", 1]", RP_EFORMAT,
     "disks[0].hash_windows.sha256[1]: not a string"},
    {"[\"w0\", \"w1\"]", "\"w0\"", RP_EFORMAT, "disks[0].hash_windows.sha256: not an array"},
    {"\"partitions\": [", "\"partitions\": {}, \"p2\": [", RP_EFORMAT,
     "disks[0].partitions: not an array"},
    {"\"start\": 1048576", "\"start\": \"1M\"", RP_EFORMAT,
     "disks[0].partitions[0].start: not a non-negative integer"},
    {"\"keyslots\": [0, 1]", "\"keyslots\": [0, \"1\"]", RP_EFORMAT,
     "disks[0].luks[0].keyslots[1]: not a non-negative integer"},
    {"\"keyslots\": [0, 1]", "\"keyslots\": 0", RP_EFORMAT,
     "disks[0].luks[0].keyslots: not an array"},
    {"\"uuid\": \"u-1\"", "\"uuid\": 1", RP_EFORMAT, "disks[0].luks[0].uuid: not a string"},
    {"\"verdict\": \"fail\", \"reasons\"", "\"verdict\": \"ok\", \"reasons\"", RP_EFORMAT,
     "disks[0].verdict: not pass, fail or error"},
    {"\"reasons\": [{\"code\": \"seal-mismatch\"", "\"reasons\": [{\"code\": 1", RP_EFORMAT,
     "disks[0].reasons[0].code: not a string"},
};

static void test_malformed(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const char *at = strstr(base, bad_cases[i].find);
		size_t fl = strlen(bad_cases[i].find), rl = strlen(bad_cases[i].replace);
		size_t pre = (size_t)(at ? at - base : 0);
		char *text = malloc(sizeof(base) + rl);
		struct rp_err err;

		print_message("case %zu: %s\n", i, bad_cases[i].msg);
		assert_non_null(at);
		assert_null(strstr(at + 1, bad_cases[i].find)); /* exactly one place changes */
		assert_non_null(text);
		memcpy(text, base, pre);
		memcpy(text + pre, bad_cases[i].replace, rl);
		memcpy(text + pre + rl, base + pre + fl, sizeof(base) - pre - fl);
		render_text(text, bad_cases[i].code, &err);
		assert_int_equal(err.code, bad_cases[i].code);
		assert_non_null(strstr(err.msg, bad_cases[i].msg));
		/* the message names the member, never quotes the document */
		assert_null(strstr(err.msg, "<x>"));
		assert_null(strstr(err.msg, "0xc00000"));
		free(text);
	}
}

static void test_not_an_object(void **state)
{
	struct rp_json *j = NULL;
	struct rp_err err;
	char *html = NULL;
	size_t len = 0;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_json_parse("[1]", 3, &j, &err), 0);
	assert_int_equal(rp_report_html_render(j, &html, &len, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "not a JSON object"));
	assert_null(html);
	rp_json_free(j);
	render_text("", RP_EFORMAT, &err);
	assert_non_null(strstr(err.msg, "invalid JSON"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),	    cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_grid_group),	    cmocka_unit_test(test_worst),
	    cmocka_unit_test(test_full_report),	    cmocka_unit_test(test_minimal_report),
	    cmocka_unit_test(test_aggregated_grid), cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_not_an_object),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
