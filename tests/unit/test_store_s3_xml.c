/* store_s3: the parsers of S3's XML answers (src/store/s3/s3_xml_parse.c on
 * the reader of s3_xml.c), fed the documents AWS, Ceph RGW and MinIO send
 * (unknown elements, attributes, namespaces, entities) and broken ones:
 * every field lands where it belongs, CompleteMultipartUpload's 200 with an
 * <Error> is that error, and anything malformed is VS_ERR_NET with the
 * reason, nothing held. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/s3/s3_int.h"

#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

static void expect_in(const char *needle, const char *hay)
{
  if(!strstr(hay, needle))
    fail_msg("'%s' not in '%s'", needle, hay);
}

/* ---- errors ------------------------------------------------------------- */

static void test_error_document(void **state)
{
  char code[64], msg[64];
  (void)state;
  const char *doc = DECL "<Error><Code>NoSuchKey</Code><Message>The key "
                    "&quot;a&amp;b&quot;\tdoes not\nexist</Message><Key>a&amp;b"
                    "</Key><RequestId>tx1</RequestId><HostId/></Error>";
  assert_int_equal(vs__s3_parse_error(doc, strlen(doc), code, sizeof(code),
                                      msg, sizeof(msg)), 1);
  assert_string_equal(code, "NoSuchKey");
  assert_string_equal(msg, "The key \"a&b\" does not exist");
  /* a message longer than the buffer is cut, the code kept */
  assert_int_equal(vs__s3_parse_error(doc, strlen(doc), code, sizeof(code),
                                      msg, 8), 1);
  assert_string_equal(msg, "The key");
}

static void expect_no_error(const char *doc)
{
  char code[64] = "x", msg[64] = "x";
  assert_int_equal(vs__s3_parse_error(doc, strlen(doc), code, sizeof(code),
                                      msg, sizeof(msg)), 0);
  assert_string_equal(code, "");
}

static void test_error_refused(void **state)
{
  (void)state;
  expect_no_error("");
  expect_no_error("Internal Server Error");
  expect_no_error("<Error><Code>No<script>Key</Code></Error>");
  expect_no_error("<Error><Code>Bad Code</Code></Error>");   /* a space */
  expect_no_error("<Error><Code>NoSuchKey</Code>");          /* cut short */
  expect_no_error("<Error><Code>NoSuchKey</Code></Error><x/>");
  expect_no_error("<ListBucketResult><Code>A</Code></ListBucketResult>");
  expect_no_error("<Error><Message>no code</Message></Error>");
}

/* ---- multipart ---------------------------------------------------------- */

static void test_create(void **state)
{
  char id[VS_S3_UPLOAD_ID_MAX];
  vs_err err = {0};
  const char *ok = DECL "<InitiateMultipartUploadResult " NS "><Bucket>b"
                   "</Bucket><Key>k</Key><UploadId>2~abc_DEF-1.x</UploadId>"
                   "</InitiateMultipartUploadResult>";
  const char *none = "<InitiateMultipartUploadResult><Bucket>b</Bucket>"
                     "</InitiateMultipartUploadResult>";
  const char *other = "<CompleteMultipartUploadResult><UploadId>x</UploadId>"
                      "</CompleteMultipartUploadResult>";
  (void)state;
  assert_int_equal(vs__s3_parse_create(ok, strlen(ok), id, sizeof(id), &err),
                   VS_OK);
  assert_string_equal(id, "2~abc_DEF-1.x");
  assert_int_equal(vs__s3_parse_create(none, strlen(none), id, sizeof(id),
                                       &err), VS_ERR_NET);
  expect_in("no UploadId", err.msg);
  assert_string_equal(id, "");
  assert_int_equal(vs__s3_parse_create(other, strlen(other), id, sizeof(id),
                                       &err), VS_ERR_NET);
  expect_in("unexpected root element", err.msg);
  /* an id that does not fit is refused, not cut */
  assert_int_equal(vs__s3_parse_create(ok, strlen(ok), id, 8, &err),
                   VS_ERR_NET);
  expect_in("too long", err.msg);
}

