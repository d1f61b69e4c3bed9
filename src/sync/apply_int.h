/*
 * apply_int.h - the applier's internal contract, shared by the files of sync/apply*
 *
 * The applier (sync/apply.h) is one object, struct tidm_applier, split over these files:
 *   apply.c      the coordinator: feed, flush, checkpoints, new/free, shared failure state
 *   txn.c        transaction boundaries and classification (BEGIN/COMMIT, savepoints, XA,
 *                the job's start GTID set)
 *   rowevent.c   rows events to row items (one per row), safe mode, versioned tables
 *   route.c      routing of items to workers: key hashes, the key map, windows
 *   render.c     SQL text of values, tuples, WHERE clauses, UPDATE statements
 *   tables.c     the target table cache (tbl_info) and foreign-key groups
 *   worker.c     the worker threads: queues, marks, commits with their checkpoint
 *   group.c      a worker's script: items grouped into multi-row statements
 *   ddl_apply.c  DDL on the coordinator's connection, as a barrier
 *   osc.c        online schema change tools (gh-ost, pt-osc)
 * Threads: fields marked "coordinator only" are touched by the caller's thread alone;
 * a worker's queue and the failure state are guarded by a->mu; committed_seq is atomic.
 * A function declared below is defined in the file named above its group; every one
 * returns 0 or a tidm error code that tidm_err has recorded, unless it says otherwise.
 */
#ifndef TIDM_SYNC_APPLY_INT_H
#define TIDM_SYNC_APPLY_INT_H

#include "sync/apply.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "binlog/cursor.h"
#include "binlog/json.h"
#include "binlog/rows.h"
#include "db/conn.h"
#include "db/meta.h"
#include "db/quote.h"
#include "sync/ddl.h"
#include "sync/ddl_charset.h"
#include "sync/ddl_guard.h"
#include "sync/schema.h"
#include "sync/sequence.h"
#include "sync/txn_split.h"
#include "util/err.h"
#include "util/gtid.h"
#include "util/log.h"

#define META_DB TIDM_META_DB
#define MAX_WORKERS 64

#define KEYMAP_BITS 18
#define KEYMAP_SIZE (1u << KEYMAP_BITS)

enum { ITEM_ROW = 1, ITEM_MARK, ITEM_STOP, ITEM_ROLLBACK };
enum { OP_INSERT = 1, OP_STMT };
/* How a row item may be grouped with others of its table into one statement (see
 * "grouping" below): not at all, as a tuple of a multi-row INSERT/REPLACE, as a key of
 * `DELETE ... WHERE key IN (...)`, or as a tuple of `INSERT ... ON DUPLICATE KEY UPDATE`
 * standing for an UPDATE that keeps the row key. */
enum { GC_NONE = 0, GC_INSERT, GC_DELETE, GC_UPSERT };

typedef struct item {
	uint8_t kind;
	uint8_t op;
	bool check_affected; /* UPDATE/DELETE outside safe mode: 0 rows = missing row */
	bool fkc;            /* run with foreign_key_checks = 1: the target cascades it */
	const char *head;    /* OP_INSERT: "INSERT INTO `d`.`t` (...) VALUES " (borrowed) */
	char *text;          /* OP_INSERT: "(...)"; OP_STMT: the statement */
	size_t len;
	char *what;          /* "`d`.`t` (id=5)" for messages */
	/* a DELETE by row key, still collected by the coordinator: an INSERT of the same key in
	 * the same transaction turns it into one REPLACE (changes to one row merged) */
	const void *del_table;
	uint64_t del_key;
	/* grouping (GC_NONE: the item is always its own statement, or extends a multi-row
	 * INSERT right before it) */
	uint8_t cls;
	const struct tbl_info *tbl;
	uint64_t rowkey;     /* hash of the row key (the table is part of it) */
	char *gtext;         /* GC_DELETE: the key, "v" or "(v1,v2)"; GC_UPSERT: the new row "(...)" */
	size_t glen;
	struct item *gnext;  /* next item of the same group while a script is built */
	/* ITEM_MARK */
	uint64_t seq;
	char file[256];
	uint64_t pos;
	bool force;  /* commit now, even when idle (flush) */
	bool piece;  /* inside a split transaction: file:pos is its start, row its rows before */
	uint64_t row;
	int64_t ts;  /* source timestamp of the transaction */
	struct item *next;
} item;

