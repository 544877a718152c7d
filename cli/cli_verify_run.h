/*
 * The two halves of verify (cli_verify.c parses the options): a local image through the scan
 * pipeline, a URL through the restore pipeline with no sink. Both fill one report
 * (cli_report_json.h), write --prometheus and --audit-log, and return the exit code.
 */
#ifndef RP_CLI_VERIFY_RUN_H
#define RP_CLI_VERIFY_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cli/cli_audit.h"
#include "cli/cli_keys.h"
#include "cli/cli_net.h"
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
	unsigned threads;
	bool quiet;
	bool json;
	struct cli_audit audit;
	time_t started;
	struct timespec t0;
};

/*
 * The --luks-* key check after a pass (cli_verify_luks.c). Its volumes replace the report's
 * header-only LUKS list of d; a key that opens nothing, or (URL) a chunk that does not check
 * out, is a reason of d (exit 1); anything else that stops the check is code and err (with a
 * reason code, or NULL for the default), and the pass's own results stand.
 */
struct cli_vluks {
	struct verify_args *a;
	struct cli_disk_report *d;
	int code;
	struct rp_err err;
	const char *reason;
};

struct rp_image;
struct rp_seal;

void cli_vluks_local(struct cli_vluks *k, struct rp_image *img);

/* On the blob at url, pinned to etag and blob_size, each chunk checked with th and seal (NULL). */
void cli_vluks_remote(struct cli_vluks *k, const char *url, const char *etag, uint64_t blob_size,
		      enum rp_transport_hash th, const struct rp_seal *seal);

int cli_verify_local(const struct cli_cmd *cmd, struct verify_args *a, const char *path);
int cli_verify_remote(const struct cli_cmd *cmd, struct verify_args *a, const char *url);

/* A local copy of a client-side encrypted blob, its encryptiondata JSON in sidecar. */
int cli_verify_encrypted_copy(const struct cli_cmd *cmd, struct verify_args *a, const char *path,
			      const char *sidecar);

#endif
