/*
 * schema.h - what the applier knows of a target table: its columns in order (matching the
 * binlog's column ordinals), which are generated (never written), each column's
 * character set (for literals that compare under the column's collation and use its
 * index), and the key that addresses a row: the primary key, else the first unique key
 * whose columns are all NOT NULL, else none (rows are then matched on every column).
 *
 * The cache is owned by one thread (the applier's coordinator). Entries are read from the
 * target's information_schema on first use and dropped by tidm_schema_invalidate() after a
 * DDL statement touches the table. Returned pointers stay valid until the next
 * invalidate/free of the cache.
 */
#ifndef TIDM_SYNC_SCHEMA_H
#define TIDM_SYNC_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/conn.h"

typedef struct tidm_schema_col {
	char *name;
	char *charset;  /* NULL for non-character columns */
	char *data_type; /* lower case, e.g. "varchar", "json", "bit" */
	bool generated;
	bool in_key;
	bool is_unsigned; /* integer columns: UNSIGNED (binlogs without signedness metadata log raw bits) */
	unsigned binary_len; /* BINARY(n): n (the binlog drops trailing zero bytes), else 0 */
	/* how values of the column compare inside a unique key on the target (see
	 * tidm_schema_keyfold): TIDM_KEYFOLD_EXACT, _TRIM or _OPAQUE */
	uint8_t keyfold;
	bool nullable;
	bool period; /* a row_start / row_end column of a system-versioned table (also generated) */
	bool period_end; /* ... the row_end one */
} tidm_schema_col;

/*
 * Two values with different bytes may still be one key on the target: 'abc' and 'ABC '
 * under a _ci collation, 'e' and 'é' under an accent-insensitive one, 'a' and 'a ' under a
 * PAD SPACE _bin collation, 0 and -0 in a FLOAT, two strings that agree in the length of a
 * unique prefix index. The applier's routing and conflict keys must map such values to one
 * hash, so for each column:
 *   EXACT   the bytes are the key (integers, temporal types, binary strings, ENUM, ...)
 *   TRIM    the bytes without trailing spaces are (a _bin collation of an ASCII-compatible
 *           character set)
 *   OPAQUE  no byte form is: every value counts as the same (other collations, UCS-2/
 *           UTF-16/UTF-32 strings, floating point, prefix parts of a unique index)
 */
enum { TIDM_KEYFOLD_EXACT = 0, TIDM_KEYFOLD_TRIM, TIDM_KEYFOLD_OPAQUE };
/* The fold class of a column from its information_schema.COLUMNS data: character set and
 * collation (NULL for non-character columns) and lower-case DATA_TYPE. */
int tidm_schema_keyfold(const char *charset, const char *collation, const char *data_type);

typedef struct tidm_schema_table {
	char *db;
	char *name;
	tidm_schema_col *cols;
	size_t ncols;
	size_t *key;     /* ordinals of the row key columns, in key order */
	size_t nkey;     /* 0: no usable key */
	size_t **uniques; /* other unique keys (ordinals), for conflict detection */
	size_t *nuniq;
	size_t nuniques;
	/* system-versioned (MariaDB): the ordinal of the ROW END column, else SIZE_MAX */
	size_t row_end;
	struct tidm_schema_table *next;
} tidm_schema_table;

typedef struct tidm_schema_cache tidm_schema_cache;

tidm_schema_cache *tidm_schema_cache_new(void);
void tidm_schema_cache_free(tidm_schema_cache *c);
/* The table, read from the target through `conn` when not cached. TIDM_ENOTFOUND (message
 * "cannot fetch downstream table schema of `db`.`t` ... Table 'db.t' doesn't exist") when
 * the target lacks it. */
int tidm_schema_get(tidm_schema_cache *c, tidm_conn *conn, const char *db, const char *table,
		    const tidm_schema_table **out);
/* Forget one table (table NULL: every table of db; db NULL: everything). */
void tidm_schema_invalidate(tidm_schema_cache *c, const char *db, const char *table);

#endif
