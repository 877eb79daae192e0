/* Object stores: where the sink puts the bytes. One interface, several
 * implementations (the local filesystem now; S3 multipart later). An upload
 * is begun, written in pieces, then committed (durable, then visible) or
 * aborted (no trace). The caller hashes the stream; the store records what
 * it is told and never trusts a path built from a key it has not checked. */
#ifndef VSINK_STORE_H
#define VSINK_STORE_H

#include <stdint.h>

#include "vsink/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VS_KEY_MAX 1024
/* vs_object_info.headers' size, its NUL included; S3 itself takes at most
 * 8 KiB of request headers, and 2 KiB of user metadata. */
#define VS_OBJ_HEADERS_MAX 8192

/* What a PUT to an existing key does. */
typedef enum vs_on_existing {
  VS_ON_EXISTING_VERSION = 0, /* keep every object as a version [default] */
  VS_ON_EXISTING_REJECT,      /* refuse: VS_ERR_EXISTS (412) */
  VS_ON_EXISTING_OVERWRITE    /* replace the current object */
} vs_on_existing;

int vs_on_existing_parse(const char *s, vs_on_existing *out);
const char *vs_on_existing_name(vs_on_existing p);

typedef struct vs_object_info {
  uint64_t bytes;
  char sha256[65];       /* hex */
  char md5[33];          /* hex, "" when not computed */
  char etag[65];         /* unquoted: md5 when known, else sha256 */
  char version_id[48];   /* the store's real id; a caller may show "null" */
  char content_type[256];
  int64_t mtime_ms;      /* when it was committed */
  /* The x-amz-checksum-* the client sent and the sink verified: the
   * header's suffix ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")
   * and S3's base64 of the digest; both "" when none was sent. */
  char checksum_alg[12];
  char checksum[48];
  /* The headers kept with the version and returned on GET/HEAD, one
   * "name:value\n" line each, names lower-case: cache-control,
   * content-disposition, content-encoding, content-language, expires and
   * the user metadata x-amz-meta-*. "" when none (and for versions stored
   * before vsink kept them). */
  char headers[VS_OBJ_HEADERS_MAX];
  /* A delete marker (S3 versioning): a version without bytes that makes
   * the key read as deleted while it is current (store_fs_delete.c). */
  int delete_marker;
  /* How many parts a multipart upload made it of (its ETag ends "-N");
   * 0 for an object stored whole. */
  unsigned parts_count;
} vs_object_info;

/* What the caller knows at commit time (it hashed the stream). */
typedef struct vs_commit {
  uint64_t bytes;
  const char *sha256;       /* hex, required */
  const char *md5;          /* hex or NULL */
  const char *content_type; /* NULL: application/octet-stream */
  vs_on_existing policy;
  int if_none_match;        /* If-None-Match: *  -> VS_ERR_EXISTS if present */
  /* OVERWRITE only: the replaced version stays until the new one is
   * settled (vs_store_settle), so a crash before the caller records the
   * new one, which is then removed, leaves the old one in place. */
  int defer_overwrite;
  /* The verified x-amz-checksum-*, kept in the metadata (see
   * vs_object_info); NULL or "" for none. */
  const char *checksum_alg;
  const char *checksum;
  /* Kept as vs_object_info.headers (same form); NULL or "" for none. */
  const char *headers;
  /* PutObject If-Match: the commit is refused unless the key's current
   * version has this ETag (unquoted), or any ETag for "*", checked under
   * the same lock as if_none_match: VS_ERR_EXISTS when it differs,
   * VS_ERR_NOTFOUND when the key holds nothing. NULL: no condition. */
  const char *if_match;
  /* Commit a delete marker (0 bytes, no data; see vs_store_put_marker). */
  int delete_marker;
} vs_commit;

typedef struct vs_store vs_store;
typedef struct vs_upload vs_upload;

/* Listing: the keys of a bucket in S3's order (their UTF-8 bytes compared
 * as unsigned numbers, so "a" < "a!" < "a.b" < "a/b"), one at a time. The
 * walk holds a bounded batch of names per directory level, never the
 * bucket: memory does not grow with the number of keys, and a prefix
 * prunes it to the directories that can hold matching keys (the
 * filesystem store; the S3 store pages through the cluster's listing). A
 * store without list_open is VS_ERR_INVALID. */
typedef struct vs_store_list vs_store_list;

