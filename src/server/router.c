/* The sink's one route table.
 *
 * A request is an operation only when one row below matches it exactly:
 * its method, the kind of its path, every query parameter it carries (the
 * row must name each one) and no refusing header rule. Anything else is
 * refused, 501 NotImplemented unless another S3 error fits better, so a
 * request the sink does not implement can never be served as one it does:
 * PUT ?acl is not a PUT of its body, GET ?tagging is not a GET of the
 * object. Adding an operation is adding a row (and its handler); nothing
 * else has to remember to refuse.
 *
 * Refusals are answered after authentication (S3's order: an unsigned
 * caller learns no more than AccessDenied), except where the request could
 * never authenticate through our verifier or is not S3 at all: a
 * malformed path, a method S3 does not have, a CORS preflight, a browser
 * form upload (its signature is in the body) and an aws-chunked body (its
 * seed signature is part of what is not implemented). MinIO answers every
 * unknown route before authentication; S3 after. Either way the request's
 * body is never read: the refusal is queued on the first call.
 *
 * Pure: no libmicrohttpd call, no allocation, no state. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/router.h"
#include "server/router_rules.h"
#include "util/enc.h"

enum path_kind { P_HEALTH, P_METRICS, P_HOOK, P_ROOT, P_BUCKET, P_OBJECT };

/* Query parameter groups a row accepts. */
#define Q_SIGV4 0x01u   /* X-Amz-Algorithm ... X-Amz-Security-Token, and
                           SigV2's AWSAccessKeyId, Expires, Signature */
#define Q_XID 0x02u     /* x-id=<the row's S3 operation>, added by AWS SDKs */
#define Q_VERSION 0x04u /* versionId */
#define Q_AMZ 0x08u     /* x-amz-* request headers moved into a presigned
                           URL's query (botocore does): x-amz-meta-*, and
                           the row's header rules applied to the value */
#define Q_ANY 0x80u     /* anything: unauthenticated pages a query string
                           cannot change (load balancers add cache busters) */

typedef struct route_row {
  const char *method;
  enum path_kind path;
  const char *sub;    /* the sub-resource the row requires, NULL: none */
  unsigned query;     /* accepted query parameters besides sub */
  int headers;        /* header rules that refuse the request */
  vs__op op;
  const char *s3op;   /* S3's name of the operation; x-id must equal it */
} route_row;

