/* An upload's bytes to its .part file.
 *
 * Whole aligned blocks go with O_DIRECT (issue 9): no copy into the page
 * cache and no write-back storm behind them, and the fsync at commit finds
 * them on the device already. The flag is set and cleared on the file per
 * write, so what is not aligned (a small body, a piece from a slow client,
 * the tail) goes through the page cache as before, and a filesystem that
 * refuses O_DIRECT (tmpfs says EINVAL) is asked once. The server's pump
 * (server/pump.h) hands over aligned MiBs; any other caller is served as
 * before. */
#define _GNU_SOURCE /* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "util/fs.h"
#include "store_fs_int.h"

/* Write-back starts every WB_WINDOW bytes written through the page cache,
 * so the fsync at commit finds little left to write and the page cache
 * does not fill with dirty video (see write_behind). */
#define WB_WINDOW (8ULL << 20)
/* O_DIRECT wants the memory, the offset and the length aligned to the
 * device's logical block (512 or 4096); below DIRECT_MIN a write is not
 * worth the flag's two system calls. */
#define DIRECT_ALIGN 4096u
#define DIRECT_MIN (64u << 10)
/* What O_DIRECT wrote may still sit in the device's volatile cache; only a
 * flush (fsync) makes it durable, and a virtual disk takes as long to
 * flush as to write (1 GiB here: 0.6 s). Flushing every SYNC_WINDOW bytes
 * on the writing thread leaves the commit's fsync little to do, in pauses
 * short enough for the pump's buffers to ride out while the hashing goes
 * on: one 1 GiB PUT, default settings, 2-vCPU machine: 3.0-3.2 s with one
 * flush at the commit, 2.2-2.5 s with one every 8 MiB (bench/README.md). */
#ifndef SYNC_WINDOW
#define SYNC_WINDOW (8ULL << 20)
#endif

/* For each full window: start its write-back, wait for the window before
 * it (long under way by now) and drop that one from the page cache. The
 * fsync at commit still makes everything durable; it just has little left.
 * sync_file_range may consume an I/O error that fsync would then not see,
 * so any error is kept and fails the commit. */
static void write_behind(vs_upload *u)
{
  const unsigned wait = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                        SYNC_FILE_RANGE_WAIT_AFTER;
  while(!u->wb_errno && u->written - u->wb_started >= WB_WINDOW) {
    off_t off = (off_t)u->wb_started;
    if(sync_file_range(u->fd, off, WB_WINDOW, SYNC_FILE_RANGE_WRITE))
      u->wb_errno = errno;
    else if(off >= (off_t)WB_WINDOW) {
      if(sync_file_range(u->fd, off - WB_WINDOW, WB_WINDOW, wait))
        u->wb_errno = errno;
      else
        posix_fadvise(u->fd, off - WB_WINDOW, WB_WINDOW,
                      POSIX_FADV_DONTNEED);
    }
    u->wb_started += WB_WINDOW;
  }
}

static int aligned(const vs_upload *u, const void *p, size_t n)
{
  return n >= DIRECT_MIN && n % DIRECT_ALIGN == 0 &&
         (uintptr_t)p % DIRECT_ALIGN == 0 && u->written % DIRECT_ALIGN == 0;
}

/* Turns O_DIRECT on or off; a refusal to turn it on is final. */
static void set_direct(vs_upload *u, int on)
{
  int fl = fcntl(u->fd, F_GETFL);
  if(fl >= 0 && !fcntl(u->fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT))
    u->direct = on;
  else if(on)
    u->direct = -1;
}

/* 0, or the errno that stopped it after *done bytes */
static int write_direct(vs_upload *u, const char *p, size_t n, size_t *done)
{
  while(*done < n) {
    ssize_t k = write(u->fd, p + *done, n - *done);
    if(k > 0)
      *done += (size_t)k;
    else if(k < 0 && errno != EINTR)
      return errno;
    else if(k == 0)
      return EIO;
  }
  return 0;
}

int vs__fs_write(vs_upload *u, const void *p, size_t n, vs_err *err)
{
  size_t done = 0;
  int rc, want = u->direct >= 0 && aligned(u, p, n);
  if(u->direct >= 0 && want != u->direct)
    set_direct(u, want);
  if(u->direct == 1) {
    int e = write_direct(u, p, n, &done);
    if(e == EINVAL) { /* this filesystem, or a short write's remainder */
      set_direct(u, 0);
      u->direct = -1;
    } else if(e)
      return vs_fail_errno(err, e, "write %s", u->part);
    u->written += done;
    u->wb_started = u->written; /* nothing of it in the page cache */
    if(!u->wb_errno && u->written - u->synced >= SYNC_WINDOW) {
      if(fdatasync(u->fd))
        u->wb_errno = errno; /* fails the commit, as write_behind's */
      u->synced = u->written;
    }
  }
  rc = vs_write_all(u->fd, (const char *)p + done, n - done, err);
  if(rc) {
    if(err)
      vs_fail_errno(err, err->sys_errno, "write %s", u->part);
    return rc;
  }
  u->written += n - done;
  write_behind(u);
  return VS_OK;
}
