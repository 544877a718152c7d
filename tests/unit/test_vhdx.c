/*
 * Tests for formats/vhdx.c: valid parses of structures cut from qemu-img images
 * (testdata/vhdx-qemu-*.bin, made by testdata/make-parser-vectors.sh) and table-driven error
 * cases, each changing one field of a valid structure and asserting the code and message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "common/endian.h"
#include "common/util.h"
#include "formats/vhdx.h"

#define MIB (1024u * 1024u)
#define DATA_FILE_SIZE (10u * MIB) /* vhdx-qemu-data: the image the vectors were cut from */

/* One field to overwrite: width 1, 2, 4 or 8 little-endian, or bytes[width] when bytes is set. */
struct patch {
	unsigned off;
	unsigned width;
	uint64_t value;
	const uint8_t *bytes;
};

#define P(off, width, value)                                                                       \
	{                                                                                          \
		(off), (width), (value), NULL                                                      \
	}
#define B(off, width, bytes)                                                                       \
	{                                                                                          \
		(off), (width), 0, (bytes)                                                         \
	}

static void apply(uint8_t *buf, const struct patch *p)
{
	for (; p->width != 0; p++) {
		if (p->bytes)
			memcpy(buf + p->off, p->bytes, p->width);
		else if (p->width == 1)
			buf[p->off] = (uint8_t)p->value;
		else if (p->width == 2) {
			buf[p->off] = (uint8_t)p->value;
			buf[p->off + 1] = (uint8_t)(p->value >> 8);
		} else if (p->width == 4)
			rp_put_le32(buf + p->off, (uint32_t)p->value);
		else
			rp_put_le64(buf + p->off, p->value);
	}
}

static void fix_crc(uint8_t *buf, size_t len)
{
	rp_put_le32(buf + 4, 0);
	rp_put_le32(buf + 4, rp_crc32c(0, buf, len));
}

