/* The S3 store's listing: pages of the cluster's ListObjectVersions under
 * PREFIX/B/ + the listing's prefix, one page held at a time. Versions, not
 * ListObjectsV2, because an item carries its current version's id, which
 * only the version listing tells; S3 lists a key's versions newest first,
 * so the first entry of a key is its current one (a delete marker: the
 * key has no current version, listed only with all_versions). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/s3/s3store_int.h"

typedef struct s3_list {
  vs_store_list base; /* first: the listing's ops */
  vs__s3s *s;
  char *bprefix;      /* "PREFIX/B/": stripped from every key */
  char *prefix;       /* what the cluster lists: bprefix + the prefix */
  char *key_marker;   /* the next page's markers (cluster keys) */
  char *version_marker;
  char *last_key;     /* the key the latest entry seen belongs to */
  /* Keys up to this one are not listed (after, skip): RGW's key-marker
   * without a version marker lists the marker's own key too, AWS's not. */
  char *floor;
  vs_s3_list_page pg;
  size_t i;
  int have_page;
  int all_versions;
} s3_list;

static void drop_page(s3_list *l)
{
  if(l->have_page)
    vs_s3_list_page_free(&l->pg);
  l->have_page = 0;
  l->i = 0;
}

/* The next page: *end when the last one was the last. */
static int next_page(s3_list *l, int *end, vs_err *err)
{
  vs_s3_list_opts lo = {0};
  int truncated = l->pg.truncated, rc;
  if(l->have_page && (!truncated || !l->pg.next_key_marker)) {
    *end = 1;
    return VS_OK;
  }
  if(l->have_page) {
    free(l->key_marker);
    free(l->version_marker);
    l->key_marker = l->pg.next_key_marker;
    l->version_marker = l->pg.next_version_marker;
    l->pg.next_key_marker = l->pg.next_version_marker = NULL;
  }
  drop_page(l);
  lo.prefix = l->prefix;
  lo.key_marker = l->key_marker;
  lo.version_marker = l->version_marker;
  if((rc = vs_s3_list_versions(&l->s->t, l->s->bucket, &lo, &l->pg, err)))
    return rc;
  l->have_page = 1;
  return VS_OK;
}

static void fill(const s3_list *l, const vs_s3_entry *e, vs_list_item *item)
{
  size_t bl = strlen(l->bprefix);
  memset(item, 0, sizeof(*item));
  snprintf(item->key, sizeof(item->key), "%s", e->key + bl);
  item->key_len = strlen(item->key);
  item->has_current = !e->delete_marker;
  if(!item->has_current)
    return;
  item->info.bytes = e->size;
  snprintf(item->info.etag, sizeof(item->info.etag), "%.64s", e->etag);
  snprintf(item->info.version_id, sizeof(item->info.version_id), "%s",
           e->version_id);
  item->info.mtime_ms = e->mtime_ms;
  if(strchr(e->etag, '-'))
    item->info.parts_count = (unsigned)strtoul(strchr(e->etag, '-') + 1,
                                               NULL, 10);
}

static int l_next(vs_store_list *base, vs_list_item *item, int *end,
                  vs_err *err)
{
  s3_list *l = (s3_list *)base;
  *end = 0;
  for(;;) {
    vs_s3_entry *e;
    int rc;
    if(!l->have_page || l->i >= l->pg.n) {
      if((rc = next_page(l, end, err)) || *end)
        return rc;
      continue;
    }
    e = &l->pg.entries[l->i++];
    if(strncmp(e->key, l->bprefix, strlen(l->bprefix)) ||
       (l->floor && strcmp(e->key, l->floor) <= 0) ||
       (l->last_key && !strcmp(e->key, l->last_key)))
      continue; /* an older version of a key already seen */
    free(l->last_key);
    if(!(l->last_key = strdup(e->key)))
      return vs_fail(err, VS_ERR_NOMEM, "out of memory");
    if(e->delete_marker && !l->all_versions)
      continue;
    fill(l, e, item);
    return VS_OK;
  }
}

/* Keys are UTF-8, which never holds the byte 0xff: prefix + 0xff sorts
 * after every key starting with prefix and before every later key. */
static int l_skip(vs_store_list *base, const char *prefix, vs_err *err)
{
  s3_list *l = (s3_list *)base;
  char *m;
  if(!prefix || !*prefix)
    return VS_OK;
  if(asprintf(&m, "%s%s\xff", l->bprefix, prefix) < 0)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if(l->last_key && strcmp(m, l->last_key) <= 0) {
    free(m); /* the listing is past it already */
    return VS_OK;
  }
  drop_page(l);
  free(l->key_marker);
  free(l->version_marker);
  free(l->floor);
  l->floor = strdup(m);
  l->key_marker = m;
  l->version_marker = NULL;
  if(!l->floor)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  return VS_OK;
}

static void l_close(vs_store_list *base)
{
  s3_list *l = (s3_list *)base;
  if(!l)
    return;
  drop_page(l);
  free(l->bprefix);
  free(l->prefix);
  free(l->key_marker);
  free(l->version_marker);
  free(l->last_key);
  free(l->floor);
  free(l);
}

static const vs_store_list_ops s3_list_ops = {l_next, l_skip, l_close};

int vs__s3s_list_open(vs_store *st, const vs_list_opts *o,
                      vs_store_list **out, vs_err *err)
{
  s3_list *l = calloc(1, sizeof(*l));
  const char *p = o->prefix ? o->prefix : "";
  int rc;
  *out = NULL;
  if(!l)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  l->base.ops = &s3_list_ops;
  l->s = (vs__s3s *)st;
  l->all_versions = o->all_versions;
  if((rc = vs__s3s_bucket_prefix(l->s, o->bucket, &l->bprefix, err))) {
    l_close(&l->base);
    return rc;
  }
  if(asprintf(&l->prefix, "%s%s", l->bprefix, p) < 0)
    l->prefix = NULL;
  if(o->after && *o->after &&
     asprintf(&l->key_marker, "%s%s", l->bprefix, o->after) < 0)
    l->key_marker = NULL, rc = 1;
  if(l->key_marker && !(l->floor = strdup(l->key_marker)))
    rc = 1;
  if(!l->prefix || rc) {
    l_close(&l->base);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  *out = &l->base;
  return VS_OK;
}
