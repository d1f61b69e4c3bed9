/*
 * cmd_migrate.c - `tidm migrate JOB.yaml [--until-caught-up] [--replace-conflicts]
 * [--ignore-warnings] [--restart] [--metrics-listen ADDR]`: runs one job in the foreground. A finished type full
 * job is only reported; --restart copies again from a new snapshot.
 *
 * The job runs on worker threads (dump/full.h); this thread draws the progress: on a
 * terminal one line redrawn every second (stage, tables, rows, bytes, rate, ETA), else a
 * plain log line every 10 seconds. SIGINT/SIGTERM set a flag the workers poll: they stop
 * at a statement boundary with every finished chunk recorded, so running the same
 * command again resumes. --metrics-listen serves GET /metrics (job/metrics.h) on ADDR
 * while the job runs.
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "dump/full.h"
#include "http/server.h"
#include "job/metrics.h"
#include "job/config.h"
#include "job/runner.h"
#include "verify/verify.h"
#include "precheck/precheck.h"
#include "util/err.h"
#include "util/log.h"
#include "util/rate.h"

static volatile sig_atomic_t cancel_flag;

static void on_signal(int sig)
{
	(void)sig;
	cancel_flag = 1;
}

/* The binlog runway the precheck measured (precheck.h), watched while the job runs: shown
 * in the progress line, and one warning in the log when the margin falls under 2x. */
typedef struct runway_watch {
	bool known;         /* a finite runway was measured */
	double runway_s;    /* at `at` */
	double at;          /* monotonic seconds */
	char retention[160];
	bool warned_full, warned_sync;
} runway_watch;

typedef struct migrate_run {
	const tidm_job_config *cfg;
	tidm_run_opts opts;
	tidm_run_progress rp;
	tidm_run_result rr;
	int rc;
	char err[2048];
	_Atomic int finished;
	runway_watch rw;
} migrate_run;

/* GET /metrics of --metrics-listen (a handler thread). */
static int migrate_metrics(void *ctx, tidm_buf *out)
{
	migrate_run *m = ctx;
	tidm_job_metrics jm = {0};
	const char *state = "running";

	if (atomic_load(&m->finished))
		state = m->rc == 0 ? (m->cfg->type == TIDM_JOB_FULL ? "finished" : "paused")
				   : m->rc == TIDM_ECANCELED ? "paused" : "failed";
	jm.name = m->cfg->name;
	jm.type = tidm_job_type_name(m->cfg->type);
	jm.state = state;
	jm.stage = !strcmp(state, "running") ? tidm_metrics_stage(&m->rp) : "";
	jm.p = &m->rp;
	tidm_metrics_render_jobs(out, &jm, 1, (int64_t)time(NULL));
	tidm_metrics_render_process(out);
	return 0;
}

static double now_s(void);

/* Runs the job; a transient failure (job/runner.h: a lost or refused connection, a
 * deadlock, a restarting server) is run again from the checkpoints, as the job service
 * does, after 1 s doubling to 60 s (back to 1 s after a try that ran a minute or got
 * somewhere: tidm_run_progressed), until it
 * succeeds, fails for good, or the user stops it (Ctrl-C). Nothing to rerun by hand. */
