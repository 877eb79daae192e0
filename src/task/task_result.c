/* Answers from the API (submit acks, getResponse polls, webhook bodies):
 * {"data":[...]} and/or {"errors":[...]} into structs, with seeds and costs
 * read exactly from the numbers' source text. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "task_int.h"
#include "util/json.h"

static const char *type_name(const cJSON *v)
{
  if(cJSON_IsString(v))
    return "a string";
  if(cJSON_IsNumber(v))
    return "a number";
  if(cJSON_IsBool(v))
    return "a boolean";
  if(cJSON_IsArray(v))
    return "an array";
  if(cJSON_IsObject(v))
    return "an object";
  return "null";
}

/* Optional string member: absent or null leaves *out NULL. */
static int get_str(const cJSON *obj, const char *name, char **out,
                   const char *where, vs_err *err)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  *out = NULL;
  if(!v || cJSON_IsNull(v))
    return VS_OK;
  if(!cJSON_IsString(v))
    return vs_fail(err, VS_ERR_INVALID, "%s.%s: expected a string, got %s",
                   where, name, type_name(v));
  *out = strdup(v->valuestring);
  return *out ? VS_OK : vs_fail(err, VS_ERR_NOMEM, "out of memory");
}

static int get_status(const cJSON *obj, int *status, const char *where,
                      vs_err *err)
{
  static const char *const names[] = {"processing", "success", "error"};
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "status");
  int i;
  *status = VS_TASK_STATUS_NONE;
  if(!v || cJSON_IsNull(v))
    return VS_OK;
  if(!cJSON_IsString(v))
    return vs_fail(err, VS_ERR_INVALID, "%s.status: expected a string, got %s",
                   where, type_name(v));
  for(i = 0; i < 3; i++)
    if(!strcmp(v->valuestring, names[i]))
      return *status = VS_TASK_STATUS_PROCESSING + i, VS_OK;
  return vs_fail(err, VS_ERR_INVALID,
                 "%s.status: \"%.40s\" is not processing, success or error",
                 where, v->valuestring);
}

/* A JSON number's text ("0.0668", "6.68e-2", "1E1") as an exact decimal: the
 * exponent only moves the decimal point. */
static int dec_from_text(const char *t, vs_dec *out)
{
  char digits[64], plain[128];
  const char *p = t;
  int nd = 0, point = -1, exp = 0, o = 0, i;
  if(*p == '-')
    return -1; /* costs are never negative */
  for(; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
    if(*p == '.')
      point = nd;
    else if(nd < 40)
      digits[nd++] = *p;
    else
      return -1;
  }
  if(point < 0)
    point = nd;
  if(*p == 'e' || *p == 'E') {
    char *end;
    long e = strtol(p + 1, &end, 10);
    if(end == p + 1 || *end || e > 30 || e < -30)
      return -1;
    exp = (int)e;
  }
  else if(*p)
    return -1;
  point += exp;
  while(nd > point && nd > 0 && digits[nd - 1] == '0')
    nd--; /* trailing zeros of the fraction say nothing */
  if(point <= 0) {
    o += sprintf(plain, "0.");
    for(i = point; i < 0; i++)
      plain[o++] = '0';
    memcpy(plain + o, digits, (size_t)nd);
    o += nd;
  }
  else {
    for(i = 0; i < point; i++)
      plain[o++] = i < nd ? digits[i] : '0';
    if(nd > point) {
      plain[o++] = '.';
      memcpy(plain + o, digits + point, (size_t)(nd - point));
      o += nd - point;
    }
  }
  plain[o] = 0;
  return vs_dec_parse(plain, (size_t)o, out);
}

static int get_seed(const cJSON *obj, vs_task_item *it, const char *where,
                    vs_err *err)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "seed");
  const char *t = vs_json_number_text(v);
  if(!v || cJSON_IsNull(v))
    return VS_OK;
  if(!cJSON_IsNumber(v))
    return vs_fail(err, VS_ERR_INVALID, "%s.seed: expected a number, got %s",
                   where, type_name(v));
  if(!t || vs_tparse_int(t, 0, INT64_MAX, &it->seed))
    return vs_fail(err, VS_ERR_INVALID,
                   "%s.seed: %.40s is not an integer 0..9223372036854775807",
                   where, t ? t : "?");
  it->has_seed = 1;
  return VS_OK;
}

