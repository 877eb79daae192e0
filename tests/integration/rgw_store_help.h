/* Helpers of rgw_store_test.c (rgw_store_help.c). */
#ifndef VS_RGW_STORE_HELP_H
#define VS_RGW_STORE_HELP_H

#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>

#include "vsink/s3.h"
#include "vsink/store.h"

#define MiB (1024ULL * 1024)

extern vs_s3_target T;                 /* the cluster */
extern const char *BUCKET, *PLAIN;     /* versioned, not versioned */
extern char PREFIX[64], DIR_[512];     /* the run's prefix and scratch dir */

/* Deterministic bytes: the n-th byte of stream seed. */
typedef struct gen {
  uint64_t x;
} gen;

typedef struct digests {
  EVP_MD_CTX *sha, *md5;
  char sha_hex[65], md5_hex[33];
} digests;

typedef struct put_args {
  uint64_t bytes;
  uint64_t seed;
  int expect;           /* tell the size first */
  const char *ctype, *headers;
  vs_on_existing policy;
  int defer;            /* vs_commit.defer_overwrite */
  int if_none_match;
  const char *if_match;
} put_args;

/* open_store's copy_max (0: the store's default). */
extern uint64_t COPY_MAX;
/* rgw_store_copy.c's tests. */
void t_copy_single(void **state);
void t_copy_parts(void **state);
void t_part_copy(void **state);
void t_copy_crash(void **state);
void t_copy_unreachable(void **state);
/* rgw_store_overwrite.c's tests. */
void t_overwrite_chain(void **state);
void t_overwrite_chain_crash(void **state);

/* A store over bucket under PREFIX, its dirs in DIR_/sub (fails the test
 * when it cannot open). */
vs_store *open_store(const char *bucket, const char *sub, int req);
void gen_fill(gen *g, unsigned char *p, size_t n);
void hex(const unsigned char *d, size_t n, char *out);
void dg_init(digests *d);
void dg_add(digests *d, const void *p, size_t n);
void dg_end(digests *d);
/* Uploads a->bytes of stream a->seed (describe, expect as a says): the
 * commit's result code, info and the body's digests. */
int put(vs_store *s, const char *b, const char *k, const put_args *a,
        vs_object_info *info, digests *d, vs_err *e);
void put_ok(vs_store *s, const char *b, const char *k, uint64_t bytes,
            uint64_t seed, vs_object_info *info, digests *d);
/* [off, off + len) of a version through stream: its SHA-256 hex into out,
 * the bytes into copy (when set); returns how many came. */
uint64_t stream_sha(vs_store *s, const char *b, const char *k,
                    const char *vid, uint64_t off, uint64_t len,
                    char out[65], unsigned char *copy);
size_t count_versions(vs_store *s, const char *b, const char *k,
                      char ***ids);
void free_ids(char **ids, size_t n);
/* Multipart uploads in progress under the sink bucket b. */
size_t uploads_under(const char *b);
/* This process's peak RSS so far. */
long maxrss_kib(void);

/* A gate on 127.0.0.1 in front of the cluster: open, it relays each
 * connection to it; closed, it drops new connections at once and cuts
 * those under way (kept-alive ones too), so the cluster looks gone. */
typedef struct gate {
  int lfd, open;
  int counting, left;  /* counting: requests let through before it closes */
  int relays;          /* relay threads alive */
  struct sockaddr_in up;
  char endpoint[64];   /* the gate's, to give the store */
  pthread_t th;
} gate;
int gate_start(gate *g, const char *cluster_endpoint);
void gate_set(gate *g, int open);
/* Lets n more requests through (on any connection), then closes. */
void gate_allow(gate *g, int n);
void gate_stop(gate *g);

#endif
