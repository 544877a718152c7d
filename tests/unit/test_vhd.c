/*
 * Unit tests for formats/vhd.c: footer and dynamic header parsing (one changed field per error
 * case), the fixed footer builder, CHS geometry, BAT checks and parent locator decoding.
 * Hermetic: every structure is built in memory here.
 */
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "common/endian.h"
#include "formats/vhd.h"

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)

/* Layout of the in-memory differencing disk used by the header tests. */
#define T_CURRENT_SIZE (8 * MIB)
#define T_BLOCK_SIZE (2u * 1024 * 1024)
#define T_ENTRIES 4u
#define T_HEADER_OFF 512u
#define T_TABLE_OFF 1536u
#define T_LOC_OFF 2048u
#define T_BLOCK_OFF 2560u
#define T_DATA_END (T_BLOCK_OFF + 512u + T_BLOCK_SIZE)
#define T_FILE_SIZE (T_DATA_END + 512u)

static const uint8_t test_uuid[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
				      0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

/* ".\parent.vhd" in UTF-16LE, as Hyper-V writes a W2ru locator. */
static const char loc_path[] = ".\\parent.vhd";

static void put_utf16(uint8_t *p, const char *s, bool le)
{
	for (; *s; s++, p += 2) {
		p[le ? 0 : 1] = (uint8_t)*s;
		p[le ? 1 : 0] = 0;
	}
}

static void fix_sum(uint8_t *buf, size_t len, size_t at)
{
	rp_put_be32(buf + at, vhd_checksum(buf, len, at));
}

static void make_footer(uint8_t f[VHD_FOOTER_SIZE], uint32_t type)
{
	vhd_footer_build_fixed(T_CURRENT_SIZE, test_uuid, 0x2a000000u, f);
	if (type != VHD_TYPE_FIXED) {
		rp_put_be64(f + 16, T_HEADER_OFF);
		rp_put_be32(f + 60, type);
		fix_sum(f, VHD_FOOTER_SIZE, 64);
	}
}

static void make_header(uint8_t h[VHD_DYN_HEADER_SIZE])
{
	memset(h, 0, VHD_DYN_HEADER_SIZE);
	memcpy(h, "cxsparse", 8);
	rp_put_be64(h + 8, UINT64_MAX);
	rp_put_be64(h + 16, T_TABLE_OFF);
	rp_put_be32(h + 24, 0x00010000);
	rp_put_be32(h + 28, T_ENTRIES);
	rp_put_be32(h + 32, T_BLOCK_SIZE);
	memcpy(h + 40, test_uuid, 16);
	h[40] ^= 0xff;
	rp_put_be32(h + 56, 0x29000000u);
	/* parent name "pärent.vhd" in UTF-16BE */
	put_utf16(h + 64, "p?rent.vhd", false);
	rp_put_be16(h + 66, 0x00e4);
	memcpy(h + 576, "W2ru", 4);
	rp_put_be32(h + 580, 512);
	rp_put_be32(h + 584, (uint32_t)(2 * strlen(loc_path)));
	rp_put_be64(h + 592, T_LOC_OFF);
	fix_sum(h, VHD_DYN_HEADER_SIZE, 36);
}

static void parse_footer(const uint8_t *f, struct vhd_footer *out)
{
	struct rp_err err;

	rp_err_init(&err);
	assert_int_equal(vhd_footer_parse(f, VHD_FOOTER_SIZE, 0, out, &err), 0);
}

/* ---- footer ---- */

static void test_footer_build_roundtrip(void **state)
{
	uint8_t f[VHD_FOOTER_SIZE];
	struct vhd_footer ft;
	size_t i;

	(void)state;
	vhd_footer_build_fixed(64 * MIB, test_uuid, 0x2a2b2c2du, f);
	parse_footer(f, &ft);
	assert_memory_equal(f, "conectix", 8);
	assert_int_equal(ft.features, 2);
	assert_int_equal(ft.version, 0x00010000);
	assert_true(ft.data_offset == UINT64_MAX);
	assert_int_equal(ft.timestamp, 0x2a2b2c2du);
	assert_string_equal(ft.creator_app, "cvmr");
	assert_int_equal(ft.creator_version, 0x00010000);
	assert_string_equal(ft.creator_host, "Wi2k");
	assert_true(ft.original_size == 64 * MIB);
	assert_true(ft.current_size == 64 * MIB);
	assert_int_equal(ft.cylinders, 963);
	assert_int_equal(ft.heads, 8);
	assert_int_equal(ft.sectors_per_track, 17);
	assert_int_equal(ft.disk_type, VHD_TYPE_FIXED);
	assert_true(ft.checksum_ok);
	assert_int_equal(ft.checksum_stored, ft.checksum_computed);
	assert_int_equal(ft.checksum_stored, rp_be32(f + 64));
	assert_memory_equal(ft.uuid, test_uuid, 16);
	assert_int_equal(ft.saved_state, 0);
	/* geometry on disk: cylinders (16 bits), heads, sectors per track */
	assert_int_equal(rp_be16(f + 56), 963);
	assert_int_equal(f[58], 8);
	assert_int_equal(f[59], 17);
	for (i = 85; i < VHD_FOOTER_SIZE; i++)
		assert_int_equal(f[i], 0);
}

static void test_footer_nonprintable_creator(void **state)
{
	uint8_t f[VHD_FOOTER_SIZE];
	struct vhd_footer ft;

	(void)state;
	make_footer(f, VHD_TYPE_FIXED);
	f[28] = 0x01;
	f[39] = 0xff;
	fix_sum(f, VHD_FOOTER_SIZE, 64);
	parse_footer(f, &ft);
	assert_string_equal(ft.creator_app, "?vmr");
	assert_string_equal(ft.creator_host, "Wi2?");
}

static void test_footer_dynamic_ok(void **state)
{
	uint8_t f[VHD_FOOTER_SIZE];
	struct vhd_footer ft;

	(void)state;
	make_footer(f, VHD_TYPE_DYNAMIC);
	rp_put_be32(f + 12, 0x00010005); /* any 1.x minor is accepted */
	fix_sum(f, VHD_FOOTER_SIZE, 64);
	parse_footer(f, &ft);
	assert_int_equal(ft.disk_type, VHD_TYPE_DYNAMIC);
	assert_true(ft.data_offset == T_HEADER_OFF);
}

struct field_case {
	const char *name;
	uint32_t type; /* disk type of the valid starting structure */
	size_t off;
	int width; /* 1, 4, 8 or 16 (value in both halves) bytes; 0: the 8 bytes of text */
	uint64_t value;
	const char *text;
	bool keep_sum; /* leave the checksum stale */
	const char *msg;
};

static void set_field(uint8_t *buf, const struct field_case *c)
{
	switch (c->width) {
	case 0:
		memcpy(buf + c->off, c->text, 8);
		break;
	case 1:
		buf[c->off] = (uint8_t)c->value;
		break;
	case 4:
		rp_put_be32(buf + c->off, (uint32_t)c->value);
		break;
	case 16:
		rp_put_be64(buf + c->off + 8, c->value);
		rp_put_be64(buf + c->off, c->value);
		break;
	default:
		rp_put_be64(buf + c->off, c->value);
		break;
	}
}

static const struct field_case footer_cases[] = {
    {"bad cookie", 2, 0, 0, 0, "Conectix", false,
     "cookie at +0: expected \"conectix\", "
     "found \"Conectix\""},
    {"cookie with binary", 2, 0, 0, 0, "\x01onectix", false, "found \"?onectix\""},
    {"version 2.0", 2, 12, 4, 0x00020000, NULL, false,
     "format version at +12: 0x00020000 is not 1.x"},
    {"version 0.1", 2, 12, 4, 0x00000001, NULL, false, "format version at +12: 0x00000001"},
    {"disk type 5", 2, 60, 4, 5, NULL, false, "disk type at +60: 5 is not"},
    {"disk type 0", 2, 60, 4, 0, NULL, false, "disk type at +60: 0 is not"},
    {"fixed with data offset", 2, 16, 8, 512, NULL, false,
     "data offset at +16: 0x200, a fixed disk needs 0xffffffffffffffff"},
    {"dynamic data offset unaligned", 3, 16, 8, 513, NULL, false,
     "data offset at +16: 0x201 is not a multiple of 512"},
    {"dynamic data offset 0", 3, 16, 8, 0, NULL, false,
     "data offset at +16: 0x0 overlaps the footer copy at 0"},
    {"diff data offset all ones", 4, 16, 8, UINT64_MAX, NULL, false,
     "data offset at +16: 0xffffffffffffffff is not a multiple of 512"},
    {"size not multiple of 512", 2, 48, 8, 1000, NULL, false,
     "current size at +48: 1000 is not a multiple of 512"},
    {"checksum wrong", 2, 64, 4, 0x12345678, NULL, true,
     "checksum at +64: stored 0x12345678, computed 0x"},
    {"byte changed under checksum", 2, 84, 1, 1, NULL, true, "checksum at +64: stored 0x"},
};

static void test_footer_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(footer_cases) / sizeof(footer_cases[0]); i++) {
		const struct field_case *c = &footer_cases[i];
		uint8_t f[VHD_FOOTER_SIZE];
		struct vhd_footer ft;
		struct rp_err err;

		print_message("footer case: %s\n", c->name);
		make_footer(f, c->type);
		set_field(f, c);
		if (!c->keep_sum)
			fix_sum(f, VHD_FOOTER_SIZE, 64);
		rp_err_init(&err);
		memset(&ft, 0x5a, sizeof(ft));
		assert_int_equal(vhd_footer_parse(f, sizeof(f), 0, &ft, &err), RP_EFORMAT);
		assert_int_equal(err.code, RP_EFORMAT);
		assert_non_null(strstr(err.msg, c->msg));
		/* out is untouched on failure */
		assert_int_equal(ft.features, 0x5a5a5a5a);
	}
}

