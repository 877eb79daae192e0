/* sigv2: the S3 developer guide's Signature Version 2 examples reproduced
 * exactly (string to sign and signature), botocore's presigned URLs
 * byte for byte, and every refusal: expired, skewed, tampered, unknown or
 * wrong key, malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "test_sigv4_hdrs.h"
#include "vsink/sigv4.h"

/* The guide's (non-working) example credentials. */
#define DOC_KEY "AKIAIOSFODNN7EXAMPLE"
#define DOC_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define KEY_ID "VSTESTKEY0000000001"
#define SECRET "s3cr3t/Secret+Key0123456789abcdefghijklm"
#define T0 1767225600 /* 2026-01-01T00:00:00Z */

/* ---- a request as the server sees it ---------------------------------------- */

typedef hd_set fake;

static void authorize(fake *f, const char *key, const char *sig)
{
  snprintf(f->buf, sizeof(f->buf), "AWS %s:%s", key, sig);
  hd_set_to(f, "Authorization", f->buf);
}

static vs_keyring *keys(void)
{
  vs_keyring *kr = vs_keyring_new();
  assert_int_equal(vs_keyring_add(kr, "VSOTHERKEY", "other-secret", NULL), 0);
  assert_int_equal(vs_keyring_add(kr, DOC_KEY, DOC_SECRET, NULL), 0);
  assert_int_equal(vs_keyring_add(kr, KEY_ID, SECRET, NULL), 0);
  return kr;
}

static vs_sigv4_status verify(const char *method, const char *uri, fake *f,
                              const char *host_bucket, int64_t now,
                              vs_err *err)
{
  vs_sigv2_request r = {method, uri, hd_get, hd_each, f, host_bucket};
  vs_keyring *kr = keys();
  vs_sigv4_result res;
  vs_sigv4_status st;
  memset(err, 0, sizeof(*err));
  st = vs_sigv2_verify(&r, kr, now, &res, err);
  if(st == VS_SIGV4_OK)
    assert_string_equal(res.payload_sha256, VS_SIGV4_UNSIGNED);
  vs_keyring_free(kr);
  return st;
}

static void sts_is(const char *method, const char *uri, fake *f,
                   const char *host_bucket, const char *date,
                   const char *want)
{
  vs_sigv2_request r = {method, uri, hd_get, hd_each, f, host_bucket};
  char *sts = NULL;
  assert_int_equal(vs_sigv2_string_to_sign(&r, date, &sts, NULL), 0);
  assert_string_equal(sts, want);
  free(sts);
}

static void sig_is(const char *secret, const char *sts, const char *want)
{
  char sig[VS_SIGV2_SIG_B64];
  assert_int_equal(vs_sigv2_sign(secret, sts, strlen(sts), sig), 0);
  assert_string_equal(sig, want);
}

/* One of the guide's examples, virtual-hosted in awsexamplebucket1: its
 * string to sign is sts (the date line is its Date header), the guide's
 * secret signs it as sig, and the request so signed verifies at now. */
static void doc_signs(fake *f, const char *method, const char *uri,
                      const char *sts, const char *sig, int64_t now)
{
  vs_err err;
  sts_is(method, uri, f, "awsexamplebucket1", hd_get(f, "Date"), sts);
  sig_is(DOC_SECRET, sts, sig);
  authorize(f, DOC_KEY, sig);
  assert_int_equal(verify(method, uri, f, "awsexamplebucket1", now, &err),
                   VS_SIGV4_OK);
}

/* ---- the developer guide's examples --------------------------------------- */
/* "Signing and authenticating REST requests", Authentication examples
 * (awsdocs amazon-s3-userguide and amazon-s3-developer-guide). Each
 * example's request verifies at its own Date; its StringToSign is what we
 * build; its signature is HMAC-SHA1 of that string. */

