/*
 * sequences.h - the full phase's copy of MariaDB sequences: each selected sequence of the
 * source is created on the target (SHOW CREATE SEQUENCE, mapped by db/dialect.h) and
 * given the state the snapshot holds (SELECT from the sequence; INSERT on MariaDB,
 * SETVAL on TiDB). On a MySQL target nothing can be created: each sequence is named in
 * the report and a warning, saying what is not carried over.
 *
 * Replication from the snapshot position then applies every later state (sync/sequence.h);
 * states are absolute, so a state read a little after the snapshot converges the same.
 *
 * Threads: uses only the connections it is given.
 */
#ifndef TIDM_DUMP_SEQUENCES_H
#define TIDM_DUMP_SEQUENCES_H

#include "db/conn.h"
#include "util/buf.h"
#include "util/filter.h"

/*
 * Copy the sequences of `src` selected by `objects` to `tgt`. `snap` is a connection in
 * the snapshot's transaction (states are read there). A sequence the target already has
 * (a resumed run) only gets its state; a table of that name that is not a sequence fails
 * the copy, naming it. One line per sequence mapped or not carried over goes to `report`.
 * Returns 0 or the error (what and which sequence).
 */
int tidm_dump_sequences(tidm_conn *src, tidm_conn *snap, tidm_conn *tgt, const tidm_filter *objects,
			tidm_buf *report);

#endif
