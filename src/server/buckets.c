/* Bucket operations: ListBuckets, HeadBucket, CreateBucket,
 * GetBucketLocation and GetBucketVersioning, in S3's formats.
 *
 * CreateBucket of a bucket the sink serves answers 200, as S3 answers the
 * bucket's owner in us-east-1: rclone sends it before every upload. Of any
 * other bucket it is refused with 403 AccessDenied, what S3, MinIO and
 * Ceph RGW answer a caller whose policy does not allow s3:CreateBucket
 * (RGW: a user whose max_buckets forbids creating), unless the operator
 * started the sink with --allow-bucket-create. The permission comes before
 * the name's validity, as in RGW and MinIO: a caller who may not create
 * buckets learns nothing about names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/log.h"
#include "util/xml.h"

#define CONFIG_MAX (64 * 1024) /* a CreateBucketConfiguration, at most */

static enum MHD_Result send_empty(vs__req *r, unsigned status,
                                  const char *h, const char *v)
{
  struct MHD_Response *resp =
    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  r->phase = 2;
  if(!resp)
    return MHD_NO;
  if(h)
    MHD_add_response_header(resp, h, v);
  return vs__send(r, status, resp);
}

/* Sends b's XML, or 500 if b could not be built; frees b. */
static enum MHD_Result send_xml(vs__req *r, vs_buf *b)
{
  enum MHD_Result ret;
  r->phase = 2;
  ret = b->failed ? vs__reject(r, VS__S3_INTERNAL, "out of memory")
                  : vs__send_buf(r, MHD_HTTP_OK, b, "application/xml");
  vs_buf_free(b);
  return ret;
}

enum MHD_Result vs__head_bucket(vs__req *r, const char *data, size_t *size)
{
  (void)data;
  *size = 0;
  return send_empty(r, MHD_HTTP_OK, "x-amz-bucket-region", r->srv->region);
}

/* ---- ListBuckets ----------------------------------------------------------- */

enum MHD_Result vs__list_buckets(vs__req *r, const char *data, size_t *size)
{
  vs_buf b = VS_BUF_INIT;
  vs__bucket *v;
  size_t i, n;
  char when[25];
  (void)data;
  *size = 0;
  if(vs__buckets_served(r->srv, &v, &n))
    return vs__reject(r, VS__S3_INTERNAL, "out of memory");
  vs_buf_adds(&b, VS_XML_HEAD "<ListAllMyBucketsResult xmlns=\"" VS_XML_NS
              "\"><Owner><ID>" VS__OWNER_ID "</ID><DisplayName>"
              VS__OWNER_NAME "</DisplayName></Owner><Buckets>");
  for(i = 0; i < n; i++) { /* names are [a-z0-9.-]: nothing to escape */
    vs_time_rfc3339(v[i].created_ms, when);
    vs_buf_addf(&b, "<Bucket><Name>%s</Name><CreationDate>%s</CreationDate>"
                "<BucketRegion>%s</BucketRegion></Bucket>", v[i].name, when,
                r->srv->region);
  }
  vs_buf_adds(&b, "</Buckets></ListAllMyBucketsResult>");
  vs__buckets_served_free(v, n);
  return send_xml(r, &b);
}

/* ---- GetBucketLocation, GetBucketVersioning -------------------------------- */

enum MHD_Result vs__get_bucket_location(vs__req *r, const char *data,
                                        size_t *size)
{
  vs_buf b = VS_BUF_INIT;
  /* S3 names us-east-1 by an empty constraint (it predates regions) */
  const char *loc = strcmp(r->srv->region, "us-east-1") ? r->srv->region
                                                         : "";
  (void)data;
  *size = 0;
  vs_buf_addf(&b, VS_XML_HEAD "<LocationConstraint xmlns=\"" VS_XML_NS
              "\">%s</LocationConstraint>", loc);
  return send_xml(r, &b);
}

/* Versioning is the sink's --on-existing policy: "version" keeps every
 * object, as an S3 bucket with versioning Enabled does. The others have
 * never had versioning turned on, which S3 answers with no Status. */
enum MHD_Result vs__get_bucket_versioning(vs__req *r, const char *data,
                                          size_t *size)
{
  vs_buf b = VS_BUF_INIT;
  (void)data;
  *size = 0;
  vs_buf_adds(&b, VS_XML_HEAD "<VersioningConfiguration xmlns=\"" VS_XML_NS
              "\">");
  if(r->srv->cfg.on_existing == VS_ON_EXISTING_VERSION)
    vs_buf_adds(&b, "<Status>Enabled</Status>");
  vs_buf_adds(&b, "</VersioningConfiguration>");
  return send_xml(r, &b);
}

