/*
 * full.c - the existing-data phase, logical mode (see full.h).
 *
 * DESIGN
 *  1. Discover: the selected base tables and views of the source (information_schema,
 *     filtered by the job's tidm_filter; system schemas never).
 *  2. Job record: `tidm_meta` on the target holds one row per job (stage, state, snapshot
 *     position), one per planned table and one per chunk (bounds, state). A job whose row
 *     says it is unfinished is resumed: the original snapshot position is kept, planned
 *     chunks are read back and only those not marked done are copied again. Chunks of
 *     tables with a key are copied with REPLACE, so a half-copied chunk copied again
 *     leaves no duplicate; a keyless table is one chunk copied in a single target
 *     transaction together with its "done" mark, and a target table tidm claimed for it
 *     is emptied before it is copied again (dump/keyless.h), so it is never doubled. A
 *     finished job is not resumed; the runner reports it, and --restart starts afresh.
 *  3. Snapshot: every dump connection starts `START TRANSACTION WITH CONSISTENT SNAPSHOT`
 *     while the coordinator holds FLUSH TABLES WITH READ LOCK (needs RELOAD), or, where
 *     that is refused (RDS, Aurora, Cloud SQL), `LOCK TABLES ... READ` on the selected
 *     tables (needs LOCK TABLES): writers of those tables wait, so the binlog position
 *     read under the lock is exactly the snapshot's. The lock is released at once.
 *  4. Schema: databases, then tables (SHOW CREATE TABLE, adapted to the target dialect by
 *     db/dialect), then views (definer removed; several passes for views on views). A
 *     table tidm creates leaves out its plain secondary indexes (tidm_dialect_split_keys;
 *     not when another table's foreign key points at it);
 *     they are kept in tidm_meta.tables.deferred_keys and built with one ALTER TABLE when
 *     the table's last chunk is done (finish_table), also by a resumed run.
 *  5. Plan: chunk bounds walk the key in key order, `chunk_rows` rows apart
 *     (`WHERE key > prev ORDER BY key LIMIT 1 OFFSET n-1`), so composite and string keys
 *     work and every row falls in exactly one chunk: chunk i is (b[i-1], b[i]]. Bounds are
 *     stored as SQL literals (numbers, or hex with a charset introducer) so they compare
 *     with the column's own collation.
 *  6. Copy: `dump_threads` dump workers each own a snapshot connection, stream a chunk,
 *     and cut it into batches of at most `statement_bytes`: LOAD DATA LOCAL INFILE text
 *     (REPLACE for tables with a key) where the target allows it (choose_load_method),
 *     else multi-row REPLACE statements; every LOAD DATA is checked against the server's
 *     count of rows read, skipped and warned about (load_rows). Batches travel over a
 *     bounded queue to `load_threads` load workers that own target connections. A chunk
 *     carries a reference count (1 for its producer plus 1 per statement in flight); the
 *     worker that drops it to zero marks the chunk done in tidm_meta. Memory is bounded by
 *     the queue: about (2 * load_threads + dump_threads) * statement_bytes.
 *  7. DDL during the copy: definitions are read under the snapshot's lock, and columns
 *     and keys only count when the definition is still that one afterwards
 *     (describe_snapshot), so the rows read and the table made agree. A table the snapshot can no longer
 *     read (a later ALTER that rebuilt it: 1412; a dropped column: 1054; renamed or
 *     dropped: 1146) is marked stale and its other chunks are passed over; when the round
 *     ends, another round takes a new snapshot at P' and copies the stale tables again
 *     (their target copies dropped first) with the tables that appeared since (a RENAME's
 *     new name). Stale tables gone at P' are dropped on the target and recorded as 'gone'
 *     chunks at P'. Chunks record the snapshot they were copied under, so replication
 *     (type all) skips those tables' events before P' (sync/apply.h windows): the DDL
 *     itself is in the new copy. A resumed run treats tables it copied before and that
 *     are gone from the source the same way.
 *  Errors: the first error stops every worker (a shared flag polled per statement); the
 *  job row is left "running" so the next run resumes.
 */
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
} stmt;

typedef struct run {
	const tidm_job_config *cfg;
	tidm_full_progress *prog;
	volatile sig_atomic_t *cancel;
	tidm_conn_opts src_opts;
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
	unsigned pause_ms; /* TIDM_TEST_PAUSE_AFTER_CHUNK (tests only): each dump worker sleeps this long after a chunk */

	_Atomic int stop;
	int err_code;
	unsigned err_db;
	char err_msg[2048];
} run;

static bool stopping(run *r)
{
	return atomic_load(&r->stop) || (r->cancel && *r->cancel);
}

/* Record the first error of any thread (from this thread's last error) and stop all. */
static void fail(run *r)
{
	pthread_mutex_lock(&r->mu);
	if (!r->err_code) {
		r->err_code = tidm_err_code() ? tidm_err_code() : TIDM_ERROR;
		r->err_db = tidm_err_dberr();
		snprintf(r->err_msg, sizeof(r->err_msg), "%s", tidm_err_msg());
	}
	atomic_store(&r->stop, 1);
	pthread_cond_broadcast(&r->not_empty);
	pthread_cond_broadcast(&r->not_full);
	pthread_mutex_unlock(&r->mu);
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		abort();
	return p;
}

static void names_add(tidm_buf *b, const char *db, const char *name)
{
	tidm_buf_put(b, db, strlen(db) + 1);
	tidm_buf_put(b, name, strlen(name) + 1);
}

static bool names_has(const tidm_buf *b, const char *db, const char *name)
{
	const char *p = b->data, *end = b->data + b->len;

	while (p && p < end) {
		const char *n = p + strlen(p) + 1;
		if (!strcmp(p, db) && !strcmp(n, name))
			return true;
		p = n + strlen(n) + 1;
	}
	return false;
}

/* The source's last error says a table cannot be read in this snapshot any more (7.). */
static bool stale_error(void)
{
	unsigned e = tidm_err_dberr();
	return e == 1412 /* ER_TABLE_DEF_CHANGED */ || e == 1146 /* ER_NO_SUCH_TABLE */ ||
	       e == 1054 /* ER_BAD_FIELD_ERROR */;
}

static void mark_stale(table *t)
{
	if (!atomic_exchange(&t->stale, true))
		tidm_info("`%s`.`%s` changed on the source after the snapshot (%s): it is copied again from a later "
			  "snapshot",
			  t->db, t->name, tidm_err_msg());
	tidm_err_clear();
}

static void table_dispose(table *t)
{
	size_t i;

	free(t->db);
	free(t->name);
	for (i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	free(t->cols);
	for (i = 0; i < t->nkey; i++)
		free(t->key[i]);
	free(t->key);
	for (i = 0; i < t->nint_cols; i++)
		free(t->int_cols[i]);
	free(t->int_cols);
	tidm_buf_dispose(&t->col_list);
	tidm_buf_dispose(&t->head);
	tidm_buf_dispose(&t->load_sql);
	free(t->create_sql);
	free(t->snap_create);
}

static void chunk_free(chunk *c)
{
	if (!c)
		return;
	free(c->lower);
	free(c->upper);
	free(c);
}

/* ---- the job record in tidm_meta ---------------------------------------------------- */

/* Append "'job'" etc.: a string value, escaped. */
static void put_str(tidm_buf *b, const char *s)
{
	tidm_quote_string(b, s, strlen(s));
}

/* Find the unfinished job record (resume; not with --restart), and the keyless tables'
 * marks of earlier runs. A fresh start forgets the old plans later (meta_reset_job). */
static int meta_load_job(run *r, tidm_conn *tgt, bool *resumed, tidm_snapshot_pos *snap)
{
	tidm_meta_job j;
	int rc;

	*resumed = false;
	if ((rc = tidm_meta_job_get(tgt, r->cfg->name, &j)) < 0 ||
	    (rc = tidm_keyless_marks_read(tgt, r->cfg->name, &r->keyless)) < 0)
		return rc;
	if (j.exists && strcmp(j.state, "finished") != 0 && !r->restart) {
		*resumed = true;
		snprintf(snap->file, sizeof(snap->file), "%s", j.snap_file);
		snap->pos = j.snap_pos;
		snap->gtid_set = j.snap_gtid;
		j.snap_gtid = NULL;
		snprintf(snap->method, sizeof(snap->method), "%s", j.snap_method);
	}
	tidm_meta_job_dispose(&j);
	return 0;
}

/* A fresh start: forget the old chunk plans and replication checkpoints. */
static int meta_reset_job(run *r, tidm_conn *tgt)
{
	const char *tbls[] = {"chunks", "tables", "sync_workers", "ddl_guard"};
	tidm_buf q = TIDM_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(tbls) / sizeof(tbls[0]) && rc == 0; i++) {
		tidm_buf_clear(&q);
		tidm_buf_printf(&q, "DELETE FROM `" META_DB "`.`%s` WHERE `job` = ", tbls[i]);
		put_str(&q, r->cfg->name);
		rc = tidm_conn_exec(tgt, q.data, q.len);
	}
	tidm_buf_dispose(&q);
	return rc;
}

static int meta_save_job(run *r, tidm_conn *tgt, const char *state, const char *stage,
			 const tidm_snapshot_pos *snap)
{
	tidm_meta_job j;

	memset(&j, 0, sizeof(j));
	snprintf(j.state, sizeof(j.state), "%s", state);
	snprintf(j.stage, sizeof(j.stage), "%s", stage);
	snprintf(j.snap_file, sizeof(j.snap_file), "%s", snap->file);
	j.snap_pos = snap->pos;
	j.snap_gtid = snap->gtid_set;
	snprintf(j.snap_method, sizeof(j.snap_method), "%s", snap->method);
	return tidm_meta_job_put(tgt, r->cfg->name, tidm_job_type_name(r->cfg->type), &j);
}

static void put_chunk_where(tidm_buf *q, const run *r, const chunk *c)
{
	tidm_buf_puts(q, " WHERE `job` = ");
	put_str(q, r->cfg->name);
	tidm_buf_puts(q, " AND `db` = ");
	put_str(q, c->t->db);
	tidm_buf_puts(q, " AND `tbl` = ");
	put_str(q, c->t->name);
	tidm_buf_printf(q, " AND `no` = %u", c->no);
}

static int meta_chunk_done(run *r, tidm_conn *tgt, chunk *c)
{
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	tidm_buf_printf(&q, "UPDATE `" META_DB "`.`chunks` SET `state` = 'done', `rows_copied` = %llu, "
			    "`bytes_copied` = %llu, `snap_pos` = %llu, `snap_file` = ",
			(unsigned long long)atomic_load(&c->rows), (unsigned long long)atomic_load(&c->bytes),
			(unsigned long long)r->copy_snap.pos);
	put_str(&q, r->copy_snap.file);
	put_chunk_where(&q, r, c);
	rc = tidm_conn_exec(tgt, q.data, q.len);
	tidm_buf_dispose(&q);
	return rc;
}

/* ---- discovery -------------------------------------------------------------------------- */

static int add_table(run *r, const char *db, const char *name, bool is_view, uint64_t est)
{
	table *t;
	table *grown = realloc(r->tables, (r->ntables + 1) * sizeof(*r->tables));

	if (!grown)
		abort();
	r->tables = grown;
	t = &r->tables[r->ntables++];
	memset(t, 0, sizeof(*t));
	t->db = xstrdup(db);
	t->name = xstrdup(name);
	t->is_view = is_view;
	t->est_rows = est;
	return 0;
}

