/*
 * api_alerts.c - the handlers of /api/v1/alerts/subscriptions (service/alerts.h): add,
 * list and remove the subscribers of the daemon's alerts. The rules of a subscription are
 * the manager's; answers never hold a secret.
 */
#include "http/http_int.h"

void http_api_alert_subs_create(http_req *rq, http_resp *rs)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if (http_body_object(rq, rs, false, &body) < 0)
		return;
	json_decref(body);
	rc = tidm_manager_alert_sub_create(rq->mgr, rq->body, rq->body_len, &out);
	if (rc < 0) {
		http_manager_error(rs, rc);
		return;
	}
	http_ok(rs, 201, out);
}

void http_api_alert_subs_list(http_req *rq, http_resp *rs)
{
	json_t *out = NULL;
	int rc = tidm_manager_alert_sub_list(rq->mgr, &out);

	if (rc < 0) {
		http_manager_error(rs, rc);
		return;
	}
	http_ok(rs, 200, out);
}

void http_api_alert_subs_delete(http_req *rq, http_resp *rs)
{
	int rc = tidm_manager_alert_sub_delete(rq->mgr, rq->name);

	if (rc < 0) {
		http_manager_error(rs, rc);
		return;
	}
	http_ok(rs, 200, json_pack("{s:s,s:b}", "id", rq->name, "deleted", 1));
}
