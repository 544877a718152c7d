/*
 * The seal file (docs/seal.md): parsing, validation and writing. Parsing is pure (text in,
 * struct out); every message names the field it is about, prefixed with "seal: ".
 *
 * In memory the chunks are kept in groups of 64: a bit mask of data chunks, a bit mask of
 * unallocated ones (neither bit: zero), and the data chunks' SHA-256 in chunk order, so a chunk's
 * digest is at the popcount of the data bits below it. The digest array grows by doubling: its
 * capacity is the smallest power of two not below the number of data chunks (or more, after a
 * data chunk was cleared).
 *
 * A seal that borrows (rp_seal_borrow) may leave a group's digest array NULL while it has data
 * bits: every data chunk of that group then has, in the base seal, the same SHA-256, read from
 * there at the base's rank (group_sha). The first chunk set that differs from the base gives the
 * group its own array, with the base's digests of its data chunks copied in (group_own).
 *
 * A parsed seal, which does not change afterwards, has its digests packed in one array, the
 * slab (seal_pack): 32 bytes per data chunk, without an allocation per group (a group with one
 * data chunk cost 48 bytes of malloc for its 32; a 1 TiB write in scattered 4 MiB chunks is 256 Ki
 * such groups). A group whose digests are in the slab is given its own array before it changes
 * (group_unslab).
 */
#include "formats/seal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/base64.h"
#include "common/util.h"

#define CHUNK_ZERO_TEXT "zero"
#define CHUNK_UNALLOCATED_TEXT "unallocated"

uint64_t rp_seal_chunks_for(uint64_t size, uint64_t chunk_size)
{
	if (chunk_size == 0)
		return 0;
	return size / chunk_size + (size % chunk_size != 0);
}

static bool chunk_size_valid(uint64_t chunk_size)
{
	return chunk_size % 512 == 0 && chunk_size >= RP_SEAL_MIN_CHUNK &&
	       chunk_size <= RP_SEAL_MAX_CHUNK;
}

#define TAG_ZERO 'Z'
#define TAG_UNALLOCATED 'U'
#define TAG_DATA 'D'

struct rp_seal_group {
	uint64_t data;	  /* bit j: chunk 64g+j has data */
	uint64_t unalloc; /* bit j: chunk 64g+j was never allocated (never with its data bit) */
	uint8_t *sha;	  /* 32 bytes per data bit, in chunk order */
};

static uint64_t group_count(uint64_t chunks)
{
	return chunks / 64 + (chunks % 64 != 0);
}

static unsigned popcount64(uint64_t v)
{
	return (unsigned)__builtin_popcountll(v);
}

/* Allocate a seal with count chunks (all zero); RP_EIO when out of memory. */
static int seal_alloc(uint64_t count, struct rp_seal **out, struct rp_err *err)
{
	uint64_t ng = group_count(count);
	struct rp_seal *s;

	if (count > RP_SEAL_MAX_CHUNKS || ng > SIZE_MAX / sizeof(struct rp_seal_group))
		return rp_err_set(err, RP_EIO,
				  "seal: %" PRIu64
				  " chunks are more than %llu, the most a seal holds",
				  count, (unsigned long long)RP_SEAL_MAX_CHUNKS);
	s = calloc(1, sizeof(*s));
	if (!s)
		return rp_err_set(err, RP_EIO, "seal: out of memory");
	/* calloc(0) may return NULL; one spare group keeps "groups != NULL" an invariant. */
	s->groups = calloc(ng ? (size_t)ng : 1, sizeof(struct rp_seal_group));
	if (!s->groups) {
		free(s);
		return rp_err_set(err, RP_EIO, "seal: out of memory for %" PRIu64 " chunks", count);
	}
	s->chunk_count = count;
	*out = s;
	return 0;
}

/* The digest of data chunk 64g+j (bit b = 1 << j set in g->data), own or borrowed. */
static const uint8_t *group_sha(const struct rp_seal *s, const struct rp_seal_group *g, uint64_t i,
				uint64_t b)
{
	if (g->sha)
		return g->sha + 32 * (size_t)popcount64(g->data & (b - 1));
	return rp_seal_chunk_sha(s->base, i);
}

const uint8_t *rp_seal_chunk_sha(const struct rp_seal *s, uint64_t i)
{
	const struct rp_seal_group *g = &s->groups[i / 64];
	uint64_t b = 1ull << (i % 64);

	return g->data & b ? group_sha(s, g, i, b) : NULL;
}

