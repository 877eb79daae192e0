/* task: frame images. Real PNG, JPEG and WEBP files written here byte by
 * byte (signatures, IHDR with its CRC, JFIF segments and SOFn, RIFF with
 * VP8/VP8L/VP8X), checked by their header, sent as data URIs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "util/enc.h"
#include "util/json.h"
#include "vsink/task.h"

#define FR                                                                   \
  "one UUID v4, http(s) URL, data URI, base64 image or local file; PNG, "   \
  "JPEG or WEBP, 300..6000 px a side, at most 10 MB"

typedef struct img {
  unsigned char *p;
  size_t n;
} img;

static void put(img *m, const void *b, size_t n)
{
  if(!n)
    return;
  m->p = realloc(m->p, m->n + n);
  memcpy(m->p + m->n, b, n);
  m->n += n;
}
static void be32(img *m, uint32_t v)
{
  unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
  put(m, b, 4);
}
static void be16(img *m, unsigned v)
{
  unsigned char b[2] = {v >> 8, v};
  put(m, b, 2);
}
static void le32(img *m, uint32_t v)
{
  unsigned char b[4] = {v, v >> 8, v >> 16, v >> 24};
  put(m, b, 4);
}
static void le24(img *m, uint32_t v)
{
  unsigned char b[3] = {v, v >> 8, v >> 16};
  put(m, b, 3);
}

static uint32_t crc32_png(const unsigned char *p, size_t n)
{
  uint32_t c = 0xffffffffu;
  size_t i;
  int k;
  for(i = 0; i < n; i++) {
    c ^= p[i];
    for(k = 0; k < 8; k++)
      c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return c ^ 0xffffffffu;
}

static void png_chunk(img *m, const char *type, const unsigned char *d,
                      size_t n)
{
  unsigned char *buf = malloc(4 + n);
  memcpy(buf, type, 4);
  if(n)
    memcpy(buf + 4, d, n);
  be32(m, (uint32_t)n);
  put(m, buf, 4 + n);
  be32(m, crc32_png(buf, 4 + n));
  free(buf);
}

/* A PNG: signature, IHDR (8-bit RGB), an empty stored-deflate IDAT, IEND. */
static img png(uint32_t w, uint32_t h)
{
  img m = {0};
  unsigned char ihdr[13] = {w >> 24, w >> 16, w >> 8, w, h >> 24, h >> 16,
                            h >> 8, h, 8, 2, 0, 0, 0};
  static const unsigned char idat[] = {0x78, 0x01, 0x01, 0x00, 0x00, 0xff,
                                       0xff, 0x00, 0x00, 0x00, 0x01};
  put(&m, "\x89PNG\r\n\x1a\n", 8);
  png_chunk(&m, "IHDR", ihdr, 13);
  png_chunk(&m, "IDAT", idat, sizeof(idat));
  png_chunk(&m, "IEND", NULL, 0);
  return m;
}

/* A JPEG: SOI, APP0 JFIF, DQT, then the frame header SOFn, SOS, EOI. */
static img jpeg(unsigned sof, unsigned w, unsigned h, int sos_first)
{
  img m = {0};
  unsigned char dqt[65] = {0};
  put(&m, "\xff\xd8", 2);
  put(&m, "\xff\xe0", 2);
  be16(&m, 16);
  put(&m, "JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00", 14);
  put(&m, "\xff\xdb", 2);
  be16(&m, 67);
  put(&m, dqt, 65);
  if(sos_first)
    put(&m, "\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00", 10);
  put(&m, "\xff", 1);
  put(&m, &(unsigned char){(unsigned char)sof}, 1);
  be16(&m, 11);
  put(&m, "\x08", 1);
  be16(&m, h);
  be16(&m, w);
  put(&m, "\x01\x01\x11\x00", 4);
  put(&m, "\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00", 10);
  put(&m, "\xff\xd9", 2);
  return m;
}

/* A WEBP with one chunk: "VP8 " (lossy key frame), "VP8L" or "VP8X". */
static img webp(const char *chunk, uint32_t w, uint32_t h)
{
  img m = {0}, c = {0};
  if(!strcmp(chunk, "VP8 ")) {
    put(&c, "\x10\x02\x00\x9d\x01\x2a", 6); /* key frame tag, start code */
    put(&c, &(uint16_t){(uint16_t)w}, 2);
    put(&c, &(uint16_t){(uint16_t)h}, 2);
    put(&c, "\0\0", 2);
  }
  else if(!strcmp(chunk, "VP8L")) {
    put(&c, "\x2f", 1);
    le32(&c, (w - 1) | (h - 1) << 14);
    put(&c, "\0\0\0", 3);
  }
  else {
    put(&c, "\x00\x00\x00\x00", 4); /* flags, reserved */
    le24(&c, w - 1);
    le24(&c, h - 1);
  }
  put(&m, "RIFF", 4);
  le32(&m, (uint32_t)(4 + 8 + c.n));
  put(&m, "WEBP", 4);
  put(&m, chunk, 4);
  le32(&m, (uint32_t)c.n);
  put(&m, c.p, c.n);
  free(c.p);
  return m;
}

