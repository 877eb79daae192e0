/* The CompleteMultipartUpload body (see mpu_xml.h), on the strict reader
 * of xml_in.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/mpu_xml.h"
#include "server/xml_in.h"

#define LEAF_MAX 128 /* a PartNumber, an ETag or a checksum, decoded */

static const struct {
  const char *elem, *alg;
} CHECKSUMS[] = {
  {"ChecksumCRC32", "crc32"}, {"ChecksumCRC32C", "crc32c"},
  {"ChecksumCRC64NVME", "crc64nvme"}, {"ChecksumSHA1", "sha1"},
  {"ChecksumSHA256", "sha256"},
};

static int number(vs__xin *x, const char *v, unsigned *out)
{
  unsigned n = 0;
  if(!*v || strlen(v) > 5)
    return vs__xin_fail(x, "PartNumber is not a number of 1 to 5 digits");
  for(; *v; v++) {
    if(*v < '0' || *v > '9')
      return vs__xin_fail(x, "PartNumber is not a number");
    n = n * 10 + (unsigned)(*v - '0');
  }
  *out = n;
  return 0;
}

/* "hex", hex or &quot;hex&quot; (decoded already): lower-case, or "" */
static void etag(const char *v, char out[33])
{
  size_t n = strlen(v), i;
  if(n == 34 && v[0] == '"' && v[33] == '"')
    v++, n -= 2;
  out[0] = 0;
  if(n != 32)
    return;
  for(i = 0; i < 32; i++) {
    char c = v[i];
    if(c >= 'A' && c <= 'F')
      c = (char)(c - 'A' + 'a');
    if(!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      out[0] = 0;
      return;
    }
    out[i] = c;
  }
  out[32] = 0;
}

static int leaf(vs__xin *x, vs__mpu_part *p, const char *name, int *seen)
{
  char *v;
  size_t len, i;
  int rc = vs__xin_text(x, name, LEAF_MAX, &v, &len);
  if(rc)
    return rc;
  if(!strcmp(name, "PartNumber") && !(*seen & 1)) {
    *seen |= 1;
    rc = number(x, v, &p->ref.number);
  }
  else if(!strcmp(name, "ETag") && !(*seen & 2)) {
    *seen |= 2;
    etag(v, p->ref.etag);
  }
  else {
    rc = vs__xin_fail(x, "unknown or repeated element in Part");
    for(i = 0; i < sizeof(CHECKSUMS) / sizeof(CHECKSUMS[0]); i++)
      if(!strcmp(name, CHECKSUMS[i].elem) && !p->checksum_alg[0] &&
         len < sizeof(p->ref.checksum)) {
        snprintf(p->checksum_alg, sizeof(p->checksum_alg), "%s",
                 CHECKSUMS[i].alg);
        memcpy(p->ref.checksum, v, len + 1);
        rc = 0;
      }
  }
  free(v);
  return rc;
}

static int part(vs__xin *x, vs__mpu_part *p)
{
  char name[32];
  int empty, rc, seen = 0;
  while(!(rc = vs__xin_open(x, name, sizeof(name), &empty))) {
    if(empty)
      return vs__xin_fail(x, "empty element in Part");
    if((rc = leaf(x, p, name, &seen)))
      return rc;
  }
  if(rc < 0 || vs__xin_close(x, "Part"))
    return -1;
  if(seen != 3)
    return vs__xin_fail(x, "a Part needs a PartNumber and an ETag");
  return 0;
}

static int parts(vs__xin *x, size_t max, vs__mpu_part **out, size_t *n)
{
  char name[32];
  int empty, rc;
  size_t cap = 0;
  while(!(rc = vs__xin_open(x, name, sizeof(name), &empty))) {
    if(strcmp(name, "Part") || empty)
      return vs__xin_fail(x, "unknown element in CompleteMultipartUpload");
    if(*n == max)
      return vs__xin_fail(x, "more Parts than an upload may have");
    if(*n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      vs__mpu_part *np = realloc(*out, nc * sizeof(*np));
      if(!np)
        return -3;
      *out = np;
      cap = nc;
    }
    memset(&(*out)[*n], 0, sizeof(**out));
    if((rc = part(x, &(*out)[(*n)++])))
      return rc;
  }
  return rc < 0 ? rc : vs__xin_close(x, "CompleteMultipartUpload");
}

int vs__mpu_complete_parse(const char *body, size_t len, size_t max,
                           vs__mpu_part **out, size_t *n, char *msg,
                           size_t cap)
{
  vs__xin x = {body, body + len, msg, cap};
  int rc;
  *out = NULL;
  *n = 0;
  msg[0] = 0;
  rc = vs__xin_root(&x, "CompleteMultipartUpload");
  if(!rc)
    rc = parts(&x, max, out, n);
  if(!rc)
    rc = vs__xin_end(&x);
  if(!rc && !*n)
    rc = vs__xin_fail(&x, "no Part");
  if(rc) {
    free(*out);
    *out = NULL;
    *n = 0;
    if(rc == -3)
      snprintf(msg, cap, "out of memory");
  }
  return rc;
}
