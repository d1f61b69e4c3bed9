/*
 * items_binlog.c - precheck items about the source's binary log: on, in row format with
 * full images, kept long enough, not filtered for the selected databases, and the start
 * position still there.
 *
 * DESIGN
 * Settings come from the global variables read once up front (SHOW GLOBAL VARIABLES);
 * only what is not a variable is asked for: RDS's "binlog retention hours" (the table
 * mysql.rds_configuration that mysql.rds_show_configuration reads), the do/ignore lists
 * (SHOW MASTER STATUS, SHOW BINARY LOG STATUS on MySQL 8.2+), MariaDB's GTID state at
 * the oldest binlog (BINLOG_GTID_POS). A job that does not replicate answers pass "not
 * needed" for every item here, so the table is the same for every job type.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/quote.h"
#include "db/replica.h"
#include "precheck/pc_int.h"
#include "util/err.h"
#include "util/gtid.h"

static bool not_needed(pc_ctx *c, pc_result *r)
{
	if (pc_replicates(c))
		return false;
	pc_pass(r, "not needed: a type full job copies the existing data only and does not read the binary log");
	return true;
}

static bool no_source(pc_ctx *c, pc_result *r)
{
	if (c->src_rc >= 0)
		return false;
	pc_warn(r, "not checked: the source connection failed");
	return true;
}

static bool var_on(const char *v)
{
	return v && (!strcmp(v, "1") || !strcasecmp(v, "ON") || !strcasecmp(v, "YES"));
}

PC_ITEM(pc_item_server_id)
{
	const char *v;
	(void)k;
	if (not_needed(c, r) || no_source(c, r))
		return;
	v = pc_var(&c->svars, "server_id");
	if (!v) {
		pc_warn(r, "could not check: the source's server_id could not be read");
		return;
	}
	if (strtoull(v, NULL, 10) == 0) {
		pc_fail(r, "the source's server_id is 0: a server with server_id 0 writes no binary log a replica can read "
			   "(MySQL refuses replicas of it)");
		pc_fix_setting(r, c, "server_id", "a number unique among the servers of its replication topology", false);
		return;
	}
	pc_pass(r, "server_id = %s", v);
}

PC_ITEM(pc_item_log_bin)
{
	const char *v;
	(void)k;
	if (not_needed(c, r) || no_source(c, r))
		return;
	v = pc_var(&c->svars, "log_bin");
	if (!v) {
		pc_warn(r, "could not check: the source's log_bin could not be read");
		return;
	}
	if (var_on(v)) {
		pc_pass(r, "log_bin = ON");
		return;
	}
	pc_fail(r, "the source's binary log is off (log_bin = %s): replication reads the changes from it, so a type %s "
		   "job cannot follow the source",
		v, tidm_job_type_name(c->cfg->type));
	switch (c->hosting) {
	case PC_RDS:
		pc_fix(r, "Amazon RDS writes the binary log when automated backups are on: set the backup retention "
			  "period of the instance to 1 day or more (Modify > Backup), then run the precheck again.");
		break;
	case PC_AURORA:
		pc_fix(r, "Amazon Aurora: set binlog_format = ROW in the DB cluster parameter group (that turns the binary "
			  "log on) and reboot the writer instance.");
		break;
	case PC_CLOUDSQL:
		pc_fix(r, "Google Cloud SQL: enable point-in-time recovery on the instance (Edit > Data protection), which "
			  "turns the binary log on; the instance restarts.");
		break;
	case PC_AZURE:
		pc_fix(r, "Azure Database for MySQL Flexible Server writes the binary log unless it was turned off: set the "
			  "server parameter log_bin to ON (if offered) or enable high availability / read replicas.");
		break;
	case PC_MARIADB:
		pc_fix(r, "MariaDB: add log-bin (e.g. log-bin = mariadb-bin) and a server-id to the [mariadb] section of "
			  "the option file (my.cnf) and restart the server.");
		break;
	default:
		pc_fix(r, "MySQL: add log_bin = mysql-bin and a server_id to the [mysqld] section of my.cnf and restart "
			  "the server (MySQL 8.0+ has it on by default unless --skip-log-bin or --disable-log-bin is "
			  "given).");
	}
	pc_fix(r, "Or use type: full.");
}

PC_ITEM(pc_item_binlog_format)
{
	const char *v;
	(void)k;
	if (not_needed(c, r) || no_source(c, r))
		return;
	v = pc_var(&c->svars, "binlog_format");
	if (!v) {
		pc_warn(r, "could not check: the source's binlog_format could not be read");
		return;
	}
	if (!strcasecmp(v, "ROW")) {
		pc_pass(r, "binlog_format = ROW");
		return;
	}
	pc_fail(r, "the source's binlog_format is %s: tidm replicates row events only; changes written as statements "
		   "would be missed or replayed wrong",
		v);
	pc_fix_setting(r, c, "binlog_format", "ROW", true);
	pc_fix(r, "Then reconnect the applications (a session keeps the format it started with) before the job "
		  "starts.");
}

PC_ITEM(pc_item_binlog_row_image)
{
	const char *v;
	(void)k;
	if (not_needed(c, r) || no_source(c, r))
		return;
	v = pc_var(&c->svars, "binlog_row_image");
	if (!v) {
		pc_pass(r, "binlog_row_image is not a setting of this server (its row events are full)");
		return;
	}
	if (!strcasecmp(v, "FULL")) {
		pc_pass(r, "binlog_row_image = FULL");
		return;
	}
	pc_fail(r, "the source's binlog_row_image is %s: row events then carry only some columns, and after a restart "
		   "safe mode writes whole rows (REPLACE), which would give the missing columns their defaults on the "
		   "target",
		v);
	pc_fix_setting(r, c, "binlog_row_image", "FULL", true);
	pc_fix(r, "Then reconnect the applications (a session keeps the image it started with).");
}

/* --- retention --------------------------------------------------------------------------- */

