/*
 * The chunk pipeline: one engine for every pass over a disk's chunks, whatever feeds it: the
 * local image reader (verify/scan.h), the libcurl transfer engine (restore/fetch.h) and the
 * client-side decryption of a local copy (restore/cse.h).
 *
 * It holds the chunk slots (one buffer each), the worker threads that check them, the
 * in-order digester (whole-disk digests and hash windows), the comparison with a seal, the
 * mismatch list (the lowest chunk indices, sorted by index), progress, and one sink.
 *
 * Slot life cycle. A slot changes state only through one function (pipe_set in pipeline.c,
 * which asserts the transition; curl's lib/multi.c mstate() is the model):
 *
 *   FREE -> FILL      the source fills it: a worker reading (sync source), or a transfer
 *   FILL -> WAIT      a transfer failed; backoff (async source)     WAIT -> FILL
 *   FILL -> CHECK_Q   filled: a worker checks it (async source); also FREE -> CHECK_Q for a
 *                     chunk read back from the sink (a resume)
 *   CHECK_Q -> CHECKING -> CHECKED   the worker's verdict for the source's driver (async)
 *   FILL -> DIGEST or FREE   a sync source's worker read, checked and sank it in one go
 *   CHECKING/CHECKED -> DIGEST -> FREE   committed; the digester consumes it in chunk order
 *   CHECKING/CHECKED -> FREE            committed, without whole digests
 *   CHECKED -> WAIT                     the driver fetches it again
 *
 * Chunks are handed to slots in increasing index order and every chunk from the digester's
 * next one up to the last handed out holds a slot or was committed without one (a hole), so
 * the chunk the digester waits for is always in the hands of someone who waits for nothing.
 */
#ifndef RP_VERIFY_PIPELINE_H
#define RP_VERIFY_PIPELINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "formats/seal.h"
#include "verify/digest.h"