typedef struct worker {
	struct tidm_applier *a;
	unsigned id;
	pthread_t thread;
	bool started;
	tidm_conn *conn;
	/* queue, guarded by a->mu */
	item *head, *tail;
	size_t queued;
	size_t queued_bytes;
	size_t marks_queued; /* marks among the queued items */
	pthread_cond_t cond;  /* items queued for this worker (waited on under a->mu) */
	/* items the coordinator collected but has not queued yet (coordinator only): queued
	 * in one go at the transaction's end, so a worker wakes about once per transaction */
	item *pend_head, *pend_tail;
	size_t pend_n, pend_marks, pend_bytes;
	_Atomic uint64_t committed_seq;
	bool in_txn; /* the worker's target transaction is open (worker only) */
	/* checkpoint read at start: items of transactions starting before it are skipped */
	char skip_file[256];
	uint64_t skip_pos;
	uint64_t skip_row; /* ... and rows of the transaction starting there (txn_split.h) */
	uint64_t rows_pending;
	/* coordinator only: statement bytes sent in the current transaction since the last
	 * piece mark, and the row ordinal of that mark (0: none in this transaction) */
	uint64_t piece_bytes;
	uint64_t piece_row;
} worker;

typedef struct window {
	char *db, *table;
	char lo_file[256], hi_file[256];
	uint64_t lo_pos, hi_pos;
	struct window *next;
} window;

typedef struct tbl_info {
	const tidm_schema_table *schema;
	const window *win;
	char *insert_head;
	char *replace_head;
	char *qname; /* `db`.`t` */
	/* grouping: NULL when the table's rows are never grouped (no row key, or other unique
	 * keys a reordering could collide on) */
	char *delete_head; /* "DELETE FROM `d`.`t` WHERE `k` IN (" or "... WHERE (`k1`,`k2`) IN (" */
	char *upsert_tail; /* " ON DUPLICATE KEY UPDATE `c`=VALUES(`c`),..." (NULL: every column is in the key) */
	/* the row key has a column whose values with different bytes may be one key on the
	 * target ('a' and 'A ' for a _ci column; see tidm_schema_keyfold): exact hashes of
	 * the key cannot tell such rows apart */
	bool key_collates;
	/* the routing and conflict hashes fold such columns (key_folds); a unique key made of
	 * opaque columns only would hash every row alike: then every row of the table goes to
	 * one worker (route_table) */
	bool key_folds;
	bool route_table;
	/* foreign keys with ON DELETE/UPDATE CASCADE or SET NULL/DEFAULT on the target: the
	 * source did not log what they changed in other tables, so the target must do it (see
	 * "foreign keys" below). fk_group: hash of the set of tables such keys connect (0:
	 * none); fk_del / fk_upd: this table is the parent of such a key for deletes / updates */
	uint64_t fk_group;
	bool fk_del, fk_upd;
	struct tbl_info *next;
} tbl_info;

typedef struct keyslot {
	uint64_t hash; /* 0 = empty */
	uint64_t seq;
	unsigned worker;
} keyslot;

struct tidm_applier {
	const tidm_job_config *cfg;
	tidm_applier_opts o;
	tidm_conn_opts copts;
	tidm_conn *conn; /* coordinator: DDL, checkpoints */
	tidm_ddl_guard *guard;     /* on conn: the DDL statement in progress (crash safety) */
	tidm_ddl_charset *charset; /* on conn: a DDL's session character set and collations */
	bool savepoints; /* the target has SAVEPOINT (every one but TiDB before 6.2) */
	tidm_schema_cache *schema;
	tidm_seq_sync *seqs; /* MariaDB sequences: their DDL and state rows */
	tbl_info *tables;
	/* the target's cascading foreign keys (child -> parent), read when first needed and
	 * again after each DDL */
	struct fk_edge {
		char *child, *parent; /* "db\x01table" */
		bool del, upd;        /* ON DELETE / ON UPDATE cascades or sets */
		bool joins;           /* it puts child and parent in one group: it cascades, or its
				       * parent is the parent of a key that does (the checks then
				       * see the child's rows) */
		bool warned;
	} *fks;
	size_t n_fks;
	bool fks_loaded;
	worker w[MAX_WORKERS];
	unsigned nworkers;

	pthread_mutex_t mu;
	pthread_cond_t cond; /* queue changes, commits, errors */
	_Atomic int failed;
	int err_code;
	unsigned err_db;
	char err_msg[2048];

