/* Start-up reconciliation of the store with the manifest. A commit makes a
 * durable intent before its version can be seen and settles it once the
 * version's `stored` event is durable, so after a crash the intents left
 * name every version that may lack its event. Each is looked up in the
 * manifest: found, it is kept; not found, the client never got its 200 and
 * the version is removed (vs_store_remove repairs @current). Either way
 * the intent is settled, and nothing is ever appended, so no event can be
 * doubled.
 *
 * Only segments that the crashed process wrote can hold its events: the
 * writer puts its pid in every segment name and the intent records the
 * committer's pid. Of those, a segment last modified long before the
 * intent was made cannot hold an event written after it (unless the clock
 * stepped back by more than VS__RECONCILE_SLACK_MS in between), so it is
 * skipped. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "server/internal.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"

#define LOG_NAMES_MAX (16u << 10) /* bytes of names in the log line */

typedef struct pending {
  vs_store_intent *l;    /* the store's order (oldest first) */
  size_t n;
  vs_store_intent **vid; /* l by version id: a store's ids need not sort
                          * by time (a cluster's are random) */
  unsigned *found;       /* stored events seen, per intent */
  unsigned torn;
} pending;

/* The pid in "<time>-<node>-<pid>-<8 hex>.jsonl[.gz]"; -1 if the name is
 * not of that form (node names may hold '-': read from the right). */
static long segment_pid(const char *path)
{
  const char *name = strrchr(path, '/'), *dot, *p;
  long pid = 0, scale = 1;
  name = name ? name + 1 : path;
  dot = strstr(name, ".jsonl");
  if(!dot || dot - name < 20 + 1 + 1 + 1 + 9)
    return -1;
  p = dot - 9; /* the '-' before the 8 hex */
  if(*p != '-')
    return -1;
  for(p--; p > name && *p >= '0' && *p <= '9'; p--) {
    if(scale > 100000000000L)
      return -1;
    pid += (*p - '0') * scale;
    scale *= 10;
  }
  return *p == '-' && scale > 1 ? pid : -1;
}

static int wanted(const pending *w, const vs_manifest_segment *seg)
{
  long pid = segment_pid(seg->path);
  struct stat st;
  int64_t mtime;
  size_t i;
  if(pid < 0 || stat(seg->path, &st))
    return 1; /* not a writer's name, or gone meanwhile: let the read say */
  mtime = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
  for(i = 0; i < w->n; i++)
    if(w->l[i].pid == pid &&
       mtime >= w->l[i].mtime_ms - VS__RECONCILE_SLACK_MS)
      return 1;
  return 0;
}

static int cmp_vid(const void *key, const void *elem)
{
  return strcmp(key, (*(vs_store_intent *const *)elem)->version_id);
}

static int sort_vid(const void *a, const void *b)
{
  return strcmp((*(vs_store_intent *const *)a)->version_id,
                (*(vs_store_intent *const *)b)->version_id);
}

