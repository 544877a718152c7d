/*
 * MBR and GPT partition tables (UEFI 2.10 sections 5.2 "LBA 0 Format" and 5.3 "GUID Partition
 * Table (GPT) Disk Layout") and LUKS header detection (LUKS1 On-Disk Format Specification 1.2.3,
 * LUKS2 On-Disk Format Specification 1.1.x, section 2 "binary header"): pure parsers, and
 * pt_walk, which reads a disk's tables through the caller's function and applies them.
 */
#include "formats/parttable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/endian.h"
#include "common/util.h"

/* Legacy MBR (5.2.1). */
enum {
	MBR_SIZE = 512,
	MBR_DISK_SIGNATURE = 440,
	MBR_ENTRIES = 446,
	MBR_ENTRY_SIZE = 16,
	MBR_SIGNATURE = 510,
	ME_STATUS = 0,
	ME_TYPE = 4,
	ME_LBA_START = 8,
	ME_SECTORS = 12,
};

/* GPT header (table 5-5). */
enum {
	GH_SIGNATURE = 0,
	GH_REVISION = 8,
	GH_HEADER_SIZE = 12,
	GH_HEADER_CRC = 16,
	GH_RESERVED = 20,
	GH_MY_LBA = 24,
	GH_ALTERNATE_LBA = 32,
	GH_FIRST_USABLE = 40,
	GH_LAST_USABLE = 48,
	GH_DISK_GUID = 56,
	GH_ENTRIES_LBA = 72,
	GH_ENTRY_COUNT = 80,
	GH_ENTRY_SIZE = 84,
	GH_ENTRIES_CRC = 88,
	GH_END = 92,
};

/* GPT partition entry (table 5-6). */
enum {
	GE_TYPE_GUID = 0,
	GE_PART_GUID = 16,
	GE_FIRST_LBA = 32,
	GE_LAST_LBA = 40,
	GE_ATTRIBUTES = 48,
	GE_NAME = 56,
	GE_NAME_SIZE = 72,
	GE_END = GE_NAME + GE_NAME_SIZE,
};

/* LUKS1 phdr and LUKS2 binary header (both big-endian). */
enum {
	LK_MAGIC = 0,
	LK_MAGIC_SIZE = 6,
	LK_VERSION = 6,
	L1_CIPHER_NAME = 8,
	L1_CIPHER_MODE = 40,
	L1_HASH_SPEC = 72,
	L1_STR_SIZE = 32,
	L1_PAYLOAD_OFFSET = 104,
	L1_KEY_BYTES = 108,
	L1_UUID = 168,
	L1_UUID_SIZE = 40,
	L1_KEYSLOTS = 208,
	L1_KEYSLOT_SIZE = 48,
	L1_KEYSLOT_COUNT = 8,
	L1_END = L1_KEYSLOTS + L1_KEYSLOT_SIZE * L1_KEYSLOT_COUNT,
	L2_HDR_SIZE = 8,
	L2_SEQID = 16,
	L2_LABEL = 24,
	L2_LABEL_SIZE = 48,
	L2_CHECKSUM_ALG = 72,
	L2_CHECKSUM_ALG_SIZE = 32,
	L2_SALT = 104,
	L2_UUID = 168,
	L2_UUID_SIZE = 40,
	L2_SUBSYSTEM = 208,
	L2_SUBSYSTEM_SIZE = 48,
	L2_HDR_OFFSET = 256,
	L2_CHECKSUM = 448,
	L2_END = 4096,
};

#define LUKS1_KEY_ENABLED 0x00AC71F3u
#define LUKS1_KEY_DISABLED 0x0000DEADu

_Static_assert(MBR_ENTRIES + 4 * MBR_ENTRY_SIZE == MBR_SIGNATURE, "four entries end at 510");
_Static_assert(GH_END == 92, "the GPT header is 92 bytes");
_Static_assert(GE_END == 128, "a GPT entry is 128 bytes");
_Static_assert(L1_END == 592, "the LUKS1 phdr is 592 bytes");
_Static_assert(L2_END == LUKS_PROBE_SIZE, "the LUKS2 binary header is 4096 bytes");

#define GPT_REVISION_1_0 0x00010000u
#define GPT_MAX_ENTRIES 4096u
#define GPT_MAX_ENTRY_SIZE 4096u

static const uint8_t luks_magic[LK_MAGIC_SIZE] = {'L', 'U', 'K', 'S', 0xBA, 0xBE};

static bool is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static const char *mbr_type_name(uint8_t t)
{
	switch (t) {
	case 0x05:
	case 0x0F:
	case 0x85:
		return "extended";
	case 0x06:
	case 0x0E:
		return "FAT16";
	case 0x07:
		return "NTFS/exFAT";
	case 0x0B:
	case 0x0C:
		return "FAT32";
	case 0x27:
		return "Windows recovery";
	case 0x82:
		return "Linux swap";
	case 0x83:
		return "Linux";
	case 0x8E:
		return "Linux LVM";
	case 0xE8:
		return "Linux LUKS";
	case 0xEE:
		return "GPT protective";
	case 0xEF:
		return "EFI System";
	case 0xFD:
		return "Linux RAID";
	default:
		return "unknown";
	}
}

