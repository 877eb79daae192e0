/* server: start-up reconciliation. Versions whose commit never settled are
 * kept when the manifest holds their stored event (matched on bucket, key
 * and version, keys JSON-escaped in the line), removed otherwise (@current
 * falls back); every intent is settled; a second run finds nothing. The
 * writer's segments are found by the pid in their names even when the node
 * name holds dashes, whether still plain or already gzipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "test_store_common.h"
#include "vsink/manifest.h"
#include "vsink/server.h"

typedef struct fx {
  char dir[256], mdir[300];
  vs_store *s;
  vs_manifest *m;
} fx;

static int setup(void **state)
{
  fx *f = calloc(1, sizeof(*f));
  vs_manifest_opts o = {0};
  vs_err err = {0};
  if(!f)
    return -1;
  *state = f;
  if(st_open_tmp("reconcile", f->dir, sizeof(f->dir), NULL, NULL, &f->s))
    return -1;
  snprintf(f->mdir, sizeof(f->mdir), "%s/manifest", f->dir);
  o.dir = f->mdir;
  o.node = "sink-node-1"; /* dashes: the pid is read from the right */
  return vs_manifest_open(&f->m, &o, &err) ? -1 : 0;
}

static int teardown(void **state)
{
  fx *f = *state;
  vs_manifest_close(f->m);
  st_close_tmp(f->s, f->dir);
  free(f);
  return 0;
}

static void put(fx *f, const char *key, const char *body, vs_object_info *i)
{
  vs_err err = {0};
  assert_int_equal(st_put(f->s, "videos", key, body, strlen(body),
                          VS_ON_EXISTING_VERSION, 0, i, &err), VS_OK);
}

/* The stored event the sink writes, for key (which may differ from the
 * version's own, to make a near miss). */
static void record(fx *f, const char *key, const vs_object_info *i)
{
  vs_err err = {0};
  cJSON *ev = vs_store_event_fields("videos", key, i, NULL, "put");
  assert_non_null(ev);
  assert_int_equal(vs_manifest_append(f->m, "stored", ev, &err), VS_OK);
  cJSON_Delete(ev);
}

static void expect_version(fx *f, const char *key, const char *vid, int rc)
{
  vs_object_info i;
  vs_err err = {0};
  assert_int_equal(vs_store_stat(f->s, "videos", key, vid, &i, &err), rc);
}

static void run(fx *f, unsigned kept, unsigned removed)
{
  vs_store_intent *l;
  size_t n = 0;
  unsigned k = 99, r = 99;
  vs_err err = {0};
  assert_int_equal(vs_server_reconcile(f->s, f->mdir, &k, &r, &err), VS_OK);
  assert_int_equal(k, kept);
  assert_int_equal(r, removed);
  assert_int_equal(vs_store_intents(f->s, &l, &n, &err), VS_OK);
  assert_int_equal(n, 0);
}

static void scenario(fx *f, int gzip_first)
{
  const char *odd = "q\"uo\\te/\xc3\xa9t\xc3\xa9.mp4"; /* escaped in JSON */
  vs_object_info a, b, c, d, cur;
  vs_err err = {0};
  put(f, "k.mp4", "first", &a);
  record(f, "k.mp4", &a);
  put(f, "k.mp4", "second", &b); /* current, never recorded */
  put(f, odd, "third", &c);
  record(f, odd, &c);
  put(f, "near.mp4", "fourth", &d);
  record(f, "near.mp4x", &d); /* same version id, another key */
  if(gzip_first) {
    vs_manifest_close(f->m); /* the segment is now .jsonl.gz */
    f->m = NULL;
  }
  run(f, 2, 2);
  expect_version(f, "k.mp4", a.version_id, VS_OK);
  expect_version(f, "k.mp4", b.version_id, VS_ERR_NOTFOUND);
  expect_version(f, odd, c.version_id, VS_OK);
  expect_version(f, "near.mp4", d.version_id, VS_ERR_NOTFOUND);
  expect_version(f, "near.mp4", NULL, VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_stat(f->s, "videos", "k.mp4", NULL, &cur, &err),
                   VS_OK);
  assert_string_equal(cur.version_id, a.version_id);
  run(f, 0, 0); /* nothing left to do */
}

static void test_plain_segment(void **state)
{
  scenario(*state, 0);
}

static void test_gzipped_segment(void **state)
{
  scenario(*state, 1);
}

/* Settled commits leave nothing to reconcile, whatever the manifest. */
static void test_settled_need_nothing(void **state)
{
  fx *f = *state;
  vs_object_info a;
  vs_err err = {0};
  put(f, "k.mp4", "first", &a);
  record(f, "k.mp4", &a);
  assert_int_equal(vs_store_settle(f->s, "videos", "k.mp4", a.version_id,
                                   &err), VS_OK);
  run(f, 0, 0);
  expect_version(f, "k.mp4", a.version_id, VS_OK);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_plain_segment, setup, teardown),
    cmocka_unit_test_setup_teardown(test_gzipped_segment, setup, teardown),
    cmocka_unit_test_setup_teardown(test_settled_need_nothing, setup,
                                    teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
