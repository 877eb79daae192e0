/* server: the route table. Each row is matched by exactly its requests;
 * every S3 sub-resource of the API reference, on every method of an object
 * and of a bucket, is refused (never taken for a plain GET/PUT/HEAD); every
 * PUT header that changes what the PUT means is refused, and the headers
 * and parameters real clients send with plain requests still pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "server/router.h"

#define SIG "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F" \
  "20261202%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261202T000000Z&" \
  "X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=abcdef"

/* A request's headers: NULL-terminated name/value pairs. */
typedef struct hdrs {
  const char *kv[32];
} hdrs;

static const char *lookup(void *ctx, const char *name)
{
  const hdrs *h = ctx;
  size_t i;
  for(i = 0; h && h->kv[i]; i += 2)
    if(!strcasecmp(h->kv[i], name))
      return h->kv[i + 1];
  return NULL;
}

static vs__op classify(const char *method, const char *uri, const hdrs *h,
                       vs__route_result *out)
{
  vs__op op = vs__route_classify(method, uri, lookup, (void *)h, out);
  assert_int_equal(op, out->op);
  assert_true(memchr(out->msg, 0, sizeof(out->msg)) != NULL);
  return op;
}

static void expect_op(const char *method, const char *uri, const hdrs *h,
                      vs__op want)
{
  vs__route_result rt;
  vs__op op = classify(method, uri, h, &rt);
  if(op != want)
    fail_msg("%s %s: %s (%s), want %s", method, uri, vs__op_name(op),
             rt.msg, vs__op_name(want));
}

/* Refused with code; the message names `names` (NULL: not checked). */
static void expect_refused(const char *method, const char *uri,
                           const hdrs *h, vs__s3code code, int early,
                           const char *names)
{
  vs__route_result rt;
  vs__op op = classify(method, uri, h, &rt);
  if(op != VS__OP_REFUSED)
    fail_msg("%s %s: taken for %s", method, uri, vs__op_name(op));
  if(rt.code != code || rt.before_auth != early)
    fail_msg("%s %s: %s (%d) early=%d, want %s early=%d: %s", method, uri,
             vs__s3_name(rt.code), vs__s3_status(rt.code), rt.before_auth,
             vs__s3_name(code), early, rt.msg);
  if(names && !strstr(rt.msg, names))
    fail_msg("%s %s: message '%s' does not name '%s'", method, uri, rt.msg,
             names);
}

/* ---- the rows ------------------------------------------------------------ */

static void rows_match_their_requests(void **state)
{
  (void)state;
  expect_op("GET", "/healthz", NULL, VS__OP_HEALTH);
  expect_op("HEAD", "/healthz", NULL, VS__OP_HEALTH);
  expect_op("GET", "/healthz?cachebust=1", NULL, VS__OP_HEALTH);
  expect_op("GET", "/metrics", NULL, VS__OP_METRICS);
  expect_op("HEAD", "/metrics", NULL, VS__OP_METRICS);
  expect_op("POST", "/hooks/0b8e1a4e-8a9e-4c6e-9d6c-2b1f7f3c9a10?" SIG, NULL,
            VS__OP_HOOK);
  expect_op("POST", "/hooks/x/s3/b/k?" SIG, NULL, VS__OP_HOOK);
  expect_op("HEAD", "/videos", NULL, VS__OP_HEAD_BUCKET);
  expect_op("HEAD", "/videos/", NULL, VS__OP_HEAD_BUCKET);
  expect_op("HEAD", "/videos?" SIG, NULL, VS__OP_HEAD_BUCKET);
  expect_op("GET", "/videos/a.mp4", NULL, VS__OP_GET_OBJECT);
  expect_op("GET", "/videos/a/b/c.mp4?" SIG, NULL, VS__OP_GET_OBJECT);
  expect_op("HEAD", "/videos/a.mp4", NULL, VS__OP_HEAD_OBJECT);
  expect_op("PUT", "/videos/a.mp4", NULL, VS__OP_PUT_OBJECT);
  expect_op("PUT", "/videos/a.mp4?" SIG, NULL, VS__OP_PUT_OBJECT);
  /* a %2F is the key's slash, as the handlers decode it */
  expect_op("PUT", "/videos%2Fa.mp4", NULL, VS__OP_PUT_OBJECT);
  expect_op("HEAD", "/videos%2F", NULL, VS__OP_HEAD_BUCKET);
  expect_op("GET", "/videos", NULL, VS__OP_LIST_OBJECTS);
  expect_op("GET", "/videos/", NULL, VS__OP_LIST_OBJECTS);
  expect_op("GET", "/videos?list-type=2", NULL, VS__OP_LIST_OBJECTS_V2);
  expect_op("GET", "/videos/?versions", NULL, VS__OP_LIST_VERSIONS);
}

