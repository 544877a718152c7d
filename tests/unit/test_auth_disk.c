/*
 * Tests of the managed-disk rule of net/auth.c and net/auth_disk.c (docs/azure.md "Managed
 * disks with Entra ID data access"): the storage Bearer challenge, the managed-disk host form,
 * and rp_auth_challenge's decisions, with a bearer token file as the credential (no network).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/auth.h"
#include "net/auth_int.h"

#define DISK_URL "https://md-abc123.z1.blob.storage.azure.net/x1/abcd?sv=2018-03-28&sig=SIGSECRET"
#define DISK_CHALLENGE                                                                             \
	"Bearer authorization_uri=https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-"      \
	"2d7cd011db47/oauth2/authorize resource_id=https://disk.azure.com/"
#define EVIL_CHALLENGE                                                                             \
	"Bearer authorization_uri=https://login.microsoftonline.com/t/oauth2/authorize "           \
	"resource_id=https://evil.example.invalid/"
#define HDR_SZ (RP_TOKEN_MAX + 64)

static void test_parse_challenge(void **state)
{
	struct rp_storage_challenge c;

	(void)state;
	assert_true(rp_auth_parse_storage_challenge(DISK_CHALLENGE, &c));
	assert_string_equal(c.resource_id, "https://disk.azure.com/");
	assert_string_equal(c.authorization_uri,
			    "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-"
			    "2d7cd011db47/oauth2/authorize");
	/* the RFC 7235 form the Azure SDKs' tests use: quoted, comma-separated */
	assert_true(rp_auth_parse_storage_challenge(
	    "bearer authorization_uri=\"https://login.microsoftonline.com/t\", "
	    "resource_id=\"https://disk.azure.com/\"",
	    &c));
	assert_string_equal(c.resource_id, "https://disk.azure.com/");
	assert_true(rp_auth_parse_storage_challenge("Bearer realm=\"x\"", &c));
	assert_string_equal(c.resource_id, "");
	assert_false(rp_auth_parse_storage_challenge("Basic realm=\"x\"", &c));
	assert_false(rp_auth_parse_storage_challenge("Bearerx resource_id=a", &c));
	assert_false(rp_auth_parse_storage_challenge("Bearer resource_id=\"unterminated", &c));
	assert_false(rp_auth_parse_storage_challenge("Bearer resource_id=a\x01b", &c));
	assert_false(rp_auth_parse_storage_challenge(NULL, &c));
}

