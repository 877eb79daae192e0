/* Listing: ListObjectsV2 (GET /bucket?list-type=2), ListObjects v1
 * (GET /bucket) and ListObjectVersions (GET /bucket?versions).
 *
 * The keys come from the store's walk (vs_store_list_*), in S3's byte
 * order, one at a time: a page holds at most 1,000 entries and nothing
 * else is kept, whatever the bucket holds. With a delimiter, a key whose
 * rest (after the prefix) holds it stands for its common prefix, and the
 * walk is told to skip every other key under that prefix.
 *
 * Where a listing resumes: V2's continuation token is base64 of the last
 * key or common prefix returned (opaque to clients, as S3's); V1's marker
 * and the versions' key marker are keys. A marker inside a common prefix
 * (which is where a page that ended on that prefix leaves NextMarker)
 * resumes after the whole prefix, so no page repeats it.
 *
 * The walk reads directories and metadata files: it runs on the commit
 * pool (commit.c) with the connection suspended, never on an event
 * thread. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/log.h"
#include "util/utf8.h"
#include "util/xml.h"

#define MAX_KEYS 1000

#ifndef VS__OWNER_ID
#define VS__OWNER_ID \
  "7e7089f95bf7b7211a28a530c014e1cf88ca9dee8d80c820ea40cc70f44cdaf3"
#define VS__OWNER_NAME "vsink"
#endif

typedef enum kind { K_V1, K_V2, K_VERSIONS } kind;

/* The request's parameters, decoded and checked. */
typedef struct params {
  kind k;
  char *prefix, *delim;
  char *start_after;  /* V2 */
  char *token;        /* V2, as sent */
  char *marker;       /* V1 marker, versions key-marker */
  char *vid_marker;   /* versions */
  char *from;         /* where the walk resumes: a key or common prefix */
  long max_keys;
  int fetch_owner, url;
} params;

/* A page being built. */
typedef struct page {
  const params *p;
  vs_buf items, prefixes;
  long count;
  int truncated;
  char last[VS_KEY_MAX + 1];  /* the last key or common prefix */
  char last_vid[48];          /* versions: the last version, "" if a prefix */
} page;

static void params_free(params *p)
{
  free(p->prefix);
  free(p->delim);
  free(p->start_after);
  free(p->token);
  free(p->marker);
  free(p->vid_marker);
  free(p->from);
}

/* ---- XML ------------------------------------------------------------------ */

static void add_owner(vs_buf *b)
{
  vs_buf_adds(b, "<Owner><ID>" VS__OWNER_ID "</ID><DisplayName>"
                 VS__OWNER_NAME "</DisplayName></Owner>");
}

/* Key, LastModified, ETag, Size: what Contents and Version share. */
static void add_object(vs_buf *b, const char *key, const vs_object_info *i,
                       int url)
{
  char when[25];
  vs_time_rfc3339(i->mtime_ms, when);
  vs_xml_elem(b, "Key", key, url);
  vs_buf_addf(b, "<LastModified>%s</LastModified><ETag>&quot;", when);
  vs_xml_text(b, i->etag, strlen(i->etag), 0);
  vs_buf_addf(b, "&quot;</ETag><Size>%" PRIu64 "</Size>", i->bytes);
}

/* ---- parameters ----------------------------------------------------------- */

static int bad(vs__req *r, const char *msg)
{
  r->done_code = VS__S3_INVALID_ARGUMENT;
  snprintf(r->done_msg, sizeof(r->done_msg), "%s", msg);
  return -1;
}

/* A parameter as text S3 can echo: UTF-8, no control bytes but in what
 * names keys (prefix, markers, start-after), as keys may hold them. */
static int text_param(vs__req *r, const char *name, char **out)
{
  int keyish = strcmp(name, "delimiter") && strcmp(name, "version-id-marker");
  char msg[120];
  const char *s;
  *out = vs__query_get(r->raw_uri, name);
  if(!*out)
    return 0;
  for(s = *out; *s; s++)
    if(!keyish && ((unsigned char)*s < 0x20 || *s == 0x7f))
      break;
  if(*s || !vs_utf8_valid(*out, strlen(*out))) {
    snprintf(msg, sizeof(msg), "%s must be UTF-8 text without control "
             "characters", name);
    return bad(r, msg);
  }
  return 0;
}