typedef struct vs_list_opts {
  const char *bucket;
  const char *prefix;  /* only keys starting with it; NULL or "": all */
  const char *after;   /* only keys sorting after it; NULL or "": all */
  int all_versions;    /* also keys that hold versions but no current one */
} vs_list_opts;

typedef struct vs_list_item {
  char key[VS_KEY_MAX + 1];
  size_t key_len;
  int has_current;     /* info is the current version's */
  vs_object_info info;
} vs_list_item;

/* A listing's own operations: every store's listing starts with them. */
typedef struct vs_store_list_ops {
  int (*next)(vs_store_list *l, vs_list_item *item, int *end, vs_err *err);
  int (*skip)(vs_store_list *l, const char *prefix, vs_err *err);
  void (*close)(vs_store_list *l);
} vs_store_list_ops;

struct vs_store_list {
  const vs_store_list_ops *ops;
};


/* A committed version whose recording its committer never confirmed (see
 * settle below): after a crash, the versions that may have no manifest
 * event. */
typedef struct vs_store_intent {
  char bucket[64];
  char key[VS_KEY_MAX + 1];
  char version_id[48];
  long pid;         /* the process that committed it */
  int64_t mtime_ms; /* when the intent was made, by the filesystem's clock */
} vs_store_intent;

typedef struct vs_store_ops {
  int (*begin)(vs_store *s, const char *bucket, const char *key,
               vs_upload **out, vs_err *err);
  /* Appends n bytes. After a failed write the caller still owns the
   * upload: abort it (or commit, which refuses a short count). */
  int (*write)(vs_upload *u, const void *p, size_t n, vs_err *err);
  /* Makes the bytes durable, then visible under the policy; fills info
   * (version_id is always the real id; whether to show it is the caller's
   * business). c->bytes must equal what was written. The upload is freed
   * whatever the result; on any failure it is gone (no temporary or final
   * file): VS_ERR_EXISTS under REJECT or if_none_match, VS_ERR_NOSPACE when
   * the disk is full. */
  int (*commit)(vs_upload *u, const vs_commit *c, vs_object_info *info,
                vs_err *err);
  /* Drops the upload: nothing of it becomes visible. A remote store may
   * finish the work (parts in flight, its cluster upload) on its own
   * threads; all of it is done by the time the store is closed. */
  void (*abort)(vs_upload *u);
  /* Optional; from any thread, also while another is inside write: a
   * write that waits on the store (a remote store's part slots) returns
   * at once, failed, and so do later ones. The upload is then only fit
   * for abort. */
  void (*cancel)(vs_upload *u);
  /* Optional: -1 when write(u, n) would not wait on the store; else an
   * fd (the upload's) that becomes readable once it would not, or once
   * the upload failed or was cancelled, so that a caller which must not
   * block (an event thread) can wait for it in its poll. Valid until the
   * upload is committed or aborted. */
  int (*wait_fd)(vs_upload *u, size_t n);
  /* version_id NULL or "" for the current object; a missing key or
   * version, or a malformed version id, is VS_ERR_NOTFOUND. */
  int (*stat)(vs_store *s, const char *bucket, const char *key,
              const char *version_id, vs_object_info *info, vs_err *err);
  /* An fd positioned at 0 to read the object from (the caller closes it). */
  int (*open)(vs_store *s, const char *bucket, const char *key,
              const char *version_id, int *fd, vs_object_info *info,
              vs_err *err);
  /* Takes a committed version back (the sink does when it cannot record
   * it in the manifest): if it is current, the newest older version becomes
   * current again (or the key is left empty). VS_ERR_NOTFOUND if there is
   * no such version. Also settles the version's intent. */
  int (*remove)(vs_store *s, const char *bucket, const char *key,
                const char *version_id, vs_err *err);
  void (*close)(vs_store *s);
  /* Intents. A commit makes a durable intent naming its version before the
   * version can become visible, and it stays until the caller settles it,
   * once the version is recorded (the sink: its `stored` event is durable).
   * After a crash, the intents left name every version that may be
   * unrecorded: the sink looks each up at start and keeps or removes it.
   * settle with no such intent is VS_OK. intents: *list malloc'd (free
   * it), oldest version first. NULL (a store without intents): settle is
   * VS_OK, intents lists none. */
  int (*settle)(vs_store *s, const char *bucket, const char *key,
                const char *version_id, vs_err *err);
  int (*intents)(vs_store *s, vs_store_intent **list, size_t *n, vs_err *err);
  /* Optional: when the oldest intent open now was made (INT64_MAX: none),
   * from any thread while the store serves. intents is for start-up (it
   * may repair what an earlier run left); this only reads. */
  int (*oldest_intent)(vs_store *s, int64_t *made_ms, vs_err *err);
  /* Optional. The bytes the upload will hold (Content-Length, or an
   * aws-chunked body's decoded length), told before the first write; a
   * store that cuts the stream into parts sizes them from it. Without it
   * the store assumes the upload may be as large as S3 allows. */
  int (*expect)(vs_upload *u, uint64_t bytes, vs_err *err);
  /* Optional, after expect: 1 when the object will carry a multipart
   * ETag ("<MD5 of the parts' MD5s>-N", the store hashing each part it
   * makes), so the whole body's MD5 is not its ETag and the caller need
   * not compute it (unless it has a Content-MD5 to check). */
  int (*parted)(const vs_upload *u);
  /* Optional: a store whose objects are not local files (S3). Its open
   * fills info and sets *fd to -1; the caller then asks for the bytes it
   * serves with stream: an fd (the read end of a pipe, caller closes)
   * that yields exactly [off, off + len) of version_id (the real id open
   * gave) and then EOF. EOF before len bytes means the transfer failed. */
  int (*stream)(vs_store *s, const char *bucket, const char *key,
                const char *version_id, uint64_t off, uint64_t len, int *fd,
                vs_err *err);
  /* Listing (see vs_store_list_open below); NULL: the store cannot list. */
  int (*list_open)(vs_store *s, const vs_list_opts *o, vs_store_list **out,
                   vs_err *err);
  /* The version ids a key holds, oldest first (see vs_store_versions). */
  int (*versions)(vs_store *s, const char *bucket, const char *key,
                  char ***ids, size_t *n, vs_err *err);
  /* Optional. The content type and kept headers (vs_object_info.headers'
   * form) the upload's commit will name, told before the first write: a
   * store that creates the object before the body ends (S3 multipart:
   * CreateMultipartUpload carries them) needs them then, and its commit
   * refuses different ones (VS_ERR_INVALID) once it has. */
  int (*describe)(vs_upload *u, const char *content_type,
                  const char *headers, vs_err *err);
  /* Multipart uploads (vs_store_mpu_* below); NULL: the store has none. */
  const struct vs_store_mpu_ops *mpu;
  /* CopyObject (vs_store_copy below); NULL: the store does not copy. */
  int (*copy)(vs_store *s, const char *src_bucket, const char *src_key,
              const char *src_vid, const char *bucket, const char *key,
              const struct vs_commit *c, vs_object_info *info, vs_err *err);
  /* 1: its calls ask a server over the network (S3), so any of them may
   * wait for seconds; a caller with other work in hand (the sink's event
   * threads) makes them elsewhere (vs_store_is_remote). */
  int remote;
} vs_store_ops;

