/* The task builder: user options (text, as typed or as read from a jobs
 * file) become one videoInference task for bytedance:2@2 that obeys every
 * rule of the model page, or a list of every error, one per bad field,
 * naming the field, the value given and what is allowed. Also: the price
 * table and cost estimates, parsing of the API's answers ({"data":[...]} and
 * {"errors":[...]}), taskUUIDs and object keys.
 *
 * Options stay text until a rule reads them, so a duration is never a binary
 * float and a seed never a double: "7.3" is 73 tenths, 9223372036854775807 is
 * an int64. */
#ifndef VSINK_TASK_H
#define VSINK_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "vsink/common.h"
#include "util/dec.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cJSON;

#define VS_TASK_MODEL "bytedance:2@2"
#define VS_TASK_TYPE "videoInference"
#define VS_TASK_PROMPT_MIN 2      /* Unicode code points */
#define VS_TASK_PROMPT_MAX 3000
#define VS_TASK_DURATION_MIN 12   /* tenths of a second */
#define VS_TASK_DURATION_MAX 120
#define VS_TASK_DURATION_DEFAULT 50
#define VS_TASK_RESULTS_MAX 4
#define VS_TASK_QUALITY_MIN 20
#define VS_TASK_QUALITY_MAX 99
#define VS_TASK_TTL_MIN 60
#define VS_TASK_IMAGE_MIN_PX 300
#define VS_TASK_IMAGE_MAX_PX 6000
/* "at most 10 MB": read as decimal megabytes, the stricter reading, so that
 * an image we accept is never refused by the API for its size. */
#define VS_TASK_IMAGE_MAX_BYTES 10000000L
/* A prompt file may hold at most 3000 code points of 4 bytes, plus a final
 * newline. */
#define VS_TASK_PROMPT_FILE_MAX (4 * VS_TASK_PROMPT_MAX + 2)

/* ---- options -------------------------------------------------------------
 * Every option of `vsink submit` that shapes a task, as text; NULL means not
 * given. Booleans take true/false, 1/0, yes/no (any case). */
typedef struct vs_task_opts {
  const char *prompt;       /* positivePrompt */
  const char *prompt_file;  /* positivePrompt read from a file (one final
                               newline dropped); not with prompt */
  const char *width;
  const char *height;
  const char *resolution;   /* 480p 720p 1080p (any case) */
  const char *frame_image;  /* UUID v4, http(s) URL, data URI, base64, or a
                               local PNG/JPEG/WEBP file */
  const char *duration;     /* seconds, decimal text; default 5 */
  const char *seed;         /* 0..9223372036854775807 */
  const char *results;      /* numberResults 1..4, default 1 */
  const char *format;       /* MP4 WEBM MOV (any case), default MP4 */
  const char *quality;      /* outputQuality 20..99 */
  const char *camera_fixed; /* providerSettings.bytedance.cameraFixed */
  const char *safety;       /* none|fast|full: safety.mode, checkContent is
                               false for none, true otherwise */
  const char *ttl;          /* >= 60 */
  const char *include_cost; /* default true: the audit needs costs */
} vs_task_opts;

/* ---- errors -------------------------------------------------------------- */
#define VS_TASK_MAX_ERRORS 24

typedef struct vs_task_error {
  char field[64];    /* the API field: "duration", "positivePrompt",
                        "inputs.frameImages", "safety.mode", ... or, for an
                        unknown jobs-file key, that key */
  char value[128];   /* as given ("" when missing); long values are cut at a
                        character boundary and end in "..."; bytes that are
                        not printable UTF-8 appear as \xNN */
  char allowed[320]; /* what the rule allows: "1.2..12 in steps of 0.1" */
  char message[320]; /* one sentence saying what is wrong */
} vs_task_error;

typedef struct vs_task_errors {
  int n;
  int dropped;       /* errors beyond VS_TASK_MAX_ERRORS, not kept */
  vs_task_error e[VS_TASK_MAX_ERRORS];
} vs_task_errors;

/* The first error about field, or NULL. */
const vs_task_error *vs_task_errors_find(const vs_task_errors *errs,
                                         const char *field);

/* ---- building ------------------------------------------------------------
 * Fills o from one line of a jobs file: a JSON object parsed by
 * vs_json_parse whose keys are the option names without their dashes
 * ("prompt", "prompt-file", "width", "frame-image", "camera-fixed",
 * "no-cost", "include-cost", ...; compared without '-' and '_' and in any
 * case, so "frame_image" and "frameImage" work too). Numbers are taken
 * from their source text ("duration": 7.3 and "duration": "7.3" are the same;
 * "seed": 9223372036854775807 stays exact); null means not given. o points
 * into line (and static strings): keep line until the task is built.
 * Unknown keys, keys given twice and values of the wrong JSON type are
 * errors. Returns VS_OK or VS_ERR_INVALID with errs filled. */
int vs_task_opts_from_json(const struct cJSON *line, vs_task_opts *o,
                           vs_task_errors *errs);

/* Builds the videoInference task (without taskUUID, uploadEndpoint and
 * webhookURL) into *task, or returns VS_ERR_INVALID with every error in
 * errs and *task NULL (VS_ERR_NOMEM when out of memory). The task holds:
 * taskType, model, positivePrompt, [inputs], width+height or resolution,
 * duration, [seed], numberResults, outputType, outputFormat,
 * [outputQuality], deliveryMethod, [ttl], includeCost, [safety],
 * [providerSettings].
 * cJSON keeps numbers as doubles, so duration and seed are cJSON Raw nodes
 * holding their exact text ("7.3", "9223372036854775807"); they print as JSON
 * numbers. Read them back with vs_task_num_text. */
