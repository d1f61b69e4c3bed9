/*
 * plan.c - chunk plans: the key bounds each table is copied in.
 *
 * DESIGN
 *  Chunk bounds walk the key in key order, `chunk_rows` rows apart
 *  (`WHERE key > prev ORDER BY key LIMIT 1 OFFSET n-1`), so composite and string keys work
 *  and every row falls in exactly one chunk: chunk i is (b[i-1], b[i]]. A single integer
 *  key is cut by arithmetic on MIN/MAX instead (plan_int_bounds). Bounds are stored as SQL
 *  literals (numbers, or hex with a charset introducer) so they compare with the column's
 *  own collation (tidm_conn_put_literal, full_put_key_cmp). A resumed run reads the stored plans back
 *  (full_load_plans) and queues the chunks not done (todo_push).
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

/* (k1,..,kn) > (v1,..,vn) written with OR/AND so any server uses the index range. */
void full_put_key_cmp(tidm_buf *b, const table *t, const char *bound, bool greater)
{
	const char *starts[64];
	size_t lens[64], n, i, j;

	n = tidm_literal_split(bound, starts, lens, 64);
	if (n > t->nkey)
		n = t->nkey;
	tidm_buf_putc(b, '(');
	for (i = 0; i < n; i++) {
		if (i)
			tidm_buf_puts(b, " OR ");
		tidm_buf_putc(b, '(');
		for (j = 0; j < i; j++) {
			tidm_quote_ident(b, t->key[j]);
			tidm_buf_puts(b, " = ");
			tidm_buf_put(b, starts[j], lens[j]);
			tidm_buf_puts(b, " AND ");
		}
		tidm_quote_ident(b, t->key[i]);
		tidm_buf_puts(b, greater ? " > " : " < ");
		tidm_buf_put(b, starts[i], lens[i]);
		tidm_buf_putc(b, ')');
	}
	if (!greater) { /* <= : also the bound itself */
		tidm_buf_puts(b, " OR (");
		for (j = 0; j < n; j++) {
			if (j)
				tidm_buf_puts(b, " AND ");
			tidm_quote_ident(b, t->key[j]);
			tidm_buf_puts(b, " = ");
			tidm_buf_put(b, starts[j], lens[j]);
		}
		tidm_buf_putc(b, ')');
	}
	tidm_buf_putc(b, ')');
}

static void put_key_list(tidm_buf *b, const table *t)
{
	size_t i;
	for (i = 0; i < t->nkey; i++) {
		if (i)
			tidm_buf_putc(b, ',');
		tidm_quote_ident(b, t->key[i]);
	}
}

static chunk *chunk_new(table *t, unsigned no, const char *lower, const char *upper)
{
	chunk *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->t = t;
	c->no = no;
	c->lower = lower ? full_xstrdup(lower) : NULL;
	c->upper = upper ? full_xstrdup(upper) : NULL;
	return c;
}

static void todo_push(run *r, chunk *c)
{
	chunk **grown = realloc(r->todo, (r->ntodo + 1) * sizeof(*r->todo));
	if (!grown)
		abort();
	r->todo = grown;
	r->todo[r->ntodo++] = c;
}

/*
 * One integer key column: bounds evenly spaced between MIN and MAX, from the table's row
 * estimate - no scan of the key (gaps in the key only make chunks uneven, never wrong).
 * Fills `bounds` with the upper bound literals; 0 or TIDM_EAGAIN (not applicable: walk).
 */
static int plan_int_bounds(run *r, tidm_conn *src, table *t, uint64_t step, tidm_buf *bounds, size_t *nbounds)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	__int128 lo, hi, width, each;
	uint64_t chunks, i;
	int rc;

	(void)r;
	*nbounds = 0;
	tidm_buf_puts(&q, "SELECT MIN(");
	tidm_quote_ident(&q, t->key[0]);
	tidm_buf_puts(&q, "), MAX(");
	tidm_quote_ident(&q, t->key[0]);
	tidm_buf_puts(&q, ") FROM ");
	tidm_quote_qualified(&q, t->db, t->name);
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	if (tidm_res_next(res) != 1 || !tidm_res_get(res, 0) || !tidm_res_get(res, 1))
		goto out; /* empty table: one chunk */
	{
		const char *a = tidm_res_get(res, 0), *b = tidm_res_get(res, 1);
		lo = a[0] == '-' ? (__int128)strtoll(a, NULL, 10) : (__int128)strtoull(a, NULL, 10);
		hi = b[0] == '-' ? (__int128)strtoll(b, NULL, 10) : (__int128)strtoull(b, NULL, 10);
	}
	chunks = t->est_rows / step + 1;
	width = hi - lo + 1;
	if (chunks < 2 || width < (__int128)chunks * 2)
		goto out;
	each = width / (__int128)chunks;
	for (i = 1; i < chunks; i++) {
		__int128 v = lo + each * (__int128)i - 1;
		char tmp[48];
		if (v < 0)
			snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
		else
			snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
		tidm_buf_puts(bounds, tmp);
		tidm_buf_putc(bounds, '\0');
		(*nbounds)++;
	}
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

