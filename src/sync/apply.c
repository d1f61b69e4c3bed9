/*
 * apply.c - the incremental applier (see apply.h).
 *
 * DESIGN
 *  Coordinator (the caller's thread): tracks transactions (GTID / BEGIN ... XID / COMMIT),
 *  turns each row of a rows event into one item - an INSERT tuple, or a whole UPDATE or
 *  DELETE statement - and routes it to a worker queue:
 *    worker = hash(db, table, key values) % workers      (keyless tables: hash(db, table))
 *  Every key an item touches (old and new primary key, old and new values of the other
 *  unique keys) is remembered with the worker and transaction sequence number. A later
 *  transaction whose item touches a key held by another worker first waits until that
 *  worker has committed the holding transaction; inside one transaction such an item goes
 *  to the worker already holding the key. Both rules keep the routing a function of the
 *  transaction's own content, which the exactly-once replay below relies on.
 *  At a transaction end, each worker that received items gets a mark (sequence number,
 *  binlog position after the transaction).
 *
 *  Workers: own one target connection each. Items are applied inside an open target
 *  transaction, grouped: changes of one kind to different rows of a table become one
 *  statement (multi-row INSERT/REPLACE, DELETE ... IN, INSERT ... ON DUPLICATE KEY UPDATE),
 *  verified by the target's counts and undone to a savepoint and run row by row when a
 *  count is off (see "grouping" below). At a mark, when `batch` items have accumulated or
 *  the queue is empty, the worker writes its checkpoint row and commits: rows and
 *  checkpoint are one transaction.
 *
 *  Restart: the stream starts at the lowest worker checkpoint; an item is skipped when the
 *  transaction it belongs to started before the checkpoint of the worker it routes to.
 *
 *  Big transactions (spec.max-txn-bytes, see txn_split.h): past that many statement bytes
 *  sent to a worker inside one transaction, the worker gets a piece mark and commits its
 *  part so far, its checkpoint naming the transaction's start and the rows numbered
 *  before the mark; a restart skips those rows exactly.
 *
 *  DDL: flush (every worker commits at the current boundary), run the statement on the
 *  coordinator's connection, record the position after it for every worker.
 *
 *  Values: written as literals the target parses back to the same value: integers and
 *  decimals as text, FLOAT with 9 and DOUBLE with 17 significant digits, temporal values
 *  as quoted text (TIMESTAMP converted from epoch seconds to UTC; sessions use +00:00),
 *  strings and blobs as hex with the target column's character set introducer (so they
 *  compare under the column's collation and keys use their index), JSON as its text,
 *  BIT/ENUM/SET as their numbers, GEOMETRY as the server's internal bytes.
 */
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
#define QUEUE_MAX 4096 /* items queued per worker before the coordinator waits */
#define QUEUE_BYTES_MAX (16u << 20) /* ... or bytes of statement text (wide rows) */
#define PEND_BYTES_MAX (1u << 20)   /* collected bytes that are queued at once */
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

/* ---- positions ---------------------------------------------------------------------- */

int tidm_sync_pos_cmp(const char *fa, uint64_t pa, const char *fb, uint64_t pb)
{
	size_t la = strlen(fa), lb = strlen(fb);
	int c;

	if (la != lb && la && lb)
		return la < lb ? -1 : 1;
	c = strcmp(fa, fb);
	if (c)
		return c < 0 ? -1 : 1;
	return pa < pb ? -1 : pa > pb;
}

/* ---- errors shared between threads ------------------------------------------------------ */

static int record_failure(struct tidm_applier *a)
{
	pthread_mutex_lock(&a->mu);
	if (!a->err_code) {
		a->err_code = tidm_err_code() ? tidm_err_code() : TIDM_ERROR;
		a->err_db = tidm_err_dberr();
		snprintf(a->err_msg, sizeof(a->err_msg), "%s", tidm_err_msg());
	}
	atomic_store(&a->failed, 1);
	pthread_cond_broadcast(&a->cond);
	for (unsigned i = 0; i < a->nworkers; i++)
		pthread_cond_broadcast(&a->w[i].cond);
	pthread_mutex_unlock(&a->mu);
	return a->err_code;
}

static int take_failure(struct tidm_applier *a)
{
	return tidm_err_set_db(a->err_code ? a->err_code : TIDM_ERROR, a->err_db, "%s", a->err_msg);
}

/* The coordinator's waits poll the user's cancel flag (a signal cannot wake a condvar). */
static bool canceled(const struct tidm_applier *a)
{
	return a->o.cancel && *a->o.cancel;
}

/* The CLOCK_REALTIME deadline `ms` milliseconds from now (ms < 1000), for pthread_cond_timedwait. */
static struct timespec deadline_ms(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += ms * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static void timed_wait(struct tidm_applier *a, pthread_cond_t *cond)
{
	struct timespec ts = deadline_ms(200);

	pthread_cond_timedwait(cond, &a->mu, &ts);
}

static void coord_wait(struct tidm_applier *a)
{
	timed_wait(a, &a->cond);
}

static bool safe_mode(struct tidm_applier *a)
{
	bool on = a->safe_mode_forced || time(NULL) < a->safe_until;
	if (a->o.progress)
		atomic_store(&a->o.progress->safe_mode, on);
	return on;
}

/* ---- values as SQL literals ------------------------------------------------------------ */

static void put_hex_with_charset(tidm_buf *b, const uint8_t *p, size_t n, const char *charset)
{
	if (charset && *charset && strcmp(charset, "binary") != 0) {
		tidm_buf_putc(b, '_');
		tidm_buf_puts(b, charset);
		tidm_buf_putc(b, ' ');
	}
	tidm_quote_hex(b, p, n);
}

static void put_datetime(tidm_buf *b, const tidm_binlog_time *t, unsigned fsp, bool with_date, bool with_time)
{
	char tmp[64];
	int n = 0;

	if (with_date)
		n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "%04d-%02u-%02u", (int)t->year, t->month, t->day);
	if (with_time) {
		if (with_date)
			tmp[n++] = ' ';
		n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "%s%02u:%02u:%02u", t->neg ? "-" : "", t->hour,
			      t->minute, t->second);
		if (fsp)
			n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, ".%06u", t->usec);
	}
	tidm_buf_putc(b, '\'');
	tidm_buf_put(b, tmp, (size_t)n);
	tidm_buf_putc(b, '\'');
}

static int put_value(struct tidm_applier *a, tidm_buf *b, const tidm_binlog_value *v, const tidm_schema_col *col)
{
	char tmp[64];
	int rc;

	switch (v->kind) {
	case TIDM_BV_NULL:
		tidm_buf_puts(b, "NULL");
		return 0;
	case TIDM_BV_INT:
		if (col->is_unsigned && v->v.i < 0) {
			/* the binlog did not say the column is unsigned: the bits are the value */
			uint64_t u = (uint64_t)v->v.i;
			switch (v->type) {
			case TIDM_COL_TINY: u &= 0xffu; break;
			case TIDM_COL_SHORT: u &= 0xffffu; break;
			case TIDM_COL_INT24: u &= 0xffffffu; break;
			case TIDM_COL_LONG: u &= 0xffffffffu; break;
			default: break;
			}
			tidm_buf_put_u64(b, u);
			return 0;
		}
		tidm_buf_put_i64(b, v->v.i);
		return 0;
	case TIDM_BV_YEAR:
		tidm_buf_put_i64(b, v->v.i);
		return 0;
	case TIDM_BV_UINT:
	case TIDM_BV_BIT:
	case TIDM_BV_ENUM:
	case TIDM_BV_SET:
		tidm_buf_put_u64(b, v->v.u);
		return 0;
	case TIDM_BV_FLOAT:
	case TIDM_BV_DOUBLE:
		if (!isfinite(v->v.d))
			return tidm_err_set(TIDM_ECORRUPT, "non-finite floating point value in column `%s`", col->name);
		snprintf(tmp, sizeof(tmp), v->kind == TIDM_BV_FLOAT ? "%.9g" : "%.17g", v->v.d);
		tidm_buf_puts(b, tmp);
		return 0;
	case TIDM_BV_DECIMAL:
		return tidm_binlog_value_decimal_text(b, v);
	case TIDM_BV_STRING:
		if (col->binary_len > v->len && col->binary_len <= 255) {
			/* BINARY(n): the binlog drops trailing zero bytes; keys compare with them */
			uint8_t padded[255];
			memcpy(padded, v->v.bytes, v->len);
			memset(padded + v->len, 0, col->binary_len - v->len);
			tidm_quote_hex(b, padded, col->binary_len);
			return 0;
		}
		put_hex_with_charset(b, v->v.bytes, v->len, col->charset);
		return 0;
	case TIDM_BV_BLOB:
		put_hex_with_charset(b, v->v.bytes, v->len, col->charset);
		return 0;
	case TIDM_BV_GEOMETRY:
	case TIDM_BV_VECTOR:
		tidm_quote_hex(b, v->v.bytes, v->len);
		return 0;
	case TIDM_BV_DATE:
		put_datetime(b, &v->v.t, 0, true, false);
		return 0;
	case TIDM_BV_TIME:
		put_datetime(b, &v->v.t, v->fsp, false, true);
		return 0;
	case TIDM_BV_DATETIME:
		put_datetime(b, &v->v.t, v->fsp, true, true);
		return 0;
	case TIDM_BV_TIMESTAMP: {
		tidm_binlog_time t;
		memset(&t, 0, sizeof(t));
		if (v->v.ts.sec != 0 || v->v.ts.usec != 0) {
			time_t s = (time_t)v->v.ts.sec;
			struct tm tm;
			gmtime_r(&s, &tm);
			t.year = tm.tm_year + 1900;
			t.month = (uint8_t)(tm.tm_mon + 1);
			t.day = (uint8_t)tm.tm_mday;
			t.hour = (uint16_t)tm.tm_hour;
			t.minute = (uint8_t)tm.tm_min;
			t.second = (uint8_t)tm.tm_sec;
			t.usec = v->v.ts.usec;
		}
		put_datetime(b, &t, v->fsp, true, true);
		return 0;
	}
	case TIDM_BV_JSON: {
		size_t at;
		tidm_buf_clear(&a->scratch);
		if ((rc = tidm_binlog_value_json_text(&a->scratch, v)) < 0)
			return rc;
		at = b->len;
		(void)at;
		tidm_quote_string(b, a->scratch.data ? a->scratch.data : "null", a->scratch.len ? a->scratch.len : 4);
		return 0;
	}
	case TIDM_BV_JSON_TEXT:
		tidm_quote_string(b, (const char *)v->v.bytes, v->len);
		return 0;
	case TIDM_BV_JSON_DIFF:
		return tidm_err_set(TIDM_EUNSUPPORTED,
				    "column `%s`: a partial JSON update without the before image (binlog_row_image=MINIMAL "
				    "with binlog_row_value_options=PARTIAL_JSON) cannot be applied; set binlog_row_image=FULL",
				    col->name);
	case TIDM_BV_ABSENT:
	default:
		return tidm_err_set(TIDM_EUNSUPPORTED, "column `%s`: value of kind %u cannot be written", col->name,
				    (unsigned)v->kind);
	}
}

/* ---- snapshot windows of the full phase ----------------------------------------------------------- */

static const window *find_window(const struct tidm_applier *a, const char *db, const char *table)
{
	const window *w;
	for (w = a->windows; w; w = w->next)
		if (!strcmp(w->db, db) && !strcmp(w->table, table))
			return w;
	return NULL;
}

void tidm_applier_add_window(tidm_applier *a, const char *db, const char *table, const char *lo_file, uint64_t lo_pos,
			     const char *hi_file, uint64_t hi_pos)
{
	window *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	w->db = strdup(db);
	w->table = strdup(table);
	if (!w->db || !w->table)
		abort();
	snprintf(w->lo_file, sizeof(w->lo_file), "%s", lo_file);
	snprintf(w->hi_file, sizeof(w->hi_file), "%s", hi_file);
	w->lo_pos = lo_pos;
	w->hi_pos = hi_pos;
	w->next = a->windows;
	a->windows = w;
}

/* -1: the transaction is before the table's window (skip), 1: inside (safe mode), 0: after. */
static int window_side(const struct tidm_applier *a, const window *w)
{
	if (!w)
		return 0;
	if (tidm_sync_pos_cmp(a->txn_file, a->txn_start, w->lo_file, w->lo_pos) < 0)
		return -1;
	if (tidm_sync_pos_cmp(a->txn_file, a->txn_start, w->hi_file, w->hi_pos) < 0)
		return 1;
	return 0;
}

/* ---- table info ---------------------------------------------------------------------------- */

static void tbl_info_free(tbl_info *t)
{
	free(t->insert_head);
	free(t->replace_head);
	free(t->delete_head);
	free(t->upsert_tail);
	free(t->qname);
	free(t);
}

static void tbl_info_free_all(struct tidm_applier *a)
{
	while (a->tables) {
		tbl_info *t = a->tables;
		a->tables = t->next;
		tbl_info_free(t);
	}
}

/*
 * Foreign keys. The source logs a parent's DELETE or UPDATE, not the changes its cascading
 * foreign keys made to the child rows (InnoDB makes them below the binlog), and tidm's
 * target sessions run with foreign_key_checks = 0. So a DELETE or UPDATE of a parent row
 * runs with foreign_key_checks = 1, and the target's own keys cascade it, on the child rows
 * as they are at that point of the stream: every table such keys connect is applied by one
 * worker, in binlog order. Only plain DELETE and UPDATE statements cascade; the REPLACE of
 * safe mode runs with the checks off (a REPLACE deletes the row first, which would cascade).
 */
static uint64_t fnv(const void *p, size_t n, uint64_t h);

static void fks_free(struct tidm_applier *a)
{
	size_t i;
	for (i = 0; i < a->n_fks; i++) {
		free(a->fks[i].child);
		free(a->fks[i].parent);
	}
	free(a->fks);
	a->fks = NULL;
	a->n_fks = 0;
	a->fks_loaded = false;
}

static char *fk_name(const char *db, const char *table)
{
	size_t n = strlen(db), m = strlen(table);
	char *r = malloc(n + m + 2);
	if (!r)
		abort();
	memcpy(r, db, n);
	r[n] = '\x01';
	memcpy(r + n + 1, table, m + 1);
	return r;
}

static bool ddl_selected(const char *db, const char *table, void *payload);

static bool ddl_selected_n(struct tidm_applier *a, const char *db, size_t dblen, const char *table)
{
	char d[256];
	snprintf(d, sizeof(d), "%.*s", (int)(dblen < 255 ? dblen : 255), db);
	return ddl_selected(d, table, a);
}

static int fks_load(struct tidm_applier *a)
{
	tidm_res *res = NULL;
	int rc;

	if (a->fks_loaded)
		return 0;
	rc = tidm_conn_query(a->conn, &res,
			     "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME, "
			     "DELETE_RULE IN ('CASCADE', 'SET NULL', 'SET DEFAULT'), "
			     "UPDATE_RULE IN ('CASCADE', 'SET NULL', 'SET DEFAULT') "
			     "FROM information_schema.REFERENTIAL_CONSTRAINTS");
	if (rc < 0) {
		if (tidm_err_dberr() == 0)
			return rc; /* the connection failed */
		/* a target without the view (or without foreign keys): nothing cascades */
		tidm_err_clear();
		a->fks_loaded = true;
		return 0;
	}
	a->fks = calloc(tidm_res_rows(res) + 1, sizeof(*a->fks));
	if (!a->fks)
		abort();
	while (tidm_res_next(res) == 1) {
		struct fk_edge *e = &a->fks[a->n_fks];
		const char *cd = tidm_res_get(res, 0), *ct = tidm_res_get(res, 1), *pd = tidm_res_get(res, 2),
			   *pt = tidm_res_get(res, 3);
		if (!cd || !ct || !pd || !pt)
			continue;
		e->child = fk_name(cd, ct);
		e->parent = fk_name(pd, pt);
		e->del = tidm_res_get(res, 4) && !strcmp(tidm_res_get(res, 4), "1");
		e->upd = tidm_res_get(res, 5) && !strcmp(tidm_res_get(res, 5), "1");
		a->n_fks++;
	}
	tidm_res_free(res);
	for (size_t i = 0; i < a->n_fks; i++) {
		a->fks[i].joins = a->fks[i].del || a->fks[i].upd;
		for (size_t j = 0; j < a->n_fks && !a->fks[i].joins; j++)
			if ((a->fks[j].del || a->fks[j].upd) && !strcmp(a->fks[j].parent, a->fks[i].parent))
				a->fks[i].joins = true;
	}
	a->fks_loaded = true;
	return 0;
}

