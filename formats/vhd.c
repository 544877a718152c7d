/*
 * VHD footer, dynamic disk header, BAT and parent locators: pure parsers over caller buffers.
 * Section names in comments refer to Microsoft's "Virtual Hard Disk Image Format
 * Specification" v1.0 ("Hard Disk Footer Format", "Dynamic Disk Header Format", "Block
 * Allocation Table and Data Blocks", "Appendix: CHS Calculation").
 */
#include "formats/vhd.h"

#include <stdio.h>
#include <string.h>

#include "common/endian.h"
#include "common/util.h"

/* Footer field offsets ("Hard Disk Footer Format"). */
enum {
	FT_COOKIE = 0,
	FT_FEATURES = 8,
	FT_VERSION = 12,
	FT_DATA_OFFSET = 16,
	FT_TIMESTAMP = 24,
	FT_CREATOR_APP = 28,
	FT_CREATOR_VERSION = 32,
	FT_CREATOR_HOST = 36,
	FT_ORIGINAL_SIZE = 40,
	FT_CURRENT_SIZE = 48,
	FT_GEOMETRY = 56,
	FT_DISK_TYPE = 60,
	FT_CHECKSUM = 64,
	FT_UUID = 68,
	FT_SAVED_STATE = 84,
	FT_END = 85, /* 427 reserved bytes follow */
};

/* Dynamic disk header field offsets ("Dynamic Disk Header Format"). */
enum {
	DH_COOKIE = 0,
	DH_DATA_OFFSET = 8,
	DH_TABLE_OFFSET = 16,
	DH_VERSION = 24,
	DH_MAX_ENTRIES = 28,
	DH_BLOCK_SIZE = 32,
	DH_CHECKSUM = 36,
	DH_PARENT_UUID = 40,
	DH_PARENT_TIMESTAMP = 56,
	DH_PARENT_NAME = 64,
	DH_PARENT_NAME_SIZE = 512,
	DH_LOCATORS = 576,
	DH_LOCATOR_SIZE = 24,
	DH_END = DH_LOCATORS + VHD_PARENT_LOCATORS * DH_LOCATOR_SIZE, /* 256 reserved follow */
};

_Static_assert(FT_END <= VHD_FOOTER_SIZE, "footer fields fit in 512 bytes");
_Static_assert(DH_END == 768 && DH_END <= VHD_DYN_HEADER_SIZE, "header fields fit in 1024 bytes");
_Static_assert(DH_PARENT_NAME + DH_PARENT_NAME_SIZE == DH_LOCATORS, "name ends at locators");

#define VHD_VERSION_1_0 0x00010000u

/* Platform codes ("Parent Locator Entries"). */
#define VHD_LOC_NONE 0x00000000u
#define VHD_LOC_WI2R 0x57693272u /* "Wi2r", deprecated */
#define VHD_LOC_WI2K 0x5769326Bu /* "Wi2k", deprecated */
#define VHD_LOC_W2RU 0x57327275u /* "W2ru": relative path, UTF-16LE */
#define VHD_LOC_W2KU 0x57326B75u /* "W2ku": absolute path, UTF-16LE */
#define VHD_LOC_MAC 0x4D616320u	 /* "Mac " */
#define VHD_LOC_MACX 0x4D616358u /* "MacX": file URL, UTF-8 */

uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t skip)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i >= skip && i - skip < 4)
			continue;
		sum += buf[i];
	}
	return ~sum;
}

/* Copy n bytes as printable ASCII ('?' for anything else) and NUL-terminate. */
static void printable(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[n] = '\0';
}

int vhd_footer_parse(const uint8_t *buf, size_t len, unsigned flags, struct vhd_footer *out,
		     struct rp_err *err)
{
	struct vhd_footer f;
	char found[9];
	uint32_t geom;

