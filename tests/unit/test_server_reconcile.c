/* server: start-up reconciliation. Versions whose commit never settled are
 * kept when the manifest holds their stored event (matched on bucket, key
 * and version, keys JSON-escaped in the line), removed otherwise (@current
 * falls back); every intent is settled; a second run finds nothing. The
 * writer's segments are found by the pid in their names even when the node
 * name holds dashes, whether still plain or already gzipped. Under
 * --on-existing overwrite a chain of unsettled replacements ends with one
 * version: the newest recorded one, or the last settled one, also when a
 * later settle already removed a version whose own settle was still due. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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

/* A PUT under --on-existing overwrite, as the sink commits it: the
 * replaced version stays until this one is settled. */
static void put_over(fx *f, const char *body, vs_object_info *i)
{
  const size_t n = strlen(body);
  vs_upload *u = NULL;
  vs_commit c = {0};
  char sha[65];
  vs_err err = {0};
  assert_int_equal(vs_store_begin(f->s, "videos", "ow.mp4", &u, &err), 0);
  assert_int_equal(vs_store_write(f->s, u, body, n, &err), VS_OK);
  st_sha256(body, n, sha);
  c.bytes = n;
  c.sha256 = sha;
  c.policy = VS_ON_EXISTING_OVERWRITE;
  c.defer_overwrite = 1;
  assert_int_equal(vs_store_commit(f->s, u, &c, i, &err), VS_OK);
}

/* The number of versions ow.mp4 holds; the newest into last. */
static size_t versions_of(fx *f, char last[48])
{
  char **ids = NULL;
  size_t i, n = 0;
  vs_err err = {0};
  assert_int_equal(vs_store_versions(f->s, "videos", "ow.mp4", &ids, &n,
                                     &err), VS_OK);
  last[0] = 0;
  if(n)
    snprintf(last, 48, "%s", ids[n - 1]);
  for(i = 0; i < n; i++)
    free(ids[i]);
  free(ids);
  return n;
}

/* base (settled) <- v[0] <- v[1] <- v[2], each replacing the one before,
 * none settled; rec[i] says whether v[i]'s event is in the manifest. The
 * key must end with exactly `want` (0: base, else v[want - 1]). */
static void chain(fx *f, const int rec[3], int want)
{
  vs_object_info base, v[3];
  char last[48];
  unsigned kept = 0, i;
  vs_err err = {0};
  put_over(f, "base", &base);
  record(f, "ow.mp4", &base);
  assert_int_equal(vs_store_settle(f->s, "videos", "ow.mp4",
                                   base.version_id, &err), VS_OK);
  for(i = 0; i < 3; i++) {
    char body[16];
    snprintf(body, sizeof(body), "v%u", i);
    put_over(f, body, &v[i]);
    if(rec[i]) {
      record(f, "ow.mp4", &v[i]);
      kept++;
    }
  }
  run(f, kept, 3 - kept);
  assert_int_equal(versions_of(f, last), 1);
  assert_string_equal(last, want ? v[want - 1].version_id
                                   : base.version_id);
}

static void test_overwrite_chain(void **state)
{
  static const struct {
    int rec[3], want;
  } cases[] = {
    {{0, 0, 0}, 0}, {{1, 0, 0}, 1}, {{0, 1, 0}, 2}, {{0, 0, 1}, 3},
    {{1, 1, 0}, 2}, {{1, 0, 1}, 3}, {{0, 1, 1}, 3}, {{1, 1, 1}, 3},
  };
  size_t i;
  for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    fx *f;
    assert_int_equal(setup(state), 0);
    f = *state;
    chain(f, cases[i].rec, cases[i].want);
    teardown(state);
  }
}

/* Removes the files of version vid wherever they are below dir. */
static int unlink_version(const char *dir, const char *vid)
{
  char cmd[512];
  snprintf(cmd, sizeof(cmd), "find '%s' -name '@%s*' -delete", dir, vid);
  return system(cmd);
}

/* The path of vid's intent into out. */
static void intent_path_of(fx *f, const char *vid, char *out, size_t cap)
{
  char idir[300];
  struct dirent *e;
  DIR *d;
  snprintf(idir, sizeof(idir), "%s/.intent", f->dir);
  assert_non_null(d = opendir(idir));
  while((e = readdir(d)) && strncmp(e->d_name, vid, strlen(vid)))
    ;
  assert_non_null(e);
  snprintf(out, cap, "%s/%s", idir, e->d_name);
  closedir(d);
}

