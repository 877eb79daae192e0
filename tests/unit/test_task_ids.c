/* task: taskUUIDs and object keys PREFIX/YYYY/MM/DD/<taskUUID>.<ext>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util/uuid.h"
#include "vsink/task.h"

#define U "aac49721-1964-481a-ae78-8a4e29b91402"

static void test_new_uuid(void **state)
{
  char a[37], b[37];
  vs_err err;
  (void)state;
  assert_int_equal(vs_task_new_uuid(a, &err), VS_OK);
  assert_int_equal(vs_task_new_uuid(b, &err), VS_OK);
  assert_int_equal(strlen(a), 36);
  assert_true(vs_uuid_is_v4(a, 36));
  assert_true(vs_uuid_is_v4(b, 36));
  assert_string_not_equal(a, b);
}

static void test_keys(void **state)
{
  char key[256];
  vs_err err;
  (void)state;
  /* 2026-11-24T12:15:00Z */
  assert_int_equal(vs_task_object_key("videos", 1795522500, U, "MP4", key,
                                      sizeof(key), &err),
                   VS_OK);
  assert_string_equal(key, "videos/2026/11/24/" U ".mp4");
  assert_int_equal(vs_task_object_key("a/b/", 1795522500, U, "webm", key,
                                      sizeof(key), &err),
                   VS_OK);
  assert_string_equal(key, "a/b/2026/11/24/" U ".webm");
  assert_int_equal(vs_task_object_key("", 0, U, "MOV", key, sizeof(key),
                                      &err),
                   VS_OK);
  assert_string_equal(key, "1970/01/01/" U ".mov");
  assert_int_equal(vs_task_object_key(NULL, 951782400, U, "MP4", key,
                                      sizeof(key), &err),
                   VS_OK); /* 2000-02-29, a leap day */
  assert_string_equal(key, "2000/02/29/" U ".mp4");
  assert_int_equal(vs_task_object_key("p", 0, U, "gif", key, sizeof(key),
                                      &err),
                   VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "gif"));
  assert_int_equal(vs_task_object_key("p", 0, "not-a-uuid", "MP4", key,
                                      sizeof(key), &err),
                   VS_ERR_INVALID);
  assert_int_equal(vs_task_object_key("p", 0, U "x", "MP4", key, sizeof(key),
                                      &err),
                   VS_ERR_INVALID);
  assert_int_equal(vs_task_object_key("p", 0, U, "MP4", key, 20, &err),
                   VS_ERR_TOOLARGE);
  assert_string_equal(vs_task_format_ext("Webm"), "webm");
  assert_null(vs_task_format_ext(NULL));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_new_uuid),
    cmocka_unit_test(test_keys),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
