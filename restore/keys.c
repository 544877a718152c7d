#include "restore/keys.h"

#include <stdio.h>
#include <string.h>

#include "common/base64.h"
#include "net/keyvault.h"
#include "verify/crypto.h"

#define MAX_KEK_FILE (64u << 10)
#define MAX_PASS_FILE 4096

bool rp_keys_have_kek(const struct rp_key_opts *o)
{
	return (o->kek_file && o->kek_file[0]) || (o->kek_url && o->kek_url[0]);
}

static int unwrap_local(const struct rp_key_opts *o, enum rp_wrap_alg alg, const uint8_t *wrapped,
			size_t wlen, struct rp_secret *out, struct rp_key_info *info,
			struct rp_err *err)
{
	struct rp_secret file = {0}, pass = {0};
	struct rp_kek *kek = NULL;
	int rc;

	rc = rp_secret_read_file(o->kek_file, MAX_KEK_FILE, &file, err);
	if (rc)
		return rc;
	if (o->kek_pass_file) {
		rc = rp_secret_read_file(o->kek_pass_file, MAX_PASS_FILE, &pass, err);
		if (rc)
			goto out;
	}
	rc = rp_kek_load(file.p, file.len, o->kek_pass_file ? &pass : NULL, o->kek_file, &kek, err);
	if (rc)
		goto out;
	snprintf(info->kek_type, sizeof(info->kek_type), "%s", rp_kek_describe(kek));
	rc = rp_kek_unwrap(kek, alg, wrapped, wlen, out, err);
out:
	rp_kek_free(kek);
	rp_secret_free(&file);
	rp_secret_free(&pass);
	return rc;
}

int rp_keys_unwrap(const struct rp_key_opts *o, const char *alg_name, const char *fallback_url,
		   const uint8_t *wrapped, size_t wlen, struct rp_secret *out,
		   struct rp_key_info *info, struct rp_err *err)
{
	const char *url = o->kek_url && o->kek_url[0] ? o->kek_url : NULL;
	enum rp_wrap_alg alg;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rp_wrap_alg_parse(alg_name, &alg, err);
	if (rc)
		return rc;
	snprintf(info->alg, sizeof(info->alg), "%s", alg_name);
	if (alg == RP_WRAP_RSA1_5 && !o->allow_rsa1_5)
		return rp_err_set_hint(err, RP_EUSAGE, RP_H_ALLOW_RSA1_5,
				       "RSA1_5 is legacy PKCS#1 v1.5 padding, open to "
				       "padding-oracle attacks");
	if (o->kek_file && o->kek_file[0]) {
		snprintf(info->kek, sizeof(info->kek), "%s", o->kek_file);
		rc = unwrap_local(o, alg, wrapped, wlen, out, info, err);
	} else {
		struct rp_kv *kv = NULL;
		char kid[1024] = "";

		if (!url)
			url = fallback_url;
		if (!url)
			return rp_err_set_hint(err, RP_EUSAGE, RP_H_KEK, "no key encryption key");
		rp_url_redact(url, info->kek, sizeof(info->kek));
		snprintf(info->kek_type, sizeof(info->kek_type), "key vault");
		rc = rp_kv_new(o->http, o->auth, &kv, err);
		if (rc)
			return rc;
		rp_kv_set_stop(kv, o->stop);
		rc = rp_kv_unwrap(kv, url, alg_name, wrapped, wlen, out, kid, sizeof(kid), err);
		rp_kv_free(kv);
		if (rc == 0 && kid[0])
			rp_url_redact(kid, info->kek, sizeof(info->kek));
	}
	if (rc == 0)
		info->len = out->len;
	return rc;
}

/* Decode base64 text (standard or URL alphabet, padded or not) into a secret. */
static int decode_b64(const uint8_t *text, size_t len, const char *what, struct rp_secret *out,
		      struct rp_err *err)
{
	size_t n = 0;
	int rc;

	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	rc = rp_secret_alloc(out, rp_b64_decoded_max(len) + 1, err);
	if (rc)
		return rc;
	rc = rp_b64_decode((const char *)text, len, RP_B64_ANY | RP_B64_NOPAD, out->p, out->cap, &n,
			   err);
	if (rc) {
		rp_secret_free(out);
		rp_err_prefix(err, "%s", what);
		return RP_EFORMAT;
	}
	out->len = n;
	return 0;
}