static void test_file_id(void **state)
{
	struct rp_err err;
	char creator[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = unit_testdata("vhdx-qemu-data-fileid.bin", &len);
	rp_err_init(&err);
	assert_int_equal(vhdx_file_id_parse(buf, len, creator, sizeof(creator), &err), 0);
	assert_memory_equal(creator, "QEMU", 4);
	assert_int_equal(vhdx_file_id_parse(buf, 100, creator, sizeof(creator), &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "truncated"));
	buf[0] = 'w';
	assert_int_equal(vhdx_file_id_parse(buf, len, creator, sizeof(creator), &err), RP_EFORMAT);
	assert_string_equal(err.msg,
			    "file identifier at +0: signature is 'whdxfile', expected 'vhdxfile'");
	free(buf);
}

static void test_headers_valid(void **state)
{
	struct vhdx_header h1, h2;
	struct rp_err err;
	uint8_t *b1, *b2;
	size_t l1, l2;

	(void)state;
	b1 = unit_testdata("vhdx-qemu-data-header1.bin", &l1);
	b2 = unit_testdata("vhdx-qemu-data-header2.bin", &l2);
	rp_err_init(&err);
	assert_int_equal(vhdx_header_parse(b1, l1, 0, &h1, &err), 0);
	assert_int_equal(vhdx_header_parse(b2, l2, 0, &h2, &err), 0);
	assert_true(h1.checksum_ok);
	assert_int_equal(h1.version, 1);
	assert_int_equal(h1.log_version, 0);
	assert_int_equal(h1.log_offset, MIB);
	assert_int_equal(h1.log_length, MIB);
	assert_true(rp_is_zero(h1.log_guid, 16));
	assert_int_not_equal(h1.sequence_number, h2.sequence_number);
	assert_int_equal(vhdx_header_current(&h1, true, &h2, true, &err),
			 h2.sequence_number > h1.sequence_number ? 2 : 1);
	free(b1);
	free(b2);
}

static const struct {
	const char *name;
	struct patch p[3];
	bool keep_crc; /* leave the stored checksum as it is (the checksum case) */
	unsigned flags;
	int code;
	const char *msg;
} header_cases[] = {
    {"signature",
     {P(0, 4, 0x78787878)},
     false,
     0,
     RP_EFORMAT,
     "header at +0: signature is 'xxxx', expected 'head'"},
    {"checksum", {P(12, 4, 1)}, true, 0, RP_EFORMAT, "header at +4: checksum stored 0x"},
    {"checksum ignored", {P(12, 4, 1)}, true, VHDX_IGNORE_CHECKSUMS, 0, NULL},
    {"version",
     {P(66, 2, 2)},
     false,
     0,
     RP_EFORMAT,
     "header at +66: version 2 is not supported, expected 1"},
    {"log version",
     {P(64, 2, 1)},
     false,
     0,
     RP_EFORMAT,
     "header at +64: log version 1 is not supported"},
    {"log length",
     {P(68, 4, 4096)},
     false,
     0,
     RP_EFORMAT,
     "header at +68: log length 4096 is not a multiple of 1 MiB"},
    {"log offset",
     {P(72, 8, MIB + 512)},
     false,
     0,
     RP_EFORMAT,
     "header at +72: log offset 1049088 is not a multiple of 1 MiB"},
};

static void test_header_errors(void **state)
{
	size_t i, len;
	uint8_t *base = unit_testdata("vhdx-qemu-data-header1.bin", &len);

	(void)state;
	for (i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
		uint8_t buf[VHDX_HEADER_SIZE];
		struct vhdx_header h;
		struct rp_err err;
		int rc;

		memcpy(buf, base, sizeof(buf));
		apply(buf, header_cases[i].p);
		if (!header_cases[i].keep_crc)
			fix_crc(buf, sizeof(buf));
		rp_err_init(&err);
		rc = vhdx_header_parse(buf, sizeof(buf), header_cases[i].flags, &h, &err);
		print_message("case %s: %d %s\n", header_cases[i].name, rc, err.msg);
		assert_int_equal(rc, header_cases[i].code);
		if (header_cases[i].msg)
			assert_non_null(strstr(err.msg, header_cases[i].msg));
		else
			assert_false(h.checksum_ok);
	}
	free(base);
}

static void test_header_current(void **state)
{
	struct vhdx_header a = {.sequence_number = 5}, b = {.sequence_number = 7};
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(vhdx_header_current(&a, true, &b, true, &err), 2);
	assert_int_equal(vhdx_header_current(&b, true, &a, true, &err), 1);
	assert_int_equal(vhdx_header_current(&b, true, &a, false, &err), 1);
	assert_int_equal(vhdx_header_current(&a, false, &b, true, &err), 2);
	assert_int_equal(vhdx_header_current(&a, false, &b, false, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "neither header is valid"));
	/* Disk2VHD: two identical headers with the same sequence number. */
	assert_int_equal(vhdx_header_current(&a, true, &a, true, &err), 1);
	/* The same number but another data write guid (or checksum): corrupt. */
	{
		struct vhdx_header c = a;

		c.data_write_guid[3] ^= 1;
		assert_int_equal(vhdx_header_current(&a, true, &c, true, &err), RP_EFORMAT);
		assert_non_null(strstr(err.msg, "both have sequence number 5 but differ"));
		c = a;
		c.checksum_stored = 0x1234;
		assert_int_equal(vhdx_header_current(&a, true, &c, true, &err), RP_EFORMAT);
	}
}

static void test_region_valid(void **state)
{
	struct vhdx_region_table rt;
	struct rp_err err;
	size_t len;
	uint8_t *buf = unit_testdata("vhdx-qemu-data-region1.bin", &len);

	(void)state;
	rp_err_init(&err);
	assert_int_equal(vhdx_region_table_parse(buf, len, DATA_FILE_SIZE, 0, &rt, &err), 0);
	assert_true(rt.checksum_ok);
	assert_int_equal(rt.entry_count, 2);
	assert_int_equal(rt.bat_offset, 2 * MIB);
	assert_int_equal(rt.bat_length, MIB);
	assert_int_equal(rt.metadata_offset, 3 * MIB);
	assert_int_equal(rt.metadata_length, MIB);
	free(buf);
}

/* The vector's table: entry 0 (BAT) at +16, entry 1 (metadata) at +48, entry 2 would be +80. */
static const uint8_t bat_guid[16] = {0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42,
				     0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08};
static const uint8_t other_guid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static const struct {
	const char *name;
	struct patch p[5]; /* ends at the first zero width */
	bool keep_crc;
	int code;
	const char *msg;
} region_cases[] = {
    {"signature",
     {P(0, 4, 0x69676572 + 1)},
     false,
     RP_EFORMAT,
     "region table at +0: signature is 'segi', expected 'regi'"},
    {"checksum", {P(60000, 1, 1)}, true, RP_EFORMAT, "region table at +4: checksum stored 0x"},
    {"entry count",
     {P(8, 4, 2048)},
     false,
     RP_EFORMAT,
     "region table at +8: entry count 2048 exceeds the maximum 2047"},
    {"offset alignment",
     {P(32, 8, 2 * MIB + 4096)},
     false,
     RP_EFORMAT,
     "region table entry 0 at +32: file offset 2101248 is not a multiple of 1 MiB"},
    {"offset in header section",
     {P(32, 8, 0)},
     false,
     RP_EFORMAT,
     "region table entry 0 at +32: file offset 0 is not a multiple of 1 MiB past"},
    {"zero length",
     {P(40, 4, 0)},
     false,
     RP_EFORMAT,
     "region table entry 0 at +40: length 0 is not a non-zero multiple of 1 MiB"},
    {"length alignment",
     {P(40, 4, MIB + MIB / 2)},
     false,
     RP_EFORMAT,
     "region table entry 0 at +40: length 1572864 is not"},
    {"past end of file",
     {P(64, 8, 10 * MIB)},
     false,
     RP_EFORMAT,
     "region table entry 1 at +64: region 10485760+1048576 ends past the file size"},
    {"second bat",
     {B(48, 16, bat_guid)},
     false,
     RP_EFORMAT,
     "region table entry 1 at +48: second bat region"},
    {"no metadata", {P(8, 4, 1)}, false, RP_EFORMAT, "region table: no metadata region"},
    {"overlap",
     {P(64, 8, 2 * MIB)},
     false,
     RP_EFORMAT,
     "region table entry 1 at +48: region 2097152+1048576 overlaps entry 0"},
    {"unknown required",
     {P(8, 4, 3), B(80, 16, other_guid), P(96, 8, 4 * MIB), P(104, 8, MIB | (1ull << 32))},
     false,
     RP_EFORMAT,
     "region table entry 2 at +80: unknown region 04030201-0605-0807-090a-0b0c0d0e0f10 is "
     "marked required"},
};

static void test_region_errors(void **state)
{
	size_t i, len;
	uint8_t *base = unit_testdata("vhdx-qemu-data-region1.bin", &len);
	uint8_t *buf = malloc(len);

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < sizeof(region_cases) / sizeof(region_cases[0]); i++) {
		struct vhdx_region_table rt;
		struct rp_err err;
		int rc;

		memcpy(buf, base, len);
		apply(buf, region_cases[i].p);
		if (!region_cases[i].keep_crc)
			fix_crc(buf, VHDX_REGION_SIZE);
		rp_err_init(&err);
		rc = vhdx_region_table_parse(buf, len, DATA_FILE_SIZE, 0, &rt, &err);
		print_message("case %s: %d %s\n", region_cases[i].name, rc, err.msg);
		assert_int_equal(rc, region_cases[i].code);
		assert_non_null(strstr(err.msg, region_cases[i].msg));
	}
	/* An unknown region that is not required is skipped. */
	memcpy(buf, base, len);
	apply(buf, (const struct patch[]){P(8, 4, 3), B(80, 16, other_guid), P(96, 8, 4 * MIB),
					  P(104, 8, MIB), P(0, 0, 0)});
	fix_crc(buf, VHDX_REGION_SIZE);
	{
		struct vhdx_region_table rt;
		assert_int_equal(vhdx_region_table_parse(buf, len, DATA_FILE_SIZE, 0, &rt, NULL),
				 0);
		assert_int_equal(rt.entry_count, 3);
	}
	free(buf);
	free(base);
}

