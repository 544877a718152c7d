/*
 * cvmrestore rp: recovery point descriptors (docs/recovery-point.md).
 *   rp import (--access-json FILE | --backup-config FILE [--access-json DISK=FILE]...) -o RP.json
 *             [VM properties]
 *   rp show RP.json [--json]
 * Descriptors hold SAS URLs: they are written with mode 0600, and `show` prints sources without
 * their query.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_report_json.h"
#include "cli/cli_util.h"
#include "common/util.h"
#include "formats/descriptor.h"
#include "formats/rp_import.h"
#include "net/http.h"

#define MAX_ACCESS 64

struct access_list {
	const char *v[MAX_ACCESS];
	size_t n;
};

struct rp_args {
	struct access_list access; /* --access-json, repeated */
	const char *backup_config;
	const char *out;
	bool json;
	struct rp_import_vm vm;
};

static int set_access_json(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			   const char *arg)
{
	struct access_list *l = field;

	(void)o;
	if (l->n == MAX_ACCESS)
		return cli_usage(cmd, "at most %d --access-json options", MAX_ACCESS);
	l->v[l->n++] = arg;
	return 0;
}

static int set_os_type(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		       const char *arg)
{
	enum rp_os_type *t = field;

	(void)o;
	if (strcmp(arg, "Linux") == 0)
		*t = RP_OS_LINUX;
	else if (strcmp(arg, "Windows") == 0)
		*t = RP_OS_WINDOWS;
	else
		return cli_usage(cmd, "--os-type must be Linux or Windows");
	return 0;
}

static int set_hyperv_generation(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
				 const char *arg)
{
	enum rp_hyperv_gen *g = field;

	(void)o;
	if (strcmp(arg, "V1") == 0)
		*g = RP_HYPERV_V1;
	else if (strcmp(arg, "V2") == 0)
		*g = RP_HYPERV_V2;
	else
		return cli_usage(cmd, "--hyperv-generation must be V1 or V2");
	return 0;
}

static int set_security_type(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			     const char *arg)
{
	(void)o;
	if (rp_security_type_from_name(arg, field) != 0)
		return cli_usage(cmd, "unknown --security-type '%s'", arg);
	return 0;
}

static int set_role(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		    const char *arg)
{
	enum rp_disk_role *r = field;

	(void)o;
	if (strcmp(arg, "os") == 0)
		*r = RP_DISK_OS;
	else if (strcmp(arg, "data") == 0)
		*r = RP_DISK_DATA;
	else
		return cli_usage(cmd, "--role must be os or data");
	return 0;
}

static int set_lun(const struct cli_cmd *cmd, const struct cli_opt *o, void *field, const char *arg)
{
	struct rp_import_vm *vm = field;
	uint64_t v;

	(void)o;
	if (rp_parse_u64(arg, &v, NULL) != 0 || v > 63)
		return cli_usage(cmd, "--lun must be a number from 0 to 63");
	vm->has_lun = true;
	vm->lun = (int)v;
	return 0;
}

