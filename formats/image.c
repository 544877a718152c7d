/*
 * The image layer's front: format detection, raw images, the parent chain, and dispatch to the
 * VHD (image_vhd.c) and VHDX (image_vhdx.c) readers.
 */
#include "formats/image_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

int image_problem(struct rp_image *img, bool fatal, bool checksum, const struct rp_err *e)
{
	struct rp_err kept = *e; /* its hint too */

	/* A checksum problem is fatal unless the user asked to read past checksums. */
	if (checksum && img->ignore_checksums)
		fatal = false;
	kept.code = fatal ? (e->code ? e->code : RP_EFORMAT) : RP_OK;
	rp_problems_add_err(&img->problems, &kept, checksum);
	if (fatal)
		img->readable = false;
	return 0;
}

int image_pread(const struct rp_image *img, void *buf, size_t len, uint64_t off, struct rp_err *err)
{
	uint8_t *p = buf;

	if (off > img->file_size || len > img->file_size - off)
		return rp_err_set(
		    err, RP_EFORMAT, "%zu bytes at 0x%llx lie past the end of '%s' (%llu bytes)",
		    len, (unsigned long long)off, img->path, (unsigned long long)img->file_size);
	if (img->src)
		return img->src->read(img->src->ctx, buf, len, off, err);
	while (len > 0) {
		ssize_t n = pread(img->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rp_err_errno(err, errno, "cannot read '%s' at 0x%llx", img->path,
					    (unsigned long long)off);
		if (n == 0)
			return rp_err_set(err, RP_EFORMAT, "'%s' ends early at 0x%llx", img->path,
					  (unsigned long long)off);
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static bool has_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), e = strlen(ext);

	return n > e && strcasecmp(path + n - e, ext) == 0;
}

static int open_file(struct rp_image *img, const char *path, struct rp_err *err)
{
	struct stat st;

	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0)
		return rp_err_errno(err, errno, "cannot open '%s'", path);
	if (fstat(img->fd, &st) != 0)
		return rp_err_errno(err, errno, "cannot stat '%s'", path);
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(img->fd, 0, SEEK_END);
		if (end < 0)
			return rp_err_errno(err, errno, "cannot size '%s'", path);
		img->file_size = (uint64_t)end;
	} else if (S_ISREG(st.st_mode)) {
		img->file_size = (uint64_t)st.st_size;
	} else {
		return rp_err_set(err, RP_EUSAGE, "'%s' is not a regular file or block device",
				  path);
	}
	img->dev = st.st_dev;
	img->ino = st.st_ino;
	img->allocated = (uint64_t)st.st_blocks * 512;
	return 0;
}

/* A container we do not read, or too short to be a disk: refused whatever the options, since
 * reading it as raw would hand out the container's bytes as the disk's (docs/formats.md). */
static int refuse_foreign(const struct rp_image_foreign *f, struct rp_err *err)
{
	if (!f->convert)
		return rp_err_set(err, RP_EFORMAT,
				  "%s, not a disk image (a recovery point descriptor is given to "
				  "restore, verify or stage; 'cvmrestore rp show' checks one)",
				  f->what);
	return rp_err_set(err, RP_EFORMAT,
			  "%s, not a raw disk, VHD or VHDX: make a raw disk of it first (%s) and "
			  "give that",
			  f->what, f->convert);
}

/* Which format the content says; the footer is parsed into img->footer for VHDs. A file's name
 * helps (".vhd", ".vhdx"); a source's does not: a blob is a fixed VHD exactly when it ends in a
 * footer, as the restore pipeline decides (restore.c), whatever it is called. *refused is set
 * for the failures that keep_unreadable does not soften (a foreign format, a too-short file). */
