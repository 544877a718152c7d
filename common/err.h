/*
 * Error reporting shared by every layer.
 *
 * Functions that can fail return 0 or one of the negative RP_E* codes below; the code says which
 * class of failure it is (the command line maps it to an exit code as -code). Functions whose
 * failure a user sees also take a `struct rp_err *` (last parameter, may be NULL): the root cause
 * fills it once with rp_err_set() and each caller may prepend context with rp_err_prefix(), so
 * the final text reads "chunk 17 at 0x4400000: sha256 mismatch (...)".
 *
 * The code is the class; a reason (enum rp_reason) says which check failed, for reports and
 * scripts. It is set where the failure starts (rp_err_set_reason), survives rp_err_prefix, and
 * is never inferred from the message text. Without one, rp_err_reason_of() derives the generic
 * reason of the code.
 *
 * A hint (enum rp_hint, rp_err_set_hint) likewise names what the caller could change; the
 * command line says it in the words of its options. Both survive rp_err_prefix.
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

/* Which check failed. Names (rp_reason_name) are the report's "reasons[].code" words. */
enum rp_reason {
	RP_R_NONE = 0,	     /* not said: derived from the code */
	RP_R_SEAL_MISMATCH,  /* bytes differ from what the seal recorded */
	RP_R_TRANSPORT_HASH, /* the service's CRC-64 or Content-MD5 does not match the bytes */
	RP_R_DECRYPT_TAG,    /* client-side encryption: the AES-GCM tag does not authenticate */
	RP_R_SOURCE_CHANGED, /* the blob's ETag or Last-Modified changed during the run */
	RP_R_FOOTER,	     /* a VHD footer is missing, malformed or disagrees */
	RP_R_FORMAT,	     /* other malformed or unsupported input */
	RP_R_AUTH,	     /* authentication, authorization or key access */
	RP_R_TLS,	     /* the TLS handshake or certificate check failed */
	RP_R_IO,	     /* local I/O, network transport, out of memory */
	RP_R_INTERRUPTED,    /* a signal stopped the run */
	RP_R_USAGE,	     /* the caller asked for something invalid */
	RP_R_COUNT
};

/*
 * What the caller could change to get past a failure: an option of the library's that the
 * failure names. The library states the fact in the message; the command line turns the hint
 * into the words of its own options (cli/cli_util.c), so no library message names a flag.
 */
enum rp_hint {
	RP_H_NONE = 0,
	RP_H_KEK,	      /* give a key encryption key (a file or a key vault key) */
	RP_H_KEK_PASS,	      /* give the passphrase of an encrypted private key */
	RP_H_WRAP_ALG,	      /* say which algorithm wrapped the key */
	RP_H_ALLOW_RSA1_5,    /* allow the legacy RSA1_5 key wrap */
	RP_H_TOKEN,	      /* give a credential for a bearer token */
	RP_H_ONE_TOKEN,	      /* give only one kind of credential */
	RP_H_PRIVATE_CIDR,    /* declare the address private (private addresses are required) */
	RP_H_CREATE_BLOB,     /* create a new page blob instead of writing into one */
	RP_H_OUTSIDE_SOURCES, /* allow a descriptor's local sources outside its folder */
	RP_H_FORCE,	      /* allow replacing an existing output */
	RP_H_FORMAT_RAW,      /* ask for a raw output (the source has no VHD footer) */
	RP_H_TH_CRC64,	      /* the CRC-64 transport hash was asked for: choose another */
	RP_H_TH_MD5,	      /* the MD5 transport hash was asked for: choose another */
	RP_H_TH_CHUNK,	      /* chunks above 4 MiB: a smaller chunk or no transport hashes */
	RP_H_CHUNK_LARGER,    /* too many chunks: a larger chunk size */
	RP_H_SEAL_CHUNK,      /* seal again with the chunk size the message names */
	RP_H_LUKS_ENCRYPTED,  /* the LUKS checks read stored bytes: check a restored copy */
	RP_H_NO_SPACE_CHECK,  /* skip the free-space check */
	RP_H_RESOLVE,	      /* pin the name to an address */
	RP_H_CACERT,	      /* trust another certificate authority */
	RP_H_KEY_FILE,	      /* read the file as a key file: every byte */
	RP_H_PARENT,	      /* give the parent of a differencing image */
	RP_H_ACCESS_JSON,     /* give a disk's access answer (hint_value: the disk's name) */
	RP_H_COUNT
};

#define RP_ERR_MSG_MAX 1024

struct rp_err {
	int code;
	enum rp_reason reason;
	enum rp_hint hint;
	char hint_value[256]; /* what the hint is about (a disk's name), or "" */
	char msg[RP_ERR_MSG_MAX];
};

void rp_err_init(struct rp_err *err);

/* Set err (if not NULL) to code and the formatted message; returns code. */
int rp_err_set(struct rp_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* rp_err_set() that also records which check failed; returns code. */
int rp_err_set_reason(struct rp_err *err, int code, enum rp_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* rp_err_set() that also says what the caller could change (enum rp_hint); returns code. */
int rp_err_set_hint(struct rp_err *err, int code, enum rp_hint hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Add hint to the failure already in err (if not NULL), e.g. after rp_err_set_reason. */
void rp_err_hint(struct rp_err *err, enum rp_hint hint);

/* Add hint about value (a name the command line puts into its words, cut to fit). */
void rp_err_hint_value(struct rp_err *err, enum rp_hint hint, const char *value);

/* The reason recorded in err, or the generic one of its code (RP_R_NONE for RP_OK). */
enum rp_reason rp_err_reason_of(const struct rp_err *err);

/* The generic reason of a code: RP_EVERIFY -> RP_R_SEAL_MISMATCH, RP_EFORMAT -> RP_R_FORMAT... */
enum rp_reason rp_reason_of_code(int code);

/* The report word of a reason ("seal-mismatch", "transport-hash", ...). */
const char *rp_reason_name(enum rp_reason r);

/* Prepend "<formatted>: " to the message already in err (if not NULL). */
void rp_err_prefix(struct rp_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set err from errno value e with the context text; returns RP_EIO. */
int rp_err_errno(struct rp_err *err, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The exit code the command line uses for a code returned by a library function. */
int rp_code_exit(int code);

#endif
