/* Multipart uploads in the filesystem store: their folders and parts.
 *
 *   DIR/.multipart/<bucket>/<uploadId>/     one upload in progress
 *        upload.json          bucket, key, creation, content type,
 *                             checksum algorithm and type, headers
 *        00007.<16 hex>       the bytes of an upload of part 7
 *        00007.json           which of them part 7 is: file, bytes, md5,
 *                             checksum, mtime (replaced by rename)
 *   DIR/.multipart/<bucket>/.gone-<uploadId>/   an aborted upload whose
 *                             files are being removed
 *
 * Upload ids are 12 hex digits of the creation time in ms and 20 random
 * ones, so they sort by creation; an id from a client is used in a path
 * only once it is exactly 32 lower-case hex digits. Every change to an
 * upload's parts happens under a flock() of its upload.json, taken by a
 * fresh open(), so threads of this process exclude each other per upload
 * and no lock table is needed; after the lock is taken the file is checked
 * to be still where it was opened, since an abort moves the folder.
 * Complete is in store_fs_mpu_complete.c. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/enc.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "store_fs_int.h"
#include "store_fs_mpu.h"
#include "vsink/store.h"

#define UPLOAD_JSON "upload.json"
#define JSON_MAX (64 << 10) /* headers: 8 KiB, escaped */

