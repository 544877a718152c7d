#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

int rp_parse_u64(const char *s, uint64_t *out, struct rp_err *err)
{
	char *end = NULL;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return rp_err_set(err, RP_EUSAGE, "'%s' is not a number", s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return rp_err_set(err, RP_EUSAGE, "'%s' is too large", s);
	if (*end != '\0')
		return rp_err_set(err, RP_EUSAGE, "'%s' is not a number", s);
	*out = (uint64_t)v;
	return 0;
}

int rp_parse_size(const char *s, uint64_t *out, struct rp_err *err)
{
	char *end = NULL;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || *s < '0' || *s > '9')
		return rp_err_set(err, RP_EUSAGE, "'%s' is not a size (bytes, or K/M/G/T)", s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return rp_err_set(err, RP_EUSAGE, "size '%s' is too large", s);
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		return rp_err_set(err, RP_EUSAGE, "'%s' is not a size (bytes, or K/M/G/T)", s);
	}
	if (shift) {
		end++;
		if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
			end += strlen(end);
		if (*end != '\0')
			return rp_err_set(err, RP_EUSAGE, "'%s' is not a size (bytes, or K/M/G/T)", s);
		if (v > (UINT64_MAX >> shift))
			return rp_err_set(err, RP_EUSAGE, "size '%s' is too large", s);
	}
	*out = (uint64_t)v << shift;
	return 0;
}

static size_t put_utf8(uint32_t cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

int rp_utf16_to_utf8(const uint8_t *in, size_t len, bool le, char *out, size_t outsz)
{
	size_t i = 0, o = 0;

	if (outsz == 0)
		return RP_EFORMAT;
	while (i + 1 < len) {
		uint32_t u = le ? (uint32_t)(in[i] | in[i + 1] << 8) : (uint32_t)(in[i] << 8 | in[i + 1]);
		uint32_t cp = u;
		char enc[4];
		size_t n;

		i += 2;
		if (u == 0)
			break;
		if (u >= 0xD800 && u <= 0xDBFF && i + 1 < len) {
			uint32_t lo = le ? (uint32_t)(in[i] | in[i + 1] << 8)
					 : (uint32_t)(in[i] << 8 | in[i + 1]);
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				i += 2;
			} else {
				cp = 0xFFFD;
			}
		} else if (u >= 0xD800 && u <= 0xDFFF) {
			cp = 0xFFFD;
		}
		n = put_utf8(cp, enc);
		if (o + n >= outsz) {
			out[o] = '\0';
			return RP_EFORMAT;
		}
		memcpy(out + o, enc, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

void rp_uuid_format_be(const uint8_t b[16], char out[RP_UUID_STR])
{
	snprintf(out, RP_UUID_STR,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

void rp_guid_format_le(const uint8_t b[16], char out[RP_UUID_STR])
{
	snprintf(out, RP_UUID_STR,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[3], b[2],
		 b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

bool rp_is_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	static const uint8_t zero[64];

	while (len >= sizeof(zero)) {
		if (memcmp(p, zero, sizeof(zero)) != 0)
			return false;
		p += sizeof(zero);
		len -= sizeof(zero);
	}
	return len == 0 || memcmp(p, zero, len) == 0;
}

void rp_time_iso(time_t t, char out[RP_TIME_STR])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, RP_TIME_STR, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, RP_TIME_STR, "invalid-time");
}

void rp_hex(const uint8_t *b, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int rp_unhex(const char *s, uint8_t *b, size_t len)
{
	size_t i;

	if (strlen(s) != 2 * len)
		return RP_EFORMAT;
	for (i = 0; i < len; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return RP_EFORMAT;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Reflected CRC-32C table for polynomial 0x82F63B78, built at compile time would need a
 * generator; a 1 KiB table computed on first use would be mutable state, so it is spelled out by
 * computing each entry on the fly in slices of 8 bits. VHDX checksums cover a few KiB only. */
static uint32_t crc32c_byte(uint32_t c)
{
	int k;

	for (k = 0; k < 8; k++)
		c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	return c;
}

uint32_t rp_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--)
		crc = (crc >> 8) ^ crc32c_byte((crc ^ *p++) & 0xFF);
	return ~crc;
}

int rp_random_bytes(void *buf, size_t len, struct rp_err *err)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return rp_err_errno(err, errno, "reading random bytes");
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
