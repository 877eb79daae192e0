/* manifest: a writer killed mid-stream leaves a plain segment whose lines
 * are all readable (a partial one reported torn); a restarted writer never
 * appends to it. Also the options a writer refuses. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "util/fs.h"
#include "vsink/manifest.h"

#define PART "{\"v\":1,\"event\":\"stor"

static vs_manifest *open_node(const char *dir, const char *node)
{
  vs_manifest *m = NULL;
  vs_err err = {0};
  vs_manifest_opts o = {.dir = dir, .node = node};
  assert_int_equal(vs_manifest_open(&m, &o, &err), VS_OK);
  return m;
}

static int append_n(vs_manifest *m, int n)
{
  vs_err err = {0};
  cJSON *f = cJSON_CreateObject();
  int rc;
  cJSON_AddNumberToObject(f, "n", n);
  rc = vs_manifest_append(m, "stored", f, &err);
  cJSON_Delete(f);
  return rc;
}

/* The one plain segment in dir (the crashed writer's). */
static void plain_segment(const char *dir, char *out, size_t cap)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int found = 0;
  assert_non_null(d);
  while((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if(l > 6 && !strcmp(e->d_name + l - 6, ".jsonl")) {
      snprintf(out, cap, "%s/%s", dir, e->d_name);
      found++;
    }
  }
  closedir(d);
  assert_int_equal(found, 1);
}

typedef struct rec {
  int lines, torn;
  uint64_t torn_off;
  size_t torn_len;
} rec;

static int on_line(void *ctx, const char *line, size_t len)
{
  (void)line;
  (void)len;
  ((rec *)ctx)->lines++;
  return 0;
}

static void on_torn(void *ctx, const char *seg, uint64_t off, size_t len)
{
  rec *r = ctx;
  (void)seg;
  r->torn++;
  r->torn_off = off;
  r->torn_len = len;
}

static void test_crash_and_restart(void **state)
{
  char dir[256], seg[512], *before, *after;
  size_t blen, alen;
  int status, fd;
  rec r = {0};
  vs_err err = {0};
  vs_manifest *m;
  pid_t child;
  (void)state;
  assert_int_equal(vst_tmpdir("mcrash", dir, sizeof(dir)), 0);
  child = fork();
  assert_true(child >= 0);
  if(child == 0) { /* three durable events, then dies mid-line */
    vs_manifest *c = open_node(dir, "crashy");
    int bad = append_n(c, 1) | append_n(c, 2) | append_n(c, 3);
    char path[512];
    plain_segment(dir, path, sizeof(path));
    fd = open(path, O_WRONLY | O_APPEND);
    if(fd < 0 || write(fd, PART, strlen(PART)) != (ssize_t)strlen(PART))
      bad = 1;
    if(bad)
      _exit(1);
    kill(getpid(), SIGKILL); /* no close: no compression, no cleanup */
  }
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  plain_segment(dir, seg, sizeof(seg));
  assert_int_equal(vs_read_file(seg, 1 << 20, &before, &blen, NULL), 0);

  assert_int_equal(vs_manifest_scan(dir, on_line, on_torn, &r, &err), VS_OK);
  assert_int_equal(r.lines, 3);
  assert_int_equal(r.torn, 1);
  assert_int_equal(r.torn_off, blen - strlen(PART));
  assert_int_equal(r.torn_len, strlen(PART));

  /* Restarted under the same node name: a new segment of its own. */
  m = open_node(dir, "crashy");
  assert_int_equal(append_n(m, 4), VS_OK);
  vs_manifest_close(m);
  assert_int_equal(vs_read_file(seg, 1 << 20, &after, &alen, NULL), 0);
  assert_int_equal(alen, blen);
  assert_memory_equal(after, before, blen);
  assert_int_equal(vst_count_files(dir), 2); /* old plain, new .gz */
  memset(&r, 0, sizeof(r));
  assert_int_equal(vs_manifest_scan(dir, on_line, on_torn, &r, &err), VS_OK);
  assert_int_equal(r.lines, 4);
  assert_int_equal(r.torn, 1);
  free(before);
  free(after);
  vst_rmrf(dir);
}

static void expect_open_fails(const vs_manifest_opts *o, int code,
                              const char *needle)
{
  vs_manifest *m = (vs_manifest *)1;
  vs_err err = {0};
  assert_int_equal(vs_manifest_open(&m, o, &err), code);
  assert_null(m);
  if(!strstr(err.msg, needle))
    fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
}

static void test_bad_options(void **state)
{
  char dir[256], file[512], nested[512];
  char long_node[80];
  vs_manifest_opts o = {0};
  vs_manifest *m = NULL;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vst_tmpdir("mopts", dir, sizeof(dir)), 0);
  expect_open_fails(&o, VS_ERR_INVALID, "directory not given");
  o.dir = "";
  expect_open_fails(&o, VS_ERR_INVALID, "directory not given");
  snprintf(file, sizeof(file), "%s/plainfile", dir);
  close(open(file, O_WRONLY | O_CREAT, 0644));
  o.dir = file;
  expect_open_fails(&o, VS_ERR_EXISTS, "not a directory");
  o.dir = dir;
  o.node = "";
  expect_open_fails(&o, VS_ERR_INVALID, "node name");
  memset(long_node, 'n', 65);
  long_node[65] = 0;
  o.node = long_node;
  expect_open_fails(&o, VS_ERR_INVALID, "1 to 64");
  o.node = "ok";
  o.max_age_ms = -1;
  expect_open_fails(&o, VS_ERR_INVALID, "max_age_ms");
  if(geteuid() != 0) { /* root writes anywhere */
    chmod(dir, 0555);
    o.max_age_ms = 0;
    expect_open_fails(&o, VS_ERR_IO, "Permission denied");
    chmod(dir, 0755);
  }
  /* A missing directory is made, parents too; no node: the host name. */
  snprintf(nested, sizeof(nested), "%s/a/b/manifest", dir);
  o.dir = nested;
  o.node = NULL;
  o.max_age_ms = 0;
  assert_int_equal(vs_manifest_open(&m, &o, &err), VS_OK);
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  assert_string_equal(vs_manifest_node(m), host);
  vs_manifest_close(m);
  vs_manifest_close(NULL);
  vst_rmrf(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_crash_and_restart),
    cmocka_unit_test(test_bad_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
