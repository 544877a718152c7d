/*
 * The file sink of a restore and of convert: positional writes into OUT.partial (sized up front,
 * so what is never written stays a hole), a journal OUT.journal of verified chunks
 * (docs/journal.md; none for convert), and, when everything is verified, fsync and rename to OUT
 * (common/outfile.h rp_outfile_begin_named). A failed or interrupted restore leaves OUT.partial
 * and OUT.journal for the same command to resume; OUT never exists until the end.
 *
 * Thread safety: write, verified and read_back may be called from many threads; tick, finish
 * and free from one.
 */
#ifndef RP_RESTORE_SINK_H
#define RP_RESTORE_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "restore/fetch.h"

struct rp_sink_id {
	const char *source; /* the source without secrets */
	const char *etag;
	uint64_t size; /* bytes of data (the virtual disk) */
	uint64_t chunk_size;
	uint32_t output_format; /* 0 raw, 1 vhd: a resume must ask for the same */
	bool space_check;	/* refuse (RP_EIO) when space_needed, less what a resumed partial */
	uint64_t space_needed;	/* holds, exceeds the free space of OUT's file system */
	/* convert: no journal and no resume (a stale OUT.partial of ours is replaced, and one
	 * left unfinished is removed by rp_file_sink_free); OUT must be a regular file. */
	bool no_journal;
	bool no_sync;  /* no writeback, fsync or directory fsync (not crash-safe) */
	unsigned mode; /* permissions of OUT.partial, then OUT (before the umask); 0: 0600 */
	/* The seal every chunk is checked against (may be NULL): a data chunk written with the
	 * seal's SHA-256 keeps no digest of its own for the journal, which reads the seal's. It
	 * must outlive the sink (rp_file_sink_free writes the journal a last time). */
	const struct rp_seal *seal;
};

struct rp_file_sink;

/*
 * Open OUT.partial for writing. If OUT.partial and OUT.journal exist and the journal matches id,
 * resume (*resumed true, with the verified chunks it lists); if they exist but the source
 * changed (ETag or size), RP_EIO naming what changed; if OUT exists, RP_EUSAGE unless force.
 * OUT.lock is held until rp_file_sink_free: a second sink on the same OUT gets RP_EIO naming
 * the holder's PID. Names planted at OUT.partial or the journal are refused (common/outfile.h).
 */
int rp_file_sink_open(const char *out, const struct rp_sink_id *id, bool force,
		      struct rp_file_sink **out_sink, bool *resumed, struct rp_err *err);

/* The sink callbacks for the chunk pipeline (verify/pipeline.h). */
struct rp_chunk_sink rp_file_sink_callbacks(struct rp_file_sink *s);

/* What a resume relied on, and what it found (docs/journal.md). */
struct rp_resume_stats {
	uint64_t listed;    /* chunks the journal listed as done */
	uint64_t rechecked; /* of those, read back from OUT.partial and checked */
	uint64_t refetched; /* of those, chunks that did not match and were fetched again */
	bool old_journal;   /* the journal was of an older version: not trusted, not used */
};

/* The resume's figures so far (call after the fetch; zeros for a fresh restore). */
void rp_file_sink_resume_stats(const struct rp_file_sink *s, struct rp_resume_stats *st);

/*
 * Write tail (e.g. the VHD footer, tail_len bytes; may be 0) after the data, sync, rename
 * OUT.partial to OUT and remove the journal.
 */
int rp_file_sink_finish(struct rp_file_sink *s, const uint8_t *tail, size_t tail_len,
			struct rp_err *err);

/* Write the journal one last time (after a failure) and close; NULL is a no-op. */
void rp_file_sink_free(struct rp_file_sink *s);

const char *rp_file_sink_partial_path(const struct rp_file_sink *s);

/* Bytes written so far, and bytes of zero runs left as holes (or punched). Thread-safe. */
void rp_file_sink_counts(const struct rp_file_sink *s, uint64_t *written, uint64_t *holes);

#endif
