/* The sink: a small HTTP server (libmicrohttpd, epoll, a thread pool) that
 * speaks path-style S3 for PUT/GET/HEAD of objects, verifies SigV4 on every
 * request before reading a body byte, streams bodies into a store while
 * hashing them, and records each stored object in the manifest before it
 * answers 200. The server owns no global state: several may run in one
 * process (the tests do). */
#ifndef VSINK_SERVER_H
#define VSINK_SERVER_H

#include <stdint.h>

#include "vsink/common.h"
#include "vsink/manifest.h"
#include "vsink/sigv4.h"
#include "vsink/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vs_server vs_server;
struct vs_s3_target; /* vsink/s3.h */

typedef struct vs_server_config {
  const char *listen;            /* "127.0.0.1:9000", "[::1]:0", ":9000" */
  const char *const *buckets;    /* the buckets this sink serves */
  size_t n_buckets;
  const char *region;            /* "us-east-1" */
  uint64_t max_object_size;      /* 0: 5 GiB */
  unsigned threads;              /* 0: number of cores */
  vs_on_existing on_existing;
  unsigned idle_timeout_s;       /* 0: 30 */
  unsigned max_connections;      /* 0: 1024 */
  unsigned max_connections_per_ip; /* 0: 256 */
  /* Slow clients: a request's line and headers must arrive within
   * header_timeout_s of the connection's start or of the previous answer
   * (so an idle keep-alive connection also ends then); an upload's body
   * must average min_body_rate bytes per second over every window of
   * body_rate_window_s. Either closes the connection. */
  unsigned header_timeout_s;     /* 0: 10 */
  uint64_t min_body_rate;        /* 0: 1024; UINT64_MAX: no minimum */
  unsigned body_rate_window_s;   /* 0: 30 */
  vs_store *store;               /* borrowed; outlives the server */
  vs_manifest *manifest;         /* borrowed; outlives the server */
  vs_keyring *keys;              /* owned by the server from start on */
  /* Result hooks: where deliveries already recorded are remembered, so a
   * redelivery (the API retries; it may deliver twice) is answered 200 and
   * recorded once, across restarts too. Also the list of buckets with
   * their creation dates (STATE/buckets). NULL: in memory only. */
  const char *state_dir;
  /* CreateBucket of a bucket not served: 0 refuses it (403 AccessDenied);
   * 1 creates it, listed in state_dir and served from then on, across
   * restarts. CreateBucket of a served bucket always succeeds. */
  int allow_bucket_create;
  /* DELETE ?versionId=: 0 refuses it (403 AccessDenied); 1 removes that
   * version for good (a `purged` event), unless it is younger than
   * retention_days days. */
  int allow_purge;
  unsigned retention_days;
  /* The store's bucket folders (DATA/buckets): a created bucket's folder
   * is made there at once. NULL: none is made. */
  const char *buckets_dir;
  /* The bucket that hooks for bucket targets HEAD after a result, to write
   * the `stored` event (NULL: such hooks record the result only). */
  const struct vs_s3_target *s3;
  /* AWS Signature Version 2 (header and query forms) is accepted, as Ceph
   * RGW and MinIO accept it, unless no_sigv2 is set: then such requests
   * are refused 403 AccessDenied saying so. */
  int no_sigv2;
  /* Virtual-hosted-style addressing: a Host of BUCKET.domain names the
   * bucket, and the path is the key; any other Host is path style. NULL:
   * path style only. Borrowed; outlives the server. */
  const char *domain;
  /* 0: an object's ETag is its MD5, as S3's (tools compare it); 1
   * (--etag sha256): MD5 is computed only when Content-MD5 is sent, and the
   * ETag is the SHA-256 otherwise, which saves hashing time. */
  int etag_sha256;
  /* Multipart uploads neither completed nor aborted are aborted this long
   * after they were created (a sweeper looks every min(expiry / 2, 60 s),
   * and once at start). 0: 24 hours. */
  uint64_t mpu_expiry_ms;
  /* The manifest shipper, whose counts /metrics shows (NULL: none).
   * Borrowed; outlives the server. */
  struct vs_ship *ship;
  vs_now_fn now;                 /* NULL: the real clock */
  void *now_ctx;
} vs_server_config;

