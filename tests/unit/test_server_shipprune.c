/* server: pruning shipped manifest segments (vs_ship_prune). A segment is
 * removed only when it is marked shipped, last written before the keep
 * time, and older than any segment start-up reconciliation could read for
 * an intent still open: so a version whose commit never settled keeps its
 * stored event on disk however old, and reconciliation keeps the version.
 * Markers whose segment is gone go too; unshipped and still-plain segments
 * stay; keep_ms 0 removes nothing. No cluster is contacted: pruning reads
 * only the folder and the store's intents. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "test_store_common.h"
#include "vsink/manifest.h"
#include "vsink/s3.h"
#include "vsink/server.h"

#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)

typedef struct fx {
  char dir[256], mdir[300];
  vs_store *s;
  vs_s3_target t;
} fx;

static int setup(void **state)
{
  fx *f = calloc(1, sizeof(*f));
  char shipped[400];
  if(!f)
    return -1;
  *state = f;
  if(st_open_tmp("shipprune", f->dir, sizeof(f->dir), NULL, NULL, &f->s))
    return -1;
  snprintf(f->mdir, sizeof(f->mdir), "%s/manifest", f->dir);
  /* never contacted: nothing here ships */
  f->t = (vs_s3_target){.endpoint = "http://127.0.0.1:9",
                        .region = "us-east-1", .key_id = "k",
                        .secret = "s"};
  snprintf(shipped, sizeof(shipped), "%s/shipped", f->mdir);
  return mkdir(f->mdir, 0755) || mkdir(shipped, 0755);
}

static int teardown(void **state)
{
  fx *f = *state;
  st_close_tmp(f->s, f->dir);
  free(f);
  return 0;
}

static vs_ship *ship_open(fx *f, int64_t keep_ms)
{
  vs_ship_opts o = {.dir = f->mdir, .node = "n1", .target = &f->t,
                    .bucket = "b", .keep_ms = keep_ms, .store = f->s};
  vs_ship *s = NULL;
  vs_err err = {0};
  assert_int_equal(vs_ship_open(&s, &o, &err), VS_OK);
  return s;
}

static void path_of(const fx *f, const char *sub, const char *name,
                    char *p, size_t cap)
{
  snprintf(p, cap, "%s%s/%s", f->mdir, sub, name);
}

static void set_age_at(const char *path, int64_t age_ms, int flags)
{
  struct timespec now, ts[2];
  clock_gettime(CLOCK_REALTIME, &now);
  ts[0].tv_sec = now.tv_sec - (time_t)(age_ms / 1000);
  ts[0].tv_nsec = now.tv_nsec;
  ts[1] = ts[0];
  assert_int_equal(utimensat(AT_FDCWD, path, ts, flags), 0);
}

static void set_age(const char *path, int64_t age_ms)
{
  set_age_at(path, age_ms, 0);
}

/* A closed segment NAME last written age_ms ago, marked shipped or not. */
static void segment(fx *f, const char *name, int64_t age_ms, int shipped)
{
  char p[1024];
  FILE *fp;
  path_of(f, "", name, p, sizeof(p));
  assert_non_null(fp = fopen(p, "w"));
  fputs("not read by pruning\n", fp);
  fclose(fp);
  set_age(p, age_ms);
  if(shipped) {
    path_of(f, "/shipped", name, p, sizeof(p));
    assert_non_null(fp = fopen(p, "w"));
    fputs("etag\n", fp);
    fclose(fp);
  }
}

static int exists(fx *f, const char *sub, const char *name)
{
  char p[1024];
  path_of(f, sub, name, p, sizeof(p));
  return !access(p, F_OK);
}

static uint64_t pruned(vs_ship *s)
{
  vs_ship_stats st;
  vs_ship_stats_get(s, &st);
  return st.pruned;
}

/* What goes and what stays, with no intent open. */
static void test_only_old_shipped_segments_go(void **state)
{
  fx *f = *state;
  vs_ship *s = ship_open(f, DAY_MS);
  vs_err err = {0};
  char p[1024];
  segment(f, "a-old.jsonl.gz", 2 * DAY_MS, 1);
  segment(f, "b-young.jsonl.gz", 2 * HOUR_MS, 1);
  segment(f, "c-unshipped.jsonl.gz", 3 * DAY_MS, 0);
  segment(f, "d-plain.jsonl", 3 * DAY_MS, 0);
  segment(f, "e-orphan.jsonl.gz", 3 * DAY_MS, 1);
  path_of(f, "", "e-orphan.jsonl.gz", p, sizeof(p));
  assert_int_equal(unlink(p), 0); /* as a crash between the two unlinks */
  assert_int_equal(vs_ship_prune(s, &err), VS_OK);
  assert_false(exists(f, "", "a-old.jsonl.gz"));
  assert_false(exists(f, "/shipped", "a-old.jsonl.gz"));
  assert_true(exists(f, "", "b-young.jsonl.gz"));
  assert_true(exists(f, "/shipped", "b-young.jsonl.gz"));
  assert_true(exists(f, "", "c-unshipped.jsonl.gz"));
  assert_true(exists(f, "", "d-plain.jsonl"));
  assert_false(exists(f, "/shipped", "e-orphan.jsonl.gz"));
  assert_int_equal(pruned(s), 1);
  assert_int_equal(vs_ship_prune(s, &err), VS_OK); /* nothing more */
  assert_int_equal(pruned(s), 1);
  vs_ship_free(s);
}