int pt_mbr_parse(const uint8_t *buf, size_t len, uint64_t disk_size, struct pt_mbr *out,
		 struct rp_err *err)
{
	struct pt_mbr m;
	unsigned i;

	if (len < MBR_SIZE)
		return rp_err_set(err, RP_EFORMAT, "mbr: truncated, %zu bytes given, need %d", len,
				  MBR_SIZE);
	memset(&m, 0, sizeof(m));
	/* No boot signature: there is no MBR (a blank disk or a bare file system). */
	if (buf[MBR_SIGNATURE] != 0x55 || buf[MBR_SIGNATURE + 1] != 0xAA) {
		*out = m;
		return 0;
	}
	m.valid = true;
	m.disk_signature = rp_le32(buf + MBR_DISK_SIGNATURE);
	for (i = 0; i < 4; i++) {
		const uint8_t *e = buf + MBR_ENTRIES + i * MBR_ENTRY_SIZE;
		unsigned at = MBR_ENTRIES + i * MBR_ENTRY_SIZE;
		uint8_t type = e[ME_TYPE];
		uint32_t start = rp_le32(e + ME_LBA_START), sectors = rp_le32(e + ME_SECTORS);
		uint64_t end = (uint64_t)start + sectors;
		struct pt_partition *p;

		if (e[ME_STATUS] != 0x00 && e[ME_STATUS] != 0x80)
			return rp_err_set(err, RP_EFORMAT,
					  "mbr partition %u at +%u: status 0x%02x is not 0x00 or "
					  "0x80",
					  i + 1, at + ME_STATUS, e[ME_STATUS]);
		if (type == 0)
			continue;
		if (sectors == 0 || start == 0)
			return rp_err_set(err, RP_EFORMAT,
					  "mbr partition %u at +%u: type 0x%02x with start %u and "
					  "%u sectors",
					  i + 1, at + ME_LBA_START, type, start, sectors);
		/*
		 * A protective entry (5.2.3) covers the disk or, past 2 TiB, has 0xFFFFFFFF
		 * sectors; only the clamped form may run past the end.
		 */
		if (!(type == 0xEE && sectors == 0xFFFFFFFFu) && end > disk_size / 512)
			return rp_err_set(err, RP_EFORMAT,
					  "mbr partition %u at +%u: sectors %u..%llu end past the "
					  "disk of %llu bytes",
					  i + 1, at + ME_LBA_START, start,
					  (unsigned long long)end - 1,
					  (unsigned long long)disk_size);
		if (type == 0xEE)
			m.protective = true;
		p = &m.part[m.count++];
		p->index = i + 1;
		p->first_lba = start;
		p->last_lba = end - 1;
		p->offset = (uint64_t)start * 512;
		p->length = (uint64_t)sectors * 512;
		p->mbr_type = type;
		p->type_name = mbr_type_name(type);
	}
	*out = m;
	return 0;
}

static uint32_t crc32_skip(const uint8_t *buf, size_t len, size_t off)
{
	static const uint8_t zero[4];
	uLong crc = crc32(0L, Z_NULL, 0);

	crc = crc32(crc, buf, (uInt)off);
	crc = crc32(crc, zero, 4);
	crc = crc32(crc, buf + off + 4, (uInt)(len - off - 4));
	return (uint32_t)crc;
}

static int check_sector_size(uint32_t sector_size, struct rp_err *err)
{
	if (sector_size < 512 || sector_size > 65536 || !is_pow2(sector_size))
		return rp_err_set(err, RP_EUSAGE,
				  "gpt: sector size %u is not a power of two in "
				  "[512, 65536]",
				  sector_size);
	return 0;
}

