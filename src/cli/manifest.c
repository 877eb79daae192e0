/* vsink manifest: placeholder until its part lands. */
#include <stdio.h>

#include "cli/cli.h"

int vs_cli_manifest(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  fprintf(stderr, "vsink manifest: not built yet\n");
  return VS_EXIT_FAIL;
}
