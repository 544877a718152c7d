/*
 * Chunk selection and the verify state file (select.h).
 *
 * State file (docs/report.md, "State file"): a JSON object
 *   {"format": "cvmrestore-verify-state", "version": 1, "virtual_size": N, "chunk_size": N,
 *    "chunk_count": N, "last_run": N, "runs": [{"run", "started", "mode", "chunks"}...],
 *    "chunk_runs": "<base64 of chunk_count little-endian uint32: the run that last checked it>"}
 * Base64 keeps a 16 Mi chunk disk at 85 MiB of text instead of a JSON array jansson would hold
 * as 16 Mi objects.
 */
#include "verify/select.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/endian.h"
#include "common/json.h"
#include "common/outfile.h"
#include "common/util.h"

#define STATE_VERSION 1
#define STATE_MAX_BYTES (128u * 1024 * 1024)

const char *rp_select_mode_name(enum rp_select_mode mode)
{
	switch (mode) {
	case RP_SELECT_SAMPLE:
		return "sample";
	case RP_SELECT_ROLLING:
		return "rolling";
	case RP_SELECT_SHARD:
		return "shard";
	case RP_SELECT_MAX_DURATION:
		return "max-duration";
	case RP_SELECT_FULL:
	default:
		return "full";
	}
}

uint64_t rp_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int rp_select_parse_percent(const char *s, uint32_t *ppm, struct rp_err *err)
{
	uint64_t whole = 0, frac = 0, scale = 10000;
	const char *p = s;
	int digits = 0;

	/* Decimal text only: strtod would take "1e2", "inf" and a locale's comma. */
	while (*p >= '0' && *p <= '9' && digits < 4) {
		whole = whole * 10 + (uint64_t)(*p++ - '0');
		digits++;
	}
	if (digits == 0)
		goto bad;
	if (*p == '.') {
		p++;
		digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 4) {
			scale /= 10;
			frac += (uint64_t)(*p++ - '0') * scale;
			digits++;
		}
		if (digits == 0)
			goto bad;
	}
	if (*p != '\0')
		goto bad;
	if (whole * 10000 + frac == 0 || whole * 10000 + frac > 1000000)
		goto bad;
	*ppm = (uint32_t)((whole * 10000 + frac));
	return 0;
bad:
	return rp_err_set(err, RP_EUSAGE,
			  "a percentage must be more than 0 and at most 100 with at most 4 "
			  "decimals, not '%s'",
			  s);
}

int rp_select_parse_fraction(const char *opt, const char *s, bool one_based, uint32_t *a,
			     uint32_t *b, struct rp_err *err)
{
	const char *slash = strchr(s, '/');
	char left[24];
	uint64_t x, y;
	size_t n;

	if (!slash || (n = (size_t)(slash - s)) == 0 || n >= sizeof(left))
		goto bad;
	memcpy(left, s, n);
	left[n] = '\0';
	if (rp_parse_u64(left, &x, NULL) != 0 || rp_parse_u64(slash + 1, &y, NULL) != 0)
		goto bad;
	if (y < 1 || y > 1000000)
		return rp_err_set(err, RP_EUSAGE, "%s %s: the count after '/' must be 1 to 1000000",
				  opt, s);
	if (one_based ? (x < 1 || x > y) : x >= y)
		return rp_err_set(err, RP_EUSAGE, "%s %s: the number before '/' must be %s", opt, s,
				  one_based ? "1 to the count" : "0 to the count - 1");
	*a = (uint32_t)x;
	*b = (uint32_t)y;
	return 0;
bad:
	return rp_err_set(err, RP_EUSAGE, "%s takes %s/COUNT, not '%s'", opt,
			  one_based ? "RUN" : "INDEX", s);
}

bool rp_select_always(uint64_t index, uint64_t chunk_size, uint64_t virtual_size)
{
	uint64_t tail =
	    virtual_size > RP_SELECT_TAIL_BYTES ? virtual_size - RP_SELECT_TAIL_BYTES : 0;

	return index == 0 || (chunk_size && (index + 1) * chunk_size > tail);
}

/* The chunks of shard spec->shard of spec->shards: [*lo, *hi) (every chunk without shards). */
static void shard_range(const struct rp_select_spec *spec, uint64_t count, uint64_t *lo,
			uint64_t *hi)
{
	*lo = 0;
	*hi = count;
	if (spec->shards) {
		*lo = count * spec->shard / spec->shards;
		*hi = count * (spec->shard + 1) / spec->shards;
	}
}

