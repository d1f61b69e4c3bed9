/*
 * meta.c - the job store on the target (see meta.h). Plain SQL over a tidm_conn; every
 * value is escaped, every identifier quoted.
 */
#include "db/meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/quote.h"
#include "util/err.h"

#define M "`" TIDM_META_DB "`"

int tidm_meta_ensure(tidm_conn *c)
{
	static const char *ddl[] = {
		"CREATE DATABASE IF NOT EXISTS " M " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		"CREATE TABLE IF NOT EXISTS " M ".`jobs` ("
		" `name` VARCHAR(64) NOT NULL PRIMARY KEY,"
		" `type` VARCHAR(16) NOT NULL,"
		" `state` VARCHAR(16) NOT NULL,"
		" `stage` VARCHAR(16) NOT NULL,"
		" `snap_file` VARCHAR(255) NOT NULL DEFAULT '',"
		" `snap_pos` BIGINT UNSIGNED NOT NULL DEFAULT 0,"
		" `snap_gtid` LONGTEXT NULL,"
		" `snap_method` VARCHAR(32) NOT NULL DEFAULT '',"
		" `error` TEXT NULL,"
		" `updated_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP"
		") CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		"CREATE TABLE IF NOT EXISTS " M ".`tables` ("
		" `job` VARCHAR(64) NOT NULL, `db` VARCHAR(64) NOT NULL, `tbl` VARCHAR(64) NOT NULL,"
		" `chunks` INT UNSIGNED NOT NULL,"
		" `create_sql` LONGTEXT NULL,"
		" `deferred_keys` LONGTEXT NULL,"
		" `keyless` VARCHAR(8) NULL,"
		" PRIMARY KEY (`job`, `db`, `tbl`)"
		") CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		"CREATE TABLE IF NOT EXISTS " M ".`chunks` ("
		" `job` VARCHAR(64) NOT NULL, `db` VARCHAR(64) NOT NULL, `tbl` VARCHAR(64) NOT NULL,"
		" `no` INT UNSIGNED NOT NULL,"
		" `lower_sql` LONGTEXT NULL, `upper_sql` LONGTEXT NULL,"
		" `state` VARCHAR(16) NOT NULL,"
		" `rows_copied` BIGINT UNSIGNED NOT NULL DEFAULT 0,"
		" `bytes_copied` BIGINT UNSIGNED NOT NULL DEFAULT 0,"
		" `snap_file` VARCHAR(255) NOT NULL DEFAULT '',"
		" `snap_pos` BIGINT UNSIGNED NOT NULL DEFAULT 0,"
		" PRIMARY KEY (`job`, `db`, `tbl`, `no`)"
		") CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		"CREATE TABLE IF NOT EXISTS " M ".`osc` ("
		" `job` VARCHAR(64) NOT NULL, `db` VARCHAR(64) NOT NULL, `tbl` VARCHAR(64) NOT NULL,"
		" `file` VARCHAR(255) NOT NULL, `pos` BIGINT UNSIGNED NOT NULL,"
		" `stmt` LONGTEXT NOT NULL,"
		" PRIMARY KEY (`job`, `db`, `tbl`, `file`, `pos`)"
		") CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		/* sync/ddl_guard.h: the replicated DDL statement in progress (a table added later:
		 * CREATE ... IF NOT EXISTS upgrades an older store in place) */
		"CREATE TABLE IF NOT EXISTS " M ".`ddl_guard` ("
		" `job` VARCHAR(64) NOT NULL PRIMARY KEY,"
		" `file` VARCHAR(255) NOT NULL, `pos` BIGINT UNSIGNED NOT NULL,"
		" `stmt_no` INT UNSIGNED NOT NULL,"
		" `snap` LONGBLOB NOT NULL,"
		" `conn_id` BIGINT UNSIGNED NOT NULL DEFAULT 0"
		") CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		/* db/fence.h: the target sessions a job's writers have open (ended before a rerun writes) */
		"CREATE TABLE IF NOT EXISTS " M ".`sessions` ("
		" `job` VARCHAR(64) NOT NULL, `conn_id` BIGINT UNSIGNED NOT NULL,"
		" `boot` BIGINT NOT NULL DEFAULT 0,"
		" `opened_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
		" PRIMARY KEY (`job`, `conn_id`)"
		") CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		/* verify/verify.h: the results of `tidm verify` and of spec.verify, per table */
		"CREATE TABLE IF NOT EXISTS " M ".`verify_tables` ("
		" `job` VARCHAR(64) NOT NULL, `db` VARCHAR(64) NOT NULL, `tbl` VARCHAR(64) NOT NULL,"
		" `state` VARCHAR(16) NOT NULL,"
		" `chunks_total` BIGINT UNSIGNED NOT NULL DEFAULT 0,"
		" `chunks_done` BIGINT UNSIGNED NOT NULL DEFAULT 0,"
		" `rows_checked` BIGINT UNSIGNED NOT NULL DEFAULT 0,"
		" `differing_rows` BIGINT UNSIGNED NOT NULL DEFAULT 0,"
		" `pass` INT UNSIGNED NOT NULL DEFAULT 0,"
		" `detail` LONGTEXT NULL,"
		" `updated_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,"
		" PRIMARY KEY (`job`, `db`, `tbl`)"
		") CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		"CREATE TABLE IF NOT EXISTS " M ".`sync_workers` ("
		" `job` VARCHAR(64) NOT NULL, `worker` INT UNSIGNED NOT NULL,"
		" `file` VARCHAR(255) NOT NULL DEFAULT '', `pos` BIGINT UNSIGNED NOT NULL DEFAULT 0,"
		" `nworkers` INT UNSIGNED NOT NULL DEFAULT 0,"
		" `txn_row` BIGINT UNSIGNED NOT NULL DEFAULT 0,"
		" `updated_at` TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),"
		" PRIMARY KEY (`job`, `worker`)"
		") CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
	};
	/* table, column, definition */
	static const char *const added[][3] = {
		{"tables", "deferred_keys", "LONGTEXT NULL"},
		{"tables", "keyless", "VARCHAR(8) NULL"},
		/* rows of the transaction at (file, pos) already applied (a transaction split by
		 * spec.max-txn-bytes; 0 = none) */
		{"sync_workers", "txn_row", "BIGINT UNSIGNED NOT NULL DEFAULT 0 AFTER `nworkers`"},
		/* the target connection running the DDL in progress (a replay waits for it) */
		{"ddl_guard", "conn_id", "BIGINT UNSIGNED NOT NULL DEFAULT 0"},
	};
	size_t i;
	int rc = 0;
	char *have = NULL;

	for (i = 0; i < sizeof(ddl) / sizeof(ddl[0]); i++)
		if ((rc = tidm_conn_exec(c, ddl[i], strlen(ddl[i]))) < 0) {
			tidm_err_prefix("cannot create the job store `" TIDM_META_DB "` on the target: ");
			return rc;
		}
	/* a job store made by an earlier version lacks the newer columns */
	for (i = 0; i < sizeof(added) / sizeof(added[0]) && rc == 0; i++) {
		char q[256];
		snprintf(q, sizeof(q), "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" TIDM_META_DB
				       "' AND TABLE_NAME = '%s' AND COLUMN_NAME = '%s'", added[i][0], added[i][1]);
		if ((rc = tidm_conn_query_value(c, &have, q)) < 0)
			return rc;
		if (have && !strcmp(have, "0"))
			rc = tidm_conn_execf(c, "ALTER TABLE %s.`%s` ADD COLUMN `%s` %s", M, added[i][0], added[i][1],
					     added[i][2]);
		free(have);
		have = NULL;
	}
	if (rc < 0)
		tidm_err_prefix("cannot upgrade the job store `" TIDM_META_DB "` on the target: ");
	return rc;
}

static void put_str(tidm_buf *b, const char *s)
{
	tidm_quote_string(b, s ? s : "", s ? strlen(s) : 0);
}

int tidm_meta_job_get(tidm_conn *c, const char *name, tidm_meta_job *out)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	tidm_buf_puts(&q, "SELECT `state`, `stage`, `snap_file`, `snap_pos`, `snap_gtid`, `snap_method`, "
			  "DATE_FORMAT(`updated_at`, '%Y-%m-%d %H:%i:%s') FROM " M
			  ".`jobs` WHERE `name` = ");
	put_str(&q, name);
	if ((rc = tidm_conn_query(c, &res, q.data)) == 0 && tidm_res_next(res) == 1) {
		out->exists = true;
		snprintf(out->state, sizeof(out->state), "%s", tidm_res_get(res, 0));
		snprintf(out->stage, sizeof(out->stage), "%s", tidm_res_get(res, 1));
		snprintf(out->snap_file, sizeof(out->snap_file), "%s", tidm_res_get(res, 2));
		out->snap_pos = strtoull(tidm_res_get(res, 3), NULL, 10);
		if (tidm_res_get(res, 4)) {
			out->snap_gtid = strdup(tidm_res_get(res, 4));
			if (!out->snap_gtid)
				abort();
		}
		snprintf(out->snap_method, sizeof(out->snap_method), "%s", tidm_res_get(res, 5));
		snprintf(out->updated_at, sizeof(out->updated_at), "%s",
			 tidm_res_get(res, 6) ? tidm_res_get(res, 6) : "");
	}
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

void tidm_meta_job_dispose(tidm_meta_job *j)
{
	free(j->snap_gtid);
	j->snap_gtid = NULL;
}

int tidm_meta_job_put(tidm_conn *c, const char *name, const char *type, const tidm_meta_job *j)
{
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	tidm_buf_puts(&q, "REPLACE INTO " M ".`jobs` (`name`,`type`,`state`,`stage`,`snap_file`,`snap_pos`,`snap_gtid`,"
			  "`snap_method`) VALUES (");
	put_str(&q, name);
	tidm_buf_putc(&q, ',');
	put_str(&q, type);
	tidm_buf_putc(&q, ',');
	put_str(&q, j->state);
	tidm_buf_putc(&q, ',');
	put_str(&q, j->stage);
	tidm_buf_putc(&q, ',');
	put_str(&q, j->snap_file);
	tidm_buf_printf(&q, ",%llu,", (unsigned long long)j->snap_pos);
	if (j->snap_gtid)
		put_str(&q, j->snap_gtid);
	else
		tidm_buf_puts(&q, "NULL");
	tidm_buf_putc(&q, ',');
	put_str(&q, j->snap_method);
	tidm_buf_putc(&q, ')');
	rc = tidm_conn_exec(c, q.data, q.len);
	tidm_buf_dispose(&q);
	return rc;
}

int tidm_meta_job_set_state(tidm_conn *c, const char *name, const char *state, const char *stage, const char *error)
{
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	tidm_buf_puts(&q, "UPDATE " M ".`jobs` SET `state` = ");
	put_str(&q, state);
	if (stage) {
		tidm_buf_puts(&q, ", `stage` = ");
		put_str(&q, stage);
	}
	tidm_buf_puts(&q, ", `error` = ");
	if (error)
		put_str(&q, error);
	else
		tidm_buf_puts(&q, "NULL");
	tidm_buf_puts(&q, " WHERE `name` = ");
	put_str(&q, name);
	rc = tidm_conn_exec(c, q.data, q.len);
	tidm_buf_dispose(&q);
	return rc;
}

int tidm_meta_job_delete(tidm_conn *c, const char *name)
{
	static const char *tables[] = {"jobs", "tables", "chunks", "osc", "sync_workers", "ddl_guard", "verify_tables", "sessions"};
	tidm_buf q = TIDM_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]) && rc == 0; i++) {
		tidm_buf_clear(&q);
		tidm_buf_printf(&q, "DELETE FROM " M ".`%s` WHERE `%s` = ", tables[i], i == 0 ? "name" : "job");
		put_str(&q, name);
		rc = tidm_conn_exec(c, q.data, q.len);
	}
	tidm_buf_dispose(&q);
	return rc;
}
