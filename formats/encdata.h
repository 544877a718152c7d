/*
 * The `encryptiondata` metadata of a client-side encrypted blob (Azure Storage encryption v2,
 * docs/azure.md "Client-side encrypted blobs") and the geometry of its stored regions.
 *
 * Version 2 ("2.0", and "2.1" which allows other region sizes) is AES-256-GCM per region:
 * stored region i is nonce (12) || ciphertext (DataLength, the last may be shorter) || tag (16).
 * Version 1 ("1.0", AES-256-CBC over the whole blob) is refused: it carries no integrity
 * protection, so its plaintext could not be verified as it streams (docs/keys.md).
 *
 * Pure functions; messages name members, never the wrapped key.
 */
#ifndef RP_FORMATS_ENCDATA_H
#define RP_FORMATS_ENCDATA_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define RP_ENCDATA_NONCE 12
#define RP_ENCDATA_TAG 16
#define RP_ENCDATA_OVERHEAD (RP_ENCDATA_NONCE + RP_ENCDATA_TAG)
#define RP_ENCDATA_MAX_WRAPPED 1024
#define RP_ENCDATA_MAX_REGION (64u << 20)
/* The unwrapped content key: the protocol padded to 8 bytes, then the 32-byte AES key. */
#define RP_ENCDATA_CEK_PREFIX 8
#define RP_ENCDATA_CEK_LEN 32

struct rp_encdata {
	char protocol[8];  /* "2.0" or "2.1" */
	char key_id[512];  /* WrappedContentKey.KeyId: the KEK that wrapped it */
	char wrap_alg[32]; /* WrappedContentKey.Algorithm, e.g. "RSA-OAEP" or "A256KW" */
	uint8_t wrapped[RP_ENCDATA_MAX_WRAPPED];
	size_t wrapped_len;
	uint64_t region_len; /* EncryptedRegionInfo.DataLength */
};

/*
 * Parse the metadata JSON. RP_EFORMAT for malformed JSON, a missing or mistyped member, an
 * EncryptionMode other than FullBlob, an unsupported protocol or algorithm (version 1 is named
 * as refused), a NonceLength other than 12, a DataLength of 0 or over 64 MiB, or an EncryptedKey
 * that is not standard base64 or is longer than 1024 bytes. Unknown members are ignored.
 */
int rp_encdata_parse(const char *text, size_t len, struct rp_encdata *out, struct rp_err *err);

/*
 * Plaintext size of a stored blob of stored bytes; RP_EFORMAT if the last region is too short
 * to hold a nonce, at least one byte and a tag.
 */
int rp_encdata_plain_size(const struct rp_encdata *ed, uint64_t stored, uint64_t *plain,
			  struct rp_err *err);

/* Check the 8-byte prefix of an unwrapped content key (len bytes); RP_EVERIFY on a mismatch
 * (reported as tampering: the wrapped key or its metadata was changed). */
int rp_encdata_check_cek(const struct rp_encdata *ed, const uint8_t *cek, size_t len,
			 struct rp_err *err);

#endif
