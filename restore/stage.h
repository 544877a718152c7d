/*
 * stage: a recovery point's disks as an Azure-ready set for re-creating the VM by hand
 * (docs/staging.md). Each chosen disk is restored (rp_restore_run for a URL; rp_convert for a
 * local file, checked against its seal) into DIR as a fixed VHD of N MiB + 512 bytes — a
 * virtual size that is not a whole MiB is rounded up with zeros, as `cvmrestore convert` does —
 * then verified by reading the staged file back (against the seal where the sizes agree) and
 * hashed. The guest state and VM metadata blobs are restored beside it. Then DIR gets
 * disks.json, vm.json, restore.sh and, last, STAGED.txt: a set without STAGED.txt is not
 * complete (an existing STAGED.txt is removed first).
 *
 * Sources may hold SAS tokens: nothing written into DIR and no message contains one.
 * Single-threaded (the restores use their own threads).
 */
#ifndef RP_RESTORE_STAGE_H
#define RP_RESTORE_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "formats/descriptor.h"
#include "restore/restore.h"

#define RP_STAGE_MAX_WARNINGS 32
#define RP_STAGE_DISK_API "2023-10-02"
#define RP_STAGE_VM_API "2024-03-01"

struct rp_stage_opts {
	const char *out_dir;
	const char *const *disks; /* names to stage; ndisks 0: every disk */
	size_t ndisks;
	const char *resource_group; /* NULL: a placeholder in restore.sh */
	const char *location;	    /* NULL: vm.location, else the resource group's */
	const char *name_prefix;    /* NULL: "<vm name>-" */
	const char *zone;
	const char *sku;    /* NULL: Premium_LRS; see rp_stage_disk_sku for the OS disk */
	const char *des_id; /* disk encryption set for the customer-key CVM type */
	bool assumed_vm;    /* the VM properties were assumed (a single disk as SOURCE) */
	/* for URL sources: transport, credentials, engine, progress and stop */
	struct rp_restore_opts run;
};

struct rp_stage_item {
	char name[RP_DESC_NAME_MAX];
	char file[512]; /* file name inside out_dir */
	enum { RP_STAGE_DISK, RP_STAGE_GUEST_STATE, RP_STAGE_VM_METADATA } kind;
	enum rp_disk_role role;
	int lun;	   /* data disks: the LUN used (assigned if the descriptor had none) */
	char source[1024]; /* without secrets */
	uint64_t file_size;
	uint64_t virtual_size;	 /* disks: the staged virtual size (N MiB) */
	uint64_t source_virtual; /* disks: before rounding up */
	char sha256[65];	 /* disks: of the virtual disk; others: of the file */
	bool sealed;		 /* compared with the seal while restoring */
	char seal_sha256[65];	 /* the seal's whole-disk sha256, or "" */
};

struct rp_stage_result {
	struct rp_stage_item *items;
	size_t nitems;
	char warnings[RP_STAGE_MAX_WARNINGS][512];
	size_t nwarnings;
	bool secure_upload; /* the OS disk goes up with its guest state (UploadPreparedSecure) */
	double seconds;
};

/*
 * Stage the disks of d (sources already resolved to URLs or paths) into o->out_dir. The result
 * is filled as far as it got; release it with rp_stage_result_release.
 */
int rp_stage_run(const struct rp_descriptor *d, const struct rp_stage_opts *o,
		 struct rp_stage_result *res, struct rp_err *err);
void rp_stage_result_release(struct rp_stage_result *res);

/* restore/stage_templates.c: the staged set's files and the Azure rules they follow. */

/*
 * Write disks.json, vm.json and restore.sh for the staged items into o->out_dir (STAGED.txt is
 * rp_stage_write_summary's). Used by rp_stage_run; separate so that tests can call it.
 */
int rp_stage_write_templates(const struct rp_descriptor *d, const struct rp_stage_opts *o,
			     struct rp_stage_result *res, struct rp_err *err);
int rp_stage_write_summary(const struct rp_descriptor *d, const struct rp_stage_opts *o,
			   const struct rp_stage_result *res, struct rp_err *err);

/* The VM's securityEncryptionType for a disk security type, or NULL (none, TrustedLaunch). */
const char *rp_stage_encryption_type(enum rp_security_type t);

/* True for the ConfidentialVM_* types. */
bool rp_stage_is_cvm(enum rp_security_type t);

/*
 * The SKU a disk of this role is created with: o->sku (default Premium_LRS), except that an OS
 * disk cannot be an Ultra Disk or a Premium SSD v2 (Azure allows them as data disks only): the
 * OS disk then stays Premium_LRS, and rp_stage_run warns.
 */
const char *rp_stage_disk_sku(const struct rp_stage_opts *o, enum rp_disk_role role);

#endif