/* Each listing takes its own parameters and no other's. */
static void listing_parameters(void **state)
{
  (void)state;
  expect_op("GET", "/videos?list-type=2&prefix=a%2F&delimiter=%2F&max-keys=5"
            "&start-after=a&continuation-token=YQ%3D%3D&fetch-owner=true"
            "&encoding-type=url&" SIG, NULL, VS__OP_LIST_OBJECTS_V2);
  expect_op("GET", "/videos?prefix=a&delimiter=%2F&marker=a&max-keys=5"
            "&encoding-type=url&x-id=ListObjects", NULL,
            VS__OP_LIST_OBJECTS);
  expect_op("GET", "/videos?versions&prefix=a&delimiter=%2F&key-marker=a"
            "&version-id-marker=v&max-keys=5&encoding-type=url", NULL,
            VS__OP_LIST_VERSIONS);
  expect_refused("GET", "/videos?marker=a&list-type=2", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "'marker'");
  expect_refused("GET", "/videos?start-after=a", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "'start-after'");
  expect_refused("GET", "/videos?continuation-token=YQ%3D%3D", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "'continuation-token'");
  expect_refused("GET", "/videos?versions&start-after=a", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "'start-after'");
  expect_refused("GET", "/videos?list-type=2&key-marker=a", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "'key-marker'");
  expect_refused("GET", "/videos?list-type=2&uploads", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "'uploads'");
  expect_refused("GET", "/videos?x-id=GetObject", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "ListObjects");
  /* an object's GET takes none of them */
  expect_refused("GET", "/videos/k?prefix=a", NULL, VS__S3_NOT_IMPLEMENTED,
                 0, "'prefix'");
  expect_refused("HEAD", "/videos?prefix=a", NULL, VS__S3_NOT_IMPLEMENTED,
                 0, "'prefix'");
}

static void harmless_parameters_pass(void **state)
{
  (void)state;
  expect_op("PUT", "/videos/k?X-Amz-Security-Token=tok&" SIG, NULL,
            VS__OP_PUT_OBJECT);
  expect_op("PUT", "/videos/k?x-id=PutObject", NULL, VS__OP_PUT_OBJECT);
  expect_op("GET", "/videos/k?x-id=GetObject&" SIG, NULL, VS__OP_GET_OBJECT);
  expect_op("GET", "/videos/k?versionId=v1", NULL, VS__OP_GET_OBJECT);
  expect_op("GET", "/videos/k?versionId=null", NULL, VS__OP_GET_OBJECT);
  expect_op("HEAD", "/videos/k?versionId=v1&" SIG, NULL, VS__OP_HEAD_OBJECT);
  expect_op("GET", "/videos/k?", NULL, VS__OP_GET_OBJECT);
  expect_op("GET", "/videos/k?&&" SIG "&", NULL, VS__OP_GET_OBJECT);
  /* botocore moves x-amz-* headers of a presigned PUT into the query */
  expect_op("PUT", "/videos/k?x-amz-meta-prompt=a%20dancer&" SIG, NULL,
            VS__OP_PUT_OBJECT);
  expect_op("PUT", "/videos/k?x-amz-acl=private&" SIG, NULL,
            VS__OP_PUT_OBJECT);
  expect_op("PUT", "/videos/k?x-amz-storage-class=STANDARD", NULL,
            VS__OP_PUT_OBJECT);
}

static void operation_changing_parameters_are_refused(void **state)
{
  (void)state;
  /* x-id names the operation an SDK meant: only the row's own passes */
  expect_refused("PUT", "/videos/k?x-id=CopyObject", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "x-id");
  expect_refused("GET", "/videos/k?x-id=PutObject", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "x-id");
  /* versionId is GET/HEAD only */
  expect_refused("PUT", "/videos/k?versionId=v1", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "versionId");
  expect_refused("HEAD", "/videos?versionId=v1", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "versionId");
  /* names are compared decoded ("%61cl" is acl to SigV4 and S3) and
   * case-sensitively (an unknown "ACL" is refused too) */
  expect_refused("PUT", "/videos/k?%61cl", NULL, VS__S3_NOT_IMPLEMENTED, 0,
                 "'acl' (ACLs)");
  expect_refused("PUT", "/videos/k?ACL", NULL, VS__S3_NOT_IMPLEMENTED, 0,
                 "'ACL'");
  expect_refused("GET", "/videos/k?foo=bar&" SIG, NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "'foo'");
  /* a part is UploadPart's (its own row), never a PUT of the object */
  expect_op("PUT", "/videos/k?" SIG "&partNumber=2&uploadId=x", NULL,
            VS__OP_UPLOAD_PART);
  expect_refused("PUT", "/videos/k?" SIG "&partNumber=2", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "'partNumber'");
  /* a header moved into the query is held to the header's rule, and a
   * checksum there would not be verified at all */
  expect_refused("PUT", "/videos/k?x-amz-acl=public-read", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "x-amz-acl (in the query)");
  expect_refused("PUT", "/videos/k?x-amz-checksum-sha256=AAAA", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "x-amz-checksum-sha256");
  expect_refused("PUT", "/videos/k?x-amz-checksum-crc32=AAAAAA%3D%3D", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "x-amz-checksum-crc32");
  expect_refused("PUT", "/videos/k?x-amz-sdk-checksum-algorithm=XXHASH3",
                 NULL, VS__S3_NOT_IMPLEMENTED, 0,
                 "x-amz-sdk-checksum-algorithm (in the query)");
  expect_refused("PUT", "/videos/k?x-amz-tagging=a%3Db", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "x-amz-tagging");
  expect_refused("GET", "/videos/k?x-amz-meta-a=b", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "x-amz-meta-a");
  /* hooks are presigned by vsink: nothing but the signature */
  expect_refused("POST", "/hooks/x?" SIG "&acl", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "'acl'");
}