void rp_seal_chunk_get(const struct rp_seal *s, uint64_t i, struct rp_seal_chunk *out)
{
	const struct rp_seal_group *g = &s->groups[i / 64];
	uint64_t b = 1ull << (i % 64);

	if (g->data & b) {
		out->state = RP_CHUNK_DATA;
		memcpy(out->sha256, group_sha(s, g, i, b), 32);
		return;
	}
	out->state = g->unalloc & b ? RP_CHUNK_UNALLOCATED : RP_CHUNK_ZERO;
	memset(out->sha256, 0, sizeof(out->sha256));
}

enum rp_chunk_state rp_seal_chunk_state(const struct rp_seal *s, uint64_t i)
{
	const struct rp_seal_group *g = &s->groups[i / 64];
	uint64_t b = 1ull << (i % 64);

	return g->data & b ? RP_CHUNK_DATA : g->unalloc & b ? RP_CHUNK_UNALLOCATED : RP_CHUNK_ZERO;
}

/* Give borrowed group gi (g->sha NULL, data bits set) its own digest array, its capacity the
 * smallest power of two not below its data chunks (as rp_seal_chunk_set keeps it); -1 when out
 * of memory (nothing changed). */
static int group_own(const struct rp_seal *s, struct rp_seal_group *g, uint64_t gi)
{
	unsigned n = popcount64(g->data), cap = 1, k = 0, j;
	uint8_t *p;

	while (cap < n)
		cap *= 2;
	p = malloc(32 * (size_t)cap);
	if (!p)
		return -1;
	for (j = 0; j < 64; j++)
		if ((g->data >> j) & 1)
			memcpy(p + 32 * (size_t)k++, rp_seal_chunk_sha(s->base, gi * 64 + j), 32);
	g->sha = p;
	return 0;
}

int rp_seal_borrow(struct rp_seal *s, const struct rp_seal *base, struct rp_err *err)
{
	if (!base || base == s || base->base || base->chunk_count != s->chunk_count || s->base)
		return rp_err_set(err, RP_EUSAGE, "seal: cannot borrow the digests of that seal");
	s->base = base;
	return 0;
}

static bool in_slab(const struct rp_seal *s, const uint8_t *p)
{
	return s->slab && p >= s->slab && p < s->slab + s->slab_len;
}

/* Give group g, whose digests are in the slab, its own array (capacity as rp_seal_chunk_set
 * keeps it); -1 when out of memory (nothing changed). */
static int group_unslab(struct rp_seal *s, struct rp_seal_group *g)
{
	unsigned n = popcount64(g->data), cap = 1;
	uint8_t *p;

	(void)s;
	while (cap < n)
		cap *= 2;
	p = malloc(32 * (size_t)cap);
	if (!p)
		return -1;
	memcpy(p, g->sha, 32 * (size_t)n);
	g->sha = p;
	return 0;
}

/* Pack the digests of every group into one slab (a seal just parsed). Out of memory: they stay
 * where they are. */
static void seal_pack(struct rp_seal *s)
{
	uint64_t ng = group_count(s->chunk_count), i, d = 0;
	size_t o = 0;

	for (i = 0; i < ng; i++)
		d += popcount64(s->groups[i].data);
	if (s->slab || s->base || d == 0 || d > SIZE_MAX / 32)
		return;
	s->slab = malloc(32 * (size_t)d);
	if (!s->slab)
		return;
	s->slab_len = 32 * (size_t)d;
	for (i = 0; i < ng; i++) {
		struct rp_seal_group *g = &s->groups[i];
		size_t n = 32 * (size_t)popcount64(g->data);

		if (!n)
			continue;
		memcpy(s->slab + o, g->sha, n);
		free(g->sha);
		g->sha = s->slab + o;
		o += n;
	}
}

int rp_seal_chunk_set(struct rp_seal *s, uint64_t i, const struct rp_seal_chunk *c,
		      struct rp_err *err)
{
	struct rp_seal_group *g;
	uint64_t b;
	unsigned k, n;