struct vs_store {
  const vs_store_ops *ops;
};

/* The local filesystem store rooted at dir (created if missing). Unless
 * read_only, takes an exclusive lock on dir (VS_ERR_BUSY when another process holds it),
 * removes temporary files a crash left behind (with the intents, and any
 * metadata, of commits that died before their version landed) and reports
 * how many in *cleaned (may be NULL). Intents of versions that did land are
 * left for the caller (vs_store_intents). */
typedef struct vs_store_fs_opts {
  const char *dir;
  vs_now_fn now;
  void *now_ctx;
  /* Open an existing dir for reading only (stat, open): no lock, nothing
   * created or cleaned, so an auditor can read while a sink holds the dir;
   * begin and remove then fail with VS_ERR_INVALID. A missing dir is
   * VS_ERR_NOTFOUND. */
  int read_only;
} vs_store_fs_opts;
int vs_store_fs_open(vs_store **out, const vs_store_fs_opts *o, int *cleaned,
                     vs_err *err);
/* Whether s is the filesystem store. */
int vs_store_is_fs(const vs_store *s);
/* Whether s's calls go over the network (vs_store_ops.remote): below. */
/* The version ids a key holds, oldest first (in the filesystem store ids
 * sort in commit order). *ids is malloc'd, as is each id: free both. A key
 * without versions is VS_OK with *n = 0. VS_ERR_INVALID for a store that
 * cannot list. vs_store_fs_list_versions is the filesystem store's. */
