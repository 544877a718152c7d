/*
 * Build a recovery point descriptor (formats/descriptor.h) from the documents Azure hands out:
 *
 * - the answer of a disk (or disk restore point) beginGetAccess: {"accessSAS": "...",
 *   "securityDataAccessSAS": "...", "securityMetadataAccessSAS": "..."}, either as the final
 *   AccessUri or wrapped as the async operation result {"properties": {"output": {...}}};
 * - the config blob Azure Backup "restore disks" writes (config-<vm>-<jobid>.json): the VM
 *   resource serialized with flattened keys ("properties.storageProfile", ...), as UTF-16 with a
 *   BOM and trailing NULs (UTF-16BE and UTF-8 are accepted too).
 *
 * Both are pure: bytes in, descriptor out. Key names are matched without regard to case (Azure
 * writes "accessSAS", the Azure CLI prints "accessSas"; PowerShell, which Microsoft's examples
 * read the config blob with, ignores case too). SAS values are never put into messages.
 */
#ifndef RP_FORMATS_RP_IMPORT_H
#define RP_FORMATS_RP_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "formats/descriptor.h"

#define RP_IMPORT_MAX_BYTES (16u * 1024 * 1024) /* larger input documents are refused */

/*
 * What the caller knows about the VM. Strings may be NULL, enums 0 (unknown). For a
 * beginGetAccess answer, which names no VM, id, name and os_type are required. For a backup
 * config, the blob's values win and the caller's fill what the blob does not say.
 */
struct rp_import_vm {
	const char *id;	     /* descriptor id (required) */
	const char *created; /* "YYYY-MM-DDTHH:MM:SSZ"; NULL: the current time */
	const char *name;
	enum rp_os_type os_type;
	enum rp_hyperv_gen hyperv_generation;
	enum rp_security_type security_type;
	const char *size;
	const char *location;
	/* beginGetAccess only: the disk */
	const char *disk_name;	     /* NULL: "osdisk" or "datadisk" */
	enum rp_disk_role disk_role; /* 0: os when a security SAS is present, else data */
	bool has_lun;		     /* a data disk's LUN, if known */
	int lun;
};

/*
 * One disk from a beginGetAccess answer json[0..len), plus guest_state from
 * securityDataAccessSAS and vm_metadata from securityMetadataAccessSAS. RP_EUSAGE if vm lacks
 * a required field, RP_EFORMAT for a bad answer ("beginGetAccess answer: accessSAS is missing").
 */
int rp_import_get_access(const char *json, size_t len, const struct rp_import_vm *vm,
			 struct rp_descriptor **out, struct rp_err *err);

/* The beginGetAccess answer of one disk that a backup restore created as a managed disk. */
struct rp_import_access {
	const char *disk; /* the disk's name in the config, or its managed disk id (or the id's last
			   * segment); NULL: the config's only disk */
	const char *json; /* the answer, as for rp_import_get_access */
	size_t len;
};

/*
 * The VM and its disks from an Azure Backup config blob buf[0..len): VM name, size, location,
 * OS type, each disk's name and (data disks) LUN, the security type from
 * properties.securityProfile and the OS disk's managedDisk.securityProfile, and the disk
 * encryption set named there. A disk restored to the staging account has its VHD URI in the
 * config (vhd.uri); a disk restored as a managed disk (every CVM's) has none, and its source,
 * guest state and VM metadata come from the access answer in acc[0..nacc) matched to it by
 * name or id. A managed disk without an answer, an answer that matches no disk or two, and an
 * answer for a disk that has a VHD URI are RP_EUSAGE naming the disk. RP_EFORMAT naming the key
 * for a bad document ("backup config: properties.storageProfile.dataDisks[1].lun is missing").
 */
int rp_import_backup_config(const uint8_t *buf, size_t len, const struct rp_import_vm *vm,
			    const struct rp_import_access *acc, size_t nacc,
			    struct rp_descriptor **out, struct rp_err *err);

#endif
