/*
 * Tests of net/auth.c and net/auth_parse.c: SAS facts, token answers, error answers,
 * bearer token files (with rotation), the choice of credential, and that no error message
 * carries a token or a secret.
 *
 * Run with the argument "drive" the executable is instead a small client of rp_auth for
 * tests/integration/test_auth_tokens.sh (see drive() below); it never prints a token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "common/util.h"
#include "net/auth.h"
#include "net/auth_int.h"

#define TOKEN "eyJ0eXAiOiJKV1QiLCJhbGciOi.SECRETTOKEN123.sig-_"
#define SECRET "s3cr3t~Cl13nt+Value/=="
#define HDR_SZ (RP_TOKEN_MAX + 64)

static void assert_no_secret(const char *msg)
{
	assert_null(strstr(msg, "SECRETTOKEN"));
	assert_null(strstr(msg, SECRET));
	assert_null(strstr(msg, "SECRETFILE"));
}

static void test_sas_info(void **state)
{
	static const struct {
		const char *url;
		bool has_sas;
		time_t expiry;
		const char *perms;
	} cases[] = {
	    {"https://a.blob.core.windows.net/c/"
	     "b?sv=2021-08-06&sp=r&se=2026-11-28T10:00:00Z&sig=a%2Bb",
	     true, 1795860000, "r"},
	    {"https://h/c/b?se=2026-11-28T10%3A00%3A00Z&sp=rl&sig=x", true, 1795860000, "rl"},
	    {"https://h/c/b?se=2026-11-28&sig=x", true, 1795824000, ""},
	    {"https://h/c/b?se=2026-11-28T10:00:00.1234567Z&sig=x", true, 1795860000, ""},
	    {"https://h/c/b?se=2026-11-28T10%3A00Z&sig=x", true, 1795860000, ""},
	    {"https://h/c/b?se=2028-02-29&sig=x", true, 1835395200, ""},
	    {"https://h/c/b?se=1999-12-31T23:59:59Z", false, 946684799, ""},
	    {"https://h/c/b", false, 0, ""},
	    {"https://h/c/b?", false, 0, ""},
	    {"https://h/c/b?sig", true, 0, ""},
	    {"https://h/c/b?xsig=1&signature=2&sp=r", false, 0, "r"},
	    {"https://h/c/b?sp=r%77&sig=1#se=2026-11-28", true, 0, "rw"},
	    {"https://h/c/b?se=2027-02-29&sig=x", true, 0, ""},
	    {"https://h/c/b?se=2026-13-01&sig=x", true, 0, ""},
	    {"https://h/c/b?se=2026-04-31&sig=x", true, 0, ""},
	    {"https://h/c/b?se=2026-11-28T24:00:00Z&sig=x", true, 0, ""},
	    {"https://h/c/b?se=2026-11-28T10:00:00.Z&sig=x", true, 0, ""},
	    {"https://h/c/b?se=2026-11-28Tjunk&sig=x", true, 0, ""},
	    {"https://h/c/b?se=2026-11-28T10:00:00Zjunk&sig=x", true, 0, ""},
	    {"https://h/c/b?se=tomorrow&sig=x", true, 0, ""},
	    {"https://h/c/b?se=&sp=&sig=", true, 0, ""},
	    {"https://h/c/b?sp=%zz", false, 0, "%zz"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool has = !cases[i].has_sas;
		time_t t = 12345;
		char perms[16] = "junk";

		rp_sas_info(cases[i].url, &has, &t, perms, sizeof(perms));
		if (has != cases[i].has_sas || t != cases[i].expiry ||
		    strcmp(perms, cases[i].perms) != 0)
			fail_msg("case %zu (%s): has %d t %lld perms '%s'", i, cases[i].url, has,
				 (long long)t, perms);
	}
}

static void test_sas_info_small_perms(void **state)
{
	bool has;
	time_t t;
	char perms[3];

	(void)state;
	rp_sas_info("https://h/c?sp=racwdl&sig=1", &has, &t, perms, sizeof(perms));
	assert_true(has);
	assert_string_equal(perms, "ra");
	rp_sas_info("https://h/c?sp=racwdl&sig=1", &has, &t, NULL, 0);
	assert_true(has);
}

static void test_sas_policy(void **state)
{
	static const struct {
		const char *url;
		bool has;
		const char *id;
	} cases[] = {
	    /* the managed-disk form: no sp=, no se= */
	    {"https://md-x.z1.blob.storage.azure.net/abc/abcd?sv=2018-03-28&sr=b&si=2f3e-11&sig=S",
	     true, "2f3e-11"},
	    {"https://h/c/b?si=pol%201&sp=r&sig=S", true, "pol%201"},
	    {"https://h/c/b?sp=r&se=2026-01-01&sig=S", false, ""},
	    {"https://h/c/b?xsi=a&sig=S", false, ""},
	    {"https://h/c/b?si=&sig=S", false, ""},
	    {"https://h/c/b#si=a", false, ""},
	    {"https://h/c/b", false, ""},
	    /* shown on a terminal: control bytes and quotes are not copied */
	    {"https://h/c/b?si=a\x1b[2J'b&sig=S", true, "a?\?2J?b"},
	};
	char id[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(id, sizeof(id), "junk");
		assert_int_equal(rp_sas_policy(cases[i].url, id, sizeof(id)), cases[i].has);
		assert_string_equal(id, cases[i].id);
	}
	assert_true(rp_sas_policy("https://h/c?si=a-very-long-policy-name&sig=1", id, 5));
	assert_string_equal(id, "a-ve");
	assert_true(rp_sas_policy("https://h/c?si=p&sig=1", NULL, 0));
}

