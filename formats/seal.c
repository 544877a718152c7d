/*
 * The seal file (docs/seal.md): parsing, validation and writing. Parsing is pure (text in,
 * struct out); every message names the field it is about, prefixed with "seal: ".
 */
#include "formats/seal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Allocate a seal with count chunk entries (zeroed); RP_EIO when out of memory. */
static int seal_alloc(uint64_t count, struct rp_seal **out, struct rp_err *err)
{
	struct rp_seal *s;

	if (count > SIZE_MAX / sizeof(struct rp_seal_chunk))
		return rp_err_set(err, RP_EIO, "seal: %" PRIu64 " chunks do not fit in memory",
				  count);
	s = calloc(1, sizeof(*s));
	if (!s)
		return rp_err_set(err, RP_EIO, "seal: out of memory");
	/* calloc(0) may return NULL; one spare entry keeps "chunks != NULL" an invariant. */
	s->chunks = calloc(count ? (size_t)count : 1, sizeof(struct rp_seal_chunk));
	if (!s->chunks) {
		free(s);
		return rp_err_set(err, RP_EIO, "seal: out of memory for %" PRIu64 " chunks", count);
	}
	s->chunk_count = count;
	*out = s;
	return 0;
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
	if (!s)
		return;
	free(s->chunks);
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
	if (version < 1)
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
		struct rp_seal_chunk *c = &s->chunks[i];

		if (!t)
			return rp_err_set(err, RP_EFORMAT, "seal: chunks[%zu] is not a string", i);
		if (strcmp(t, CHUNK_ZERO_TEXT) == 0) {
			c->state = RP_CHUNK_ZERO;
		} else if (strcmp(t, CHUNK_UNALLOCATED_TEXT) == 0) {
			c->state = RP_CHUNK_UNALLOCATED;
		} else if (rp_unhex(t, c->sha256, sizeof(c->sha256)) == 0) {
			c->state = RP_CHUNK_DATA;
		} else {
			/* %.80s: a hostile entry may be long; the message stays readable. */
			return rp_err_set(
			    err, RP_EFORMAT,
			    "seal: chunks[%zu]: '%.80s' is not a sha256 digest, 'zero' "
			    "or 'unallocated'",
			    i, t);
		}
	}
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
	/* A small document may claim a huge disk: allocate only for entries that are present. */
	rc = chunks_array(root, h.chunk_count, &arr, err);
	if (rc)
		return rc;
	rc = seal_alloc(h.chunk_count, &s, err);
	if (rc)
		return rc;
	h.chunks = s->chunks;
	*s = h;
	rc = parse_chunks(arr, s, err);
	if (!rc)
		rc = parse_digests(root, s, err);
	if (rc) {
		rp_seal_free(s);
		return rc;
	}
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

int rp_seal_to_json(const struct rp_seal *s, struct rp_json **out, struct rp_err *err)
{
	struct rp_json *root, *src, *arr, *dig;
	uint64_t i;
	int rc = 0;

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
	rc |= rp_json_set_u64(root, "version", RP_SEAL_VERSION);
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
	arr = rp_json_new_array();
	for (i = 0; arr && rc == 0 && i < s->chunk_count; i++)
		rc |= rp_json_append(arr, chunk_json(&s->chunks[i]));
	rc |= rp_json_set(root, "chunks", arr);
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

int rp_seal_write(const char *path, const struct rp_seal *s, struct rp_err *err)
{
	struct rp_json *root = NULL;
	int rc;

	rc = rp_seal_to_json(s, &root, err);
	if (rc)
		return rc;
	rc = rp_json_write_file(path, root, err);
	rp_json_free(root);
	return rc;
}
