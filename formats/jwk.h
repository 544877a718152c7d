/*
 * JSON Web Keys (RFC 7517/7518) as key encryption keys: an RSA private key ("kty": "RSA" with
 * n, e, d and optionally p, q, dp, dq, qi) or a symmetric key ("kty": "oct" with k of 16, 24 or
 * 32 bytes). Members are base64url without padding (RFC 7515 section 2); padding is tolerated.
 *
 * A pure parser. Key members land in struct rp_secret buffers (locked, wiped on release);
 * messages name the member, never its value.
 */
#ifndef RP_FORMATS_JWK_H
#define RP_FORMATS_JWK_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secret.h"

enum rp_jwk_kty { RP_JWK_RSA = 1, RP_JWK_OCT = 2 };

enum rp_jwk_rsa_member {
	RP_JWK_N,
	RP_JWK_E,
	RP_JWK_D,
	RP_JWK_P,
	RP_JWK_Q,
	RP_JWK_DP,
	RP_JWK_DQ,
	RP_JWK_QI,
	RP_JWK_RSA_MEMBERS
};

struct rp_jwk {
	enum rp_jwk_kty kty;
	char kid[512];				  /* "" when absent */
	struct rp_secret rsa[RP_JWK_RSA_MEMBERS]; /* big-endian; p..qi empty unless given */
	struct rp_secret k;			  /* oct */
};

/* Largest RSA modulus accepted (bytes): 8192 bits. */
#define RP_JWK_MAX_RSA_BYTES 1024

/*
 * Parse text[0..len). RP_EFORMAT for malformed JSON, a missing or mistyped member, bad base64url,
 * an unsupported kty ("EC" is named as unsupported), a public-only RSA key ("has no private
 * exponent d"), a modulus over 8192 bits or an oct key not of 16, 24 or 32 bytes. Some but not
 * all CRT members: RP_EFORMAT too. out must be released with rp_jwk_release whatever the result.
 */
int rp_jwk_parse(const char *text, size_t len, struct rp_jwk *out, struct rp_err *err);
void rp_jwk_release(struct rp_jwk *k);

#endif
