/* vsink report: placeholder until its part lands. */
#include <stdio.h>

#include "cli/cli.h"

int vs_cli_report(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  fprintf(stderr, "vsink report: not built yet\n");
  return VS_EXIT_FAIL;
}
