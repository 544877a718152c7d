/*
 * restore and network verify of one blob: HEAD, VHD footer check, transport-hash probe, page
 * range plan, the fetch engine, and the file sink with its journal (or no sink, for verify).
 */
#ifndef RP_RESTORE_RESTORE_H
#define RP_RESTORE_RESTORE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "formats/seal.h"
#include "restore/auth.h"
#include "restore/fetch.h"
#include "restore/http.h"

enum rp_out_format {
	RP_OUT_AUTO, /* vhd for a VHD blob, raw otherwise */
	RP_OUT_VHD,
	RP_OUT_RAW,
};

enum rp_th_request {
	RP_THR_AUTO, /* crc64 where the server gives it, else md5, else none */
	RP_THR_CRC64,
	RP_THR_MD5,
	RP_THR_NONE,
};

struct rp_restore_opts {
	const char *url;
	const char *out; /* NULL: verify only */
	enum rp_out_format format;
	bool force;
	struct rp_http_opts http;
	struct rp_auth_opts auth;
	unsigned connections;
	uint64_t chunk_size;
	unsigned retries;
	unsigned retry_base_ms;
	enum rp_th_request th;
	const struct rp_seal *seal;
	unsigned whole_digests;
	bool keep_going;
	rp_scan_progress_fn progress;
	void *progress_ctx;
	void (*progress_detail)(void *ctx, uint64_t skipped, uint64_t retries);
	volatile sig_atomic_t *stop;
};

struct rp_restore_report {
	char source[1024]; /* without secrets */
	char etag[128];
	char blob_type[32];
	uint64_t blob_size;
	uint64_t virtual_size;
	bool is_vhd;
	char output_format[8]; /* "vhd", "raw" or "" for verify */
	enum rp_transport_hash th;
	bool resumed;
	uint64_t written_listed; /* bytes the page ranges list as written (page blobs) */
	bool digests_from_seal;  /* whole-disk digests are the seal's, every chunk having matched */
	struct rp_fetch_result fetch;
	double seconds;
};

/* Run; the report is filled as far as it got. Release it with rp_restore_report_release. */
int rp_restore_run(const struct rp_restore_opts *o, struct rp_restore_report *rep,
		   struct rp_err *err);
void rp_restore_report_release(struct rp_restore_report *rep);

/* True if s looks like an http(s) URL. */
bool rp_is_url(const char *s);

#endif