static void doc_object_get(void **state)
{
  fake f = {0};
  vs_err err;
  const char *sts = "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n"
                    "/awsexamplebucket1/photos/puppy.jpg";
  (void)state;
  hd_add(&f, "Host", "awsexamplebucket1.us-west-1.s3.amazonaws.com");
  hd_add(&f, "Date", "Tue, 27 Mar 2007 19:36:42 +0000");
  doc_signs(&f, "GET", "/photos/puppy.jpg", sts, "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
            1175024202);
  /* the same request path-style names the same resource */
  assert_int_equal(verify("GET", "/awsexamplebucket1/photos/puppy.jpg", &f,
                          NULL, 1175024202, &err), VS_SIGV4_OK);
  /* a virtual-hosted request is signed with its bucket: without it, no */
  assert_int_equal(verify("GET", "/photos/puppy.jpg", &f, NULL, 1175024202,
                          &err), VS_SIGV4_BAD_SIGNATURE);
}

static void doc_object_put(void **state)
{
  fake f = {0};
  vs_err err;
  const char *sts = "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n"
                    "/awsexamplebucket1/photos/puppy.jpg";
  (void)state;
  hd_add(&f, "Content-Type", "image/jpeg");
  hd_add(&f, "Content-Length", "94328");
  hd_add(&f, "Host", "awsexamplebucket1.s3.us-west-1.amazonaws.com");
  hd_add(&f, "Date", "Tue, 27 Mar 2007 21:15:45 +0000");
  doc_signs(&f, "PUT", "/photos/puppy.jpg", sts, "iqRzw+ileNPu1fhspnRs8nOjjIA=",
            1175030145);
  hd_set_to(&f, "Content-Type", "video/mp4"); /* the type is signed */
  assert_int_equal(verify("PUT", "/photos/puppy.jpg", &f, "awsexamplebucket1",
                          1175030145, &err), VS_SIGV4_BAD_SIGNATURE);
}

static void doc_list(void **state)
{
  fake f = {0};
  const char *sts = "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n"
                    "/awsexamplebucket1/";
  const char *uri = "/?prefix=photos&max-keys=50&marker=puppy";
  (void)state;
  hd_add(&f, "User-Agent", "Mozilla/5.0");
  hd_add(&f, "Host", "awsexamplebucket1.s3.us-west-1.amazonaws.com");
  hd_add(&f, "Date", "Tue, 27 Mar 2007 19:42:41 +0000");
  doc_signs(&f, "GET", uri, sts, "m0WP8eCtspQl5Ahe6L1SozdX9YA=", 1175024561);
}

static void doc_fetch_acl(void **state)
{
  fake f = {0};
  vs_err err;
  const char *sts = "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n"
                    "/awsexamplebucket1/?acl";
  (void)state;
  hd_add(&f, "Host", "awsexamplebucket1.s3.us-west-1.amazonaws.com");
  hd_add(&f, "Date", "Tue, 27 Mar 2007 19:44:46 +0000");
  doc_signs(&f, "GET", "/?acl", sts, "82ZHiFIjc+WbcwFKGUVEQspPn+0=",
            1175024686);
  /* the sub-resource is signed: the same signature on the object fails */
  assert_int_equal(verify("GET", "/", &f, "awsexamplebucket1", 1175024686,
                          &err), VS_SIGV4_BAD_SIGNATURE);
}

/* The guide's Delete example signs x-amz-date's value as the date line;
 * its text says to sign an empty date line and x-amz-date among the
 * x-amz-* headers (what boto 2, s3cmd and Ceph RGW do). Both verify. */
