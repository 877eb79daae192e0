/* store_fs multipart: an upload's life from Create to Complete, the
 * faults Complete names, its policy checks, Abort, and parts as ranges of
 * the object. Expected digests are computed here with OpenSSL, not taken
 * from the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "test_store_common.h"

#define MIB (1U << 20)

typedef struct fx {
  char dir[256];
  char path[1024];
  vs_store *s;
} fx;

static int setup(void **state)
{
  fx *f = calloc(1, sizeof(*f));
  if(!f)
    return -1;
  *state = f;
  return st_open_tmp("storempu", f->dir, sizeof(f->dir), NULL, NULL, &f->s);
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

static void create(fx *f, const char *key, vs_mpu *m)
{
  vs_err err = {0};
  memset(m, 0, sizeof(*m));
  snprintf(m->bucket, sizeof(m->bucket), "bkt");
  snprintf(m->key, sizeof(m->key), "%s", key);
  snprintf(m->content_type, sizeof(m->content_type), "video/mp4");
  snprintf(m->headers, sizeof(m->headers), "x-amz-meta-a:1\n");
  if(vs_store_mpu_create(f->s, m, &err))
    fail_msg("create %s: %s", key, err.msg);
}

static int put_part(fx *f, const char *key, const char *id, unsigned n,
                    const void *data, size_t len, vs_part_info *p)
{
  vs_upload *u = NULL;
  vs_err err = {0};
  int rc = vs_store_part_begin(f->s, "bkt", key, id, n, &u, &err);
  if(rc)
    return rc;
  if(len && (rc = vs_store_write(f->s, u, data, len, &err))) {
    vs_store_abort(f->s, u);
    return rc;
  }
  memset(p, 0, sizeof(*p));
  p->bytes = len;
  md5hex(data, len, p->md5);
  return vs_store_part_commit(f->s, u, p, &err);
}

static void ref(vs_part_ref *r, unsigned n, const char *md5)
{
  memset(r, 0, sizeof(*r));
  r->number = n;
  snprintf(r->etag, sizeof(r->etag), "%.32s", md5);
}

/* what S3 makes the ETag of: MD5 of the binary part MD5s, "-N" */
static void mpu_etag(const char md5s[][33], size_t n, char out[48])
{
  unsigned char bin[16 * 8], md[16];
  unsigned len = 0;
  size_t i;
  for(i = 0; i < n; i++)
    vs_unhex(md5s[i], 16, bin + 16 * i);
  EVP_Digest(bin, 16 * n, md, &len, EVP_md5(), NULL);
  vs_hex(md, 16, out);
  snprintf(out + 32, 16, "-%u", (unsigned)n);
}

static void create_get_and_bad_ids(void **state)
{
  fx *f = *state;
  vs_mpu m, g;
  vs_err err = {0};
  char upper[33], rel[512];
  size_t i;
  create(f, "v/clip.mp4", &m);
  assert_int_equal(strlen(m.upload_id), 32);
  assert_true(m.created_ms > 0);
  assert_int_equal(vs_store_mpu_get(f->s, "bkt", "v/clip.mp4", m.upload_id,
                                    &g, &err), VS_OK);
  assert_string_equal(g.key, "v/clip.mp4");
  assert_string_equal(g.content_type, "video/mp4");
  assert_string_equal(g.headers, "x-amz-meta-a:1\n");
  assert_int_equal(g.created_ms, m.created_ms);
  /* the folder is there, named by the id */
  snprintf(rel, sizeof(rel), ".multipart/bkt/%s/upload.json", m.upload_id);
  assert_int_equal(access(at(f, rel), F_OK), 0);
  /* wrong key or bucket, malformed ids: no such upload */
  assert_int_equal(vs_store_mpu_get(f->s, "bkt", "v/other.mp4", m.upload_id,
                                    &g, &err), VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_mpu_get(f->s, "bkt2", "v/clip.mp4", m.upload_id,
                                    &g, &err), VS_ERR_NOTFOUND);
  for(i = 0; i < 32; i++)
    upper[i] = m.upload_id[i] >= 'a' ? (char)(m.upload_id[i] - 32)
                                     : m.upload_id[i];
  upper[32] = 0;
  assert_int_equal(vs_store_mpu_get(f->s, "bkt", "v/clip.mp4", upper, &g,
                                    &err), VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_mpu_get(f->s, "bkt", "v/clip.mp4",
                                    "../../../../../../../../etc/passwd",
                                    &g, &err), VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_mpu_get(f->s, "bkt", "v/clip.mp4", "", &g, &err),
                   VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_part_begin(f->s, "bkt", "v/clip.mp4",
                                       "0123456789abcdef0123456789abcdef", 1,
                                       &(vs_upload *){NULL}, &err),
                   VS_ERR_NOTFOUND);
}

