/* verify as a library call: objects put through the real filesystem store,
 * stored events through the real manifest writer; damage each way verify
 * names, on one thread and on several, with small reads so an object spans
 * many of them. Events written back are read by the fold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "helpers.h"
#include "test_store_common.h"
#include "util/json.h"
#include "vsink/manifest.h"
#include "vsink/report.h"

#define NOBJ 6

typedef struct fixture {
  char dir[256], data[300], man[300];
  vs_store *store;
  vs_manifest *m;
  vs_object_info info[NOBJ];
  char key[NOBJ][64];
} fixture;

typedef struct seen {
  int n;
  vs_verify_item last[NOBJ + 2];
  char keys[NOBJ + 2][64];
  const char *problem[NOBJ + 2]; /* static strings: outlive the call */
  int sha_equal[NOBJ + 2];
  uint64_t done_max, total;
} seen;

static void on_item(void *ctx, const vs_verify_item *it, uint64_t done,
                    uint64_t total, uint64_t bytes)
{
  seen *s = ctx;
  (void)bytes;
  assert_true(s->n < NOBJ + 2);
  s->last[s->n] = *it;
  snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", it->key);
  s->problem[s->n] = it->problem;
  /* the item's strings live only during the call */
  s->sha_equal[s->n] = !strcmp(it->sha256, it->sha256_expected);
  s->n++;
  assert_int_equal(done, (uint64_t)s->n); /* one call at a time, counted */
  s->done_max = done;
  s->total = total;
}

static const char *problem_of(const seen *s, const char *key)
{
  int i;
  for(i = 0; i < s->n; i++)
    if(!strcmp(s->keys[i], key))
      return s->problem[i] ? s->problem[i] : "ok";
  return "not checked";
}

static void stored_event(vs_manifest *m, const char *key,
                         const vs_object_info *i, const char *source)
{
  cJSON *f = cJSON_CreateObject();
  vs_err err = {0};
  cJSON_AddStringToObject(f, "bucket", "bkt");
  cJSON_AddStringToObject(f, "key", key);
  cJSON_AddStringToObject(f, "versionId", i->version_id);
  cJSON_AddNumberToObject(f, "bytes", (double)i->bytes);
  if(source)
    cJSON_AddStringToObject(f, "source", source);
  else
    cJSON_AddStringToObject(f, "sha256", i->sha256);
  assert_int_equal(vs_manifest_append(m, "stored", f, &err), 0);
  cJSON_Delete(f);
}

static int setup(void **state)
{
  fixture *fx = calloc(1, sizeof(*fx));
  vs_store_fs_opts so = {0};
  vs_manifest_opts mo = {0};
  vs_err err = {0};
  int i;
  assert_int_equal(vst_tmpdir("verify", fx->dir, sizeof(fx->dir)), 0);
  snprintf(fx->data, sizeof(fx->data), "%s/data", fx->dir);
  snprintf(fx->man, sizeof(fx->man), "%s/manifest", fx->dir);
  so.dir = fx->data;
  assert_int_equal(vs_store_fs_open(&fx->store, &so, NULL, &err), 0);
  mo.dir = fx->man;
  mo.node = "sink";
  assert_int_equal(vs_manifest_open(&fx->m, &mo, &err), 0);
  for(i = 0; i < NOBJ; i++) {
    size_t len = (size_t)(i * 70001 + 3), j;
    char *buf = malloc(len);
    for(j = 0; j < len; j++)
      buf[j] = (char)(j * 31 + (size_t)i);
    snprintf(fx->key[i], sizeof(fx->key[0]), "out/clip-%d.mp4", i);
    assert_int_equal(st_put(fx->store, "bkt", fx->key[i], buf, len,
                            VS_ON_EXISTING_VERSION, 0, &fx->info[i], &err),
                     0);
    free(buf);
    stored_event(fx->m, fx->key[i], &fx->info[i], NULL);
  }
  /* the same object recorded twice, and a bucket target's HEAD record */
  stored_event(fx->m, fx->key[1], &fx->info[1], NULL);
  stored_event(fx->m, "elsewhere.mp4", &fx->info[2], "head");
  *state = fx;
  return 0;
}

static int teardown(void **state)
{
  fixture *fx = *state;
  vs_manifest_close(fx->m);
  vs_store_close(fx->store);
  vst_rmrf(fx->dir);
  free(fx);
  return 0;
}

static int run(fixture *fx, int jobs, vs_manifest *events, seen *s,
               vs_verify_stats *st)
{
  vs_verify_opts o = {0};
  vs_err err = {0};
  memset(s, 0, sizeof(*s));
  o.manifest_dir = fx->man;
  o.store = fx->store;
  o.events = events;
  o.jobs = jobs;
  o.read_size = 4096; /* objects span many reads */
  o.on_item = on_item;
  o.ctx = s;
  return vs_report_verify(&o, st, &err);
}

static void data_path(const fixture *fx, int i, char *out, size_t cap)
{
  snprintf(out, cap, "%s/buckets/bkt/out/clip-%d.mp4/@%s", fx->data, i,
           fx->info[i].version_id);
}

static void test_clean(void **state)
{
  fixture *fx = *state;
  vs_verify_stats st;
  seen s;
  int i;
  assert_int_equal(run(fx, 1, NULL, &s, &st), 0);
  assert_int_equal(st.objects, NOBJ);
  assert_int_equal(st.ok, NOBJ);
  assert_int_equal(st.problems, 0);
  assert_int_equal(st.duplicates, 1);
  assert_int_equal(st.skipped, 1);
  assert_int_equal(s.total, NOBJ);
  for(i = 0; i < s.n; i++) {
    assert_true(s.last[i].ok);
    assert_true(s.sha_equal[i]);
    assert_int_equal(s.last[i].bytes_read, s.last[i].bytes_expected);
  }
  assert_int_equal(st.bytes, 0 + 3 + 70004 + 140005 + 210006 + 280007 +
                               350008);
}