static void doc_delete_amz_date(void **state)
{
  fake f = {0};
  vs_err err;
  const char *uri = "/awsexamplebucket1/photos/puppy.jpg";
  const char *doc = "DELETE\n\n\nTue, 27 Mar 2007 21:20:26 +0000\n"
                    "/awsexamplebucket1/photos/puppy.jpg";
  const char *rule = "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 "
                     "+0000\n/awsexamplebucket1/photos/puppy.jpg";
  const char *by_date = "DELETE\n\n\nTue, 27 Mar 2007 21:20:27 +0000\n"
                        "/awsexamplebucket1/photos/puppy.jpg";
  char sig[VS_SIGV2_SIG_B64];
  (void)state;
  hd_add(&f, "User-Agent", "dotnet");
  hd_add(&f, "Host", "s3.us-west-1.amazonaws.com");
  hd_add(&f, "Date", "Tue, 27 Mar 2007 21:20:27 +0000");
  hd_add(&f, "x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000");
  sig_is(DOC_SECRET, doc, "XbyTlbQdu9Xw5o8P4iMwPktxQd8=");
  sts_is("DELETE", uri, &f, NULL, "", rule);
  authorize(&f, DOC_KEY, "XbyTlbQdu9Xw5o8P4iMwPktxQd8=");
  assert_int_equal(verify("DELETE", uri, &f, NULL, 1175030426, &err),
                   VS_SIGV4_OK);
  assert_int_equal(vs_sigv2_sign(DOC_SECRET, rule, strlen(rule), sig), 0);
  authorize(&f, DOC_KEY, sig);
  assert_int_equal(verify("DELETE", uri, &f, NULL, 1175030426, &err),
                   VS_SIGV4_OK);
  /* Date's value is not what either signs */
  assert_int_equal(vs_sigv2_sign(DOC_SECRET, by_date, strlen(by_date), sig),
                   0);
  authorize(&f, DOC_KEY, sig);
  assert_int_equal(verify("DELETE", uri, &f, NULL, 1175030426, &err),
                   VS_SIGV4_BAD_SIGNATURE);
}

/* CNAME-style virtual host, repeated x-amz-meta-* joined with commas,
 * names lowercased and sorted, Content-MD5 signed. The developer guide's
 * version of the example (static.awsexamplebucket1.net). */
static void doc_upload(void **state)
{
  fake f = {0};
  vs_err err;
  const char *sts =
    "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\n"
    "Tue, 27 Mar 2007 21:06:08 +0000\nx-amz-acl:public-read\n"
    "x-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n"
    "x-amz-meta-reviewedby:joe@awsexamplebucket1.net,"
    "jane@awsexamplebucket1.net\n/static.awsexamplebucket1.net/"
    "db-backup.dat.gz";
  (void)state;
  hd_add(&f, "User-Agent", "curl/7.15.5");
  hd_add(&f, "Host", "static.awsexamplebucket1.net:8080");
  hd_add(&f, "Date", "Tue, 27 Mar 2007 21:06:08 +0000");
  hd_add(&f, "x-amz-acl", "public-read");
  hd_add(&f, "content-type", "application/x-download");
  hd_add(&f, "Content-MD5", "4gJE4saaMU4BqNR0kLY+lw==");
  hd_add(&f, "X-Amz-Meta-ReviewedBy", "joe@awsexamplebucket1.net");
  hd_add(&f, "X-Amz-Meta-ReviewedBy", " jane@awsexamplebucket1.net ");
  hd_add(&f, "X-Amz-Meta-FileChecksum", "0x02661779");
  hd_add(&f, "X-Amz-Meta-ChecksumAlgorithm", "crc32");
  hd_add(&f, "Content-Disposition", "attachment; filename=database.dat");
  hd_add(&f, "Content-Encoding", "gzip");
  hd_add(&f, "Content-Length", "5913339");
  sts_is("PUT", "/db-backup.dat.gz", &f, "static.awsexamplebucket1.net",
         "Tue, 27 Mar 2007 21:06:08 +0000", sts);
  sig_is(DOC_SECRET, sts, "dKZcB+bz2EPXgSdXZp9ozGeOM4I=");
  authorize(&f, DOC_KEY, "dKZcB+bz2EPXgSdXZp9ozGeOM4I=");
  assert_int_equal(verify("PUT", "/db-backup.dat.gz", &f,
                          "static.awsexamplebucket1.net", 1175029568, &err),
                   VS_SIGV4_OK);
  /* metadata is signed */
  hd_set_to(&f, "X-Amz-Meta-FileChecksum", "0x02661778");
  assert_int_equal(verify("PUT", "/db-backup.dat.gz", &f,
                          "static.awsexamplebucket1.net", 1175029568, &err),
                   VS_SIGV4_BAD_SIGNATURE);
}

