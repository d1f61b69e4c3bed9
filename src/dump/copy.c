/*
 * copy.c - the copy: dump workers, load workers and the queue between them.
 *
 * DESIGN
 *  `dump_threads` dump workers each own a snapshot connection, stream a chunk, and cut it
 *  into batches of at most `statement_bytes`: LOAD DATA LOCAL INFILE text (REPLACE for
 *  tables with a key) where the target allows it (full_choose_load_method), else multi-row
 *  REPLACE statements; every LOAD DATA is checked against the server's count of rows read,
 *  skipped and warned about (load_rows). Batches travel over a bounded queue to
 *  `load_threads` load workers that own target connections. A chunk carries a reference
 *  count (1 for its producer plus 1 per statement in flight); the worker that drops it to
 *  zero marks the chunk done in tidm_meta (chunk_release). Memory is bounded by the queue:
 *  about (2 * load_threads + dump_threads) * statement_bytes.
 *  Mode physical (physical.c) uses the same dump workers, a table at a time each, without
 *  the queue: each worker's own writer thread loads its batches (flush_rows).
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
#include "db/fence.h"
#include "db/meta.h"
#include "db/quote.h"
#include "dump/keyless.h"
#include "util/err.h"
#include "util/log.h"
#include "dump/full_int.h"

/* false: the copy is stopping and the statement was dropped. Its reference stays taken,
 * so the chunk can never count as done: a chunk with a dropped batch must not be marked
 * (the producer's own release would otherwise bring it to zero and record rows that were
 * never written; seen under link faults as a missing chunk after the retry). */
static bool queue_push(run *r, stmt s)
{
	pthread_mutex_lock(&r->mu);
	while (r->count == r->cap && !atomic_load(&r->stop))
		pthread_cond_wait(&r->not_full, &r->mu);
	if (atomic_load(&r->stop)) {
		pthread_mutex_unlock(&r->mu);
		free(s.sql);
		free(s.what);
		return false;
	}
	r->ring[(r->head + r->count) % r->cap] = s;
	r->count++;
	pthread_cond_signal(&r->not_empty);
	pthread_mutex_unlock(&r->mu);
	return true;
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

int full_open_target(run *r, tidm_conn **out)
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
	/* a writer of this run: a later run ends it first, should it outlive us (db/fence.h) */
	if (r->fenced && (rc = tidm_fence_record(*out, r->cfg->name)) < 0)
		return rc;
	return 0;
}