	if (!buf || len < VHD_FOOTER_SIZE)
		return rp_err_set(err, RP_EFORMAT,
				  "footer is %zu bytes, need %d (511-byte footers "
				  "of old writers are not supported)",
				  buf ? len : 0, VHD_FOOTER_SIZE);
	if (memcmp(buf + FT_COOKIE, "conectix", 8) != 0) {
		printable(buf + FT_COOKIE, 8, found);
		return rp_err_set(err, RP_EFORMAT,
				  "cookie at +0: expected \"conectix\", found \"%s\"", found);
	}
	memset(&f, 0, sizeof(f));
	f.features = rp_be32(buf + FT_FEATURES);
	f.version = rp_be32(buf + FT_VERSION);
	f.data_offset = rp_be64(buf + FT_DATA_OFFSET);
	f.timestamp = rp_be32(buf + FT_TIMESTAMP);
	printable(buf + FT_CREATOR_APP, 4, f.creator_app);
	f.creator_version = rp_be32(buf + FT_CREATOR_VERSION);
	printable(buf + FT_CREATOR_HOST, 4, f.creator_host);
	f.original_size = rp_be64(buf + FT_ORIGINAL_SIZE);
	f.current_size = rp_be64(buf + FT_CURRENT_SIZE);
	geom = rp_be32(buf + FT_GEOMETRY);
	f.cylinders = (uint16_t)(geom >> 16);
	f.heads = (uint8_t)(geom >> 8);
	f.sectors_per_track = (uint8_t)geom;
	f.disk_type = rp_be32(buf + FT_DISK_TYPE);
	f.checksum_stored = rp_be32(buf + FT_CHECKSUM);
	f.checksum_computed = vhd_checksum(buf, VHD_FOOTER_SIZE, FT_CHECKSUM);
	f.checksum_ok = f.checksum_stored == f.checksum_computed;
	memcpy(f.uuid, buf + FT_UUID, sizeof(f.uuid));
	f.saved_state = buf[FT_SAVED_STATE];

	/* The major version is the high 16 bits; only 1.x exists. */
	if ((f.version >> 16) != 1)
		return rp_err_set(err, RP_EFORMAT,
				  "format version at +12: 0x%08x is not 1.x (0x0001xxxx)",
				  f.version);
	if (f.disk_type != VHD_TYPE_FIXED && f.disk_type != VHD_TYPE_DYNAMIC &&
	    f.disk_type != VHD_TYPE_DIFF)
		return rp_err_set(err, RP_EFORMAT,
				  "disk type at +60: %u is not fixed (2), dynamic (3) or "
				  "differencing (4)",
				  f.disk_type);
	if (f.disk_type == VHD_TYPE_FIXED && f.data_offset != UINT64_MAX)
		return rp_err_set(
		    err, RP_EFORMAT,
		    "data offset at +16: 0x%llx, a fixed disk needs 0xffffffffffffffff",
		    (unsigned long long)f.data_offset);
	if (f.disk_type != VHD_TYPE_FIXED && f.data_offset % VHD_SECTOR != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "data offset at +16: 0x%llx is not a multiple of 512",
				  (unsigned long long)f.data_offset);
	/* The footer copy occupies [0, 512) of a dynamic or differencing disk. */
	if (f.disk_type != VHD_TYPE_FIXED && f.data_offset < VHD_FOOTER_SIZE)
		return rp_err_set(err, RP_EFORMAT,
				  "data offset at +16: 0x%llx overlaps the footer copy at 0",
				  (unsigned long long)f.data_offset);
	if (f.current_size % VHD_SECTOR != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "current size at +48: %llu is not a multiple of 512",
				  (unsigned long long)f.current_size);
	if (!f.checksum_ok && !(flags & VHD_IGNORE_CHECKSUMS))
		return rp_err_set(err, RP_EFORMAT,
				  "checksum at +64: stored 0x%08x, computed 0x%08x",
				  f.checksum_stored, f.checksum_computed);
	*out = f;
	return 0;
}

void vhd_chs(uint64_t size, uint16_t *cylinders, uint8_t *heads, uint8_t *sectors_per_track)
{
	/* Appendix "CHS Calculation", verbatim apart from types. */
	uint64_t total = size / VHD_SECTOR;
	uint64_t cth, h, spt;

	if (total > 65535ull * 16 * 255)
		total = 65535ull * 16 * 255;
	if (total >= 65535ull * 16 * 63) {
		spt = 255;
		h = 16;
		cth = total / spt;
	} else {
		spt = 17;
		cth = total / spt;
		h = (cth + 1023) / 1024;
		if (h < 4)
			h = 4;
		if (cth >= h * 1024 || h > 16) {
			spt = 31;
			h = 16;
			cth = total / spt;
		}
		if (cth >= h * 1024) {
			spt = 63;
			h = 16;
			cth = total / spt;
		}
	}
	/* total <= 65535*16*255 keeps cth / h <= 65535. */
	*cylinders = (uint16_t)(cth / h);
	*heads = (uint8_t)h;
	*sectors_per_track = (uint8_t)spt;
}

