/*
 * metrics.h - the figures of jobs and of the process in the Prometheus text exposition
 * format (version 0.0.4), the same for `tidm server` (GET /metrics, every job) and
 * `tidm migrate --metrics-listen` (its one job). README "Monitoring" lists every name.
 *
 * Names follow Prometheus conventions: the tidm_ prefix, base units (seconds, bytes),
 * counters end in _total; every sample of a job carries job_name="NAME" (escaped as the
 * format asks: backslash, double quote, newline). The process's own figures use the
 * standard process_* names, read from /proc/self.
 *
 * Threads: rendering reads the progress counters (atomics) and may run while the job runs.
 */
#ifndef TIDM_JOB_METRICS_H
#define TIDM_JOB_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "job/runner.h"
#include "util/buf.h"

/* One job as the renderer sees it. */
typedef struct tidm_job_metrics {
	const char *name;
	const char *type;  /* full | incremental | all */
	const char *state; /* created | prechecking | running | paused | finished | failed */
	const char *stage; /* dumping | loading | syncing | done, or "" */
	const tidm_run_progress *p; /* NULL: nothing ran yet (figures 0) */
} tidm_job_metrics;

/* The content type of the answer. */
#define TIDM_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Appends the figures of `n` jobs (each metric family once, its jobs' samples together)
 * at time `now` (Unix s; for checkpoint ages). */
void tidm_metrics_render_jobs(tidm_buf *out, const tidm_job_metrics *jobs, size_t n, int64_t now);
/* Appends process_* figures (CPU, memory, fds, threads, start time) and tidm_build_info. */
void tidm_metrics_render_process(tidm_buf *out);
/* The stage of a running job from its counters ("" before anything ran). */
const char *tidm_metrics_stage(const tidm_run_progress *p);
/* Appends `s` as a label value: \ " and newline escaped. */
void tidm_metrics_put_label(tidm_buf *out, const char *s);

#endif