/* ---- the CreateBucketConfiguration body ------------------------------------ */

typedef struct xml_in {
  const char *p, *end;
} xml_in;

static int is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int starts(const xml_in *x, const char *s)
{
  size_t n = strlen(s);
  return (size_t)(x->end - x->p) >= n && !memcmp(x->p, s, n);
}

/* Skips what may stand between elements: spaces, the XML declaration and
 * other processing instructions, comments. -1 on one left open. */
static int skip_misc(xml_in *x)
{
  for(;;) {
    const char *close;
    while(x->p < x->end && is_space(*x->p))
      x->p++;
    if(starts(x, "<?"))
      close = "?>";
    else if(starts(x, "<!--"))
      close = "-->";
    else
      return 0;
    for(x->p += 2; !starts(x, close); x->p++)
      if(x->p >= x->end)
        return -1;
    x->p += strlen(close);
  }
}

/* XML's name characters, near enough: a NUL or a quote never is one. */
static int name_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
         c == ':' || (unsigned char)c >= 0x80;
}

/* "<name attr='v' ...>" or "<name .../>": the name in name[], whether it
 * closed itself. Attributes (xmlns) are skipped, quotes respected. */
static int start_tag(xml_in *x, char *name, size_t cap, int *empty)
{
  size_t n = 0;
  char q = 0;
  if(x->p >= x->end || *x->p != '<')
    return -1;
  for(x->p++; x->p < x->end && !is_space(*x->p) && *x->p != '>' &&
              *x->p != '/'; x->p++) {
    if(n + 1 >= cap || !name_char(*x->p))
      return -1;
    name[n++] = *x->p;
  }
  name[n] = 0;
  if(!n || name[0] == ':' || name[n - 1] == ':')
    return -1;
  for(; x->p < x->end; x->p++) {
    if(q) {
      if(*x->p == q)
        q = 0;
    }
    else if(*x->p == '"' || *x->p == '\'')
      q = *x->p;
    else if(*x->p == '<')
      return -1;
    else if(*x->p == '>') {
      *empty = x->p[-1] == '/';
      x->p++;
      return 0;
    }
  }
  return -1;
}

static int end_tag(xml_in *x, const char *name)
{
  size_t n = strlen(name);
  if(!starts(x, "</") || (size_t)(x->end - x->p) < n + 2 ||
     memcmp(x->p + 2, name, n))
    return -1;
  for(x->p += 2 + n; x->p < x->end && is_space(*x->p); x->p++)
    ;
  if(x->p >= x->end || *x->p != '>')
    return -1;
  x->p++;
  return 0;
}

/* The name after any namespace prefix ("s3:LocationConstraint"). */
static const char *local(const char *name)
{
  const char *c = strchr(name, ':');
  return c ? c + 1 : name;
}

/* A text-only element's content, spaces trimmed, into out; any markup
 * inside (or an entity: no region has one) is malformed. */
static int text(xml_in *x, char *out, size_t cap)
{
  const char *s = x->p, *e;
  size_t n;
  while(x->p < x->end && *x->p != '<') {
    if(*x->p == '&' || (*x->p == 0)) /* XML has no NUL */
      return -1;
    x->p++;
  }
  for(e = x->p; s < e && is_space(*s); s++)
    ;
  while(e > s && is_space(e[-1]))
    e--;
  n = (size_t)(e - s);
  if(n >= cap)
    n = cap - 1; /* too long for a region: compared, and refused, short */
  memcpy(out, s, n);
  out[n] = 0;
  return 0;
}

static int parse_config(const char *body, size_t n, char *loc, size_t cap,
                        char *what, size_t wcap)
{
  xml_in x = {body, body + n};
  char root[64], name[64];
  int empty = 0, seen = 0;
  loc[0] = 0;
  what[0] = 0;
  if(skip_misc(&x))
    return -1;
  if(x.p == x.end)
    return 0; /* no configuration: the sink's region */
  if(start_tag(&x, root, sizeof(root), &empty) ||
     strcmp(local(root), "CreateBucketConfiguration"))
    return -1;
  while(!empty) {
    if(skip_misc(&x))
      return -1;
    if(starts(&x, "</")) {
      if(end_tag(&x, root))
        return -1;
      break;
    }
    if(start_tag(&x, name, sizeof(name), &empty))
      return -1;
    if(strcmp(local(name), "LocationConstraint")) {
      snprintf(what, wcap, "%s", local(name)); /* Location, Bucket, Tags */
      return -2;
    }
    if(seen++)
      return -1;
    if(!empty && (text(&x, loc, cap) || end_tag(&x, name)))
      return -1;
    empty = 0;
  }
  if(skip_misc(&x) || x.p != x.end)
    return -1;
  return 0;
}