int pt_gpt_header_parse(const uint8_t *buf, size_t len, uint32_t sector_size, uint64_t disk_sectors,
			unsigned flags, struct pt_gpt_header *out, struct rp_err *err)
{
	struct pt_gpt_header h;
	uint64_t array_bytes, array_sectors, array_end;
	char sig[9];
	size_t i;
	int rc;

	rc = check_sector_size(sector_size, err);
	if (rc < 0)
		return rc;
	if (len < GH_END)
		return rp_err_set(err, RP_EFORMAT,
				  "gpt header: truncated, %zu bytes given, need %d", len, GH_END);
	if (memcmp(buf + GH_SIGNATURE, "EFI PART", 8) != 0) {
		for (i = 0; i < 8; i++)
			sig[i] = (buf[i] >= 0x20 && buf[i] < 0x7f && buf[i] != '\'') ? (char)buf[i]
										     : '?';
		sig[8] = '\0';
		return rp_err_set(err, RP_EFORMAT,
				  "gpt header at +0: signature is '%s', expected 'EFI PART'", sig);
	}
	memset(&h, 0, sizeof(h));
	h.revision = rp_le32(buf + GH_REVISION);
	if (h.revision != GPT_REVISION_1_0)
		return rp_err_set(err, RP_EFORMAT,
				  "gpt header at +%d: revision 0x%08x is not 0x00010000",
				  GH_REVISION, h.revision);
	h.header_size = rp_le32(buf + GH_HEADER_SIZE);
	if (h.header_size < GH_END || h.header_size > sector_size)
		return rp_err_set(err, RP_EFORMAT,
				  "gpt header at +%d: header size %u is not in [92, %u]",
				  GH_HEADER_SIZE, h.header_size, sector_size);
	if (h.header_size > len)
		return rp_err_set(err, RP_EFORMAT,
				  "gpt header at +%d: header size %u exceeds the %zu bytes given",
				  GH_HEADER_SIZE, h.header_size, len);
	/* 5.3.2: CRC-32 over HeaderSize bytes with the HeaderCRC32 field zeroed. */
	h.header_crc_stored = rp_le32(buf + GH_HEADER_CRC);
	h.header_crc_computed = crc32_skip(buf, h.header_size, GH_HEADER_CRC);
	h.header_crc_ok = h.header_crc_stored == h.header_crc_computed;
	if (!h.header_crc_ok && !(flags & PT_IGNORE_CHECKSUMS))
		return rp_err_set(err, RP_EFORMAT,
				  "gpt header at +%d: header crc32 stored 0x%08x, computed 0x%08x",
				  GH_HEADER_CRC, h.header_crc_stored, h.header_crc_computed);
	h.current_lba = rp_le64(buf + GH_MY_LBA);
	h.backup_lba = rp_le64(buf + GH_ALTERNATE_LBA);
	h.first_usable_lba = rp_le64(buf + GH_FIRST_USABLE);
	h.last_usable_lba = rp_le64(buf + GH_LAST_USABLE);
	memcpy(h.disk_guid, buf + GH_DISK_GUID, 16);
	h.entries_lba = rp_le64(buf + GH_ENTRIES_LBA);
	h.entry_count = rp_le32(buf + GH_ENTRY_COUNT);
	h.entry_size = rp_le32(buf + GH_ENTRY_SIZE);
	h.entries_crc = rp_le32(buf + GH_ENTRIES_CRC);

	if (h.current_lba == 0 || h.current_lba >= disk_sectors)
		return rp_err_set(
		    err, RP_EFORMAT, "gpt header at +%d: my lba %llu is not in [1, %llu)",
		    GH_MY_LBA, (unsigned long long)h.current_lba, (unsigned long long)disk_sectors);
	if (h.backup_lba == 0 || h.backup_lba >= disk_sectors || h.backup_lba == h.current_lba)
		return rp_err_set(err, RP_EFORMAT,
				  "gpt header at +%d: alternate lba %llu is not in [1, %llu) or "
				  "equals my lba",
				  GH_ALTERNATE_LBA, (unsigned long long)h.backup_lba,
				  (unsigned long long)disk_sectors);
	if (h.last_usable_lba >= disk_sectors)
		return rp_err_set(
		    err, RP_EFORMAT,
		    "gpt header at +%d: last usable lba %llu is past the disk of %llu "
		    "sectors",
		    GH_LAST_USABLE, (unsigned long long)h.last_usable_lba,
		    (unsigned long long)disk_sectors);
	if (h.first_usable_lba > h.last_usable_lba)
		return rp_err_set(err, RP_EFORMAT,
				  "gpt header at +%d: first usable lba %llu is after last usable "
				  "lba %llu",
				  GH_FIRST_USABLE, (unsigned long long)h.first_usable_lba,
				  (unsigned long long)h.last_usable_lba);
	if (h.entry_size < 128 || h.entry_size % 128 != 0 || h.entry_size > GPT_MAX_ENTRY_SIZE)
		return rp_err_set(err, RP_EFORMAT,
				  "gpt header at +%d: entry size %u is not a multiple of 128 in "
				  "[128, 4096]",
				  GH_ENTRY_SIZE, h.entry_size);
	if (h.entry_count > GPT_MAX_ENTRIES)
		return rp_err_set(err, RP_EFORMAT, "gpt header at +%d: entry count %u exceeds %u",
				  GH_ENTRY_COUNT, h.entry_count, GPT_MAX_ENTRIES);
	/* At most 4096 * 4096 bytes: no overflow in 64 bits. */
	array_bytes = (uint64_t)h.entry_count * h.entry_size;
	array_sectors = (array_bytes + sector_size - 1) / sector_size;
	if (h.entries_lba == 0 || h.entries_lba >= disk_sectors ||
	    array_sectors > disk_sectors - h.entries_lba)
		return rp_err_set(err, RP_EFORMAT,
				  "gpt header at +%d: entries lba %llu (%llu sectors) is not "
				  "inside the disk of %llu sectors",
				  GH_ENTRIES_LBA, (unsigned long long)h.entries_lba,
				  (unsigned long long)array_sectors,
				  (unsigned long long)disk_sectors);
	/* The array lies outside the usable range and does not cover this header (5.3.1). */
	array_end = h.entries_lba + array_sectors;
	if (array_sectors > 0 && h.entries_lba <= h.last_usable_lba &&
	    array_end > h.first_usable_lba)
		return rp_err_set(err, RP_EFORMAT,
				  "gpt header at +%d: entries at lba %llu..%llu overlap the usable "
				  "range %llu..%llu",
				  GH_ENTRIES_LBA, (unsigned long long)h.entries_lba,
				  (unsigned long long)array_end - 1,
				  (unsigned long long)h.first_usable_lba,
				  (unsigned long long)h.last_usable_lba);
	if (h.current_lba >= h.entries_lba && h.current_lba < array_end)
		return rp_err_set(
		    err, RP_EFORMAT,
		    "gpt header at +%d: entries at lba %llu..%llu cover the header at "
		    "lba %llu",
		    GH_ENTRIES_LBA, (unsigned long long)h.entries_lba,
		    (unsigned long long)array_end - 1, (unsigned long long)h.current_lba);
	*out = h;
	return 0;
}

