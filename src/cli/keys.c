/* The credentials logic shared by vsink serve, presign and submit. */
#include "cli/keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fs.h"

static int fail(int rc, const char *what, const vs_err *err)
{
  fprintf(stderr, "vsink: credentials: %s%s%s\n", what, *what ? ": " : "",
          err->msg);
  return rc;
}

static int generate(const char *data_dir, const char *path, vs_keyring **out)
{
  const char *id, *secret;
  vs_err err = {0};
  int rc = vs_mkdirs(data_dir, 0700, &err);
  if(rc)
    return fail(rc, data_dir, &err);
  rc = vs_keyring_generate(out, path, &err);
  if(rc == VS_ERR_EXISTS) /* another process made it first: use theirs */
    rc = vs_keyring_load(out, path, &err);
  else if(!rc && !vs_keyring_first(*out, &id, &secret))
    fprintf(stderr, "vsink: created access key %s; its secret is in %s "
            "(mode 0600). Clients sign with both (VSINK_ACCESS_KEY_ID, "
            "VSINK_SECRET_ACCESS_KEY or --credentials).\n", id, path);
  return rc ? fail(rc, "", &err) : 0;
}

int vs_cli_keys(const char *cred_file, const char *data_dir, int may_generate,
                vs_keyring **out)
{
  char path[4096];
  struct stat st;
  vs_err err = {0};
  int rc;
  *out = NULL;
  if(cred_file) {
    rc = vs_keyring_load(out, cred_file, &err);
    return rc ? fail(rc, "--credentials", &err) : 0;
  }
  rc = vs_keyring_load(out, NULL, &err);
  if(rc != VS_ERR_NOTFOUND)
    return rc ? fail(rc, "", &err) : 0;
  if(snprintf(path, sizeof(path), "%s/credentials", data_dir) >=
     (int)sizeof(path)) {
    fprintf(stderr, "vsink: credentials: data folder path too long\n");
    return VS_ERR_INVALID;
  }
  if(!stat(path, &st) || errno != ENOENT) {
    rc = vs_keyring_load(out, path, &err);
    return rc ? fail(rc, "", &err) : 0;
  }
  if(may_generate)
    return generate(data_dir, path, out);
  fprintf(stderr, "vsink: no credentials: set VSINK_ACCESS_KEY_ID and "
          "VSINK_SECRET_ACCESS_KEY, pass --credentials FILE, or run "
          "'vsink serve --data %s' once to create %s\n", data_dir, path);
  return VS_ERR_NOTFOUND;
}