/* THE TABLE. A request that matches no row is refused. */
static const route_row ROUTES[] = {
/* method  path       sub   accepted query                  headers op */
  {"GET",  P_HEALTH,  NULL, Q_ANY,                          H_NONE,
   VS__OP_HEALTH, NULL},
  {"HEAD", P_HEALTH,  NULL, Q_ANY,                          H_NONE,
   VS__OP_HEALTH, NULL},
  {"GET",  P_METRICS, NULL, Q_ANY,                          H_NONE,
   VS__OP_METRICS, NULL},
  {"HEAD", P_METRICS, NULL, Q_ANY,                          H_NONE,
   VS__OP_METRICS, NULL},
  {"POST", P_HOOK,    NULL, Q_SIGV4,                        H_NONE,
   VS__OP_HOOK, NULL},
  {"HEAD", P_BUCKET,  NULL, Q_SIGV4 | Q_XID,                H_NONE,
   VS__OP_HEAD_BUCKET, "HeadBucket"},
  {"GET",  P_OBJECT,  NULL, Q_SIGV4 | Q_XID | Q_VERSION,    H_NONE,
   VS__OP_GET_OBJECT, "GetObject"},
  {"HEAD", P_OBJECT,  NULL, Q_SIGV4 | Q_XID | Q_VERSION,    H_NONE,
   VS__OP_HEAD_OBJECT, "HeadObject"},
  {"PUT",  P_OBJECT,  NULL, Q_SIGV4 | Q_XID | Q_AMZ,        H_PUT,
   VS__OP_PUT_OBJECT, "PutObject"},
  /* copy.c: a PUT with x-amz-copy-source (COPY_RULES require it; PUT_RULES
   * refuse it), so a copy is never taken for a PUT of its body */
  {"PUT",  P_OBJECT,  NULL, Q_SIGV4 | Q_XID,                H_COPY,
   VS__OP_COPY_OBJECT, "CopyObject"},
  {"GET",  P_ROOT,    NULL, Q_SIGV4 | Q_XID,                H_NONE,
   VS__OP_LIST_BUCKETS, "ListBuckets"},
  {"PUT",  P_BUCKET,  NULL, Q_SIGV4 | Q_XID,                H_CREATE_BUCKET,
   VS__OP_CREATE_BUCKET, "CreateBucket"},
  {"GET",  P_BUCKET,  "location", Q_SIGV4 | Q_XID,          H_NONE,
   VS__OP_GET_BUCKET_LOCATION, "GetBucketLocation"},
  {"GET",  P_BUCKET,  "versioning", Q_SIGV4 | Q_XID,        H_NONE,
   VS__OP_GET_BUCKET_VERSIONING, "GetBucketVersioning"},
  /* listing: each operation's own parameters (OP_PARAMS below); the
   * rows with a sub-resource first, so that a refusal names theirs */
  {"GET",  P_BUCKET,  "list-type", Q_SIGV4 | Q_XID,         H_NONE,
   VS__OP_LIST_OBJECTS_V2, "ListObjectsV2"},
  {"GET",  P_BUCKET,  "versions", Q_SIGV4 | Q_XID,          H_NONE,
   VS__OP_LIST_VERSIONS, "ListObjectVersions"},
  {"GET",  P_BUCKET,  NULL, Q_SIGV4 | Q_XID,                H_NONE,
   VS__OP_LIST_OBJECTS, "ListObjects"},
  /* delete.c: a delete marker; with versionId a purge (--allow-purge) */
  {"DELETE", P_OBJECT, NULL, Q_SIGV4 | Q_XID | Q_VERSION,   H_DELETE,
   VS__OP_DELETE_OBJECT, "DeleteObject"},
  {"POST", P_BUCKET,  "delete", Q_SIGV4 | Q_XID,            H_DELETE,
   VS__OP_DELETE_OBJECTS, "DeleteObjects"},
  /* multipart uploads: mpu.c, mpu_list.c, mpu_copy.c; an UploadPart
   * streams through objects.c's PUT path into the upload's part */
  {"POST", P_OBJECT,  "uploads", Q_SIGV4 | Q_XID,           H_MPU_CREATE,
   VS__OP_CREATE_MPU, "CreateMultipartUpload"},
  {"PUT",  P_OBJECT,  "uploadId", Q_SIGV4 | Q_XID | Q_AMZ,  H_PART,
   VS__OP_UPLOAD_PART, "UploadPart"},
  {"PUT",  P_OBJECT,  "uploadId", Q_SIGV4 | Q_XID,          H_PART_COPY,
   VS__OP_UPLOAD_PART_COPY, "UploadPartCopy"},
  {"POST", P_OBJECT,  "uploadId", Q_SIGV4 | Q_XID,          H_COMPLETE,
   VS__OP_COMPLETE_MPU, "CompleteMultipartUpload"},
  {"DELETE", P_OBJECT, "uploadId", Q_SIGV4 | Q_XID,         H_ABORT,
   VS__OP_ABORT_MPU, "AbortMultipartUpload"},
  {"GET",  P_OBJECT,  "uploadId", Q_SIGV4 | Q_XID,          H_NONE,
   VS__OP_LIST_PARTS, "ListParts"},
  {"GET",  P_BUCKET,  "uploads", Q_SIGV4 | Q_XID,           H_NONE,
   VS__OP_LIST_MPUS, "ListMultipartUploads"},
  /* tagging.c: objects have no tags (PUT refuses them), so an empty set */
  {"GET",  P_OBJECT,  "tagging", Q_SIGV4 | Q_XID | Q_VERSION, H_NONE,
   VS__OP_GET_OBJECT_TAGGING, "GetObjectTagging"},
};

/* Parameters an operation takes besides its row's groups: what the
 * handler reads and checks (list.c for the listings). */
