/* What the filesystem store's files share (internal to vsink_store):
 * store_fs.c (upload, commit, read, remove), store_fs_name.c (paths,
 * version ids, the versions of a key), store_fs_meta.c (a version's
 * metadata JSON), store_fs_open.c (open, lock, clean-up, close), and the
 * operations built on them (copy, delete, list). */
#ifndef VS_STORE_FS_INT_H
#define VS_STORE_FS_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "vsink/store.h"

#define VS__FS_STRIPES 64
#define VS__VID_LEN 26 /* 20261124T121500123Z-a1b2c3 */

typedef struct vs__fs_store {
  vs_store base;
  char *dir;
  char *tmp;     /* DIR/.tmp */
  char *buckets; /* DIR/buckets */
  char *intent;  /* DIR/.intent */
  char *multipart; /* DIR/.multipart (store_fs_mpu.c) */
  int lock_fd;
  int read_only;
  vs_now_fn now;
  void *now_ctx;
  /* Commits to one key are serialized (policy check, version id, swap);
   * different keys rarely share a stripe. */
  pthread_mutex_t stripe[VS__FS_STRIPES];
} vs__fs_store;

struct vs_upload {
  vs__fs_store *s;
  int fd;
  uint64_t written;
  uint64_t wb_started; /* bytes handed to write-back so far */
  int wb_errno;        /* a write-back error, reported again at commit */
  int direct;          /* 1: the file has O_DIRECT now; -1: refused */
  uint64_t synced;     /* bytes flushed to the device so far */
  /* Complete's upload of the whole object: its ETag ("<hex>-N") and
   * parts_count replace what the commit would make of its md5, and
   * meta_extra (JSON members, each with a leading ',') joins the version's
   * metadata. NULL/0 for any other upload. */
  const char *etag;
  unsigned parts_count;
  const char *meta_extra;
  /* Multipart (store_fs_mpu*.c). A part's upload: its number (never 0),
   * its data file is `part` in its upload's folder updir, and only
   * vs_store_part_commit ends it. */
  unsigned part_number;
  char upload_id[VS_UPLOAD_ID_LEN + 1];
  char bucket[64]; /* as checked by vs__fs_key_dir: for the intent */
  /* In the same allocation, behind the record (vs__fs_upload_new): each
   * as long as it is, not PATH_MAX, so 256 uploads in flight keep 256
   * small records, not 13.5 KiB each. "" when not used. */
  const char *part;
  const char *keydir;
  const char *updir;
  char *key;
  char names[];
};

extern const vs_store_ops vs__fs_ops;
/* One zeroed record with copies of the names (NULL: ""), fd -1; one free()
 * frees it all. NULL when memory is short. */
vs_upload *vs__fs_upload_new(vs__fs_store *s, const char *bucket,
                             const char *key, const char *keydir,
                             const char *part, const char *updir);
/* store_fs_write.c: the store's write (O_DIRECT for aligned blocks) */
int vs__fs_write(vs_upload *u, const void *p, size_t n, vs_err *err);

/* ---- store_fs_key.c: a key's names on disk */
#define VS__NAME_MAX 255 /* bytes in a file name (NAME_MAX) */
/* The most an encoded segment or key takes ("@>" and '/' per 253 bytes,
 * "@=" or '@' at the end): a buffer for a whole key's relative path. */
#define VS__SEG_PATH_MAX (VS_KEY_MAX + 3 * (VS_KEY_MAX / 253 + 1) + 3)
#define VS__KEY_PATH_MAX (3 * VS_KEY_MAX + 4)
enum { VS__NAME_NONE, VS__NAME_WHOLE, VS__NAME_PIECE };
/* Segment s (n bytes, no '/') as a relative path of one or more names,
 * NUL-terminated in out: its length, or (size_t)-1 when cap is too small. */
size_t vs__fs_seg_encode(const char *s, size_t n, char *out, size_t cap);
/* One directory entry: VS__NAME_WHOLE for a whole segment, VS__NAME_PIECE
 * for the first bytes of one continued in the entry's own directory, both
 * with *seg,*n (pointing into name); VS__NAME_NONE for the store's own
 * files and for what the encoding never makes. */
int vs__fs_name_decode(const char *name, const char **seg, size_t *n);
/* A whole key (len bytes, its segments between '/') as the relative path
 * of its directory; (size_t)-1 when cap is too small. */