static void test_hosts(void **state)
{
	static const struct {
		const char *host;
		bool disk;
	} cases[] = {
	    {"md-abc123.z1.blob.storage.azure.net", true},
	    {"md-impexp-t0abc.z33.blob.storage.azure.net", true},
	    {"md-abc.blob.storage.azure.net", true},
	    {"md-.blob.storage.azure.net", false},
	    {"md-abc..blob.storage.azure.net", false},
	    {"abc.z1.blob.storage.azure.net", false},
	    {"xmd-abc.z1.blob.storage.azure.net", false},
	    {"md-abc.z1.blob.storage.azure.net.evil.example", false},
	    {"md-abc.blob.core.windows.net", false},
	    {"md-a_b.z1.blob.storage.azure.net", false},
	    {"127.0.0.1", false},
	};
	char host[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(rp_auth_is_disk_host(cases[i].host), cases[i].disk);
	assert_true(rp_auth_url_host("https://User@MD-A.z1.Blob.Storage.Azure.NET:8443/c/b?x=1",
				     host, sizeof(host)));
	assert_string_equal(host, "md-a.z1.blob.storage.azure.net");
	assert_true(rp_auth_url_host("https://h?sig=a", host, sizeof(host)));
	assert_string_equal(host, "h");
	assert_false(rp_auth_url_host("no-scheme", host, sizeof(host)));
	assert_false(rp_auth_url_host("https:///path", host, sizeof(host)));
}

static char token_path[64];

static struct rp_auth *new_auth(bool with_cred)
{
	struct rp_auth_opts o = {0};
	struct rp_auth *a = NULL;
	struct rp_err e;

	rp_err_init(&e);
	if (with_cred)
		o.bearer_token_file = token_path;
	assert_int_equal(rp_auth_new(&o, NULL, RP_AUDIENCE_STORAGE, &a, &e), 0);
	return a;
}

static void test_decisions(void **state)
{
	char *hdr = malloc(HDR_SZ);
	struct rp_auth *a;
	struct rp_err e;
	int fd;

	(void)state;
	snprintf(token_path, sizeof(token_path), "/tmp/rp_disk_tokXXXXXX");
	fd = mkstemp(token_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "DISKTOKENSECRET\n", 16), 16);
	close(fd);

	/* No credential: a clear refusal naming what to do; nothing to send. */
	a = new_auth(false);
	rp_auth_bind(a, DISK_URL);
	rp_err_init(&e);
	assert_int_equal(rp_auth_challenge(a, DISK_URL, 401, DISK_CHALLENGE, true, &e), RP_EAUTH);
	assert_non_null(strstr(e.msg, "Entra ID data access"));
	assert_int_equal(e.hint, RP_H_TOKEN);
	assert_null(strstr(e.msg, "--"));
	assert_non_null(strstr(e.msg, "Data Operator for Managed Disks"));
	assert_null(strstr(e.msg, "SIGSECRET"));
	assert_true(rp_auth_disk_challenged(a));
	rp_auth_free(a);

	/* A credential: nothing is sent to the disk host before it asks; then the disk token. */
	a = new_auth(true);
	rp_auth_bind(a, DISK_URL);
	assert_false(rp_auth_has_bearer(a));
	rp_err_init(&e);
	assert_int_equal(rp_auth_header(a, hdr, HDR_SZ, &e), 0);
	assert_string_equal(hdr, "");
	assert_int_equal(rp_auth_challenge(a, DISK_URL, 401, DISK_CHALLENGE, true, &e),
			 RP_CHALLENGE_FOLLOW);
	assert_true(rp_auth_has_bearer(a));
	assert_int_equal(rp_auth_header(a, hdr, HDR_SZ, &e), 0);
	assert_string_equal(hdr, "Authorization: Bearer DISKTOKENSECRET");
	/* refused again: fetched once more when the caller may retry, else a clear error */
	assert_int_equal(rp_auth_challenge(a, DISK_URL, 401, DISK_CHALLENGE, true, &e),
			 RP_CHALLENGE_FOLLOW);
	assert_int_equal(rp_auth_challenge(a, DISK_URL, 401, DISK_CHALLENGE, false, &e), RP_EAUTH);
	assert_non_null(strstr(e.msg, "refused the token"));
	assert_null(strstr(e.msg, "DISKTOKENSECRET"));
	/* fetch.c has no header: a refusal of our disk token is still recognised */
	assert_int_equal(rp_auth_challenge(a, DISK_URL, 401, NULL, false, &e), RP_EAUTH);
	/* an answer without a disk challenge (an expired SAS, an ended grant) is the caller's */
	assert_int_equal(rp_auth_challenge(a, DISK_URL, 403, "", false, &e), RP_CHALLENGE_NONE);
	assert_int_equal(rp_auth_challenge(a, DISK_URL, 401, "", false, &e), RP_CHALLENGE_NONE);
	/* another host never gets it, whatever it asks */
	assert_int_equal(rp_auth_challenge(a,
					   "https://md-other.z1.blob.storage.azure.net/c/b?sig=x",
					   401, DISK_CHALLENGE, true, &e),
			 RP_EAUTH);
	assert_non_null(strstr(e.msg, "not the host of the disk"));
	rp_auth_free(a);

	/* A disk host naming another resource: not followed. */
	a = new_auth(true);
	rp_auth_bind(a, DISK_URL);
	assert_int_equal(rp_auth_challenge(a, DISK_URL, 401, EVIL_CHALLENGE, true, &e), RP_EAUTH);
	assert_non_null(strstr(e.msg, "evil.example.invalid"));
	assert_false(rp_auth_has_bearer(a));
	rp_auth_free(a);

	/* The disk audience from a host that is not a managed-disk host: not followed. */
	a = new_auth(true);
	rp_auth_bind(a, "https://acct.blob.core.windows.net/c/b?sig=x");
	assert_true(rp_auth_has_bearer(a)); /* storage as before */
	assert_int_equal(rp_auth_challenge(a, "https://acct.blob.core.windows.net/c/b?sig=x", 401,
					   DISK_CHALLENGE, true, &e),
			 RP_EAUTH);
	assert_non_null(strstr(e.msg, "not a managed-disk host"));
	/* a storage challenge (an expired storage token) is the caller's, as before */
	assert_int_equal(rp_auth_challenge(a, "https://acct.blob.core.windows.net/c/b?sig=x", 401,
					   "Bearer authorization_uri=https://login.microsoftonline."
					   "com/t/oauth2/authorize resource_id=https://storage."
					   "azure.com",
					   true, &e),
			 RP_CHALLENGE_NONE);
	assert_int_equal(rp_auth_challenge(a, "https://acct.blob.core.windows.net/c/b?sig=x", 403,
					   NULL, true, &e),
			 RP_CHALLENGE_NONE);
	rp_auth_free(a);

	unlink(token_path);
	free(hdr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_challenge),
	    cmocka_unit_test(test_hosts),
	    cmocka_unit_test(test_decisions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
