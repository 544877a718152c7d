/*
 * VHDX file identifier, headers, region tables, metadata region and BAT: pure parsers over
 * caller buffers. Section numbers in comments refer to [MS-VHDX] v20160714 (2.1 file identifier,
 * 2.2.2 header, 2.2.3 region table, 2.5 BAT, 2.6 metadata region).
 */
#include "formats/vhdx.h"

#include <stdio.h>
#include <string.h>

#include "common/endian.h"
#include "common/util.h"

#define MIB (1024u * 1024u)
#define VHDX_MAX_VIRTUAL_SIZE (64ull << 40) /* 2.6.2.2: at most 64 TiB */

/* File type identifier (2.1): signature, then a 512-byte UTF-16LE creator. */
enum {
	FI_SIGNATURE = 0,
	FI_CREATOR = 8,
	FI_CREATOR_SIZE = 512,
	FI_END = FI_CREATOR + FI_CREATOR_SIZE,
};

/* Header (2.2.2). */
enum {
	HD_SIGNATURE = 0,
	HD_CHECKSUM = 4,
	HD_SEQUENCE = 8,
	HD_FILE_WRITE_GUID = 16,
	HD_DATA_WRITE_GUID = 32,
	HD_LOG_GUID = 48,
	HD_LOG_VERSION = 64,
	HD_VERSION = 66,
	HD_LOG_LENGTH = 68,
	HD_LOG_OFFSET = 72,
	HD_END = 80, /* 4016 reserved bytes follow */
};

/* Region table header and entries (2.2.3). */
enum {
	RT_SIGNATURE = 0,
	RT_CHECKSUM = 4,
	RT_ENTRY_COUNT = 8,
	RT_ENTRIES = 16,
	RT_ENTRY_SIZE = 32,
	RE_GUID = 0,
	RE_FILE_OFFSET = 16,
	RE_LENGTH = 24,
	RE_REQUIRED = 28,
};

/* Metadata table header and entries (2.6.1). */
enum {
	MT_SIGNATURE = 0,
	MT_ENTRY_COUNT = 10,
	MT_ENTRIES = 32,
	MT_ENTRY_SIZE = 32,
	MT_TABLE_SIZE = 64 * 1024,
	ME_ITEM_ID = 0,
	ME_OFFSET = 16,
	ME_LENGTH = 20,
	ME_FLAGS = 24,
	ME_IS_USER = 1,
	ME_IS_VIRTUAL_DISK = 2,
	ME_IS_REQUIRED = 4,
};

/* Parent locator header and key/value entries (2.6.2.6). */
enum {
	PL_TYPE = 0,
	PL_COUNT = 18,
	PL_ENTRIES = 20,
	PL_ENTRY_SIZE = 12,
	PE_KEY_OFFSET = 0,
	PE_VALUE_OFFSET = 4,
	PE_KEY_LENGTH = 8,
	PE_VALUE_LENGTH = 10,
};

_Static_assert(FI_END == 520, "file identifier fields end at 520");
_Static_assert(HD_END <= VHDX_HEADER_SIZE, "header fields fit in 4 KiB");
_Static_assert(RT_ENTRIES + VHDX_MAX_REGIONS * RT_ENTRY_SIZE <= VHDX_REGION_SIZE,
	       "2047 region entries fit in the 64 KiB table");
_Static_assert(MT_ENTRIES + VHDX_MAX_METADATA_ENTRIES * MT_ENTRY_SIZE == MT_TABLE_SIZE,
	       "2047 metadata entries fill the 64 KiB table");