static void test_complete(void **state)
{
  char etag[VS_S3_ETAG_MAX];
  vs_err err = {0};
  /* AWS sends white space while it works, before the document */
  const char *ok = "  \n  \n" DECL "<CompleteMultipartUploadResult " NS ">"
                   "<Location>http://h/b/k</Location><Bucket>b</Bucket><Key>k"
                   "</Key><ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;"
                   "</ETag><ChecksumCRC32>AAAA</ChecksumCRC32>"
                   "</CompleteMultipartUploadResult>";
  const char *rgw = "<CompleteMultipartUploadResult " NS "><Location>"
                    "localhost/b/k</Location><Bucket>b</Bucket><Key>k</Key>"
                    "<ETag></ETag></CompleteMultipartUploadResult>";
  (void)state;
  assert_int_equal(vs__s3_parse_complete(ok, strlen(ok), etag, sizeof(etag),
                                         &err), VS_OK);
  assert_string_equal(etag, "3858f62230ac3c915f300c664312c11f-9");
  assert_int_equal(vs__s3_parse_complete(rgw, strlen(rgw), etag,
                                         sizeof(etag), &err), VS_OK);
  assert_string_equal(etag, "");
}

/* S3 may answer CompleteMultipartUpload 200 and then an error. */
static void test_complete_200_with_error(void **state)
{
  char etag[VS_S3_ETAG_MAX] = "x";
  vs_err err = {0};
  const char *internal = "      " DECL "<Error><Code>InternalError</Code>"
                         "<Message>We encountered an internal error. Please "
                         "try again.</Message><RequestId>656c76696e67</"
                         "RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2"
                         "Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>";
  const char *gone = "<Error><Code>NoSuchUpload</Code></Error>";
  const char *part = "<Error><Code>InvalidPart</Code><Message>One or more of "
                     "the specified parts could not be found.</Message>"
                     "</Error>";
  const char *nocode = "<Error><Message>?</Message></Error>";
  (void)state;
  assert_int_equal(vs__s3_parse_complete(internal, strlen(internal), etag,
                                         sizeof(etag), &err), VS_ERR_NET);
  assert_string_equal(etag, "");
  expect_in("HTTP 200 with error InternalError: We encountered an internal "
            "error", err.msg);
  assert_int_equal(vs__s3_parse_complete(gone, strlen(gone), etag,
                                         sizeof(etag), &err),
                   VS_ERR_NOTFOUND);
  expect_in("NoSuchUpload", err.msg);
  assert_int_equal(vs__s3_parse_complete(part, strlen(part), etag,
                                         sizeof(etag), &err), VS_ERR_INVALID);
  expect_in("InvalidPart: One or more", err.msg);
  assert_int_equal(vs__s3_parse_complete(nocode, strlen(nocode), etag,
                                         sizeof(etag), &err), VS_ERR_NET);
  expect_in("an Error without a Code", err.msg);
}

/* CopyObject and UploadPartCopy: a result after RGW's keep-alive white
 * space, and a 200 that is an error (S3 sends the status before the copy
 * ends). */
static void test_copy_results(void **state)
{
  char etag[VS_S3_ETAG_MAX] = "x";
  vs_err err = {0};
  const char *ok = "\n \n" DECL "<CopyObjectResult xmlns=\"http://s3.amazonaws."
                   "com/doc/2006-03-01/\"><LastModified>2026-12-02T18:00:00."
                   "000Z</LastModified><ETag>&quot;9e107d9d372bb6826bd81d3542"
                   "a419d6&quot;</ETag></CopyObjectResult>";
  const char *part = "<CopyPartResult><ETag>\"3858f62230ac3c915f300c664312c11"
                     "f\"</ETag></CopyPartResult>";
  const char *failed = "   " DECL "<Error><Code>SlowDown</Code><Message>Please "
                       "reduce your request rate.</Message></Error>";
  (void)state;
  assert_int_equal(vs__s3_parse_result(ok, strlen(ok), "CopyObjectResult",
                                       "CopyObject", etag, sizeof(etag),
                                       &err), VS_OK);
  assert_string_equal(etag, "9e107d9d372bb6826bd81d3542a419d6");
  assert_int_equal(vs__s3_parse_result(part, strlen(part), "CopyPartResult",
                                       "UploadPartCopy", etag, sizeof(etag),
                                       &err), VS_OK);
  assert_string_equal(etag, "3858f62230ac3c915f300c664312c11f");
  assert_int_equal(vs__s3_parse_result(failed, strlen(failed),
                                       "CopyObjectResult", "CopyObject", etag,
                                       sizeof(etag), &err), VS_ERR_NET);
  assert_string_equal(etag, "");
  expect_in("HTTP 200 with error SlowDown", err.msg);
  /* the wrong result is no result */
  assert_int_equal(vs__s3_parse_result(part, strlen(part), "CopyObjectResult",
                                       "CopyObject", etag, sizeof(etag),
                                       &err), VS_ERR_NET);
  expect_in("malformed CopyObject answer", err.msg);
}