static int detect(struct rp_image *img, bool *refused, struct rp_err *err)
{
	const bool named = !img->src;
	const struct rp_image_foreign *f;
	uint8_t head[512], tail[512];
	size_t head_len;
	struct rp_err e;
	int rc;

	*refused = false;
	memset(head, 0, sizeof(head));
	head_len = img->file_size < 512 ? (size_t)img->file_size : 512;
	if (head_len > 0) {
		rc = image_pread(img, head, head_len, 0, err);
		if (rc)
			return rc;
	}
	if (named && head_len >= 8 && memcmp(head, "vhdxfile", 8) == 0) {
		img->format = RP_IMAGE_VHDX;
		return 0;
	}
	if (img->file_size >= 512) {
		rc = image_pread(img, tail, 512, img->file_size - 512, err);
		if (rc)
			return rc;
	}
	/* A valid VHD footer at the end decides before any signature: a fixed VHD's first bytes
	 * are the guest's, whatever they look like. */
	if (img->file_size < 512 || memcmp(tail, "conectix", 8) != 0) {
		f = rp_image_sniff(head, head_len, tail, img->file_size >= 512 ? 512 : 0);
		if (f) {
			*refused = true;
			return refuse_foreign(f, err);
		}
	}
	if (img->file_size >= 512) {
		if (memcmp(tail, "conectix", 8) == 0 ||
		    (named && (has_ext(img->path, ".vhd") || (memcmp(head, "conectix", 8) == 0 &&
							      memcmp(tail, "conectix", 8) != 0)))) {
			rp_err_init(&e);
			/* Parse with checksums ignored so that every other check still runs; a bad
			 * checksum is recorded as a problem of its own. */
			rc = vhd_footer_parse(tail, 512, VHD_IGNORE_CHECKSUMS, &img->footer, &e);
			if (rc) {
				rp_err_prefix(&e, "vhd footer at 0x%llx",
					      (unsigned long long)(img->file_size - 512));
				return rp_err_set(err, e.code, "%s", e.msg);
			}
			img->has_footer = true;
			img->format = img->footer.disk_type == VHD_TYPE_FIXED ? RP_IMAGE_VHD_FIXED
				      : img->footer.disk_type == VHD_TYPE_DYNAMIC
					  ? RP_IMAGE_VHD_DYNAMIC
					  : RP_IMAGE_VHD_DIFF;
			return 0;
		}
	}
	if (named && has_ext(img->path, ".vhdx"))
		return rp_err_set(err, RP_EFORMAT,
				  "file identifier at 0x0: expected 'vhdxfile' in a .vhdx file");
	if (named && img->file_size < 512 && has_ext(img->path, ".vhd"))
		return rp_err_set(err, RP_EFORMAT,
				  "'%s' has %llu bytes: too short for a VHD footer (512 bytes)",
				  img->path, (unsigned long long)img->file_size);
	/* An empty file (or a cut one) is not a disk of 0 bytes that verifies clean. */
	if (img->file_size < 512) {
		*refused = true;
		return rp_err_set(
		    err, RP_EFORMAT,
		    "%llu bytes: too short to be a disk (at least one 512-byte sector); "
		    "the file is empty or cut",
		    (unsigned long long)img->file_size);
	}
	img->format = RP_IMAGE_RAW;
	return 0;
}

static int open_at_depth(const char *path, const struct rp_image_source *src,
			 const struct rp_image_opts *opts, unsigned depth,
			 const struct rp_image *below, struct rp_image **out, struct rp_err *err)
{
	struct rp_image *img;
	bool refused = false;
	int rc;

	img = calloc(1, sizeof(*img));
	if (!img)
		return rp_err_set(err, RP_EIO, "out of memory");
	img->fd = -1;
	img->depth = depth;
	img->below = below;
	img->readable = true;
	img->ignore_checksums = opts && opts->ignore_checksums;
	img->sector_size = 512;
	rp_problems_init(&img->problems);
	img->path = strdup(path);
	if (!img->path) {
		rc = rp_err_set(err, RP_EIO, "out of memory");
		goto fail;
	}
	if (src) {
		img->src = src;
		img->file_size = src->size;
		img->allocated = src->size;
	} else {
		rc = open_file(img, path, err);
		if (rc)
			goto fail;
	}
	rc = detect(img, &refused, err);
	if (rc == 0 && src && img->format != RP_IMAGE_RAW && img->format != RP_IMAGE_VHD_FIXED) {
		rc = rp_err_set(err, RP_EUSAGE,
				"'%s' is not a raw disk or a fixed VHD: restore it to a file first",
				img->path);
		goto fail;
	}
	if (rc == RP_EFORMAT && !refused && opts && opts->keep_unreadable) {
		image_problem(img, true, false, err);
		*out = img;
		return 0;
	}
	if (rc)
		goto fail;
	switch (img->format) {
	case RP_IMAGE_RAW:
		img->virtual_size = img->file_size;
		if (img->allocated > img->virtual_size)
			img->allocated = img->virtual_size;
		break;
	case RP_IMAGE_VHDX:
		rc = image_vhdx_open(img, opts, err);
		break;
	default:
		rc = image_vhd_open(img, opts, err);
		break;
	}
	if (rc)
		goto fail;
	if (!img->readable && !(opts && opts->keep_unreadable)) {
		/* The first fatal problem is the error the user sees. */
		size_t i;
		for (i = 0; i < img->problems.n; i++) {
			if (img->problems.v[i].code != RP_OK) {
				rc = rp_err_set_hint(err, img->problems.v[i].code,
						     img->problems.v[i].hint, "%s",
						     img->problems.v[i].msg);
				break;
			}
		}
		if (i == img->problems.n)
			rc = rp_err_set(err, RP_EFORMAT, "image is unreadable");
		goto fail;
	}
	*out = img;
	return 0;
fail:
	rp_image_free(img);
	return rc;
}