static char dir[256];

static void save(const char *name, const img *m, char *path, size_t cap)
{
  FILE *f;
  snprintf(path, cap, "%s/%s", dir, name);
  f = fopen(path, "wb");
  assert_non_null(f);
  if(m->n)
    assert_int_equal(fwrite(m->p, 1, m->n, f), m->n);
  fclose(f);
}

/* Builds a task with the image; returns the frameImages string (malloc'd)
 * or NULL with the single error in *e. */
static char *frame_of(const char *image, vs_task_error *e)
{
  vs_task_opts o = {.prompt = "a cat", .frame_image = image};
  vs_task_errors errs;
  cJSON *task, *arr;
  char *out;
  if(vs_task_build(&o, &task, &errs)) {
    assert_int_equal(errs.n, 1);
    *e = errs.e[0];
    return NULL;
  }
  arr = cJSON_GetObjectItem(cJSON_GetObjectItem(task, "inputs"),
                            "frameImages");
  assert_int_equal(cJSON_GetArraySize(arr), 1);
  out = strdup(arr->child->valuestring);
  cJSON_Delete(task);
  return out;
}

/* A file that must pass: its data URI holds exactly the file's bytes. */
static void accepts(const char *name, img m, const char *mime)
{
  char path[512], prefix[64], *uri;
  vs_task_error e;
  uint8_t *back;
  long n;
  save(name, &m, path, sizeof(path));
  uri = frame_of(path, &e);
  if(!uri)
    fail_msg("%s refused: %s", name, e.message);
  snprintf(prefix, sizeof(prefix), "data:%s;base64,", mime);
  assert_true(!strncmp(uri, prefix, strlen(prefix)));
  back = malloc(m.n + 3);
  n = vs_unb64(uri + strlen(prefix), strlen(uri + strlen(prefix)), back,
               m.n + 3);
  assert_int_equal(n, (long)m.n);
  assert_memory_equal(back, m.p, m.n);
  free(back);
  free(uri);
  free(m.p);
}

/* A file that must be refused, with a message naming it and the reason. */
static void refuses(const char *name, img m, const char *why)
{
  char path[512];
  vs_task_error e;
  save(name, &m, path, sizeof(path));
  free(m.p);
  assert_null(frame_of(path, &e));
  assert_string_equal(e.field, "inputs.frameImages");
  assert_string_equal(e.allowed, FR);
  if(strlen(path) < 90)
    assert_string_equal(e.value, path);
  if(!strstr(e.message, path) || !strstr(e.message, why))
    fail_msg("%s: message \"%s\" lacks \"%s\"", name, e.message, why);
}

static void test_png(void **state)
{
  (void)state;
  accepts("ok.png", png(300, 300), "image/png");
  accepts("big.png", png(6000, 6000), "image/png");
  accepts("wide.png", png(1920, 1080), "image/png");
  refuses("small.png", png(299, 400), "PNG of 299x400 px");
  refuses("tall.png", png(300, 6001), "PNG of 300x6001 px");
  {
    img m = png(500, 500);
    memcpy(m.p + 12, "IHDX", 4);
    refuses("noihdr.png", m, "without its IHDR");
  }
  {
    img m = png(500, 500);
    m.n = 20;
    refuses("cut.png", m, "without its IHDR");
  }
}

static void test_jpeg(void **state)
{
  (void)state;
  accepts("ok.jpg", jpeg(0xc0, 1920, 1080, 0), "image/jpeg");
  accepts("progressive.jpg", jpeg(0xc2, 300, 6000, 0), "image/jpeg");
  accepts("lossless.jpeg", jpeg(0xc3, 640, 480, 0), "image/jpeg");
  refuses("small.jpg", jpeg(0xc0, 200, 200, 0), "JPEG of 200x200 px");
  refuses("huge.jpg", jpeg(0xc1, 6001, 4000, 0), "JPEG of 6001x4000 px");
  refuses("sosfirst.jpg", jpeg(0xc0, 640, 480, 1), "no frame header (SOF)");
  {
    img m = jpeg(0xc0, 640, 480, 0);
    m.n = 30; /* inside the DQT segment */
    refuses("cut.jpg", m, "cut short");
  }
}

static void test_webp(void **state)
{
  (void)state;
  accepts("lossy.webp", webp("VP8 ", 640, 480), "image/webp");
  accepts("lossless.webp", webp("VP8L", 1000, 300), "image/webp");
  accepts("extended.webp", webp("VP8X", 6000, 3000), "image/webp");
  refuses("lossy-small.webp", webp("VP8 ", 640, 299), "WEBP of 640x299 px");
  refuses("lossless-small.webp", webp("VP8L", 299, 1000),
          "WEBP of 299x1000 px");
  refuses("extended-big.webp", webp("VP8X", 7000, 300),
          "WEBP of 7000x300 px");
  {
    img m = webp("VP8 ", 640, 480);
    memcpy(m.p + 12, "ALPH", 4);
    refuses("odd.webp", m, "without a VP8, VP8L or VP8X header");
  }
}

