/*
 * The recovery point descriptor (docs/recovery-point.md): our own JSON description of one VM at
 * one time — its properties, its disks with their sources and (once sealed) their seals, and
 * the CVM guest-state and VM-metadata blobs.
 *
 * Sources are kept verbatim: a source may be a URL with a SAS token, so it is a secret. It is
 * never formatted into a message (messages name the disk instead), it is wiped when the
 * descriptor is freed, and rp_descriptor_write() creates the file with mode 0600.
 *
 * Parsing is pure (text or an rp_json tree in, struct out) and strict: every member is checked
 * for presence and type, and messages name it ("descriptor: disks[1].role: 'foo' is not os or
 * data"). Unknown members are ignored (forward compatibility, as in the seal). A descriptor is
 * not thread-safe to modify; a finished one may be read from many threads.
 */
#ifndef RP_FORMATS_DESCRIPTOR_H
#define RP_FORMATS_DESCRIPTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/json.h"
#include "formats/seal.h"

#define RP_DESC_FORMAT "cvmrestore-recovery-point"
#define RP_DESC_VERSION 1
#define RP_DESC_MAX_BYTES (1024u * 1024 * 1024) /* a larger descriptor file is refused */
#define RP_DESC_MAX_DISKS 256
#define RP_DESC_NAME_MAX 256	/* names: 1..255 bytes */
#define RP_DESC_SOURCE_MAX 8192 /* sources: 1..8191 bytes */
#define RP_DESC_MAX_LUN 63	/* Azure data disk LUNs are 0..63 */

enum rp_os_type { RP_OS_LINUX = 1, RP_OS_WINDOWS = 2 };

enum rp_hyperv_gen { RP_HYPERV_UNKNOWN = 0, RP_HYPERV_V1 = 1, RP_HYPERV_V2 = 2 };

/* Disk securityProfile.securityType values (Azure); NONE is JSON null. */
enum rp_security_type {
	RP_SECURITY_NONE = 0,
	RP_SECURITY_TRUSTED_LAUNCH,
	RP_SECURITY_CVM_GUEST_STATE_PMK, /* ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey
					  */
	RP_SECURITY_CVM_DISK_PMK,	 /* ConfidentialVM_DiskEncryptedWithPlatformKey */
	RP_SECURITY_CVM_DISK_CMK,	 /* ConfidentialVM_DiskEncryptedWithCustomerKey */
	RP_SECURITY_CVM_NON_PERSISTED_TPM, /* ConfidentialVM_NonPersistedTPM */
};

enum rp_disk_role { RP_DISK_OS = 1, RP_DISK_DATA = 2 };

/* The JSON names ("Linux", "V2", "TrustedLaunch", "os"); NULL for NONE/UNKNOWN or bad values. */
const char *rp_os_type_name(enum rp_os_type t);
const char *rp_hyperv_gen_name(enum rp_hyperv_gen g);
const char *rp_security_type_name(enum rp_security_type t);
const char *rp_disk_role_name(enum rp_disk_role r);

/* The value named s (exact, case-sensitive); 0 or RP_EFORMAT (no message: callers add it). */
int rp_security_type_from_name(const char *s, enum rp_security_type *out);

/* A blob that is not a disk: the guest state (_vmgs) or the VM metadata (_vmmd). */
struct rp_desc_blob {
	char *source; /* NULL: absent (JSON null); a secret when it holds a SAS */
	bool has_size;
	uint64_t size;
};

struct rp_desc_disk {
	char name[RP_DESC_NAME_MAX];
	enum rp_disk_role role;
	int lun;      /* -1: none (JSON null); always -1 for the os disk */
	char *source; /* URL or path, verbatim; a secret */
	bool has_size;
	uint64_t size;	      /* bytes of the source (blob Content-Length or file size) */
	struct rp_seal *seal; /* NULL: not sealed yet; owned */
};

struct rp_desc_vm {
	char name[RP_DESC_NAME_MAX];
	enum rp_os_type os_type;
	enum rp_hyperv_gen hyperv_generation; /* UNKNOWN is JSON null */
	enum rp_security_type security_type;
	char size[64];	   /* "" is JSON null */
	char location[64]; /* "" is JSON null */
	/* the disk encryption set of a customer-key CVM disk (an ARM resource id); "" is null */
	char disk_encryption_set[512];
};

struct rp_descriptor {
	unsigned version;
	char id[128];
	char created[32];
	struct rp_desc_vm vm;
	struct rp_desc_disk *disks;
	size_t ndisks;
	struct rp_desc_blob guest_state;
	struct rp_desc_blob vm_metadata;
};

/* An empty descriptor (version 1, no disks); RP_EIO when out of memory. */
int rp_descriptor_new(struct rp_descriptor **out, struct rp_err *err);

/* Free d, its disks and seals, wiping every source first. NULL is a no-op. */
void rp_descriptor_free(struct rp_descriptor *d);

/*
 * Append a disk (name and source are copied; lun -1 for none). Checks the name, source and lun
 * by themselves (RP_EUSAGE); the rules between disks are rp_descriptor_check()'s.
 */
int rp_descriptor_add_disk(struct rp_descriptor *d, const char *name, enum rp_disk_role role,
			   int lun, const char *source, struct rp_err *err);

/* Set a blob's source (copied; the old one is wiped) and size (has_size false: unknown). */
int rp_desc_blob_set(struct rp_desc_blob *b, const char *source, bool has_size, uint64_t size,
		     struct rp_err *err);

/*
 * Check the whole descriptor: field values, disk names unique, at most one os disk, the os disk
 * without a lun, data disk LUNs unique. RP_EFORMAT with the same messages the parser gives.
 */
int rp_descriptor_check(const struct rp_descriptor *d, struct rp_err *err);

/* Validate a parsed JSON tree (only read) and build the descriptor from it. */
int rp_descriptor_from_json(const struct rp_json *root, struct rp_descriptor **out,
			    struct rp_err *err);

/* Parse descriptor JSON text[0..len). */
int rp_descriptor_parse(const char *text, size_t len, struct rp_descriptor **out,
			struct rp_err *err);

/* Read and parse a descriptor file (at most RP_DESC_MAX_BYTES); messages start with its name. */
int rp_descriptor_load(const char *path, struct rp_descriptor **out, struct rp_err *err);

/* The descriptor as JSON (owned by the caller); RP_EFORMAT for one rp_descriptor_check refuses. */
int rp_descriptor_to_json(const struct rp_descriptor *d, struct rp_json **out, struct rp_err *err);

/* Write d to path atomically (a new temporary file, fsync, rename; common/outfile.h) with mode
 * 0600: it holds SAS tokens. */
int rp_descriptor_write(const char *path, const struct rp_descriptor *d, struct rp_err *err);

/*
 * The local file a source of the descriptor at desc_path names (malloc'd into *out; a URL is
 * returned as it is). A relative path is taken from the descriptor's folder and must stay in
 * it: an absolute path, a ".." component, or a path that resolves (symbolic links followed)
 * outside the folder is RP_EUSAGE, unless allow_outside (the operator's explicit choice,
 * --allow-outside-sources). *out is the source joined to desc_path's folder as it was given.
 * The message never quotes the source (the caller names the disk).
 */
int rp_descriptor_local_source(const char *desc_path, const char *source, bool allow_outside,
			       char **out, struct rp_err *err);

#endif