static void test_parse_token(void **state)
{
	static const time_t now = 1700000000;
	static const struct {
		const char *body;
		int rc;
		uint64_t lifetime;
		const char *msg;
	} cases[] = {
	    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":3599}", 0, 3599, NULL},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":\"3599\",\"token_type\":\"Bearer\"}",
	     0, 3599, NULL},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_on\":1700003600}", 0, 3600, NULL},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_on\":\"1700000004\"}", 0, 4, NULL},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_on\":\"1600000000\"}", 0, 0, NULL},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":\"10\",\"expires_on\":\"1\"}", 0, 10,
	     NULL},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":0}", 0, 0, NULL},
	    {"{\"expires_in\":3599}", RP_EFORMAT, 0, "no access_token string"},
	    {"{\"access_token\":42,\"expires_in\":3599}", RP_EFORMAT, 0, "no access_token string"},
	    {"{\"access_token\":\"\",\"expires_in\":3599}", RP_EFORMAT, 0, "access_token is empty"},
	    {"{\"access_token\":\"SECRETTOKEN 123\",\"expires_in\":1}", RP_EFORMAT, 0,
	     "access_token has a space, control or non-ASCII byte at offset 11"},
	    {"{\"access_token\":\"SECRETTOKEN\\n\",\"expires_in\":1}", RP_EFORMAT, 0,
	     "at offset 11"},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":-5}", RP_EFORMAT, 0,
	     "expires_in is negative"},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":\"-5\"}", RP_EFORMAT, 0,
	     "expires_in is not a whole number"},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":\"12s\"}", RP_EFORMAT, 0,
	     "expires_in is not a whole number"},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":\"\"}", RP_EFORMAT, 0,
	     "expires_in is not a whole number"},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":1.5}", RP_EFORMAT, 0,
	     "expires_in is not a whole number"},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":null}", RP_EFORMAT, 0,
	     "expires_in is not a whole number"},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":99999999999}", RP_EFORMAT, 0,
	     "lifetime of 99999999999 s is more than"},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":\"99999999999999999999999\"}",
	     RP_EFORMAT, 0, "expires_in is out of range"},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":99999999999999999999999}", RP_EFORMAT,
	     0, "token answer is not JSON"},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_on\":\"99999999999999999\"}", RP_EFORMAT, 0,
	     "lifetime of 99999998299999999 s"},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_on\":\"9999999999999999999\"}", RP_EFORMAT,
	     0, "expires_on is out of range"},
	    {"{\"access_token\":\"" TOKEN "\",\"expires_on\":-1}", RP_EFORMAT, 0,
	     "expires_on is negative"},
	    {"{\"access_token\":\"" TOKEN "\"}", RP_EFORMAT, 0,
	     "neither expires_in nor expires_on"},
	    {"access_token=" TOKEN "&expires_in=10", RP_EFORMAT, 0, "token answer is not JSON"},
	    {"{\"access_token\":\"" TOKEN "\",", RP_EFORMAT, 0, "token answer is not JSON"},
	    {"", RP_EFORMAT, 0, "token answer is not JSON (0 bytes)"},
	    {"[\"" TOKEN "\"]", RP_EFORMAT, 0, "not a JSON object"},
	    {"{\"access_token\":\"" TOKEN "\",\"access_token\":\"x\",\"expires_in\":1}", RP_EFORMAT,
	     0, "token answer is not JSON"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_token_answer t = {0};
		struct rp_err err;
		int rc;

		rp_err_init(&err);
		rc = rp_auth_parse_token(cases[i].body, strlen(cases[i].body), now, &t, &err);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, err.msg);
		if (rc == 0) {
			assert_string_equal(t.access_token, TOKEN);
			assert_int_equal(t.token_len, strlen(TOKEN));
			assert_true(t.lifetime_s == cases[i].lifetime);
			rp_token_answer_release(&t);
			assert_null(t.access_token);
			continue;
		}
		assert_null(t.access_token);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, cases[i].msg);
		assert_no_secret(err.msg);
	}
	rp_token_answer_release(NULL);
}

