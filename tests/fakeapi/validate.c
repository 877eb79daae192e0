/* The videoInference rules of the model page (bytedance:2@2), as a table.
 * Every bad field gets its own error item, all of a task's errors at once,
 * the way the API scopes errors to a task. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "fakeapi.h"
#include "util/buf.h"
#include "util/enc.h"
#include "util/json.h"
#include "util/uuid.h"

#define DOCS "https://runware.ai/docs/en/video-inference/api-reference"
#define MAX_IMAGE (10L * 1024 * 1024)

typedef struct vctx {
  cJSON *errors;
  const char *uuid;   /* the task's taskUUID when it is a string */
  int nerr;
} vctx;

struct rule;
typedef void (*check_fn)(vctx *c, const struct rule *r, const cJSON *v);

typedef struct rule {
  const char *name;   /* key in its object */
  const char *path;   /* the parameter as reported */
  const char *type;
  int required;
  int64_t min, max;
  const char *const *allowed; /* NULL-terminated */
  const struct rule *sub;     /* members of an object, ends with name NULL */
  check_fn check;
} rule;

void fa_error_add(cJSON *errors, const char *code, const char *param,
                  const char *type, const char *task_type,
                  const char *task_uuid, cJSON *allowed, const char *fmt, ...)
{
  cJSON *e = cJSON_CreateObject();
  vs_buf msg = VS_BUF_INIT, doc = VS_BUF_INIT;
  va_list ap;
  const char *p;
  va_start(ap, fmt);
  vs_buf_vaddf(&msg, fmt, ap);
  va_end(ap);
  cJSON_AddStringToObject(e, "code", code);
  cJSON_AddStringToObject(e, "message", vs_buf_str(&msg));
  if(param) {
    cJSON_AddStringToObject(e, "parameter", param);
    vs_buf_adds(&doc, DOCS "#request-");
    for(p = param; *p; p++)
      vs_buf_addc(&doc, *p == '.' ? '-' : (char)tolower((unsigned char)*p));
  }
  else
    vs_buf_adds(&doc, DOCS);
  if(type)
    cJSON_AddStringToObject(e, "type", type);
  cJSON_AddStringToObject(e, "taskType", task_type);
  if(task_uuid)
    cJSON_AddStringToObject(e, "taskUUID", task_uuid);
  cJSON_AddStringToObject(e, "documentation", vs_buf_str(&doc));
  if(allowed)
    cJSON_AddItemToObject(e, "allowedValues", allowed);
  cJSON_AddItemToArray(errors, e);
  vs_buf_free(&msg);
  vs_buf_free(&doc);
}

/* "invalid" + "Mode" for "safety.mode": prefix and the last component. */
static void code_for(const char *prefix, const char *path, char *out,
                     size_t cap)
{
  const char *last = strrchr(path, '.');
  last = last ? last + 1 : path;
  snprintf(out, cap, "%s%c%s", prefix, toupper((unsigned char)last[0]),
           last + 1);
}

static cJSON *allowed_list(const char *const *allowed)
{
  cJSON *a;
  if(!allowed)
    return NULL;
  a = cJSON_CreateArray();
  for(; *allowed; allowed++)
    cJSON_AddItemToArray(a, cJSON_CreateString(*allowed));
  return a;
}

static void fail(vctx *c, const char *prefix, const char *path,
                 const char *type, cJSON *allowed, const char *fmt, ...)
  __attribute__((format(printf, 6, 7)));

static void fail(vctx *c, const char *prefix, const char *path,
                 const char *type, cJSON *allowed, const char *fmt, ...)
{
  char code[64];
  vs_buf msg = VS_BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  vs_buf_vaddf(&msg, fmt, ap);
  va_end(ap);
  code_for(prefix, path, code, sizeof(code));
  fa_error_add(c->errors, code, path, type, "videoInference", c->uuid,
               allowed, "%s", vs_buf_str(&msg));
  vs_buf_free(&msg);
  c->nerr++;
}

/* The value as the client sent it, shortened, for messages. */
static void shown(const cJSON *v, char *out, size_t cap)
{
  char *s = cJSON_PrintUnformatted(v);
  const char *t = vs_json_number_text(v);
  snprintf(out, cap, "%s", t ? t : s ? s : "?");
  if(strlen(out) > 60)
    strcpy(out + 57, "...");
  free(s);
}

