/* A PutObject's headers (put_headers.c). Each reads its header(s) into r
 * and returns 0, or -1 with the S3 error in *code and why in msg ("" for
 * the code's stock message). Not a public header. */
#ifndef VS_SERVER_PUT_HEADERS_H
#define VS_SERVER_PUT_HEADERS_H

#include "server/internal.h"

/* Content-Length (r->content_length; over the size limit: EntityTooLarge)
 * or Transfer-Encoding: chunked; neither: MissingContentLength. */
int vs__put_length(vs__req *r, vs__s3code *code, char *msg, size_t cap);
/* Content-MD5 into r->want_md5 / r->has_md5. */
int vs__put_md5(vs__req *r, vs__s3code *code, char *msg, size_t cap);
/* x-amz-checksum-* and x-amz-sdk-checksum-algorithm (r->cksum_alg, ...). */
int vs__put_checksum(vs__req *r, vs__s3code *code, char *msg, size_t cap);
/* If-None-Match: * and If-Match (r->if_none_match, r->if_match). */
int vs__put_preconditions(vs__req *r, vs__s3code *code, char *msg,
                          size_t cap);
/* Content-Type (r->content_type, binary/octet-stream when absent). */
int vs__put_content_type(vs__req *r, vs__s3code *code, char *msg,
                         size_t cap);

#endif
