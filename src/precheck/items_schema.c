/*
 * items_schema.c - precheck items about what is migrated: collations and engines the
 * target lacks, tables without a usable key, target tables that are missing or not
 * empty, objects tidm does not migrate, and server settings that differ.
 *
 * DESIGN
 * Every item works from the shared table list (facts.c) plus at most a few bulk queries
 * (COLUMNS grouped per table and collation, TRIGGERS, ROUTINES, EVENTS, the target's
 * COLLATIONS and ENGINES). Whether a target table holds rows is asked for many tables in
 * one statement, (SELECT i FROM t LIMIT 1) UNION ALL ..., 200 tables at a time, and only
 * for the tables an item cares about (keyless ones; all of them in physical mode).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/dialect.h"
#include "db/empty.h"
#include "db/quote.h"
#include "precheck/pc_int.h"
#include "util/err.h"
#include "util/filter.h"

#define LIST_MAX 10

static bool tables_ready(pc_ctx *c, pc_conns *k, pc_result *r)
{
	const char *err;
	if (c->src_rc < 0) {
		pc_warn(r, "not checked: the source connection failed");
		return false;
	}
	if (pc_need_tables(c, k, &err) < 0) {
		tidm_err_set(TIDM_ERROR, "%s", err);
		pc_cannot(r, "the selected tables");
		return false;
	}
	return true;
}

/* Same, with has_key known. */
static bool keys_ready(pc_ctx *c, pc_conns *k, pc_result *r)
{
	const char *err;
	if (c->src_rc < 0) {
		pc_warn(r, "not checked: the source connection failed");
		return false;
	}
	if (pc_need_keys(c, k, &err) < 0) {
		tidm_err_set(TIDM_ERROR, "%s", err);
		pc_cannot(r, "the selected tables' keys");
		return false;
	}
	return true;
}

/* Marks nonempty[i] for the tables idx[0..n) (indexes into c->tables) that hold rows on
 * the target. */
static int target_nonempty(pc_ctx *c, tidm_conn *tgt, const size_t *idx, size_t n, bool *nonempty)
{
	const char **dbs = calloc(n + 1, sizeof(*dbs)), **names = calloc(n + 1, sizeof(*names));
	int rc;

	if (!dbs || !names) {
		free(dbs);
		free(names);
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		dbs[i] = c->tables[idx[i]].db;
		names[i] = c->tables[idx[i]].name;
	}
	rc = tidm_tables_nonempty(tgt, dbs, names, n, nonempty);
	free(dbs);
	free(names);
	return rc;
}

/*
 * Names in `list` (LIST_MAX at most) the tables for which want() holds that exist on the
 * target as tables and hold rows there; *nbad of them, *checked asked. 0, or negative after
 * answering pc_cannot() in r.
 */