static void test_error_answer(void **state)
{
	static const char *const secrets[] = {SECRET, TOKEN, NULL};
	static const struct {
		long status;
		const char *body;
		const char *msg;
	} cases[] = {
	    {400, "{\"error\":\"invalid_request\",\"error_description\":\"Identity not found\"}",
	     "imds: HTTP 400 invalid_request: Identity not found"},
	    {401,
	     "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client "
	     "secret provided: " SECRET ".\",\"error_codes\":[7000215]}",
	     "imds: HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided: "
	     "[redacted]."},
	    {403, "{\"error\":{\"code\":\"Forbidden\",\"message\":\"token " TOKEN " refused\"}}",
	     "imds: HTTP 403 Forbidden: token [redacted] refused"},
	    {400, "{\"error\":\"bad\\u0001one\"}", "imds: HTTP 400 bad?one"},
	    {400, "{\"error_description\":\"only a description\"}",
	     "imds: HTTP 400 only a description"},
	    {502, "<html>" SECRET "</html>", "imds: HTTP 502"},
	    {500, "", "imds: HTTP 500"},
	    {400, "{\"error\":17}", "imds: HTTP 400"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_err err;

		rp_err_init(&err);
		assert_int_equal(rp_auth_error_answer(RP_EAUTH, "imds", cases[i].status,
						      cases[i].body, strlen(cases[i].body), secrets,
						      &err),
				 RP_EAUTH);
		assert_int_equal(err.code, RP_EAUTH);
		if (strcmp(err.msg, cases[i].msg) != 0)
			fail_msg("case %zu: '%s', want '%s'", i, err.msg, cases[i].msg);
		assert_no_secret(err.msg);
	}
}

static void test_error_answer_long(void **state)
{
	char body[2048];
	struct rp_err err;

	(void)state;
	snprintf(body, sizeof(body), "{\"error\":\"x\",\"error_description\":\"%0*d\"}", 1500, 7);
	rp_err_init(&err);
	assert_int_equal(rp_auth_error_answer(RP_EIO, "w", 503, body, strlen(body), NULL, &err),
			 RP_EIO);
	assert_true(strlen(err.msg) < 300);
	assert_non_null(strstr(err.msg, "w: HTTP 503 x: 0000"));
}

static void test_redact(void **state)
{
	static const char *const secrets[] = {"red", "ab", "", NULL};
	char msg[RP_ERR_MSG_MAX] = "red ab xaby redred";

	(void)state;
	rp_auth_redact(msg, sizeof(msg), secrets);
	assert_string_equal(msg, "[redacted] [redacted] x[redacted]y [redacted][redacted]");
	rp_auth_redact(msg, sizeof(msg), NULL);
	assert_string_equal(msg, "[redacted] [redacted] x[redacted]y [redacted][redacted]");
}

static void test_small_helpers(void **state)
{
	char out[64];

	(void)state;
	assert_true(rp_auth_url_encode("https://vault.azure.net/.default", out, sizeof(out)));
	assert_string_equal(out, "https%3A%2F%2Fvault.azure.net%2F.default");
	assert_true(rp_auth_url_encode("a+b c~_-.", out, sizeof(out)));
	assert_string_equal(out, "a%2Bb%20c~_-.");
	assert_false(rp_auth_url_encode("abc", out, 3));
	assert_true(rp_auth_url_encode("abc", out, 4));
	assert_false(rp_auth_url_encode("a/", out, 4));
	assert_true(rp_auth_refresh_after(3600) == 3300);
	assert_true(rp_auth_refresh_after(86399) == 86099);
	assert_true(rp_auth_refresh_after(601) == 301);
	assert_true(rp_auth_refresh_after(600) == 300);
	assert_true(rp_auth_refresh_after(4) == 2);
	assert_true(rp_auth_refresh_after(1) == 0);
	assert_true(rp_auth_refresh_after(0) == 0);
}

static void test_token_file(void **state)
{
	static const struct {
		const char *content; /* NULL: no file */
		size_t len;
		int rc;
		const char *msg; /* '@' stands for the path */
		const char *token;
	} cases[] = {
	    {"SECRETFILETOKEN", 15, 0, NULL, "SECRETFILETOKEN"},
	    {"SECRETFILETOKEN\n", 16, 0, NULL, "SECRETFILETOKEN"},
	    {"SECRETFILETOKEN \r\n\t\n", 20, 0, NULL, "SECRETFILETOKEN"},
	    {NULL, 0, RP_EIO, "cannot open bearer token file '@': No such file", NULL},
	    {"", 0, RP_EFORMAT, "bearer token file '@' is empty", NULL},
	    {"\n\n", 2, RP_EFORMAT, "bearer token file '@' is empty", NULL},
	    {"SECRETFILE\001X", 12, RP_EFORMAT,
	     "bearer token file '@' has a space, control or non-ASCII byte at offset 10", NULL},
	    {"SECRETFILE X", 12, RP_EFORMAT, "byte at offset 10", NULL},
	    {" SECRETFILE", 11, RP_EFORMAT, "byte at offset 0", NULL},
	    {"SECRETFILE\xc3\xa9", 12, RP_EFORMAT, "byte at offset 10", NULL},
	    {"SECRETFILE\0X", 12, RP_EFORMAT, "byte at offset 10", NULL},
	};
	char dir[4096], path[4200], want[800];
	size_t i;

	(void)state;
	unit_tmpdir(dir, sizeof(dir), "test_auth");
	snprintf(path, sizeof(path), "%s/token", dir);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_err err;
		char *tok = NULL;
		const char *at;
		size_t len = 0;
		int rc;

		unlink(path);
		if (cases[i].content)
			unit_write(path, cases[i].content, cases[i].len);
		rp_err_init(&err);
		rc = rp_auth_read_token_file(path, &tok, &len, &err);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, err.msg);
		if (rc == 0) {
			assert_string_equal(tok, cases[i].token);
			assert_int_equal(len, strlen(cases[i].token));
			rp_auth_secret_free(tok, len);
			continue;
		}
		assert_null(tok);
		at = strchr(cases[i].msg, '@');
		if (at)
			snprintf(want, sizeof(want), "%.*s%s%s", (int)(at - cases[i].msg),
				 cases[i].msg, path, at + 1);
		else
			snprintf(want, sizeof(want), "%s", cases[i].msg);
		if (!strstr(err.msg, want))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, want);
		assert_no_secret(err.msg);
	}
	unlink(path);
	rmdir(dir);
}

