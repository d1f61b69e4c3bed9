/*
 * schema.c - the target-table cache of the applier (see schema.h). A linked list: a job
 * replicates at most a few thousand tables and looks one up per rows event, after which
 * the applier keeps the pointer for the whole event.
 */
#include "sync/schema.h"

#include <stdlib.h>
#include <string.h>

#include "db/quote.h"
#include "util/err.h"

struct tidm_schema_cache {
	tidm_schema_table *head;
};

static char *dup_or_null(const char *s)
{
	char *p;
	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		abort();
	return p;
}

static void table_free(tidm_schema_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].charset);
		free(t->cols[i].data_type);
	}
	free(t->cols);
	free(t->key);
	for (i = 0; i < t->nuniques; i++)
		free(t->uniques[i]);
	free(t->uniques);
	free(t->nuniq);
	free(t->db);
	free(t->name);
	free(t);
}

tidm_schema_cache *tidm_schema_cache_new(void)
{
	tidm_schema_cache *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	return c;
}

void tidm_schema_cache_free(tidm_schema_cache *c)
{
	if (!c)
		return;
	tidm_schema_invalidate(c, NULL, NULL);
	free(c);
}

void tidm_schema_invalidate(tidm_schema_cache *c, const char *db, const char *table)
{
	tidm_schema_table **pp = &c->head;

	while (*pp) {
		tidm_schema_table *t = *pp;
		if ((!db || !strcmp(t->db, db)) && (!table || !strcmp(t->name, table))) {
			*pp = t->next;
			table_free(t);
		} else {
			pp = &t->next;
		}
	}
}

int tidm_schema_keyfold(const char *charset, const char *collation, const char *data_type)
{
	size_t n;

	if (data_type && (!strcmp(data_type, "float") || !strcmp(data_type, "double") || !strcmp(data_type, "real")))
		return TIDM_KEYFOLD_OPAQUE;
	if (!charset || !*charset || !strcmp(charset, "binary"))
		return TIDM_KEYFOLD_EXACT;
	if (!strncmp(charset, "ucs2", 4) || !strncmp(charset, "utf16", 5) || !strncmp(charset, "utf32", 5))
		return TIDM_KEYFOLD_OPAQUE; /* a space is not the byte 0x20 there */
	n = collation ? strlen(collation) : 0;
	if (n >= 4 && !strcmp(collation + n - 4, "_bin"))
		return TIDM_KEYFOLD_TRIM;
	return TIDM_KEYFOLD_OPAQUE;
}

/* "TABLE_SCHEMA = 'db' AND TABLE_NAME = 't'" (columns prefixed with `pfx`), exact in case
 * where the server's names are (information_schema compares them case-insensitively, so `T`
 * and `t` would both match); the plain equalities stay for the server's lookup. */
static void put_table_cond(tidm_buf *q, const char *pfx, const char *db, const char *table)
{
	tidm_buf_printf(q, "%sTABLE_SCHEMA = ", pfx);
	tidm_quote_string(q, db, strlen(db));
	tidm_buf_printf(q, " AND %sTABLE_NAME = ", pfx);
	tidm_quote_string(q, table, strlen(table));
	tidm_buf_printf(q, " AND (@@lower_case_table_names <> 0 OR (CAST(%sTABLE_SCHEMA AS BINARY) = ", pfx);
	tidm_quote_string(q, db, strlen(db));
	tidm_buf_printf(q, " AND CAST(%sTABLE_NAME AS BINARY) = ", pfx);
	tidm_quote_string(q, table, strlen(table));
	tidm_buf_puts(q, "))");
}

/*
 * A MariaDB table WITH SYSTEM VERSIONING whose period columns are implicit: its rows in the
 * binlog end with row_start and row_end, which information_schema.COLUMNS does not list.
 * They are added as generated columns (never written, never matched: the target keeps its
 * own history times).
 */
