/* The manifest: an append-only log of JSON lines, crash-safe, shared by
 * several writers. Each writer owns its segments (it never appends to one it
 * did not create), rotates them by size and age, and closes old ones as
 * gzip. Every event is one write() of one complete line, made durable before
 * the append returns, so a reader never takes half of one; a torn last line
 * (a crash mid-write) is skipped and reported.
 *
 * Every line starts {"v":1,"event":E,"time":T,"node":N, ... in that order,
 * so readers can sort and filter without a full parse. Events:
 *   submitted  taskUUID, task (signatures removed), estimate, target
 *   stored     bucket, key, versionId, bytes, sha256, contentType, etag,
 *              remote, taskUUID (when the key holds a UUID v4)
 *   result     taskUUID, videoUUID, videoURL, seed, cost, NSFWContent, source
 *   failed     taskUUID, code, message, parameter
 *   verified   bucket, key, versionId, ok, sha256, problem
 * Costs and estimates are JSON strings of exact decimals ("0.0668"). */
#ifndef VSINK_MANIFEST_H
#define VSINK_MANIFEST_H

#include <stdint.h>

#include "vsink/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cJSON;

#define VS_MANIFEST_MAX_BYTES (64ULL << 20)
#define VS_MANIFEST_MAX_AGE_MS (3600LL * 1000)

typedef struct vs_manifest vs_manifest;

typedef struct vs_manifest_opts {
  const char *dir;      /* created if missing */
  const char *node;     /* writer name in events and file names; NULL: host */
  uint64_t max_bytes;   /* 0: VS_MANIFEST_MAX_BYTES */
  int64_t max_age_ms;   /* 0: VS_MANIFEST_MAX_AGE_MS */
  uint64_t max_events;  /* lines per segment; 0: no limit */
  vs_now_fn now;
  void *now_ctx;
} vs_manifest_opts;

int vs_manifest_open(vs_manifest **out, const vs_manifest_opts *o,
                     vs_err *err);
/* Appends {"v":1,"event":event,"time":now,"node":node, <fields...>} as one
 * line and makes it durable. fields is a cJSON object (not consumed; may be
 * NULL). Thread-safe. On failure nothing a reader would take was written. */
int vs_manifest_append(vs_manifest *m, const char *event,
                       const struct cJSON *fields, vs_err *err);
/* Closes the current segment (gzip) and frees. NULL is fine. */
void vs_manifest_close(vs_manifest *m);
const char *vs_manifest_node(const vs_manifest *m);
/* Rotation is checked when a line comes; a writer that goes quiet calls
 * this now and then so that its segment still closes on time (max_age_ms).
 * Thread-safe. */
void vs_manifest_tick(vs_manifest *m);

/* A writer holds an exclusive flock(2) on each plain segment of its own
 * until that segment is compressed. Segments no writer holds (a writer
 * killed, or its compression failed) are closed here: compressed to .gz
 * (dropped when empty). Safe while writers append to dir, from any number
 * of processes. *closed (may be NULL): how many were closed. Errors are
 * logged; the first one is returned after every segment was tried. */
int vs_manifest_recover(const char *dir, int *closed, vs_err *err);

/* ---- reading ------------------------------------------------------------ */
typedef struct vs_manifest_segment {
  char *path;
  int gz;
} vs_manifest_segment;

/* Every segment in dir (plain and gzip; where a crash left both a segment
 * and its .gz, only the .gz; never a .gz.tmp), in name order. Writers name
 * segments <YYYYMMDDTHHMMSSmmmZ>-<node>-<pid>-<8 hex>.jsonl[.gz] after the
 * time they were opened, so name order is time order. */
int vs_manifest_list(const char *dir, vs_manifest_segment **segs, size_t *n,
                     vs_err *err);
void vs_manifest_list_free(vs_manifest_segment *segs, size_t n);

/* Called for each complete line (without its newline). Return non-zero to
 * stop the scan (the scan then returns that value). */
typedef int (*vs_manifest_line_fn)(void *ctx, const char *line, size_t len);
/* Called for a torn last line: where it is (byte offset in the segment;
 * for gzip, in its uncompressed stream) and how long. A gzip stream that
 * stops early is reported here too, at the point it stops (len may be 0). */
typedef void (*vs_manifest_torn_fn)(void *ctx, const char *segment,
                                    uint64_t offset, size_t len);

/* Streams one segment (buffered, never whole in memory). Each segment can
 * be read on its own thread: the way to fold many segments in parallel.
 * A plain segment compressed since it was listed is read from its .gz. */
int vs_manifest_read_segment(const vs_manifest_segment *s,
                             vs_manifest_line_fn fn, vs_manifest_torn_fn torn,
                             void *ctx, vs_err *err);
/* All segments of dir merged into one stream in event-time order (a stable
 * k-way merge, since writers interleave in time: equal times keep segment
 * name order, then file order). A line without a readable time sorts before
 * every other line waiting in the merge and is still delivered. Segments
 * are opened only when the stream nears the time in their name, so memory
 * follows how many overlap in time, not how many there are. */
int vs_manifest_scan(const char *dir, vs_manifest_line_fn fn,
                     vs_manifest_torn_fn torn, void *ctx, vs_err *err);

/* The "time" of a line in Unix ms: fast for lines the writer made, falls
 * back to a full parse for others. 0, or -1 when it has none readable. */
int vs_manifest_line_time(const char *line, size_t len, int64_t *ms);
/* The opening time in a segment's file name; INT64_MIN when the name is
 * not of the writer's form. */
int64_t vs_manifest_segment_start(const vs_manifest_segment *s);

#ifdef __cplusplus
}
#endif
#endif
