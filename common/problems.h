/*
 * A list of problems found while checking an input. Checks that can go on after a failure
 * record a problem here instead of stopping, so that `inspect` lists every problem at once.
 *
 * Each problem has a class (the RP_E* code it would fail with), a flag telling whether it is a
 * checksum problem (which --ignore-checksums lets a reader go past) and a message naming the
 * field and its offset. Not thread-safe.
 */
#ifndef RP_COMMON_PROBLEMS_H
#define RP_COMMON_PROBLEMS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct rp_problem {
	int code;
	bool checksum;
	enum rp_hint hint; /* what the caller could change (common/err.h), or RP_H_NONE */
	char msg[RP_ERR_MSG_MAX];
};

struct rp_problems {
	struct rp_problem *v;
	size_t n;
	size_t cap;
};

void rp_problems_init(struct rp_problems *p);
void rp_problems_release(struct rp_problems *p);

/* Append a problem; returns 0, or RP_EIO when out of memory (the problem is then lost). */
int rp_problems_add(struct rp_problems *p, int code, bool checksum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Append the message and code held by err. */
int rp_problems_add_err(struct rp_problems *p, const struct rp_err *err, bool checksum);

#endif
