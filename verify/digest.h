/*
 * The digest adapter: the only file that includes OpenSSL's digest headers. SHA-256, SHA-1 and
 * MD5 (evidence hashes for forensic reports) over streams of bytes.
 * A struct rp_digest is used by one thread at a time.
 */
#ifndef RP_VERIFY_DIGEST_H
#define RP_VERIFY_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

enum rp_digest_alg {
	RP_DIGEST_SHA256 = 0,
	RP_DIGEST_MD5 = 1,
	RP_DIGEST_SHA1 = 2,
	RP_DIGEST_COUNT = 3,
};

#define RP_DIGEST_MAX 32

struct rp_digest;

/* Lowercase name ("sha256", "md5", "sha1"). */
const char *rp_digest_name(enum rp_digest_alg alg);

/* Parse a name; RP_EUSAGE for an unknown one. */
int rp_digest_from_name(const char *name, enum rp_digest_alg *alg, struct rp_err *err);

size_t rp_digest_size(enum rp_digest_alg alg);

/* New context ready for updates; RP_EIO on failure (OpenSSL error text in err). */
int rp_digest_new(enum rp_digest_alg alg, struct rp_digest **out, struct rp_err *err);
int rp_digest_update(struct rp_digest *d, const void *buf, size_t len);

/* Write the digest (rp_digest_size bytes) to out and reset the context for reuse. */
int rp_digest_final(struct rp_digest *d, uint8_t *out);
void rp_digest_free(struct rp_digest *d);

/* One-shot SHA-256 of buf[0..len) into out; 0 or RP_EIO. */
int rp_sha256(const void *buf, size_t len, uint8_t out[32]);

#endif
