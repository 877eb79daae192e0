/* Fuzz target: task option validation, as `vsink submit` reads a jobs-file
 * line: vs_json_parse, vs_task_opts_from_json, vs_task_build, then
 * vs_task_check, the price class and the estimate of what was built; and
 * vs_task_check on the line itself, as the fake API reads a task.
 *
 * Invariants: options are either a task or errors (never both, never
 * neither, at most VS_TASK_MAX_ERRORS kept, each saying why); every task vs_task_build makes, with its taskUUID and URLs added,
 * passes vs_task_check both as built and as printed and read back, and
 * has a price. Local files: the target works in a directory of its own
 * holding a prompt file "p" and an image "i.png", and no input reaches a
 * file outside it (see local_only). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "util/json.h"
#include "vsink/task.h"

#define UUID "aac49721-1964-481a-ae78-8a4e29b91402"

static int write_file(const char *name, const void *p, size_t n)
{
  FILE *f = fopen(name, "wb");
  int ok = f && fwrite(p, 1, n, f) == n;
  if(f && fclose(f))
    ok = 0;
  return ok ? 0 : -1;
}

static char g_dir[64];

static void remove_dir(void)
{
  char path[96];
  snprintf(path, sizeof(path), "%s/p", g_dir);
  unlink(path);
  snprintf(path, sizeof(path), "%s/i.png", g_dir);
  unlink(path);
  rmdir(g_dir);
}

/* (No chdir: libFuzzer reads the corpus by relative paths after the first
 * input has run.) */
static void make_dir(void)
{
  /* A PNG header declaring 1280 x 720. */
  static const unsigned char png[33] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D',
    'R', 0, 0, 5, 0, 0, 0, 2, 0xd0, 8, 2, 0, 0, 0};
  char path[96];
  if(g_dir[0])
    return;
  if(fz_mkdtemp("task", g_dir, sizeof(g_dir)))
    abort();
  snprintf(path, sizeof(path), "%s/p", g_dir);
  if(write_file(path, "a dancer on a rooftop\n", 22))
    abort();
  snprintf(path, sizeof(path), "%s/i.png", g_dir);
  if(write_file(path, png, sizeof(png)))
    abort();
  atexit(remove_dir);
}

/* Only files in our directory are read: a name without '/' is taken in it;
 * a prompt file with a '/' is dropped, and so is a frame image with one
 * that names an existing file (a URL, a data URI or base64 such as
 * "/9j/4AAQ..." names none, and stays as text). */
static const char *local_only(const char *path, int image, char *buf,
                              size_t cap)
{
  struct stat st;
  if(!path)
    return NULL;
  if(!strchr(path, '/')) {
    if(image && !stat(path, &st))
      return NULL; /* a file of that name where the fuzzer runs */
    snprintf(buf, cap, "%s/%s", g_dir, path);
    return !image || !stat(buf, &st) ? buf : path;
  }
  if(image && stat(path, &st) && !strstr(path, ".."))
    return path;
  return NULL;
}

static void check_errors(const vs_task_errors *errs)
{
  int i;
  FZ_ASSERT(errs->n > 0 && errs->n <= VS_TASK_MAX_ERRORS, "%d errors",
            errs->n);
  /* (The field may be "": an unknown key "" is named as it is.) */
  for(i = 0; i < errs->n; i++)
    FZ_ASSERT(errs->e[i].message[0], "error %d says nothing", i);
}

static void check_built(cJSON *task)
{
  vs_task_errors errs;
  const char *cls = NULL;
  int assumed = 0;
  vs_dec usd;
  char *txt;
  cJSON *back;
  FZ_ASSERT(!vs_task_set_uuid(task, UUID), "set_uuid");
  cJSON_AddStringToObject(task, "uploadEndpoint", "http://127.0.0.1:1/b/k");
  cJSON_AddStringToObject(task, "webhookURL", "https://127.0.0.1:1/hooks/x");
  FZ_ASSERT(!vs_task_check(task, &errs), "built task refused: %s=%s: %s",
            errs.e[0].field, errs.e[0].value, errs.e[0].message);
  FZ_ASSERT(!vs_task_price_class(task, &cls, &assumed) && cls,
            "built task has no price class");
  FZ_ASSERT(!vs_task_estimate(task, &usd), "built task has no estimate");
  txt = cJSON_PrintUnformatted(task);
  FZ_ASSERT(txt != NULL, "print");
  back = vs_json_parse(txt, strlen(txt));
  FZ_ASSERT(back != NULL, "built task prints as '%.200s'", txt);
  FZ_ASSERT(!vs_task_check(back, &errs), "built task read back refused: "
            "%s=%s: %s", errs.e[0].field, errs.e[0].value,
            errs.e[0].message);
  cJSON_Delete(back);
  cJSON_free(txt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cJSON *line, *task = NULL;
  vs_task_opts o;
  vs_task_errors errs;
  int rc;
  char pbuf[4200], ibuf[4200];
  make_dir();
  line = vs_json_parse((const char *)data, size);
  if(!line)
    return 0;
  memset(&errs, 0, sizeof(errs));
  if(vs_task_check(line, &errs))
    check_errors(&errs);
  memset(&o, 0, sizeof(o));
  memset(&errs, 0, sizeof(errs));
  if(vs_task_opts_from_json(line, &o, &errs)) {
    check_errors(&errs);
    cJSON_Delete(line);
    return 0;
  }
  o.prompt_file = local_only(o.prompt_file, 0, pbuf, sizeof(pbuf));
  o.frame_image = local_only(o.frame_image, 1, ibuf, sizeof(ibuf));
  memset(&errs, 0, sizeof(errs));
  rc = vs_task_build(&o, &task, &errs);
  FZ_ASSERT((rc == 0) == (task != NULL), "build returned %d with task %p",
            rc, (void *)task);
  if(rc == VS_ERR_INVALID)
    check_errors(&errs);
  else if(!rc)
    check_built(task);
  cJSON_Delete(task);
  cJSON_Delete(line);
  return 0;
}
