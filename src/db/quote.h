/*
 * quote.h - building SQL safely: identifiers are always backquoted, values are always
 * escaped or hex-encoded. Pure functions over tidm_buf.
 *
 * String literals are escaped for a session whose sql_mode does NOT contain
 * NO_BACKSLASH_ESCAPES (tidm sets the session sql_mode on every connection it opens).
 */
#ifndef TIDM_DB_QUOTE_H
#define TIDM_DB_QUOTE_H

#include <stddef.h>

#include "util/buf.h"

/* `name` with embedded backticks doubled. */
void tidm_quote_ident(tidm_buf *b, const char *name);
/* `db`.`table` */
void tidm_quote_qualified(tidm_buf *b, const char *db, const char *table);
/* 'text' with \ ' " NUL \n \r \032 escaped. */
void tidm_quote_string(tidm_buf *b, const char *s, size_t n);
/* X'hex' (empty input gives ''). */
void tidm_quote_hex(tidm_buf *b, const void *p, size_t n);

#endif