/* A Microsoft GUID as stored: the first three fields little-endian, the rest as written. */
#define VHDX_GUID(a, b, c, d, e)                                                                   \
	{                                                                                          \
		(a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff, (b)&0xff,   \
		    ((b) >> 8) & 0xff, (c)&0xff, ((c) >> 8) & 0xff, ((d) >> 8) & 0xff, (d)&0xff,   \
		    ((e) >> 40) & 0xff, ((e) >> 32) & 0xff, ((e) >> 24) & 0xff,                    \
		    ((e) >> 16) & 0xff, ((e) >> 8) & 0xff, (e)&0xff                                \
	}

static const uint8_t guid_bat[16] =
    VHDX_GUID(0x2DC27766u, 0xF623u, 0x4200u, 0x9D64u, 0x115E9BFD4A08ull);
static const uint8_t guid_metadata[16] =
    VHDX_GUID(0x8B7CA206u, 0x4790u, 0x4B9Au, 0xB8FEu, 0x575F050F886Eull);
static const uint8_t guid_file_params[16] =
    VHDX_GUID(0xCAA16737u, 0xFA36u, 0x4D43u, 0xB3B6u, 0x33F0AA44E76Bull);
static const uint8_t guid_virtual_size[16] =
    VHDX_GUID(0x2FA54224u, 0xCD1Bu, 0x4876u, 0xB211u, 0x5DBED83BF4B8ull);
static const uint8_t guid_page83[16] =
    VHDX_GUID(0xBECA12ABu, 0xB2E6u, 0x4523u, 0x93EFu, 0xC309E000C746ull);
static const uint8_t guid_logical_sector[16] =
    VHDX_GUID(0x8141BF1Du, 0xA96Fu, 0x4709u, 0xBA47u, 0xF233A8FAAB5Full);
static const uint8_t guid_physical_sector[16] =
    VHDX_GUID(0xCDA348C7u, 0x445Du, 0x4471u, 0x9CC9u, 0xE9885251C556ull);
static const uint8_t guid_parent_locator[16] =
    VHDX_GUID(0xA8D35F2Du, 0xB30Bu, 0x454Du, 0xABF7u, 0xD3D84834AB0Cull);

/* Printable form of a signature for messages: non-printable bytes become '?'. */
static void sig_text(const uint8_t *p, size_t n, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; i < n && i + 1 < outsz; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'') ? (char)p[i] : '?';
	out[i] = '\0';
}

/* CRC-32C of len bytes with the 4-byte checksum field at off treated as zero (2.2.2, 2.2.3). */
static uint32_t crc32c_skip(const uint8_t *buf, size_t len, size_t off)
{
	static const uint8_t zero[4];
	uint32_t crc = rp_crc32c(0, buf, off);

	crc = rp_crc32c(crc, zero, sizeof(zero));
	return rp_crc32c(crc, buf + off + 4, len - off - 4);
}

static bool is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

int vhdx_file_id_parse(const uint8_t *buf, size_t len, char *creator, size_t creator_sz,
		       struct rp_err *err)
{
	char sig[9];

	if (len < FI_END)
		return rp_err_set(err, RP_EFORMAT,
				  "file identifier: truncated, %zu bytes given, need %d", len,
				  FI_END);
	if (memcmp(buf + FI_SIGNATURE, "vhdxfile", 8) != 0) {
		sig_text(buf + FI_SIGNATURE, 8, sig, sizeof(sig));
		return rp_err_set(err, RP_EFORMAT,
				  "file identifier at +0: signature is '%s', expected 'vhdxfile'",
				  sig);
	}
	if (creator && creator_sz > 0 &&
	    rp_utf16_to_utf8(buf + FI_CREATOR, FI_CREATOR_SIZE, true, creator, creator_sz) != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "file identifier at +%d: creator does not fit in %zu bytes",
				  FI_CREATOR, creator_sz);
	return 0;
}

int vhdx_header_parse(const uint8_t *buf, size_t len, unsigned flags, struct vhdx_header *out,
		      struct rp_err *err)
{
	struct vhdx_header h;
	char sig[5];

