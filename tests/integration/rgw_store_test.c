/* The S3 store (vs_store_s3_open) against a real Ceph RGW, run by
 * test_rgw_store.py, which starts RGW and passes VSINK_RGW_ENDPOINT,
 * VSINK_RGW_KEY, VSINK_RGW_SECRET, VSINK_RGW_BUCKET (versioned) and
 * VSINK_RGW_PLAIN (not versioned). Every run works under a prefix of its
 * own, so runs never see each other's keys. Covered: a small PutObject
 * (digests, checksum, headers round trip; stream whole and ranged);
 * multipart with and without expect (bytes back equal, ETag "-N"); a
 * key's versions oldest first; REJECT and If-None-Match (single and
 * multipart); delete markers; remove; listing with prefix, after and
 * skip, all_versions; abort mid-multipart leaves no upload; a crash
 * (a child _exit()s) before settle, before the version id is recorded
 * (the oldest intent read without repairing anything first),
 * and mid-upload; versioning required; an unreachable cluster; a stream
 * whose reader goes away; peak RSS of a 300 MiB upload; start-up
 * reconciliation (vs_server_reconcile) over intents whose random version
 * ids are not in time order; copies (rgw_store_copy.c); chains of
 * overwrites cut by a crash (rgw_store_overwrite.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../unit/helpers.h"
#include "rgw_store_help.h"
#include "vsink/s3.h"
#include "vsink/server.h"
#include "vsink/store.h"

/* ---- tests -------------------------------------------------------------- */

static void key_hex(const char *k, char *out)
{
  hex((const unsigned char *)k, strlen(k), out);
}

/* Turns the intent of key k back into one made before the cluster answered
 * (its version id not yet written): what a crash mid-commit leaves. */
static void forget_version(const char *k)
{
  char dir[700], path[1400], cmd[2000], kh[256];
  snprintf(dir, sizeof(dir), "%s/crash/state/intent", DIR_);
  key_hex(k, kh);
  snprintf(cmd, sizeof(cmd), "grep -l 'key %s$' %s/* | head -1", kh, dir);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  assert_non_null(fgets(path, sizeof(path), p));
  pclose(p);
  path[strcspn(path, "\n")] = 0;
  snprintf(cmd, sizeof(cmd), "sed -i 's/^version .*/version -/' '%s'", path);
  assert_int_equal(system(cmd), 0);
}

/* The cluster uploads under b once there is one (the first part's job
 * makes it, after the write that filled the part returned); 10 s at most. */
static size_t await_upload(const char *b)
{
  size_t n;
  int i;
  for(i = 0; i < 400 && !(n = uploads_under(b)); i++)
    usleep(25 * 1000);
  return n;
}

static void crash_child(void)
{
  vs_store *s = open_store(BUCKET, "crash", 1);
  vs_object_info info;
  digests d;
  vs_upload *u;
  unsigned char *buf = calloc(1, 9 * MiB);
  vs_err e;
  put_ok(s, "bkt", "crash/a", 1000, 1, &info, &d);
  put_ok(s, "bkt", "crash/b", 2000, 2, &info, &d);
  if(vs_store_put_marker(s, "bkt", "crash/m", &info, &e))
    _exit(4);
  /* c: a multipart upload under way (Create made, a part sent) */
  if(!buf || vs_store_begin(s, "bkt", "crash/c", &u, &e) ||
     vs_store_expect(s, u, 20 * MiB, &e) ||
     vs_store_write(s, u, buf, 9 * MiB, &e))
    _exit(3);
  sleep(1);
  _exit(0); /* no settle, no close: a crash */
}

static void t_crash_intents(void **state)
{
  vs_store_intent *list;
  size_t n = 0, nv;
  char **ids;
  vs_err e = {0};
  vs_store *s;
  int64_t made = 0;
  int st;
  pid_t pid = fork();
  (void)state;
  assert_true(pid >= 0);
  if(!pid)
    crash_child();
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  forget_version("crash/b");
  forget_version("crash/m"); /* a marker: found by its time */
  assert_int_equal(uploads_under("bkt"), 1);
  s = open_store(BUCKET, "crash", 1);
  /* the oldest intent only read (as the manifest's pruning does while the
   * sink serves): nothing repaired, c's upload still there */
  assert_int_equal(vs_store_oldest_intent(s, &made, &e), VS_OK);
  assert_true(made != INT64_MAX);
  assert_int_equal(uploads_under("bkt"), 1);
  assert_int_equal(vs_store_intents(s, &list, &n, &e), VS_OK);
  assert_true(made <= list[0].mtime_ms);
  /* a, b and m landed (b found by its token), c did not: dropped, its
   * upload aborted */
  assert_int_equal(n, 3);
  assert_string_equal(list[0].key, "crash/a");
  assert_string_equal(list[1].key, "crash/b");
  assert_string_equal(list[2].key, "crash/m");
  assert_int_equal(list[0].pid, pid);
  nv = count_versions(s, "bkt", "crash/a", &ids);
  assert_int_equal(nv, 1);
  assert_string_equal(list[0].version_id, ids[0]);
  free_ids(ids, nv);
  nv = count_versions(s, "bkt", "crash/b", &ids);
  assert_int_equal(nv, 1);
  assert_string_equal(list[1].version_id, ids[0]);
  free_ids(ids, nv);
  nv = count_versions(s, "bkt", "crash/m", &ids);
  assert_int_equal(nv, 1);
  assert_string_equal(list[2].version_id, ids[0]);
  free_ids(ids, nv);
  assert_int_equal(uploads_under("bkt"), 0);
  assert_int_equal(vs_store_settle(s, "bkt", "crash/m", list[2].version_id,
                                   &e), VS_OK);
  assert_int_equal(vs_store_settle(s, "bkt", "crash/a", list[0].version_id,
                                   &e), VS_OK);
  assert_int_equal(vs_store_settle(s, "bkt", "crash/b", list[1].version_id,
                                   &e), VS_OK);
  free(list);
  assert_int_equal(vs_store_intents(s, &list, &n, &e), VS_OK);
  assert_int_equal(n, 0);
  free(list);
  assert_int_equal(vs_store_oldest_intent(s, &made, &e), VS_OK);
  assert_true(made == INT64_MAX);
  assert_int_equal(vst_count_files(DIR_), 0); /* no spool file left */
  vs_store_close(s);
}

