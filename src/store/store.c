/* What every object store shares: the checks on bucket names and keys that
 * stand between a request and a path, and the names of the policies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/utf8.h"
#include "vsink/store.h"

static const char *const policy_names[] = {"version", "reject", "overwrite"};

int vs_on_existing_parse(const char *s, vs_on_existing *out)
{
  size_t i;
  if(!s)
    return VS_ERR_INVALID;
  for(i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++)
    if(!strcmp(s, policy_names[i])) {
      *out = (vs_on_existing)i;
      return VS_OK;
    }
  return VS_ERR_INVALID;
}

const char *vs_on_existing_name(vs_on_existing p)
{
  if((unsigned)p >= sizeof(policy_names) / sizeof(policy_names[0]))
    return "unknown";
  return policy_names[p];
}

/* Any key S3 takes: 1 to VS_KEY_MAX bytes of UTF-8, control characters,
 * empty, "." and ".." segments and a leading or trailing '/' included (the
 * filesystem store escapes them: store_fs_key.c). Only NUL cannot be held,
 * neither in a C string nor in a file name. */
int vs_store_check_key(const char *key, size_t len, vs_err *err)
{
  const unsigned char *k = (const unsigned char *)key;
  size_t i = 0;
  if(!key || len == 0)
    return vs_fail(err, VS_ERR_INVALID, "key is empty");
  if(len > VS_KEY_MAX)
    return vs_fail(err, VS_ERR_TOOLARGE,
                   "key is %zu bytes, the limit is %d", len, VS_KEY_MAX);
  while(i < len) {
    size_t n;
    if(k[i] == 0)
      return vs_fail(err, VS_ERR_INVALID,
                     "key has a NUL byte at byte %zu: a key cannot hold "
                     "NUL", i);
    if(k[i] < 0x80) {
      i++;
      continue;
    }
    n = vs_utf8_seq(k + i, len - i);
    if(!n)
      return vs_fail(err, VS_ERR_INVALID,
                     "key is not valid UTF-8 at byte %zu", i);
    i += n;
  }
  return VS_OK;
}

static int is_ipv4_form(const char *b, size_t n)
{
  int dots = 0, digits = 0;
  size_t i;
  for(i = 0; i < n; i++) {
    if(b[i] == '.') {
      if(!digits || digits > 3)
        return 0;
      dots++;
      digits = 0;
    }
    else if(b[i] >= '0' && b[i] <= '9')
      digits++;
    else
      return 0;
  }
  return dots == 3 && digits && digits <= 3;
}

static int bucket_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-';
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
  size_t m = strlen(suffix);
  return n >= m && !memcmp(s + n - m, suffix, m);
}

int vs_store_check_bucket(const char *bucket, vs_err *err)
{
  size_t n, i;
  if(!bucket || !*bucket)
    return vs_fail(err, VS_ERR_INVALID, "bucket name is empty");
  n = strlen(bucket);
  if(n < 3 || n > 63)
    return vs_fail(err, VS_ERR_INVALID,
                   "bucket name is %zu characters, it must have 3 to 63", n);
  for(i = 0; i < n; i++)
    if(!bucket_char(bucket[i]))
      return vs_fail(err, VS_ERR_INVALID,
                     "bucket name has '%c' (0x%02x) at %zu: only a-z, 0-9, "
                     "'.' and '-' are allowed",
                     bucket[i] >= 0x20 && bucket[i] < 0x7f ? bucket[i] : '?',
                     (unsigned char)bucket[i], i);
  if(bucket[0] == '.' || bucket[0] == '-' ||
     bucket[n - 1] == '.' || bucket[n - 1] == '-')
    return vs_fail(err, VS_ERR_INVALID,
                   "bucket name must start and end with a letter or digit");
  if(strstr(bucket, "..") || strstr(bucket, ".-") || strstr(bucket, "-."))
    return vs_fail(err, VS_ERR_INVALID,
                   "bucket name has '..', '.-' or '-.'");
  if(is_ipv4_form(bucket, n))
    return vs_fail(err, VS_ERR_INVALID,
                   "bucket name must not look like an IP address");
  if(!strncmp(bucket, "xn--", 4) || !strncmp(bucket, "sthree-", 7) ||
     ends_with(bucket, n, "-s3alias") || ends_with(bucket, n, "--ol-s3"))
    return vs_fail(err, VS_ERR_INVALID,
                   "bucket name uses a reserved prefix or suffix "
                   "(xn--, sthree-, -s3alias, --ol-s3)");
  return VS_OK;
}

