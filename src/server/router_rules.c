/* The header rules of the route table (see router_rules.h, router.c).
 *
 * S3 implements every header below; ignoring one would store something
 * other than what the client asked for (or store it less safely than
 * promised), so each is refused with 501 NotImplemented until the sink
 * implements it. Headers that only describe the object (x-amz-meta-*,
 * Cache-Control, Content-Disposition, ...) pass. The header lookup returns
 * the first of repeated headers (headers.c refuses repeats of these).
 *
 * Rules come in groups that sets share, so "SSE is refused" is written
 * once for every operation that could carry it. */
#include <stddef.h>

#include "server/router_rules.h"

#define END {NULL, M_PRESENT, NULL, 0, NULL}
#define NI " is not implemented by vsink"

/* What would make a new object other than its bytes and metadata: every
 * operation that makes one (PutObject, CopyObject, CreateMultipartUpload) */
static const header_rule OBJECT[] = {
/* header                              refused when                 early */
  {"x-amz-tagging",                    M_PRESENT, NULL,             0,
   "object tagging" NI},
  {"x-amz-object-lock-mode",           M_PRESENT, NULL,             0,
   "Object Lock" NI},
  {"x-amz-object-lock-retain-until-date", M_PRESENT, NULL,          0,
   "Object Lock" NI},
  {"x-amz-object-lock-legal-hold",     M_PRESENT, NULL,             0,
   "Object Lock" NI},
  /* SSE-S3, SSE-KMS: vsink stores bytes as they come */
  {"x-amz-server-side-encryption",     M_PRESENT, NULL,             0,
   "server-side encryption" NI},
  {"x-amz-server-side-encryption-aws-kms-key-id", M_PRESENT, NULL,  0,
   "server-side encryption" NI},
  {"x-amz-server-side-encryption-context", M_PRESENT, NULL,         0,
   "server-side encryption" NI},
  {"x-amz-server-side-encryption-bucket-key-enabled", M_PRESENT, NULL, 0,
   "server-side encryption" NI},
  {"x-amz-website-redirect-location",  M_PRESENT, NULL,             0,
   "website redirects" NI},
  /* vsink's objects have no ACLs, like an S3 bucket with ACLs disabled
   * (which answers 400 AccessControlListNotSupported); private and
   * bucket-owner-full-control say what vsink does (rclone sends private) */
  {"x-amz-acl",                M_NOT_IN, "private|bucket-owner-full-control",
   0, "ACLs other than private" NI},
  {"x-amz-grant-full-control",         M_PRESENT, NULL,             0,
   "ACL grants" NI},
  {"x-amz-grant-read",                 M_PRESENT, NULL,             0,
   "ACL grants" NI},
  {"x-amz-grant-read-acp",             M_PRESENT, NULL,             0,
   "ACL grants" NI},
  {"x-amz-grant-write-acp",            M_PRESENT, NULL,             0,
   "ACL grants" NI},
  /* S3 answers 400 InvalidStorageClass for a name it does not know */
  {"x-amz-storage-class",              M_NOT_IN, "STANDARD",        0,
   "storage classes other than STANDARD" NI},
  END
};

/* SSE-C, on anything that writes or reads an object's bytes */
static const header_rule SSE_C[] = {
  {"x-amz-server-side-encryption-customer-algorithm", M_PRESENT, NULL, 0,
   "SSE-C" NI},
  {"x-amz-server-side-encryption-customer-key", M_PRESENT, NULL,    0,
   "SSE-C" NI},
  {"x-amz-server-side-encryption-customer-key-MD5", M_PRESENT, NULL, 0,
   "SSE-C" NI},
  END
};

static const header_rule SSE_C_SOURCE[] = {
  {"x-amz-copy-source-server-side-encryption-customer-algorithm",
   M_PRESENT, NULL,                                                 0,
   "SSE-C" NI},
  {"x-amz-copy-source-server-side-encryption-customer-key",
   M_PRESENT, NULL,                                                 0,
   "SSE-C" NI},
  {"x-amz-copy-source-server-side-encryption-customer-key-MD5",
   M_PRESENT, NULL,                                                 0,
   "SSE-C" NI},
  END
};

/* A body sent as bytes: aws-chunked bodies (x-amz-content-sha256
 * STREAMING-*, Content-Encoding: aws-chunked, x-amz-decoded-content-length,
 * x-amz-trailer) are decoded and every signature and trailer verified
 * (chunked_put.c); x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256} are
 * verified while the body streams (objects.c, which refuses any other
 * x-amz-checksum-* before the body); the SDK's announcement must name one
 * of them */
static const header_rule BODY[] = {
  {"x-amz-copy-source",                M_PRESENT, NULL,             0,
   "a copy is its own operation (CopyObject, UploadPartCopy)"},
  {"x-amz-sdk-checksum-algorithm",     M_NOT_IN,
   "CRC32|CRC32C|CRC64NVME|SHA1|SHA256",                           0,
   "only CRC32, CRC32C, CRC64NVME, SHA1 and SHA256 are verified by vsink"},
  END
};

