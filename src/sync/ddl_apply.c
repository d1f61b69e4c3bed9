/*
 * ddl_apply.c - replicated DDL and other statements, applied as a barrier.
 *
 * DESIGN
 *  A QUERY event that is not a transaction boundary (txn.c) is parsed and rewritten for the
 *  target by sync/ddl.h. A statement on selected objects is a barrier: flush (every worker
 *  commits at the current boundary), run it on the coordinator's connection under the
 *  parts of the source statement's sql_mode that change what a DDL means (put_ddl_mode) and
 *  the source's default database, then record the position after it for every worker and
 *  drop the table and foreign-key caches (tables.c). Online schema change swaps are
 *  handled by osc.c; statements on objects outside the job are skipped and said so.
 *  Each target statement runs under the character set and collations its QUERY event
 *  carries (sync/ddl_charset.h), and is recorded as in progress before it runs
 *  (sync/ddl_guard.h): a crash between the statement and the checkpoint after it is
 *  decided on restart from the target's schema, never by running it twice. MariaDB
 *  sequence statements go to sync/sequence.h.
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

/*
 * RENAME TABLE a TO b where every new name's copy was made after this rename (b is before
 * its copy window): the copies hold the rename's result already. The old names exist on the
 * target only where replication made them again (a table created after the first snapshot
 * and renamed before a later one, which copied it under the new name): the rename becomes
 * DROP TABLE IF EXISTS of those old names. Other mixes are left as they are. true: nothing
 * is left to run (skip the statement).
 */
static bool rename_into_copies(struct tidm_applier *a, const tidm_ddl *ddl, tidm_buf *out)
{
	tidm_buf drop = TIDM_BUF_INIT;
	size_t i, pairs = 0, covered = 0, n = 0;

	for (i = 0; i < ddl->n_objs; i++) {
		const tidm_ddl_obj *o = &ddl->objs[i];
		if (o->role != TIDM_DDL_OBJ_TABLE || !o->db || !o->name || !o->new_db || !o->new_name)
			continue;
		pairs++;
		if (sync_window_side(a, sync_find_window(a, o->new_db, o->new_name)) >= 0)
			continue;
		covered++;
		if (sync_window_side(a, sync_find_window(a, o->db, o->name)) < 0 ||
		    !sync_ddl_selected(o->db, o->name, a))
			continue;
		tidm_buf_puts(&drop, n++ ? ", " : "DROP TABLE IF EXISTS ");
		tidm_quote_qualified(&drop, o->db, o->name);
	}
	if (pairs && covered == pairs) {
		tidm_info("RENAME at %s:%" PRIu64 ": the new name%s copied after it; %s", a->cur_file, a->cur_pos,
			  pairs == 1 ? " was" : "s were", n ? "dropping the old name re-created by replication" : "nothing to do");
		tidm_buf_clear(out);
		tidm_buf_put(out, drop.data, drop.len);
	}
	tidm_buf_dispose(&drop);
	return pairs && covered == pairs && n == 0;
}

int sync_apply_query(struct tidm_applier *a, const tidm_binlog_event *ev)
{
	const tidm_binlog_query *q = &ev->u.query;
	char defdb[256];
	tidm_ddl ddl = TIDM_DDL_INIT;
	tidm_buf out = TIDM_BUF_INIT;
	const tidm_ddl_obj *osc_done = NULL;
	int action = 0, rc;

	switch (sync_query_kind(q->sql, q->sql_len)) {
	case Q_BEGIN:
		sync_txn_begin(a, ev);
		a->explicit_txn = true;
		return 0;
	case Q_XA_END:
	case Q_RELEASE: /* RELEASE SAVEPOINT: nothing undone */
		return 0;
	case Q_XA_ROLLBACK:
		return sync_xa_rollback(a, q);
	case Q_XA_OTHER: /* XA COMMIT of a prepared transaction (applied at its XA PREPARE) */
	case Q_COMMIT:
		return sync_txn_end(a);
	case Q_SAVEPOINT:
		return a->explicit_txn ? sync_forward_savepoint(a, q) : 0;
	case Q_ROLLBACK:
		return a->in_txn ? sync_rollback_txn(a) : 0;
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
			if (sync_ddl_selected(ddl.objs[i].db, ddl.objs[i].name, a))
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
		rc = tidm_seq_sync_ddl(a->seqs, &out, q->sql, q->sql_len, defdb[0] ? defdb : NULL, sync_ddl_selected, a);
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
		dopts.idempotent = sync_safe_mode(a);
		if ((rc = sync_osc_record(a, ev, &ddl)) < 0)
			goto out;
		if ((base = sync_osc_swap(a, &ddl)) != NULL) {
			/* an online schema change tool swaps its altered copy in: the target's table gets
			 * the copy's changes instead */
			rc = sync_osc_statements(a, base, &dopts, &out);
			action = TIDM_DDL_APPLY;
			osc_done = base;
		} else {
			rc = tidm_ddl_rewrite(&out, &ddl, q->sql, q->sql_len, &dopts, sync_ddl_selected, a, &action);
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
			if (sync_window_side(a, sync_find_window(a, ddl.objs[i].db, ddl.objs[i].name)) < 0)
				before++;
		}
		if (tables && before == tables)
			action = TIDM_DDL_SKIP;
		else if (ddl.kind == TIDM_DDL_RENAME_TABLE && rename_into_copies(a, &ddl, &out))
			action = TIDM_DDL_SKIP;
	}
	{
		/* DDL commits implicitly; remember where it started for the barrier below (any
		 * checkpoint taken now must be BEFORE the DDL) */
		uint64_t start = a->txn_start, after = a->cur_pos;
		a->cur_pos = start;
		rc = sync_txn_end(a);
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
				/* (routines, events and triggers too: 1304/1305, 1537/1539, 1359/1360) */
				if (sync_safe_mode(a) && (e == 1050 || e == 1051 || e == 1060 || e == 1061 || e == 1091 ||
							  e == 1007 || e == 1008 || e == 1146 || e == 1054 || e == 4091 ||
							  e == 1304 || e == 1305 || e == 1537 || e == 1539 || e == 1359 ||
							  e == 1360)) {
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
		sync_tbl_info_free_all(a);
		sync_fks_free(a); /* the DDL may have added or dropped a foreign key */
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
	if (osc_done && (rc = sync_osc_forget(a, osc_done->db, osc_done->name)) < 0)
		goto out;
	/* the checkpoint after the DDL and the end of its in-progress record: one transaction */
	if ((rc = tidm_conn_exec(a->conn, "BEGIN", 5)) == 0 && (rc = sync_set_all_checkpoints(a)) == 0 &&
	    (rc = tidm_ddl_guard_clear(a->guard)) == 0)
		rc = tidm_conn_exec(a->conn, "COMMIT", 6);
	if (a->o.progress)
		atomic_fetch_add(&a->o.progress->ddls, 1);
out:
	tidm_buf_dispose(&out);
	tidm_ddl_dispose(&ddl);
	return rc;
}
