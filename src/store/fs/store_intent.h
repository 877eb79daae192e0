/* The filesystem store's intent journal (internal to vsink_store). One
 * symlink per commit in flight, DIR/.intent/<vid>-<16 hex>, whose target is
 * "<pid>:<replaced vid or nothing>:<bucket>/<key>": a symlink is created whole or not at all, so an
 * intent is durable with one directory fsync and never read half written
 * (a regular file would need its own fsync as well). The name is a function
 * of (bucket, key, version), so settling needs nothing remembered. */
#ifndef VS_STORE_INTENT_H
#define VS_STORE_INTENT_H

#include "vsink/store.h"

/* Creates the intent (not yet durable: see vs__intent_sync); replaces is
 * the version to remove once this one is settled, or NULL. VS_ERR_EXISTS
 * when one of that name is there already (the caller picks another id). */
int vs__intent_add(const char *idir, const char *bucket, const char *key,
                   const char *vid, const char *replaces, vs_err *err);
/* The version an intent replaces into replaces ("" for none);
 * VS_ERR_NOTFOUND when there is no such intent. */
int vs__intent_replaces(const char *idir, const char *bucket,
                        const char *key, const char *vid,
                        char replaces[27], vs_err *err);
/* Every intent of bucket/key that replaces `from` is made to replace `to`
 * instead, durably: what a version that goes unrecorded replaced passes to
 * the one that replaced it. Each keeps its pid and time. */
int vs__intent_pass_on(const char *idir, const char *bucket, const char *key,
                       const char *from, const char *to, vs_err *err);
/* *claimed: whether an intent of bucket/key other than except's replaces
 * vid (one that took it over by vs__intent_pass_on). */
int vs__intent_claimed(const char *idir, const char *bucket, const char *key,
                       const char *vid, const char *except, int *claimed,
                       vs_err *err);
/* Makes every intent added so far durable. */
int vs__intent_sync(const char *idir, vs_err *err);
/* Removes the intent; none is fine. No fsync: a lost unlink only makes the
 * next start look the version up again. */
int vs__intent_drop(const char *idir, const char *bucket, const char *key,
                    const char *vid, vs_err *err);
/* The intents in idir, oldest version id first; entries that are not ours
 * are skipped (and logged). *list is malloc'd, NULL when empty. */
int vs__intent_list(const char *idir, vs_store_intent **list, size_t *n,
                    vs_err *err);

#endif
