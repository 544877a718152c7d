/* The versions of the libraries the verify layer links (common/version.h). */
#ifndef RP_VERIFY_VERSION_H
#define RP_VERIFY_VERSION_H

#include "common/version.h"

/*
 * OpenSSL as loaded, and libcryptsetup as built against (it has no run-time version call);
 * returns how many of out[0..max) it filled.
 */
size_t rp_verify_versions(struct rp_libversion *out, size_t max);

#endif
