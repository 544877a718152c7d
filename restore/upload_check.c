/*
 * The upload's post-check (restore/upload.h): the target's page ranges against the image's
 * non-zero chunks, then chunks read back and compared by SHA-256 with the seal or the image.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "formats/vhd.h"
#include "restore/upload_int.h"
#include "verify/digest.h"

static void mismatch(struct up *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mismatch(struct up *u, const char *fmt, ...)
{
	va_list ap;

	if (u->rep->check_mismatches++ == 0) {
		va_start(ap, fmt);
		vsnprintf(u->rep->check_first, sizeof(u->rep->check_first), fmt, ap);
		va_end(ap);
	}
}

/* Read chunk c back from the target and compare it with the seal or the local image. */
static int check_chunk(struct up *u, uint64_t c, uint8_t *local, bool by_seal, struct rp_err *err)
{
	uint64_t off = c * RP_UPLOAD_CHUNK, vsize = u->blob_size - VHD_FOOTER_SIZE;
	struct rp_http_response r;
	uint8_t a[32], b[32];
	size_t len = 0, dlen;
	int rc;

	rc = rp_up_read_chunk(u, local, c, &len, err);
	if (rc == 0)
		rc = rp_blob_get_range(&u->blob, off, len, NULL, 0, local + RP_UPLOAD_CHUNK, &r,
				       err);
	if (rc)
		return rc;
	rp_http_response_release(&r);
	u->rep->chunks_checked++;
	/* The chunk holding only the footer is not in the seal: it is compared with the image. */
	if (by_seal && c < u->o->seal->chunk_count) {
		const struct rp_seal_chunk *sc = &u->o->seal->chunks[c];
		const uint8_t *remote = local + RP_UPLOAD_CHUNK;

		dlen = off + len > vsize ? (size_t)(vsize - off) : len;
		rp_sha256(remote, dlen, a);
		if (sc->state == RP_CHUNK_DATA ? memcmp(a, sc->sha256, 32) != 0
					       : !rp_is_zero(remote, dlen)) {
			char hex[65];
			rp_hex(a, 32, hex);
			mismatch(u,
				 "chunk %" PRIu64 " at 0x%" PRIx64 ": the target's sha256 %s "
				 "differs from the seal's",
				 c, off, hex);
		} else if (dlen < len && memcmp(remote + dlen, local + dlen, len - dlen) != 0) {
			mismatch(u, "the target's vhd footer differs from the image's");
		}
		return 0;
	}
	rp_sha256(local, len, a);
	rp_sha256(local + RP_UPLOAD_CHUNK, len, b);
	if (memcmp(a, b, 32) != 0) {
		char ha[65], hb[65];
		rp_hex(a, 32, ha);
		rp_hex(b, 32, hb);
		mismatch(u,
			 "chunk %" PRIu64 " at 0x%" PRIx64 ": the target's sha256 %s differs "
			 "from the image's %s",
			 c, off, hb, ha);
	}
	return 0;
}

/*
 * The post-check: the target's page ranges against the image's non-zero chunks, then the data
 * chunks read back (every one with verify_all; else the first, the last and a random sample
 * chosen by reservoir sampling in one pass).
 */
int rp_up_post_check(struct up *u, struct rp_err *err)
{
	const struct rp_upload_opts *o = u->o;
	uint64_t pick[RP_UPLOAD_SAMPLE + 2], seen = 0, c, first = UINT64_MAX, last = 0;
	struct rp_page_plan *after = NULL;
	size_t npick = 0, i;
	unsigned seed = 0;
	uint8_t *buf;
	bool by_seal;
	int rc;

	rc = rp_page_plan_new(&u->blob, u->blob_size, RP_UPLOAD_CHUNK, RP_UP_PLAN_WINDOW, &after,
			      err);
	for (c = 0; rc == 0 && c < u->nchunks; c++) {
		bool alloc = false;
		rc = rp_page_plan_chunk(after, c, &alloc, err);
		if (rc == 0 && alloc != rp_up_bit(u->data, c))
			mismatch(u,
				 "chunk %" PRIu64 " at 0x%" PRIx64 ": the target lists %s where "
				 "the image has %s",
				 c, c * RP_UPLOAD_CHUNK, alloc ? "pages" : "no pages",
				 alloc ? "only zeros" : "data");
	}
	if (rc == 0)
		u->rep->ranges_listed = rp_page_plan_written(after);
	rp_page_plan_free(after);
	if (rc) {
		rp_err_prefix(err, "post-check");
		return rc;
	}
	by_seal = o->seal && o->kind == RP_UPLOAD_DISK && o->seal->chunk_size == RP_UPLOAD_CHUNK &&
		  o->seal->virtual_size == u->blob_size - VHD_FOOTER_SIZE;
	u->rep->check_against = by_seal ? "seal" : "image";
	buf = malloc(2 * (size_t)RP_UPLOAD_CHUNK);
	if (!buf)
		return rp_err_set(err, RP_EIO, "out of memory");
	rp_random_bytes(&seed, sizeof(seed), NULL);
	for (c = 0; c < u->nchunks && rc == 0; c++) {
		if (!rp_up_bit(u->data, c))
			continue;
		if (o->verify_all) {
			rc = check_chunk(u, c, buf, by_seal, err);
			continue;
		}
		if (first == UINT64_MAX)
			first = c;
		last = c;
		if (npick < RP_UPLOAD_SAMPLE)
			pick[npick++] = c;
		else if ((uint64_t)rand_r(&seed) % (seen + 1) < RP_UPLOAD_SAMPLE)
			pick[(unsigned)rand_r(&seed) % RP_UPLOAD_SAMPLE] = c;
		seen++;
	}
	if (!o->verify_all && first != UINT64_MAX) {
		pick[npick++] = first;
		pick[npick++] = last;
	}
	for (i = 0; i < npick && rc == 0; i++)
		rc = check_chunk(u, pick[i], buf, by_seal, err);
	free(buf);
	if (rc) {
		rp_err_prefix(err, "post-check");
		return rc;
	}
	if (u->rep->check_mismatches)
		return rp_err_set(err, RP_EVERIFY, "%s: post-check: %" PRIu64 " difference%s; %s",
				  u->display, u->rep->check_mismatches,
				  u->rep->check_mismatches == 1 ? "" : "s", u->rep->check_first);
	return 0;
}