/*
 * Knuth's algorithm S: exactly want of the candidates, each subset equally likely. Candidates
 * are the chunks of the shard (if any) that the seal (if any) says hold data.
 */
static uint64_t sample(const struct rp_select_spec *spec, const struct rp_seal *seal,
		       uint64_t count, uint8_t *map)
{
	uint64_t cand = 0, want, seen = 0, got = 0, rng = spec->seed, i, lo, hi;

	shard_range(spec, count, &lo, &hi);
	for (i = lo; i < hi; i++)
		cand += !seal || rp_seal_chunk_state(seal, i) == RP_CHUNK_DATA;
	/* ceil(cand * ppm / 1e6) without overflow: cand <= 2^24 and ppm <= 2^20. */
	want = (cand * spec->ppm + RP_SELECT_PPM - 1) / RP_SELECT_PPM;
	for (i = lo; i < hi && got < want; i++) {
		uint64_t left = cand - seen;

		if (seal && rp_seal_chunk_state(seal, i) != RP_CHUNK_DATA)
			continue;
		seen++;
		/* Take this one with probability (want - got) / left; the 53-bit fraction is exact
		 * for any left below 2^24. */
		if ((double)(rp_splitmix64(&rng) >> 11) / 9007199254740992.0 * (double)left <
		    (double)(want - got)) {
			map[i] = 1;
			got++;
		}
	}
	return got;
}

int rp_select_build(const struct rp_select_spec *spec, const struct rp_seal *seal,
		    uint64_t virtual_size, uint64_t chunk_size, uint8_t *map, uint64_t *selected,
		    struct rp_err *err)
{
	uint64_t count, i, n = 0, lo, hi;

	if (chunk_size == 0)
		return rp_err_set(err, RP_EUSAGE, "chunk size is 0");
	count = rp_seal_chunks_for(virtual_size, chunk_size);
	if (count > RP_SELECT_MAX_CHUNKS)
		return rp_err_set(err, RP_EUSAGE, "%" PRIu64 " chunks is more than %u", count,
				  RP_SELECT_MAX_CHUNKS);
	if (seal && (seal->chunk_count != count || seal->chunk_size != chunk_size))
		return rp_err_set(err, RP_EUSAGE,
				  "the seal has %" PRIu64 " chunks of %" PRIu64
				  ", the disk %" PRIu64 " of %" PRIu64,
				  seal->chunk_count, seal->chunk_size, count, chunk_size);
	memset(map, 0, (size_t)count);
	switch (spec->mode) {
	case RP_SELECT_FULL:
		memset(map, 1, (size_t)count);
		break;
	case RP_SELECT_SAMPLE:
		if (spec->ppm == 0 || spec->ppm > RP_SELECT_PPM)
			return rp_err_set(err, RP_EUSAGE, "sample: ppm %u is not in 1..1000000",
					  spec->ppm);
		if (spec->shards && spec->shard >= spec->shards)
			return rp_err_set(err, RP_EUSAGE, "sample: shard %u of %u is out of range",
					  spec->shard, spec->shards);
		sample(spec, seal, count, map);
		shard_range(spec, count, &lo, &hi);
		for (i = lo; i < hi; i++)
			if (rp_select_always(i, chunk_size, virtual_size))
				map[i] = 1;
		break;
	case RP_SELECT_ROLLING:
		if (spec->runs == 0 || spec->run < 1 || spec->run > spec->runs)
			return rp_err_set(err, RP_EUSAGE, "rolling: run %u of %u is out of range",
					  spec->run, spec->runs);
		for (i = spec->run - 1; i < count; i += spec->runs)
			map[i] = 1;
		break;
	case RP_SELECT_SHARD:
		if (spec->shards == 0 || spec->shard >= spec->shards)
			return rp_err_set(err, RP_EUSAGE, "shard: shard %u of %u is out of range",
					  spec->shard, spec->shards);
		shard_range(spec, count, &lo, &hi);
		if (hi > lo)
			memset(map + lo, 1, (size_t)(hi - lo));
		break;
	case RP_SELECT_MAX_DURATION:
	default:
		return rp_err_set(err, RP_EUSAGE, "mode %s is not a fixed selection",
				  rp_select_mode_name(spec->mode));
	}
	for (i = 0; i < count; i++)
		n += map[i] != 0;
	*selected = n;
	return 0;
}