static void test_footer_checksum_values(void **state)
{
	uint8_t f[VHD_FOOTER_SIZE];
	struct vhd_footer ft;
	struct rp_err err;
	char want[128];
	uint32_t good;

	(void)state;
	make_footer(f, VHD_TYPE_FIXED);
	good = rp_be32(f + 64);
	rp_put_be32(f + 64, good + 1);
	rp_err_init(&err);
	assert_int_equal(vhd_footer_parse(f, sizeof(f), 0, &ft, &err), RP_EFORMAT);
	snprintf(want, sizeof(want), "checksum at +64: stored 0x%08x, computed 0x%08x", good + 1,
		 good);
	assert_string_equal(err.msg, want);

	/* with the ignore flag: success, both values reported */
	assert_int_equal(vhd_footer_parse(f, sizeof(f), VHD_IGNORE_CHECKSUMS, &ft, &err), 0);
	assert_false(ft.checksum_ok);
	assert_int_equal(ft.checksum_stored, good + 1);
	assert_int_equal(ft.checksum_computed, good);

	/* the ignore flag does not relax the other checks */
	rp_put_be32(f + 60, 9);
	assert_int_equal(vhd_footer_parse(f, sizeof(f), VHD_IGNORE_CHECKSUMS, &ft, &err),
			 RP_EFORMAT);
	assert_non_null(strstr(err.msg, "disk type at +60: 9"));
}

