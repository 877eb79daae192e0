/* The sink's daemon: libmicrohttpd set-up, request life cycle, routing,
 * graceful shutdown. Route families live in their own files. */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/internal.h"
#include "server/pump.h"
#include "server/waker.h"
#include "server/router.h"
#include "util/buf.h"
#include "util/enc.h"
#include "util/fs.h"
#include "util/log.h"
#include "vsink/sigv4.h"

#define DEFAULT_MAX_OBJECT (5ULL << 30)
/* MHD's per-connection pool; most of it is the read buffer (see
 * CONN_INCREMENT), which is the largest piece a body arrives in. With many
 * uploads in flight it is most of the server's memory. bench/bench_sink.sh,
 * 256 uploads in flight: 64 KiB peaks at 28.5 MiB resident, 40 KiB at
 * 22.4 MiB (the 24 MiB target), 32 KiB at 20.6 MiB; per GiB received the
 * server spent 1.56, 1.63 and 1.70 CPU seconds (smaller pieces, more
 * syscalls; measured before CONN_INCREMENT). */
#ifndef CONN_MEMORY
#define CONN_MEMORY (40 * 1024)
#endif
/* How far the read buffer grows into that pool. libmicrohttpd 0.9.75
 * starts it at half the pool's free space and grows it, in steps of an
 * eighth of what is left, only before a read that would find less than
 * this increment of room. Its default (1 KiB) never grows a buffer the
 * body is taken out of at once, so every read was 20 KiB and the other
 * half of the pool idle. 32 KiB grows it on each read until the pool has
 * under 8 KiB left: 32 KiB reads, no more memory (the pool is resident
 * either way), and a third fewer recv and poll calls. bench_sink.sh,
 * two runs beside the build before: a 1 GiB PUT with --etag sha256 spent
 * 1.29-1.30 CPU-s against 1.40-1.48; 256 slow uploads in flight: 22.9-23.0
 * MiB both (bench/README.md). */
#define CONN_INCREMENT (32 * 1024)
/* The pump's buffers (1 MiB each, pump.h) per worker thread: the memory
 * the server may spend on fast uploads. A pipe holds 2 to 6 of them; an
 * upload that finds too few free is hashed and written inline, at a higher
 * CPU cost per byte: 64 uploads of 16 MiB at once spent 4.2-4.3 CPU-s per
 * GiB with 8 pipes, 3.7-3.85 with 64 (bench/README.md). */
#define BUFS_PER_WORKER 32
/* At shutdown, how long answers to finished commits may take to leave. */
#define ANSWER_GRACE_MS 3000

