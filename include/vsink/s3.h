/* A small S3 client for what vsink asks of a bucket it does not run: HEAD
 * an object (did the bytes land, how many, with which ETag), presign a PUT
 * into it, and the calls an S3-backed store needs (put, multipart uploads,
 * get, delete, listings, bucket versioning). Path-style addressing
 * (http://HOST:PORT/BUCKET/KEY), which every S3-compatible store accepts.
 * Each call is one request on a connection of its own (UploadPart may
 * make several: its retries); calls may run on any number of threads.
 * Requests are signed with vsink's own SigV4 (include/vsink/sigv4.h);
 * libcurl only carries them. */
#ifndef VSINK_S3_H
#define VSINK_S3_H

#include <stdint.h>

#include "vsink/common.h"
#include "vsink/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vs_s3_target {
  const char *endpoint; /* "http://127.0.0.1:PORT"; one trailing '/' allowed */
  const char *region;   /* "us-east-1" when NULL or "" */
  const char *key_id;
  const char *secret;
  /* Optional (zero = default): */
  vs_now_fn now;        /* the signing clock; NULL: the real one */
  void *now_ctx;
  long timeout_ms;      /* whole request; default 30000 (connect: 10000);
                           for a body sent or streamed (put, part, complete,
                           get): the longest time no byte moves */
  int part_attempts;    /* UploadPart tries (1..10); default 4 */
  long retry_base_ms;   /* first back-off, doubled per try; default 200 */
} vs_s3_target;

/* Errors of every call below: VS_ERR_INVALID for a bad target, bucket, key
 * or argument and for a 400 (VS_ERR_DIGEST for BadDigest, VS_ERR_TOOLARGE
 * for EntityTooLarge); VS_ERR_NOTFOUND for 404 (NoSuchKey, NoSuchUpload,
 * NoSuchBucket, NoSuchVersion); VS_ERR_AUTH for 403; VS_ERR_EXISTS for 412
 * (If-None-Match: * on a key that exists); VS_ERR_BUSY for 409; VS_ERR_NET,
 * which is worth retrying, for 5xx, 429, SlowDown, RequestTimeout,
 * transport errors and timeouts, other statuses and malformed answers;
 * VS_ERR_IO when a body cannot be read from its file or a receiver stops a
 * GET. err->msg holds "METHOD bucket/key: HTTP <status> <S3 code>:
 * <message>" (S3's code and message from the error document). */

#define VS_S3_ETAG_MAX 72
#define VS_S3_VERSION_MAX 48  /* as vs_object_info's */
#define VS_S3_UPLOAD_ID_MAX 256

/* What a write left behind: the ETag (unquoted) and the version id
 * (x-amz-version-id; "" when the bucket is not versioned). */
typedef struct vs_s3_put_result {
  char etag[VS_S3_ETAG_MAX];
  char version_id[VS_S3_VERSION_MAX];
} vs_s3_put_result;

/* A request body: mem's len bytes when mem is set, else len bytes of the
 * file fd from off (read with pread, so fd's offset is untouched and a
 * retry reads them again). md5: the body's MD5 in base64 when the caller
 * hashed it already (a spool file, hashed while it was written): then the
 * body is read once, sent with that Content-MD5, which the signature
 * covers, and x-amz-content-sha256: UNSIGNED-PAYLOAD; NULL: vsink hashes
 * the body first and signs its SHA-256 too. */
typedef struct vs_s3_body {
  const void *mem;
  int fd;
  uint64_t off;
  uint64_t len;
  const char *md5;
} vs_s3_body;

/* HEAD /bucket/key. Fills info: bytes (Content-Length), etag (unquoted),
 * content_type, mtime_ms (Last-Modified, whole seconds), version_id
 * (x-amz-version-id, "null" when absent), sha256 from x-amz-checksum-sha256
 * when the store sends it (else ""), headers (the kept ones, see
 * vs_s3_write_opts, names lower-case, in the answer's order); md5 is "".
 * Errors: VS_ERR_INVALID for a bad target, bucket (S3 naming rules) or key
 * (vs_store_check_key) and for a 400; VS_ERR_NOTFOUND for 404; VS_ERR_AUTH
 * for 403; VS_ERR_NET for transport errors, timeouts, other statuses and a
 * malformed answer. A HEAD answer has no body, so on an error status the
 * same URL is fetched once more with GET to put S3's error code
 * (NoSuchKey, SignatureDoesNotMatch, ...) in err->msg. */