static int discover(run *r, tidm_conn *src)
{
	tidm_res *res = NULL;
	size_t k;
	int rc;

	for (k = 0; k < r->ntables; k++)
		table_dispose(&r->tables[k]);
	r->ntables = 0;
	rc = tidm_conn_query(src, &res,
			     "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, IFNULL(TABLE_ROWS, 0) "
			     "FROM information_schema.TABLES "
			     "WHERE TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys') "
			     "ORDER BY TABLE_SCHEMA, TABLE_NAME");
	if (rc < 0) {
		tidm_err_prefix("cannot list the source's tables: ");
		return rc;
	}
	while (tidm_res_next(res) == 1) {
		const char *db = tidm_res_get(res, 0), *name = tidm_res_get(res, 1);
		const char *type = tidm_res_get(res, 2);

		if (!tidm_filter_match_table(&r->cfg->objects, db, name))
			continue;
		if (r->round && names_has(&r->done_names, db, name) && !names_has(&r->stale_names, db, name))
			continue; /* copied by an earlier round */
		if (!strcmp(type, "VIEW"))
			add_table(r, db, name, true, 0);
		else if (!strcmp(type, "BASE TABLE") || !strcmp(type, "SYSTEM VERSIONED"))
			add_table(r, db, name, false, strtoull(tidm_res_get(res, 3), NULL, 10));
		else if (!strcmp(type, "SEQUENCE"))
			continue; /* dump/sequences.c */
		else
			tidm_warn("skipping `%s`.`%s`: %s objects are not migrated", db, name, type);
	}
	tidm_res_free(res);
	return 0;
}

