/* The waker: a connection that waits for an fd, for bytes to answer with
 * (a GET streamed from a remote store, get_stream.c: VS__WAKE_ANSWER) or
 * for the store's room for more of an upload (vs_store_wait_fd,
 * objects.c: VS__WAKE_BODY), is suspended
 * instead of holding its event thread in read() or write, and one thread,
 * on epoll, resumes it once the fd is readable (data, EOF or error
 * alike).
 *
 *   slot = -1;
 *   in the content reader, read() said EAGAIN:
 *     if(vs__waker_park(w, &slot, fd, conn, VS__WAKE_ANSWER) == 0)
 *       return 0;  (suspended)
 *     1: the server is stopping (cut the answer); -1: wait in poll()
 *   before closing fd: vs__waker_forget(w, &slot);
 *
 * An event is matched to its park by slot and generation, so one that
 * comes late (the stream gone meanwhile) finds nothing to resume. */
#ifndef VS_SERVER_WAKER_H
#define VS_SERVER_WAKER_H

#include <microhttpd.h>

#include "vsink/common.h"

typedef struct vs__waker vs__waker;

/* What a parked connection waits for, counted apart (/metrics). */
typedef enum vs__wake_for { VS__WAKE_ANSWER, VS__WAKE_BODY } vs__wake_for;

int vs__waker_start(vs__waker **out, vs_err *err);
/* Every parked connection is resumed and none parks from now on: before
 * libmicrohttpd stops (it aborts on a suspended connection). NULL: fine. */
void vs__waker_close(vs__waker *w);
/* After libmicrohttpd stopped. NULL: fine. */
void vs__waker_stop(vs__waker *w);
/* From the connection's content reader: suspends conn until fd is
 * readable. 0 parked; 1 not, closing (the server stops: cut the answer);
 * -1 not (out of memory): the caller waits for fd itself. *slot: the
 * fd's place here, -1 the first time. */
int vs__waker_park(vs__waker *w, int *slot, int fd,
                   struct MHD_Connection *conn, vs__wake_for why);
/* The fd is about to be closed (its connection is not parked). */
void vs__waker_forget(vs__waker *w, int *slot);
/* Connections parked now for why. NULL: 0. */
unsigned vs__waker_parked(vs__waker *w, vs__wake_for why);

#endif