int vs_s3_head(const vs_s3_target *t, const char *bucket, const char *key,
               vs_object_info *info, vs_err *err);
/* The same for one version (version_id NULL or "": the current one). A
 * delete marker's HEAD is VS_ERR_NOTFOUND (AWS: 405 with ?versionId, else
 * 404; both with x-amz-delete-marker, which then sets info->delete_marker;
 * Ceph RGW sends a plain 404 NoSuchKey: only a version listing tells). */
int vs_s3_head_version(const vs_s3_target *t, const char *bucket,
                       const char *key, const char *version_id,
                       vs_object_info *info, vs_err *err);

/* ---- writes (s3_put.c) --------------------------------------------------- */

/* What a new object carries besides its bytes (PutObject, Create). */
typedef struct vs_s3_write_opts {
  const char *content_type; /* NULL or "": none */
  /* "name:value\n" lines as vs_object_info.headers: cache-control,
   * content-disposition, content-encoding, content-language, expires and
   * x-amz-meta-* (at most 48 lines; all signed). NULL or "": none. */
  const char *headers;
  int if_none_match;        /* PutObject: If-None-Match: * */
} vs_s3_write_opts;

/* PutObject: the body with Content-MD5 and its SHA-256 as the signed
 * x-amz-content-sha256 (the body is read twice: hashed, then sent), or
 * with body->md5 and UNSIGNED-PAYLOAD (read once). o may
 * be NULL. With o->if_none_match an existing key is never replaced (412:
 * VS_ERR_EXISTS). */
int vs_s3_put(const vs_s3_target *t, const char *bucket, const char *key,
              const vs_s3_body *body, const vs_s3_write_opts *o,
              vs_s3_put_result *out, vs_err *err);

/* ---- multipart uploads (s3_mpu.c; their listing: s3_list.c) -------------- */

typedef struct vs_s3_part {
  unsigned number;             /* 1..10000 */
  char etag[VS_S3_ETAG_MAX];   /* unquoted, as UploadPart returned it */
} vs_s3_part;

/* CreateMultipartUpload (o may be NULL; if_none_match is not used): the
 * upload id into upload_id. */
int vs_s3_mpu_create(const vs_s3_target *t, const char *bucket,
                     const char *key, const vs_s3_write_opts *o,
                     char upload_id[VS_S3_UPLOAD_ID_MAX], vs_err *err);
/* UploadPart from body, with Content-MD5 and the payload's SHA-256 (or
 * body->md5 and UNSIGNED-PAYLOAD, as vs_s3_put); tried
 * up to t->part_attempts times on VS_ERR_NET, with doubling back-off, the
 * bytes read again each time. The part's ETag into etag. */
int vs_s3_mpu_part(const vs_s3_target *t, const char *bucket,
                   const char *key, const char *upload_id, unsigned number,
                   const vs_s3_body *body, char etag[VS_S3_ETAG_MAX],
                   vs_err *err);
/* CompleteMultipartUpload from the caller's own list of parts (ascending
 * numbers; never from ListParts, which would complete with whatever parts
 * the store happens to hold). S3 may answer 200 and then an <Error> body:
 * that is an error like any other (InternalError: VS_ERR_NET). When the
 * answer's ETag is empty (Ceph RGW sends <ETag></ETag>), out->etag is the
 * one S3 defines, computed from the parts' MD5 ETags ("" if they are not
 * MD5s): compare it with a HEAD before trusting the object. */
int vs_s3_mpu_complete(const vs_s3_target *t, const char *bucket,
                       const char *key, const char *upload_id,
                       const vs_s3_part *parts, size_t n,
                       vs_s3_put_result *out, vs_err *err);
/* AbortMultipartUpload; NoSuchUpload is VS_ERR_NOTFOUND. */
int vs_s3_mpu_abort(const vs_s3_target *t, const char *bucket,
                    const char *key, const char *upload_id, vs_err *err);

typedef struct vs_s3_upload {
  char *key;
  char upload_id[VS_S3_UPLOAD_ID_MAX];
  int64_t initiated_ms;
} vs_s3_upload;

typedef struct vs_s3_uploads_page {
  vs_s3_upload *uploads;
  size_t n;
  int truncated;
  char *next_key_marker;       /* NULL when absent */
  char *next_upload_id_marker;
} vs_s3_uploads_page;

