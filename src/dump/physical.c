/*
 * physical.c - mode physical: the copy into empty target tables by the shortest path each
 * target has.
 *
 * DESIGN
 *  Before anything is written (a first run, or --restart) every selected table that exists
 *  on the target must be empty (db/empty.h, the same check as the precheck item
 *  physical-empty), else the run is refused naming them; a TiDB target with a PITR log
 *  backup or changefeed known active is refused too (and IMPORT INTO's own precheck fails
 *  the statement when one is: tidm never passes DISABLE_PRECHECK).
 *  Unit of work: a table. A dump worker takes the next table (biggest first) and copies
 *  all its chunks in key order on its own target connection:
 *   - MySQL/MariaDB: plain LOAD DATA (no REPLACE: the table is empty) in batches of at
 *     least 4 MiB, with unique_checks = 0 and foreign_key_checks = 0; each batch commits
 *     (measured faster on MariaDB 10.11 than one transaction per table, whose bulk-insert
 *     path buffers and sorts rows the key order already sorted: bench/README.md), or with
 *     spec.physical.one-transaction the whole table in one transaction, which MariaDB
 *     10.6+ loads by its bulk-insert path for an empty table. The chunks' "done" marks
 *     are written after the table's last row (in its transaction, if one): a table is
 *     finished or not. Secondary indexes are added after the rows (create.c, as in mode
 *     logical).
 *   - TiDB 7.2+: the chunks are written as files under spec.stage (stage.h), then one
 *     IMPORT INTO per table; its chunks are then marked done in one transaction.
 *  Resume: a table not finished (its chunks without their marks) is emptied (TRUNCATE) if
 *  it holds rows and copied again from its chunks, re-read from the snapshot; finished
 *  tables are not touched. A lost target connection empties the table and copies it again
 *  from its first chunk (the snapshot connection still reads it).
 *  MySQL 8.0.21+ with spec.physical.disable-redo-log: the redo log is switched off before
 *  the copy (db/redolog.h) and on again when the run ends, on every path through
 *  tidm_full_run (full_physical_end).
 */
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>

#include "db/empty.h"
#include "db/redolog.h"
#include "dump/full_int.h"
#include "dump/stage.h"

#define LIST_MAX 10
#define PHYSICAL_STMT_BYTES (4u << 20)

struct full_physical {
	_Atomic size_t next_group;
	size_t *group_start; /* ngroups + 1 indexes into r->todo */
	size_t ngroups;
	bool tidb;
	bool one_txn;      /* the rows of a table in one transaction (else each batch commits) */
	bool bulk_session; /* unique_checks = 0 (MariaDB's bulk-insert path for an empty table) */
	bool redo_started;
	tidm_redo redo;
	tidm_conn *redo_conn;
	const tidm_conn_opts *redo_opts;
};

/* ---- before anything is written --------------------------------------------------- */

