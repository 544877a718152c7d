/* The --digests option and the digests object of reports, shared by seal and verify. */
#ifndef RP_CLI_DIGESTS_H
#define RP_CLI_DIGESTS_H

#include "cli/cli_util.h"
#include "common/util.h"
#include "verify/scan.h"

/* Parse "sha256,md5,sha1" into a mask of (1u << RP_DIGEST_*); prints usage errors. */
int cli_parse_digests(const struct cli_cmd *cmd, const char *arg, unsigned *mask);

/* {"sha256": hex, ...} for the whole-disk digests the scan computed. */
struct rp_json *cli_digests_json(const struct rp_scan_result *r);

#endif
