/*
 * metrics.c - the Prometheus text format of jobs and of the process (metrics.h).
 *
 * A table lists the per-job families (name, type, help, how to read the value from the
 * progress counters); each family is written once with the samples of every job, as the
 * format requires. Families with labels of their own (state, stage, error class) and the
 * histogram are written by hand after the table.
 */
#include "job/metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef TIDM_VERSION
#define TIDM_VERSION "0.1.0" /* as src/cli/main.c */
#endif

static const char *const states[] = {"created", "prechecking", "running", "paused", "finished", "failed"};
static const char *const stages[] = {"dumping", "loading", "syncing", "done"};

#define LD(x) atomic_load(&(x))

void tidm_metrics_put_label(tidm_buf *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			tidm_buf_puts(out, "\\\\");
		else if (*s == '"')
			tidm_buf_puts(out, "\\\"");
		else if (*s == '\n')
			tidm_buf_puts(out, "\\n");
		else
			tidm_buf_putc(out, *s);
	}
}

const char *tidm_metrics_stage(const tidm_run_progress *p)
{
	switch (LD(p->phase)) {
	case TIDM_PHASE_FULL:
		return LD(p->full.stage) < TIDM_FULL_COPYING ? "dumping" : "loading";
	case TIDM_PHASE_SYNC:
		return "syncing";
	case TIDM_PHASE_DONE:
		return "done";
	default:
		return "";
	}
}

static void family(tidm_buf *b, const char *name, const char *type, const char *help)
{
	tidm_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{job_name="J"[,k="v"]} */
static void series(tidm_buf *b, const char *name, const char *suffix, const char *job, const char *k, const char *v)
{
	tidm_buf_puts(b, name);
	tidm_buf_puts(b, suffix);
	tidm_buf_puts(b, "{job_name=\"");
	tidm_metrics_put_label(b, job);
	if (k) {
		tidm_buf_printf(b, "\",%s=\"", k);
		tidm_metrics_put_label(b, v);
	}
	tidm_buf_puts(b, "\"} ");
}

static void put_double(tidm_buf *b, double v)
{
	tidm_buf_printf(b, "%.9g\n", v);
}

static void put_u64(tidm_buf *b, uint64_t v)
{
	tidm_buf_put_u64(b, v);
	tidm_buf_putc(b, '\n');
}

/* --- the plain per-job families ---------------------------------------------------- */

enum val { V_U64, V_DBL, V_NONE }; /* V_NONE: no sample for this job */
typedef struct {
	enum val kind;
	uint64_t u;
	double d;
} value;

typedef void (*getter)(const tidm_job_metrics *j, int64_t now, value *v);

#define U(expr)                                                                                                        \
	do {                                                                                                           \
		v->kind = V_U64;                                                                                       \
		v->u = (expr);                                                                                         \
	} while (0)

static void g_tables_est(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->full.tables_total)); }
static void g_tables_done(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->full.tables_done)); }
static void g_chunks_est(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->full.chunks_total)); }
static void g_chunks_done(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->full.chunks_done)); }
static void g_rows_est(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->full.rows_estimate)); }
static void g_rows_done(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->full.rows_done)); }
static void g_bytes_done(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->full.bytes_done)); }
static void g_bytes_est(const tidm_job_metrics *j, int64_t now, value *v)
{
	/* extrapolated: the bytes so far per row, times the rows estimated */
	uint64_t rows = LD(j->p->full.rows_done), est = LD(j->p->full.rows_estimate), bytes = LD(j->p->full.bytes_done);
	(void)now;
	U(rows ? (uint64_t)((double)bytes / (double)rows * (double)(est > rows ? est : rows)) : 0);
}
static void g_events(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->sync.events)); }
static void g_bbytes(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->sync.binlog_bytes)); }
static void g_srows(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->sync.rows)); }
static void g_skipped(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->sync.skipped)); }
static void g_txns(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->sync.txns)); }
static void g_ddls(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->sync.ddls)); }
static void g_reconn(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->reconnects)); }
static void g_retries(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->retries)); }
static void g_safe(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->sync.safe_mode) ? 1 : 0); }
static void g_queue(const tidm_job_metrics *j, int64_t now, value *v) { (void)now; U(LD(j->p->sync.queue_depth)); }
static void g_rate(const tidm_job_metrics *j, int64_t now, value *v)
{
	(void)now;
	v->kind = V_DBL;
	v->d = !strcmp(j->stage, "syncing") ? (double)LD(j->p->sync.apply_rate_milli) / 1000.0 : 0;
}
static void g_lag(const tidm_job_metrics *j, int64_t now, value *v)
{
	int64_t lag = LD(j->p->sync.lag_s);
	(void)now;
	if (strcmp(j->stage, "syncing") != 0 || lag < 0)
		return; /* not replicating, or not known yet: no sample */
	U((uint64_t)lag);
}
/* What is left of the binlog runway: while copying, what the precheck measured less the
 * time since; while replicating, that less the lag (the checkpoint is that old). */
