/*
 * The recovery point descriptor (formats/descriptor.h, docs/recovery-point.md): checks, parsing
 * and writing. Every message starts with "descriptor: " and names the member; a source (which
 * may hold a SAS token) is never put into a message: the disk's name or index is used instead.
 */
#include "formats/descriptor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/outfile.h"

static const char *const security_names[] = {
    [RP_SECURITY_TRUSTED_LAUNCH] = "TrustedLaunch",
    [RP_SECURITY_CVM_GUEST_STATE_PMK] = "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey",
    [RP_SECURITY_CVM_DISK_PMK] = "ConfidentialVM_DiskEncryptedWithPlatformKey",
    [RP_SECURITY_CVM_DISK_CMK] = "ConfidentialVM_DiskEncryptedWithCustomerKey",
    [RP_SECURITY_CVM_NON_PERSISTED_TPM] = "ConfidentialVM_NonPersistedTPM",
};

#define N_SECURITY (sizeof(security_names) / sizeof(security_names[0]))

const char *rp_os_type_name(enum rp_os_type t)
{
	return t == RP_OS_LINUX ? "Linux" : t == RP_OS_WINDOWS ? "Windows" : NULL;
}

const char *rp_hyperv_gen_name(enum rp_hyperv_gen g)
{
	return g == RP_HYPERV_V1 ? "V1" : g == RP_HYPERV_V2 ? "V2" : NULL;
}

const char *rp_security_type_name(enum rp_security_type t)
{
	return (size_t)t < N_SECURITY ? security_names[t] : NULL;
}

const char *rp_disk_role_name(enum rp_disk_role r)
{
	return r == RP_DISK_OS ? "os" : r == RP_DISK_DATA ? "data" : NULL;
}

int rp_security_type_from_name(const char *s, enum rp_security_type *out)
{
	size_t i;

	for (i = 1; i < N_SECURITY; i++) {
		if (strcmp(s, security_names[i]) == 0) {
			*out = (enum rp_security_type)i;
			return 0;
		}
	}
	return RP_EFORMAT;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return true;
	return false;
}

/*
 * A name (of the VM or a disk): 1..255 bytes, no control characters, and usable as a file name
 * (no '/' or '\\', not "." or ".."), since tools name output files after disks.
 */
static int check_name(const char *s, const char *path, int code, struct rp_err *err)
{
	if (s[0] == '\0')
		return rp_err_set(err, code, "descriptor: %s is empty", path);
	if (strlen(s) >= RP_DESC_NAME_MAX)
		return rp_err_set(err, code, "descriptor: %s is longer than %d bytes", path,
				  RP_DESC_NAME_MAX - 1);
	if (has_control(s) || strchr(s, '/') || strchr(s, '\\'))
		return rp_err_set(err, code,
				  "descriptor: %s contains a control character, '/' or '\\'", path);
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return rp_err_set(err, code, "descriptor: %s: '%s' is not a valid name", path, s);
	return 0;
}

/* A source: 1..8191 bytes, no control characters. Never quoted: it may hold a SAS. */
static int check_source(const char *s, const char *path, int code, struct rp_err *err)
{
	if (s[0] == '\0')
		return rp_err_set(err, code, "descriptor: %s is empty", path);
	if (strlen(s) >= RP_DESC_SOURCE_MAX)
		return rp_err_set(err, code, "descriptor: %s is longer than %d bytes", path,
				  RP_DESC_SOURCE_MAX - 1);
	if (has_control(s))
		return rp_err_set(err, code, "descriptor: %s contains a control character", path);
	return 0;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int rp_descriptor_new(struct rp_descriptor **out, struct rp_err *err)
{
	struct rp_descriptor *d = calloc(1, sizeof(*d));

	if (!d)
		return rp_err_set(err, RP_EIO, "descriptor: out of memory");
	d->version = RP_DESC_VERSION;
	*out = d;
	return 0;
}

void rp_descriptor_free(struct rp_descriptor *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->ndisks; i++) {
		wipe_free(d->disks[i].source);
		rp_seal_free(d->disks[i].seal);
	}
	free(d->disks);
	wipe_free(d->guest_state.source);
	wipe_free(d->vm_metadata.source);
	free(d);
}

