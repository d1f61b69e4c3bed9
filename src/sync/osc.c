/*
 * osc.c - online schema change tools (gh-ost, pt-online-schema-change).
 *
 * DESIGN
 *  Online schema change tools alter a copy of a table, `_t_gho` / `_t_new`, fill it, then
 *  swap it in: RENAME TABLE t TO _t_del (or _t_old), _t_gho TO t. When the job selects t
 *  but not the copy, the copy's ALTER TABLE statements are kept in tidm_meta.osc (by binlog
 *  position, so a replay keeps one of each: sync_osc_record) and run on t at the swap (sync_osc_swap,
 *  sync_osc_statements), which is not replicated as a rename; the copy's rows are not needed,
 *  the target's t has its own. sync_osc_forget drops what was kept for a copy.
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
 * Online schema change tools (gh-ost, pt-online-schema-change) alter a copy of a table,
 * `_t_gho` / `_t_new`, fill it, then swap it in: RENAME TABLE t TO _t_del (or _t_old),
 * _t_gho TO t. When the job selects t but not the copy, the copy's ALTER TABLE statements
 * are kept in tidm_meta.osc (by binlog position, so a replay keeps one of each) and run on
 * t at the swap, which is not replicated as a rename; the copy's rows are not needed, the
 * target's t has its own.
 */

static bool osc_base(const char *name, const char **base, size_t *len)
{
	size_t n = strlen(name);
	if (n < 6 || name[0] != '_' || (strcmp(name + n - 4, "_gho") != 0 && strcmp(name + n - 4, "_new") != 0))
		return false;
	*base = name + 1;
	*len = n - 5;
	return true;
}

/* `db`.`name` is an online schema change tool's copy of the selected table `db`.`base`. */
static bool osc_copy_of(struct tidm_applier *a, const char *db, const char *name, char *base, size_t cap)
{
	const char *b;
	size_t n;

	if (!osc_base(name, &b, &n) || sync_ddl_selected(db, name, a))
		return false;
	while (n) {
		if (n < cap) {
			memcpy(base, b, n);
			base[n] = '\0';
			if (sync_ddl_selected(db, base, a))
				return true;
		}
		if (b[0] != '_')
			break;
		b++, n--; /* pt-osc adds underscores until the name is free */
	}
	return false;
}

int sync_osc_record(struct tidm_applier *a, const tidm_binlog_event *ev, const tidm_ddl *d)
{
	const tidm_binlog_query *q = &ev->u.query;
	const tidm_ddl_obj *o;
	char base[256];
	tidm_buf stmt = TIDM_BUF_INIT, ins = TIDM_BUF_INIT;
	int rc;

	if (d->n_objs < 1 || d->objs[0].role != TIDM_DDL_OBJ_TABLE || !d->objs[0].db || !d->objs[0].name)
		return 0;
	o = &d->objs[0];
	if (d->kind == TIDM_DDL_DROP_TABLE) { /* the tool gave up: forget its changes */
		size_t i;
		for (i = 0; i < d->n_objs; i++)
			if (d->objs[i].db && d->objs[i].name &&
			    osc_copy_of(a, d->objs[i].db, d->objs[i].name, base, sizeof(base)) &&
			    (rc = sync_osc_forget(a, d->objs[i].db, base)) < 0)
				return rc;
		return 0;
	}
	if (d->kind != TIDM_DDL_ALTER_TABLE || d->n_objs != 1 || !osc_copy_of(a, o->db, o->name, base, sizeof(base)))
		return 0;
	/* the same statement on the selected table: ALTER TABLE `db`.`t` <the changes> */
	tidm_buf_puts(&stmt, "ALTER TABLE ");
	tidm_quote_qualified(&stmt, o->db, base);
	tidm_buf_put(&stmt, q->sql + o->end, q->sql_len - o->end);
	tidm_buf_puts(&ins, "INSERT IGNORE INTO `" META_DB "`.`osc` (`job`, `db`, `tbl`, `file`, `pos`, `stmt`) VALUES (");
	tidm_quote_string(&ins, a->cfg->name, strlen(a->cfg->name));
	tidm_buf_putc(&ins, ',');
	tidm_quote_string(&ins, o->db, strlen(o->db));
	tidm_buf_putc(&ins, ',');
	tidm_quote_string(&ins, base, strlen(base));
	tidm_buf_putc(&ins, ',');
	tidm_quote_string(&ins, a->cur_file, strlen(a->cur_file));
	tidm_buf_printf(&ins, ",%" PRIu64 ",", a->txn_start);
	tidm_quote_string(&ins, stmt.data, stmt.len);
	tidm_buf_putc(&ins, ')');
	rc = tidm_conn_exec(a->conn, ins.data, ins.len);
	if (rc == 0)
		tidm_info("`%s`.`%s`: kept for the swap of `%s`: %.*s", o->db, o->name, base, (int)(stmt.len > 200 ? 200 : stmt.len),
			  stmt.data);
	tidm_buf_dispose(&stmt);
	tidm_buf_dispose(&ins);
	return rc;
}

