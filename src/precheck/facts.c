/*
 * facts.c - what several precheck items share, loaded once in bulk, and the fix hints
 * per hosting.
 *
 * DESIGN
 * The selected tables come from three queries whatever their number: the source's
 * information_schema.TABLES (engine, row format, collation, sizes), its STATISTICS
 * reduced to "has a primary key or a unique key of NOT NULL columns" per table, and the
 * target's table list; the job's object filter is applied here, on the client, so the
 * patterns mean exactly what they mean to the copy. Lookups are binary searches over
 * sorted arrays. When the job names databases without wildcards, the queries are limited
 * to them. The first item that needs a fact loads it; items that need it meanwhile wait
 * on the context's condition variable, the others run on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/quote.h"
#include "db/replica.h"
#include "precheck/pc_int.h"
#include "util/err.h"
#include "util/filter.h"

/* --- once ------------------------------------------------------------------------------- */

typedef int (*load_fn)(pc_ctx *c, pc_conns *k);

static int need(pc_ctx *c, pc_conns *k, pc_once *once, load_fn fn, const char **err)
{
	int rc;

	pthread_mutex_lock(&c->mu);
	while (once->state == 1)
		pthread_cond_wait(&c->cv, &c->mu);
	if (once->state == 2) {
		rc = once->rc;
		pthread_mutex_unlock(&c->mu);
		if (err)
			*err = once->err;
		return rc;
	}
	once->state = 1;
	pthread_mutex_unlock(&c->mu);

	tidm_err_clear();
	rc = fn(c, k);
	pthread_mutex_lock(&c->mu);
	once->rc = rc;
	if (rc < 0)
		snprintf(once->err, sizeof(once->err), "%s", tidm_err_msg());
	once->state = 2;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (err)
		*err = once->err;
	return rc;
}

/* --- tables ------------------------------------------------------------------------------ */

static const char *SYSTEM_SCHEMAS = "('mysql','information_schema','performance_schema','sys','tidm_meta',"
				    "'metrics_schema')";

/* " AND col IN ('a','b')" when the job names its databases without wildcards (and no
 * single tables of other databases); else nothing. */
static void db_restriction(const tidm_filter *f, const char *col, tidm_buf *q)
{
	size_t n = f->n_databases + f->n_tables;
	bool plain = n > 0;

	for (size_t i = 0; i < f->n_databases && plain; i++)
		plain = !strpbrk(f->databases[i].db, "*?");
	for (size_t i = 0; i < f->n_tables && plain; i++)
		plain = !strpbrk(f->tables[i].db, "*?");
	if (!plain)
		return;
	tidm_buf_printf(q, " AND %s IN (", col);
	for (size_t i = 0; i < f->n_databases; i++) {
		if (i)
			tidm_buf_putc(q, ',');
		tidm_quote_string(q, f->databases[i].db, strlen(f->databases[i].db));
	}
	for (size_t i = 0; i < f->n_tables; i++) {
		if (i || f->n_databases)
			tidm_buf_putc(q, ',');
		tidm_quote_string(q, f->tables[i].db, strlen(f->tables[i].db));
	}
	tidm_buf_putc(q, ')');
}

static int table_cmp(const void *a, const void *b)
{
	const pc_table *x = a, *y = b;
	int d = strcmp(x->db, y->db);
	return d ? d : strcmp(x->name, y->name);
}

typedef struct name_pair {
	char *db, *name;
	char flag; /* keys: has a usable key; target: 'V' view, 'T' table */
} name_pair;

static int pair_cmp(const void *a, const void *b)
{
	const name_pair *x = a, *y = b;
	int d = strcmp(x->db, y->db);
	return d ? d : strcmp(x->name, y->name);
}

static int pair_casecmp(const void *a, const void *b)
{
	const name_pair *x = a, *y = b;
	int d = strcasecmp(x->db, y->db);
	return d ? d : strcasecmp(x->name, y->name);
}

static void pairs_free(name_pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].db);
		free(p[i].name);
	}
	free(p);
}