/* The entries array of h fits the parser's bounds and len holds all of it. */
static int entries_size_check(size_t len, const struct pt_gpt_header *h, struct rp_err *err)
{
	uint64_t array_bytes;

	if (h->entry_size < 128 || h->entry_size % 128 != 0 || h->entry_size > GPT_MAX_ENTRY_SIZE ||
	    h->entry_count > GPT_MAX_ENTRIES)
		return rp_err_set(err, RP_EUSAGE,
				  "gpt entries: header gives %u entries of %u bytes",
				  h->entry_count, h->entry_size);
	array_bytes = (uint64_t)h->entry_count * h->entry_size;
	if (len < array_bytes)
		return rp_err_set(err, RP_EFORMAT,
				  "gpt entries: truncated, %zu bytes given, need %llu", len,
				  (unsigned long long)array_bytes);
	return 0;
}

int pt_gpt_entries_crc_check(const uint8_t *buf, size_t len, const struct pt_gpt_header *h,
			     struct rp_err *err)
{
	uint32_t crc;
	int rc;

	rc = entries_size_check(len, h, err);
	if (rc < 0)
		return rc;
	/* at most 4096 * 4096 bytes (entries_size_check): fits a uInt */
	crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)h->entry_count * h->entry_size);
	if (crc == h->entries_crc)
		return 0;
	rp_err_set(err, RP_EFORMAT, "gpt entries: array crc32 stored 0x%08x, computed 0x%08x",
		   h->entries_crc, crc);
	return 1;
}

int pt_gpt_entries_parse(const uint8_t *buf, size_t len, const struct pt_gpt_header *h,
			 uint32_t sector_size, unsigned flags, struct pt_partition *parts,
			 unsigned *count, struct rp_err *err)
{
	uint32_t i;
	unsigned n = 0, j;
	int rc;

	rc = check_sector_size(sector_size, err);
	if (rc < 0)
		return rc;
	rc = entries_size_check(len, h, err);
	if (rc < 0)
		return rc;
	if (!(flags & PT_IGNORE_CHECKSUMS) && pt_gpt_entries_crc_check(buf, len, h, err) != 0)
		return RP_EFORMAT;
	for (i = 0; i < h->entry_count; i++) {
		const uint8_t *e = buf + (size_t)i * h->entry_size;
		unsigned long long at = (unsigned long long)i * h->entry_size;
		struct pt_partition p;

		if (rp_is_zero(e + GE_TYPE_GUID, 16))
			continue;
		if (n == PT_MAX_PARTITIONS)
			return rp_err_set(err, RP_EFORMAT,
					  "gpt entry %u at +%llu: more than %d partitions in use",
					  i + 1, at, PT_MAX_PARTITIONS);
		memset(&p, 0, sizeof(p));
		p.index = i + 1;
		memcpy(p.type_guid, e + GE_TYPE_GUID, 16);
		memcpy(p.part_guid, e + GE_PART_GUID, 16);
		p.first_lba = rp_le64(e + GE_FIRST_LBA);
		p.last_lba = rp_le64(e + GE_LAST_LBA);
		p.attributes = rp_le64(e + GE_ATTRIBUTES);
		if (p.first_lba > p.last_lba || p.first_lba < h->first_usable_lba ||
		    p.last_lba > h->last_usable_lba)
			return rp_err_set(err, RP_EFORMAT,
					  "gpt entry %u at +%llu: lba %llu..%llu is not inside the "
					  "usable range %llu..%llu",
					  i + 1, at + GE_FIRST_LBA, (unsigned long long)p.first_lba,
					  (unsigned long long)p.last_lba,
					  (unsigned long long)h->first_usable_lba,
					  (unsigned long long)h->last_usable_lba);
		if (p.last_lba >= UINT64_MAX / sector_size)
			return rp_err_set(err, RP_EFORMAT,
					  "gpt entry %u at +%llu: last lba %llu overflows a byte "
					  "offset",
					  i + 1, at + GE_LAST_LBA, (unsigned long long)p.last_lba);
		for (j = 0; j < n; j++)
			if (p.first_lba <= parts[j].last_lba && parts[j].first_lba <= p.last_lba)
				return rp_err_set(err, RP_EFORMAT,
						  "gpt entry %u at +%llu: lba %llu..%llu overlaps "
						  "partition %u",
						  i + 1, at + GE_FIRST_LBA,
						  (unsigned long long)p.first_lba,
						  (unsigned long long)p.last_lba, parts[j].index);
		p.offset = p.first_lba * sector_size;
		p.length = (p.last_lba - p.first_lba + 1) * sector_size;
		/* 36 UTF-16 units need at most 108 bytes of UTF-8: the name always fits. */
		rp_utf16_to_utf8(e + GE_NAME, GE_NAME_SIZE, true, p.name, sizeof(p.name));
		p.type_name = pt_gpt_type_name(p.type_guid);
		parts[n++] = p;
	}
	*count = n;
	return 0;
}