static int parse_max_keys(vs__req *r, params *p)
{
  char *v = vs__query_get(r->raw_uri, "max-keys");
  const char *s = v;
  int rc = 0;
  p->max_keys = MAX_KEYS;
  if(!v)
    return 0;
  if(*s == '-' && s[1] >= '0' && s[1] <= '9' && strspn(s + 1, "0123456789")
     == strlen(s + 1))
    rc = bad(r, "Argument maxKeys must be an integer between 0 and "
                "2147483647");
  else if(!*s || strspn(s, "0123456789") != strlen(s) ||
          strlen(s) > 10 || strtoll(s, NULL, 10) > 2147483647LL)
    rc = bad(r, "Provided max-keys not an integer or within integer range");
  else if(strtol(s, NULL, 10) < MAX_KEYS)
    p->max_keys = strtol(s, NULL, 10);
  free(v);
  return rc;
}

/* V2's token: base64 of where the previous page ended. */
static int parse_token(vs__req *r, params *p)
{
  unsigned char dec[VS_KEY_MAX + 1];
  long n;
  if(!p->token)
    return 0;
  n = vs_unb64(p->token, strlen(p->token), dec, VS_KEY_MAX);
  if(n <= 0 || memchr(dec, 0, (size_t)n) ||
     !vs_utf8_valid((const char *)dec, (size_t)n))
    return bad(r, "The continuation token provided is incorrect");
  dec[n] = 0;
  free(p->from);
  p->from = strdup((const char *)dec);
  return 0;
}

static int parse_flags(vs__req *r, params *p)
{
  char *enc = vs__query_get(r->raw_uri, "encoding-type");
  char *owner = vs__query_get(r->raw_uri, "fetch-owner");
  char *lt = vs__query_get(r->raw_uri, "list-type");
  int rc = 0;
  if(enc && strcasecmp(enc, "url"))
    rc = bad(r, "Invalid Encoding Method specified in Request");
  else if(owner && strcasecmp(owner, "true") && strcasecmp(owner, "false"))
    rc = bad(r, "fetch-owner must be true or false");
  else if(p->k == K_V2 && (!lt || strcmp(lt, "2")))
    rc = bad(r, "list-type must be 2");
  p->url = enc != NULL;
  p->fetch_owner = p->k != K_V2 || (owner && !strcasecmp(owner, "true"));
  free(enc);
  free(owner);
  free(lt);
  return rc;
}

static int parse_params(vs__req *r, params *p)
{
  const char *from;
  if(text_param(r, "prefix", &p->prefix) ||
     text_param(r, "delimiter", &p->delim) || parse_max_keys(r, p) ||
     parse_flags(r, p))
    return -1;
  if(p->k == K_V2 && (text_param(r, "start-after", &p->start_after) ||
                      text_param(r, "continuation-token", &p->token)))
    return -1;
  if(p->k == K_V1 && text_param(r, "marker", &p->marker))
    return -1;
  if(p->k == K_VERSIONS && (text_param(r, "key-marker", &p->marker) ||
                            text_param(r, "version-id-marker",
                                       &p->vid_marker)))
    return -1;
  if(p->vid_marker && *p->vid_marker && !(p->marker && *p->marker))
    return bad(r, "A version-id marker cannot be specified without a key "
                  "marker.");
  if(p->delim && !*p->delim) { /* empty: no delimiter, as S3 reads it */
    free(p->delim);
    p->delim = NULL;
  }
  from = p->marker ? p->marker : p->start_after;
  if(from && *from && !(p->from = strdup(from)))
    return bad(r, "out of memory");
  return parse_token(r, p);
}

/* ---- the walk -------------------------------------------------------------- */

/* The common prefix key falls under, or 0. */
static size_t common_prefix(const params *p, const char *key)
{
  size_t plen = p->prefix ? strlen(p->prefix) : 0;
  const char *d;
  if(!p->delim || strncmp(key, p->prefix ? p->prefix : "", plen))
    return 0;
  d = strstr(key + plen, p->delim);
  return d ? (size_t)(d - key) + strlen(p->delim) : 0;
}

/* Room for one more entry: else the page is truncated. */
static int room(page *pg)
{
  if(pg->count < pg->p->max_keys)
    return 1;
  pg->truncated = 1;
  return 0;
}

static void add_prefix(page *pg, const char *key, size_t cp)
{
  vs_buf_adds(&pg->prefixes, "<CommonPrefixes><Prefix>");
  memcpy(pg->last, key, cp);
  pg->last[cp] = 0;
  vs_xml_text(&pg->prefixes, pg->last, cp, pg->p->url);
  vs_buf_adds(&pg->prefixes, "</Prefix></CommonPrefixes>");
  pg->last_vid[0] = 0;
  pg->count++;
}

