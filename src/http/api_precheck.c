/*
 * api_precheck.c - POST /api/v1/precheck: a job body -> the precheck items (SPEC §3, §7.2),
 * the same JSON as `tidm precheck --format json`. Nothing is written on either server.
 * A body that is not a job answers 422 naming where (like POST /jobs).
 */
#include "http/http_int.h"
#include "job/config.h"
#include "precheck/precheck.h"
#include "util/err.h"

void http_api_precheck(http_req *rq, http_resp *rs)
{
	json_t *body = NULL;
	tidm_job_config *cfg = NULL;
	tidm_precheck_report rep;
	tidm_precheck_opts o = {0};

	if (http_body_object(rq, rs, false, &body) < 0)
		return;
	json_decref(body);
	if (tidm_job_config_parse(&cfg, rq->body, rq->body_len, "request body") < 0) {
		http_error(rs, 422, "invalid_job", NULL, "%s", tidm_err_msg());
		return;
	}
	o.timeout_s = cfg->precheck_timeout;
	if (tidm_precheck_run(cfg, &o, &rep) < 0) {
		http_error(rs, 500, "internal", NULL, "%s", tidm_err_msg());
		tidm_job_config_free(cfg);
		return;
	}
	http_ok(rs, 200, tidm_precheck_json(&rep));
	tidm_precheck_report_dispose(&rep);
	tidm_job_config_free(cfg);
}
