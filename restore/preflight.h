/*
 * preflight: the checks that tell, before hours are spent, whether a restore can work: the
 * name resolves (to a private address when that is required), TLS and the certificate name,
 * the SAS's expiry and permissions, the blob's properties, whether a managed disk asks for an
 * Entra ID token (and got one), its page ranges, and free space
 * where the output would go. Every check runs and gets PASS, WARN or FAIL with a hint: what to
 * look at, and (flag) an option of the caller's that could get past it, which the command line
 * words after the hint as it does for a failure (common/err.h).
 */
#ifndef RP_RESTORE_PREFLIGHT_H
#define RP_RESTORE_PREFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "net/auth.h"
#include "net/http.h"

#define RP_PREFLIGHT_MAX 8

struct rp_check {
	const char *name; /* "dns", "sas", "tls+properties", "entra-id", "page-ranges", "space" */
	bool pass;
	bool skipped;
	bool warn; /* passed, but with a hint worth acting on (a public DNS answer) */
	int code;  /* the RP_E* class of a failure */
	char detail[512];
	char hint[640];
	enum rp_hint flag; /* what the caller could change (RP_H_NONE: nothing) */
};

struct rp_preflight {
	struct rp_check check[RP_PREFLIGHT_MAX];
	unsigned count;
	char source[1024];
	uint64_t size;
	uint64_t written; /* bytes the page ranges list (page blobs), else size */
	char pin[320];	  /* "HOST:PORT:ADDR": the later checks connect where dns resolved */
};

/*
 * Free space where out would go (the file system of its directory): 0 if at least needed
 * bytes are free to us, else RP_EIO naming both numbers; *avail (may be NULL) gets the free
 * bytes when they could be read. Used by preflight and by restore before it fetches.
 */
int rp_space_check(const char *out, uint64_t needed, uint64_t *avail, struct rp_err *err);

/*
 * Run every check; returns 0 if all passed, else the code of the first failure. The dns check
 * resolves with its own resolver (net/dns.h) - the system's, or dns_server ("ADDR[:PORT]")
 * when not NULL - shows the CNAME chain, and the checks after it connect to the address it
 * found, so that they test what it diagnosed.
 */
int rp_preflight_run(const char *url, const char *out, const struct rp_http_opts *http,
		     const struct rp_auth_opts *auth, const char *dns_server,
		     struct rp_preflight *pf);

#endif
