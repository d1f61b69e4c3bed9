/*
 * snapshot.c - discovery of the source tables and the consistent snapshot.
 *
 * DESIGN
 *  Discover: the selected base tables and views of the source (information_schema,
 *  filtered by the job's tidm_filter; system schemas never), with their insertable
 *  columns and the key chunks are cut along (describe: the primary key, else the
 *  narrowest unique key of NOT NULL columns).
 *  Snapshot: every dump connection starts `START TRANSACTION WITH CONSISTENT SNAPSHOT`
 *  while the coordinator holds FLUSH TABLES WITH READ LOCK (needs RELOAD), or, where that
 *  is refused (RDS, Aurora, Cloud SQL), `LOCK TABLES ... READ` on the selected tables
 *  (needs LOCK TABLES): writers of those tables wait, so the binlog position read under the
 *  lock (read_position) is exactly the snapshot's. The lock is released at once.
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

static int add_table(run *r, const char *db, const char *name, bool is_view, uint64_t est)
{
	table *t;
	table *grown = realloc(r->tables, (r->ntables + 1) * sizeof(*r->tables));

	if (!grown)
		abort();
	r->tables = grown;
	t = &r->tables[r->ntables++];
	memset(t, 0, sizeof(*t));
	t->db = full_xstrdup(db);
	t->name = full_xstrdup(name);
	t->is_view = is_view;
	t->est_rows = est;
	return 0;
}

int full_discover(run *r, tidm_conn *src)
{
	tidm_res *res = NULL;
	size_t k;
	int rc;

	for (k = 0; k < r->ntables; k++)
		full_table_dispose(&r->tables[k]);
	r->ntables = 0;
	rc = tidm_conn_query(src, &res,
			     "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, IFNULL(TABLE_ROWS, 0) "
			     "FROM information_schema.TABLES "
			     "WHERE TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys') "
			     "ORDER BY TABLE_SCHEMA, TABLE_NAME");
	if (rc < 0) {
		tidm_err_prefix("cannot list the source's tables: ");
		return rc;
	}
	while (tidm_res_next(res) == 1) {
		const char *db = tidm_res_get(res, 0), *name = tidm_res_get(res, 1);
		const char *type = tidm_res_get(res, 2);

		if (!tidm_filter_match_table(&r->cfg->objects, db, name))
			continue;
		if (r->round && full_names_has(&r->done_names, db, name) && !full_names_has(&r->stale_names, db, name))
			continue; /* copied by an earlier round */
		if (!strcmp(type, "VIEW"))
			add_table(r, db, name, true, 0);
		else if (!strcmp(type, "BASE TABLE") || !strcmp(type, "SYSTEM VERSIONED"))
			add_table(r, db, name, false, strtoull(tidm_res_get(res, 3), NULL, 10));
		else if (!strcmp(type, "SEQUENCE"))
			continue; /* dump/sequences.c */
		else
			tidm_warn("skipping `%s`.`%s`: %s objects are not migrated", db, name, type);
	}
	tidm_res_free(res);
	return 0;
}