/* The table's place among the cascading keys: its group (the smallest name of the tables
 * the keys connect it to, hashed) and whether it is a parent. */
static void fk_place(struct tidm_applier *a, tbl_info *t)
{
	char *me, **set = NULL, *least;
	size_t n = 0, cap = 0, i, j;
	bool grew = true, self = false;

	if (!a->n_fks)
		return;
	me = fk_name(t->schema->db, t->schema->name);
	for (i = 0; i < a->n_fks; i++) {
		if (!strcmp(a->fks[i].parent, me)) {
			t->fk_del |= a->fks[i].del;
			t->fk_upd |= a->fks[i].upd;
		}
		if (!strcmp(a->fks[i].child, me) && (a->fks[i].del || a->fks[i].upd) && !a->fks[i].warned) {
			const char *sep = strchr(a->fks[i].parent, '\x01');
			if (sep && !ddl_selected_n(a, a->fks[i].parent, (size_t)(sep - a->fks[i].parent), sep + 1)) {
				tidm_warn("`%s`.`%s`: its foreign key to `%.*s`.`%s` cascades, but that table is not "
					  "in the job's selection: rows the source's cascade changes here are not "
					  "replicated",
					  t->schema->db, t->schema->name, (int)(sep - a->fks[i].parent), a->fks[i].parent,
					  sep + 1);
				a->fks[i].warned = true;
			}
		}
	}
	/* the connected tables: a fixed point over the edges (few, in practice) */
	set = malloc(sizeof(*set));
	if (!set)
		abort();
	set[n++] = me;
	cap = 1;
	while (grew) {
		grew = false;
		for (i = 0; i < a->n_fks; i++) {
			bool c = false, p = false;
			if (!a->fks[i].joins)
				continue;
			for (j = 0; j < n; j++) {
				c |= !strcmp(set[j], a->fks[i].child);
				p |= !strcmp(set[j], a->fks[i].parent);
			}
			if (c == p)
				continue;
			if (n == cap) {
				cap *= 2;
				set = realloc(set, cap * sizeof(*set));
				if (!set)
					abort();
			}
			set[n++] = c ? a->fks[i].parent : a->fks[i].child;
			grew = true;
		}
	}
	for (i = 0; i < a->n_fks && n == 1 && !self; i++)
		if (a->fks[i].joins && !strcmp(a->fks[i].child, me) && !strcmp(a->fks[i].parent, me))
			self = true; /* a table whose cascading key points at itself: its own group */
	if (n > 1 || self) {
		least = set[0];
		for (j = 1; j < n; j++)
			if (strcmp(set[j], least) < 0)
				least = set[j];
		t->fk_group = fnv(least, strlen(least), 14695981039346656037ull) | 1;
	}
	free(set);
	free(me);
}

static bool all_opaque(const tidm_schema_table *s, const size_t *cols, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (s->cols[cols[i]].keyfold != TIDM_KEYFOLD_OPAQUE)
			return false;
	return true;
}

static int get_table(struct tidm_applier *a, const char *db, const char *name, tbl_info **out)
{
	const tidm_schema_table *s;
	tbl_info *t;
	tidm_buf b = TIDM_BUF_INIT, cols = TIDM_BUF_INIT;
	size_t i;
	bool first = true;
	int rc;

	for (t = a->tables; t; t = t->next)
		if (!strcmp(t->schema->db, db) && !strcmp(t->schema->name, name)) {
			*out = t;
			return 0;
		}
	if ((rc = tidm_schema_get(a->schema, a->conn, db, name, &s)) < 0)
		return rc;
	t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	t->schema = s;
	t->win = find_window(a, db, name);
	tidm_quote_qualified(&b, db, name);
	t->qname = tidm_buf_detach(&b);
	tidm_buf_putc(&cols, '(');
	for (i = 0; i < s->ncols; i++) {
		if (s->cols[i].generated)
			continue;
		if (!first)
			tidm_buf_putc(&cols, ',');
		tidm_quote_ident(&cols, s->cols[i].name);
		first = false;
	}
	tidm_buf_puts(&cols, ") VALUES ");
	tidm_buf_printf(&b, "INSERT INTO %s %s", t->qname, cols.data);
	t->insert_head = tidm_buf_detach(&b);
	tidm_buf_printf(&b, "REPLACE INTO %s %s", t->qname, cols.data);
	t->replace_head = tidm_buf_detach(&b);
	tidm_buf_dispose(&cols);
	if (s->nkey && !s->nuniques) {
		/* the row key is the only unique key: rows with different keys never collide, so
		 * their changes may be reordered into groups (the worker keeps same-key order) */
		tidm_buf_printf(&b, "DELETE FROM %s WHERE %s", t->qname, s->nkey > 1 ? "(" : "");
		for (i = 0; i < s->nkey; i++) {
			if (i)
				tidm_buf_putc(&b, ',');
			tidm_quote_ident(&b, s->cols[s->key[i]].name);
		}
		tidm_buf_puts(&b, s->nkey > 1 ? ") IN (" : " IN (");
		t->delete_head = tidm_buf_detach(&b);
		first = true;
		for (i = 0; i < s->ncols; i++) {
			if (s->cols[i].generated || s->cols[i].in_key)
				continue;
			tidm_buf_puts(&b, first ? " ON DUPLICATE KEY UPDATE " : ",");
			tidm_quote_ident(&b, s->cols[i].name);
			tidm_buf_puts(&b, "=VALUES(");
			tidm_quote_ident(&b, s->cols[i].name);
			tidm_buf_putc(&b, ')');
			first = false;
		}
		t->upsert_tail = first ? NULL : tidm_buf_detach(&b);
	}
	for (i = 0; i < s->nkey; i++)
		if (s->cols[s->key[i]].keyfold != TIDM_KEYFOLD_EXACT)
			t->key_collates = t->key_folds = true;
	t->route_table = s->nkey && all_opaque(s, s->key, s->nkey);
	for (i = 0; i < s->nuniques; i++) {
		size_t j;
		for (j = 0; j < s->nuniq[i]; j++)
			if (s->cols[s->uniques[i][j]].keyfold != TIDM_KEYFOLD_EXACT)
				t->key_folds = true;
		if (all_opaque(s, s->uniques[i], s->nuniq[i]))
			t->route_table = true;
	}
	if ((rc = fks_load(a)) < 0) {
		tbl_info_free(t);
		return rc;
	}
	fk_place(a, t);
	t->next = a->tables;
	a->tables = t;
	*out = t;
	return 0;
}

/* ---- worker queues ------------------------------------------------------------------------- */

static void item_free(item *it)
{
	if (!it)
		return;
	free(it->text);
	free(it->gtext);
	free(it->what);
	free(it);
}

/* Queue the worker's collected items (coordinator). */
static void push_pending(struct tidm_applier *a, worker *w)
{
	if (!w->pend_head)
		return;
	pthread_mutex_lock(&a->mu);
	/* bounded queue: wait while the worker is far behind */
	while ((w->queued >= QUEUE_MAX || (w->queued && w->queued_bytes >= QUEUE_BYTES_MAX)) &&
	       !atomic_load(&a->failed) && !canceled(a))
		coord_wait(a);
	if (w->tail)
		w->tail->next = w->pend_head;
	else
		w->head = w->pend_head;
	w->tail = w->pend_tail;
	w->queued += w->pend_n;
	w->queued_bytes += w->pend_bytes;
	w->marks_queued += w->pend_marks;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&a->mu);
	w->pend_head = w->pend_tail = NULL;
	w->pend_n = w->pend_marks = w->pend_bytes = 0;
}

/* Collect one item for a worker; big transactions are queued in slices of 256 items or
 * PEND_BYTES_MAX. */
static void push(struct tidm_applier *a, worker *w, item *it)
{
	it->next = NULL;
	if (w->pend_tail)
		w->pend_tail->next = it;
	else
		w->pend_head = it;
	w->pend_tail = it;
	w->pend_n++;
	w->pend_bytes += it->len + it->glen;
	if (it->kind == ITEM_MARK)
		w->pend_marks++;
	if (it->kind != ITEM_ROW || w->pend_n >= 256 || w->pend_bytes >= PEND_BYTES_MAX)
		push_pending(a, w);
}

static item *new_mark(struct tidm_applier *a, bool force)
{
	item *m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	m->kind = ITEM_MARK;
	m->seq = a->seq;
	snprintf(m->file, sizeof(m->file), "%s", a->cur_file);
	m->pos = a->cur_pos;
	m->force = force;
	m->ts = a->txn_ts;
	return m;
}

/* ---- worker ------------------------------------------------------------------------------------ */

/*
 * A worker's script: the row items collected since its last round trip, turned into
 * statements when it runs. Per statement the worker remembers what the target must report
 * and how to name the row in a message.
 *
 * Grouping. On a table whose only unique key is the row key, changes to different rows
 * neither touch the same row nor collide, so their order does not matter (foreign key
 * checks are off on the target). A run of items whose row keys are all different becomes
 * one statement per table and kind: a multi-row INSERT or REPLACE, `DELETE ... WHERE key IN
 * (...)`, and for UPDATEs that keep the row key `INSERT ... ON DUPLICATE KEY UPDATE`. An
 * item whose key is already in the run, or that cannot be grouped, ends the run; items of
 * one group keep their order. The target's counts verify each group: a DELETE of n keys
 * must remove n rows, an upsert of n rows must report 2n (every row existed and changed; a
 * missing row would be inserted and count 1, an unchanged one 1). On any other count, or
 * an error inside a group, the worker rolls back to a savepoint taken before the groups
 * and runs the same items one statement each, which verifies every row and names the one
 * at fault: grouping changes how many statements the target parses, never what is applied
 * or reported.
 */
enum { CHECK_NONE = 0, CHECK_ROW, CHECK_COUNT, CHECK_UPSERT };

#define SCRIPT_ITEMS_MAX 1024 /* row items per round trip */
#define GROUPS_MAX 16	      /* open groups of a run */
#define RUN_SLOTS 2048	      /* key slots of a run (a power of two); a run holds at most half */
#define SAVEPOINT_SQL "SAVEPOINT `tidm_group`"
#define UNDO_SQL "ROLLBACK TO SAVEPOINT `tidm_group`"

typedef struct stmt_meta {
	uint8_t check;	  /* CHECK_ROW: a row changed; CHECK_COUNT: n rows; CHECK_UPSERT: 2n */
	bool is_delete;
	bool group;	  /* a statement of several grouped items */
	size_t n;	  /* items in the statement */
	const char *what; /* the (first) row, borrowed from its item */
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

static void script_meta_push(script *sc, uint8_t check, bool is_delete, bool grp, size_t n, const char *what)
{
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 64;
		sc->meta = realloc(sc->meta, sc->cap * sizeof(*sc->meta));
		sc->affected = realloc(sc->affected, sc->cap * sizeof(*sc->affected));
		if (!sc->meta || !sc->affected)
			abort();
	}
	sc->meta[sc->n] = (stmt_meta){.check = check, .is_delete = is_delete, .group = grp, .n = n, .what = what};
	sc->n++;
}

/* Forget the statements (the items stay). */
static void script_reset_sql(script *sc)
{
	sc->n = 0;
	sc->last_head = NULL;
	tidm_buf_clear(&sc->sql);
}

static void script_clear(script *sc)
{
	while (sc->head) {
		item *it = sc->head;
		sc->head = it->next;
		item_free(it);
	}
	sc->tail = NULL;
	sc->nitems = sc->ngroupable = sc->bytes = 0;
	script_reset_sql(sc);
}

static void script_dispose(script *sc)
{
	script_clear(sc);
	free(sc->meta);
	free(sc->affected);
	tidm_buf_dispose(&sc->sql);
}

/* Take a row item. */
static void script_push(script *sc, item *it)
{
	it->next = NULL;
	if (sc->tail)
		sc->tail->next = it;
	else
		sc->head = it;
	sc->tail = it;
	sc->nitems++;
	sc->bytes += it->len + it->glen + 1;
	if (it->cls != GC_NONE)
		sc->ngroupable++;
}

static void stmt_sep(script *sc)
{
	if (sc->n)
		tidm_buf_putc(&sc->sql, ';');
}

/* A statement of our own (BEGIN, SAVEPOINT, the checkpoint, COMMIT): nothing to check. */
static void script_add_raw(script *sc, const char *sql, size_t len)
{
	stmt_sep(sc);
	tidm_buf_put(&sc->sql, sql, len);
	sc->last_head = NULL;
	script_meta_push(sc, CHECK_NONE, false, false, 0, NULL);
}

#define FKC_ON "SET SESSION foreign_key_checks = 1"
#define FKC_OFF "SET SESSION foreign_key_checks = 0"

static void emit_stmt(script *sc, const item *it);

/* One item as its own statement (between the foreign-key switches when it cascades); an
 * INSERT tuple extends the INSERT right before it. */
static void emit_row(script *sc, const item *it)
{
	if (!it->fkc) {
		emit_stmt(sc, it);
		return;
	}
	script_add_raw(sc, FKC_ON, strlen(FKC_ON));
	emit_stmt(sc, it);
	script_add_raw(sc, FKC_OFF, strlen(FKC_OFF));
}

static void emit_stmt(script *sc, const item *it)
{
	if (it->op == OP_INSERT && sc->n && sc->last_head == it->head) {
		tidm_buf_putc(&sc->sql, ',');
		tidm_buf_put(&sc->sql, it->text, it->len);
		sc->meta[sc->n - 1].n++;
		return;
	}
	stmt_sep(sc);
	if (it->op == OP_INSERT) {
		tidm_buf_puts(&sc->sql, it->head);
		sc->last_head = it->head;
	} else {
		sc->last_head = NULL;
	}
	tidm_buf_put(&sc->sql, it->text, it->len);
	script_meta_push(sc, it->check_affected ? CHECK_ROW : CHECK_NONE,
			 it->op == OP_STMT && !strncmp(it->text, "DELETE", 6), false, 1, it->what);
}

static void emit_group(script *sc, const group *g)
{
	const item *it;
	const char *tail = "";
	uint8_t check = CHECK_NONE;

	if (g->n == 1) {
		emit_row(sc, g->first);
		return;
	}
	if (g->fkc)
		script_add_raw(sc, FKC_ON, strlen(FKC_ON));
	stmt_sep(sc);
	sc->last_head = NULL;
	switch (g->cls) {
	case GC_INSERT:
		tidm_buf_puts(&sc->sql, g->first->head);
		break;
	case GC_DELETE:
		tidm_buf_puts(&sc->sql, g->first->tbl->delete_head);
		tail = ")";
		check = g->check ? CHECK_COUNT : CHECK_NONE;
		break;
	default: /* GC_UPSERT */
		tidm_buf_puts(&sc->sql, g->first->tbl->insert_head);
		tail = g->first->tbl->upsert_tail;
		check = CHECK_UPSERT;
		break;
	}
	for (it = g->first; it; it = it->gnext) {
		if (it != g->first)
			tidm_buf_putc(&sc->sql, ',');
		if (g->cls == GC_INSERT)
			tidm_buf_put(&sc->sql, it->text, it->len);
		else
			tidm_buf_put(&sc->sql, it->gtext, it->glen);
	}
	tidm_buf_puts(&sc->sql, tail);
	script_meta_push(sc, check, g->cls == GC_DELETE, true, g->n, g->first->what);
	if (g->fkc)
		script_add_raw(sc, FKC_OFF, strlen(FKC_OFF));
}

