/* store_fs: every commit leaves a durable intent naming its version until
 * the caller settles it; remove() settles too; the metadata a version
 * left without its data (a crash between the two renames) is cleaned at
 * open, its intent left to the caller; failed commits leave none; a deferred
 * overwrite removes the replaced version only at settle. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>

#include "helpers.h"
#include "test_store_common.h"

typedef st_fx fx;

static void put(vs_store *s, const char *key, const char *data,
                vs_on_existing policy, vs_object_info *info)
{
  vs_err err = {0};
  assert_int_equal(st_put(s, "videos", key, data, strlen(data), policy, 0,
                          info, &err), VS_OK);
}

/* A version of videos/k.mp4 whose intent is settled, as the sink leaves
 * it once the manifest names it. */
static void put_settled(vs_store *s, const char *data, vs_object_info *info)
{
  vs_err err = {0};
  put(s, "k.mp4", data, VS_ON_EXISTING_VERSION, info);
  assert_int_equal(vs_store_settle(s, "videos", "k.mp4", info->version_id,
                                   &err), VS_OK);
}

static size_t intents(vs_store *s, vs_store_intent **l)
{
  vs_err err = {0};
  size_t n = 99;
  assert_int_equal(vs_store_intents(s, l, &n, &err), VS_OK);
  return n;
}

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_commit_leaves_intent_until_settled(void **state)
{
  fx *f = *state;
  const char *key = "a:b/@c/x y.mp4"; /* ':' '/' '@' and a space */
  vs_object_info a, b;
  vs_store_intent *l;
  vs_err err = {0};
  put(f->s, key, "first", VS_ON_EXISTING_VERSION, &a);
  put(f->s, "other.mp4", "second", VS_ON_EXISTING_VERSION, &b);
  assert_int_equal(intents(f->s, &l), 2);
  assert_string_equal(l[0].bucket, "videos");
  assert_string_equal(l[0].key, key);
  assert_string_equal(l[0].version_id, a.version_id);
  assert_string_equal(l[1].key, "other.mp4");
  assert_string_equal(l[1].version_id, b.version_id);
  assert_int_equal(l[0].pid, (long)getpid());
  assert_true(llabs(l[0].mtime_ms - now_ms()) < 10000);
  free(l);

  assert_int_equal(vs_store_settle(f->s, "videos", key, a.version_id, &err),
                   VS_OK);
  assert_int_equal(intents(f->s, &l), 1);
  assert_string_equal(l[0].version_id, b.version_id);
  free(l);
  /* Settling twice, or a version that has none, is fine. */
  assert_int_equal(vs_store_settle(f->s, "videos", key, a.version_id, &err),
                   VS_OK);
  /* The settled version is still there. */
  assert_int_equal(vs_store_stat(f->s, "videos", key, a.version_id, &a, &err),
                   VS_OK);
}

/* Keys the layout escapes (issue 11) name their intents exactly, and a
 * removal through the intent's key finds the version. */
static void test_escaped_keys(void **state)
{
  fx *f = *state;
  static char key[400];
  vs_object_info a, cur;
  vs_store_intent *l;
  vs_err err = {0};
  memcpy(key, "a//../\n:@/", 11);
  memset(key + 11, 'z', 300);
  strcpy(key + 311, "/");
  put(f->s, key, "first", VS_ON_EXISTING_VERSION, &a);
  assert_int_equal(intents(f->s, &l), 1);
  assert_string_equal(l[0].key, key);
  assert_int_equal(vs_store_remove(f->s, l[0].bucket, l[0].key,
                                   l[0].version_id, &err), VS_OK);
  free(l);
  assert_int_equal(intents(f->s, &l), 0);
  assert_int_equal(vs_store_stat(f->s, "videos", key, NULL, &cur, &err),
                   VS_ERR_NOTFOUND);
}

static void test_remove_settles(void **state)
{
  fx *f = *state;
  vs_object_info a, b, cur;
  vs_store_intent *l;
  vs_err err = {0};
  put_settled(f->s, "first", &a);
  put(f->s, "k.mp4", "second", VS_ON_EXISTING_VERSION, &b);
  assert_int_equal(intents(f->s, &l), 1);
  free(l);
  assert_int_equal(vs_store_remove(f->s, "videos", "k.mp4", b.version_id,
                                   &err), VS_OK);
  assert_int_equal(intents(f->s, &l), 0);
  assert_null(l);
  assert_int_equal(vs_store_stat(f->s, "videos", "k.mp4", NULL, &cur, &err),
                   VS_OK);
  assert_string_equal(cur.version_id, a.version_id);
}