/* Start-up reconciliation over a cluster's intents: its version ids are
 * random, so the intents (oldest first) are not in id order, and every
 * version whose stored event the manifest holds must be found and kept.
 * A child commits RECON_N objects and _exit()s before settling any; the
 * manifest holds the events of all but the last. */
#define RECON_N 8

static void recon_child(int fd)
{
  vs_store *s = open_store(BUCKET, "recon", 1);
  vs_object_info info;
  digests d;
  char key[32];
  int i;
  for(i = 0; i < RECON_N; i++) {
    snprintf(key, sizeof(key), "recon/%d", i);
    put_ok(s, "bkt", key, 100 + i, 7 + i, &info, &d);
    if(dprintf(fd, "%s\n", info.version_id) < 0)
      _exit(3);
  }
  _exit(0); /* no settle, no close: a crash */
}

static void t_reconcile_order(void **state)
{
  char vids[RECON_N][64], mdir[700], seg[1400], key[32], **ids;
  unsigned kept = 0, removed = 0;
  vs_err e = {0};
  vs_store *s;
  FILE *in, *out;
  int fds[2], st, i;
  pid_t pid;
  (void)state;
  assert_int_equal(pipe(fds), 0);
  pid = fork();
  assert_true(pid >= 0);
  if(!pid) {
    close(fds[0]);
    recon_child(fds[1]);
  }
  close(fds[1]);
  in = fdopen(fds[0], "r");
  for(i = 0; i < RECON_N; i++) {
    assert_non_null(fgets(vids[i], sizeof(vids[i]), in));
    vids[i][strcspn(vids[i], "\n")] = 0;
  }
  fclose(in);
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  /* the child's segment, named as the manifest writer names it */
  snprintf(mdir, sizeof(mdir), "%s/recon/manifest", DIR_);
  assert_int_equal(mkdir(mdir, 0700), 0);
  snprintf(seg, sizeof(seg), "%s/20261202T000000.000Z-n-%ld-0123abcd.jsonl",
           mdir, (long)pid);
  assert_non_null(out = fopen(seg, "w"));
  for(i = 0; i + 1 < RECON_N; i++)
    fprintf(out, "{\"v\":1,\"event\":\"stored\",\"bucket\":\"bkt\","
            "\"key\":\"recon/%d\",\"versionId\":\"%s\"}\n", i, vids[i]);
  fclose(out);
  s = open_store(BUCKET, "recon", 1);
  assert_int_equal(vs_server_reconcile(s, mdir, &kept, &removed, &e), VS_OK);
  assert_int_equal(kept, RECON_N - 1);
  assert_int_equal(removed, 1);
  for(i = 0; i < RECON_N; i++) {
    size_t nv;
    snprintf(key, sizeof(key), "recon/%d", i);
    nv = count_versions(s, "bkt", key, &ids);
    assert_int_equal(nv, i + 1 < RECON_N ? 1 : 0);
    if(nv)
      assert_string_equal(ids[0], vids[i]);
    free_ids(ids, nv);
  }
  vs_store_close(s);
}

/* 300 MiB through the store: parts go up from spool files, so the
 * process's peak RSS grows by far less than the body. */
static void t_rss(void **state)
{
  vs_store *s = open_store(BUCKET, "rss", 1);
  vs_object_info info;
  digests d;
  put_args a = {0};
  vs_err e = {0};
  long before = maxrss_kib(), after;
  (void)state;
  a.bytes = 300 * MiB, a.seed = 7, a.expect = 1;
  if(put(s, "bkt", "big", &a, &info, &d, &e))
    fail_msg("put: %s", e.msg);
  after = maxrss_kib();
  print_message("peak RSS %ld KiB before, %ld KiB after 300 MiB\n", before,
                after);
  assert_true(before > 0 && after - before < 64 * 1024);
  assert_int_equal(info.bytes, 300 * MiB);
  assert_non_null(strstr(info.etag, "-38"));
  assert_int_equal(vs_store_settle(s, "bkt", "big", info.version_id, &e), 0);
  /* RGW holds it in RAM: give it back */
  assert_int_equal(vs_store_remove(s, "bkt", "big", info.version_id, &e), 0);
  vs_store_close(s);
}

