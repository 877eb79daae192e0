/* The DeleteObjects request body, parsed strictly for exactly its shape:
 *
 *   <?xml ...?>?
 *   <Delete xmlns="...">
 *     <Quiet>true|false</Quiet>?
 *     <Object><Key>k</Key><VersionId>v</VersionId>?</Object>   1..max
 *   </Delete>
 *
 * Text may use the five predefined entities and character references;
 * anything else (comments, CDATA, DTDs, unknown elements, text outside
 * the leaves) is malformed. Pure: no server state, so it can be fuzzed. */
#ifndef VS_SERVER_DELETE_XML_H
#define VS_SERVER_DELETE_XML_H

#include <stddef.h>

#define VS__DEL_TEXT_MAX 4096 /* a decoded Key or VersionId, at most */

typedef struct vs__del_item {
  char *key;       /* decoded; may hold bytes no key may (checked later) */
  size_t key_len;
  char *vid;       /* NULL when no VersionId was given */
} vs__del_item;

typedef struct vs__del_req {
  vs__del_item *items;
  size_t n;
  int quiet;
} vs__del_req;

/* 0: parsed into *out (free it with vs__delete_req_free); -1: malformed
 * (or more than max objects, or none); -2: an element S3 takes that vsink
 * does not implement (its name in msg); -3: out of memory. On failure *out
 * holds nothing. */
int vs__delete_parse(const char *body, size_t n, size_t max,
                     vs__del_req *out, char *msg, size_t cap);
void vs__delete_req_free(vs__del_req *d);

#endif