	if (len < VHDX_HEADER_SIZE)
		return rp_err_set(err, RP_EFORMAT, "header: truncated, %zu bytes given, need %u",
				  len, (unsigned)VHDX_HEADER_SIZE);
	if (memcmp(buf + HD_SIGNATURE, "head", 4) != 0) {
		sig_text(buf + HD_SIGNATURE, 4, sig, sizeof(sig));
		return rp_err_set(err, RP_EFORMAT,
				  "header at +0: signature is '%s', expected 'head'", sig);
	}
	memset(&h, 0, sizeof(h));
	/* 2.2.2: CRC-32C over the whole 4 KiB with the checksum field set to zero. */
	h.checksum_stored = rp_le32(buf + HD_CHECKSUM);
	h.checksum_computed = crc32c_skip(buf, VHDX_HEADER_SIZE, HD_CHECKSUM);
	h.checksum_ok = h.checksum_stored == h.checksum_computed;
	if (!h.checksum_ok && !(flags & VHDX_IGNORE_CHECKSUMS))
		return rp_err_set(err, RP_EFORMAT,
				  "header at +%d: checksum stored 0x%08x, computed 0x%08x",
				  HD_CHECKSUM, h.checksum_stored, h.checksum_computed);
	h.sequence_number = rp_le64(buf + HD_SEQUENCE);
	memcpy(h.file_write_guid, buf + HD_FILE_WRITE_GUID, 16);
	memcpy(h.data_write_guid, buf + HD_DATA_WRITE_GUID, 16);
	memcpy(h.log_guid, buf + HD_LOG_GUID, 16);
	h.log_version = rp_le16(buf + HD_LOG_VERSION);
	h.version = rp_le16(buf + HD_VERSION);
	h.log_length = rp_le32(buf + HD_LOG_LENGTH);
	h.log_offset = rp_le64(buf + HD_LOG_OFFSET);
	if (h.version != 1)
		return rp_err_set(err, RP_EFORMAT,
				  "header at +%d: version %u is not supported, "
				  "expected 1",
				  HD_VERSION, h.version);
	if (h.log_version != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "header at +%d: log version %u is not "
				  "supported, expected 0",
				  HD_LOG_VERSION, h.log_version);
	if (h.log_length % MIB != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "header at +%d: log length %u is not a multiple of 1 MiB",
				  HD_LOG_LENGTH, h.log_length);
	if (h.log_offset % MIB != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "header at +%d: log offset %llu is not a multiple of 1 MiB",
				  HD_LOG_OFFSET, (unsigned long long)h.log_offset);
	*out = h;
	return 0;
}

/* Two valid headers with the same CRC-32C over their 4 KiB and the same fields. */
static bool headers_identical(const struct vhdx_header *a, const struct vhdx_header *b)
{
	return a->checksum_stored == b->checksum_stored && a->checksum_ok == b->checksum_ok &&
	       a->sequence_number == b->sequence_number &&
	       memcmp(a->file_write_guid, b->file_write_guid, 16) == 0 &&
	       memcmp(a->data_write_guid, b->data_write_guid, 16) == 0 &&
	       memcmp(a->log_guid, b->log_guid, 16) == 0 && a->log_version == b->log_version &&
	       a->version == b->version && a->log_length == b->log_length &&
	       a->log_offset == b->log_offset;
}

int vhdx_header_current(const struct vhdx_header *h1, bool valid1, const struct vhdx_header *h2,
			bool valid2, struct rp_err *err)
{
	/* 2.2.2.1: the valid header with the greater sequence number is current. */
	if (!valid1 && !valid2)
		return rp_err_set(err, RP_EFORMAT, "headers: neither header is valid");
	if (!valid2)
		return 1;
	if (!valid1)
		return 2;
	/* Equal sequence numbers: the specification calls that corrupt, but Disk2VHD writes two
	 * identical headers with the same number (qemu and libvhdi read such files). Identical
	 * headers say the same thing, so either is current; different ones are refused. */
	if (h1->sequence_number == h2->sequence_number) {
		if (headers_identical(h1, h2))
			return 1;
		return rp_err_set(err, RP_EFORMAT,
				  "headers: both have sequence number %llu but differ (checksums "
				  "0x%08x and 0x%08x): the file is corrupt",
				  (unsigned long long)h1->sequence_number, h1->checksum_stored,
				  h2->checksum_stored);
	}
	return h1->sequence_number > h2->sequence_number ? 1 : 2;
}

int vhdx_region_table_parse(const uint8_t *buf, size_t len, uint64_t file_size, unsigned flags,
			    struct vhdx_region_table *out, struct rp_err *err)
{
	struct vhdx_region_table rt;
	bool have_bat = false, have_meta = false;
	uint32_t i, j;
	char sig[5];

