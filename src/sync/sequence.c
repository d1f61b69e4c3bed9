/*
 * sequence.c - MariaDB sequences in replication (see sequence.h).
 *
 * DESIGN: the applier asks two questions of this module: is this rows event on a
 * sequence (then it is not a row change of a table: the sequence's new state is written
 * here, at once, on the coordinator's connection), and is this QUERY a sequence statement
 * (then the statement to run comes from db/dialect's mapping for the target). Which
 * tables are sequences is known from the target at start (information_schema.TABLES,
 * TABLE_TYPE 'SEQUENCE', on MariaDB and TiDB) and from the CREATE/DROP SEQUENCE the
 * binlog carries afterwards; a MySQL target has none, so there the row event's column
 * types identify a sequence the target lacks (checked once per name). Nothing here keeps
 * state the checkpoints would need: each state written is the source's whole state.
 */
#include "sync/sequence.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/dialect.h"
#include "db/quote.h"
#include "util/err.h"
#include "util/log.h"

struct name {
	char *db, *name;
	int state; /* 1 sequence, 0 not (MySQL target look-up), for `known` */
	bool warned;
};

struct tidm_seq_sync {
	tidm_conn *tgt;
	enum tidm_flavor flavor;
	unsigned version;
	struct name *v;
	size_t n, cap;
};

static struct name *find(tidm_seq_sync *s, const char *db, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].db, db) && !strcmp(s->v[i].name, name))
			return &s->v[i];
	return NULL;
}

static struct name *add(tidm_seq_sync *s, const char *db, const char *name, int state)
{
	struct name *x = find(s, db, name);

	if (x) {
		x->state = state;
		return x;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			abort();
	}
	x = &s->v[s->n++];
	memset(x, 0, sizeof(*x));
	x->db = strdup(db);
	x->name = strdup(name);
	if (!x->db || !x->name)
		abort();
	x->state = state;
	return x;
}

int tidm_seq_sync_new(tidm_seq_sync **out, tidm_conn *tgt)
{
	tidm_seq_sync *s = calloc(1, sizeof(*s));
	tidm_res *res = NULL;
	int rc;

	if (!s)
		abort();
	s->tgt = tgt;
	s->flavor = tidm_conn_info(tgt)->flavor;
	s->version = tidm_conn_info(tgt)->version;
	if (s->flavor != TIDM_FLAVOR_MYSQL) {
		rc = tidm_conn_query(tgt, &res,
				     "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = "
				     "'SEQUENCE'");
		if (rc < 0) {
			tidm_err_prefix("cannot list the target's sequences: ");
			tidm_seq_sync_free(s);
			return rc;
		}
		while (tidm_res_next(res) == 1)
			if (tidm_res_get(res, 0) && tidm_res_get(res, 1))
				add(s, tidm_res_get(res, 0), tidm_res_get(res, 1), 1);
		tidm_res_free(res);
	}
	*out = s;
	return 0;
}

void tidm_seq_sync_free(tidm_seq_sync *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->v[i].db);
		free(s->v[i].name);
	}
	free(s->v);
	free(s);
}

/* The column types of a MariaDB sequence table. */
static bool sequence_shape(const tidm_binlog_table *tm)
{
	unsigned i;

	if (tm->ncols != 8)
		return false;
	for (i = 0; i < 8; i++)
		if (tm->cols[i].type != (i == 6 ? TIDM_COL_TINY : TIDM_COL_LONGLONG))
			return false;
	return true;
}