int vs__create_bucket_parse(const char *body, size_t n, char *loc,
                            size_t cap, char *what, size_t wcap)
{
  int rc = parse_config(body, n, loc, cap, what, wcap);
  if(rc)
    loc[0] = 0; /* a refused body names no region */
  return rc;
}

/* ---- CreateBucket ---------------------------------------------------------- */

/* The body's LocationConstraint must name the sink's region, or none. */
static int location_ok(vs__req *r, vs__s3code *code, char *msg, size_t cap)
{
  char loc[64], what[64];
  int rc = vs__create_bucket_parse(r->body ? r->body : "", r->body_len, loc,
                                   sizeof(loc), what, sizeof(what));
  if(rc == -1)
    return *code = VS__S3_MALFORMED_XML, 0;
  if(rc == -2) {
    snprintf(msg, cap, "CreateBucketConfiguration: <%s> is not implemented "
             "by vsink", what);
    return *code = VS__S3_NOT_IMPLEMENTED, 0;
  }
  if(loc[0] && strcmp(loc, r->srv->region)) {
    snprintf(msg, cap, "The %s location constraint is incompatible for the "
             "region specific endpoint this request was sent to (%s).", loc,
             r->srv->region);
    return *code = VS__S3_ILLEGAL_LOCATION, 0;
  }
  return 1;
}

/* On a commit thread: the folder's mkdir and the list's fsyncs. */
static void create_work(vs__req *r)
{
  vs_err err = {0};
  int rc = vs__bucket_create(r->srv, r->bucket, &err);
  r->done_code = rc == VS_OK || rc == VS_ERR_EXISTS ? VS__S3_NONE
                 : rc == VS_ERR_INVALID ? VS__S3_INVALID_BUCKET_NAME
                                        : VS__S3_INTERNAL;
  snprintf(r->done_msg, sizeof(r->done_msg), "%s", err.msg);
  if(rc == VS_OK)
    vs_log("info", "bucket %s created", r->bucket);
  else if(rc != VS_ERR_EXISTS)
    vs_log("error", "bucket %s not created: %s", r->bucket, err.msg);
}

static enum MHD_Result create_first(vs__req *r)
{
  const char *cl = vs__header(r->conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
  vs_err err = {0};
  char msg[200] = "";
  vs__s3code code;
  if(!vs__bucket_known(r->srv, r->bucket)) {
    if(!r->srv->cfg.allow_bucket_create)
      return vs__reject(r, VS__S3_ACCESS_DENIED, "this sink serves its "
                        "configured buckets; creating others takes "
                        "vsink serve --allow-bucket-create");
    if(vs_store_check_bucket(r->bucket, &err))
      return vs__reject(r, VS__S3_INVALID_BUCKET_NAME, err.msg);
  }
  if(cl && strtoull(cl, NULL, 10) > CONFIG_MAX)
    return vs__reject(r, VS__S3_TOO_LARGE, "a CreateBucketConfiguration "
                      "is at most 64 KiB");
  /* the body is held whole and checked at its end against the signed
   * SHA-256 and any Content-MD5 (body.c) */
  if((code = vs__body_digests(r, 0, msg, sizeof(msg))))
    return vs__reject(r, code, msg[0] ? msg : NULL);
  r->phase = 1;
  return MHD_YES;
}

static enum MHD_Result created(vs__req *r)
{
  char where[80];
  if(r->done_code)
    return vs__reject(r, r->done_code, r->done_msg[0] ? r->done_msg : NULL);
  snprintf(where, sizeof(where), "/%s", r->bucket);
  return send_empty(r, MHD_HTTP_OK, "Location", where);
}

enum MHD_Result vs__create_bucket(vs__req *r, const char *data, size_t *size)
{
  char msg[200] = "";
  vs__s3code code;
  if(r->phase == 0)
    return create_first(r);
  if(r->phase == 3)
    return created(r);
  if(r->phase == 2) {
    *size = 0;
    return MHD_YES;
  }
  if(*size) {
    size_t n = *size;
    *size = 0;
    return vs__body_piece(r, data, n, CONFIG_MAX,
                          "a CreateBucketConfiguration is at most 64 KiB");
  }
  if((code = vs__body_matches(r, msg, sizeof(msg))) ||
     !location_ok(r, &code, msg, sizeof(msg)))
    return vs__reject(r, code, msg[0] ? msg : NULL);
  if(vs__bucket_known(r->srv, r->bucket)) /* as S3 answers its owner */
    return created(r);
  r->phase = 3;
  if(vs__commit_submit(r, create_work))
    return vs__reject(r, VS__S3_UNAVAILABLE, NULL);
  return MHD_YES;
}
