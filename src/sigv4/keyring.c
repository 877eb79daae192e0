/* Access keys: loaded from the environment or a file, or generated. The
 * secrets are wiped from memory when the keyring goes, and no message here
 * ever quotes one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "util/fs.h"
#include "vsink/sigv4.h"

#define MAX_ID 128     /* fits vs_sigv4_result.key_id */
#define MAX_SECRET 256
#define MAX_FILE (1 << 20)

typedef struct vs_key {
  char *id;
  char *secret;
} vs_key;

struct vs_keyring {
  vs_key *k;
  size_t n, cap;
};

vs_keyring *vs_keyring_new(void)
{
  return calloc(1, sizeof(vs_keyring));
}

void vs_keyring_free(vs_keyring *kr)
{
  size_t i;
  if(!kr)
    return;
  for(i = 0; i < kr->n; i++) {
    OPENSSL_cleanse(kr->k[i].secret, strlen(kr->k[i].secret));
    free(kr->k[i].secret);
    free(kr->k[i].id);
  }
  free(kr->k);
  free(kr);
}

/* Printable ASCII without spaces; a key id also cannot hold the '/' that
 * separates the parts of a credential scope. */
static int valid_chars(const char *s, int is_id)
{
  for(; *s; s++)
    if(*s < 0x21 || *s > 0x7e || (is_id && *s == '/'))
      return 0;
  return 1;
}