/* ---- malformed documents, any parser ------------------------------------ */

static void expect_malformed(const char *doc, const char *why)
{
  char etag[VS_S3_ETAG_MAX];
  vs_s3_list_page p;
  vs_err err = {0};
  assert_int_equal(vs__s3_parse_complete(doc, strlen(doc), etag, sizeof(etag),
                                         &err), VS_ERR_NET);
  expect_in("malformed CompleteMultipartUpload answer", err.msg);
  if(why)
    expect_in(why, err.msg);
  assert_int_equal(vs__s3_parse_list(doc, strlen(doc), &p, &err), VS_ERR_NET);
  assert_null(p.entries);
  assert_null(p.prefixes);
  assert_null(p.next_token);
}

#define CMU "<CompleteMultipartUploadResult>"
#define CMU_END "</CompleteMultipartUploadResult>"

static void test_malformed(void **state)
{
  char deep[2048];
  int i, n = 0;
  (void)state;
  expect_malformed("", "expected an element");
  expect_malformed("   ", NULL);
  expect_malformed("<html><body>502 Bad Gateway</body></html>",
                   "unexpected root element");
  expect_malformed(CMU "<ETag>abc</ETag>", "unexpected end");
  expect_malformed(CMU "<ETag>abc</Etag>" CMU_END, "element not closed");
  expect_malformed(CMU "<ETag>a&bogus;c</ETag>" CMU_END, "bad entity");
  expect_malformed(CMU "<ETag>a&#0;c</ETag>" CMU_END, "bad entity");
  expect_malformed(CMU "<ETag>a&#xD800;c</ETag>" CMU_END, "bad entity");
  expect_malformed(CMU "<ETag><![CDATA[x]]></ETag>" CMU_END, NULL);
  expect_malformed("<!DOCTYPE x [<!ENTITY a \"b\">]>" CMU CMU_END,
                   "DTD or CDATA");
  expect_malformed(CMU "<!-- never closed " CMU_END, "unterminated comment");
  expect_malformed(CMU CMU_END "<more/>", "content after the root element");
  expect_malformed(CMU "<ETag a=b>x</ETag>" CMU_END, "not quoted");
  expect_malformed(CMU "<ETag a=\"b>x</ETag>" CMU_END,
                   "unterminated attribute");
  expect_malformed(CMU "<>x</>" CMU_END, "bad element name");
  expect_malformed("<CompleteMultipartUploadResult/>", "empty root element");
  /* an unknown element nested past the bound */
  n += sprintf(deep + n, CMU);
  for(i = 0; i < 40; i++)
    n += sprintf(deep + n, "<a>");
  expect_malformed(deep, "nested too deeply");
}

static void test_comments_and_attributes(void **state)
{
  char etag[VS_S3_ETAG_MAX];
  vs_err err = {0};
  const char *doc = "<?xml version='1.0'?><!-- hi --><CompleteMultipartUpload"
                    "Result xmlns:x='y'><!-- a <b> c --><Owner><ID a=\"1\" "
                    "b='2'>o</ID><Deep><Deeper/>text<!-- c -->more<?pi x?>"
                    "again<X>&lt;</X></Deep></Owner>"
                    "<ETag >&#x65;&#116;ag&#x1F600;</ETag ></CompleteMultipart"
                    "UploadResult>\n";
  (void)state;
  assert_int_equal(vs__s3_parse_complete(doc, strlen(doc), etag, sizeof(etag),
                                         &err), VS_OK);
  assert_string_equal(etag, "etag\xf0\x9f\x98\x80");
}

