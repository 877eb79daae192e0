/* The XML answers of the S3 calls the client makes, on the reader of
 * s3_xml.c: error documents, CreateMultipartUpload, CompleteMultipartUpload
 * (whose 200 may carry an <Error>), ListObjectsV2, ListObjectVersions,
 * ListMultipartUploads and GetBucketVersioning. Pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/s3/s3_int.h"
#include "util/enc.h"

#define KEY_MAX 4096  /* S3 keys are at most 1024 bytes; room for others */
#define TOKEN_MAX 4096

static int malformed(vs__s3x *x, const char *what, vs_err *err)
{
  return vs_fail(err, VS_ERR_NET, "malformed %s answer: %s", what,
                 x->why ? x->why : "unexpected content");
}

static int nomem(vs_err *err)
{
  return vs_fail(err, VS_ERR_NOMEM, "out of memory");
}

/* The root element, which must be name. */
static int root_is(vs__s3x *x, const char *body, size_t n, const char *name)
{
  vs__s3x_init(x, body, n);
  if(vs__s3x_root(x))
    return -1;
  if(strcmp(x->name, name) || x->empty) {
    x->why = x->empty ? "empty root element" : "unexpected root element";
    return -1;
  }
  return 0;
}

/* A leaf's text into a malloc'd *out (replacing any earlier one). */
static int text_dup(vs__s3x *x, size_t max, char **out)
{
  char *s;
  int rc = vs__s3x_text(x, max, &s);
  if(rc)
    return rc;
  free(*out);
  *out = s;
  return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
  size_t i, n = strlen(s);
  *out = 0;
  if(!n || n > 20)
    return -1;
  for(i = 0; i < n; i++) {
    unsigned d = (unsigned)(s[i] - '0');
    if(d > 9 || *out > (UINT64_MAX - d) / 10)
      return -1;
    *out = *out * 10 + d;
  }
  return 0;
}

static int parse_bool(const char *s, int *out)
{
  if(!strcmp(s, "true"))
    *out = 1;
  else if(!strcmp(s, "false"))
    *out = 0;
  else
    return -1;
  return 0;
}

/* An ETag's text without its quotes (S3 sends them, as &quot; or bare). */
static int etag_text(vs__s3x *x, char *out, size_t cap)
{
  size_t n;
  if(vs__s3x_text_to(x, out, cap))
    return -1;
  n = strlen(out);
  if(n >= 2 && out[0] == '"' && out[n - 1] == '"') {
    memmove(out, out + 1, n - 2);
    out[n - 2] = 0;
  }
  return 0;
}

/* With encoding-type=url S3 sends keys, prefixes and key markers
 * form-encoded (so a key may hold bytes XML cannot carry): %XX is a byte
 * and '+' a space (a '+' itself comes as %2B). A NUL is no key byte.
 * 0, -1 malformed, -3 out of memory. */
static int url_decode(char **s)
{
  const char *in = *s;
  size_t n = strlen(in), i, k = 0;
  char *o;
  if(!(o = malloc(n + 1)))
    return -3;
  for(i = 0; i < n; i++) {
    int hi, lo;
    if(in[i] != '%') {
      o[k++] = in[i] == '+' ? ' ' : in[i];
      continue;
    }
    hi = i + 2 < n ? vs_hexval(in[i + 1]) : -1;
    lo = hi >= 0 ? vs_hexval(in[i + 2]) : -1;
    if(lo < 0 || (hi | lo) == 0) {
      free(o);
      return -1;
    }
    o[k++] = (char)(hi * 16 + lo);
    i += 2;
  }
  o[k] = 0;
  free(*s);
  *s = o;
  return 0;
}

/* The names of a page sent with encoding-type=url, decoded. */
static int decode_list_page(vs_s3_list_page *p)
{
  size_t i;
  int rc = 0;
  for(i = 0; !rc && i < p->n; i++)
    rc = url_decode(&p->entries[i].key);
  for(i = 0; !rc && i < p->n_prefixes; i++)
    rc = url_decode(&p->prefixes[i]);
  if(!rc && p->next_key_marker)
    rc = url_decode(&p->next_key_marker);
  return rc;
}