/* RDS / Aurora: "binlog retention hours" (NULL: purged as soon as possible). */
static int rds_hours(pc_conns *k, char **out)
{
	tidm_conn *src = pc_src(k);
	*out = NULL;
	if (!src)
		return TIDM_ECONN;
	return tidm_conn_query_value(src, out,
				     "SELECT value FROM mysql.rds_configuration WHERE name = 'binlog retention hours'");
}

int pc_retention_seconds(pc_ctx *c, pc_conns *k, double *secs, char *desc, size_t n)
{
	const char *s = pc_var(&c->svars, "binlog_expire_logs_seconds"), *d = pc_var(&c->svars, "expire_logs_days"),
		   *auto_purge = pc_var(&c->svars, "binlog_expire_logs_auto_purge");

	if (c->hosting == PC_RDS || c->hosting == PC_AURORA) {
		char *h = NULL;
		if (rds_hours(k, &h) < 0)
			return TIDM_ERROR;
		if (!h || !*h || !strcasecmp(h, "NULL")) {
			*secs = 300; /* RDS removes binary logs within minutes when the setting is NULL */
			snprintf(desc, n, "binlog retention hours = NULL (binary logs are removed within minutes)");
		} else {
			*secs = strtod(h, NULL) * 3600;
			snprintf(desc, n, "binlog retention hours = %s", h);
		}
		free(h);
		return 0;
	}
	if (auto_purge && !var_on(auto_purge)) {
		*secs = INFINITY;
		snprintf(desc, n, "binlog_expire_logs_auto_purge = OFF (nothing is purged automatically)");
		return 0;
	}
	if (s && strtod(s, NULL) > 0) {
		*secs = strtod(s, NULL);
		snprintf(desc, n, "binlog_expire_logs_seconds = %s", s);
		return 0;
	}
	if (d && strtod(d, NULL) > 0) {
		*secs = strtod(d, NULL) * 86400;
		snprintf(desc, n, "expire_logs_days = %s", d);
		return 0;
	}
	if (!s && !d)
		return TIDM_ENOTFOUND;
	*secs = INFINITY;
	snprintf(desc, n, "%s = 0 (binary logs are never purged by age)", s ? "binlog_expire_logs_seconds" : "expire_logs_days");
	return 0;
}

/* A size limit on the binlogs (MariaDB binlog_space_limit / max_binlog_total_size), 0 none. */
double pc_retention_bytes(const pc_ctx *c)
{
	const char *v = pc_var(&c->svars, "max_binlog_total_size");
	if (!v)
		v = pc_var(&c->svars, "binlog_space_limit");
	return v ? strtod(v, NULL) : 0;
}

static void retention_fix(pc_result *r, const pc_ctx *c)
{
	switch (c->hosting) {
	case PC_RDS:
	case PC_AURORA:
		pc_fix(r, "%s: CALL mysql.rds_set_configuration('binlog retention hours', 168); (7 days; the maximum is 168 "
			  "on RDS and 2160 on Aurora) as the master user.",
		       c->hosting == PC_RDS ? "Amazon RDS" : "Amazon Aurora");
		break;
	default:
		if (c->src_info.flavor == TIDM_FLAVOR_MYSQL && c->src_info.version < 80000)
			pc_fix_setting(r, c, "expire_logs_days", "7", true);
		else
			pc_fix_setting(r, c, "binlog_expire_logs_seconds", "604800", true);
		if (c->hosting == PC_CLOUDSQL)
			pc_fix(r, "Cloud SQL also keeps binary logs for its point-in-time recovery: raise \"transaction log "
				  "retention\" (days) in the backup settings if it is lower.");
	}
}