static int add_disk(struct rp_descriptor *d, const char *name, enum rp_disk_role role, int lun,
		    const char *source, int code, struct rp_err *err)
{
	char path[64];
	struct rp_desc_disk *nd, *disk;
	char *src;
	int rc;

	snprintf(path, sizeof(path), "disks[%zu].name", d->ndisks);
	rc = check_name(name, path, code, err);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "disks[%zu].source (disk '%.40s')", d->ndisks, name);
	rc = check_source(source, path, code, err);
	if (rc)
		return rc;
	if (role != RP_DISK_OS && role != RP_DISK_DATA)
		return rp_err_set(err, code, "descriptor: disks[%zu].role %d is not os or data",
				  d->ndisks, (int)role);
	if (lun < -1 || lun > RP_DESC_MAX_LUN)
		return rp_err_set(err, code,
				  "descriptor: disks[%zu].lun %d is not between 0 and %d",
				  d->ndisks, lun, RP_DESC_MAX_LUN);
	if (d->ndisks >= RP_DESC_MAX_DISKS)
		return rp_err_set(err, code, "descriptor: more than %d disks", RP_DESC_MAX_DISKS);
	src = strdup(source);
	if (!src)
		return rp_err_set(err, RP_EIO, "descriptor: out of memory");
	nd = realloc(d->disks, (d->ndisks + 1) * sizeof(*nd));
	if (!nd) {
		wipe_free(src);
		return rp_err_set(err, RP_EIO, "descriptor: out of memory");
	}
	d->disks = nd;
	disk = &nd[d->ndisks++];
	memset(disk, 0, sizeof(*disk));
	snprintf(disk->name, sizeof(disk->name), "%s", name);
	disk->role = role;
	disk->lun = lun;
	disk->source = src;
	return 0;
}

int rp_descriptor_add_disk(struct rp_descriptor *d, const char *name, enum rp_disk_role role,
			   int lun, const char *source, struct rp_err *err)
{
	return add_disk(d, name, role, lun, source, RP_EUSAGE, err);
}

static int blob_set(struct rp_desc_blob *b, const char *source, bool has_size, uint64_t size,
		    const char *path, int code, struct rp_err *err)
{
	char *src;
	int rc = check_source(source, path, code, err);

	if (rc)
		return rc;
	src = strdup(source);
	if (!src)
		return rp_err_set(err, RP_EIO, "descriptor: out of memory");
	wipe_free(b->source);
	b->source = src;
	b->has_size = has_size;
	b->size = has_size ? size : 0;
	return 0;
}

int rp_desc_blob_set(struct rp_desc_blob *b, const char *source, bool has_size, uint64_t size,
		     struct rp_err *err)
{
	return blob_set(b, source, has_size, size, "blob source", RP_EUSAGE, err);
}

static int check_vm(const struct rp_desc_vm *vm, struct rp_err *err)
{
	int rc = check_name(vm->name, "vm.name", RP_EFORMAT, err);

	if (rc)
		return rc;
	if (!rp_os_type_name(vm->os_type))
		return rp_err_set(err, RP_EFORMAT,
				  "descriptor: vm.os_type is not Linux or Windows");
	if (vm->hyperv_generation != RP_HYPERV_UNKNOWN &&
	    !rp_hyperv_gen_name(vm->hyperv_generation))
		return rp_err_set(err, RP_EFORMAT,
				  "descriptor: vm.hyperv_generation is not V1 or V2");
	if (vm->security_type != RP_SECURITY_NONE && !rp_security_type_name(vm->security_type))
		return rp_err_set(err, RP_EFORMAT, "descriptor: vm.security_type is not valid");
	if (has_control(vm->size) || has_control(vm->location) ||
	    has_control(vm->disk_encryption_set))
		return rp_err_set(err, RP_EFORMAT,
				  "descriptor: vm.size, vm.location or vm.disk_encryption_set "
				  "contains a control character");
	return 0;
}