int vs_task_build(const vs_task_opts *o, struct cJSON **task,
                  vs_task_errors *errs);

/* Checks a task as the API receives it (a JSON object parsed by
 * vs_json_parse): the same rules as vs_task_build on the API's own types
 * (numbers must be JSON numbers, booleans JSON booleans), plus taskType,
 * model, taskUUID (UUID v4), outputType, deliveryMethod, webhookURL and
 * uploadEndpoint (http(s) URLs), and no unknown fields. Inline frame images
 * (data URI, base64) are checked for type and size as in vs_task_build;
 * local files do not exist on that side. For the fake API and for checking
 * a jobs file before sending. */
int vs_task_check(const struct cJSON *task, vs_task_errors *errs);

/* Inserts "taskUUID" right after "taskType" (replacing one already there). */
int vs_task_set_uuid(struct cJSON *task, const char *uuid);

/* The exact source text of a number node: a Raw node's text (vs_task_build)
 * or the text vs_json_parse kept; NULL for anything else. */
const char *vs_task_num_text(const struct cJSON *n);

/* ---- tables and prices ---------------------------------------------------
 * The class ("480p", "720p", "1080p") of a width x height pair from the
 * dimension table, or NULL when the pair is not in it. */
const char *vs_task_dims_class(long width, long height);

/* The published USD per second of video for a class; VS_ERR_INVALID for an
 * unknown class. The one place prices live is src/task/price.c. */
int vs_price_per_second(const char *resolution, vs_dec *usd);

/* The class the task will be charged at: its resolution, or the class of
 * its width x height. A task with a frame image and neither is assumed to be
 * VS_PRICE_ASSUMED_CLASS (*assumed = 1): the output then follows the image,
 * which we cannot know, and the most expensive class keeps the estimate an
 * upper bound for --max-cost. */
#define VS_PRICE_ASSUMED_CLASS "1080p"
int vs_task_price_class(const struct cJSON *task, const char **cls,
                        int *assumed);

/* price per second x duration x numberResults, exactly. VS_ERR_INVALID when
 * the task lacks what an estimate needs. */
int vs_task_estimate(const struct cJSON *task, vs_dec *usd);
/* One result's cost (price per second x duration), what the API charges per
 * result item. */
int vs_task_estimate_one(const struct cJSON *task, vs_dec *usd);
/* A sentence stating the assumption behind the estimate, or NULL when the
 * estimate rests on the task alone. */
const char *vs_task_estimate_note(const struct cJSON *task);

/* ---- identifiers and keys ------------------------------------------------ */
/* A fresh random UUID v4 (lowercase) for a taskUUID. */
int vs_task_new_uuid(char out[37], vs_err *err);
/* "mp4", "webm" or "mov" for an outputFormat (any case); NULL if unknown. */
const char *vs_task_format_ext(const char *format);
/* PREFIX/YYYY/MM/DD/<taskUUID>.<ext> with the date (UTC) of unix_s. prefix
 * may be "" or NULL (no leading slash then) and may end in '/'. */
int vs_task_object_key(const char *prefix, int64_t unix_s,
                       const char *task_uuid, const char *format, char *out,
                       size_t cap, vs_err *err);

/* ---- answers from the API ------------------------------------------------ */
typedef enum vs_task_status {
  VS_TASK_STATUS_NONE = 0,   /* no status (the ack of a submission) */
  VS_TASK_STATUS_PROCESSING,
  VS_TASK_STATUS_SUCCESS,
  VS_TASK_STATUS_ERROR
} vs_task_status;

/* One item of "data". Strings are NULL when absent. */
typedef struct vs_task_item {
  char *task_type;
  char *task_uuid;           /* required */
  int status;                /* a vs_task_status */
  char *video_uuid;
  char *video_url;
  int has_seed;
  int64_t seed;              /* exact, from the number's text */
  int has_cost;
  vs_dec cost;               /* exact, from the number's text */
  int has_nsfw;
  int nsfw;                  /* NSFWContent */
} vs_task_item;

/* One item of "errors". */
typedef struct vs_task_api_error {
  char *code;
  char *message;
  char *parameter;
  char *type;
  char *task_type;
  char *task_uuid;
  char *documentation;
  char *allowed_values;      /* the allowedValues JSON, compact, or NULL */
  int status;                /* VS_TASK_STATUS_ERROR when "status":"error" */
} vs_task_api_error;

typedef struct vs_task_response {
  vs_task_item *items;
  size_t n_items;
  vs_task_api_error *errors;
  size_t n_errors;
} vs_task_response;

/* Parses an API body: an object with "data" and/or "errors", each an array of
 * objects. Unknown keys are ignored (the API may add some); a known key of
 * the wrong type, a bad status, a seed outside 0..2^63-1, a cost that is not
 * an exact decimal, or malformed JSON give VS_ERR_INVALID and a message
 * naming the place ("data[1].seed: ..."). *r is zeroed first and is empty on
 * failure. */
int vs_task_response_parse(const char *body, size_t len, vs_task_response *r,
                           vs_err *err);
void vs_task_response_free(vs_task_response *r);

/* The manifest fields of a `result` event for a completed item (taskUUID,
 * videoUUID, videoURL, seed exact, cost as an exact decimal string,
 * NSFWContent, source "poll" or "webhook"), and of a `failed` event. NULL
 * when out of memory. The sink's hook and the submitter both record
 * through these, so the two sources write the same event. */
struct cJSON *vs_task_result_fields(const vs_task_item *it,
                                    const char *source);
struct cJSON *vs_task_failed_fields(const char *task_uuid, const char *code,
                                    const char *message,
                                    const char *parameter,
                                    const char *source);

#ifdef __cplusplus
}
#endif
#endif