/* Emit the run's groups, in the order they opened, and start an empty run. */
static void run_flush(script *sc)
{
	size_t i;

	for (i = 0; i < sc->ngroups; i++)
		emit_group(sc, &sc->groups[i]);
	sc->ngroups = 0;
	sc->run_n = 0;
	if (++sc->gen == 0) { /* wrapped: every slot must read as free */
		memset(sc->slot_gen, 0, sizeof(sc->slot_gen));
		sc->gen = 1;
	}
}

/* Add a row key to the run: false when it was there already. */
static bool run_add_key(script *sc, uint64_t key)
{
	size_t i = (size_t)key & (RUN_SLOTS - 1);

	for (;;) {
		if (sc->slot_gen[i] != sc->gen) {
			sc->slot_gen[i] = sc->gen;
			sc->slot_key[i] = key;
			sc->run_n++;
			return true;
		}
		if (sc->slot_key[i] == key)
			return false;
		i = (i + 1) & (RUN_SLOTS - 1);
	}
}

static bool run_has_table(const script *sc, const tbl_info *t)
{
	size_t i;
	for (i = 0; i < sc->ngroups; i++)
		if (sc->groups[i].tbl == t)
			return true;
	return false;
}

static void run_add(script *sc, item *it)
{
	const void *id = it->cls == GC_INSERT ? (const void *)it->head : (const void *)it->tbl;
	group *g = NULL;
	size_t i;

	for (;;) {
		if (sc->run_n >= RUN_SLOTS / 2)
			run_flush(sc);
		if (!run_add_key(sc, it->rowkey)) {
			run_flush(sc); /* the row is in the run already: its changes stay in order */
			continue;
		}
		for (i = 0; i < sc->ngroups && !g; i++)
			if (sc->groups[i].cls == it->cls && sc->groups[i].id == id && sc->groups[i].check == it->check_affected &&
			    sc->groups[i].fkc == it->fkc)
				g = &sc->groups[i];
		if (!g && sc->ngroups == GROUPS_MAX) {
			run_flush(sc);
			continue;
		}
		if (!g && it->tbl->key_collates && run_has_table(sc, it->tbl)) {
			/* keys that differ in bytes may still be one row: a table whose key collates
			 * has one kind of change per run, applied in order inside its statement */
			run_flush(sc);
			continue;
		}
		break;
	}
	if (!g) {
		g = &sc->groups[sc->ngroups++];
		*g = (group){.cls = it->cls, .tbl = it->tbl, .id = id, .check = it->check_affected, .fkc = it->fkc};
	}
	it->gnext = NULL;
	if (g->last)
		g->last->gnext = it;
	else
		g->first = it;
	g->last = it;
	g->n++;
}

/* The statements for the items: grouped, or one per item. */
static void script_build(script *sc, bool grouped)
{
	item *it;

	if (!grouped) {
		for (it = sc->head; it; it = it->next)
			emit_row(sc, it);
		return;
	}
	if (!sc->gen)
		sc->gen = 1;
	for (it = sc->head; it; it = it->next) {
		if (it->cls == GC_NONE) {
			run_flush(sc);
			emit_row(sc, it);
		} else {
			run_add(sc, it);
		}
	}
	run_flush(sc);
}

/* The worker's checkpoint statement for a boundary, appended to its script. */
static void worker_checkpoint(worker *w, const item *mark, script *sc)
{
	struct tidm_applier *a = w->a;
	tidm_buf q = TIDM_BUF_INIT;

	tidm_buf_puts(&q, "UPDATE `" META_DB "`.`sync_workers` SET `file` = ");
	tidm_quote_string(&q, mark->file, strlen(mark->file));
	tidm_buf_printf(&q, ", `pos` = %" PRIu64 ", `txn_row` = %" PRIu64 ", `nworkers` = %u WHERE `job` = ", mark->pos,
			mark->piece ? mark->row : 0, a->nworkers);
	tidm_quote_string(&q, a->cfg->name, strlen(a->cfg->name));
	tidm_buf_printf(&q, " AND `worker` = %u", w->id);
	script_add_raw(sc, q.data, q.len);
	tidm_buf_dispose(&q);
}

static void commit_tail(worker *w, script *sc, const item *mark)
{
	worker_checkpoint(w, mark, sc);
	script_add_raw(sc, "COMMIT", 6);
}

/*
 * One round trip of the built statements, then their counts. Returns 0, < 0 on an error
 * (prefixed with the row it concerns), or 1 when a group must be undone and its items run
 * one by one (a group's count is off, or a group statement failed).
 */
static int script_send(worker *w, script *sc)
{
	size_t failed = 0, i;
	int rc;

	if (!sc->n)
		return 0;
	rc = tidm_conn_exec_multi(w->conn, sc->sql.data, sc->sql.len, sc->affected, sc->n, &failed);
	if (rc < 0) {
		const char *what;
		if (failed < sc->n && sc->meta[failed].group && rc != TIDM_ECANCELED) {
			tidm_err_clear();
			return 1;
		}
		what = failed < sc->n && sc->meta[failed].what ? sc->meta[failed].what : "";
		if (rc == TIDM_EDUPKEY)
			tidm_err_prefix("duplicate key while replicating %s (restart with --replace-conflicts to "
					"overwrite the target row with the source's): ",
					what);
		else if (*what) /* a checkpoint or COMMIT concerns no row */
			tidm_err_prefix("%s: ", what);
		return rc;
	}
	for (i = 0; i < sc->n; i++)
		if ((sc->meta[i].check == CHECK_COUNT && sc->affected[i] != sc->meta[i].n) ||
		    (sc->meta[i].check == CHECK_UPSERT && sc->affected[i] != 2 * sc->meta[i].n))
			return 1;
	for (i = 0; i < sc->n; i++)
		if (sc->meta[i].check == CHECK_ROW && sc->affected[i] == 0)
			return tidm_err_set(TIDM_ENOTFOUND,
					    "row missing on the target: %s is not there to %s; the target was changed "
					    "outside tidm",
					    sc->meta[i].what ? sc->meta[i].what : "?", sc->meta[i].is_delete ? "delete" : "update");
	return 0;
}

static bool script_checks(const script *sc)
{
	size_t i;
	for (i = 0; i < sc->n; i++)
		if (sc->meta[i].check != CHECK_NONE)
			return true;
	return false;
}

/*
 * Apply the script's items in the worker's open target transaction (BEGIN first when none
 * is open) and, with `mark`, write the checkpoint and COMMIT. One round trip, or two when
 * a change must be verified before the COMMIT may go (three when a group is undone). The
 * items are freed either way; on failure the transaction is left open for the caller to
 * roll back.
 */
static int script_exec(worker *w, script *sc, const item *mark)
{
	bool begin = !w->in_txn;
	bool grouped = sc->ngroupable >= 2 && (begin || w->a->savepoints);
	bool tail_sent = false;
	int rc;

	script_reset_sql(sc);
	if (begin)
		script_add_raw(sc, "BEGIN", 5);
	if (grouped && w->a->savepoints)
		script_add_raw(sc, SAVEPOINT_SQL, strlen(SAVEPOINT_SQL));
	script_build(sc, grouped);
	if (mark && !script_checks(sc)) {
		commit_tail(w, sc, mark);
		tail_sent = true;
	}
	w->in_txn = true;
	rc = script_send(w, sc);
	if (rc == 1) {
		/* undo the groups and run their items one by one: exact checks and messages */
		script_reset_sql(sc);
		if (w->a->n_fks) /* the failed statement may have been one with the checks on */
			script_add_raw(sc, FKC_OFF, strlen(FKC_OFF));
		if (w->a->savepoints) {
			script_add_raw(sc, UNDO_SQL, strlen(UNDO_SQL));
		} else {
			script_add_raw(sc, "ROLLBACK", 8);
			script_add_raw(sc, "BEGIN", 5);
		}
		script_build(sc, false);
		tail_sent = false;
		if (mark && !script_checks(sc)) {
			commit_tail(w, sc, mark);
			tail_sent = true;
		}
		rc = script_send(w, sc);
		if (rc == 1)
			rc = tidm_err_set(TIDM_ERROR, "internal error: a row change counted as a group");
	}
	if (rc == 0 && mark && !tail_sent) {
		script_reset_sql(sc);
		commit_tail(w, sc, mark);
		rc = script_send(w, sc);
	}
	if (rc == 0 && mark)
		w->in_txn = false;
	script_clear(sc);
	return rc;
}

/*
 * The worker loop. Rows of one source transaction are never split over two commits, and a
 * worker never holds a finished transaction uncommitted while it needs the coordinator for
 * more items: at a mark it commits unless the queue already holds a later mark (then every
 * row of the next transaction is queued too) and fewer than `batch` rows are pending. The
 * coordinator may wait for this worker to commit a transaction; the rule guarantees it
 * will without help.
 */
static void *worker_main(void *arg)
{
	worker *w = arg;
	struct tidm_applier *a = w->a;
	script *sc = calloc(1, sizeof(*sc));
	uint64_t since_commit = 0;
	item *last_mark = NULL;
	size_t limit = a->cfg->statement_bytes ? a->cfg->statement_bytes : (1u << 20);
	unsigned batch = a->cfg->batch ? a->cfg->batch : 100;
	int rc = 0;

	if (!sc)
		abort();
	for (;;) {
		item *it;

		if (canceled(a))
			break; /* the uncommitted batch is rolled back below; checkpoints stay exact */
		pthread_mutex_lock(&a->mu);
		if (last_mark && !w->marks_queued && since_commit < batch) {
			/* At a boundary with no complete transaction queued: give the next one up to
			 * 5 ms to arrive whole, so a steady stream of small transactions shares
			 * commits. Rows of an incomplete one are not taken (see above), so a
			 * coordinator waiting for this commit waits 5 ms at most. */
			struct timespec ts = deadline_ms(5);
			while (!w->marks_queued && !atomic_load(&a->failed) && !canceled(a))
				if (pthread_cond_timedwait(&w->cond, &a->mu, &ts) != 0)
					break;
		}
		while (!w->head && !atomic_load(&a->failed) && !canceled(a)) {
			if (last_mark)
				break; /* idle at a boundary: commit first */
			timed_wait(a, &w->cond);
		}
		if (last_mark && !w->marks_queued) {
			/* the next transaction is not complete: commit at the boundary first */
			pthread_mutex_unlock(&a->mu);
			it = NULL;
			goto at_boundary;
		}
		if (atomic_load(&a->failed) || canceled(a)) {
			pthread_mutex_unlock(&a->mu);
			break;
		}
		it = w->head;
		if (it) {
			w->head = it->next;
			if (!w->head)
				w->tail = NULL;
			bool full = w->queued >= QUEUE_MAX || w->queued_bytes >= QUEUE_BYTES_MAX;
			w->queued--;
			w->queued_bytes -= it->len + it->glen;
			if (full)
				pthread_cond_broadcast(&a->cond); /* the coordinator may wait for room */
			if (it->kind == ITEM_MARK)
				w->marks_queued--;
		}
		pthread_mutex_unlock(&a->mu);

		if (it && it->kind == ITEM_MARK && !it->force && since_commit < batch) {
			/* keep the boundary: the loop's top commits at it unless the next transaction
			 * arrives complete within 5 ms (then the batch goes on) */
			item_free(last_mark);
			last_mark = it;
			continue;
		}
at_boundary:
		if (!it || it->kind == ITEM_MARK) {
			/* commit at this boundary: rows, checkpoint and COMMIT */
			item *m;
			if (it) { /* own the mark through last_mark, so a failure below frees it */
				item_free(last_mark);
				last_mark = it;
				it = NULL;
			}
			m = last_mark;
			if ((rc = script_exec(w, sc, m)) < 0)
				goto fail;
			if (a->o.progress) {
				atomic_fetch_add(&a->o.progress->rows, w->rows_pending);
				if (m->ts)
					atomic_store(&a->o.progress->last_ts, m->ts);
			}
			w->rows_pending = 0;
			since_commit = 0;
			pthread_mutex_lock(&a->mu);
			if (!m->piece) /* a piece leaves its transaction open */
				atomic_store(&w->committed_seq, m->seq);
			pthread_cond_broadcast(&a->cond);
			pthread_mutex_unlock(&a->mu);
			item_free(last_mark);
			last_mark = NULL;
			continue;
		}
		if (it->kind == ITEM_STOP) {
			item_free(it);
			break;
		}
		if (it->kind == ITEM_ROLLBACK) {
			/* the coordinator dropped a half-received transaction: so do we */
			item_free(it);
			script_clear(sc);
			if (w->in_txn && (rc = tidm_conn_rollback(w->conn)) < 0)
				goto fail;
			w->in_txn = false;
			w->rows_pending = 0;
			since_commit = 0;
			continue;
		}
		/* a row change: the last mark is no boundary any more (this row comes after it, and
		 * a commit there would cut the row's transaction) */
		item_free(last_mark);
		last_mark = NULL;
		if (sc->nitems && (sc->bytes + it->len + it->glen + 1 > limit || sc->nitems >= SCRIPT_ITEMS_MAX) &&
		    (rc = script_exec(w, sc, NULL)) < 0) {
			item_free(it);
			goto fail;
		}
		script_push(sc, it);
		w->rows_pending++;
		since_commit++;
		continue;
fail:
		record_failure(a);
		break;
	}
	if (w->in_txn)
		tidm_conn_rollback(w->conn);
	item_free(last_mark);
	script_dispose(sc);
	free(sc);
	(void)rc;
	return NULL;
}

/* ---- routing and conflict keys ---------------------------------------------------------------- */

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;
	size_t i;
	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t key_hash(const tbl_info *t, const char *key, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	h = fnv(t->qname, strlen(t->qname) + 1, h);
	h = fnv(key, n, h);
	return h ? h : 1;
}

static keyslot *key_find(struct tidm_applier *a, uint64_t h)
{
	size_t i = (size_t)(h & (KEYMAP_SIZE - 1));
	for (;;) {
		keyslot *s = &a->keys[i];
		if (s->hash == 0 || s->hash == h)
			return s;
		i = (i + 1) & (KEYMAP_SIZE - 1);
	}
}

/* All workers idle and committed up to `seq`: the key map can be emptied. */
static int wait_committed(struct tidm_applier *a, unsigned wid, uint64_t seq)
{
	pthread_mutex_lock(&a->mu);
	while (atomic_load(&a->w[wid].committed_seq) < seq && !atomic_load(&a->failed) && !canceled(a))
		coord_wait(a);
	pthread_mutex_unlock(&a->mu);
	if (atomic_load(&a->failed))
		return take_failure(a);
	if (atomic_load(&a->w[wid].committed_seq) < seq)
		return tidm_err_set(TIDM_ECANCELED, "canceled while waiting for apply worker %u", wid);
	return 0;
}

/* A key already used inside this transaction keeps its worker (order within the
 * transaction); the routing stays a function of the transaction's own content. */
static void route_in_txn(struct tidm_applier *a, const uint64_t *hashes, size_t n, unsigned *wid)
{
	size_t i;

	for (i = 0; i < n; i++) {
		keyslot *s = key_find(a, hashes[i]);
		if (s->hash && s->seq == a->seq) {
			*wid = s->worker;
			return;
		}
	}
}

/*
 * Claim the keys of one change for worker wid: first wait for other workers still holding
 * one of them from an earlier transaction to commit it. When the map is full, keys stop
 * being recorded and the transaction's end flushes every worker (see txn_end).
 */
static void record_keys(struct tidm_applier *a, const uint64_t *hashes, size_t n, unsigned wid);

static int claim_keys(struct tidm_applier *a, const uint64_t *hashes, size_t n, unsigned wid)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		keyslot *s = key_find(a, hashes[i]);
		if (s->hash && s->worker != wid && s->seq != a->seq &&
		    atomic_load(&a->w[s->worker].committed_seq) < s->seq)
			if ((rc = wait_committed(a, s->worker, s->seq)) < 0)
				return rc;
	}
	record_keys(a, hashes, n, wid);
	return 0;
}