static void add_contents(page *pg, const vs_list_item *it)
{
  vs_buf *b = &pg->items;
  vs_buf_adds(b, "<Contents>");
  add_object(b, it->key, &it->info, pg->p->url);
  if(pg->p->fetch_owner)
    add_owner(b);
  vs_buf_adds(b, "<StorageClass>STANDARD</StorageClass></Contents>");
  snprintf(pg->last, sizeof(pg->last), "%s", it->key);
  pg->count++;
}

/* A delete marker (store_fs_delete.c) is listed as a DeleteMarker entry
 * instead of a Version. */
static int is_delete_marker(const vs_object_info *i)
{
  return i->delete_marker;
}

static void add_version(page *pg, const char *key, const vs_object_info *i,
                        int latest)
{
  vs_buf *b = &pg->items;
  char when[25];
  if(is_delete_marker(i)) { /* S3's DeleteMarker entry: no ETag, no Size */
    vs_time_rfc3339(i->mtime_ms, when);
    vs_buf_adds(b, "<DeleteMarker>");
    vs_xml_elem(b, "Key", key, pg->p->url);
    vs_xml_elem(b, "VersionId", i->version_id, 0);
    vs_buf_addf(b, "<IsLatest>%s</IsLatest><LastModified>%s</LastModified>",
                latest ? "true" : "false", when);
    add_owner(b);
    vs_buf_adds(b, "</DeleteMarker>");
  }
  else {
    vs_buf_adds(b, "<Version>");
    add_object(b, key, i, pg->p->url);
    vs_xml_elem(b, "VersionId", i->version_id, 0);
    vs_buf_addf(b, "<IsLatest>%s</IsLatest>", latest ? "true" : "false");
    add_owner(b);
    vs_buf_adds(b, "<StorageClass>STANDARD</StorageClass></Version>");
  }
  snprintf(pg->last, sizeof(pg->last), "%s", key);
  snprintf(pg->last_vid, sizeof(pg->last_vid), "%s", i->version_id);
  pg->count++;
}

/* Every version of key, newest first; only those older than below when it
 * is given (resuming inside a key). */
static int key_versions(vs__req *r, page *pg, const char *key,
                        const char *current, const char *below, vs_err *err)
{
  vs_store *s = r->srv->cfg.store;
  char **ids = NULL;
  size_t n = 0, i;
  int rc = vs_store_versions(s, r->bucket, key, &ids, &n, err);
  for(i = n; !rc && i-- > 0;) {
    vs_object_info info;
    vs_err e2 = {0};
    if(below && strcmp(ids[i], below) >= 0)
      continue;
    if(!room(pg))
      break;
    if(vs_store_stat(s, r->bucket, key, ids[i], &info, &e2))
      continue; /* taken back since the directory was read */
    add_version(pg, key, &info, current && !strcmp(current, ids[i]));
  }
  while(n)
    free(ids[--n]);
  free(ids);
  return rc;
}

/* Versions resuming inside the marker's key: its older versions first. */
static int resume_in_key(vs__req *r, page *pg, vs_err *err)
{
  const params *p = pg->p;
  vs_object_info cur;
  vs_err e2 = {0};
  int has;
  if(!p->vid_marker || !*p->vid_marker || !p->from ||
     strncmp(p->from, p->prefix ? p->prefix : "",
             p->prefix ? strlen(p->prefix) : 0) ||
     common_prefix(p, p->from) ||
     vs_store_check_key(p->from, strlen(p->from), &e2))
    return VS_OK;
  has = !vs_store_stat(r->srv->cfg.store, r->bucket, p->from, NULL, &cur,
                       &e2);
  return key_versions(r, pg, p->from, has ? cur.version_id : NULL,
                      p->vid_marker, err);
}