/* RENAME TABLE t TO _t_del|_t_old|..., _t_gho|_t_new TO t with t selected and the others not:
 * the object for t (the first pair), else NULL. */
const tidm_ddl_obj *sync_osc_swap(struct tidm_applier *a, const tidm_ddl *d)
{
	const tidm_ddl_obj *x, *y;
	char base[256];

	if (d->kind != TIDM_DDL_RENAME_TABLE || d->n_objs != 2)
		return NULL;
	x = &d->objs[0], y = &d->objs[1];
	if (!x->db || !x->name || !x->new_db || !x->new_name || !y->db || !y->name || !y->new_db || !y->new_name)
		return NULL;
	if (!sync_ddl_selected(x->db, x->name, a) || sync_ddl_selected(x->new_db, x->new_name, a) ||
	    strcmp(y->new_db, x->db) != 0 || strcmp(y->new_name, x->name) != 0 || strcmp(y->db, x->db) != 0 ||
	    !osc_copy_of(a, y->db, y->name, base, sizeof(base)) || strcmp(base, x->name) != 0)
		return NULL;
	return x;
}

/* The kept statements for `db`.`t`, adapted to the target, in binlog order, "; "-joined. */
int sync_osc_statements(struct tidm_applier *a, const tidm_ddl_obj *t, const tidm_ddl_opts *dopts, tidm_buf *out)
{
	tidm_buf q = TIDM_BUF_INIT, one = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	tidm_ddl d = TIDM_DDL_INIT;
	int rc, action;

	tidm_buf_clear(out);
	tidm_buf_puts(&q, "SELECT `stmt` FROM `" META_DB "`.`osc` WHERE `job` = ");
	tidm_quote_string(&q, a->cfg->name, strlen(a->cfg->name));
	tidm_buf_puts(&q, " AND `db` = ");
	tidm_quote_string(&q, t->db, strlen(t->db));
	tidm_buf_puts(&q, " AND `tbl` = ");
	tidm_quote_string(&q, t->name, strlen(t->name));
	tidm_buf_puts(&q, " ORDER BY `file`, `pos`");
	rc = tidm_conn_query(a->conn, &res, q.data);
	tidm_buf_dispose(&q);
	if (rc < 0)
		return rc;
	while (rc == 0 && tidm_res_next(res) == 1) {
		const char *st = tidm_res_get(res, 0);
		if (!st)
			continue;
		if ((rc = tidm_ddl_parse(&d, st, strlen(st), NULL)) < 0 ||
		    (rc = tidm_ddl_rewrite(&one, &d, st, strlen(st), dopts, sync_ddl_selected, a, &action)) < 0)
			break;
		if (action == TIDM_DDL_FAIL) {
			rc = TIDM_EUNSUPPORTED;
			break;
		}
		if (action == TIDM_DDL_APPLY && one.len) {
			if (out->len)
				tidm_buf_puts(out, "; ");
			tidm_buf_put(out, one.data, one.len);
		}
	}
	if (rc == 0)
		tidm_info("`%s`.`%s`: an online schema change swaps its copy in: %s", t->db, t->name,
			  out->len ? out->data : "(no changes)");
	else
		tidm_err_prefix("`%s`.`%s`: the changes kept for the online schema change: ", t->db, t->name);
	tidm_res_free(res);
	tidm_ddl_dispose(&d);
	tidm_buf_dispose(&one);
	return rc;
}

int sync_osc_forget(struct tidm_applier *a, const char *db, const char *t)
{
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	tidm_buf_puts(&q, "DELETE FROM `" META_DB "`.`osc` WHERE `job` = ");
	tidm_quote_string(&q, a->cfg->name, strlen(a->cfg->name));
	tidm_buf_puts(&q, " AND `db` = ");
	tidm_quote_string(&q, db, strlen(db));
	tidm_buf_puts(&q, " AND `tbl` = ");
	tidm_quote_string(&q, t, strlen(t));
	rc = tidm_conn_exec(a->conn, q.data, q.len);
	tidm_buf_dispose(&q);
	return rc;
}
