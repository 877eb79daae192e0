/* store_fs multipart, around the upload: the listing's order, expiry,
 * UploadPartCopy (a hard link of a whole version, a copy of a range), the
 * clean-up at open of what a crash leaves, and a read-only store. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "util/cksum.h"
#include "helpers.h"
#include "test_store_common.h"

typedef struct fx {
  char dir[256];
  char path[1024];
  vs_store *s;
  int64_t now;
} fx;

static int64_t fake_now(void *ctx)
{
  return ((fx *)ctx)->now;
}

static int setup(void **state)
{
  fx *f = calloc(1, sizeof(*f));
  if(!f)
    return -1;
  f->now = 1795522500123LL; /* 2026-11-24T12:15:00.123Z */
  *state = f;
  return st_open_tmp("storempue", f->dir, sizeof(f->dir), fake_now, f,
                     &f->s);
}

static int teardown(void **state)
{
  fx *f = *state;
  st_close_tmp(f->s, f->dir);
  free(f);
  return 0;
}

static const char *at(fx *f, const char *rel)
{
  snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, rel);
  return f->path;
}

static void md5hex(const void *p, size_t n, char out[33])
{
  unsigned char md[16];
  unsigned len = 0;
  EVP_Digest(p, n, md, &len, EVP_md5(), NULL);
  vs_hex(md, 16, out);
}

static void create(fx *f, const char *key, const char *alg, vs_mpu *m)
{
  vs_err err = {0};
  memset(m, 0, sizeof(*m));
  snprintf(m->bucket, sizeof(m->bucket), "bkt");
  snprintf(m->key, sizeof(m->key), "%s", key);
  if(alg) {
    snprintf(m->checksum_alg, sizeof(m->checksum_alg), "%s", alg);
    snprintf(m->checksum_type, sizeof(m->checksum_type), "FULL_OBJECT");
  }
  if(vs_store_mpu_create(f->s, m, &err))
    fail_msg("create %s: %s", key, err.msg);
}

static int put_part(vs_store *s, const char *key, const char *id,
                    unsigned n, const void *data, size_t len,
                    vs_part_info *p)
{
  vs_upload *u = NULL;
  vs_err err = {0};
  int rc = vs_store_part_begin(s, "bkt", key, id, n, &u, &err);
  if(rc)
    return rc;
  if((rc = vs_store_write(s, u, data, len, &err))) {
    vs_store_abort(s, u);
    return rc;
  }
  memset(p, 0, sizeof(*p));
  p->bytes = len;
  md5hex(data, len, p->md5);
  return vs_store_part_commit(s, u, p, &err);
}

static void list_order(void **state)
{
  fx *f = *state;
  const char *keys[] = {"b", "a/b", "a", "a!", "a.b", "a"};
  const char *want[] = {"a", "a", "a!", "a.b", "a/b", "b"};
  vs_mpu m[6], *list = NULL;
  vs_err err = {0};
  size_t n = 0, i;
  for(i = 0; i < 6; i++) {
    f->now += 1000;
    create(f, keys[i], NULL, &m[i]);
  }
  assert_int_equal(vs_store_mpu_list(f->s, "bkt", &list, &n, &err), VS_OK);
  assert_int_equal(n, 6);
  for(i = 0; i < 6; i++)
    assert_string_equal(list[i].key, want[i]);
  /* the two uploads of "a" by creation */
  assert_string_equal(list[0].upload_id, m[2].upload_id);
  assert_string_equal(list[1].upload_id, m[5].upload_id);
  assert_true(list[0].created_ms < list[1].created_ms);
  free(list);
  /* an aborted one is not listed; another bucket has none */
  assert_int_equal(vs_store_mpu_abort(f->s, "bkt", "b", m[0].upload_id,
                                      &err), VS_OK);
  assert_int_equal(vs_store_mpu_list(f->s, "bkt", &list, &n, &err), VS_OK);
  assert_int_equal(n, 5);
  free(list);
  assert_int_equal(vs_store_mpu_list(f->s, "other", &list, &n, &err), VS_OK);
  assert_int_equal(n, 0);
  free(list);
  assert_int_equal(vs_store_mpu_list(f->s, "Bad_Bucket", &list, &n, &err),
                   VS_ERR_INVALID);
}

