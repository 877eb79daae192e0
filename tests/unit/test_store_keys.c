/* store: the checks every store shares (keys, buckets, policy names), and
 * the commit a copy makes of its source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vsink/store.h"

static int key_rc(const char *k, vs_err *err)
{
  memset(err, 0, sizeof(*err));
  return vs_store_check_key(k, strlen(k), err);
}

static void test_good_keys(void **state)
{
  static const char *const good[] = {
    "a", "video/2026/11/24/out.mp4", "@x", "a/@current", ".hidden", "...",
    "a/.b/..c", "caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x8e\xac.mp4", "a b+c=d",
    "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "~!$&'()*,;:@"};
  vs_err err;
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    int rc = key_rc(good[i], &err);
    if(rc)
      fail_msg("key %zu refused: %s", i, err.msg);
  }
}

static void test_key_length(void **state)
{
  char k[VS_KEY_MAX + 2];
  vs_err err = {0};
  (void)state;
  memset(k, 'k', sizeof(k));
  assert_int_equal(vs_store_check_key(k, VS_KEY_MAX, &err), VS_OK);
  assert_int_equal(vs_store_check_key(k, VS_KEY_MAX + 1, &err),
                   VS_ERR_TOOLARGE);
  assert_non_null(strstr(err.msg, "1025 bytes"));
  assert_int_equal(vs_store_check_key(k, 0, &err), VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "empty"));
  assert_int_equal(vs_store_check_key(NULL, 3, &err), VS_ERR_INVALID);
}

/* Keys S3 takes that a path could not hold as they are (issue 11). */
static void test_s3_keys(void **state)
{
  static const char *const good[] = {
    "/a", "a//b", "a/", "photos/", ".", "..", "a/../b", "a/./b", "./x",
    "a/..", "/", "//", "a\tb", "a\nb", "a\x1f", "a\x7f", "\x01"};
  vs_err err;
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    int rc = key_rc(good[i], &err);
    if(rc)
      fail_msg("key %zu refused: %s", i, err.msg);
  }
}

/* What is refused, with a message that names the problem. */
static void test_bad_keys(void **state)
{
  static const struct {
    const char *key;
    const char *why;
  } bad[] = {
    {"a\xff", "not valid UTF-8 at byte 1"},
    {"\xc3", "not valid UTF-8 at byte 0"},          /* truncated */
    {"\xc3(", "not valid UTF-8"},                   /* bad continuation */
    {"\xc0\xaf", "not valid UTF-8"},                /* overlong '/' */
    {"\xe0\x80\xaf", "not valid UTF-8"},            /* overlong, 3 bytes */
    {"\xf0\x80\x80\xaf", "not valid UTF-8"},        /* overlong, 4 bytes */
    {"\xed\xa0\x80", "not valid UTF-8"},            /* surrogate */
    {"\xf4\x90\x80\x80", "not valid UTF-8"},        /* above U+10FFFF */
    {"\x80", "not valid UTF-8"},                    /* lone continuation */
  };
  vs_err err;
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int rc = key_rc(bad[i].key, &err);
    if(rc != VS_ERR_INVALID)
      fail_msg("bad key %zu: rc %d", i, rc);
    if(!strstr(err.msg, bad[i].why))
      fail_msg("bad key %zu: '%s' lacks '%s'", i, err.msg, bad[i].why);
  }
}

static void test_nul_inside(void **state)
{
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_store_check_key("a\0b", 3, &err), VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "NUL byte at byte 1"));
  assert_int_equal(vs_store_check_key("\0", 1, &err), VS_ERR_INVALID);
}

static void test_buckets(void **state)
{
  static const char *const good[] = {"abc", "my-bucket", "v1.videos",
                                     "0abc", "a-b.c-d"};
  static const struct {
    const char *b;
    const char *why;
  } bad[] = {
    {"", "empty"},
    {"ab", "3 to 63"},
    {"a123456789012345678901234567890123456789012345678901234567890123",
     "3 to 63"},
    {"My-Bucket", "'M'"},
    {"a_b_c", "'_'"},
    {"a/bc", "'/'"},
    {"-abc", "start and end"},
    {"abc.", "start and end"},
    {"a..bc", "'..'"},
    {"a.-bc", "'.-'"},
    {"192.168.1.10", "IP address"},
    {"xn--abc", "reserved"},
    {"sthree-abc", "reserved"},
    {"abc-s3alias", "reserved"},
    {"abc--ol-s3", "reserved"},
  };
  vs_err err;
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    if(vs_store_check_bucket(good[i], &err))
      fail_msg("bucket %s refused: %s", good[i], err.msg);
  for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    memset(&err, 0, sizeof(err));
    if(vs_store_check_bucket(bad[i].b, &err) != VS_ERR_INVALID)
      fail_msg("bucket '%s' accepted", bad[i].b);
    if(!strstr(err.msg, bad[i].why))
      fail_msg("bucket '%s': '%s' lacks '%s'", bad[i].b, err.msg, bad[i].why);
  }
  assert_int_equal(vs_store_check_bucket("1.2.3.a", &err), VS_OK);
  assert_int_equal(vs_store_check_bucket(NULL, &err), VS_ERR_INVALID);
}