PC_ITEM(pc_item_binlog_retention)
{
	double secs = 0;
	char desc[160], dur[32];
	int rc;

	if (not_needed(c, r) || no_source(c, r))
		return;
	rc = pc_retention_seconds(c, k, &secs, desc, sizeof(desc));
	if (rc == TIDM_ENOTFOUND) {
		pc_warn(r, "could not check: the source has neither binlog_expire_logs_seconds nor expire_logs_days");
		return;
	}
	if (rc < 0) {
		pc_cannot(r, "the binlog retention (mysql.rds_configuration)");
		return;
	}
	tidm_precheck_fmt_duration(dur, sizeof(dur), secs);
	if (isinf(secs)) {
		pc_pass(r, "%s: make sure the source's disk has room for the binary logs written while the job runs",
			desc);
		return;
	}
	if (secs < 86400) {
		pc_fail(r, "the source keeps binary logs for %s only (%s): a copy or a pause longer than that loses the "
			   "position replication must continue from, and the job must start over. Keep them at least 1 "
			   "day (7 days recommended)",
			dur, desc);
		retention_fix(r, c);
		return;
	}
	if (secs < 604800) {
		pc_warn(r, "the source keeps binary logs for %s (%s), less than the recommended 7 days: a long copy, "
			   "pause or outage of the job could outlive them",
			dur, desc);
		retention_fix(r, c);
		return;
	}
	pc_pass(r, "binary logs are kept for %s (%s)", dur, desc);
}

/* --- do / ignore lists ------------------------------------------------------------------- */