	if (i >= s->chunk_count || c->state > RP_CHUNK_UNALLOCATED)
		return rp_err_set(err, RP_EUSAGE, "seal: chunk %" PRIu64 " (state %u) is not valid",
				  i, (unsigned)c->state);
	g = &s->groups[i / 64];
	b = 1ull << (i % 64);
	if (!g->sha && s->base && c->state == RP_CHUNK_DATA) {
		const uint8_t *want = rp_seal_chunk_sha(s->base, i);

		if (want && memcmp(want, c->sha256, 32) == 0) {
			g->data |= b; /* the base holds this digest */
			g->unalloc &= ~b;
			return 0;
		}
		if (g->data && group_own(s, g, i / 64) != 0)
			return rp_err_set(err, RP_EIO, "seal: out of memory");
	}
	if (!g->sha && (g->data & b)) { /* borrowed: nothing stored to remove */
		g->data &= ~b;
		if (c->state == RP_CHUNK_UNALLOCATED)
			g->unalloc |= b;
		return 0;
	}
	if (in_slab(s, g->sha) && group_unslab(s, g) != 0)
		return rp_err_set(err, RP_EIO, "seal: out of memory");
	k = popcount64(g->data & (b - 1));
	n = popcount64(g->data);
	if (c->state == RP_CHUNK_DATA) {
		if (!(g->data & b)) {
			if ((n & (n - 1)) == 0) { /* 0 or a power of two: full */
				uint8_t *p = realloc(g->sha, 32 * (size_t)(n ? 2 * n : 1));

				if (!p)
					return rp_err_set(err, RP_EIO, "seal: out of memory");
				g->sha = p;
			}
			memmove(g->sha + 32 * (size_t)(k + 1), g->sha + 32 * (size_t)k,
				32 * (size_t)(n - k));
			g->data |= b;
			g->unalloc &= ~b;
		}
		memcpy(g->sha + 32 * (size_t)k, c->sha256, 32);
		return 0;
	}
	if (g->data & b) {
		memmove(g->sha + 32 * (size_t)k, g->sha + 32 * (size_t)(k + 1),
			32 * (size_t)(n - k - 1));
		g->data &= ~b;
		if (n == 1) {
			free(g->sha);
			g->sha = NULL;
		}
	}
	if (c->state == RP_CHUNK_UNALLOCATED)
		g->unalloc |= b;
	else
		g->unalloc &= ~b;
	return 0;
}

void rp_seal_counts(const struct rp_seal *s, uint64_t counts[3])
{
	uint64_t ng = group_count(s->chunk_count), i, d = 0, u = 0;

	for (i = 0; i < ng; i++) {
		d += popcount64(s->groups[i].data);
		u += popcount64(s->groups[i].unalloc);
	}
	counts[RP_CHUNK_DATA] = d;
	counts[RP_CHUNK_UNALLOCATED] = u;
	counts[RP_CHUNK_ZERO] = s->chunk_count - d - u;
}

bool rp_seal_chunks_equal(const struct rp_seal *a, const struct rp_seal *b)
{
	uint64_t ng = group_count(a->chunk_count), i;

	if (a->chunk_count != b->chunk_count)
		return false;
	for (i = 0; i < ng; i++) {
		const struct rp_seal_group *x = &a->groups[i], *y = &b->groups[i];
		size_t n = 32 * (size_t)popcount64(x->data);
		unsigned j;

		if (x->data != y->data || x->unalloc != y->unalloc)
			return false;
		if (x->sha && y->sha) {
			if (n && memcmp(x->sha, y->sha, n) != 0)
				return false;
			continue;
		}
		for (j = 0; j < 64; j++)
			if (((x->data >> j) & 1) &&
			    memcmp(rp_seal_chunk_sha(a, i * 64 + j),
				   rp_seal_chunk_sha(b, i * 64 + j), 32) != 0)
				return false;
	}
	return true;
}

int rp_seal_new(uint64_t virtual_size, uint64_t chunk_size, struct rp_seal **out,
		struct rp_err *err)
{
	struct rp_seal *s;
	char now[RP_TIME_STR];
	int rc;

	if (!chunk_size_valid(chunk_size))
		return rp_err_set(err, RP_EUSAGE,
				  "chunk size %" PRIu64
				  " is not a multiple of 512 between %u and %u",
				  chunk_size, RP_SEAL_MIN_CHUNK, RP_SEAL_MAX_CHUNK);
	rc = seal_alloc(rp_seal_chunks_for(virtual_size, chunk_size), &s, err);
	if (rc)
		return rc;
	s->version = RP_SEAL_VERSION;
	snprintf(s->tool, sizeof(s->tool), "cvmrestore %s", RP_VERSION);
	rp_time_iso(time(NULL), now);
	snprintf(s->created, sizeof(s->created), "%s", now);
	s->virtual_size = virtual_size;
	s->chunk_size = chunk_size;
	*out = s;
	return 0;
}

void rp_seal_free(struct rp_seal *s)
{
	uint64_t ng, i;

	if (!s)
		return;
	ng = group_count(s->chunk_count);
	for (i = 0; s->groups && i < ng; i++)
		if (!in_slab(s, s->groups[i].sha))
			free(s->groups[i].sha);
	free(s->groups);
	free(s->slab);
	free(s);
}

