/*
 * router.c - the route table of the API under /api/v1 and the dispatch to handlers.
 *
 * A pattern is a path of literal segments and `{name}` (one non-empty segment, copied to
 * rq->name). A path that fits a pattern with another method answers 405 with the Allow
 * header listing the methods that fit; a path that fits none answers 404. Every route here
 * is documented in docs/openapi.json (tests/integration/test_service_api.sh checks it).
 */
#include <stdio.h>
#include <string.h>

#include "http/http_int.h"
#include "http/openapi.h"

static const struct route {
	const char *method;
	const char *pattern;
	http_handler fn;
} routes[] = {
	{"POST", "/jobs", http_api_jobs_create},
	{"GET", "/jobs", http_api_jobs_list},
	{"GET", "/jobs/{name}", http_api_jobs_get},
	{"DELETE", "/jobs/{name}", http_api_jobs_delete},
	{"POST", "/jobs/{name}/start", http_api_jobs_start},
	{"POST", "/jobs/{name}/pause", http_api_jobs_pause},
	{"POST", "/jobs/{name}/resume", http_api_jobs_resume},
	{"POST", "/jobs/{name}/restart", http_api_jobs_restart},
	{"POST", "/jobs/{name}/scale", http_api_jobs_scale},
	{"GET", "/jobs/{name}/events", http_api_jobs_events},
	{"GET", "/jobs/{name}/history", http_api_jobs_history},
	{"GET", "/jobs/{name}/positions", http_api_jobs_positions},
	{"GET", "/jobs/{name}/verify", http_api_jobs_verify},
	{"POST", "/files/tls", http_api_files_tls},
	{"GET", "/sources/objects", http_api_sources_objects},
	{"POST", "/sources/objects", http_api_sources_objects},
	{"POST", "/connections/check", http_api_connections_check},
	{"POST", "/precheck", http_api_precheck},
	{"GET", "/openapi.json", http_api_openapi},
	{"POST", "/alerts/subscriptions", http_api_alert_subs_create},
	{"GET", "/alerts/subscriptions", http_api_alert_subs_list},
	{"DELETE", "/alerts/subscriptions/{name}", http_api_alert_subs_delete},
};

/* Does `path` fit `pattern`? Copies the {name} segment to name. */
static bool fits(const char *pattern, const char *path, char *name, size_t name_size)
{
	while (*pattern && *path) {
		const char *pe, *se;
		size_t pl, sl;

		if (*pattern != '/' || *path != '/')
			return false;
		pattern++;
		path++;
		pe = strchr(pattern, '/');
		se = strchr(path, '/');
		pl = pe ? (size_t)(pe - pattern) : strlen(pattern);
		sl = se ? (size_t)(se - path) : strlen(path);
		if (sl == 0)
			return false;
		if (pl == 6 && !strncmp(pattern, "{name}", 6)) {
			if (sl >= name_size)
				return false;
			memcpy(name, path, sl);
			name[sl] = '\0';
		} else if (pl != sl || strncmp(pattern, path, sl) != 0) {
			return false;
		}
		pattern += pl;
		path += sl;
	}
	return !*pattern && !*path;
}

void http_route(http_req *rq, http_resp *rs)
{
	char allow[64] = "";
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!fits(routes[i].pattern, rq->path, rq->name, sizeof(rq->name)))
			continue;
		if (!strcmp(routes[i].method, rq->method)) {
			routes[i].fn(rq, rs);
			return;
		}
		if (!strstr(allow, routes[i].method))
			snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s", allow[0] ? ", " : "",
				 routes[i].method);
	}
	if (allow[0]) {
		http_error(rs, 405, "method_not_allowed", NULL, "%s is not allowed on /api/v1%s; allowed: %s",
			   rq->method, rq->path, allow);
		snprintf(rs->allow, sizeof(rs->allow), "%s", allow);
		return;
	}
	http_error(rs, 404, "not_found", NULL, "no such route: %s /api/v1%s (the routes are listed at /api/v1/openapi.json)",
		   rq->method, rq->path);
}

void http_api_openapi(http_req *rq, http_resp *rs)
{
	(void)rq;
	rs->status = 200;
	rs->raw = (const char *)tidm_http_openapi_json;
	rs->raw_len = (size_t)tidm_http_openapi_json_len;
}