int vs_store_versions(vs_store *s, const char *bucket, const char *key,
                      char ***ids, size_t *n, vs_err *err);
int vs_store_fs_list_versions(vs_store *s, const char *bucket, const char *key,
                              char ***ids, size_t *n, vs_err *err);

/* CopyObject: a new version of bucket/key holding the bytes of version
 * src_vid (its real id) of src_bucket/src_key, committed through the same
 * path and intent as an upload, so c's policy, if_none_match, if_match,
 * defer_overwrite, content_type and headers apply as for a PUT; bytes,
 * sha256, md5 and the checksum are the source's (c's are ignored). The
 * filesystem store makes it a hard link of the source's version file
 * (nothing copied); the S3 store a server-side copy on the cluster
 * (s3store_copy.c). VS_ERR_NOTFOUND when the source version is missing;
 * VS_ERR_INVALID for a store that does not copy (vs_store_has_copy). */
int vs_store_copy(vs_store *s, const char *src_bucket, const char *src_key,
                  const char *src_vid, const char *bucket, const char *key,
                  const vs_commit *c, vs_object_info *info, vs_err *err);
/* For the stores' copy ops: what a copy commits, c (policy, conditions,
 * content type, headers) with the source's bytes, sha256, md5 and
 * checksum, so every store carries the same of its source. out points
 * into src: src must outlive it. */
void vs_store_copy_commit(const vs_commit *c, const vs_object_info *src,
                          vs_commit *out);

/* A missing bucket directory lists nothing (VS_OK). */
int vs_store_list_open(vs_store *s, const vs_list_opts *o,
                       vs_store_list **out, vs_err *err);
/* The next key into *item, or *end = 1 when there is none. */
int vs_store_list_next(vs_store_list *l, vs_list_item *item, int *end,
                       vs_err *err);
/* From now on, only keys sorting after every key that starts with prefix
 * (a delimiter's common prefix: its keys are not walked). */
int vs_store_list_skip(vs_store_list *l, const char *prefix, vs_err *err);
void vs_store_list_close(vs_store_list *l);

/* Delete markers and purges (store_fs_delete.c). A marker is committed
 * like an object, through begin/commit (so its intent is settled, and
 * reconciled after a crash, as an object's): 0 bytes, deleteMarker in its
 * metadata, always as a new version whatever the on-existing policy (a
 * delete never destroys bytes). info gets the marker's version. */
int vs_store_put_marker(vs_store *s, const char *bucket, const char *key,
                        vs_object_info *info, vs_err *err);
/* Removes version vid for good (vs_store_remove: @current repaired) unless
 * it is younger than min_age_ms at now_ms: VS_ERR_EXISTS then (info says
 * which version it was, marker or not). VS_ERR_NOTFOUND for no such
 * version. */
int vs_store_purge(vs_store *s, const char *bucket, const char *key,
                   const char *vid, int64_t min_age_ms, int64_t now_ms,
                   vs_object_info *info, vs_err *err);

/* ---- Multipart uploads (store_fs_mpu.c) ---------------------------------
 * S3's CreateMultipartUpload .. Complete, in the filesystem store: an upload
 * is a folder DATA/.multipart/<bucket>/<uploadId>/ holding its description
 * and its parts, each part durable before it is acknowledged. Complete
 * builds the object from the parts the client names (never from whatever is
 * on disk), hashing it whole, and commits it through the same path, policy
 * and intent as a PUT: a crash leaves either nothing visible or the whole
 * object. Only the filesystem store has them; another kind of store is
 * VS_ERR_INVALID. */
#define VS_UPLOAD_ID_LEN 32               /* fs: hex, creation ms, random */
#define VS_UPLOAD_ID_MAX 255              /* any store's (S3: the cluster's) */
#define VS_PART_NUMBER_MAX 10000
#define VS_PART_MIN_BYTES (5ULL << 20)    /* every part but the last */
#define VS_PART_MAX_BYTES (5ULL << 30)