static void test_metadata_qemu(void **state)
{
	struct vhdx_metadata *m = calloc(1, sizeof(*m));
	struct rp_err err;
	uint8_t *buf, *bat;
	size_t len, bat_len;

	(void)state;
	assert_non_null(m);
	rp_err_init(&err);
	buf = unit_testdata("vhdx-qemu-data-metadata.bin", &len);
	assert_int_equal(vhdx_metadata_parse(buf, len, m, &err), 0);
	assert_int_equal(m->block_size, MIB);
	assert_int_equal(m->virtual_size, 5 * MIB);
	assert_int_equal(m->logical_sector_size, 512);
	assert_int_equal(m->physical_sector_size, 512);
	assert_false(m->has_parent);
	assert_false(m->leave_blocks_allocated);
	assert_int_equal(m->parent_count, 0);
	assert_int_equal(vhdx_chunk_ratio(m), 4096);
	assert_int_equal(vhdx_payload_blocks(m), 5);
	assert_int_equal(vhdx_bat_entries(m), 5);
	bat = unit_testdata("vhdx-qemu-data-bat.bin", &bat_len);
	assert_int_equal(vhdx_bat_state(rp_le64(bat)), VHDX_PAYLOAD_FULLY_PRESENT);
	assert_int_equal(vhdx_bat_file_offset(rp_le64(bat)), 8 * MIB);
	assert_int_equal(vhdx_bat_check(bat, bat_len, m, DATA_FILE_SIZE, &err), 0);
	/* The block at 9 MiB needs the last MiB of the file. */
	assert_int_equal(vhdx_bat_check(bat, bat_len, m, DATA_FILE_SIZE - 512, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "bat entry 1 at +8: block at file offset 9437184"));
	free(bat);
	free(buf);

	buf = unit_testdata("vhdx-qemu-fixed-metadata.bin", &len);
	assert_int_equal(vhdx_metadata_parse(buf, len, m, &err), 0);
	assert_true(m->leave_blocks_allocated);
	assert_int_equal(m->virtual_size, 8 * MIB);
	bat = unit_testdata("vhdx-qemu-fixed-bat.bin", &bat_len);
	assert_int_equal(vhdx_bat_check(bat, bat_len, m, 16 * MIB, &err), 0);
	free(bat);
	free(buf);
	free(m);
}

