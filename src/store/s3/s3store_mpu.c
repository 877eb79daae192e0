/* The S3 store's multipart uploads: a client's upload to the sink is a
 * multipart upload on the cluster, so any node may take any of its parts
 * and no node holds state another needs.
 *
 * Each upload has a journal object, PREFIX.uploads/<bucket>/<hex of the
 * upload id>, written at Create: the upload's description (key, content
 * type, kept headers, checksum algorithm), its creation time and the
 * intent token its object will carry. UploadPart and Complete read it (an
 * upload without one is not the sink's: NoSuchUpload), ListMultipartUploads
 * lists them, and the sweeper (expire) aborts what is older than the
 * expiry, on whichever node runs it, together with any cluster upload
 * under PREFIX that old (a node that died mid-upload leaves those).
 *
 * A part is spooled whole, then sent with its MD5 (the cluster checks it).
 * Complete checks the client's list against ListParts (numbers ascending,
 * ETags, sizes), then completes with that list, never with what the
 * cluster happens to hold, and hashes the landed version whole for the
 * manifest's SHA-256. Each Complete attempt first rewrites the journal
 * naming itself (its intent's name): every attempt's object carries the
 * same token, and a node that never heard its Complete's answer may
 * remove what the token finds only while the journal names its attempt
 * (vs__s3s_mpu_ours), not an object a retry through another node made and
 * recorded. A part's verified x-amz-checksum-* is kept next to
 * the journal (<journal>.<number>: "alg:base64"), since a part may reach
 * any node: ListParts shows it and Complete compares the client's. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "store/s3/s3store_int.h"
#include "util/log.h"

/* ---- create, get, abort ------------------------------------------------- */

static int mpu_create(vs_store *st, vs_mpu *m, vs_err *err)
{
  vs__s3s *s = (vs__s3s *)st;
  char token[VS__S3S_TOKEN_LEN + 1], id[VS_S3_UPLOAD_ID_MAX], *ckey = NULL;
  vs_s3_write_opts o = {0};
  vs_buf h = VS_BUF_INIT;
  vs_err e;
  int rc;
  if(!strcmp(m->bucket, "manifest"))
    return vs_fail(err, VS_ERR_INVALID, "bucket name 'manifest' is the S3 "
                   "store's own (shipped manifests)");
  if((rc = vs__s3s_ckey(s, m->bucket, m->key, &ckey, err)) ||
     (rc = vs__s3s_token(token, err)) ||
     (rc = vs__s3s_meta(token, m->headers, NULL, &h, err)))
    goto out;
  o.content_type = m->content_type[0] ? m->content_type
                                      : "application/octet-stream";
  o.headers = vs_buf_str(&h);
  if((rc = vs_s3_mpu_create(&s->t, s->bucket, ckey, &o, id, err)))
    goto out;
  snprintf(m->upload_id, sizeof(m->upload_id), "%s", id);
  m->created_ms = vs_now_ms(NULL, NULL);
  if(strlen(id) > VS_UPLOAD_ID_MAX)
    rc = vs_fail(err, VS_ERR_NET, "the cluster's upload id is %zu bytes; "
                 "the sink takes at most %d", strlen(id), VS_UPLOAD_ID_MAX);
  else if((rc = vs__s3s_journal_put(s, m, token, "", 1, err)) == VS_ERR_NET &&
          vs__s3s_journal_drop(s, m->bucket, id, &e))
    /* unanswered, it may have landed: a journal left behind would list
     * an upload the client never heard of, until the sweeper's expiry */
    vs_log("warn", "drop journal of upload %s: %s", id, e.msg);
  if(rc && vs_s3_mpu_abort(&s->t, s->bucket, ckey, id, &e))
    vs_log("warn", "abort %s of %s: %s", id, ckey, e.msg);
out:
  if(rc)
    m->upload_id[0] = 0;
  vs_buf_free(&h);
  free(ckey);
  return rc;
}

static int mpu_get(vs_store *st, const char *bucket, const char *key,
                   const char *upload_id, vs_mpu *m, vs_err *err)
{
  char token[VS__S3S_TOKEN_LEN + 1];
  return vs__s3s_journal_get((vs__s3s *)st, bucket, key, upload_id, m,
                             token, err);
}

/* The cluster upload, then its journal: gone either way once this
 * succeeds (a Complete consumed the cluster's already). */
