/*
 * The verify report as JSON (docs/report.md), its human form, and the Prometheus textfile.
 */
#include "cli/cli_report_json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/outfile.h"
#include "common/util.h"
#include "common/version.h"
#include "formats/version.h"
#include "net/version.h"
#include "restore/restore.h"
#include "verify/version.h"

#ifndef RP_COMMIT
#define RP_COMMIT "unknown" /* CMakeLists.txt passes git's commit at configure time */
#endif

void cli_disk_reason(struct cli_disk_report *d, const char *code, const char *fmt, ...)
{
	struct cli_reason *r;
	va_list ap;

	if (d->nreasons >= CLI_REPORT_MAX_REASONS)
		return;
	r = &d->reasons[d->nreasons++];
	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

const char *cli_reason_for(int code)
{
	return rp_reason_name(rp_reason_of_code(code));
}

static bool is_zero_state(uint8_t s)
{
	return s != RP_CHUNK_DATA;
}

static bool chunk_mismatch(const struct cli_disk_report *d, uint64_t i)
{
	struct rp_seal_chunk w, g;

	if (!d->expect || !d->actual)
		return false;
	rp_seal_chunk_get(d->expect, i, &w);
	rp_seal_chunk_get(d->actual, i, &g);
	if (is_zero_state(w.state) || is_zero_state(g.state))
		return !(is_zero_state(w.state) && is_zero_state(g.state));
	return memcmp(w.sha256, g.sha256, 32) != 0;
}

/*
 * One character per chunk: 'X' checked and different from the seal, '.' checked and holding no
 * data (unallocated or zeros) or not checked and never written per the seal, 'v' checked with
 * data, '-' not checked this run.
 */
static char *chunk_map(const struct cli_disk_report *d)
{
	char *m = malloc((size_t)d->chunk_count + 1);
	uint64_t i;

	if (!m)
		return NULL;
	for (i = 0; i < d->chunk_count; i++) {
		if (d->all_checked || d->checked[i])
			m[i] = chunk_mismatch(d, i) ? RP_CSTATE_MISMATCH
			       : is_zero_state(rp_seal_chunk_state(d->actual, i))
				   ? RP_CSTATE_NEVER
				   : RP_CSTATE_VERIFIED;
		else
			m[i] = d->expect && is_zero_state(rp_seal_chunk_state(d->expect, i))
				   ? RP_CSTATE_NEVER
				   : RP_CSTATE_UNCHECKED;
	}
	m[d->chunk_count] = '\0';
	return m;
}

void cli_disk_totals(const struct cli_disk_report *d, uint64_t *checked, uint64_t *bytes)
{
	uint64_t i;

	*checked = 0;
	*bytes = 0;
	for (i = 0; d->ran && (d->checked || d->all_checked) && i < d->chunk_count; i++) {
		uint64_t off = i * d->chunk_size;
		if (!d->all_checked && !d->checked[i])
			continue;
		(*checked)++;
		*bytes +=
		    d->virtual_size - off < d->chunk_size ? d->virtual_size - off : d->chunk_size;
	}
}

static const char *state_text(uint8_t state, const uint8_t *digest, char *hex)
{
	if (state == RP_CHUNK_ZERO)
		return "zero";
	if (state == RP_CHUNK_UNALLOCATED)
		return "unallocated";
	rp_hex(digest, 32, hex);
	return hex;
}

static struct rp_json *mismatches_json(const struct cli_disk_report *d)
{
	struct rp_json *arr = rp_json_new_array();
	size_t i;

	for (i = 0; d->mismatches && i < d->mismatch_count && i < RP_SCAN_MAX_MISMATCHES; i++) {
		const struct rp_scan_mismatch *m = &d->mismatches[i];
		struct rp_json *o = rp_json_new_object();
		char hex[65];

		rp_json_set_u64(o, RP_RM_MISMATCH_INDEX, m->index);
		rp_json_set_u64(o, RP_RM_MISMATCH_OFFSET, m->offset);
		rp_json_set_u64(o, RP_RM_MISMATCH_LENGTH, m->length);
		rp_json_set_str(o, RP_RM_MISMATCH_REASON, rp_reason_name(RP_R_SEAL_MISMATCH));
		rp_json_set_str(o, RP_RM_MISMATCH_EXPECTED,
				state_text(m->expected_state, m->expected, hex));
		rp_json_set_str(o, RP_RM_MISMATCH_ACTUAL,
				state_text(m->actual_state, m->actual, hex));
		rp_json_append(arr, o);
	}
	return arr;
}

void cli_seal_claims_add(struct rp_json *obj, const struct rp_seal *seal)
{
	const bool has[RP_DIGEST_COUNT] = {seal && seal->has_sha256, seal && seal->has_md5,
					   seal && seal->has_sha1};
	struct rp_json *o;
	unsigned a;

	if (!has[RP_DIGEST_SHA256] && !has[RP_DIGEST_MD5] && !has[RP_DIGEST_SHA1] &&
	    !(seal && seal->has_identity))
		return;
	o = rp_json_new_object();
	if (seal->has_identity) {
		char hex[65];

		rp_hex(seal->identity, 32, hex);
		rp_json_set_str(o, RP_SEAL_IDENTITY_NAME, hex);
	}
	for (a = 0; a < RP_DIGEST_COUNT; a++) {
		const uint8_t *v = a == RP_DIGEST_SHA256 ? seal->sha256
				   : a == RP_DIGEST_MD5	 ? seal->md5
							 : seal->sha1;
		char hex[2 * RP_DIGEST_MAX + 1];

		if (!has[a])
			continue;
		rp_hex(v, rp_digest_size((enum rp_digest_alg)a), hex);
		rp_json_set_str(o, rp_digest_name((enum rp_digest_alg)a), hex);
	}
	rp_json_set(obj, RP_RM_DISK_SEAL_CLAIMS, o);
}

void cli_seal_claims_print(FILE *f, const struct rp_json *obj, const char *indent)
{
	const struct rp_json *claims = rp_json_get(obj, RP_RM_DISK_SEAL_CLAIMS);
	const struct rp_json *digests = rp_json_get(obj, RP_RM_DISK_DIGESTS);
	unsigned a;

	for (a = 0; claims && a < RP_DIGEST_COUNT; a++) {
		const char *name = rp_digest_name((enum rp_digest_alg)a);
		const char *claim = rp_json_string(rp_json_get(claims, name));
		const char *got = rp_json_string(rp_json_get(digests, name));

		if (!claim || (got && strcmp(got, claim) == 0))
			continue;
		fprintf(f, "%sseal says %s %s (%s)\n", indent, name, claim,
			got ? "the disk's differs" : "not computed; --digests computes it");
	}
}

static void add_digests(struct rp_json *disk, const struct cli_disk_report *d)
{
	struct rp_json *o;
	unsigned a;
	uint64_t i;

	if (d->identity) {
		char hex[65];

		o = rp_json_new_object();
		rp_hex(d->identity, 32, hex);
		rp_json_set_str(o, RP_SEAL_IDENTITY_NAME, hex);
		rp_json_set(disk, RP_RM_DISK_IDENTITY, o);
	}
	if (d->whole_done && (d->whole_done[0] || d->whole_done[1] || d->whole_done[2])) {
		o = rp_json_new_object();
		for (a = 0; a < RP_DIGEST_COUNT; a++) {
			char hex[2 * RP_DIGEST_MAX + 1];

			if (!d->whole_done[a])
				continue;
			rp_hex(d->whole[a], rp_digest_size((enum rp_digest_alg)a), hex);
			rp_json_set_str(o, rp_digest_name((enum rp_digest_alg)a), hex);
		}
		rp_json_set(disk, RP_RM_DISK_DIGESTS, o);
	}
	cli_seal_claims_add(disk, d->expect);
	if (d->windows) {
		struct rp_json *arr = rp_json_new_array();

		o = rp_json_new_object();
		rp_json_set_u64(o, RP_RM_WINDOWS_SIZE, d->window_size);
		for (i = 0; i < d->window_count; i++) {
			char hex[65];
			rp_hex(d->windows + 32 * i, 32, hex);
			rp_json_append(arr, rp_json_new_string(hex));
		}
		rp_json_set(o, RP_RM_WINDOWS_SHA256, arr);
		rp_json_set(disk, RP_RM_DISK_HASH_WINDOWS, o);
	}
}

/* partitions and luks from rp_image_describe()'s partition_table and luks members. */
static void add_layout(struct rp_json *disk, const struct rp_json *desc)
{
	const struct rp_json *pt = rp_json_get(desc, "partition_table");
	const struct rp_json *parts = rp_json_get(pt, "partitions");
	const struct rp_json *luks = rp_json_get(desc, "luks");
	const char *scheme = rp_json_string(rp_json_get(pt, "kind"));
	struct rp_json *arr = rp_json_new_array();
	size_t i;

	for (i = 0; i < rp_json_array_size(parts); i++) {
		const struct rp_json *p = rp_json_array_at(parts, i);
		struct rp_json *o = rp_json_new_object();
		uint64_t v = 0;
		const char *s;

		if (rp_json_u64(rp_json_get(p, "index"), &v) == 0)
			rp_json_set_u64(o, RP_RM_PARTITION_INDEX, v);
		rp_json_set_str(o, RP_RM_PARTITION_SCHEME, scheme ? scheme : "none");
		s = rp_json_string(rp_json_get(p, "type"));
		rp_json_set_str(o, RP_RM_PARTITION_TYPE, s ? s : "");
		s = rp_json_string(rp_json_get(p, "name"));
		if (s)
			rp_json_set_str(o, RP_RM_PARTITION_NAME, s);
		if (rp_json_u64(rp_json_get(p, "offset"), &v) == 0)
			rp_json_set_u64(o, RP_RM_PARTITION_START, v);
		if (rp_json_u64(rp_json_get(p, "length"), &v) == 0)
			rp_json_set_u64(o, RP_RM_PARTITION_SIZE, v);
		rp_json_append(arr, o);
	}
	rp_json_set(disk, RP_RM_DISK_PARTITIONS, arr);
	arr = rp_json_new_array();
	for (i = 0; i < rp_json_array_size(luks); i++) {
		const struct rp_json *l = rp_json_array_at(luks, i);
		struct rp_json *o = rp_json_new_object();
		uint64_t v = 0;
		const char *s;

		/* A LUKS header over the whole disk has partition null: 0 in the report. */
		rp_json_set_u64(o, RP_RM_LUKS_PARTITION,
				rp_json_u64(rp_json_get(l, "partition"), &v) == 0 ? v : 0);
		if (rp_json_u64(rp_json_get(l, "version"), &v) == 0)
			rp_json_set_u64(o, RP_RM_LUKS_VERSION, v);
		if ((s = rp_json_string(rp_json_get(l, "uuid"))) != NULL)
			rp_json_set_str(o, RP_RM_LUKS_UUID, s);
		if ((s = rp_json_string(rp_json_get(l, "cipher"))) != NULL)
			rp_json_set_str(o, RP_RM_LUKS_CIPHER, s);
		rp_json_append(arr, o);
	}
	rp_json_set(disk, RP_RM_DISK_LUKS, arr);
	/* Problems found and read past (--ignore-checksums): one message each. */
	arr = rp_json_new_array();
	for (i = 0; i < rp_json_array_size(rp_json_get(desc, "problems")); i++) {
		const char *m = rp_json_string(
		    rp_json_get(rp_json_array_at(rp_json_get(desc, "problems"), i), "message"));
		if (m)
			rp_json_append(arr, rp_json_new_string(m));
	}
	if (rp_json_array_size(arr))
		rp_json_set(disk, RP_RM_DISK_PROBLEMS, arr);
	else
		rp_json_free(arr);
}

struct rp_json *cli_report_new(const char *command, time_t started, time_t ended,
			       const struct cli_case *c, const struct cli_report_source *src,
			       int exit_code)
{
	struct rp_json *o = cli_doc_new(RP_REPORT_SCHEMA, command), *s;
	char ts[RP_TIME_STR];

	rp_time_iso(started, ts);
	rp_json_set_str(o, RP_RM_STARTED, ts);
	rp_time_iso(ended, ts);
	rp_json_set_str(o, RP_RM_ENDED, ts);
	if (c && (c->case_id || c->evidence_id || c->examiner || c->notes)) {
		struct rp_json *k = rp_json_new_object();
		if (c->case_id)
			rp_json_set_str(k, RP_RM_CASE_ID, c->case_id);
		if (c->evidence_id)
			rp_json_set_str(k, RP_RM_CASE_EVIDENCE_ID, c->evidence_id);
		if (c->examiner)
			rp_json_set_str(k, RP_RM_CASE_EXAMINER, c->examiner);
		if (c->notes)
			rp_json_set_str(k, RP_RM_CASE_NOTES, c->notes);
		rp_json_set(o, RP_RM_CASE, k);
	}
	s = rp_json_new_object();
	rp_json_set_str(s, RP_RM_SOURCE_KIND, src->kind);
	rp_json_set_str(s, RP_RM_SOURCE_DISPLAY, src->display);
	if (src->etag && src->etag[0])
		rp_json_set_str(s, RP_RM_SOURCE_ETAG, src->etag);
	if (src->recovery_point)
		rp_json_set_str(s, RP_RM_SOURCE_RECOVERY_POINT, src->recovery_point);
	rp_json_set(o, RP_RM_SOURCE, s);
	cli_doc_verdict(o, exit_code);
	rp_json_set(o, RP_RM_DISKS, rp_json_new_array());
	return o;
}

void cli_report_add_disk(struct rp_json *report, struct cli_disk_report *d)
{
	struct rp_json *o = rp_json_new_object(), *reasons = rp_json_new_array();
	uint64_t checked = 0, bytes = 0;
	size_t i;

	cli_disk_totals(d, &checked, &bytes);
	rp_json_set_str(o, RP_RM_DISK_NAME, d->name);
	rp_json_set_u64(o, RP_RM_DISK_VIRTUAL_SIZE, d->virtual_size);
	rp_json_set_u64(o, RP_RM_DISK_IMAGE_SIZE, d->image_size);
	rp_json_set_str(o, RP_RM_DISK_FORMAT, d->format ? d->format : "unknown");
	rp_json_set_u64(o, RP_RM_DISK_CHUNK_SIZE, d->chunk_size);
	rp_json_set_u64(o, RP_RM_DISK_CHUNKS_TOTAL, d->chunk_count);
	rp_json_set_u64(o, RP_RM_DISK_CHUNKS_CHECKED, checked);
	rp_json_set_u64(o, RP_RM_DISK_BYTES_VERIFIED, bytes);
	if (d->coverage)
		rp_json_set(o, RP_RM_DISK_COVERAGE, d->coverage);
	d->coverage = NULL;
	if (d->ran && (d->checked || d->all_checked) && d->actual) {
		/* One byte per chunk, twice (the string and the JSON value's copy): 32 MiB at
		 * 16 Mi chunks, built only for a report that is shown. */
		char *map = d->no_chunk_map ? NULL : chunk_map(d);
		if (map)
			rp_json_set_str(o, RP_RM_DISK_CHUNK_MAP, map);
		free(map);
		rp_json_set(o, RP_RM_DISK_MISMATCHES, mismatches_json(d));
		if (d->mismatch_count > RP_SCAN_MAX_MISMATCHES)
			rp_json_set_u64(o, RP_RM_DISK_MISMATCH_COUNT, d->mismatch_count);
	}
	add_digests(o, d);
	if (d->describe)
		add_layout(o, d->describe);
	if (d->luks)
		rp_json_set(o, RP_RM_DISK_LUKS, d->luks);
	d->luks = NULL;
	if (d->warning)
		rp_json_set_str(o, RP_RM_DISK_WARNING, d->warning);
	rp_json_set_str(o, RP_RM_DISK_VERDICT, d->nreasons ? RP_REPORT_FAIL : RP_REPORT_PASS);
	for (i = 0; i < d->nreasons; i++) {
		struct rp_json *r = rp_json_new_object();
		rp_json_set_str(r, RP_RM_REASON_CODE, d->reasons[i].code);
		rp_json_set_str(r, RP_RM_REASON_MESSAGE, d->reasons[i].message);
		rp_json_append(reasons, r);
	}
	rp_json_set(o, RP_RM_DISK_REASONS, reasons);
	rp_json_append(rp_json_get(report, RP_RM_DISKS), o);
}

static uint64_t num(const struct rp_json *o, const char *key)
{
	uint64_t v = 0;

	rp_json_u64(rp_json_get(o, key), &v);
	return v;
}

void cli_report_print(FILE *f, const struct rp_json *r)
{
	const struct rp_json *disks = rp_json_get(r, RP_RM_DISKS);
	const struct rp_json *src = rp_json_get(r, RP_RM_SOURCE);
	size_t i, k;

	fprintf(f, "source: %s\n", RP_TEXT(rp_json_string(rp_json_get(src, RP_RM_SOURCE_DISPLAY))));
	for (i = 0; i < rp_json_array_size(disks); i++) {
		const struct rp_json *d = rp_json_array_at(disks, i);
		const struct rp_json *mm = rp_json_get(d, RP_RM_DISK_MISMATCHES);
		const struct rp_json *rs = rp_json_get(d, RP_RM_DISK_REASONS);
		const struct rp_json *cov = rp_json_get(d, RP_RM_DISK_COVERAGE);
		char size[32];

		cli_fmt_size(num(d, RP_RM_DISK_VIRTUAL_SIZE), size, sizeof(size));
		fprintf(f, "disk %s: %s, %s; %s coverage, %llu of %llu chunks checked\n",
			RP_ESC(rp_json_string(rp_json_get(d, RP_RM_DISK_NAME))),
			rp_json_string(rp_json_get(d, RP_RM_DISK_FORMAT)), size,
			cov ? rp_json_string(rp_json_get(cov, RP_RM_COVERAGE_MODE)) : "full",
			(unsigned long long)num(d, RP_RM_DISK_CHUNKS_CHECKED),
			(unsigned long long)num(d, RP_RM_DISK_CHUNKS_TOTAL));
		for (k = 0; k < rp_json_array_size(mm) && k < 20; k++) {
			const struct rp_json *m = rp_json_array_at(mm, k);
			fprintf(f, "  chunk %llu at 0x%llx (%llu bytes): expected %s, got %s\n",
				(unsigned long long)num(m, RP_RM_MISMATCH_INDEX),
				(unsigned long long)num(m, RP_RM_MISMATCH_OFFSET),
				(unsigned long long)num(m, RP_RM_MISMATCH_LENGTH),
				rp_json_string(rp_json_get(m, RP_RM_MISMATCH_EXPECTED)),
				rp_json_string(rp_json_get(m, RP_RM_MISMATCH_ACTUAL)));
		}
		if (rp_json_array_size(mm) > 20)
			fprintf(f, "  ... and %zu more (see --json)\n",
				rp_json_array_size(mm) - 20);
		if (rp_json_string(
			rp_json_get(rp_json_get(d, RP_RM_DISK_IDENTITY), RP_SEAL_IDENTITY_NAME)))
			fprintf(f, "  identity %s: %s\n", RP_SEAL_IDENTITY_NAME,
				rp_json_string(rp_json_get(rp_json_get(d, RP_RM_DISK_IDENTITY),
							   RP_SEAL_IDENTITY_NAME)));
		cli_print_tree(f, rp_json_get(d, RP_RM_DISK_DIGESTS), 2);
		cli_seal_claims_print(f, d, "  ");
		for (k = 0; k < rp_json_array_size(rp_json_get(d, RP_RM_DISK_PROBLEMS)); k++)
			fprintf(f, "  problem: %s\n",
				RP_TEXT(rp_json_string(
				    rp_json_array_at(rp_json_get(d, RP_RM_DISK_PROBLEMS), k))));
		if (rp_json_string(rp_json_get(d, RP_RM_DISK_WARNING)))
			fprintf(f, "  warning: %s\n",
				RP_TEXT(rp_json_string(rp_json_get(d, RP_RM_DISK_WARNING))));
		for (k = 0; k < rp_json_array_size(rs); k++)
			fprintf(
			    f, "  %s: %s\n",
			    rp_json_string(rp_json_get(rp_json_array_at(rs, k), RP_RM_REASON_CODE)),
			    RP_TEXT(rp_json_string(
				rp_json_get(rp_json_array_at(rs, k), RP_RM_REASON_MESSAGE))));
	}
	fprintf(f, "verdict: %s\n", rp_json_string(rp_json_get(r, RP_RM_VERDICT)));
}

void cli_prom_escape(const char *in, char *out, size_t outsz)
{
	size_t n = 0;

	for (; *in && n + 3 < outsz; in++) {
		if (*in == '\\' || *in == '"') {
			out[n++] = '\\';
			out[n++] = *in;
		} else if (*in == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else {
			out[n++] = *in;
		}
	}
	out[n] = '\0';
}

/*
 * The metrics (docs/metrics.md), named as https://prometheus.io/docs/practices/naming/ asks:
 * the unit (base units: seconds, bytes) at the end, a plain count ends in what it counts. Each
 * one describes the last run, so they are gauges: none is a counter (_total), which would have
 * to grow over every run of the disk.
 */
enum prom_metric {
	PROM_BUILD_INFO,
	PROM_SUCCESS,
	PROM_LAST_RUN,
	PROM_DURATION,
	PROM_VERIFIED_BYTES,
	PROM_CHECKED_CHUNKS,
	PROM_MISMATCHED_CHUNKS,
	PROM_METRICS
};

static const char *const prom_meta[PROM_METRICS][2] = {
    [PROM_BUILD_INFO] = {"cvmrestore_build_info",
			 "the cvmrestore that wrote these metrics (version and source commit); "
			 "always 1"},
    [PROM_SUCCESS] = {"cvmrestore_verify_success",
		      "1 if the last verify passed, 0 if it failed or could not run"},
    [PROM_LAST_RUN] = {"cvmrestore_verify_last_run_timestamp_seconds",
		       "when the last verify ended, in seconds since the Unix epoch"},
    [PROM_DURATION] = {"cvmrestore_verify_duration_seconds", "how long the last verify took"},
    [PROM_VERIFIED_BYTES] = {"cvmrestore_verified_bytes",
			     "bytes of the disk the last verify checked against the seal"},
    [PROM_CHECKED_CHUNKS] = {"cvmrestore_verify_checked_chunks",
			     "chunks the last verify checked against the seal"},
    [PROM_MISMATCHED_CHUNKS] = {"cvmrestore_verify_mismatched_chunks",
				"chunks that differed from the seal in the last verify"},
};

int cli_prom_write(const char *path, const struct cli_prom *p, struct rp_err *err)
{
	char rp[1024], disk[1024], shard[64] = "",
				   text[16384]; /* 7 lines, each label up to 1 KiB */
	size_t len = 0;
	int i, rc;

	cli_prom_escape(p->recovery_point ? p->recovery_point : "", rp, sizeof(rp));
	cli_prom_escape(p->disk ? p->disk : "", disk, sizeof(disk));
	if (p->shard)
		snprintf(shard, sizeof(shard), ",shard=\"%u/%u\"", p->shard_index, p->shards);
	for (i = 0; i < PROM_METRICS; i++) {
		char value[64], build[128] = "";
		int n;

		switch ((enum prom_metric)i) {
		case PROM_BUILD_INFO:
			/* Labelled like the others too: one file per disk (and shard) in a
			 * collector's directory must not repeat a series. */
			snprintf(build, sizeof(build), "version=\"%s\",commit=\"%s\",", RP_VERSION,
				 RP_COMMIT);
			snprintf(value, sizeof(value), "1");
			break;
		case PROM_SUCCESS:
			snprintf(value, sizeof(value), "%d", p->success ? 1 : 0);
			break;
		case PROM_LAST_RUN:
			snprintf(value, sizeof(value), "%lld", (long long)p->timestamp);
			break;
		case PROM_DURATION:
			snprintf(value, sizeof(value), "%.3f", p->seconds);
			break;
		case PROM_VERIFIED_BYTES:
			snprintf(value, sizeof(value), "%llu",
				 (unsigned long long)p->bytes_verified);
			break;
		case PROM_CHECKED_CHUNKS:
			snprintf(value, sizeof(value), "%llu",
				 (unsigned long long)p->checked_chunks);
			break;
		default:
			snprintf(value, sizeof(value), "%llu",
				 (unsigned long long)p->mismatched_chunks);
			break;
		}
		n = snprintf(
		    text + len, sizeof(text) - len,
		    "# HELP %s %s\n# TYPE %s gauge\n%s{%srecovery_point=\"%s\",disk=\"%s\"%s} "
		    "%s\n",
		    prom_meta[i][0], prom_meta[i][1], prom_meta[i][0], prom_meta[i][0], build, rp,
		    disk, shard, value);
		if (n < 0 || (size_t)n >= sizeof(text) - len)
			return rp_err_set(err, RP_EUSAGE, "--prometheus: labels are too long");
		len += (size_t)n;
	}
	/* A new temporary file beside it, renamed over it; a link at path is refused. */
	rc = rp_outfile_replace(path, text, len, 0644, true, err);
	if (rc)
		rp_err_prefix(err, "--prometheus '%s'", path);
	return rc;
}

/* Which check failed: the one the failing rp_err names, else a changed source, else the code's. */
static enum rp_reason restore_reason(const struct rp_restore_report *rep,
				     const struct rp_err *failure)
{
	if (failure->reason != RP_R_NONE)
		return failure->reason;
	if (rep->fetch.source_changed)
		return RP_R_SOURCE_CHANGED;
	return rp_reason_of_code(failure->code);
}

struct rp_json *cli_report_restore(const char *command, const struct rp_restore_report *rep,
				   const struct rp_seal *seal, const char *out, const char *name,
				   time_t started, time_t ended, const struct rp_err *failure)
{
	int rc = failure ? failure->code : RP_OK;
	const struct rp_fetch_result *f = &rep->fetch;
	struct cli_report_source src = {.kind = "url", .display = rep->source, .etag = rep->etag};
	const char *slash = strrchr(rep->source, '/');
	int exit_code = rp_code_exit(rc);
	struct cli_disk_report d;
	struct rp_json *report;

	memset(&d, 0, sizeof(d));
	d.name = name ? name : slash && slash[1] ? slash + 1 : rep->source;
	d.format = rep->is_vhd ? "vhd-fixed" : "raw";
	d.virtual_size = rep->virtual_size;
	d.image_size = rep->blob_size;
	/* The transfer went through every chunk when it succeeded or only found mismatches. */
	if (f->pipe.seal && (rc == 0 || (rc == RP_EVERIFY && f->pipe.mismatch_count))) {
		d.all_checked = true; /* no byte per chunk to say so */
		d.ran = true;
	}
	if (f->pipe.seal) {
		d.chunk_size = f->pipe.seal->chunk_size;
		d.chunk_count = f->pipe.seal->chunk_count;
	}
	d.expect = seal;
	d.actual = f->pipe.seal;
	d.mismatches = f->pipe.mismatches;
	d.mismatch_count = f->pipe.mismatch_count;
	d.whole_done = f->pipe.whole_done;
	d.whole = (const uint8_t(*)[RP_DIGEST_MAX])f->pipe.whole;
	d.coverage = rp_json_new_object();
	rp_json_set_str(d.coverage, RP_RM_COVERAGE_MODE, "full");
	if (rep->th == RP_TH_NONE && !seal && rep->blob_size)
		d.warning = "the server gave no per-range hash and there was no seal: the data was "
			    "read but not verified";
	if (d.ran && f->pipe.mismatch_count)
		cli_disk_reason(&d, rp_reason_name(RP_R_SEAL_MISMATCH),
				"%zu chunks differ from the seal", f->pipe.mismatch_count);
	else if (rc)
		cli_disk_reason(&d, rp_reason_name(restore_reason(rep, failure)), "%s",
				RP_MSG(failure->msg));
	report = cli_report_new(command, started, ended, NULL, &src, exit_code);
	if (out) {
		struct rp_json *o = rp_json_new_object();
		rp_json_set_str(o, RP_RM_OUTPUT_PATH, RP_URL(out));
		rp_json_set_str(o, RP_RM_OUTPUT_FORMAT, rep->output_format);
		rp_json_set(report, RP_RM_OUTPUT, o);
	}
	cli_report_add_disk(report, &d);
	return report;
}

void cli_doc_envelope(struct rp_json *o, const char *schema, const char *command)
{
	struct rp_json *t = rp_json_new_object();

	rp_json_set_str(o, RP_RM_SCHEMA, schema);
	rp_json_set_str(t, RP_RM_TOOL_NAME, "cvmrestore");
	rp_json_set_str(t, RP_RM_TOOL_VERSION, RP_VERSION);
	rp_json_set(o, RP_RM_TOOL, t);
	rp_json_set_str(o, RP_RM_COMMAND, command);
}

struct rp_json *cli_doc_new(const char *schema, const char *command)
{
	struct rp_json *o = rp_json_new_object();

	cli_doc_envelope(o, schema, command);
	return o;
}

const char *cli_verdict_word(int exit_code)
{
	return exit_code == 0 ? RP_REPORT_PASS : exit_code == 1 ? RP_REPORT_FAIL : RP_REPORT_ERROR;
}

void cli_doc_verdict(struct rp_json *o, int exit_code)
{
	rp_json_set_str(o, RP_RM_VERDICT, cli_verdict_word(exit_code));
	rp_json_set_u64(o, RP_RM_EXIT_CODE, (uint64_t)exit_code);
}

struct rp_json *cli_libraries_json(void)
{
	struct rp_libversion v[16];
	struct rp_json *libs = rp_json_new_object();
	size_t n = 0, i;

	n += rp_net_versions(v + n, 16 - n);
	n += rp_verify_versions(v + n, 16 - n);
	n += rp_formats_versions(v + n, 16 - n);
	n += rp_common_versions(v + n, 16 - n);
	for (i = 0; i < n; i++) {
		struct rp_json *l = rp_json_new_object();

		rp_json_set_str(l, "version", v[i].version);
		rp_json_set_bool(l, "build_time", v[i].built);
		rp_json_set(libs, v[i].name, l);
	}
	return libs;
}

/* The SHA-256 of a file's bytes in hex; 0, or -1 when it cannot be read (nothing recorded). */
static int file_sha256(const char *path, char hex[65])
{
	struct rp_digest *dg = NULL;
	uint8_t buf[65536], md[32];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = -1;

	if (!f)
		return -1;
	if (rp_digest_new(RP_DIGEST_SHA256, &dg, NULL) == 0) {
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			rp_digest_update(dg, buf, n);
		if (!ferror(f) && rp_digest_final(dg, md) == 0) {
			rp_hex(md, 32, hex);
			rc = 0;
		}
		rp_digest_free(dg);
	}
	fclose(f);
	return rc;
}

void cli_report_provenance(struct rp_json *report, const char *seal_path, const char *from)
{
	struct rp_json *h = rp_json_new_object(), *os = rp_json_new_object();
	struct utsname u;
	char name[256] = "", hex[65];

	if (seal_path) {
		struct rp_json *s = rp_json_new_object();

		rp_json_set_str(s, "path", RP_URL(seal_path));
		if (!rp_is_url(seal_path) && file_sha256(seal_path, hex) == 0)
			rp_json_set_str(s, "sha256", hex);
		rp_json_set_str(s, "from", from ? from : "file");
		rp_json_set(report, "seal", s);
	}
	if (gethostname(name, sizeof(name) - 1) != 0)
		name[0] = '\0';
	rp_json_set_str(h, "name", name);
	if (uname(&u) == 0) {
		rp_json_set_str(os, "sysname", u.sysname);
		rp_json_set_str(os, "release", u.release);
		rp_json_set_str(os, "version", u.version);
		rp_json_set_str(os, "machine", u.machine);
	}
	rp_json_set(h, "os", os);
	rp_json_set(report, "host", h);
	rp_json_set(report, "libraries", cli_libraries_json());
}
