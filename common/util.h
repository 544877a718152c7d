/*
 * Small utilities: checked number parsing, text encodings, UUIDs, times, clocks and hex.
 * All functions are thread-safe; all but the clocks and the sleep are pure.
 */
#ifndef RP_COMMON_UTIL_H
#define RP_COMMON_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

/* Parse a decimal unsigned integer (no sign, no spaces) into *out; RP_EUSAGE on bad text. */
int rp_parse_u64(const char *s, uint64_t *out, struct rp_err *err);

/*
 * Parse a size: plain bytes, or a number followed by K, M, G or T (binary: 1K = 1024; an
 * optional trailing "iB" or "B" is accepted). Overflow and empty text are RP_EUSAGE.
 */
int rp_parse_size(const char *s, uint64_t *out, struct rp_err *err);

/*
 * Decode UTF-16 (little-endian if le, else big-endian) from in[0..len) into NUL-terminated UTF-8
 * in out[0..outsz). Decoding stops at the first NUL code unit. Unpaired surrogates become U+FFFD.
 * Returns 0, or RP_EFORMAT if the output does not fit.
 */
int rp_utf16_to_utf8(const uint8_t *in, size_t len, bool le, char *out, size_t outsz);

#define RP_UUID_STR 37

/* Format 16 bytes as a UUID in the byte order they are stored (RFC 4122, big-endian fields). */
void rp_uuid_format_be(const uint8_t b[16], char out[RP_UUID_STR]);

/* Format a Microsoft GUID (first three fields little-endian, as in GPT and VHDX). */
void rp_guid_format_le(const uint8_t b[16], char out[RP_UUID_STR]);

bool rp_is_zero(const void *buf, size_t len);

#define RP_TIME_STR 21

/* Format t as "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
void rp_time_iso(time_t t, char out[RP_TIME_STR]);

/*
 * The chunk: the unit a disk is read, checked and written in (ranged reads, scans, journals).
 * RP_CHUNK_MIN is the smallest chunk a seal can have; RP_CHUNK_MAX keeps a chunk's buffers
 * (one per connection) and a ranged read's deadline reasonable. A seal's own chunk size (from
 * 4 KiB to 1 GiB, formats/seal.h) wins over these where a seal is given.
 */
#define RP_CHUNK_DEFAULT (4u << 20)
#define RP_CHUNK_MIN 4096u
#define RP_CHUNK_MAX (64u << 20)

/* 0 if size is a multiple of 512 from RP_CHUNK_MIN to RP_CHUNK_MAX, else RP_EUSAGE saying so. */
int rp_chunk_size_check(uint64_t size, struct rp_err *err);

/* Seconds on the monotonic clock (for durations and deadlines, not dates). */
double rp_now_s(void);

/* Milliseconds on the monotonic clock. */
int64_t rp_now_ms(void);

/*
 * Sleep ms milliseconds, in slices of at most 100 ms that end early once *stop is set (stop may
 * be NULL: then only the time ends it). A signal does not cut a slice short.
 */
void rp_sleep_ms(uint64_t ms, const volatile sig_atomic_t *stop);

/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void rp_hex(const uint8_t *b, size_t len, char *out);

/* The value of the hex digit c (either case), or -1 if c is not one. */
int rp_hex_digit(char c);

/* Parse exactly 2*len hex digits into b; returns 0 or RP_EFORMAT. */
int rp_unhex(const char *s, uint8_t *b, size_t len);

/* CRC-32C (Castagnoli), as VHDX uses; crc is the running value (start with 0). */
uint32_t rp_crc32c(uint32_t crc, const void *buf, size_t len);

/* Fill buf with len bytes from the OS random source; 0 or RP_EIO. */
int rp_random_bytes(void *buf, size_t len, struct rp_err *err);

#endif
