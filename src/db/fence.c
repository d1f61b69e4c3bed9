/*
 * fence.c - ending the target sessions of a job's earlier runs (see fence.h).
 *
 * DESIGN
 *  Boot time: UNIX_TIMESTAMP() - Uptime (SHOW GLOBAL STATUS; 0 when the server has no
 *  such status, TiDB: then the user check alone guards). A recorded session is ended
 *  when PROCESSLIST still shows its id, for the same user, and the boot times agree.
 *  KILL CONNECTION (TiDB before 6.1: KILL TIDB); "unknown thread" means it ended by
 *  itself. The wait polls PROCESSLIST every 200 ms.
 */
#include "db/fence.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/meta.h"
#include "db/quote.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

#define SESSIONS "`" TIDM_META_DB "`.`sessions`"

static int64_t server_boot(tidm_conn *c)
{
	tidm_res *res = NULL;
	int64_t boot = 0;

	if (tidm_conn_query(c, &res, "SHOW GLOBAL STATUS LIKE 'Uptime'") == 0 && tidm_res_next(res) == 1 &&
	    tidm_res_get(res, 1)) {
		long long up = strtoll(tidm_res_get(res, 1), NULL, 10);
		char *now = NULL;
		if (tidm_conn_query_value(c, &now, "SELECT UNIX_TIMESTAMP()") == 0 && now)
			boot = (int64_t)strtoll(now, NULL, 10) - up;
		free(now);
	}
	tidm_res_free(res);
	tidm_err_clear();
	return boot;
}

int tidm_fence_record(tidm_conn *session, const char *job)
{
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	tidm_buf_puts(&q, "REPLACE INTO " SESSIONS " (`job`, `conn_id`, `boot`) VALUES (");
	tidm_quote_string(&q, job, strlen(job));
	tidm_buf_printf(&q, ", CONNECTION_ID(), %" PRId64 ")", server_boot(session));
	rc = tidm_conn_exec(session, q.data, q.len);
	tidm_buf_dispose(&q);
	return rc;
}

/* 1: the session exists for our user, 0: gone, <0 error */
static int exists(tidm_conn *c, uint64_t id)
{
	char q[200], *n = NULL;
	int rc;

	snprintf(q, sizeof(q),
		 "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %" PRIu64
		 " AND USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)",
		 id);
	if ((rc = tidm_conn_query_value(c, &n, q)) < 0)
		return rc;
	rc = n && strcmp(n, "0") != 0;
	free(n);
	return rc;
}

int tidm_fence_previous(tidm_conn *c, const char *job)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	uint64_t *ids = NULL, self = tidm_conn_thread_id(c);
	int64_t boot = server_boot(c);
	size_t n = 0, cap = 0, i;
	int rc;

	tidm_buf_puts(&q, "SELECT `conn_id`, `boot` FROM " SESSIONS " WHERE `job` = ");
	tidm_quote_string(&q, job, strlen(job));
	if ((rc = tidm_conn_query(c, &res, q.data)) < 0)
		goto out;
	while (tidm_res_next(res) == 1) {
		uint64_t id = strtoull(tidm_res_get(res, 0), NULL, 10);
		int64_t b = strtoll(tidm_res_get(res, 1), NULL, 10);
		if (!id || id == self || (boot && b && (b - boot > 10 || boot - b > 10)))
			continue; /* the server restarted since: that session is gone */
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = realloc(ids, cap * sizeof(*ids));
			if (!ids)
				abort();
		}
		ids[n++] = id;
	}
	tidm_res_free(res);
	res = NULL;
	for (i = 0; i < n; i++) {
		unsigned waited;
		if ((rc = exists(c, ids[i])) < 0)
			goto out;
		if (!rc)
			continue;
		tidm_info("ending target session %" PRIu64 " left by an earlier run of job %s before writing", ids[i],
			  job);
		if (tidm_conn_info(c)->flavor == TIDM_FLAVOR_TIDB && tidm_conn_info(c)->version < 60100)
			rc = tidm_conn_execf(c, "KILL TIDB %" PRIu64, ids[i]);
		else
			rc = tidm_conn_execf(c, "KILL CONNECTION %" PRIu64, ids[i]);
		if (rc < 0 && tidm_err_dberr() != 1094)
			goto out;
		tidm_err_clear();
		for (waited = 0; waited < 150 && (rc = exists(c, ids[i])) == 1; waited++)
			usleep(200 * 1000);
		if (rc < 0)
			goto out;
		if (rc == 1)
			tidm_warn("target session %" PRIu64 " of an earlier run of job %s is still there 30 s after "
				  "KILL; going on (a killed session runs nothing more)",
				  ids[i], job);
	}
	tidm_buf_clear(&q);
	tidm_buf_puts(&q, "DELETE FROM " SESSIONS " WHERE `job` = ");
	tidm_quote_string(&q, job, strlen(job));
	tidm_buf_printf(&q, " AND `conn_id` <> %" PRIu64, self);
	rc = tidm_conn_exec(c, q.data, q.len);
out:
	tidm_res_free(res);
	free(ids);
	tidm_buf_dispose(&q);
	return rc < 0 ? rc : 0;
}