static void test_footer_short(void **state)
{
	uint8_t f[VHD_FOOTER_SIZE];
	struct vhd_footer ft;
	struct rp_err err;

	(void)state;
	make_footer(f, VHD_TYPE_FIXED);
	rp_err_init(&err);
	assert_int_equal(vhd_footer_parse(f, 511, 0, &ft, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "footer is 511 bytes, need 512"));
	assert_int_equal(vhd_footer_parse(f, 0, 0, &ft, NULL), RP_EFORMAT);
}

/* The tail of a disk image: a fixed VHD footer that fits, no VHD at all, or a VHD that is wrong. */
static void test_image_footer_check(void **state)
{
	const uint64_t size = T_CURRENT_SIZE + VHD_FOOTER_SIZE;
	uint8_t f[VHD_FOOTER_SIZE];
	struct rp_err err;
	bool is_vhd = true;

	(void)state;
	make_footer(f, VHD_TYPE_FIXED);
	rp_err_init(&err);
	assert_int_equal(vhd_image_footer_check("disk", size, f, &is_vhd, &err), 0);
	assert_true(is_vhd);

	/* no cookie: not a VHD (a guest state blob, a raw mirror), and not an error */
	memset(f, 0, 8);
	assert_int_equal(vhd_image_footer_check("disk", size, f, &is_vhd, &err), 0);
	assert_false(is_vhd);

	/* a footer that does not parse names where it lies */
	make_footer(f, VHD_TYPE_FIXED);
	f[100] ^= 1;
	assert_int_equal(vhd_image_footer_check("disk", size, f, &is_vhd, &err), RP_EFORMAT);
	assert_false(is_vhd);
	assert_non_null(strstr(err.msg, "disk: vhd footer at 0x800000: "));

	make_footer(f, VHD_TYPE_DYNAMIC);
	rp_err_init(&err);
	assert_int_equal(vhd_image_footer_check("disk", size, f, &is_vhd, &err), RP_EFORMAT);
	assert_string_equal(err.msg,
			    "disk: the footer says disk type 3; a disk blob must be a fixed VHD");

	make_footer(f, VHD_TYPE_FIXED);
	rp_err_init(&err);
	assert_int_equal(vhd_image_footer_check("disk", size + 512, f, &is_vhd, &err), RP_EFORMAT);
	assert_false(is_vhd);
	assert_string_equal(err.msg, "disk: vhd footer current size at +48 is 8388608, but the "
				     "blob holds 8389120 bytes before the footer");
}