/* A required string member copied into dst[0..dstsz); name is the field's path for messages. */
static int get_string(const struct rp_json *obj, const char *key, const char *name, char *dst,
		      size_t dstsz, struct rp_err *err)
{
	const struct rp_json *v = rp_json_get(obj, key);
	const char *s;
	size_t n;

	if (!v)
		return rp_err_set(err, RP_EFORMAT, "seal: %s is missing", name);
	s = rp_json_string(v);
	if (!s)
		return rp_err_set(err, RP_EFORMAT, "seal: %s is not a string", name);
	n = strlen(s);
	if (n >= dstsz)
		return rp_err_set(err, RP_EFORMAT, "seal: %s is longer than %zu bytes", name,
				  dstsz - 1);
	memcpy(dst, s, n + 1);
	return 0;
}

static int get_u64(const struct rp_json *obj, const char *key, const char *name, uint64_t *out,
		   struct rp_err *err)
{
	const struct rp_json *v = rp_json_get(obj, key);

	if (!v)
		return rp_err_set(err, RP_EFORMAT, "seal: %s is missing", name);
	if (rp_json_u64(v, out) != 0)
		return rp_err_set(err, RP_EFORMAT, "seal: %s is not a non-negative integer", name);
	return 0;
}

static int parse_header(const struct rp_json *root, struct rp_seal *h, struct rp_err *err)
{
	const struct rp_json *src;
	char format[32];
	uint64_t version;
	int rc;

	if (!rp_json_is_object(root))
		return rp_err_set(err, RP_EFORMAT, "seal: the document is not a JSON object");
	rc = get_string(root, "format", "format", format, sizeof(format), err);
	if (rc)
		return rc;
	if (strcmp(format, RP_SEAL_FORMAT) != 0)
		return rp_err_set(err, RP_EFORMAT, "seal: format '%s' is not '%s'", format,
				  RP_SEAL_FORMAT);
	rc = get_u64(root, "version", "version", &version, err);
	if (rc)
		return rc;
	if (version > RP_SEAL_VERSION)
		return rp_err_set(err, RP_EFORMAT,
				  "seal version %" PRIu64 " is newer than this tool understands",
				  version);
	if (version < RP_SEAL_VERSION_MIN)
		return rp_err_set(err, RP_EFORMAT, "seal: version %" PRIu64 " is not valid",
				  version);
	h->version = (unsigned)version;
	rc = get_string(root, "tool", "tool", h->tool, sizeof(h->tool), err);
	if (!rc)
		rc = get_string(root, "created", "created", h->created, sizeof(h->created), err);
	if (rc)
		return rc;
	src = rp_json_get(root, "source");
	if (!src)
		return rp_err_set(err, RP_EFORMAT, "seal: source is missing");
	if (!rp_json_is_object(src))
		return rp_err_set(err, RP_EFORMAT, "seal: source is not an object");
	rc = get_string(src, "name", "source.name", h->source_name, sizeof(h->source_name), err);
	if (!rc)
		rc = get_string(src, "format", "source.format", h->source_format,
				sizeof(h->source_format), err);
	if (!rc)
		rc = get_u64(src, "virtual_size", "source.virtual_size", &h->virtual_size, err);
	if (!rc)
		rc = get_u64(root, "chunk_size", "chunk_size", &h->chunk_size, err);
	if (!rc)
		rc = get_u64(root, "chunk_count", "chunk_count", &h->chunk_count, err);
	if (rc)
		return rc;
	if (!chunk_size_valid(h->chunk_size))
		return rp_err_set(err, RP_EFORMAT,
				  "seal: chunk_size %" PRIu64
				  " is not a multiple of 512 between %u and %u",
				  h->chunk_size, RP_SEAL_MIN_CHUNK, RP_SEAL_MAX_CHUNK);
	if (h->chunk_count != rp_seal_chunks_for(h->virtual_size, h->chunk_size))
		return rp_err_set(err, RP_EFORMAT,
				  "seal: chunk_count %" PRIu64
				  " does not match virtual_size %" PRIu64 " / chunk_size %" PRIu64
				  " (%" PRIu64 " chunks)",
				  h->chunk_count, h->virtual_size, h->chunk_size,
				  rp_seal_chunks_for(h->virtual_size, h->chunk_size));
	return 0;
}

