/*
 * verify's chunk selection on the command line: --sample/--seed, --rolling, --shard,
 * --max-duration/--max-chunks and --state (verify/select.h does the choosing), and the results
 * of one verify accumulated over the passes a max-duration run makes (one per tier of least
 * recently verified chunks). Used by cli_verify.c only; one thread (the select callback is
 * called from one pipeline thread at a time).
 */
#ifndef RP_CLI_VSELECT_H
#define RP_CLI_VSELECT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cli/cli_util.h"
#include "verify/scan.h"
#include "verify/select.h"

struct cli_vsel_args {
	struct rp_select_spec spec;
	bool seed_set;
	const char *state;
	uint64_t max_seconds;				     /* 0: none */
	uint64_t max_chunks;				     /* 0: none */
	bool has_sample, has_rolling, has_shard, has_budget; /* which options were given */
};

/* The options of struct cli_vsel_args at offsetof(T, m). */
#define CLI_VSEL_OPTS(T, m)                                                                        \
	CLI_OPT_SET("sample", 0, "PERCENT",                                                        \
		    "check a random PERCENT (5 or 5%) of the chunks with data, plus "              \
		    "the first and last chunks (partition tables)",                                \
		    T, m, cli_set_vsel),                                                           \
	    CLI_OPT_SET("seed", 0, "S", "seed of --sample (default: random; the report names it)", \
			T, m, cli_set_vsel),                                                       \
	    CLI_OPT_SET("rolling", 0, "N/T",                                                       \
			"run N of T: chunks with index % T == N-1; T runs check "                  \
			"every chunk once",                                                        \
			T, m, cli_set_vsel),                                                       \
	    CLI_OPT_SET("shard", 0, "I/N",                                                         \
			"shard I (0..N-1) of N contiguous, disjoint ranges of chunks "             \
			"(with --sample: a sample of the shard)",                                  \
			T, m, cli_set_vsel),                                                       \
	    CLI_OPT_SET("max-duration", 0, "SECONDS",                                              \
			"stop handing out chunks after SECONDS, least "                            \
			"recently verified first (needs --state)",                                 \
			T, m, cli_set_vsel),                                                       \
	    CLI_OPT_SET("max-chunks", 0, "N",                                                      \
			"check at most N chunks, least recently verified first "                   \
			"(needs --state)",                                                         \
			T, m, cli_set_vsel),                                                       \
	    CLI_OPT_SET("state", 0, "FILE",                                                        \
			"record which run checked each chunk (JSON, mode 0600)", T, m,             \
			cli_set_vsel)

/* The setter of CLI_VSEL_OPTS (field: struct cli_vsel_args): cli_vsel_arg for o->name. */
int cli_set_vsel(const struct cli_cmd *cmd, const struct cli_opt *o, void *field, const char *arg);

/* Handle one of the options above; returns 1 if name is not one of them. */
int cli_vsel_arg(const struct cli_cmd *cmd, struct cli_vsel_args *a, const char *name,
		 const char *arg);

/* Check the combination and set spec.mode (one mode, or --sample with --shard; --seed only
 * with --sample; --state for the budgets). */
int cli_vsel_check(const struct cli_cmd *cmd, struct cli_vsel_args *a);

bool cli_vsel_partial(const struct cli_vsel_args *a);
enum rp_select_mode cli_vsel_mode(const struct cli_vsel_args *a);

/* One verify of one disk: the selection, and what the passes found. */
struct cli_vsel {
	const struct cli_vsel_args *a;
	const struct rp_seal *seal; /* the sample's candidates (may be NULL); set before init */
	uint64_t virtual_size, chunk_size, chunk_count;
	bool ready;
	/* A whole verify without --state (the default): every chunk is a candidate and the one
	 * pass checks each, so map and checked stay NULL (16 MiB each at 16 Mi chunks); ask
	 * cli_vsel_checked. Otherwise one byte per chunk each. */
	bool all;
	uint8_t *map;	  /* this pass's candidates */
	uint8_t *checked; /* handed out in any pass */
	uint64_t taken;
	uint64_t tier;	 /* max-duration: the tier of this pass (rp_select_lrv_tier) */
	bool stopped;	 /* a budget ran out */
	double deadline; /* rp_now_s() */
	struct rp_select_state state;
	bool have_state;
	/* accumulated over the passes */
	struct rp_seal *actual;		     /* chunk states found */
	struct rp_scan_mismatch *mismatches; /* sorted by index, first RP_SCAN_MAX_MISMATCHES */
	size_t mismatch_count;
	uint64_t passes;
};

/* Prepare for a disk (sizes known); loads --state; the first pass's map. */
int cli_vsel_init(void *vsel, uint64_t virtual_size, uint64_t chunk_size, struct rp_err *err);

/* Was chunk i handed out in a pass (after the passes: checked)? */
bool cli_vsel_checked(const struct cli_vsel *v, uint64_t i);

/* The selection callback (rp_scan_select_fn) over a struct cli_vsel. */
int cli_vsel_pick(void *vsel, uint64_t index);

/* Merge a pass's results (chunk states of the chunks it checked, its mismatches). */
int cli_vsel_merge(struct cli_vsel *v, const struct rp_seal *found,
		   const struct rp_scan_mismatch *mm, size_t mm_count, struct rp_err *err);

/* max-duration: true (with the map set) if another pass should run. */
bool cli_vsel_next_pass(struct cli_vsel *v);

/* Record the run in --state (if given) and write it. */
int cli_vsel_save(struct cli_vsel *v, time_t started, struct rp_err *err);

/* The report's "coverage" object. */
struct rp_json *cli_vsel_coverage(const struct cli_vsel *v);

void cli_vsel_release(struct cli_vsel *v);

#endif