const char *vs__header(struct MHD_Connection *c, const char *name)
{
  return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

vs_keyring *vs__keys_acquire(vs_server *s)
{
  pthread_rwlock_rdlock(&s->keys_lock);
  return s->keys;
}

void vs__keys_release(vs_server *s)
{
  pthread_rwlock_unlock(&s->keys_lock);
}

void vs_server_set_keys(vs_server *s, vs_keyring *keys)
{
  vs_keyring *old;
  pthread_rwlock_wrlock(&s->keys_lock);
  old = s->keys;
  s->keys = keys;
  pthread_rwlock_unlock(&s->keys_lock);
  vs_keyring_free(old);
}

enum MHD_Result vs__send(vs__req *r, unsigned status,
                         struct MHD_Response *resp)
{
  enum MHD_Result ret;
  MHD_add_response_header(resp, "x-amz-request-id", r->id);
  MHD_add_response_header(resp, "Server", "vsink");
  if(r->extra_header)
    MHD_add_response_header(resp, r->extra_header, r->extra_value);
  if(r->marker_answer) /* a delete marker's 404/405 (delete.c) */
    MHD_add_response_header(resp, "x-amz-delete-marker", "true");
  if(atomic_load(&r->srv->stopping))
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  r->status = status;
  ret = MHD_queue_response(r->conn, status, resp);
  MHD_destroy_response(resp);
  return ret;
}

enum MHD_Result vs__send_buf(vs__req *r, unsigned status, vs_buf *b,
                             const char *type)
{
  size_t len = b->len;
  char *body = vs_buf_steal(b);
  struct MHD_Response *resp;
  if(!body)
    return MHD_NO;
  resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if(!resp) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  /* errors, health and metrics describe this instant: never cache them */
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  r->bytes_out += len;
  return vs__send(r, status, resp);
}

static vs__conn *conn_record(struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *ci =
    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

/* Called first for every request, with the URI exactly as sent: the raw
 * form is what SigV4 signs, and MHD's own `url` argument is already
 * decoded. It is kept on the connection, not in a request: libmicrohttpd
 * drops a request whose headers overflow its memory without a completion
 * call, and anything allocated per request here would leak. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
  vs__conn *c = conn_record(conn);
  (void)cls;
  if(c) {
    free(c->raw_uri);
    c->raw_uri = strdup(uri);
  }
  return NULL;
}

/* The request's state, made when its headers are complete. */
static vs__req *request_new(vs_server *s, struct MHD_Connection *conn)
{
  vs__conn *c = conn_record(conn);
  vs__req *r;
  unsigned char rnd[8];
  if(!c || !c->raw_uri || !(r = calloc(1, sizeof(*r))))
    return NULL;
  r->srv = s;
  r->conn = conn;
  r->cn = c;
  r->raw_uri = c->raw_uri; /* taken */
  c->raw_uri = NULL;
  r->start_ms = vs_now_ms(NULL, NULL);
  r->content_length = -1;
  r->store_slot = -1;
  if(vs_random(rnd, sizeof(rnd), NULL))
    memset(rnd, 0, sizeof(rnd));
  vs_hex(rnd, sizeof(rnd), r->id);
  atomic_fetch_add(&s->m.in_flight, 1);
  atomic_fetch_add(&s->m.requests, 1);
  return r;
}

static const char *route_header(void *conn, const char *name)
{
  return vs__header(conn, name);
}

/* Every request goes through the route table (router.c) first. Its
 * refusals, and every S3 operation, go to the object handler, which
 * answers a refusal before anything else (after authenticating, unless
 * the table says it need not); health, metrics and hooks go to theirs. */
static int route(vs__req *r)
{
  const char *p = r->raw_uri, *q;
  size_t plen;
  size_t n;
  char *path, *slash, vb[256], *vuri = NULL;
  /* virtual-hosted style (--domain): "/key" on BUCKET.domain is routed
   * and read as "/BUCKET/key"; signatures still cover the URI as sent */
  if(vs__route_host_bucket(vs__header(r->conn, MHD_HTTP_HEADER_HOST),
                           r->srv->cfg.domain, vb, sizeof(vb))) {
    vuri = p[0] == '/' ? malloc(strlen(vb) + strlen(p) + 2) : NULL;
    if(vuri)
      sprintf(vuri, "/%s%s", vb, p);
    p = vuri ? vuri : ""; /* "": refused as a malformed path */
  }
  q = strchr(p, '?');
  plen = q ? (size_t)(q - p) : strlen(p);
  switch(vs__route_classify(r->method, p, route_header, r->conn, &r->rt)) {
  case VS__OP_HEALTH:
    free(vuri);
    return VS__R_HEALTH;
  case VS__OP_METRICS:
    free(vuri);
    return VS__R_METRICS;
  case VS__OP_HOOK:
    free(vuri);
    return VS__R_HOOK;
  default:
    break;
  }
  /* "/bucket/key...": the decoded parts, also for a refusal's answer */
  path = vs_sigv4_uri_decode(p, plen, &n);
  if(path && path[0] == '/') {
    slash = n > 1 ? memchr(path + 1, '/', n - 1) : NULL;
    if(n > 1)
      r->bucket = strndup(path + 1, slash ? (size_t)(slash - path - 1)
                                          : n - 1);
    if(slash) {
      r->key_len = n - (size_t)(slash + 1 - path);
      r->key = malloc(r->key_len + 1);
      if(r->key) {
        memcpy(r->key, slash + 1, r->key_len);
        r->key[r->key_len] = 0;
      }
    }
  }
  free(path);
  free(vuri);
  return VS__R_OBJECT;
}

/* A request that announces a body: Content-Length above 0, or chunked. */
static int has_body(struct MHD_Connection *conn)
{
  const char *cl = vs__header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
  return vs__header(conn, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL ||
         (cl && strcmp(cl, "0"));
}

/* The first call: headers complete. A request with a body is handled now,
 * so that a refusal comes before a body byte is read (libmicrohttpd then
 * closes the connection). One without a body is answered on the next call:
 * an answer queued on the first counts as early, and would close a
 * keep-alive connection. */
static enum MHD_Result request_first(vs__req *r, const char *method,
                                     int *defer)
{
  char msg[120];
  int body = has_body(r->conn);
  snprintf(r->method, sizeof(r->method), "%s", method);
  r->route = route(r);
  if(vs__headers_check(r->conn, msg, sizeof(msg))) {
    r->rejected = 1;
    r->extra_header = MHD_HTTP_HEADER_CONNECTION;
    snprintf(r->extra_value, sizeof(r->extra_value), "close");
    return vs__s3_error(r, VS__S3_INVALID_ARGUMENT, msg);
  }
  vs__conn_enter(r->cn, body ? VS__C_BODY : VS__C_ACTIVE,
                 vs_now_ms(NULL, NULL));
  *defer = !body;
  return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
  vs__req *r = *req_cls;
  (void)url;
  (void)version;
  if(!r) {
    *req_cls = r = request_new(cls, conn);
    if(!r)
      return MHD_NO; /* out of memory: drop the connection */
  }
  r->conn = conn;
  if(!r->started) {
    int defer = 0;
    enum MHD_Result ret;
    r->started = 1;
    ret = request_first(r, method, &defer);
    if(ret != MHD_YES || r->rejected || defer)
      return ret;
  }
  else if(*upload_data_size)
    atomic_fetch_add(&r->cn->body_bytes, *upload_data_size);
  else if(atomic_load(&r->cn->state) == VS__C_BODY) /* the body is in */
    vs__conn_enter(r->cn, VS__C_ACTIVE, vs_now_ms(NULL, NULL));
  if(r->rejected) {
    *upload_data_size = 0; /* an answer is queued; MHD discards the rest */
    return MHD_YES;
  }
  switch(r->route) {
  case VS__R_HEALTH:
    return vs__health(r);
  case VS__R_METRICS:
    return vs__metrics_page(r);
  case VS__R_HOOK:
    return vs__hook(r, upload_data, upload_data_size);
  case VS__R_OBJECT:
    return vs__s3_request(r, upload_data, upload_data_size);
  default:
    r->rejected = 1;
    return vs__s3_error(r, VS__S3_INVALID_ARGUMENT, "malformed request path");
  }
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
  switch(toe) {
  case MHD_REQUEST_TERMINATED_COMPLETED_OK:
    return NULL;
  case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
    return "timeout";
  case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
    return "shutdown";
  case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
  case MHD_REQUEST_TERMINATED_READ_ERROR:
    return "client-abort";
  default:
    return "error";
  }
}

const char *vs__remote(struct MHD_Connection *conn, char *buf, size_t cap)
{
  const union MHD_ConnectionInfo *ci =
    conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS)
         : NULL;
  buf[0] = 0;
  if(ci && ci->client_addr)
    getnameinfo(ci->client_addr,
                ci->client_addr->sa_family == AF_INET6
                  ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
                buf, (socklen_t)cap, NULL, 0, NI_NUMERICHOST);
  return buf;
}

/* One JSON line per request. Never the query string: it holds signatures. */
static void log_request(vs__req *r, enum MHD_RequestTerminationCode toe)
{
  vs_buf b = VS_BUF_INIT;
  const char *term = termination_name(toe);
  char addr[64];
  vs_buf_adds(&b, ",\"level\":\"info\",\"msg\":\"request\",\"id\":");
  vs_buf_add_json_str(&b, r->id, strlen(r->id));
  vs_buf_adds(&b, ",\"method\":");
  vs_buf_add_json_str(&b, r->method, strlen(r->method));
  if(r->bucket) {
    vs_buf_adds(&b, ",\"bucket\":");
    vs_buf_add_json_str(&b, r->bucket, strlen(r->bucket));
  }
  if(r->key) {
    vs_buf_adds(&b, ",\"key\":");
    vs_buf_add_json_str(&b, r->key, r->key_len);
  }
  else if(r->route != VS__R_OBJECT) {
    const char *q = strchr(r->raw_uri ? r->raw_uri : "", '?');
    size_t n = r->raw_uri ? (q ? (size_t)(q - r->raw_uri)
                                : strlen(r->raw_uri)) : 0;
    vs_buf_adds(&b, ",\"path\":");
    vs_buf_add_json_str(&b, r->raw_uri ? r->raw_uri : "", n);
  }
  vs_buf_addf(&b, ",\"status\":%u,\"bytes_in\":%llu,\"bytes_out\":%llu,"
              "\"ms\":%lld", r->status, (unsigned long long)r->bytes_in,
              (unsigned long long)r->bytes_out,
              (long long)(vs_now_ms(NULL, NULL) - r->start_ms));
  vs_buf_adds(&b, ",\"remote\":");
  vs__remote(r->conn, addr, sizeof(addr));
  vs_buf_add_json_str(&b, addr, strlen(addr));
  if(term)
    vs_buf_addf(&b, ",\"aborted\":\"%s\"", term);
  vs_log_fields(b.data ? b.data : "", b.len);
  vs_buf_free(&b);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **req_cls, enum MHD_RequestTerminationCode toe)
{
  vs_server *s = cls;
  vs__req *r = *req_cls;
  (void)conn;
  if(!r)
    return;
  if(r->work) /* it went through the commit pool */
    atomic_fetch_sub(&s->q_unanswered, 1);
  if(r->route == VS__R_OBJECT)
    vs__object_done(r, toe);
  log_request(r, toe);
  if(toe != MHD_REQUEST_TERMINATED_COMPLETED_OK &&
     atomic_load(&s->stopping))
    atomic_fetch_add(&s->m.aborted_at_stop, 1);
  /* keep-alive: the next request's headers are due from now */
  vs__conn_enter(r->cn, VS__C_HEADERS, vs_now_ms(NULL, NULL));
  free(r->raw_uri);
  free(r->bucket);
  free(r->key);
  free(r->content_type);
  free(r->body);
  free(r->copy);
  free(r->mpu);
  free(r->parts);
  free(r->done_info);
  free(r);
  *req_cls = NULL;
  atomic_fetch_sub(&s->m.in_flight, 1);
}

/* libmicrohttpd announces each connection it took from the acceptor, and
 * its end; the record (conns.c) lives from one to the other. */
static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
  vs_server *s = cls;
  if(code == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    *socket_ctx = ci ? vs__conns_started(&s->conns, ci->connect_fd) : NULL;
  }
  else {
    vs__conns_closed(&s->conns, *socket_ctx);
    *socket_ctx = NULL;
  }
}

/* MHD's own messages go into our JSON log. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  vs_buf b = VS_BUF_INIT;
  (void)cls;
  vs_buf_vaddf(&b, fmt, ap);
  while(b.len && b.data[b.len - 1] == '\n')
    b.data[--b.len] = 0;
  vs_log("warn", "libmicrohttpd: %s", vs_buf_str(&b));
  vs_buf_free(&b);
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss,
                        vs_err *err)
{
  char host[256];
  const char *colon = strrchr(listen, ':');
  char *end;
  long port;
  size_t hl;
  memset(ss, 0, sizeof(*ss));
  if(!colon)
    return vs_fail(err, VS_ERR_INVALID, "--listen %s: expected ADDR:PORT",
                   listen);
  port = strtol(colon + 1, &end, 10);
  if(*end || end == colon + 1 || port < 0 || port > 65535)
    return vs_fail(err, VS_ERR_INVALID, "--listen %s: bad port", listen);
  hl = (size_t)(colon - listen);
  if(hl >= sizeof(host))
    return vs_fail(err, VS_ERR_INVALID, "--listen %s: address too long",
                   listen);
  memcpy(host, listen, hl);
  host[hl] = 0;
  if(hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    host[hl - 1] = 0;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    if(inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
      return vs_fail(err, VS_ERR_INVALID, "--listen %s: bad IPv6 address",
                     listen);
    return VS_OK;
  }
  {
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if(hl == 0)
      a4->sin_addr.s_addr = htonl(INADDR_ANY);
    else if(inet_pton(AF_INET, host, &a4->sin_addr) != 1)
      return vs_fail(err, VS_ERR_INVALID,
                     "--listen %s: bad IPv4 address (use [v6]:port for IPv6)",
                     listen);
  }
  return VS_OK;
}

/* Our own listening socket: connections are handed to MHD's pool with
 * MHD_add_connection, which spreads them over the workers. Left to itself,
 * MHD lets whichever worker wakes first accept a whole burst: 64 uploads
 * opened at once landed 60 on one worker of two, whose core then did all
 * the hashing and whose fsyncs stalled all of them. */
static int open_listener(vs_server *s, const struct sockaddr_storage *ss,
                         const char *listen_s, vs_err *err)
{
  socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                            : sizeof(struct sockaddr_in);
  int one = 1;
  s->listen_fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if(s->listen_fd < 0)
    return vs_fail_errno(err, errno, "cannot listen on %s", listen_s);
  setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if(bind(s->listen_fd, (const struct sockaddr *)ss, len) ||
     listen(s->listen_fd, 1024))
    return vs_fail_errno(err, errno, "cannot listen on %s", listen_s);
  return VS_OK;
}

static void *acceptor(void *cls)
{
  vs_server *s = cls;
  for(;;) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &len,
                     SOCK_CLOEXEC);
    if(fd < 0) {
      struct timespec ts = {0, 10 * 1000 * 1000};
      if(atomic_load(&s->stopping))
        return NULL;
      if(errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
         errno == ENOMEM)
        nanosleep(&ts, NULL); /* out of descriptors: let some close */
      continue;
    }
    /* Our limits, checked before libmicrohttpd sees the socket: its own
     * are set so high that they are never reached (see start). */
    if(vs__conns_admit(&s->conns, fd, (struct sockaddr *)&ss,
                       vs_now_ms(NULL, NULL))) {
      close(fd);
      continue;
    }
    /* on refusal libmicrohttpd has closed the socket */
    if(MHD_add_connection(s->mhd, fd, (struct sockaddr *)&ss, len) != MHD_YES)
      vs__conns_refused(&s->conns, fd);
  }
}

