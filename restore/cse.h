/*
 * Client-side encrypted blobs (Azure Storage encryption v2, docs/azure.md; formats/encdata.h): the
 * content key unwrapped once, regions decrypted as they stream (the fetch engine's decrypt hook),
 * small plaintext reads (the VHD footer), and the offline path for a local copy with its
 * metadata in a sidecar file `<copy>.encryptiondata.json`.
 */
#ifndef RP_RESTORE_CSE_H
#define RP_RESTORE_CSE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secret.h"
#include "formats/encdata.h"
#include "restore/keys.h"
#include "restore/restore.h"

struct rp_cse {
	struct rp_encdata ed;
	struct rp_secret cek; /* the 32-byte content key */
	uint64_t stored_size;
	uint64_t plain_size;
};

/* Read stored bytes [off, off + len) of the blob or copy. */
typedef int (*rp_cse_read_fn)(void *ctx, uint64_t off, uint8_t *buf, size_t len,
			      struct rp_err *err);

/*
 * Parse metadata (the encryptiondata JSON), check the geometry against stored_size and unwrap the
 * content key with keys (info says how, without key bytes). display names the blob in messages.
 * Release with rp_cse_close whatever the result.
 */
int rp_cse_open(struct rp_cse *c, const char *metadata, size_t len, uint64_t stored_size,
		const struct rp_key_opts *keys, const char *display, struct rp_key_info *info,
		struct rp_err *err);
void rp_cse_close(struct rp_cse *c);

/* Stored length of region i (nonce, data, tag). */
uint64_t rp_cse_stored_len(const struct rp_cse *c, uint64_t region);

/* The fetch engine's decrypt hook (ctx: the struct rp_cse): RP_EVERIFY naming the region. */
int rp_cse_decrypt(void *ctx, uint64_t region, uint8_t *buf, size_t stored_len, uint8_t **plain,
		   struct rp_err *err);

/* Plaintext [off, off + len) through read (a small range: it decrypts whole regions). */
int rp_cse_read_plain(const struct rp_cse *c, rp_cse_read_fn read, void *ctx, uint64_t off,
		      uint8_t *out, size_t len, struct rp_err *err);

/* The sidecar path for a local copy: "<path>.encryptiondata.json" into out; true if it exists. */
bool rp_cse_sidecar(const char *path, char *out, size_t outsz);

/*
 * restore (o->out set) or verify (o->out NULL) of a local encrypted copy at o->url with its
 * sidecar: every region decrypted and authenticated, each chunk compared with o->seal, written
 * through the journaled sink; the report as rp_restore_run's. Single-threaded (GCM and SHA-256
 * together run at about 1 GB/s on a core here).
 */
int rp_cse_file_run(const struct rp_restore_opts *o, const char *sidecar,
		    struct rp_restore_report *rep, struct rp_err *err);

#endif