static void doc_list_buckets_and_unicode(void **state)
{
  fake f = {0}, g = {0};
  vs_err err;
  const char *uni = "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re";
  (void)state;
  hd_add(&f, "Host", "s3.us-west-1.amazonaws.com");
  hd_add(&f, "Date", "Wed, 28 Mar 2007 01:29:59 +0000");
  sts_is("GET", "/", &f, NULL, "Wed, 28 Mar 2007 01:29:59 +0000",
         "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/");
  authorize(&f, DOC_KEY, "qGdzdERIC03wnaRNKh6OqZehG9s=");
  assert_int_equal(verify("GET", "/", &f, NULL, 1175045399, &err),
                   VS_SIGV4_OK);
  /* elements from the Request-URI are taken literally, escapes' case too */
  hd_add(&g, "Host", "s3.us-west-1.amazonaws.com");
  hd_add(&g, "Date", "Wed, 28 Mar 2007 01:49:49 +0000");
  sts_is("GET", uni, &g, NULL, "Wed, 28 Mar 2007 01:49:49 +0000",
         "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n"
         "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re");
  authorize(&g, DOC_KEY, "DNEZGsoieTZ92F3bUfSPQcbGmlM=");
  assert_int_equal(verify("GET", uni, &g, NULL, 1175046589, &err),
                   VS_SIGV4_OK);
  /* sent with other escapes, the literal signature fails... */
  assert_int_equal(verify("GET", "/dictionary/fran%c3%a7ais/pr%C3%A9f%C3%A8re",
                          &g, NULL, 1175046589, &err), VS_SIGV4_BAD_SIGNATURE);
  /* ...but one over the AWS escaping of the same bytes verifies */
  sig_is(DOC_SECRET, "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n"
         "/dictionary/fran%C3%A7ais/pr%C3%A9f%C3%A8re",
         "81VEw/Bc3GDt/k65Xrrk3AdfI4c=");
  authorize(&g, DOC_KEY, "81VEw/Bc3GDt/k65Xrrk3AdfI4c=");
  assert_int_equal(verify("GET", "/dictionary/fran%c3%a7ais/pr%C3%A9f%C3%A8re",
                          &g, NULL, 1175046589, &err), VS_SIGV4_OK);
}

/* The guide's query-string example. Its signature was computed when the
 * example's bucket was still "johnsmith" (the guide renamed the bucket,
 * not the signature): reproduced with that bucket. */
static void doc_query_string(void **state)
{
  fake f = {0};
  vs_err err;
  const char *uri = "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&"
                    "Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&"
                    "Expires=1175139620";
  (void)state;
  hd_add(&f, "Host", "johnsmith.s3.us-west-1.amazonaws.com");
  sts_is("GET", uri, &f, "johnsmith", "1175139620",
         "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg");
  sig_is(DOC_SECRET, "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg",
         "NpgCjnDzrM+WFzoENXmpNDUsSn8=");
  assert_int_equal(verify("GET", uri, &f, "johnsmith", 1175139620, &err),
                   VS_SIGV4_OK);
  /* one second later it has expired, with S3's words */
  assert_int_equal(verify("GET", uri, &f, "johnsmith", 1175139621, &err),
                   VS_SIGV4_EXPIRED);
  assert_non_null(strstr(err.msg, "Request has expired"));
  assert_non_null(strstr(err.msg, "1175139620"));
  /* the Date header plays no part in the query form */
  hd_add(&f, "Date", "Mon, 26 Mar 2007 19:37:58 +0000");
  assert_int_equal(verify("GET", uri, &f, "johnsmith", 1175139000, &err),
                   VS_SIGV4_OK);
}

/* ---- botocore's URLs, byte for byte --------------------------------------- */
/* botocore 1.29.27 (Debian 12's python3-boto3), generate_presigned_url
 * with its defaults for endpoint_url=http://127.0.0.1:9000 (SigV2, path
 * style) and time.time() fixed at T0. */
