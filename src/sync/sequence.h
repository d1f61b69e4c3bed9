/*
 * sequence.h - replicating MariaDB sequences (CREATE/ALTER/DROP SEQUENCE, and the
 * NEXTVAL/SETVAL effects MariaDB writes to the binlog as a row event on the sequence's
 * table holding its whole new state).
 *
 * MariaDB target: the statements as they are; each state row is written with INSERT INTO
 * the sequence (which is how a MariaDB sequence takes a whole state). TiDB target: the
 * statements mapped (db/dialect.h), a state as SETVAL. MySQL target: nothing can be
 * carried over; each sequence is named once in a warning saying what is lost.
 *
 * A sequence's state change is not transactional on MariaDB: it is applied at once on
 * the connection given, in binlog order, whatever the workers do. Each state is absolute,
 * so a replay after a restart (older states, then the newer ones again) ends where the
 * source is.
 *
 * Threads: one owner (the applier's coordinator).
 */
#ifndef TIDM_SYNC_SEQUENCE_H
#define TIDM_SYNC_SEQUENCE_H

#include <stdbool.h>
#include <stddef.h>

#include "binlog/event.h"
#include "binlog/rows.h"
#include "db/conn.h"
#include "util/buf.h"

typedef struct tidm_seq_sync tidm_seq_sync;

/* Create; reads which tables of the target are sequences (`tgt` is used for look-ups
 * later too and must outlive the object). Errors of the query, with what was read. */
int tidm_seq_sync_new(tidm_seq_sync **out, tidm_conn *tgt);
void tidm_seq_sync_free(tidm_seq_sync *s);

/* Whether the rows event's table is a source sequence: one the target has as a sequence,
 * one a replicated CREATE SEQUENCE made; on a MySQL target, a table the target lacks with
 * the column types of a sequence table (eight BIGINTs, the seventh a TINYINT). */
bool tidm_seq_sync_is(tidm_seq_sync *s, const tidm_binlog_table *tm);

/* Apply a rows event on a sequence: its last after-image is the new state. 0 or an error
 * naming the sequence and the statement that failed. */
int tidm_seq_sync_rows(tidm_seq_sync *s, struct tidm_binlog_decoder *dec, const tidm_binlog_event *ev);

/*
 * A QUERY statement `sql` (default database `defdb`, may be NULL): 0 when it is not a
 * sequence statement. 1 when it is: `out` then holds the statement(s) to run on the
 * target, "; "-separated, or is empty when nothing is to run (a temporary sequence, a
 * sequence outside the selection, a target that cannot have it - then a warning said
 * what is not carried over); `selected` decides the selection. Negative on a statement
 * that does not tokenize.
 */
int tidm_seq_sync_ddl(tidm_seq_sync *s, tidm_buf *out, const char *sql, size_t len, const char *defdb,
		      bool (*selected)(const char *db, const char *table, void *payload), void *payload);

#endif