static void test_checksum_skip(void **state)
{
	uint8_t b[8] = {1, 2, 0xff, 0xff, 0xff, 0xff, 3, 4};

	(void)state;
	assert_int_equal(vhd_checksum(b, sizeof(b), 2), ~(uint32_t)10);
	assert_int_equal(vhd_checksum(b, 0, 0), 0xffffffffu);
}

/* ---- CHS ---- */

static void test_chs_vectors(void **state)
{
	static const struct {
		uint64_t size;
		uint16_t c;
		uint8_t h, s;
	} v[] = {
	    /* by hand with the specification's algorithm */
	    {64 * MIB, 963, 8, 17},
	    {GIB, 2080, 16, 63},
	    {3 * 1024 * GIB, 65535, 16, 255}, /* capped at 65535*16*255 sectors */
	    {0, 0, 4, 17},
	    {200 * MIB, 825, 16, 31},
	    {65535ull * 16 * 63 * 512, 16191, 16, 255},
	    {65535ull * 16 * 63 * 512 - 512, 65534, 16, 63},
	    /* read from footers of `qemu-img create -f vpc -o subformat=fixed` */
	    {21002240, 603, 4, 17},
	    {67125248, 964, 8, 17},
	    {1073995776, 2081, 16, 63},
	    {136365219840ull, 65279, 16, 255},
	    {2000 * GIB, 65535, 16, 255},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint16_t c;
		uint8_t h, s;

		print_message("chs of %llu\n", (unsigned long long)v[i].size);
		vhd_chs(v[i].size, &c, &h, &s);
		assert_int_equal(c, v[i].c);
		assert_int_equal(h, v[i].h);
		assert_int_equal(s, v[i].s);
	}
}

/* ---- dynamic header ---- */

static int parse_header(const uint8_t *hb, size_t len, uint64_t file_size, uint32_t type,
			unsigned flags, struct vhd_dyn_header *out, struct rp_err *err)
{
	uint8_t f[VHD_FOOTER_SIZE];
	struct vhd_footer ft;

	make_footer(f, type);
	parse_footer(f, &ft);
	rp_err_init(err);
	return vhd_dyn_header_parse(hb, len, file_size, &ft, flags, out, err);
}

