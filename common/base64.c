/*
 * Strict base64 and base64url (common/base64.h), RFC 4648 sections 4, 5 and 3.5 (canonical
 * encoding: pad bits must be zero).
 */
#include "base64.h"

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#define B64_STD_ONLY 0x40 /* which alphabet(s) a character belongs to, for RP_B64_ANY */
#define B64_URL_ONLY 0x80

size_t rp_b64_encoded_len(size_t len, int flags, bool *ok)
{
	size_t groups = len / 3, rest = len % 3, n;

	*ok = false;
	if (groups > (SIZE_MAX - 4) / 4)
		return 0;
	n = groups * 4;
	if (rest)
		n += (flags & RP_B64_NOPAD) ? rest + 1 : 4;
	*ok = true;
	return n;
}

size_t rp_b64_decoded_max(size_t len)
{
	return len / 4 * 3 + (len % 4 * 3) / 4;
}

int rp_b64_encode(const uint8_t *in, size_t len, int flags, char *out, size_t outsz, size_t *outlen)
{
	const char *a = (flags & RP_B64_URL) ? url_alphabet : std_alphabet;
	bool ok;
	size_t need = rp_b64_encoded_len(len, flags, &ok), i, o = 0;

	if (!ok || need >= outsz)
		return RP_EUSAGE;
	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (len - i == 1) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[(in[i] & 3) << 4];
		if (!(flags & RP_B64_NOPAD)) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];

		out[o++] = a[v >> 10];
		out[o++] = a[(v >> 4) & 63];
		out[o++] = a[(v & 15) << 2];
		if (!(flags & RP_B64_NOPAD))
			out[o++] = '=';
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* The 6-bit value of c, with B64_STD_ONLY / B64_URL_ONLY for the characters that differ; -1 if c
 * is in neither alphabet. */
static int char_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	switch (c) {
	case '+':
		return 62 | B64_STD_ONLY;
	case '/':
		return 63 | B64_STD_ONLY;
	case '-':
		return 62 | B64_URL_ONLY;
	case '_':
		return 63 | B64_URL_ONLY;
	default:
		return -1;
	}
}

/* Check the padding (pad '=' after n data characters of len) against RFC 4648 section 3.2. */
static int check_padding(size_t len, size_t pad, int flags, struct rp_err *err)
{
	size_t n = len - pad;
	bool pad_optional = (flags & (RP_B64_URL | RP_B64_ANY | RP_B64_NOPAD)) != 0;

	if (pad > 2)
		return rp_err_set(err, RP_EFORMAT, "base64: too much padding at offset %zu", n);
	if (pad > 0 && len % 4 != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "base64: padding at offset %zu does not complete a group of 4",
				  n);
	if (pad == 0 && len % 4 != 0 && !pad_optional)
		return rp_err_set(err, RP_EFORMAT,
				  "base64: length %zu is not a multiple of 4 (padding missing)",
				  len);
	if (n % 4 == 1)
		return rp_err_set(err, RP_EFORMAT,
				  "base64: a single character in the last group at offset %zu",
				  n - 1);
	return 0;
}

int rp_b64_decode(const char *in, size_t len, int flags, uint8_t *out, size_t outsz, size_t *outlen,
		  struct rp_err *err)
{
	int allowed = (flags & RP_B64_ANY)   ? (B64_STD_ONLY | B64_URL_ONLY)
		      : (flags & RP_B64_URL) ? B64_URL_ONLY
					     : B64_STD_ONLY;
	int seen = 0, rc;
	size_t n, pad = 0, i, o = 0, bits = 0;
	uint32_t acc = 0;

	while (pad < len && in[len - 1 - pad] == '=')
		pad++;
	n = len - pad;
	if (rp_b64_decoded_max(n) > outsz)
		return rp_err_set(err, RP_EUSAGE, "base64: output buffer of %zu bytes is too small",
				  outsz);
	for (i = 0; i < n; i++) {
		int v = char_value(in[i]);
		int kind = v < 0 ? 0 : v & (B64_STD_ONLY | B64_URL_ONLY);

		if (v < 0 || (kind && !(kind & allowed)))
			return rp_err_set(err, RP_EFORMAT,
					  "base64: invalid character at offset %zu", i);
		if (kind && (seen | kind) == (B64_STD_ONLY | B64_URL_ONLY))
			return rp_err_set(err, RP_EFORMAT,
					  "base64: mixed standard and url alphabets at offset %zu",
					  i);
		seen |= kind;
		acc = acc << 6 | (uint32_t)(v & 63);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	rc = check_padding(len, pad, flags, err);
	if (rc)
		return rc;
	/* RFC 4648 3.5: the bits after the last whole byte must be zero (canonical form). */
	if (acc != 0)
		return rp_err_set(err, RP_EFORMAT, "base64: non-zero trailing bits at offset %zu",
				  n - 1);
	*outlen = o;
	return 0;
}
