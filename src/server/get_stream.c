/* GET of an object that is not a local file (the S3 store): the store
 * hands a pipe that yields the bytes served, and libmicrohttpd pulls them
 * through a content reader. When the pipe is empty (the cluster has not
 * sent more yet) the connection is suspended and the waker (waker.h)
 * resumes it once there is more: the event thread serves the others
 * meanwhile. The store's transfer has its own timeouts, and closes the
 * pipe early when it fails, which ends the answer with an error (the
 * client sees a short body, never wrong bytes). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/internal.h"
#include "server/waker.h"
#include "util/log.h"

typedef struct stream {
  int fd;
  uint64_t left;
  vs__waker *waker;       /* NULL: wait in poll() */
  struct MHD_Connection *conn;
  int slot;               /* the fd's in the waker, -1 none */
} stream;

/* Nothing in the pipe yet: 0 when the connection was parked (the reader
 * returns 0 and is called again once resumed), 1 when the server is
 * stopping (past its drain time: the answer is cut, as an upload is), -1
 * after waiting here. */
static int wait_data(stream *st)
{
  struct pollfd p = {st->fd, POLLIN, 0};
  int rc = st->waker ? vs__waker_park(st->waker, &st->slot, st->fd, st->conn,
                                  VS__WAKE_ANSWER)
                     : -1;
  if(rc >= 0)
    return rc;
  while(poll(&p, 1, -1) < 0 && errno == EINTR)
    ;
  return -1;
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
  stream *st = cls;
  ssize_t n;
  (void)pos;
  if(!st->left)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if(max > st->left)
    max = (size_t)st->left;
  for(;;) {
    int rc;
    n = read(st->fd, buf, max);
    if(n >= 0 || (errno != EINTR && errno != EAGAIN))
      break;
    if(errno == EINTR || (rc = wait_data(st)) < 0)
      continue;
    if(!rc)
      return 0;
    vs_log("warn", "GET from the store cut short by the stop, %llu bytes "
           "unsent", (unsigned long long)st->left);
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
  if(n <= 0) {
    vs_log("error", "GET from the store: the transfer ended %llu bytes "
           "short", (unsigned long long)st->left);
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
  st->left -= (uint64_t)n;
  return n;
}

static void free_stream(void *cls)
{
  stream *st = cls;
  if(st->waker)
    vs__waker_forget(st->waker, &st->slot);
  if(st->fd >= 0)
    close(st->fd);
  free(st);
}

/* A HEAD's answer never reads: its reader has nothing behind it. */
static ssize_t read_nothing(void *cls, uint64_t pos, char *buf, size_t max)
{
  (void)cls, (void)pos, (void)buf, (void)max;
  return MHD_CONTENT_READER_END_WITH_ERROR;
}

int vs__stream_response(vs__req *r, const vs_object_info *info,
                        const char *key, uint64_t off, uint64_t len,
                        struct MHD_Response **resp, vs_err *err)
{
  stream *st;
  int rc;
  *resp = NULL;
  if(!strcmp(r->method, "HEAD") || !len)
    *resp = MHD_create_response_from_callback(len, 4096, read_nothing, NULL,
                                              NULL);
  else if(!(st = malloc(sizeof(*st))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  else {
    st->left = len;
    st->waker = r->srv->waker;
    st->conn = r->conn;
    st->slot = -1;
    rc = vs_store_stream(r->srv->cfg.store, r->bucket, key,
                         info->version_id, off, len, &st->fd, err);
    if(rc) {
      free(st);
      return rc;
    }
    if(st->waker &&
       fcntl(st->fd, F_SETFL, fcntl(st->fd, F_GETFL) | O_NONBLOCK) < 0)
      st->waker = NULL; /* then read() waits, as it may */
    *resp = MHD_create_response_from_callback(len, 256 * 1024, read_stream,
                                              st, free_stream);
    if(!*resp)
      free_stream(st);
  }
  return *resp ? VS_OK : vs_fail(err, VS_ERR_NOMEM, "out of memory");
}
