/* Reports: the manifest folded into one row per output (DESIGN.md part 7).
 *
 * The fold reads every event of a manifest (any order, duplicates, several
 * writers, torn and malformed lines skipped and counted) and joins them by
 * taskUUID into one row per output: what was asked (prompt, size, duration,
 * seed), what it cost (the estimate split per output, the actual cost of
 * its result), where the bytes are (bucket, key, versionId, bytes, SHA-256)
 * and a status:
 *   complete           a result and a stored object;
 *   waiting            not finished, still inside the grace;
 *   missing-upload     the grace has passed and no object arrived (with a
 *                      result: paid for and lost; without one: the API never
 *                      answered);
 *   missing-result     an object arrived for a submitted task but no result
 *                      (webhook and poll both lost: the cost is unknown)
 *                      after the grace;
 *   unexpected-upload  a stored object no submission explains;
 *   failed             the API reported an error (error code and message);
 *   checksum-mismatch / missing-object
 *                      the latest `verified` event of the row's object says
 *                      so (any problem other than "missing-object" counts as
 *                      a checksum mismatch: the bytes are not the ones stored);
 *   deleted            the output's key reads as deleted: a delete marker
 *                      (`deleted` event) is its current version; the
 *                      output's version is still kept (report_del.c);
 *   purged             the output's version was removed for good (`purged`
 *                      event, vsink serve --allow-purge).
 * deleted and purged are not problems: both are deliberate, authenticated
 * acts (a cron job must not alert forever after a clean-up). A purge
 * outranks every other status (the bytes are gone); a verify problem
 * outranks deleted (a deleted output's version is still meant to be
 * intact); deleted outranks complete, waiting and missing-result. A PUT of
 * the key after its marker, or a purge of the marker, makes the key read
 * again: its outputs are then what they were before the delete; a version
 * of a task's key stored after its previous one was deleted or purged takes
 * that one's place when the task explains no more versions (numberResults,
 * results): the new stored wins, one complete row. Rows that
 * no submission explains stay unexpected-upload, their deleted/purged
 * fields filled. Costs are never touched: the video was paid for.
 * Grace deadlines run from the event that makes the row wait: the result for
 * a missing upload, the stored object for a missing result, the submission
 * when neither came.
 *
 * Costs are exact decimals (util/dec.h): a task's estimate is split over its
 * numberResults outputs to the 10^-10 USD, the remainder units going to the
 * first outputs, so that per-output estimates add up to the manifest's
 * estimates exactly; actual costs are the results' costs, each result
 * counted once however many times it was reported.
 *
 * Usage: vs_report_new, then vs_report_load (a manifest directory) and/or
 * vs_report_add_line (lines one by one), then vs_report_finish once, then
 * vs_report_each / vs_report_group / vs_report_write any number of times. */
#ifndef VSINK_REPORT_H
#define VSINK_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "vsink/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int64_t vs_report_dec; /* a vs_dec: 10^-10 units (util/dec.h) */

typedef enum vs_report_status {
  VS_REPORT_COMPLETE = 0,
  VS_REPORT_WAITING,
  VS_REPORT_MISSING_UPLOAD,
  VS_REPORT_MISSING_RESULT,
  VS_REPORT_UNEXPECTED_UPLOAD,
  VS_REPORT_FAILED,
  VS_REPORT_CHECKSUM_MISMATCH,
  VS_REPORT_MISSING_OBJECT,
  VS_REPORT_DELETED,
  VS_REPORT_PURGED,
  VS_REPORT_NSTATUS
} vs_report_status;

/* "complete", "missing-upload", ...; NULL when out of range. */
const char *vs_report_status_name(int status);
/* The status named exactly; -1 when unknown. */
int vs_report_status_parse(const char *name, int *status);
/* complete, waiting, deleted and purged are fine; everything else is a
 * problem. */
int vs_report_status_is_problem(int status);

#define VS_REPORT_GRACE_MS (2LL * 3600 * 1000)

typedef struct vs_report vs_report;

typedef struct vs_report_opts {
  /* Keep what only per-row output shows (prompt, format, quality, seeds,
   * widths, videoUUID, bucket/key/versionId, SHA-256, error messages).
   * Without it the fold keeps only what statuses, costs and grouping need,
   * which is what makes a million-output manifest fit in memory; rows then
   * have those fields empty. Statuses and totals are the same either way. */
  int detail;
  int jobs; /* reader threads for vs_report_load; 0: one per CPU, at most 8 */
} vs_report_opts;

/* What the fold saw. */
typedef struct vs_report_stats {
  uint64_t lines;          /* complete lines read */
  uint64_t torn;           /* torn last lines skipped */
  uint64_t malformed;      /* lines skipped: not JSON, or a field unusable */
  uint64_t unknown;        /* well-formed events of a kind the fold ignores */
  uint64_t submitted, stored, results, failed, verified;
  uint64_t duplicates;     /* results and stored objects seen twice */
  uint64_t segments;
  char first_problem[320]; /* where and why the first skipped line was */
  uint64_t deleted, purged; /* `deleted` and `purged` events */
} vs_report_stats;

