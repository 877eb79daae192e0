/* util/cksum: S3's checksum algorithms against published vectors, against
 * bit-at-a-time references written here from the polynomials, the SSE4.2
 * path against the tables, and streaming against one-shot for every split.
 * The last test prints each algorithm's speed (MB/s, CPU seconds per GiB);
 * VSINK_CKSUM_BENCH_MIB sets its size (default 64, 1 under valgrind). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "util/cksum.h"
#include "util/cksum_tab.h"
#include "util/enc.h"

static const vs_cksum_alg ALL[] = {VS_CKSUM_CRC32, VS_CKSUM_CRC32C,
                                   VS_CKSUM_CRC64NVME, VS_CKSUM_SHA1,
                                   VS_CKSUM_SHA256};
#define N_ALL (sizeof(ALL) / sizeof(ALL[0]))

/* ---- references: one bit at a time, straight from the definitions ------- */

static uint64_t ref_crc(uint64_t poly, int width, const uint8_t *p, size_t n)
{
  uint64_t mask = width == 64 ? ~0ULL : (1ULL << width) - 1, c = mask;
  size_t i;
  int b;
  for(i = 0; i < n; i++) {
    c ^= p[i];
    for(b = 0; b < 8; b++)
      c = (c >> 1) ^ ((c & 1) ? poly : 0);
  }
  return ~c & mask;
}

#define REF_CRC32(p, n) ref_crc(0xEDB88320u, 32, p, n)
#define REF_CRC32C(p, n) ref_crc(0x82F63B78u, 32, p, n)
#define REF_CRC64(p, n) ref_crc(0x9A6C9329AC4BC9B5ull, 64, p, n)

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  size_t i;
  for(i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p[i] = (uint8_t)(x >> 24);
  }
}

static size_t one_shot(vs_cksum_alg alg, const void *p, size_t n,
                       uint8_t out[VS_CKSUM_MAX])
{
  vs_cksum c;
  assert_int_equal(vs_cksum_init(&c, alg), 0);
  vs_cksum_update(&c, p, n);
  return vs_cksum_final(&c, out);
}

static void digest_hex(vs_cksum_alg alg, const char *s, char *hex)
{
  uint8_t d[VS_CKSUM_MAX];
  size_t n = one_shot(alg, s, strlen(s), d);
  assert_int_equal(n, vs_cksum_len(alg));
  vs_hex(d, n, hex);
}

/* ---- published vectors --------------------------------------------------- */

static void test_check_values(void **state)
{
  static const struct {
    vs_cksum_alg alg;
    const char *in, *hex;
  } V[] = {
    /* the CRC catalogue's "check" of each CRC: the CRC of "123456789" */
    {VS_CKSUM_CRC32, "123456789", "cbf43926"},
    {VS_CKSUM_CRC32C, "123456789", "e3069283"},
    {VS_CKSUM_CRC64NVME, "123456789", "ae8b14860a799888"},
    {VS_CKSUM_SHA1, "123456789", "f7c3bc1d808e04732adf679965ccc34ca7ae3441"},
    {VS_CKSUM_SHA256, "123456789", "15e2b0d3c33891ebb0f1ef609ec419420c20e320"
                                   "ce94c65fbc8c3312448eb225"},
    /* FIPS 180 "abc" */
    {VS_CKSUM_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {VS_CKSUM_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
                             "b410ff61f20015ad"},
    /* nothing at all */
    {VS_CKSUM_CRC32, "", "00000000"},
    {VS_CKSUM_CRC32C, "", "00000000"},
    {VS_CKSUM_CRC64NVME, "", "0000000000000000"},
    {VS_CKSUM_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
                          "a495991b7852b855"},
  };
  char hex[2 * VS_CKSUM_MAX + 1];
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(V) / sizeof(V[0]); i++) {
    digest_hex(V[i].alg, V[i].in, hex);
    assert_string_equal(hex, V[i].hex);
  }
}

/* RFC 3720 (iSCSI) B.4: CRC32C of 32-byte patterns. */
static void test_crc32c_rfc3720(void **state)
{
  uint8_t buf[32];
  int i;
  (void)state;
  memset(buf, 0, 32);
  assert_int_equal(vs_crc32c(0, buf, 32), 0x8a9136aa);
  assert_int_equal(vs_crc32c_sw(0, buf, 32), 0x8a9136aa);
  memset(buf, 0xff, 32);
  assert_int_equal(vs_crc32c(0, buf, 32), 0x62a8ab43);
  assert_int_equal(vs_crc32c_sw(0, buf, 32), 0x62a8ab43);
  for(i = 0; i < 32; i++)
    buf[i] = (uint8_t)i;
  assert_int_equal(vs_crc32c(0, buf, 32), 0x46dd794e);
  assert_int_equal(vs_crc32c_sw(0, buf, 32), 0x46dd794e);
  for(i = 0; i < 32; i++)
    buf[i] = (uint8_t)(31 - i);
  assert_int_equal(vs_crc32c(0, buf, 32), 0x113fdb5c);
  assert_int_equal(vs_crc32c_sw(0, buf, 32), 0x113fdb5c);
}