/*
 * A metadata region built here, for a differencing disk: table entries 0..5 are file
 * parameters, virtual size, page 83, logical sector, physical sector and parent locator; items
 * start at 64 KiB (FP +0x10000, VS +0x10008, P83 +0x10010, LS +0x10020, PS +0x10024, PL +0x10040).
 */
#define MD_SIZE (128u * 1024)
#define PL_AT 0x10040u

static void put_guid(uint8_t *p, uint32_t a, uint16_t b, uint16_t c, uint16_t d, uint64_t e)
{
	int i;

	rp_put_le32(p, a);
	p[4] = (uint8_t)b;
	p[5] = (uint8_t)(b >> 8);
	p[6] = (uint8_t)c;
	p[7] = (uint8_t)(c >> 8);
	p[8] = (uint8_t)(d >> 8);
	p[9] = (uint8_t)d;
	for (i = 0; i < 6; i++)
		p[10 + i] = (uint8_t)(e >> (40 - 8 * i));
}

static void put_entry(uint8_t *md, int i, uint32_t off, uint32_t len, uint32_t flags)
{
	uint8_t *e = md + 32 + 32 * i;

	rp_put_le32(e + 16, off);
	rp_put_le32(e + 20, len);
	rp_put_le32(e + 24, flags);
}

static void put_utf16(uint8_t *p, const char *s)
{
	for (; *s; s++, p += 2) {
		p[0] = (uint8_t)*s;
		p[1] = 0;
	}
}

