/* manifest_gen DIR [OUTPUTS] [SEED]: writes a realistic manifest of OUTPUTS
 * outputs (default 1,000,000) for the report benchmark.
 *
 * One submitter and four sink nodes, each writing its own segments the way
 * the manifest writer names and rotates them (64 MiB, closed ones gzipped,
 * the open one plain). Tasks over 30 days, numberResults 1-4, prompts of
 * 100-200 characters, resolutions and durations as the model page allows,
 * costs as the price table makes them; 10% of results reported twice (poll
 * and webhook), 1% of tasks failed, 0.5% of uploads lost. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define SEGMENT_BYTES (64u << 20)
#define NWRITERS 5 /* 0: the submitter, 1..4: sinks */
#define DAYS 30

typedef struct writer {
  const char *dir;
  char node[16];
  int pid, nseg;
  char path[1024];
  FILE *f;
  uint64_t bytes;
} writer;

static uint64_t rng_state;

static uint64_t rnd(void)
{
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545f4914f6cdd1dULL;
}

static unsigned below(unsigned n)
{
  return (unsigned)(rnd() % n);
}

static void uuid4(char out[37])
{
  uint64_t a = rnd(), b = rnd();
  snprintf(out, 37, "%08x-%04x-4%03x-%x%03x-%012llx", (unsigned)(a >> 32),
           (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
           8 + (unsigned)(b >> 62), (unsigned)(b >> 48) & 0xfff,
           (unsigned long long)(b & 0xffffffffffffULL));
}

static void rfc3339(int64_t ms, char out[64])
{
  int64_t s = ms / 1000, days = s / 86400, rem = s % 86400;
  int64_t z = days + 719468, era = z / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
  unsigned m = mp < 10 ? mp + 3 : mp - 9;
  int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
  snprintf(out, 64, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", (int)y, m, d,
           (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
           (unsigned)(rem % 60), (unsigned)(ms % 1000));
}

static void compress_file(const char *plain)
{
  char gz[1100], tmp[1100], buf[1 << 16];
  FILE *in = fopen(plain, "rb");
  gzFile out;
  size_t n;
  snprintf(gz, sizeof(gz), "%s.gz", plain);
  snprintf(tmp, sizeof(tmp), "%s.gz.tmp", plain);
  out = gzopen(tmp, "wb6");
  if(!in || !out) {
    fprintf(stderr, "manifest_gen: cannot compress %s\n", plain);
    exit(1);
  }
  while((n = fread(buf, 1, sizeof(buf), in)) > 0)
    if(gzwrite(out, buf, (unsigned)n) != (int)n) {
      fprintf(stderr, "manifest_gen: gzwrite %s failed\n", tmp);
      exit(1);
    }
  fclose(in);
  if(gzclose(out) != Z_OK || rename(tmp, gz) || unlink(plain)) {
    fprintf(stderr, "manifest_gen: closing %s: %s\n", gz, strerror(errno));
    exit(1);
  }
}

static void seg_open(writer *w, int64_t ms)
{
  char when[64], name[20];
  rfc3339(ms, when);
  /* 2026-11-24T12:15:00.123Z -> 20261124T121500123Z */
  snprintf(name, sizeof(name), "%.4s%.2s%.2sT%.2s%.2s%.2s%.3sZ", when,
           when + 5, when + 8, when + 11, when + 14, when + 17, when + 20);
  snprintf(w->path, sizeof(w->path), "%s/%s-%s-%d-%08x.jsonl", w->dir, name,
           w->node, w->pid, (unsigned)rnd());
  w->f = fopen(w->path, "w");
  if(!w->f) {
    fprintf(stderr, "manifest_gen: %s: %s\n", w->path, strerror(errno));
    exit(1);
  }
  w->bytes = 0;
  w->nseg++;
}

static void seg_close(writer *w, int gz)
{
  if(!w->f)
    return;
  if(fclose(w->f)) {
    fprintf(stderr, "manifest_gen: %s: %s\n", w->path, strerror(errno));
    exit(1);
  }
  w->f = NULL;
  if(gz)
    compress_file(w->path);
}

/* One event: {"v":1,"event":E,"time":T,"node":N,<rest>}. */
static void emit(writer *w, const char *event, int64_t ms, const char *rest)
{
  char when[64];
  int n;
  if(w->f && w->bytes > SEGMENT_BYTES)
    seg_close(w, 1);
  if(!w->f)
    seg_open(w, ms);
  rfc3339(ms, when);
  n = fprintf(w->f, "{\"v\":1,\"event\":\"%s\",\"time\":\"%s\",\"node\":\"%s\""
                    ",%s}\n", event, when, w->node, rest);
  if(n < 0) {
    fprintf(stderr, "manifest_gen: write %s: %s\n", w->path, strerror(errno));
    exit(1);
  }
  w->bytes += (uint64_t)n;
}

static const char *const words[] = {
  "a", "slow", "dolly", "shot", "of", "the", "old", "harbour", "at", "dawn",
  "fishermen", "mending", "nets", "gulls", "circling", "overhead", "warm",
  "golden", "light", "cinematic", "35mm", "film", "grain", "close-up",
  "hands", "weathered", "rope", "waves", "lapping", "against", "stone",
  "pier", "mist", "rising", "from", "water", "camera", "pans", "left",
  "revealing", "lighthouse", "distant", "hills", "soft", "focus", "bokeh",
  "tracking", "drone", "aerial", "view", "city", "neon", "rain", "night",
  "reflections", "puddles", "umbrella", "crowd", "walking", "\\\"quiet\\\"",
  "moment,", "with", "wind"};

static void prompt(char *out, size_t cap)
{
  size_t target = 100 + below(101), n = 0;
  while(n < target && n + 20 < cap) {
    const char *wd = words[below(sizeof(words) / sizeof(words[0]))];
    n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? " " : "", wd);
  }
}

typedef struct size_choice {
  const char *res;
  int w, h;
  unsigned price; /* USD per second, in 1e-4 */
} size_choice;

static const size_choice sizes[] = {
  {"480p", 0, 0, 62},     {"720p", 0, 0, 140},    {"1080p", 0, 0, 314},
  {NULL, 864, 480, 62},   {NULL, 1248, 704, 140}, {NULL, 1920, 1088, 314},
  {NULL, 1088, 1920, 314}};

/* cost = price x tenths / 10, printed exactly with 5 decimals. */
static void money(unsigned price, unsigned tenths, unsigned mult, char *out,
                  size_t cap)
{
  unsigned long long v = (unsigned long long)price * tenths * mult; /* 1e-5 */
  snprintf(out, cap, "%llu.%05llu", v / 100000, v % 100000);
}

typedef struct gen {
  writer w[NWRITERS];
  uint64_t outputs, events, tasks;
} gen;

static void task(gen *g, int64_t t0)
{
  char tid[37], vid[37], p[400], rest[2048], size[64], seed[40], est[32];
  char cost[32], bucketkey[128], day[64];
  const size_choice *sz = &sizes[below(sizeof(sizes) / sizeof(sizes[0]))];
  unsigned tenths = 12 + below(109), r = below(100), k;
  unsigned nres = r < 80 ? 1 : r < 90 ? 2 : r < 95 ? 3 : 4;
  uuid4(tid);
  rfc3339(t0, day);
  prompt(p, sizeof(p));
  if(sz->res)
    snprintf(size, sizeof(size), "\"resolution\":\"%s\"", sz->res);
  else
    snprintf(size, sizeof(size), "\"width\":%d,\"height\":%d", sz->w, sz->h);
  seed[0] = 0;
  if(below(2))
    snprintf(seed, sizeof(seed), "\"seed\":%llu,",
             (unsigned long long)(rnd() >> 1));
  money(sz->price, tenths, nres, est, sizeof(est));
  snprintf(bucketkey, sizeof(bucketkey),
           "\"bucket\":\"renders\",\"key\":\"videos/%.10s/%s.mp4\"",
           day, tid);
  snprintf(rest, sizeof(rest),
           "\"taskUUID\":\"%s\",\"task\":{\"taskType\":\"videoInference\","
           "\"taskUUID\":\"%s\",\"model\":\"bytedance:2@2\","
           "\"positivePrompt\":\"%s\",%s,\"duration\":%u.%u,%s"
           "\"numberResults\":%u,\"outputType\":\"URL\",\"outputFormat\":"
           "\"MP4\",\"outputQuality\":95,\"deliveryMethod\":\"async\","
           "\"includeCost\":true,\"ttl\":3600},\"estimate\":\"%s\","
           "\"target\":{\"kind\":\"sink\",%s}",
           tid, tid, p, size, tenths / 10, tenths % 10, seed, nres, est,
           bucketkey);
  emit(&g->w[0], "submitted", t0, rest);
  g->events++;
  g->tasks++;
  g->outputs += nres;
  if(below(100) == 0) {
    snprintf(rest, sizeof(rest),
             "\"taskUUID\":\"%s\",\"code\":\"invalidPositivePrompt\","
             "\"message\":\"Invalid value for positivePrompt: blocked by "
             "content policy\",\"parameter\":\"positivePrompt\"",
             tid);
    emit(&g->w[0], "failed", t0 + 900, rest);
    g->events++;
    return;
  }
  money(sz->price, tenths, 1, cost, sizeof(cost));
  for(k = 0; k < nres; k++) {
    int64_t t = t0 + 60000 + below(240000) + k * 5000;
    writer *sink = &g->w[1 + below(NWRITERS - 1)];
    uuid4(vid);
    if(below(200)) {
      snprintf(rest, sizeof(rest),
               "\"bucket\":\"renders\",\"key\":\"videos/%.10s/%s.mp4\","
               "\"versionId\":\"%013llx%03x\",\"bytes\":%u,\"sha256\":"
               "\"%016llx%016llx%016llx%016llx\",\"contentType\":"
               "\"video/mp4\",\"etag\":\"\\\"%016llx%016llx\\\"\","
               "\"remote\":\"10.1.%u.%u\",\"taskUUID\":\"%s\"",
               day, tid, (unsigned long long)t, below(4096),
               500000 + below(20000000), (unsigned long long)rnd(),
               (unsigned long long)rnd(), (unsigned long long)rnd(),
               (unsigned long long)rnd(), (unsigned long long)rnd(),
               (unsigned long long)rnd(), below(256), below(256), tid);
      emit(sink, "stored", t - 800, rest);
      g->events++;
    }
    snprintf(rest, sizeof(rest),
             "\"taskUUID\":\"%s\",\"videoUUID\":\"%s\",\"videoURL\":"
             "\"https://vm.runware.ai/video/os/a17d04/ws/5/vi/%s.mp4\","
             "\"seed\":%u,\"cost\":\"%s\",\"NSFWContent\":false,"
             "\"source\":\"%s\"",
             tid, vid, vid, (unsigned)rnd(), cost, "webhook");
    emit(sink, "result", t, rest);
    g->events++;
    if(below(10) == 0) { /* the poller saw it too */
      char *src = strstr(rest, "\"webhook\"");
      memcpy(src, "\"poll\"   ", 9);
      memmove(src + 6, src + 9, strlen(src + 9) + 1);
      emit(&g->w[0], "result", t + 2500, rest);
      g->events++;
    }
  }
}

int main(int argc, char **argv)
{
  static gen g;
  uint64_t want = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
  int64_t start = 1793491200000LL; /* 2026-11-01 */
  int64_t span = (int64_t)DAYS * 86400 * 1000, t;
  uint64_t est_tasks;
  int i;
  if(argc < 2 || argc > 4 || !want) {
    fprintf(stderr, "usage: manifest_gen DIR [OUTPUTS] [SEED]\n");
    return 2;
  }
  rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) | 1 : 0x9e3779b97f4a7c15;
  if(mkdir(argv[1], 0755) && errno != EEXIST) {
    fprintf(stderr, "manifest_gen: %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  for(i = 0; i < NWRITERS; i++) {
    g.w[i].dir = argv[1];
    g.w[i].pid = 1000 + i;
    snprintf(g.w[i].node, sizeof(g.w[i].node), i ? "sink-%d" : "submit", i);
  }
  est_tasks = want * 100 / 135 + 1; /* about 1.35 outputs per task */
  for(t = 0; g.outputs < want; t++)
    task(&g, start + (int64_t)((t % (int64_t)est_tasks) * span /
                               (int64_t)est_tasks) + below(1000));
  for(i = 0; i < NWRITERS; i++)
    seg_close(&g.w[i], 0); /* the open segment stays plain */
  for(i = 0; i < NWRITERS; i++)
    fprintf(stderr, "%s: %d segments\n", g.w[i].node, g.w[i].nseg);
  printf("%llu outputs, %llu tasks, %llu events in %s\n",
         (unsigned long long)g.outputs, (unsigned long long)g.tasks,
         (unsigned long long)g.events, argv[1]);
  return 0;
}
