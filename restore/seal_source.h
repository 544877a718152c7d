/*
 * Where a seal comes from: a file, or an HTTPS URL (a Kubernetes job keeps its seal beside the
 * disk, not in a ConfigMap). One loader for every command that takes --seal.
 */
#ifndef RP_RESTORE_SEAL_SOURCE_H
#define RP_RESTORE_SEAL_SOURCE_H

#include "common/err.h"
#include "formats/seal.h"
#include "net/net.h"

/*
 * Load the seal at where: a path (rp_seal_load), or an http(s):// URL (rp_is_url) fetched with
 * net's transport rules (TLS, --cacert, --resolve, --require-private, http:// only with
 * allow_http) and its retries for transport failures and busy answers. The answer must be
 * 200 with at most RP_SEAL_MAX_BYTES (a larger Content-Length is refused before its body is
 * read). The URL may carry a SAS: messages name it without its query only. Errors: "seal
 * '<where>': ..." - a missing or refused answer RP_EIO/RP_EAUTH (404 named), too large or not a
 * seal RP_EFORMAT, http:// without allow_http RP_EUSAGE.
 */
int rp_seal_source_load(const char *where, const struct rp_net_opts *net, struct rp_seal **out,
			struct rp_err *err);

#endif
