/* The pump: an upload's bytes received on the connection's thread, hashed
 * and written on others (issue 9). One upload through it is a pipe: its
 * bytes are copied into 1 MiB buffers, and each full buffer goes down every
 * lane of the pipe (the SHA-256, the MD5, the write), each lane taking the
 * buffers in order, the lanes side by side on the pump's threads. So one
 * upload uses the machine's cores, and the writes get whole aligned MiBs
 * (the filesystem store writes those with O_DIRECT).
 *
 * Memory is fixed: a pipe owns its buffers (PUMP_DEPTH_MIN to PUMP_DEPTH)
 * from the pump's pool for its life, and the pool has a fixed number; when
 * too few are free, vs__pipe_open says so and the caller goes on inline.
 * A pipe never waits for another pipe's buffers, only for its own lanes,
 * which always progress: no upload can stall another.
 *
 *   vs__pipe *p = vs__pipe_open(pump, lanes, 3, bytes_so_far);
 *   vs__pipe_put(p, data, n, &err);   (any number of times; -1: a lane
 *                                      failed, err says how)
 *   vs__pipe_end(p, &err);            (the rest sent; every lane done)
 *   vs__pipe_free(p);                 (also abandons one half-way)
 *
 * Only the pipe's owner calls vs__pipe_*; the lanes' functions run on the
 * pump's threads, one buffer of a lane at a time. */
#ifndef VS_SERVER_PUMP_H
#define VS_SERVER_PUMP_H

#include <stddef.h>
#include <stdint.h>

#include "vsink/common.h"

#ifndef PUMP_BUF
#define PUMP_BUF (1u << 20)
#endif
/* A pipe's buffers: PUMP_DEPTH while the pool has half its buffers free,
 * else PUMP_DEPTH_MIN (one filling while the lanes take the other). The
 * deeper pipe rides out the disk's pauses (a flush, store_fs_write.c)
 * without stopping the hashing: one 1 GiB PUT, default settings, 2-vCPU
 * machine, a flush every 8 MiB: 3 buffers 2.67-2.95 s, 4 buffers 2.36-2.62
 * s, 6 buffers 2.32-2.68 s; 2 buffers and a flush every 64 MiB 3.01-3.17 s
 * (bench/README.md). */
#ifndef PUMP_DEPTH
#define PUMP_DEPTH 6
#endif
#define PUMP_DEPTH_MIN 2
#define PUMP_ALIGN 4096u
#define PUMP_LANES 4

typedef struct vs__pump vs__pump;
typedef struct vs__pipe vs__pipe;

/* One stage of a pipe: fn(ctx, p, n, err) for each buffer in order; a
 * non-zero return fails the pipe (the lanes skip the rest). kind (below
 * PUMP_LANES) names what the lane does, for vs__pump_waits. */
typedef struct vs__lane_def {
  int (*fn)(void *ctx, const void *p, size_t n, vs_err *err);
  void *ctx;
  unsigned kind;
} vs__lane_def;

/* threads: the pump's threads; bufs: its buffers of PUMP_BUF (allocated on
 * first use and kept), at least PUMP_DEPTH_MIN. */
int vs__pump_start(vs__pump **out, unsigned threads, unsigned bufs,
                   vs_err *err);
/* Every pipe must be freed first. NULL is fine. */
void vs__pump_stop(vs__pump *p);

/* NULL when too few buffers are free (or memory is short). offset: the
 * bytes the upload had before; the first buffer is cut short so that every
 * later buffer starts at a multiple of PUMP_ALIGN. */
vs__pipe *vs__pipe_open(vs__pump *p, const vs__lane_def *lanes, unsigned n,
                        uint64_t offset);
unsigned vs__pipe_depth(const vs__pipe *pp); /* its buffers */
int vs__pipe_put(vs__pipe *pp, const void *data, size_t n, vs_err *err);
int vs__pipe_end(vs__pipe *pp, vs_err *err);
/* vs__pipe_put without waiting: takes what the pipe has room for (*took;
 * the rest is for a later call, after vs__pipe_park); -1 when a lane
 * failed (err says how). */
int vs__pipe_offer(vs__pipe *pp, const void *data, size_t n, size_t *took,
                   vs_err *err);
/* The owner waits for room (idle: for every lane to be done, the last
 * piece sent first) without holding its thread: park(arg) is called now
 * and wake(arg) later from a pump thread (or vs__pump_close), both under
 * the pump's lock, so wake never comes before park. Returns 1 if parked;
 * 0 when there is no need (room, done, failed) or the pump is closing:
 * then neither is called and the owner goes on (vs__pipe_put and
 * vs__pipe_end wait). */
int vs__pipe_park(vs__pipe *pp, int idle, void (*park)(void *),
                  void (*wake)(void *), void *arg);
/* Stopping: every parked pipe is woken, and none parks from now on. */
void vs__pump_close(vs__pump *p);
/* Pipes parked now (0 for NULL): uploads waiting on their store. */
unsigned vs__pump_parked(vs__pump *p);
/* How often an owner had to stop for its pipe's next buffer (every one
 * still in use), counted for the kind of the lane whose finished buffer
 * ended the stop: the stage that held the upload back. 0 for NULL. */
unsigned long long vs__pump_waits(vs__pump *p, unsigned kind);
void vs__pipe_free(vs__pipe *pp);

#endif