static void test_header_diff_ok(void **state)
{
	uint8_t hb[VHD_DYN_HEADER_SIZE];
	struct vhd_dyn_header h;
	struct rp_err err;
	uint8_t puuid[16];
	int i;

	(void)state;
	make_header(hb);
	assert_int_equal(parse_header(hb, sizeof(hb), T_FILE_SIZE, VHD_TYPE_DIFF, 0, &h, &err), 0);
	assert_true(h.data_offset == UINT64_MAX);
	assert_true(h.table_offset == T_TABLE_OFF);
	assert_int_equal(h.header_version, 0x00010000);
	assert_int_equal(h.max_table_entries, T_ENTRIES);
	assert_int_equal(h.block_size, T_BLOCK_SIZE);
	assert_true(h.checksum_ok);
	assert_int_equal(h.checksum_stored, h.checksum_computed);
	memcpy(puuid, test_uuid, 16);
	puuid[0] ^= 0xff;
	assert_memory_equal(h.parent_uuid, puuid, 16);
	assert_int_equal(h.parent_timestamp, 0x29000000u);
	assert_string_equal(h.parent_name, "p\xc3\xa4rent.vhd");
	assert_int_equal(h.loc[0].code, 0x57327275u);
	assert_int_equal(h.loc[0].data_space, 512);
	assert_int_equal(h.loc[0].data_length, 2 * strlen(loc_path));
	assert_true(h.loc[0].data_offset == T_LOC_OFF);
	for (i = 1; i < VHD_PARENT_LOCATORS; i++)
		assert_int_equal(h.loc[i].code, 0);
}

static void test_header_dynamic_ok(void **state)
{
	uint8_t hb[VHD_DYN_HEADER_SIZE];
	struct vhd_dyn_header h;
	struct rp_err err;

	(void)state;
	/* a dynamic disk: no parent, no locators */
	make_header(hb);
	memset(hb + 40, 0, 16);
	memset(hb + 64, 0, 512 + 192);
	fix_sum(hb, sizeof(hb), 36);
	assert_int_equal(parse_header(hb, sizeof(hb), T_FILE_SIZE, VHD_TYPE_DYNAMIC, 0, &h, &err),
			 0);
	assert_string_equal(h.parent_name, "");
	assert_true(h.checksum_ok);
}

static const struct field_case header_cases[] = {
    {"bad cookie", 4, 0, 0, 0, "cxsparsf", false,
     "cookie at +0: expected \"cxsparse\", found \"cxsparsf\""},
    {"data offset", 4, 8, 8, 0, NULL, false, "data offset at +8: 0x0, expected"},
    {"version", 4, 24, 4, 0x00020000, NULL, false, "header version at +24: 0x00020000"},
    {"block size 3000", 4, 32, 4, 3000, NULL, false,
     "block size at +32: 3000 is not a power of two"},
    {"block size 0", 4, 32, 4, 0, NULL, false, "block size at +32: 0 is not a power of two"},
    {"block size 256", 4, 32, 4, 256, NULL, false, "block size at +32: 256 is outside"},
    {"block size 512 MiB", 4, 32, 4, 512 * MIB, NULL, false,
     "block size at +32: 536870912 is outside"},
    {"table offset past end", 4, 16, 8, T_FILE_SIZE, NULL, false,
     "table offset at +16: BAT of 512 bytes at 0x200e00 ends past the footer at 0x200c00"},
    {"table offset huge", 4, 16, 8, 0xfffffffffffffe00ull, NULL, false,
     "table offset at +16: BAT of 512 bytes at 0xfffffffffffffe00 ends past"},
    {"table offset unaligned", 4, 16, 8, T_TABLE_OFF + 1, NULL, false,
     "table offset at +16: 0x601 is not a multiple of 512"},
    {"table offset 0", 4, 16, 8, 0, NULL, false, "table offset at +16: 0x0 overlaps the footer"},
    {"table over header", 4, 16, 8, 1024, NULL, false,
     "table offset at +16: BAT at 0x400 overlaps the dynamic header at 0x200"},
    {"huge max table entries", 4, 28, 4, 0xffffffffu, NULL, false,
     "max table entries at +28: 4294967295 entries (17179869184 bytes) do not fit"},
    {"too few entries", 4, 28, 4, 3, NULL, false,
     "max table entries at +28: 3, current size 8388608 with block size 2097152 needs 4"},
    {"zero parent uuid", 4, 40, 16, 0, NULL, false, "parent uuid at +40: zero"},
    {"locator past end", 4, 576 + 16, 8, T_DATA_END - 8, NULL, false,
     "parent locator 0 (W2ru) at +576: 24 bytes at 0x200bf8 end past the footer at 0x200c00"},
    {"locator offset wraps", 4, 576 + 16, 8, 0xfffffffffffffff0ull, NULL, false,
     "parent locator 0 (W2ru) at +576: 24 bytes at 0xfffffffffffffff0 end past"},
    {"locator length huge", 4, 576 + 8, 4, 0xffffffffu, NULL, false,
     "parent locator 0 (W2ru) at +576: 4294967295 bytes"},
    {"checksum", 4, 36, 4, 0x01020304, NULL, true,
     "checksum at +36: stored 0x01020304, "
     "computed 0x"},
    {"reserved byte under checksum", 4, 1000, 1, 7, NULL, true, "checksum at +36: stored"},
};

