/* ListParts and ListMultipartUploads. An upload has at most 10,000 parts
 * and a sink few uploads in progress at once, so both read the store's
 * whole list and page through it here, in S3's order: parts by number,
 * uploads by key (bytes) then by upload id, which sorts by creation. Both
 * are built on the commit pool (vs__pooled): the store may be a cluster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/utf8.h"
#include "util/xml.h"

#define PAGE_MAX 1000

static void owner(vs_buf *b, const char *tag)
{
  vs_buf_addf(b, "<%s><ID>" VS__OWNER_ID "</ID><DisplayName>" VS__OWNER_NAME
              "</DisplayName></%s>", tag, tag);
}

/* <ChecksumCRC32>...</ChecksumCRC32> and the like */
static void checksum_elem(vs_buf *b, const char *alg, const char *value)
{
  char name[16];
  if(!alg[0] || !value[0])
    return;
  vs_ascii_upper(name, sizeof(name), alg);
  vs_buf_addf(b, "<Checksum%s>", name);
  vs_xml_text(b, value, strlen(value), 0);
  vs_buf_addf(b, "</Checksum%s>", name);
}

static int url_encoding(vs__req *r, int *url)
{
  char *enc = vs__query_get(r->raw_uri, "encoding-type");
  int bad = enc && strcasecmp(enc, "url");
  *url = enc != NULL;
  free(enc);
  if(bad)
    return vs__done(r, VS__S3_INVALID_ARGUMENT, "Invalid Encoding Method "
                    "specified in Request");
  return 0;
}

/* ---- ListParts ---------------------------------------------------------- */

static void part_entry(vs_buf *b, const vs_part_info *p)
{
  char when[25];
  vs_time_rfc3339(p->mtime_ms, when);
  vs_buf_addf(b, "<Part><PartNumber>%u</PartNumber><LastModified>%s"
              "</LastModified><ETag>&quot;%s&quot;</ETag><Size>%llu</Size>",
              p->number, when, p->md5, (unsigned long long)p->bytes);
  checksum_elem(b, p->checksum_alg, p->checksum);
  vs_buf_adds(b, "</Part>");
}

static void parts_head(vs__req *r, vs_buf *b, int url, long marker,
                       long max)
{
  const vs_mpu *m = r->mpu;
  vs_buf_adds(b, VS_XML_HEAD "<ListPartsResult xmlns=\"" VS_XML_NS "\">");
  vs_xml_elem(b, "Bucket", r->bucket, 0);
  vs_xml_elem(b, "Key", r->key, url);
  vs_xml_elem(b, "UploadId", m->upload_id, 0);
  owner(b, "Initiator");
  owner(b, "Owner");
  vs_buf_addf(b, "<StorageClass>STANDARD</StorageClass><PartNumberMarker>"
              "%ld</PartNumberMarker><MaxParts>%ld</MaxParts>", marker, max);
  if(url)
    vs_buf_adds(b, "<EncodingType>url</EncodingType>");
  if(m->checksum_alg[0]) {
    char alg[16];
    vs_ascii_upper(alg, sizeof(alg), m->checksum_alg);
    vs_buf_addf(b, "<ChecksumAlgorithm>%s</ChecksumAlgorithm>"
                "<ChecksumType>%s</ChecksumType>", alg, m->checksum_type);
  }
}

/* On a commit thread (the upload and its parts are the store's): the
 * page into r->body, or the error. */
static void parts_work(vs__req *r)
{
  vs__s3code code = VS__S3_NONE;
  char msg[200] = "";
  long max = PAGE_MAX, marker = 0;
  vs_part_info *parts = NULL;
  size_t n = 0, i, shown = 0;
  vs_buf b = VS_BUF_INIT;
  vs_err err = {0};
  int url;
  if(vs__query_count(r->raw_uri, "max-parts", PAGE_MAX, &max) < 0 ||
     vs__query_count(r->raw_uri, "part-number-marker", 1L << 30,
                     &marker) < 0) {
    vs__done(r, VS__S3_INVALID_ARGUMENT, "max-parts and part-number-marker "
             "must be integers of 0 to 2147483647");
    return;
  }
  if(url_encoding(r, &url))
    return;
  if(vs__mpu_lookup(r, &code, msg, sizeof(msg))) {
    vs__done(r, code, msg);
    return;
  }
  if(vs_store_mpu_parts(r->srv->cfg.store, r->bucket, r->key,
                        r->mpu->upload_id, &parts, &n, &err)) {
    vs__done(r, err.code == VS_ERR_NOTFOUND ? VS__S3_NO_SUCH_UPLOAD
                                            : VS__S3_INTERNAL, NULL);
    return;
  }
  parts_head(r, &b, url, marker, max);
  for(i = 0; i < n && (long)parts[i].number <= marker; i++)
    ;
  for(; i < n && (long)shown < max; i++, shown++)
    part_entry(&b, &parts[i]);
  if(shown)
    vs_buf_addf(&b, "<NextPartNumberMarker>%u</NextPartNumberMarker>",
                parts[i - 1].number);
  vs_buf_addf(&b, "<IsTruncated>%s</IsTruncated></ListPartsResult>",
              i < n ? "true" : "false");
  free(parts);
  vs__pooled_body(r, &b);
}

