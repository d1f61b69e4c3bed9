/*
 * tables.c - the applier's cache of target tables and their foreign-key groups.
 *
 * DESIGN
 *  sync_get_table returns the tbl_info of a selected table, built on first use from the target's
 *  schema (sync/schema.h): the INSERT/REPLACE heads, the qualified name, whether its rows
 *  may be grouped (a row key and no other unique key a reordering could collide on: then
 *  delete_head / upsert_tail are set), whether its key columns fold (key_collates,
 *  key_folds) and whether the whole table goes to one worker (route_table). The cache is
 *  dropped after each DDL (sync_tbl_info_free_all).
 *  Foreign keys. The source logs a parent's DELETE or UPDATE, not the changes its cascading
 *  foreign keys made to the child rows (InnoDB makes them below the binlog), and tidm's
 *  target sessions run with foreign_key_checks = 0. So a DELETE or UPDATE of a parent row
 *  runs with foreign_key_checks = 1, and the target's own keys cascade it; every table such
 *  keys connect is one group (fk_group), applied by one worker in binlog order. The keys
 *  are read from the target when first needed and again after each DDL (fks_load,
 *  fk_place).
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

static void tbl_info_free(tbl_info *t)
{
	free(t->insert_head);
	free(t->replace_head);
	free(t->delete_head);
	free(t->upsert_tail);
	free(t->qname);
	free(t);
}

void sync_tbl_info_free_all(struct tidm_applier *a)
{
	while (a->tables) {
		tbl_info *t = a->tables;
		a->tables = t->next;
		tbl_info_free(t);
	}
}

/*
 * Foreign keys. The source logs a parent's DELETE or UPDATE, not the changes its cascading
 * foreign keys made to the child rows (InnoDB makes them below the binlog), and tidm's
 * target sessions run with foreign_key_checks = 0. So a DELETE or UPDATE of a parent row
 * runs with foreign_key_checks = 1, and the target's own keys cascade it, on the child rows
 * as they are at that point of the stream: every table such keys connect is applied by one
 * worker, in binlog order. Only plain DELETE and UPDATE statements cascade; the REPLACE of
 * safe mode runs with the checks off (a REPLACE deletes the row first, which would cascade).
 */

void sync_fks_free(struct tidm_applier *a)
{
	size_t i;
	for (i = 0; i < a->n_fks; i++) {
		free(a->fks[i].child);
		free(a->fks[i].parent);
	}
	free(a->fks);
	a->fks = NULL;
	a->n_fks = 0;
	a->fks_loaded = false;
}

static char *fk_name(const char *db, const char *table)
{
	size_t n = strlen(db), m = strlen(table);
	char *r = malloc(n + m + 2);
	if (!r)
		abort();
	memcpy(r, db, n);
	r[n] = '\x01';
	memcpy(r + n + 1, table, m + 1);
	return r;
}

static bool ddl_selected_n(struct tidm_applier *a, const char *db, size_t dblen, const char *table)
{
	char d[256];
	snprintf(d, sizeof(d), "%.*s", (int)(dblen < 255 ? dblen : 255), db);
	return sync_ddl_selected(d, table, a);
}

