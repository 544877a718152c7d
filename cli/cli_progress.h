/*
 * Progress of a long run (restore, verify, seal, convert, upload, stage) on stderr, in the form
 * --progress asks for: a bar that fits the terminal, a plain status line every N seconds (for
 * journald, kubectl logs, CI), one JSON event per line (for wrappers), or nothing. One renderer,
 * fed by the library's progress callbacks (done/total bytes, and skipped bytes and retries of a
 * network transfer). --json on stdout and --progress on stderr do not exclude each other.
 */
#ifndef RP_CLI_PROGRESS_H
#define RP_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli_util.h"

enum cli_progress_mode {
	CLI_PROGRESS_AUTO, /* a bar on a terminal, else lines */
	CLI_PROGRESS_BAR,
	CLI_PROGRESS_LINES,
	CLI_PROGRESS_JSON,
	CLI_PROGRESS_NONE,
};

#define CLI_PROGRESS_INTERVAL_DEFAULT 10 /* seconds between lines or JSON events */
#define CLI_PROGRESS_INTERVAL_MAX 3600

/* What the command line asked for (zeroed: auto, the default interval). */
struct cli_progress_opts {
	enum cli_progress_mode mode;
	unsigned interval_s; /* 0: CLI_PROGRESS_INTERVAL_DEFAULT */
};

int cli_set_progress(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		     const char *arg); /* enum cli_progress_mode */
int cli_set_progress_interval(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			      const char *arg); /* unsigned, 1..CLI_PROGRESS_INTERVAL_MAX */

/* --progress and --progress-interval, bound to the struct cli_progress_opts at offsetof(T, m). */
#define CLI_PROGRESS_OPTS(T, m)                                                                    \
	CLI_OPT_SET(                                                                               \
	    "progress", 0, "auto|bar|lines|json|none",                                             \
	    "progress on stderr (auto: a bar on a terminal, else lines; none with --json)", T,     \
	    m.mode, cli_set_progress),                                                             \
	    CLI_OPT_SET("progress-interval", 0, "S",                                               \
			"seconds between progress lines or JSON events (default 10)", T,           \
			m.interval_s, cli_set_progress_interval)

struct cli_progress {
	enum cli_progress_mode mode; /* resolved: BAR, LINES, JSON or NONE */
	const char *label;
	unsigned interval_s;
	double start;	  /* rp_now_s() */
	double last_emit; /* when the last line, event or redraw went out */
	bool started;	  /* a callback came: base is set */
	bool emitted;	  /* something was printed */
	uint64_t base;	  /* done at the first callback (a resumed run's earlier bytes) */
	uint64_t last_done;
	uint64_t total;
	bool detail; /* a network transfer: show skipped bytes and retries */
	/* What the skipped bytes are: NULL for a download ("never written": not in the blob's
	 * page ranges), else e.g. "of zero pages skipped" for an upload, which skips zero pages. */
	const char *skipped_as;
	uint64_t skipped;
	uint64_t retries;
};

/* Start: quiet (-q) is --progress none; po NULL is auto. json (--json): auto is none, for a
 * script that reads the report (an explicit --progress still shows). */
void cli_progress_init(struct cli_progress *p, const char *label,
		       const struct cli_progress_opts *po, bool quiet, bool json);
/* The library's progress callbacks (ctx: the struct cli_progress). */
void cli_progress_cb(void *ctx, uint64_t done, uint64_t total);
void cli_progress_detail(void *ctx, uint64_t skipped, uint64_t retries);
/* The end: the bar's newline, the last line (lines that printed any) or the final event. */
void cli_progress_end(struct cli_progress *p);

#endif
