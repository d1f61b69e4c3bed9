/*
 * create.c - databases, tables and views on the target.
 *
 * DESIGN
 *  Schema: databases, then tables (SHOW CREATE TABLE, adapted to the target dialect by
 *  db/dialect), then views (definer removed; several passes for views on views). A table
 *  tidm creates leaves out its plain secondary indexes (tidm_dialect_split_keys; not when
 *  another table's foreign key points at it: mark_referenced); they are kept in
 *  tidm_meta.tables.deferred_keys and built with one ALTER TABLE when the table's last
 *  chunk is done (full_finish_table), also by a resumed run. A target table tidm made before is
 *  recognised by the definition it stored (stored_create, full_forget_table).
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

static bool db_done_before(const run *r, size_t upto, const char *db)
{
	size_t k;
	for (k = 0; k < upto; k++)
		if (!strcmp(r->tables[k].db, db))
			return true;
	return false;
}

static int create_database(run *r, tidm_conn *src, tidm_conn *tgt, const char *db, tidm_buf *report)
{
	const tidm_server_info *ti = tidm_conn_info(tgt);
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc;

	(void)r;
	tidm_buf_puts(&q, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
			  "WHERE SCHEMA_NAME = ");
	full_put_str(&q, db);
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	tidm_buf_clear(&q);
	tidm_buf_puts(&q, "CREATE DATABASE IF NOT EXISTS ");
	tidm_quote_ident(&q, db);
	if (tidm_res_next(res) == 1) {
		const char *why = NULL;
		const char *coll = tidm_res_get(res, 1);
		const char *mapped = tidm_dialect_map_collation(ti->flavor, ti->version, coll, &why);
		if (mapped) {
			if (strcmp(mapped, coll) != 0)
				tidm_buf_printf(report, "database `%s`: collation %s mapped to %s (%s)\n", db, coll,
						mapped, why ? why : "target lacks it");
			tidm_buf_puts(&q, " COLLATE ");
			tidm_buf_puts(&q, mapped);
		}
	}
	rc = tidm_conn_exec(tgt, q.data, q.len);
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

/* "CREATE TABLE `t`" → "CREATE TABLE IF NOT EXISTS `t`" (first occurrence only). */
static void if_not_exists(tidm_buf *out, const char *sql, const char *prefix)
{
	size_t n = strlen(prefix);

	if (!strncmp(sql, prefix, n)) {
		tidm_buf_put(out, sql, n);
		tidm_buf_puts(out, " IF NOT EXISTS");
		tidm_buf_puts(out, sql + n);
	} else {
		tidm_buf_puts(out, sql);
	}
}

static int use_db(tidm_conn *c, const char *db)
{
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	tidm_buf_puts(&q, "USE ");
	tidm_quote_ident(&q, db);
	rc = tidm_conn_exec(c, q.data, q.len);
	tidm_buf_dispose(&q);
	return rc;
}

/* The definition stored when the table's plan was made (NULL when none). */
static char *stored_create(run *r, tidm_conn *tgt, const table *t)
{
	tidm_buf q = TIDM_BUF_INIT;
	char *v = NULL;

	tidm_buf_puts(&q, "SELECT `create_sql` FROM `" META_DB "`.`tables` WHERE `job` = ");
	full_put_str(&q, r->cfg->name);
	tidm_buf_puts(&q, " AND `db` = ");
	full_put_str(&q, t->db);
	tidm_buf_puts(&q, " AND `tbl` = ");
	full_put_str(&q, t->name);
	if (tidm_conn_query_value(tgt, &v, q.data) < 0) {
		tidm_err_clear();
		v = NULL;
	}
	tidm_buf_dispose(&q);
	return v;
}

