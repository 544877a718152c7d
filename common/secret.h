/*
 * Buffers for key material: allocated, locked in memory where the system allows it (so they are
 * not swapped out), and wiped before they are freed. A locking failure is not an error (an
 * unprivileged process may have a small RLIMIT_MEMLOCK); the buffer is still wiped.
 */
#ifndef RP_COMMON_SECRET_H
#define RP_COMMON_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct rp_secret {
	uint8_t *p; /* len bytes, plus one NUL after them (so text secrets are C strings) */
	size_t len;
	size_t cap; /* bytes allocated (>= len + 1) */
	bool locked;
};

/* Allocate cap bytes (zeroed), len 0. RP_EIO if memory runs out. */
int rp_secret_alloc(struct rp_secret *s, size_t cap, struct rp_err *err);

/* Allocate and copy len bytes of p. */
int rp_secret_dup(struct rp_secret *s, const void *p, size_t len, struct rp_err *err);

/* Wipe, unlock and free; the struct is zeroed. NULL pointer inside: no-op. */
void rp_secret_free(struct rp_secret *s);

/* Wipe len bytes (explicit_bzero: never optimised away). */
void rp_wipe(void *p, size_t len);

/*
 * Read a whole file (at most max bytes) into a secret. Errors name the path and the reason,
 * never the content: RP_EUSAGE for a missing/unreadable file or one larger than max.
 */
int rp_secret_read_file(const char *path, size_t max, struct rp_secret *s, struct rp_err *err);

#endif
