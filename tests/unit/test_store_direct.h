/* Shared by the O_DIRECT store tests: the flags of the open .part file,
 * and whether a folder's filesystem takes O_DIRECT. */
#ifndef VS_TEST_STORE_DIRECT_H
#define VS_TEST_STORE_DIRECT_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The open .part file's flags; -1 when none is open. */
static inline long part_flags(void)
{
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  long flags = -1;
  assert_non_null(d);
  while(flags < 0 && (e = readdir(d))) {
    char link[300], target[1024], info[300], line[128];
    ssize_t n;
    FILE *f;
    snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
    n = readlink(link, target, sizeof(target) - 1);
    if(n <= 0)
      continue;
    target[n] = 0;
    if(!strstr(target, ".part"))
      continue;
    snprintf(info, sizeof(info), "/proc/self/fdinfo/%s", e->d_name);
    if(!(f = fopen(info, "r")))
      continue;
    while(fgets(line, sizeof(line), f))
      if(!strncmp(line, "flags:", 6))
        flags = strtol(line + 6, NULL, 8);
    fclose(f);
  }
  closedir(d);
  return flags;
}

/* Whether dir's filesystem takes O_DIRECT at all (tmpfs did not before
 * Linux 6.6). */
static inline int fs_takes_direct(const char *dir)
{
  char path[512];
  int fd;
  snprintf(path, sizeof(path), "%s/probe", dir);
  fd = open(path, O_WRONLY | O_CREAT | O_DIRECT, 0600);
  if(fd >= 0)
    close(fd);
  unlink(path);
  return fd >= 0;
}

#endif
