/* server: conditional GET/HEAD (precond.c), row by row: each header alone,
 * S3's precedence rules, entity-tag lists, and the three HTTP-date forms
 * of RFC 9110 §5.6.7 (a date that does not parse is ignored). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "server/precond.h"

#define E "\"0123456789abcdef0123456789abcdef\""
#define ETAG "0123456789abcdef0123456789abcdef"
#define X "\"ffffffffffffffffffffffffffffffff\""
/* the object's Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT */
#define T 784111777
#define BEFORE "Sun, 06 Nov 1994 07:49:37 GMT"
#define SAME "Sun, 06 Nov 1994 08:49:37 GMT"
#define AFTER "Sun, 06 Nov 1994 09:49:37 GMT"

static const struct {
  const char *im, *inm, *ims, *ius;
  unsigned want;
} rows[] = {
  {NULL, NULL, NULL, NULL, 200},
  /* each alone */
  {E, NULL, NULL, NULL, 200},
  {X, NULL, NULL, NULL, 412},
  {"*", NULL, NULL, NULL, 200},
  {ETAG, NULL, NULL, NULL, 200},              /* unquoted, as S3 takes it */
  {X ", " E, NULL, NULL, NULL, 200},
  {"W/" E, NULL, NULL, NULL, 412},            /* If-Match compares strong */
  {"", NULL, NULL, NULL, 412},
  {NULL, E, NULL, NULL, 304},
  {NULL, X, NULL, NULL, 200},
  {NULL, "*", NULL, NULL, 304},
  {NULL, "W/" E, NULL, NULL, 304},            /* If-None-Match: weak */
  {NULL, X "," E, NULL, NULL, 304},
  {NULL, NULL, BEFORE, NULL, 200},
  {NULL, NULL, SAME, NULL, 304},
  {NULL, NULL, AFTER, NULL, 304},
  {NULL, NULL, "yesterday", NULL, 200},       /* ignored */
  {NULL, NULL, NULL, BEFORE, 412},
  {NULL, NULL, NULL, SAME, 200},
  {NULL, NULL, NULL, AFTER, 200},
  {NULL, NULL, NULL, "garbage", 200},         /* ignored */
  /* S3's rules: If-Match true + If-Unmodified-Since false -> 200 */
  {E, NULL, NULL, BEFORE, 200},
  /* If-None-Match false + If-Modified-Since true -> 304 */
  {NULL, E, BEFORE, NULL, 304},
  /* If-None-Match true decides: If-Modified-Since not looked at */
  {NULL, X, AFTER, NULL, 200},
  /* 412 before 304 */
  {X, E, NULL, NULL, 412},
  {NULL, E, NULL, BEFORE, 412},
  {E, E, NULL, NULL, 304},
  {E, X, BEFORE, AFTER, 200},
};

static void test_rows(void **state)
{
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    vs__conds c = {rows[i].im, rows[i].inm, rows[i].ims, rows[i].ius};
    unsigned got = vs__precond_eval(&c, ETAG, T);
    if(got != rows[i].want)
      fail_msg("row %zu: got %u, want %u", i, got, rows[i].want);
  }
}

static void test_dates(void **state)
{
  static const struct {
    const char *s;
    int ok;
    int64_t t;
  } d[] = {
    {"Sun, 06 Nov 1994 08:49:37 GMT", 0, T},
    {"Sunday, 06-Nov-94 08:49:37 GMT", 0, T},   /* RFC 850 */
    {"Sun Nov  6 08:49:37 1994", 0, T},         /* asctime */
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0, 0},
    {"Fri, 31 Dec 9999 23:59:59 GMT", 0, 253402300799},
    {"Mon, 29 Feb 2016 12:00:00 GMT", 0, 1456747200},
    {"Sun, 06 Nov 1994 08:49:37 UTC", -1, 0},
    {"Sun, 06 Nov 1994 08:49:37", -1, 0},
    {"Sun, 06 Foo 1994 08:49:37 GMT", -1, 0},
    {"Sun, 32 Nov 1994 08:49:37 GMT", -1, 0},
    {"Sun, 06 Nov 1994 24:49:37 GMT", -1, 0},
    {"Sun, 06 Nov 1994 08:49:37 GMT trailing", -1, 0},
    {"1994-11-06T08:49:37Z", -1, 0},
    {"", -1, 0},
  };
  size_t i;
  (void)state;
  assert_int_equal(vs__http_date_parse(NULL, NULL), -1);
  for(i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
    int64_t t = -12345;
    int rc = vs__http_date_parse(d[i].s, &t);
    if(rc != d[i].ok || (rc == 0 && t != d[i].t))
      fail_msg("'%s': rc %d t %lld, want rc %d t %lld", d[i].s, rc,
               (long long)t, d[i].ok, (long long)d[i].t);
  }
}

static void test_lists(void **state)
{
  (void)state;
  assert_true(vs__etag_listed(" " E " ", ETAG, 1));
  assert_true(vs__etag_listed("\"a\",  " E, ETAG, 1));
  assert_false(vs__etag_listed("\"" ETAG, ETAG, 1)); /* half-quoted */
  assert_false(vs__etag_listed(",,", ETAG, 0));
  assert_false(vs__etag_listed(NULL, ETAG, 0));
  assert_false(vs__etag_listed("\"0123456789abcdef0123456789abcde\"", ETAG,
                               0));
  assert_true(vs__etag_listed(" * ", ETAG, 1));
  assert_false(vs__etag_listed("**", ETAG, 1));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rows),
    cmocka_unit_test(test_dates),
    cmocka_unit_test(test_lists),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
