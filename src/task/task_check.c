/* vs_task_check: a task as the API receives it, judged by the same rules as
 * vs_task_build, on the API's own JSON types. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "task_int.h"
#include "util/uuid.h"

enum jt { J_STR, J_NUM, J_BOOL };

/* Room for a number's text when a node has none (built in memory by plain
 * cJSON: its double, at the 15 digits a double holds exactly). */
typedef struct numbuf {
  char b[6][32];
  int used;
} numbuf;

static const char *num_text(const cJSON *v, numbuf *nb)
{
  const char *t = vs_task_num_text(v);
  if(t || !nb || !cJSON_IsNumber(v) || nb->used == 6)
    return t;
  snprintf(nb->b[nb->used], sizeof(nb->b[0]), "%.15g", v->valuedouble);
  return nb->b[nb->used++];
}

/* The field's text when its JSON type is right; an error and NULL when not.
 * Absent (or null) gives NULL without an error. */
static const char *text_of(vs_task_errors *e, const cJSON *parent,
                           const char *name, const char *field, enum jt t,
                           const char *allowed, numbuf *nb)
{
  static const char *const want[] = {"a string", "a number", "a boolean"};
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, name);
  char *shown;
  if(!v || cJSON_IsNull(v))
    return NULL;
  if(t == J_STR && cJSON_IsString(v))
    return v->valuestring;
  if(t == J_NUM && num_text(v, nb))
    return num_text(v, nb);
  if(t == J_BOOL && cJSON_IsBool(v))
    return cJSON_IsTrue(v) ? "true" : "false";
  shown = cJSON_PrintUnformatted(v);
  vs_terr(e, field, shown ? shown : "?", allowed, "%s must be %s", field,
          want[t]);
  cJSON_free(shown);
  return NULL;
}

static void must_equal(vs_task_errors *e, const cJSON *task, const char *name,
                       const char *want, int required)
{
  const char *t = text_of(e, task, name, name, J_STR, want, NULL);
  if(t ? strcmp(t, want) != 0
       : required && !cJSON_GetObjectItemCaseSensitive(task, name))
    vs_terr(e, name, t ? t : "", want, "%s must be %s", name, want);
}

static void check_url(vs_task_errors *e, const cJSON *task, const char *name)
{
  const char *t = text_of(e, task, name, name, J_STR, "an http(s) URL",
                          NULL);
  if(t && strncasecmp(t, "http://", 7) && strncasecmp(t, "https://", 8))
    vs_terr(e, name, t, "an http(s) URL", "%s must be an http(s) URL", name);
}

static void check_ids(vs_task_errors *e, const cJSON *task)
{
  const char *u = text_of(e, task, "taskUUID", "taskUUID", J_STR,
                          "a UUID v4", NULL);
  must_equal(e, task, "taskType", VS_TASK_TYPE, 1);
  must_equal(e, task, "model", VS_TASK_MODEL, 1);
  if(!u || strlen(u) != 36 || !vs_uuid_is_v4(u, 36))
    vs_terr(e, "taskUUID", u ? u : "", "a UUID v4",
            "taskUUID must be a UUID v4");
  must_equal(e, task, "outputType", "URL", 0);
  must_equal(e, task, "deliveryMethod", "async", 0);
  check_url(e, task, "webhookURL");
  check_url(e, task, "uploadEndpoint");
}

/* inputs.frameImages: [image] or [{"image": image, "frame": "first"|0}]. */
static int check_frame(vs_task_errors *e, const cJSON *task)
{
  const cJSON *in = cJSON_GetObjectItemCaseSensitive(task, "inputs");
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(in, "frameImages");
  const cJSON *item, *fr;
  const char *img;
  char *out = NULL;
  int rc;
  if(!in)
    return 0;
  if(!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != 1) {
    vs_terr(e, "inputs.frameImages", "", VS_A_FRAME,
            "inputs.frameImages must be an array of exactly one image");
    return 1;
  }
  item = arr->child;
  if(cJSON_IsObject(item)) {
    fr = cJSON_GetObjectItemCaseSensitive(item, "frame");
    if(fr && !(cJSON_IsString(fr) && !strcmp(fr->valuestring, "first")) &&
       !(cJSON_IsNumber(fr) && fr->valuedouble == 0))
      vs_terr(e, "inputs.frameImages.frame", "", "first or 0",
              "this model only takes the first frame");
    item = cJSON_GetObjectItemCaseSensitive(item, "image");
  }
  img = cJSON_IsString(item) ? item->valuestring : NULL;
  if(!img) {
    vs_terr(e, "inputs.frameImages", "", VS_A_FRAME,
            "the frame image must be a string or {\"image\": string}");
    return 1;
  }
  rc = vs_rule_frame(e, img, 0, &out);
  free(out);
  return rc == VS_ERR_NOMEM ? -1 : 1;
}

