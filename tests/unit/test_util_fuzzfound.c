/* util: what the fuzz targets (tests/fuzz) found in util, kept as tests.
 *
 * 1. vs_json_parse took a NUL byte or a raw control character inside a
 *    string (cJSON allows both), and \u0000: every reader of the value as
 *    a C string then saw it cut short. fuzz_task_opts found a jobs line
 *    whose key "\0Came-image" became "" (an error naming no field); the
 *    same cut applies to a webhook's taskUUID or videoUUID. A trailing NUL
 *    byte also passed as white space. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/json.h"

static cJSON *parse_n(const char *t, size_t n)
{
  return vs_json_parse(t, n);
}

static void refused(const char *t, size_t n)
{
  cJSON *j = parse_n(t, n);
  if(j) {
    cJSON_Delete(j);
    fail_msg("accepted %zu bytes starting '%s'", n, t);
  }
}

static void test_nul_and_control_refused(void **state)
{
  static const char key_nul[] = "{\"\0Came-image\":\"x\"}";
  static const char value_nul[] = "{\"taskUUID\":\"ab\0cd\"}";
  static const char trailing_nul[] = "{\"a\":1}\0";
  (void)state;
  refused(key_nul, sizeof(key_nul) - 1);
  refused(value_nul, sizeof(value_nul) - 1);
  refused(trailing_nul, sizeof(trailing_nul) - 1);
  refused("{\"a\":\"x\ty\"}", 11);
  refused("{\"a\":\"x\ny\"}", 11);
  refused("{\"a\x1f\":1}", 9);
  refused("{\"a\":\"\\u0000\"}", 14);
  refused("[\"x\\u0000y\"]", 12);
}

static void test_escapes_still_accepted(void **state)
{
  static const char *const ok[] = {
    "{\"a\":\"x\\ty\\n\\u001f\"}", "{\"a\":\"\\\\u0000\"}",
    "{\"a\":\"\\u00e9\\ud83c\\udfac\"}", "[\"\\\"\",\"\x7f\xc3\xa9\"]",
    " {\"a\":[1,2.5,-3e2]}\r\n\t"};
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    cJSON *j = parse_n(ok[i], strlen(ok[i]));
    if(!j)
      fail_msg("refused '%s'", ok[i]);
    cJSON_Delete(j);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_nul_and_control_refused),
    cmocka_unit_test(test_escapes_still_accepted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
