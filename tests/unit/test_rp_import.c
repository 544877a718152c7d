/*
 * Tests of formats/rp_import.c: descriptors built from the fixtures in testdata/azure (made by
 * testdata/azure/make-fixtures.py) — beginGetAccess answers for a CVM OS disk and a data disk,
 * plain and wrapped as an async operation result, and an Azure Backup config blob in UTF-16LE
 * with trailing NULs — and one-field-broken variants refused with code and message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "formats/rp_import.h"

#define CONFIG_FIXTURE "config-linuxvm01-0f6c1a9e-5d3b-4c2e-9a7f-2b8e4d6c1a30.json"
#define SIG "sig=FAKEsignature"

/* A fixture of testdata/azure/. */
static uint8_t *load(const char *name, size_t *len)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "azure/%s", name);
	return unit_testdata(rel, len);
}

static const struct rp_import_vm cvm = {
    .id = "rp-cvm01",
    .created = "2026-11-28T10:00:00Z",
    .name = "cvm01",
    .os_type = RP_OS_LINUX,
    .security_type = RP_SECURITY_CVM_DISK_PMK,
    .size = "Standard_DC2as_v5",
};

static void check_cvm(const struct rp_descriptor *d)
{
	assert_string_equal(d->id, "rp-cvm01");
	assert_string_equal(d->created, "2026-11-28T10:00:00Z");
	assert_string_equal(d->vm.name, "cvm01");
	assert_int_equal(d->vm.os_type, RP_OS_LINUX);
	assert_int_equal(d->vm.hyperv_generation, RP_HYPERV_V2); /* inferred: a CVM */
	assert_int_equal(d->vm.security_type, RP_SECURITY_CVM_DISK_PMK);
	assert_string_equal(d->vm.size, "Standard_DC2as_v5");
	assert_string_equal(d->vm.location, "");
	assert_int_equal(d->ndisks, 1);
	assert_string_equal(d->disks[0].name, "osdisk");
	assert_int_equal(d->disks[0].role, RP_DISK_OS);
	assert_int_equal(d->disks[0].lun, -1);
	assert_non_null(strstr(d->disks[0].source, "https://md-hdd-5bq1nq0mtrqx."));
	assert_non_null(strstr(d->disks[0].source, "&" SIG));
	assert_non_null(strstr(d->guest_state.source, "/p3rz0nfh2kgw/abcd?sv="));
	assert_non_null(strstr(d->vm_metadata.source, "/q8v1m3jd6tfs/abcd?sv="));
}

static void test_get_access_cvm(void **state)
{
	static const char *const files[] = {"get-access-cvm-os.json",
					    "get-access-cvm-os-operation.json"};
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct rp_descriptor *d = NULL;
		struct rp_err err;
		size_t len;
		uint8_t *buf = load(files[i], &len);

		rp_err_init(&err);
		if (rp_import_get_access((const char *)buf, len, &cvm, &d, &err) != 0)
			fail_msg("%s: %s", files[i], err.msg);
		check_cvm(d);
		rp_descriptor_free(d);
		free(buf);
	}
}

static void test_get_access_data(void **state)
{
	struct rp_import_vm vm = cvm;
	struct rp_descriptor *d = NULL;
	struct rp_err err;
	size_t len;
	uint8_t *buf = load("get-access-data.json", &len);
	static const char cli[] =
	    "{\"accessSas\": \"https://a/b?" SIG "\", \"securityDataAccessSas\": \"\"}";

	(void)state;
	rp_err_init(&err);
	vm.security_type = RP_SECURITY_NONE;
	vm.disk_name = "cvm01-data1";
	vm.has_lun = true;
	vm.lun = 1;
	assert_int_equal(rp_import_get_access((const char *)buf, len, &vm, &d, &err), 0);
	assert_int_equal(d->ndisks, 1);
	assert_string_equal(d->disks[0].name, "cvm01-data1");
	assert_int_equal(d->disks[0].role, RP_DISK_DATA);
	assert_int_equal(d->disks[0].lun, 1);
	assert_null(d->guest_state.source);
	assert_null(d->vm_metadata.source);
	assert_int_equal(d->vm.hyperv_generation, RP_HYPERV_UNKNOWN);
	rp_descriptor_free(d);
	/* the Azure CLI's spelling, and empty security SAS values as absent */
	assert_int_equal(rp_import_get_access(cli, strlen(cli), &vm, &d, &err), 0);
	assert_int_equal(d->disks[0].role, RP_DISK_DATA);
	rp_descriptor_free(d);
	free(buf);
}

