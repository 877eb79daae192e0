#define _GNU_SOURCE
#include "helpers.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
/* cmocka's asserts, for the set-up that fails the test calling it */
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

int vst_tmpdir(const char *tag, char *out, size_t cap)
{
  const char *base = getenv("TMPDIR");
  snprintf(out, cap, "%s/vsink-%s-XXXXXX", base ? base : "/tmp", tag);
  return mkdtemp(out) ? 0 : -1;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(p);
}

void vst_rmrf(const char *path)
{
  nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int counted;
static int count_one(const char *p, const struct stat *st, int flag,
                     struct FTW *ftw)
{
  (void)p;
  (void)st;
  (void)ftw;
  if(flag == FTW_F || flag == FTW_SL)
    counted++;
  return 0;
}

int vst_count_files(const char *path)
{
  counted = 0;
  nftw(path, count_one, 16, FTW_PHYS);
  return counted;
}

static const char *line_needle;
static int line_count;
static int count_in(const char *p, const struct stat *st, int flag,
                    struct FTW *ftw)
{
  char line[65536];
  FILE *f;
  (void)st;
  (void)ftw;
  if(flag != FTW_F || !(f = fopen(p, "r")))
    return 0;
  while(fgets(line, sizeof(line), f))
    if(strstr(line, line_needle))
      line_count++;
  fclose(f);
  return 0;
}

int vst_count_lines_with(const char *path, const char *needle)
{
  line_needle = needle;
  line_count = 0;
  nftw(path, count_in, 16, FTW_PHYS);
  return line_count;
}

/* ---- a fake HTTP server on 127.0.0.1 ---------------------------------- */

static void *serve(void *arg)
{
  vst_server *s = arg;
  struct pollfd p = {s->fd, POLLIN, 0};
  int c;
  while(s->more(s->ctx) && poll(&p, 1, 5000) == 1) {
    if((c = accept(s->fd, NULL, NULL)) < 0)
      break;
    s->answer(s->ctx, c);
    close(c);
  }
  return NULL;
}

int vst_server_start(vst_server *s)
{
  struct sockaddr_in sa = {0};
  socklen_t len = sizeof(sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if((s->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
    return -1;
  if(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
     listen(s->fd, 8) ||
     getsockname(s->fd, (struct sockaddr *)&sa, &len))
    goto fail;
  s->port = ntohs(sa.sin_port);
  if(pthread_create(&s->th, NULL, serve, s))
    goto fail;
  return 0;
fail:
  close(s->fd);
  return -1;
}

void vst_server_wait(vst_server *s)
{
  pthread_join(s->th, NULL);
  close(s->fd);
}

static size_t read_some(int c, char *out, size_t cap)
{
  struct pollfd p = {c, POLLIN, 0};
  ssize_t r;
  if(poll(&p, 1, 5000) != 1 || (r = read(c, out, cap)) <= 0)
    return 0;
  return (size_t)r;
}

/* Requests carry no pipelined bytes past their body (one at a time). */
int vst_read_request(int c, vst_req *r)
{
  char *h = r->head, *end = NULL, *cl;
  size_t len = 0, n, want = 0, have;
  while(len + 1 < sizeof(r->head) &&
        (n = read_some(c, h + len, sizeof(r->head) - 1 - len)) > 0) {
    len += n;
    h[len] = 0;
    if((end = strstr(h, "\r\n\r\n")))
      break;
  }
  if(!end)
    return 0;
  end += 4;
  have = len - (size_t)(end - h);
  if((cl = strcasestr(h, "\r\ncontent-length:")))
    want = strtoul(cl + 17, NULL, 10);
  memcpy(r->body, end, have);
  *end = 0;
  if(strcasestr(h, "\r\nexpect: 100-continue")) {
    ssize_t w = write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    (void)w;
  }
  while(have < want && have < VST_BODY_MAX &&
        (n = read_some(c, r->body + have, VST_BODY_MAX - have)) > 0)
    have += n;
  r->body_len = have;
  return 1;
}

static int canned_more(void *ctx)
{
  vst_canned *s = ctx;
  return s->got < s->n;
}

static void canned_answer(void *ctx, int c)
{
  vst_canned *s = ctx;
  const char *a = s->answers[s->got];
  size_t n = a ? strlen(a) : 0;
  int hang = n >= 4 && !strcmp(a + n - 4, VST_HANG);
  ssize_t w;
  vst_read_request(c, &s->req[s->got]);
  s->got++;
  if(!n)
    return;
  w = write(c, a, hang ? n - 4 : n);
  (void)w;
  if(hang) {
    char sink[256];
    struct pollfd q = {c, POLLIN, 0};
    while(poll(&q, 1, 10000) == 1 && read(c, sink, sizeof(sink)) > 0)
      ;
  }
}

vst_canned *vst_canned_start(int n, ...)
{
  vst_canned *s = calloc(1, sizeof(*s));
  va_list ap;
  int i;
  assert_non_null(s);
  assert_true(n <= VST_REQ_MAX);
  va_start(ap, n);
  for(i = 0; i < n; i++)
    s->answers[i] = va_arg(ap, const char *);
  va_end(ap);
  s->n = n;
  s->srv = (vst_server){.fd = -1, .more = canned_more,
                        .answer = canned_answer, .ctx = s};
  assert_int_equal(vst_server_start(&s->srv), 0);
  return s;
}

void vst_canned_wait(vst_canned *s)
{
  vst_server_wait(&s->srv);
}

int vst_parse_head(const char *raw, vst_parsed *p)
{
  const char *line = strstr(raw, "\r\n");
  memset(p, 0, sizeof(*p));
  if(!line || sscanf(raw, "%15s %1023s", p->method, p->uri) != 2)
    return -1;
  for(line += 2; *line && strncmp(line, "\r\n", 2) && p->n < 24;) {
    const char *colon = strchr(line, ':'), *eol = strstr(line, "\r\n");
    const char *v;
    if(!colon || !eol)
      return -1;
    snprintf(p->names[p->n], 64, "%.*s", (int)(colon - line), line);
    for(v = colon + 1; *v == ' ';)
      v++;
    snprintf(p->values[p->n], 512, "%.*s", (int)(eol - v), v);
    p->n++;
    line = eol + 2;
  }
  return 0;
}

const char *vst_lookup(void *ctx, const char *name)
{
  vst_parsed *p = ctx;
  int i;
  for(i = 0; i < p->n; i++)
    if(!strcasecmp(p->names[i], name))
      return p->values[i];
  return NULL;
}