static void build_metadata(uint8_t *md)
{
	static const char *keys[2] = {"parent_linkage", "relative_path"};
	static const char *values[2] = {"{83ab52a8-0000-4000-8000-000000000001}",
					"..\\parent.vhdx"};
	uint32_t pos = 20 + 2 * 12;
	int i;

	memset(md, 0, MD_SIZE);
	memcpy(md, "metadata", 8);
	md[10] = 6;
	put_guid(md + 32, 0xCAA16737u, 0xFA36, 0x4D43, 0xB3B6, 0x33F0AA44E76Bull);
	put_guid(md + 64, 0x2FA54224u, 0xCD1B, 0x4876, 0xB211, 0x5DBED83BF4B8ull);
	put_guid(md + 96, 0xBECA12ABu, 0xB2E6, 0x4523, 0x93EF, 0xC309E000C746ull);
	put_guid(md + 128, 0x8141BF1Du, 0xA96F, 0x4709, 0xBA47, 0xF233A8FAAB5Full);
	put_guid(md + 160, 0xCDA348C7u, 0x445D, 0x4471, 0x9CC9, 0xE9885251C556ull);
	put_guid(md + 192, 0xA8D35F2Du, 0xB30B, 0x454D, 0xABF7, 0xD3D84834AB0Cull);
	put_entry(md, 0, 0x10000, 8, 4);
	put_entry(md, 1, 0x10008, 8, 6);
	put_entry(md, 2, 0x10010, 16, 6);
	put_entry(md, 3, 0x10020, 4, 6);
	put_entry(md, 4, 0x10024, 4, 6);
	put_entry(md, 5, PL_AT, 512, 4);
	rp_put_le32(md + 0x10000, 2 * MIB);
	rp_put_le32(md + 0x10004, 2); /* has parent */
	rp_put_le64(md + 0x10008, 10 * MIB);
	memset(md + 0x10010, 0xab, 16);
	rp_put_le32(md + 0x10020, 512);
	rp_put_le32(md + 0x10024, 4096);
	put_guid(md + PL_AT, 0xB04AEFB7u, 0xD19E, 0x4A81, 0xB789, 0x25B8E9445913ull);
	md[PL_AT + 18] = 2;
	for (i = 0; i < 2; i++) {
		uint8_t *e = md + PL_AT + 20 + 12 * i;
		rp_put_le32(e, pos);
		e[8] = (uint8_t)(2 * strlen(keys[i]));
		put_utf16(md + PL_AT + pos, keys[i]);
		pos += 2 * (uint32_t)strlen(keys[i]);
		rp_put_le32(e + 4, pos);
		e[10] = (uint8_t)(2 * strlen(values[i]));
		put_utf16(md + PL_AT + pos, values[i]);
		pos += 2 * (uint32_t)strlen(values[i]);
	}
}

static void test_metadata_built(void **state)
{
	struct vhdx_metadata *m = calloc(1, sizeof(*m));
	uint8_t *md = malloc(MD_SIZE);
	struct rp_err err;

	(void)state;
	assert_non_null(m);
	assert_non_null(md);
	build_metadata(md);
	rp_err_init(&err);
	assert_int_equal(vhdx_metadata_parse(md, MD_SIZE, m, &err), 0);
	assert_true(m->has_parent);
	assert_false(m->user_reuses_system_guid);
	assert_int_equal(m->block_size, 2 * MIB);
	assert_int_equal(m->physical_sector_size, 4096);
	assert_int_equal(m->parent_count, 2);
	assert_string_equal(m->parent[0].key, "parent_linkage");
	assert_string_equal(m->parent[0].value, "{83ab52a8-0000-4000-8000-000000000001}");
	assert_string_equal(m->parent[1].key, "relative_path");
	assert_string_equal(m->parent[1].value, "..\\parent.vhdx");
	/* Differencing: every chunk is complete, 2^23 * 512 / 2 MiB = 2048 blocks per bitmap. */
	assert_int_equal(vhdx_chunk_ratio(m), 2048);
	assert_int_equal(vhdx_payload_blocks(m), 5);
	assert_int_equal(vhdx_bat_entries(m), 2049);
	assert_int_equal(vhdx_bat_index(m, 2048), 2049);
	free(md);
	free(m);
}

/*
 * [MS-VHDX] 2.6.1.2: an item is keyed by (ItemId, IsUser), so a user item may reuse a system
 * item's GUID. It must not be taken for the system item (libvhdi does take it: docs/libvhdi.md).
 */
