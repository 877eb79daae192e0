/* manifest: closing what a dead writer left (vs_manifest_recover), and the
 * rotation a shipping sink asks for (max_events, vs_manifest_tick).
 * - a writer killed (SIGKILL) with its segment open: recover compresses
 *   that segment, never the one a live writer in the same folder fills,
 *   which still takes lines; every event reads back once;
 * - an unnamed ".NAME.new" nobody holds is removed; a segment left both
 *   plain and gzipped keeps only its .gz;
 * - max_events closes a segment after that many lines;
 * - vs_manifest_tick closes a quiet segment once it is max_age_ms old, and
 *   not before. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "vsink/manifest.h"

static int count_suffix(const char *dir, const char *suffix)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t sl = strlen(suffix);
  int n = 0;
  assert_non_null(d);
  while((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if(e->d_name[0] != '.' && len > sl &&
       !strcmp(e->d_name + len - sl, suffix))
      n++;
  }
  closedir(d);
  return n;
}

static void append(vs_manifest *m, int id)
{
  cJSON *f = cJSON_CreateObject();
  vs_err err = {0};
  cJSON_AddNumberToObject(f, "id", id);
  assert_int_equal(vs_manifest_append(m, "stored", f, &err), VS_OK);
  cJSON_Delete(f);
}

static int count_line(void *ctx, const char *line, size_t len)
{
  (void)line;
  (void)len;
  (*(int *)ctx)++;
  return 0;
}

static int lines_in(const char *dir)
{
  vs_err err = {0};
  int n = 0;
  assert_int_equal(vs_manifest_scan(dir, count_line, NULL, &n, &err), VS_OK);
  return n;
}

static void killed_writer(const char *dir)
{
  vs_manifest_opts o = {.dir = dir, .node = "dead"};
  vs_manifest *m = NULL;
  vs_err err = {0};
  int i, status;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if(pid == 0) {
    if(vs_manifest_open(&m, &o, &err))
      _exit(2);
    for(i = 0; i < 3; i++)
      append(m, 100 + i);
    raise(SIGKILL);
    _exit(3);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void test_recover_dead_not_live(void **state)
{
  char dir[256];
  vs_manifest_opts o = {0};
  vs_manifest *live = NULL;
  vs_err err = {0};
  int closed = -1;
  (void)state;
  assert_int_equal(vst_tmpdir("mrecover", dir, sizeof(dir)), 0);
  o.dir = dir;
  o.node = "live";
  assert_int_equal(vs_manifest_open(&live, &o, &err), VS_OK);
  append(live, 1);
  killed_writer(dir);
  assert_int_equal(count_suffix(dir, ".jsonl"), 2);
  assert_int_equal(vs_manifest_recover(dir, &closed, &err), VS_OK);
  assert_int_equal(closed, 1);
  assert_int_equal(count_suffix(dir, ".jsonl"), 1);   /* the live one */
  assert_int_equal(count_suffix(dir, ".jsonl.gz"), 1); /* the dead one */
  /* again: nothing more to do, and the live writer still appends */
  assert_int_equal(vs_manifest_recover(dir, &closed, &err), VS_OK);
  assert_int_equal(closed, 0);
  append(live, 2);
  assert_int_equal(lines_in(dir), 5);
  vs_manifest_close(live);
  assert_int_equal(count_suffix(dir, ".jsonl"), 0);
  assert_int_equal(count_suffix(dir, ".jsonl.gz"), 2);
  assert_int_equal(lines_in(dir), 5);
  vst_rmrf(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
  char path[512];
  FILE *f;
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void test_recover_leftovers(void **state)
{
  char dir[256], path[512];
  const char *line = "{\"v\":1,\"event\":\"x\",\"time\":"
                     "\"2026-01-01T00:00:00.000Z\",\"node\":\"n\"}\n";
  vs_err err = {0};
  struct stat st;
  int closed = -1;
  (void)state;
  assert_int_equal(vst_tmpdir("mrecover", dir, sizeof(dir)), 0);
  /* a writer killed between creating and naming its segment */
  write_file(dir, ".20260101T000000000Z-n-1-00000000.jsonl.new", "");
  /* a plain segment nobody holds */
  write_file(dir, "20260101T000000001Z-n-1-00000001.jsonl", line);
  assert_int_equal(vs_manifest_recover(dir, &closed, &err), VS_OK);
  assert_int_equal(closed, 2);
  snprintf(path, sizeof(path), "%s/20260101T000000001Z-n-1-00000001.jsonl",
           dir);
  /* as if killed after the rename of its .gz, before the unlink */
  write_file(dir, "20260101T000000001Z-n-1-00000001.jsonl", "garbage\n");
  assert_int_equal(vs_manifest_recover(dir, &closed, &err), VS_OK);
  assert_int_equal(closed, 1);
  assert_int_equal(stat(path, &st), -1); /* the plain one went */
  assert_int_equal(count_suffix(dir, ".jsonl.gz"), 1);
  assert_int_equal(lines_in(dir), 1);   /* the .gz's line, not garbage */
  snprintf(path, sizeof(path),
           "%s/.20260101T000000000Z-n-1-00000000.jsonl.new", dir);
  assert_int_equal(stat(path, &st), -1);
  vst_rmrf(dir);
}

static void test_max_events(void **state)
{
  char dir[256];
  vs_manifest_opts o = {0};
  vs_manifest *m = NULL;
  vs_err err = {0};
  int i;
  (void)state;
  assert_int_equal(vst_tmpdir("mevents", dir, sizeof(dir)), 0);
  o.dir = dir;
  o.node = "ev";
  o.max_events = 2;
  assert_int_equal(vs_manifest_open(&m, &o, &err), VS_OK);
  for(i = 0; i < 5; i++)
    append(m, i);
  vs_manifest_close(m);
  assert_int_equal(count_suffix(dir, ".jsonl.gz"), 3);
  assert_int_equal(lines_in(dir), 5);
  vst_rmrf(dir);
}

static int64_t fake_now(void *ctx)
{
  return *(int64_t *)ctx;
}

static void test_tick(void **state)
{
  char dir[256];
  vs_manifest_opts o = {0};
  vs_manifest *m = NULL;
  vs_err err = {0};
  int64_t now = 1767225600000LL;
  int i;
  (void)state;
  assert_int_equal(vst_tmpdir("mtick", dir, sizeof(dir)), 0);
  o.dir = dir;
  o.node = "tick";
  o.max_age_ms = 1000;
  o.now = fake_now;
  o.now_ctx = &now;
  assert_int_equal(vs_manifest_open(&m, &o, &err), VS_OK);
  append(m, 1);
  now += 999;
  vs_manifest_tick(m);
  usleep(200000);
  assert_int_equal(count_suffix(dir, ".jsonl"), 1);
  now += 1;
  vs_manifest_tick(m);
  /* the compression thread closes it: no append needed */
  for(i = 0; i < 100 && count_suffix(dir, ".jsonl.gz") == 0; i++)
    usleep(50000);
  assert_int_equal(count_suffix(dir, ".jsonl.gz"), 1);
  assert_int_equal(count_suffix(dir, ".jsonl"), 0);
  vs_manifest_close(m);
  assert_int_equal(lines_in(dir), 1);
  vst_rmrf(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_recover_dead_not_live),
    cmocka_unit_test(test_recover_leftovers),
    cmocka_unit_test(test_max_events),
    cmocka_unit_test(test_tick),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
