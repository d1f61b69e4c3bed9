/*
 * keyless.c - tables without a key in the full phase (see keyless.h).
 *
 * DESIGN
 *  A keyless table's rows carry nothing that says who wrote them, so the only safe
 *  repeat of its copy is from an empty table. tidm therefore claims a keyless target
 *  table ("own") only when it is missing or empty at the job's start (or already claimed
 *  by this job), and records the claim in tidm_meta.tables.keyless before its first row;
 *  a claimed table is emptied before each copy of it, so neither an interrupted copy
 *  whose rows were committed (TiDB before v7.6 commits LOAD DATA by itself) nor a
 *  restarted job doubles it. A table holding rows tidm did not write is never emptied:
 *  the job is refused before anything is written, unless `spec.keyless-nonempty: append`
 *  asks for the source's rows to be added ("append").
 *  The marks of earlier runs are read before a fresh run resets the job's records, so a
 *  restart still knows which tables it filled.
 */
#include "dump/keyless.h"

#include <stdlib.h>
#include <string.h>

#include "db/meta.h"
#include "db/quote.h"
#include "util/err.h"
#include "util/log.h"

#define META "`" TIDM_META_DB "`"

static char *dup_or_die(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	return d;
}

int tidm_keyless_marks_read(tidm_conn *tgt, const char *job, tidm_keyless_marks *out)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	tidm_buf_puts(&q, "SELECT `db`, `tbl`, `keyless` FROM " META ".`tables` WHERE `keyless` IS NOT NULL AND `job` = ");
	tidm_quote_string(&q, job, strlen(job));
	if ((rc = tidm_conn_query(tgt, &res, q.data)) == 0)
		while (tidm_res_next(res) == 1) {
			size_t n = out->n + 1;
			char **d = realloc(out->db, n * sizeof(char *)), **t, **m;
			if (!d)
				abort();
			out->db = d;
			if (!(t = realloc(out->tbl, n * sizeof(char *))))
				abort();
			out->tbl = t;
			if (!(m = realloc(out->mode, n * sizeof(char *))))
				abort();
			out->mode = m;
			out->db[out->n] = dup_or_die(tidm_res_get(res, 0));
			out->tbl[out->n] = dup_or_die(tidm_res_get(res, 1));
			out->mode[out->n] = dup_or_die(tidm_res_get(res, 2));
			out->n = n;
		}
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

const char *tidm_keyless_marks_get(const tidm_keyless_marks *m, const char *db, const char *tbl)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->db[i], db) && !strcmp(m->tbl[i], tbl))
			return !strcmp(m->mode[i], TIDM_KEYLESS_MARK_OWN) ? TIDM_KEYLESS_MARK_OWN : TIDM_KEYLESS_MARK_APPEND;
	return NULL;
}

void tidm_keyless_marks_dispose(tidm_keyless_marks *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->db[i]);
		free(m->tbl[i]);
		free(m->mode[i]);
	}
	free(m->db);
	free(m->tbl);
	free(m->mode);
	memset(m, 0, sizeof(*m));
}

/* Does the target table exist and hold at least one row? */
static int has_rows(tidm_conn *tgt, const char *db, const char *tbl, bool *any)
{
	tidm_buf q = TIDM_BUF_INIT;
	char *v = NULL;
	int rc;

	*any = false;
	tidm_buf_puts(&q, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
	tidm_quote_string(&q, db, strlen(db));
	tidm_buf_puts(&q, " AND TABLE_NAME = ");
	tidm_quote_string(&q, tbl, strlen(tbl));
	rc = tidm_conn_query_value(tgt, &v, q.data);
	if (rc == 0 && v && strcmp(v, "0") != 0) {
		free(v);
		v = NULL;
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "SELECT COUNT(*) FROM (SELECT 1 FROM ");
		tidm_quote_qualified(&q, db, tbl);
		tidm_buf_puts(&q, " LIMIT 1) AS `any_row`");
		rc = tidm_conn_query_value(tgt, &v, q.data);
		*any = rc == 0 && v && strcmp(v, "0") != 0;
	}
	if (rc < 0)
		tidm_err_prefix("cannot tell whether the target table `%s`.`%s` holds rows: ", db, tbl);
	free(v);
	tidm_buf_dispose(&q);
	return rc;
}

