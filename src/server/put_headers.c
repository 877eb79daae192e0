/* A PutObject's headers, read and checked on its first call, before a
 * body byte is read (objects.c; copy.c and multipart may take the same
 * checks). Not a public header. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/put_headers.h"
#include "util/enc.h"

int vs__put_length(vs__req *r, vs__s3code *code, char *msg, size_t cap)
{
  const char *cl = vs__header(r->conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
  const char *te = vs__header(r->conn, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  char *end;
  if(cl) {
    unsigned long long v;
    errno = 0;
    v = strtoull(cl, &end, 10);
    if(errno || *end || end == cl || cl[0] == '-') {
      *code = VS__S3_INVALID_ARGUMENT;
      snprintf(msg, cap, "Content-Length is not a number");
      return -1;
    }
    if(v > r->srv->cfg.max_object_size) {
      *code = VS__S3_TOO_LARGE;
      snprintf(msg, cap, "Content-Length %llu is over the %" PRIu64
               "-byte limit", v, r->srv->cfg.max_object_size);
      return -1;
    }
    r->content_length = (int64_t)v;
    return 0;
  }
  if(te && !strcasecmp(te, "chunked"))
    return 0;
  *code = VS__S3_MISSING_LENGTH;
  msg[0] = 0;
  return -1;
}

int vs__put_md5(vs__req *r, vs__s3code *code, char *msg, size_t cap)
{
  const char *md5 = vs__header(r->conn, "Content-MD5");
  if(md5) {
    if(vs_unb64(md5, strlen(md5), r->want_md5, sizeof(r->want_md5)) != 16) {
      *code = VS__S3_INVALID_DIGEST;
      snprintf(msg, cap, "Content-MD5 must be the base64 of 16 bytes");
      return -1;
    }
    r->has_md5 = 1;
  }
  return 0;
}

/* An x-amz-checksum-* header that names no algorithm vsink verifies
 * (-type and -mode describe checksums, they are not one). */
static enum MHD_Result find_other_checksum(void *cls, enum MHD_ValueKind kind,
                                           const char *key, const char *value)
{
  const char **other = cls;
  (void)kind;
  (void)value;
  if(key && !strncasecmp(key, "x-amz-checksum-", 15) &&
     vs_cksum_parse(key + 15) == VS_CKSUM_NONE &&
     strcasecmp(key + 15, "type") && strcasecmp(key + 15, "mode")) {
    *other = key;
    return MHD_NO;
  }
  return MHD_YES;
}

/* x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256}: at most one, its
 * value the base64 of a digest of the algorithm's length, and the one
 * x-amz-sdk-checksum-algorithm names, all checked before the body, with
 * S3's codes and messages. The value is then computed as the body
 * streams (digests_match). */
int vs__put_checksum(vs__req *r, vs__s3code *code, char *msg,
                     size_t cap)
{
  const char *sdk = vs__header(r->conn, "x-amz-sdk-checksum-algorithm");
  const char *val = NULL, *other = NULL;
  int a;
  *code = VS__S3_INVALID_REQUEST;
  for(a = VS_CKSUM_NONE + 1; a < VS_CKSUM__COUNT; a++) {
    char name[40];
    const char *v;
    snprintf(name, sizeof(name), "x-amz-checksum-%s",
             vs_cksum_name((vs_cksum_alg)a));
    if(!(v = vs__header(r->conn, name)))
      continue;
    if(val) {
      snprintf(msg, cap, "Expecting a single x-amz-checksum- header. "
               "Multiple checksum Types are not allowed.");
      return -1;
    }
    val = v;
    r->cksum_alg = (vs_cksum_alg)a;
  }
  MHD_get_connection_values(r->conn, MHD_HEADER_KIND, find_other_checksum,
                            &other);
  if(other) {
    *code = VS__S3_NOT_IMPLEMENTED;
    snprintf(msg, cap, "%.40s: only CRC32, CRC32C, CRC64NVME, SHA1 and "
             "SHA256 checksums are verified by vsink", other);
    return -1;
  }
  if(!val) {
    /* an aws-chunked body's checksum comes in its trailer (chunked_put.c) */
    if(!sdk || vs__header(r->conn, "x-amz-trailer"))
      return 0;
    snprintf(msg, cap, "x-amz-sdk-checksum-algorithm specified, but no "
             "corresponding x-amz-checksum-* or x-amz-trailer headers were "
             "found.");
    return -1;
  }
  if(strlen(val) >= sizeof(r->cksum_b64) ||
     vs_unb64(val, strlen(val), r->want_cksum, sizeof(r->want_cksum)) !=
       (long)vs_cksum_len(r->cksum_alg)) {
    snprintf(msg, cap, "Value for x-amz-checksum-%s header is invalid.",
             vs_cksum_name(r->cksum_alg));
    return -1;
  }
  if(sdk && vs_cksum_parse(sdk) != r->cksum_alg) {
    snprintf(msg, cap, "Value for x-amz-sdk-checksum-algorithm header is "
             "invalid.");
    return -1;
  }
  /* kept (and echoed) in canonical form, whatever padding bits came */
  vs_b64(r->want_cksum, vs_cksum_len(r->cksum_alg), r->cksum_b64);
  return 0;
}

