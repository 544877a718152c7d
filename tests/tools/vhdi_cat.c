/*
 * vhdi_cat IMAGE [PARENT]: write the virtual disk of IMAGE to stdout as libvhdi reads it,
 * through our libvhdi adapter; a differencing IMAGE is read over PARENT. Tests use it as an
 * independent cross-check of the image layer's own VHD and VHDX readers (docs/libvhdi.md).
 */
#include <stdio.h>
#include <stdlib.h>

#include "formats/vhdi.h"

int main(int argc, char **argv)
{
	struct rp_vhdi *v = NULL, *p = NULL;
	struct rp_err err;
	uint64_t off = 0, size;
	size_t chunk = 1u << 20;
	uint8_t *buf;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: vhdi_cat IMAGE [PARENT] > raw\n");
		return 2;
	}
	rp_err_init(&err);
	if (argc == 3 && rp_vhdi_open(argv[2], NULL, 1, &p, &err) != 0) {
		fprintf(stderr, "vhdi_cat: parent: %s\n", err.msg);
		return 3;
	}
	if (rp_vhdi_open(argv[1], p, 1, &v, &err) != 0) {
		fprintf(stderr, "vhdi_cat: %s\n", err.msg);
		return 3;
	}
	buf = malloc(chunk);
	if (!buf)
		return 4;
	size = rp_vhdi_media_size(v);
	while (off < size) {
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;
		if (rp_vhdi_read(v, buf, n, off, &err) != 0) {
			fprintf(stderr, "vhdi_cat: %s\n", err.msg);
			return 4;
		}
		if (fwrite(buf, 1, n, stdout) != n)
			return 4;
		off += n;
	}
	free(buf);
	rp_vhdi_free(v);
	rp_vhdi_free(p);
	return fflush(stdout) == 0 ? 0 : 4;
}
