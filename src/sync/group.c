/*
 * group.c - a worker's script: row items grouped into statements.
 *
 * DESIGN
 *  A worker's script holds the row items collected since its last round trip, turned into
 *  statements when it runs; per statement the worker remembers what the target must report
 *  and how to name the row in a message (stmt_meta).
 *  Grouping: on a table whose only unique key is the row key, a run of items whose row keys
 *  are all different becomes one statement per table and kind (a multi-row INSERT or
 *  REPLACE, DELETE ... WHERE key IN (...), INSERT ... ON DUPLICATE KEY UPDATE for UPDATEs
 *  that keep the row key). The target's counts verify each group; on any other count, or an
 *  error inside a group, the worker rolls back to a savepoint taken before the groups and
 *  runs the same items one statement each (sync_script_exec), which verifies every row and names
 *  the one at fault. Statements of parent rows whose foreign keys cascade run with
 *  foreign_key_checks = 1 (FKC_ON / FKC_OFF around them).
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
 * A worker's script: the row items collected since its last round trip, turned into
 * statements when it runs. Per statement the worker remembers what the target must report
 * and how to name the row in a message.
 *
 * Grouping. On a table whose only unique key is the row key, changes to different rows
 * neither touch the same row nor collide, so their order does not matter (foreign key
 * checks are off on the target). A run of items whose row keys are all different becomes
 * one statement per table and kind: a multi-row INSERT or REPLACE, `DELETE ... WHERE key IN
 * (...)`, and for UPDATEs that keep the row key `INSERT ... ON DUPLICATE KEY UPDATE`. An
 * item whose key is already in the run, or that cannot be grouped, ends the run; items of
 * one group keep their order. The target's counts verify each group: a DELETE of n keys
 * must remove n rows, an upsert of n rows must report 2n (every row existed and changed; a
 * missing row would be inserted and count 1, an unchanged one 1). On any other count, or
 * an error inside a group, the worker rolls back to a savepoint taken before the groups
 * and runs the same items one statement each, which verifies every row and names the one
 * at fault: grouping changes how many statements the target parses, never what is applied
 * or reported.
 */
enum { CHECK_NONE = 0, CHECK_ROW, CHECK_COUNT, CHECK_UPSERT };

#define SAVEPOINT_SQL "SAVEPOINT `tidm_group`"
#define UNDO_SQL "ROLLBACK TO SAVEPOINT `tidm_group`"

static void script_meta_push(script *sc, uint8_t check, bool is_delete, bool grp, size_t n, const char *what)
{
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 64;
		sc->meta = realloc(sc->meta, sc->cap * sizeof(*sc->meta));
		sc->affected = realloc(sc->affected, sc->cap * sizeof(*sc->affected));
		if (!sc->meta || !sc->affected)
			abort();
	}
	sc->meta[sc->n] = (stmt_meta){.check = check, .is_delete = is_delete, .group = grp, .n = n, .what = what, .end = sc->sql.len};
	sc->n++;
}

/* Forget the statements (the items stay). */
static void script_reset_sql(script *sc)
{
	sc->n = 0;
	sc->last_head = NULL;
	tidm_buf_clear(&sc->sql);
}

void sync_script_clear(script *sc)
{
	while (sc->head) {
		item *it = sc->head;
		sc->head = it->next;
		sync_item_free(it);
	}
	sc->tail = NULL;
	sc->nitems = sc->ngroupable = sc->bytes = 0;
	script_reset_sql(sc);
}

void sync_script_dispose(script *sc)
{
	sync_script_clear(sc);
	free(sc->meta);
	free(sc->affected);
	tidm_buf_dispose(&sc->sql);
}

/* Take a row item. */
void sync_script_push(script *sc, item *it)
{
	it->next = NULL;
	if (sc->tail)
		sc->tail->next = it;
	else
		sc->head = it;
	sc->tail = it;
	sc->nitems++;
	sc->bytes += it->len + it->glen + 1;
	if (it->cls != GC_NONE)
		sc->ngroupable++;
}

