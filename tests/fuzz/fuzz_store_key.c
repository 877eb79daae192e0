/* Fuzz target: key (and bucket) validation and the filesystem store's key ->
 * path escaping.
 *
 * Input: a flags byte, then the key (bit 1 of the flags: "bucket\nkey").
 * Every key vs_store_check_key accepts obeys the rules it states; every one
 * it accepts goes through begin/abort of a real filesystem store in a
 * temporary directory (nothing may stay behind), and with bit 0 set it is
 * committed, and then the data directory is walked: everything under
 * buckets/ must be on the path to, or inside, the one directory the escaping
 * rule of src/store/fs/store_fs_key.c names (expected_dir), the object must read back whole, and
 * after remove nothing of it may be visible. fsync is a no-op here: this
 * tests paths, not durability, and a real fsync per input would cut the
 * fuzzer's speed a hundredfold. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "util/utf8.h"
#include "vsink/store.h"

int fsync(int fd)
{
  (void)fd;
  return 0;
}

int fdatasync(int fd)
{
  (void)fd;
  return 0;
}

typedef struct fixture {
  char dir[64];
  char buckets[96];
  vs_store *s;
} fixture;

static int rm_entry(const char *path, const struct stat *st, int type,
                    struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_tree(const char *path)
{
  nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static fixture g_fix;

static void remove_fixture(void)
{
  vs_store_close(g_fix.s);
  rm_tree(g_fix.dir);
}

static fixture *fz_fixture(void)
{
  fixture *f = &g_fix;
  if(!f->s) {
    vs_store_fs_opts o = {0};
    vs_err err = {0};
    if(fz_mkdtemp("store", f->dir, sizeof(f->dir)))
      abort();
    snprintf(f->buckets, sizeof(f->buckets), "%s/buckets", f->dir);
    o.dir = f->dir;
    if(vs_store_fs_open(&f->s, &o, NULL, &err)) {
      fprintf(stderr, "store: %s\n", err.msg);
      abort();
    }
    atexit(remove_fixture);
  }
  return f;
}

/* What vs_store_check_key promises, checked from the bytes: 1..1024
 * bytes, no NUL, UTF-8 (anything else, '/' runs, dots and control bytes
 * included, is a key S3 takes). */
static void check_accepted_key(const char *k, size_t n)
{
  FZ_ASSERT(n >= 1 && n <= VS_KEY_MAX, "accepted a key of %zu bytes", n);
  FZ_ASSERT(!memchr(k, 0, n), "accepted a NUL byte");
  FZ_ASSERT(vs_utf8_valid(k, n), "accepted invalid UTF-8");
}

static void check_accepted_bucket(const char *b)
{
  size_t n = strlen(b);
  FZ_ASSERT(n >= 3 && n <= 63, "accepted a bucket of %zu bytes", n);
  FZ_ASSERT(strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n,
            "accepted bucket '%s'", b);
}

/* buckets/<bucket>/<segments escaped>: the key's one directory, by the
 * rule of src/store/fs/store_fs_key.c written out again here: each
 * segment (empty ones too) as is, "@" before one starting with '@', "@="
 * before "", "." and ".."; while that is over 255 bytes, "@>" and its
 * first 253 bytes make a directory of their own and the rest follows. */
static char *expected_dir(const char *bucket, const char *key)
{
  size_t cap = strlen(bucket) + 3 * strlen(key) + 16, o;
  char *out = malloc(cap);
  const char *p = key;
  if(!out)
    abort();
  o = (size_t)snprintf(out, cap, "%s", bucket);
  for(;;) {
    size_t n = strcspn(p, "/");
    int dots = n == 0 || (n == 1 && p[0] == '.') ||
               (n == 2 && p[0] == '.' && p[1] == '.');
    while(n + (dots ? 2 : p[0] == '@') > 255) {
      memcpy(out + o, "/@>", 3);
      memcpy(out + o + 3, p, 253);
      o += 256;
      p += 253;
      n -= 253;
      dots = n == 0 || (n == 1 && p[0] == '.') ||
             (n == 2 && p[0] == '.' && p[1] == '.');
    }
    out[o++] = '/';
    if(dots) {
      out[o++] = '@';
      out[o++] = '=';
    }
    else if(*p == '@')
      out[o++] = '@';
    memcpy(out + o, p, n);
    o += n;
    p += n;
    if(!*p)
      break;
    p++;
  }
  out[o] = 0;
  return out;
}

/* Every entry under buckets/ is a directory on the way to want, or an
 * '@' file of ours directly inside it. */
static const char *g_want;
static size_t g_base, g_entries;