static void parts_out_of_order_and_replaced(void **state)
{
  fx *f = *state;
  vs_part_info p, *list = NULL;
  vs_err err = {0};
  char rel[512], md5[33];
  size_t n = 0;
  vs_mpu m;
  create(f, "k", &m);
  assert_int_equal(put_part(f, "k", m.upload_id, 3, "ccc", 3, &p), VS_OK);
  assert_int_equal(p.number, 3);
  assert_int_equal(put_part(f, "k", m.upload_id, 1, "a", 1, &p), VS_OK);
  assert_int_equal(put_part(f, "k", m.upload_id, 2, "bb", 2, &p), VS_OK);
  assert_int_equal(put_part(f, "k", m.upload_id, 1, "AAAA", 4, &p), VS_OK);
  assert_int_equal(vs_store_mpu_parts(f->s, "bkt", "k", m.upload_id, &list,
                                      &n, &err), VS_OK);
  assert_int_equal(n, 3);
  assert_int_equal(list[0].number, 1);
  assert_int_equal(list[0].bytes, 4); /* the later upload of part 1 */
  md5hex("AAAA", 4, md5);
  assert_string_equal(list[0].md5, md5);
  assert_int_equal(list[1].number, 2);
  assert_int_equal(list[2].number, 3);
  assert_int_equal(list[2].bytes, 3);
  free(list);
  /* the replaced part's file is gone: upload.json and 3 x (json, data) */
  snprintf(rel, sizeof(rel), ".multipart/bkt/%s", m.upload_id);
  assert_int_equal(vst_count_files(at(f, rel)), 7);
  /* a part dropped before its commit leaves nothing */
  {
    vs_upload *u = NULL;
    assert_int_equal(vs_store_part_begin(f->s, "bkt", "k", m.upload_id, 4,
                                         &u, &err), VS_OK);
    assert_int_equal(vs_store_write(f->s, u, "zz", 2, &err), VS_OK);
    vs_store_abort(f->s, u);
  }
  assert_int_equal(vst_count_files(at(f, rel)), 7);
  /* part numbers outside 1..10000 */
  assert_int_equal(put_part(f, "k", m.upload_id, 0, "x", 1, &p),
                   VS_ERR_INVALID);
  assert_int_equal(put_part(f, "k", m.upload_id, 10001, "x", 1, &p),
                   VS_ERR_INVALID);
}

