/*
 * Fuzz target: a dynamic or differencing VHD's metadata. Input layout:
 *   [0, 512)     a footer, parsed with VHD_IGNORE_CHECKSUMS; the file size is the big-endian
 *                64-bit value at +85 (the start of the footer's reserved area, as the cookie
 *                at +0 is checked even with the flag), or the input size when that is zero
 *   [512, 1536)  the dynamic header, parsed with and without VHD_IGNORE_CHECKSUMS
 *   [1536, end)  a BAT checked with vhd_bat_check when the header parses; the same bytes are
 *                also decoded as the data of each used parent locator
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/endian.h"
#include "formats/vhd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhd_footer footer;
	struct vhd_dyn_header h;
	struct rp_err err;
	const uint8_t *rest;
	uint64_t file_size, data_end;
	size_t rest_len;
	uint32_t entries;
	char path[1024];
	int i, rc_strict;

	if (size < VHD_FOOTER_SIZE + VHD_DYN_HEADER_SIZE)
		return 0;
	rp_err_init(&err);
	if (vhd_footer_parse(data, size, VHD_IGNORE_CHECKSUMS, &footer, &err) != 0)
		return 0;
	file_size = rp_be64(data + 85);
	if (file_size == 0)
		file_size = size;
	rc_strict = vhd_dyn_header_parse(data + VHD_FOOTER_SIZE, VHD_DYN_HEADER_SIZE, file_size,
					 &footer, 0, &h, &err);
	if (vhd_dyn_header_parse(data + VHD_FOOTER_SIZE, VHD_DYN_HEADER_SIZE, file_size, &footer,
				 VHD_IGNORE_CHECKSUMS, &h, &err) != 0) {
		/* The flag only relaxes the checksum. */
		if (rc_strict == 0)
			abort();
		return 0;
	}
	rest = data + VHD_FOOTER_SIZE + VHD_DYN_HEADER_SIZE;
	rest_len = size - VHD_FOOTER_SIZE - VHD_DYN_HEADER_SIZE;
	entries = h.max_table_entries;
	if ((uint64_t)entries * 4 > rest_len)
		entries = (uint32_t)(rest_len / 4);
	data_end = file_size - VHD_FOOTER_SIZE;
	(void)vhd_bat_check(rest, entries, &h, data_end, &err);
	for (i = 0; i < VHD_PARENT_LOCATORS; i++) {
		size_t n = h.loc[i].data_length;

		if (h.loc[i].code == 0)
			continue;
		if (n > rest_len)
			n = rest_len;
		(void)vhd_locator_decode(h.loc[i].code, rest, n, path, sizeof(path), &err);
	}
	return 0;
}
