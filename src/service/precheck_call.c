/*
 * precheck_call.c - THE single place where the job service runs the precheck (SPEC §3) of
 * a job before it starts: the job is in state "prechecking" while this runs, on the job's
 * own thread.
 *
 * TODO(coordinator, issue 13): call the precheck module (src/precheck/precheck.h) here.
 * Return 0 when every check passes (warnings go to the job's events), or a negative code
 * with the thread's error set to the message a user acts on (the failed checks and their
 * fixes): the job then fails with that message. Poll `cancel` between checks and return
 * TIDM_ECANCELED when it is set (the job is being paused).
 */
#include "service/manager_int.h"

int run_precheck(const tidm_job_config *cfg, volatile sig_atomic_t *cancel)
{
	(void)cfg;
	(void)cancel;
	return 0;
}
