/* The field rules of the model page, on text. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "task_int.h"
#include "util/utf8.h"

/* The value shown in an error: at most this many bytes of what was given. */
#define VALUE_SHOWN 96

/* ---- errors ------------------------------------------------------------- */
/* Copies text for a person to read: whole characters only, control bytes and
 * broken UTF-8 as \xNN, "..." when cut. */
static void show_value(char *out, size_t cap, const char *text)
{
  const unsigned char *p = (const unsigned char *)(text ? text : "");
  size_t n = strlen((const char *)p), i = 0, o = 0;
  while(i < n) {
    size_t k = vs_utf8_seq(p + i, n - i);
    int esc = !k || p[i] < 0x20 || p[i] == 0x7f;
    size_t w = esc ? 4 : k;
    if(o + w > VALUE_SHOWN || o + w + 4 > cap) {
      memcpy(out + o, "...", 3);
      o += 3;
      break;
    }
    if(esc) {
      snprintf(out + o, 5, "\\x%02x", p[i]);
      k = 1;
    }
    else
      memcpy(out + o, p + i, k);
    o += w;
    i += k;
  }
  out[o] = 0;
}

void vs_terr(vs_task_errors *errs, const char *field, const char *value,
             const char *allowed, const char *fmt, ...)
{
  vs_task_error *e;
  va_list ap;
  if(errs->n >= VS_TASK_MAX_ERRORS) {
    errs->dropped++;
    return;
  }
  e = &errs->e[errs->n++];
  snprintf(e->field, sizeof(e->field), "%s", field);
  show_value(e->value, sizeof(e->value), value);
  snprintf(e->allowed, sizeof(e->allowed), "%s", allowed);
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof(e->message), fmt, ap);
  va_end(ap);
}

const vs_task_error *vs_task_errors_find(const vs_task_errors *errs,
                                         const char *field)
{
  int i;
  for(i = 0; i < errs->n; i++)
    if(!strcmp(errs->e[i].field, field))
      return &errs->e[i];
  return NULL;
}

/* ---- text parsers ------------------------------------------------------- */
int vs_tparse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
  int neg = s[0] == '-';
  const char *d = s + neg;
  unsigned __int128 v = 0;
  if(!*d)
    return -1;
  for(; *d; d++) {
    if(*d < '0' || *d > '9')
      return -1;
    if(v <= (unsigned __int128)UINT64_MAX)
      v = v * 10 + (unsigned)(*d - '0');
  }
  if(neg ? v > (unsigned __int128)INT64_MAX + 1 : v > INT64_MAX)
    return -2;
  {
    int64_t x = neg ? (int64_t)(-(__int128)v) : (int64_t)v;
    if(x < min || x > max)
      return -2;
    *out = x;
  }
  return 0;
}

int vs_tparse_tenths(const char *s, int64_t *tenths)
{
  const char *p = s;
  int64_t ip = 0, frac = 0;
  int digits = 0;
  for(; *p >= '0' && *p <= '9'; p++, digits++)
    if(ip < 1000000) /* saturate: the range check refuses it anyway */
      ip = ip * 10 + (*p - '0');
  if(!digits)
    return -1;
  if(*p == '.') {
    int fd = 0, fine = 0;
    for(p++; *p >= '0' && *p <= '9'; p++, fd++) {
      if(fd == 0)
        frac = *p - '0';
      else if(*p != '0')
        fine = 1;
    }
    if(!fd || *p)
      return -1;
    if(fine)
      return -2;
  }
  else if(*p)
    return -1;
  *tenths = ip * 10 + frac;
  return 0;
}

int vs_tparse_bool(const char *s, int *b)
{
  static const char *const yes[] = {"true", "1", "yes"};
  static const char *const no[] = {"false", "0", "no"};
  size_t i;
  for(i = 0; i < 3; i++) {
    if(!strcasecmp(s, yes[i]))
      return *b = 1, 0;
    if(!strcasecmp(s, no[i]))
      return *b = 0, 0;
  }
  return -1;
}

void vs_tenths_text(int64_t tenths, char out[24])
{
  if(tenths % 10)
    snprintf(out, 24, "%lld.%lld", (long long)(tenths / 10),
             (long long)(tenths % 10));
  else
    snprintf(out, 24, "%lld", (long long)(tenths / 10));
}

