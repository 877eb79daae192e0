/* What the S3 client's files share: one signed request (s3_req.c) and the
 * readers of S3's XML answers (s3_xml.c, s3_xml_parse.c). Not a public
 * header; the unit tests and the fuzz target include it for the parsers. */
#ifndef VS_STORE_S3_INT_H
#define VS_STORE_S3_INT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "vsink/s3.h"

#define VS__S3_EMPTY_SHA256 \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define VS__S3_ANSWER_MAX (8u << 20) /* a listing page is far below this */
#define VS__S3_MAX_HEADERS 56 /* the signer takes 61 */
#define VS__S3_META_MAX 48

/* ---- one request -------------------------------------------------------
 * Fill the "request" half, call vs__s3_send, read the "answer" half. */
typedef struct vs__s3_call {
  /* request */
  const vs_s3_target *t;
  const char *method;       /* GET HEAD PUT POST DELETE */
  const char *bucket;
  const char *key;          /* NULL: a bucket request */
  const char *query;        /* "uploads", "versionId=..": values encoded */
  const char *headers[VS__S3_MAX_HEADERS]; /* "Name: value", all signed */
  size_t n_headers;
  vs_buf hbuf;              /* storage of headers added from opts */
  int has_body;             /* a body from mem, or from fd at off */
  const void *mem;
  int fd;
  uint64_t off, len;
  const char *payload_sha256; /* hex of the body; NULL: the empty body's */
  int attempts;             /* > 1: retry NET failures, with back-off */
  /* a 2xx body goes to sink when set, else into body (VS__S3_ANSWER_MAX) */
  vs_s3_data_fn sink;
  void *sink_ctx;
  int (*alive)(void *sink_ctx); /* 0 stops the transfer (sink_failed) */
  /* answer */
  long status;
  vs_object_info info;      /* the headers HEAD reads, and x-amz-delete-marker */
  int have_length;
  const char *bad_header;   /* the first header that did not parse */
  vs_buf body;              /* a 2xx answer without sink, or an error document */
  int sink_failed;          /* the sink returned nonzero */
  char what[200];           /* "METHOD bucket/key", for messages */
} vs__s3_call;

/* Checks the target, bucket and key (when set), signs and sends, retrying
 * as c->attempts says. VS_OK once an answer came, whatever its status;
 * VS_ERR_NET when none did. Free with vs__s3_call_free. */
int vs__s3_send(vs__s3_call *c, vs_err *err);
void vs__s3_call_free(vs__s3_call *c);
/* The error of a non-2xx answer: S3's code and message from the body in
 * err->msg, the status mapped to a vs_code (see s3.h). */
int vs__s3_status_error(vs__s3_call *c, vs_err *err);
/* vs__s3_send, then vs__s3_status_error for anything but 2xx. */
int vs__s3_do(vs__s3_call *c, vs_err *err);
/* The vs_code for an HTTP status and S3 error code ("" when none). */
int vs__s3_code_of(long status, const char *s3code);
/* The endpoint (trailing '/' dropped) into out; the credentials present. */
int vs__s3_check_target(const vs_s3_target *t, char *out, size_t cap,
                        vs_err *err);
/* A query value, URI-encoded (malloc'd) for a "name=value" query. */
char *vs__s3_qenc(const char *s);
/* Appends "&name=value" ("name=value" first), value URI-encoded; skipped
 * when value is NULL or "". Failure shows in q->failed. */
void vs__s3_qadd(vs_buf *q, const char *name, const char *value);
/* One pass over a body: its MD5 as base64 (Content-MD5) and its SHA-256 as
 * hex (x-amz-content-sha256); or, when the body's MD5 is known (b->md5),
 * that one and "UNSIGNED-PAYLOAD", without reading the body. */
int vs__s3_hash_body(const vs_s3_body *b, char md5_b64[25],
                     char sha256_hex[65], vs_err *err);
