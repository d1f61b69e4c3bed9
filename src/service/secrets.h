/*
 * secrets.h - passwords at rest in the job service: sealed with libsodium's secretbox
 * (XSalsa20-Poly1305) under a key kept in DATA_DIR/secret.key (32 random bytes, created
 * mode 0600; a key file that others may read or write is refused). Every value gets a
 * nonce of its own; a sealed value is base64 (standard, padded) of nonce || box.
 *
 * Errors: TIDM_EAUTH (a key file others can read, or a value that does not open under this
 * key: wrong key or tampered), TIDM_ECORRUPT (not base64, too short, a key file of the
 * wrong size), TIDM_ERROR (I/O); the message never contains a plaintext.
 * Threads: a tidm_secrets may be used from any thread (read-only after open).
 */
#ifndef TIDM_SERVICE_SECRETS_H
#define TIDM_SERVICE_SECRETS_H

#include <stddef.h>

typedef struct tidm_secrets tidm_secrets;

/* Read DATA_DIR/secret.key, creating it when missing. */
int tidm_secrets_open(tidm_secrets **out, const char *data_dir);
/* NULL is a no-op; the key is wiped. */
void tidm_secrets_close(tidm_secrets *s);
/* Seal `len` bytes; *out is malloc'd base64 text. */
int tidm_secrets_seal(tidm_secrets *s, const char *plain, size_t len, char **out);
/* Open a sealed value; *out is malloc'd, NUL-terminated, *len its length (may be NULL).
 * Free it with tidm_secrets_free_plain (wipes it). */
int tidm_secrets_unseal(tidm_secrets *s, const char *sealed, char **out, size_t *len);
void tidm_secrets_free_plain(char *plain);

#endif