static int mpu_abort(vs_store *st, const char *bucket, const char *key,
                     const char *upload_id, vs_err *err)
{
  vs__s3s *s = (vs__s3s *)st;
  char token[VS__S3S_TOKEN_LEN + 1], *ckey;
  vs_mpu *m = malloc(sizeof(*m));
  int rc = m ? vs__s3s_journal_get(s, bucket, key, upload_id, m, token,
                                   err)
             : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  free(m);
  if(rc)
    return rc;
  if((rc = vs__s3s_ckey(s, bucket, key, &ckey, err)))
    return rc;
  rc = vs_s3_mpu_abort(&s->t, s->bucket, ckey, upload_id, err);
  free(ckey);
  if(rc && rc != VS_ERR_NOTFOUND)
    return rc;
  return vs__s3s_journal_drop(s, bucket, upload_id, err);
}

/* ---- parts -------------------------------------------------------------- */

static int part_begin(vs_store *st, const char *bucket, const char *key,
                      const char *upload_id, unsigned number,
                      vs_upload **out, vs_err *err)
{
  char token[VS__S3S_TOKEN_LEN + 1];
  vs_mpu *m = malloc(sizeof(*m));
  vs_upload *u;
  int rc = m ? vs__s3s_journal_get((vs__s3s *)st, bucket, key, upload_id,
                                   m, token, err)
             : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  free(m);
  if(!rc)
    rc = vs__s3s_begin(st, bucket, key, out, err);
  if(rc)
    return rc;
  u = *out;
  u->part_size = UINT64_MAX; /* spooled whole: one UploadPart */
  u->client_part = number;
  if(!(u->client_upload = strdup(upload_id))) {
    vs__s3s_abort(u);
    *out = NULL;
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  return VS_OK;
}

static int part_commit(vs_upload *u, vs_part_info *p, vs_err *err)
{
  vs__s3s *s = u->s;
  vs_s3_body b = {NULL, u->slots[0].fd, 0, u->written, u->slots[0].md5_b64};
  char etag[VS_S3_ETAG_MAX];
  int rc = vs__s3s_slot_seal(&u->slots[0], err);
  if(!rc && p->bytes != u->written)
    rc = vs_fail(err, VS_ERR_INVALID, "part of %llu bytes, %llu written",
                 (unsigned long long)p->bytes,
                 (unsigned long long)u->written);
  if(!rc)
    rc = vs_s3_mpu_part(&s->t, s->bucket, u->ckey, u->client_upload,
                        u->client_part, &b, etag, err);
  if(!rc && strcasecmp(etag, p->md5))
    rc = vs_fail(err, VS_ERR_DIGEST, "part %u: the cluster stored ETag %s, "
                 "the sink received MD5 %s", u->client_part, etag, p->md5);
  if(!rc) {
    p->number = u->client_part;
    p->mtime_ms = vs_now_ms(NULL, NULL);
    if(p->checksum_alg[0])
      rc = vs__s3s_part_sum_put(s, u->bucket, u->client_upload, p, err);
  }
  vs__s3s_abort(u);
  return rc;
}

/* Every part the cluster holds for the upload (*out malloc'd). */
static int cluster_parts(vs__s3s *s, const char *ckey, const char *id,
                         vs_s3_part_entry **out, size_t *n, vs_err *err)
{
  vs_s3_parts_page pg;
  unsigned marker = 0;
  vs_s3_part_entry *all = NULL, *g;
  int rc;
  *n = 0;
  do {
    if((rc = vs_s3_mpu_parts(&s->t, s->bucket, ckey, id, marker, &pg, err)))
      break;
    if(!(g = realloc(all, (*n + pg.n + 1) * sizeof(*g))))
      rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
    else {
      all = g;
      if(pg.n) /* an upload without parts has no array (memcpy's NULL) */
        memcpy(all + *n, pg.parts, pg.n * sizeof(*g));
      *n += pg.n;
    }
    marker = pg.truncated && pg.next_marker > marker ? pg.next_marker : 0;
    vs_s3_parts_page_free(&pg);
  } while(!rc && marker);
  if(rc) {
    free(all);
    all = NULL;
    *n = 0;
  }
  *out = all;
  return rc;
}

static int mpu_parts(vs_store *st, const char *bucket, const char *key,
                     const char *upload_id, vs_part_info **parts, size_t *n,
                     vs_err *err)
{
  vs__s3s *s = (vs__s3s *)st;
  char token[VS__S3S_TOKEN_LEN + 1], *ckey = NULL;
  vs_s3_part_entry *e = NULL;
  vs_mpu *m = malloc(sizeof(*m));
  size_t i;
  int rc = m ? vs__s3s_journal_get(s, bucket, key, upload_id, m, token,
                                   err)
             : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  *parts = NULL;
  *n = 0;
  if(!rc && !(rc = vs__s3s_ckey(s, bucket, key, &ckey, err)))
    rc = cluster_parts(s, ckey, upload_id, &e, n, err);
  if(!rc && !(*parts = calloc(*n + 1, sizeof(**parts))))
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  for(i = 0; !rc && i < *n; i++) {
    (*parts)[i].number = e[i].number;
    (*parts)[i].bytes = e[i].size;
    (*parts)[i].mtime_ms = e[i].mtime_ms;
    if(strlen(e[i].etag) == 32)
      memcpy((*parts)[i].md5, e[i].etag, 33);
    if(m->checksum_alg[0])
      rc = vs__s3s_part_sum_get(s, bucket, upload_id, e[i].number,
                                &(*parts)[i], err);
  }
  if(rc)
    *n = 0;
  free(e);
  free(m);
  free(ckey);
  return rc;
}

/* ---- complete ----------------------------------------------------------- */

/* The client's list against the cluster's parts: into u->parts (the
 * cluster's ETags) and u->written, or the fault. */
static int match_parts(vs_upload *u, const char *id,
                       const vs_s3_part_entry *have, size_t nh,
                       const vs_part_ref *refs, size_t n, vs_mpu_fault *fault,
                       vs_err *err)
{
  size_t i, j = 0;
  if(!n || n > VS_PART_NUMBER_MAX)
    return *fault = VS_MPU_INVALID_PART,
           vs_fail(err, VS_ERR_INVALID, "%zu parts named", n);
  if(!(u->parts = calloc(n, sizeof(*u->parts))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  u->cap_parts = u->n_parts = (unsigned)n;
  for(i = 0; i < n; i++) {
    if(i && refs[i].number <= refs[i - 1].number)
      return *fault = VS_MPU_PART_ORDER,
             vs_fail(err, VS_ERR_INVALID, "part %u after part %u",
                     refs[i].number, refs[i - 1].number);
    while(j < nh && have[j].number < refs[i].number)
      j++;
    if(j == nh || have[j].number != refs[i].number ||
       strcasecmp(have[j].etag, refs[i].etag))
      return *fault = VS_MPU_INVALID_PART,
             vs_fail(err, VS_ERR_INVALID, "part %u: no such part with ETag "
                     "%s", refs[i].number, refs[i].etag);
    if(refs[i].checksum[0]) {
      vs_part_info kept;
      int rc = vs__s3s_part_sum_get(u->s, u->bucket, id, refs[i].number,
                                    &kept, err);
      if(rc)
        return rc;
      if(strcmp(kept.checksum, refs[i].checksum))
        return *fault = VS_MPU_INVALID_PART,
               vs_fail(err, VS_ERR_INVALID, "part %u: checksum %s is not "
                       "the part's", refs[i].number, refs[i].checksum);
    }
    if(i + 1 < n && have[j].size < VS_PART_MIN_BYTES)
      return *fault = VS_MPU_TOO_SMALL,
             vs_fail(err, VS_ERR_INVALID, "part %u is %llu bytes",
                     refs[i].number, (unsigned long long)have[j].size);
    u->parts[i].number = refs[i].number;
    snprintf(u->parts[i].etag, sizeof(u->parts[i].etag), "%s", have[j].etag);
    u->written += have[j].size;
  }
  return VS_OK;
}

static int mpu_complete(vs_store *st, const char *bucket, const char *key,
                        const char *upload_id, const vs_part_ref *refs,
                        size_t n, const vs_commit *c, vs_object_info *info,
                        vs_mpu_fault *fault, vs_err *err)
{
  vs__s3s *s = (vs__s3s *)st;
  char token[VS__S3S_TOKEN_LEN + 1];
  vs_s3_part_entry *have = NULL;
  vs_upload *u = NULL;
  vs_mpu *m = malloc(sizeof(*m));
  size_t nh = 0;
  int rc = m ? vs__s3s_journal_get(s, bucket, key, upload_id, m, token,
                                   err)
             : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  *fault = VS_MPU_OK;
  if(!rc && c->checksum && *c->checksum)
    rc = vs_fail(err, VS_ERR_INVALID, "a whole-object checksum is not "
                 "computed for a multipart upload in the S3 store");
  if(!rc)
    rc = vs__s3s_begin(st, bucket, key, &u, err);
  if(!rc)
    rc = cluster_parts(s, u->ckey, upload_id, &have, &nh, err);
  if(!rc)
    rc = match_parts(u, upload_id, have, nh, refs, n, fault, err);
  free(have);
  /* the attempt is the intent's name (vs__s3s_mpu_ours) */
  if(!rc)
    rc = vs__s3s_journal_put(s, m, token, u->intent->name, 0, err);
  if(rc) {
    if(u)
      vs__s3s_abort(u);
    free(m);
    return rc;
  }
  snprintf(u->upload_id, sizeof(u->upload_id), "%s", upload_id);
  memcpy(u->intent->token, token, sizeof(token));
  rc = vs__s3s_commit_parts(u, c, info, err);
  if(!rc)
    info->parts_count = (unsigned)n;
  free(m);
  return rc;
}

/* ---- listing and the sweeper -------------------------------------------- */

static int by_key_then_time(const void *a, const void *b)
{
  const vs_mpu *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : (x->created_ms > y->created_ms) - (x->created_ms <
                                                     y->created_ms);
}

/* The upload id a journal key names (hex after the last '/'). */
static int id_of(const char *jk, char *id, size_t cap)
{
  const char *h = strrchr(jk, '/');
  size_t n, i;
  h = h ? h + 1 : jk;
  n = strlen(h);
  if(n % 2 || n / 2 >= cap || strspn(h, "0123456789abcdef") != n)
    return -1; /* a part's checksum ("<hex>.<number>"), or not ours */
  for(i = 0; i < n / 2; i++) {
    unsigned v;
    if(sscanf(h + 2 * i, "%2x", &v) != 1)
      return -1;
    id[i] = (char)v;
  }
  id[n / 2] = 0;
  return 0;
}

/* Each journal under dir (one page at a time) to fn. */
static int each_journal(vs__s3s *s, const char *dir,
                        int (*fn)(vs__s3s *s, const vs_mpu *m, void *ctx,
                                  vs_err *err),
                        void *ctx, vs_err *err)
{
  vs_s3_list_opts o = {0};
  vs_s3_list_page pg;
  char token[VS__S3S_TOKEN_LEN + 1], id[VS_UPLOAD_ID_MAX + 1], *next = NULL;
  vs_mpu *m = malloc(sizeof(*m));
  size_t i;
  int rc = m ? VS_OK : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  o.prefix = dir;
  while(!rc) {
    o.token = next;
    if((rc = vs_s3_list(&s->t, s->bucket, &o, &pg, err)))
      break;
    for(i = 0; !rc && i < pg.n; i++) {
      const char *b = pg.entries[i].key + strlen(s->prefix) + 9;
      char bucket[64];
      size_t bl = strcspn(b, "/");
      if(id_of(pg.entries[i].key, id, sizeof(id)) || bl >= sizeof(bucket))
        continue; /* not a journal */
      memcpy(bucket, b, bl);
      bucket[bl] = 0;
      rc = vs__s3s_journal_get(s, bucket, NULL, id, m, token, err);
      if(rc == VS_ERR_NOTFOUND) { /* gone meanwhile */
        rc = VS_OK;
        continue;
      }
      if(!rc)
        rc = fn(s, m, ctx, err);
    }
    free(next);
    next = pg.truncated && pg.next_token ? strdup(pg.next_token) : NULL;
    vs_s3_list_page_free(&pg);
    if(!next)
      break;
  }
  free(next);
  free(m);
  return rc;
}

typedef struct gather {
  vs_mpu *list;
  size_t n, cap;
} gather;

static int add_upload(vs__s3s *s, const vs_mpu *m, void *ctx, vs_err *err)
{
  gather *g = ctx;
  (void)s;
  if(g->n == g->cap) {
    size_t c = g->cap ? g->cap * 2 : 8;
    vs_mpu *l = realloc(g->list, c * sizeof(*l));
    if(!l)
      return vs_fail(err, VS_ERR_NOMEM, "out of memory");
    g->list = l;
    g->cap = c;
  }
  g->list[g->n++] = *m;
  return VS_OK;
}

static int mpu_list(vs_store *st, const char *bucket, vs_mpu **list,
                    size_t *n, vs_err *err)
{
  vs__s3s *s = (vs__s3s *)st;
  gather g = {0};
  char *dir;
  int rc = vs__s3s_journal_dir(s, bucket, &dir, err);
  if(!rc)
    rc = each_journal(s, dir, add_upload, &g, err);
  free(dir);
  if(rc) {
    free(g.list);
    return rc;
  }
  if(g.n)
    qsort(g.list, g.n, sizeof(*g.list), by_key_then_time);
  *list = g.list;
  *n = g.n;
  return VS_OK;
}

typedef struct sweep {
  int64_t before;
  size_t removed;
} sweep;

static int sweep_journal(vs__s3s *s, const vs_mpu *m, void *ctx, vs_err *err)
{
  sweep *w = ctx;
  vs_err e;
  (void)err;
  if(m->created_ms >= w->before)
    return VS_OK;
  if(mpu_abort(&s->base, m->bucket, m->key, m->upload_id, &e))
    vs_log("warn", "sweeper: upload %s of %s/%s: %s", m->upload_id,
           m->bucket, m->key, e.msg);
  else
    w->removed++;
  return VS_OK;
}

/* Cluster uploads under PREFIX older than before without a journal: the
 * store's own, of a node that died mid-upload. */
static int sweep_cluster(vs__s3s *s, sweep *w, vs_err *err)
{
  vs_s3_uploads_page pg;
  char *km = NULL, *im = NULL;
  size_t i;
  int rc;
  for(;;) {
    if((rc = vs_s3_mpu_list(&s->t, s->bucket, s->prefix, km, im, &pg, err)))
      break;
    for(i = 0; i < pg.n; i++) {
      vs_err e;
      if(pg.uploads[i].initiated_ms >= w->before)
        continue;
      if(vs_s3_mpu_abort(&s->t, s->bucket, pg.uploads[i].key,
                         pg.uploads[i].upload_id, &e) &&
         e.code != VS_ERR_NOTFOUND)
        vs_log("warn", "sweeper: upload %s of %s: %s",
               pg.uploads[i].upload_id, pg.uploads[i].key, e.msg);
      else
        w->removed++;
    }
    free(km);
    free(im);
    km = pg.truncated && pg.next_key_marker ? strdup(pg.next_key_marker)
                                            : NULL;
    im = km && pg.next_upload_id_marker ? strdup(pg.next_upload_id_marker)
                                        : NULL;
    vs_s3_uploads_page_free(&pg);
    if(!km)
      break;
  }
  free(km);
  free(im);
  return rc;
}

static int mpu_expire(vs_store *st, int64_t before_ms, size_t *removed,
                      vs_err *err)
{
  vs__s3s *s = (vs__s3s *)st;
  sweep w = {before_ms, 0};
  char *dir;
  int rc = vs__s3s_journal_dir(s, "", &dir, err);
  if(!rc) {
    dir[strlen(dir) - 1] = 0; /* "PREFIX.uploads/": every bucket's */
    rc = each_journal(s, dir, sweep_journal, &w, err);
  }
  free(dir);
  if(!rc)
    rc = sweep_cluster(s, &w, err);
  *removed = w.removed;
  return rc;
}

/* ---- hashing a landed version ------------------------------------------- */

typedef struct hashing {
  EVP_MD_CTX *md;
  uint64_t n;
} hashing;

static int hash_data(void *ctx, const void *p, size_t n)
{
  hashing *h = ctx;
  h->n += n;
  return !EVP_DigestUpdate(h->md, p, n);
}

int vs__s3s_hash(vs__s3s *s, const char *ckey, const char *vid,
                 uint64_t bytes, char hex[65], vs_err *err)
{
  static const char digits[] = "0123456789abcdef";
  vs_s3_get_opts o = {vid, 0, 0, 0};
  hashing h = {EVP_MD_CTX_new(), 0};
  unsigned char d[32];
  vs_object_info info;
  unsigned i;
  int rc;
  if(!h.md || !EVP_DigestInit_ex(h.md, EVP_sha256(), NULL)) {
    EVP_MD_CTX_free(h.md);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  rc = vs_s3_get(&s->t, s->bucket, ckey, &o, hash_data, &h, &info, err);
  if(!rc && h.n != bytes)
    rc = vs_fail(err, VS_ERR_NET, "%s %s: read %llu of %llu bytes", ckey,
                 vid, (unsigned long long)h.n, (unsigned long long)bytes);
  if(!rc && !EVP_DigestFinal_ex(h.md, d, NULL))
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  for(i = 0; !rc && i < 32; i++) {
    hex[2 * i] = digits[d[i] >> 4];
    hex[2 * i + 1] = digits[d[i] & 15];
  }
  if(!rc)
    hex[64] = 0;
  EVP_MD_CTX_free(h.md);
  return rc;
}

const vs_store_mpu_ops vs__s3s_mpu_ops = {
  .create = mpu_create,
  .get = mpu_get,
  .part_begin = part_begin,
  .part_commit = part_commit,
  .part_copy = vs__s3s_part_copy,
  .parts = mpu_parts,
  .complete = mpu_complete,
  .abort = mpu_abort,
  .list = mpu_list,
  .expire = mpu_expire,
};