	if (len < VHDX_REGION_SIZE)
		return rp_err_set(err, RP_EFORMAT,
				  "region table: truncated, %zu bytes given, need %u", len,
				  (unsigned)VHDX_REGION_SIZE);
	if (memcmp(buf + RT_SIGNATURE, "regi", 4) != 0) {
		sig_text(buf + RT_SIGNATURE, 4, sig, sizeof(sig));
		return rp_err_set(err, RP_EFORMAT,
				  "region table at +0: signature is '%s', expected 'regi'", sig);
	}
	memset(&rt, 0, sizeof(rt));
	rt.checksum_stored = rp_le32(buf + RT_CHECKSUM);
	rt.checksum_computed = crc32c_skip(buf, VHDX_REGION_SIZE, RT_CHECKSUM);
	rt.checksum_ok = rt.checksum_stored == rt.checksum_computed;
	if (!rt.checksum_ok && !(flags & VHDX_IGNORE_CHECKSUMS))
		return rp_err_set(err, RP_EFORMAT,
				  "region table at +%d: checksum stored 0x%08x, computed 0x%08x",
				  RT_CHECKSUM, rt.checksum_stored, rt.checksum_computed);
	rt.entry_count = rp_le32(buf + RT_ENTRY_COUNT);
	if (rt.entry_count > VHDX_MAX_REGIONS)
		return rp_err_set(err, RP_EFORMAT,
				  "region table at +%d: entry count %u exceeds the maximum %d",
				  RT_ENTRY_COUNT, rt.entry_count, VHDX_MAX_REGIONS);
	for (i = 0; i < rt.entry_count; i++) {
		const uint8_t *e = buf + RT_ENTRIES + (size_t)i * RT_ENTRY_SIZE;
		unsigned at = RT_ENTRIES + i * RT_ENTRY_SIZE;
		uint64_t off = rp_le64(e + RE_FILE_OFFSET);
		uint32_t length = rp_le32(e + RE_LENGTH);
		bool required = rp_le32(e + RE_REQUIRED) & 1;
		char guid[RP_UUID_STR];

		/* 2.2.3.2: offsets and lengths are multiples of 1 MiB, past the header section. */
		if (off % MIB != 0 || off < MIB)
			return rp_err_set(err, RP_EFORMAT,
					  "region table entry %u at +%u: file offset %llu is not "
					  "a multiple of 1 MiB past the header section",
					  i, at + RE_FILE_OFFSET, (unsigned long long)off);
		if (length == 0 || length % MIB != 0)
			return rp_err_set(err, RP_EFORMAT,
					  "region table entry %u at +%u: length %u is not a "
					  "non-zero multiple of 1 MiB",
					  i, at + RE_LENGTH, length);
		if (off > file_size || length > file_size - off)
			return rp_err_set(err, RP_EFORMAT,
					  "region table entry %u at +%u: region %llu+%u ends past "
					  "the file size %llu",
					  i, at + RE_FILE_OFFSET, (unsigned long long)off, length,
					  (unsigned long long)file_size);
		if (memcmp(e + RE_GUID, guid_bat, 16) == 0) {
			if (have_bat)
				return rp_err_set(err, RP_EFORMAT,
						  "region table entry %u at "
						  "+%u: second bat region",
						  i, at);
			have_bat = true;
			rt.bat_offset = off;
			rt.bat_length = length;
		} else if (memcmp(e + RE_GUID, guid_metadata, 16) == 0) {
			if (have_meta)
				return rp_err_set(err, RP_EFORMAT,
						  "region table entry %u at "
						  "+%u: second metadata region",
						  i, at);
			have_meta = true;
			rt.metadata_offset = off;
			rt.metadata_length = length;
		} else if (required) {
			rp_guid_format_le(e + RE_GUID, guid);
			return rp_err_set(err, RP_EFORMAT,
					  "region table entry %u at +%u: unknown region %s is "
					  "marked required",
					  i, at, guid);
		}
		/* Regions must not overlap one another (2.2.3.2). */
		for (j = 0; j < i; j++) {
			const uint8_t *p = buf + RT_ENTRIES + (size_t)j * RT_ENTRY_SIZE;
			uint64_t poff = rp_le64(p + RE_FILE_OFFSET);
			uint32_t plen = rp_le32(p + RE_LENGTH);

			if (off < poff + plen && poff < off + length)
				return rp_err_set(err, RP_EFORMAT,
						  "region table entry %u at +%u: region %llu+%u "
						  "overlaps entry %u",
						  i, at, (unsigned long long)off, length, j);
		}
	}
	if (!have_bat)
		return rp_err_set(err, RP_EFORMAT, "region table: no bat region");
	if (!have_meta)
		return rp_err_set(err, RP_EFORMAT, "region table: no metadata region");
	*out = rt;
	return 0;
}

/* Decode the parent locator item (2.6.2.6) at item[0..len). */
static int parse_parent_locator(const uint8_t *item, uint32_t len, uint32_t item_off,
				struct vhdx_metadata *m, struct rp_err *err)
{
	uint16_t count, i;

