/* vs_task_build: options (text) to one videoInference task, or every error
 * at once. Also taskUUIDs and object keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "task_int.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/uuid.h"

/* Integers above 2^53 do not survive cJSON's double: those go out as raw
 * text. */
#define EXACT_DOUBLE_MAX 9007199254740992LL

typedef struct bctx {
  cJSON *t;
  vs_task_errors *e;
  int nomem;
} bctx;

static void note(bctx *b, const void *added)
{
  if(!added)
    b->nomem = 1;
}

static void add_int(bctx *b, cJSON *obj, const char *name, int64_t v)
{
  char txt[24];
  if(v <= EXACT_DOUBLE_MAX && v >= -EXACT_DOUBLE_MAX) {
    note(b, cJSON_AddNumberToObject(obj, name, (double)v));
    return;
  }
  snprintf(txt, sizeof(txt), "%lld", (long long)v);
  note(b, cJSON_AddRawToObject(obj, name, txt));
}

const char *vs_task_num_text(const cJSON *n)
{
  if(cJSON_IsRaw(n))
    return n->valuestring;
  return vs_json_number_text(n);
}

/* ---- the prompt --------------------------------------------------------- */
static int read_prompt_file(bctx *b, const char *path, char **out)
{
  char *data = NULL;
  size_t len = 0;
  vs_err err;
  if(vs_read_file(path, VS_TASK_PROMPT_FILE_MAX, &data, &len, &err)) {
    if(err.code == VS_ERR_NOMEM)
      return b->nomem = 1, -1;
    vs_terr(b->e, "positivePrompt", path, VS_A_PROMPT,
            err.code == VS_ERR_TOOLARGE
              ? "prompt file %s is larger than a prompt of 3000 characters "
                "can be"
              : "prompt file %s cannot be read",
            path);
    return -1;
  }
  if(memchr(data, 0, len)) {
    vs_terr(b->e, "positivePrompt", path, VS_A_PROMPT,
            "prompt file %s contains a NUL byte", path);
    free(data);
    return -1;
  }
  /* an editor's final newline is not part of the prompt */
  if(len && data[len - 1] == '\n')
    data[--len] = 0;
  if(len && data[len - 1] == '\r')
    data[--len] = 0;
  *out = data;
  return 0;
}

static void build_prompt(bctx *b, const vs_task_opts *o)
{
  char *fromfile = NULL;
  const char *text = o->prompt;
  if(o->prompt && o->prompt_file) {
    vs_terr(b->e, "positivePrompt", o->prompt_file, VS_A_PROMPT,
            "give a prompt or a prompt file, not both");
    return;
  }
  if(o->prompt_file) {
    if(read_prompt_file(b, o->prompt_file, &fromfile))
      return;
    text = fromfile;
  }
  if(!vs_rule_prompt(b->e, text))
    note(b, cJSON_AddStringToObject(b->t, "positivePrompt", text));
  free(fromfile);
}

/* ---- the frame image and the output's shape ---------------------------- */
static cJSON *string_taking(char *s)
{
  /* a data URI may be 13 MB: hand it over rather than copy it */
  cJSON *n = cJSON_CreateString("");
  if(!n) {
    free(s);
    return NULL;
  }
  cJSON_free(n->valuestring);
  n->valuestring = s;
  return n;
}

static void build_frame(bctx *b, const vs_task_opts *o)
{
  char *img = NULL;
  cJSON *inputs, *arr, *item;
  int rc;
  if(!o->frame_image)
    return;
  rc = vs_rule_frame(b->e, o->frame_image, 1, &img);
  if(rc) {
    if(rc == VS_ERR_NOMEM)
      b->nomem = 1;
    return;
  }
  inputs = cJSON_AddObjectToObject(b->t, "inputs");
  arr = inputs ? cJSON_AddArrayToObject(inputs, "frameImages") : NULL;
  item = string_taking(img);
  if(!arr || !item || !cJSON_AddItemToArray(arr, item)) {
    cJSON_Delete(item);
    b->nomem = 1;
  }
}

