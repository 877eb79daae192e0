#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/utf8.h"
#include "vsink/common.h"

static int log_quiet;

void vs_log_set_quiet(int quiet)
{
  log_quiet = quiet;
}

int vs_buf_add_json_str(vs_buf *b, const char *s, size_t n)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  vs_buf_addc(b, '"');
  while(i < n) {
    size_t l = vs_utf8_seq(u + i, n - i);
    if(l == 0) {
      vs_buf_adds(b, "\\ufffd");
      i++;
      continue;
    }
    if(l > 1) {
      vs_buf_add(b, s + i, l);
    }
    else if(u[i] == '"' || u[i] == '\\') {
      vs_buf_addc(b, '\\');
      vs_buf_addc(b, (char)u[i]);
    }
    else if(u[i] < 0x20 || u[i] == 0x7f) {
      vs_buf_addf(b, "\\u%04x", u[i]);
    }
    else {
      vs_buf_addc(b, (char)u[i]);
    }
    i += l;
  }
  return vs_buf_addc(b, '"');
}

static void emit(vs_buf *b)
{
  vs_buf_addc(b, '\n');
  if(!b->failed && !log_quiet) {
    ssize_t w = write(STDERR_FILENO, b->data, b->len);
    (void)w; /* nowhere left to report a failing stderr */
  }
  vs_buf_free(b);
}

static void start(vs_buf *b)
{
  char t[25];
  vs_time_rfc3339(vs_now_ms(NULL, NULL), t);
  vs_buf_init(b);
  vs_buf_addf(b, "{\"time\":\"%s\"", t);
}

void vs_log(const char *level, const char *fmt, ...)
{
  vs_buf b, msg = VS_BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  vs_buf_vaddf(&msg, fmt, ap);
  va_end(ap);
  start(&b);
  vs_buf_addf(&b, ",\"level\":\"%s\",\"msg\":", level);
  vs_buf_add_json_str(&b, vs_buf_str(&msg), msg.len);
  vs_buf_addc(&b, '}');
  vs_buf_free(&msg);
  emit(&b);
}

void vs_log_fields(const char *fields, size_t len)
{
  vs_buf b;
  start(&b);
  vs_buf_add(&b, fields, len);
  vs_buf_addc(&b, '}');
  emit(&b);
}