/* The chunks array, checked against chunk_count before anything is allocated for it. */
static int chunks_array(const struct rp_json *root, uint64_t chunk_count,
			const struct rp_json **out, struct rp_err *err)
{
	const struct rp_json *arr = rp_json_get(root, "chunks");
	size_t n;

	if (!arr)
		return rp_err_set(err, RP_EFORMAT, "seal: chunks is missing");
	if (!rp_json_is_array(arr))
		return rp_err_set(err, RP_EFORMAT, "seal: chunks is not an array");
	n = rp_json_array_size(arr);
	if ((uint64_t)n != chunk_count)
		return rp_err_set(err, RP_EFORMAT,
				  "seal: chunks has %zu entries, chunk_count is %" PRIu64, n,
				  chunk_count);
	*out = arr;
	return 0;
}

static int parse_chunks(const struct rp_json *arr, struct rp_seal *s, struct rp_err *err)
{
	size_t n = (size_t)s->chunk_count, i;

	for (i = 0; i < n; i++) {
		const char *t = rp_json_string(rp_json_array_at(arr, i));
		struct rp_seal_chunk c;

		memset(&c, 0, sizeof(c));
		if (!t)
			return rp_err_set(err, RP_EFORMAT, "seal: chunks[%zu] is not a string", i);
		if (strcmp(t, CHUNK_ZERO_TEXT) == 0) {
			c.state = RP_CHUNK_ZERO;
		} else if (strcmp(t, CHUNK_UNALLOCATED_TEXT) == 0) {
			c.state = RP_CHUNK_UNALLOCATED;
		} else if (rp_unhex(t, c.sha256, sizeof(c.sha256)) == 0) {
			c.state = RP_CHUNK_DATA;
		} else {
			/* %.80s: a hostile entry may be long; the message stays readable. */
			return rp_err_set(
			    err, RP_EFORMAT,
			    "seal: chunks[%zu]: '%.80s' is not a sha256 digest, 'zero' "
			    "or 'unallocated'",
			    i, t);
		}
		if (rp_seal_chunk_set(s, i, &c, err) != 0)
			return RP_EIO;
	}
	return 0;
}

/* An unsigned LEB128 count at t[*pos..len) (at most 9 bytes, minimal, not zero). */
static bool read_count(const uint8_t *t, size_t len, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	size_t p = *pos;

	for (;;) {
		uint8_t b;

		if (p >= len || shift > 56)
			return false;
		b = t[p++];
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			/* A last byte of 0 after others is an overlong encoding. */
			if (b == 0 && shift > 7)
				return false;
			break;
		}
	}
	if (v == 0)
		return false;
	*pos = p;
	*out = v;
	return true;
}

/* Fill chunks [first, first+n) of a fresh seal with a zero or unallocated state. */
static void fill_empty(struct rp_seal *s, uint64_t first, uint64_t n, uint8_t state)
{
	uint64_t i = first, end = first + n;

	if (state != RP_CHUNK_UNALLOCATED)
		return; /* a fresh seal's chunks are zero */
	while (i < end) {
		uint64_t j = i % 64, m = end - i < 64 - j ? end - i : 64 - j;
		uint64_t mask = m == 64 ? ~0ull : ((1ull << m) - 1) << j;

		s->groups[i / 64].unalloc |= mask;
		i += m;
	}
}

/* The binary chunk table (docs/seal.md, version 2) into a fresh seal. */
static int parse_table_bytes(const uint8_t *t, size_t len, struct rp_seal *s, struct rp_err *err)
{
	uint64_t next = 0;
	size_t pos = 0;

	while (pos < len) {
		size_t at = pos;
		uint8_t tag = t[pos++];
		uint64_t n, k;

		if (tag != TAG_ZERO && tag != TAG_UNALLOCATED && tag != TAG_DATA)
			return rp_err_set(
			    err, RP_EFORMAT,
			    "seal: chunk_table: unknown record tag 0x%02x at byte %zu "
			    "(expected 'Z', 'U' or 'D')",
			    tag, at);
		if (!read_count(t, len, &pos, &n))
			return rp_err_set(
			    err, RP_EFORMAT,
			    "seal: chunk_table: the run at byte %zu has no valid count "
			    "(a minimal LEB128 number from 1)",
			    at);
		if (n > s->chunk_count - next)
			return rp_err_set(err, RP_EFORMAT,
					  "seal: chunk_table: the run at byte %zu of %" PRIu64
					  " chunks goes past chunk_count %" PRIu64,
					  at, n, s->chunk_count);
		if (tag != TAG_DATA) {
			fill_empty(s, next, n,
				   tag == TAG_ZERO ? RP_CHUNK_ZERO : RP_CHUNK_UNALLOCATED);
			next += n;
			continue;
		}
		if (n > (len - pos) / 32)
			return rp_err_set(err, RP_EFORMAT,
					  "seal: chunk_table: the data run at byte %zu of %" PRIu64
					  " digests ends past the table (%zu bytes left)",
					  at, n, len - pos);
		for (k = 0; k < n; k++, next++, pos += 32) {
			struct rp_seal_chunk c = {.state = RP_CHUNK_DATA};

			memcpy(c.sha256, t + pos, 32);
			if (rp_seal_chunk_set(s, next, &c, err) != 0)
				return RP_EIO;
		}
	}
	if (next != s->chunk_count)
		return rp_err_set(err, RP_EFORMAT,
				  "seal: chunk_table: the runs cover %" PRIu64
				  " chunks, chunk_count is %" PRIu64,
				  next, s->chunk_count);
	return 0;
}