/* pt_walk: from a disk to its partitions. */

static void tell(const struct pt_disk *d, const struct rp_err *e, bool fatal, bool checksum)
{
	if (d->problem)
		d->problem(d->problem_ctx, e, fatal, checksum);
}

enum { HDR_OK = 0, HDR_ABSENT = 1, HDR_BAD = 2 };

/*
 * The GPT header at lba (sector size ss, read into sec): HDR_OK parsed with checksums not
 * enforced (*h filled, h->header_crc_ok says), HDR_ABSENT no "EFI PART" there, HDR_BAD malformed
 * (e says why), or the negative code of a failed read (err).
 */
static int walk_header(const struct pt_disk *d, uint32_t ss, uint64_t lba, uint8_t *sec,
		       struct pt_gpt_header *h, struct rp_err *e, struct rp_err *err)
{
	int rc = d->read(d->ctx, sec, ss, lba * ss, err);

	if (rc)
		return rc;
	if (memcmp(sec, "EFI PART", 8) != 0)
		return HDR_ABSENT;
	if (pt_gpt_header_parse(sec, ss, ss, d->size / ss, PT_IGNORE_CHECKSUMS, h, e) != 0)
		return HDR_BAD;
	return HDR_OK;
}

/*
 * The entries array of header h into out->part and out->count: 0 when it passes (a CRC-32
 * mismatch passes with PT_IGNORE_CHECKSUMS), 1 when it does not (out->count 0; the problem
 * told), or the negative code of a failed read.
 */
static int walk_entries(const struct pt_disk *d, uint32_t ss, const struct pt_gpt_header *h,
			unsigned flags, struct pt_table *out, struct rp_err *err)
{
	/* the header parser bounds entry_count and entry_size by 4096: at most 16 MiB */
	size_t elen = (size_t)h->entry_count * h->entry_size;
	uint8_t *ents = malloc(elen ? elen : 1);
	unsigned count = 0;
	struct rp_err e;
	int rc, crc;

	out->count = 0;
	if (!ents)
		return rp_err_set(err, RP_EIO, "out of memory");
	rc = d->read(d->ctx, ents, elen, h->entries_lba * ss, err);
	if (rc)
		goto out;
	rp_err_init(&e);
	crc = pt_gpt_entries_crc_check(ents, elen, h, &e);
	if (crc != 0) {
		rp_err_prefix(&e, "GPT entries at 0x%llx",
			      (unsigned long long)(h->entries_lba * ss));
		tell(d, &e, true, crc == 1);
	}
	rc = 1;
	if (crc == 0 || (crc == 1 && (flags & PT_IGNORE_CHECKSUMS))) {
		rp_err_init(&e);
		if (pt_gpt_entries_parse(ents, elen, h, ss, PT_IGNORE_CHECKSUMS, out->part, &count,
					 &e) == 0) {
			out->count = count;
			rc = 0;
		} else if (crc == 0) {
			rp_err_prefix(&e, "GPT entries at 0x%llx",
				      (unsigned long long)(h->entries_lba * ss));
			tell(d, &e, true, false);
		}
	}
out:
	free(ents);
	return rc;
}

/*
 * The GPT at sector size ss: the primary header at LBA 1 and the backup (at the primary's
 * alternate LBA, or the last LBA when the primary is not usable; UEFI 2.x, 5.3.2). Returns 0
 * when the walk stops here (out->kind PT_GPT, or PT_NONE for a GPT without a usable header),
 * 1 when there is no GPT at ss, or the negative code of a failed read.
 */