int tidm_keyless_copied_before(tidm_conn *tgt, const char *job, const char *db, const char *tbl, bool *done)
{
	tidm_buf q = TIDM_BUF_INIT;
	char *v = NULL;
	int rc;

	tidm_buf_puts(&q, "SELECT COUNT(*) FROM " META ".`chunks` WHERE `state` = 'done' AND `job` = ");
	tidm_quote_string(&q, job, strlen(job));
	tidm_buf_puts(&q, " AND `db` = ");
	tidm_quote_string(&q, db, strlen(db));
	tidm_buf_puts(&q, " AND `tbl` = ");
	tidm_quote_string(&q, tbl, strlen(tbl));
	rc = tidm_conn_query_value(tgt, &v, q.data);
	*done = rc == 0 && v && strcmp(v, "0") != 0;
	free(v);
	tidm_buf_dispose(&q);
	return rc;
}

int tidm_keyless_decide(tidm_conn *tgt, const char *db, const char *tbl, const char *prev, bool kept, bool append,
			const char **mode, tidm_buf *refused)
{
	bool any;
	int rc;

	*mode = NULL;
	if (kept && prev) {
		*mode = prev;
		return 0;
	}
	if ((rc = has_rows(tgt, db, tbl, &any)) < 0)
		return rc;
	if (!any || (prev && !strcmp(prev, TIDM_KEYLESS_MARK_OWN))) {
		*mode = TIDM_KEYLESS_MARK_OWN;
	} else if (append) {
		*mode = TIDM_KEYLESS_MARK_APPEND;
		tidm_warn("`%s`.`%s` has no key and already holds rows on the target: the source's rows are added to "
			  "them (spec.keyless-nonempty: append)%s",
			  db, tbl, prev ? "; the rows an earlier run of this job added stay there too" : "");
	} else {
		if (refused->len)
			tidm_buf_puts(refused, ", ");
		tidm_buf_putc(refused, '`');
		tidm_buf_puts(refused, db);
		tidm_buf_puts(refused, "`.`");
		tidm_buf_puts(refused, tbl);
		tidm_buf_putc(refused, '`');
	}
	return 0;
}

int tidm_keyless_mark(tidm_conn *tgt, const char *job, const char *db, const char *tbl, const char *mode)
{
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	tidm_buf_puts(&q, "UPDATE " META ".`tables` SET `keyless` = ");
	tidm_quote_string(&q, mode, strlen(mode));
	tidm_buf_puts(&q, " WHERE `job` = ");
	tidm_quote_string(&q, job, strlen(job));
	tidm_buf_puts(&q, " AND `db` = ");
	tidm_quote_string(&q, db, strlen(db));
	tidm_buf_puts(&q, " AND `tbl` = ");
	tidm_quote_string(&q, tbl, strlen(tbl));
	rc = tidm_conn_exec(tgt, q.data, q.len);
	tidm_buf_dispose(&q);
	return rc;
}

int tidm_keyless_empty(tidm_conn *tgt, const char *db, const char *tbl)
{
	tidm_buf q = TIDM_BUF_INIT;
	bool any;
	int rc;

	if ((rc = has_rows(tgt, db, tbl, &any)) < 0 || !any)
		goto out;
	tidm_buf_puts(&q, "TRUNCATE TABLE ");
	tidm_quote_qualified(&q, db, tbl);
	if ((rc = tidm_conn_exec(tgt, q.data, q.len)) < 0) {
		/* TRUNCATE needs the DROP privilege and is refused under some foreign keys */
		tidm_debug("TRUNCATE TABLE `%s`.`%s` refused (%s): deleting its rows", db, tbl, tidm_err_msg());
		tidm_err_clear();
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "DELETE FROM ");
		tidm_quote_qualified(&q, db, tbl);
		rc = tidm_conn_exec(tgt, q.data, q.len);
	}
	if (rc < 0) {
		tidm_err_prefix("cannot empty the target table `%s`.`%s` (no key) before copying it again: ", db, tbl);
		goto out;
	}
	tidm_info("`%s`.`%s` has no key: emptied it on the target before copying it again (it held rows tidm "
		  "copied in an earlier or interrupted run, which would otherwise be there twice)",
		  db, tbl);
out:
	tidm_buf_dispose(&q);
	return rc;
}

int tidm_keyless_refuse(const tidm_buf *refused)
{
	return tidm_err_set(TIDM_EINVAL,
			    "target table%s %s: no primary or unique key, and already holding rows tidm did not write; "
			    "copying would add the source's rows to them, and a second copy could not be told apart. "
			    "Nothing was written. Empty %s on the target, or set spec.keyless-nonempty: append in the "
			    "job file to add the rows anyway",
			    strchr(refused->data, ',') ? "s" : "", refused->data, strchr(refused->data, ',') ? "them" : "it");
}