/* "headers":{"cache-control":"...","x-amz-meta-a":"..."} from the
 * "name:value\n" lines kept with the version */
static void add_headers(cJSON *f, const char *h)
{
  cJSON *o = cJSON_AddObjectToObject(f, "headers");
  char name[VS_OBJ_HEADERS_MAX];
  while(o && *h) {
    const char *colon = strchr(h, ':'), *nl = strchr(h, '\n');
    char *value;
    if(!colon || !nl || colon > nl)
      return;
    memcpy(name, h, (size_t)(colon - h));
    name[colon - h] = 0;
    value = strndup(colon + 1, (size_t)(nl - colon - 1));
    if(value)
      cJSON_AddStringToObject(o, name, value);
    free(value);
    h = nl + 1;
  }
}

cJSON *vs_store_event_fields(const char *bucket, const char *key,
                             const vs_object_info *info,
                             const char *task_uuid, const char *source)
{
  cJSON *f = cJSON_CreateObject();
  if(!f)
    return NULL;
  cJSON_AddStringToObject(f, "bucket", bucket);
  cJSON_AddStringToObject(f, "key", key);
  cJSON_AddStringToObject(f, "versionId", info->version_id);
  cJSON_AddNumberToObject(f, "bytes", (double)info->bytes);
  if(info->sha256[0])
    cJSON_AddStringToObject(f, "sha256", info->sha256);
  cJSON_AddStringToObject(f, "contentType", info->content_type);
  cJSON_AddStringToObject(f, "etag", info->etag);
  if(info->parts_count) /* a multipart object: its ETag ends "-N" */
    cJSON_AddNumberToObject(f, "parts", (double)info->parts_count);
  if(info->checksum_alg[0] && info->checksum[0]) {
    /* "checksum":{"crc32":"..."}: the x-amz-checksum-* verified on upload */
    cJSON *ck = cJSON_AddObjectToObject(f, "checksum");
    if(ck)
      cJSON_AddStringToObject(ck, info->checksum_alg, info->checksum);
  }
  if(info->headers[0])
    add_headers(f, info->headers);
  if(task_uuid)
    cJSON_AddStringToObject(f, "taskUUID", task_uuid);
  cJSON_AddStringToObject(f, "source", source);
  return f;
}

/* ---- listing: each store's own, through its ops ------------------------ */

int vs_store_list_open(vs_store *s, const vs_list_opts *o,
                       vs_store_list **out, vs_err *err)
{
  *out = NULL;
  if(!s->ops->list_open)
    return vs_fail(err, VS_ERR_INVALID, "this store cannot list its keys");
  return s->ops->list_open(s, o, out, err);
}

int vs_store_list_next(vs_store_list *l, vs_list_item *item, int *end,
                       vs_err *err)
{
  return l->ops->next(l, item, end, err);
}

int vs_store_list_skip(vs_store_list *l, const char *prefix, vs_err *err)
{
  return l->ops->skip(l, prefix, err);
}

void vs_store_list_close(vs_store_list *l)
{
  if(l)
    l->ops->close(l);
}

int vs_store_versions(vs_store *s, const char *bucket, const char *key,
                      char ***ids, size_t *n, vs_err *err)
{
  *ids = NULL;
  *n = 0;
  if(!s->ops->versions)
    return vs_fail(err, VS_ERR_INVALID, "this store cannot list versions");
  return s->ops->versions(s, bucket, key, ids, n, err);
}

int vs_store_copy(vs_store *s, const char *src_bucket, const char *src_key,
                  const char *src_vid, const char *bucket, const char *key,
                  const vs_commit *c, vs_object_info *info, vs_err *err)
{
  if(!vs_store_has_copy(s))
    return vs_fail(err, VS_ERR_INVALID, "this store does not copy");
  return s->ops->copy(s, src_bucket, src_key, src_vid, bucket, key, c, info,
                      err);
}

void vs_store_copy_commit(const vs_commit *c, const vs_object_info *src,
                          vs_commit *out)
{
  *out = *c;
  out->bytes = src->bytes;
  out->sha256 = src->sha256;
  out->md5 = src->md5[0] ? src->md5 : NULL;
  out->checksum_alg = src->checksum_alg[0] ? src->checksum_alg : NULL;
  out->checksum = src->checksum_alg[0] ? src->checksum : NULL;
}

/* ---- multipart uploads: the store's own, through its mpu ops -------------
 * part_copy and part_range may be NULL (VS_ERR_INVALID). */