/* ---- every S3 sub-resource, on every method, object and bucket ------------ */

/* The S3 API reference's query parameters that select or change an
 * operation (Amazon S3 API Reference, "Actions"), plus unknown ones. */
static const char *const S3_SUBRESOURCES[] = {
  "accelerate", "acl", "analytics", "attributes", "continuation-token",
  "cors", "delete", "delimiter", "encoding-type", "encryption",
  "fetch-owner", "intelligent-tiering", "inventory", "key-marker",
  "legal-hold", "lifecycle", "list-type", "location", "logging", "marker",
  "max-keys", "max-parts", "max-uploads", "metadataTable", "metrics",
  "notification", "object-lock", "ownershipControls", "part-number-marker",
  "partNumber", "policy", "policyStatus", "prefix", "publicAccessBlock",
  "renameObject", "replication", "requestPayment", "response-cache-control",
  "response-content-disposition", "response-content-encoding",
  "response-content-language", "response-content-type", "response-expires",
  "restore", "retention", "select", "select-type", "session", "start-after",
  "tagging", "torrent", "upload-id-marker", "uploadId", "uploads",
  "version-id-marker", "versionId", "versioning", "versions", "website",
  "unknown-parameter", "x-amz-checksum-crc32",
};

static const char *const METHODS[] = {"GET", "PUT", "HEAD", "POST",
                                      "DELETE"};

/* GET/HEAD of an object read versions: versionId is theirs. */
static int accepted_alone(const char *method, const char *path,
                          const char *sub)
{
  const char *slash = strchr(path + 1, '/');
  static const char *const listing[] = {
    "list-type", "versions", "prefix", "delimiter", "max-keys", "marker",
    "encoding-type"};
  size_t i;
  for(i = 0; !(slash && slash[1]) && !strcmp(method, "GET") &&
             i < sizeof(listing) / sizeof(listing[0]); i++)
    if(!strcmp(sub, listing[i])) /* the listings of a bucket */
      return 1;
  /* GetBucketLocation, GetBucketVersioning */
  if(!(slash && slash[1]) && !strcmp(method, "GET") &&
     (!strcmp(sub, "location") || !strcmp(sub, "versioning")))
    return 1;
  /* GetObject/HeadObject: a part, and the response header overrides */
  if(slash && slash[1] &&
     (!strcmp(method, "GET") || !strcmp(method, "HEAD")) &&
     (!strcmp(sub, "partNumber") || !strncmp(sub, "response-", 9)))
    return 1;
  /* DeleteObjects */
  if(!(slash && slash[1]) && !strcmp(method, "POST") &&
     !strcmp(sub, "delete"))
    return 1;
  /* multipart: ListMultipartUploads on a bucket; on an object Create
   * (POST ?uploads), UploadPart (PUT ?uploadId, its partNumber checked
   * by the handler), Complete, Abort and ListParts (?uploadId) */
  if(!(slash && slash[1]) && !strcmp(method, "GET") &&
     !strcmp(sub, "uploads"))
    return 1;
  if(slash && slash[1] && !strcmp(method, "POST") && !strcmp(sub, "uploads"))
    return 1;
  if(slash && slash[1] && !strcmp(sub, "uploadId") && strcmp(method, "HEAD"))
    return 1;
  /* GetObjectTagging (an empty set: vsink stores no tags) */
  if(slash && slash[1] && !strcmp(method, "GET") && !strcmp(sub, "tagging"))
    return 1;
  /* versionId: GetObject/HeadObject, and DeleteObject's purge */
  return !strcmp(sub, "versionId") && slash && slash[1] &&
         (!strcmp(method, "GET") || !strcmp(method, "HEAD") ||
          !strcmp(method, "DELETE"));
}

static void every_subresource_is_refused(void **state)
{
  static const char *const paths[] = {"/videos/clip.mp4", "/videos",
                                      "/videos/"};
  size_t m, p, i;
  char uri[512];
  int checked = 0;
  (void)state;
  for(p = 0; p < sizeof(paths) / sizeof(paths[0]); p++)
    for(m = 0; m < sizeof(METHODS) / sizeof(METHODS[0]); m++)
      for(i = 0; i < sizeof(S3_SUBRESOURCES) / sizeof(S3_SUBRESOURCES[0]);
          i++) {
        const char *sub = S3_SUBRESOURCES[i];
        char quoted[80];
        vs__route_result rt;
        int form;
        /* x-amz-* names are held to the PUT header rules, by name */
        snprintf(quoted, sizeof(quoted), strncmp(sub, "x-amz-", 6)
                 ? "'%s'" : "%s", sub);
        /* bare, with a value, before and after the signature */
        for(form = 0; form < 3; form++) {
          if(form == 2)
            snprintf(uri, sizeof(uri), "%s?%s&%s=x", paths[p], SIG, sub);
          else
            snprintf(uri, sizeof(uri), "%s?%s%s%s", paths[p], sub,
                     form ? "=2&" : "", form ? SIG : "");
          if(accepted_alone(METHODS[m], paths[p], sub)) {
            assert_int_not_equal(classify(METHODS[m], uri, NULL, &rt),
                                 VS__OP_REFUSED);
            continue;
          }
          expect_refused(METHODS[m], uri, NULL, VS__S3_NOT_IMPLEMENTED, 0,
                         quoted);
          checked++;
        }
      }
  assert_true(checked > 800);
}

