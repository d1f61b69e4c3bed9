/*
 * jobthread.c - the thread that carries out one job of the job service (manager_int.h).
 *
 * DESIGN
 *  A launch (start, resume, restart, scale, the daemon's start) makes one thread:
 *    prechecking: the configuration is rebuilt from the stored definition and the sealed
 *                 passwords, then the precheck (precheck_call.c);
 *    running:     tidm_job_run() (job/runner.h), the runner of `tidm migrate`, with the
 *                 job's cancel flag; its progress counters are read by the API threads.
 *  The run ends:
 *    0                       -> finished (type full; or replication ended by itself)
 *    cancel asked            -> paused (pause, the daemon's shutdown: then recorded to resume
 *                               at the next open), or handed back to the operation that
 *                               asked (restart, scale, delete)
 *    a transient failure     -> the same run again from its checkpoints after a wait of
 *                               retry_first_ms doubling to retry_max_ms, each try an event;
 *                               a try that ran longer than the cap starts the count afresh
 *    any other failure       -> failed, with the message and the raw cause (binlog purged,
 *                               duplicate key, missing table, privilege, bad input: a retry
 *                               cannot fix them)
 *  Messages are scrubbed of the job's passwords before they reach an event, a log line or
 *  the store (the runner never puts one there; this is the second lock on the door).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service/manager_int.h"
#include "util/err.h"
#include "util/log.h"

enum outcome { OUT_FINISHED, OUT_STOPPED, OUT_FAILED };

const char *mgr_live_stage(const mgr_job *j)
{
	if (j->th_live && !strcmp(j->state, "running")) {
		switch (atomic_load(&j->prog.phase)) {
		case TIDM_PHASE_FULL:
			/* snapshot, schema, plan: the export; then rows are copied chunk by chunk,
			 * each recorded, so a restart continues from the chunks done */
			return atomic_load(&j->prog.full.stage) < TIDM_FULL_COPYING ? "dumping" : "loading";
		case TIDM_PHASE_SYNC:
			return "syncing";
		case TIDM_PHASE_DONE:
			return "done";
		default:
			break;
		}
	}
	return j->stage;
}

void mgr_scrub(char *msg, size_t size, const tidm_job_config *cfg)
{
	const char *pw[2] = {cfg ? cfg->source.password : NULL, cfg ? cfg->target.password : NULL};

	for (int k = 0; k < 2; k++) {
		size_t n = pw[k] ? strlen(pw[k]) : 0;
		char *at;
		/* a password of one or two characters would blank out ordinary words */
		if (n < 3)
			continue;
		while ((at = strstr(msg, pw[k])) != NULL) {
			size_t rest = strlen(at + n);
			if ((size_t)(at - msg) + 3 + rest + 1 > size)
				rest = size - (size_t)(at - msg) - 4;
			memmove(at + 3, at + n, rest);
			at[3 + rest] = '\0';
			memcpy(at, "***", 3);
		}
	}
}

/* The thread's last error as a message (scrubbed) and a raw cause. */
typedef struct failure {
	int code;
	unsigned dberr;
	char msg[2048];
	char cause[256];
} failure;

static void failure_take(failure *f, int rc, const tidm_job_config *cfg)
{
	f->code = tidm_err_code() ? tidm_err_code() : rc;
	f->dberr = tidm_err_dberr();
	snprintf(f->msg, sizeof(f->msg), "%s", tidm_err_msg()[0] ? tidm_err_msg() : tidm_err_name(rc));
	mgr_scrub(f->msg, sizeof(f->msg), cfg);
	if (f->dberr)
		snprintf(f->cause, sizeof(f->cause), "%s, server error %u, at %s", tidm_err_name(f->code), f->dberr,
			 tidm_err_where());
	else
		snprintf(f->cause, sizeof(f->cause), "%s, at %s", tidm_err_name(f->code), tidm_err_where());
	tidm_err_clear();
}

static int call_run(tidm_manager *m, const tidm_job_config *cfg, const tidm_run_opts *o, tidm_run_progress *p,
		    tidm_run_result *out)
{
	if (m->hooks.run)
		return m->hooks.run(cfg, o, p, out, m->hooks.payload);
	return tidm_job_run(cfg, o, p, out);
}

/* Wait until `at` (Unix ms) or a cancel. m->mu held. */
static void wait_until(tidm_manager *m, mgr_job *j, int64_t at)
{
	while (!j->cancel) {
		int64_t left = at - mgr_now_ms();
		struct timespec ts;
		if (left <= 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&m->cv, &m->mu, &ts);
	}
}

