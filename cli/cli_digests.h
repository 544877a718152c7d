/* The --digests option and the digests object of reports, shared by seal and verify. */
#ifndef RP_CLI_DIGESTS_H
#define RP_CLI_DIGESTS_H

#include "cli/cli_util.h"
#include "common/util.h"
#include "verify/scan.h"

/* Parse "sha256,md5,sha1" into a mask of (1u << RP_DIGEST_*); prints usage errors. */
int cli_parse_digests(const struct cli_cmd *cmd, const char *arg, unsigned *mask);

/* The mask before --digests is given (never a result of cli_parse_digests: no digest has that
 * bit): a command that tells "given" from its default sets it before parsing. */
#define CLI_DIGESTS_UNSET (1u << 31)

/* CLI_SET setter of --digests: cli_parse_digests into the unsigned field. */
int cli_set_digests(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		    const char *arg);

/* {"sha256": hex, ...} for the whole-disk digests the scan computed. */
struct rp_json *cli_digests_json(const struct rp_scan_result *r);

#endif