/* ---- bucket operations ------------------------------------------------- */

static void bucket_rows(void **state)
{
  hdrs acl = {{"x-amz-acl", "private", NULL}};
  hdrs acl_public = {{"x-amz-acl", "public-read", NULL}};
  hdrs lock_off = {{"x-amz-bucket-object-lock-enabled", "false", NULL}};
  hdrs lock_on = {{"x-amz-bucket-object-lock-enabled", "true", NULL}};
  hdrs owner = {{"x-amz-object-ownership", "BucketOwnerEnforced", NULL}};
  hdrs writer = {{"x-amz-object-ownership", "ObjectWriter", NULL}};
  hdrs grant = {{"x-amz-grant-read", "id=x", NULL}};
  hdrs chunked = {{"x-amz-content-sha256",
                   "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", NULL}};
  (void)state;
  expect_op("GET", "/", NULL, VS__OP_LIST_BUCKETS);
  expect_op("GET", "/?" SIG, NULL, VS__OP_LIST_BUCKETS);
  expect_op("GET", "/?x-id=ListBuckets", NULL, VS__OP_LIST_BUCKETS);
  /* ListBuckets' pagination is not implemented: never ignored */
  expect_refused("GET", "/?max-buckets=1", NULL, VS__S3_NOT_IMPLEMENTED, 0,
                 "max-buckets");
  expect_refused("GET", "/?x-id=ListObjects", NULL, VS__S3_NOT_IMPLEMENTED,
                 0, "ListBuckets");
  expect_op("PUT", "/videos", NULL, VS__OP_CREATE_BUCKET);
  expect_op("PUT", "/newbucket/?" SIG, NULL, VS__OP_CREATE_BUCKET);
  expect_op("PUT", "/videos", &acl, VS__OP_CREATE_BUCKET);
  expect_op("PUT", "/videos", &lock_off, VS__OP_CREATE_BUCKET);
  expect_op("PUT", "/videos", &owner, VS__OP_CREATE_BUCKET);
  expect_refused("PUT", "/videos", &acl_public, VS__S3_NOT_IMPLEMENTED, 0,
                 "x-amz-acl");
  expect_refused("PUT", "/videos", &lock_on, VS__S3_NOT_IMPLEMENTED, 0,
                 "Object Lock");
  expect_refused("PUT", "/videos", &writer, VS__S3_NOT_IMPLEMENTED, 0,
                 "x-amz-object-ownership");
  expect_refused("PUT", "/videos", &grant, VS__S3_NOT_IMPLEMENTED, 0,
                 "x-amz-grant-read");
  expect_refused("PUT", "/videos", &chunked, VS__S3_NOT_IMPLEMENTED, 1,
                 "aws-chunked");
  expect_op("GET", "/videos?location", NULL, VS__OP_GET_BUCKET_LOCATION);
  expect_op("GET", "/videos?location&" SIG, NULL,
            VS__OP_GET_BUCKET_LOCATION);
  expect_op("GET", "/videos/?versioning", NULL,
            VS__OP_GET_BUCKET_VERSIONING);
  /* the sub-resource and nothing else: not a listing, not both */
  expect_refused("GET", "/videos?location&prefix=a", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, NULL);
  expect_refused("GET", "/videos?location&versioning", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, NULL);
  /* PutBucketVersioning and the rest stay refused */
  expect_refused("PUT", "/videos?versioning", NULL, VS__S3_NOT_IMPLEMENTED,
                 0, "'versioning'");
  expect_refused("PUT", "/videos?location", NULL, VS__S3_NOT_IMPLEMENTED,
                 0, "'location'");
  expect_refused("GET", "/videos/k?location", NULL, VS__S3_NOT_IMPLEMENTED,
                 0, "'location'");
}

/* ---- methods ----------------------------------------------------------- */