static const struct {
  vs__op op;
  const char *name;
} OP_PARAMS[] = {
  {VS__OP_LIST_OBJECTS_V2, "prefix"}, {VS__OP_LIST_OBJECTS_V2, "delimiter"},
  {VS__OP_LIST_OBJECTS_V2, "max-keys"},
  {VS__OP_LIST_OBJECTS_V2, "start-after"},
  {VS__OP_LIST_OBJECTS_V2, "continuation-token"},
  {VS__OP_LIST_OBJECTS_V2, "fetch-owner"},
  {VS__OP_LIST_OBJECTS_V2, "encoding-type"},
  {VS__OP_LIST_OBJECTS, "prefix"}, {VS__OP_LIST_OBJECTS, "delimiter"},
  {VS__OP_LIST_OBJECTS, "max-keys"}, {VS__OP_LIST_OBJECTS, "marker"},
  {VS__OP_LIST_OBJECTS, "encoding-type"},
  {VS__OP_LIST_VERSIONS, "prefix"}, {VS__OP_LIST_VERSIONS, "delimiter"},
  {VS__OP_LIST_VERSIONS, "max-keys"}, {VS__OP_LIST_VERSIONS, "key-marker"},
  {VS__OP_LIST_VERSIONS, "version-id-marker"},
  {VS__OP_LIST_VERSIONS, "encoding-type"},
  /* objects.c: a part of the object, and the response header overrides
   * of a signed GET or HEAD (objmeta.c) */
  {VS__OP_GET_OBJECT, "partNumber"}, {VS__OP_HEAD_OBJECT, "partNumber"},
  {VS__OP_GET_OBJECT, "response-content-type"},
  {VS__OP_GET_OBJECT, "response-content-language"},
  {VS__OP_GET_OBJECT, "response-expires"},
  {VS__OP_GET_OBJECT, "response-cache-control"},
  {VS__OP_GET_OBJECT, "response-content-disposition"},
  {VS__OP_GET_OBJECT, "response-content-encoding"},
  {VS__OP_HEAD_OBJECT, "response-content-type"},
  {VS__OP_HEAD_OBJECT, "response-content-language"},
  {VS__OP_HEAD_OBJECT, "response-expires"},
  {VS__OP_HEAD_OBJECT, "response-cache-control"},
  {VS__OP_HEAD_OBJECT, "response-content-disposition"},
  {VS__OP_HEAD_OBJECT, "response-content-encoding"},
  /* mpu.c, mpu_list.c */
  {VS__OP_UPLOAD_PART, "partNumber"}, {VS__OP_UPLOAD_PART_COPY, "partNumber"},
  {VS__OP_LIST_PARTS, "max-parts"}, {VS__OP_LIST_PARTS, "part-number-marker"},
  {VS__OP_LIST_PARTS, "encoding-type"},
  {VS__OP_LIST_MPUS, "prefix"}, {VS__OP_LIST_MPUS, "delimiter"},
  {VS__OP_LIST_MPUS, "key-marker"}, {VS__OP_LIST_MPUS, "upload-id-marker"},
  {VS__OP_LIST_MPUS, "max-uploads"}, {VS__OP_LIST_MPUS, "encoding-type"},
};

static const char *const SIGV4_PARAMS[] = {
  "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
  "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token",
};

/* The SigV2 query group: a row that takes SigV4's parameters (Q_SIGV4)
 * takes these too, so a SigV2 presigned URL reaches every operation a
 * SigV4 one does. content-type and content-md5 are headers botocore moves
 * into a SigV2 URL (the request must still send them: they are signed). */
static const char *const SIGV2_PARAMS[] = {
  "AWSAccessKeyId", "Expires", "Signature", "content-type", "content-md5",
};

/* What a refused query parameter asks for, to say so in the answer. A
 * trailing '*' matches a prefix. Unknown parameters are refused as well. */
static const struct {
  const char *name, *what;
} SUBRESOURCES[] = {
  {"acl", "ACLs"}, {"attributes", "GetObjectAttributes"},
  {"tagging", "tagging"}, {"uploads", "multipart uploads"},
  {"uploadId", "multipart uploads"}, {"partNumber", "parts"},
  {"restore", "RestoreObject"}, {"select", "SelectObjectContent"},
  {"select-type", "SelectObjectContent"},
  {"legal-hold", "Object Lock"}, {"retention", "Object Lock"},
  {"object-lock", "Object Lock"}, {"torrent", "torrents"},
  {"versions", "ListObjectVersions"}, {"versioning", "bucket versioning"},
  {"versionId", "object versions"}, {"location", "GetBucketLocation"},
  {"list-type", "ListObjectsV2"}, {"delete", "DeleteObjects"},
  {"cors", "CORS"}, {"lifecycle", "lifecycle rules"},
  {"policy", "bucket policies"}, {"policyStatus", "bucket policies"},
  {"website", "websites"}, {"logging", "bucket logging"},
  {"notification", "notifications"}, {"replication", "replication"},
  {"encryption", "encryption"}, {"accelerate", "transfer acceleration"},
  {"requestPayment", "requester pays"},
  {"ownershipControls", "ownership controls"},
  {"publicAccessBlock", "public access blocks"},
  {"analytics", "analytics"}, {"inventory", "inventory"},
  {"metrics", "request metrics"},
  {"intelligent-tiering", "Intelligent-Tiering"},
  {"session", "CreateSession"}, {"renameObject", "RenameObject"},
  {"response-*", "response header overrides"},
  {"prefix", "listing"}, {"delimiter", "listing"}, {"marker", "listing"},
  {"max-keys", "listing"}, {"start-after", "listing"},
  {"continuation-token", "listing"}, {"fetch-owner", "listing"},
  {"encoding-type", "listing"}, {"key-marker", "listing"},
  {"version-id-marker", "listing"}, {"upload-id-marker", "listing"},
  {"max-uploads", "listing"}, {"max-parts", "listing parts"},
  {"part-number-marker", "listing parts"},
  {"x-amz-*", "request headers in the query"},
};

