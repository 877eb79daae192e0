/* The CompleteMultipartUpload request body, parsed strictly for its shape:
 *
 *   <?xml ...?>?
 *   <CompleteMultipartUpload xmlns="...">
 *     <Part>
 *       <PartNumber>n</PartNumber> <ETag>"hex"</ETag>
 *       <ChecksumCRC32|CRC32C|CRC64NVME|SHA1|SHA256>b64</...>?
 *     </Part>                                                  1..max
 *   </CompleteMultipartUpload>
 *
 * in any order inside a Part. Pure: a fuzzing entry point. */
#ifndef VS_SERVER_MPU_XML_H
#define VS_SERVER_MPU_XML_H

#include <stddef.h>

#include "vsink/store.h"

/* The body's size limit: 10,000 parts with a checksum each fit well. */
#define VS__MPU_BODY_MAX (4u << 20)

typedef struct vs__mpu_part {
  vs_part_ref ref;       /* number; etag lower-case hex unquoted, "" when
                          * it is not 32 hex digits (no part has it) */
  char checksum_alg[12]; /* "crc32", ... from the element's name; "" */
} vs__mpu_part;

/* 0: *parts (malloc'd, free it) and *n >= 1; -1 malformed (msg says
 * why), -2 an element vsink does not implement, -3 out of memory. Part
 * numbers are as sent (0 .. 99999); the caller checks range and order. */
int vs__mpu_complete_parse(const char *body, size_t len, size_t max,
                           vs__mpu_part **parts, size_t *n, char *msg,
                           size_t cap);

#endif