static void test_policy_names(void **state)
{
  vs_on_existing p = VS_ON_EXISTING_OVERWRITE;
  (void)state;
  assert_int_equal(vs_on_existing_parse("version", &p), VS_OK);
  assert_int_equal(p, VS_ON_EXISTING_VERSION);
  assert_int_equal(vs_on_existing_parse("reject", &p), VS_OK);
  assert_int_equal(p, VS_ON_EXISTING_REJECT);
  assert_int_equal(vs_on_existing_parse("overwrite", &p), VS_OK);
  assert_int_equal(p, VS_ON_EXISTING_OVERWRITE);
  assert_int_equal(vs_on_existing_parse("Version", &p), VS_ERR_INVALID);
  assert_int_equal(vs_on_existing_parse("", &p), VS_ERR_INVALID);
  assert_int_equal(vs_on_existing_parse(NULL, &p), VS_ERR_INVALID);
  assert_int_equal(p, VS_ON_EXISTING_OVERWRITE); /* untouched on error */
  assert_string_equal(vs_on_existing_name(VS_ON_EXISTING_VERSION), "version");
  assert_string_equal(vs_on_existing_name(VS_ON_EXISTING_REJECT), "reject");
  assert_string_equal(vs_on_existing_name(VS_ON_EXISTING_OVERWRITE),
                      "overwrite");
  assert_string_equal(vs_on_existing_name((vs_on_existing)7), "unknown");
}

/* No copy test through a store looks at the verified checksum, so the
 * source's fields (and "" read as none) are checked here. */
static void test_copy_commit(void **state)
{
  vs_object_info src;
  vs_commit c = {0}, cc;
  (void)state;
  memset(&src, 0, sizeof(src));
  src.bytes = 42;
  strcpy(src.sha256, "ab");
  strcpy(src.md5, "cd");
  strcpy(src.checksum_alg, "crc32");
  strcpy(src.checksum, "AAAAAA==");
  c.bytes = 7;
  c.sha256 = "";
  c.md5 = "ff";
  c.checksum_alg = "sha1";
  c.checksum = "x";
  c.content_type = "text/x-copy";
  c.headers = "x-amz-meta-a:1\n";
  c.policy = VS_ON_EXISTING_REJECT;
  c.if_none_match = 1;
  c.if_match = "e1";
  c.defer_overwrite = 1;
  vs_store_copy_commit(&c, &src, &cc);
  assert_int_equal(cc.bytes, 42);
  assert_ptr_equal(cc.sha256, src.sha256);
  assert_ptr_equal(cc.md5, src.md5);
  assert_ptr_equal(cc.checksum_alg, src.checksum_alg);
  assert_ptr_equal(cc.checksum, src.checksum);
  assert_ptr_equal(cc.content_type, c.content_type);
  assert_ptr_equal(cc.headers, c.headers);
  assert_ptr_equal(cc.if_match, c.if_match);
  assert_int_equal(cc.policy, VS_ON_EXISTING_REJECT);
  assert_int_equal(cc.if_none_match, 1);
  assert_int_equal(cc.defer_overwrite, 1);
  /* a source without an MD5 or a checksum: none, not the caller's */
  src.md5[0] = 0;
  src.checksum_alg[0] = 0;
  vs_store_copy_commit(&c, &src, &cc);
  assert_null(cc.md5);
  assert_null(cc.checksum_alg);
  assert_null(cc.checksum);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_good_keys),   cmocka_unit_test(test_key_length),
    cmocka_unit_test(test_bad_keys),    cmocka_unit_test(test_nul_inside),
    cmocka_unit_test(test_s3_keys),     cmocka_unit_test(test_copy_commit),
    cmocka_unit_test(test_buckets),     cmocka_unit_test(test_policy_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