int rp_image_open(const char *path, const struct rp_image_opts *opts, struct rp_image **out,
		  struct rp_err *err)
{
	return open_at_depth(path, NULL, opts, 0, NULL, out, err);
}

int rp_image_open_source(const struct rp_image_source *src, const struct rp_image_opts *opts,
			 struct rp_image **out, struct rp_err *err)
{
	if (opts && opts->parent_count)
		return rp_err_set(err, RP_EUSAGE, "'%s': a source read by callback has no parents",
				  src->name);
	return open_at_depth(src->name, src, opts, 0, NULL, out, err);
}

/* The name a differencing image gives its parent: the VHD header's unicode name, or the VHDX
 * parent locator's relative or absolute path. */
static const char *parent_name(const struct rp_image *child)
{
	static const char *const keys[] = {"relative_path", "absolute_win32_path", "volume_path"};
	size_t i, k;

	if (child->has_dyn && child->dyn.parent_name[0])
		return child->dyn.parent_name;
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		for (i = 0; i < child->vhdx.meta.parent_count; i++)
			if (strcmp(child->vhdx.meta.parent[i].key, keys[k]) == 0)
				return child->vhdx.meta.parent[i].value;
	return "(unnamed)";
}

int image_open_parent(struct rp_image *child, const struct rp_image_opts *opts, struct rp_err *err)
{
	struct rp_image_opts popts = {0};
	const struct rp_image *desc;
	unsigned depth = child->depth + 1;
	struct rp_image *p;
	const char *path;
	struct stat st;
	struct rp_err e;
	int rc;

	rp_err_init(&e);
	if (depth > RP_IMAGE_MAX_CHAIN) {
		rp_err_set(&e, RP_EFORMAT, "parent chain is deeper than %d images",
			   RP_IMAGE_MAX_CHAIN);
		return image_problem(child, true, false, &e);
	}
	if (!opts || child->depth >= opts->parent_count) {
		rp_err_set_hint(&e, RP_EFORMAT, RP_H_PARENT,
				"differencing disk needs its parent '%s'", parent_name(child));
		return image_problem(child, true, false, &e);
	}
	path = opts->parents[child->depth];
	/* A loop: the parent is this image or one that it is the parent of. Checked before the
	 * parent is opened, since opening it would go on up the chain. */
	if (stat(path, &st) == 0) {
		for (desc = child; desc; desc = desc->below) {
			if (desc->dev == st.st_dev && desc->ino == st.st_ino) {
				rp_err_set(&e, RP_EFORMAT,
					   "parent loop: '%s' is already in the chain as '%s'",
					   path, desc->path);
				return image_problem(child, true, false, &e);
			}
		}
	}
	popts = *opts;
	popts.keep_unreadable = false;
	rc = open_at_depth(path, NULL, &popts, depth, child, &p, &e);
	if (rc == RP_EIO)
		return rp_err_set(err, rc, "parent: %s", e.msg);
	if (rc) {
		/* Errors from further up the chain already name their parent. */
		if (strncmp(e.msg, "parent", 6) != 0)
			rp_err_prefix(&e, "parent '%s'", path);
		return image_problem(child, true, false, &e);
	}
	child->parent = p;
	return 0;
}

