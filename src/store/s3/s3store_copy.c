/* Copies in the S3 store: CopyObject and UploadPartCopy on the sink become
 * server-side copies on the cluster, so the bytes never pass through the
 * node.
 *
 * A copy is a new version committed as a PUT is (s3store_put.c's commit:
 * policy and conditions by a HEAD, a durable intent whose token the new
 * version carries, the version checked by a HEAD, taken back when it does
 * not check out, an intent left for the cleaner when the cluster stopped
 * answering); only the write differs. The source is named by its cluster
 * key and version id, so the version the caller checked is the one
 * copied. The cluster is always told REPLACE: the new version carries the
 * sink's own x-amz-meta-vsink-* (a new intent token, and the source's
 * digests) besides the content headers the caller chose (the source's for
 * COPY, the request's for REPLACE).
 *
 * A source stored in cluster parts has no SHA-256 in its metadata (it is
 * known only at its commit): the copy reads it back once to hash it, so
 * that the copy carries it and its stored event names it. A source larger
 * than one CopyObject takes (5 GiB) is copied as a multipart upload of
 * UploadPartCopy parts. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/s3/s3store_int.h"
#include "util/log.h"

/* Parts of a multipart copy: server-side, so as large as the part count
 * and the copy limit allow (fewer requests), at least 5 MiB. */
#define COPY_PART_PREF (1ULL << 30)

static uint64_t part_size(const vs__s3s *s, uint64_t bytes)
{
  uint64_t least = (bytes + VS_PART_NUMBER_MAX - 1) / VS_PART_NUMBER_MAX;
  uint64_t p = s->copy_max < COPY_PART_PREF ? s->copy_max : COPY_PART_PREF;
  if(p < VS_PART_MIN_BYTES)
    p = VS_PART_MIN_BYTES;
  return p > least ? p : least;
}

static int copy_headers(vs_upload *u, const vs_commit *c, vs_buf *h,
                        vs_s3_write_opts *o, vs_err *err)
{
  int rc = vs__s3s_meta(u->intent->token, c->headers, c, h, err);
  memset(o, 0, sizeof(*o));
  o->content_type = c->content_type && *c->content_type
                      ? c->content_type : "application/octet-stream";
  o->headers = vs_buf_str(h);
  return rc;
}

/* Over copy_max: Create (with the metadata, digests included: they are
 * known), the parts in order, Complete from their list. */
