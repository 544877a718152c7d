/* The versions of the libraries the formats layer links (common/version.h). */
#ifndef RP_FORMATS_VERSION_H
#define RP_FORMATS_VERSION_H

#include "common/version.h"

/* libvhdi, zlib and expat, as loaded; returns how many of out[0..max) it filled. */
size_t rp_formats_versions(struct rp_libversion *out, size_t max);

#endif
