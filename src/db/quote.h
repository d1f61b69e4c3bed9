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

/* Split a list of SQL literals "l1,l2,..." (the forms tidm_conn_put_literal writes, which
 * never hold a comma) into at most `max` pieces; returns how many. */
size_t tidm_literal_split(const char *list, const char **starts, size_t *lens, size_t max);

#endif