int rp_keys_bek(const struct rp_key_opts *o, const char *secret_url, const char *alg,
		struct rp_secret *passphrase, struct rp_key_info *info, struct rp_err *err)
{
	struct rp_kv_secret sec = {0};
	struct rp_secret wrapped = {0}, unwrapped = {0};
	struct rp_kv *kv = NULL;
	int rc;

	memset(passphrase, 0, sizeof(*passphrase));
	rp_url_redact(secret_url, info->secret, sizeof(info->secret));
	rc = rp_kv_new(o->http, o->auth, &kv, err);
	if (rc)
		return rc;
	rp_kv_set_stop(kv, o->stop);
	rc = rp_kv_get_secret(kv, secret_url, &sec, err);
	rp_kv_free(kv);
	if (rc)
		return rc;
	if (!sec.kek_alg[0] && !sec.kek_url[0] && !alg && !rp_keys_have_kek(o)) {
		/* A BEK without a KEK: the value is the passphrase in base64. */
		rc = decode_b64(sec.value.p, sec.value.len, "the secret's value (an unwrapped BEK)",
				passphrase, err);
		if (rc == 0)
			info->len = passphrase->len;
		goto out;
	}
	if (!alg)
		alg = sec.kek_alg[0] ? sec.kek_alg : NULL;
	if (!alg) {
		rc = rp_err_set_hint(err, RP_EUSAGE, RP_H_WRAP_ALG,
				     "the secret has no DiskEncryptionKeyEncryptionAlgorithm tag");
		goto out;
	}
	info->bek_wrapped = true;
	rc = decode_b64(sec.value.p, sec.value.len, "the secret's value (a wrapped BEK)", &wrapped,
			err);
	if (rc)
		goto out;
	rc = rp_keys_unwrap(o, alg, sec.kek_url[0] ? sec.kek_url : NULL, wrapped.p, wrapped.len,
			    &unwrapped, info, err);
	if (rc)
		goto out;
	/*
	 * The unwrapped BEK is the key file itself: ADE gives Key Vault's wrapkey the base64 of the
	 * key file's bytes, so unwrapkey hands back those bytes (a Linux passphrase's base64 text,
	 * a Windows BEK file's binary). Decoding it once more would give bytes that open nothing
	 * (docs/keys.md, "ADE").
	 */
	*passphrase = unwrapped;
	memset(&unwrapped, 0, sizeof(unwrapped));
	info->len = passphrase->len;
out:
	rp_secret_free(&wrapped);
	rp_secret_free(&unwrapped);
	rp_kv_secret_release(&sec);
	return rc;
}

int rp_keys_content_key(const struct rp_key_opts *o, const struct rp_encdata *ed,
			struct rp_secret *cek, struct rp_key_info *info, struct rp_err *err)
{
	struct rp_secret raw = {0};
	int rc;

	memset(cek, 0, sizeof(*cek));
	if (!rp_keys_have_kek(o)) {
		char kid[256];

		rp_url_redact(ed->key_id, kid, sizeof(kid));
		return rp_err_set_hint(err, RP_EUSAGE, RP_H_KEK,
				       "the blob is client-side encrypted; its content key is "
				       "wrapped with %s by key %s",
				       ed->wrap_alg, kid);
	}
	rc = rp_keys_unwrap(o, ed->wrap_alg, NULL, ed->wrapped, ed->wrapped_len, &raw, info, err);
	if (rc) {
		rp_err_prefix(err, "content key");
		return rc;
	}
	rc = rp_encdata_check_cek(ed, raw.p, raw.len, err);
	if (rc == 0)
		rc = rp_secret_dup(cek, raw.p + RP_ENCDATA_CEK_PREFIX, RP_ENCDATA_CEK_LEN, err);
	rp_secret_free(&raw);
	if (rc == 0)
		info->len = cek->len;
	return rc;
}
