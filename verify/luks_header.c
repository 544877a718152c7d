/*
 * The parts of the LUKS checker that do not need libcryptsetup: how much of a volume holds its
 * header and key material (a pure parser over the volume's first bytes), and reading keys.
 *
 * LUKS1 layout: "LUKS1 On-Disk Format Specification" 1.2.3, section 2.4 (phdr, 592 bytes) and
 * 2.5 (key slots, 48 bytes each at +208). LUKS2: "LUKS2 On-Disk Format Specification" 1.1.x,
 * sections 2.1 (binary header: header size at +8) and 3.1 (config: json_size, keyslots_size).
 */
#include <string.h>

#include "common/endian.h"
#include "common/json.h"
#include "verify/luks.h"

enum {
	LK_MAGIC_SIZE = 6,
	LK_VERSION = 6,
	L1_KEY_BYTES = 108,
	L1_KEYSLOTS = 208,
	L1_KEYSLOT_SIZE = 48,
	L1_KEYSLOT_COUNT = 8,
	L1_KS_OFFSET = 40, /* key material offset, in 512-byte sectors */
	L1_KS_STRIPES = 44,
	L1_PHDR_SIZE = L1_KEYSLOTS + L1_KEYSLOT_SIZE * L1_KEYSLOT_COUNT,
	L2_HDR_SIZE = 8,
	L2_BIN_SIZE = 4096,
};

_Static_assert(L1_PHDR_SIZE == 592, "the LUKS1 phdr is 592 bytes");

static const uint8_t luks_magic[LK_MAGIC_SIZE] = {'L', 'U', 'K', 'S', 0xBA, 0xBE};
/* LUKS2 spec 2.1: the secondary binary header's magic */
static const uint8_t luks_magic_2nd[LK_MAGIC_SIZE] = {'S', 'K', 'U', 'L', 0xBA, 0xBE};

static int luks1_span(const uint8_t *buf, size_t len, uint64_t *span, uint64_t *need,
		      struct rp_err *err)
{
	uint64_t end = 4096;
	uint32_t key_bytes;
	unsigned k;

	if (len < L1_PHDR_SIZE) {
		*need = L1_PHDR_SIZE;
		return 1;
	}
	key_bytes = rp_be32(buf + L1_KEY_BYTES);
	if (key_bytes == 0 || key_bytes > RP_LUKS_MAX_VOLUME_KEY)
		return rp_err_set(err, RP_EFORMAT,
				  "luks1 header at +%d: key bytes %u is not in [1, %u]",
				  L1_KEY_BYTES, key_bytes, RP_LUKS_MAX_VOLUME_KEY);
	/* Every slot, enabled or not, has its key material area (LUKS_device_sectors). */
	for (k = 0; k < L1_KEYSLOT_COUNT; k++) {
		unsigned at = L1_KEYSLOTS + k * L1_KEYSLOT_SIZE;
		uint64_t off = rp_be32(buf + at + L1_KS_OFFSET);
		uint64_t stripes = rp_be32(buf + at + L1_KS_STRIPES);
		/* both factors < 2^32: the product cannot overflow */
		uint64_t af = (stripes * key_bytes + 511) / 512;

		if (stripes == 0)
			return rp_err_set(err, RP_EFORMAT,
					  "luks1 header at +%u: key slot %u has 0 stripes",
					  at + L1_KS_STRIPES, k);
		if (off + af > RP_LUKS_MAX_HEADER / 512)
			return rp_err_set(
			    err, RP_EFORMAT,
			    "luks1 header at +%u: key slot %u material ends at sector "
			    "%llu, past the %u MiB we copy",
			    at + L1_KS_OFFSET, k, (unsigned long long)(off + af),
			    RP_LUKS_MAX_HEADER >> 20);
		if ((off + af) * 512 > end)
			end = (off + af) * 512;
	}
	*span = end;
	return 0;
}

/* A decimal number stored as a JSON string (LUKS2 keeps 64-bit values as strings). */
static int json_str_u64(const struct rp_json *obj, const char *key, uint64_t *out,
			struct rp_err *err)
{
	const char *s = rp_json_string(rp_json_get(obj, key));
	uint64_t v = 0;
	size_t i;

	if (!s || !s[0])
		return rp_err_set(err, RP_EFORMAT,
				  "luks2 json: config.%s is missing or not a string", key);
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 19)
			return rp_err_set(err, RP_EFORMAT,
					  "luks2 json: config.%s is not a decimal number", key);
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int luks2_span(const uint8_t *buf, size_t len, uint64_t *span, uint64_t *need,
		      struct rp_err *err)
{
	struct rp_json *root = NULL, *config;
	uint64_t hdr_size, json_size, ks_size;
	size_t jlen;
	int rc;

