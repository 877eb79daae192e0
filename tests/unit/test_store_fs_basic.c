/* store_fs: put and get round trips, the on-disk layout, lookups that must
 * miss, abort, and bad input refused at begin and commit. */
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
#include "util/fs.h"

typedef st_fx fx;

static const char *at(fx *f, const char *rel)
{
  snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, rel);
  return f->path;
}

static int exists(fx *f, const char *rel)
{
  struct stat st;
  return lstat(at(f, rel), &st) == 0;
}

static void test_round_trip(void **state)
{
  fx *f = *state;
  vs_object_info info, st, got;
  vs_err err = {0};
  char data[10000], sha[65], *back, link[64];
  size_t i, len = 0;
  int rc;
  ssize_t n;
  for(i = 0; i < sizeof(data); i++)
    data[i] = (char)(i * 7 + 3);
  st_sha256(data, sizeof(data), sha);
  rc = st_put(f->s, "videos", "2026/clip.mp4", data, sizeof(data),
              VS_ON_EXISTING_VERSION, 0, &info, &err);
  assert_int_equal(rc, VS_OK);
  assert_int_equal(info.bytes, sizeof(data));
  assert_string_equal(info.sha256, sha);
  assert_string_equal(info.md5, "");
  assert_string_equal(info.etag, sha); /* no md5 given: the sha256 */
  assert_string_equal(info.content_type, "video/mp4");
  assert_int_equal(strlen(info.version_id), 26);

  /* The layout: bytes, metadata and @current in the key's directory. */
  snprintf(link, sizeof(link), "@%s", info.version_id);
  n = readlink(at(f, "buckets/videos/2026/clip.mp4/@current"), f->path,
               sizeof(f->path) - 1);
  assert_true(n > 0);
  f->path[n] = 0;
  assert_string_equal(f->path, link);
  assert_int_equal(vst_count_files(at(f, ".tmp")), 0);

  assert_int_equal(vs_store_stat(f->s, "videos", "2026/clip.mp4", NULL, &st,
                                 &err), VS_OK);
  assert_memory_equal(&st, &info, sizeof(st));
  back = st_get(f->s, "videos", "2026/clip.mp4", "", &len, &got, &rc);
  assert_int_equal(rc, VS_OK);
  assert_int_equal(len, sizeof(data));
  assert_memory_equal(back, data, sizeof(data));
  assert_memory_equal(&got, &info, sizeof(got));
  free(back);
  back = st_get(f->s, "videos", "2026/clip.mp4", info.version_id, &len, &got,
                &rc);
  assert_int_equal(rc, VS_OK);
  assert_memory_equal(back, data, sizeof(data));
  free(back);
}