/* Columns (insertable ones) and the chunk key of a base table. */
static int describe(run *r, tidm_conn *src, table *t)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	char *best = NULL;
	bool best_ok = false;
	int rc;
	size_t i;

	(void)r;
	tidm_buf_puts(&q, "SELECT COLUMN_NAME, EXTRA, LOWER(DATA_TYPE) IN ('tinyint','smallint','mediumint','int','bigint') "
			  "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
	full_put_str(&q, t->db);
	tidm_buf_puts(&q, " AND TABLE_NAME = ");
	full_put_str(&q, t->name);
	tidm_buf_puts(&q, " ORDER BY ORDINAL_POSITION");
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	t->cols = calloc(tidm_res_rows(res) + 1, sizeof(char *));
	t->int_cols = calloc(tidm_res_rows(res) + 1, sizeof(char *));
	if (!t->cols || !t->int_cols)
		abort();
	while (tidm_res_next(res) == 1) {
		const char *extra = tidm_res_get(res, 1);
		if (tidm_res_get(res, 2) && !strcmp(tidm_res_get(res, 2), "1"))
			t->int_cols[t->nint_cols++] = full_xstrdup(tidm_res_get(res, 0));
		if (extra && strstr(extra, "GENERATED"))
			continue; /* computed by the target itself */
		t->cols[t->ncols++] = full_xstrdup(tidm_res_get(res, 0));
	}
	tidm_res_free(res);
	res = NULL;
	if (t->ncols == 0) {
		rc = tidm_err_set(TIDM_ENOTFOUND,
				  "table `%s`.`%s` was dropped on the source during the migration", t->db,
				  t->name);
		goto out;
	}

	/* The primary key, else the first unique index whose columns are all NOT NULL. */
	tidm_buf_clear(&q);
	tidm_buf_puts(&q, "SELECT s.INDEX_NAME, s.COLUMN_NAME, c.IS_NULLABLE, s.SUB_PART "
			  "FROM information_schema.STATISTICS s JOIN information_schema.COLUMNS c "
			  "ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME "
			  "AND c.COLUMN_NAME = s.COLUMN_NAME "
			  "WHERE s.NON_UNIQUE = 0 AND s.TABLE_SCHEMA = ");
	full_put_str(&q, t->db);
	tidm_buf_puts(&q, " AND s.TABLE_NAME = ");
	full_put_str(&q, t->name);
	tidm_buf_puts(&q, " ORDER BY s.INDEX_NAME <> 'PRIMARY', s.INDEX_NAME, s.SEQ_IN_INDEX");
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	t->key = calloc(tidm_res_rows(res) + 1, sizeof(char *));
	if (!t->key)
		abort();
	while (tidm_res_next(res) == 1) {
		const char *idx = tidm_res_get(res, 0);
		bool usable = !strcmp(tidm_res_get(res, 2), "NO") && tidm_res_get(res, 3) == NULL;

		if (best && strcmp(best, idx) != 0) {
			if (best_ok)
				break; /* a complete usable key was found */
			/* previous index unusable: start over with this one */
			for (i = 0; i < t->nkey; i++)
				free(t->key[i]);
			t->nkey = 0;
			free(best);
			best = NULL;
		}
		if (!best) {
			best = full_xstrdup(idx);
			best_ok = true;
		}
		if (!usable)
			best_ok = false;
		t->key[t->nkey++] = full_xstrdup(tidm_res_get(res, 1));
	}
	if (!best_ok) {
		for (i = 0; i < t->nkey; i++)
			free(t->key[i]);
		t->nkey = 0;
	}

	if (t->nkey == 1)
		for (i = 0; i < t->nint_cols; i++)
			if (!strcmp(t->int_cols[i], t->key[0]))
				t->key_is_int = true;
	tidm_buf_putc(&t->col_list, '(');
	for (i = 0; i < t->ncols; i++) {
		if (i)
			tidm_buf_putc(&t->col_list, ',');
		tidm_quote_ident(&t->col_list, t->cols[i]);
	}
	tidm_buf_putc(&t->col_list, ')');
	tidm_buf_puts(&t->head, t->nkey ? "REPLACE INTO " : "INSERT INTO ");
	tidm_quote_qualified(&t->head, t->db, t->name);
	tidm_buf_putc(&t->head, ' ');
	tidm_buf_put(&t->head, t->col_list.data, t->col_list.len);
	tidm_buf_puts(&t->head, " VALUES ");
	/* Keyless: without REPLACE, LOAD DATA LOCAL skips duplicates of a unique key with
	 * NULLable columns; load_rows() turns any skipped row into an error. */
	tidm_buf_puts(&t->load_sql, "LOAD DATA LOCAL INFILE 'tidm-rows' ");
	tidm_buf_puts(&t->load_sql, t->nkey ? "REPLACE INTO TABLE " : "INTO TABLE ");
	tidm_quote_qualified(&t->load_sql, t->db, t->name);
	tidm_buf_puts(&t->load_sql, " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' "
				    "LINES TERMINATED BY '\\n' ");
	tidm_buf_put(&t->load_sql, t->col_list.data, t->col_list.len);
out:
	free(best);
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

static int read_position(tidm_conn *src, tidm_snapshot_pos *snap)
{
	const tidm_server_info *info = tidm_conn_info(src);
	tidm_res *res = NULL;
	int rc;

	if (info->flavor == TIDM_FLAVOR_MYSQL && info->version >= 80400)
		rc = tidm_conn_query(src, &res, "SHOW BINARY LOG STATUS");
	else
		rc = tidm_conn_query(src, &res, "SHOW MASTER STATUS");
	if (rc < 0)
		return rc;
	if (tidm_res_next(res) == 1) {
		snprintf(snap->file, sizeof(snap->file), "%s", tidm_res_get(res, 0) ? tidm_res_get(res, 0) : "");
		snap->pos = strtoull(tidm_res_get(res, 1) ? tidm_res_get(res, 1) : "0", NULL, 10);
		if (tidm_res_cols(res) >= 5 && tidm_res_get(res, 4) && tidm_res_get(res, 4)[0])
			snap->gtid_set = full_xstrdup(tidm_res_get(res, 4));
	}
	tidm_res_free(res);
	if (info->flavor == TIDM_FLAVOR_MARIADB && snap->file[0]) {
		char *v = NULL;
		if (tidm_conn_query_value(src, &v, "SELECT @@GLOBAL.gtid_binlog_pos") == 0 && v && v[0])
			snap->gtid_set = v;
		else
			free(v);
	}
	return 0;
}

/* An order-independent digest of the discovered table list. */
static uint64_t tables_hash(const run *r)
{
	uint64_t sum = 0;
	size_t k;

	for (k = 0; k < r->ntables; k++) {
		uint64_t h = 14695981039346656037ull;
		const char *p;
		for (p = r->tables[k].db; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
		for (p = r->tables[k].name; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		sum += h;
	}
	return sum;
}

/* Start the consistent snapshot on every dump connection; record the position.
 * TIDM_EAGAIN: the table list changed while locking (r->tables is the new list; retry). */
int full_take_snapshot(run *r, tidm_conn *coord, tidm_conn **dumpers, unsigned n, tidm_snapshot_pos *snap)
{
	tidm_buf q = TIDM_BUF_INIT;
	bool locked = false;
	unsigned i;
	size_t k;
	int rc;

	rc = tidm_conn_exec(coord, "FLUSH TABLES WITH READ LOCK", 27);
	if (rc == 0) {
		snprintf(snap->method, sizeof(snap->method), "FTWRL");
		locked = true;
	} else {
		tidm_info("FLUSH TABLES WITH READ LOCK refused (%s); using LOCK TABLES ... READ instead",
			  tidm_err_msg());
		tidm_buf_puts(&q, "LOCK TABLES ");
		for (k = 0; k < r->ntables; k++) {
			if (r->tables[k].is_view)
				continue;
			if (locked)
				tidm_buf_putc(&q, ',');
			tidm_quote_qualified(&q, r->tables[k].db, r->tables[k].name);
			tidm_buf_puts(&q, " READ");
			locked = true;
		}
		if (locked) {
			rc = tidm_conn_exec(coord, q.data, q.len);
			if (rc < 0) {
				tidm_err_set(rc, "cannot take a consistent snapshot of the source: FLUSH TABLES WITH "
						 "READ LOCK and LOCK TABLES were both refused (%s); grant the "
						 "migration user RELOAD or LOCK TABLES",
					     tidm_err_msg());
				goto out;
			}
		}
		snprintf(snap->method, sizeof(snap->method), "LOCK TABLES");
	}
	if (locked) {
		/* A table created between the listing and the lock would be neither copied nor
		 * replicated: list again under the lock, and start over when the list changed. */
		size_t before = r->ntables;
		uint64_t h0 = tables_hash(r);
		if ((rc = full_discover(r, coord)) < 0)
			goto unlock;
		if (r->ntables != before || tables_hash(r) != h0) {
			rc = TIDM_EAGAIN;
			goto unlock;
		}
		for (k = 0; k < r->ntables; k++) {
			table *t = &r->tables[k];
			tidm_res *res = NULL;
			if (t->is_view)
				continue;
			tidm_buf_clear(&q);
			tidm_buf_puts(&q, "SHOW CREATE TABLE ");
			tidm_quote_qualified(&q, t->db, t->name);
			if ((rc = tidm_conn_query(coord, &res, q.data)) < 0)
				goto unlock;
			free(t->snap_create);
			t->snap_create = NULL;
			if (tidm_res_next(res) == 1 && tidm_res_cols(res) >= 2 && tidm_res_get(res, 1)) {
				t->snap_create = strdup(tidm_res_get(res, 1));
				if (!t->snap_create)
					abort();
			}
			tidm_res_free(res);
		}
	}
	for (i = 0; i < n; i++) {
		if ((rc = tidm_conn_exec(dumpers[i], "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", 55)) < 0 ||
		    (rc = tidm_conn_exec(dumpers[i], "START TRANSACTION WITH CONSISTENT SNAPSHOT", 42)) < 0)
			goto unlock;
	}
	rc = read_position(coord, snap);
unlock:
	if (locked) {
		int urc = tidm_conn_exec(coord, "UNLOCK TABLES", 13);
		if (rc == 0)
			rc = urc;
	}
out:
	tidm_buf_dispose(&q);
	return rc;
}

/*
 * Columns and chunk key of t (describe) as the snapshot has them. information_schema is
 * read after the snapshot's lock (joins of it under FLUSH TABLES WITH READ LOCK fail on
 * MariaDB), so the definition is read again afterwards: when it is no longer the one read
 * under the lock, DDL ran in between and t is stale - copied by the next round instead of
 * with columns its snapshot rows do not have.
 */
int full_describe_snapshot(run *r, tidm_conn *src, table *t)
{
	tidm_buf q = TIDM_BUF_INIT, now = TIDM_BUF_INIT, then = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc = describe(r, src, t);

	if (rc == TIDM_ENOTFOUND || (rc < 0 && full_stale_error())) {
		full_mark_stale(t);
		return 0;
	}
	if (rc < 0 || !t->snap_create)
		return rc;
	tidm_buf_puts(&q, "SHOW CREATE TABLE ");
	tidm_quote_qualified(&q, t->db, t->name);
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0) {
		if (full_stale_error()) {
			full_mark_stale(t);
			rc = 0;
		}
		goto out;
	}
	if (tidm_res_next(res) == 1 && tidm_res_cols(res) >= 2 && tidm_res_get(res, 1))
		tidm_showcreate_sans_counters(&now, tidm_res_get(res, 1), tidm_res_len(res, 1));
	tidm_showcreate_sans_counters(&then, t->snap_create, strlen(t->snap_create));
	if (!now.data || !then.data || strcmp(now.data, then.data) != 0) {
		tidm_err_set(TIDM_ERROR, "its definition changed");
		full_mark_stale(t);
	}
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&now);
	tidm_buf_dispose(&then);
	return rc;
}
