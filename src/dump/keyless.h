/*
 * keyless.h - the full phase's tables without a key (no primary key, no NOT NULL unique
 * key). Their rows cannot be overwritten by REPLACE, so copying one twice doubles it. The
 * contract:
 *   - Before anything is written, every selected keyless table is decided
 *     (tidm_keyless_decide): "own" when its target table is missing or empty, or holds
 *     only rows this job wrote in an earlier run; "append" when it holds other rows and
 *     the job says `spec.keyless-nonempty: append`; otherwise the job is refused, naming
 *     the tables.
 *   - The decision is stored in tidm_meta.tables.keyless (tidm_keyless_mark) before any
 *     row is copied into the table, and is kept across resumed runs.
 *   - An "own" table whose copy is about to start (again) is emptied first when it holds
 *     rows (tidm_keyless_empty): rows of an interrupted or earlier copy never stay next to
 *     their second copy, whatever the target's transactions do with LOAD DATA.
 *   - An "append" table relies on the single target transaction that carries its rows and
 *     its chunk's "done" mark (dump/copy.c).
 * Every function works on the caller's target connection; names are quoted, values escaped.
 */
#ifndef TIDM_DUMP_KEYLESS_H
#define TIDM_DUMP_KEYLESS_H

#include <stdbool.h>
#include <stddef.h>

#include "db/conn.h"
#include "util/buf.h"

#define TIDM_KEYLESS_MARK_OWN "own"
#define TIDM_KEYLESS_MARK_APPEND "append"

/* The keyless marks a job's earlier runs stored, read before its records are reset. */
typedef struct tidm_keyless_marks {
	char **db;
	char **tbl;
	char **mode;
	size_t n;
} tidm_keyless_marks;

int tidm_keyless_marks_read(tidm_conn *tgt, const char *job, tidm_keyless_marks *out);
/* "own", "append" or NULL (never marked). */
const char *tidm_keyless_marks_get(const tidm_keyless_marks *m, const char *db, const char *tbl);
void tidm_keyless_marks_dispose(tidm_keyless_marks *m);

/*
 * Decide one keyless table before anything is written. `prev`: its mark from earlier runs
 * (NULL: none); `kept`: the run resumes and keeps that mark; `append`: the job allows
 * adding rows. *mode becomes "own" or "append"; NULL means refused: the table is appended
 * to `refused` as "`db`.`tbl`" (comma-separated) and the caller fails the job.
 */
int tidm_keyless_decide(tidm_conn *tgt, const char *db, const char *tbl, const char *prev, bool kept, bool append,
			const char **mode, tidm_buf *refused);

/* A job store of a tidm before the claims: has job `job` copied the table already (a
 * chunk of it is done)? Then its rows are tidm's own. */
int tidm_keyless_copied_before(tidm_conn *tgt, const char *job, const char *db, const char *tbl, bool *done);

/* Store the decision in tidm_meta.tables (its row must exist). */
int tidm_keyless_mark(tidm_conn *tgt, const char *job, const char *db, const char *tbl, const char *mode);

/* An "own" table about to be copied: when it holds rows, TRUNCATE it (DELETE where that
 * is refused) and say so. */
int tidm_keyless_empty(tidm_conn *tgt, const char *db, const char *tbl);

/* The error refusing the job (returns its code). */
int tidm_keyless_refuse(const tidm_buf *refused);

#endif