/* ---- the dimension table -------------------------------------------------
 * From the reference (the 720p list is UNCONFIRMED there, kept as given). */
static const struct dims {
  const char *cls;
  long w, h;
} dims_table[] = {
  {"480p", 864, 480},    {"480p", 736, 544},    {"480p", 640, 640},
  {"480p", 544, 736},    {"480p", 480, 864},    {"480p", 416, 960},
  {"480p", 960, 416},    {"720p", 1248, 704},   {"720p", 1120, 832},
  {"720p", 960, 960},    {"720p", 832, 1120},   {"720p", 704, 1248},
  {"720p", 1504, 640},   {"720p", 640, 1504},   {"1080p", 1920, 1088},
  {"1080p", 1664, 1248}, {"1080p", 1440, 1440}, {"1080p", 1248, 1664},
  {"1080p", 1088, 1920}, {"1080p", 928, 2176},  {"1080p", 2176, 928},
};
#define N_DIMS (sizeof(dims_table) / sizeof(dims_table[0]))

const char *vs_task_dims_class(long width, long height)
{
  size_t i;
  for(i = 0; i < N_DIMS; i++)
    if(dims_table[i].w == width && dims_table[i].h == height)
      return dims_table[i].cls;
  return NULL;
}

void vs_dims_allowed(char out[VS_DIMS_ALLOWED_LEN])
{
  static const char classes[3][6] = {"480p", "720p", "1080p"};
  size_t o = 0, i, c;
  for(c = 0; c < 3; c++) {
    o += (size_t)snprintf(out + o, VS_DIMS_ALLOWED_LEN - o, "%s%s:",
                          c ? "; " : "", classes[c]);
    for(i = 0; i < N_DIMS; i++)
      if(!strcmp(dims_table[i].cls, classes[c]))
        o += (size_t)snprintf(out + o, VS_DIMS_ALLOWED_LEN - o, " %ldx%ld",
                              dims_table[i].w, dims_table[i].h);
  }
}

/* ---- rules ------------------------------------------------------------- */
int vs_rule_prompt(vs_task_errors *e, const char *text)
{
  long n;
  if(!text) {
    vs_terr(e, "positivePrompt", "", VS_A_PROMPT,
            "positivePrompt is required");
    return -1;
  }
  n = vs_utf8_count(text, strlen(text));
  if(n < 0) {
    vs_terr(e, "positivePrompt", text, VS_A_PROMPT,
            "positivePrompt is not valid UTF-8");
    return -1;
  }
  if(n < VS_TASK_PROMPT_MIN || n > VS_TASK_PROMPT_MAX) {
    vs_terr(e, "positivePrompt", text, VS_A_PROMPT,
            "positivePrompt has %ld characters; it must have %d..%d", n,
            VS_TASK_PROMPT_MIN, VS_TASK_PROMPT_MAX);
    return -1;
  }
  return 0;
}

static int side(vs_task_errors *e, const char *field, const char *text,
                long *v)
{
  int64_t x;
  char allowed[VS_DIMS_ALLOWED_LEN];
  if(vs_tparse_int(text, 1, 100000, &x)) {
    vs_dims_allowed(allowed);
    vs_terr(e, field, text, allowed,
            "%s must be a whole number of pixels from the dimension table",
            field);
    return -1;
  }
  *v = (long)x;
  return 0;
}

static const char *canon_res(const char *t)
{
  static const char *const res[] = {"480p", "720p", "1080p"};
  size_t i;
  for(i = 0; i < 3; i++)
    if(!strcasecmp(t, res[i]))
      return res[i];
  return NULL;
}

static int shape_pair(vs_task_errors *e, const char *wt, const char *ht,
                      long *w, long *h)
{
  char pair[64], allowed[VS_DIMS_ALLOWED_LEN];
  if(!ht || !wt) {
    const char *missing = ht ? "width" : "height";
    vs_terr(e, missing, "",
            ht ? "given together with height" : "given together with width",
            "%s is required with %s", missing, ht ? "height" : "width");
    return -1;
  }
  if(side(e, "width", wt, w) | side(e, "height", ht, h))
    return -1;
  if(!vs_task_dims_class(*w, *h)) {
    snprintf(pair, sizeof(pair), "%ldx%ld", *w, *h);
    vs_dims_allowed(allowed);
    vs_terr(e, "width", pair, allowed,
            "width x height %s is not in the dimension table", pair);
    return -1;
  }
  return 0;
}