/* ListMultipartUploads: one page of the uploads under prefix (NULL: all),
 * after (key_marker, upload_id_marker) (NULL: from the start). Free with
 * vs_s3_uploads_page_free. */
int vs_s3_mpu_list(const vs_s3_target *t, const char *bucket,
                   const char *prefix, const char *key_marker,
                   const char *upload_id_marker, vs_s3_uploads_page *out,
                   vs_err *err);
void vs_s3_uploads_page_free(vs_s3_uploads_page *p);

/* One part of ListParts. */
typedef struct vs_s3_part_entry {
  unsigned number;
  uint64_t size;
  char etag[VS_S3_ETAG_MAX];   /* unquoted */
  int64_t mtime_ms;
} vs_s3_part_entry;

typedef struct vs_s3_parts_page {
  vs_s3_part_entry *parts;     /* by number */
  size_t n;
  int truncated;
  unsigned next_marker;        /* NextPartNumberMarker; 0 when absent */
} vs_s3_parts_page;

/* ListParts: one page of the upload's parts numbered above marker (0: from
 * the first). NoSuchUpload is VS_ERR_NOTFOUND. Free with
 * vs_s3_parts_page_free. */
int vs_s3_mpu_parts(const vs_s3_target *t, const char *bucket,
                    const char *key, const char *upload_id, unsigned marker,
                    vs_s3_parts_page *out, vs_err *err);
void vs_s3_parts_page_free(vs_s3_parts_page *p);

/* ---- server-side copies (s3_copy.c) ------------------------------------- */
/* The source of a copy: a version (NULL or "": the current one) and, for
 * UploadPartCopy, a byte range. */
typedef struct vs_s3_copy_src {
  const char *bucket;
  const char *key;
  const char *version_id;
  int range;                /* 1: bytes first..last (both included) */
  uint64_t first, last;
} vs_s3_copy_src;
/* CopyObject of src into bucket/key with x-amz-metadata-directive REPLACE:
 * the new object carries o's content type and headers, nothing of the
 * source's (o may be NULL: none). At most 5 GiB (S3's limit for one
 * copy). A 200 whose body is an <Error> is that error. out: the result's
 * ETag and the new x-amz-version-id. */
int vs_s3_copy(const vs_s3_target *t, const vs_s3_copy_src *src,
               const char *bucket, const char *key,
               const vs_s3_write_opts *o, vs_s3_put_result *out, vs_err *err);
/* UploadPartCopy: part number of upload_id holds src's bytes (its range
 * when src->range); the part's ETag into etag. Not retried. */
int vs_s3_mpu_part_copy(const vs_s3_target *t, const vs_s3_copy_src *src,
                        const char *bucket, const char *key,
                        const char *upload_id, unsigned number,
                        char etag[VS_S3_ETAG_MAX], vs_err *err);
/* ---- reads and deletes (s3_get.c, s3_delete.c) ----------------------------- */

/* Receives a GET's body as it arrives; nonzero stops the transfer (the call
 * then fails with VS_ERR_IO, "stopped by the receiver"). */
typedef int (*vs_s3_data_fn)(void *ctx, const void *p, size_t n);

typedef struct vs_s3_get_opts {
  const char *version_id;  /* NULL or "": the current version */
  int range;               /* 1: bytes first..last (last < 0: to the end) */
  uint64_t first;
  int64_t last;
  /* NULL, or asked (with fn's ctx) at most ten times a second while the
   * answer is awaited or comes: 0 stops the transfer, VS_ERR_IO (the receiver
   * went away: there is no one to wait for the cluster for) */
  int (*alive)(void *ctx);
} vs_s3_get_opts;

/* GetObject streamed to fn (constant memory), with info filled from the
 * headers as vs_s3_head does (bytes: this answer's Content-Length). opts
 * may be NULL. A range past the end is VS_ERR_INVALID (416). Not retried:
 * on a failure fn may have had part of the body (a cut connection is
 * VS_ERR_NET), so a caller that retries starts its receiver over. */
int vs_s3_get(const vs_s3_target *t, const char *bucket, const char *key,
              const vs_s3_get_opts *opts, vs_s3_data_fn fn, void *ctx,
              vs_object_info *info, vs_err *err);

typedef struct vs_s3_delete_result {
  int delete_marker;                   /* x-amz-delete-marker: true */
  char version_id[VS_S3_VERSION_MAX];  /* the marker's (or the removed
                                          version's) id; "" when none */
} vs_s3_delete_result;