static void test_metadata_user_item(void **state)
{
	struct vhdx_metadata *m = calloc(1, sizeof(*m));
	uint8_t *md = malloc(MD_SIZE);
	struct rp_err err;

	(void)state;
	assert_non_null(m);
	assert_non_null(md);
	build_metadata(md);
	md[10] = 8;
	/* User items with the file parameters and virtual disk size GUIDs, listed after the
	 * system items and also before them (entry order must not matter). */
	put_guid(md + 224, 0xCAA16737u, 0xFA36, 0x4D43, 0xB3B6, 0x33F0AA44E76Bull);
	put_entry(md, 6, 0x11000, 8, 1);
	rp_put_le32(md + 0x11000, 32 * MIB);
	rp_put_le32(md + 0x11004, 0);
	put_guid(md + 256, 0x2FA54224u, 0xCD1B, 0x4876, 0xB211, 0x5DBED83BF4B8ull);
	put_entry(md, 7, 0x11008, 8, 1 | 2);
	rp_put_le64(md + 0x11008, 64 * MIB);
	rp_err_init(&err);
	assert_int_equal(vhdx_metadata_parse(md, MD_SIZE, m, &err), 0);
	assert_int_equal(m->block_size, 2 * MIB);
	assert_int_equal(m->virtual_size, 10 * MIB);
	assert_true(m->has_parent);
	assert_true(m->user_reuses_system_guid);

	/* The same with the user item first: swap entries 0 and 6. */
	{
		uint8_t tmp[32];

		memcpy(tmp, md + 32, 32);
		memcpy(md + 32, md + 32 + 6 * 32, 32);
		memcpy(md + 32 + 6 * 32, tmp, 32);
	}
	assert_int_equal(vhdx_metadata_parse(md, MD_SIZE, m, &err), 0);
	assert_int_equal(m->block_size, 2 * MIB);

	/* A second *system* file parameters item is a repeat, not a user item. */
	put_entry(md, 0, 0x11000, 8, 0);
	assert_int_equal(vhdx_metadata_parse(md, MD_SIZE, m, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "repeats entry"));
	free(md);
	free(m);
}

static const uint8_t unknown_guid[16] = {0xde, 0xad, 0xbe, 0xef};
static const uint8_t logical_sector_guid[16] = {0x1d, 0xbf, 0x41, 0x81, 0x6f, 0xa9, 0x09, 0x47,
						0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f};