static int get_cost(const cJSON *obj, vs_task_item *it, const char *where,
                    vs_err *err)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "cost");
  const char *t = vs_json_number_text(v);
  if(!v || cJSON_IsNull(v))
    return VS_OK;
  if(!cJSON_IsNumber(v))
    return vs_fail(err, VS_ERR_INVALID, "%s.cost: expected a number, got %s",
                   where, type_name(v));
  if(!t || dec_from_text(t, &it->cost))
    return vs_fail(err, VS_ERR_INVALID,
                   "%s.cost: %.40s is not a non-negative decimal of at most "
                   "10 fractional digits", where, t ? t : "?");
  it->has_cost = 1;
  return VS_OK;
}

static int get_nsfw(const cJSON *obj, vs_task_item *it, const char *where,
                    vs_err *err)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "NSFWContent");
  if(!v || cJSON_IsNull(v))
    return VS_OK;
  if(!cJSON_IsBool(v))
    return vs_fail(err, VS_ERR_INVALID,
                   "%s.NSFWContent: expected a boolean, got %s", where,
                   type_name(v));
  it->has_nsfw = 1;
  it->nsfw = cJSON_IsTrue(v);
  return VS_OK;
}

static int parse_item(const cJSON *obj, vs_task_item *it, const char *where,
                      vs_err *err)
{
  int rc;
  if(!cJSON_IsObject(obj))
    return vs_fail(err, VS_ERR_INVALID, "%s: expected an object, got %s",
                   where, type_name(obj));
  if((rc = get_str(obj, "taskType", &it->task_type, where, err)) ||
     (rc = get_str(obj, "taskUUID", &it->task_uuid, where, err)) ||
     (rc = get_status(obj, &it->status, where, err)) ||
     (rc = get_str(obj, "videoUUID", &it->video_uuid, where, err)) ||
     (rc = get_str(obj, "videoURL", &it->video_url, where, err)) ||
     (rc = get_seed(obj, it, where, err)) ||
     (rc = get_cost(obj, it, where, err)) ||
     (rc = get_nsfw(obj, it, where, err)))
    return rc;
  if(!it->task_uuid)
    return vs_fail(err, VS_ERR_INVALID, "%s: taskUUID is missing", where);
  return VS_OK;
}

static int parse_error(const cJSON *obj, vs_task_api_error *ae,
                       const char *where, vs_err *err)
{
  const cJSON *av;
  int rc;
  if(!cJSON_IsObject(obj))
    return vs_fail(err, VS_ERR_INVALID, "%s: expected an object, got %s",
                   where, type_name(obj));
  if((rc = get_str(obj, "code", &ae->code, where, err)) ||
     (rc = get_str(obj, "message", &ae->message, where, err)) ||
     (rc = get_str(obj, "parameter", &ae->parameter, where, err)) ||
     (rc = get_str(obj, "type", &ae->type, where, err)) ||
     (rc = get_str(obj, "taskType", &ae->task_type, where, err)) ||
     (rc = get_str(obj, "taskUUID", &ae->task_uuid, where, err)) ||
     (rc = get_str(obj, "documentation", &ae->documentation, where, err)) ||
     (rc = get_status(obj, &ae->status, where, err)))
    return rc;
  av = cJSON_GetObjectItemCaseSensitive(obj, "allowedValues");
  if(av && !cJSON_IsNull(av)) {
    ae->allowed_values = cJSON_PrintUnformatted(av);
    if(!ae->allowed_values)
      return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  return VS_OK;
}

/* The array under name, or NULL (absent or null); -1 if it is not one. */
static int get_array(const cJSON *root, const char *name, const cJSON **arr,
                     size_t *n, vs_err *err)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
  *arr = NULL;
  *n = 0;
  if(!v || cJSON_IsNull(v))
    return VS_OK;
  if(!cJSON_IsArray(v))
    return vs_fail(err, VS_ERR_INVALID, "%s: expected an array, got %s",
                   name, type_name(v));
  *arr = v;
  *n = (size_t)cJSON_GetArraySize(v);
  return VS_OK;
}

