/*
 * --audit-log FILE: an append-only log of JSON lines, one per action (docs/report.md, "Audit
 * log"). Each line carries the UTC time, the tool and its version, a run id shared by the lines
 * of one command, and the action's public fields; never a key, token or a URL's query. The file
 * is opened O_APPEND (created 0600) and each line is one write(), so lines of concurrent runs
 * never interleave. Not thread-safe: call from the command's thread.
 */
#ifndef RP_CLI_AUDIT_H
#define RP_CLI_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/json.h"

struct cli_audit {
	int fd; /* -1: no log (every call is a no-op) */
	char run[17];
	bool failed; /* a write failed: reported once at the end */
};

void cli_audit_init(struct cli_audit *a);

/* Open (create, append) path; RP_EIO naming the path. */
int cli_audit_open(struct cli_audit *a, const char *path, struct rp_err *err);

/* Log one action; fields (may be NULL) is consumed. */
void cli_audit_event(struct cli_audit *a, const char *action, struct rp_json *fields);

/* {"path", "size", "mtime", "ctime", "inode"} of a file: what an input looked like. */
struct rp_json *cli_audit_stat_json(const char *path, const struct stat *st);

/* Close; returns RP_EIO if any line could not be written. */
int cli_audit_close(struct cli_audit *a, struct rp_err *err);

#endif
