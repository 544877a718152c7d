#include "verify/digest.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

struct rp_digest {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
};

static const char *const names[RP_DIGEST_COUNT] = {"sha256", "md5", "sha1"};
static const size_t sizes[RP_DIGEST_COUNT] = {32, 16, 20};

const char *rp_digest_name(enum rp_digest_alg alg)
{
	return (unsigned)alg < RP_DIGEST_COUNT ? names[alg] : "unknown";
}

int rp_digest_from_name(const char *name, enum rp_digest_alg *alg, struct rp_err *err)
{
	unsigned i;

	for (i = 0; i < RP_DIGEST_COUNT; i++) {
		if (strcmp(name, names[i]) == 0) {
			*alg = (enum rp_digest_alg)i;
			return 0;
		}
	}
	return rp_err_set(err, RP_EUSAGE, "unknown digest '%s' (expected sha256, md5 or sha1)",
			  name);
}

size_t rp_digest_size(enum rp_digest_alg alg)
{
	return (unsigned)alg < RP_DIGEST_COUNT ? sizes[alg] : 0;
}

static const EVP_MD *md_of(enum rp_digest_alg alg)
{
	switch (alg) {
	case RP_DIGEST_SHA256:
		return EVP_sha256();
	case RP_DIGEST_MD5:
		return EVP_md5();
	case RP_DIGEST_SHA1:
		return EVP_sha1();
	default:
		return NULL;
	}
}

static int openssl_error(struct rp_err *err, const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return rp_err_set(err, RP_EIO, "%s: %s", what, e ? buf : "unknown OpenSSL error");
}

int rp_digest_new(enum rp_digest_alg alg, struct rp_digest **out, struct rp_err *err)
{
	struct rp_digest *d;

	d = calloc(1, sizeof(*d));
	if (!d)
		return rp_err_set(err, RP_EIO, "out of memory");
	d->md = md_of(alg);
	d->ctx = EVP_MD_CTX_new();
	if (!d->md || !d->ctx || EVP_DigestInit_ex(d->ctx, d->md, NULL) != 1) {
		rp_digest_free(d);
		return openssl_error(err, "cannot start digest");
	}
	*out = d;
	return 0;
}

int rp_digest_update(struct rp_digest *d, const void *buf, size_t len)
{
	return EVP_DigestUpdate(d->ctx, buf, len) == 1 ? 0 : RP_EIO;
}

int rp_digest_final(struct rp_digest *d, uint8_t *out)
{
	unsigned len = 0;

	if (EVP_DigestFinal_ex(d->ctx, out, &len) != 1)
		return RP_EIO;
	return EVP_DigestInit_ex(d->ctx, d->md, NULL) == 1 ? 0 : RP_EIO;
}

void rp_digest_free(struct rp_digest *d)
{
	if (!d)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

int rp_sha256(const void *buf, size_t len, uint8_t out[32])
{
	unsigned olen = 0;

	return EVP_Digest(buf, len, out, &olen, EVP_sha256(), NULL) == 1 ? 0 : RP_EIO;
}
