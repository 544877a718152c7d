/* The version of the library the net layer links (common/version.h). */
#ifndef RP_NET_VERSION_H
#define RP_NET_VERSION_H

#include "common/version.h"

/* libcurl as loaded; returns how many of out[0..max) it filled. */
size_t rp_net_versions(struct rp_libversion *out, size_t max);

#endif
