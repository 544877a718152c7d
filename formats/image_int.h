/*
 * Internal to the image layer (image*.c): the definition of struct rp_image and the per-format
 * open/read/extent functions. Not part of the public interface.
 */
#ifndef RP_FORMATS_IMAGE_INT_H
#define RP_FORMATS_IMAGE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "formats/image.h"
#include "formats/vhd.h"
#include "formats/vhdi.h"
#include "formats/vhdx.h"

struct image_vhdx {
	char creator[256];
	struct vhdx_header hdr[2];
	bool hdr_valid[2];
	int current; /* 1 or 2, 0 if none */
	struct vhdx_region_table region;
	bool region_valid;
	struct vhdx_metadata meta;
	bool meta_valid;
	uint64_t *bat; /* payload entries only, one per block; NULL if not read */
	uint64_t blocks;
	uint64_t *sb; /* sector bitmap entries, one per chunk (differencing disks only) */
	uint64_t chunks;
	struct rp_vhdi *vhdi; /* libvhdi's reading, for the cross-check only (NULL if none) */
};

struct rp_image {
	char *path;
	int fd;
	const struct rp_image_source *src; /* read through this instead of fd (borrowed) */
	dev_t dev;
	ino_t ino;
	uint64_t file_size;
	enum rp_image_format format;
	bool readable;
	bool ignore_checksums;
	struct rp_problems problems;
	uint64_t virtual_size;
	uint32_t sector_size;
	uint64_t allocated;

	/* VHD (all types) */
	bool has_footer;
	struct vhd_footer footer;
	/* dynamic and differencing VHD */
	bool has_dyn;
	struct vhd_dyn_header dyn;
	uint32_t *bat; /* sector numbers in host order */
	uint32_t bitmap_size;
	char locator[VHD_PARENT_LOCATORS][1024];
	struct rp_image *parent;
	const struct rp_image *below; /* the image this one is the parent of (not owned) */
	unsigned depth;		      /* 0 for the image opened by the user */

	struct image_vhdx vhdx;
};

/* Record a problem; `fatal` problems make the image unreadable. Returns 0. */
int image_problem(struct rp_image *img, bool fatal, bool checksum, const struct rp_err *e);

/* pread exactly len bytes at off; RP_EIO on error, RP_EFORMAT if the file ends first. */
int image_pread(const struct rp_image *img, void *buf, size_t len, uint64_t off,
		struct rp_err *err);

/* VHD: called with the footer already parsed into img->footer. */
int image_vhd_open(struct rp_image *img, const struct rp_image_opts *opts, struct rp_err *err);
int image_vhd_read(struct rp_image *img, uint8_t *buf, size_t len, uint64_t off,
		   struct rp_err *err);
int image_vhd_extent(struct rp_image *img, uint64_t off, bool *allocated, uint64_t *run,
		     struct rp_err *err);
void image_vhd_release(struct rp_image *img);

/* VHDX: called for a file whose identifier says "vhdxfile". */
int image_vhdx_open(struct rp_image *img, const struct rp_image_opts *opts, struct rp_err *err);
int image_vhdx_read(struct rp_image *img, uint8_t *buf, size_t len, uint64_t off,
		    struct rp_err *err);
int image_vhdx_extent(struct rp_image *img, uint64_t off, bool *allocated, uint64_t *run,
		      struct rp_err *err);
void image_vhdx_release(struct rp_image *img);

/* Open a parent for a differencing image: the next path of opts, checked against the child. */
int image_open_parent(struct rp_image *child, const struct rp_image_opts *opts, struct rp_err *err);

#endif
