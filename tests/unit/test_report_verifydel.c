/* verify after deletes, as a library call against the real filesystem
 * store and manifest writer: a version under a delete marker is still read
 * (by versionId) and found intact; a purged version is counted as purged,
 * not called a missing object, and gets no `verified` event; objects a
 * copy or a multipart upload stored are local bytes too, and read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "helpers.h"
#include "test_store_common.h"
#include "util/json.h"
#include "vsink/manifest.h"
#include "vsink/report.h"

enum { KEPT, DELETED, PURGED, COPIED, MULTIPART, NOBJ };

typedef struct seen {
  int n, problems;
  char keys[NOBJ][64];
} seen;

static void on_item(void *ctx, const vs_verify_item *it, uint64_t done,
                    uint64_t total, uint64_t bytes)
{
  seen *s = ctx;
  (void)done;
  (void)total;
  (void)bytes;
  assert_true(s->n < NOBJ);
  snprintf(s->keys[s->n++], sizeof(s->keys[0]), "%s", it->key);
  s->problems += !it->ok;
}

static int was_read(const seen *s, const char *key)
{
  int i;
  for(i = 0; i < s->n; i++)
    if(!strcmp(s->keys[i], key))
      return 1;
  return 0;
}

static void event(vs_manifest *m, const char *name, const char *key,
                  const vs_object_info *i, const char *source)
{
  cJSON *f = cJSON_CreateObject();
  vs_err err = {0};
  cJSON_AddStringToObject(f, "bucket", "bkt");
  cJSON_AddStringToObject(f, "key", key);
  cJSON_AddStringToObject(f, "versionId", i->version_id);
  if(i->delete_marker)
    cJSON_AddTrueToObject(f, "deleteMarker");
  else {
    cJSON_AddNumberToObject(f, "bytes", (double)i->bytes);
    cJSON_AddStringToObject(f, "sha256", i->sha256);
  }
  if(source)
    cJSON_AddStringToObject(f, "source", source);
  assert_int_equal(vs_manifest_append(m, name, f, &err), 0);
  cJSON_Delete(f);
}

static void test_verify_after_deletes(void **state)
{
  static const char *const source[NOBJ] = {"put", "put", "put", "copy",
                                           "multipart"};
  char dir[256], data[300], man[300], key[NOBJ][64], buf[5000];
  vs_store_fs_opts so = {0};
  vs_manifest_opts mo = {0};
  vs_verify_opts vo = {0};
  vs_object_info info[NOBJ], marker, gone;
  vs_verify_stats st;
  vs_store *store;
  vs_manifest *m, *events;
  vs_err err = {0};
  seen s;
  int i;
  (void)state;
  assert_int_equal(vst_tmpdir("verifydel", dir, sizeof(dir)), 0);
  snprintf(data, sizeof(data), "%s/data", dir);
  snprintf(man, sizeof(man), "%s/manifest", dir);
  so.dir = data;
  assert_int_equal(vs_store_fs_open(&store, &so, NULL, &err), 0);
  mo.dir = man;
  mo.node = "sink";
  assert_int_equal(vs_manifest_open(&m, &mo, &err), 0);
  for(i = 0; i < NOBJ; i++) {
    memset(buf, 'a' + i, sizeof(buf));
    snprintf(key[i], sizeof(key[0]), "out/clip-%d.mp4", i);
    assert_int_equal(st_put(store, "bkt", key[i], buf, sizeof(buf) - i,
                            VS_ON_EXISTING_VERSION, 0, &info[i], &err), 0);
    event(m, "stored", key[i], &info[i], source[i]);
  }
  /* DELETED's key gets a marker; PURGED's version goes for good */
  assert_int_equal(vs_store_put_marker(store, "bkt", key[DELETED], &marker,
                                       &err), 0);
  event(m, "deleted", key[DELETED], &marker, NULL);
  assert_int_equal(vs_store_settle(store, "bkt", key[DELETED],
                                   marker.version_id, &err), 0);
  assert_int_equal(vs_store_purge(store, "bkt", key[PURGED],
                                  info[PURGED].version_id, 0, 0, &gone, &err),
                   0);
  event(m, "purged", key[PURGED], &gone, NULL);
  vs_manifest_close(m);

  mo.node = "verify";
  assert_int_equal(vs_manifest_open(&events, &mo, &err), 0);
  memset(&s, 0, sizeof(s));
  vo.manifest_dir = man;
  vo.store = store;
  vo.events = events;
  vo.on_item = on_item;
  vo.ctx = &s;
  assert_int_equal(vs_report_verify(&vo, &st, &err), 0);
  vs_manifest_close(events);
  assert_int_equal(st.objects, NOBJ - 1);
  assert_int_equal(st.ok, NOBJ - 1);
  assert_int_equal(st.problems, 0);
  assert_int_equal(st.missing, 0);
  assert_int_equal(st.purged, 1);
  assert_int_equal(st.skipped, 0);
  assert_int_equal(s.problems, 0);
  assert_true(was_read(&s, key[DELETED])); /* by versionId, under a marker */
  assert_true(was_read(&s, key[COPIED]));
  assert_true(was_read(&s, key[MULTIPART]));
  assert_false(was_read(&s, key[PURGED]));
  vs_store_close(store);
  vst_rmrf(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_verify_after_deletes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