static void test_token_file_sizes(void **state)
{
	char dir[4096], path[4200];
	char *big = malloc(RP_TOKEN_MAX + 2), *tok = NULL;
	struct rp_err err;
	size_t len;

	(void)state;
	assert_non_null(big);
	memset(big, 'A', RP_TOKEN_MAX + 1);
	unit_tmpdir(dir, sizeof(dir), "test_auth");
	snprintf(path, sizeof(path), "%s/token", dir);
	unit_write(path, big, RP_TOKEN_MAX);
	rp_err_init(&err);
	assert_int_equal(rp_auth_read_token_file(path, &tok, &len, &err), 0);
	assert_int_equal(len, RP_TOKEN_MAX);
	rp_auth_secret_free(tok, len);
	tok = NULL;
	unit_write(path, big, RP_TOKEN_MAX + 1);
	assert_int_equal(rp_auth_read_token_file(path, &tok, &len, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "is larger than 16384 bytes"));
	assert_non_null(strstr(err.msg, path));
	assert_null(strstr(err.msg, "AAAA"));
	assert_null(tok);
	/* a directory cannot be read */
	assert_int_equal(rp_auth_read_token_file(dir, &tok, &len, &err), RP_EIO);
	assert_non_null(strstr(err.msg, dir));
	free(big);
	unlink(path);
	rmdir(dir);
}

