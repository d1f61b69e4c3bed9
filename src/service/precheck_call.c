/*
 * precheck_call.c - the single place where the job service runs the precheck (SPEC §3) of
 * a job before it starts; the job is in state "prechecking" meanwhile, on its own thread.
 *
 * The same items and rules as `tidm migrate`: a server that cannot be reached is a
 * transient failure (TIDM_ECONN: tried again like a lost connection); a fail stops the job; a warning stops it on
 * its first start unless the job file lists the item in precheck.ignore (a job that ran
 * before was started past its warnings). The job then fails with a message naming each
 * item that stops it, what was found and how to fix it; the API's POST /precheck shows
 * the whole table.
 */
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <string.h>

#include "precheck/precheck.h"
#include "service/manager_int.h"
#include "util/buf.h"
#include "util/err.h"

int run_precheck(const tidm_job_config *cfg, volatile sig_atomic_t *cancel, tidm_run_progress *p, char **json_out)
{
	tidm_precheck_report rep;
	tidm_precheck_opts o;
	tidm_buf msg = TIDM_BUF_INIT;
	unsigned n = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	o.timeout_s = cfg->precheck_timeout;
	if ((rc = tidm_precheck_run(cfg, &o, &rep)) < 0)
		return rc;
	if (json_out) {
		json_t *js = tidm_precheck_json(&rep);
		*json_out = js ? json_dumps(js, JSON_COMPACT) : NULL;
		json_decref(js);
	}
	if (p && rep.runway.runway_s > 0 && !isinf(rep.runway.runway_s)) {
		atomic_store(&p->runway_s, (int64_t)rep.runway.runway_s);
		atomic_store(&p->runway_at, (int64_t)time(NULL));
	}
	if (cancel && *cancel) {
		tidm_precheck_report_dispose(&rep);
		return TIDM_ECANCELED;
	}
	/* a server that cannot be reached: a transient failure (the manager tries again) */
	for (size_t i = 0; i < rep.n; i++) {
		const tidm_check_result *it = &rep.items[i];
		if (it->state == TIDM_CHECK_FAIL &&
		    (!strcmp(it->id, "source-connection") || !strcmp(it->id, "target-connection"))) {
			rc = tidm_err_set(TIDM_ECONN, "%s", it->message);
			tidm_precheck_report_dispose(&rep);
			return rc;
		}
	}
	for (size_t i = 0; i < rep.n; i++) {
		const tidm_check_result *it = &rep.items[i];
		if (it->state == TIDM_CHECK_PASS || (it->state == TIDM_CHECK_WARNING && (it->ignored || rep.resuming)))
			continue;
		tidm_buf_printf(&msg, "%s%s %s: %s%s%s", n++ ? "; " : "", it->state == TIDM_CHECK_FAIL ? "fail" : "warning",
				it->id, it->message, it->fix ? " (fix: " : "", it->fix ? it->fix : "");
		if (it->fix)
			tidm_buf_putc(&msg, ')');
	}
	if (n)
		rc = tidm_err_set(TIDM_EINVAL, "precheck: %u item%s stop%s the job: %s%s", n, n == 1 ? "" : "s",
				  n == 1 ? "s" : "", msg.data,
				  "; warnings can be accepted by listing their ids in precheck.ignore");
	tidm_buf_dispose(&msg);
	tidm_precheck_report_dispose(&rep);
	return rc;
}
