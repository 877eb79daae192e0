/* The report's view of deletes (internal): `deleted` events (a delete
 * marker became a key's current version) and `purged` events (a version,
 * or a marker, removed for good), and what they mean for each stored
 * object the fold knows.
 *
 * Neither event names a task, so they meet the outputs through the
 * object: a purge through the (bucket, key, versionId) of the version it
 * removed, a marker through its (bucket, key). Object identities are the
 * fold's 128-bit hashes whose first 64 bits hash (bucket, key) alone, so
 * every version of one key shares them (vs__del_key). */
#ifndef VS_REPORT_DEL_H
#define VS_REPORT_DEL_H

#include <stddef.h>
#include <stdint.h>

#include "report_scan.h"

enum {
  VS__DEL_MARKER = 1,        /* a `deleted` event: the marker itself */
  VS__DEL_PURGED = 2,        /* a `purged` event of a version with bytes */
  VS__DEL_PURGED_MARKER = 3  /* a `purged` event of a delete marker */
};

typedef struct vs__rdel {
  int64_t t;       /* the event's time */
  key16 obj;       /* bucket, key, versionId (the marker's or the purged) */
  int32_t vdt;     /* versionId's own milliseconds - t: orders one ms */
  uint8_t what;    /* VS__DEL_* */
  const char *ver; /* the versionId (the report's arena) */
} vs__rdel;

typedef struct vs__mark {
  uint64_t key;
  int64_t t;
  int32_t vdt;
} vs__mark;

typedef struct vs__dels {
  vs__rdel *v;
  size_t n, cap;
  uint32_t *fate; /* per stored record: a record of v, or UINT32_MAX */
  vs__mark *marks; /* the markers no purge removed, in key then version order */
  size_t nmarks;
} vs__dels;

/* The 64 bits of an object identity that name its key. */
uint64_t vs__del_key(const key16 *obj);

/* The milliseconds a sink version id ("YYYYMMDDTHHMMSSmmmZ-hhhhhh", in
 * commit order within a key) carries; INT64_MIN for any other id. */
int64_t vs__vid_ms(const char *v, size_t n);
/* vid_ms - t clamped to int32, 0 when the id carries no time. */
int32_t vs__vid_delta(int64_t vid_ms, int64_t t);

int vs__dels_add(vs__dels *d, const vs__rdel *e);
void vs__dels_free(vs__dels *d);

/* One stored record as the join sees it. */
typedef void (*vs__sto_fn)(const void *ctx, size_t i, key16 *obj, int64_t *t,
                           int32_t *vdt);

/* Decides each of the ns stored records' fate: the purge that removed its
 * version, else the marker that made its key read as deleted (the first
 * marker after the key's latest surviving version, when a marker is the
 * key's latest surviving version), else none. Nothing is allocated when
 * there are no deletes. VS_ERR_NOMEM when out of memory. */
int vs__dels_join(vs__dels *d, size_t ns, vs__sto_fn sto, const void *ctx);

/* The record deciding stored record i's fate, or NULL. */
const vs__rdel *vs__dels_fate(const vs__dels *d, size_t i);

/* 1 when a surviving marker of obj's key came after version (t1, v1) and
 * before version (t2, v2) of it (after vs__dels_join). */
int vs__dels_marked_between(const vs__dels *d, const key16 *obj, int64_t t1,
                            int32_t v1, int64_t t2, int32_t v2);

#endif