/* Columns (insertable ones) and the chunk key of a base table. */
static int describe(run *r, tidm_conn *src, table *t)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	char *best = NULL;
	bool best_ok = false;
	int rc;
	size_t i;

	(void)r;
	tidm_buf_puts(&q, "SELECT COLUMN_NAME, EXTRA, LOWER(DATA_TYPE) IN ('tinyint','smallint','mediumint','int','bigint') "
			  "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
	put_str(&q, t->db);
	tidm_buf_puts(&q, " AND TABLE_NAME = ");
	put_str(&q, t->name);
	tidm_buf_puts(&q, " ORDER BY ORDINAL_POSITION");
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	t->cols = calloc(tidm_res_rows(res) + 1, sizeof(char *));
	t->int_cols = calloc(tidm_res_rows(res) + 1, sizeof(char *));
	if (!t->cols || !t->int_cols)
		abort();
	while (tidm_res_next(res) == 1) {
		const char *extra = tidm_res_get(res, 1);
		if (tidm_res_get(res, 2) && !strcmp(tidm_res_get(res, 2), "1"))
			t->int_cols[t->nint_cols++] = xstrdup(tidm_res_get(res, 0));
		if (extra && strstr(extra, "GENERATED"))
			continue; /* computed by the target itself */
		t->cols[t->ncols++] = xstrdup(tidm_res_get(res, 0));
	}
	tidm_res_free(res);
	res = NULL;
	if (t->ncols == 0) {
		rc = tidm_err_set(TIDM_ENOTFOUND,
				  "table `%s`.`%s` was dropped on the source during the migration", t->db,
				  t->name);
		goto out;
	}

	/* The primary key, else the first unique index whose columns are all NOT NULL. */
	tidm_buf_clear(&q);
	tidm_buf_puts(&q, "SELECT s.INDEX_NAME, s.COLUMN_NAME, c.IS_NULLABLE, s.SUB_PART "
			  "FROM information_schema.STATISTICS s JOIN information_schema.COLUMNS c "
			  "ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME "
			  "AND c.COLUMN_NAME = s.COLUMN_NAME "
			  "WHERE s.NON_UNIQUE = 0 AND s.TABLE_SCHEMA = ");
	put_str(&q, t->db);
	tidm_buf_puts(&q, " AND s.TABLE_NAME = ");
	put_str(&q, t->name);
	tidm_buf_puts(&q, " ORDER BY s.INDEX_NAME <> 'PRIMARY', s.INDEX_NAME, s.SEQ_IN_INDEX");
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	t->key = calloc(tidm_res_rows(res) + 1, sizeof(char *));
	if (!t->key)
		abort();
	while (tidm_res_next(res) == 1) {
		const char *idx = tidm_res_get(res, 0);
		bool usable = !strcmp(tidm_res_get(res, 2), "NO") && tidm_res_get(res, 3) == NULL;

		if (best && strcmp(best, idx) != 0) {
			if (best_ok)
				break; /* a complete usable key was found */
			/* previous index unusable: start over with this one */
			for (i = 0; i < t->nkey; i++)
				free(t->key[i]);
			t->nkey = 0;
			free(best);
			best = NULL;
		}
		if (!best) {
			best = xstrdup(idx);
			best_ok = true;
		}
		if (!usable)
			best_ok = false;
		t->key[t->nkey++] = xstrdup(tidm_res_get(res, 1));
	}
	if (!best_ok) {
		for (i = 0; i < t->nkey; i++)
			free(t->key[i]);
		t->nkey = 0;
	}

	if (t->nkey == 1)
		for (i = 0; i < t->nint_cols; i++)
			if (!strcmp(t->int_cols[i], t->key[0]))
				t->key_is_int = true;
	tidm_buf_putc(&t->col_list, '(');
	for (i = 0; i < t->ncols; i++) {
		if (i)
			tidm_buf_putc(&t->col_list, ',');
		tidm_quote_ident(&t->col_list, t->cols[i]);
	}
	tidm_buf_putc(&t->col_list, ')');
	tidm_buf_puts(&t->head, t->nkey ? "REPLACE INTO " : "INSERT INTO ");
	tidm_quote_qualified(&t->head, t->db, t->name);
	tidm_buf_putc(&t->head, ' ');
	tidm_buf_put(&t->head, t->col_list.data, t->col_list.len);
	tidm_buf_puts(&t->head, " VALUES ");
	/* Keyless: without REPLACE, LOAD DATA LOCAL skips duplicates of a unique key with
	 * NULLable columns; load_rows() turns any skipped row into an error. */
	tidm_buf_puts(&t->load_sql, "LOAD DATA LOCAL INFILE 'tidm-rows' ");
	tidm_buf_puts(&t->load_sql, t->nkey ? "REPLACE INTO TABLE " : "INTO TABLE ");
	tidm_quote_qualified(&t->load_sql, t->db, t->name);
	tidm_buf_puts(&t->load_sql, " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' "
				    "LINES TERMINATED BY '\\n' ");
	tidm_buf_put(&t->load_sql, t->col_list.data, t->col_list.len);
out:
	free(best);
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

/* ---- snapshot ----------------------------------------------------------------------------- */

static int read_position(tidm_conn *src, tidm_snapshot_pos *snap)
{
	const tidm_server_info *info = tidm_conn_info(src);
	tidm_res *res = NULL;
	int rc;

	if (info->flavor == TIDM_FLAVOR_MYSQL && info->version >= 80400)
		rc = tidm_conn_query(src, &res, "SHOW BINARY LOG STATUS");
	else
		rc = tidm_conn_query(src, &res, "SHOW MASTER STATUS");
	if (rc < 0)
		return rc;
	if (tidm_res_next(res) == 1) {
		snprintf(snap->file, sizeof(snap->file), "%s", tidm_res_get(res, 0) ? tidm_res_get(res, 0) : "");
		snap->pos = strtoull(tidm_res_get(res, 1) ? tidm_res_get(res, 1) : "0", NULL, 10);
		if (tidm_res_cols(res) >= 5 && tidm_res_get(res, 4) && tidm_res_get(res, 4)[0])
			snap->gtid_set = xstrdup(tidm_res_get(res, 4));
	}
	tidm_res_free(res);
	if (info->flavor == TIDM_FLAVOR_MARIADB && snap->file[0]) {
		char *v = NULL;
		if (tidm_conn_query_value(src, &v, "SELECT @@GLOBAL.gtid_binlog_pos") == 0 && v && v[0])
			snap->gtid_set = v;
		else
			free(v);
	}
	return 0;
}

/* An order-independent digest of the discovered table list. */
static uint64_t tables_hash(const run *r)
{
	uint64_t sum = 0;
	size_t k;

	for (k = 0; k < r->ntables; k++) {
		uint64_t h = 14695981039346656037ull;
		const char *p;
		for (p = r->tables[k].db; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
		for (p = r->tables[k].name; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		sum += h;
	}
	return sum;
}

/* Start the consistent snapshot on every dump connection; record the position.
 * TIDM_EAGAIN: the table list changed while locking (r->tables is the new list; retry). */
static int take_snapshot(run *r, tidm_conn *coord, tidm_conn **dumpers, unsigned n, tidm_snapshot_pos *snap)
{
	tidm_buf q = TIDM_BUF_INIT;
	bool locked = false;
	unsigned i;
	size_t k;
	int rc;

	rc = tidm_conn_exec(coord, "FLUSH TABLES WITH READ LOCK", 27);
	if (rc == 0) {
		snprintf(snap->method, sizeof(snap->method), "FTWRL");
		locked = true;
	} else {
		tidm_info("FLUSH TABLES WITH READ LOCK refused (%s); using LOCK TABLES ... READ instead",
			  tidm_err_msg());
		tidm_buf_puts(&q, "LOCK TABLES ");
		for (k = 0; k < r->ntables; k++) {
			if (r->tables[k].is_view)
				continue;
			if (locked)
				tidm_buf_putc(&q, ',');
			tidm_quote_qualified(&q, r->tables[k].db, r->tables[k].name);
			tidm_buf_puts(&q, " READ");
			locked = true;
		}
		if (locked) {
			rc = tidm_conn_exec(coord, q.data, q.len);
			if (rc < 0) {
				tidm_err_set(rc, "cannot take a consistent snapshot of the source: FLUSH TABLES WITH "
						 "READ LOCK and LOCK TABLES were both refused (%s); grant the "
						 "migration user RELOAD or LOCK TABLES",
					     tidm_err_msg());
				goto out;
			}
		}
		snprintf(snap->method, sizeof(snap->method), "LOCK TABLES");
	}
	if (locked) {
		/* A table created between the listing and the lock would be neither copied nor
		 * replicated: list again under the lock, and start over when the list changed. */
		size_t before = r->ntables;
		uint64_t h0 = tables_hash(r);
		if ((rc = discover(r, coord)) < 0)
			goto unlock;
		if (r->ntables != before || tables_hash(r) != h0) {
			rc = TIDM_EAGAIN;
			goto unlock;
		}
		for (k = 0; k < r->ntables; k++) {
			table *t = &r->tables[k];
			tidm_res *res = NULL;
			if (t->is_view)
				continue;
			tidm_buf_clear(&q);
			tidm_buf_puts(&q, "SHOW CREATE TABLE ");
			tidm_quote_qualified(&q, t->db, t->name);
			if ((rc = tidm_conn_query(coord, &res, q.data)) < 0)
				goto unlock;
			free(t->snap_create);
			t->snap_create = NULL;
			if (tidm_res_next(res) == 1 && tidm_res_cols(res) >= 2 && tidm_res_get(res, 1)) {
				t->snap_create = strdup(tidm_res_get(res, 1));
				if (!t->snap_create)
					abort();
			}
			tidm_res_free(res);
		}
	}
	for (i = 0; i < n; i++) {
		if ((rc = tidm_conn_exec(dumpers[i], "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", 55)) < 0 ||
		    (rc = tidm_conn_exec(dumpers[i], "START TRANSACTION WITH CONSISTENT SNAPSHOT", 42)) < 0)
			goto unlock;
	}
	rc = read_position(coord, snap);
unlock:
	if (locked) {
		int urc = tidm_conn_exec(coord, "UNLOCK TABLES", 13);
		if (rc == 0)
			rc = urc;
	}
out:
	tidm_buf_dispose(&q);
	return rc;
}

/* ---- schema -------------------------------------------------------------------------------- */

static bool db_done_before(const run *r, size_t upto, const char *db)
{
	size_t k;
	for (k = 0; k < upto; k++)
		if (!strcmp(r->tables[k].db, db))
			return true;
	return false;
}

static int create_database(run *r, tidm_conn *src, tidm_conn *tgt, const char *db, tidm_buf *report)
{
	const tidm_server_info *ti = tidm_conn_info(tgt);
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc;

	(void)r;
	tidm_buf_puts(&q, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
			  "WHERE SCHEMA_NAME = ");
	put_str(&q, db);
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	tidm_buf_clear(&q);
	tidm_buf_puts(&q, "CREATE DATABASE IF NOT EXISTS ");
	tidm_quote_ident(&q, db);
	if (tidm_res_next(res) == 1) {
		const char *why = NULL;
		const char *coll = tidm_res_get(res, 1);
		const char *mapped = tidm_dialect_map_collation(ti->flavor, ti->version, coll, &why);
		if (mapped) {
			if (strcmp(mapped, coll) != 0)
				tidm_buf_printf(report, "database `%s`: collation %s mapped to %s (%s)\n", db, coll,
						mapped, why ? why : "target lacks it");
			tidm_buf_puts(&q, " COLLATE ");
			tidm_buf_puts(&q, mapped);
		}
	}
	rc = tidm_conn_exec(tgt, q.data, q.len);
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

/* "CREATE TABLE `t`" → "CREATE TABLE IF NOT EXISTS `t`" (first occurrence only). */
static void if_not_exists(tidm_buf *out, const char *sql, const char *prefix)
{
	size_t n = strlen(prefix);

	if (!strncmp(sql, prefix, n)) {
		tidm_buf_put(out, sql, n);
		tidm_buf_puts(out, " IF NOT EXISTS");
		tidm_buf_puts(out, sql + n);
	} else {
		tidm_buf_puts(out, sql);
	}
}

static int use_db(tidm_conn *c, const char *db)
{
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	tidm_buf_puts(&q, "USE ");
	tidm_quote_ident(&q, db);
	rc = tidm_conn_exec(c, q.data, q.len);
	tidm_buf_dispose(&q);
	return rc;
}

/* SHOW CREATE TABLE without the parts that change with the data (AUTO_INCREMENT=n). */
static void normalize_create(tidm_buf *out, const char *sql)
{
	const char *p = sql;

	while (*p) {
		if (!strncmp(p, " AUTO_INCREMENT=", 16)) {
			p += 16;
			while (*p >= '0' && *p <= '9')
				p++;
			continue;
		}
		tidm_buf_putc(out, *p++);
	}
}

/* The definition stored when the table's plan was made (NULL when none). */
static char *stored_create(run *r, tidm_conn *tgt, const table *t)
{
	tidm_buf q = TIDM_BUF_INIT;
	char *v = NULL;

	tidm_buf_puts(&q, "SELECT `create_sql` FROM `" META_DB "`.`tables` WHERE `job` = ");
	put_str(&q, r->cfg->name);
	tidm_buf_puts(&q, " AND `db` = ");
	put_str(&q, t->db);
	tidm_buf_puts(&q, " AND `tbl` = ");
	put_str(&q, t->name);
	if (tidm_conn_query_value(tgt, &v, q.data) < 0) {
		tidm_err_clear();
		v = NULL;
	}
	tidm_buf_dispose(&q);
	return v;
}

/* Forget a table's plan and finished chunks: it is copied again from scratch. */
static int forget_table(run *r, tidm_conn *tgt, const table *t)
{
	const char *tbls[] = {"chunks", "tables"};
	tidm_buf q = TIDM_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < 2 && rc == 0; i++) {
		tidm_buf_clear(&q);
		tidm_buf_printf(&q, "DELETE FROM `" META_DB "`.`%s` WHERE `job` = ", tbls[i]);
		put_str(&q, r->cfg->name);
		tidm_buf_puts(&q, " AND `db` = ");
		put_str(&q, t->db);
		tidm_buf_puts(&q, " AND `tbl` = ");
		put_str(&q, t->name);
		rc = tidm_conn_exec(tgt, q.data, q.len);
	}
	if (rc == 0) {
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "DROP TABLE IF EXISTS ");
		tidm_quote_qualified(&q, t->db, t->name);
		rc = tidm_conn_exec(tgt, q.data, q.len);
	}
	tidm_buf_dispose(&q);
	return rc;
}

/* " WHERE `job` = .. AND `db` = .. AND `tbl` = .." for t's row in tidm_meta. */
static void put_table_where(tidm_buf *q, const run *r, const table *t)
{
	tidm_buf_puts(q, " WHERE `job` = ");
	put_str(q, r->cfg->name);
	tidm_buf_puts(q, " AND `db` = ");
	put_str(q, t->db);
	tidm_buf_puts(q, " AND `tbl` = ");
	put_str(q, t->name);
}

/* Does `select` ("SELECT COUNT(*) FROM .. WHERE <db column> = "), completed with t's
 * database and "AND <name_col> = " t's name, count any row? An error counts as yes. */
static int count_table_rows(tidm_conn *c, const char *select, const char *name_col, const table *t, bool *any)
{
	tidm_buf q = TIDM_BUF_INIT;
	char *v = NULL;
	int rc;

	tidm_buf_puts(&q, select);
	put_str(&q, t->db);
	tidm_buf_printf(&q, " AND %s = ", name_col);
	put_str(&q, t->name);
	rc = tidm_conn_query_value(c, &v, q.data);
	*any = rc < 0 || !v || strcmp(v, "0") != 0;
	free(v);
	tidm_buf_dispose(&q);
	return rc;
}

static int target_has_table(tidm_conn *tgt, const table *t, bool *exists)
{
	return count_table_rows(tgt, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ",
				"TABLE_NAME", t, exists);
}

/*
 * Mark the tables a foreign key points at (they may need their indexes from the start):
 * one query for the whole source (information_schema per table is slow on big MySQL 5.7
 * schemas). When it cannot be read, every table counts as referenced.
 */
static void mark_referenced(run *r, tidm_conn *src)
{
	tidm_res *res = NULL;
	size_t k;

	if (tidm_conn_query(src, &res, "SELECT DISTINCT UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME "
				       "FROM information_schema.REFERENTIAL_CONSTRAINTS") < 0) {
		tidm_debug("cannot list the source's foreign keys (%s): no index is built after the rows",
			   tidm_err_msg());
		tidm_err_clear();
		for (k = 0; k < r->ntables; k++)
			r->tables[k].referenced = true;
		return;
	}
	while (tidm_res_next(res) == 1) {
		const char *db = tidm_res_get(res, 0), *name = tidm_res_get(res, 1);
		for (k = 0; db && name && k < r->ntables; k++)
			if (!strcmp(r->tables[k].db, db) && !strcmp(r->tables[k].name, name))
				r->tables[k].referenced = true;
	}
	tidm_res_free(res);
}

/*
 * The last chunk of t is done: build the secondary indexes its CREATE TABLE left out
 * (create_table), then forget them. One ALTER for all (one pass over the rows); one per
 * index on TiDB (multi-schema change only from 6.2), and one by one when some already
 * exist (a run stopped between the ALTER and forgetting it).
 */
static int finish_table(run *r, tidm_conn *tgt, table *t)
{
	tidm_buf q = TIDM_BUF_INIT;
	char *keys = NULL;
	const char *p, *nl;
	unsigned n = 0;
	double t0;
	struct timespec ts;
	int rc;

	tidm_buf_puts(&q, "SELECT `deferred_keys` FROM `" META_DB "`.`tables`");
	put_table_where(&q, r, t);
	if ((rc = tidm_conn_query_value(tgt, &keys, q.data)) < 0 || !keys || !*keys)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	rc = -1;
	if (tidm_conn_info(tgt)->flavor != TIDM_FLAVOR_TIDB) {
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "ALTER TABLE ");
		tidm_quote_qualified(&q, t->db, t->name);
		for (p = keys; *p; p = nl + 1) {
			if (!(nl = strchr(p, '\n')))
				break;
			tidm_buf_puts(&q, n++ ? ", " : " ");
			tidm_buf_put(&q, p, (size_t)(nl - p));
		}
		rc = tidm_conn_exec(tgt, q.data, q.len);
		if (rc < 0 && tidm_err_dberr() != 1061) /* ER_DUP_KEYNAME */
			goto fail;
	}
	if (rc < 0) {
		n = 0;
		for (p = keys; *p; p = nl + 1) {
			if (!(nl = strchr(p, '\n')))
				break;
			tidm_buf_clear(&q);
			tidm_buf_puts(&q, "ALTER TABLE ");
			tidm_quote_qualified(&q, t->db, t->name);
			tidm_buf_putc(&q, ' ');
			tidm_buf_put(&q, p, (size_t)(nl - p));
			if ((rc = tidm_conn_exec(tgt, q.data, q.len)) < 0 && tidm_err_dberr() != 1061)
				goto fail;
			n++;
		}
	}
	tidm_buf_clear(&q);
	tidm_buf_puts(&q, "UPDATE `" META_DB "`.`tables` SET `deferred_keys` = NULL");
	put_table_where(&q, r, t);
	if ((rc = tidm_conn_exec(tgt, q.data, q.len)) < 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	tidm_info("`%s`.`%s`: %u secondary index%s built after the rows (%.1f s)", t->db, t->name, n, n == 1 ? "" : "es",
		  (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - t0);
	goto out;
fail:
	tidm_err_prefix("building the secondary indexes of `%s`.`%s` on the target: ", t->db, t->name);
out:
	free(keys);
	tidm_buf_dispose(&q);
	return rc;
}

static int create_table(run *r, tidm_conn *src, tidm_conn *tgt, table *t, tidm_buf *report)
{
	const tidm_server_info *si = tidm_conn_info(src), *ti = tidm_conn_info(tgt);
	tidm_buf q = TIDM_BUF_INIT, adapted = TIDM_BUF_INIT, sql = TIDM_BUF_INIT, rep = TIDM_BUF_INIT;
	tidm_buf now = TIDM_BUF_INIT, then = TIDM_BUF_INIT, stripped = TIDM_BUF_INIT, keys = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	char *stored = NULL;
	bool exists;
	int rc;

	free(t->create_sql);
	t->create_sql = NULL;
	if (t->snap_create) {
		t->create_sql = strdup(t->snap_create);
	} else {
		tidm_buf_puts(&q, "SHOW CREATE TABLE ");
		tidm_quote_qualified(&q, t->db, t->name);
		if ((rc = tidm_conn_query(src, &res, q.data)) < 0) {
			if (rc == TIDM_ENOTFOUND)
				tidm_err_set(rc, "table `%s`.`%s` was dropped on the source during the migration",
					     t->db, t->name);
			goto out;
		}
		if (tidm_res_next(res) != 1 || tidm_res_cols(res) < 2) {
			rc = tidm_err_set(TIDM_ERROR, "SHOW CREATE TABLE `%s`.`%s` returned nothing", t->db, t->name);
			goto out;
		}
		t->create_sql = strdup(tidm_res_get(res, 1));
	}
	if (!t->create_sql)
		abort();
	if (r->resumed && (stored = stored_create(r, tgt, t)) != NULL) {
		/* The table changed on the source since an earlier run made it on the target: the
		 * chunks copied then do not fit the new definition. Copy the table again. */
		normalize_create(&now, t->create_sql);
		normalize_create(&then, stored);
		if (strcmp(now.data, then.data) != 0) {
			tidm_info("`%s`.`%s` changed on the source since the interrupted run: copying it again", t->db,
				  t->name);
			if ((rc = forget_table(r, tgt, t)) < 0)
				goto out;
			free(stored);
			stored = NULL;
		}
	}
	if ((rc = tidm_dialect_adapt_create(&adapted, t->create_sql, si->flavor, ti->flavor, ti->version, &rep)) < 0)
		goto out;
	if (rep.len)
		tidm_buf_printf(report, "`%s`.`%s`: %s%s", t->db, t->name, rep.data,
				rep.data[rep.len - 1] == '\n' ? "" : "\n");
	/* A table tidm makes gets its plain secondary indexes after the rows (finish_table):
	 * building an index once is much cheaper than maintaining it row by row. */
	if ((rc = target_has_table(tgt, t, &exists)) < 0)
		goto out;
	if (!exists && !t->referenced && tidm_dialect_split_keys(adapted.data, &stripped, &keys) > 0)
		if_not_exists(&sql, stripped.data, "CREATE TABLE");
	else
		if_not_exists(&sql, adapted.data, "CREATE TABLE");
	if ((rc = use_db(tgt, t->db)) < 0 || (rc = tidm_conn_exec(tgt, sql.data, sql.len)) < 0) {
		tidm_err_prefix("cannot create table `%s`.`%s` on the target: ", t->db, t->name);
		goto out;
	}
	if (!stored) {
		/* remember the definition the target table was made from (the plan comes later) */
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "INSERT IGNORE INTO `" META_DB "`.`tables` (`job`,`db`,`tbl`,`chunks`,`create_sql`) VALUES (");
		put_str(&q, r->cfg->name);
		tidm_buf_putc(&q, ',');
		put_str(&q, t->db);
		tidm_buf_putc(&q, ',');
		put_str(&q, t->name);
		tidm_buf_puts(&q, ",0,");
		put_str(&q, t->create_sql);
		tidm_buf_putc(&q, ')');
		if ((rc = tidm_conn_exec(tgt, q.data, q.len)) < 0)
			goto out;
	}
	if (keys.len) {
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "UPDATE `" META_DB "`.`tables` SET `deferred_keys` = ");
		put_str(&q, keys.data);
		put_table_where(&q, r, t);
		rc = tidm_conn_exec(tgt, q.data, q.len);
	}
out:
	free(stored);
	tidm_buf_dispose(&stripped);
	tidm_buf_dispose(&keys);
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&adapted);
	tidm_buf_dispose(&sql);
	tidm_buf_dispose(&rep);
	tidm_buf_dispose(&now);
	tidm_buf_dispose(&then);
	return rc;
}

