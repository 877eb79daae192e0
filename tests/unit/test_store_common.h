/* Shared by the store tests: put a buffer, read an object back, hash. */
#ifndef VS_TEST_STORE_COMMON_H
#define VS_TEST_STORE_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util/enc.h"
#include "helpers.h"
#include "vsink/store.h"

static inline void st_sha256(const void *p, size_t n, char out[65])
{
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
  vs_hex(md, 32, out);
}

/* begin, write in pieces of `piece` bytes, commit: what the sink does. */
static inline int st_put(vs_store *s, const char *bucket, const char *key,
                         const void *data, size_t len,
                         vs_on_existing policy, int if_none_match,
                         vs_object_info *info, vs_err *err)
{
  const size_t piece = 4096;
  vs_upload *u = NULL;
  char sha[65];
  vs_commit c = {0};
  size_t off = 0;
  int rc = vs_store_begin(s, bucket, key, &u, err);
  if(rc)
    return rc;
  while(off < len) {
    size_t n = len - off < piece ? len - off : piece;
    rc = vs_store_write(s, u, (const char *)data + off, n, err);
    if(rc) {
      vs_store_abort(s, u);
      return rc;
    }
    off += n;
  }
  st_sha256(data, len, sha);
  c.bytes = len;
  c.sha256 = sha;
  c.content_type = "video/mp4";
  c.policy = policy;
  c.if_none_match = if_none_match;
  return vs_store_commit(s, u, &c, info, err);
}

/* The whole object (current when vid is NULL) into a malloc'd buffer. */
static inline char *st_get(vs_store *s, const char *bucket, const char *key,
                           const char *vid, size_t *len, vs_object_info *info,
                           int *rc_out)
{
  vs_err err = {0};
  int fd = -1;
  size_t cap = 4096, got = 0;
  char *buf;
  *rc_out = vs_store_open(s, bucket, key, vid, &fd, info, &err);
  if(*rc_out)
    return NULL;
  buf = malloc(cap);
  for(;;) {
    ssize_t r;
    if(got == cap)
      buf = realloc(buf, cap *= 2);
    r = read(fd, buf + got, cap - got);
    if(r < 0 && errno == EINTR)
      continue;
    if(r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  *len = got;
  return buf;
}

/* The filesystem store in dir, opened as the sink (or, read_only, as
 * verify) opens it; cleaned may be NULL. VS_OK or the open's error. */
static inline int st_open_dir(const char *dir, int read_only, int *cleaned,
                              vs_store **s, vs_err *err)
{
  vs_store_fs_opts o = {0};
  o.dir = dir;
  o.read_only = read_only;
  *s = NULL;
  return vs_store_fs_open(s, &o, cleaned, err);
}

/* A filesystem store in a fresh temporary folder: what most store tests
 * start from. now may be NULL (the real clock). 0 or -1. */
static inline int st_open_tmp(const char *tag, char *dir, size_t cap,
                              vs_now_fn now, void *now_ctx, vs_store **s)
{
  vs_store_fs_opts o = {0};
  vs_err err = {0};
  if(vst_tmpdir(tag, dir, cap))
    return -1;
  o.dir = dir;
  o.now = now;
  o.now_ctx = now_ctx;
  if(vs_store_fs_open(s, &o, NULL, &err)) {
    fprintf(stderr, "open %s: %s\n", dir, err.msg);
    return -1;
  }
  return 0;
}

static inline void st_close_tmp(vs_store *s, const char *dir)
{
  vs_store_close(s);
  vst_rmrf(dir);
}

/* The fixture of most store tests: a store in a fresh folder per test,
 * path a scratch buffer for names below dir. */
typedef struct st_fx {
  char dir[256];
  char path[1024];
  vs_store *s;
} st_fx;

static inline int st_fx_setup(void **state)
{
  st_fx *f = calloc(1, sizeof(*f));
  if(!f)
    return -1;
  *state = f;
  return st_open_tmp("store", f->dir, sizeof(f->dir), NULL, NULL, &f->s);
}

static inline int st_fx_teardown(void **state)
{
  st_fx *f = *state;
  st_close_tmp(f->s, f->dir);
  free(f);
  return 0;
}

/* A test run on its own st_fx. */
#define ST_TEST(t) \
  cmocka_unit_test_setup_teardown(t, st_fx_setup, st_fx_teardown)

static inline void st_free_ids(char **ids, size_t n)
{
  size_t i;
  for(i = 0; i < n; i++)
    free(ids[i]);
  free(ids);
}

#endif