/* DeleteObject; with version_id that version is removed for good. out may
 * be NULL. S3 answers 204 for a key that does not exist too. */
int vs_s3_delete(const vs_s3_target *t, const char *bucket, const char *key,
                 const char *version_id, vs_s3_delete_result *out,
                 vs_err *err);

/* ---- listings and the bucket (s3_list.c, s3_bucket.c) --------------------- */

typedef struct vs_s3_entry {
  char *key;
  uint64_t size;
  char etag[VS_S3_ETAG_MAX];            /* unquoted; "" for a marker */
  int64_t mtime_ms;
  char version_id[VS_S3_VERSION_MAX];   /* versions only */
  int is_latest;                        /* versions only */
  int delete_marker;                    /* versions only */
} vs_s3_entry;

typedef struct vs_s3_list_page {
  vs_s3_entry *entries;    /* Contents, or Version and DeleteMarker in order */
  size_t n;
  char **prefixes;         /* CommonPrefixes */
  size_t n_prefixes;
  int truncated;
  char *next_token;        /* ListObjectsV2: NextContinuationToken */
  char *next_key_marker;   /* ListObjectVersions */
  char *next_version_marker;
} vs_s3_list_page;

typedef struct vs_s3_list_opts {
  const char *prefix;       /* all NULL or 0 when unused */
  const char *delimiter;
  const char *token;        /* ListObjectsV2's continuation token */
  const char *key_marker;   /* ListObjectVersions' markers */
  const char *version_marker;
  unsigned max_keys;        /* 0: the server's default (1000) */
} vs_s3_list_opts;

/* One page of ListObjectsV2 / ListObjectVersions. opts may be NULL. Free
 * with vs_s3_list_page_free. The listings ask for encoding-type=url (a key
 * may hold bytes XML cannot carry) and hand back keys, prefixes and key
 * markers decoded; tokens and version ids are passed back as they came. */
int vs_s3_list(const vs_s3_target *t, const char *bucket,
               const vs_s3_list_opts *opts, vs_s3_list_page *out,
               vs_err *err);
int vs_s3_list_versions(const vs_s3_target *t, const char *bucket,
                        const vs_s3_list_opts *opts, vs_s3_list_page *out,
                        vs_err *err);
void vs_s3_list_page_free(vs_s3_list_page *p);

typedef enum vs_s3_versioning {
  VS_S3_VERSIONING_NEVER = 0, /* never enabled: no Status */
  VS_S3_VERSIONING_ENABLED,
  VS_S3_VERSIONING_SUSPENDED
} vs_s3_versioning;

/* GetBucketVersioning into *state (a vs_s3_versioning). */
int vs_s3_bucket_versioning(const vs_s3_target *t, const char *bucket,
                            int *state, vs_err *err);

/* A presigned PUT URL for /bucket/key (malloc'd into *url), signed at now
 * (Unix seconds), valid for expires seconds (1..604800). The bucket and key
 * are checked as for vs_s3_head. t->now is not used: now is explicit. */
int vs_s3_presign_put(const vs_s3_target *t, const char *bucket,
                      const char *key, int64_t now, int64_t expires,
                      char **url, vs_err *err);

