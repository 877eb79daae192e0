/* User metadata and the standard headers kept with an object (objmeta.h).
 *
 * S3 keeps Cache-Control, Content-Disposition, Content-Encoding,
 * Content-Language, Expires and every x-amz-meta-* of a PUT, and returns
 * them on GET and HEAD; the response-* parameters of a signed GET or HEAD
 * override them for that answer (a download link that saves under another
 * name, say). Names are kept lower-case, as S3 lower-cases metadata
 * names; values as sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/objmeta.h"
#include "vsink/sigv4.h"

/* Header, the name kept, and the response-* parameter that overrides it.
 * Content-Type is kept in its own field of the store, but is overridden
 * like the others. */
static const struct {
  const char *header, *kept, *param;
} STANDARD[] = {
  {"Content-Type", NULL, "response-content-type"},
  {"Cache-Control", "cache-control", "response-cache-control"},
  {"Content-Disposition", "content-disposition",
   "response-content-disposition"},
  {"Content-Encoding", "content-encoding", "response-content-encoding"},
  {"Content-Language", "content-language", "response-content-language"},
  {"Expires", "expires", "response-expires"},
};

#define NSTD (sizeof(STANDARD) / sizeof(STANDARD[0]))
#define META_PREFIX "x-amz-meta-"
#define META_PREFIX_LEN 11
/* an override is a header line of ours: bounded like the stored ones */
#define OVERRIDE_MAX 1024

typedef struct collect {
  char *out;
  size_t cap, used, user_bytes;
  vs__s3code code;
  char *msg;
  size_t msgcap;
} collect;

