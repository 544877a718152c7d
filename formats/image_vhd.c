/*
 * VHD images: fixed disks are read directly; dynamic and differencing disks through their BAT
 * and per-block sector bitmaps (VHD specification, "Dynamic Disk Header" and "Block Allocation
 * Table and Data Blocks"). libvhdi reads dynamic VHDs a sector run at a time (about 49 MiB/s
 * here, docs/libvhdi.md); reading whole blocks through the validated BAT is limited only by the
 * disk.
 */
#include "formats/image_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/endian.h"
#include "common/util.h"

#define LOCATOR_MAX_DATA (64u * 1024)

static int problem(struct rp_image *img, bool fatal, bool checksum, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int problem(struct rp_image *img, bool fatal, bool checksum, int code, const char *fmt, ...)
{
	struct rp_err e;
	va_list ap;

	e.code = code;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	return image_problem(img, fatal, checksum, &e);
}

static int open_fixed(struct rp_image *img)
{
	uint64_t data = img->file_size - VHD_FOOTER_SIZE;

	img->virtual_size = img->footer.current_size;
	if (img->footer.current_size > data)
		return problem(img, true, false, RP_EFORMAT,
			       "vhd footer at 0x%llx: current size at +48 is %llu bytes but the "
			       "file holds only %llu bytes of data (truncated?)",
			       (unsigned long long)data,
			       (unsigned long long)img->footer.current_size,
			       (unsigned long long)data);
	if (img->footer.current_size < data)
		problem(img, false, false, RP_OK,
			"vhd footer at 0x%llx: current size at +48 is %llu bytes, %llu bytes of "
			"data before the footer are not part of the disk",
			(unsigned long long)data, (unsigned long long)img->footer.current_size,
			(unsigned long long)(data - img->footer.current_size));
	if (img->allocated > img->virtual_size)
		img->allocated = img->virtual_size;
	return 0;
}

static void read_locators(struct rp_image *img)
{
	uint8_t *buf;
	unsigned i;

	buf = malloc(LOCATOR_MAX_DATA);
	if (!buf)
		return;
	for (i = 0; i < VHD_PARENT_LOCATORS; i++) {
		const struct vhd_parent_locator *l = &img->dyn.loc[i];
		struct rp_err e;
		char code[5];

		rp_err_init(&e);
		if (l->code == 0 || l->data_length == 0)
			continue;
		vhd_locator_code_str(l->code, code);
		if (l->data_length > LOCATOR_MAX_DATA) {
			problem(img, false, false, RP_OK,
				"parent locator %u (%s): data length %u is larger than %u bytes", i,
				code, l->data_length, LOCATOR_MAX_DATA);
			continue;
		}
		if (image_pread(img, buf, l->data_length, l->data_offset, &e) != 0 ||
		    vhd_locator_decode(l->code, buf, l->data_length, img->locator[i],
				       sizeof(img->locator[i]), &e) != 0) {
			rp_err_prefix(&e, "parent locator %u (%s)", i, code);
			image_problem(img, false, false, &e);
			img->locator[i][0] = '\0';
		}
	}
	free(buf);
}

static int check_parent(struct rp_image *img)
{
	const struct rp_image *p = img->parent;
	char want[RP_UUID_STR], got[RP_UUID_STR];

	if (!p->has_footer)
		return problem(img, true, false, RP_EFORMAT, "parent '%s' is a %s image, not a VHD",
			       p->path, rp_image_format_name(p));
	rp_uuid_format_be(img->dyn.parent_uuid, want);
	rp_uuid_format_be(p->footer.uuid, got);
	if (memcmp(img->dyn.parent_uuid, p->footer.uuid, 16) != 0)
		return problem(img, true, false, RP_EFORMAT,
			       "parent uuid mismatch: the differencing disk expects %s (dynamic "
			       "header +40), '%s' has %s",
			       want, p->path, got);
	if (p->virtual_size != img->virtual_size)
		return problem(img, true, false, RP_EFORMAT,
			       "parent '%s' has a virtual size of %llu bytes, the child %llu",
			       p->path, (unsigned long long)p->virtual_size,
			       (unsigned long long)img->virtual_size);
	if (img->dyn.parent_timestamp != p->footer.timestamp)
		problem(img, false, false, RP_OK,
			"parent time stamp at +56 is %u, '%s' has %u: the parent changed after "
			"the differencing disk was made",
			img->dyn.parent_timestamp, p->path, p->footer.timestamp);
	return 0;
}

static int open_dynamic(struct rp_image *img, const struct rp_image_opts *opts, struct rp_err *err)
{
	uint64_t footer_at = img->file_size - VHD_FOOTER_SIZE;
	uint8_t hdr[VHD_DYN_HEADER_SIZE], copy[VHD_FOOTER_SIZE], tail[VHD_FOOTER_SIZE];
	uint64_t off = img->footer.data_offset, used = 0, blocks, i;
	uint8_t *raw = NULL;
	struct rp_err e;
	size_t bat_bytes;
	int rc;

	rp_err_init(&e);
	img->virtual_size = img->footer.current_size;
	if (off > footer_at || VHD_DYN_HEADER_SIZE > footer_at - off)
		return problem(img, true, false, RP_EFORMAT,
			       "vhd footer at 0x%llx: data offset at +16 (0x%llx) does not leave "
			       "room for a dynamic header before the footer",
			       (unsigned long long)footer_at, (unsigned long long)off);
	rc = image_pread(img, hdr, sizeof(hdr), off, err);
	if (rc == 0)
		rc = image_pread(img, copy, sizeof(copy), 0, err);
	if (rc == 0)
		rc = image_pread(img, tail, sizeof(tail), footer_at, err);
	if (rc)
		return rc;
	if (memcmp(copy, tail, sizeof(tail)) != 0)
		problem(img, false, false, RP_OK,
			"footer copy at 0x0 differs from the footer at 0x%llx",
			(unsigned long long)footer_at);
	if (vhd_dyn_header_parse(hdr, sizeof(hdr), img->file_size, &img->footer,
				 VHD_IGNORE_CHECKSUMS, &img->dyn, &e) != 0) {
		rp_err_prefix(&e, "dynamic header at 0x%llx", (unsigned long long)off);
		return image_problem(img, true, false, &e);
	}
	img->has_dyn = true;
	if (!img->dyn.checksum_ok)
		problem(img, true, true, RP_EFORMAT,
			"dynamic header at 0x%llx: checksum at +36: stored 0x%08x, computed 0x%08x",
			(unsigned long long)off, img->dyn.checksum_stored,
			img->dyn.checksum_computed);

	/* The header parser bounded max_table_entries by the file size, so this fits memory
	 * in proportion to the file. */
	bat_bytes = (size_t)img->dyn.max_table_entries * 4;
	raw = malloc(bat_bytes ? bat_bytes : 1);
	img->bat = calloc(img->dyn.max_table_entries ? img->dyn.max_table_entries : 1, 4);
	if (!raw || !img->bat) {
		free(raw);
		return rp_err_set(err, RP_EIO, "out of memory for a BAT of %u entries",
				  img->dyn.max_table_entries);
	}
	rc = image_pread(img, raw, bat_bytes, img->dyn.table_offset, err);
	if (rc) {
		free(raw);
		return rc;
	}
	if (vhd_bat_check(raw, img->dyn.max_table_entries, &img->dyn, footer_at, &e) != 0) {
		free(raw);
		rp_err_prefix(&e, "BAT at 0x%llx", (unsigned long long)img->dyn.table_offset);
		return image_problem(img, true, false, &e);
	}
	for (i = 0; i < img->dyn.max_table_entries; i++)
		img->bat[i] = rp_be32(raw + 4 * i);
	free(raw);
	img->bitmap_size = vhd_bitmap_size(img->dyn.block_size);
	blocks = (img->virtual_size + img->dyn.block_size - 1) / img->dyn.block_size;
	for (i = 0; i < blocks; i++)
		used += img->bat[i] != VHD_BAT_UNUSED;
	img->allocated = used * img->dyn.block_size;

	if (img->format == RP_IMAGE_VHD_DIFF) {
		read_locators(img);
		rc = image_open_parent(img, opts, err);
		if (rc)
			return rc;
		if (img->parent)
			return check_parent(img);
	}
	return 0;
}

int image_vhd_open(struct rp_image *img, const struct rp_image_opts *opts, struct rp_err *err)
{
	if (!img->footer.checksum_ok)
		problem(img, true, true, RP_EFORMAT,
			"vhd footer at 0x%llx: checksum at +64: stored 0x%08x, computed 0x%08x",
			(unsigned long long)(img->file_size - VHD_FOOTER_SIZE),
			img->footer.checksum_stored, img->footer.checksum_computed);
	if (img->footer.disk_type == VHD_TYPE_FIXED)
		return open_fixed(img);
	return open_dynamic(img, opts, err);
}

void image_vhd_release(struct rp_image *img)
{
	free(img->bat);
	img->bat = NULL;
}

/* Bytes [in, in+n) of block blk whose sector bitmap bits are all equal to the first one: how
 * many, and that bit. Bit 7 of bitmap byte 0 is sector 0 (the specification's order). */
static size_t same_bits(const uint8_t *bitmap, uint64_t in, size_t n, bool *set)
{
	uint64_t s = in / VHD_SECTOR, end = in + n;
	bool first = bitmap[s / 8] & (0x80 >> (s % 8));
	uint64_t pos = (s + 1) * VHD_SECTOR;

	while (pos < end) {
		uint64_t t = pos / VHD_SECTOR;
		if (!!(bitmap[t / 8] & (0x80 >> (t % 8))) != first)
			break;
		pos += VHD_SECTOR;
	}
	*set = first;
	return (size_t)((pos < end ? pos : end) - in);
}

static int read_in_block(struct rp_image *img, uint64_t blk, uint64_t in, uint8_t *buf, size_t n,
			 struct rp_err *err)
{
	uint64_t bs = img->dyn.block_size, voff = blk * bs + in;
	uint64_t base, first_byte, last_byte;
	uint8_t bitmap[VHD_MAX_BLOCK_SIZE / VHD_SECTOR / 8];
	int rc;

	if (img->bat[blk] == VHD_BAT_UNUSED) {
		if (img->parent)
			return rp_image_read(img->parent, buf, n, voff, err);
		memset(buf, 0, n);
		return 0;
	}
	base = (uint64_t)img->bat[blk] * VHD_SECTOR;
	/* Only the bitmap bytes covering the sectors asked for. */
	first_byte = in / VHD_SECTOR / 8;
	last_byte = (in + n - 1) / VHD_SECTOR / 8;
	rc = image_pread(img, bitmap + first_byte, (size_t)(last_byte - first_byte + 1),
			 base + first_byte, err);
	if (rc)
		return rc;
	base += img->bitmap_size;
	while (n > 0) {
		bool set;
		size_t run = same_bits(bitmap, in, n, &set);

		if (set)
			rc = image_pread(img, buf, run, base + in, err);
		else if (img->parent)
			rc = rp_image_read(img->parent, buf, run, blk * bs + in, err);
		else
			memset(buf, 0, run);
		if (rc)
			return rc;
		buf += run;
		in += run;
		n -= run;
	}
	return 0;
}

int image_vhd_read(struct rp_image *img, uint8_t *buf, size_t len, uint64_t off, struct rp_err *err)
{
	uint64_t bs = img->dyn.block_size;

	while (len > 0) {
		uint64_t blk = off / bs, in = off % bs;
		size_t n = (size_t)(bs - in < len ? bs - in : len);
		int rc = read_in_block(img, blk, in, buf, n, err);

		if (rc)
			return rc;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

int image_vhd_extent(struct rp_image *img, uint64_t off, bool *allocated, uint64_t *run,
		     struct rp_err *err)
{
	uint64_t bs = img->dyn.block_size, blk = off / bs, end;
	uint64_t blocks = (img->virtual_size + bs - 1) / bs;
	bool used = img->bat[blk] != VHD_BAT_UNUSED;

	if (!used && img->parent) {
		/* Whatever the parent has here, up to the end of this block. */
		uint64_t prun;
		int rc = rp_image_extent(img->parent, off, allocated, &prun, err);

		if (rc)
			return rc;
		end = (blk + 1) * bs;
		if (end > img->virtual_size)
			end = img->virtual_size;
		*run = prun < end - off ? prun : end - off;
		return 0;
	}
	while (blk + 1 < blocks && (img->bat[blk + 1] != VHD_BAT_UNUSED) == used &&
	       (used || !img->parent))
		blk++;
	end = (blk + 1) * bs;
	if (end > img->virtual_size)
		end = img->virtual_size;
	*allocated = used;
	*run = end - off;
	return 0;
}