#define A struct rp_args
static const struct cli_opt rp_opts[] = {
    CLI_OPT_SET(
	"access-json", 0, "[DISK=]FILE",
	"import: a disk (restore point) beginGetAccess answer; with --backup-config, one per disk "
	"restored as a managed disk, DISK its name in the config",
	A, access, set_access_json),
    CLI_OPT_STR("backup-config", 0, "FILE", "import: an Azure Backup restore-disks config blob", A,
		backup_config),
    CLI_OPT_STR("output", 'o', "RP.json", "import: where to write the descriptor (mode 0600)", A,
		out),
    CLI_OPT_STR("id", 0, "ID", "import: the recovery point id (default: made from the time)", A,
		vm.id),
    CLI_OPT_STR("vm-name", 0, "NAME", "import: the VM's name", A, vm.name),
    CLI_OPT_SET("os-type", 0, "Linux|Windows", "import: the VM's OS type", A, vm.os_type,
		set_os_type),
    CLI_OPT_SET("hyperv-generation", 0, "V1|V2", "import: the VM's Hyper-V generation", A,
		vm.hyperv_generation, set_hyperv_generation),
    CLI_OPT_SET("security-type", 0, "TYPE",
		"import: e.g. ConfidentialVM_DiskEncryptedWithCustomerKey", A, vm.security_type,
		set_security_type),
    CLI_OPT_STR("vm-size", 0, "SIZE", "import: e.g. Standard_DC2as_v5", A, vm.size),
    CLI_OPT_STR("location", 0, "REGION", "import: the Azure region", A, vm.location),
    CLI_OPT_STR("disk-name", 0, "NAME", "import (--access-json): the disk's name", A, vm.disk_name),
    CLI_OPT_SET("role", 0, "os|data", "import (--access-json): the disk's role", A, vm.disk_role,
		set_role),
    CLI_OPT_SET("lun", 0, "N", "import (--access-json): a data disk's LUN", A, vm, set_lun),
    CLI_OPT_FLAG("json", 0, "show: print the descriptor as JSON (sources without query)", A, json),
    {0},
};
#undef A

static int read_file(const char *path, uint8_t **buf, size_t *len, struct rp_err *err)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 65536, n = 0;
	uint8_t *b;

	if (!f)
		return rp_err_errno(err, errno, "cannot open '%s'", path);
	b = malloc(cap + 1);
	while (b) {
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		if (cap >= RP_IMPORT_MAX_BYTES) {
			free(b);
			fclose(f);
			return rp_err_set(err, RP_EFORMAT, "'%s' is larger than %u bytes", path,
					  RP_IMPORT_MAX_BYTES);
		}
		cap *= 2;
		{
			uint8_t *nb = realloc(b, cap + 1);
			if (!nb)
				free(b);
			b = nb;
		}
	}
	fclose(f);
	if (!b)
		return rp_err_set(err, RP_EIO, "out of memory");
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
}

/* "DISK=FILE" (DISK a name or a managed disk id) or "FILE" (also a file whose name has '='). */
static const char *access_file(const char *arg, char *disk, size_t disksz)
{
	const char *eq = strchr(arg, '=');

	disk[0] = '\0';
	if (!eq || eq == arg || (size_t)(eq - arg) >= disksz || access(arg, F_OK) == 0)
		return arg;
	memcpy(disk, arg, (size_t)(eq - arg));
	disk[eq - arg] = '\0';
	return eq + 1;
}

static int do_import(const struct cli_cmd *cmd, struct rp_args *a)
{
	struct rp_import_access acc[MAX_ACCESS];
	char disks[MAX_ACCESS][RP_DESC_NAME_MAX];
	uint8_t *files[MAX_ACCESS] = {0};
	struct rp_descriptor *d = NULL;
	char id[64];
	uint8_t *buf = NULL;
	size_t len = 0, i;
	struct rp_err err;
	int rc = 0;

	if (!a->access.n && !a->backup_config)
		return cli_usage(cmd, "rp import takes --access-json FILE or --backup-config FILE");
	if (!a->backup_config && a->access.n > 1)
		return cli_usage(cmd,
				 "one --access-json describes one disk: give --backup-config for "
				 "a whole VM, or import each disk on its own");
	if (!a->out)
		return cli_usage(cmd, "rp import needs -o RP.json");
	if (!a->vm.id) {
		snprintf(id, sizeof(id), "rp-%lld", (long long)time(NULL));
		a->vm.id = id;
	}
	rp_err_init(&err);
	for (i = 0; a->backup_config && i < a->access.n && rc == 0; i++) {
		const char *f = access_file(a->access.v[i], disks[i], sizeof(disks[i]));

		rc = read_file(f, &files[i], &acc[i].len, &err);
		acc[i].json = (const char *)files[i];
		acc[i].disk = disks[i][0] ? disks[i] : NULL;
	}
	if (rc == 0)
		rc = read_file(a->backup_config ? a->backup_config : a->access.v[0], &buf, &len,
			       &err);
	if (rc == 0)
		rc = a->backup_config
			 ? rp_import_backup_config(buf, len, &a->vm, acc, a->access.n, &d, &err)
			 : rp_import_get_access((const char *)buf, len, &a->vm, &d, &err);
	if (buf) {
		explicit_bzero(buf, len);
		free(buf);
	}
	for (i = 0; i < a->access.n; i++)
		if (files[i]) {
			explicit_bzero(files[i], acc[i].len);
			free(files[i]);
		}
	if (rc == 0)
		rc = rp_descriptor_write(a->out, d, &err);
	rp_descriptor_free(d);
	if (rc)
		return cli_fail(cmd, &err);
	printf("wrote %s\n", RP_PATH(a->out));
	return 0;
}

