/*
 * Fuzz target for rp_descriptor_parse: any input is accepted or refused with RP_EFORMAT and a
 * message, never crashes or allocates by what it claims. An accepted descriptor must be written
 * by rp_descriptor_to_json and parse back to the same descriptor.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/descriptor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_same(const struct rp_descriptor *a, const struct rp_descriptor *b)
{
	size_t i;

	if (strcmp(a->id, b->id) != 0 || strcmp(a->created, b->created) != 0 ||
	    memcmp(&a->vm, &b->vm, sizeof(a->vm)) != 0 || a->ndisks != b->ndisks ||
	    !str_same(a->guest_state.source, b->guest_state.source) ||
	    !str_same(a->vm_metadata.source, b->vm_metadata.source) ||
	    a->guest_state.has_size != b->guest_state.has_size ||
	    a->guest_state.size != b->guest_state.size)
		abort();
	for (i = 0; i < a->ndisks; i++) {
		const struct rp_desc_disk *x = &a->disks[i], *y = &b->disks[i];

		if (strcmp(x->name, y->name) != 0 || x->role != y->role || x->lun != y->lun ||
		    strcmp(x->source, y->source) != 0 || x->has_size != y->has_size ||
		    x->size != y->size || !x->seal != !y->seal)
			abort();
		if (x->seal && (x->seal->chunk_count != y->seal->chunk_count ||
				x->seal->virtual_size != y->seal->virtual_size))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_descriptor *d = NULL, *e = NULL;
	struct rp_json *j = NULL;
	struct rp_err err;
	char *text;
	int rc;

	rp_err_init(&err);
	rc = rp_descriptor_parse((const char *)data, size, &d, &err);
	if (rc) {
		if (rc != RP_EFORMAT || err.msg[0] == '\0' || d)
			abort();
		return 0;
	}
	if (rp_descriptor_to_json(d, &j, &err) != 0)
		abort();
	text = rp_json_dump(j, false);
	if (!text)
		abort();
	if (rp_descriptor_parse(text, strlen(text), &e, &err) != 0)
		abort();
	check_same(d, e);
	free(text);
	rp_json_free(j);
	rp_descriptor_free(d);
	rp_descriptor_free(e);
	return 0;
}
