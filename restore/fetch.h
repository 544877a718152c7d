/*
 * The fetch engine: parallel ranged reads of one blob, checked as they stream, handed to a sink
 * only once verified (docs/design.md). It is the transfer side of the chunk pipeline
 * (verify/pipeline.h).
 *
 * Threads: the calling thread runs the libcurl multi loop (it only starts transfers, moves
 * bytes into the pipeline's chunk buffers and classifies answers); the pipeline's `workers`
 * threads check each received chunk (transport CRC64/MD5 against the service's header, then
 * decryption, SHA-256 against the seal) and write it through the sink; its digester, when
 * whole-disk digests are asked for, feeds them in chunk order. A fixed pool of connections + 8
 * chunk buffers is the only large memory.
 *
 * A chunk that fails a check or a transfer is fetched again, up to `retries` times, with
 * exponential backoff and jitter (or the server's Retry-After); then the whole run fails naming
 * the chunk, its offset and the check. The first failure wins and the rest are wound up.
 */
#ifndef RP_RESTORE_FETCH_H
#define RP_RESTORE_FETCH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "formats/seal.h"
#include "net/auth.h"
#include "net/http.h"
#include "verify/digest.h"
#include "verify/pipeline.h"
#include "verify/scan.h"

enum rp_transport_hash {
	RP_TH_NONE = 0,
	RP_TH_CRC64 = 1,
	RP_TH_MD5 = 2,
};

const char *rp_transport_hash_name(enum rp_transport_hash th);

/*
 * Check len bytes at buf against the hash the server sent with them (crc64_b64 from
 * x-ms-content-crc64, md5_b64 from Content-MD5; either may be NULL). RP_EVERIFY with msg
 * ("crc64 mismatch (server A, received B)", "the server sent no ...") when they disagree.
 */
int rp_transport_check(enum rp_transport_hash th, const char *crc64_b64, const char *md5_b64,
		       const uint8_t *buf, size_t len, char *msg, size_t msgsz);

/*
 * Is an answer from the pinned version of the source? Every answer's ETag must be pinned_etag
 * and, when both the pinned HEAD and the answer give one, its Last-Modified pinned_lm: a server
 * that ignores If-Match would otherwise hand out the bytes of another version, each range
 * consistent with its own transport hash. pinned_etag NULL or "": nothing is pinned (true).
 * False with msg ("ETag \"B\", not \"A\"", "no ETag", ...) when the answer is from another one.
 */
bool rp_source_same(const char *pinned_etag, const char *pinned_lm, const char *etag,
		    const char *lm, char *msg, size_t msgsz);

/* Which chunks hold data: called from the transfer thread, in increasing chunk order. */
typedef int (*rp_fetch_plan_fn)(void *ctx, uint64_t chunk, bool *allocated, struct rp_err *err);

/*
 * The deadline of one range (docs/exit-codes.md, README "restore"): a range must complete
 * within max(floor, bytes / minimum rate), else it is cut and fetched again, at most
 * RP_FETCH_SLOW_RETRIES times (fewer if retries says so), then the run fails naming the chunk
 * ("too slow", RP_EIO). The low-speed limit alone (1 KiB/s over 60 s) would let a server that
 * trickles 2 KiB/s hold a 4 MiB range for 34 minutes. The minimum rate is per connection: with
 * a cap on the total rate (limit_rate, bytes/s) it is a quarter of the cap's share of each
 * connection, so that a low cap never fails a healthy range.
 */
#define RP_FETCH_RANGE_FLOOR_S 30	/* default floor, seconds */
#define RP_FETCH_MIN_RATE (100u * 1024) /* bytes per second per range, without a cap */
#define RP_FETCH_SLOW_RETRIES 2

struct rp_fetch_opts;

/* The deadline in milliseconds for a range of bytes under o (range_timeout_s, limit_rate,
 * connections). */
long rp_fetch_range_deadline_ms(const struct rp_fetch_opts *o, uint64_t bytes);

