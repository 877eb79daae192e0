/* The frame image: which kind of input it is, and for inline bytes and local
 * files, the image type and pixel size read from the header. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "task_int.h"
#include "util/enc.h"
#include "util/fs.h"
#include "util/uuid.h"

#define FIELD "inputs.frameImages"

static unsigned long be16(const unsigned char *p)
{
  return (unsigned long)p[0] << 8 | p[1];
}
static unsigned long be32(const unsigned char *p)
{
  return be16(p) << 16 | be16(p + 2);
}
static unsigned long le16(const unsigned char *p)
{
  return (unsigned long)p[1] << 8 | p[0];
}
static unsigned long le24(const unsigned char *p)
{
  return (unsigned long)p[2] << 16 | le16(p);
}

static int probe_png(const unsigned char *p, size_t n, long *w, long *h,
                     const char **why)
{
  if(n < 24 || memcmp(p + 12, "IHDR", 4)) {
    *why = "a PNG without its IHDR header";
    return -1;
  }
  *w = (long)be32(p + 16);
  *h = (long)be32(p + 20);
  return 0;
}

/* SOFn markers carry the frame size: C0..CF except DHT (C4), JPG (C8) and
 * DAC (CC). */
static int is_sof(unsigned m)
{
  return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

static int probe_jpeg(const unsigned char *p, size_t n, long *w, long *h,
                      const char **why)
{
  size_t i = 2;
  for(;;) {
    unsigned m;
    if(i >= n || p[i] != 0xff)
      break;
    while(i < n && p[i] == 0xff) /* fill bytes */
      i++;
    if(i >= n)
      break;
    m = p[i++];
    if(m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7))
      continue;
    if(m == 0xd9 || m == 0xda) {
      *why = "a JPEG with no frame header (SOF) before its image data";
      return -1;
    }
    if(i + 2 > n || be16(p + i) < 2)
      break;
    if(is_sof(m)) {
      if(i + 7 > n)
        break;
      *h = (long)be16(p + i + 3);
      *w = (long)be16(p + i + 5);
      return 0;
    }
    i += be16(p + i);
  }
  *why = "a JPEG whose header is cut short or broken";
  return -1;
}

static int probe_webp(const unsigned char *p, size_t n, long *w, long *h,
                      const char **why)
{
  if(n >= 30 && !memcmp(p + 12, "VP8 ", 4)) {
    if(memcmp(p + 23, "\x9d\x01\x2a", 3))
      goto cut;
    *w = (long)(le16(p + 26) & 0x3fff);
    *h = (long)(le16(p + 28) & 0x3fff);
    return 0;
  }
  if(n >= 25 && !memcmp(p + 12, "VP8L", 4)) {
    unsigned long bits = le16(p + 21) | le16(p + 23) << 16;
    if(p[20] != 0x2f)
      goto cut;
    *w = (long)(bits & 0x3fff) + 1;
    *h = (long)((bits >> 14) & 0x3fff) + 1;
    return 0;
  }
  if(n >= 30 && !memcmp(p + 12, "VP8X", 4)) {
    *w = (long)le24(p + 24) + 1;
    *h = (long)le24(p + 27) + 1;
    return 0;
  }
cut:
  *why = "a WEBP without a VP8, VP8L or VP8X header";
  return -1;
}

int vs_image_probe(const unsigned char *p, size_t n, const char **kind,
                   long *w, long *h, const char **why)
{
  if(n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) {
    *kind = "png";
    return probe_png(p, n, w, h, why);
  }
  if(n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
    *kind = "jpeg";
    return probe_jpeg(p, n, w, h, why);
  }
  if(n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4)) {
    *kind = "webp";
    return probe_webp(p, n, w, h, why);
  }
  *kind = NULL;
  *why = "not a PNG, JPEG or WEBP image";
  return -1;
}

static const char *kind_upper(const char *kind)
{
  return !strcmp(kind, "png") ? "PNG" : !strcmp(kind, "jpeg") ? "JPEG"
                                                               : "WEBP";
}

/* The checks every image's bytes must pass. what names the input in the
 * message ("frame image photo.png", "data URI"). */