static bool in_list(const char *list, const char *db)
{
	size_t n = strlen(db);
	const char *p = list;
	while (p && *p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && !strncmp(p, db, n))
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

PC_ITEM(pc_item_binlog_db_filter)
{
	tidm_conn *src;
	tidm_res *res = NULL;
	const char *err;
	char *dodb = NULL, *ignore = NULL;
	tidm_buf bad = TIDM_BUF_INIT;
	size_t nbad = 0;
	int rc;

	if (not_needed(c, r) || no_source(c, r))
		return;
	if (!(src = pc_src(k))) {
		pc_cannot(r, "the binlog filters");
		return;
	}
	rc = -1;
	if (c->src_info.flavor == TIDM_FLAVOR_MYSQL && c->src_info.version >= 80200)
		rc = tidm_conn_query(src, &res, "SHOW BINARY LOG STATUS");
	if (rc < 0) {
		tidm_err_clear();
		rc = tidm_conn_query(src, &res, "SHOW MASTER STATUS");
	}
	if (rc < 0) {
		pc_cannot(r, "the binlog filters (SHOW MASTER STATUS)");
		return;
	}
	if (tidm_res_next(res) == 1) {
		for (unsigned i = 0; i < tidm_res_cols(res); i++) {
			const char *name = tidm_res_col_name(res, i), *v = tidm_res_get(res, i);
			if (name && !strcasecmp(name, "Binlog_Do_DB") && v && *v)
				dodb = strdup(v);
			else if (name && !strcasecmp(name, "Binlog_Ignore_DB") && v && *v)
				ignore = strdup(v);
		}
	}
	tidm_res_free(res);
	if (!dodb && !ignore) {
		pc_pass(r, "the source writes every database to its binary log (no binlog_do_db / binlog_ignore_db)");
		goto out;
	}
	if (pc_need_tables(c, k, &err) < 0) {
		tidm_err_set(TIDM_ERROR, "%s", err);
		pc_cannot(r, "the selected databases");
		goto out;
	}
	{
		const char *named[64];
		size_t n_named = pc_named_dbs(c, named, 64);
		for (size_t i = 0; i < c->n_dbs + n_named; i++) {
			const char *db = i < c->n_dbs ? c->dbs[i] : named[i - c->n_dbs];
			bool dup = false;
			for (size_t j = 0; i >= c->n_dbs && j < c->n_dbs; j++)
				dup = dup || !strcmp(c->dbs[j], db);
			if (dup)
				continue;
			if ((dodb && !in_list(dodb, db)) || (ignore && in_list(ignore, db)))
				pc_list_add(&bad, &nbad, 10, db, NULL);
		}
	}
	pc_list_end(&bad, nbad, 10);
	if (nbad) {
		pc_fail(r,
			"the source does not write the changes of %s to its binary log (%s%s%s%s%s): replication would miss "
			"every change to %s",
			bad.data, dodb ? "binlog_do_db = " : "", dodb ? dodb : "", dodb && ignore ? ", " : "",
			ignore ? "binlog_ignore_db = " : "", ignore ? ignore : "", nbad == 1 ? "it" : "them");
		pc_fix(r, "Remove binlog-do-db / binlog-ignore-db from the source's option file (or add the databases to "
			  "binlog-do-db) and restart the server; or leave those databases out of the job (objects: "
			  "exclude).");
		goto out;
	}
	pc_pass(r, "every selected database is written to the binary log (%s%s%s%s%s)", dodb ? "binlog_do_db = " : "",
		dodb ? dodb : "", dodb && ignore ? ", " : "", ignore ? "binlog_ignore_db = " : "", ignore ? ignore : "");
out:
	free(dodb);
	free(ignore);
	tidm_buf_dispose(&bad);
}

/* --- GTIDs and the start position -------------------------------------------------------- */

PC_ITEM(pc_item_gtid_mode)
{
	const char *m;
	(void)k;
	if (not_needed(c, r) || no_source(c, r))
		return;
	if (c->cfg->type != TIDM_JOB_INCREMENTAL || !c->cfg->start_gtid) {
		pc_pass(r, "not needed: the job %s", c->cfg->type == TIDM_JOB_ALL
							  ? "continues from the snapshot's binlog file and position"
							  : "starts from a binlog file and position");
		return;
	}
	if (c->src_info.flavor == TIDM_FLAVOR_MARIADB) {
		pc_pass(r, "MariaDB writes GTIDs always");
		return;
	}
	m = pc_var(&c->svars, "gtid_mode");
	if (m && (!strcasecmp(m, "ON") || !strcasecmp(m, "ON_PERMISSIVE"))) {
		pc_pass(r, "gtid_mode = %s", m);
		return;
	}
	pc_fail(r, "the job starts from a GTID set, but the source's gtid_mode is %s: its transactions carry no GTIDs "
		   "to start from",
		m ? m : "not available");
	pc_fix(r, "Start the job from a binlog file and position (start: {binlog-file, binlog-pos}) instead, or turn "
		  "GTIDs on (gtid_mode OFF -> OFF_PERMISSIVE -> ON_PERMISSIVE -> ON, with enforce_gtid_consistency = ON).");
	pc_fix_setting(r, c, "gtid_mode", "ON", true);
}

static void start_file_item(pc_ctx *c, pc_conns *k, pc_result *r)
{
	const char *err, *f = c->cfg->start_binlog_file;
	uint64_t pos = c->cfg->start_binlog_pos;

	if (pc_need_binlogs(c, k, &err) < 0) {
		tidm_err_set(TIDM_ERROR, "%s", err);
		pc_cannot(r, "the source's binlog files (SHOW BINARY LOGS)");
		return;
	}
	for (size_t i = 0; i < c->n_logs; i++) {
		if (strcmp(c->log_files[i], f) != 0)
			continue;
		if (c->log_sizes[i] && pos > c->log_sizes[i]) {
			pc_fail(r, "the start position %s:%llu is past the end of that file (%llu bytes)", f,
				(unsigned long long)pos, (unsigned long long)c->log_sizes[i]);
			pc_fix(r, "Take the position from SHOW MASTER STATUS (SHOW BINARY LOG STATUS on MySQL 8.4) or from "
				  "a dump's metadata.");
			return;
		}
		pc_pass(r, "the start file %s is on the source (position %llu)", f, (unsigned long long)pos);
		return;
	}
	{
		tidm_buf m = TIDM_BUF_INIT;
		if (c->n_logs)
			tidm_buf_printf(&m, "oldest %s, newest %s", c->log_files[0], c->log_files[c->n_logs - 1]);
		else
			tidm_buf_puts(&m, "the source lists none");
		pc_fail(r,
			"The required binary log for migration no longer exists on the source database. The start file %s "
			"is not among the source's binlog files (%s). Please make sure binary log files are kept for long "
			"enough time for migration to succeed.",
			f, m.data);
		tidm_buf_dispose(&m);
	}
	pc_fix(r, "Copy the data again with a type all job (or a new dump) and start from its position, and keep "
		  "binary logs longer (see binlog-retention).");
}

static void start_gtid_item(pc_ctx *c, pc_conns *k, pc_result *r)
{
	bool maria = c->src_info.flavor == TIDM_FLAVOR_MARIADB;
	tidm_gtid_set start, gone;
	char *oldest_state = NULL;
	const char *purged = NULL, *err;
	tidm_buf miss = TIDM_BUF_INIT;

	tidm_gtid_set_init(&start, maria ? TIDM_GTID_MARIADB : TIDM_GTID_MYSQL);
	tidm_gtid_set_init(&gone, maria ? TIDM_GTID_MARIADB : TIDM_GTID_MYSQL);
	if (tidm_gtid_set_parse(&start, maria ? TIDM_GTID_MARIADB : TIDM_GTID_MYSQL, c->cfg->start_gtid) < 0) {
		pc_fail(r, "the start GTID set \"%s\" is not a %s GTID set: %s", c->cfg->start_gtid,
			maria ? "MariaDB (domain-server-seq)" : "MySQL (uuid:interval)", tidm_err_msg());
		pc_fix(r, "Write the set as the source prints it (%s).",
		       maria ? "SELECT @@gtid_binlog_pos" : "SELECT @@GLOBAL.gtid_executed");
		goto out;
	}
	if (maria) {
		/* the GTID state where the oldest binlog begins: what is older is gone */
		tidm_conn *src = pc_src(k);
		tidm_buf q = TIDM_BUF_INIT;
		if (pc_need_binlogs(c, k, &err) < 0 || !src) {
			tidm_err_set(TIDM_ERROR, "%s", src ? err : "no source connection");
			pc_cannot(r, "the source's oldest binlog");
			goto out;
		}
		if (!c->n_logs) {
			pc_fail(r, "the source has no binlog files");
			goto out;
		}
		tidm_buf_puts(&q, "SELECT BINLOG_GTID_POS(");
		tidm_quote_string(&q, c->log_files[0], strlen(c->log_files[0]));
		tidm_buf_puts(&q, ", 4)");
		if (tidm_conn_query_value(src, &oldest_state, q.data) < 0) {
			tidm_buf_dispose(&q);
			pc_cannot(r, "the GTID state of the oldest binlog (BINLOG_GTID_POS)");
			goto out;
		}
		tidm_buf_dispose(&q);
		purged = oldest_state ? oldest_state : "";
	} else {
		purged = pc_var(&c->svars, "gtid_purged");
		if (!purged)
			purged = "";
	}
	if (*purged && tidm_gtid_set_parse(&gone, maria ? TIDM_GTID_MARIADB : TIDM_GTID_MYSQL, purged) < 0) {
		pc_cannot(r, "the source's purged GTIDs");
		goto out;
	}
	if (tidm_gtid_set_contains(&start, &gone)) {
		pc_pass(r, "the source still has every transaction after the start set %s", c->cfg->start_gtid);
		goto out;
	}
	/* what the job needs and the source no longer has */
	tidm_gtid_set_subtract(&gone, &start);
	tidm_gtid_set_format(&gone, &miss);
	pc_fail(r,
		"The required binary log for migration no longer exists on the source database. Transactions the start "
		"set %s does not contain were purged (%s: %s; the job would need %s). Please make sure binary log files "
		"are kept for long enough time for migration to succeed.",
		c->cfg->start_gtid, maria ? "GTID state at the oldest binlog" : "gtid_purged", purged,
		miss.data ? miss.data : "");
	pc_fix(r, "Copy the data again with a type all job (or a new dump) and start from its GTID set, and keep "
		  "binary logs longer (see binlog-retention).");
out:
	tidm_gtid_set_dispose(&start);
	tidm_gtid_set_dispose(&gone);
	tidm_buf_dispose(&miss);
	free(oldest_state);
}

PC_ITEM(pc_item_start_position)
{
	if (not_needed(c, r) || no_source(c, r))
		return;
	if (c->job_exists && !strcmp(c->job_stage, "sync")) {
		pc_pass(r, "the job resumes from its checkpoint (state %s); replication checks that position when it "
			   "connects",
			c->job_state);
		return;
	}
	if (c->cfg->type == TIDM_JOB_ALL) {
		pc_pass(r, "the job starts replication at its snapshot's position (see binlog-runway)");
		return;
	}
	if (c->cfg->start_binlog_file) {
		start_file_item(c, k, r);
		return;
	}
	if (c->cfg->start_gtid) {
		start_gtid_item(c, k, r);
		return;
	}
	pc_pass(r, "the job starts at the source's current position (start: now)");
}