static void stop_acceptor(vs_server *s)
{
  if(s->acceptor_running) {
    shutdown(s->listen_fd, SHUT_RDWR); /* wakes accept4 */
    pthread_join(s->acceptor, NULL);
    s->acceptor_running = 0;
  }
  if(s->listen_fd >= 0)
    close(s->listen_fd);
  s->listen_fd = -1;
}

static int copy_config(vs_server *s, const vs_server_config *c, vs_err *err)
{
  int rc;
  s->cfg = *c;
  if(!s->cfg.max_object_size)
    s->cfg.max_object_size = DEFAULT_MAX_OBJECT;
  if(!s->cfg.threads) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    s->cfg.threads = n > 0 ? (unsigned)n : 2;
  }
  if(!s->cfg.idle_timeout_s)
    s->cfg.idle_timeout_s = 30;
  if(!s->cfg.max_connections)
    s->cfg.max_connections = 1024;
  if(!s->cfg.max_connections_per_ip)
    s->cfg.max_connections_per_ip = 256;
  if(!s->cfg.header_timeout_s)
    s->cfg.header_timeout_s = 10;
  if(!s->cfg.min_body_rate)
    s->cfg.min_body_rate = 1024;
  else if(s->cfg.min_body_rate == UINT64_MAX)
    s->cfg.min_body_rate = 0;
  if(!s->cfg.body_rate_window_s)
    s->cfg.body_rate_window_s = 30;
  s->region = strdup(c->region ? c->region : "us-east-1");
  if(!s->region)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if(!c->store || !c->manifest || !c->keys)
    return vs_fail(err, VS_ERR_INVALID, "server needs a store, a manifest "
                   "and keys");
  /* read by every request, grown by CreateBucket: bucket_list.c */
  if((rc = vs__buckets_init(s, err)))
    return rc;
  return VS_OK;
}

