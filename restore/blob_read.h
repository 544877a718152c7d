/*
 * Verified random reads of a blob, for checks that need a few regions rather than the whole
 * disk (the LUKS headers of `verify URL --luks-*`). Reads cover whole chunks: each chunk is
 * fetched with If-Match on the ETag the caller saw (so the content is the one the streaming
 * pass verified), in requests of at most 4 MiB each checked with the transport hash (CRC64 or
 * MD5, as in restore/fetch.h) and, with a seal, the chunk against the seal's digest, before a
 * byte is handed out. The last chunk read is kept: header parsers read piecemeal.
 * Not thread-safe.
 */
#ifndef RP_RESTORE_BLOB_READ_H
#define RP_RESTORE_BLOB_READ_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "formats/image.h"
#include "formats/seal.h"
#include "net/blob.h"
#include "net/net.h"
#include "restore/fetch.h"

struct rp_blob_reader;

struct rp_blob_reader_opts {
	const char *url; /* may hold a SAS: messages use its display form */
	/* transport, credentials, retries and (without a seal) chunk_size; borrowed */
	const struct rp_net_opts *net;
	const char *etag;   /* the content the caller verified; another one is RP_EIO */
	uint64_t blob_size; /* its size (0: unknown); another one is RP_EIO too, as a server
			     * without ETags cannot pin the content */
	enum rp_transport_hash th;
	const struct rp_seal *seal; /* may be NULL; borrowed. Its chunks cover the first
				     * virtual_size bytes; the rest (a VHD footer) has the
				     * transport hash only */
	/* Called for each chunk after it checked out (may be NULL): the audit trail. */
	void (*on_chunk)(void *ctx, uint64_t index, uint64_t off, uint64_t len);
	void *on_chunk_ctx;
	volatile sig_atomic_t *stop; /* set by a signal handler: RP_EINTR (may be NULL) */
};

/*
 * Connect, HEAD the blob and check that it is still the content with o->etag and o->blob_size;
 * a client-side encrypted blob is RP_EUSAGE (its stored bytes are ciphertext). A read that
 * finds the blob changed (412 to If-Match) is RP_EIO with "changed after it was verified".
 */
int rp_blob_reader_open(const struct rp_blob_reader_opts *o, struct rp_blob_reader **out,
			struct rp_err *err);
void rp_blob_reader_free(struct rp_blob_reader *r);

/* The blob's size and display name (URL without its query). */
uint64_t rp_blob_reader_size(const struct rp_blob_reader *r);
const char *rp_blob_reader_name(const struct rp_blob_reader *r);

/* The ETag the blob had when it was opened (pin further readers of the same content to it). */
const char *rp_blob_reader_etag(const struct rp_blob_reader *r);

/* The blob's type from its HEAD: "PageBlob", "BlockBlob", or "" (a plain HTTPS server). */
const char *rp_blob_reader_type(const struct rp_blob_reader *r);

/*
 * List the written page ranges of a page blob in [start, start + window) (start a multiple of
 * window), with If-Match on the reader's ETag: fn gets each range, inclusive byte offsets
 * clipped to the window, in order, before this returns. A server without page ranges answers
 * with an error (ask only a "PageBlob").
 */
int rp_blob_reader_page_ranges(struct rp_blob_reader *r, uint64_t start, uint64_t window,
			       void (*fn)(void *ctx, uint64_t start, uint64_t end), void *ctx,
			       struct rp_err *err);

/* Ask the server which per-range hash it gives (as restore does: want is what was asked for),
 * use it for every later read, and say which in *th. */
int rp_blob_reader_probe_th(struct rp_blob_reader *r, enum rp_th_request want,
			    enum rp_transport_hash *th, struct rp_err *err);

/* Read exactly len bytes at off (an rp_image_source read function; ctx is the reader). */
int rp_blob_reader_read(void *ctx, void *buf, size_t len, uint64_t off, struct rp_err *err);

/*
 * The blob as an image (formats/image.h) whose every read goes through r, verified: for checks
 * that parse a few regions (the LUKS headers of verify --luks-*). When the open fails because
 * a read did not check out, err is that read's failure (its reason: transport hash, seal,
 * source changed). Free the image before the reader.
 */
int rp_blob_reader_image(struct rp_blob_reader *r, struct rp_image **img, struct rp_err *err);

/* The first read that failed (the transport hash, the seal, the network), if any: its code
 * (0 for none) and err. A parser reading through the reader may report it otherwise. */
int rp_blob_reader_failure(const struct rp_blob_reader *r, struct rp_err *err);

#endif
