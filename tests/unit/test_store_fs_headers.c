/* store_fs: the headers kept with a version (x-amz-meta-*, Cache-Control,
 * ...) round-trip through its metadata and the `stored` event fields;
 * malformed ones are refused at commit with nothing kept; PutObject's
 * If-Match is checked at commit, under the key's lock (EXISTS when the
 * current ETag differs, NOTFOUND on an empty key). */
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

typedef st_fx fx;

static int put(fx *f, const char *key, const char *headers,
               const char *if_match, vs_object_info *info, vs_err *err)
{
  vs_upload *u = NULL;
  char sha[65];
  vs_commit c = {0};
  assert_int_equal(vs_store_begin(f->s, "bkt", key, &u, err), VS_OK);
  assert_int_equal(vs_store_write(f->s, u, "abc", 3, err), VS_OK);
  st_sha256("abc", 3, sha);
  c.bytes = 3;
  c.sha256 = sha;
  c.md5 = "900150983cd24fb0d6963f7d28e17f72";
  c.headers = headers;
  c.if_match = if_match;
  return vs_store_commit(f->s, u, &c, info, err);
}

static void test_round_trip(void **state)
{
  fx *f = *state;
  const char *h = "cache-control:max-age=5\n"
                  "content-disposition:attachment; filename=\"a b\"\n"
                  "x-amz-meta-camera:A7 \\ \"q\"\t\n";
  vs_object_info *info = malloc(sizeof(*info)), *st = malloc(sizeof(*st));
  vs_err err = {0};
  cJSON *ev, *hj;
  assert_int_equal(put(f, "k", h, NULL, info, &err), VS_OK);
  assert_string_equal(info->headers, h);
  assert_int_equal(vs_store_stat(f->s, "bkt", "k", NULL, st, &err), VS_OK);
  assert_string_equal(st->headers, h);
  ev = vs_store_event_fields("bkt", "k", st, NULL, "put");
  hj = cJSON_GetObjectItemCaseSensitive(ev, "headers");
  assert_non_null(hj);
  assert_string_equal(
    cJSON_GetObjectItemCaseSensitive(hj, "x-amz-meta-camera")->valuestring,
    "A7 \\ \"q\"\t");
  assert_string_equal(
    cJSON_GetObjectItemCaseSensitive(hj, "cache-control")->valuestring,
    "max-age=5");
  cJSON_Delete(ev);
  /* none: no field in the event */
  assert_int_equal(put(f, "k2", NULL, NULL, info, &err), VS_OK);
  assert_int_equal(vs_store_stat(f->s, "bkt", "k2", NULL, st, &err), VS_OK);
  assert_string_equal(st->headers, "");
  ev = vs_store_event_fields("bkt", "k2", st, NULL, "put");
  assert_null(cJSON_GetObjectItemCaseSensitive(ev, "headers"));
  cJSON_Delete(ev);
  free(info);
  free(st);
}

static void test_malformed(void **state)
{
  fx *f = *state;
  static const char *const bad[] = {
    "Cache-Control:x\n",      /* upper case */
    "cache-control:x",        /* no newline */
    ":x\n",                   /* no name */
    "a b:x\n",                /* space in the name */
    "cache-control:a\rb\n",   /* control byte */
    "novalue\n",
  };
  vs_object_info *info = malloc(sizeof(*info));
  char *big = malloc(VS_OBJ_HEADERS_MAX + 10);
  vs_err err = {0};
  size_t i;
  for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(put(f, "bad", bad[i], NULL, info, &err),
                     VS_ERR_INVALID);
  memset(big, 'a', VS_OBJ_HEADERS_MAX + 5);
  memcpy(big, "x-amz-meta-a:", 13);
  big[VS_OBJ_HEADERS_MAX + 4] = '\n';
  big[VS_OBJ_HEADERS_MAX + 5] = 0;
  assert_int_equal(put(f, "bad", big, NULL, info, &err), VS_ERR_INVALID);
  assert_int_equal(vs_store_stat(f->s, "bkt", "bad", NULL, info, &err),
                   VS_ERR_NOTFOUND);
  free(big);
  free(info);
}

static void test_if_match(void **state)
{
  fx *f = *state;
  vs_object_info *info = malloc(sizeof(*info));
  vs_err err = {0};
  char **ids;
  size_t n, i;
  assert_int_equal(put(f, "m", NULL, "900150983cd24fb0d6963f7d28e17f72",
                       info, &err), VS_ERR_NOTFOUND);
  assert_int_equal(put(f, "m", NULL, NULL, info, &err), VS_OK);
  assert_int_equal(put(f, "m", NULL, "00000000000000000000000000000000",
                       info, &err), VS_ERR_EXISTS);
  assert_int_equal(put(f, "m", NULL, "900150983cd24fb0d6963f7d28e17f72",
                       info, &err), VS_OK);
  assert_int_equal(put(f, "m", NULL, "*", info, &err), VS_OK);
  /* the refused ones left nothing: three versions */
  assert_int_equal(vs_store_fs_list_versions(f->s, "bkt", "m", &ids, &n,
                                             &err), VS_OK);
  assert_int_equal(n, 3);
  for(i = 0; i < n; i++)
    free(ids[i]);
  free(ids);
  free(info);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    ST_TEST(test_round_trip),
    ST_TEST(test_malformed),
    ST_TEST(test_if_match),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