struct rp_fetch_opts {
	const char *url;      /* the blob (may carry a SAS: never printed) */
	const char *display;  /* the URL without secrets, for messages */
	struct rp_auth *auth; /* bearer credential, or NULL */
	const struct rp_http_opts *http;
	const char *etag;	   /* sent as If-Match on every range, and every answer must
				    * carry it (rp_source_same); NULL or "" for none */
	const char *last_modified; /* the HEAD's Last-Modified: answers that give one must match
				    * it (NULL or "": unchecked) */
	uint64_t size;		   /* bytes to fetch from offset 0 */
	uint64_t total_size;	   /* the whole blob, as Content-Range must say (0: unchecked) */
	uint64_t chunk_size;
	unsigned connections;
	unsigned workers; /* 0: number of cores */
	unsigned retries;
	unsigned retry_base_ms;	  /* first backoff; doubles, with jitter, up to 60 s */
	unsigned range_timeout_s; /* the floor of a range's deadline; 0: RP_FETCH_RANGE_FLOOR_S */
	uint64_t limit_rate;	  /* a cap on the total rate in bytes/s, 0: none (the deadline
				   * scales with it) */
	enum rp_transport_hash th;
	const struct rp_seal *expect; /* compare each chunk's SHA-256 (may be NULL) */
	/*
	 * A client-side encrypted blob (docs/azure.md): plaintext chunk i is stored at
	 * i * (chunk_size + overhead) as overhead more bytes. After the transport check, decrypt
	 * turns the stored bytes in buf into plaintext in place and points *plain at it; the seal,
	 * the digests and the sink see only plaintext (size and chunk_size are plaintext).
	 * total_size is the stored size. NULL decrypt: the blob is plain (overhead 0).
	 */
	uint32_t overhead;
	uint64_t region_total; /* plaintext bytes stored (the last region ends there) */
	int (*decrypt)(void *ctx, uint64_t chunk, uint8_t *buf, size_t stored_len, uint8_t **plain,
		       struct rp_err *err);
	void *decrypt_ctx;
	bool keep_going;	/* verify: record seal mismatches and go on, instead of failing */
	unsigned whole_digests; /* (1u << RP_DIGEST_*) computed in chunk order */
	/* Piecewise SHA-256 over windows of this many bytes (a multiple of 512; 0: none), in
	 * chunk order like the whole digests; the last window may be shorter (verify/pipeline.h).
	 */
	uint64_t hash_window;
	rp_fetch_plan_fn plan;
	void *plan_ctx;
	/* Which chunks to fetch (verify --sample etc.; NULL: all), from the transfer thread in
	 * increasing order (verify/pipeline.h). Unselected chunks are neither fetched nor checked
	 * nor written. Needs whole_digests == 0 (RP_EUSAGE otherwise). */
	rp_scan_select_fn select;
	void *select_ctx;
	struct rp_chunk_sink sink; /* verify/pipeline.h */
	rp_scan_progress_fn progress;
	void *progress_ctx;
	/* If set, told now and then how many bytes were skipped (never written) and how many
	 * retries there were so far, just before progress is called. */
	void (*progress_detail)(void *ctx, uint64_t skipped, uint64_t retries);
	volatile sig_atomic_t *stop;
};

struct rp_fetch_result {
	/* The pipeline's result: seal (chunk states and SHA-256), mismatches (the lowest by chunk
	 * index, keep_going), whole digests, windows. The whole-disk digests are computed from
	 * the bytes, and only those: nothing else (a seal's claim, say) may be written into
	 * them, as reports present them as the disk's. */
	struct rp_pipe_result pipe;
	uint64_t bytes_fetched;
	uint64_t bytes_skipped; /* never written: not fetched */
	uint64_t bytes_resumed; /* verified by an earlier run: read back, not fetched */
	uint64_t chunks_fetched;
	uint64_t retries;
	bool source_changed; /* a range answered 412, or with another ETag or Last-Modified:
			      * the blob is no longer the one we began */
	double seconds;
};

/* Run the engine; result must be released whatever the return value. */
int rp_fetch_run(const struct rp_fetch_opts *o, struct rp_fetch_result *r, struct rp_err *err);
void rp_fetch_result_release(struct rp_fetch_result *r);

#endif
