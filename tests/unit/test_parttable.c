/*
 * Tests for formats/parttable.c: valid parses of tables and headers written by sfdisk and
 * cryptsetup (testdata/gpt-sfdisk-*.bin, mbr-sfdisk.bin, luks*-header.bin, made by
 * testdata/make-parser-vectors.sh) and table-driven error cases, each changing one field of a
 * valid structure and asserting the code and message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "common/endian.h"
#include "common/util.h"
#include "formats/parttable.h"

#define DISK_SECTORS 131072u /* the 64 MiB disks the vectors were cut from */
#define DISK_SIZE (DISK_SECTORS * 512ull)

/* CRC-32 (IEEE, reflected), as GPT uses; written out here so the test needs no zlib. */
static uint32_t crc32_ieee(const uint8_t *p, size_t len)
{
	uint32_t c = 0xFFFFFFFFu;
	int k;

	while (len--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
	}
	return ~c;
}

enum patch_kind { LE, BE, FILL };

/* One field to overwrite; a list ends at the first zero width. */
struct patch {
	unsigned off;
	unsigned width;
	uint64_t value;
	enum patch_kind kind;
};

#define P(off, width, value)                                                                       \
	{                                                                                          \
		(off), (width), (value), LE                                                        \
	}
#define PB(off, width, value)                                                                      \
	{                                                                                          \
		(off), (width), (value), BE                                                        \
	}
#define FILLB(off, width, byte)                                                                    \
	{                                                                                          \
		(off), (width), (byte), FILL                                                       \
	}

static void apply(uint8_t *buf, const struct patch *p, size_t n)
{
	size_t i;
	unsigned k;

	for (i = 0; i < n && p[i].width != 0; i++) {
		if (p[i].kind == FILL) {
			memset(buf + p[i].off, (int)p[i].value, p[i].width);
			continue;
		}
		for (k = 0; k < p[i].width; k++) {
			unsigned shift = 8 * (p[i].kind == LE ? k : p[i].width - 1 - k);
			buf[p[i].off + k] = (uint8_t)(p[i].value >> shift);
		}
	}
}

static void test_mbr_valid(void **state)
{
	struct pt_mbr m;
	struct rp_err err;
	uint8_t *buf;
	size_t len;

	(void)state;
	rp_err_init(&err);
	buf = unit_testdata("mbr-sfdisk.bin", &len);
	assert_int_equal(pt_mbr_parse(buf, len, DISK_SIZE, &m, &err), 0);
	assert_true(m.valid);
	assert_false(m.protective);
	assert_int_equal(m.disk_signature, 0x12345678);
	assert_int_equal(m.count, 2);
	assert_int_equal(m.part[0].index, 1);
	assert_int_equal(m.part[0].first_lba, 2048);
	assert_int_equal(m.part[0].last_lba, 63487);
	assert_int_equal(m.part[0].offset, 1024 * 1024);
	assert_int_equal(m.part[0].length, 61440 * 512);
	assert_int_equal(m.part[0].mbr_type, 0x83);
	assert_string_equal(m.part[0].type_name, "Linux");
	assert_int_equal(m.part[1].index, 2);
	assert_int_equal(m.part[1].last_lba, DISK_SECTORS - 1);
	assert_string_equal(m.part[1].type_name, "Linux swap");
	/* No boot signature: no MBR, and not an error. */
	buf[511] = 0;
	assert_int_equal(pt_mbr_parse(buf, len, DISK_SIZE, &m, &err), 0);
	assert_false(m.valid);
	assert_int_equal(m.count, 0);
	free(buf);

	buf = unit_testdata("gpt-sfdisk-primary.bin", &len);
	assert_int_equal(pt_mbr_parse(buf, len, DISK_SIZE, &m, &err), 0);
	assert_true(m.valid);
	assert_true(m.protective);
	assert_int_equal(m.count, 1);
	assert_int_equal(m.part[0].mbr_type, 0xEE);
	assert_int_equal(m.part[0].first_lba, 1);
	assert_int_equal(m.part[0].last_lba, DISK_SECTORS - 1);
	/* A protective entry clamped to 0xFFFFFFFF sectors may run past a small disk. */
	rp_put_le32(buf + 446 + 12, 0xFFFFFFFFu);
	assert_int_equal(pt_mbr_parse(buf, len, DISK_SIZE, &m, &err), 0);
	free(buf);
}

