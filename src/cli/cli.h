/* The command line: main.c dispatches to one function per subcommand; each
 * lives in its own file, parses its options and calls the library. */
#ifndef VS_CLI_H
#define VS_CLI_H

int vs_cli_serve(int argc, char **argv);
int vs_cli_presign(int argc, char **argv);
int vs_cli_manifest(int argc, char **argv);
int vs_cli_submit(int argc, char **argv);
int vs_cli_report(int argc, char **argv);
int vs_cli_verify(int argc, char **argv);

/* Exit statuses shared by the subcommands. */
#define VS_EXIT_OK 0
#define VS_EXIT_PROBLEM 1 /* ran, found problems (report, verify, submit) */
#define VS_EXIT_USAGE 2   /* bad options */
#define VS_EXIT_FAIL 3    /* could not run (I/O, network, credentials) */

#endif