int vs_report_new(vs_report **out, const vs_report_opts *o, vs_err *err);
void vs_report_free(vs_report *r);

/* One manifest line (without its newline). A malformed line is counted and
 * skipped, not an error: `where` (may be NULL) names it in the stats.
 * Fails only when out of memory or after vs_report_finish. */
int vs_report_add_line(vs_report *r, const char *line, size_t len,
                       const char *where, vs_err *err);
/* Counts a torn line (the manifest reader's torn callback). */
void vs_report_add_torn(vs_report *r, const char *segment, uint64_t offset,
                        size_t len);
/* Every segment of a manifest directory (vs_manifest_list), read on
 * opts.jobs threads. */
int vs_report_load(vs_report *r, const char *dir, vs_err *err);
/* Joins what was added; now_ms and grace_ms decide waiting against
 * missing-upload / missing-result. Call once. */
int vs_report_finish(vs_report *r, int64_t now_ms, int64_t grace_ms,
                     vs_err *err);
void vs_report_get_stats(const vs_report *r, vs_report_stats *st);
/* 1 when the manifest holds a `deleted` or `purged` event: the outputs
 * then carry their columns (a manifest from before deletes reports exactly
 * as it did). */
int vs_report_has_deletes(const vs_report *r);

/* One output. Strings are NULL when absent (or not kept: opts.detail);
 * numbers have a has_ flag or -1. Pointers live as long as the report. */
typedef struct vs_report_row {
  int status;
  int64_t time_ms;         /* the row's time: its submission, else the
                              earliest event about it (windows, days) */
  char task_uuid[37];      /* "" for a stored object with no task */
  char video_uuid[37];     /* "" until a result names it (detail) */
  int64_t submitted_ms;    /* -1: no submitted event */
  const char *prompt;
  const char *model;
  const char *size;        /* the task's resolution, else "WxH": grouping */
  const char *resolution;  /* the task's resolution field (detail) */
  int width, height;       /* 0: not given (detail) */
  int has_duration;
  vs_report_dec duration;  /* seconds, as asked */
  const char *format;      /* outputFormat (detail) */
  int quality;             /* outputQuality; -1: not given (detail) */
  int has_seed_requested;
  int64_t seed_requested;  /* detail */
  int has_seed;
  int64_t seed;            /* the result's (detail) */
  int number_results;      /* 0: no submission */
  int has_estimate;
  vs_report_dec estimate;  /* this output's share of the task's estimate */
  int has_cost;
  vs_report_dec cost;      /* the result's actual cost */
  const char *bucket, *key, *version_id; /* the object (detail); NULL: none */
  int has_object;
  int64_t stored_ms;       /* -1: no object */
  int64_t bytes;           /* -1: no object */
  char sha256[65];         /* detail; "" when unknown */
  int64_t verified_ms;     /* the latest verified event; -1: never */
  const char *verify_problem; /* its problem, NULL when it was ok */
  const char *error_code, *error_message; /* failed (detail for message) */
  int64_t deleted_ms;      /* the marker that made the key read as deleted;
                              -1: the key is not deleted */
  const char *delete_marker; /* that marker's versionId */
  int64_t purged_ms;       /* the purge of the row's version; -1: none */
} vs_report_row;

/* Which rows: since <= time_ms < until, and a status in status_mask
 * (bit 1 << status; 0: every status). */
typedef struct vs_report_filter {
  int64_t since_ms;
  int64_t until_ms;
  unsigned status_mask;
} vs_report_filter;

void vs_report_filter_init(vs_report_filter *f); /* everything */

/* Calls fn for each row passing f (NULL: all), ordered by time, then
 * taskUUID, then output. Non-zero from fn stops and is returned. */
typedef int (*vs_report_row_fn)(void *ctx, const vs_report_row *row);
int vs_report_each(const vs_report *r, const vs_report_filter *f,
                   vs_report_row_fn fn, void *ctx);

/* ---- grouping and output (src/report/report_out.c) ---------------------------- */
typedef enum vs_report_by {
  VS_REPORT_BY_NONE = 0,
  VS_REPORT_BY_DAY,        /* UTC date of the row's time */
  VS_REPORT_BY_MODEL,
  VS_REPORT_BY_RESOLUTION, /* row.size */
  VS_REPORT_BY_STATUS,
  VS_REPORT_BY_PREFIX      /* the key up to its last '/' (needs detail) */
} vs_report_by;

int vs_report_by_parse(const char *name, int *by); /* -1 when unknown */
const char *vs_report_by_name(int by);

typedef struct vs_report_group {
  char *name;              /* "(none)" when the rows lack the field */
  uint64_t outputs;
  vs_report_dec seconds;   /* seconds of video asked for by these rows */
  vs_report_dec estimated;
  vs_report_dec actual;
  uint64_t bytes;
  uint64_t problems;       /* rows whose status is a problem */
  uint64_t deleted, purged; /* rows with those statuses */
} vs_report_group;

/* Groups of the rows passing f, sorted by name, and their total (name
 * "TOTAL"). Free with vs_report_groups_free. */
int vs_report_groups(const vs_report *r, const vs_report_filter *f, int by,
                     vs_report_group **groups, size_t *n,
                     vs_report_group *total, vs_err *err);