static int decode_uploads_page(vs_s3_uploads_page *p)
{
  size_t i;
  int rc = 0;
  for(i = 0; !rc && i < p->n; i++)
    rc = url_decode(&p->uploads[i].key);
  if(!rc && p->next_key_marker)
    rc = url_decode(&p->next_key_marker);
  return rc;
}

/* <EncodingType>: 1 for "url"; anything else is malformed. */
static int encoding_type(vs__s3x *x, int *url)
{
  char v[16];
  if(vs__s3x_text_to(x, v, sizeof(v)) || strcmp(v, "url"))
    return (x->why = x->why ? x->why : "unknown EncodingType", -1);
  *url = 1;
  return 0;
}

int vs__s3_parse_time(const char *s, int64_t *ms)
{
  struct tm tm;
  int y, mo, d, h, mi, sec, used = 0, frac = 0, digits = 0;
  time_t t;
  memset(&tm, 0, sizeof(tm));
  if(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
            &used) != 6 || used != 19)
    return -1;
  s += used;
  if(*s == '.')
    for(s++; *s >= '0' && *s <= '9'; s++, digits++)
      if(digits < 3)
        frac = frac * 10 + (*s - '0');
  while(digits > 0 && digits < 3)
    frac *= 10, digits++;
  if(strcmp(s, "Z") || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
     mi > 59 || sec > 60 || y < 1970)
    return -1;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  if((t = timegm(&tm)) == (time_t)-1)
    return -1;
  *ms = (int64_t)t * 1000 + frac;
  return 0;
}

/* ---- errors ------------------------------------------------------------- */

/* The message without control bytes, cut to mcap. */
static void clean_copy(char *dst, size_t cap, const char *s)
{
  size_t i;
  for(i = 0; s[i] && i + 1 < cap; i++)
    dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
  dst[i] = 0;
}

int vs__s3_parse_error(const char *body, size_t n, char *code, size_t ccap,
                       char *msg, size_t mcap)
{
  vs__s3x x;
  char c[64] = "", *m = NULL;
  int rc;
  *code = 0;
  *msg = 0;
  if(root_is(&x, body, n, "Error"))
    return 0;
  while((rc = vs__s3x_child(&x, "Error")) == 1) {
    if(!strcmp(x.name, "Code"))
      rc = vs__s3x_text_to(&x, c, sizeof(c));
    else if(!strcmp(x.name, "Message"))
      rc = text_dup(&x, 1024, &m);
    else
      rc = vs__s3x_skip(&x);
    if(rc)
      break;
  }
  if(!rc && !vs__s3x_end(&x)) {
    if(*c && strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789.") == strlen(c) && strlen(c) < ccap)
      strcpy(code, c);
    if(m)
      clean_copy(msg, mcap, m);
  }
  free(m);
  return !rc && *code;
}

/* ---- multipart ---------------------------------------------------------- */

int vs__s3_parse_create(const char *body, size_t n, char *upload_id,
                        size_t cap, vs_err *err)
{
  vs__s3x x;
  int rc;
  *upload_id = 0;
  if(root_is(&x, body, n, "InitiateMultipartUploadResult"))
    return malformed(&x, "CreateMultipartUpload", err);
  while((rc = vs__s3x_child(&x, "InitiateMultipartUploadResult")) == 1) {
    rc = !strcmp(x.name, "UploadId") ? vs__s3x_text_to(&x, upload_id, cap)
                                     : vs__s3x_skip(&x);
    if(rc)
      break;
  }
  if(rc || vs__s3x_end(&x) || !*upload_id) {
    *upload_id = 0;
    if(!rc && !x.why)
      x.why = "no UploadId";
    return malformed(&x, "CreateMultipartUpload", err);
  }
  return VS_OK;
}

/* An <Error> where a result belongs (a 200 of CompleteMultipartUpload,
 * CopyObject or UploadPartCopy). */
static int embedded_error(const char *body, size_t n, const char *what,
                          vs_err *err)
{
  char code[64], msg[160];
  if(!vs__s3_parse_error(body, n, code, sizeof(code), msg, sizeof(msg)))
    return vs_fail(err, VS_ERR_NET, "malformed %s answer: an Error without "
                   "a Code", what);
  return vs_fail(err, vs__s3_code_of(200, code), "HTTP 200 with error %s%s%s",
                 code, *msg ? ": " : "", msg);
}

int vs__s3_parse_result(const char *body, size_t n, const char *root,
                        const char *what, char *etag, size_t cap,
                        vs_err *err)
{
  vs__s3x x;
  int rc;
  *etag = 0;
  /* RGW keeps a long copy's connection alive with white space before
   * the document */
  while(n && (*body == ' ' || *body == '\n' || *body == '\r' ||
              *body == '\t'))
    body++, n--;
  vs__s3x_init(&x, body, n);
  if(!vs__s3x_root(&x) && !strcmp(x.name, "Error"))
    return embedded_error(body, n, what, err);
  if(root_is(&x, body, n, root))
    return malformed(&x, what, err);
  while((rc = vs__s3x_child(&x, root)) == 1) {
    rc = !strcmp(x.name, "ETag") ? etag_text(&x, etag, cap)
                                 : vs__s3x_skip(&x);
    if(rc)
      break;
  }
  if(rc || vs__s3x_end(&x)) {
    *etag = 0;
    return malformed(&x, what, err);
  }
  return VS_OK; /* an empty ETag too: Ceph RGW sends <ETag></ETag> */
}

int vs__s3_parse_complete(const char *body, size_t n, char *etag,
                          size_t cap, vs_err *err)
{
  return vs__s3_parse_result(body, n, "CompleteMultipartUploadResult",
                             "CompleteMultipartUpload", etag, cap, err);
}

/* ---- growing arrays ------------------------------------------------------ */

static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
  void *p;
  size_t c = *cap ? *cap * 2 : 16;
  if(n < *cap)
    return arr;
  if(!(p = realloc(arr, c * size)))
    return NULL;
  memset((char *)p + n * size, 0, (c - n) * size);
  *cap = c;
  return p;
}

