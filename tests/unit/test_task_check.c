/* task: vs_task_check, the API's side of the same rules: a task as sent. */
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

#define U "aac49721-1964-481a-ae78-8a4e29b91402"
#define HEAD                                                                 \
  "{\"taskType\":\"videoInference\",\"taskUUID\":\"" U "\","              \
  "\"model\":\"bytedance:2@2\",\"positivePrompt\":\"a cat dancing\""

/* errors of a task given as JSON text: "field=value;..." */
static void errors_of(const char *txt, char *out, size_t cap)
{
  cJSON *t = vs_json_parse(txt, strlen(txt));
  vs_task_errors errs;
  size_t o = 0;
  int i, rc;
  assert_non_null(t);
  rc = vs_task_check(t, &errs);
  assert_int_equal(rc, errs.n ? VS_ERR_INVALID : VS_OK);
  out[0] = 0;
  for(i = 0; i < errs.n; i++)
    o += (size_t)snprintf(out + o, cap - o, "%s=%s;", errs.e[i].field,
                          errs.e[i].value);
  cJSON_Delete(t);
}

static void check(const char *txt, const char *want)
{
  char got[2048];
  errors_of(txt, got, sizeof(got));
  if(strcmp(got, want))
    fail_msg("%s\n got  \"%s\"\n want \"%s\"", txt, got, want);
}

/* What vs_task_build makes (with a taskUUID and URLs added) passes. */
static void test_built_tasks_pass(void **state)
{
  vs_task_opts o = {.prompt = "a dancer", .resolution = "1080p",
                    .duration = "7.3", .seed = "9223372036854775807",
                    .results = "4", .format = "mov", .quality = "20",
                    .camera_fixed = "1", .safety = "none", .ttl = "60"};
  vs_task_errors errs;
  cJSON *task, *back;
  char *txt;
  (void)state;
  assert_int_equal(vs_task_build(&o, &task, &errs), VS_OK);
  assert_int_equal(vs_task_set_uuid(task, U), VS_OK);
  cJSON_AddStringToObject(task, "uploadEndpoint", "http://127.0.0.1:1/b/k");
  cJSON_AddStringToObject(task, "webhookURL", "https://127.0.0.1:1/hooks/x");
  if(vs_task_check(task, &errs))
    fail_msg("%s=%s: %s", errs.e[0].field, errs.e[0].value,
             errs.e[0].message);
  txt = cJSON_PrintUnformatted(task);
  back = vs_json_parse(txt, strlen(txt)); /* as the API would read it */
  assert_int_equal(vs_task_check(back, &errs), VS_OK);
  cJSON_Delete(back);
  cJSON_free(txt);
  cJSON_Delete(task);
  check(HEAD ",\"inputs\":{\"frameImages\":[{\"image\":\"" U "\",\"frame\":"
             "\"first\"}]}}",
        "");
  check(HEAD ",\"inputs\":{\"frameImages\":[{\"image\":\"" U "\",\"frame\":"
             "0}]}}",
        "");
}

static void test_refused(void **state)
{
  (void)state;
  check(HEAD ",\"resolution\":\"720p\",\"duration\":\"5\"}", "duration=\"5\";");
  check(HEAD ",\"resolution\":\"720p\",\"duration\":1.25}", "duration=1.25;");
  check(HEAD ",\"resolution\":\"720p\",\"seed\":9223372036854775808}",
        "seed=9223372036854775808;");
  check(HEAD ",\"width\":1920,\"height\":1080}", "width=1920x1080;");
  check(HEAD ",\"width\":\"864\",\"height\":480}",
        "width=\"864\";");
  check(HEAD ",\"resolution\":\"720p\",\"includeCost\":\"true\"}",
        "includeCost=\"true\";");
  check(HEAD ",\"resolution\":\"720p\",\"outputType\":\"base64Data\","
             "\"deliveryMethod\":\"sync\"}",
        "outputType=base64Data;deliveryMethod=sync;");
  check(HEAD ",\"resolution\":\"720p\",\"webhookURL\":\"ftp://x/y\"}",
        "webhookURL=ftp://x/y;");
  check(HEAD ",\"resolution\":\"720p\",\"safety\":{\"checkContent\":1,"
             "\"mode\":\"all\"}}",
        "safety.checkContent=1;safety.mode=all;");
  check(HEAD ",\"resolution\":\"720p\",\"providerSettings\":{\"bytedance\":"
             "{\"cameraFixed\":\"no\"}}}",
        "providerSettings.bytedance.cameraFixed=\"no\";");
  check(HEAD ",\"resolution\":\"720p\",\"negativePrompt\":\"rain\"}",
        "negativePrompt=negativePrompt;");
  check(HEAD ",\"inputs\":{\"frameImages\":[\"" U "\",\"" U "\"]}}",
        "inputs.frameImages=;");
  check(HEAD ",\"inputs\":{\"frameImages\":[{\"image\":\"" U "\",\"frame\":"
             "\"last\"}]}}",
        "inputs.frameImages.frame=;");
  check(HEAD ",\"inputs\":{\"frameImages\":[\"/etc/passwd\"]}}",
        "inputs.frameImages=/etc/passwd;");
  check("{\"taskType\":\"imageInference\",\"model\":\"bytedance:1@1\","
        "\"positivePrompt\":\"a\"}",
        "taskType=imageInference;model=bytedance:1@1;taskUUID=;"
        "positivePrompt=a;resolution=;");
  check("{}", "taskType=;model=;taskUUID=;positivePrompt=;resolution=;");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_built_tasks_pass),
    cmocka_unit_test(test_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
