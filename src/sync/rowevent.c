/*
 * rowevent.c - rows events to row items.
 *
 * DESIGN
 *  One item per row of a WRITE/UPDATE/DELETE rows event (sync_apply_rows_event, apply_row):
 *  an INSERT tuple for a multi-row INSERT, or a whole UPDATE or DELETE statement addressed
 *  by the target table's key (render.c writes the SQL). The item is routed (route.c) and
 *  marked with how it may be grouped with others of its table (set_group; see group.c).
 *  Safe mode (a changed worker count, the time after a restart, `safe-mode: true`): INSERT
 *  becomes REPLACE and UPDATE becomes DELETE + REPLACE, so a replayed row is applied
 *  idempotently; an UPDATE or DELETE that finds no row is an error only outside safe mode.
 *  A DELETE by row key still held by the coordinator and an INSERT of the same key in the
 *  same transaction merge into one REPLACE (then_replace).
 *  System-versioned tables (MariaDB): only current rows are applied (row_current,
 *  versioned_kind); history rows are the target's business.
 *  Restart: an item whose transaction started before its worker's checkpoint is skipped
 *  (sync_already_applied).
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

item *sync_new_row_item(void)
{
	item *it = calloc(1, sizeof(*it));
	if (!it)
		abort();
	it->kind = ITEM_ROW;
	return it;
}

void sync_send_item(struct tidm_applier *a, unsigned wid, item *it)
{
	a->participants |= 1ull << wid;
	a->w[wid].piece_bytes += it->len + it->glen;
	sync_push(a, &a->w[wid], it);
}

/* The current row is covered by this worker's checkpoint: already applied. */
bool sync_already_applied(struct tidm_applier *a, unsigned wid)
{
	worker *w = &a->w[wid];
	if (!a->skipping || !w->skip_file[0])
		return false;
	return tidm_txn_pos_applied(a->txn_file, a->txn_start, a->txn_row, w->skip_file, w->skip_pos, w->skip_row);
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
	if ((rc = sync_put_key_text(a, &b, t, img, ncols, s->key, s->nkey, false)) < 0) {
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
	(*it)->what = sync_describe_row(a, t, row->before, row->ncols);
	sync_send_item(a, wid, *it);
	*it = sync_new_row_item();
	(*it)->op = OP_INSERT;
	(*it)->head = t->replace_head;
	return sync_put_tuple(a, b, t, row->after, row->ncols);
}

static int apply_row(struct tidm_applier *a, tbl_info *t, unsigned kind, const tidm_binlog_row *row, bool force_safe,
		     bool no_fk_checks)
{
	const tidm_schema_table *s = t->schema;
	uint64_t *hashes, rowkey = 0, oldkey = 0;
	size_t nh = 0, nkeys = 1 + s->nuniques; /* per image: the row key and each other unique key */
	unsigned wid;
	bool safe = force_safe || a->txn_safe; /* fixed for the transaction: its routing must not change midway */
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
		if ((rc = sync_row_key_hash(a, t, key_img, row->ncols, false, &rowkey)) < 0)
			return rc;
		route = rowkey;
		if (t->key_folds && !t->route_table && (rc = sync_row_key_hash(a, t, key_img, row->ncols, true, &route)) < 0)
			return rc;
		/* safe mode, a table with another unique key: one worker (REPLACEs of several workers
		 * deadlock on that index's next-key locks), and no skipping below: the rows replay
		 * in binlog order, idempotently */
		serial = safe && s->nuniques > 0 && !t->fk_group;
		wid = (unsigned)((t->fk_group ? t->fk_group : t->route_table || serial ? sync_key_hash(t, "", 0) : route) %
				 a->nworkers);
		/* the old row key, exact: the conflict hash of the before image below, unless that one
		 * is folded */
		if (kind == TIDM_ROWS_UPDATE && row->before && row->after && t->key_folds &&
		    (rc = sync_row_key_hash(a, t, row->before, row->ncols, false, &oldkey)) < 0)
			return rc;
	} else {
		wid = (unsigned)((t->fk_group ? t->fk_group : sync_key_hash(t, "", 0)) % a->nworkers);
	}
	if (a->nhashbuf < 2 * nkeys) {
		a->nhashbuf = 2 * nkeys;
		a->hashbuf = realloc(a->hashbuf, a->nhashbuf * sizeof(*a->hashbuf));
		if (!a->hashbuf)
			abort();
	}
	hashes = a->hashbuf;
	if ((rc = sync_image_keys(a, t, row->before, row->ncols, hashes, &nh, nkeys)) < 0 ||
	    (rc = sync_image_keys(a, t, row->after, row->ncols, hashes, &nh, 2 * nkeys)) < 0)
		return rc;
	if (s->nkey && kind == TIDM_ROWS_UPDATE && row->before && row->after && !t->key_folds)
		oldkey = hashes[0];
	sync_route_in_txn(a, hashes, nh, &wid);
	if (a->old_n && (!s->nkey || t->route_table || t->fk_group)) {
		/* routed as a whole table, before and now: exact skipping with the old checkpoints */
		uint64_t h = t->fk_group ? t->fk_group : sync_key_hash(t, "", 0);
		const struct old_cp *cp = &a->old_cp[h % a->old_n];
		if (a->skipping && tidm_txn_pos_applied(a->txn_file, a->txn_start, a->txn_row, cp->file, cp->pos, cp->row)) {
			if (a->o.progress)
				atomic_fetch_add(&a->o.progress->skipped, 1);
			return 0;
		}
	} else if (!serial && sync_already_applied(a, wid)) {
		/* committed by this worker before the restart: nothing to send. Its keys are
		 * recorded all the same, so the rest of the transaction is routed as it was (a
		 * split transaction resumes in its middle); the worker takes part in the
		 * transaction, so its end commits it there and releases them. */
		sync_record_keys(a, hashes, nh, wid);
		a->participants |= 1ull << wid;
		if (a->o.progress)
			atomic_fetch_add(&a->o.progress->skipped, 1);
		return 0;
	}
	if ((rc = sync_claim_keys(a, hashes, nh, wid)) < 0)
		return rc;

	switch (kind) {
	case TIDM_ROWS_INSERT: {
		item *tail = a->w[wid].pend_tail;
		if (s->nkey && tail && tail->kind == ITEM_ROW && tail->del_table == t && tail->del_key == rowkey) {
			/* DELETE then INSERT of one row in this transaction: one REPLACE does both */
			if ((rc = sync_put_tuple(a, &b, t, row->after, row->ncols)) < 0) {
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
		it = sync_new_row_item();
		it->op = OP_INSERT;
		it->head = replace ? t->replace_head : t->insert_head;
		if (!s->nkey && force_safe) {
			/* keyless, inside a copy window (the copied rows may hold this one already):
			 * remove one identical row first so it is not there twice. Not in plain safe
			 * mode: checkpoints are exact, nothing is replayed, and a transaction that
			 * inserts two identical rows must leave two. */
			item *del = sync_new_row_item();
			del->op = OP_STMT;
			tidm_buf_printf(&b, "DELETE FROM %s WHERE ", t->qname);
			if ((rc = sync_put_where(a, &b, t, row->after, row->ncols)) < 0) {
				sync_item_free(del);
				goto fail_item;
			}
			tidm_buf_puts(&b, " LIMIT 1");
			del->text = tidm_buf_detach(&b);
			del->len = strlen(del->text);
			del->what = sync_describe_row(a, t, row->after, row->ncols);
			sync_send_item(a, wid, del);
			it->head = t->insert_head;
		}
		if ((rc = sync_put_tuple(a, &b, t, row->after, row->ncols)) < 0)
			goto fail_item;
		if (t->delete_head)
			set_group(it, GC_INSERT, t, rowkey);
		break;
	case TIDM_ROWS_DELETE:
		it = sync_new_row_item();
		it->op = OP_STMT;
		it->check_affected = !safe;
		it->fkc = t->fk_del && !no_fk_checks; /* the source did not cascade it either */
		if (s->nkey) {
			it->del_table = t;
			it->del_key = rowkey;
		}
		tidm_buf_printf(&b, "DELETE FROM %s WHERE ", t->qname);
		if ((rc = sync_put_where(a, &b, t, row->before, row->ncols)) < 0)
			goto fail_item;
		tidm_buf_puts(&b, " LIMIT 1");
		if (t->delete_head && (rc = set_group_key(a, it, t, row->before, row->ncols, rowkey)) < 0)
			goto fail_item;
		break;
	case TIDM_ROWS_UPDATE:
		it = sync_new_row_item();
		it->op = OP_STMT;
		if (safe && partial) {
			/* the image lacks columns (binlog_row_image MINIMAL or NOBLOB, a partial JSON
			 * update): a REPLACE would put defaults in them; the UPDATE, unchecked */
			it->fkc = t->fk_upd && !no_fk_checks;
			if ((rc = sync_put_update(a, &b, t, row)) <= 0) {
				sync_item_free(it);
				tidm_buf_dispose(&b);
				return rc;
			}
			break;
		}
		if (safe && s->nkey && t->fk_upd && !no_fk_checks) {
			/* a parent whose keys cascade updates: the UPDATE (it cascades, and does
			 * nothing when it was applied already), then the REPLACE (the row as the
			 * source has it, with the checks off) */
			if ((rc = sync_put_update(a, &b, t, row)) <= 0) {
				sync_item_free(it);
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
			if ((rc = sync_put_where(a, &b, t, row->before, row->ncols)) < 0)
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
		if ((rc = sync_put_update(a, &b, t, row)) <= 0) {
			sync_item_free(it);
			tidm_buf_dispose(&b);
			return rc; /* 0: nothing to set */
		}
		if (t->upsert_tail && !t->fk_upd && oldkey == rowkey && !partial) {
			/* the row keeps its key: one tuple of a grouped INSERT ... ON DUPLICATE KEY
			 * UPDATE (the worker checks that every row of the group existed) */
			tidm_buf tb = TIDM_BUF_INIT;
			if ((rc = sync_put_tuple(a, &tb, t, row->after, row->ncols)) < 0) {
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
	it->what = sync_describe_row(a, t, key_img, row->ncols);
	sync_send_item(a, wid, it);
	return 0;
fail_item:
	sync_item_free(it);
	tidm_buf_dispose(&b);
	return rc;
}

int sync_apply_rows_event(struct tidm_applier *a, tidm_binlog_decoder *dec, const tidm_binlog_event *ev)
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
	if (a->windows && sync_window_side(a, sync_find_window(a, tm->db, tm->table)) < 0)
		return 0; /* before its copy: the target table may have another definition or none */
	a->txn_selected = true;
	if (tidm_seq_sync_is(a->seqs, tm))
		return tidm_seq_sync_rows(a->seqs, dec, ev); /* a sequence's new state, not a row */
	if ((rc = sync_get_table(a, tm->db, tm->table, &t)) < 0)
		return rc;
	side = sync_window_side(a, t->win);
	if (side < 0)
		return 0; /* already in every copied row of this table */
	if ((rc = tidm_binlog_rows_begin(&it, dec, ev)) < 0)
		return rc;
	while ((got = tidm_binlog_rows_next(&it, &row)) == 1) {
		if ((rc = apply_row(a, t, ev->u.rows.kind, &row, side > 0,
				    (ev->u.rows.flags & TIDM_BINLOG_ROWS_NO_FOREIGN_KEY_CHECKS) != 0)) < 0)
			return rc;
		sync_txn_split_after_row(a);
	}
	return got < 0 ? got : 0;
}
