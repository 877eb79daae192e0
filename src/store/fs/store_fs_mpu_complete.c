/* CompleteMultipartUpload, UploadPartCopy and GetObject ?partNumber in the
 * filesystem store. Complete checks the client's list against the part
 * records under the upload's lock, then writes the named parts' bytes in
 * order into an ordinary upload of the key, hashing them as it goes, and
 * commits it through the same publish path, intent and policy as a PUT:
 * the object is visible whole or not at all, and its metadata keeps the
 * part sizes (run-length) so a part can be served as a range later. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util/cksum.h"
#include "util/enc.h"
#include "util/fs.h"
#include "store_fs_int.h"
#include "store_fs_mpu.h"
#include "vsink/store.h"

#define COPY_BUF (1U << 20)

/* ---- the checks --------------------------------------------------------- */

/* S3's order of checks: the numbers' order, then each part, then sizes;
 * *fault says which failed. */
static int check_refs(const char *updir, const vs_part_ref *refs, size_t n,
                      vs__mpu_part *parts, vs_mpu_fault *fault, vs_err *err)
{
  size_t i;
  int rc;
  *fault = VS_MPU_PART_ORDER;
  for(i = 1; i < n; i++)
    if(refs[i].number <= refs[i - 1].number)
      return vs_fail(err, VS_ERR_INVALID, "part %u is listed after part %u: "
                     "the list must be in ascending order", refs[i].number,
                     refs[i - 1].number);
  *fault = VS_MPU_INVALID_PART;
  for(i = 0; i < n; i++) {
    const vs_part_ref *r = &refs[i];
    rc = r->number < 1 || r->number > VS_PART_NUMBER_MAX
           ? VS_ERR_NOTFOUND
           : vs__mpu_part_read(updir, r->number, &parts[i], err);
    if(rc == VS_ERR_NOTFOUND)
      return vs_fail(err, VS_ERR_INVALID, "part %u was not uploaded",
                     r->number);
    if(rc) {
      *fault = VS_MPU_OK;
      return rc;
    }
    if(strcasecmp(r->etag, parts[i].info.md5))
      return vs_fail(err, VS_ERR_INVALID, "part %u: the ETag listed, "
                     "\"%s\", is not the part's", r->number, r->etag);
    if(r->checksum[0] && strcmp(r->checksum, parts[i].info.checksum))
      return vs_fail(err, VS_ERR_INVALID, "part %u: the checksum listed is "
                     "not the part's", r->number);
  }
  *fault = VS_MPU_TOO_SMALL;
  for(i = 0; i + 1 < n; i++)
    if(parts[i].info.bytes < VS_PART_MIN_BYTES)
      return vs_fail(err, VS_ERR_INVALID, "part %u is %" PRIu64 " bytes, "
                     "under the %llu every part but the last must have",
                     refs[i].number, parts[i].info.bytes,
                     (unsigned long long)VS_PART_MIN_BYTES);
  *fault = VS_MPU_OK;
  return VS_OK;
}

/* ---- the object --------------------------------------------------------- */

typedef struct build {
  EVP_MD_CTX *sha;
  vs_cksum ck; /* FULL_OBJECT CRC of the upload, or none */
  unsigned char *buf;
  uint64_t total;
} build;

