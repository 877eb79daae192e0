/* Fuzz target: the route table (vs__route_classify, src/server/router.c
 * and router_rules.c), which decides what every request is.
 *
 * Input: "METHOD\nURI\nName: value\n..." (any bytes). Invariants: the
 * answer is a known operation or a refusal with an S3 code and a message
 * NUL-terminated in its buffer; the same request classifies the same way
 * twice; and the one that matters most: nothing is taken for a PutObject
 * (a plain PUT of its body, the operation that can replace a video) when
 * it carries a sub-resource of another operation or x-amz-copy-source.
 * vs__route_host_bucket: a bucket it finds is lower-case and fits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/router.h"

#define HDR_MAX 8

typedef struct hdrs {
  char *name[HDR_MAX], *value[HDR_MAX];
  int n;
} hdrs;

static const char *lookup(void *ctx, const char *name)
{
  hdrs *h = ctx;
  int i;
  for(i = 0; i < h->n; i++)
    if(!strcasecmp(h->name[i], name))
      return h->value[i];
  return NULL;
}

/* The query names a parameter (exactly, before '=' or '&'). */
static int has_param(const char *uri, const char *name)
{
  const char *q = strchr(uri, '?');
  size_t n = strlen(name);
  while(q) {
    q++;
    if(!strncmp(q, name, n) && (q[n] == 0 || q[n] == '=' || q[n] == '&'))
      return 1;
    q = strchr(q, '&');
  }
  return 0;
}

static void check_put(const char *uri, hdrs *h)
{
  static const char *const subs[] = {"uploadId", "partNumber", "uploads",
                                     "acl", "tagging", "retention",
                                     "legal-hold", "versionId", "restore"};
  size_t i;
  if(lookup(h, "x-amz-copy-source"))
    abort();
  for(i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
    if(has_param(uri, subs[i]))
      abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *buf = malloc(size + 1), *line, *save = NULL, *method, *uri;
  char bucket[64];
  hdrs h = {{0}, {0}, 0};
  vs__route_result a, b;
  vs__op op;
  size_t n;
  if(!buf)
    return 0;
  memcpy(buf, data, size);
  buf[size] = 0;
  method = strtok_r(buf, "\n", &save);
  uri = method ? strtok_r(NULL, "\n", &save) : NULL;
  while(uri && h.n < HDR_MAX && (line = strtok_r(NULL, "\n", &save))) {
    char *colon = strchr(line, ':');
    if(!colon)
      continue;
    *colon = 0;
    h.name[h.n] = line;
    h.value[h.n++] = colon[1] == ' ' ? colon + 2 : colon + 1;
  }
  if(uri) {
    op = vs__route_classify(method, uri, lookup, &h, &a);
    if(op != a.op || (unsigned)op >= VS__OP_COUNT ||
       !memchr(a.msg, 0, sizeof(a.msg)))
      abort();
    if(op == VS__OP_REFUSED ? a.code == VS__S3_NONE || !a.msg[0]
                            : a.code != VS__S3_NONE)
      abort();
    if(vs__route_classify(method, uri, lookup, &h, &b) != op ||
       b.code != a.code || strcmp(a.msg, b.msg))
      abort();
    if(op == VS__OP_PUT_OBJECT)
      check_put(uri, &h);
    n = vs__route_host_bucket(lookup(&h, "Host"), "s3.example.com", bucket,
                              sizeof(bucket));
    if(n >= sizeof(bucket) || (n && strlen(bucket) != n))
      abort();
    for(size_t i = 0; i < n; i++)
      if(bucket[i] >= 'A' && bucket[i] <= 'Z')
        abort();
  }
  free(buf);
  return 0;
}
