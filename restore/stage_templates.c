/*
 * The files of a staged set (docs/staging.md): disks.json and vm.json (ARM templates), restore.sh
 * (the commands in order, with placeholders that stop it until they are filled in) and
 * STAGED.txt. Each is written to a temporary file and renamed (common/outfile.h); STAGED.txt last.
 * No source URL (which may hold a SAS) is written: items carry redacted sources only.
 *
 * Also Azure's rules for the resources those files create (the VM's securityEncryptionType, the
 * SKU a disk gets): restore/stage.c calls down to them for its warnings; nothing here calls up
 * into stage.c.
 */
#include "restore/stage.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "common/outfile.h"
#include "common/util.h"

#define SCHEMA "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
#define PH_RG "<RESOURCE_GROUP>"
#define PH_LOCATION "<LOCATION>"
#define PH_NIC "<NETWORK_INTERFACE_ID>"
#define PH_DES "<DISK_ENCRYPTION_SET_ID>"
#define PH_SIZE "<VM_SIZE>"

bool rp_stage_is_cvm(enum rp_security_type t)
{
	return t == RP_SECURITY_CVM_GUEST_STATE_PMK || t == RP_SECURITY_CVM_DISK_PMK ||
	       t == RP_SECURITY_CVM_DISK_CMK || t == RP_SECURITY_CVM_NON_PERSISTED_TPM;
}

const char *rp_stage_encryption_type(enum rp_security_type t)
{
	switch (t) {
	case RP_SECURITY_CVM_GUEST_STATE_PMK:
		return "VMGuestStateOnly";
	case RP_SECURITY_CVM_DISK_PMK:
	case RP_SECURITY_CVM_DISK_CMK:
		return "DiskWithVMGuestState";
	case RP_SECURITY_CVM_NON_PERSISTED_TPM:
		return "NonPersistedTPM";
	default:
		return NULL;
	}
}

static bool data_only_sku(const char *sku)
{
	return sku &&
	       (strcasecmp(sku, "UltraSSD_LRS") == 0 || strcasecmp(sku, "PremiumV2_LRS") == 0);
}

const char *rp_stage_disk_sku(const struct rp_stage_opts *o, enum rp_disk_role role)
{
	if (!o->sku || (role == RP_DISK_OS && data_only_sku(o->sku)))
		return "Premium_LRS";
	return o->sku;
}

static const char *prefix_of(const struct rp_descriptor *d, const struct rp_stage_opts *o,
			     char *buf, size_t sz)
{
	if (o->name_prefix)
		return o->name_prefix;
	snprintf(buf, sz, "%s-", d->vm.name);
	return buf;
}

/*
 * A string from data (a descriptor, an Azure document, an option) as an ARM literal. ARM
 * evaluates a string that starts with '[' and ends with ']' as an expression, and reads "[[" at
 * the start of such a string as a literal '['; any other string is taken as it is. So a name
 * "[subscription().id]" is written "[[subscription().id]" and deploys as itself. Data is never
 * spliced into an expression: names reach expressions only as parameters (docs/staging.md).
 */
static struct rp_json *arm_literal(const char *s)
{
	size_t n = strlen(s);
	struct rp_json *j;
	char *esc;

	if (n < 2 || s[0] != '[' || s[n - 1] != ']')
		return rp_json_new_string(s);
	esc = malloc(n + 2);
	if (!esc)
		return NULL;
	esc[0] = '[';
	memcpy(esc + 1, s, n + 1);
	j = rp_json_new_string(esc);
	free(esc);
	return j;
}

/* The parameter that holds the name of the k-th disk (in item order): a fixed name, so that the
 * expressions that use it are the template's own. */
static void disk_param_name(size_t k, char *buf, size_t sz)
{
	snprintf(buf, sz, "diskName%zu", k);
}

static struct rp_json *param(const char *type, struct rp_json *def, const char *what)
{
	struct rp_json *p = rp_json_new_object(), *meta = rp_json_new_object();

	rp_json_set_str(p, "type", type);
	if (def)
		rp_json_set(p, "defaultValue", def);
	rp_json_set_str(meta, "description", what);
	rp_json_set(p, "metadata", meta);
	return p;
}

static struct rp_json *template_new(struct rp_json **params)
{
	struct rp_json *t = rp_json_new_object();

