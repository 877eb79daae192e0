/* report: what tests/fuzz/fuzz_manifest_line found, kept as tests.
 *
 * 1. A stored event whose sha256 has 64 characters, not all hex: the fold
 *    shifted vs__hexval's -1 left (undefined; gcc's and clang's UBSan both
 *    stop there). The row must simply have no SHA-256.
 * 2. A line without "v" (or any absent number the fold reads): the span
 *    helper computed NULL + 0 before looking at the span's kind (undefined;
 *    clang's UBSan stops there, gcc's does not). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_report_lines.h"

static vs_report *fold_one(const char *line, vs_report_stats *st)
{
  vs_report_opts o = {1, 1};
  vs_report *r;
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  assert_int_equal(vs_report_add_line(r, line, strlen(line), "seg:1", NULL),
                   0);
  assert_int_equal(vs_report_finish(r, 0, 3600 * 1000, NULL), 0);
  vs_report_get_stats(r, st);
  return r;
}

static void test_stored_sha256_not_hex(void **state)
{
  char l[LINE_MAX_BYTES], *sha;
  vs_report_stats st;
  vs_report *r;
  rowset s;
  (void)state;
  snprintf(l, sizeof(l), "%s", sto_line(at(1, 0), 1, 0, 1234));
  sha = strstr(l, "\"sha256\":\"") + 10;
  sha[0] = 'm'; /* first digit: the shift happened at once */
  r = fold_one(l, &st);
  assert_int_equal(st.stored, 1);
  assert_int_equal(st.malformed, 0);
  s = collect(r, NULL);
  assert_int_equal(s.n, 1);
  assert_string_equal(s.v[0].sha256, "");
  assert_int_equal(s.v[0].bytes, 1234);
  free(s.v);
  vs_report_free(r);
  sha[0] = '0';
  sha[63] = 'G'; /* last digit: every earlier one was fine */
  r = fold_one(l, &st);
  s = collect(r, NULL);
  assert_int_equal(s.n, 1);
  assert_string_equal(s.v[0].sha256, "");
  free(s.v);
  vs_report_free(r);
}

static void test_absent_number(void **state)
{
  vs_report_stats st;
  vs_report *r;
  (void)state;
  r = fold_one("{\"event\":\"stored\"}", &st);
  assert_int_equal(st.malformed, 1);
  assert_non_null(strstr(st.first_problem, "\"v\" is not 1"));
  vs_report_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_stored_sha256_not_hex),
    cmocka_unit_test(test_absent_number),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