/* ---- state ---- */

int rp_select_state_init(struct rp_select_state *st, uint64_t virtual_size, uint64_t chunk_size,
			 struct rp_err *err)
{
	uint64_t count;

	memset(st, 0, sizeof(*st));
	if (chunk_size == 0)
		return rp_err_set(err, RP_EUSAGE, "state: chunk size is 0");
	count = rp_seal_chunks_for(virtual_size, chunk_size);
	if (count > RP_SELECT_MAX_CHUNKS)
		return rp_err_set(err, RP_EUSAGE, "state: %" PRIu64 " chunks is more than %u",
				  count, RP_SELECT_MAX_CHUNKS);
	st->chunk_run = calloc(count ? (size_t)count : 1, sizeof(*st->chunk_run));
	if (!st->chunk_run)
		return rp_err_set(err, RP_EIO, "out of memory");
	st->virtual_size = virtual_size;
	st->chunk_size = chunk_size;
	st->chunk_count = count;
	return 0;
}

void rp_select_state_release(struct rp_select_state *st)
{
	if (!st)
		return;
	free(st->chunk_run);
	memset(st, 0, sizeof(*st));
}

static int get_u64(const struct rp_json *o, const char *key, uint64_t *v, struct rp_err *err)
{
	if (rp_json_u64(rp_json_get(o, key), v) != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "state: %s is missing or not a non-negative integer", key);
	return 0;
}

static int parse_runs(const struct rp_json *arr, struct rp_select_state *st, struct rp_err *err)
{
	size_t i, n = rp_json_array_size(arr);

	if (!rp_json_is_array(arr))
		return rp_err_set(err, RP_EFORMAT, "state: runs is missing or not an array");
	if (n > RP_SELECT_STATE_MAX_RUNS)
		return rp_err_set(err, RP_EFORMAT, "state: runs has %zu entries, at most %d", n,
				  RP_SELECT_STATE_MAX_RUNS);
	for (i = 0; i < n; i++) {
		const struct rp_json *r = rp_json_array_at(arr, i);
		struct rp_select_run *o = &st->runs[i];
		const char *started = rp_json_string(rp_json_get(r, "started"));
		const char *mode = rp_json_string(rp_json_get(r, "mode"));
		uint64_t run = 0;

		if (rp_json_u64(rp_json_get(r, "run"), &run) != 0 || run == 0 ||
		    run > st->last_run || !started || strlen(started) >= sizeof(o->started) ||
		    !mode || strlen(mode) >= sizeof(o->mode) ||
		    rp_json_u64(rp_json_get(r, "chunks"), &o->chunks) != 0)
			return rp_err_set(err, RP_EFORMAT,
					  "state: runs[%zu] needs run (1..last_run), started, mode "
					  "and chunks",
					  i);
		o->run = (uint32_t)run;
		snprintf(o->started, sizeof(o->started), "%s", started);
		snprintf(o->mode, sizeof(o->mode), "%s", mode);
	}
	st->nruns = n;
	return 0;
}

static int parse_chunk_runs(const char *b64, struct rp_select_state *st, struct rp_err *err)
{
	size_t len = strlen(b64), need = (size_t)st->chunk_count * 4, got = 0, cap, i;
	uint8_t *raw;
	int rc;

	cap = rp_b64_decoded_max(len);
	raw = malloc(cap ? cap : 1);
	if (!raw)
		return rp_err_set(err, RP_EIO, "out of memory");
	rc = rp_b64_decode(b64, len, RP_B64_STD, raw, cap ? cap : 1, &got, err);
	if (rc) {
		rp_err_prefix(err, "state: chunk_runs");
		rc = RP_EFORMAT;
		goto out;
	}
	if (got != need) {
		rc = rp_err_set(err, RP_EFORMAT,
				"state: chunk_runs holds %zu bytes, %" PRIu64 " chunks need %zu",
				got, st->chunk_count, need);
		goto out;
	}
	for (i = 0; i < (size_t)st->chunk_count; i++) {
		st->chunk_run[i] = rp_le32(raw + 4 * i);
		if (st->chunk_run[i] > st->last_run) {
			rc = rp_err_set(err, RP_EFORMAT,
					"state: chunk_runs[%zu] names run %u, after last_run %u", i,
					st->chunk_run[i], st->last_run);
			goto out;
		}
	}
out:
	free(raw);
	return rc;
}