static int walk(vs__req *r, page *pg, vs_err *err)
{
  const params *p = pg->p;
  vs_list_opts o = {r->bucket, p->prefix, NULL, p->k == K_VERSIONS};
  vs_store_list *l;
  vs_list_item *it;
  size_t cp;
  int rc, end = 0;
  if(p->k == K_VERSIONS && (rc = resume_in_key(r, pg, err)))
    return rc;
  cp = p->from ? common_prefix(p, p->from) : 0;
  if(p->from && !cp)
    o.after = p->from;
  if(!(it = malloc(sizeof(*it))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  rc = vs_store_list_open(r->srv->cfg.store, &o, &l, err);
  if(!rc && cp) { /* resuming inside a common prefix: after all of it */
    memcpy(it->key, p->from, cp);
    it->key[cp] = 0;
    rc = vs_store_list_skip(l, it->key, err);
  }
  while(!rc && !pg->truncated &&
        !(rc = vs_store_list_next(l, it, &end, err)) && !end) {
    if(!room(pg))
      break;
    if((cp = common_prefix(p, it->key))) {
      add_prefix(pg, it->key, cp);
      rc = vs_store_list_skip(l, pg->last, err);
    }
    else if(p->k == K_VERSIONS)
      rc = key_versions(r, pg, it->key,
                        it->has_current ? it->info.version_id : NULL, NULL,
                        err);
    else
      add_contents(pg, it);
  }
  vs_store_list_close(l);
  free(it);
  return rc;
}

/* ---- the answers ----------------------------------------------------------- */

static void head_v2(vs_buf *b, const params *p, const page *pg)
{
  char tok[4 * ((VS_KEY_MAX + 2) / 3) + 1];
  if(p->token)
    vs_xml_elem(b, "ContinuationToken", p->token, 0);
  if(pg->truncated) {
    vs_b64((const uint8_t *)pg->last, strlen(pg->last), tok);
    vs_xml_elem(b, "NextContinuationToken", tok, 0);
  }
  vs_buf_addf(b, "<KeyCount>%ld</KeyCount>", pg->count);
  if(p->start_after)
    vs_xml_elem(b, "StartAfter", p->start_after, p->url);
}

static void head_v1(vs_buf *b, const params *p, const page *pg)
{
  vs_xml_elem(b, "Marker", p->marker, p->url);
  if(pg->truncated && p->delim)
    vs_xml_elem(b, "NextMarker", pg->last, p->url);
}

static void head_versions(vs_buf *b, const params *p, const page *pg)
{
  vs_xml_elem(b, "KeyMarker", p->marker, p->url);
  vs_xml_elem(b, "VersionIdMarker", p->vid_marker, 0);
  if(pg->truncated) {
    vs_xml_elem(b, "NextKeyMarker", pg->last, p->url);
    if(pg->last_vid[0])
      vs_xml_elem(b, "NextVersionIdMarker", pg->last_vid, 0);
  }
}

static void answer(vs__req *r, const params *p, page *pg)
{
  vs_buf b = VS_BUF_INIT;
  const char *root = p->k == K_VERSIONS ? "ListVersionsResult"
                                        : "ListBucketResult";
  vs_buf_addf(&b, VS_XML_HEAD "<%s xmlns=\"" VS_XML_NS "\">", root);
  vs_xml_elem(&b, "Name", r->bucket, 0);
  vs_xml_elem(&b, "Prefix", p->prefix, p->url);
  if(p->k == K_V2)
    head_v2(&b, p, pg);
  else if(p->k == K_V1)
    head_v1(&b, p, pg);
  else
    head_versions(&b, p, pg);
  vs_buf_addf(&b, "<MaxKeys>%ld</MaxKeys>", p->max_keys);
  if(p->delim)
    vs_xml_elem(&b, "Delimiter", p->delim, p->url);
  vs_buf_addf(&b, "<IsTruncated>%s</IsTruncated>",
              pg->truncated ? "true" : "false");
  vs_buf_add(&b, pg->items.data, pg->items.len);
  vs_buf_add(&b, pg->prefixes.data, pg->prefixes.len);
  if(p->url)
    vs_buf_adds(&b, "<EncodingType>url</EncodingType>");
  vs_buf_addf(&b, "</%s>\n", root);
  vs__pooled_body(r, &b);
}

/* On a commit thread: the whole page, or the error, for list_answer. */
static void list_work(vs__req *r)
{
  params p = {0};
  page pg = {0};
  vs_err err = {0};
  p.k = r->rt.op == VS__OP_LIST_OBJECTS_V2 ? K_V2
        : r->rt.op == VS__OP_LIST_VERSIONS ? K_VERSIONS : K_V1;
  pg.p = &p;
  r->done_code = VS__S3_NONE;
  if(!parse_params(r, &p)) {
    if(p.max_keys > 0 && walk(r, &pg, &err)) {
      vs_log("error", "listing %s: %s", r->bucket, err.msg);
      r->done_code = VS__S3_INTERNAL;
    }
    else
      answer(r, &p, &pg);
  }
  vs_buf_free(&pg.items);
  vs_buf_free(&pg.prefixes);
  params_free(&p);
}

/* All three operations: the page is built on the commit pool, then sent. */
enum MHD_Result vs__list_objects(vs__req *r, const char *data, size_t *size)
{
  (void)data;
  *size = 0;
  return vs__pooled(r, list_work);
}