static const vs_store_mpu_ops *mpu_ops(const vs_store *s, vs_err *err)
{
  if(s && s->ops->mpu)
    return s->ops->mpu;
  vs_fail(err, VS_ERR_INVALID, "this store has no multipart uploads");
  return NULL;
}

int vs_store_mpu_create(vs_store *s, vs_mpu *m, vs_err *err)
{
  const vs_store_mpu_ops *o = mpu_ops(s, err);
  return o ? o->create(s, m, err) : VS_ERR_INVALID;
}

int vs_store_mpu_get(vs_store *s, const char *bucket, const char *key,
                     const char *upload_id, vs_mpu *m, vs_err *err)
{
  const vs_store_mpu_ops *o = mpu_ops(s, err);
  return o ? o->get(s, bucket, key, upload_id, m, err) : VS_ERR_INVALID;
}

int vs_store_part_begin(vs_store *s, const char *bucket, const char *key,
                        const char *upload_id, unsigned number,
                        vs_upload **out, vs_err *err)
{
  const vs_store_mpu_ops *o = mpu_ops(s, err);
  *out = NULL;
  return o ? o->part_begin(s, bucket, key, upload_id, number, out, err)
           : VS_ERR_INVALID;
}

int vs_store_part_commit(vs_store *s, vs_upload *u, vs_part_info *p,
                         vs_err *err)
{
  const vs_store_mpu_ops *o = mpu_ops(s, err);
  if(!o) {
    vs_store_abort(s, u);
    return VS_ERR_INVALID;
  }
  return o->part_commit(u, p, err);
}

int vs_store_part_copy(vs_store *s, const char *bucket, const char *key,
                       const char *upload_id, unsigned number,
                       const char *src_bucket, const char *src_key,
                       const char *src_vid, uint64_t off, uint64_t len,
                       vs_part_info *p, vs_err *err)
{
  const vs_store_mpu_ops *o = mpu_ops(s, err);
  if(o && !o->part_copy)
    return vs_fail(err, VS_ERR_INVALID, "this store does not copy parts");
  return o ? o->part_copy(s, bucket, key, upload_id, number, src_bucket,
                          src_key, src_vid, off, len, p, err)
           : VS_ERR_INVALID;
}

int vs_store_mpu_parts(vs_store *s, const char *bucket, const char *key,
                       const char *upload_id, vs_part_info **parts,
                       size_t *n, vs_err *err)
{
  const vs_store_mpu_ops *o = mpu_ops(s, err);
  *parts = NULL;
  *n = 0;
  return o ? o->parts(s, bucket, key, upload_id, parts, n, err)
           : VS_ERR_INVALID;
}

int vs_store_mpu_complete(vs_store *s, const char *bucket, const char *key,
                          const char *upload_id, const vs_part_ref *refs,
                          size_t n, const vs_commit *c, vs_object_info *info,
                          vs_mpu_fault *fault, vs_err *err)
{
  const vs_store_mpu_ops *o = mpu_ops(s, err);
  *fault = VS_MPU_OK;
  return o ? o->complete(s, bucket, key, upload_id, refs, n, c, info, fault,
                         err)
           : VS_ERR_INVALID;
}

int vs_store_mpu_abort(vs_store *s, const char *bucket, const char *key,
                       const char *upload_id, vs_err *err)
{
  const vs_store_mpu_ops *o = mpu_ops(s, err);
  return o ? o->abort(s, bucket, key, upload_id, err) : VS_ERR_INVALID;
}

int vs_store_mpu_list(vs_store *s, const char *bucket, vs_mpu **list,
                      size_t *n, vs_err *err)
{
  const vs_store_mpu_ops *o = mpu_ops(s, err);
  *list = NULL;
  *n = 0;
  return o ? o->list(s, bucket, list, n, err) : VS_ERR_INVALID;
}

int vs_store_mpu_expire(vs_store *s, int64_t before_ms, size_t *removed,
                        vs_err *err)
{
  const vs_store_mpu_ops *o = mpu_ops(s, err);
  *removed = 0;
  return o ? o->expire(s, before_ms, removed, err) : VS_ERR_INVALID;
}

int vs_store_part_range(vs_store *s, const char *bucket, const char *key,
                        const char *version_id, unsigned n, uint64_t *off,
                        uint64_t *len, vs_err *err)
{
  const vs_store_mpu_ops *o = mpu_ops(s, err);
  if(o && !o->part_range)
    return vs_fail(err, VS_ERR_INVALID, "this store keeps no part ranges");
  return o ? o->part_range(s, bucket, key, version_id, n, off, len, err)
           : VS_ERR_INVALID;
}
