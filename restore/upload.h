/*
 * upload: a local Azure-ready fixed VHD (or a guest-state file) to a page blob — a managed
 * disk's upload SAS, or a new page blob (docs/azure.md "Managed disks: staging and upload").
 *
 * The image is cut into 4 MiB chunks. N worker threads, each with its own HTTP handle and
 * credential, take chunks in order, read them with pread and send only the runs of 512-byte
 * pages that are not all zeros (a new page blob reads as zeros) as Put Page requests of at most
 * 4 MiB, each with x-ms-content-crc64 (or Content-MD5), retried with backoff (Retry-After and
 * x-ms-retry-after-ms are honoured). Pages the target already lists where the image is zero are
 * cleared first (an upload over an older blob). A journal (docs/staging.md) lists the chunks
 * whose pages the service acknowledged, with the SHA-256 of each chunk's bytes as sent, so the
 * same command resumes after a failure or a kill -9, sending again any chunk whose bytes in the
 * image no longer hash to what was sent. At the end the target's page ranges are listed and
 * compared page by page (512 bytes) with the pages sent, and a sample of chunks (all with
 * verify_all) is read back and compared by SHA-256 with the seal's chunk digests or with the
 * local image: a difference is RP_EVERIFY. The report says how many of the chunks with data
 * were read back.
 *
 * URLs hold a SAS: messages and reports only carry rp_url_redact()'s form. Not thread-safe per
 * call; the library threads are internal.
 */
#ifndef RP_RESTORE_UPLOAD_H
#define RP_RESTORE_UPLOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "formats/seal.h"
#include "net/auth.h"
#include "net/http.h"
#include "net/net.h"

#define RP_UPLOAD_CHUNK (4u << 20) /* bytes per chunk and the largest Put Page body */
#define RP_UPLOAD_MIB (1u << 20)
#define RP_UPLOAD_MIN_DISK (20ull << 20) /* Azure: 20 MiB + 512 ... 32 TiB + 512 */
#define RP_UPLOAD_MAX_DISK (32ull << 40)
#define RP_UPLOAD_MERGE_GAP (64u << 10) /* zero gaps up to this are sent inside one request */
#define RP_UPLOAD_SAMPLE 16		/* chunks re-read by the post-check (plus first, last) */

enum rp_upload_kind {
	RP_UPLOAD_DISK,	       /* must be N MiB + 512 with a fixed VHD footer */
	RP_UPLOAD_GUEST_STATE, /* any file; the page blob is its size rounded up to 512 */
};

struct rp_upload_opts {
	const char *image;
	const char *url;
	enum rp_upload_kind kind;
	bool create;	 /* create the page blob (else it must exist with the right size) */
	bool use_md5;	 /* Content-MD5 instead of x-ms-content-crc64 */
	bool verify_all; /* read back every chunk with data, not a sample */
	const struct rp_seal *seal; /* optional: the post-check compares with its chunk digests */
	const char *journal;	    /* NULL: IMAGE.upload-journal */
	/* transport, credential, connections (worker threads; 0: 4), retries and backoff; its
	 * chunk_size, range_timeout_s and th are not used: an upload sends RP_UPLOAD_CHUNK at
	 * most per request, with its own hash (use_md5) */
	struct rp_net_opts net;
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	void (*progress_detail)(void *ctx, uint64_t skipped, uint64_t retries);
	volatile sig_atomic_t *stop;
};