static void complete_three_parts(void **state)
{
  fx *f = *state;
  const size_t total = 10 * MIB + 1;
  unsigned char *data = malloc(total);
  char md5s[3][33], etag[48], sha[65];
  const size_t size[3] = {5 * MIB, 5 * MIB, 1};
  vs_part_ref refs[3];
  vs_part_info p;
  vs_object_info info, got;
  vs_mpu_fault fault = VS_MPU_OK;
  vs_commit c = {0};
  vs_err err = {0};
  uint64_t off, len;
  size_t i, glen = 0, o = 0;
  char *back;
  cJSON *ev;
  vs_mpu m;
  int rc;
  assert_non_null(data);
  for(i = 0; i < total; i++)
    data[i] = (unsigned char)(i * 31 + (i >> 13));
  create(f, "v/big.mp4", &m);
  for(i = 0; i < 3; i++) {
    assert_int_equal(put_part(f, "v/big.mp4", m.upload_id, (unsigned)i + 1,
                              data + o, size[i], &p), VS_OK);
    md5hex(data + o, size[i], md5s[i]);
    assert_string_equal(p.md5, md5s[i]);
    ref(&refs[i], (unsigned)i + 1, md5s[i]);
    o += size[i];
  }
  rc = vs_store_mpu_complete(f->s, "bkt", "v/big.mp4", m.upload_id, refs, 3,
                             &c, &info, &fault, &err);
  if(rc)
    fail_msg("complete: %s", err.msg);
  assert_int_equal(fault, VS_MPU_OK);
  mpu_etag(md5s, 3, etag);
  st_sha256(data, total, sha);
  assert_string_equal(info.etag, etag);
  assert_string_equal(info.sha256, sha);
  assert_string_equal(info.md5, "");
  assert_int_equal(info.bytes, total);
  assert_int_equal(info.parts_count, 3);
  assert_string_equal(info.content_type, "video/mp4");
  assert_string_equal(info.headers, "x-amz-meta-a:1\n");
  /* what a reader gets back, and what the metadata kept */
  back = st_get(f->s, "bkt", "v/big.mp4", NULL, &glen, &got, &rc);
  assert_non_null(back);
  assert_int_equal(glen, total);
  assert_memory_equal(back, data, total);
  free(back);
  assert_string_equal(got.etag, etag);
  assert_int_equal(got.parts_count, 3);
  assert_string_equal(got.version_id, info.version_id);
  /* the parts as ranges of it */
  for(i = 0, o = 0; i < 3; o += size[i], i++) {
    assert_int_equal(vs_store_part_range(f->s, "bkt", "v/big.mp4", NULL,
                                         (unsigned)i + 1, &off, &len, &err),
                     VS_OK);
    assert_int_equal(off, o);
    assert_int_equal(len, size[i]);
  }
  assert_int_equal(vs_store_part_range(f->s, "bkt", "v/big.mp4",
                                       info.version_id, 4, &off, &len, &err),
                   VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_part_range(f->s, "bkt", "v/big.mp4", NULL, 0,
                                       &off, &len, &err), VS_ERR_NOTFOUND);
  /* the event says how many parts */
  ev = vs_store_event_fields("bkt", "v/big.mp4", &info, NULL, "put");
  assert_non_null(ev);
  assert_int_equal(cJSON_GetObjectItem(ev, "parts")->valueint, 3);
  assert_string_equal(cJSON_GetObjectItem(ev, "etag")->valuestring, etag);
  cJSON_Delete(ev);
  /* the upload stays until the caller aborts it */
  assert_int_equal(vs_store_mpu_get(f->s, "bkt", "v/big.mp4", m.upload_id,
                                    &m, &err), VS_OK);
  assert_int_equal(vs_store_mpu_abort(f->s, "bkt", "v/big.mp4", m.upload_id,
                                      &err), VS_OK);
  assert_int_equal(vst_count_files(at(f, ".multipart")), 0);
  assert_int_equal(vst_count_files(at(f, ".tmp")), 0);
  free(data);
}

static void whole_object_is_one_part(void **state)
{
  fx *f = *state;
  vs_object_info info;
  vs_err err = {0};
  uint64_t off = 9, len = 9;
  assert_int_equal(st_put(f->s, "bkt", "w", "hello", 5,
                          VS_ON_EXISTING_VERSION, 0, &info, &err), VS_OK);
  assert_int_equal(info.parts_count, 0);
  assert_int_equal(vs_store_part_range(f->s, "bkt", "w", NULL, 1, &off, &len,
                                       &err), VS_OK);
  assert_int_equal(off, 0);
  assert_int_equal(len, 5);
  assert_int_equal(vs_store_part_range(f->s, "bkt", "w", NULL, 2, &off, &len,
                                       &err), VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_part_range(f->s, "bkt", "none", NULL, 1, &off,
                                       &len, &err), VS_ERR_NOTFOUND);
}