static void *job_thread(void *arg)
{
	migrate_run *m = arg;
	unsigned attempt = 0;

	for (;;) {
		double started = now_s(), delay = 1.0;

		m->rc = tidm_job_run(m->cfg, &m->opts, &m->rp, &m->rr);
		if (m->rc < 0)
			snprintf(m->err, sizeof(m->err), "%s", tidm_err_msg());
		if (m->rc >= 0 || m->rc == TIDM_ECANCELED || *m->opts.cancel ||
		    !tidm_run_transient(m->rc, tidm_err_dberr()))
			break;
		if (now_s() - started >= 60 || tidm_run_progressed(&m->rp))
			attempt = 0;
		for (unsigned k = 0; k < attempt && delay < 60; k++)
			delay *= 2;
		if (delay > 60)
			delay = 60;
		attempt++;
		tidm_warn("job %s: a transient failure; trying again from the checkpoints in %.0f s (retry %u): %s",
			  m->cfg->name, delay, attempt, m->err);
		atomic_fetch_add(&m->rp.retries, 1);
		for (double until = now_s() + delay; now_s() < until && !*m->opts.cancel;)
			nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
		if (*m->opts.cancel) {
			m->rc = TIDM_ECANCELED;
			break;
		}
		m->opts.restart = false; /* a retry continues what the first try began */
		tidm_run_result_dispose(&m->rr);
		memset(&m->rr, 0, sizeof(m->rr));
		tidm_run_progress_reset(&m->rp);
	}
	atomic_store(&m->finished, 1);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *stage_name(int stage)
{
	switch (stage) {
	case TIDM_FULL_CONNECTING: return "connecting";
	case TIDM_FULL_SNAPSHOT: return "snapshot";
	case TIDM_FULL_SCHEMA: return "schema";
	case TIDM_FULL_PLANNING: return "planning";
	case TIDM_FULL_COPYING: return "copying";
	case TIDM_FULL_DONE: return "done";
	default: return "?";
	}
}

static void fmt_bytes(char *out, size_t n, double b)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int i = 0;
	while (b >= 1024 && i < 4) {
		b /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

/* Replication: warn once when the binlog the checkpoint needs stays less than twice as long
 * as replication is behind (checked every tick: a lag can be brief). */
static void runway_check_sync(migrate_run *m)
{
	int64_t lag = atomic_load(&m->rp.sync.lag_s);
	double left;
	char d[32];

	if (!m->rw.known || m->rw.warned_sync || lag <= 0)
		return;
	left = m->rw.runway_s - (double)lag;
	if (left >= 2 * (double)lag)
		return;
	tidm_precheck_fmt_duration(d, sizeof(d), left > 0 ? left : 0);
	tidm_warn("binlog runway: replication is %llds behind and the binary log it still needs stays on the source for "
		  "about %s more (%s): a margin under 2x. If it falls further behind, the position is purged and the job "
		  "must start over; keep binary logs longer now",
		  (long long)lag, d, m->rw.retention);
	m->rw.warned_sync = true;
}

/* One progress line of replication. */
static void sync_line(char *out, size_t n, migrate_run *m, double started, uint64_t rows0)
{
	tidm_sync_progress *p = &m->rp.sync;
	uint64_t rows = atomic_load(&p->rows);
	double el = now_s() - started;
	int64_t lag = atomic_load(&p->lag_s);
	char lagbuf[96];

	if (lag < 0)
		snprintf(lagbuf, sizeof(lagbuf), "estimating"); /* no event with a timestamp yet */
	else
		snprintf(lagbuf, sizeof(lagbuf), "%llds", (long long)lag);
	if (m->rw.known && lag >= 0) {
		/* the checkpoint is `lag` seconds old: it stays for the runway less that */
		double left = m->rw.runway_s - (double)lag;
		char d[32];
		tidm_precheck_fmt_duration(d, sizeof(d), left > 0 ? left : 0);
		snprintf(lagbuf + strlen(lagbuf), sizeof(lagbuf) - strlen(lagbuf), " (binlog runway %s)", d);
	}
	char vbuf[96] = "";
	if (m->cfg->verify != TIDM_VERIFY_OFF) {
		/* spec.verify: the pass in progress (or the last one's number) */
		tidm_verify_progress *vp = &m->rp.verify;
		uint64_t done = atomic_load(&vp->chunks_done), total = atomic_load(&vp->chunks_total);
		unsigned passes = atomic_load(&m->rp.verify_passes);
		if (total && done < total)
			snprintf(vbuf, sizeof(vbuf), "  verify pass %u %llu/%llu chunks", passes + 1,
				 (unsigned long long)done, (unsigned long long)total);
		else if (passes)
			snprintf(vbuf, sizeof(vbuf), "  verified %u passes", passes);
	}
	snprintf(out, n, "[syncing] events %llu  txns %llu  rows %llu (%.0f/s)  ddl %llu  lag %s%s%s%s",
		 (unsigned long long)atomic_load(&p->events), (unsigned long long)atomic_load(&p->txns),
		 (unsigned long long)rows, el > 0 ? (double)(rows - rows0) / el : 0.0,
		 (unsigned long long)atomic_load(&p->ddls), lagbuf, atomic_load(&p->safe_mode) ? "  safe-mode" : "",
		 atomic_load(&m->rp.reconnects) ? "  (reconnected)" : "", vbuf);
}

/*
 * One progress line. The ETA comes from bytes: the bytes written so far, the total they
 * extrapolate to (bytes per row so far times the statistics' row estimate) and the
 * smoothed byte rate of `bytes_rate`; "estimating" until that rate is known.
 */
static void progress_line(char *out, size_t n, migrate_run *m, double started, uint64_t rows0, tidm_rate *bytes_rate)
{
	tidm_full_progress *p = &m->rp.full;
	uint64_t rows = atomic_load(&p->rows_done), est = atomic_load(&p->rows_estimate);
	double bdone = (double)atomic_load(&p->bytes_done), btotal = -1;
	double el = now_s() - started, rate = el > 0 ? (double)(rows - rows0) / el : 0;
	char bytes[32], eta[32];
	double pct = est ? 100.0 * (double)rows / (double)est : 0;

	if (pct > 100)
		pct = 99.9; /* statistics are estimates */
	fmt_bytes(bytes, sizeof(bytes), bdone);
	if (rows > 0 && est > 0)
		btotal = bdone / (double)rows * (double)(est > rows ? est : rows);
	double eta_s = tidm_rate_eta(bytes_rate, bdone, btotal);
	char runway[48] = "";

	tidm_rate_format_eta(eta, sizeof(eta), eta_s);
	if (m->rw.known) {
		double left = m->rw.runway_s - (now_s() - m->rw.at);
		char d[32];
		tidm_precheck_fmt_duration(d, sizeof(d), left > 0 ? left : 0);
		snprintf(runway, sizeof(runway), "  binlog runway %s", d);
		if (!m->rw.warned_full && eta_s > 0 && left < 2 * eta_s) {
			char e[32];
			tidm_precheck_fmt_duration(e, sizeof(e), eta_s);
			tidm_warn("binlog runway: the snapshot's binlog position stays on the source for about %s more (%s), "
				  "and the copy needs about %s more: a margin under 2x. If the copy outlasts it, replication "
				  "cannot continue; keep binary logs longer now (see `tidm precheck`, item binlog-runway)",
				  d, m->rw.retention, e);
			m->rw.warned_full = true;
		}
	}
	char held[96];
	tidm_throttle_format(held, sizeof(held), &p->throttle); /* spec.export holding back */
	snprintf(out, n, "[%s] tables %llu/%llu  chunks %llu/%llu  rows %llu/~%llu (%.1f%%)  %s  %.0f rows/s  ETA %s%s%s%s",
		 stage_name(atomic_load(&p->stage)), (unsigned long long)atomic_load(&p->tables_done),
		 (unsigned long long)atomic_load(&p->tables_total), (unsigned long long)atomic_load(&p->chunks_done),
		 (unsigned long long)atomic_load(&p->chunks_total), (unsigned long long)rows,
		 (unsigned long long)est, pct, bytes, rate, eta, runway, *held ? "  " : "", held);
}

/* A path as one shell word, so the command printed can be pasted: as it is when every
 * character is safe, else in single quotes (a quote in it as '\''). */
static void put_shell_word(const char *s)
{
	const char *p;

	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-+=:,@%") == strlen(s)) {
		fputs(s, stdout);
		return;
	}
	putchar('\'');
	for (p = s; *p; p++)
		if (*p == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*p);
	putchar('\'');
}

static int usage(void)
{
	fputs("usage: tidm migrate JOB.yaml [--until-caught-up] [--replace-conflicts] [--ignore-warnings] [--restart]\n"
	      "                    [--metrics-listen HOST:PORT] [--log-format text|json]\n",
	      stderr);
	return TIDM_EXIT_USAGE;
}

/* spec.verify: the results kept in tidm_meta.verify_tables, table by table when not equal. */
static void print_verify(const tidm_job_config *cfg)
{
	tidm_conn_opts topts;
	tidm_conn *tgt = NULL;
	tidm_verify_result *v = NULL;
	size_t n = 0, i, eq = 0;
	uint64_t rows = 0;
	unsigned pass = 0;

	tidm_endpoint_conn_opts(&topts, &cfg->target, TIDM_ROLE_TARGET);
	topts.retries = 1;
	if (tidm_conn_open(&tgt, &topts) < 0 || tidm_verify_results_read(tgt, cfg->name, &v, &n) < 0) {
		tidm_warn("cannot read verify's results: %s", tidm_err_msg());
		tidm_conn_close(tgt);
		return;
	}
	tidm_conn_close(tgt);
	for (i = 0; i < n; i++) {
		eq += !strcmp(v[i].state, "equal");
		rows += v[i].differing_rows;
		if (v[i].pass > pass)
			pass = v[i].pass;
	}
	if (!n) {
		printf("job %s: verify: no pass finished yet\n", cfg->name);
		return;
	}
	if (pass)
		printf("job %s: verify (pass %u): %zu of %zu tables equal, %llu rows differ\n", cfg->name, pass, eq, n,
		       (unsigned long long)rows);
	else /* only tidm verify has run */
		printf("job %s: verify (by tidm verify): %zu of %zu tables equal, %llu rows differ\n", cfg->name, eq, n,
		       (unsigned long long)rows);
	for (i = 0; i < n; i++) {
		const char *d = v[i].detail ? v[i].detail : "";
		const char *nl = strchr(d, '\n');
		if (!strcmp(v[i].state, "equal"))
			continue;
		printf("  %s.%s  %s, %llu of %llu rows differ%s%.*s%s\n", v[i].db, v[i].table, v[i].state,
		       (unsigned long long)v[i].differing_rows, (unsigned long long)v[i].rows_checked, *d ? ": " : "",
		       (int)(nl ? (size_t)(nl - d) : strlen(d)), d, nl ? " ..." : "");
	}
	if (eq < n)
		printf("  tidm verify %s lists every difference and writes the repair SQL (--repair-sql FILE)\n",
		       cfg->path);
	tidm_verify_results_free(v, n);
}

int tidm_cmd_migrate(int argc, char **argv)
{
	const char *path = NULL;
	tidm_job_config *cfg = NULL;
	migrate_run m;
	pthread_t th;
	struct sigaction sa;
	bool tty = isatty(2);
	double started, last_log = 0;
	bool sync_started = false;
	uint64_t rows0 = 0;
	tidm_rate bytes_rate;
	int i, rc, code = TIDM_EXIT_OK;
	char line[512], bytes[32];
	bool ignore_warnings = false;
	const char *metrics_listen = NULL;
	tidm_http_server *msrv = NULL;

	memset(&m, 0, sizeof(m));
	tidm_rate_init(&bytes_rate);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--until-caught-up"))
			m.opts.until_caught_up = true;
		else if (!strcmp(argv[i], "--replace-conflicts"))
			m.opts.replace_conflicts = true;
		else if (!strcmp(argv[i], "--restart"))
			m.opts.restart = true;
		else if (!strcmp(argv[i], "--ignore-warnings"))
			ignore_warnings = true;
		else if (!strcmp(argv[i], "--metrics-listen") && i + 1 < argc)
			metrics_listen = argv[++i];
		else if (!strcmp(argv[i], "--log-format") && i + 1 < argc) {
			if (tidm_log_set_format_name(argv[++i]) < 0) {
				fprintf(stderr, "tidm migrate: --log-format \"%s\": expected text or json\n", argv[i]);
				return TIDM_EXIT_USAGE;
			}
		}
		else if (argv[i][0] == '-' || path)
			return usage();
		else
			path = argv[i];
	}
	if (!path)
		return usage();
	if ((rc = tidm_job_config_load(&cfg, path)) < 0) {
		fprintf(stderr, "tidm: %s\n", tidm_err_msg());
		return TIDM_EXIT_USAGE;
	}
	tidm_log_set_default_job(cfg->name);
	if (m.opts.restart && cfg->type == TIDM_JOB_INCREMENTAL) {
		/* a usage error: nothing is connected, the job's record stays as it is */
		fprintf(stderr, "tidm: %s: --restart starts a job's full phase again from a new snapshot; job %s is type "
				"incremental and has none\n",
			path, cfg->name);
		tidm_job_config_free(cfg);
		return TIDM_EXIT_USAGE;
	}

	{
		tidm_runway rw;
		code = tidm_cli_precheck_before_run(cfg, ignore_warnings, m.opts.restart, &rw);
		if (code == TIDM_EXIT_OK && rw.runway_s > 0 && !isinf(rw.runway_s)) {
			atomic_store(&m.rp.runway_s, (int64_t)rw.runway_s);
			atomic_store(&m.rp.runway_at, (int64_t)time(NULL));
			m.rw.known = true;
			m.rw.runway_s = rw.runway_s;
			m.rw.at = now_s();
			snprintf(m.rw.retention, sizeof(m.rw.retention), "%s", rw.retention);
		}
	}
	if (code != TIDM_EXIT_OK) {
		tidm_job_config_free(cfg);
		return code;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	m.cfg = cfg;
	m.opts.cancel = &cancel_flag;
	if (metrics_listen) {
		tidm_http_server_opts ho = {0};
		ho.listen = metrics_listen;
		ho.metrics = migrate_metrics;
		ho.metrics_ctx = &m;
		ho.metrics_only = true;
		if (tidm_http_server_start(&msrv, &ho) < 0) {
			fprintf(stderr, "tidm: --metrics-listen: %s\n", tidm_err_msg());
			tidm_job_config_free(cfg);
			return TIDM_EXIT_USAGE;
		}
		tidm_info("metrics at http://%s/metrics", tidm_http_server_addr(msrv));
	}
	tidm_info("job %s: %s migration from %s:%u to %s:%u", cfg->name, tidm_job_type_name(cfg->type),
		  cfg->source.host, cfg->source.port, cfg->target.host, cfg->target.port);
	started = now_s();
	if (pthread_create(&th, NULL, job_thread, &m) != 0) {
		fputs("tidm: cannot start the job thread\n", stderr);
		tidm_http_server_stop(msrv);
		tidm_job_config_free(cfg);
		return TIDM_EXIT_FAILED;
	}
	while (!atomic_load(&m.finished)) {
		bool syncing = atomic_load(&m.rp.phase) == TIDM_PHASE_SYNC;
		usleep(200000);
		if (syncing) {
			runway_check_sync(&m);
			if (!sync_started) {
				/* the rate counts the rows applied since this clock started (rows
				 * applied during the sleep above divided by ~0 s gave rates like
				 * 2140348555/s); the first line comes one period later */
				sync_started = true;
				started = now_s();
				rows0 = atomic_load(&m.rp.sync.rows);
				continue;
			}
			sync_line(line, sizeof(line), &m, started, rows0);
			if (tty)
				fprintf(stderr, "\r%s\033[K", line);
			else if (now_s() - last_log >= 10) {
				tidm_info("%s", line);
				last_log = now_s();
			}
			continue;
		}
		if (atomic_load(&m.rp.full.stage) < TIDM_FULL_COPYING) {
			started = now_s();
			continue;
		}
		rows0 = atomic_load(&m.rp.full.rows_skipped);
		tidm_rate_sample(&bytes_rate, now_s(), (double)atomic_load(&m.rp.full.bytes_done));
		/* every tick: the line also checks the binlog runway against the ETA */
		progress_line(line, sizeof(line), &m, started, rows0, &bytes_rate);
		if (tty) {
			fprintf(stderr, "\r%s\033[K", line);
		} else if (now_s() - last_log >= 10) {
			tidm_info("%s", line);
			last_log = now_s();
		}
	}
	pthread_join(th, NULL);
	tidm_http_server_stop(msrv);
	if (tty)
		fputs("\r\033[K", stderr);

	if (m.rc < 0) {
		if (m.rc == TIDM_ECANCELED) {
			if (m.rr.sync_ran)
				tidm_say(TIDM_LOG_INFO, "job %s paused at %s:%llu; run the same command again to resume",
					cfg->name, m.rr.stopped_at.file, (unsigned long long)m.rr.stopped_at.pos);
			else
				tidm_say(TIDM_LOG_INFO, "job %s interrupted after %llu of %llu chunks; run the same command again to resume",
					cfg->name, (unsigned long long)atomic_load(&m.rp.full.chunks_done),
					(unsigned long long)atomic_load(&m.rp.full.chunks_total));
		} else {
			tidm_say(TIDM_LOG_ERROR, "job %s failed: %s", cfg->name, m.err);
			tidm_say(TIDM_LOG_INFO, "what was finished is recorded; after fixing the cause, run the same command again to resume");
		}
		code = TIDM_EXIT_FAILED;
	} else if (m.rr.finished_before) {
		tidm_snapshot_pos *sp = &m.rr.full.snapshot;
		printf("job %s: finished at %s (snapshot %s %s:%llu%s%s); nothing copied, the target is unchanged\n",
		       cfg->name, m.rr.finished_at[0] ? m.rr.finished_at : "?", sp->method[0] ? sp->method : "-",
		       sp->file[0] ? sp->file : "(binlog off)", (unsigned long long)sp->pos, sp->gtid_set ? " gtid " : "",
		       sp->gtid_set ? sp->gtid_set : "");
		fputs("  to copy it again from a new snapshot: tidm migrate --restart ", stdout);
		put_shell_word(path);
		putchar('\n');
	} else {
		if (m.rr.full_ran) {
			double el = now_s() - started;
			uint64_t rows = atomic_load(&m.rp.full.rows_done) - atomic_load(&m.rp.full.rows_skipped);
			tidm_full_result *fr = &m.rr.full;
			fmt_bytes(bytes, sizeof(bytes), (double)atomic_load(&m.rp.full.bytes_done));
			printf("job %s: full migration finished%s\n", cfg->name, fr->resumed ? " (resumed)" : "");
			printf("  tables   %llu (%llu views)\n", (unsigned long long)fr->tables, (unsigned long long)fr->views);
			printf("  chunks   %llu (%llu already done before this run)\n",
			       (unsigned long long)atomic_load(&m.rp.full.chunks_total),
			       (unsigned long long)atomic_load(&m.rp.full.chunks_skipped));
			if (!m.rr.sync_ran)
				printf("  rows     %llu copied in this run, %.1f s, %.0f rows/s\n", (unsigned long long)rows, el,
				       el > 0 ? (double)rows / el : 0.0);
			else
				printf("  rows     %llu copied in this run\n", (unsigned long long)rows);
			printf("  bytes    %s written to the target\n", bytes);
			printf("  snapshot %s %s:%llu%s%s\n", fr->snapshot.method,
			       fr->snapshot.file[0] ? fr->snapshot.file : "(binlog off)",
			       (unsigned long long)fr->snapshot.pos, fr->snapshot.gtid_set ? " gtid " : "",
			       fr->snapshot.gtid_set ? fr->snapshot.gtid_set : "");
			if (fr->mapping_report.len)
				printf("  mapped for the target:\n%s", fr->mapping_report.data);
		}
		if (m.rr.sync_ran) {
			tidm_sync_progress *sp = &m.rp.sync;
			printf("job %s: caught up with the source at %s:%llu\n", cfg->name, m.rr.stopped_at.file,
			       (unsigned long long)m.rr.stopped_at.pos);
			printf("  replicated %llu transactions, %llu row changes, %llu DDL (%llu changes already applied before)\n",
			       (unsigned long long)atomic_load(&sp->txns), (unsigned long long)atomic_load(&sp->rows),
			       (unsigned long long)atomic_load(&sp->ddls), (unsigned long long)atomic_load(&sp->skipped));
		}
	}
	if (code == TIDM_EXIT_OK && cfg->verify != TIDM_VERIFY_OFF)
		print_verify(cfg);
	tidm_run_result_dispose(&m.rr);
	tidm_job_config_free(cfg);
	return code;
}
