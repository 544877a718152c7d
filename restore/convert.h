/*
 * convert: copy the virtual disk of an opened image into a new file, as an Azure-ready fixed
 * VHD (virtual size rounded up to a whole MiB, zero padded, fixed footer) or as raw bytes
 * (exactly the virtual size). Zero and unallocated chunks become holes. The output is written to
 * OUT.partial and renamed to OUT only when complete; on any failure the partial file is removed
 * and OUT is untouched. An existing OUT is an error unless force.
 */
#ifndef RP_RESTORE_CONVERT_H
#define RP_RESTORE_CONVERT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "formats/image.h"
#include "verify/scan.h"

enum rp_convert_to {
	RP_CONVERT_VHD,
	RP_CONVERT_RAW,
};

struct rp_convert_opts {
	enum rp_convert_to to;
	bool force;
	bool no_sync;		      /* skip writeback and fsync: faster, but not crash-safe */
	unsigned threads;	      /* 0: number of online CPUs */
	const struct rp_seal *expect; /* every chunk must match this seal, or OUT is not made */
	unsigned out_mode;	      /* permissions of OUT (before the umask); 0: 0644 */
	rp_scan_progress_fn progress;
	void *progress_ctx;
	volatile sig_atomic_t *stop;
};

struct rp_convert_result {
	uint64_t virtual_size; /* of the input */
	uint64_t output_size;  /* file size written */
	uint64_t bytes_written;
	uint64_t bytes_holes;
	uint64_t chunks_compared;
	double seconds;
};

int rp_convert(struct rp_image *img, const char *out_path, const struct rp_convert_opts *opts,
	       struct rp_convert_result *result, struct rp_err *err);

#endif
