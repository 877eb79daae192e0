/* sigv4: the keyring: files, the environment, generated keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "helpers.h"
#include "vsink/sigv4.h"

static char dir[256];

static int setup(void **state)
{
  (void)state;
  unsetenv("VSINK_ACCESS_KEY_ID");
  unsetenv("VSINK_SECRET_ACCESS_KEY");
  return vst_tmpdir("keyring", dir, sizeof(dir));
}

static int teardown(void **state)
{
  (void)state;
  vst_rmrf(dir);
  return 0;
}

static const char *write_file(const char *name, const char *text)
{
  static char path[512];
  FILE *f;
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static void test_load_file(void **state)
{
  vs_keyring *kr = NULL;
  const char *id, *secret;
  vs_err err = {0};
  const char *path = write_file("creds",
    "# vsink keys\n"
    "\n"
    "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    "   # the next key is being rotated in\r\n"
    "\tVSNEWKEY\t  new+secret/==  \r\n"
    "VSTHIRD third");
  (void)state;
  assert_int_equal(vs_keyring_load(&kr, path, &err), 0);
  assert_int_equal(vs_keyring_count(kr), 3);
  assert_int_equal(vs_keyring_first(kr, &id, &secret), 0);
  assert_string_equal(id, "AKIAIOSFODNN7EXAMPLE");
  assert_string_equal(secret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  assert_string_equal(vs_keyring_secret(kr, "VSNEWKEY"), "new+secret/==");
  assert_string_equal(vs_keyring_secret(kr, "VSTHIRD"), "third");
  assert_null(vs_keyring_secret(kr, "VSNONE"));
  assert_null(vs_keyring_secret(kr, "vsnewkey"));
  vs_keyring_free(kr);
}

static void bad_file(const char *text, int code, const char *words)
{
  vs_keyring *kr = (vs_keyring *)1;
  vs_err err = {0};
  const char *path = write_file("bad", text);
  assert_int_equal(vs_keyring_load(&kr, path, &err), code);
  assert_null(kr);
  if(!strstr(err.msg, words))
    fail_msg("message '%s' lacks '%s'", err.msg, words);
  /* Whatever went wrong, no secret is quoted. */
  assert_null(strstr(err.msg, "SECRETVALUE"));
}

static void test_bad_lines(void **state)
{
  (void)state;
  bad_file("K1 SECRETVALUE\nK2\n", VS_ERR_INVALID,
           "line 2: expected 'KEYID SECRET'");
  bad_file("# c\n\nK1 SECRETVALUE extra\n", VS_ERR_INVALID,
           "line 3: expected 'KEYID SECRET'");
  bad_file("K1 SECRETVALUE\nK2 x\nK1 SECRETVALUE2\n", VS_ERR_INVALID,
           "line 3: access key id K1 is given twice");
  bad_file("K/1 SECRETVALUE\n", VS_ERR_INVALID,
           "line 1: access key id must be 1 to 128 printable characters "
           "without spaces or '/'");
  bad_file("K1 SECRET\x01VALUE\n", VS_ERR_INVALID,
           "line 1: secret of key K1 must be 1 to 256 printable");
  bad_file("K\xc3\xa9 SECRETVALUE\n", VS_ERR_INVALID, "line 1: access key id");
  bad_file("# only comments\n\n", VS_ERR_INVALID, "holds no key");
  bad_file("", VS_ERR_INVALID, "holds no key");
}

static void test_missing_file(void **state)
{
  vs_keyring *kr = NULL;
  vs_err err = {0};
  char path[512];
  (void)state;
  snprintf(path, sizeof(path), "%s/none", dir);
  assert_int_equal(vs_keyring_load(&kr, path, &err), VS_ERR_NOTFOUND);
  assert_non_null(strstr(err.msg, path));
}

static void test_env(void **state)
{
  vs_keyring *kr = NULL;
  const char *id, *secret;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_keyring_load(&kr, NULL, &err), VS_ERR_NOTFOUND);
  assert_non_null(strstr(err.msg, "VSINK_ACCESS_KEY_ID"));
  setenv("VSINK_ACCESS_KEY_ID", "VSENVKEY", 1);
  assert_int_equal(vs_keyring_load(&kr, NULL, &err), VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "VSINK_ACCESS_KEY_ID is set but "
                                  "VSINK_SECRET_ACCESS_KEY is not"));
  setenv("VSINK_SECRET_ACCESS_KEY", "env secret", 1);
  assert_int_equal(vs_keyring_load(&kr, NULL, &err), VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "environment: secret of key VSENVKEY"));
  assert_null(strstr(err.msg, "env secret"));
  setenv("VSINK_SECRET_ACCESS_KEY", "env/secret+1", 1);
  assert_int_equal(vs_keyring_load(&kr, NULL, &err), 0);
  assert_int_equal(vs_keyring_count(kr), 1);
  assert_int_equal(vs_keyring_first(kr, &id, &secret), 0);
  assert_string_equal(id, "VSENVKEY");
  assert_string_equal(secret, "env/secret+1");
  vs_keyring_free(kr);
  unsetenv("VSINK_ACCESS_KEY_ID");
  assert_int_equal(vs_keyring_load(&kr, NULL, &err), VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "VSINK_SECRET_ACCESS_KEY is set but "
                                  "VSINK_ACCESS_KEY_ID is not"));
  unsetenv("VSINK_SECRET_ACCESS_KEY");
}