/* Walk the key to find chunk bounds; store them with the table's plan in one transaction. */
int full_plan_table(run *r, tidm_conn *src, tidm_conn *tgt, table *t)
{
	tidm_buf q = TIDM_BUF_INIT, ins = TIDM_BUF_INIT, prev = TIDM_BUF_INIT, cur = TIDM_BUF_INIT;
	chunk **made = NULL;
	size_t nmade = 0, i;
	unsigned no = 0;
	int rc = 0;
	uint64_t step = r->cfg->chunk_rows ? r->cfg->chunk_rows : 100000;

	if (t->key_is_int) {
		tidm_buf bounds = TIDM_BUF_INIT;
		size_t nb = 0, k;
		const char *p;
		if ((rc = plan_int_bounds(r, src, t, step, &bounds, &nb)) < 0) {
			tidm_buf_dispose(&bounds);
			goto out;
		}
		for (k = 0, p = bounds.data; k < nb; k++, p += strlen(p) + 1) {
			made = realloc(made, (nmade + 1) * sizeof(*made));
			if (!made)
				abort();
			made[nmade++] = chunk_new(t, no++, prev.len ? prev.data : NULL, p);
			tidm_buf_clear(&prev);
			tidm_buf_puts(&prev, p);
		}
		tidm_buf_dispose(&bounds);
	}
	for (;;) {
		if (t->nkey == 0 || t->key_is_int)
			break;
		if (full_stopping(r)) {
			rc = TIDM_ECANCELED;
			goto out;
		}
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "SELECT ");
		put_key_list(&q, t);
		tidm_buf_puts(&q, " FROM ");
		tidm_quote_qualified(&q, t->db, t->name);
		if (prev.len) {
			tidm_buf_puts(&q, " WHERE ");
			full_put_key_cmp(&q, t, prev.data, true);
		}
		tidm_buf_puts(&q, " ORDER BY ");
		put_key_list(&q, t);
		tidm_buf_printf(&q, " LIMIT 1 OFFSET %llu", (unsigned long long)(step - 1));
		tidm_buf_clear(&cur);
		if ((rc = tidm_conn_first_row_literals(src, q.data, &cur)) < 0)
			goto out;
		rc = 0;
		if (!cur.len)
			break;
		made = realloc(made, (nmade + 1) * sizeof(*made));
		if (!made)
			abort();
		made[nmade++] = chunk_new(t, no++, prev.len ? prev.data : NULL, cur.data);
		tidm_buf_clear(&prev);
		tidm_buf_put(&prev, cur.data, cur.len);
	}
	made = realloc(made, (nmade + 1) * sizeof(*made));
	if (!made)
		abort();
	made[nmade++] = chunk_new(t, no++, prev.len ? prev.data : NULL, NULL);

	/* Persist the plan: chunks first, then the table row that says the plan is complete. */
	if ((rc = tidm_conn_begin(tgt)) < 0)
		goto out;
	for (i = 0; i < nmade; i++) {
		tidm_buf_clear(&ins);
		tidm_buf_puts(&ins, "REPLACE INTO `" META_DB "`.`chunks` (`job`,`db`,`tbl`,`no`,`lower_sql`,`upper_sql`,`state`) VALUES (");
		full_put_str(&ins, r->cfg->name);
		tidm_buf_putc(&ins, ',');
		full_put_str(&ins, t->db);
		tidm_buf_putc(&ins, ',');
		full_put_str(&ins, t->name);
		tidm_buf_printf(&ins, ",%u,", made[i]->no);
		if (made[i]->lower)
			full_put_str(&ins, made[i]->lower);
		else
			tidm_buf_puts(&ins, "NULL");
		tidm_buf_putc(&ins, ',');
		if (made[i]->upper)
			full_put_str(&ins, made[i]->upper);
		else
			tidm_buf_puts(&ins, "NULL");
		tidm_buf_puts(&ins, ",'pending')");
		if ((rc = tidm_conn_exec(tgt, ins.data, ins.len)) < 0)
			break;
	}
	if (rc == 0) {
		tidm_buf_clear(&ins);
		tidm_buf_puts(&ins, "INSERT INTO `" META_DB "`.`tables` (`job`,`db`,`tbl`,`chunks`,`create_sql`) VALUES (");
		full_put_str(&ins, r->cfg->name);
		tidm_buf_putc(&ins, ',');
		full_put_str(&ins, t->db);
		tidm_buf_putc(&ins, ',');
		full_put_str(&ins, t->name);
		tidm_buf_printf(&ins, ",%zu,", nmade);
		if (t->create_sql)
			full_put_str(&ins, t->create_sql);
		else
			tidm_buf_puts(&ins, "NULL");
		/* the row's deferred_keys (create_table) stay */
		tidm_buf_puts(&ins, ") ON DUPLICATE KEY UPDATE `chunks` = VALUES(`chunks`), `create_sql` = VALUES(`create_sql`)");
		rc = tidm_conn_exec(tgt, ins.data, ins.len);
	}
	if (rc < 0) {
		tidm_conn_rollback(tgt);
		goto out;
	}
	if ((rc = tidm_conn_commit(tgt)) < 0)
		goto out;
	atomic_store(&t->chunks_left, nmade);
	atomic_fetch_add(&r->prog->chunks_total, nmade);
	for (i = 0; i < nmade; i++)
		todo_push(r, made[i]);
	nmade = 0;