static int conns_init(vs_server *s)
{
  vs__conns_config cc = {s->cfg.max_connections,
                         s->cfg.max_connections_per_ip,
                         s->cfg.header_timeout_s, s->cfg.min_body_rate,
                         s->cfg.body_rate_window_s};
  return vs__conns_init(&s->conns, &cc);
}

static void free_server(vs_server *s)
{
  if(!s)
    return;
  vs__pump_stop(s->pump); /* after libmicrohttpd: no upload is left */
  vs__waker_stop(s->waker);
  vs__buckets_free(s);
  free(s->region);
  vs_keyring_free(s->keys);
  pthread_rwlock_destroy(&s->keys_lock);
  pthread_mutex_destroy(&s->hooks_lock);
  vs__conns_free(&s->conns);
  free(s);
}

int vs_server_start(vs_server **out, const vs_server_config *c, vs_err *err)
{
  struct sockaddr_storage ss;
  vs_server *s;
  int rc;
  /* poll(), not epoll: libmicrohttpd 0.9.75's edge-triggered epoll loses
   * a FIN that arrives right behind the last body bytes (it takes a short
   * read to mean "drained" and never reads again), so a client that stops
   * mid-body was noticed only at the idle timeout, holding its temporary
   * file and a graceful stop. poll() sees it every time; each worker polls
   * only its share of the connections (see acceptor()). */
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                   MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET |
                   MHD_ALLOW_SUSPEND_RESUME;
  rc = parse_listen(c->listen ? c->listen : "127.0.0.1:9000", &ss, err);
  if(rc)
    return rc;
  if(ss.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  s = calloc(1, sizeof(*s));
  if(!s)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  pthread_rwlock_init(&s->keys_lock, NULL);
  pthread_mutex_init(&s->hooks_lock, NULL);
  s->listen_fd = -1;
  rc = copy_config(s, c, err);
  if(!rc && conns_init(s))
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  /* a pipe's lanes are three threads' work at most: twice the workers'
   * threads keep every core busy while the writes wait on the disk */
  if(!rc)
    rc = vs__pump_start(&s->pump, 2 * s->cfg.threads + 2,
                        BUFS_PER_WORKER * s->cfg.threads, err);
  if(!rc && vs_store_is_remote(s->cfg.store))
    rc = vs__waker_start(&s->waker, err);
  if(!rc)
    rc = open_listener(s, &ss, c->listen ? c->listen : "127.0.0.1:9000",
                       err);
  if(rc) {
    stop_acceptor(s);
    s->cfg.keys = NULL; /* still the caller's on failure */
    free_server(s);
    return rc;
  }
  s->mhd = MHD_start_daemon(
    flags, 0, NULL, NULL, on_request, s,
    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, /* first, so it sees all */
    MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
    MHD_OPTION_THREAD_POOL_SIZE, s->cfg.threads,
    MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.idle_timeout_s,
    MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
    /* The acceptor enforces the limits (conns.c). libmicrohttpd splits its
     * own over the pool's workers, and 0.9.75 hangs every worker when a
     * worker's share is reached: give each worker room for them all. */
    MHD_OPTION_CONNECTION_LIMIT,
    (s->cfg.max_connections + 64) * s->cfg.threads,
    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
    MHD_OPTION_CONNECTION_MEMORY_INCREMENT, (size_t)CONN_INCREMENT,
    MHD_OPTION_END);
  /* commits wait on the disk, not the CPU: twice as many threads as
   * workers keep the disk busy without a thread per upload */
  if(s->mhd && (vs__commits_start(s, 2 * s->cfg.threads, NULL) ||
                vs__conns_start(&s->conns) ||
                vs__mpu_sweeper_start(s, NULL) ||
                pthread_create(&s->acceptor, NULL, acceptor, s))) {
    vs__mpu_sweeper_stop(s);
    vs__commits_stop(s);
    MHD_stop_daemon(s->mhd);
    s->mhd = NULL;
  }
  if(!s->mhd) {
    int e = errno;
    stop_acceptor(s);
    s->keys = NULL;
    free_server(s);
    return vs_fail(err, VS_ERR_IO, "cannot listen on %s: %s",
                   c->listen ? c->listen : "127.0.0.1:9000",
                   e ? strerror(e) : "libmicrohttpd refused the options");
  }
  s->acceptor_running = 1;
  s->keys = c->keys;
  if(!getsockname(s->listen_fd, (struct sockaddr *)&ss, &(socklen_t){
                    sizeof(ss)}))
    s->port = ntohs(ss.ss_family == AF_INET6
                      ? ((struct sockaddr_in6 *)&ss)->sin6_port
                      : ((struct sockaddr_in *)&ss)->sin_port);
  *out = s;
  return VS_OK;
}

uint16_t vs_server_port(const vs_server *s)
{
  return s->port;
}

unsigned vs_server_in_flight(const vs_server *s)
{
  return atomic_load(&((vs_server *)s)->m.in_flight);
}

unsigned vs_server_shutdown(vs_server *s, unsigned timeout_s)
{
  int64_t deadline = vs_now_ms(NULL, NULL) + (int64_t)timeout_s * 1000;
  if(!s->mhd)
    return 0;
  atomic_store(&s->stopping, 1);
  stop_acceptor(s); /* no new connections; the open ones finish */
  while(vs_server_in_flight(s) > 0 && vs_now_ms(NULL, NULL) < deadline) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  /* uploads parked on a full pipe go on, waiting on their threads: no
   * connection may stay suspended when libmicrohttpd stops */
  vs__pump_close(s->pump);
  /* and GETs and slow uploads waiting on the store */
  vs__waker_close(s->waker);
  /* commits under way finish and answer; none start from here on (a body
   * that completes now is answered 503 and kept nowhere) */
  vs__commits_close(s);
  /* and a committed upload's 200 gets out before the connections close:
   * a client that never hears of its stored object would send it again */
  deadline = vs_now_ms(NULL, NULL) + ANSWER_GRACE_MS;
  while(atomic_load(&s->q_unanswered) && vs_now_ms(NULL, NULL) < deadline) {
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  MHD_stop_daemon(s->mhd); /* whatever is still open is aborted */
  s->mhd = NULL;
  vs__commits_stop(s);
  vs__mpu_sweeper_stop(s);
  /* counted as they end, so the figure is what really was cut short */
  return (unsigned)atomic_load(&s->m.aborted_at_stop);
}

void vs_server_free(vs_server *s)
{
  if(!s)
    return;
  if(s->mhd)
    vs_server_shutdown(s, 0);
  free_server(s);
}