static void bad_value(vctx *c, const rule *r, const cJSON *v,
                      const char *what)
{
  char val[64];
  shown(v, val, sizeof(val));
  fail(c, "invalid", r->path, r->type, allowed_list(r->allowed),
       "Invalid value for %s parameter: %s. %s", r->path, val, what);
}

static void check_enum(vctx *c, const rule *r, const cJSON *v)
{
  const char *const *a;
  vs_buf what = VS_BUF_INIT;
  if(cJSON_IsString(v))
    for(a = r->allowed; *a; a++)
      if(!strcmp(*a, v->valuestring))
        return;
  vs_buf_adds(&what, "Allowed values:");
  for(a = r->allowed; *a; a++)
    vs_buf_addf(&what, " %s", *a);
  vs_buf_addc(&what, '.');
  bad_value(c, r, v, vs_buf_str(&what));
  vs_buf_free(&what);
}

static void check_int(vctx *c, const rule *r, const cJSON *v)
{
  int64_t x;
  char what[128];
  if(!vs_json_int64(v, r->min, r->max, &x))
    return;
  if(r->max == INT64_MAX)
    snprintf(what, sizeof(what), "It must be an integer of at least %lld.",
             (long long)r->min);
  else
    snprintf(what, sizeof(what), "It must be an integer from %lld to %lld.",
             (long long)r->min, (long long)r->max);
  bad_value(c, r, v, what);
}

static void check_bool(vctx *c, const rule *r, const cJSON *v)
{
  if(!cJSON_IsBool(v))
    bad_value(c, r, v, "It must be a boolean.");
}

/* Characters, not bytes: count the bytes that start a UTF-8 sequence. */
static size_t utf8_chars(const char *s)
{
  size_t n = 0;
  for(; *s; s++)
    n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

static void check_prompt(vctx *c, const rule *r, const cJSON *v)
{
  size_t n;
  if(!cJSON_IsString(v)) {
    bad_value(c, r, v, "It must be a string.");
    return;
  }
  n = utf8_chars(v->valuestring);
  if(n < (size_t)r->min || n > (size_t)r->max)
    fail(c, "invalid", r->path, r->type, NULL,
         "Invalid value for %s parameter: %zu characters. It must be a "
         "string of %lld to %lld characters.", r->path, n,
         (long long)r->min, (long long)r->max);
}

static void check_uuid(vctx *c, const rule *r, const cJSON *v)
{
  if(!cJSON_IsString(v) || strlen(v->valuestring) != 36 ||
     !vs_uuid_is_v4(v->valuestring, 36))
    bad_value(c, r, v, "It must be a UUID v4.");
}

/* Tenths of a second from the number's source text, never a double. */
static int duration_tenths(const cJSON *v, int64_t *tenths)
{
  const char *t = vs_json_number_text(v);
  vs_dec d;
  if(!t)
    return -1;
  if(strpbrk(t, "eE") ? vs_dec_from_json_number(v->valuedouble, &d)
                      : vs_dec_parse(t, strlen(t), &d))
    return -1;
  if(d % (VS_DEC_SCALE / 10))
    return -1;
  *tenths = d / (VS_DEC_SCALE / 10);
  return 0;
}

static void check_duration(vctx *c, const rule *r, const cJSON *v)
{
  int64_t t;
  if(duration_tenths(v, &t) || t < 12 || t > 120)
    bad_value(c, r, v,
              "It must be a number from 1.2 to 12 in steps of 0.1.");
}

static int is_http_url(const char *s)
{
  CURLU *u = curl_url();
  char *scheme = NULL;
  int ok = u && !curl_url_set(u, CURLUPART_URL, s, 0) &&
           !curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) &&
           (!strcmp(scheme, "http") || !strcmp(scheme, "https"));
  curl_free(scheme);
  curl_url_cleanup(u);
  return ok;
}

static void check_uri(vctx *c, const rule *r, const cJSON *v)
{
  if(!cJSON_IsString(v) || !is_http_url(v->valuestring))
    bad_value(c, r, v, "It must be an absolute http or https URI.");
}

static void check_members(vctx *c, const rule *rules, const char *path,
                          const cJSON *obj);