static const struct {
	const char *name;
	struct patch p[2];
	int code;
	const char *msg;
} metadata_cases[] = {
    {"signature",
     {P(0, 1, 'x')},
     RP_EFORMAT,
     "metadata at +0: signature is 'xetadata', expected 'metadata'"},
    {"entry count",
     {P(10, 2, 2048)},
     RP_EFORMAT,
     "metadata at +10: entry count 2048 exceeds the maximum 2047"},
    {"block size not power of two",
     {P(0x10000, 4, 3 * MIB)},
     RP_EFORMAT,
     "metadata: block size 3 MiB is not a power of two"},
    {"block size too large",
     {P(0x10000, 4, 512 * MIB)},
     RP_EFORMAT,
     "metadata: block size 512 MiB is outside [1 MiB, 256 MiB]"},
    {"block size too small",
     {P(0x10000, 4, 4096)},
     RP_EFORMAT,
     "metadata: block size 4096 bytes is outside [1 MiB, 256 MiB]"},
    {"logical sector",
     {P(0x10020, 4, 1024)},
     RP_EFORMAT,
     "metadata: logical sector size 1024 is not 512 or 4096"},
    {"physical sector",
     {P(0x10024, 4, 520)},
     RP_EFORMAT,
     "metadata: physical sector size 520 is not 512 or 4096"},
    {"virtual size zero", {P(0x10008, 8, 0)}, RP_EFORMAT, "metadata: virtual disk size is zero"},
    {"virtual size unaligned",
     {P(0x10008, 8, 1000)},
     RP_EFORMAT,
     "metadata: virtual disk size 1000 is not a multiple of the logical sector size 512"},
    {"virtual size too large",
     {P(0x10008, 8, 65ull << 40)},
     RP_EFORMAT,
     "metadata: virtual disk size 71468255805440 exceeds 64 TiB"},
    {"item inside table",
     {P(48, 4, 100)},
     RP_EFORMAT,
     "metadata entry 0 at +48: item 100+8 lies outside the item area"},
    {"item past region",
     {P(52, 4, 0x20000)},
     RP_EFORMAT,
     "metadata entry 0 at +48: item 65536+131072 lies outside"},
    {"offset with zero length",
     {P(52, 4, 0)},
     RP_EFORMAT,
     "metadata entry 0 at +48: offset 65536 with zero length"},
    {"short item",
     {P(84, 4, 4)},
     RP_EFORMAT,
     "metadata entry 1 at +84: virtual disk size length 4, need at least 8"},
    {"unknown required",
     {B(160, 16, unknown_guid)},
     RP_EFORMAT,
     "metadata entry 4 at +160: unknown item efbeadde-0000-0000-0000-000000000000 is marked "
     "required"},
    {"user item required",
     {P(184, 4, 5)},
     RP_EFORMAT,
     "metadata entry 4 at +160: unknown item cda348c7-445d-4471-9cc9-e9885251c556 is marked"},
    {"repeated item",
     {B(160, 16, logical_sector_guid)},
     RP_EFORMAT,
     "metadata entry 4 at +160: item 8141bf1d-a96f-4709-ba47-f233a8faab5f repeats entry 3"},
    {"missing physical",
     {P(10, 2, 4)},
     RP_EFORMAT,
     "metadata: required item physical sector size is missing"},
    {"missing parent locator",
     {P(10, 2, 5)},
     RP_EFORMAT,
     "metadata: has-parent is set but required item parent locator is missing"},
    {"parent count",
     {P(PL_AT + 18, 2, 65)},
     RP_EFORMAT,
     "metadata: parent locator at +65618: key/value count 65 exceeds 64"},
    {"parent key outside",
     {P(PL_AT + 20, 4, 600)},
     RP_EFORMAT,
     "metadata: parent locator entry 0 at +65620: key 600+28 lies outside the 512-byte item"},
    {"parent value empty",
     {P(PL_AT + 42, 2, 0)},
     RP_EFORMAT,
     "metadata: parent locator entry 1 at +65632: value"},
};

static void test_metadata_errors(void **state)
{
	struct vhdx_metadata *m = calloc(1, sizeof(*m));
	uint8_t *md = malloc(MD_SIZE);
	size_t i;

	(void)state;
	assert_non_null(m);
	assert_non_null(md);
	for (i = 0; i < sizeof(metadata_cases) / sizeof(metadata_cases[0]); i++) {
		struct rp_err err;
		int rc;

		build_metadata(md);
		apply(md, metadata_cases[i].p);
		rp_err_init(&err);
		rc = vhdx_metadata_parse(md, MD_SIZE, m, &err);
		print_message("case %s: %d %s\n", metadata_cases[i].name, rc, err.msg);
		assert_int_equal(rc, metadata_cases[i].code);
		assert_non_null(strstr(err.msg, metadata_cases[i].msg));
	}
	free(md);
	free(m);
}

static const struct {
	const char *name;
	unsigned index;
	uint64_t entry;
	int code;
	const char *msg;
} bat_cases[] = {
    {"unknown state", 2, 4, RP_EFORMAT, "bat entry 2 (block 2) at +16: unknown state 4"},
    {"partial without parent", 2, 7 | 8ull * MIB, RP_EFORMAT,
     "bat entry 2 (block 2) at +16: partially present block in a disk without a parent"},
    {"block past end", 1, 6 | 10ull * MIB, RP_EFORMAT,
     "bat entry 1 at +8: block at file offset 10485760 (length 1048576) lies outside the "
     "file of 10485760 bytes"},
    {"block in header", 1, 6, RP_EFORMAT, "bat entry 1 at +8: block at file offset 0"},
    {"zero state", 1, 2, 0, NULL},
    {"unmapped", 1, 3, 0, NULL},
};

