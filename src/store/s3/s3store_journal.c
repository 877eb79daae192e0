/* The journal of a client's multipart upload in the S3 store (see
 * s3store_mpu.c): one small JSON object per upload in the cluster bucket,
 * PREFIX.uploads/<bucket>/<hex of the upload id>, and beside it each
 * part's verified checksum (<journal>.<number>). Any node reads them: no
 * node holds state another needs. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store/s3/s3store_int.h"

#define JOURNAL_MAX (64u << 10)

/* ---- the journal -------------------------------------------------------- */

/* "PREFIX.uploads/<bucket>/" (malloc'd). */
int vs__s3s_journal_dir(const vs__s3s *s, const char *bucket, char **out,
                        vs_err *err)
{
  if(asprintf(out, "%s.uploads/%s/", s->prefix, bucket ? bucket : "") < 0) {
    *out = NULL;
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  return VS_OK;
}

/* The journal key of an upload: its id in hex, whatever bytes it holds. */
static int journal_key(const vs__s3s *s, const char *bucket, const char *id,
                       char **out, vs_err *err)
{
  static const char hex[] = "0123456789abcdef";
  size_t n = strlen(id), i;
  char *dir, *k;
  int rc = vs__s3s_journal_dir(s, bucket, &dir, err);
  if(rc)
    return rc;
  if(!(k = malloc(strlen(dir) + 2 * n + 1))) {
    free(dir);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  strcpy(k, dir);
  for(i = 0; i < n; i++) {
    k[strlen(dir) + 2 * i] = hex[(unsigned char)id[i] >> 4];
    k[strlen(dir) + 2 * i + 1] = hex[(unsigned char)id[i] & 15];
  }
  k[strlen(dir) + 2 * n] = 0;
  free(dir);
  *out = k;
  return VS_OK;
}

static char *journal_json(const vs_mpu *m, const char *token,
                          const char *attempt)
{
  cJSON *o = cJSON_CreateObject();
  char *out = NULL;
  if(o && cJSON_AddStringToObject(o, "bucket", m->bucket) &&
     cJSON_AddStringToObject(o, "key", m->key) &&
     cJSON_AddStringToObject(o, "uploadId", m->upload_id) &&
     cJSON_AddNumberToObject(o, "created", (double)m->created_ms) &&
     cJSON_AddStringToObject(o, "contentType", m->content_type) &&
     cJSON_AddStringToObject(o, "headers", m->headers) &&
     cJSON_AddStringToObject(o, "checksumAlgorithm", m->checksum_alg) &&
     cJSON_AddStringToObject(o, "checksumType", m->checksum_type) &&
     cJSON_AddStringToObject(o, "token", token) &&
     cJSON_AddStringToObject(o, "attempt", attempt))
    out = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return out;
}

static int str_field(const cJSON *o, const char *name, char *out, size_t cap)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if(!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
    return -1;
  memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
  return 0;
}

/* attempt: the Complete attempt it names ("" none; journals written
 * before attempts were named have no field). */
static int journal_parse(const char *text, vs_mpu *m,
                         char token[VS__S3S_TOKEN_LEN + 1],
                         char attempt[VS__S3S_TOKEN_LEN + 1])
{
  cJSON *o = cJSON_Parse(text);
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "created");
  int bad = !o || !cJSON_IsNumber(c) ||
            str_field(o, "bucket", m->bucket, sizeof(m->bucket)) ||
            str_field(o, "key", m->key, sizeof(m->key)) ||
            str_field(o, "uploadId", m->upload_id, sizeof(m->upload_id)) ||
            str_field(o, "contentType", m->content_type,
                      sizeof(m->content_type)) ||
            str_field(o, "headers", m->headers, sizeof(m->headers)) ||
            str_field(o, "checksumAlgorithm", m->checksum_alg,
                      sizeof(m->checksum_alg)) ||
            str_field(o, "checksumType", m->checksum_type,
                      sizeof(m->checksum_type)) ||
            str_field(o, "token", token, VS__S3S_TOKEN_LEN + 1);
  if(!bad && cJSON_GetObjectItemCaseSensitive(o, "attempt"))
    bad = str_field(o, "attempt", attempt, VS__S3S_TOKEN_LEN + 1);
  else
    attempt[0] = 0;
  if(!bad)
    m->created_ms = (int64_t)c->valuedouble;
  cJSON_Delete(o);
  return bad ? -1 : 0;
}

static int to_buf(void *ctx, const void *p, size_t n)
{
  vs_buf *b = ctx;
  if(b->len + n > JOURNAL_MAX)
    return 1;
  vs_buf_add(b, p, n);
  return b->failed;
}

/* The upload's description from its journal; key NULL: of any key.
 * VS_ERR_NOTFOUND when the sink has no such upload for bucket/key. */
static int journal_read(vs__s3s *s, const char *bucket, const char *key,
                        const char *id, vs_mpu *m,
                        char token[VS__S3S_TOKEN_LEN + 1],
                        char attempt[VS__S3S_TOKEN_LEN + 1], vs_err *err)
{
  vs_buf b = VS_BUF_INIT;
  vs_object_info info;
  char *jk;
  int rc;
  if(!id || !*id || strlen(id) > VS_UPLOAD_ID_MAX)
    return vs_fail(err, VS_ERR_NOTFOUND, "no such upload");
  if((rc = journal_key(s, bucket, id, &jk, err)))
    return rc;
  rc = vs_s3_get(&s->t, s->bucket, jk, NULL, to_buf, &b, &info, err);
  if(!rc && (b.failed || journal_parse(vs_buf_str(&b), m, token, attempt)))
    rc = vs_fail(err, VS_ERR_IO, "journal %s is not an upload's", jk);
  if(!rc && (strcmp(m->bucket, bucket) || strcmp(m->upload_id, id) ||
             (key && strcmp(m->key, key))))
    rc = vs_fail(err, VS_ERR_NOTFOUND, "upload %s is not of %s/%s", id,
                 bucket, key ? key : "");
  vs_buf_free(&b);
  free(jk);
  return rc;
}

int vs__s3s_journal_get(vs__s3s *s, const char *bucket, const char *key,
                        const char *id, vs_mpu *m,
                        char token[VS__S3S_TOKEN_LEN + 1], vs_err *err)
{
  char attempt[VS__S3S_TOKEN_LEN + 1];
  return journal_read(s, bucket, key, id, m, token, attempt, err);
}

/* The journal written whole: at Create (excl: If-None-Match), and again
 * by each Complete attempt, naming it, before the cluster's Complete. */
int vs__s3s_journal_put(vs__s3s *s, const vs_mpu *m, const char *token,
                        const char *attempt, int excl, vs_err *err)
{
  vs_s3_put_result res;
  char *jk = NULL, *json = journal_json(m, token, attempt);
  int rc = json ? journal_key(s, m->bucket, m->upload_id, &jk, err)
                : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if(!rc) {
    vs_s3_body b = {json, -1, 0, strlen(json), NULL};
    vs_s3_write_opts jo = {"application/json", NULL, excl};
    rc = vs_s3_put(&s->t, s->bucket, jk, &b, &jo, &res, err);
  }
  free(json);
  free(jk);
  return rc;
}

int vs__s3s_mpu_ours(vs__s3s *s, const vs__s3s_intent *it, int *ours,
                     vs_err *err)
{
  char token[VS__S3S_TOKEN_LEN + 1], attempt[VS__S3S_TOKEN_LEN + 1];
  vs_mpu *m = malloc(sizeof(*m));
  int rc = m ? journal_read(s, it->bucket, it->key, it->upload_id, m, token,
                            attempt, err)
             : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  *ours = !rc && !strcmp(attempt, it->name);
  if(rc == VS_ERR_NOTFOUND)
    rc = VS_OK;
  free(m);
  return rc;
}

/* Every version of the journal object and its parts' checksums, so a
 * versioned bucket keeps none (a plain DELETE would only hide them behind
 * markers). */
int vs__s3s_journal_drop(vs__s3s *s, const char *bucket, const char *id,
                         vs_err *err)
{
  vs_s3_list_opts o = {0};
  vs_s3_list_page pg;
  char *jk;
  size_t i;
  int rc = journal_key(s, bucket, id, &jk, err);
  o.prefix = jk;
  while(!rc) {
    if((rc = vs_s3_list_versions(&s->t, s->bucket, &o, &pg, err)))
      break;
    for(i = 0; !rc && i < pg.n; i++)
      rc = vs_s3_delete(&s->t, s->bucket, pg.entries[i].key,
                        pg.entries[i].version_id, NULL, err);
    i = pg.truncated;
    vs_s3_list_page_free(&pg);
    if(!i) /* deleted from the start: the next page is the first again */
      break;
  }
  free(jk);
  return rc;
}

/* A part's checksum beside the journal ("alg:base64"), or "" for none. */
static int part_sum_key(const vs__s3s *s, const char *bucket, const char *id,
                        unsigned number, char **out, vs_err *err)
{
  char *jk;
  int rc = journal_key(s, bucket, id, &jk, err);
  if(rc)
    return rc;
  if(asprintf(out, "%s.%05u", jk, number) < 0) {
    *out = NULL;
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  free(jk);
  return rc;
}

int vs__s3s_part_sum_put(vs__s3s *s, const char *bucket, const char *id,
                         const vs_part_info *p, vs_err *err)
{
  vs_s3_put_result res;
  char body[64], *k;
  int rc = part_sum_key(s, bucket, id, p->number, &k, err);
  int n = snprintf(body, sizeof(body), "%s:%s", p->checksum_alg,
                   p->checksum);
  vs_s3_body b = {body, -1, 0, (uint64_t)n, NULL};
  if(!rc)
    rc = vs_s3_put(&s->t, s->bucket, k, &b, NULL, &res, err);
  free(k);
  return rc;
}

/* The part's kept checksum into p (both "" when none was kept). */
int vs__s3s_part_sum_get(vs__s3s *s, const char *bucket, const char *id,
                         unsigned number, vs_part_info *p, vs_err *err)
{
  vs_buf b = VS_BUF_INIT;
  vs_object_info info;
  char *k, *colon;
  int rc = part_sum_key(s, bucket, id, number, &k, err);
  p->checksum_alg[0] = p->checksum[0] = 0;
  if(!rc)
    rc = vs_s3_get(&s->t, s->bucket, k, NULL, to_buf, &b, &info, err);
  free(k);
  if(rc == VS_ERR_NOTFOUND) {
    vs_buf_free(&b);
    return VS_OK;
  }
  colon = rc ? NULL : strchr(vs_buf_str(&b), ':');
  if(!rc && (!colon || (size_t)(colon - b.data) >= sizeof(p->checksum_alg) ||
             strlen(colon + 1) >= sizeof(p->checksum)))
    rc = vs_fail(err, VS_ERR_IO, "part %u's checksum is malformed", number);
  if(!rc) {
    memcpy(p->checksum_alg, b.data, (size_t)(colon - b.data));
    p->checksum_alg[colon - b.data] = 0;
    strcpy(p->checksum, colon + 1);
  }
  vs_buf_free(&b);
  return rc;
}
