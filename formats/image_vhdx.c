/*
 * VHDX images: our own validation of the structures ([MS-VHDX] 2.2: file type identifier, two
 * headers, two region tables, metadata, BAT), then reads through libvhdi (vhdi.c), which
 * validates none of them (LIBS.md). The BAT we validated also tells which blocks hold data.
 */
#include "formats/image_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/endian.h"
#include "common/util.h"

#define VHDX_MAX_METADATA_REGION (32u << 20)
#define VHDX_READ_HANDLES 16

static int problem(struct rp_image *img, bool fatal, bool checksum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int problem(struct rp_image *img, bool fatal, bool checksum, const char *fmt, ...)
{
	struct rp_err e;
	va_list ap;

	e.code = RP_EFORMAT;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	return image_problem(img, fatal, checksum, &e);
}

/* Parse both copies of a structure that the specification keeps twice (headers, region
 * tables). A copy with a bad checksum is only a warning while the other copy is good: the
 * format keeps two so that a torn write leaves one intact. */
static int read_headers(struct rp_image *img, struct rp_err *err)
{
	struct image_vhdx *x = &img->vhdx;
	static const uint32_t at[2] = {VHDX_HEADER1_OFFSET, VHDX_HEADER2_OFFSET};
	uint8_t buf[VHDX_HEADER_SIZE];
	struct rp_err e[2];
	bool crc_bad[2] = {false, false};
	int i, rc;

	for (i = 0; i < 2; i++) {
		rp_err_init(&e[i]);
		rc = image_pread(img, buf, sizeof(buf), at[i], err);
		if (rc)
			return rc;
		if (vhdx_header_parse(buf, sizeof(buf), VHDX_IGNORE_CHECKSUMS, &x->hdr[i], &e[i]) !=
		    0) {
			rp_err_prefix(&e[i], "vhdx header %d at 0x%x", i + 1, at[i]);
			continue;
		}
		x->hdr_valid[i] = x->hdr[i].checksum_ok || img->ignore_checksums;
		crc_bad[i] = !x->hdr[i].checksum_ok;
	}
	for (i = 0; i < 2; i++) {
		bool other_ok = x->hdr_valid[1 - i] && x->hdr[1 - i].checksum_ok;
		if (e[i].msg[0])
			image_problem(img, !other_ok, false, &e[i]);
		else if (crc_bad[i])
			problem(img, !other_ok, true,
				"vhdx header %d at 0x%x: checksum at +4: stored 0x%08x, computed "
				"0x%08x",
				i + 1, at[i], x->hdr[i].checksum_stored, x->hdr[i].checksum_computed);
	}
	rp_err_init(&e[0]);
	rc = vhdx_header_current(&x->hdr[0], x->hdr_valid[0], &x->hdr[1], x->hdr_valid[1], &e[0]);
	if (rc < 0)
		return image_problem(img, true, false, &e[0]);
	x->current = rc;
	if (!rp_is_zero(x->hdr[rc - 1].log_guid, 16)) {
		char guid[RP_UUID_STR];
		rp_guid_format_le(x->hdr[rc - 1].log_guid, guid);
		problem(img, true, false,
			"vhdx header %d: log guid at +48 is %s: the log is not empty and must be "
			"replayed before the disk can be read (attach it once in Hyper-V, or run "
			"'qemu-img check -r all' on a copy)",
			rc, guid);
	}
	return 0;
}

static int read_regions(struct rp_image *img, struct rp_err *err)
{
	struct image_vhdx *x = &img->vhdx;
	static const uint32_t at[2] = {VHDX_REGION1_OFFSET, VHDX_REGION2_OFFSET};
	struct vhdx_region_table t[2];
	struct rp_err e[2];
	bool ok[2] = {false, false};
	uint8_t *buf;
	int i, rc = 0;

	buf = malloc(VHDX_REGION_SIZE);
	if (!buf)
		return rp_err_set(err, RP_EIO, "out of memory");
	for (i = 0; i < 2; i++) {
		rp_err_init(&e[i]);
		rc = image_pread(img, buf, VHDX_REGION_SIZE, at[i], err);
		if (rc)
			goto out;
		if (vhdx_region_table_parse(buf, VHDX_REGION_SIZE, img->file_size,
					    VHDX_IGNORE_CHECKSUMS, &t[i], &e[i]) != 0)
			rp_err_prefix(&e[i], "vhdx region table %d at 0x%x", i + 1, at[i]);
		else
			ok[i] = true;
	}
	for (i = 0; i < 2; i++) {
		bool other_ok = ok[1 - i] && t[1 - i].checksum_ok;
		if (!ok[i])
			image_problem(img, !other_ok, false, &e[i]);
		else if (!t[i].checksum_ok)
			problem(img, !other_ok, true,
				"vhdx region table %d at 0x%x: checksum at +4: stored 0x%08x, "
				"computed 0x%08x",
				i + 1, at[i], t[i].checksum_stored, t[i].checksum_computed);
	}
	for (i = 0; i < 2; i++) {
		if (ok[i] && (t[i].checksum_ok || img->ignore_checksums || !ok[1 - i])) {
			x->region = t[i];
			x->region_valid = true;
			break;
		}
	}
out:
	free(buf);
	return rc;
}

static int read_metadata(struct rp_image *img, struct rp_err *err)
{
	struct image_vhdx *x = &img->vhdx;
	struct rp_err e;
	uint8_t *buf;
	int rc;

	rp_err_init(&e);
	if (x->region.metadata_length > VHDX_MAX_METADATA_REGION)
		return problem(img, true, false,
			       "vhdx metadata region at 0x%llx: %u bytes is larger than the %u we "
			       "accept",
			       (unsigned long long)x->region.metadata_offset,
			       x->region.metadata_length, VHDX_MAX_METADATA_REGION);
	buf = malloc(x->region.metadata_length);
	if (!buf)
		return rp_err_set(err, RP_EIO, "out of memory");
	rc = image_pread(img, buf, x->region.metadata_length, x->region.metadata_offset, err);
	if (rc == 0) {
		if (vhdx_metadata_parse(buf, x->region.metadata_length, &x->meta, &e) != 0) {
			rp_err_prefix(&e, "vhdx metadata region at 0x%llx",
				      (unsigned long long)x->region.metadata_offset);
			image_problem(img, true, false, &e);
		} else {
			x->meta_valid = true;
		}
	}
	free(buf);
	return rc;
}

static int read_bat(struct rp_image *img, struct rp_err *err)
{
	struct image_vhdx *x = &img->vhdx;
	uint64_t entries = vhdx_bat_entries(&x->meta), b, present = 0;
	struct rp_err e;
	uint8_t *buf;
	size_t bytes;
	int rc;

	rp_err_init(&e);
	if (entries > x->region.bat_length / 8)
		return problem(img, true, false,
			       "vhdx BAT region at 0x%llx: %u bytes hold fewer than the %llu entries "
			       "a disk of %llu bytes needs",
			       (unsigned long long)x->region.bat_offset, x->region.bat_length,
			       (unsigned long long)entries,
			       (unsigned long long)x->meta.virtual_size);
	bytes = (size_t)entries * 8;
	x->blocks = vhdx_payload_blocks(&x->meta);
	buf = malloc(bytes ? bytes : 1);
	x->bat = calloc(x->blocks ? x->blocks : 1, sizeof(*x->bat));
	if (!buf || !x->bat) {
		free(buf);
		return rp_err_set(err, RP_EIO, "out of memory for a BAT of %llu entries",
				  (unsigned long long)entries);
	}
	rc = image_pread(img, buf, bytes, x->region.bat_offset, err);
	if (rc == 0 && vhdx_bat_check(buf, bytes, &x->meta, img->file_size, &e) != 0) {
		rp_err_prefix(&e, "vhdx BAT at 0x%llx", (unsigned long long)x->region.bat_offset);
		image_problem(img, true, false, &e);
	} else if (rc == 0) {
		for (b = 0; b < x->blocks; b++) {
			x->bat[b] = rp_le64(buf + 8 * vhdx_bat_index(&x->meta, b));
			present += vhdx_bat_state(x->bat[b]) >= VHDX_PAYLOAD_FULLY_PRESENT;
		}
		img->allocated = present * x->meta.block_size;
	}
	free(buf);
	return rc;
}

/* [MS-VHDX] 2.6.2.6.3: the parent locator's parent_linkage holds the parent's DataWriteGuid as
 * "{xxxxxxxx-...}" when the child was made; a parent whose current header has another one was
 * written since (or is another disk), and the child's sectors no longer fit on it. */
static int check_parent_linkage(struct rp_image *img)
{
	const struct image_vhdx *px = &img->parent->vhdx;
	const char *want = NULL, *id;
	char got[RP_UUID_STR];
	size_t k, n;

	for (k = 0; k < img->vhdx.meta.parent_count && !want; k++)
		if (strcmp(img->vhdx.meta.parent[k].key, "parent_linkage") == 0)
			want = img->vhdx.meta.parent[k].value;
	if (!want)
		return problem(img, true, false,
			       "vhdx parent locator has no parent_linkage: cannot check that '%s' is "
			       "the parent",
			       img->parent->path);
	if (px->current < 1 || px->current > 2)
		return problem(img, true, false, "parent '%s' has no current vhdx header",
			       img->parent->path);
	rp_guid_format_le(px->hdr[px->current - 1].data_write_guid, got);
	id = want;
	n = strlen(want);
	if (n >= 2 && want[0] == '{' && want[n - 1] == '}') {
		id++;
		n -= 2;
	}
	if (n == RP_UUID_STR - 1 && strncasecmp(id, got, n) == 0)
		return 0;
	return problem(img, true, false,
		       "parent uuid mismatch: parent_linkage is %s, '%s' has data write guid {%s}",
		       want, img->parent->path, got);
}

int image_vhdx_open(struct rp_image *img, const struct rp_image_opts *opts, struct rp_err *err)
{
	struct image_vhdx *x = &img->vhdx;
	uint8_t id[1024];
	struct rp_err e;
	int rc;

	rp_err_init(&e);
	if (img->file_size < VHDX_REGION2_OFFSET + VHDX_REGION_SIZE)
		return problem(img, true, false,
			       "'%s' has %llu bytes: too short for the VHDX headers and region "
			       "tables (%u bytes)",
			       img->path, (unsigned long long)img->file_size,
			       VHDX_REGION2_OFFSET + VHDX_REGION_SIZE);
	rc = image_pread(img, id, sizeof(id), 0, err);
	if (rc)
		return rc;
	if (vhdx_file_id_parse(id, sizeof(id), x->creator, sizeof(x->creator), &e) != 0) {
		rp_err_prefix(&e, "vhdx file identifier at 0x0");
		return image_problem(img, true, false, &e);
	}
	rc = read_headers(img, err);
	if (rc == 0)
		rc = read_regions(img, err);
	if (rc || !x->region_valid)
		return rc;
	rc = read_metadata(img, err);
	if (rc || !x->meta_valid)
		return rc;
	img->virtual_size = x->meta.virtual_size;
	img->sector_size = x->meta.logical_sector_size;
	rc = read_bat(img, err);
	if (rc || !img->readable)
		return rc;
	if (x->meta.has_parent) {
		rc = image_open_parent(img, opts, err);
		if (rc || !img->parent)
			return rc;
		if (img->parent->format != RP_IMAGE_VHDX)
			return problem(img, true, false, "parent '%s' is a %s image, not a VHDX",
				       img->parent->path, rp_image_format_name(img->parent));
		rc = check_parent_linkage(img);
		if (rc || !img->readable)
			return rc;
		if (img->parent->virtual_size != img->virtual_size)
			return problem(img, true, false,
				       "parent '%s' has a virtual size of %llu bytes, the child %llu",
				       img->parent->path,
				       (unsigned long long)img->parent->virtual_size,
				       (unsigned long long)img->virtual_size);
	}
	rc = rp_vhdi_open(img->path, img->parent ? img->parent->vhdx.vhdi : NULL,
			  VHDX_READ_HANDLES, &x->vhdi, &e);
	if (rc)
		return image_problem(img, true, false, &e);
	if (rp_vhdi_media_size(x->vhdi) != img->virtual_size)
		return problem(img, true, false,
			       "libvhdi sees %llu bytes where the metadata says %llu",
			       (unsigned long long)rp_vhdi_media_size(x->vhdi),
			       (unsigned long long)img->virtual_size);
	return 0;
}

void image_vhdx_release(struct rp_image *img)
{
	rp_vhdi_free(img->vhdx.vhdi);
	img->vhdx.vhdi = NULL;
	free(img->vhdx.bat);
	img->vhdx.bat = NULL;
}

int image_vhdx_read(struct rp_image *img, uint8_t *buf, size_t len, uint64_t off,
		    struct rp_err *err)
{
	return rp_vhdi_read(img->vhdx.vhdi, buf, len, off, err);
}

static bool block_present(const struct rp_image *img, uint64_t b)
{
	return vhdx_bat_state(img->vhdx.bat[b]) >= VHDX_PAYLOAD_FULLY_PRESENT;
}

int image_vhdx_extent(struct rp_image *img, uint64_t off, bool *allocated, uint64_t *run,
		      struct rp_err *err)
{
	uint64_t bs = img->vhdx.meta.block_size, b = off / bs, end;
	bool present = block_present(img, b);

	if (!present && img->parent) {
		/* Not present in a differencing disk: whatever the parent has there. */
		uint64_t prun;
		int rc = rp_image_extent(img->parent, off, allocated, &prun, err);

		if (rc)
			return rc;
		end = (b + 1) * bs;
		if (end > img->virtual_size)
			end = img->virtual_size;
		*run = prun < end - off ? prun : end - off;
		return 0;
	}
	while (b + 1 < img->vhdx.blocks && block_present(img, b + 1) == present &&
	       (present || !img->parent))
		b++;
	end = (b + 1) * bs;
	if (end > img->virtual_size)
		end = img->virtual_size;
	*allocated = present;
	*run = end - off;
	return 0;
}
