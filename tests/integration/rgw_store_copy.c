/* vs_store_copy and vs_store_part_copy of the S3 store against a real Ceph
 * RGW (run in rgw_store_test.c's list): a copy of a version holds its
 * bytes and digests (the SHA-256 of a source stored in parts included),
 * carries the caller's content type and headers, is refused under REJECT
 * and for a missing source version; a source over the store's copy_max is
 * copied as a multipart upload of UploadPartCopy parts, leaving no upload;
 * a part copied from a range into a client's upload completes into those
 * bytes; a crash before the copy's version id reached its intent leaves
 * an intent the next start resolves to the copy (its token); the cluster
 * gone before the CopyObject: unreachable, and nothing left once back. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../unit/helpers.h"
#include "rgw_store_help.h"

static vs_commit copy_commit(const char *ctype, const char *headers)
{
  vs_commit c = {0};
  c.sha256 = ""; /* the source's are taken */
  c.content_type = ctype;
  c.headers = headers;
  c.policy = VS_ON_EXISTING_VERSION;
  return c;
}

static void same_bytes(vs_store *s, const char *k, const vs_object_info *i,
                       const char *sha)
{
  char got[65];
  assert_int_equal(stream_sha(s, "bkt", k, i->version_id, 0, i->bytes, got,
                              NULL), i->bytes);
  assert_string_equal(got, sha);
}

void t_copy_single(void **state)
{
  vs_store *s = open_store(BUCKET, "copy1", 1);
  vs_object_info src, cp, st;
  vs_commit c = copy_commit("text/x-copy", "x-amz-meta-a:1\n");
  char **ids;
  digests d;
  vs_err e = {0};
  (void)state;
  assert_true(vs_store_has_copy(s));
  assert_true(vs_store_has_part_copy(s));
  put_ok(s, "bkt", "cp/src", 3000, 21, &src, &d);
  assert_int_equal(vs_store_copy(s, "bkt", "cp/src", src.version_id, "bkt",
                                 "cp/dst", &c, &cp, &e), 0);
  assert_int_equal(cp.bytes, 3000);
  assert_string_equal(cp.sha256, d.sha_hex);
  assert_string_equal(cp.etag, d.md5_hex); /* a copy of one part: its MD5 */
  assert_string_not_equal(cp.version_id, src.version_id);
  assert_int_equal(vs_store_stat(s, "bkt", "cp/dst", NULL, &st, &e), 0);
  assert_string_equal(st.version_id, cp.version_id);
  assert_string_equal(st.sha256, d.sha_hex);
  assert_string_equal(st.md5, d.md5_hex);
  assert_string_equal(st.content_type, "text/x-copy");
  assert_string_equal(st.headers, "x-amz-meta-a:1\n");
  same_bytes(s, "cp/dst", &cp, d.sha_hex);
  /* REJECT onto it, a missing version, a missing key: nothing new */
  c.policy = VS_ON_EXISTING_REJECT;
  assert_int_equal(vs_store_copy(s, "bkt", "cp/src", src.version_id, "bkt",
                                 "cp/dst", &c, &cp, &e), VS_ERR_EXISTS);
  c.policy = VS_ON_EXISTING_VERSION;
  assert_int_equal(vs_store_copy(s, "bkt", "cp/src", "no-such-version",
                                 "bkt", "cp/x", &c, &cp, &e),
                   VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_copy(s, "bkt", "cp/none", src.version_id, "bkt",
                                 "cp/x", &c, &cp, &e), VS_ERR_NOTFOUND);
  assert_int_equal(count_versions(s, "bkt", "cp/dst", &ids), 1);
  free_ids(ids, 1);
  assert_int_equal(count_versions(s, "bkt", "cp/x", &ids), 0);
  free_ids(ids, 0);
  vs_store_close(s);
}

void t_copy_parts(void **state)
{
  vs_store *s;
  vs_object_info src, cp, st;
  vs_commit c = copy_commit("video/mp4", "");
  digests d;
  vs_err e = {0};
  (void)state;
  COPY_MAX = 5 * MiB; /* as if the cluster copied at most 5 MiB at once */
  s = open_store(BUCKET, "copy2", 1);
  COPY_MAX = 0;
  put_ok(s, "bkt", "cpp/src", 12 * MiB + 7, 22, &src, &d);
  assert_int_equal(vs_store_copy(s, "bkt", "cpp/src", src.version_id, "bkt",
                                 "cpp/dst", &c, &cp, &e), 0);
  assert_int_equal(cp.bytes, 12 * MiB + 7);
  assert_int_equal(cp.parts_count, 3); /* 5 + 5 + 2 MiB */
  assert_string_equal(cp.sha256, d.sha_hex);
  assert_int_equal(vs_store_stat(s, "bkt", "cpp/dst", NULL, &st, &e), 0);
  assert_string_equal(st.sha256, d.sha_hex); /* carried by Create */
  assert_string_equal(st.content_type, "video/mp4");
  same_bytes(s, "cpp/dst", &cp, d.sha_hex);
  assert_int_equal(uploads_under("bkt"), 0);
  vs_store_close(s);
}

