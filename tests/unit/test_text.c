/* Unit tests for common/text.c: URL redaction, message redaction and terminal escaping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "common/text.h"

static void test_url_redact(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"https://a.blob.core.windows.net/c/d.vhd?sv=2021&sig=SECRET%3D",
	     "https://a.blob.core.windows.net/c/d.vhd"},
	    {"https://user:pw@host:8443/x?y#z", "https://host:8443/x"},
	    {"https://host/x#frag", "https://host/x"},
	    {"https://host/x", "https://host/x"},
	    {"https://host?sig=abc", "https://host"},
	    {"https://h/p@q?sig=1", "https://h/p@q"},
	    /* typo'd schemes, a leading space, local paths: the query goes all the same */
	    {"htps://h/d.vhd?sig=SECRET", "htps://h/d.vhd"},
	    {"https:/h/d.vhd?sig=SECRET", "https:/h/d.vhd"},
	    {"https:/u:pw@h/d.vhd?sig=SECRET", "https:/h/d.vhd"},
	    {"htps://u:pw@h/d.vhd", "htps://h/d.vhd"},
	    {" https://u:pw@h/d.vhd?sig=SECRET", " https://h/d.vhd"},
	    {"https:h/d.vhd?sig=SECRET", "https:h/d.vhd"},
	    {"d.vhd?sv=1&sig=SECRET", "d.vhd"},
	    {"/tmp/a@b/c", "/tmp/a@b/c"},
	    {"?sig=SECRET", ""},
	    {"", ""},
	};
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rp_url_redact(cases[i].in, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
		assert_null(strstr(out, "SECRET"));
		assert_null(strstr(out, "pw"));
	}
	rp_url_redact("https://host/very/long?sig=x", out, 10);
	assert_int_equal(strlen(out), 9);
}

static void test_text_redact(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"cannot open 'https://h/d.vhd?sv=1&sig=SECRET': No such file",
	     "cannot open 'https://h/d.vhd': No such file"},
	    {"properties: htps://h/x?sig=SECRET: failed", "properties: htps://h/x failed"},
	    {"a \"https:/u:pw@h/x?sig=SECRET\" b", "a \"https:/h/x\" b"},
	    {"two https://h/a?sig=SECRET1 and https://u:pw@h/b?sig=SECRET2 end",
	     "two https://h/a and https://h/b end"},
	    {"is it? yes", "is it? yes"},
	    {"what?", "what?"},
	    {"no url here", "no url here"},
	    {"", ""},
	};
	char msg[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(msg, sizeof(msg), "%s", cases[i].in);
		rp_text_redact(msg);
		assert_string_equal(msg, cases[i].out);
		assert_null(strstr(msg, "SECRET"));
	}
}

static void test_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain text", "plain text"},
	    {"\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"},
	    {"\x1b[2Jx", "\\x1b[2Jx"},
	    {"tab\there\nnl\r", "tab\\x09here\\x0anl\\x0d"},
	    {"del\x7f", "del\\x7f"},
	    {"c1 \xc2\x9b"
	     "31m",
	     "c1 \\xc2\\x9b31m"},		  /* U+009B, the 8-bit CSI */
	    {"nbsp\xc2\xa0ok", "nbsp\xc2\xa0ok"}, /* U+00A0 is printable */
	    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xbe",
	     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xbe"},
	    {"rlo\xe2\x80\xaetxt", "rlo\\xe2\\x80\\xaetxt"}, /* U+202E right-to-left override */
	    {"iso\xe2\x81\xa6x", "iso\\xe2\\x81\\xa6x"},     /* U+2066 left-to-right isolate */
	    {"bad\xff\xfe", "bad\\xff\\xfe"},
	    {"lone\x80", "lone\\x80"},
	    {"overlong\xc0\xaf", "overlong\\xc0\\xaf"},
	    {"surrogate\xed\xa0\x80", "surrogate\\xed\\xa0\\x80"},
	    {"cut\xe2\x82", "cut\\xe2\\x82"},
	    {"big\xf4\x90\x80\x80", "big\\xf4\\x90\\x80\\x80"},
	    {"back\\slash", "back\\slash"},
	};
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rp_text_escape(cases[i].in, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
		assert_null(strchr(out, '\x1b'));
		assert_true(rp_text_is_clean(out));
		assert_int_equal(rp_text_is_clean(cases[i].in),
				 strcmp(cases[i].in, cases[i].out) == 0);
	}
	/* A cut never splits an escape or a character. */
	rp_text_escape("ab\x1b", out, 5);
	assert_string_equal(out, "ab");
	rp_text_escape("a\xc3\xa9", out, 3);
	assert_string_equal(out, "a");
	rp_text_escape("x", out, 1);
	assert_string_equal(out, "");
}

static void test_show(void **state)
{
	char out[RP_SHOW_MAX];

	(void)state;
	assert_string_equal(rp_show_path("htps://u:pw@h/\x1b[2J.vhd?sig=S", out, sizeof(out)),
			    "htps://h/\\x1b[2J.vhd");
	assert_string_equal(rp_show_text("'\x1b]0;t\x07' at https://h/x?sig=S", out, sizeof(out)),
			    "'\\x1b]0;t\\x07' at https://h/x");
	assert_string_equal(RP_PATH(NULL), "(null)");
	assert_string_equal(RP_TEXT("a\nb"), "a\\x0ab");
}

static void test_json_harden(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"{\"a\":\"plain \\u001b caf\xc3\xa9\"}", "{\"a\":\"plain \\u001b caf\xc3\xa9\"}"},
	    {"[\"\x7f\xc2\x9b\xc2\x80x\"]", "[\"\\u007f\\u009b\\u0080x\"]"},
	    {"\"\xe2\x80\xae\xe2\x81\xa9\"", "\"\\u202e\\u2069\""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *in = strdup(cases[i].in), *out;

		assert_non_null(in);
		out = rp_text_json_harden(in);
		assert_non_null(out);
		assert_string_equal(out, cases[i].out);
		free(out);
	}
	assert_null(rp_text_json_harden(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_redact),	cmocka_unit_test(test_text_redact),
	    cmocka_unit_test(test_escape),	cmocka_unit_test(test_show),
	    cmocka_unit_test(test_json_harden),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
