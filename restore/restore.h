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
#include "net/auth.h"
#include "restore/fetch.h"
#include "net/http.h"
#include "net/net.h"
#include "restore/keys.h"
#include "restore/sink.h"

enum rp_out_format {
	RP_OUT_AUTO, /* vhd for a VHD blob, raw otherwise */
	RP_OUT_VHD,
	RP_OUT_RAW,
};

struct rp_restore_opts {
	const char *url;
	const char *out; /* NULL: verify only */
	enum rp_out_format format;
	bool force;
	struct rp_net_opts net; /* checked by rp_restore_run (rp_net_opts_check) */
	uint64_t limit_rate;	/* cap on the total rate, bytes/s (0: none): scales the deadline */
	const struct rp_seal *seal;
	unsigned whole_digests; /* (1u << RP_DIGEST_*) computed from the bytes, in chunk order */
	uint64_t hash_window;	/* piecewise SHA-256 (fetch.h); needs every chunk */
	bool keep_going;
	/* KEK for client-side encrypted blobs (their encryptiondata metadata); NULL: refused */
	const struct rp_key_opts *keys;
	/* verify of a part of the disk (fetch.h): whole_digests are then ignored (none computed) */
	rp_scan_select_fn select;
	void *select_ctx;
	/* Called once the disk's size is known, before the first chunk is selected (may be NULL);
	 * an error ends the run. */
	int (*select_init)(void *ctx, uint64_t virtual_size, uint64_t chunk_size,
			   struct rp_err *err);
	rp_scan_progress_fn progress;
	void *progress_ctx;
	void (*progress_detail)(void *ctx, uint64_t skipped, uint64_t retries);
	volatile sig_atomic_t *stop;
	bool refuse_encrypted; /* a client-side encrypted blob is RP_EUSAGE (verify --luks-*) */
	bool no_space_check;   /* do not refuse when the bytes to write exceed the free space */
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
	struct rp_resume_stats resume; /* what a resume relied on and re-checked */
	uint64_t written_listed;       /* bytes the page ranges list as written (page blobs) */
	bool encrypted;		       /* client-side encrypted: decrypted as it streamed */
	char enc_protocol[8];
	uint64_t region_len;
	struct rp_key_info cek; /* where the content key came from (no key bytes) */
	struct rp_fetch_result fetch;
	double seconds;
	/* The failure, when the run failed (code 0 otherwise): its code, its reason (which check
	 * failed, rp_err_reason_of) and its message. */
	struct rp_err err;
};

/* Run; the report is filled as far as it got. Release it with rp_restore_report_release. */
int rp_restore_run(const struct rp_restore_opts *o, struct rp_restore_report *rep,
		   struct rp_err *err);
void rp_restore_report_release(struct rp_restore_report *rep);

struct rp_blob;

/* The per-range hash the server gives (want: what was asked for), probed as rp_restore_run
 * does on a small first range: for random readers of the same blob (restore/blob_read.h). */
int rp_restore_probe_th(struct rp_blob *b, enum rp_th_request want, enum rp_transport_hash *th,
			struct rp_err *err);

/* Record the run's outcome rc (and err when rc != 0) in rep->err; for the runs that fill a
 * report (rp_restore_run, rp_cse_file_run). Inline, so that cse.c, which restore.c calls, does
 * not call back into restore.c (tests/integration/test_layers.sh). */
static inline void rp_restore_report_failed(struct rp_restore_report *rep, int rc,
					    const struct rp_err *err)
{
	rp_err_init(&rep->err);
	if (rc == 0)
		return;
	rep->err = *err;
	rep->err.code = rc;
}

/* True if s looks like an http(s) URL. */
bool rp_is_url(const char *s);

#endif