static void test_bearer_rotation(void **state)
{
	struct rp_auth_opts o = {0};
	struct rp_http_opts h = {0};
	struct rp_auth *a = NULL;
	struct rp_err err;
	char dir[4096], path[4200], hdr[HDR_SZ], small[30];

	(void)state;
	unit_tmpdir(dir, sizeof(dir), "test_auth");
	snprintf(path, sizeof(path), "%s/token", dir);
	unit_write(path, "SECRETFILE-ONE\n", 15);
	o.bearer_token_file = path;
	rp_err_init(&err);
	assert_int_equal(rp_auth_new(&o, &h, RP_AUDIENCE_STORAGE, &a, &err), 0);
	assert_true(rp_auth_has_bearer(a));
	assert_int_equal(rp_auth_header(a, hdr, sizeof(hdr), &err), 0);
	assert_string_equal(hdr, "Authorization: Bearer SECRETFILE-ONE");
	unit_write(path, "SECRETFILE-TWO", 14);
	assert_int_equal(rp_auth_header(a, hdr, sizeof(hdr), &err), 0);
	assert_string_equal(hdr, "Authorization: Bearer SECRETFILE-ONE"); /* cached */
	rp_auth_invalidate(a);
	assert_int_equal(rp_auth_header(a, hdr, sizeof(hdr), &err), 0);
	assert_string_equal(hdr, "Authorization: Bearer SECRETFILE-TWO");
	/* a buffer too small for the header */
	assert_int_equal(rp_auth_header(a, small, sizeof(small), &err), RP_EUSAGE);
	assert_string_equal(small, "");
	assert_non_null(strstr(err.msg, "authorization header needs 37 bytes"));
	assert_no_secret(err.msg);
	/* the file goes away: the next re-read names it */
	unlink(path);
	rp_auth_invalidate(a);
	assert_int_equal(rp_auth_header(a, hdr, sizeof(hdr), &err), RP_EIO);
	assert_non_null(strstr(err.msg, path));
	rp_auth_free(a);
	rp_auth_free(NULL);
	rmdir(dir);
}

static void test_no_credential(void **state)
{
	struct rp_auth_opts o = {0};
	struct rp_auth *a = NULL;
	struct rp_err err;
	char hdr[64] = "junk";

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_auth_new(&o, NULL, NULL, &a, &err), 0);
	assert_false(rp_auth_has_bearer(a));
	assert_false(rp_auth_has_bearer(NULL));
	assert_int_equal(rp_auth_header(a, hdr, sizeof(hdr), &err), 0);
	assert_string_equal(hdr, "");
	rp_auth_invalidate(a);
	rp_auth_free(a);
}

static void set_client_env(const char *tenant, const char *id, const char *secret)
{
	if (tenant)
		setenv("AZURE_TENANT_ID", tenant, 1);
	else
		unsetenv("AZURE_TENANT_ID");
	if (id)
		setenv("AZURE_CLIENT_ID", id, 1);
	else
		unsetenv("AZURE_CLIENT_ID");
	if (secret)
		setenv("AZURE_CLIENT_SECRET", secret, 1);
	else
		unsetenv("AZURE_CLIENT_SECRET");
}

