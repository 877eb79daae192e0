/* A version's metadata, DIR/buckets/.../@<vid>.json: its size, digests,
 * ETag, content type, checksum, kept headers, and whether it is a delete
 * marker, as one JSON object. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/fs.h"
#include "util/json.h"
#include "store_fs_int.h"
#include "vsink/store.h"

/* Headers: 8 KiB, up to 6 times that escaped; a multipart object's part
 * sizes: up to 10,000 runs of ~16 bytes. As store_fs_list.c reads it. */
#define META_MAX (1 << 20)

/* ,"headers":{"name":"value",...} from the "name:value\n" lines */
static void meta_json_headers(vs_buf *b, const char *h)
{
  const char *sep = ",\"headers\":{";
  while(*h) {
    const char *colon = strchr(h, ':'), *nl = strchr(h, '\n');
    if(!colon || !nl || colon > nl)
      break; /* not the form: the commit's check keeps it from here */
    vs_buf_adds(b, sep);
    vs_buf_add_json_str(b, h, (size_t)(colon - h));
    vs_buf_adds(b, ":");
    vs_buf_add_json_str(b, colon + 1, (size_t)(nl - colon - 1));
    sep = ",";
    h = nl + 1;
  }
  if(sep[0] == ',' && sep[1] == 0)
    vs_buf_adds(b, "}");
}

static int meta_json(vs_buf *b, const vs_object_info *i, const char *extra)
{
  vs_buf_addf(b, "{\"bytes\":%" PRIu64 ",\"sha256\":\"%s\",\"md5\":\"%s\","
              "\"etag\":\"%s\",\"contentType\":", i->bytes, i->sha256,
              i->md5, i->etag);
  vs_buf_add_json_str(b, i->content_type, strlen(i->content_type));
  if(i->checksum_alg[0] && i->checksum[0]) {
    vs_buf_adds(b, ",\"checksum\":{");
    vs_buf_add_json_str(b, i->checksum_alg, strlen(i->checksum_alg));
    vs_buf_adds(b, ":");
    vs_buf_add_json_str(b, i->checksum, strlen(i->checksum));
    vs_buf_adds(b, "}");
  }
  meta_json_headers(b, i->headers);
  if(i->delete_marker)
    vs_buf_adds(b, ",\"deleteMarker\":true");
  if(extra)
    vs_buf_adds(b, extra);
  return vs_buf_addf(b, ",\"mtime\":%" PRId64 ",\"versionId\":\"%s\"}\n",
                     i->mtime_ms, i->version_id);
}

/* The metadata of a version, durable, in a temporary file. */
int vs__fs_meta_write_tmp(vs__fs_store *s, const vs_object_info *info,
                          const char *extra, char *tmp, size_t cap,
                          vs_err *err)
{
  vs_buf b = VS_BUF_INIT;
  int fd, rc;
  if(meta_json(&b, info, extra)) {
    vs_buf_free(&b);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory writing metadata");
  }
  rc = vs__fs_tmp_create(s, ".json", tmp, cap, &fd, err);
  if(!rc) {
    rc = vs_write_all(fd, b.data, b.len, err);
    if(rc && err)
      vs_fail_errno(err, err->sys_errno, "write %s", tmp);
    if(!rc && fsync(fd))
      rc = vs_fail_errno(err, errno, "fsync %s", tmp);
    if(close(fd) && !rc)
      rc = vs_fail_errno(err, errno, "close %s", tmp);
    if(rc)
      unlink(tmp);
  }
  vs_buf_free(&b);
  return rc;
}

static int meta_str(cJSON *j, const char *name, char *out, size_t cap,
                    size_t exact)
{
  cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
  size_t n;
  if(!cJSON_IsString(v))
    return -1;
  n = strlen(v->valuestring);
  if(n >= cap || (exact && n != exact && !(exact == 32 && n == 0)))
    return -1;
  memcpy(out, v->valuestring, n + 1);
  return 0;
}