static void stmt_sep(script *sc)
{
	if (sc->n)
		tidm_buf_putc(&sc->sql, ';');
}

/* A statement of our own (BEGIN, SAVEPOINT, the checkpoint, COMMIT): nothing to check. */
void sync_script_add_raw(script *sc, const char *sql, size_t len)
{
	stmt_sep(sc);
	tidm_buf_put(&sc->sql, sql, len);
	sc->last_head = NULL;
	script_meta_push(sc, CHECK_NONE, false, false, 0, NULL);
}

#define FKC_ON "SET SESSION foreign_key_checks = 1"
#define FKC_OFF "SET SESSION foreign_key_checks = 0"

static void emit_stmt(script *sc, const item *it);

/* One item as its own statement (between the foreign-key switches when it cascades); an
 * INSERT tuple extends the INSERT right before it. */
static void emit_row(script *sc, const item *it)
{
	if (!it->fkc) {
		emit_stmt(sc, it);
		return;
	}
	sync_script_add_raw(sc, FKC_ON, strlen(FKC_ON));
	emit_stmt(sc, it);
	sync_script_add_raw(sc, FKC_OFF, strlen(FKC_OFF));
}

static void emit_stmt(script *sc, const item *it)
{
	if (it->op == OP_INSERT && sc->n && sc->last_head == it->head) {
		tidm_buf_putc(&sc->sql, ',');
		tidm_buf_put(&sc->sql, it->text, it->len);
		sc->meta[sc->n - 1].n++;
		return;
	}
	stmt_sep(sc);
	if (it->op == OP_INSERT) {
		tidm_buf_puts(&sc->sql, it->head);
		sc->last_head = it->head;
	} else {
		sc->last_head = NULL;
	}
	tidm_buf_put(&sc->sql, it->text, it->len);
	script_meta_push(sc, it->check_affected ? CHECK_ROW : CHECK_NONE,
			 it->op == OP_STMT && !strncmp(it->text, "DELETE", 6), false, 1, it->what);
}

static void emit_group(script *sc, const group *g)
{
	const item *it;
	const char *tail = "";
	uint8_t check = CHECK_NONE;

	if (g->n == 1) {
		emit_row(sc, g->first);
		return;
	}
	if (g->fkc)
		sync_script_add_raw(sc, FKC_ON, strlen(FKC_ON));
	stmt_sep(sc);
	sc->last_head = NULL;
	switch (g->cls) {
	case GC_INSERT:
		tidm_buf_puts(&sc->sql, g->first->head);
		break;
	case GC_DELETE:
		tidm_buf_puts(&sc->sql, g->first->tbl->delete_head);
		tail = ")";
		check = g->check ? CHECK_COUNT : CHECK_NONE;
		break;
	default: /* GC_UPSERT */
		tidm_buf_puts(&sc->sql, g->first->tbl->insert_head);
		tail = g->first->tbl->upsert_tail;
		check = CHECK_UPSERT;
		break;
	}
	for (it = g->first; it; it = it->gnext) {
		if (it != g->first)
			tidm_buf_putc(&sc->sql, ',');
		if (g->cls == GC_INSERT)
			tidm_buf_put(&sc->sql, it->text, it->len);
		else
			tidm_buf_put(&sc->sql, it->gtext, it->glen);
	}
	tidm_buf_puts(&sc->sql, tail);
	script_meta_push(sc, check, g->cls == GC_DELETE, true, g->n, g->first->what);
	if (g->fkc)
		sync_script_add_raw(sc, FKC_OFF, strlen(FKC_OFF));
}

/* Emit the run's groups, in the order they opened, and start an empty run. */
static void run_flush(script *sc)
{
	size_t i;

	for (i = 0; i < sc->ngroups; i++)
		emit_group(sc, &sc->groups[i]);
	sc->ngroups = 0;
	sc->run_n = 0;
	if (++sc->gen == 0) { /* wrapped: every slot must read as free */
		memset(sc->slot_gen, 0, sizeof(sc->slot_gen));
		sc->gen = 1;
	}
}