/* Replace every "source" string in the tree with its redacted form. */
static void redact_sources(struct rp_json *v)
{
	struct rp_json *val = NULL;
	const char *key;
	size_t i;

	if (rp_json_is_array(v)) {
		for (i = 0; i < rp_json_array_size(v); i++)
			redact_sources(rp_json_array_at(v, i));
		return;
	}
	for (i = 0; (key = rp_json_object_key_at(v, i, &val)) != NULL; i++) {
		if (strcmp(key, "source") == 0 && rp_json_string(val)) {
			char safe[1024];
			rp_url_redact(rp_json_string(val), safe, sizeof(safe));
			rp_json_set_str(v, "source", safe);
		} else if (strcmp(key, "seal") == 0 && rp_json_is_object(val)) {
			/* The chunk list is long; show only that there is a seal. */
			struct rp_json *digests = rp_json_get(val, "digests");
			char *t = digests ? rp_json_dump(digests, false) : NULL;
			struct rp_json *copy = NULL;
			if (t && rp_json_parse(t, strlen(t), &copy, NULL) == 0)
				rp_json_set(v, "seal", copy);
			else
				rp_json_set_str(v, "seal", "present");
			free(t);
		} else {
			redact_sources(val);
		}
	}
}

static int do_show(const struct cli_cmd *cmd, struct rp_args *a, const char *path)
{
	struct rp_descriptor *d = NULL;
	struct rp_json *j = NULL;
	struct rp_err err;
	int rc;

	rp_err_init(&err);
	rc = rp_descriptor_load(path, &d, &err);
	if (rc == 0)
		rc = rp_descriptor_to_json(d, &j, &err);
	rp_descriptor_free(d);
	if (rc)
		return cli_fail(cmd, &err);
	redact_sources(j);
	if (a->json) {
		cli_doc_envelope(j, CLI_SCHEMA_RP, "rp show");
		rc = cli_print_json(j);
	} else
		cli_print_tree(stdout, j, 0);
	rp_json_free(j);
	return rc;
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct rp_args a;
	const char *pos[2];
	int npos, rc;

	memset(&a, 0, sizeof(a));
	rc = cli_parse(cmd, argc, argv, &a, pos, 2, &npos);
	if (rc)
		return rc;
	if (npos >= 1 && strcmp(pos[0], "import") == 0 && npos == 1)
		return do_import(cmd, &a);
	if (npos == 2 && strcmp(pos[0], "show") == 0)
		return do_show(cmd, &a, pos[1]);
	return cli_usage(cmd, "expected 'rp import ...' or 'rp show RP.json'");
}

const struct cli_cmd cli_cmd_rp = {
    .name = "rp",
    .args = "import (--access-json F | --backup-config F) -o RP.json | show RP.json",
    .summary = "make a recovery point descriptor from Azure's documents, or show one",
    .details = "A descriptor lists the VM's properties and its blobs (docs/recovery-point.md); "
	       "restore and verify\ntake it as SOURCE with --disk NAME or --all.",
    .opts = rp_opts,
    .run = run,
};
