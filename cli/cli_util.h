/*
 * Shared pieces of the command line: option tables that drive both parsing and --help, the
 * one-line error format, exit codes, and JSON/human output.
 * Only cli/ prints or exits.
 */
#ifndef RP_CLI_UTIL_H
#define RP_CLI_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
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

struct cli_cmd;
struct cli_opt;

/* Parse arg into field (the command's arguments + the option's off); 0 or an exit code after
 * printing the error (naming o->name). */
typedef int (*cli_set_fn)(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
			  const char *arg);

/* How an option is bound to the command's arguments (the ctx cli_parse is given). */
enum cli_bind {
	CLI_FLAG, /* bool at off: set to true */
	CLI_STR,  /* const char * at off: the value (the last one given wins) */
	CLI_SET,  /* set(cmd, o, ctx + off, value) */
};

/* One option: its name, help and binding, from which cli_parse parses and cli_help prints. */
struct cli_opt {
	const char *name;
	char short_name; /* 0 if none */
	bool has_arg;
	const char *metavar;
	const char *help;
	enum cli_bind bind;
	size_t off; /* offsetof(the command's arguments, the field) */
	cli_set_fn set;
};

/* Bound options: a flag, a string, or a value parsed by set, stored at offsetof(T, m). */
#define CLI_OPT_FLAG(name, sh, help, T, m)                                                         \
	{                                                                                          \
		name, sh, false, NULL, help, CLI_FLAG, offsetof(T, m), NULL                        \
	}
#define CLI_OPT_STR(name, sh, mv, help, T, m)                                                      \
	{                                                                                          \
		name, sh, true, mv, help, CLI_STR, offsetof(T, m), NULL                            \
	}
#define CLI_OPT_SET(name, sh, mv, help, T, m, fn)                                                  \
	{                                                                                          \
		name, sh, true, mv, help, CLI_SET, offsetof(T, m), fn                              \
	}
/* A flag whose setter acts on it (fn is called with arg NULL). */
#define CLI_OPT_FLAG_SET(name, sh, help, T, m, fn)                                                 \
	{                                                                                          \
		name, sh, false, NULL, help, CLI_SET, offsetof(T, m), fn                           \
	}

/* Setters for CLI_SET. */
int cli_set_threads(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		    const char *arg); /* unsigned, 1..256 */
int cli_set_parent(const struct cli_cmd *cmd, const struct cli_opt *o, void *field,
		   const char *arg); /* struct cli_image_args: one more --parent */

/* The options of struct cli_image_args at offsetof(T, m), for commands that open images. */
#define CLI_IMAGE_OPTS(T, m, checksums_help)                                                       \
	CLI_OPT_SET("parent", 0, "PATH", "parent of a differencing image (repeat, nearest first)", \
		    T, m, cli_set_parent),                                                         \
	    CLI_OPT_FLAG("ignore-checksums", 0, checksums_help, T, m.ignore_checksums)

struct cli_cmd {
	const char *name;
	const char *args;	    /* positional arguments, e.g. "IN OUT" */
	const char *summary;	    /* one line */
	const char *details;	    /* paragraphs after the options, or NULL */
	const struct cli_opt *opts; /* terminated by a zeroed entry */
	int (*run)(const struct cli_cmd *cmd, int argc, char **argv);
};

/*
 * One option given by name rather than on a command line (a plugin's key=value): find name in
 * the table opts and store arg (NULL for a flag) in ctx where the entry binds it. Returns 0, an
 * exit code after printing the error, or 1 if opts has no such option.
 */
int cli_set_named(const struct cli_cmd *cmd, const struct cli_opt *opts, void *ctx,
		  const char *name, const char *arg);

/*
 * Parse argv[1..] (argv[0] is the command name) with the command's option table: each option
 * is stored in ctx (the command's arguments) where its entry binds it. Positional arguments are
 * gathered into pos (at most max_pos; more is a usage error). Returns 0, CLI_HELP_SHOWN after
 * printing help for --help, or an exit code after printing the error.
 */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, void *ctx, const char **pos,
	      int max_pos, int *npos);

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

/* What to do about a hint of the library (common/err.h), in the words of cmd's options, with
 * value (err->hint_value; may be NULL) where the words name it: a static text or buf[0..size),
 * NULL for none. */
const char *cli_hint(const struct cli_cmd *cmd, enum rp_hint hint, const char *value, char *buf,
		     size_t size);

/* "cvmrestore: CMD: MESSAGE" on stderr, then "; HINT" when err carries a hint (cli_hint);
 * returns the exit code for err->code. */
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

/* Open path with the shared image options; prints the error and returns an exit code. */
int cli_open_image(const struct cli_cmd *cmd, const char *path, const struct cli_image_args *a,
		   bool keep_unreadable, struct rp_image **out);

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