	rp_json_set_str(t, "$schema", SCHEMA);
	rp_json_set_str(t, "contentVersion", "1.0.0.0");
	*params = rp_json_new_object();
	return t;
}

static void common_params(const struct rp_descriptor *d, const struct rp_stage_opts *o,
			  struct rp_json *params, const char *prefix)
{
	const char *loc = o->location ? o->location : d->vm.location[0] ? d->vm.location : NULL;

	rp_json_set(params, "location",
		    param("string",
			  loc ? arm_literal(loc) : rp_json_new_string("[resourceGroup().location]"),
			  "Azure region of the disks and the VM"));
	rp_json_set(params, "namePrefix",
		    param("string", arm_literal(prefix), "prefix of every resource name"));
	if (d->vm.security_type == RP_SECURITY_CVM_DISK_CMK)
		rp_json_set(params, "diskEncryptionSetId",
			    param("string", o->des_id ? arm_literal(o->des_id) : NULL,
				  "resource id of the disk encryption set (customer key) for the "
				  "confidential OS disk"));
}

/* One parameter per disk, its name as the (escaped) default: the disks' names are data. */
static void disk_name_params(const struct rp_stage_result *res, struct rp_json *params)
{
	char pname[32], what[64];
	size_t i, k = 0;

	for (i = 0; i < res->nitems; i++) {
		if (res->items[i].kind != RP_STAGE_DISK)
			continue;
		disk_param_name(k, pname, sizeof(pname));
		snprintf(what, sizeof(what), "name of disk %zu after the prefix", k);
		rp_json_set(params, pname, param("string", arm_literal(res->items[i].name), what));
		k++;
	}
}

static struct rp_json *disk_id(size_t k)
{
	char expr[200], pname[32];

	disk_param_name(k, pname, sizeof(pname));
	snprintf(expr, sizeof(expr),
		 "[resourceId('Microsoft.Compute/disks', concat(parameters('namePrefix'), "
		 "parameters('%s')))]",
		 pname);
	return rp_json_new_string(expr);
}

static struct rp_json *disk_resource(const struct rp_descriptor *d, const struct rp_stage_opts *o,
				     const struct rp_stage_item *it, size_t k, bool secure)
{
	struct rp_json *r = rp_json_new_object(), *p = rp_json_new_object();
	struct rp_json *cd = rp_json_new_object(), *tags = rp_json_new_object();
	struct rp_json *sku = rp_json_new_object();
	bool os = it->role == RP_DISK_OS;
	char name[200], pname[32];

	disk_param_name(k, pname, sizeof(pname));
	snprintf(name, sizeof(name), "[concat(parameters('namePrefix'), parameters('%s'))]", pname);
	rp_json_set_str(r, "type", "Microsoft.Compute/disks");
	rp_json_set_str(r, "apiVersion", RP_STAGE_DISK_API);
	rp_json_set_str(r, "name", name);
	rp_json_set_str(r, "location", "[parameters('location')]");
	rp_json_set(sku, "name", arm_literal(rp_stage_disk_sku(o, it->role)));
	rp_json_set(r, "sku", sku);
	if (o->zone) {
		struct rp_json *z = rp_json_new_array();
		rp_json_append(z, arm_literal(o->zone));
		rp_json_set(r, "zones", z);
	}
	rp_json_set(tags, "cvmrestore-recovery-point", arm_literal(d->id));
	rp_json_set(tags, "cvmrestore-disk", arm_literal(it->name));
	rp_json_set_str(tags, "cvmrestore-sha256", it->sha256);
	if (it->seal_sha256[0])
		rp_json_set_str(tags, "cvmrestore-seal-sha256", it->seal_sha256);
	rp_json_set(r, "tags", tags);
	if (os) {
		rp_json_set_str(p, "osType", rp_os_type_name(d->vm.os_type));
		if (d->vm.hyperv_generation != RP_HYPERV_UNKNOWN)
			rp_json_set_str(p, "hyperVGeneration",
					rp_hyperv_gen_name(d->vm.hyperv_generation));
	}
	rp_json_set_str(cd, "createOption", os && secure ? "UploadPreparedSecure" : "Upload");
	rp_json_set_u64(cd, "uploadSizeBytes", it->file_size);
	rp_json_set(p, "creationData", cd);
	if (os && d->vm.security_type != RP_SECURITY_NONE) {
		struct rp_json *sp = rp_json_new_object();
		rp_json_set_str(sp, "securityType", rp_security_type_name(d->vm.security_type));
		if (d->vm.security_type == RP_SECURITY_CVM_DISK_CMK)
			rp_json_set_str(sp, "secureVMDiskEncryptionSetId",
					"[parameters('diskEncryptionSetId')]");
		rp_json_set(p, "securityProfile", sp);
	}
	rp_json_set(r, "properties", p);
	return r;
}