static int complete(fx *f, const char *key, const char *id,
                    const vs_part_ref *refs, size_t n, const vs_commit *c,
                    vs_mpu_fault *fault, vs_err *err)
{
  vs_object_info info;
  vs_commit none = {0};
  return vs_store_mpu_complete(f->s, "bkt", key, id, refs, n, c ? c : &none,
                               &info, fault, err);
}

static void faults(void **state)
{
  fx *f = *state;
  unsigned char *big = calloc(1, 5 * MIB);
  char md5[4][33];
  vs_part_ref refs[3];
  vs_part_info p;
  vs_mpu_fault fault;
  vs_err err = {0};
  char **ids = NULL;
  size_t n = 0;
  vs_mpu m;
  assert_non_null(big);
  create(f, "f", &m);
  assert_int_equal(put_part(f, "f", m.upload_id, 1, "one", 3, &p), VS_OK);
  strcpy(md5[1], p.md5);
  assert_int_equal(put_part(f, "f", m.upload_id, 2, "two", 3, &p), VS_OK);
  strcpy(md5[2], p.md5);
  /* order */
  ref(&refs[0], 2, md5[2]);
  ref(&refs[1], 1, md5[1]);
  assert_int_equal(complete(f, "f", m.upload_id, refs, 2, NULL, &fault,
                            &err), VS_ERR_INVALID);
  assert_int_equal(fault, VS_MPU_PART_ORDER);
  assert_non_null(strstr(err.msg, "part 1"));
  ref(&refs[1], 2, md5[2]); /* a number twice */
  assert_int_equal(complete(f, "f", m.upload_id, refs, 2, NULL, &fault,
                            &err), VS_ERR_INVALID);
  assert_int_equal(fault, VS_MPU_PART_ORDER);
  /* a part never uploaded, a wrong ETag, a checksum the part lacks */
  ref(&refs[0], 1, md5[1]);
  ref(&refs[1], 3, md5[2]);
  assert_int_equal(complete(f, "f", m.upload_id, refs, 2, NULL, &fault,
                            &err), VS_ERR_INVALID);
  assert_int_equal(fault, VS_MPU_INVALID_PART);
  assert_non_null(strstr(err.msg, "part 3"));
  ref(&refs[1], 2, md5[1]);
  assert_int_equal(complete(f, "f", m.upload_id, refs, 2, NULL, &fault,
                            &err), VS_ERR_INVALID);
  assert_int_equal(fault, VS_MPU_INVALID_PART);
  assert_non_null(strstr(err.msg, "part 2"));
  ref(&refs[1], 2, md5[2]);
  strcpy(refs[1].checksum, "AAAAAA==");
  assert_int_equal(complete(f, "f", m.upload_id, refs, 2, NULL, &fault,
                            &err), VS_ERR_INVALID);
  assert_int_equal(fault, VS_MPU_INVALID_PART);
  /* every part but the last is 5 MiB at least */
  ref(&refs[1], 2, md5[2]);
  assert_int_equal(complete(f, "f", m.upload_id, refs, 2, NULL, &fault,
                            &err), VS_ERR_INVALID);
  assert_int_equal(fault, VS_MPU_TOO_SMALL);
  assert_non_null(strstr(err.msg, "part 1"));
  /* 5 MiB exactly is enough; then the parts named, not all those there */
  assert_int_equal(put_part(f, "f", m.upload_id, 1, big, 5 * MIB, &p),
                   VS_OK);
  ref(&refs[0], 1, p.md5);
  ref(&refs[1], 2, md5[2]);
  assert_int_equal(put_part(f, "f", m.upload_id, 7, "not named", 9, &p),
                   VS_OK);
  assert_int_equal(complete(f, "f", m.upload_id, refs, 2, NULL, &fault,
                            &err), VS_OK);
  assert_int_equal(fault, VS_MPU_OK);
  {
    vs_object_info info;
    size_t len = 0;
    int rc;
    char *back = st_get(f->s, "bkt", "f", NULL, &len, &info, &rc);
    assert_int_equal(len, 5 * MIB + 3);
    assert_memory_equal(back + 5 * MIB, "two", 3);
    free(back);
  }
  /* no refs at all */
  assert_int_equal(complete(f, "f", m.upload_id, refs, 0, NULL, &fault,
                            &err), VS_ERR_INVALID);
  assert_int_equal(vs_store_fs_list_versions(f->s, "bkt", "f", &ids, &n,
                                             &err), VS_OK);
  assert_int_equal(n, 1); /* only the complete that succeeded */
  st_free_ids(ids, n);
  free(big);
}

