/* S3-style XML error answers: S3's codes and statuses, so S3 clients report
 * them as they would a bucket's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "util/buf.h"
#include "util/utf8.h"
#include "util/xml.h"

static const struct {
  const char *name;
  unsigned status;
  const char *message;
} codes[VS__S3_COUNT] = {
  [VS__S3_NONE] = {"InternalError", 500, "internal error"},
  [VS__S3_ACCESS_DENIED] = {"AccessDenied", 403, "Access Denied"},
  [VS__S3_EXPIRED] = {"AccessDenied", 403, "Request has expired"},
  [VS__S3_NOT_YET_VALID] = {"AccessDenied", 403, "Request is not valid yet"},
  [VS__S3_SIGNATURE] = {"SignatureDoesNotMatch", 403,
    "The request signature we calculated does not match the signature you "
    "provided. Check your key and signing method."},
  [VS__S3_INVALID_KEY_ID] = {"InvalidAccessKeyId", 403,
    "The AWS Access Key Id you provided does not exist in our records."},
  [VS__S3_QUERY_PARAMS] = {"AuthorizationQueryParametersError", 400,
    "Error parsing the X-Amz-Credential parameter"},
  [VS__S3_HEADER_MALFORMED] = {"AuthorizationHeaderMalformed", 400,
    "The authorization header is malformed"},
  [VS__S3_SKEWED] = {"RequestTimeTooSkewed", 403,
    "The difference between the request time and the current time is too "
    "large."},
  [VS__S3_NO_SUCH_BUCKET] = {"NoSuchBucket", 404,
    "The specified bucket does not exist"},
  [VS__S3_NO_SUCH_KEY] = {"NoSuchKey", 404,
    "The specified key does not exist."},
  [VS__S3_NO_SUCH_VERSION] = {"NoSuchVersion", 404,
    "The specified version does not exist."},
  [VS__S3_TOO_LARGE] = {"EntityTooLarge", 400,
    "Your proposed upload exceeds the maximum allowed size"},
  [VS__S3_INCOMPLETE_BODY] = {"IncompleteBody", 400,
    "You did not provide the number of bytes specified by the Content-Length "
    "HTTP header"},
  [VS__S3_BAD_DIGEST] = {"BadDigest", 400,
    "The Content-MD5 you specified did not match what we received."},
  [VS__S3_INVALID_DIGEST] = {"InvalidDigest", 400,
    "The Content-MD5 you specified is not valid."},
  [VS__S3_SHA256_MISMATCH] = {"XAmzContentSHA256Mismatch", 400,
    "The provided 'x-amz-content-sha256' header does not match what was "
    "computed."},
  [VS__S3_KEY_TOO_LONG] = {"KeyTooLongError", 400, "Your key is too long"},
  [VS__S3_INVALID_ARGUMENT] = {"InvalidArgument", 400, "Invalid Argument"},
  [VS__S3_PRECONDITION] = {"PreconditionFailed", 412,
    "At least one of the pre-conditions you specified did not hold"},
  [VS__S3_METHOD] = {"MethodNotAllowed", 405,
    "The specified method is not allowed against this resource."},
  [VS__S3_NOT_IMPLEMENTED] = {"NotImplemented", 501,
    "A header or operation you provided implies functionality that is not "
    "implemented"},
  [VS__S3_INVALID_RANGE] = {"InvalidRange", 416,
    "The requested range is not satisfiable"},
  [VS__S3_STORAGE] = {"InsufficientStorage", 507,
    "There is not enough space left to store the object"},
  [VS__S3_MISSING_LENGTH] = {"MissingContentLength", 411,
    "You must provide the Content-Length HTTP header."},
  [VS__S3_INTERNAL] = {"InternalError", 500,
    "We encountered an internal error. Please try again."},
  [VS__S3_UNAVAILABLE] = {"ServiceUnavailable", 503,
    "The server is shutting down; please retry."},
  [VS__S3_MALFORMED_JSON] = {"MalformedJSON", 400,
    "The body is not the JSON the hook expects"},
  [VS__S3_INVALID_REQUEST] = {"InvalidRequest", 400, "Invalid Request"},
  [VS__S3_INVALID_BUCKET_NAME] = {"InvalidBucketName", 400,
    "The specified bucket is not valid."},
  [VS__S3_ILLEGAL_LOCATION] = {"IllegalLocationConstraintException", 400,
    "The location constraint is incompatible for the region specific "
    "endpoint this request was sent to."},
  [VS__S3_MALFORMED_XML] = {"MalformedXML", 400,
    "The XML you provided was not well-formed or did not validate against "
    "our published schema"},
  [VS__S3_METADATA_TOO_LARGE] = {"MetadataTooLarge", 400,
    "Your metadata headers exceed the maximum allowed metadata size."},
  [VS__S3_INVALID_PART_NUMBER] = {"InvalidPartNumber", 416,
    "The requested partnumber is not satisfiable"},
  [VS__S3_NO_SUCH_UPLOAD] = {"NoSuchUpload", 404,
    "The specified multipart upload does not exist. The upload ID might be "
    "invalid, or the multipart upload might have been aborted or "
    "completed."},
  [VS__S3_INVALID_PART] = {"InvalidPart", 400,
    "One or more of the specified parts could not be found. The part might "
    "not have been uploaded, or the specified entity tag might not have "
    "matched the part's entity tag."},
  [VS__S3_INVALID_PART_ORDER] = {"InvalidPartOrder", 400,
    "The list of parts was not in ascending order. The parts list must be "
    "specified in order by part number."},
  [VS__S3_ENTITY_TOO_SMALL] = {"EntityTooSmall", 400,
    "Your proposed upload is smaller than the minimum allowed object "
    "size."},
};

vs__s3code vs__s3_of_store(int rc, vs__s3code notfound)
{
  switch(rc) {
  case VS_ERR_NOSPACE:
    return VS__S3_STORAGE;
  case VS_ERR_EXISTS:
    return VS__S3_PRECONDITION;
  case VS_ERR_NOTFOUND:
    return notfound;
  case VS_ERR_TOOLARGE:
    return VS__S3_KEY_TOO_LONG;
  case VS_ERR_INVALID:
    return VS__S3_INVALID_ARGUMENT;
  case VS_ERR_DIGEST:
    return VS__S3_BAD_DIGEST;
  case VS_ERR_NET: /* the store's cluster did not answer: worth a retry */
    return VS__S3_UNAVAILABLE;
  default:
    return VS__S3_INTERNAL;
  }
}

