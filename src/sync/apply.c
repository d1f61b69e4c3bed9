/*
 * apply.c - the incremental applier's coordinator (see apply.h).
 *
 * DESIGN
 *  Coordinator (the caller's thread): tracks transactions (GTID / BEGIN ... XID / COMMIT),
 *  turns each row of a rows event into one item - an INSERT tuple, or a whole UPDATE or
 *  DELETE statement - and routes it to a worker queue (route.c):
 *    worker = hash(db, table, key values) % workers      (keyless tables: hash(db, table))
 *  At a transaction end, each worker that received items gets a mark (sequence number,
 *  binlog position after the transaction).
 *
 *  Workers (worker.c, group.c) own one target connection each; at a mark, when `batch`
 *  items have accumulated or the queue is empty, a worker writes its checkpoint row and
 *  commits: rows and checkpoint are one transaction.
 *
 *  Restart: the stream starts at the lowest worker checkpoint (load_checkpoints); an item
 *  is skipped when the transaction it belongs to started before the checkpoint of the
 *  worker it routes to.
 *
 *  DDL (ddl_apply.c): flush (every worker commits at the current boundary), run the
 *  statement on the coordinator's connection, record the position after it for every
 *  worker (sync_set_all_checkpoints).
 *
 *  Also: rows events become items in rowevent.c (SQL text from render.c, table facts and
 *  foreign-key groups from tables.c), transaction boundaries, savepoints, XA and the
 *  start GTID set are in txn.c, online schema changes in osc.c.
 *
 *  This file: tidm_applier_new/free, feed (the event dispatch), flush and checkpoint, the
 *  failure state shared between threads (the first error wins; every wait polls it and the
 *  user's cancel flag), and positions (tidm_sync_pos_cmp).
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
#include "db/fence.h"
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
#include "sync/apply_int.h"

const double tidm_sync_batch_bounds[TIDM_SYNC_BATCH_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
								 0.1,   0.25,   0.5,   1,    2.5,   10};

uint64_t tidm_sync_pos_pack(const char *file, uint64_t pos)
{
	const char *dot = file ? strrchr(file, '.') : NULL;
	uint64_t n = dot ? strtoull(dot + 1, NULL, 10) : 0;
	const uint64_t mask = ((uint64_t)1 << 40) - 1;
	return (n << 40) | (pos > mask ? mask : pos);
}

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

int sync_record_failure(struct tidm_applier *a)
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

int sync_take_failure(struct tidm_applier *a)
{
	return tidm_err_set_db(a->err_code ? a->err_code : TIDM_ERROR, a->err_db, "%s", a->err_msg);
}

/* The coordinator's waits poll the user's cancel flag (a signal cannot wake a condvar). */
bool sync_canceled(const struct tidm_applier *a)
{
	return a->o.cancel && *a->o.cancel;
}

/* The CLOCK_REALTIME deadline `ms` milliseconds from now (ms < 1000), for pthread_cond_timedwait. */
struct timespec sync_deadline_ms(long ms)
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

void sync_timed_wait(struct tidm_applier *a, pthread_cond_t *cond)
{
	struct timespec ts = sync_deadline_ms(200);

	pthread_cond_timedwait(cond, &a->mu, &ts);
}

void sync_coord_wait(struct tidm_applier *a)
{
	sync_timed_wait(a, &a->cond);
}