static void methods_without_a_row(void **state)
{
  hdrs form = {{"Content-Type", "multipart/form-data; boundary=x", NULL}};
  (void)state;
  /* not S3 at all: answered before authentication */
  expect_refused("PATCH", "/videos/k", NULL, VS__S3_METHOD, 1, "PATCH");
  expect_refused("TRACE", "/videos/k", NULL, VS__S3_METHOD, 1, NULL);
  expect_refused("OPTIONS", "/videos/k", NULL, VS__S3_NOT_IMPLEMENTED, 1,
                 "CORS");
  expect_refused("POST", "/videos", &form, VS__S3_NOT_IMPLEMENTED, 1,
                 "form uploads");
  expect_refused("POST", "/healthz", NULL, VS__S3_METHOD, 1, "/healthz");
  expect_refused("PUT", "/metrics", NULL, VS__S3_METHOD, 1, "/metrics");
  expect_refused("GET", "/hooks/x?" SIG, NULL, VS__S3_METHOD, 1, "POST");
  /* S3 operations vsink lacks: after authentication */
  /* delete.c's rows: DeleteObject (with versionId: a purge) and
   * DeleteObjects; what they do not implement is refused */
  expect_op("DELETE", "/videos/k", NULL, VS__OP_DELETE_OBJECT);
  expect_op("DELETE", "/videos/k?x-id=DeleteObject&" SIG, NULL,
            VS__OP_DELETE_OBJECT);
  expect_op("DELETE", "/videos/k?versionId=20261124T121500123Z-a1b2c3", NULL,
            VS__OP_DELETE_OBJECT);
  expect_op("POST", "/videos?delete", NULL, VS__OP_DELETE_OBJECTS);
  expect_op("POST", "/videos?delete&x-id=DeleteObjects", NULL,
            VS__OP_DELETE_OBJECTS);
  expect_refused("POST", "/videos", NULL, VS__S3_NOT_IMPLEMENTED, 0,
                 "DeleteObjects");
  expect_refused("POST", "/videos/k?delete", NULL, VS__S3_NOT_IMPLEMENTED, 0,
                 "DeleteObjects");
  expect_refused("DELETE", "/videos/k?x-id=PutObject", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, NULL);
  {
    hdrs mfa = {{"x-amz-mfa", "123 456", NULL}};
    hdrs chunked = {{"x-amz-content-sha256",
                     "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", NULL}};
    expect_refused("DELETE", "/videos/k", &mfa, VS__S3_NOT_IMPLEMENTED, 0,
                   "MFA");
    expect_refused("POST", "/videos?delete", &chunked,
                   VS__S3_NOT_IMPLEMENTED, 1, "aws-chunked");
  }
  expect_refused("POST", "/videos/k", NULL, VS__S3_METHOD, 0,
                 "POST on an object");
  expect_refused("HEAD", "/videos/k?uploadId=x", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "'uploadId' (multipart uploads)");
  expect_refused("DELETE", "/videos", NULL, VS__S3_NOT_IMPLEMENTED, 0,
                 "DeleteBucket");
  expect_refused("PUT", "/", NULL, VS__S3_METHOD, 0, "PUT");
  expect_refused("HEAD", "/", NULL, VS__S3_METHOD, 0, "HEAD");
  /* the method is never echoed with bytes XML cannot carry */
  {
    vs__route_result rt;
    classify("G\x01\xff", "/videos/k", NULL, &rt);
    assert_null(strchr(rt.msg, '\x01'));
    assert_null(strchr(rt.msg, '\xff'));
  }
}

static void malformed_requests(void **state)
{
  (void)state;
  expect_refused("GET", "/videos/k%zz", NULL, VS__S3_INVALID_ARGUMENT, 1,
                 "path");
  expect_refused("GET", "/videos/k%4", NULL, VS__S3_INVALID_ARGUMENT, 1,
                 "path");
  expect_refused("GET", "videos/k", NULL, VS__S3_INVALID_ARGUMENT, 1, NULL);
  expect_refused("GET", "", NULL, VS__S3_INVALID_ARGUMENT, 1, NULL);
  expect_refused("GET", "/videos/k?acl%zz", NULL, VS__S3_INVALID_ARGUMENT, 1,
                 "escape");
  expect_refused("GET", NULL, NULL, VS__S3_INVALID_ARGUMENT, 1, NULL);
}

/* ---- PUT headers ----------------------------------------------------------- */

typedef struct hcase {
  const char *name, *value;
  int refused, early;
} hcase;