/* What goes on the wire: base64 of the big-endian digest. */
static void test_wire_form(void **state)
{
  static const struct {
    vs_cksum_alg alg;
    const char *b64;
  } V[] = {
    {VS_CKSUM_CRC32, "y/Q5Jg=="},
    {VS_CKSUM_CRC32C, "4waSgw=="},
    {VS_CKSUM_CRC64NVME, "rosUhgp5mIg="},
    {VS_CKSUM_SHA1, "98O8HYCOBHMq32eZZczDTKeuNEE="},
    {VS_CKSUM_SHA256, "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="},
  };
  uint8_t d[VS_CKSUM_MAX];
  char b64[VS_CKSUM_B64_MAX];
  size_t i, n;
  (void)state;
  for(i = 0; i < sizeof(V) / sizeof(V[0]); i++) {
    n = one_shot(V[i].alg, "123456789", 9, d);
    vs_b64(d, n, b64);
    assert_string_equal(b64, V[i].b64);
  }
}

/* ---- the tables and the paths -------------------------------------------- */

/* Every entry of the generated tables, rebuilt from the polynomial. */
static void test_tables(void **state)
{
  int k, n;
  (void)state;
  for(k = 0; k < 8; k++)
    for(n = 0; n < 256; n++) {
      /* T[k][n]: the register after byte n then k zero bytes, from 0 */
      uint64_t c32 = n, c64 = n;
      int b, z;
      for(z = 0; z <= k; z++)
        for(b = 0; b < 8; b++) {
          c32 = (c32 >> 1) ^ ((c32 & 1) ? 0x82F63B78u : 0);
          c64 = (c64 >> 1) ^ ((c64 & 1) ? 0x9A6C9329AC4BC9B5ull : 0);
        }
      assert_int_equal(crc32c_tab[k][n], c32);
      assert_true(crc64nvme_tab[k][n] == c64);
    }
}

/* Random data at every alignment and many lengths: the fast paths equal the
 * bit-at-a-time references, and zlib's CRC32 is the CRC32 S3 means. */
static void test_random_against_reference(void **state)
{
  enum { CAP = 4096 + 16 };
  uint8_t *buf = malloc(CAP);
  size_t off, len;
  (void)state;
  assert_non_null(buf);
  fill_random(buf, CAP, 7);
  for(off = 0; off < 8; off++)
    for(len = 0; len + off < CAP; len = len < 80 ? len + 1 : len * 2 + 3) {
      const uint8_t *p = buf + off;
      uint32_t c32c = (uint32_t)REF_CRC32C(p, len);
      assert_int_equal(vs_crc32c(0, p, len), c32c);
      assert_int_equal(vs_crc32c_sw(0, p, len), c32c);
      assert_true(vs_crc64nvme(0, p, len) == REF_CRC64(p, len));
      assert_int_equal(crc32_z(0, p, len), REF_CRC32(p, len));
    }
  free(buf);
}

/* The hardware path is the one in use where the CPU has it; say which. */
static void test_hw_path(void **state)
{
  enum { N = 1 << 16 };
  uint8_t *buf = malloc(N);
  size_t i;
  (void)state;
  assert_non_null(buf);
  fill_random(buf, N, 99);
  for(i = 0; i < 50; i++) {
    size_t off = i * 7 % 64, len = (N - 64) - i * 1021;
    assert_int_equal(vs_crc32c(0, buf + off, len),
                     vs_crc32c_sw(0, buf + off, len));
  }
  print_message("CRC32C path: %s\n",
                vs_crc32c_hw() ? "SSE4.2 crc32 instruction" : "tables");
  free(buf);
}

/* ---- streaming ----------------------------------------------------------- */

/* For every split point (and every pair of them on a short input), the
 * pieces give what the whole gives. */
static void test_incremental_every_split(void **state)
{
  enum { N = 600, M = 40 };
  uint8_t *buf = malloc(N), want[VS_CKSUM_MAX], got[VS_CKSUM_MAX];
  size_t a, s, t, wlen;
  (void)state;
  assert_non_null(buf);
  fill_random(buf, N, 3);
  for(a = 0; a < N_ALL; a++) {
    wlen = one_shot(ALL[a], buf, N, want);
    assert_int_equal(wlen, vs_cksum_len(ALL[a]));
    for(s = 0; s <= N; s++) {
      vs_cksum c;
      assert_int_equal(vs_cksum_init(&c, ALL[a]), 0);
      vs_cksum_update(&c, buf, s);
      vs_cksum_update(&c, buf + s, N - s);
      assert_int_equal(vs_cksum_final(&c, got), wlen);
      assert_memory_equal(got, want, wlen);
    }
    wlen = one_shot(ALL[a], buf, M, want);
    for(s = 0; s <= M; s++)
      for(t = s; t <= M; t++) {
        vs_cksum c;
        assert_int_equal(vs_cksum_init(&c, ALL[a]), 0);
        vs_cksum_update(&c, buf, s);
        vs_cksum_update(&c, buf + s, t - s);
        vs_cksum_update(&c, buf + t, M - t);
        assert_int_equal(vs_cksum_final(&c, got), wlen);
        assert_memory_equal(got, want, wlen);
      }
  }
  free(buf);
}