/* 10 MB is 10,000,000 bytes: that size passes, one byte more does not. */
static void test_size_limit(void **state)
{
  img m = png(1000, 1000), n;
  size_t at = m.n;
  (void)state;
  m.p = realloc(m.p, 10000001);
  memset(m.p + at, 0, 10000001 - at);
  m.n = 10000000;
  n.p = malloc(m.n);
  memcpy(n.p, m.p, m.n);
  n.n = m.n;
  accepts("10mb.png", n, "image/png");
  m.n = 10000001;
  refuses("over.png", m, "10000001 bytes");
}

static void test_not_images(void **state)
{
  char path[512];
  vs_task_error e;
  img m = {0};
  (void)state;
  put(&m, "hello, I am text", 16);
  refuses("text.png", m, "not a PNG, JPEG or WEBP image");
  m = (img){0};
  put(&m, "", 0);
  refuses("empty.png", m, "not a PNG, JPEG or WEBP image");
  snprintf(path, sizeof(path), "%s/sub", dir);
  mkdir(path, 0700);
  assert_null(frame_of(path, &e));
  assert_non_null(strstr(e.message, "is not a regular file"));
  assert_null(frame_of("/nonexistent/dir/cat.png", &e));
  assert_string_equal(e.value, "/nonexistent/dir/cat.png");
  assert_non_null(strstr(e.message, "/nonexistent/dir/cat.png cannot be "
                                    "opened (No such file or directory)"));
}

/* Inline images are checked the same way and sent as given. */
static void test_inline(void **state)
{
  img m = png(400, 400), s = png(100, 100), w = webp("VP8L", 800, 800);
  char *uri = malloc(64 + 2 * m.n), *raw = malloc(2 * w.n + 8), *got;
  vs_task_error e;
  (void)state;
  strcpy(uri, "data:image/png;base64,");
  vs_b64(m.p, m.n, uri + strlen(uri));
  got = frame_of(uri, &e);
  assert_non_null(got);
  assert_string_equal(got, uri);
  free(got);
  strcpy(uri, "data:image/jpeg;base64,"); /* PNG bytes labelled JPEG */
  vs_b64(m.p, m.n, uri + strlen(uri));
  assert_null(frame_of(uri, &e));
  assert_non_null(strstr(e.message, "says image/jpeg but holds a PNG"));
  strcpy(uri, "data:image/png;base64,");
  vs_b64(s.p, s.n, uri + strlen(uri));
  assert_null(frame_of(uri, &e));
  assert_non_null(strstr(e.message, "PNG of 100x100 px"));
  assert_null(frame_of("data:image/png;base64,@@@@", &e));
  assert_non_null(strstr(e.message, "not valid base64"));
  assert_null(frame_of("data:text/plain;base64,aGVsbG8=", &e));
  assert_null(frame_of("data:image/png,raw", &e));
  vs_b64(w.p, w.n, raw);
  got = frame_of(raw, &e);
  assert_non_null(got);
  assert_string_equal(got, raw);
  free(got);
  assert_null(frame_of("aGVsbG8gd29ybGQh", &e)); /* base64 of text */
  assert_non_null(strstr(e.message, "base64 frame image is not a PNG"));
  free(uri);
  free(raw);
  free(m.p);
  free(s.p);
  free(w.p);
}

/* A bad image does not hide the other errors, and vs_task_check judges
 * inline images as the API would. */
static void test_with_other_errors(void **state)
{
  char path[512];
  img m = png(200, 200);
  vs_task_opts o = {.prompt = "a cat", .duration = "1.25"};
  vs_task_errors errs;
  cJSON *task;
  (void)state;
  save("tiny.png", &m, path, sizeof(path));
  free(m.p);
  o.frame_image = path;
  assert_int_equal(vs_task_build(&o, &task, &errs), VS_ERR_INVALID);
  assert_int_equal(errs.n, 2);
  assert_string_equal(errs.e[0].field, "inputs.frameImages");
  assert_string_equal(errs.e[1].field, "duration");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_png),
    cmocka_unit_test(test_jpeg),
    cmocka_unit_test(test_webp),
    cmocka_unit_test(test_size_limit),
    cmocka_unit_test(test_not_images),
    cmocka_unit_test(test_inline),
    cmocka_unit_test(test_with_other_errors),
  };
  int rc;
  if(vst_tmpdir("task-image", dir, sizeof(dir)))
    return 1;
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  if(getenv("VSINK_KEEP_TMP")) /* to look at the files with file(1) */
    printf("images kept in %s\n", dir);
  else
    vst_rmrf(dir);
  return rc;
}
