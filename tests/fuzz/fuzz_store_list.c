/* Fuzz target: the filesystem store's ordered walk (vs_store_list_*) with
 * the list parameters a client sends.
 *
 * Input: "prefix\nafter\ndelimiter\nmax" (any bytes; max is the page size,
 * 1 + its first byte mod 8). A fixed set of keys, chosen for the places
 * where a directory walk and S3's byte order part ways, is committed once
 * into a real store. The target pages through the listing as the sink
 * does (a delimiter's common prefix stands for its keys and is skipped; a
 * page ends after max entries and the next resumes after the last one,
 * or after the whole prefix it was) and checks every entry against a
 * reference computed from the sorted key set with strcmp: S3's answer. */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_input.h"
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

static const char *const KEYS[] = {
  "a", "a/b", "a!", "a.b", "a b", "a+b", "a-", "a/b/c", "a/b!", "a/b.c",
  "a/b/c/d", "ab", "A", "@x", "@@y", "@current/y", "a/@current", "b/a/a/a",
  "b/a!", "b/a/b", "\xc3\xa9", "\xc3\xa9/x", "\xe2\x82\xac", "z~", "~",
  "%41", "v/2026/11/24/clip.mp4", "v/2026/11/24/clip.mp4.json",
  "v/2026/11/3", "x-1", "x-1/y", "x-2-3", "x--", "x/-/-",
};
#define NKEYS (sizeof(KEYS) / sizeof(KEYS[0]))

static char g_dir[64];
static vs_store *g_store;
static const char *g_sorted[NKEYS];

static int rm_entry(const char *path, const struct stat *st, int type,
                    struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void remove_fixture(void)
{
  vs_store_close(g_store);
  nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int cmp_key(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void fixture(void)
{
  vs_store_fs_opts o = {0};
  vs_err err = {0};
  size_t i;
  if(g_store)
    return;
  if(fz_mkdtemp("list", g_dir, sizeof(g_dir)))
    abort();
  o.dir = g_dir;
  if(vs_store_fs_open(&g_store, &o, NULL, &err))
    abort();
  atexit(remove_fixture);
  for(i = 0; i < NKEYS; i++) {
    static const char sha[] =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    vs_upload *u = NULL;
    vs_object_info info;
    vs_commit c = {0};
    c.sha256 = sha;
    if(vs_store_begin(g_store, "videos", KEYS[i], &u, &err) ||
       vs_store_commit(g_store, u, &c, &info, &err)) {
      fprintf(stderr, "put %s: %s\n", KEYS[i], err.msg);
      abort();
    }
    g_sorted[i] = KEYS[i];
  }
  qsort(g_sorted, NKEYS, sizeof(g_sorted[0]), cmp_key);
}

/* The common prefix a key stands for under (prefix, delim): its length,
 * or 0. */
static size_t cp_len(const char *key, const char *prefix, const char *delim)
{
  const char *d;
  if(!*delim || strncmp(key, prefix, strlen(prefix)))
    return 0;
  d = strstr(key + strlen(prefix), delim);
  return d ? (size_t)(d - key) + strlen(delim) : 0;
}

/* S3's entries, in order: keys with the prefix after `after` (or after a
 * common prefix `after` falls in), common prefixes once each. */
static size_t reference(const char *prefix, const char *after,
                        const char *delim, char out[][VS_KEY_MAX + 1])
{
  size_t i, n = 0, acp = *after ? cp_len(after, prefix, delim) : 0;
  for(i = 0; i < NKEYS; i++) {
    const char *k = g_sorted[i];
    size_t cp;
    if(strncmp(k, prefix, strlen(prefix)))
      continue;
    if(acp ? !strncmp(k, after, acp) || strncmp(k, after, acp) < 0
           : *after && strcmp(k, after) <= 0)
      continue;
    cp = cp_len(k, prefix, delim);
    if(cp && n && strlen(out[n - 1]) == cp && !strncmp(out[n - 1], k, cp))
      continue;
    snprintf(out[n++], VS_KEY_MAX + 1, "%.*s", cp ? (int)cp : VS_KEY_MAX, k);
  }
  return n;
}

/* One page as the sink builds it; the entries into out, *truncated. */
static size_t page(const char *prefix, const char *after, const char *delim,
                   size_t max, char out[][VS_KEY_MAX + 1], int *truncated)
{
  static vs_list_item it;
  vs_list_opts o = {"videos", prefix, NULL, 0};
  vs_store_list *l;
  vs_err err = {0};
  size_t n = 0, acp = *after ? cp_len(after, prefix, delim) : 0;
  int end = 0;
  if(*after && !acp)
    o.after = after;
  FZ_ASSERT(!vs_store_list_open(g_store, &o, &l, &err), "open: %s", err.msg);
  if(acp) {
    char cp[VS_KEY_MAX + 1];
    snprintf(cp, sizeof(cp), "%.*s", (int)acp, after);
    FZ_ASSERT(!vs_store_list_skip(l, cp, &err), "skip: %s", err.msg);
  }
  *truncated = 0;
  for(;;) {
    size_t cp;
    FZ_ASSERT(!vs_store_list_next(l, &it, &end, &err), "next: %s", err.msg);
    if(end)
      break;
    FZ_ASSERT(it.has_current && it.key_len == strlen(it.key),
              "item %s", it.key);
    if(n == max) {
      *truncated = 1;
      break;
    }
    cp = cp_len(it.key, prefix, delim);
    snprintf(out[n++], VS_KEY_MAX + 1, "%.*s", cp ? (int)cp : VS_KEY_MAX,
             it.key);
    if(cp)
      FZ_ASSERT(!vs_store_list_skip(l, out[n - 1], &err), "skip: %s",
                err.msg);
  }
  vs_store_list_close(l);
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char want[NKEYS][VS_KEY_MAX + 1], got[NKEYS + 1][VS_KEY_MAX + 1];
  char after[VS_KEY_MAX + 1];
  fz_lines in;
  const char *prefix, *delim;
  size_t nwant, max, done = 0, i, pages = 0;
  int truncated = 1;
  fixture();
  if(fz_split(&in, data, size))
    return 0;
  prefix = fz_line(&in, 0);
  snprintf(after, sizeof(after), "%s", fz_line(&in, 1));
  delim = fz_line(&in, 2);
  max = 1 + (unsigned char)fz_line(&in, 3)[0] % 8;
  nwant = reference(prefix, after, delim, want);
  while(truncated) {
    size_t n = page(prefix, after, delim, max, got, &truncated);
    FZ_ASSERT(pages++ <= NKEYS, "pages do not end");
    FZ_ASSERT(done + n <= nwant, "%zu entries listed, S3 has %zu",
              done + n, nwant);
    for(i = 0; i < n; i++)
      FZ_ASSERT(!strcmp(got[i], want[done + i]),
                "entry %zu is '%s', S3's is '%s' (prefix '%s', after '%s', "
                "delimiter '%s')", done + i, got[i], want[done + i], prefix,
                fz_line(&in, 1), delim);
    done += n;
    FZ_ASSERT(truncated || done == nwant, "%zu entries listed, S3 has %zu",
              done, nwant);
    FZ_ASSERT(!truncated || n == max, "a short page said truncated");
    if(n)
      snprintf(after, sizeof(after), "%s", got[n - 1]);
  }
  fz_free(&in);
  return 0;
}