/* S3's conditional writes: "If-None-Match: *" (nothing under the key)
 * and "If-Match: <etag>" (the current object has that ETag; "*" here: any
 * object). Any other precondition is refused rather than ignored. */
int vs__put_preconditions(vs__req *r, vs__s3code *code, char *msg,
                          size_t cap)
{
  const char *inm = vs__header(r->conn, MHD_HTTP_HEADER_IF_NONE_MATCH);
  const char *im = vs__header(r->conn, MHD_HTTP_HEADER_IF_MATCH);
  if(im) {
    size_t n;
    while(*im == ' ' || *im == '\t')
      im++;
    n = strlen(im);
    while(n && (im[n - 1] == ' ' || im[n - 1] == '\t'))
      n--;
    if(n >= 2 && im[0] == '"' && im[n - 1] == '"')
      im++, n -= 2;
    if(!n || n >= sizeof(r->if_match) || memchr(im, ',', n) ||
       memchr(im, '"', n)) {
      *code = VS__S3_NOT_IMPLEMENTED;
      snprintf(msg, cap, "If-Match on PUT takes one ETag (or *)");
      return -1;
    }
    memcpy(r->if_match, im, n);
    r->if_match[n] = 0;
  }
  if(inm) {
    if(strcmp(inm, "*")) {
      *code = VS__S3_NOT_IMPLEMENTED;
      snprintf(msg, cap, "only If-None-Match: * is supported on PUT");
      return -1;
    }
    r->if_none_match = 1;
  }
  return 0;
}

/* A field value (RFC 9110 §5.5): visible characters, spaces and tabs; the
 * store keeps at most 255 bytes. */
int vs__put_content_type(vs__req *r, vs__s3code *code, char *msg,
                         size_t cap)
{
  const char *ct = vs__header(r->conn, MHD_HTTP_HEADER_CONTENT_TYPE);
  const unsigned char *p;
  if(!ct || !*ct)
    ct = "binary/octet-stream";
  *code = VS__S3_INVALID_ARGUMENT;
  if(strlen(ct) >= sizeof(((vs_object_info *)0)->content_type)) {
    snprintf(msg, cap, "Content-Type is %zu bytes; at most 255 are kept",
             strlen(ct));
    return -1;
  }
  for(p = (const unsigned char *)ct; *p; p++)
    if((*p < 0x20 && *p != '\t') || *p == 0x7f) {
      snprintf(msg, cap, "Content-Type has the control byte 0x%02x at "
               "offset %zu", *p, (size_t)(p - (const unsigned char *)ct));
      return -1;
    }
  r->content_type = strdup(ct);
  if(!r->content_type) {
    *code = VS__S3_INTERNAL;
    snprintf(msg, cap, "out of memory");
    return -1;
  }
  return 0;
}
