/*
 * The command line: cli_main() dispatches to one function per subcommand (cli_<name>.c), each
 * of which parses its options, calls the library and returns an exit code (docs/exit-codes.md).
 */
#ifndef RP_CLI_CLI_H
#define RP_CLI_CLI_H

int cli_main(int argc, char **argv);

#endif