void vs_s3_list_page_free(vs_s3_list_page *p)
{
  size_t i;
  if(!p)
    return;
  for(i = 0; i < p->n; i++)
    free(p->entries[i].key);
  for(i = 0; i < p->n_prefixes; i++)
    free(p->prefixes[i]);
  free(p->entries);
  free(p->prefixes);
  free(p->next_token);
  free(p->next_key_marker);
  free(p->next_version_marker);
  memset(p, 0, sizeof(*p));
}

void vs_s3_uploads_page_free(vs_s3_uploads_page *p)
{
  size_t i;
  if(!p)
    return;
  for(i = 0; i < p->n; i++)
    free(p->uploads[i].key);
  free(p->uploads);
  free(p->next_key_marker);
  free(p->next_upload_id_marker);
  memset(p, 0, sizeof(*p));
}

/* ---- listings ----------------------------------------------------------- */

/* One field of a Contents, Version or DeleteMarker element. */
static int entry_field(vs__s3x *x, vs_s3_entry *e)
{
  char v[64];
  if(!strcmp(x->name, "Key"))
    return text_dup(x, KEY_MAX, &e->key);
  if(!strcmp(x->name, "ETag"))
    return etag_text(x, e->etag, sizeof(e->etag));
  if(!strcmp(x->name, "VersionId"))
    return vs__s3x_text_to(x, e->version_id, sizeof(e->version_id));
  if(!strcmp(x->name, "Size"))
    return vs__s3x_text_to(x, v, sizeof(v)) || parse_u64(v, &e->size)
             ? (x->why = x->why ? x->why : "bad Size", -1) : 0;
  if(!strcmp(x->name, "LastModified"))
    return vs__s3x_text_to(x, v, sizeof(v)) ||
               vs__s3_parse_time(v, &e->mtime_ms)
             ? (x->why = x->why ? x->why : "bad LastModified", -1) : 0;
  if(!strcmp(x->name, "IsLatest"))
    return vs__s3x_text_to(x, v, sizeof(v)) || parse_bool(v, &e->is_latest)
             ? (x->why = x->why ? x->why : "bad IsLatest", -1) : 0;
  return vs__s3x_skip(x);
}