#define BOTO_PUT                                                            \
  "http://127.0.0.1:9000/videos/clips/%C3%A9t%C3%A9%201%2B1%3D2%20~%28x%29" \
  ".mp4?AWSAccessKeyId=VSTESTKEY0000000001&Signature=HXIwvlB5ZWiGZC98hn0"   \
  "%2FTFzZSLA%3D&Expires=1767229200"
#define BOTO_GET_VERSION                                                    \
  "http://127.0.0.1:9000/videos/a?versionId=v1%2Fx&AWSAccessKeyId="         \
  "VSTESTKEY0000000001&Signature=5XAgfUHcUqwZ5uwa%2FRIk8UXrIAY%3D&"         \
  "Expires=1767226200"
#define ENDPOINT "http://127.0.0.1:9000"

static void botocore_urls(void **state)
{
  vs_sigv4_creds c = {KEY_ID, SECRET, "us-east-1", NULL};
  vs_presign_req put = {"PUT", ENDPOINT,
                        "/videos/clips/\xc3\xa9t\xc3\xa9 1+1=2 ~(x).mp4",
                        NULL, T0, 3600};
  vs_presign_req get = {"GET", ENDPOINT, "/videos/a", "versionId=v1%2Fx", T0,
                        600};
  fake f = {0};
  vs_err err = {0};
  char *url = NULL;
  (void)state;
  assert_int_equal(vs_sigv2_presign(&c, &put, &url, &err), 0);
  assert_string_equal(url, BOTO_PUT);
  free(url);
  assert_int_equal(vs_sigv2_presign(&c, &get, &url, &err), 0);
  assert_string_equal(url, BOTO_GET_VERSION);
  free(url);
  /* and the sink verifies them as received */
  assert_int_equal(verify("PUT", BOTO_PUT + strlen(ENDPOINT), &f, NULL,
                          T0 + 3600, &err), VS_SIGV4_OK);
  assert_int_equal(verify("GET", BOTO_GET_VERSION + strlen(ENDPOINT), &f,
                          NULL, T0, &err), VS_SIGV4_OK);
  /* versionId is a signed sub-resource */
  assert_int_equal(verify("GET", "/videos/a?versionId=v2&AWSAccessKeyId="
                          "VSTESTKEY0000000001&Signature=5XAgfUHcUqwZ5uwa%2F"
                          "RIk8UXrIAY%3D&Expires=1767226200", &f, NULL, T0,
                          &err), VS_SIGV4_BAD_SIGNATURE);
  /* the method is signed */
  assert_int_equal(verify("GET", BOTO_PUT + strlen(ENDPOINT), &f, NULL, T0,
                          &err), VS_SIGV4_BAD_SIGNATURE);
  assert_non_null(strstr(err.msg, "does not match"));
}

/* ---- the canonical resource's sub-resources -------------------------------- */

static void subresources(void **state)
{
  fake f = {0};
  (void)state;
  sts_is("PUT", "/b/k?uploadId=a%2Fb&x-id=UploadPart&partNumber=2", &f,
         NULL, "D", "PUT\n\n\nD\n/b/k?partNumber=2&uploadId=a/b");
  sts_is("POST", "/b/k?uploads", &f, NULL, "D",
         "POST\n\n\nD\n/b/k?uploads");
  sts_is("POST", "/b/k?uploads=", &f, NULL, "D",
         "POST\n\n\nD\n/b/k?uploads=");
  sts_is("GET", "/b/k?response-content-type=video%2Fmp4&versionId=v&"
         "list-type=2&prefix=a", &f, NULL, "D",
         "GET\n\n\nD\n/b/k?response-content-type=video/mp4&versionId=v");
  sts_is("POST", "/b?delete", &f, NULL, "D", "POST\n\n\nD\n/b?delete");
  sts_is("GET", "/b?versioning&location&tagging", &f, NULL, "D",
         "GET\n\n\nD\n/b?location&tagging&versioning");
  /* x-amz-* parameters (a presigner moves headers there; the sink reads
   * x-amz-meta-* from the query) are signed as headers in both forms; a
   * name in both is signed with both values, headers first */
  sts_is("PUT", "/b/k?x-amz-meta-Who=me&Expires=9&AWSAccessKeyId=K", &f,
         NULL, "9", "PUT\n\n\n9\nx-amz-meta-who:me\n/b/k");
  hd_add(&f, "x-amz-meta-who", "you");
  sts_is("PUT", "/b/k?x-amz-meta-who=me&Expires=9&AWSAccessKeyId=K", &f,
         NULL, "9", "PUT\n\n\n9\nx-amz-meta-who:you,me\n/b/k");
  sts_is("PUT", "/b/k?x-amz-meta-who=me", &f, NULL, "D",
         "PUT\n\n\nD\nx-amz-meta-who:you,me\n/b/k");
}

