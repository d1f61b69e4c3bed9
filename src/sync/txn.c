/*
 * txn.c - source transactions: boundaries and classification of QUERY events.
 *
 * DESIGN
 *  The coordinator tracks one source transaction at a time: sync_txn_begin at its first event
 *  (GTID, BEGIN, or the first row outside an explicit transaction) numbers it and remembers
 *  where it started; sync_txn_end gives every participating worker a mark (sequence number,
 *  position after the transaction, source timestamp).
 *  QUERY events are classified by their first words (sync_query_kind): BEGIN / XA START open an
 *  explicit transaction, COMMIT / XA COMMIT / XA END / XA PREPARE end it, SAVEPOINT and
 *  RELEASE SAVEPOINT are forwarded to the workers holding the transaction's rows, ROLLBACK
 *  [TO SAVEPOINT] undoes them there; anything else is DDL or an unhandled statement.
 *  XA: a transaction is applied at its XA PREPARE (the target cannot hold it prepared for
 *  the source); the ids of those applied by this run are remembered (the oldest dropped
 *  beyond XA_SEEN_MAX), so an XA ROLLBACK of one of them is refused as unreplicable.
 *  The job's start GTID set: a transaction whose GTID is in it is passed over, also when a
 *  resumed stream (by file and position) or the server would send it (sync_start_set_has).
 *  A transaction larger than spec.max-txn-bytes (sync/txn_split.h): after each row, a worker
 *  whose pending bytes in it passed the limit gets a piece mark (sync_txn_split_after_row), so it
 *  commits what it has with a checkpoint naming the transaction's start and the rows before
 *  the piece.
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

/* After a row: a worker past the piece size commits its part of the transaction so far
 * (see txn_split.h). Only bytes it was sent count, so a piece never lands on a row its
 * checkpoint already covers. */
void sync_txn_split_after_row(struct tidm_applier *a)
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
		sync_push(a, w, m);
	}
}

void sync_txn_begin(struct tidm_applier *a, const tidm_binlog_event *ev)
{
	if (a->in_txn)
		return;
	a->in_txn = true;
	a->seq++;
	a->participants = 0;
	a->txn_selected = false;
	a->txn_safe = sync_safe_mode(a);
	a->txn_keys = 0;
	a->txn_row = 0;
	a->txn_nosplit = false;
	for (unsigned i = 0; i < a->nworkers; i++)
		a->w[i].piece_bytes = a->w[i].piece_row = 0;
	snprintf(a->txn_file, sizeof(a->txn_file), "%s", a->cur_file);
	a->txn_start = ev->hdr.log_pos && ev->hdr.log_pos >= ev->hdr.event_size ? ev->hdr.log_pos - ev->hdr.event_size
									       : a->cur_pos;
	a->txn_ts = ev->hdr.timestamp;
}

int sync_txn_end(struct tidm_applier *a)
{
	unsigned i;

	if (!a->in_txn)
		return 0;
	for (i = 0; i < a->nworkers; i++)
		if (a->participants & (1ull << i))
			sync_push(a, &a->w[i], sync_new_mark(a, false));
	a->participants = 0;
	a->in_txn = false;
	a->explicit_txn = false;
	if (a->o.progress)
		atomic_fetch_add(&a->o.progress->txns, 1);
	if (a->keys_overflow || a->nkeys > KEYMAP_SIZE / 2)
		return tidm_applier_flush(a, NULL); /* every worker commits; the map starts empty */
	return 0;
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

int sync_query_kind(const char *sql, size_t len)
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
int sync_forward_savepoint(struct tidm_applier *a, const tidm_binlog_query *q)
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
		if (sync_already_applied(a, i))
			continue;
		it = sync_new_row_item();
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
		sync_send_item(a, i, it);
	}
	return 0;
}

/* The source rolled the transaction back (BEGIN ... ROLLBACK: in row format its logged rows
 * are those of transactional tables): the workers drop what they hold of it, then commit an
 * empty boundary, so the transaction's keys are released and the checkpoints pass it. */
int sync_rollback_txn(struct tidm_applier *a)
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
	return sync_txn_end(a);
}

void sync_xa_remember(struct tidm_applier *a, const tidm_binlog_xa_prepare *x)
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
int sync_xa_rollback(struct tidm_applier *a, const tidm_binlog_query *q)
{
	int n = (int)(q->sql_len > 120 ? 120 : q->sql_len);
	bool seen = false;
	size_t i;
	int rc;

	for (i = 0; i < a->n_xa; i++)
		if (q->sql_len > 12 && a->xa[i].len == q->sql_len - 12 &&
		    !strncasecmp(a->xa[i].id, q->sql + 12, a->xa[i].len))
			seen = true;
	if ((rc = sync_txn_end(a)) < 0)
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

/* The event is the GTID of a transaction the job's start set holds. */
bool sync_start_set_has(const struct tidm_applier *a, const tidm_binlog_event *ev)
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
