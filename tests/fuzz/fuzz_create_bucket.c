/* Fuzz target: CreateBucket's body (vs__create_bucket_parse, src/server/
 * buckets.c), the CreateBucketConfiguration XML a client sends.
 *
 * Input: the body itself. Invariants: the answer is 0, -1 or -2; the
 * LocationConstraint is a NUL-terminated string within its buffer with no
 * markup in it, "" unless the answer is 0; an element vsink does not
 * implement is named (-2). And a round trip: the input's bytes that may
 * stand in a region name, wrapped in the document boto3 sends (with and
 * without the declaration, a namespace prefix and spaces around the
 * text), parse to exactly that name. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"

#define NS "http://s3.amazonaws.com/doc/2006-03-01/"

static void check_one(const char *body, size_t n)
{
  char loc[64], what[64];
  int rc;
  memset(loc, 'x', sizeof(loc));
  memset(what, 'x', sizeof(what));
  rc = vs__create_bucket_parse(body, n, loc, sizeof(loc), what,
                               sizeof(what));
  if(rc != 0 && rc != -1 && rc != -2)
    abort();
  if(!memchr(loc, 0, sizeof(loc)) || !memchr(what, 0, sizeof(what)))
    abort();
  if(strchr(loc, '<') || strchr(loc, '&'))
    abort();
  if(rc != 0 && loc[0])
    abort();
  if((rc == -2) != (what[0] != 0))
    abort();
}

static void round_trip(const uint8_t *data, size_t size, unsigned form)
{
  static const char *const fmt[] = {
    "<CreateBucketConfiguration xmlns=\"" NS "\"><LocationConstraint>%s"
    "</LocationConstraint></CreateBucketConfiguration>",
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CreateBucketConfiguration"
    " xmlns='" NS "'>\n  <LocationConstraint> %s </LocationConstraint >\n"
    "</CreateBucketConfiguration>\n",
    "<!-- c --><s3:CreateBucketConfiguration xmlns:s3=\"" NS "\">"
    "<s3:LocationConstraint>%s</s3:LocationConstraint><!-- d -->"
    "</s3:CreateBucketConfiguration>",
  };
  char name[40], doc[512], loc[64], what[64];
  size_t i, n = 0;
  for(i = 0; i < size && n < sizeof(name) - 1; i++)
    if((data[i] >= 'a' && data[i] <= 'z') ||
       (data[i] >= '0' && data[i] <= '9') || data[i] == '-')
      name[n++] = (char)data[i];
  name[n] = 0;
  snprintf(doc, sizeof(doc), fmt[form % 3], name);
  if(vs__create_bucket_parse(doc, strlen(doc), loc, sizeof(loc), what,
                             sizeof(what)) != 0 || strcmp(loc, name)) {
    fprintf(stderr, "round trip of '%s' gave '%s'\n", name, loc);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *body = malloc(size ? size : 1);
  if(!body)
    return 0;
  if(size)
    memcpy(body, data, size); /* exactly size bytes: no NUL after them */
  check_one(body, size);
  free(body);
  round_trip(data, size, size ? data[0] : 0);
  return 0;
}
