/* What the S3 store's files share (internal to vsink_store): s3store.c
 * (open, close, URL, key mapping, key holds), s3store_put.c (uploads:
 * spooling, the part pool), s3store_commit.c (commits), s3store_read.c
 * (stat, open, stream, remove, versions), s3store_list.c (listing) and
 * s3store_intent.c (the intent journal under state_dir). */
#ifndef VS_STORE_S3STORE_INT_H
#define VS_STORE_S3STORE_INT_H

#include <pthread.h>
#include <stdint.h>

#include "util/buf.h"
#include "vsink/s3.h"
#include "vsink/store.h"

#define VS__S3S_PART_MIN (8ULL << 20)
#define VS__S3S_TOKEN_LEN 32 /* hex of 16 random bytes */
/* The metadata the store adds to every object (x-amz-meta-vsink-*). */
#define VS__S3S_META "x-amz-meta-vsink-"

typedef struct vs__s3s_job vs__s3s_job;

/* A key held by one commit or removal of this process (vs__s3s_hold). */
typedef struct vs__s3s_held {
  struct vs__s3s_held *next;
  const char *ckey;
} vs__s3s_held;

typedef struct vs__s3s {
  vs_store base;
  vs_s3_target t;
  const char *bucket;   /* the cluster bucket */
  char *prefix;         /* "" or "PREFIX/" */
  char *spool;          /* spool_dir */
  char *idir;           /* state_dir/intent */
  unsigned upload_parts;
  uint64_t copy_max;    /* the largest source one CopyObject copies */
  /* The part pool: parts_in_flight threads taking jobs from one queue, so
   * the process never sends more parts at once than it has threads. */
  pthread_mutex_t mu;
  pthread_cond_t work;  /* a job was queued, or the pool stops */
  pthread_cond_t idle;  /* a stream thread ended */
  vs__s3s_job *head, *tail;
  int stopping;
  pthread_t *threads;
  unsigned n_threads;
  unsigned streams;     /* stream threads alive (close waits for them) */
  /* the cleaner of failed commits' intents (s3store_intent.c), started
   * by the first one; stopping (above) ends it too */
  pthread_t cleaner;
  int cleaner_running;
  int ended;            /* a failed commit left an intent since the pass */
  pthread_cond_t clean;
  /* keys held (vs__s3s_hold), under mu; released: one was let go */
  vs__s3s_held *held;
  pthread_cond_t released;
} vs__s3s;

/* A part spool file of an upload: filled by write(), then sent by a pool
 * thread, then filled again. Its MD5 is taken from the bytes as they are
 * written (the Content-MD5 it goes up with), not read back from the file:
 * one pass fewer, and a file that changed on disk fails as BadDigest. */
typedef struct vs__s3s_slot {
  int fd;
  uint64_t len;
  int busy;             /* queued or being sent */
  struct evp_md_ctx_st *md5; /* of the len bytes so far; NULL: none yet */
  char md5_b64[25];     /* set when the slot is handed over */
} vs__s3s_slot;

struct vs__s3s_job {
  vs__s3s_job *next;
  struct vs_upload *u;
  unsigned slot;
  unsigned number;
  int create;           /* the first: makes the cluster upload, then sends */
  int reap;             /* not a part: ends the aborted upload (end_upload) */
};

struct vs_upload {
  vs__s3s *s;
  char bucket[64];
  char *key;            /* the sink's */
  char *ckey;           /* the cluster's */
  uint64_t part_size;
  uint64_t expected;    /* told by expect; 0: not told */
  uint64_t written;
  int started;          /* the first write came: expect is too late */
  vs__s3s_slot *slots;  /* upload_parts + 1 */
  unsigned n_slots;
  unsigned cur;         /* the slot write() fills */
  /* Multipart, once the body outgrew one part. Guarded by s->mu, but
   * upload_id, which the first job writes while creating is set: */
  char upload_id[VS_S3_UPLOAD_ID_MAX];
  vs_s3_part *parts;    /* by number - 1 */
  unsigned n_parts;     /* parts handed to the pool so far */
  unsigned cap_parts;
  unsigned in_flight;   /* jobs queued or running */
  int creating;         /* the first job is making the cluster upload */
  int cancelled;        /* queued jobs are dropped, not sent */
  int part_rc;          /* the first part's failure */
  vs_err part_err;
  pthread_cond_t done;  /* a job of this upload ended */
  int wake_fd;          /* wait_fd's eventfd, -1 until asked for */
  int want_wake;        /* wait_fd said wait: the next done signals it */
  /* describe's (NULL: none told), which Create carried */
  char *ctype;
  char *headers;
  /* A client's multipart upload (s3store_mpu.c): a part upload spools
   * its whole body (part_size unbounded) for UploadPart at part_commit;
   * a Complete commits the parts it names (client set). */
  char *client_upload;
  unsigned client_part;
  int client;
  /* A copy (s3store_copy.c): the source's cluster key and version; the
   * commit copies it on the cluster instead of sending a body. */
  char *copy_ckey;
  char copy_vid[VS_S3_VERSION_MAX];
  /* the intent: token made at begin, written at Create or commit */
  struct vs__s3s_intent *intent;
  int intent_made;
};