static void g_runway(const tidm_job_metrics *j, int64_t now, value *v)
{
	int64_t rw = LD(j->p->runway_s), at = LD(j->p->runway_at), left;
	if (rw <= 0)
		return;
	if (!strcmp(j->stage, "syncing")) {
		int64_t lag = LD(j->p->sync.lag_s);
		if (lag < 0)
			return;
		left = rw - lag;
	} else if (!strcmp(j->stage, "dumping") || !strcmp(j->stage, "loading")) {
		left = rw - (now - at);
	} else {
		return;
	}
	U((uint64_t)(left > 0 ? left : 0));
}
static void g_file(const tidm_job_metrics *j, int64_t now, value *v)
{
	uint64_t pos = LD(j->p->sync.applied_pos);
	(void)now;
	if (pos)
		U(pos >> 40);
}
static void g_offset(const tidm_job_metrics *j, int64_t now, value *v)
{
	uint64_t pos = LD(j->p->sync.applied_pos);
	(void)now;
	if (pos)
		U(pos & (((uint64_t)1 << 40) - 1));
}
static void g_ckpt_age(const tidm_job_metrics *j, int64_t now, value *v)
{
	int64_t at = LD(j->p->sync.checkpoint_at);
	if (at > 0)
		U((uint64_t)(now > at ? now - at : 0));
}
static void g_ckpt_time(const tidm_job_metrics *j, int64_t now, value *v)
{
	int64_t at = LD(j->p->sync.checkpoint_at);
	(void)now;
	if (at > 0)
		U((uint64_t)at);
}

/* spec.export's throttle: samples only while it runs (adaptive ones in adaptive mode) */
#define THR(j) (&(j)->p->full.throttle)
static void g_thr_held(const tidm_job_metrics *j, int64_t now, value *v)
{
	(void)now;
	if (LD(THR(j)->mode) == TIDM_THROTTLE_OFF)
		return;
	v->kind = V_DBL;
	v->d = (double)LD(THR(j)->held_permille) / 1000.0;
}
static void g_thr_limit(const tidm_job_metrics *j, int64_t now, value *v)
{
	(void)now;
	if (LD(THR(j)->mode) != TIDM_THROTTLE_OFF && LD(THR(j)->limit_rows))
		U(LD(THR(j)->limit_rows));
}
static void g_thr_probe(const tidm_job_metrics *j, int64_t now, value *v)
{
	(void)now;
	if (LD(THR(j)->mode) != TIDM_THROTTLE_ADAPTIVE)
		return;
	v->kind = V_DBL;
	v->d = (double)LD(THR(j)->probe_us) / 1e6;
}
static void g_thr_base(const tidm_job_metrics *j, int64_t now, value *v)
{
	(void)now;
	if (LD(THR(j)->mode) != TIDM_THROTTLE_ADAPTIVE)
		return;
	v->kind = V_DBL;
	v->d = (double)LD(THR(j)->baseline_us) / 1e6;
}

