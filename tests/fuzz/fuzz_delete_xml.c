/* Fuzz target: DeleteObjects' body (vs__delete_parse, src/server/
 * delete_xml.c), the <Delete> document a client sends.
 *
 * Input: the body itself. Invariants: the answer is 0, -1, -2 or -3; the
 * message is a NUL-terminated string within its buffer, set on failure;
 * on success 1..max objects, each key NUL-terminated at key_len, at most
 * VS__DEL_TEXT_MAX bytes, nothing held on failure. And a round trip: the
 * input's first bytes (no NUL) as a key, escaped with the five entities
 * or character references, in the document boto3 sends (with and without
 * a declaration, Quiet and a VersionId), parse back to exactly that key. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/delete_xml.h"

#define MAX 4

static void check_one(const char *body, size_t n)
{
  vs__del_req d;
  char msg[256];
  size_t i;
  int rc;
  memset(msg, 'x', sizeof(msg));
  rc = vs__delete_parse(body, n, MAX, &d, msg, sizeof(msg));
  if(rc != 0 && rc != -1 && rc != -2 && rc != -3)
    abort();
  if(!memchr(msg, 0, sizeof(msg)))
    abort();
  if(rc) {
    if(d.n || d.items || !msg[0])
      abort();
    return;
  }
  if(d.n < 1 || d.n > MAX)
    abort();
  for(i = 0; i < d.n; i++)
    if(!d.items[i].key || d.items[i].key_len > VS__DEL_TEXT_MAX ||
       d.items[i].key[d.items[i].key_len] != 0 ||
       (d.items[i].vid && strlen(d.items[i].vid) > VS__DEL_TEXT_MAX))
      abort();
  vs__delete_req_free(&d);
}

/* key escaped into out: entities for markup, and every byte below 0x80
 * as a character reference when numeric (CR, TAB and others too). */
static size_t escape(const char *key, size_t n, int numeric, char *out)
{
  size_t i, o = 0;
  for(i = 0; i < n; i++) {
    unsigned char c = (unsigned char)key[i];
    if(numeric && c < 0x80)
      o += (size_t)sprintf(out + o, i % 2 ? "&#%u;" : "&#x%X;", c);
    else if(c == '<')
      o += (size_t)sprintf(out + o, "&lt;");
    else if(c == '>')
      o += (size_t)sprintf(out + o, "&gt;");
    else if(c == '&')
      o += (size_t)sprintf(out + o, "&amp;");
    else if(c == '"')
      o += (size_t)sprintf(out + o, "&quot;");
    else if(c == '\'')
      o += (size_t)sprintf(out + o, "&apos;");
    else if(c == '\r' || c == '\t' || c == '\n' || c == ' ')
      o += (size_t)sprintf(out + o, "&#%u;", c); /* kept as sent */
    else
      out[o++] = (char)c;
  }
  out[o] = 0;
  return o;
}

static void round_trip(const uint8_t *data, size_t size)
{
  size_t n = size > 300 ? 300 : size, len;
  char *esc, *body;
  vs__del_req d;
  char msg[256];
  int form;
  if(memchr(data, 0, n) || !n)
    return;
  esc = malloc(n * 8 + 1);
  body = malloc(n * 8 + 512);
  if(!esc || !body)
    abort();
  for(form = 0; form < 4; form++) {
    escape((const char *)data, n, form & 1, esc);
    len = (size_t)sprintf(body, "%s<Delete xmlns=\"http://s3.amazonaws.com/"
                          "doc/2006-03-01/\">%s<Object><Key>%s</Key>%s"
                          "</Object><Object> <Key>b</Key> </Object></Delete>",
                          form & 2 ? "<?xml version=\"1.0\" encoding=\"UTF-8\""
                                     "?>\n" : "",
                          form & 2 ? "<Quiet>true</Quiet>" : "", esc,
                          form & 1 ? "<VersionId>v</VersionId>" : "");
    if(vs__delete_parse(body, len, MAX, &d, msg, sizeof(msg)) || d.n != 2 ||
       d.items[0].key_len != n || memcmp(d.items[0].key, data, n) ||
       strcmp(d.items[1].key, "b") || d.quiet != !!(form & 2) ||
       !(form & 1) != !d.items[0].vid)
      abort();
    vs__delete_req_free(&d);
  }
  free(esc);
  free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  check_one((const char *)data, size);
  round_trip(data, size);
  return 0;
}
