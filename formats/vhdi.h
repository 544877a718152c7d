/*
 * The libvhdi adapter: the only file that includes <libvhdi.h>.
 *
 * libvhdi handles are not safe for concurrent reads, so a struct rp_vhdi keeps a small pool of
 * handles on the same file, opened on demand (up to max_handles) and lent to one reader at a
 * time: rp_vhdi_read may be called from many threads. libvhdi validates no checksums and does
 * not replay logs: callers validate the structures first (vhdx.c). For VHDX, libvhdi is only a
 * second reading that must agree with ours, never the data path (docs/libvhdi.md).
 * An optional parent (for differencing images) is set on every handle as it is opened.
 */
#ifndef RP_FORMATS_VHDI_H
#define RP_FORMATS_VHDI_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct rp_vhdi;

/*
 * Open path with libvhdi. parent (may be NULL) is an already opened rp_vhdi of the parent
 * image; it must outlive the child. libvhdi's error text is put in err.
 */
int rp_vhdi_open(const char *path, struct rp_vhdi *parent, unsigned max_handles,
		 struct rp_vhdi **out, struct rp_err *err);

void rp_vhdi_free(struct rp_vhdi *v);

uint64_t rp_vhdi_media_size(const struct rp_vhdi *v);

/* What libvhdi reports besides the size: bytes per (logical) sector and the disk type. */
enum rp_vhdi_disk_type {
	RP_VHDI_OTHER = 0,
	RP_VHDI_FIXED,
	RP_VHDI_DYNAMIC,
	RP_VHDI_DIFFERENCING,
};
uint32_t rp_vhdi_bytes_per_sector(const struct rp_vhdi *v);
enum rp_vhdi_disk_type rp_vhdi_disk_type(const struct rp_vhdi *v);
const char *rp_vhdi_disk_type_name(enum rp_vhdi_disk_type t);

/* Read len bytes at off of the virtual disk; thread-safe. */
int rp_vhdi_read(struct rp_vhdi *v, void *buf, size_t len, uint64_t off, struct rp_err *err);

#endif
