/*
 * Pieces of `cvmrestore luks` that other commands may reuse when they add a LUKS check to their
 * report (verify and restore with --luks-passphrase-file / --luks-key-file).
 */
#ifndef RP_CLI_LUKS_H
#define RP_CLI_LUKS_H

#include <stdio.h>

#include "verify/luks.h"

/* The human form of a LUKS check: one block per volume. Never prints key material. */
void cli_luks_print(FILE *f, const struct rp_luks_result *res);

#endif
