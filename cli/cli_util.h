/*
 * Shared pieces of the command line: option tables that drive both parsing and --help, the
 * one-line error format, exit codes, progress on a terminal, and JSON/human output.
 * Only cli/ prints or exits.
 */
#ifndef RP_CLI_UTIL_H
#define RP_CLI_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/err.h"
#include "common/json.h"
#include "common/text.h" /* RP_PATH(), RP_TEXT(): every printed path, URL or text */
#include "formats/image.h"

/* Set by the SIGINT/SIGTERM handler; the pipeline stops and partial outputs are removed. */
extern volatile sig_atomic_t cli_stop;

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_VERIFY = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_FORMAT = 3,
	CLI_EXIT_IO = 4,
	CLI_EXIT_AUTH = 5,
	CLI_EXIT_INTR = 130,
	CLI_HELP_SHOWN = -1, /* internal: --help was printed, exit 0 */
};

struct cli_opt {
	const char *name;
	char short_name; /* 0 if none */
	bool has_arg;
	const char *metavar;
	const char *help;
};

struct cli_cmd {
	const char *name;
	const char *args;	    /* positional arguments, e.g. "IN OUT" */
	const char *summary;	    /* one line */
	const char *details;	    /* paragraphs after the options, or NULL */
	const struct cli_opt *opts; /* terminated by a zeroed entry */
	int (*run)(const struct cli_cmd *cmd, int argc, char **argv);
};

/* Called for each option found: idx into cmd->opts, arg or NULL. Return 0 or an exit code. */
typedef int (*cli_opt_fn)(void *ctx, const struct cli_cmd *cmd, int idx, const char *arg);

/*
 * Parse argv[1..] (argv[0] is the command name) with the command's option table. Positional
 * arguments are gathered into pos (at most max_pos; more is a usage error). Returns 0,
 * CLI_HELP_SHOWN after printing help for --help, or an exit code after printing the error.
 */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, cli_opt_fn fn, void *ctx,
	      const char **pos, int max_pos, int *npos);

void cli_help(const struct cli_cmd *cmd, FILE *f);

/*
 * The arguments of cmd (argv[0] is the command name) as a new NULL-terminated copy in *out, with
 * every positional argument and every value of an option whose metavar names a URL taken from
 * where it points when it is "@FILE" (the file's first line), "@-" (the first line of standard
 * input, once) or "env:NAME" (the variable's value): so a SAS need not be on the command line.
 * Returns 0, or an exit code after printing the error. Free with cli_args_free (wipes).
 */
int cli_args_prepare(const struct cli_cmd *cmd, int argc, char **argv, char ***out);
void cli_args_free(char **a);

/* Overwrite the query and user info of every argv[1..argc) in place (rp_text_wipe_secrets). */
void cli_args_scrub(int argc, char **argv);

/* "cvmrestore: CMD: MESSAGE" on stderr; returns the exit code for err->code. */
int cli_fail(const struct cli_cmd *cmd, const struct rp_err *err);

/* A usage error with a pointer to --help; returns CLI_EXIT_USAGE. */
int cli_usage(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print v to stdout as one JSON document; returns 0 or CLI_EXIT_IO. */
int cli_print_json(const struct rp_json *v);

/* Print v to f as indented "key: value" lines (the human form of a report). */
void cli_print_tree(FILE *f, const struct rp_json *v, int indent);

void cli_signals_install(void);

/* Human size: "1.5 GiB". */
void cli_fmt_size(uint64_t bytes, char *out, size_t outsz);

/* Parse --threads N: 1..256. */
int cli_parse_threads(const struct cli_cmd *cmd, const char *arg, unsigned *out);

/* Options shared by the commands that open images. */
struct cli_image_args {
	const char *parents[RP_IMAGE_MAX_CHAIN + 1];
	size_t parent_count;
	bool ignore_checksums;
};

/* Handle --parent and --ignore-checksums; returns 1 if the option was not one of them. */
int cli_image_arg(const struct cli_cmd *cmd, struct cli_image_args *a, const char *name,
		  const char *arg);

/* Open path with the shared image options; prints the error and returns an exit code. */
int cli_open_image(const struct cli_cmd *cmd, const char *path, const struct cli_image_args *a,
		   bool keep_unreadable, struct rp_image **out);

struct cli_progress {
	bool enabled;
	const char *label;
	double start; /* rp_now_s() */
	uint64_t last_done;
	bool detail; /* a network transfer: show skipped bytes and retries */
	uint64_t skipped;
	uint64_t retries;
};

/* Progress on stderr, only when stderr is a terminal and not quiet. */
void cli_progress_init(struct cli_progress *p, const char *label, bool quiet);
void cli_progress_cb(void *ctx, uint64_t done, uint64_t total);
void cli_progress_end(struct cli_progress *p);
void cli_progress_detail(void *ctx, uint64_t skipped, uint64_t retries);

/* The command table, in cli_main.c. */
extern const struct cli_cmd cli_cmd_inspect;
extern const struct cli_cmd cli_cmd_convert;
extern const struct cli_cmd cli_cmd_seal;
extern const struct cli_cmd cli_cmd_verify;
extern const struct cli_cmd cli_cmd_restore;
extern const struct cli_cmd cli_cmd_preflight;
extern const struct cli_cmd cli_cmd_rp;
extern const struct cli_cmd cli_cmd_stage;
extern const struct cli_cmd cli_cmd_upload;
extern const struct cli_cmd cli_cmd_report;
extern const struct cli_cmd cli_cmd_luks;
extern const struct cli_cmd cli_cmd_unwrap;

#endif
