#include "cli/cli_rpsource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "formats/descriptor.h"
#include "restore/restore.h"

bool cli_is_descriptor(const char *path)
{
	struct rp_json *j = NULL;
	const char *format;
	bool yes;

	if (rp_is_url(path) || rp_json_load_file(path, 64u << 20, &j, NULL) != 0)
		return false;
	format = rp_json_string(rp_json_get(j, "format"));
	yes = format && strcmp(format, "cvmrestore-recovery-point") == 0;
	rp_json_free(j);
	return yes;
}

int cli_descriptor_source(const char *desc_path, const char *source, bool allow_outside,
			  char **out, struct rp_err *err)
{
	return rp_descriptor_local_source(desc_path, source, allow_outside, out, err);
}
