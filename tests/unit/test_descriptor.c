/*
 * Tests of formats/descriptor.c: the documented format (docs/recovery-point.md) parsed member by
 * member, every malformed member refused with RP_EFORMAT and a message naming it (and never
 * quoting a source, which may hold a SAS), the writer's output parsed back, and the file
 * written with mode 0600.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "formats/descriptor.h"

#define SECRET "SECRETSIG"
#define OS_SRC "https://acct.blob.core.windows.net/c/os.vhd?sv=2021-08-06&sig=" SECRET
#define VMGS_SRC "https://md-impexp.z1.blob.storage.azure.net/x/abcd?sig=" SECRET
#define SEAL                                                                                       \
	"{\"format\": \"cvmrestore-seal\", \"version\": 1, \"tool\": \"t\", \"created\": \"c\", "  \
	"\"source\": {\"name\": \"os.vhd\", \"format\": \"vhd-fixed\", \"virtual_size\": 8192}, "  \
	"\"chunk_size\": 4096, \"chunk_count\": 2, \"chunks\": [\"zero\", \"unallocated\"], "      \
	"\"digests\": {}}"
#define VM_OK                                                                                      \
	"{\"name\": \"cvm01\", \"os_type\": \"Linux\", \"hyperv_generation\": \"V2\", "            \
	"\"security_type\": \"ConfidentialVM_DiskEncryptedWithCustomerKey\", "                     \
	"\"size\": \"Standard_DC2as_v5\", \"location\": \"westeurope\"}"
#define OS_DISK                                                                                    \
	"{\"name\": \"osdisk\", \"role\": \"os\", \"lun\": null, \"source\": \"" OS_SRC "\", "     \
	"\"size\": 1074790912, \"seal\": " SEAL "}"
#define DATA_DISK                                                                                  \
	"{\"name\": \"data0\", \"role\": \"data\", \"lun\": 0, \"source\": "                       \
	"\"/mnt/copy/data0.vhd\", "                                                                \
	"\"size\": null}"

enum member { M_FORMAT, M_VERSION, M_ID, M_CREATED, M_VM, M_DISKS, M_GUEST, M_META, M_COUNT };

static const char *const member_names[M_COUNT] = {
    "format", "version", "id", "created", "vm", "disks", "guest_state", "vm_metadata",
};

static const char *const member_defaults[M_COUNT] = {
    "\"cvmrestore-recovery-point\"",
    "1",
    "\"rp-2026-11-28\"",
    "\"2026-11-28T10:00:00Z\"",
    VM_OK,
    "[" OS_DISK ", " DATA_DISK "]",
    "{\"source\": \"" VMGS_SRC "\", \"size\": 4194816}",
    "null",
};

#define REMOVE ((const char *)1)

static char *build_doc(enum member m, const char *value)
{
	size_t cap = 16384, len = 0;
	char *doc = malloc(cap);
	int i;

	assert_non_null(doc);
	len += (size_t)snprintf(doc + len, cap - len, "{");
	for (i = 0; i < M_COUNT; i++) {
		const char *v = (int)m == i && value ? value : member_defaults[i];

		if ((int)m == i && value == REMOVE)
			continue;
		len += (size_t)snprintf(doc + len, cap - len, "%s\"%s\": %s", len > 1 ? ", " : "",
					member_names[i], v);
		assert_true(len < cap);
	}
	snprintf(doc + len, cap - len, "}");
	return doc;
}

static int parse_doc(const char *doc, struct rp_descriptor **d, struct rp_err *err)
{
	return rp_descriptor_parse(doc, strlen(doc), d, err);
}

static void check_default(const struct rp_descriptor *d)
{
	assert_int_equal(d->version, 1);
	assert_string_equal(d->id, "rp-2026-11-28");
	assert_string_equal(d->created, "2026-11-28T10:00:00Z");
	assert_string_equal(d->vm.name, "cvm01");
	assert_int_equal(d->vm.os_type, RP_OS_LINUX);
	assert_int_equal(d->vm.hyperv_generation, RP_HYPERV_V2);
	assert_int_equal(d->vm.security_type, RP_SECURITY_CVM_DISK_CMK);
	assert_string_equal(d->vm.size, "Standard_DC2as_v5");
	assert_string_equal(d->vm.location, "westeurope");
	assert_int_equal(d->ndisks, 2);
	assert_string_equal(d->disks[0].name, "osdisk");
	assert_int_equal(d->disks[0].role, RP_DISK_OS);
	assert_int_equal(d->disks[0].lun, -1);
	assert_string_equal(d->disks[0].source, OS_SRC);
	assert_true(d->disks[0].has_size);
	assert_int_equal(d->disks[0].size, 1074790912);
	assert_non_null(d->disks[0].seal);
	assert_int_equal(d->disks[0].seal->virtual_size, 8192);
	assert_int_equal(rp_seal_chunk_state(d->disks[0].seal, 1), RP_CHUNK_UNALLOCATED);
	assert_string_equal(d->disks[1].name, "data0");
	assert_int_equal(d->disks[1].role, RP_DISK_DATA);
	assert_int_equal(d->disks[1].lun, 0);
	assert_string_equal(d->disks[1].source, "/mnt/copy/data0.vhd");
	assert_false(d->disks[1].has_size);
	assert_null(d->disks[1].seal);
	assert_string_equal(d->guest_state.source, VMGS_SRC);
	assert_true(d->guest_state.has_size);
	assert_int_equal(d->guest_state.size, 4194816);
	assert_null(d->vm_metadata.source);
}

static void test_parse_valid(void **state)
{
	struct rp_descriptor *d = NULL;
	struct rp_err err;
	char *doc = build_doc(M_COUNT, NULL);

	(void)state;
	rp_err_init(&err);
	assert_int_equal(parse_doc(doc, &d, &err), 0);
	check_default(d);
	rp_descriptor_free(d);
	free(doc);
}

struct ok_case {
	enum member m;
	const char *value;
};

static void test_parse_valid_variations(void **state)
{
	static const struct ok_case cases[] = {
	    /* nullable VM members as null or absent; every security type */
	    {M_VM, "{\"name\": \"w\", \"os_type\": \"Windows\", \"hyperv_generation\": null, "
		   "\"security_type\": null, \"size\": null, \"location\": null}"},
	    {M_VM, "{\"name\": \"w\", \"os_type\": \"Windows\"}"},
	    {M_VM, "{\"name\": \"w\", \"os_type\": \"Linux\", \"hyperv_generation\": \"V1\", "
		   "\"security_type\": \"TrustedLaunch\"}"},
	    {M_VM, "{\"name\": \"w\", \"os_type\": \"Linux\", \"security_type\": "
		   "\"ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey\"}"},
	    {M_VM, "{\"name\": \"w\", \"os_type\": \"Linux\", \"security_type\": "
		   "\"ConfidentialVM_DiskEncryptedWithPlatformKey\"}"},
	    {M_VM, "{\"name\": \"w\", \"os_type\": \"Linux\", \"security_type\": "
		   "\"ConfidentialVM_NonPersistedTPM\", \"future\": 1}"},
	    /* only data disks; lun and size absent; unknown members ignored */
	    {M_DISKS, "[{\"name\": \"d\", \"role\": \"data\", \"source\": \"d.vhd\", \"x\": 1}]"},
	    {M_DISKS, "[" DATA_DISK ", {\"name\": \"d1\", \"role\": \"data\", \"lun\": 63, "
		      "\"source\": \"d1.raw\", \"seal\": null}]"},
	    {M_GUEST, "null"},
	    {M_GUEST, REMOVE},
	    {M_GUEST, "{\"source\": \"vmgs.bin\"}"},
	    {M_META, "{\"source\": \"vmmd.bin\", \"size\": null}"},
	    {M_CREATED, "\"\""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_descriptor *d = NULL;
		struct rp_err err;
		char *doc = build_doc(cases[i].m, cases[i].value);

		rp_err_init(&err);
		if (parse_doc(doc, &d, &err) != 0)
			fail_msg("case %zu: %s", i, err.msg);
		rp_descriptor_free(d);
		free(doc);
	}
}