static void test_header_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
		const struct field_case *c = &header_cases[i];
		uint8_t hb[VHD_DYN_HEADER_SIZE];
		struct vhd_dyn_header h;
		struct rp_err err;

		print_message("header case: %s\n", c->name);
		make_header(hb);
		set_field(hb, c);
		if (!c->keep_sum)
			fix_sum(hb, sizeof(hb), 36);
		memset(&h, 0x5a, sizeof(h));
		assert_int_equal(parse_header(hb, sizeof(hb), T_FILE_SIZE, c->type, 0, &h, &err),
				 RP_EFORMAT);
		assert_int_equal(err.code, RP_EFORMAT);
		if (!strstr(err.msg, c->msg))
			print_error("got \"%s\"\n", err.msg);
		assert_non_null(strstr(err.msg, c->msg));
		assert_int_equal(h.block_size, 0x5a5a5a5a);
	}
}

static void test_header_misc(void **state)
{
	uint8_t hb[VHD_DYN_HEADER_SIZE];
	struct vhd_dyn_header h;
	struct rp_err err;

	(void)state;
	make_header(hb);
	assert_int_equal(parse_header(hb, 1023, T_FILE_SIZE, VHD_TYPE_DIFF, 0, &h, &err),
			 RP_EFORMAT);
	assert_non_null(strstr(err.msg, "dynamic header is 1023 bytes, need 1024"));
	assert_int_equal(parse_header(hb, sizeof(hb), 100, VHD_TYPE_DIFF, 0, &h, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "file of 100 bytes is too small"));

	/* a bad checksum is accepted with the flag */
	rp_put_be32(hb + 36, rp_be32(hb + 36) ^ 1);
	assert_int_equal(parse_header(hb, sizeof(hb), T_FILE_SIZE, VHD_TYPE_DIFF,
				      VHD_IGNORE_CHECKSUMS, &h, &err),
			 0);
	assert_false(h.checksum_ok);
	assert_int_equal(h.checksum_stored ^ 1, h.checksum_computed);

	/* locators of a dynamic disk are not followed, so not checked */
	make_header(hb);
	rp_put_be64(hb + 592, 0xfffffffffffffff0ull);
	fix_sum(hb, sizeof(hb), 36);
	assert_int_equal(parse_header(hb, sizeof(hb), T_FILE_SIZE, VHD_TYPE_DYNAMIC, 0, &h, &err),
			 0);
}

/* ---- BAT ---- */