static void test_generate(void **state)
{
  vs_keyring *kr = NULL, *again = NULL, *other = NULL;
  const char *id, *secret, *id2, *secret2;
  char path[512], before[512];
  struct stat st;
  vs_err err = {0};
  size_t i;
  FILE *f;
  (void)state;
  snprintf(path, sizeof(path), "%s/credentials", dir);
  umask(0);  /* the file must be 0600 whatever the umask says */
  assert_int_equal(vs_keyring_generate(&kr, path, &err), 0);
  umask(022);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(vs_keyring_first(kr, &id, &secret), 0);
  assert_int_equal(strlen(id), 20);
  assert_memory_equal(id, "VS", 2);
  assert_int_equal(strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 20);
  assert_int_equal(strlen(secret), 40);
  assert_int_equal(strspn(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                  "opqrstuvwxyz0123456789+/"), 40);
  /* What was written loads back as the same key. */
  assert_int_equal(vs_keyring_load(&again, path, &err), 0);
  assert_int_equal(vs_keyring_first(again, &id2, &secret2), 0);
  assert_string_equal(id, id2);
  assert_string_equal(secret, secret2);
  /* A second generate refuses to touch the file. */
  f = fopen(path, "r");
  assert_non_null(f);
  assert_true(fread(before, 1, sizeof(before), f) > 0);
  fclose(f);
  assert_int_equal(vs_keyring_generate(&other, path, &err), VS_ERR_EXISTS);
  assert_null(other);
  assert_non_null(strstr(err.msg, path));
  assert_int_equal(vs_keyring_load(&other, path, &err), 0);
  assert_int_equal(vs_keyring_first(other, &id2, &secret2), 0);
  assert_string_equal(id, id2);
  assert_string_equal(secret, secret2);
  vs_keyring_free(other);
  /* Two keys are never the same. */
  for(i = 0; i < 2; i++) {
    snprintf(path, sizeof(path), "%s/c%zu", dir, i);
    assert_int_equal(vs_keyring_generate(&other, path, &err), 0);
    assert_int_equal(vs_keyring_first(other, &id2, &secret2), 0);
    assert_string_not_equal(id, id2);
    assert_string_not_equal(secret, secret2);
    vs_keyring_free(other);
  }
  /* A folder that is not there is an error, not a crash. */
  snprintf(path, sizeof(path), "%s/no/such/dir/credentials", dir);
  assert_int_equal(vs_keyring_generate(&other, path, &err), VS_ERR_NOTFOUND);
  vs_keyring_free(kr);
  vs_keyring_free(again);
}

static void test_add(void **state)
{
  vs_keyring *kr = vs_keyring_new();
  const char *id, *secret;
  char long_id[200];
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_keyring_count(kr), 0);
  assert_int_equal(vs_keyring_first(kr, &id, &secret), VS_ERR_NOTFOUND);
  assert_int_equal(vs_keyring_add(kr, "", "s", &err), VS_ERR_INVALID);
  assert_int_equal(vs_keyring_add(kr, "k", "", &err), VS_ERR_INVALID);
  assert_int_equal(vs_keyring_add(kr, "k", NULL, &err), VS_ERR_INVALID);
  memset(long_id, 'A', 129);
  long_id[129] = 0;
  assert_int_equal(vs_keyring_add(kr, long_id, "s", &err), VS_ERR_INVALID);
  long_id[128] = 0;
  assert_int_equal(vs_keyring_add(kr, long_id, "s", &err), 0);
  assert_int_equal(vs_keyring_count(kr), 1);
  vs_keyring_free(kr);
  vs_keyring_free(NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
    cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
    cmocka_unit_test_setup_teardown(test_env, setup, teardown),
    cmocka_unit_test_setup_teardown(test_generate, setup, teardown),
    cmocka_unit_test_setup_teardown(test_add, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
