/*
 * Fuzz target: rp_image_sniff (formats/image_sniff.c) on the input as the head of a file and,
 * when it is at least 512 bytes long, its last 512 bytes as the tail. Every answer must name a
 * format and say what it is; a JSON answer must agree with rp_image_looks_like_json.
 */
#include <stdint.h>
#include <stdlib.h>

#include "formats/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *tail = size >= 512 ? data + size - 512 : NULL;
	const struct rp_image_foreign *f;

	f = rp_image_sniff(data, size, tail, tail ? 512 : 0);
	if (f && (!f->name || !f->what))
		abort();
	if (f && !f->convert && !rp_image_looks_like_json(data, size < 512 ? size : 512))
		abort();
	return 0;
}
