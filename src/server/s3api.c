/* The S3 requests: what every one goes through before its handler, and
 * which handler serves each operation of the route table (router.c).
 *
 * Order, as S3 has it: a refusal that no signature could mend is answered
 * at once; then the signature; then the table's refusal (so an unsigned
 * caller learns no more than AccessDenied); then the bucket and the key;
 * then the operation's handler. All of it on the first call, before a
 * body byte is read. An operation is served only when it has a row here:
 * a row in the route table without a handler is an internal error, never
 * some other operation. */
#include <string.h>

#include "server/internal.h"

enum {
  NEED_BUCKET = 0x1, /* /bucket: a configured bucket */
  NEED_KEY = 0x2,    /* /bucket/key: a configured bucket and a valid key */
  WRITES = 0x4,      /* refused with 503 once the server is stopping */
  SERVICE = 0x8,     /* /: no bucket */
  ANY_BUCKET = 0x10, /* /bucket, served or not: the handler decides */
  /* served only by a store with copies, multipart uploads, or copies of
   * parts (what its ops table holds, vsink/store.h): another store
   * answers 501 NotImplemented before a body byte, never a guess */
  COPIES = 0x20,
  MPU = 0x40,
  PART_COPIES = 0x80,
};

static const struct {
  vs__op op;
  unsigned needs;
  vs__handler handler;
} HANDLERS[] = {
  {VS__OP_HEAD_BUCKET, NEED_BUCKET, vs__head_bucket},
  {VS__OP_GET_OBJECT, NEED_KEY, vs__get_object},
  {VS__OP_HEAD_OBJECT, NEED_KEY, vs__get_object},
  {VS__OP_PUT_OBJECT, NEED_KEY | WRITES, vs__put_object},
  {VS__OP_COPY_OBJECT, NEED_KEY | WRITES | COPIES, vs__copy_object},
  {VS__OP_LIST_BUCKETS, SERVICE, vs__list_buckets},
  {VS__OP_CREATE_BUCKET, ANY_BUCKET | WRITES, vs__create_bucket},
  {VS__OP_GET_BUCKET_LOCATION, NEED_BUCKET, vs__get_bucket_location},
  {VS__OP_GET_BUCKET_VERSIONING, NEED_BUCKET, vs__get_bucket_versioning},
  {VS__OP_LIST_OBJECTS_V2, NEED_BUCKET, vs__list_objects},
  {VS__OP_LIST_OBJECTS, NEED_BUCKET, vs__list_objects},
  {VS__OP_LIST_VERSIONS, NEED_BUCKET, vs__list_objects},
  {VS__OP_DELETE_OBJECT, NEED_KEY | WRITES, vs__delete_object},
  {VS__OP_DELETE_OBJECTS, NEED_BUCKET | WRITES, vs__delete_objects},
  {VS__OP_CREATE_MPU, NEED_KEY | WRITES | MPU, vs__mpu_create},
  {VS__OP_UPLOAD_PART, NEED_KEY | WRITES | MPU, vs__put_object},
  {VS__OP_UPLOAD_PART_COPY, NEED_KEY | WRITES | PART_COPIES,
   vs__mpu_part_copy},
  {VS__OP_COMPLETE_MPU, NEED_KEY | WRITES | MPU, vs__mpu_complete},
  {VS__OP_ABORT_MPU, NEED_KEY | WRITES | MPU, vs__mpu_abort},
  {VS__OP_LIST_PARTS, NEED_KEY | MPU, vs__mpu_list_parts},
  {VS__OP_LIST_MPUS, NEED_BUCKET | MPU, vs__mpu_list},
  {VS__OP_GET_OBJECT_TAGGING, NEED_KEY, vs__get_object_tagging},
};

enum MHD_Result vs__reject(vs__req *r, vs__s3code code, const char *msg)
{
  r->rejected = 1;
  r->phase = 2;
  return vs__s3_error(r, code, msg);
}

static int check_key(vs__req *r)
{
  vs_err err = {0};
  if(!r->key || !r->key_len) {
    vs__reject(r, VS__S3_INVALID_ARGUMENT, "malformed request path");
    return -1;
  }
  switch(vs_store_check_key(r->key, r->key_len, &err)) {
  case VS_OK:
    return 0;
  case VS_ERR_TOOLARGE:
    vs__reject(r, VS__S3_KEY_TOO_LONG, NULL);
    return -1;
  default:
    vs__reject(r, VS__S3_INVALID_ARGUMENT, err.msg);
    return -1;
  }
}

static int store_serves(const vs_store *st, unsigned needs)
{
  return (!(needs & COPIES) || vs_store_has_copy(st)) &&
         (!(needs & MPU) || vs_store_has_mpu(st)) &&
         (!(needs & PART_COPIES) || vs_store_has_part_copy(st));
}

static enum MHD_Result first(vs__req *r, const char *data, size_t *size)
{
  size_t i;
  if(r->rt.op == VS__OP_REFUSED && r->rt.before_auth)
    return vs__reject(r, r->rt.code, r->rt.msg);
  if(vs__authenticate(r, r->payload_sha256))
    return MHD_YES;
  if(r->rt.op == VS__OP_REFUSED)
    return vs__reject(r, r->rt.code, r->rt.msg);
  for(i = 0; i < sizeof(HANDLERS) / sizeof(HANDLERS[0]); i++)
    if(HANDLERS[i].op == r->rt.op)
      break;
  if(i == sizeof(HANDLERS) / sizeof(HANDLERS[0]))
    return vs__reject(r, VS__S3_INTERNAL, "route without a handler");
  if(HANDLERS[i].needs & SERVICE) {
    if(r->bucket || r->key)
      return vs__reject(r, VS__S3_INVALID_ARGUMENT, "malformed request path");
  }
  else if(!r->bucket || (!(HANDLERS[i].needs & ANY_BUCKET) &&
                         !vs__bucket_known(r->srv, r->bucket)))
    return vs__reject(r, VS__S3_NO_SUCH_BUCKET, NULL);
  if((HANDLERS[i].needs & (NEED_BUCKET | ANY_BUCKET)) && r->key &&
     r->key_len)
    return vs__reject(r, VS__S3_INVALID_ARGUMENT, "malformed request path");
  if((HANDLERS[i].needs & NEED_KEY) && check_key(r))
    return MHD_YES;
  if(!store_serves(r->srv->cfg.store, HANDLERS[i].needs))
    return vs__reject(r, VS__S3_NOT_IMPLEMENTED,
                      "not served by this sink's store");
  if((HANDLERS[i].needs & WRITES) && atomic_load(&r->srv->stopping))
    return vs__reject(r, VS__S3_UNAVAILABLE, NULL);
  r->handler = HANDLERS[i].handler;
  return r->handler(r, data, size);
}

enum MHD_Result vs__s3_request(vs__req *r, const char *data, size_t *size)
{
  if(r->phase == 0 && !r->handler)
    return first(r, data, size);
  if(r->handler)
    return r->handler(r, data, size);
  *size = 0; /* answered: anything further is dropped */
  return MHD_YES;
}