/* The call's body from b (payload_sha256 must stay valid meanwhile). */
void vs__s3_set_body(vs__s3_call *c, const vs_s3_body *b);
/* Content-Type and the kept headers of o (may be NULL) onto c. */
int vs__s3_write_headers(vs__s3_call *c, const vs_s3_write_opts *o,
                         vs_err *err);
/* 1 when name (n bytes, any case) is a header an object keeps. */
int vs__s3_kept_header(const char *name, size_t n);
/* The answer's version id for a result: "" when there was none. */
void vs__s3_result(const vs__s3_call *c, vs_s3_put_result *out);

/* ---- XML answers ---------------------------------------------------------
 * A small pull reader: it accepts what S3 servers send (any attributes,
 * unknown elements, which are skipped whole) and refuses what is not XML.
 * Bounded in depth and by the input's length. */
typedef struct vs__s3x {
  const char *p, *end;
  int depth;
  char name[64];            /* the element just opened */
  int empty;                /* it was <name/> */
  const char *why;          /* what was malformed */
} vs__s3x;

void vs__s3x_init(vs__s3x *x, const char *s, size_t n);
/* The root element (after an optional declaration) into x->name, x->empty
 * set for <Name/>: 0, -1. */
int vs__s3x_root(vs__s3x *x);
/* Next child of the element we are in: 1 opened (x->name), 0 the parent's
 * closing tag was consumed, -1 malformed. */
int vs__s3x_child(vs__s3x *x, const char *parent);
/* The text of the element just opened, decoded, up to its closing tag,
 * into a malloc'd string of at most max bytes: 0, -1 malformed or too
 * long, -3 out of memory. */
int vs__s3x_text(vs__s3x *x, size_t max, char **out);
/* The same into a fixed buffer: 0, -1 (too long for cap, malformed). */
int vs__s3x_text_to(vs__s3x *x, char *out, size_t cap);
/* Skips the element just opened, children and all: 0, -1. */
int vs__s3x_skip(vs__s3x *x);
/* Nothing but white space left: 0, -1. */
int vs__s3x_end(vs__s3x *x);

/* The parsers of each answer (s3_xml_parse.c). Each returns VS_OK or
 * VS_ERR_NET ("malformed answer: why") / VS_ERR_NOMEM; on failure nothing
 * is held by *out. */
/* <Error><Code/><Message/></Error>: 1 and the fields when body is one. */
int vs__s3_parse_error(const char *body, size_t n, char *code, size_t ccap,
                       char *msg, size_t mcap);
int vs__s3_parse_create(const char *body, size_t n, char *upload_id,
                        size_t cap, vs_err *err);
/* Complete's answer: its ETag ("" when the store sent none or an empty
 * one, as Ceph RGW does); an <Error> document (S3 may send it with a 200)
 * becomes that error's vs_code and message. */
int vs__s3_parse_complete(const char *body, size_t n, char *etag,
                          size_t cap, vs_err *err);
/* The same for any answer whose root (after white space) is root and
 * carries an ETag: CopyObjectResult, CopyPartResult. what names the call
 * in messages. */
int vs__s3_parse_result(const char *body, size_t n, const char *root,
                        const char *what, char *etag, size_t cap,
                        vs_err *err);
int vs__s3_parse_list(const char *body, size_t n, vs_s3_list_page *out,
                      vs_err *err);
int vs__s3_parse_versions(const char *body, size_t n, vs_s3_list_page *out,
                          vs_err *err);
int vs__s3_parse_uploads(const char *body, size_t n, vs_s3_uploads_page *out,
                         vs_err *err);
int vs__s3_parse_parts(const char *body, size_t n, vs_s3_parts_page *out,
                       vs_err *err);
int vs__s3_parse_versioning(const char *body, size_t n, int *state,
                            vs_err *err);
/* An S3 time "2026-12-02T11:26:19.123Z" in ms since the epoch: 0, -1. */
int vs__s3_parse_time(const char *s, int64_t *ms);

#endif