int vs_rule_shape(vs_task_errors *e, const char *wt, const char *ht,
                  const char *rt, int has_frame, long *w, long *h,
                  const char **res)
{
  int bad = 0;
  *w = *h = 0;
  *res = NULL;
  if(rt) {
    *res = canon_res(rt);
    if(!*res) {
      vs_terr(e, "resolution", rt, VS_A_RESOLUTION,
              "resolution must be 480p, 720p or 1080p");
      bad = -1;
    }
    if(wt || ht) {
      vs_terr(e, "resolution", rt, VS_A_SIZE_OR_RES,
              "resolution cannot be given together with width and height");
      bad = -1;
    }
  }
  if((wt || ht) && shape_pair(e, wt, ht, w, h))
    bad = -1;
  if(!rt && !wt && !ht && !has_frame) {
    vs_terr(e, "resolution", "", VS_A_NEED_SHAPE,
            "a frame image, width and height, or a resolution is required");
    bad = -1;
  }
  return bad;
}

int vs_rule_duration(vs_task_errors *e, const char *text, int64_t *tenths)
{
  int rc = vs_tparse_tenths(text, tenths);
  if(rc == -1) {
    vs_terr(e, "duration", text, VS_A_DURATION,
            "duration must be a plain decimal number of seconds");
    return -1;
  }
  if(rc == -2) {
    vs_terr(e, "duration", text, VS_A_DURATION,
            "duration must be in steps of 0.1 seconds");
    return -1;
  }
  if(*tenths < VS_TASK_DURATION_MIN || *tenths > VS_TASK_DURATION_MAX) {
    vs_terr(e, "duration", text, VS_A_DURATION,
            "duration must be between 1.2 and 12 seconds");
    return -1;
  }
  return 0;
}

int vs_rule_seed(vs_task_errors *e, const char *text, int64_t *seed)
{
  int rc = vs_tparse_int(text, 0, INT64_MAX, seed);
  if(rc == -1) {
    vs_terr(e, "seed", text, VS_A_SEED, "seed must be a whole number");
    return -1;
  }
  if(rc == -2) {
    vs_terr(e, "seed", text, VS_A_SEED,
            "seed must be between 0 and 9223372036854775807");
    return -1;
  }
  return 0;
}

int vs_rule_int(vs_task_errors *e, const char *field, const char *text,
                int64_t min, int64_t max, const char *allowed, int64_t *v)
{
  int rc = vs_tparse_int(text, min, max, v);
  if(rc == -1) {
    vs_terr(e, field, text, allowed, "%s must be a whole number", field);
    return -1;
  }
  if(rc == -2) {
    vs_terr(e, field, text, allowed, "%s is out of range", field);
    return -1;
  }
  return 0;
}

int vs_rule_format(vs_task_errors *e, const char *text, const char **canon)
{
  static const char *const fmts[] = {"MP4", "WEBM", "MOV"};
  size_t i;
  for(i = 0; i < 3; i++)
    if(!strcasecmp(text, fmts[i]))
      return *canon = fmts[i], 0;
  vs_terr(e, "outputFormat", text, VS_A_FORMAT,
          "outputFormat must be MP4, WEBM or MOV");
  return -1;
}

int vs_rule_bool(vs_task_errors *e, const char *field, const char *text,
                 int *b)
{
  if(!vs_tparse_bool(text, b))
    return 0;
  vs_terr(e, field, text, VS_A_BOOL, "%s must be true or false", field);
  return -1;
}

int vs_rule_safety(vs_task_errors *e, const char *field, const char *text,
                   const char **mode)
{
  static const char *const modes[] = {"none", "fast", "full"};
  size_t i;
  for(i = 0; i < 3; i++)
    if(!strcasecmp(text, modes[i]))
      return *mode = modes[i], 0;
  vs_terr(e, field, text, VS_A_SAFETY,
          "safety mode must be none, fast or full");
  return -1;
}