bool tidm_seq_sync_is(tidm_seq_sync *s, const tidm_binlog_table *tm)
{
	struct name *x = find(s, tm->db, tm->table);
	tidm_buf q = TIDM_BUF_INIT;
	char *n = NULL;
	bool lacks;

	if (x)
		return x->state == 1;
	if (s->flavor != TIDM_FLAVOR_MYSQL || !sequence_shape(tm))
		return false;
	tidm_buf_puts(&q, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
	tidm_quote_string(&q, tm->db, strlen(tm->db));
	tidm_buf_puts(&q, " AND TABLE_NAME = ");
	tidm_quote_string(&q, tm->table, strlen(tm->table));
	lacks = tidm_conn_query_value(s->tgt, &n, q.data) == 0 && n && !strcmp(n, "0");
	tidm_err_clear();
	free(n);
	tidm_buf_dispose(&q);
	add(s, tm->db, tm->table, lacks ? 1 : 0);
	return lacks;
}

static long long as_i64(const tidm_binlog_value *v)
{
	return v->kind == TIDM_BV_UINT ? (long long)v->v.u : (long long)v->v.i;
}

int tidm_seq_sync_rows(tidm_seq_sync *s, struct tidm_binlog_decoder *dec, const tidm_binlog_event *ev)
{
	const tidm_binlog_table *tm = ev->u.rows.table;
	tidm_binlog_row_iter it;
	tidm_binlog_row row;
	tidm_seq_state st;
	bool have = false;
	tidm_buf b = TIDM_BUF_INIT;
	int rc, got;
	unsigned i;

	if ((rc = tidm_binlog_rows_begin(&it, dec, ev)) < 0)
		return rc;
	while ((got = tidm_binlog_rows_next(&it, &row)) == 1) {
		if (!row.after || row.ncols < 8)
			continue; /* a DELETE: the sequence is being dropped, its DROP comes as a statement */
		for (i = 0; i < 8; i++)
			if (row.after[i].kind != TIDM_BV_INT && row.after[i].kind != TIDM_BV_UINT)
				return tidm_err_set(TIDM_ECORRUPT,
						    "the row event on sequence `%s`.`%s` has no value for column %u "
						    "(binlog_row_image must be FULL for sequences)",
						    tm->db, tm->table, i + 1);
		st.next_not_cached = as_i64(&row.after[0]);
		st.min = as_i64(&row.after[1]);
		st.max = as_i64(&row.after[2]);
		st.start = as_i64(&row.after[3]);
		st.increment = as_i64(&row.after[4]);
		st.cache = (unsigned long long)as_i64(&row.after[5]);
		st.cycle = (int)as_i64(&row.after[6]);
		st.cycle_count = as_i64(&row.after[7]);
		have = true;
	}
	if (got < 0)
		return got;
	if (!have)
		return 0;
	rc = tidm_dialect_sequence_state(&b, tm->db, tm->table, &st, s->flavor);
	if (rc == TIDM_EUNSUPPORTED) {
		struct name *x = add(s, tm->db, tm->table, 1);
		if (!x->warned)
			tidm_warn("%s; NEXTVAL/SETVAL on it are not replicated (said once per sequence)", tidm_err_msg());
		x->warned = true;
		tidm_err_clear();
		rc = 0;
	} else if (rc == 0 && b.len && (rc = tidm_conn_exec(s->tgt, b.data, b.len)) < 0) {
		tidm_err_prefix("cannot set the state of sequence `%s`.`%s` on the target (%s): ", tm->db, tm->table,
				b.data);
	}
	tidm_buf_dispose(&b);
	return rc;
}

int tidm_seq_sync_ddl(tidm_seq_sync *s, tidm_buf *out, const char *sql, size_t len, const char *defdb,
		      bool (*selected)(const char *db, const char *table, void *payload), void *payload)
{
	tidm_seq_info info;
	tidm_buf stmt = TIDM_BUF_INIT;
	size_t i;
	bool any = false;
	int rc;

	tidm_buf_clear(out);
	rc = tidm_dialect_adapt_sequence(&stmt, &info, sql, len, s->flavor, s->version, NULL);
	if (info.kind == TIDM_SEQ_NONE) {
		tidm_buf_dispose(&stmt);
		return rc < 0 && rc != TIDM_EUNSUPPORTED ? rc : 0;
	}
	if (info.temporary) {
		tidm_buf_dispose(&stmt);
		return 1; /* temporary sequences are not replicated, like temporary tables */
	}
	for (i = 0; i < info.n_names; i++) {
		const char *db = info.names[i].db[0] ? info.names[i].db : defdb ? defdb : "";
		if (selected(db, info.names[i].name, payload))
			any = true;
		if (info.kind == TIDM_SEQ_DROP)
			add(s, db, info.names[i].name, 0);
		else
			add(s, db, info.names[i].name, 1);
	}
	if (!any) {
		tidm_buf_dispose(&stmt);
		return 1;
	}
	if (rc == TIDM_EUNSUPPORTED) {
		tidm_warn("%s", tidm_err_msg());
		tidm_err_clear();
	} else if (rc < 0) {
		tidm_buf_dispose(&stmt);
		return rc;
	} else {
		tidm_buf_put(out, stmt.data, stmt.len);
	}
	tidm_buf_dispose(&stmt);
	return 1;
}