static void check_object(vctx *c, const rule *r, const cJSON *v)
{
  if(!cJSON_IsObject(v)) {
    bad_value(c, r, v, "It must be an object.");
    return;
  }
  check_members(c, r->sub, r->path, v);
}

/* ---- inputs.frameImages ---------------------------------------------- */

static int is_uuid_form(const char *s)
{
  size_t i;
  if(strlen(s) != 36)
    return 0;
  for(i = 0; i < 36; i++)
    if((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-'
                                                 : !isxdigit((unsigned char)s[i]))
      return 0;
  return 1;
}

/* Decodes base64 and checks the image: PNG/JPEG/WEBP, 300..6000 px a side,
 * at most 10 MiB. NULL when good, else what is wrong (into why). */
static const char *check_image_b64(const char *b64, char *why, size_t cap)
{
  size_t len = strlen(b64);
  size_t max = len / 4 * 3 + 3;
  uint8_t *bytes;
  long n, w = 0, h = 0;
  const char *type;
  if(max > MAX_IMAGE + 3)
    return snprintf(why, cap, "the image is over 10 MiB"), why;
  bytes = malloc(max ? max : 1);
  if(!bytes)
    return "out of memory";
  n = vs_unb64(b64, len, bytes, max);
  type = n > 0 ? fa_image_sniff(bytes, (size_t)n, &w, &h) : NULL;
  free(bytes);
  if(n <= 0)
    return "it is neither a UUID, a URL, a data URI nor valid base64";
  if(!type)
    return "the image is not a PNG, JPEG or WEBP";
  if(w < 300 || w > 6000 || h < 300 || h > 6000)
    return snprintf(why, cap, "the %s is %ldx%ld; each side must be 300 to "
                    "6000 px", type, w, h), why;
  return NULL;
}

static const char *image_problem(const char *s, char *why, size_t cap)
{
  const char *comma;
  if(!*s)
    return "it is empty";
  if(is_uuid_form(s))
    return NULL;
  if(!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8))
    return is_http_url(s) ? NULL : "it is not a valid URL";
  if(!strncmp(s, "data:", 5)) {
    comma = strchr(s, ',');
    if(!comma || strncmp(s, "data:image/", 11) ||
       strncmp(comma - 7, ";base64", 7))
      return "a data URI must be data:image/<type>;base64,<data>";
    return check_image_b64(comma + 1, why, cap);
  }
  return check_image_b64(s, why, cap);
}

static void check_frame_item(vctx *c, const rule *r, const cJSON *item)
{
  const cJSON *img = item, *frame, *k;
  char why[128];
  const char *problem;
  if(cJSON_IsObject(item)) {
    img = cJSON_GetObjectItemCaseSensitive(item, "image");
    frame = cJSON_GetObjectItemCaseSensitive(item, "frame");
    for(k = item->child; k; k = k->next)
      if(strcmp(k->string, "image") && strcmp(k->string, "frame"))
        fail(c, "invalid", "inputs.frameImages", "object", NULL,
             "Unsupported member %s in inputs.frameImages[0].", k->string);
    if(frame && !(cJSON_IsString(frame) && !strcmp(frame->valuestring,
                                                   "first")) &&
       !(cJSON_IsNumber(frame) && vs_json_number_text(frame) &&
         !strcmp(vs_json_number_text(frame), "0")))
      bad_value(c, r, frame, "This model only supports the first frame: "
                "frame must be \"first\" or 0.");
    if(!img) {
      fail(c, "missing", "inputs.frameImages", "string", NULL,
           "Missing image in inputs.frameImages[0].");
      return;
    }
  }
  if(!cJSON_IsString(img)) {
    bad_value(c, r, img, "An item must be an image (UUID, URL, data URI or "
              "base64) or an object {\"image\", \"frame\"}.");
    return;
  }
  problem = image_problem(img->valuestring, why, sizeof(why));
  if(problem)
    fail(c, "invalid", r->path, r->type, NULL,
         "Invalid value for %s parameter: %s.", r->path, problem);
}

static void check_frames(vctx *c, const rule *r, const cJSON *v)
{
  int n = cJSON_GetArraySize(v);
  if(!cJSON_IsArray(v) || n != 1) {
    char what[80];
    snprintf(what, sizeof(what), "It must be an array of exactly 1 item; "
             "got %d.", cJSON_IsArray(v) ? n : 0);
    bad_value(c, r, v, what);
    return;
  }
  check_frame_item(c, r, v->child);
}

