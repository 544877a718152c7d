/*
 * The two halves of verify (cli_verify.c parses the options): a local image through the scan
 * pipeline, a URL through the restore pipeline with no sink; then the --luks-* key check. Both fill
 * one report (cli_report_json.h), write --prometheus and --audit-log, and return the exit code.
 */
#ifndef RP_CLI_VERIFY_RUN_H
#define RP_CLI_VERIFY_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cli/cli_audit.h"
#include "cli/cli_checksum.h"
#include "cli/cli_keys.h"
#include "cli/cli_net.h"
#include "cli/cli_progress.h"
#include "cli/cli_report_json.h"
#include "cli/cli_util.h"
#include "cli/cli_vselect.h"

struct verify_args {
	struct rp_seal *preset; /* the seal of a descriptor's disk (owned until taken) */
	const char *disk;
	const char *descriptor; /* the descriptor's path, when SOURCE was one */
	bool allow_outside; /* --allow-outside-sources: its local sources may leave its folder */
	char rp_id[128];
	char disk_name[128];
	struct cli_image_args img;
	struct rp_net_opts net;
	struct cli_vsel_args sel;
	struct cli_case kase;
	struct rp_key_opts keys;   /* KEK of a client-side encrypted blob or copy */
	struct cli_luks_args luks; /* --luks-passphrase-file / --luks-key-file */
	const char *seal;
	unsigned digests;
	bool digests_set;
	bool evidence;
	uint64_t hash_window;
	const char *prometheus;
	const char *audit_log;
	struct cli_checksum_args sum; /* --checksum-file: of a local image file, as verified */
	unsigned threads;
	bool quiet;
	struct cli_progress_opts progress; /* --progress, --progress-interval */
	bool json;
	struct cli_audit audit;
	time_t started;
	struct timespec t0;
};

int cli_verify_local(const struct cli_cmd *cmd, struct verify_args *a, const char *path);
int cli_verify_remote(const struct cli_cmd *cmd, struct verify_args *a, const char *url);

/* A local copy of a client-side encrypted blob, its encryptiondata JSON in sidecar. */
int cli_verify_encrypted_copy(const struct cli_cmd *cmd, struct verify_args *a, const char *path,
			      const char *sidecar);

#endif
