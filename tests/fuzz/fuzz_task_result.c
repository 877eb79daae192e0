/* Fuzz target: the API's result bodies (webhook and poll answers):
 * vs_json_parse and vs_task_response_parse, then the manifest fields the
 * sink's hook and the submitter record from them.
 *
 * Invariants: vs_json_parse keeps every number's source text, and that text
 * means the number cJSON read; whatever vs_json_parse accepts prints and
 * parses back; an accepted response has a taskUUID in every item, its
 * result and failed fields build and print; a refused one is empty and
 * says why. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "util/dec.h"
#include "util/json.h"
#include "vsink/task.h"

static void check_numbers(const cJSON *n)
{
  for(; n; n = n->next) {
    if(cJSON_IsNumber(n)) {
      const char *t = vs_json_number_text(n);
      int64_t v;
      FZ_ASSERT(t != NULL, "a number without its text");
      FZ_ASSERT(strtod(t, NULL) == n->valuedouble ||
                  (isnan(n->valuedouble) && isnan(strtod(t, NULL))),
                "number text '%s' is not %g", t, n->valuedouble);
      if(!vs_json_int64(n, INT64_MIN, INT64_MAX, &v))
        FZ_ASSERT(strtoll(t, NULL, 10) == v, "int64 %lld from '%s'",
                  (long long)v, t);
    }
    check_numbers(n->child);
  }
}

static void json_round_trip(const char *body, size_t len)
{
  cJSON *j = vs_json_parse(body, len), *back;
  char *txt;
  if(!j)
    return;
  check_numbers(j);
  txt = cJSON_PrintUnformatted(j);
  FZ_ASSERT(txt != NULL, "an accepted document does not print");
  back = vs_json_parse(txt, strlen(txt));
  FZ_ASSERT(back != NULL, "printed form '%.200s' does not parse back", txt);
  cJSON_Delete(back);
  cJSON_free(txt);
  cJSON_Delete(j);
}

static void print_fields(cJSON *f)
{
  char *txt;
  FZ_ASSERT(f != NULL, "manifest fields not built");
  txt = cJSON_PrintUnformatted(f);
  if(txt) {
    cJSON *back = vs_json_parse(txt, strlen(txt));
    FZ_ASSERT(back != NULL, "fields '%.200s' do not parse back", txt);
    cJSON_Delete(back);
  }
  cJSON_free(txt);
  cJSON_Delete(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *body = (const char *)data;
  vs_task_response r;
  vs_err err = {0};
  size_t i;
  json_round_trip(body, size);
  if(vs_task_response_parse(body, size, &r, &err)) {
    FZ_ASSERT(!r.items && !r.n_items && !r.errors && !r.n_errors,
              "a refused response is not empty");
    FZ_ASSERT(err.msg[0], "a refusal without a message");
    return 0;
  }
  for(i = 0; i < r.n_items; i++) {
    const vs_task_item *it = &r.items[i];
    FZ_ASSERT(it->task_uuid != NULL, "item %zu has no taskUUID", i);
    FZ_ASSERT(!it->has_seed || it->seed >= 0, "seed %lld",
              (long long)it->seed);
    if(it->status == VS_TASK_STATUS_SUCCESS)
      print_fields(vs_task_result_fields(it, "webhook"));
  }
  for(i = 0; i < r.n_errors; i++) {
    const vs_task_api_error *e = &r.errors[i];
    if(e->task_uuid)
      print_fields(vs_task_failed_fields(e->task_uuid, e->code, e->message,
                                         e->parameter, "webhook"));
  }
  vs_task_response_free(&r);
  return 0;
}