/* ---- s3store.c -------------------------------------------------------- */
/* The cluster key of bucket/key (malloc'd): VS_ERR_INVALID for a bad
 * bucket or key, VS_ERR_TOOLARGE over 1024 bytes. */
int vs__s3s_ckey(const vs__s3s *s, const char *bucket, const char *key,
                 char **out, vs_err *err);
/* The cluster key prefix of a sink bucket, "PREFIX/B/" (malloc'd). */
int vs__s3s_bucket_prefix(const vs__s3s *s, const char *bucket, char **out,
                          vs_err *err);

/* ---- s3store_put.c, s3store_commit.c ----------------------------------- */
/* Ends the MD5 of what the slot holds into its md5_b64 (and starts the
 * next): before the slot goes up. */
int vs__s3s_slot_seal(vs__s3s_slot *sl, vs_err *err);
int vs__s3s_begin(vs_store *st, const char *bucket, const char *key,
                  vs_upload **out, vs_err *err);
int vs__s3s_expect(vs_upload *u, uint64_t bytes, vs_err *err);
int vs__s3s_parted(const vs_upload *u);
void vs__s3s_cancel(vs_upload *u);
int vs__s3s_wait_fd(vs_upload *u, size_t n);
int vs__s3s_describe(vs_upload *u, const char *content_type,
                     const char *headers, vs_err *err);
int vs__s3s_write(vs_upload *u, const void *p, size_t n, vs_err *err);
int vs__s3s_commit(vs_upload *u, const vs_commit *c, vs_object_info *info,
                   vs_err *err);
void vs__s3s_abort(vs_upload *u);
/* The header lines of a new cluster object: the user's (any
 * x-amz-meta-vsink-* dropped), the intent token and, with c, its digests. */
int vs__s3s_meta(const char *token, const char *user, const vs_commit *c,
                 vs_buf *b, vs_err *err);
/* Makes u's intent durable (before anything it names can land). */
int vs__s3s_make_intent(vs_upload *u, vs_err *err);
/* Commits a client's multipart upload: u->upload_id, parts, n_parts,
 * written and the intent's token set by the caller; policy, conditions,
 * intent, verification and SHA-256 (vs__s3s_hash) as for any upload.
 * Frees u; the cluster upload stays when this fails. */
int vs__s3s_commit_parts(vs_upload *u, const vs_commit *c,
                         vs_object_info *info, vs_err *err);
/* The part pool's threads (n of them); stopped by vs__s3s_pool_stop. */
int vs__s3s_pool_start(vs__s3s *s, unsigned n, vs_err *err);
void vs__s3s_pool_stop(vs__s3s *s);

/* What becomes of an upload's intent when it ends (vs__s3s_end_upload):
 * kept (the version is the caller's to record and settle), dropped, or
 * left without a process (pid 0) for the cleaner and the next start. */
enum { VS__S3S_INTENT_KEEP, VS__S3S_INTENT_DROP, VS__S3S_INTENT_ENDED };

/* s3store_put.c, for s3store_commit.c: the upload's end (parts in flight
 * waited for, its cluster upload aborted, the intent's fate, u freed);
 * the last part handed over and every part answered. */
void vs__s3s_end_upload(vs_upload *u, int fate);
int vs__s3s_finish_parts(vs_upload *u, vs_err *err);
const char *vs__s3s_ctype(const char *ct); /* "" or NULL: octet-stream */