/* The intent of vid made to replace `to`, as vs__intent_pass_on does:
 * its target "<pid>:<replaced>:<bucket>/<key>" rewritten in place. */
static void rewrite_intent(fx *f, const char *vid, const char *to)
{
  char path[600], tmp[608], target[400], next[400], *c1, *c2;
  ssize_t n;
  intent_path_of(f, vid, path, sizeof(path));
  n = readlink(path, target, sizeof(target) - 1);
  assert_true(n > 0);
  target[n] = 0;
  assert_non_null(c1 = strchr(target, ':'));
  assert_non_null(c2 = strchr(c1 + 1, ':'));
  snprintf(next, sizeof(next), "%.*s:%s%s", (int)(c1 - target), target, to,
           c2);
  snprintf(tmp, sizeof(tmp), "%s.new", path);
  assert_int_equal(symlink(next, tmp), 0);
  assert_int_equal(rename(tmp, path), 0);
}

/* base, recorded and settled, then a replacing it and b replacing a,
 * neither settled nor recorded. */
static void base_a_b(fx *f, vs_object_info *base, vs_object_info *a,
                     vs_object_info *b)
{
  vs_err err = {0};
  put_over(f, "base", base);
  record(f, "ow.mp4", base);
  assert_int_equal(vs_store_settle(f->s, "videos", "ow.mp4",
                                   base->version_id, &err), VS_OK);
  put_over(f, "a", a);
  put_over(f, "b", b);
}

/* A crash in the middle of reconciling base <- a <- b, neither recorded:
 * b was made to replace base and a's files went, but a's intent stayed.
 * Settling a must leave base to b's intent: b goes, base is current. */
static void test_overwrite_chain_crash(void **state)
{
  fx *f = *state;
  vs_object_info base, a, b;
  char last[48];
  base_a_b(f, &base, &a, &b);
  rewrite_intent(f, b.version_id, base.version_id);
  assert_int_equal(unlink_version(f->dir, a.version_id), 0);
  run(f, 0, 1);
  assert_int_equal(versions_of(f, last), 1);
  assert_string_equal(last, base.version_id);
}

/* base <- a <- b, both recorded; b's settle removed a's files, then the
 * crash came before a's own settle (which removes base) and b's intent's
 * drop. The restart's store open sees a's intent without a's data: it must
 * leave it to reconciliation, which settles it, so base goes and b stays
 * alone (dropping it at open kept base beside b). */
static void test_overwrite_settled_out_of_order(void **state)
{
  fx *f = *state;
  vs_object_info base, a, b;
  char last[48];
  vs_err err = {0};
  base_a_b(f, &base, &a, &b);
  record(f, "ow.mp4", &a);
  record(f, "ow.mp4", &b);
  assert_int_equal(unlink_version(f->dir, a.version_id), 0);
  vs_store_close(f->s);
  assert_int_equal(st_open_dir(f->dir, 0, NULL, &f->s, &err), VS_OK);
  run(f, 2, 0);
  assert_int_equal(versions_of(f, last), 1);
  assert_string_equal(last, b.version_id);
}

/* Removing a passes base on to b's intent, which keeps its time: the next
 * start picks the manifest segments that may hold b's event by it. */
static void test_pass_on_keeps_time(void **state)
{
  fx *f = *state;
  vs_object_info base, a, b;
  char path[600], target[400], want[64];
  struct stat before, after;
  ssize_t n;
  vs_err err = {0};
  base_a_b(f, &base, &a, &b);
  intent_path_of(f, b.version_id, path, sizeof(path));
  assert_int_equal(lstat(path, &before), 0);
  usleep(20 * 1000);
  assert_int_equal(vs_store_remove(f->s, "videos", "ow.mp4", a.version_id,
                                   &err), VS_OK);
  assert_int_equal(lstat(path, &after), 0);
  assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  n = readlink(path, target, sizeof(target) - 1);
  assert_true(n > 0);
  target[n] = 0;
  snprintf(want, sizeof(want), ":%s:", base.version_id);
  assert_non_null(strstr(target, want));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_plain_segment, setup, teardown),
    cmocka_unit_test_setup_teardown(test_gzipped_segment, setup, teardown),
    cmocka_unit_test_setup_teardown(test_settled_need_nothing, setup,
                                    teardown),
    cmocka_unit_test(test_overwrite_chain),
    cmocka_unit_test_setup_teardown(test_overwrite_chain_crash, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_overwrite_settled_out_of_order,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_pass_on_keeps_time, setup,
                                    teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