/* ---- refusals ------------------------------------------------------------- */

static void sign_header(fake *f, const char *method, const char *uri,
                        const char *secret, const char *key)
{
  vs_sigv2_request r = {method, uri, hd_get, hd_each, f, NULL};
  const char *amz = hd_get(f, "x-amz-date"), *date = hd_get(f, "Date");
  char *sts = NULL, sig[VS_SIGV2_SIG_B64];
  hd_set_to(f, "Authorization", NULL);
  assert_int_equal(vs_sigv2_string_to_sign(&r, amz ? "" : date, &sts,
                                           NULL), 0);
  assert_int_equal(vs_sigv2_sign(secret, sts, strlen(sts), sig), 0);
  free(sts);
  authorize(f, key, sig);
}

/* A header-signed request replayed with metadata appended to its query
 * (which the sink would store) no longer verifies. */
static void query_metadata_is_signed(void **state)
{
  fake f = {0};
  vs_err err;
  (void)state;
  hd_add(&f, "Date", "Thu, 01 Jan 2026 00:00:00 GMT");
  hd_add(&f, "x-amz-meta-take", "1");
  sign_header(&f, "PUT", "/videos/k", SECRET, KEY_ID);
  assert_int_equal(verify("PUT", "/videos/k", &f, NULL, T0, &err),
                   VS_SIGV4_OK);
  assert_int_equal(verify("PUT", "/videos/k?x-amz-meta-take=2", &f, NULL, T0,
                          &err), VS_SIGV4_BAD_SIGNATURE);
  assert_int_equal(verify("PUT", "/videos/k?x-amz-meta-evil=1", &f, NULL,
                          T0, &err), VS_SIGV4_BAD_SIGNATURE);
  /* an unsigned parameter that means nothing to S3 is not signed by SigV2
   * (S3's rule: only sub-resources are) */
  assert_int_equal(verify("PUT", "/videos/k?x-id=PutObject", &f, NULL, T0,
                          &err), VS_SIGV4_OK);
}

