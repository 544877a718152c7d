/*
 * One disk served read-only, every chunk verified before a byte of it is handed out: the core
 * of the nbdkit plugin (nbd/plugin.c), with no nbdkit dependency so that the unit tests can
 * drive it under the sanitizers.
 *
 * Sources are what restore takes: an Azure blob URL or an HTTPS mirror (read through
 * restore/blob_read.h, which checks the transport hash of every range, pins the ETag and
 * compares each chunk with the seal), a local raw/VHD/VHDX image with its parents
 * (formats/image.h, each chunk compared with the seal through rp_chunk_verify), or a disk of
 * a recovery point descriptor. The served bytes are the virtual disk (a VHD's footer is not
 * part of it).
 *
 * A read covers whole chunks: each chunk it touches is fetched and checked whole, kept in a
 * bounded LRU cache, then copied out. A chunk that fails a check is fetched again (retries),
 * then the read fails naming the chunk and the check; other chunks stay readable. Chunks the
 * seal records as zeros or unallocated are served as zeros without a fetch (the seal is the
 * reference: zeros are what it says the disk holds there). Sequential reads start fetching the
 * next chunks ahead (read-ahead threads). With a cache directory, each verified chunk is also
 * written there (a temporary file renamed into place), and a chunk found there is checked
 * against the seal before it is used; one that fails is removed and fetched again.
 *
 * Thread safety: rp_served_read, rp_served_extent and rp_served_stats may be called from many
 * threads at once; open and free are single-threaded.
 */
#ifndef RP_NBD_SERVED_H
#define RP_NBD_SERVED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "net/net.h"

#define RP_SERVED_CACHE_DEFAULT (256ull * 1024 * 1024)
#define RP_SERVED_READAHEAD_DEFAULT 4	    /* chunks */
#define RP_SERVED_RETRIES_DEFAULT 2	    /* whole-chunk fetches after the first */
#define RP_SERVED_DISK_DEFAULT (4ull << 30) /* cache directory bound */
#define RP_SERVED_EXTENT_CHUNKS (1u << 20)  /* chunks one rp_served_extent call looks at */

/* What a log line is about (the plugin maps it to nbdkit_error or nbdkit_debug). */
enum rp_served_log { RP_SERVED_LOG_ERROR, RP_SERVED_LOG_WARN, RP_SERVED_LOG_DEBUG };

struct rp_served_opts {
	const char *source;    /* a URL, an image path, or a descriptor (with disk); a secret */
	const char *disk;      /* the descriptor's disk to serve; NULL: source is the disk */
	const char *seal_path; /* NULL: the descriptor's seal for the disk, or none */
	const char *const *parents; /* of a differencing image, nearest first */
	size_t parent_count;
	bool allow_outside;	       /* a descriptor's local sources may lie outside its folder */
	bool unverified;	       /* serve without a seal (else that is RP_EUSAGE) */
	const struct rp_net_opts *net; /* borrowed; connections = most parallel fetches */
	uint64_t cache_bytes;	       /* 0: RP_SERVED_CACHE_DEFAULT */
	/* Verified chunks also kept as files under cache_dir/<seal identity hex>/<chunk index
	 * hex> (NULL: none; needs a seal), checked against the seal again when read back; the
	 * seal's folder holds at most cache_dir_bytes of them (0: RP_SERVED_DISK_DEFAULT). */
	const char *cache_dir;
	uint64_t cache_dir_bytes;
	unsigned readahead; /* chunks fetched ahead of a sequential reader */
	unsigned retries;   /* fetches of a failing chunk after the first */
	/* Log lines (never holding a secret); may be NULL. From any thread. */
	void (*log)(void *ctx, enum rp_served_log level, const char *msg);
	void *log_ctx;
};

/* What an extent holds. */
enum rp_served_kind {
	RP_SERVED_DATA = 0,
	RP_SERVED_ZERO = 1, /* reads as zeros (the seal says so, or never written) */
};

struct rp_served_stats {
	uint64_t fetches;      /* whole-chunk fetches that checked out */
	uint64_t failures;     /* fetches that failed a check */
	uint64_t hits;	       /* chunks served from the cache */
	uint64_t zero_chunks;  /* chunks served as zeros from the seal */
	uint64_t readaheads;   /* chunks fetched ahead */
	uint64_t cache_slots;  /* chunks the cache holds at most */
	uint64_t cache_bytes;  /* bytes of chunk buffers allocated now */
	uint64_t disk_hits;    /* chunks read back from the cache directory, checked */
	uint64_t disk_bad;     /* files there that failed the check (removed, fetched again) */
	uint64_t disk_writes;  /* chunks written there */
	uint64_t disk_evicted; /* files removed there to stay within the bound */
};

struct rp_served;

/* Open the source, load the seal and check that they fit together. RP_EUSAGE without a seal
 * unless o->unverified; the message never holds the source's query. */
int rp_served_open(const struct rp_served_opts *o, struct rp_served **out, struct rp_err *err);
void rp_served_free(struct rp_served *s);

uint64_t rp_served_size(const struct rp_served *s);
uint64_t rp_served_chunk_size(const struct rp_served *s);
const char *rp_served_name(const struct rp_served *s); /* display form: no query */
bool rp_served_sealed(const struct rp_served *s);

/* Read len bytes at off (inside the size, else RP_EUSAGE), verified. On a failure err names the
 * chunk and the check (its reason is the check's). */
int rp_served_read(struct rp_served *s, void *buf, size_t len, uint64_t off, struct rp_err *err);

/*
 * What the bytes at off hold, and for how many bytes from off: the whole run of one kind up to
 * end (0 or past the size: the size), *run >= 1. With a seal a call looks at most at
 * RP_SERVED_EXTENT_CHUNKS chunks (a shorter run then; the next call goes on), so it stays
 * cheap on a disk of millions of chunks. Without a seal: a local image's block tables, a page
 * blob's page ranges (exact to the 512-byte page, listed a window at a time), else all data.
 */
int rp_served_extent(struct rp_served *s, uint64_t off, uint64_t end, enum rp_served_kind *kind,
		     uint64_t *run, struct rp_err *err);

void rp_served_stats(struct rp_served *s, struct rp_served_stats *st);

/* "sealed", "unverified": for the log. */
const char *rp_served_mode(const struct rp_served *s);

#endif
