/*
 * full_int.h - the full phase's internal contract, shared by the files of dump/
 *
 * One run of the full phase (dump/full.h) is a `run`: the job, the tables to copy with
 * their chunks, the statement queue between dump and load workers, and the first error.
 * Its steps live in these files:
 *   full.c      tidm_full_run: the order of the steps, the result, resuming
 *   state.c     the job record in tidm_meta (job, tables, chunks) and the error state
 *   snapshot.c  discovery of the selected tables, their columns and keys, the snapshot
 *   create.c    databases, tables and views on the target, deferred indexes
 *   plan.c      chunk bounds of each table, stored plans read back on resume
 *   copy.c      dump workers, load workers and the bounded queue between them
 *   rounds.c    DDL during the copy: stale tables, re-copy rounds from a later snapshot
 * Threads: the queue (ring, head, count, producers_left) is guarded by r->mu; `stop`,
 * chunk reference counts and row counters are atomic; everything else is written by the
 * coordinating thread before the workers start. Functions declared below return 0 or a
 * tidm error code that tidm_err has recorded, unless they say otherwise.
 */
#ifndef TIDM_DUMP_FULL_INT_H
#define TIDM_DUMP_FULL_INT_H

#include "dump/full.h"
#include "dump/sequences.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "db/conn.h"
#include "db/dialect.h"
#include "db/meta.h"
#include "db/quote.h"
#include "db/showcreate.h"
#include "dump/keyless.h"
#include "util/err.h"
#include "util/log.h"

#define META_DB TIDM_META_DB

typedef struct table {
	char *db;
	char *name;
	bool is_view;
	uint64_t est_rows;
	char **cols; /* insertable columns, in order */
	size_t ncols;
	char **key; /* chunk key columns; nkey == 0: no usable key */
	size_t nkey;
	bool key_is_int; /* one integer key column: chunks split by arithmetic on MIN/MAX */
	char **int_cols; /* names of the integer columns (to recognise key_is_int) */
	size_t nint_cols;
	tidm_buf col_list; /* "(`a`,`b`)" */
	tidm_buf head;     /* "REPLACE INTO `db`.`t` (`a`,`b`) VALUES " */
	tidm_buf load_sql; /* "LOAD DATA LOCAL INFILE 'tidm' REPLACE INTO TABLE `db`.`t` ... (`a`,`b`)" */
	_Atomic uint64_t chunks_left;
	bool planned; /* chunk plan stored in tidm_meta */
	unsigned last_no; /* highest number of its chunks to copy (for the copy order) */
	_Atomic bool warned; /* load warnings were logged */
	_Atomic bool stale;  /* DDL made it unreadable in this round's snapshot: copied again (7.) */
	bool referenced;     /* a foreign key points at it (mark_referenced) */
	char *create_sql; /* SHOW CREATE TABLE of the source when its target table was made */
	char *snap_create; /* SHOW CREATE TABLE read under the snapshot's lock: the definition of
			    * the snapshot's rows, whatever DDL runs after it (replication applies
			    * that DDL from the binlog) */
	bool created; /* views: created on the target */
	const char *keyless; /* no key: TIDM_KEYLESS_MARK_OWN or _APPEND (dump/keyless.h) */
} table;

typedef struct chunk {
	table *t;
	unsigned no;
	char *lower; /* comma-separated literals; NULL = unbounded */
	char *upper;
	_Atomic int refs;
	_Atomic uint64_t rows;
	_Atomic uint64_t bytes;
} chunk;

typedef struct stmt {
	chunk *c;
	char *sql; /* a REPLACE/INSERT statement, or the rows of a LOAD DATA (load_rows) */
	size_t len;
	uint64_t rows;
	bool load; /* sql holds LOAD DATA rows for c->t->load_sql */
	char *what; /* a row larger than a batch, alone in its statement: "the row with `k` = v"; else NULL */
} stmt;

typedef struct run {
	const tidm_job_config *cfg;
	tidm_full_progress *prog;
	volatile sig_atomic_t *cancel;
	tidm_conn_opts src_opts;
	bool fenced; /* earlier runs' target sessions ended (db/fence.h): record ours */
	tidm_conn_opts tgt_opts;

	table *tables;
	size_t ntables;
	chunk **todo; /* chunks left to copy */
	size_t ntodo;
	_Atomic size_t next_chunk;

	/* statement queue: ring buffer, guarded by mu */
	pthread_mutex_t mu;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
	stmt *ring;
	size_t cap, head, count;
	unsigned producers_left;

	bool load_data; /* rows go as LOAD DATA LOCAL INFILE (else multi-row REPLACE) */
	tidm_snapshot_pos copy_snap; /* the snapshot this run copies under (differs from the job's
				      * original one when an interrupted run is resumed) */
	bool resumed;
	bool restart;                /* --restart: a finished or interrupted job starts afresh */
	tidm_keyless_marks keyless;  /* keyless tables' marks of earlier runs */
	unsigned round;      /* 0, then one more per new snapshot for stale tables (7.) */
	tidm_buf done_names; /* "db\0name\0" of tables copied in earlier rounds */
	tidm_buf stale_names; /* "db\0name\0" of the tables the next round copies again */
	bool physical;      /* mode physical (dump/physical.c): one target transaction per table */
	size_t stmt_limit;  /* bytes of one batch of rows (spec.statement-bytes, larger in mode physical) */
	struct full_physical *phys; /* mode physical's state (physical.c) */
	unsigned pause_ms; /* TIDM_TEST_PAUSE_AFTER_CHUNK (tests only): each dump worker sleeps this long after a chunk */
	struct tidm_probe *exp; /* spec.export's throttle (throttle.c); NULL: none */

	_Atomic int stop;
	int err_code;
	unsigned err_db;
	char err_msg[2048];
} run;

