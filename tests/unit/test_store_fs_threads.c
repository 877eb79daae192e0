/* store_fs: 16 threads committing to one key at once, under each policy,
 * with readers running alongside. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <cmocka.h>

#include "helpers.h"
#include "test_store_common.h"

#define NTHREADS 16
#define BODY (192 * 1024 + 17)

typedef struct job {
  vs_store *s;
  vs_on_existing policy;
  int id, rc;
  char *body;
  char sha[65];
  vs_object_info info;
  vs_err err;
} job;

typedef struct fx {
  char dir[256];
  vs_store *s;
  job jobs[NTHREADS];
} fx;

static int setup(void **state)
{
  fx *f = calloc(1, sizeof(*f));
  int i;
  size_t j;
  /* the real clock: commits share milliseconds */
  if(!f || st_open_tmp("storethr", f->dir, sizeof(f->dir), NULL, NULL,
                       &f->s))
    return -1;
  for(i = 0; i < NTHREADS; i++) {
    job *jb = &f->jobs[i];
    jb->s = f->s;
    jb->id = i;
    jb->body = malloc(BODY);
    for(j = 0; j < BODY; j++)
      jb->body[j] = (char)(j * 31 + (size_t)i * 7919 + (j >> 9));
    st_sha256(jb->body, BODY, jb->sha);
  }
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fx *f = *state;
  int i;
  st_close_tmp(f->s, f->dir);
  for(i = 0; i < NTHREADS; i++)
    free(f->jobs[i].body);
  free(f);
  return 0;
}

static void *put_thread(void *arg)
{
  job *jb = arg;
  jb->rc = st_put(jb->s, "bkt", "one/key", jb->body, BODY, jb->policy, 0,
                  &jb->info, &jb->err);
  return NULL;
}

typedef struct reader {
  fx *f;
  _Atomic int stop;
  int reads, bad;
  char last_err[256];
} reader;

/* The current object is always one whole body that some thread wrote. */
static void *read_thread(void *arg)
{
  reader *r = arg;
  while(!r->stop) {
    vs_object_info info;
    char sha[65];
    size_t len = 0;
    int rc, i, known = 0;
    char *got = st_get(r->f->s, "bkt", "one/key", NULL, &len, &info, &rc);
    if(rc == VS_ERR_NOTFOUND)
      continue; /* nothing committed yet */
    r->reads++;
    if(rc || len != BODY) {
      r->bad++;
      snprintf(r->last_err, sizeof(r->last_err), "rc %d len %zu", rc, len);
      free(got);
      continue;
    }
    st_sha256(got, len, sha);
    for(i = 0; i < NTHREADS; i++)
      known |= !strcmp(sha, r->f->jobs[i].sha);
    if(!known || strcmp(sha, info.sha256))
      r->bad++;
    free(got);
  }
  return NULL;
}

static void run_all(fx *f, vs_on_existing policy, reader *r)
{
  pthread_t t[NTHREADS], rt;
  int i;
  if(r) {
    r->f = f;
    pthread_create(&rt, NULL, read_thread, r);
  }
  for(i = 0; i < NTHREADS; i++) {
    f->jobs[i].policy = policy;
    assert_int_equal(pthread_create(&t[i], NULL, put_thread, &f->jobs[i]), 0);
  }
  for(i = 0; i < NTHREADS; i++)
    pthread_join(t[i], NULL);
  if(r) {
    r->stop = 1;
    pthread_join(rt, NULL);
  }
}

/* The version is whole and is the one body whose commit returned vid. */
static void check_version(fx *f, const char *vid)
{
  vs_object_info info;
  char sha[65];
  size_t len = 0;
  int rc, i, owners = 0;
  char *got = st_get(f->s, "bkt", "one/key", vid, &len, &info, &rc);
  assert_int_equal(rc, VS_OK);
  assert_int_equal(len, BODY);
  st_sha256(got, len, sha);
  free(got);
  assert_string_equal(sha, info.sha256);
  for(i = 0; i < NTHREADS; i++)
    if(!strcmp(f->jobs[i].info.version_id, vid)) {
      assert_string_equal(sha, f->jobs[i].sha);
      owners++;
    }
  assert_int_equal(owners, 1);
}

static void test_versions(void **state)
{
  fx *f = *state;
  reader r = {0};
  vs_object_info cur;
  vs_err err = {0};
  char **ids;
  size_t n, i;
  run_all(f, VS_ON_EXISTING_VERSION, &r);
  for(i = 0; i < NTHREADS; i++)
    if(f->jobs[i].rc)
      fail_msg("thread %zu: %s", i, f->jobs[i].err.msg);
  assert_int_equal(vs_store_fs_list_versions(f->s, "bkt", "one/key", &ids, &n,
                                             &err), VS_OK);
  assert_int_equal(n, NTHREADS);
  for(i = 0; i < n; i++) {
    if(i)
      assert_true(strcmp(ids[i - 1], ids[i]) < 0);
    check_version(f, ids[i]);
  }
  assert_int_equal(vs_store_stat(f->s, "bkt", "one/key", NULL, &cur, &err),
                   VS_OK);
  assert_string_equal(cur.version_id, ids[n - 1]);
  st_free_ids(ids, n);
  assert_int_equal(r.bad, 0);
}