int vs_server_start(vs_server **out, const vs_server_config *c, vs_err *err);
/* The port actually bound (useful with port 0). */
uint16_t vs_server_port(const vs_server *s);
/* Replaces the keyring (SIGHUP re-reads the credentials file); the server
 * takes ownership and frees the old one once no request uses it. */
void vs_server_set_keys(vs_server *s, vs_keyring *keys);
/* Requests in flight now. */
unsigned vs_server_in_flight(const vs_server *s);
/* Graceful stop: accept no new connections, let requests in flight finish
 * for up to timeout_s seconds, then abort the rest cleanly (their uploads
 * leave nothing behind). Returns how many were aborted. */
unsigned vs_server_shutdown(vs_server *s, unsigned timeout_s);
/* Stops (if still running) and frees. */
void vs_server_free(vs_server *s);

/* Before serving a store after a crash: every version whose commit was in
 * flight (the store's intents) is kept if the manifest in manifest_dir
 * holds its `stored` event, else removed, so that no version is visible
 * without exactly one event. Logs one line naming them; counts into kept
 * and removed (either may be NULL). Reads only the segments the crashed
 * process wrote around and after its intents. */
int vs_server_reconcile(vs_store *store, const char *manifest_dir,
                        unsigned *kept, unsigned *removed, vs_err *err);

/* ---- shipping the manifest to a cluster bucket (ship.c) ---------------
 * Every closed segment (*.jsonl.gz) of a manifest folder is put to
 * BUCKET/[PREFIX/]manifest/NODE/NAME with Content-MD5 and If-None-Match: *
 * and marked shipped (the empty-ish file DIR/shipped/NAME) only once the
 * cluster took it. A 412 is compared with a HEAD (size, ETag = MD5): the
 * same bytes count as shipped, other bytes are an error, logged, counted
 * and kept locally. Segments a crashed writer left open are closed first
 * (vs_manifest_recover). A kill -9 anywhere at worst ships one again.
 *
 * With keep_ms, a shipped segment is removed from the folder (with its
 * marker) once it is older than keep_ms and older than anything start-up
 * reconciliation could still look for in it: every segment last written
 * after the oldest open intent of the store, less the reconciliation's
 * slack for clock steps (15 min), stays (vs_ship_prune). */
typedef struct vs_ship vs_ship;

typedef struct vs_ship_opts {
  const char *dir;                      /* the manifest folder */
  const char *node;                     /* NODE in the keys */
  const struct vs_s3_target *target;    /* the cluster; copied */
  const char *bucket;
  const char *prefix;                   /* NULL or "": none; no '/' around */
  /* Ticked every interval so that a quiet segment still closes on time
   * (vs_manifest_tick). NULL: none. Borrowed. */
  vs_manifest *manifest;
  long interval_ms;                     /* between passes; 0: 1000 */
  long max_backoff_ms;                  /* after failures; 0: 60000 */
  /* Remove shipped segments older than this from the folder; 0: keep
   * them. Needs store (borrowed), whose oldest open intent says what
   * reconciliation may still need (vs_store_oldest_intent). */
  int64_t keep_ms;
  vs_store *store;
} vs_ship_opts;

typedef struct vs_ship_stats {
  uint64_t shipped;    /* segments this process shipped (or found there) */
  uint64_t conflicts;  /* segments the cluster holds with other bytes */
  uint64_t errors;     /* failed attempts (network, auth, ...), retried */
  uint64_t pending;    /* closed segments not shipped after the last pass
                          (conflicts apart) */
  uint64_t pruned;     /* shipped segments removed from the folder */
} vs_ship_stats;

int vs_ship_open(vs_ship **out, const vs_ship_opts *o, vs_err *err);
/* One pass, on the caller's thread: the first error other than a
 * conflict stops it (the rest wait for the next pass). */
int vs_ship_pass(vs_ship *s, vs_err *err);
/* A thread that runs a pass every interval (first at once), backing off
 * (doubling up to max_backoff_ms) while passes fail. */
int vs_ship_start(vs_ship *s, vs_err *err);
/* Removes the shipped segments keep_ms allows (above), on the caller's
 * thread; the thread runs it after a pass at most once a minute. */
int vs_ship_prune(vs_ship *s, vs_err *err);
/* Stops the thread (after its request in flight, if any). */
void vs_ship_stop(vs_ship *s);
void vs_ship_stats_get(vs_ship *s, vs_ship_stats *st);
void vs_ship_free(vs_ship *s);

#ifdef __cplusplus
}
#endif
#endif