/* Runs the job until it ends, is stopped, or fails for good. */
static enum outcome run_loop(tidm_manager *m, mgr_job *j, const tidm_job_config *cfg, bool restart, bool replace,
			     failure *f)
{
	for (;;) {
		tidm_run_opts ro = {.replace_conflicts = replace, .restart = restart, .cancel = &j->cancel};
		tidm_run_result res;
		int64_t started = mgr_now_ms(), delay;
		int rc;

		memset(&res, 0, sizeof(res));
		pthread_mutex_lock(&m->mu);
		tidm_run_progress_reset(&j->prog);
		j->run_started = started;
		pthread_mutex_unlock(&m->mu);

		rc = call_run(m, cfg, &ro, &j->prog, &res);
		if (rc < 0 && rc != TIDM_ECANCELED)
			failure_take(f, rc, cfg);
		restart = false; /* a retry continues from the checkpoints */

		pthread_mutex_lock(&m->mu);
		if (res.sync_ran && res.stopped_at.file[0]) {
			j->checkpoint = res.stopped_at;
			j->have_checkpoint = true;
		}
		if ((res.full_ran || res.finished_before) && res.full.snapshot.file[0]) {
			snprintf(j->snap_file, sizeof(j->snap_file), "%s", res.full.snapshot.file);
			j->snap_pos = res.full.snapshot.pos;
		}
		pthread_mutex_unlock(&m->mu);
		tidm_run_result_dispose(&res);

		if (rc == 0)
			return OUT_FINISHED;
		if (rc == TIDM_ECANCELED || j->cancel)
			return OUT_STOPPED;
		if (!tidm_run_transient(f->code, f->dberr))
			return OUT_FAILED;

		pthread_mutex_lock(&m->mu);
		if (mgr_now_ms() - started >= (int64_t)m->retry_max_ms || tidm_run_progressed(&j->prog))
			j->attempt = 0; /* it ran well for a while, or got somewhere: count afresh */
		delay = m->retry_first_ms;
		for (unsigned k = 0; k < j->attempt && delay < (int64_t)m->retry_max_ms; k++)
			delay *= 2;
		if (delay > (int64_t)m->retry_max_ms)
			delay = m->retry_max_ms;
		j->attempt++;
		atomic_fetch_add(&j->prog.retries, 1);
		j->retry_at = mgr_now_ms() + delay;
		mgr_set_state(m, j, "running", mgr_live_stage(j), f->msg, f->cause, false);
		mgr_event(m, j, "warn", "retry", f->cause, "transient failure, try %u again from the checkpoints in %.1f s: %s",
			  j->attempt + 1, (double)delay / 1000.0, f->msg);
		wait_until(m, j, j->retry_at);
		j->retry_at = 0;
		pthread_mutex_unlock(&m->mu);
		if (j->cancel)
			return OUT_STOPPED;
	}
}

/* The end of a thread: record where the job stands. m->mu held. */
static void finish(tidm_manager *m, mgr_job *j, enum outcome oc, const failure *f)
{
	char stage[16];

	snprintf(stage, sizeof(stage), "%s", mgr_live_stage(j));
	switch (oc) {
	case OUT_FINISHED:
		mgr_set_state(m, j, "finished", "done", NULL, NULL, false);
		mgr_event(m, j, "info", "state", NULL, "finished");
		break;
	case OUT_FAILED:
		mgr_set_state(m, j, "failed", stage, f->msg, f->cause, false);
		mgr_event(m, j, "error", "error", f->cause, "failed: %s", f->msg);
		break;
	case OUT_STOPPED:
		switch (j->stop) {
		case MGR_STOP_SHUTDOWN:
			mgr_set_state(m, j, "paused", stage, NULL, NULL, true);
			mgr_event(m, j, "info", "state", NULL, "paused by the daemon's shutdown; resumes when it starts again");
			break;
		case MGR_STOP_PAUSE:
		case MGR_STOP_NONE:
			mgr_set_state(m, j, "paused", stage, NULL, NULL, false);
			mgr_event(m, j, "info", "state", NULL, "paused");
			break;
		default:
			/* restart, scale, delete: the operation that asked goes on from here */
			snprintf(j->state, sizeof(j->state), "paused");
			snprintf(j->stage, sizeof(j->stage), "%s", stage);
			break;
		}
		break;
	}
}

void *mgr_job_main(void *arg)
{
	mgr_job *j = arg;
	tidm_manager *m = j->m;
	tidm_job_config *cfg = NULL;
	enum outcome oc = OUT_FAILED;
	failure f;
	bool restart, replace;
	int rc;

	memset(&f, 0, sizeof(f));
	tidm_log_set_thread_job(j->name); /* the "job" of this thread's JSON log lines */
	pthread_mutex_lock(&m->mu);
	restart = j->restart;
	replace = j->replace_conflicts;
	rc = mgr_job_config(m, j, NULL, &cfg);
	pthread_mutex_unlock(&m->mu);
	if (rc < 0) {
		failure_take(&f, rc, NULL);
		goto out;
	}
	if (!j->cancel) {
		char *pc_json = NULL;
		rc = m->hooks.precheck ? m->hooks.precheck(cfg, m->hooks.payload)
				       : run_precheck(cfg, &j->cancel, &j->prog, &pc_json);
		if (pc_json) {
			pthread_mutex_lock(&m->mu);
			free(j->precheck);
			j->precheck = pc_json;
			pthread_mutex_unlock(&m->mu);
		}
	}
	if (rc < 0 && !j->cancel) {
		failure_take(&f, rc, cfg);
		tidm_err_clear();
		goto out;
	}
	if (j->cancel) {
		oc = OUT_STOPPED;
		goto out;
	}
	pthread_mutex_lock(&m->mu);
	mgr_set_state(m, j, "running", NULL, NULL, NULL, false);
	mgr_event(m, j, "info", "state", NULL, "running%s", restart ? " from a new snapshot" : "");
	pthread_mutex_unlock(&m->mu);
	oc = run_loop(m, j, cfg, restart, replace, &f);
out:
	tidm_job_config_free(cfg);
	pthread_mutex_lock(&m->mu);
	finish(m, j, oc, &f);
	j->th_live = false;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	return NULL;
}
