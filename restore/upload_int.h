/*
 * Internal to the upload engine (restore/upload.c, restore/upload_check.c,
 * restore/upload_image.c): the state of one run. The mutex guards next, the bitmaps, bytes_done,
 * failed/err/rc and the report's counters while the workers run; the rest is set up before they
 * start and read only.
 */
#ifndef RP_RESTORE_UPLOAD_INT_H
#define RP_RESTORE_UPLOAD_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "net/blob.h"
#include "restore/upload.h"

#define RP_UP_PLAN_WINDOW (1ull << 30)

struct up {
	const struct rp_upload_opts *o;
	int fd;
	uint64_t file_size;
	uint64_t blob_size;
	uint64_t nchunks;
	char *page_url; /* url + comp=page; a secret */
	char display[1024];
	struct rp_blob blob;	     /* HEAD, page lists, read-back: used by one thread at a time */
	struct rp_page_plan *before; /* pages the target held before (NULL: a new blob) */
	char *journal;
	char *lock_path; /* JOURNAL.lock, held for the whole run (journal_lock) */
	int lock_fd;
	struct rp_upload_journal_id jid;
	char jtarget[1024];

	pthread_mutex_t lock;
	unsigned running; /* workers that have not returned */
	uint64_t next;
	uint8_t *done, *data; /* chunk bitmaps */
	/* What was sent: the SHA-256 of each done chunk with data, in a seal of nchunks chunks
	 * used as a compact store (32 bytes per chunk with data; 32 per chunk of the image was
	 * 64 MiB of address space at the 8 TiB page blob limit, resident wherever data is
	 * scattered). */
	struct rp_seal *sent;
	uint64_t bytes_done;
	bool failed;
	struct rp_err err;
	int rc;
	struct rp_upload_report *rep;
};

/* restore/upload_image.c, called by the engine and the post-check. */

/* Bit i of a chunk bitmap. */
bool rp_up_bit(const uint8_t *b, uint64_t i);

/* Read chunk c of the image into buf (zero padded to whole pages); its length into *plen. */
int rp_up_read_chunk(struct up *u, uint8_t *buf, uint64_t c, size_t *plen, struct rp_err *err);

/* restore/upload_check.c, called by the engine once the workers are done. */

/* The post-check (page ranges, then chunks read back): RP_EVERIFY on a difference. */
int rp_up_post_check(struct up *u, struct rp_err *err);

#endif