	if (len < PL_ENTRIES)
		return rp_err_set(err, RP_EFORMAT,
				  "metadata: parent locator at +%u: length %u is too short for its "
				  "header",
				  item_off, len);
	count = rp_le16(item + PL_COUNT);
	if (count > VHDX_PARENT_ENTRIES_MAX)
		return rp_err_set(err, RP_EFORMAT,
				  "metadata: parent locator at +%u: key/value count %u exceeds %d",
				  item_off + PL_COUNT, count, VHDX_PARENT_ENTRIES_MAX);
	if ((uint32_t)PL_ENTRIES + (uint32_t)count * PL_ENTRY_SIZE > len)
		return rp_err_set(err, RP_EFORMAT,
				  "metadata: parent locator at +%u: %u entries do not fit in %u "
				  "bytes",
				  item_off, count, len);
	for (i = 0; i < count; i++) {
		const uint8_t *e = item + PL_ENTRIES + (size_t)i * PL_ENTRY_SIZE;
		uint32_t ko = rp_le32(e + PE_KEY_OFFSET), vo = rp_le32(e + PE_VALUE_OFFSET);
		uint16_t kl = rp_le16(e + PE_KEY_LENGTH), vl = rp_le16(e + PE_VALUE_LENGTH);
		uint32_t at = item_off + PL_ENTRIES + (uint32_t)i * PL_ENTRY_SIZE;
		struct vhdx_parent_entry *pe = &m->parent[i];

		if (kl == 0 || ko > len || kl > len - ko)
			return rp_err_set(err, RP_EFORMAT,
					  "metadata: parent locator entry %u at +%u: key %u+%u "
					  "lies outside the %u-byte item",
					  i, at, ko, kl, len);
		if (vl == 0 || vo > len || vl > len - vo)
			return rp_err_set(err, RP_EFORMAT,
					  "metadata: parent locator entry %u at +%u: value %u+%u "
					  "lies outside the %u-byte item",
					  i, at, vo, vl, len);
		if (rp_utf16_to_utf8(item + ko, kl, true, pe->key, sizeof(pe->key)) != 0)
			return rp_err_set(err, RP_EFORMAT,
					  "metadata: parent locator entry %u at +%u: key longer "
					  "than %zu bytes",
					  i, at, sizeof(pe->key) - 1);
		if (rp_utf16_to_utf8(item + vo, vl, true, pe->value, sizeof(pe->value)) != 0)
			return rp_err_set(err, RP_EFORMAT,
					  "metadata: parent locator entry %u at +%u: value longer "
					  "than %zu bytes",
					  i, at, sizeof(pe->value) - 1);
	}
	m->parent_count = count;
	return 0;
}

enum {
	ITEM_FILE_PARAMS,
	ITEM_VIRTUAL_SIZE,
	ITEM_PAGE83,
	ITEM_LOGICAL_SECTOR,
	ITEM_PHYSICAL_SECTOR,
	ITEM_PARENT_LOCATOR,
	ITEM_COUNT,
};

static const struct {
	const uint8_t *guid;
	const char *name;
	uint32_t min_len;
} known_items[ITEM_COUNT] = {
    [ITEM_FILE_PARAMS] = {guid_file_params, "file parameters", 8},
    [ITEM_VIRTUAL_SIZE] = {guid_virtual_size, "virtual disk size", 8},
    [ITEM_PAGE83] = {guid_page83, "page 83 data", 16},
    [ITEM_LOGICAL_SECTOR] = {guid_logical_sector, "logical sector size", 4},
    [ITEM_PHYSICAL_SECTOR] = {guid_physical_sector, "physical sector size", 4},
    [ITEM_PARENT_LOCATOR] = {guid_parent_locator, "parent locator", PL_ENTRIES},
};