static void t_small(void **state)
{
  vs_store *s = open_store(BUCKET, "small", 1);
  vs_object_info info, st;
  digests d;
  put_args a = {0};
  vs_err e = {0};
  char sha[65];
  unsigned char *all = malloc(100000), *part = malloc(100000);
  int fd = 7;
  (void)state;
  a.bytes = 100000, a.seed = 3, a.ctype = "video/mp4";
  a.headers = "cache-control:no-cache\nx-amz-meta-scene:42\n"
              "x-amz-meta-vsink-sha256:forged\n";
  assert_int_equal(put(s, "bkt", "small/one.mp4", &a, &info, &d, &e), VS_OK);
  assert_int_equal(info.bytes, 100000);
  assert_string_equal(info.etag, d.md5_hex);
  assert_int_equal(info.parts_count, 0);
  assert_true(strlen(info.version_id) > 0);
  assert_int_equal(vs_store_open(s, "bkt", "small/one.mp4", NULL, &fd, &st,
                                 &e), VS_OK);
  assert_int_equal(fd, -1);
  assert_string_equal(st.version_id, info.version_id);
  assert_string_equal(st.sha256, d.sha_hex);
  assert_string_equal(st.md5, d.md5_hex);
  assert_string_equal(st.etag, d.md5_hex);
  assert_string_equal(st.content_type, "video/mp4");
  assert_string_equal(st.checksum_alg, "crc32");
  assert_string_equal(st.checksum, "AAAAAA==");
  assert_non_null(strstr(st.headers, "cache-control:no-cache\n"));
  assert_non_null(strstr(st.headers, "x-amz-meta-scene:42\n"));
  assert_null(strstr(st.headers, "vsink"));
  /* whole, then a range, by version id */
  assert_int_equal(stream_sha(s, "bkt", "small/one.mp4", st.version_id, 0,
                              100000, sha, all), 100000);
  assert_string_equal(sha, d.sha_hex);
  assert_int_equal(stream_sha(s, "bkt", "small/one.mp4", st.version_id,
                              1000, 4000, sha, part), 4000);
  assert_memory_equal(part, all + 1000, 4000);
  /* a stream that cannot be had ends at once (EOF before len) */
  assert_int_equal(stream_sha(s, "bkt", "small/none", NULL, 0, 10, sha,
                              NULL), 0);
  /* missing: a key, a version */
  assert_int_equal(vs_store_stat(s, "bkt", "small/none", NULL, &st, &e),
                   VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_stat(s, "bkt", "small/one.mp4", "nosuchversion",
                                 &st, &e), VS_ERR_NOTFOUND);
  /* refused: the manifest bucket, a key too long with the prefix */
  {
    vs_upload *u = NULL;
    char longkey[1030];
    memset(longkey, 'k', 1020);
    longkey[1020] = 0;
    assert_int_equal(vs_store_begin(s, "manifest", "x", &u, &e),
                     VS_ERR_INVALID);
    assert_int_equal(vs_store_begin(s, "bkt", longkey, &u, &e),
                     VS_ERR_TOOLARGE);
    assert_int_equal(vs_store_stat(s, "bkt", longkey, NULL, &st, &e),
                     VS_ERR_NOTFOUND);
  }
  free(all);
  free(part);
  vs_store_close(s);
}

/* A reader that goes away: the stream's thread stops (no SIGPIPE death),
 * and close waits for it. */
static void t_stream_reader_gone(void **state)
{
  vs_store *s = open_store(BUCKET, "gone", 1);
  vs_object_info info;
  digests d;
  char b[100];
  vs_err e = {0};
  int fd;
  (void)state;
  put_ok(s, "bkt", "gone/x", 4 * MiB, 5, &info, &d);
  assert_int_equal(vs_store_stream(s, "bkt", "gone/x", info.version_id, 0,
                                   4 * MiB, &fd, &e), VS_OK);
  assert_int_equal(read(fd, b, sizeof(b)), sizeof(b));
  close(fd);
  vs_store_close(s); /* returns once the thread saw EPIPE */
}

static void multipart(uint64_t bytes, int expect, const char *suffix)
{
  vs_store *s = open_store(BUCKET, "mpu", 1);
  vs_object_info info, st;
  digests d;
  put_args a = {0};
  vs_err e = {0};
  char sha[65], key[64];
  snprintf(key, sizeof(key), "mpu/%llu", (unsigned long long)bytes);
  a.bytes = bytes, a.seed = bytes, a.expect = expect;
  a.ctype = "video/webm", a.headers = "x-amz-meta-run:mpu\n";
  if(put(s, "bkt", key, &a, &info, &d, &e))
    fail_msg("put: %s", e.msg);
  assert_int_equal(info.bytes, bytes);
  assert_non_null(strstr(info.etag, suffix));
  assert_string_equal(info.sha256, d.sha_hex); /* the commit's, for its event */
  assert_int_equal(vs_store_stat(s, "bkt", key, NULL, &st, &e), VS_OK);
  assert_string_equal(st.sha256, "");
  assert_string_equal(st.etag, info.etag);
  assert_string_equal(st.content_type, "video/webm");
  assert_non_null(strstr(st.headers, "x-amz-meta-run:mpu\n"));
  assert_int_equal(stream_sha(s, "bkt", key, st.version_id, 0, bytes, sha,
                              NULL), bytes);
  assert_string_equal(sha, d.sha_hex);
  assert_int_equal(uploads_under("bkt"), 0);
  assert_int_equal(vs_store_remove(s, "bkt", key, info.version_id, &e), 0);
  vs_store_close(s);
}

static void t_mpu_expect(void **state)
{
  (void)state;
  multipart(40 * MiB, 1, "-5");
}

static void t_mpu_noexpect(void **state)
{
  (void)state;
  multipart(20 * MiB + 3, 0, "-3");
}