static const hcase PUT_HEADERS[] = {
  /* aws-chunked bodies are PutObject's (decoded and verified by
   * chunked_put.c, which refuses the combinations it cannot decode) */
  {"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", 0, 0},
  {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 0, 0},
  {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", 0,
   0},
  {"x-amz-content-sha256", "UNSIGNED-PAYLOAD", 0, 0},
  {"x-amz-content-sha256",
   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0, 0},
  {"Content-Encoding", "aws-chunked", 0, 0},
  {"Content-Encoding", "gzip, AWS-Chunked", 0, 0},
  {"Content-Encoding", "gzip", 0, 0},
  {"x-amz-decoded-content-length", "5", 0, 0},
  {"x-amz-trailer", "x-amz-checksum-crc32", 0, 0},
  /* the five checksums S3 defines are verified by the PUT handler (which
   * also checks their form and refuses any other x-amz-checksum-*) */
  {"x-amz-checksum-crc32", "AAAAAA==", 0, 0},
  {"x-amz-checksum-crc32c", "AAAAAA==", 0, 0},
  {"x-amz-checksum-sha1", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0, 0},
  {"x-amz-checksum-crc64nvme", "AAAAAAAAAAA=", 0, 0},
  {"x-amz-checksum-sha256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
   0, 0},
  {"x-amz-sdk-checksum-algorithm", "CRC32", 0, 0},
  {"x-amz-sdk-checksum-algorithm", "crc32c", 0, 0},
  {"x-amz-sdk-checksum-algorithm", "SHA1", 0, 0},
  {"x-amz-sdk-checksum-algorithm", "CRC64NVME", 0, 0},
  {"x-amz-sdk-checksum-algorithm", "SHA256", 0, 0},
  {"x-amz-sdk-checksum-algorithm", "sha256", 0, 0},
  {"x-amz-sdk-checksum-algorithm", "XXHASH64", 1, 0},
  {"x-amz-sdk-checksum-algorithm", "MD5", 1, 0},
  {"x-amz-tagging", "a=b", 1, 0},
  {"x-amz-object-lock-mode", "GOVERNANCE", 1, 0},
  {"x-amz-object-lock-retain-until-date", "2030-01-01T00:00:00Z", 1, 0},
  {"x-amz-object-lock-legal-hold", "ON", 1, 0},
  {"x-amz-server-side-encryption", "AES256", 1, 0},
  {"x-amz-server-side-encryption", "aws:kms", 1, 0},
  {"x-amz-server-side-encryption-aws-kms-key-id", "k", 1, 0},
  {"x-amz-server-side-encryption-context", "e30=", 1, 0},
  {"x-amz-server-side-encryption-bucket-key-enabled", "true", 1, 0},
  {"x-amz-server-side-encryption-customer-algorithm", "AES256", 1, 0},
  {"x-amz-server-side-encryption-customer-key", "SECRETKEYBYTES", 1, 0},
  {"x-amz-server-side-encryption-customer-key-MD5", "bWQ1", 1, 0},
  {"x-amz-website-redirect-location", "/other", 1, 0},
  {"x-amz-grant-read", "id=abc", 1, 0},
  {"x-amz-grant-read-acp", "id=abc", 1, 0},
  {"x-amz-grant-write-acp", "id=abc", 1, 0},
  {"x-amz-grant-full-control", "id=abc", 1, 0},
  {"x-amz-acl", "public-read", 1, 0},
  {"x-amz-acl", "authenticated-read", 1, 0},
  {"x-amz-acl", "private", 0, 0},
  {"x-amz-acl", "bucket-owner-full-control", 0, 0},
  {"x-amz-storage-class", "GLACIER", 1, 0},
  {"x-amz-storage-class", "REDUCED_REDUNDANCY", 1, 0},
  {"x-amz-storage-class", "NO_SUCH_CLASS", 1, 0},
  {"x-amz-storage-class", "STANDARD", 0, 0},
  {"x-amz-write-offset-bytes", "0", 1, 0},
  /* what describes the object passes (stored by a later change) */
  {"x-amz-meta-mtime", "1700000000.5", 0, 0},
  {"Cache-Control", "no-cache", 0, 0},
  {"Content-Disposition", "attachment", 0, 0},
  {"Content-Language", "en", 0, 0},
  {"Expires", "Thu, 01 Jan 2037 00:00:00 GMT", 0, 0},
  {"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==", 0, 0},
  {"If-None-Match", "*", 0, 0},
  {"Expect", "100-continue", 0, 0},
};

static void put_headers(void **state)
{
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(PUT_HEADERS) / sizeof(PUT_HEADERS[0]); i++) {
    const hcase *c = &PUT_HEADERS[i];
    hdrs h = {{"Content-Length", "5", c->name, c->value, NULL}};
    vs__route_result rt;
    vs__op op = classify("PUT", "/videos/k?" SIG, &h, &rt);
    if(c->refused != (op == VS__OP_REFUSED))
      fail_msg("PUT with %s: %s: %s", c->name, c->value, vs__op_name(op));
    if(!c->refused)
      continue;
    assert_int_equal(rt.code, VS__S3_NOT_IMPLEMENTED);
    assert_int_equal(rt.before_auth, c->early);
    if(strncasecmp(rt.msg, c->name, strlen(c->name)))
      fail_msg("%s: message '%s' does not start with the header", c->name,
               rt.msg);
    /* a header's value may be a secret (SSE-C): never echoed */
    if(strstr(rt.msg, "SECRET") || strstr(rt.msg, "/videos/other"))
      fail_msg("%s: message '%s' echoes the value", c->name, rt.msg);
  }
}

/* The rules are the PUT row's: the same headers on GET/HEAD change
 * nothing the sink serves. */
static void put_rules_are_per_row(void **state)
{
  hdrs h = {{"x-amz-copy-source", "/videos/x", "x-amz-tagging", "a=b",
             NULL}};
  (void)state;
  expect_op("GET", "/videos/k", &h, VS__OP_GET_OBJECT);
  expect_op("HEAD", "/videos/k", &h, VS__OP_HEAD_OBJECT);
  /* x-amz-copy-source selects CopyObject, whose row refuses tagging */
  expect_refused("PUT", "/videos/k", &h, VS__S3_NOT_IMPLEMENTED, 0,
                 "x-amz-tagging");
}

/* x-amz-copy-source makes a PUT CopyObject (never a PUT of its body); the
 * copy's own rules refuse what it does not implement, naming it. */