void vhd_footer_build_fixed(uint64_t size, const uint8_t uuid[16], uint32_t timestamp,
			    uint8_t out[VHD_FOOTER_SIZE])
{
	uint16_t c;
	uint8_t h, s;

	memset(out, 0, VHD_FOOTER_SIZE);
	memcpy(out + FT_COOKIE, "conectix", 8);
	/* Bit 1 ("reserved") must always be set. */
	rp_put_be32(out + FT_FEATURES, 2);
	rp_put_be32(out + FT_VERSION, VHD_VERSION_1_0);
	rp_put_be64(out + FT_DATA_OFFSET, UINT64_MAX);
	rp_put_be32(out + FT_TIMESTAMP, timestamp);
	memcpy(out + FT_CREATOR_APP, "cvmr", 4);
	rp_put_be32(out + FT_CREATOR_VERSION, 0x00010000u);
	memcpy(out + FT_CREATOR_HOST, "Wi2k", 4);
	rp_put_be64(out + FT_ORIGINAL_SIZE, size);
	rp_put_be64(out + FT_CURRENT_SIZE, size);
	vhd_chs(size, &c, &h, &s);
	rp_put_be16(out + FT_GEOMETRY, c);
	out[FT_GEOMETRY + 2] = h;
	out[FT_GEOMETRY + 3] = s;
	rp_put_be32(out + FT_DISK_TYPE, VHD_TYPE_FIXED);
	memcpy(out + FT_UUID, uuid, 16);
	out[FT_SAVED_STATE] = 0;
	rp_put_be32(out + FT_CHECKSUM, vhd_checksum(out, VHD_FOOTER_SIZE, FT_CHECKSUM));
}

int vhd_image_footer_check(const char *display, uint64_t size,
			   const uint8_t footer[VHD_FOOTER_SIZE], bool *is_vhd, struct rp_err *err)
{
	struct vhd_footer f;
	int rc;

	*is_vhd = false;
	if (memcmp(footer, "conectix", 8) != 0)
		return 0;
	rc = vhd_footer_parse(footer, VHD_FOOTER_SIZE, 0, &f, err);
	if (rc) {
		rp_err_prefix(err, "%s: vhd footer at 0x%llx", display,
			      (unsigned long long)(size - VHD_FOOTER_SIZE));
		if (err)
			err->reason = RP_R_FOOTER;
		return rc;
	}
	if (f.disk_type != VHD_TYPE_FIXED)
		return rp_err_set_reason(
		    err, RP_EFORMAT, RP_R_FOOTER,
		    "%s: the footer says disk type %u; a disk blob must be a fixed VHD", display,
		    f.disk_type);
	if (f.current_size != size - VHD_FOOTER_SIZE)
		return rp_err_set_reason(
		    err, RP_EFORMAT, RP_R_FOOTER,
		    "%s: vhd footer current size at +48 is %llu, but the blob holds "
		    "%llu bytes before the footer",
		    display, (unsigned long long)f.current_size,
		    (unsigned long long)(size - VHD_FOOTER_SIZE));
	*is_vhd = true;
	return 0;
}