static void test_bitmap_size(void **state)
{
	(void)state;
	assert_int_equal(vhd_bitmap_size(2 * 1024 * 1024), 512);
	assert_int_equal(vhd_bitmap_size(512), 512);
	assert_int_equal(vhd_bitmap_size(4096 * 512 + 512), 1024);
	assert_int_equal(vhd_bitmap_size(VHD_MAX_BLOCK_SIZE), 65536);
	assert_int_equal(vhd_bitmap_size(0xffffffffu), 1048576);
	assert_int_equal(vhd_bitmap_size(0), 0);
}

static void test_bat_check(void **state)
{
	static const struct {
		const char *name;
		uint32_t e[T_ENTRIES];
		int rc;
		const char *msg;
	} cases[] = {
	    {"all unused", {~0u, ~0u, ~0u, ~0u}, 0, NULL},
	    {"one block ending at the footer", {~0u, T_BLOCK_OFF / 512, ~0u, ~0u}, 0, NULL},
	    {"block past the footer",
	     {~0u, T_BLOCK_OFF / 512 + 1, ~0u, ~0u},
	     RP_EFORMAT,
	     "BAT entry 1 at +4: block at 0xc00 ends past the footer at 0x200c00"},
	    {"block inside the BAT",
	     {~0u, ~0u, T_TABLE_OFF / 512, ~0u},
	     RP_EFORMAT,
	     "BAT entry 2 at +8: block at 0x600 starts before the end of the BAT at 0x800"},
	    {"block in the header", {0, ~0u, ~0u, ~0u}, RP_EFORMAT, "BAT entry 0 at +0"},
	    {"largest sector number",
	     {~0u, ~0u, ~0u, 0xfffffffeu},
	     RP_EFORMAT,
	     "BAT entry 3 at +12: block at 0x1fffffffc00 ends past"},
	};
	uint8_t hb[VHD_DYN_HEADER_SIZE];
	struct vhd_dyn_header h;
	struct rp_err err;
	size_t i;
	int j;

	(void)state;
	make_header(hb);
	assert_int_equal(parse_header(hb, sizeof(hb), T_FILE_SIZE, VHD_TYPE_DIFF, 0, &h, &err), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t bat[T_ENTRIES * 4];

		print_message("bat case: %s\n", cases[i].name);
		for (j = 0; j < (int)T_ENTRIES; j++)
			rp_put_be32(bat + 4 * j, cases[i].e[j]);
		rp_err_init(&err);
		assert_int_equal(vhd_bat_check(bat, T_ENTRIES, &h, T_DATA_END, &err), cases[i].rc);
		if (cases[i].msg) {
			if (!strstr(err.msg, cases[i].msg))
				print_error("got \"%s\"\n", err.msg);
			assert_non_null(strstr(err.msg, cases[i].msg));
		}
	}
}

/* ---- parent locators ---- */

static void test_locator_decode(void **state)
{
	uint8_t w[64];
	char out[64];
	struct rp_err err;
	static const char url[] = "file://localhost/Users/me/p%C3%A4rent.vhd";

	(void)state;
	memset(w, 0, sizeof(w));
	put_utf16(w, loc_path, true);
	rp_err_init(&err);
	assert_int_equal(
	    vhd_locator_decode(0x57327275u, w, 2 * strlen(loc_path), out, sizeof(out), &err), 0);
	assert_string_equal(out, ".\\parent.vhd");

	/* W2ku with a non-ASCII letter: "C:\ä.vhd" */
	memset(w, 0, sizeof(w));
	put_utf16(w, "C:\\", true);
	w[6] = 0xe4;
	put_utf16(w + 8, ".vhd", true);
	assert_int_equal(vhd_locator_decode(0x57326b75u, w, 16, out, sizeof(out), &err), 0);
	assert_string_equal(out, "C:\\\xc3\xa4.vhd");

	assert_int_equal(vhd_locator_decode(0x4d616358u, (const uint8_t *)url, strlen(url), out,
					    sizeof(out), &err),
			 0);
	assert_string_equal(out, url);
	/* MacX: UTF-8 passes through, trailing NULs of the data space are dropped */
	assert_int_equal(vhd_locator_decode(0x4d616358u, (const uint8_t *)"file:///\xc3\xa4\0\0",
					    12, out, sizeof(out), &err),
			 0);
	assert_string_equal(out, "file:///\xc3\xa4");
}