/* Called from the coordinating thread now and then: bytes done out of total. */
typedef void (*rp_scan_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* What a selection callback says about a chunk. */
enum rp_chunk_pick {
	RP_PICK_SKIP = 0,  /* neither read nor compared nor sunk */
	RP_PICK_CHECK = 1, /* process it */
	RP_PICK_STOP = 2,  /* a budget ran out: this chunk and every later one are skipped */
};

/*
 * Which chunks to process (verify --sample, --rolling, --shard, --max-duration): called once per
 * chunk, in increasing index order, while the pipeline holds its lock (so it must be quick and
 * must not call back into the pipeline). Returns an enum rp_chunk_pick.
 */
typedef int (*rp_scan_select_fn)(void *ctx, uint64_t index);

/* The one sink: where verified chunks go (restore's file sink with its journal, convert's). */
struct rp_chunk_sink {
	/* Write a verified chunk of the given state (data NULL unless RP_CHUNK_DATA: zeros or
	 * unallocated, a hole). From worker threads, in any order, possibly concurrently. */
	int (*write)(void *ctx, uint64_t index, uint64_t off, const uint8_t *data, size_t len,
		     enum rp_chunk_state state, struct rp_err *err);
	/* Read back a chunk verified by an earlier run (resume); NULL if there is none. */
	int (*read_back)(void *ctx, uint64_t off, uint8_t *buf, size_t len, struct rp_err *err);
	/* True if chunk index was verified and written by an earlier run. */
	bool (*done_before)(void *ctx, uint64_t index);
	/* Chunk index is now verified and on its way to disk; got says what was written (its
	 * state and SHA-256; NULL for a hole). From worker threads. */
	void (*verified)(void *ctx, uint64_t index, const struct rp_seal_chunk *got);
	/* Chunk index, verified by an earlier run, no longer checks out: forget it. */
	void (*unverified)(void *ctx, uint64_t index);
	/* Called from the transfer thread about once a second (journal upkeep); may be NULL. */
	int (*tick)(void *ctx, struct rp_err *err);
	void *ctx;
};

struct rp_scan_mismatch {
	uint64_t index;
	uint64_t offset;
	uint64_t length;
	uint8_t expected_state;
	uint8_t actual_state;
	uint8_t expected[32];
	uint8_t actual[32];
};

#define RP_SCAN_MAX_MISMATCHES 1000
#define RP_SCAN_MAX_WINDOWS (1u << 24)

enum rp_slot_state {
	RP_SLOT_FREE,
	RP_SLOT_FILL,
	RP_SLOT_WAIT,
	RP_SLOT_CHECK_Q,
	RP_SLOT_CHECKING,
	RP_SLOT_CHECKED,
	RP_SLOT_DIGEST,
};

/* A chunk that differs from the seal: */
enum rp_pipe_on_mismatch {
	RP_MM_RECORD, /* is a finding: recorded, and the chunk goes on (to the sink) */
	RP_MM_FAIL,   /* fails the run at once */
	RP_MM_VERDICT /* is the worker's verdict for the driver (which may fetch it again) */
};

struct rp_pipe_slot {
	enum rp_slot_state state; /* read it under the pipeline's lock; change it with
				   * rp_pipe_set */
	unsigned id;		  /* index of the slot */
	uint8_t *buf;
	uint8_t *data; /* the chunk's bytes: buf, or inside buf (decrypted); NULL: unallocated */
	uint64_t chunk;
	uint64_t off; /* offset and length of the chunk in the disk */
	size_t len;
	bool read_back; /* verified by an earlier run: read back from the sink, not fetched */
	/* A sync source's read may set it with data NULL: the unallocated range around the chunk
	 * ends there (0: unknown). Later chunks inside it are then committed as holes at once,
	 * without a slot or a read each (when there is no sink and no selection). */
	uint64_t hole_end;
	/* The worker's verdict (async sources): 0, or a code with err (reason: which check). */
	int check_rc;
	bool check_retryable; /* false: the sink failed, fetching again cannot help */
	struct rp_err check_err;
	struct rp_seal_chunk actual;
};

struct rp_pipe_opts {
	uint64_t size; /* bytes of the disk */
	uint64_t chunk_size;
	unsigned workers; /* 0: number of online CPUs (at most 256) */
	unsigned slots;	  /* 0: 2 per worker (1 without whole digests) */
	size_t buf_extra; /* bytes more per buffer than a chunk (an encrypted region's nonce
			   * and tag) */
	bool huge_bufs;	  /* 2 MiB aligned buffers, huge pages where the kernel allows */
	bool wipe_bufs;	  /* clear the buffers before they are freed (plaintext of a secret) */
	bool hash_chunks; /* each chunk's SHA-256 (always with expect) */
	unsigned whole_digests; /* (1u << RP_DIGEST_*) in chunk order */
	uint64_t hash_window;	/* piecewise SHA-256 windows (a multiple of 512; 0: none) */
	const struct rp_seal *expect;
	enum rp_pipe_on_mismatch on_mismatch;
	bool keep_going; /* RP_MM_VERDICT: a hole that differs from the seal is a finding */
	struct rp_chunk_sink sink;
	rp_scan_select_fn select; /* NULL: every chunk; needs no whole digests nor windows */
	void *select_ctx;
	rp_scan_progress_fn progress; /* sync sources: about every 200 ms, and at the end */
	void *progress_ctx;
	volatile sig_atomic_t *stop; /* set non-zero (by a signal handler) to stop (RP_EINTR) */
	/*
	 * A sync source: fill the slot's chunk in a worker thread: set s->data (NULL: the chunk
	 * is unallocated, zeros not read) and return 0, or an error (err filled).
	 */
	int (*read)(void *ctx, struct rp_pipe_slot *s, struct rp_err *err);
	/* An async source: check a filled slot in a worker before the pipeline's own checks
	 * (the transport hash, decryption); sets s->data. May be NULL. */
	int (*check)(void *ctx, struct rp_pipe_slot *s, struct rp_err *err);
	void *src_ctx;
	/* An async source: a slot became CHECKED or FREE (the driver may wait in poll). */
	void (*wakeup)(void *ctx);
	void *wakeup_ctx;
};

/* What a pass found; each source's result embeds it as its pipe member (verify/scan.h,
 * restore/fetch.h), filled by rp_pipe_finish. */
struct rp_pipe_result {
	struct rp_seal *seal; /* chunk states (and SHA-256 when hashed), whole digests */
	/* The whole-disk identity (seal-sha256, also in seal->identity): computed from the chunk
	 * records, O(chunks), when every chunk was hashed (hash_chunks or expect) and none was
	 * skipped by a selection. */
	bool identity_done;
	uint8_t identity[32];
	uint64_t chunks_compared;
	uint64_t chunks_skipped; /* not selected */
	size_t mismatch_count;
	struct rp_scan_mismatch *mismatches; /* the lowest RP_SCAN_MAX_MISMATCHES, by index */
	bool whole_done[RP_DIGEST_COUNT];
	uint8_t whole[RP_DIGEST_COUNT][RP_DIGEST_MAX];
	uint8_t *windows; /* window_count SHA-256 digests of 32 bytes (hash_window) */
	uint64_t window_count;
};

struct rp_pipe;

/* Check the options and allocate; RP_EUSAGE for options that do not fit together. */
int rp_pipe_new(const struct rp_pipe_opts *o, struct rp_pipe **out, struct rp_err *err);
void rp_pipe_free(struct rp_pipe *p);

/* A sync source: run every chunk through; returns 0 or the first failure (in err). */
int rp_pipe_run(struct rp_pipe *p, struct rp_err *err);

/* An async source: start the workers and the digester, ... */
int rp_pipe_start(struct rp_pipe *p, struct rp_err *err);
/* ... then, from the driver's thread, in increasing chunk order: */
uint64_t rp_pipe_next(const struct rp_pipe *p); /* the next chunk to hand out */
bool rp_pipe_pick(struct rp_pipe *p);		/* select it? (false: skipped, counted as done) */
/* The next chunk is never written in the source (a hole): committed as unallocated. */
int rp_pipe_hole(struct rp_pipe *p, struct rp_err *err);
/* A free slot for the next chunk (NULL: none free), in state FILL. */
struct rp_pipe_slot *rp_pipe_take(struct rp_pipe *p);
/* ... the driver moves its slots (FILL -> CHECK_Q, CHECKED -> WAIT, WAIT -> FILL): */
void rp_pipe_set(struct rp_pipe *p, struct rp_pipe_slot *s, enum rp_slot_state to);
/* Calls fn for each CHECKED slot, lock not held; fn commits, retries or fails it. */
void rp_pipe_each_checked(struct rp_pipe *p, void (*fn)(void *ctx, struct rp_pipe_slot *s),
			  void *ctx);
/* A slot's chunk is done (CHECKED -> DIGEST or FREE). */
void rp_pipe_commit(struct rp_pipe *p, struct rp_pipe_slot *s);
/* A chunk that differs from the seal is a finding (the slot's actual against expect). */
void rp_pipe_mismatch(struct rp_pipe *p, const struct rp_pipe_slot *s);
/* True when every chunk is done and digested. */
bool rp_pipe_done(struct rp_pipe *p);
uint64_t rp_pipe_done_bytes(struct rp_pipe *p);
struct rp_pipe_slot *rp_pipe_slot(struct rp_pipe *p, unsigned id);
unsigned rp_pipe_slots(const struct rp_pipe *p);
/* Stop the workers and the digester and wait for them (any time; idempotent). */
void rp_pipe_stop(struct rp_pipe *p);

/* Record a failure (the first one wins) and stop everyone. */
void rp_pipe_fail(struct rp_pipe *p, const struct rp_err *err);
/* The first failure's code (0: none), and err. */
int rp_pipe_failed(struct rp_pipe *p, struct rp_err *err);

/* After the run, the results (moved into r; release with rp_pipe_result_release): after a
 * failure, only the chunks done so far and the mismatches, and its code is returned. r is
 * usually the pipe member of the source's own result (rp_scan_result, rp_fetch_result). */
int rp_pipe_finish(struct rp_pipe *p, struct rp_pipe_result *r, struct rp_err *err);
void rp_pipe_result_release(struct rp_pipe_result *r);

/*
 * Random access, "read chunk i, verified": the pipeline's own checks of one chunk, for readers
 * that need a few chunks rather than a pass (restore/blob_read.h: verify --luks-* over a URL).
 * rp_chunk_classify says what data[0..len) is (NULL: unallocated; zeros; data, with its SHA-256
 * when hash); rp_chunk_verify also compares it with chunk i of expect (NULL: no seal):
 * RP_EVERIFY, reason RP_R_SEAL_MISMATCH, "chunk I at 0xOFF: sha256 mismatch with the seal".
 */
int rp_chunk_classify(const uint8_t *data, size_t len, bool hash, struct rp_seal_chunk *got,
		      struct rp_err *err);
int rp_chunk_verify(const struct rp_seal *expect, uint64_t i, const uint8_t *data, size_t len,
		    struct rp_seal_chunk *got, struct rp_err *err);

/*
 * The seal's whole-disk digests against those a pass computed (done says which): from
 * algorithm *alg on, the first the seal has, the pass computed, and that differs; true with
 * *alg set to it, false when none is left. Loop with ++alg for every one.
 */
bool rp_whole_differs(const struct rp_seal *seal, const bool done[RP_DIGEST_COUNT],
		      const uint8_t whole[RP_DIGEST_COUNT][RP_DIGEST_MAX], unsigned *alg);

/*
 * The whole-disk identity of s (seal-sha256, docs/seal.md): SHA-256 over a fixed header (the
 * domain string, chunk size, virtual size) and each chunk's record in order (a data chunk: 'D'
 * and its SHA-256; a zero or unallocated one: 'Z'). O(chunks): no byte of the disk is read.
 */
int rp_seal_identity(const struct rp_seal *s, uint8_t out[32], struct rp_err *err);

/* The seal's whole-disk digest of alg (rp_digest_size bytes). */
const uint8_t *rp_seal_whole(const struct rp_seal *seal, enum rp_digest_alg alg);

/* Does got agree with the seal's want (zeros and unallocated are the same)? */
bool rp_seal_chunk_same(const struct rp_seal_chunk *want, const struct rp_seal_chunk *got);

#endif