static int check_bytes(vs_task_errors *e, const char *value, const char *what,
                       const unsigned char *p, size_t n, const char **kind)
{
  long w = 0, h = 0;
  const char *why;
  if(n > (size_t)VS_TASK_IMAGE_MAX_BYTES) {
    vs_terr(e, FIELD, value, VS_A_FRAME,
            "%s is %zu bytes; at most %ld bytes (10 MB) are allowed", what, n,
            VS_TASK_IMAGE_MAX_BYTES);
    return -1;
  }
  if(vs_image_probe(p, n, kind, &w, &h, &why)) {
    vs_terr(e, FIELD, value, VS_A_FRAME, "%s is %s", what, why);
    return -1;
  }
  if(w < VS_TASK_IMAGE_MIN_PX || w > VS_TASK_IMAGE_MAX_PX ||
     h < VS_TASK_IMAGE_MIN_PX || h > VS_TASK_IMAGE_MAX_PX) {
    vs_terr(e, FIELD, value, VS_A_FRAME,
            "%s is a %s of %ldx%ld px; each side must be %d..%d px", what,
            kind_upper(*kind), w, h, VS_TASK_IMAGE_MIN_PX,
            VS_TASK_IMAGE_MAX_PX);
    return -1;
  }
  return 0;
}

/* Decodes base64 text and checks the image inside. */
static int check_b64(vs_task_errors *e, const char *value, const char *what,
                     const char *b64, size_t len, const char **kind)
{
  size_t cap = len / 4 * 3;
  unsigned char *raw;
  long n;
  int rc;
  if(cap > (size_t)VS_TASK_IMAGE_MAX_BYTES + 2) {
    vs_terr(e, FIELD, value, VS_A_FRAME,
            "%s decodes to about %zu bytes; at most %ld bytes (10 MB) are "
            "allowed", what, cap, VS_TASK_IMAGE_MAX_BYTES);
    return -1;
  }
  raw = malloc(cap + 1);
  if(!raw)
    return VS_ERR_NOMEM;
  n = vs_unb64(b64, len, raw, cap);
  if(n < 0) {
    vs_terr(e, FIELD, value, VS_A_FRAME, "%s is not valid base64", what);
    rc = -1;
  }
  else
    rc = check_bytes(e, value, what, raw, (size_t)n, kind);
  free(raw);
  return rc;
}

