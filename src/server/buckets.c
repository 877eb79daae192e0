/* Bucket operations: HEAD /bucket, which clients ask to learn that a
 * bucket exists and where. */
#include "server/internal.h"

enum MHD_Result vs__head_bucket(vs__req *r, const char *data, size_t *size)
{
  struct MHD_Response *resp =
    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  (void)data;
  *size = 0;
  r->phase = 2;
  if(!resp)
    return MHD_NO;
  MHD_add_response_header(resp, "x-amz-bucket-region", r->srv->region);
  return vs__send(r, MHD_HTTP_OK, resp);
}