static int fks_load(struct tidm_applier *a)
{
	tidm_res *res = NULL;
	int rc;

	if (a->fks_loaded)
		return 0;
	rc = tidm_conn_query(a->conn, &res,
			     "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME, "
			     "DELETE_RULE IN ('CASCADE', 'SET NULL', 'SET DEFAULT'), "
			     "UPDATE_RULE IN ('CASCADE', 'SET NULL', 'SET DEFAULT') "
			     "FROM information_schema.REFERENTIAL_CONSTRAINTS");
	if (rc < 0) {
		if (tidm_err_dberr() == 0)
			return rc; /* the connection failed */
		/* a target without the view (or without foreign keys): nothing cascades */
		tidm_err_clear();
		a->fks_loaded = true;
		return 0;
	}
	a->fks = calloc(tidm_res_rows(res) + 1, sizeof(*a->fks));
	if (!a->fks)
		abort();
	while (tidm_res_next(res) == 1) {
		struct fk_edge *e = &a->fks[a->n_fks];
		const char *cd = tidm_res_get(res, 0), *ct = tidm_res_get(res, 1), *pd = tidm_res_get(res, 2),
			   *pt = tidm_res_get(res, 3);
		if (!cd || !ct || !pd || !pt)
			continue;
		e->child = fk_name(cd, ct);
		e->parent = fk_name(pd, pt);
		e->del = tidm_res_get(res, 4) && !strcmp(tidm_res_get(res, 4), "1");
		e->upd = tidm_res_get(res, 5) && !strcmp(tidm_res_get(res, 5), "1");
		a->n_fks++;
	}
	tidm_res_free(res);
	for (size_t i = 0; i < a->n_fks; i++) {
		a->fks[i].joins = a->fks[i].del || a->fks[i].upd;
		for (size_t j = 0; j < a->n_fks && !a->fks[i].joins; j++)
			if ((a->fks[j].del || a->fks[j].upd) && !strcmp(a->fks[j].parent, a->fks[i].parent))
				a->fks[i].joins = true;
	}
	a->fks_loaded = true;
	return 0;
}

/* The table's place among the cascading keys: its group (the smallest name of the tables
 * the keys connect it to, hashed) and whether it is a parent. */
static void fk_place(struct tidm_applier *a, tbl_info *t)
{
	char *me, **set = NULL, *least;
	size_t n = 0, cap = 0, i, j;
	bool grew = true, self = false;

	if (!a->n_fks)
		return;
	me = fk_name(t->schema->db, t->schema->name);
	for (i = 0; i < a->n_fks; i++) {
		if (!strcmp(a->fks[i].parent, me)) {
			t->fk_del |= a->fks[i].del;
			t->fk_upd |= a->fks[i].upd;
		}
		if (!strcmp(a->fks[i].child, me) && (a->fks[i].del || a->fks[i].upd) && !a->fks[i].warned) {
			const char *sep = strchr(a->fks[i].parent, '\x01');
			if (sep && !ddl_selected_n(a, a->fks[i].parent, (size_t)(sep - a->fks[i].parent), sep + 1)) {
				tidm_warn("`%s`.`%s`: its foreign key to `%.*s`.`%s` cascades, but that table is not "
					  "in the job's selection: rows the source's cascade changes here are not "
					  "replicated",
					  t->schema->db, t->schema->name, (int)(sep - a->fks[i].parent), a->fks[i].parent,
					  sep + 1);
				a->fks[i].warned = true;
			}
		}
	}
	/* the connected tables: a fixed point over the edges (few, in practice) */
	set = malloc(sizeof(*set));
	if (!set)
		abort();
	set[n++] = me;
	cap = 1;
	while (grew) {
		grew = false;
		for (i = 0; i < a->n_fks; i++) {
			bool c = false, p = false;
			if (!a->fks[i].joins)
				continue;
			for (j = 0; j < n; j++) {
				c |= !strcmp(set[j], a->fks[i].child);
				p |= !strcmp(set[j], a->fks[i].parent);
			}
			if (c == p)
				continue;
			if (n == cap) {
				cap *= 2;
				set = realloc(set, cap * sizeof(*set));
				if (!set)
					abort();
			}
			set[n++] = c ? a->fks[i].parent : a->fks[i].child;
			grew = true;
		}
	}
	for (i = 0; i < a->n_fks && n == 1 && !self; i++)
		if (a->fks[i].joins && !strcmp(a->fks[i].child, me) && !strcmp(a->fks[i].parent, me))
			self = true; /* a table whose cascading key points at itself: its own group */
	if (n > 1 || self) {
		least = set[0];
		for (j = 1; j < n; j++)
			if (strcmp(set[j], least) < 0)
				least = set[j];
		t->fk_group = sync_fnv(least, strlen(least), 14695981039346656037ull) | 1;
	}
	free(set);
	free(me);
}

