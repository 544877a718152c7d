/*
 * The passes of `verify` over one disk, which the command line only calls: a local image through
 * the scan pipeline (verify/scan.h), a URL through the restore pipeline with no sink
 * (restore/restore.h), or a local copy of a client-side encrypted blob (restore/cse.h).
 *
 * One pass over the whole disk, or with a selection (verify/select.h: --sample, --rolling,
 * --shard, --max-*) one pass per tier until the caller's next() says there is no more. After
 * each pass the caller's merge() takes its chunk states and mismatches. A whole pass also gives
 * the whole-disk digests and hash windows, which the caller compares with the seal
 * (rp_whole_differs, verify/pipeline.h).
 */
#ifndef RP_RESTORE_VERIFY_RUN_H
#define RP_RESTORE_VERIFY_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "formats/image.h"
#include "restore/restore.h"
#include "verify/scan.h"

struct rp_verify_passes {
	/* A pass's chunk states (actual) and seal mismatches; 0 or an error that ends the run. */
	int (*merge)(void *ctx, const struct rp_seal *actual, const struct rp_scan_mismatch *mm,
		     size_t count, struct rp_err *err);
	/* Is there another pass (the next tier of a selection)? */
	bool (*next)(void *ctx);
	void *ctx;
};

/* What the passes found beside the chunks (filled as far as the run got). */
struct rp_verify_out {
	bool identity_done; /* the whole-disk identity (seal-sha256), O(chunks) */
	uint8_t identity[32];
	bool whole_done[RP_DIGEST_COUNT];
	uint8_t whole[RP_DIGEST_COUNT][RP_DIGEST_MAX];
	uint8_t *windows; /* window_count SHA-256 digests (owned: free) */
	uint64_t window_count;
	/* a URL or encrypted copy, from its first pass */
	bool described; /* the fields below are set */
	enum rp_transport_hash th;
	uint64_t blob_size;
	uint64_t virtual_size;
	bool is_vhd;
	char etag[128];
};

/*
 * The passes over a local image: o's select, whole_digests and hash_window as given (the
 * caller leaves the digests out of a partial selection). Returns 0, or the first error.
 */
int rp_verify_image(struct rp_image *img, const struct rp_scan_opts *o,
		    const struct rp_verify_passes *p, struct rp_verify_out *out,
		    struct rp_err *err);

/*
 * The passes over a URL (sidecar NULL) or a local encrypted copy with its metadata in sidecar:
 * o as for rp_restore_run without out (keep_going). A blob whose ETag changes between passes is
 * RP_EIO with reason RP_R_SOURCE_CHANGED. Seal mismatches are merged, not errors. Returns 0 or
 * the first error, whose reason (rp_err_reason_of) says which check failed.
 */
int rp_verify_stream(const struct rp_restore_opts *o, const char *sidecar,
		     const struct rp_verify_passes *p, struct rp_verify_out *out,
		     struct rp_err *err);

void rp_verify_out_release(struct rp_verify_out *out);

#endif