/* Remove "DEFINER=`u`@`h` " from a SHOW CREATE VIEW text (the definer may not exist on the target). */
static void strip_definer(tidm_buf *out, const char *sql)
{
	const char *d = strstr(sql, " DEFINER=");
	const char *p;

	if (!d) {
		tidm_buf_puts(out, sql);
		return;
	}
	tidm_buf_put(out, sql, (size_t)(d - sql));
	p = d + 9;
	/* user@host, each part backquoted (doubled backticks inside) or bare */
	while (*p && *p != ' ') {
		if (*p == '`') {
			p++;
			while (*p && !(*p == '`' && p[1] != '`'))
				p += (*p == '`') ? 2 : 1;
			if (*p)
				p++;
		} else {
			p++;
		}
	}
	tidm_buf_puts(out, p);
}

static int create_view(tidm_conn *src, tidm_conn *tgt, table *t)
{
	tidm_buf q = TIDM_BUF_INIT, sql = TIDM_BUF_INIT, tmp = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc;

	tidm_buf_puts(&q, "SHOW CREATE VIEW ");
	tidm_quote_qualified(&q, t->db, t->name);
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	if (tidm_res_next(res) != 1 || tidm_res_cols(res) < 2) {
		rc = tidm_err_set(TIDM_ERROR, "SHOW CREATE VIEW `%s`.`%s` returned nothing", t->db, t->name);
		goto out;
	}
	strip_definer(&tmp, tidm_res_get(res, 1));
	if (!strncmp(tmp.data, "CREATE ", 7)) {
		tidm_buf_puts(&sql, "CREATE OR REPLACE ");
		tidm_buf_puts(&sql, tmp.data + 7);
	} else {
		tidm_buf_put(&sql, tmp.data, tmp.len);
	}
	if ((rc = use_db(tgt, t->db)) == 0)
		rc = tidm_conn_exec(tgt, sql.data, sql.len);
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&sql);
	tidm_buf_dispose(&tmp);
	return rc;
}

static int create_schema(run *r, tidm_conn *src, tidm_conn *tgt, tidm_buf *report)
{
	size_t k, pending;
	int rc;

	for (k = 0; k < r->ntables; k++) {
		if (!db_done_before(r, k, r->tables[k].db) &&
		    (rc = create_database(r, src, tgt, r->tables[k].db, report)) < 0) {
			tidm_err_prefix("cannot create database `%s` on the target: ", r->tables[k].db);
			return rc;
		}
	}
	mark_referenced(r, src);
	for (k = 0; k < r->ntables; k++)
		if (!r->tables[k].is_view && !atomic_load(&r->tables[k].stale) &&
		    (rc = create_table(r, src, tgt, &r->tables[k], report)) < 0)
			return rc;
	/* Views may use other views: retry the failed ones while each pass makes progress. */
	for (;;) {
		size_t made = 0;
		pending = 0;
		for (k = 0; k < r->ntables; k++) {
			table *t = &r->tables[k];
			if (!t->is_view || t->created)
				continue;
			if (create_view(src, tgt, t) == 0) {
				t->created = true;
				made++;
			} else {
				pending++;
			}
		}
		if (!pending)
			break;
		if (!made) {
			for (k = 0; k < r->ntables; k++)
				if (r->tables[k].is_view && !r->tables[k].created) {
					create_view(src, tgt, &r->tables[k]); /* sets the error again */
					tidm_err_prefix("cannot create view `%s`.`%s` on the target: ", r->tables[k].db,
							r->tables[k].name);
					return TIDM_ERROR;
				}
		}
	}
	return 0;
}

/* ---- chunk planning ------------------------------------------------------------------------- */

/* Append the SQL literal of one streamed value: number as is, text as _utf8mb4 X'..', bytes as X'..'. */
static void put_literal(tidm_buf *b, enum tidm_col_kind kind, const char *v, size_t n)
{
	if (kind == TIDM_KIND_NUMBER) {
		tidm_buf_put(b, v, n);
		return;
	}
	if (kind == TIDM_KIND_STRING)
		tidm_buf_puts(b, "_utf8mb4 ");
	tidm_quote_hex(b, v, n);
}

/* Split a stored bound "l1,l2" into its literals (literals never contain commas). */
static size_t split_bound(const char *bound, const char **starts, size_t *lens, size_t max)
{
	size_t n = 0;
	const char *p = bound;

	while (n < max) {
		const char *e = strchr(p, ',');
		starts[n] = p;
		lens[n] = e ? (size_t)(e - p) : strlen(p);
		n++;
		if (!e)
			break;
		p = e + 1;
	}
	return n;
}

/* (k1,..,kn) > (v1,..,vn) written with OR/AND so any server uses the index range. */
static void put_key_cmp(tidm_buf *b, const table *t, const char *bound, bool greater)
{
	const char *starts[64];
	size_t lens[64], n, i, j;

	n = split_bound(bound, starts, lens, 64);
	if (n > t->nkey)
		n = t->nkey;
	tidm_buf_putc(b, '(');
	for (i = 0; i < n; i++) {
		if (i)
			tidm_buf_puts(b, " OR ");
		tidm_buf_putc(b, '(');
		for (j = 0; j < i; j++) {
			tidm_quote_ident(b, t->key[j]);
			tidm_buf_puts(b, " = ");
			tidm_buf_put(b, starts[j], lens[j]);
			tidm_buf_puts(b, " AND ");
		}
		tidm_quote_ident(b, t->key[i]);
		tidm_buf_puts(b, greater ? " > " : " < ");
		tidm_buf_put(b, starts[i], lens[i]);
		tidm_buf_putc(b, ')');
	}
	if (!greater) { /* <= : also the bound itself */
		tidm_buf_puts(b, " OR (");
		for (j = 0; j < n; j++) {
			if (j)
				tidm_buf_puts(b, " AND ");
			tidm_quote_ident(b, t->key[j]);
			tidm_buf_puts(b, " = ");
			tidm_buf_put(b, starts[j], lens[j]);
		}
		tidm_buf_putc(b, ')');
	}
	tidm_buf_putc(b, ')');
}

static void put_key_list(tidm_buf *b, const table *t)
{
	size_t i;
	for (i = 0; i < t->nkey; i++) {
		if (i)
			tidm_buf_putc(b, ',');
		tidm_quote_ident(b, t->key[i]);
	}
}

static chunk *chunk_new(table *t, unsigned no, const char *lower, const char *upper)
{
	chunk *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->t = t;
	c->no = no;
	c->lower = lower ? xstrdup(lower) : NULL;
	c->upper = upper ? xstrdup(upper) : NULL;
	return c;
}

static void todo_push(run *r, chunk *c)
{
	chunk **grown = realloc(r->todo, (r->ntodo + 1) * sizeof(*r->todo));
	if (!grown)
		abort();
	r->todo = grown;
	r->todo[r->ntodo++] = c;
}

/*
 * One integer key column: bounds evenly spaced between MIN and MAX, from the table's row
 * estimate - no scan of the key (gaps in the key only make chunks uneven, never wrong).
 * Fills `bounds` with the upper bound literals; 0 or TIDM_EAGAIN (not applicable: walk).
 */
static int plan_int_bounds(run *r, tidm_conn *src, table *t, uint64_t step, tidm_buf *bounds, size_t *nbounds)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	__int128 lo, hi, width, each;
	uint64_t chunks, i;
	int rc;

	(void)r;
	*nbounds = 0;
	tidm_buf_puts(&q, "SELECT MIN(");
	tidm_quote_ident(&q, t->key[0]);
	tidm_buf_puts(&q, "), MAX(");
	tidm_quote_ident(&q, t->key[0]);
	tidm_buf_puts(&q, ") FROM ");
	tidm_quote_qualified(&q, t->db, t->name);
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	if (tidm_res_next(res) != 1 || !tidm_res_get(res, 0) || !tidm_res_get(res, 1))
		goto out; /* empty table: one chunk */
	{
		const char *a = tidm_res_get(res, 0), *b = tidm_res_get(res, 1);
		lo = a[0] == '-' ? (__int128)strtoll(a, NULL, 10) : (__int128)strtoull(a, NULL, 10);
		hi = b[0] == '-' ? (__int128)strtoll(b, NULL, 10) : (__int128)strtoull(b, NULL, 10);
	}
	chunks = t->est_rows / step + 1;
	width = hi - lo + 1;
	if (chunks < 2 || width < (__int128)chunks * 2)
		goto out;
	each = width / (__int128)chunks;
	for (i = 1; i < chunks; i++) {
		__int128 v = lo + each * (__int128)i - 1;
		char tmp[48];
		if (v < 0)
			snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
		else
			snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
		tidm_buf_puts(bounds, tmp);
		tidm_buf_putc(bounds, '\0');
		(*nbounds)++;
	}
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