int full_physical_check(run *r, tidm_conn *tgt)
{
	const tidm_server_info *ti = tidm_conn_info(tgt);
	const char **dbs = calloc(r->ntables + 1, sizeof(*dbs)), **names = calloc(r->ntables + 1, sizeof(*names));
	bool *exists = calloc(r->ntables + 1, sizeof(bool)), *full = calloc(r->ntables + 1, sizeof(bool));
	const char **edbs = calloc(r->ntables + 1, sizeof(*edbs)), **enames = calloc(r->ntables + 1, sizeof(*enames));
	tidm_buf list = TIDM_BUF_INIT;
	size_t n = 0, ne = 0, nbad = 0;
	int rc = 0;

	if (!dbs || !names || !exists || !full || !edbs || !enames)
		abort();
	if (ti->flavor == TIDM_FLAVOR_TIDB) {
		if (ti->tidb_pitr_active) {
			rc = tidm_err_set(TIDM_EINVAL, "mode physical: the target TiDB cluster runs a PITR log backup or a "
						       "changefeed, which would miss the imported data. Nothing was written. "
						       "Stop them for the import (br log stop; pause the changefeeds), or use "
						       "mode: logical");
			goto out;
		}
		if (!r->cfg->stage) {
			rc = tidm_err_set(TIDM_EINVAL, "mode physical on TiDB imports staged files with IMPORT INTO: set "
						       "spec.stage to a directory the TiDB servers read (file:///dir) or "
						       "s3://bucket/prefix. Nothing was written");
			goto out;
		}
		if (strncmp(r->cfg->stage, "file:///", 8) != 0) {
			rc = tidm_err_set(TIDM_EINVAL, "spec.stage %s: tidm stages files only in a shared directory "
						       "(file:///dir) so far, not in object storage. Nothing was written",
					  r->cfg->stage);
			goto out;
		}
	}
	for (size_t k = 0; k < r->ntables; k++)
		if (!r->tables[k].is_view) {
			dbs[n] = r->tables[k].db;
			names[n++] = r->tables[k].name;
		}
	if ((rc = tidm_tables_exist(tgt, dbs, names, n, exists)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (exists[i]) {
			edbs[ne] = dbs[i];
			enames[ne++] = names[i];
		}
	if ((rc = tidm_tables_nonempty(tgt, edbs, enames, ne, full)) < 0)
		goto out;
	for (size_t i = 0; i < ne; i++) {
		if (!full[i])
			continue;
		if (nbad < LIST_MAX) {
			tidm_buf_puts(&list, nbad ? ", " : "");
			tidm_quote_qualified(&list, edbs[i], enames[i]);
		}
		nbad++;
	}
	if (nbad > LIST_MAX)
		tidm_buf_printf(&list, " and %zu more", nbad - LIST_MAX);
	if (nbad)
		rc = tidm_err_set(TIDM_EINVAL,
				  "mode physical writes only into empty tables, and %s on the target hold%s rows. Nothing "
				  "was written. Empty or drop %s on the target, or use mode: logical (which replaces rows "
				  "by key)",
				  list.data, nbad == 1 ? "s" : "", nbad == 1 ? "it" : "them");
out:
	tidm_buf_dispose(&list);
	free(dbs);
	free(names);
	free(exists);
	free(full);
	free(edbs);
	free(enames);
	return rc;
}

/* ---- the redo log switch (MySQL 8.0.21+) ------------------------------------------- */

static int redo_query(void *ctx, const char *sql, char **value)
{
	struct full_physical *p = ctx;
	int rc = TIDM_ECONN;

	for (int attempt = 0; attempt < 3; attempt++) {
		if (!p->redo_conn && (rc = tidm_conn_open(&p->redo_conn, p->redo_opts)) < 0)
			continue;
		rc = value ? tidm_conn_query_value(p->redo_conn, value, sql) : tidm_conn_exec(p->redo_conn, sql, strlen(sql));
		if (rc != TIDM_ECONN)
			return rc;
		tidm_conn_close(p->redo_conn);
		p->redo_conn = NULL;
	}
	return rc;
}

/* ---- before each round's copy ------------------------------------------------------ */

static int cmp_physical(const void *a, const void *b)
{
	const chunk *x = *(chunk *const *)a, *y = *(chunk *const *)b;

	if (x->t != y->t) {
		if (x->t->est_rows != y->t->est_rows)
			return x->t->est_rows > y->t->est_rows ? -1 : 1;
		return x->t < y->t ? -1 : 1;
	}
	return x->no < y->no ? -1 : x->no > y->no;
}

/* LOAD DATA without REPLACE: the table is empty, and REPLACE costs a unique lookup per row. */
static void plain_load(table *t)
{
	static const char repl[] = "REPLACE INTO TABLE ";
	char *at = strstr(t->load_sql.data ? t->load_sql.data : "", repl);

	if (!at)
		return;
	memmove(at, at + 8, t->load_sql.len - (size_t)(at + 8 - t->load_sql.data) + 1);
	t->load_sql.len -= 8;
}

int full_physical_start(run *r, tidm_conn *tgt)
{
	struct full_physical *p = r->phys;
	size_t k;

	if (!p) {
		if (!(p = calloc(1, sizeof(*p))))
			abort();
		r->phys = p;
		p->tidb = tidm_conn_info(tgt)->flavor == TIDM_FLAVOR_TIDB;
		p->redo_opts = &r->tgt_opts;
		p->one_txn = r->cfg->physical_one_txn;
		p->bulk_session = true;
	}
	if (!r->stmt_limit)
		r->stmt_limit = r->cfg->statement_bytes > PHYSICAL_STMT_BYTES ? r->cfg->statement_bytes : PHYSICAL_STMT_BYTES;
	for (k = 0; k < r->ntables; k++)
		plain_load(&r->tables[k]);
	if (r->ntodo)
		qsort(r->todo, r->ntodo, sizeof(*r->todo), cmp_physical);
	free(p->group_start);
	if (!(p->group_start = calloc(r->ntodo + 1, sizeof(size_t))))
		abort();
	p->ngroups = 0;
	for (k = 0; k < r->ntodo; k++)
		if (k == 0 || r->todo[k]->t != r->todo[k - 1]->t)
			p->group_start[p->ngroups++] = k;
	p->group_start[p->ngroups] = r->ntodo;
	atomic_store(&p->next_group, 0);

	if (r->cfg->physical_disable_redo && !p->tidb && !p->redo_started && r->ntodo) {
		const tidm_server_info *ti = tidm_conn_info(tgt);
		p->redo_started = true;
		tidm_redo_init(&p->redo, redo_query, p);
		return tidm_redo_disable(&p->redo, ti->flavor == TIDM_FLAVOR_MYSQL, ti->version);
	}
	return 0;
}

/* Every exit of tidm_full_run: the redo log on again; the error of the run is kept. */
void full_physical_end(run *r)
{
	struct full_physical *p = r->phys;

	if (!p)
		return;
	if (p->redo_started && p->redo.state == TIDM_REDO_DISABLED) {
		int ecode = tidm_err_code();
		unsigned edb = tidm_err_dberr();
		char msg[2048];
		snprintf(msg, sizeof(msg), "%s", tidm_err_msg());
		if (tidm_redo_restore(&p->redo) < 0)
			tidm_say(TIDM_LOG_ERROR, "%s", tidm_err_msg());
		if (ecode)
			tidm_err_set_db(ecode, edb, "%s", msg);
	}
	tidm_conn_close(p->redo_conn);
	free(p->group_start);
	free(p);
	r->phys = NULL;
}

/* ---- the writer thread of a dump worker --------------------------------------------- */

/*
 * While the target loads one batch, the dump worker reads and formats the next: one batch
 * in flight (`has`), handed over under `mu`. The writer owns d->tgt while a batch is in
 * flight; the dump worker uses d->tgt only after full_pipe_drain. The first error of the
 * writer is kept and returned by the next send or drain.
 */
struct full_pipe {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	dump_ctx *d;
	bool has, quit;
	chunk *c;
	char *data;
	size_t len;
	uint64_t rows;
	bool load;
	int err;
	unsigned err_db;
	char err_msg[2048];
};

static void *pipe_main(void *arg)
{
	struct full_pipe *p = arg;
	run *r = p->d->r;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		int rc;
		while (!p->has && !p->quit)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->has)
			break;
		pthread_mutex_unlock(&p->mu);
		rc = full_exec_rows(p->d->tgt, p->c, p->data, p->len, p->rows, p->load);
		if (rc == 0) {
			atomic_fetch_add(&p->c->rows, p->rows);
			atomic_fetch_add(&p->c->bytes, p->len);
			atomic_fetch_add(&r->prog->rows_done, p->rows);
			atomic_fetch_add(&r->prog->bytes_done, p->len);
		}
		free(p->data);
		pthread_mutex_lock(&p->mu);
		if (rc < 0 && !p->err) {
			p->err = rc;
			p->err_db = tidm_err_dberr();
			snprintf(p->err_msg, sizeof(p->err_msg), "%s", tidm_err_msg());
		}
		p->data = NULL;
		p->has = false;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Wait until no batch is in flight; the writer's first error since the last drain. Called
 * with p->mu held. */
static int pipe_wait_locked(struct full_pipe *p)
{
	int rc;

	while (p->has)
		pthread_cond_wait(&p->cv, &p->mu);
	if (!(rc = p->err))
		return 0;
	p->err = 0;
	return tidm_err_set_db(rc, p->err_db, "%s", p->err_msg);
}

static int pipe_drain(dump_ctx *d)
{
	int rc;

	if (!d->pipe)
		return 0;
	pthread_mutex_lock(&d->pipe->mu);
	rc = pipe_wait_locked(d->pipe);
	pthread_mutex_unlock(&d->pipe->mu);
	return rc;
}

int full_physical_send(dump_ctx *d, chunk *c, tidm_buf *rows_buf, uint64_t nrows, bool load)
{
	struct full_pipe *p = d->pipe;
	int rc;

	pthread_mutex_lock(&p->mu);
	if ((rc = pipe_wait_locked(p)) == 0) {
		p->c = c;
		p->rows = nrows;
		p->load = load;
		p->len = rows_buf->len;
		p->data = tidm_buf_detach(rows_buf);
		p->has = true;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static int pipe_start(dump_ctx *d)
{
	struct full_pipe *p = calloc(1, sizeof(*p));

	if (!p)
		abort();
	p->d = d;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pthread_create(&p->th, NULL, pipe_main, p) != 0) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		free(p);
		return tidm_err_set(TIDM_ERROR, "cannot start a load thread");
	}
	d->pipe = p;
	return 0;
}

static void pipe_stop(dump_ctx *d)
{
	struct full_pipe *p = d->pipe;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
	d->pipe = NULL;
}

/* ---- the copy of one table ---------------------------------------------------------- */

/* A resumed table may hold rows of the interrupted load (a TiDB import, a transaction the
 * server had not rolled back yet): emptied first. */
static int empty_if_needed(run *r, tidm_conn *tgt, table *t, bool again)
{
	const char *db = t->db, *name = t->name;
	bool full = false;
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	if (!r->resumed && !again)
		return 0;
	if ((rc = tidm_tables_nonempty(tgt, &db, &name, 1, &full)) < 0 || !full)
		return rc;
	tidm_info("`%s`.`%s`: emptied, its interrupted load is copied again", t->db, t->name);
	tidm_buf_puts(&q, "TRUNCATE TABLE ");
	tidm_quote_qualified(&q, t->db, t->name);
	rc = tidm_conn_exec(tgt, q.data, q.len);
	tidm_buf_dispose(&q);
	return rc;
}

static int open_physical_target(dump_ctx *d)
{
	int rc;

	if (!d->tgt && (rc = full_open_target(d->r, &d->tgt)) < 0)
		return rc;
	if (!d->tgt_physical) {
		if (tidm_conn_info(d->tgt)->flavor != TIDM_FLAVOR_TIDB && d->r->phys->bulk_session &&
		    (rc = tidm_conn_exec(d->tgt, "SET SESSION unique_checks = 0", 30)) < 0)
			return rc;
		d->tgt_physical = true;
	}
	return 0;
}

static int table_done(run *r, tidm_conn *tgt, table *t, size_t n)
{
	int rc;

	atomic_fetch_add(&r->prog->chunks_done, n);
	atomic_store(&t->chunks_left, 0);
	if ((rc = full_finish_table(r, tgt, t)) < 0)
		return rc;
	atomic_fetch_add(&r->prog->tables_done, 1);
	return 0;
}

/* The chunks' "done" marks: in the table's transaction, or in one of their own after the
 * rows (a table with a chunk not marked is emptied and copied again on resume). */
static int mark_chunks(run *r, tidm_conn *tgt, chunk **cs, size_t n, bool own_txn)
{
	int rc = own_txn ? tidm_conn_begin(tgt) : 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		rc = full_meta_chunk_done(r, tgt, cs[i]);
	if (own_txn)
		rc = rc == 0 ? tidm_conn_commit(tgt) : (tidm_conn_rollback(tgt), rc);
	return rc;
}

static int load_table(dump_ctx *d, chunk **cs, size_t n, bool again)
{
	run *r = d->r;
	table *t = cs[0]->t;
	bool one_txn = r->phys->one_txn;
	int rc;

	if ((rc = open_physical_target(d)) < 0 || (rc = empty_if_needed(r, d->tgt, t, again)) < 0 ||
	    (one_txn && (rc = tidm_conn_begin(d->tgt)) < 0))
		return rc;
	for (size_t i = 0; i < n; i++) {
		atomic_store(&cs[i]->rows, 0);
		atomic_store(&cs[i]->bytes, 0);
		if ((rc = full_dump_chunk(d, cs[i])) < 0)
			goto fail;
		if (r->pause_ms)
			usleep(r->pause_ms * 1000u);
		if (full_stopping(r)) {
			rc = tidm_err_set(TIDM_ECANCELED, "interrupted");
			goto fail;
		}
	}
	if ((rc = pipe_drain(d)) < 0 || (rc = mark_chunks(r, d->tgt, cs, n, !one_txn)) < 0 ||
	    (one_txn && (rc = tidm_conn_commit(d->tgt)) < 0))
		goto fail;
	return table_done(r, d->tgt, t, n);
fail:
	{
		/* the batch in flight ends first; the first error is the table's */
		int code = tidm_err_code();
		unsigned db = tidm_err_dberr();
		char msg[2048];
		snprintf(msg, sizeof(msg), "%s", tidm_err_msg());
		if (pipe_drain(d) < 0 && (rc == TIDM_ECANCELED || rc == TIDM_EAGAIN))
			rc = tidm_err_code(); /* the writer's error explains more */
		else
			tidm_err_set_db(code, db, "%s", msg);
	}
	if (d->tgt && one_txn && rc != TIDM_ECONN)
		tidm_conn_rollback(d->tgt);
	for (size_t i = 0; i < n; i++) {
		atomic_fetch_sub(&r->prog->rows_done, atomic_load(&cs[i]->rows));
		atomic_fetch_sub(&r->prog->bytes_done, atomic_load(&cs[i]->bytes));
	}
	return rc;
}

/* TiDB: the table's chunks as files under spec.stage, then IMPORT INTO. */
static int mkdirs(char *path)
{
	for (char *s = path + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(path, 0755) < 0 && errno != EEXIST) {
				*s = '/';
				return -1;
			}
			*s = '/';
		}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int stage_chunk(dump_ctx *d, chunk *c, const char *dir)
{
	tidm_buf q = TIDM_BUF_INIT, rows = TIDM_BUF_INIT, path = TIDM_BUF_INIT;
	const char *const *vals;
	const unsigned long *lens;
	FILE *f;
	int rc = 0, got;
	uint64_t n = 0;

	tidm_buf_printf(&path, "%s/chunk-%06u.csv", dir, c->no);
	if (!(f = fopen(path.data, "w"))) {
		rc = tidm_err_set(TIDM_ERROR, "cannot write %s under spec.stage: %s", path.data, strerror(errno));
		goto out;
	}
	full_put_chunk_select(&q, c);
	if ((rc = tidm_conn_stream_begin(d->src, q.data)) < 0)
		goto close;
	while ((got = tidm_conn_stream_next(d->src, &vals, &lens)) == 1) {
		tidm_stage_put_row(&rows, vals, lens, (unsigned)c->t->ncols);
		n++;
		if (rows.len >= (1u << 20)) {
			if (fwrite(rows.data, 1, rows.len, f) != rows.len) {
				rc = tidm_err_set(TIDM_ERROR, "cannot write %s under spec.stage: %s", path.data,
						  strerror(errno));
				break;
			}
			atomic_fetch_add(&c->bytes, rows.len);
			tidm_buf_clear(&rows);
		}
	}
	if (got < 0 && rc == 0)
		rc = got;
	tidm_conn_stream_end(d->src);
	if (rc == 0 && rows.len && fwrite(rows.data, 1, rows.len, f) != rows.len)
		rc = tidm_err_set(TIDM_ERROR, "cannot write %s under spec.stage: %s", path.data, strerror(errno));
	atomic_fetch_add(&c->bytes, rows.len);
	atomic_store(&c->rows, n);
close:
	if (fclose(f) != 0 && rc == 0)
		rc = tidm_err_set(TIDM_ERROR, "cannot write %s under spec.stage: %s", path.data, strerror(errno));
out:
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&rows);
	tidm_buf_dispose(&path);
	return rc;
}

static int import_table(dump_ctx *d, chunk **cs, size_t n, bool again)
{
	run *r = d->r;
	table *t = cs[0]->t;
	tidm_buf dir = TIDM_BUF_INIT, loc = TIDM_BUF_INIT, sql = TIDM_BUF_INIT;
	uint64_t rows = 0, bytes = 0;
	int rc;

	if ((rc = open_physical_target(d)) < 0 || (rc = empty_if_needed(r, d->tgt, t, again)) < 0 ||
	    (rc = tidm_stage_paths(r->cfg->stage, r->cfg->name, t->db, t->name, &dir, &loc)) < 0)
		goto out;
	if (mkdirs(dir.data) < 0) {
		rc = tidm_err_set(TIDM_ERROR, "cannot create %s under spec.stage: %s", dir.data, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = stage_chunk(d, cs[i], dir.data)) < 0)
			goto out;
		rows += atomic_load(&cs[i]->rows);
		bytes += atomic_load(&cs[i]->bytes);
	}
	tidm_stage_import_sql(&sql, t->db, t->name, (const char *const *)t->cols, t->ncols, loc.data, 0);
	if ((rc = tidm_conn_exec(d->tgt, sql.data, sql.len)) < 0) {
		tidm_err_prefix("IMPORT INTO from %s: ", loc.data);
		goto out;
	}
	atomic_fetch_add(&r->prog->rows_done, rows);
	atomic_fetch_add(&r->prog->bytes_done, bytes);
	if ((rc = mark_chunks(r, d->tgt, cs, n, true)) == 0) {
		for (size_t i = 0; i < n; i++) {
			tidm_buf_clear(&sql);
			tidm_buf_printf(&sql, "%s/chunk-%06u.csv", dir.data, cs[i]->no);
			unlink(sql.data);
		}
		rmdir(dir.data);
		rc = table_done(r, d->tgt, t, n);
	}
out:
	tidm_buf_dispose(&dir);
	tidm_buf_dispose(&loc);
	tidm_buf_dispose(&sql);
	return rc;
}

