/*
 * sequences.c - copying MariaDB sequences in the full phase (see sequences.h).
 *
 * DESIGN: a sequence is a one-row table with a definition of its own; it is not planned
 * or chunked like a table (dump/snapshot.c leaves TABLE_TYPE 'SEQUENCE' to this file). For
 * each: SHOW CREATE SEQUENCE on the source, the dialect's mapping for the target, CREATE
 * (unless the target has it already as a sequence), then the state row read in the
 * snapshot written as the target takes it. dump/create.c makes views before this runs: a view
 * that calls NEXTVAL of a sequence is not ordered after it.
 */
#include "dump/sequences.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/dialect.h"
#include "db/quote.h"
#include "util/err.h"
#include "util/log.h"

/* "SEQUENCE", "BASE TABLE", ... of db.name on the target, or "" when absent. */
static int target_type(tidm_conn *tgt, const char *db, const char *name, char *out, size_t cap)
{
	tidm_buf q = TIDM_BUF_INIT;
	char *v = NULL;
	int rc;

	tidm_buf_puts(&q, "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
	tidm_quote_string(&q, db, strlen(db));
	tidm_buf_puts(&q, " AND TABLE_NAME = ");
	tidm_quote_string(&q, name, strlen(name));
	rc = tidm_conn_query_value(tgt, &v, q.data);
	tidm_buf_dispose(&q);
	if (rc == TIDM_ENOTFOUND)
		rc = 0;
	snprintf(out, cap, "%s", rc == 0 && v ? v : "");
	free(v);
	return rc;
}

static int copy_one(tidm_conn *src, tidm_conn *snap, tidm_conn *tgt, const char *db, const char *name,
		    tidm_buf *report)
{
	const tidm_server_info *ti = tidm_conn_info(tgt);
	tidm_buf q = TIDM_BUF_INIT, create = TIDM_BUF_INIT, qname = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	tidm_seq_info info;
	tidm_seq_state st;
	char ttype[64];
	int rc;

	tidm_quote_qualified(&qname, db, name);
	tidm_buf_printf(&q, "SHOW CREATE SEQUENCE %s", qname.data);
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0 || tidm_res_next(res) != 1 || !tidm_res_get(res, 1)) {
		if (rc >= 0)
			rc = tidm_err_set(TIDM_ENOTFOUND, "SHOW CREATE SEQUENCE returned nothing");
		tidm_err_prefix("cannot read the definition of sequence %s on the source: ", qname.data);
		goto out;
	}
	rc = tidm_dialect_adapt_sequence(&create, &info, tidm_res_get(res, 1), strlen(tidm_res_get(res, 1)),
					 ti->flavor, ti->version, report);
	tidm_res_free(res);
	res = NULL;
	if (rc == TIDM_EUNSUPPORTED) {
		/* SHOW CREATE names it unqualified: say which one */
		tidm_warn("sequence %s not copied: %s", qname.data, tidm_err_msg());
		tidm_err_clear();
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	if ((rc = target_type(tgt, db, name, ttype, sizeof(ttype))) < 0)
		goto out;
	if (ttype[0] && strcmp(ttype, "SEQUENCE") != 0) {
		rc = tidm_err_set(TIDM_ERROR,
				  "the target has %s as a %s, the source as a sequence; drop or rename it on the "
				  "target and run the job again",
				  qname.data, ttype);
		goto out;
	}
	if (!ttype[0]) {
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "CREATE DATABASE IF NOT EXISTS "); /* a database of sequences only */
		tidm_quote_ident(&q, db);
		rc = tidm_conn_exec(tgt, q.data, q.len);
		tidm_buf_clear(&q);
		tidm_buf_puts(&q, "USE ");
		tidm_quote_ident(&q, db);
		if (rc < 0 || (rc = tidm_conn_exec(tgt, q.data, q.len)) < 0 ||
		    (rc = tidm_conn_exec(tgt, create.data, create.len)) < 0) {
			tidm_err_prefix("cannot create sequence %s on the target: ", qname.data);
			goto out;
		}
	}
	tidm_buf_clear(&q);
	tidm_buf_printf(&q,
			"SELECT next_not_cached_value, minimum_value, maximum_value, start_value, increment, "
			"cache_size, cycle_option, cycle_count FROM %s",
			qname.data);
	if ((rc = tidm_conn_query(snap, &res, q.data)) < 0 || tidm_res_next(res) != 1) {
		if (rc >= 0)
			rc = tidm_err_set(TIDM_ENOTFOUND, "no row");
		tidm_err_prefix("cannot read the state of sequence %s on the source: ", qname.data);
		goto out;
	}
	st.next_not_cached = strtoll(tidm_res_get(res, 0), NULL, 10);
	st.min = strtoll(tidm_res_get(res, 1), NULL, 10);
	st.max = strtoll(tidm_res_get(res, 2), NULL, 10);
	st.start = strtoll(tidm_res_get(res, 3), NULL, 10);
	st.increment = strtoll(tidm_res_get(res, 4), NULL, 10);
	st.cache = strtoull(tidm_res_get(res, 5), NULL, 10);
	st.cycle = atoi(tidm_res_get(res, 6));
	st.cycle_count = strtoll(tidm_res_get(res, 7), NULL, 10);
	tidm_buf_clear(&q);
	if ((rc = tidm_dialect_sequence_state(&q, db, name, &st, ti->flavor)) == 0 && q.len &&
	    (rc = tidm_conn_exec(tgt, q.data, q.len)) < 0)
		tidm_err_prefix("cannot set the state of sequence %s on the target: ", qname.data);
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&create);
	tidm_buf_dispose(&qname);
	return rc;
}

int tidm_dump_sequences(tidm_conn *src, tidm_conn *snap, tidm_conn *tgt, const tidm_filter *objects,
			tidm_buf *report)
{
	tidm_res *res = NULL;
	char **names = NULL;
	size_t n = 0, i;
	int rc;

	if (tidm_conn_info(src)->flavor != TIDM_FLAVOR_MARIADB)
		return 0;
	rc = tidm_conn_query(src, &res,
			     "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'SEQUENCE' "
			     "ORDER BY TABLE_SCHEMA, TABLE_NAME");
	if (rc < 0) {
		tidm_err_prefix("cannot list the source's sequences: ");
		return rc;
	}
	/* collect first: the connection serves the statements below */
	while (tidm_res_next(res) == 1) {
		const char *db = tidm_res_get(res, 0), *name = tidm_res_get(res, 1);
		if (!db || !name || !tidm_filter_match_table(objects, db, name))
			continue;
		names = realloc(names, (n + 2) * sizeof(*names));
		if (!names || !(names[n] = strdup(db)) || !(names[n + 1] = strdup(name)))
			abort();
		n += 2;
	}
	tidm_res_free(res);
	for (i = 0; i < n && rc >= 0; i += 2)
		rc = copy_one(src, snap, tgt, names[i], names[i + 1], report);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc < 0 ? rc : 0;
}