out:
	for (i = 0; i < nmade; i++)
		full_chunk_free(made[i]);
	free(made);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&ins);
	tidm_buf_dispose(&prev);
	tidm_buf_dispose(&cur);
	return rc;
}

table *full_find_table(run *r, const char *db, const char *name)
{
	size_t k;
	for (k = 0; k < r->ntables; k++)
		if (!r->tables[k].is_view && !strcmp(r->tables[k].db, db) && !strcmp(r->tables[k].name, name))
			return &r->tables[k];
	return NULL;
}

/* Read back the plans of an earlier run: pending chunks go to the todo list. */
int full_load_plans(run *r, tidm_conn *tgt)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc;

	tidm_buf_puts(&q, "SELECT t.`db`, t.`tbl`, c.`no`, c.`lower_sql`, c.`upper_sql`, c.`state`, c.`rows_copied`, "
			  "c.`bytes_copied` FROM `" META_DB "`.`tables` t JOIN `" META_DB "`.`chunks` c "
			  "ON c.`job` = t.`job` AND c.`db` = t.`db` AND c.`tbl` = t.`tbl` WHERE t.`job` = ");
	full_put_str(&q, r->cfg->name);
	tidm_buf_puts(&q, " ORDER BY t.`db`, t.`tbl`, c.`no`");
	if ((rc = tidm_conn_query(tgt, &res, q.data)) < 0)
		goto out;
	while (tidm_res_next(res) == 1) {
		table *t = full_find_table(r, tidm_res_get(res, 0), tidm_res_get(res, 1));
		if (!t || !strcmp(tidm_res_get(res, 5), "gone"))
			continue; /* no longer selected or no longer on the source */
		t->planned = true;
		atomic_fetch_add(&r->prog->chunks_total, 1);
		if (!strcmp(tidm_res_get(res, 5), "done")) {
			atomic_fetch_add(&r->prog->chunks_done, 1);
			atomic_fetch_add(&r->prog->chunks_skipped, 1);
			atomic_fetch_add(&r->prog->rows_done, strtoull(tidm_res_get(res, 6), NULL, 10));
			atomic_fetch_add(&r->prog->rows_skipped, strtoull(tidm_res_get(res, 6), NULL, 10));
			atomic_fetch_add(&r->prog->bytes_done, strtoull(tidm_res_get(res, 7), NULL, 10));
			continue;
		}
		atomic_fetch_add(&t->chunks_left, 1);
		todo_push(r, chunk_new(t, (unsigned)strtoul(tidm_res_get(res, 2), NULL, 10), tidm_res_get(res, 3),
				       tidm_res_get(res, 4)));
	}
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}
