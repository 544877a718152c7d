/*
 * Fuzz the MBR, GPT and LUKS parsers. The input is split into pieces:
 *
 *   16 bytes   control: byte 0 bit 0 = PT_IGNORE_CHECKSUMS, byte 1 low 2 bits = sector size
 *              (512 << n), bytes 8..15 = disk size in sectors (LE)
 *   512        LBA 0 (MBR); the LUKS probe also reads from here, over the rest of the input
 *   512        GPT header (parsed with the chosen sector size)
 *   rest       partition entries array
 *
 * Seeds are made by tests/fuzz/make_seeds_vhdx_gpt.py from sfdisk and cryptsetup images.
 */
#include <stdint.h>
#include <string.h>

#include "common/endian.h"
#include "formats/parttable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_partition parts[PT_MAX_PARTITIONS];
	struct pt_gpt_header h;
	struct luks_probe lp;
	struct pt_mbr mbr;
	struct rp_err err;
	uint64_t disk_sectors;
	uint32_t sector_size;
	unsigned flags, count;
	const uint8_t *p;
	size_t left, n;

	if (size < 16)
		return 0;
	flags = (data[0] & 1) ? PT_IGNORE_CHECKSUMS : 0;
	sector_size = 512u << (data[1] & 3);
	disk_sectors = rp_le64(data + 8);
	p = data + 16;
	left = size - 16;

	luks_probe_parse(p, left, &lp, &err);
	n = left < 512 ? left : 512;
	pt_mbr_parse(p, n, disk_sectors > UINT64_MAX / 512 ? UINT64_MAX : disk_sectors * 512, &mbr,
		     &err);
	p += n;
	left -= n;

	n = left < 512 ? left : 512;
	if (pt_gpt_header_parse(p, n, sector_size, disk_sectors, flags, &h, &err) == 0) {
		pt_gpt_entries_parse(p + n, left - n, &h, sector_size, flags, parts, &count, &err);
	}
	return 0;
}