/* Rows (db, name, flag-column) into a sorted array. */
static int load_pairs(tidm_conn *conn, const char *sql, name_pair **out, size_t *n_out, bool fold)
{
	tidm_res *res = NULL;
	name_pair *p;
	size_t n = 0;
	int rc = tidm_conn_query(conn, &res, sql);

	*out = NULL;
	*n_out = 0;
	if (rc < 0)
		return rc;
	p = calloc(tidm_res_rows(res) + 1, sizeof(*p));
	if (!p) {
		tidm_res_free(res);
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	}
	while (tidm_res_next(res) == 1) {
		const char *d = tidm_res_get(res, 0), *t = tidm_res_get(res, 1),
			   *f = tidm_res_cols(res) > 2 ? tidm_res_get(res, 2) : NULL;
		p[n].db = strdup(d ? d : "");
		p[n].name = strdup(t ? t : "");
		p[n].flag = f && *f ? f[0] : 0;
		n++;
	}
	tidm_res_free(res);
	qsort(p, n, sizeof(*p), fold ? pair_casecmp : pair_cmp);
	*out = p;
	*n_out = n;
	return 0;
}

/*
 * (db, table, index, nullable) rows into one entry per table: flag 'K' when some unique
 * index has no nullable column, else 'Y'.
 */
typedef struct key_row {
	char *db, *name, *index;
	bool nullable;
} key_row;

static int key_row_cmp(const void *a, const void *b)
{
	const key_row *x = a, *y = b;
	int d = strcmp(x->db, y->db);
	if (!d)
		d = strcmp(x->name, y->name);
	return d ? d : strcmp(x->index, y->index);
}

static int load_keys(tidm_conn *conn, const char *sql, name_pair **out, size_t *n_out)
{
	tidm_res *res = NULL;
	key_row *rows;
	name_pair *p;
	size_t n = 0, np = 0;
	int rc = tidm_conn_query(conn, &res, sql);

	*out = NULL;
	*n_out = 0;
	if (rc < 0)
		return rc;
	rows = calloc(tidm_res_rows(res) + 1, sizeof(*rows));
	p = calloc(tidm_res_rows(res) + 1, sizeof(*p));
	if (!rows || !p) {
		free(rows);
		free(p);
		tidm_res_free(res);
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	}
	while (tidm_res_next(res) == 1) {
		const char *d = tidm_res_get(res, 0), *t = tidm_res_get(res, 1), *ix = tidm_res_get(res, 2),
			   *nl = tidm_res_get(res, 3);
		rows[n].db = strdup(d ? d : "");
		rows[n].name = strdup(t ? t : "");
		rows[n].index = strdup(ix ? ix : "");
		rows[n].nullable = nl && !strcasecmp(nl, "YES");
		n++;
	}
	tidm_res_free(res);
	qsort(rows, n, sizeof(*rows), key_row_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		bool any_nullable = false;
		/* one index */
		while (j < n && !key_row_cmp(&rows[i], &rows[j])) {
			any_nullable = any_nullable || rows[j].nullable;
			j++;
		}
		if (np && !strcmp(p[np - 1].db, rows[i].db) && !strcmp(p[np - 1].name, rows[i].name)) {
			if (!any_nullable)
				p[np - 1].flag = 'K';
		} else {
			p[np].db = strdup(rows[i].db);
			p[np].name = strdup(rows[i].name);
			p[np].flag = any_nullable ? 'Y' : 'K';
			np++;
		}
		i = j;
	}
	for (size_t i = 0; i < n; i++) {
		free(rows[i].db);
		free(rows[i].name);
		free(rows[i].index);
	}
	free(rows);
	*out = p;
	*n_out = np;
	return 0;
}