/* Check the entries of the metadata table and note where each known system item lies. */
static int scan_metadata_table(const uint8_t *buf, size_t len, uint16_t count,
			       uint32_t item_off[ITEM_COUNT], uint32_t item_len[ITEM_COUNT],
			       bool found[ITEM_COUNT], bool *user_reuse, struct rp_err *err)
{
	uint16_t i, j;
	int k;

	for (i = 0; i < count; i++) {
		const uint8_t *e = buf + MT_ENTRIES + (size_t)i * MT_ENTRY_SIZE;
		unsigned at = MT_ENTRIES + (unsigned)i * MT_ENTRY_SIZE;
		uint32_t off = rp_le32(e + ME_OFFSET), length = rp_le32(e + ME_LENGTH);
		uint32_t fl = rp_le32(e + ME_FLAGS);
		char guid[RP_UUID_STR];

		/* 2.6.1.2: items follow the 64 KiB table; a zero length requires a zero offset. */
		if (length == 0 && off != 0)
			return rp_err_set(err, RP_EFORMAT,
					  "metadata entry %u at +%u: offset %u with zero length", i,
					  at + ME_OFFSET, off);
		if (length != 0 && (off < MT_TABLE_SIZE || off > len || length > len - off))
			return rp_err_set(err, RP_EFORMAT,
					  "metadata entry %u at +%u: item %u+%u lies outside the "
					  "item area [65536, %zu)",
					  i, at + ME_OFFSET, off, length, len);
		/* The pair (item id, IsUser) is unique within the table. */
		for (j = 0; j < i; j++) {
			const uint8_t *p = buf + MT_ENTRIES + (size_t)j * MT_ENTRY_SIZE;
			if (memcmp(p + ME_ITEM_ID, e + ME_ITEM_ID, 16) == 0 &&
			    ((rp_le32(p + ME_FLAGS) ^ fl) & ME_IS_USER) == 0) {
				rp_guid_format_le(e + ME_ITEM_ID, guid);
				return rp_err_set(err, RP_EFORMAT,
						  "metadata entry %u at +%u: item %s repeats entry "
						  "%u",
						  i, at, guid, j);
			}
		}
		for (k = 0; k < ITEM_COUNT && !(fl & ME_IS_USER); k++)
			if (memcmp(e + ME_ITEM_ID, known_items[k].guid, 16) == 0)
				break;
		/* The key is (item id, IsUser): a user item with a system GUID is a user item. */
		if (fl & ME_IS_USER) {
			for (k = 0; k < ITEM_COUNT; k++)
				if (memcmp(e + ME_ITEM_ID, known_items[k].guid, 16) == 0)
					*user_reuse = true;
			k = ITEM_COUNT;
		}
		if (k == ITEM_COUNT) {
			if (fl & ME_IS_REQUIRED) {
				rp_guid_format_le(e + ME_ITEM_ID, guid);
				return rp_err_set(err, RP_EFORMAT,
						  "metadata entry %u at +%u: unknown item %s is "
						  "marked required",
						  i, at, guid);
			}
			continue;
		}
		if (length < known_items[k].min_len)
			return rp_err_set(
			    err, RP_EFORMAT,
			    "metadata entry %u at +%u: %s length %u, need at least %u", i,
			    at + ME_LENGTH, known_items[k].name, length, known_items[k].min_len);
		found[k] = true;
		item_off[k] = off;
		item_len[k] = length;
	}
	return 0;
}

int vhdx_metadata_parse(const uint8_t *buf, size_t len, struct vhdx_metadata *out,
			struct rp_err *err)
{
	static const int needed[] = {ITEM_FILE_PARAMS, ITEM_VIRTUAL_SIZE, ITEM_LOGICAL_SECTOR,
				     ITEM_PHYSICAL_SECTOR, ITEM_PAGE83};
	uint32_t item_off[ITEM_COUNT] = {0}, item_len[ITEM_COUNT] = {0};
	bool found[ITEM_COUNT] = {false}, user_reuse = false;
	struct vhdx_metadata *m = out;
	uint32_t fp_flags;
	uint16_t count;
	size_t i;
	char sig[9];
	int rc;

	if (len < MT_TABLE_SIZE)
		return rp_err_set(err, RP_EFORMAT,
				  "metadata: truncated, %zu bytes given, need %d for the table",
				  len, MT_TABLE_SIZE);
	if (memcmp(buf + MT_SIGNATURE, "metadata", 8) != 0) {
		sig_text(buf + MT_SIGNATURE, 8, sig, sizeof(sig));
		return rp_err_set(err, RP_EFORMAT,
				  "metadata at +0: signature is '%s', expected 'metadata'", sig);
	}
	count = rp_le16(buf + MT_ENTRY_COUNT);
	if (count > VHDX_MAX_METADATA_ENTRIES)
		return rp_err_set(err, RP_EFORMAT,
				  "metadata at +%d: entry count %u exceeds the maximum %d",
				  MT_ENTRY_COUNT, count, VHDX_MAX_METADATA_ENTRIES);
	rc = scan_metadata_table(buf, len, count, item_off, item_len, found, &user_reuse, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!found[needed[i]])
			return rp_err_set(err, RP_EFORMAT, "metadata: required item %s is missing",
					  known_items[needed[i]].name);

