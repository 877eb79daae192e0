/* The price table and cost estimates. Prices change: this table is the only
 * place they live. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "task_int.h"

/* USD per second of video, published for bytedance:2@2 (16:9), as exact
 * decimal text so no binary float ever holds a price. */
static const struct price {
  const char *resolution;
  const char *usd_per_second;
} prices[] = {
  {"480p", "0.0062"},
  {"720p", "0.0140"},
  {"1080p", "0.0314"},
};

int vs_price_per_second(const char *resolution, vs_dec *usd)
{
  size_t i;
  for(i = 0; resolution && i < sizeof(prices) / sizeof(prices[0]); i++)
    if(!strcmp(resolution, prices[i].resolution))
      return vs_dec_parse(prices[i].usd_per_second,
                          strlen(prices[i].usd_per_second), usd)
               ? VS_ERR_INVALID
               : VS_OK;
  return VS_ERR_INVALID;
}

/* An integer field: exact text when there is some, else a small double. */
static int int_field(const cJSON *task, const char *name, int64_t min,
                     int64_t max, int64_t dflt, int64_t *out)
{
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(task, name);
  const char *t = vs_task_num_text(n);
  if(!n)
    return *out = dflt, 0;
  if(t)
    return vs_tparse_int(t, min, max, out) ? -1 : 0;
  if(!cJSON_IsNumber(n) || n->valuedouble != (double)(int64_t)n->valuedouble)
    return -1;
  *out = (int64_t)n->valuedouble;
  return *out < min || *out > max ? -1 : 0;
}

/* Duration in tenths. A task parsed by plain cJSON has only a double: a
 * value in tenths prints back exactly at 15 significant digits. */
static int duration_tenths(const cJSON *task, int64_t *tenths)
{
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(task, "duration");
  const char *t = vs_task_num_text(n);
  char buf[40];
  if(!n)
    return *tenths = VS_TASK_DURATION_DEFAULT, 0;
  if(!t && cJSON_IsNumber(n)) {
    snprintf(buf, sizeof(buf), "%.15g", n->valuedouble);
    t = buf;
  }
  if(!t || vs_tparse_tenths(t, tenths))
    return -1;
  return *tenths < VS_TASK_DURATION_MIN || *tenths > VS_TASK_DURATION_MAX;
}

int vs_task_price_class(const cJSON *task, const char **cls, int *assumed)
{
  const cJSON *res = cJSON_GetObjectItemCaseSensitive(task, "resolution");
  const cJSON *in = cJSON_GetObjectItemCaseSensitive(task, "inputs");
  int64_t w, h;
  vs_dec unused;
  *assumed = 0;
  if(cJSON_IsString(res)) {
    *cls = res->valuestring;
    return vs_price_per_second(*cls, &unused);
  }
  if(cJSON_GetObjectItemCaseSensitive(task, "width")) {
    if(int_field(task, "width", 1, 100000, 0, &w) ||
       int_field(task, "height", 1, 100000, 0, &h))
      return VS_ERR_INVALID;
    *cls = vs_task_dims_class((long)w, (long)h);
    return *cls ? VS_OK : VS_ERR_INVALID;
  }
  if(cJSON_GetObjectItemCaseSensitive(in, "frameImages")) {
    *cls = VS_PRICE_ASSUMED_CLASS;
    *assumed = 1;
    return VS_OK;
  }
  return VS_ERR_INVALID;
}

int vs_task_estimate_one(const cJSON *task, vs_dec *usd)
{
  const char *cls;
  int assumed;
  int64_t tenths;
  vs_dec per_s;
  if(vs_task_price_class(task, &cls, &assumed) ||
     vs_price_per_second(cls, &per_s) || duration_tenths(task, &tenths))
    return VS_ERR_INVALID;
  return vs_dec_muldiv(per_s, tenths, 10, usd) ? VS_ERR_INVALID : VS_OK;
}

int vs_task_estimate(const cJSON *task, vs_dec *usd)
{
  vs_dec one;
  int64_t n;
  int rc = vs_task_estimate_one(task, &one);
  if(rc)
    return rc;
  if(int_field(task, "numberResults", 1, VS_TASK_RESULTS_MAX, 1, &n))
    return VS_ERR_INVALID;
  return vs_dec_muldiv(one, n, 1, usd) ? VS_ERR_INVALID : VS_OK;
}

const char *vs_task_estimate_note(const cJSON *task)
{
  const char *cls;
  int assumed;
  if(vs_task_price_class(task, &cls, &assumed) || !assumed)
    return NULL;
  return "estimated at the 1080p price: the output follows the frame "
         "image's size, unknown before generation, and 1080p is the most "
         "expensive class, so the estimate is an upper bound";
}