/* Forget a table's plan and finished chunks: it is copied again from scratch. */
int full_forget_table(run *r, tidm_conn *tgt, const table *t)
{
	const char *tbls[] = {"chunks", "tables"};
	tidm_buf q = TIDM_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < 2 && rc == 0; i++) {
		tidm_buf_clear(&q);
		tidm_buf_printf(&q, "DELETE FROM `" META_DB "`.`%s` WHERE `job` = ", tbls[i]);
		full_put_str(&q, r->cfg->name);
		tidm_buf_puts(&q, " AND `db` = ");
		full_put_str(&q, t->db);
		tidm_buf_puts(&q, " AND `tbl` = ");
		full_put_str(&q, t->name);
		rc = tidm_conn_exec(tgt, q.data, q.len);
	}
	if (rc == 0) {
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "DROP TABLE IF EXISTS ");
		tidm_quote_qualified(&q, t->db, t->name);
		rc = tidm_conn_exec(tgt, q.data, q.len);
	}
	tidm_buf_dispose(&q);
	return rc;
}

/* " WHERE `job` = .. AND `db` = .. AND `tbl` = .." for t's row in tidm_meta. */
static void put_table_where(tidm_buf *q, const run *r, const table *t)
{
	tidm_buf_puts(q, " WHERE `job` = ");
	full_put_str(q, r->cfg->name);
	tidm_buf_puts(q, " AND `db` = ");
	full_put_str(q, t->db);
	tidm_buf_puts(q, " AND `tbl` = ");
	full_put_str(q, t->name);
}

/* Does `select` ("SELECT COUNT(*) FROM .. WHERE <db column> = "), completed with t's
 * database and "AND <name_col> = " t's name, count any row? An error counts as yes. */
static int count_table_rows(tidm_conn *c, const char *select, const char *name_col, const table *t, bool *any)
{
	tidm_buf q = TIDM_BUF_INIT;
	char *v = NULL;
	int rc;

	tidm_buf_puts(&q, select);
	full_put_str(&q, t->db);
	tidm_buf_printf(&q, " AND %s = ", name_col);
	full_put_str(&q, t->name);
	rc = tidm_conn_query_value(c, &v, q.data);
	*any = rc < 0 || !v || strcmp(v, "0") != 0;
	free(v);
	tidm_buf_dispose(&q);
	return rc;
}

static int target_has_table(tidm_conn *tgt, const table *t, bool *exists)
{
	return count_table_rows(tgt, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ",
				"TABLE_NAME", t, exists);
}

/*
 * Before anything is written: a source table whose name is a view or a sequence on the
 * target would be written through it (CREATE TABLE IF NOT EXISTS passes over the name, and
 * LOAD DATA into a view fills its base table). One query for the target's views and
 * sequences; refused naming each, nothing written.
 */
int full_check_target_kinds(run *r, tidm_conn *tgt)
{
	tidm_res *res = NULL;
	tidm_buf bad = TIDM_BUF_INIT;
	size_t k;
	int rc;

	rc = tidm_conn_query(tgt, &res,
			     "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
			     "WHERE TABLE_TYPE IN ('VIEW', 'SEQUENCE') "
			     "AND TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')");
	if (rc < 0) {
		tidm_err_prefix("cannot list the target's views and sequences: ");
		return rc;
	}
	while (tidm_res_next(res) == 1) {
		const char *db = tidm_res_get(res, 0), *name = tidm_res_get(res, 1), *type = tidm_res_get(res, 2);
		if (!db || !name || !type)
			continue;
		for (k = 0; k < r->ntables; k++) {
			const table *t = &r->tables[k];
			if (t->is_view || strcmp(t->db, db) != 0 || strcmp(t->name, name) != 0)
				continue;
			tidm_buf_printf(&bad, "%s`%s`.`%s` (a %s there)", bad.len ? ", " : "", db, name,
					!strcmp(type, "VIEW") ? "view" : "sequence");
		}
	}
	tidm_res_free(res);
	if (bad.len)
		rc = tidm_err_set(TIDM_EINVAL,
				  "source table%s %s: the target has a view or sequence of that name, and rows copied "
				  "there would go through it. Nothing was written. Drop or rename it on the target, or "
				  "leave the table out of the job's selection",
				  strchr(bad.data, ',') ? "s" : "", bad.data);
	tidm_buf_dispose(&bad);
	return rc;
}