/* ---- listings ----------------------------------------------------------- */

static void test_list_v2(void **state)
{
  vs_s3_list_page p;
  vs_err err = {0};
  const char *doc = DECL "<ListBucketResult " NS "><Name>b</Name><Prefix>l/"
    "</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><Delimiter>/"
    "</Delimiter><IsTruncated>true</IsTruncated><Contents><Key>l/a &amp; b"
    "</Key><LastModified>2026-12-02T11:26:19.123Z</LastModified><ETag>"
    "&quot;900150983cd24fb0d6963f7d28e17f72&quot;</ETag><ChecksumAlgorithm>"
    "CRC32</ChecksumAlgorithm><Size>3</Size><Owner><ID>o</ID><DisplayName>d"
    "</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>l/big</Key><LastModified>2026-12-02T11:26:20Z"
    "</LastModified><ETag>\"x-2\"</ETag><Size>18446744073709551615</Size>"
    "</Contents><CommonPrefixes><Prefix>l/d/</Prefix></CommonPrefixes>"
    "<CommonPrefixes><Prefix>l/e/</Prefix></CommonPrefixes>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
    "</NextContinuationToken></ListBucketResult>";
  (void)state;
  assert_int_equal(vs__s3_parse_list(doc, strlen(doc), &p, &err), VS_OK);
  assert_int_equal(p.n, 2);
  assert_string_equal(p.entries[0].key, "l/a & b");
  assert_true(p.entries[0].size == 3);
  assert_string_equal(p.entries[0].etag, "900150983cd24fb0d6963f7d28e17f72");
  assert_true(p.entries[0].mtime_ms == 1796210779123LL);
  assert_int_equal(p.entries[0].delete_marker, 0);
  assert_string_equal(p.entries[1].key, "l/big");
  assert_true(p.entries[1].size == UINT64_MAX);
  assert_string_equal(p.entries[1].etag, "x-2");
  assert_true(p.entries[1].mtime_ms == 1796210780000LL);
  assert_int_equal(p.n_prefixes, 2);
  assert_string_equal(p.prefixes[0], "l/d/");
  assert_string_equal(p.prefixes[1], "l/e/");
  assert_int_equal(p.truncated, 1);
  assert_string_equal(p.next_token,
                      "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  vs_s3_list_page_free(&p);
  vs_s3_list_page_free(&p); /* idempotent */
}

static void expect_bad_list(const char *doc, const char *why)
{
  vs_s3_list_page p;
  vs_err err = {0};
  assert_int_equal(vs__s3_parse_list(doc, strlen(doc), &p, &err), VS_ERR_NET);
  expect_in("malformed ListObjectsV2 answer", err.msg);
  expect_in(why, err.msg);
  assert_null(p.entries);
  assert_int_equal(p.n, 0);
}

#define LBR "<ListBucketResult>"
#define LBR_END "</ListBucketResult>"

static void test_list_v2_refused(void **state)
{
  vs_s3_list_page p;
  vs_err err = {0};
  const char *empty = LBR "<Name>b</Name><IsTruncated>false</IsTruncated>"
                      "<CommonPrefixes/>" LBR_END;
  (void)state;
  assert_int_equal(vs__s3_parse_list(empty, strlen(empty), &p, &err), VS_OK);
  assert_int_equal(p.n, 0);
  assert_int_equal(p.n_prefixes, 0);
  assert_int_equal(p.truncated, 0);
  vs_s3_list_page_free(&p);
  expect_bad_list(LBR "<IsTruncated>true</IsTruncated>" LBR_END,
                  "truncated without a marker");
  expect_bad_list(LBR "<IsTruncated>yes</IsTruncated>" LBR_END,
                  "bad IsTruncated");
  expect_bad_list(LBR "<Contents><Size>1</Size></Contents>" LBR_END,
                  "entry without a Key");
  expect_bad_list(LBR "<Contents><Key>k</Key><Size>-1</Size></Contents>"
                  LBR_END, "bad Size");
  expect_bad_list(LBR "<Contents><Key>k</Key><Size>18446744073709551616"
                  "</Size></Contents>" LBR_END, "bad Size");
  expect_bad_list(LBR "<Contents><Key>k</Key><LastModified>2026-13-01T00:00"
                  ":00Z</LastModified></Contents>" LBR_END,
                  "bad LastModified");
  expect_bad_list(LBR "<Contents><Key>k</Key><ETag>" "0123456789012345678901"
                  "2345678901234567890123456789012345678901234567890123</ETag>"
                  "</Contents>" LBR_END, "text too long");
  /* a listing of the other kind */
  expect_bad_list("<ListVersionsResult></ListVersionsResult>",
                  "unexpected root element");
  /* entries parsed before the fault are released too (valgrind) */
  expect_bad_list(LBR "<Contents><Key>a</Key></Contents><CommonPrefixes>"
                  "<Prefix>p/</Prefix></CommonPrefixes><NextContinuationToken>"
                  "t</NextContinuationToken><Contents><Key>b</Key><Size>x"
                  "</Size></Contents>" LBR_END, "bad Size");
}

static void test_list_versions(void **state)
{
  vs_s3_list_page p;
  vs_err err = {0};
  const char *doc = DECL "<ListVersionsResult " NS "><Name>b</Name><Prefix/>"
    "<KeyMarker/><VersionIdMarker/><NextKeyMarker>k2</NextKeyMarker>"
    "<NextVersionIdMarker>v-3</NextVersionIdMarker><MaxKeys>3</MaxKeys>"
    "<IsTruncated>true</IsTruncated><DeleteMarker><Key>k1</Key><VersionId>"
    "m-1</VersionId><IsLatest>true</IsLatest><LastModified>2026-01-01T00:00:"
    "00.000Z</LastModified><Owner><ID>o</ID></Owner></DeleteMarker><Version>"
    "<Key>k1</Key><VersionId>v-1</VersionId><IsLatest>false</IsLatest>"
    "<LastModified>2026-01-01T00:00:00.5Z</LastModified><ETag>&quot;e1&quot;"
    "</ETag><Size>10</Size><StorageClass>STANDARD</StorageClass></Version>"
    "<Version><Key>k2</Key><VersionId>null</VersionId><IsLatest>true"
    "</IsLatest><ETag>\"e2\"</ETag><Size>0</Size></Version>"
    "</ListVersionsResult>";
  const char *nomark = "<ListVersionsResult><IsTruncated>true</IsTruncated>"
                       "</ListVersionsResult>";
  (void)state;
  assert_int_equal(vs__s3_parse_versions(doc, strlen(doc), &p, &err), VS_OK);
  assert_int_equal(p.n, 3);
  assert_string_equal(p.entries[0].key, "k1");
  assert_int_equal(p.entries[0].delete_marker, 1);
  assert_int_equal(p.entries[0].is_latest, 1);
  assert_string_equal(p.entries[0].version_id, "m-1");
  assert_string_equal(p.entries[0].etag, "");
  assert_true(p.entries[0].mtime_ms == 1767225600000LL);
  assert_int_equal(p.entries[1].delete_marker, 0);
  assert_int_equal(p.entries[1].is_latest, 0);
  assert_string_equal(p.entries[1].version_id, "v-1");
  assert_string_equal(p.entries[1].etag, "e1");
  assert_true(p.entries[1].size == 10);
  assert_true(p.entries[1].mtime_ms == 1767225600500LL);
  assert_string_equal(p.entries[2].version_id, "null");
  assert_int_equal(p.truncated, 1);
  assert_string_equal(p.next_key_marker, "k2");
  assert_string_equal(p.next_version_marker, "v-3");
  assert_null(p.next_token);
  vs_s3_list_page_free(&p);
  assert_int_equal(vs__s3_parse_versions(nomark, strlen(nomark), &p, &err),
                   VS_ERR_NET);
  expect_in("malformed ListObjectVersions answer: truncated", err.msg);
  /* Contents belongs to ListObjectsV2: skipped here, not taken */
  nomark = "<ListVersionsResult><Contents><Key>x</Key></Contents>"
           "</ListVersionsResult>";
  assert_int_equal(vs__s3_parse_versions(nomark, strlen(nomark), &p, &err),
                   VS_OK);
  assert_int_equal(p.n, 0);
  vs_s3_list_page_free(&p);
}

/* encoding-type=url: names come form-encoded and are decoded, other
 * fields (tokens, version ids, ETags) are not. */
static void test_url_encoded(void **state)
{
  vs_s3_list_page p;
  vs_s3_uploads_page u;
  vs_err err = {0};
  const char *list = LBR "<Contents><Key>a+b%20c%01%2B%C3%A9</Key></Contents>"
    "<CommonPrefixes><Prefix>d%2F</Prefix></CommonPrefixes><EncodingType>url"
    "</EncodingType><IsTruncated>true</IsTruncated><NextContinuationToken>"
    "t%2B</NextContinuationToken>" LBR_END;
  const char *vers = "<ListVersionsResult><EncodingType>url</EncodingType>"
    "<IsTruncated>true</IsTruncated><NextKeyMarker>k%09</NextKeyMarker>"
    "<NextVersionIdMarker>v%2B</NextVersionIdMarker><Version><Key>k%09"
    "</Key><VersionId>v%2B</VersionId></Version></ListVersionsResult>";
  const char *ups = "<ListMultipartUploadsResult><EncodingType>url"
    "</EncodingType><NextKeyMarker>m+1</NextKeyMarker><Upload><Key>x%7Fy"
    "</Key><UploadId>u%2B</UploadId></Upload></ListMultipartUploadsResult>";
  (void)state;
  assert_int_equal(vs__s3_parse_list(list, strlen(list), &p, &err), VS_OK);
  assert_string_equal(p.entries[0].key, "a b c\x01+\xc3\xa9");
  assert_string_equal(p.prefixes[0], "d/");
  assert_string_equal(p.next_token, "t%2B");
  vs_s3_list_page_free(&p);
  assert_int_equal(vs__s3_parse_versions(vers, strlen(vers), &p, &err),
                   VS_OK);
  assert_string_equal(p.entries[0].key, "k\t");
  assert_string_equal(p.entries[0].version_id, "v%2B");
  assert_string_equal(p.next_key_marker, "k\t");
  assert_string_equal(p.next_version_marker, "v%2B");
  vs_s3_list_page_free(&p);
  assert_int_equal(vs__s3_parse_uploads(ups, strlen(ups), &u, &err), VS_OK);
  assert_string_equal(u.uploads[0].key, "x\x7fy");
  assert_string_equal(u.uploads[0].upload_id, "u%2B");
  assert_string_equal(u.next_key_marker, "m 1");
  vs_s3_uploads_page_free(&u);
  /* without EncodingType nothing is decoded */
  list = LBR "<Contents><Key>a+b%20</Key></Contents>" LBR_END;
  assert_int_equal(vs__s3_parse_list(list, strlen(list), &p, &err), VS_OK);
  assert_string_equal(p.entries[0].key, "a+b%20");
  vs_s3_list_page_free(&p);
  expect_bad_list(LBR "<EncodingType>url</EncodingType><Contents><Key>a%G1"
                  "</Key></Contents>" LBR_END, "bad %-escape");
  expect_bad_list(LBR "<Contents><Key>a%00b</Key></Contents><EncodingType>url"
                  "</EncodingType>" LBR_END, "bad %-escape");
  expect_bad_list(LBR "<EncodingType>url</EncodingType><Contents><Key>a%2"
                  "</Key></Contents>" LBR_END, "bad %-escape");
  expect_bad_list(LBR "<EncodingType>base64</EncodingType>" LBR_END,
                  "unknown EncodingType");
  ups = "<ListMultipartUploadsResult><EncodingType>url</EncodingType><Upload>"
        "<Key>%</Key><UploadId>u</UploadId></Upload>"
        "</ListMultipartUploadsResult>";
  assert_int_equal(vs__s3_parse_uploads(ups, strlen(ups), &u, &err),
                   VS_ERR_NET);
  assert_null(u.uploads);
}

static void test_uploads(void **state)
{
  vs_s3_uploads_page p;
  vs_err err = {0};
  const char *doc = DECL "<ListMultipartUploadsResult " NS "><Bucket>b"
    "</Bucket><KeyMarker/><UploadIdMarker/><NextKeyMarker>b.mp4"
    "</NextKeyMarker><NextUploadIdMarker>2~u2</NextUploadIdMarker><MaxUploads>"
    "2</MaxUploads><IsTruncated>true</IsTruncated><Upload><Key>a.mp4</Key>"
    "<UploadId>2~u1</UploadId><Initiator><ID>i</ID><DisplayName>d"
    "</DisplayName></Initiator><Owner><ID>o</ID></Owner><StorageClass>"
    "STANDARD</StorageClass><Initiated>2026-12-02T11:26:19.000Z</Initiated>"
    "</Upload><Upload><Key>b.mp4</Key><UploadId>2~u2</UploadId><Initiated>"
    "2026-12-02T11:26:20.250Z</Initiated></Upload></ListMultipartUploadsResult>";
  const char *none = "<ListMultipartUploadsResult><IsTruncated>false"
                     "</IsTruncated></ListMultipartUploadsResult>";
  const char *noid = "<ListMultipartUploadsResult><Upload><Key>a</Key>"
                     "</Upload></ListMultipartUploadsResult>";
  const char *badtime = "<ListMultipartUploadsResult><Upload><Key>a</Key>"
                        "<UploadId>u</UploadId><Initiated>yesterday</Initiated>"
                        "</Upload></ListMultipartUploadsResult>";
  (void)state;
  assert_int_equal(vs__s3_parse_uploads(doc, strlen(doc), &p, &err), VS_OK);
  assert_int_equal(p.n, 2);
  assert_string_equal(p.uploads[0].key, "a.mp4");
  assert_string_equal(p.uploads[0].upload_id, "2~u1");
  assert_true(p.uploads[0].initiated_ms == 1796210779000LL);
  assert_string_equal(p.uploads[1].key, "b.mp4");
  assert_true(p.uploads[1].initiated_ms == 1796210780250LL);
  assert_int_equal(p.truncated, 1);
  assert_string_equal(p.next_key_marker, "b.mp4");
  assert_string_equal(p.next_upload_id_marker, "2~u2");
  vs_s3_uploads_page_free(&p);
  assert_int_equal(vs__s3_parse_uploads(none, strlen(none), &p, &err), VS_OK);
  assert_int_equal(p.n, 0);
  assert_null(p.uploads);
  vs_s3_uploads_page_free(&p);
  assert_int_equal(vs__s3_parse_uploads(noid, strlen(noid), &p, &err),
                   VS_ERR_NET);
  expect_in("without a Key or UploadId", err.msg);
  assert_null(p.uploads);
  assert_int_equal(vs__s3_parse_uploads(badtime, strlen(badtime), &p, &err),
                   VS_ERR_NET);
  expect_in("bad Initiated", err.msg);
}

/* ---- GetBucketVersioning -------------------------------------------------- */

static void expect_versioning(const char *doc, int rc, int want)
{
  vs_err err = {0};
  int state = 99;
  assert_int_equal(vs__s3_parse_versioning(doc, strlen(doc), &state, &err),
                   rc);
  if(!rc)
    assert_int_equal(state, want);
  else
    expect_in("malformed GetBucketVersioning answer", err.msg);
}

/* ListParts: parts with quoted ETags, the truncation and its marker;
 * a part without a number, a bad size or another root is malformed. */
static void test_parts(void **state)
{
  vs_s3_parts_page p;
  vs_err err = {0};
  const char *ok = "<?xml version=\"1.0\"?><ListPartsResult xmlns=\"x\">"
    "<Bucket>b</Bucket><UploadId>u</UploadId><IsTruncated>true"
    "</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>"
    "<Part><PartNumber>1</PartNumber><ETag>&quot;aa&quot;</ETag>"
    "<Size>5242880</Size><LastModified>2026-12-02T11:26:19.123Z"
    "</LastModified></Part><Part><PartNumber>2</PartNumber><ETag>\"bb\""
    "</ETag><Size>7</Size><Extra><Deep/></Extra></Part></ListPartsResult>";
  const char *bad[] = {
    "<ListPartsResult><Part><Size>1</Size></Part></ListPartsResult>",
    "<ListPartsResult><Part><PartNumber>1</PartNumber><Size>-1</Size>"
    "</Part></ListPartsResult>",
    "<ListPartsResult><Part><PartNumber>x</PartNumber></Part>"
    "</ListPartsResult>",
    "<ListMultipartUploadsResult/>",
    "<ListPartsResult><Part>"};
  size_t i;
  (void)state;
  assert_int_equal(vs__s3_parse_parts(ok, strlen(ok), &p, &err), VS_OK);
  assert_int_equal(p.n, 2);
  assert_int_equal(p.truncated, 1);
  assert_int_equal(p.next_marker, 2);
  assert_int_equal(p.parts[0].number, 1);
  assert_string_equal(p.parts[0].etag, "aa");
  assert_int_equal(p.parts[0].size, 5242880);
  assert_int_equal(p.parts[0].mtime_ms, 1796210779123LL);
  assert_string_equal(p.parts[1].etag, "bb");
  assert_int_equal(p.parts[1].size, 7);
  vs_s3_parts_page_free(&p);
  for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(vs__s3_parse_parts(bad[i], strlen(bad[i]), &p, &err),
                     VS_ERR_NET);
    assert_null(p.parts);
    assert_non_null(strstr(err.msg, "ListParts"));
  }
}

