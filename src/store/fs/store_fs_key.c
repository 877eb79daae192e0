/* The filesystem store's names for key segments.
 *
 * A key "s1/s2/.../sn" lives in the directory <enc(s1)>/<enc(s2)>/...; a
 * name starting with '@' that is none of the forms below is the store's
 * own (@current, @<vid>, @<vid>.json). enc(s), for a segment s (any bytes
 * but '/' and NUL, possibly empty):
 *
 *   s                 s as it is, when it is not empty, not "." or "..",
 *                     does not start with '@' and has at most 255 bytes
 *   "@" s             s starting with '@' (255 bytes in all at most)
 *   "@=" s            s empty, "." or ".." ("@=", "@=.", "@=..")
 *   "@>" p "/" enc(r) s too long for one name: p its first 253 bytes
 *                     in a directory of their own, r the rest, encoded
 *                     the same way inside it (a continuation component)
 *
 * The first two are the names the store always gave segments, so a data
 * folder written before empty, dot and long segments were stored reads as
 * it is. Every name is a valid, non-empty file name other than "." and
 * "..", every form is told from the others by its first two bytes, and
 * enc is the only way to a name, so decoding is exact and two segments
 * never share a path; a decoder refuses a name enc would not have made. */
#include <string.h>

#include "store_fs_int.h"

#define PIECE (VS__NAME_MAX - 2) /* the bytes of s in a "@>" name */

static int needs_eq(const char *s, size_t n)
{
  return n == 0 || (n == 1 && s[0] == '.') ||
         (n == 2 && s[0] == '.' && s[1] == '.');
}

static size_t whole_len(const char *s, size_t n)
{
  if(needs_eq(s, n))
    return n + 2;
  return n + (s[0] == '@');
}

size_t vs__fs_seg_encode(const char *s, size_t n, char *out, size_t cap)
{
  size_t o = 0, w;
  while((w = whole_len(s, n)) > VS__NAME_MAX) {
    if(o + 3 + PIECE >= cap)
      return (size_t)-1;
    out[o++] = '@';
    out[o++] = '>';
    memcpy(out + o, s, PIECE);
    o += PIECE;
    out[o++] = '/';
    s += PIECE;
    n -= PIECE;
  }
  if(o + w >= cap)
    return (size_t)-1;
  if(needs_eq(s, n)) {
    out[o++] = '@';
    out[o++] = '=';
  }
  else if(s[0] == '@')
    out[o++] = '@';
  memcpy(out + o, s, n);
  o += n;
  out[o] = 0;
  return o;
}

int vs__fs_name_decode(const char *name, const char **seg, size_t *n)
{
  size_t len = strlen(name);
  if(len == 0 || len > VS__NAME_MAX)
    return VS__NAME_NONE;
  if(name[0] != '@') {
    *seg = name;
    *n = len;
    return needs_eq(name, len) ? VS__NAME_NONE : VS__NAME_WHOLE;
  }
  *seg = name + 2;
  *n = len - 2;
  switch(name[1]) {
  case '@':
    *seg = name + 1;
    *n = len - 1;
    return VS__NAME_WHOLE;
  case '=':
    return needs_eq(*seg, *n) ? VS__NAME_WHOLE : VS__NAME_NONE;
  case '>':
    return *n == PIECE ? VS__NAME_PIECE : VS__NAME_NONE;
  default:
    return VS__NAME_NONE; /* the store's own files */
  }
}

size_t vs__fs_key_encode(const char *key, size_t len, char *out, size_t cap)
{
  size_t o = 0, i = 0;
  for(;;) {
    const char *slash = memchr(key + i, '/', len - i);
    size_t n = slash ? (size_t)(slash - (key + i)) : len - i, w;
    if(o && o + 1 >= cap)
      return (size_t)-1;
    if(o)
      out[o++] = '/';
    w = vs__fs_seg_encode(key + i, n, out + o, cap - o);
    if(w == (size_t)-1)
      return w;
    o += w;
    if(!slash)
      return o;
    i += n + 1;
  }
}

/* Whether enc gives path for key: else the path was not made by enc (a
 * piece that should not have been cut, say) and stands for no key. */
static int canonical(const char *key, size_t len, const char *path)
{
  char again[VS__KEY_PATH_MAX];
  size_t n = vs__fs_key_encode(key, len, again, sizeof(again));
  return n != (size_t)-1 && !strcmp(again, path);
}

size_t vs__fs_key_decode(const char *path, char *out, size_t cap)
{
  const char *start = path;
  size_t o = 0;
  int joined = 1; /* the previous component was a "@>" piece, or none */
  char name[VS__NAME_MAX + 1];
  while(*path) {
    size_t cn = strcspn(path, "/"), n;
    const char *seg;
    int kind;
    if(cn > VS__NAME_MAX)
      return (size_t)-1;
    memcpy(name, path, cn);
    name[cn] = 0;
    kind = vs__fs_name_decode(name, &seg, &n);
    if(kind == VS__NAME_NONE || o + !joined + n >= cap)
      return (size_t)-1;
    if(!joined)
      out[o++] = '/';
    memcpy(out + o, seg, n);
    o += n;
    joined = kind == VS__NAME_PIECE;
    path += cn;
    if(*path == '/')
      path++;
    else if(joined)
      return (size_t)-1; /* a piece must continue */
  }
  if(joined)
    return (size_t)-1; /* empty path */
  out[o] = 0;
  return canonical(out, o, start) ? o : (size_t)-1;
}