int rp_select_state_parse(const char *text, size_t len, struct rp_select_state *st,
			  struct rp_err *err)
{
	struct rp_json *root = NULL;
	uint64_t version = 0, vsize = 0, csize = 0, count = 0, last = 0;
	const char *fmt, *b64;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = rp_json_parse(text, len, &root, err);
	if (rc) {
		rp_err_prefix(err, "state");
		goto out;
	}
	fmt = rp_json_string(rp_json_get(root, "format"));
	if (!fmt || strcmp(fmt, RP_SELECT_STATE_FORMAT) != 0) {
		rc = rp_err_set(err, RP_EFORMAT, "state: format is not \"%s\"",
				RP_SELECT_STATE_FORMAT);
		goto out;
	}
	if ((rc = get_u64(root, "version", &version, err)) != 0 ||
	    (rc = get_u64(root, "virtual_size", &vsize, err)) != 0 ||
	    (rc = get_u64(root, "chunk_size", &csize, err)) != 0 ||
	    (rc = get_u64(root, "chunk_count", &count, err)) != 0 ||
	    (rc = get_u64(root, "last_run", &last, err)) != 0)
		goto out;
	if (version != STATE_VERSION) {
		rc = rp_err_set(err, RP_EFORMAT, "state: version %" PRIu64 " is not %d", version,
				STATE_VERSION);
		goto out;
	}
	if (csize == 0 || rp_seal_chunks_for(vsize, csize) != count ||
	    count > RP_SELECT_MAX_CHUNKS) {
		rc = rp_err_set(err, RP_EFORMAT,
				"state: chunk_count %" PRIu64 " does not fit virtual_size %" PRIu64
				" in chunks of %" PRIu64,
				count, vsize, csize);
		goto out;
	}
	if (last > UINT32_MAX) {
		rc = rp_err_set(err, RP_EFORMAT, "state: last_run %" PRIu64 " is too large", last);
		goto out;
	}
	b64 = rp_json_string(rp_json_get(root, "chunk_runs"));
	if (!b64) {
		rc = rp_err_set(err, RP_EFORMAT, "state: chunk_runs is missing or not a string");
		goto out;
	}
	/* Allocate by the text there is, not by the count the document claims. */
	if (rp_b64_decoded_max(strlen(b64)) < count * 4) {
		rc = rp_err_set(err, RP_EFORMAT,
				"state: chunk_runs is too short for %" PRIu64 " chunks", count);
		goto out;
	}
	rc = rp_select_state_init(st, vsize, csize, err);
	if (rc) {
		rc = RP_EFORMAT;
		goto out;
	}
	st->last_run = (uint32_t)last;
	rc = parse_runs(rp_json_get(root, "runs"), st, err);
	if (rc == 0)
		rc = parse_chunk_runs(b64, st, err);
out:
	if (rc)
		rp_select_state_release(st);
	rp_json_free(root);
	return rc;
}

int rp_select_state_format(const struct rp_select_state *st, char **out, struct rp_err *err)
{
	struct rp_json *o = rp_json_new_object(), *runs = rp_json_new_array();
	size_t nraw = (size_t)st->chunk_count * 4, nb64, written = 0, i;
	uint8_t *raw = malloc(nraw ? nraw : 1);
	char *b64 = NULL;
	bool ok = true;
	int rc = RP_EIO;

	*out = NULL;
	nb64 = rp_b64_encoded_len(nraw, RP_B64_STD, &ok);
	if (ok)
		b64 = malloc(nb64 + 1);
	if (!o || !runs || !raw || !b64)
		goto out;
	for (i = 0; i < (size_t)st->chunk_count; i++)
		rp_put_le32(raw + 4 * i, st->chunk_run[i]);
	if (rp_b64_encode(raw, nraw, RP_B64_STD, b64, nb64 + 1, &written) != 0)
		goto out;
	for (i = 0; i < st->nruns; i++) {
		struct rp_json *r = rp_json_new_object();
		rp_json_set_u64(r, "run", st->runs[i].run);
		rp_json_set_str(r, "started", st->runs[i].started);
		rp_json_set_str(r, "mode", st->runs[i].mode);
		rp_json_set_u64(r, "chunks", st->runs[i].chunks);
		rp_json_append(runs, r);
	}
	rp_json_set_str(o, "format", RP_SELECT_STATE_FORMAT);
	rp_json_set_u64(o, "version", STATE_VERSION);
	rp_json_set_u64(o, "virtual_size", st->virtual_size);
	rp_json_set_u64(o, "chunk_size", st->chunk_size);
	rp_json_set_u64(o, "chunk_count", st->chunk_count);
	rp_json_set_u64(o, "last_run", st->last_run);
	rp_json_set(o, "runs", runs);
	runs = NULL;
	rp_json_set_str(o, "chunk_runs", b64);
	*out = rp_json_dump(o, false);
	if (*out)
		rc = 0;
out:
	if (rc)
		rp_err_set(err, RP_EIO, "out of memory for the state");
	rp_json_free(runs);
	rp_json_free(o);
	free(raw);
	free(b64);
	return rc;
}