static void check_shape_numbers(vs_task_errors *e, const cJSON *task,
                                int has_frame)
{
  char dims[VS_DIMS_ALLOWED_LEN];
  const char *t;
  int64_t v;
  long w, h;
  const char *res;
  const char *wt, *ht, *rt;
  numbuf nb = {.used = 0};
  int before = e->n + e->dropped;
  vs_dims_allowed(dims);
  wt = text_of(e, task, "width", "width", J_NUM, dims, &nb);
  ht = text_of(e, task, "height", "height", J_NUM, dims, &nb);
  rt = text_of(e, task, "resolution", "resolution", J_STR, VS_A_RESOLUTION,
               NULL);
  /* a field of the wrong type is not also missing */
  if(e->n + e->dropped == before)
    vs_rule_shape(e, wt, ht, rt, has_frame, &w, &h, &res);
  if((t = text_of(e, task, "duration", "duration", J_NUM, VS_A_DURATION,
                  &nb)))
    vs_rule_duration(e, t, &v);
  if((t = text_of(e, task, "seed", "seed", J_NUM, VS_A_SEED, &nb)))
    vs_rule_seed(e, t, &v);
  if((t = text_of(e, task, "numberResults", "numberResults", J_NUM,
                  VS_A_RESULTS, &nb)))
    vs_rule_int(e, "numberResults", t, 1, VS_TASK_RESULTS_MAX, VS_A_RESULTS,
                &v);
  if((t = text_of(e, task, "outputQuality", "outputQuality", J_NUM,
                  VS_A_QUALITY, &nb)))
    vs_rule_int(e, "outputQuality", t, VS_TASK_QUALITY_MIN,
                VS_TASK_QUALITY_MAX, VS_A_QUALITY, &v);
  if((t = text_of(e, task, "ttl", "ttl", J_NUM, VS_A_TTL, &nb)))
    vs_rule_int(e, "ttl", t, VS_TASK_TTL_MIN, INT64_MAX, VS_A_TTL, &v);
}

static void check_settings(vs_task_errors *e, const cJSON *task)
{
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(task, "safety");
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(task, "providerSettings");
  const char *t;
  int b;
  if((t = text_of(e, task, "outputFormat", "outputFormat", J_STR,
                  VS_A_FORMAT, NULL)))
    vs_rule_format(e, t, &t);
  text_of(e, task, "includeCost", "includeCost", J_BOOL, VS_A_BOOL, NULL);
  text_of(e, s, "checkContent", "safety.checkContent", J_BOOL, VS_A_BOOL,
          NULL);
  if((t = text_of(e, s, "mode", "safety.mode", J_STR, VS_A_SAFETY, NULL)))
    vs_rule_safety(e, "safety.mode", t, &t);
  p = cJSON_GetObjectItemCaseSensitive(p, "bytedance");
  if((t = text_of(e, p, "cameraFixed",
                  "providerSettings.bytedance.cameraFixed", J_BOOL,
                  VS_A_BOOL, NULL)))
    vs_rule_bool(e, "providerSettings.bytedance.cameraFixed", t, &b);
}

static void check_known(vs_task_errors *e, const cJSON *task)
{
  static const char *const known[] = {
    "taskType", "taskUUID", "model", "positivePrompt", "inputs", "width",
    "height", "resolution", "duration", "seed", "numberResults",
    "outputType", "outputFormat", "outputQuality", "webhookURL",
    "uploadEndpoint", "deliveryMethod", "ttl", "includeCost", "safety",
    "providerSettings"};
  const cJSON *c;
  size_t i;
  for(c = task->child; c; c = c->next) {
    for(i = 0; i < sizeof(known) / sizeof(known[0]); i++)
      if(!strcmp(c->string, known[i]))
        break;
    if(i == sizeof(known) / sizeof(known[0]))
      vs_terr(e, c->string, c->string, "the fields of the model page",
              "%s is not a field of videoInference for " VS_TASK_MODEL,
              c->string);
  }
}

int vs_task_check(const cJSON *task, vs_task_errors *errs)
{
  const char *prompt;
  int frame;
  errs->n = errs->dropped = 0;
  if(!cJSON_IsObject(task)) {
    vs_terr(errs, "(task)", "", "a JSON object", "a task must be an object");
    return VS_ERR_INVALID;
  }
  check_ids(errs, task);
  prompt = text_of(errs, task, "positivePrompt", "positivePrompt", J_STR,
                   VS_A_PROMPT, NULL);
  if(prompt || !cJSON_GetObjectItemCaseSensitive(task, "positivePrompt"))
    vs_rule_prompt(errs, prompt);
  frame = check_frame(errs, task);
  if(frame < 0)
    return VS_ERR_NOMEM;
  check_shape_numbers(errs, task, frame > 0);
  check_settings(errs, task);
  check_known(errs, task);
  return errs->n ? VS_ERR_INVALID : VS_OK;
}