struct bad_case {
	enum member m;
	const char *value;
	const char *msg;
};

#define DISKS1(x) "[" OS_DISK ", " x "]"

static void test_parse_errors(void **state)
{
	static const struct bad_case cases[] = {
	    {M_FORMAT, REMOVE, "descriptor: format is missing"},
	    {M_FORMAT, "\"cvmrestore-seal\"",
	     "descriptor: format 'cvmrestore-seal' is not 'cvmrestore-recovery-point'"},
	    {M_FORMAT, "7", "descriptor: format is not a string"},
	    {M_VERSION, "2", "descriptor version 2 is newer than this tool understands"},
	    {M_VERSION, "0", "descriptor: version 0 is not valid"},
	    {M_VERSION, "\"1\"", "descriptor: version is not a non-negative integer"},
	    {M_VERSION, REMOVE, "descriptor: version is missing"},
	    {M_ID, REMOVE, "descriptor: id is missing"},
	    {M_ID, "\"\"", "descriptor: id is empty"},
	    {M_ID, "\"a\\nb\"", "descriptor: id contains a control character"},
	    {M_ID,
	     "\""
	     "0123456789012345678901234567890123456789012345678901234567890123"
	     "0123456789012345678901234567890123456789012345678901234567890123\"",
	     "descriptor: id is longer than 127 bytes"},
	    {M_CREATED, "null", "descriptor: created is missing"},
	    {M_VM, REMOVE, "descriptor: vm is missing"},
	    {M_VM, "[]", "descriptor: vm is not an object"},
	    {M_VM, "{\"os_type\": \"Linux\"}", "descriptor: vm.name is missing"},
	    {M_VM, "{\"name\": \"\", \"os_type\": \"Linux\"}", "descriptor: vm.name is empty"},
	    {M_VM, "{\"name\": \"a/b\", \"os_type\": \"Linux\"}",
	     "descriptor: vm.name contains a control character, '/' or '\\'"},
	    {M_VM, "{\"name\": \"..\", \"os_type\": \"Linux\"}",
	     "descriptor: vm.name: '..' is not a valid name"},
	    {M_VM, "{\"name\": \"v\"}", "descriptor: vm.os_type is missing"},
	    {M_VM, "{\"name\": \"v\", \"os_type\": \"linux\"}",
	     "descriptor: vm.os_type: 'linux' is not Linux or Windows"},
	    {M_VM, "{\"name\": \"v\", \"os_type\": \"Linux\", \"hyperv_generation\": \"V3\"}",
	     "descriptor: vm.hyperv_generation: 'V3' is not V1, V2 or null"},
	    {M_VM, "{\"name\": \"v\", \"os_type\": \"Linux\", \"hyperv_generation\": 2}",
	     "descriptor: vm.hyperv_generation is not a string or null"},
	    {M_VM,
	     "{\"name\": \"v\", \"os_type\": \"Linux\", \"security_type\": \"ConfidentialVM\"}",
	     "descriptor: vm.security_type: 'ConfidentialVM' is not a known security type or null"},
	    {M_VM, "{\"name\": \"v\", \"os_type\": \"Linux\", \"size\": \"\"}",
	     "descriptor: vm.size is empty (use null)"},
	    {M_VM, "{\"name\": \"v\", \"os_type\": \"Linux\", \"location\": 5}",
	     "descriptor: vm.location is not a string or null"},
	    {M_DISKS, REMOVE, "descriptor: disks is missing"},
	    {M_DISKS, "{}", "descriptor: disks is not an array"},
	    {M_DISKS, "[]", "descriptor: disks is empty"},
	    {M_DISKS, DISKS1("7"), "descriptor: disks[1] is not an object"},
	    {M_DISKS, DISKS1("{\"role\": \"data\", \"source\": \"x\"}"),
	     "descriptor: disks[1].name is missing"},
	    {M_DISKS, DISKS1("{\"name\": \"d\", \"role\": \"foo\", \"source\": \"x\"}"),
	     "descriptor: disks[1].role: 'foo' is not os or data"},
	    {M_DISKS, DISKS1("{\"name\": \"d\", \"source\": \"x\"}"),
	     "descriptor: disks[1].role is missing"},
	    {M_DISKS,
	     DISKS1("{\"name\": \"d\", \"role\": \"data\", \"lun\": 64, \"source\": \"x\"}"),
	     "descriptor: disks[1].lun 64 is not between 0 and 63"},
	    {M_DISKS,
	     DISKS1("{\"name\": \"d\", \"role\": \"data\", \"lun\": -1, \"source\": \"x\"}"),
	     "descriptor: disks[1].lun is not a non-negative integer or null"},
	    {M_DISKS, DISKS1("{\"name\": \"d\", \"role\": \"data\"}"),
	     "descriptor: disks[1].source (disk 'd') is missing"},
	    {M_DISKS, DISKS1("{\"name\": \"d\", \"role\": \"data\", \"source\": [\"" SECRET "\"]}"),
	     "descriptor: disks[1].source (disk 'd') is not a string"},
	    {M_DISKS, DISKS1("{\"name\": \"d\", \"role\": \"data\", \"source\": \"\"}"),
	     "descriptor: disks[1].source (disk 'd') is empty"},
	    {M_DISKS,
	     DISKS1("{\"name\": \"d\", \"role\": \"data\", \"source\": \"x?" SECRET "\\n\"}"),
	     "descriptor: disks[1].source (disk 'd') contains a control character"},
	    {M_DISKS,
	     DISKS1("{\"name\": \"d\", \"role\": \"data\", \"source\": \"x\", \"size\": "
		    "\"" SECRET "\"}"),
	     "descriptor: disks[1].size is not a non-negative integer or null"},
	    {M_DISKS,
	     DISKS1("{\"name\": \"d\", \"role\": \"data\", \"source\": \"x\", \"seal\": 1}"),
	     "descriptor: disks[1].seal is not an object"},
	    {M_DISKS,
	     DISKS1("{\"name\": \"d\", \"role\": \"data\", \"source\": \"x\", \"seal\": "
		    "{\"format\": \"cvmrestore-seal\", \"version\": 3}}"),
	     "descriptor: disks[1].seal: seal version 3 is newer than this tool understands"},
	    {M_DISKS, DISKS1("{\"name\": \"osdisk\", \"role\": \"data\", \"source\": \"x\"}"),
	     "descriptor: disks[1].name 'osdisk' is used by disks[0] too"},
	    {M_DISKS, DISKS1("{\"name\": \"os2\", \"role\": \"os\", \"source\": \"x\"}"),
	     "descriptor: disks[1] is a second os disk (disks[0] is one)"},
	    {M_DISKS, "[{\"name\": \"o\", \"role\": \"os\", \"lun\": 0, \"source\": \"x\"}]",
	     "descriptor: disks[0].lun: an os disk has no lun"},
	    {M_DISKS,
	     "[" DATA_DISK ", {\"name\": \"d1\", \"role\": \"data\", \"lun\": 0, "
	     "\"source\": \"x\"}]",
	     "descriptor: disks[1].lun 0 is used by disks[0] too"},
	    {M_GUEST, "\"" VMGS_SRC "\"", "descriptor: guest_state is not an object or null"},
	    {M_GUEST, "{\"size\": 1}", "descriptor: guest_state.source is missing"},
	    {M_GUEST, "{\"source\": \"x\", \"size\": -1}",
	     "descriptor: guest_state.size is not a non-negative integer or null"},
	    {M_META, "{\"source\": \"\"}", "descriptor: vm_metadata.source is empty"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rp_descriptor *d = NULL;
		struct rp_err err;
		char *doc = build_doc(cases[i].m, cases[i].value);
		int rc;

		rp_err_init(&err);
		rc = parse_doc(doc, &d, &err);
		if (rc != RP_EFORMAT || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: rc %d, message '%s'", i, rc, err.msg);
		/* a source (it may hold a SAS) never reaches a message */
		assert_null(strstr(err.msg, SECRET));
		assert_null(strstr(err.msg, "blob.core"));
		assert_null(d);
		free(doc);
	}
}

static void test_not_json(void **state)
{
	struct rp_descriptor *d = NULL;
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(parse_doc("[1, 2]", &d, &err), RP_EFORMAT);
	assert_string_equal(err.msg, "descriptor: the document is not a JSON object");
	assert_int_equal(parse_doc("{\"format\": ", &d, &err), RP_EFORMAT);
	assert_non_null(strstr(err.msg, "descriptor: invalid JSON at line 1"));
}

/* Parse, write, parse again: the same descriptor; the file is private. */
static void test_roundtrip_and_write(void **state)
{
	struct rp_descriptor *d = NULL, *e = NULL;
	struct rp_json *j = NULL;
	struct rp_err err;
	char *doc = build_doc(M_COUNT, NULL), *text, dir[4096], path[4200];
	struct stat st;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(parse_doc(doc, &d, &err), 0);
	assert_int_equal(rp_descriptor_to_json(d, &j, &err), 0);
	text = rp_json_dump(j, true);
	assert_non_null(text);
	assert_int_equal(parse_doc(text, &e, &err), 0);
	check_default(e);
	rp_descriptor_free(e);
	free(text);
	rp_json_free(j);
	unit_tmpdir(dir, sizeof(dir), "test_descriptor");
	snprintf(path, sizeof(path), "%s/rp.json", dir);
	unit_write(path, "", 0);
	chmod(path, 0644);
	assert_int_equal(rp_descriptor_write(path, d, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(rp_descriptor_load(path, &e, &err), 0);
	check_default(e);
	rp_descriptor_free(e);
	unit_rmtree(dir);
	rp_descriptor_free(d);
	free(doc);
}

/* Building one in code: the setters' own checks, and the writer refusing an invalid one. */
static void test_build(void **state)
{
	struct rp_descriptor *d = NULL;
	struct rp_json *j = NULL;
	struct rp_err err;

	(void)state;
	rp_err_init(&err);
	assert_int_equal(rp_descriptor_new(&d, &err), 0);
	snprintf(d->id, sizeof(d->id), "x");
	snprintf(d->vm.name, sizeof(d->vm.name), "vm");
	d->vm.os_type = RP_OS_WINDOWS;
	assert_int_equal(rp_descriptor_to_json(d, &j, &err), RP_EFORMAT);
	assert_string_equal(err.msg, "descriptor: disks is empty");
	assert_int_equal(rp_descriptor_add_disk(d, "a", RP_DISK_DATA, 64, "x", &err), RP_EUSAGE);
	assert_string_equal(err.msg, "descriptor: disks[0].lun 64 is not between 0 and 63");
	assert_int_equal(rp_descriptor_add_disk(d, "a", RP_DISK_DATA, 1, "x\t" SECRET, &err),
			 RP_EUSAGE);
	assert_null(strstr(err.msg, SECRET));
	assert_int_equal(rp_descriptor_add_disk(d, "a", RP_DISK_DATA, 1, "x", &err), 0);
	assert_int_equal(rp_descriptor_add_disk(d, "a", RP_DISK_DATA, 2, "y", &err), 0);
	assert_int_equal(rp_descriptor_to_json(d, &j, &err), RP_EFORMAT);
	assert_string_equal(err.msg, "descriptor: disks[1].name 'a' is used by disks[0] too");
	snprintf(d->disks[1].name, sizeof(d->disks[1].name), "b");
	assert_int_equal(rp_desc_blob_set(&d->vm_metadata, "", false, 0, &err), RP_EUSAGE);
	assert_int_equal(rp_desc_blob_set(&d->vm_metadata, "m", true, 5, &err), 0);
	assert_int_equal(rp_desc_blob_set(&d->vm_metadata, "n", false, 0, &err), 0);
	assert_int_equal(rp_descriptor_to_json(d, &j, &err), 0);
	rp_json_free(j);
	rp_descriptor_free(d);
	rp_descriptor_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_valid),
	    cmocka_unit_test(test_parse_valid_variations),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_not_json),
	    cmocka_unit_test(test_roundtrip_and_write),
	    cmocka_unit_test(test_build),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
