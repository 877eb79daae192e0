/* server: the Range header, RFC 9110 §14.1.2, row by row. Invalid forms are
 * ignored (the whole object), unsatisfiable ones are 416, and a served
 * range never reaches past the object. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "server/internal.h"

#define BIG UINT64_MAX

static const struct {
  const char *h;
  uint64_t size;
  int want;
  uint64_t off, len;
} rows[] = {
  {"bytes=0-0", 10, 0, 0, 1},
  {"bytes=0-9", 10, 0, 0, 10},
  {"bytes=2-5", 10, 0, 2, 4},
  {"bytes=2-", 10, 0, 2, 8},
  {"bytes=5-100", 10, 0, 5, 5},
  {"bytes=-3", 10, 0, 7, 3},
  {"bytes=-30", 10, 0, 0, 10},
  {"BYTES=1-1", 10, 0, 1, 1},                /* the unit is case-blind */
  {"bytes=0-99999999999999999999999", 10, 0, 0, 10}, /* saturates */
  {"bytes=-99999999999999999999999", 10, 0, 0, 10},
  /* unsatisfiable: 416 */
  {"bytes=10-", 10, -1, 0, 0},
  {"bytes=10-20", 10, -1, 0, 0},
  {"bytes=99999999999999999999999-", 10, -1, 0, 0},
  {"bytes=-0", 10, -1, 0, 0},
  {"bytes=-5", 0, -1, 0, 0},                 /* nothing in an empty object */
  {"bytes=0-", 0, -1, 0, 0},
  {"bytes=0-0", 0, -1, 0, 0},
  /* invalid: ignored */
  {NULL, 10, 1, 0, 0},
  {"", 10, 1, 0, 0},
  {"bytes=", 10, 1, 0, 0},
  {"bytes=-", 10, 1, 0, 0},
  {"bytes=2--3", 10, 1, 0, 0},
  {"bytes=+2-3", 10, 1, 0, 0},
  {"bytes= 2-3", 10, 1, 0, 0},
  {"bytes=2 -3", 10, 1, 0, 0},
  {"bytes=2-3 ", 10, 1, 0, 0},
  {"bytes=2-+3", 10, 1, 0, 0},
  {"bytes=3-2", 10, 1, 0, 0},                /* last < first */
  {"bytes=0-1,3-4", 10, 1, 0, 0},            /* several ranges */
  {"bytes=--3", 10, 1, 0, 0},
  {"bytes=0x1-2", 10, 1, 0, 0},
  {"items=0-1", 10, 1, 0, 0},
  {"bytes 0-1", 10, 1, 0, 0},
  {"bytes=1", 10, 1, 0, 0},
};

static void test_rows(void **state)
{
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    uint64_t off = BIG, len = BIG;
    int got = vs__range_parse(rows[i].h, rows[i].size, &off, &len);
    if(got != rows[i].want)
      fail_msg("row %zu '%s' size %llu: got %d, want %d", i,
               rows[i].h ? rows[i].h : "(none)",
               (unsigned long long)rows[i].size, got, rows[i].want);
    if(got == 0 && (off != rows[i].off || len != rows[i].len))
      fail_msg("row %zu '%s': [%llu,+%llu), want [%llu,+%llu)", i, rows[i].h,
               (unsigned long long)off, (unsigned long long)len,
               (unsigned long long)rows[i].off,
               (unsigned long long)rows[i].len);
  }
}

/* Every served range lies inside the object, for every size near the
 * edges. */
static void test_inside(void **state)
{
  static const char *hs[] = {"bytes=0-", "bytes=-1", "bytes=-2", "bytes=1-",
                             "bytes=1-1", "bytes=0-18446744073709551615",
                             "bytes=18446744073709551614-"};
  uint64_t size;
  size_t i;
  (void)state;
  for(size = 0; size < 5; size++)
    for(i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
      uint64_t off, len;
      if(vs__range_parse(hs[i], size, &off, &len) == 0) {
        assert_true(len > 0);
        assert_true(off < size && len <= size - off);
      }
    }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rows),
    cmocka_unit_test(test_inside),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