uint32_t vhd_bitmap_size(uint32_t block_size)
{
	/* One bit per sector of the block, padded to a sector boundary. */
	uint64_t sectors = ((uint64_t)block_size + VHD_SECTOR - 1) / VHD_SECTOR;
	uint64_t bytes = (sectors + 7) / 8;

	return (uint32_t)((bytes + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR);
}

/* BAT bytes on disk: 4 per entry, padded to a sector boundary. */
static uint64_t bat_bytes(uint32_t entries)
{
	return ((uint64_t)entries * 4 + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
}

static void parse_locators(const uint8_t *buf, struct vhd_parent_locator loc[])
{
	int i;

	for (i = 0; i < VHD_PARENT_LOCATORS; i++) {
		const uint8_t *p = buf + DH_LOCATORS + i * DH_LOCATOR_SIZE;

		loc[i].code = rp_be32(p);
		loc[i].data_space = rp_be32(p + 4);
		loc[i].data_length = rp_be32(p + 8);
		/* +12 is reserved */
		loc[i].data_offset = rp_be64(p + 16);
	}
}

static int check_locators(const struct vhd_parent_locator loc[], uint64_t data_end,
			  struct rp_err *err)
{
	int i;

	for (i = 0; i < VHD_PARENT_LOCATORS; i++) {
		unsigned off = (unsigned)(DH_LOCATORS + i * DH_LOCATOR_SIZE);
		char code[5];

		if (loc[i].code == VHD_LOC_NONE)
			continue;
		/* Written as "length > end - offset" so that neither side can overflow. */
		if (loc[i].data_offset > data_end ||
		    loc[i].data_length > data_end - loc[i].data_offset) {
			vhd_locator_code_str(loc[i].code, code);
			return rp_err_set(err, RP_EFORMAT,
					  "parent locator %d (%s) at +%u: %u bytes at 0x%llx end "
					  "past the footer at 0x%llx",
					  i, code, off, loc[i].data_length,
					  (unsigned long long)loc[i].data_offset,
					  (unsigned long long)data_end);
		}
	}
	return 0;
}

/* Checks of the table geometry: block size, entry count against disk and file, BAT placement. */
static int check_table(const struct vhd_dyn_header *h, uint64_t data_end,
		       const struct vhd_footer *footer, struct rp_err *err)
{
	uint64_t need, bat;

	if (h->block_size == 0 || (h->block_size & (h->block_size - 1)) != 0)
		return rp_err_set(err, RP_EFORMAT, "block size at +32: %u is not a power of two",
				  h->block_size);
	if (h->block_size < VHD_SECTOR || h->block_size > VHD_MAX_BLOCK_SIZE)
		return rp_err_set(err, RP_EFORMAT, "block size at +32: %u is outside [%u, %u]",
				  h->block_size, (unsigned)VHD_SECTOR,
				  (unsigned)VHD_MAX_BLOCK_SIZE);
	bat = bat_bytes(h->max_table_entries);
	if (bat > data_end)
		return rp_err_set(err, RP_EFORMAT,
				  "max table entries at +28: %u entries (%llu bytes) do not fit in "
				  "the %llu bytes before the footer",
				  h->max_table_entries, (unsigned long long)bat,
				  (unsigned long long)data_end);
	/* ceil(current_size / block_size) without overflow. */
	need = footer->current_size / h->block_size +
	       (footer->current_size % h->block_size != 0 ? 1 : 0);
	if (h->max_table_entries < need)
		return rp_err_set(err, RP_EFORMAT,
				  "max table entries at +28: %u, current size %llu with block size "
				  "%u needs %llu",
				  h->max_table_entries, (unsigned long long)footer->current_size,
				  h->block_size, (unsigned long long)need);
	if (h->table_offset % VHD_SECTOR != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "table offset at +16: 0x%llx is not a multiple of 512",
				  (unsigned long long)h->table_offset);
	/* The footer copy occupies [0, 512). */
	if (h->table_offset < VHD_FOOTER_SIZE)
		return rp_err_set(err, RP_EFORMAT,
				  "table offset at +16: 0x%llx overlaps the footer copy at 0",
				  (unsigned long long)h->table_offset);
	if (h->table_offset > data_end || bat > data_end - h->table_offset)
		return rp_err_set(err, RP_EFORMAT,
				  "table offset at +16: BAT of %llu bytes at 0x%llx ends past the "
				  "footer at 0x%llx",
				  (unsigned long long)bat, (unsigned long long)h->table_offset,
				  (unsigned long long)data_end);
	/* The BAT must not overlap this header, which lies at the footer's data offset. */
	if (footer->data_offset != UINT64_MAX &&
	    footer->data_offset <= UINT64_MAX - VHD_DYN_HEADER_SIZE &&
	    h->table_offset < footer->data_offset + VHD_DYN_HEADER_SIZE &&
	    footer->data_offset < h->table_offset + bat)
		return rp_err_set(
		    err, RP_EFORMAT,
		    "table offset at +16: BAT at 0x%llx overlaps the dynamic header at "
		    "0x%llx",
		    (unsigned long long)h->table_offset, (unsigned long long)footer->data_offset);
	return 0;
}

int vhd_dyn_header_parse(const uint8_t *buf, size_t len, uint64_t file_size,
			 const struct vhd_footer *footer, unsigned flags,
			 struct vhd_dyn_header *out, struct rp_err *err)
{
	struct vhd_dyn_header h;
	char found[9];
	uint64_t data_end;
	int rc;

	if (!buf || !footer || !out)
		return rp_err_set(err, RP_EUSAGE, "dynamic header: NULL argument");
	if (len < VHD_DYN_HEADER_SIZE)
		return rp_err_set(err, RP_EFORMAT, "dynamic header is %zu bytes, need %d", len,
				  VHD_DYN_HEADER_SIZE);
	/* The smallest dynamic disk: footer copy, header, one BAT sector, footer. */
	if (file_size < 2 * VHD_FOOTER_SIZE + VHD_DYN_HEADER_SIZE + VHD_SECTOR)
		return rp_err_set(err, RP_EFORMAT,
				  "file of %llu bytes is too small for a dynamic vhd",
				  (unsigned long long)file_size);
	data_end = file_size - VHD_FOOTER_SIZE;
	if (memcmp(buf + DH_COOKIE, "cxsparse", 8) != 0) {
		printable(buf + DH_COOKIE, 8, found);
		return rp_err_set(err, RP_EFORMAT,
				  "cookie at +0: expected \"cxsparse\", found \"%s\"", found);
	}
	memset(&h, 0, sizeof(h));
	h.data_offset = rp_be64(buf + DH_DATA_OFFSET);
	h.table_offset = rp_be64(buf + DH_TABLE_OFFSET);
	h.header_version = rp_be32(buf + DH_VERSION);
	h.max_table_entries = rp_be32(buf + DH_MAX_ENTRIES);
	h.block_size = rp_be32(buf + DH_BLOCK_SIZE);
	h.checksum_stored = rp_be32(buf + DH_CHECKSUM);
	h.checksum_computed = vhd_checksum(buf, VHD_DYN_HEADER_SIZE, DH_CHECKSUM);
	h.checksum_ok = h.checksum_stored == h.checksum_computed;
	memcpy(h.parent_uuid, buf + DH_PARENT_UUID, sizeof(h.parent_uuid));
	h.parent_timestamp = rp_be32(buf + DH_PARENT_TIMESTAMP);
	parse_locators(buf, h.loc);

	/* "Data Offset: currently unused by existing formats and should be set to 0xFFFFFFFF". */
	if (h.data_offset != UINT64_MAX)
		return rp_err_set(err, RP_EFORMAT,
				  "data offset at +8: 0x%llx, expected 0xffffffffffffffff",
				  (unsigned long long)h.data_offset);
	if (h.header_version != VHD_VERSION_1_0)
		return rp_err_set(err, RP_EFORMAT, "header version at +24: 0x%08x is not 0x%08x",
				  h.header_version, VHD_VERSION_1_0);
	rc = check_table(&h, data_end, footer, err);
	if (rc)
		return rc;
	/* A differencing disk names its parent by UUID; all zeros cannot match any parent. */
	if (footer->disk_type == VHD_TYPE_DIFF && rp_is_zero(h.parent_uuid, 16))
		return rp_err_set(err, RP_EFORMAT,
				  "parent uuid at +40: zero in a differencing disk");
	/* 256 UTF-16 units need at most 768 bytes of UTF-8, so this fits parent_name. */
	if (rp_utf16_to_utf8(buf + DH_PARENT_NAME, DH_PARENT_NAME_SIZE, false, h.parent_name,
			     sizeof(h.parent_name)) != 0)
		return rp_err_set(err, RP_EFORMAT, "parent name at +64: does not decode as utf-16");
	if (footer->disk_type == VHD_TYPE_DIFF) {
		rc = check_locators(h.loc, data_end, err);
		if (rc)
			return rc;
	}
	if (!h.checksum_ok && !(flags & VHD_IGNORE_CHECKSUMS))
		return rp_err_set(err, RP_EFORMAT,
				  "checksum at +36: stored 0x%08x, computed 0x%08x",
				  h.checksum_stored, h.checksum_computed);
	*out = h;
	return 0;
}

int vhd_bat_check(const uint8_t *bat, uint32_t entries, const struct vhd_dyn_header *h,
		  uint64_t data_end, struct rp_err *err)
{
	uint64_t bat_end = h->table_offset + bat_bytes(h->max_table_entries);
	uint64_t span = (uint64_t)vhd_bitmap_size(h->block_size) + h->block_size;
	uint32_t i;

	for (i = 0; i < entries; i++) {
		uint32_t e = rp_be32(bat + (size_t)i * 4);
		uint64_t start = (uint64_t)e * VHD_SECTOR;

		if (e == VHD_BAT_UNUSED)
			continue;
		/* start < 2^41 and span < 2^30: no overflow. */
		if (start < bat_end)
			return rp_err_set(
			    err, RP_EFORMAT,
			    "BAT entry %u at +%llu: block at 0x%llx starts before the "
			    "end of the BAT at 0x%llx",
			    i, (unsigned long long)i * 4, (unsigned long long)start,
			    (unsigned long long)bat_end);
		if (start + span > data_end)
			return rp_err_set(err, RP_EFORMAT,
					  "BAT entry %u at +%llu: block at 0x%llx ends past the "
					  "footer at 0x%llx (at 0x%llx)",
					  i, (unsigned long long)i * 4, (unsigned long long)start,
					  (unsigned long long)data_end,
					  (unsigned long long)(start + span));
	}
	return 0;
}

void vhd_locator_code_str(uint32_t code, char out[5])
{
	uint8_t b[4];

	rp_put_be32(b, code);
	printable(b, 4, out);
}

/* Copy UTF-8 text (up to a NUL) after checking it is well-formed; 0 or RP_EFORMAT. */
static int copy_utf8(const uint8_t *in, size_t len, char *out, size_t outsz, struct rp_err *err)
{
	size_t i = 0, n;

	while (i < len && in[i] != 0) {
		uint8_t c = in[i];
		uint32_t cp, min;
		size_t k, more;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			more = 1, cp = c & 0x1Fu, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			more = 2, cp = c & 0x0Fu, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			more = 3, cp = c & 0x07u, min = 0x10000;
		} else {
			return rp_err_set(err, RP_EFORMAT, "invalid utf-8 at byte %zu", i);
		}
		if (more > len - i - 1)
			return rp_err_set(err, RP_EFORMAT, "truncated utf-8 at byte %zu", i);
		for (k = 1; k <= more; k++) {
			if ((in[i + k] & 0xC0) != 0x80)
				return rp_err_set(err, RP_EFORMAT, "invalid utf-8 at byte %zu", i);
			cp = cp << 6 | (in[i + k] & 0x3Fu);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return rp_err_set(err, RP_EFORMAT, "invalid utf-8 at byte %zu", i);
		i += more + 1;
	}
	n = i;
	if (n >= outsz)
		return rp_err_set(err, RP_EFORMAT, "%zu bytes do not fit in %zu bytes", n, outsz);
	memcpy(out, in, n);
	out[n] = '\0';
	return 0;
}

int vhd_locator_decode(uint32_t code, const uint8_t *data, size_t len, char *out, size_t outsz,
		       struct rp_err *err)
{
	char cs[5];

	if (!out || outsz == 0)
		return rp_err_set(err, RP_EUSAGE, "locator data: no output buffer");
	out[0] = '\0';
	vhd_locator_code_str(code, cs);
	if (!data || len == 0)
		return rp_err_set(err, RP_EFORMAT, "locator %s: data is empty", cs);
	switch (code) {
	case VHD_LOC_W2RU:
	case VHD_LOC_W2KU:
		if (len % 2 != 0)
			return rp_err_set(err, RP_EFORMAT,
					  "locator %s: %zu bytes is not whole utf-16 units", cs,
					  len);
		/* fall through */
	case VHD_LOC_WI2R:
	case VHD_LOC_WI2K:
		if (rp_utf16_to_utf8(data, len, true, out, outsz) != 0)
			return rp_err_set(err, RP_EFORMAT,
					  "locator %s: path of %zu bytes does not fit in %zu bytes",
					  cs, len, outsz);
		break;
	case VHD_LOC_MAC:
	case VHD_LOC_MACX:
		if (copy_utf8(data, len, out, outsz, err) != 0) {
			rp_err_prefix(err, "locator %s", cs);
			return RP_EFORMAT;
		}
		break;
	default:
		return rp_err_set(err, RP_EFORMAT, "locator code 0x%08x (\"%s\") is not supported",
				  code, cs);
	}
	if (out[0] == '\0')
		return rp_err_set(err, RP_EFORMAT, "locator %s: path is empty", cs);
	return 0;
}