void full_physical_worker(dump_ctx *d)
{
	run *r = d->r;
	struct full_physical *p = r->phys;

	if (pipe_start(d) < 0) {
		full_fail(r);
		return;
	}
	while (!full_stopping(r)) {
		size_t g = atomic_fetch_add(&p->next_group, 1), n;
		chunk **cs;
		int rc = 0;
		if (g >= p->ngroups)
			break;
		cs = &r->todo[p->group_start[g]];
		n = p->group_start[g + 1] - p->group_start[g];
		if (atomic_load(&cs[0]->t->stale))
			continue;
		for (unsigned attempt = 0;; attempt++) {
			rc = p->tidb ? import_table(d, cs, n, attempt > 0) : load_table(d, cs, n, attempt > 0);
			if (rc != TIDM_ECONN || attempt == 3 || full_stopping(r))
				break;
			tidm_warn("lost the target connection while loading `%s`.`%s` (%s); loading it again", cs[0]->t->db,
				  cs[0]->t->name, tidm_err_msg());
			tidm_conn_close(d->tgt);
			d->tgt = NULL;
			d->tgt_physical = false;
			sleep(1u << attempt);
		}
		if (rc == TIDM_EAGAIN)
			continue; /* its table became stale: copied again by the next round */
		if (rc < 0) {
			if (rc != TIDM_ECANCELED || !full_stopping(r)) {
				if (!strstr(tidm_err_msg(), "`"))
					tidm_err_prefix("copying `%s`.`%s`: ", cs[0]->t->db, cs[0]->t->name);
				full_fail(r);
			}
			break;
		}
	}
	pipe_stop(d);
}