struct rp_upload_report {
	char target[1024]; /* without the SAS */
	uint64_t image_size;
	uint64_t blob_size;
	bool created;
	bool resumed;
	uint64_t chunks;
	uint64_t chunks_resumed;   /* listed by the journal and re-checked unchanged */
	uint64_t chunks_rechecked; /* listed by the journal, read again from the image and hashed */
	uint64_t chunks_resent;	   /* of those, changed since the journal: sent again */
	bool journal_old;	   /* a journal of an older version was found: not trusted */
	uint64_t bytes_sent;	   /* Put Page body bytes acknowledged */
	uint64_t bytes_data;	   /* non-zero 512-byte pages of the image */
	uint64_t bytes_skipped;	   /* zero pages not sent */
	uint64_t bytes_cleared;	   /* pages the target held where the image is zero */
	uint64_t requests;
	uint64_t retries;
	const char *hash;	 /* "crc64" or "md5" */
	uint64_t ranges_listed;	 /* bytes the target lists as written afterwards */
	uint64_t bytes_unlisted; /* sent and acknowledged, but not listed by the target */
	uint64_t bytes_unsent;	 /* listed by the target, but not sent */
	uint64_t chunks_data;	 /* chunks with data: what the read-back could cover */
	uint64_t chunks_checked; /* of those, read back (each once) */
	uint64_t check_mismatches;
	char check_first[256];	   /* the first post-check difference, or "" */
	const char *check_against; /* "seal" or "image" */
	double seconds;
};

/* Run an upload; the report is filled as far as it got. */
int rp_upload_run(const struct rp_upload_opts *o, struct rp_upload_report *rep, struct rp_err *err);

/* ---- pure pieces (tested on their own) ---- */

/*
 * Check that a file of file_size bytes whose last 512 bytes are footer is what Azure takes:
 * N MiB + 512 bytes, 20 MiB <= N MiB <= 32 TiB, a valid fixed-VHD footer whose current size
 * is N MiB. RP_EFORMAT with a message saying what is wrong and to use cvmrestore convert.
 */
int rp_upload_check_vhd(const uint8_t *footer, uint64_t file_size, struct rp_err *err);

struct rp_upload_span {
	uint32_t off; /* bytes into the buffer, 512-aligned */
	uint32_t len; /* a multiple of 512 */
};

/*
 * The spans of buf[0..len) to send: runs of pages that are not all zeros, runs closer than
 * merge_gap joined (len is padded to 512 by the caller). At most max spans are stored; returns
 * how many there are (more than max means the caller's array was too small).
 */
size_t rp_upload_spans(const uint8_t *buf, size_t len, size_t merge_gap,
		       struct rp_upload_span *spans, size_t max);

struct rp_upload_journal_id {
	uint64_t image_size;
	uint64_t chunk_size;
	uint64_t chunk_count;
	int64_t image_mtime_ns;
	const char *target; /* without its query */
};

/*
 * Encode a journal (version 2, docs/staging.md) into *out (malloc'd, *out_len bytes): done and
 * data are chunk bitmaps of ceil(count / 8) bytes; sha256 holds 32 bytes per chunk, of which
 * those of done chunks with data are written (the SHA-256 of the chunk's bytes as sent).
 */
int rp_upload_journal_encode(const struct rp_upload_journal_id *id, const uint8_t *done,
			     const uint8_t *data, const uint8_t *sha256, uint8_t **out,
			     size_t *out_len, struct rp_err *err);

/*
 * Parse a journal (buf[0..len)) and check it is for id: RP_EFORMAT if damaged (or of another
 * version: "CVMRUPJ1" is refused here, the caller decides what an old journal means), RP_EIO
 * naming what differs if it is for another image or target. done and data receive the bitmaps,
 * sha256 (32 bytes per chunk) the digests of the done chunks with data.
 */
int rp_upload_journal_parse(const uint8_t *buf, size_t len, const struct rp_upload_journal_id *id,
			    uint8_t *done, uint8_t *data, uint8_t *sha256, struct rp_err *err);

/*
 * The same, with the digests in sent (a seal of id->chunk_count chunks used as a compact store:
 * 32 bytes per chunk with data, not per chunk of the image): encode reads the SHA-256 of each
 * done chunk with data from it (RP_EIO if it has none), parse sets those chunks in it.
 */
int rp_upload_journal_encode_sent(const struct rp_upload_journal_id *id, const uint8_t *done,
				  const uint8_t *data, const struct rp_seal *sent, uint8_t **out,
				  size_t *out_len, struct rp_err *err);
int rp_upload_journal_parse_sent(const uint8_t *buf, size_t len,
				 const struct rp_upload_journal_id *id, uint8_t *done,
				 uint8_t *data, struct rp_seal *sent, struct rp_err *err);

#endif