void t_part_copy(void **state)
{
  vs_store *s = open_store(BUCKET, "copy3", 1);
  vs_object_info src, done;
  vs_part_info p = {0};
  vs_part_ref ref = {0};
  vs_commit c = copy_commit(NULL, NULL);
  vs_mpu m;
  vs_mpu_fault f;
  digests d;
  unsigned char *bytes = malloc(9 * MiB);
  char want[65], got[65];
  vs_err e = {0};
  (void)state;
  assert_non_null(bytes);
  put_ok(s, "bkt", "pc/src", 9 * MiB, 23, &src, &d);
  assert_int_equal(stream_sha(s, "bkt", "pc/src", src.version_id, 0,
                              9 * MiB, got, bytes), 9 * MiB);
  memset(&m, 0, sizeof(m));
  snprintf(m.bucket, sizeof(m.bucket), "bkt");
  snprintf(m.key, sizeof(m.key), "pc/dst");
  assert_int_equal(vs_store_mpu_create(s, &m, &e), 0);
  assert_int_equal(vs_store_part_copy(s, "bkt", "pc/dst", m.upload_id, 1,
                                      "bkt", "pc/src", src.version_id, 1000,
                                      6 * MiB, &p, &e), 0);
  assert_int_equal(p.bytes, 6 * MiB);
  ref.number = 1;
  snprintf(ref.etag, sizeof(ref.etag), "%s", p.md5);
  c.sha256 = "";
  assert_int_equal(vs_store_mpu_complete(s, "bkt", "pc/dst", m.upload_id,
                                         &ref, 1, &c, &done, &f, &e), 0);
  {
    digests r;
    dg_init(&r);
    dg_add(&r, bytes + 1000, 6 * MiB);
    dg_end(&r);
    snprintf(want, sizeof(want), "%s", r.sha_hex);
  }
  assert_string_equal(done.sha256, want);
  same_bytes(s, "pc/dst", &done, want);
  assert_int_equal(vs_store_mpu_abort(s, "bkt", "pc/dst", m.upload_id, &e),
                   0);
  assert_int_equal(uploads_under("bkt"), 0);
  free(bytes);
  vs_store_close(s);
}

/* A crash after the CopyObject but before its version id reached the
 * intent: the next start finds the copy by the intent token it carries. */
void t_copy_crash(void **state)
{
  vs_store *s = open_store(BUCKET, "copy4", 1);
  vs_object_info src, cp;
  vs_commit c = copy_commit(NULL, NULL);
  vs_store_intent *list;
  size_t n;
  digests d;
  char kh[64], cmd[2000];
  vs_err e = {0};
  (void)state;
  put_ok(s, "bkt", "cpc/src", 100, 24, &src, &d);
  assert_int_equal(vs_store_settle(s, "bkt", "cpc/src", src.version_id, &e),
                   0);
  assert_int_equal(vs_store_copy(s, "bkt", "cpc/src", src.version_id, "bkt",
                                 "cpc/dst", &c, &cp, &e), 0);
  vs_store_close(s); /* not settled: as if the sink died before its event */
  hex((const unsigned char *)"cpc/dst", 7, kh);
  snprintf(cmd, sizeof(cmd), "f=$(grep -l 'key %s$' %s/copy4/state/intent/*)"
           " && sed -i -e 's/^version .*/version -/' -e 's/^pid .*/pid 1/' "
           "\"$f\"", kh, DIR_);
  assert_int_equal(system(cmd), 0);
  s = open_store(BUCKET, "copy4", 1);
  assert_int_equal(vs_store_intents(s, &list, &n, &e), VS_OK);
  assert_int_equal(n, 1);
  assert_string_equal(list[0].key, "cpc/dst");
  assert_string_equal(list[0].version_id, cp.version_id);
  free(list);
  assert_int_equal(vs_store_settle(s, "bkt", "cpc/dst", cp.version_id, &e),
                   0);
  assert_int_equal(vs_store_intents(s, &list, &n, &e), VS_OK);
  assert_int_equal(n, 0);
  free(list);
  vs_store_close(s);
}

/* The cluster gone between the source's HEAD and the CopyObject: the copy
 * fails as unreachable (the sink's 503), and once the cluster is back
 * nothing is left: no version, no intent. */
void t_copy_unreachable(void **state)
{
  vs_store_s3_opts o;
  vs_store *s = NULL;
  vs_store_intent *list;
  vs_object_info src, cp;
  vs_commit c = copy_commit(NULL, NULL);
  digests d;
  char spool[600], st[600], **ids;
  size_t n = 1;
  gate g;
  vs_err e = {0};
  int i;
  (void)state;
  assert_int_equal(gate_start(&g, T.endpoint), 0);
  snprintf(spool, sizeof(spool), "%s/copynet/spool", DIR_);
  snprintf(st, sizeof(st), "%s/copynet/state", DIR_);
  memset(&o, 0, sizeof(o));
  o.t = T, o.t.endpoint = g.endpoint, o.bucket = BUCKET, o.prefix = PREFIX;
  o.spool_dir = spool, o.state_dir = st, o.require_versioning = 1;
  assert_int_equal(vs_store_s3_open(&s, &o, &e), VS_OK);
  put_ok(s, "bkt", "cpn/src", 500, 25, &src, &d);
  assert_int_equal(vs_store_settle(s, "bkt", "cpn/src", src.version_id, &e),
                   0);
  gate_allow(&g, 1); /* the source's HEAD, then nothing */
  assert_int_equal(vs_store_copy(s, "bkt", "cpn/src", src.version_id, "bkt",
                                 "cpn/dst", &c, &cp, &e), VS_ERR_NET);
  gate_set(&g, 1);
  /* the intent is the cleaner's or intents()'s: either drops it */
  for(i = 0; i < 50 && n; i++) {
    assert_int_equal(vs_store_intents(s, &list, &n, &e), VS_OK);
    free(list);
  }
  assert_int_equal(n, 0);
  assert_int_equal(vst_count_files(st), 0); /* its intent file gone */
  assert_int_equal(count_versions(s, "bkt", "cpn/dst", &ids), 0);
  free_ids(ids, 0);
  vs_store_close(s);
  gate_stop(&g);
}
