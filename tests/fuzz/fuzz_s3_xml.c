/* Fuzz target: the S3 client's readers of S3's XML answers
 * (src/store/s3/s3_xml_parse.c on the reader of s3_xml.c).
 *
 * Input: the answer's body, given to every parser. Invariants: each
 * answers only its documented codes; on failure a message is set and
 * nothing is held (NULL arrays and markers, empty strings); on success
 * every string is NUL-terminated within its buffer, every entry and upload
 * has a key, counts agree with the arrays, a truncated listing has its
 * marker, the versioning state is one of three. And a round trip: a
 * ListObjectsV2 page built from the input's bytes (keys escaped as S3
 * escapes them, with unknown elements and attributes around) parses back
 * to exactly those keys, sizes and ETags. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/s3/s3_int.h"
#include "util/buf.h"
#include "util/xml.h"

static void check_str(const char *s, size_t cap)
{
  if(!memchr(s, 0, cap))
    abort();
}

static void check_list(const char *d, size_t n, int versions)
{
  vs_s3_list_page p;
  vs_err err = {0};
  size_t i;
  int rc = versions ? vs__s3_parse_versions(d, n, &p, &err)
                    : vs__s3_parse_list(d, n, &p, &err);
  if(rc) {
    if((rc != VS_ERR_NET && rc != VS_ERR_NOMEM) || !err.msg[0] ||
       p.entries || p.prefixes || p.n || p.n_prefixes || p.next_token ||
       p.next_key_marker || p.next_version_marker)
      abort();
    return;
  }
  if((p.n && !p.entries) || (p.n_prefixes && !p.prefixes) ||
     (p.truncated && !(versions ? p.next_key_marker : p.next_token)) ||
     (!versions && (p.next_key_marker || p.next_version_marker)))
    abort();
  for(i = 0; i < p.n; i++) {
    const vs_s3_entry *e = &p.entries[i];
    if(!e->key || (!versions && e->delete_marker) ||
       (e->is_latest != 0 && e->is_latest != 1))
      abort();
    check_str(e->etag, sizeof(e->etag));
    check_str(e->version_id, sizeof(e->version_id));
  }
  for(i = 0; i < p.n_prefixes; i++)
    if(!p.prefixes[i])
      abort();
  vs_s3_list_page_free(&p);
}

static void check_uploads(const char *d, size_t n)
{
  vs_s3_uploads_page p;
  vs_err err = {0};
  size_t i;
  int rc = vs__s3_parse_uploads(d, n, &p, &err);
  if(rc) {
    if((rc != VS_ERR_NET && rc != VS_ERR_NOMEM) || !err.msg[0] || p.uploads ||
       p.n || p.next_key_marker || p.next_upload_id_marker)
      abort();
    return;
  }
  for(i = 0; i < p.n; i++) {
    check_str(p.uploads[i].upload_id, sizeof(p.uploads[i].upload_id));
    if(!p.uploads[i].key || !p.uploads[i].upload_id[0])
      abort();
  }
  vs_s3_uploads_page_free(&p);
}

static void check_parts(const char *d, size_t n)
{
  vs_s3_parts_page p;
  vs_err err = {0};
  size_t i;
  int rc = vs__s3_parse_parts(d, n, &p, &err);
  if(rc) {
    if((rc != VS_ERR_NET && rc != VS_ERR_NOMEM) || !err.msg[0] || p.parts ||
       p.n)
      abort();
    return;
  }
  for(i = 0; i < p.n; i++) {
    check_str(p.parts[i].etag, sizeof(p.parts[i].etag));
    if(!p.parts[i].number)
      abort();
  }
  vs_s3_parts_page_free(&p);
}

static void check_small(const char *d, size_t n)
{
  char code[64], msg[160], id[VS_S3_UPLOAD_ID_MAX], etag[VS_S3_ETAG_MAX];
  vs_err err = {0};
  int rc, state = 99;
  rc = vs__s3_parse_error(d, n, code, sizeof(code), msg, sizeof(msg));
  check_str(code, sizeof(code));
  check_str(msg, sizeof(msg));
  if(rc != (code[0] != 0) ||
     strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789.") != strlen(code))
    abort();
  rc = vs__s3_parse_create(d, n, id, sizeof(id), &err);
  check_str(id, sizeof(id));
  if(rc ? (rc != VS_ERR_NET || id[0] || !err.msg[0]) : !id[0])
    abort();
  memset(&err, 0, sizeof(err));
  rc = vs__s3_parse_complete(d, n, etag, sizeof(etag), &err);
  check_str(etag, sizeof(etag));
  if(rc && (etag[0] || !err.msg[0] || rc == VS_ERR_NOMEM))
    abort();
  rc = vs__s3_parse_versioning(d, n, &state, &err);
  if(rc ? rc != VS_ERR_NET
        : state != VS_S3_VERSIONING_NEVER && state != VS_S3_VERSIONING_ENABLED &&
              state != VS_S3_VERSIONING_SUSPENDED)
    abort();
}

/* Keys from the input (at most 8, each up to 24 bytes, NULs dropped),
 * written as S3 writes them, must read back byte for byte. */
static void round_trip(const uint8_t *data, size_t size)
{
  char keys[8][25];
  size_t nk = 0, i = 0, j;
  vs_buf b = VS_BUF_INIT;
  vs_s3_list_page p;
  vs_err err = {0};
  while(i < size && nk < 8) {
    size_t len = data[i++] % 25, k = 0;
    for(j = 0; j < len && i < size; j++, i++)
      if(data[i] && data[i] != '\r') /* XML reads CR LF as LF */
        keys[nk][k++] = (char)data[i];
    keys[nk++][k] = 0;
  }
  vs_buf_adds(&b, VS_XML_HEAD "<ListBucketResult xmlns=\"" VS_XML_NS "\">"
              "<Name>b</Name><Owner><ID x='1'/></Owner>");
  for(i = 0; i < nk; i++) {
    vs_buf_adds(&b, "<Contents><Key>");
    vs_xml_text(&b, keys[i], strlen(keys[i]), 0);
    vs_buf_addf(&b, "</Key><!-- c --><Size>%zu</Size><ETag>&quot;e%zu"
                "&quot;</ETag><Unknown a=\"b\"><x/>t</Unknown></Contents>",
                i * 1000, i);
  }
  vs_buf_adds(&b, "<IsTruncated>false</IsTruncated></ListBucketResult>");
  if(b.failed)
    abort();
  if(vs__s3_parse_list(b.data, b.len, &p, &err) || p.n != nk)
    abort();
  for(i = 0; i < nk; i++) {
    char etag[16];
    /* the escaper makes control bytes '?': compare through it */
    vs_buf want = VS_BUF_INIT, got = VS_BUF_INIT;
    vs_xml_text(&want, keys[i], strlen(keys[i]), 0);
    vs_xml_text(&got, p.entries[i].key, strlen(p.entries[i].key), 0);
    snprintf(etag, sizeof(etag), "e%zu", i);
    if(strcmp(vs_buf_str(&want), vs_buf_str(&got)) ||
       p.entries[i].size != i * 1000 || strcmp(p.entries[i].etag, etag))
      abort();
    vs_buf_free(&want);
    vs_buf_free(&got);
  }
  vs_s3_list_page_free(&p);
  vs_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *d = (const char *)data;
  check_small(d, size);
  check_list(d, size, 0);
  check_list(d, size, 1);
  check_uploads(d, size);
  check_parts(d, size);
  round_trip(data, size);
  return 0;
}