static struct rp_json *vm_template(const struct rp_descriptor *d, const struct rp_stage_opts *o,
				   const struct rp_stage_result *res, const char *prefix)
{
	struct rp_json *params, *t = template_new(&params), *res_arr = rp_json_new_array();
	struct rp_json *vm = rp_json_new_object(), *p = rp_json_new_object();
	struct rp_json *hw = rp_json_new_object(), *sp = rp_json_new_object();
	struct rp_json *data = rp_json_new_array(), *nics = rp_json_new_array();
	struct rp_json *nic = rp_json_new_object(), *np = rp_json_new_object();
	enum rp_security_type st = d->vm.security_type;
	const char *enc = rp_stage_encryption_type(st);
	size_t i, k = 0;

	common_params(d, o, params, prefix);
	disk_name_params(res, params);
	rp_json_set(params, "vmName", param("string", arm_literal(d->vm.name), "VM name"));
	rp_json_set(params, "vmSize",
		    param("string", d->vm.size[0] ? arm_literal(d->vm.size) : NULL,
			  "VM size, e.g. Standard_DC2as_v5"));
	rp_json_set(params, "networkInterfaceId",
		    param("string", NULL, "resource id of an existing network interface"));
	if (st != RP_SECURITY_NONE) {
		rp_json_set(params, "secureBootEnabled",
			    param("bool", rp_json_new_bool(true), "UEFI secure boot"));
		rp_json_set(params, "vTpmEnabled", param("bool", rp_json_new_bool(true), "vTPM"));
	}
	rp_json_set(t, "parameters", params);
	rp_json_set_str(vm, "type", "Microsoft.Compute/virtualMachines");
	rp_json_set_str(vm, "apiVersion", RP_STAGE_VM_API);
	rp_json_set_str(vm, "name", "[parameters('vmName')]");
	rp_json_set_str(vm, "location", "[parameters('location')]");
	if (o->zone) {
		struct rp_json *z = rp_json_new_array();
		rp_json_append(z, arm_literal(o->zone));
		rp_json_set(vm, "zones", z);
	}
	rp_json_set_str(hw, "vmSize", "[parameters('vmSize')]");
	rp_json_set(p, "hardwareProfile", hw);
	if (st != RP_SECURITY_NONE) {
		struct rp_json *sec = rp_json_new_object(), *uefi = rp_json_new_object();
		rp_json_set_str(sec, "securityType",
				rp_stage_is_cvm(st) ? "ConfidentialVM" : "TrustedLaunch");
		rp_json_set_str(uefi, "secureBootEnabled", "[parameters('secureBootEnabled')]");
		rp_json_set_str(uefi, "vTpmEnabled", "[parameters('vTpmEnabled')]");
		rp_json_set(sec, "uefiSettings", uefi);
		rp_json_set(p, "securityProfile", sec);
	}
	for (i = 0; i < res->nitems; i++) {
		const struct rp_stage_item *it = &res->items[i];
		struct rp_json *dk = rp_json_new_object(), *md = rp_json_new_object();

		if (it->kind != RP_STAGE_DISK) {
			rp_json_free(dk);
			rp_json_free(md);
			continue;
		}
		rp_json_set(md, "id", disk_id(k++));
		rp_json_set_str(dk, "createOption", "Attach");
		if (it->role == RP_DISK_OS) {
			rp_json_set_str(dk, "osType", rp_os_type_name(d->vm.os_type));
			if (enc) {
				struct rp_json *msp = rp_json_new_object();
				rp_json_set_str(msp, "securityEncryptionType", enc);
				if (st == RP_SECURITY_CVM_DISK_CMK) {
					struct rp_json *des = rp_json_new_object();
					rp_json_set_str(des, "id",
							"[parameters('diskEncryptionSetId')]");
					rp_json_set(msp, "diskEncryptionSet", des);
				}
				rp_json_set(md, "securityProfile", msp);
			}
			rp_json_set(dk, "managedDisk", md);
			rp_json_set(sp, "osDisk", dk);
		} else {
			rp_json_set_u64(dk, "lun", (uint64_t)it->lun);
			rp_json_set(dk, "managedDisk", md);
			rp_json_append(data, dk);
		}
	}
	rp_json_set(sp, "dataDisks", data);
	rp_json_set(p, "storageProfile", sp);
	rp_json_set_str(nic, "id", "[parameters('networkInterfaceId')]");
	rp_json_append(nics, nic);
	rp_json_set(np, "networkInterfaces", nics);
	rp_json_set(p, "networkProfile", np);
	rp_json_set(vm, "properties", p);
	rp_json_append(res_arr, vm);
	rp_json_set(t, "resources", res_arr);
	return t;
}