/* One part's bytes into u, hashed. */
static int copy_part(vs_store *s, vs_upload *u, const char *updir,
                     const vs__mpu_part *p, build *b, vs_err *err)
{
  char path[PATH_MAX];
  uint64_t left = p->info.bytes;
  struct stat st;
  int fd, rc = vs__fs_path(path, sizeof(path), err, "%s/%s", updir, p->file);
  if(rc)
    return rc;
  if((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return vs_fail_errno(err, errno, "open %s", path);
  if(fstat(fd, &st) || (uint64_t)st.st_size != left)
    rc = vs_fail(err, VS_ERR_IO, "%s is not the %" PRIu64 " bytes part %u "
                 "records", path, left, p->info.number);
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  while(!rc && left) {
    ssize_t got = read(fd, b->buf, left < COPY_BUF ? left : COPY_BUF);
    if(got < 0 && errno == EINTR)
      continue;
    if(got <= 0) {
      rc = got ? vs_fail_errno(err, errno, "read %s", path)
               : vs_fail(err, VS_ERR_IO, "%s ended early", path);
      break;
    }
    EVP_DigestUpdate(b->sha, b->buf, (size_t)got);
    vs_cksum_update(&b->ck, b->buf, (size_t)got);
    rc = vs_store_write(s, u, b->buf, (size_t)got, err);
    left -= (uint64_t)got;
  }
  /* read once: keep the page cache for what is read again */
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
  return rc;
}

/* The multipart ETag: MD5 of the parts' binary MD5s, then "-N". */
static int mpu_etag(const vs__mpu_part *parts, size_t n, char out[48])
{
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char bin[16], dig[16];
  unsigned len = 0;
  size_t i;
  int ok = md && EVP_DigestInit_ex(md, EVP_md5(), NULL);
  for(i = 0; ok && i < n; i++)
    ok = !vs_unhex(parts[i].info.md5, 16, bin) &&
         EVP_DigestUpdate(md, bin, 16);
  ok = ok && EVP_DigestFinal_ex(md, dig, &len);
  EVP_MD_CTX_free(md);
  if(!ok)
    return -1;
  vs_hex(dig, 16, out);
  snprintf(out + 32, 16, "-%zu", n);
  return 0;
}

static vs_cksum_alg full_object_crc(const vs_mpu *m)
{
  vs_cksum_alg a = vs_cksum_parse(m->checksum_alg);
  if(strcmp(m->checksum_type, "FULL_OBJECT"))
    return VS_CKSUM_NONE;
  return a == VS_CKSUM_CRC32 || a == VS_CKSUM_CRC32C ||
         a == VS_CKSUM_CRC64NVME ? a : VS_CKSUM_NONE;
}

/* Commits u (freed) as the object the parts make. */
static int commit_object(vs_store *s, vs_upload *u, const vs_mpu *m,
                         const vs__mpu_part *parts, size_t n, build *b,
                         const vs_commit *c, vs_object_info *info,
                         vs_err *err)
{
  unsigned char dig[32];
  uint8_t ck[VS_CKSUM_MAX];
  char sha[65], etag[48], ck64[VS_CKSUM_B64_MAX], *extra = NULL;
  uint64_t *sizes = malloc(n * sizeof(*sizes));
  unsigned len = 0;
  size_t i, cklen;
  vs_commit cc = {0};
  int rc;
  for(i = 0; sizes && i < n; i++)
    sizes[i] = parts[i].info.bytes;
  extra = sizes ? vs__fs_meta_parts_json(sizes, n) : NULL;
  free(sizes);
  if(!extra || !EVP_DigestFinal_ex(b->sha, dig, &len) ||
     mpu_etag(parts, n, etag)) {
    free(extra);
    vs_store_abort(s, u);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory finishing an upload");
  }
  vs_hex(dig, 32, sha);
  if(c)
    cc = *c;
  cc.bytes = b->total;
  cc.sha256 = sha;
  cc.md5 = NULL; /* the object's own MD5 is not known */
  cc.content_type = m->content_type[0] ? m->content_type : NULL;
  cc.headers = m->headers;
  cc.checksum_alg = cc.checksum = NULL;
  cc.delete_marker = 0;
  if((cklen = vs_cksum_final(&b->ck, ck))) {
    vs_b64(ck, cklen, ck64);
    cc.checksum_alg = m->checksum_alg;
    cc.checksum = ck64;
  }
  /* the whole object's checksum the client sent with Complete: only a
   * FULL_OBJECT one can be checked, and it must hold before the commit */
  if(c && c->checksum && *c->checksum &&
     (!cklen || strcmp(c->checksum, ck64))) {
    free(extra);
    vs_store_abort(s, u);
    if(!cklen)
      return vs_fail(err, VS_ERR_INVALID, "no whole-object checksum is "
                     "computed for this upload (not FULL_OBJECT)");
    return vs_fail(err, VS_ERR_DIGEST, "the object's %s is %s, not the "
                   "%s sent", m->checksum_alg, ck64, c->checksum);
  }
  u->etag = etag;
  u->parts_count = (unsigned)n;
  u->meta_extra = extra;
  rc = vs_store_commit(s, u, &cc, info, err);
  free(extra);
  return rc;
}

static int build_object(vs_store *s, const char *bucket, const char *key,
                        const char *updir, const vs_mpu *m,
                        const vs__mpu_part *parts, size_t n,
                        const vs_commit *c, vs_object_info *info, vs_err *err)
{
  build b = {0};
  vs_upload *u = NULL;
  size_t i;
  int rc = VS_OK;
  b.sha = EVP_MD_CTX_new();
  b.buf = malloc(COPY_BUF);
  if(!b.sha || !b.buf || !EVP_DigestInit_ex(b.sha, EVP_sha256(), NULL))
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if(!rc && full_object_crc(m))
    vs_cksum_init(&b.ck, full_object_crc(m));
  if(!rc)
    rc = vs_store_begin(s, bucket, key, &u, err);
  for(i = 0; !rc && i < n; i++) {
    rc = copy_part(s, u, updir, &parts[i], &b, err);
    b.total += parts[i].info.bytes;
  }
  if(!rc)
    rc = commit_object(s, u, m, parts, n, &b, c, info, err);
  else if(u)
    vs_store_abort(s, u);
  vs_cksum_release(&b.ck);
  EVP_MD_CTX_free(b.sha);
  free(b.buf);
  return rc;
}

/* The refusal the commit would make, before gigabytes are copied to be
 * refused. publish decides again under the key's lock (store_fs.c), so a
 * race with another commit only moves the refusal there. */
static int precheck(vs_store *s, const char *bucket, const char *key,
                    const vs_commit *c, vs_err *err)
{
  vs_object_info *cur;
  int rc, live;
  if(!c || !(c->if_none_match || c->if_match ||
             c->policy == VS_ON_EXISTING_REJECT))
    return VS_OK;
  if(!(cur = malloc(sizeof(*cur))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  rc = vs_store_stat(s, bucket, key, NULL, cur, NULL);
  live = !rc && !cur->delete_marker; /* a marker: the key holds nothing */
  if(rc && rc != VS_ERR_NOTFOUND)
    rc = VS_OK; /* publish will say */
  else if(live && (c->if_none_match || c->policy == VS_ON_EXISTING_REJECT))
    rc = vs_fail(err, VS_ERR_EXISTS, "the key already holds an object "
                 "(version %s)", cur->version_id);
  else if(c->if_match && !live)
    rc = vs_fail(err, VS_ERR_NOTFOUND, "If-Match: the key holds no object");
  else if(c->if_match && strcmp(c->if_match, "*") &&
          strcmp(c->if_match, cur->etag))
    rc = vs_fail(err, VS_ERR_EXISTS, "If-Match: the current ETag is \"%s\"",
                 cur->etag);
  else
    rc = VS_OK;
  free(cur);
  return rc;
}

int vs__fs_mpu_complete(vs_store *base, const char *bucket, const char *key,
                          const char *upload_id, const vs_part_ref *refs,
                          size_t n, const vs_commit *c, vs_object_info *info,
                          vs_mpu_fault *fault, vs_err *err)
{
  vs__fs_store *s = vs__mpu_store(base, 1, err);
  char updir[PATH_MAX];
  vs_mpu_fault scratch;
  vs__mpu_part *parts = NULL;
  vs_mpu *m = NULL;
  int lock = -1, rc;
  if(!fault)
    fault = &scratch;
  *fault = VS_MPU_OK;
  if(!s)
    return VS_ERR_INVALID;
  if(!refs || n < 1 || n > VS_PART_NUMBER_MAX)
    return vs_fail(err, VS_ERR_INVALID, "a complete lists 1 to %d parts, "
                   "not %zu", VS_PART_NUMBER_MAX, refs ? n : 0);
  rc = vs__mpu_dir(s, bucket, upload_id, updir, sizeof(updir), err);
  if(!rc && (!(m = malloc(sizeof(*m))) ||
             !(parts = calloc(n, sizeof(*parts)))))
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if(!rc)
    rc = vs__mpu_lock(updir, upload_id, bucket, key, m, &lock, err);
  if(!rc) {
    /* the parts cannot change until the object is committed */
    rc = check_refs(updir, refs, n, parts, fault, err);
    if(!rc)
      rc = precheck(base, bucket, key, c, err);
    if(!rc)
      rc = build_object(base, bucket, key, updir, m, parts, n, c, info, err);
    close(lock);
  }
  free(parts);
  free(m);
  return rc;
}

/* ---- GetObject ?partNumber ---------------------------------------------- */

static int range_of(vs__fs_store *s, const char *bucket, const char *key,
                    const vs_object_info *info, unsigned n, uint64_t *off,
                    uint64_t *len, vs_err *err)
{
  char keydir[PATH_MAX], path[PATH_MAX], *text = NULL;
  size_t tlen;
  int rc;
  if(!info->parts_count) { /* stored whole: one part */
    if(n != 1)
      return vs_fail(err, VS_ERR_NOTFOUND, "the object has one part");
    *off = 0;
    *len = info->bytes;
    return VS_OK;
  }
  rc = vs__fs_key_dir(s, bucket, key, keydir, sizeof(keydir), err);
  if(!rc)
    rc = vs__fs_path(path, sizeof(path), err, "%s/@%s.json", keydir,
                     info->version_id);
  if(!rc)
    rc = vs_read_file(path, 1 << 20, &text, &tlen, err);
  if(rc)
    return rc;
  rc = vs__fs_meta_part(text, tlen, n, off, len)
         ? vs_fail(err, VS_ERR_NOTFOUND, "the object has %u parts",
                   info->parts_count)
         : VS_OK;
  free(text);
  return rc;
}

int vs__fs_part_range(vs_store *base, const char *bucket, const char *key,
                        const char *version_id, unsigned n, uint64_t *off,
                        uint64_t *len, vs_err *err)
{
  vs__fs_store *s = vs__mpu_store(base, 0, err);
  vs_object_info *info;
  int rc;
  if(!s)
    return VS_ERR_INVALID;
  if(n < 1 || n > VS_PART_NUMBER_MAX)
    return vs_fail(err, VS_ERR_NOTFOUND, "no part %u", n);
  if(!(info = malloc(sizeof(*info))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  rc = vs_store_stat(base, bucket, key, version_id, info, err);
  if(!rc)
    rc = range_of(s, bucket, key, info, n, off, len, err);
  free(info);
  return rc;
}

/* ---- UploadPartCopy ----------------------------------------------------- */

typedef struct part_src {
  int fd;
  uint64_t off, len;
  EVP_MD_CTX *md5;
  vs_cksum ck;
} part_src;

/* Reads the range, hashing it, and writes it to u unless u is NULL. */
static int read_range(vs_store *s, part_src *src, vs_upload *u, vs_err *err)
{
  unsigned char *buf = malloc(COPY_BUF);
  uint64_t at = src->off, end = src->off + src->len;
  int rc = buf ? VS_OK : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  while(!rc && at < end) {
    ssize_t got = pread(src->fd, buf, end - at < COPY_BUF ? end - at
                                                          : COPY_BUF,
                        (off_t)at);
    if(got < 0 && errno == EINTR)
      continue;
    if(got <= 0) {
      rc = got ? vs_fail_errno(err, errno, "read the copy source")
               : vs_fail(err, VS_ERR_IO, "the copy source ended early");
      break;
    }
    EVP_DigestUpdate(src->md5, buf, (size_t)got);
    vs_cksum_update(&src->ck, buf, (size_t)got);
    if(u)
      rc = vs_store_write(s, u, buf, (size_t)got, err);
    at += (uint64_t)got;
  }
  free(buf);
  return rc;
}

/* The whole version becomes the part's file by a hard link (a version is
 * never modified): 0; 1 when it cannot (too many links...) and the caller
 * is to copy into the file, made anew; -1 when that fails too. */
static int link_whole(vs__fs_store *s, const char *bucket, const char *key,
                      const char *vid, vs_upload *u)
{
  char keydir[PATH_MAX], path[PATH_MAX];
  int fd;
  if(vs__fs_key_dir(s, bucket, key, keydir, sizeof(keydir), NULL) ||
     vs__fs_path(path, sizeof(path), NULL, "%s/@%s", keydir, vid) ||
     unlink(u->part))
    return 1;
  if(link(path, u->part) ||
     (fd = open(u->part, O_RDONLY | O_CLOEXEC)) < 0) {
    unlink(u->part);
    fd = open(u->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if(fd < 0)
      return -1;
    close(u->fd);
    u->fd = fd;
    return 1;
  }
  close(u->fd);
  u->fd = fd;
  return 0;
}

static int copy_into(vs_store *base, vs_upload *u, const vs_object_info *src,
                     const char *sb, const char *sk, const vs_mpu *m,
                     part_src *ps, vs_part_info *p, vs_err *err)
{
  vs_cksum_alg alg = vs_cksum_parse(m->checksum_alg);
  int same_ck = alg && !strcmp(src->checksum_alg, m->checksum_alg);
  int whole = ps->off == 0 && ps->len == src->bytes, rc = VS_OK;
  unsigned char dig[16];
  uint8_t ck[VS_CKSUM_MAX];
  unsigned len = 0;
  size_t cklen;
  int linked = whole ? link_whole(u->s, sb, sk, src->version_id, u) : 1;
  if(linked < 0)
    return vs_fail_errno(err, errno, "recreate %s", u->part);
  if(alg && !(whole && same_ck))
    vs_cksum_init(&ps->ck, alg);
  if(!linked) {
    u->written = u->wb_started = src->bytes;
    if(!src->md5[0] || ps->ck.alg)
      rc = read_range(base, ps, NULL, err);
  } else {
    rc = read_range(base, ps, u, err);
  }
  if(rc)
    return rc;
  p->bytes = ps->len;
  if(whole && src->md5[0])
    snprintf(p->md5, sizeof(p->md5), "%s", src->md5);
  else if(EVP_DigestFinal_ex(ps->md5, dig, &len))
    vs_hex(dig, 16, p->md5);
  if(same_ck && whole) {
    snprintf(p->checksum_alg, sizeof(p->checksum_alg), "%s", m->checksum_alg);
    snprintf(p->checksum, sizeof(p->checksum), "%s", src->checksum);
  } else if((cklen = vs_cksum_final(&ps->ck, ck))) {
    snprintf(p->checksum_alg, sizeof(p->checksum_alg), "%s", m->checksum_alg);
    vs_b64(ck, cklen, p->checksum);
  }
  return VS_OK;
}

int vs__fs_part_copy(vs_store *base, const char *bucket, const char *key,
                       const char *upload_id, unsigned number,
                       const char *src_bucket, const char *src_key,
                       const char *src_vid, uint64_t off, uint64_t len,
                       vs_part_info *p, vs_err *err)
{
  vs__fs_store *s = vs__mpu_store(base, 1, err);
  vs_object_info *src = malloc(sizeof(*src));
  vs_mpu *m = malloc(sizeof(*m));
  part_src ps = {-1, off, len, EVP_MD_CTX_new(), {0}};
  vs_upload *u = NULL;
  int rc = !s ? VS_ERR_INVALID : VS_OK;
  if(!rc && (!src || !m || !ps.md5 ||
             !EVP_DigestInit_ex(ps.md5, EVP_md5(), NULL)))
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if(!rc && (!src_vid || !*src_vid))
    rc = vs_fail(err, VS_ERR_INVALID, "a copy names its source version");
  if(!rc)
    rc = vs__fs_mpu_get(base, bucket, key, upload_id, m, err);
  if(!rc)
    rc = vs_store_open(base, src_bucket, src_key, src_vid, &ps.fd, src, err);
  if(!rc && (off > src->bytes || len > src->bytes - off))
    rc = vs_fail(err, VS_ERR_INVALID, "bytes %" PRIu64 "+%" PRIu64 " are "
                 "not in the %" PRIu64 " bytes of the source", off, len,
                 src->bytes);
  if(!rc)
    rc = vs__fs_part_begin(base, bucket, key, upload_id, number, &u, err);
  if(!rc) {
    memset(p, 0, sizeof(*p));
    rc = copy_into(base, u, src, src_bucket, src_key, m, &ps, p, err);
    if(rc)
      vs_store_abort(base, u);
    else
      rc = vs__fs_part_commit(u, p, err);
  }
  if(ps.fd >= 0)
    close(ps.fd);
  vs_cksum_release(&ps.ck);
  EVP_MD_CTX_free(ps.md5);
  free(src);
  free(m);
  return rc;
}