static int copy_multipart(vs_upload *u, const vs_s3_write_opts *o,
                          vs_s3_put_result *res, vs_err *err)
{
  vs__s3s *s = u->s;
  uint64_t ps = part_size(s, u->written), off;
  unsigned n = (unsigned)((u->written + ps - 1) / ps), i;
  vs_s3_copy_src src = {s->bucket, u->copy_ckey, u->copy_vid, 1, 0, 0};
  int rc;
  if(!(u->parts = calloc(n, sizeof(*u->parts))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  u->cap_parts = n;
  if((rc = vs_s3_mpu_create(&s->t, s->bucket, u->ckey, o, u->upload_id,
                            err)))
    return rc;
  /* the id in the intent, so a crash's leftover upload can be aborted */
  snprintf(u->intent->upload_id, sizeof(u->intent->upload_id), "%s",
           u->upload_id);
  if((rc = vs__s3s_make_intent(u, err)))
    return rc;
  for(i = 0, off = 0; !rc && i < n; i++, off += ps) {
    src.first = off;
    src.last = (off + ps < u->written ? off + ps : u->written) - 1;
    u->parts[i].number = i + 1;
    rc = vs_s3_mpu_part_copy(&s->t, &src, s->bucket, u->ckey, u->upload_id,
                             i + 1, u->parts[i].etag, err);
    u->n_parts = i + 1;
  }
  if(rc)
    return rc;
  return vs_s3_mpu_complete(&s->t, s->bucket, u->ckey, u->upload_id,
                            u->parts, n, res, err);
}

int vs__s3s_put_copy(vs_upload *u, const vs_commit *c, vs_s3_put_result *res,
                     vs_err *err)
{
  vs_s3_copy_src src = {u->s->bucket, u->copy_ckey, u->copy_vid, 0, 0, 0};
  vs_s3_write_opts o;
  vs_buf h = VS_BUF_INIT;
  int rc = copy_headers(u, c, &h, &o, err);
  if(!rc && u->written > u->s->copy_max)
    rc = copy_multipart(u, &o, res, err);
  else if(!rc && !(rc = vs__s3s_make_intent(u, err))) {
    o.if_none_match = c->policy == VS_ON_EXISTING_REJECT || c->if_none_match;
    rc = vs_s3_copy(&u->s->t, &src, u->s->bucket, u->ckey, &o, res, err);
  }
  vs_buf_free(&h);
  return rc;
}

/* The source version as the copy needs it: its size and digests (its
 * SHA-256 read back when its metadata lacks it). */
static int source(vs__s3s *s, const char *ckey, const char *vid,
                  vs_object_info *src, vs_err *err)
{
  vs_err inner;
  int rc = vs__s3s_head(s, ckey, vid, src, NULL, &inner);
  if(rc == VS_ERR_INVALID) /* the cluster's 400 for a malformed id */
    rc = VS_ERR_NOTFOUND;
  if(rc)
    return vs_fail(err, rc, "copy source: %s", inner.msg);
  if(!src->sha256[0])
    rc = vs__s3s_hash(s, ckey, src->version_id, src->bytes, src->sha256, err);
  return rc;
}

int vs__s3s_copy(vs_store *st, const char *src_bucket, const char *src_key,
                 const char *src_vid, const char *bucket, const char *key,
                 const vs_commit *c, vs_object_info *info, vs_err *err)
{
  vs__s3s *s = (vs__s3s *)st;
  vs_object_info *src = malloc(sizeof(*src));
  vs_upload *u = NULL;
  char *sckey = NULL;
  vs_commit cc;
  int rc = src ? VS_OK : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if(!rc && (!src_vid || !*src_vid))
    rc = vs_fail(err, VS_ERR_INVALID, "a copy names its source version");
  if(!rc && (rc = vs__s3s_ckey(s, src_bucket, src_key, &sckey, err)) ==
                VS_ERR_TOOLARGE)
    rc = VS_ERR_NOTFOUND; /* too long to be stored: no such source */
  if(!rc)
    rc = source(s, sckey, src_vid, src, err);
  if(!rc)
    rc = vs__s3s_begin(st, bucket, key, &u, err);
  if(rc) {
    free(sckey);
    free(src);
    return rc;
  }
  u->copy_ckey = sckey;
  snprintf(u->copy_vid, sizeof(u->copy_vid), "%s", src->version_id);
  u->written = src->bytes;
  u->started = 1;
  vs_store_copy_commit(c, src, &cc);
  rc = vs__s3s_commit(u, &cc, info, err);
  free(src);
  return rc;
}

/* ---- UploadPartCopy into a client's upload -------------------------------
 * The part is made on the cluster from the source version's range; its
 * ETag (the MD5 of those bytes) is what ListParts and Complete check, and
 * Complete hashes the whole object anyway, so nothing else is kept. (A
 * part copied over one sent with a verified checksum leaves that kept
 * checksum in place, as an UploadPart without one does: s3store_mpu.c.) */
int vs__s3s_part_copy(vs_store *st, const char *bucket, const char *key,
                      const char *upload_id, unsigned number,
                      const char *src_bucket, const char *src_key,
                      const char *src_vid, uint64_t off, uint64_t len,
                      vs_part_info *p, vs_err *err)
{
  vs__s3s *s = (vs__s3s *)st;
  char token[VS__S3S_TOKEN_LEN + 1], etag[VS_S3_ETAG_MAX];
  char *ckey = NULL, *sckey = NULL;
  vs_mpu *m = malloc(sizeof(*m));
  vs_s3_copy_src src = {s->bucket, NULL, src_vid, len > 0, off,
                        off + len - 1};
  int rc = m ? vs__s3s_journal_get(s, bucket, key, upload_id, m, token, err)
             : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  free(m);
  if(!rc && !(rc = vs__s3s_ckey(s, bucket, key, &ckey, err)) &&
     !(rc = vs__s3s_ckey(s, src_bucket, src_key, &sckey, err))) {
    src.key = sckey;
    rc = vs_s3_mpu_part_copy(&s->t, &src, s->bucket, ckey, upload_id, number,
                             etag, err);
  }
  if(!rc) {
    memset(p, 0, sizeof(*p));
    p->number = number;
    p->bytes = len;
    if(strlen(etag) < sizeof(p->md5))
      memcpy(p->md5, etag, strlen(etag) + 1);
    p->mtime_ms = vs_now_ms(NULL, NULL);
  }
  free(ckey);
  free(sckey);
  return rc;
}
