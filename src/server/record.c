/* Recording a version the store has just committed: one way for every
 * operation that makes one (PUT, copy, delete marker). */
#include <cjson/cJSON.h>

#include "server/internal.h"
#include "util/log.h"

vs__s3code vs__record_version(vs__req *r, const char *key, const char *vid,
                              const char *event, cJSON *ev)
{
  vs_server *s = r->srv;
  vs_err err = {0};
  int rc = ev ? vs_manifest_append(s->cfg.manifest, event, ev, &err)
              : vs_fail(&err, VS_ERR_NOMEM, "out of memory");
  cJSON_Delete(ev);
  if(rc) {
    /* the version must not stay without its event: take it back */
    vs_err e2 = {0};
    vs_log("error", "manifest append for %s/%s: %s", r->bucket, key,
           err.msg);
    if(vs_store_remove(s->cfg.store, r->bucket, key, vid, &e2))
      vs_log("error", "could not take back %s/%s version %s: %s", r->bucket,
             key, vid, e2.msg);
    return rc == VS_ERR_NOSPACE ? VS__S3_STORAGE : VS__S3_INTERNAL;
  }
  /* Recorded: the store's intent is done with. Should this fail, the next
   * start finds the event and settles it then. */
  if(vs_store_settle(s->cfg.store, r->bucket, key, vid, &err))
    vs_log("warn", "settle %s/%s version %s: %s", r->bucket, key, vid,
           err.msg);
  return VS__S3_NONE;
}