/* Data disks without a LUN get the lowest free ones, in order. */
static void assign_luns(struct rp_stage_result *res, char (*note)[512], size_t *nnote)
{
	uint64_t used = 0;
	size_t i;

	for (i = 0; i < res->nitems; i++)
		if (res->items[i].kind == RP_STAGE_DISK && res->items[i].role == RP_DISK_DATA &&
		    res->items[i].lun >= 0 && res->items[i].lun < 64)
			used |= 1ull << res->items[i].lun;
	for (i = 0; i < res->nitems; i++) {
		struct rp_stage_item *it = &res->items[i];
		int l;
		if (it->kind != RP_STAGE_DISK || it->role != RP_DISK_DATA || it->lun >= 0)
			continue;
		for (l = 0; l < 64 && (used >> l & 1); l++)
			;
		it->lun = l;
		used |= 1ull << l;
		if (*nnote < RP_STAGE_MAX_WARNINGS)
			snprintf(note[(*nnote)++], 512,
				 "data disk '%s' had no LUN: it was given LUN %d", it->name, l);
	}
}

/* Start writing dir/name atomically (common/outfile.h: a new temporary file beside it, never a
 * planted name); the text goes through the stream returned (on a copy of of->fd). */
static FILE *open_tmp(const char *dir, const char *name, struct rp_outfile *of, struct rp_err *err)
{
	char final[4200];
	FILE *f;
	int fd;

	if ((size_t)snprintf(final, sizeof(final), "%s/%s", dir, name) >= sizeof(final)) {
		rp_err_set(err, RP_EUSAGE, "the path '%s/%s' is too long", dir, name);
		return NULL;
	}
	if (rp_outfile_begin(of, final, 0600, true, err) != 0)
		return NULL;
	fd = dup(of->fd);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		rp_err_errno(err, errno, "cannot write '%s'", of->tmp);
		if (fd >= 0)
			close(fd);
		rp_outfile_abort(of);
	}
	return f;
}

/* Flush the stream, give the file its mode, then fsync, rename into place and fsync the
 * directory (rp_outfile_commit). */
static int close_tmp(FILE *f, struct rp_outfile *of, mode_t mode, struct rp_err *err)
{
	int bad = ferror(f) | fflush(f);

	bad |= fclose(f);
	bad |= fchmod(of->fd, mode);
	if (bad) {
		int rc = rp_err_errno(err, errno ? errno : EIO, "cannot write '%s'", of->path);

		rp_outfile_abort(of);
		return rc;
	}
	return rp_outfile_commit(of, err);
}