static void test_overwrite(void **state)
{
  fx *f = *state;
  reader r = {0};
  vs_object_info cur;
  vs_err err = {0};
  char **ids, path[512];
  size_t n, i;
  run_all(f, VS_ON_EXISTING_OVERWRITE, &r);
  for(i = 0; i < NTHREADS; i++)
    if(f->jobs[i].rc)
      fail_msg("thread %zu: %s", i, f->jobs[i].err.msg);
  assert_int_equal(vs_store_fs_list_versions(f->s, "bkt", "one/key", &ids, &n,
                                             &err), VS_OK);
  assert_int_equal(n, 1);
  check_version(f, ids[0]);
  assert_int_equal(vs_store_stat(f->s, "bkt", "one/key", NULL, &cur, &err),
                   VS_OK);
  assert_string_equal(cur.version_id, ids[0]);
  /* The last commit wins: its id is the greatest any thread got. */
  for(i = 0; i < NTHREADS; i++)
    assert_true(strcmp(f->jobs[i].info.version_id, ids[0]) <= 0);
  st_free_ids(ids, n);
  snprintf(path, sizeof(path), "%s/buckets/bkt/one/key", f->dir);
  assert_int_equal(vst_count_files(path), 3);
  if(r.bad)
    fail_msg("%d of %d reads bad (%s)", r.bad, r.reads, r.last_err);
}

static void test_reject(void **state)
{
  fx *f = *state;
  int i, won = 0, refused = 0;
  char path[512];
  run_all(f, VS_ON_EXISTING_REJECT, NULL);
  for(i = 0; i < NTHREADS; i++) {
    won += f->jobs[i].rc == VS_OK;
    refused += f->jobs[i].rc == VS_ERR_EXISTS;
  }
  assert_int_equal(won, 1);
  assert_int_equal(refused, NTHREADS - 1);
  snprintf(path, sizeof(path), "%s/buckets/bkt/one/key", f->dir);
  assert_int_equal(vst_count_files(path), 3);
  snprintf(path, sizeof(path), "%s/.tmp", f->dir);
  assert_int_equal(vst_count_files(path), 0);
}

/* Readers racing overwrites of a small object: the version @current names
 * may be deleted between readlink and open; a reader then follows the new
 * @current and never sees "not found" or a torn object. */
typedef struct churn {
  vs_store *s;
  int rounds, rc;
  vs_err err;
} churn;

static void *churn_thread(void *arg)
{
  churn *c = arg;
  char body[64];
  vs_object_info info;
  int i;
  for(i = 0; i < c->rounds && !c->rc; i++) {
    memset(body, 'a' + i % 26, sizeof(body));
    c->rc = st_put(c->s, "bkt", "hot", body, sizeof(body),
                   VS_ON_EXISTING_OVERWRITE, 0, &info, &c->err);
  }
  return NULL;
}

static void *stat_thread(void *arg)
{
  reader *r = arg;
  while(!r->stop) {
    vs_object_info info;
    vs_err err = {0};
    char buf[65];
    int fd = -1, rc = vs_store_open(r->f->s, "bkt", "hot", NULL, &fd, &info,
                                    &err);
    ssize_t n = 0;
    if(!rc) {
      n = read(fd, buf, sizeof(buf));
      close(fd);
    }
    r->reads++;
    if(!rc && n == 64)
      while(n > 0 && buf[n - 1] == buf[0])
        n--;
    if(rc || n != 0) {
      r->bad++;
      snprintf(r->last_err, sizeof(r->last_err), "rc %d: %.200s", rc, err.msg);
    }
  }
  return NULL;
}

static void test_readers_race_overwrite(void **state)
{
  fx *f = *state;
  churn c[2] = {{f->s, 150, 0, {0}}, {f->s, 150, 0, {0}}};
  reader r = {0};
  pthread_t w[2], rt;
  vs_object_info info;
  vs_err err = {0};
  int i;
  char path[512], first[64];
  r.f = f;
  memset(first, 'z', sizeof(first));
  assert_int_equal(st_put(f->s, "bkt", "hot", first, sizeof(first),
                          VS_ON_EXISTING_VERSION, 0, &info, &err), VS_OK);
  pthread_create(&rt, NULL, stat_thread, &r);
  for(i = 0; i < 2; i++)
    pthread_create(&w[i], NULL, churn_thread, &c[i]);
  for(i = 0; i < 2; i++)
    pthread_join(w[i], NULL);
  r.stop = 1;
  pthread_join(rt, NULL);
  for(i = 0; i < 2; i++)
    if(c[i].rc)
      fail_msg("writer %d: %s", i, c[i].err.msg);
  if(r.bad)
    fail_msg("%d of %d reads bad (%s)", r.bad, r.reads, r.last_err);
  snprintf(path, sizeof(path), "%s/buckets/bkt/hot", f->dir);
  assert_int_equal(vst_count_files(path), 3);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overwrite, setup, teardown),
    cmocka_unit_test_setup_teardown(test_reject, setup, teardown),
    cmocka_unit_test_setup_teardown(test_readers_race_overwrite, setup,
                                    teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
