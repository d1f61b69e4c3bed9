/*
 * api_precheck.c - POST /api/v1/precheck (job body -> precheck items, SPEC §3, §7.2).
 *
 * NOT WIRED YET (coordinator): the precheck module (src/precheck/precheck.h) is written in
 * parallel (issue 13). Until it is merged this handler checks the body as JSON and answers
 * 501 {"error":{"code":"not_implemented",...}}. Wiring it: parse the body with
 * tidm_job_config_parse() (422 on error, like POST /jobs), run the checks, answer 200
 * {"items":[{"id","title","state","message","fix"}]} (the shape of `tidm precheck
 * --format json`). docs/openapi.json already documents both answers.
 */
#include "http/http_int.h"

void http_api_precheck(http_req *rq, http_resp *rs)
{
	json_t *body = NULL;

	if (http_body_object(rq, rs, false, &body) < 0)
		return;
	json_decref(body);
	http_error(rs, 501, "not_implemented", NULL,
		   "precheck through the API is not available in this build; run `tidm precheck JOB.yaml`");
}