/* Walk the key to find chunk bounds; store them with the table's plan in one transaction. */
static int plan_table(run *r, tidm_conn *src, tidm_conn *tgt, table *t)
{
	tidm_buf q = TIDM_BUF_INIT, ins = TIDM_BUF_INIT, prev = TIDM_BUF_INIT, cur = TIDM_BUF_INIT;
	chunk **made = NULL;
	size_t nmade = 0, i;
	unsigned no = 0;
	int rc = 0;
	uint64_t step = r->cfg->chunk_rows ? r->cfg->chunk_rows : 100000;

	if (t->key_is_int) {
		tidm_buf bounds = TIDM_BUF_INIT;
		size_t nb = 0, k;
		const char *p;
		if ((rc = plan_int_bounds(r, src, t, step, &bounds, &nb)) < 0) {
			tidm_buf_dispose(&bounds);
			goto out;
		}
		for (k = 0, p = bounds.data; k < nb; k++, p += strlen(p) + 1) {
			made = realloc(made, (nmade + 1) * sizeof(*made));
			if (!made)
				abort();
			made[nmade++] = chunk_new(t, no++, prev.len ? prev.data : NULL, p);
			tidm_buf_clear(&prev);
			tidm_buf_puts(&prev, p);
		}
		tidm_buf_dispose(&bounds);
	}
	for (;;) {
		const char *const *vals;
		const unsigned long *lens;
		int got;
		unsigned col;

		if (t->nkey == 0 || t->key_is_int)
			break;
		if (stopping(r)) {
			rc = TIDM_ECANCELED;
			goto out;
		}
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "SELECT ");
		put_key_list(&q, t);
		tidm_buf_puts(&q, " FROM ");
		tidm_quote_qualified(&q, t->db, t->name);
		if (prev.len) {
			tidm_buf_puts(&q, " WHERE ");
			put_key_cmp(&q, t, prev.data, true);
		}
		tidm_buf_puts(&q, " ORDER BY ");
		put_key_list(&q, t);
		tidm_buf_printf(&q, " LIMIT 1 OFFSET %llu", (unsigned long long)(step - 1));
		if ((rc = tidm_conn_stream_begin(src, q.data)) < 0)
			goto out;
		got = tidm_conn_stream_next(src, &vals, &lens);
		tidm_buf_clear(&cur);
		if (got == 1)
			for (col = 0; col < tidm_conn_stream_cols(src); col++) {
				if (col)
					tidm_buf_putc(&cur, ',');
				put_literal(&cur, tidm_conn_stream_kind(src, col), vals[col], lens[col]);
			}
		while (got == 1)
			got = tidm_conn_stream_next(src, &vals, &lens);
		tidm_conn_stream_end(src);
		if (got < 0) {
			rc = got;
			goto out;
		}
		if (!cur.len)
			break;
		made = realloc(made, (nmade + 1) * sizeof(*made));
		if (!made)
			abort();
		made[nmade++] = chunk_new(t, no++, prev.len ? prev.data : NULL, cur.data);
		tidm_buf_clear(&prev);
		tidm_buf_put(&prev, cur.data, cur.len);
	}
	made = realloc(made, (nmade + 1) * sizeof(*made));
	if (!made)
		abort();
	made[nmade++] = chunk_new(t, no++, prev.len ? prev.data : NULL, NULL);

	/* Persist the plan: chunks first, then the table row that says the plan is complete. */
	if ((rc = tidm_conn_begin(tgt)) < 0)
		goto out;
	for (i = 0; i < nmade; i++) {
		tidm_buf_clear(&ins);
		tidm_buf_puts(&ins, "REPLACE INTO `" META_DB "`.`chunks` (`job`,`db`,`tbl`,`no`,`lower_sql`,`upper_sql`,`state`) VALUES (");
		put_str(&ins, r->cfg->name);
		tidm_buf_putc(&ins, ',');
		put_str(&ins, t->db);
		tidm_buf_putc(&ins, ',');
		put_str(&ins, t->name);
		tidm_buf_printf(&ins, ",%u,", made[i]->no);
		if (made[i]->lower)
			put_str(&ins, made[i]->lower);
		else
			tidm_buf_puts(&ins, "NULL");
		tidm_buf_putc(&ins, ',');
		if (made[i]->upper)
			put_str(&ins, made[i]->upper);
		else
			tidm_buf_puts(&ins, "NULL");
		tidm_buf_puts(&ins, ",'pending')");
		if ((rc = tidm_conn_exec(tgt, ins.data, ins.len)) < 0)
			break;
	}
	if (rc == 0) {
		tidm_buf_clear(&ins);
		tidm_buf_puts(&ins, "INSERT INTO `" META_DB "`.`tables` (`job`,`db`,`tbl`,`chunks`,`create_sql`) VALUES (");
		put_str(&ins, r->cfg->name);
		tidm_buf_putc(&ins, ',');
		put_str(&ins, t->db);
		tidm_buf_putc(&ins, ',');
		put_str(&ins, t->name);
		tidm_buf_printf(&ins, ",%zu,", nmade);
		if (t->create_sql)
			put_str(&ins, t->create_sql);
		else
			tidm_buf_puts(&ins, "NULL");
		/* the row's deferred_keys (create_table) stay */
		tidm_buf_puts(&ins, ") ON DUPLICATE KEY UPDATE `chunks` = VALUES(`chunks`), `create_sql` = VALUES(`create_sql`)");
		rc = tidm_conn_exec(tgt, ins.data, ins.len);
	}
	if (rc < 0) {
		tidm_conn_rollback(tgt);
		goto out;
	}
	if ((rc = tidm_conn_commit(tgt)) < 0)
		goto out;
	atomic_store(&t->chunks_left, nmade);
	atomic_fetch_add(&r->prog->chunks_total, nmade);
	for (i = 0; i < nmade; i++)
		todo_push(r, made[i]);
	nmade = 0;
out:
	for (i = 0; i < nmade; i++)
		chunk_free(made[i]);
	free(made);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&ins);
	tidm_buf_dispose(&prev);
	tidm_buf_dispose(&cur);
	return rc;
}

static table *find_table(run *r, const char *db, const char *name)
{
	size_t k;
	for (k = 0; k < r->ntables; k++)
		if (!r->tables[k].is_view && !strcmp(r->tables[k].db, db) && !strcmp(r->tables[k].name, name))
			return &r->tables[k];
	return NULL;
}

/* Read back the plans of an earlier run: pending chunks go to the todo list. */
static int load_plans(run *r, tidm_conn *tgt)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc;

	tidm_buf_puts(&q, "SELECT t.`db`, t.`tbl`, c.`no`, c.`lower_sql`, c.`upper_sql`, c.`state`, c.`rows_copied`, "
			  "c.`bytes_copied` FROM `" META_DB "`.`tables` t JOIN `" META_DB "`.`chunks` c "
			  "ON c.`job` = t.`job` AND c.`db` = t.`db` AND c.`tbl` = t.`tbl` WHERE t.`job` = ");
	put_str(&q, r->cfg->name);
	tidm_buf_puts(&q, " ORDER BY t.`db`, t.`tbl`, c.`no`");
	if ((rc = tidm_conn_query(tgt, &res, q.data)) < 0)
		goto out;
	while (tidm_res_next(res) == 1) {
		table *t = find_table(r, tidm_res_get(res, 0), tidm_res_get(res, 1));
		if (!t || !strcmp(tidm_res_get(res, 5), "gone"))
			continue; /* no longer selected or no longer on the source */
		t->planned = true;
		atomic_fetch_add(&r->prog->chunks_total, 1);
		if (!strcmp(tidm_res_get(res, 5), "done")) {
			atomic_fetch_add(&r->prog->chunks_done, 1);
			atomic_fetch_add(&r->prog->chunks_skipped, 1);
			atomic_fetch_add(&r->prog->rows_done, strtoull(tidm_res_get(res, 6), NULL, 10));
			atomic_fetch_add(&r->prog->rows_skipped, strtoull(tidm_res_get(res, 6), NULL, 10));
			atomic_fetch_add(&r->prog->bytes_done, strtoull(tidm_res_get(res, 7), NULL, 10));
			continue;
		}
		atomic_fetch_add(&t->chunks_left, 1);
		todo_push(r, chunk_new(t, (unsigned)strtoul(tidm_res_get(res, 2), NULL, 10), tidm_res_get(res, 3),
				       tidm_res_get(res, 4)));
	}
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

/* Tables without a key, before anything is written (dump/keyless.h): claim or refuse. */
static int keyless_decide(run *r, tidm_conn *tgt)
{
	tidm_buf refused = TIDM_BUF_INIT;
	size_t k;
	int rc = 0;

	for (k = 0; k < r->ntables && rc == 0; k++) {
		table *t = &r->tables[k];
		if (!t->is_view && t->nkey == 0)
			rc = tidm_keyless_decide(tgt, t->db, t->name, tidm_keyless_marks_get(&r->keyless, t->db, t->name),
						 r->resumed, r->cfg->keyless_nonempty == TIDM_KEYLESS_APPEND, &t->keyless,
						 &refused);
	}
	if (rc == 0 && refused.len)
		rc = tidm_keyless_refuse(&refused);
	tidm_buf_dispose(&refused);
	return rc;
}

/* After the schema (the tables' rows in tidm_meta exist), before the copy: record each
 * keyless table's claim; empty a claimed one that holds rows of an earlier copy. */
static int keyless_prepare(run *r, tidm_conn *tgt)
{
	size_t k;
	int rc = 0;

	for (k = 0; k < r->ntables && rc == 0; k++) {
		table *t = &r->tables[k];
		if (t->is_view || !t->keyless)
			continue;
		if ((rc = tidm_keyless_mark(tgt, r->cfg->name, t->db, t->name, t->keyless)) == 0 &&
		    !strcmp(t->keyless, TIDM_KEYLESS_MARK_OWN) && atomic_load(&t->chunks_left) > 0)
			rc = tidm_keyless_empty(tgt, t->db, t->name);
	}
	return rc;
}

/* ---- copy ------------------------------------------------------------------------------------ */

static void queue_push(run *r, stmt s)
{
	pthread_mutex_lock(&r->mu);
	while (r->count == r->cap && !atomic_load(&r->stop))
		pthread_cond_wait(&r->not_full, &r->mu);
	if (atomic_load(&r->stop)) {
		pthread_mutex_unlock(&r->mu);
		free(s.sql);
		atomic_fetch_sub(&s.c->refs, 1);
		return;
	}
	r->ring[(r->head + r->count) % r->cap] = s;
	r->count++;
	pthread_cond_signal(&r->not_empty);
	pthread_mutex_unlock(&r->mu);
}

/* 1 = got one, 0 = no more (all producers finished or stopping). */
static int queue_pop(run *r, stmt *out)
{
	pthread_mutex_lock(&r->mu);
	while (r->count == 0 && r->producers_left > 0 && !atomic_load(&r->stop))
		pthread_cond_wait(&r->not_empty, &r->mu);
	if (r->count == 0 || atomic_load(&r->stop)) {
		pthread_mutex_unlock(&r->mu);
		return 0;
	}
	*out = r->ring[r->head];
	r->head = (r->head + 1) % r->cap;
	r->count--;
	pthread_cond_signal(&r->not_full);
	pthread_mutex_unlock(&r->mu);
	return 1;
}

