/* What an object keeps besides its bytes and gives back on GET/HEAD: user
 * metadata (x-amz-meta-*) and the standard headers S3 stores, and the
 * response-* query parameters that override them on a GET or HEAD. Not a
 * public header. */
#ifndef VS_SERVER_OBJMETA_H
#define VS_SERVER_OBJMETA_H

#include "server/internal.h"

/* S3's limit on user metadata: the bytes of every x-amz-meta-* name (less
 * its prefix) and value. */
#define VS__USER_META_MAX 2048

/* The headers a PUT (or any request creating an object: multipart's
 * Create, a copy that REPLACEs metadata) asks to keep, as the store keeps
 * them (vs_object_info.headers: "name:value\n", names lower-case): the
 * standard ones, then x-amz-meta-* from the headers, then from the query
 * (a presigned URL carries them there). 0; or -1 with the S3 error in
 * *code and msg: MetadataTooLarge over S3's 2 KiB (or over what the store
 * keeps), InvalidArgument for a control byte. out has cap bytes. */
int vs__meta_collect(vs__req *r, char *out, size_t cap, vs__s3code *code,
                     char *msg, size_t msgcap);

/* The response-content-type, -language, -expires, -cache-control,
 * -disposition and -encoding parameters of a GET or HEAD: 0 when absent
 * or fit to send as a header; else -1, InvalidArgument in *code, why in
 * msg. Check before the answer is built. */
int vs__meta_overrides_check(vs__req *r, vs__s3code *code, char *msg,
                             size_t msgcap);

/* Adds to resp the object's Content-Type and the headers kept with it,
 * each replaced by its response-* override when the request has one. */
void vs__meta_add(vs__req *r, struct MHD_Response *resp,
                  const vs_object_info *info);

/* A 304's share of them (RFC 9110 §15.4.5): Cache-Control and Expires,
 * which a cache needs to refresh what it holds. */
void vs__meta_add_cache(struct MHD_Response *resp,
                        const vs_object_info *info);

#endif