/* Add a row key to the run: false when it was there already. */
static bool run_add_key(script *sc, uint64_t key)
{
	size_t i = (size_t)key & (RUN_SLOTS - 1);

	for (;;) {
		if (sc->slot_gen[i] != sc->gen) {
			sc->slot_gen[i] = sc->gen;
			sc->slot_key[i] = key;
			sc->run_n++;
			return true;
		}
		if (sc->slot_key[i] == key)
			return false;
		i = (i + 1) & (RUN_SLOTS - 1);
	}
}

static bool run_has_table(const script *sc, const tbl_info *t)
{
	size_t i;
	for (i = 0; i < sc->ngroups; i++)
		if (sc->groups[i].tbl == t)
			return true;
	return false;
}

static void run_add(script *sc, item *it)
{
	const void *id = it->cls == GC_INSERT ? (const void *)it->head : (const void *)it->tbl;
	group *g = NULL;
	size_t i;

	for (;;) {
		if (sc->run_n >= RUN_SLOTS / 2)
			run_flush(sc);
		if (!run_add_key(sc, it->rowkey)) {
			run_flush(sc); /* the row is in the run already: its changes stay in order */
			continue;
		}
		for (i = 0; i < sc->ngroups && !g; i++)
			if (sc->groups[i].cls == it->cls && sc->groups[i].id == id && sc->groups[i].check == it->check_affected &&
			    sc->groups[i].fkc == it->fkc)
				g = &sc->groups[i];
		if (!g && sc->ngroups == GROUPS_MAX) {
			run_flush(sc);
			continue;
		}
		if (!g && it->tbl->key_collates && run_has_table(sc, it->tbl)) {
			/* keys that differ in bytes may still be one row: a table whose key collates
			 * has one kind of change per run, applied in order inside its statement */
			run_flush(sc);
			continue;
		}
		break;
	}
	if (!g) {
		g = &sc->groups[sc->ngroups++];
		*g = (group){.cls = it->cls, .tbl = it->tbl, .id = id, .check = it->check_affected, .fkc = it->fkc};
	}
	it->gnext = NULL;
	if (g->last)
		g->last->gnext = it;
	else
		g->first = it;
	g->last = it;
	g->n++;
}

/* The statements for the items: grouped, or one per item. */
static void script_build(script *sc, bool grouped)
{
	item *it;

	if (!grouped) {
		for (it = sc->head; it; it = it->next)
			emit_row(sc, it);
		return;
	}
	if (!sc->gen)
		sc->gen = 1;
	for (it = sc->head; it; it = it->next) {
		if (it->cls == GC_NONE) {
			run_flush(sc);
			emit_row(sc, it);
		} else {
			run_add(sc, it);
		}
	}
	run_flush(sc);
}

/*
 * One round trip of the built statements, then their counts. Returns 0, < 0 on an error
 * (prefixed with the row it concerns), or 1 when a group must be undone and its items run
 * one by one (a group's count is off, or a group statement failed).
 */