static void complete_under_policy(void **state)
{
  fx *f = *state;
  vs_object_info info;
  vs_part_ref r;
  vs_part_info p;
  vs_mpu_fault fault;
  vs_commit c = {0};
  vs_err err = {0};
  char **ids = NULL;
  size_t n = 0;
  vs_mpu m;
  assert_int_equal(st_put(f->s, "bkt", "p", "old", 3,
                          VS_ON_EXISTING_VERSION, 0, &info, &err), VS_OK);
  assert_int_equal(vs_store_settle(f->s, "bkt", "p", info.version_id, &err),
                   VS_OK);
  create(f, "p", &m);
  assert_int_equal(put_part(f, "p", m.upload_id, 1, "new", 3, &p), VS_OK);
  ref(&r, 1, p.md5);
  c.policy = VS_ON_EXISTING_REJECT;
  assert_int_equal(complete(f, "p", m.upload_id, &r, 1, &c, &fault, &err),
                   VS_ERR_EXISTS);
  assert_int_equal(fault, VS_MPU_OK);
  c.policy = VS_ON_EXISTING_VERSION;
  c.if_none_match = 1;
  assert_int_equal(complete(f, "p", m.upload_id, &r, 1, &c, &fault, &err),
                   VS_ERR_EXISTS);
  c.if_none_match = 0;
  c.if_match = "0123456789abcdef0123456789abcdef";
  assert_int_equal(complete(f, "p", m.upload_id, &r, 1, &c, &fault, &err),
                   VS_ERR_EXISTS);
  /* refused: nothing stored, nothing left in .tmp, the upload intact */
  assert_int_equal(vs_store_fs_list_versions(f->s, "bkt", "p", &ids, &n,
                                             &err), VS_OK);
  assert_int_equal(n, 1);
  st_free_ids(ids, n);
  assert_int_equal(vst_count_files(at(f, ".tmp")), 0);
  assert_int_equal(vst_count_files(at(f, ".intent")), 0);
  c.if_match = info.etag;
  c.policy = VS_ON_EXISTING_OVERWRITE;
  assert_int_equal(complete(f, "p", m.upload_id, &r, 1, &c, &fault, &err),
                   VS_OK);
  assert_int_equal(vs_store_fs_list_versions(f->s, "bkt", "p", &ids, &n,
                                             &err), VS_OK);
  assert_int_equal(n, 1); /* overwritten */
  st_free_ids(ids, n);
}

static void abort_then_part_commit(void **state)
{
  fx *f = *state;
  vs_upload *u = NULL;
  vs_part_info p;
  vs_part_ref r;
  vs_mpu_fault fault;
  vs_err err = {0};
  vs_mpu m;
  create(f, "a", &m);
  assert_int_equal(put_part(f, "a", m.upload_id, 1, "x", 1, &p), VS_OK);
  ref(&r, 1, p.md5);
  assert_int_equal(vs_store_part_begin(f->s, "bkt", "a", m.upload_id, 2, &u,
                                       &err), VS_OK);
  assert_int_equal(vs_store_write(f->s, u, "yy", 2, &err), VS_OK);
  assert_int_equal(vs_store_mpu_abort(f->s, "bkt", "other", m.upload_id,
                                      &err), VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_mpu_abort(f->s, "bkt", "a", m.upload_id, &err),
                   VS_OK);
  memset(&p, 0, sizeof(p));
  p.bytes = 2;
  md5hex("yy", 2, p.md5);
  assert_int_equal(vs_store_part_commit(f->s, u, &p, &err), VS_ERR_NOTFOUND);
  assert_int_equal(vst_count_files(at(f, ".multipart")), 0);
  assert_int_equal(vs_store_mpu_abort(f->s, "bkt", "a", m.upload_id, &err),
                   VS_ERR_NOTFOUND);
  assert_int_equal(put_part(f, "a", m.upload_id, 1, "x", 1, &p),
                   VS_ERR_NOTFOUND);
  assert_int_equal(complete(f, "a", m.upload_id, &r, 1, NULL, &fault, &err),
                   VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_stat(f->s, "bkt", "a", NULL,
                                 &(vs_object_info){0}, &err),
                   VS_ERR_NOTFOUND);
}

