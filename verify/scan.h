/*
 * A pass over a local image: the chunk pipeline (verify/pipeline.h) fed by the image reader
 * (rp_image_read, skipping unallocated extents). Worker threads (one per core by default) read,
 * hash, compare with a seal and hand chunks to an optional sink in any order; the in-order
 * digester computes the whole-disk digests. Memory is bounded by threads * 2 * chunk size
 * whatever the image size.
 *
 * Used by seal (chunk digests + whole-disk digests), verify (compare with a seal, or whole-disk
 * digests) and convert (sink writes the chunks).
 */
#ifndef RP_VERIFY_SCAN_H
#define RP_VERIFY_SCAN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "formats/image.h"
#include "formats/seal.h"
#include "verify/digest.h"
#include "verify/pipeline.h"

/*
 * Called from a worker thread for every chunk, in any order, possibly concurrently: data is the
 * chunk's bytes, or NULL when the chunk is all zeros or unallocated (state says which).
 * Return 0, or an error code (with err filled) to stop the scan. (The write of the pipeline's
 * sink, verify/pipeline.h.)
 */
typedef int (*rp_scan_sink_fn)(void *ctx, uint64_t index, uint64_t offset, const uint8_t *data,
			       size_t len, enum rp_chunk_state state, struct rp_err *err);

struct rp_scan_opts {
	uint64_t chunk_size;	      /* 0: 4 MiB, or the seal's chunk size when comparing */
	unsigned threads;	      /* 0: number of online CPUs */
	bool chunk_digests;	      /* compute each chunk's SHA-256 (into result->pipe.seal) */
	unsigned whole_digests;	      /* bit mask of (1u << RP_DIGEST_*) to compute in order */
	const struct rp_seal *expect; /* compare each chunk with this seal (NULL: no comparison) */
	rp_scan_sink_fn sink;
	void *sink_ctx;
	rp_scan_progress_fn progress;
	void *progress_ctx;
	volatile sig_atomic_t *stop; /* set non-zero (by a signal handler) to stop with RP_EINTR */
	/* NULL: every chunk. With a selection, whole_digests and hash_window must be 0 (a digest
	 * of a disk with holes in it proves nothing), else RP_EUSAGE. */
	rp_scan_select_fn select;
	void *select_ctx;
	/* Piecewise SHA-256 over windows of this many bytes (a multiple of 512; 0: none), in the
	 * in-order pass; the last window may be shorter. Into result->pipe.windows. */
	uint64_t hash_window;
	/* The whole-disk identity (seal-sha256) from the chunk records, O(chunks), into
	 * result->pipe.identity; implies chunk_digests; not computed when a selection skipped
	 * chunks. */
	bool identity;
};

struct rp_scan_result {
	/* The pipeline's result: seal, mismatches, whole digests, windows, identity (the
	 * identity when opts->identity; chunks_skipped: not selected). */
	struct rp_pipe_result pipe;
	uint64_t bytes_read;	/* bytes read from the image */
	uint64_t bytes_skipped; /* unallocated bytes not read */
	double seconds;
};

/*
 * Run the pipeline over img. Returns 0 when every chunk was processed (mismatches against
 * opts->expect are counted in result, not errors), RP_EVERIFY if the seal is for a disk of
 * another virtual size (this is not the sealed disk), RP_EUSAGE if opts->chunk_size differs from
 * the seal's, RP_EINTR when stopped, or the first error of a read or the sink. result must be
 * released with rp_scan_result_release whatever the return value.
 */
int rp_scan_run(struct rp_image *img, const struct rp_scan_opts *opts,
		struct rp_scan_result *result, struct rp_err *err);

void rp_scan_result_release(struct rp_scan_result *result);

#endif
