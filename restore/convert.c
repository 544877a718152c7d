#include "restore/convert.h"

#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/outfile.h"
#include "common/util.h"
#include "formats/vhd.h"
#include "restore/sink.h"

#define MIB (1024u * 1024)

/* The fixed VHD footer that follows data_size bytes of data. */
static int build_footer(uint64_t data_size, uint8_t footer[VHD_FOOTER_SIZE], struct rp_err *err)
{
	uint8_t uuid[16];
	time_t now = time(NULL);
	uint32_t stamp = now > VHD_EPOCH ? (uint32_t)(now - VHD_EPOCH) : 0;
	int rc;

	rc = rp_random_bytes(uuid, sizeof(uuid), err);
	if (rc)
		return rc;
	uuid[6] = (uint8_t)((uuid[6] & 0x0F) | 0x40); /* RFC 4122 version 4 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3F) | 0x80);
	vhd_footer_build_fixed(data_size, uuid, stamp, footer);
	return 0;
}

/*
 * Through restore's file sink (restore/sink.h) with the journal off: OUT.lock for the whole run,
 * a new OUT.partial sized up front (zero chunks and zero runs stay holes), written by the scan's
 * workers at their offsets, then the footer, fsync, rename to OUT and directory fsync. Nothing
 * is left behind on failure.
 */
int rp_convert(struct rp_image *img, const char *out_path, const struct rp_convert_opts *opts,
	       struct rp_convert_result *result, struct rp_err *err)
{
	uint64_t vsize = rp_image_virtual_size(img), data_size, file_size, written, holes;
	uint8_t footer[VHD_FOOTER_SIZE];
	struct rp_scan_opts so = {0};
	struct rp_scan_result sr = {0};
	struct rp_file_sink *sink = NULL;
	struct rp_chunk_sink cb;
	struct stat st;
	bool resumed;
	int rc;

	memset(result, 0, sizeof(*result));
	rc = rp_outfile_check_target(out_path, err);
	if (rc)
		return rc;
	if (stat(out_path, &st) == 0 && !opts->force)
		return rp_err_set_hint(err, RP_EUSAGE, RP_H_FORCE, "'%s' exists", out_path);
	if (opts->to == RP_CONVERT_VHD) {
		/* Azure takes fixed VHDs of a whole number of MiB (docs/azure.md). */
		if (vsize > UINT64_MAX - MIB)
			return rp_err_set(err, RP_EFORMAT, "virtual size %llu is too large",
					  (unsigned long long)vsize);
		data_size = (vsize + MIB - 1) / MIB * MIB;
		file_size = data_size + VHD_FOOTER_SIZE;
	} else {
		data_size = vsize;
		file_size = vsize;
	}
	{
		struct rp_sink_id id = {
		    .source = "",
		    .size = data_size,
		    .chunk_size = opts->expect ? opts->expect->chunk_size : RP_CHUNK_DEFAULT,
		    .output_format = opts->to == RP_CONVERT_VHD,
		    .no_journal = true,
		    .no_sync = opts->no_sync,
		    .mode = opts->out_mode ? opts->out_mode : 0644,
		};

		rc = rp_file_sink_open(out_path, &id, opts->force, &sink, &resumed, err);
	}
	if (rc)
		return rc;
	cb = rp_file_sink_callbacks(sink);
	so.threads = opts->threads;
	so.sink = cb.write;
	so.sink_ctx = cb.ctx;
	so.progress = opts->progress;
	so.progress_ctx = opts->progress_ctx;
	so.stop = opts->stop;
	so.expect = opts->expect;
	rc = rp_scan_run(img, &so, &sr, err);
	result->seconds = sr.seconds;
	result->chunks_compared = sr.pipe.chunks_compared;
	if (rc == 0 && sr.pipe.mismatch_count) {
		const struct rp_scan_mismatch *m = &sr.pipe.mismatches[0];
		rc = rp_err_set(
		    err, RP_EVERIFY,
		    "%zu chunks differ from the seal, the first chunk %llu at 0x%llx; '%s' "
		    "was not written",
		    sr.pipe.mismatch_count, (unsigned long long)m->index,
		    (unsigned long long)m->offset, out_path);
	}
	rp_scan_result_release(&sr);
	if (rc == 0 && opts->to == RP_CONVERT_VHD)
		rc = build_footer(data_size, footer, err);
	/* A signal that came after the last chunk still means "do not leave OUT behind". */
	if (rc == 0 && opts->stop && *opts->stop)
		rc = rp_err_set(err, RP_EINTR, "interrupted");
	if (rc == 0)
		rc = rp_file_sink_finish(sink, footer,
					 opts->to == RP_CONVERT_VHD ? VHD_FOOTER_SIZE : 0, err);
	rp_file_sink_counts(sink, &written, &holes);
	rp_file_sink_free(sink);
	if (rc)
		return rc;
	result->virtual_size = vsize;
	result->output_size = file_size;
	result->bytes_written = written;
	result->bytes_holes = holes + (data_size - vsize);
	return 0;
}
