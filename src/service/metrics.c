/*
 * metrics.c - the job manager's figures for GET /metrics (manager.h): every job's
 * progress counters rendered by job/metrics.h, then the process's own.
 */
#include "service/manager.h"

#include <stdlib.h>
#include <time.h>

#include "job/metrics.h"
#include "service/manager_int.h"
#include "util/err.h"

int tidm_manager_metrics(tidm_manager *m, tidm_buf *out)
{
	tidm_job_metrics *jm;
	size_t i, n = 0;

	pthread_mutex_lock(&m->mu);
	if (!(jm = calloc(m->njobs ? m->njobs : 1, sizeof(*jm)))) {
		pthread_mutex_unlock(&m->mu);
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	}
	for (i = 0; i < m->njobs; i++) {
		const mgr_job *j = m->jobs[i];
		if (j->deleted)
			continue;
		jm[n].name = j->name;
		jm[n].type = tidm_job_type_name(j->type);
		jm[n].state = j->state;
		jm[n].stage = mgr_live_stage(j);
		jm[n].p = &j->prog;
		n++;
	}
	/* rendered under the lock: the names and states are the manager's; 200 jobs take a
	 * few hundred microseconds */
	tidm_metrics_render_jobs(out, jm, n, (int64_t)time(NULL));
	pthread_mutex_unlock(&m->mu);
	free(jm);
	tidm_metrics_render_process(out);
	return 0;
}
