/*
 * runner.h - runs one job to its end in the calling thread: the full phase (types full
 * and all), then replication from the binlog (types incremental and all), with the job's
 * record in tidm_meta on the target kept up to date (running / paused / failed /
 * finished), so running the same job again resumes it.
 *
 * Threads: tidm_job_run() blocks; the progress structures may be read by any thread.
 */
#ifndef TIDM_JOB_RUNNER_H
#define TIDM_JOB_RUNNER_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "dump/full.h"
#include "job/config.h"
#include "sync/apply.h"
#include "verify/verify.h"

enum tidm_run_phase { TIDM_PHASE_START, TIDM_PHASE_FULL, TIDM_PHASE_SYNC, TIDM_PHASE_DONE };

#define TIDM_RUN_ERROR_CLASSES 6

typedef struct tidm_run_progress {
	_Atomic int phase; /* enum tidm_run_phase */
	tidm_full_progress full;
	tidm_sync_progress sync;
	_Atomic uint64_t reconnects;
	_Atomic uint64_t retries; /* transient failures run again from the checkpoints (never reset) */
	_Atomic uint64_t errors[TIDM_RUN_ERROR_CLASSES]; /* failed runs by class (never reset) */
	/* the binlog runway the precheck measured (precheck/precheck.h): the seconds the needed
	 * position had left at Unix time runway_at; 0 = not measured or unlimited. Set by
	 * whoever ran the precheck (tidm migrate, the job service); read by the metrics. */
	_Atomic int64_t runway_s;
	_Atomic int64_t runway_at;
	/* spec.verify: the pass in progress and the passes finished in this run */
	tidm_verify_progress verify;
	_Atomic unsigned verify_passes;
} tidm_run_progress;

/* The class of a failure's code (index into errors[] and tidm_run_error_classes):
 * connection, auth, duplicate_key, not_found, invalid, other. */
int tidm_run_error_class(int code);
extern const char *const tidm_run_error_classes[TIDM_RUN_ERROR_CLASSES];

typedef struct tidm_run_opts {
	bool until_caught_up;   /* stop (exit 0) once everything the source had at start is applied */
	bool replace_conflicts; /* duplicate keys overwrite target rows */
	bool restart;           /* types full and all: copy again from a new snapshot, even when finished */
	volatile sig_atomic_t *cancel;
} tidm_run_opts;

typedef struct tidm_run_result {
	tidm_full_result full;  /* when a full phase ran */
	bool full_ran;
	bool finished_before;   /* type full, finished by an earlier run: nothing done; full.snapshot is its snapshot */
	char finished_at[32];   /* then: when it finished (target's clock) */
	tidm_sync_pos stopped_at; /* replication: the last checkpoint */
	bool sync_ran;
	/* spec.verify: the last finished pass (results in tidm_meta.verify_tables) */
	unsigned verify_passes;
	bool verify_equal;
	uint64_t verify_differing_rows;
} tidm_run_result;

void tidm_run_result_dispose(tidm_run_result *r);

/* A failure that a later try may not meet again (a lost or refused connection, a deadlock,
 * a lock wait timeout, a restarting server, TiDB's retryable errors): the job service and
 * `tidm migrate` run the job again from its checkpoints after a backoff. Anything else
 * (access denied, a bad job, a duplicate key, corrupt data) is final. dberr: the server's
 * or client's errno of the failure (tidm_err_dberr()), 0 when none. */
bool tidm_run_transient(int code, unsigned dberr);
/* Sets every counter of the current run back to its start (before a new try). */
void tidm_run_progress_reset(tidm_run_progress *p);
/* The current try got somewhere: copied a chunk or applied a transaction. A retry after
 * such a try waits the first backoff step again (faults far apart are each retried at
 * once; only a job that fails without moving backs off to the cap). */
bool tidm_run_progressed(const tidm_run_progress *p);

/* Run the job. 0 = done (full finished, or caught up), TIDM_ECANCELED = paused by the
 * user, other negative codes = failed (message set; recorded in tidm_meta.jobs). */
int tidm_job_run(const tidm_job_config *cfg, const tidm_run_opts *o, tidm_run_progress *p, tidm_run_result *out);

#endif
