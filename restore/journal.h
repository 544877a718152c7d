/*
 * The restore journal's content (docs/journal.md): what it says, encoded and parsed without
 * I/O. The file sink (restore/sink.c) owns the file itself (where it lives, how it is
 * replaced); this module only turns a journal into bytes and bytes back into a journal.
 *
 * Version 2 binds every chunk it lists as done to the content written for it: a data chunk by
 * the SHA-256 of its bytes, a zero chunk by being zero. A resume re-hashes what the journal
 * lists before relying on it. Version 1 journals (a bitmap only) are recognised and reported
 * as such, never trusted.
 */
#ifndef RP_RESTORE_JOURNAL_H
#define RP_RESTORE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define RP_JOURNAL_VERSION 2
#define RP_JOURNAL_MAGIC_V1 "CVMRJNL1"
#define RP_JOURNAL_MAGIC "CVMRJNL2"

/*
 * A journal. For rp_journal_encode every pointer is the caller's. After rp_journal_parse the
 * pointers point into the parsed buffer (valid while it lives); etag and source are not
 * NUL-terminated (use the lengths).
 *   done: bitmap of chunks verified and durable (bit i % 8 of byte i / 8 is chunk i).
 *   data: bitmap of the done chunks that hold data (a subset of done); the others are zero.
 *   sha256 (encode): 32 bytes per chunk, indexed by chunk; read for done data chunks only.
 *   digest_of (encode, when sha256 is NULL): the 32 bytes of done data chunk i, asked in chunk
 *     order (for a caller that keeps digests only for its data chunks); NULL is an error.
 *   digests (parse): 32 bytes per done data chunk, in chunk order.
 */
struct rp_journal {
	unsigned version; /* parse: RP_JOURNAL_VERSION, or 1 for an old journal (nothing else
			   * is filled then) */
	uint64_t size;	  /* bytes of data (the virtual disk) */
	uint64_t chunk_size;
	uint64_t chunks;
	uint32_t output_format; /* 0 raw, 1 vhd */
	const char *etag;
	size_t etag_len;
	const char *source; /* without its query: never a SAS */
	size_t source_len;
	const uint8_t *done;
	const uint8_t *data;
	const uint8_t *sha256;
	const uint8_t *(*digest_of)(const void *ctx, uint64_t chunk);
	const void *digest_ctx;
	const uint8_t *digests;
	uint64_t data_chunks; /* parse: how many digests there are */
};

static inline bool rp_journal_bit(const uint8_t *bits, uint64_t i)
{
	return (bits[i / 8] >> (i % 8)) & 1;
}

/*
 * Encode j (version RP_JOURNAL_VERSION) into a new buffer (*out, *len; free() it). Chunks set
 * in j->data but not in j->done are not written as data. RP_EUSAGE if the ETag or source is
 * longer than 65535 bytes; RP_EIO when out of memory.
 */
int rp_journal_encode(const struct rp_journal *j, uint8_t **out, size_t *len, struct rp_err *err);

/* The bytes rp_journal_encode_to hands out at most at once. */
#define RP_JOURNAL_PIECE (64u * 1024)

/* Takes the next n bytes of an encoded journal; 0, or an error (err filled) that ends it. */
typedef int (*rp_journal_put_fn)(void *ctx, const uint8_t *p, size_t n, struct rp_err *err);

/*
 * Encode j as rp_journal_encode does, the same bytes, but handed to put in order in pieces of
 * at most RP_JOURNAL_PIECE bytes (the sink writes them to the journal's temporary file): memory
 * stays one piece whatever the chunk count (a 64 TiB disk's bitmaps are 4 MiB, its digests 8 MiB
 * per 256 Ki data chunks). Errors as rp_journal_encode's, or put's.
 */
int rp_journal_encode_to(const struct rp_journal *j, rp_journal_put_fn put, void *ctx,
			 struct rp_err *err);

/* How many bytes rp_journal_encode gives for j (RP_EUSAGE, RP_EIO as it). */
int rp_journal_encoded_size(const struct rp_journal *j, size_t *len, struct rp_err *err);

/*
 * Parse len bytes of a journal into *out (which points into buf afterwards). A version 1
 * journal with a good checksum gives 0 and out->version 1. RP_EFORMAT with a message saying
 * what is wrong for anything else that is not a well-formed journal (magic, checksum,
 * lengths, a data chunk that is not done). Pure: no I/O, no allocation.
 */
int rp_journal_parse(const uint8_t *buf, size_t len, struct rp_journal *out, struct rp_err *err);

#endif
