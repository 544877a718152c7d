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
#define RP_SEAL_VERSION 2     /* what this tool writes by default (rp_seal_write) */
#define RP_SEAL_VERSION_MIN 1 /* the oldest it reads (and can still write) */
#define RP_SEAL_MAX_BYTES (1024u * 1024 * 1024) /* a seal file larger than this is refused */
#define RP_SEAL_MIN_CHUNK 4096u
#define RP_SEAL_MAX_CHUNK (1024u * 1024 * 1024)
/* A seal of more chunks is refused: 256 Mi chunks (1 PiB at 4 MiB, 1 TiB at 4 KiB) keep the
 * chunk table of an all-empty disk at 96 MiB whatever a small document claims. */
#define RP_SEAL_MAX_CHUNKS (1ull << 28)
#define RP_SEAL_IDENTITY_NAME "seal-sha256" /* the whole-disk identity (docs/seal.md) */

enum rp_chunk_state {
	RP_CHUNK_DATA = 0,	  /* has data; sha256 is its digest */
	RP_CHUNK_ZERO = 1,	  /* allocated but all zeros */
	RP_CHUNK_UNALLOCATED = 2, /* never allocated in the source image (reads as zeros) */
};

/* One chunk's record, as a value: what rp_seal_chunk_get() gives and rp_seal_chunk_set() takes
 * (sha256 is all zeros unless the state is RP_CHUNK_DATA). */
struct rp_seal_chunk {
	uint8_t state;
	uint8_t sha256[32];
};

/* 64 chunks' states (two bit masks) and the SHA-256 of their data chunks, in chunk order
 * (defined in seal.c; use the accessors below). */
struct rp_seal_group;

struct rp_seal {
	unsigned version;
	char tool[64];
	char created[32];
	char source_name[1024]; /* path, or URL without its query */
	char source_format[32]; /* "raw", "vhd-fixed", "vhd-dynamic", "vhd-differencing", "vhdx" */
	uint64_t virtual_size;
	uint64_t chunk_size;
	uint64_t chunk_count;
	/* The chunks: 2 bits of state each, and 32 bytes for each data chunk only (a 64 TiB disk
	 * of 16 Mi chunks costs 6 MiB plus its data chunks' digests). Read and write them with
	 * rp_seal_chunk_get / rp_seal_chunk_set. */
	struct rp_seal_group *groups;
	/* A seal that borrows (rp_seal_borrow): the data chunks whose SHA-256 equals base's are
	 * not stored again but read from base, which must outlive this seal and not change. */
	const struct rp_seal *base;
	/* A parsed seal's digests, packed in one array in chunk order (internal: seal.c). */
	uint8_t *slab;
	size_t slab_len;
	/* The whole-disk identity (seal-sha256, docs/seal.md): O(chunks) to compute. */
	bool has_identity;
	uint8_t identity[32];
	/* The linear whole-disk digests (every byte), when they were asked for. */
	bool has_sha256, has_md5, has_sha1;
	uint8_t sha256[32];
	uint8_t md5[16];
	uint8_t sha1[20];
};

/* Chunk i's record into *out (i < chunk_count). Thread-safe against other readers. */
void rp_seal_chunk_get(const struct rp_seal *s, uint64_t i, struct rp_seal_chunk *out);

/* Chunk i's SHA-256 where the seal keeps it (32 bytes, valid while the seal and its base live
 * unchanged), or NULL when chunk i holds no data. Thread-safe against other readers. */
const uint8_t *rp_seal_chunk_sha(const struct rp_seal *s, uint64_t i);

/* Chunk i's state only (cheaper than rp_seal_chunk_get). */
enum rp_chunk_state rp_seal_chunk_state(const struct rp_seal *s, uint64_t i);

/*
 * Set chunk i's record (i < chunk_count, else RP_EUSAGE); RP_EIO when out of memory for a data
 * chunk's digest (the seal is unchanged then). Not thread-safe: one writer, no readers at once.
 */
int rp_seal_chunk_set(struct rp_seal *s, uint64_t i, const struct rp_seal_chunk *c,
		      struct rp_err *err);

/*
 * From now on keep in s no copy of a data chunk's SHA-256 that base holds for the same chunk:
 * a seal built while a pass checks every chunk against base (the pass's result, a verify's
 * merged states) then costs no digest memory where the disk matches base (8 MiB per copy at
 * 256 Ki data chunks). base must have s's chunk count, must not borrow itself, must outlive s
 * and must not change while s lives; RP_EUSAGE otherwise. Groups of 64 chunks that s already
 * holds digests for keep them; a group whose chunks stop matching base gets its own copy.
 */
int rp_seal_borrow(struct rp_seal *s, const struct rp_seal *base, struct rp_err *err);

/* How many chunks are in each state: counts[RP_CHUNK_DATA], [RP_CHUNK_ZERO], [..UNALLOCATED]. */
void rp_seal_counts(const struct rp_seal *s, uint64_t counts[3]);

/* Do a and b have the same chunk count and the same record for every chunk? */
bool rp_seal_chunks_equal(const struct rp_seal *a, const struct rp_seal *b);

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
 * Parse seal JSON text[0..len), version 1 (a "chunks" array) or 2 (a base64 "chunk_table" of
 * runs, read without a JSON value per chunk). Every field is checked for presence and type;
 * messages name the field ("chunks[17]: ...", "chunk_table: ... at byte N"). The chunk count
 * must match virtual size and chunk size.
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

/* The seal as a JSON document (owned by the caller) of the given version (1 or 2). */
int rp_seal_to_json_version(const struct rp_seal *s, unsigned version, struct rp_json **out,
			    struct rp_err *err);

/* The seal as a version 2 JSON document (owned by the caller). */
int rp_seal_to_json(const struct rp_seal *s, struct rp_json **out, struct rp_err *err);

/* Write the seal to path atomically, as version 2. */
int rp_seal_write(const char *path, const struct rp_seal *s, struct rp_err *err);

/* Write the seal to path atomically, as the given version (1 or 2). */
int rp_seal_write_version(const char *path, const struct rp_seal *s, unsigned version,
			  struct rp_err *err);

#endif
