/*
 * worker.c - the worker threads: queues, marks and commits.
 *
 * DESIGN
 *  Each worker owns one target connection and a queue (guarded by a->mu) that the
 *  coordinator fills; items of a transaction are collected as pending and queued in one go
 *  at its end, so a worker wakes about once per transaction (push_pending). Items are
 *  applied inside an open target transaction as a script (group.c). At a mark, when
 *  `batch` items have accumulated or the queue is empty, the worker writes its checkpoint
 *  row and commits: rows and checkpoint are one transaction (worker_checkpoint,
 *  sync_commit_tail).
 *  The worker loop: rows of one source transaction are never split over two commits, and a
 *  worker never holds a finished transaction uncommitted while it needs the coordinator
 *  for more items; the coordinator may wait for a worker to commit (committed_seq), and the
 *  rule guarantees it will without help. An error is recorded once for the whole applier
 *  (sync_record_failure) and stops every thread.
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
#include "sync/apply_int.h"

#define QUEUE_MAX 4096 /* items queued per worker before the coordinator waits */
#define QUEUE_BYTES_MAX (16u << 20) /* ... or bytes of statement text (wide rows) */
#define PEND_BYTES_MAX (1u << 20)   /* collected bytes that are queued at once */

void sync_item_free(item *it)
{
	if (!it)
		return;
	free(it->text);
	free(it->gtext);
	free(it->what);
	free(it);
}

/* Metrics of one commit at a boundary: its duration in the histogram, the furthest
 * committed position, the checkpoint's time. */
static void record_commit(tidm_sync_progress *p, const item *m, double secs)
{
	unsigned i = 0;
	uint64_t packed = tidm_sync_pos_pack(m->file, m->pos), cur;

	while (i < TIDM_SYNC_BATCH_BUCKETS && secs > tidm_sync_batch_bounds[i])
		i++;
	atomic_fetch_add(&p->batch_hist[i], 1);
	atomic_fetch_add(&p->batch_sum_us, (uint64_t)(secs * 1e6));
	cur = atomic_load(&p->applied_pos);
	while (packed > cur && !atomic_compare_exchange_weak(&p->applied_pos, &cur, packed))
		;
	atomic_store(&p->checkpoint_at, (int64_t)time(NULL));
}

/* Queue the worker's collected items (coordinator). */
static void push_pending(struct tidm_applier *a, worker *w)
{
	if (!w->pend_head)
		return;
	pthread_mutex_lock(&a->mu);
	/* bounded queue: wait while the worker is far behind */
	while ((w->queued >= QUEUE_MAX || (w->queued && w->queued_bytes >= QUEUE_BYTES_MAX)) &&
	       !atomic_load(&a->failed) && !sync_canceled(a))
		sync_coord_wait(a);
	if (w->tail)
		w->tail->next = w->pend_head;
	else
		w->head = w->pend_head;
	w->tail = w->pend_tail;
	w->queued += w->pend_n;
	if (a->o.progress)
		atomic_fetch_add(&a->o.progress->queue_depth, w->pend_n);
	w->queued_bytes += w->pend_bytes;
	w->marks_queued += w->pend_marks;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&a->mu);
	w->pend_head = w->pend_tail = NULL;
	w->pend_n = w->pend_marks = w->pend_bytes = 0;
}

/* Collect one item for a worker; big transactions are queued in slices of 256 items or
 * PEND_BYTES_MAX. */
void sync_push(struct tidm_applier *a, worker *w, item *it)
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

item *sync_new_mark(struct tidm_applier *a, bool force)
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

#define SCRIPT_ITEMS_MAX 1024 /* row items per round trip */

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
	sync_script_add_raw(sc, q.data, q.len);
	tidm_buf_dispose(&q);
}

void sync_commit_tail(worker *w, script *sc, const item *mark)
{
	worker_checkpoint(w, mark, sc);
	sync_script_add_raw(sc, "COMMIT", 6);
}

/*
 * The worker loop. Rows of one source transaction are never split over two commits, and a
 * worker never holds a finished transaction uncommitted while it needs the coordinator for
 * more items: at a mark it commits unless the queue already holds a later mark (then every
 * row of the next transaction is queued too) and fewer than `batch` rows are pending. The
 * coordinator may wait for this worker to commit a transaction; the rule guarantees it
 * will without help.
 */