int rp_select_state_load(const char *path, uint64_t virtual_size, uint64_t chunk_size,
			 struct rp_select_state *st, bool *existed, struct rp_err *err)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0;
	struct stat sb;
	int rc;

	*existed = false;
	f = fopen(path, "rbe");
	if (!f) {
		if (errno == ENOENT)
			return rp_select_state_init(st, virtual_size, chunk_size, err);
		return rp_err_errno(err, errno, "state file '%s'", path);
	}
	if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0 ||
	    (uint64_t)sb.st_size > STATE_MAX_BYTES) {
		fclose(f);
		return rp_err_set(err, RP_EFORMAT, "state file '%s' is larger than %u bytes", path,
				  STATE_MAX_BYTES);
	}
	text = malloc((size_t)sb.st_size + 1);
	if (!text) {
		fclose(f);
		return rp_err_set(err, RP_EIO, "out of memory");
	}
	len = fread(text, 1, (size_t)sb.st_size, f);
	if (ferror(f)) {
		rc = rp_err_errno(err, errno, "state file '%s'", path);
		goto out;
	}
	rc = rp_select_state_parse(text, len, st, err);
	if (rc) {
		rp_err_prefix(err, "'%s'", path);
		goto out;
	}
	*existed = true;
	if (st->virtual_size != virtual_size || st->chunk_size != chunk_size) {
		rc = rp_err_set(err, RP_EUSAGE,
				"the state file '%s' is for a disk of %" PRIu64
				" bytes in chunks of "
				"%" PRIu64 ", this one has %" PRIu64 " in chunks of %" PRIu64,
				path, st->virtual_size, st->chunk_size, virtual_size, chunk_size);
		rp_select_state_release(st);
	}
out:
	free(text);
	fclose(f);
	return rc;
}

int rp_select_state_write(const char *path, const struct rp_select_state *st, struct rp_err *err)
{
	char *text = NULL;
	int rc;

	rc = rp_select_state_format(st, &text, err);
	if (rc)
		return rc;
	/* A new temporary file, renamed over the state file, never through a link. */
	rc = rp_outfile_replace(path, text, strlen(text), 0600, true, err);
	if (rc)
		rp_err_prefix(err, "state file");
	free(text);
	return rc;
}

void rp_select_state_record(struct rp_select_state *st, const uint8_t *checked, time_t started,
			    const char *mode)
{
	struct rp_select_run *r;
	uint64_t i, n = 0;

	st->last_run++;
	for (i = 0; i < st->chunk_count; i++) {
		if (checked[i]) {
			st->chunk_run[i] = st->last_run;
			n++;
		}
	}
	if (st->nruns == RP_SELECT_STATE_MAX_RUNS) {
		memmove(&st->runs[0], &st->runs[1], sizeof(st->runs[0]) * (st->nruns - 1));
		st->nruns--;
	}
	r = &st->runs[st->nruns++];
	memset(r, 0, sizeof(*r));
	r->run = st->last_run;
	rp_time_iso(started, r->started);
	snprintf(r->mode, sizeof(r->mode), "%s", mode);
	r->chunks = n;
}

bool rp_select_lrv_tier(const struct rp_select_state *st, uint64_t *after, uint8_t *map,
			uint64_t *selected)
{
	uint64_t best = UINT64_MAX, i, n = 0;
	bool any = false;

	for (i = 0; i < st->chunk_count; i++) {
		uint64_t r = st->chunk_run[i];
		if (*after != UINT64_MAX && r <= *after)
			continue;
		if (!any || r < best) {
			best = r;
			any = true;
		}
	}
	if (!any)
		return false;
	for (i = 0; i < st->chunk_count; i++) {
		map[i] = st->chunk_run[i] == best;
		n += map[i];
	}
	*after = best;
	*selected = n;
	return true;
}