static void t_mpu_exact(void **state)
{
  (void)state; /* exactly one part: one PutObject */
  vs_store *s = open_store(BUCKET, "exact", 1);
  vs_object_info info;
  digests d;
  vs_err e = {0};
  put_ok(s, "bkt", "exact/8", 8 * MiB, 9, &info, &d);
  assert_string_equal(info.etag, d.md5_hex);
  assert_int_equal(vs_store_remove(s, "bkt", "exact/8", info.version_id, &e),
                   0);
  vs_store_close(s);
}

static void t_versions_policies(void **state)
{
  vs_store *s = open_store(BUCKET, "pol", 1);
  vs_object_info i1, i2, i3, st;
  digests d;
  put_args a = {0};
  vs_err e = {0};
  char **ids;
  size_t n;
  (void)state;
  put_ok(s, "bkt", "pol/k", 10, 1, &i1, &d);
  put_ok(s, "bkt", "pol/k", 20, 2, &i2, &d);
  assert_string_not_equal(i1.version_id, i2.version_id);
  n = count_versions(s, "bkt", "pol/k", &ids);
  assert_int_equal(n, 2);
  assert_string_equal(ids[0], i1.version_id); /* oldest first */
  assert_string_equal(ids[1], i2.version_id);
  free_ids(ids, n);
  /* REJECT, If-None-Match: nothing new, single and multipart */
  a.bytes = 30, a.seed = 3, a.policy = VS_ON_EXISTING_REJECT;
  assert_int_equal(put(s, "bkt", "pol/k", &a, &i3, &d, &e), VS_ERR_EXISTS);
  a.bytes = 9 * MiB, a.policy = VS_ON_EXISTING_VERSION, a.if_none_match = 1;
  assert_int_equal(put(s, "bkt", "pol/k", &a, &i3, &d, &e), VS_ERR_EXISTS);
  assert_int_equal(uploads_under("bkt"), 0);
  assert_int_equal(count_versions(s, "bkt", "pol/k", &ids), 2);
  free_ids(ids, 2);
  a.bytes = 5, a.if_none_match = 0, a.policy = VS_ON_EXISTING_REJECT;
  assert_int_equal(put(s, "bkt", "pol/new", &a, &i3, &d, &e), VS_OK);
  /* If-Match */
  a.policy = VS_ON_EXISTING_VERSION;
  a.if_match = "0123456789abcdef0123456789abcdef";
  assert_int_equal(put(s, "bkt", "pol/k", &a, &i3, &d, &e), VS_ERR_EXISTS);
  assert_int_equal(put(s, "bkt", "pol/none", &a, &i3, &d, &e),
                   VS_ERR_NOTFOUND);
  a.if_match = i2.etag;
  assert_int_equal(put(s, "bkt", "pol/k", &a, &i3, &d, &e), VS_OK);
  /* OVERWRITE: the replaced version goes (at once, or at settle) */
  a.if_match = NULL, a.policy = VS_ON_EXISTING_OVERWRITE;
  assert_int_equal(put(s, "bkt", "pol/k", &a, &i1, &d, &e), VS_OK);
  n = count_versions(s, "bkt", "pol/k", &ids);
  assert_int_equal(n, 3); /* v1 v2 i3 -> v1 v2 i1 (i3 replaced) */
  assert_string_equal(ids[1], i2.version_id);
  assert_string_equal(ids[2], i1.version_id);
  free_ids(ids, n);
  assert_int_equal(vs_store_stat(s, "bkt", "pol/k", i3.version_id, &st, &e),
                   VS_ERR_NOTFOUND);
  {
    vs_upload *u = NULL;
    vs_commit c = {0};
    vs_object_info i4;
    assert_int_equal(vs_store_begin(s, "bkt", "pol/k", &u, &e), 0);
    c.sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    c.policy = VS_ON_EXISTING_OVERWRITE;
    c.defer_overwrite = 1;
    assert_int_equal(vs_store_commit(s, u, &c, &i4, &e), VS_OK);
    assert_int_equal(vs_store_stat(s, "bkt", "pol/k", i1.version_id, &st, &e),
                     VS_OK); /* kept until settled */
    assert_int_equal(vs_store_settle(s, "bkt", "pol/k", i4.version_id, &e),
                     VS_OK);
    assert_int_equal(vs_store_stat(s, "bkt", "pol/k", i1.version_id, &st, &e),
                     VS_ERR_NOTFOUND);
    assert_int_equal(vs_store_stat(s, "bkt", "pol/k", NULL, &st, &e), VS_OK);
    assert_int_equal(st.bytes, 0);
  }
  vs_store_close(s);
}

static void t_marker_remove(void **state)
{
  vs_store *s = open_store(BUCKET, "del", 1);
  vs_object_info i1, i2, m, st;
  digests d;
  vs_err e = {0};
  char **ids;
  size_t n;
  (void)state;
  put_ok(s, "bkt", "del/k", 10, 1, &i1, &d);
  put_ok(s, "bkt", "del/k", 20, 2, &i2, &d);
  /* remove the current: the older one is current again */
  assert_int_equal(vs_store_remove(s, "bkt", "del/k", i2.version_id, &e), 0);
  assert_int_equal(vs_store_stat(s, "bkt", "del/k", NULL, &st, &e), VS_OK);
  assert_string_equal(st.version_id, i1.version_id);
  assert_int_equal(vs_store_remove(s, "bkt", "del/k", i2.version_id, &e),
                   VS_ERR_NOTFOUND);
  /* a delete marker */
  assert_int_equal(vs_store_put_marker(s, "bkt", "del/k", &m, &e), VS_OK);
  assert_int_equal(m.delete_marker, 1);
  assert_true(strlen(m.version_id) > 0);
  assert_int_equal(vs_store_stat(s, "bkt", "del/k", NULL, &st, &e),
                   VS_ERR_NOTFOUND);
  n = count_versions(s, "bkt", "del/k", &ids);
  assert_int_equal(n, 2);
  assert_string_equal(ids[0], i1.version_id);
  assert_string_equal(ids[1], m.version_id);
  free_ids(ids, n);
  assert_int_equal(vs_store_settle(s, "bkt", "del/k", m.version_id, &e), 0);
  /* removing the marker brings the key back */
  assert_int_equal(vs_store_remove(s, "bkt", "del/k", m.version_id, &e), 0);
  assert_int_equal(vs_store_stat(s, "bkt", "del/k", NULL, &st, &e), VS_OK);
  assert_string_equal(st.version_id, i1.version_id);
  vs_store_close(s);
}