/* S3 operations with no row yet, for the answer. A POST to an object
 * with no sub-resource is no S3 operation at all: 405, as S3 and MinIO
 * answer; with one (uploads, uploadId, restore, select) it is named. */
static const struct {
  const char *method;
  enum path_kind path;
  vs__s3code code;
  const char *what;
} MISSING[] = {
  {"DELETE", P_BUCKET, VS__S3_NOT_IMPLEMENTED, "DeleteBucket is not "
   "implemented by vsink"},
  {"POST", P_BUCKET, VS__S3_NOT_IMPLEMENTED, "POST on a bucket is "
   "DeleteObjects (?delete) or a browser form upload, which vsink does not "
   "implement"},
  {"POST", P_OBJECT, VS__S3_METHOD, "POST on an object takes a "
   "sub-resource (uploads, uploadId, restore, select)"},
};

static const char *const S3_METHODS[] = {"GET", "HEAD", "PUT", "POST",
                                         "DELETE", "OPTIONS"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NAME_MAX_SHOWN 64
#define VALUE_CAP 128

/* One query parameter: its name and value %-decoded ('+' stays '+', as
 * SigV4 and S3 read it), truncated to the buffers. */
typedef struct qparam {
  char name[NAME_MAX_SHOWN + 1];
  size_t name_len;        /* decoded length, possibly > what name holds */
  char value[VALUE_CAP + 1];
  size_t value_len;
  int malformed;          /* a bad %-escape */
} qparam;

/* Decodes s[0..n) into out (cap bytes and a NUL; bytes past cap are only
 * counted). Returns the decoded length; a bad escape sets *malformed. */
static size_t decode(const char *s, size_t n, char *out, size_t cap,
                     int *malformed)
{
  size_t i, len = 0;
  for(i = 0; i < n; i++) {
    char c = s[i];
    if(c == '%') {
      if(n - i < 3 || vs_hexval(s[i + 1]) < 0 || vs_hexval(s[i + 2]) < 0) {
        *malformed = 1;
        break;
      }
      c = (char)(vs_hexval(s[i + 1]) * 16 + vs_hexval(s[i + 2]));
      i += 2;
    }
    if(len < cap)
      out[len] = c;
    len++;
  }
  out[len < cap ? len : cap] = 0;
  return len;
}

/* Parses the parameter starting at p (after '?' or '&'); returns where
 * the next one starts, or NULL at the end. Empty segments are skipped. */
static const char *next_param(const char *p, qparam *q, int *found)
{
  const char *end = strchr(p, '&'), *eq;
  size_t len = end ? (size_t)(end - p) : strlen(p);
  *found = len > 0;
  if(*found) {
    memset(q, 0, sizeof(*q));
    eq = memchr(p, '=', len);
    q->name_len = decode(p, eq ? (size_t)(eq - p) : len, q->name,
                         NAME_MAX_SHOWN, &q->malformed);
    if(eq)
      q->value_len = decode(eq + 1, len - (size_t)(eq + 1 - p), q->value,
                            VALUE_CAP, &q->malformed);
  }
  return end ? end + 1 : NULL;
}

static int name_is(const qparam *q, const char *s)
{
  return q->name_len == strlen(s) && !memcmp(q->name, s, q->name_len);
}

static int value_complete(const qparam *q)
{
  return q->value_len <= VALUE_CAP && strlen(q->value) == q->value_len;
}

/* ---- header rules --------------------------------------------------------- */

static int token_listed(const char *v, const char *tok)
{
  size_t n = strlen(tok);
  while(*v) {
    const char *end = strchr(v, ',');
    size_t len = end ? (size_t)(end - v) : strlen(v);
    while(len && (*v == ' ' || *v == '\t'))
      v++, len--;
    while(len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
      len--;
    if(len == n && !strncasecmp(v, tok, n))
      return 1;
    if(!end)
      break;
    v = end + 1;
  }
  return 0;
}

static int one_of(const char *v, size_t vlen, const char *list)
{
  while(*list) {
    const char *bar = strchr(list, '|');
    size_t len = bar ? (size_t)(bar - list) : strlen(list);
    if(len == vlen && !strncasecmp(v, list, len))
      return 1;
    if(!bar)
      break;
    list = bar + 1;
  }
  return 0;
}

static int rule_refuses(const header_rule *h, const char *v)
{
  size_t vlen = strlen(v);
  switch(h->when) {
  case M_PRESENT:
    return 1;
  case M_ABSENT: /* present: selected */
    return 0;
  case M_PREFIX:
    return !strncmp(v, h->arg, strlen(h->arg));
  case M_TOKEN:
    return token_listed(v, h->arg);
  case M_NOT_IN:
    while(vlen && (*v == ' ' || *v == '\t'))
      v++, vlen--;
    while(vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
      vlen--;
    return !one_of(v, vlen, h->arg);
  }
  return 1;
}

/* Every rule of set h, in order (router_rules.c's groups). */
#define FOR_RULES(set, h)                                                  \
  for(const header_rule *const *g_ = vs__rule_set(set); *g_; g_++)        \
    for(h = *g_; h->name; h++)

static const header_rule *rule_named(int set, const char *name)
{
  const header_rule *h;
  FOR_RULES(set, h)
    if(!strcasecmp(h->name, name))
      return h;
  return NULL;
}

/* ---- refusals ------------------------------------------------------------- */

static vs__op refuse(vs__route_result *out, vs__s3code code, int early,
                     const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

static vs__op refuse(vs__route_result *out, vs__s3code code, int early,
                     const char *fmt, ...)
{
  va_list ap;
  out->op = VS__OP_REFUSED;
  out->code = code;
  out->before_auth = early;
  va_start(ap, fmt);
  vsnprintf(out->msg, sizeof(out->msg), fmt, ap);
  va_end(ap);
  return VS__OP_REFUSED;
}

/* A parameter name fit for an XML message: printable ASCII only. */
static const char *shown(const qparam *q, char *buf, size_t cap)
{
  size_t i, n = strlen(q->name);
  for(i = 0; i < n && i + 4 < cap; i++)
    buf[i] = q->name[i] > 0x20 && q->name[i] < 0x7f ? q->name[i] : '?';
  if(q->name_len > n && i + 4 < cap)
    memcpy(buf + i, "...", 3), i += 3;
  buf[i] = 0;
  return buf;
}

static const char *subresource_what(const qparam *q)
{
  size_t i;
  for(i = 0; i < NELEM(SUBRESOURCES); i++) {
    const char *s = SUBRESOURCES[i].name;
    size_t n = strlen(s);
    if(s[n - 1] == '*' ? q->name_len >= n - 1 &&
                           !strncasecmp(q->name, s, n - 1)
                       : name_is(q, s))
      return SUBRESOURCES[i].what;
  }
  return NULL;
}

static const char *path_words(enum path_kind k)
{
  switch(k) {
  case P_ROOT:
    return "the service (/)";
  case P_BUCKET:
    return "a bucket";
  case P_OBJECT:
    return "an object";
  case P_HOOK:
    return "a hook";
  default:
    return "this path";
  }
}

static vs__op refuse_param(vs__route_result *out, const char *method,
                           enum path_kind path, const qparam *q)
{
  char name[NAME_MAX_SHOWN + 8];
  const char *what = subresource_what(q);
  shown(q, name, sizeof(name));
  if(what)
    return refuse(out, VS__S3_NOT_IMPLEMENTED, 0, "the query parameter "
                  "'%s' (%s) on %s of %s is not implemented by vsink", name,
                  what, method, path_words(path));
  return refuse(out, VS__S3_NOT_IMPLEMENTED, 0, "the query parameter '%s' "
                "is not one vsink implements for %s of %s", name, method,
                path_words(path));
}

/* ---- matching ------------------------------------------------------------- */

static int is_sigv4_param(const qparam *q)
{
  size_t i;
  for(i = 0; i < NELEM(SIGV4_PARAMS); i++)
    if(name_is(q, SIGV4_PARAMS[i]))
      return 1;
  return 0;
}

static int is_sigv2_param(const qparam *q)
{
  size_t i;
  for(i = 0; i < NELEM(SIGV2_PARAMS); i++)
    if(name_is(q, SIGV2_PARAMS[i]))
      return 1;
  return 0;
}

static int op_param(vs__op op, const qparam *q)
{
  size_t i;
  for(i = 0; i < NELEM(OP_PARAMS); i++)
    if(OP_PARAMS[i].op == op && name_is(q, OP_PARAMS[i].name))
      return 1;
  return 0;
}

/* 1: the row accepts q; 0: it does not (out says why). */
static int param_ok(const route_row *row, const qparam *q,
                    vs__route_result *out)
{
  const header_rule *h;
  if(row->query & Q_ANY)
    return 1;
  if(q->malformed) {
    refuse(out, VS__S3_INVALID_ARGUMENT, 1, "malformed %%-escape in the "
           "query string");
    return 0;
  }
  if(op_param(row->op, q))
    return 1;
  if((row->query & Q_SIGV4) && is_sigv2_param(q))
    return 1;
  if(((row->query & Q_SIGV4) && is_sigv4_param(q)) ||
     ((row->query & Q_VERSION) && name_is(q, "versionId")) ||
     (row->sub && name_is(q, row->sub)))
    return 1;
  if((row->query & Q_XID) && name_is(q, "x-id")) {
    if(row->s3op && value_complete(q) && !strcmp(q->value, row->s3op))
      return 1;
    refuse(out, VS__S3_NOT_IMPLEMENTED, 0, "x-id names an operation other "
           "than %s; vsink implements only %s for %s of %s", row->s3op,
           row->s3op, row->method, path_words(row->path));
    return 0;
  }
  if((row->query & Q_AMZ) && q->name_len <= NAME_MAX_SHOWN &&
     !strncasecmp(q->name, "x-amz-", 6)) {
    if(!strncasecmp(q->name, "x-amz-meta-", 11))
      return 1;
    /* only a value-restricted rule can accept a hoisted header: the rest
     * (checksums, content hash) would not be checked from the query */
    h = rule_named(row->headers, q->name);
    if(h && h->when == M_NOT_IN && value_complete(q) &&
       !rule_refuses(h, q->value))
      return 1;
    if(h) {
      refuse(out, VS__S3_NOT_IMPLEMENTED, h->early, "%s (in the query): %s",
             h->name, h->why);
      return 0;
    }
  }
  refuse_param(out, row->method, row->path, q);
  return 0;
}

static int query_ok(const route_row *row, const char *query,
                    vs__route_result *out)
{
  const char *p = query;
  qparam q;
  int found;
  while(p) {
    p = next_param(p, &q, &found);
    if(found && !param_ok(row, &q, out))
      return 0;
  }
  return 1;
}

static int has_param(const char *query, const char *name)
{
  const char *p = query;
  qparam q;
  int found;
  while(p) {
    p = next_param(p, &q, &found);
    if(found && name_is(&q, name))
      return 1;
  }
  return 0;
}

/* How closely the request's headers select the row: 2 when the row has
 * selecting headers (M_ABSENT rules) and the request sends them all, 1
 * when the row has none, 0 when one is missing. The closest row explains
 * a refusal: a copy's, not the PUT's. */
static int selected(const route_row *row, vs_header_fn header, void *ctx)
{
  const header_rule *h;
  int sel = 1;
  FOR_RULES(row->headers, h)
    if(h->when == M_ABSENT) {
      if(!(header && header(ctx, h->name)))
        return 0;
      sel = 2;
    }
  return sel;
}

/* Which row explains a refusal: the one the headers select, then one whose
 * sub-resource the request names (UploadPart's, not PutObject's). */
static int closeness(const route_row *row, vs_header_fn header, void *ctx)
{
  return 2 * selected(row, header, ctx) + (row->sub != NULL);
}

static int headers_ok(const route_row *row, vs_header_fn header, void *ctx,
                      vs__route_result *out)
{
  const header_rule *h;
  FOR_RULES(row->headers, h) {
    const char *v = header ? header(ctx, h->name) : NULL;
    if(v ? rule_refuses(h, v) : h->when == M_ABSENT) {
      refuse(out, VS__S3_NOT_IMPLEMENTED, h->early, "%s: %s", h->name,
             h->why);
      return 0;
    }
  }
  return 1;
}

/* ---- the path ------------------------------------------------------------- */

/* The kind of the raw path; -1 for a malformed one. Hooks, health and
 * metrics are matched raw, as vsink builds and documents them. */
static int path_kind(const char *p, size_t plen)
{
  char buf[2];
  size_t i, slash = 0, n = 0;
  int malformed = 0;
  if(plen == 8 && !strncmp(p, "/healthz", 8))
    return P_HEALTH;
  if(plen == 8 && !strncmp(p, "/metrics", 8))
    return P_METRICS;
  if(plen > 7 && !strncmp(p, "/hooks/", 7))
    return P_HOOK;
  if(!plen || p[0] != '/')
    return -1;
  /* "/" root, "/b" or "/b/" bucket, "/b/k..." object: decoded, so that
   * "/b%2Fk" is the object it names, as the handlers read it */
  for(i = 1; i < plen; i++) {
    size_t step = 1;
    char c = p[i];
    if(c == '%') {
      if(decode(p + i, plen - i < 3 ? plen - i : 3, buf, 1, &malformed) !=
           1 || malformed)
        return -1;
      c = buf[0];
      step = 3;
    }
    if(c == '/' && !slash)
      slash = n + 1;
    n++;
    i += step - 1;
  }
  if(n == 0)
    return P_ROOT;
  return slash && slash < n ? P_OBJECT : P_BUCKET;
}

/* ---- the classifier ------------------------------------------------------- */

static vs__op refuse_missing(vs__route_result *out, const char *method,
                             enum path_kind path, const char *query,
                             vs_header_fn header, void *ctx)
{
  const char *ct = header ? header(ctx, "Content-Type") : NULL;
  const char *p = query;
  qparam q;
  size_t i;
  int found;
  if(path == P_BUCKET && !strcmp(method, "POST") && ct &&
     !strncasecmp(ct, "multipart/form-data", 19))
    return refuse(out, VS__S3_NOT_IMPLEMENTED, 1, "browser form uploads "
                  "(POST Object) are not implemented by vsink");
  while(p) { /* the sub-resource is the most precise thing to name */
    p = next_param(p, &q, &found);
    if(found && !is_sigv4_param(&q) && !is_sigv2_param(&q) &&
       !name_is(&q, "x-id"))
      return refuse_param(out, method, path, &q);
  }
  for(i = 0; i < NELEM(MISSING); i++)
    if(!strcmp(MISSING[i].method, method) && MISSING[i].path == path)
      return refuse(out, MISSING[i].code, 0, "%s", MISSING[i].what);
  return refuse(out, VS__S3_METHOD, 0, "%s is not allowed on %s", method,
                path_words(path));
}

static int known_method(const char *method)
{
  size_t i;
  for(i = 0; i < NELEM(S3_METHODS); i++)
    if(!strcmp(method, S3_METHODS[i]))
      return 1;
  return 0;
}

/* Non-S3 paths answer their own methods only, as they always did. */
static vs__op refuse_own_path(vs__route_result *out, enum path_kind path)
{
  if(path == P_HOOK)
    return refuse(out, VS__S3_METHOD, 1, "hooks take POST");
  return refuse(out, VS__S3_METHOD, 1, "%s takes GET or HEAD",
                path == P_HEALTH ? "/healthz" : "/metrics");
}

vs__op vs__route_classify(const char *method, const char *raw_uri,
                          vs_header_fn header, void *ctx,
                          vs__route_result *out)
{
  const char *qm, *query;
  const route_row *cand = NULL;
  size_t i;
  int path;
  memset(out, 0, sizeof(*out));
  if(!method || !raw_uri)
    return refuse(out, VS__S3_INVALID_ARGUMENT, 1, "malformed request");
  qm = strchr(raw_uri, '?');
  query = qm ? qm + 1 : NULL;
  path = path_kind(raw_uri, qm ? (size_t)(qm - raw_uri) : strlen(raw_uri));
  if(path < 0)
    return refuse(out, VS__S3_INVALID_ARGUMENT, 1, "malformed request path");
  if(!known_method(method)) {
    char m[17];
    for(i = 0; method[i] && i < sizeof(m) - 1; i++)
      m[i] = method[i] > 0x20 && method[i] < 0x7f ? method[i] : '?';
    m[i] = 0;
    return refuse(out, VS__S3_METHOD, 1, "%s is not an S3 method", m);
  }
  for(i = 0; i < NELEM(ROUTES); i++) {
    const route_row *row = &ROUTES[i];
    if(strcmp(row->method, method) || row->path != (enum path_kind)path)
      continue;
    if(row->sub && !(query && has_param(query, row->sub)))
      continue;
    if(!cand || closeness(row, header, ctx) > closeness(cand, header, ctx))
      cand = row;
    if((!query || query_ok(row, query, out)) &&
       headers_ok(row, header, ctx, out)) {
      memset(out, 0, sizeof(*out));
      out->op = row->op;
      return row->op;
    }
  }
  if(cand) { /* a row for method and path: say what it refused */
    if(query && !query_ok(cand, query, out))
      return VS__OP_REFUSED;
    headers_ok(cand, header, ctx, out);
    return VS__OP_REFUSED;
  }
  if(path == P_HEALTH || path == P_METRICS || path == P_HOOK)
    return refuse_own_path(out, (enum path_kind)path);
  if(!strcmp(method, "OPTIONS"))
    return refuse(out, VS__S3_NOT_IMPLEMENTED, 1, "CORS preflight "
                  "(OPTIONS) is not implemented by vsink");
  return refuse_missing(out, method, (enum path_kind)path, query, header,
                        ctx);
}

const char *vs__op_name(vs__op op)
{
  static const char *const names[VS__OP_COUNT] = {
    [VS__OP_REFUSED] = "refused",
    [VS__OP_HEALTH] = "health",
    [VS__OP_METRICS] = "metrics",
    [VS__OP_HOOK] = "hook",
    [VS__OP_HEAD_BUCKET] = "HeadBucket",
    [VS__OP_GET_OBJECT] = "GetObject",
    [VS__OP_HEAD_OBJECT] = "HeadObject",
    [VS__OP_PUT_OBJECT] = "PutObject",
    [VS__OP_LIST_BUCKETS] = "ListBuckets",
    [VS__OP_CREATE_BUCKET] = "CreateBucket",
    [VS__OP_GET_BUCKET_LOCATION] = "GetBucketLocation",
    [VS__OP_GET_BUCKET_VERSIONING] = "GetBucketVersioning",
    [VS__OP_LIST_OBJECTS_V2] = "ListObjectsV2",
    [VS__OP_LIST_OBJECTS] = "ListObjects",
    [VS__OP_LIST_VERSIONS] = "ListObjectVersions",
    [VS__OP_DELETE_OBJECT] = "DeleteObject",
    [VS__OP_DELETE_OBJECTS] = "DeleteObjects",
    [VS__OP_COPY_OBJECT] = "CopyObject",
    [VS__OP_CREATE_MPU] = "CreateMultipartUpload",
    [VS__OP_UPLOAD_PART] = "UploadPart",
    [VS__OP_UPLOAD_PART_COPY] = "UploadPartCopy",
    [VS__OP_COMPLETE_MPU] = "CompleteMultipartUpload",
    [VS__OP_ABORT_MPU] = "AbortMultipartUpload",
    [VS__OP_LIST_PARTS] = "ListParts",
    [VS__OP_LIST_MPUS] = "ListMultipartUploads",
    [VS__OP_GET_OBJECT_TAGGING] = "GetObjectTagging",
  };
  return (unsigned)op < VS__OP_COUNT && names[op] ? names[op] : "unknown";
}

/* ---- virtual-hosted-style addressing ---------------------------------------- */

size_t vs__route_host_bucket(const char *host, const char *domain, char *out,
                             size_t cap)
{
  size_t hlen, dlen, blen, i;
  const char *colon;
  if(!host || !domain || !*domain || *host == '[')
    return 0;
  hlen = strlen(host);
  colon = strrchr(host, ':');
  if(colon && strspn(colon + 1, "0123456789") == strlen(colon + 1))
    hlen = (size_t)(colon - host);
  if(hlen && host[hlen - 1] == '.') /* an absolute name */
    hlen--;
  dlen = strlen(domain);
  if(hlen <= dlen + 1 || host[hlen - dlen - 1] != '.' ||
     strncasecmp(host + hlen - dlen, domain, dlen))
    return 0;
  blen = hlen - dlen - 1;
  if(blen + 1 > cap)
    return 0;
  /* DNS names are case-insensitive; bucket names are lowercase */
  for(i = 0; i < blen; i++)
    out[i] = host[i] >= 'A' && host[i] <= 'Z' ? (char)(host[i] - 'A' + 'a')
                                              : host[i];
  out[blen] = 0;
  return blen;
}
