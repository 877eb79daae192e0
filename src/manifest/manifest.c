/* The manifest writer.
 *
 * Durability without a stall per event: appenders write their line under
 * the lock (so lines never interleave and a failed write can be cut back),
 * then wait for an fdatasync that covers their line. Whoever finds no sync
 * running leads one for everything written so far; the others wait on it
 * (group commit), so N concurrent appenders cost about one sync, not N.
 *
 * A segment is reference counted: the writer holds it while it is current,
 * each appender while it waits for its line to be durable. When the last
 * reference to a retired segment goes, every line in it is durable (its
 * appender waited for that), so it is closed and handed to the compression
 * thread, which gzips it off the append path. */
#define _GNU_SOURCE
#include "vsink/manifest.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest/manifest_int.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

#define LINE_LIMIT (1u << 20)    /* one event line, newline included */
#define NODE_LIMIT 64
#define EVENT_LIMIT 64
#define MAX_TIME_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z */

typedef struct seg {
  int fd;
  char *path;
  uint64_t len;     /* bytes of complete lines in the file */
  uint64_t synced;  /* prefix made durable by an fdatasync */
  uint64_t events;  /* lines written */
  int syncing;      /* one thread is in fdatasync(fd), outside the lock */
  int failed;       /* fdatasync failed: abandoned; err says why */
  int refs;
  int64_t opened_ms;
  vs_err err;
} seg;

typedef struct job {
  struct job *next;
  char *path;
  int fd; /* the segment's, holding its lock until it is compressed */
} job;

struct vs_manifest {
  char *dir;
  char *node;
  char fnode[NODE_LIMIT + 1]; /* node as it may appear in a file name */
  uint64_t max_bytes;
  int64_t max_age_ms;
  uint64_t max_events;
  vs_now_fn now;
  void *now_ctx;
  pid_t pid;

  pthread_mutex_t mu;  /* everything below, up to the queue */
  pthread_cond_t cv;   /* a sync finished */
  seg *cur;            /* NULL until the next append opens one */
  int64_t last_name_ms;

  pthread_mutex_t qmu; /* the compression queue; taken after mu, never before */
  pthread_cond_t qcv;
  job *head, **tail;
  int stop;
  int worker_ok;
  pthread_t worker;
};

/* ---- building a line ---------------------------------------------------- */

/* A JSON number as RFC 8259 has it; the source text kept by vs_json_parse
 * is written back verbatim (seeds above 2^53, exact costs) only if it is. */
static int json_number_ok(const char *s)
{
  if(*s == '-')
    s++;
  if(*s == '0')
    s++;
  else if(*s >= '1' && *s <= '9')
    while(*s >= '0' && *s <= '9')
      s++;
  else
    return 0;
  if(*s == '.') {
    if(*++s < '0' || *s > '9')
      return 0;
    while(*s >= '0' && *s <= '9')
      s++;
  }
  if(*s == 'e' || *s == 'E') {
    s++;
    if(*s == '+' || *s == '-')
      s++;
    if(*s < '0' || *s > '9')
      return 0;
    while(*s >= '0' && *s <= '9')
      s++;
  }
  return *s == 0;
}

static int put_number(vs_buf *b, const cJSON *v, const char *key, vs_err *err)
{
  const char *text = vs_json_number_text(v);
  char num[32];
  double d = v->valuedouble;
  if(text && json_number_ok(text))
    return vs_buf_adds(b, text);
  if(!isfinite(d))
    return vs_fail(err, VS_ERR_INVALID,
                   "manifest field \"%s\": %g is not a JSON number", key, d);
  /* As cJSON prints: the shortest of %.15g and %.17g that reads back. */
  snprintf(num, sizeof(num), "%1.15g", d);
  if(strtod(num, NULL) != d)
    snprintf(num, sizeof(num), "%1.17g", d);
  return vs_buf_adds(b, num);
}

/* A raw node is trusted text; it must still be JSON and on one line. */
static int put_raw(vs_buf *b, const cJSON *v, const char *key, vs_err *err)
{
  cJSON *parsed;
  const char *r = v->valuestring;
  if(!r || strpbrk(r, "\r\n") || !(parsed = cJSON_Parse(r)))
    return vs_fail(err, VS_ERR_INVALID,
                   "manifest field \"%s\": raw value is not one line of JSON",
                   key);
  cJSON_Delete(parsed);
  return vs_buf_adds(b, r);
}

static int put_value(vs_buf *b, const cJSON *v, const char *key, int depth,
                     vs_err *err);