static const struct fam {
	const char *name, *type, *help;
	getter get;
} fams[] = {
	{"tidm_full_tables_estimated", "gauge", "Tables the full phase copies.", g_tables_est},
	{"tidm_full_tables_done", "gauge", "Tables the full phase has copied.", g_tables_done},
	{"tidm_full_chunks_estimated", "gauge", "Chunks planned by the full phase.", g_chunks_est},
	{"tidm_full_chunks_done", "gauge", "Chunks copied by the full phase (this run, including those of earlier runs).",
	 g_chunks_done},
	{"tidm_full_rows_estimated", "gauge", "Rows the full phase copies (from table statistics).", g_rows_est},
	{"tidm_full_rows_done", "gauge", "Rows copied by the full phase.", g_rows_done},
	{"tidm_full_bytes_estimated", "gauge", "SQL bytes the full phase writes (extrapolated from the rows done).",
	 g_bytes_est},
	{"tidm_full_bytes_done", "gauge", "SQL bytes the full phase has written to the target.", g_bytes_done},
	{"tidm_export_throttled_ratio", "gauge",
	 "Share of the dump workers' time spent waiting for the export throttle (spec.export), over the last 5 s.",
	 g_thr_held},
	{"tidm_export_limit_rows_per_second", "gauge", "Rows per second the export throttle allows now.", g_thr_limit},
	{"tidm_source_probe_latency_seconds", "gauge",
	 "The adaptive export throttle's probe of the source: round-trip time (median of the last 0.5 s).", g_thr_probe},
	{"tidm_source_probe_baseline_seconds", "gauge", "The same probe's round-trip time before the copy started.",
	 g_thr_base},
	{"tidm_sync_events_total", "counter", "Binlog events fed to the applier.", g_events},
	{"tidm_sync_binlog_read_bytes_total", "counter", "Binlog bytes read from the source.", g_bbytes},
	{"tidm_sync_rows_applied_total", "counter", "Row changes applied (committed) to the target.", g_srows},
	{"tidm_sync_rows_skipped_total", "counter", "Row changes skipped as already applied.", g_skipped},
	{"tidm_sync_transactions_total", "counter", "Source transactions applied.", g_txns},
	{"tidm_sync_ddl_total", "counter", "DDL statements applied.", g_ddls},
	{"tidm_sync_apply_rate_rows_per_second", "gauge", "Rows applied per second (smoothed over about 10 s).",
	 g_rate},
	{"tidm_replication_lag_seconds", "gauge",
	 "Seconds the target is behind the source (event time vs. now; 0 on a heartbeat when idle).", g_lag},
	{"tidm_binlog_runway_seconds", "gauge",
	 "Seconds the binlog position the job needs stays on the source (the precheck's measure, less the copy's "
	 "time so far or the replication lag).",
	 g_runway},
	{"tidm_binlog_file_index", "gauge", "Binlog file number (the name's suffix) of the furthest applied position.",
	 g_file},
	{"tidm_binlog_position_bytes", "gauge", "Offset in that binlog file of the furthest applied position.", g_offset},
	{"tidm_checkpoint_age_seconds", "gauge", "Seconds since the last checkpoint was committed.", g_ckpt_age},
	{"tidm_checkpoint_timestamp_seconds", "gauge", "Unix time of the last checkpoint commit.", g_ckpt_time},
	{"tidm_reconnects_total", "counter", "Reconnections of the binlog stream.", g_reconn},
	{"tidm_job_retries_total", "counter", "Transient failures (lost connection, deadlock, restarting server) run again from the checkpoints.", g_retries},
	{"tidm_sync_safe_mode", "gauge", "1 while safe mode (idempotent apply) is on.", g_safe},
	{"tidm_sync_queue_depth", "gauge", "Row changes and boundaries queued to the apply workers.", g_queue},
};

static const tidm_run_progress zero_progress;