static int walk_gpt(const struct pt_disk *d, uint32_t ss, unsigned flags, struct pt_table *out,
		    struct rp_err *err)
{
	bool first_valid = flags & PT_WALK_FIRST_VALID, ignore = flags & PT_IGNORE_CHECKSUMS;
	bool claimed, primary_ok, backup_ok = false;
	uint64_t last = d->size / ss - 1, blba;
	const struct pt_gpt_header *use = NULL;
	struct pt_gpt_header h, b;
	struct rp_err e;
	uint8_t *sec;
	int rc, brc;

	sec = malloc(ss);
	if (!sec)
		return rp_err_set(err, RP_EIO, "out of memory");
	memset(&h, 0, sizeof(h));
	memset(&b, 0, sizeof(b));
	rp_err_init(&e);
	rc = walk_header(d, ss, 1, sec, &h, &e, err);
	if (rc < 0)
		goto out;
	/* a signature at LBA 1 claims the disk for GPT: its problems are worth telling */
	claimed = rc != HDR_ABSENT;
	if (!claimed && !first_valid) {
		rc = 1;
		goto out;
	}
	if (rc == HDR_BAD) {
		rp_err_prefix(&e, "GPT header at 0x%x", ss);
		tell(d, &e, true, false);
	} else if (rc == HDR_OK && !h.header_crc_ok) {
		rp_err_set(
		    &e, RP_EFORMAT,
		    "GPT header at 0x%x: header crc32 at +16: stored 0x%08x, computed 0x%08x", ss,
		    h.header_crc_stored, h.header_crc_computed);
		tell(d, &e, true, true);
	}
	primary_ok = rc == HDR_OK && (h.header_crc_ok || ignore);
	out->primary = h;
	blba = primary_ok ? h.backup_lba : last;
	if (first_valid && primary_ok) {
		rc = walk_entries(d, ss, &h, flags, out, err);
		if (rc <= 0) {
			use = &h;
			goto out;
		}
	}
	rp_err_init(&e);
	brc = walk_header(d, ss, blba, sec, &b, &e, err);
	if (brc < 0) {
		rc = brc;
		goto out;
	}
	backup_ok = brc == HDR_OK && b.header_crc_ok;
	if (!backup_ok && claimed) {
		if (brc == HDR_ABSENT)
			rp_err_set(&e, RP_EFORMAT, "no backup GPT header at LBA %llu",
				   (unsigned long long)blba);
		else if (brc == HDR_OK)
			rp_err_set(
			    &e, RP_EFORMAT,
			    "backup GPT header: header crc32 at +16: stored 0x%08x, computed "
			    "0x%08x",
			    b.header_crc_stored, b.header_crc_computed);
		else
			rp_err_prefix(&e, "backup GPT header");
		tell(d, &e, false, brc == HDR_OK);
	}
	if (first_valid) {
		rc = backup_ok ? walk_entries(d, ss, &b, flags, out, err) : 1;
		if (rc <= 0)
			use = &b;
		goto out;
	}
	rc = 0;
	use = primary_ok ? &h : backup_ok ? &b : NULL;
	if (!use)
		goto out;
	if (!primary_ok) {
		rp_err_set(&e, RP_EFORMAT, "using the backup GPT header at LBA %llu",
			   (unsigned long long)b.current_lba);
		tell(d, &e, false, false);
	}
	rc = walk_entries(d, ss, use, flags, out, err);
	if (rc > 0)
		rc = 0;
out:
	if (rc == 0 && use) {
		out->kind = PT_GPT;
		out->sector_size = ss;
		out->header = *use;
		out->backup_used = use == &b;
		out->backup_ok = backup_ok;
	} else if (rc != 0) {
		memset(&out->primary, 0, sizeof(out->primary));
		out->count = 0;
	}
	free(sec);
	return rc;
}

int pt_walk(const struct pt_disk *d, unsigned flags, struct pt_table *out, struct rp_err *err)
{
	uint32_t sizes[2] = {d->sector_size, 4096};
	uint8_t mbr_buf[MBR_SIZE];
	struct pt_mbr mbr;
	struct rp_err e;
	unsigned i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (d->size < MBR_SIZE)
		return 0;
	rc = d->read(d->ctx, mbr_buf, MBR_SIZE, 0, err);
	if (rc)
		return rc;
	memset(&mbr, 0, sizeof(mbr));
	rp_err_init(&e);
	if (pt_mbr_parse(mbr_buf, MBR_SIZE, d->size, &mbr, &e) != 0) {
		rp_err_prefix(&e, "MBR at 0x0");
		tell(d, &e, false, false);
	}
	rc = 1;
	for (i = 0; i < 2 && rc == 1; i++) {
		if ((i == 1 && sizes[0] == 4096) || check_sector_size(sizes[i], NULL) != 0 ||
		    d->size < 2 * (uint64_t)sizes[i])
			continue;
		rc = walk_gpt(d, sizes[i], flags, out, err);
	}
	if (rc < 0) {
		out->kind = PT_NONE;
		out->count = 0;
		return rc;
	}
	if (rc == 1 && mbr.valid && !mbr.protective) {
		out->kind = PT_MBR;
		out->disk_signature = mbr.disk_signature;
		for (i = 0; i < mbr.count; i++)
			out->part[i] = mbr.part[i];
		out->count = mbr.count;
	}
	return 0;
}