static void expire(void **state)
{
  fx *f = *state;
  vs_mpu old, young, g;
  vs_part_info p;
  vs_err err = {0};
  int64_t t0 = f->now;
  size_t removed = 9;
  create(f, "old", NULL, &old);
  assert_int_equal(put_part(f->s, "old", old.upload_id, 1, "x", 1, &p),
                   VS_OK);
  f->now = t0 + 5000;
  create(f, "young", NULL, &young);
  assert_int_equal(vs_store_mpu_expire(f->s, t0 + 5000, &removed, &err),
                   VS_OK);
  assert_int_equal(removed, 1);
  assert_int_equal(vs_store_mpu_get(f->s, "bkt", "old", old.upload_id, &g,
                                    &err), VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_mpu_get(f->s, "bkt", "young", young.upload_id,
                                    &g, &err), VS_OK);
  assert_int_equal(vs_store_mpu_expire(f->s, t0 + 5000, &removed, &err),
                   VS_OK);
  assert_int_equal(removed, 0);
  assert_int_equal(vs_store_mpu_expire(f->s, t0 + 5001, &removed, &err),
                   VS_OK);
  assert_int_equal(removed, 1);
  assert_int_equal(vst_count_files(at(f, ".multipart")), 0);
}

static void part_copy_whole_and_range(void **state)
{
  fx *f = *state;
  char body[100], md5[33], vpath[256];
  vs_object_info src, obj;
  vs_part_info p;
  vs_part_ref r[2];
  vs_mpu_fault fault;
  vs_commit c = {0};
  vs_err err = {0};
  struct stat st;
  size_t i, len = 0;
  char *back;
  int rc;
  vs_mpu m;
  for(i = 0; i < sizeof(body); i++)
    body[i] = (char)('a' + i % 26);
  /* st_put gives no md5 (as under --etag sha256): the copy computes it */
  assert_int_equal(st_put(f->s, "bkt", "src", body, sizeof(body),
                          VS_ON_EXISTING_VERSION, 0, &src, &err), VS_OK);
  assert_string_equal(src.md5, "");
  create(f, "dst", NULL, &m);
  assert_int_equal(vs_store_part_copy(f->s, "bkt", "dst", m.upload_id, 2,
                                      "bkt", "src", src.version_id, 0,
                                      sizeof(body), &p, &err), VS_OK);
  md5hex(body, sizeof(body), md5);
  assert_string_equal(p.md5, md5);
  assert_int_equal(p.bytes, sizeof(body));
  assert_int_equal(p.number, 2);
  /* a link: the version file now has two names */
  snprintf(vpath, sizeof(vpath), "buckets/bkt/src/@%s", src.version_id);
  assert_int_equal(stat(at(f, vpath), &st), 0);
  assert_int_equal(st.st_nlink, 2);
  /* a range is copied */
  assert_int_equal(vs_store_part_copy(f->s, "bkt", "dst", m.upload_id, 1,
                                      "bkt", "src", src.version_id, 10, 50,
                                      &p, &err), VS_OK);
  md5hex(body + 10, 50, md5);
  assert_string_equal(p.md5, md5);
  assert_int_equal(p.bytes, 50);
  assert_int_equal(stat(at(f, vpath), &st), 0);
  assert_int_equal(st.st_nlink, 2);
  /* outside the source, or a missing source */
  assert_int_equal(vs_store_part_copy(f->s, "bkt", "dst", m.upload_id, 3,
                                      "bkt", "src", src.version_id, 90, 11,
                                      &p, &err), VS_ERR_INVALID);
  assert_int_equal(vs_store_part_copy(f->s, "bkt", "dst", m.upload_id, 3,
                                      "bkt", "nope", src.version_id, 0, 1,
                                      &p, &err), VS_ERR_NOTFOUND);
  /* 50 bytes as part 1 is too small for a part but the last */
  memset(r, 0, sizeof(r));
  r[0].number = 1;
  md5hex(body + 10, 50, r[0].etag);
  r[1].number = 2;
  md5hex(body, sizeof(body), r[1].etag);
  assert_int_equal(vs_store_mpu_complete(f->s, "bkt", "dst", m.upload_id, r,
                                         2, &c, &obj, &fault, &err),
                   VS_ERR_INVALID);
  assert_int_equal(fault, VS_MPU_TOO_SMALL);
  /* the whole-version part alone makes a copy of the source */
  rc = vs_store_mpu_complete(f->s, "bkt", "dst", m.upload_id, r + 1, 1, &c,
                             &obj, &fault, &err);
  assert_int_equal(rc, VS_OK);
  assert_string_equal(obj.sha256, src.sha256);
  back = st_get(f->s, "bkt", "dst", NULL, &len, NULL, &rc);
  assert_int_equal(len, sizeof(body));
  assert_memory_equal(back, body, len);
  free(back);
  /* the part's link goes with the upload; the version stays */
  assert_int_equal(vs_store_mpu_abort(f->s, "bkt", "dst", m.upload_id, &err),
                   VS_OK);
  assert_int_equal(stat(at(f, vpath), &st), 0);
  assert_int_equal(st.st_nlink, 1);
}

