/*
 * Import of Azure documents into a recovery point descriptor (formats/rp_import.h).
 *
 * The config blob's layout is not documented by Microsoft; what is used here follows the
 * PowerShell steps Microsoft publishes for it ("Restore Azure VMs with PowerShell": read it as
 * Unicode, TrimEnd NULs, ConvertFrom-Json, then $obj.'properties.hardwareProfile'.vmSize,
 * $obj.'properties.storageProfile'.osDisk.vhd.uri / .osType, .dataDisks[].vhd.uri / .lun).
 * docs/recovery-point.md lists what is assumed beyond that.
 */
#include "formats/rp_import.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/json.h"
#include "common/util.h"

#define GA "beginGetAccess answer"
#define BC "backup config"

/*
 * Member key of obj, compared without case. Two keys that differ only in case make the
 * document ambiguous: RP_EFORMAT. *out is NULL when there is no such key (or obj is no object).
 */
static int ci_get(const struct rp_json *obj, const char *key, const char *what, const char *path,
		  struct rp_json **out, struct rp_err *err)
{
	struct rp_json *v, *found = NULL;
	const char *k;
	size_t i;

	*out = NULL;
	if (!rp_json_is_object(obj))
		return 0;
	for (i = 0; (k = rp_json_object_key_at(obj, i, &v)) != NULL; i++) {
		if (strcasecmp(k, key) != 0)
			continue;
		if (found)
			return rp_err_set(err, RP_EFORMAT,
					  "%s: %s appears twice (keys differ only in case)", what,
					  path);
		found = v;
	}
	*out = found;
	return 0;
}

/* An optional string member: *out NULL when absent, null or "". */
static int ci_string(const struct rp_json *obj, const char *key, const char *what, const char *path,
		     const char **out, struct rp_err *err)
{
	struct rp_json *v;
	int rc = ci_get(obj, key, what, path, &v, err);

	*out = NULL;
	if (rc || !v || rp_json_is_null(v))
		return rc;
	*out = rp_json_string(v);
	if (!*out)
		return rp_err_set(err, RP_EFORMAT, "%s: %s is not a string", what, path);
	if ((*out)[0] == '\0')
		*out = NULL;
	return 0;
}

/* A URL we can fetch from; the value is never quoted (it may carry a SAS). */
static int check_url(const char *s, const char *what, const char *path, struct rp_err *err)
{
	if (strncasecmp(s, "https://", 8) != 0 && strncasecmp(s, "http://", 7) != 0)
		return rp_err_set(err, RP_EFORMAT, "%s: %s is not an http(s) URL", what, path);
	return 0;
}