/* The rules between disks; each disk's own fields were checked when it was added. */
static int check_disks(const struct rp_descriptor *d, struct rp_err *err)
{
	size_t i, j;

	if (d->ndisks == 0)
		return rp_err_set(err, RP_EFORMAT, "descriptor: disks is empty");
	for (i = 0; i < d->ndisks; i++) {
		const struct rp_desc_disk *a = &d->disks[i];

		if (a->role == RP_DISK_OS && a->lun >= 0)
			return rp_err_set(err, RP_EFORMAT,
					  "descriptor: disks[%zu].lun: an os disk has no lun", i);
		if (a->has_size && a->size > (uint64_t)INT64_MAX)
			return rp_err_set(err, RP_EFORMAT,
					  "descriptor: disks[%zu].size is 2^63 or more", i);
		for (j = 0; j < i; j++) {
			const struct rp_desc_disk *b = &d->disks[j];

			if (strcmp(a->name, b->name) == 0)
				return rp_err_set(err, RP_EFORMAT,
						  "descriptor: disks[%zu].name '%.80s' is used by "
						  "disks[%zu] too",
						  i, a->name, j);
			if (a->role == RP_DISK_OS && b->role == RP_DISK_OS)
				return rp_err_set(err, RP_EFORMAT,
						  "descriptor: disks[%zu] is a second os disk "
						  "(disks[%zu] is one)",
						  i, j);
			if (a->lun >= 0 && a->lun == b->lun)
				return rp_err_set(err, RP_EFORMAT,
						  "descriptor: disks[%zu].lun %d is used by "
						  "disks[%zu] too",
						  i, a->lun, j);
		}
	}
	return 0;
}

int rp_descriptor_check(const struct rp_descriptor *d, struct rp_err *err)
{
	int rc;

	if (d->version != RP_DESC_VERSION)
		return rp_err_set(err, RP_EFORMAT, "descriptor: version %u is not %d", d->version,
				  RP_DESC_VERSION);
	if (d->id[0] == '\0' || has_control(d->id))
		return rp_err_set(err, RP_EFORMAT,
				  "descriptor: id is empty or contains a control character");
	if (has_control(d->created))
		return rp_err_set(err, RP_EFORMAT,
				  "descriptor: created contains a control character");
	rc = check_vm(&d->vm, err);
	if (!rc)
		rc = check_disks(d, err);
	if (rc)
		return rc;
	if ((d->guest_state.has_size && d->guest_state.size > (uint64_t)INT64_MAX) ||
	    (d->vm_metadata.has_size && d->vm_metadata.size > (uint64_t)INT64_MAX))
		return rp_err_set(err, RP_EFORMAT, "descriptor: a blob size is 2^63 or more");
	return 0;
}

/* ---- parsing ---- */

/* String member key of obj (path names it): *out NULL when absent or null and nullable. */
static int get_text(const struct rp_json *obj, const char *key, const char *path, bool nullable,
		    const char **out, struct rp_err *err)
{
	const struct rp_json *v = rp_json_get(obj, key);

	*out = NULL;
	if (!v || rp_json_is_null(v)) {
		if (nullable)
			return 0;
		return rp_err_set(err, RP_EFORMAT, "descriptor: %s is missing", path);
	}
	*out = rp_json_string(v);
	if (!*out)
		return rp_err_set(err, RP_EFORMAT, "descriptor: %s is not a string%s", path,
				  nullable ? " or null" : "");
	return 0;
}