static void copy_rows(void **state)
{
  static const hcase COPY_HEADERS[] = {
    {"x-amz-metadata-directive", "REPLACE", 0, 0},
    {"x-amz-copy-source-if-match", "\"abc\"", 0, 0},
    {"x-amz-copy-source-if-unmodified-since",
     "Thu, 01 Jan 2037 00:00:00 GMT", 0, 0},
    {"x-amz-meta-mtime", "1700000000.5", 0, 0},
    {"x-amz-tagging-directive", "COPY", 0, 0},
    {"x-amz-acl", "private", 0, 0},
    {"x-amz-storage-class", "STANDARD", 0, 0},
    {"x-amz-tagging-directive", "REPLACE", 1, 0},
    {"x-amz-tagging", "a=b", 1, 0},
    {"x-amz-checksum-algorithm", "CRC32", 1, 0},
    {"x-amz-storage-class", "GLACIER", 1, 0},
    {"x-amz-server-side-encryption", "AES256", 1, 0},
    {"x-amz-copy-source-server-side-encryption-customer-key",
     "SECRETKEYBYTES", 1, 0},
    {"x-amz-object-lock-mode", "GOVERNANCE", 1, 0},
    {"x-amz-website-redirect-location", "/other", 1, 0},
    {"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", 1, 1},
  };
  hdrs plain = {{"x-amz-copy-source", "/videos/other.mp4", NULL}};
  hdrs empty = {{"x-amz-copy-source", "", NULL}};
  size_t i;
  (void)state;
  expect_op("PUT", "/videos/k", &plain, VS__OP_COPY_OBJECT);
  expect_op("PUT", "/videos/k?" SIG, &plain, VS__OP_COPY_OBJECT);
  expect_op("PUT", "/videos/k?x-id=CopyObject", &plain, VS__OP_COPY_OBJECT);
  expect_op("PUT", "/videos/k", &empty, VS__OP_COPY_OBJECT); /* 400 there */
  expect_op("PUT", "/videos/k", NULL, VS__OP_PUT_OBJECT);
  expect_refused("PUT", "/videos/k?x-id=PutObject", &plain,
                 VS__S3_NOT_IMPLEMENTED, 0, NULL);
  /* with a part, it is UploadPartCopy's */
  expect_op("PUT", "/videos/k?partNumber=1&uploadId=x", &plain,
            VS__OP_UPLOAD_PART_COPY);
  /* not a copy on another method, nor on a bucket */
  expect_op("GET", "/videos/k", &plain, VS__OP_GET_OBJECT);
  for(i = 0; i < sizeof(COPY_HEADERS) / sizeof(COPY_HEADERS[0]); i++) {
    const hcase *c = &COPY_HEADERS[i];
    hdrs h = {{"x-amz-copy-source", "/videos/other.mp4", c->name, c->value,
               NULL}};
    vs__route_result rt;
    vs__op op = classify("PUT", "/videos/k?" SIG, &h, &rt);
    if(c->refused != (op == VS__OP_REFUSED) ||
       (!c->refused && op != VS__OP_COPY_OBJECT))
      fail_msg("copy with %s: %s: %s", c->name, c->value, vs__op_name(op));
    if(!c->refused)
      continue;
    assert_int_equal(rt.code, VS__S3_NOT_IMPLEMENTED);
    assert_int_equal(rt.before_auth, c->early);
    if(strncasecmp(rt.msg, c->name, strlen(c->name)))
      fail_msg("%s: message '%s' does not start with the header", c->name,
               rt.msg);
    if(strstr(rt.msg, "SECRET") || strstr(rt.msg, "/videos/other"))
      fail_msg("%s: message '%s' echoes the value", c->name, rt.msg);
  }
}

/* Multipart uploads: a row per operation, each with its parameters and
 * its header rules. */