int vs__failed(vs__fail *f, vs__s3code code, const char *msg)
{
  f->code = code;
  if(msg != f->msg)
    snprintf(f->msg, sizeof(f->msg), "%s", msg ? msg : "");
  return -1;
}

unsigned vs__s3_status(vs__s3code code)
{
  return codes[code].status;
}

const char *vs__s3_name(vs__s3code code)
{
  return codes[code].name;
}

/* detail (may be NULL) replaces the stock message: it says precisely what
 * was wrong, and it never holds a secret. */
enum MHD_Result vs__s3_error(vs__req *r, vs__s3code code, const char *detail)
{
  vs_buf b = VS_BUF_INIT;
  vs_buf_adds(&b, VS_XML_HEAD "<Error><Code>");
  vs_buf_adds(&b, codes[code].name);
  vs_buf_adds(&b, "</Code>");
  vs_xml_elem(&b, "Message", detail && *detail ? detail : codes[code].message,
              0);
  if(r->bucket)
    vs_xml_elem(&b, "BucketName", r->bucket, 0);
  /* echo only a key that XML can carry */
  if(r->key && memchr(r->key, 0, r->key_len) == NULL &&
     vs_utf8_valid(r->key, r->key_len))
    vs_xml_elem(&b, "Key", r->key, 0);
  vs_buf_adds(&b, "<RequestId>");
  vs_buf_adds(&b, r->id);
  vs_buf_adds(&b, "</RequestId></Error>\n");
  return vs__send_buf(r, codes[code].status, &b, "application/xml");
}