/* However short the keep time, nothing younger than the reconciliation's
 * slack goes; keep_ms 0 keeps everything. */
static void test_keep_limits(void **state)
{
  fx *f = *state;
  vs_ship *s = ship_open(f, 1000);
  vs_err err = {0};
  segment(f, "a-10min.jsonl.gz", 10 * 60 * 1000, 1);
  segment(f, "b-20min.jsonl.gz", 20 * 60 * 1000, 1);
  assert_int_equal(vs_ship_prune(s, &err), VS_OK);
  assert_true(exists(f, "", "a-10min.jsonl.gz"));
  assert_false(exists(f, "", "b-20min.jsonl.gz"));
  vs_ship_free(s);
  s = ship_open(f, 0);
  segment(f, "c-year.jsonl.gz", 365 * DAY_MS, 1);
  assert_int_equal(vs_ship_prune(s, &err), VS_OK);
  assert_true(exists(f, "", "c-year.jsonl.gz"));
  assert_int_equal(pruned(s), 0);
  vs_ship_free(s);
}

static void test_keep_needs_store(void **state)
{
  fx *f = *state;
  vs_ship_opts o = {.dir = f->mdir, .node = "n1", .target = &f->t,
                    .bucket = "b", .keep_ms = DAY_MS};
  vs_ship *s = NULL;
  vs_err err = {0};
  assert_int_equal(vs_ship_open(&s, &o, &err), VS_ERR_INVALID);
  assert_null(s);
}

/* Ages every intent of the store (a symbolic link) by age_ms. */
static void age_intents(fx *f, int64_t age_ms)
{
  char d[300], p[1024];
  DIR *dh;
  struct dirent *e;
  int n = 0;
  snprintf(d, sizeof(d), "%s/.intent", f->dir);
  assert_non_null(dh = opendir(d));
  while((e = readdir(dh)))
    if(e->d_name[0] != '.') {
      snprintf(p, sizeof(p), "%s/%s", d, e->d_name);
      set_age_at(p, age_ms, AT_SYMLINK_NOFOLLOW);
      n++;
    }
  closedir(dh);
  assert_int_equal(n, 1);
}

/* The name of the one closed segment the writer left. */
static void written_segment(fx *f, char *name, size_t cap)
{
  DIR *dh = opendir(f->mdir);
  struct dirent *e;
  int n = 0;
  assert_non_null(dh);
  while((e = readdir(dh)))
    if(strstr(e->d_name, ".jsonl.gz")) {
      snprintf(name, cap, "%s", e->d_name);
      n++;
    }
  closedir(dh);
  assert_int_equal(n, 1);
}

/* A commit that never settled (a stuck intent, three days old): the
 * segment with its stored event is shipped and past the keep time, but
 * reconciliation would read it, so it stays and the version is kept. */
static void test_open_intent_holds_its_segment(void **state)
{
  fx *f = *state;
  vs_manifest_opts mo = {.dir = f->mdir, .node = "n1"};
  vs_manifest *m = NULL;
  vs_object_info a;
  vs_err err = {0};
  char seg[256], p[1024];
  unsigned kept = 9, removed = 9;
  cJSON *ev;
  vs_ship *s;
  assert_int_equal(vs_manifest_open(&m, &mo, &err), VS_OK);
  assert_int_equal(st_put(f->s, "videos", "k.mp4", "body", 4,
                          VS_ON_EXISTING_VERSION, 0, &a, &err), VS_OK);
  assert_non_null(ev = vs_store_event_fields("videos", "k.mp4", &a, NULL,
                                             "put"));
  assert_int_equal(vs_manifest_append(m, "stored", ev, &err), VS_OK);
  cJSON_Delete(ev);
  vs_manifest_close(m); /* the segment is closed: *.jsonl.gz */
  written_segment(f, seg, sizeof(seg));
  segment(f, "0-older.jsonl.gz", 4 * DAY_MS, 1);
  path_of(f, "/shipped", seg, p, sizeof(p));
  assert_int_equal(close(open(p, O_WRONLY | O_CREAT, 0644)), 0);
  age_intents(f, 3 * DAY_MS);
  path_of(f, "", seg, p, sizeof(p));
  set_age(p, 3 * DAY_MS - 60 * 1000);
  s = ship_open(f, HOUR_MS);
  assert_int_equal(vs_ship_prune(s, &err), VS_OK);
  assert_false(exists(f, "", "0-older.jsonl.gz"));
  assert_true(exists(f, "", seg));
  assert_int_equal(pruned(s), 1);
  vs_ship_free(s);
  assert_int_equal(vs_server_reconcile(f->s, f->mdir, &kept, &removed,
                                       &err), VS_OK);
  assert_int_equal(kept, 1);
  assert_int_equal(removed, 0);
  /* settled: nothing holds the segment any more */
  s = ship_open(f, HOUR_MS);
  assert_int_equal(vs_ship_prune(s, &err), VS_OK);
  assert_false(exists(f, "", seg));
  vs_ship_free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_only_old_shipped_segments_go, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_keep_limits, setup, teardown),
    cmocka_unit_test_setup_teardown(test_keep_needs_store, setup, teardown),
    cmocka_unit_test_setup_teardown(test_open_intent_holds_its_segment,
                                    setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