	/* transaction state (coordinator only) */
	bool in_txn;
	bool explicit_txn; /* opened by BEGIN / XA START: statements inside do not end it */
	bool txn_safe;     /* safe mode, decided at the transaction's start for all its rows */
	size_t txn_keys;   /* keys first recorded in this transaction (sync_record_keys) */
	bool txn_selected; /* the transaction has rows of selected tables (applied now or by an
			    * earlier run): only such an XA PREPARE is remembered */
	/* the job's start GTID set: a transaction whose GTID is in it is passed over, also when
	 * a resumed stream (by file and position) or the server would send it */
	tidm_gtid_set start_set;
	bool have_start_set;
	bool skip_txn, skip_explicit; /* passing over such a transaction (BEGIN seen) */
	/* XA transactions this run applied at their XA PREPARE, as the binlog names them in
	 * XA COMMIT / XA ROLLBACK ("X'..',X'..',n"); the oldest are dropped beyond XA_SEEN_MAX */
	struct xa_seen {
		char id[300];
		size_t len;
	} xa[16];
	size_t n_xa;
	uint64_t seq; /* of the current or last transaction */
	char txn_file[256];
	uint64_t txn_start;
	uint64_t participants; /* bitmask of workers with items in this transaction */
	int64_t txn_ts;
	uint64_t txn_row;       /* rows of the current transaction seen so far */
	uint64_t max_txn_bytes; /* piece size (0: transactions are never split) */
	bool txn_nosplit;       /* a SAVEPOINT was forwarded: a commit would lose it */
	char cur_file[256];
	uint64_t cur_pos;
	bool skipping; /* some worker still has a checkpoint ahead */
	/* apply-workers changed since the checkpoints were written: their worker count and
	 * positions. A table routed as a whole went to worker (its hash % old_n) then, so its
	 * rows are still skipped exactly (keyless rows cannot be replayed idempotently) */
	unsigned old_n;
	struct old_cp {
		char file[256];
		uint64_t pos, row;
	} old_cp[MAX_WORKERS];

	keyslot *keys;
	size_t nkeys;
	uint64_t *hashbuf; /* the key hashes of the row being routed */
	size_t nhashbuf;
	bool keys_overflow; /* a transaction had more keys than the map holds: flush at its end */

	bool safe_mode_forced;
	time_t safe_until;
	window *windows;
	tidm_buf scratch;
	tidm_buf keybuf;
};

#define GROUPS_MAX 16	      /* open groups of a run */
#define RUN_SLOTS 2048	      /* key slots of a run (a power of two); a run holds at most half */

typedef struct stmt_meta {
	uint8_t check;	  /* CHECK_ROW: a row changed; CHECK_COUNT: n rows; CHECK_UPSERT: 2n */
	bool is_delete;
	bool group;	  /* a statement of several grouped items */
	size_t n;	  /* items in the statement */
	const char *what; /* the (first) row, borrowed from its item */
	size_t end;	  /* where the statement ends in the script's SQL */
} stmt_meta;

typedef struct group {
	uint8_t cls;
	const tbl_info *tbl;
	const void *id; /* GC_INSERT: the INSERT/REPLACE head; else the table */
	bool check;
	bool fkc;
	item *first, *last;
	size_t n;
} group;

typedef struct script {
	item *head, *tail; /* the row items, owned until the script is cleared */
	size_t nitems, ngroupable, bytes;
	/* the statements of one round trip */
	tidm_buf sql;
	stmt_meta *meta;
	uint64_t *affected;
	size_t n, cap;
	const char *last_head; /* head of the INSERT the statements end with, else NULL */
	/* the run being grouped */
	group groups[GROUPS_MAX];
	size_t ngroups, run_n;
	uint32_t gen;
	uint32_t slot_gen[RUN_SLOTS];
	uint64_t slot_key[RUN_SLOTS];
} script;

/* What a QUERY event's statement does to the transaction around it. */
enum {
	Q_OTHER = 0,   /* DDL, DML in statement format, GRANT, ... */
	Q_BEGIN,       /* BEGIN, XA START / XA BEGIN: opens a transaction */
	Q_COMMIT,      /* COMMIT */
	Q_ROLLBACK,    /* ROLLBACK: the transaction is dropped */
	Q_SAVEPOINT,   /* SAVEPOINT, ROLLBACK [WORK] TO [SAVEPOINT] */
	Q_RELEASE,     /* RELEASE SAVEPOINT */
	Q_XA_END,      /* XA END */
	Q_XA_ROLLBACK, /* XA ROLLBACK of a prepared transaction */
	Q_XA_OTHER,    /* XA COMMIT of a prepared transaction, ... */
};

/* ---- shared between the files of the module (each defined in the file named) ---- */