/* A dump worker: its snapshot connection and its own target connection. */
typedef struct dump_ctx {
	run *r;
	tidm_conn *src; /* snapshot connection (tidm_full_run's) */
	tidm_conn *tgt; /* for keyless tables, chunk marks and mode physical, opened lazily */
	bool tgt_physical; /* tgt has mode physical's session settings */
	struct full_pipe *pipe; /* mode physical: the thread that writes tgt's batches (physical.c) */
	uint64_t pace_rows, pace_bytes; /* read, not yet paid to spec.export's throttle */
} dump_ctx;

/* ---- shared between the files of the module (each defined in the file named) ---- */

/* state.c */
bool full_stopping(run *r);
void full_fail(run *r);
char *full_xstrdup(const char *s);
void full_table_dispose(table *t);
void full_chunk_free(chunk *c);
void full_put_str(tidm_buf *b, const char *s);
int full_meta_load_job(run *r, tidm_conn *tgt, bool *resumed, tidm_snapshot_pos *snap);
int full_meta_reset_job(run *r, tidm_conn *tgt, const tidm_snapshot_pos *snap);
int full_meta_save_job(run *r, tidm_conn *tgt, const char *state, const char *stage,
		       const tidm_snapshot_pos *snap);
int full_meta_chunk_done(run *r, tidm_conn *tgt, chunk *c);

/* snapshot.c */
int full_discover(run *r, tidm_conn *src);
int full_take_snapshot(run *r, tidm_conn *coord, tidm_conn **dumpers, unsigned n, tidm_snapshot_pos *snap);
int full_describe_snapshot(run *r, tidm_conn *src, table *t);

/* create.c */
int full_forget_table(run *r, tidm_conn *tgt, const table *t);
int full_check_target_kinds(run *r, tidm_conn *tgt);
int full_finish_table(run *r, tidm_conn *tgt, table *t);
int full_create_schema(run *r, tidm_conn *src, tidm_conn *tgt, tidm_buf *report);

/* plan.c */
void full_put_key_cmp(tidm_buf *b, const table *t, const char *bound, bool greater);
int full_plan_table(run *r, tidm_conn *src, tidm_conn *tgt, table *t);
table *full_find_table(run *r, const char *db, const char *name);
int full_load_plans(run *r, tidm_conn *tgt);

/* rounds.c */
bool full_names_has(const tidm_buf *b, const char *db, const char *name);
bool full_stale_error(void);
void full_mark_stale(table *t);
int full_drop_stale(run *r, tidm_conn *tgt);
bool full_next_round(run *r);

/* throttle.c: dump workers pay the throttle every FULL_PACE_ROWS rows or FULL_PACE_BYTES
 * bytes read (*rows and *bytes are reset); TIDM_ECANCELED when the run stops meanwhile */
#define FULL_PACE_ROWS 64u
#define FULL_PACE_BYTES 16384u
void full_export_begin(run *r, unsigned ndump);
int full_export_take(run *r, uint64_t *rows, uint64_t *bytes);
void full_export_end(run *r);

/* copy.c */
int full_open_target(run *r, tidm_conn **out);
int full_choose_load_method(run *r, tidm_conn *tgt);
void full_copy_chunks(run *r, tidm_conn **dumpers, unsigned ndump, unsigned nload);
int full_dump_chunk(dump_ctx *d, chunk *c);
int full_exec_rows(tidm_conn *tgt, chunk *c, const char *data, size_t len, uint64_t rows, bool load);
void full_put_chunk_select(tidm_buf *q, const chunk *c);

/* physical.c (mode physical) */
int full_physical_check(run *r, tidm_conn *tgt);
int full_physical_start(run *r, tidm_conn *tgt);
void full_physical_end(run *r);
void full_physical_worker(dump_ctx *d);
int full_physical_send(dump_ctx *d, chunk *c, tidm_buf *rows_buf, uint64_t nrows, bool load);

#endif
