#include "formats/jwk.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/base64.h"
#include "common/json.h"

static const char *const rsa_names[RP_JWK_RSA_MEMBERS] = {"n", "e",  "d",  "p",
							  "q", "dp", "dq", "qi"};

/* Decode member name of obj into s; absent and optional: s stays empty. */
static int member(const struct rp_json *obj, const char *name, bool required, size_t max,
		  struct rp_secret *s, struct rp_err *err)
{
	const struct rp_json *v = rp_json_get(obj, name);
	const char *text;
	size_t len, n = 0;
	int rc;

	if (!v) {
		if (required)
			return rp_err_set(err, RP_EFORMAT, "jwk: member \"%s\" is missing", name);
		return 0;
	}
	text = rp_json_string(v);
	if (!text)
		return rp_err_set(err, RP_EFORMAT, "jwk: member \"%s\" is not a string", name);
	len = strlen(text);
	if (len == 0)
		return rp_err_set(err, RP_EFORMAT, "jwk: member \"%s\" is empty", name);
	if (rp_b64_decoded_max(len) > max)
		return rp_err_set(err, RP_EFORMAT, "jwk: member \"%s\" is longer than %zu bytes",
				  name, max);
	rc = rp_secret_alloc(s, rp_b64_decoded_max(len), err);
	if (rc)
		return rc;
	rc = rp_b64_decode(text, len, RP_B64_URL, s->p, s->cap, &n, err);
	if (rc) {
		rp_secret_free(s);
		rp_err_prefix(err, "jwk: member \"%s\"", name);
		return RP_EFORMAT;
	}
	s->len = n;
	return 0;
}

int rp_jwk_parse(const char *text, size_t len, struct rp_jwk *out, struct rp_err *err)
{
	struct rp_json *doc = NULL;
	const struct rp_json *v;
	const char *kty;
	int rc, i, crt = 0;

	memset(out, 0, sizeof(*out));
	rc = rp_json_parse(text, len, &doc, err);
	if (rc) {
		rp_err_prefix(err, "jwk");
		return RP_EFORMAT;
	}
	if (!rp_json_is_object(doc)) {
		rc = rp_err_set(err, RP_EFORMAT, "jwk: not a JSON object");
		goto out;
	}
	v = rp_json_get(doc, "kid");
	if (v && rp_json_string(v))
		snprintf(out->kid, sizeof(out->kid), "%s", rp_json_string(v));
	kty = rp_json_string(rp_json_get(doc, "kty"));
	if (!kty) {
		rc = rp_err_set(err, RP_EFORMAT, "jwk: member \"kty\" is missing or not a string");
		goto out;
	}
	if (strcmp(kty, "RSA") == 0 || strcmp(kty, "RSA-HSM") == 0) {
		out->kty = RP_JWK_RSA;
		for (i = 0; i < RP_JWK_RSA_MEMBERS; i++) {
			if (i == RP_JWK_D && !rp_json_get(doc, "d")) {
				rc = rp_err_set(
				    err, RP_EFORMAT,
				    "jwk: the RSA key has no private exponent \"d\": a public "
				    "key cannot unwrap");
				goto out;
			}
			rc = member(doc, rsa_names[i], i <= RP_JWK_D, RP_JWK_MAX_RSA_BYTES,
				    &out->rsa[i], err);
			if (rc)
				goto out;
			if (i > RP_JWK_D && out->rsa[i].p)
				crt++;
		}
		if (crt != 0 && crt != 5) {
			rc = rp_err_set(
			    err, RP_EFORMAT,
			    "jwk: the RSA key has %d of the 5 CRT members p, q, dp, dq, qi "
			    "(give all or none)",
			    crt);
			goto out;
		}
		if (out->rsa[RP_JWK_N].len < 64) {
			rc = rp_err_set(
			    err, RP_EFORMAT,
			    "jwk: the RSA modulus \"n\" has %zu bytes; at least 512 bits "
			    "expected",
			    out->rsa[RP_JWK_N].len);
			goto out;
		}
	} else if (strcmp(kty, "oct") == 0 || strcmp(kty, "oct-HSM") == 0) {
		out->kty = RP_JWK_OCT;
		rc = member(doc, "k", true, 64, &out->k, err);
		if (rc)
			goto out;
		if (out->k.len != 16 && out->k.len != 24 && out->k.len != 32) {
			rc = rp_err_set(
			    err, RP_EFORMAT,
			    "jwk: the oct key \"k\" has %zu bytes; AES keys have 16, 24 or "
			    "32",
			    out->k.len);
			goto out;
		}
	} else {
		char shown[16];
		size_t j;

		snprintf(shown, sizeof(shown), "%s", kty);
		for (j = 0; shown[j]; j++)
			if (!((shown[j] >= 'A' && shown[j] <= 'Z') ||
			      (shown[j] >= 'a' && shown[j] <= 'z') ||
			      (shown[j] >= '0' && shown[j] <= '9') || shown[j] == '-'))
				shown[j] = '?';
		rc = rp_err_set(err, RP_EFORMAT,
				"jwk: key type \"%s\" is not supported (RSA or oct keys unwrap)",
				shown);
		goto out;
	}
	rc = 0;
out:
	rp_json_free(doc);
	return rc;
}

void rp_jwk_release(struct rp_jwk *k)
{
	int i;

	for (i = 0; i < RP_JWK_RSA_MEMBERS; i++)
		rp_secret_free(&k->rsa[i]);
	rp_secret_free(&k->k);
}
