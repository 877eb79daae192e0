/* util: encodings, times, decimals, UUIDs, JSON strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/dec.h"
#include "util/enc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/utf8.h"
#include "util/uuid.h"

static void test_hex_b64(void **state)
{
  uint8_t raw[4] = {0xde, 0xad, 0xbe, 0xef}, back[8];
  char hex[9], b64[16];
  (void)state;
  vs_hex(raw, 4, hex);
  assert_string_equal(hex, "deadbeef");
  assert_int_equal(vs_unhex("DEADbeef", 4, back), 0);
  assert_memory_equal(back, raw, 4);
  assert_int_equal(vs_unhex("zz", 1, back), -1);
  vs_b64(raw, 4, b64);
  assert_string_equal(b64, "3q2+7w==");
  assert_int_equal(vs_unb64("3q2+7w==", 8, back, sizeof(back)), 4);
  assert_memory_equal(back, raw, 4);
  assert_int_equal(vs_unb64("3q2+7w=", 7, back, sizeof(back)), -1);
  assert_int_equal(vs_unb64("3q=+7w==", 8, back, sizeof(back)), -1);
  assert_int_equal(vs_unb64("3q2+7w==", 8, back, 3), -1);
}

static void test_times(void **state)
{
  char amz[17], rfc[25], http[30];
  int64_t s, ms;
  (void)state;
  vs_time_amz(1369353600, amz);
  assert_string_equal(amz, "20130524T000000Z");
  assert_int_equal(vs_time_parse_amz("20130524T000000Z", &s), 0);
  assert_int_equal(s, 1369353600);
  assert_int_equal(vs_time_parse_amz("20130230T000000Z", &s), -1);
  assert_int_equal(vs_time_parse_amz("20130524T000000", &s), -1);
  vs_time_rfc3339(1369353600123LL, rfc);
  assert_string_equal(rfc, "2013-05-24T00:00:00.123Z");
  assert_int_equal(vs_time_parse_rfc3339("2013-05-24T00:00:00.123Z", &ms), 0);
  assert_int_equal(ms, 1369353600123LL);
  assert_int_equal(vs_time_parse_rfc3339("2013-05-24T02:00:00+02:00", &ms), 0);
  assert_int_equal(ms, 1369353600000LL);
  assert_int_equal(vs_time_parse_rfc3339("2013-05-24", &ms), 0);
  assert_int_equal(ms, 1369353600000LL);
  assert_int_equal(vs_time_parse_rfc3339("2013-05-24T00:00", &ms), -1);
  vs_time_http(1369353600, http);
  assert_string_equal(http, "Fri, 24 May 2013 00:00:00 GMT");
}

static void test_decimals(void **state)
{
  vs_dec d, sum = 0;
  char out[VS_DEC_STRLEN];
  int i;
  (void)state;
  assert_int_equal(vs_dec_parse("0.0315", 6, &d), 0);
  for(i = 0; i < 10000; i++)
    assert_int_equal(vs_dec_add(sum, d, &sum), 0);
  vs_dec_format(sum, 2, out);
  assert_string_equal(out, "315.00");
  assert_int_equal(vs_dec_parse("1e3", 3, &d), -1);
  assert_int_equal(vs_dec_parse("0.00000000001", 13, &d), -1);
  assert_int_equal(vs_dec_parse(".", 1, &d), -1);
  assert_int_equal(vs_dec_parse("0.0062", 6, &d), 0);
  assert_int_equal(vs_dec_muldiv(d, 73, 10, &d), 0); /* 7.3 s at 480p */
  vs_dec_format(d, 0, out);
  assert_string_equal(out, "0.04526");
  assert_int_equal(vs_dec_from_json_number(0.0668, &d), 0);
  vs_dec_format(d, 0, out);
  assert_string_equal(out, "0.0668");
  assert_int_equal(vs_dec_from_json_number(0.1 + 0.2, &d), 0);
  vs_dec_format(d, 0, out);
  assert_string_equal(out, "0.3");
}

static void test_uuid_and_json(void **state)
{
  unsigned char rnd[16];
  char u[37], found[37];
  vs_buf b = VS_BUF_INIT;
  (void)state;
  memset(rnd, 0xff, sizeof(rnd));
  vs_uuid_format(rnd, u);
  assert_true(vs_uuid_is_v4(u, 36));
  assert_int_equal(u[14], '4');
  assert_true(vs_uuid_find_v4(
    "out/2026/11/24/6F1C2A3B-0D4E-4F5A-9B6C-7D8E9FA0B1C2.mp4", found));
  assert_string_equal(found, "6f1c2a3b-0d4e-4f5a-9b6c-7d8e9fa0b1c2");
  assert_false(vs_uuid_find_v4("out/6f1c2a3b-0d4e-1f5a-9b6c-7d8e9fa0b1c2",
                               found));
  vs_buf_add_json_str(&b, "a\"\\\n\x01\xff\xc3\xa9", 8);
  assert_string_equal(vs_buf_str(&b), "\"a\\\"\\\\\\u000a\\u0001\\ufffd\xc3\xa9\"");
  vs_buf_free(&b);
}

static void test_json_exact_numbers(void **state)
{
  const char *t = "{\"s\":\"a1\\\"2\",\"seed\":9223372036854775807,"
                  "\"arr\":[1.5,-2e3],\"cost\":0.0668}";
  cJSON *j = vs_json_parse(t, strlen(t));
  int64_t v;
  (void)state;
  assert_non_null(j);
  assert_string_equal(vs_json_number_text(cJSON_GetObjectItem(j, "seed")),
                      "9223372036854775807");
  assert_int_equal(vs_json_int64(cJSON_GetObjectItem(j, "seed"), 0,
                                 INT64_MAX, &v), 0);
  assert_true(v == INT64_MAX);
  assert_string_equal(
    vs_json_number_text(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "arr"), 1)),
    "-2e3");
  assert_int_equal(vs_json_int64(cJSON_GetObjectItem(j, "cost"), 0, 9, &v),
                   -1);
  assert_string_equal(vs_json_number_text(cJSON_GetObjectItem(j, "cost")),
                      "0.0668");
  cJSON_Delete(j);
  assert_null(vs_json_parse("{} x", 4));
  assert_null(vs_json_parse("{\"a\":", 5));
}

/* ASCII letters change case; every other byte, UTF-8 included, stays; the
 * output is cut to its buffer and always terminated. */
static void test_ascii_case(void **state)
{
  char out[32];
  (void)state;
  vs_ascii_upper(out, sizeof(out), "crc64nvme");
  assert_string_equal(out, "CRC64NVME");
  vs_ascii_lower(out, sizeof(out), "Full_Object-@[`{");
  assert_string_equal(out, "full_object-@[`{");
  vs_ascii_upper(out, sizeof(out), "z\xc3\xa9" "a");
  assert_string_equal(out, "Z\xc3\xa9" "A");
  vs_ascii_upper(out, 4, "abcdef");
  assert_string_equal(out, "ABC");
  vs_ascii_upper(out, 1, "abc");
  assert_string_equal(out, "");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_hex_b64),
    cmocka_unit_test(test_times),
    cmocka_unit_test(test_decimals),
    cmocka_unit_test(test_uuid_and_json),
    cmocka_unit_test(test_json_exact_numbers),
    cmocka_unit_test(test_ascii_case),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
