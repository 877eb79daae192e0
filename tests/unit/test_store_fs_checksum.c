/* store_fs: the verified x-amz-checksum-* is kept in a version's metadata
 * and given back by stat and open; metadata written before checksums
 * existed still loads (with none); a damaged checksum field is corrupt
 * metadata; the `stored` event fields carry it. */
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
#include "util/fs.h"

typedef st_fx fx;

static const char *meta_path(fx *f, const char *key, const char *vid)
{
  snprintf(f->path, sizeof(f->path), "%s/buckets/bkt/%s/@%s.json", f->dir,
           key, vid);
  return f->path;
}

static void put_with(fx *f, const char *key, const char *alg,
                     const char *value, vs_object_info *info)
{
  vs_upload *u = NULL;
  vs_err err = {0};
  char sha[65];
  vs_commit c = {0};
  assert_int_equal(vs_store_begin(f->s, "bkt", key, &u, &err), VS_OK);
  assert_int_equal(vs_store_write(f->s, u, "123456789", 9, &err), VS_OK);
  st_sha256("123456789", 9, sha);
  c.bytes = 9;
  c.sha256 = sha;
  c.checksum_alg = alg;
  c.checksum = value;
  assert_int_equal(vs_store_commit(f->s, u, &c, info, &err), VS_OK);
}

static void rewrite(const char *path, const char *text)
{
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
}

static void test_kept_and_returned(void **state)
{
  fx *f = *state;
  vs_object_info info, st;
  vs_err err = {0};
  char *text = NULL;
  int fd = -1;
  put_with(f, "k", "crc32", "y/Q5Jg==", &info);
  assert_string_equal(info.checksum_alg, "crc32");
  assert_string_equal(info.checksum, "y/Q5Jg==");
  assert_int_equal(vs_store_stat(f->s, "bkt", "k", NULL, &st, &err), VS_OK);
  assert_string_equal(st.checksum_alg, "crc32");
  assert_string_equal(st.checksum, "y/Q5Jg==");
  assert_int_equal(vs_store_open(f->s, "bkt", "k", info.version_id, &fd, &st,
                                 &err), VS_OK);
  close(fd);
  assert_string_equal(st.checksum, "y/Q5Jg==");
  assert_int_equal(vs_read_file(meta_path(f, "k", info.version_id), 4096,
                                &text, NULL, &err), VS_OK);
  assert_non_null(strstr(text, ",\"checksum\":{\"crc32\":\"y/Q5Jg==\"},"));
  free(text);
  /* none sent: none kept, and the metadata has no such field */
  put_with(f, "n", NULL, NULL, &info);
  assert_string_equal(info.checksum_alg, "");
  assert_int_equal(vs_store_stat(f->s, "bkt", "n", NULL, &st, &err), VS_OK);
  assert_string_equal(st.checksum_alg, "");
  assert_string_equal(st.checksum, "");
  assert_int_equal(vs_read_file(meta_path(f, "n", info.version_id), 4096,
                                &text, NULL, &err), VS_OK);
  assert_null(strstr(text, "checksum"));
  free(text);
}

/* Metadata as every version before this change wrote it. */
static void test_old_metadata_loads(void **state)
{
  fx *f = *state;
  vs_object_info info, st;
  vs_err err = {0};
  char old[600];
  put_with(f, "o", "sha256", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=",
           &info);
  snprintf(old, sizeof(old),
           "{\"bytes\":9,\"sha256\":\"%s\",\"md5\":\"\",\"etag\":\"%s\","
           "\"contentType\":\"video/mp4\",\"mtime\":%lld,"
           "\"versionId\":\"%s\"}\n", info.sha256, info.etag,
           (long long)info.mtime_ms, info.version_id);
  rewrite(meta_path(f, "o", info.version_id), old);
  assert_int_equal(vs_store_stat(f->s, "bkt", "o", NULL, &st, &err), VS_OK);
  assert_string_equal(st.sha256, info.sha256);
  assert_string_equal(st.checksum_alg, "");
  assert_string_equal(st.checksum, "");
}

/* A checksum field that is not one name and one string is damage. */
static void test_damaged_field(void **state)
{
  static const char *const BAD[] = {
    "\"checksum\":\"y/Q5Jg==\"", "\"checksum\":{}",
    "\"checksum\":{\"crc32\":1}",
    "\"checksum\":{\"crc32\":\"a\",\"sha1\":\"b\"}",
    "\"checksum\":{\"a-name-far-too-long\":\"x\"}",
  };
  fx *f = *state;
  vs_object_info info, st;
  vs_err err = {0};
  char text[700];
  size_t i;
  put_with(f, "d", "crc32c", "4waSgw==", &info);
  for(i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
    snprintf(text, sizeof(text),
             "{\"bytes\":9,\"sha256\":\"%s\",\"md5\":\"\",\"etag\":\"%s\","
             "\"contentType\":\"video/mp4\",%s,\"mtime\":%lld,"
             "\"versionId\":\"%s\"}\n", info.sha256, info.etag, BAD[i],
             (long long)info.mtime_ms, info.version_id);
    rewrite(meta_path(f, "d", info.version_id), text);
    assert_int_equal(vs_store_stat(f->s, "bkt", "d", NULL, &st, &err),
                     VS_ERR_IO);
  }
}

static void test_event_fields(void **state)
{
  vs_object_info info;
  cJSON *ev, *ck;
  (void)state;
  memset(&info, 0, sizeof(info));
  strcpy(info.version_id, "v");
  strcpy(info.etag, "e");
  ev = vs_store_event_fields("b", "k", &info, NULL, "put");
  assert_non_null(ev);
  assert_null(cJSON_GetObjectItem(ev, "checksum"));
  cJSON_Delete(ev);
  strcpy(info.checksum_alg, "crc64nvme");
  strcpy(info.checksum, "rosUhgp5mIg=");
  ev = vs_store_event_fields("b", "k", &info, NULL, "put");
  ck = cJSON_GetObjectItem(ev, "checksum");
  assert_true(cJSON_IsObject(ck));
  assert_string_equal(cJSON_GetObjectItem(ck, "crc64nvme")->valuestring,
                      "rosUhgp5mIg=");
  cJSON_Delete(ev);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    ST_TEST(test_kept_and_returned),
    ST_TEST(test_old_metadata_loads),
    ST_TEST(test_damaged_field),
    cmocka_unit_test(test_event_fields),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
