/* The S3 store's commits: a version written from an upload (one PutObject
 * of its spooled body, the Complete of its multipart upload, a client's
 * Complete, a server-side copy) or a delete marker, checked (a HEAD: size
 * and ETag; a client's upload re-hashed) before the caller records it, its
 * id then in the upload's intent. A commit that decides on the key's
 * current version holds the key (vs__s3s_hold) while it does. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/s3/s3store_int.h"
#include "util/buf.h"
#include "util/log.h"

/* ---- metadata ----------------------------------------------------------- */

const char *vs__s3s_ctype(const char *ct)
{
  return ct && *ct ? ct : "application/octet-stream";
}

/* The user's header lines without any x-amz-meta-vsink-* (the store's own
 * names: a client's would be taken for the store's), then the store's:
 * the intent token and, for a single PutObject (c set), the digests. */
int vs__s3s_meta(const char *token, const char *user, const vs_commit *c,
                 vs_buf *b, vs_err *err)
{
  const char *p = user ? user : "";
  while(*p) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
    if(strncasecmp(p, VS__S3S_META, strlen(VS__S3S_META)))
      vs_buf_add(b, p, n);
    if(!nl && n)
      vs_buf_addc(b, '\n');
    p += n;
  }
  vs_buf_addf(b, VS__S3S_META "intent:%s\n", token);
  if(c && c->sha256 && *c->sha256)
    vs_buf_addf(b, VS__S3S_META "sha256:%s\n", c->sha256);
  if(c && c->md5 && *c->md5)
    vs_buf_addf(b, VS__S3S_META "md5:%s\n", c->md5);
  if(c && c->checksum_alg && *c->checksum_alg && c->checksum && *c->checksum)
    vs_buf_addf(b, VS__S3S_META "checksum:%s:%s\n", c->checksum_alg,
                c->checksum);
  if(b->failed)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  return VS_OK;
}

/* ---- commit ------------------------------------------------------------- */

/* What commit learned before writing: the current version (if_match,
 * OVERWRITE), and the upload's result. */
typedef struct put_state {
  const vs_commit *c;
  char prev[VS_S3_VERSION_MAX];   /* the current version's id, "" none */
  vs_s3_put_result res;
} put_state;

static int reject(const vs_commit *c)
{
  return c->policy == VS_ON_EXISTING_REJECT || c->if_none_match;
}

/* The commit decides on the key's current version: it looks at it first
 * (check_current) and holds the key until its own is written. */
static int needs_current(const vs_commit *c)
{
  return c->if_match || reject(c) || c->policy == VS_ON_EXISTING_OVERWRITE;
}

/* HEAD of the current version when a condition or the policy needs it. */
static int check_current(vs_upload *u, put_state *ps, vs_err *err)
{
  const vs_commit *c = ps->c;
  vs_object_info cur;
  int rc;
  if(!needs_current(c))
    return VS_OK;
  rc = vs__s3s_head(u->s, u->ckey, NULL, &cur, NULL, err);
  if(rc && rc != VS_ERR_NOTFOUND)
    return rc;
  /* Multipart has no conditional Complete, and RGW ignores PutObject's
   * If-None-Match in a versioned bucket (it is still sent: AWS and an
   * unversioned RGW bucket honour it): this check and the write would
   * race with another writer of the key, which the key's hold
   * (commit_body) keeps out within this process; not another node's. */
  if(!rc && reject(c))
    return vs_fail(err, VS_ERR_EXISTS, "%s/%s exists", u->bucket, u->key);
  if(c->if_match && rc)
    return vs_fail(err, VS_ERR_NOTFOUND, "%s/%s: If-Match on no object",
                   u->bucket, u->key);
  if(c->if_match && strcmp(c->if_match, "*") &&
     strcmp(c->if_match, cur.etag))
    return vs_fail(err, VS_ERR_EXISTS, "%s/%s: ETag %s is not %s",
                   u->bucket, u->key, cur.etag, c->if_match);
  if(!rc && c->policy == VS_ON_EXISTING_OVERWRITE)
    snprintf(ps->prev, sizeof(ps->prev), "%s", cur.version_id);
  return VS_OK;
}

static int same(const char *a, const char *b)
{
  return !strcmp(a ? a : "", b ? b : "");
}

static int put_single(vs_upload *u, put_state *ps, vs_err *err)
{
  vs_s3_write_opts o = {0};
  vs_s3_body b = {NULL, u->slots[0].fd, 0, u->written, u->slots[0].md5_b64};
  vs_buf h = VS_BUF_INIT;
  int rc = vs__s3s_meta(u->intent->token, ps->c->headers, ps->c, &h,
                        err);
  if(!rc)
    rc = vs__s3s_slot_seal(&u->slots[0], err);
  o.content_type = vs__s3s_ctype(ps->c->content_type);
  o.headers = vs_buf_str(&h);
  o.if_none_match = reject(ps->c);
  if(!rc && !(rc = vs__s3s_make_intent(u, err)))
    rc = vs_s3_put(&u->s->t, u->s->bucket, u->ckey, &b, &o, &ps->res, err);
  vs_buf_free(&h);
  return rc;
}