enum MHD_Result vs__mpu_list_parts(vs__req *r, const char *data,
                                   size_t *size)
{
  (void)data;
  *size = 0;
  return vs__pooled(r, parts_work);
}

/* ---- ListMultipartUploads ----------------------------------------------- */

typedef struct uparams {
  char *prefix, *delim, *key_marker, *id_marker;
  long max;
  int url;
} uparams;

static void uparams_free(uparams *p)
{
  free(p->prefix);
  free(p->delim);
  free(p->key_marker);
  free(p->id_marker);
}

static int text_ok(const char *s)
{
  const char *c;
  for(c = s; c && *c; c++)
    if((unsigned char)*c < 0x20 || *c == 0x7f)
      return 0;
  return !s || vs_utf8_valid(s, strlen(s));
}

static int uparams_read(vs__req *r, uparams *p)
{
  p->prefix = vs__query_get(r->raw_uri, "prefix");
  p->delim = vs__query_get(r->raw_uri, "delimiter");
  p->key_marker = vs__query_get(r->raw_uri, "key-marker");
  p->id_marker = vs__query_get(r->raw_uri, "upload-id-marker");
  p->max = PAGE_MAX;
  if(vs__query_count(r->raw_uri, "max-uploads", PAGE_MAX, &p->max) < 0)
    return vs__done(r, VS__S3_INVALID_ARGUMENT, "max-uploads must be an "
                    "integer of 0 to 2147483647");
  /* prefix and key-marker name keys, which may hold control bytes */
  if(!vs_utf8_valid(p->prefix ? p->prefix : "", p->prefix ?
                    strlen(p->prefix) : 0) || !text_ok(p->delim) ||
     !vs_utf8_valid(p->key_marker ? p->key_marker : "", p->key_marker ?
                    strlen(p->key_marker) : 0) || !text_ok(p->id_marker))
    return vs__done(r, VS__S3_INVALID_ARGUMENT, "prefix, delimiter and "
                    "markers must be UTF-8 text without control characters");
  if(p->delim && !*p->delim) {
    free(p->delim);
    p->delim = NULL;
  }
  return url_encoding(r, &p->url);
}

/* After the markers: past key-marker, or at it past upload-id-marker. */
static int after_markers(const uparams *p, const vs_mpu *m)
{
  int c;
  if(!p->key_marker || !*p->key_marker)
    return 1;
  c = strcmp(m->key, p->key_marker); /* bytes: S3's order */
  if(c)
    return c > 0;
  return p->id_marker && *p->id_marker &&
         strcmp(m->upload_id, p->id_marker) > 0;
}

/* The common prefix m's key rolls up to under the delimiter (its length),
 * or 0 when it is listed itself. */
static size_t rolled_up(const uparams *p, const vs_mpu *m)
{
  size_t plen = p->prefix ? strlen(p->prefix) : 0;
  const char *d;
  if(!p->delim)
    return 0;
  d = strstr(m->key + plen, p->delim);
  return d ? (size_t)(d - m->key) + strlen(p->delim) : 0;
}

static void upload_entry(vs_buf *b, const vs_mpu *m, int url)
{
  char when[25];
  vs_time_rfc3339(m->created_ms, when);
  vs_buf_adds(b, "<Upload>");
  vs_xml_elem(b, "Key", m->key, url);
  vs_xml_elem(b, "UploadId", m->upload_id, 0);
  owner(b, "Initiator");
  owner(b, "Owner");
  vs_buf_addf(b, "<StorageClass>STANDARD</StorageClass><Initiated>%s"
              "</Initiated>", when);
  if(m->checksum_alg[0]) {
    char alg[16];
    vs_ascii_upper(alg, sizeof(alg), m->checksum_alg);
    vs_buf_addf(b, "<ChecksumAlgorithm>%s</ChecksumAlgorithm>", alg);
  }
  vs_buf_adds(b, "</Upload>");
}

