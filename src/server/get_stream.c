/* GET of an object that is not a local file (the S3 store): the store
 * hands a pipe that yields the bytes served, and libmicrohttpd pulls them
 * through a content reader. The reader blocks on the pipe in the worker
 * thread; the store's transfer has its own timeouts, and closes the pipe
 * early when it fails, which ends the answer with an error (the client
 * sees a short body, never wrong bytes). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/internal.h"
#include "util/log.h"

typedef struct stream {
  int fd;
  uint64_t left;
} stream;

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
  stream *st = cls;
  ssize_t n;
  (void)pos;
  if(!st->left)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if(max > st->left)
    max = (size_t)st->left;
  do
    n = read(st->fd, buf, max);
  while(n < 0 && errno == EINTR);
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
    rc = vs_store_stream(r->srv->cfg.store, r->bucket, key,
                         info->version_id, off, len, &st->fd, err);
    if(rc) {
      free(st);
      return rc;
    }
    *resp = MHD_create_response_from_callback(len, 256 * 1024, read_stream,
                                              st, free_stream);
    if(!*resp)
      free_stream(st);
  }
  return *resp ? VS_OK : vs_fail(err, VS_ERR_NOMEM, "out of memory");
}
