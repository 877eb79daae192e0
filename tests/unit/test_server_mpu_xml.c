/* server: CompleteMultipartUpload's body (mpu_xml.c on xml_in.c), row by
 * row: what boto3, the aws cli and rclone send parses to the parts they
 * list; every deviation from the shape is MalformedXML (-1), with the
 * reason in the message; nothing is held on failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "server/mpu_xml.h"

#define NS "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/" \
           "2006-03-01/\">"
#define END "</CompleteMultipartUpload>"
#define E1 "0cc175b9c0f1b6a831c399e269772661"
#define E2 "92EB5FFEE6AE2FEC3AD71C777531578F"
#define P(n, e) "<Part><PartNumber>" #n "</PartNumber><ETag>" e "</ETag></Part>"

static int parse(const char *body, size_t max, vs__mpu_part **p, size_t *n,
                 char *msg)
{
  return vs__mpu_complete_parse(body, strlen(body), max, p, n, msg, 200);
}

static void what_clients_send(void **state)
{
  vs__mpu_part *p;
  size_t n;
  char msg[200];
  (void)state;
  /* boto3: a declaration, quoted ETags, checksums */
  assert_int_equal(parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" NS
                         "<Part><ETag>\"" E1 "\"</ETag><PartNumber>1"
                         "</PartNumber><ChecksumCRC32>6Qjnfw==</ChecksumCRC32>"
                         "</Part>" P(2, "&quot;" E2 "&quot;") END, 10, &p,
                         &n, msg), 0);
  assert_int_equal(n, 2);
  assert_int_equal(p[0].ref.number, 1);
  assert_string_equal(p[0].ref.etag, E1);
  assert_string_equal(p[0].checksum_alg, "crc32");
  assert_string_equal(p[0].ref.checksum, "6Qjnfw==");
  assert_int_equal(p[1].ref.number, 2);
  assert_string_equal(p[1].ref.etag, "92eb5ffee6ae2fec3ad71c777531578f");
  assert_string_equal(p[1].checksum_alg, "");
  free(p);
  /* white space between elements, bare ETags, numbers as sent */
  assert_int_equal(parse(" \n" NS "\n  " P(9, E1) "\n  " P(3, E1) "\n" END
                         "\n", 10, &p, &n, msg), 0);
  assert_int_equal(n, 2);
  assert_int_equal(p[0].ref.number, 9);
  assert_int_equal(p[1].ref.number, 3);
  free(p);
  /* an ETag that is no MD5 matches no part: "" */
  assert_int_equal(parse(NS P(1, "\"abc\"") END, 10, &p, &n, msg), 0);
  assert_string_equal(p[0].ref.etag, "");
  free(p);
  assert_int_equal(parse(NS P(1, E1 "-2") END, 10, &p, &n, msg), 0);
  assert_string_equal(p[0].ref.etag, "");
  free(p);
}

static void malformed(void **state)
{
  static const char *const rows[] = {
    "", " ", NS, NS END, "<CompleteMultipartUpload/>", "<Other>" END,
    NS "<Part></Part>" END,                               /* no fields */
    NS "<Part><PartNumber>1</PartNumber></Part>" END,     /* no ETag */
    NS "<Part><ETag>" E1 "</ETag></Part>" END,            /* no number */
    NS "<Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber><ETag>"
       E1 "</ETag></Part>" END,                           /* repeated */
    NS "<Part><PartNumber>-1</PartNumber><ETag>" E1 "</ETag></Part>" END,
    NS "<Part><PartNumber>1x</PartNumber><ETag>" E1 "</ETag></Part>" END,
    NS "<Part><PartNumber>123456</PartNumber><ETag>" E1 "</ETag></Part>" END,
    NS "<Part><PartNumber></PartNumber><ETag>" E1 "</ETag></Part>" END,
    NS "<Part><PartNumber>1</PartNumber><ETag>" E1 "</ETag><Size>5</Size>"
       "</Part>" END,                                     /* unknown */
    NS "<Part><PartNumber>1</PartNumber><ETag>" E1 "</ETag>"
       "<ChecksumCRC32>a</ChecksumCRC32><ChecksumCRC32C>b</ChecksumCRC32C>"
       "</Part>" END,                                     /* two checksums */
    NS "<Part><PartNumber>1</PartNumber><ETag/></Part>" END,
    NS "<Part x=\"1\"><PartNumber>1</PartNumber><ETag>" E1 "</ETag></Part>"
       END,                                               /* attribute */
    NS P(1, E1) "<Upload/>" END, NS P(1, E1) END "<x/>", NS P(1, E1),
    NS "<!-- c -->" P(1, E1) END, NS "<![CDATA[x]]>" P(1, E1) END,
    "<!DOCTYPE x [<!ENTITY a \"b\">]>" NS P(1, E1) END,
    NS "<Part><PartNumber>1</PartNumber><ETag>&bogus;</ETag></Part>" END,
    NS "<Part><PartNumber>1</PartNumber><ETag>&#0;</ETag></Part>" END,
    NS "text" P(1, E1) END, NS P(1, E1) P(2, E1) P(3, E1) END, /* > max */
  };
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    vs__mpu_part *p = (vs__mpu_part *)8;
    size_t n = 7;
    char msg[200] = "";
    int rc = parse(rows[i], 2, &p, &n, msg);
    if(rc != -1)
      fail_msg("row %zu parsed (%d): %s", i, rc, rows[i]);
    assert_null(p);
    assert_int_equal(n, 0);
    assert_true(strlen(msg) > 0);
  }
}

static void long_text_is_refused(void **state)
{
  char *body = malloc(4096);
  vs__mpu_part *p;
  size_t n;
  char msg[200];
  (void)state;
  snprintf(body, 4096, NS "<Part><PartNumber>1</PartNumber><ETag>%0*d"
           "</ETag></Part>" END, 3000, 0);
  assert_int_equal(parse(body, 10, &p, &n, msg), -1);
  free(body);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(what_clients_send),
    cmocka_unit_test(malformed),
    cmocka_unit_test(long_text_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