typedef struct vs_mpu {
  char upload_id[VS_UPLOAD_ID_MAX + 1];
  char bucket[64];
  char key[VS_KEY_MAX + 1];
  int64_t created_ms;
  char content_type[256];   /* "" : application/octet-stream */
  /* x-amz-checksum-algorithm at Create, lower case ("crc32" ...), and
   * x-amz-checksum-type ("COMPOSITE" or "FULL_OBJECT"); "" when none */
  char checksum_alg[12];
  char checksum_type[12];
  char headers[VS_OBJ_HEADERS_MAX]; /* as vs_object_info.headers */
} vs_mpu;

typedef struct vs_part_info {
  unsigned number;          /* 1 .. VS_PART_NUMBER_MAX */
  uint64_t bytes;
  char md5[33];             /* hex: the part's ETag */
  char checksum_alg[12];    /* as vs_object_info: the verified */
  char checksum[48];        /* x-amz-checksum-*, "" when none */
  int64_t mtime_ms;
} vs_part_info;

/* A part as CompleteMultipartUpload names it. */
typedef struct vs_part_ref {
  unsigned number;
  char etag[33];            /* unquoted, lower-case hex */
  /* the checksum the client lists for it ("" none): must match the part's */
  char checksum[48];
} vs_part_ref;

/* Why Complete refused (S3's error codes). */
typedef enum vs_mpu_fault {
  VS_MPU_OK = 0,
  VS_MPU_INVALID_PART,      /* a part missing, or its ETag/checksum differ */
  VS_MPU_PART_ORDER,        /* numbers not strictly ascending */
  VS_MPU_TOO_SMALL          /* a part but the last under VS_PART_MIN_BYTES */
} vs_mpu_fault;

/* m in: bucket, key, content_type, checksum_alg, checksum_type, headers;
 * out: upload_id and created_ms. The upload is durable on return. */
int vs_store_mpu_create(vs_store *s, vs_mpu *m, vs_err *err);
/* The upload's description. VS_ERR_NOTFOUND when there is no such upload
 * for bucket/key (a malformed id included). */
int vs_store_mpu_get(vs_store *s, const char *bucket, const char *key,
                     const char *upload_id, vs_mpu *m, vs_err *err);
/* An upload of one part: written with vs_store_write, dropped with
 * vs_store_abort, ended with vs_store_part_commit (never vs_store_commit).
 * A part uploaded again replaces the earlier one when it commits. */
int vs_store_part_begin(vs_store *s, const char *bucket, const char *key,
                        const char *upload_id, unsigned number,
                        vs_upload **out, vs_err *err);
/* Makes the part durable, then current for its number. p: bytes (must be
 * what was written), md5 (hex, required), checksum_alg/checksum; p->number
 * and mtime_ms are filled. Frees u whatever the result; VS_ERR_NOTFOUND
 * when the upload ended (completed, aborted, expired) meanwhile. */
int vs_store_part_commit(vs_store *s, vs_upload *u, vs_part_info *p,
                         vs_err *err);
/* UploadPartCopy: the part holds bytes [off, off + len) of a stored
 * version (its real id): a hard link when that is the whole version, else
 * a copy. p out as vs_store_part_commit; the caller checked the source. */
int vs_store_part_copy(vs_store *s, const char *bucket, const char *key,
                       const char *upload_id, unsigned number,
                       const char *src_bucket, const char *src_key,
                       const char *src_vid, uint64_t off, uint64_t len,
                       vs_part_info *p, vs_err *err);
/* The upload's parts by number (*parts malloc'd: free it). */
int vs_store_mpu_parts(vs_store *s, const char *bucket, const char *key,
                       const char *upload_id, vs_part_info **parts,
                       size_t *n, vs_err *err);
/* Complete: checks refs against the parts (strictly ascending numbers,
 * matching ETags and checksums, sizes: *fault and VS_ERR_INVALID when one
 * fails), then writes their bytes in order into a new version of the key,
 * hashing it (SHA-256; the ETag is the MD5 of the parts' MD5s, "-N"), and
 * commits it as vs_commit c says (policy, if_none_match, if_match,
 * defer_overwrite; content type and headers are the upload's, c's bytes,
 * sha256, md5 and checksum_alg are ignored). c->checksum, when set, is the
 * whole object's checksum the client expects (base64): a FULL_OBJECT
 * upload's CRC must equal it (else VS_ERR_DIGEST), and any other upload,
 * which computes none, refuses it (VS_ERR_INVALID), before the commit. The upload stays until
 * vs_store_mpu_abort removes it: the caller does once the version is
 * recorded, so a crash before then leaves the client free to retry. */
