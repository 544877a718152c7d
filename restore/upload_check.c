/*
 * The upload's post-check (restore/upload.h): the target's page ranges against the pages sent,
 * page by page, then chunks read back and compared by SHA-256 with the seal or the image.
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
		struct rp_seal_chunk want;
		const struct rp_seal_chunk *sc = &want;
		const uint8_t *remote = local + RP_UPLOAD_CHUNK;

		rp_seal_chunk_get(u->o->seal, c, &want);
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

#define PAGES_PER_CHUNK (RP_UPLOAD_CHUNK / VHD_SECTOR)

/* The pages the target lists in the window of the plan being read, one bit per 512 bytes. */
struct listed {
	uint64_t win; /* the window's first byte */
	uint8_t *pages;
};

/* Set bits [from, to) of b: whole bytes at once, so a long range costs little. */
static void set_bits(uint8_t *b, uint64_t from, uint64_t to)
{
	for (; from < to && from % 8; from++)
		b[from / 8] |= (uint8_t)(1u << (from % 8));
	if (to - from >= 8) {
		memset(b + from / 8, 0xff, (size_t)((to - from) / 8));
		from += (to - from) / 8 * 8;
	}
	for (; from < to; from++)
		b[from / 8] |= (uint8_t)(1u << (from % 8));
}

static void on_range(void *ctx, uint64_t start, uint64_t end)
{
	struct listed *l = ctx;

	/* The plan clips each range to the window it lists, the one set up below. */
	if (start < l->win || end < start || end >= l->win + RP_UP_PLAN_WINDOW)
		return;
	set_bits(l->pages, (start - l->win) / VHD_SECTOR, (end - l->win) / VHD_SECTOR + 1);
}

static bool page_bit(const uint8_t *b, uint64_t i)
{
	return (b[i / 8] >> (i % 8)) & 1;
}

/*
 * Chunk c, page by page: the pages the upload sent (the spans of the image's chunk, exactly as
 * the workers cut them, merged zero gaps included; none for a chunk without data) must be the
 * pages the target lists. Each run of pages that differs is a difference: sent but not listed
 * (a Put Page acknowledged and not stored), or listed but not sent.
 */
static int compare_pages(struct up *u, const struct listed *l, uint64_t c, uint8_t *buf,
			 struct rp_upload_span *spans, struct rp_err *err)
{
	uint8_t sent[PAGES_PER_CHUNK / 8];
	uint64_t off = c * RP_UPLOAD_CHUNK, base = (off - l->win) / VHD_SECTOR, i, j, np;
	size_t len, n = 0, k;
	int rc;

	memset(sent, 0, sizeof(sent));
	len = (size_t)(off + RP_UPLOAD_CHUNK < u->blob_size ? RP_UPLOAD_CHUNK : u->blob_size - off);
	if (rp_up_bit(u->data, c)) {
		rc = rp_up_read_chunk(u, buf, c, &len, err);
		if (rc)
			return rc;
		n = rp_upload_spans(buf, len, RP_UPLOAD_MERGE_GAP, spans, PAGES_PER_CHUNK);
		for (k = 0; k < n && k < PAGES_PER_CHUNK; k++)
			set_bits(sent, spans[k].off / VHD_SECTOR,
				 ((uint64_t)spans[k].off + spans[k].len) / VHD_SECTOR);
	}
	np = (len + VHD_SECTOR - 1) / VHD_SECTOR;
	for (i = 0; i < np; i = j) {
		bool s = page_bit(sent, i), t = page_bit(l->pages, base + i);

		for (j = i + 1;
		     j < np && page_bit(sent, j) == s && page_bit(l->pages, base + j) == t; j++)
			;
		if (s == t)
			continue;
		if (s) {
			u->rep->bytes_unlisted += (j - i) * VHD_SECTOR;
			mismatch(u,
				 "0x%" PRIx64 ": %" PRIu64 " bytes were sent and acknowledged but "
				 "the target does not list them (a Put Page was not stored)",
				 off + i * VHD_SECTOR, (j - i) * VHD_SECTOR);
		} else {
			u->rep->bytes_unsent += (j - i) * VHD_SECTOR;
			mismatch(u,
				 "0x%" PRIx64 ": the target lists %" PRIu64 " bytes that were not "
				 "sent (%s)",
				 off + i * VHD_SECTOR, (j - i) * VHD_SECTOR,
				 u->rep->created ? "on a page blob this upload created"
						 : "pages the target held were not cleared");
		}
	}
	return 0;
}

/* The target's pages against the pages sent, in one listing of its page ranges. */
static int check_pages(struct up *u, struct rp_err *err)
{
	struct rp_upload_span *spans = calloc(PAGES_PER_CHUNK, sizeof(*spans));
	struct listed l = {.win = UINT64_MAX, .pages = malloc(RP_UP_PLAN_WINDOW / VHD_SECTOR / 8)};
	uint8_t *buf = malloc(RP_UPLOAD_CHUNK);
	struct rp_page_plan *after = NULL;
	uint64_t c;
	int rc = 0;

	if (!spans || !l.pages || !buf)
		rc = rp_err_set(err, RP_EIO, "out of memory");
	if (rc == 0)
		rc = rp_page_plan_new(&u->blob, u->blob_size, RP_UPLOAD_CHUNK, RP_UP_PLAN_WINDOW,
				      &after, err);
	if (rc == 0)
		rp_page_plan_on_range(after, on_range, &l);
	for (c = 0; rc == 0 && c < u->nchunks; c++) {
		uint64_t win = c * RP_UPLOAD_CHUNK / RP_UP_PLAN_WINDOW * RP_UP_PLAN_WINDOW;
		bool alloc = false;

		/* A new window: its ranges arrive during the plan query below. */
		if (win != l.win) {
			l.win = win;
			memset(l.pages, 0, RP_UP_PLAN_WINDOW / VHD_SECTOR / 8);
		}
		rc = rp_page_plan_chunk(after, c, &alloc, err);
		/* Nothing sent and nothing listed: nothing to compare (most of a sparse disk). */
		if (rc == 0 && (alloc || rp_up_bit(u->data, c)))
			rc = compare_pages(u, &l, c, buf, spans, err);
	}
	if (rc == 0)
		u->rep->ranges_listed = rp_page_plan_written(after);
	rp_page_plan_free(after);
	free(spans);
	free(l.pages);
	free(buf);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The post-check: the target's page ranges against the pages sent, page by page, then the data
 * chunks read back (every one with verify_all; else the first, the last and a random sample
 * chosen by reservoir sampling in one pass, each chunk once). The report says how many of the
 * chunks with data were read back.
 */
int rp_up_post_check(struct up *u, struct rp_err *err)
{
	const struct rp_upload_opts *o = u->o;
	uint64_t pick[RP_UPLOAD_SAMPLE + 2], seen = 0, c, first = UINT64_MAX, last = 0;
	size_t npick = 0, i;
	unsigned seed = 0;
	uint8_t *buf;
	bool by_seal;
	int rc;

	rc = check_pages(u, err);
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
		u->rep->chunks_data++;
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
	/* Each chunk once: the first and the last may be in the sample already. */
	qsort(pick, npick, sizeof(pick[0]), cmp_u64);
	for (i = 0; i < npick && rc == 0; i++)
		if (i == 0 || pick[i] != pick[i - 1])
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