static int entry(vs__s3x *x, vs_s3_list_page *p, size_t *cap, int marker)
{
  char parent[sizeof(x->name)];
  vs_s3_entry *e;
  int rc;
  if(!(e = grow(p->entries, p->n, cap, sizeof(*e))))
    return -3;
  p->entries = e;
  e = &p->entries[p->n++];
  e->delete_marker = marker;
  if(x->empty)
    return (x->why = "entry without a Key", -1);
  memcpy(parent, x->name, sizeof(parent));
  while((rc = vs__s3x_child(x, parent)) == 1)
    if((rc = entry_field(x, e)))
      return rc;
  if(!rc && !e->key)
    return (x->why = "entry without a Key", -1);
  return rc;
}

static int prefix(vs__s3x *x, vs_s3_list_page *p, size_t *cap)
{
  char **v;
  int rc;
  if(x->empty)
    return 0;
  while((rc = vs__s3x_child(x, "CommonPrefixes")) == 1) {
    if(strcmp(x->name, "Prefix")) {
      if((rc = vs__s3x_skip(x)))
        return rc;
      continue;
    }
    if(!(v = grow(p->prefixes, p->n_prefixes, cap, sizeof(*v))))
      return -3;
    p->prefixes = v;
    if((rc = vs__s3x_text(x, KEY_MAX, &p->prefixes[p->n_prefixes])))
      return rc;
    p->n_prefixes++;
  }
  return rc;
}

/* The children of a listing's root, both kinds. */
static int list_child(vs__s3x *x, vs_s3_list_page *p, size_t caps[2],
                      int versions, int *url)
{
  char v[16];
  if(!strcmp(x->name, "EncodingType"))
    return encoding_type(x, url);
  if(!versions && !strcmp(x->name, "Contents"))
    return entry(x, p, &caps[0], 0);
  if(versions && !strcmp(x->name, "Version"))
    return entry(x, p, &caps[0], 0);
  if(versions && !strcmp(x->name, "DeleteMarker"))
    return entry(x, p, &caps[0], 1);
  if(!strcmp(x->name, "CommonPrefixes"))
    return prefix(x, p, &caps[1]);
  if(!strcmp(x->name, "IsTruncated"))
    return vs__s3x_text_to(x, v, sizeof(v)) || parse_bool(v, &p->truncated)
             ? (x->why = x->why ? x->why : "bad IsTruncated", -1) : 0;
  if(!versions && !strcmp(x->name, "NextContinuationToken"))
    return text_dup(x, TOKEN_MAX, &p->next_token);
  if(versions && !strcmp(x->name, "NextKeyMarker"))
    return text_dup(x, KEY_MAX, &p->next_key_marker);
  if(versions && !strcmp(x->name, "NextVersionIdMarker"))
    return text_dup(x, TOKEN_MAX, &p->next_version_marker);
  return vs__s3x_skip(x);
}

static int parse_listing(const char *body, size_t n, vs_s3_list_page *out,
                         int versions, vs_err *err)
{
  const char *root = versions ? "ListVersionsResult" : "ListBucketResult";
  const char *what = versions ? "ListObjectVersions" : "ListObjectsV2";
  size_t caps[2] = {0, 0};
  vs__s3x x;
  int rc, url = 0;
  memset(out, 0, sizeof(*out));
  if(root_is(&x, body, n, root))
    return malformed(&x, what, err);
  while((rc = vs__s3x_child(&x, root)) == 1)
    if((rc = list_child(&x, out, caps, versions, &url)))
      break;
  if(!rc && vs__s3x_end(&x))
    rc = -1;
  if(!rc && url && (rc = decode_list_page(out)) == -1)
    x.why = "bad %-escape in a url-encoded name";
  if(!rc && out->truncated && !(versions ? out->next_key_marker
                                         : out->next_token)) {
    x.why = "truncated without a marker to go on from";
    rc = -1;
  }
  if(rc) {
    vs_s3_list_page_free(out);
    return rc == -3 ? nomem(err) : malformed(&x, what, err);
  }
  return VS_OK;
}

