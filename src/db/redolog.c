/*
 * redolog.c - the InnoDB redo log switch of mode physical (see redolog.h).
 *
 * DESIGN
 *  Checks, in order, each one query: the version (8.0.21 added ALTER INSTANCE
 *  {ENABLE|DISABLE} INNODB REDO_LOG), whether the switch is already off (then most likely
 *  by an earlier run of this job killed during its load: taken over, switched on at the
 *  end, as the job asks for the switch), other sessions running statements
 *  (information_schema.PROCESSLIST), then the server's write counters (Com_insert ... summed)
 *  sampled twice `sample_ms` apart. A missing privilege shows as error 1227 on the ALTER
 *  itself: skipped with a warning, the load goes on with the redo log.
 */
#include "db/redolog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/err.h"
#include "util/log.h"

#define WRITES_SQL                                                                                                     \
	"SELECT SUM(VARIABLE_VALUE) FROM performance_schema.global_status WHERE VARIABLE_NAME IN ('Com_insert', "      \
	"'Com_insert_select', 'Com_update', 'Com_update_multi', 'Com_delete', 'Com_delete_multi', 'Com_replace', "     \
	"'Com_replace_select', 'Com_load', 'Com_truncate', 'Com_alter_table', 'Com_create_table', 'Com_drop_table')"
#define OTHERS_SQL                                                                                                     \
	"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN "          \
	"('Sleep', 'Daemon', 'Binlog Dump', 'Binlog Dump GTID', 'Killed') AND USER NOT IN ('system user', "           \
	"'event_scheduler')"

void tidm_redo_init(tidm_redo *r, tidm_redo_query_fn query, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->query = query;
	r->ctx = ctx;
	r->sample_ms = 1000;
	r->restore_tries = 3;
}

static int skip(tidm_redo *r, const char *why)
{
	r->state = TIDM_REDO_SKIPPED;
	snprintf(r->why, sizeof(r->why), "%s", why);
	tidm_warn("the target's InnoDB redo log stays on for the load: %s", why);
	return 0;
}

static int value_u64(tidm_redo *r, const char *sql, unsigned long long *out)
{
	char *v = NULL;
	int rc = r->query(r->ctx, sql, &v);

	if (rc < 0)
		return rc;
	*out = v ? strtoull(v, NULL, 10) : 0;
	free(v);
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int tidm_redo_disable(tidm_redo *r, bool is_mysql, unsigned version)
{
	unsigned long long w0 = 0, w1 = 0, others = 0;
	char *v = NULL;
	int rc;

	if (r->state != TIDM_REDO_UNTOUCHED)
		return tidm_err_set(TIDM_EINVAL, "the redo log switch was used already");
	if (!is_mysql || version < 80021)
		return skip(r, "disable-redo-log needs MySQL 8.0.21 or later");
	if ((rc = r->query(r->ctx, "SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE VARIABLE_NAME = "
				   "'Innodb_redo_log_enabled'",
			   &v)) < 0)
		return rc;
	if (v && !strcasecmp(v, "OFF")) {
		/* an earlier run of the job killed during its load (kill -9 leaves no exit path):
		 * taken over, so the end of this load switches it on */
		free(v);
		r->state = TIDM_REDO_DISABLED;
		tidm_warn("the target's InnoDB redo log is off already (an interrupted earlier load?); tidm switches it "
			  "on when this load ends");
		return 0;
	}
	free(v);
	if ((rc = value_u64(r, OTHERS_SQL, &others)) < 0 || (rc = value_u64(r, WRITES_SQL, &w0)) < 0)
		return rc;
	if (others == 0) {
		sleep_ms(r->sample_ms);
		if ((rc = value_u64(r, WRITES_SQL, &w1)) < 0)
			return rc;
	}
	if (others || w1 != w0) {
		r->state = TIDM_REDO_REFUSED;
		if (others)
			snprintf(r->why, sizeof(r->why), "%llu other session%s run%s statements on the target", others,
				 others == 1 ? "" : "s", others == 1 ? "s" : "");
		else
			snprintf(r->why, sizeof(r->why), "the target executed %llu writing statements of other clients "
							 "within %u ms",
				 w1 - w0, r->sample_ms);
		return tidm_err_set(TIDM_EINVAL,
				    "spec.physical.disable-redo-log: %s, and a crash without the redo log loses their "
				    "writes too. Nothing was loaded. Stop the other clients, or remove disable-redo-log "
				    "from the job",
				    r->why);
	}
	if ((rc = r->query(r->ctx, "ALTER INSTANCE DISABLE INNODB REDO_LOG", NULL)) < 0) {
		if (tidm_err_dberr() == 1227 || tidm_err_dberr() == 1044 || tidm_err_dberr() == 1045) {
			char why[400];
			snprintf(why, sizeof(why), "the target user lacks the INNODB_REDO_LOG_ENABLE privilege (%s)",
				 tidm_err_msg());
			tidm_err_clear();
			return skip(r, why);
		}
		return rc;
	}
	r->state = TIDM_REDO_DISABLED;
	tidm_info("the target's InnoDB redo log is off for the load (spec.physical.disable-redo-log); it is switched "
		  "on again when the load ends");
	return 0;
}

int tidm_redo_restore(tidm_redo *r)
{
	int rc = 0;

	if (r->state != TIDM_REDO_DISABLED)
		return 0;
	for (unsigned i = 0; i < (r->restore_tries ? r->restore_tries : 1); i++) {
		if (i)
			sleep_ms(200u << i);
		if ((rc = r->query(r->ctx, "ALTER INSTANCE ENABLE INNODB REDO_LOG", NULL)) == 0) {
			r->state = TIDM_REDO_RESTORED;
			tidm_info("the target's InnoDB redo log is on again");
			return 0;
		}
		tidm_warn("switching the target's InnoDB redo log on again failed (%s)%s", tidm_err_msg(),
			  i + 1 < r->restore_tries ? "; retrying" : "");
	}
	{
		char cause[512];
		snprintf(cause, sizeof(cause), "%s", tidm_err_msg());
		return tidm_err_set(rc, "the target's InnoDB redo log is still OFF (%s): run ALTER INSTANCE ENABLE "
					"INNODB REDO_LOG on the target now; without the redo log a crash of the target "
					"loses data",
				    cause);
	}
}