/* One at a time per cluster key in this process: a commit that reads the
 * current version and writes after it (OVERWRITE, reject, If-Match,
 * If-None-Match), and a removal, which passes on what the removed version
 * replaced to the intents of its replacements. Another node's writes are
 * not held back (the cluster gives no conditional write in a versioned
 * bucket). h lives on the caller's stack until vs__s3s_release. */
void vs__s3s_hold(vs__s3s *s, vs__s3s_held *h, const char *ckey);
void vs__s3s_release(vs__s3s *s, vs__s3s_held *h);

/* ---- s3store_read.c --------------------------------------------------- */
int vs__s3s_stat(vs_store *st, const char *bucket, const char *key,
                 const char *vid, vs_object_info *info, vs_err *err);
int vs__s3s_open_obj(vs_store *st, const char *bucket, const char *key,
                     const char *vid, int *fd, vs_object_info *info,
                     vs_err *err);
int vs__s3s_stream(vs_store *st, const char *bucket, const char *key,
                   const char *vid, uint64_t off, uint64_t len, int *fd,
                   vs_err *err);
int vs__s3s_remove(vs_store *st, const char *bucket, const char *key,
                   const char *vid, vs_err *err);
int vs__s3s_versions(vs_store *st, const char *bucket, const char *key,
                     char ***ids, size_t *n, vs_err *err);
/* The versions of one cluster key, oldest first (*out malloc'd, each
 * entry's key too: vs__s3s_entries_free). */
int vs__s3s_key_versions(vs__s3s *s, const char *ckey, vs_s3_entry **out,
                         size_t *n, vs_err *err);
void vs__s3s_entries_free(vs_s3_entry *e, size_t n);
/* HEAD of a cluster key's version, info as the store shows it (the
 * vsink metadata moved out of info->headers into its fields); *token gets
 * the intent token when token is not NULL ("" when none). */
int vs__s3s_head(vs__s3s *s, const char *ckey, const char *vid,
                 vs_object_info *info, char token[VS__S3S_TOKEN_LEN + 1],
                 vs_err *err);

/* ---- s3store_mpu.c ---------------------------------------------------- */
extern const vs_store_mpu_ops vs__s3s_mpu_ops;
/* The SHA-256 (hex) of a version, read back from the cluster: a client's
 * multipart object is hashed whole once it has landed. */
int vs__s3s_hash(vs__s3s *s, const char *ckey, const char *vid,
                 uint64_t bytes, char hex[65], vs_err *err);

/* ---- s3store_journal.c ------------------------------------------------ */
struct vs__s3s_intent;
/* "PREFIX.uploads/<bucket>/" (malloc'd): where the journals are. */
int vs__s3s_journal_dir(const vs__s3s *s, const char *bucket, char **out,
                        vs_err *err);
/* The description of a client's upload from its journal object (key NULL:
 * of any key): VS_ERR_NOTFOUND when the sink has no such upload. */
int vs__s3s_journal_get(vs__s3s *s, const char *bucket, const char *key,
                        const char *id, vs_mpu *m,
                        char token[VS__S3S_TOKEN_LEN + 1], vs_err *err);
/* The journal written whole: at Create (excl: If-None-Match), and again
 * by each Complete attempt, naming it, before the cluster's Complete. */
int vs__s3s_journal_put(vs__s3s *s, const vs_mpu *m, const char *token,
                        const char *attempt, int excl, vs_err *err);
/* Every version of the journal and of its parts' checksums. */
int vs__s3s_journal_drop(vs__s3s *s, const char *bucket, const char *id,
                         vs_err *err);
/* Whether the upload's journal still names the intent's Complete attempt
 * (*ours 0 when it names another, or is gone: completed and recorded, or
 * aborted). */
int vs__s3s_mpu_ours(vs__s3s *s, const struct vs__s3s_intent *it,
                     int *ours, vs_err *err);
/* A part's verified checksum, kept beside the journal; get: both fields
 * "" when none was kept. */
int vs__s3s_part_sum_put(vs__s3s *s, const char *bucket, const char *id,
                         const vs_part_info *p, vs_err *err);