int vs__s3_parse_list(const char *body, size_t n, vs_s3_list_page *out,
                      vs_err *err)
{
  return parse_listing(body, n, out, 0, err);
}

int vs__s3_parse_versions(const char *body, size_t n, vs_s3_list_page *out,
                          vs_err *err)
{
  return parse_listing(body, n, out, 1, err);
}

/* ---- ListMultipartUploads ------------------------------------------------ */

static int upload(vs__s3x *x, vs_s3_uploads_page *p, size_t *cap)
{
  vs_s3_upload *u;
  char v[64];
  int rc;
  if(!(u = grow(p->uploads, p->n, cap, sizeof(*u))))
    return -3;
  p->uploads = u;
  u = &p->uploads[p->n++];
  if(x->empty)
    return (x->why = "Upload without a Key", -1);
  while((rc = vs__s3x_child(x, "Upload")) == 1) {
    if(!strcmp(x->name, "Key"))
      rc = text_dup(x, KEY_MAX, &u->key);
    else if(!strcmp(x->name, "UploadId"))
      rc = vs__s3x_text_to(x, u->upload_id, sizeof(u->upload_id));
    else if(!strcmp(x->name, "Initiated"))
      rc = vs__s3x_text_to(x, v, sizeof(v)) ||
               vs__s3_parse_time(v, &u->initiated_ms)
             ? (x->why = x->why ? x->why : "bad Initiated", -1) : 0;
    else
      rc = vs__s3x_skip(x);
    if(rc)
      return rc;
  }
  if(!rc && (!u->key || !u->upload_id[0]))
    return (x->why = "Upload without a Key or UploadId", -1);
  return rc;
}

int vs__s3_parse_uploads(const char *body, size_t n, vs_s3_uploads_page *out,
                         vs_err *err)
{
  static const char root[] = "ListMultipartUploadsResult";
  size_t cap = 0;
  vs__s3x x;
  char v[16];
  int rc, url = 0;
  memset(out, 0, sizeof(*out));
  if(root_is(&x, body, n, root))
    return malformed(&x, "ListMultipartUploads", err);
  while((rc = vs__s3x_child(&x, root)) == 1) {
    if(!strcmp(x.name, "Upload"))
      rc = upload(&x, out, &cap);
    else if(!strcmp(x.name, "IsTruncated"))
      rc = vs__s3x_text_to(&x, v, sizeof(v)) || parse_bool(v, &out->truncated)
             ? (x.why = x.why ? x.why : "bad IsTruncated", -1) : 0;
    else if(!strcmp(x.name, "NextKeyMarker"))
      rc = text_dup(&x, KEY_MAX, &out->next_key_marker);
    else if(!strcmp(x.name, "NextUploadIdMarker"))
      rc = text_dup(&x, TOKEN_MAX, &out->next_upload_id_marker);
    else if(!strcmp(x.name, "EncodingType"))
      rc = encoding_type(&x, &url);
    else
      rc = vs__s3x_skip(&x);
    if(rc)
      break;
  }
  if(!rc && vs__s3x_end(&x))
    rc = -1;
  if(!rc && url && (rc = decode_uploads_page(out)) == -1)
    x.why = "bad %-escape in a url-encoded name";
  if(rc) {
    vs_s3_uploads_page_free(out);
    return rc == -3 ? nomem(err) : malformed(&x, "ListMultipartUploads", err);
  }
  return VS_OK;
}

/* ---- ListParts ----------------------------------------------------------- */

void vs_s3_parts_page_free(vs_s3_parts_page *p)
{
  if(!p)
    return;
  free(p->parts);
  memset(p, 0, sizeof(*p));
}

static int part_number(vs__s3x *x, unsigned *out)
{
  char v[16];
  uint64_t n;
  if(vs__s3x_text_to(x, v, sizeof(v)) || parse_u64(v, &n) || n > 100000)
    return (x->why = x->why ? x->why : "bad PartNumber", -1);
  *out = (unsigned)n;
  return 0;
}

