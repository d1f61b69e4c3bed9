/*
 * runner.c - one job from start to end (see runner.h).
 *
 * Type full: the full phase (dump/full.h). Type all: the full phase, then replication from
 * the snapshot's exact binlog position, so there is no gap and, because the applier skips
 * what its checkpoints prove applied, no double apply. A job whose record says the full
 * phase is over (stage "sync") goes straight to replication. A finished type full job is
 * not copied again (the run only reports it); --restart copies either type again from a
 * new snapshot. Type incremental: replication
 * from the job's start position (now, a GTID set, or file + position); the selected tables
 * must already exist on the target.
 *
 * Replication loop: events from repl/stream go to sync/apply; about once a second, at a
 * transaction boundary, every worker is asked to commit there (without waiting), so idle
 * workers' checkpoints move too; at the end the applier is flushed.
 * Lag is the age of the last event read while events flow, and 0 when the stream is idle
 * at a boundary (heartbeats arrive with nothing to apply).
 *
 * Verification (spec.verify, verify/verify.h): type full verifies once after the copy. With
 * replication, a thread of its own runs verify's online protocol while the job syncs:
 * `after-full` one pass once replication runs, `continuous` a pass every VERIFY_PAUSE_S
 * after the last. The sync path itself is untouched (verify reads the checkpoints the
 * applier commits). When replication stops because it caught up (--until-caught-up)
 * before a pass finished, one pass runs then, offline: the target holds still, and rows
 * the source writes meanwhile would show as differences. Differences are reported (log,
 * summary, tidm_meta) but never fail the job.
 */
#include "job/runner.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/conn.h"
#include "db/meta.h"
#include "db/quote.h"
#include "repl/stream.h"
#include "sync/triggers.h"
#include "util/err.h"
#include "util/log.h"
#include "util/rate.h"

void tidm_run_result_dispose(tidm_run_result *r)
{
	tidm_full_result_dispose(&r->full);
}

static double now_s(void);

#define VERIFY_PAUSE_S 10
#define VERIFY_DEFAULT_RPS 100000

typedef struct verify_thread {
	const tidm_job_config *cfg;
	tidm_run_progress *p;
	tidm_run_result *out;
	volatile sig_atomic_t stop;
	pthread_t th;
	bool started;
} verify_thread;

/* One verify pass of the job; the result goes to the log and *out. */
static int verify_pass(const tidm_job_config *cfg, tidm_run_progress *p, tidm_run_result *out, int online,
		       volatile sig_atomic_t *cancel)
{
	tidm_verify_opts vo = TIDM_VERIFY_OPTS_INIT;
	tidm_verify_report *rep = NULL;
	unsigned pass = atomic_load(&p->verify_passes) + 1;
	size_t i, eq = 0;
	uint64_t diff = 0;
	int rc;

	vo.cfg = cfg;
	vo.online = online;
	vo.pass = pass;
	vo.cancel = cancel;
	vo.progress = &p->verify;
	vo.rows_per_second = cfg->verify_rows_per_second ? cfg->verify_rows_per_second : VERIFY_DEFAULT_RPS;
	atomic_store(&p->verify.tables_total, 0);
	atomic_store(&p->verify.tables_done, 0);
	atomic_store(&p->verify.chunks_total, 0);
	atomic_store(&p->verify.chunks_done, 0);
	atomic_store(&p->verify.rows_done, 0);
	atomic_store(&p->verify.differing_rows, 0);
	rc = tidm_verify_run(&rep, &vo);
	if (rc < 0) {
		if (rc != TIDM_ECANCELED)
			tidm_warn("verify pass %u did not finish: %s", pass, tidm_err_msg());
		tidm_err_clear();
		return rc;
	}
	for (i = 0; i < rep->ntables; i++) {
		eq += rep->tables[i].state == TIDM_VERIFY_EQUAL;
		diff += rep->tables[i].differing_rows;
	}
	out->verify_passes = pass;
	out->verify_equal = tidm_verify_report_equal(rep);
	out->verify_differing_rows = diff;
	atomic_store(&p->verify_passes, pass);
	if (out->verify_equal)
		tidm_info("verify pass %u: every table equal (%zu tables, %.1f s%s)", pass, rep->ntables, rep->seconds,
			  rep->online ? ", online" : "");
	else
		tidm_warn("verify pass %u: %zu of %zu tables equal, %llu rows differ; tidm verify %s lists them and writes "
			  "the repair SQL (--repair-sql FILE)",
			  pass, eq, rep->ntables, (unsigned long long)diff, cfg->path);
	tidm_verify_report_free(rep);
	return 0;
}