static void test_bat(void **state)
{
	struct vhdx_metadata *m = calloc(1, sizeof(*m));
	uint8_t bat[19 * 8];
	struct rp_err err;
	size_t i;

	(void)state;
	assert_non_null(m);
	m->block_size = MIB;
	m->logical_sector_size = 512;
	m->physical_sector_size = 512;
	m->virtual_size = 5 * MIB;
	for (i = 0; i < sizeof(bat_cases) / sizeof(bat_cases[0]); i++) {
		int rc;

		memset(bat, 0, sizeof(bat));
		rp_put_le64(bat, 6 | 8ull * MIB);
		rp_put_le64(bat + 8, 6 | 9ull * MIB);
		rp_put_le64(bat + bat_cases[i].index * 8, bat_cases[i].entry);
		rp_err_init(&err);
		rc = vhdx_bat_check(bat, 5 * 8, m, DATA_FILE_SIZE, &err);
		print_message("case %s: %d %s\n", bat_cases[i].name, rc, err.msg);
		assert_int_equal(rc, bat_cases[i].code);
		if (bat_cases[i].msg)
			assert_non_null(strstr(err.msg, bat_cases[i].msg));
	}
	memset(bat, 0, sizeof(bat));
	assert_int_equal(vhdx_bat_check(bat, 4 * 8, m, DATA_FILE_SIZE, &err), RP_EFORMAT);
	assert_string_equal(err.msg, "bat: 32 bytes hold 4 entries, need 5");

	/* 256 MiB blocks: chunk ratio 16, so entry 16 is a sector bitmap entry. */
	m->block_size = 256 * MIB;
	m->virtual_size = 17ull * 256 * MIB;
	assert_int_equal(vhdx_chunk_ratio(m), 16);
	assert_int_equal(vhdx_bat_entries(m), 18);
	assert_int_equal(vhdx_bat_index(m, 15), 15);
	assert_int_equal(vhdx_bat_index(m, 16), 17);
	assert_int_equal(vhdx_bat_check(bat, 18 * 8, m, DATA_FILE_SIZE, &err), 0);
	rp_put_le64(bat + 16 * 8, 6 | 2ull * MIB);
	assert_int_equal(vhdx_bat_check(bat, 18 * 8, m, DATA_FILE_SIZE, &err), RP_EFORMAT);
	assert_string_equal(
	    err.msg, "bat entry 16 at +128: sector bitmap present in a disk without a parent");
	rp_put_le64(bat + 16 * 8, 3);
	assert_int_equal(vhdx_bat_check(bat, 18 * 8, m, DATA_FILE_SIZE, &err), RP_EFORMAT);
	assert_string_equal(err.msg, "bat entry 16 at +128: sector bitmap state 3 is not 0 or 6");
	/* With a parent the bitmap may be present, and the last chunk is complete. */
	m->has_parent = true;
	rp_put_le64(bat + 16 * 8, 6 | 2ull * MIB);
	assert_int_equal(vhdx_bat_entries(m), 34);
	assert_int_equal(vhdx_bat_check(bat, 18 * 8, m, DATA_FILE_SIZE, &err), RP_EFORMAT);
	assert_string_equal(err.msg, "bat: 144 bytes hold 18 entries, need 34");

	/* A partially present block needs its chunk's sector bitmap. */
	{
		uint8_t dbat[34 * 8];

		memset(dbat, 0, sizeof(dbat));
		rp_put_le64(dbat + 3 * 8, 7 | 1ull * MIB);
		rp_err_init(&err);
		assert_int_equal(vhdx_bat_check(dbat, sizeof(dbat), m, 1ull << 40, &err),
				 RP_EFORMAT);
		assert_string_equal(err.msg, "bat entry 16 at +128: sector bitmap not present, but "
					     "block 3 of its chunk is partially present");
		rp_put_le64(dbat + 16 * 8, 6 | 2ull * MIB);
		assert_int_equal(vhdx_bat_check(dbat, sizeof(dbat), m, 1ull << 40, &err), 0);
	}
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_id),
	    cmocka_unit_test(test_headers_valid),
	    cmocka_unit_test(test_header_errors),
	    cmocka_unit_test(test_header_current),
	    cmocka_unit_test(test_region_valid),
	    cmocka_unit_test(test_region_errors),
	    cmocka_unit_test(test_metadata_qemu),
	    cmocka_unit_test(test_metadata_built),
	    cmocka_unit_test(test_metadata_errors),
	    cmocka_unit_test(test_bat),
	    cmocka_unit_test(test_metadata_user_item),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
