/* Where the videos go: --target and --webhook-base parsing, and the
 * signature-less copy of a presigned URL the manifest keeps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vsink/runware.h"
#include "vsink/store.h"

/* The prefix goes into URLs, where HTTP clients (libcurl among them)
 * squash "." and ".." segments and empty ones read as a mistake: keys S3
 * takes (issue 11), but not a prefix to hand to a generation API. */
static int url_safe_prefix(const char *prefix, vs_err *err)
{
  const char *s = prefix;
  for(;;) {
    size_t n = strcspn(s, "/");
    size_t i;
    if(n == 0)
      return vs_fail(err, VS_ERR_INVALID, "--target prefix '%s' has an "
                     "empty segment", prefix);
    if((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
      return vs_fail(err, VS_ERR_INVALID, "--target prefix '%s' has a "
                     "'%.*s' segment", prefix, (int)n, s);
    for(i = 0; i < n; i++)
      if((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
        return vs_fail(err, VS_ERR_INVALID, "--target prefix has control "
                       "byte 0x%02x", (unsigned char)s[i]);
    if(!s[n])
      return VS_OK;
    s += n + 1;
  }
}

static int scheme_len(const char *s)
{
  if(!strncasecmp(s, "http://", 7))
    return 7;
  if(!strncasecmp(s, "https://", 8))
    return 8;
  return 0;
}

int vs_endpoint_parse(const char *text, char *out, size_t cap, vs_err *err)
{
  int sl = text ? scheme_len(text) : 0;
  size_t n = text ? strlen(text) : 0, host;
  if(!sl)
    return vs_fail(err, VS_ERR_INVALID, "'%s' is not an http:// or https:// "
                   "URL", text ? text : "");
  if(n > (size_t)sl && text[n - 1] == '/')
    n--;
  host = strcspn(text + sl, "/?#@ ");
  if(!host)
    return vs_fail(err, VS_ERR_INVALID, "'%s' has no host", text);
  if((size_t)sl + host != n)
    return vs_fail(err, VS_ERR_INVALID, "'%s': give scheme://host[:port] "
                   "only, no path, query or user", text);
  if(n >= cap)
    return vs_fail(err, VS_ERR_INVALID, "'%s' is too long", text);
  memcpy(out, text, n);
  out[n] = 0;
  return VS_OK;
}

/* BUCKET[/PREFIX] after the scheme (and host) */
static int bucket_prefix(const char *s, vs_target *t, vs_err *err)
{
  size_t b = strcspn(s, "/"), p;
  const char *prefix = s[b] ? s + b + 1 : "";
  vs_err kerr = {0};
  int rc;
  if(!b)
    return vs_fail(err, VS_ERR_INVALID, "--target names no bucket");
  if(b >= sizeof(t->bucket))
    return vs_fail(err, VS_ERR_INVALID, "--target: bucket name longer than "
                   "63 characters");
  memcpy(t->bucket, s, b);
  t->bucket[b] = 0;
  if((rc = vs_store_check_bucket(t->bucket, err)))
    return rc;
  p = strlen(prefix);
  while(p && prefix[p - 1] == '/')
    p--;
  if(p >= sizeof(t->prefix) - 100)
    return vs_fail(err, VS_ERR_INVALID, "--target: prefix too long");
  memcpy(t->prefix, prefix, p);
  t->prefix[p] = 0;
  if(p && vs_store_check_key(t->prefix, p, &kerr))
    return vs_fail(err, VS_ERR_INVALID, "--target prefix '%s': %s",
                   t->prefix, kerr.msg);
  return p ? url_safe_prefix(t->prefix, err) : VS_OK;
}

int vs_target_parse(const char *text, vs_target *t, vs_err *err)
{
  const char *rest;
  size_t host;
  int sl;
  memset(t, 0, sizeof(*t));
  if(!text || !*text)
    return vs_fail(err, VS_ERR_INVALID, "--target is required: "
                   "http(s)://HOST:PORT/BUCKET/PREFIX or s3://BUCKET/PREFIX");
  if(!strncmp(text, "s3://", 5)) {
    t->kind = VS_TARGET_S3;
    return bucket_prefix(text + 5, t, err);
  }
  if(!(sl = scheme_len(text)))
    return vs_fail(err, VS_ERR_INVALID, "--target '%s': use "
                   "http(s)://HOST:PORT/BUCKET/PREFIX (a vsink sink) or "
                   "s3://BUCKET/PREFIX", text);
  t->kind = VS_TARGET_SINK;
  rest = text + sl;
  host = strcspn(rest, "/?#@ ");
  if(!host || rest[host] != '/')
    return vs_fail(err, VS_ERR_INVALID, "--target '%s': want "
                   "http(s)://HOST:PORT/BUCKET/PREFIX", text);
  if((size_t)sl + host >= sizeof(t->endpoint))
    return vs_fail(err, VS_ERR_INVALID, "--target: host too long");
  memcpy(t->endpoint, text, (size_t)sl + host);
  t->endpoint[sl + host] = 0;
  if(strpbrk(rest + host, "?#"))
    return vs_fail(err, VS_ERR_INVALID, "--target '%s': no query or "
                   "fragment", text);
  return bucket_prefix(rest + host + 1, t, err);
}

char *vs_url_strip_signature(const char *url)
{
  const char *q = url ? strchr(url, '?') : NULL, *p, *end;
  char *out;
  size_t n = 0;
  if(!url)
    return NULL;
  if(!(out = malloc(strlen(url) + 1)))
    return NULL;
  if(!q) {
    strcpy(out, url);
    return out;
  }
  memcpy(out, url, (size_t)(q - url));
  n = (size_t)(q - url);
  for(p = q + 1; *p; p = *end ? end + 1 : end) {
    end = p + strcspn(p, "&");
    if(!strncmp(p, "X-Amz-Signature=", 16) || (size_t)(end - p) == 0)
      continue;
    char sep = n == (size_t)(q - url) ? '?' : '&';
    out[n++] = sep;
    memcpy(out + n, p, (size_t)(end - p));
    n += (size_t)(end - p);
  }
  out[n] = 0;
  return out;
}