static int open_target(run *r, tidm_conn **out)
{
	int rc = tidm_conn_open(out, &r->tgt_opts);

	if (rc < 0)
		return rc;
	/* Rows are written in any table order: foreign keys are checked by the source already. */
	if ((rc = tidm_conn_exec(*out, "SET SESSION foreign_key_checks = 0", 34)) < 0)
		return rc;
	/* Like myloader: the copy does not go to the target's own binlog unless asked
	 * (`target: {binlog: true}`); without the privilege the setting is simply kept. */
	if (!r->cfg->target.write_binlog && tidm_conn_info(*out)->flavor != TIDM_FLAVOR_TIDB &&
	    tidm_conn_exec(*out, "SET SESSION sql_log_bin = 0", 27) < 0)
		tidm_debug("target keeps binary logging for the copy: %s", tidm_err_msg());
	return 0;
}

/* Drop one reference of a chunk; the last one records it as done. */
static int chunk_release(run *r, chunk *c, tidm_conn *tgt)
{
	int rc;

	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return 0;
	if ((rc = meta_chunk_done(r, tgt, c)) < 0)
		return rc;
	atomic_fetch_add(&r->prog->chunks_done, 1);
	if (atomic_fetch_sub(&c->t->chunks_left, 1) == 1) {
		if ((rc = finish_table(r, tgt, c->t)) < 0)
			return rc;
		atomic_fetch_add(&r->prog->tables_done, 1);
	}
	return 0;
}

/*
 * Load rows (LOAD DATA text, see put_row_tsv) into c's table. The server's report must
 * account for every row: a row count that differs from what was sent, or a skipped row,
 * fails the copy. Warnings (the session is not strict, so the server stores what it can,
 * as an INSERT would: an ENUM value '' that is no member, a date the target finds invalid)
 * are logged once per table with the first one, so the user can check those values.
 */
static int load_rows(tidm_conn *tgt, chunk *c, const char *data, size_t len, uint64_t rows)
{
	table *t = c->t;
	tidm_load_counts n;
	tidm_res *res = NULL;
	int rc = tidm_conn_load_local(tgt, t->load_sql.data, t->load_sql.len, data, len, &n);

	if (rc < 0) {
		unsigned e = tidm_err_dberr();
		if (e == 1148 || e == 3948 || e == 2068) /* LOAD DATA LOCAL refused by the server or its client side */
			tidm_err_prefix("the target refused LOAD DATA LOCAL INFILE (run again with spec.load-method: "
					"insert to write REPLACE statements instead): ");
		return rc;
	}
	if (n.known && n.records != rows)
		return tidm_err_set(TIDM_ERROR, "the target read %llu rows of %llu sent into `%s`.`%s`",
				    (unsigned long long)n.records, (unsigned long long)rows, t->db, t->name);
	if (n.skipped)
		return tidm_err_set(TIDM_ERROR, "the target skipped %llu of %llu rows as duplicates in `%s`.`%s`",
				    (unsigned long long)n.skipped, (unsigned long long)rows, t->db, t->name);
	if (n.warnings && !atomic_exchange(&t->warned, true)) {
		char what[512] = "";
		if (tidm_conn_query(tgt, &res, "SHOW WARNINGS LIMIT 1") == 0 && tidm_res_next(res) == 1 &&
		    tidm_res_cols(res) >= 3)
			snprintf(what, sizeof(what), "; the first: %s (%s)", tidm_res_get(res, 2) ? tidm_res_get(res, 2) : "",
				 tidm_res_get(res, 1) ? tidm_res_get(res, 1) : "");
		else
			tidm_err_clear();
		tidm_res_free(res);
		tidm_warn("`%s`.`%s`: the target stored some values differently than given (%llu warning%s in one batch%s); "
			  "check those values on the target",
			  t->db, t->name, (unsigned long long)n.warnings, n.warnings == 1 ? "" : "s", what);
	}
	return 0;
}

static int exec_stmt(tidm_conn *tgt, const stmt *s)
{
	return s->load ? load_rows(tgt, s->c, s->sql, s->len, s->rows) : tidm_conn_exec(tgt, s->sql, s->len);
}

/* Execute one data statement, reconnecting on a lost connection (statements are idempotent). */
static int exec_retry(run *r, tidm_conn **tgt, const stmt *s)
{
	unsigned attempt;
	int rc = 0;

	for (attempt = 0; attempt < 5; attempt++) {
		if (!*tgt && (rc = open_target(r, tgt)) < 0) {
			if (rc != TIDM_ECONN)
				return rc;
		} else {
			rc = exec_stmt(*tgt, s);
			if (rc != TIDM_ECONN)
				return rc;
			tidm_warn("lost the target connection (%s); retrying", tidm_err_msg());
			tidm_conn_close(*tgt);
			*tgt = NULL;
		}
		if (stopping(r))
			return TIDM_ECANCELED;
		sleep(1u << attempt);
	}
	return tidm_err_set(rc, "the target connection was lost and could not be re-established (%s); run "
				"the same command again to resume",
			    tidm_err_msg());
}

static void *load_worker(void *arg)
{
	run *r = arg;
	tidm_conn *tgt = NULL;
	stmt s;

	if (open_target(r, &tgt) < 0) {
		fail(r);
		return NULL;
	}
	while (queue_pop(r, &s)) {
		int rc = exec_retry(r, &tgt, &s);
		free(s.sql);
		if (rc < 0) {
			tidm_err_prefix("copying `%s`.`%s` (chunk %u): ", s.c->t->db, s.c->t->name, s.c->no);
			fail(r);
			break;
		}
		atomic_fetch_add(&s.c->rows, s.rows);
		atomic_fetch_add(&s.c->bytes, s.len);
		atomic_fetch_add(&r->prog->rows_done, s.rows);
		atomic_fetch_add(&r->prog->bytes_done, s.len);
		if (chunk_release(r, s.c, tgt) < 0) {
			fail(r);
			break;
		}
	}
	tidm_conn_close(tgt);
	return NULL;
}

typedef struct dump_ctx {
	run *r;
	tidm_conn *src; /* snapshot connection (tidm_full_run's) */
	tidm_conn *tgt; /* for keyless tables and chunk marks, opened lazily */
} dump_ctx;

static void put_row(tidm_buf *b, tidm_conn *src, const char *const *vals, const unsigned long *lens, unsigned ncols)
{
	unsigned i;

	tidm_buf_putc(b, '(');
	for (i = 0; i < ncols; i++) {
		if (i)
			tidm_buf_putc(b, ',');
		if (!vals[i]) {
			tidm_buf_puts(b, "NULL");
			continue;
		}
		switch (tidm_conn_stream_kind(src, i)) {
		case TIDM_KIND_NUMBER:
			tidm_buf_put(b, vals[i], lens[i]);
			break;
		case TIDM_KIND_STRING:
			tidm_quote_string(b, vals[i], lens[i]);
			break;
		case TIDM_KIND_BINARY:
		case TIDM_KIND_BIT:
		default:
			tidm_quote_hex(b, vals[i], lens[i]);
			break;
		}
	}
	tidm_buf_putc(b, ')');
}

/* Bytes that LOAD DATA ... FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY
 * '\n' reads specially: written as "\\", "\t", "\n". NULL is "\N". */
static const char tsv_escape[256] = {['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n'};

static void put_row_tsv(tidm_buf *b, const char *const *vals, const unsigned long *lens, unsigned ncols)
{
	unsigned i;

	for (i = 0; i < ncols; i++) {
		const unsigned char *v = (const unsigned char *)vals[i];
		size_t n = lens[i], j, from = 0;
		char *w;

		if (i)
			tidm_buf_putc_fast(b, '\t');
		if (!v) {
			tidm_buf_put_fast(b, "\\N", 2);
			continue;
		}
		/* worst case every byte escaped */
		w = tidm_buf_grab(b, 2 * n);
		for (j = 0; j < n; j++) {
			char e = tsv_escape[v[j]];
			if (e) {
				memcpy(w, v + from, j - from);
				w += j - from;
				*w++ = '\\';
				*w++ = e;
				from = j + 1;
			}
		}
		memcpy(w, v + from, n - from);
		w += n - from;
		tidm_buf_commit(b, (size_t)(w - (b->data + b->len)));
	}
	tidm_buf_putc_fast(b, '\n');
}

/* Rows of these kinds go as LOAD DATA text; BIT values keep the REPLACE path (hex literals). */
static bool loadable(tidm_conn *src, unsigned ncols)
{
	unsigned i;

	for (i = 0; i < ncols; i++)
		if (tidm_conn_stream_kind(src, i) == TIDM_KIND_BIT)
			return false;
	return true;
}

/* Send one batch of rows: keyless tables on the dump worker's own transaction, others
 * through the queue to the load workers. */
static int flush_rows(dump_ctx *d, chunk *c, tidm_buf *rows_buf, uint64_t nrows, bool load)
{
	run *r = d->r;

	if (c->t->nkey == 0) {
		int rc = load ? load_rows(d->tgt, c, rows_buf->data, rows_buf->len, nrows)
			      : tidm_conn_exec(d->tgt, rows_buf->data, rows_buf->len);
		if (rc < 0)
			return rc;
		atomic_fetch_add(&c->rows, nrows);
		atomic_fetch_add(&c->bytes, rows_buf->len);
		tidm_buf_clear(rows_buf);
	} else {
		stmt s = {c, NULL, rows_buf->len, nrows, load};
		atomic_fetch_add(&c->refs, 1);
		s.sql = tidm_buf_detach(rows_buf);
		queue_push(r, s);
	}
	return 0;
}

static int dump_chunk(dump_ctx *d, chunk *c)
{
	run *r = d->r;
	table *t = c->t;
	tidm_buf q = TIDM_BUF_INIT, stmt_buf = TIDM_BUF_INIT;
	const char *const *vals;
	const unsigned long *lens;
	uint64_t rows_in_stmt = 0, rows_total = 0;
	size_t limit = r->cfg->statement_bytes ? r->cfg->statement_bytes : (1u << 20);
	bool keyless = t->nkey == 0, load;
	int rc, got;
	size_t i;

	atomic_store(&c->refs, 1);
	if (keyless) {
		if (!d->tgt && (rc = open_target(r, &d->tgt)) < 0)
			goto out;
		if ((rc = tidm_conn_begin(d->tgt)) < 0)
			goto out;
	}
	tidm_buf_puts(&q, "SELECT ");
	for (i = 0; i < t->ncols; i++) {
		if (i)
			tidm_buf_putc(&q, ',');
		tidm_quote_ident(&q, t->cols[i]);
	}
	tidm_buf_puts(&q, " FROM ");
	tidm_quote_qualified(&q, t->db, t->name);
	if (c->lower || c->upper) {
		tidm_buf_puts(&q, " WHERE ");
		if (c->lower)
			put_key_cmp(&q, t, c->lower, true);
		if (c->lower && c->upper)
			tidm_buf_puts(&q, " AND ");
		if (c->upper)
			put_key_cmp(&q, t, c->upper, false);
	}
	if ((rc = tidm_conn_stream_begin(d->src, q.data)) < 0) {
		if (rc != TIDM_ECANCELED && stale_error()) {
			mark_stale(t);
			rc = TIDM_EAGAIN;
		}
		goto out;
	}
	load = r->load_data && loadable(d->src, (unsigned)t->ncols);
	while ((got = tidm_conn_stream_next(d->src, &vals, &lens)) == 1) {
		if (load) {
			put_row_tsv(&stmt_buf, vals, lens, (unsigned)t->ncols);
		} else {
			if (!stmt_buf.len)
				tidm_buf_put(&stmt_buf, t->head.data, t->head.len);
			else
				tidm_buf_putc(&stmt_buf, ',');
			put_row(&stmt_buf, d->src, vals, lens, (unsigned)t->ncols);
		}
		rows_in_stmt++;
		if (stmt_buf.len >= limit) {
			if (stopping(r)) {
				rc = TIDM_ECANCELED;
				break;
			}
			if ((rc = flush_rows(d, c, &stmt_buf, rows_in_stmt, load)) < 0)
				break;
			rows_total += rows_in_stmt;
			rows_in_stmt = 0;
		}
	}
	if (got < 0) {
		rc = got;
		if (rc != TIDM_ECANCELED && stale_error()) {
			mark_stale(t);
			rc = TIDM_EAGAIN;
		}
	}
	tidm_conn_stream_end(d->src);
	if (rc < 0)
		goto out;
	if (stmt_buf.len) {
		if ((rc = flush_rows(d, c, &stmt_buf, rows_in_stmt, load)) < 0)
			goto out;
		rows_total += rows_in_stmt;
	}
	if (keyless) {
		/* rows and their "done" mark commit together */
		if ((rc = meta_chunk_done(r, d->tgt, c)) < 0 || (rc = tidm_conn_commit(d->tgt)) < 0)
			goto out;
		atomic_fetch_add(&r->prog->rows_done, rows_total);
		atomic_fetch_add(&r->prog->bytes_done, atomic_load(&c->bytes));
		atomic_fetch_add(&r->prog->chunks_done, 1);
		if (atomic_fetch_sub(&t->chunks_left, 1) == 1) {
			if ((rc = finish_table(r, d->tgt, t)) < 0)
				goto out;
			atomic_fetch_add(&r->prog->tables_done, 1);
		}
	} else {
		if (!d->tgt && (rc = open_target(r, &d->tgt)) < 0)
			goto out;
		rc = chunk_release(r, c, d->tgt);
	}
out:
	if (rc < 0 && keyless && d->tgt)
		tidm_conn_rollback(d->tgt);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&stmt_buf);
	return rc;
}

