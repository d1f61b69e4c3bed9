/*
 * meta.h - the job store on the target: schema `tidm_meta` (SPEC §7.1). Shared by the full
 * phase (dump/) and replication (sync/).
 *
 *   jobs(name, type, state, stage, snap_file, snap_pos, snap_gtid, snap_method, error)
 *     state: running | paused | failed | finished.  stage: dump | sync | done.
 *     A job whose state is "running" when a run starts was stopped uncleanly (kill -9,
 *     crash): replication then starts in safe mode.
 *   tables(job, db, tbl, chunks, create_sql, deferred_keys, keyless)   full phase: a table's
 *                                        chunk plan is stored, with the source definition its
 *                                        target table was made from; keyless: for a table
 *                                        without a key, "own" (tidm wrote every row it holds
 *                                        and may empty it) or "append" (it held other rows)
 *   chunks(job, db, tbl, no, lower_sql, upper_sql, state, rows_copied, bytes_copied,
 *          snap_file, snap_pos)          snap_*: the snapshot a done chunk was copied under
 *   sync_workers(job, worker, file, pos, nworkers, txn_row)   replication checkpoints
 *     (txn_row > 0: that many rows of the transaction starting at file:pos are applied)
 *   verify_tables(job, db, tbl, state, chunks_total, chunks_done, rows_checked, differing_rows,
 *          pass, detail, updated_at)    the results of tidm verify / spec.verify (verify/verify.h)
 *   ddl_guard(job, file, pos, stmt_no, snap, conn_id)   the replicated DDL statement in progress
 *                                        (sync/ddl_guard.h), cleared with the checkpoint after it
 */
#ifndef TIDM_DB_META_H
#define TIDM_DB_META_H

#include <stdbool.h>
#include <stdint.h>

#include "db/conn.h"

#define TIDM_META_DB "tidm_meta"

typedef struct tidm_meta_job {
	bool exists;
	char state[16];
	char stage[16];
	char snap_file[256];
	uint64_t snap_pos;
	char *snap_gtid; /* malloc'd or NULL */
	char snap_method[32];
	char updated_at[32]; /* "YYYY-MM-DD hh:mm:ss" (target's time zone) of the last change */
} tidm_meta_job;

/* Create the schema and its tables when missing. */
int tidm_meta_ensure(tidm_conn *c);
/* Read the job's row (out->exists = false when there is none). Dispose with tidm_meta_job_dispose. */
int tidm_meta_job_get(tidm_conn *c, const char *name, tidm_meta_job *out);
void tidm_meta_job_dispose(tidm_meta_job *j);
/* Write the whole row. */
int tidm_meta_job_put(tidm_conn *c, const char *name, const char *type, const tidm_meta_job *j);
/* Change state and stage only (stage NULL: unchanged); `error` (may be NULL) is recorded. */
int tidm_meta_job_set_state(tidm_conn *c, const char *name, const char *state, const char *stage, const char *error);
/* Remove every trace of the job from the store (never target data). */
int tidm_meta_job_delete(tidm_conn *c, const char *name);

#endif