/* The keys of a change are held by worker wid in this transaction (also for a change the
 * worker had committed before a restart: later changes of the transaction that touch them
 * are routed as they were then). */
static void record_keys(struct tidm_applier *a, const uint64_t *hashes, size_t n, unsigned wid)
{
	size_t i;

	for (i = 0; i < n; i++) {
		keyslot *s;
		if (a->nkeys >= KEYMAP_SIZE / 4 * 3) {
			a->keys_overflow = true;
			break;
		}
		s = key_find(a, hashes[i]);
		if (!s->hash)
			a->nkeys++;
		s->hash = hashes[i];
		s->seq = a->seq;
		s->worker = wid;
	}
}

/* ---- building statements ---------------------------------------------------------------------- */

/* "(v1,v2,...)" over the insertable columns of an image. */
static int put_tuple(struct tidm_applier *a, tidm_buf *b, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols)
{
	size_t i;
	bool first = true;
	int rc;

	tidm_buf_putc(b, '(');
	for (i = 0; i < t->schema->ncols; i++) {
		const tidm_schema_col *c = &t->schema->cols[i];
		if (c->generated)
			continue;
		if (!first)
			tidm_buf_putc(b, ',');
		first = false;
		if (i >= ncols || img[i].kind == TIDM_BV_ABSENT) {
			tidm_buf_puts(b, "DEFAULT");
			continue;
		}
		if ((rc = put_value(a, b, &img[i], c)) < 0)
			return rc;
	}
	tidm_buf_putc(b, ')');
	return 0;
}

/* WHERE condition addressing the row of `img`: by key, or NULL-safe on every column. */
static int put_where(struct tidm_applier *a, tidm_buf *b, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols)
{
	const tidm_schema_table *s = t->schema;
	size_t i, n = s->nkey ? s->nkey : s->ncols;
	bool first = true;
	int rc;

	for (i = 0; i < n; i++) {
		size_t ci = s->nkey ? s->key[i] : i;
		const tidm_schema_col *c = &s->cols[ci];
		if (ci >= ncols || img[ci].kind == TIDM_BV_ABSENT) {
			if (s->nkey)
				return tidm_err_set(TIDM_EUNSUPPORTED,
						    "`%s`.`%s`: the binlog row image lacks key column `%s` (the source's "
						    "key differs from the target's)",
						    s->db, s->name, c->name);
			continue;
		}
		if (!s->nkey && (c->generated || !strcmp(c->data_type, "json") || !strcmp(c->data_type, "geometry")))
			continue; /* not comparable by equality, or a function of the other columns,
				   * which address the row */
		if (!first)
			tidm_buf_puts(b, " AND ");
		first = false;
		tidm_quote_ident(b, c->name);
		tidm_buf_puts(b, s->nkey ? " = " : " <=> ");
		if (img[ci].kind == TIDM_BV_FLOAT && isfinite(img[ci].v.d)) {
			/* the float's exact value: the column compares as a double, and 9 digits,
			 * which give back the same float, are another double */
			char tmp[64];
			snprintf(tmp, sizeof(tmp), "%.17g", img[ci].v.d);
			tidm_buf_puts(b, tmp);
			continue;
		}
		if ((rc = put_value(a, b, &img[ci], c)) < 0)
			return rc;
		if (!s->nkey && c->keyfold != TIDM_KEYFOLD_EXACT && c->charset &&
		    (img[ci].kind == TIDM_BV_STRING || img[ci].kind == TIDM_BV_BLOB)) {
			/* no key: the row is the one with these bytes ('abc' and 'ABC ' are two rows
			 * here), compared besides the collation's equality, which an index can use */
			tidm_buf_puts(b, " AND CAST(");
			tidm_quote_ident(b, c->name);
			tidm_buf_puts(b, " AS BINARY) <=> ");
			tidm_quote_hex(b, img[ci].v.bytes, img[ci].len);
		}
	}
	if (first)
		tidm_buf_puts(b, "1");
	return 0;
}

/* Key text of an image: "v1,v2", the values as literals. With `fold`, the text every
 * spelling of the same key on the target shares (for routing and conflict hashes; see
 * tidm_schema_keyfold): an opaque column's value is left out, a TRIM column's loses its
 * trailing spaces. */
static int put_key_text(struct tidm_applier *a, tidm_buf *b, const tbl_info *t, const tidm_binlog_value *img,
			unsigned ncols, const size_t *cols, size_t n, bool fold)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		const tidm_schema_col *c = &t->schema->cols[cols[i]];
		const tidm_binlog_value *v = &img[cols[i]];
		if (i)
			tidm_buf_putc(b, ',');
		if (cols[i] >= ncols || v->kind == TIDM_BV_ABSENT) {
			tidm_buf_puts(b, "?");
			continue;
		}
		if (fold && c->keyfold == TIDM_KEYFOLD_OPAQUE && v->kind != TIDM_BV_NULL) {
			tidm_buf_putc(b, '~');
			continue;
		}
		if (fold && c->keyfold == TIDM_KEYFOLD_TRIM && (v->kind == TIDM_BV_STRING || v->kind == TIDM_BV_BLOB)) {
			size_t len = v->len;
			while (len && v->v.bytes[len - 1] == ' ')
				len--;
			tidm_quote_hex(b, v->v.bytes, len);
			continue;
		}
		if ((rc = put_value(a, b, v, c)) < 0)
			return rc;
	}
	return 0;
}

/* The hash of an image's row key: exact (the row's identity in the binlog) or folded. */
static int row_key_hash(struct tidm_applier *a, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols,
			bool fold, uint64_t *out)
{
	int rc;

	tidm_buf_clear(&a->keybuf); /* the hash must depend on this row's key only */
	if ((rc = put_key_text(a, &a->keybuf, t, img, ncols, t->schema->key, t->schema->nkey, fold)) < 0)
		return rc;
	*out = key_hash(t, a->keybuf.data ? a->keybuf.data : "", a->keybuf.len);
	tidm_buf_clear(&a->keybuf);
	return 0;
}

static char *describe_row(struct tidm_applier *a, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols)
{
	const tidm_schema_table *s = t->schema;
	tidm_buf b = TIDM_BUF_INIT;
	size_t i;

	tidm_buf_printf(&b, "%s (", t->qname);
	if (s->nkey) {
		for (i = 0; i < s->nkey; i++) {
			size_t ci = s->key[i];
			if (i)
				tidm_buf_puts(&b, ", ");
			tidm_buf_printf(&b, "%s=", s->cols[ci].name);
			if (ci < ncols && img[ci].kind != TIDM_BV_ABSENT) {
				size_t at = b.len;
				if (put_value(a, &b, &img[ci], &s->cols[ci]) < 0)
					tidm_buf_truncate(&b, at);
			}
		}
	} else {
		tidm_buf_puts(&b, "no key");
	}
	tidm_buf_putc(&b, ')');
	return tidm_buf_detach(&b);
}

/* Hashes of the keys a row image touches: the row key and each other unique key. */
static int image_keys(struct tidm_applier *a, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols,
		      uint64_t *out, size_t *n, size_t max)
{
	const tidm_schema_table *s = t->schema;
	size_t u;
	int rc;

	if (!img)
		return 0;
	tidm_buf_clear(&a->keybuf);
	if (s->nkey) {
		if ((rc = put_key_text(a, &a->keybuf, t, img, ncols, s->key, s->nkey, t->key_folds)) < 0)
			return rc;
	}
	if (*n < max)
		out[(*n)++] = key_hash(t, a->keybuf.data ? a->keybuf.data : "", a->keybuf.len);
	for (u = 0; u < s->nuniques && *n < max; u++) {
		tidm_buf_clear(&a->keybuf);
		tidm_buf_printf(&a->keybuf, "#%zu:", u);
		if ((rc = put_key_text(a, &a->keybuf, t, img, ncols, s->uniques[u], s->nuniq[u], t->key_folds)) < 0)
			return rc;
		out[(*n)++] = key_hash(t, a->keybuf.data, a->keybuf.len);
	}
	return 0;
}

static item *new_row_item(void)
{
	item *it = calloc(1, sizeof(*it));
	if (!it)
		abort();
	it->kind = ITEM_ROW;
	return it;
}

static void send_item(struct tidm_applier *a, unsigned wid, item *it)
{
	a->participants |= 1ull << wid;
	a->w[wid].piece_bytes += it->len + it->glen;
	push(a, &a->w[wid], it);
}

/* The current row is covered by this worker's checkpoint: already applied. */
static bool already_applied(struct tidm_applier *a, unsigned wid)
{
	worker *w = &a->w[wid];
	if (!a->skipping || !w->skip_file[0])
		return false;
	return tidm_txn_pos_applied(a->txn_file, a->txn_start, a->txn_row, w->skip_file, w->skip_pos, w->skip_row);
}

/* After a row: a worker past the piece size commits its part of the transaction so far
 * (see txn_split.h). Only bytes it was sent count, so a piece never lands on a row its
 * checkpoint already covers. */
static void txn_split_after_row(struct tidm_applier *a)
{
	unsigned i;

	a->txn_row++;
	if (!a->max_txn_bytes || a->txn_nosplit)
		return;
	for (i = 0; i < a->nworkers; i++) {
		worker *w = &a->w[i];
		item *m;
		if (w->piece_bytes < a->max_txn_bytes)
			continue;
		m = calloc(1, sizeof(*m));
		if (!m)
			abort();
		m->kind = ITEM_MARK;
		m->seq = a->seq;
		snprintf(m->file, sizeof(m->file), "%s", a->txn_file);
		m->pos = a->txn_start;
		m->row = a->txn_row;
		m->piece = true;
		m->force = true;
		m->ts = a->txn_ts;
		if (!w->piece_row)
			tidm_info("transaction at %s:%" PRIu64 " is larger than spec.max-txn-bytes (%" PRIu64
				  "): apply worker %u commits it in pieces",
				  a->txn_file, a->txn_start, a->max_txn_bytes, i);
		w->piece_bytes = 0;
		w->piece_row = a->txn_row;
		push(a, w, m);
	}
}

static void set_group(item *it, uint8_t cls, const tbl_info *t, uint64_t rowkey)
{
	/* grouping reorders changes of different tables: not where foreign keys cascade between
	 * them (a parent's DELETE must see the child rows inserted before it) */
	it->cls = t->fk_group ? GC_NONE : cls;
	it->tbl = t;
	it->rowkey = rowkey;
}

/* A DELETE by row key that may join a `DELETE ... WHERE key IN (...)`: its key as a list
 * element. */
static int set_group_key(struct tidm_applier *a, item *it, const tbl_info *t, const tidm_binlog_value *img,
			 unsigned ncols, uint64_t rowkey)
{
	const tidm_schema_table *s = t->schema;
	tidm_buf b = TIDM_BUF_INIT;
	int rc;

	if (s->nkey > 1)
		tidm_buf_putc(&b, '(');
	if ((rc = put_key_text(a, &b, t, img, ncols, s->key, s->nkey, false)) < 0) {
		tidm_buf_dispose(&b);
		return rc;
	}
	if (s->nkey > 1)
		tidm_buf_putc(&b, ')');
	it->glen = b.len;
	it->gtext = tidm_buf_detach(&b);
	set_group(it, GC_DELETE, t, rowkey);
	return 0;
}

/* Every written column is in the image (an upsert must not fall back to defaults). */
static bool full_image(const tidm_schema_table *s, const tidm_binlog_value *img, unsigned ncols)
{
	size_t i;
	for (i = 0; i < s->ncols; i++)
		if (!s->cols[i].generated &&
		    (i >= ncols || img[i].kind == TIDM_BV_ABSENT || img[i].kind == TIDM_BV_JSON_DIFF))
			return false;
	return true;
}

/*
 * A partial JSON update without the column's old value (binlog_row_image MINIMAL with
 * binlog_row_value_options PARTIAL_JSON): the new value is computed on the target from the
 * column as it is there, diff by diff, as MySQL applied them: REPLACE is JSON_REPLACE, INSERT
 * of an object member JSON_SET, INSERT at an array index JSON_ARRAY_INSERT, REMOVE
 * JSON_REMOVE; each value as JSON (MariaDB: JSON_EXTRACT(text, '$'); MySQL, TiDB: CAST).
 */
static int put_json_diffs(struct tidm_applier *a, tidm_buf *b, const tidm_schema_col *c, const tidm_binlog_value *v)
{
	static const char *const fn[] = {"JSON_REPLACE(", "JSON_SET(", "JSON_REMOVE("};
	bool maria = tidm_conn_info(a->conn)->flavor == TIDM_FLAVOR_MARIADB;
	tidm_binlog_cursor cur;
	tidm_buf expr = TIDM_BUF_INIT, next = TIDM_BUF_INIT;
	int rc = 0;

	tidm_quote_ident(&expr, c->name);
	tidm_binlog_cursor_init(&cur, v->v.bytes, v->len);
	while (tidm_binlog_cursor_left(&cur) > 0) {
		uint8_t op;
		const uint8_t *path, *val = NULL;
		size_t plen, vlen = 0;
		const char *f;

		if (!tidm_binlog_cursor_u8(&cur, &op) || op > 2 || !tidm_binlog_cursor_lenenc_bytes(&cur, &path, &plen) ||
		    (op != 2 && !tidm_binlog_cursor_lenenc_bytes(&cur, &val, &vlen))) {
			rc = tidm_err_set(TIDM_ECORRUPT, "column `%s`: a malformed partial JSON update", c->name);
			break;
		}
		f = fn[op];
		if (op == 1 && plen && path[plen - 1] == ']')
			f = "JSON_ARRAY_INSERT(";
		tidm_buf_clear(&next);
		tidm_buf_puts(&next, f);
		tidm_buf_put(&next, expr.data, expr.len);
		tidm_buf_putc(&next, ',');
		tidm_quote_string(&next, (const char *)path, plen);
		if (op != 2) {
			tidm_buf_clear(&a->scratch);
			if ((rc = tidm_binlog_json_to_text(&a->scratch, val, vlen)) < 0)
				break;
			tidm_buf_puts(&next, maria ? ",JSON_EXTRACT(" : ",CAST(");
			tidm_quote_string(&next, a->scratch.data ? a->scratch.data : "null",
					  a->scratch.len ? a->scratch.len : 4);
			tidm_buf_puts(&next, maria ? ",'$')" : " AS JSON)");
		}
		tidm_buf_putc(&next, ')');
		tidm_buf_clear(&expr);
		tidm_buf_put(&expr, next.data, next.len);
	}
	if (rc == 0)
		tidm_buf_put(b, expr.data, expr.len);
	tidm_buf_dispose(&expr);
	tidm_buf_dispose(&next);
	return rc;
}

/* "UPDATE `d`.`t` SET ... WHERE ... LIMIT 1" for a row change: 1, 0 when it sets nothing
 * (every column generated or absent), < 0 on an error. */
static int put_update(struct tidm_applier *a, tidm_buf *b, const tbl_info *t, const tidm_binlog_row *row)
{
	const tidm_schema_table *s = t->schema;
	size_t i;
	bool first = true;
	int rc;

	tidm_buf_printf(b, "UPDATE %s SET ", t->qname);
	for (i = 0; i < s->ncols; i++) {
		const tidm_schema_col *c = &s->cols[i];
		if (c->generated || i >= row->ncols || row->after[i].kind == TIDM_BV_ABSENT)
			continue;
		if (!first)
			tidm_buf_putc(b, ',');
		first = false;
		tidm_quote_ident(b, c->name);
		tidm_buf_putc(b, '=');
		if (row->after[i].kind == TIDM_BV_JSON_DIFF)
			rc = put_json_diffs(a, b, c, &row->after[i]);
		else
			rc = put_value(a, b, &row->after[i], c);
		if (rc < 0)
			return rc;
	}
	if (first)
		return 0;
	tidm_buf_puts(b, " WHERE ");
	if ((rc = put_where(a, b, t, row->before, row->ncols)) < 0)
		return rc;
	tidm_buf_puts(b, " LIMIT 1");
	return 1;
}