/* The last part up and every part answered: before the key is held, as
 * the parts in flight may take long. */
static int finish_parts(vs_upload *u, const vs_commit *c, vs_err *err)
{
  if(!same(vs__s3s_ctype(u->ctype), vs__s3s_ctype(c->content_type)) ||
     !same(u->headers, c->headers))
    return vs_fail(err, VS_ERR_INVALID, "%s/%s: the content type and "
                   "headers at commit are not those told before the body "
                   "(describe), which the multipart upload carries",
                   u->bucket, u->key);
  return vs__s3s_finish_parts(u, err);
}

/* A client's multipart upload (s3store_mpu.c): its parts are on the
 * cluster already, named by the caller's list; the intent first, as for
 * any write that becomes visible. */
static int complete_client(vs_upload *u, put_state *ps, vs_err *err)
{
  int rc;
  snprintf(u->intent->upload_id, sizeof(u->intent->upload_id), "%s",
           u->upload_id);
  if((rc = vs__s3s_make_intent(u, err)))
    return rc;
  return vs_s3_mpu_complete(&u->s->t, u->s->bucket, u->ckey, u->upload_id,
                            u->parts, u->n_parts, &ps->res, err);
}

/* The version that landed is the one sent: its size, and its ETag (the
 * MD5, or S3's "-N" of the parts' MD5s). */
static int verify(vs_upload *u, put_state *ps, vs_object_info *info,
                  vs_err *err)
{
  const char *want = ps->res.etag;
  int rc = vs__s3s_head(u->s, u->ckey, ps->res.version_id, info, NULL, err);
  if(rc)
    return rc;
  if(!u->upload_id[0] && ps->c->md5 && *ps->c->md5)
    want = ps->c->md5;
  if(info->bytes != u->written || (*want && strcasecmp(want, info->etag)))
    return vs_fail(err, VS_ERR_DIGEST, "%s: stored %llu bytes with ETag "
                   "%s, sent %llu with %s", u->ckey,
                   (unsigned long long)info->bytes, info->etag,
                   (unsigned long long)u->written, want);
  /* a copy carries the source's SHA-256 whichever way it was made */
  if(u->copy_ckey && strcmp(info->sha256, ps->c->sha256))
    return vs_fail(err, VS_ERR_DIGEST, "%s: the copy carries SHA-256 '%s', "
                   "its source %s", u->ckey, info->sha256, ps->c->sha256);
  return VS_OK;
}

/* The version is there and checked: its id into the intent, then the
 * replaced one goes (now, or at settle when deferred). */
static void landed(vs_upload *u, put_state *ps, vs_object_info *info)
{
  vs__s3s_intent *it = u->intent;
  vs_err e;
  snprintf(it->version_id, sizeof(it->version_id), "%s", info->version_id);
  if(ps->prev[0] && strcmp(ps->prev, info->version_id)) {
    if(ps->c->defer_overwrite)
      snprintf(it->replaces, sizeof(it->replaces), "%s", ps->prev);
    else if(vs_s3_delete(&u->s->t, u->s->bucket, u->ckey, ps->prev, NULL,
                         &e))
      vs_log("warn", "overwrite of %s: delete version %s: %s", u->ckey,
             ps->prev, e.msg);
  }
  /* Synced when it names a replaced version: that name exists only here,
   * and the stored event the caller writes next must not outlive it (a
   * power cut would otherwise keep both versions). */
  if(vs__s3s_intent_put(u->s, it, it->replaces[0] != 0, &e))
    vs_log("warn", "intent of %s %s: %s", u->ckey, info->version_id, e.msg);
}

/* A multipart object carries no digests on the cluster (they are known
 * only after Create): the commit's info has the caller's, for its
 * manifest event; stat then shows sha256 "". */
static void keep_digests(const vs_commit *c, vs_object_info *info)
{
  if(!info->sha256[0] && c->sha256)
    snprintf(info->sha256, sizeof(info->sha256), "%s", c->sha256);
  if(!info->md5[0] && c->md5)
    snprintf(info->md5, sizeof(info->md5), "%s", c->md5);
  if(!info->checksum[0] && c->checksum_alg && c->checksum) {
    snprintf(info->checksum_alg, sizeof(info->checksum_alg), "%s",
             c->checksum_alg);
    snprintf(info->checksum, sizeof(info->checksum), "%s", c->checksum);
  }
}

