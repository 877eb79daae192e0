/* manifest: N threads appending lines of many sizes at once into one
 * writer; every line comes back whole, none mixed with another. */
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
#include <cmocka.h>

#include "helpers.h"
#include "util/json.h"
#include "vsink/manifest.h"

#define THREADS 16
#define PER_THREAD 60

/* Thread t's i-th payload: a length that varies from 1 to ~9000 bytes (so
 * some writes cross pages) and a fill character of its own. */
static size_t payload_len(int t, int i)
{
  return 1 + (size_t)((t * 7919 + i * 104729) % 9000);
}

static char payload_char(int t, int i)
{
  return (char)('A' + (t * 31 + i) % 26);
}

typedef struct job {
  vs_manifest *m;
  int t, failed;
} job;

static void *run(void *arg)
{
  job *j = arg;
  char *buf = malloc(10000);
  int i;
  for(i = 0; i < PER_THREAD; i++) {
    vs_err err = {0};
    size_t n = payload_len(j->t, i);
    cJSON *f = cJSON_CreateObject();
    memset(buf, payload_char(j->t, i), n);
    buf[n] = 0;
    cJSON_AddNumberToObject(f, "t", j->t);
    cJSON_AddNumberToObject(f, "i", i);
    cJSON_AddStringToObject(f, "payload", buf);
    j->failed += vs_manifest_append(j->m, "stored", f, &err) != 0;
    cJSON_Delete(f);
  }
  free(buf);
  return NULL;
}

typedef struct seen {
  int hits[THREADS][PER_THREAD];
  int lines, bad;
} seen;

static int check(void *ctx, const char *line, size_t len)
{
  seen *s = ctx;
  cJSON *j = vs_json_parse(line, len);
  const cJSON *p = cJSON_GetObjectItem(j, "payload");
  int64_t t, i;
  size_t k, n;
  s->lines++;
  if(!j || !cJSON_IsString(p) ||
     vs_json_int64(cJSON_GetObjectItem(j, "t"), 0, THREADS - 1, &t) ||
     vs_json_int64(cJSON_GetObjectItem(j, "i"), 0, PER_THREAD - 1, &i)) {
    s->bad++;
    cJSON_Delete(j);
    return 0;
  }
  n = strlen(p->valuestring);
  if(n != payload_len((int)t, (int)i))
    s->bad++;
  for(k = 0; k < n; k++)
    if(p->valuestring[k] != payload_char((int)t, (int)i)) {
      s->bad++;
      break;
    }
  s->hits[t][i]++;
  cJSON_Delete(j);
  return 0;
}

static void test_threads(void **state)
{
  char dir[256];
  pthread_t th[THREADS];
  job jobs[THREADS];
  vs_manifest *m = NULL;
  vs_err err = {0};
  vs_manifest_opts o = {.node = "threads", .max_bytes = 256 << 10};
  seen *s = calloc(1, sizeof(*s));
  int k, i;
  (void)state;
  assert_int_equal(vst_tmpdir("mthreads", dir, sizeof(dir)), 0);
  o.dir = dir;
  assert_int_equal(vs_manifest_open(&m, &o, &err), VS_OK);
  for(k = 0; k < THREADS; k++) {
    jobs[k] = (job){m, k, 0};
    assert_int_equal(pthread_create(&th[k], NULL, run, &jobs[k]), 0);
  }
  for(k = 0; k < THREADS; k++) {
    pthread_join(th[k], NULL);
    assert_int_equal(jobs[k].failed, 0);
  }
  vs_manifest_close(m);
  assert_int_equal(vs_manifest_scan(dir, check, NULL, s, &err), VS_OK);
  assert_int_equal(s->bad, 0);
  assert_int_equal(s->lines, THREADS * PER_THREAD);
  for(k = 0; k < THREADS; k++)
    for(i = 0; i < PER_THREAD; i++)
      assert_int_equal(s->hits[k][i], 1);
  free(s);
  vst_rmrf(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