/* A shell word in single quotes. */
static void sq(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* Text inside a shell comment: a newline would end the comment and start a command, so control
 * characters become '?' (names have none today: the descriptor refuses them). */
static void sh_comment_text(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void sh_disk(FILE *f, const struct rp_descriptor *d, const struct rp_stage_opts *o,
		    const struct rp_stage_result *res, const struct rp_stage_item *it)
{
	bool os = it->role == RP_DISK_OS, secure = os && res->secure_upload, vmmd = false;
	size_t i;

	for (i = 0; secure && i < res->nitems; i++)
		vmmd = vmmd || res->items[i].kind == RP_STAGE_VM_METADATA;
	enum rp_security_type st = d->vm.security_type;

	fputs("\n# --- disk '", f);
	sh_comment_text(f, it->name);
	fputs("' (", f);
	sh_comment_text(f, it->file);
	fprintf(f, ", %" PRIu64 " bytes) ---\n", it->file_size);
	fputs("NAME=\"$PREFIX\"", f);
	sq(f, it->name);
	fputs("\naz disk create -g \"$RG\" -n \"$NAME\" -l \"$LOCATION\" \\\n", f);
	fprintf(f, "\t--upload-type %s --upload-size-bytes %" PRIu64 " --sku ",
		secure ? "UploadWithSecurityData" : "Upload", it->file_size);
	sq(f, rp_stage_disk_sku(o, it->role));
	fputs(" \\\n", f);
	if (o->zone) {
		fputs("\t--zone ", f);
		sq(f, o->zone);
		fputs(" \\\n", f);
	}
	if (os) {
		fprintf(f, "\t--os-type %s \\\n", rp_os_type_name(d->vm.os_type));
		if (d->vm.hyperv_generation != RP_HYPERV_UNKNOWN)
			fprintf(f, "\t--hyper-v-generation %s \\\n",
				rp_hyperv_gen_name(d->vm.hyperv_generation));
		if (st != RP_SECURITY_NONE)
			fprintf(f, "\t--security-type %s \\\n", rp_security_type_name(st));
		if (st == RP_SECURITY_CVM_DISK_CMK)
			fputs("\t--secure-vm-disk-encryption-set \"$DES_ID\" \\\n", f);
	}
	fputs("\t--tags ", f);
	{
		char tag[600];
		snprintf(tag, sizeof(tag), "cvmrestore-recovery-point=%s", d->id);
		sq(f, tag);
	}
	fprintf(f, " cvmrestore-sha256=%s\n", it->sha256);
	fprintf(f,
		"ACCESS=$(az disk grant-access -g \"$RG\" -n \"$NAME\" --access-level Write "
		"--duration-in-seconds 86400%s -o json)\n",
		secure ? " --secure-vm-guest-state-sas" : "");
	fputs("DISK_SAS=$(sas_of accessSas <<<\"$ACCESS\")\n", f);
	if (secure)
		fputs("GS_SAS=$(sas_of securityDataAccessSas <<<\"$ACCESS\")\n", f);
	/* A three-blob CVM: the metadata SAS comes from disks api-version 2025-01-02, which
	 * older Azure CLIs do not ask for; without it the disk would go up incomplete. */
	if (vmmd)
		fputs(
		    "MD_SAS=$(sas_of securityMetadataAccessSas <<<\"$ACCESS\" 2>/dev/null || "
		    "true)\n"
		    "if [ -z \"$MD_SAS\" ] || [ \"$MD_SAS\" = None ]; then\n"
		    "\techo \"restore.sh: az disk grant-access gave no securityMetadataAccessSas "
		    "(an Azure CLI that asks disks api-version 2025-01-02 does): upgrade it\" >&2\n"
		    "\taz disk revoke-access -g \"$RG\" -n \"$NAME\"\n\texit 1\nfi\n",
		    f);
	fputs("\"$CVMRESTORE\" upload ", f);
	sq(f, it->file);
	if (secure)
		fprintf(f,
			" \"$DISK_SAS\" --guest-state guest_state.vmgs --guest-state-url "
			"\"$GS_SAS\"%s\n",
			vmmd ? " \\\n\t--vm-metadata vm_metadata.vmmd --vm-metadata-url \"$MD_SAS\""
			     : "");
	else
		fputs(" \"$DISK_SAS\"\n", f);
	fputs("az disk revoke-access -g \"$RG\" -n \"$NAME\"\n", f);
}

static int write_script(const struct rp_descriptor *d, const struct rp_stage_opts *o,
			const struct rp_stage_result *res, const char *prefix, struct rp_err *err)
{
	struct rp_outfile of;
	FILE *f = open_tmp(o->out_dir, "restore.sh", &of, err);
	const char *loc = o->location ? o->location : d->vm.location[0] ? d->vm.location : NULL;
	size_t i;

	if (!f)
		return err ? err->code : RP_EIO;
	fputs("#!/bin/bash\n# Made by 'cvmrestore stage' for recovery point ", f);
	sh_comment_text(f, d->id);
	fputs(" (VM ", f);
	sh_comment_text(f, d->vm.name);
	fputs(").\n", f);
	fputs(
	    "# Re-creates the VM from the disks in this folder: read STAGED.txt first. Nothing\n"
	    "# here has run. Fill in every <PLACEHOLDER> below, then run it as\n"
	    "#     ./restore.sh --yes\n"
	    "# (az login first). It stops at the first error and at any placeholder left.\n"
	    "set -euo pipefail\n"
	    "if [ \"${1:-}\" != --yes ]; then\n"
	    "\techo \"restore.sh: this creates Azure resources; read it, then run it with --yes\" "
	    ">&2\n\texit 2\nfi\ncd \"$(dirname \"$0\")\"\n\n",
	    f);
	fputs("RG=", f);
	sq(f, o->resource_group ? o->resource_group : PH_RG);
	fputs("\nLOCATION=", f);
	sq(f, loc ? loc : PH_LOCATION);
	fputs("\nPREFIX=", f);
	sq(f, prefix);
	fputs("\nVM_SIZE=", f);
	sq(f, d->vm.size[0] ? d->vm.size : PH_SIZE);
	fputs("\nNIC_ID=", f);
	sq(f, PH_NIC);
	if (d->vm.security_type == RP_SECURITY_CVM_DISK_CMK) {
		fputs("\nDES_ID=", f);
		sq(f, o->des_id ? o->des_id : PH_DES);
	}
	fputs("\nCVMRESTORE=${CVMRESTORE:-cvmrestore}\n\n"
	      "# A value still of the form <...> stops the script before anything is created.\n"
	      "need() {\n\tcase $2 in\n\t'<'*'>') echo \"restore.sh: fill in $1 (still $2)\" "
	      ">&2; exit 2 ;;\n\tesac\n}\n"
	      "need RG \"$RG\"\nneed LOCATION \"$LOCATION\"\nneed VM_SIZE \"$VM_SIZE\"\n"
	      "need NIC_ID \"$NIC_ID\"\n",
	      f);
	if (d->vm.security_type == RP_SECURITY_CVM_DISK_CMK)
		fputs("need DES_ID \"$DES_ID\"\n", f);
	fputs("# sas_of KEY: the SAS under KEY in the az disk grant-access answer on stdin (kept\n"
	      "# out of argv and never printed)\n"
	      "sas_of() {\n\t/usr/bin/python3 -c 'import json, sys; v = json.load(sys.stdin); "
	      "v = {k.lower(): x for k, x in v.items()}; print(v[sys.argv[1].lower()])' \"$1\"\n"
	      "}\n\n"
	      "# 1. each disk: create it for upload, grant write access, upload, revoke access\n"
	      "#    (or create them all with: az deployment group create -g \"$RG\" "
	      "--template-file disks.json)\n",
	      f);
	for (i = 0; i < res->nitems; i++)
		if (res->items[i].kind == RP_STAGE_DISK)
			sh_disk(f, d, o, res, &res->items[i]);
	fputs("\n# 2. the VM on those disks\naz deployment group create -g \"$RG\" "
	      "--template-file vm.json --parameters \\\n\tlocation=\"$LOCATION\" "
	      "namePrefix=\"$PREFIX\" vmSize=\"$VM_SIZE\" networkInterfaceId=\"$NIC_ID\"",
	      f);
	if (d->vm.security_type == RP_SECURITY_CVM_DISK_CMK)
		fputs(" diskEncryptionSetId=\"$DES_ID\"", f);
	fputs("\n", f);
	return close_tmp(f, &of, 0755, err);
}

int rp_stage_write_templates(const struct rp_descriptor *d, const struct rp_stage_opts *o,
			     struct rp_stage_result *res, struct rp_err *err)
{
	char pbuf[RP_DESC_NAME_MAX + 2], path[4200];
	const char *prefix = prefix_of(d, o, pbuf, sizeof(pbuf));
	struct rp_json *params, *t, *arr;
	char notes[RP_STAGE_MAX_WARNINGS][512];
	size_t i, k, nnotes = 0;
	int rc;

	assign_luns(res, notes, &nnotes);
	for (i = 0; i < nnotes && res->nwarnings < RP_STAGE_MAX_WARNINGS; i++)
		memcpy(res->warnings[res->nwarnings++], notes[i], sizeof(notes[i]));
	t = template_new(&params);
	common_params(d, o, params, prefix);
	disk_name_params(res, params);
	rp_json_set(t, "parameters", params);
	arr = rp_json_new_array();
	for (i = 0, k = 0; i < res->nitems; i++)
		if (res->items[i].kind == RP_STAGE_DISK)
			rp_json_append(
			    arr, disk_resource(d, o, &res->items[i], k++, res->secure_upload));
	rp_json_set(t, "resources", arr);
	snprintf(path, sizeof(path), "%s/disks.json", o->out_dir);
	rc = rp_json_write_file(path, t, err);
	rp_json_free(t);
	if (rc)
		return rc;
	t = vm_template(d, o, res, prefix);
	snprintf(path, sizeof(path), "%s/vm.json", o->out_dir);
	rc = rp_json_write_file(path, t, err);
	rp_json_free(t);
	if (rc)
		return rc;
	return write_script(d, o, res, prefix, err);
}

int rp_stage_write_summary(const struct rp_descriptor *d, const struct rp_stage_opts *o,
			   const struct rp_stage_result *res, struct rp_err *err)
{
	struct rp_outfile of;
	char now[RP_TIME_STR];
	FILE *f = open_tmp(o->out_dir, "STAGED.txt", &of, err);
	size_t i;

	if (!f)
		return err ? err->code : RP_EIO;
	rp_time_iso(time(NULL), now);
	fprintf(f, "cvmrestore stage: recovery point %s, VM %s, staged %s\n\n", d->id, d->vm.name,
		now);
	fprintf(
	    f, "VM: %s, generation %s, security type %s, size %s\n", rp_os_type_name(d->vm.os_type),
	    d->vm.hyperv_generation ? rp_hyperv_gen_name(d->vm.hyperv_generation) : "unknown",
	    d->vm.security_type ? rp_security_type_name(d->vm.security_type) : "none (standard)",
	    d->vm.size[0] ? d->vm.size : "unknown");
	fprintf(f, "OS disk upload: %s\n\n",
		res->secure_upload ? "UploadPreparedSecure (with its guest state)" : "Upload");
	for (i = 0; i < res->nitems; i++) {
		const struct rp_stage_item *it = &res->items[i];
		fprintf(f, "%s\n  from: %s\n  size: %" PRIu64 " bytes\n", it->file, it->source,
			it->file_size);
		if (it->kind == RP_STAGE_DISK) {
			fprintf(f, "  disk: %s%s", it->name, it->role == RP_DISK_OS ? ", OS" : "");
			if (it->role == RP_DISK_DATA)
				fprintf(f, ", data, LUN %d", it->lun);
			fprintf(f,
				"\n  virtual size: %" PRIu64 " bytes\n  sha256 of the virtual "
				"disk: %s\n",
				it->virtual_size, it->sha256);
			fprintf(f, "  seal: %s%s\n",
				it->sealed ? "every chunk matched, sha256 " : "none",
				it->sealed ? it->seal_sha256 : "");
		} else {
			fprintf(f, "  sha256: %s\n", it->sha256);
		}
	}
	fputs("\nStill to decide (restore.sh stops until the <PLACEHOLDERS> are filled in):\n", f);
	if (!o->resource_group)
		fputs("  - the resource group (<RESOURCE_GROUP>)\n", f);
	if (!o->location && !d->vm.location[0])
		fputs("  - the region (<LOCATION>)\n", f);
	if (!d->vm.size[0])
		fputs("  - the VM size (<VM_SIZE>)\n", f);
	if (d->vm.security_type == RP_SECURITY_CVM_DISK_CMK && !o->des_id)
		fputs("  - the disk encryption set of the customer-key OS disk "
		      "(<DISK_ENCRYPTION_SET_ID>)\n",
		      f);
	fputs("  - the network interface of the VM (<NETWORK_INTERFACE_ID>)\n", f);
	if (res->nwarnings == 0)
		fputs("\nWarnings: none\n", f);
	else
		fputs("\nWarnings:\n", f);
	for (i = 0; i < res->nwarnings; i++)
		fprintf(f, "  - %s\n", res->warnings[i]);
	fputs("\nFiles: disks.json (the disks, ARM), vm.json (the VM, ARM), restore.sh (the "
	      "commands in order)\n",
	      f);
	return close_tmp(f, &of, 0644, err);
}
