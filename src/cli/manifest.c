/* vsink manifest cat [DIR|s3://BUCKET[/PREFIX]]: every event of every
 * segment, oldest first. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/mloc.h"
#include "vsink/manifest.h"

#define DEFAULT_DIR "./vsink-data/manifest"

static void usage(FILE *f)
{
  fprintf(f,
          "usage: vsink manifest cat [OPTIONS] [DIR|s3://BUCKET[/PREFIX]]\n"
          "\n"
          "Prints every event of the manifest in DIR (default %s) as JSON\n"
          "lines, all segments merged oldest first. A torn last line (a\n"
          "crash mid-write) is skipped and reported on stderr.\n"
          "\n"
          "  --manifest-extra DIR   with s3://: also this folder's segments\n"
          "  --s3-endpoint URL  --s3-region R   where s3:// is read\n"
          "\n"
          VS_CLI_MLOC_HELP
          "\n"
          "exit status: 0 done, 2 bad usage, 3 DIR or a segment could not be "
          "read\n",
          DEFAULT_DIR);
}

static int print_line(void *ctx, const char *line, size_t len)
{
  (void)ctx;
  fwrite(line, 1, len, stdout);
  return putchar('\n') == EOF ? VS_ERR_IO : 0;
}

static void print_torn(void *ctx, const char *segment, uint64_t offset,
                       size_t len)
{
  (void)ctx;
  fprintf(stderr,
          "vsink manifest: skipped torn line in %s at offset %" PRIu64
          " (%zu bytes)\n", segment, offset, len);
}

static int cat(const char *dir)
{
  static char out[1 << 20];
  vs_err err = {0};
  int rc;
  setvbuf(stdout, out, _IOFBF, sizeof(out));
  rc = vs_manifest_scan(dir, print_line, print_torn, NULL, &err);
  if(fflush(stdout) && !rc) {
    fprintf(stderr, "vsink manifest: writing output: %s\n", strerror(errno));
    return VS_EXIT_FAIL;
  }
  if(rc) {
    fprintf(stderr, "vsink manifest: %s\n",
            err.msg[0] ? err.msg : "writing output failed");
    return VS_EXIT_FAIL;
  }
  return VS_EXIT_OK;
}

/* cat's options: --manifest-extra, --s3-endpoint, --s3-region, then at
 * most one location. */
static int cat_args(int argc, char **argv, vs_cli_mloc *m)
{
  int i;
  m->loc = NULL;
  for(i = 2; i < argc; i++) {
    const char **to = !strcmp(argv[i], "--manifest-extra") ? &m->extra
                    : !strcmp(argv[i], "--s3-endpoint")   ? &m->endpoint
                    : !strcmp(argv[i], "--s3-region")     ? &m->region
                                                          : NULL;
    if(to && i + 1 < argc) {
      *to = argv[++i];
      continue;
    }
    if(to || argv[i][0] == '-' || m->loc) {
      fprintf(stderr, "vsink manifest cat: unexpected argument '%s'\n",
              argv[i]);
      usage(stderr);
      return VS_EXIT_USAGE;
    }
    m->loc = argv[i];
  }
  if(!m->loc)
    m->loc = DEFAULT_DIR;
  return 0;
}

int vs_cli_manifest(int argc, char **argv)
{
  vs_cli_mloc m = {0};
  const char *dir = NULL;
  int i, rc;
  for(i = 1; i < argc; i++)
    if(!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return VS_EXIT_OK;
    }
  if(argc < 2) {
    fprintf(stderr, "vsink manifest: missing subcommand (cat)\n");
    usage(stderr);
    return VS_EXIT_USAGE;
  }
  if(strcmp(argv[1], "cat")) {
    fprintf(stderr, "vsink manifest: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return VS_EXIT_USAGE;
  }
  if((rc = cat_args(argc, argv, &m)) || (rc = vs_cli_mloc_open(&m, "manifest",
                                                                 &dir)))
    return rc;
  rc = cat(dir);
  vs_cli_mloc_close(&m);
  return rc;
}
