/*
 * hooks.h - what the job manager calls to carry a job out, replaceable by tests
 * (tidm_manager_opts.hooks): the precheck, the runner, and the removal of a job's tidm_meta
 * rows on the target. NULL members (or NULL hooks) mean the real ones: the precheck module
 * (precheck_call.c), tidm_job_run (job/runner.h) and tidm_meta_job_delete (db/meta.h) on a
 * connection to the job's target.
 * The functions are called on the job's own thread (precheck, run) or an API thread (forget).
 */
#ifndef TIDM_SERVICE_HOOKS_H
#define TIDM_SERVICE_HOOKS_H

#include "job/runner.h"

typedef struct tidm_manager_hooks {
	int (*run)(const tidm_job_config *cfg, const tidm_run_opts *o, tidm_run_progress *p, tidm_run_result *out,
		   void *payload);
	int (*forget)(const tidm_job_config *cfg, void *payload);
	/* 0: the job may start; < 0 with the thread's error set: it fails with that message */
	int (*precheck)(const tidm_job_config *cfg, void *payload);
	void *payload;
} tidm_manager_hooks;

#endif