/* The keys a listing yields, "key;" each ("key!;" without a current one),
 * skipping the prefix skip once key skip_at came. */
static void list_keys(vs_store *s, const char *prefix, const char *after,
                      int all, const char *skip_at, const char *skip,
                      char *out, size_t cap)
{
  vs_list_opts o = {0};
  vs_store_list *l;
  vs_list_item *it = malloc(sizeof(*it));
  vs_err e = {0};
  int end = 0;
  o.bucket = "lst", o.prefix = prefix, o.after = after, o.all_versions = all;
  out[0] = 0;
  assert_int_equal(vs_store_list_open(s, &o, &l, &e), VS_OK);
  while(!vs_store_list_next(l, it, &end, &e) && !end) {
    snprintf(out + strlen(out), cap - strlen(out), "%s%s;", it->key,
             it->has_current ? "" : "!");
    if(it->has_current)
      assert_true(strlen(it->info.version_id) > 0 && it->info.bytes == 3);
    if(skip_at && !strcmp(it->key, skip_at))
      assert_int_equal(vs_store_list_skip(l, skip, &e), VS_OK);
  }
  assert_int_equal(end, 1);
  vs_store_list_close(l);
  free(it);
}

static void t_list(void **state)
{
  const char *keys[] = {"a", "b/1", "b/2", "b/3/x", "c", "d", "e"};
  vs_store *s = open_store(BUCKET, "list", 1);
  vs_object_info info;
  digests d;
  vs_err e = {0};
  char got[512];
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(keys) / sizeof(*keys); i++)
    put_ok(s, "lst", keys[i], 3, i, &info, &d);
  put_ok(s, "lst", "b/2", 3, 99, &info, &d); /* a second version */
  assert_int_equal(vs_store_put_marker(s, "lst", "d", &info, &e), VS_OK);
  list_keys(s, NULL, NULL, 0, NULL, NULL, got, sizeof(got));
  assert_string_equal(got, "a;b/1;b/2;b/3/x;c;e;");
  list_keys(s, NULL, NULL, 1, NULL, NULL, got, sizeof(got));
  assert_string_equal(got, "a;b/1;b/2;b/3/x;c;d!;e;");
  list_keys(s, "b/", NULL, 0, NULL, NULL, got, sizeof(got));
  assert_string_equal(got, "b/1;b/2;b/3/x;");
  list_keys(s, NULL, "b/1", 0, NULL, NULL, got, sizeof(got));
  assert_string_equal(got, "b/2;b/3/x;c;e;");
  list_keys(s, NULL, NULL, 0, "b/1", "b/", got, sizeof(got));
  assert_string_equal(got, "a;b/1;c;e;");
  list_keys(s, "b/", "b/1", 0, "b/2", "b/3/", got, sizeof(got));
  assert_string_equal(got, "b/2;");
  vs_store_close(s);
}

/* A body sent with the MD5 its caller knew (Content-MD5 signed,
 * UNSIGNED-PAYLOAD), as the store sends its spooled parts: RGW checks
 * it, so a wrong one is BadDigest and lands nothing, part or object. */
static void t_known_md5(void **state)
{
  static const char data[] = "spooled bytes";
  char key[256], id[VS_S3_UPLOAD_ID_MAX], etag[VS_S3_ETAG_MAX];
  char good[25], bad[25];
  unsigned char d[16];
  vs_s3_body b = {data, -1, 0, sizeof(data) - 1, bad};
  vs_s3_put_result r;
  vs_object_info info;
  vs_err e = {0};
  (void)state;
  EVP_Digest(data, sizeof(data) - 1, d, NULL, EVP_md5(), NULL);
  EVP_EncodeBlock((unsigned char *)good, d, 16);
  EVP_Digest("other bytes", 11, d, NULL, EVP_md5(), NULL);
  EVP_EncodeBlock((unsigned char *)bad, d, 16);
  snprintf(key, sizeof(key), "%s/md5/obj", PREFIX);
  assert_int_equal(vs_s3_put(&T, BUCKET, key, &b, NULL, &r, &e),
                   VS_ERR_DIGEST);
  assert_int_equal(vs_s3_head(&T, BUCKET, key, &info, &e), VS_ERR_NOTFOUND);
  b.md5 = good;
  assert_int_equal(vs_s3_put(&T, BUCKET, key, &b, NULL, &r, &e), VS_OK);
  assert_int_equal(vs_s3_mpu_create(&T, BUCKET, key, NULL, id, &e), VS_OK);
  b.md5 = bad;
  assert_int_equal(vs_s3_mpu_part(&T, BUCKET, key, id, 1, &b, etag, &e),
                   VS_ERR_DIGEST);
  b.md5 = good;
  assert_int_equal(vs_s3_mpu_part(&T, BUCKET, key, id, 1, &b, etag, &e),
                   VS_OK);
  assert_int_equal(vs_s3_mpu_abort(&T, BUCKET, key, id, &e), VS_OK);
}

