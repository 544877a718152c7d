/*
 * The seal: our record of what a virtual disk contained when it was sealed (docs/seal.md).
 * A seal names content, not a location: the digests are of the virtual disk's bytes (for a VHD,
 * without its footer), so one seal verifies any copy of the disk in any supported format.
 *
 * rp_seal_parse() is a pure parser of the JSON text; rp_seal_to_json() is its inverse. Chunk i
 * covers bytes [i*chunk_size, min((i+1)*chunk_size, virtual_size)). Not thread-safe per object;
 * a parsed seal may be read from many threads at once.
 */
#ifndef RP_FORMATS_SEAL_H
#define RP_FORMATS_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/json.h"

#define RP_SEAL_FORMAT "cvmrestore-seal"
#define RP_SEAL_VERSION 1
#define RP_SEAL_MAX_BYTES (1024u * 1024 * 1024) /* a seal file larger than this is refused */
#define RP_SEAL_MIN_CHUNK 4096u
#define RP_SEAL_MAX_CHUNK (1024u * 1024 * 1024)

enum rp_chunk_state {
	RP_CHUNK_DATA = 0,	  /* has data; sha256 is its digest */
	RP_CHUNK_ZERO = 1,	  /* allocated but all zeros */
	RP_CHUNK_UNALLOCATED = 2, /* never allocated in the source image (reads as zeros) */
};

struct rp_seal_chunk {
	uint8_t state;
	uint8_t sha256[32];
};

struct rp_seal {
	unsigned version;
	char tool[64];
	char created[32];
	char source_name[1024]; /* path, or URL without its query */
	char source_format[32]; /* "raw", "vhd-fixed", "vhd-dynamic", "vhd-differencing", "vhdx" */
	uint64_t virtual_size;
	uint64_t chunk_size;
	uint64_t chunk_count;
	struct rp_seal_chunk *chunks; /* chunk_count entries */
	bool has_sha256, has_md5, has_sha1;
	uint8_t sha256[32];
	uint8_t md5[16];
	uint8_t sha1[20];
};

/* Chunks needed for size bytes in chunks of chunk_size: ceil(size / chunk_size). */
uint64_t rp_seal_chunks_for(uint64_t size, uint64_t chunk_size);

/*
 * Allocate a seal with chunk_count = rp_seal_chunks_for(virtual_size, chunk_size) zeroed
 * chunks; RP_EUSAGE for a chunk size that is not a multiple of 512 in
 * [RP_SEAL_MIN_CHUNK, RP_SEAL_MAX_CHUNK], RP_EIO when out of memory.
 */
int rp_seal_new(uint64_t virtual_size, uint64_t chunk_size, struct rp_seal **out,
		struct rp_err *err);

void rp_seal_free(struct rp_seal *s);

/*
 * Parse seal JSON text[0..len). Every field is checked for presence and type; messages name the
 * field ("chunks[17]: ..."). The chunk count must match virtual size and chunk size.
 */
int rp_seal_parse(const char *text, size_t len, struct rp_seal **out, struct rp_err *err);

/*
 * Validate an already parsed JSON value (e.g. a seal embedded in a recovery point descriptor)
 * and build the seal from it; the same checks and messages as rp_seal_parse(). root is only
 * read; it stays owned by the caller.
 */
int rp_seal_from_json(const struct rp_json *root, struct rp_seal **out, struct rp_err *err);

/* Read and parse a seal file (at most RP_SEAL_MAX_BYTES). */
int rp_seal_load(const char *path, struct rp_seal **out, struct rp_err *err);

/* The seal as a JSON document (owned by the caller). */
int rp_seal_to_json(const struct rp_seal *s, struct rp_json **out, struct rp_err *err);

/* Write the seal to path atomically. */
int rp_seal_write(const char *path, const struct rp_seal *s, struct rp_err *err);

#endif
