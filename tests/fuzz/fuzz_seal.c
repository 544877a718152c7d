/*
 * Fuzz target for rp_seal_parse: any input must be accepted or rejected with RP_EFORMAT and a
 * message, never crash or allocate by what the document claims. An accepted seal must survive
 * rp_seal_to_json and parse back to the same seal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const struct rp_seal *a, const struct rp_seal *b)
{
	if (a->version != b->version || strcmp(a->tool, b->tool) != 0 ||
	    strcmp(a->created, b->created) != 0 || strcmp(a->source_name, b->source_name) != 0 ||
	    strcmp(a->source_format, b->source_format) != 0 || a->virtual_size != b->virtual_size ||
	    a->chunk_size != b->chunk_size || a->chunk_count != b->chunk_count ||
	    a->has_sha256 != b->has_sha256 || a->has_md5 != b->has_md5 ||
	    a->has_sha1 != b->has_sha1 ||
	    (a->has_sha256 && memcmp(a->sha256, b->sha256, sizeof(a->sha256)) != 0) ||
	    (a->has_md5 && memcmp(a->md5, b->md5, sizeof(a->md5)) != 0) ||
	    (a->has_sha1 && memcmp(a->sha1, b->sha1, sizeof(a->sha1)) != 0) ||
	    a->has_identity != b->has_identity ||
	    (a->has_identity && memcmp(a->identity, b->identity, sizeof(a->identity)) != 0) ||
	    !rp_seal_chunks_equal(a, b))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_seal *s = NULL, *t = NULL;
	struct rp_json *j = NULL;
	struct rp_err err;
	char *text;
	int rc;

	rp_err_init(&err);
	rc = rp_seal_parse((const char *)data, size, &s, &err);
	if (rc) {
		if (rc != RP_EFORMAT || err.msg[0] == '\0' || s)
			abort();
		return 0;
	}
	if (rp_seal_to_json_version(s, s->version, &j, &err) != 0)
		abort();
	text = rp_json_dump(j, false);
	if (!text)
		abort();
	if (rp_seal_parse(text, strlen(text), &t, &err) != 0)
		abort();
	check_same(s, t);
	free(text);
	rp_json_free(j);
	rp_seal_free(s);
	rp_seal_free(t);
	return 0;
}