static int value_ok(const char *v, size_t n)
{
  size_t i;
  for(i = 0; i < n; i++)
    if(((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
      return 0;
  return 1;
}

static int fail(collect *c, vs__s3code code, const char *fmt, const char *a)
{
  c->code = code;
  snprintf(c->msg, c->msgcap, fmt, a);
  return -1;
}

/* 1 when a line for name (lower-case) is kept already */
static int kept(const collect *c, const char *name, size_t nlen)
{
  const char *p = c->out;
  while(*p) {
    const char *nl = strchr(p, '\n');
    if(!strncmp(p, name, nlen) && p[nlen] == ':')
      return 1;
    if(!nl)
      break;
    p = nl + 1;
  }
  return 0;
}

static int add_line(collect *c, const char *name, size_t nlen,
                    const char *value, size_t vlen)
{
  size_t i;
  if(!value_ok(value, vlen))
    return fail(c, VS__S3_INVALID_ARGUMENT, "%s has a control byte", name);
  if(c->used + nlen + vlen + 3 > c->cap)
    return fail(c, VS__S3_METADATA_TOO_LARGE, "%s", "The headers kept with "
                "an object (metadata and content headers) exceed 8 KiB.");
  for(i = 0; i < nlen; i++) /* lower-case, as S3 keeps metadata names */
    c->out[c->used + i] = (char)(name[i] >= 'A' && name[i] <= 'Z'
                                   ? name[i] + 32 : name[i]);
  c->used += nlen;
  c->out[c->used++] = ':';
  memcpy(c->out + c->used, value, vlen);
  c->used += vlen;
  c->out[c->used++] = '\n';
  c->out[c->used] = 0;
  return 0;
}

static int add_meta(collect *c, const char *name, size_t nlen,
                    const char *value)
{
  char lower[VS_OBJ_HEADERS_MAX];
  size_t i, vlen = strlen(value);
  if(nlen <= META_PREFIX_LEN || nlen >= sizeof(lower))
    return nlen <= META_PREFIX_LEN
             ? fail(c, VS__S3_INVALID_ARGUMENT, "%s", "x-amz-meta- without "
                    "a name")
             : fail(c, VS__S3_METADATA_TOO_LARGE, "%s", "");
  for(i = 0; i < nlen; i++) {
    unsigned char ch = (unsigned char)name[i];
    if(ch <= 0x20 || ch >= 0x7f || ch == ':')
      return fail(c, VS__S3_INVALID_ARGUMENT, "%s", "a metadata name may "
                  "hold visible ASCII only");
    lower[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
  }
  if(kept(c, lower, nlen))
    return 0; /* the header's value, not the query's, when both come */
  c->user_bytes += nlen - META_PREFIX_LEN + vlen;
  if(c->user_bytes > VS__USER_META_MAX)
    return fail(c, VS__S3_METADATA_TOO_LARGE, "%s", "");
  return add_line(c, lower, nlen, value, vlen);
}

static enum MHD_Result each_header(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
  collect *c = cls;
  (void)kind;
  if(key && !strncasecmp(key, META_PREFIX, META_PREFIX_LEN) &&
     add_meta(c, key, strlen(key), value ? value : ""))
    return MHD_NO;
  return MHD_YES;
}

/* x-amz-meta-* moved into a presigned URL's query (botocore does) */
static int query_meta(collect *c, const char *raw_uri)
{
  const char *p = strchr(raw_uri, '?');
  while(p && *p) {
    const char *start = p + 1, *end = strchr(start, '&'), *eq;
    size_t len = end ? (size_t)(end - start) : strlen(start), nl, vl;
    char *name, *value;
    int rc = 0;
    p = end;
    eq = memchr(start, '=', len);
    name = vs_sigv4_uri_decode(start, eq ? (size_t)(eq - start) : len, &nl);
    if(!name)
      continue; /* the route table refused malformed escapes */
    if(nl > META_PREFIX_LEN && strlen(name) == nl &&
       !strncasecmp(name, META_PREFIX, META_PREFIX_LEN)) {
      value = eq ? vs_sigv4_uri_decode(eq + 1, len - (size_t)(eq + 1 - start),
                                       &vl)
                 : strdup("");
      rc = !value || strlen(value) != (eq ? vl : 0)
             ? fail(c, VS__S3_INVALID_ARGUMENT, "%s", "a metadata value in "
                    "the query has a NUL")
             : add_meta(c, name, nl, value);
      free(value);
    }
    free(name);
    if(rc)
      return rc;
  }
  return 0;
}

/* Content-Encoding without aws-chunked, which only framed the upload (S3
 * keeps the rest). */
static int add_encoding(collect *c, const char *v)
{
  char buf[VS_OBJ_HEADERS_MAX];
  size_t n = 0;
  while(*v) {
    const char *end = strchr(v, ','), *t = v;
    size_t len = end ? (size_t)(end - v) : strlen(v);
    while(len && (*t == ' ' || *t == '\t'))
      t++, len--;
    while(len && (t[len - 1] == ' ' || t[len - 1] == '\t'))
      len--;
    if(len && !(len == 11 && !strncasecmp(t, "aws-chunked", 11)) &&
       n + len + 2 < sizeof(buf)) {
      if(n)
        buf[n++] = ',';
      memcpy(buf + n, t, len);
      n += len;
    }
    if(!end)
      break;
    v = end + 1;
  }
  return n ? add_line(c, "content-encoding", 16, buf, n) : 0;
}

int vs__meta_collect(vs__req *r, char *out, size_t cap, vs__s3code *code,
                     char *msg, size_t msgcap)
{
  collect c = {out, cap, 0, 0, VS__S3_NONE, msg, msgcap};
  size_t i;
  out[0] = msg[0] = 0;
  for(i = 1; i < NSTD; i++) {
    const char *v = vs__header(r->conn, STANDARD[i].header);
    int rc;
    if(!v || !*v)
      continue;
    rc = !strcmp(STANDARD[i].kept, "content-encoding")
           ? add_encoding(&c, v)
           : add_line(&c, STANDARD[i].kept, strlen(STANDARD[i].kept), v,
                      strlen(v));
    if(rc)
      break;
  }
  if(!c.code)
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, each_header, &c);
  if(!c.code && r->raw_uri)
    query_meta(&c, r->raw_uri);
  if(c.code) {
    *code = c.code;
    out[0] = 0;
    return -1;
  }
  return 0;
}

int vs__meta_overrides_check(vs__req *r, vs__s3code *code, char *msg,
                             size_t msgcap)
{
  size_t i;
  for(i = 0; i < NSTD; i++) {
    char *v = vs__query_get(r->raw_uri, STANDARD[i].param);
    int bad = v && (strlen(v) > OVERRIDE_MAX || !value_ok(v, strlen(v)));
    free(v);
    if(bad) {
      *code = VS__S3_INVALID_ARGUMENT;
      snprintf(msg, msgcap, "%s must be at most %d bytes without control "
               "bytes", STANDARD[i].param, OVERRIDE_MAX);
      return -1;
    }
  }
  return 0;
}

/* S3's spelling of a standard header; x-amz-meta-* stay lower-case */
static const char *shown_name(const char *kept)
{
  size_t i;
  for(i = 1; i < NSTD; i++)
    if(!strcmp(kept, STANDARD[i].kept))
      return STANDARD[i].header;
  return kept;
}

void vs__meta_add(vs__req *r, struct MHD_Response *resp,
                  const vs_object_info *info)
{
  char *over[NSTD], name[VS_OBJ_HEADERS_MAX], value[VS_OBJ_HEADERS_MAX];
  const char *p = info->headers;
  size_t i;
  for(i = 0; i < NSTD; i++) {
    over[i] = r->raw_uri ? vs__query_get(r->raw_uri, STANDARD[i].param)
                         : NULL;
    if(over[i] && (strlen(over[i]) > OVERRIDE_MAX ||
                   !value_ok(over[i], strlen(over[i])))) {
      free(over[i]); /* vs__meta_overrides_check refused it already */
      over[i] = NULL;
    }
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                          over[0] ? over[0] : info->content_type);
  while(*p) {
    const char *colon = strchr(p, ':'), *nl = strchr(p, '\n');
    int overridden = 0;
    if(!colon || !nl || colon > nl)
      break;
    snprintf(name, sizeof(name), "%.*s", (int)(colon - p), p);
    snprintf(value, sizeof(value), "%.*s", (int)(nl - colon - 1), colon + 1);
    for(i = 1; i < NSTD; i++)
      overridden |= over[i] && !strcmp(name, STANDARD[i].kept);
    if(!overridden)
      MHD_add_response_header(resp, shown_name(name), value);
    p = nl + 1;
  }
  for(i = 1; i < NSTD; i++)
    if(over[i])
      MHD_add_response_header(resp, STANDARD[i].header, over[i]);
  for(i = 0; i < NSTD; i++)
    free(over[i]);
}

void vs__meta_add_cache(struct MHD_Response *resp, const vs_object_info *info)
{
  char value[VS_OBJ_HEADERS_MAX];
  const char *p = info->headers;
  while(*p) {
    const char *colon = strchr(p, ':'), *nl = strchr(p, '\n');
    size_t n;
    if(!colon || !nl || colon > nl)
      break;
    n = (size_t)(colon - p);
    if((n == 13 && !strncmp(p, "cache-control", 13)) ||
       (n == 7 && !strncmp(p, "expires", 7))) {
      snprintf(value, sizeof(value), "%.*s", (int)(nl - colon - 1),
               colon + 1);
      MHD_add_response_header(resp, n == 7 ? "Expires" : "Cache-Control",
                              value);
    }
    p = nl + 1;
  }
}