static int parse_root(const cJSON *root, vs_task_response *r, vs_err *err)
{
  const cJSON *data, *errors, *v;
  size_t nd, ne, i;
  char where[40];
  int rc;
  if(!cJSON_IsObject(root))
    return vs_fail(err, VS_ERR_INVALID, "body: expected an object, got %s",
                   type_name(root));
  if((rc = get_array(root, "data", &data, &nd, err)) ||
     (rc = get_array(root, "errors", &errors, &ne, err)))
    return rc;
  if(!data && !errors)
    return vs_fail(err, VS_ERR_INVALID, "body has neither data nor errors");
  r->items = calloc(nd ? nd : 1, sizeof(*r->items));
  r->errors = calloc(ne ? ne : 1, sizeof(*r->errors));
  if(!r->items || !r->errors)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  i = 0;
  cJSON_ArrayForEach(v, data) {
    snprintf(where, sizeof(where), "data[%zu]", i);
    r->n_items = ++i;
    if((rc = parse_item(v, &r->items[i - 1], where, err)))
      return rc;
  }
  i = 0;
  cJSON_ArrayForEach(v, errors) {
    snprintf(where, sizeof(where), "errors[%zu]", i);
    r->n_errors = ++i;
    if((rc = parse_error(v, &r->errors[i - 1], where, err)))
      return rc;
  }
  return VS_OK;
}

int vs_task_response_parse(const char *body, size_t len, vs_task_response *r,
                           vs_err *err)
{
  cJSON *root;
  int rc;
  memset(r, 0, sizeof(*r));
  root = vs_json_parse(body, len);
  if(!root)
    return vs_fail(err, VS_ERR_INVALID, "body is not valid JSON (%zu bytes)",
                   len);
  rc = parse_root(root, r, err);
  cJSON_Delete(root);
  if(rc)
    vs_task_response_free(r);
  return rc;
}

void vs_task_response_free(vs_task_response *r)
{
  size_t i;
  for(i = 0; i < r->n_items; i++) {
    vs_task_item *it = &r->items[i];
    free(it->task_type);
    free(it->task_uuid);
    free(it->video_uuid);
    free(it->video_url);
  }
  for(i = 0; i < r->n_errors; i++) {
    vs_task_api_error *e = &r->errors[i];
    free(e->code);
    free(e->message);
    free(e->parameter);
    free(e->type);
    free(e->task_type);
    free(e->task_uuid);
    free(e->documentation);
    cJSON_free(e->allowed_values);
  }
  free(r->items);
  free(r->errors);
  memset(r, 0, sizeof(*r));
}

cJSON *vs_task_result_fields(const vs_task_item *it, const char *source)
{
  cJSON *f = cJSON_CreateObject();
  char cost[VS_DEC_STRLEN], seed[24];
  if(!f)
    return NULL;
  cJSON_AddStringToObject(f, "taskUUID", it->task_uuid);
  cJSON_AddStringToObject(f, "videoUUID", it->video_uuid);
  if(it->video_url)
    cJSON_AddStringToObject(f, "videoURL", it->video_url);
  if(it->has_seed) {
    snprintf(seed, sizeof(seed), "%" PRId64, it->seed);
    cJSON_AddRawToObject(f, "seed", seed); /* exact: never a double */
  }
  if(it->has_cost) {
    vs_dec_format(it->cost, 0, cost);
    cJSON_AddStringToObject(f, "cost", cost);
  }
  if(it->has_nsfw)
    cJSON_AddBoolToObject(f, "NSFWContent", it->nsfw);
  cJSON_AddStringToObject(f, "source", source);
  return f;
}

cJSON *vs_task_failed_fields(const char *task_uuid, const char *code,
                             const char *message, const char *parameter,
                             const char *source)
{
  cJSON *f = cJSON_CreateObject();
  if(!f)
    return NULL;
  cJSON_AddStringToObject(f, "taskUUID", task_uuid);
  cJSON_AddStringToObject(f, "code", code && *code ? code : "unknown");
  cJSON_AddStringToObject(f, "message", message ? message : "");
  if(parameter && *parameter)
    cJSON_AddStringToObject(f, "parameter", parameter);
  cJSON_AddStringToObject(f, "source", source);
  return f;
}