/* Drop one reference of a chunk; the last one records it as done. */
static int chunk_release(run *r, chunk *c, tidm_conn *tgt)
{
	int rc;

	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return 0;
	if ((rc = full_meta_chunk_done(r, tgt, c)) < 0)
		return rc;
	atomic_fetch_add(&r->prog->chunks_done, 1);
	if (atomic_fetch_sub(&c->t->chunks_left, 1) == 1) {
		if ((rc = full_finish_table(r, tgt, c->t)) < 0)
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
		if (!*tgt && (rc = full_open_target(r, tgt)) < 0) {
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
		if (full_stopping(r))
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

	if (full_open_target(r, &tgt) < 0) {
		full_fail(r);
		return NULL;
	}
	while (queue_pop(r, &s)) {
		int rc = exec_retry(r, &tgt, &s);
		free(s.sql);
		if (rc < 0) {
			tidm_err_prefix("copying `%s`.`%s` (chunk %u)%s%s: ", s.c->t->db, s.c->t->name, s.c->no,
					s.what ? ", " : "", s.what ? s.what : "");
			free(s.what);
			full_fail(r);
			break;
		}
		free(s.what);
		atomic_fetch_add(&s.c->rows, s.rows);
		atomic_fetch_add(&s.c->bytes, s.len);
		atomic_fetch_add(&r->prog->rows_done, s.rows);
		atomic_fetch_add(&r->prog->bytes_done, s.len);
		if (chunk_release(r, s.c, tgt) < 0) {
			full_fail(r);
			break;
		}
	}
	tidm_conn_close(tgt);
	return NULL;
}

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

/* Rows as LOAD DATA text (load) or a REPLACE/INSERT statement, on `tgt`. */
int full_exec_rows(tidm_conn *tgt, chunk *c, const char *data, size_t len, uint64_t rows, bool load)
{
	return load ? load_rows(tgt, c, data, len, rows) : tidm_conn_exec(tgt, data, len);
}

/* Send one batch of rows: keyless tables on the dump worker's own transaction, every table
 * in mode physical to the worker's writer thread (physical.c), others through the queue to
 * the load workers. `what` (malloc'd or NULL) names a row alone in its statement. */
static int flush_rows(dump_ctx *d, chunk *c, tidm_buf *rows_buf, uint64_t nrows, bool load, char *what)
{
	run *r = d->r;

	if (r->physical) {
		free(what);
		return full_physical_send(d, c, rows_buf, nrows, load);
	} else if (c->t->nkey == 0) {
		int rc = full_exec_rows(d->tgt, c, rows_buf->data, rows_buf->len, nrows, load);
		if (rc < 0 && what)
			tidm_err_prefix("copying `%s`.`%s` (chunk %u), %s: ", c->t->db, c->t->name, c->no, what);
		free(what);
		if (rc < 0)
			return rc;
		atomic_fetch_add(&c->rows, nrows);
		atomic_fetch_add(&c->bytes, rows_buf->len);
		tidm_buf_clear(rows_buf);
	} else {
		stmt s = {c, NULL, rows_buf->len, nrows, load, what};
		atomic_fetch_add(&c->refs, 1);
		s.sql = tidm_buf_detach(rows_buf);
		if (!queue_push(r, s))
			return tidm_err_set(TIDM_ECANCELED, "the copy is stopping");
	}
	return 0;
}

/* "the row with `k1` = v1, `k2` = v2" (values cut at 64 bytes), or "the row" for a keyless
 * table: names a row that is alone in its statement because it is larger than a batch. */
static char *describe_row(tidm_conn *src, const table *t, const char *const *vals, const unsigned long *lens)
{
	tidm_buf b = TIDM_BUF_INIT;
	size_t k, i;

	tidm_buf_puts(&b, "the row");
	for (k = 0; k < t->nkey; k++) {
		for (i = 0; i < t->ncols && strcmp(t->cols[i], t->key[k]) != 0; i++)
			;
		if (i == t->ncols)
			continue;
		tidm_buf_puts(&b, k ? ", " : " with ");
		tidm_quote_ident(&b, t->key[k]);
		tidm_buf_puts(&b, " = ");
		if (!vals[i])
			tidm_buf_puts(&b, "NULL");
		else if (tidm_conn_stream_kind(src, (unsigned)i) == TIDM_KIND_NUMBER)
			tidm_buf_put(&b, vals[i], lens[i] > 64 ? 64 : lens[i]);
		else if (tidm_conn_stream_kind(src, (unsigned)i) == TIDM_KIND_STRING)
			tidm_quote_string(&b, vals[i], lens[i] > 64 ? 64 : lens[i]);
		else
			tidm_quote_hex(&b, vals[i], lens[i] > 64 ? 64 : lens[i]);
	}
	return tidm_buf_detach(&b);
}

/* SELECT of a chunk's rows: its columns, in key order within its bounds. */
void full_put_chunk_select(tidm_buf *q, const chunk *c)
{
	const table *t = c->t;
	size_t i;

	tidm_buf_puts(q, "SELECT ");
	for (i = 0; i < t->ncols; i++) {
		if (i)
			tidm_buf_putc(q, ',');
		tidm_quote_ident(q, t->cols[i]);
	}
	tidm_buf_puts(q, " FROM ");
	tidm_quote_qualified(q, t->db, t->name);
	if (c->lower || c->upper) {
		tidm_buf_puts(q, " WHERE ");
		if (c->lower)
			full_put_key_cmp(q, t, c->lower, true);
		if (c->lower && c->upper)
			tidm_buf_puts(q, " AND ");
		if (c->upper)
			full_put_key_cmp(q, t, c->upper, false);
	}
}

/* Copy one chunk. In mode physical the caller (physical.c) owns the table's load on d->tgt
 * (its writer thread sends the batches) and marks the chunks done after the table. */
int full_dump_chunk(dump_ctx *d, chunk *c)
{
	run *r = d->r;
	table *t = c->t;
	tidm_buf q = TIDM_BUF_INIT, stmt_buf = TIDM_BUF_INIT, row_buf = TIDM_BUF_INIT;
	const char *const *vals;
	const unsigned long *lens;
	uint64_t rows_in_stmt = 0, rows_total = 0;
	size_t limit = r->stmt_limit ? r->stmt_limit : r->cfg->statement_bytes ? r->cfg->statement_bytes : (1u << 20);
	bool keyless = t->nkey == 0 && !r->physical, load;
	int rc, got;

	atomic_store(&c->refs, 1);
	if (keyless) {
		if (!d->tgt && (rc = full_open_target(r, &d->tgt)) < 0)
			goto out;
		if ((rc = tidm_conn_begin(d->tgt)) < 0)
			goto out;
	}
	full_put_chunk_select(&q, c);
	if ((rc = tidm_conn_stream_begin(d->src, q.data)) < 0) {
		if (rc != TIDM_ECANCELED && full_stale_error()) {
			full_mark_stale(t);
			rc = TIDM_EAGAIN;
		}
		goto out;
	}
	load = r->load_data && loadable(d->src, (unsigned)t->ncols);
	while ((got = tidm_conn_stream_next(d->src, &vals, &lens)) == 1) {
		size_t before = stmt_buf.len, row_bytes; /* what the row adds (pacing) */
		if (load) {
			put_row_tsv(&stmt_buf, vals, lens, (unsigned)t->ncols);
			row_bytes = stmt_buf.len - before;
		} else {
			/* a row that would take the statement past the limit starts a new one:
			 * a row larger than the limit is alone in its statement, and named if
			 * the target refuses it (check_packet in db/conn.c) */
			tidm_buf_clear(&row_buf);
			put_row(&row_buf, d->src, vals, lens, (unsigned)t->ncols);
			if (stmt_buf.len && stmt_buf.len + 1 + row_buf.len > limit) {
				if ((rc = flush_rows(d, c, &stmt_buf, rows_in_stmt, load, NULL)) < 0)
					break;
				rows_total += rows_in_stmt;
				rows_in_stmt = 0;
			}
			if (!stmt_buf.len)
				tidm_buf_put(&stmt_buf, t->head.data, t->head.len);
			else
				tidm_buf_putc(&stmt_buf, ',');
			tidm_buf_put(&stmt_buf, row_buf.data, row_buf.len);
			row_bytes = row_buf.len + 1; /* (a flush above may have emptied stmt_buf) */
		}
		rows_in_stmt++;
		/* spec.export: the rows and bytes read, paid in small steps (throttle.c) */
		if (r->exp) {
			d->pace_rows++;
			d->pace_bytes += row_bytes;
			if ((d->pace_rows >= FULL_PACE_ROWS || d->pace_bytes >= FULL_PACE_BYTES) &&
			    (rc = full_export_take(r, &d->pace_rows, &d->pace_bytes)) < 0)
				break;
		}
		if (stmt_buf.len >= limit) {
			if (full_stopping(r)) {
				rc = TIDM_ECANCELED;
				break;
			}
			char *what = !load && rows_in_stmt == 1 ? describe_row(d->src, t, vals, lens) : NULL;
			if ((rc = flush_rows(d, c, &stmt_buf, rows_in_stmt, load, what)) < 0)
				break;
			rows_total += rows_in_stmt;
			rows_in_stmt = 0;
		}
	}
	if (got < 0) {
		rc = got;
		if (rc != TIDM_ECANCELED && full_stale_error()) {
			full_mark_stale(t);
			rc = TIDM_EAGAIN;
		}
	}
	tidm_conn_stream_end(d->src);
	if (rc < 0)
		goto out;
	if (stmt_buf.len) {
		if ((rc = flush_rows(d, c, &stmt_buf, rows_in_stmt, load, NULL)) < 0)
			goto out;
		rows_total += rows_in_stmt;
	}
	if (r->physical) {
		/* the chunks are marked done with their table (physical.c) */
	} else if (keyless) {
		/* rows and their "done" mark commit together */
		if ((rc = full_meta_chunk_done(r, d->tgt, c)) < 0 || (rc = tidm_conn_commit(d->tgt)) < 0)
			goto out;
		atomic_fetch_add(&r->prog->rows_done, rows_total);
		atomic_fetch_add(&r->prog->bytes_done, atomic_load(&c->bytes));
		atomic_fetch_add(&r->prog->chunks_done, 1);
		if (atomic_fetch_sub(&t->chunks_left, 1) == 1) {
			if ((rc = full_finish_table(r, d->tgt, t)) < 0)
				goto out;
			atomic_fetch_add(&r->prog->tables_done, 1);
		}
	} else {
		if (!d->tgt && (rc = full_open_target(r, &d->tgt)) < 0)
			goto out;
		rc = chunk_release(r, c, d->tgt);
	}
out:
	if (rc < 0 && keyless && d->tgt)
		tidm_conn_rollback(d->tgt);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&stmt_buf);
	tidm_buf_dispose(&row_buf);
	return rc;
}

static void *dump_worker(void *arg)
{
	dump_ctx *d = arg;
	run *r = d->r;

	if (r->physical)
		full_physical_worker(d);
	while (!r->physical && !full_stopping(r)) {
		size_t i = atomic_fetch_add(&r->next_chunk, 1);
		int rc;
		if (i >= r->ntodo)
			break;
		if (atomic_load(&r->todo[i]->t->stale))
			continue; /* copied again by the next round */
		rc = full_dump_chunk(d, r->todo[i]);
		if (rc == TIDM_EAGAIN)
			continue; /* its table became stale */
		if (rc == 0 && r->pause_ms)
			usleep(r->pause_ms * 1000u);
		if (rc < 0) {
			if (rc != TIDM_ECANCELED || !full_stopping(r)) {
				if (!strstr(tidm_err_msg(), "`"))
					tidm_err_prefix("copying `%s`.`%s` (chunk %u): ", r->todo[i]->t->db,
							r->todo[i]->t->name, r->todo[i]->no);
				full_fail(r);
			}
			break;
		}
	}
	if (r->exp && d->pace_rows && !full_stopping(r))
		full_export_take(r, &d->pace_rows, &d->pace_bytes); /* the last rows count too */
	pthread_mutex_lock(&r->mu);
	r->producers_left--;
	pthread_cond_broadcast(&r->not_empty);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/*
 * LOAD DATA LOCAL INFILE needs the target's consent (`local_infile`, OFF by default on
 * MySQL 8). auto: use it when allowed, else multi-row REPLACE; load-data: required.
 */
int full_choose_load_method(run *r, tidm_conn *tgt)
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

/* Copy the chunks in r->todo: dump workers on the snapshot connections, load workers. */
void full_copy_chunks(run *r, tidm_conn **dumpers, unsigned ndump, unsigned nload)
{
	dump_ctx *dctx = calloc(ndump, sizeof(*dctx));
	pthread_t *dthreads = calloc(ndump, sizeof(*dthreads)), *lthreads = calloc(nload, sizeof(*lthreads));
	unsigned i, dstarted = 0, lstarted = 0;

	if (r->physical)
		nload = 0; /* each dump worker loads its tables itself (physical.c) */
	r->cap = 2 * (size_t)nload + 1;
	r->ring = calloc(r->cap, sizeof(*r->ring));
	if (!r->ring || !dctx || !dthreads || !lthreads)
		abort();
	r->head = r->count = 0;
	r->producers_left = ndump;
	for (i = 0; i < nload; i++, lstarted++)
		if (pthread_create(&lthreads[i], NULL, load_worker, r) != 0) {
			tidm_err_set(TIDM_ERROR, "cannot start a load thread");
			full_fail(r);
			break;
		}
	for (i = 0; i < ndump; i++) {
		dctx[i].r = r;
		dctx[i].src = dumpers[i];
		if (pthread_create(&dthreads[i], NULL, dump_worker, &dctx[i]) != 0) {
			tidm_err_set(TIDM_ERROR, "cannot start a dump thread");
			full_fail(r);
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
		free(r->ring[r->head].what);
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