static int uuid_shaped(const char *s)
{
  static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  size_t i;
  if(strlen(s) != 36)
    return 0;
  for(i = 0; i < 36; i++)
    if(shape[i] == '-' ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
      return 0;
  return 1;
}

static int check_url(vs_task_errors *e, const char *text)
{
  const char *host = strstr(text, "://") + 3;
  const char *p;
  for(p = text; *p; p++) {
    if((unsigned char)*p <= 0x20 || *p == 0x7f) {
      vs_terr(e, FIELD, text, VS_A_FRAME,
              "the frame image URL contains a space or control character");
      return -1;
    }
  }
  if(!*host || strchr("/?#:", *host)) {
    vs_terr(e, FIELD, text, VS_A_FRAME, "the frame image URL has no host");
    return -1;
  }
  return 0;
}

static int check_data_uri(vs_task_errors *e, const char *text)
{
  static const char *const mimes[] = {"png", "jpeg", "webp"};
  const char *kind, *mime = text + 5, *semi = strchr(mime, ';');
  size_t i;
  int rc;
  if(!semi || strncasecmp(semi, ";base64,", 8)) {
    vs_terr(e, FIELD, text, VS_A_FRAME,
            "a frame image data URI must be data:image/png|jpeg|webp;base64,"
            "...");
    return -1;
  }
  for(i = 0; i < 3; i++)
    if(!strncasecmp(mime, "image/", 6) && (size_t)(semi - mime - 6) ==
       strlen(mimes[i]) && !strncasecmp(mime + 6, mimes[i], strlen(mimes[i])))
      break;
  if(i == 3) {
    vs_terr(e, FIELD, text, VS_A_FRAME,
            "a frame image data URI must be of type image/png, image/jpeg or "
            "image/webp");
    return -1;
  }
  rc = check_b64(e, text, "the data URI", semi + 8, strlen(semi + 8), &kind);
  if(!rc && strcmp(kind, mimes[i])) {
    vs_terr(e, FIELD, text, VS_A_FRAME,
            "the data URI says image/%s but holds a %s image", mimes[i],
            kind_upper(kind));
    return -1;
  }
  return rc;
}

/* A local file: checked like inline bytes, then sent as a data URI. */
static int load_file(vs_task_errors *e, const char *path, const struct stat *st,
                     char **out)
{
  char what[300], *data = NULL, *uri;
  size_t len = 0, pre;
  const char *kind;
  vs_err err;
  snprintf(what, sizeof(what), "frame image %s", path);
  if(!S_ISREG(st->st_mode)) {
    vs_terr(e, FIELD, path, VS_A_FRAME, "%s is not a regular file", what);
    return -1;
  }
  if(st->st_size > VS_TASK_IMAGE_MAX_BYTES) {
    vs_terr(e, FIELD, path, VS_A_FRAME,
            "%s is %lld bytes; at most %ld bytes (10 MB) are allowed", what,
            (long long)st->st_size, VS_TASK_IMAGE_MAX_BYTES);
    return -1;
  }
  if(vs_read_file(path, VS_TASK_IMAGE_MAX_BYTES, &data, &len, &err)) {
    if(err.code == VS_ERR_NOMEM)
      return VS_ERR_NOMEM;
    vs_terr(e, FIELD, path, VS_A_FRAME, "%s cannot be read: %s", what,
            err.msg);
    return -1;
  }
  if(check_bytes(e, path, what, (unsigned char *)data, len, &kind)) {
    free(data);
    return -1;
  }
  pre = strlen("data:image/;base64,") + strlen(kind);
  uri = malloc(pre + 4 * ((len + 2) / 3) + 1);
  if(uri) {
    snprintf(uri, pre + 1, "data:image/%s;base64,", kind);
    vs_b64((unsigned char *)data, len, uri + pre);
  }
  free(data);
  *out = uri;
  return uri ? 0 : VS_ERR_NOMEM;
}

static int is_b64_text(const char *s)
{
  size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789+/=");
  return n == strlen(s) && n >= 4 && n % 4 == 0;
}

static int dup_out(const char *text, char **out)
{
  *out = strdup(text);
  return *out ? 0 : VS_ERR_NOMEM;
}

int vs_rule_frame(vs_task_errors *e, const char *text, int allow_file,
                  char **out)
{
  struct stat st;
  const char *kind;
  int rc, stat_errno = 0;
  *out = NULL;
  if(!*text) {
    vs_terr(e, FIELD, text, VS_A_FRAME, "the frame image is empty");
    return -1;
  }
  if(uuid_shaped(text)) {
    if(!vs_uuid_is_v4(text, 36)) {
      vs_terr(e, FIELD, text, VS_A_FRAME,
              "the frame image UUID is not a UUID v4");
      return -1;
    }
    return dup_out(text, out);
  }
  if(!strncasecmp(text, "http://", 7) || !strncasecmp(text, "https://", 8))
    return check_url(e, text) ? -1 : dup_out(text, out);
  if(!strncasecmp(text, "data:", 5))
    return (rc = check_data_uri(e, text)) ? rc : dup_out(text, out);
  if(allow_file) {
    if(!stat(text, &st))
      return load_file(e, text, &st, out);
    stat_errno = errno;
  }
  if(is_b64_text(text))
    return (rc = check_b64(e, text, "the base64 frame image", text,
                           strlen(text), &kind))
               ? rc
               : dup_out(text, out);
  if(allow_file)
    vs_terr(e, FIELD, text, VS_A_FRAME,
            "frame image %s cannot be opened (%s), and it is not a UUID v4, "
            "http(s) URL, data URI or base64", text, strerror(stat_errno));
  else
    vs_terr(e, FIELD, text, VS_A_FRAME,
            "the frame image is not a UUID v4, http(s) URL, data URI or "
            "base64");
  return -1;
}