int vs__s3s_part_sum_get(vs__s3s *s, const char *bucket, const char *id,
                         unsigned number, vs_part_info *p, vs_err *err);

/* ---- s3store_copy.c --------------------------------------------------- */
/* vs_store_copy: a server-side copy on the cluster, committed as a PUT. */
int vs__s3s_copy(vs_store *st, const char *src_bucket, const char *src_key,
                 const char *src_vid, const char *bucket, const char *key,
                 const vs_commit *c, vs_object_info *info, vs_err *err);
/* The write of a copy's commit (u->copy_ckey set): makes the intent, then
 * CopyObject, or a multipart upload of UploadPartCopy parts for a source
 * over s->copy_max (u->upload_id set then); res gets what landed. */
int vs__s3s_put_copy(vs_upload *u, const vs_commit *c, vs_s3_put_result *res,
                     vs_err *err);
/* UploadPartCopy into a client's upload (vs_store_mpu_ops.part_copy). */
int vs__s3s_part_copy(vs_store *st, const char *bucket, const char *key,
                      const char *upload_id, unsigned number,
                      const char *src_bucket, const char *src_key,
                      const char *src_vid, uint64_t off, uint64_t len,
                      vs_part_info *p, vs_err *err);

/* ---- s3store_list.c --------------------------------------------------- */
int vs__s3s_list_open(vs_store *st, const vs_list_opts *o,
                      vs_store_list **out, vs_err *err);

/* ---- s3store_intent.c ------------------------------------------------- */
/* One intent: a file state_dir/intent/<name> written whole (temporary
 * file, fsync, rename, directory fsync). The token is what the version
 * carries as x-amz-meta-vsink-intent: the commit's own, equal to the name,
 * except for a client's multipart Complete, whose version carries the
 * token its Create gave every attempt; such an intent is named by its
 * attempt, which the upload's journal names too (vs__s3s_mpu_ours). */
typedef struct vs__s3s_intent {
  char name[VS__S3S_TOKEN_LEN + 1];
  char token[VS__S3S_TOKEN_LEN + 1];
  long pid;
  int64_t made_ms;
  int marker;                          /* a delete marker's commit */
  char version_id[VS_S3_VERSION_MAX];  /* "" until the cluster answered */
  char replaces[VS_S3_VERSION_MAX];    /* deferred overwrite: to delete */
  char upload_id[VS_S3_UPLOAD_ID_MAX]; /* a multipart commit's */
  char bucket[64];
  char key[VS_KEY_MAX + 1];
} vs__s3s_intent;

/* A new random token into it->token. */
int vs__s3s_token(char out[VS__S3S_TOKEN_LEN + 1], vs_err *err);
/* Writes it (made durable when sync). */
int vs__s3s_intent_put(vs__s3s *s, const vs__s3s_intent *it, int sync,
                       vs_err *err);
void vs__s3s_intent_drop(vs__s3s *s, const char *name);
/* A client's Complete attempt (its name is not its token). */
int vs__s3s_intent_attempt(const vs__s3s_intent *it);
/* Before version vid of bucket/key is taken back: intents that replace
 * vid now replace what vid replaced (a chain of deferred overwrites
 * old <- vid <- next keeps one version whichever of them is recorded).
 * Only this node's intents: a chain across nodes is not followed. */
int vs__s3s_pass_on(vs__s3s *s, const char *bucket, const char *key,
                    const char *vid, vs_err *err);
/* Drops the intent of a version taken back (remove): a deferred
 * overwrite's replaced version stays. */
int vs__s3s_intent_forget(vs__s3s *s, const char *bucket, const char *key,
                          const char *vid, vs_err *err);
int vs__s3s_settle(vs_store *st, const char *bucket, const char *key,
                   const char *vid, vs_err *err);
int vs__s3s_oldest_intent(vs_store *st, int64_t *made_ms, vs_err *err);
int vs__s3s_intents(vs_store *st, vs_store_intent **list, size_t *n,
                    vs_err *err);
/* A commit ended with its intent kept (pid 0): the cleaner retries it
 * while the sink runs. */
void vs__s3s_ended(vs__s3s *s);
/* Stops the cleaner (s->stopping set); what it left waits for the next
 * start. */
void vs__s3s_cleaner_stop(vs__s3s *s);

#endif
