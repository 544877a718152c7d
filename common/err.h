/*
 * Error reporting shared by every layer.
 *
 * Functions that can fail return 0 or one of the negative RP_E* codes below; the code says which
 * class of failure it is (the command line maps it to an exit code as -code). Functions whose
 * failure a user sees also take a `struct rp_err *` (last parameter, may be NULL): the root cause
 * fills it once with rp_err_set() and each caller may prepend context with rp_err_prefix(), so
 * the final text reads "chunk 17 at 0x4400000: sha256 mismatch (...)".
 *
 * Messages never contain secrets; callers format only public values into them.
 * Not thread-safe per object: give each thread its own struct rp_err.
 */
#ifndef RP_COMMON_ERR_H
#define RP_COMMON_ERR_H

#include <stddef.h>

enum rp_code {
	RP_OK = 0,
	RP_EVERIFY = -1, /* data, a digest or a key was checked and found wrong */
	RP_EUSAGE = -2,	 /* the caller asked for something invalid */
	RP_EFORMAT = -3, /* malformed or unsupported input */
	RP_EIO = -4,	 /* I/O or network failure, out of memory */
	RP_EAUTH = -5,	 /* authentication, authorization or key access */
	RP_EINTR = -130, /* interrupted by a signal */
};

#define RP_ERR_MSG_MAX 1024

struct rp_err {
	int code;
	char msg[RP_ERR_MSG_MAX];
};

void rp_err_init(struct rp_err *err);

/* Set err (if not NULL) to code and the formatted message; returns code. */
int rp_err_set(struct rp_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepend "<formatted>: " to the message already in err (if not NULL). */
void rp_err_prefix(struct rp_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set err from errno value e with the context text; returns RP_EIO. */
int rp_err_errno(struct rp_err *err, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The exit code the command line uses for a code returned by a library function. */
int rp_code_exit(int code);

#endif
