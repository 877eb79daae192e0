/* rgw_store_test.c's tests of --on-existing overwrite after a crash: a
 * chain of deferred overwrites base <- v0 <- v1 <- v2, none settled, some
 * recorded, reconciled (vs_server_reconcile) into exactly one version of
 * the key: the newest recorded one, or base. Also a crash in the middle of
 * that reconciliation, after v0's removal passed base on to v1 but before
 * v0's intent went. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "rgw_store_help.h"
#include "vsink/server.h"
#include "vsink/store.h"

typedef struct chain {
  char sub[32], key[40], mdir[700];
  vs_store *s;
  vs_object_info base, v[3];
} chain;

static void put_over(chain *c, uint64_t seed, vs_object_info *info)
{
  put_args a = {0};
  digests d;
  vs_err e = {0};
  a.bytes = 1000 + seed;
  a.seed = seed;
  a.policy = VS_ON_EXISTING_OVERWRITE;
  a.defer = 1;
  assert_int_equal(put(c->s, "bkt", c->key, &a, info, &d, &e), VS_OK);
}

/* base settled, then v0..v2 in flight; the manifest dir made, empty. */
static void make_chain(chain *c)
{
  vs_err e = {0};
  int i;
  snprintf(c->key, sizeof(c->key), "ow/%s", c->sub);
  c->s = open_store(BUCKET, c->sub, 1);
  put_over(c, 1, &c->base);
  assert_int_equal(vs_store_settle(c->s, "bkt", c->key, c->base.version_id,
                                   &e), VS_OK);
  for(i = 0; i < 3; i++)
    put_over(c, 2 + (uint64_t)i, &c->v[i]);
  snprintf(c->mdir, sizeof(c->mdir), "%s/%s/manifest", DIR_, c->sub);
  assert_int_equal(mkdir(c->mdir, 0700), 0);
}

/* The stored events of the versions rec says, in a segment named as this
 * process's manifest writer names them (the intents carry its pid). */
static void record(chain *c, const int rec[3])
{
  char seg[1400];
  FILE *out;
  int i;
  snprintf(seg, sizeof(seg), "%s/20261202T000000.000Z-n-%ld-0123abcd.jsonl",
           c->mdir, (long)getpid());
  assert_non_null(out = fopen(seg, "w"));
  for(i = 0; i < 3; i++)
    if(rec[i])
      fprintf(out, "{\"v\":1,\"event\":\"stored\",\"bucket\":\"bkt\","
              "\"key\":\"%s\",\"versionId\":\"%s\"}\n", c->key,
              c->v[i].version_id);
  fclose(out);
}

/* Reconciles, then the key must hold only want. */
static void expect_one(chain *c, unsigned kept, unsigned removed,
                       const char *want)
{
  unsigned k = 99, r = 99;
  char **ids;
  size_t n;
  vs_err e = {0};
  assert_int_equal(vs_server_reconcile(c->s, c->mdir, &k, &r, &e), VS_OK);
  assert_int_equal(k, kept);
  assert_int_equal(r, removed);
  n = count_versions(c->s, "bkt", c->key, &ids);
  assert_int_equal(n, 1);
  assert_string_equal(ids[0], want);
  free_ids(ids, n);
  vs_store_close(c->s);
}

void t_overwrite_chain(void **state)
{
  static const struct {
    int rec[3], want;
  } cases[] = {
    {{0, 0, 0}, 0}, {{1, 0, 0}, 1}, {{0, 1, 0}, 2}, {{0, 0, 1}, 3},
    {{1, 1, 0}, 2}, {{1, 0, 1}, 3}, {{0, 1, 1}, 3}, {{1, 1, 1}, 3},
  };
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const int *rec = cases[i].rec;
    unsigned kept = (unsigned)(rec[0] + rec[1] + rec[2]);
    chain c = {0};
    snprintf(c.sub, sizeof(c.sub), "chain%zu", i);
    make_chain(&c);
    record(&c, rec);
    expect_one(&c, kept, 3 - kept, cases[i].want
                                     ? c.v[cases[i].want - 1].version_id
                                     : c.base.version_id);
  }
}

/* The intent file that names version vid, by path into out. */
static void intent_of(const chain *c, const char *vid, char *out, size_t cap)
{
  char cmd[1600];
  FILE *p;
  snprintf(cmd, sizeof(cmd), "grep -l '^version %s$' %s/%s/state/intent/*",
           vid, DIR_, c->sub);
  assert_non_null(p = popen(cmd, "r"));
  assert_non_null(fgets(out, (int)cap, p));
  pclose(p);
  out[strcspn(out, "\n")] = 0;
}

/* None recorded; v0 removed as reconciliation would (its removal passes
 * base on to v1), then its intent put back: the crash before the drop.
 * Settling v0 must not delete base, which v1's intent now holds. */
void t_overwrite_chain_crash(void **state)
{
  static const int none[3] = {0, 0, 0};
  char path[1400], keep[800], cmd[3000];
  chain c = {0};
  vs_err e = {0};
  (void)state;
  snprintf(c.sub, sizeof(c.sub), "chaincrash");
  make_chain(&c);
  record(&c, none);
  intent_of(&c, c.v[0].version_id, path, sizeof(path));
  snprintf(keep, sizeof(keep), "%s/%s/keep", DIR_, c.sub);
  snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s'", path, keep);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(vs_store_remove(c.s, "bkt", c.key, c.v[0].version_id,
                                   &e), VS_OK);
  snprintf(cmd, sizeof(cmd), "mv '%s' '%s'", keep, path);
  assert_int_equal(system(cmd), 0);
  expect_one(&c, 0, 2, c.base.version_id);
}
