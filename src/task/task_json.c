/* One line of a jobs file (a JSON object) into vs_task_opts, without ever
 * reading a number through its double. */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "task_int.h"
#include "util/json.h"

enum kind { K_STR, K_NUM, K_BOOL, K_NOCOST };

static const struct key {
  const char *name;
  size_t off;
  const char *field;   /* the API field errors name */
  const char *allowed; /* NULL: the dimension table */
  enum kind kind;
} keys[] = {
  {"prompt", offsetof(vs_task_opts, prompt), "positivePrompt", VS_A_PROMPT,
   K_STR},
  {"prompt-file", offsetof(vs_task_opts, prompt_file), "positivePrompt",
   "a file holding " VS_A_PROMPT, K_STR},
  {"width", offsetof(vs_task_opts, width), "width", NULL, K_NUM},
  {"height", offsetof(vs_task_opts, height), "height", NULL, K_NUM},
  {"resolution", offsetof(vs_task_opts, resolution), "resolution",
   VS_A_RESOLUTION, K_STR},
  {"frame-image", offsetof(vs_task_opts, frame_image), "inputs.frameImages",
   VS_A_FRAME, K_STR},
  {"duration", offsetof(vs_task_opts, duration), "duration", VS_A_DURATION,
   K_NUM},
  {"seed", offsetof(vs_task_opts, seed), "seed", VS_A_SEED, K_NUM},
  {"results", offsetof(vs_task_opts, results), "numberResults", VS_A_RESULTS,
   K_NUM},
  {"format", offsetof(vs_task_opts, format), "outputFormat", VS_A_FORMAT,
   K_STR},
  {"quality", offsetof(vs_task_opts, quality), "outputQuality", VS_A_QUALITY,
   K_NUM},
  {"camera-fixed", offsetof(vs_task_opts, camera_fixed),
   "providerSettings.bytedance.cameraFixed", VS_A_BOOL, K_BOOL},
  {"safety", offsetof(vs_task_opts, safety), "safety.mode", VS_A_SAFETY,
   K_STR},
  {"ttl", offsetof(vs_task_opts, ttl), "ttl", VS_A_TTL, K_NUM},
  {"include-cost", offsetof(vs_task_opts, include_cost), "includeCost",
   VS_A_BOOL, K_BOOL},
  {"no-cost", offsetof(vs_task_opts, include_cost), "includeCost", VS_A_BOOL,
   K_NOCOST},
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* Option names compare without '-' and '_' and in any case, so
 * "frame-image", "frame_image" and "frameImage" are one key. */
static int same_name(const char *a, const char *b)
{
  for(;;) {
    while(*a == '-' || *a == '_')
      a++;
    while(*b == '-' || *b == '_')
      b++;
    if(tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
    if(!*a)
      return 1;
    a++;
    b++;
  }
}

static const struct key *find_key(const char *name)
{
  size_t i;
  for(i = 0; i < N_KEYS; i++)
    if(same_name(name, keys[i].name))
      return &keys[i];
  return NULL;
}

/* The text of a value as the option would hold it, or NULL when its JSON
 * type does not fit the key. */
static const char *value_text(const struct key *k, const cJSON *v)
{
  if(cJSON_IsString(v))
    return v->valuestring;
  if(k->kind != K_STR && cJSON_IsNumber(v))
    return vs_json_number_text(v);
  if((k->kind == K_BOOL || k->kind == K_NOCOST) && cJSON_IsBool(v))
    return cJSON_IsTrue(v) ? "true" : "false";
  return NULL;
}

static void type_error(vs_task_errors *errs, const struct key *k,
                       const cJSON *v)
{
  static const char *const want[] = {
    "a JSON string", "a JSON number or string", "true or false",
    "true or false"};
  char *shown = cJSON_PrintUnformatted(v), dims[VS_DIMS_ALLOWED_LEN];
  if(!k->allowed)
    vs_dims_allowed(dims);
  vs_terr(errs, k->field, shown ? shown : "?", k->allowed ? k->allowed : dims,
          "\"%s\" must be %s%s", k->name, want[k->kind],
          cJSON_IsNumber(v) && k->kind != K_STR
            ? " (parse the line with vs_json_parse)"
            : "");
  cJSON_free(shown);
}

/* --no-cost true is --include-cost false. */
static const char *negate(vs_task_errors *errs, const struct key *k,
                          const char *text)
{
  int b;
  if(vs_tparse_bool(text, &b)) {
    vs_terr(errs, k->field, text, VS_A_BOOL, "\"no-cost\" must be true or "
            "false");
    return NULL;
  }
  return b ? "false" : "true";
}

static void take(vs_task_opts *o, vs_task_errors *errs, const cJSON *v,
                 unsigned *seen)
{
  const struct key *k = find_key(v->string);
  const char **slot, *text;
  if(!k) {
    vs_terr(errs, v->string, v->string, "the options of vsink submit",
            "\"%s\" is not a task option", v->string);
    return;
  }
  if(cJSON_IsNull(v))
    return;
  slot = (const char **)((char *)o + k->off);
  text = value_text(k, v);
  if(*seen & (1u << k->off / sizeof(char *))) {
    vs_terr(errs, k->field, text ? text : "", k->allowed ? k->allowed : "",
            "\"%s\" is given twice (or with its opposite)", v->string);
    return;
  }
  *seen |= 1u << k->off / sizeof(char *);
  if(!text) {
    type_error(errs, k, v);
    return;
  }
  if(k->kind == K_NOCOST && !(text = negate(errs, k, text)))
    return;
  *slot = text;
}

int vs_task_opts_from_json(const cJSON *line, vs_task_opts *o,
                           vs_task_errors *errs)
{
  const cJSON *v;
  unsigned seen = 0;
  memset(o, 0, sizeof(*o));
  errs->n = errs->dropped = 0;
  if(!cJSON_IsObject(line)) {
    char *shown = line ? cJSON_PrintUnformatted(line) : NULL;
    vs_terr(errs, "(line)", shown ? shown : "", "a JSON object of options",
            "a jobs line must be a JSON object");
    cJSON_free(shown);
    return VS_ERR_INVALID;
  }
  for(v = line->child; v; v = v->next)
    take(o, errs, v, &seen);
  return errs->n ? VS_ERR_INVALID : VS_OK;
}