/* ---- the table --------------------------------------------------------- */

static const char *const v_model[] = {"bytedance:2@2", NULL};
static const char *const v_res[] = {"480p", "720p", "1080p", NULL};
static const char *const v_otype[] = {"URL", NULL};
static const char *const v_format[] = {"MP4", "WEBM", "MOV", NULL};
static const char *const v_delivery[] = {"async", NULL};
static const char *const v_mode[] = {"none", "fast", "full", NULL};
static const char *const v_task[] = {"videoInference", NULL};

static const rule safety_rules[] = {
  {"checkContent", "safety.checkContent", "boolean", 0, 0, 0, NULL, NULL,
   check_bool},
  {"mode", "safety.mode", "string", 0, 0, 0, v_mode, NULL, check_enum},
  {NULL},
};
static const rule inputs_rules[] = {
  {"frameImages", "inputs.frameImages", "array", 0, 0, 0, NULL, NULL,
   check_frames},
  {NULL},
};
static const rule bytedance_rules[] = {
  {"cameraFixed", "providerSettings.bytedance.cameraFixed", "boolean", 0, 0,
   0, NULL, NULL, check_bool},
  {NULL},
};
static const rule provider_rules[] = {
  {"bytedance", "providerSettings.bytedance", "object", 0, 0, 0, NULL,
   bytedance_rules, check_object},
  {NULL},
};

static const rule task_rules[] = {
  {"taskType", "taskType", "string", 1, 0, 0, v_task, NULL, check_enum},
  {"taskUUID", "taskUUID", "string", 1, 0, 0, NULL, NULL, check_uuid},
  {"model", "model", "string", 1, 0, 0, v_model, NULL, check_enum},
  {"positivePrompt", "positivePrompt", "string", 1, 2, 3000, NULL, NULL,
   check_prompt},
  {"width", "width", "integer", 0, 1, INT32_MAX, NULL, NULL, check_int},
  {"height", "height", "integer", 0, 1, INT32_MAX, NULL, NULL, check_int},
  {"resolution", "resolution", "string", 0, 0, 0, v_res, NULL, check_enum},
  {"duration", "duration", "float", 0, 0, 0, NULL, NULL, check_duration},
  {"seed", "seed", "integer", 0, 0, INT64_MAX, NULL, NULL, check_int},
  {"numberResults", "numberResults", "integer", 0, 1, 4, NULL, NULL,
   check_int},
  {"outputType", "outputType", "string", 0, 0, 0, v_otype, NULL, check_enum},
  {"outputFormat", "outputFormat", "string", 0, 0, 0, v_format, NULL,
   check_enum},
  {"outputQuality", "outputQuality", "integer", 0, 20, 99, NULL, NULL,
   check_int},
  {"deliveryMethod", "deliveryMethod", "string", 0, 0, 0, v_delivery, NULL,
   check_enum},
  {"webhookURL", "webhookURL", "string", 0, 0, 0, NULL, NULL, check_uri},
  {"uploadEndpoint", "uploadEndpoint", "string", 0, 0, 0, NULL, NULL,
   check_uri},
  {"ttl", "ttl", "integer", 0, 60, INT64_MAX, NULL, NULL, check_int},
  {"includeCost", "includeCost", "boolean", 0, 0, 0, NULL, NULL, check_bool},
  {"safety", "safety", "object", 0, 0, 0, NULL, safety_rules, check_object},
  {"inputs", "inputs", "object", 0, 0, 0, NULL, inputs_rules, check_object},
  {"providerSettings", "providerSettings", "object", 0, 0, 0, NULL,
   provider_rules, check_object},
  {NULL},
};

static void check_members(vctx *c, const rule *rules, const char *path,
                          const cJSON *obj)
{
  const rule *r;
  const cJSON *k;
  for(r = rules; r->name; r++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, r->name);
    if(v)
      r->check(c, r, v);
    else if(r->required)
      fail(c, "missing", r->path, r->type, allowed_list(r->allowed),
           "Missing required parameter %s.", r->path);
  }
  for(k = obj->child; k; k = k->next) {
    for(r = rules; r->name && strcmp(r->name, k->string); r++)
      ;
    if(!r->name) {
      char p[160];
      snprintf(p, sizeof(p), "%s%s%s", path ? path : "", path ? "." : "",
               k->string);
      fa_error_add(c->errors, "unsupportedParameter", p, NULL,
                   "videoInference", c->uuid, NULL, "Unsupported parameter "
                   "%s for model bytedance:2@2.", p);
      c->nerr++;
    }
  }
}