	if (len < L2_BIN_SIZE) {
		*need = L2_BIN_SIZE;
		return 1;
	}
	hdr_size = rp_be64(buf + L2_HDR_SIZE);
	/* spec 2.1: 16 KiB .. 4 MiB, a power of two */
	if (hdr_size < 16384 || hdr_size > 4u * 1024 * 1024 || (hdr_size & (hdr_size - 1)) != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "luks2 header at +%d: header size %llu is not a power of two in "
				  "[16 KiB, 4 MiB]",
				  L2_HDR_SIZE, (unsigned long long)hdr_size);
	if (len < hdr_size) {
		*need = hdr_size;
		return 1;
	}
	jlen = strnlen((const char *)buf + L2_BIN_SIZE, (size_t)hdr_size - L2_BIN_SIZE);
	rc = rp_json_parse((const char *)buf + L2_BIN_SIZE, jlen, &root, err);
	if (rc) {
		rp_err_prefix(err, "luks2 json area at +%d", L2_BIN_SIZE);
		return RP_EFORMAT;
	}
	config = rp_json_get(root, "config");
	if (!rp_json_is_object(config)) {
		rc = rp_err_set(err, RP_EFORMAT, "luks2 json: no config object");
		goto out;
	}
	rc = json_str_u64(config, "json_size", &json_size, err);
	if (rc == 0)
		rc = json_str_u64(config, "keyslots_size", &ks_size, err);
	if (rc)
		goto out;
	if (json_size != hdr_size - L2_BIN_SIZE) {
		rc = rp_err_set(err, RP_EFORMAT,
				"luks2 json: config.json_size %llu does not match header size %llu "
				"- 4096",
				(unsigned long long)json_size, (unsigned long long)hdr_size);
		goto out;
	}
	if (ks_size % 4096 != 0 || ks_size > RP_LUKS_MAX_HEADER - 2 * hdr_size) {
		rc = rp_err_set(err, RP_EFORMAT,
				"luks2 json: config.keyslots_size %llu is not a multiple of 4096 "
				"that fits in %u MiB with the headers",
				(unsigned long long)ks_size, RP_LUKS_MAX_HEADER >> 20);
		goto out;
	}
	*span = 2 * hdr_size + ks_size;
	rc = 0;
out:
	rp_json_free(root);
	return rc;
}

int rp_luks_header_span(const uint8_t *buf, size_t len, uint64_t *span, uint64_t *need,
			struct rp_err *err)
{
	uint16_t version;

	if (len < LK_VERSION + 2) {
		*need = L2_BIN_SIZE;
		return 1;
	}
	version = rp_be16(buf + LK_VERSION);
	if (memcmp(buf, luks_magic_2nd, LK_MAGIC_SIZE) == 0 && version == 2)
		return luks2_span(buf, len, span, need, err);
	if (memcmp(buf, luks_magic, LK_MAGIC_SIZE) != 0)
		return rp_err_set(err, RP_EFORMAT, "luks header at +0: no LUKS magic");
	if (version == 1)
		return luks1_span(buf, len, span, need, err);
	if (version == 2)
		return luks2_span(buf, len, span, need, err);
	return rp_err_set(err, RP_EFORMAT, "luks header at +%d: version %u is not 1 or 2",
			  LK_VERSION, version);
}

const char *rp_luks_key_kind_name(enum rp_luks_key_kind kind)
{
	switch (kind) {
	case RP_LUKS_PASSPHRASE:
		return "passphrase";
	case RP_LUKS_KEY_FILE:
		return "key file";
	case RP_LUKS_VOLUME_KEY:
		return "volume key";
	}
	return "key";
}

int rp_luks_key_read(enum rp_luks_key_kind kind, const char *path, struct rp_luks_key *key,
		     struct rp_err *err)
{
	size_t max = kind == RP_LUKS_VOLUME_KEY ? RP_LUKS_MAX_VOLUME_KEY : RP_LUKS_MAX_KEYFILE;
	const uint8_t *nl;
	int rc;

	memset(key, 0, sizeof(*key));
	key->kind = kind;
	key->path = path;
	rc = rp_secret_read_file(path, max, &key->data, err);
	if (rc)
		return rc;
	if (kind == RP_LUKS_PASSPHRASE) {
		nl = memchr(key->data.p, '\n', key->data.len);
		if (nl && (size_t)(nl - key->data.p) + 1 != key->data.len) {
			rp_luks_key_release(key);
			return rp_err_set_hint(err, RP_EUSAGE, RP_H_KEY_FILE,
					       "%s: passphrase file has more than one line", path);
		}
		if (nl) {
			key->data.len--;
			key->data.p[key->data.len] = 0;
		}
	}
	if (key->data.len == 0) {
		rp_luks_key_release(key);
		return rp_err_set(err, RP_EUSAGE, "%s: the %s is empty", path,
				  rp_luks_key_kind_name(kind));
	}
	return 0;
}

void rp_luks_key_release(struct rp_luks_key *key)
{
	if (key->data.p)
		rp_secret_free(&key->data);
}
