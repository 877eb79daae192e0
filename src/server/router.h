/* The sink's route table (router.c). Not a public header.
 *
 * Every request is classified here before anything else looks at it:
 * method + path kind + query parameters + the headers that change what a
 * request means -> one operation. A request that matches no row exactly is
 * refused, so no request is ever taken for another one (a PUT ?acl for a
 * PUT of its body, a GET ?tagging for a GET of the object). */
#ifndef VS_SERVER_ROUTER_H
#define VS_SERVER_ROUTER_H

#include "server/internal.h"
#include "vsink/sigv4.h"

/* Classifies a request from its method, its URI exactly as sent
 * ("/path?query", not decoded) and its headers (header(ctx, name): the
 * first value of a header, case-insensitive, NULL when absent). Fills out
 * and returns out->op; on refusal (VS__OP_REFUSED) out->code is the S3
 * error, out->msg names the parameter, header or method, and
 * out->before_auth says whether it may be answered without checking the
 * signature first. Pure: no I/O, no state, nothing kept; any bytes are
 * safe input (a fuzzing entry point). */
vs__op vs__route_classify(const char *method, const char *raw_uri,
                          vs_header_fn header, void *ctx,
                          vs__route_result *out);

/* The operation's name, for logs and tests ("PutObject", "refused"). */
const char *vs__op_name(vs__op op);

/* Virtual-hosted-style addressing (vsink serve --domain NAME): the bucket
 * a Host header names under domain ("videos.s3.example.com:9000" under
 * "s3.example.com" is "videos"), lowercased, into out (cap bytes with the
 * NUL). Returns its length, 0 when Host names none (path style: the Host
 * is the domain itself, another name, an address, or the name is longer
 * than cap - 1). Pure. */
size_t vs__route_host_bucket(const char *host, const char *domain, char *out,
                             size_t cap);

#endif