static void *dump_worker(void *arg)
{
	dump_ctx *d = arg;
	run *r = d->r;

	while (!stopping(r)) {
		size_t i = atomic_fetch_add(&r->next_chunk, 1);
		int rc;
		if (i >= r->ntodo)
			break;
		if (atomic_load(&r->todo[i]->t->stale))
			continue; /* copied again by the next round */
		rc = dump_chunk(d, r->todo[i]);
		if (rc == TIDM_EAGAIN)
			continue; /* its table became stale */
		if (rc == 0 && r->pause_ms)
			usleep(r->pause_ms * 1000u);
		if (rc < 0) {
			if (rc != TIDM_ECANCELED || !stopping(r)) {
				if (!strstr(tidm_err_msg(), "`"))
					tidm_err_prefix("copying `%s`.`%s` (chunk %u): ", r->todo[i]->t->db,
							r->todo[i]->t->name, r->todo[i]->no);
				fail(r);
			}
			break;
		}
	}
	pthread_mutex_lock(&r->mu);
	r->producers_left--;
	pthread_cond_broadcast(&r->not_empty);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/*
 * Chunks interleaved over the tables and aligned on their last chunk: the order is by the
 * number of the table's chunks still to come after this one, most first (so the biggest
 * tables start first and every table ends in the last rounds), then biggest table first.
 * Concurrent workers then mostly write different tables (writers of one table contend
 * for its index pages), and the end is made of small pieces that keep all workers busy.
 */
static int cmp_chunk(const void *a, const void *b)
{
	const chunk *x = *(chunk *const *)a, *y = *(chunk *const *)b;
	unsigned rx = x->t->last_no - x->no, ry = y->t->last_no - y->no;

	if (rx != ry)
		return rx > ry ? -1 : 1;
	if (x->t->est_rows != y->t->est_rows)
		return x->t->est_rows > y->t->est_rows ? -1 : 1;
	return x->t < y->t ? -1 : x->t > y->t;
}

/* ---- the run ----------------------------------------------------------------------------- */

/*
 * LOAD DATA LOCAL INFILE needs the target's consent (`local_infile`, OFF by default on
 * MySQL 8). auto: use it when allowed, else multi-row REPLACE; load-data: required.
 */
static int choose_load_method(run *r, tidm_conn *tgt)
{
	char *v = NULL;
	bool allowed;

	if (r->cfg->load_method == TIDM_LOAD_INSERT) {
		allowed = false;
	} else if (tidm_conn_info(tgt)->flavor == TIDM_FLAVOR_TIDB) {
		allowed = true; /* TiDB always accepts LOAD DATA LOCAL */
	} else if (tidm_conn_query_value(tgt, &v, "SELECT @@GLOBAL.local_infile") < 0) {
		tidm_debug("cannot read the target's local_infile (%s)", tidm_err_msg());
		allowed = false;
	} else {
		allowed = v && (!strcmp(v, "1") || !strcasecmp(v, "ON"));
	}
	free(v);
	if (!allowed && r->cfg->load_method == TIDM_LOAD_DATA)
		return tidm_err_set(TIDM_EINVAL, "spec.load-method is load-data, but the target does not allow "
						 "LOAD DATA LOCAL INFILE (local_infile is OFF); set local_infile = ON "
						 "on the target or use load-method: auto");
	r->load_data = allowed;
	tidm_info("rows are written with %s", allowed ? "LOAD DATA LOCAL INFILE" : "multi-row REPLACE statements");
	return 0;
}

void tidm_full_result_dispose(tidm_full_result *res)
{
	free(res->snapshot.gtid_set);
	res->snapshot.gtid_set = NULL;
	tidm_buf_dispose(&res->mapping_report);
}

/* ---- rounds: DDL during the copy (DESIGN 7.) ------------------------------------------------ */

/*
 * Columns and chunk key of t (describe) as the snapshot has them. information_schema is
 * read after the snapshot's lock (joins of it under FLUSH TABLES WITH READ LOCK fail on
 * MariaDB), so the definition is read again afterwards: when it is no longer the one read
 * under the lock, DDL ran in between and t is stale - copied by the next round instead of
 * with columns its snapshot rows do not have.
 */
static int describe_snapshot(run *r, tidm_conn *src, table *t)
{
	tidm_buf q = TIDM_BUF_INIT, now = TIDM_BUF_INIT, then = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc = describe(r, src, t);

	if (rc == TIDM_ENOTFOUND || (rc < 0 && stale_error())) {
		mark_stale(t);
		return 0;
	}
	if (rc < 0 || !t->snap_create)
		return rc;
	tidm_buf_puts(&q, "SHOW CREATE TABLE ");
	tidm_quote_qualified(&q, t->db, t->name);
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0) {
		if (stale_error()) {
			mark_stale(t);
			rc = 0;
		}
		goto out;
	}
	if (tidm_res_next(res) == 1 && tidm_res_cols(res) >= 2 && tidm_res_get(res, 1))
		normalize_create(&now, tidm_res_get(res, 1));
	normalize_create(&then, t->snap_create);
	if (!now.data || !then.data || strcmp(now.data, then.data) != 0) {
		tidm_err_set(TIDM_ERROR, "its definition changed");
		mark_stale(t);
	}
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&now);
	tidm_buf_dispose(&then);
	return rc;
}

/*
 * The table db.name is not on the source at this round's snapshot: drop its target copy
 * and forget its chunks, and record one 'gone' chunk at the snapshot's position, so
 * replication (runner's windows) passes over its events before it - its DROP or RENAME.
 */
static int record_gone(run *r, tidm_conn *tgt, const char *db, const char *name)
{
	tidm_buf q = TIDM_BUF_INIT;
	table tmp;
	int rc;

	memset(&tmp, 0, sizeof(tmp));
	tmp.db = xstrdup(db);
	tmp.name = xstrdup(name);
	tidm_info("`%s`.`%s` is no longer on the source: its copy on the target is dropped", db, name);
	if ((rc = forget_table(r, tgt, &tmp)) < 0)
		goto out;
	tidm_buf_puts(&q, "INSERT INTO `" META_DB "`.`tables` (`job`,`db`,`tbl`,`chunks`) VALUES (");
	put_str(&q, r->cfg->name);
	tidm_buf_putc(&q, ',');
	put_str(&q, db);
	tidm_buf_putc(&q, ',');
	put_str(&q, name);
	tidm_buf_puts(&q, ",0)");
	if ((rc = tidm_conn_exec(tgt, q.data, q.len)) < 0)
		goto out;
	tidm_buf_clear(&q);
	tidm_buf_puts(&q, "INSERT INTO `" META_DB "`.`chunks` (`job`,`db`,`tbl`,`no`,`state`,`snap_file`,`snap_pos`) VALUES (");
	put_str(&q, r->cfg->name);
	tidm_buf_putc(&q, ',');
	put_str(&q, db);
	tidm_buf_putc(&q, ',');
	put_str(&q, name);
	tidm_buf_puts(&q, ",0,'gone',");
	put_str(&q, r->copy_snap.file);
	tidm_buf_printf(&q, ",%llu)", (unsigned long long)r->copy_snap.pos);
	rc = tidm_conn_exec(tgt, q.data, q.len);
out:
	if (rc < 0)
		tidm_err_prefix("dropping the target copy of `%s`.`%s`: ", db, name);
	tidm_buf_dispose(&q);
	table_dispose(&tmp);
	return rc;
}

/*
 * Before a round copies: the stale tables of the last round lose their target copies
 * (those still on the source are made again from this snapshot); on a resumed run, tables
 * an earlier run copied that are gone from the source are dropped on the target.
 */
static int drop_stale(run *r, tidm_conn *tgt)
{
	const char *p, *end;
	tidm_buf q = TIDM_BUF_INIT, gone = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc = 0;

	if (r->round == 0 && r->resumed) {
		tidm_buf_puts(&q, "SELECT `db`, `tbl` FROM `" META_DB "`.`tables` WHERE `job` = ");
		put_str(&q, r->cfg->name);
		if ((rc = tidm_conn_query(tgt, &res, q.data)) < 0)
			goto out;
		while (tidm_res_next(res) == 1) {
			const char *db = tidm_res_get(res, 0), *name = tidm_res_get(res, 1);
			if (tidm_filter_match_table(&r->cfg->objects, db, name) && !find_table(r, db, name))
				names_add(&gone, db, name);
		}
	}
	for (p = r->stale_names.data, end = p + r->stale_names.len; p && p < end;) {
		const char *name = p + strlen(p) + 1;
		table tmp;
		if (find_table(r, p, name)) {
			memset(&tmp, 0, sizeof(tmp));
			tmp.db = (char *)p;
			tmp.name = (char *)name;
			if ((rc = forget_table(r, tgt, &tmp)) < 0)
				goto out;
		} else {
			names_add(&gone, p, name);
		}
		p = name + strlen(name) + 1;
	}
	for (p = gone.data, end = p + gone.len; p && p < end;) {
		const char *name = p + strlen(p) + 1;
		if ((rc = record_gone(r, tgt, p, name)) < 0)
			goto out;
		p = name + strlen(name) + 1;
	}
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&gone);
	return rc;
}

