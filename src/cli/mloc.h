/* A manifest location as the reading commands take it: a local folder, or
 * s3://BUCKET[/PREFIX] where sink nodes ship their segments (staged into a
 * private folder by vs_s3_manifest_stage, with --manifest-extra's local,
 * unshipped segments beside them). */
#ifndef VS_CLI_MLOC_H
#define VS_CLI_MLOC_H

typedef struct vs_cli_mloc {
  const char *loc;       /* a folder or s3://BUCKET[/PREFIX] */
  const char *extra;     /* --manifest-extra DIR; only with s3:// */
  const char *endpoint;  /* --s3-endpoint, else $VSINK_S3_ENDPOINT */
  const char *region;    /* --s3-region [us-east-1] */
  char *staged;          /* the private folder, removed by close */
} vs_cli_mloc;

#define VS_CLI_MLOC_HELP \
  "A manifest may be s3://BUCKET[/PREFIX]: every node's shipped segments\n" \
  "under PREFIX/manifest/ (vsink serve --manifest-bucket), read from\n" \
  "--s3-endpoint URL (or $VSINK_S3_ENDPOINT; --s3-region R [us-east-1])\n" \
  "with VSINK_S3_ACCESS_KEY_ID and VSINK_S3_SECRET_ACCESS_KEY; add a\n" \
  "node's local, unshipped segments with --manifest-extra DIR (a segment\n" \
  "in both is read once).\n"

/* The folder to read into *dir (valid until vs_cli_mloc_close). A CLI
 * exit code: 0, VS_EXIT_USAGE or VS_EXIT_FAIL (said on stderr as cmd). */
int vs_cli_mloc_open(vs_cli_mloc *m, const char *cmd, const char **dir);
void vs_cli_mloc_close(vs_cli_mloc *m);

/* One shipping pass (vsink/server.h: vs_ship_pass) of dir's closed
 * segments to url (s3://BUCKET[/PREFIX]) at endpoint, for a command that
 * writes a manifest and then exits. 0, or VS_EXIT_FAIL (said on stderr:
 * the segments stay in dir for a later pass). */
int vs_cli_mloc_ship(const char *cmd, const char *url, const char *dir,
                     const char *node, const char *endpoint,
                     const char *region);

#endif
