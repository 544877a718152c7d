/*
 * The versions of the third-party libraries a layer links, for `cvmrestore --version`. Each
 * layer that links a library reports it from its own version.c (common: jansson; formats:
 * libvhdi, zlib, expat; verify: OpenSSL, libcryptsetup; net: libcurl), so the call stays in
 * the layer that includes the library's header.
 */
#ifndef RP_COMMON_VERSION_H
#define RP_COMMON_VERSION_H

#include <stdbool.h>
#include <stddef.h>

struct rp_libversion {
	const char *name;    /* e.g. "jansson" */
	const char *version; /* e.g. "2.14" */
	bool built;	     /* true: the version built against (the library cannot tell its own) */
};

/* Fill out[0..max) with this layer's libraries; returns how many it filled. */
size_t rp_common_versions(struct rp_libversion *out, size_t max);

#endif