static int check_entry(const char *path, const struct stat *st, int type,
                       struct FTW *ftw)
{
  const char *rel = path + g_base;
  size_t wn = strlen(g_want), rn;
  (void)st;
  (void)ftw;
  if(!*rel)
    return 0; /* buckets/ itself */
  FZ_ASSERT(*rel == '/', "walk gave %s", path);
  rel++;
  rn = strlen(rel);
  g_entries++;
  if(rn <= wn && !memcmp(rel, g_want, rn) &&
     (rn == wn || g_want[rn] == '/')) {
    FZ_ASSERT(type == FTW_D, "%s is on the key's path but not a directory",
              rel);
    return 0;
  }
  FZ_ASSERT(rn > wn + 1 && !memcmp(rel, g_want, wn) && rel[wn] == '/' &&
              rel[wn + 1] == '@' && !strchr(rel + wn + 1, '/'),
            "'%s' is outside the key's directory '%s'", rel, g_want);
  return 0;
}

static void walk_buckets(fixture *f, const char *want)
{
  g_want = want;
  g_base = strlen(f->buckets);
  g_entries = 0;
  nftw(f->buckets, check_entry, 16, FTW_PHYS);
}

static void read_back(fixture *f, const char *bucket, const char *key,
                      const char *data, size_t n)
{
  vs_object_info info;
  vs_err err = {0};
  char *got = malloc(n + 1);
  ssize_t r;
  int fd = -1, rc = vs_store_open(f->s, bucket, key, NULL, &fd, &info, &err);
  FZ_ASSERT(rc == 0, "open after commit: %s", err.msg);
  r = read(fd, got, n + 1);
  FZ_ASSERT(r == (ssize_t)n && !memcmp(got, data, n),
            "read back %zd bytes of %zu", r, n);
  close(fd);
  free(got);
}

static void commit_and_walk(fixture *f, const char *bucket, const char *key)
{
  static const char sha[] =
    "0000000000000000000000000000000000000000000000000000000000000000";
  vs_upload *u = NULL;
  vs_commit c = {0};
  vs_object_info info;
  vs_err err = {0};
  char *want;
  size_t n = strlen(key);
  if(vs_store_begin(f->s, bucket, key, &u, &err))
    return;
  FZ_ASSERT(!vs_store_write(f->s, u, key, n, &err), "write: %s", err.msg);
  c.bytes = n;
  c.sha256 = sha;
  c.policy = VS_ON_EXISTING_VERSION;
  FZ_ASSERT(!vs_store_commit(f->s, u, &c, &info, &err), "commit %s: %s", key,
            err.msg);
  want = expected_dir(bucket, key);
  walk_buckets(f, want);
  FZ_ASSERT(g_entries > 0, "nothing under buckets/ after a commit");
  read_back(f, bucket, key, key, n);
  FZ_ASSERT(!vs_store_remove(f->s, bucket, key, info.version_id, &err),
            "remove: %s", err.msg);
  FZ_ASSERT(vs_store_stat(f->s, bucket, key, NULL, &info, &err) ==
              VS_ERR_NOTFOUND, "the key is still there after remove");
  free(want);
  rm_tree(f->buckets); /* the next input starts from an empty store */
}

static void begin_abort(fixture *f, const char *bucket, const char *key)
{
  vs_upload *u = NULL;
  vs_err err = {0};
  char tmp[128];
  DIR *d;
  struct dirent *e;
  int rc = vs_store_begin(f->s, bucket, key, &u, &err);
  /* A key the checks accept is refused only for the filesystem's limits
   * (a segment over NAME_MAX, a path over PATH_MAX). */
  FZ_ASSERT(rc == 0 || rc == VS_ERR_TOOLARGE, "begin refused %s: %s", key,
            err.msg);
  if(rc)
    return;
  vs_store_abort(f->s, u);
  snprintf(tmp, sizeof(tmp), "%s/.tmp", f->dir);
  d = opendir(tmp);
  while(d && (e = readdir(d)))
    FZ_ASSERT(e->d_name[0] == '.', "abort left %s behind", e->d_name);
  if(d)
    closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fixture *f = fz_fixture();
  const char *bucket = "videos", *key;
  size_t klen;
  fz_lines l;
  vs_err err = {0};
  int bucket_ok = 1;
  if(size < 1 || fz_split(&l, data + 1, size - 1))
    return 0;
  /* The key as given, NUL bytes and all, for the check; an accepted one
   * holds no NUL, so a copy of it is a C string ('\n' and all). */
  key = (const char *)data + 1;
  klen = size - 1;
  if(!(data[0] & 2) && !vs_store_check_key(key, klen, &err)) {
    char *k = strndup(key, klen);
    check_accepted_key(key, klen);
    if(!k)
      abort();
    begin_abort(f, bucket, k);
    if(data[0] & 1)
      commit_and_walk(f, bucket, k);
    free(k);
  }
  else if(data[0] & 2) {
    bucket = fz_line(&l, 0);
    bucket_ok = !vs_store_check_bucket(bucket, &err);
    if(bucket_ok)
      check_accepted_bucket(bucket);
    key = fz_line(&l, 1);
    klen = strlen(key);
    if(!vs_store_check_key(key, klen, &err)) {
      check_accepted_key(key, klen);
      if(bucket_ok) {
        begin_abort(f, bucket, key);
        if(data[0] & 1)
          commit_and_walk(f, bucket, key);
      }
    }
  }
  fz_free(&l);
  return 0;
}
