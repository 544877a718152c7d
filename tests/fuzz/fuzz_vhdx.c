/*
 * Fuzz the VHDX parsers. The input is split into pieces (a short piece is passed short, to
 * exercise the truncation checks):
 *
 *   16 bytes   control: byte 0 bit 0 = VHDX_IGNORE_CHECKSUMS, bytes 8..15 = file size (LE)
 *   520        file type identifier
 *   4096       header 1
 *   4096       header 2
 *   4096       region table, zero-padded to 64 KiB (the rest of a real table is zero)
 *   4096       metadata table, zero-padded to 64 KiB
 *   4 + n      n (LE, capped) bytes of metadata items, placed at +64 KiB in the region
 *   rest       BAT
 *
 * Seeds are made by tests/fuzz/make_seeds_vhdx_gpt.py from qemu-img images.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/endian.h"
#include "formats/vhdx.h"

#define PIECE 4096u
#define MAX_ITEMS (1024u * 1024u)

struct cursor {
	const uint8_t *p;
	size_t left;
};

static const uint8_t *take(struct cursor *c, size_t want, size_t *got)
{
	const uint8_t *p = c->p;

	*got = want < c->left ? want : c->left;
	c->p += *got;
	c->left -= *got;
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = {data, size};
	struct vhdx_header h1, h2;
	struct vhdx_region_table rt;
	struct vhdx_metadata *m;
	struct rp_err err;
	const uint8_t *p;
	uint8_t *region, *meta;
	uint64_t file_size;
	unsigned flags;
	size_t n, items;
	bool ok1, ok2;
	char creator[300];

	if (size < 16)
		return 0;
	flags = (data[0] & 1) ? VHDX_IGNORE_CHECKSUMS : 0;
	file_size = rp_le64(data + 8);
	c.p += 16;
	c.left -= 16;

	p = take(&c, 520, &n);
	vhdx_file_id_parse(p, n, creator, sizeof(creator), &err);
	p = take(&c, VHDX_HEADER_SIZE, &n);
	ok1 = vhdx_header_parse(p, n, flags, &h1, &err) == 0;
	p = take(&c, VHDX_HEADER_SIZE, &n);
	ok2 = vhdx_header_parse(p, n, flags, &h2, &err) == 0;
	vhdx_header_current(&h1, ok1, &h2, ok2, &err);

	region = calloc(1, VHDX_REGION_SIZE);
	m = malloc(sizeof(*m));
	if (!region || !m)
		goto out;
	p = take(&c, PIECE, &n);
	memcpy(region, p, n);
	vhdx_region_table_parse(region, VHDX_REGION_SIZE, file_size, flags, &rt, &err);

	p = take(&c, PIECE, &n);
	if (n < PIECE)
		goto out;
	items = 0;
	if (c.left >= 4) {
		items = rp_le32(c.p);
		c.p += 4;
		c.left -= 4;
		if (items > MAX_ITEMS)
			items = MAX_ITEMS;
		if (items > c.left)
			items = c.left;
	}
	meta = calloc(1, 65536 + items);
	if (!meta)
		goto out;
	memcpy(meta, p, n);
	memcpy(meta + 65536, c.p, items);
	c.p += items;
	c.left -= items;
	if (vhdx_metadata_parse(meta, 65536 + items, m, &err) == 0) {
		vhdx_bat_index(m, vhdx_payload_blocks(m) - 1);
		vhdx_bat_check(c.p, c.left, m, file_size, &err);
	}
	/* The same table, truncated, must fail cleanly. */
	vhdx_metadata_parse(meta, 65535, m, &err);
	free(meta);
out:
	free(m);
	free(region);
	return 0;
}
