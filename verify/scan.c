/*
 * A pass over a local image (see scan.h): the image reader is the chunk pipeline's source
 * (verify/pipeline.h), which does everything else.
 */
#include "verify/scan.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"

#define SCAN_DEFAULT_CHUNK RP_CHUNK_DEFAULT

struct scan_src {
	struct rp_image *img;
	uint64_t bytes_read, bytes_skipped; /* atomic */
};

/* Is any byte of [off, off+len) allocated? Walks the image's extents over the chunk. When none
 * is, *hole_end is where the unallocated range that holds the chunk ends. */
static int chunk_allocated(struct rp_image *img, uint64_t off, uint64_t len, bool *any,
			   uint64_t *hole_end, struct rp_err *err)
{
	uint64_t pos = off, end = off + len;

	*any = false;
	*hole_end = 0;
	while (pos < end) {
		bool alloc = false;
		uint64_t run = 0;
		int rc = rp_image_extent(img, pos, &alloc, &run, err);
		if (rc)
			return rc;
		if (alloc) {
			*any = true;
			return 0;
		}
		/* A zero run would loop forever: the image layer promised at least a sector. */
		if (run == 0)
			return rp_err_set(err, RP_EIO,
					  "image extent at 0x%" PRIx64 " has an empty run", pos);
		*hole_end = pos + run;
		pos += run < end - pos ? run : end - pos;
	}
	return 0;
}

/* The pipeline's sync source: read chunk s->chunk, or say it is unallocated (data NULL). */
static int scan_read(void *ctx, struct rp_pipe_slot *s, struct rp_err *err)
{
	struct scan_src *src = ctx;
	bool any = false;
	int rc;

	rc = chunk_allocated(src->img, s->off, s->len, &any, &s->hole_end, err);
	if (rc == 0 && !any) {
		s->data = NULL;
		__atomic_add_fetch(&src->bytes_skipped, s->len, __ATOMIC_RELAXED);
		return 0;
	}
	if (rc == 0)
		rc = rp_image_read(src->img, s->buf, s->len, s->off, err);
	if (rc) {
		rp_err_prefix(err, "chunk %" PRIu64 " at 0x%" PRIx64, s->chunk, s->off);
		return rc;
	}
	__atomic_add_fetch(&src->bytes_read, s->len, __ATOMIC_RELAXED);
	return 0;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The pipeline's options for img: the chunk size is the seal's when comparing. */
static int scan_opts(struct rp_image *img, const struct rp_scan_opts *o, struct scan_src *src,
		     struct rp_pipe_opts *po, struct rp_err *err)
{
	const struct rp_seal *e = o->expect;

	memset(po, 0, sizeof(*po));
	po->size = rp_image_virtual_size(img);
	po->chunk_size = o->chunk_size ? o->chunk_size : SCAN_DEFAULT_CHUNK;
	if (e) {
		/* Not a usage error: the seal names content, and a disk of another size is not
		 * the disk that was sealed (docs/seal.md, exit 1 as from the command line). */
		if (e->virtual_size != po->size)
			return rp_err_set(err, RP_EVERIFY,
					  "seal is for a disk of %" PRIu64
					  " bytes, this image has %" PRIu64,
					  e->virtual_size, po->size);
		if (o->chunk_size && o->chunk_size != e->chunk_size)
			return rp_err_set(err, RP_EUSAGE,
					  "chunk size %" PRIu64 " differs from the seal's %" PRIu64,
					  o->chunk_size, e->chunk_size);
		po->chunk_size = e->chunk_size;
		if (e->chunk_count != rp_seal_chunks_for(po->size, po->chunk_size))
			return rp_err_set(
			    err, RP_EUSAGE, "seal has %" PRIu64 " chunks, expected %" PRIu64,
			    e->chunk_count, rp_seal_chunks_for(po->size, po->chunk_size));
	}
	po->workers = o->threads;
	po->hash_chunks = o->chunk_digests || o->identity;
	po->whole_digests = o->whole_digests;
	po->hash_window = o->hash_window;
	po->expect = e;
	po->on_mismatch = RP_MM_RECORD;
	po->sink.write = o->sink;
	po->sink.ctx = o->sink_ctx;
	po->select = o->select;
	po->select_ctx = o->select_ctx;
	po->progress = o->progress;
	po->progress_ctx = o->progress_ctx;
	po->stop = o->stop;
	po->read = scan_read;
	po->src_ctx = src;
	return 0;
}

int rp_scan_run(struct rp_image *img, const struct rp_scan_opts *opts,
		struct rp_scan_result *result, struct rp_err *err)
{
	struct scan_src src = {.img = img};
	struct rp_pipe_opts po;
	struct rp_pipe *p = NULL;
	struct timespec t0;
	int rc;

	memset(result, 0, sizeof(*result));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = scan_opts(img, opts, &src, &po, err);
	if (rc == 0)
		rc = rp_pipe_new(&po, &p, err);
	if (rc == 0) {
		int frc;

		rc = rp_pipe_run(p, err);
		/* After a failure too: the chunks done so far (no whole digests). */
		frc = rp_pipe_finish(p, &result->pipe, rc ? NULL : err);
		if (rc == 0)
			rc = frc;
		if (rp_image_path(img))
			snprintf(result->pipe.seal->source_name,
				 sizeof(result->pipe.seal->source_name), "%s", rp_image_path(img));
		snprintf(result->pipe.seal->source_format, sizeof(result->pipe.seal->source_format),
			 "%s", rp_image_format_name(img));
	}
	rp_pipe_free(p);
	result->bytes_read = src.bytes_read;
	/* Without a selection every chunk not read was unallocated, including those the pipeline
	 * committed as holes at once (pipeline.h, hole_end). */
	result->bytes_skipped =
	    rc == 0 && !opts->select ? po.size - src.bytes_read : src.bytes_skipped;
	result->seconds = seconds_since(&t0);
	return rc;
}

void rp_scan_result_release(struct rp_scan_result *result)
{
	if (!result)
		return;
	rp_pipe_result_release(&result->pipe);
	memset(result, 0, sizeof(*result));
}