/* A string member copied into dst[0..size); nullable members may be absent ("" then). */
static int get_copy(const struct rp_json *obj, const char *key, const char *path, bool nullable,
		    char *dst, size_t size, struct rp_err *err)
{
	const char *s;
	int rc = get_text(obj, key, path, nullable, &s, err);

	dst[0] = '\0';
	if (rc || !s)
		return rc;
	if (strlen(s) >= size)
		return rp_err_set(err, RP_EFORMAT, "descriptor: %s is longer than %zu bytes", path,
				  size - 1);
	if (nullable && s[0] == '\0')
		return rp_err_set(err, RP_EFORMAT, "descriptor: %s is empty (use null)", path);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* An optional size member: absent or null leaves *has false. */
static int get_size(const struct rp_json *obj, const char *path, bool *has, uint64_t *size,
		    struct rp_err *err)
{
	const struct rp_json *v = rp_json_get(obj, "size");

	*has = false;
	if (!v || rp_json_is_null(v))
		return 0;
	if (rp_json_u64(v, size) != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "descriptor: %s.size is not a non-negative integer or null",
				  path);
	*has = true;
	return 0;
}

static int parse_vm(const struct rp_json *root, struct rp_desc_vm *vm, struct rp_err *err)
{
	const struct rp_json *o = rp_json_get(root, "vm");
	const char *s;
	int rc;

	if (!o)
		return rp_err_set(err, RP_EFORMAT, "descriptor: vm is missing");
	if (!rp_json_is_object(o))
		return rp_err_set(err, RP_EFORMAT, "descriptor: vm is not an object");
	rc = get_text(o, "name", "vm.name", false, &s, err);
	if (!rc)
		rc = check_name(s, "vm.name", RP_EFORMAT, err);
	if (rc)
		return rc;
	memcpy(vm->name, s, strlen(s) + 1);
	rc = get_text(o, "os_type", "vm.os_type", false, &s, err);
	if (rc)
		return rc;
	if (strcmp(s, "Linux") == 0)
		vm->os_type = RP_OS_LINUX;
	else if (strcmp(s, "Windows") == 0)
		vm->os_type = RP_OS_WINDOWS;
	else
		return rp_err_set(err, RP_EFORMAT,
				  "descriptor: vm.os_type: '%.40s' is not Linux or Windows", s);
	rc = get_text(o, "hyperv_generation", "vm.hyperv_generation", true, &s, err);
	if (rc)
		return rc;
	if (!s)
		vm->hyperv_generation = RP_HYPERV_UNKNOWN;
	else if (strcmp(s, "V1") == 0)
		vm->hyperv_generation = RP_HYPERV_V1;
	else if (strcmp(s, "V2") == 0)
		vm->hyperv_generation = RP_HYPERV_V2;
	else
		return rp_err_set(err, RP_EFORMAT,
				  "descriptor: vm.hyperv_generation: '%.40s' is not V1, V2 or null",
				  s);
	rc = get_text(o, "security_type", "vm.security_type", true, &s, err);
	if (rc)
		return rc;
	vm->security_type = RP_SECURITY_NONE;
	if (s && rp_security_type_from_name(s, &vm->security_type) != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "descriptor: vm.security_type: '%.80s' is not a known security "
				  "type or null",
				  s);
	rc = get_copy(o, "size", "vm.size", true, vm->size, sizeof(vm->size), err);
	if (!rc)
		rc = get_copy(o, "location", "vm.location", true, vm->location,
			      sizeof(vm->location), err);
	if (!rc)
		rc = get_copy(o, "disk_encryption_set", "vm.disk_encryption_set", true,
			      vm->disk_encryption_set, sizeof(vm->disk_encryption_set), err);
	return rc;
}

static int parse_lun(const struct rp_json *o, size_t i, int *lun, struct rp_err *err)
{
	const struct rp_json *v = rp_json_get(o, "lun");
	uint64_t n;

	*lun = -1;
	if (!v || rp_json_is_null(v))
		return 0;
	if (rp_json_u64(v, &n) != 0)
		return rp_err_set(
		    err, RP_EFORMAT,
		    "descriptor: disks[%zu].lun is not a non-negative integer or null", i);
	if (n > RP_DESC_MAX_LUN)
		return rp_err_set(err, RP_EFORMAT,
				  "descriptor: disks[%zu].lun %" PRIu64 " is not between 0 and %d",
				  i, n, RP_DESC_MAX_LUN);
	*lun = (int)n;
	return 0;
}

static int parse_disk(const struct rp_json *o, size_t i, struct rp_descriptor *d,
		      struct rp_err *err)
{
	char path[96];
	const char *name, *role_text, *source;
	const struct rp_json *seal;
	enum rp_disk_role role;
	struct rp_desc_disk *disk;
	int lun, rc;

	if (!rp_json_is_object(o))
		return rp_err_set(err, RP_EFORMAT, "descriptor: disks[%zu] is not an object", i);
	snprintf(path, sizeof(path), "disks[%zu].name", i);
	rc = get_text(o, "name", path, false, &name, err);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "disks[%zu].role", i);
	rc = get_text(o, "role", path, false, &role_text, err);
	if (rc)
		return rc;
	if (strcmp(role_text, "os") == 0)
		role = RP_DISK_OS;
	else if (strcmp(role_text, "data") == 0)
		role = RP_DISK_DATA;
	else
		return rp_err_set(err, RP_EFORMAT, "descriptor: %s: '%.40s' is not os or data",
				  path, role_text);
	rc = parse_lun(o, i, &lun, err);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "disks[%zu].source (disk '%.40s')", i, name);
	rc = get_text(o, "source", path, false, &source, err);
	if (!rc)
		rc = add_disk(d, name, role, lun, source, RP_EFORMAT, err);
	if (rc)
		return rc;
	disk = &d->disks[d->ndisks - 1];
	snprintf(path, sizeof(path), "disks[%zu]", i);
	rc = get_size(o, path, &disk->has_size, &disk->size, err);
	if (rc)
		return rc;
	seal = rp_json_get(o, "seal");
	if (!seal || rp_json_is_null(seal))
		return 0;
	if (!rp_json_is_object(seal))
		return rp_err_set(err, RP_EFORMAT, "descriptor: disks[%zu].seal is not an object",
				  i);
	rc = rp_seal_from_json(seal, &disk->seal, err);
	if (rc)
		rp_err_prefix(err, "descriptor: disks[%zu].seal", i);
	return rc;
}