static int add_period_columns(tidm_conn *conn, tidm_schema_table *t, const char *db, const char *table)
{
	tidm_buf q = TIDM_BUF_INIT;
	char *type = NULL;
	size_t i;
	int rc;

	for (i = 0; i < t->ncols; i++)
		if (t->cols[i].period && t->cols[i].period_end)
			t->row_end = i;
	if (t->row_end != SIZE_MAX)
		return 0; /* explicit period columns: listed already */
	tidm_buf_puts(&q, "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE ");
	put_table_cond(&q, "", db, table);
	rc = tidm_conn_query_value(conn, &type, q.data);
	tidm_buf_dispose(&q);
	if (rc < 0 || !type || strcmp(type, "SYSTEM VERSIONED") != 0) {
		free(type);
		return rc < 0 ? rc : 0;
	}
	free(type);
	t->cols = realloc(t->cols, (t->ncols + 2) * sizeof(*t->cols));
	if (!t->cols)
		abort();
	for (i = 0; i < 2; i++) {
		tidm_schema_col *c = &t->cols[t->ncols++];
		memset(c, 0, sizeof(*c));
		c->name = dup_or_null(i ? "row_end" : "row_start");
		c->data_type = dup_or_null("timestamp");
		c->generated = c->period = true;
		c->period_end = i == 1;
		c->nullable = true;
	}
	t->row_end = t->ncols - 1;
	return 0;
}

static long col_index(const tidm_schema_table *t, const char *name)
{
	size_t i;
	for (i = 0; i < t->ncols; i++)
		if (!strcmp(t->cols[i].name, name))
			return (long)i;
	return -1;
}