/* More keys than a page of the cluster's listing (1000): the listing
 * follows the markers, and a skip in the first page restarts after it. The
 * keys are put with the client (PREFIX/pgs/...), which is quicker. */
static void t_list_pages(void **state)
{
  vs_store *s = open_store(BUCKET, "pages", 1);
  vs_list_opts o = {0};
  vs_store_list *l;
  vs_list_item *it = malloc(sizeof(*it));
  vs_s3_body b = {"x", -1, 0, 1, NULL};
  vs_s3_put_result r;
  vs_err e = {0};
  char key[256], prev[VS_KEY_MAX + 1] = "";
  int i, n = 0, end = 0;
  (void)state;
  for(i = 0; i < 1003; i++) {
    snprintf(key, sizeof(key), "%s/pgs/a/%04d", PREFIX, i);
    if(vs_s3_put(&T, BUCKET, key, &b, NULL, &r, &e))
      fail_msg("put %s: %s", key, e.msg);
  }
  snprintf(key, sizeof(key), "%s/pgs/b", PREFIX);
  assert_int_equal(vs_s3_put(&T, BUCKET, key, &b, NULL, &r, &e), VS_OK);
  o.bucket = "pgs";
  assert_int_equal(vs_store_list_open(s, &o, &l, &e), VS_OK);
  while(!vs_store_list_next(l, it, &end, &e) && !end) {
    assert_true(strcmp(prev, it->key) < 0);
    snprintf(prev, sizeof(prev), "%s", it->key);
    n++;
  }
  assert_int_equal(end, 1);
  assert_int_equal(n, 1004);
  assert_string_equal(prev, "b");
  vs_store_list_close(l);
  assert_int_equal(vs_store_list_open(s, &o, &l, &e), VS_OK);
  assert_int_equal(vs_store_list_next(l, it, &end, &e), VS_OK);
  assert_string_equal(it->key, "a/0000");
  assert_int_equal(vs_store_list_skip(l, "a/", &e), VS_OK);
  assert_int_equal(vs_store_list_next(l, it, &end, &e), VS_OK);
  assert_int_equal(end, 0);
  assert_string_equal(it->key, "b");
  assert_int_equal(vs_store_list_next(l, it, &end, &e), VS_OK);
  assert_int_equal(end, 1);
  vs_store_list_close(l);
  free(it);
  vs_store_close(s);
}

/* A multipart upload carries the metadata describe told before the body:
 * a commit naming other metadata is refused, and leaves nothing. */
static void t_describe_mismatch(void **state)
{
  vs_store *s = open_store(BUCKET, "desc", 1);
  vs_object_info info;
  digests d;
  put_args a = {0};
  vs_err e = {0};
  vs_upload *u = NULL;
  vs_commit c = {0};
  unsigned char *buf = calloc(1, MiB);
  int i;
  (void)state;
  assert_int_equal(vs_store_begin(s, "bkt", "desc/k", &u, &e), VS_OK);
  assert_int_equal(vs_store_describe(s, u, "video/mp4", "", &e), VS_OK);
  for(i = 0; i < 9; i++)
    assert_int_equal(vs_store_write(s, u, buf, MiB, &e), VS_OK);
  c.bytes = 9 * MiB, c.sha256 = "00", c.content_type = "image/png";
  assert_int_equal(vs_store_commit(s, u, &c, &info, &e), VS_ERR_INVALID);
  assert_int_equal(uploads_under("bkt"), 0);
  assert_int_equal(vs_store_stat(s, "bkt", "desc/k", NULL, &info, &e),
                   VS_ERR_NOTFOUND);
  /* a single PutObject takes the commit's */
  a.bytes = 10, a.seed = 1, a.ctype = "image/png";
  assert_int_equal(put(s, "bkt", "desc/k", &a, &info, &d, &e), VS_OK);
  assert_string_equal(info.content_type, "image/png");
  free(buf);
  vs_store_close(s);
}

static void t_abort_mpu(void **state)
{
  vs_store *s = open_store(BUCKET, "abort", 1);
  vs_upload *u = NULL;
  vs_object_info st;
  unsigned char *buf = calloc(1, MiB);
  vs_err e = {0};
  int i;
  (void)state;
  assert_int_equal(vs_store_begin(s, "abt", "abort/k", &u, &e), VS_OK);
  assert_int_equal(vs_store_expect(s, u, 30 * MiB, &e), VS_OK);
  for(i = 0; i < 17; i++) /* two parts sent, a third filling */
    assert_int_equal(vs_store_write(s, u, buf, MiB, &e), VS_OK);
  assert_int_equal(await_upload("abt"), 1);
  /* a write waiting for a part slot returns once cancelled (the sink's
   * event thread does not wait on the cluster to drop an upload) */
  vs_store_cancel(s, u);
  assert_int_equal(vs_store_write(s, u, buf, MiB, &e), VS_OK); /* spooled */
  for(i = 0; i < 8 && !e.code; i++)
    vs_store_write(s, u, buf, MiB, &e);
  assert_int_equal(e.code, VS_ERR_IO);
  /* abort leaves the cluster's upload to the part threads: gone once the
   * store is closed */
  vs_store_abort(s, u);
  assert_int_equal(vs_store_stat(s, "abt", "abort/k", NULL, &st, &e),
                   VS_ERR_NOTFOUND);
  vs_store_close(s);
  assert_int_equal(uploads_under("abt"), 0);
  free(buf);
}