struct ga_case {
	const char *json;
	int code;
	const char *msg;
};

static void test_get_access_errors(void **state)
{
	static const struct ga_case cases[] = {
	    {"{}", RP_EFORMAT, "beginGetAccess answer: accessSAS is missing"},
	    {"{\"accessSAS\": null}", RP_EFORMAT, "beginGetAccess answer: accessSAS is missing"},
	    {"{\"accessSAS\": 5}", RP_EFORMAT, "beginGetAccess answer: accessSAS is not a string"},
	    {"{\"accessSAS\": \"ftp://a/b?" SIG "\"}", RP_EFORMAT,
	     "beginGetAccess answer: accessSAS is not an http(s) URL"},
	    {"{\"accessSAS\": \"https://a/b?" SIG "\", \"securityDataAccessSAS\": [1]}", RP_EFORMAT,
	     "beginGetAccess answer: securityDataAccessSAS is not a string"},
	    {"{\"accessSAS\": \"https://a/b?" SIG "\", \"securityMetadataAccessSAS\": \"x" SIG
	     "\"}",
	     RP_EFORMAT, "beginGetAccess answer: securityMetadataAccessSAS is not an http(s) URL"},
	    {"{\"accessSAS\": \"https://a/b?" SIG "\", \"AccessSAS\": \"https://c\"}", RP_EFORMAT,
	     "beginGetAccess answer: accessSAS appears twice (keys differ only in case)"},
	    {"{\"accessSAS\": \"https://a/b\\n?" SIG "\"}", RP_EFORMAT,
	     "beginGetAccess answer: descriptor: disks[0].source (disk 'osdisk') contains a "
	     "control character"},
	    {"{\"status\": \"Succeeded\", \"properties\": {\"output\": 1}}", RP_EFORMAT,
	     "beginGetAccess answer: properties.output is not an object"},
	    {"{\"status\": \"Failed\", \"properties\": {}}", RP_EFORMAT,
	     "beginGetAccess answer: accessSAS is missing"},
	    {"[\"https://a/b?" SIG "\"]", RP_EFORMAT,
	     "beginGetAccess answer: the document is not a JSON object"},
	    {"{\"accessSAS\": \"https://a/b?" SIG, RP_EFORMAT,
	     "beginGetAccess answer: invalid JSON at line 1"},
	    /* jansson quotes the text near the error: it must not reach the message */
	    {"{\"securityDataAccessSAS\": \"httpyDatasig=", RP_EFORMAT,
	     "beginGetAccess answer: invalid JSON at line 1, column 40"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_import_vm vm = cvm;
		struct rp_descriptor *d = NULL;
		struct rp_err err;
		int rc;

		rp_err_init(&err);
		vm.disk_role = i == 7 ? RP_DISK_OS : 0;
		rc = rp_import_get_access(cases[i].json, strlen(cases[i].json), &vm, &d, &err);
		if (rc != cases[i].code || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: rc %d, message '%s'", i, rc, err.msg);
		assert_null(strstr(err.msg, "sig="));
		assert_null(strstr(err.msg, "near"));
		assert_null(d);
	}
}

static void test_get_access_usage(void **state)
{
	struct rp_import_vm vm = cvm;
	struct rp_descriptor *d = NULL;
	struct rp_err err;
	static const char ok[] = "{\"accessSAS\": \"https://a/b\"}";

	(void)state;
	rp_err_init(&err);
	vm.name = NULL;
	assert_int_equal(rp_import_get_access(ok, strlen(ok), &vm, &d, &err), RP_EUSAGE);
	assert_string_equal(err.msg, "import: the VM's name and OS type are required with a "
				     "beginGetAccess answer");
	vm = cvm;
	vm.id = NULL;
	assert_int_equal(rp_import_get_access(ok, strlen(ok), &vm, &d, &err), RP_EUSAGE);
	assert_string_equal(err.msg, "import: a recovery point id is required");
	vm = cvm;
	vm.size = "Standard_DC2as_v5_but_much_longer_than_any_real_size_name_can_be_really";
	assert_int_equal(rp_import_get_access(ok, strlen(ok), &vm, &d, &err), RP_EUSAGE);
	assert_string_equal(err.msg, "import: VM size is longer than 63 bytes");
	assert_null(d);
}

static const struct rp_import_vm backup = {
    .id = "rp-linuxvm01-0f6c1a9e",
    .created = "2026-11-28T10:00:00Z",
};

static void check_config(const struct rp_descriptor *d)
{
	assert_string_equal(d->vm.name, "linuxvm01");
	assert_int_equal(d->vm.os_type, RP_OS_LINUX);
	assert_int_equal(d->vm.hyperv_generation, RP_HYPERV_UNKNOWN);
	assert_int_equal(d->vm.security_type, RP_SECURITY_NONE);
	assert_string_equal(d->vm.size, "Standard_D2s_v5");
	assert_string_equal(d->vm.location, "westeurope");
	assert_int_equal(d->ndisks, 3);
	assert_string_equal(d->disks[0].name, "linuxvm01-osdisk");
	assert_int_equal(d->disks[0].role, RP_DISK_OS);
	assert_string_equal(d->disks[0].source, "https://stagingacct01.blob.core.windows.net/"
						"linuxvm01-4b0c9a1e5d3f/"
						"linuxvm01-osdisk-20261128-100000.vhd");
	assert_string_equal(d->disks[1].name, "linuxvm01-data0");
	assert_int_equal(d->disks[1].lun, 0);
	assert_string_equal(d->disks[2].name, "linuxvm01-data3");
	assert_int_equal(d->disks[2].role, RP_DISK_DATA);
	assert_int_equal(d->disks[2].lun, 3);
	assert_non_null(strstr(d->disks[2].source, "/linuxvm01-data3-20261128-100000.vhd"));
	assert_null(d->guest_state.source);
}

/* The fixture's text re-encoded: 0 UTF-8, 1 UTF-16LE without BOM, 2 UTF-16BE with BOM. */
static uint8_t *reencode(const uint8_t *blob, size_t len, int form, size_t *outlen)
{
	uint8_t *out = malloc(len + 4);
	size_t i, o = 0;

	assert_non_null(out);
	if (form == 2) {
		out[o++] = 0xFE;
		out[o++] = 0xFF;
	}
	for (i = 2; i + 1 < len && (blob[i] || blob[i + 1]); i += 2) {
		assert_int_equal(blob[i + 1], 0); /* the fixture is ASCII */
		if (form == 0) {
			out[o++] = blob[i];
		} else if (form == 1) {
			out[o++] = blob[i];
			out[o++] = 0;
		} else {
			out[o++] = 0;
			out[o++] = blob[i];
		}
	}
	out[o++] = 0; /* a trailing NUL, and for UTF-16 an odd one */
	*outlen = o;
	return out;
}

static void test_backup_config(void **state)
{
	struct rp_descriptor *d = NULL;
	struct rp_err err;
	size_t len, n;
	uint8_t *blob = load(CONFIG_FIXTURE, &len), *alt;
	int form;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(blob[0], 0xFF);
	assert_int_equal(blob[len - 1], 0);
	if (rp_import_backup_config(blob, len, &backup, NULL, 0, &d, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(d->id, "rp-linuxvm01-0f6c1a9e");
	check_config(d);
	rp_descriptor_free(d);
	for (form = 0; form < 3; form++) {
		alt = reencode(blob, len, form, &n);
		if (rp_import_backup_config(alt, n, &backup, NULL, 0, &d, &err) != 0)
			fail_msg("form %d: %s", form, err.msg);
		check_config(d);
		rp_descriptor_free(d);
		free(alt);
	}
	free(blob);
}

/* A compact config blob (UTF-8); a case replaces one top-level member's value. */
enum cmember { C_NAME, C_HW, C_SP, C_SEC, C_COUNT };

static const char *const cmember_names[C_COUNT] = {"name", "properties.hardwareProfile",
						   "properties.storageProfile",
						   "properties.securityProfile"};

#define VHD(n) "{\"uri\": \"https://acct.blob.core.windows.net/c/" n ".vhd\"}"
#define OSD "\"osDisk\": {\"osType\": \"Linux\", \"name\": \"os\", \"vhd\": " VHD("os") "}"

static const char *const cmember_defaults[C_COUNT] = {
    "\"vm1\"",
    "{\"vmSize\": \"Standard_DC4as_v5\"}",
    "{" OSD ", \"dataDisks\": [{\"lun\": 2, \"name\": \"d2\", \"vhd\": " VHD("d2") "}]}",
    "null",
};

static char *build_config(enum cmember m, const char *value)
{
	size_t cap = 4096, len = 0;
	char *doc = malloc(cap);
	int i;

	assert_non_null(doc);
	len += (size_t)snprintf(doc, cap, "{\"location\": \"northeurope\"");
	for (i = 0; i < C_COUNT; i++) {
		if ((int)m == i && value == NULL)
			continue;
		len += (size_t)snprintf(doc + len, cap - len, ", \"%s\": %s", cmember_names[i],
					(int)m == i ? value : cmember_defaults[i]);
	}
	snprintf(doc + len, cap - len, "}");
	return doc;
}

struct sec_case {
	const char *sec;
	const char *enc; /* osDisk.managedDisk.securityProfile, or NULL */
	enum rp_security_type want;
};

static void test_backup_config_security(void **state)
{
	static const struct sec_case cases[] = {
	    {"{\"securityType\": \"TrustedLaunch\"}", NULL, RP_SECURITY_TRUSTED_LAUNCH},
	    {"{\"securityType\": \"ConfidentialVM\"}",
	     "{\"securityEncryptionType\": \"VMGuestStateOnly\"}", RP_SECURITY_CVM_GUEST_STATE_PMK},
	    {"{\"securityType\": \"ConfidentialVM\"}",
	     "{\"securityEncryptionType\": \"DiskWithVMGuestState\"}", RP_SECURITY_CVM_DISK_PMK},
	    {"{\"securityType\": \"ConfidentialVM\"}",
	     "{\"securityEncryptionType\": \"DiskWithVMGuestState\", \"diskEncryptionSet\": "
	     "{\"id\": \"/s/des\"}}",
	     RP_SECURITY_CVM_DISK_CMK},
	    {"{\"securityType\": \"ConfidentialVM\"}",
	     "{\"securityEncryptionType\": \"NonPersistedTPM\"}",
	     RP_SECURITY_CVM_NON_PERSISTED_TPM},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char sp[1024], *doc;
		struct rp_descriptor *d = NULL;
		struct rp_err err;
		struct rp_import_vm vm = backup;

		vm.hyperv_generation = RP_HYPERV_UNKNOWN;
		if (cases[i].enc)
			snprintf(sp, sizeof(sp),
				 "{\"osDisk\": {\"osType\": \"Windows\", \"vhd\": " VHD(
				     "os") ", "
					   "\"managedDisk\": {\"securityProfile\": %s}}}",
				 cases[i].enc);
		else
			snprintf(sp, sizeof(sp), "{" OSD "}");
		doc = malloc(8192);
		assert_non_null(doc);
		snprintf(doc, 8192,
			 "{\"name\": \"v\", \"properties.storageProfile\": %s, "
			 "\"properties.securityProfile\": %s}",
			 sp, cases[i].sec);
		rp_err_init(&err);
		if (rp_import_backup_config((const uint8_t *)doc, strlen(doc), &vm, NULL, 0, &d,
					    &err) != 0)
			fail_msg("case %zu: %s", i, err.msg);
		assert_int_equal(d->vm.security_type, cases[i].want);
		assert_int_equal(d->vm.hyperv_generation, RP_HYPERV_V2);
		assert_int_equal(d->ndisks, 1);
		/* without a name in the blob the disk is called "osdisk" */
		assert_string_equal(d->disks[0].name, cases[i].enc ? "osdisk" : "os");
		rp_descriptor_free(d);
		free(doc);
	}
}

struct cfg_case {
	enum cmember m;
	const char *value; /* NULL: member left out */
	const char *msg;
};

#define SP(x) "{" OSD ", \"dataDisks\": [" x "]}"

static void test_backup_config_errors(void **state)
{
	static const struct cfg_case cases[] = {
	    {C_NAME, NULL, "backup config: name is missing"},
	    {C_NAME, "7", "backup config: name is not a string"},
	    {C_NAME, "\"a/b\"", "backup config: descriptor: vm.name contains a control character"},
	    {C_HW, "{\"vmSize\": 3}",
	     "backup config: properties.hardwareProfile.vmSize is not a string"},
	    {C_SP, NULL, "backup config: properties.storageProfile is missing"},
	    {C_SP, "[]", "backup config: properties.storageProfile is not an object"},
	    {C_SP, "{}", "backup config: properties.storageProfile.osDisk is missing"},
	    {C_SP, "{\"osDisk\": {\"vhd\": " VHD("os") "}}",
	     "backup config: properties.storageProfile.osDisk.osType is missing"},
	    {C_SP, "{\"osDisk\": {\"osType\": \"BeOS\", \"vhd\": " VHD("os") "}}",
	     "backup config: properties.storageProfile.osDisk.osType 'BeOS' is not Linux or "
	     "Windows"},
	    {C_SP, "{\"osDisk\": {\"osType\": \"Linux\"}}",
	     "backup config: properties.storageProfile.osDisk.vhd.uri is missing"},
	    {C_SP, "{\"osDisk\": {\"osType\": \"Linux\", \"vhd\": {\"uri\": \"c:\\\\os.vhd\"}}}",
	     "backup config: properties.storageProfile.osDisk.vhd.uri is not an http(s) URL"},
	    {C_SP, "{" OSD ", \"dataDisks\": {}}",
	     "backup config: properties.storageProfile.dataDisks is not an array"},
	    {C_SP, SP("3"),
	     "backup config: properties.storageProfile.dataDisks[0] is not an object"},
	    {C_SP, SP("{\"vhd\": " VHD("d") "}"),
	     "backup config: properties.storageProfile.dataDisks[0].lun is missing"},
	    {C_SP, SP("{\"lun\": 64, \"vhd\": " VHD("d") "}"),
	     "backup config: properties.storageProfile.dataDisks[0].lun is not an integer from 0 "
	     "to 63"},
	    {C_SP, SP("{\"lun\": 1}"),
	     "backup config: properties.storageProfile.dataDisks[0].vhd.uri is missing"},
	    {C_SP, SP("{\"lun\": 1, \"vhd\": " VHD("a") "}, {\"lun\": 1, \"vhd\": " VHD("b") "}"),
	     "backup config: descriptor: disks[2].name 'datadisk-lun1' is used by disks[1] too"},
	    {C_SP,
	     SP("{\"lun\": 1, \"vhd\": " VHD("a") "}, {\"lun\": 1, \"name\": \"x\", \"vhd\": " VHD(
		 "b") "}"),
	     "backup config: descriptor: disks[2].lun 1 is used by disks[1] too"},
	    {C_SP, SP("{\"lun\": 1, \"vhd\": {\"uri\": \"https://a/b\", \"URI\": \"https://c\"}}"),
	     "backup config: properties.storageProfile.dataDisks[0].vhd.uri appears twice"},
	    {C_SEC, "{\"securityType\": \"Standard2\"}",
	     "backup config: properties.securityProfile.securityType 'Standard2' is not "
	     "TrustedLaunch or ConfidentialVM"},
	    {C_SEC, "{\"securityType\": \"ConfidentialVM\"}",
	     "backup config: a ConfidentialVM without a known "
	     "osDisk.managedDisk.securityProfile.securityEncryptionType"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_descriptor *d = NULL;
		struct rp_err err;
		char *doc = build_config(cases[i].m, cases[i].value);
		int rc;

		rp_err_init(&err);
		rc = rp_import_backup_config((const uint8_t *)doc, strlen(doc), &backup, NULL, 0,
					     &d, &err);
		if (rc != RP_EFORMAT || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: rc %d, message '%s'", i, rc, err.msg);
		assert_null(d);
		free(doc);
	}
}

static void test_backup_config_encoding_errors(void **state)
{
	static const uint8_t odd[] = {0xFF, 0xFE, '{', 0, '}'};
	static const uint8_t nul_inside[] = {'{', '}', 0, '{', 0, 0};
	struct rp_descriptor *d = NULL;
	struct rp_err err;
	char *ok = build_config(C_COUNT, NULL);

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_import_backup_config(odd, sizeof(odd), &backup, NULL, 0, &d, &err),
			 RP_EFORMAT);
	assert_string_equal(err.msg, "backup config: UTF-16 text of odd length");
	assert_int_equal(
	    rp_import_backup_config(nul_inside, sizeof(nul_inside), &backup, NULL, 0, &d, &err),
	    RP_EFORMAT);
	assert_string_equal(err.msg, "backup config: a NUL byte inside the text at offset 2");
	assert_int_equal(
	    rp_import_backup_config((const uint8_t *)"", 0, &backup, NULL, 0, &d, &err),
	    RP_EFORMAT);
	assert_int_equal(rp_import_backup_config((const uint8_t *)ok, RP_IMPORT_MAX_BYTES + 1,
						 &backup, NULL, 0, &d, &err),
			 RP_EFORMAT);
	assert_string_equal(err.msg, "backup config: 16777217 bytes is more than 16777216");
	assert_int_equal(
	    rp_import_backup_config((const uint8_t *)ok, strlen(ok), &backup, NULL, 0, &d, &err),
	    0);
	assert_int_equal(d->disks[1].lun, 2);
	assert_string_equal(d->vm.size, "Standard_DC4as_v5");
	assert_string_equal(d->vm.location, "northeurope");
	rp_descriptor_free(d);
	free(ok);
}

#define CVM_CONFIG "config-cvmvm02-7a1e2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b.json"
#define CVM_OS_DISK "cvmvm02-osdisk-20261128-100000"
#define CVM_DATA_ID                                                                                \
	"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-restored/"          \
	"providers/Microsoft.Compute/disks/cvmvm02-data0-20261128-100000"

/* A CVM restored as managed disks: the config names them, the access answers give the bytes. */
static void test_backup_config_managed(void **state)
{
	struct rp_import_access acc[3];
	struct rp_descriptor *d = NULL;
	struct rp_err err;
	size_t len, olen, dlen;
	uint8_t *blob = load(CVM_CONFIG, &len);
	char *os = (char *)load("get-access-cvm-os.json", &olen);
	char *data = (char *)load("get-access-cvmvm02-data0.json", &dlen);
	static const struct {
		const char *os_key, *data_key, *extra_key, *msg;
	} bad[] = {
	    {CVM_OS_DISK, NULL, NULL,
	     "import: the disk 'cvmvm02-data0-20261128-100000' was restored as a managed disk "
	     "and its access answer is missing: grant access to it (az disk grant-access)"},
	    {NULL, CVM_DATA_ID, NULL,
	     "import: the disk '" CVM_OS_DISK "' was restored as a "
	     "managed disk and its access answer is missing: grant access to it (az disk "
	     "grant-access --secure-vm-guest-state-sas)"},
	    {CVM_OS_DISK, CVM_DATA_ID, "nosuch-disk",
	     "import: the access answer for 'nosuch-disk' matches no managed disk of the config"},
	    {CVM_OS_DISK, CVM_DATA_ID, CVM_OS_DISK,
	     "import: two access answers are for the disk '" CVM_OS_DISK "'"},
	};
	size_t i;

	(void)state;
	acc[0] = (struct rp_import_access){CVM_OS_DISK, os, olen};
	/* by its managed disk id, in another case: ARM ids are case-insensitive */
	acc[1] = (struct rp_import_access){
	    "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/resourceGroups/rg-restored/"
	    "providers/Microsoft.Compute/disks/cvmvm02-data0-20261128-100000",
	    data, dlen};
	rp_err_init(&err);
	if (rp_import_backup_config(blob, len, &backup, acc, 2, &d, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(d->ndisks, 2);
	assert_string_equal(d->disks[0].name, CVM_OS_DISK);
	assert_int_equal(d->disks[0].role, RP_DISK_OS);
	assert_true(strstr(d->disks[0].source, "md-hdd-5bq1nq0mtrqx") != NULL);
	assert_int_equal(d->disks[1].lun, 0);
	assert_true(strstr(d->disks[1].source, "md-ssd-8k2m4n6p0q1r") != NULL);
	assert_true(strstr(d->guest_state.source, "p3rz0nfh2kgw") != NULL);
	assert_true(strstr(d->vm_metadata.source, "q8v1m3jd6tfs") != NULL);
	assert_int_equal(d->vm.security_type, RP_SECURITY_CVM_DISK_CMK);
	assert_int_equal(d->vm.hyperv_generation, RP_HYPERV_V2);
	assert_string_equal(d->vm.disk_encryption_set,
			    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
			    "rg-cvm/providers/Microsoft.Compute/diskEncryptionSets/des-cvm-cmk");
	rp_descriptor_free(d);
	d = NULL;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = 0;

		if (bad[i].os_key || i == 1)
			acc[n++] = (struct rp_import_access){bad[i].os_key, os, olen};
		if (bad[i].data_key)
			acc[n++] = (struct rp_import_access){bad[i].data_key, data, dlen};
		if (bad[i].extra_key)
			acc[n++] = (struct rp_import_access){bad[i].extra_key, data, dlen};
		if (i == 1)
			acc[0].disk = "cvmvm02-data0-20261128-100000", n = 1;
		rp_err_init(&err);
		if (rp_import_backup_config(blob, len, &backup, acc, n, &d, &err) != RP_EUSAGE ||
		    !strstr(err.msg, bad[i].msg))
			fail_msg("case %zu: %s", i, err.msg);
		assert_null(d);
		/* The library names none of our options (az's are fine): the hint says which
		 * disk's answer is missing. */
		assert_null(strstr(err.msg, "--access-json"));
		if (i < 2) {
			assert_int_equal(err.hint, RP_H_ACCESS_JSON);
			assert_string_equal(err.hint_value,
					    i == 0 ? "cvmvm02-data0-20261128-100000" : CVM_OS_DISK);
		}
	}
	/* an answer for a disk the config restored to the staging account */
	free(blob);
	blob = load(CONFIG_FIXTURE, &len);
	acc[0] = (struct rp_import_access){"linuxvm01-data0", data, dlen};
	assert_int_equal(rp_import_backup_config(blob, len, &backup, acc, 1, &d, &err), RP_EUSAGE);
	assert_non_null(strstr(err.msg, "'linuxvm01-data0' was restored to the staging account"));
	free(blob);
	free(os);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_access_cvm),
	    cmocka_unit_test(test_get_access_data),
	    cmocka_unit_test(test_get_access_errors),
	    cmocka_unit_test(test_get_access_usage),
	    cmocka_unit_test(test_backup_config),
	    cmocka_unit_test(test_backup_config_security),
	    cmocka_unit_test(test_backup_config_errors),
	    cmocka_unit_test(test_backup_config_encoding_errors),
	    cmocka_unit_test(test_backup_config_managed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