static void header_refusals(void **state)
{
  fake f = {0};
  vs_err err;
  (void)state;
  hd_add(&f, "Date", "Thu, 01 Jan 2026 00:00:00 GMT");
  hd_add(&f, "Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==");
  hd_add(&f, "x-amz-meta-a", "1");
  sign_header(&f, "PUT", "/videos/k", SECRET, KEY_ID);
  assert_int_equal(verify("PUT", "/videos/k", &f, NULL, T0, &err),
                   VS_SIGV4_OK);
  /* 15 minutes either way, as S3 */
  assert_int_equal(verify("PUT", "/videos/k", &f, NULL, T0 + 900, &err),
                   VS_SIGV4_OK);
  assert_int_equal(verify("PUT", "/videos/k", &f, NULL, T0 - 900, &err),
                   VS_SIGV4_OK);
  assert_int_equal(verify("PUT", "/videos/k", &f, NULL, T0 + 901, &err),
                   VS_SIGV4_SKEWED);
  assert_int_equal(verify("PUT", "/videos/k", &f, NULL, T0 - 901, &err),
                   VS_SIGV4_SKEWED);
  /* tampering: the key, the MD5, metadata, the method */
  assert_int_equal(verify("PUT", "/videos/j", &f, NULL, T0, &err),
                   VS_SIGV4_BAD_SIGNATURE);
  assert_int_equal(verify("GET", "/videos/k", &f, NULL, T0, &err),
                   VS_SIGV4_BAD_SIGNATURE);
  hd_set_to(&f, "Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww==");
  assert_int_equal(verify("PUT", "/videos/k", &f, NULL, T0, &err),
                   VS_SIGV4_BAD_SIGNATURE);
  hd_set_to(&f, "Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==");
  hd_add(&f, "x-amz-meta-b", "2");
  assert_int_equal(verify("PUT", "/videos/k", &f, NULL, T0, &err),
                   VS_SIGV4_BAD_SIGNATURE);
  /* wrong secret for a known key; an unknown key */
  sign_header(&f, "PUT", "/videos/k", "other-secret", KEY_ID);
  assert_int_equal(verify("PUT", "/videos/k", &f, NULL, T0, &err),
                   VS_SIGV4_BAD_SIGNATURE);
  assert_null(strstr(err.msg, SECRET));
  sign_header(&f, "PUT", "/videos/k", SECRET, "NOSUCHKEY");
  assert_int_equal(verify("PUT", "/videos/k", &f, NULL, T0, &err),
                   VS_SIGV4_UNKNOWN_KEY);
  assert_non_null(strstr(err.msg, "NOSUCHKEY"));
  /* x-amz-date instead of Date */
  hd_add(&f, "x-amz-date", "Thu, 01 Jan 2026 00:05:00 +0000");
  sign_header(&f, "PUT", "/videos/k", SECRET, KEY_ID);
  assert_int_equal(verify("PUT", "/videos/k", &f, NULL, T0 + 300, &err),
                   VS_SIGV4_OK);
  hd_set_to(&f, "x-amz-date", "Thu, 01 Jan 2026 00:05:01 +0000");
  assert_int_equal(verify("PUT", "/videos/k", &f, NULL, T0 + 300, &err),
                   VS_SIGV4_BAD_SIGNATURE);
}