static const struct {
	const char *name;
	struct patch p[2];
	uint64_t disk_size;
	int code;
	const char *msg;
} mbr_cases[] = {
    {"status",
     {P(446, 1, 0x12)},
     DISK_SIZE,
     RP_EFORMAT,
     "mbr partition 1 at +446: status 0x12 is not 0x00 or 0x80"},
    {"zero sectors",
     {P(462 + 12, 4, 0)},
     DISK_SIZE,
     RP_EFORMAT,
     "mbr partition 2 at +470: type 0x82 with start 63488 and 0 sectors"},
    {"zero start",
     {P(446 + 8, 4, 0)},
     DISK_SIZE,
     RP_EFORMAT,
     "mbr partition 1 at +454: type 0x83 with start 0 and 61440 sectors"},
    {"past end",
     {P(462 + 12, 4, 100000)},
     DISK_SIZE,
     RP_EFORMAT,
     "mbr partition 2 at +470: sectors 63488..163487 end past the disk of 67108864 bytes"},
    {"small disk",
     {P(0, 0, 0)},
     32ull << 20,
     RP_EFORMAT,
     "mbr partition 2 at +470: sectors 63488..131071 end past the disk of 33554432 bytes"},
};

static void test_mbr_errors(void **state)
{
	size_t i, len;
	uint8_t *base = unit_testdata("mbr-sfdisk.bin", &len);

	(void)state;
	for (i = 0; i < sizeof(mbr_cases) / sizeof(mbr_cases[0]); i++) {
		uint8_t buf[512];
		struct pt_mbr m;
		struct rp_err err;
		int rc;

		memcpy(buf, base, sizeof(buf));
		apply(buf, mbr_cases[i].p, 2);
		rp_err_init(&err);
		rc = pt_mbr_parse(buf, sizeof(buf), mbr_cases[i].disk_size, &m, &err);
		print_message("case %s: %d %s\n", mbr_cases[i].name, rc, err.msg);
		assert_int_equal(rc, mbr_cases[i].code);
		assert_non_null(strstr(err.msg, mbr_cases[i].msg));
	}
	free(base);
}

static void test_gpt_valid(void **state)
{
	struct pt_partition parts[PT_MAX_PARTITIONS];
	struct pt_gpt_header h;
	struct rp_err err;
	char guid[RP_UUID_STR];
	unsigned count;
	uint8_t *buf;
	size_t len;

	(void)state;
	rp_err_init(&err);
	buf = unit_testdata("gpt-sfdisk-primary.bin", &len);
	assert_int_equal(pt_gpt_header_parse(buf + 512, 512, 512, DISK_SECTORS, 0, &h, &err), 0);
	assert_true(h.header_crc_ok);
	assert_int_equal(h.revision, 0x00010000);
	assert_int_equal(h.header_size, 92);
	assert_int_equal(h.current_lba, 1);
	assert_int_equal(h.backup_lba, DISK_SECTORS - 1);
	assert_int_equal(h.first_usable_lba, 2048);
	assert_int_equal(h.last_usable_lba, DISK_SECTORS - 34);
	assert_int_equal(h.entries_lba, 2);
	assert_int_equal(h.entry_count, 128);
	assert_int_equal(h.entry_size, 128);
	rp_guid_format_le(h.disk_guid, guid);
	assert_string_equal(guid, "6e1f2b4c-8d3a-4f0e-9b57-1c2d3e4f5a6b");
	assert_int_equal(
	    pt_gpt_entries_parse(buf + 1024, len - 1024, &h, 512, 0, parts, &count, &err), 0);
	assert_int_equal(count, 3);
	assert_int_equal(parts[0].index, 1);
	assert_string_equal(parts[0].name, "EFI");
	assert_string_equal(parts[0].type_name, "EFI System");
	assert_int_equal(parts[0].first_lba, 2048);
	assert_int_equal(parts[0].last_lba, 4095);
	assert_int_equal(parts[0].offset, 1024 * 1024);
	assert_int_equal(parts[0].length, 1024 * 1024);
	rp_guid_format_le(parts[0].part_guid, guid);
	assert_string_equal(guid, "11111111-2222-4333-8444-555555555555");
	assert_string_equal(parts[1].name, "root");
	assert_string_equal(parts[1].type_name, "Linux filesystem");
	assert_string_equal(parts[2].name, "crypt");
	assert_string_equal(parts[2].type_name, "Linux LUKS");
	assert_int_equal(parts[2].index, 3);
	assert_int_equal(parts[2].last_lba, 129023); /* sfdisk aligns the end to 1 MiB */
	free(buf);

	/* The backup: entries in the 32 sectors before the header in the last sector. */
	buf = unit_testdata("gpt-sfdisk-backup.bin", &len);
	assert_int_equal(pt_gpt_header_parse(buf + 32 * 512, 512, 512, DISK_SECTORS, 0, &h, &err),
			 0);
	assert_int_equal(h.current_lba, DISK_SECTORS - 1);
	assert_int_equal(h.backup_lba, 1);
	assert_int_equal(h.entries_lba, DISK_SECTORS - 33);
	assert_int_equal(pt_gpt_entries_parse(buf, 32 * 512, &h, 512, 0, parts, &count, &err), 0);
	assert_int_equal(count, 3);
	free(buf);
}