/* ---- rules across fields, and what a good task yields ---------------- */

static int get_int(const cJSON *t, const char *name, int64_t *out)
{
  return !vs_json_int64(cJSON_GetObjectItemCaseSensitive(t, name), INT64_MIN,
                        INT64_MAX, out);
}

static int has_frames(const cJSON *t)
{
  const cJSON *in = cJSON_GetObjectItemCaseSensitive(t, "inputs");
  return cJSON_GetObjectItemCaseSensitive(in, "frameImages") != NULL;
}

static void check_size(vctx *c, const cJSON *t)
{
  int hw = cJSON_HasObjectItem(t, "width"), hh = cJSON_HasObjectItem(t, "height");
  int hr = cJSON_HasObjectItem(t, "resolution");
  int64_t w, h;
  if(hw != hh) {
    const char *miss = hw ? "height" : "width";
    fail(c, "missing", miss, "integer", NULL, "Missing %s: width and height "
         "must be given together.", miss);
    return;
  }
  if(hw && hr) {
    fail(c, "conflicting", "resolution", "string", NULL, "resolution cannot "
         "be used together with width and height.");
    return;
  }
  if(!hw && !hr && !has_frames(t)) {
    fail(c, "missing", "resolution", "string", allowed_list(v_res),
         "One of width and height, resolution or inputs.frameImages is "
         "required.");
    return;
  }
  if(hw && get_int(t, "width", &w) && get_int(t, "height", &h) &&
     w > 0 && h > 0 && !fa_dimension_class(w, h)) {
    fa_error_add(c->errors, "unsupportedDimensions", "width", "integer",
                 "videoInference", c->uuid, fa_dimension_list(),
                 "Unsupported width and height %lldx%lld for model "
                 "bytedance:2@2: the pair must come from the dimension "
                 "table.", (long long)w, (long long)h);
    c->nerr++;
  }
}

/* The price class: the pair's, the resolution, or 720p with a frame image
 * and no size (the page does not say; 720p is the documented example). */
static const char *price_class(const cJSON *t)
{
  const cJSON *res = cJSON_GetObjectItemCaseSensitive(t, "resolution");
  int64_t w, h;
  if(get_int(t, "width", &w) && get_int(t, "height", &h))
    return fa_dimension_class(w, h);
  if(cJSON_IsString(res))
    return res->valuestring;
  return "720p";
}

static const char *str_or(const cJSON *t, const char *name, const char *def)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, name);
  return cJSON_IsString(v) ? v->valuestring : def;
}

static int extract(vctx *c, const cJSON *t, fa_spec *s)
{
  int64_t v, tenths = 50;
  size_t i;
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(t, "duration");
  memset(s, 0, sizeof(*s));
  for(i = 0; i < 36; i++)
    s->uuid[i] = (char)tolower((unsigned char)c->uuid[i]);
  snprintf(s->format, sizeof(s->format), "%s",
           str_or(t, "outputFormat", "MP4"));
  s->n = get_int(t, "numberResults", &v) ? (int)v : 1;
  s->has_seed = get_int(t, "seed", &s->seed);
  s->include_cost = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
    t, "includeCost"));
  s->upload = str_or(t, "uploadEndpoint", NULL);
  s->webhook = str_or(t, "webhookURL", NULL);
  if(d && duration_tenths(d, &tenths))
    return -1;
  if(fa_cost(price_class(t), tenths, &s->cost)) {
    fail(c, "invalid", "duration", "float", NULL, "No price for this task.");
    return -1;
  }
  return 0;
}

int fa_validate(const cJSON *task, cJSON *errors, fa_spec *spec)
{
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(task, "taskUUID");
  vctx c = {errors, cJSON_IsString(u) ? u->valuestring : NULL, 0};
  check_members(&c, task_rules, NULL, task);
  check_size(&c, task);
  if(c.nerr)
    return c.nerr;
  if(extract(&c, task, spec))
    return c.nerr ? c.nerr : 1;
  return 0;
}
