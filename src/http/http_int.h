/*
 * http_int.h - inside the HTTP module: one request as the handlers see it (method, path
 * below /api/v1, body, query), one answer (status and JSON), the route table
 * (router.c), the handlers (api_*.c) and the JSON helpers (json.c). Nothing here knows
 * libmicrohttpd except server.c, so routing and handlers are testable without a socket.
 */
#ifndef TIDM_HTTP_HTTP_INT_H
#define TIDM_HTTP_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "service/manager.h"

typedef struct http_req {
	const char *method;   /* "GET", "POST", ... */
	const char *path;     /* below /api/v1, e.g. "/jobs/shop/pause" (already unescaped) */
	const char *body;     /* NULL or body_len bytes, not NUL-terminated */
	size_t body_len;
	/* Value of query parameter `key` (NULL when absent); valid during the request. */
	const char *(*query)(void *qctx, const char *key);
	void *qctx;
	tidm_manager *mgr;
	char name[128];       /* the {name} segment of the matched route */
} http_req;

typedef struct http_resp {
	unsigned status;
	json_t *json;          /* owned; the body when raw is NULL */
	const char *raw;       /* static body (e.g. the OpenAPI document) */
	size_t raw_len;
	char allow[64];        /* Allow header of a 405 */
} http_resp;

typedef void (*http_handler)(http_req *rq, http_resp *rs);

/* Routes a request below /api/v1 to its handler; fills rs (404/405 when none fits). */
void http_route(http_req *rq, http_resp *rs);

/* --- json.c ------------------------------------------------------------------------ */
/* rs = {"error":{"code","message","field"}} with `status`. */
void http_error(http_resp *rs, unsigned status, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* rs = 200 (or `status`) with `body` (taken). */
void http_ok(http_resp *rs, unsigned status, json_t *body);
/* Maps a manager return code and the thread's error to an answer: ENOTFOUND 404,
 * ECONFLICT 409, EINVAL 422, others 500. */
void http_manager_error(http_resp *rs, int rc);
/*
 * Parses the body as JSON. An absent/empty body gives *out = NULL when `optional`, else
 * 400. Malformed JSON gives 400 naming line, column and byte position; a body that is not
 * an object gives 400. Returns 0 or -1 (rs filled).
 */
int http_body_object(const http_req *rq, http_resp *rs, bool optional, json_t **out);
/* Type checks of one member of an object (absent is fine unless `required`); on a wrong
 * type fills rs with 400 naming the field and returns -1. */
int http_want_string(json_t *obj, const char *key, bool required, http_resp *rs, const char **out);
int http_want_bool(json_t *obj, const char *key, http_resp *rs, bool *out);
int http_want_int(json_t *obj, const char *key, http_resp *rs, long long lo, long long hi, long long *out);
/* A non-negative decimal query parameter in lo..hi (absent: def). Returns -1 with 400. */
int http_query_int(const http_req *rq, http_resp *rs, const char *key, long long lo, long long hi,
		   long long def, long long *out);

/* --- handlers ---------------------------------------------------------------------- */
void http_api_jobs_create(http_req *rq, http_resp *rs);
void http_api_jobs_list(http_req *rq, http_resp *rs);
void http_api_jobs_get(http_req *rq, http_resp *rs);
void http_api_jobs_start(http_req *rq, http_resp *rs);
void http_api_jobs_pause(http_req *rq, http_resp *rs);
void http_api_jobs_resume(http_req *rq, http_resp *rs);
void http_api_jobs_restart(http_req *rq, http_resp *rs);
void http_api_jobs_scale(http_req *rq, http_resp *rs);
void http_api_jobs_delete(http_req *rq, http_resp *rs);
void http_api_jobs_events(http_req *rq, http_resp *rs);
void http_api_jobs_history(http_req *rq, http_resp *rs);
void http_api_jobs_positions(http_req *rq, http_resp *rs);
void http_api_jobs_verify(http_req *rq, http_resp *rs);
void http_api_files_tls(http_req *rq, http_resp *rs);
void http_api_sources_objects(http_req *rq, http_resp *rs);
void http_api_connections_check(http_req *rq, http_resp *rs);
void http_api_precheck(http_req *rq, http_resp *rs);
void http_api_openapi(http_req *rq, http_resp *rs);
void http_api_alert_subs_create(http_req *rq, http_resp *rs);
void http_api_alert_subs_list(http_req *rq, http_resp *rs);
void http_api_alert_subs_delete(http_req *rq, http_resp *rs);

#endif