void *sync_worker_main(void *arg)
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

		if (sync_canceled(a))
			break; /* the uncommitted batch is rolled back below; checkpoints stay exact */
		pthread_mutex_lock(&a->mu);
		if (last_mark && !w->marks_queued && since_commit < batch) {
			/* At a boundary with no complete transaction queued: give the next one up to
			 * 5 ms to arrive whole, so a steady stream of small transactions shares
			 * commits. Rows of an incomplete one are not taken (see above), so a
			 * coordinator waiting for this commit waits 5 ms at most. */
			struct timespec ts = sync_deadline_ms(5);
			while (!w->marks_queued && !atomic_load(&a->failed) && !sync_canceled(a))
				if (pthread_cond_timedwait(&w->cond, &a->mu, &ts) != 0)
					break;
		}
		while (!w->head && !atomic_load(&a->failed) && !sync_canceled(a)) {
			if (last_mark)
				break; /* idle at a boundary: commit first */
			sync_timed_wait(a, &w->cond);
		}
		if (last_mark && !w->marks_queued) {
			/* the next transaction is not complete: commit at the boundary first */
			pthread_mutex_unlock(&a->mu);
			it = NULL;
			goto at_boundary;
		}
		if (atomic_load(&a->failed) || sync_canceled(a)) {
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
			if (a->o.progress)
				atomic_fetch_sub(&a->o.progress->queue_depth, 1);
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
			sync_item_free(last_mark);
			last_mark = it;
			continue;
		}
at_boundary:
		if (!it || it->kind == ITEM_MARK) {
			/* commit at this boundary: rows, checkpoint and COMMIT */
			item *m;
			if (it) { /* own the mark through last_mark, so a failure below frees it */
				sync_item_free(last_mark);
				last_mark = it;
				it = NULL;
			}
			m = last_mark;
			struct timespec t0, t1;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			if ((rc = sync_script_exec(w, sc, m)) < 0)
				goto fail;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if (a->o.progress)
				record_commit(a->o.progress, m, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
			if (a->o.progress) {
				atomic_fetch_add(&a->o.progress->rows, w->rows_pending);
				if (m->ts)
					atomic_store(&a->o.progress->last_ts, m->ts);
			}
			w->rows_pending = 0;
			since_commit = 0;
			pthread_mutex_lock(&a->mu);
			/* a piece leaves its transaction open, but commits every earlier transaction the
			 * worker held (their marks were passed over for the batch): publish those, or a
			 * change of the open transaction that waits for one of them waits forever */
			if (!m->piece)
				atomic_store(&w->committed_seq, m->seq);
			else if (atomic_load(&w->committed_seq) < m->seq - 1)
				atomic_store(&w->committed_seq, m->seq - 1);
			pthread_cond_broadcast(&a->cond);
			pthread_mutex_unlock(&a->mu);
			sync_item_free(last_mark);
			last_mark = NULL;
			continue;
		}
		if (it->kind == ITEM_STOP) {
			sync_item_free(it);
			break;
		}
		if (it->kind == ITEM_ROLLBACK) {
			/* the coordinator dropped a half-received transaction: so do we */
			sync_item_free(it);
			sync_script_clear(sc);
			if (w->in_txn && (rc = tidm_conn_rollback(w->conn)) < 0)
				goto fail;
			w->in_txn = false;
			w->rows_pending = 0;
			since_commit = 0;
			continue;
		}
		/* a row change: the last mark is no boundary any more (this row comes after it, and
		 * a commit there would cut the row's transaction) */
		sync_item_free(last_mark);
		last_mark = NULL;
		if (sc->nitems && (sc->bytes + it->len + it->glen + 1 > limit || sc->nitems >= SCRIPT_ITEMS_MAX) &&
		    (rc = sync_script_exec(w, sc, NULL)) < 0) {
			sync_item_free(it);
			goto fail;
		}
		sync_script_push(sc, it);
		w->rows_pending++;
		since_commit++;
		continue;
fail:
		sync_record_failure(a);
		break;
	}
	if (w->in_txn)
		tidm_conn_rollback(w->conn);
	sync_item_free(last_mark);
	sync_script_dispose(sc);
	free(sc);
	(void)rc;
	return NULL;
}
