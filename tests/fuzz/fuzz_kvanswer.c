/*
 * Fuzz target for formats/kvdoc.c. The first byte chooses the parser for the rest of the input:
 * 'k' a wrapkey/unwrapkey answer, 's' a secret answer, 'e' an error body, 'c' a WWW-Authenticate
 * challenge, 'u' a key or secret URL (and, if it parses, the challenge resource check against
 * its host); any other byte runs the rest through all of them. A refusal must carry a message
 * and leave the out-parameters alone; an acceptance must hold what the header promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/kvdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(int rc, const struct rp_err *err)
{
	if (rc != RP_EFORMAT || err->msg[0] == '\0')
		abort();
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

static void key_result(const char *b, size_t n)
{
	struct rp_secret v = {0};
	struct rp_err err;
	char kid[256] = "";
	int rc;

	rp_err_init(&err);
	rc = rp_kvdoc_parse_key_result(b, n, kid, sizeof(kid), &v, &err);
	if (rc) {
		check_refusal(rc, &err);
		if (v.p || kid[0])
			abort();
		return;
	}
	if (!kid[0] || !printable(kid) || v.len == 0 || !v.p || v.len >= v.cap)
		abort();
	rp_secret_free(&v);
}

static void secret(const char *b, size_t n)
{
	struct rp_kv_secret s;
	struct rp_err err;
	int rc;

	memset(&s, 0, sizeof(s));
	rp_err_init(&err);
	rc = rp_kvdoc_parse_secret(b, n, &s, &err);
	if (rc) {
		check_refusal(rc, &err);
		if (s.value.p || s.id[0])
			abort();
		return;
	}
	if (!s.id[0] || !printable(s.id) || !printable(s.kek_url) || !printable(s.kek_alg) ||
	    s.value.len == 0 || s.value.len > RP_KV_VALUE_MAX)
		abort();
	rp_kv_secret_release(&s);
}

static void error_body(const char *b, size_t n)
{
	struct rp_kv_error e;
	struct rp_err err;
	int rc;

	memset(&e, 0, sizeof(e));
	rp_err_init(&err);
	rc = rp_kvdoc_parse_error(b, n, &e, &err);
	if (rc) {
		check_refusal(rc, &err);
		return;
	}
	if (!e.code[0] || !printable(e.code) || !printable(e.message) || !printable(e.inner))
		abort();
}

static void challenge(const char *b, size_t n)
{
	struct rp_kv_challenge c;
	struct rp_err err;
	char rhost[300];
	int rc;

	memset(&c, 0, sizeof(c));
	rp_err_init(&err);
	rc = rp_kvdoc_parse_challenge(b, n, &c, &err);
	if (rc) {
		check_refusal(rc, &err);
		if (c.resource[0])
			abort();
		return;
	}
	if (!c.resource[0] || !printable(c.resource) || !printable(c.authority))
		abort();
	(void)rp_kvdoc_resource_fits(c.resource, "kv1.vault.azure.net", rhost, sizeof(rhost));
}

static void url_kind(const char *s, const char *kind)
{
	struct rp_kv_url u;
	struct rp_err err;
	char rhost[300];
	const char *q = strchr(s, '?');
	int rc;

	memset(&u, 0, sizeof(u));
	rp_err_init(&err);
	rc = rp_kvdoc_parse_url(s, kind, &u, &err);
	if (rc == 0) {
		if (!u.host[0] || !u.name[0] || strcmp(u.object, s) != 0)
			abort();
		(void)rp_kvdoc_resource_fits("https://vault.azure.net", u.host, rhost,
					     sizeof(rhost));
		(void)rp_kvdoc_resource_fits(s, u.host, rhost, sizeof(rhost));
		return;
	}
	/* a refusal never quotes the query (it may hold a SAS or a token) */
	if (rc != RP_EUSAGE || err.msg[0] == '\0' || u.host[0] || (q && strstr(err.msg, q)))
		abort();
}

static void url(const char *b, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		return;
	memcpy(s, b, n);
	s[n] = '\0';
	url_kind(s, "keys");
	url_kind(s, "secrets");
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data + 1;
	size_t n;

	if (size == 0)
		return 0;
	n = size - 1;
	switch (data[0]) {
	case 'k':
		key_result(b, n);
		break;
	case 's':
		secret(b, n);
		break;
	case 'e':
		error_body(b, n);
		break;
	case 'c':
		challenge(b, n);
		break;
	case 'u':
		url(b, n);
		break;
	default:
		key_result(b, n);
		secret(b, n);
		error_body(b, n);
		challenge(b, n);
		url(b, n);
		break;
	}
	return 0;
}