/* Copy src into dst[0..size); too long is an error of class code naming path. */
static int copy_field(char *dst, size_t size, const char *src, const char *what, const char *path,
		      int code, struct rp_err *err)
{
	if (strlen(src) >= size)
		return rp_err_set(err, code, "%s: %s is longer than %zu bytes", what, path,
				  size - 1);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* A disk or blob the document gave us was refused by the descriptor (a usage error there):
 * it is the document's fault here. */
static int doc_fault(int rc, const char *what, struct rp_err *err)
{
	if (rc == RP_EUSAGE) {
		if (err)
			err->code = RP_EFORMAT;
		rp_err_prefix(err, "%s", what);
		return RP_EFORMAT;
	}
	return rc;
}

/* Fill the descriptor's header and VM from the caller's values (where set). */
static int apply_vm(struct rp_descriptor *d, const struct rp_import_vm *vm, struct rp_err *err)
{
	char now[RP_TIME_STR];

	int rc;

	if (!vm->id || !vm->id[0])
		return rp_err_set(err, RP_EUSAGE, "import: a recovery point id is required");
	if (!vm->created)
		rp_time_iso(time(NULL), now);
	rc = copy_field(d->id, sizeof(d->id), vm->id, "import", "id", RP_EUSAGE, err);
	if (!rc)
		rc = copy_field(d->created, sizeof(d->created), vm->created ? vm->created : now,
				"import", "created", RP_EUSAGE, err);
	if (!rc && vm->name)
		rc = copy_field(d->vm.name, sizeof(d->vm.name), vm->name, "import", "VM name",
				RP_EUSAGE, err);
	if (!rc && vm->size)
		rc = copy_field(d->vm.size, sizeof(d->vm.size), vm->size, "import", "VM size",
				RP_EUSAGE, err);
	if (!rc && vm->location)
		rc = copy_field(d->vm.location, sizeof(d->vm.location), vm->location, "import",
				"VM location", RP_EUSAGE, err);
	d->vm.os_type = vm->os_type;
	d->vm.hyperv_generation = vm->hyperv_generation;
	d->vm.security_type = vm->security_type;
	return rc;
}

/* Trusted Launch and confidential VMs exist only as generation 2, and only they have a guest
 * state blob. */
static void infer_generation(struct rp_descriptor *d)
{
	if (d->vm.hyperv_generation == RP_HYPERV_UNKNOWN &&
	    (d->vm.security_type != RP_SECURITY_NONE || d->guest_state.source))
		d->vm.hyperv_generation = RP_HYPERV_V2;
}

/* Check the result; a usage error if a caller value was bad, else the document's fault. */
static int finish(struct rp_descriptor *d, const char *what, struct rp_descriptor **out,
		  struct rp_err *err)
{
	int rc = rp_descriptor_check(d, err);

	if (rc) {
		rp_err_prefix(err, "%s", what);
		rp_descriptor_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

/* ---- beginGetAccess ---- */

/* The SAS URLs of a beginGetAccess answer (pointers into *root, which the caller frees). */
struct access_sas {
	const char *disk, *data, *meta;
};

static int parse_access(const char *json, size_t len, const char *what, struct rp_json **root,
			struct access_sas *sas, struct rp_err *err)
{
	struct rp_json *props, *output, *doc;
	int rc;

	*root = NULL;
	memset(sas, 0, sizeof(*sas));
	if (len > RP_IMPORT_MAX_BYTES)
		return rp_err_set(err, RP_EFORMAT, "%s: %zu bytes is more than %u", what, len,
				  RP_IMPORT_MAX_BYTES);
	rc = rp_json_parse(json, len, root, err);
	if (rc) {
		rp_err_prefix(err, "%s", what);
		return RP_EFORMAT;
	}
	if (!rp_json_is_object(*root))
		return rp_err_set(err, RP_EFORMAT, "%s: the document is not a JSON object", what);
	/* The async operation result wraps the AccessUri as properties.output. */
	doc = *root;
	rc = ci_get(*root, "properties", what, "properties", &props, err);
	if (!rc)
		rc = ci_get(props, "output", what, "properties.output", &output, err);
	if (rc)
		return rc;
	if (output) {
		if (!rp_json_is_object(output))
			return rp_err_set(err, RP_EFORMAT, "%s: properties.output is not an object",
					  what);
		doc = output;
	}
	rc = ci_string(doc, "accessSAS", what, "accessSAS", &sas->disk, err);
	if (!rc)
		rc = ci_string(doc, "securityDataAccessSAS", what, "securityDataAccessSAS",
			       &sas->data, err);
	if (!rc)
		rc = ci_string(doc, "securityMetadataAccessSAS", what, "securityMetadataAccessSAS",
			       &sas->meta, err);
	if (rc)
		return rc;
	if (!sas->disk)
		return rp_err_set(err, RP_EFORMAT, "%s: accessSAS is missing", what);
	rc = check_url(sas->disk, what, "accessSAS", err);
	if (!rc && sas->data)
		rc = check_url(sas->data, what, "securityDataAccessSAS", err);
	if (!rc && sas->meta)
		rc = check_url(sas->meta, what, "securityMetadataAccessSAS", err);
	return rc;
}

int rp_import_get_access(const char *json, size_t len, const struct rp_import_vm *vm,
			 struct rp_descriptor **out, struct rp_err *err)
{
	struct rp_json *root = NULL;
	struct rp_descriptor *d = NULL;
	struct access_sas sas;
	enum rp_disk_role role;
	int rc;

	if (!vm->name || !vm->os_type)
		return rp_err_set(err, RP_EUSAGE,
				  "import: the VM's name and OS type are required with a "
				  "beginGetAccess answer");
	rc = parse_access(json, len, GA, &root, &sas, err);
	if (!rc)
		rc = rp_descriptor_new(&d, err);
	if (!rc)
		rc = apply_vm(d, vm, err);
	if (rc)
		goto out;
	role = vm->disk_role ? vm->disk_role : (sas.data || sas.meta) ? RP_DISK_OS : RP_DISK_DATA;
	rc = rp_descriptor_add_disk(d,
				    vm->disk_name	 ? vm->disk_name
				    : role == RP_DISK_OS ? "osdisk"
							 : "datadisk",
				    role, role == RP_DISK_DATA && vm->has_lun ? vm->lun : -1,
				    sas.disk, err);
	if (!rc && sas.data)
		rc = rp_desc_blob_set(&d->guest_state, sas.data, false, 0, err);
	if (!rc && sas.meta)
		rc = rp_desc_blob_set(&d->vm_metadata, sas.meta, false, 0, err);
	rc = doc_fault(rc, GA, err);
	if (rc)
		goto out;
	if (sas.data || sas.meta)
		infer_generation(d);
	rc = finish(d, "import", out, err);
	d = NULL;
out:
	rp_descriptor_free(d);
	rp_json_free(root);
	return rc;
}

/* ---- Azure Backup config blob ---- */

/*
 * The blob's text as NUL-terminated UTF-8 (malloc'd): UTF-16LE/BE by BOM (or by a zero byte in
 * the first code unit when there is none), else UTF-8 with an optional BOM. Trailing NULs end
 * the text (the blob is padded with them).
 */
static int config_text(const uint8_t *buf, size_t len, char **out, struct rp_err *err)
{
	bool utf16 = false, le = true;
	size_t outsz;
	char *text;

	if (len > RP_IMPORT_MAX_BYTES)
		return rp_err_set(err, RP_EFORMAT, BC ": %zu bytes is more than %u", len,
				  RP_IMPORT_MAX_BYTES);
	if (len >= 2 && buf[0] == 0xFF && buf[1] == 0xFE) {
		utf16 = true;
		buf += 2;
		len -= 2;
	} else if (len >= 2 && buf[0] == 0xFE && buf[1] == 0xFF) {
		utf16 = true;
		le = false;
		buf += 2;
		len -= 2;
	} else if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF) {
		buf += 3;
		len -= 3;
	} else if (len >= 2 && (buf[0] == 0) != (buf[1] == 0)) {
		utf16 = true;
		le = buf[1] == 0;
	}
	/* Padding NULs may be odd in number; any other odd byte out is a broken text. */
	if (utf16 && len % 2 != 0 && buf[len - 1] != 0)
		return rp_err_set(err, RP_EFORMAT, BC ": UTF-16 text of odd length");
	if (utf16) {
		/* A code unit is at most 3 bytes of UTF-8; a surrogate pair (2 units) is 4. */
		outsz = len / 2 * 3 + 1;
		text = malloc(outsz);
		if (!text)
			return rp_err_set(err, RP_EIO, BC ": out of memory");
		if (rp_utf16_to_utf8(buf, len, le, text, outsz) != 0) {
			free(text);
			return rp_err_set(err, RP_EFORMAT, BC ": cannot decode UTF-16");
		}
	} else {
		const uint8_t *nul;

		while (len > 0 && buf[len - 1] == 0)
			len--;
		nul = memchr(buf, 0, len);
		if (nul)
			return rp_err_set(err, RP_EFORMAT,
					  BC ": a NUL byte inside the text at offset %zu",
					  (size_t)(nul - buf));
		text = malloc(len + 1);
		if (!text)
			return rp_err_set(err, RP_EIO, BC ": out of memory");
		memcpy(text, buf, len);
		text[len] = '\0';
	}
	*out = text;
	return 0;
}

/*
 * A member of the VM resource that ARM flattens as "properties.<name>" (the blob's form); the
 * nested form {"properties": {"<name>": ...}} is accepted too.
 */
static int vm_part(const struct rp_json *root, const char *name, struct rp_json **out,
		   struct rp_err *err)
{
	char key[64];
	struct rp_json *props;
	int rc;

	snprintf(key, sizeof(key), "properties.%s", name);
	rc = ci_get(root, key, BC, key, out, err);
	if (rc || *out)
		return rc;
	rc = ci_get(root, "properties", BC, "properties", &props, err);
	if (!rc && props)
		rc = ci_get(props, name, BC, key, out, err);
	return rc;
}

/* The access answers of a backup config's managed disks, and which were used. */
struct config_access {
	const struct rp_import_access *acc;
	size_t nacc;
	bool *used;
	size_t ndisks; /* disks in the config */
};

/* Does the caller's key name this disk (its name, managed disk id, or the id's last part)? */
static bool access_matches(const char *key, const char *name, const char *id,
			   const struct config_access *ca)
{
	const char *last;

	if (!key)
		return ca->ndisks == 1;
	if (name && strcasecmp(key, name) == 0)
		return true;
	if (!id)
		return false;
	last = strrchr(id, '/');
	return strcasecmp(key, id) == 0 || (last && strcasecmp(key, last + 1) == 0);
}

/*
 * Add the disk at path: its VHD in the staging account (vhd.uri), or, restored as a managed
 * disk, the access answer the caller matched to it. The OS disk's answer also gives the guest
 * state and VM metadata blobs.
 */
static int config_disk_source(struct rp_descriptor *d, const struct rp_json *disk, const char *path,
			      const char *name, enum rp_disk_role role, int lun,
			      struct config_access *ca, struct rp_err *err)
{
	struct rp_json *vhd, *managed, *answer = NULL;
	const char *uri = NULL, *id = NULL;
	struct access_sas sas;
	char p[96], what[RP_DESC_NAME_MAX + 48];
	size_t i, hit = ca->nacc;
	int rc;

	snprintf(p, sizeof(p), "%s.vhd", path);
	rc = ci_get(disk, "vhd", BC, p, &vhd, err);
	snprintf(p, sizeof(p), "%s.vhd.uri", path);
	if (!rc)
		rc = ci_string(vhd, "uri", BC, p, &uri, err);
	if (!rc)
		rc = ci_get(disk, "managedDisk", BC, path, &managed, err);
	if (!rc && managed) {
		snprintf(p, sizeof(p), "%s.managedDisk.id", path);
		rc = ci_string(managed, "id", BC, p, &id, err);
	}
	if (rc)
		return rc;
	for (i = 0; i < ca->nacc; i++) {
		if (!access_matches(ca->acc[i].disk, name, id, ca))
			continue;
		if (hit != ca->nacc)
			return rp_err_set(err, RP_EUSAGE,
					  "import: two access answers are for the disk '%s'", name);
		hit = i;
	}
	if (uri) {
		if (hit != ca->nacc)
			return rp_err_set(
			    err, RP_EUSAGE,
			    "import: the disk '%s' was restored to the staging account "
			    "(%s.vhd.uri): it needs no access answer",
			    name, path);
		rc = check_url(uri, BC, p, err);
		if (!rc)
			rc = doc_fault(rp_descriptor_add_disk(d, name, role, lun, uri, err), BC,
				       err);
		return rc;
	}
	if (!managed)
		return rp_err_set(err, RP_EFORMAT, BC ": %s is missing", p);
	if (hit == ca->nacc) {
		rp_err_set(err, RP_EUSAGE,
			   "import: the disk '%s' was restored as a managed disk and its access "
			   "answer is missing: grant access to it (az disk grant-access%s)",
			   name, role == RP_DISK_OS ? " --secure-vm-guest-state-sas" : "");
		rp_err_hint_value(err, RP_H_ACCESS_JSON, name);
		return RP_EUSAGE;
	}
	ca->used[hit] = true;
	snprintf(what, sizeof(what), GA " for the disk '%s'", name);
	rc = parse_access(ca->acc[hit].json, ca->acc[hit].len, what, &answer, &sas, err);
	if (!rc)
		rc =
		    doc_fault(rp_descriptor_add_disk(d, name, role, lun, sas.disk, err), what, err);
	if (!rc && role == RP_DISK_OS && sas.data)
		rc = doc_fault(rp_desc_blob_set(&d->guest_state, sas.data, false, 0, err), what,
			       err);
	if (!rc && role == RP_DISK_OS && sas.meta)
		rc = doc_fault(rp_desc_blob_set(&d->vm_metadata, sas.meta, false, 0, err), what,
			       err);
	rp_json_free(answer);
	return rc;
}

/* VM securityProfile.securityType + the OS disk's securityEncryptionType -> the disk's type. */
static int config_security(const struct rp_json *root, const struct rp_json *os,
			   struct rp_descriptor *d, struct rp_err *err)
{
	struct rp_json *sec, *md = NULL, *dsec = NULL, *des = NULL;
	const char *type = NULL, *enc = NULL, *des_id = NULL;
	int rc;

	rc = vm_part(root, "securityProfile", &sec, err);
	if (!rc)
		rc = ci_string(sec, "securityType", BC, "properties.securityProfile.securityType",
			       &type, err);
	if (!rc)
		rc = ci_get(os, "managedDisk", BC, "osDisk.managedDisk", &md, err);
	if (!rc)
		rc = ci_get(md, "securityProfile", BC, "osDisk.managedDisk.securityProfile", &dsec,
			    err);
	if (!rc)
		rc = ci_string(dsec, "securityEncryptionType", BC,
			       "osDisk.managedDisk.securityProfile.securityEncryptionType", &enc,
			       err);
	if (!rc)
		rc = ci_get(dsec, "diskEncryptionSet", BC,
			    "osDisk.managedDisk.securityProfile.diskEncryptionSet", &des, err);
	if (!rc)
		rc = ci_string(des, "id", BC,
			       "osDisk.managedDisk.securityProfile.diskEncryptionSet.id", &des_id,
			       err);
	if (!rc && des_id)
		rc = copy_field(
		    d->vm.disk_encryption_set, sizeof(d->vm.disk_encryption_set), des_id, BC,
		    "osDisk.managedDisk.securityProfile.diskEncryptionSet.id", RP_EFORMAT, err);
	if (rc || !type)
		return rc;
	if (strcasecmp(type, "TrustedLaunch") == 0) {
		d->vm.security_type = RP_SECURITY_TRUSTED_LAUNCH;
	} else if (strcasecmp(type, "ConfidentialVM") == 0) {
		if (enc && strcasecmp(enc, "VMGuestStateOnly") == 0)
			d->vm.security_type = RP_SECURITY_CVM_GUEST_STATE_PMK;
		else if (enc && strcasecmp(enc, "DiskWithVMGuestState") == 0)
			d->vm.security_type =
			    des ? RP_SECURITY_CVM_DISK_CMK : RP_SECURITY_CVM_DISK_PMK;
		else if (enc && strcasecmp(enc, "NonPersistedTPM") == 0)
			d->vm.security_type = RP_SECURITY_CVM_NON_PERSISTED_TPM;
		else if (d->vm.security_type == RP_SECURITY_NONE)
			return rp_err_set(err, RP_EFORMAT,
					  BC ": a ConfidentialVM without a known "
					     "osDisk.managedDisk.securityProfile."
					     "securityEncryptionType");
	} else {
		return rp_err_set(err, RP_EFORMAT,
				  BC ": properties.securityProfile.securityType '%.40s' is not "
				     "TrustedLaunch or ConfidentialVM",
				  type);
	}
	infer_generation(d);
	return 0;
}

static int config_vm(const struct rp_json *root, const struct rp_json *os, struct rp_descriptor *d,
		     struct rp_err *err)
{
	struct rp_json *hw;
	const char *name, *loc, *size, *ostype;
	int rc;

	rc = ci_string(root, "name", BC, "name", &name, err);
	if (!rc)
		rc = ci_string(root, "location", BC, "location", &loc, err);
	if (!rc)
		rc = vm_part(root, "hardwareProfile", &hw, err);
	if (!rc)
		rc = ci_string(hw, "vmSize", BC, "properties.hardwareProfile.vmSize", &size, err);
	if (!rc)
		rc = ci_string(os, "osType", BC, "properties.storageProfile.osDisk.osType", &ostype,
			       err);
	if (rc)
		return rc;
	if (name)
		rc = copy_field(d->vm.name, sizeof(d->vm.name), name, BC, "name", RP_EFORMAT, err);
	if (!rc && loc)
		rc = copy_field(d->vm.location, sizeof(d->vm.location), loc, BC, "location",
				RP_EFORMAT, err);
	if (!rc && size)
		rc = copy_field(d->vm.size, sizeof(d->vm.size), size, BC,
				"properties.hardwareProfile.vmSize", RP_EFORMAT, err);
	if (rc)
		return rc;
	if (!d->vm.name[0])
		return rp_err_set(err, RP_EFORMAT, BC ": name is missing");
	if (ostype && strcasecmp(ostype, "Linux") == 0)
		d->vm.os_type = RP_OS_LINUX;
	else if (ostype && strcasecmp(ostype, "Windows") == 0)
		d->vm.os_type = RP_OS_WINDOWS;
	else if (ostype)
		return rp_err_set(err, RP_EFORMAT,
				  BC ": properties.storageProfile.osDisk.osType '%.40s' is not "
				     "Linux or Windows",
				  ostype);
	else if (!d->vm.os_type)
		return rp_err_set(err, RP_EFORMAT,
				  BC ": properties.storageProfile.osDisk.osType is missing");
	return config_security(root, os, d, err);
}

static int config_data_disk(const struct rp_json *dd, size_t i, struct rp_descriptor *d,
			    struct config_access *ca, struct rp_err *err)
{
	char path[80], defname[32];
	struct rp_json *lunv;
	const char *name;
	uint64_t lun;
	int rc;

	snprintf(path, sizeof(path), "properties.storageProfile.dataDisks[%zu]", i);
	if (!rp_json_is_object(dd))
		return rp_err_set(err, RP_EFORMAT, BC ": %s is not an object", path);
	rc = ci_get(dd, "lun", BC, path, &lunv, err);
	if (rc)
		return rc;
	if (!lunv)
		return rp_err_set(err, RP_EFORMAT, BC ": %s.lun is missing", path);
	if (rp_json_u64(lunv, &lun) != 0 || lun > RP_DESC_MAX_LUN)
		return rp_err_set(err, RP_EFORMAT, BC ": %s.lun is not an integer from 0 to %d",
				  path, RP_DESC_MAX_LUN);
	rc = ci_string(dd, "name", BC, path, &name, err);
	if (rc)
		return rc;
	snprintf(defname, sizeof(defname), "datadisk-lun%" PRIu64, lun);
	return config_disk_source(d, dd, path, name ? name : defname, RP_DISK_DATA, (int)lun, ca,
				  err);
}

static int config_disks(const struct rp_json *sp, const struct rp_json *os, struct rp_descriptor *d,
			struct config_access *ca, struct rp_err *err)
{
	struct rp_json *dds;
	const char *name;
	size_t i, n = 0;
	int rc;

	rc = ci_get(sp, "dataDisks", BC, "properties.storageProfile.dataDisks", &dds, err);
	if (rc)
		return rc;
	if (dds && !rp_json_is_null(dds) && !rp_json_is_array(dds))
		return rp_err_set(err, RP_EFORMAT,
				  BC ": properties.storageProfile.dataDisks is not an array");
	if (dds && rp_json_is_array(dds))
		n = rp_json_array_size(dds);
	ca->ndisks = n + 1;
	rc = ci_string(os, "name", BC, "properties.storageProfile.osDisk.name", &name, err);
	if (!rc)
		rc = config_disk_source(d, os, "properties.storageProfile.osDisk",
					name ? name : "osdisk", RP_DISK_OS, -1, ca, err);
	for (i = 0; i < n && !rc; i++)
		rc = config_data_disk(rp_json_array_at(dds, i), i, d, ca, err);
	for (i = 0; i < ca->nacc && !rc; i++)
		if (!ca->used[i])
			rc = rp_err_set(err, RP_EUSAGE,
					"import: the access answer for '%.200s' matches no managed "
					"disk of the config",
					ca->acc[i].disk ? ca->acc[i].disk : "(no disk named)");
	return rc;
}

int rp_import_backup_config(const uint8_t *buf, size_t len, const struct rp_import_vm *vm,
			    const struct rp_import_access *acc, size_t nacc,
			    struct rp_descriptor **out, struct rp_err *err)
{
	struct rp_json *root = NULL, *sp, *os;
	struct rp_descriptor *d = NULL;
	struct config_access ca = {.acc = acc, .nacc = nacc};
	char *text = NULL;
	int rc;

	if (nacc > RP_DESC_MAX_DISKS)
		return rp_err_set(err, RP_EUSAGE, "import: more than %d access answers",
				  RP_DESC_MAX_DISKS);
	ca.used = calloc(nacc ? nacc : 1, sizeof(*ca.used));
	if (!ca.used)
		return rp_err_set(err, RP_EIO, "out of memory");

	rc = config_text(buf, len, &text, err);
	if (rc)
		goto out;
	rc = rp_json_parse(text, strlen(text), &root, err);
	if (rc) {
		rp_err_prefix(err, BC);
		rc = RP_EFORMAT;
		goto out;
	}
	if (!rp_json_is_object(root)) {
		rc = rp_err_set(err, RP_EFORMAT, BC ": the document is not a JSON object");
		goto out;
	}
	rc = vm_part(root, "storageProfile", &sp, err);
	if (!rc && !rp_json_is_object(sp))
		rc = rp_err_set(err, RP_EFORMAT, BC ": properties.storageProfile is %s",
				sp ? "not an object" : "missing");
	if (!rc)
		rc = ci_get(sp, "osDisk", BC, "properties.storageProfile.osDisk", &os, err);
	if (!rc && !rp_json_is_object(os))
		rc = rp_err_set(err, RP_EFORMAT, BC ": properties.storageProfile.osDisk is %s",
				os ? "not an object" : "missing");
	if (!rc)
		rc = rp_descriptor_new(&d, err);
	if (!rc)
		rc = apply_vm(d, vm, err);
	if (!rc)
		rc = config_vm(root, os, d, err);
	if (!rc)
		rc = config_disks(sp, os, d, &ca, err);
	if (rc)
		goto out;
	infer_generation(d); /* a guest state blob from an access answer says V2 */
	rc = finish(d, BC, out, err);
	d = NULL;
out:
	rp_descriptor_free(d);
	rp_json_free(root);
	free(text);
	free(ca.used);
	return rc;
}