static const struct {
	const char *name;
	struct patch p[2];
	bool keep_crc;
	unsigned flags;
	uint32_t sector_size;
	int code;
	const char *msg;
} gpt_header_cases[] = {
    {"signature",
     {P(0, 1, 'X')},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +0: signature is 'XFI PART', expected 'EFI PART'"},
    {"revision",
     {P(8, 4, 0x00020000)},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +8: revision 0x00020000 is not 0x00010000"},
    {"header size small",
     {P(12, 4, 91)},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +12: header size 91 is not in [92, 512]"},
    {"header size large",
     {P(12, 4, 513)},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +12: header size 513 is not in [92, 512]"},
    {"crc", {P(56, 1, 0)}, true, 0, 512, RP_EFORMAT, "gpt header at +16: header crc32 stored 0x"},
    {"crc ignored", {P(56, 1, 0)}, true, PT_IGNORE_CHECKSUMS, 512, 0, NULL},
    {"my lba",
     {P(24, 8, DISK_SECTORS)},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +24: my lba 131072 is not in [1, 131072)"},
    {"alternate lba",
     {P(32, 8, 1)},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +32: alternate lba 1 is not in [1, 131072) or equals my lba"},
    {"last usable",
     {P(48, 8, DISK_SECTORS)},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +48: last usable lba 131072 is past the disk of 131072 sectors"},
    {"first usable",
     {P(40, 8, DISK_SECTORS - 33)},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +40: first usable lba 131039 is after last usable lba 131038"},
    {"entry size",
     {P(84, 4, 100)},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +84: entry size 100 is not a multiple of 128 in [128, 4096]"},
    {"entry size large",
     {P(84, 4, 8192)},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +84: entry size 8192 is not"},
    {"entry count",
     {P(80, 4, 4097)},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +80: entry count 4097 exceeds 4096"},
    {"entries past disk",
     {P(72, 8, DISK_SECTORS - 2)},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +72: entries lba 131070 (32 sectors) is not inside the disk of 131072 "
     "sectors"},
    {"entries in usable range",
     {P(72, 8, 2040)},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +72: entries at lba 2040..2071 overlap the usable range 2048..131038"},
    {"entries over header",
     {P(72, 8, 1)},
     false,
     0,
     512,
     RP_EFORMAT,
     "gpt header at +72: entries at lba 1..32 cover the header at lba 1"},
    {"sector size",
     {P(0, 0, 0)},
     false,
     0,
     1000,
     RP_EUSAGE,
     "gpt: sector size 1000 is not a power of two in [512, 65536]"},
};

static void fix_header_crc(uint8_t *hdr)
{
	uint32_t size = rp_le32(hdr + 12);

	if (size < 92 || size > 512)
		size = 92;
	rp_put_le32(hdr + 16, 0);
	rp_put_le32(hdr + 16, crc32_ieee(hdr, size));
}

static void test_gpt_header_errors(void **state)
{
	size_t i, len;
	uint8_t *base = unit_testdata("gpt-sfdisk-primary.bin", &len);

	(void)state;
	for (i = 0; i < sizeof(gpt_header_cases) / sizeof(gpt_header_cases[0]); i++) {
		uint8_t buf[512];
		struct pt_gpt_header h;
		struct rp_err err;
		int rc;

		memcpy(buf, base + 512, sizeof(buf));
		apply(buf, gpt_header_cases[i].p, 2);
		if (!gpt_header_cases[i].keep_crc)
			fix_header_crc(buf);
		rp_err_init(&err);
		rc = pt_gpt_header_parse(buf, sizeof(buf), gpt_header_cases[i].sector_size,
					 DISK_SECTORS, gpt_header_cases[i].flags, &h, &err);
		print_message("case %s: %d %s\n", gpt_header_cases[i].name, rc, err.msg);
		assert_int_equal(rc, gpt_header_cases[i].code);
		if (gpt_header_cases[i].msg)
			assert_non_null(strstr(err.msg, gpt_header_cases[i].msg));
		else
			assert_false(h.header_crc_ok);
	}
	{
		struct pt_gpt_header h;
		struct rp_err err;
		assert_int_equal(
		    pt_gpt_header_parse(base + 512, 50, 512, DISK_SECTORS, 0, &h, &err),
		    RP_EFORMAT);
		assert_string_equal(err.msg, "gpt header: truncated, 50 bytes given, need 92");
	}
	free(base);
}

/* Entries of the primary vector: entry i (0-based) at +128*i; first lba +32, last lba +40. */
static const struct {
	const char *name;
	struct patch p[2];
	bool keep_crc;
	unsigned flags;
	int code;
	const char *msg;
} gpt_entry_cases[] = {
    {"array crc", {P(1000, 1, 1)}, true, 0, RP_EFORMAT, "gpt entries: array crc32 stored 0x"},
    {"array crc ignored", {P(1000, 1, 1)}, true, PT_IGNORE_CHECKSUMS, 0, NULL},
    {"first after last",
     {P(128 + 32, 8, 70000)},
     false,
     0,
     RP_EFORMAT,
     "gpt entry 2 at +160: lba 70000..69631 is not inside the usable range 2048..131038"},
    {"before usable",
     {P(32, 8, 34)},
     false,
     0,
     RP_EFORMAT,
     "gpt entry 1 at +32: lba 34..4095 is not inside the usable range"},
    {"after usable",
     {P(256 + 40, 8, DISK_SECTORS - 33)},
     false,
     0,
     RP_EFORMAT,
     "gpt entry 3 at +288: lba 69632..131039 is not inside the usable range"},
    {"overlap",
     {P(128 + 32, 8, 3000)},
     false,
     0,
     RP_EFORMAT,
     "gpt entry 2 at +160: lba 3000..69631 overlaps partition 1"},
    {"unused entry ignored", {P(3 * 128 + 32, 8, 5)}, false, 0, 0, NULL},
};

static void test_gpt_entry_errors(void **state)
{
	struct pt_partition parts[PT_MAX_PARTITIONS];
	struct pt_gpt_header h0;
	size_t i, len;
	uint8_t *base = unit_testdata("gpt-sfdisk-primary.bin", &len);
	uint8_t *buf = malloc(128 * 128);

	(void)state;
	assert_non_null(buf);
	assert_int_equal(pt_gpt_header_parse(base + 512, 512, 512, DISK_SECTORS, 0, &h0, NULL), 0);
	for (i = 0; i < sizeof(gpt_entry_cases) / sizeof(gpt_entry_cases[0]); i++) {
		struct pt_gpt_header h = h0;
		struct rp_err err;
		unsigned count = 0;
		int rc;

		memcpy(buf, base + 1024, 128 * 128);
		apply(buf, gpt_entry_cases[i].p, 2);
		if (!gpt_entry_cases[i].keep_crc)
			h.entries_crc = crc32_ieee(buf, 128 * 128);
		rp_err_init(&err);
		rc = pt_gpt_entries_parse(buf, 128 * 128, &h, 512, gpt_entry_cases[i].flags, parts,
					  &count, &err);
		print_message("case %s: %d %s\n", gpt_entry_cases[i].name, rc, err.msg);
		assert_int_equal(rc, gpt_entry_cases[i].code);
		if (gpt_entry_cases[i].msg)
			assert_non_null(strstr(err.msg, gpt_entry_cases[i].msg));
		else
			assert_int_equal(count, 3);
	}
	{
		struct rp_err err;
		unsigned count;
		assert_int_equal(pt_gpt_entries_parse(buf, 1000, &h0, 512, 0, parts, &count, &err),
				 RP_EFORMAT);
		assert_string_equal(err.msg,
				    "gpt entries: truncated, 1000 bytes given, need 16384");
	}
	free(buf);
	free(base);
}

static void test_gpt_too_many(void **state)
{
	struct pt_partition parts[PT_MAX_PARTITIONS];
	struct pt_gpt_header h = {.first_usable_lba = 34,
				  .last_usable_lba = 100000,
				  .entry_count = 256,
				  .entry_size = 128};
	uint8_t *buf = calloc(256, 128);
	struct rp_err err;
	unsigned i, count;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < 129; i++) {
		buf[i * 128] = 1; /* a non-zero, unknown type GUID */
		rp_put_le64(buf + i * 128 + 32, 100 + i);
		rp_put_le64(buf + i * 128 + 40, 100 + i);
	}
	h.entries_crc = crc32_ieee(buf, 256 * 128);
	rp_err_init(&err);
	assert_int_equal(pt_gpt_entries_parse(buf, 256 * 128, &h, 4096, 0, parts, &count, &err),
			 RP_EFORMAT);
	assert_string_equal(err.msg, "gpt entry 129 at +16384: more than 128 partitions in use");
	buf[128 * 128] = 0;
	h.entries_crc = crc32_ieee(buf, 256 * 128);
	assert_int_equal(pt_gpt_entries_parse(buf, 256 * 128, &h, 4096, 0, parts, &count, &err), 0);
	assert_int_equal(count, 128);
	assert_int_equal(parts[127].offset, 227ull * 4096);
	assert_string_equal(parts[127].type_name, "unknown");
	free(buf);
}

static void test_luks_valid(void **state)
{
	struct luks_probe lp;
	struct rp_err err;
	uint8_t *buf;
	size_t len;

	(void)state;
	rp_err_init(&err);
	buf = unit_testdata("luks1-header.bin", &len);
	assert_int_equal(luks_probe_parse(buf, len, &lp, &err), 1);
	assert_int_equal(lp.version, 1);
	assert_string_equal(lp.uuid, "0dd672bc-666e-4d3b-add1-283cd925f546");
	assert_string_equal(lp.cipher, "aes-xts-plain64");
	assert_int_equal(lp.hdr_size, 4096 * 512);
	free(buf);

	buf = unit_testdata("luks2-header.bin", &len);
	assert_int_equal(luks_probe_parse(buf, len, &lp, &err), 1);
	assert_int_equal(lp.version, 2);
	assert_string_equal(lp.uuid, "d6ea397d-a4e4-46e8-97c9-4e6b89759d7d");
	assert_string_equal(lp.label, "rp-test");
	assert_string_equal(lp.cipher, "");
	assert_int_equal(lp.hdr_size, 16384);
	assert_int_equal(luks_probe_parse(buf, 5, &lp, &err), 0);
	free(buf);

	buf = unit_testdata("mbr-sfdisk.bin", &len);
	assert_int_equal(luks_probe_parse(buf, len, &lp, &err), 0);
	free(buf);
}

static const struct {
	const char *name;
	const char *file;
	struct patch p[2];
	size_t len;
	const char *msg;
} luks_cases[] = {
    {"version",
     "luks2-header.bin",
     {PB(6, 2, 3)},
     4096,
     "luks header at +6: version 3 is not 1 or 2"},
    {"luks1 cipher name",
     "luks1-header.bin",
     {FILLB(8, 32, 'a')},
     4096,
     "luks header at +8: cipher name is not NUL-terminated within 32 bytes"},
    {"luks1 cipher mode",
     "luks1-header.bin",
     {FILLB(40, 32, 0)},
     4096,
     "luks header at +40: cipher mode is empty"},
    {"luks1 hash spec",
     "luks1-header.bin",
     {P(73, 1, 0x80)},
     4096,
     "luks header at +72: hash spec has a non-printable byte 0x80"},
    {"luks1 uuid",
     "luks1-header.bin",
     {P(170, 1, 1)},
     4096,
     "luks header at +168: uuid has a non-printable byte 0x01"},
    {"luks1 key bytes",
     "luks1-header.bin",
     {PB(108, 4, 0)},
     4096,
     "luks header at +108: key bytes 0 is not in [1, 512]"},
    {"luks1 key slot",
     "luks1-header.bin",
     {PB(208 + 3 * 48, 4, 0x12345678)},
     4096,
     "luks header at +352: key slot 3 state 0x12345678 is not enabled or disabled"},
    {"luks1 truncated",
     "luks1-header.bin",
     {P(0, 0, 0)},
     500,
     "luks header: truncated, 500 bytes given, need 592 for luks1"},
    {"luks2 header size",
     "luks2-header.bin",
     {PB(8, 8, 12345)},
     4096,
     "luks header at +8: header size 12345 is not a power of two in [16 KiB, 4 MiB]"},
    {"luks2 header size large",
     "luks2-header.bin",
     {PB(8, 8, 8 << 20)},
     4096,
     "luks header at +8: header size 8388608 is not"},
    {"luks2 header offset",
     "luks2-header.bin",
     {PB(256, 8, 16384)},
     4096,
     "luks header at +256: header offset 16384 is not 0 for the primary header"},
    {"luks2 label",
     "luks2-header.bin",
     {FILLB(24, 48, 'x')},
     4096,
     "luks header at +24: label is not NUL-terminated within 48 bytes"},
    {"luks2 checksum alg",
     "luks2-header.bin",
     {FILLB(72, 32, 0)},
     4096,
     "luks header at +72: checksum algorithm is empty"},
    {"luks2 uuid",
     "luks2-header.bin",
     {FILLB(168, 40, '1')},
     4096,
     "luks header at +168: uuid is not NUL-terminated within 40 bytes"},
    {"luks2 subsystem",
     "luks2-header.bin",
     {FILLB(208, 48, 'y')},
     4096,
     "luks header at +208: subsystem is not NUL-terminated within 48 bytes"},
    {"luks2 truncated",
     "luks2-header.bin",
     {P(0, 0, 0)},
     1000,
     "luks header: truncated, 1000 bytes given, need 4096 for luks2"},
};

static void test_luks_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(luks_cases) / sizeof(luks_cases[0]); i++) {
		struct luks_probe lp;
		struct rp_err err;
		size_t len;
		uint8_t *buf = unit_testdata(luks_cases[i].file, &len);
		int rc;

		apply(buf, luks_cases[i].p, 2);
		rp_err_init(&err);
		rc = luks_probe_parse(buf, luks_cases[i].len, &lp, &err);
		print_message("case %s: %d %s\n", luks_cases[i].name, rc, err.msg);
		assert_int_equal(rc, RP_EFORMAT);
		assert_non_null(strstr(err.msg, luks_cases[i].msg));
		free(buf);
	}
}

static void test_type_names(void **state)
{
	/* Microsoft basic data EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, as stored. */
	static const uint8_t basic[16] = {0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
					  0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7};
	static const uint8_t zero[16];

	(void)state;
	assert_string_equal(pt_gpt_type_name(basic), "Microsoft basic data");
	assert_string_equal(pt_gpt_type_name(zero), "unknown");
}

/*
 * pt_walk over an in-memory disk: zeros with pieces laid over them (the sfdisk vectors at the
 * start and the end of a 64 MiB disk, or a table built here), read through the walk's callback
 * as formats/image_describe.c and verify/luks.c read an image.
 */
struct piece {
	uint64_t off;
	uint8_t *buf;
	size_t len;
};

struct mem_disk {
	struct piece p[3];
	size_t n;
	uint64_t fail_at; /* a read that covers this offset fails with RP_EIO (0: none) */
	char problems[8][RP_ERR_MSG_MAX];
	bool fatal[8], checksum[8];
	size_t nproblems;
};

static int mem_read(void *ctx, uint8_t *buf, size_t len, uint64_t off, struct rp_err *err)
{
	struct mem_disk *m = ctx;
	size_t i;

	if (m->fail_at && off <= m->fail_at && m->fail_at < off + len)
		return rp_err_set(err, RP_EIO, "cannot read at 0x%llx", (unsigned long long)off);
	memset(buf, 0, len);
	for (i = 0; i < m->n; i++) {
		uint64_t a = off > m->p[i].off ? off : m->p[i].off;
		uint64_t b =
		    off + len < m->p[i].off + m->p[i].len ? off + len : m->p[i].off + m->p[i].len;
		if (a < b)
			memcpy(buf + (a - off), m->p[i].buf + (a - m->p[i].off), (size_t)(b - a));
	}
	return 0;
}

static void mem_problem(void *ctx, const struct rp_err *e, bool fatal, bool checksum)
{
	struct mem_disk *m = ctx;

	assert_true(m->nproblems < 8);
	snprintf(m->problems[m->nproblems], RP_ERR_MSG_MAX, "%s", e->msg);
	m->fatal[m->nproblems] = fatal;
	m->checksum[m->nproblems++] = checksum;
}

/* The sfdisk GPT disk: primary (LBA 0..33) and backup (last 33 sectors) vectors. */
static void sfdisk_gpt(struct mem_disk *m)
{
	size_t len;

	memset(m, 0, sizeof(*m));
	m->p[0].buf = unit_testdata("gpt-sfdisk-primary.bin", &m->p[0].len);
	m->p[1].buf = unit_testdata("gpt-sfdisk-backup.bin", &len);
	m->p[1].len = len;
	m->p[1].off = DISK_SIZE - len;
	m->n = 2;
}

static void mem_free(struct mem_disk *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->p[i].buf);
}

/* Walk m as a disk of size bytes with 512-byte sectors; problems recorded in m. */
static int walk(struct mem_disk *m, uint64_t size, unsigned flags, struct pt_table *t)
{
	struct pt_disk d = {.read = mem_read,
			    .ctx = m,
			    .size = size,
			    .sector_size = 512,
			    .problem = mem_problem,
			    .problem_ctx = m};
	struct rp_err err;

	rp_err_init(&err);
	m->nproblems = 0;
	return pt_walk(&d, flags, t, &err);
}

static void assert_sfdisk_parts(const struct pt_table *t)
{
	assert_int_equal(t->kind, PT_GPT);
	assert_int_equal(t->sector_size, 512);
	assert_int_equal(t->count, 3);
	assert_int_equal(t->part[0].index, 1);
	assert_int_equal(t->part[0].offset, 1024 * 1024);
	assert_string_equal(t->part[1].name, "root");
	assert_int_equal(t->part[2].index, 3);
	assert_int_equal(t->part[2].offset, 69632 * 512ull);
	assert_int_equal(t->part[2].length, (129023 - 69632 + 1) * 512ull);
}

/* Recompute the entries CRC in the header at hdr (entries at ents) and the header's CRC. */
static void fix_gpt_crcs(uint8_t *hdr, const uint8_t *ents)
{
	rp_put_le32(hdr + 88, crc32_ieee(ents, 128 * 128));
	rp_put_le32(hdr + 16, 0);
	rp_put_le32(hdr + 16, crc32_ieee(hdr, 92));
}

static void test_walk_gpt(void **state)
{
	struct pt_table *t = calloc(1, sizeof(*t));
	struct mem_disk m;

	(void)state;
	assert_non_null(t);
	sfdisk_gpt(&m);
	/* a good GPT: the same partitions for describing and for finding */
	assert_int_equal(walk(&m, DISK_SIZE, 0, t), 0);
	assert_sfdisk_parts(t);
	assert_false(t->backup_used);
	assert_true(t->backup_ok);
	assert_true(t->primary.header_crc_ok);
	assert_int_equal(m.nproblems, 0);
	assert_int_equal(walk(&m, DISK_SIZE, PT_WALK_FIRST_VALID, t), 0);
	assert_sfdisk_parts(t);
	assert_false(t->backup_used);
	assert_int_equal(m.nproblems, 0);

	/* the primary header's CRC is wrong: described, the backup is used and both told */
	m.p[0].buf[512 + 56] ^= 1;
	assert_int_equal(walk(&m, DISK_SIZE, 0, t), 0);
	assert_sfdisk_parts(t);
	assert_true(t->backup_used);
	assert_false(t->primary.header_crc_ok);
	assert_int_equal(m.nproblems, 2);
	assert_non_null(strstr(m.problems[0], "GPT header at 0x200: header crc32 at +16: stored"));
	assert_true(m.fatal[0] && m.checksum[0]);
	assert_string_equal(m.problems[1], "using the backup GPT header at LBA 131071");
	assert_false(m.fatal[1] || m.checksum[1]);
	/* told, but read past with PT_IGNORE_CHECKSUMS */
	assert_int_equal(walk(&m, DISK_SIZE, PT_IGNORE_CHECKSUMS, t), 0);
	assert_sfdisk_parts(t);
	assert_false(t->backup_used);
	assert_int_equal(m.nproblems, 1);
	assert_true(m.checksum[0]);
	/* found: the backup */
	assert_int_equal(walk(&m, DISK_SIZE, PT_WALK_FIRST_VALID, t), 0);
	assert_sfdisk_parts(t);
	assert_true(t->backup_used);
	m.p[0].buf[512 + 56] ^= 1;

	/* the primary entries' CRC is wrong: the CRC problem is told as a checksum (data, not
	 * text); described, no partitions; with PT_IGNORE_CHECKSUMS all three; found: the backup */
	m.p[0].buf[1024 + 56] ^= 1;
	assert_int_equal(walk(&m, DISK_SIZE, 0, t), 0);
	assert_int_equal(t->kind, PT_GPT);
	assert_int_equal(t->count, 0);
	assert_int_equal(m.nproblems, 1);
	assert_non_null(strstr(m.problems[0], "GPT entries at 0x400: gpt entries: array crc32"));
	assert_true(m.fatal[0] && m.checksum[0]);
	assert_int_equal(walk(&m, DISK_SIZE, PT_IGNORE_CHECKSUMS, t), 0);
	assert_int_equal(t->count, 3);
	assert_true(m.checksum[0]);
	assert_int_equal(walk(&m, DISK_SIZE, PT_WALK_FIRST_VALID, t), 0);
	assert_sfdisk_parts(t);
	assert_true(t->backup_used);
	m.p[0].buf[1024 + 56] ^= 1;

	/* entries with a good CRC that overlap: a problem that is not a checksum */
	rp_put_le64(m.p[0].buf + 1024 + 128 + 32, 3000);
	fix_gpt_crcs(m.p[0].buf + 512, m.p[0].buf + 1024);
	assert_int_equal(walk(&m, DISK_SIZE, PT_IGNORE_CHECKSUMS, t), 0);
	assert_int_equal(t->count, 0);
	assert_int_equal(m.nproblems, 1);
	assert_non_null(strstr(m.problems[0], "GPT entries at 0x400: gpt entry 2 at "));
	assert_true(m.fatal[0]);
	assert_false(m.checksum[0]);
	assert_int_equal(walk(&m, DISK_SIZE, PT_WALK_FIRST_VALID, t), 0);
	assert_sfdisk_parts(t);
	assert_true(t->backup_used);
	mem_free(&m);

	/* no signature at LBA 1: described, not a GPT (and the protective MBR gives nothing);
	 * found: the backup at the last LBA */
	sfdisk_gpt(&m);
	memset(m.p[0].buf + 512, 0, 8);
	assert_int_equal(walk(&m, DISK_SIZE, 0, t), 0);
	assert_int_equal(t->kind, PT_NONE);
	assert_int_equal(t->count, 0);
	assert_int_equal(m.nproblems, 0);
	assert_int_equal(walk(&m, DISK_SIZE, PT_WALK_FIRST_VALID, t), 0);
	assert_sfdisk_parts(t);
	assert_true(t->backup_used);

	/* both headers damaged: described, a GPT with no usable header, the MBR not used */
	m.p[0].buf[512 + 56] ^= 1;
	memcpy(m.p[0].buf + 512, "EFI PART", 8);
	m.p[1].buf[32 * 512 + 56] ^= 1;
	assert_int_equal(walk(&m, DISK_SIZE, 0, t), 0);
	assert_int_equal(t->kind, PT_NONE);
	assert_int_equal(m.nproblems, 2);
	assert_non_null(strstr(m.problems[1], "backup GPT header: header crc32 at +16"));
	assert_false(m.fatal[1]);
	assert_true(m.checksum[1]);
	assert_int_equal(walk(&m, DISK_SIZE, PT_WALK_FIRST_VALID, t), 0);
	assert_int_equal(t->kind, PT_NONE);
	assert_int_equal(t->count, 0);

	/* a failed read is an error, not a problem */
	m.fail_at = 600;
	assert_int_equal(walk(&m, DISK_SIZE, 0, t), RP_EIO);
	assert_int_equal(walk(&m, DISK_SIZE, PT_WALK_FIRST_VALID, t), RP_EIO);
	assert_int_equal(t->count, 0);
	mem_free(&m);
	free(t);
}

static void test_walk_mbr_and_4k(void **state)
{
	struct pt_table *t = calloc(1, sizeof(*t));
	const uint64_t size = 4096 * 4096ull; /* 4096 sectors of 4096 bytes */
	uint8_t *gpt;
	struct mem_disk m;
	size_t len;
	unsigned flags;

	(void)state;
	assert_non_null(t);
	memset(&m, 0, sizeof(m));
	m.p[0].buf = unit_testdata("mbr-sfdisk.bin", &len);
	m.p[0].len = len;
	m.n = 1;
	for (flags = 0; flags <= PT_WALK_FIRST_VALID; flags += PT_WALK_FIRST_VALID) {
		assert_int_equal(walk(&m, DISK_SIZE, flags, t), 0);
		assert_int_equal(t->kind, PT_MBR);
		assert_int_equal(t->disk_signature, 0x12345678);
		assert_int_equal(t->count, 2);
		assert_int_equal(t->part[0].offset, 1024 * 1024);
		assert_int_equal(t->part[1].index, 2);
		assert_string_equal(t->part[1].type_name, "Linux swap");
	}
	/* a malformed MBR is told, not used */
	m.p[0].buf[446] = 0x12;
	assert_int_equal(walk(&m, DISK_SIZE, 0, t), 0);
	assert_int_equal(t->kind, PT_NONE);
	assert_int_equal(m.nproblems, 1);
	assert_non_null(strstr(m.problems[0], "MBR at 0x0: mbr partition 1 at +446: status 0x12"));
	assert_false(m.fatal[0]);
	mem_free(&m);

	/* a disk smaller than a sector has no table */
	memset(&m, 0, sizeof(m));
	assert_int_equal(walk(&m, 511, 0, t), 0);
	assert_int_equal(t->kind, PT_NONE);

	/* a GPT for 4096-byte sectors on a disk that says 512: found at the second try. Header at
	 * LBA 1, entries at LBA 2..5, usable 6..4090, backup entries 4091..4094, header 4095. */
	gpt = calloc(1, 6 * 4096);
	assert_non_null(gpt);
	memcpy(gpt + 4096, "EFI PART", 8);
	rp_put_le32(gpt + 4096 + 8, 0x00010000);
	rp_put_le32(gpt + 4096 + 12, 92);
	rp_put_le64(gpt + 4096 + 24, 1);
	rp_put_le64(gpt + 4096 + 32, 4095);
	rp_put_le64(gpt + 4096 + 40, 6);
	rp_put_le64(gpt + 4096 + 48, 4090);
	rp_put_le64(gpt + 4096 + 72, 2);
	rp_put_le32(gpt + 4096 + 80, 128);
	rp_put_le32(gpt + 4096 + 84, 128);
	memset(gpt + 2 * 4096, 0xAF, 16); /* a type GUID that is not zero */
	rp_put_le64(gpt + 2 * 4096 + 32, 256);
	rp_put_le64(gpt + 2 * 4096 + 40, 511);
	fix_gpt_crcs(gpt + 4096, gpt + 2 * 4096);
	m.p[0].buf = gpt;
	m.p[0].len = 6 * 4096;
	m.n = 1;
	for (flags = 0; flags <= PT_WALK_FIRST_VALID; flags += PT_WALK_FIRST_VALID) {
		assert_int_equal(walk(&m, size, flags, t), 0);
		assert_int_equal(t->kind, PT_GPT);
		assert_int_equal(t->sector_size, 4096);
		assert_int_equal(t->count, 1);
		assert_int_equal(t->part[0].offset, 256 * 4096ull);
		assert_int_equal(t->part[0].length, 256 * 4096ull);
		assert_string_equal(t->part[0].type_name, "unknown");
	}
	/* described, the missing backup is told (it is not needed) */
	assert_int_equal(walk(&m, size, 0, t), 0);
	assert_false(t->backup_ok);
	assert_int_equal(m.nproblems, 1);
	assert_string_equal(m.problems[0], "no backup GPT header at LBA 4095");
	mem_free(&m);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mbr_valid),	     cmocka_unit_test(test_mbr_errors),
	    cmocka_unit_test(test_gpt_valid),	     cmocka_unit_test(test_gpt_header_errors),
	    cmocka_unit_test(test_gpt_entry_errors), cmocka_unit_test(test_gpt_too_many),
	    cmocka_unit_test(test_luks_valid),	     cmocka_unit_test(test_luks_errors),
	    cmocka_unit_test(test_type_names),	     cmocka_unit_test(test_walk_gpt),
	    cmocka_unit_test(test_walk_mbr_and_4k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