static void malformed(void **state)
{
  static const char *const bad_auth[] = {
    "AWS ", "AWS KEY", "AWS :c2lnbmF0dXJl", "AWS KEY:", "AWS KEY:not base64!",
    "AWS KEY:c2ln", "AWS " KEY_ID ":AAAAAAAAAAAAAAAAAAAAAAAAAAA=x",
  };
  fake f = {0};
  vs_err err;
  size_t i;
  (void)state;
  hd_add(&f, "Date", "Thu, 01 Jan 2026 00:00:00 GMT");
  for(i = 0; i < sizeof(bad_auth) / sizeof(bad_auth[0]); i++) {
    vs_sigv4_status st;
    hd_set_to(&f, "Authorization", bad_auth[i]);
    st = verify("GET", "/videos/k", &f, NULL, T0, &err);
    assert_true(st == VS_SIGV4_BAD_PARAMS || st == VS_SIGV4_BAD_SIGNATURE);
    assert_true(err.msg[0]);
  }
  /* no date at all; a date that is not one */
  hd_set_to(&f, "Authorization", "AWS " KEY_ID ":AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  hd_set_to(&f, "Date", "yesterday");
  assert_int_equal(verify("GET", "/videos/k", &f, NULL, T0, &err),
                   VS_SIGV4_BAD_PARAMS);
  assert_non_null(strstr(err.msg, "Date"));
  /* both forms at once */
  hd_set_to(&f, "Date", "Thu, 01 Jan 2026 00:00:00 GMT");
  assert_int_equal(verify("GET", "/videos/k?Signature=x", &f, NULL, T0, &err),
                   VS_SIGV4_BAD_PARAMS);
  assert_non_null(strstr(err.msg, "not both"));
  assert_int_equal(verify("GET", "/videos/k?X-Amz-Signature=x", &f, NULL, T0,
                          &err), VS_SIGV4_BAD_PARAMS);
  assert_non_null(strstr(err.msg, "not both"));
}

static void query_refusals(void **state)
{
  fake f = {0};
  vs_err err;
  (void)state;
  assert_int_equal(verify("GET", "/v/k?AWSAccessKeyId=" KEY_ID "&Expires=9",
                          &f, NULL, T0, &err), VS_SIGV4_BAD_PARAMS);
  assert_non_null(strstr(err.msg, "Signature"));
  assert_int_equal(verify("GET", "/v/k?Signature=AAAAAAAAAAAAAAAAAAAAAAAAAAA"
                          "%3D&Expires=9", &f, NULL, T0, &err),
                   VS_SIGV4_BAD_PARAMS);
  assert_non_null(strstr(err.msg, "AWSAccessKeyId"));
  assert_int_equal(verify("GET", "/v/k?AWSAccessKeyId=" KEY_ID "&Signature="
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D&Expires=soon", &f,
                          NULL, T0, &err), VS_SIGV4_BAD_PARAMS);
  assert_int_equal(verify("GET", "/v/k?AWSAccessKeyId=" KEY_ID "&Signature="
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D&Expires=1&Expires=2",
                          &f, NULL, T0, &err), VS_SIGV4_BAD_PARAMS);
  assert_int_equal(verify("GET", "/v/k?AWSAccessKeyId=" KEY_ID "&Signature="
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D&Expires=%zz", &f,
                          NULL, T0, &err), VS_SIGV4_BAD_PARAMS);
  assert_int_equal(verify("GET", "/v/k?AWSAccessKeyId=NOPE&Signature="
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D&Expires=9999999999",
                          &f, NULL, T0, &err), VS_SIGV4_UNKNOWN_KEY);
  assert_int_equal(verify("GET", "/v/k?AWSAccessKeyId=" KEY_ID "&Signature="
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D&Expires=9999999999",
                          &f, NULL, T0, &err), VS_SIGV4_BAD_SIGNATURE);
  assert_int_equal(verify("GET", "/v/k", &f, NULL, T0, &err),
                   VS_SIGV4_MISSING);
}

static void dispatch(void **state)
{
  (void)state;
  assert_int_equal(vs_sigv2_present("/b/k", "AWS K:s"), VS_SIGV2_HEADER);
  assert_int_equal(vs_sigv2_present("/b/k", "  AWS K:s"), VS_SIGV2_HEADER);
  assert_int_equal(vs_sigv2_present("/b/k", "AWS4-HMAC-SHA256 Cred"), 0);
  assert_int_equal(vs_sigv2_present("/b/k?Signature=x", NULL),
                   VS_SIGV2_QUERY);
  assert_int_equal(vs_sigv2_present("/b/k?a=1&AWSAccessKeyId=x", NULL),
                   VS_SIGV2_QUERY);
  assert_int_equal(vs_sigv2_present("/b/k?Signature=x&X-Amz-Signature=y",
                                    NULL), 0);
  assert_int_equal(vs_sigv2_present("/b/k?X-Amz-Credential=y&Signature=x",
                                    NULL), 0);
  assert_int_equal(vs_sigv2_present("/b/k?Signatures=x&Expires=1", NULL), 0);
  assert_int_equal(vs_sigv2_present("/b/k", NULL), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(doc_object_get),
    cmocka_unit_test(doc_object_put),
    cmocka_unit_test(doc_list),
    cmocka_unit_test(doc_fetch_acl),
    cmocka_unit_test(doc_delete_amz_date),
    cmocka_unit_test(doc_upload),
    cmocka_unit_test(doc_list_buckets_and_unicode),
    cmocka_unit_test(doc_query_string),
    cmocka_unit_test(botocore_urls),
    cmocka_unit_test(subresources),
    cmocka_unit_test(header_refusals),
    cmocka_unit_test(query_metadata_is_signed),
    cmocka_unit_test(malformed),
    cmocka_unit_test(query_refusals),
    cmocka_unit_test(dispatch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