static void full_object_crc(void **state)
{
  fx *f = *state;
  const char *a = "hello ", *b = "world";
  uint8_t dig[VS_CKSUM_MAX];
  char want[VS_CKSUM_B64_MAX];
  vs_cksum ck;
  vs_object_info obj;
  vs_part_info p;
  vs_part_ref r;
  vs_mpu_fault fault;
  vs_commit c = {0};
  vs_err err = {0};
  vs_mpu m;
  size_t n;
  create(f, "crc", "crc32c", &m);
  assert_int_equal(put_part(f->s, "crc", m.upload_id, 1, a, 6, &p), VS_OK);
  /* one part: "hello " then replaced by the whole text */
  assert_int_equal(put_part(f->s, "crc", m.upload_id, 1, "hello world", 11,
                            &p), VS_OK);
  memset(&r, 0, sizeof(r));
  r.number = 1;
  strcpy(r.etag, p.md5);
  assert_int_equal(vs_cksum_init(&ck, VS_CKSUM_CRC32C), 0);
  vs_cksum_update(&ck, a, 6);
  vs_cksum_update(&ck, b, 5);
  n = vs_cksum_final(&ck, dig);
  vs_b64(dig, n, want);
  /* the whole-object checksum the client expects: a wrong one refuses the
   * commit (nothing stored, the upload still there), the right one passes */
  c.checksum = "AAAAAA==";
  assert_int_equal(vs_store_mpu_complete(f->s, "bkt", "crc", m.upload_id, &r,
                                         1, &c, &obj, &fault, &err),
                   VS_ERR_DIGEST);
  assert_int_equal(vs_store_stat(f->s, "bkt", "crc", NULL, &obj, &err),
                   VS_ERR_NOTFOUND);
  c.checksum = want;
  assert_int_equal(vs_store_mpu_complete(f->s, "bkt", "crc", m.upload_id, &r,
                                         1, &c, &obj, &fault, &err), VS_OK);
  assert_string_equal(obj.checksum_alg, "crc32c");
  assert_string_equal(obj.checksum, want);
  assert_int_equal(obj.parts_count, 1);
}

/* What a crash leaves: an abort's .gone- folder, a create without its
 * upload.json, an unnamed part file and a temporary. */
static void open_cleans(void **state)
{
  fx *f = *state;
  char rel[640], vid_dir[300];
  vs_store_fs_opts o = {0};
  vs_part_info p, *parts = NULL;
  vs_err err = {0};
  size_t n = 0;
  int cleaned = -1, fd;
  vs_mpu m;
  create(f, "k", NULL, &m);
  assert_int_equal(put_part(f->s, "k", m.upload_id, 1, "one", 3, &p), VS_OK);
  snprintf(vid_dir, sizeof(vid_dir), ".multipart/bkt/%s", m.upload_id);
  snprintf(rel, sizeof(rel), "%s/00002.0123456789abcdef", vid_dir);
  fd = open(at(f, rel), O_WRONLY | O_CREAT, 0644);
  assert_true(fd >= 0);
  close(fd);
  snprintf(rel, sizeof(rel), "%s/00001.json.0123456789abcdef.tmp", vid_dir);
  fd = open(at(f, rel), O_WRONLY | O_CREAT, 0644);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(mkdir(at(f, ".multipart/bkt/.gone-"
                            "0000000000000000000000000000000a"), 0755), 0);
  fd = open(at(f, ".multipart/bkt/.gone-0000000000000000000000000000000a/"
                  "00001.0123456789abcdef"), O_WRONLY | O_CREAT, 0644);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(mkdir(at(f, ".multipart/bkt/"
                            "0000000000000000000000000000000b"), 0755), 0);
  vs_store_close(f->s);
  f->s = NULL;
  o.dir = f->dir;
  o.now = fake_now;
  o.now_ctx = f;
  assert_int_equal(vs_store_fs_open(&f->s, &o, &cleaned, &err), VS_OK);
  assert_int_equal(cleaned, 4);
  assert_int_equal(access(at(f, ".multipart/bkt/.gone-"
                             "0000000000000000000000000000000a"), F_OK), -1);
  assert_int_equal(access(at(f, ".multipart/bkt/"
                             "0000000000000000000000000000000b"), F_OK), -1);
  /* upload.json, 00001.json and its data: the upload is intact */
  assert_int_equal(vst_count_files(at(f, vid_dir)), 3);
  assert_int_equal(vs_store_mpu_parts(f->s, "bkt", "k", m.upload_id, &parts,
                                      &n, &err), VS_OK);
  assert_int_equal(n, 1);
  assert_int_equal(parts[0].bytes, 3);
  free(parts);
  vs_store_close(f->s);
  assert_int_equal(vs_store_fs_open(&f->s, &o, &cleaned, &err), VS_OK);
  assert_int_equal(cleaned, 0);
}

