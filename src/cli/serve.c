/* vsink serve: placeholder until its part lands. */
#include <stdio.h>

#include "cli/cli.h"

int vs_cli_serve(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  fprintf(stderr, "vsink serve: not built yet\n");
  return VS_EXIT_FAIL;
}