static void test_refused_commit_leaves_none(void **state)
{
  fx *f = *state;
  vs_object_info a;
  vs_store_intent *l;
  vs_err err = {0};
  put_settled(f->s, "first", &a);
  assert_int_equal(st_put(f->s, "videos", "k.mp4", "x", 1,
                          VS_ON_EXISTING_REJECT, 0, &a, &err),
                   VS_ERR_EXISTS);
  assert_int_equal(intents(f->s, &l), 0);
}

static void reopen(fx *f, int *cleaned)
{
  vs_err err = {0};
  vs_store_close(f->s);
  assert_int_equal(st_open_dir(f->dir, 0, cleaned, &f->s, &err), VS_OK);
}

static void key_path(fx *f, const char *name, char *out, size_t cap)
{
  snprintf(out, cap, "%s/buckets/videos/k.mp4/%s", f->dir, name);
}

/* A crash after the metadata rename and before the data rename: @B.json
 * without @B, @current still at A. The metadata goes at open; the intent
 * stays (a version without data may also be one that was recorded, then
 * replaced, its own settle still due) and settles to nothing. */
static void test_unplaced_cleaned_at_open(void **state)
{
  fx *f = *state;
  vs_object_info a, b, cur;
  vs_store_intent *l;
  vs_err err = {0};
  char p[600], q[64];
  struct stat st;
  int cleaned = -1;
  put_settled(f->s, "first", &a);
  put(f->s, "k.mp4", "second", VS_ON_EXISTING_VERSION, &b);
  snprintf(q, sizeof(q), "@%s", b.version_id);
  key_path(f, q, p, sizeof(p));
  assert_int_equal(unlink(p), 0);
  key_path(f, "@current", p, sizeof(p));
  snprintf(q, sizeof(q), "@%s", a.version_id);
  assert_int_equal(unlink(p), 0);
  assert_int_equal(symlink(q, p), 0);

  reopen(f, &cleaned);
  assert_int_equal(cleaned, 1);
  assert_int_equal(intents(f->s, &l), 1);
  assert_string_equal(l[0].version_id, b.version_id);
  free(l);
  snprintf(q, sizeof(q), "@%s.json", b.version_id);
  key_path(f, q, p, sizeof(p));
  assert_int_not_equal(lstat(p, &st), 0);
  assert_int_equal(vs_store_remove(f->s, "videos", "k.mp4", b.version_id,
                                   &err), VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_settle(f->s, "videos", "k.mp4", b.version_id,
                                   &err), VS_OK);
  assert_int_equal(intents(f->s, &l), 0);
  assert_int_equal(vs_store_stat(f->s, "videos", "k.mp4", NULL, &cur, &err),
                   VS_OK);
  assert_string_equal(cur.version_id, a.version_id);
}

/* A landed version's intent survives a restart: only the caller knows
 * whether it was recorded. */
static void test_landed_intent_survives_reopen(void **state)
{
  fx *f = *state;
  vs_object_info a;
  vs_store_intent *l;
  int cleaned = -1;
  put(f->s, "k.mp4", "first", VS_ON_EXISTING_VERSION, &a);
  reopen(f, &cleaned);
  assert_int_equal(cleaned, 0);
  assert_int_equal(intents(f->s, &l), 1);
  assert_string_equal(l[0].version_id, a.version_id);
  free(l);
}

static void test_foreign_entries_skipped(void **state)
{
  fx *f = *state;
  vs_store_intent *l;
  struct stat st;
  char p[600];
  FILE *fp;
  snprintf(p, sizeof(p), "%s/.intent/notes.txt", f->dir);
  fp = fopen(p, "w");
  assert_non_null(fp);
  fclose(fp);
  /* Right shape, but the name is not the target's. */
  snprintf(p, sizeof(p), "%s/.intent/20261124T121500123Z-a1b2c3-"
           "0123456789abcdef", f->dir);
  assert_int_equal(symlink("1:videos/k.mp4", p), 0);
  assert_int_equal(intents(f->s, &l), 0);
  reopen(f, NULL);
  assert_int_equal(lstat(p, &st), 0); /* left alone, even at open */
  snprintf(p, sizeof(p), "%s/.intent/notes.txt", f->dir);
  assert_int_equal(lstat(p, &st), 0);
}

