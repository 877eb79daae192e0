/* sigv4: header signing against botocore. sigv4_botocore_cases.py (next to
 * this file) has Debian's botocore sign a few hundred S3 requests (random
 * methods, keys, query parameters, headers with odd whitespace and UTF-8,
 * signed and unsigned payloads, four endpoints, two regions, times from
 * 2000 to 2040). Each must come out of vs_sigv4_sign_headers with the very
 * same Authorization header, and each botocore request must pass
 * vs_sigv4_verify, including those botocore signs with a Date header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "vsink/sigv4.h"

#define N_CASES 300
#define MAX_LINES 24

typedef struct bcase {
  char *method, *url, *payload, *key_id, *secret, *region;
  int64_t time;
  int n_extra;                 /* -1: botocore used a Date header */
  char *extra[MAX_LINES];
  int n_sent;
  char *sent_name[MAX_LINES];  /* headers as sent, split at ": " */
  char *sent_value[MAX_LINES];
} bcase;

static char *next_line(FILE *f)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, f);
  if(n <= 0) {
    free(line);
    return NULL;
  }
  if(line[n - 1] == '\n')
    line[n - 1] = 0;
  return line;
}

static int next_int(FILE *f)
{
  char *l = next_line(f);
  int v;
  assert_non_null(l);
  v = atoi(l);
  free(l);
  return v;
}

static int read_case(FILE *f, bcase *c)
{
  char *l = next_line(f), *t;
  int i;
  if(!l)
    return 0;
  assert_string_equal(l, "CASE");
  free(l);
  memset(c, 0, sizeof(*c));
  c->method = next_line(f);
  c->url = next_line(f);
  t = next_line(f);
  c->time = atoll(t);
  free(t);
  c->payload = next_line(f);
  c->key_id = next_line(f);
  c->secret = next_line(f);
  c->region = next_line(f);
  c->n_extra = next_int(f);
  assert_true(c->n_extra < MAX_LINES);
  for(i = 0; i < c->n_extra; i++)
    c->extra[i] = next_line(f);
  c->n_sent = next_int(f);
  assert_true(c->n_sent <= MAX_LINES);
  for(i = 0; i < c->n_sent; i++) {
    char *sep;
    c->sent_name[i] = next_line(f);
    sep = strstr(c->sent_name[i], ": ");
    assert_non_null(sep);
    *sep = 0;
    c->sent_value[i] = sep + 2;
  }
  return 1;
}

static void free_case(bcase *c)
{
  int i;
  free(c->method);
  free(c->url);
  free(c->payload);
  free(c->key_id);
  free(c->secret);
  free(c->region);
  for(i = 0; i < c->n_extra; i++)
    free(c->extra[i]);
  for(i = 0; i < c->n_sent; i++)
    free(c->sent_name[i]);
}

static const char *lookup(void *ctx, const char *name)
{
  const bcase *c = ctx;
  int i;
  for(i = 0; i < c->n_sent; i++)
    if(!strcasecmp(c->sent_name[i], name))
      return c->sent_value[i];
  return NULL;
}

static void same_signature(const bcase *c)
{
  vs_sigv4_creds cr = {c->key_id, c->secret, c->region, "s3"};
  vs_signed_headers out;
  vs_err err = {0};
  char want[600];
  int rc = vs_sigv4_sign_headers(&cr, c->method, c->url,
                                 (const char *const *)c->extra,
                                 (size_t)c->n_extra,
                                 strcmp(c->payload, VS_SIGV4_UNSIGNED)
                                   ? c->payload : NULL,
                                 c->time, &out, &err);
  if(rc)
    fail_msg("%s %s: %s", c->method, c->url, err.msg);
  snprintf(want, sizeof(want), "Authorization: %s", lookup((void *)c,
           "authorization"));
  if(strcmp(out.authorization, want))
    fail_msg("%s %s\n  botocore %s\n  vsink    %s", c->method, c->url, want,
             out.authorization);
  snprintf(want, sizeof(want), "x-amz-date: %s", lookup((void *)c,
           "x-amz-date"));
  assert_string_equal(out.amz_date, want);
}

static void verifies(bcase *c)
{
  const char *slash = strchr(strstr(c->url, "//") + 2, '/');
  vs_keyring *kr = vs_keyring_new();
  vs_sigv4_request req = {c->method, slash, lookup, c};
  vs_sigv4_result res;
  vs_err err = {0};
  assert_int_equal(vs_keyring_add(kr, c->key_id, c->secret, NULL), 0);
  if(vs_sigv4_verify(&req, kr, c->region, c->time + 60, &res, &err))
    fail_msg("%s %s refused: %s", c->method, c->url, err.msg);
  assert_string_equal(res.payload_sha256, c->payload);
  assert_string_equal(res.key_id, c->key_id);
  req.method = strcmp(c->method, "GET") ? "GET" : "PUT";
  assert_int_equal(vs_sigv4_verify(&req, kr, c->region, c->time, &res, &err),
                   VS_SIGV4_BAD_SIGNATURE);
  vs_keyring_free(kr);
}

static void test_botocore(void **state)
{
  char cmd[4096];
  const char *here = __FILE__, *slash = strrchr(here, '/');
  int compared = 0, verified = 0, with_date = 0;
  bcase c;
  FILE *f;
  (void)state;
  snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%.*s/sigv4_botocore_cases.py'"
           " %d", slash ? (int)(slash - here) : 1, slash ? here : ".",
           N_CASES);
  f = popen(cmd, "r");
  assert_non_null(f);
  while(read_case(f, &c)) {
    if(c.n_extra >= 0) {
      same_signature(&c);
      compared++;
    }
    else {
      with_date++;
    }
    verifies(&c);
    verified++;
    free_case(&c);
  }
  assert_int_equal(pclose(f), 0);
  print_message("botocore: %d Authorization headers identical, %d botocore "
                "requests verified (%d signed with a Date header)\n",
                compared, verified, with_date);
  assert_int_equal(verified, N_CASES);
  assert_true(compared >= N_CASES * 8 / 10);
  assert_true(with_date >= N_CASES / 20);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_botocore),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
