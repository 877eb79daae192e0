/* Delete markers and purges. S3 with versioning never deletes on DELETE:
 * it adds a delete marker, a version without bytes that makes the key read
 * as deleted while it is current. vsink keeps every version, so it does the
 * same. A marker is committed through the store's ordinary begin/commit:
 * its empty data file and its metadata ({"deleteMarker":true}) land under
 * the same intent, lock and fsyncs as an object's, so a crash leaves it
 * either invisible or named by an intent the sink reconciles against its
 * `deleted` event. Removing a version for good (a purge) is the store's
 * remove, behind the caller's permission and a minimum age. */
#include <string.h>

#include "vsink/store.h"

/* The digests of no bytes at all. */
#define EMPTY_SHA256 \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define EMPTY_MD5 "d41d8cd98f00b204e9800998ecf8427e"

int vs_store_put_marker(vs_store *s, const char *bucket, const char *key,
                        vs_object_info *info, vs_err *err)
{
  vs_commit c;
  vs_upload *u = NULL;
  int rc = vs_store_begin(s, bucket, key, &u, err);
  if(rc)
    return rc;
  memset(&c, 0, sizeof(c));
  c.sha256 = EMPTY_SHA256;
  c.md5 = EMPTY_MD5;
  /* a new version whatever the policy: a delete destroys nothing, and
   * REJECT must not refuse it because the key holds an object */
  c.policy = VS_ON_EXISTING_VERSION;
  c.delete_marker = 1;
  return vs_store_commit(s, u, &c, info, err);
}

int vs_store_purge(vs_store *s, const char *bucket, const char *key,
                   const char *vid, int64_t min_age_ms, int64_t now_ms,
                   vs_object_info *info, vs_err *err)
{
  int rc;
  if(!vid || !*vid)
    return vs_fail(err, VS_ERR_NOTFOUND, "no version named");
  rc = vs_store_stat(s, bucket, key, vid, info, err);
  if(rc)
    return rc;
  if(min_age_ms > 0 && now_ms - info->mtime_ms < min_age_ms)
    return vs_fail(err, VS_ERR_EXISTS, "version %s is %lld s old; the "
                   "retention keeps versions for %lld s", vid,
                   (long long)((now_ms - info->mtime_ms) / 1000),
                   (long long)(min_age_ms / 1000));
  return vs_store_remove(s, bucket, key, vid, err);
}