static void test_new_usage_errors(void **state)
{
	static const struct {
		const char *file;
		bool identity;
		const char *imds;
		bool client;
		const char *tenant, *id, *secret;
		const char *audience;
		const char *msg;
	} cases[] = {
	    {"/t", true, NULL, false, NULL, NULL, NULL, RP_AUDIENCE_STORAGE,
	     "more than one kind of credential"},
	    {NULL, true, NULL, true, NULL, NULL, NULL, RP_AUDIENCE_STORAGE,
	     "more than one kind of credential"},
	    {NULL, true, "ftp://127.0.0.1", false, NULL, NULL, NULL, RP_AUDIENCE_STORAGE,
	     "the IMDS endpoint 'ftp://127.0.0.1' is not an http:// or https:// URL"},
	    {NULL, true, NULL, false, NULL, NULL, NULL, "", "needs an audience"},
	    {"/t", false, NULL, false, NULL, NULL, NULL, NULL, "needs an audience"},
	    {NULL, false, NULL, true, NULL, "id", SECRET, RP_AUDIENCE_VAULT,
	     "client credentials need the environment variable AZURE_TENANT_ID"},
	    {NULL, false, NULL, true, "", "id", SECRET, RP_AUDIENCE_VAULT,
	     "variable AZURE_TENANT_ID"},
	    {NULL, false, NULL, true, "t", NULL, SECRET, RP_AUDIENCE_VAULT,
	     "variable AZURE_CLIENT_ID"},
	    {NULL, false, NULL, true, "t", "id", NULL, RP_AUDIENCE_VAULT,
	     "variable AZURE_CLIENT_SECRET"},
	    {NULL, false, NULL, true, "t", "id", "", RP_AUDIENCE_VAULT,
	     "variable AZURE_CLIENT_SECRET"},
	    {NULL, false, NULL, true, "t/../x", "id", SECRET, RP_AUDIENCE_VAULT,
	     "AZURE_TENANT_ID 't/../x' is not a tenant id or domain name"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_auth_opts o = {.bearer_token_file = cases[i].file,
					 .identity = cases[i].identity,
					 .imds_endpoint = cases[i].imds,
					 .client_credentials = cases[i].client};
		struct rp_http_opts h = {0};
		struct rp_auth *a = NULL;
		struct rp_err err;

		set_client_env(cases[i].tenant, cases[i].id, cases[i].secret);
		rp_err_init(&err);
		if (rp_auth_new(&o, &h, cases[i].audience, &a, &err) != RP_EUSAGE)
			fail_msg("case %zu: not RP_EUSAGE (%s)", i, err.msg);
		assert_null(a);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, cases[i].msg);
		assert_no_secret(err.msg);
	}
	set_client_env(NULL, NULL, NULL);
}

/*
 * Token endpoints that cannot be reached: RP_EIO naming the endpoint after the transport
 * retries, and never the secret. Port 1 on loopback refuses at once.
 */
static void test_unreachable_endpoints(void **state)
{
	struct rp_http_opts h = {.connect_timeout_s = 2};
	struct rp_auth_opts imds = {
	    .identity = true, .imds_endpoint = "http://127.0.0.1:1/", .identity_client_id = "c-id"};
	struct rp_auth_opts cc = {.client_credentials = true,
				  .authority_host = "http://127.0.0.1:1"};
	struct rp_auth_opts cc_https = {.client_credentials = true,
					.authority_host = "127.0.0.1:1"};
	struct rp_auth *a = NULL;
	struct rp_err err;
	char hdr[128];

	(void)state;
	setenv("RP_AUTH_RETRY_BASE_MS", "1", 1);
	set_client_env("tenant-1", "client-1", SECRET);
	rp_err_init(&err);
	assert_int_equal(rp_auth_new(&imds, &h, RP_AUDIENCE_STORAGE, &a, &err), 0);
	assert_int_equal(rp_auth_header(a, hdr, sizeof(hdr), &err), RP_EIO);
	assert_string_equal(hdr, "");
	assert_non_null(strstr(err.msg, "managed identity token (gave up after 3 attempts): "
					"http://127.0.0.1:1/metadata/identity/oauth2/token"));
	assert_no_secret(err.msg);
	rp_auth_free(a);

	/* http:// to the authority is refused unless the caller allows it */
	a = NULL;
	assert_int_equal(rp_auth_new(&cc, &h, RP_AUDIENCE_VAULT, &a, &err), RP_EUSAGE);
	assert_null(a);
	assert_string_equal(err.msg, "authority host 'http://127.0.0.1:1' is not an https:// URL");
	h.allow_http = true;
	assert_int_equal(rp_auth_new(&cc, &h, RP_AUDIENCE_VAULT, &a, &err), 0);
	assert_int_equal(rp_auth_header(a, hdr, sizeof(hdr), &err), RP_EIO);
	assert_non_null(strstr(err.msg, "client credentials token (gave up after 3 attempts): "
					"http://127.0.0.1:1/tenant-1/oauth2/v2.0/token"));
	assert_no_secret(err.msg);
	rp_auth_free(a);
	/* a bare authority host gets https:// */
	assert_int_equal(rp_auth_new(&cc_https, &h, RP_AUDIENCE_VAULT, &a, &err), 0);
	assert_int_equal(rp_auth_header(a, hdr, sizeof(hdr), &err), RP_EIO);
	assert_non_null(strstr(err.msg, "https://127.0.0.1:1/tenant-1/"));
	assert_no_secret(err.msg);
	rp_auth_free(a);
	set_client_env(NULL, NULL, NULL);
	unsetenv("RP_AUTH_RETRY_BASE_MS");
}

