/*
 * Fuzz target for key files: rp_kek_load (PEM, JWK or raw AES) and rp_jwk_parse. Any input is
 * accepted or refused with a code and a message, never a crash; a loaded KEK must unwrap a
 * fixed 40-byte input without crashing (the result is almost always a refusal).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/jwk.h"
#include "verify/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t wrapped[40] = {0xa6, 1, 2, 3};
	struct rp_kek *k = NULL;
	struct rp_secret out;
	struct rp_jwk j;
	struct rp_err err;
	int rc;

	rp_err_init(&err);
	rc = rp_jwk_parse((const char *)data, size, &j, &err);
	if (rc && (rc != RP_EFORMAT || !err.msg[0]))
		abort();
	if (rc == 0 && j.kty != RP_JWK_RSA && j.kty != RP_JWK_OCT)
		abort();
	rp_jwk_release(&j);
	rp_err_init(&err);
	rc = rp_kek_load(data, size, NULL, "fuzz", &k, &err);
	if (rc) {
		if (k || !err.msg[0] || (rc != RP_EFORMAT && rc != RP_EAUTH && rc != RP_EIO))
			abort();
		return 0;
	}
	rc = rp_kek_unwrap(k,
			   strncmp(rp_kek_describe(k), "RSA", 3) == 0 ? RP_WRAP_RSA_OAEP
								      : RP_WRAP_CKM_AES_KEY_WRAP,
			   wrapped, sizeof(wrapped), &out, &err);
	if (rc == 0)
		rp_secret_free(&out);
	rp_kek_free(k);
	return 0;
}