static void cp_entry(vs_buf *b, const char *key, size_t len, int url)
{
  vs_buf_adds(b, "<CommonPrefixes><Prefix>");
  vs_xml_text(b, key, len, url);
  vs_buf_adds(b, "</Prefix></CommonPrefixes>");
}

/* The page's entries into body; next_key/next_id say where it ended. */
static int uploads_page(const uparams *p, const vs_mpu *v, size_t n,
                        vs_buf *body, const vs_mpu **last, size_t *last_cp)
{
  size_t i, shown = 0, cp_len = 0, plen = p->prefix ? strlen(p->prefix) : 0;
  const vs_mpu *cp_of = NULL;
  *last = NULL;
  *last_cp = 0;
  for(i = 0; i < n; i++) {
    const vs_mpu *m = &v[i];
    size_t cp;
    if(strncmp(m->key, p->prefix ? p->prefix : "", plen) ||
       !after_markers(p, m))
      continue;
    cp = rolled_up(p, m);
    if(cp && cp_of && cp == cp_len && !memcmp(m->key, cp_of->key, cp))
      continue; /* in the common prefix just listed */
    if(cp && p->key_marker && strlen(p->key_marker) >= cp &&
       !memcmp(m->key, p->key_marker, cp))
      continue; /* the marker was in this common prefix: listed before */
    if((long)shown == p->max)
      return 1;
    if(cp) {
      cp_entry(body, m->key, cp, p->url);
      cp_of = m;
      cp_len = cp;
    }
    else
      upload_entry(body, m, p->url);
    *last = m;
    *last_cp = cp;
    shown++;
  }
  return 0;
}

static void uploads_head(vs__req *r, vs_buf *b, const uparams *p)
{
  vs_buf_adds(b, VS_XML_HEAD "<ListMultipartUploadsResult xmlns=\""
              VS_XML_NS "\">");
  vs_xml_elem(b, "Bucket", r->bucket, 0);
  vs_xml_elem(b, "KeyMarker", p->key_marker, p->url);
  vs_xml_elem(b, "UploadIdMarker", p->id_marker, 0);
  if(p->delim)
    vs_xml_elem(b, "Delimiter", p->delim, p->url);
  vs_xml_elem(b, "Prefix", p->prefix, p->url);
  vs_buf_addf(b, "<MaxUploads>%ld</MaxUploads>", p->max);
  if(p->url)
    vs_buf_adds(b, "<EncodingType>url</EncodingType>");
}

/* On a commit thread (the uploads are the store's): the page into
 * r->body, or the error. */
static void uploads_work(vs__req *r)
{
  uparams p = {0};
  vs_mpu *v = NULL;
  const vs_mpu *last;
  size_t n = 0, last_cp;
  vs_buf head = VS_BUF_INIT, body = VS_BUF_INIT;
  vs_err err = {0};
  int truncated;
  if(uparams_read(r, &p)) {
    uparams_free(&p);
    return;
  }
  if(vs_store_mpu_list(r->srv->cfg.store, r->bucket, &v, &n, &err)) {
    uparams_free(&p);
    vs__done(r, VS__S3_INTERNAL, err.msg);
    return;
  }
  truncated = uploads_page(&p, v, n, &body, &last, &last_cp);
  uploads_head(r, &head, &p);
  if(last) {
    if(last_cp) {
      vs_buf_adds(&head, "<NextKeyMarker>");
      vs_xml_text(&head, last->key, last_cp, p.url);
      vs_buf_adds(&head, "</NextKeyMarker><NextUploadIdMarker/>");
    }
    else {
      vs_xml_elem(&head, "NextKeyMarker", last->key, p.url);
      vs_xml_elem(&head, "NextUploadIdMarker", last->upload_id, 0);
    }
  }
  vs_buf_addf(&head, "<IsTruncated>%s</IsTruncated>",
              truncated ? "true" : "false");
  vs_buf_add(&head, body.data ? body.data : "", body.len);
  vs_buf_adds(&head, "</ListMultipartUploadsResult>");
  vs_buf_free(&body);
  free(v);
  uparams_free(&p);
  vs__pooled_body(r, &head);
}

enum MHD_Result vs__mpu_list(vs__req *r, const char *data, size_t *size)
{
  (void)data;
  *size = 0;
  return vs__pooled(r, uploads_work);
}
