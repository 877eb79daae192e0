/* A digest computed on a thread of its own while the caller does the rest
 * of the work (another digest, the writes): an upload's MD5 beside its
 * SHA-256, so that hashing both costs the time of the slower one.
 *
 * Double buffering, constant memory: two buffers of `cap` bytes; update
 * copies into the one the thread is not hashing and hands it over when it
 * is full, waiting only when the thread is a whole buffer behind.
 *
 *   vs_bghash *h;
 *   vs_bghash_start(&h, ctx, 64 << 10);   (ctx: initialized, maybe fed)
 *   vs_bghash_update(h, p, n);            (any number of times)
 *   ctx = vs_bghash_finish(h);            (everything hashed; thread gone)
 *   EVP_DigestFinal_ex(ctx, ...); EVP_MD_CTX_free(ctx);
 *
 * One producer per vs_bghash. vs_bghash_free abandons one half-way (the
 * thread stops, the context is freed). */
#ifndef VS_UTIL_BGHASH_H
#define VS_UTIL_BGHASH_H

#include <stddef.h>
#include <openssl/evp.h>

typedef struct vs_bghash vs_bghash;

/* Takes ctx over; -1 when memory or a thread could not be had (ctx is
 * then still the caller's, to go on hashing inline). */
int vs_bghash_start(vs_bghash **out, EVP_MD_CTX *ctx, size_t cap);
void vs_bghash_update(vs_bghash *h, const void *p, size_t n);
/* Waits until every byte is hashed, ends the thread, frees h and gives
 * the context back. */
EVP_MD_CTX *vs_bghash_finish(vs_bghash *h);
/* Stops the thread without waiting for the rest; frees h and its context.
 * NULL is fine. */
void vs_bghash_free(vs_bghash *h);

#endif