/* A system-versioned row is current (not history) while its ROW END is the largest value:
 * TIMESTAMP 2038-01-19 03:14:07.999999 (later on servers with a wider TIMESTAMP), or the
 * largest BIGINT UNSIGNED for transaction-precise versioning. */
static bool row_current(const tidm_binlog_value *v)
{
	switch (v->kind) {
	case TIDM_BV_TIMESTAMP:
		return v->v.ts.sec >= 2147483647;
	case TIDM_BV_INT:
	case TIDM_BV_UINT:
		return v->v.u == UINT64_MAX;
	default:
		return true;
	}
}

/*
 * The row change as it applies to a system-versioned target, which keeps its own history:
 * the source logs history rows as rows of the table (an UPDATE also writes the old row with
 * its ROW END set; a DELETE is an UPDATE of ROW END). Returns the kind to apply, 0 to pass
 * it over.
 */
static unsigned versioned_kind(const tidm_schema_table *s, unsigned kind, const tidm_binlog_row *row)
{
	bool before = row->before && s->row_end < row->ncols && row_current(&row->before[s->row_end]);
	bool after = row->after && s->row_end < row->ncols && row_current(&row->after[s->row_end]);

	switch (kind) {
	case TIDM_ROWS_INSERT:
		return after ? kind : 0; /* a history row: the target writes its own */
	case TIDM_ROWS_DELETE:
		return before ? kind : 0; /* DELETE HISTORY */
	case TIDM_ROWS_UPDATE:
		if (!before)
			return 0;
		return after ? kind : TIDM_ROWS_DELETE; /* the row became history: deleted */
	default:
		return kind;
	}
}

/* Safe mode's pairs for an UPDATE: *it (its statement in b, about the old row) is sent, and
 * becomes the REPLACE of the new row, its tuple in b. */
static int then_replace(struct tidm_applier *a, unsigned wid, const tbl_info *t, const tidm_binlog_row *row, item **it,
			tidm_buf *b)
{
	(*it)->text = tidm_buf_detach(b);
	(*it)->len = strlen((*it)->text);
	(*it)->what = describe_row(a, t, row->before, row->ncols);
	send_item(a, wid, *it);
	*it = new_row_item();
	(*it)->op = OP_INSERT;
	(*it)->head = t->replace_head;
	return put_tuple(a, b, t, row->after, row->ncols);
}

static int apply_row(struct tidm_applier *a, tbl_info *t, unsigned kind, const tidm_binlog_row *row, bool force_safe,
		     bool no_fk_checks)
{
	const tidm_schema_table *s = t->schema;
	uint64_t *hashes, rowkey = 0, oldkey = 0;
	size_t nh = 0, nkeys = 1 + s->nuniques; /* per image: the row key and each other unique key */
	unsigned wid;
	bool safe = force_safe || safe_mode(a);
	bool partial = kind == TIDM_ROWS_UPDATE && row->after && !full_image(s, row->after, row->ncols);
	bool serial = false;
	bool replace = safe || a->o.replace_conflicts;
	const tidm_binlog_value *key_img = row->after ? row->after : row->before;
	tidm_buf b = TIDM_BUF_INIT;
	item *it;
	int rc;

	if (row->ncols != s->ncols)
		return tidm_err_set(TIDM_ERROR,
				    "%s: the binlog has %u columns but the target table has %zu; the table definitions "
				    "differ",
				    t->qname, row->ncols, s->ncols);
	if (s->row_end != SIZE_MAX && (kind = versioned_kind(s, kind, row)) == 0)
		return 0;
	/* route by the row key, folded (the new one for INSERT/UPDATE, old for DELETE); keyless
	 * tables, and those where a unique key cannot be told apart by bytes: by table */
	if (s->nkey) {
		uint64_t route;
		if ((rc = row_key_hash(a, t, key_img, row->ncols, false, &rowkey)) < 0)
			return rc;
		route = rowkey;
		if (t->key_folds && !t->route_table && (rc = row_key_hash(a, t, key_img, row->ncols, true, &route)) < 0)
			return rc;
		/* safe mode, a table with another unique key: one worker (REPLACEs of several workers
		 * deadlock on that index's next-key locks), and no skipping below: the rows replay
		 * in binlog order, idempotently */
		serial = safe && s->nuniques > 0 && !t->fk_group;
		wid = (unsigned)((t->fk_group ? t->fk_group : t->route_table || serial ? key_hash(t, "", 0) : route) %
				 a->nworkers);
		/* the old row key, exact: the conflict hash of the before image below, unless that one
		 * is folded */
		if (kind == TIDM_ROWS_UPDATE && row->before && row->after && t->key_folds &&
		    (rc = row_key_hash(a, t, row->before, row->ncols, false, &oldkey)) < 0)
			return rc;
	} else {
		wid = (unsigned)((t->fk_group ? t->fk_group : key_hash(t, "", 0)) % a->nworkers);
	}
	if (a->nhashbuf < 2 * nkeys) {
		a->nhashbuf = 2 * nkeys;
		a->hashbuf = realloc(a->hashbuf, a->nhashbuf * sizeof(*a->hashbuf));
		if (!a->hashbuf)
			abort();
	}
	hashes = a->hashbuf;
	if ((rc = image_keys(a, t, row->before, row->ncols, hashes, &nh, nkeys)) < 0 ||
	    (rc = image_keys(a, t, row->after, row->ncols, hashes, &nh, 2 * nkeys)) < 0)
		return rc;
	if (s->nkey && kind == TIDM_ROWS_UPDATE && row->before && row->after && !t->key_folds)
		oldkey = hashes[0];
	route_in_txn(a, hashes, nh, &wid);
	if (a->old_n && (!s->nkey || t->route_table || t->fk_group)) {
		/* routed as a whole table, before and now: exact skipping with the old checkpoints */
		uint64_t h = t->fk_group ? t->fk_group : key_hash(t, "", 0);
		const struct old_cp *cp = &a->old_cp[h % a->old_n];
		if (a->skipping && tidm_txn_pos_applied(a->txn_file, a->txn_start, a->txn_row, cp->file, cp->pos, cp->row)) {
			if (a->o.progress)
				atomic_fetch_add(&a->o.progress->skipped, 1);
			return 0;
		}
	} else if (!serial && already_applied(a, wid)) {
		/* committed by this worker before the restart: nothing to send. Its keys are
		 * recorded all the same, so the rest of the transaction is routed as it was (a
		 * split transaction resumes in its middle); the worker takes part in the
		 * transaction, so its end commits it there and releases them. */
		record_keys(a, hashes, nh, wid);
		a->participants |= 1ull << wid;
		if (a->o.progress)
			atomic_fetch_add(&a->o.progress->skipped, 1);
		return 0;
	}
	if ((rc = claim_keys(a, hashes, nh, wid)) < 0)
		return rc;

	switch (kind) {
	case TIDM_ROWS_INSERT: {
		item *tail = a->w[wid].pend_tail;
		if (s->nkey && tail && tail->kind == ITEM_ROW && tail->del_table == t && tail->del_key == rowkey) {
			/* DELETE then INSERT of one row in this transaction: one REPLACE does both */
			if ((rc = put_tuple(a, &b, t, row->after, row->ncols)) < 0) {
				tidm_buf_dispose(&b);
				return rc;
			}
			a->w[wid].pend_bytes -= tail->len + tail->glen; /* still collected: recounted */
			free(tail->text);
			tail->text = tidm_buf_detach(&b);
			tail->len = strlen(tail->text);
			a->w[wid].pend_bytes += tail->len;
			tail->op = OP_INSERT;
			tail->head = t->replace_head;
			tail->check_affected = false;
			tail->del_table = NULL;
			free(tail->gtext);
			tail->gtext = NULL;
			tail->glen = 0;
			tail->cls = t->delete_head && !t->fk_group ? GC_INSERT : GC_NONE;
			return 0;
		}
	}
		it = new_row_item();
		it->op = OP_INSERT;
		it->head = replace ? t->replace_head : t->insert_head;
		if (!s->nkey && force_safe) {
			/* keyless, inside a copy window (the copied rows may hold this one already):
			 * remove one identical row first so it is not there twice. Not in plain safe
			 * mode: checkpoints are exact, nothing is replayed, and a transaction that
			 * inserts two identical rows must leave two. */
			item *del = new_row_item();
			del->op = OP_STMT;
			tidm_buf_printf(&b, "DELETE FROM %s WHERE ", t->qname);
			if ((rc = put_where(a, &b, t, row->after, row->ncols)) < 0) {
				item_free(del);
				goto fail_item;
			}
			tidm_buf_puts(&b, " LIMIT 1");
			del->text = tidm_buf_detach(&b);
			del->len = strlen(del->text);
			del->what = describe_row(a, t, row->after, row->ncols);
			send_item(a, wid, del);
			it->head = t->insert_head;
		}
		if ((rc = put_tuple(a, &b, t, row->after, row->ncols)) < 0)
			goto fail_item;
		if (t->delete_head)
			set_group(it, GC_INSERT, t, rowkey);
		break;
	case TIDM_ROWS_DELETE:
		it = new_row_item();
		it->op = OP_STMT;
		it->check_affected = !safe;
		it->fkc = t->fk_del && !no_fk_checks; /* the source did not cascade it either */
		if (s->nkey) {
			it->del_table = t;
			it->del_key = rowkey;
		}
		tidm_buf_printf(&b, "DELETE FROM %s WHERE ", t->qname);
		if ((rc = put_where(a, &b, t, row->before, row->ncols)) < 0)
			goto fail_item;
		tidm_buf_puts(&b, " LIMIT 1");
		if (t->delete_head && (rc = set_group_key(a, it, t, row->before, row->ncols, rowkey)) < 0)
			goto fail_item;
		break;
	case TIDM_ROWS_UPDATE:
		it = new_row_item();
		it->op = OP_STMT;
		if (safe && partial) {
			/* the image lacks columns (binlog_row_image MINIMAL or NOBLOB, a partial JSON
			 * update): a REPLACE would put defaults in them; the UPDATE, unchecked */
			it->fkc = t->fk_upd && !no_fk_checks;
			if ((rc = put_update(a, &b, t, row)) <= 0) {
				item_free(it);
				tidm_buf_dispose(&b);
				return rc;
			}
			break;
		}
		if (safe && s->nkey && t->fk_upd && !no_fk_checks) {
			/* a parent whose keys cascade updates: the UPDATE (it cascades, and does
			 * nothing when it was applied already), then the REPLACE (the row as the
			 * source has it, with the checks off) */
			if ((rc = put_update(a, &b, t, row)) <= 0) {
				item_free(it);
				tidm_buf_dispose(&b);
				return rc;
			}
			it->fkc = true;
			if ((rc = then_replace(a, wid, t, row, &it, &b)) < 0)
				goto fail_item;
			break;
		}
		if (safe && s->nkey) {
			/* DELETE the old row, REPLACE the new one: idempotent */
			tidm_buf_printf(&b, "DELETE FROM %s WHERE ", t->qname);
			if ((rc = put_where(a, &b, t, row->before, row->ncols)) < 0)
				goto fail_item;
			tidm_buf_puts(&b, " LIMIT 1");
			if (t->delete_head && (rc = set_group_key(a, it, t, row->before, row->ncols, oldkey)) < 0)
				goto fail_item;
			if ((rc = then_replace(a, wid, t, row, &it, &b)) < 0)
				goto fail_item;
			if (t->delete_head)
				set_group(it, GC_INSERT, t, rowkey);
			break;
		}
		it->check_affected = !safe;
		it->fkc = t->fk_upd && !no_fk_checks;
		if ((rc = put_update(a, &b, t, row)) <= 0) {
			item_free(it);
			tidm_buf_dispose(&b);
			return rc; /* 0: nothing to set */
		}
		if (t->upsert_tail && !t->fk_upd && oldkey == rowkey && !partial) {
			/* the row keeps its key: one tuple of a grouped INSERT ... ON DUPLICATE KEY
			 * UPDATE (the worker checks that every row of the group existed) */
			tidm_buf tb = TIDM_BUF_INIT;
			if ((rc = put_tuple(a, &tb, t, row->after, row->ncols)) < 0) {
				tidm_buf_dispose(&tb);
				goto fail_item;
			}
			it->glen = tb.len;
			it->gtext = tidm_buf_detach(&tb);
			set_group(it, GC_UPSERT, t, rowkey);
		}
		break;
	default:
		return tidm_err_set(TIDM_EUNSUPPORTED, "unknown rows event kind %u", kind);
	}
	it->text = tidm_buf_detach(&b);
	it->len = strlen(it->text);
	it->what = describe_row(a, t, key_img, row->ncols);
	send_item(a, wid, it);
	return 0;
fail_item:
	item_free(it);
	tidm_buf_dispose(&b);
	return rc;
}

static int apply_rows_event(struct tidm_applier *a, tidm_binlog_decoder *dec, const tidm_binlog_event *ev)
{
	const tidm_binlog_table *tm = ev->u.rows.table;
	tidm_binlog_row_iter it;
	tidm_binlog_row row;
	tbl_info *t;
	int rc, got, side;

	if (!tm)
		return 0; /* dummy table id (end of statement marker) */
	if (!tidm_filter_match_table(&a->cfg->objects, tm->db, tm->table))
		return 0;
	if (a->windows && window_side(a, find_window(a, tm->db, tm->table)) < 0)
		return 0; /* before its copy: the target table may have another definition or none */
	if (tidm_seq_sync_is(a->seqs, tm))
		return tidm_seq_sync_rows(a->seqs, dec, ev); /* a sequence's new state, not a row */
	if ((rc = get_table(a, tm->db, tm->table, &t)) < 0)
		return rc;
	side = window_side(a, t->win);
	if (side < 0)
		return 0; /* already in every copied row of this table */
	if ((rc = tidm_binlog_rows_begin(&it, dec, ev)) < 0)
		return rc;
	while ((got = tidm_binlog_rows_next(&it, &row)) == 1) {
		if ((rc = apply_row(a, t, ev->u.rows.kind, &row, side > 0,
				    (ev->u.rows.flags & TIDM_BINLOG_ROWS_NO_FOREIGN_KEY_CHECKS) != 0)) < 0)
			return rc;
		txn_split_after_row(a);
	}
	return got < 0 ? got : 0;
}

/* ---- transactions, flush, DDL -------------------------------------------------------------------- */

static void txn_begin(struct tidm_applier *a, const tidm_binlog_event *ev)
{
	if (a->in_txn)
		return;
	a->in_txn = true;
	a->seq++;
	a->participants = 0;
	a->txn_row = 0;
	a->txn_nosplit = false;
	for (unsigned i = 0; i < a->nworkers; i++)
		a->w[i].piece_bytes = a->w[i].piece_row = 0;
	snprintf(a->txn_file, sizeof(a->txn_file), "%s", a->cur_file);
	a->txn_start = ev->hdr.log_pos && ev->hdr.log_pos >= ev->hdr.event_size ? ev->hdr.log_pos - ev->hdr.event_size
									       : a->cur_pos;
	a->txn_ts = ev->hdr.timestamp;
}

static int txn_end(struct tidm_applier *a)
{
	unsigned i;

	if (!a->in_txn)
		return 0;
	for (i = 0; i < a->nworkers; i++)
		if (a->participants & (1ull << i))
			push(a, &a->w[i], new_mark(a, false));
	a->participants = 0;
	a->in_txn = false;
	a->explicit_txn = false;
	if (a->o.progress)
		atomic_fetch_add(&a->o.progress->txns, 1);
	if (a->keys_overflow || a->nkeys > KEYMAP_SIZE / 2)
		return tidm_applier_flush(a, NULL); /* every worker commits; the map starts empty */
	return 0;
}

