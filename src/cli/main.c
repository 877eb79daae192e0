/* vsink: storage sink for generated video. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
  const char *name;
  int (*run)(int, char **);
  const char *help;
} commands[] = {
  {"serve", vs_cli_serve, "run the sink: SigV4-verified PUT/GET, hooks"},
  {"presign", vs_cli_presign, "print a SigV4 presigned URL"},
  {"submit", vs_cli_submit, "send videoInference tasks to the API"},
  {"manifest", vs_cli_manifest, "read the manifest (manifest cat)"},
  {"report", vs_cli_report, "one row per output: cost, status, object"},
  {"verify", vs_cli_verify, "re-hash stored objects against the manifest"},
};

static void usage(FILE *f)
{
  size_t i;
  fprintf(f, "usage: vsink COMMAND [OPTIONS]\n\ncommands:\n");
  for(i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
  fprintf(f, "\n'vsink COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
  size_t i;
  if(argc < 2) {
    usage(stderr);
    return VS_EXIT_USAGE;
  }
  if(!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
     !strcmp(argv[1], "help")) {
    usage(stdout);
    return VS_EXIT_OK;
  }
  if(!strcmp(argv[1], "--version")) {
    printf("vsink 0.1.0\n");
    return VS_EXIT_OK;
  }
  for(i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if(!strcmp(argv[1], commands[i].name))
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "vsink: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return VS_EXIT_USAGE;
}
