/* task: lines of a --jobs file (JSON objects) into options and tasks, with
 * numbers read from their source text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "util/json.h"
#include "vsink/task.h"

/* Builds the task of one line: its compact JSON (malloc'd), or NULL with
 * the errors (of the line or of the task) in errs. */
static char *task_of(const char *line, vs_task_errors *errs)
{
  cJSON *j = vs_json_parse(line, strlen(line)), *task;
  vs_task_opts o;
  char *txt = NULL;
  assert_non_null(j);
  if(!vs_task_opts_from_json(j, &o, errs) && !vs_task_build(&o, &task, errs)) {
    txt = cJSON_PrintUnformatted(task);
    cJSON_Delete(task);
  }
  cJSON_Delete(j);
  return txt;
}

static void has(const char *line, const char *piece)
{
  vs_task_errors errs;
  char *txt = task_of(line, &errs);
  if(!txt)
    fail_msg("%s: %s %s", line, errs.e[0].field, errs.e[0].message);
  if(!strstr(txt, piece))
    fail_msg("%s:\n got %s\n want a piece %s", line, txt, piece);
  cJSON_free(txt);
}

static void refused(const char *line, const char *field, const char *value,
                    const char *in_msg)
{
  vs_task_errors errs;
  char *txt = task_of(line, &errs);
  if(txt)
    fail_msg("%s was accepted: %s", line, txt);
  if(errs.n != 1 || strcmp(errs.e[0].field, field) ||
     strcmp(errs.e[0].value, value) || !strstr(errs.e[0].message, in_msg))
    fail_msg("%s: %d errors, first {%s, %s, %s}, want {%s, %s, ~%s}", line,
             errs.n, errs.e[0].field, errs.e[0].value, errs.e[0].message,
             field, value, in_msg);
}

static void test_numbers_exact(void **state)
{
  (void)state;
  has("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"duration\":7.3}",
      "\"duration\":7.3,");
  has("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"duration\":\"7.3\"}",
      "\"duration\":7.3,");
  has("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"duration\":12.0}",
      "\"duration\":12,");
  has("{\"prompt\":\"a cat\",\"resolution\":\"720p\","
      "\"seed\":9223372036854775807}",
      "\"seed\":9223372036854775807,");
  has("{\"prompt\":\"a cat\",\"resolution\":\"720p\","
      "\"seed\":\"9223372036854775807\"}",
      "\"seed\":9223372036854775807,");
  has("{\"prompt\":\"a cat\",\"width\":1920,\"height\":\"1088\","
      "\"results\":4,\"quality\":99,\"ttl\":60}",
      "\"width\":1920,\"height\":1088,\"duration\":5,\"numberResults\":4,"
      "\"outputType\":\"URL\",\"outputFormat\":\"MP4\",\"outputQuality\":99,"
      "\"deliveryMethod\":\"async\",\"ttl\":60,");
  refused("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"duration\":1.25}",
          "duration", "1.25", "steps of 0.1");
  refused("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"duration\":1e1}",
          "duration", "1e1", "plain decimal");
  refused("{\"prompt\":\"a cat\",\"resolution\":\"720p\","
          "\"seed\":9223372036854775808}",
          "seed", "9223372036854775808", "between 0 and");
  refused("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"seed\":-1}",
          "seed", "-1", "between 0 and");
  refused("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"seed\":1.0}",
          "seed", "1.0", "whole number");
}

static void test_booleans_and_names(void **state)
{
  (void)state;
  has("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"no-cost\":true}",
      "\"includeCost\":false");
  has("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"no-cost\":false}",
      "\"includeCost\":true");
  has("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"include_cost\":0}",
      "\"includeCost\":false");
  has("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"camera-fixed\":true,"
      "\"safety\":\"full\",\"format\":\"mov\"}",
      "\"outputFormat\":\"MOV\"");
  has("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"camera_fixed\":\"yes\"}",
      "\"cameraFixed\":true");
  has("{\"prompt\":\"a cat\",\"frame-image\":"
      "\"aac49721-1964-481a-ae78-8a4e29b91402\"}",
      "\"frameImages\":[\"aac49721-1964-481a-ae78-8a4e29b91402\"]");
  has("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"cameraFixed\":true,"
      "\"NoCost\":true}",
      "\"includeCost\":false,\"providerSettings\":{\"bytedance\":"
      "{\"cameraFixed\":true}}");
  refused("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"frame-image\":"
          "\"x\",\"frameImage\":\"y\"}",
          "inputs.frameImages", "y", "given twice");
  has("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"seed\":null}",
      "\"duration\":5,\"numberResults\":1");
  refused("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"no-cost\":\"x\"}",
          "includeCost", "x", "true or false");
  refused("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"no-cost\":true,"
          "\"include-cost\":true}",
          "includeCost", "true", "given twice");
}

static void test_line_errors(void **state)
{
  vs_task_errors errs;
  cJSON *j;
  vs_task_opts o;
  (void)state;
  refused("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"colour\":\"red\"}",
          "colour", "colour", "not a task option");
  refused("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"seed\":1,"
          "\"seed\":2}",
          "seed", "2", "given twice");
  refused("{\"prompt\":42,\"resolution\":\"720p\"}", "positivePrompt", "42",
          "must be a JSON string");
  refused("{\"prompt\":\"a cat\",\"resolution\":720}", "resolution", "720",
          "must be a JSON string");
  refused("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"duration\":[5]}",
          "duration", "[5]", "a JSON number or string");
  refused("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"camera-fixed\":{}}",
          "providerSettings.bytedance.cameraFixed", "{}", "true or false");
  refused("{\"prompt\":\"a cat\",\"resolution\":\"720p\",\"quality\":true}",
          "outputQuality", "true", "a JSON number or string");
  /* all the line's errors at once */
  j = vs_json_parse("{\"prompt\":1,\"x\":2,\"seed\":{}}", 28);
  assert_int_equal(vs_task_opts_from_json(j, &o, &errs), VS_ERR_INVALID);
  assert_int_equal(errs.n, 3);
  assert_string_equal(errs.e[0].field, "positivePrompt");
  assert_string_equal(errs.e[1].field, "x");
  assert_string_equal(errs.e[2].field, "seed");
  cJSON_Delete(j);
  j = vs_json_parse("[1,2]", 5);
  assert_int_equal(vs_task_opts_from_json(j, &o, &errs), VS_ERR_INVALID);
  assert_int_equal(errs.n, 1);
  assert_string_equal(errs.e[0].value, "[1,2]");
  assert_non_null(strstr(errs.e[0].message, "JSON object"));
  cJSON_Delete(j);
  /* a line parsed without its number text cannot be read exactly */
  j = cJSON_Parse("{\"seed\":5}");
  assert_int_equal(vs_task_opts_from_json(j, &o, &errs), VS_ERR_INVALID);
  assert_non_null(strstr(errs.e[0].message, "vs_json_parse"));
  cJSON_Delete(j);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_numbers_exact),
    cmocka_unit_test(test_booleans_and_names),
    cmocka_unit_test(test_line_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
