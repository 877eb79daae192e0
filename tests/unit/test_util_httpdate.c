/* util/clock: vs_time_parse_http, the one HTTP-date reader (conditional
 * GETs, SigV2's Date, SigV4's Date): RFC 9110's three forms, the zone
 * aliases SigV2 clients sign, and what must not parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/clock.h"

#define T 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */

typedef struct row {
  const char *s;
  int rc;    /* with GMT alone */
  int rc_z;  /* with the zone aliases */
  int64_t t;
} row;

static const row rows[] = {
  {"Sun, 06 Nov 1994 08:49:37 GMT", 0, 0, T},
  {"Sunday, 06-Nov-94 08:49:37 GMT", 0, 0, T},   /* RFC 850 */
  {"Sun Nov  6 08:49:37 1994", 0, 0, T},         /* asctime */
  {"  Sun, 06 Nov 1994 08:49:37 GMT \t", 0, 0, T},
  {"Sun, 6 Nov 1994 08:49:37 GMT", 0, 0, T},     /* one-digit day, read */
  {"Sun, 06 Nov 1994 08:49:37 UTC", -1, 0, T},
  {"Sun, 06 Nov 1994 08:49:37 +0000", -1, 0, T},
  {"Sun, 06 Nov 1994 08:49:37 -0000", -1, 0, T},
  {"Sun, 06 Nov 1994 08:49:37 +0100", -1, -1, 0},
  {"Sun, 06 Nov 1994 08:49:37 gmt", -1, -1, 0},
  {"Thursday, 01-Jan-70 00:00:00 GMT", 0, 0, 0},  /* 70 is 1970 */
  {"Wednesday, 31-Dec-69 23:59:59 GMT", 0, 0, 3155759999LL}, /* 2069 */
  {"Thu, 01 Jan 1970 00:00:00 GMT", 0, 0, 0},
  {"Fri, 31 Dec 9999 23:59:59 GMT", 0, 0, 253402300799LL},
  {"Mon, 01 Jan 0001 00:00:00 GMT", 0, 0, -62135596800LL},
  {"Mon, 29 Feb 2016 12:00:00 GMT", 0, 0, 1456747200},
  {"Tue, 30 Jun 2015 23:59:60 GMT", 0, 0, 1435708799}, /* leap: :59 */
  {"Sun, 29 Feb 2015 12:00:00 GMT", -1, -1, 0},   /* not a leap year */
  {"Sun, 31 Apr 1994 08:49:37 GMT", -1, -1, 0},
  {"Sun, 00 Nov 1994 08:49:37 GMT", -1, -1, 0},
  {"Sun, 32 Nov 1994 08:49:37 GMT", -1, -1, 0},
  {"Sun, 06 Nov 1994 24:49:37 GMT", -1, -1, 0},
  {"Sun, 06 Nov 1994 08:60:37 GMT", -1, -1, 0},
  {"Sun, 06 Nov 1994 08:49:61 GMT", -1, -1, 0},
  {"Sun, 06 Foo 1994 08:49:37 GMT", -1, -1, 0},
  {"Sun, 06 nov 1994 08:49:37 GMT", -1, -1, 0},
  {"Sun, 06 Nov 0000 08:49:37 GMT", -1, -1, 0},
  {"Sun, 06 Nov 1994 08:49:37", -1, -1, 0},
  {"Sun, 06 Nov 1994 08:49:37 GMT trailing", -1, -1, 0},
  {"Sun Nov  6 08:49:37 1994 GMT", -1, -1, 0},
  {"1994-11-06T08:49:37Z", -1, -1, 0},
  {"19941106T084937Z", -1, -1, 0},
  {"", -1, -1, 0},
};

static void test_forms(void **state)
{
  size_t i;
  int z;
  (void)state;
  for(i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
    for(z = 0; z < 2; z++) {
      int64_t t = -12345;
      int want = z ? rows[i].rc_z : rows[i].rc;
      int rc = vs_time_parse_http(rows[i].s, z, &t);
      if(rc != want || (rc == 0 && t != rows[i].t) || (rc && t != -12345))
        fail_msg("'%s' (aliases %d): rc %d t %lld, want rc %d t %lld",
                 rows[i].s, z, rc, (long long)t, want,
                 (long long)rows[i].t);
    }
  assert_int_equal(vs_time_parse_http(NULL, 1, NULL), -1);
}

/* What vs_time_http writes reads back to the same second, any day. */
static void test_round_trip(void **state)
{
  int64_t s, t;
  char out[30];
  (void)state;
  for(s = -62135596800LL; s < 253402300800LL; s += 86400LL * 97 + 3677) {
    vs_time_http(s, out);
    assert_int_equal(vs_time_parse_http(out, 0, &t), 0);
    assert_int_equal(t, s);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_forms),
    cmocka_unit_test(test_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
