/*
 * VHD on-disk structures (Microsoft "Virtual Hard Disk Image Format Specification" v1.0):
 * the 512-byte footer, the 1024-byte dynamic disk header, the block allocation table and the
 * parent locators of differencing disks. All numbers on disk are big-endian.
 *
 * Parsers are pure: they read a caller's buffer, validate every field they can validate from
 * that buffer (and the sizes passed in), and fill *out only on success. Messages name the field
 * and its offset inside the structure ("cookie at +0: ..."); the caller prefixes where the
 * structure lies in the file. A checksum mismatch is an RP_EFORMAT error naming stored and
 * computed values unless flags has VHD_IGNORE_CHECKSUMS, in which case parsing succeeds and
 * out->checksum_ok is false. Thread-safe.
 */
#ifndef RP_FORMATS_VHD_H
#define RP_FORMATS_VHD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define VHD_FOOTER_SIZE 512
#define VHD_DYN_HEADER_SIZE 1024
#define VHD_SECTOR 512
#define VHD_BAT_UNUSED 0xFFFFFFFFu
#define VHD_MAX_BLOCK_SIZE (256u << 20) /* our limit: far above the 2 MiB every writer uses */
#define VHD_PARENT_LOCATORS 8

enum vhd_flags {
	VHD_IGNORE_CHECKSUMS = 1,
};

enum vhd_disk_type {
	VHD_TYPE_FIXED = 2,
	VHD_TYPE_DYNAMIC = 3,
	VHD_TYPE_DIFF = 4,
};

struct vhd_footer {
	uint32_t features;
	uint32_t version;
	uint64_t data_offset; /* UINT64_MAX for fixed disks */
	uint32_t timestamp;   /* seconds since 2000-01-01T00:00:00Z */
	char creator_app[5];  /* four bytes as stored, NUL-terminated (non-printables as '?') */
	uint32_t creator_version;
	char creator_host[5];
	uint64_t original_size;
	uint64_t current_size;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors_per_track;
	uint32_t disk_type;
	uint32_t checksum_stored;
	uint32_t checksum_computed;
	bool checksum_ok;
	uint8_t uuid[16];
	uint8_t saved_state;
};

/* The VHD epoch, 2000-01-01T00:00:00Z, as a Unix time. */
#define VHD_EPOCH 946684800

/* One's complement of the byte sum of len bytes, skipping [skip, skip+4) (the checksum field). */
uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t skip);

/*
 * Parse a footer from buf[0..len) (len must be at least 512; the first 512 bytes are read).
 * Checks: cookie "conectix", format version major 1, disk type 2/3/4, data offset all ones for
 * fixed disks and 512-aligned otherwise, current size a multiple of 512, checksum.
 */
int vhd_footer_parse(const uint8_t *buf, size_t len, unsigned flags, struct vhd_footer *out,
		     struct rp_err *err);

/*
 * CHS geometry of the VHD specification (appendix "CHS Calculation") for a disk of size bytes;
 * sizes beyond 65535*16*255 sectors get the maximum geometry.
 */
void vhd_chs(uint64_t size, uint16_t *cylinders, uint8_t *heads, uint8_t *sectors_per_track);

/*
 * Build the footer of an Azure-ready fixed VHD of size bytes (size must be a multiple of 512):
 * features 2, version 1.0, data offset all ones, the given timestamp (VHD epoch seconds),
 * creator "cvmr" version 0x00010000 host "Wi2k", original = current = size, CHS geometry,
 * disk type 2, the given UUID, checksum filled in.
 */
void vhd_footer_build_fixed(uint64_t size, const uint8_t uuid[16], uint32_t timestamp,
			    uint8_t out[VHD_FOOTER_SIZE]);

/*
 * The last 512 bytes (footer) of a disk image of size bytes (size >= 512), e.g. a restored disk
 * blob or its decrypted plaintext: *is_vhd when they are a fixed VHD footer whose current size is
 * size - 512; not a VHD (0, *is_vhd false) when the cookie is not "conectix"; RP_EFORMAT for a
 * VHD footer that is bad or does not fit. Messages start with display (the image's name).
 */
int vhd_image_footer_check(const char *display, uint64_t size,
			   const uint8_t footer[VHD_FOOTER_SIZE], bool *is_vhd, struct rp_err *err);

struct vhd_parent_locator {
	uint32_t code; /* platform code, e.g. 'W2ru' = 0x57327275; 0 if unused */
	uint32_t data_space;
	uint32_t data_length;
	uint64_t data_offset;
};

struct vhd_dyn_header {
	uint64_t data_offset; /* all ones */
	uint64_t table_offset;
	uint32_t header_version;
	uint32_t max_table_entries;
	uint32_t block_size;
	uint32_t checksum_stored;
	uint32_t checksum_computed;
	bool checksum_ok;
	uint8_t parent_uuid[16];
	uint32_t parent_timestamp;
	char parent_name[1024]; /* UTF-16BE name decoded to UTF-8 */
	struct vhd_parent_locator loc[VHD_PARENT_LOCATORS];
};

/*
 * Parse the dynamic disk header from buf[0..len) (at least 1024 bytes). file_size is the size of
 * the whole file and footer the already parsed footer. Checks: cookie "cxsparse", data offset
 * all ones, version 1.0, block size a power of two in [512, VHD_MAX_BLOCK_SIZE], BAT inside the
 * file (before the footer copy at the end), max table entries large enough for current size and
 * small enough to fit the file, parent locators (for differencing disks) inside the file,
 * checksum.
 */
int vhd_dyn_header_parse(const uint8_t *buf, size_t len, uint64_t file_size,
			 const struct vhd_footer *footer, unsigned flags,
			 struct vhd_dyn_header *out, struct rp_err *err);

/* Bytes of the sector bitmap in front of each block (rounded up to whole sectors). */
uint32_t vhd_bitmap_size(uint32_t block_size);

/*
 * Check a BAT read from the file (bat = max_table_entries big-endian 32-bit sector numbers):
 * every entry is VHD_BAT_UNUSED or a block (bitmap + data) that starts after the BAT and ends at
 * or before data_end (the offset of the trailing footer). The first bad entry fails with its
 * index and value.
 */
int vhd_bat_check(const uint8_t *bat, uint32_t entries, const struct vhd_dyn_header *h,
		  uint64_t data_end, struct rp_err *err);

/*
 * Decode a parent locator's data (len bytes read from its data offset) to UTF-8: W2ru and W2ku
 * are UTF-16LE paths, MacX is a UTF-8 file URL, Wi2r/Wi2k are deprecated (decoded as UTF-16LE
 * best effort); Mac (a binary Mac OS alias) is rejected unless it happens to be UTF-8.
 * RP_EFORMAT for other codes or undecodable data.
 */
int vhd_locator_decode(uint32_t code, const uint8_t *data, size_t len, char *out, size_t outsz,
		       struct rp_err *err);

/* The platform code as four printable characters ("W2ru"). */
void vhd_locator_code_str(uint32_t code, char out[5]);

#endif
