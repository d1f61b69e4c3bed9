/*
 * manager_int.h - the job manager's insides, shared by manager.c (lifecycle and the API
 * operations), jobthread.c (the thread that runs one job), json.c (status answers) and
 * precheck_call.c. Not for use outside src/service/.
 *
 * Locking: one mutex per manager (m->mu) guards the job table and every field of every
 * job except the progress counters (atomics, written by the runner's threads) and
 * `cancel` (a sig_atomic_t the runner polls). m->cv is broadcast whenever a job's thread
 * ends, a job's `busy` is released, or a cancel is asked (it wakes a retry wait).
 * An API operation that changes a job holds its `busy` flag from start to end (so changes
 * of one job are serialised, while other jobs and reads go on); it may drop m->mu while
 * it waits for the job's thread. A job is freed by whoever drops its last reference after
 * it was deleted.
 */
#ifndef TIDM_SERVICE_MANAGER_INT_H
#define TIDM_SERVICE_MANAGER_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "job/runner.h"
#include "service/hooks.h"
#include "service/manager.h"
#include "service/secrets.h"
#include "service/store.h"

/* Why a job's thread is asked to stop. */
enum mgr_stop { MGR_STOP_NONE, MGR_STOP_PAUSE, MGR_STOP_SHUTDOWN, MGR_STOP_RESTART, MGR_STOP_SCALE, MGR_STOP_DELETE };

typedef struct mgr_job {
	struct tidm_manager *m;
	char name[64];
	enum tidm_job_type type;
	char *def;     /* definition JSON, without passwords */
	int64_t spec[4]; /* dump-threads, load-threads, apply-workers, batch of `def` (mgr_spec_cache) */
	char mode[12];   /* "logical" | "physical" of `def` (mgr_spec_cache) */
	char *secrets; /* sealed passwords: {"source": "...", "target": "..."} or NULL */
	char state[16];
	char stage[16]; /* as last recorded; while running the live stage comes from `prog` */
	char *last_error;
	char *last_cause;
	bool resume_on_open;
	int64_t created_at, updated_at; /* Unix ms */

	/* the job's thread */
	pthread_t th;
	bool th_valid; /* a thread exists that nobody joined yet */
	bool th_live;  /* ... and it has not ended */
	volatile sig_atomic_t cancel;
	enum mgr_stop stop;
	bool restart, replace_conflicts; /* what this launch was asked */
	tidm_run_progress prog;
	int64_t run_started; /* Unix ms, the current try */
	unsigned attempt;    /* transient failures in a row */
	int64_t retry_at;    /* Unix ms of the next try while waiting, else 0 */
	tidm_sync_pos checkpoint; /* the replication position of the last stop */
	bool have_checkpoint;
	char snap_file[256]; /* the full phase's snapshot position */
	uint64_t snap_pos;

	/* the console's views: recent lag and rates (history.c), the last precheck's JSON
	 * answer (tidm_precheck_json) as text, NULL before the first */
	struct mgr_history *hist;
	char *precheck;

	/* API operations */
	bool busy;
	bool deleted;
	unsigned refs;
} mgr_job;

struct tidm_manager {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	tidm_store *store;
	tidm_secrets *secrets;
	unsigned max_jobs;
	unsigned retry_first_ms, retry_max_ms;
	tidm_manager_hooks hooks;
	mgr_job **jobs;
	size_t njobs, cap;
	bool closing;
	struct mgr_alerts *alerts; /* alerts.h; NULL when they could not start */
	char *data_dir;
};

/* manager.c */
int64_t mgr_now_ms(void);
/* Records state (and stage when not NULL), the last error (NULL clears it) and
 * resume_on_open, in memory and in the store. m->mu held. */
void mgr_set_state(tidm_manager *m, mgr_job *j, const char *state, const char *stage, const char *err,
		   const char *cause, bool resume_on_open);
/* Appends an event (and logs it). cause may be NULL. */
void mgr_event(tidm_manager *m, mgr_job *j, const char *level, const char *kind, const char *cause, const char *fmt,
	       ...) __attribute__((format(printf, 6, 7)));
/* For API operations in other files: clears the thread's error and field; names the
 * field of a TIDM_EINVAL (NULL none), malformed = HTTP 400. */
void mgr_err_begin(void);
void mgr_err_field(const char *field, bool malformed);
/* The job's configuration, passwords unsealed (tidm_job_config_free it); `def` NULL: j->def.
 * m->mu held. */
int mgr_job_config(tidm_manager *m, const mgr_job *j, const char *def, tidm_job_config **out);

/* jobthread.c */
void *mgr_job_main(void *arg);
/* The stage while the thread runs (from the progress counters), else the recorded one. */
const char *mgr_live_stage(const mgr_job *j);
/* Replaces every occurrence of the job's passwords in msg by "***". */
void mgr_scrub(char *msg, size_t size, const tidm_job_config *cfg);

/* json.c: the job's status object (detail: also its definition). m->mu held. */
/* Fills j->spec from j->def (call whenever def changes). */
void mgr_spec_cache(mgr_job *j);
json_t *mgr_job_json(const tidm_manager *m, const mgr_job *j, bool detail);
json_t *mgr_time_json(int64_t ms);

/* precheck_call.c: THE call site of the precheck module (issue 13), one place to wire. */
/* precheck_call.c; the runway it measured goes to p->runway_s / runway_at */
int run_precheck(const tidm_job_config *cfg, volatile sig_atomic_t *cancel, tidm_run_progress *p, char **json_out);

/* history.c: one sampling round over every job (m->mu held; called by the alerts
 * watcher), and a job's ring freed. */
struct mgr_history;
void mgr_history_round(tidm_manager *m);
void mgr_history_free(struct mgr_history *h);

#endif