static void mpu_rows(void **state)
{
  hdrs crc = {{"x-amz-checksum-algorithm", "CRC32", "x-amz-checksum-type",
               "FULL_OBJECT", NULL}};
  hdrs xxh = {{"x-amz-checksum-algorithm", "XXHASH64", NULL}};
  hdrs sse = {{"x-amz-server-side-encryption", "AES256", NULL}};
  hdrs ssec = {{"x-amz-server-side-encryption-customer-key", "SECRET",
                NULL}};
  hdrs stream = {{"x-amz-content-sha256",
                  "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-trailer",
                  "x-amz-checksum-crc32", NULL}};
  hdrs copy = {{"x-amz-copy-source", "/videos/src",
                "x-amz-copy-source-range", "bytes=0-9", NULL}};
  hdrs initiated = {{"x-amz-if-match-initiated-time",
                     "Thu, 01 Jan 2037 00:00:00 GMT", NULL}};
  (void)state;
  expect_op("POST", "/videos/k?uploads", NULL, VS__OP_CREATE_MPU);
  expect_op("POST", "/videos/k?uploads=&x-id=CreateMultipartUpload", &crc,
            VS__OP_CREATE_MPU);
  expect_refused("POST", "/videos/k?uploads", &xxh, VS__S3_NOT_IMPLEMENTED, 0,
                 "x-amz-checksum-algorithm");
  expect_refused("POST", "/videos/k?uploads", &sse, VS__S3_NOT_IMPLEMENTED, 0,
                 "x-amz-server-side-encryption");
  expect_refused("POST", "/videos/k?uploads", &stream,
                 VS__S3_NOT_IMPLEMENTED, 1, "x-amz-content-sha256");
  /* a part's body may be aws-chunked, as a PUT's */
  expect_op("PUT", "/videos/k?partNumber=1&uploadId=u", &stream,
            VS__OP_UPLOAD_PART);
  expect_op("PUT", "/videos/k?partNumber=1&uploadId=u&x-id=UploadPart", NULL,
            VS__OP_UPLOAD_PART);
  expect_refused("PUT", "/videos/k?partNumber=1&uploadId=u", &ssec,
                 VS__S3_NOT_IMPLEMENTED, 0, "SSE-C");
  expect_refused("PUT", "/videos/k?partNumber=1&uploadId=u&versionId=v",
                 NULL, VS__S3_NOT_IMPLEMENTED, 0, "'versionId'");
  expect_op("PUT", "/videos/k?partNumber=1&uploadId=u", &copy,
            VS__OP_UPLOAD_PART_COPY);
  expect_refused("PUT", "/videos/k?partNumber=1&uploadId=u&x-id=UploadPart",
                 &copy, VS__S3_NOT_IMPLEMENTED, 0, "x-id");
  expect_op("POST", "/videos/k?uploadId=u", NULL, VS__OP_COMPLETE_MPU);
  {
    hdrs size = {{"x-amz-mp-object-size", "10485760", NULL}};
    expect_refused("POST", "/videos/k?uploadId=u", &size,
                   VS__S3_NOT_IMPLEMENTED, 0, "x-amz-mp-object-size");
  }
  expect_refused("POST", "/videos/k?uploadId=u", &stream,
                 VS__S3_NOT_IMPLEMENTED, 1, "x-amz-content-sha256");
  expect_refused("POST", "/videos/k?uploadId=u&partNumber=1", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "'partNumber'");
  expect_op("DELETE", "/videos/k?uploadId=u", NULL, VS__OP_ABORT_MPU);
  expect_refused("DELETE", "/videos/k?uploadId=u", &initiated,
                 VS__S3_NOT_IMPLEMENTED, 0, "x-amz-if-match-initiated-time");
  expect_op("GET", "/videos/k?uploadId=u&max-parts=2&part-number-marker=1"
            "&encoding-type=url", NULL, VS__OP_LIST_PARTS);
  expect_refused("GET", "/videos/k?uploadId=u&max-uploads=2", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "'max-uploads'");
  expect_op("GET", "/videos?uploads&prefix=a&delimiter=%2F&key-marker=a"
            "&upload-id-marker=u&max-uploads=5&encoding-type=url", NULL,
            VS__OP_LIST_MPUS);
  expect_refused("GET", "/videos?uploads&max-parts=2", NULL,
                 VS__S3_NOT_IMPLEMENTED, 0, "'max-parts'");
  /* not on the other kind of path */
  expect_refused("POST", "/videos?uploads", NULL, VS__S3_NOT_IMPLEMENTED, 0,
                 "'uploads'");
  expect_refused("GET", "/videos?uploadId=u", NULL, VS__S3_NOT_IMPLEMENTED,
                 0, "'uploadId'");
}

/* Tags are read (always none), never written. */
static void tagging_rows(void **state)
{
  (void)state;
  expect_op("GET", "/videos/k?tagging", NULL, VS__OP_GET_OBJECT_TAGGING);
  expect_op("GET", "/videos/k?tagging&versionId=v&x-id=GetObjectTagging",
            NULL, VS__OP_GET_OBJECT_TAGGING);
  expect_refused("PUT", "/videos/k?tagging", NULL, VS__S3_NOT_IMPLEMENTED, 0,
                 "'tagging'");
  expect_refused("DELETE", "/videos/k?tagging", NULL, VS__S3_NOT_IMPLEMENTED,
                 0, "'tagging'");
  expect_refused("GET", "/videos?tagging", NULL, VS__S3_NOT_IMPLEMENTED, 0,
                 "'tagging'");
}

/* Any bytes are safe input, and the answer is always a refusal or a row:
 * a cheap stand-in for the fuzz target. */
static void random_input_is_safe(void **state)
{
  static const char alphabet[] = "/?&=%aAx-Z0.9 +\x01\xff";
  uint32_t seed = 12345;
  int n;
  (void)state;
  for(n = 0; n < 20000; n++) {
    char uri[64];
    vs__route_result rt;
    size_t i, len;
    seed = seed * 1103515245u + 12345u;
    len = (seed >> 16) % (sizeof(uri) - 1);
    for(i = 0; i < len; i++) {
      seed = seed * 1103515245u + 12345u;
      uri[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
    }
    uri[len] = 0;
    classify(METHODS[n % 5], uri, NULL, &rt);
    if(rt.op == VS__OP_REFUSED)
      assert_true(rt.code != VS__S3_NONE && rt.msg[0]);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(rows_match_their_requests),
    cmocka_unit_test(listing_parameters),
    cmocka_unit_test(harmless_parameters_pass),
    cmocka_unit_test(operation_changing_parameters_are_refused),
    cmocka_unit_test(every_subresource_is_refused),
    cmocka_unit_test(methods_without_a_row),
    cmocka_unit_test(bucket_rows),
    cmocka_unit_test(malformed_requests),
    cmocka_unit_test(put_headers),
    cmocka_unit_test(put_rules_are_per_row),
    cmocka_unit_test(copy_rows),
    cmocka_unit_test(mpu_rows),
    cmocka_unit_test(tagging_rows),
    cmocka_unit_test(random_input_is_safe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