static void test_read_only_lists_but_never_settles(void **state)
{
  fx *f = *state;
  vs_object_info a;
  vs_store_intent *l;
  vs_store *r = NULL;
  vs_err err = {0};
  size_t n = 0;
  put(f->s, "k.mp4", "first", VS_ON_EXISTING_VERSION, &a);
  assert_int_equal(st_open_dir(f->dir, 1, NULL, &r, &err), VS_OK);
  assert_int_equal(vs_store_intents(r, &l, &n, &err), VS_OK);
  assert_int_equal(n, 1);
  free(l);
  assert_int_equal(vs_store_settle(r, "videos", "k.mp4", a.version_id, &err),
                   VS_ERR_INVALID);
  vs_store_close(r);
  assert_int_equal(intents(f->s, &l), 1);
  free(l);
}

/* Overwrite as the sink does it (defer_overwrite): the replaced version
 * stays until the replacement is settled. */
static void put_deferred(vs_store *s, const char *data, vs_object_info *info)
{
  vs_upload *u = NULL;
  vs_commit c = {0};
  vs_err err = {0};
  char sha[65];
  assert_int_equal(vs_store_begin(s, "videos", "k.mp4", &u, &err), VS_OK);
  assert_int_equal(vs_store_write(s, u, data, strlen(data), &err), VS_OK);
  st_sha256(data, strlen(data), sha);
  c.bytes = strlen(data);
  c.sha256 = sha;
  c.policy = VS_ON_EXISTING_OVERWRITE;
  c.defer_overwrite = 1;
  assert_int_equal(vs_store_commit(s, u, &c, info, &err), VS_OK);
}

static size_t versions(vs_store *s)
{
  vs_err err = {0};
  char **ids;
  size_t n;
  assert_int_equal(vs_store_fs_list_versions(s, "videos", "k.mp4", &ids, &n,
                                             &err), VS_OK);
  st_free_ids(ids, n);
  return n;
}

static void test_deferred_overwrite(void **state)
{
  fx *f = *state;
  vs_object_info a, b, c, cur;
  vs_err err = {0};
  put_deferred(f->s, "first", &a);
  assert_int_equal(vs_store_settle(f->s, "videos", "k.mp4", a.version_id,
                                   &err), VS_OK);
  put_deferred(f->s, "second", &b);
  /* Replaced but not yet gone: B is current, A is kept for now. */
  assert_int_equal(versions(f->s), 2);
  assert_int_equal(vs_store_stat(f->s, "videos", "k.mp4", NULL, &cur, &err),
                   VS_OK);
  assert_string_equal(cur.version_id, b.version_id);
  /* A crash before B was recorded: start-up removes B, A is back. */
  reopen(f, NULL);
  assert_int_equal(vs_store_remove(f->s, "videos", "k.mp4", b.version_id,
                                   &err), VS_OK);
  assert_int_equal(versions(f->s), 1);
  assert_int_equal(vs_store_stat(f->s, "videos", "k.mp4", NULL, &cur, &err),
                   VS_OK);
  assert_string_equal(cur.version_id, a.version_id);
  /* Recorded this time: settling C removes A. */
  put_deferred(f->s, "third", &c);
  assert_int_equal(vs_store_settle(f->s, "videos", "k.mp4", c.version_id,
                                   &err), VS_OK);
  assert_int_equal(versions(f->s), 1);
  assert_int_equal(vs_store_stat(f->s, "videos", "k.mp4", a.version_id, &cur,
                                 &err), VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_stat(f->s, "videos", "k.mp4", NULL, &cur, &err),
                   VS_OK);
  assert_string_equal(cur.version_id, c.version_id);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    ST_TEST(test_commit_leaves_intent_until_settled),
    ST_TEST(test_remove_settles),
    ST_TEST(test_escaped_keys),
    ST_TEST(test_refused_commit_leaves_none),
    ST_TEST(test_unplaced_cleaned_at_open),
    ST_TEST(test_landed_intent_survives_reopen),
    ST_TEST(test_foreign_entries_skipped),
    ST_TEST(test_read_only_lists_but_never_settles),
    ST_TEST(test_deferred_overwrite),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