static void build_shape(bctx *b, const vs_task_opts *o)
{
  long w, h;
  const char *res;
  if(vs_rule_shape(b->e, o->width, o->height, o->resolution,
                   o->frame_image != NULL, &w, &h, &res))
    return;
  if(w) {
    add_int(b, b->t, "width", w);
    add_int(b, b->t, "height", h);
  }
  if(res)
    note(b, cJSON_AddStringToObject(b->t, "resolution", res));
}

/* ---- numbers ------------------------------------------------------------- */
static void build_numbers(bctx *b, const vs_task_opts *o)
{
  int64_t tenths = VS_TASK_DURATION_DEFAULT, seed, n = 1;
  char txt[24];
  if(!o->duration || !vs_rule_duration(b->e, o->duration, &tenths)) {
    vs_tenths_text(tenths, txt);
    note(b, cJSON_AddRawToObject(b->t, "duration", txt));
  }
  if(o->seed && !vs_rule_seed(b->e, o->seed, &seed)) {
    snprintf(txt, sizeof(txt), "%lld", (long long)seed);
    note(b, cJSON_AddRawToObject(b->t, "seed", txt));
  }
  if(!o->results || !vs_rule_int(b->e, "numberResults", o->results, 1,
                                 VS_TASK_RESULTS_MAX, VS_A_RESULTS, &n))
    add_int(b, b->t, "numberResults", n);
}

/* ---- output and delivery ------------------------------------------------ */
static void build_output(bctx *b, const vs_task_opts *o)
{
  const char *fmt = "MP4";
  int64_t q, ttl;
  int cost = 1;
  note(b, cJSON_AddStringToObject(b->t, "outputType", "URL"));
  if(!o->format || !vs_rule_format(b->e, o->format, &fmt))
    note(b, cJSON_AddStringToObject(b->t, "outputFormat", fmt));
  if(o->quality && !vs_rule_int(b->e, "outputQuality", o->quality,
                                VS_TASK_QUALITY_MIN, VS_TASK_QUALITY_MAX,
                                VS_A_QUALITY, &q))
    add_int(b, b->t, "outputQuality", q);
  note(b, cJSON_AddStringToObject(b->t, "deliveryMethod", "async"));
  if(o->ttl && !vs_rule_int(b->e, "ttl", o->ttl, VS_TASK_TTL_MIN, INT64_MAX,
                            VS_A_TTL, &ttl))
    add_int(b, b->t, "ttl", ttl);
  if(!o->include_cost ||
     !vs_rule_bool(b->e, "includeCost", o->include_cost, &cost))
    note(b, cJSON_AddBoolToObject(b->t, "includeCost", cost));
}

static void build_settings(bctx *b, const vs_task_opts *o)
{
  const char *mode;
  int fixed;
  cJSON *obj;
  if(o->safety && !vs_rule_safety(b->e, "safety.mode", o->safety, &mode)) {
    obj = cJSON_AddObjectToObject(b->t, "safety");
    note(b, obj);
    if(obj) {
      note(b, cJSON_AddBoolToObject(obj, "checkContent",
                                    strcmp(mode, "none") != 0));
      note(b, cJSON_AddStringToObject(obj, "mode", mode));
    }
  }
  if(o->camera_fixed &&
     !vs_rule_bool(b->e, "providerSettings.bytedance.cameraFixed",
                   o->camera_fixed, &fixed)) {
    obj = cJSON_AddObjectToObject(b->t, "providerSettings");
    obj = obj ? cJSON_AddObjectToObject(obj, "bytedance") : NULL;
    note(b, obj);
    if(obj)
      note(b, cJSON_AddBoolToObject(obj, "cameraFixed", fixed));
  }
}

