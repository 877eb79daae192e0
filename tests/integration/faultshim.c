/* A fault-injecting shim for the sink's fallbacks, loaded with LD_PRELOAD
 * by test_rgw_sink_fallbacks.py. Each fault is armed while a file exists,
 * so the sink starts normally and the test turns a fault on and off:
 *
 *   VSINK_FAULTSHIM_EPOLL=PATH  epoll_ctl(EPOLL_CTL_ADD) fails (ENOMEM):
 *                               the waker cannot take a new fd
 *   VSINK_FAULTSHIM_FCNTL=PATH  fcntl(F_SETFL) on a pipe fails (EINVAL):
 *                               a GET's pipe stays blocking
 *
 * Only these two calls are wrapped; everything else goes to libc. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

static int armed(const char *var)
{
  const char *p = getenv(var);
  return p && *p && !access(p, F_OK);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
  static int (*real)(int, int, int, struct epoll_event *);
  if(!real)
    *(void **)&real = dlsym(RTLD_NEXT, "epoll_ctl");
  if(op == EPOLL_CTL_ADD && armed("VSINK_FAULTSHIM_EPOLL")) {
    errno = ENOMEM;
    return -1;
  }
  return real(epfd, op, fd, ev);
}

static int is_pipe(int fd)
{
  struct stat st;
  return !fstat(fd, &st) && S_ISFIFO(st.st_mode);
}

/* fcntl's third argument is an int or a pointer: passed on as a long,
 * which carries either on the ABIs Debian builds for. */
int fcntl(int fd, int cmd, ...)
{
  static int (*real)(int, int, ...);
  va_list ap;
  long arg;
  va_start(ap, cmd);
  arg = va_arg(ap, long);
  va_end(ap);
  if(!real)
    *(void **)&real = dlsym(RTLD_NEXT, "fcntl");
  if(cmd == F_SETFL && is_pipe(fd) && armed("VSINK_FAULTSHIM_FCNTL")) {
    errno = EINVAL;
    return -1;
  }
  return real(fd, cmd, arg);
}

/* glibc's other name for it (the same function on 64-bit Debian) */
int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));