static int hex_n(const char *s, size_t n)
{
  size_t i;
  for(i = 0; i < n; i++)
    if(!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return 1;
}

int vs__mpu_id_valid(const char *id)
{
  return id && hex_n(id, VS_UPLOAD_ID_LEN) && !id[VS_UPLOAD_ID_LEN];
}

/* "00007.json" */
static int is_part_json(const char *name, unsigned *number)
{
  unsigned v = 0;
  int i;
  for(i = 0; i < 5; i++) {
    if(name[i] < '0' || name[i] > '9')
      return 0;
    v = v * 10 + (unsigned)(name[i] - '0');
  }
  if(strcmp(name + 5, ".json") || v < 1 || v > VS_PART_NUMBER_MAX)
    return 0;
  *number = v;
  return 1;
}

vs__fs_store *vs__mpu_store(vs_store *base, int write, vs_err *err)
{
  vs__fs_store *s = (vs__fs_store *)base;
  if(!base || base->ops != &vs__fs_ops) {
    vs_fail(err, VS_ERR_INVALID, "only the filesystem store has multipart "
            "uploads");
    return NULL;
  }
  if(write && s->read_only) {
    vs_fail(err, VS_ERR_INVALID, "data directory %s is open read-only",
            s->dir);
    return NULL;
  }
  return s;
}

/* DIR/.multipart/<bucket>/<id>; a malformed id is no such upload. */
int vs__mpu_dir(const vs__fs_store *s, const char *bucket, const char *id,
                char *out, size_t cap, vs_err *err)
{
  int rc = vs_store_check_bucket(bucket, err);
  if(rc)
    return rc;
  if(!vs__mpu_id_valid(id))
    return vs_fail(err, VS_ERR_NOTFOUND, "no such upload (not an upload "
                   "id of this store)");
  return vs__fs_path(out, cap, err, "%s/%s/%s", s->multipart, bucket, id);
}

/* A small file written whole: dir/name.<random>.tmp, fsync, rename over
 * dir/name. The caller fsyncs dir. */
int vs__mpu_write_file(const char *dir, const char *name, const vs_buf *b,
                       vs_err *err)
{
  unsigned char rnd[8];
  char hex[17], tmp[PATH_MAX], path[PATH_MAX];
  int fd, rc = vs_random(rnd, sizeof(rnd), err);
  if(rc)
    return rc;
  if(b->failed)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  vs_hex(rnd, sizeof(rnd), hex);
  rc = vs__fs_path(tmp, sizeof(tmp), err, "%s/%s.%s.tmp", dir, name, hex);
  if(!rc)
    rc = vs__fs_path(path, sizeof(path), err, "%s/%s", dir, name);
  if(rc)
    return rc;
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if(fd < 0)
    return errno == ENOENT ? vs_fail(err, VS_ERR_NOTFOUND, "no such upload")
                           : vs_fail_errno(err, errno, "create %s", tmp);
  rc = vs_write_all(fd, b->data, b->len, err);
  if(rc && err)
    vs_fail_errno(err, err->sys_errno, "write %s", tmp);
  if(!rc && fsync(fd))
    rc = vs_fail_errno(err, errno, "fsync %s", tmp);
  if(close(fd) && !rc)
    rc = vs_fail_errno(err, errno, "close %s", tmp);
  if(!rc && rename(tmp, path))
    rc = errno == ENOENT ? vs_fail(err, VS_ERR_NOTFOUND, "no such upload")
                         : vs_fail_errno(err, errno, "rename %s", tmp);
  if(rc)
    unlink(tmp);
  return rc;
}

/* ---- upload.json -------------------------------------------------------- */

static void json_member(vs_buf *b, const char *name, const char *value)
{
  vs_buf_addf(b, ",\"%s\":", name);
  vs_buf_add_json_str(b, value, strlen(value));
}

static void upload_json(vs_buf *b, const vs_mpu *m)
{
  vs_buf_addf(b, "{\"created\":%" PRId64, m->created_ms);
  json_member(b, "uploadId", m->upload_id);
  json_member(b, "bucket", m->bucket);
  json_member(b, "key", m->key);
  json_member(b, "contentType", m->content_type);
  json_member(b, "checksumAlgorithm", m->checksum_alg);
  json_member(b, "checksumType", m->checksum_type);
  json_member(b, "headers", m->headers);
  vs_buf_adds(b, "}\n");
}

static int json_str(cJSON *j, const char *name, char *out, size_t cap)
{
  cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
  if(!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
    return -1;
  strcpy(out, v->valuestring);
  return 0;
}

static int upload_parse(const char *text, size_t len, vs_mpu *m)
{
  cJSON *j = vs_json_parse(text, len);
  int bad = !j ||
            vs_json_int64(cJSON_GetObjectItemCaseSensitive(j, "created"),
                          0, INT64_MAX, &m->created_ms) ||
            json_str(j, "uploadId", m->upload_id, sizeof(m->upload_id)) ||
            json_str(j, "bucket", m->bucket, sizeof(m->bucket)) ||
            json_str(j, "key", m->key, sizeof(m->key)) ||
            json_str(j, "contentType", m->content_type,
                     sizeof(m->content_type)) ||
            json_str(j, "checksumAlgorithm", m->checksum_alg,
                     sizeof(m->checksum_alg)) ||
            json_str(j, "checksumType", m->checksum_type,
                     sizeof(m->checksum_type)) ||
            json_str(j, "headers", m->headers, sizeof(m->headers));
  cJSON_Delete(j);
  return bad ? -1 : 0;
}

/* The upload in updir, which must be id's upload of bucket/key (key NULL:
 * any key): else VS_ERR_NOTFOUND. */
static int upload_read(const char *updir, const char *id, const char *bucket,
                       const char *key, vs_mpu *m, vs_err *err)
{
  char path[PATH_MAX], *text = NULL;
  size_t len;
  int rc = vs__fs_path(path, sizeof(path), err, "%s/" UPLOAD_JSON, updir);
  if(!rc)
    rc = vs_read_file(path, JSON_MAX, &text, &len, err);
  if(rc == VS_ERR_NOTFOUND || (rc == VS_ERR_IO && err &&
                               err->sys_errno == ENOTDIR))
    return vs_fail(err, VS_ERR_NOTFOUND, "no such upload");
  if(rc)
    return rc;
  rc = upload_parse(text, len, m);
  free(text);
  if(rc)
    return vs_fail(err, VS_ERR_IO, "%s is corrupt", path);
  if(strcmp(m->upload_id, id) || strcmp(m->bucket, bucket) ||
     (key && strcmp(m->key, key)))
    return vs_fail(err, VS_ERR_NOTFOUND, "no such upload for %s/%s",
                   bucket, key ? key : "");
  return VS_OK;
}

int vs__mpu_lock(const char *updir, const char *id, const char *bucket,
                 const char *key, vs_mpu *m, int *lock_fd, vs_err *err)
{
  char path[PATH_MAX];
  struct stat a, b;
  int fd, rc = vs__fs_path(path, sizeof(path), err, "%s/" UPLOAD_JSON,
                           updir);
  if(rc)
    return rc;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if(fd < 0)
    return errno == ENOENT || errno == ENOTDIR
             ? vs_fail(err, VS_ERR_NOTFOUND, "no such upload")
             : vs_fail_errno(err, errno, "open %s", path);
  while(flock(fd, LOCK_EX) && errno == EINTR)
    ;
  /* an abort may have moved the folder while we waited */
  if(fstat(fd, &a) || stat(path, &b) || a.st_ino != b.st_ino ||
     a.st_dev != b.st_dev)
    rc = vs_fail(err, VS_ERR_NOTFOUND, "no such upload");
  if(!rc)
    rc = upload_read(updir, id, bucket, key, m, err);
  if(rc) {
    close(fd);
    return rc;
  }
  *lock_fd = fd;
  return VS_OK;
}

/* ---- create, get -------------------------------------------------------- */

static int check_mpu(vs__fs_store *s, const vs_mpu *m, vs_err *err)
{
  char keydir[PATH_MAX];
  const char *p;
  int rc = vs__fs_key_dir(s, m->bucket, m->key, keydir, sizeof(keydir), err);
  if(rc)
    return rc;
  if(!memchr(m->content_type, 0, sizeof(m->content_type)) ||
     !memchr(m->checksum_alg, 0, sizeof(m->checksum_alg)) ||
     !memchr(m->checksum_type, 0, sizeof(m->checksum_type)) ||
     !memchr(m->headers, 0, sizeof(m->headers)))
    return vs_fail(err, VS_ERR_INVALID, "unterminated upload field");
  for(p = m->content_type; *p; p++)
    if(((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
      return vs_fail(err, VS_ERR_INVALID, "content type has a control "
                     "byte");
  for(p = m->checksum_alg; *p; p++)
    if(!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
      return vs_fail(err, VS_ERR_INVALID, "bad checksum algorithm");
  if(m->checksum_type[0] && strcmp(m->checksum_type, "COMPOSITE") &&
     strcmp(m->checksum_type, "FULL_OBJECT"))
    return vs_fail(err, VS_ERR_INVALID, "bad checksum type '%s'",
                   m->checksum_type);
  if(!vs__fs_headers_ok(m->headers))
    return vs_fail(err, VS_ERR_INVALID, "malformed or oversized headers");
  return VS_OK;
}

/* A new id (creation ms, then random) and its folder, made. */
static int make_upload_dir(vs__fs_store *s, vs_mpu *m, char *updir,
                           size_t cap, vs_err *err)
{
  unsigned char rnd[10];
  char bdir[PATH_MAX];
  int tries, rc = vs__fs_path(bdir, sizeof(bdir), err, "%s/%s",
                              s->multipart, m->bucket);
  if(!rc)
    rc = vs_mkdirs(bdir, 0755, err);
  for(tries = 0; !rc && tries < 4; tries++) {
    rc = vs_random(rnd, sizeof(rnd), err);
    if(rc)
      break;
    snprintf(m->upload_id, sizeof(m->upload_id), "%012" PRIx64,
             (uint64_t)m->created_ms & UINT64_C(0xffffffffffff));
    vs_hex(rnd, sizeof(rnd), m->upload_id + 12);
    rc = vs__fs_path(updir, cap, err, "%s/%s", bdir, m->upload_id);
    if(!rc && !mkdir(updir, 0755))
      return VS_OK;
    if(!rc && errno != EEXIST)
      rc = vs_fail_errno(err, errno, "mkdir %s", updir);
  }
  return rc ? rc : vs_fail(err, VS_ERR_IO, "no free upload id");
}

int vs__fs_mpu_create(vs_store *base, vs_mpu *m, vs_err *err)
{
  vs__fs_store *s = vs__mpu_store(base, 1, err);
  char updir[PATH_MAX], bdir[PATH_MAX];
  vs_buf b = VS_BUF_INIT;
  int rc;
  if(!s)
    return VS_ERR_INVALID;
  rc = check_mpu(s, m, err);
  if(rc)
    return rc;
  m->created_ms = vs_now_ms(s->now, s->now_ctx);
  if(m->created_ms < 0)
    m->created_ms = 0;
  rc = make_upload_dir(s, m, updir, sizeof(updir), err);
  if(rc)
    return rc;
  upload_json(&b, m);
  rc = vs__mpu_write_file(updir, UPLOAD_JSON, &b, err);
  vs_buf_free(&b);
  /* the folder and its description durable: the upload exists */
  if(!rc)
    rc = vs_fsync_dir(updir, err);
  if(!rc) {
    vs_dirname(updir, bdir, sizeof(bdir));
    rc = vs_fsync_dir(bdir, err);
  }
  if(rc) {
    vs__mpu_remove_tree(updir);
    m->upload_id[0] = 0;
  }
  return rc;
}

int vs__fs_mpu_get(vs_store *base, const char *bucket, const char *key,
                     const char *upload_id, vs_mpu *m, vs_err *err)
{
  vs__fs_store *s = vs__mpu_store(base, 0, err);
  char updir[PATH_MAX];
  int rc;
  if(!s)
    return VS_ERR_INVALID;
  rc = vs__mpu_dir(s, bucket, upload_id, updir, sizeof(updir), err);
  if(!rc) /* key NULL: of any key (store_fs_mpu_end.c lists so) */
    rc = upload_read(updir, upload_id, bucket, key, m, err);
  return rc;
}

/* ---- parts -------------------------------------------------------------- */

int vs__fs_part_begin(vs_store *base, const char *bucket, const char *key,
                        const char *upload_id, unsigned number,
                        vs_upload **out, vs_err *err)
{
  vs__fs_store *s = vs__mpu_store(base, 1, err);
  unsigned char rnd[8];
  char hex[17], updir[PATH_MAX], part[PATH_MAX];
  vs_mpu *m;
  vs_upload *u = NULL;
  int rc;
  if(!s)
    return VS_ERR_INVALID;
  if(number < 1 || number > VS_PART_NUMBER_MAX)
    return vs_fail(err, VS_ERR_INVALID, "part number %u is not in 1..%d",
                   number, VS_PART_NUMBER_MAX);
  m = malloc(sizeof(*m));
  rc = !m ? vs_fail(err, VS_ERR_NOMEM, "out of memory") : VS_OK;
  if(!rc)
    rc = vs__mpu_dir(s, bucket, upload_id, updir, sizeof(updir), err);
  if(!rc)
    rc = upload_read(updir, upload_id, bucket, key ? key : "", m, err);
  if(!rc)
    rc = vs_random(rnd, sizeof(rnd), err);
  if(!rc) {
    vs_hex(rnd, sizeof(rnd), hex);
    rc = vs__fs_path(part, sizeof(part), err, "%s/%05u.%s", updir, number,
                     hex);
  }
  free(m);
  if(!rc && !(u = vs__fs_upload_new(s, bucket, key, NULL, part, updir)))
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if(!rc) {
    u->part_number = number;
    snprintf(u->upload_id, sizeof(u->upload_id), "%s", upload_id);
    u->fd = open(u->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if(u->fd < 0)
      rc = errno == ENOENT ? vs_fail(err, VS_ERR_NOTFOUND, "no such upload")
                           : vs_fail_errno(err, errno, "create %s", u->part);
  }
  if(rc) {
    free(u);
    return rc;
  }
  *out = u;
  return VS_OK;
}

static void part_json(vs_buf *b, const char *file, const vs_part_info *p)
{
  vs_buf_adds(b, "{\"file\":");
  vs_buf_add_json_str(b, file, strlen(file));
  vs_buf_addf(b, ",\"bytes\":%" PRIu64 ",\"md5\":\"%s\"", p->bytes, p->md5);
  if(p->checksum_alg[0] && p->checksum[0]) {
    vs_buf_adds(b, ",\"checksum\":{");
    vs_buf_add_json_str(b, p->checksum_alg, strlen(p->checksum_alg));
    vs_buf_adds(b, ":");
    vs_buf_add_json_str(b, p->checksum, strlen(p->checksum));
    vs_buf_adds(b, "}");
  }
  vs_buf_addf(b, ",\"mtime\":%" PRId64 "}\n", p->mtime_ms);
}

static int part_parse(const char *text, size_t len, vs__mpu_part *r)
{
  cJSON *j = vs_json_parse(text, len), *ck;
  int64_t bytes = 0;
  int bad = !j ||
            json_str(j, "file", r->file, sizeof(r->file)) ||
            strchr(r->file, '/') || r->file[0] == '.' ||
            vs_json_int64(cJSON_GetObjectItemCaseSensitive(j, "bytes"), 0,
                          INT64_MAX, &bytes) ||
            json_str(j, "md5", r->info.md5, sizeof(r->info.md5)) ||
            vs_json_int64(cJSON_GetObjectItemCaseSensitive(j, "mtime"),
                          INT64_MIN, INT64_MAX, &r->info.mtime_ms);
  r->info.bytes = (uint64_t)bytes;
  ck = bad ? NULL : cJSON_GetObjectItemCaseSensitive(j, "checksum");
  if(ck) {
    bad = !cJSON_IsObject(ck) || !ck->child || !ck->child->string ||
          strlen(ck->child->string) >= sizeof(r->info.checksum_alg) ||
          json_str(ck, ck->child->string, r->info.checksum,
                   sizeof(r->info.checksum));
    if(!bad)
      strcpy(r->info.checksum_alg, ck->child->string);
  }
  cJSON_Delete(j);
  return bad ? -1 : 0;
}

int vs__mpu_part_read(const char *updir, unsigned number, vs__mpu_part *r,
                      vs_err *err)
{
  char path[PATH_MAX], *text = NULL;
  size_t len;
  int rc = vs__fs_path(path, sizeof(path), err, "%s/%05u.json", updir,
                       number);
  memset(r, 0, sizeof(*r));
  if(!rc)
    rc = vs_read_file(path, JSON_MAX, &text, &len, err);
  if(rc == VS_ERR_NOTFOUND)
    return vs_fail(err, rc, "no part %u", number);
  if(rc)
    return rc;
  rc = part_parse(text, len, r);
  free(text);
  if(rc)
    return vs_fail(err, VS_ERR_IO, "%s is corrupt", path);
  r->info.number = number;
  return VS_OK;
}

static int check_part(const vs_upload *u, vs_part_info *p, vs_err *err)
{
  size_t i;
  if(!u->part_number)
    return vs_fail(err, VS_ERR_INVALID, "not an upload of a part");
  if(p->bytes != u->written)
    return vs_fail(err, VS_ERR_INVALID, "part commit says %" PRIu64
                   " bytes but %" PRIu64 " were written", p->bytes,
                   u->written);
  if(!memchr(p->md5, 0, sizeof(p->md5)) || strlen(p->md5) != 32)
    return vs_fail(err, VS_ERR_INVALID, "md5 must be 32 hex digits");
  for(i = 0; i < 32; i++) {
    char c = p->md5[i];
    if(c >= 'A' && c <= 'F')
      p->md5[i] = (char)(c + 32);
  }
  if(!hex_n(p->md5, 32))
    return vs_fail(err, VS_ERR_INVALID, "md5 must be 32 hex digits");
  if(!memchr(p->checksum_alg, 0, sizeof(p->checksum_alg)) ||
     !memchr(p->checksum, 0, sizeof(p->checksum)))
    return vs_fail(err, VS_ERR_INVALID, "unterminated checksum");
  return VS_OK;
}

/* Under the upload's lock: the part's json names u's file, durably; the
 * file an earlier upload of that number had is removed after. *placed once
 * the json names it (the file must stay then, whatever fails after). */
static int part_place(vs_upload *u, const vs_part_info *p, int *placed,
                      vs_err *err)
{
  vs__mpu_part old;
  char name[16], path[PATH_MAX];
  const char *file = strrchr(u->part, '/') + 1;
  vs_buf b = VS_BUF_INIT;
  int had = !vs__mpu_part_read(u->updir, u->part_number, &old, NULL), rc;
  part_json(&b, file, p);
  snprintf(name, sizeof(name), "%05u.json", u->part_number);
  rc = vs__mpu_write_file(u->updir, name, &b, err);
  vs_buf_free(&b);
  *placed = !rc;
  if(!rc)
    rc = vs_fsync_dir(u->updir, err);
  if(!rc && had && strcmp(old.file, file) &&
     !vs__fs_path(path, sizeof(path), NULL, "%s/%s", u->updir, old.file))
    unlink(path); /* lost by a crash: the next open removes it */
  return rc;
}

int vs__fs_part_commit(vs_upload *u, vs_part_info *p, vs_err *err)
{
  vs_mpu *m = malloc(sizeof(*m));
  int lock = -1, placed = 0, rc = m ? check_part(u, p, err)
                        : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if(!rc && u->wb_errno)
    rc = vs_fail_errno(err, u->wb_errno, "write-back of %s", u->part);
  if(!rc && fsync(u->fd))
    rc = vs_fail_errno(err, errno, "fsync %s", u->part);
  if(u->fd >= 0 && close(u->fd) && !rc)
    rc = vs_fail_errno(err, errno, "close %s", u->part);
  u->fd = -1;
  if(!rc)
    rc = vs__mpu_lock(u->updir, u->upload_id, u->bucket, u->key, m, &lock,
                      err);
  if(!rc) {
    p->number = u->part_number;
    p->mtime_ms = vs_now_ms(u->s->now, u->s->now_ctx);
    rc = part_place(u, p, &placed, err);
    close(lock);
  }
  if(rc && !placed)
    unlink(u->part);
  free(m);
  free(u);
  return rc;
}

static int cmp_part(const void *a, const void *b)
{
  unsigned x = ((const vs_part_info *)a)->number;
  unsigned y = ((const vs_part_info *)b)->number;
  return x < y ? -1 : x > y;
}

static int collect_parts(DIR *d, const char *updir, vs_part_info **parts,
                         size_t *n, vs_err *err)
{
  struct dirent *e;
  size_t cap = 0;
  unsigned number;
  vs__mpu_part r;
  int rc;
  while((e = readdir(d))) {
    if(!is_part_json(e->d_name, &number))
      continue;
    rc = vs__mpu_part_read(updir, number, &r, err);
    if(rc == VS_ERR_NOTFOUND)
      continue; /* replaced or aborted meanwhile */
    if(rc)
      return rc;
    if(*n == cap) {
      vs_part_info *g = realloc(*parts, (cap ? cap * 2 : 16) * sizeof(*g));
      if(!g)
        return vs_fail(err, VS_ERR_NOMEM, "out of memory listing parts");
      *parts = g;
      cap = cap ? cap * 2 : 16;
    }
    (*parts)[(*n)++] = r.info;
  }
  return VS_OK;
}

int vs__fs_mpu_parts(vs_store *base, const char *bucket, const char *key,
                       const char *upload_id, vs_part_info **parts,
                       size_t *n, vs_err *err)
{
  vs__fs_store *s = vs__mpu_store(base, 0, err);
  char updir[PATH_MAX];
  vs_mpu *m = malloc(sizeof(*m));
  DIR *d = NULL;
  int rc;
  *parts = NULL;
  *n = 0;
  rc = !s ? VS_ERR_INVALID
       : !m ? vs_fail(err, VS_ERR_NOMEM, "out of memory")
            : vs__mpu_dir(s, bucket, upload_id, updir, sizeof(updir), err);
  if(!rc)
    rc = upload_read(updir, upload_id, bucket, key ? key : "", m, err);
  free(m);
  if(!rc && !(d = opendir(updir)))
    rc = errno == ENOENT ? vs_fail(err, VS_ERR_NOTFOUND, "no such upload")
                         : vs_fail_errno(err, errno, "open %s", updir);
  if(!rc) {
    rc = collect_parts(d, updir, parts, n, err);
    closedir(d);
  }
  if(rc) {
    free(*parts);
    *parts = NULL;
    *n = 0;
  } else if(*n) {
    qsort(*parts, *n, sizeof(**parts), cmp_part);
  }
  return rc;
}
