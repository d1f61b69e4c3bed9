/*
 * hosting.c - which cloud runs a server (see hosting.h).
 *
 * DESIGN: markers the managed services expose to any user, read with statements every
 * supported version accepts (SHOW GLOBAL VARIABLES ... LIKE, SHOW DATABASES LIKE). A
 * refused statement is no evidence either way and is skipped; only a lost connection is
 * an error.
 */
#include "db/hosting.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "util/err.h"

static bool lost(void)
{
	unsigned e = tidm_err_dberr();
	return e == 2006 || e == 2013 || e == 2055;
}

/* Does `sql` answer at least one row? -1 on a lost connection. */
static int any_row(tidm_conn *c, const char *sql, char *first, size_t n)
{
	tidm_res *res = NULL;
	int rc = tidm_conn_query(c, &res, sql), got = 0;

	if (rc < 0) {
		rc = lost() ? -1 : 0;
		if (!rc)
			tidm_err_clear();
		return rc;
	}
	if (tidm_res_next(res) == 1) {
		got = 1;
		if (first && n) {
			const char *v = tidm_res_cols(res) > 1 ? tidm_res_get(res, 1) : tidm_res_get(res, 0);
			snprintf(first, n, "%s", v ? v : "");
		}
	}
	tidm_res_free(res);
	return got;
}

int tidm_conn_detect_hosting(tidm_conn *c, enum tidm_hosting *out)
{
	char basedir[512] = "";
	int r;

	*out = TIDM_HOSTING_SELF;
	if (tidm_conn_info(c)->aurora) {
		*out = TIDM_HOSTING_AURORA;
		return 0;
	}
	if ((r = any_row(c, "SHOW GLOBAL VARIABLES LIKE 'basedir'", basedir, sizeof(basedir))) < 0)
		return TIDM_ECONN;
	if (!strncmp(basedir, "/rdsdbbin/", 10)) {
		*out = TIDM_HOSTING_RDS;
		return 0;
	}
	if ((r = any_row(c, "SHOW GLOBAL VARIABLES LIKE 'aad\\_auth\\_only'", NULL, 0)) < 0)
		return TIDM_ECONN;
	if (r) {
		*out = TIDM_HOSTING_AZURE;
		return 0;
	}
	if ((r = any_row(c, "SHOW GLOBAL VARIABLES LIKE 'cloudsql\\_%'", NULL, 0)) < 0)
		return TIDM_ECONN;
	if (r) {
		*out = TIDM_HOSTING_CLOUDSQL;
		return 0;
	}
	if ((r = any_row(c, "SHOW DATABASES LIKE 'rdsadmin'", NULL, 0)) < 0)
		return TIDM_ECONN;
	if (r)
		*out = TIDM_HOSTING_RDS;
	return 0;
}

const char *tidm_hosting_name(enum tidm_hosting h)
{
	switch (h) {
	case TIDM_HOSTING_RDS: return "Amazon RDS";
	case TIDM_HOSTING_AURORA: return "Amazon Aurora";
	case TIDM_HOSTING_AZURE: return "Azure Database for MySQL";
	case TIDM_HOSTING_CLOUDSQL: return "Google Cloud SQL";
	default: return "self-managed";
	}
}
