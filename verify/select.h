/*
 * Which chunks a verify run checks (docs/report.md, "Coverage"), and the state file that
 * remembers which run last checked each chunk.
 *
 * Modes:
 *   full          every chunk.
 *   sample P      exactly ceil(P% of the candidates) chunks drawn with Knuth's selection
 *                 sampling (TAOCP 3.4.2, algorithm S) from a splitmix64 stream seeded by the
 *                 seed; the candidates are the chunks the seal says hold data (every chunk
 *                 without a seal). The first chunk (MBR, GPT header and entries) and the chunks
 *                 holding the last RP_SELECT_TAIL_BYTES (the GPT backup entries and header) are
 *                 always added. The same seed and disk always give the same sample. With
 *                 shards set (shards > 0), the sample is drawn from that shard's chunks only
 *                 (and the always-added chunks count only when they lie in it).
 *   rolling N/T   the chunks with index % T == N - 1 (a stride: each run touches the whole disk
 *                 evenly); runs 1..T together check every chunk exactly once.
 *   shard I/N     the contiguous range [floor(I*C/N), floor((I+1)*C/N)) of the C chunks (one
 *                 job reads one region); shards 0..N-1 are disjoint and cover every chunk.
 *   max-duration  least recently verified first (by the state file), stopped by a time or chunk
 *                 budget; see rp_select_lrv_tier().
 *
 * Everything here is pure and single-threaded except rp_select_state_load/_write (file I/O).
 * Maps are one byte per chunk: non-zero means "selected".
 */
#ifndef RP_VERIFY_SELECT_H
#define RP_VERIFY_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "formats/seal.h"

/* The tail always sampled: a GPT backup (entries + header) of 4 KiB sectors is 5 * 4096. */
#define RP_SELECT_TAIL_BYTES 20480u
#define RP_SELECT_PPM 1000000u
#define RP_SELECT_MAX_CHUNKS (1u << 24) /* the pipelines' bound: 16 Mi chunks */
#define RP_SELECT_STATE_FORMAT "cvmrestore-verify-state"
#define RP_SELECT_STATE_MAX_RUNS 64 /* run records kept in the state file */

enum rp_select_mode {
	RP_SELECT_FULL = 0,
	RP_SELECT_SAMPLE,
	RP_SELECT_ROLLING,
	RP_SELECT_SHARD,
	RP_SELECT_MAX_DURATION,
};

struct rp_select_spec {
	enum rp_select_mode mode;
	uint32_t ppm;		/* sample: parts per million, 1..1000000 */
	uint64_t seed;		/* sample */
	uint32_t run, runs;	/* rolling: run 1..runs */
	uint32_t shard, shards; /* shard: 0..shards-1; with sample: 0 shards means none */
};

/* "full", "sample", "rolling", "shard", "max-duration". */
const char *rp_select_mode_name(enum rp_select_mode mode);

/* splitmix64 (Steele, Lea, Flood 2014): advances *state and returns the next value. */
uint64_t rp_splitmix64(uint64_t *state);

/* Parse a percentage "5", "0.5", "100" (at most 4 decimals, > 0, <= 100) into parts per million. */
int rp_select_parse_percent(const char *s, uint32_t *ppm, struct rp_err *err);

/*
 * Parse "A/B" with 1 <= B <= 1000000; A in 1..B if one_based, else 0..B-1. Messages name the
 * option (opt, e.g. "--rolling").
 */
int rp_select_parse_fraction(const char *opt, const char *s, bool one_based, uint32_t *a,
			     uint32_t *b, struct rp_err *err);

/* True for the chunks a sample always includes (first chunk, GPT backup at the end). */
bool rp_select_always(uint64_t index, uint64_t chunk_size, uint64_t virtual_size);

/*
 * Fill map[0..chunk_count) for a full, sample, rolling or shard spec (chunk_count =
 * rp_seal_chunks_for(virtual_size, chunk_size)); *selected gets the number of chunks chosen.
 * seal (may be NULL) names the sample's candidates and must match the sizes. RP_EUSAGE for
 * max-duration (use rp_select_lrv_tier) or a spec out of range, naming the member.
 */
int rp_select_build(const struct rp_select_spec *spec, const struct rp_seal *seal,
		    uint64_t virtual_size, uint64_t chunk_size, uint8_t *map, uint64_t *selected,
		    struct rp_err *err);

/* One run recorded in the state file. */
struct rp_select_run {
	uint32_t run;
	char started[24]; /* UTC, "YYYY-MM-DDTHH:MM:SSZ" */
	char mode[16];
	uint64_t chunks; /* chunks checked */
};

/*
 * What earlier runs covered: per chunk the number of the run that last checked it (0: never).
 * Runs are numbered 1, 2, ... in the order they were recorded.
 */
struct rp_select_state {
	uint64_t virtual_size, chunk_size, chunk_count;
	uint32_t last_run;
	uint32_t *chunk_run;				     /* chunk_count entries */
	struct rp_select_run runs[RP_SELECT_STATE_MAX_RUNS]; /* oldest first */
	size_t nruns;
};

/* A fresh state (no run yet) for a disk; RP_EUSAGE past RP_SELECT_MAX_CHUNKS, RP_EIO for memory. */
int rp_select_state_init(struct rp_select_state *st, uint64_t virtual_size, uint64_t chunk_size,
			 struct rp_err *err);
void rp_select_state_release(struct rp_select_state *st);

/*
 * Parse a state document (text[0..len)); RP_EFORMAT naming the member for anything malformed:
 * another format, sizes that disagree, chunk_runs of the wrong length or naming a run after
 * last_run.
 */
int rp_select_state_parse(const char *text, size_t len, struct rp_select_state *st,
			  struct rp_err *err);

/* The state as compact JSON text (malloc'd, NUL-terminated); RP_EIO when out of memory. */
int rp_select_state_format(const struct rp_select_state *st, char **out, struct rp_err *err);

/*
 * Load path into st; a file that does not exist gives a fresh state for the disk (*existed
 * false). A state for another disk size or chunk size is RP_EUSAGE ("the state file ... is for").
 */
int rp_select_state_load(const char *path, uint64_t virtual_size, uint64_t chunk_size,
			 struct rp_select_state *st, bool *existed, struct rp_err *err);

/* Write st to path atomically (path.tmp.PID, fsync, rename), mode 0600. */
int rp_select_state_write(const char *path, const struct rp_select_state *st, struct rp_err *err);

/*
 * Record a run: the chunks with checked[i] != 0 get the next run number. Keeps the last
 * RP_SELECT_STATE_MAX_RUNS run records.
 */
void rp_select_state_record(struct rp_select_state *st, const uint8_t *checked, time_t started,
			    const char *mode);

/*
 * Least recently verified first: the next tier is the set of chunks whose last run is the
 * smallest value strictly greater than *after (start with after = -1, i.e. UINT64_MAX meaning
 * "none yet"). Fills map with that tier and returns true, or false when no tier is left.
 * Checking tiers in order, each in increasing index, visits every chunk once, oldest first;
 * a run stopped by its budget leaves the rest of its tier oldest for the next run.
 */
bool rp_select_lrv_tier(const struct rp_select_state *st, uint64_t *after, uint8_t *map,
			uint64_t *selected);

#endif
