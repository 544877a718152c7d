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

/*
 * The VM and its disks from an Azure Backup config blob buf[0..len): VM name, size, location,
 * OS type, the OS disk's VHD URI and each data disk's LUN and VHD URI, and the security type
 * from properties.securityProfile. RP_EFORMAT naming the key ("backup config:
 * properties.storageProfile.dataDisks[1].lun is missing").
 */
int rp_import_backup_config(const uint8_t *buf, size_t len, const struct rp_import_vm *vm,
			    struct rp_descriptor **out, struct rp_err *err);

#endif