int tidm_applier_flush(tidm_applier *a, tidm_sync_pos *out)
{
	unsigned i;
	int rc;

	if (out) {
		/* the boundary the flush commits to (also reported when a stop cuts it short) */
		snprintf(out->file, sizeof(out->file), "%s", a->cur_file);
		out->pos = a->cur_pos;
		out->gtid[0] = '\0';
	}
	if (atomic_load(&a->failed))
		return take_failure(a);
	if (a->in_txn) {
		/* cannot cut a transaction: flush what is complete */
	}
	if (!a->in_txn) {
		for (i = 0; i < a->nworkers; i++)
			push(a, &a->w[i], new_mark(a, true));
		for (i = 0; i < a->nworkers; i++)
			if ((rc = wait_committed(a, i, a->seq)) < 0)
				return rc;
		memset(a->keys, 0, KEYMAP_SIZE * sizeof(*a->keys));
		a->nkeys = 0;
		a->keys_overflow = false;
		/* every worker is past the replay window now */
		for (i = 0; i < a->nworkers; i++)
			a->w[i].skip_file[0] = '\0';
		a->skipping = false;
	}
	if (out) {
		snprintf(out->file, sizeof(out->file), "%s", a->cur_file);
		out->pos = a->cur_pos;
		out->gtid[0] = '\0';
	}
	return 0;
}

int tidm_applier_checkpoint(tidm_applier *a)
{
	unsigned i;

	if (atomic_load(&a->failed))
		return take_failure(a);
	if (a->in_txn)
		return 0;
	/* every worker commits at this boundary when it gets there; nobody waits for it */
	for (i = 0; i < a->nworkers; i++)
		push(a, &a->w[i], new_mark(a, true));
	return 0;
}

static bool ddl_selected(const char *db, const char *table, void *payload)
{
	struct tidm_applier *a = payload;
	if (!table)
		return tidm_filter_match_db(&a->cfg->objects, db);
	return tidm_filter_match_table(&a->cfg->objects, db, table);
}

static int set_all_checkpoints(struct tidm_applier *a)
{
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	tidm_buf_puts(&q, "UPDATE `" META_DB "`.`sync_workers` SET `file` = ");
	tidm_quote_string(&q, a->cur_file, strlen(a->cur_file));
	tidm_buf_printf(&q, ", `pos` = %" PRIu64 ", `txn_row` = 0 WHERE `job` = ", a->cur_pos);
	tidm_quote_string(&q, a->cfg->name, strlen(a->cfg->name));
	rc = tidm_conn_exec(a->conn, q.data, q.len);
	tidm_buf_dispose(&q);
	return rc;
}