/*
 * Mark the tables a foreign key points at (they may need their indexes from the start):
 * one query for the whole source (information_schema per table is slow on big MySQL 5.7
 * schemas). When it cannot be read, every table counts as referenced.
 */
static void mark_referenced(run *r, tidm_conn *src)
{
	tidm_res *res = NULL;
	size_t k;

	if (tidm_conn_query(src, &res, "SELECT DISTINCT UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME "
				       "FROM information_schema.REFERENTIAL_CONSTRAINTS") < 0) {
		tidm_debug("cannot list the source's foreign keys (%s): no index is built after the rows",
			   tidm_err_msg());
		tidm_err_clear();
		for (k = 0; k < r->ntables; k++)
			r->tables[k].referenced = true;
		return;
	}
	while (tidm_res_next(res) == 1) {
		const char *db = tidm_res_get(res, 0), *name = tidm_res_get(res, 1);
		for (k = 0; db && name && k < r->ntables; k++)
			if (!strcmp(r->tables[k].db, db) && !strcmp(r->tables[k].name, name))
				r->tables[k].referenced = true;
	}
	tidm_res_free(res);
}

/*
 * The last chunk of t is done: build the secondary indexes its CREATE TABLE left out
 * (create_table), then forget them. One ALTER for all (one pass over the rows); one per
 * index on TiDB (multi-schema change only from 6.2), and one by one when some already
 * exist (a run stopped between the ALTER and forgetting it).
 */