/*
 * drive [--file F | --imds URL [--client-id ID] | --client [--authority URL]] [--audience A]
 *       [--allow-http] [--cacert PEM] [--calls N] [--sleep-ms MS] [--invalidate]
 * Calls rp_auth_header N times (sleeping MS between calls, invalidating first if asked) and
 * prints "call I: ok token #K" where K counts distinct tokens seen; on failure prints the
 * message to stderr and exits with the command line's exit code for the error.
 */
static int drive(int argc, char **argv)
{
	struct rp_auth_opts o = {0};
	struct rp_http_opts h = {.connect_timeout_s = 5};
	const char *audience = RP_AUDIENCE_STORAGE;
	unsigned long calls = 1, sleep_ms = 0, i, distinct = 0;
	bool invalidate = false;
	struct rp_auth *a = NULL;
	struct rp_err err;
	char *hdr = calloc(2, HDR_SZ), *prev;
	int c, rc = 0;

	if (!hdr)
		return 4;
	prev = hdr + HDR_SZ;
	for (c = 1; c < argc; c++) {
		const char *arg = argv[c], *val = c + 1 < argc ? argv[c + 1] : NULL;

		if (strcmp(arg, "--allow-http") == 0) {
			h.allow_http = true;
			continue;
		}
		if (strcmp(arg, "--client") == 0) {
			o.client_credentials = true;
			continue;
		}
		if (strcmp(arg, "--invalidate") == 0) {
			invalidate = true;
			continue;
		}
		if (!val) {
			fprintf(stderr, "drive: %s needs a value\n", arg);
			return 2;
		}
		c++;
		if (strcmp(arg, "--file") == 0) {
			o.bearer_token_file = val;
		} else if (strcmp(arg, "--imds") == 0) {
			o.identity = true;
			o.imds_endpoint = val;
		} else if (strcmp(arg, "--client-id") == 0) {
			o.identity_client_id = val;
		} else if (strcmp(arg, "--authority") == 0) {
			o.authority_host = val;
		} else if (strcmp(arg, "--cacert") == 0) {
			h.cacert = val;
		} else if (strcmp(arg, "--audience") == 0) {
			audience = val;
		} else if (strcmp(arg, "--calls") == 0) {
			calls = strtoul(val, NULL, 10);
		} else if (strcmp(arg, "--sleep-ms") == 0) {
			sleep_ms = strtoul(val, NULL, 10);
		} else {
			fprintf(stderr, "drive: unknown option %s\n", arg);
			return 2;
		}
	}
	rp_err_init(&err);
	rc = rp_auth_new(&o, &h, audience, &a, &err);
	for (i = 1; rc == 0 && i <= calls; i++) {
		if (i > 1 && sleep_ms)
			usleep((useconds_t)(sleep_ms * 1000));
		if (i > 1 && invalidate)
			rp_auth_invalidate(a);
		rc = rp_auth_header(a, hdr, HDR_SZ, &err);
		if (rc)
			break;
		if (strcmp(hdr, prev) != 0)
			distinct++;
		memcpy(prev, hdr, HDR_SZ);
		printf("call %lu: ok token #%lu\n", i, distinct);
		fflush(stdout);
	}
	if (rc)
		fprintf(stderr, "call %lu: %s\n", i, err.msg);
	rp_auth_free(a);
	rp_auth_secret_free(hdr, 2 * HDR_SZ);
	return rc ? rp_code_exit(rc) : 0;
}

int main(int argc, char **argv)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sas_info),
	    cmocka_unit_test(test_sas_info_small_perms),
	    cmocka_unit_test(test_sas_policy),
	    cmocka_unit_test(test_parse_token),
	    cmocka_unit_test(test_error_answer),
	    cmocka_unit_test(test_error_answer_long),
	    cmocka_unit_test(test_redact),
	    cmocka_unit_test(test_small_helpers),
	    cmocka_unit_test(test_token_file),
	    cmocka_unit_test(test_token_file_sizes),
	    cmocka_unit_test(test_bearer_rotation),
	    cmocka_unit_test(test_no_credential),
	    cmocka_unit_test(test_new_usage_errors),
	    cmocka_unit_test(test_unreachable_endpoints),
	};
	/* clang-format on */

	if (argc > 1 && strcmp(argv[1], "drive") == 0)
		return drive(argc - 1, argv + 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
