/* task: the rules table. Each row is one option set and either the exact
 * task JSON it must build (or a piece of it) or the exact errors (field,
 * value, allowed) in order. The allowed texts are spelled out here from the
 * model page, not taken from the code under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "vsink/task.h"

#define P "2..3000 characters of valid UTF-8"
#define D "1.2..12 in steps of 0.1"
#define S "an integer 0..9223372036854775807"
#define R "an integer 1..4"
#define F "MP4, WEBM or MOV"
#define Q "an integer 20..99"
#define T "an integer >= 60"
#define B "true or false"
#define SF "none, fast or full"
#define RES "480p, 720p or 1080p"
#define SR "width and height, or resolution, not both"
#define NS "inputs.frameImages, width and height, or resolution"
#define FR                                                                   \
  "one UUID v4, http(s) URL, data URI, base64 image or local file; PNG, "   \
  "JPEG or WEBP, 300..6000 px a side, at most 10 MB"
#define DIMS                                                                 \
  "480p: 864x480 736x544 640x640 544x736 480x864 416x960 960x416; "         \
  "720p: 1248x704 1120x832 960x960 832x1120 704x1248 1504x640 640x1504; "   \
  "1080p: 1920x1088 1664x1248 1440x1440 1248x1664 1088x1920 928x2176 "     \
  "2176x928"
#define UUID "aac49721-1964-481a-ae78-8a4e29b91402"
#define CAT "a cat dancing"

typedef struct exp_err {
  const char *field, *value, *allowed;
} exp_err;

typedef struct row {
  const char *name;
  vs_task_opts o;
  const char *json;    /* exact compact JSON of the task, or */
  const char *has;     /* a piece of it */
  exp_err err[8];      /* expected errors, in order */
} row;

/* Prompts longer than a literal should be: filled in main(). */
static char p3000[3000 * 3 + 1], p3001[3001 * 3 + 1], p3001_shown[128];

/* MIN(.prompt = ...) overrides the base row's prompt on purpose. */
#pragma GCC diagnostic ignored "-Woverride-init"
#define MIN(...) {.prompt = CAT, .resolution = "720p", __VA_ARGS__}
#define DIM(w, h)                                                            \
  {#w "x" #h, {.prompt = CAT, .width = #w, .height = #h}, NULL,              \
   "\"positivePrompt\":\"" CAT "\",\"width\":" #w ",\"height\":" #h          \
   ",\"duration\":5,"}