static const name_pair *find_pair(const name_pair *p, size_t n, const char *db, const char *name, bool fold)
{
	name_pair key = {(char *)db, (char *)name, 0};
	return bsearch(&key, p, n, sizeof(*p), fold ? pair_casecmp : pair_cmp);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static pc_table *find_table(pc_ctx *c, const char *db, const char *name)
{
	pc_table key = {.db = (char *)db, .name = (char *)name};
	return bsearch(&key, c->tables, c->n_tables, sizeof(pc_table), table_cmp);
}

/* Sizes of the tables whose statistics information_schema.TABLES must open the table
 * for, asked for those tables only (by name, per database, in batches). */
static int sizes_from_tables(pc_ctx *c, tidm_conn *src, const bool *known)
{
	size_t i = 0;
	int rc = 0;

	while (i < c->n_tables && rc == 0) {
		tidm_buf q = TIDM_BUF_INIT;
		tidm_res *res = NULL;
		const char *db = NULL;
		size_t inlist = 0;

		for (; i < c->n_tables && inlist < 500; i++) {
			if (known[i])
				continue;
			if (db && strcmp(db, c->tables[i].db) != 0)
				break;
			if (!db) {
				db = c->tables[i].db;
				tidm_buf_puts(&q, "SELECT TABLE_NAME, COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0), "
						  "COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
				tidm_quote_string(&q, db, strlen(db));
				tidm_buf_puts(&q, " AND TABLE_NAME IN (");
			} else {
				tidm_buf_putc(&q, ',');
			}
			tidm_quote_string(&q, c->tables[i].name, strlen(c->tables[i].name));
			inlist++;
		}
		if (!db) {
			tidm_buf_dispose(&q);
			break;
		}
		tidm_buf_putc(&q, ')');
		if ((rc = tidm_conn_query(src, &res, q.data)) == 0) {
			while (tidm_res_next(res) == 1) {
				pc_table *t = find_table(c, db, tidm_res_get(res, 0) ? tidm_res_get(res, 0) : "");
				if (t) {
					t->bytes = strtoull(tidm_res_get(res, 1) ? tidm_res_get(res, 1) : "0", NULL, 10);
					t->rows = strtoull(tidm_res_get(res, 2) ? tidm_res_get(res, 2) : "0", NULL, 10);
				}
			}
			tidm_res_free(res);
		}
		tidm_buf_dispose(&q);
	}
	return rc;
}

/*
 * Sizes and row estimates. information_schema.TABLES opens every table to give them (on
 * MariaDB about 0.6 ms a table: 12 s for 20,000), so they come from InnoDB's persistent
 * statistics (mysql.innodb_table_stats: pages of the clustered and other indexes, rows;
 * a partition's rows are "t#P#p0"), which every InnoDB table has by default, and only the
 * other tables are asked of information_schema.TABLES, by name.
 */
static int load_sizes(pc_ctx *c, tidm_conn *src)
{
	tidm_res *res = NULL;
	bool *known = calloc(c->n_tables + 1, sizeof(bool));
	const char *ps = pc_var(&c->svars, "innodb_page_size");
	uint64_t page = ps ? strtoull(ps, NULL, 10) : 16384;
	int rc;

	if (!known)
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	if (tidm_conn_query(src, &res,
			    "SELECT database_name, table_name, n_rows, clustered_index_size + sum_of_other_index_sizes "
			    "FROM mysql.innodb_table_stats") == 0) {
		while (tidm_res_next(res) == 1) {
			const char *d = tidm_res_get(res, 0), *t = tidm_res_get(res, 1);
			char name[256];
			pc_table *x;
			if (!d || !t)
				continue;
			snprintf(name, sizeof(name), "%s", t);
			if (strstr(name, "#P#"))
				*strstr(name, "#P#") = 0;
			else if (strstr(name, "#p#"))
				*strstr(name, "#p#") = 0;
			if (!(x = find_table(c, d, name)))
				continue;
			x->rows += strtoull(tidm_res_get(res, 2) ? tidm_res_get(res, 2) : "0", NULL, 10);
			x->bytes += strtoull(tidm_res_get(res, 3) ? tidm_res_get(res, 3) : "0", NULL, 10) * page;
			known[x - c->tables] = true;
		}
		tidm_res_free(res);
	} else {
		tidm_err_clear(); /* not readable by this user: ask information_schema for all */
	}
	rc = sizes_from_tables(c, src, known);
	free(known);
	return rc;
}

static int load_tables(pc_ctx *c, pc_conns *k)
{
	tidm_conn *src = pc_src(k), *tgt;
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	name_pair *tt = NULL;
	size_t n_tt = 0, n = 0;
	bool fold;
	int rc;

	if (!src)
		return TIDM_ECONN;
	/* databases: those that exist and may hold selected tables */
	tidm_buf_printf(&q, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN %s",
			SYSTEM_SCHEMAS);
	db_restriction(&c->cfg->objects, "SCHEMA_NAME", &q);
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	c->dbs = calloc(tidm_res_rows(res) + 1, sizeof(char *));
	if (!c->dbs) {
		rc = tidm_err_set(TIDM_ENOMEM, "out of memory");
		goto out;
	}
	while (tidm_res_next(res) == 1) {
		const char *d = tidm_res_get(res, 0);
		if (d && tidm_filter_match_db(&c->cfg->objects, d))
			c->dbs[c->n_dbs++] = strdup(d);
	}
	tidm_res_free(res);
	res = NULL;
	qsort(c->dbs, c->n_dbs, sizeof(char *), str_cmp);

	tidm_buf_clear(&q);
	tidm_buf_printf(&q,
			"SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE, TABLE_COLLATION "
			"FROM information_schema.TABLES WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') "
			"AND TABLE_SCHEMA NOT IN %s",
			SYSTEM_SCHEMAS);
	db_restriction(&c->cfg->objects, "TABLE_SCHEMA", &q);
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	c->tables = calloc(tidm_res_rows(res) + 1, sizeof(pc_table));
	if (!c->tables) {
		rc = tidm_err_set(TIDM_ENOMEM, "out of memory");
		goto out;
	}
	while (tidm_res_next(res) == 1) {
		const char *d = tidm_res_get(res, 0), *t = tidm_res_get(res, 1);
		pc_table *x;
		if (!d || !t || !tidm_filter_match_table(&c->cfg->objects, d, t))
			continue;
		x = &c->tables[n++];
		x->db = strdup(d);
		x->name = strdup(t);
		x->engine = dup_or_null(tidm_res_get(res, 2));
		x->collation = dup_or_null(tidm_res_get(res, 3));
	}
	c->n_tables = n;
	tidm_res_free(res);
	res = NULL;
	qsort(c->tables, c->n_tables, sizeof(pc_table), table_cmp);
	if ((rc = load_sizes(c, src)) < 0)
		goto out;

	/* the target's tables */
	if ((tgt = pc_tgt(k)) != NULL) {
		const char *lctn = pc_var(&c->tvars, "lower_case_table_names");
		fold = lctn && strcmp(lctn, "0") != 0;
		tidm_buf_clear(&q);
		tidm_buf_printf(&q,
				"SELECT TABLE_SCHEMA, TABLE_NAME, CASE WHEN TABLE_TYPE = 'VIEW' THEN 'V' ELSE 'T' END "
				"FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN %s",
				SYSTEM_SCHEMAS);
		db_restriction(&c->cfg->objects, "TABLE_SCHEMA", &q);
		if ((rc = load_pairs(tgt, q.data, &tt, &n_tt, fold)) < 0)
			goto out;
		for (size_t i = 0; i < c->n_tables; i++) {
			const name_pair *tp = find_pair(tt, n_tt, c->tables[i].db, c->tables[i].name, fold);
			c->tables[i].on_target = tp != NULL;
			c->tables[i].target_view = tp && tp->flag == 'V';
		}
	} else {
		tidm_err_clear();
	}
	rc = 0;
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	pairs_free(tt, n_tt);
	return rc;
}

int pc_need_tables(pc_ctx *c, pc_conns *k, const char **err)
{
	return need(c, k, &c->tables_once, load_tables, err);
}

/* keys: a unique index whose columns are all NOT NULL (one row per column of each unique
 * index, folded per table by load_keys); read while another thread reads the tables */
static int load_keys_fact(pc_ctx *c, pc_conns *k)
{
	tidm_conn *src = pc_src(k);
	tidm_buf q = TIDM_BUF_INIT;
	name_pair *keys = NULL;
	int rc;

	if (!src)
		return TIDM_ECONN;
	tidm_buf_printf(&q,
			"SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NULLABLE FROM information_schema.STATISTICS "
			"WHERE NON_UNIQUE = 0 AND TABLE_SCHEMA NOT IN %s",
			SYSTEM_SCHEMAS);
	db_restriction(&c->cfg->objects, "TABLE_SCHEMA", &q);
	rc = load_keys(src, q.data, &keys, &c->n_keys);
	c->keys = keys;
	tidm_buf_dispose(&q);
	return rc;
}

static int join_keys(pc_ctx *c, pc_conns *k)
{
	(void)k;
	for (size_t i = 0; i < c->n_tables; i++) {
		const name_pair *kp = find_pair(c->keys, c->n_keys, c->tables[i].db, c->tables[i].name, false);
		c->tables[i].has_key = kp && kp->flag == 'K';
	}
	return 0;
}

int pc_need_keys(pc_ctx *c, pc_conns *k, const char **err)
{
	int rc = need(c, k, &c->keys_once, load_keys_fact, err);
	if (rc < 0)
		return rc;
	if ((rc = pc_need_tables(c, k, err)) < 0)
		return rc;
	return need(c, k, &c->join_once, join_keys, err);
}

void pc_facts_dispose(pc_ctx *c)
{
	pairs_free(c->keys, c->n_keys);
	c->keys = NULL;
	for (size_t i = 0; i < c->n_columns; i++) {
		free(c->columns[i].db);
		free(c->columns[i].table);
		free(c->columns[i].name);
		free(c->columns[i].collation);
	}
	free(c->columns);
	c->columns = NULL;
}

/* one scan of COLUMNS for the collations and generated columns of the selected tables */
static int load_columns(pc_ctx *c, pc_conns *k)
{
	tidm_conn *src = pc_src(k);
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	size_t n = 0;
	int rc;

	if (!src)
		return TIDM_ECONN;
	tidm_buf_printf(&q,
			"SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLLATION_NAME, EXTRA FROM information_schema.COLUMNS "
			"WHERE (COLLATION_NAME IS NOT NULL OR EXTRA LIKE '%%VIRTUAL GENERATED%%' OR EXTRA LIKE '%%STORED "
			"GENERATED%%' OR EXTRA LIKE '%%PERSISTENT%%' OR EXTRA = 'VIRTUAL') AND TABLE_SCHEMA NOT IN %s",
			SYSTEM_SCHEMAS);
	db_restriction(&c->cfg->objects, "TABLE_SCHEMA", &q);
	rc = tidm_conn_query(src, &res, q.data);
	tidm_buf_dispose(&q);
	if (rc < 0)
		return rc;
	c->columns = calloc(tidm_res_rows(res) + 1, sizeof(pc_column));
	if (!c->columns) {
		tidm_res_free(res);
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	}
	while (tidm_res_next(res) == 1) {
		const char *d = tidm_res_get(res, 0), *t = tidm_res_get(res, 1), *col = tidm_res_get(res, 2),
			   *co = tidm_res_get(res, 3), *ex = tidm_res_get(res, 4);
		pc_column *x;
		if (!d || !t || !tidm_filter_match_table(&c->cfg->objects, d, t))
			continue;
		x = &c->columns[n++];
		x->db = strdup(d);
		x->table = strdup(t);
		x->name = strdup(col ? col : "");
		x->collation = co ? strdup(co) : NULL;
		x->generated = ex && (strstr(ex, "GENERATED") || strstr(ex, "PERSISTENT") || !strcmp(ex, "VIRTUAL")) &&
			       !strstr(ex, "DEFAULT_GENERATED");
	}
	c->n_columns = n;
	tidm_res_free(res);
	return 0;
}

int pc_need_columns(pc_ctx *c, pc_conns *k, const char **err)
{
	return need(c, k, &c->columns_once, load_columns, err);
}

size_t pc_named_dbs(const pc_ctx *c, const char **out, size_t max)
{
	const tidm_filter *f = &c->cfg->objects;
	size_t n = 0;

	for (size_t i = 0; i < f->n_databases + f->n_tables && n < max; i++) {
		const char *d = i < f->n_databases ? f->databases[i].db : f->tables[i - f->n_databases].db;
		bool dup = false;
		if (strpbrk(d, "*?") || tidm_filter_is_system_schema(d))
			continue;
		for (size_t j = 0; j < n; j++)
			dup = dup || !strcmp(out[j], d);
		if (!dup)
			out[n++] = d;
	}
	return n;
}

/* --- binlogs ----------------------------------------------------------------------------- */

static int load_binlogs(pc_ctx *c, pc_conns *k)
{
	tidm_conn *src = pc_src(k);
	tidm_res *res = NULL;
	tidm_replica_status st;
	size_t n = 0;
	int rc;

	if (!src)
		return TIDM_ECONN;
	memset(&st, 0, sizeof(st));
	if ((rc = tidm_conn_query(src, &res, tidm_replica_list_logs_sql(src))) < 0)
		return rc;
	c->log_files = calloc(tidm_res_rows(res) + 1, sizeof(char *));
	c->log_sizes = calloc(tidm_res_rows(res) + 1, sizeof(uint64_t));
	if (!c->log_files || !c->log_sizes) {
		tidm_res_free(res);
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	}
	while (tidm_res_next(res) == 1) {
		const char *f = tidm_res_get(res, 0), *s = tidm_res_cols(res) > 1 ? tidm_res_get(res, 1) : NULL;
		c->log_files[n] = strdup(f ? f : "");
		c->log_sizes[n] = s ? strtoull(s, NULL, 10) : 0;
		n++;
	}
	c->n_logs = n;
	tidm_res_free(res);
	if ((rc = tidm_replica_status_read(src, &st)) < 0)
		return rc;
	snprintf(c->cur_file, sizeof(c->cur_file), "%s", st.file);
	c->cur_pos = st.pos;
	c->cur_gtid = st.gtid;
	st.gtid = NULL;
	tidm_replica_status_dispose(&st);
	return 0;
}

int pc_need_binlogs(pc_ctx *c, pc_conns *k, const char **err)
{
	return need(c, k, &c->binlogs_once, load_binlogs, err);
}

/* --- fix hints --------------------------------------------------------------------------- */

void pc_fix_setting(pc_result *r, const pc_ctx *c, const char *var, const char *value, bool dynamic)
{
	switch (c->hosting) {
	case PC_RDS:
		pc_fix(r,
		       "Amazon RDS: in the console (RDS > Parameter groups) set %s = %s in the instance's DB parameter "
		       "group (create a custom group if it uses the default one, which cannot be changed) and apply "
		       "it%s.",
		       var, value, dynamic ? "" : "; then reboot the instance");
		break;
	case PC_AURORA:
		pc_fix(r,
		       "Amazon Aurora: set %s = %s in the DB cluster parameter group of the cluster (a custom group; "
		       "the default cannot be changed)%s.",
		       var, value, dynamic ? "" : " and reboot the writer instance");
		break;
	case PC_AZURE:
		pc_fix(r,
		       "Azure Database for MySQL Flexible Server: in the portal, Settings > Server parameters, set %s "
		       "to %s and save%s (or az mysql flexible-server parameter set --name %s --value %s).",
		       var, value, dynamic ? "" : "; the server restarts", var, value);
		break;
	case PC_CLOUDSQL:
		pc_fix(r,
		       "Google Cloud SQL: set the database flag %s=%s on the instance (console: Edit > Flags, or "
		       "gcloud sql instances patch INSTANCE --database-flags=%s=%s, which replaces the whole flag list: "
		       "name the existing flags too)%s.",
		       var, value, var, value, dynamic ? "" : "; the instance restarts");
		break;
	case PC_MARIADB:
		if (dynamic)
			pc_fix(r,
			       "MariaDB: SET GLOBAL %s = %s, and set %s = %s in the [mariadb] section of the server's "
			       "option file (my.cnf) so that it survives a restart.",
			       var, value, var, value);
		else
			pc_fix(r, "MariaDB: set %s = %s in the [mariadb] section of the server's option file (my.cnf) and "
				  "restart the server.",
			       var, value);
		break;
	case PC_TIDB: pc_fix(r, "TiDB: SET GLOBAL %s = %s.", var, value); break;
	default:
		if (c->src_info.version >= 80000)
			pc_fix(r, "MySQL: SET PERSIST %s = %s%s (or %s = %s in the [mysqld] section of my.cnf).", var, value,
			       dynamic ? "" : " and restart the server", var, value);
		else
			pc_fix(r, "MySQL: set %s = %s in the [mysqld] section of my.cnf%s.", var, value,
			       dynamic ? " and run SET GLOBAL with the same value" : " and restart the server");
	}
}

/* --- grants ------------------------------------------------------------------------------ */

bool pc_grant_match(const char *pat, const char *s)
{
	while (*pat) {
		if (*pat == '%') {
			pat++;
			if (!*pat)
				return true;
			for (; *s; s++)
				if (pc_grant_match(pat, s))
					return true;
			return pc_grant_match(pat, s);
		}
		if (!*s)
			return false;
		if (*pat == '\\' && pat[1]) {
			pat++;
			if (*pat != *s)
				return false;
		} else if (*pat != '_' && *pat != *s) {
			return false;
		}
		pat++;
		s++;
	}
	return !*s;
}
