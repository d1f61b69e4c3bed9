/*
 * json.c - the JSON side of the HTTP module: error answers in the one shape the API uses
 * ({"error":{"code","message","field"}}), the mapping of manager errors to statuses, and
 * body/query parsing that names what is wrong and where (line, column and byte position
 * of malformed JSON, as jansson reports them; the field of a member of the wrong type).
 *
 * Status rules (docs/openapi.json): 400 = the request cannot be read (not JSON, not an
 * object, a member of the wrong JSON type, a bad query parameter); 422 = it reads well but
 * the rules refuse it (bad name, range, too many jobs: the manager's TIDM_EINVAL).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "util/err.h"

void http_error(http_resp *rs, unsigned status, const char *code, const char *field, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(rs->json);
	rs->status = status;
	rs->raw = NULL;
	rs->json = json_pack("{s:{s:s,s:s,s:s?}}", "error", "code", code, "message", msg, "field", field);
}

void http_ok(http_resp *rs, unsigned status, json_t *body)
{
	json_decref(rs->json);
	rs->status = status;
	rs->raw = NULL;
	rs->json = body ? body : json_object();
}

void http_manager_error(http_resp *rs, int rc)
{
	const char *msg = tidm_err_msg();
	const char *field = tidm_manager_err_field();

	if (!msg[0])
		msg = tidm_err_name(rc);
	switch (rc) {
	case TIDM_ENOTFOUND:
		http_error(rs, 404, "not_found", field, "%s", msg);
		break;
	case TIDM_ECONFLICT:
		http_error(rs, 409, "conflict", field, "%s", msg);
		break;
	case TIDM_EINVAL:
		http_error(rs, 422, "invalid", field, "%s", msg);
		break;
	default:
		http_error(rs, 500, "internal", field, "%s", msg);
		break;
	}
}

static bool blank(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!isspace((unsigned char)p[i]))
			return false;
	return true;
}

int http_body_object(const http_req *rq, http_resp *rs, bool optional, json_t **out)
{
	json_error_t e;
	json_t *v;

	*out = NULL;
	if (!rq->body || blank(rq->body, rq->body_len)) {
		if (optional)
			return 0;
		http_error(rs, 400, "malformed_json", NULL, "the request has no body; expected a JSON object");
		return -1;
	}
	v = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &e);
	if (!v) {
		http_error(rs, 400, "malformed_json", NULL,
			   "malformed JSON at line %d, column %d (byte %d): %s", e.line, e.column, e.position, e.text);
		return -1;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		http_error(rs, 400, "malformed_json", NULL, "the body is JSON but not an object; expected {...}");
		return -1;
	}
	*out = v;
	return 0;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	default: return "a value";
	}
}

int http_want_string(json_t *obj, const char *key, bool required, http_resp *rs, const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v) {
		if (!required)
			return 0;
		http_error(rs, 400, "missing_field", key, "missing member \"%s\"; expected a string", key);
		return -1;
	}
	if (!json_is_string(v)) {
		http_error(rs, 400, "wrong_type", key, "member \"%s\" is %s; expected a string", key, type_name(v));
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int http_want_bool(json_t *obj, const char *key, http_resp *rs, bool *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		http_error(rs, 400, "wrong_type", key, "member \"%s\" is %s; expected true or false", key, type_name(v));
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int http_want_int(json_t *obj, const char *key, http_resp *rs, long long lo, long long hi, long long *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_integer(v)) {
		http_error(rs, 400, "wrong_type", key, "member \"%s\" is %s; expected an integer %lld..%lld", key,
			   type_name(v), lo, hi);
		return -1;
	}
	if (json_integer_value(v) < lo || json_integer_value(v) > hi) {
		http_error(rs, 422, "invalid", key, "member \"%s\" is %lld; expected %lld..%lld", key,
			   (long long)json_integer_value(v), lo, hi);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

int http_query_int(const http_req *rq, http_resp *rs, const char *key, long long lo, long long hi,
		   long long def, long long *out)
{
	const char *s = rq->query ? rq->query(rq->qctx, key) : NULL;
	char *end;
	long long v;

	*out = def;
	if (!s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno || !isdigit((unsigned char)s[0]) || v < lo || v > hi) {
		http_error(rs, 400, "bad_query", key, "query parameter \"%s\" is \"%.40s\"; expected an integer %lld..%lld",
			   key, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}