static void test_locator_errors(void **state)
{
	static const struct {
		const char *name;
		uint32_t code;
		const char *data;
		size_t len;
		size_t outsz;
		const char *msg;
	} cases[] = {
	    {"unknown code", 0x41424344u, "x\0", 2, 64,
	     "locator code 0x41424344 (\"ABCD\") is not supported"},
	    {"unused code", 0, "x\0", 2, 64, "locator code 0x00000000 (\"????\") is not supported"},
	    {"odd utf-16", 0x57327275u, "a\0b", 3, 64, "locator W2ru: 3 bytes is not whole utf-16"},
	    {"empty", 0x57327275u, "", 0, 64, "locator W2ru: data is empty"},
	    {"only NULs", 0x57327275u, "\0\0\0\0", 4, 64, "locator W2ru: path is empty"},
	    {"too long", 0x57327275u, "a\0b\0c\0d\0", 8, 4, "does not fit in 4 bytes"},
	    {"bad utf-8", 0x4d616358u, "file:\xc3\x28", 7, 64,
	     "locator MacX: invalid utf-8 at byte 5"},
	    {"truncated utf-8", 0x4d616358u, "file:\xe2\x82", 7, 64,
	     "locator MacX: truncated utf-8 at byte 5"},
	    {"overlong utf-8", 0x4d616320u, "\xc0\xaf", 2, 64,
	     "locator Mac : invalid utf-8 at byte 0"},
	    {"surrogate in utf-8", 0x4d616358u, "\xed\xa0\x80", 3, 64, "invalid utf-8 at byte 0"},
	    {"utf-8 too long", 0x4d616358u, "abcd", 4, 4, "locator MacX: 4 bytes do not fit"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];
		struct rp_err err;

		print_message("locator case: %s\n", cases[i].name);
		rp_err_init(&err);
		assert_int_equal(vhd_locator_decode(cases[i].code, (const uint8_t *)cases[i].data,
						    cases[i].len, out, cases[i].outsz, &err),
				 RP_EFORMAT);
		if (!strstr(err.msg, cases[i].msg))
			print_error("got \"%s\"\n", err.msg);
		assert_non_null(strstr(err.msg, cases[i].msg));
	}
}

static void test_locator_code_str(void **state)
{
	char s[5];

	(void)state;
	vhd_locator_code_str(0x57327275u, s);
	assert_string_equal(s, "W2ru");
	vhd_locator_code_str(0x4d616320u, s);
	assert_string_equal(s, "Mac ");
	vhd_locator_code_str(0x5769326bu, s);
	assert_string_equal(s, "Wi2k");
	vhd_locator_code_str(0x00010203u, s);
	assert_string_equal(s, "????");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_footer_build_roundtrip),
	    cmocka_unit_test(test_footer_nonprintable_creator),
	    cmocka_unit_test(test_footer_dynamic_ok),
	    cmocka_unit_test(test_footer_errors),
	    cmocka_unit_test(test_footer_checksum_values),
	    cmocka_unit_test(test_footer_short),
	    cmocka_unit_test(test_image_footer_check),
	    cmocka_unit_test(test_checksum_skip),
	    cmocka_unit_test(test_chs_vectors),
	    cmocka_unit_test(test_header_diff_ok),
	    cmocka_unit_test(test_header_dynamic_ok),
	    cmocka_unit_test(test_header_errors),
	    cmocka_unit_test(test_header_misc),
	    cmocka_unit_test(test_bitmap_size),
	    cmocka_unit_test(test_bat_check),
	    cmocka_unit_test(test_locator_decode),
	    cmocka_unit_test(test_locator_errors),
	    cmocka_unit_test(test_locator_code_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
