/* A recovery point descriptor given as SOURCE (restore and verify). */
#ifndef RP_CLI_RPSOURCE_H
#define RP_CLI_RPSOURCE_H

#include <stdbool.h>

#include "common/err.h"

/* True if path is a local file that starts like a JSON document (optional BOM and whitespace,
 * then '{' or '['): it is then read as a recovery point descriptor, and refused as one (exit 3,
 * with the line and column) if it is not a valid one. */
bool cli_is_descriptor(const char *path);

/* A disk's source relative to the descriptor's folder, unless it is a URL, confined to that
 * folder unless allow_outside (rp_descriptor_local_source); malloc'd into *out. */
int cli_descriptor_source(const char *desc_path, const char *source, bool allow_outside, char **out,
			  struct rp_err *err);

#endif