/* A stored header's name (lower-case token) and value (no control byte
 * but tab): what the sink may send back as a header line. */
static int meta_header_ok(const char *name, const char *value)
{
  const unsigned char *p;
  if(!*name)
    return 0;
  for(p = (const unsigned char *)name; *p; p++)
    if(*p <= 0x20 || *p >= 0x7f || *p == ':' || (*p >= 'A' && *p <= 'Z'))
      return 0;
  for(p = (const unsigned char *)value; *p; p++)
    if((*p < 0x20 && *p != '\t') || *p == 0x7f)
      return 0;
  return 1;
}

static int meta_parse_headers(cJSON *h, char *out, size_t cap)
{
  cJSON *it;
  size_t used = 0;
  out[0] = 0;
  if(!h)
    return 0;
  if(!cJSON_IsObject(h))
    return -1;
  cJSON_ArrayForEach(it, h) {
    int n;
    if(!cJSON_IsString(it) || !it->string ||
       !meta_header_ok(it->string, it->valuestring))
      return -1;
    n = snprintf(out + used, cap - used, "%s:%s\n", it->string,
                 it->valuestring);
    if(n < 0 || (size_t)n >= cap - used)
      return -1;
    used += (size_t)n;
  }
  return 0;
}

/* "parts":[[size,count],...] of a multipart object: the runs of equal
 * part sizes, in order. Calls each(size, count, ctx) per run until it
 * returns nonzero; -1 when the member is malformed or does not add up to
 * bytes, else the number of parts (0 without the member). */
static long parts_walk(cJSON *j, uint64_t bytes,
                       int (*each)(uint64_t, unsigned, void *), void *ctx)
{
  cJSON *runs = cJSON_GetObjectItemCaseSensitive(j, "parts"), *r;
  uint64_t sum = 0, run;
  long parts = 0;
  int stop = 0;
  if(!runs)
    return 0;
  if(!cJSON_IsArray(runs))
    return -1;
  cJSON_ArrayForEach(r, runs) {
    int64_t size, count;
    if(cJSON_GetArraySize(r) != 2 ||
       vs_json_int64(cJSON_GetArrayItem(r, 0), 0, INT64_MAX, &size) ||
       vs_json_int64(cJSON_GetArrayItem(r, 1), 1, VS_PART_NUMBER_MAX,
                     &count) ||
       (parts += count) > VS_PART_NUMBER_MAX ||
       __builtin_mul_overflow((uint64_t)size, (uint64_t)count, &run) ||
       __builtin_add_overflow(sum, run, &sum))
      return -1;
    if(!stop && each)
      stop = each((uint64_t)size, (unsigned)count, ctx);
  }
  return parts && sum == bytes ? parts : -1;
}

int vs__store_fs_meta_parse(const char *text, size_t len, const char *vid,
                            vs_object_info *info)
{
  cJSON *j = vs_json_parse(text, len);
  int64_t bytes = 0, mtime = 0;
  int bad = !j;
  memset(info, 0, sizeof(*info));
  bad = bad ||
        vs_json_int64(cJSON_GetObjectItemCaseSensitive(j, "bytes"), 0,
                      INT64_MAX, &bytes) ||
        vs_json_int64(cJSON_GetObjectItemCaseSensitive(j, "mtime"),
                      INT64_MIN, INT64_MAX, &mtime) ||
        meta_str(j, "sha256", info->sha256, sizeof(info->sha256), 64) ||
        meta_str(j, "md5", info->md5, sizeof(info->md5), 32) ||
        meta_str(j, "etag", info->etag, sizeof(info->etag), 0) ||
        meta_str(j, "contentType", info->content_type,
                 sizeof(info->content_type), 0) ||
        meta_str(j, "versionId", info->version_id, sizeof(info->version_id),
                 0) ||
        strcmp(info->version_id, vid);
  if(!bad) { /* optional: metadata written before checksums has none */
    cJSON *ck = cJSON_GetObjectItemCaseSensitive(j, "checksum");
    if(ck)
      bad = !cJSON_IsObject(ck) || !ck->child || ck->child->next ||
            !ck->child->string ||
            strlen(ck->child->string) >= sizeof(info->checksum_alg) ||
            meta_str(ck, ck->child->string, info->checksum,
                     sizeof(info->checksum), 0);
    if(ck && !bad)
      strcpy(info->checksum_alg, ck->child->string);
  }
  if(!bad) /* optional too: metadata written before headers were kept */
    bad = meta_parse_headers(cJSON_GetObjectItemCaseSensitive(j, "headers"),
                             info->headers, sizeof(info->headers));
  if(!bad) /* optional: only delete markers say so (store_fs_delete.c) */
    info->delete_marker =
      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "deleteMarker"));
  if(!bad) { /* optional: only multipart objects have parts */
    long parts = parts_walk(j, (uint64_t)bytes, NULL, NULL);
    bad = parts < 0;
    info->parts_count = parts < 0 ? 0 : (unsigned)parts;
  }
  cJSON_Delete(j);
  info->bytes = (uint64_t)bytes;
  info->mtime_ms = mtime;
  return bad ? -1 : 0;
}