static int parse_table(const struct rp_json *root, struct rp_seal *s, struct rp_err *err)
{
	const struct rp_json *v = rp_json_get(root, "chunk_table");
	const char *text;
	uint8_t *bin;
	size_t n, max, got = 0;
	int rc;

	if (!v)
		return rp_err_set(err, RP_EFORMAT, "seal: chunk_table is missing");
	text = rp_json_string(v);
	if (!text)
		return rp_err_set(err, RP_EFORMAT, "seal: chunk_table is not a string");
	n = strlen(text);
	max = rp_b64_decoded_max(n);
	bin = malloc(max ? max : 1);
	if (!bin)
		return rp_err_set(err, RP_EIO, "seal: out of memory for the chunk table");
	rc = rp_b64_decode(text, n, RP_B64_STD, bin, max ? max : 1, &got, err);
	if (rc) {
		rp_err_prefix(err, "seal: chunk_table");
		rc = RP_EFORMAT;
	} else {
		rc = parse_table_bytes(bin, got, s, err);
	}
	free(bin);
	return rc;
}

static int parse_identity(const struct rp_json *root, struct rp_seal *s, struct rp_err *err)
{
	const struct rp_json *id = rp_json_get(root, "identity"), *v;
	const char *t;

	if (!id)
		return 0;
	if (!rp_json_is_object(id))
		return rp_err_set(err, RP_EFORMAT, "seal: identity is not an object");
	v = rp_json_get(id, RP_SEAL_IDENTITY_NAME);
	if (!v)
		return 0;
	t = rp_json_string(v);
	if (!t)
		return rp_err_set(err, RP_EFORMAT, "seal: identity.%s is not a string",
				  RP_SEAL_IDENTITY_NAME);
	if (rp_unhex(t, s->identity, sizeof(s->identity)) != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "seal: identity.%s: '%.80s' is not 64 hex digits",
				  RP_SEAL_IDENTITY_NAME, t);
	s->has_identity = true;
	return 0;
}

static int parse_digest(const struct rp_json *dig, const char *key, uint8_t *out, size_t len,
			bool *has, struct rp_err *err)
{
	const struct rp_json *v = rp_json_get(dig, key);
	const char *t;

	if (!v)
		return 0;
	t = rp_json_string(v);
	if (!t)
		return rp_err_set(err, RP_EFORMAT, "seal: digests.%s is not a string", key);
	if (rp_unhex(t, out, len) != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "seal: digests.%s: '%.80s' is not %zu hex digits", key, t,
				  2 * len);
	*has = true;
	return 0;
}

static int parse_digests(const struct rp_json *root, struct rp_seal *s, struct rp_err *err)
{
	const struct rp_json *dig = rp_json_get(root, "digests");
	int rc;

	if (!dig)
		return rp_err_set(err, RP_EFORMAT, "seal: digests is missing");
	if (!rp_json_is_object(dig))
		return rp_err_set(err, RP_EFORMAT, "seal: digests is not an object");
	rc = parse_digest(dig, "sha256", s->sha256, sizeof(s->sha256), &s->has_sha256, err);
	if (!rc)
		rc = parse_digest(dig, "md5", s->md5, sizeof(s->md5), &s->has_md5, err);
	if (!rc)
		rc = parse_digest(dig, "sha1", s->sha1, sizeof(s->sha1), &s->has_sha1, err);
	return rc;
}

