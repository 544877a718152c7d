#include "cli/cli_rpsource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
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

char *cli_descriptor_source(const char *desc_path, const char *source)
{
	const char *slash = strrchr(desc_path, '/');
	size_t n;
	char *p;

	if (rp_is_url(source) || source[0] == '/' || !slash)
		return strdup(source);
	n = (size_t)(slash - desc_path) + 1 + strlen(source) + 1;
	p = malloc(n);
	if (p)
		snprintf(p, n, "%.*s/%s", (int)(slash - desc_path), desc_path, source);
	return p;
}
