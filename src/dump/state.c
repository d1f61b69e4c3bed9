/*
 * state.c - the full phase's job record in tidm_meta, and its error state.
 *
 * DESIGN
 *  `tidm_meta` on the target holds one row per job (stage, state, snapshot position), one
 *  per planned table and one per chunk (bounds, state). Chunks of tables with a key are
 *  copied with REPLACE, so a half-copied chunk copied again leaves no duplicate; a keyless
 *  table is one chunk copied in a single target transaction together with its "done" mark
 *  (full_meta_chunk_done), so it is all-or-nothing. A fresh start (--restart) forgets the old
 *  plans and checkpoints (full_meta_reset_job).
 *  Errors: the first error of any thread is kept in the run (full_fail) and sets `stop`, which
 *  every worker polls (full_stopping). Also here: freeing tables and chunks.
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
#include "dump/full_int.h"

bool full_stopping(run *r)
{
	return atomic_load(&r->stop) || (r->cancel && *r->cancel);
}

/* Record the first error of any thread (from this thread's last error) and stop all. */
void full_fail(run *r)
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

char *full_xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		abort();
	return p;
}

void full_table_dispose(table *t)
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

void full_chunk_free(chunk *c)
{
	if (!c)
		return;
	free(c->lower);
	free(c->upper);
	free(c);
}

/* Append "'job'" etc.: a string value, escaped. */
void full_put_str(tidm_buf *b, const char *s)
{
	tidm_quote_string(b, s, strlen(s));
}

/* Find the unfinished job record (resume; not with --restart), and the keyless tables'
 * marks of earlier runs. A fresh start forgets the old plans later (full_meta_reset_job). */
int full_meta_load_job(run *r, tidm_conn *tgt, bool *resumed, tidm_snapshot_pos *snap)
{
	tidm_meta_job j;
	int rc;

	*resumed = false;
	if ((rc = tidm_meta_job_get(tgt, r->cfg->name, &j)) < 0)
		return rc;
	if ((rc = tidm_keyless_marks_read(tgt, r->cfg->name, &r->keyless)) < 0) {
		tidm_meta_job_dispose(&j);
		return rc;
	}
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

/*
 * A fresh start (a first run, or --restart): forget the old chunk plans, replication
 * checkpoints and DDL in progress, and record the job as running from `snap`, in one
 * target transaction: a crash leaves either the old job or the new one, never the new
 * snapshot's job with the old plans or the old one without its checkpoints. The keyless
 * tables' claims stay (their rows keep only the mark): a claimed table still holds tidm's
 * rows until its copy empties it, however many runs end before that.
 */
int full_meta_reset_job(run *r, tidm_conn *tgt, const tidm_snapshot_pos *snap)
{
	static const char *const stmts[] = {
		"DELETE FROM `" META_DB "`.`chunks` WHERE `job` = ",
		"DELETE FROM `" META_DB "`.`tables` WHERE `keyless` IS NULL AND `job` = ",
		"UPDATE `" META_DB "`.`tables` SET `chunks` = 0, `create_sql` = NULL, `deferred_keys` = NULL WHERE `job` = ",
		"DELETE FROM `" META_DB "`.`sync_workers` WHERE `job` = ",
		"DELETE FROM `" META_DB "`.`ddl_guard` WHERE `job` = ",
	};
	tidm_buf q = TIDM_BUF_INIT;
	size_t i;
	int rc;

	if ((rc = tidm_conn_begin(tgt)) < 0)
		return rc;
	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]) && rc == 0; i++) {
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, stmts[i]);
		full_put_str(&q, r->cfg->name);
		rc = tidm_conn_exec(tgt, q.data, q.len);
	}
	if (rc == 0)
		rc = full_meta_save_job(r, tgt, "running", "dump", snap);
	if (rc == 0)
		rc = tidm_conn_commit(tgt);
	else
		tidm_conn_rollback(tgt);
	tidm_buf_dispose(&q);
	return rc;
}

int full_meta_save_job(run *r, tidm_conn *tgt, const char *state, const char *stage,
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
	full_put_str(q, r->cfg->name);
	tidm_buf_puts(q, " AND `db` = ");
	full_put_str(q, c->t->db);
	tidm_buf_puts(q, " AND `tbl` = ");
	full_put_str(q, c->t->name);
	tidm_buf_printf(q, " AND `no` = %u", c->no);
}

int full_meta_chunk_done(run *r, tidm_conn *tgt, chunk *c)
{
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	tidm_buf_printf(&q, "UPDATE `" META_DB "`.`chunks` SET `state` = 'done', `rows_copied` = %llu, "
			    "`bytes_copied` = %llu, `snap_pos` = %llu, `snap_file` = ",
			(unsigned long long)atomic_load(&c->rows), (unsigned long long)atomic_load(&c->bytes),
			(unsigned long long)r->copy_snap.pos);
	full_put_str(&q, r->copy_snap.file);
	put_chunk_where(&q, r, c);
	rc = tidm_conn_exec(tgt, q.data, q.len);
	tidm_buf_dispose(&q);
	return rc;
}
