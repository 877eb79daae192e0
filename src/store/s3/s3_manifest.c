/* Reading a manifest that sink nodes shipped to a cluster bucket: every
 * segment under [PREFIX/]manifest/NODE/ downloaded into a private folder,
 * with a local folder's unshipped segments beside them, so that the
 * manifest's own readers run on it unchanged. A segment's file name is
 * unique to it (time, node, pid, random), so one name present twice is one
 * segment: it is taken once. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/log.h"
#include "vsink/s3.h"

#define GET_ATTEMPTS 3

/* ---- names --------------------------------------------------------------- */

static int segment_file(const char *n)
{
  size_t len = strlen(n);
  return n[0] != '.' && strchr(n, '/') == NULL &&
         ((len > 9 && !strcmp(n + len - 9, ".jsonl.gz")) ||
          (len > 6 && !strcmp(n + len - 6, ".jsonl")));
}

static int exists_in(const char *dir, const char *name)
{
  char *p = NULL;
  int yes;
  if(asprintf(&p, "%s/%s", dir, name) < 0)
    return 0;
  yes = !access(p, F_OK);
  free(p);
  return yes;
}

/* ---- the local folder ---------------------------------------------------- */

static int copy_file(const char *from, const char *to, vs_err *err)
{
  char buf[65536];
  int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = VS_OK;
  ssize_t r;
  if(in < 0)
    return vs_fail_errno(err, errno, "open %s", from);
  out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if(out < 0)
    rc = vs_fail_errno(err, errno, "create %s", to);
  while(!rc && (r = read(in, buf, sizeof(buf))) != 0) {
    if(r < 0 && errno == EINTR)
      continue;
    if(r < 0)
      rc = vs_fail_errno(err, errno, "read %s", from);
    else
      rc = vs_write_all(out, buf, (size_t)r, err);
  }
  if(out >= 0 && close(out) && !rc)
    rc = vs_fail_errno(err, errno, "close %s", to);
  close(in);
  return rc;
}

/* A hard link where both are on one filesystem, else a copy: either way a
 * regular file, as the manifest's listing wants. */
static int take_local(const char *src, const char *dst, size_t *n,
                      vs_err *err)
{
  DIR *dh = opendir(src);
  struct dirent *d;
  int rc = VS_OK;
  if(!dh)
    return vs_fail_errno(err, errno, "manifest directory %s", src);
  while(!rc && (d = readdir(dh))) {
    char *from = NULL, *to = NULL;
    struct stat st;
    if(!segment_file(d->d_name))
      continue;
    if(asprintf(&from, "%s/%s", src, d->d_name) < 0 ||
       asprintf(&to, "%s/%s", dst, d->d_name) < 0)
      rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
    else if(stat(from, &st) || !S_ISREG(st.st_mode))
      ; /* compressed and removed meanwhile, or not a file */
    else if(link(from, to) && (rc = copy_file(from, to, err)) ==
                                  VS_ERR_NOTFOUND)
      rc = VS_OK; /* the plain one, compressed meanwhile */
    if(!rc)
      (*n)++;
    free(from);
    free(to);
  }
  closedir(dh);
  return rc;
}

/* ---- the bucket ---------------------------------------------------------- */

static int to_fd(void *ctx, const void *p, size_t n)
{
  return vs_write_all(*(int *)ctx, p, n, NULL) ? -1 : 0;
}

static int download(const vs_s3_target *t, const char *bucket,
                    const char *key, const char *path, vs_err *err)
{
  int attempt, rc = VS_OK;
  for(attempt = 0; attempt < GET_ATTEMPTS; attempt++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if(fd < 0)
      return vs_fail_errno(err, errno, "create %s", path);
    rc = vs_s3_get(t, bucket, key, NULL, to_fd, &fd, NULL, err);
    if(close(fd) && !rc)
      rc = vs_fail_errno(err, errno, "close %s", path);
    if(rc != VS_ERR_NET)
      break;
    usleep(200000u << attempt);
  }
  if(rc)
    unlink(path);
  return rc;
}

