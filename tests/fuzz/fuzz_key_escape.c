/* Fuzz target: the filesystem store's key escaping (store_fs_key.c).
 *
 * Input: "key1\0key2" (the first NUL splits; each cut to VS_KEY_MAX bytes).
 * For each key: encode -> decode is the identity; every component of the
 * path is a non-empty name of at most 255 bytes, neither "." nor ".."
 * (so no '/' inside a segment's name and no way out of the bucket's
 * folder); distinct keys never get the same path. The whole input read
 * as a path decodes only when the encoding would have made it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "../../src/store/fs/store_fs_int.h"

static void check_path(const char *path)
{
  const char *p = path, *c;
  FZ_ASSERT(*p, "empty path");
  for(;;) {
    c = p + strcspn(p, "/");
    FZ_ASSERT(c > p, "empty component in '%s'", path);
    FZ_ASSERT(c - p <= VS__NAME_MAX, "component of %zu bytes",
              (size_t)(c - p));
    FZ_ASSERT(!(c - p == 1 && p[0] == '.') &&
                !(c - p == 2 && p[0] == '.' && p[1] == '.'),
              "dot component in '%s'", path);
    if(!*c)
      return;
    p = c + 1;
  }
}

static void round_trip(const char *key, size_t n, char *path)
{
  char back[VS_KEY_MAX + 1];
  size_t pn = vs__fs_key_encode(key, n, path, VS__KEY_PATH_MAX);
  FZ_ASSERT(pn != (size_t)-1, "key of %zu bytes does not fit", n);
  FZ_ASSERT(pn == strlen(path), "length %zu of a %zu-byte path", pn,
            strlen(path));
  check_path(path);
  FZ_ASSERT(vs__fs_key_decode(path, back, sizeof(back)) == n &&
              !memcmp(back, key, n),
            "'%s' does not decode to its key", path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char p1[VS__KEY_PATH_MAX], p2[VS__KEY_PATH_MAX];
  char k1[VS_KEY_MAX + 1], k2[VS_KEY_MAX + 1], *in, back[VS_KEY_MAX + 1];
  const uint8_t *nul = memchr(data, 0, size);
  size_t n1 = nul ? (size_t)(nul - data) : size, n2 = 0;
  if(n1 > VS_KEY_MAX)
    n1 = VS_KEY_MAX;
  memcpy(k1, data, n1);
  k1[n1] = 0;
  if(nul) {
    n2 = size - (size_t)(nul - data) - 1;
    if(n2 > VS_KEY_MAX)
      n2 = VS_KEY_MAX;
    memcpy(k2, nul + 1, n2);
    k2[n2] = 0;
    if(memchr(k2, 0, n2))
      n2 = strlen(k2);
  }
  round_trip(k1, n1, p1);
  if(nul) {
    round_trip(k2, n2, p2);
    FZ_ASSERT((n1 == n2 && !memcmp(k1, k2, n1)) == !strcmp(p1, p2),
              "keys of %zu and %zu bytes share path '%s'", n1, n2, p1);
  }
  /* any path: decodes only to a key that encodes back to it */
  if(!(in = malloc(size + 1)))
    return 0;
  memcpy(in, data, size);
  in[size] = 0;
  if(vs__fs_key_decode(in, back, sizeof(back)) != (size_t)-1) {
    FZ_ASSERT(vs__fs_key_encode(back, strlen(back), p1, sizeof(p1)) !=
                (size_t)-1 && !strcmp(p1, in),
              "'%s' decoded but is not the encoding of its key", in);
  }
  free(in);
  return 0;
}