static const row rows[] = {
  /* ---- valid ------------------------------------------------------------ */
  {"minimal", MIN(),
   "{\"taskType\":\"videoInference\",\"model\":\"bytedance:2@2\","
   "\"positivePrompt\":\"a cat dancing\",\"resolution\":\"720p\","
   "\"duration\":5,\"numberResults\":1,\"outputType\":\"URL\","
   "\"outputFormat\":\"MP4\",\"deliveryMethod\":\"async\","
   "\"includeCost\":true}"},
  {"everything",
   {.prompt = "a dancer on a rooftop", .frame_image = UUID,
    .resolution = "720p", .duration = "7.3", .seed = "42", .results = "3",
    .format = "webm", .quality = "80", .camera_fixed = "true",
    .safety = "fast", .ttl = "3600", .include_cost = "false"},
   "{\"taskType\":\"videoInference\",\"model\":\"bytedance:2@2\","
   "\"positivePrompt\":\"a dancer on a rooftop\",\"inputs\":{\"frameImages\":"
   "[\"" UUID "\"]},\"resolution\":\"720p\",\"duration\":7.3,\"seed\":42,"
   "\"numberResults\":3,\"outputType\":\"URL\",\"outputFormat\":\"WEBM\","
   "\"outputQuality\":80,\"deliveryMethod\":\"async\",\"ttl\":3600,"
   "\"includeCost\":false,\"safety\":{\"checkContent\":true,\"mode\":"
   "\"fast\"},\"providerSettings\":{\"bytedance\":{\"cameraFixed\":true}}}"},
  {"frame image alone",
   {.prompt = CAT, .frame_image = UUID},
   "{\"taskType\":\"videoInference\",\"model\":\"bytedance:2@2\","
   "\"positivePrompt\":\"a cat dancing\",\"inputs\":{\"frameImages\":[\"" UUID
   "\"]},\"duration\":5,\"numberResults\":1,\"outputType\":\"URL\","
   "\"outputFormat\":\"MP4\",\"deliveryMethod\":\"async\","
   "\"includeCost\":true}"},
  {"frame image URL with size",
   {.prompt = CAT, .frame_image = "https://example.com/a.png?x=1",
    .width = "864", .height = "480"},
   NULL, "\"frameImages\":[\"https://example.com/a.png?x=1\"]},\"width\":864"},
  {"resolution any case", MIN(.resolution = "1080P"), NULL,
   "\"resolution\":\"1080p\""},
  {"480p", MIN(.resolution = "480p"), NULL, "\"resolution\":\"480p\""},
  DIM(864, 480), DIM(736, 544), DIM(640, 640), DIM(544, 736), DIM(480, 864),
  DIM(416, 960), DIM(960, 416), DIM(1248, 704), DIM(1120, 832),
  DIM(960, 960), DIM(832, 1120), DIM(704, 1248), DIM(1504, 640),
  DIM(640, 1504), DIM(1920, 1088), DIM(1664, 1248), DIM(1440, 1440),
  DIM(1248, 1664), DIM(1088, 1920), DIM(928, 2176), DIM(2176, 928),
  {"duration 7.3", MIN(.duration = "7.3"), NULL, "\"duration\":7.3,"},
  {"duration 7.30", MIN(.duration = "7.30"), NULL, "\"duration\":7.3,"},
  {"duration 12.0", MIN(.duration = "12.0"), NULL, "\"duration\":12,"},
  {"duration 12", MIN(.duration = "12"), NULL, "\"duration\":12,"},
  {"duration 1.2", MIN(.duration = "1.2"), NULL, "\"duration\":1.2,"},
  {"duration 05.5", MIN(.duration = "05.5"), NULL, "\"duration\":5.5,"},
  {"seed 0", MIN(.seed = "0"), NULL, "\"duration\":5,\"seed\":0,"},
  {"seed max", MIN(.seed = "9223372036854775807"), NULL,
   "\"seed\":9223372036854775807,"},
  {"seed 2^53+1", MIN(.seed = "9007199254740993"), NULL,
   "\"seed\":9007199254740993,"},
  {"results 4", MIN(.results = "4"), NULL, "\"numberResults\":4,"},
  {"results 1", MIN(.results = "1"), NULL, "\"numberResults\":1,"},
  {"format Mov", MIN(.format = "Mov"), NULL, "\"outputFormat\":\"MOV\""},
  {"format MP4", MIN(.format = "MP4"), NULL, "\"outputFormat\":\"MP4\""},
  {"quality 20", MIN(.quality = "20"), NULL, "\"outputQuality\":20,"},
  {"quality 99", MIN(.quality = "99"), NULL, "\"outputQuality\":99,"},
  {"ttl 60", MIN(.ttl = "60"), NULL, "\"ttl\":60,"},
  {"no cost", MIN(.include_cost = "no"), NULL, "\"includeCost\":false}"},
  {"cost 1", MIN(.include_cost = "1"), NULL, "\"includeCost\":true}"},
  {"camera fixed NO", MIN(.camera_fixed = "NO"), NULL,
   "\"providerSettings\":{\"bytedance\":{\"cameraFixed\":false}}"},
  {"safety none", MIN(.safety = "none"), NULL,
   "\"safety\":{\"checkContent\":false,\"mode\":\"none\"}"},
  {"safety FULL", MIN(.safety = "FULL"), NULL,
   "\"safety\":{\"checkContent\":true,\"mode\":\"full\"}"},
  {"prompt of 2", MIN(.prompt = "ab"), NULL, "\"positivePrompt\":\"ab\""},
  {"prompt of 2 multibyte", MIN(.prompt = "日本"), NULL,
   "\"positivePrompt\":\"日本\""},
  {"prompt of 3000 multibyte", MIN(.prompt = p3000), NULL,
   "\"positivePrompt\":\"日本語"},
  {"prompt with emoji", MIN(.prompt = "\xf0\x9f\x8e\xac!"), NULL,
   "\"positivePrompt\":\"\xf0\x9f\x8e\xac!\""},

  /* ---- invalid: one field --------------------------------------------- */
  {"no prompt", {.resolution = "720p"}, NULL, NULL,
   {{"positivePrompt", "", P}}},
  {"prompt of 1", MIN(.prompt = "a"), NULL, NULL,
   {{"positivePrompt", "a", P}}},
  {"prompt of 1 char in 3 bytes", MIN(.prompt = "日"), NULL, NULL,
   {{"positivePrompt", "日", P}}},
  {"prompt of 3001 multibyte", MIN(.prompt = p3001), NULL, NULL,
   {{"positivePrompt", p3001_shown, P}}},
  {"prompt bad UTF-8", MIN(.prompt = "ab\xff"), NULL, NULL,
   {{"positivePrompt", "ab\\xff", P}}},
  {"prompt overlong UTF-8", MIN(.prompt = "\xc0\xaf\x61\x62"), NULL, NULL,
   {{"positivePrompt", "\\xc0\\xafab", P}}},
  {"prompt surrogate", MIN(.prompt = "ab\xed\xa0\x80"), NULL, NULL,
   {{"positivePrompt", "ab\\xed\\xa0\\x80", P}}},
  {"prompt and prompt file", MIN(.prompt_file = "/nonexistent/p.txt"), NULL,
   NULL, {{"positivePrompt", "/nonexistent/p.txt", P}}},
  {"prompt file missing",
   {.prompt_file = "/nonexistent/p.txt", .resolution = "720p"}, NULL, NULL,
   {{"positivePrompt", "/nonexistent/p.txt", P}}},
  {"no shape", {.prompt = CAT}, NULL, NULL, {{"resolution", "", NS}}},
  {"resolution 4k", MIN(.resolution = "4k"), NULL, NULL,
   {{"resolution", "4k", RES}}},
  {"resolution and size", MIN(.width = "864", .height = "480"), NULL, NULL,
   {{"resolution", "720p", SR}}},
  {"width alone", {.prompt = CAT, .width = "864"}, NULL, NULL,
   {{"height", "", "given together with width"}}},
  {"height alone", {.prompt = CAT, .height = "480"}, NULL, NULL,
   {{"width", "", "given together with height"}}},
  {"width text", {.prompt = CAT, .width = "abc", .height = "480"}, NULL, NULL,
   {{"width", "abc", DIMS}}},
  {"width and height text", {.prompt = CAT, .width = "wide", .height = "1.5"},
   NULL, NULL, {{"width", "wide", DIMS}, {"height", "1.5", DIMS}}},
  {"width negative", {.prompt = CAT, .width = "-864", .height = "480"}, NULL,
   NULL, {{"width", "-864", DIMS}}},
  {"1920x1080", {.prompt = CAT, .width = "1920", .height = "1080"}, NULL,
   NULL, {{"width", "1920x1080", DIMS}}},
  {"1280x720", {.prompt = CAT, .width = "1280", .height = "720"}, NULL, NULL,
   {{"width", "1280x720", DIMS}}},
  {"480x480", {.prompt = CAT, .width = "480", .height = "480"}, NULL, NULL,
   {{"width", "480x480", DIMS}}},
  {"duration 1.25", MIN(.duration = "1.25"), NULL, NULL,
   {{"duration", "1.25", D}}},
  {"duration 1.1", MIN(.duration = "1.1"), NULL, NULL,
   {{"duration", "1.1", D}}},
  {"duration 12.1", MIN(.duration = "12.1"), NULL, NULL,
   {{"duration", "12.1", D}}},
  {"duration 0", MIN(.duration = "0"), NULL, NULL, {{"duration", "0", D}}},
  {"duration 1e1", MIN(.duration = "1e1"), NULL, NULL,
   {{"duration", "1e1", D}}},
  {"duration abc", MIN(.duration = "abc"), NULL, NULL,
   {{"duration", "abc", D}}},
  {"duration -5", MIN(.duration = "-5"), NULL, NULL, {{"duration", "-5", D}}},
  {"duration empty", MIN(.duration = ""), NULL, NULL, {{"duration", "", D}}},
  {"duration 7.", MIN(.duration = "7."), NULL, NULL, {{"duration", "7.", D}}},
  {"duration .5", MIN(.duration = ".5"), NULL, NULL, {{"duration", ".5", D}}},
  {"duration 7.3s", MIN(.duration = "7.3s"), NULL, NULL,
   {{"duration", "7.3s", D}}},
  {"duration huge", MIN(.duration = "100000000000000000000"), NULL, NULL,
   {{"duration", "100000000000000000000", D}}},
  {"duration 7.000001", MIN(.duration = "7.000001"), NULL, NULL,
   {{"duration", "7.000001", D}}},
  {"seed -1", MIN(.seed = "-1"), NULL, NULL, {{"seed", "-1", S}}},
  {"seed 2^63", MIN(.seed = "9223372036854775808"), NULL, NULL,
   {{"seed", "9223372036854775808", S}}},
  {"seed 2^64", MIN(.seed = "18446744073709551616"), NULL, NULL,
   {{"seed", "18446744073709551616", S}}},
  {"seed 1.5", MIN(.seed = "1.5"), NULL, NULL, {{"seed", "1.5", S}}},
  {"seed 1e3", MIN(.seed = "1e3"), NULL, NULL, {{"seed", "1e3", S}}},
  {"seed +1", MIN(.seed = "+1"), NULL, NULL, {{"seed", "+1", S}}},
  {"seed empty", MIN(.seed = ""), NULL, NULL, {{"seed", "", S}}},
  {"results 0", MIN(.results = "0"), NULL, NULL,
   {{"numberResults", "0", R}}},
  {"results 5", MIN(.results = "5"), NULL, NULL,
   {{"numberResults", "5", R}}},
  {"results 2.0", MIN(.results = "2.0"), NULL, NULL,
   {{"numberResults", "2.0", R}}},
  {"format mkv", MIN(.format = "mkv"), NULL, NULL,
   {{"outputFormat", "mkv", F}}},
  {"format empty", MIN(.format = ""), NULL, NULL, {{"outputFormat", "", F}}},
  {"quality 19", MIN(.quality = "19"), NULL, NULL,
   {{"outputQuality", "19", Q}}},
  {"quality 100", MIN(.quality = "100"), NULL, NULL,
   {{"outputQuality", "100", Q}}},
  {"quality 95.5", MIN(.quality = "95.5"), NULL, NULL,
   {{"outputQuality", "95.5", Q}}},
  {"ttl 59", MIN(.ttl = "59"), NULL, NULL, {{"ttl", "59", T}}},
  {"ttl 3600.5", MIN(.ttl = "3600.5"), NULL, NULL, {{"ttl", "3600.5", T}}},
  {"cost maybe", MIN(.include_cost = "maybe"), NULL, NULL,
   {{"includeCost", "maybe", B}}},
  {"camera 2", MIN(.camera_fixed = "2"), NULL, NULL,
   {{"providerSettings.bytedance.cameraFixed", "2", B}}},
  {"safety strict", MIN(.safety = "strict"), NULL, NULL,
   {{"safety.mode", "strict", SF}}},
  {"frame UUID v1", MIN(.frame_image = "aac49721-1964-181a-ae78-8a4e29b91402"),
   NULL, NULL,
   {{"inputs.frameImages", "aac49721-1964-181a-ae78-8a4e29b91402", FR}}},
  {"frame URL no host", MIN(.frame_image = "https:///a.png"), NULL, NULL,
   {{"inputs.frameImages", "https:///a.png", FR}}},
  {"frame URL space", MIN(.frame_image = "http://x.org/a b.png"), NULL, NULL,
   {{"inputs.frameImages", "http://x.org/a b.png", FR}}},
  {"frame empty", MIN(.frame_image = ""), NULL, NULL,
   {{"inputs.frameImages", "", FR}}},
  {"value with control chars", MIN(.format = "mp4\n\t"), NULL, NULL,
   {{"outputFormat", "mp4\\x0a\\x09", F}}},

  /* ---- invalid: several fields, every error at once -------------------- */
  {"five errors",
   {.prompt = "x", .resolution = "720p", .duration = "1.25", .seed = "-1",
    .results = "5", .format = "avi"},
   NULL, NULL,
   {{"positivePrompt", "x", P}, {"duration", "1.25", D}, {"seed", "-1", S},
    {"numberResults", "5", R}, {"outputFormat", "avi", F}}},
  {"every field bad",
   {.prompt = "", .width = "1", .height = "2", .resolution = "2k",
    .duration = "99", .seed = "x", .results = "9", .format = "gif"},
   NULL, NULL,
   {{"positivePrompt", "", P}, {"resolution", "2k", RES},
    {"resolution", "2k", SR}, {"width", "1x2", DIMS}, {"duration", "99", D},
    {"seed", "x", S}, {"numberResults", "9", R}, {"outputFormat", "gif", F}}},
  {"the rest bad",
   {.prompt = "ok", .resolution = "480p", .quality = "1", .ttl = "1",
    .include_cost = "?", .safety = "on", .camera_fixed = "fixed"},
   NULL, NULL,
   {{"outputQuality", "1", Q}, {"ttl", "1", T}, {"includeCost", "?", B},
    {"safety.mode", "on", SF},
    {"providerSettings.bytedance.cameraFixed", "fixed", B}}},
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

static void check_row(const row *r)
{
  vs_task_errors errs;
  cJSON *task = (cJSON *)1;
  int rc = vs_task_build(&r->o, &task, &errs), n = 0, i;
  while(n < 8 && r->err[n].field)
    n++;
  if(!n) {
    char *txt;
    if(rc || !task)
      fail_msg("%s: expected a task, got rc %d, %d errors, first %s: %s",
               r->name, rc, errs.n, errs.n ? errs.e[0].field : "",
               errs.n ? errs.e[0].message : "");
    txt = cJSON_PrintUnformatted(task);
    if(r->json && strcmp(txt, r->json))
      fail_msg("%s:\n got  %s\n want %s", r->name, txt, r->json);
    if(r->has && !strstr(txt, r->has))
      fail_msg("%s:\n got  %s\n want a piece %s", r->name, txt, r->has);
    cJSON_free(txt);
    cJSON_Delete(task);
    return;
  }
  if(rc != VS_ERR_INVALID || task)
    fail_msg("%s: expected errors, got rc %d", r->name, rc);
  if(errs.n != n)
    fail_msg("%s: %d errors, want %d (first: %s=%s)", r->name, errs.n, n,
             errs.e[0].field, errs.e[0].value);
  for(i = 0; i < n; i++) {
    const vs_task_error *e = &errs.e[i];
    if(strcmp(e->field, r->err[i].field) ||
       strcmp(e->value, r->err[i].value) ||
       strcmp(e->allowed, r->err[i].allowed) || !e->message[0])
      fail_msg("%s: error %d is {%s, %s, %s, %s}, want {%s, %s, %s}",
               r->name, i, e->field, e->value, e->allowed, e->message,
               r->err[i].field, r->err[i].value, r->err[i].allowed);
  }
}

static void test_table(void **state)
{
  size_t i, valid = 0;
  (void)state;
  assert_true(N_ROWS >= 60);
  for(i = 0; i < N_ROWS; i++) {
    check_row(&rows[i]);
    valid += !rows[i].err[0].field;
  }
  print_message("%zu option sets, %zu valid, %zu invalid\n", N_ROWS, valid,
                N_ROWS - valid);
}

static const char *msg(const vs_task_errors *errs, const char *field)
{
  const vs_task_error *e = vs_task_errors_find(errs, field);
  assert_non_null(e);
  return e->message;
}

/* The messages say what is wrong, not only where. */
static void test_messages(void **state)
{
  vs_task_opts o = {.prompt = p3001, .resolution = "720p", .duration = "1.25",
                    .seed = "9223372036854775808"};
  vs_task_errors errs;
  cJSON *task;
  (void)state;
  assert_int_equal(vs_task_build(&o, &task, &errs), VS_ERR_INVALID);
  assert_non_null(strstr(msg(&errs, "positivePrompt"), "3001 characters"));
  assert_non_null(strstr(msg(&errs, "duration"), "steps of 0.1"));
  assert_non_null(strstr(msg(&errs, "seed"),
                         "between 0 and 9223372036854775807"));
  assert_null(vs_task_errors_find(&errs, "width"));
}

/* Every pair of the reference's table maps to its class; its transpose only
 * where the table lists both. */
static void test_dims_classes(void **state)
{
  static const struct {
    long w, h;
    const char *cls;
  } pairs[] = {
    {864, 480, "480p"},    {736, 544, "480p"},    {640, 640, "480p"},
    {544, 736, "480p"},    {480, 864, "480p"},    {416, 960, "480p"},
    {960, 416, "480p"},    {1248, 704, "720p"},   {1120, 832, "720p"},
    {960, 960, "720p"},    {832, 1120, "720p"},   {704, 1248, "720p"},
    {1504, 640, "720p"},   {640, 1504, "720p"},   {1920, 1088, "1080p"},
    {1664, 1248, "1080p"}, {1440, 1440, "1080p"}, {1248, 1664, "1080p"},
    {1088, 1920, "1080p"}, {928, 2176, "1080p"},  {2176, 928, "1080p"}};
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
    assert_string_equal(vs_task_dims_class(pairs[i].w, pairs[i].h),
                        pairs[i].cls);
  assert_null(vs_task_dims_class(1920, 1080));
  assert_null(vs_task_dims_class(1280, 720));
  assert_null(vs_task_dims_class(0, 0));
}

/* A prompt file: read, its final newline dropped, same rules. */
static void test_prompt_file(void **state)
{
  char path[] = "/tmp/vsink-task-promptXXXXXX";
  int fd = mkstemp(path);
  FILE *f = fdopen(fd, "w");
  vs_task_opts o = {.prompt_file = path, .resolution = "480p"};
  vs_task_errors errs;
  cJSON *task;
  (void)state;
  fputs("日本語 dance\n", f);
  fclose(f);
  assert_int_equal(vs_task_build(&o, &task, &errs), VS_OK);
  assert_string_equal(
    cJSON_GetObjectItem(task, "positivePrompt")->valuestring, "日本語 dance");
  cJSON_Delete(task);
  f = fopen(path, "w");
  fputs(p3001, f);
  fclose(f);
  assert_int_equal(vs_task_build(&o, &task, &errs), VS_ERR_INVALID);
  assert_int_equal(errs.n, 1);
  assert_string_equal(errs.e[0].field, "positivePrompt");
  f = fopen(path, "w");
  fwrite("ab\0cd", 1, 5, f);
  fclose(f);
  assert_int_equal(vs_task_build(&o, &task, &errs), VS_ERR_INVALID);
  assert_non_null(strstr(errs.e[0].message, "NUL"));
  assert_string_equal(errs.e[0].value, path);
  unlink(path);
}

/* taskUUID goes right after taskType. */
static void test_set_uuid(void **state)
{
  vs_task_opts o = MIN();
  vs_task_errors errs;
  cJSON *task;
  char *txt;
  (void)state;
  assert_int_equal(vs_task_build(&o, &task, &errs), VS_OK);
  assert_int_equal(vs_task_set_uuid(task, UUID), VS_OK);
  assert_int_equal(vs_task_set_uuid(task, UUID), VS_OK); /* replaces */
  txt = cJSON_PrintUnformatted(task);
  assert_true(!strncmp(txt, "{\"taskType\":\"videoInference\",\"taskUUID\":\""
                            UUID "\",\"model\"", 80));
  assert_null(strstr(strstr(txt, "taskUUID") + 1, "taskUUID"));
  cJSON_free(txt);
  cJSON_Delete(task);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_table),
    cmocka_unit_test(test_messages),
    cmocka_unit_test(test_dims_classes),
    cmocka_unit_test(test_prompt_file),
    cmocka_unit_test(test_set_uuid),
  };
  size_t i;
  /* "日本語" repeated: 3 bytes a character, so byte counts would be 3x */
  for(i = 0; i < 3000; i++)
    memcpy(p3000 + 3 * i, &"日本語"[3 * (i % 3)], 3);
  memcpy(p3001, p3000, sizeof(p3000) - 1);
  memcpy(p3001 + 9000, "本", 3);
  /* an error shows the first 96 bytes (32 characters) and "..." */
  memcpy(p3001_shown, p3001, 96);
  strcpy(p3001_shown + 96, "...");
  return cmocka_run_group_tests(tests, NULL, NULL);
}
