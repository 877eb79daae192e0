#define _GNU_SOURCE
#include "helpers.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int vst_tmpdir(const char *tag, char *out, size_t cap)
{
  const char *base = getenv("TMPDIR");
  snprintf(out, cap, "%s/vsink-%s-XXXXXX", base ? base : "/tmp", tag);
  return mkdtemp(out) ? 0 : -1;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(p);
}

void vst_rmrf(const char *path)
{
  nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int counted;
static int count_one(const char *p, const struct stat *st, int flag,
                     struct FTW *ftw)
{
  (void)p;
  (void)st;
  (void)ftw;
  if(flag == FTW_F || flag == FTW_SL)
    counted++;
  return 0;
}

int vst_count_files(const char *path)
{
  counted = 0;
  nftw(path, count_one, 16, FTW_PHYS);
  return counted;
}

static const char *line_needle;
static int line_count;
static int count_in(const char *p, const struct stat *st, int flag,
                    struct FTW *ftw)
{
  char line[65536];
  FILE *f;
  (void)st;
  (void)ftw;
  if(flag != FTW_F || !(f = fopen(p, "r")))
    return 0;
  while(fgets(line, sizeof(line), f))
    if(strstr(line, line_needle))
      line_count++;
  fclose(f);
  return 0;
}

int vst_count_lines_with(const char *path, const char *needle)
{
  line_needle = needle;
  line_count = 0;
  nftw(path, count_in, 16, FTW_PHYS);
  return line_count;
}
