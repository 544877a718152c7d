/*
 * CRC-64/NVME as Azure Storage computes it (x-ms-content-crc64, x-ms-range-get-content-crc64):
 * reflected polynomial 0x9A6C9329AC4BC9B5, initial value ~0, reflected in and out, final xor ~0.
 * Check value: "123456789" -> 0xAE8B14860A799888.
 *
 * On the wire a CRC is its 8 bytes little-endian, then standard base64 (12 characters with one
 * '=' of padding), e.g. "iJh5CoYUi64=".
 *
 * All functions are pure and thread-safe.
 */
#ifndef RP_VERIFY_CRC64_H
#define RP_VERIFY_CRC64_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Continue the CRC crc (the value returned for the bytes before; 0 for none) over buf[0..len).
 * rp_crc64(rp_crc64(0, a, n), b, m) equals the CRC of a followed by b. buf may be NULL if len is 0.
 */
uint64_t rp_crc64(uint64_t crc, const void *buf, size_t len);

/*
 * The CRC of A followed by B, from crc1 = CRC(A), crc2 = CRC(B) and len2 = length of B, without
 * reading the data (zlib's crc32_combine: GF(2) matrix squaring, O(log len2)).
 */
uint64_t rp_crc64_combine(uint64_t crc1, uint64_t crc2, uint64_t len2);

/* 12 characters and a NUL. */
#define RP_CRC64_B64_SIZE 13

/* The wire form: little-endian bytes, standard base64 with padding, NUL-terminated. */
void rp_crc64_to_b64(uint64_t crc, char out[RP_CRC64_B64_SIZE]);

/*
 * Parse the wire form (exactly 12 characters of standard base64 decoding to 8 bytes, as in an
 * x-ms-content-crc64 header). 0, or RP_EFORMAT with a message that quotes the value.
 */
int rp_crc64_from_b64(const char *s, uint64_t *out, struct rp_err *err);

#endif
