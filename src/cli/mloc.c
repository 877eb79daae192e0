/* Manifest locations for the reading commands: see mloc.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/mloc.h"
#include "vsink/s3.h"
#include "vsink/server.h"

static int s3_loc(vs_cli_mloc *m, const char *cmd, const char **dir)
{
  vs_s3_target t = {0};
  vs_s3_stage_counts n;
  vs_err err = {0};
  char *bucket = NULL, *prefix = NULL;
  if(vs_store_s3_url_parse(m->loc, &bucket, &prefix, &err)) {
    fprintf(stderr, "vsink %s: %s\n", cmd, err.msg);
    return VS_EXIT_USAGE;
  }
  free(bucket);
  free(prefix);
  t.endpoint = m->endpoint ? m->endpoint : getenv("VSINK_S3_ENDPOINT");
  t.region = m->region;
  t.key_id = getenv("VSINK_S3_ACCESS_KEY_ID");
  t.secret = getenv("VSINK_S3_SECRET_ACCESS_KEY");
  if(!t.endpoint || (strncmp(t.endpoint, "http://", 7) &&
                     strncmp(t.endpoint, "https://", 8))) {
    fprintf(stderr, "vsink %s: %s needs --s3-endpoint http(s)://HOST:PORT "
            "(or VSINK_S3_ENDPOINT)\n", cmd, m->loc);
    return VS_EXIT_USAGE;
  }
  if(!t.key_id || !t.secret) {
    fprintf(stderr, "vsink %s: %s needs VSINK_S3_ACCESS_KEY_ID and "
            "VSINK_S3_SECRET_ACCESS_KEY in the environment\n", cmd, m->loc);
    return VS_EXIT_USAGE;
  }
  if(vs_s3_manifest_stage(&t, m->loc, m->extra, &m->staged, &n, &err)) {
    fprintf(stderr, "vsink %s: %s: %s\n", cmd, m->loc, err.msg);
    return err.code == VS_ERR_INVALID ? VS_EXIT_USAGE : VS_EXIT_FAIL;
  }
  *dir = m->staged;
  return VS_EXIT_OK;
}

int vs_cli_mloc_open(vs_cli_mloc *m, const char *cmd, const char **dir)
{
  m->staged = NULL;
  if(!strncmp(m->loc, "s3://", 5))
    return s3_loc(m, cmd, dir);
  if(m->extra) {
    fprintf(stderr, "vsink %s: --manifest-extra goes with an s3:// "
            "manifest\n", cmd);
    return VS_EXIT_USAGE;
  }
  *dir = m->loc;
  return VS_EXIT_OK;
}

void vs_cli_mloc_close(vs_cli_mloc *m)
{
  vs_s3_manifest_unstage(m->staged);
  m->staged = NULL;
}

int vs_cli_mloc_ship(const char *cmd, const char *url, const char *dir,
                     const char *node, const char *endpoint,
                     const char *region)
{
  vs_s3_target t = {0};
  vs_ship_opts so = {0};
  vs_ship *ship = NULL;
  vs_err err = {0};
  char *bucket = NULL, *prefix = NULL;
  int rc;
  t.endpoint = endpoint;
  t.region = region;
  t.key_id = getenv("VSINK_S3_ACCESS_KEY_ID");
  t.secret = getenv("VSINK_S3_SECRET_ACCESS_KEY");
  rc = !t.key_id || !t.secret
           ? vs_fail(&err, VS_ERR_AUTH, "VSINK_S3_ACCESS_KEY_ID and "
                     "VSINK_S3_SECRET_ACCESS_KEY are not set")
           : vs_store_s3_url_parse(url, &bucket, &prefix, &err);
  if(!rc) {
    so = (vs_ship_opts){.dir = dir, .node = node, .target = &t,
                        .bucket = bucket, .prefix = prefix};
    rc = vs_ship_open(&ship, &so, &err);
  }
  if(!rc)
    rc = vs_ship_pass(ship, &err);
  vs_ship_free(ship);
  free(bucket);
  free(prefix);
  if(rc) {
    fprintf(stderr, "vsink %s: manifest not shipped to %s (kept in %s): "
            "%s\n", cmd, url, dir, err.msg);
    return VS_EXIT_FAIL;
  }
  return VS_EXIT_OK;
}