static int put_members(vs_buf *b, const cJSON *v, int object, int depth,
                       vs_err *err)
{
  const cJSON *c;
  int rc;
  vs_buf_addc(b, object ? '{' : '[');
  for(c = v->child; c; c = c->next) {
    if(c != v->child)
      vs_buf_addc(b, ',');
    if(object) {
      if(!c->string)
        return vs_fail(err, VS_ERR_INVALID, "manifest field without a name");
      vs_buf_add_json_str(b, c->string, strlen(c->string));
      vs_buf_addc(b, ':');
    }
    rc = put_value(b, c, c->string ? c->string : "[]", depth + 1, err);
    if(rc)
      return rc;
  }
  return vs_buf_addc(b, object ? '}' : ']');
}

static int put_value(vs_buf *b, const cJSON *v, const char *key, int depth,
                     vs_err *err)
{
  if(depth > 64)
    return vs_fail(err, VS_ERR_INVALID,
                   "manifest field \"%s\": nested deeper than 64", key);
  switch(v->type & 0xff) {
  case cJSON_False:
    return vs_buf_adds(b, "false");
  case cJSON_True:
    return vs_buf_adds(b, "true");
  case cJSON_NULL:
    return vs_buf_adds(b, "null");
  case cJSON_Number:
    return put_number(b, v, key, err);
  case cJSON_String:
    if(!v->valuestring)
      break;
    return vs_buf_add_json_str(b, v->valuestring, strlen(v->valuestring));
  case cJSON_Array:
  case cJSON_Object:
    return put_members(b, v, (v->type & 0xff) == cJSON_Object, depth, err);
  case cJSON_Raw:
    return put_raw(b, v, key, err);
  }
  return vs_fail(err, VS_ERR_INVALID, "manifest field \"%s\": invalid value",
                 key);
}

static int check_event(const char *event, vs_err *err)
{
  size_t i, n = event ? strlen(event) : 0;
  if(n == 0 || n > EVENT_LIMIT)
    return vs_fail(err, VS_ERR_INVALID,
                   "manifest event name must be 1 to %d characters",
                   EVENT_LIMIT);
  for(i = 0; i < n; i++)
    if(!((event[i] >= 'a' && event[i] <= 'z') ||
         (event[i] >= '0' && event[i] <= '9') || event[i] == '_'))
      return vs_fail(err, VS_ERR_INVALID,
                     "manifest event name \"%s\": only a-z, 0-9 and _ are "
                     "allowed", event);
  return VS_OK;
}