static void test_md5_and_content_type(void **state)
{
  fx *f = *state;
  vs_upload *u;
  vs_object_info info, st;
  vs_err err = {0};
  vs_commit c = {0};
  const char *sha =
    "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
  assert_int_equal(vs_store_begin(f->s, "videos", "empty", &u, &err), VS_OK);
  c.sha256 = sha;
  c.md5 = "D41D8CD98F00B204E9800998ECF8427E";
  c.content_type = "text/plain; charset=\"utf-8\" \\ \xc3\xa9";
  assert_int_equal(vs_store_commit(f->s, u, &c, &info, &err), VS_OK);
  assert_string_equal(info.md5, "d41d8cd98f00b204e9800998ecf8427e");
  assert_string_equal(info.etag, "d41d8cd98f00b204e9800998ecf8427e");
  assert_string_equal(info.sha256,
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert_int_equal(vs_store_stat(f->s, "videos", "empty", NULL, &st, &err),
                   VS_OK);
  assert_int_equal(st.bytes, 0);
  assert_string_equal(st.content_type, c.content_type);
  assert_string_equal(st.etag, info.etag);

  /* No content type: application/octet-stream. */
  assert_int_equal(vs_store_begin(f->s, "videos", "empty2", &u, &err), VS_OK);
  c.content_type = NULL;
  c.md5 = "";
  assert_int_equal(vs_store_commit(f->s, u, &c, &info, &err), VS_OK);
  assert_string_equal(info.content_type, "application/octet-stream");
  assert_string_equal(info.md5, "");
}

static void test_keys_coexist(void **state)
{
  fx *f = *state;
  static const char *const keys[] = {"a", "a/b", "@x", "a/@current",
                                     "@current", "a/@@y", "a/b/c"};
  vs_object_info info;
  vs_err err = {0};
  size_t i, len;
  int rc;
  for(i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    rc = st_put(f->s, "bkt", keys[i], keys[i], strlen(keys[i]),
                VS_ON_EXISTING_REJECT, 0, &info, &err);
    if(rc)
      fail_msg("put %s: %s", keys[i], err.msg);
  }
  for(i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    char *back = st_get(f->s, "bkt", keys[i], NULL, &len, &info, &rc);
    assert_int_equal(rc, VS_OK);
    assert_int_equal(len, strlen(keys[i]));
    assert_memory_equal(back, keys[i], len);
    free(back);
  }
  /* '@' segments are escaped with one more '@'. */
  assert_true(exists(f, "buckets/bkt/@@x/@current"));
  assert_true(exists(f, "buckets/bkt/a/@@current/@current"));
  assert_true(exists(f, "buckets/bkt/@@current/@current"));
  assert_true(exists(f, "buckets/bkt/a/@@@y/@current"));
  assert_true(exists(f, "buckets/bkt/a/b/c/@current"));
  assert_false(exists(f, "buckets/bkt/@x"));
}

static void test_not_found(void **state)
{
  fx *f = *state;
  static const char *const bad_vids[] = {
    "current", "../../a/@current", "20261124T121500123Z-a1b2c3/../x",
    "20261124T121500123Z-A1B2C3", "20261124T121500123Z-a1b2c", "x y"};
  vs_object_info info;
  vs_err err = {0};
  size_t i;
  int fd = 7;
  assert_int_equal(vs_store_stat(f->s, "bkt", "nope", NULL, &info, &err),
                   VS_ERR_NOTFOUND);
  assert_non_null(strstr(err.msg, "no object bkt/nope"));
  assert_int_equal(vs_store_open(f->s, "bkt", "nope", NULL, &fd, &info, &err),
                   VS_ERR_NOTFOUND);
  assert_int_equal(fd, -1);
  assert_int_equal(st_put(f->s, "bkt", "a/b", "x", 1, VS_ON_EXISTING_VERSION,
                          0, &info, &err), VS_OK);
  /* "a" is a directory on disk, but no object. */
  assert_int_equal(vs_store_stat(f->s, "bkt", "a", NULL, &info, &err),
                   VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_stat(f->s, "bkt", "a/b",
                                 "20000101T000000000Z-000000", &info, &err),
                   VS_ERR_NOTFOUND);
  assert_non_null(strstr(err.msg, "no version 20000101T000000000Z-000000"));
  for(i = 0; i < sizeof(bad_vids) / sizeof(bad_vids[0]); i++) {
    if(vs_store_stat(f->s, "bkt", "a/b", bad_vids[i], &info, &err) !=
       VS_ERR_NOTFOUND)
      fail_msg("version id '%s' not refused", bad_vids[i]);
    if(vs_store_open(f->s, "bkt", "a/b", bad_vids[i], &fd, &info, &err) !=
       VS_ERR_NOTFOUND)
      fail_msg("version id '%s' opened", bad_vids[i]);
  }
  assert_int_equal(vs_store_stat(f->s, "bkt", "a/b", NULL, &info, &err),
                   VS_OK);
  assert_int_equal(vs_store_stat(f->s, "other", "a/b", NULL, &info, &err),
                   VS_ERR_NOTFOUND);
}

static void test_abort(void **state)
{
  fx *f = *state;
  vs_upload *u;
  vs_object_info info;
  vs_err err = {0};
  char buf[65536] = {1};
  assert_int_equal(vs_store_begin(f->s, "bkt", "k", &u, &err), VS_OK);
  assert_int_equal(vst_count_files(at(f, ".tmp")), 1);
  assert_int_equal(vs_store_write(f->s, u, buf, sizeof(buf), &err), VS_OK);
  vs_store_abort(f->s, u);
  assert_int_equal(vst_count_files(at(f, ".tmp")), 0);
  assert_int_equal(vst_count_files(at(f, "buckets")), 0);
  assert_int_equal(vs_store_stat(f->s, "bkt", "k", NULL, &info, &err),
                   VS_ERR_NOTFOUND);
  vs_store_abort(f->s, NULL); /* harmless */
}

/* The store checks keys itself, whatever the caller did. */
static void test_bad_names_at_begin(void **state)
{
  fx *f = *state;
  char big[VS_KEY_MAX + 2], seg[300];
  vs_upload *u = NULL;
  vs_err err = {0};
  memset(big, 'k', sizeof(big) - 1);
  big[sizeof(big) - 1] = 0;
  memset(seg, 's', sizeof(seg) - 1);
  seg[sizeof(seg) - 1] = 0;
  /* S3 keys the layout must escape are no bad names (issue 11): their
   * paths are checked in test_store_fs_keyenc.c */
  assert_int_equal(vs_store_begin(f->s, "bkt", "", &u, &err), VS_ERR_INVALID);
  assert_int_equal(vs_store_begin(f->s, "bkt", big, &u, &err),
                   VS_ERR_TOOLARGE);
  assert_int_equal(vs_store_begin(f->s, "../x", "k", &u, &err),
                   VS_ERR_INVALID);
  assert_int_equal(vs_store_begin(f->s, "Bkt", "k", &u, &err),
                   VS_ERR_INVALID);
  assert_int_equal(vs_store_begin(f->s, "bkt", NULL, &u, &err),
                   VS_ERR_INVALID);
  /* A segment longer than a file name may be: continued in pieces. */
  assert_int_equal(vs_store_begin(f->s, "bkt", seg, &u, &err), VS_OK);
  vs_store_abort(f->s, u);
  seg[0] = '@';
  assert_int_equal(vs_store_begin(f->s, "bkt", seg, &u, &err), VS_OK);
  vs_store_abort(f->s, u);
  assert_int_equal(vst_count_files(f->dir), 1); /* only .lock */
}

static void test_bad_commit(void **state)
{
  fx *f = *state;
  static const struct {
    uint64_t bytes;
    const char *sha, *md5, *ct;
    int policy;
    const char *why;
  } bad[] = {
    {3, NULL, NULL, NULL, 0, "sha256"},
    {3, "abc", NULL, NULL, 0, "sha256"},
    {3, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g",
     NULL, NULL, 0, "sha256"},
    {3, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "xyz", NULL, 0, "md5"},
    {3, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     NULL, "text/\nplain", 0, "control byte"},
    {3, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     NULL, NULL, 9, "policy 9"},
    {4, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     NULL, NULL, 0, "says 4 bytes but 3 were written"},
  };
  vs_upload *u;
  vs_object_info info;
  vs_err err;
  size_t i;
  for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    vs_commit c = {bad[i].bytes, bad[i].sha, bad[i].md5, bad[i].ct,
                   (vs_on_existing)bad[i].policy, 0};
    memset(&err, 0, sizeof(err));
    assert_int_equal(vs_store_begin(f->s, "bkt", "k", &u, &err), VS_OK);
    assert_int_equal(vs_store_write(f->s, u, "abc", 3, &err), VS_OK);
    if(vs_store_commit(f->s, u, &c, &info, &err) != VS_ERR_INVALID)
      fail_msg("bad commit %zu accepted", i);
    if(!strstr(err.msg, bad[i].why))
      fail_msg("bad commit %zu: '%s' lacks '%s'", i, err.msg, bad[i].why);
    assert_int_equal(vst_count_files(at(f, ".tmp")), 0);
  }
  assert_int_equal(vst_count_files(at(f, "buckets")), 0);
  assert_int_equal(vs_store_stat(f->s, "bkt", "k", NULL, &info, &err),
                   VS_ERR_NOTFOUND);
}