static void test_names_and_lifecycle(void **state)
{
  vs_cksum c;
  uint8_t d[VS_CKSUM_MAX];
  size_t a;
  (void)state;
  for(a = 0; a < N_ALL; a++) {
    assert_int_equal(vs_cksum_parse(vs_cksum_name(ALL[a])), ALL[a]);
    assert_int_equal(vs_cksum_parse(vs_cksum_label(ALL[a])), ALL[a]);
  }
  assert_string_equal(vs_cksum_name(VS_CKSUM_CRC64NVME), "crc64nvme");
  assert_string_equal(vs_cksum_label(VS_CKSUM_CRC32C), "CRC32C");
  assert_int_equal(vs_cksum_parse("Crc32C"), VS_CKSUM_CRC32C);
  assert_int_equal(vs_cksum_parse("md5"), VS_CKSUM_NONE);
  assert_int_equal(vs_cksum_parse("crc32 "), VS_CKSUM_NONE);
  assert_int_equal(vs_cksum_parse(""), VS_CKSUM_NONE);
  assert_int_equal(vs_cksum_parse(NULL), VS_CKSUM_NONE);
  assert_null(vs_cksum_name(VS_CKSUM_NONE));
  assert_null(vs_cksum_label((vs_cksum_alg)99));
  assert_int_equal(vs_cksum_len(VS_CKSUM_SHA1), 20);
  assert_int_equal(vs_cksum_len(VS_CKSUM__COUNT), 0);
  assert_int_equal(vs_cksum_init(&c, VS_CKSUM_NONE), -1);
  assert_int_equal(vs_cksum_final(&c, d), 0);
  assert_int_equal(vs_cksum_init(&c, (vs_cksum_alg)42), -1);
  /* abandoned half-way: released once, twice, then finalized: no leak, no
   * double free (valgrind runs this) */
  assert_int_equal(vs_cksum_init(&c, VS_CKSUM_SHA256), 0);
  vs_cksum_update(&c, "x", 1);
  vs_cksum_release(&c);
  vs_cksum_release(&c);
  assert_int_equal(vs_cksum_final(&c, d), 0);
}

/* ---- speed --------------------------------------------------------------- */

static double cpu_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *name, size_t bytes, double s)
{
  double mb = bytes / 1e6, gib = bytes / (double)(1ull << 30);
  print_message("  %-22s %8.0f MB/s   %6.3f CPU s/GiB\n", name,
                s > 0 ? mb / s : 0.0, s / gib);
}

/* Fed in 16 KiB pieces, as libmicrohttpd hands the sink a body. */
static void test_speed(void **state)
{
  const char *env = getenv("VSINK_CKSUM_BENCH_MIB");
  size_t mib = env ? strtoul(env, NULL, 10)
                   : getenv("VSINK_UNDER_VALGRIND") ? 1 : 64;
  size_t piece = 16384, total = mib << 20, done, a;
  uint8_t *buf = malloc(piece), d[VS_CKSUM_MAX];
  double t0;
  (void)state;
  assert_non_null(buf);
  fill_random(buf, piece, 5);
  print_message("checksum speed, %zu MiB in %zu-byte pieces:\n", mib, piece);
  for(a = 0; a < N_ALL; a++) {
    vs_cksum c;
    assert_int_equal(vs_cksum_init(&c, ALL[a]), 0);
    t0 = cpu_s();
    for(done = 0; done < total; done += piece)
      vs_cksum_update(&c, buf, piece);
    assert_int_equal(vs_cksum_final(&c, d), vs_cksum_len(ALL[a]));
    report(vs_cksum_label(ALL[a]), total, cpu_s() - t0);
  }
  t0 = cpu_s();
  for(done = 0; done < total; done += piece)
    (void)vs_crc32c_sw(0, buf, piece);
  report("CRC32C (tables only)", total, cpu_s() - t0);
  { /* the digest the sink computes anyway for the ETag, for scale */
    EVP_MD_CTX *md5 = EVP_MD_CTX_new();
    unsigned len;
    assert_non_null(md5);
    EVP_DigestInit_ex(md5, EVP_md5(), NULL);
    t0 = cpu_s();
    for(done = 0; done < total; done += piece)
      EVP_DigestUpdate(md5, buf, piece);
    EVP_DigestFinal_ex(md5, d, &len);
    report("MD5 (for scale)", total, cpu_s() - t0);
    EVP_MD_CTX_free(md5);
  }
  free(buf);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_check_values),
    cmocka_unit_test(test_crc32c_rfc3720),
    cmocka_unit_test(test_wire_form),
    cmocka_unit_test(test_tables),
    cmocka_unit_test(test_random_against_reference),
    cmocka_unit_test(test_hw_path),
    cmocka_unit_test(test_incremental_every_split),
    cmocka_unit_test(test_names_and_lifecycle),
    cmocka_unit_test(test_speed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
