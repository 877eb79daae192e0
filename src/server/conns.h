/* The sink's connections, as the acceptor and the sweeper see them: the
 * limits (total and per address) are ours, enforced before a socket is
 * handed to libmicrohttpd, whose own limit must never be reached (0.9.75
 * keeps a mutex locked when it is: every worker then hangs). The sweeper
 * closes connections that take too long over their headers or send a body
 * too slowly, which libmicrohttpd's inactivity timeout cannot see.
 * Internal to the server. */
#ifndef VS_SERVER_CONNS_H
#define VS_SERVER_CONNS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

/* Where a connection is in its life; only the sweeper acts on it. */
enum vs__conn_state {
  VS__C_HEADERS = 0, /* waiting for a request's line and headers */
  VS__C_ACTIVE,      /* a request is being handled or answered */
  VS__C_BODY,        /* a request body is arriving */
  VS__C_PARKED       /* suspended while its commit runs */
};

typedef struct vs__conn {
  int fd;
  unsigned char ip[16];      /* the peer's address, the per-IP key */
  size_t slot;               /* index in vs__conns.live */
  int started;               /* libmicrohttpd announced it */
  atomic_int state;
  atomic_llong since_ms;     /* when state began */
  atomic_ullong body_bytes;  /* of the current request */
  uint64_t win_bytes;        /* the sweeper's rate window */
  int64_t win_ms;
  char *raw_uri;             /* from the URI callback until a request
                              * takes it (the connection's thread only) */
} vs__conn;

typedef struct vs__ipcount {
  unsigned char ip[16];
  unsigned n;                /* 0: a free slot */
} vs__ipcount;

typedef struct vs__conns {
  pthread_mutex_t lock;      /* the tables below, and shutdown() of a fd */
  vs__conn **by_fd;          /* fd -> connection, while it is ours */
  size_t fd_cap;
  vs__conn **live;           /* every connection, dense */
  size_t n_live, max;
  vs__ipcount *ips;          /* open addressing, linear probing */
  size_t ip_mask;
  unsigned max_per_ip;
  int64_t header_ms;         /* 0: no header deadline */
  uint64_t min_rate;         /* bytes per second; 0: no minimum */
  int64_t window_ms;
  pthread_t sweeper;
  pthread_cond_t wake;
  int stop, sweeping;
  /* counters for /metrics */
  atomic_ullong refused_total, refused_per_ip, header_timeouts, slow_bodies;
} vs__conns;

typedef struct vs__conns_config {
  unsigned max, max_per_ip;
  unsigned header_timeout_s;     /* 0: none */
  uint64_t min_rate;             /* 0: none */
  unsigned rate_window_s;
} vs__conns_config;

int vs__conns_init(vs__conns *t, const vs__conns_config *c);
/* Starts the sweeper thread. */
int vs__conns_start(vs__conns *t);
void vs__conns_free(vs__conns *t);
/* The acceptor's check for a new socket: 0 and a record (the slot is
 * taken), or -1 when over a limit (counted; the caller closes fd). */
int vs__conns_admit(vs__conns *t, int fd, const struct sockaddr *sa,
                    int64_t now_ms);
/* libmicrohttpd refused the socket it was given (and closed it). */
void vs__conns_refused(vs__conns *t, int fd);
/* libmicrohttpd's connection notifications: started hands back the
 * record for fd; closed releases it. */
vs__conn *vs__conns_started(vs__conns *t, int fd);
void vs__conns_closed(vs__conns *t, vs__conn *c);
/* A connection moves to a new state at now_ms. */
void vs__conn_enter(vs__conn *c, enum vs__conn_state st, int64_t now_ms);
unsigned vs__conns_open(vs__conns *t);

#endif