/* manifest/NODE/NAME.jsonl.gz under the prefix: NAME.jsonl.gz, else NULL */
static const char *segment_of(const char *key, size_t plen)
{
  const char *rest = key + plen, *slash;
  if(strncmp(rest, "manifest/", 9))
    return NULL;
  rest += 9;
  slash = strchr(rest, '/');
  if(!slash || slash == rest || !segment_file(slash + 1))
    return NULL;
  return slash + 1;
}

static int fetch_page(const vs_s3_target *t, const char *bucket,
                      const vs_s3_list_page *pg, size_t plen,
                      const char *dir, size_t *n, vs_err *err)
{
  size_t i;
  int rc = VS_OK;
  for(i = 0; !rc && i < pg->n; i++) {
    const char *name = segment_of(pg->entries[i].key, plen);
    char *path = NULL;
    if(!name || exists_in(dir, name))
      continue; /* not a segment, or one the local folder had */
    if(asprintf(&path, "%s/%s", dir, name) < 0)
      return vs_fail(err, VS_ERR_NOMEM, "out of memory");
    rc = download(t, bucket, pg->entries[i].key, path, err);
    if(!rc)
      (*n)++;
    free(path);
  }
  return rc;
}

static int fetch_bucket(const vs_s3_target *t, const char *bucket,
                        const char *prefix, const char *dir, size_t *n,
                        vs_err *err)
{
  char *lp = NULL, *token = NULL;
  vs_s3_list_opts lo = {0};
  int rc = VS_OK, more = 1;
  if(asprintf(&lp, "%s%smanifest/", prefix, *prefix ? "/" : "") < 0)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  lo.prefix = lp;
  while(!rc && more) {
    vs_s3_list_page pg;
    memset(&pg, 0, sizeof(pg));
    lo.token = token;
    rc = vs_s3_list(t, bucket, &lo, &pg, err);
    if(!rc)
      rc = fetch_page(t, bucket, &pg, strlen(lp) - 9, dir, n, err);
    more = !rc && pg.truncated && pg.next_token;
    free(token);
    token = more ? strdup(pg.next_token) : NULL;
    if(more && !token)
      rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
    vs_s3_list_page_free(&pg);
  }
  free(token);
  free(lp);
  return rc;
}

/* ---- the public face ----------------------------------------------------- */

int vs_s3_manifest_stage(const vs_s3_target *t, const char *url,
                         const char *local, char **dir_out,
                         vs_s3_stage_counts *counts, vs_err *err)
{
  const char *tmp = getenv("TMPDIR");
  char *bucket = NULL, *prefix = NULL, *dir = NULL;
  vs_s3_stage_counts c = {0, 0};
  int made = 0, rc = vs_store_s3_url_parse(url, &bucket, &prefix, err);
  *dir_out = NULL;
  if(rc)
    return rc;
  if(asprintf(&dir, "%s/vsink-manifest-XXXXXX", tmp && *tmp ? tmp : "/tmp")
     < 0) {
    dir = NULL;
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  } else if(!mkdtemp(dir))
    rc = vs_fail_errno(err, errno, "mkdtemp %s", dir);
  else
    made = 1;
  /* The local folder first: its segments are the same bytes as their
   * shipped copies, and the unshipped ones exist nowhere else. */
  if(!rc && local)
    rc = take_local(local, dir, &c.local, err);
  if(!rc)
    rc = fetch_bucket(t, bucket, prefix, dir, &c.fetched, err);
  if(rc && made)
    vs_s3_manifest_unstage(dir), dir = NULL;
  else if(!rc)
    *dir_out = dir, dir = NULL;
  free(dir);
  free(bucket);
  free(prefix);
  if(counts)
    *counts = c;
  return rc;
}

void vs_s3_manifest_unstage(char *dir)
{
  DIR *dh;
  struct dirent *d;
  if(!dir)
    return;
  if((dh = opendir(dir))) {
    while((d = readdir(dh))) {
      char *p = NULL;
      if(!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
        continue;
      if(asprintf(&p, "%s/%s", dir, d->d_name) >= 0)
        unlink(p);
      free(p);
    }
    closedir(dh);
  }
  if(rmdir(dir))
    vs_log("warn", "could not remove %s: %s", dir, strerror(errno));
  free(dir);
}