size_t vs__fs_key_encode(const char *key, size_t len, char *out, size_t cap);
/* The inverse: the key a relative path stands for, NUL-terminated; its
 * length, or (size_t)-1 when the path is not one vs__fs_key_encode makes
 * or cap is too small. */
size_t vs__fs_key_decode(const char *path, char *out, size_t cap);

/* ---- store_fs_name.c */
/* snprintf into out; VS_ERR_TOOLARGE when it does not fit. */
int vs__fs_path(char *out, size_t cap, vs_err *err, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
/* DIR/buckets/<bucket>/<escaped segments>, after checking both names. */
int vs__fs_key_dir(const vs__fs_store *s, const char *bucket,
                   const char *key, char *out, size_t cap, vs_err *err);
unsigned vs__fs_stripe(const char *keydir);
/* A new file DIR/.tmp/<32 hex><suffix>, open for writing. */
int vs__fs_tmp_create(vs__fs_store *s, const char *suffix, char *path,
                      size_t cap, int *fd, vs_err *err);
/* rename() that fails with EEXIST instead of replacing (-1 and errno). */
int vs__fs_rename_noreplace(const char *from, const char *to);
int vs__fs_vid_valid(const char *v);
int64_t vs__fs_vid_ms(const char *v);
int vs__fs_vid_make(int64_t ms, char out[VS__VID_LEN + 1], vs_err *err);
/* The current version of a key; *has = 0 when it has none. */
int vs__fs_read_current(const char *keydir, char vid[VS__VID_LEN + 1],
                        int *has, vs_err *err);
/* The version ids in keydir, sorted (oldest first); a missing keydir has
 * none. */
int vs__fs_list_sorted(const char *keydir, char ***ids, size_t *n,
                       vs_err *err);

/* ---- store_fs_meta.c */
/* The metadata of a version, durable, in a temporary file; extra: JSON
 * members (",\"name\":value...") to add, or NULL. */
int vs__fs_meta_write_tmp(vs__fs_store *s, const vs_object_info *info,
                          const char *extra, char *tmp, size_t cap,
                          vs_err *err);
/* A version's metadata file (text, len) into info; -1 when it is not the
 * metadata of version vid. */
int vs__store_fs_meta_parse(const char *text, size_t len, const char *vid,
                            vs_object_info *info);
int vs__fs_read_meta(const char *keydir, const char *vid,
                     vs_object_info *info, vs_err *err);
/* The JSON members a multipart object's metadata adds: its part sizes,
 * run-length (",\"parts\":[[size,count],...]"), malloc'd; NULL when out of
 * memory. */
char *vs__fs_meta_parts_json(const uint64_t *sizes, size_t n);
/* Part n (1-based) of the multipart version whose metadata is text as a
 * byte range; -1 past its last part or without parts. */
int vs__fs_meta_part(const char *text, size_t len, unsigned n,
                     uint64_t *off, uint64_t *bytes);

/* ---- store_fs_open.c */
void vs__fs_close(vs_store *base);
/* store_fs_list.c */
int vs__fs_list_open(vs_store *s, const vs_list_opts *o, vs_store_list **out,
                     vs_err *err);

/* ---- store_fs_mpu.c */
/* At open: removes what aborted uploads and unrecorded parts left in
 * DIR/.multipart, adding each file or folder to *cleaned. */
int vs__fs_mpu_clean(vs__fs_store *s, int *cleaned, vs_err *err);

/* ---- store_fs.c */
/* DIR/buckets of a filesystem store; NULL for another kind of store. */
const char *vs__store_fs_buckets(const vs_store *s);
/* vs_store_copy in the filesystem store (store_fs_copy.c). */
int vs__fs_copy(vs_store *s, const char *src_bucket, const char *src_key,
                const char *src_vid, const char *bucket, const char *key,
                const vs_commit *c, vs_object_info *info, vs_err *err);
/* vs_commit.headers' form: "name:value\n" lines, names lower-case tokens,
 * values without control bytes but tab, fitting VS_OBJ_HEADERS_MAX. */
int vs__fs_headers_ok(const char *h);
/* A version's files gone (no fsync). */
void vs__fs_remove_version(const char *keydir, const char *vid);

/* The upload's bytes become a hard link of version vid of bucket/key, of
 * the given size (store_fs_copy.c); commit it as if they had been written.
 * VS_ERR_NOTFOUND when the version is gone. */
int vs__store_fs_upload_link(vs_upload *u, const char *bucket,
                             const char *key, const char *vid,
                             uint64_t bytes, vs_err *err);

#endif