int rp_seal_from_json(const struct rp_json *root, struct rp_seal **out, struct rp_err *err)
{
	const struct rp_json *arr = NULL;
	struct rp_seal h, *s = NULL;
	int rc;

	memset(&h, 0, sizeof(h));
	rc = parse_header(root, &h, err);
	if (rc)
		return rc;
	/* Version 1: a small document may claim a huge disk, so allocate only for entries that
	 * are present. Version 2 describes empty runs in a few bytes: the chunk count is capped
	 * (RP_SEAL_MAX_CHUNKS) instead. */
	if (h.version == 1) {
		rc = chunks_array(root, h.chunk_count, &arr, err);
		if (rc)
			return rc;
	}
	if (h.chunk_count > RP_SEAL_MAX_CHUNKS)
		return rp_err_set(err, RP_EFORMAT,
				  "seal: chunk_count %" PRIu64
				  " is more than %llu; seal with a larger --chunk-size",
				  h.chunk_count, (unsigned long long)RP_SEAL_MAX_CHUNKS);
	rc = seal_alloc(h.chunk_count, &s, err);
	if (rc)
		return rc;
	h.groups = s->groups;
	*s = h;
	rc = h.version == 1 ? parse_chunks(arr, s, err) : parse_table(root, s, err);
	if (!rc)
		rc = parse_identity(root, s, err);
	if (!rc)
		rc = parse_digests(root, s, err);
	if (rc) {
		rp_seal_free(s);
		return rc;
	}
	seal_pack(s);
	*out = s;
	return 0;
}

int rp_seal_parse(const char *text, size_t len, struct rp_seal **out, struct rp_err *err)
{
	struct rp_json *root = NULL;
	int rc;

	rc = rp_json_parse(text, len, &root, err);
	if (rc) {
		rp_err_prefix(err, "seal");
		return RP_EFORMAT;
	}
	rc = rp_seal_from_json(root, out, err);
	rp_json_free(root);
	return rc;
}

int rp_seal_load(const char *path, struct rp_seal **out, struct rp_err *err)
{
	struct rp_json *root = NULL;
	int rc;

	rc = rp_json_load_file(path, RP_SEAL_MAX_BYTES, &root, err);
	if (rc)
		return rc;
	rc = rp_seal_from_json(root, out, err);
	if (rc)
		rp_err_prefix(err, "'%s'", path);
	rp_json_free(root);
	return rc;
}

static struct rp_json *chunk_json(const struct rp_seal_chunk *c)
{
	char hex[65];

	switch (c->state) {
	case RP_CHUNK_ZERO:
		return rp_json_new_string(CHUNK_ZERO_TEXT);
	case RP_CHUNK_UNALLOCATED:
		return rp_json_new_string(CHUNK_UNALLOCATED_TEXT);
	default:
		rp_hex(c->sha256, sizeof(c->sha256), hex);
		return rp_json_new_string(hex);
	}
}

static int set_digest(struct rp_json *dig, bool has, const char *key, const uint8_t *b, size_t len)
{
	char hex[2 * 32 + 1];

	if (!has)
		return 0;
	rp_hex(b, len, hex);
	return rp_json_set_str(dig, key, hex);
}

/* A growing byte buffer for the chunk table. */
struct tbuf {
	uint8_t *b;
	size_t len, cap;
	bool oom;
};

static void tbuf_put(struct tbuf *t, const void *p, size_t n)
{
	if (t->oom)
		return;
	if (n > t->cap - t->len) {
		size_t cap = t->cap ? t->cap : 4096;
		uint8_t *nb;

		while (n > cap - t->len && cap < SIZE_MAX / 2)
			cap *= 2;
		nb = n <= cap - t->len ? realloc(t->b, cap) : NULL;
		if (!nb) {
			t->oom = true;
			return;
		}
		t->b = nb;
		t->cap = cap;
	}
	memcpy(t->b + t->len, p, n);
	t->len += n;
}

static void tbuf_run(struct tbuf *t, uint8_t tag, uint64_t n)
{
	uint8_t b[11];
	size_t k = 0;

	b[k++] = tag;
	do {
		b[k] = (uint8_t)(n & 0x7f);
		n >>= 7;
		if (n)
			b[k] |= 0x80;
		k++;
	} while (n);
	tbuf_put(t, b, k);
}

/* The version 2 chunk table: runs of one state; a data run is followed by its digests. */
static int table_build(const struct rp_seal *s, struct tbuf *t)
{
	uint64_t i = 0;

	while (i < s->chunk_count && !t->oom) {
		enum rp_chunk_state st = rp_seal_chunk_state(s, i);
		uint64_t j = i + 1, k;

		while (j < s->chunk_count && rp_seal_chunk_state(s, j) == st)
			j++;
		tbuf_run(t,
			 st == RP_CHUNK_DATA   ? TAG_DATA
			 : st == RP_CHUNK_ZERO ? TAG_ZERO
					       : TAG_UNALLOCATED,
			 j - i);
		for (k = i; st == RP_CHUNK_DATA && k < j; k++) {
			struct rp_seal_chunk c;

			rp_seal_chunk_get(s, k, &c);
			tbuf_put(t, c.sha256, 32);
		}
		i = j;
	}
	return t->oom ? RP_EIO : 0;
}