static void t_open_checks(void **state)
{
  vs_store_s3_opts o;
  vs_store *s = NULL;
  vs_err e = {0};
  char spool[600], st[600];
  (void)state;
  snprintf(spool, sizeof(spool), "%s/chk/spool", DIR_);
  snprintf(st, sizeof(st), "%s/chk/state", DIR_);
  memset(&o, 0, sizeof(o));
  o.t = T, o.bucket = PLAIN, o.spool_dir = spool, o.state_dir = st;
  o.require_versioning = 1;
  assert_int_equal(vs_store_s3_open(&s, &o, &e), VS_ERR_INVALID);
  assert_non_null(strstr(e.msg, "aws s3api put-bucket-versioning --bucket"));
  o.require_versioning = 0; /* allowed, then */
  {
    /* spool files a crash left (older than a minute) are removed; one
     * just made may be another upload's */
    char old[700], young[700];
    struct timespec ts[2] = {{time(NULL) - 120, 0}, {time(NULL) - 120, 0}};
    FILE *f;
    assert_int_equal(mkdir(spool, 0700) == 0 || errno == EEXIST, 1);
    snprintf(old, sizeof(old), "%s/spool-AAAAAA", spool);
    snprintf(young, sizeof(young), "%s/spool-BBBBBB", spool);
    assert_non_null(f = fopen(old, "w"));
    fclose(f);
    assert_non_null(f = fopen(young, "w"));
    fclose(f);
    assert_int_equal(utimensat(AT_FDCWD, old, ts, 0), 0);
    assert_int_equal(vs_store_s3_open(&s, &o, &e), VS_OK);
    assert_int_equal(access(old, F_OK), -1);
    assert_int_equal(access(young, F_OK), 0);
    unlink(young);
  }
  vs_store_close(s);
  o.bucket = "vsink-no-such-bucket";
  assert_int_equal(vs_store_s3_open(&s, &o, &e), VS_ERR_NOTFOUND);
  o.bucket = BUCKET;
  o.t.endpoint = "http://127.0.0.1:9"; /* nothing listens */
  assert_int_equal(vs_store_s3_open(&s, &o, &e), VS_ERR_NET);
}

/* The cluster goes away after open (the store talks to it through a
 * gate, which closes): commits are VS_ERR_NET, single and multipart. Their
 * intents stay, as their writes may have landed, and once the cluster is
 * back intents() finds that none did: it drops them and aborts the upload
 * that could not be aborted. */
static void t_unreachable_commit(void **state)
{
  vs_store_s3_opts o;
  vs_store *s = NULL;
  vs_store_intent *list;
  vs_object_info info;
  vs_upload *u = NULL;
  vs_commit c = {0};
  unsigned char *buf = calloc(1, MiB);
  digests d;
  put_args a = {0};
  vs_err e = {0};
  char spool[600], st[600];
  size_t n;
  gate g;
  int i;
  (void)state;
  assert_int_equal(gate_start(&g, T.endpoint), 0);
  snprintf(spool, sizeof(spool), "%s/net/spool", DIR_);
  snprintf(st, sizeof(st), "%s/net/state", DIR_);
  memset(&o, 0, sizeof(o));
  o.t = T, o.t.endpoint = g.endpoint, o.bucket = BUCKET, o.prefix = PREFIX;
  o.spool_dir = spool, o.state_dir = st, o.require_versioning = 1;
  o.t.part_attempts = 2, o.t.retry_base_ms = 10;
  assert_int_equal(vs_store_s3_open(&s, &o, &e), VS_OK);
  /* a multipart upload under way when the cluster goes */
  assert_int_equal(vs_store_begin(s, "bkt", "net/mpu", &u, &e), VS_OK);
  for(i = 0; i < 9; i++)
    assert_int_equal(vs_store_write(s, u, buf, MiB, &e), VS_OK);
  assert_int_equal(await_upload("bkt"), 1);
  /* and its Create answered: the intent naming the upload is written (a
   * Create whose answer the closing gate cut would leave the upload to the
   * sweeper, with no intent) */
  for(i = 0; i < 400 && !vst_count_files(st); i++)
    usleep(25 * 1000);
  assert_int_equal(vst_count_files(st), 1);
  gate_set(&g, 0);
  c.bytes = 9 * MiB, c.sha256 = "00";
  assert_int_equal(vs_store_commit(s, u, &c, &info, &e), VS_ERR_NET);
  a.bytes = 1000, a.seed = 1;
  assert_int_equal(put(s, "bkt", "net/a", &a, &info, &d, &e), VS_ERR_NET);
  a.bytes = 9 * MiB;
  assert_int_equal(put(s, "bkt", "net/b", &a, &info, &d, &e), VS_ERR_NET);
  assert_int_equal(vs_store_intents(s, &list, &n, &e), VS_ERR_NET);
  gate_set(&g, 1); /* back */
  assert_int_equal(uploads_under("bkt"), 1);
  assert_int_equal(vs_store_intents(s, &list, &n, &e), VS_OK);
  assert_int_equal(n, 0);
  free(list);
  /* net/b's failed write was aborted (the part threads finish that; its
   * Create, retried, may have got through once the cluster was back) */
  for(i = 0; i < 400 && uploads_under("bkt"); i++)
    usleep(25 * 1000);
  assert_int_equal(uploads_under("bkt"), 0);
  vs_store_close(s);
  assert_int_equal(vst_count_files(st), 0);
  free(buf);
  gate_stop(&g);
}

