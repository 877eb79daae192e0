/* Fuzz target: SigV2 header and query parsing and verification
 * (vs_sigv2_verify with a fixed keyring and clock).
 *
 * The first byte picks a mode; the rest is read as lines:
 *   0  raw request:    method \n raw-uri \n host-bucket \n "Name: value"...
 *      whatever arrives, verify answers without a memory error, never
 *      quotes a secret, accepts only one of our keys, and never reports a
 *      payload hash (SigV2 signs none);
 *   1  presign round trip: method \n path \n query \n expires
 *      a URL vs_sigv2_presign made (path and query encoded here) verifies
 *      at T0 and at its Expires, has expired a second later, and with a
 *      sub-resource appended (which SigV2 signs) does not verify;
 *   2  header round trip: method \n path \n query \n host-bucket \n headers
 *      a request signed over vs_sigv2_string_to_sign (with a Date of T0)
 *      verifies at T0, is skewed at T0 + 901 s, and no longer verifies
 *      with an x-amz-meta-* header added.
 * Modes 1 and 2 find any disagreement between the signer and the verifier
 * about what a request means. */
#define _GNU_SOURCE /* memmem */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_input.h"
#include "vsink/sigv4.h"

#define KEY_ID "VSFUZZKEY0000000001"
#define SECRET "fuzz/Secret+Key0123456789abcdefghijklmno"
#define T0 1767225600 /* 2026-01-01T00:00:00Z */
#define T0_HTTP "Thu, 01 Jan 2026 00:00:00 GMT"
#define ENDPOINT "http://127.0.0.1:9000"
#define MAX_HDRS 40

typedef struct fake {
  const char *name[MAX_HDRS];
  const char *value[MAX_HDRS];
  size_t n;
} fake;

static const char *lookup(void *ctx, const char *name)
{
  const fake *f = ctx;
  size_t i;
  for(i = 0; i < f->n; i++)
    if(!strcasecmp(f->name[i], name))
      return f->value[i];
  return NULL;
}

static void each(void *ctx, vs_header_visit_fn visit, void *arg)
{
  const fake *f = ctx;
  size_t i;
  for(i = 0; i < f->n; i++)
    visit(arg, f->name[i], f->value[i]);
}

static void add_hdr(fake *f, const char *name, const char *value)
{
  if(f->n < MAX_HDRS) {
    f->name[f->n] = name;
    f->value[f->n++] = value;
  }
}

/* "Name: value" lines into f, skipping the names in skip ("a|b|"), and
 * leaving room for `room` more headers. */
static void add_lines(fake *f, const fz_lines *l, size_t from,
                      const char *skip, size_t room)
{
  size_t i;
  for(i = from; i < l->n && f->n + room < MAX_HDRS; i++) {
    char *colon = strchr(l->line[i], ':'), needle[80];
    if(!colon || colon == l->line[i])
      continue;
    *colon = 0;
    snprintf(needle, sizeof(needle), "%s|", l->line[i]);
    if(skip && strcasestr(skip, needle) &&
       (strcasestr(skip, needle) == skip ||
        strcasestr(skip, needle)[-1] == '|'))
      continue;
    add_hdr(f, l->line[i], colon[1] == ' ' ? colon + 2 : colon + 1);
  }
}

static const vs_keyring *keyring(void)
{
  static vs_keyring *kr;
  if(!kr) {
    kr = vs_keyring_new();
    if(!kr || vs_keyring_add(kr, "VSOTHERKEY", "other-secret", NULL) ||
       vs_keyring_add(kr, KEY_ID, SECRET, NULL))
      abort();
  }
  return kr;
}

static const uint8_t *g_data;
static size_t g_size;

static int input_has(const char *s)
{
  size_t n = 0;
  char *dec = vs_sigv4_uri_decode((const char *)g_data, g_size, &n);
  int has = memmem(g_data, g_size, s, strlen(s)) ||
            (dec && memmem(dec, n, s, strlen(s)));
  free(dec);
  return has;
}

static vs_sigv4_status verify(const char *method, const char *uri, fake *f,
                              const char *host_bucket, int64_t now,
                              vs_sigv4_result *res, vs_err *err)
{
  vs_sigv2_request req = {method, uri, lookup, each, f, host_bucket};
  vs_sigv4_status st;
  memset(err, 0, sizeof(*err));
  st = vs_sigv2_verify(&req, keyring(), now, res, err);
  FZ_ASSERT(!strstr(err->msg, "ecret+Key0123") || input_has("ecret+Key0123"),
            "a refusal quotes a secret: %s", err->msg);
  FZ_ASSERT(!strstr(err->msg, "her-secr") || input_has("her-secr"),
            "a refusal quotes a secret: %s", err->msg);
  if(st == VS_SIGV4_OK) {
    FZ_ASSERT(!strcmp(res->key_id, KEY_ID) ||
                !strcmp(res->key_id, "VSOTHERKEY"), "key '%s'", res->key_id);
    FZ_ASSERT(!strcmp(res->payload_sha256, VS_SIGV4_UNSIGNED),
              "payload '%s'", res->payload_sha256);
  }
  else {
    FZ_ASSERT(err->msg[0], "refused (%d) without a reason", st);
  }
  return st;
}

static void raw_request(const fz_lines *l)
{
  fake f = {0};
  vs_sigv4_result res;
  vs_err err;
  const char *hb = fz_line(l, 2);
  add_lines(&f, l, 3, NULL, 0);
  verify(fz_line(l, 0), fz_line(l, 1), &f, *hb ? hb : NULL, T0, &res, &err);
}

static const char *method_of(const char *s)
{
  static const char *const m[] = {"PUT", "GET", "HEAD", "POST", "DELETE"};
  return m[(unsigned char)s[0] % 5];
}

