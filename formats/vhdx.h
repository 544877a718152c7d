/*
 * VHDX structures ([MS-VHDX] v20160714): the file type identifier (offset 0), the two headers
 * (64 KiB and 128 KiB), the two region tables (192 KiB and 256 KiB), the metadata region and the
 * BAT. All numbers are little-endian; GUIDs are Microsoft GUIDs.
 *
 * Pure parsers as in vhd.h: messages name the field and its offset inside the structure,
 * checksum (CRC-32C) failures are RP_EFORMAT unless VHDX_IGNORE_CHECKSUMS is given, in which
 * case *_ok flags are false and parsing goes on. Thread-safe.
 */
#ifndef RP_FORMATS_VHDX_H
#define RP_FORMATS_VHDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define VHDX_FILE_ID_OFFSET 0
#define VHDX_HEADER1_OFFSET (64u * 1024)
#define VHDX_HEADER2_OFFSET (128u * 1024)
#define VHDX_REGION1_OFFSET (192u * 1024)
#define VHDX_REGION2_OFFSET (256u * 1024)
#define VHDX_HEADER_SIZE 4096
#define VHDX_REGION_SIZE (64u * 1024)
#define VHDX_MAX_REGIONS 2047
#define VHDX_MAX_METADATA_ENTRIES 2047
#define VHDX_PARENT_ENTRIES_MAX 64

enum vhdx_flags {
	VHDX_IGNORE_CHECKSUMS = 1,
};

/* "vhdxfile" at offset 0; creator is UTF-16LE at +8, decoded. */
int vhdx_file_id_parse(const uint8_t *buf, size_t len, char *creator, size_t creator_sz,
		       struct rp_err *err);

struct vhdx_header {
	uint32_t checksum_stored;
	uint32_t checksum_computed;
	bool checksum_ok;
	uint64_t sequence_number;
	uint8_t file_write_guid[16];
	uint8_t data_write_guid[16];
	uint8_t log_guid[16]; /* all zero: the log is empty and must not be replayed */
	uint16_t log_version;
	uint16_t version;
	uint32_t log_length;
	uint64_t log_offset;
};

/*
 * Parse one header from buf[0..len) (len >= 4096): signature "head", CRC-32C over the 4 KiB with
 * the checksum field zeroed, version 1, log version 0, log offset and length multiples of 1 MiB.
 */
int vhdx_header_parse(const uint8_t *buf, size_t len, unsigned flags, struct vhdx_header *out,
		      struct rp_err *err);

/*
 * Choose the current header from two parse results (valid1/valid2 say which parsed): the valid
 * one with the larger sequence number. Returns 1 or 2, or RP_EFORMAT if neither is valid or both
 * have the same sequence number but differ (the specification calls equal numbers corrupt;
 * Disk2VHD writes two identical headers with the same number, which return 1).
 */
int vhdx_header_current(const struct vhdx_header *h1, bool valid1, const struct vhdx_header *h2,
			bool valid2, struct rp_err *err);

struct vhdx_region_table {
	uint32_t checksum_stored;
	uint32_t checksum_computed;
	bool checksum_ok;
	uint32_t entry_count;
	uint64_t bat_offset;
	uint32_t bat_length;
	uint64_t metadata_offset;
	uint32_t metadata_length;
};

/*
 * Parse a region table from buf[0..len) (len >= 64 KiB): signature "regi", CRC-32C over 64 KiB,
 * entry count <= 2047, each entry 1 MiB aligned with a non-zero length that is a multiple of
 * 1 MiB and ends inside file_size; the BAT and metadata regions present exactly once; an
 * unknown region marked required is an error; regions do not overlap.
 */
int vhdx_region_table_parse(const uint8_t *buf, size_t len, uint64_t file_size, unsigned flags,
			    struct vhdx_region_table *out, struct rp_err *err);

struct vhdx_parent_entry {
	char key[128];
	char value[1024];
};

struct vhdx_metadata {
	uint32_t block_size;
	bool leave_blocks_allocated;
	bool has_parent;
	uint64_t virtual_size;
	uint32_t logical_sector_size;
	uint32_t physical_sector_size;
	uint8_t page83[16];
	bool user_reuses_system_guid; /* a user item has a system item's GUID (legal, 2.6.1.2) */
	size_t parent_count;
	struct vhdx_parent_entry parent[VHDX_PARENT_ENTRIES_MAX];
};

/*
 * Parse the metadata region from buf[0..len) (the whole region as located by the region
 * table): signature "metadata", entries inside the region, the required items present (file
 * parameters, virtual disk size, logical and physical sector size, page 83 data; parent locator
 * when has_parent), block size a power of two in [1 MiB, 256 MiB], logical sector 512 or 4096,
 * physical sector 512 or 4096, virtual size a non-zero multiple of the logical sector size at
 * most 64 TiB; parent locator key/value pairs decoded from UTF-16LE. Unknown required items fail.
 */
int vhdx_metadata_parse(const uint8_t *buf, size_t len, struct vhdx_metadata *out,
			struct rp_err *err);

/* Block states of a payload BAT entry (bits 0-2). */
enum vhdx_block_state {
	VHDX_PAYLOAD_NOT_PRESENT = 0,
	VHDX_PAYLOAD_UNDEFINED = 1,
	VHDX_PAYLOAD_ZERO = 2,
	VHDX_PAYLOAD_UNMAPPED = 3,
	VHDX_PAYLOAD_FULLY_PRESENT = 6,
	VHDX_PAYLOAD_PARTIALLY_PRESENT = 7,
};

/* Chunk ratio: payload blocks per sector bitmap block, (2^23 * logical sector) / block size. */
uint64_t vhdx_chunk_ratio(const struct vhdx_metadata *m);

/* Number of payload blocks: ceil(virtual size / block size). */
uint64_t vhdx_payload_blocks(const struct vhdx_metadata *m);

/*
 * Number of BAT entries the specification requires (payload entries interleaved with one
 * sector-bitmap entry per chunk ratio payload entries).
 */
uint64_t vhdx_bat_entries(const struct vhdx_metadata *m);

/* Index in the BAT of payload block b. */
uint64_t vhdx_bat_index(const struct vhdx_metadata *m, uint64_t b);

/*
 * Check a BAT (bat_len bytes of little-endian 64-bit entries): it holds at least
 * vhdx_bat_entries() entries; each payload entry has a known state, and a present block lies
 * 1 MiB aligned inside file_size; the first bad entry fails with its index.
 */
int vhdx_bat_check(const uint8_t *bat, size_t bat_len, const struct vhdx_metadata *m,
		   uint64_t file_size, struct rp_err *err);

/* State (low 3 bits) and file offset (bits 20-63, in MiB units) of a BAT entry. */
static inline unsigned vhdx_bat_state(uint64_t entry)
{
	return (unsigned)(entry & 7);
}

static inline uint64_t vhdx_bat_file_offset(uint64_t entry)
{
	return (entry >> 20) << 20;
}

#endif