/* 10,000 parts of different sizes (the metadata's longest run list, ~150
 * KB): a version whose metadata says so, over a sparse file of its size,
 * is read back whole and serves its last part. */
static void many_part_sizes(void **state)
{
  fx *f = *state;
  const unsigned parts = VS_PART_NUMBER_MAX;
  vs_object_info info, got;
  vs_err err = {0};
  uint64_t total = 0, off = 0, len = 0;
  char rel[256], *meta;
  size_t used = 0, cap = 1 << 20;
  unsigned i;
  FILE *fp;
  assert_int_equal(st_put(f->s, "bkt", "m", "x", 1, VS_ON_EXISTING_VERSION,
                          0, &info, &err), VS_OK);
  meta = malloc(cap);
  assert_non_null(meta);
  used += (size_t)snprintf(meta + used, cap - used, "[");
  for(i = 0; i < parts; i++) {
    used += (size_t)snprintf(meta + used, cap - used, "%s[%u,1]",
                             i ? "," : "", (unsigned)(5U << 20) + i);
    total += (5U << 20) + i;
  }
  snprintf(rel, sizeof(rel), "buckets/bkt/m/@%s.json", info.version_id);
  fp = fopen(at(f, rel), "w");
  assert_non_null(fp);
  fprintf(fp, "{\"bytes\":%llu,\"sha256\":\"%s\",\"md5\":\"\","
          "\"etag\":\"0123456789abcdef0123456789abcdef-%u\","
          "\"contentType\":\"video/mp4\",\"parts\":%s],\"mtime\":%lld,"
          "\"versionId\":\"%s\"}\n", (unsigned long long)total, info.sha256,
          parts, meta, (long long)info.mtime_ms, info.version_id);
  assert_int_equal(fclose(fp), 0);
  free(meta);
  assert_true(used > 100000);
  snprintf(rel, sizeof(rel), "buckets/bkt/m/@%s", info.version_id);
  assert_int_equal(truncate(at(f, rel), (off_t)total), 0);
  assert_int_equal(vs_store_stat(f->s, "bkt", "m", NULL, &got, &err), VS_OK);
  assert_int_equal(got.parts_count, parts);
  assert_int_equal(got.bytes, total);
  assert_int_equal(vs_store_part_range(f->s, "bkt", "m", NULL, parts, &off,
                                       &len, &err), VS_OK);
  assert_int_equal(len, (5U << 20) + parts - 1);
  assert_int_equal(off + len, total);
  assert_int_equal(vs_store_part_range(f->s, "bkt", "m", NULL, parts + 1,
                                       &off, &len, &err), VS_ERR_NOTFOUND);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(create_get_and_bad_ids, setup, teardown),
    cmocka_unit_test_setup_teardown(parts_out_of_order_and_replaced, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(complete_three_parts, setup, teardown),
    cmocka_unit_test_setup_teardown(whole_object_is_one_part, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(faults, setup, teardown),
    cmocka_unit_test_setup_teardown(complete_under_policy, setup, teardown),
    cmocka_unit_test_setup_teardown(abort_then_part_commit, setup, teardown),
    cmocka_unit_test_setup_teardown(many_part_sizes, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