static int parse_disks(const struct rp_json *root, struct rp_descriptor *d, struct rp_err *err)
{
	const struct rp_json *arr = rp_json_get(root, "disks");
	size_t n, i;
	int rc;

	if (!arr)
		return rp_err_set(err, RP_EFORMAT, "descriptor: disks is missing");
	if (!rp_json_is_array(arr))
		return rp_err_set(err, RP_EFORMAT, "descriptor: disks is not an array");
	n = rp_json_array_size(arr);
	if (n > RP_DESC_MAX_DISKS)
		return rp_err_set(err, RP_EFORMAT,
				  "descriptor: disks has %zu entries, more than %d", n,
				  RP_DESC_MAX_DISKS);
	for (i = 0; i < n; i++) {
		rc = parse_disk(rp_json_array_at(arr, i), i, d, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_blob(const struct rp_json *root, const char *key, struct rp_desc_blob *b,
		      struct rp_err *err)
{
	const struct rp_json *o = rp_json_get(root, key);
	char path[64];
	const char *source;
	bool has_size;
	uint64_t size;
	int rc;

	if (!o || rp_json_is_null(o))
		return 0;
	if (!rp_json_is_object(o))
		return rp_err_set(err, RP_EFORMAT, "descriptor: %s is not an object or null", key);
	snprintf(path, sizeof(path), "%s.source", key);
	rc = get_text(o, "source", path, false, &source, err);
	if (!rc)
		rc = get_size(o, key, &has_size, &size, err);
	if (!rc)
		rc = blob_set(b, source, has_size, size, path, RP_EFORMAT, err);
	return rc;
}

static int parse_header(const struct rp_json *root, struct rp_descriptor *d, struct rp_err *err)
{
	const struct rp_json *v;
	const char *s;
	uint64_t version;
	int rc;

	if (!rp_json_is_object(root))
		return rp_err_set(err, RP_EFORMAT, "descriptor: the document is not a JSON object");
	rc = get_text(root, "format", "format", false, &s, err);
	if (rc)
		return rc;
	if (strcmp(s, RP_DESC_FORMAT) != 0)
		return rp_err_set(err, RP_EFORMAT, "descriptor: format '%.80s' is not '%s'", s,
				  RP_DESC_FORMAT);
	v = rp_json_get(root, "version");
	if (!v)
		return rp_err_set(err, RP_EFORMAT, "descriptor: version is missing");
	if (rp_json_u64(v, &version) != 0)
		return rp_err_set(err, RP_EFORMAT,
				  "descriptor: version is not a non-negative integer");
	if (version > RP_DESC_VERSION)
		return rp_err_set(
		    err, RP_EFORMAT,
		    "descriptor version %" PRIu64 " is newer than this tool understands", version);
	if (version < 1)
		return rp_err_set(err, RP_EFORMAT, "descriptor: version %" PRIu64 " is not valid",
				  version);
	d->version = (unsigned)version;
	rc = get_copy(root, "id", "id", false, d->id, sizeof(d->id), err);
	if (!rc && d->id[0] == '\0')
		rc = rp_err_set(err, RP_EFORMAT, "descriptor: id is empty");
	if (!rc && has_control(d->id))
		rc = rp_err_set(err, RP_EFORMAT, "descriptor: id contains a control character");
	if (!rc)
		rc = get_copy(root, "created", "created", false, d->created, sizeof(d->created),
			      err);
	return rc;
}

int rp_descriptor_from_json(const struct rp_json *root, struct rp_descriptor **out,
			    struct rp_err *err)
{
	struct rp_descriptor *d = NULL;
	int rc;

	rc = rp_descriptor_new(&d, err);
	if (rc)
		return rc;
	rc = parse_header(root, d, err);
	if (!rc)
		rc = parse_vm(root, &d->vm, err);
	if (!rc)
		rc = parse_disks(root, d, err);
	if (!rc)
		rc = parse_blob(root, "guest_state", &d->guest_state, err);
	if (!rc)
		rc = parse_blob(root, "vm_metadata", &d->vm_metadata, err);
	if (!rc)
		rc = rp_descriptor_check(d, err);
	if (rc) {
		rp_descriptor_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int rp_descriptor_parse(const char *text, size_t len, struct rp_descriptor **out,
			struct rp_err *err)
{
	struct rp_json *root = NULL;
	int rc;

	rc = rp_json_parse(text, len, &root, err);
	if (rc) {
		rp_err_prefix(err, "descriptor");
		return RP_EFORMAT;
	}
	rc = rp_descriptor_from_json(root, out, err);
	rp_json_free(root);
	return rc;
}

int rp_descriptor_load(const char *path, struct rp_descriptor **out, struct rp_err *err)
{
	struct rp_json *root = NULL;
	int rc;

	rc = rp_json_load_file(path, RP_DESC_MAX_BYTES, &root, err);
	if (rc) {
		rp_err_prefix(err, "recovery point descriptor");
		return rc;
	}
	rc = rp_descriptor_from_json(root, out, err);
	if (rc)
		rp_err_prefix(err, "'%s'", path);
	rp_json_free(root);
	return rc;
}

/* ---- writing ---- */

static struct rp_json *str_or_null(const char *s)
{
	return s && s[0] ? rp_json_new_string(s) : rp_json_new_null();
}

static struct rp_json *size_or_null(bool has, uint64_t size)
{
	return has ? rp_json_new_u64(size) : rp_json_new_null();
}

static struct rp_json *blob_json(const struct rp_desc_blob *b)
{
	struct rp_json *o;

	if (!b->source)
		return rp_json_new_null();
	o = rp_json_new_object();
	if (o && (rp_json_set_str(o, "source", b->source) != 0 ||
		  rp_json_set(o, "size", size_or_null(b->has_size, b->size)) != 0)) {
		rp_json_free(o);
		o = NULL;
	}
	return o;
}

/* One disk as JSON into *out; RP_EIO when out of memory, or the seal writer's error. */
static int disk_json(const struct rp_desc_disk *k, struct rp_json **out, struct rp_err *err)
{
	struct rp_json *o = rp_json_new_object(), *seal = NULL;
	int rc = 0;

	if (!o)
		return rp_err_set(err, RP_EIO, "descriptor: out of memory building JSON");
	rc |= rp_json_set_str(o, "name", k->name);
	rc |= rp_json_set_str(o, "role", rp_disk_role_name(k->role));
	rc |= rp_json_set(o, "lun",
			  k->lun >= 0 ? rp_json_new_u64((uint64_t)k->lun) : rp_json_new_null());
	rc |= rp_json_set_str(o, "source", k->source);
	rc |= rp_json_set(o, "size", size_or_null(k->has_size, k->size));
	if (rc)
		rc = rp_err_set(err, RP_EIO, "descriptor: out of memory building JSON");
	if (!rc && k->seal) {
		rc = rp_seal_to_json(k->seal, &seal, err);
		if (rc)
			rp_err_prefix(err, "descriptor: disk '%s': seal", k->name);
		else if (rp_json_set(o, "seal", seal) != 0)
			rc = rp_err_set(err, RP_EIO, "descriptor: out of memory building JSON");
	}
	if (rc) {
		rp_json_free(o);
		return rc;
	}
	*out = o;
	return 0;
}

int rp_descriptor_to_json(const struct rp_descriptor *d, struct rp_json **out, struct rp_err *err)
{
	struct rp_json *root, *vm, *disks;
	size_t i;
	int rc;

	rc = rp_descriptor_check(d, err);
	if (rc)
		return rc;
	root = rp_json_new_object();
	if (!root)
		return rp_err_set(err, RP_EIO, "descriptor: out of memory");
	rc |= rp_json_set_str(root, "format", RP_DESC_FORMAT);
	rc |= rp_json_set_u64(root, "version", RP_DESC_VERSION);
	rc |= rp_json_set_str(root, "id", d->id);
	rc |= rp_json_set_str(root, "created", d->created);
	vm = rp_json_new_object();
	if (vm) {
		rc |= rp_json_set_str(vm, "name", d->vm.name);
		rc |= rp_json_set_str(vm, "os_type", rp_os_type_name(d->vm.os_type));
		rc |= rp_json_set(vm, "hyperv_generation",
				  str_or_null(rp_hyperv_gen_name(d->vm.hyperv_generation)));
		rc |= rp_json_set(vm, "security_type",
				  str_or_null(rp_security_type_name(d->vm.security_type)));
		rc |= rp_json_set(vm, "size", str_or_null(d->vm.size));
		rc |= rp_json_set(vm, "location", str_or_null(d->vm.location));
		rc |=
		    rp_json_set(vm, "disk_encryption_set", str_or_null(d->vm.disk_encryption_set));
	}
	rc |= rp_json_set(root, "vm", vm);
	rc |= rp_json_set(root, "disks", rp_json_new_array());
	rc |= rp_json_set(root, "guest_state", blob_json(&d->guest_state));
	rc |= rp_json_set(root, "vm_metadata", blob_json(&d->vm_metadata));
	if (rc)
		rc = rp_err_set(err, RP_EIO, "descriptor: out of memory building JSON");
	disks = rp_json_get(root, "disks");
	for (i = 0; rc == 0 && i < d->ndisks; i++) {
		struct rp_json *dj = NULL;

		rc = disk_json(&d->disks[i], &dj, err);
		if (!rc && rp_json_append(disks, dj) != 0)
			rc = rp_err_set(err, RP_EIO, "descriptor: out of memory building JSON");
	}
	if (rc) {
		rp_json_free(root);
		return rc;
	}
	*out = root;
	return 0;
}

int rp_descriptor_write(const char *path, const struct rp_descriptor *d, struct rp_err *err)
{
	struct rp_json *root;
	int rc = rp_descriptor_to_json(d, &root, err);

	if (rc)
		return rc;
	/* 0600: the descriptor may hold SAS URLs; never through a planted name (common/outfile.h).
	 */
	rc = rp_json_write_file_mode(path, root, 0600, err);
	rp_json_free(root);
	return rc;
}
