/* The S3 store (vsink/s3.h): opening it over a cluster bucket, its key
 * mapping and its s3:// URL. The operations live in s3store_put.c,
 * s3store_read.c, s3store_list.c and s3store_intent.c. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/s3/s3store_int.h"
#include "util/fs.h"
#include "util/log.h"

/* A spool file younger than this may be another upload's, between its
 * creation and its unlink (s3store_put.c). */
#define SPOOL_STALE_S 60

static void s3s_close(vs_store *st);

static const vs_store_ops s3s_ops = {
  .begin = vs__s3s_begin,
  .write = vs__s3s_write,
  .commit = vs__s3s_commit,
  .abort = vs__s3s_abort,
  .stat = vs__s3s_stat,
  .open = vs__s3s_open_obj,
  .remove = vs__s3s_remove,
  .close = s3s_close,
  .settle = vs__s3s_settle,
  .intents = vs__s3s_intents,
  .oldest_intent = vs__s3s_oldest_intent,
  .expect = vs__s3s_expect,
  .parted = vs__s3s_parted,
  .cancel = vs__s3s_cancel,
  .wait_fd = vs__s3s_wait_fd,
  .stream = vs__s3s_stream,
  .list_open = vs__s3s_list_open,
  .versions = vs__s3s_versions,
  .describe = vs__s3s_describe,
  .mpu = &vs__s3s_mpu_ops,
  .copy = vs__s3s_copy,
  .remote = 1,
};