	/*
	 * Fill *out in place: struct vhdx_metadata is large (the parent table), so no copy is
	 * kept on the stack; the caller must not use *out after a failure.
	 */
	memset(m, 0, sizeof(*m));
	m->block_size = rp_le32(buf + item_off[ITEM_FILE_PARAMS]);
	fp_flags = rp_le32(buf + item_off[ITEM_FILE_PARAMS] + 4);
	m->leave_blocks_allocated = fp_flags & 1;
	m->has_parent = (fp_flags >> 1) & 1;
	m->virtual_size = rp_le64(buf + item_off[ITEM_VIRTUAL_SIZE]);
	m->logical_sector_size = rp_le32(buf + item_off[ITEM_LOGICAL_SECTOR]);
	m->physical_sector_size = rp_le32(buf + item_off[ITEM_PHYSICAL_SECTOR]);
	memcpy(m->page83, buf + item_off[ITEM_PAGE83], 16);
	m->user_reuses_system_guid = user_reuse;

	/* 2.6.2.1: block size is a power of two between 1 MiB and 256 MiB. */
	if (!is_pow2(m->block_size) || m->block_size < MIB || m->block_size > 256u * MIB) {
		char size[32];

		if (m->block_size != 0 && m->block_size % MIB == 0)
			snprintf(size, sizeof(size), "%u MiB", m->block_size / MIB);
		else
			snprintf(size, sizeof(size), "%u bytes", m->block_size);
		rp_err_set(err, RP_EFORMAT, "metadata: block size %s %s", size,
			   is_pow2(m->block_size) ? "is outside [1 MiB, 256 MiB]"
						  : "is not a power of two");
		goto fail;
	}
	if (m->logical_sector_size != 512 && m->logical_sector_size != 4096) {
		rp_err_set(err, RP_EFORMAT, "metadata: logical sector size %u is not 512 or 4096",
			   m->logical_sector_size);
		goto fail;
	}
	if (m->physical_sector_size != 512 && m->physical_sector_size != 4096) {
		rp_err_set(err, RP_EFORMAT, "metadata: physical sector size %u is not 512 or 4096",
			   m->physical_sector_size);
		goto fail;
	}
	if (m->virtual_size == 0) {
		rp_err_set(err, RP_EFORMAT, "metadata: virtual disk size is zero");
		goto fail;
	}
	if (m->virtual_size % m->logical_sector_size != 0) {
		rp_err_set(err, RP_EFORMAT,
			   "metadata: virtual disk size %llu is not a multiple of the logical "
			   "sector size %u",
			   (unsigned long long)m->virtual_size, m->logical_sector_size);
		goto fail;
	}
	if (m->virtual_size > VHDX_MAX_VIRTUAL_SIZE) {
		rp_err_set(err, RP_EFORMAT, "metadata: virtual disk size %llu exceeds 64 TiB",
			   (unsigned long long)m->virtual_size);
		goto fail;
	}
	if (m->has_parent) {
		if (!found[ITEM_PARENT_LOCATOR]) {
			rp_err_set(err, RP_EFORMAT,
				   "metadata: has-parent is set but required item "
				   "parent locator is missing");
			goto fail;
		}
		rc = parse_parent_locator(buf + item_off[ITEM_PARENT_LOCATOR],
					  item_len[ITEM_PARENT_LOCATOR],
					  item_off[ITEM_PARENT_LOCATOR], m, err);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	memset(m, 0, sizeof(*m));
	return RP_EFORMAT;
}

uint64_t vhdx_chunk_ratio(const struct vhdx_metadata *m)
{
	if (m->block_size == 0)
		return 0;
	return ((uint64_t)1 << 23) * m->logical_sector_size / m->block_size;
}

uint64_t vhdx_payload_blocks(const struct vhdx_metadata *m)
{
	if (m->block_size == 0)
		return 0;
	return m->virtual_size / m->block_size + (m->virtual_size % m->block_size != 0);
}

uint64_t vhdx_bat_entries(const struct vhdx_metadata *m)
{
	uint64_t cr = vhdx_chunk_ratio(m), pb = vhdx_payload_blocks(m);

	if (cr == 0 || pb == 0)
		return 0;
	/* 2.5: a differencing disk has every sector bitmap entry; others stop at the last block. */
	if (m->has_parent)
		return (pb / cr + (pb % cr != 0)) * (cr + 1);
	return pb + (pb - 1) / cr;
}

uint64_t vhdx_bat_index(const struct vhdx_metadata *m, uint64_t b)
{
	uint64_t cr = vhdx_chunk_ratio(m);

	return cr == 0 ? b : b + b / cr;
}

static bool known_payload_state(unsigned s)
{
	return s == VHDX_PAYLOAD_NOT_PRESENT || s == VHDX_PAYLOAD_UNDEFINED ||
	       s == VHDX_PAYLOAD_ZERO || s == VHDX_PAYLOAD_UNMAPPED ||
	       s == VHDX_PAYLOAD_FULLY_PRESENT || s == VHDX_PAYLOAD_PARTIALLY_PRESENT;
}

int vhdx_bat_check(const uint8_t *bat, size_t bat_len, const struct vhdx_metadata *m,
		   uint64_t file_size, struct rp_err *err)
{
	uint64_t cr = vhdx_chunk_ratio(m), total = vhdx_bat_entries(m), i, block = 0;
	uint64_t partial = 0; /* a partially present block of the current chunk, plus one */

	if (cr == 0 || total == 0)
		return rp_err_set(err, RP_EUSAGE, "bat: metadata gives no blocks");
	if (bat_len / 8 < total)
		return rp_err_set(err, RP_EFORMAT, "bat: %zu bytes hold %zu entries, need %llu",
				  bat_len, bat_len / 8, (unsigned long long)total);
	for (i = 0; i < total; i++) {
		uint64_t e = rp_le64(bat + i * 8);
		unsigned st = vhdx_bat_state(e);
		uint64_t off = vhdx_bat_file_offset(e), need;

		if ((i + 1) % (cr + 1) == 0) {
			/* Sector bitmap entry (2.5.1.2): not present, or present with a 1 MiB
			 * block. */
			if (st != VHDX_PAYLOAD_NOT_PRESENT && st != VHDX_PAYLOAD_FULLY_PRESENT)
				return rp_err_set(err, RP_EFORMAT,
						  "bat entry %llu at +%llu: sector bitmap state %u "
						  "is not 0 or 6",
						  (unsigned long long)i, (unsigned long long)i * 8,
						  st);
			if (st == VHDX_PAYLOAD_FULLY_PRESENT && !m->has_parent)
				return rp_err_set(err, RP_EFORMAT,
						  "bat entry %llu at +%llu: sector bitmap present "
						  "in a disk without a parent",
						  (unsigned long long)i, (unsigned long long)i * 8);
			/* 2.5.1.2: a partially present block is read through its chunk's
			 * sector bitmap, which must then be present. */
			if (partial && st != VHDX_PAYLOAD_FULLY_PRESENT)
				return rp_err_set(err, RP_EFORMAT,
						  "bat entry %llu at +%llu: sector bitmap not "
						  "present, but block %llu of its chunk is "
						  "partially present",
						  (unsigned long long)i, (unsigned long long)i * 8,
						  (unsigned long long)(partial - 1));
			partial = 0;
			need = MIB;
		} else {
			if (!known_payload_state(st))
				return rp_err_set(err, RP_EFORMAT,
						  "bat entry %llu (block %llu) at +%llu: unknown "
						  "state %u",
						  (unsigned long long)i, (unsigned long long)block,
						  (unsigned long long)i * 8, st);
			if (st == VHDX_PAYLOAD_PARTIALLY_PRESENT && !m->has_parent)
				return rp_err_set(err, RP_EFORMAT,
						  "bat entry %llu (block %llu) at +%llu: partially "
						  "present block in a disk without a parent",
						  (unsigned long long)i, (unsigned long long)block,
						  (unsigned long long)i * 8);
			if (st == VHDX_PAYLOAD_PARTIALLY_PRESENT && !partial)
				partial = block + 1;
			/* The last block may extend past the virtual size; only its data must
			 * exist. */
			need = m->block_size;
			if (block * m->block_size < m->virtual_size &&
			    m->virtual_size - block * m->block_size < need)
				need = m->virtual_size - block * m->block_size;
			block++;
		}
		if (st != VHDX_PAYLOAD_FULLY_PRESENT && st != VHDX_PAYLOAD_PARTIALLY_PRESENT)
			continue;
		if (off < MIB || off > file_size || need > file_size - off)
			return rp_err_set(err, RP_EFORMAT,
					  "bat entry %llu at +%llu: block at file offset %llu "
					  "(length %llu) lies outside the file of %llu bytes",
					  (unsigned long long)i, (unsigned long long)i * 8,
					  (unsigned long long)off, (unsigned long long)need,
					  (unsigned long long)file_size);
	}
	return 0;
}