/* A version's metadata is plain JSON next to its bytes. */
static void test_metadata_file(void **state)
{
  fx *f = *state;
  vs_object_info info;
  vs_err err = {0};
  char rel[128], *text = NULL, want[512];
  assert_int_equal(st_put(f->s, "bkt", "m", "hello", 5,
                          VS_ON_EXISTING_VERSION, 0, &info, &err), VS_OK);
  snprintf(rel, sizeof(rel), "buckets/bkt/m/@%s.json", info.version_id);
  assert_int_equal(vs_read_file(at(f, rel), 4096, &text, NULL, &err), VS_OK);
  snprintf(want, sizeof(want),
           "{\"bytes\":5,\"sha256\":\"%s\",\"md5\":\"\",\"etag\":\"%s\","
           "\"contentType\":\"video/mp4\",\"mtime\":%lld,"
           "\"versionId\":\"%s\"}\n", info.sha256, info.etag,
           (long long)info.mtime_ms, info.version_id);
  assert_string_equal(text, want);
  free(text);
  /* A damaged metadata file is an I/O error, not a wrong answer. */
  {
    FILE *fp = fopen(at(f, rel), "w");
    assert_non_null(fp);
    fputs("{\"bytes\":5}", fp);
    fclose(fp);
  }
  assert_int_equal(vs_store_stat(f->s, "bkt", "m", NULL, &info, &err),
                   VS_ERR_IO);
  assert_non_null(strstr(err.msg, "corrupt"));
}