static struct rp_json *table_json(const struct rp_seal *s)
{
	struct tbuf t = {0};
	struct rp_json *v = NULL;
	size_t n, got;
	bool ok = true;
	char *text;

	if (table_build(s, &t) != 0) {
		free(t.b);
		return NULL;
	}
	n = rp_b64_encoded_len(t.len, RP_B64_STD, &ok);
	text = ok ? malloc(n + 1) : NULL;
	if (text && rp_b64_encode(t.b, t.len, RP_B64_STD, text, n + 1, &got) == 0)
		v = rp_json_new_string(text);
	free(text);
	free(t.b);
	return v;
}

int rp_seal_to_json_version(const struct rp_seal *s, unsigned version, struct rp_json **out,
			    struct rp_err *err)
{
	struct rp_json *root, *src, *arr, *dig, *id;
	uint64_t i;
	int rc = 0;

	if (version < RP_SEAL_VERSION_MIN || version > RP_SEAL_VERSION)
		return rp_err_set(err, RP_EUSAGE, "seal: version %u is not 1 or 2", version);
	/* JSON integers are signed 64-bit in jansson; refuse rather than write a wrong size. */
	if (s->virtual_size > (uint64_t)INT64_MAX ||
	    s->chunk_count != rp_seal_chunks_for(s->virtual_size, s->chunk_size) ||
	    !chunk_size_valid(s->chunk_size))
		return rp_err_set(err, RP_EUSAGE,
				  "seal: inconsistent sizes (virtual size %" PRIu64
				  ", chunk size %" PRIu64 ", %" PRIu64 " chunks)",
				  s->virtual_size, s->chunk_size, s->chunk_count);
	root = rp_json_new_object();
	if (!root)
		return rp_err_set(err, RP_EIO, "seal: out of memory");
	rc |= rp_json_set_str(root, "format", RP_SEAL_FORMAT);
	rc |= rp_json_set_u64(root, "version", version);
	rc |= rp_json_set_str(root, "tool", s->tool);
	rc |= rp_json_set_str(root, "created", s->created);
	src = rp_json_new_object();
	if (src) {
		rc |= rp_json_set_str(src, "name", s->source_name);
		rc |= rp_json_set_str(src, "format", s->source_format);
		rc |= rp_json_set_u64(src, "virtual_size", s->virtual_size);
	}
	rc |= rp_json_set(root, "source", src);
	rc |= rp_json_set_u64(root, "chunk_size", s->chunk_size);
	rc |= rp_json_set_u64(root, "chunk_count", s->chunk_count);
	if (version == 1) {
		arr = rp_json_new_array();
		for (i = 0; arr && rc == 0 && i < s->chunk_count; i++) {
			struct rp_seal_chunk c;

			rp_seal_chunk_get(s, i, &c);
			rc |= rp_json_append(arr, chunk_json(&c));
		}
		rc |= rp_json_set(root, "chunks", arr);
	} else {
		rc |= rp_json_set(root, "chunk_table", table_json(s));
	}
	if (s->has_identity) {
		id = rp_json_new_object();
		if (id)
			rc |= set_digest(id, true, RP_SEAL_IDENTITY_NAME, s->identity, 32);
		rc |= rp_json_set(root, "identity", id);
	}
	dig = rp_json_new_object();
	if (dig) {
		rc |= set_digest(dig, s->has_sha256, "sha256", s->sha256, sizeof(s->sha256));
		rc |= set_digest(dig, s->has_md5, "md5", s->md5, sizeof(s->md5));
		rc |= set_digest(dig, s->has_sha1, "sha1", s->sha1, sizeof(s->sha1));
	}
	rc |= rp_json_set(root, "digests", dig);
	if (rc) {
		rp_json_free(root);
		return rp_err_set(err, RP_EIO, "seal: out of memory building JSON");
	}
	*out = root;
	return 0;
}

int rp_seal_to_json(const struct rp_seal *s, struct rp_json **out, struct rp_err *err)
{
	return rp_seal_to_json_version(s, RP_SEAL_VERSION, out, err);
}

int rp_seal_write_version(const char *path, const struct rp_seal *s, unsigned version,
			  struct rp_err *err)
{
	struct rp_json *root = NULL;
	int rc;

	rc = rp_seal_to_json_version(s, version, &root, err);
	if (rc)
		return rc;
	rc = rp_json_write_file(path, root, err);
	rp_json_free(root);
	return rc;
}

int rp_seal_write(const char *path, const struct rp_seal *s, struct rp_err *err)
{
	return rp_seal_write_version(path, s, RP_SEAL_VERSION, err);
}