int vs__fs_read_meta(const char *keydir, const char *vid,
                     vs_object_info *info, vs_err *err)
{
  char path[PATH_MAX], *text = NULL;
  size_t len;
  int rc = vs__fs_path(path, sizeof(path), err, "%s/@%s.json", keydir, vid);
  if(rc)
    return rc;
  rc = vs_read_file(path, META_MAX, &text, &len, err);
  if(rc == VS_ERR_NOTFOUND)
    return vs_fail(err, rc, "no version %s", vid);
  if(rc == VS_ERR_TOOLARGE)
    return vs_fail(err, VS_ERR_IO, "metadata %s is too large", path);
  if(rc)
    return rc;
  rc = vs__store_fs_meta_parse(text, len, vid, info);
  free(text);
  if(rc)
    return vs_fail(err, VS_ERR_IO, "metadata %s is corrupt", path);
  return VS_OK;
}

char *vs__fs_meta_parts_json(const uint64_t *sizes, size_t n)
{
  vs_buf b = VS_BUF_INIT;
  size_t i = 0;
  vs_buf_adds(&b, ",\"parts\":[");
  while(i < n) {
    size_t k = i + 1;
    while(k < n && sizes[k] == sizes[i])
      k++;
    vs_buf_addf(&b, "%s[%" PRIu64 ",%zu]", i ? "," : "", sizes[i], k - i);
    i = k;
  }
  if(vs_buf_adds(&b, "]")) {
    vs_buf_free(&b);
    return NULL;
  }
  return vs_buf_steal(&b);
}

typedef struct part_seek {
  unsigned want, seen; /* part numbers, 1-based */
  uint64_t off, bytes;
  int found;
} part_seek;

static int seek_run(uint64_t size, unsigned count, void *ctx)
{
  part_seek *p = ctx;
  if(p->want - p->seen <= count) {
    p->off += size * (p->want - p->seen - 1);
    p->bytes = size;
    p->found = 1;
    return 1;
  }
  p->off += size * count;
  p->seen += count;
  return 0;
}

int vs__fs_meta_part(const char *text, size_t len, unsigned n,
                     uint64_t *off, uint64_t *bytes)
{
  cJSON *j = vs_json_parse(text, len);
  part_seek p = {n, 0, 0, 0, 0};
  int64_t total;
  long parts = -1;
  if(j && n >= 1 &&
     !vs_json_int64(cJSON_GetObjectItemCaseSensitive(j, "bytes"), 0,
                    INT64_MAX, &total))
    parts = parts_walk(j, (uint64_t)total, seek_run, &p);
  cJSON_Delete(j);
  if(parts <= 0 || !p.found)
    return -1;
  *off = p.off;
  *bytes = p.bytes;
  return 0;
}