static int nonempty_on_target(pc_ctx *c, pc_conns *k, pc_result *r, bool (*want)(const pc_table *), tidm_buf *list,
			      size_t *nbad, size_t *checked)
{
	tidm_conn *tgt = pc_tgt(k);
	size_t *idx = NULL, n = 0;
	bool *ne = NULL;
	int rc = 0;

	*nbad = *checked = 0;
	if (!tgt) {
		pc_cannot(r, "the target tables");
		return TIDM_ECONN;
	}
	idx = calloc(c->n_tables + 1, sizeof(size_t));
	ne = calloc(c->n_tables + 1, sizeof(bool));
	if (!idx || !ne) {
		rc = tidm_err_set(TIDM_ENOMEM, "out of memory");
		pc_cannot(r, "the target tables");
		goto out;
	}
	for (size_t i = 0; i < c->n_tables; i++)
		if (c->tables[i].on_target && !c->tables[i].target_view && want(&c->tables[i]))
			idx[n++] = i;
	if ((rc = target_nonempty(c, tgt, idx, n, ne)) < 0) {
		pc_cannot(r, "whether the target tables hold rows");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (ne[i])
			pc_list_add(list, nbad, LIST_MAX, c->tables[idx[i]].db, c->tables[idx[i]].name);
	pc_list_end(list, *nbad, LIST_MAX);
	*checked = n;
out:
	free(idx);
	free(ne);
	return rc;
}

static bool is_keyless(const pc_table *t)
{
	return !t->has_key;
}

static bool any_table(const pc_table *t)
{
	(void)t;
	return true;
}

/* --- keys -------------------------------------------------------------------------------- */

PC_ITEM(pc_item_keyless_tables)
{
	tidm_buf list = TIDM_BUF_INIT;
	size_t n = 0;

	if (!keys_ready(c, k, r))
		return;
	for (size_t i = 0; i < c->n_tables; i++)
		if (!c->tables[i].has_key)
			pc_list_add(&list, &n, LIST_MAX, c->tables[i].db, c->tables[i].name);
	pc_list_end(&list, n, LIST_MAX);
	if (!n) {
		pc_pass(r, "every selected table (%zu) has a primary key or a unique key of NOT NULL columns", c->n_tables);
	} else {
		pc_warn(r,
			"%zu selected table%s no primary key and no unique key of NOT NULL columns: %s. Replication "
			"finds their rows by comparing every column; after an unclean stop, safe mode replays recent changes "
			"and can then duplicate rows of such a table, and a duplicate row in the source cannot be told apart",
			n, n == 1 ? " has" : "s have", list.data);
		pc_fix(r, "Add a primary key to %s on the source (e.g. ALTER TABLE ... ADD COLUMN id BIGINT "
			  "AUTO_INCREMENT PRIMARY KEY), or accept the risk: ignore this item (precheck: {ignore: "
			  "[keyless-tables]} in the job file, or --ignore-warnings).",
		       n == 1 ? "it" : "them");
	}
	tidm_buf_dispose(&list);
}

PC_ITEM(pc_item_keyless_nonempty)
{
	size_t nbad = 0, checked = 0;
	tidm_buf list = TIDM_BUF_INIT;

	if (!pc_copies(c)) {
		pc_pass(r, "not needed: a type incremental job copies no existing rows");
		return;
	}
	if (!keys_ready(c, k, r))
		return;
	if (c->job_exists) {
		pc_pass(r, "the job has run before (state %s): it knows which keyless tables it wrote itself and empties "
			   "only those before copying them again",
			c->job_state);
		return;
	}
	if (nonempty_on_target(c, k, r, is_keyless, &list, &nbad, &checked) < 0)
		goto out;
	if (!nbad) {
		pc_pass(r, "no keyless selected table holds rows on the target");
	} else if (c->cfg->keyless_nonempty == TIDM_KEYLESS_APPEND) {
		/* the job file's explicit choice is the acceptance */
		pc_pass(r,
			"%s on the target already hold%s rows and ha%s no key: the copy adds the source's rows to them, as "
			"the job asks (spec: keyless-nonempty: append)",
			list.data, nbad == 1 ? "s" : "", nbad == 1 ? "s" : "ve");
	} else {
		pc_fail(r,
			"%s on the target already hold%s rows and ha%s no key: a copy would add the source's rows to them "
			"(duplicates no key can catch), so the job refuses to start (spec: keyless-nonempty: refuse)",
			list.data, nbad == 1 ? "s" : "", nbad == 1 ? "s" : "ve");
		pc_fix(r, "Empty %s on the target (TRUNCATE TABLE), or set spec: {keyless-nonempty: append} to add the "
			  "rows anyway.",
		       nbad == 1 ? "it" : "them");
	}
out:
	tidm_buf_dispose(&list);
}

PC_ITEM(pc_item_require_primary_key)
{
	const char *v1 = pc_var(&c->tvars, "sql_require_primary_key"), *v2 = pc_var(&c->tvars, "innodb_force_primary_key");
	bool on1 = v1 && (!strcmp(v1, "1") || !strcasecmp(v1, "ON")), on2 = v2 && (!strcmp(v2, "1") || !strcasecmp(v2, "ON"));
	tidm_buf list = TIDM_BUF_INIT;
	size_t n = 0;

	if (c->tgt_rc < 0) {
		pc_warn(r, "not checked: the target connection failed");
		return;
	}
	if (!on1 && !on2) {
		pc_pass(r, "the target accepts tables without a primary key");
		return;
	}
	if (!keys_ready(c, k, r))
		return;
	for (size_t i = 0; i < c->n_tables; i++) {
		const pc_table *t = &c->tables[i];
		/* a unique NOT NULL key does not satisfy these settings: only a PRIMARY KEY does,
		 * which has_key does not tell apart, so list the keyless ones (certain failures) */
		if (!t->has_key && !t->on_target)
			pc_list_add(&list, &n, LIST_MAX, t->db, t->name);
	}
	pc_list_end(&list, n, LIST_MAX);
	if (!n) {
		pc_pass(r, "the target requires a primary key (%s = ON); no selected table lacks a key",
			on1 ? "sql_require_primary_key" : "innodb_force_primary_key");
		return;
	}
	if (pc_copies(c)) {
		pc_fail(r, "the target requires a primary key (%s = ON), so creating %s there fails: %s without one",
			on1 ? "sql_require_primary_key" : "innodb_force_primary_key", list.data, n == 1 ? "it is" : "they are");
		pc_fix(r, "SET GLOBAL %s = OFF on the target for the migration, or create the tables there yourself with a "
			  "primary key first, or add primary keys on the source.",
		       on1 ? "sql_require_primary_key" : "innodb_force_primary_key");
	} else {
		pc_warn(r, "the target requires a primary key (%s = ON): a replicated CREATE TABLE of a table like %s "
			   "(no primary key) would fail there",
			on1 ? "sql_require_primary_key" : "innodb_force_primary_key", list.data);
		pc_fix(r, "SET GLOBAL %s = OFF on the target while the job runs.",
		       on1 ? "sql_require_primary_key" : "innodb_force_primary_key");
	}
	tidm_buf_dispose(&list);
}

/* --- target tables ----------------------------------------------------------------------- */

PC_ITEM(pc_item_target_tables)
{
	tidm_buf miss = TIDM_BUF_INIT, views = TIDM_BUF_INIT;
	size_t n = 0, nv = 0;
	bool past = c->cfg->start_gtid || c->cfg->start_binlog_file;

	if (c->cfg->type != TIDM_JOB_INCREMENTAL) {
		pc_pass(r, "not needed: the job creates the tables on the target");
		return;
	}
	if (c->job_exists) {
		pc_pass(r, "the job has run before (state %s): its tables were checked then", c->job_state);
		return;
	}
	if (c->tgt_rc < 0) {
		pc_warn(r, "not checked: the target connection failed");
		return;
	}
	if (!tables_ready(c, k, r))
		return;
	for (size_t i = 0; i < c->n_tables; i++) {
		const pc_table *t = &c->tables[i];
		if (!t->on_target)
			pc_list_add(&miss, &n, LIST_MAX, t->db, t->name);
		else if (t->target_view)
			pc_list_add(&views, &nv, LIST_MAX, t->db, t->name);
	}
	pc_list_end(&miss, n, LIST_MAX);
	pc_list_end(&views, nv, LIST_MAX);
	if (nv) {
		pc_fail(r, "%s %s a view on the target, not a table: replicated rows cannot be written into %s", views.data,
			nv == 1 ? "is" : "are", nv == 1 ? "it" : "them");
		pc_fix(r, "Drop the view%s on the target and create the table%s with the source's definition.",
		       nv == 1 ? "" : "s", nv == 1 ? "" : "s");
	} else if (n && !past) {
		pc_fail(r,
			"cannot fetch downstream table schema of %s: the table%s not exist on the target (Error 1146); an "
			"incremental job needs every selected table created on the target first",
			miss.data, n == 1 ? " does" : "s do");
		pc_fix(r, "Create the table%s on the target with the source's definition (SHOW CREATE TABLE on the "
			  "source), or use type: all to copy them.",
		       n == 1 ? "" : "s");
	} else if (n) {
		pc_pass(r,
			"%s do%s not exist on the target yet; the job starts from a past position, so the binary log from "
			"there must create %s (otherwise the job stops, naming the table, when it reaches its rows)",
			miss.data, n == 1 ? "es" : "", n == 1 ? "it" : "them");
	} else {
		pc_pass(r, "all %zu selected tables exist on the target", c->n_tables);
	}
	/* the failing line above names the table twice on purpose: once as the reference
	 * prints it, once in plain words */
	tidm_buf_dispose(&miss);
	tidm_buf_dispose(&views);
}

PC_ITEM(pc_item_physical_empty)
{
	size_t nbad = 0, checked = 0;
	tidm_buf list = TIDM_BUF_INIT;

	if (c->cfg->mode != TIDM_MODE_PHYSICAL || !pc_copies(c)) {
		pc_pass(r, "not needed: %s", c->cfg->mode != TIDM_MODE_PHYSICAL ? "mode logical writes into tables with rows too"
										 : "a type incremental job copies nothing");
		return;
	}
	if (c->job_exists) {
		pc_pass(r, "the job has run before (state %s): its tables were checked when it started", c->job_state);
		return;
	}
	if (c->tgt_rc < 0) {
		pc_warn(r, "not checked: the target connection failed");
		return;
	}
	if (c->tgt_info.flavor == TIDM_FLAVOR_TIDB && c->tgt_info.tidb_pitr_active) {
		pc_fail(r, "the target TiDB cluster runs a PITR log backup or a changefeed: physical import bypasses "
			   "them, so they would miss the imported data");
		pc_fix(r, "Stop the log backup task (br log stop) and changefeeds for the import, or use mode: logical.");
		return;
	}
	if (!tables_ready(c, k, r))
		return;
	if (nonempty_on_target(c, k, r, any_table, &list, &nbad, &checked) < 0)
		goto out;
	if (nbad) {
		pc_fail(r, "mode physical writes only into empty tables, and %s on the target hold%s rows", list.data,
			nbad == 1 ? "s" : "");
		pc_fix(r, "Empty or drop %s on the target, or use mode: logical (which replaces rows by key).",
		       nbad == 1 ? "it" : "them");
	} else {
		pc_pass(r, "every selected table that exists on the target is empty (%zu of %zu exist)", checked,
			c->n_tables);
	}
out:
	tidm_buf_dispose(&list);
}

static bool selected(const pc_ctx *c, const char *db, const char *t)
{
	return db && t && tidm_filter_match_table(&c->cfg->objects, db, t) && !tidm_filter_is_system_schema(db);
}

static bool db_selected(const pc_ctx *c, const char *db)
{
	size_t lo = 0, hi = c->n_dbs;
	while (db && lo < hi) {
		size_t mid = (lo + hi) / 2;
		int d = strcmp(c->dbs[mid], db);
		if (!d)
			return true;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

PC_ITEM(pc_item_target_triggers)
{
	tidm_conn *tgt;
	tidm_res *res = NULL;
	tidm_buf list = TIDM_BUF_INIT;
	size_t n = 0;

	if (c->tgt_rc < 0) {
		pc_warn(r, "not checked: the target connection failed");
		return;
	}
	if (!(tgt = pc_tgt(k))) {
		pc_cannot(r, "the target's triggers");
		return;
	}
	if (tidm_conn_query(tgt, &res,
			    "SELECT EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION "
			    "FROM information_schema.TRIGGERS ORDER BY 1, 2, 3") < 0) {
		pc_cannot(r, "the target's triggers (information_schema.TRIGGERS)");
		return;
	}
	while (tidm_res_next(res) == 1) {
		const char *db = tidm_res_get(res, 0), *t = tidm_res_get(res, 1), *name = tidm_res_get(res, 2),
			   *when = tidm_res_get(res, 3), *what = tidm_res_get(res, 4);
		if (!selected(c, db, t))
			continue;
		if (n < LIST_MAX) {
			if (n)
				tidm_buf_puts(&list, ", ");
			tidm_quote_qualified(&list, db, t);
			tidm_buf_puts(&list, " (trigger ");
			tidm_quote_ident(&list, name ? name : "");
			tidm_buf_printf(&list, " %s %s)", when ? when : "", what ? what : "");
		}
		n++;
	}
	tidm_res_free(res);
	pc_list_end(&list, n, LIST_MAX);
	if (!n)
		pc_pass(r, "no selected table has a trigger on the target");
	else if (c->cfg->target.allow_triggers)
		pc_pass(r, "the target has %zu trigger%s on selected tables: %s; the job allows them (target: {triggers: "
			   "allow}): they fire for every row tidm writes",
			n, n == 1 ? "" : "s", list.data);
	else {
		pc_fail(r, "the target has %zu trigger%s on selected tables: %s; they would run for every row tidm writes "
			   "there (the copy and each replicated change) and may change or add rows beyond the source's "
			   "(whose own triggers' effects already come as rows)",
			n, n == 1 ? "" : "s", list.data);
		pc_fix(r, "Drop them on the target (DROP TRIGGER) and create them again after the migration, or set "
			  "triggers: allow under target in the job file to let them run.");
	}
	tidm_buf_dispose(&list);
}

/* --- objects not migrated, generated columns --------------------------------------------- */

static void collect(pc_ctx *c, tidm_conn *src, const char *sql, const char *kind, bool by_table, tidm_buf *list,
		    size_t *n, int *rc)
{
	tidm_res *res = NULL;
	if (*rc < 0)
		return;
	if ((*rc = tidm_conn_query(src, &res, sql)) < 0)
		return;
	while (tidm_res_next(res) == 1) {
		const char *db = tidm_res_get(res, 0), *name = tidm_res_get(res, 1), *t = by_table ? tidm_res_get(res, 2) : NULL;
		if (by_table ? !selected(c, db, t) : !db_selected(c, db))
			continue;
		if (*n < LIST_MAX) {
			if (*n)
				tidm_buf_puts(list, ", ");
			tidm_buf_printf(list, "%s ", kind);
			tidm_quote_qualified(list, db ? db : "", name ? name : "");
		}
		(*n)++;
	}
	tidm_res_free(res);
}

PC_ITEM(pc_item_source_objects)
{
	tidm_conn *src;
	tidm_buf list = TIDM_BUF_INIT;
	size_t n = 0;
	int rc = 0;

	if (!tables_ready(c, k, r))
		return;
	if (!(src = pc_src(k))) {
		pc_cannot(r, "the source's triggers, events and routines");
		return;
	}
	collect(c, src,
		"SELECT TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS "
		"ORDER BY 1, 2",
		"trigger", true, &list, &n, &rc);
	collect(c, src, "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES ORDER BY 1, 2",
		"routine", false, &list, &n, &rc);
	collect(c, src, "SELECT EVENT_SCHEMA, EVENT_NAME FROM information_schema.EVENTS ORDER BY 1, 2", "event", false,
		&list, &n, &rc);
	if (rc < 0) {
		tidm_buf_dispose(&list);
		pc_cannot(r, "the source's triggers, events and routines");
		return;
	}
	pc_list_end(&list, n, LIST_MAX);
	if (!n)
		pc_pass(r, "the selected databases have no triggers, events or stored routines");
	else {
		pc_warn(r,
			"the selected databases have %s. tidm does not migrate triggers, events, stored procedures or "
			"functions: the target gets the rows they produced on the source (replicated as rows), not the "
			"objects",
			list.data);
		pc_fix(r, "Create them on the target at cut-over (mysqldump --no-data --no-create-info --triggers "
			  "--routines --events gives their definitions), then ignore this item (precheck: {ignore: "
			  "[source-objects]}).");
	}
	tidm_buf_dispose(&list);
}

PC_ITEM(pc_item_generated_columns)
{
	tidm_buf list = TIDM_BUF_INIT;
	const char *err;
	size_t n = 0;

	if (c->src_rc < 0) {
		pc_warn(r, "not checked: the source connection failed");
		return;
	}
	if (pc_need_columns(c, k, &err) < 0) {
		tidm_err_set(TIDM_ERROR, "%s", err);
		pc_cannot(r, "the source's generated columns");
		return;
	}
	for (size_t i = 0; i < c->n_columns; i++) {
		const pc_column *col = &c->columns[i];
		if (!col->generated)
			continue;
		if (n < LIST_MAX) {
			if (n)
				tidm_buf_puts(&list, ", ");
			tidm_quote_qualified(&list, col->db, col->table);
			tidm_buf_putc(&list, '.');
			tidm_quote_ident(&list, col->name);
		}
		n++;
	}
	pc_list_end(&list, n, LIST_MAX);
	if (!n)
		pc_pass(r, "no selected table has generated columns");
	else if (c->tgt_info.flavor == TIDM_FLAVOR_TIDB)
		pc_warn(r,
			"generated columns: %s. Their values are not copied: the target computes them from its own "
			"definition, and TiDB accepts fewer generation expressions than MySQL (no stored functions, "
			"subqueries or non-deterministic functions)",
			list.data);
	else
		pc_pass(r, "generated columns: %s. Their values are not copied or replicated: the target computes them "
			   "from the same expressions",
			list.data);
	if (n && c->tgt_info.flavor == TIDM_FLAVOR_TIDB)
		pc_fix(r, "Check that TiDB accepts each expression (CREATE TABLE on a test database), then ignore this "
			  "item.");
	tidm_buf_dispose(&list);
}

/* --- collations and engines -------------------------------------------------------------- */

typedef struct used {
	char *name;
	tidm_buf where;
	size_t n;
	char *last_db, *last_t; /* the last place added (a table's columns and its default) */
} used;

static void use_add(used **u, size_t *n, const char *name, const char *db, const char *t)
{
	size_t i;
	for (i = 0; i < *n; i++)
		if (!strcasecmp((*u)[i].name, name))
			break;
	if (i == *n) {
		used *nu = realloc(*u, (*n + 1) * sizeof(used));
		if (!nu)
			return;
		*u = nu;
		memset(&nu[i], 0, sizeof(used));
		nu[i].name = strdup(name);
		(*n)++;
	}
	{
		used *x = &(*u)[i];
		if (x->last_db && !strcmp(x->last_db, db) &&
		    ((!t && !x->last_t) || (t && x->last_t && !strcmp(x->last_t, t))))
			return;
		free(x->last_db);
		free(x->last_t);
		x->last_db = strdup(db);
		x->last_t = t ? strdup(t) : NULL;
		pc_list_add(&x->where, &x->n, 3, db, t);
	}
}

static void uses_free(used *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(u[i].name);
		free(u[i].last_db);
		free(u[i].last_t);
		tidm_buf_dispose(&u[i].where);
	}
	free(u);
}

/* The target's names of one information_schema column, sorted. */
static bool in_target_set(char **set, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(set[i], name))
			return true;
	return false;
}

static int target_set(tidm_conn *tgt, const char *sql, char ***out, size_t *n)
{
	tidm_res *res = NULL;
	int rc = tidm_conn_query(tgt, &res, sql);
	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	*out = calloc(tidm_res_rows(res) + 1, sizeof(char *));
	if (!*out) {
		tidm_res_free(res);
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	}
	while (tidm_res_next(res) == 1) {
		const char *v = tidm_res_get(res, 0);
		if (v)
			(*out)[(*n)++] = strdup(v);
	}
	tidm_res_free(res);
	return 0;
}

static void set_free(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

PC_ITEM(pc_item_collations)
{
	tidm_conn *src, *tgt;
	tidm_res *res = NULL;
	used *u = NULL;
	size_t nu = 0, ncoll = 0;
	char **coll = NULL;
	tidm_buf mapped = TIDM_BUF_INIT, missing = TIDM_BUF_INIT;
	size_t nmapped = 0, nmissing = 0;

	if (c->src_rc < 0 || c->tgt_rc < 0) {
		pc_warn(r, "not checked: the %s connection failed", c->src_rc < 0 ? "source" : "target");
		return;
	}
	if (!(src = pc_src(k)) || !(tgt = pc_tgt(k))) {
		pc_cannot(r, "the collations");
		return;
	}
	/* columns, tables, databases */
	{
		const char *err;
		if (pc_need_columns(c, k, &err) < 0) {
			tidm_err_set(TIDM_ERROR, "%s", err);
			pc_cannot(r, "the source's column collations");
			goto out;
		}
	}
	for (size_t i = 0; i < c->n_columns; i++)
		if (c->columns[i].collation)
			use_add(&u, &nu, c->columns[i].collation, c->columns[i].db, c->columns[i].table);
	if (!tables_ready(c, k, r))
		goto out;
	for (size_t i = 0; i < c->n_tables; i++)
		if (c->tables[i].collation)
			use_add(&u, &nu, c->tables[i].collation, c->tables[i].db, c->tables[i].name);
	if (tidm_conn_query(src, &res, "SELECT SCHEMA_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA") == 0) {
		while (tidm_res_next(res) == 1) {
			const char *db = tidm_res_get(res, 0), *co = tidm_res_get(res, 1);
			if (co && db_selected(c, db))
				use_add(&u, &nu, co, db, NULL);
		}
		tidm_res_free(res);
		res = NULL;
	} else {
		tidm_err_clear();
	}
	/* MariaDB 10.10+ names a collation once for several charsets (uca1400_ai_ci): the full
	 * names (utf8mb4_uca1400_ai_ci) are in COLLATION_CHARACTER_SET_APPLICABILITY */
	if (target_set(tgt,
		       "SELECT FULL_COLLATION_NAME FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY "
		       "UNION SELECT COLLATION_NAME FROM information_schema.COLLATIONS",
		       &coll, &ncoll) < 0) {
		tidm_err_clear();
		if (target_set(tgt, "SELECT COLLATION_NAME FROM information_schema.COLLATIONS", &coll, &ncoll) < 0) {
			pc_cannot(r, "the target's collations");
			goto out;
		}
	}
	for (size_t i = 0; i < nu; i++) {
		const char *why = NULL, *to;
		if (in_target_set(coll, ncoll, u[i].name))
			continue;
		to = tidm_dialect_map_collation(c->tgt_info.flavor, c->tgt_info.version, u[i].name, &why);
		pc_list_end(&u[i].where, u[i].n, 3);
		if (to && strcasecmp(to, u[i].name) != 0 && in_target_set(coll, ncoll, to)) {
			tidm_buf_printf(&mapped, "%s%s -> %s (%s; used by %s)", nmapped++ ? "; " : "", u[i].name, to,
					why ? why : "the target lacks it", u[i].where.data);
		} else {
			tidm_buf_printf(&missing, "%s%s (used by %s)", nmissing++ ? "; " : "", u[i].name, u[i].where.data);
		}
	}
	if (nmissing) {
		pc_fail(r, "the target lacks collation%s tidm cannot map to one it has: %s", nmissing == 1 ? "" : "s",
			missing.data);
		pc_fix(r, "Change those columns to a collation the target has (ALTER TABLE ... CONVERT TO CHARACTER SET "
			  "... COLLATE ... on the source), or upgrade the target.");
	} else if (nmapped) {
		pc_warn(r,
			"the target lacks %zu collation%s used by the selected tables; tidm maps %s: %s. Sorting and "
			"comparison of those columns on the target follow the new collation",
			nmapped, nmapped == 1 ? "" : "s", nmapped == 1 ? "it" : "them", mapped.data);
		pc_fix(r, "Check that the mapped collations compare as your applications expect (unique keys, ORDER BY), "
			  "then ignore this item (precheck: {ignore: [collations]}).");
	} else {
		pc_pass(r, "the target has every collation the selected tables use (%zu)", nu);
	}
out:
	tidm_res_free(res);
	uses_free(u, nu);
	set_free(coll, ncoll);
	tidm_buf_dispose(&mapped);
	tidm_buf_dispose(&missing);
}

PC_ITEM(pc_item_engines)
{
	tidm_conn *tgt;
	char **eng = NULL;
	size_t neng = 0, nu = 0, nbad = 0, ncomp = 0;
	used *u = NULL;
	tidm_buf bad = TIDM_BUF_INIT, comp = TIDM_BUF_INIT;
	const char *roc;

	if (!tables_ready(c, k, r))
		return;
	if (c->tgt_rc < 0) {
		pc_warn(r, "not checked: the target connection failed");
		return;
	}
	if (c->tgt_info.flavor == TIDM_FLAVOR_TIDB) {
		pc_pass(r, "TiDB has one storage engine: ENGINE and ROW_FORMAT are left out of the tables tidm creates");
		return;
	}
	if (!(tgt = pc_tgt(k)) ||
	    target_set(tgt, "SELECT ENGINE FROM information_schema.ENGINES WHERE SUPPORT IN ('YES', 'DEFAULT')", &eng,
		       &neng) < 0) {
		pc_cannot(r, "the target's storage engines");
		return;
	}
	roc = pc_var(&c->tvars, "innodb_read_only_compressed");
	for (size_t i = 0; i < c->n_tables; i++) {
		const pc_table *t = &c->tables[i];
		if (t->on_target)
			continue; /* tidm does not create it */
		if (t->engine && !in_target_set(eng, neng, t->engine))
			use_add(&u, &nu, t->engine, t->db, t->name);
	}
	/* compressed tables matter only to a target that keeps them read-only; finding them
	 * opens every table (information_schema.TABLES.ROW_FORMAT), so only then */
	if (roc && (!strcmp(roc, "1") || !strcasecmp(roc, "ON"))) {
		tidm_conn *src = pc_src(k);
		tidm_res *res = NULL;
		if (!src || tidm_conn_query(src, &res,
					    "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE ROW_FORMAT = "
					    "'Compressed' AND TABLE_SCHEMA NOT IN ('mysql','information_schema',"
					    "'performance_schema','sys') ORDER BY 1, 2") < 0) {
			tidm_buf_dispose(&comp);
			uses_free(u, nu);
			set_free(eng, neng);
			pc_cannot(r, "the source's compressed tables");
			return;
		}
		while (tidm_res_next(res) == 1) {
			const char *d = tidm_res_get(res, 0), *t = tidm_res_get(res, 1);
			if (selected(c, d, t))
				pc_list_add(&comp, &ncomp, 5, d, t);
		}
		tidm_res_free(res);
	}
	for (size_t i = 0; i < nu; i++) {
		pc_list_end(&u[i].where, u[i].n, 3);
		tidm_buf_printf(&bad, "%s%s (%s)", nbad++ ? "; " : "", u[i].name, u[i].where.data);
	}
	pc_list_end(&comp, ncomp, 5);
	if (nbad) {
		pc_fail(r, "the target lacks storage engine%s the selected tables use: %s; creating them there fails",
			nbad == 1 ? "" : "s", bad.data);
		pc_fix(r, "Install the engine on the target (INSTALL SONAME ...), or change those tables' engine on the "
			  "source (ALTER TABLE ... ENGINE = InnoDB), or create them on the target yourself before the job.");
	} else if (ncomp) {
		pc_fail(r, "%s use ROW_FORMAT=COMPRESSED, which the target keeps read-only (innodb_read_only_compressed = "
			   "ON): tidm could create but not fill them",
			comp.data);
		pc_fix(r, "SET GLOBAL innodb_read_only_compressed = OFF on the target, or change the row format.");
	} else {
		pc_pass(r, "the target has every storage engine and row format the selected tables use");
	}
	uses_free(u, nu);
	set_free(eng, neng);
	tidm_buf_dispose(&bad);
	tidm_buf_dispose(&comp);
}

/* --- settings that differ ---------------------------------------------------------------- */

static bool both(pc_ctx *c, pc_result *r)
{
	if (c->src_rc < 0 || c->tgt_rc < 0) {
		pc_warn(r, "not checked: the %s connection failed", c->src_rc < 0 ? "source" : "target");
		return false;
	}
	return true;
}

PC_ITEM(pc_item_lower_case_table_names)
{
	const char *s = pc_var(&c->svars, "lower_case_table_names"), *t = pc_var(&c->tvars, "lower_case_table_names");
	(void)k;
	if (!both(c, r))
		return;
	if (!s || !t || !strcmp(s, t)) {
		pc_pass(r, "lower_case_table_names = %s on both", s ? s : t ? t : "(unknown)");
		return;
	}
	pc_warn(r, "lower_case_table_names is %s on the source and %s on the target: tables whose names differ only in "
		   "letter case on the source %s on the target, and names change case",
		s, t, !strcmp(t, "0") ? "stay apart" : "collide");
	pc_fix(r, "Use the same setting on both (it is fixed when the target's data directory is created), or make "
		  "sure no two selected names differ only in case; then ignore this item.");
}

PC_ITEM(pc_item_sql_mode)
{
	const char *s = pc_var(&c->svars, "sql_mode"), *t = pc_var(&c->tvars, "sql_mode");
	(void)k;
	if (!both(c, r))
		return;
	if (!s || !t || !strcasecmp(s, t)) {
		pc_pass(r, "the same global sql_mode on both%s%s", s ? ": " : "", s ? s : "");
		return;
	}
	pc_warn(r, "the global sql_mode differs: source \"%s\", target \"%s\". tidm writes with its own session "
		   "settings, so the migrated rows are the same; the applications see the target's mode after cut-over "
		   "(zero dates, strictness, GROUP BY rules)",
		s, t);
	pc_fix(r, "Set the target's sql_mode to the source's (SET GLOBAL sql_mode = '...' and its configuration) if the "
		  "applications depend on it, then ignore this item.");
}

static const char *effective_tz(const pc_vars *v)
{
	const char *tz = pc_var(v, "time_zone");
	if (tz && !strcasecmp(tz, "SYSTEM")) {
		const char *sys = pc_var(v, "system_time_zone");
		return sys ? sys : tz;
	}
	return tz;
}

PC_ITEM(pc_item_time_zone)
{
	const char *s = effective_tz(&c->svars), *t = effective_tz(&c->tvars);
	(void)k;
	if (!both(c, r))
		return;
	if (!s || !t || !strcasecmp(s, t)) {
		pc_pass(r, "the same time zone on both (%s)", s ? s : t ? t : "unknown");
		return;
	}
	pc_warn(r, "the time zone differs: source %s, target %s. tidm copies TIMESTAMP values in UTC, so they stay "
		   "exact; but NOW(), CURRENT_TIMESTAMP defaults and DATETIME values the applications compute differ "
		   "after cut-over",
		s, t);
	pc_fix(r, "Set the target's time_zone to the source's (SET GLOBAL time_zone = '...'), then ignore this item.");
}