int full_finish_table(run *r, tidm_conn *tgt, table *t)
{
	tidm_buf q = TIDM_BUF_INIT;
	char *keys = NULL;
	const char *p, *nl;
	unsigned n = 0;
	double t0;
	struct timespec ts;
	int rc;

	tidm_buf_puts(&q, "SELECT `deferred_keys` FROM `" META_DB "`.`tables`");
	put_table_where(&q, r, t);
	if ((rc = tidm_conn_query_value(tgt, &keys, q.data)) < 0 || !keys || !*keys)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	rc = -1;
	if (tidm_conn_info(tgt)->flavor != TIDM_FLAVOR_TIDB) {
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "ALTER TABLE ");
		tidm_quote_qualified(&q, t->db, t->name);
		for (p = keys; *p; p = nl + 1) {
			if (!(nl = strchr(p, '\n')))
				break;
			tidm_buf_puts(&q, n++ ? ", " : " ");
			tidm_buf_put(&q, p, (size_t)(nl - p));
		}
		rc = tidm_conn_exec(tgt, q.data, q.len);
		if (rc < 0 && tidm_err_dberr() != 1061) /* ER_DUP_KEYNAME */
			goto fail;
	}
	if (rc < 0) {
		n = 0;
		for (p = keys; *p; p = nl + 1) {
			if (!(nl = strchr(p, '\n')))
				break;
			tidm_buf_clear(&q);
			tidm_buf_puts(&q, "ALTER TABLE ");
			tidm_quote_qualified(&q, t->db, t->name);
			tidm_buf_putc(&q, ' ');
			tidm_buf_put(&q, p, (size_t)(nl - p));
			if ((rc = tidm_conn_exec(tgt, q.data, q.len)) < 0 && tidm_err_dberr() != 1061)
				goto fail;
			n++;
		}
	}
	tidm_buf_clear(&q);
	tidm_buf_puts(&q, "UPDATE `" META_DB "`.`tables` SET `deferred_keys` = NULL");
	put_table_where(&q, r, t);
	if ((rc = tidm_conn_exec(tgt, q.data, q.len)) < 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	tidm_info("`%s`.`%s`: %u secondary index%s built after the rows (%.1f s)", t->db, t->name, n, n == 1 ? "" : "es",
		  (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - t0);
	goto out;
fail:
	tidm_err_prefix("building the secondary indexes of `%s`.`%s` on the target: ", t->db, t->name);
out:
	free(keys);
	tidm_buf_dispose(&q);
	return rc;
}

static int create_table(run *r, tidm_conn *src, tidm_conn *tgt, table *t, tidm_buf *report)
{
	const tidm_server_info *si = tidm_conn_info(src), *ti = tidm_conn_info(tgt);
	tidm_buf q = TIDM_BUF_INIT, adapted = TIDM_BUF_INIT, sql = TIDM_BUF_INIT, rep = TIDM_BUF_INIT;
	tidm_buf now = TIDM_BUF_INIT, then = TIDM_BUF_INIT, stripped = TIDM_BUF_INIT, keys = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	char *stored = NULL;
	bool exists;
	int rc;

	free(t->create_sql);
	t->create_sql = NULL;
	if (t->snap_create) {
		t->create_sql = strdup(t->snap_create);
	} else {
		tidm_buf_puts(&q, "SHOW CREATE TABLE ");
		tidm_quote_qualified(&q, t->db, t->name);
		if ((rc = tidm_conn_query(src, &res, q.data)) < 0) {
			if (rc == TIDM_ENOTFOUND)
				tidm_err_set(rc, "table `%s`.`%s` was dropped on the source during the migration",
					     t->db, t->name);
			goto out;
		}
		if (tidm_res_next(res) != 1 || tidm_res_cols(res) < 2) {
			rc = tidm_err_set(TIDM_ERROR, "SHOW CREATE TABLE `%s`.`%s` returned nothing", t->db, t->name);
			goto out;
		}
		t->create_sql = strdup(tidm_res_get(res, 1));
	}
	if (!t->create_sql)
		abort();
	if (r->resumed && (stored = stored_create(r, tgt, t)) != NULL) {
		/* The table changed on the source since an earlier run made it on the target: the
		 * chunks copied then do not fit the new definition. Copy the table again. */
		tidm_showcreate_sans_counters(&now, t->create_sql, strlen(t->create_sql));
		tidm_showcreate_sans_counters(&then, stored, strlen(stored));
		if (strcmp(now.data, then.data) != 0) {
			tidm_info("`%s`.`%s` changed on the source since the interrupted run: copying it again", t->db,
				  t->name);
			if ((rc = full_forget_table(r, tgt, t)) < 0)
				goto out;
			free(stored);
			stored = NULL;
		}
	}
	if ((rc = tidm_dialect_adapt_create(&adapted, t->create_sql, si->flavor, ti->flavor, ti->version, &rep)) < 0)
		goto out;
	if (rep.len)
		tidm_buf_printf(report, "`%s`.`%s`: %s%s", t->db, t->name, rep.data,
				rep.data[rep.len - 1] == '\n' ? "" : "\n");
	/* A table tidm makes gets its plain secondary indexes after the rows (full_finish_table):
	 * building an index once is much cheaper than maintaining it row by row. */
	if ((rc = target_has_table(tgt, t, &exists)) < 0)
		goto out;
	if (!exists && !t->referenced && tidm_dialect_split_keys(adapted.data, &stripped, &keys) > 0)
		if_not_exists(&sql, stripped.data, "CREATE TABLE");
	else
		if_not_exists(&sql, adapted.data, "CREATE TABLE");
	if ((rc = use_db(tgt, t->db)) < 0 || (rc = tidm_conn_exec(tgt, sql.data, sql.len)) < 0) {
		tidm_err_prefix("cannot create table `%s`.`%s` on the target: ", t->db, t->name);
		goto out;
	}
	if (!stored) {
		/* remember the definition the target table was made from (the plan comes later) */
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "INSERT IGNORE INTO `" META_DB "`.`tables` (`job`,`db`,`tbl`,`chunks`,`create_sql`) VALUES (");
		full_put_str(&q, r->cfg->name);
		tidm_buf_putc(&q, ',');
		full_put_str(&q, t->db);
		tidm_buf_putc(&q, ',');
		full_put_str(&q, t->name);
		tidm_buf_puts(&q, ",0,");
		full_put_str(&q, t->create_sql);
		tidm_buf_putc(&q, ')');
		if ((rc = tidm_conn_exec(tgt, q.data, q.len)) < 0)
			goto out;
	}
	if (keys.len) {
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "UPDATE `" META_DB "`.`tables` SET `deferred_keys` = ");
		full_put_str(&q, keys.data);
		put_table_where(&q, r, t);
		rc = tidm_conn_exec(tgt, q.data, q.len);
	}
