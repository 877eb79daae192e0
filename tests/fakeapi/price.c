/* The model page's dimension table and the published prices, as data. */
#include <stdio.h>
#include <string.h>

#include "fakeapi.h"

static const struct {
  const char *cls;
  const char *usd_per_s;
} prices[] = {
  {"480p", "0.0062"},
  {"720p", "0.0140"},
  {"1080p", "0.0314"},
};

static const struct {
  int w, h;
  const char *cls;
} dims[] = {
  {864, 480, "480p"},   {736, 544, "480p"},   {640, 640, "480p"},
  {544, 736, "480p"},   {480, 864, "480p"},   {416, 960, "480p"},
  {960, 416, "480p"},   {1248, 704, "720p"},  {1120, 832, "720p"},
  {960, 960, "720p"},   {832, 1120, "720p"},  {704, 1248, "720p"},
  {1504, 640, "720p"},  {640, 1504, "720p"},  {1920, 1088, "1080p"},
  {1664, 1248, "1080p"}, {1440, 1440, "1080p"}, {1248, 1664, "1080p"},
  {1088, 1920, "1080p"}, {928, 2176, "1080p"}, {2176, 928, "1080p"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int fa_price_per_second(const char *res_class, vs_dec *out)
{
  size_t i;
  for(i = 0; i < COUNT(prices); i++)
    if(!strcmp(prices[i].cls, res_class))
      return vs_dec_parse(prices[i].usd_per_s, strlen(prices[i].usd_per_s),
                          out);
  return -1;
}

const char *fa_dimension_class(int64_t w, int64_t h)
{
  size_t i;
  for(i = 0; i < COUNT(dims); i++)
    if(dims[i].w == w && dims[i].h == h)
      return dims[i].cls;
  return NULL;
}

cJSON *fa_dimension_list(void)
{
  cJSON *a = cJSON_CreateArray();
  size_t i;
  char s[16];
  for(i = 0; i < COUNT(dims); i++) {
    snprintf(s, sizeof(s), "%dx%d", dims[i].w, dims[i].h);
    cJSON_AddItemToArray(a, cJSON_CreateString(s));
  }
  return a;
}

int fa_cost(const char *res_class, int64_t tenths, vs_dec *out)
{
  vs_dec per_s;
  if(fa_price_per_second(res_class, &per_s))
    return -1;
  return vs_dec_muldiv(per_s, tenths, 10, out);
}