static int part(vs__s3x *x, vs_s3_parts_page *p, size_t *cap)
{
  vs_s3_part_entry *e;
  char v[64];
  int rc;
  if(!(e = grow(p->parts, p->n, cap, sizeof(*e))))
    return -3;
  p->parts = e;
  e = &p->parts[p->n++];
  if(x->empty)
    return (x->why = "empty Part", -1);
  while((rc = vs__s3x_child(x, "Part")) == 1) {
    if(!strcmp(x->name, "PartNumber"))
      rc = part_number(x, &e->number);
    else if(!strcmp(x->name, "ETag"))
      rc = etag_text(x, e->etag, sizeof(e->etag));
    else if(!strcmp(x->name, "Size"))
      rc = vs__s3x_text_to(x, v, sizeof(v)) || parse_u64(v, &e->size)
             ? (x->why = x->why ? x->why : "bad Size", -1) : 0;
    else if(!strcmp(x->name, "LastModified"))
      rc = vs__s3x_text_to(x, v, sizeof(v)) ||
               vs__s3_parse_time(v, &e->mtime_ms)
             ? (x->why = x->why ? x->why : "bad LastModified", -1) : 0;
    else
      rc = vs__s3x_skip(x);
    if(rc)
      return rc;
  }
  if(!rc && !e->number)
    return (x->why = "Part without a PartNumber", -1);
  return rc;
}

int vs__s3_parse_parts(const char *body, size_t n, vs_s3_parts_page *out,
                       vs_err *err)
{
  static const char root[] = "ListPartsResult";
  size_t cap = 0;
  vs__s3x x;
  char v[16];
  int rc;
  memset(out, 0, sizeof(*out));
  if(root_is(&x, body, n, root))
    return malformed(&x, "ListParts", err);
  while((rc = vs__s3x_child(&x, root)) == 1) {
    if(!strcmp(x.name, "Part"))
      rc = part(&x, out, &cap);
    else if(!strcmp(x.name, "IsTruncated"))
      rc = vs__s3x_text_to(&x, v, sizeof(v)) || parse_bool(v, &out->truncated)
             ? (x.why = x.why ? x.why : "bad IsTruncated", -1) : 0;
    else if(!strcmp(x.name, "NextPartNumberMarker"))
      rc = part_number(&x, &out->next_marker);
    else
      rc = vs__s3x_skip(&x);
    if(rc)
      break;
  }
  if(!rc && vs__s3x_end(&x))
    rc = -1;
  if(rc) {
    vs_s3_parts_page_free(out);
    return rc == -3 ? nomem(err) : malformed(&x, "ListParts", err);
  }
  return VS_OK;
}

/* ---- GetBucketVersioning ------------------------------------------------- */

int vs__s3_parse_versioning(const char *body, size_t n, int *state,
                            vs_err *err)
{
  vs__s3x x;
  char v[32] = "";
  int rc = 0;
  *state = VS_S3_VERSIONING_NEVER;
  vs__s3x_init(&x, body, n);
  if(vs__s3x_root(&x) || strcmp(x.name, "VersioningConfiguration"))
    return malformed(&x, "GetBucketVersioning", err);
  if(x.empty) /* never enabled: RGW and MinIO send <VersioningConfiguration/> */
    return vs__s3x_end(&x) ? malformed(&x, "GetBucketVersioning", err) : VS_OK;
  while((rc = vs__s3x_child(&x, "VersioningConfiguration")) == 1) {
    rc = !strcmp(x.name, "Status") ? vs__s3x_text_to(&x, v, sizeof(v))
                                   : vs__s3x_skip(&x);
    if(rc)
      break;
  }
  if(!rc && vs__s3x_end(&x))
    rc = -1;
  if(!rc && *v && strcmp(v, "Enabled") && strcmp(v, "Suspended")) {
    x.why = "Status is neither Enabled nor Suspended";
    rc = -1;
  }
  if(rc)
    return malformed(&x, "GetBucketVersioning", err);
  *state = !*v ? VS_S3_VERSIONING_NEVER
           : !strcmp(v, "Enabled") ? VS_S3_VERSIONING_ENABLED
                                   : VS_S3_VERSIONING_SUSPENDED;
  return VS_OK;
}