static int script_send(worker *w, script *sc)
{
	size_t failed = 0, i;
	int rc;

	if (!sc->n)
		return 0;
	rc = tidm_conn_exec_multi(w->conn, sc->sql.data, sc->sql.len, sc->affected, sc->n, &failed);
	if (rc < 0) {
		const char *what;
		if (failed < sc->n && sc->meta[failed].group && rc != TIDM_ECANCELED) {
			tidm_err_clear();
			return 1;
		}
		what = failed < sc->n && sc->meta[failed].what ? sc->meta[failed].what : "";
		if (tidm_conn_max_packet(w->conn) && sc->sql.len + 1 > tidm_conn_max_packet(w->conn)) {
			/* refused before sending (db/conn.c check_packet): name the largest statement */
			size_t big = 0, from = 0, most = 0;
			for (i = 0; i < sc->n; from = sc->meta[i].end, i++)
				if (sc->meta[i].end - from > most) {
					most = sc->meta[i].end - from;
					big = i;
				}
			what = sc->meta[big].what ? sc->meta[big].what : "";
		}
		if (rc == TIDM_EDUPKEY)
			tidm_err_prefix("duplicate key while replicating %s (restart with --replace-conflicts to "
					"overwrite the target row with the source's): ",
					what);
		else if (*what) /* a checkpoint or COMMIT concerns no row */
			tidm_err_prefix("%s: ", what);
		return rc;
	}
	for (i = 0; i < sc->n; i++)
		if ((sc->meta[i].check == CHECK_COUNT && sc->affected[i] != sc->meta[i].n) ||
		    (sc->meta[i].check == CHECK_UPSERT && sc->affected[i] != 2 * sc->meta[i].n))
			return 1;
	for (i = 0; i < sc->n; i++)
		if (sc->meta[i].check == CHECK_ROW && sc->affected[i] == 0)
			return tidm_err_set(TIDM_ENOTFOUND,
					    "row missing on the target: %s is not there to %s; the target was changed "
					    "outside tidm",
					    sc->meta[i].what ? sc->meta[i].what : "?", sc->meta[i].is_delete ? "delete" : "update");
	return 0;
}

static bool script_checks(const script *sc)
{
	size_t i;
	for (i = 0; i < sc->n; i++)
		if (sc->meta[i].check != CHECK_NONE)
			return true;
	return false;
}

/*
 * Apply the script's items in the worker's open target transaction (BEGIN first when none
 * is open) and, with `mark`, write the checkpoint and COMMIT. One round trip, or two when
 * a change must be verified before the COMMIT may go (three when a group is undone). The
 * items are freed either way; on failure the transaction is left open for the caller to
 * roll back.
 */
int sync_script_exec(worker *w, script *sc, const item *mark)
{
	bool begin = !w->in_txn;
	bool grouped = sc->ngroupable >= 2 && (begin || w->a->savepoints);
	bool tail_sent = false;
	int rc;

	script_reset_sql(sc);
	if (begin)
		sync_script_add_raw(sc, "BEGIN", 5);
	if (grouped && w->a->savepoints)
		sync_script_add_raw(sc, SAVEPOINT_SQL, strlen(SAVEPOINT_SQL));
	script_build(sc, grouped);
	if (mark && !script_checks(sc)) {
		sync_commit_tail(w, sc, mark);
		tail_sent = true;
	}
	w->in_txn = true;
	rc = script_send(w, sc);
	if (rc == 1) {
		/* undo the groups and run their items one by one: exact checks and messages */
		script_reset_sql(sc);
		if (w->a->n_fks) /* the failed statement may have been one with the checks on */
			sync_script_add_raw(sc, FKC_OFF, strlen(FKC_OFF));
		if (w->a->savepoints) {
			sync_script_add_raw(sc, UNDO_SQL, strlen(UNDO_SQL));
		} else {
			sync_script_add_raw(sc, "ROLLBACK", 8);
			sync_script_add_raw(sc, "BEGIN", 5);
		}
		script_build(sc, false);
		tail_sent = false;
		if (mark && !script_checks(sc)) {
			sync_commit_tail(w, sc, mark);
			tail_sent = true;
		}
		rc = script_send(w, sc);
		if (rc == 1)
			rc = tidm_err_set(TIDM_ERROR, "internal error: a row change counted as a group");
	}
	if (rc == 0 && mark && !tail_sent) {
		script_reset_sql(sc);
		sync_commit_tail(w, sc, mark);
		rc = script_send(w, sc);
	}
	if (rc == 0 && mark)
		w->in_txn = false;
	sync_script_clear(sc);
	return rc;
}