/* Damage from outside (a version's files deleted by hand) is an I/O error
 * that says what is wrong, not "not found". */
static void test_damaged(void **state)
{
  fx *f = *state;
  vs_object_info info, cur;
  vs_err err = {0};
  char rel[128];
  int fd = -1;
  assert_int_equal(st_put(f->s, "bkt", "d", "hello", 5,
                          VS_ON_EXISTING_VERSION, 0, &info, &err), VS_OK);
  snprintf(rel, sizeof(rel), "buckets/bkt/d/@%s", info.version_id);
  assert_int_equal(truncate(at(f, rel), 2), 0);
  assert_int_equal(vs_store_stat(f->s, "bkt", "d", NULL, &cur, &err), VS_OK);
  assert_int_equal(vs_store_open(f->s, "bkt", "d", NULL, &fd, &cur, &err),
                   VS_ERR_IO);
  assert_non_null(strstr(err.msg, "does not hold the 5 bytes"));
  assert_int_equal(fd, -1);
  snprintf(rel, sizeof(rel), "buckets/bkt/d/@%s.json", info.version_id);
  assert_int_equal(unlink(at(f, rel)), 0);
  assert_int_equal(vs_store_stat(f->s, "bkt", "d", NULL, &cur, &err),
                   VS_ERR_IO);
  assert_non_null(strstr(err.msg, "which is missing"));
  /* A link pointing out of the key is never followed. */
  assert_int_equal(vs_store_stat(f->s, "bkt", "d", info.version_id, &cur,
                                 &err), VS_ERR_NOTFOUND);
  assert_int_equal(vs_mkdirs(at(f, "buckets/bkt/e"), 0755, &err), VS_OK);
  assert_int_equal(symlink("../../../../etc/passwd",
                           at(f, "buckets/bkt/e/@current")), 0);
  assert_int_equal(vs_store_open(f->s, "bkt", "e", NULL, &fd, &cur, &err),
                   VS_ERR_IO);
  assert_non_null(strstr(err.msg, "does not point to a version"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    ST_TEST(test_round_trip),
    ST_TEST(test_md5_and_content_type),
    ST_TEST(test_keys_coexist),
    ST_TEST(test_not_found),
    ST_TEST(test_abort),
    ST_TEST(test_bad_names_at_begin),
    ST_TEST(test_bad_commit),
    ST_TEST(test_metadata_file),
    ST_TEST(test_damaged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