/* apply.c */
int sync_record_failure(struct tidm_applier *a);
int sync_take_failure(struct tidm_applier *a);
bool sync_canceled(const struct tidm_applier *a);
struct timespec sync_deadline_ms(long ms);
void sync_timed_wait(struct tidm_applier *a, pthread_cond_t *cond);
void sync_coord_wait(struct tidm_applier *a);
bool sync_safe_mode(struct tidm_applier *a);
int sync_set_all_checkpoints(struct tidm_applier *a);

/* txn.c */
void sync_txn_split_after_row(struct tidm_applier *a);
void sync_txn_begin(struct tidm_applier *a, const tidm_binlog_event *ev);
int sync_txn_end(struct tidm_applier *a);
int sync_query_kind(const char *sql, size_t len);
int sync_forward_savepoint(struct tidm_applier *a, const tidm_binlog_query *q);
int sync_rollback_txn(struct tidm_applier *a);
void sync_xa_remember(struct tidm_applier *a, const tidm_binlog_xa_prepare *x);
int sync_xa_rollback(struct tidm_applier *a, const tidm_binlog_query *q);
bool sync_start_set_has(const struct tidm_applier *a, const tidm_binlog_event *ev);

/* rowevent.c */
item *sync_new_row_item(void);
void sync_send_item(struct tidm_applier *a, unsigned wid, item *it);
bool sync_already_applied(struct tidm_applier *a, unsigned wid);
int sync_apply_rows_event(struct tidm_applier *a, tidm_binlog_decoder *dec, const tidm_binlog_event *ev);

/* route.c */
const window *sync_find_window(const struct tidm_applier *a, const char *db, const char *table);
int sync_window_side(const struct tidm_applier *a, const window *w);
uint64_t sync_fnv(const void *p, size_t n, uint64_t h);
uint64_t sync_key_hash(const tbl_info *t, const char *key, size_t n);
int sync_wait_committed(struct tidm_applier *a, unsigned wid, uint64_t seq);
void sync_route_in_txn(struct tidm_applier *a, const uint64_t *hashes, size_t n, unsigned *wid);
int sync_claim_keys(struct tidm_applier *a, const uint64_t *hashes, size_t n, unsigned wid);
void sync_record_keys(struct tidm_applier *a, const uint64_t *hashes, size_t n, unsigned wid);
int sync_row_key_hash(struct tidm_applier *a, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols,
		      bool fold, uint64_t *out);
int sync_image_keys(struct tidm_applier *a, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols,
		    uint64_t *out, size_t *n, size_t max);

/* render.c */
int sync_put_tuple(struct tidm_applier *a, tidm_buf *b, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols);
int sync_put_where(struct tidm_applier *a, tidm_buf *b, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols);
int sync_put_key_text(struct tidm_applier *a, tidm_buf *b, const tbl_info *t, const tidm_binlog_value *img,
		      unsigned ncols, const size_t *cols, size_t n, bool fold);
char *sync_describe_row(struct tidm_applier *a, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols);
int sync_put_update(struct tidm_applier *a, tidm_buf *b, const tbl_info *t, const tidm_binlog_row *row);

/* tables.c */
void sync_tbl_info_free_all(struct tidm_applier *a);
void sync_fks_free(struct tidm_applier *a);
int sync_get_table(struct tidm_applier *a, const char *db, const char *name, tbl_info **out);
bool sync_ddl_selected(const char *db, const char *table, void *payload);

/* worker.c */
void sync_item_free(item *it);
void sync_push(struct tidm_applier *a, worker *w, item *it);
item *sync_new_mark(struct tidm_applier *a, bool force);
void sync_commit_tail(worker *w, script *sc, const item *mark);
void *sync_worker_main(void *arg);

/* group.c */
void sync_script_clear(script *sc);
void sync_script_dispose(script *sc);
void sync_script_push(script *sc, item *it);
void sync_script_add_raw(script *sc, const char *sql, size_t len);
int sync_script_exec(worker *w, script *sc, const item *mark);

/* ddl_apply.c */
int sync_apply_query(struct tidm_applier *a, const tidm_binlog_event *ev);

/* osc.c */
int sync_osc_record(struct tidm_applier *a, const tidm_binlog_event *ev, const tidm_ddl *d);
const tidm_ddl_obj *sync_osc_swap(struct tidm_applier *a, const tidm_ddl *d);
int sync_osc_statements(struct tidm_applier *a, const tidm_ddl_obj *t, const tidm_ddl_opts *dopts, tidm_buf *out);
int sync_osc_forget(struct tidm_applier *a, const char *db, const char *t);

#endif