static int commit_marker(vs_upload *u, vs_object_info *info, vs_err *err)
{
  vs_s3_delete_result dr;
  int rc;
  u->intent->marker = 1;
  if((rc = vs__s3s_make_intent(u, err)) ||
     (rc = vs_s3_delete(&u->s->t, u->s->bucket, u->ckey, NULL, &dr, err)))
    return rc;
  memset(info, 0, sizeof(*info));
  snprintf(info->version_id, sizeof(info->version_id), "%s",
           dr.version_id[0] ? dr.version_id : "null");
  info->delete_marker = 1;
  info->mtime_ms = vs_now_ms(NULL, NULL);
  snprintf(u->intent->version_id, sizeof(u->intent->version_id), "%s",
           info->version_id);
  if((rc = vs__s3s_intent_put(u->s, u->intent, 0, err)))
    vs_log("warn", "intent of %s marker %s: %s", u->ckey, info->version_id,
           err->msg);
  return VS_OK;
}

static int write_object(vs_upload *u, put_state *ps, vs_err *err)
{
  if(u->client)
    return complete_client(u, ps, err);
  if(u->copy_ckey)
    return vs__s3s_put_copy(u, ps->c, &ps->res, err);
  if(u->n_parts)
    return vs_s3_mpu_complete(&u->s->t, u->s->bucket, u->ckey, u->upload_id,
                              u->parts, u->n_parts, &ps->res, err);
  return put_single(u, ps, err);
}

static int commit_checked(vs_upload *u, put_state *ps, vs_object_info *info,
                          vs_err *err)
{
  vs_err e;
  int rc = check_current(u, ps, err);
  if(!rc)
    rc = write_object(u, ps, err);
  if(rc)
    return rc;
  if((rc = verify(u, ps, info, err)) ||
     (u->client && (rc = vs__s3s_hash(u->s, u->ckey, info->version_id,
                                      info->bytes, info->sha256, err)))) {
    /* it landed but is not what was sent, or cannot be checked */
    if(ps->res.version_id[0] &&
       vs_s3_delete(&u->s->t, u->s->bucket, u->ckey, ps->res.version_id,
                    NULL, &e))
      vs_log("warn", "remove unchecked version %s of %s: %s",
             ps->res.version_id, u->ckey, e.msg);
    return rc;
  }
  landed(u, ps, info);
  keep_digests(ps->c, info);
  return VS_OK;
}

/* A commit that decides on the current version holds the key from its
 * look at it until its own version is in the intent. */
static int commit_body(vs_upload *u, put_state *ps, vs_object_info *info,
                       vs_err *err)
{
  const vs_commit *c = ps->c;
  vs__s3s_held hold;
  int rc = VS_OK, held = needs_current(c);
  if(!u->client && !u->copy_ckey && u->n_parts)
    rc = finish_parts(u, c, err);
  if(rc)
    return rc;
  if(held)
    vs__s3s_hold(u->s, &hold, u->ckey);
  rc = commit_checked(u, ps, info, err);
  if(held)
    vs__s3s_release(u->s, &hold);
  return rc;
}

int vs__s3s_commit(vs_upload *u, const vs_commit *c, vs_object_info *info,
                   vs_err *err)
{
  put_state ps;
  int rc;
  memset(&ps, 0, sizeof(ps));
  ps.c = c;
  if(c->bytes != u->written)
    rc = vs_fail(err, VS_ERR_INVALID, "commit of %llu bytes, %llu written",
                 (unsigned long long)c->bytes,
                 (unsigned long long)u->written);
  else if(c->delete_marker)
    rc = commit_marker(u, info, err);
  else
    rc = commit_body(u, &ps, info, err);
  if(rc) {
    vs__s3s_end_upload(u, rc == VS_ERR_NET ? VS__S3S_INTENT_ENDED
                                           : VS__S3S_INTENT_DROP);
    return rc;
  }
  /* Complete consumed the upload: nothing to abort */
  u->upload_id[0] = 0;
  vs__s3s_end_upload(u, VS__S3S_INTENT_KEEP);
  return VS_OK;
}

int vs__s3s_commit_parts(vs_upload *u, const vs_commit *c,
                         vs_object_info *info, vs_err *err)
{
  put_state ps;
  int rc;
  memset(&ps, 0, sizeof(ps));
  ps.c = c;
  u->client = 1;
  rc = commit_body(u, &ps, info, err);
  /* the client's upload: consumed by Complete, or kept for a retry of it
   * (S3 leaves an upload whose Complete failed in place). A Complete the
   * cluster did not answer may have landed: its intent stays for the
   * cleaner, which removes that version if this attempt made it. */
  u->upload_id[0] = 0;
  vs__s3s_end_upload(u, rc == VS_OK        ? VS__S3S_INTENT_KEEP
                        : rc == VS_ERR_NET ? VS__S3S_INTENT_ENDED
                                           : VS__S3S_INTENT_DROP);
  return rc;
}
