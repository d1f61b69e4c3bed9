/*
 * store.c - verify's results in tidm_meta.verify_tables on the target (schema: db/meta.c),
 * and the reader the job service and `tidm migrate` use.
 *
 * DESIGN
 *  One row per (job, table), replaced as the table's state changes: running with its chunk
 *  counts while chunks are compared (every 2 s), then equal / different / unsettled /
 *  error with the rows checked, the differing rows and, in `detail`, the error or the
 *  first differences one per line ("missing `id`=5"). A pass over all the job's tables
 *  first removes the job's rows (a table no longer selected or dropped leaves none); a
 *  pass over some (--tables) replaces theirs.
 */
#include "verify/verify_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "db/meta.h"
#include "db/quote.h"
#include "util/err.h"

#define DETAIL_DIFFS 20

int vstore_ensure(tidm_conn *tgt)
{
	return tidm_meta_ensure(tgt);
}

static void put_str(tidm_buf *b, const char *s)
{
	tidm_quote_string(b, s ? s : "", s ? strlen(s) : 0);
}

int vstore_reset(vrun *r, tidm_conn *tgt)
{
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	tidm_buf_puts(&q, "DELETE FROM `" TIDM_META_DB "`.`verify_tables` WHERE `job` = ");
	put_str(&q, r->cfg->name);
	rc = tidm_conn_exec(tgt, q.data, q.len);
	tidm_buf_dispose(&q);
	return rc;
}

static const char *side_word(enum tidm_verify_side s)
{
	return s == TIDM_VERIFY_MISSING ? "missing" : s == TIDM_VERIFY_EXTRA ? "extra" : "changed";
}

int vstore_put(vrun *r, tidm_conn *tgt, const tidm_verify_table_report *rep, enum tidm_verify_state st,
	       uint64_t chunks_total, uint64_t chunks_done, uint64_t rows_checked)
{
	tidm_buf q = TIDM_BUF_INIT, d = TIDM_BUF_INIT;
	size_t i;
	int rc;

	if (rep->error)
		tidm_buf_puts(&d, rep->error);
	for (i = 0; i < rep->ndiffs && i < DETAIL_DIFFS; i++)
		tidm_buf_printf(&d, "%s%s %s%s%s", d.len ? "\n" : "", side_word(rep->diffs[i].side), rep->diffs[i].key,
				rep->diffs[i].columns ? ": " : "", rep->diffs[i].columns ? rep->diffs[i].columns : "");
	tidm_buf_puts(&q, "REPLACE INTO `" TIDM_META_DB "`.`verify_tables` (`job`, `db`, `tbl`, `state`, `chunks_total`, "
			  "`chunks_done`, `rows_checked`, `differing_rows`, `pass`, `detail`) VALUES (");
	put_str(&q, r->cfg->name);
	tidm_buf_putc(&q, ',');
	put_str(&q, rep->db);
	tidm_buf_putc(&q, ',');
	put_str(&q, rep->table);
	tidm_buf_putc(&q, ',');
	put_str(&q, tidm_verify_state_name(st));
	tidm_buf_printf(&q, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%u,", chunks_total, chunks_done,
			rows_checked, rep->differing_rows, r->o->pass);
	if (d.len)
		put_str(&q, d.data);
	else
		tidm_buf_puts(&q, "NULL");
	tidm_buf_putc(&q, ')');
	rc = tidm_conn_exec(tgt, q.data, q.len);
	if (rc < 0)
		tidm_err_prefix("cannot record verify's results in `" TIDM_META_DB "`: ");
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&d);
	return rc;
}

int tidm_verify_results_read(tidm_conn *target, const char *job, tidm_verify_result **out, size_t *n)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	tidm_verify_result *v = NULL;
	size_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	tidm_buf_puts(&q, "SELECT `db`, `tbl`, `state`, `chunks_total`, `chunks_done`, `rows_checked`, `differing_rows`, "
			  "`pass`, DATE_FORMAT(`updated_at`, '%Y-%m-%d %H:%i:%s'), `detail` FROM `" TIDM_META_DB
			  "`.`verify_tables` WHERE `job` = ");
	put_str(&q, job);
	tidm_buf_puts(&q, " ORDER BY `db`, `tbl`");
	rc = tidm_conn_query(target, &res, q.data);
	if (rc < 0 && (tidm_err_dberr() == 1146 || tidm_err_dberr() == 1049)) {
		/* verify never ran against this target */
		tidm_err_clear();
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	v = calloc(tidm_res_rows(res) + 1, sizeof(*v));
	if (!v)
		abort();
	while (tidm_res_next(res) == 1) {
		tidm_verify_result *e = &v[k++];
		snprintf(e->db, sizeof(e->db), "%s", tidm_res_get(res, 0));
		snprintf(e->table, sizeof(e->table), "%s", tidm_res_get(res, 1));
		snprintf(e->state, sizeof(e->state), "%s", tidm_res_get(res, 2));
		e->chunks_total = strtoull(tidm_res_get(res, 3), NULL, 10);
		e->chunks_done = strtoull(tidm_res_get(res, 4), NULL, 10);
		e->rows_checked = strtoull(tidm_res_get(res, 5), NULL, 10);
		e->differing_rows = strtoull(tidm_res_get(res, 6), NULL, 10);
		e->pass = (unsigned)strtoul(tidm_res_get(res, 7), NULL, 10);
		snprintf(e->updated_at, sizeof(e->updated_at), "%s", tidm_res_get(res, 8) ? tidm_res_get(res, 8) : "");
		e->detail = tidm_res_get(res, 9) ? vstrdup(tidm_res_get(res, 9)) : NULL;
	}
	if (k) {
		*out = v;
		*n = k;
		v = NULL;
	}
out:
	free(v);
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

void tidm_verify_results_free(tidm_verify_result *r, size_t n)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < n; i++)
		free(r[i].detail);
	free(r);
}