void tidm_metrics_render_jobs(tidm_buf *b, const tidm_job_metrics *jobs, size_t n, int64_t now)
{
	size_t f, i, k;

	family(b, "tidm_jobs", "gauge", "Jobs known to this process.");
	tidm_buf_printf(b, "tidm_jobs %zu\n", n);
	family(b, "tidm_job_state", "gauge", "1 for the job's current state, 0 for the others.");
	for (i = 0; i < n; i++)
		for (k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
			series(b, "tidm_job_state", "", jobs[i].name, "state", states[k]);
			put_u64(b, jobs[i].state && !strcmp(jobs[i].state, states[k]));
		}
	family(b, "tidm_job_stage", "gauge", "1 for the job's current stage (while it has one), 0 for the others.");
	for (i = 0; i < n; i++)
		for (k = 0; k < sizeof(stages) / sizeof(stages[0]); k++) {
			series(b, "tidm_job_stage", "", jobs[i].name, "stage", stages[k]);
			put_u64(b, jobs[i].stage && !strcmp(jobs[i].stage, stages[k]));
		}
	family(b, "tidm_job_info", "gauge", "Always 1; the job's type as a label.");
	for (i = 0; i < n; i++) {
		series(b, "tidm_job_info", "", jobs[i].name, "type", jobs[i].type ? jobs[i].type : "");
		put_u64(b, 1);
	}
	for (f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		family(b, fams[f].name, fams[f].type, fams[f].help);
		for (i = 0; i < n; i++) {
			tidm_job_metrics j = jobs[i];
			value v = {V_NONE, 0, 0};
			if (!j.p)
				j.p = &zero_progress;
			if (!j.stage)
				j.stage = "";
			fams[f].get(&j, now, &v);
			if (v.kind == V_NONE)
				continue;
			series(b, fams[f].name, "", j.name, NULL, NULL);
			if (v.kind == V_U64)
				put_u64(b, v.u);
			else
				put_double(b, v.d);
		}
	}
	family(b, "tidm_errors_total", "counter", "Runs of the job that failed, by class of the error.");
	for (i = 0; i < n; i++) {
		const tidm_run_progress *p = jobs[i].p ? jobs[i].p : &zero_progress;
		for (k = 0; k < TIDM_RUN_ERROR_CLASSES; k++) {
			series(b, "tidm_errors_total", "", jobs[i].name, "class", tidm_run_error_classes[k]);
			put_u64(b, LD(p->errors[k]));
		}
	}
	family(b, "tidm_sync_batch_duration_seconds", "histogram",
	       "Time to execute and commit one batch of row changes with its checkpoint.");
	for (i = 0; i < n; i++) {
		const tidm_run_progress *p = jobs[i].p ? jobs[i].p : &zero_progress;
		uint64_t cum = 0;
		char le[32];
		for (k = 0; k <= TIDM_SYNC_BATCH_BUCKETS; k++) {
			cum += LD(p->sync.batch_hist[k]);
			if (k < TIDM_SYNC_BATCH_BUCKETS)
				snprintf(le, sizeof(le), "%g", tidm_sync_batch_bounds[k]);
			else
				snprintf(le, sizeof(le), "+Inf");
			series(b, "tidm_sync_batch_duration_seconds", "_bucket", jobs[i].name, "le", le);
			put_u64(b, cum);
		}
		series(b, "tidm_sync_batch_duration_seconds", "_sum", jobs[i].name, NULL, NULL);
		put_double(b, (double)LD(p->sync.batch_sum_us) / 1e6);
		series(b, "tidm_sync_batch_duration_seconds", "_count", jobs[i].name, NULL, NULL);
		put_u64(b, cum);
	}
}

/* --- the process ------------------------------------------------------------------- */

void tidm_metrics_render_process(tidm_buf *b)
{
	char buf[1024], *p;
	FILE *fp = fopen("/proc/self/stat", "r");
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	struct rlimit rl;
	DIR *d;

	family(b, "tidm_build_info", "gauge", "Always 1; the version of tidm as a label.");
	tidm_buf_printf(b, "tidm_build_info{version=\"%s\"} 1\n", TIDM_VERSION);
	if (fp && fgets(buf, sizeof(buf), fp) && (p = strrchr(buf, ')'))) {
		/* fields after "(comm)": 3 state ... 14 utime 15 stime ... 20 num_threads ...
		 * 22 starttime 23 vsize 24 rss */
		unsigned long long fld[52] = {0};
		int nf = 3;
		char *save = NULL, *tok = strtok_r(p + 2, " ", &save);
		for (; tok && nf < 52; tok = strtok_r(NULL, " ", &save), nf++)
			fld[nf] = strtoull(tok, NULL, 10);
		double boot = 0;
		FILE *st = fopen("/proc/stat", "r");
		char line[256];
		while (st && fgets(line, sizeof(line), st))
			if (!strncmp(line, "btime ", 6))
				boot = strtod(line + 6, NULL);
		if (st)
			fclose(st);
		family(b, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
		tidm_buf_printf(b, "process_cpu_seconds_total %.2f\n", (double)(fld[14] + fld[15]) / (double)tck);
		family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
		tidm_buf_printf(b, "process_resident_memory_bytes %llu\n", fld[24] * (unsigned long long)page);
		family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
		tidm_buf_printf(b, "process_virtual_memory_bytes %llu\n", fld[23]);
		family(b, "process_threads", "gauge", "Number of OS threads in the process.");
		tidm_buf_printf(b, "process_threads %llu\n", fld[20]);
		family(b, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
		tidm_buf_printf(b, "process_start_time_seconds %.2f\n", boot + (double)fld[22] / (double)tck);
	}
	if (fp)
		fclose(fp);
	if ((d = opendir("/proc/self/fd"))) {
		struct dirent *e;
		unsigned long n = 0;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
		family(b, "process_open_fds", "gauge", "Number of open file descriptors.");
		tidm_buf_printf(b, "process_open_fds %lu\n", n > 0 ? n - 1 : 0); /* minus the directory's own */
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		family(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
		tidm_buf_printf(b, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
}