static void *verify_main(void *arg)
{
	verify_thread *v = arg;

	tidm_log_set_thread_job(v->cfg->name);
	for (;;) {
		double until;
		while (!v->stop && atomic_load(&v->p->phase) != TIDM_PHASE_SYNC)
			nanosleep(&(struct timespec){0, 200 * 1000000L}, NULL);
		if (v->stop)
			break;
		if (verify_pass(v->cfg, v->p, v->out, 1, &v->stop) == 0 && v->cfg->verify == TIDM_VERIFY_AFTER_FULL)
			break;
		for (until = now_s() + VERIFY_PAUSE_S; !v->stop && now_s() < until;)
			nanosleep(&(struct timespec){0, 200 * 1000000L}, NULL);
		if (v->stop)
			break;
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Incremental only: every selected source table must exist on the target (SPEC §3, §5). */
static int check_target_tables(const tidm_job_config *cfg, tidm_conn *src, tidm_conn *tgt)
{
	tidm_res *res = NULL;
	int rc;

	rc = tidm_conn_query(src, &res,
			     "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' "
			     "AND TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys') "
			     "ORDER BY TABLE_SCHEMA, TABLE_NAME");
	if (rc < 0)
		return rc;
	while (tidm_res_next(res) == 1) {
		const char *db = tidm_res_get(res, 0), *t = tidm_res_get(res, 1);
		tidm_buf q = TIDM_BUF_INIT;
		char *n = NULL;

		if (!tidm_filter_match_table(&cfg->objects, db, t))
			continue;
		tidm_buf_puts(&q, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
		tidm_quote_string(&q, db, strlen(db));
		tidm_buf_puts(&q, " AND TABLE_NAME = ");
		tidm_quote_string(&q, t, strlen(t));
		rc = tidm_conn_query_value(tgt, &n, q.data);
		tidm_buf_dispose(&q);
		if (rc == 0 && (!n || !strcmp(n, "0")))
			rc = tidm_err_set(TIDM_ENOTFOUND,
					  "cannot fetch downstream table schema of `%s`.`%s` to replicate into: Error 1146: "
					  "Table '%s.%s' doesn't exist on the target; an incremental job needs every "
					  "selected table created on the target first",
					  db, t, db, t);
		free(n);
		if (rc < 0)
			break;
	}
	tidm_res_free(res);
	return rc;
}

/* Type all: the snapshot window of each table copied by the full phase (sync/apply.h). */
/* One global variable of the source; NULL in *out when the server does not have it. */
static int source_var(tidm_conn *src, const char *name, char **out)
{
	char q[128];
	int rc;

	*out = NULL;
	snprintf(q, sizeof(q), "SELECT @@GLOBAL.%s", name);
	rc = tidm_conn_query_value(src, out, q);
	if (rc < 0 && tidm_err_dberr() == 1193) { /* unknown system variable: an older server */
		tidm_err_clear();
		return 0;
	}
	return rc;
}

/*
 * Replication reads row events: a source without a binary log, or one that writes changes
 * as statements (binlog_format STATEMENT or MIXED), would be followed silently wrong, so the
 * job refuses to start (SPEC §3). A row image other than FULL works (missing columns keep
 * the target's defaults) but is worth a warning.
 */
static int check_binlog_settings(tidm_conn *src)
{
	char *log_bin = NULL, *format = NULL, *image = NULL;
	int rc;

	if (tidm_conn_info(src)->aurora_reader)
		return tidm_err_set(TIDM_EUNSUPPORTED,
				    "the source is an Aurora reader instance, which has no binary log to replicate "
				    "from; point the job at the writer (cluster) endpoint, or use type: full");
	if ((rc = source_var(src, "log_bin", &log_bin)) < 0 || (rc = source_var(src, "binlog_format", &format)) < 0 ||
	    (rc = source_var(src, "binlog_row_image", &image)) < 0)
		goto out;
	if (log_bin && (!strcmp(log_bin, "0") || !strcasecmp(log_bin, "OFF"))) {
		rc = tidm_err_set(TIDM_EUNSUPPORTED,
				  "the source's binary log is off (log_bin = OFF): replication reads it; enable it "
				  "(log_bin in my.cnf; on RDS/Aurora turn on automated backups; on Cloud SQL point-in-time "
				  "recovery) and restart the source, or use type: full");
		goto out;
	}
	if (format && strcasecmp(format, "ROW") != 0) {
		rc = tidm_err_set(TIDM_EUNSUPPORTED,
				  "the source's binlog_format is %s; tidm replicates row events only: set binlog_format = ROW "
				  "(SET GLOBAL binlog_format = 'ROW' and in my.cnf; on RDS/Aurora the parameter group, on Azure "
				  "the server parameters, on Cloud SQL the flag), reconnect the applications (sessions keep "
				  "the format they started with), then run the job again",
				  format);
		goto out;
	}
	if (image && strcasecmp(image, "FULL") != 0)
		tidm_warn("the source's binlog_row_image is %s: columns a change does not name are written with the "
			  "target's defaults; set binlog_row_image = FULL for an exact copy",
			  image);
out:
	free(log_bin);
	free(format);
	free(image);
	return rc;
}

static int load_windows(const tidm_job_config *cfg, tidm_conn *tgt, tidm_applier *ap)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	char db[256] = "", tbl[256] = "", lo_f[256] = "", hi_f[256] = "";
	uint64_t lo_p = 0, hi_p = 0;
	bool have = false;
	int rc;

	tidm_buf_puts(&q, "SELECT `db`, `tbl`, `snap_file`, `snap_pos` FROM `" TIDM_META_DB "`.`chunks` WHERE `job` = ");
	tidm_quote_string(&q, cfg->name, strlen(cfg->name));
	tidm_buf_puts(&q, " AND `state` IN ('done', 'gone') AND `snap_file` <> '' ORDER BY `db`, `tbl`");
	if ((rc = tidm_conn_query(tgt, &res, q.data)) < 0)
		goto out;
	for (;;) {
		int more = tidm_res_next(res);
		const char *d = more == 1 ? tidm_res_get(res, 0) : NULL, *t = more == 1 ? tidm_res_get(res, 1) : NULL;

		if (have && (!d || strcmp(d, db) != 0 || strcmp(t, tbl) != 0)) {
			tidm_applier_add_window(ap, db, tbl, lo_f, lo_p, hi_f, hi_p);
			have = false;
		}
		if (more != 1)
			break;
		{
			const char *f = tidm_res_get(res, 2);
			uint64_t p = strtoull(tidm_res_get(res, 3), NULL, 10);
			if (!have) {
				snprintf(db, sizeof(db), "%s", d);
				snprintf(tbl, sizeof(tbl), "%s", t);
				snprintf(lo_f, sizeof(lo_f), "%s", f);
				snprintf(hi_f, sizeof(hi_f), "%s", f);
				lo_p = hi_p = p;
				have = true;
			} else {
				if (tidm_sync_pos_cmp(f, p, lo_f, lo_p) < 0) {
					snprintf(lo_f, sizeof(lo_f), "%s", f);
					lo_p = p;
				}
				if (tidm_sync_pos_cmp(f, p, hi_f, hi_p) > 0) {
					snprintf(hi_f, sizeof(hi_f), "%s", f);
					hi_p = p;
				}
			}
		}
	}
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

/*
 * One run of replication on fresh target connections (the applier opens its own; `tgt` is
 * the runner's). *from_source is set when the error came from the binlog stream (which
 * reconnects to the source by itself); *caught_up once the run applied up to within
 * CAUGHT_UP_LAG_S of the source at a transaction boundary, after running CAUGHT_UP_MIN_S.
 */
#define CAUGHT_UP_LAG_S 2
#define CAUGHT_UP_MIN_S 5.0
static int run_sync_once(const tidm_job_config *cfg, const tidm_run_opts *o, tidm_run_progress *p, tidm_conn *tgt,
			 const tidm_snapshot_pos *snapshot, tidm_run_result *out, bool *from_source, bool *caught_up)
{
	double started = now_s();
	tidm_applier_opts aopts;
	tidm_applier *ap = NULL;
	tidm_repl_opts ropts = TIDM_REPL_OPTS_INIT;
	tidm_repl_stream *st = NULL;
	tidm_sync_pos resume;
	bool have_resume = false;
	double last_flush = now_s();
	tidm_rate rate;
	int rc;

	tidm_rate_init(&rate);
	memset(&resume, 0, sizeof(resume));
	memset(&aopts, 0, sizeof(aopts));
	aopts.cfg = cfg;
	aopts.replace_conflicts = o->replace_conflicts;
	aopts.cancel = o->cancel;
	aopts.progress = &p->sync;
	aopts.source_flavor = TIDM_FLAVOR_MYSQL;
	atomic_store(&p->sync.lag_s, -1);
	if ((rc = tidm_applier_new(&ap, &aopts, &resume, &have_resume)) < 0)
		return rc;
	if (have_resume) /* where a stop before the next flush leaves the job */
		out->stopped_at = resume;
	if (have_resume && !atomic_load(&p->sync.applied_pos))
		atomic_store(&p->sync.applied_pos, tidm_sync_pos_pack(resume.file, resume.pos));
	if (cfg->type == TIDM_JOB_ALL && (rc = load_windows(cfg, tgt, ap)) < 0)
		goto out;
	/* the applier has read how the last run ended; from now on a crash is an unclean stop */
	if ((rc = tidm_meta_job_set_state(tgt, cfg->name, "running", "sync", NULL)) < 0)
		goto out;

	tidm_endpoint_conn_opts(&ropts.conn, &cfg->source, TIDM_ROLE_SOURCE);
	ropts.job_name = cfg->name;
	ropts.until_open_pos = o->until_caught_up;
	ropts.return_heartbeats = true; /* an idle source's heartbeat says the lag is 0 (below) */
	ropts.cancel = o->cancel;
	if (have_resume) {
		ropts.start = TIDM_REPL_START_FILE;
		ropts.start_file = resume.file;
		ropts.start_pos = resume.pos;
		tidm_info("replication resumes at the checkpoint %s:%" PRIu64, resume.file, resume.pos);
	} else if (snapshot && snapshot->file[0]) {
		ropts.start = TIDM_REPL_START_FILE;
		ropts.start_file = snapshot->file;
		ropts.start_pos = snapshot->pos;
		tidm_info("replication starts at the snapshot position %s:%" PRIu64, snapshot->file, snapshot->pos);
	} else if (cfg->type == TIDM_JOB_ALL) {
		rc = tidm_err_set(TIDM_ERROR, "the source has no binary log position (is log_bin ON?): replication "
					      "cannot continue from the snapshot");
		goto out;
	} else if (cfg->start_gtid) {
		ropts.start = TIDM_REPL_START_GTID;
		ropts.start_gtid = cfg->start_gtid;
	} else if (cfg->start_binlog_file) {
		ropts.start = TIDM_REPL_START_FILE;
		ropts.start_file = cfg->start_binlog_file;
		ropts.start_pos = cfg->start_binlog_pos;
	} else {
		ropts.start = TIDM_REPL_START_NOW;
	}
	if ((rc = tidm_repl_stream_open(&st, &ropts)) < 0) {
		*from_source = true;
		goto out;
	}
	if (!have_resume && ropts.start != TIDM_REPL_START_GTID) {
		tidm_sync_pos start;
		memset(&start, 0, sizeof(start));
		if (ropts.start == TIDM_REPL_START_NOW) {
			snprintf(start.file, sizeof(start.file), "%s", tidm_repl_stream_open_file(st));
			start.pos = tidm_repl_stream_open_pos(st);
		} else {
			snprintf(start.file, sizeof(start.file), "%s", ropts.start_file);
			start.pos = ropts.start_pos ? ropts.start_pos : 4;
		}
		if ((rc = tidm_applier_set_start(ap, &start)) < 0)
			goto out;
		if (!atomic_load(&p->sync.applied_pos))
			atomic_store(&p->sync.applied_pos, tidm_sync_pos_pack(start.file, start.pos));
	}
	out->sync_ran = true;
	atomic_store(&p->phase, TIDM_PHASE_SYNC);

	for (;;) {
		tidm_repl_event rev;
		int got = tidm_repl_stream_next(st, &rev);

		if (got == 0)
			break; /* caught up with the position current at start */
		if (got == TIDM_REPL_RECONNECTED) {
			tidm_applier_reset_txn(ap);
			atomic_fetch_add(&p->reconnects, 1);
			continue;
		}
		if (got < 0) {
			rc = got;
			*from_source = true;
			goto out;
		}
		if (!rev.artificial)
			atomic_fetch_add(&p->sync.binlog_bytes, rev.ev.hdr.event_size);
		if (!rev.artificial && rev.ev.hdr.type != TIDM_BINLOG_TRANSACTION_PAYLOAD) {
			int64_t lag = (int64_t)time(NULL) - (int64_t)rev.ev.hdr.timestamp;
			if (rev.ev.hdr.timestamp)
				atomic_store(&p->sync.lag_s, lag > 0 ? lag : 0);
			if ((rc = tidm_applier_feed(ap, rev.dec, &rev.ev, rev.file, rev.next_pos)) < 0)
				goto out;
		} else if (!rev.in_trx &&
			   (rev.ev.hdr.type == TIDM_BINLOG_HEARTBEAT || rev.ev.hdr.type == TIDM_BINLOG_HEARTBEAT_V2)) {
			atomic_store(&p->sync.lag_s, 0);
		}
		if (!rev.in_trx && now_s() - last_flush >= 1.0) {
			/* checkpoints move on without stopping the stream */
			if ((rc = tidm_applier_checkpoint(ap)) < 0)
				goto out;
			last_flush = now_s();
			tidm_rate_sample(&rate, last_flush, (double)atomic_load(&p->sync.rows));
			atomic_store(&p->sync.apply_rate_milli, (uint64_t)(tidm_rate_per_s(&rate) * 1000.0));
			if (!*caught_up && last_flush - started >= CAUGHT_UP_MIN_S) {
				int64_t lag = atomic_load(&p->sync.lag_s);
				*caught_up = lag >= 0 && lag <= CAUGHT_UP_LAG_S;
			}
		}
	}
	rc = tidm_applier_flush(ap, &out->stopped_at);
	if (rc == 0)
		atomic_store(&p->sync.lag_s, 0);
	atomic_store(&p->sync.apply_rate_milli, 0);
out:
	if (rc == TIDM_ECANCELED || (o->cancel && *o->cancel && rc < 0)) {
		/* a clean stop: everything complete is committed with its checkpoint */
		tidm_err_clear();
		tidm_applier_flush(ap, &out->stopped_at);
		rc = TIDM_ECANCELED;
	}
	if (st)
		atomic_store(&p->reconnects, tidm_repl_stream_reconnects(st));
	tidm_repl_stream_close(st);
	{
		/* keep the error across the cleanup below */
		int code = tidm_err_code();
		unsigned dberr = tidm_err_dberr();
		char msg[2048];
		snprintf(msg, sizeof(msg), "%s", tidm_err_msg());
		tidm_applier_free(ap);
		if (rc < 0 && rc != TIDM_ECANCELED)
			tidm_err_set_db(code ? code : rc, dberr, "%s", msg);
	}
	return rc;
}

/*
 * Replication, restarted from its checkpoints after a transient failure on the target (a
 * deadlock or lock wait timeout between workers, a lost or killed connection, a target
 * that restarts or refuses connections for a while): every connection is opened again
 * first - the runner's own here, the applier's and the stream's by the new run - so no
 * retry ever uses a connection of the failed run. Up to SYNC_RETRIES restarts, waiting
 * 0.5 s doubling to 30 s (with each reopening's own retries, about four minutes for a
 * target that stays down); a restarted run that catches up with the source gives the
 * budget back. Everything committed stays; the checkpoints make the restart exact.
 * Errors of the binlog stream are not retried here: it reconnects to the source itself.
 */
#define SYNC_RETRIES 10
#define SYNC_DELAY_FIRST_MS 500
#define SYNC_DELAY_CAP_MS 30000

static bool transient_target_error(void)
{
	unsigned e = tidm_err_dberr();
	return tidm_err_code() == TIDM_ECONN || e == 1213 || e == 1205 || e == 2006 || e == 2013 || e == 2055;
}

/* The thread's error, kept across calls that may set another. */
typedef struct saved_err {
	int code;
	unsigned dberr;
	char msg[2048];
} saved_err;

static void err_save(saved_err *s)
{
	s->code = tidm_err_code();
	s->dberr = tidm_err_dberr();
	snprintf(s->msg, sizeof(s->msg), "%s", tidm_err_msg());
}

static int err_restore(const saved_err *s, int rc)
{
	return tidm_err_set_db(s->code ? s->code : rc, s->dberr, "%s", s->msg);
}

/* A target connection to record the job's state on, one attempt, or *tgt = NULL. */
static void reopen_quick(tidm_conn **tgt, const tidm_conn_opts *topts)
{
	tidm_conn_opts once = *topts;
	once.retries = 1;
	if (tidm_conn_open(tgt, &once) < 0)
		*tgt = NULL;
}

/* Interrupted between two runs: what is committed stays, with its checkpoints (paused). */
static int stopped_while_retrying(tidm_conn **tgt, const tidm_conn_opts *topts)
{
	reopen_quick(tgt, topts);
	tidm_err_clear();
	return TIDM_ECANCELED;
}

static int run_sync(const tidm_job_config *cfg, const tidm_run_opts *o, tidm_run_progress *p, tidm_conn **tgt,
		    const tidm_conn_opts *topts, const tidm_snapshot_pos *snapshot, tidm_run_result *out)
{
	unsigned attempt = 0, delay = SYNC_DELAY_FIRST_MS, waited;
	int rc;

	for (;;) {
		bool from_source = false, caught_up = false;

		if (!*tgt)
			rc = tidm_conn_open(tgt, topts);
		if (*tgt)
			rc = run_sync_once(cfg, o, p, *tgt, snapshot, out, &from_source, &caught_up);
		if (rc >= 0 || rc == TIDM_ECANCELED)
			return rc;
		if (caught_up && attempt) {
			tidm_info("replication had caught up after its restart: the retry budget is full again");
			attempt = 0;
			delay = SYNC_DELAY_FIRST_MS;
		}
		if (o->cancel && *o->cancel && !*tgt)
			return stopped_while_retrying(tgt, topts);
		if (from_source || !transient_target_error() || (o->cancel && *o->cancel))
			return rc;
		if (attempt >= SYNC_RETRIES) {
			saved_err se;
			err_save(&se);
			/* a connection that can record the failure (best effort) */
			tidm_conn_close(*tgt);
			reopen_quick(tgt, topts);
			rc = err_restore(&se, rc);
			tidm_err_prefix("replication restarted %u times after transient errors on the target and gives "
					"up: ",
					SYNC_RETRIES);
			return rc;
		}
		attempt++;
		tidm_warn("replication stopped by a transient error on the target (%s); reconnecting and restarting "
			  "from the checkpoints in %u ms (attempt %u of %u)",
			  tidm_err_msg(), delay, attempt, SYNC_RETRIES);
		/* the runner's connection may be as dead as the applier's: never use it again */
		tidm_conn_close(*tgt);
		*tgt = NULL;
		for (waited = 0; waited < delay && !(o->cancel && *o->cancel); waited += 100)
			nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
		tidm_err_clear();
		if (o->cancel && *o->cancel)
			return stopped_while_retrying(tgt, topts);
		delay = delay * 2 > SYNC_DELAY_CAP_MS ? SYNC_DELAY_CAP_MS : delay * 2;
	}
}

const char *const tidm_run_error_classes[TIDM_RUN_ERROR_CLASSES] = {"connection", "auth",    "duplicate_key",
								    "not_found",  "invalid", "other"};

int tidm_run_error_class(int code)
{
	switch (code) {
	case TIDM_ECONN:
		return 0;
	case TIDM_EAUTH:
		return 1;
	case TIDM_EDUPKEY:
		return 2;
	case TIDM_ENOTFOUND:
		return 3;
	case TIDM_EINVAL:
	case TIDM_EUNSUPPORTED:
	case TIDM_ECORRUPT:
		return 4;
	default:
		return 5;
	}
}

int tidm_job_run(const tidm_job_config *cfg, const tidm_run_opts *o, tidm_run_progress *p, tidm_run_result *out)
{
	tidm_conn_opts sopts, topts;
	tidm_conn *tgt = NULL, *src = NULL;
	tidm_meta_job job;
	tidm_snapshot_pos snap;
	bool have_snap = false;
	verify_thread vt;
	int rc;

	memset(&vt, 0, sizeof(vt));
	memset(&job, 0, sizeof(job));
	memset(&snap, 0, sizeof(snap));
	tidm_endpoint_conn_opts(&sopts, &cfg->source, TIDM_ROLE_SOURCE);
	tidm_endpoint_conn_opts(&topts, &cfg->target, TIDM_ROLE_TARGET);
	if ((rc = tidm_conn_open(&tgt, &topts)) < 0 || (rc = tidm_meta_ensure(tgt)) < 0 ||
	    (rc = tidm_meta_job_get(tgt, cfg->name, &job)) < 0)
		goto out;

	if (o->restart && cfg->type == TIDM_JOB_INCREMENTAL) {
		rc = tidm_err_set(TIDM_EINVAL, "--restart starts a job's full phase again from a new snapshot; job %s "
					       "is type incremental and has none",
				  cfg->name);
		goto out;
	}
	if (cfg->type == TIDM_JOB_FULL && job.exists && !strcmp(job.state, "finished") && !o->restart) {
		/* a finished copy is not made again: the target stays as it is */
		tidm_full_result *f = &out->full;
		out->finished_before = true;
		snprintf(out->finished_at, sizeof(out->finished_at), "%s", job.updated_at);
		snprintf(f->snapshot.file, sizeof(f->snapshot.file), "%s", job.snap_file);
		f->snapshot.pos = job.snap_pos;
		f->snapshot.gtid_set = job.snap_gtid;
		job.snap_gtid = NULL;
		snprintf(f->snapshot.method, sizeof(f->snapshot.method), "%s", job.snap_method);
		atomic_store(&p->phase, TIDM_PHASE_DONE);
		goto out;
	}
	/* before anything is written to a selected table (a finished job, reported above,
	 * writes nothing: triggers made again after the migration do not fail it) */
	if ((rc = tidm_target_triggers_check(tgt, cfg)) < 0)
		goto out;
	if (cfg->type == TIDM_JOB_ALL) {
		/* before the full phase: its copy is of no use if replication cannot follow it */
		if ((rc = tidm_conn_open(&src, &sopts)) < 0 || (rc = check_binlog_settings(src)) < 0)
			goto out;
		tidm_conn_close(src);
		src = NULL;
	}
	if (cfg->type == TIDM_JOB_FULL ||
	    (cfg->type == TIDM_JOB_ALL && (o->restart || !(job.exists && !strcmp(job.stage, "sync"))))) {
		atomic_store(&p->phase, TIDM_PHASE_FULL);
		out->full_ran = true;
		rc = tidm_full_run(cfg, &p->full, &out->full, o->cancel, o->restart);
		if (rc < 0)
			goto out;
		if (cfg->type == TIDM_JOB_FULL) {
			atomic_store(&p->phase, TIDM_PHASE_DONE);
			if (cfg->verify != TIDM_VERIFY_OFF)
				verify_pass(cfg, p, out, 0, o->cancel);
			goto out;
		}
		snap = out->full.snapshot;
		have_snap = true;
	} else if (cfg->type == TIDM_JOB_ALL) {
		snprintf(snap.file, sizeof(snap.file), "%s", job.snap_file);
		snap.pos = job.snap_pos;
		have_snap = true;
	} else {
		/* incremental only */
		if ((rc = tidm_conn_open(&src, &sopts)) < 0)
			goto out;
		/* the tables must exist when replication first starts from now; later, and from a
		 * past start position, tables the source creates reach the target through the
		 * replicated CREATE TABLE (a table the binlog's rows need and nothing creates fails
		 * the job then, named the same way) */
		if ((rc = check_binlog_settings(src)) < 0 ||
		    (!job.exists && !cfg->start_gtid && !cfg->start_binlog_file &&
		     (rc = check_target_tables(cfg, src, tgt)) < 0))
			goto out;
		tidm_conn_close(src); /* replication opens its own connection */
		src = NULL;
		if (!job.exists) {
			tidm_meta_job nj;
			memset(&nj, 0, sizeof(nj));
			snprintf(nj.state, sizeof(nj.state), "running");
			snprintf(nj.stage, sizeof(nj.stage), "sync");
			if ((rc = tidm_meta_job_put(tgt, cfg->name, tidm_job_type_name(cfg->type), &nj)) < 0)
				goto out;
		}
	}
	/* remember "running" (an unclean stop from here on means safe mode next time) -
	 * after the applier has read the previous state */
	if (cfg->verify != TIDM_VERIFY_OFF) {
		vt.cfg = cfg;
		vt.p = p;
		vt.out = out;
		vt.started = pthread_create(&vt.th, NULL, verify_main, &vt) == 0;
	}
	rc = run_sync(cfg, o, p, &tgt, &topts, have_snap ? &snap : NULL, out);
	if (vt.started) {
		saved_err se;
		err_save(&se);
		vt.stop = 1;
		pthread_join(vt.th, NULL);
		vt.started = false;
		if (rc < 0 && rc != TIDM_ECANCELED)
			err_restore(&se, rc);
		else
			tidm_err_clear();
	}
	if (rc == 0 && cfg->verify != TIDM_VERIFY_OFF && !out->verify_passes) {
		/* caught up before a pass finished: one now, with the target holding still */
		verify_pass(cfg, p, out, 0, o->cancel);
	}
	if ((rc == 0 || rc == TIDM_ECANCELED) && tgt)
		tidm_meta_job_set_state(tgt, cfg->name, "paused", "sync", NULL);
out:
	if (rc < 0 && rc != TIDM_ECANCELED)
		atomic_fetch_add(&p->errors[tidm_run_error_class(tidm_err_code() ? tidm_err_code() : rc)], 1);
	if (rc < 0 && rc != TIDM_ECANCELED && tgt) {
		char msg[2048];
		int code = tidm_err_code();
		unsigned dberr = tidm_err_dberr();
		snprintf(msg, sizeof(msg), "%s", tidm_err_msg());
		tidm_meta_job_set_state(tgt, cfg->name, "failed", NULL, msg);
		tidm_err_set_db(code ? code : rc, dberr, "%s", msg);
	}
	if (rc == TIDM_ECANCELED && tgt && out->full_ran && atomic_load(&p->phase) == TIDM_PHASE_FULL)
		tidm_err_set(TIDM_ECANCELED, "interrupted; run the same command again to resume");
	tidm_meta_job_dispose(&job);
	tidm_conn_close(src);
	tidm_conn_close(tgt);
	return rc;
}

bool tidm_run_transient(int code, unsigned dberr)
{
	switch (code) {
	case TIDM_EAUTH:
	case TIDM_ENOTFOUND:
	case TIDM_EDUPKEY:
	case TIDM_EUNSUPPORTED:
	case TIDM_EINVAL:
	case TIDM_ECORRUPT:
		return false;
	case TIDM_ECONN:
		return true;
	default:
		break;
	}
	switch (dberr) {
	case 1040: /* too many connections */
	case 1053: /* server shutdown in progress */
	case 1205: /* lock wait timeout */
	case 1213: /* deadlock */
	case 1158: case 1159: case 1160: case 1161: /* network read/write errors */
	case 2002: case 2003: case 2006: case 2013: case 2055: /* client: cannot connect, gone away, lost */
	case 8022: case 8028: case 9007: /* TiDB: retryable transaction conflicts */
	case 9001: case 9002: case 9005: /* TiDB: PD / TiKV unavailable or busy */
		return true;
	default:
		return false;
	}
}

bool tidm_run_progressed(const tidm_run_progress *p)
{
	return atomic_load(&p->full.chunks_done) > 0 || atomic_load(&p->sync.txns) > 0;
}

void tidm_run_progress_reset(tidm_run_progress *p)
{
	atomic_store(&p->phase, TIDM_PHASE_START);
	atomic_store(&p->full.stage, TIDM_FULL_CONNECTING);
	atomic_store(&p->full.tables_total, 0);
	atomic_store(&p->full.tables_done, 0);
	atomic_store(&p->full.chunks_total, 0);
	atomic_store(&p->full.chunks_done, 0);
	atomic_store(&p->full.chunks_skipped, 0);
	atomic_store(&p->full.rows_estimate, 0);
	atomic_store(&p->full.rows_done, 0);
	atomic_store(&p->full.rows_skipped, 0);
	atomic_store(&p->full.bytes_done, 0);
	atomic_store(&p->sync.events, 0);
	atomic_store(&p->sync.txns, 0);
	atomic_store(&p->sync.rows, 0);
	atomic_store(&p->sync.skipped, 0);
	atomic_store(&p->sync.ddls, 0);
	atomic_store(&p->sync.last_ts, 0);
	atomic_store(&p->sync.lag_s, -1);
	atomic_store(&p->sync.safe_mode, 0);
	atomic_store(&p->reconnects, 0);
}
