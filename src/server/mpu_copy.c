/* UploadPartCopy: a part made of a stored version's bytes, all of them (a
 * hard link: nothing is read or written) or x-amz-copy-source-range's. The
 * source and its conditions are checked as for CopyObject (copy.c), before
 * anything is made; checks and part on a commit thread (the upload and the
 * source are looked up in the store, which may be a cluster). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xml.h"

/* "bytes=first-last", both present, first <= last < size. */
static int parse_range(vs__req *r, uint64_t size, vs__fail *f)
{
  const char *v = vs__header(r->conn, "x-amz-copy-source-range");
  unsigned long long a, b;
  int used = 0;
  char msg[120];
  if(!v) {
    r->copy_off = 0;
    r->copy_len = size;
    return 0;
  }
  if(sscanf(v, "bytes=%llu-%llu%n", &a, &b, &used) != 2 ||
     (size_t)used != strlen(v) || strchr(v, '+') || strchr(v, ' '))
    return vs__failed(f, VS__S3_INVALID_ARGUMENT, "The x-amz-copy-source-range "
                      "value must be of the form bytes=first-last where first "
                      "and last are the zero-based offsets of the first and "
                      "last bytes to copy");
  if(a > b || b >= size) {
    snprintf(msg, sizeof(msg), "Range specified is not valid for source "
             "object of size: %" PRIu64, size);
    return vs__failed(f, VS__S3_INVALID_ARGUMENT, msg);
  }
  r->copy_off = a;
  r->copy_len = b - a + 1;
  return 0;
}

static int check(vs__req *r, vs__fail *f)
{
  vs_object_info *src;
  int rc;
  if(vs__part_number(r, &r->part_number))
    return vs__failed(f, VS__S3_INVALID_ARGUMENT, "Part number must be an "
                      "integer between 1 and 10000, inclusive");
  if(vs__mpu_lookup(r, &f->code, f->msg, sizeof(f->msg)))
    return -1;
  if(!(src = malloc(sizeof(*src))))
    return vs__failed(f, VS__S3_INTERNAL, "out of memory");
  rc = vs__copy_source(r, src, &f->code, f->msg, sizeof(f->msg));
  if(!rc && src->delete_marker)
    rc = vs__failed(f, VS__S3_NO_SUCH_KEY, NULL);
  if(!rc)
    rc = parse_range(r, src->bytes, f);
  if(!rc && r->copy_len > VS_PART_MAX_BYTES)
    rc = vs__failed(f, VS__S3_INVALID_REQUEST, "The specified copy source is "
                    "larger than the maximum allowable size for a copy source: "
                    "5368709120");
  free(src);
  return rc ? -1 : 0;
}

static void copy_work(vs__req *r)
{
  vs_part_info p = {0};
  vs__fail f = {VS__S3_NONE, ""};
  vs_err err = {0};
  int rc;
  if(check(r, &f)) {
    vs__done(r, f.code, f.msg);
    return;
  }
  rc = vs_store_part_copy(r->srv->cfg.store, r->bucket, r->key,
                          r->mpu->upload_id, r->part_number, r->copy->bucket,
                          r->copy->key, r->copy->vid, r->copy_off,
                          r->copy_len, &p, &err);
  r->done_code = VS__S3_NONE;
  if(rc) {
    if(rc != VS_ERR_NOTFOUND)
      vs_log("error", "part %u of %s/%s from %s/%s: %s", r->part_number,
             r->bucket, r->key, r->copy->bucket, r->copy->key, err.msg);
    r->done_code = rc == VS_ERR_NOSPACE ? VS__S3_STORAGE
                   : rc == VS_ERR_NOTFOUND ? VS__S3_NO_SUCH_UPLOAD
                   : rc == VS_ERR_NET ? VS__S3_UNAVAILABLE /* the cluster */
                                      : VS__S3_INTERNAL;
    return;
  }
  snprintf(r->md5_hex, sizeof(r->md5_hex), "%s", p.md5);
  r->done_info->mtime_ms = p.mtime_ms;
  atomic_fetch_add(&r->srv->m.parts_ok, 1);
}

static enum MHD_Result answer(vs__req *r)
{
  vs_buf b = VS_BUF_INIT;
  char when[25];
  r->phase = 2;
  if(r->done_code)
    return vs__reject(r, r->done_code, r->done_msg[0] ? r->done_msg : NULL);
  vs_time_rfc3339(r->done_info->mtime_ms, when);
  vs_buf_addf(&b, VS_XML_HEAD "<CopyPartResult xmlns=\"" VS_XML_NS
              "\"><LastModified>%s"
              "</LastModified><ETag>&quot;%s&quot;</ETag></CopyPartResult>",
              when, r->md5_hex);
  if(b.failed)
    return vs__reject(r, VS__S3_INTERNAL, "out of memory");
  if(r->srv->cfg.on_existing == VS_ON_EXISTING_VERSION) {
    r->extra_header = "x-amz-copy-source-version-id";
    snprintf(r->extra_value, sizeof(r->extra_value), "%s", r->copy->vid);
  }
  return vs__send_buf(r, MHD_HTTP_OK, &b, "application/xml");
}

enum MHD_Result vs__mpu_part_copy(vs__req *r, const char *data, size_t *size)
{
  (void)data;
  *size = 0;
  if(r->phase == 3)
    return answer(r);
  if(r->phase)
    return MHD_YES;
  r->phase = 3;
  if(vs__commit_submit(r, copy_work))
    return vs__reject(r, VS__S3_UNAVAILABLE, NULL);
  return MHD_YES;
}