static int load(tidm_conn *conn, const char *db, const char *table, tidm_schema_table **out)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	tidm_schema_table *t = calloc(1, sizeof(*t));
	char *cur = NULL;
	size_t *parts = NULL, nparts = 0;
	bool usable = true, have_key = false;
	int rc;

	if (!t)
		abort();
	t->db = dup_or_null(db);
	t->name = dup_or_null(table);
	t->row_end = SIZE_MAX;
	tidm_buf_puts(&q, "SELECT COLUMN_NAME, CHARACTER_SET_NAME, LOWER(DATA_TYPE), EXTRA, "
			  "LOWER(COLUMN_TYPE) LIKE '%unsigned%', IFNULL(CHARACTER_OCTET_LENGTH, 0), COLLATION_NAME, "
			  "IS_NULLABLE, GENERATION_EXPRESSION FROM information_schema.COLUMNS WHERE ");
	put_table_cond(&q, "", db, table);
	tidm_buf_puts(&q, " ORDER BY ORDINAL_POSITION");
	if ((rc = tidm_conn_query(conn, &res, q.data)) < 0)
		goto out;
	if (tidm_res_rows(res) == 0) {
		rc = tidm_err_set(TIDM_ENOTFOUND,
				  "cannot fetch downstream table schema of `%s`.`%s` (Error 1146: Table '%s.%s' "
				  "doesn't exist): create it on the target or include it in the job's selection",
				  db, table, db, table);
		goto out;
	}
	t->cols = calloc(tidm_res_rows(res), sizeof(*t->cols));
	if (!t->cols)
		abort();
	while (tidm_res_next(res) == 1) {
		tidm_schema_col *c = &t->cols[t->ncols++];
		const char *extra = tidm_res_get(res, 3);
		c->name = dup_or_null(tidm_res_get(res, 0));
		c->charset = dup_or_null(tidm_res_get(res, 1));
		c->data_type = dup_or_null(tidm_res_get(res, 2));
		c->generated = extra && strstr(extra, "GENERATED") != NULL;
		/* explicit period columns of a system-versioned table: GENERATION_EXPRESSION "ROW
		 * START" / "ROW END" (EXTRA says STORED GENERATED) */
		c->period = c->generated && tidm_res_get(res, 8) &&
			    (!strcmp(tidm_res_get(res, 8), "ROW START") || !strcmp(tidm_res_get(res, 8), "ROW END"));
		c->period_end = c->period && !strcmp(tidm_res_get(res, 8), "ROW END");
		c->is_unsigned = tidm_res_get(res, 4) && !strcmp(tidm_res_get(res, 4), "1");
		if (c->data_type && !strcmp(c->data_type, "binary") && tidm_res_get(res, 5))
			c->binary_len = (unsigned)strtoul(tidm_res_get(res, 5), NULL, 10);
		c->keyfold = (uint8_t)tidm_schema_keyfold(c->charset, tidm_res_get(res, 6), c->data_type);
		c->nullable = !tidm_res_get(res, 7) || strcmp(tidm_res_get(res, 7), "NO") != 0;
	}
	tidm_res_free(res);
	res = NULL;
	if ((rc = add_period_columns(conn, t, db, table)) < 0)
		goto out;

	/* Unique keys: the primary first, then the others by name. */
	tidm_buf_clear(&q);
	tidm_buf_puts(&q, "SELECT s.INDEX_NAME, s.COLUMN_NAME, s.SUB_PART FROM information_schema.STATISTICS s "
			  "WHERE s.NON_UNIQUE = 0 AND ");
	put_table_cond(&q, "s.", db, table);
	tidm_buf_puts(&q, " ORDER BY s.INDEX_NAME <> 'PRIMARY', s.INDEX_NAME, s.SEQ_IN_INDEX");
	if ((rc = tidm_conn_query(conn, &res, q.data)) < 0)
		goto out;
	parts = calloc(tidm_res_rows(res) + 1, sizeof(*parts));
	if (!parts)
		abort();
	for (;;) {
		int more = tidm_res_next(res);
		const char *idx = more == 1 ? tidm_res_get(res, 0) : NULL;

		if (cur && (!idx || strcmp(cur, idx) != 0)) {
			/* one index complete */
			if (usable && !have_key) {
				t->key = malloc(nparts * sizeof(size_t));
				if (!t->key)
					abort();
				memcpy(t->key, parts, nparts * sizeof(size_t));
				t->nkey = nparts;
				have_key = true;
			} else {
				size_t **u = realloc(t->uniques, (t->nuniques + 1) * sizeof(*u));
				size_t *nu = realloc(t->nuniq, (t->nuniques + 1) * sizeof(*nu));
				if (!u || !nu)
					abort();
				t->uniques = u;
				t->nuniq = nu;
				u[t->nuniques] = malloc(nparts * sizeof(size_t) + 1);
				if (!u[t->nuniques])
					abort();
				memcpy(u[t->nuniques], parts, nparts * sizeof(size_t));
				nu[t->nuniques] = nparts;
				t->nuniques++;
			}
			free(cur);
			cur = NULL;
			nparts = 0;
			usable = true;
		}
		if (more != 1)
			break;
		if (!cur)
			cur = dup_or_null(idx);
		{
			long ci = col_index(t, tidm_res_get(res, 1));
			if (ci < 0) {
				usable = false;
				continue;
			}
			if (t->cols[ci].nullable || tidm_res_get(res, 2) != NULL)
				usable = false;
			if (tidm_res_get(res, 2) != NULL) /* a prefix: longer values collide on it */
				t->cols[ci].keyfold = TIDM_KEYFOLD_OPAQUE;
			parts[nparts++] = (size_t)ci;
		}
	}
	for (size_t i = 0; i < t->nkey; i++)
		t->cols[t->key[i]].in_key = true;
	*out = t;
	t = NULL;
out:
	free(cur);
	free(parts);
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	table_free(t);
	return rc;
}

int tidm_schema_get(tidm_schema_cache *c, tidm_conn *conn, const char *db, const char *table,
		    const tidm_schema_table **out)
{
	tidm_schema_table *t;
	int rc;

	for (t = c->head; t; t = t->next)
		if (!strcmp(t->db, db) && !strcmp(t->name, table)) {
			*out = t;
			return 0;
		}
	if ((rc = load(conn, db, table, &t)) < 0)
		return rc;
	t->next = c->head;
	c->head = t;
	*out = t;
	return 0;
}