/* After a round: stale tables go to the next round (true when there are any). */
static bool next_round(run *r)
{
	tidm_buf stale = TIDM_BUF_INIT;
	size_t k;
	bool any;

	for (k = 0; k < r->ntables; k++)
		names_add(atomic_load(&r->tables[k].stale) ? &stale : &r->done_names, r->tables[k].db,
			  r->tables[k].name);
	tidm_buf_dispose(&r->stale_names);
	r->stale_names = stale;
	any = stale.len > 0;
	for (k = 0; k < r->ntodo; k++)
		chunk_free(r->todo[k]);
	r->ntodo = 0;
	atomic_store(&r->next_chunk, 0);
	return any;
}

/* Copy the chunks in r->todo: dump workers on the snapshot connections, load workers. */
static void copy_chunks(run *r, tidm_conn **dumpers, unsigned ndump, unsigned nload)
{
	dump_ctx *dctx = calloc(ndump, sizeof(*dctx));
	pthread_t *dthreads = calloc(ndump, sizeof(*dthreads)), *lthreads = calloc(nload, sizeof(*lthreads));
	unsigned i, dstarted = 0, lstarted = 0;

	r->cap = 2 * (size_t)nload;
	r->ring = calloc(r->cap, sizeof(*r->ring));
	if (!r->ring || !dctx || !dthreads || !lthreads)
		abort();
	r->head = r->count = 0;
	r->producers_left = ndump;
	for (i = 0; i < nload; i++, lstarted++)
		if (pthread_create(&lthreads[i], NULL, load_worker, r) != 0) {
			tidm_err_set(TIDM_ERROR, "cannot start a load thread");
			fail(r);
			break;
		}
	for (i = 0; i < ndump; i++) {
		dctx[i].r = r;
		dctx[i].src = dumpers[i];
		if (pthread_create(&dthreads[i], NULL, dump_worker, &dctx[i]) != 0) {
			tidm_err_set(TIDM_ERROR, "cannot start a dump thread");
			fail(r);
			pthread_mutex_lock(&r->mu);
			r->producers_left -= ndump - i;
			pthread_cond_broadcast(&r->not_empty);
			pthread_mutex_unlock(&r->mu);
			break;
		}
		dstarted++;
	}
	for (i = 0; i < dstarted; i++)
		pthread_join(dthreads[i], NULL);
	for (i = 0; i < lstarted; i++)
		pthread_join(lthreads[i], NULL);
	/* statements left in the queue after a stop */
	while (r->count) {
		free(r->ring[r->head].sql);
		r->head = (r->head + 1) % r->cap;
		r->count--;
	}
	for (i = 0; i < ndump; i++)
		tidm_conn_close(dctx[i].tgt);
	free(r->ring);
	r->ring = NULL;
	free(dctx);
	free(dthreads);
	free(lthreads);
}

int tidm_full_run(const tidm_job_config *cfg, tidm_full_progress *prog, tidm_full_result *out,
		  volatile sig_atomic_t *cancel, bool restart)
{
	run r;
	tidm_conn *src = NULL, *tgt = NULL;
	tidm_conn **dumpers = NULL;
	unsigned ndump = cfg->dump_threads ? cfg->dump_threads : 4;
	unsigned nload = cfg->load_threads ? cfg->load_threads : 4;
	unsigned i;
	size_t k;
	int rc;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.prog = prog;
	r.cancel = cancel;
	r.restart = restart;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.not_empty, NULL);
	pthread_cond_init(&r.not_full, NULL);
	tidm_endpoint_conn_opts(&r.src_opts, &cfg->source, TIDM_ROLE_SOURCE);
	tidm_endpoint_conn_opts(&r.tgt_opts, &cfg->target, TIDM_ROLE_TARGET);

	r.tgt_opts.local_infile = cfg->load_method != TIDM_LOAD_INSERT;
	if (getenv("TIDM_TEST_PAUSE_AFTER_CHUNK"))
		r.pause_ms = (unsigned)strtoul(getenv("TIDM_TEST_PAUSE_AFTER_CHUNK"), NULL, 10) % 60000;

	atomic_store(&prog->stage, TIDM_FULL_CONNECTING);
	if ((rc = tidm_conn_open(&src, &r.src_opts)) < 0 || (rc = open_target(&r, &tgt)) < 0)
		goto out;
	if ((rc = choose_load_method(&r, tgt)) < 0)
		goto out;
	tidm_info("source: %s, target: %s", tidm_conn_info(src)->version_str, tidm_conn_info(tgt)->version_str);
	if ((rc = tidm_meta_ensure(tgt)) < 0 || (rc = meta_load_job(&r, tgt, &out->resumed, &out->snapshot)) < 0)
		goto out;

	/* dump connections, then the snapshot (first run only: a resumed run keeps the position) */
	dumpers = calloc(ndump, sizeof(*dumpers));
	if (!dumpers)
		abort();
	for (i = 0; i < ndump; i++)
		if ((rc = tidm_conn_open(&dumpers[i], &r.src_opts)) < 0)
			goto out;
	for (r.round = 0;; r.round++) {
		tidm_snapshot_pos fresh;
		unsigned attempt;

		atomic_store(&prog->stage, TIDM_FULL_SNAPSHOT);
		if ((rc = discover(&r, src)) < 0)
			goto out;
		for (attempt = 0;; attempt++) {
			memset(&fresh, 0, sizeof(fresh));
			rc = take_snapshot(&r, src, dumpers, ndump, &fresh);
			if (rc != TIDM_EAGAIN)
				break;
			free(fresh.gtid_set);
			if (attempt == 5) {
				rc = tidm_err_set(TIDM_ERROR, "tables keep being created or dropped on the source while "
							      "taking the snapshot; try again when DDL is quieter");
				break;
			}
			tidm_info("the source's table list changed while locking; taking the snapshot again");
		}
		if (rc < 0) {
			free(fresh.gtid_set);
			goto out;
		}
		snprintf(r.copy_snap.file, sizeof(r.copy_snap.file), "%s", fresh.file);
		r.copy_snap.pos = fresh.pos;
		if (r.round) {
			tidm_info("copying again what changed during the copy, from a new snapshot at %s:%llu", fresh.file,
				  (unsigned long long)fresh.pos);
			free(fresh.gtid_set);
		} else if (!out->resumed) {
			out->snapshot = fresh;
		} else {
			tidm_info("resuming job %s (snapshot position %s:%llu kept)", cfg->name, out->snapshot.file,
				  (unsigned long long)out->snapshot.pos);
			free(fresh.gtid_set);
		}
		r.resumed = out->resumed;
		if ((rc = drop_stale(&r, tgt)) < 0)
			goto out;
		for (k = 0; k < r.ntables; k++) {
			table *t = &r.tables[k];
			bool again = names_has(&r.stale_names, t->db, t->name);
			if (t->is_view) {
				out->views++;
				continue;
			}
			if (!again)
				out->tables++;
			if ((rc = describe_snapshot(&r, src, t)) < 0)
				goto out;
			atomic_fetch_add(&prog->rows_estimate, t->est_rows);
		}
		atomic_store(&prog->tables_total, out->tables);
		if (r.ntables == 0 && r.round == 0)
			tidm_warn("no table of the source matches the job's selection");
		/* before anything is written: keyless tables claimed or refused (each round: a
		 * re-copied table's target copy was dropped, a renamed one is new) */
		if ((rc = keyless_decide(&r, tgt)) < 0 ||
		    (r.round == 0 && !out->resumed && (rc = meta_reset_job(&r, tgt)) < 0))
			goto out;
		if (r.round == 0 && (rc = meta_save_job(&r, tgt, "running", "dump", &out->snapshot)) < 0)
			goto out;

		atomic_store(&prog->stage, TIDM_FULL_SCHEMA);
		if ((rc = create_schema(&r, src, tgt, &out->mapping_report)) < 0 ||
		    (r.round == 0 &&
		     (rc = tidm_dump_sequences(src, dumpers[0], tgt, &cfg->objects, &out->mapping_report)) < 0))
			goto out;

		atomic_store(&prog->stage, TIDM_FULL_PLANNING);
		if (out->resumed && (rc = load_plans(&r, tgt)) < 0)
			goto out;
		for (k = 0; k < r.ntables; k++) {
			table *t = &r.tables[k];
			if (t->is_view || t->planned || atomic_load(&t->stale))
				continue;
			/* plan_table reads the table outside the snapshot: DDL may have renamed it or
			 * dropped its key column */
			if ((rc = plan_table(&r, src, tgt, t)) < 0 && rc != TIDM_ECANCELED && stale_error()) {
				mark_stale(t);
				rc = 0;
			}
			if (rc < 0)
				goto out;
		}
		/* tables whose every chunk was done before */
		for (k = 0; k < r.ntables; k++)
			if (!r.tables[k].is_view && !atomic_load(&r.tables[k].stale) &&
			    atomic_load(&r.tables[k].chunks_left) == 0) {
				if ((rc = finish_table(&r, tgt, &r.tables[k])) < 0)
					goto out;
				atomic_fetch_add(&prog->tables_done, 1);
			}
		if ((rc = keyless_prepare(&r, tgt)) < 0)
			goto out;
		for (k = 0; k < r.ntodo; k++)
			if (r.todo[k]->no > r.todo[k]->t->last_no)
				r.todo[k]->t->last_no = r.todo[k]->no;
		if (r.ntodo)
			qsort(r.todo, r.ntodo, sizeof(*r.todo), cmp_chunk);

		atomic_store(&prog->stage, TIDM_FULL_COPYING);
		copy_chunks(&r, dumpers, ndump, nload);
		if (r.err_code) {
			rc = tidm_err_set_db(r.err_code, r.err_db, "%s", r.err_msg);
			goto out;
		}
		if (cancel && *cancel) {
			rc = tidm_err_set(TIDM_ECANCELED, "interrupted; run the same command again to resume");
			goto out;
		}
		if (!next_round(&r))
			break;
		if (r.round == 5) {
			rc = tidm_err_set(TIDM_ERROR, "tables keep changing on the source while they are copied; run "
						      "the same command again when DDL is quieter");
			goto out;
		}
		/* end the snapshot transactions now: DDL waiting for their metadata locks goes on */
		for (i = 0; i < ndump; i++)
			if ((rc = tidm_conn_exec(dumpers[i], "ROLLBACK", 8)) < 0)
				goto out;
	}
	if ((rc = meta_save_job(&r, tgt, cfg->type == TIDM_JOB_FULL ? "finished" : "running",
				cfg->type == TIDM_JOB_FULL ? "done" : "sync", &out->snapshot)) < 0)
		goto out;
	atomic_store(&prog->stage, TIDM_FULL_DONE);
out:
	if (dumpers)
		for (i = 0; i < ndump; i++)
			tidm_conn_close(dumpers[i]);
	free(dumpers);
	for (k = 0; k < r.ntodo; k++)
		chunk_free(r.todo[k]);
	free(r.todo);
	for (k = 0; k < r.ntables; k++)
		table_dispose(&r.tables[k]);
	free(r.tables);
	tidm_keyless_marks_dispose(&r.keyless);
	tidm_buf_dispose(&r.done_names);
	tidm_buf_dispose(&r.stale_names);
	tidm_conn_close(src);
	tidm_conn_close(tgt);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.not_empty);
	pthread_cond_destroy(&r.not_full);
	return rc;
}
