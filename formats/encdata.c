#include "formats/encdata.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/base64.h"
#include "common/json.h"

static const struct rp_json *object(const struct rp_json *doc, const char *name, struct rp_err *err)
{
	const struct rp_json *v = rp_json_get(doc, name);

	if (!v || !rp_json_is_object(v)) {
		rp_err_set(err, RP_EFORMAT,
			   "encryptiondata: member \"%s\" is missing or not an "
			   "object",
			   name);
		return NULL;
	}
	return v;
}

static const char *string(const struct rp_json *obj, const char *path, const char *name,
			  struct rp_err *err)
{
	const char *s = rp_json_string(rp_json_get(obj, name));

	if (!s)
		rp_err_set(err, RP_EFORMAT,
			   "encryptiondata: member \"%s%s\" is missing or not a "
			   "string",
			   path, name);
	return s;
}

static int copy(char *dst, size_t dstsz, const char *src, const char *name, struct rp_err *err)
{
	size_t i, n = strlen(src);

	if (n == 0 || n >= dstsz)
		return rp_err_set(err, RP_EFORMAT,
				  "encryptiondata: \"%s\" has %zu bytes (1 to %zu)", name, n,
				  dstsz - 1);
	for (i = 0; i < n; i++)
		if ((unsigned char)src[i] < 0x20 || src[i] == 0x7f)
			return rp_err_set(err, RP_EFORMAT,
					  "encryptiondata: \"%s\" has a control character at %zu",
					  name, i);
	memcpy(dst, src, n + 1);
	return 0;
}

int rp_encdata_parse(const char *text, size_t len, struct rp_encdata *out, struct rp_err *err)
{
	const struct rp_json *wck, *agent, *region;
	struct rp_json *doc = NULL;
	const char *s;
	uint64_t nonce;
	int rc = RP_EFORMAT;

	memset(out, 0, sizeof(*out));
	if (rp_json_parse(text, len, &doc, err) != 0) {
		rp_err_prefix(err, "encryptiondata");
		return RP_EFORMAT;
	}
	if (!rp_json_is_object(doc)) {
		rp_err_set(err, RP_EFORMAT, "encryptiondata: not a JSON object");
		goto out;
	}
	if (!(agent = object(doc, "EncryptionAgent", err)) ||
	    !(s = string(agent, "EncryptionAgent.", "Protocol", err)))
		goto out;
	if (strcmp(s, "1.0") == 0) {
		rp_err_set(err, RP_EFORMAT,
			   "encryptiondata: protocol 1.0 (AES-CBC) is refused: it has no integrity "
			   "protection, so no byte could be verified (docs/keys.md)");
		goto out;
	}
	if (strcmp(s, "2.0") != 0 && strcmp(s, "2.1") != 0) {
		rp_err_set(err, RP_EFORMAT,
			   "encryptiondata: EncryptionAgent.Protocol is not 2.0 or 2.1");
		goto out;
	}
	snprintf(out->protocol, sizeof(out->protocol), "%s", s);
	if (!(s = string(agent, "EncryptionAgent.", "EncryptionAlgorithm", err)))
		goto out;
	if (strcmp(s, "AES_GCM_256") != 0) {
		rp_err_set(
		    err, RP_EFORMAT,
		    "encryptiondata: EncryptionAgent.EncryptionAlgorithm is not AES_GCM_256");
		goto out;
	}
	if (!(s = string(doc, "", "EncryptionMode", err)))
		goto out;
	if (strcmp(s, "FullBlob") != 0) {
		rp_err_set(err, RP_EFORMAT, "encryptiondata: EncryptionMode is not FullBlob");
		goto out;
	}
	if (!(wck = object(doc, "WrappedContentKey", err)))
		goto out;
	if (!(s = string(wck, "WrappedContentKey.", "KeyId", err)) ||
	    copy(out->key_id, sizeof(out->key_id), s, "WrappedContentKey.KeyId", err) != 0)
		goto out;
	if (!(s = string(wck, "WrappedContentKey.", "Algorithm", err)) ||
	    copy(out->wrap_alg, sizeof(out->wrap_alg), s, "WrappedContentKey.Algorithm", err) != 0)
		goto out;
	if (!(s = string(wck, "WrappedContentKey.", "EncryptedKey", err)))
		goto out;
	if (strlen(s) > RP_ENCDATA_MAX_WRAPPED * 4 / 3 + 4) {
		rp_err_set(err, RP_EFORMAT,
			   "encryptiondata: WrappedContentKey.EncryptedKey is longer than %u bytes",
			   RP_ENCDATA_MAX_WRAPPED);
		goto out;
	}
	if (rp_b64_decode(s, strlen(s), RP_B64_STD, out->wrapped, sizeof(out->wrapped),
			  &out->wrapped_len, err) != 0) {
		rp_err_prefix(err, "encryptiondata: WrappedContentKey.EncryptedKey");
		rc = RP_EFORMAT;
		goto out;
	}
	if (!(region = object(doc, "EncryptedRegionInfo", err)))
		goto out;
	if (rp_json_u64(rp_json_get(region, "DataLength"), &out->region_len) != 0 ||
	    out->region_len == 0 || out->region_len > RP_ENCDATA_MAX_REGION) {
		rp_err_set(
		    err, RP_EFORMAT,
		    "encryptiondata: EncryptedRegionInfo.DataLength must be an integer from 1 "
		    "to %u",
		    RP_ENCDATA_MAX_REGION);
		goto out;
	}
	if (rp_json_u64(rp_json_get(region, "NonceLength"), &nonce) != 0 ||
	    nonce != RP_ENCDATA_NONCE) {
		rp_err_set(err, RP_EFORMAT,
			   "encryptiondata: EncryptedRegionInfo.NonceLength must be 12");
		goto out;
	}
	rc = 0;
out:
	rp_json_free(doc);
	return rc;
}

int rp_encdata_plain_size(const struct rp_encdata *ed, uint64_t stored, uint64_t *plain,
			  struct rp_err *err)
{
	uint64_t per = ed->region_len + RP_ENCDATA_OVERHEAD;
	uint64_t n = stored / per, last = stored % per;

	*plain = 0;
	if (last) {
		if (last <= RP_ENCDATA_OVERHEAD)
			return rp_err_set(
			    err, RP_EFORMAT,
			    "the encrypted blob's last region holds %llu bytes: too "
			    "short for a nonce, data and a tag (the blob is truncated?)",
			    (unsigned long long)last);
		n++;
	}
	*plain = stored - n * RP_ENCDATA_OVERHEAD;
	return 0;
}

int rp_encdata_check_cek(const struct rp_encdata *ed, const uint8_t *cek, size_t len,
			 struct rp_err *err)
{
	uint8_t want[RP_ENCDATA_CEK_PREFIX] = {0};

	memcpy(want, ed->protocol, strlen(ed->protocol));
	if (len != RP_ENCDATA_CEK_PREFIX + RP_ENCDATA_CEK_LEN)
		return rp_err_set(
		    err, RP_EVERIFY,
		    "the unwrapped content key has %zu bytes, not %d: the wrapped key "
		    "or its metadata was tampered with",
		    len, RP_ENCDATA_CEK_PREFIX + RP_ENCDATA_CEK_LEN);
	if (memcmp(cek, want, sizeof(want)) != 0)
		return rp_err_set(err, RP_EVERIFY,
				  "the unwrapped content key does not start with the protocol "
				  "\"%s\": the wrapped key or its metadata was tampered with",
				  ed->protocol);
	return 0;
}
