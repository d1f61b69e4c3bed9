/*
 * empty.c - which target tables hold rows (see empty.h).
 */
#include "db/empty.h"

#include <stdlib.h>
#include <string.h>

#include "db/quote.h"
#include "util/err.h"

int tidm_tables_nonempty(tidm_conn *c, const char *const *dbs, const char *const *names, size_t n, bool *nonempty)
{
	for (size_t i = 0; i < n; i++)
		nonempty[i] = false;
	for (size_t at = 0; at < n; at += 200) {
		size_t end = at + 200 < n ? at + 200 : n;
		tidm_buf q = TIDM_BUF_INIT;
		tidm_res *res = NULL;
		int rc;
		for (size_t i = at; i < end; i++) {
			if (i > at)
				tidm_buf_puts(&q, " UNION ALL ");
			tidm_buf_printf(&q, "(SELECT %zu FROM ", i);
			tidm_quote_qualified(&q, dbs[i], names[i]);
			tidm_buf_puts(&q, " LIMIT 1)");
		}
		rc = tidm_conn_query(c, &res, q.data);
		tidm_buf_dispose(&q);
		if (rc < 0)
			return rc;
		while (tidm_res_next(res) == 1) {
			size_t i = strtoull(tidm_res_get(res, 0), NULL, 10);
			if (i < n)
				nonempty[i] = true;
		}
		tidm_res_free(res);
	}
	return 0;
}

int tidm_tables_exist(tidm_conn *c, const char *const *dbs, const char *const *names, size_t n, bool *exists)
{
	tidm_res *res = NULL;
	int rc;

	for (size_t i = 0; i < n; i++)
		exists[i] = false;
	if (n == 0)
		return 0;
	rc = tidm_conn_query(c, &res,
			     "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' "
			     "AND TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')");
	if (rc < 0)
		return rc;
	while (tidm_res_next(res) == 1) {
		const char *db = tidm_res_get(res, 0), *name = tidm_res_get(res, 1);
		for (size_t i = 0; db && name && i < n; i++)
			if (!strcmp(dbs[i], db) && !strcmp(names[i], name))
				exists[i] = true;
	}
	tidm_res_free(res);
	return 0;
}