static void damage(fixture *fx)
{
  char p[600];
  FILE *f;
  int c;
  data_path(fx, 2, p, sizeof(p)); /* a flipped byte in the middle */
  f = fopen(p, "r+b");
  assert_non_null(f);
  fseek(f, 70000, SEEK_SET);
  c = fgetc(f);
  fseek(f, 70000, SEEK_SET);
  fputc(c ^ 0x80, f);
  fclose(f);
  data_path(fx, 3, p, sizeof(p));
  assert_int_equal(truncate(p, 1000), 0);
  data_path(fx, 4, p, sizeof(p));
  assert_int_equal(unlink(p), 0);
}

static void test_damage_every_way(void **state)
{
  fixture *fx = *state;
  vs_verify_stats st;
  seen s;
  int jobs;
  damage(fx);
  for(jobs = 1; jobs <= 4; jobs += 3) {
    assert_int_equal(run(fx, jobs, NULL, &s, &st), 0);
    assert_int_equal(st.objects, NOBJ);
    assert_int_equal(st.ok, 3);
    assert_int_equal(st.problems, 3);
    assert_int_equal(st.checksum_mismatch, 1);
    assert_int_equal(st.size_mismatch, 1);
    assert_int_equal(st.missing, 1);
    assert_string_equal(problem_of(&s, fx->key[2]), "checksum-mismatch");
    assert_string_equal(problem_of(&s, fx->key[3]), "size-mismatch");
    assert_string_equal(problem_of(&s, fx->key[4]), "missing-object");
    assert_string_equal(problem_of(&s, fx->key[0]), "ok");
    assert_string_equal(problem_of(&s, fx->key[5]), "ok");
  }
}

/* Events go through a writer of verify's own; the fold reads them and the
 * rows (unexpected uploads here: no submission) carry the verdicts. */
typedef struct rowcheck {
  int n, missing_object, mismatch, verified;
} rowcheck;

static int on_row(void *ctx, const vs_report_row *row)
{
  rowcheck *c = ctx;
  c->n++;
  c->verified += row->verified_ms > 0;
  if(row->verify_problem && !strcmp(row->verify_problem, "missing-object"))
    c->missing_object++;
  else if(row->verify_problem)
    c->mismatch++;
  return 0;
}

static void test_events_fold(void **state)
{
  fixture *fx = *state;
  vs_manifest_opts mo = {0};
  vs_report_opts ro = {0};
  vs_verify_stats st;
  vs_manifest *ev = NULL;
  vs_report *r = NULL;
  vs_report_stats rs;
  vs_err err = {0};
  rowcheck rc = {0};
  seen s;
  damage(fx);
  mo.dir = fx->man;
  mo.node = "verify";
  assert_int_equal(vs_manifest_open(&ev, &mo, &err), 0);
  assert_int_equal(run(fx, 2, ev, &s, &st), 0);
  vs_manifest_close(ev);
  ro.detail = 1;
  ro.jobs = 1;
  assert_int_equal(vs_report_new(&r, &ro, &err), 0);
  assert_int_equal(vs_report_load(r, fx->man, &err), 0);
  assert_int_equal(vs_report_finish(r, 0, VS_REPORT_GRACE_MS, &err), 0);
  vs_report_get_stats(r, &rs);
  assert_int_equal(rs.verified, NOBJ);
  assert_int_equal(rs.malformed, 0);
  assert_int_equal(vs_report_each(r, NULL, on_row, &rc), 0);
  assert_int_equal(rc.n, NOBJ + 1); /* + the HEAD-recorded object */
  assert_int_equal(rc.verified, NOBJ);
  assert_int_equal(rc.missing_object, 1);
  assert_int_equal(rc.mismatch, 2);
  vs_report_free(r);
}

static void test_bad_input(void **state)
{
  fixture *fx = *state;
  vs_verify_opts o = {0};
  vs_verify_stats st;
  vs_err err = {0};
  char p[600];
  FILE *f;
  seen s;
  assert_int_equal(vs_report_verify(&o, &st, &err), VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "manifest"));
  o.manifest_dir = fx->man;
  o.store = fx->store;
  o.jobs = 65;
  assert_int_equal(vs_report_verify(&o, &st, &err), VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "65"));
  /* malformed stored lines are counted, not fatal */
  snprintf(p, sizeof(p), "%s/20261124T000000000Z-x-1-00000000.jsonl",
           fx->man);
  f = fopen(p, "w");
  assert_non_null(f);
  fputs("{\"v\":1,\"event\":\"stored\",\"time\":\"2026-11-24T00:00:00Z\","
        "\"node\":\"x\",\"bucket\":\"bkt\"}\n"
        "{\"v\":1,\"event\":\"stored\",\"time\":\"2026-11-24T00:00:01Z\","
        "\"node\":\"x\",\"bucket\":\"bkt\",\"key\":\"k\",\"bytes\":\"9\"}\n"
        "{\"v\":1,\"event\":\"stored\",\"time\":\"2026-11-24T00:00:02Z\","
        "\"node\":\"x\",\"bucket\"", f);
  fclose(f);
  assert_int_equal(run(fx, 1, NULL, &s, &st), 0);
  assert_int_equal(st.malformed, 2);
  assert_int_equal(st.torn, 1);
  assert_int_equal(st.objects, NOBJ);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_clean, setup, teardown),
    cmocka_unit_test_setup_teardown(test_damage_every_way, setup, teardown),
    cmocka_unit_test_setup_teardown(test_events_fold, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
