/*
 * full.c - the existing-data phase (see full.h); mode physical's differences are in
 * physical.c.
 *
 * DESIGN
 *  tidm_full_run runs the steps in order:
 *   1. Discover the selected base tables and views of the source (snapshot.c).
 *   2. Job record: `tidm_meta` on the target holds one row per job (stage, state, snapshot
 *      position), one per planned table and one per chunk (state.c). A job whose row says
 *      it is unfinished is resumed: the original snapshot position is kept, planned chunks
 *      are read back (plan.c) and only those not marked done are copied again.
 *   3. Snapshot (snapshot.c), 4. schema on the target (create.c), 5. plan (plan.c),
 *   6. copy (copy.c): chunks are copied in the order that finishes tables early
 *      (cmp_chunk), with LOAD DATA where the target allows it (full_choose_load_method).
 *  Tables without a key (dump/keyless.h): before anything is written each is claimed or
 *  the run is refused (keyless_decide); after the schema, before the copy, the claims are
 *  recorded and a claimed table holding rows of an earlier copy is emptied
 *  (keyless_prepare), so a rerun or a resume never adds its rows twice. A claimed table
 *  that has a key on the source by now keeps its claim (its target copy, not altered, may
 *  have none) and is emptied before its first chunk.
 *  Target sessions of an earlier run that may still be open are ended before anything is
 *  written, and every target connection of this run is recorded (db/fence.h).
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
#include "db/fence.h"
#include "db/meta.h"
#include "db/quote.h"
#include "dump/keyless.h"
#include "util/err.h"
#include "util/log.h"
#include "dump/full_int.h"

/* Tables without a key, before anything is written (dump/keyless.h): claim or refuse. */
static int keyless_decide(run *r, tidm_conn *tgt)
{
	tidm_buf refused = TIDM_BUF_INIT;
	size_t k;
	int rc = 0;

	for (k = 0; k < r->ntables && rc == 0; k++) {
		table *t = &r->tables[k];
		const char *prev;
		bool done = false;
		if (t->is_view || atomic_load(&t->stale))
			continue;
		prev = tidm_keyless_marks_get(&r->keyless, t->db, t->name);
		if (t->nkey != 0) {
			/* copied while it had no key: its target copy may still have none (a target
			 * table is not altered), where REPLACE adds rows instead of overwriting them,
			 * so it stays claimed and is emptied before a copy from scratch */
			if (prev && !strcmp(prev, TIDM_KEYLESS_MARK_OWN))
				t->keyless = TIDM_KEYLESS_MARK_OWN;
			continue;
		}
		/* a job an earlier tidm started has no claims: a table it copied is its own */
		if (!prev && r->resumed &&
		    (rc = tidm_keyless_copied_before(tgt, r->cfg->name, t->db, t->name, &done)) == 0 && done)
			prev = TIDM_KEYLESS_MARK_OWN;
		if (rc == 0)
			rc = tidm_keyless_decide(tgt, t->db, t->name, prev, r->resumed,
						 r->cfg->keyless_nonempty == TIDM_KEYLESS_APPEND, &t->keyless, &refused);
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
		bool done = false;
		if (t->is_view || !t->keyless || atomic_load(&t->stale))
			continue;
		if ((rc = tidm_keyless_mark(tgt, r->cfg->name, t->db, t->name, t->keyless)) < 0 ||
		    strcmp(t->keyless, TIDM_KEYLESS_MARK_OWN) != 0 || atomic_load(&t->chunks_left) == 0)
			continue;
		/* a table with a key now (claimed before it had one): only before its first chunk */
		if (t->nkey == 0 ||
		    ((rc = tidm_keyless_copied_before(tgt, r->cfg->name, t->db, t->name, &done)) == 0 && !done))
			rc = tidm_keyless_empty(tgt, t->db, t->name);
	}
	return rc;
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

void tidm_full_result_dispose(tidm_full_result *res)
{
	free(res->snapshot.gtid_set);
	res->snapshot.gtid_set = NULL;
	tidm_buf_dispose(&res->mapping_report);
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
	r.physical = cfg->mode == TIDM_MODE_PHYSICAL;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.not_empty, NULL);
	pthread_cond_init(&r.not_full, NULL);
	tidm_endpoint_conn_opts(&r.src_opts, &cfg->source, TIDM_ROLE_SOURCE);
	tidm_endpoint_conn_opts(&r.tgt_opts, &cfg->target, TIDM_ROLE_TARGET);

	r.tgt_opts.local_infile = cfg->load_method != TIDM_LOAD_INSERT;
	if (getenv("TIDM_TEST_PAUSE_AFTER_CHUNK"))
		r.pause_ms = (unsigned)strtoul(getenv("TIDM_TEST_PAUSE_AFTER_CHUNK"), NULL, 10) % 60000;

	atomic_store(&prog->stage, TIDM_FULL_CONNECTING);
	if ((rc = tidm_conn_open(&src, &r.src_opts)) < 0 || (rc = full_open_target(&r, &tgt)) < 0)
		goto out;
	if ((rc = full_choose_load_method(&r, tgt)) < 0)
		goto out;
	tidm_info("source: %s, target: %s", tidm_conn_info(src)->version_str, tidm_conn_info(tgt)->version_str);
	if ((rc = tidm_meta_ensure(tgt)) < 0 || (rc = tidm_fence_previous(tgt, cfg->name)) < 0 ||
	    (rc = tidm_fence_record(tgt, cfg->name)) < 0 ||
	    (rc = full_meta_load_job(&r, tgt, &out->resumed, &out->snapshot)) < 0)
		goto out;
	r.fenced = true;

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
		if ((rc = full_discover(&r, src)) < 0)
			goto out;
		for (attempt = 0;; attempt++) {
			memset(&fresh, 0, sizeof(fresh));
			rc = full_take_snapshot(&r, src, dumpers, ndump, &fresh);
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
		if ((rc = full_drop_stale(&r, tgt)) < 0)
			goto out;
		for (k = 0; k < r.ntables; k++) {
			table *t = &r.tables[k];
			bool again = full_names_has(&r.stale_names, t->db, t->name);
			if (t->is_view) {
				out->views++;
				continue;
			}
			if (!again)
				out->tables++;
			if ((rc = full_describe_snapshot(&r, src, t)) < 0)
				goto out;
			atomic_fetch_add(&prog->rows_estimate, t->est_rows);
		}
		atomic_store(&prog->tables_total, out->tables);
		if (r.ntables == 0 && r.round == 0)
			tidm_warn("no table of the source matches the job's selection");
		/* before anything is written: keyless tables claimed or refused (each round: a
		 * re-copied table's target copy was dropped, a renamed one is new) */
		if ((rc = full_check_target_kinds(&r, tgt)) < 0 ||
		    (r.physical && r.round == 0 && !out->resumed && (rc = full_physical_check(&r, tgt)) < 0) ||
		    (rc = keyless_decide(&r, tgt)) < 0 ||
		    (r.round == 0 && !out->resumed && (rc = full_meta_reset_job(&r, tgt, &out->snapshot)) < 0))
			goto out;
		if (r.round == 0 && (rc = full_meta_save_job(&r, tgt, "running", "dump", &out->snapshot)) < 0)
			goto out;

		atomic_store(&prog->stage, TIDM_FULL_SCHEMA);
		if ((rc = full_create_schema(&r, src, tgt, &out->mapping_report)) < 0 ||
		    (r.round == 0 &&
		     (rc = tidm_dump_sequences(src, dumpers[0], tgt, &cfg->objects, &out->mapping_report)) < 0))
			goto out;

		atomic_store(&prog->stage, TIDM_FULL_PLANNING);
		if (out->resumed && (rc = full_load_plans(&r, tgt)) < 0)
			goto out;
		for (k = 0; k < r.ntables; k++) {
			table *t = &r.tables[k];
			if (t->is_view || t->planned || atomic_load(&t->stale))
				continue;
			/* full_plan_table reads the table outside the snapshot: DDL may have renamed it or
			 * dropped its key column */
			if ((rc = full_plan_table(&r, src, tgt, t)) < 0 && rc != TIDM_ECANCELED && full_stale_error()) {
				full_mark_stale(t);
				rc = 0;
			}
			if (rc < 0)
				goto out;
		}
		/* tables whose every chunk was done before */
		for (k = 0; k < r.ntables; k++)
			if (!r.tables[k].is_view && !atomic_load(&r.tables[k].stale) &&
			    atomic_load(&r.tables[k].chunks_left) == 0) {
				if ((rc = full_finish_table(&r, tgt, &r.tables[k])) < 0)
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

		if (r.physical && (rc = full_physical_start(&r, tgt)) < 0)
			goto out;
		if (r.round == 0)
			full_export_begin(&r, ndump); /* adaptive: the source's idle latency, before the copy */
		atomic_store(&prog->stage, TIDM_FULL_COPYING);
		full_copy_chunks(&r, dumpers, ndump, nload);
		if (r.err_code) {
			rc = tidm_err_set_db(r.err_code, r.err_db, "%s", r.err_msg);
			goto out;
		}
		if (cancel && *cancel) {
			rc = tidm_err_set(TIDM_ECANCELED, "interrupted; run the same command again to resume");
			goto out;
		}
		if (!full_next_round(&r))
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
	if ((rc = full_meta_save_job(&r, tgt, cfg->type == TIDM_JOB_FULL ? "finished" : "running",
				     cfg->type == TIDM_JOB_FULL ? "done" : "sync", &out->snapshot)) < 0)
		goto out;
	atomic_store(&prog->stage, TIDM_FULL_DONE);
out:
	full_physical_end(&r);
	full_export_end(&r);
	if (dumpers)
		for (i = 0; i < ndump; i++)
			tidm_conn_close(dumpers[i]);
	free(dumpers);
	for (k = 0; k < r.ntodo; k++)
		full_chunk_free(r.todo[k]);
	free(r.todo);
	for (k = 0; k < r.ntables; k++)
		full_table_dispose(&r.tables[k]);
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