int vs_store_mpu_complete(vs_store *s, const char *bucket, const char *key,
                          const char *upload_id, const vs_part_ref *refs,
                          size_t n, const vs_commit *c, vs_object_info *info,
                          vs_mpu_fault *fault, vs_err *err);
/* Removes the upload and its parts (Abort, and after Complete): one
 * rename makes it gone, the files go after. VS_ERR_NOTFOUND if none. */
int vs_store_mpu_abort(vs_store *s, const char *bucket, const char *key,
                       const char *upload_id, vs_err *err);
/* The uploads of a bucket in progress, by key (bytes), then creation
 * (*list malloc'd: free it). */
int vs_store_mpu_list(vs_store *s, const char *bucket, vs_mpu **list,
                      size_t *n, vs_err *err);
/* Aborts every upload created before before_ms; *removed counts them. */
int vs_store_mpu_expire(vs_store *s, int64_t before_ms, size_t *removed,
                        vs_err *err);
/* A completed multipart object's part n (1-based) as a byte range of the
 * version (GetObject ?partNumber): VS_ERR_NOTFOUND past its last part. An
 * object stored whole is one part. */
int vs_store_part_range(vs_store *s, const char *bucket, const char *key,
                        const char *version_id, unsigned n, uint64_t *off,
                        uint64_t *len, vs_err *err);

/* What a store implements of the calls above, each as documented there
 * (part_commit without its store argument). The vs_store_mpu_* calls are
 * VS_ERR_INVALID for a store without them; part_copy and part_range may be
 * NULL (the S3 store has no part_range). */
typedef struct vs_store_mpu_ops {
  int (*create)(vs_store *s, vs_mpu *m, vs_err *err);
  int (*get)(vs_store *s, const char *bucket, const char *key,
             const char *upload_id, vs_mpu *m, vs_err *err);
  int (*part_begin)(vs_store *s, const char *bucket, const char *key,
                    const char *upload_id, unsigned number, vs_upload **out,
                    vs_err *err);
  int (*part_commit)(vs_upload *u, vs_part_info *p, vs_err *err);
  int (*part_copy)(vs_store *s, const char *bucket, const char *key,
                   const char *upload_id, unsigned number,
                   const char *src_bucket, const char *src_key,
                   const char *src_vid, uint64_t off, uint64_t len,
                   vs_part_info *p, vs_err *err);
  int (*parts)(vs_store *s, const char *bucket, const char *key,
               const char *upload_id, vs_part_info **parts, size_t *n,
               vs_err *err);
  int (*complete)(vs_store *s, const char *bucket, const char *key,
                  const char *upload_id, const vs_part_ref *refs, size_t n,
                  const vs_commit *c, vs_object_info *info,
                  vs_mpu_fault *fault, vs_err *err);
  int (*abort)(vs_store *s, const char *bucket, const char *key,
               const char *upload_id, vs_err *err);
  int (*list)(vs_store *s, const char *bucket, vs_mpu **list, size_t *n,
              vs_err *err);
  int (*expire)(vs_store *s, int64_t before_ms, size_t *removed,
                vs_err *err);
  int (*part_range)(vs_store *s, const char *bucket, const char *key,
                    const char *version_id, unsigned n, uint64_t *off,
                    uint64_t *len, vs_err *err);
} vs_store_mpu_ops;

/* A stored object as the fields of a manifest `stored` event: bucket, key,
 * versionId, bytes, sha256 (when known), contentType, etag, checksum (when
 * one was verified: {"crc32":"<base64>"}), headers (when any was kept:
 * {"cache-control":"...","x-amz-meta-a":"..."}), taskUUID (when given) and
 * source ("put" from the sink, "head" from a bucket). The sink, its hook
 * and the submitter all record objects through this. NULL when out of
 * memory. */
struct cJSON;
struct cJSON *vs_store_event_fields(const char *bucket, const char *key,
                                    const vs_object_info *info,
                                    const char *task_uuid,
                                    const char *source);

/* Checks a key the way S3 does: VS_ERR_TOOLARGE over 1024 bytes;
 * VS_ERR_INVALID for empty, invalid UTF-8 or a NUL byte. Everything else
 * is a key (control bytes, "a//b", "a/", "/a", "a/../b"): the filesystem
 * store's names escape what a path could not hold (store_fs_key.c). */
