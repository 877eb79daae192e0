/* Where the command line finds its access keys. */
#ifndef VS_CLI_KEYS_H
#define VS_CLI_KEYS_H

#include "vsink/sigv4.h"

/* In order: cred_file when given; else the VSINK_ACCESS_KEY_ID and
 * VSINK_SECRET_ACCESS_KEY environment; else DATA_DIR/credentials when it
 * exists; else, when may_generate, a fresh key written to
 * DATA_DIR/credentials (mode 0600, the folder made if needed), its id and
 * path told on stderr (never the secret). Returns 0 and *out, or a vs_code
 * after saying why on stderr. */
int vs_cli_keys(const char *cred_file, const char *data_dir, int may_generate,
                vs_keyring **out);

#endif