/* No body, or one read whole: no aws-chunked framing */
static const header_rule NO_STREAM[] = {
  {"x-amz-content-sha256",             M_PREFIX, "STREAMING-",      1,
   "aws-chunked bodies are not implemented by vsink for this operation"},
  {"Content-Encoding",                 M_TOKEN, "aws-chunked",      0,
   "aws-chunked bodies are not implemented by vsink for this operation"},
  {"x-amz-decoded-content-length",     M_PRESENT, NULL,             0,
   "aws-chunked bodies are not implemented by vsink for this operation"},
  {"x-amz-trailer",                    M_PRESENT, NULL,             0,
   "trailing checksums are not implemented by vsink for this operation"},
  END
};

static const header_rule PUT_ONLY[] = {
  /* S3 Express appends: the body would be taken for the whole object */
  {"x-amz-write-offset-bytes",         M_PRESENT, NULL,             0,
   "appends" NI},
  END
};

/* CopyObject and UploadPartCopy: selected by x-amz-copy-source; the copy
 * conditions (x-amz-copy-source-if-*), x-amz-copy-source-range and
 * x-amz-metadata-directive are copy.c's and mpu_copy.c's */
static const header_rule COPY_SOURCE[] = {
  {"x-amz-copy-source",                M_ABSENT, NULL,              0,
   "a copy needs it"},
  END
};

static const header_rule COPY_ONLY[] = {
  {"x-amz-checksum-algorithm",         M_PRESENT, NULL,             0,
   "a new checksum for a copy is not implemented by vsink; the source's "
   "is kept"},
  {"x-amz-tagging-directive",          M_NOT_IN, "COPY",            0,
   "object tagging" NI},
  END
};

/* The sink's buckets keep every object as its owner's, with no ACLs and
 * no Object Lock: a request for anything else is refused, not answered
 * with a bucket unlike it */
static const header_rule CREATE_BUCKET[] = {
  {"x-amz-acl",                        M_NOT_IN, "private",         0,
   "bucket ACLs other than private" NI},
  {"x-amz-grant-full-control",         M_PRESENT, NULL,             0,
   "ACL grants" NI},
  {"x-amz-grant-read",                 M_PRESENT, NULL,             0,
   "ACL grants" NI},
  {"x-amz-grant-read-acp",             M_PRESENT, NULL,             0,
   "ACL grants" NI},
  {"x-amz-grant-write",                M_PRESENT, NULL,             0,
   "ACL grants" NI},
  {"x-amz-grant-write-acp",            M_PRESENT, NULL,             0,
   "ACL grants" NI},
  {"x-amz-bucket-object-lock-enabled", M_NOT_IN, "false",           0,
   "Object Lock" NI},
  /* what vsink does: no ACLs, every object the bucket owner's */
  {"x-amz-object-ownership",           M_NOT_IN, "BucketOwnerEnforced", 0,
   "object ownership other than BucketOwnerEnforced" NI},
  END
};

/* vsink has no Object Lock and no MFA delete */
static const header_rule DELETE[] = {
  {"x-amz-mfa",                        M_PRESENT, NULL,             0,
   "MFA delete" NI},
  END
};

/* CreateMultipartUpload: the checksum the parts will carry (mpu.c) */
static const header_rule MPU_CREATE[] = {
  {"x-amz-checksum-algorithm",         M_NOT_IN,
   "CRC32|CRC32C|CRC64NVME|SHA1|SHA256",                           0,
   "only CRC32, CRC32C, CRC64NVME, SHA1 and SHA256 are verified by vsink"},
  {"x-amz-checksum-type",              M_NOT_IN, "COMPOSITE|FULL_OBJECT", 0,
   "only COMPOSITE and FULL_OBJECT checksums exist"},
  END
};

/* Complete: a size the client asks the server to check is refused, not
 * taken for checked */
static const header_rule COMPLETE[] = {
  {"x-amz-mp-object-size",             M_PRESENT, NULL,             0,
   "checking the object's size on Complete" NI},
  END
};

static const header_rule ABORT[] = {
  {"x-amz-if-match-initiated-time",    M_PRESENT, NULL,             0,
   "conditional aborts" NI},
  END
};

static const header_rule *const SETS[H_COUNT][7] = {
  [H_NONE] = {NULL},
  [H_PUT] = {BODY, PUT_ONLY, OBJECT, SSE_C, NULL},
  [H_COPY] = {COPY_SOURCE, NO_STREAM, COPY_ONLY, OBJECT, SSE_C, SSE_C_SOURCE,
              NULL},
  [H_CREATE_BUCKET] = {NO_STREAM, CREATE_BUCKET, NULL},
  [H_DELETE] = {NO_STREAM, DELETE, NULL},
  [H_MPU_CREATE] = {NO_STREAM, MPU_CREATE, OBJECT, SSE_C, NULL},
  [H_PART] = {BODY, SSE_C, NULL},
  [H_PART_COPY] = {COPY_SOURCE, NO_STREAM, SSE_C, SSE_C_SOURCE, NULL},
  [H_COMPLETE] = {NO_STREAM, COMPLETE, SSE_C, NULL},
  [H_ABORT] = {ABORT, NULL},
};

const header_rule *const *vs__rule_set(int set)
{
  return set >= 0 && set < H_COUNT ? SETS[set] : SETS[H_NONE];
}