static int index_by_vid(pending *w, vs_err *err)
{
  size_t i;
  if(!(w->found = calloc(w->n, sizeof(*w->found))) ||
     !(w->vid = malloc(w->n * sizeof(*w->vid))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory reconciling");
  for(i = 0; i < w->n; i++)
    w->vid[i] = &w->l[i];
  qsort(w->vid, w->n, sizeof(*w->vid), sort_vid);
  return VS_OK;
}

static int field_is(const cJSON *j, const char *name, const char *want)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
  return cJSON_IsString(v) && !strcmp(v->valuestring, want);
}

/* Counts the line against every intent of its version id: bucket and key
 * compared after a full parse (keys are JSON-escaped in the line). */
static void match_line(pending *w, const char *vid, const char *line,
                       size_t len)
{
  vs_store_intent **hit = bsearch(vid, w->vid, w->n, sizeof(*w->vid),
                                  cmp_vid);
  cJSON *j;
  if(!hit)
    return;
  while(hit > w->vid && !strcmp(hit[-1]->version_id, vid))
    hit--;
  j = vs_json_parse(line, len);
  for(; j && hit < w->vid + w->n && !strcmp((*hit)->version_id, vid); hit++)
    if((field_is(j, "event", "stored") || field_is(j, "event", "deleted"))
       && field_is(j, "bucket", (*hit)->bucket)
       && field_is(j, "key", (*hit)->key))
      w->found[*hit - w->l]++;
  cJSON_Delete(j);
}

static int on_line(void *ctx, const char *line, size_t len)
{
  static const char vkey[] = "\"versionId\":\"";
  const char *v, *end, *q;
  char vid[sizeof(((vs_store_intent *)0)->version_id)];
  /* a delete marker's event is `deleted` (delete.c) */
  if(!memmem(line, len, "\"event\":\"stored\"", 16) &&
     !memmem(line, len, "\"event\":\"deleted\"", 17))
    return 0;
  v = memmem(line, len, vkey, sizeof(vkey) - 1);
  if(!v)
    return 0;
  v += sizeof(vkey) - 1;
  end = line + len;
  /* an id holds no quote or backslash: the next quote ends it */
  q = memchr(v, '"', (size_t)(end - v));
  if(!q || (size_t)(q - v) >= sizeof(vid))
    return 0;
  memcpy(vid, v, (size_t)(q - v));
  vid[q - v] = 0;
  match_line(ctx, vid, line, len);
  return 0;
}

static void on_torn(void *ctx, const char *segment, uint64_t off, size_t len)
{
  ((pending *)ctx)->torn++;
  vs_log("warn", "reconcile: torn last line in %s at %llu (%zu bytes) "
         "skipped", segment, (unsigned long long)off, len);
}

static int scan(pending *w, const char *dir, vs_err *err)
{
  vs_manifest_segment *segs = NULL;
  size_t n = 0, i;
  int rc = vs_manifest_list(dir, &segs, &n, err);
  for(i = 0; !rc && i < n; i++)
    if(wanted(w, &segs[i]))
      rc = vs_manifest_read_segment(&segs[i], on_line, on_torn, w, err);
  vs_manifest_list_free(segs, n);
  return rc;
}

static void name_into(vs_buf *b, const vs_store_intent *it)
{
  if(b->len < LOG_NAMES_MAX)
    vs_buf_addf(b, "%s%s/%s@%s", b->len ? ", " : "", it->bucket, it->key,
                it->version_id);
  else if(b->data && b->data[b->len - 1] != '.')
    vs_buf_adds(b, ", ...");
}

/* Keeps or removes each version; the first failure stops (the sink must
 * not serve with an unrecorded version in place). */
static int settle_all(vs_store *store, pending *w, vs_buf *kept,
                      vs_buf *removed, unsigned *nk, unsigned *nr,
                      vs_err *err)
{
  size_t i;
  int rc = VS_OK;
  for(i = 0; !rc && i < w->n; i++) {
    vs_store_intent *it = &w->l[i];
    if(w->found[i]) {
      if(w->found[i] > 1)
        vs_log("error", "reconcile: %s/%s version %s has %u stored events",
               it->bucket, it->key, it->version_id, w->found[i]);
      rc = vs_store_settle(store, it->bucket, it->key, it->version_id, err);
      name_into(kept, it);
      (*nk)++;
      continue;
    }
    rc = vs_store_remove(store, it->bucket, it->key, it->version_id, err);
    if(rc == VS_ERR_NOTFOUND) /* gone already: nothing visible */
      rc = vs_store_settle(store, it->bucket, it->key, it->version_id, err);
    else if(!rc) {
      name_into(removed, it);
      (*nr)++;
    }
  }
  return rc;
}

int vs_server_reconcile(vs_store *store, const char *manifest_dir,
                        unsigned *kept, unsigned *removed, vs_err *err)
{
  pending w = {0};
  vs_buf kb = VS_BUF_INIT, rb = VS_BUF_INIT;
  unsigned nk = 0, nr = 0;
  int rc = vs_store_intents(store, &w.l, &w.n, err);
  if(!rc && w.n)
    rc = index_by_vid(&w, err);
  if(!rc && w.n)
    rc = scan(&w, manifest_dir, err);
  if(!rc && w.n)
    rc = settle_all(store, &w, &kb, &rb, &nk, &nr, err);
  if(w.n)
    vs_log(rc ? "error" : "warn",
           "reconcile: %zu commits were in flight at the last stop: %u had "
           "their stored event and were kept [%s], %u had none and were "
           "removed [%s]%s", w.n, nk, vs_buf_str(&kb), nr, vs_buf_str(&rb),
           rc ? "; stopped by an error" : "");
  if(kept)
    *kept = nk;
  if(removed)
    *removed = nr;
  vs_buf_free(&kb);
  vs_buf_free(&rb);
  free(w.found);
  free(w.vid);
  free(w.l);
  return rc;
}
