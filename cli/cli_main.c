#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_report_json.h"
#include "cli/cli_util.h"
#include "common/json.h"
#include "formats/version.h"
#include "net/version.h"
#include "verify/version.h"

#ifndef RP_COMMIT
#define RP_COMMIT "unknown" /* CMakeLists.txt passes git's commit at configure time */
#endif

static const struct cli_cmd *const commands[] = {
    &cli_cmd_restore, &cli_cmd_preflight, &cli_cmd_inspect, &cli_cmd_convert,
    &cli_cmd_seal,    &cli_cmd_verify,	  &cli_cmd_rp,	    &cli_cmd_stage,
    &cli_cmd_upload,  &cli_cmd_report,	  &cli_cmd_luks,    &cli_cmd_unwrap,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: cvmrestore <command> [options]\n"
		   "       cvmrestore help <command> | --help | --version [--json]\n\n"
		   "Restore and verify single disks of Azure VM recovery points.\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nexit codes: 0 ok, 1 verification failed, 2 usage, 3 malformed input, 4 I/O, "
		   "5 authentication, 130 interrupted (docs/exit-codes.md)\n");
}

/*
 * --version: this program's version and commit, then each linked library's version as loaded
 * (or as built against where the library has no run-time call); --json prints one object.
 */
static int version(int argc, char **argv)
{
	struct rp_libversion v[16];
	size_t n = 0, i;

	if (argc > 3 || (argc == 3 && strcmp(argv[2], "--json") != 0)) {
		fprintf(stderr,
			"cvmrestore: --version takes only --json (see 'cvmrestore --help')\n");
		return CLI_EXIT_USAGE;
	}
	n += rp_net_versions(v + n, 16 - n);
	n += rp_verify_versions(v + n, 16 - n);
	n += rp_formats_versions(v + n, 16 - n);
	n += rp_common_versions(v + n, 16 - n);
	if (argc == 3) {
		struct rp_json *o = cli_doc_new(CLI_SCHEMA_VERSION, "version");
		int rc = 0;

		/* Each set steals its value even on failure, so an error only needs noting. */
		rc |= rp_json_set_str(o, "version", RP_VERSION);
		rc |= rp_json_set_str(o, "commit", RP_COMMIT);
		rc |= rp_json_set(o, "libraries", cli_libraries_json());
		rc = rc ? CLI_EXIT_IO : cli_print_json(o);
		if (rc)
			fprintf(stderr, "cvmrestore: --version: cannot print the JSON document\n");
		rp_json_free(o);
		return rc;
	}
	printf("cvmrestore %s (commit %s)\n", RP_VERSION, RP_COMMIT);
	for (i = 0; i < n; i++)
		printf("  %-14s %s%s\n", v[i].name, v[i].version,
		       v[i].built ? " (built against; it has no run-time version call)" : "");
	return 0;
}

static const struct cli_cmd *find(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int cli_main(int argc, char **argv)
{
	const struct cli_cmd *cmd;
	char **args = NULL;
	int rc;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)
		return version(argc, argv);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		cmd = find(argv[2]);
		if (!cmd) {
			fprintf(
			    stderr,
			    "cvmrestore: help: unknown command '%s' (see 'cvmrestore --help')\n",
			    RP_TEXT(argv[2]));
			return CLI_EXIT_USAGE;
		}
		cli_help(cmd, stdout);
		return 0;
	}
	cmd = find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "cvmrestore: unknown command '%s' (see 'cvmrestore --help')\n",
			RP_TEXT(argv[1]));
		return CLI_EXIT_USAGE;
	}
	cli_signals_install();
	/*
	 * The command works on a copy of its arguments (with @FILE, @- and env:NAME resolved);
	 * the originals lose their SAS queries at once, so that ps and /proc/PID/cmdline do not
	 * show them for the hours a restore may run (as curl does for passwords).
	 */
	rc = cli_args_prepare(cmd, argc - 1, argv + 1, &args);
	cli_args_scrub(argc, argv);
	if (rc)
		return rc;
	rc = cmd->run(cmd, argc - 1, args);
	cli_args_free(args);
	if (rc == CLI_HELP_SHOWN)
		return 0;
	return rc;
}