/* "a=b&c" with each name and value encoded here; the SigV2 and SigV4
 * authentication parameters left out (they are the signer's). */
static char *encode_query(const char *raw)
{
  size_t cap = strlen(raw) * 3 + 2, o = 0;
  char *out = malloc(cap), *copy = strdup(raw), *p, *save = NULL;
  if(!out || !copy) {
    free(out);
    free(copy);
    return NULL;
  }
  out[0] = 0;
  for(p = strtok_r(copy, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(p, '='), *n, *v = NULL;
    if(eq)
      *eq = 0;
    if(!strcmp(p, "AWSAccessKeyId") || !strcmp(p, "Signature") ||
       !strcmp(p, "Expires") || !strncmp(p, "X-Amz-", 6) || !*p)
      continue;
    n = vs_sigv4_uri_encode(p, strlen(p), 0);
    v = eq ? vs_sigv4_uri_encode(eq + 1, strlen(eq + 1), 0) : NULL;
    if(n)
      o += (size_t)snprintf(out + o, cap - o, "%s%s%s%s", o ? "&" : "", n,
                            eq ? "=" : "", v ? v : "");
    free(n);
    free(v);
  }
  free(copy);
  return out;
}

static void presign_round_trip(const fz_lines *l)
{
  vs_sigv4_creds c = {KEY_ID, SECRET, "us-east-1", NULL};
  char path[512], *query = encode_query(fz_line(l, 2)), *url = NULL, *bad;
  vs_presign_req r = {method_of(fz_line(l, 0)), ENDPOINT, path, query, T0,
                      1 + strtoul(fz_line(l, 3), NULL, 10) % 604800};
  fake f = {0};
  vs_sigv4_result res;
  vs_err err = {0};
  vs_sigv4_status st;
  snprintf(path, sizeof(path), "/%s", fz_line(l, 1));
  if(query && !vs_sigv2_presign(&c, &r, &url, &err)) {
    const char *u = url + strlen(ENDPOINT);
    st = verify(r.method, u, &f, NULL, T0, &res, &err);
    FZ_ASSERT(st == VS_SIGV4_OK, "presigned %s %s refused (%d): %s",
              r.method, u, st, err.msg);
    FZ_ASSERT(res.presigned && res.expires_at == T0 + r.expires,
              "expires_at %lld", (long long)res.expires_at);
    st = verify(r.method, u, &f, NULL, T0 + r.expires, &res, &err);
    FZ_ASSERT(st == VS_SIGV4_OK, "refused at its Expires (%d)", st);
    st = verify(r.method, u, &f, NULL, T0 + r.expires + 1, &res, &err);
    FZ_ASSERT(st == VS_SIGV4_EXPIRED, "expired URL answered %d", st);
    if((bad = malloc(strlen(u) + 16))) {
      sprintf(bad, "%s&versionId=x", u);
      st = verify(r.method, bad, &f, NULL, T0, &res, &err);
      FZ_ASSERT(st != VS_SIGV4_OK, "accepted an unsigned sub-resource: %s",
                bad);
      free(bad);
    }
  }
  free(url);
  free(query);
}

static void header_round_trip(const fz_lines *l)
{
  const char *method = method_of(fz_line(l, 0)), *hb = fz_line(l, 3);
  char uri[1024], auth[200], sig[VS_SIGV2_SIG_B64], *p = NULL, *q, *sts;
  fake f = {0};
  vs_sigv2_request req = {method, uri, lookup, each, &f, *hb ? hb : NULL};
  vs_sigv4_result res;
  vs_err err;
  vs_sigv4_status st;
  if(!(p = vs_sigv4_uri_encode(fz_line(l, 1), strlen(fz_line(l, 1)), 1)) ||
     !(q = encode_query(fz_line(l, 2)))) {
    free(p);
    return;
  }
  snprintf(uri, sizeof(uri), "/%s%s%s", p, *q ? "?" : "", q);
  free(p);
  free(q);
  add_hdr(&f, "Date", T0_HTTP);
  add_lines(&f, l, 4, "Authorization|Date|x-amz-date|", 2);
  if(vs_sigv2_string_to_sign(&req, T0_HTTP, &sts, NULL))
    return;
  if(!vs_sigv2_sign(SECRET, sts, strlen(sts), sig)) {
    snprintf(auth, sizeof(auth), "AWS %s:%s", KEY_ID, sig);
    add_hdr(&f, "Authorization", auth);
    st = verify(method, uri, &f, req.host_bucket, T0, &res, &err);
    FZ_ASSERT(st == VS_SIGV4_OK, "signed %s %s refused (%d): %s\n%s",
              method, uri, st, err.msg, sts);
    FZ_ASSERT(!res.presigned, "header form reported as presigned");
    st = verify(method, uri, &f, req.host_bucket, T0 + 901, &res, &err);
    FZ_ASSERT(st == VS_SIGV4_SKEWED, "15 min 1 s late answered %d", st);
    {
      add_hdr(&f, "x-amz-meta-fuzz-added", "1");
      st = verify(method, uri, &f, req.host_bucket, T0, &res, &err);
      FZ_ASSERT(st != VS_SIGV4_OK, "accepted an unsigned x-amz-meta-*");
    }
  }
  free(sts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fz_lines l;
  if(size < 1 || size > 8192)
    return 0;
  g_data = data;
  g_size = size;
  if(fz_split(&l, data + 1, size - 1))
    return 0;
  switch(data[0] % 3) {
  case 0:
    raw_request(&l);
    break;
  case 1:
    presign_round_trip(&l);
    break;
  default:
    header_round_trip(&l);
  }
  fz_free(&l);
  return 0;
}
