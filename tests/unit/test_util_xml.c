/* util/xml: the one escaper of the sink's XML answers (errors, listings,
 * DeleteObjects results): entities, control bytes, encoding-type=url. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/xml.h"

/* b holds exactly want (want_len bytes); frees b. */
static void expect(vs_buf *b, const char *want, size_t want_len)
{
  assert_false(b->failed);
  assert_int_equal(b->len, want_len);
  assert_memory_equal(b->data, want, want_len);
  vs_buf_free(b);
}

static void text_is(const char *s, size_t n, int url, const char *want)
{
  vs_buf b = VS_BUF_INIT;
  vs_xml_text(&b, s, n, url);
  expect(&b, want, strlen(want));
}

static void test_entities(void **state)
{
  (void)state;
  text_is("a<b>&\"c'd", 9, 0, "a&lt;b&gt;&amp;&quot;c&apos;d");
  text_is("&amp;", 5, 0, "&amp;amp;"); /* escaped once more, never left */
  text_is("plain/key.mp4", 13, 0, "plain/key.mp4");
  /* UTF-8 passes byte for byte */
  text_is("vid\xc3\xa9o \xe2\x82\xac", 10, 0, "vid\xc3\xa9o \xe2\x82\xac");
  text_is("", 0, 0, "");
}

/* XML 1.0 cannot carry C0 controls other than tab, LF and CR in any form,
 * not even as character references: each becomes '?'. DEL too. */
static void test_control_bytes(void **state)
{
  char in[34], want[34];
  unsigned c;
  (void)state;
  for(c = 0; c < 0x20; c++) {
    in[c] = (char)c;
    want[c] = c == '\t' || c == '\n' || c == '\r' ? (char)c : '?';
  }
  in[32] = 0x7f;
  want[32] = '?';
  in[33] = ' ';
  want[33] = ' ';
  {
    vs_buf b = VS_BUF_INIT;
    vs_xml_text(&b, in, sizeof(in), 0); /* n counts, a NUL does not stop */
    expect(&b, want, sizeof(want));
  }
}

/* encoding-type=url: every byte but A-Z a-z 0-9 - _ . ~ / as %XX (upper
 * case), so '+' and ' ' survive any URL decoder; no entities then. */
static void test_url_mode(void **state)
{
  vs_buf b = VS_BUF_INIT;
  char want[256 * 3 + 1], *w = want;
  char in[256];
  unsigned c;
  (void)state;
  for(c = 0; c < 256; c++) {
    int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
               (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
               c == '~' || c == '/';
    in[c] = (char)c;
    if(keep)
      *w++ = (char)c;
    else
      w += sprintf(w, "%%%02X", c);
  }
  vs_xml_text(&b, in, sizeof(in), 1);
  expect(&b, want, (size_t)(w - want));
  text_is("a b+c&<d>/\xc3\xa9", 12, 1, "a%20b%2Bc%26%3Cd%3E/%C3%A9");
}

static void test_elem(void **state)
{
  vs_buf b = VS_BUF_INIT;
  (void)state;
  vs_xml_elem(&b, "Key", "a&b", 0);
  vs_xml_elem(&b, "Prefix", "a b", 1);
  vs_xml_elem(&b, "Marker", NULL, 0); /* NULL is empty */
  vs_xml_elem(&b, "Message", "", 0);
  expect(&b, "<Key>a&amp;b</Key><Prefix>a%20b</Prefix><Marker></Marker>"
             "<Message></Message>",
         strlen("<Key>a&amp;b</Key><Prefix>a%20b</Prefix><Marker></Marker>"
                "<Message></Message>"));
  assert_string_equal(VS_XML_HEAD,
                      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_entities),
    cmocka_unit_test(test_control_bytes),
    cmocka_unit_test(test_url_mode),
    cmocka_unit_test(test_elem),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