/* A Microsoft GUID as stored: the first three fields little-endian, the rest as written. */
#define PT_GUID(a, b, c, d, e)                                                                     \
	{                                                                                          \
		(a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff, (b)&0xff,   \
		    ((b) >> 8) & 0xff, (c)&0xff, ((c) >> 8) & 0xff, ((d) >> 8) & 0xff, (d)&0xff,   \
		    ((e) >> 40) & 0xff, ((e) >> 32) & 0xff, ((e) >> 24) & 0xff,                    \
		    ((e) >> 16) & 0xff, ((e) >> 8) & 0xff, (e)&0xff                                \
	}

static const struct {
	uint8_t guid[16];
	const char *name;
} gpt_types[] = {
    {PT_GUID(0xC12A7328u, 0xF81Fu, 0x11D2u, 0xBA4Bu, 0x00A0C93EC93Bull), "EFI System"},
    {PT_GUID(0x21686148u, 0x6449u, 0x6E6Fu, 0x744Eu, 0x656564454649ull), "BIOS boot"},
    {PT_GUID(0x0FC63DAFu, 0x8483u, 0x4772u, 0x8E79u, 0x3D69D8477DE4ull), "Linux filesystem"},
    {PT_GUID(0x0657FD6Du, 0xA4ABu, 0x43C4u, 0x84E5u, 0x0933C84B4F4Full), "Linux swap"},
    {PT_GUID(0xE6D6D379u, 0xF507u, 0x44C2u, 0xA23Cu, 0x238F2A3DF928ull), "Linux LVM"},
    {PT_GUID(0xCA7D7CCBu, 0x63EDu, 0x4C53u, 0x861Cu, 0x1742536059CCull), "Linux LUKS"},
    {PT_GUID(0xA19D880Fu, 0x05FCu, 0x4D3Bu, 0xA006u, 0x743F0F84911Eull), "Linux RAID"},
    {PT_GUID(0x4F68BCE3u, 0xE8CDu, 0x4DB1u, 0x96E7u, 0xFBCAF984B709ull), "Linux root (x86-64)"},
    {PT_GUID(0xBC13C2FFu, 0x59E6u, 0x4262u, 0xA352u, 0xB275FD6F7172ull), "Linux extended boot"},
    {PT_GUID(0x933AC7E1u, 0x2EB4u, 0x4F13u, 0xB844u, 0x0E14E2AEF915ull), "Linux home"},
    {PT_GUID(0xEBD0A0A2u, 0xB9E5u, 0x4433u, 0x87C0u, 0x68B6B72699C7ull), "Microsoft basic data"},
    {PT_GUID(0xE3C9E316u, 0x0B5Cu, 0x4DB8u, 0x817Du, 0xF92DF00215AEull), "Microsoft reserved"},
    {PT_GUID(0xDE94BBA4u, 0x06D1u, 0x4D40u, 0xA16Au, 0xBFD50179D6ACull), "Windows recovery"},
    {PT_GUID(0x5808C8AAu, 0x7E8Fu, 0x42E0u, 0x85D2u, 0xE1E90434CFB3ull), "Windows LDM metadata"},
    {PT_GUID(0xAF9B60A0u, 0x1431u, 0x4F62u, 0xBC68u, 0x3311714A69ADull), "Windows LDM data"},
};

const char *pt_gpt_type_name(const uint8_t type_guid[16])
{
	size_t i;

	for (i = 0; i < sizeof(gpt_types) / sizeof(gpt_types[0]); i++)
		if (memcmp(type_guid, gpt_types[i].guid, 16) == 0)
			return gpt_types[i].name;
	return "unknown";
}

/*
 * Copy a fixed-size header string field: it must hold a NUL within n bytes and only printable
 * ASCII before it (cryptsetup writes C strings; anything else is not a header it made).
 */
static int luks_string(const uint8_t *buf, unsigned off, size_t n, const char *field, bool nonempty,
		       char *out, size_t outsz, struct rp_err *err)
{
	const uint8_t *p = buf + off;
	size_t i;

	for (i = 0; i < n && p[i] != 0; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return rp_err_set(err, RP_EFORMAT,
					  "luks header at +%u: %s has a non-printable byte 0x%02x",
					  off, field, p[i]);
	if (i == n)
		return rp_err_set(err, RP_EFORMAT,
				  "luks header at +%u: %s is not NUL-terminated within %zu bytes",
				  off, field, n);
	if (nonempty && i == 0)
		return rp_err_set(err, RP_EFORMAT, "luks header at +%u: %s is empty", off, field);
	if (out && outsz > i) {
		memcpy(out, p, i);
		out[i] = '\0';
	}
	return 0;
}

static int luks1_probe(const uint8_t *buf, size_t len, struct luks_probe *lp, struct rp_err *err)
{
	char name[L1_STR_SIZE], mode[L1_STR_SIZE];
	uint32_t payload, key_bytes;
	unsigned k;
	int rc;

	if (len < L1_END)
		return rp_err_set(err, RP_EFORMAT,
				  "luks header: truncated, %zu bytes given, need %d for luks1", len,
				  L1_END);
	rc = luks_string(buf, L1_CIPHER_NAME, L1_STR_SIZE, "cipher name", true, name, sizeof(name),
			 err);
	if (rc == 0)
		rc = luks_string(buf, L1_CIPHER_MODE, L1_STR_SIZE, "cipher mode", true, mode,
				 sizeof(mode), err);
	if (rc == 0)
		rc = luks_string(buf, L1_HASH_SPEC, L1_STR_SIZE, "hash spec", true, NULL, 0, err);
	if (rc == 0)
		rc = luks_string(buf, L1_UUID, L1_UUID_SIZE, "uuid", false, lp->uuid,
				 sizeof(lp->uuid), err);
	if (rc < 0)
		return rc;
	key_bytes = rp_be32(buf + L1_KEY_BYTES);
	if (key_bytes == 0 || key_bytes > 512)
		return rp_err_set(err, RP_EFORMAT,
				  "luks header at +%d: key bytes %u is not in "
				  "[1, 512]",
				  L1_KEY_BYTES, key_bytes);
	for (k = 0; k < L1_KEYSLOT_COUNT; k++) {
		unsigned at = L1_KEYSLOTS + k * L1_KEYSLOT_SIZE;
		uint32_t active = rp_be32(buf + at);

		if (active != LUKS1_KEY_ENABLED && active != LUKS1_KEY_DISABLED)
			return rp_err_set(err, RP_EFORMAT,
					  "luks header at +%u: key slot %u state 0x%08x is not "
					  "enabled or disabled",
					  at, k, active);
	}
	payload = rp_be32(buf + L1_PAYLOAD_OFFSET);
	snprintf(lp->cipher, sizeof(lp->cipher), "%s-%s", name, mode);
	lp->hdr_size = (uint64_t)payload * 512;
	return 0;
}

static int luks2_probe(const uint8_t *buf, size_t len, struct luks_probe *lp, struct rp_err *err)
{
	uint64_t hdr_size, hdr_offset;
	int rc;

	if (len < L2_END)
		return rp_err_set(err, RP_EFORMAT,
				  "luks header: truncated, %zu bytes given, need %d for luks2", len,
				  L2_END);
	hdr_size = rp_be64(buf + L2_HDR_SIZE);
	/* LUKS2 spec 2.1: the header (binary + JSON) is one of 16 KiB .. 4 MiB, a power of two. */
	if (hdr_size < 16384 || hdr_size > 4u * 1024 * 1024 || !is_pow2(hdr_size))
		return rp_err_set(err, RP_EFORMAT,
				  "luks header at +%d: header size %llu is not a power of two in "
				  "[16 KiB, 4 MiB]",
				  L2_HDR_SIZE, (unsigned long long)hdr_size);
	hdr_offset = rp_be64(buf + L2_HDR_OFFSET);
	if (hdr_offset != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "luks header at +%d: header offset %llu is not 0 for the primary "
				  "header",
				  L2_HDR_OFFSET, (unsigned long long)hdr_offset);
	rc = luks_string(buf, L2_LABEL, L2_LABEL_SIZE, "label", false, lp->label, sizeof(lp->label),
			 err);
	if (rc == 0)
		rc = luks_string(buf, L2_CHECKSUM_ALG, L2_CHECKSUM_ALG_SIZE, "checksum algorithm",
				 true, NULL, 0, err);
	if (rc == 0)
		rc = luks_string(buf, L2_UUID, L2_UUID_SIZE, "uuid", false, lp->uuid,
				 sizeof(lp->uuid), err);
	if (rc == 0)
		rc = luks_string(buf, L2_SUBSYSTEM, L2_SUBSYSTEM_SIZE, "subsystem", false, NULL, 0,
				 err);
	if (rc < 0)
		return rc;
	lp->hdr_size = hdr_size;
	return 0;
}

int luks_probe_parse(const uint8_t *buf, size_t len, struct luks_probe *out, struct rp_err *err)
{
	struct luks_probe lp;
	uint16_t version;
	int rc;

	if (len < LK_VERSION + 2 || memcmp(buf + LK_MAGIC, luks_magic, LK_MAGIC_SIZE) != 0)
		return 0;
	memset(&lp, 0, sizeof(lp));
	version = rp_be16(buf + LK_VERSION);
	if (version == 1)
		rc = luks1_probe(buf, len, &lp, err);
	else if (version == 2)
		rc = luks2_probe(buf, len, &lp, err);
	else
		rc = rp_err_set(err, RP_EFORMAT, "luks header at +%d: version %u is not 1 or 2",
				LK_VERSION, version);
	if (rc < 0)
		return rc;
	lp.version = version;
	*out = lp;
	return 1;
}
