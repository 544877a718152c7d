/*
 * A disk image opened for reading: raw, fixed/dynamic/differencing VHD, fixed/dynamic/
 * differencing VHDX. Opening runs every structural check of the format and records what it
 * finds in a problem list (rp_image_problems); reads then return the bytes of the virtual disk.
 *
 * Fixed VHD and raw images are read with pread; dynamic and differencing VHD through our own
 * validated BAT and sector bitmaps (libvhdi reads those at 49 MiB/s); VHDX likewise through our
 * own validated BAT and sector bitmaps, with libvhdi (the adapter in vhdi.c) opened beside it as
 * a cross-check only (docs/libvhdi.md).
 *
 * Thread safety: after rp_image_open returns, rp_image_read and rp_image_extent may be called
 * from many threads at once. Everything else is single-threaded.
 */
#ifndef RP_FORMATS_IMAGE_H
#define RP_FORMATS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/json.h"
#include "common/problems.h"

#define RP_IMAGE_MAX_CHAIN 32

enum rp_image_format {
	RP_IMAGE_RAW,
	RP_IMAGE_VHD_FIXED,
	RP_IMAGE_VHD_DYNAMIC,
	RP_IMAGE_VHD_DIFF,
	RP_IMAGE_VHDX,
};

struct rp_image_opts {
	const char *const *parents; /* explicit parent paths, nearest first (may be NULL) */
	size_t parent_count;
	bool ignore_checksums; /* read past checksum errors (still recorded as problems) */
	bool keep_unreadable;  /* return the image even when a problem makes it unreadable */
};

struct rp_image;

/*
 * A disk read through a callback instead of a file (a blob over HTTPS, restore/blob_read.h):
 * read fills exactly len bytes at off of the size-byte source, or fails with a message. name
 * stands for the path in messages (no secrets in it). Raw and fixed VHD sources only: the others
 * need their metadata read piecemeal from a file (RP_EUSAGE says so). Every byte is allocated.
 */
struct rp_image_source {
	int (*read)(void *ctx, void *buf, size_t len, uint64_t off, struct rp_err *err);
	void *ctx;
	uint64_t size;
	const char *name;
};

/* Open src as rp_image_open opens a file (opts->parents must be empty). */
int rp_image_open_source(const struct rp_image_source *src, const struct rp_image_opts *opts,
			 struct rp_image **out, struct rp_err *err);

/*
 * A format we recognise but do not read (qcow2, VMDK, gzip, ...): its qemu-img name (-f), a
 * description for messages, and the command that makes a raw disk of it (SOURCE stands for the
 * file; NULL when no conversion applies, as for a JSON document).
 */
struct rp_image_foreign {
	const char *name;
	const char *what;
	const char *convert;
};

/*
 * The foreign format whose signature head (the first bytes of a file, up to 512 are looked at)
 * or tail (the last 512 bytes, tail_len 0 if the file is shorter) carries, or NULL when none
 * matches. Pure; any lengths.
 */
const struct rp_image_foreign *rp_image_sniff(const uint8_t *head, size_t head_len,
					      const uint8_t *tail, size_t tail_len);

/* True if the text starts like a JSON document: an optional UTF-8 BOM and whitespace, then
 * '{' or '[', and head[0..len) holds no control byte but tab, LF and CR (JSON text never
 * does; a disk's first sector that happens to start with '{' all but always does). Such a file
 * is a document (a descriptor, a seal), never a disk. */
bool rp_image_looks_like_json(const uint8_t *head, size_t len);

/*
 * Open path. Detects the format from its content: VHDX file identifier, VHD footer (or its copy
 * at offset 0 for dynamic disks), then the signatures of rp_image_sniff, which are refused
 * with RP_EFORMAT naming the format and the conversion command; raw only when no signature
 * matches. A file shorter than one sector (512 bytes) is refused with RP_EFORMAT. These
 * refusals hold even with opts->keep_unreadable. Otherwise returns RP_EFORMAT if a problem
 * makes the image unreadable, unless opts->keep_unreadable, in which case it returns 0 and
 * rp_image_readable() is false. RP_EIO if the file cannot be read.
 */
int rp_image_open(const char *path, const struct rp_image_opts *opts, struct rp_image **out,
		  struct rp_err *err);

void rp_image_free(struct rp_image *img);

bool rp_image_readable(const struct rp_image *img);
enum rp_image_format rp_image_format(const struct rp_image *img);

/* Short name used in seals and reports: raw, vhd-fixed, vhd-dynamic, vhd-differencing, vhdx. */
const char *rp_image_format_name(const struct rp_image *img);

uint64_t rp_image_virtual_size(const struct rp_image *img);
uint64_t rp_image_file_size(const struct rp_image *img);
uint32_t rp_image_sector_size(const struct rp_image *img);
const char *rp_image_path(const struct rp_image *img);

/* Problems found while opening (all checks run), the first unreadable one decides readability. */
const struct rp_problems *rp_image_problems(const struct rp_image *img);

/*
 * Read len bytes of the virtual disk at off into buf. [off, off+len) must lie inside the
 * virtual size (else RP_EUSAGE). Unallocated parts read as zeros (or from the parent).
 */
int rp_image_read(struct rp_image *img, void *buf, size_t len, uint64_t off, struct rp_err *err);

/*
 * Allocation at off: *allocated tells whether data may be stored for the bytes at off (in this
 * image or a parent); *run is how many bytes from off share that state (at least 1 sector,
 * never past the virtual size). Unallocated bytes always read as zeros.
 */
int rp_image_extent(struct rp_image *img, uint64_t off, bool *allocated, uint64_t *run,
		    struct rp_err *err);

/*
 * Describe the image as a JSON object for `inspect`: format, sizes, footer/header fields,
 * checksum states, parent chain, allocation, partition table, LUKS headers, problems.
 */
int rp_image_describe(struct rp_image *img, struct rp_json **out, struct rp_err *err);

#endif