static int check_fields(const cJSON *fields, vs_err *err)
{
  static const char *const reserved[] = {"v", "event", "time", "node"};
  const cJSON *c;
  size_t i;
  if(!fields)
    return VS_OK;
  if(!cJSON_IsObject(fields))
    return vs_fail(err, VS_ERR_INVALID, "manifest fields must be an object");
  for(c = fields->child; c; c = c->next)
    for(i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
      if(c->string && !strcmp(c->string, reserved[i]))
        return vs_fail(err, VS_ERR_INVALID,
                       "manifest field \"%s\" is reserved", c->string);
  return VS_OK;
}

/* The whole line with a placeholder for the time, which is only read under
 * the lock (so that each segment is in time order); *time_at is where. */
static int build_line(vs_buf *b, const vs_manifest *m, const char *event,
                      const cJSON *fields, size_t *time_at, vs_err *err)
{
  const cJSON *c;
  int rc = check_event(event, err);
  if(!rc)
    rc = check_fields(fields, err);
  if(rc)
    return rc;
  vs_buf_adds(b, "{\"v\":1,\"event\":\"");
  vs_buf_adds(b, event);
  vs_buf_adds(b, "\",\"time\":\"");
  *time_at = b->len;
  vs_buf_adds(b, "0000-00-00T00:00:00.000Z\",\"node\":");
  vs_buf_add_json_str(b, m->node, strlen(m->node));
  for(c = fields ? fields->child : NULL; c; c = c->next) {
    vs_buf_addc(b, ',');
    vs_buf_add_json_str(b, c->string, strlen(c->string));
    vs_buf_addc(b, ':');
    rc = put_value(b, c, c->string, 1, err);
    if(rc)
      return rc;
  }
  if(vs_buf_adds(b, "}\n"))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory building a manifest line");
  if(b->len > LINE_LIMIT)
    return vs_fail(err, VS_ERR_TOOLARGE,
                   "manifest %s event is %zu bytes, over the %u byte limit",
                   event, b->len, LINE_LIMIT);
  return VS_OK;
}

/* ---- compression, on the worker thread ---------------------------------- */

static void *worker_main(void *arg)
{
  vs_manifest *m = arg;
  for(;;) {
    job *j;
    vs_err err;
    pthread_mutex_lock(&m->qmu);
    while(!m->head && !m->stop)
      pthread_cond_wait(&m->qcv, &m->qmu);
    j = m->head;
    if(j) {
      m->head = j->next;
      if(!m->head)
        m->tail = &m->head;
    }
    pthread_mutex_unlock(&m->qmu);
    if(!j)
      return NULL;
    /* On failure the plain segment stays, complete and readable. */
    if(vs__gzip_segment(m->dir, j->path, &err))
      vs_log("error", "manifest: leaving %s uncompressed: %s", j->path,
             err.msg);
    close(j->fd); /* vs_manifest_recover may have it now */
    free(j->path);
    free(j);
  }
}

static void enqueue(vs_manifest *m, char *path, int fd)
{
  job *j = malloc(sizeof(*j));
  if(!j) {
    vs_log("error", "manifest: out of memory, leaving %s uncompressed", path);
    close(fd);
    free(path);
    return;
  }
  j->next = NULL;
  j->path = path;
  j->fd = fd;
  pthread_mutex_lock(&m->qmu);
  *m->tail = j;
  m->tail = &j->next;
  pthread_cond_signal(&m->qcv);
  pthread_mutex_unlock(&m->qmu);
}

/* ---- segments (all under m->mu) ----------------------------------------- */

static void seg_unref(vs_manifest *m, seg *s)
{
  if(--s->refs)
    return;
  enqueue(m, s->path, s->fd);
  free(s);
}

static void retire(vs_manifest *m, seg *s)
{
  if(m->cur == s) {
    m->cur = NULL;
    seg_unref(m, s);
  }
}

/* "20260124T121500123Z": sorts as time does. */
static void name_time(int64_t ms, char out[20])
{
  char amz[17];
  vs_time_amz(ms / 1000, amz);
  unsigned f = (unsigned)(ms % 1000);
  memcpy(out, amz, 15);
  out[15] = (char)('0' + f / 100);
  out[16] = (char)('0' + f / 10 % 10);
  out[17] = (char)('0' + f % 10);
  out[18] = 'Z';
  out[19] = 0;
}

/* A new segment, locked before it has its name: created as .NAME.new,
 * flocked, then linked to NAME (never over another), so that
 * vs_manifest_recover never takes a segment a writer is filling. */
static int create_locked(vs_manifest *m, const char *when, char **out,
                         int *fdp, vs_err *err)
{
  char hex[9], *path = NULL, *tmp = NULL;
  uint8_t rnd[4];
  int fd = -1, tries, rc = VS_OK;
  for(tries = 0; fd < 0 && tries < 4; tries++) {
    rc = vs_random(rnd, sizeof(rnd), err);
    if(rc)
      break;
    vs_hex(rnd, sizeof(rnd), hex);
    free(path);
    free(tmp);
    tmp = NULL;
    if(asprintf(&path, "%s/%s-%s-%ld-%s.jsonl", m->dir, when, m->fnode,
                (long)m->pid, hex) < 0 ||
       asprintf(&tmp, "%s/.%s-%s-%ld-%s.jsonl.new", m->dir, when, m->fnode,
                (long)m->pid, hex) < 0) {
      rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
      break;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if(fd < 0 && errno != EEXIST)
      break;
    if(fd >= 0 && (flock(fd, LOCK_EX) || link(tmp, path))) {
      int e = errno;
      close(fd);
      unlink(tmp);
      fd = -1;
      if(e != EEXIST) {
        errno = e;
        break;
      }
    }
  }
  if(!rc && fd < 0)
    rc = vs_fail_errno(err, errno, "create manifest segment %s", path);
  if(fd >= 0)
    unlink(tmp);
  free(tmp);
  if(rc) {
    free(path);
    return rc;
  }
  *out = path;
  *fdp = fd;
  return VS_OK;
}

static int seg_open(vs_manifest *m, int64_t now, vs_err *err)
{
  int64_t t = now > m->last_name_ms ? now : m->last_name_ms + 1;
  char when[20], *path = NULL;
  int fd = -1, rc;
  seg *s;
  name_time(t, when);
  rc = create_locked(m, when, &path, &fd, err);
  if(rc)
    return rc;
  rc = vs_fsync_dir(m->dir, err);
  if(rc || !(s = calloc(1, sizeof(*s)))) {
    close(fd);
    unlink(path);
    free(path);
    return rc ? rc : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  s->fd = fd;
  s->path = path;
  s->refs = 1;
  s->opened_ms = now;
  m->last_name_ms = t;
  m->cur = s;
  return VS_OK;
}

static int needs_rotation(const vs_manifest *m, const seg *s, int64_t now,
                          size_t n)
{
  return s->len > 0 && (s->len + n > m->max_bytes ||
                        now - s->opened_ms >= m->max_age_ms ||
                        (m->max_events && s->events >= m->max_events));
}

/* One write() of the whole line. If it fails or is short, the segment is cut
 * back to where it was, so no partial line stays in it; if even that fails,
 * the segment is abandoned with the partial line as its torn last line. */
static int write_line(vs_manifest *m, seg *s, const char *p, size_t n,
                      vs_err *err)
{
  ssize_t w;
  int rc;
  do
    w = write(s->fd, p, n);
  while(w < 0 && errno == EINTR);
  if(w == (ssize_t)n) {
    s->len += n;
    s->events++;
    return VS_OK;
  }
  if(w < 0)
    rc = vs_fail_errno(err, errno, "manifest: write %s", s->path);
  else {
    rc = vs_fail(err, VS_ERR_NOSPACE,
                 "manifest: write %s: short write (%zd of %zu bytes), "
                 "no space left", s->path, w, n);
    err->sys_errno = ENOSPC;
  }
  if(w > 0 && ftruncate(s->fd, (off_t)s->len)) {
    vs_log("error", "manifest: cannot cut %s back after a failed write (%s); "
           "abandoning it", s->path, strerror(errno));
    retire(m, s);
  }
  return rc;
}

static void sync_failed(vs_manifest *m, seg *s, int e)
{
  s->failed = 1;
  vs_fail_errno(&s->err, e, "manifest: fdatasync %s", s->path);
  /* After a failed sync the page cache may not match the disk: drop what
   * was not known durable (its appenders get the error) and never write
   * here again. */
  if(ftruncate(s->fd, (off_t)s->synced))
    vs_log("error", "manifest: cannot cut %s back after a failed sync: %s",
           s->path, strerror(errno));
  retire(m, s);
}

/* Returns once the first `end` bytes of s are durable. Called with m->mu
 * held and a reference to s. */
static int wait_durable(vs_manifest *m, seg *s, uint64_t end, vs_err *err)
{
  while(s->synced < end) {
    if(s->failed) {
      if(err)
        *err = s->err;
      return s->err.code;
    }
    if(s->syncing) {
      pthread_cond_wait(&m->cv, &m->mu);
      continue;
    }
    uint64_t target = s->len;
    int r, e;
    s->syncing = 1;
    pthread_mutex_unlock(&m->mu);
    do
      r = fdatasync(s->fd);
    while(r && errno == EINTR);
    e = errno;
    pthread_mutex_lock(&m->mu);
    s->syncing = 0;
    if(r)
      sync_failed(m, s, e);
    else if(target > s->synced)
      s->synced = target;
    pthread_cond_broadcast(&m->cv);
  }
  return VS_OK;
}

static int current_segment(vs_manifest *m, int64_t now, size_t n,
                           vs_err *err)
{
  if(m->cur && needs_rotation(m, m->cur, now, n))
    retire(m, m->cur);
  if(m->cur)
    return VS_OK;
  return seg_open(m, now, err);
}

/* ---- the public face ---------------------------------------------------- */

int vs_manifest_append(vs_manifest *m, const char *event,
                       const cJSON *fields, vs_err *err)
{
  vs_buf b = VS_BUF_INIT;
  size_t time_at = 0;
  char when[25];
  int64_t now;
  seg *s;
  int rc = build_line(&b, m, event, fields, &time_at, err);
  if(rc) {
    vs_buf_free(&b);
    return rc;
  }
  pthread_mutex_lock(&m->mu);
  now = vs_now_ms(m->now, m->now_ctx);
  if(now < 0 || now > MAX_TIME_MS)
    rc = vs_fail(err, VS_ERR_INVALID, "manifest: clock out of range (%lld ms)",
                 (long long)now);
  if(!rc) {
    vs_time_rfc3339(now, when);
    memcpy(b.data + time_at, when, 24);
    rc = current_segment(m, now, b.len, err);
  }
  if(!rc) {
    s = m->cur;
    rc = write_line(m, s, b.data, b.len, err);
    if(!rc) {
      s->refs++;
      rc = wait_durable(m, s, s->len, err);
      seg_unref(m, s);
    }
  }
  pthread_mutex_unlock(&m->mu);
  vs_buf_free(&b);
  return rc;
}

static int set_node(vs_manifest *m, const char *node, vs_err *err)
{
  char host[256];
  size_t i, n;
  if(!node) {
    if(gethostname(host, sizeof(host)))
      return vs_fail_errno(err, errno, "gethostname");
    host[sizeof(host) - 1] = 0;
    node = host;
  }
  n = strlen(node);
  if(n == 0 || n > NODE_LIMIT)
    return vs_fail(err, VS_ERR_INVALID,
                   "manifest node name must be 1 to %d bytes", NODE_LIMIT);
  m->node = strdup(node);
  if(!m->node)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  for(i = 0; i < n; i++) {
    char c = node[i];
    int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
             (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    m->fnode[i] = ok ? c : '_';
  }
  m->fnode[n] = 0;
  return VS_OK;
}

static int check_opts(const vs_manifest_opts *o, vs_err *err)
{
  if(!o || !o->dir || !*o->dir)
    return vs_fail(err, VS_ERR_INVALID, "manifest directory not given");
  if(o->max_age_ms < 0)
    return vs_fail(err, VS_ERR_INVALID,
                   "manifest max_age_ms %lld: must be positive",
                   (long long)o->max_age_ms);
  return VS_OK;
}

int vs_manifest_open(vs_manifest **out, const vs_manifest_opts *o,
                     vs_err *err)
{
  vs_manifest *m;
  int rc = check_opts(o, err);
  *out = NULL;
  if(rc)
    return rc;
  rc = vs_mkdirs(o->dir, 0755, err);
  if(rc)
    return rc;
  if(access(o->dir, W_OK | X_OK))
    return vs_fail_errno(err, errno, "manifest directory %s", o->dir);
  m = calloc(1, sizeof(*m));
  if(!m || !(m->dir = strdup(o->dir))) {
    free(m);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  rc = set_node(m, o->node, err);
  if(rc) {
    free(m->dir);
    free(m);
    return rc;
  }
  m->max_bytes = o->max_bytes ? o->max_bytes : VS_MANIFEST_MAX_BYTES;
  m->max_age_ms = o->max_age_ms ? o->max_age_ms : VS_MANIFEST_MAX_AGE_MS;
  m->max_events = o->max_events;
  m->now = o->now;
  m->now_ctx = o->now_ctx;
  m->pid = getpid();
  m->last_name_ms = INT64_MIN;
  m->tail = &m->head;
  pthread_mutex_init(&m->mu, NULL);
  pthread_cond_init(&m->cv, NULL);
  pthread_mutex_init(&m->qmu, NULL);
  pthread_cond_init(&m->qcv, NULL);
  rc = pthread_create(&m->worker, NULL, worker_main, m);
  m->worker_ok = rc == 0;
  if(rc) {
    vs_manifest_close(m);
    return vs_fail_errno(err, rc, "manifest: start compression thread");
  }
  *out = m;
  return VS_OK;
}

void vs_manifest_close(vs_manifest *m)
{
  if(!m)
    return;
  pthread_mutex_lock(&m->mu);
  if(m->cur)
    retire(m, m->cur);
  pthread_mutex_unlock(&m->mu);
  pthread_mutex_lock(&m->qmu);
  m->stop = 1;
  pthread_cond_signal(&m->qcv);
  pthread_mutex_unlock(&m->qmu);
  if(m->worker_ok)
    pthread_join(m->worker, NULL);
  while(m->head) { /* only when the worker never started */
    job *j = m->head;
    m->head = j->next;
    close(j->fd);
    free(j->path);
    free(j);
  }
  pthread_mutex_destroy(&m->mu);
  pthread_cond_destroy(&m->cv);
  pthread_mutex_destroy(&m->qmu);
  pthread_cond_destroy(&m->qcv);
  free(m->node);
  free(m->dir);
  free(m);
}

void vs_manifest_tick(vs_manifest *m)
{
  int64_t now = vs_now_ms(m->now, m->now_ctx);
  pthread_mutex_lock(&m->mu);
  if(m->cur && needs_rotation(m, m->cur, now, 0))
    retire(m, m->cur);
  pthread_mutex_unlock(&m->mu);
}

const char *vs_manifest_node(const vs_manifest *m)
{
  return m->node;
}
