/* GetObjectTagging: vsink stores no tags (a PUT or a copy that asks for
 * some is refused, router_rules.c), so every version's tag set is empty,
 * and saying so is exact. aws s3 cp between buckets reads it to copy the
 * tags along (its default --copy-props); PutObjectTagging stays 501. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "util/buf.h"
#include "util/xml.h"

/* The version asked for, into info: VS__S3_NONE or why not. A delete
 * marker has no tags to read (S3: 404, or 405 by its versionId). */
static vs__s3code find(vs__req *r, vs_object_info *info)
{
  char *vid = vs__query_get(r->raw_uri, "versionId");
  int rc = vs_store_stat(r->srv->cfg.store, r->bucket, r->key,
                         vid && strcmp(vid, "null") ? vid : NULL, info, NULL);
  vs__s3code code = VS__S3_NONE;
  if(rc == VS_ERR_NOTFOUND)
    code = vid ? VS__S3_NO_SUCH_VERSION : VS__S3_NO_SUCH_KEY;
  else if(rc)
    code = VS__S3_INTERNAL;
  else if(info->delete_marker)
    code = vid ? VS__S3_METHOD : VS__S3_NO_SUCH_KEY;
  free(vid);
  return code;
}

/* On a commit thread (the version is the store's): the empty tag set, or
 * why not. */
static void tagging_work(vs__req *r)
{
  vs_object_info *info = malloc(sizeof(*info));
  vs_buf b = VS_BUF_INIT;
  vs__s3code code;
  if(!info) {
    vs__done(r, VS__S3_INTERNAL, "out of memory");
    return;
  }
  if((code = find(r, info))) {
    free(info);
    vs__done(r, code, NULL);
    return;
  }
  if(r->srv->cfg.on_existing == VS_ON_EXISTING_VERSION) {
    r->extra_header = "x-amz-version-id";
    snprintf(r->extra_value, sizeof(r->extra_value), "%s", info->version_id);
  }
  free(info);
  vs_buf_adds(&b, VS_XML_HEAD "<Tagging xmlns=\"" VS_XML_NS "\"><TagSet/>"
              "</Tagging>");
  vs__pooled_body(r, &b);
}

enum MHD_Result vs__get_object_tagging(vs__req *r, const char *data,
                                       size_t *size)
{
  (void)data;
  *size = 0;
  return vs__pooled(r, tagging_work);
}
