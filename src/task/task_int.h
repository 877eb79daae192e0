/* Internals of the task part shared by its files: the error list, the text
 * parsers and one rule per field. Each rule reads a field's text, adds an
 * error when the text breaks the rule, and hands back the canonical value,
 * so that vs_task_build (CLI text) and vs_task_check (API JSON) enforce the
 * very same rules. */
#ifndef VS_TASK_INT_H
#define VS_TASK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vsink/task.h"

/* What the rules allow, spelled once: messages and tests quote them. */
#define VS_A_PROMPT "2..3000 characters of valid UTF-8"
#define VS_A_DURATION "1.2..12 in steps of 0.1"
#define VS_A_SEED "an integer 0..9223372036854775807"
#define VS_A_RESULTS "an integer 1..4"
#define VS_A_FORMAT "MP4, WEBM or MOV"
#define VS_A_QUALITY "an integer 20..99"
#define VS_A_TTL "an integer >= 60"
#define VS_A_BOOL "true or false"
#define VS_A_SAFETY "none, fast or full"
#define VS_A_RESOLUTION "480p, 720p or 1080p"
#define VS_A_SIZE_OR_RES "width and height, or resolution, not both"
#define VS_A_NEED_SHAPE "inputs.frameImages, width and height, or resolution"
#define VS_A_FRAME                                                           \
  "one UUID v4, http(s) URL, data URI, base64 image or local file; PNG, "   \
  "JPEG or WEBP, 300..6000 px a side, at most 10 MB"

/* Adds one error; value is copied safely (cut, escaped). Never fails: past
 * VS_TASK_MAX_ERRORS it counts errs->dropped. */
void vs_terr(vs_task_errors *errs, const char *field, const char *value,
             const char *allowed, const char *fmt, ...)
  __attribute__((format(printf, 5, 6)));

/* Decimal integer text ([-]digits, nothing else) within [min, max]:
 * 0, -1 not an integer, -2 out of range. */
int vs_tparse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* Decimal seconds ("7", "7.3", "7.30", "12.0") into tenths: 0, -1 not a
 * plain decimal, -2 finer than a tenth. Big values saturate (checked by the
 * caller's range). */
int vs_tparse_tenths(const char *s, int64_t *tenths);
/* true/false/1/0/yes/no, any case: 0 or -1. */
int vs_tparse_bool(const char *s, int *b);
/* ---- rules (each returns 0 when the text passes) ------------------------ */
int vs_rule_prompt(vs_task_errors *e, const char *text);
/* width/height/resolution together: *w,*h set (0 when absent), *res the
 * canonical class or NULL. */
int vs_rule_shape(vs_task_errors *e, const char *wt, const char *ht,
                  const char *rt, int has_frame, long *w, long *h,
                  const char **res);
int vs_rule_duration(vs_task_errors *e, const char *text, int64_t *tenths);
int vs_rule_seed(vs_task_errors *e, const char *text, int64_t *seed);
int vs_rule_int(vs_task_errors *e, const char *field, const char *text,
                int64_t min, int64_t max, const char *allowed, int64_t *v);
int vs_rule_format(vs_task_errors *e, const char *text, const char **canon);
int vs_rule_bool(vs_task_errors *e, const char *field, const char *text,
                 int *b);
int vs_rule_safety(vs_task_errors *e, const char *field, const char *text,
                   const char **mode);
/* Duration text of tenths ("7.3", "12"). */
void vs_tenths_text(int64_t tenths, char out[24]);
/* The dimension table as "480p: 864x480 ...; 720p: ...; 1080p: ...". */
#define VS_DIMS_ALLOWED_LEN 320
void vs_dims_allowed(char out[VS_DIMS_ALLOWED_LEN]);

/* ---- the frame image -----------------------------------------------------
 * Checks one frame image input. allow_file: a string that names an existing
 * file is read, checked and turned into a data URI (vsink's side); without
 * it (the API's side) only UUIDs, URLs, data URIs and base64 pass.
 * *out is the value to send (malloc'd), NULL after an error. Returns 0, -1
 * after adding an error, VS_ERR_NOMEM. */
int vs_rule_frame(vs_task_errors *e, const char *text, int allow_file,
                  char **out);

/* Image type and size from the first bytes: "png", "jpeg", "webp" into
 * *kind and pixel sizes; -1 with why (a static string) when not one of
 * them or the header is cut short. */
int vs_image_probe(const unsigned char *p, size_t n, const char **kind,
                   long *w, long *h, const char **why);

#endif