static void test_versioning(void **state)
{
  (void)state;
  expect_versioning(DECL "<VersioningConfiguration " NS "><Status>Enabled"
                    "</Status></VersioningConfiguration>", VS_OK,
                    VS_S3_VERSIONING_ENABLED);
  expect_versioning("<VersioningConfiguration><MfaDelete>Disabled</MfaDelete>"
                    "<Status>Suspended</Status></VersioningConfiguration>",
                    VS_OK, VS_S3_VERSIONING_SUSPENDED);
  expect_versioning(DECL "<VersioningConfiguration " NS "/>", VS_OK,
                    VS_S3_VERSIONING_NEVER);
  expect_versioning("<VersioningConfiguration></VersioningConfiguration>",
                    VS_OK, VS_S3_VERSIONING_NEVER);
  expect_versioning("<VersioningConfiguration><Status>enabled</Status>"
                    "</VersioningConfiguration>", VS_ERR_NET, 0);
  expect_versioning("<VersioningConfiguration/><x/>", VS_ERR_NET, 0);
  expect_versioning("<Versioning><Status>Enabled</Status></Versioning>",
                    VS_ERR_NET, 0);
  expect_versioning("", VS_ERR_NET, 0);
}

static void test_times(void **state)
{
  int64_t ms = 0;
  (void)state;
  assert_int_equal(vs__s3_parse_time("1970-01-01T00:00:00Z", &ms), 0);
  assert_true(ms == 0);
  assert_int_equal(vs__s3_parse_time("2026-12-02T11:26:19.1Z", &ms), 0);
  assert_true(ms == 1796210779100LL);
  assert_int_equal(vs__s3_parse_time("2026-12-02T11:26:19.123456Z", &ms), 0);
  assert_true(ms == 1796210779123LL);
  assert_int_equal(vs__s3_parse_time("2026-12-02T11:26:19", &ms), -1);
  assert_int_equal(vs__s3_parse_time("2026-12-02T11:26:19+01:00", &ms), -1);
  assert_int_equal(vs__s3_parse_time("2026-12-02 11:26:19Z", &ms), -1);
  assert_int_equal(vs__s3_parse_time("Wed, 02 Dec 2026 11:26:19 GMT", &ms),
                   -1);
  assert_int_equal(vs__s3_parse_time("", &ms), -1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_error_document),
    cmocka_unit_test(test_error_refused),
    cmocka_unit_test(test_create),
    cmocka_unit_test(test_complete),
    cmocka_unit_test(test_complete_200_with_error),
    cmocka_unit_test(test_copy_results),
    cmocka_unit_test(test_malformed),
    cmocka_unit_test(test_comments_and_attributes),
    cmocka_unit_test(test_list_v2),
    cmocka_unit_test(test_list_v2_refused),
    cmocka_unit_test(test_list_versions),
    cmocka_unit_test(test_url_encoded),
    cmocka_unit_test(test_uploads),
    cmocka_unit_test(test_parts),
    cmocka_unit_test(test_versioning),
    cmocka_unit_test(test_times),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