out:
	free(stored);
	tidm_buf_dispose(&stripped);
	tidm_buf_dispose(&keys);
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&adapted);
	tidm_buf_dispose(&sql);
	tidm_buf_dispose(&rep);
	tidm_buf_dispose(&now);
	tidm_buf_dispose(&then);
	return rc;
}

/* Remove "DEFINER=`u`@`h` " from a SHOW CREATE VIEW text (the definer may not exist on the target). */
static void strip_definer(tidm_buf *out, const char *sql)
{
	const char *d = strstr(sql, " DEFINER=");
	const char *p;

	if (!d) {
		tidm_buf_puts(out, sql);
		return;
	}
	tidm_buf_put(out, sql, (size_t)(d - sql));
	p = d + 9;
	/* user@host, each part backquoted (doubled backticks inside) or bare */
	while (*p && *p != ' ') {
		if (*p == '`') {
			p++;
			while (*p && !(*p == '`' && p[1] != '`'))
				p += (*p == '`') ? 2 : 1;
			if (*p)
				p++;
		} else {
			p++;
		}
	}
	tidm_buf_puts(out, p);
}

static int create_view(tidm_conn *src, tidm_conn *tgt, table *t)
{
	tidm_buf q = TIDM_BUF_INIT, sql = TIDM_BUF_INIT, tmp = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc;

	tidm_buf_puts(&q, "SHOW CREATE VIEW ");
	tidm_quote_qualified(&q, t->db, t->name);
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	if (tidm_res_next(res) != 1 || tidm_res_cols(res) < 2) {
		rc = tidm_err_set(TIDM_ERROR, "SHOW CREATE VIEW `%s`.`%s` returned nothing", t->db, t->name);
		goto out;
	}
	strip_definer(&tmp, tidm_res_get(res, 1));
	if (!strncmp(tmp.data, "CREATE ", 7)) {
		tidm_buf_puts(&sql, "CREATE OR REPLACE ");
		tidm_buf_puts(&sql, tmp.data + 7);
	} else {
		tidm_buf_put(&sql, tmp.data, tmp.len);
	}
	if ((rc = use_db(tgt, t->db)) == 0)
		rc = tidm_conn_exec(tgt, sql.data, sql.len);
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&sql);
	tidm_buf_dispose(&tmp);
	return rc;
}

int full_create_schema(run *r, tidm_conn *src, tidm_conn *tgt, tidm_buf *report)
{
	size_t k, pending;
	int rc;

	for (k = 0; k < r->ntables; k++) {
		if (!db_done_before(r, k, r->tables[k].db) &&
		    (rc = create_database(r, src, tgt, r->tables[k].db, report)) < 0) {
			tidm_err_prefix("cannot create database `%s` on the target: ", r->tables[k].db);
			return rc;
		}
	}
	mark_referenced(r, src);
	for (k = 0; k < r->ntables; k++)
		if (!r->tables[k].is_view && !atomic_load(&r->tables[k].stale) &&
		    (rc = create_table(r, src, tgt, &r->tables[k], report)) < 0)
			return rc;
	/* Views may use other views: retry the failed ones while each pass makes progress. */
	for (;;) {
		size_t made = 0;
		pending = 0;
		for (k = 0; k < r->ntables; k++) {
			table *t = &r->tables[k];
			if (!t->is_view || t->created)
				continue;
			if (create_view(src, tgt, t) == 0) {
				t->created = true;
				made++;
			} else {
				pending++;
			}
		}
		if (!pending)
			break;
		if (!made) {
			for (k = 0; k < r->ntables; k++)
				if (r->tables[k].is_view && !r->tables[k].created) {
					create_view(src, tgt, &r->tables[k]); /* sets the error again */
					tidm_err_prefix("cannot create view `%s`.`%s` on the target: ", r->tables[k].db,
							r->tables[k].name);
					return TIDM_ERROR;
				}
		}
	}
	return 0;
}
