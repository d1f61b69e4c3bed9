/*
 * api_jobs.c - the handlers of /api/v1/jobs...: read the request (400 when it cannot be
 * read: see json.c), call the job manager (service/manager.h), answer its JSON or map its
 * error (404 / 409 / 422). Bodies are checked here only as far as their JSON types go;
 * the rules of a job are the manager's (job/config.h).
 */
#include <stdint.h>
#include <string.h>

#include "http/http_int.h"

/* Answers the manager's result: `out` with `status`, or its error. */
static void answer(http_resp *rs, int rc, unsigned status, json_t *out)
{
	if (rc < 0) {
		json_decref(out);
		http_manager_error(rs, rc);
		return;
	}
	http_ok(rs, status, out);
}

void http_api_jobs_create(http_req *rq, http_resp *rs)
{
	json_t *body = NULL, *out = NULL, *start;
	const char *name;
	int rc;

	if (http_body_object(rq, rs, false, &body) < 0)
		return;
	if (http_want_string(body, "name", true, rs, &name) < 0)
		goto out;
	start = json_object_get(body, "start");
	if (start && !json_is_boolean(start) && !json_is_object(start)) {
		http_error(rs, 400, "wrong_type", "start", "member \"start\" must be true/false (start the job at once) "
			   "or an object (the start position of an incremental job)");
		goto out;
	}
	rc = tidm_manager_create(rq->mgr, rq->body, rq->body_len, &out);
	answer(rs, rc, 201, out);
out:
	json_decref(body);
}

void http_api_jobs_list(http_req *rq, http_resp *rs)
{
	json_t *out = NULL;
	int rc = tidm_manager_list(rq->mgr, &out);
	answer(rs, rc, 200, out);
}

void http_api_jobs_get(http_req *rq, http_resp *rs)
{
	json_t *out = NULL;
	int rc = tidm_manager_get(rq->mgr, rq->name, &out);
	answer(rs, rc, 200, out);
}

void http_api_jobs_start(http_req *rq, http_resp *rs)
{
	json_t *out = NULL;
	int rc = tidm_manager_start(rq->mgr, rq->name, &out);
	answer(rs, rc, 200, out);
}

void http_api_jobs_pause(http_req *rq, http_resp *rs)
{
	json_t *out = NULL;
	int rc = tidm_manager_pause(rq->mgr, rq->name, &out);
	answer(rs, rc, 200, out);
}

void http_api_jobs_resume(http_req *rq, http_resp *rs)
{
	json_t *out = NULL;
	int rc = tidm_manager_resume(rq->mgr, rq->name, &out);
	answer(rs, rc, 200, out);
}

void http_api_jobs_restart(http_req *rq, http_resp *rs)
{
	json_t *body = NULL, *out = NULL;
	const char *k;
	json_t *v;
	bool replace = false;
	int rc;

	if (http_body_object(rq, rs, true, &body) < 0)
		return;
	if (body) {
		json_object_foreach(body, k, v) {
			if (strcmp(k, "replace_conflicts") != 0) {
				http_error(rs, 422, "unknown_field", k, "unknown member \"%s\"; expected only replace_conflicts", k);
				goto out;
			}
		}
		if (http_want_bool(body, "replace_conflicts", rs, &replace) < 0)
			goto out;
	}
	rc = tidm_manager_restart(rq->mgr, rq->name, replace, &out);
	answer(rs, rc, 200, out);
out:
	json_decref(body);
}

void http_api_jobs_scale(http_req *rq, http_resp *rs)
{
	static const struct {
		const char *key;
		long long hi;
	} keys[] = {{"dump-threads", 64}, {"load-threads", 64}, {"apply-workers", 64}, {"batch", 100000}};
	json_t *body = NULL, *out = NULL, *v;
	const char *k;
	long long n;
	size_t i;
	int rc;

	if (http_body_object(rq, rs, false, &body) < 0)
		return;
	json_object_foreach(body, k, v) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(k, keys[i].key))
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			http_error(rs, 422, "unknown_field", k,
				   "unknown member \"%s\"; expected dump-threads, load-threads, apply-workers, batch", k);
			goto out;
		}
		if (http_want_int(body, k, rs, 1, keys[i].hi, &n) < 0)
			goto out;
	}
	if (json_object_size(body) == 0) {
		http_error(rs, 422, "invalid", NULL, "the body is empty; expected at least one of dump-threads, "
			   "load-threads, apply-workers, batch");
		goto out;
	}
	rc = tidm_manager_scale(rq->mgr, rq->name, body, &out);
	answer(rs, rc, 200, out);
out:
	json_decref(body);
}

void http_api_jobs_delete(http_req *rq, http_resp *rs)
{
	int rc = tidm_manager_delete(rq->mgr, rq->name);
	answer(rs, rc, 200, rc < 0 ? NULL : json_pack("{s:s,s:b}", "name", rq->name, "deleted", 1));
}

void http_api_jobs_events(http_req *rq, http_resp *rs)
{
	json_t *out = NULL;
	long long after, limit;
	int rc;

	if (http_query_int(rq, rs, "after", 0, INT64_MAX, 0, &after) < 0 ||
	    http_query_int(rq, rs, "limit", 1, 1000, 100, &limit) < 0)
		return;
	rc = tidm_manager_events(rq->mgr, rq->name, after, (unsigned)limit, &out);
	answer(rs, rc, 200, out);
}

void http_api_jobs_history(http_req *rq, http_resp *rs)
{
	json_t *out = NULL;
	long long since;
	int rc;

	if (http_query_int(rq, rs, "since", 0, INT64_MAX, 0, &since) < 0)
		return;
	rc = tidm_manager_history(rq->mgr, rq->name, since, &out);
	answer(rs, rc, 200, out);
}

void http_api_jobs_positions(http_req *rq, http_resp *rs)
{
	json_t *out = NULL;
	int rc = tidm_manager_positions(rq->mgr, rq->name, &out);
	answer(rs, rc, 200, out);
}

void http_api_jobs_verify(http_req *rq, http_resp *rs)
{
	json_t *out = NULL;
	int rc = tidm_manager_verify(rq->mgr, rq->name, &out);
	answer(rs, rc, 200, out);
}