/* A bucket without versioning, allowed when not required: one version
 * ("null") per key, REJECT still refuses, remove deletes it. */
static void t_unversioned(void **state)
{
  vs_store *s = open_store(PLAIN, "plain", 0);
  vs_object_info info, st;
  digests d;
  put_args a = {0};
  vs_err e = {0};
  char sha[65];
  (void)state;
  put_ok(s, "bkt", "plain/k", 100, 1, &info, &d);
  assert_int_equal(vs_store_stat(s, "bkt", "plain/k", NULL, &st, &e), 0);
  assert_string_equal(st.version_id, "null");
  assert_string_equal(st.sha256, d.sha_hex);
  assert_int_equal(vs_store_stat(s, "bkt", "plain/k", "null", &st, &e), 0);
  assert_int_equal(stream_sha(s, "bkt", "plain/k", "null", 0, 100, sha,
                              NULL), 100);
  assert_string_equal(sha, d.sha_hex);
  a.bytes = 10, a.seed = 2, a.policy = VS_ON_EXISTING_REJECT;
  assert_int_equal(put(s, "bkt", "plain/k", &a, &info, &d, &e),
                   VS_ERR_EXISTS);
  assert_int_equal(vs_store_stat(s, "bkt", "plain/k", NULL, &st, &e), 0);
  assert_int_equal(st.bytes, 100);
  assert_int_equal(vs_store_remove(s, "bkt", "plain/k", "null", &e), 0);
  assert_int_equal(vs_store_stat(s, "bkt", "plain/k", NULL, &st, &e),
                   VS_ERR_NOTFOUND);
  vs_store_close(s);
}

static void t_url(void **state)
{
  char *b, *p;
  vs_err e = {0};
  (void)state;
  assert_int_equal(vs_store_s3_url_parse("s3://bkt/a/b/", &b, &p, &e), 0);
  assert_string_equal(b, "bkt");
  assert_string_equal(p, "a/b");
  free(b), free(p);
  assert_int_equal(vs_store_s3_url_parse("s3://bkt", &b, &p, &e), 0);
  assert_string_equal(p, "");
  free(b), free(p);
  assert_int_equal(vs_store_s3_url_parse("http://bkt", &b, &p, &e),
                   VS_ERR_INVALID);
  assert_int_equal(vs_store_s3_url_parse("s3://", &b, &p, &e),
                   VS_ERR_INVALID);
  assert_int_equal(vs_store_s3_url_parse("s3://B_d", &b, &p, &e),
                   VS_ERR_INVALID);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_crash_intents), /* first: they fork, no thread yet */
    cmocka_unit_test(t_reconcile_order),
    cmocka_unit_test(t_overwrite_chain),
    cmocka_unit_test(t_overwrite_chain_crash),
    cmocka_unit_test(t_rss),
    cmocka_unit_test(t_url),
    cmocka_unit_test(t_open_checks),
    cmocka_unit_test(t_unversioned),
    cmocka_unit_test(t_small),
    cmocka_unit_test(t_stream_reader_gone),
    cmocka_unit_test(t_mpu_exact),
    cmocka_unit_test(t_mpu_expect),
    cmocka_unit_test(t_mpu_noexpect),
    cmocka_unit_test(t_versions_policies),
    cmocka_unit_test(t_marker_remove),
    cmocka_unit_test(t_list),
    cmocka_unit_test(t_list_pages),
    cmocka_unit_test(t_abort_mpu),
    cmocka_unit_test(t_describe_mismatch),
    cmocka_unit_test(t_unreachable_commit),
    cmocka_unit_test(t_copy_single),
    cmocka_unit_test(t_copy_parts),
    cmocka_unit_test(t_part_copy),
    cmocka_unit_test(t_copy_crash),
    cmocka_unit_test(t_copy_unreachable),
    cmocka_unit_test(t_known_md5),
  };
  const char *ep = getenv("VSINK_RGW_ENDPOINT");
  int rc;
  if(!ep || !getenv("VSINK_RGW_BUCKET")) {
    fprintf(stderr, "set VSINK_RGW_* (see test_rgw_store.py)\n");
    return 77;
  }
  memset(&T, 0, sizeof(T));
  T.endpoint = ep;
  T.key_id = getenv("VSINK_RGW_KEY");
  T.secret = getenv("VSINK_RGW_SECRET");
  T.timeout_ms = 60000;
  BUCKET = getenv("VSINK_RGW_BUCKET");
  PLAIN = getenv("VSINK_RGW_PLAIN");
  snprintf(PREFIX, sizeof(PREFIX), "run%ld-%ld", (long)getpid(),
           (long)time(NULL));
  if(vst_tmpdir("rgwstore", DIR_, sizeof(DIR_)))
    return 1;
  /* by hand: patterns of the tests to skip, or to run */
  if(getenv("VSINK_RGW_STORE_SKIP"))
    cmocka_set_skip_filter(getenv("VSINK_RGW_STORE_SKIP"));
  if(getenv("VSINK_RGW_STORE_ONLY"))
    cmocka_set_test_filter(getenv("VSINK_RGW_STORE_ONLY"));
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  vst_rmrf(DIR_);
  return rc;
}