/* ---- the S3 store (s3store*.c) --------------------------------------------
 * The store interface of vsink/store.h over a cluster bucket, for sink
 * nodes that keep nothing another node needs. Sink bucket B's key K is the
 * cluster key PREFIX/B/K (B/K without a prefix); PREFIX/manifest/ holds
 * shipped manifests, so a sink bucket cannot be named "manifest". Bodies
 * are spooled to temporary files in spool_dir: one PutObject up to the
 * part size, else a multipart upload whose parts (max(8 MiB, size/10000),
 * all equal) go up while the body still arrives, a bounded number in
 * flight. A version is the cluster's (its version id is the object's), so
 * the cluster bucket must have versioning on for VS_ON_EXISTING_VERSION;
 * vs_store_s3_open checks it when require_versioning is set. Intents (see
 * vs_store_ops) are kept under state_dir on the node.
 * What the store's operations do on the cluster:
 * - metadata: content type and kept headers go on the object; a multipart
 *   upload's Create carries them, so they must be told before the body
 *   (vs_store_describe; a commit naming others is VS_ERR_INVALID). The
 *   store adds x-amz-meta-vsink-intent (the intent's token) and, for a
 *   single PutObject, x-amz-meta-vsink-sha256, -md5 and -checksum
 *   ("alg:base64"); stat moves them back into vs_object_info and out of
 *   its headers (a client's own x-amz-meta-vsink-* are dropped). A
 *   multipart object stats with sha256 "" and the cluster's "-N" ETag
 *   (its commit's info has the caller's digests, for the manifest).
 * - commit checks what landed (HEAD: size and ETag) and takes it back
 *   when it differs; REJECT, if_none_match and if_match are checked by a
 *   HEAD before the write (PutObject also sends If-None-Match: *, which
 *   RGW ignores in a versioned bucket), which races with another writer
 *   of the same key: the sink commits one upload per key at a time.
 * - a commit that fails with VS_ERR_NET may have landed (or left a
 *   multipart upload it could not abort): its intent stays, with pid 0,
 *   and intents() reports the version if one carries its token, else
 *   aborts the upload and drops the intent.
 * - copy (vs_store_copy) is a CopyObject of the source's version on the
 *   cluster (REPLACE: the caller's headers, a new intent token, the
 *   source's digests; a source without a SHA-256 in its metadata is read
 *   back once to hash it), committed and checked as a PutObject is; a
 *   source over copy_max is a multipart upload of UploadPartCopy parts.
 *   part_copy is a cluster UploadPartCopy into the client's upload.
 * - listing pages through ListObjectVersions (the only listing that tells
 *   the current version's id).
 * - parts_in_flight is per open store: its pool of part threads. */
typedef struct vs_store_s3_opts {
  vs_s3_target t;            /* the cluster */
  const char *bucket;        /* the cluster bucket */
  const char *prefix;        /* NULL or "": none; no leading or trailing '/' */
  const char *spool_dir;     /* created if missing */
  const char *state_dir;     /* created if missing; intents live here */
  int require_versioning;    /* VS_ERR_INVALID unless versioning is Enabled */
  unsigned parts_in_flight;  /* per store (its part threads); 0: 8 */
  unsigned upload_parts;     /* in flight per upload; 0: 2 */
  /* The largest source one CopyObject copies (0: S3's 5 GiB); a larger
   * one is copied as a multipart upload of UploadPartCopy parts. */
  uint64_t copy_max;
} vs_store_s3_opts;

/* Opens the store (o->t's strings and o->bucket are not copied: they must
 * outlive it). The cluster bucket must exist (VS_ERR_NOTFOUND) and answer
 * (VS_ERR_NET). Closing waits for the upload parts under way and for the
 * stream threads, which end when their reader closes its fd. */
int vs_store_s3_open(vs_store **out, const vs_store_s3_opts *o, vs_err *err);

/* Parses "s3://BUCKET[/PREFIX]" into its bucket and prefix (malloc'd,
 * prefix "" when none, trailing '/' dropped). VS_ERR_INVALID with a message
 * naming what is wrong. */
int vs_store_s3_url_parse(const char *url, char **bucket, char **prefix,
                          vs_err *err);

/* ---- shipped manifests (s3_manifest.c) -----------------------------------
 * Sink nodes ship their closed manifest segments to
 * BUCKET/[PREFIX/]manifest/NODE/NAME.jsonl.gz (server.h: vs_ship_*). */

/* Their s3://BUCKET[/PREFIX] is vs_store_s3_url_parse's. */

typedef struct vs_s3_stage_counts {
  size_t local;    /* segments taken from the local folder */
  size_t fetched;  /* segments downloaded from the bucket */
} vs_s3_stage_counts;

/* A private folder (mkdtemp under $TMPDIR or /tmp) holding every segment
 * of the manifest at url (s3://BUCKET[/PREFIX]: all nodes' segments under
 * PREFIX/manifest/) and, when local is set, that folder's segments (hard
 * links, or copies), for the manifest's readers (vs_manifest_scan,
 * vs_manifest_list). A name the local folder has is not downloaded (a
 * name is one segment). The folder's path into *dir_out: remove it with
 * vs_s3_manifest_unstage. counts may be NULL. */
int vs_s3_manifest_stage(const vs_s3_target *t, const char *url,
                         const char *local, char **dir_out,
                         vs_s3_stage_counts *counts, vs_err *err);
/* Removes the folder and its files, and frees dir. NULL is fine. */
void vs_s3_manifest_unstage(char *dir);

#ifdef __cplusplus
}
#endif
#endif
