/* Shared by the unit tests: scratch directories that clean themselves, and
 * a loopback HTTP server for the S3 client's tests. */
#ifndef VS_TEST_HELPERS_H
#define VS_TEST_HELPERS_H

#include <pthread.h>
#include <stddef.h>

/* mkdtemp under $TMPDIR (or /tmp) with the given tag; path is static
 * storage per call site's buffer. Returns 0 or -1. */
int vst_tmpdir(const char *tag, char *out, size_t cap);
/* rm -rf path. */
void vst_rmrf(const char *path);
/* Number of regular files below path (recursive). */
int vst_count_files(const char *path);
/* Lines holding needle in every regular file below path (plain text). */
int vst_count_lines_with(const char *path, const char *needle);

/* ---- a fake HTTP server on 127.0.0.1 ---------------------------------- */
#define VST_REQ_MAX 4 /* requests a server records */
#define VST_BODY_MAX 65536
/* a canned answer ending so: what comes before it, then silence until the
 * client hangs up */
#define VST_HANG "HANG"

/* One request as it came: its head up to the blank line, its body. */
typedef struct vst_req {
  char head[4096];
  char body[VST_BODY_MAX];
  size_t body_len;
} vst_req;

/* A listening socket on a port of its own and a thread that, while
 * more(ctx), waits up to 5 s for a connection, hands it to answer(ctx, c)
 * and closes it. */
typedef struct vst_server {
  int fd, port;
  int (*more)(void *ctx);
  void (*answer)(void *ctx, int c);
  void *ctx;
  pthread_t th;
} vst_server;

/* Fills fd and port and starts the thread. Returns 0 or -1. */
int vst_server_start(vst_server *s);
/* Waits for the thread to end, then closes the listening socket. */
void vst_server_wait(vst_server *s);
/* The next request on c into r; "100 Continue" first when the client waits
 * for it. Returns 0 when the connection ended before a whole head. */
int vst_read_request(int c, vst_req *r);

/* A server that answers its i-th connection with answers[i] ("" or NULL:
 * closes at once; see VST_HANG), one request each, and records them. */
typedef struct vst_canned {
  vst_server srv;
  int n, got; /* connections to take, taken */
  const char *answers[VST_REQ_MAX];
  vst_req req[VST_REQ_MAX];
} vst_canned;

/* n answers (const char *) follow; fails the calling cmocka test when it
 * cannot start. free() it after vst_canned_wait. */
vst_canned *vst_canned_start(int n, ...);
void vst_canned_wait(vst_canned *s);

/* A request head split into method, URI and header lines. */
typedef struct vst_parsed {
  char method[16], uri[1024];
  char names[24][64], values[24][512];
  int n;
} vst_parsed;

/* Returns 0, or -1 when raw is no request head. */
int vst_parse_head(const char *raw, vst_parsed *p);
/* Header name's value (any case) in the vst_parsed ctx, or NULL: a
 * vs_header_fn for vsink's verifier. */
const char *vst_lookup(void *ctx, const char *name);

#endif
