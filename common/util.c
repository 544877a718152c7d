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
		return rp_err_set(err, RP_EUSAGE, "'%s' is not a size (bytes, or K/M/G/T)",
				  s ? s : "");
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
			return rp_err_set(err, RP_EUSAGE, "'%s' is not a size (bytes, or K/M/G/T)",
					  s);
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
		uint32_t u =
		    le ? (uint32_t)(in[i] | in[i + 1] << 8) : (uint32_t)(in[i] << 8 | in[i + 1]);
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

int rp_chunk_size_check(uint64_t size, struct rp_err *err)
{
	if (size % 512 || size < RP_CHUNK_MIN || size > RP_CHUNK_MAX)
		return rp_err_set(err, RP_EUSAGE,
				  "chunk size %llu: a multiple of 512 from 4K to 64M expected",
				  (unsigned long long)size);
	return 0;
}

double rp_now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int64_t rp_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void rp_sleep_ms(uint64_t ms, const volatile sig_atomic_t *stop)
{
	while (ms > 0 && !(stop && *stop)) {
		uint64_t k = ms < 100 ? ms : 100;
		struct timespec t = {.tv_sec = 0, .tv_nsec = (long)k * 1000000L};

		while (nanosleep(&t, &t) != 0 && errno == EINTR && !(stop && *stop))
			;
		ms -= k;
	}
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

int rp_hex_digit(char c)
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
		int hi = rp_hex_digit(s[2 * i]), lo = rp_hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return RP_EFORMAT;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), one table lookup per byte; the table
 * was generated by tests/gen/crc32c_table.py. */
static const uint32_t crc32c_table[256] = {
    0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu, 0x35f1141cu, 0x26a1e7e8u,
    0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu, 0x4d43cfd0u, 0xbf284cd3u,
    0xac78bf27u, 0x5e133c24u, 0x105ec76fu, 0xe235446cu, 0xf165b798u, 0x030e349bu, 0xd7c45070u,
    0x25afd373u, 0x36ff2087u, 0xc494a384u, 0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u,
    0x5d1d08bfu, 0xaf768bbcu, 0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u,
    0x33ed7d2au, 0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u, 0xaa64d611u, 0x580f5512u,
    0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau, 0x30e349b1u,
    0xc288cab2u, 0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu, 0x1642ae59u, 0xe4292d5au,
    0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au, 0x7da08661u, 0x8fcb0562u, 0x9c9bf696u,
    0x6ef07595u, 0x417b1dbcu, 0xb3109ebfu, 0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u,
    0x67dafa54u, 0x95b17957u, 0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u, 0x0c38d26cu,
    0xfe53516fu, 0xed03a29bu, 0x1f682198u, 0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
    0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu, 0x3ac7f2ebu,
    0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u, 0x61c69362u, 0x93ad1061u,
    0x80fde395u, 0x72966096u, 0xa65c047du, 0x5437877eu, 0x4767748au, 0xb50cf789u, 0xeb1fcbadu,
    0x197448aeu, 0x0a24bb5au, 0xf84f3859u, 0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u,
    0x7198540du, 0x83f3d70eu, 0x90a324fau, 0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u,
    0xa55230e6u, 0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu, 0xceb018deu,
    0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu, 0x456cac67u,
    0xb7072f64u, 0xa457dc90u, 0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u, 0xe9141340u, 0x1b7f9043u,
    0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu, 0x92a8fc17u, 0x60c37f14u, 0x73938ce0u,
    0x81f80fe3u, 0x55326b08u, 0xa759e80bu, 0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu,
    0xf94ad42fu, 0x0b21572cu, 0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u, 0xa24bb5a6u,
    0x502036a5u, 0x4370c551u, 0xb11b4652u, 0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
    0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u, 0x0e330a81u,
    0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du, 0x758fe5d6u, 0x87e466d5u,
    0x94b49521u, 0x66df1622u, 0x38cc2a06u, 0xcaa7a905u, 0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u,
    0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu, 0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u,
    0x0417b1dbu, 0xf67c32d8u, 0xe52cc12cu, 0x1747422fu, 0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu,
    0x5a048dffu, 0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
    0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u, 0x590ab964u,
    0xab613a67u, 0xb831c993u, 0x4a5a4a90u, 0x9e902e7bu, 0x6cfbad78u, 0x7fab5e8cu, 0x8dc0dd8fu,
    0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu, 0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u,
    0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u, 0x88d28022u, 0x7ab90321u, 0xae7367cau, 0x5c18e4c9u,
    0x4f48173du, 0xbd23943eu, 0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au,
    0xc69f7b69u, 0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
    0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

uint32_t rp_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--)
		crc = (crc >> 8) ^ crc32c_table[(crc ^ *p++) & 0xFF];
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