void vs_report_groups_free(vs_report_group *g, size_t n);
void vs_report_group_free(vs_report_group *g); /* a lone total */

typedef enum vs_report_format {
  VS_REPORT_TABLE = 0, /* aligned columns, totals at the bottom */
  VS_REPORT_CSV,       /* RFC 4180, header row, CRLF line ends */
  VS_REPORT_JSONL,     /* one object per row (or group) */
  VS_REPORT_HTML       /* vs_report_html, not vs_report_write */
} vs_report_format;

int vs_report_format_parse(const char *name, int *format);

typedef struct vs_report_summary {
  uint64_t rows;
  uint64_t problems; /* rows not complete or waiting: exit status 1 */
} vs_report_summary;

/* Writes the rows passing f (by == VS_REPORT_BY_NONE) or their groups in
 * format (TABLE, CSV or JSONL). sum (may be NULL) counts the rows. */
int vs_report_write(const vs_report *r, const vs_report_filter *f, int by,
                    int format, FILE *out, vs_report_summary *sum,
                    vs_err *err);

/* The self-contained HTML report (src/report/report_html.c): one file needing no
 * network (inline CSS, SVG and JS): a summary (outputs, seconds of video,
 * spend, problems), bar charts of spend per day and per resolution, a
 * table of the rows sortable by column, problems first, at most max_rows
 * of them (totals always count every row), and for each stored object a
 * <video preload="none"> through a presigned GET URL when
 * preview_endpoint is set. Everything from the manifest is HTML-escaped;
 * costs are printed exactly. Expects a report folded with opts.detail. */
typedef struct vs_report_html_opts {
  const char *title;            /* NULL: "vsink report" */
  const char *preview_endpoint; /* "http://host:port" of the sink; NULL:
                                   no previews */
  const char *key_id, *secret;  /* sign the previews with these */
  const char *region;           /* NULL: us-east-1 */
  int64_t expires_s;            /* preview URL lifetime; 0: 7 days */
  int64_t now_ms;               /* "generated at" and signing time; 0: now */
  size_t max_rows;              /* 0: 20000 */
} vs_report_html_opts;

#define VS_REPORT_HTML_MAX_ROWS 20000

int vs_report_html(const vs_report *r, const vs_report_filter *f,
                   const vs_report_html_opts *o, FILE *out,
                   vs_report_summary *sum, vs_err *err);

/* ---- verify (src/report/report_verify.c) ---------------------------------------
 * Re-reads every object the manifest's `stored` events name from a store
 * (the local sink's data folder), re-hashes it with SHA-256 and compares
 * bytes and hash with the event. Each object is checked once however often
 * it was recorded; stored events with no local object (source "head":
 * bucket targets, or no sha256) are skipped and counted, and so are
 * versions a `purged` event removed for good (their bytes are meant to be
 * gone: not a missing object). A deleted key's versions are kept by the
 * sink and checked by versionId like any other. */
struct vs_store;
struct vs_manifest;

typedef struct vs_verify_item {
  const char *bucket, *key, *version_id;
  uint64_t bytes_expected;     /* the manifest's */
  const char *sha256_expected; /* the manifest's */
  uint64_t bytes_read;
  char sha256[65];             /* of what was read; "" when nothing was */
  int ok;
  /* NULL when ok, else "checksum-mismatch", "size-mismatch",
   * "missing-object" or "read-error" (an I/O error reading it) */
  const char *problem;
  char detail[320];            /* why, for people */
} vs_verify_item;

/* Called once per object checked, one call at a time, with how many of the
 * total are done (this one included). The item and its strings live only
 * during the call. */
typedef void (*vs_verify_fn)(void *ctx, const vs_verify_item *it,
                             uint64_t done, uint64_t total,
                             uint64_t bytes_done);

typedef struct vs_verify_opts {
  const char *manifest_dir;
  struct vs_store *store;     /* where the objects are (read-only is fine) */
  struct vs_manifest *events; /* a `verified` event per object; NULL: none */
  int jobs;                   /* objects read at once; 0: 1 */
  size_t read_size;           /* bytes per read(); 0: 1 MiB */
  vs_verify_fn on_item;       /* may be NULL */
  void *ctx;
} vs_verify_opts;

typedef struct vs_verify_stats {
  uint64_t objects;  /* checked */
  uint64_t ok, problems;
  uint64_t checksum_mismatch, size_mismatch, missing, read_errors;
  uint64_t skipped;    /* stored events with no local object */
  uint64_t duplicates; /* stored events naming an object already listed */
  uint64_t bytes;      /* read and hashed */
  uint64_t torn, malformed; /* manifest lines skipped */
  uint64_t purged;     /* objects a `purged` event says are gone: not read */
} vs_verify_stats;

/* Fails (without a verdict) only when the manifest cannot be read, memory
 * runs out, or an event cannot be written; problems found are in st and
 * the on_item calls. */
int vs_report_verify(const vs_verify_opts *o, vs_verify_stats *st,
                     vs_err *err);

#ifdef __cplusplus
}
#endif
#endif