bool sync_safe_mode(struct tidm_applier *a)
{
	bool on = a->safe_mode_forced || time(NULL) < a->safe_until;
	if (a->o.progress)
		atomic_store(&a->o.progress->safe_mode, on);
	return on;
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
		return sync_take_failure(a);
	if (a->in_txn) {
		/* cannot cut a transaction: flush what is complete */
	}
	if (!a->in_txn) {
		for (i = 0; i < a->nworkers; i++)
			sync_push(a, &a->w[i], sync_new_mark(a, true));
		for (i = 0; i < a->nworkers; i++)
			if ((rc = sync_wait_committed(a, i, a->seq)) < 0)
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
		return sync_take_failure(a);
	if (a->in_txn)
		return 0;
	/* every worker commits at this boundary when it gets there; nobody waits for it */
	for (i = 0; i < a->nworkers; i++)
		sync_push(a, &a->w[i], sync_new_mark(a, true));
	return 0;
}

int sync_set_all_checkpoints(struct tidm_applier *a)
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

int tidm_applier_feed(tidm_applier *a, tidm_binlog_decoder *dec, const tidm_binlog_event *ev, const char *file,
		      uint64_t next_pos)
{
	int rc = 0;

	if (atomic_load(&a->failed))
		return sync_take_failure(a);
	if (a->o.progress)
		atomic_fetch_add(&a->o.progress->events, 1);
	if (file && file[0] && strcmp(file, a->cur_file) != 0)
		snprintf(a->cur_file, sizeof(a->cur_file), "%s", file);
	if (a->have_start_set && !a->in_txn && !a->skip_txn && sync_start_set_has(a, ev)) {
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
			int k = sync_query_kind(ev->u.query.sql, ev->u.query.sql_len);
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
		sync_txn_begin(a, ev);
		/* MariaDB has no BEGIN event: a GTID without flags2 & 1 (FL_STANDALONE) opens a
		 * transaction that an XID, COMMIT, ROLLBACK or XA PREPARE ends; a standalone one
		 * (DDL, XA COMMIT) is ended by its statement */
		if (ev->hdr.type == TIDM_BINLOG_MARIA_GTID && !(ev->u.maria_gtid.flags2 & 1))
			a->explicit_txn = true;
		break;
	case TIDM_BINLOG_QUERY:
	case TIDM_BINLOG_MARIA_QUERY_COMPRESSED:
		if (!a->in_txn)
			sync_txn_begin(a, ev);
		a->cur_pos = next_pos;
		rc = sync_apply_query(a, ev);
		if (rc == 0 && a->in_txn && !a->explicit_txn)
			rc = sync_txn_end(a); /* a statement outside BEGIN ... COMMIT ends its own transaction */
		return rc;

	case TIDM_BINLOG_XA_PREPARE:
		/* an XA transaction without rows of the job's tables is nothing to undo later */
		if (!ev->u.xa_prepare.one_phase && a->txn_selected)
			sync_xa_remember(a, &ev->u.xa_prepare);
		/* fall through */
	case TIDM_BINLOG_XID:
		a->cur_pos = next_pos;
		return sync_txn_end(a);
	default:
		if (tidm_binlog_is_rows_event(ev->hdr.type)) {
			if (!a->in_txn)
				sync_txn_begin(a, ev);
			rc = sync_apply_rows_event(a, dec, ev);
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
			sync_item_free(it);
		}
		w->pend_tail = NULL;
		w->pend_n = w->pend_marks = w->pend_bytes = 0;
		rb = calloc(1, sizeof(*rb));
		if (!rb)
			abort();
		rb->kind = ITEM_ROLLBACK;
		sync_push(a, w, rb);
	}
	a->in_txn = false;
	a->explicit_txn = false;
	a->participants = 0;
}

/* Read the worker checkpoints; *have = false when the job has none. */
static int load_checkpoints(tidm_applier *a, tidm_sync_pos *resume, bool *have)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	unsigned stored_workers = 0, rows = 0, i;
	bool same = true; /* every stored checkpoint at one position (a clean stop) */
	bool relayout = false;
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
		if (rows && (row || tidm_sync_pos_cmp(file, pos, resume->file, resume->pos) != 0))
			same = false;
		rows++;
		if (!*have || tidm_sync_pos_cmp(file, pos, resume->file, resume->pos) < 0) {
			snprintf(resume->file, sizeof(resume->file), "%s", file);
			resume->pos = pos;
			resume->gtid[0] = '\0';
		}
		*have = true;
		if (row)
			same = false;
		if (wid < MAX_WORKERS) {
			snprintf(a->old_cp[wid].file, sizeof(a->old_cp[wid].file), "%s", file);
			a->old_cp[wid].pos = pos;
			a->old_cp[wid].row = row;
		}
	}
	if (*have && stored_workers != a->nworkers && rows == stored_workers && stored_workers >= 1 &&
	    stored_workers <= MAX_WORKERS) {
		if (same) {
			/* a clean stop: every worker committed at one position, nothing to skip; the
			 * rows are made anew for the new count below */
			tidm_info("apply-workers changed from %u to %u", stored_workers, a->nworkers);
			relayout = true;
			rows = stored_workers = a->nworkers;
		} else {
			/* each checkpoint says what its worker committed under the old routing: only
			 * that routing can skip exactly, so this run keeps it (a new routing replayed
			 * keyless rows twice when the replay was interrupted again) */
			tidm_warn("apply-workers is %u in the job file, but the previous run (%u workers) did not stop "
				  "cleanly: this run applies with %u workers; the new count takes effect at the next "
				  "start after a clean stop (Ctrl-C, or --until-caught-up)",
				  a->nworkers, stored_workers, stored_workers);
			a->nworkers = stored_workers;
		}
	}
	if (!same || rows == a->nworkers)
		for (i = 0; i < a->nworkers; i++)
			if (a->old_cp[i].file[0]) {
				memcpy(a->w[i].skip_file, a->old_cp[i].file, sizeof(a->w[i].skip_file)); /* same size */
				a->w[i].skip_pos = a->old_cp[i].pos;
				a->w[i].skip_row = a->old_cp[i].row;
			}
	if (*have && (stored_workers != a->nworkers || rows != a->nworkers)) {
		/* stored checkpoints that are not one per worker (a store of an earlier tidm): nothing
		 * can be proven applied; replay idempotently instead */
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
	/* (re)create one row per worker; a new worker count replaces them all in one transaction */
	if (relayout) {
		if ((rc = tidm_conn_begin(a->conn)) < 0)
			goto out;
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "DELETE FROM `" META_DB "`.`sync_workers` WHERE `job` = ");
		tidm_quote_string(&q, a->cfg->name, strlen(a->cfg->name));
		if ((rc = tidm_conn_exec(a->conn, q.data, q.len)) < 0)
			goto out;
	}
	{
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
	if (relayout && rc == 0)
		rc = tidm_conn_commit(a->conn);
out:
	if (relayout && rc < 0)
		tidm_conn_rollback(a->conn);
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

int tidm_applier_set_start(tidm_applier *a, const tidm_sync_pos *start)
{
	snprintf(a->cur_file, sizeof(a->cur_file), "%s", start->file);
	a->cur_pos = start->pos;
	return sync_set_all_checkpoints(a);
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
	for (i = 0; i < MAX_WORKERS; i++) /* the run may keep the stored worker count (load_checkpoints) */
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

	/* the target sessions of an earlier run (or of this one before a restart) end before the
	 * checkpoints are read: a transaction of theirs committing later would be applied twice
	 * (db/fence.h) */
	if ((rc = tidm_conn_open(&a->conn, &a->copts)) < 0 || (rc = tidm_meta_ensure(a->conn)) < 0 ||
	    (rc = tidm_fence_previous(a->conn, cfg->name)) < 0 || (rc = tidm_fence_record(a->conn, cfg->name)) < 0 ||
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
		if ((rc = tidm_conn_open(&w->conn, &a->copts)) < 0 || (rc = tidm_fence_record(w->conn, cfg->name)) < 0)
			goto fail;
		/* Rows of different workers never overlap (routing by key), but REPEATABLE READ's gap
		 * locks would still make one worker wait for another's open transaction - which
		 * may itself wait for the coordinator: a deadlock. READ COMMITTED takes no gap locks. */
		if (tidm_conn_info(w->conn)->flavor != TIDM_FLAVOR_TIDB &&
		    (rc = tidm_conn_exec(w->conn, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", 54)) < 0)
			goto fail;
		if (pthread_create(&w->thread, NULL, sync_worker_main, w) != 0) {
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
		sync_push(a, &a->w[i], stop);
	}
	for (i = 0; i < a->nworkers; i++) {
		worker *w = &a->w[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		while (w->head) {
			item *it = w->head;
			w->head = it->next;
			sync_item_free(it);
		}
		while (w->pend_head) {
			item *it = w->pend_head;
			w->pend_head = it->next;
			sync_item_free(it);
		}
		tidm_conn_close(w->conn);
	}
	if (a->o.progress)
		atomic_store(&a->o.progress->queue_depth, 0);
	sync_tbl_info_free_all(a);
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
	sync_fks_free(a);
	tidm_gtid_set_dispose(&a->start_set);
	tidm_buf_dispose(&a->scratch);
	tidm_buf_dispose(&a->keybuf);
	for (i = 0; i < MAX_WORKERS; i++)
		pthread_cond_destroy(&a->w[i].cond);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cond);
	free(a);
}
