/* util: a digest on its own thread (bghash.c) equals the same digest
 * computed inline, for every way of cutting the stream against the
 * buffers (smaller, equal, larger, straddling), including nothing at all;
 * abandoning one half-way leaks nothing (valgrind runs this too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/bghash.h"

static void inline_md5(const unsigned char *p, size_t n, unsigned char *out)
{
  unsigned len;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  assert_non_null(c);
  EVP_DigestInit_ex(c, EVP_md5(), NULL);
  EVP_DigestUpdate(c, p, n);
  EVP_DigestFinal_ex(c, out, &len);
  EVP_MD_CTX_free(c);
}

static void test_equal(void **state)
{
  static const size_t caps[] = {1, 7, 64, 4096};
  static const size_t steps[] = {1, 3, 64, 65, 1000, 100000};
  size_t n = 300000, ci, si;
  unsigned char *data = malloc(n), want[16], got[16];
  unsigned len;
  (void)state;
  assert_non_null(data);
  for(ci = 0; ci < n; ci++)
    data[ci] = (unsigned char)(ci * 2654435761u >> 13);
  inline_md5(data, n, want);
  for(ci = 0; ci < sizeof(caps) / sizeof(caps[0]); ci++)
    for(si = 0; si < sizeof(steps) / sizeof(steps[0]); si++) {
      size_t off = 0, total = caps[ci] == 1 ? 5000 : n;
      unsigned char w[16];
      vs_bghash *h;
      EVP_MD_CTX *c = EVP_MD_CTX_new();
      assert_non_null(c);
      EVP_DigestInit_ex(c, EVP_md5(), NULL);
      EVP_DigestUpdate(c, data, 10); /* already fed inline, then moved */
      assert_int_equal(vs_bghash_start(&h, c, caps[ci]), 0);
      for(off = 10; off < total; off += steps[si])
        vs_bghash_update(h, data + off, total - off < steps[si]
                                            ? total - off : steps[si]);
      c = vs_bghash_finish(h);
      EVP_DigestFinal_ex(c, got, &len);
      EVP_MD_CTX_free(c);
      if(total == n)
        memcpy(w, want, 16);
      else
        inline_md5(data, total, w);
      if(memcmp(got, w, 16))
        fail_msg("cap %zu step %zu: digests differ", caps[ci], steps[si]);
    }
  free(data);
}

static void test_empty_and_abandoned(void **state)
{
  unsigned char got[16], want[16];
  unsigned len;
  char buf[1000] = {0};
  vs_bghash *h;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  (void)state;
  EVP_DigestInit_ex(c, EVP_md5(), NULL);
  assert_int_equal(vs_bghash_start(&h, c, 256), 0);
  c = vs_bghash_finish(h);
  EVP_DigestFinal_ex(c, got, &len);
  EVP_MD_CTX_free(c);
  inline_md5(NULL, 0, want);
  assert_memory_equal(got, want, 16);
  c = EVP_MD_CTX_new();
  EVP_DigestInit_ex(c, EVP_md5(), NULL);
  assert_int_equal(vs_bghash_start(&h, c, 256), 0);
  vs_bghash_update(h, buf, sizeof(buf));
  vs_bghash_free(h); /* half-way: the thread stops, nothing leaks */
  vs_bghash_free(NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_equal),
    cmocka_unit_test(test_empty_and_abandoned),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