int vs_keyring_add(vs_keyring *kr, const char *key_id, const char *secret,
                   vs_err *err)
{
  size_t ilen = key_id ? strlen(key_id) : 0;
  size_t slen = secret ? strlen(secret) : 0;
  vs_key k;
  if(!ilen || ilen > MAX_ID || !valid_chars(key_id, 1))
    return vs_fail(err, VS_ERR_INVALID, "access key id must be 1 to %d "
                   "printable characters without spaces or '/'", MAX_ID);
  if(!slen || slen > MAX_SECRET || !valid_chars(secret, 0))
    return vs_fail(err, VS_ERR_INVALID, "secret of key %s must be 1 to %d "
                   "printable characters without spaces", key_id, MAX_SECRET);
  if(vs_keyring_secret(kr, key_id))
    return vs_fail(err, VS_ERR_INVALID, "access key id %s is given twice",
                   key_id);
  if(kr->n == kr->cap) {
    size_t cap = kr->cap ? 2 * kr->cap : 4;
    vs_key *nk = realloc(kr->k, cap * sizeof(*nk));
    if(!nk)
      return vs_fail(err, VS_ERR_NOMEM, "out of memory");
    kr->k = nk;
    kr->cap = cap;
  }
  k.id = strdup(key_id);
  k.secret = strdup(secret);
  if(!k.id || !k.secret) {
    free(k.id);
    free(k.secret);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  kr->k[kr->n++] = k;
  return VS_OK;
}

const char *vs_keyring_secret(const vs_keyring *kr, const char *key_id)
{
  size_t i;
  for(i = 0; kr && key_id && i < kr->n; i++)
    if(!strcmp(kr->k[i].id, key_id))
      return kr->k[i].secret;
  return NULL;
}

int vs_keyring_first(const vs_keyring *kr, const char **key_id,
                     const char **secret)
{
  if(!kr || !kr->n)
    return VS_ERR_NOTFOUND;
  *key_id = kr->k[0].id;
  *secret = kr->k[0].secret;
  return VS_OK;
}

size_t vs_keyring_count(const vs_keyring *kr)
{
  return kr ? kr->n : 0;
}

static int load_env(vs_keyring *kr, vs_err *err)
{
  const char *id = getenv("VSINK_ACCESS_KEY_ID");
  const char *secret = getenv("VSINK_SECRET_ACCESS_KEY");
  vs_err e = {0};
  int rc;
  if(id && !*id)
    id = NULL;
  if(secret && !*secret)
    secret = NULL;
  if(!id && !secret)
    return vs_fail(err, VS_ERR_NOTFOUND, "VSINK_ACCESS_KEY_ID and "
                   "VSINK_SECRET_ACCESS_KEY are not set");
  if(!id || !secret)
    return vs_fail(err, VS_ERR_INVALID, "%s is set but %s is not",
                   id ? "VSINK_ACCESS_KEY_ID" : "VSINK_SECRET_ACCESS_KEY",
                   id ? "VSINK_SECRET_ACCESS_KEY" : "VSINK_ACCESS_KEY_ID");
  if((rc = vs_keyring_add(kr, id, secret, &e)))
    return vs_fail(err, rc, "environment: %s", e.msg);
  return VS_OK;
}

/* One line: blank, "# comment" or "KEYID SECRET" (spaces or tabs). */
static int load_line(vs_keyring *kr, char *line, const char *file, int lineno,
                     vs_err *err)
{
  static const char ws[] = " \t\r\f\v";
  char *id, *secret, *extra, *save = NULL;
  vs_err e = {0};
  int rc;
  id = strtok_r(line, ws, &save);
  if(!id || *id == '#')
    return VS_OK;
  secret = strtok_r(NULL, ws, &save);
  extra = strtok_r(NULL, ws, &save);
  if(!secret || extra)
    return vs_fail(err, VS_ERR_INVALID, "%s line %d: expected 'KEYID SECRET'",
                   file, lineno);
  if((rc = vs_keyring_add(kr, id, secret, &e)))
    return vs_fail(err, rc, "%s line %d: %s", file, lineno, e.msg);
  return VS_OK;
}

static int load_text(vs_keyring *kr, char *text, size_t len, const char *file,
                     vs_err *err)
{
  char *line = text, *nl;
  int lineno = 1, rc;
  if(memchr(text, 0, len))
    return vs_fail(err, VS_ERR_INVALID, "%s holds a NUL byte", file);
  for(; line; line = nl ? nl + 1 : NULL, lineno++) {
    nl = strchr(line, '\n');
    if(nl)
      *nl = 0;
    if((rc = load_line(kr, line, file, lineno, err)))
      return rc;
  }
  if(!kr->n)
    return vs_fail(err, VS_ERR_INVALID, "%s holds no key "
                   "(expected lines of 'KEYID SECRET')", file);
  return VS_OK;
}

static int load_file(vs_keyring *kr, const char *file, vs_err *err)
{
  char *text;
  size_t len;
  int rc = vs_read_file(file, MAX_FILE, &text, &len, err);
  if(rc)
    return rc;
  rc = load_text(kr, text, len, file, err);
  OPENSSL_cleanse(text, len);
  free(text);
  return rc;
}

int vs_keyring_load(vs_keyring **out, const char *file, vs_err *err)
{
  vs_keyring *kr = vs_keyring_new();
  int rc;
  *out = NULL;
  if(!kr)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  rc = file ? load_file(kr, file, err) : load_env(kr, err);
  if(rc) {
    vs_keyring_free(kr);
    return rc;
  }
  *out = kr;
  return VS_OK;
}

/* "VS" + 18 base32 letters, like AWS's 20-character key ids, and a
 * 40-character secret from the base64 alphabet (240 random bits). */
static int make_key(char id[21], char secret[41], vs_err *err)
{
  static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unsigned char rnd[18 + 40];
  size_t i;
  int rc = vs_random(rnd, sizeof(rnd), err);
  if(rc)
    return rc;
  memcpy(id, "VS", 2);
  for(i = 0; i < 18; i++)
    id[2 + i] = b32[rnd[i] & 31];
  id[20] = 0;
  for(i = 0; i < 40; i++)
    secret[i] = b64[rnd[18 + i] & 63];
  secret[40] = 0;
  OPENSSL_cleanse(rnd, sizeof(rnd));
  return VS_OK;
}

static int write_key_file(const char *file, const char *text, vs_err *err)
{
  char dir[4096];
  int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                0600);
  int rc;
  if(fd < 0)
    return vs_fail_errno(err, errno, "create %s", file);
  /* The umask may only take bits away, but be exact anyway. */
  rc = fchmod(fd, 0600) ? vs_fail_errno(err, errno, "chmod %s", file)
                        : vs_write_all(fd, text, strlen(text), err);
  if(!rc && fsync(fd))
    rc = vs_fail_errno(err, errno, "fsync %s", file);
  if(close(fd) && !rc)
    rc = vs_fail_errno(err, errno, "close %s", file);
  if(!rc) {
    vs_dirname(file, dir, sizeof(dir));
    rc = vs_fsync_dir(dir, err);
  }
  if(rc)
    unlink(file);
  return rc;
}

int vs_keyring_generate(vs_keyring **out, const char *file, vs_err *err)
{
  char id[21], secret[41], text[160];
  vs_keyring *kr;
  int rc;
  *out = NULL;
  if((rc = make_key(id, secret, err)))
    return rc;
  snprintf(text, sizeof(text), "# vsink access key: KEYID SECRET, one per "
           "line. Keep this file private.\n%s %s\n", id, secret);
  rc = write_key_file(file, text, err);
  OPENSSL_cleanse(text, sizeof(text));
  if(!rc && !(kr = vs_keyring_new()))
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if(!rc && (rc = vs_keyring_add(kr, id, secret, err)))
    vs_keyring_free(kr);
  OPENSSL_cleanse(secret, sizeof(secret));
  if(!rc)
    *out = kr;
  return rc;
}
