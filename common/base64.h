/*
 * Base64 (RFC 4648 section 4) and base64url (section 5), strict.
 *
 * Encoding writes padding unless RP_B64_NOPAD is given. Decoding rejects any character outside
 * the chosen alphabet (no whitespace), padding that is misplaced or of the wrong amount, and
 * non-zero bits left over in the last character (so every accepted text has exactly one
 * decoding). Padding is required for the standard alphabet unless RP_B64_NOPAD is given, and
 * optional for base64url and for RP_B64_ANY; when present it must be complete.
 *
 * Messages name the offset of the problem, never the text itself (base64 often carries keys).
 * All functions are pure and thread-safe.
 */
#ifndef RP_COMMON_BASE64_H
#define RP_COMMON_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum rp_b64_flags {
	RP_B64_STD = 0,	  /* standard alphabet (+ /), padded */
	RP_B64_URL = 1,	  /* URL alphabet (- _); padding optional when decoding */
	RP_B64_ANY = 2,	  /* decode only: accept either alphabet (not both in one text) */
	RP_B64_NOPAD = 4, /* encode without '='; decode: padding optional */
};

/*
 * Characters needed to encode len bytes (without the NUL), or 0 with *ok false on overflow.
 */
size_t rp_b64_encoded_len(size_t len, int flags, bool *ok);

/* Upper bound of the bytes that len characters decode to. */
size_t rp_b64_decoded_max(size_t len);

/*
 * Encode in[0..len) into out[0..outsz) with a terminating NUL; *outlen gets the characters
 * written (without the NUL). RP_EUSAGE if out is too small or the size overflows.
 */
int rp_b64_encode(const uint8_t *in, size_t len, int flags, char *out, size_t outsz,
		  size_t *outlen);

/*
 * Decode in[0..len) into out[0..outsz); *outlen gets the bytes written. RP_EFORMAT for bad input
 * (message "base64: ... at offset N"), RP_EUSAGE if out is too small (rp_b64_decoded_max(len)
 * is always enough). On failure out may hold partial output: callers wipe it if it is secret.
 */
int rp_b64_decode(const char *in, size_t len, int flags, uint8_t *out, size_t outsz, size_t *outlen,
		  struct rp_err *err);

#endif
