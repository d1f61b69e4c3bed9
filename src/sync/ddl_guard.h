/*
 * ddl_guard.h - crash safety of replicated DDL: was a statement applied before a crash?
 *
 * A DDL commits on its own, so the checkpoint after it can never be in the same target
 * transaction. Between the two a crash would replay the statement, which is wrong when it
 * is not idempotent (a RENAME swap `a→tmp, b→a, tmp→b` in one statement swaps back; a
 * column swap by CHANGE; ...). The guard closes that window: before each target statement
 * of a DDL it commits, in tidm_meta.ddl_guard, "statement N of the event at FILE:POS is in
 * progress" with a snapshot of the objects it names as the target has them then (each
 * table's SHOW CREATE TABLE without AUTO_INCREMENT=, its storage identity where the
 * target shows one, or "absent"; each database's SHOW CREATE DATABASE). The applier
 * clears the record in the same target transaction as the checkpoint after the DDL. On a
 * replay of that event, statements before N are passed over, and statement N runs again
 * only when the snapshot of its objects is still what it was before it ran (it did not
 * happen); a changed snapshot means it was applied.
 *
 * Assumptions: only tidm changes the schema of the replicated objects on the target, and
 * one target statement is atomic (MySQL 8, MariaDB 10.6+ and TiDB run a multi-table
 * RENAME TABLE atomically). A statement whose effect the snapshot cannot see (ALTER TABLE
 * ... ENGINE=InnoDB, a routine) runs again after a crash, as before: such statements are
 * idempotent. A swap of two tables with the same definition is told apart by the storage
 * identity (InnoDB table id, TiDB table id); without the privilege to read it, it runs
 * again, with a warning.
 *
 * Threads: one guard per applier, used by its coordinator thread only, on the connection
 * the DDL runs on (autocommit).
 */
#ifndef TIDM_SYNC_DDL_GUARD_H
#define TIDM_SYNC_DDL_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/conn.h"

typedef struct tidm_ddl_guard tidm_ddl_guard;

/*
 * Create the guard of job `job` on connection `c` (borrowed; it must outlive the guard)
 * and read the record a previous run may have left. The table tidm_meta.ddl_guard is
 * created by tidm_meta_ensure(). Returns 0 or a TIDM_E* with the message set.
 */
int tidm_ddl_guard_new(tidm_ddl_guard **out, tidm_conn *c, const char *job);
void tidm_ddl_guard_free(tidm_ddl_guard *g);

/*
 * Before target statement `no` (0-based) of the DDL event ending at `file`:`pos`:
 * `stmt`/`len` is its text (as tidm_ddl_rewrite() wrote it), `default_db` the event's
 * default database (NULL or "": none). Returns 1 when the statement was applied before a
 * crash (skip it: the record of a previous run says so), 0 when it must run now (the
 * in-progress record has then been committed), or a negative TIDM_E*.
 */
int tidm_ddl_guard_begin(tidm_ddl_guard *g, const char *file, uint64_t pos, unsigned no, const char *stmt, size_t len,
			 const char *default_db);

/*
 * The statement announced by tidm_ddl_guard_begin() ran. Test-only hook: with the
 * environment variable TIDM_TEST_CRASH_AFTER_DDL=N the process ends with _exit(137) right
 * after the N-th statement it ran (before its checkpoint), to let integration tests hit
 * the crash window deterministically. Never set it in production.
 */
void tidm_ddl_guard_ran(tidm_ddl_guard *g);

/*
 * Remove the record: call it inside the target transaction that writes the checkpoint
 * after the DDL, so that both are committed together. Returns 0 or a TIDM_E*.
 */
int tidm_ddl_guard_clear(tidm_ddl_guard *g);

#endif
