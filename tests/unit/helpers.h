/* Shared by the unit tests: scratch directories that clean themselves. */
#ifndef VS_TEST_HELPERS_H
#define VS_TEST_HELPERS_H

#include <stddef.h>

/* mkdtemp under $TMPDIR (or /tmp) with the given tag; path is static
 * storage per call site's buffer. Returns 0 or -1. */
int vst_tmpdir(const char *tag, char *out, size_t cap);
/* rm -rf path. */
void vst_rmrf(const char *path);
/* Number of regular files below path (recursive). */
int vst_count_files(const char *path);
/* Lines holding needle in every regular file below path (plain text). */
int vst_count_lines_with(const char *path, const char *needle);

#endif
