/*
 * ddl_charset.h - run a replicated statement under the character set and collations its
 * QUERY event carries, as a MySQL replica does.
 *
 * A source session's character_set_client, collation_connection and collation_server
 * (status variable Q_CHARSET_CODE) and, when written, collation_database
 * (Q_CHARSET_DATABASE_CODE) decide what a DDL means: the bytes of its text are in the
 * client character set, and CREATE DATABASE / CREATE TABLE without CHARACTER SET take the
 * server's / the database's collation. Before the applier runs a DDL on its target
 * session, tidm_ddl_charset_enter() sets the same values there (SET SESSION, only those
 * that differ from what the session already has); tidm_ddl_charset_leave() afterwards
 * gives the session back tidm's utf8mb4 client character set when the statement needed
 * another one (tidm's own statements on that session are written in utf8mb4).
 *
 * Collation ids are the source's numbering. They are named from the target's
 * information_schema.COLLATIONS, read once (ids below 256 are common to MySQL, MariaDB and
 * TiDB; a MariaDB source's own ids above them are only known to a MariaDB target), and
 * from a built-in list of MySQL 8's utf8mb4_0900 ids. A name the target lacks is mapped
 * as the full phase maps it (tidm_dialect_map_collation(), e.g. on TiDB). An id that
 * cannot be named leaves that variable as it is, with one warning.
 *
 * Threads: one per applier, used by its coordinator thread on its connection.
 */
#ifndef TIDM_SYNC_DDL_CHARSET_H
#define TIDM_SYNC_DDL_CHARSET_H

#include <stdbool.h>

#include "binlog/event.h"
#include "db/conn.h"

typedef struct tidm_ddl_charset tidm_ddl_charset;

/* For statements from a `source` server run on `c` (borrowed; it must outlive the object). */
tidm_ddl_charset *tidm_ddl_charset_new(tidm_conn *c, enum tidm_flavor source);
void tidm_ddl_charset_free(tidm_ddl_charset *cs);

/*
 * Set the session's character set and collations to those of `q` (right before running
 * its statement; after any USE, which `after_use` says happened: USE changes
 * collation_database). Returns 0 or the TIDM_E* of the failed SET with the message set.
 */
int tidm_ddl_charset_enter(tidm_ddl_charset *cs, const tidm_binlog_query *q, bool after_use);

/* After the statement: back to tidm's utf8mb4 client character set when it was changed. */
int tidm_ddl_charset_leave(tidm_ddl_charset *cs);

#endif