int vs_store_check_key(const char *key, size_t len, vs_err *err);
/* S3 bucket naming rules: 3..63 of a-z 0-9 . -, starting and ending with a
 * letter or digit. */
int vs_store_check_bucket(const char *bucket, vs_err *err);

static inline int vs_store_begin(vs_store *s, const char *b, const char *k,
                                 vs_upload **u, vs_err *e)
{ return s->ops->begin(s, b, k, u, e); }
static inline int vs_store_write(vs_store *s, vs_upload *u, const void *p,
                                 size_t n, vs_err *e)
{ return s->ops->write(u, p, n, e); }
static inline int vs_store_commit(vs_store *s, vs_upload *u,
                                  const vs_commit *c, vs_object_info *i,
                                  vs_err *e)
{ return s->ops->commit(u, c, i, e); }
static inline void vs_store_abort(vs_store *s, vs_upload *u)
{ s->ops->abort(u); }
static inline void vs_store_cancel(vs_store *s, vs_upload *u)
{ if(s->ops->cancel && u) s->ops->cancel(u); }
static inline int vs_store_oldest_intent(vs_store *s, int64_t *made_ms,
                                         vs_err *e)
{
  return s->ops->oldest_intent ? s->ops->oldest_intent(s, made_ms, e)
                               : vs_fail(e, VS_ERR_INVALID, "the store "
                                         "cannot tell its oldest intent");
}
static inline int vs_store_wait_fd(vs_store *s, vs_upload *u, size_t n)
{ return s->ops->wait_fd && u ? s->ops->wait_fd(u, n) : -1; }
static inline int vs_store_is_remote(const vs_store *s)
{ return s && s->ops->remote; }
static inline int vs_store_stat(vs_store *s, const char *b, const char *k,
                                const char *v, vs_object_info *i, vs_err *e)
{ return s->ops->stat(s, b, k, v, i, e); }
static inline int vs_store_open(vs_store *s, const char *b, const char *k,
                                const char *v, int *fd, vs_object_info *i,
                                vs_err *e)
{ return s->ops->open(s, b, k, v, fd, i, e); }
static inline int vs_store_remove(vs_store *s, const char *b, const char *k,
                                  const char *v, vs_err *e)
{ return s->ops->remove(s, b, k, v, e); }
static inline void vs_store_close(vs_store *s)
{ if(s) s->ops->close(s); }
static inline int vs_store_settle(vs_store *s, const char *b, const char *k,
                                  const char *v, vs_err *e)
{ return s->ops->settle ? s->ops->settle(s, b, k, v, e) : VS_OK; }
static inline int vs_store_has_mpu(const vs_store *s)
{ return s && s->ops->mpu != 0; }
/* Whether the store serves vs_store_copy, and vs_store_part_copy. */
static inline int vs_store_has_copy(const vs_store *s)
{ return s && s->ops->copy != 0; }
static inline int vs_store_has_part_copy(const vs_store *s)
{ return s && s->ops->mpu != 0 && s->ops->mpu->part_copy != 0; }
static inline int vs_store_expect(vs_store *s, vs_upload *u, uint64_t n,
                                  vs_err *e)
{ return s->ops->expect ? s->ops->expect(u, n, e) : VS_OK; }
static inline int vs_store_parted(const vs_store *s, const vs_upload *u)
{ return s->ops->parted ? s->ops->parted(u) : 0; }
static inline int vs_store_describe(vs_store *s, vs_upload *u,
                                    const char *content_type,
                                    const char *headers, vs_err *e)
{
  return s->ops->describe ? s->ops->describe(u, content_type, headers, e)
                          : VS_OK;
}
static inline int vs_store_stream(vs_store *s, const char *b, const char *k,
                                  const char *v, uint64_t off, uint64_t len,
                                  int *fd, vs_err *e)
{
  *fd = -1;
  return s->ops->stream ? s->ops->stream(s, b, k, v, off, len, fd, e)
                        : vs_fail(e, VS_ERR_INVALID, "store cannot stream");
}
static inline int vs_store_intents(vs_store *s, vs_store_intent **l,
                                   size_t *n, vs_err *e)
{
  *l = 0;
  *n = 0;
  return s->ops->intents ? s->ops->intents(s, l, n, e) : VS_OK;
}

#ifdef __cplusplus
}
#endif
#endif