int vs_task_build(const vs_task_opts *o, cJSON **task, vs_task_errors *errs)
{
  bctx b = {NULL, errs, 0};
  errs->n = errs->dropped = 0;
  *task = NULL;
  b.t = cJSON_CreateObject();
  if(!b.t)
    return VS_ERR_NOMEM;
  note(&b, cJSON_AddStringToObject(b.t, "taskType", VS_TASK_TYPE));
  note(&b, cJSON_AddStringToObject(b.t, "model", VS_TASK_MODEL));
  build_prompt(&b, o);
  build_frame(&b, o);
  build_shape(&b, o);
  build_numbers(&b, o);
  build_output(&b, o);
  build_settings(&b, o);
  if(b.nomem || errs->n) {
    cJSON_Delete(b.t);
    return b.nomem ? VS_ERR_NOMEM : VS_ERR_INVALID;
  }
  *task = b.t;
  return VS_OK;
}

/* cJSON cannot insert into an object at a place (Debian's cJSON refuses
 * cJSON_InsertItemInArray on objects): append taskUUID, then move every
 * member that followed taskType behind it, keeping their order. */
int vs_task_set_uuid(cJSON *task, const char *uuid)
{
  cJSON *u, *c, *next;
  cJSON_DeleteItemFromObjectCaseSensitive(task, "taskUUID");
  c = cJSON_GetObjectItemCaseSensitive(task, "taskType");
  c = c ? c->next : task->child;
  u = cJSON_AddStringToObject(task, "taskUUID", uuid);
  if(!u)
    return VS_ERR_NOMEM;
  for(; c && c != u; c = next) {
    next = c->next;
    cJSON_DetachItemViaPointer(task, c);
    if(!cJSON_AddItemToObject(task, c->string, c)) {
      cJSON_Delete(c);
      return VS_ERR_NOMEM;
    }
  }
  return VS_OK;
}

/* ---- identifiers and keys ----------------------------------------------- */
int vs_task_new_uuid(char out[37], vs_err *err)
{
  unsigned char rnd[16];
  int rc = vs_random(rnd, sizeof(rnd), err);
  if(rc)
    return rc;
  vs_uuid_format(rnd, out);
  return VS_OK;
}

const char *vs_task_format_ext(const char *format)
{
  static const char *const map[][2] = {
    {"MP4", "mp4"}, {"WEBM", "webm"}, {"MOV", "mov"}};
  size_t i;
  for(i = 0; format && i < 3; i++)
    if(!strcasecmp(format, map[i][0]))
      return map[i][1];
  return NULL;
}

int vs_task_object_key(const char *prefix, int64_t unix_s,
                       const char *task_uuid, const char *format, char *out,
                       size_t cap, vs_err *err)
{
  const char *ext = vs_task_format_ext(format);
  size_t plen = prefix ? strlen(prefix) : 0;
  int64_t y;
  unsigned m, d;
  int n;
  if(!ext)
    return vs_fail(err, VS_ERR_INVALID, "unknown output format %s",
                   format ? format : "(none)");
  if(!task_uuid || !vs_uuid_is_v4(task_uuid, strlen(task_uuid)) ||
     strlen(task_uuid) != 36)
    return vs_fail(err, VS_ERR_INVALID, "taskUUID %s is not a UUID v4",
                   task_uuid ? task_uuid : "(none)");
  while(plen && prefix[plen - 1] == '/')
    plen--;
  vs_civil_from_days(unix_s >= 0 ? unix_s / 86400 : (unix_s - 86399) / 86400,
                     &y, &m, &d);
  n = snprintf(out, cap, "%.*s%s%04lld/%02u/%02u/%s.%s", (int)plen,
               plen ? prefix : "", plen ? "/" : "", (long long)y, m, d,
               task_uuid, ext);
  if(n < 0 || (size_t)n >= cap)
    return vs_fail(err, VS_ERR_TOOLARGE, "object key longer than %zu bytes",
                   cap);
  return VS_OK;
}
