/* CopyObject in the filesystem store: a version's file is never modified,
 * so a copy is one more hard link to it under the destination key (the
 * data folder is one filesystem), committed as an upload is: same lock,
 * same policy checks, same durable intent, so a kill -9 at any point
 * leaves either nothing visible or a version the next start reconciles
 * with the manifest. */
#include <stdlib.h>

#include "store_fs_int.h"
#include "vsink/store.h"

int vs__fs_copy(vs_store *s, const char *src_bucket, const char *src_key,
                const char *src_vid, const char *bucket, const char *key,
                const vs_commit *c, vs_object_info *info, vs_err *err)
{
  vs_object_info *src;
  vs_upload *u = NULL;
  vs_commit cc;
  int rc;
  if(!src_vid || !*src_vid)
    return vs_fail(err, VS_ERR_INVALID, "a copy names its source version");
  if(!(src = malloc(sizeof(*src))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  rc = vs_store_stat(s, src_bucket, src_key, src_vid, src, err);
  if(!rc)
    rc = vs_store_begin(s, bucket, key, &u, err);
  if(!rc)
    rc = vs__store_fs_upload_link(u, src_bucket, src_key, src->version_id,
                                  src->bytes, err);
  if(rc) {
    if(u)
      vs_store_abort(s, u);
    free(src);
    return rc;
  }
  vs_store_copy_commit(c, src, &cc);
  rc = vs_store_commit(s, u, &cc, info, err);
  free(src);
  return rc;
}
