/*
 * rounds.c - DDL on the source while the full phase copies: stale tables and re-copy rounds.
 *
 * DESIGN
 *  Definitions are read under the snapshot's lock, and columns and keys only count when the
 *  definition is still that one afterwards (full_describe_snapshot), so the rows read and the
 *  table made agree. A table the snapshot can no longer read - a later ALTER that rebuilt
 *  it (1412), a dropped column (1054), renamed or dropped (1146) - is marked stale
 *  (full_mark_stale, full_stale_error) and its other chunks are passed over. When a round ends
 *  (full_next_round), another round takes a new snapshot at P' and copies the stale tables
 *  again, their target copies dropped first (full_drop_stale), together with the tables that
 *  appeared since (a RENAME's new name). Stale tables gone at P' are dropped on the target
 *  and recorded as 'gone' chunks at P' (record_gone). Chunks record the snapshot they were
 *  copied under, so replication (type all) skips those tables' events before P'
 *  (sync/apply.h windows): the DDL itself is in the new copy. A resumed run treats tables it
 *  copied before and that are gone from the source the same way. Table names of a round
 *  are kept as "db\0name\0" lists (names_add, full_names_has).
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

static void names_add(tidm_buf *b, const char *db, const char *name)
{
	tidm_buf_put(b, db, strlen(db) + 1);
	tidm_buf_put(b, name, strlen(name) + 1);
}

bool full_names_has(const tidm_buf *b, const char *db, const char *name)
{
	const char *p = b->data, *end = b->data + b->len;

	while (p && p < end) {
		const char *n = p + strlen(p) + 1;
		if (!strcmp(p, db) && !strcmp(n, name))
			return true;
		p = n + strlen(n) + 1;
	}
	return false;
}

/* The source's last error says a table cannot be read in this snapshot any more (7.). */
bool full_stale_error(void)
{
	unsigned e = tidm_err_dberr();
	return e == 1412 /* ER_TABLE_DEF_CHANGED */ || e == 1146 /* ER_NO_SUCH_TABLE */ ||
	       e == 1054 /* ER_BAD_FIELD_ERROR */;
}

void full_mark_stale(table *t)
{
	if (!atomic_exchange(&t->stale, true))
		tidm_info("`%s`.`%s` changed on the source after the snapshot (%s): it is copied again from a later "
			  "snapshot",
			  t->db, t->name, tidm_err_msg());
	tidm_err_clear();
}

/*
 * The table db.name is not on the source at this round's snapshot: drop its target copy
 * and forget its chunks, and record one 'gone' chunk at the snapshot's position, so
 * replication (runner's windows) passes over its events before it - its DROP or RENAME.
 */
static int record_gone(run *r, tidm_conn *tgt, const char *db, const char *name)
{
	tidm_buf q = TIDM_BUF_INIT;
	table tmp;
	int rc;

	memset(&tmp, 0, sizeof(tmp));
	tmp.db = full_xstrdup(db);
	tmp.name = full_xstrdup(name);
	tidm_info("`%s`.`%s` is no longer on the source: its copy on the target is dropped", db, name);
	if ((rc = full_forget_table(r, tgt, &tmp)) < 0)
		goto out;
	tidm_buf_puts(&q, "INSERT INTO `" META_DB "`.`tables` (`job`,`db`,`tbl`,`chunks`) VALUES (");
	full_put_str(&q, r->cfg->name);
	tidm_buf_putc(&q, ',');
	full_put_str(&q, db);
	tidm_buf_putc(&q, ',');
	full_put_str(&q, name);
	tidm_buf_puts(&q, ",0)");
	if ((rc = tidm_conn_exec(tgt, q.data, q.len)) < 0)
		goto out;
	tidm_buf_clear(&q);
	tidm_buf_puts(&q, "INSERT INTO `" META_DB "`.`chunks` (`job`,`db`,`tbl`,`no`,`state`,`snap_file`,`snap_pos`) VALUES (");
	full_put_str(&q, r->cfg->name);
	tidm_buf_putc(&q, ',');
	full_put_str(&q, db);
	tidm_buf_putc(&q, ',');
	full_put_str(&q, name);
	tidm_buf_puts(&q, ",0,'gone',");
	full_put_str(&q, r->copy_snap.file);
	tidm_buf_printf(&q, ",%llu)", (unsigned long long)r->copy_snap.pos);
	rc = tidm_conn_exec(tgt, q.data, q.len);
out:
	if (rc < 0)
		tidm_err_prefix("dropping the target copy of `%s`.`%s`: ", db, name);
	tidm_buf_dispose(&q);
	full_table_dispose(&tmp);
	return rc;
}

/*
 * Before a round copies: the stale tables of the last round lose their target copies
 * (those still on the source are made again from this snapshot); on a resumed run, tables
 * an earlier run copied that are gone from the source are dropped on the target.
 */
int full_drop_stale(run *r, tidm_conn *tgt)
{
	const char *p, *end;
	tidm_buf q = TIDM_BUF_INIT, gone = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc = 0;

	if (r->round == 0 && r->resumed) {
		tidm_buf_puts(&q, "SELECT `db`, `tbl` FROM `" META_DB "`.`tables` WHERE `job` = ");
		full_put_str(&q, r->cfg->name);
		if ((rc = tidm_conn_query(tgt, &res, q.data)) < 0)
			goto out;
		while (tidm_res_next(res) == 1) {
			const char *db = tidm_res_get(res, 0), *name = tidm_res_get(res, 1);
			if (tidm_filter_match_table(&r->cfg->objects, db, name) && !full_find_table(r, db, name))
				names_add(&gone, db, name);
		}
	}
	for (p = r->stale_names.data, end = p + r->stale_names.len; p && p < end;) {
		const char *name = p + strlen(p) + 1;
		table tmp;
		if (full_find_table(r, p, name)) {
			memset(&tmp, 0, sizeof(tmp));
			tmp.db = (char *)p;
			tmp.name = (char *)name;
			if ((rc = full_forget_table(r, tgt, &tmp)) < 0)
				goto out;
		} else {
			names_add(&gone, p, name);
		}
		p = name + strlen(name) + 1;
	}
	for (p = gone.data, end = p + gone.len; p && p < end;) {
		const char *name = p + strlen(p) + 1;
		if ((rc = record_gone(r, tgt, p, name)) < 0)
			goto out;
		p = name + strlen(name) + 1;
	}
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&gone);
	return rc;
}

/* After a round: stale tables go to the next round (true when there are any). */
bool full_next_round(run *r)
{
	tidm_buf stale = TIDM_BUF_INIT;
	size_t k;
	bool any;

	for (k = 0; k < r->ntables; k++)
		names_add(atomic_load(&r->tables[k].stale) ? &stale : &r->done_names, r->tables[k].db,
			  r->tables[k].name);
	tidm_buf_dispose(&r->stale_names);
	r->stale_names = stale;
	any = stale.len > 0;
	for (k = 0; k < r->ntodo; k++)
		full_chunk_free(r->todo[k]);
	r->ntodo = 0;
	atomic_store(&r->next_chunk, 0);
	return any;
}