static void read_only_refuses(void **state)
{
  fx *f = *state;
  vs_store_fs_opts o = {0};
  vs_store *ro = NULL;
  vs_upload *u = NULL;
  vs_mpu m, g, *list = NULL;
  vs_part_info *parts = NULL;
  vs_err err = {0};
  size_t n = 0;
  create(f, "k", NULL, &m);
  o.dir = f->dir;
  o.read_only = 1;
  assert_int_equal(vs_store_fs_open(&ro, &o, NULL, &err), VS_OK);
  memset(&g, 0, sizeof(g));
  strcpy(g.bucket, "bkt");
  strcpy(g.key, "k2");
  assert_int_equal(vs_store_mpu_create(ro, &g, &err), VS_ERR_INVALID);
  assert_int_equal(vs_store_part_begin(ro, "bkt", "k", m.upload_id, 1, &u,
                                       &err), VS_ERR_INVALID);
  assert_int_equal(vs_store_mpu_abort(ro, "bkt", "k", m.upload_id, &err),
                   VS_ERR_INVALID);
  assert_int_equal(vs_store_mpu_expire(ro, INT64_MAX, &n, &err),
                   VS_ERR_INVALID);
  /* reading is fine */
  assert_int_equal(vs_store_mpu_get(ro, "bkt", "k", m.upload_id, &g, &err),
                   VS_OK);
  assert_int_equal(vs_store_mpu_parts(ro, "bkt", "k", m.upload_id, &parts,
                                      &n, &err), VS_OK);
  assert_int_equal(n, 0);
  free(parts);
  assert_int_equal(vs_store_mpu_list(ro, "bkt", &list, &n, &err), VS_OK);
  assert_int_equal(n, 1);
  free(list);
  vs_store_close(ro);
}

typedef struct racer {
  vs_store *s;
  const char *id;
  unsigned seed;
  int failures;
} racer;

/* every thread uploads parts 1..4, each twice, with different bytes */
static void *race(void *arg)
{
  racer *r = arg;
  char body[64];
  vs_part_info p;
  unsigned n, k;
  for(k = 0; k < 2; k++)
    for(n = 1; n <= 4; n++) {
      snprintf(body, sizeof(body), "thread %u round %u part %u", r->seed, k,
               n);
      if(put_part(r->s, "race", r->id, n, body, strlen(body), &p))
        r->failures++;
    }
  return NULL;
}

/* Parts of one number committed at once: each commit replaces the one
 * before whole, and no replaced file is left behind. */
static void concurrent_parts(void **state)
{
  fx *f = *state;
  pthread_t t[4];
  racer r[4];
  vs_part_info *parts = NULL;
  vs_err err = {0};
  char rel[512];
  size_t n = 0, i;
  vs_mpu m;
  create(f, "race", NULL, &m);
  for(i = 0; i < 4; i++) {
    r[i] = (racer){f->s, m.upload_id, (unsigned)i, 0};
    assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
  }
  for(i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(r[i].failures, 0);
  }
  assert_int_equal(vs_store_mpu_parts(f->s, "bkt", "race", m.upload_id,
                                      &parts, &n, &err), VS_OK);
  assert_int_equal(n, 4);
  free(parts);
  /* upload.json, and a json and a data file per part */
  snprintf(rel, sizeof(rel), ".multipart/bkt/%s", m.upload_id);
  assert_int_equal(vst_count_files(at(f, rel)), 9);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(list_order, setup, teardown),
    cmocka_unit_test_setup_teardown(expire, setup, teardown),
    cmocka_unit_test_setup_teardown(part_copy_whole_and_range, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(full_object_crc, setup, teardown),
    cmocka_unit_test_setup_teardown(open_cleans, setup, teardown),
    cmocka_unit_test_setup_teardown(read_only_refuses, setup, teardown),
    cmocka_unit_test_setup_teardown(concurrent_parts, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
