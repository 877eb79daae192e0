/* manifest: several writers in one directory (threads of one writer, two
 * writers in one process, and a separate process), every event read back
 * exactly once. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "util/json.h"
#include "vsink/manifest.h"

#define THREADS 8
#define PER_THREAD 200
#define CHILD_EVENTS 600
/* ids: writer w (0..THREADS-1 threads of A, THREADS: writer B, THREADS+1:
 * the child process), sequence i */
#define WRITERS (THREADS + 2)
#define MAX_PER 2000

static vs_manifest *open_node(const char *dir, const char *node)
{
  vs_manifest *m = NULL;
  vs_err err = {0};
  vs_manifest_opts o = {.dir = dir, .node = node, .max_bytes = 16 << 10};
  assert_int_equal(vs_manifest_open(&m, &o, &err), VS_OK);
  return m;
}

static int append_id(vs_manifest *m, int w, int i)
{
  vs_err err = {0};
  cJSON *f = cJSON_CreateObject();
  int rc;
  cJSON_AddNumberToObject(f, "w", w);
  cJSON_AddNumberToObject(f, "i", i);
  rc = vs_manifest_append(m, "stored", f, &err);
  cJSON_Delete(f);
  return rc;
}

typedef struct job {
  vs_manifest *m;
  int w, n, failed;
} job;

static void *run(void *arg)
{
  job *j = arg;
  int i;
  for(i = 0; i < j->n; i++)
    j->failed += append_id(j->m, j->w, i) != 0;
  return NULL;
}

typedef struct seen {
  unsigned char hits[WRITERS][MAX_PER];
  int lines, bad;
  int64_t last;
  int unordered;
} seen;

static int tally(void *ctx, const char *line, size_t len)
{
  seen *s = ctx;
  cJSON *j = vs_json_parse(line, len);
  int64_t w = -1, i = -1, t;
  s->lines++;
  if(!j || vs_json_int64(cJSON_GetObjectItem(j, "w"), 0, WRITERS - 1, &w) ||
     vs_json_int64(cJSON_GetObjectItem(j, "i"), 0, MAX_PER - 1, &i) ||
     vs_manifest_line_time(line, len, &t))
    s->bad++;
  else {
    s->hits[w][i]++;
    s->unordered += t < s->last;
    s->last = t;
  }
  cJSON_Delete(j);
  return 0;
}

static void test_many_writers(void **state)
{
  char dir[256];
  pthread_t th[THREADS];
  job jobs[THREADS + 1];
  vs_manifest *a, *b;
  seen *s = calloc(1, sizeof(*s));
  vs_err err = {0};
  int k, i, status;
  pid_t child;
  (void)state;
  assert_int_equal(vst_tmpdir("mwriters", dir, sizeof(dir)), 0);
  child = fork();
  assert_true(child >= 0);
  if(child == 0) { /* a separate process, same node name as writer A */
    vs_manifest *c = open_node(dir, "node-a");
    int bad = 0;
    for(i = 0; i < CHILD_EVENTS; i++)
      bad += append_id(c, THREADS + 1, i) != 0;
    vs_manifest_close(c);
    _exit(bad ? 1 : 0);
  }
  a = open_node(dir, "node-a");
  b = open_node(dir, "node-b");
  for(k = 0; k < THREADS; k++) {
    jobs[k] = (job){a, k, PER_THREAD, 0};
    assert_int_equal(pthread_create(&th[k], NULL, run, &jobs[k]), 0);
  }
  jobs[THREADS] = (job){b, THREADS, PER_THREAD, 0};
  run(&jobs[THREADS]);
  for(k = 0; k < THREADS; k++)
    pthread_join(th[k], NULL);
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  vs_manifest_close(a);
  vs_manifest_close(b);
  for(k = 0; k <= THREADS; k++)
    assert_int_equal(jobs[k].failed, 0);

  assert_int_equal(vs_manifest_scan(dir, tally, NULL, s, &err), VS_OK);
  assert_int_equal(s->bad, 0);
  assert_int_equal(s->lines, (THREADS + 1) * PER_THREAD + CHILD_EVENTS);
  for(k = 0; k < WRITERS; k++)
    for(i = 0; i < (k == THREADS + 1 ? CHILD_EVENTS : PER_THREAD); i++)
      if(s->hits[k][i] != 1)
        fail_msg("writer %d event %d read %d times", k, i, s->hits[k][i]);
  assert_int_equal(s->unordered, 0); /* the merge is in time order */
  /* Many segments (16 KiB each) from three writers, all compressed. */
  assert_true(vst_count_files(dir) > 10);
  free(s);
  vst_rmrf(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_many_writers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
