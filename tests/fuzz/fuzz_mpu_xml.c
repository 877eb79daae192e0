/* Fuzz target: CompleteMultipartUpload's body (vs__mpu_complete_parse,
 * src/server/mpu_xml.c, on the reader of xml_in.c).
 *
 * Input: the body itself. Invariants: the answer is 0, -1, -2 or -3; the
 * message is a NUL-terminated string within its buffer, set on failure;
 * nothing held on failure; on success 1..MAX parts, each ETag "" or 32
 * lower-case hex digits, each checksum NUL-terminated in its buffer with
 * an algorithm S3 has. And a round trip: parts made from the input's
 * bytes (numbers, ETags quoted, bare or as &quot;, a checksum on some), in
 * the document boto3 sends, parse back to exactly them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/mpu_xml.h"

#define MAX 8

static int hex32(const char *s)
{
  size_t i;
  for(i = 0; i < 32; i++)
    if(!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return s[32] == 0;
}

static void check_one(const char *body, size_t n)
{
  vs__mpu_part *p = (vs__mpu_part *)1;
  size_t count = 99, i;
  char msg[256];
  int rc;
  memset(msg, 'x', sizeof(msg));
  rc = vs__mpu_complete_parse(body, n, MAX, &p, &count, msg, sizeof(msg));
  if(rc != 0 && rc != -1 && rc != -2 && rc != -3)
    abort();
  if(!memchr(msg, 0, sizeof(msg)))
    abort();
  if(rc) {
    if(p || count || !msg[0])
      abort();
    return;
  }
  if(!p || count < 1 || count > MAX)
    abort();
  for(i = 0; i < count; i++) {
    const vs__mpu_part *q = &p[i];
    if(q->ref.number > 99999 || (q->ref.etag[0] && !hex32(q->ref.etag)) ||
       !memchr(q->ref.checksum, 0, sizeof(q->ref.checksum)) ||
       !memchr(q->checksum_alg, 0, sizeof(q->checksum_alg)) ||
       (q->checksum_alg[0] && strcmp(q->checksum_alg, "crc32") &&
        strcmp(q->checksum_alg, "crc32c") &&
        strcmp(q->checksum_alg, "crc64nvme") &&
        strcmp(q->checksum_alg, "sha1") && strcmp(q->checksum_alg, "sha256")))
      abort();
  }
  free(p);
}

static void round_trip(const uint8_t *data, size_t size)
{
  static const char hexd[] = "0123456789abcdef";
  char etags[MAX][33], body[8192];
  unsigned nums[MAX];
  size_t n = size / 17 > MAX ? MAX : size / 17, i, j, len;
  vs__mpu_part *p;
  size_t count;
  char msg[256];
  if(!n)
    return;
  len = (size_t)sprintf(body, "<CompleteMultipartUpload xmlns=\"http://s3."
                        "amazonaws.com/doc/2006-03-01/\">");
  for(i = 0; i < n; i++) {
    const uint8_t *d = data + i * 17;
    static const char *const quote[] = {"\"", "", "&quot;", "&#34;"};
    nums[i] = 1 + (unsigned)(d[0] * 39u) % 10000;
    for(j = 0; j < 16; j++) {
      etags[i][2 * j] = hexd[d[1 + j] >> 4];
      etags[i][2 * j + 1] = hexd[d[1 + j] & 15];
    }
    etags[i][32] = 0;
    len += (size_t)sprintf(body + len, "<Part>%s<PartNumber>%u</PartNumber>"
                           "<ETag>%s%s%s</ETag>%s</Part>",
                           d[0] & 1 ? " \n " : "", nums[i],
                           quote[d[1] & 3], etags[i], quote[d[1] & 3],
                           d[2] & 1 ? "<ChecksumCRC32>AAAAAA==</ChecksumCRC32>"
                                    : "");
  }
  len += (size_t)sprintf(body + len, "</CompleteMultipartUpload>");
  if(vs__mpu_complete_parse(body, len, MAX, &p, &count, msg, sizeof(msg)) ||
     count != n)
    abort();
  for(i = 0; i < n; i++)
    if(p[i].ref.number != nums[i] || strcmp(p[i].ref.etag, etags[i]) ||
       (data[i * 17 + 2] & 1) != !strcmp(p[i].checksum_alg, "crc32"))
      abort();
  free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  check_one((const char *)data, size);
  round_trip(data, size);
  return 0;
}
