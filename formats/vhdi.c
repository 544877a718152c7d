#include "formats/vhdi.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libvhdi.h>

#define VHDI_MAX_HANDLES 64

struct vhdi_slot {
	libvhdi_file_t *file;
	bool busy;
};

struct rp_vhdi {
	char *path;
	struct rp_vhdi *parent;
	uint64_t media_size;
	uint32_t bytes_per_sector;
	enum rp_vhdi_disk_type disk_type;
	unsigned max_handles;
	unsigned count;
	struct vhdi_slot slot[VHDI_MAX_HANDLES];
	pthread_mutex_t lock;
	pthread_cond_t freed;
};

/* libvhdi's error chain into err, then release it. Each line of the backtrace names a layer;
 * the last line is the root cause, which is all a user needs. */
static int vhdi_error(struct rp_err *err, int code, libvhdi_error_t *e, const char *what)
{
	char text[1024] = "";
	char *last;

	if (e) {
		libvhdi_error_sprint(e, text, sizeof(text));
		libvhdi_error_free(&e);
	}
	last = strrchr(text, '\n');
	while (last && last[1] == '\0') {
		*last = '\0';
		last = strrchr(text, '\n');
	}
	return rp_err_set(err, code, "%s: libvhdi: %s", what, last ? last + 1 : text);
}

static void close_file(libvhdi_file_t **f)
{
	if (*f) {
		libvhdi_file_close(*f, NULL);
		libvhdi_file_free(f, NULL);
	}
}

/* Open one more handle (with the parent's first handle as its parent). */
static int open_handle(struct rp_vhdi *v, libvhdi_file_t **out, struct rp_err *err)
{
	libvhdi_file_t *f = NULL;
	libvhdi_error_t *e = NULL;

	if (libvhdi_file_initialize(&f, &e) != 1)
		return vhdi_error(err, RP_EIO, e, "cannot initialize");
	if (libvhdi_file_open(f, v->path, LIBVHDI_OPEN_READ, &e) != 1) {
		libvhdi_file_free(&f, NULL);
		return vhdi_error(err, RP_EFORMAT, e, "cannot open");
	}
	if (v->parent && libvhdi_file_set_parent_file(f, v->parent->slot[0].file, &e) != 1) {
		close_file(&f);
		return vhdi_error(err, RP_EFORMAT, e, "cannot set parent");
	}
	*out = f;
	return 0;
}

int rp_vhdi_open(const char *path, struct rp_vhdi *parent, unsigned max_handles,
		 struct rp_vhdi **out, struct rp_err *err)
{
	libvhdi_error_t *e = NULL;
	struct rp_vhdi *v;
	size64_t size = 0;
	int rc;

	v = calloc(1, sizeof(*v));
	if (!v)
		return rp_err_set(err, RP_EIO, "out of memory");
	v->path = strdup(path);
	v->parent = parent;
	/* A child's handles all share the parent's first handle, so a chain is read by one
	 * thread at a time. */
	if (parent || max_handles == 0)
		max_handles = 1;
	v->max_handles = max_handles > VHDI_MAX_HANDLES ? VHDI_MAX_HANDLES : max_handles;
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->freed, NULL);
	if (!v->path) {
		rc = rp_err_set(err, RP_EIO, "out of memory");
		goto fail;
	}
	rc = open_handle(v, &v->slot[0].file, err);
	if (rc)
		goto fail;
	v->count = 1;
	if (libvhdi_file_get_media_size(v->slot[0].file, &size, &e) != 1) {
		rc = vhdi_error(err, RP_EFORMAT, e, "cannot get media size");
		goto fail;
	}
	v->media_size = size;
	{
		uint32_t bps = 0, type = 0;

		if (libvhdi_file_get_bytes_per_sector(v->slot[0].file, &bps, &e) != 1) {
			rc = vhdi_error(err, RP_EFORMAT, e, "cannot get bytes per sector");
			goto fail;
		}
		if (libvhdi_file_get_disk_type(v->slot[0].file, &type, &e) != 1) {
			rc = vhdi_error(err, RP_EFORMAT, e, "cannot get disk type");
			goto fail;
		}
		v->bytes_per_sector = bps;
		v->disk_type = type == LIBVHDI_DISK_TYPE_FIXED		? RP_VHDI_FIXED
			       : type == LIBVHDI_DISK_TYPE_DYNAMIC	? RP_VHDI_DYNAMIC
			       : type == LIBVHDI_DISK_TYPE_DIFFERENTIAL ? RP_VHDI_DIFFERENCING
									: RP_VHDI_OTHER;
	}
	*out = v;
	return 0;
fail:
	rp_vhdi_free(v);
	return rc;
}

void rp_vhdi_free(struct rp_vhdi *v)
{
	unsigned i;

	if (!v)
		return;
	for (i = 0; i < v->count; i++)
		close_file(&v->slot[i].file);
	pthread_mutex_destroy(&v->lock);
	pthread_cond_destroy(&v->freed);
	free(v->path);
	free(v);
}

uint64_t rp_vhdi_media_size(const struct rp_vhdi *v)
{
	return v->media_size;
}

uint32_t rp_vhdi_bytes_per_sector(const struct rp_vhdi *v)
{
	return v->bytes_per_sector;
}

enum rp_vhdi_disk_type rp_vhdi_disk_type(const struct rp_vhdi *v)
{
	return v->disk_type;
}

const char *rp_vhdi_disk_type_name(enum rp_vhdi_disk_type t)
{
	switch (t) {
	case RP_VHDI_FIXED:
		return "fixed";
	case RP_VHDI_DYNAMIC:
		return "dynamic";
	case RP_VHDI_DIFFERENCING:
		return "differencing";
	default:
		return "unknown";
	}
}

static int acquire(struct rp_vhdi *v, unsigned *idx, struct rp_err *err)
{
	int rc = 0;
	unsigned i;

	pthread_mutex_lock(&v->lock);
	for (;;) {
		for (i = 0; i < v->count; i++) {
			if (!v->slot[i].busy) {
				v->slot[i].busy = true;
				*idx = i;
				goto out;
			}
		}
		if (v->count < v->max_handles) {
			i = v->count;
			rc = open_handle(v, &v->slot[i].file, err);
			if (rc == 0) {
				v->slot[i].busy = true;
				v->count++;
				*idx = i;
			}
			goto out;
		}
		pthread_cond_wait(&v->freed, &v->lock);
	}
out:
	pthread_mutex_unlock(&v->lock);
	return rc;
}

static void release(struct rp_vhdi *v, unsigned idx)
{
	pthread_mutex_lock(&v->lock);
	v->slot[idx].busy = false;
	pthread_cond_signal(&v->freed);
	pthread_mutex_unlock(&v->lock);
}

int rp_vhdi_read(struct rp_vhdi *v, void *buf, size_t len, uint64_t off, struct rp_err *err)
{
	libvhdi_error_t *e = NULL;
	uint8_t *p = buf;
	unsigned idx;
	int rc;

	rc = acquire(v, &idx, err);
	if (rc)
		return rc;
	while (len > 0) {
		size_t n = len > (64u << 20) ? (64u << 20) : len;
		ssize_t got =
		    libvhdi_file_read_buffer_at_offset(v->slot[idx].file, p, n, (off64_t)off, &e);
		if (got <= 0) {
			rc = vhdi_error(err, RP_EIO, e, "read failed");
			rp_err_prefix(err, "at 0x%llx", (unsigned long long)off);
			break;
		}
		p += got;
		off += (uint64_t)got;
		len -= (size_t)got;
	}
	release(v, idx);
	return rc;
}