int vs__s3s_bucket_prefix(const vs__s3s *s, const char *bucket, char **out,
                          vs_err *err)
{
  int rc = vs_store_check_bucket(bucket, err);
  if(rc)
    return rc;
  if(asprintf(out, "%s%s/", s->prefix, bucket) < 0) {
    *out = NULL;
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  return VS_OK;
}

int vs__s3s_ckey(const vs__s3s *s, const char *bucket, const char *key,
                 char **out, vs_err *err)
{
  size_t klen = key ? strlen(key) : 0;
  char *bp;
  int rc = vs_store_check_key(key ? key : "", klen, err);
  if(!rc)
    rc = vs__s3s_bucket_prefix(s, bucket, &bp, err);
  if(rc)
    return rc;
  if(strlen(bp) + klen > VS_KEY_MAX) {
    rc = vs_fail(err, VS_ERR_TOOLARGE, "key '%.40s...' is %zu bytes; with "
                 "'%s' in front it exceeds the cluster's %d", key, klen, bp,
                 VS_KEY_MAX);
    free(bp);
    return rc;
  }
  *out = malloc(strlen(bp) + klen + 1);
  if(!*out) {
    free(bp);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  strcpy(*out, bp);
  strcat(*out, key);
  free(bp);
  return VS_OK;
}

int vs_store_s3_url_parse(const char *url, char **bucket, char **prefix,
                          vs_err *err)
{
  const char *b, *slash;
  size_t blen, plen;
  int rc;
  *bucket = *prefix = NULL;
  if(!url || strncmp(url, "s3://", 5))
    return vs_fail(err, VS_ERR_INVALID, "'%s' is not s3://BUCKET[/PREFIX]",
                   url ? url : "");
  b = url + 5;
  slash = strchr(b, '/');
  blen = slash ? (size_t)(slash - b) : strlen(b);
  if(!blen)
    return vs_fail(err, VS_ERR_INVALID, "'%s' names no bucket", url);
  plen = slash ? strlen(slash + 1) : 0;
  while(plen && slash[plen] == '/')
    plen--; /* trailing '/' dropped */
  if(slash && slash[1] == '/')
    return vs_fail(err, VS_ERR_INVALID, "'%s': the prefix starts with '/'",
                   url);
  if(!(*bucket = strndup(b, blen)) ||
     !(*prefix = strndup(slash ? slash + 1 : "", plen))) {
    free(*bucket);
    *bucket = NULL;
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  if((rc = vs_store_check_bucket(*bucket, err)) ||
     (strstr(*prefix, "//") &&
      (rc = vs_fail(err, VS_ERR_INVALID, "'%s': the prefix holds '//'",
                    url)))) {
    vs_err inner = *err;
    vs_fail(err, rc, "%s: %s", url, inner.msg);
    free(*bucket);
    free(*prefix);
    *bucket = *prefix = NULL;
    return rc;
  }
  return VS_OK;
}

/* Spool files a crash left: every upload unlinks its own right after
 * creating it, so a named one is an orphan once it is a minute old. */
static void clean_spool(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  struct stat st;
  time_t now = time(NULL);
  int n = 0;
  if(!d)
    return;
  while((e = readdir(d))) {
    if(strncmp(e->d_name, "spool-", 6) ||
       fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
       !S_ISREG(st.st_mode) || now - st.st_mtime < SPOOL_STALE_S)
      continue;
    if(!unlinkat(dirfd(d), e->d_name, 0))
      n++;
  }
  closedir(d);
  if(n)
    vs_log("info", "removed %d leftover spool file(s) from %s", n, dir);
}

static int check_options(const vs_store_s3_opts *o, vs_err *err)
{
  const char *p = o->prefix;
  if(!o->bucket || !o->spool_dir || !*o->spool_dir || !o->state_dir ||
     !*o->state_dir)
    return vs_fail(err, VS_ERR_INVALID, "the S3 store needs a bucket, a "
                   "spool dir and a state dir");
  if(p && *p && (p[0] == '/' || p[strlen(p) - 1] == '/'))
    return vs_fail(err, VS_ERR_INVALID, "S3 store prefix '%s': no leading "
                   "or trailing '/'", p);
  return vs_store_check_bucket(o->bucket, err);
}

/* The bucket answers (one key listed), and is versioned if it must be. */
static int check_bucket(vs__s3s *s, int require_versioning, vs_err *err)
{
  vs_s3_list_opts lo = {0};
  vs_s3_list_page pg;
  int rc, state = 0;
  lo.max_keys = 1;
  if((rc = vs_s3_list(&s->t, s->bucket, &lo, &pg, err)))
    return rc;
  vs_s3_list_page_free(&pg);
  if(!require_versioning)
    return VS_OK;
  if((rc = vs_s3_bucket_versioning(&s->t, s->bucket, &state, err)))
    return rc;
  if(state != VS_S3_VERSIONING_ENABLED)
    return vs_fail(err, VS_ERR_INVALID, "bucket %s has versioning %s; "
                   "enable it: aws s3api put-bucket-versioning --bucket %s "
                   "--versioning-configuration Status=Enabled "
                   "--endpoint-url %s", s->bucket,
                   state == VS_S3_VERSIONING_SUSPENDED ? "suspended" : "off",
                   s->bucket, s->t.endpoint);
  return VS_OK;
}

static int make_dirs(vs__s3s *s, const vs_store_s3_opts *o, vs_err *err)
{
  const char *p = o->prefix ? o->prefix : "";
  int rc;
  if(asprintf(&s->prefix, "%s%s", p, *p ? "/" : "") < 0 ||
     asprintf(&s->idir, "%s/intent", o->state_dir) < 0 ||
     !(s->spool = strdup(o->spool_dir))) {
    s->prefix = s->idir = NULL;
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  if((rc = vs_mkdirs(s->spool, 0700, err)) ||
     (rc = vs_mkdirs(s->idir, 0700, err)))
    return rc;
  clean_spool(s->spool);
  return VS_OK;
}

static int is_held(const vs__s3s *s, const char *ckey)
{
  const vs__s3s_held *h;
  for(h = s->held; h; h = h->next)
    if(!strcmp(h->ckey, ckey))
      return 1;
  return 0;
}

/* The list is as long as the commits in flight on held keys: a few. */
void vs__s3s_hold(vs__s3s *s, vs__s3s_held *h, const char *ckey)
{
  pthread_mutex_lock(&s->mu);
  while(is_held(s, ckey))
    pthread_cond_wait(&s->released, &s->mu);
  h->ckey = ckey;
  h->next = s->held;
  s->held = h;
  pthread_mutex_unlock(&s->mu);
}

void vs__s3s_release(vs__s3s *s, vs__s3s_held *h)
{
  vs__s3s_held **p;
  pthread_mutex_lock(&s->mu);
  for(p = &s->held; *p && *p != h; p = &(*p)->next)
    ;
  if(*p)
    *p = h->next;
  pthread_cond_broadcast(&s->released);
  pthread_mutex_unlock(&s->mu);
}

int vs_store_s3_open(vs_store **out, const vs_store_s3_opts *o, vs_err *err)
{
  vs__s3s *s;
  int rc;
  *out = NULL;
  if((rc = check_options(o, err)))
    return rc;
  if(!(s = calloc(1, sizeof(*s))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  s->base.ops = &s3s_ops;
  s->t = o->t;
  s->bucket = o->bucket;
  s->upload_parts = o->upload_parts ? o->upload_parts : 2;
  s->copy_max = o->copy_max ? o->copy_max : VS_PART_MAX_BYTES;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->work, NULL);
  pthread_cond_init(&s->idle, NULL);
  pthread_cond_init(&s->clean, NULL);
  pthread_cond_init(&s->released, NULL);
  if(!(rc = make_dirs(s, o, err)) &&
     !(rc = check_bucket(s, o->require_versioning, err)))
    rc = vs__s3s_pool_start(s, o->parts_in_flight ? o->parts_in_flight : 8,
                            err);
  if(rc) {
    s3s_close(&s->base);
    return rc;
  }
  *out = &s->base;
  return VS_OK;
}

static void s3s_close(vs_store *st)
{
  vs__s3s *s = (vs__s3s *)st;
  vs__s3s_pool_stop(s); /* sets stopping: the cleaner ends too */
  vs__s3s_cleaner_stop(s);
  pthread_mutex_lock(&s->mu);
  while(s->streams) /* a stream's thread uses the target */
    pthread_cond_wait(&s->idle, &s->mu);
  pthread_mutex_unlock(&s->mu);
  pthread_cond_destroy(&s->idle);
  pthread_cond_destroy(&s->clean);
  pthread_cond_destroy(&s->released);
  pthread_cond_destroy(&s->work);
  pthread_mutex_destroy(&s->mu);
  free(s->prefix);
  free(s->spool);
  free(s->idir);
  free(s);
}
