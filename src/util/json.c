#include "util/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Calls back for each number literal outside strings, in document order
 * (the order cJSON keeps children in). */
static size_t number_at(const char *t, size_t len, size_t i)
{
  size_t j = i;
  while(j < len && (strchr("+-.eE", t[j]) || (t[j] >= '0' && t[j] <= '9')))
    j++;
  return j - i;
}

static int attach(cJSON *node, const char *text, size_t len, size_t *pos);

static int next_number(const char *t, size_t len, size_t *pos, size_t *start,
                       size_t *n)
{
  size_t i = *pos;
  while(i < len) {
    char c = t[i];
    if(c == '"') {
      for(i++; i < len && t[i] != '"'; i++)
        if(t[i] == '\\')
          i++;
      i++;
      continue;
    }
    if(c == '-' || (c >= '0' && c <= '9')) {
      *start = i;
      *n = number_at(t, len, i);
      *pos = i + *n;
      return 0;
    }
    i++;
  }
  return -1;
}

static int attach(cJSON *node, const char *text, size_t len, size_t *pos)
{
  for(; node; node = node->next) {
    if(cJSON_IsNumber(node)) {
      size_t start, n;
      if(next_number(text, len, pos, &start, &n))
        return -1;
      node->valuestring = strndup(text + start, n);
      if(!node->valuestring)
        return -1;
    }
    else if(node->child && attach(node->child, text, len, pos))
      return -1;
  }
  return 0;
}

/* What cJSON lets through but cannot hold: a NUL byte anywhere, a control
 * character left raw in a string (RFC 8259 wants it escaped) and the
 * escape \u0000. A string holding a NUL would be cut there by everything
 * that reads it as a C string: a key or a value quietly shorter than sent. */
static int has_nul_or_raw_control(const char *t, size_t len)
{
  size_t i;
  int in_string = 0;
  for(i = 0; i < len; i++) {
    unsigned char c = (unsigned char)t[i];
    if(c == 0 || (in_string && c < 0x20))
      return 1;
    if(c == '"')
      in_string = !in_string;
    else if(in_string && c == '\\') {
      if(len - i >= 6 && !memcmp(t + i + 1, "u0000", 5))
        return 1;
      i++; /* the escaped character cannot end the string */
    }
  }
  return 0;
}

cJSON *vs_json_parse(const char *text, size_t len)
{
  const char *end = NULL;
  size_t pos = 0;
  cJSON *root;
  if(has_nul_or_raw_control(text, len))
    return NULL;
  root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
  if(!root)
    return NULL;
  while(end < text + len && strchr(" \t\r\n", *end))
    end++;
  if(end != text + len || attach(root, text, len, &pos)) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}

const char *vs_json_number_text(const cJSON *n)
{
  return cJSON_IsNumber(n) ? n->valuestring : NULL;
}

int vs_json_int64(const cJSON *n, int64_t min, int64_t max, int64_t *out)
{
  const char *t = vs_json_number_text(n);
  char *end;
  long long v;
  if(!t || strpbrk(t, ".eE"))
    return -1;
  errno = 0;
  v = strtoll(t, &end, 10);
  if(errno || *end || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}
