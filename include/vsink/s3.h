/* A small S3 client for what vsink asks of a bucket it does not run: HEAD
 * an object (did the bytes land, how many, with which ETag) and presign a
 * PUT into it. Path-style addressing (http://HOST:PORT/BUCKET/KEY), which
 * every S3-compatible store accepts. Requests are signed with vsink's own
 * SigV4 (include/vsink/sigv4.h); libcurl only carries them. */
#ifndef VSINK_S3_H
#define VSINK_S3_H

#include <stdint.h>

#include "vsink/common.h"
#include "vsink/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vs_s3_target {
  const char *endpoint; /* "http://127.0.0.1:PORT"; one trailing '/' allowed */
  const char *region;   /* "us-east-1" when NULL or "" */
  const char *key_id;
  const char *secret;
  /* Optional (zero = default): */
  vs_now_fn now;        /* the signing clock; NULL: the real one */
  void *now_ctx;
  long timeout_ms;      /* whole request; default 30000 (connect: 10000) */
} vs_s3_target;

/* HEAD /bucket/key. Fills info: bytes (Content-Length), etag (unquoted),
 * content_type, mtime_ms (Last-Modified, whole seconds), version_id
 * (x-amz-version-id, "null" when absent), sha256 from x-amz-checksum-sha256
 * when the store sends it (else ""); md5 is "".
 * Errors: VS_ERR_INVALID for a bad target, bucket (S3 naming rules) or key
 * (vs_store_check_key) and for a 400; VS_ERR_NOTFOUND for 404; VS_ERR_AUTH
 * for 403; VS_ERR_NET for transport errors, timeouts, other statuses and a
 * malformed answer. A HEAD answer has no body, so on an error status the
 * same URL is fetched once more with GET to put S3's error code
 * (NoSuchKey, SignatureDoesNotMatch, ...) in err->msg. */
int vs_s3_head(const vs_s3_target *t, const char *bucket, const char *key,
               vs_object_info *info, vs_err *err);

/* A presigned PUT URL for /bucket/key (malloc'd into *url), signed at now
 * (Unix seconds), valid for expires seconds (1..604800). The bucket and key
 * are checked as for vs_s3_head. t->now is not used: now is explicit. */
int vs_s3_presign_put(const vs_s3_target *t, const char *bucket,
                      const char *key, int64_t now, int64_t expires,
                      char **url, vs_err *err);

#ifdef __cplusplus
}
#endif
#endif