void rp_image_free(struct rp_image *img)
{
	if (!img)
		return;
	image_vhd_release(img);
	image_vhdx_release(img);
	rp_image_free(img->parent);
	if (img->fd >= 0)
		close(img->fd);
	rp_problems_release(&img->problems);
	free(img->path);
	free(img);
}

bool rp_image_readable(const struct rp_image *img)
{
	return img->readable;
}

enum rp_image_format rp_image_format(const struct rp_image *img)
{
	return img->format;
}

const char *rp_image_format_name(const struct rp_image *img)
{
	switch (img->format) {
	case RP_IMAGE_RAW:
		return "raw";
	case RP_IMAGE_VHD_FIXED:
		return "vhd-fixed";
	case RP_IMAGE_VHD_DYNAMIC:
		return "vhd-dynamic";
	case RP_IMAGE_VHD_DIFF:
		return "vhd-differencing";
	case RP_IMAGE_VHDX:
		return "vhdx";
	}
	return "unknown";
}

uint64_t rp_image_virtual_size(const struct rp_image *img)
{
	return img->virtual_size;
}

uint64_t rp_image_file_size(const struct rp_image *img)
{
	return img->file_size;
}

uint32_t rp_image_sector_size(const struct rp_image *img)
{
	return img->sector_size;
}

const char *rp_image_path(const struct rp_image *img)
{
	return img->path;
}

const struct rp_problems *rp_image_problems(const struct rp_image *img)
{
	return &img->problems;
}

int rp_image_read(struct rp_image *img, void *buf, size_t len, uint64_t off, struct rp_err *err)
{
	if (!img->readable)
		return rp_err_set(err, RP_EFORMAT, "'%s' is unreadable", img->path);
	if (off > img->virtual_size || len > img->virtual_size - off)
		return rp_err_set(err, RP_EUSAGE,
				  "read of %zu bytes at 0x%llx is past the end (%llu)", len,
				  (unsigned long long)off, (unsigned long long)img->virtual_size);
	switch (img->format) {
	case RP_IMAGE_RAW:
	case RP_IMAGE_VHD_FIXED:
		return image_pread(img, buf, len, off, err);
	case RP_IMAGE_VHDX:
		return image_vhdx_read(img, buf, len, off, err);
	default:
		return image_vhd_read(img, buf, len, off, err);
	}
}

/* Raw and fixed VHD: ask the file system where the holes are. */
static int file_extent(struct rp_image *img, uint64_t off, bool *allocated, uint64_t *run,
		       struct rp_err *err)
{
	uint64_t end = img->virtual_size;
	off_t data, hole;

	(void)err;
	if (img->src) {
		*allocated = true;
		*run = end - off;
		return 0;
	}
	data = lseek(img->fd, (off_t)off, SEEK_DATA);
	if (data < 0 && errno == ENXIO) {
		/* No data from off to the end of the file. */
		*allocated = false;
		*run = end - off;
		return 0;
	}
	if (data < 0) {
		/* No SEEK_DATA here (a block device, an old file system): all allocated. */
		*allocated = true;
		*run = end - off;
		return 0;
	}
	if ((uint64_t)data > off) {
		*allocated = false;
		*run = ((uint64_t)data < end ? (uint64_t)data : end) - off;
		return 0;
	}
	hole = lseek(img->fd, (off_t)off, SEEK_HOLE);
	*allocated = true;
	*run = (hole < 0 || (uint64_t)hole > end ? end : (uint64_t)hole) - off;
	if (*run == 0)
		*run = end - off;
	return 0;
}

int rp_image_extent(struct rp_image *img, uint64_t off, bool *allocated, uint64_t *run,
		    struct rp_err *err)
{
	if (!img->readable)
		return rp_err_set(err, RP_EFORMAT, "'%s' is unreadable", img->path);
	if (off >= img->virtual_size)
		return rp_err_set(err, RP_EUSAGE, "extent at 0x%llx is past the end (%llu)",
				  (unsigned long long)off, (unsigned long long)img->virtual_size);
	switch (img->format) {
	case RP_IMAGE_RAW:
	case RP_IMAGE_VHD_FIXED:
		return file_extent(img, off, allocated, run, err);
	case RP_IMAGE_VHDX:
		return image_vhdx_extent(img, off, allocated, run, err);
	default:
		return image_vhd_extent(img, off, allocated, run, err);
	}
}
