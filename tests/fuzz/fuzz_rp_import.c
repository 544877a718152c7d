/*
 * Fuzz target for formats/rp_import.c. The first byte chooses the document: 'g' a
 * beginGetAccess answer, anything else an Azure Backup config blob (the rest of the input).
 * Either is accepted or refused with a message; an accepted one must be a valid descriptor that
 * the writer accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/rp_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rp_import_vm vm = {
	    .id = "fuzz",
	    .created = "2026-11-28T10:00:00Z",
	    .name = "vm",
	    .os_type = RP_OS_LINUX,
	};
	struct rp_descriptor *d = NULL;
	struct rp_json *j = NULL;
	struct rp_err err;
	int rc;

	if (size == 0)
		return 0;
	rp_err_init(&err);
	if (data[0] == 'g')
		rc = rp_import_get_access((const char *)data + 1, size - 1, &vm, &d, &err);
	else
		rc = rp_import_backup_config(data + 1, size - 1, &vm, NULL, 0, &d, &err);
	if (rc) {
		if (err.msg[0] == '\0' || d || strstr(err.msg, "sig="))
			abort();
		return 0;
	}
	if (rp_descriptor_check(d, &err) != 0 || rp_descriptor_to_json(d, &j, &err) != 0)
		abort();
	rp_json_free(j);
	rp_descriptor_free(d);
	return 0;
}