static bool all_opaque(const tidm_schema_table *s, const size_t *cols, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (s->cols[cols[i]].keyfold != TIDM_KEYFOLD_OPAQUE)
			return false;
	return true;
}

int sync_get_table(struct tidm_applier *a, const char *db, const char *name, tbl_info **out)
{
	const tidm_schema_table *s;
	tbl_info *t;
	tidm_buf b = TIDM_BUF_INIT, cols = TIDM_BUF_INIT;
	size_t i;
	bool first = true;
	int rc;

	for (t = a->tables; t; t = t->next)
		if (!strcmp(t->schema->db, db) && !strcmp(t->schema->name, name)) {
			*out = t;
			return 0;
		}
	if ((rc = tidm_schema_get(a->schema, a->conn, db, name, &s)) < 0)
		return rc;
	t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	t->schema = s;
	t->win = sync_find_window(a, db, name);
	tidm_quote_qualified(&b, db, name);
	t->qname = tidm_buf_detach(&b);
	tidm_buf_putc(&cols, '(');
	for (i = 0; i < s->ncols; i++) {
		if (s->cols[i].generated)
			continue;
		if (!first)
			tidm_buf_putc(&cols, ',');
		tidm_quote_ident(&cols, s->cols[i].name);
		first = false;
	}
	tidm_buf_puts(&cols, ") VALUES ");
	tidm_buf_printf(&b, "INSERT INTO %s %s", t->qname, cols.data);
	t->insert_head = tidm_buf_detach(&b);
	tidm_buf_printf(&b, "REPLACE INTO %s %s", t->qname, cols.data);
	t->replace_head = tidm_buf_detach(&b);
	tidm_buf_dispose(&cols);
	if (s->nkey && !s->nuniques) {
		/* the row key is the only unique key: rows with different keys never collide, so
		 * their changes may be reordered into groups (the worker keeps same-key order) */
		tidm_buf_printf(&b, "DELETE FROM %s WHERE %s", t->qname, s->nkey > 1 ? "(" : "");
		for (i = 0; i < s->nkey; i++) {
			if (i)
				tidm_buf_putc(&b, ',');
			tidm_quote_ident(&b, s->cols[s->key[i]].name);
		}
		tidm_buf_puts(&b, s->nkey > 1 ? ") IN (" : " IN (");
		t->delete_head = tidm_buf_detach(&b);
		first = true;
		for (i = 0; i < s->ncols; i++) {
			if (s->cols[i].generated || s->cols[i].in_key)
				continue;
			tidm_buf_puts(&b, first ? " ON DUPLICATE KEY UPDATE " : ",");
			tidm_quote_ident(&b, s->cols[i].name);
			tidm_buf_puts(&b, "=VALUES(");
			tidm_quote_ident(&b, s->cols[i].name);
			tidm_buf_putc(&b, ')');
			first = false;
		}
		t->upsert_tail = first ? NULL : tidm_buf_detach(&b);
	}
	for (i = 0; i < s->nkey; i++)
		if (s->cols[s->key[i]].keyfold != TIDM_KEYFOLD_EXACT)
			t->key_collates = t->key_folds = true;
	t->route_table = s->nkey && all_opaque(s, s->key, s->nkey);
	for (i = 0; i < s->nuniques; i++) {
		size_t j;
		for (j = 0; j < s->nuniq[i]; j++)
			if (s->cols[s->uniques[i][j]].keyfold != TIDM_KEYFOLD_EXACT)
				t->key_folds = true;
		if (all_opaque(s, s->uniques[i], s->nuniq[i]))
			t->route_table = true;
	}
	if ((rc = fks_load(a)) < 0) {
		tbl_info_free(t);
		return rc;
	}
	fk_place(a, t);
	t->next = a->tables;
	a->tables = t;
	*out = t;
	return 0;
}

bool sync_ddl_selected(const char *db, const char *table, void *payload)
{
	struct tidm_applier *a = payload;
	if (!table)
		return tidm_filter_match_db(&a->cfg->objects, db);
	return tidm_filter_match_table(&a->cfg->objects, db, table);
}