static bool is_word(const char *sql, size_t len, const char *word)
{
	size_t n = strlen(word), i = 0;
	while (i < len && (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t' || sql[i] == '\r'))
		i++;
	if (len - i < n || strncasecmp(sql + i, word, n) != 0)
		return false;
	return len - i == n || sql[i + n] == ' ' || sql[i + n] == ';' || sql[i + n] == '\n' || sql[i + n] == '\t';
}

/* The statement's second word is `word` ("XA START", "ROLLBACK TO", "ROLLBACK WORK TO"
 * with skip_work). */
static bool second_word(const char *sql, size_t len, const char *word, bool skip_work)
{
	size_t i = 0;
	int k;

	for (k = 0; k < (skip_work ? 3 : 2); k++) {
		while (i < len && (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t' || sql[i] == '\r'))
			i++;
		if (k == 0 || (k == 1 && skip_work && is_word(sql + i, len - i, "WORK"))) {
			while (i < len && sql[i] != ' ' && sql[i] != '\n' && sql[i] != '\t' && sql[i] != '\r')
				i++;
			continue;
		}
		return is_word(sql + i, len - i, word);
	}
	return false;
}

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

static int query_kind(const char *sql, size_t len)
{
	if (is_word(sql, len, "BEGIN"))
		return Q_BEGIN;
	if (is_word(sql, len, "XA")) {
		if (second_word(sql, len, "START", false) || second_word(sql, len, "BEGIN", false))
			return Q_BEGIN;
		if (second_word(sql, len, "END", false))
			return Q_XA_END;
		return second_word(sql, len, "ROLLBACK", false) ? Q_XA_ROLLBACK : Q_XA_OTHER;
	}
	if (is_word(sql, len, "COMMIT"))
		return Q_COMMIT;
	if (is_word(sql, len, "SAVEPOINT"))
		return Q_SAVEPOINT;
	if (is_word(sql, len, "ROLLBACK"))
		return second_word(sql, len, "TO", true) ? Q_SAVEPOINT : Q_ROLLBACK;
	if (is_word(sql, len, "RELEASE"))
		return Q_RELEASE;
	return Q_OTHER;
}

/* SAVEPOINT / ROLLBACK TO SAVEPOINT inside a transaction: the source logs them only when
 * the rows between the two are in the binlog (MariaDB, with a non-transactional table in
 * the transaction, whose own rows are logged apart); every worker runs the statement in
 * its open target transaction, where the rows of this transaction are, so it undoes the
 * same rows the source undid. */
static int forward_savepoint(struct tidm_applier *a, const tidm_binlog_query *q)
{
	unsigned i;

	if (!a->savepoints)
		return tidm_err_set(TIDM_EUNSUPPORTED,
				    "%.*s at %s:%" PRIu64 ": the target has no SAVEPOINT (TiDB before 6.2); the rows it "
				    "undoes cannot be undone there",
				    (int)(q->sql_len > 80 ? 80 : q->sql_len), q->sql, a->cur_file, a->cur_pos);
	a->txn_nosplit = true; /* a piece's commit would release the savepoint */
	for (i = 0; i < a->nworkers; i++) {
		item *it;
		if (already_applied(a, i))
			continue;
		it = new_row_item();
		it->op = OP_STMT;
		it->text = malloc(q->sql_len + 1);
		if (!it->text)
			abort();
		memcpy(it->text, q->sql, q->sql_len);
		it->text[q->sql_len] = '\0';
		it->len = q->sql_len;
		it->what = strdup("(savepoint)");
		if (!it->what)
			abort();
		send_item(a, i, it);
	}
	return 0;
}

/* The source rolled the transaction back (BEGIN ... ROLLBACK: in row format its logged rows
 * are those of transactional tables): the workers drop what they hold of it, then commit an
 * empty boundary, so the transaction's keys are released and the checkpoints pass it. */
static int rollback_txn(struct tidm_applier *a)
{
	uint64_t keep = a->participants;
	for (unsigned i = 0; i < a->nworkers; i++)
		if (a->w[i].piece_row)
			return tidm_err_set(TIDM_EUNSUPPORTED,
					    "the source rolled back the transaction at %s:%" PRIu64 " after tidm had committed "
					    "parts of it on the target (it is larger than spec.max-txn-bytes, %" PRIu64
					    " bytes): raise spec.max-txn-bytes above its size, restore the target and run "
					    "again",
					    a->txn_file, a->txn_start, a->max_txn_bytes);
	tidm_applier_reset_txn(a);
	a->in_txn = true;
	a->participants = keep;
	return txn_end(a);
}

static void xa_remember(struct tidm_applier *a, const tidm_binlog_xa_prepare *x)
{
	struct xa_seen *e;
	tidm_buf b = TIDM_BUF_INIT;

	if (a->n_xa == sizeof(a->xa) / sizeof(a->xa[0])) {
		memmove(&a->xa[0], &a->xa[1], sizeof(a->xa) - sizeof(a->xa[0]));
		a->n_xa--;
	}
	tidm_buf_puts(&b, "X'");
	for (size_t i = 0; i < (size_t)x->gtrid_len + x->bqual_len; i++) {
		if (i == x->gtrid_len)
			tidm_buf_puts(&b, "',X'");
		tidm_buf_printf(&b, "%02x", x->data[i]);
	}
	if (!x->bqual_len)
		tidm_buf_puts(&b, "',X'");
	tidm_buf_printf(&b, "',%" PRId32, x->format_id);
	e = &a->xa[a->n_xa];
	e->len = b.len < sizeof(e->id) ? b.len : sizeof(e->id) - 1;
	memcpy(e->id, b.data, e->len);
	if (e->len == b.len)
		a->n_xa++;
	tidm_buf_dispose(&b);
}

/*
 * XA ROLLBACK of a prepared transaction. tidm applies an XA transaction when it is prepared
 * (its rows are in the binlog there, the decision comes later), so the target keeps what the
 * source now undoes. The job stops and says so - after committing past the statement, so
 * that running it again goes on - when this run applied the XA PREPARE; otherwise (prepared
 * before the job started, or in an earlier run) it warns.
 */
static int xa_rollback(struct tidm_applier *a, const tidm_binlog_query *q)
{
	int n = (int)(q->sql_len > 120 ? 120 : q->sql_len);
	bool seen = false;
	size_t i;
	int rc;

	for (i = 0; i < a->n_xa; i++)
		if (q->sql_len > 12 && a->xa[i].len == q->sql_len - 12 &&
		    !strncasecmp(a->xa[i].id, q->sql + 12, a->xa[i].len))
			seen = true;
	if ((rc = txn_end(a)) < 0)
		return rc;
	if (!seen) {
		tidm_warn("%.*s at %s:%" PRIu64 ": if tidm applied that transaction's XA PREPARE in an earlier run, the "
			  "target still has its changes; remove them there",
			  n, q->sql, a->cur_file, a->cur_pos);
		return 0;
	}
	if ((rc = tidm_applier_flush(a, NULL)) < 0)
		return rc;
	return tidm_err_set(TIDM_EUNSUPPORTED,
			    "%.*s at %s:%" PRIu64 ": the source rolled back a prepared XA transaction whose changes tidm "
			    "had applied at its XA PREPARE; remove them on the target (the transaction's rows are at its "
			    "XA PREPARE), then run the job again: it goes on after this statement",
			    n, q->sql, a->cur_file, a->cur_pos);
}

/*
 * Online schema change tools (gh-ost, pt-online-schema-change) alter a copy of a table,
 * `_t_gho` / `_t_new`, fill it, then swap it in: RENAME TABLE t TO _t_del (or _t_old),
 * _t_gho TO t. When the job selects t but not the copy, the copy's ALTER TABLE statements
 * are kept in tidm_meta.osc (by binlog position, so a replay keeps one of each) and run on
 * t at the swap, which is not replicated as a rename; the copy's rows are not needed, the
 * target's t has its own.
 */
static int osc_forget(struct tidm_applier *a, const char *db, const char *t);

static bool osc_base(const char *name, const char **base, size_t *len)
{
	size_t n = strlen(name);
	if (n < 6 || name[0] != '_' || (strcmp(name + n - 4, "_gho") != 0 && strcmp(name + n - 4, "_new") != 0))
		return false;
	*base = name + 1;
	*len = n - 5;
	return true;
}

/* `db`.`name` is an online schema change tool's copy of the selected table `db`.`base`. */
static bool osc_copy_of(struct tidm_applier *a, const char *db, const char *name, char *base, size_t cap)
{
	const char *b;
	size_t n;

	if (!osc_base(name, &b, &n) || ddl_selected(db, name, a))
		return false;
	while (n) {
		if (n < cap) {
			memcpy(base, b, n);
			base[n] = '\0';
			if (ddl_selected(db, base, a))
				return true;
		}
		if (b[0] != '_')
			break;
		b++, n--; /* pt-osc adds underscores until the name is free */
	}
	return false;
}

static int osc_record(struct tidm_applier *a, const tidm_binlog_event *ev, const tidm_ddl *d)
{
	const tidm_binlog_query *q = &ev->u.query;
	const tidm_ddl_obj *o;
	char base[256];
	tidm_buf stmt = TIDM_BUF_INIT, ins = TIDM_BUF_INIT;
	int rc;

	if (d->n_objs < 1 || d->objs[0].role != TIDM_DDL_OBJ_TABLE || !d->objs[0].db || !d->objs[0].name)
		return 0;
	o = &d->objs[0];
	if (d->kind == TIDM_DDL_DROP_TABLE) { /* the tool gave up: forget its changes */
		size_t i;
		for (i = 0; i < d->n_objs; i++)
			if (d->objs[i].db && d->objs[i].name &&
			    osc_copy_of(a, d->objs[i].db, d->objs[i].name, base, sizeof(base)) &&
			    (rc = osc_forget(a, d->objs[i].db, base)) < 0)
				return rc;
		return 0;
	}
	if (d->kind != TIDM_DDL_ALTER_TABLE || d->n_objs != 1 || !osc_copy_of(a, o->db, o->name, base, sizeof(base)))
		return 0;
	/* the same statement on the selected table: ALTER TABLE `db`.`t` <the changes> */
	tidm_buf_puts(&stmt, "ALTER TABLE ");
	tidm_quote_qualified(&stmt, o->db, base);
	tidm_buf_put(&stmt, q->sql + o->end, q->sql_len - o->end);
	tidm_buf_puts(&ins, "INSERT IGNORE INTO `" META_DB "`.`osc` (`job`, `db`, `tbl`, `file`, `pos`, `stmt`) VALUES (");
	tidm_quote_string(&ins, a->cfg->name, strlen(a->cfg->name));
	tidm_buf_putc(&ins, ',');
	tidm_quote_string(&ins, o->db, strlen(o->db));
	tidm_buf_putc(&ins, ',');
	tidm_quote_string(&ins, base, strlen(base));
	tidm_buf_putc(&ins, ',');
	tidm_quote_string(&ins, a->cur_file, strlen(a->cur_file));
	tidm_buf_printf(&ins, ",%" PRIu64 ",", a->txn_start);
	tidm_quote_string(&ins, stmt.data, stmt.len);
	tidm_buf_putc(&ins, ')');
	rc = tidm_conn_exec(a->conn, ins.data, ins.len);
	if (rc == 0)
		tidm_info("`%s`.`%s`: kept for the swap of `%s`: %.*s", o->db, o->name, base, (int)(stmt.len > 200 ? 200 : stmt.len),
			  stmt.data);
	tidm_buf_dispose(&stmt);
	tidm_buf_dispose(&ins);
	return rc;
}

/* RENAME TABLE t TO _t_del|_t_old|..., _t_gho|_t_new TO t with t selected and the others not:
 * the object for t (the first pair), else NULL. */
static const tidm_ddl_obj *osc_swap(struct tidm_applier *a, const tidm_ddl *d)
{
	const tidm_ddl_obj *x, *y;
	char base[256];

	if (d->kind != TIDM_DDL_RENAME_TABLE || d->n_objs != 2)
		return NULL;
	x = &d->objs[0], y = &d->objs[1];
	if (!x->db || !x->name || !x->new_db || !x->new_name || !y->db || !y->name || !y->new_db || !y->new_name)
		return NULL;
	if (!ddl_selected(x->db, x->name, a) || ddl_selected(x->new_db, x->new_name, a) ||
	    strcmp(y->new_db, x->db) != 0 || strcmp(y->new_name, x->name) != 0 || strcmp(y->db, x->db) != 0 ||
	    !osc_copy_of(a, y->db, y->name, base, sizeof(base)) || strcmp(base, x->name) != 0)
		return NULL;
	return x;
}

/* The kept statements for `db`.`t`, adapted to the target, in binlog order, "; "-joined. */
static int osc_statements(struct tidm_applier *a, const tidm_ddl_obj *t, const tidm_ddl_opts *dopts, tidm_buf *out)
{
	tidm_buf q = TIDM_BUF_INIT, one = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	tidm_ddl d = TIDM_DDL_INIT;
	int rc, action;

	tidm_buf_clear(out);
	tidm_buf_puts(&q, "SELECT `stmt` FROM `" META_DB "`.`osc` WHERE `job` = ");
	tidm_quote_string(&q, a->cfg->name, strlen(a->cfg->name));
	tidm_buf_puts(&q, " AND `db` = ");
	tidm_quote_string(&q, t->db, strlen(t->db));
	tidm_buf_puts(&q, " AND `tbl` = ");
	tidm_quote_string(&q, t->name, strlen(t->name));
	tidm_buf_puts(&q, " ORDER BY `file`, `pos`");
	rc = tidm_conn_query(a->conn, &res, q.data);
	tidm_buf_dispose(&q);
	if (rc < 0)
		return rc;
	while (rc == 0 && tidm_res_next(res) == 1) {
		const char *st = tidm_res_get(res, 0);
		if (!st)
			continue;
		if ((rc = tidm_ddl_parse(&d, st, strlen(st), NULL)) < 0 ||
		    (rc = tidm_ddl_rewrite(&one, &d, st, strlen(st), dopts, ddl_selected, a, &action)) < 0)
			break;
		if (action == TIDM_DDL_FAIL) {
			rc = TIDM_EUNSUPPORTED;
			break;
		}
		if (action == TIDM_DDL_APPLY && one.len) {
			if (out->len)
				tidm_buf_puts(out, "; ");
			tidm_buf_put(out, one.data, one.len);
		}
	}
	if (rc == 0)
		tidm_info("`%s`.`%s`: an online schema change swaps its copy in: %s", t->db, t->name,
			  out->len ? out->data : "(no changes)");
	else
		tidm_err_prefix("`%s`.`%s`: the changes kept for the online schema change: ", t->db, t->name);
	tidm_res_free(res);
	tidm_ddl_dispose(&d);
	tidm_buf_dispose(&one);
	return rc;
}

static int osc_forget(struct tidm_applier *a, const char *db, const char *t)
{
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	tidm_buf_puts(&q, "DELETE FROM `" META_DB "`.`osc` WHERE `job` = ");
	tidm_quote_string(&q, a->cfg->name, strlen(a->cfg->name));
	tidm_buf_puts(&q, " AND `db` = ");
	tidm_quote_string(&q, db, strlen(db));
	tidm_buf_puts(&q, " AND `tbl` = ");
	tidm_quote_string(&q, t, strlen(t));
	rc = tidm_conn_exec(a->conn, q.data, q.len);
	tidm_buf_dispose(&q);
	return rc;
}

/*
 * The parts of the source statement's sql_mode that change what a DDL means (REAL is FLOAT,
 * || concatenates, zero dates are refused or allowed ...), as a list for SET sql_mode; the
 * quoting modes are not in it (the rewrite already turned the statement into plain quoting).
 * NO_AUTO_VALUE_ON_ZERO and NO_ENGINE_SUBSTITUTION stay as tidm's sessions have them.
 */
static const struct {
	uint64_t bit;
	const char *name;
} ddl_modes[] = {
	{1u << 0, "REAL_AS_FLOAT"},	     {1u << 1, "PIPES_AS_CONCAT"},	 {1u << 3, "IGNORE_SPACE"},
	{1u << 6, "NO_UNSIGNED_SUBTRACTION"}, {1u << 21, "STRICT_TRANS_TABLES"}, {1u << 22, "STRICT_ALL_TABLES"},
	{1u << 23, "NO_ZERO_IN_DATE"},	     {1u << 24, "NO_ZERO_DATE"},	 {1u << 25, "ALLOW_INVALID_DATES"},
	{1u << 26, "ERROR_FOR_DIVISION_BY_ZERO"}, {1u << 29, "HIGH_NOT_PRECEDENCE"},
};
#define SESSION_SQL_MODE "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"

static void put_ddl_mode(tidm_buf *b, uint64_t mode)
{
	size_t i;
	tidm_buf_puts(b, "SET SESSION sql_mode = '" SESSION_SQL_MODE);
	for (i = 0; i < sizeof(ddl_modes) / sizeof(ddl_modes[0]); i++)
		if (mode & ddl_modes[i].bit)
			tidm_buf_printf(b, ",%s", ddl_modes[i].name);
	tidm_buf_putc(b, '\'');
}

static int apply_query(struct tidm_applier *a, const tidm_binlog_event *ev)
{
	const tidm_binlog_query *q = &ev->u.query;
	char defdb[256];
	tidm_ddl ddl = TIDM_DDL_INIT;
	tidm_buf out = TIDM_BUF_INIT;
	const tidm_ddl_obj *osc_done = NULL;
	int action = 0, rc;

	switch (query_kind(q->sql, q->sql_len)) {
	case Q_BEGIN:
		txn_begin(a, ev);
		a->explicit_txn = true;
		return 0;
	case Q_XA_END:
	case Q_RELEASE: /* RELEASE SAVEPOINT: nothing undone */
		return 0;
	case Q_XA_ROLLBACK:
		return xa_rollback(a, q);
	case Q_XA_OTHER: /* XA COMMIT of a prepared transaction (applied at its XA PREPARE) */
	case Q_COMMIT:
		return txn_end(a);
	case Q_SAVEPOINT:
		return a->explicit_txn ? forward_savepoint(a, q) : 0;
	case Q_ROLLBACK:
		return a->in_txn ? rollback_txn(a) : 0;
	default:
		break;
	}
	snprintf(defdb, sizeof(defdb), "%.*s", (int)(q->db_len < 255 ? q->db_len : 255), q->db ? q->db : "");
	rc = tidm_ddl_parse_mode(&ddl, q->sql, q->sql_len, defdb[0] ? defdb : NULL,
				 !q->has_sql_mode ? 0
						  : ((q->sql_mode & (1u << 2)) ? TIDM_DDL_ANSI_QUOTES : 0) |
							    ((q->sql_mode & (1u << 20)) ? TIDM_DDL_NO_BACKSLASH_ESCAPES : 0));
	if (rc < 0) {
		/* never skip a statement we do not understand: it may change a selected table */
		tidm_err_prefix("cannot understand the statement at %s:%" PRIu64 " (%.*s%s): ", a->cur_file, a->cur_pos,
				(int)(q->sql_len > 120 ? 120 : q->sql_len), q->sql, q->sql_len > 120 ? "..." : "");
		tidm_ddl_dispose(&ddl);
		return rc;
	}
	if (ddl.kind == TIDM_DDL_NOT_DDL && ddl.dml) {
		/* a change written as a statement (binlog_format STATEMENT or MIXED in that session):
		 * its rows are not in the binlog; on a selected table that would lose them */
		size_t i;
		const tidm_ddl_obj *hit = NULL;
		for (i = 0; i < ddl.n_objs && !hit; i++)
			if (ddl_selected(ddl.objs[i].db, ddl.objs[i].name, a))
				hit = &ddl.objs[i];
		if (hit || ddl.dml_unknown) {
			tidm_buf w = TIDM_BUF_INIT;
			if (hit)
				tidm_quote_qualified(&w, hit->db, hit->name);
			rc = tidm_err_set(TIDM_EUNSUPPORTED,
					  "a change at %s:%" PRIu64 " was written to the binlog as a statement, not as row "
					  "events (binlog_format STATEMENT or MIXED in that session), %s%s: %.*s%s; tidm "
					  "cannot know its rows. Set binlog_format = ROW globally, reconnect the "
					  "applications, and copy the affected tables again (a new job of type all)",
					  a->cur_file, a->cur_pos, hit ? "on the selected table " : "on a table tidm cannot name",
					  hit ? w.data : "", (int)(q->sql_len > 120 ? 120 : q->sql_len), q->sql,
					  q->sql_len > 120 ? "..." : "");
			tidm_buf_dispose(&w);
			tidm_ddl_dispose(&ddl);
			return rc;
		}
		tidm_ddl_dispose(&ddl);
		return 0; /* it writes tables outside the selection only */
	}
	if (ddl.kind == TIDM_DDL_NOT_DDL) {
		tidm_ddl_dispose(&ddl);
		return 0; /* GRANT, FLUSH, SET, ...: nothing of the selected tables' rows */
	}
	if (ddl.temporary) {
		tidm_ddl_dispose(&ddl);
		return 0;
	}
	if (ddl.kind == TIDM_DDL_OTHER) {
		/* a sequence statement (sync/sequence.c), else one tidm does not replicate */
		rc = tidm_seq_sync_ddl(a->seqs, &out, q->sql, q->sql_len, defdb[0] ? defdb : NULL, ddl_selected, a);
		if (rc == 0)
			tidm_warn("not replicated (statement tidm does not handle) at %s:%" PRIu64 ": %.*s", a->cur_file,
				  a->cur_pos, (int)(q->sql_len > 200 ? 200 : q->sql_len), q->sql);
		if (rc <= 0 || !out.len) {
			rc = rc < 0 ? rc : 0;
			goto out;
		}
		action = TIDM_DDL_APPLY;
		rc = 0;
	} else {
		tidm_ddl_opts dopts = TIDM_DDL_OPTS_INIT;
		const tidm_ddl_obj *base = NULL;
		dopts.source = a->o.source_flavor;
		dopts.target = tidm_conn_info(a->conn)->flavor;
		dopts.target_version = tidm_conn_info(a->conn)->version;
		dopts.idempotent = safe_mode(a);
		if ((rc = osc_record(a, ev, &ddl)) < 0)
			goto out;
		if ((base = osc_swap(a, &ddl)) != NULL) {
			/* an online schema change tool swaps its altered copy in: the target's table gets
			 * the copy's changes instead */
			rc = osc_statements(a, base, &dopts, &out);
			action = TIDM_DDL_APPLY;
			osc_done = base;
		} else {
			rc = tidm_ddl_rewrite(&out, &ddl, q->sql, q->sql_len, &dopts, ddl_selected, a, &action);
		}
	}
	if (rc < 0 || action == TIDM_DDL_FAIL) {
		if (rc >= 0)
			rc = TIDM_EUNSUPPORTED;
		tidm_err_prefix("DDL at %s:%" PRIu64 ": ", a->cur_file, a->cur_pos);
		goto out;
	}
	if (action == TIDM_DDL_APPLY && a->windows) {
		/* a DDL on tables whose copies were made after it is already in their definition */
		size_t i, tables = 0, before = 0;
		for (i = 0; i < ddl.n_objs; i++) {
			if (ddl.objs[i].role != TIDM_DDL_OBJ_TABLE || !ddl.objs[i].db || !ddl.objs[i].name)
				continue;
			tables++;
			if (window_side(a, find_window(a, ddl.objs[i].db, ddl.objs[i].name)) < 0)
				before++;
		}
		if (tables && before == tables)
			action = TIDM_DDL_SKIP;
	}
	{
		/* DDL commits implicitly; remember where it started for the barrier below (any
		 * checkpoint taken now must be BEFORE the DDL) */
		uint64_t start = a->txn_start, after = a->cur_pos;
		a->cur_pos = start;
		rc = txn_end(a);
		a->cur_pos = after;
		a->txn_start = start;
		if (rc < 0)
			goto out;
	}
	if (action == TIDM_DDL_SKIP) {
		rc = 0;
		goto out;
	}
	if (ddl.create_select) {
		rc = tidm_err_set(TIDM_EUNSUPPORTED,
				  "CREATE TABLE ... SELECT at %s:%" PRIu64 " cannot be migrated: its rows are not in the "
				  "binlog as row events when it was replicated from a secondary; create the table on the "
				  "target and restart the job",
				  a->cur_file, a->cur_pos);
		goto out;
	}
	/* barrier: everything before the DDL is committed, with the checkpoint BEFORE the DDL
	 * (a crash before the DDL runs must not skip it) */
	{
		uint64_t after = a->cur_pos;
		a->cur_pos = a->txn_start;
		rc = tidm_applier_flush(a, NULL);
		a->cur_pos = after;
		if (rc < 0)
			goto out;
	}
	if (defdb[0]) {
		tidm_buf u = TIDM_BUF_INIT;
		tidm_buf_puts(&u, "USE ");
		tidm_quote_ident(&u, defdb);
		rc = tidm_conn_exec(a->conn, u.data, u.len);
		tidm_buf_dispose(&u);
		if (rc < 0 && rc != TIDM_ENOTFOUND)
			goto out;
	}
	{
		/* the rewrite may have made several statements of one (CREATE OR REPLACE TABLE, an
		 * ALTER TABLE split for TiDB): one at a time, so that a replay passes over those
		 * applied before a crash and still runs the rest */
		bool several = ddl.kind == TIDM_DDL_ALTER_TABLE || ddl.kind == TIDM_DDL_RENAME_TABLE ||
			       ddl.kind == TIDM_DDL_CREATE_TABLE || ddl.kind == TIDM_DDL_OTHER;
		size_t at = 0;
		unsigned no = 0;
		tidm_buf m = TIDM_BUF_INIT;
		put_ddl_mode(&m, q->has_sql_mode ? q->sql_mode : 0);
		rc = tidm_conn_exec(a->conn, m.data, m.len);
		tidm_buf_dispose(&m);
		if (rc < 0 || (rc = tidm_ddl_charset_enter(a->charset, q, defdb[0] != '\0')) < 0)
			goto out;
		while (at < out.len) {
			size_t n = several ? tidm_ddl_stmt_len(out.data + at, out.len - at, 0) : out.len - at;
			/* 1: applied before a crash (sync/ddl_guard.h) */
			int done = tidm_ddl_guard_begin(a->guard, a->cur_file, a->cur_pos, no++, out.data + at, n, defdb);
			if ((rc = done) < 0)
				goto out;
			if (!done && (rc = tidm_conn_exec(a->conn, out.data + at, n)) == 0)
				tidm_ddl_guard_ran(a->guard);
			if (rc < 0) {
				unsigned e = tidm_err_dberr();
				/* replaying a DDL that was applied just before a crash */
				if (safe_mode(a) && (e == 1050 || e == 1051 || e == 1060 || e == 1061 || e == 1091 ||
						     e == 1007 || e == 1008 || e == 1146 || e == 1054 || e == 4091)) {
					tidm_info("DDL already applied (replay after a restart): %s", tidm_err_msg());
					rc = 0;
				} else {
					tidm_err_prefix("DDL at %s:%" PRIu64 " failed on the target: ", a->cur_file,
							a->cur_pos);
					goto out;
				}
			}
			at += n;
			while (at < out.len && (out.data[at] == ';' || out.data[at] == ' '))
				at++;
		}
		if ((rc = tidm_conn_exec(a->conn, "SET SESSION sql_mode = '" SESSION_SQL_MODE "'",
					 strlen("SET SESSION sql_mode = '" SESSION_SQL_MODE "'"))) < 0 ||
		    (rc = tidm_ddl_charset_leave(a->charset)) < 0)
			goto out;
	}
	{
		size_t i;
		tbl_info_free_all(a);
		fks_free(a); /* the DDL may have added or dropped a foreign key */
		for (i = 0; i < ddl.n_objs; i++) {
			if (ddl.objs[i].role != TIDM_DDL_OBJ_TABLE)
				continue;
			tidm_schema_invalidate(a->schema, ddl.objs[i].db, ddl.objs[i].name);
			if (ddl.objs[i].new_db)
				tidm_schema_invalidate(a->schema, ddl.objs[i].new_db, ddl.objs[i].new_name);
		}
		if (ddl.kind == TIDM_DDL_DROP_DATABASE || ddl.kind == TIDM_DDL_RENAME_TABLE)
			tidm_schema_invalidate(a->schema, NULL, NULL);
	}
	if (osc_done && (rc = osc_forget(a, osc_done->db, osc_done->name)) < 0)
		goto out;
	/* the checkpoint after the DDL and the end of its in-progress record: one transaction */
	if ((rc = tidm_conn_exec(a->conn, "BEGIN", 5)) == 0 && (rc = set_all_checkpoints(a)) == 0 &&
	    (rc = tidm_ddl_guard_clear(a->guard)) == 0)
		rc = tidm_conn_exec(a->conn, "COMMIT", 6);
	if (a->o.progress)
		atomic_fetch_add(&a->o.progress->ddls, 1);
out:
	tidm_buf_dispose(&out);
	tidm_ddl_dispose(&ddl);
	return rc;
}

/* The event is the GTID of a transaction the job's start set holds. */
static bool start_set_has(const struct tidm_applier *a, const tidm_binlog_event *ev)
{
	tidm_gtid g;

	memset(&g, 0, sizeof(g));
	switch (ev->hdr.type) {
	case TIDM_BINLOG_GTID:
	case TIDM_BINLOG_GTID_TAGGED:
		if (ev->u.gtid.gno <= 0)
			return false;
		g.flavor = TIDM_GTID_MYSQL;
		memcpy(g.uuid, ev->u.gtid.sid, 16);
		g.gno = (uint64_t)ev->u.gtid.gno;
		if (ev->u.gtid.tag && ev->u.gtid.tag_len) {
			size_t i, n = ev->u.gtid.tag_len < TIDM_GTID_TAG_MAX ? ev->u.gtid.tag_len : TIDM_GTID_TAG_MAX;
			for (i = 0; i < n; i++)
				g.tag[i] = (char)tolower((unsigned char)ev->u.gtid.tag[i]);
		}
		break;
	case TIDM_BINLOG_MARIA_GTID:
		g.flavor = TIDM_GTID_MARIADB;
		g.domain = ev->u.maria_gtid.domain_id;
		g.server = ev->u.maria_gtid.server_id;
		g.seq = ev->u.maria_gtid.seq_no;
		break;
	default:
		return false;
	}
	return tidm_gtid_set_contains_gtid(&a->start_set, &g);
}

int tidm_applier_feed(tidm_applier *a, tidm_binlog_decoder *dec, const tidm_binlog_event *ev, const char *file,
		      uint64_t next_pos)
{
	int rc = 0;

	if (atomic_load(&a->failed))
		return take_failure(a);
	if (a->o.progress)
		atomic_fetch_add(&a->o.progress->events, 1);
	if (file && file[0] && strcmp(file, a->cur_file) != 0)
		snprintf(a->cur_file, sizeof(a->cur_file), "%s", file);
	if (a->have_start_set && !a->in_txn && !a->skip_txn && start_set_has(a, ev)) {
		a->skip_txn = true;
		a->skip_explicit = ev->hdr.type == TIDM_BINLOG_MARIA_GTID && !(ev->u.maria_gtid.flags2 & 1);
		if (a->o.progress)
			atomic_fetch_add(&a->o.progress->skipped, 1);
		return 0;
	}
	if (a->skip_txn) {
		/* the position stays before the transaction until it is over */
		bool end = false;
		switch (ev->hdr.type) {
		case TIDM_BINLOG_QUERY:
		case TIDM_BINLOG_MARIA_QUERY_COMPRESSED: {
			int k = query_kind(ev->u.query.sql, ev->u.query.sql_len);
			if (k == Q_BEGIN)
				a->skip_explicit = true;
			else if (!a->skip_explicit || k == Q_COMMIT || k == Q_ROLLBACK)
				end = true;
			break;
		}
		case TIDM_BINLOG_XID:
		case TIDM_BINLOG_XA_PREPARE:
			end = true;
			break;
		default:
			break;
		}
		if (end) {
			a->skip_txn = a->skip_explicit = false;
			a->cur_pos = next_pos;
		}
		return 0;
	}
	switch (ev->hdr.type) {
	case TIDM_BINLOG_GTID:
	case TIDM_BINLOG_ANONYMOUS_GTID:
	case TIDM_BINLOG_GTID_TAGGED:
	case TIDM_BINLOG_MARIA_GTID:
		txn_begin(a, ev);
		/* MariaDB has no BEGIN event: a GTID without flags2 & 1 (FL_STANDALONE) opens a
		 * transaction that an XID, COMMIT, ROLLBACK or XA PREPARE ends; a standalone one
		 * (DDL, XA COMMIT) is ended by its statement */
		if (ev->hdr.type == TIDM_BINLOG_MARIA_GTID && !(ev->u.maria_gtid.flags2 & 1))
			a->explicit_txn = true;
		break;
	case TIDM_BINLOG_QUERY:
	case TIDM_BINLOG_MARIA_QUERY_COMPRESSED:
		if (!a->in_txn)
			txn_begin(a, ev);
		a->cur_pos = next_pos;
		rc = apply_query(a, ev);
		if (rc == 0 && a->in_txn && !a->explicit_txn)
			rc = txn_end(a); /* a statement outside BEGIN ... COMMIT ends its own transaction */
		return rc;

	case TIDM_BINLOG_XA_PREPARE:
		if (!ev->u.xa_prepare.one_phase)
			xa_remember(a, &ev->u.xa_prepare);
		/* fall through */
	case TIDM_BINLOG_XID:
		a->cur_pos = next_pos;
		return txn_end(a);
	default:
		if (tidm_binlog_is_rows_event(ev->hdr.type)) {
			if (!a->in_txn)
				txn_begin(a, ev);
			rc = apply_rows_event(a, dec, ev);
		}
		break;
	}
	if (!a->in_txn)
		a->cur_pos = next_pos;
	return rc;
}

void tidm_applier_reset_txn(tidm_applier *a)
{
	unsigned i;

	/* The half-fed transaction will be sent again from its start: drop what the workers
	 * have of it (never committed: a worker commits only at a mark, and the pieces of a
	 * split transaction it has committed are skipped like those a restart finds). */
	for (i = 0; i < a->nworkers && a->in_txn; i++) {
		worker *w = &a->w[i];
		item *rb;
		if (w->piece_row) {
			snprintf(w->skip_file, sizeof(w->skip_file), "%s", a->txn_file);
			w->skip_pos = a->txn_start;
			w->skip_row = w->piece_row;
			a->skipping = true;
		}
		if (!(a->participants & (1ull << i)))
			continue;
		while (w->pend_head) {
			item *it = w->pend_head;
			w->pend_head = it->next;
			item_free(it);
		}
		w->pend_tail = NULL;
		w->pend_n = w->pend_marks = w->pend_bytes = 0;
		rb = calloc(1, sizeof(*rb));
		if (!rb)
			abort();
		rb->kind = ITEM_ROLLBACK;
		push(a, w, rb);
	}
	a->in_txn = false;
	a->explicit_txn = false;
	a->participants = 0;
}

/* ---- setup --------------------------------------------------------------------------------------- */

/* Read the worker checkpoints; *have = false when the job has none. */
static int load_checkpoints(tidm_applier *a, tidm_sync_pos *resume, bool *have)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	unsigned stored_workers = 0, rows = 0;
	int rc;

	*have = false;
	tidm_buf_puts(&q, "SELECT `worker`, `file`, `pos`, `nworkers`, `txn_row` FROM `" META_DB
			  "`.`sync_workers` WHERE `job` = ");
	tidm_quote_string(&q, a->cfg->name, strlen(a->cfg->name));
	if ((rc = tidm_conn_query(a->conn, &res, q.data)) < 0)
		goto out;
	while (tidm_res_next(res) == 1) {
		unsigned wid = (unsigned)strtoul(tidm_res_get(res, 0), NULL, 10);
		const char *file = tidm_res_get(res, 1);
		uint64_t pos = strtoull(tidm_res_get(res, 2), NULL, 10);
		uint64_t row = strtoull(tidm_res_get(res, 4), NULL, 10);
		stored_workers = (unsigned)strtoul(tidm_res_get(res, 3), NULL, 10);
		if (!file[0])
			continue;
		rows++;
		if (!*have || tidm_sync_pos_cmp(file, pos, resume->file, resume->pos) < 0) {
			snprintf(resume->file, sizeof(resume->file), "%s", file);
			resume->pos = pos;
			resume->gtid[0] = '\0';
		}
		*have = true;
		if (wid < a->nworkers) {
			snprintf(a->w[wid].skip_file, sizeof(a->w[wid].skip_file), "%s", file);
			a->w[wid].skip_pos = pos;
			a->w[wid].skip_row = row;
		}
		if (wid < MAX_WORKERS) {
			snprintf(a->old_cp[wid].file, sizeof(a->old_cp[wid].file), "%s", file);
			a->old_cp[wid].pos = pos;
			a->old_cp[wid].row = row;
		}
	}
	if (*have && (stored_workers != a->nworkers || rows != a->nworkers)) {
		/* routing changed: nothing can be proven applied; replay idempotently instead */
		unsigned i;
		tidm_warn("apply-workers changed from %u to %u: replaying from the lowest checkpoint in safe mode",
			  stored_workers, a->nworkers);
		for (i = 0; i < a->nworkers; i++)
			a->w[i].skip_file[0] = '\0';
		a->safe_until = time(NULL) + 3600 * 24 * 365; /* until the first flush */
		if (stored_workers && stored_workers <= MAX_WORKERS && rows == stored_workers)
			a->old_n = stored_workers;
	}
	a->skipping = *have;
	tidm_res_free(res);
	res = NULL;
	/* (re)create one row per worker */
	{
		unsigned i;
		for (i = 0; i < a->nworkers; i++) {
			tidm_buf_clear(&q);
			tidm_buf_puts(&q, "INSERT IGNORE INTO `" META_DB "`.`sync_workers` (`job`,`worker`,`file`,`pos`,`nworkers`) VALUES (");
			tidm_quote_string(&q, a->cfg->name, strlen(a->cfg->name));
			tidm_buf_printf(&q, ",%u,", i);
			if (*have)
				tidm_quote_string(&q, resume->file, strlen(resume->file));
			else
				tidm_buf_puts(&q, "''");
			tidm_buf_printf(&q, ",%" PRIu64 ",%u)", *have ? resume->pos : 0, a->nworkers);
			if ((rc = tidm_conn_exec(a->conn, q.data, q.len)) < 0)
				goto out;
		}
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "DELETE FROM `" META_DB "`.`sync_workers` WHERE `job` = ");
		tidm_quote_string(&q, a->cfg->name, strlen(a->cfg->name));
		tidm_buf_printf(&q, " AND `worker` >= %u", a->nworkers);
		rc = tidm_conn_exec(a->conn, q.data, q.len);
	}
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

int tidm_applier_set_start(tidm_applier *a, const tidm_sync_pos *start)
{
	snprintf(a->cur_file, sizeof(a->cur_file), "%s", start->file);
	a->cur_pos = start->pos;
	return set_all_checkpoints(a);
}

int tidm_applier_new(tidm_applier **out, const tidm_applier_opts *o, tidm_sync_pos *resume, bool *have_resume)
{
	tidm_applier *a = calloc(1, sizeof(*a));
	const tidm_job_config *cfg = o->cfg;
	unsigned i;
	int rc;

	if (!a)
		abort();
	*out = NULL;
	a->cfg = cfg;
	a->o = *o;
	a->nworkers = cfg->apply_workers ? cfg->apply_workers : 8;
	if (a->nworkers > MAX_WORKERS)
		a->nworkers = MAX_WORKERS;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cond, NULL);
	for (i = 0; i < a->nworkers; i++)
		pthread_cond_init(&a->w[i].cond, NULL);
	a->keys = calloc(KEYMAP_SIZE, sizeof(*a->keys));
	a->schema = tidm_schema_cache_new();
	if (!a->keys)
		abort();
	a->safe_mode_forced = cfg->safe_mode;
	tidm_gtid_set_init(&a->start_set, TIDM_GTID_AUTO);
	if (cfg->start_gtid && cfg->start_gtid[0]) {
		if ((rc = tidm_gtid_set_parse(&a->start_set, TIDM_GTID_AUTO, cfg->start_gtid)) < 0) {
			tidm_err_prefix("start.gtid: ");
			goto fail;
		}
		a->have_start_set = !tidm_gtid_set_is_empty(&a->start_set);
	}
	tidm_endpoint_conn_opts(&a->copts, &cfg->target, TIDM_ROLE_TARGET);
	a->copts.found_rows = true;
	a->copts.multi_statements = true; /* workers send their statements in scripts */

	if ((rc = tidm_conn_open(&a->conn, &a->copts)) < 0 || (rc = tidm_meta_ensure(a->conn)) < 0 ||
	    (rc = tidm_seq_sync_new(&a->seqs, a->conn)) < 0 || (rc = load_checkpoints(a, resume, have_resume)) < 0 ||
	    (rc = tidm_ddl_guard_new(&a->guard, a->conn, cfg->name)) < 0)
		goto fail;
	a->charset = tidm_ddl_charset_new(a->conn, o->source_flavor);
	{
		const tidm_server_info *si = tidm_conn_info(a->conn);
		a->savepoints = !(si->flavor == TIDM_FLAVOR_TIDB && si->version < 60200);
	}
	tidm_txn_split_resolve(a->conn, cfg, &a->max_txn_bytes);
	{
		/* an unclean stop of the previous run: safe mode for a while */
		char *state = NULL;
		tidm_buf q = TIDM_BUF_INIT;
		tidm_buf_puts(&q, "SELECT `state` FROM `" META_DB "`.`jobs` WHERE `name` = ");
		tidm_quote_string(&q, cfg->name, strlen(cfg->name));
		if (tidm_conn_query_value(a->conn, &state, q.data) == 0 && state && !strcmp(state, "running") &&
		    *have_resume) {
			unsigned secs = cfg->safe_mode_seconds ? cfg->safe_mode_seconds : 60;
			if (a->safe_until < time(NULL) + (time_t)secs)
				a->safe_until = time(NULL) + (time_t)secs;
			tidm_info("the previous run stopped without a clean shutdown: safe mode for %u s", secs);
		}
		tidm_err_clear();
		free(state);
		tidm_buf_dispose(&q);
	}
	if (*have_resume) {
		snprintf(a->cur_file, sizeof(a->cur_file), "%s", resume->file);
		a->cur_pos = resume->pos;
	}
	for (i = 0; i < a->nworkers; i++) {
		worker *w = &a->w[i];
		w->a = a;
		w->id = i;
		if ((rc = tidm_conn_open(&w->conn, &a->copts)) < 0)
			goto fail;
		/* Rows of different workers never overlap (routing by key), but REPEATABLE READ's gap
		 * locks would still make one worker wait for another's open transaction - which
		 * may itself wait for the coordinator: a deadlock. READ COMMITTED takes no gap locks. */
		if (tidm_conn_info(w->conn)->flavor != TIDM_FLAVOR_TIDB &&
		    (rc = tidm_conn_exec(w->conn, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", 54)) < 0)
			goto fail;
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			rc = tidm_err_set(TIDM_ERROR, "cannot start an apply worker thread");
			goto fail;
		}
		w->started = true;
	}
	*out = a;
	return 0;
fail:
	tidm_applier_free(a);
	return rc;
}

void tidm_applier_free(tidm_applier *a)
{
	unsigned i;

	if (!a)
		return;
	for (i = 0; i < a->nworkers; i++) {
		if (!a->w[i].started)
			continue;
		item *stop = calloc(1, sizeof(*stop));
		if (!stop)
			abort();
		stop->kind = ITEM_STOP;
		push(a, &a->w[i], stop);
	}
	for (i = 0; i < a->nworkers; i++) {
		worker *w = &a->w[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		while (w->head) {
			item *it = w->head;
			w->head = it->next;
			item_free(it);
		}
		while (w->pend_head) {
			item *it = w->pend_head;
			w->pend_head = it->next;
			item_free(it);
		}
		tidm_conn_close(w->conn);
	}
	tbl_info_free_all(a);
	while (a->windows) {
		window *w = a->windows;
		a->windows = w->next;
		free(w->db);
		free(w->table);
		free(w);
	}
	tidm_schema_cache_free(a->schema);
	tidm_seq_sync_free(a->seqs);
	tidm_ddl_guard_free(a->guard);
	tidm_ddl_charset_free(a->charset);
	tidm_conn_close(a->conn);
	free(a->keys);
	free(a->hashbuf);
	fks_free(a);
	tidm_gtid_set_dispose(&a->start_set);
	tidm_buf_dispose(&a->scratch);
	tidm_buf_dispose(&a->keybuf);
	for (i = 0; i < a->nworkers; i++)
		pthread_cond_destroy(&a->w[i].cond);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cond);
	free(a);
}
