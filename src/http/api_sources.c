/*
 * api_sources.c - the handlers that talk to a database the request names, not to a job:
 *   POST /connections/check   open one connection (host, port, user, password, tls) and
 *                             answer {"ok":true,"server":{...}} or {"ok":false,"code",
 *                             "message"} with the SPEC §6 message of db/conn.h;
 *   GET|POST /sources/objects the databases and tables the connection sees (system
 *                             schemas never), for object selection.
 * The connection comes from the JSON body, or for GET from the query (host, port, user,
 * password, tls-ca, tls-cert, tls-key). One attempt with a 5 s timeout: an API call must
 * not sit in the backoff of a job. The password is never echoed.
 */
#include <stdlib.h>
#include <string.h>

#include "db/conn.h"
#include "http/http_int.h"
#include "util/err.h"
#include "util/filter.h"

/* Fills o from the body (or the query when the body is empty). Returns -1 with rs filled. */
static int read_conn(http_req *rq, http_resp *rs, json_t **body, tidm_conn_opts *o)
{
	const char *role = NULL;
	long long port = 3306;

	memset(o, 0, sizeof(*o));
	o->connect_timeout = 5;
	o->retries = 1;
	if (http_body_object(rq, rs, true, body) < 0)
		return -1;
	if (*body) {
		json_t *tls = json_object_get(*body, "tls");
		if (http_want_string(*body, "host", true, rs, &o->host) < 0 ||
		    http_want_int(*body, "port", rs, 1, 65535, &port) < 0 ||
		    http_want_string(*body, "user", true, rs, &o->user) < 0 ||
		    http_want_string(*body, "password", false, rs, &o->password) < 0 ||
		    http_want_string(*body, "role", false, rs, &role) < 0)
			return -1;
		if (tls && !json_is_object(tls)) {
			http_error(rs, 400, "wrong_type", "tls", "member \"tls\" must be an object {ca, cert, key}");
			return -1;
		}
		if (tls && (http_want_string(tls, "ca", false, rs, &o->tls_ca) < 0 ||
			    http_want_string(tls, "cert", false, rs, &o->tls_cert) < 0 ||
			    http_want_string(tls, "key", false, rs, &o->tls_key) < 0))
			return -1;
	} else {
		const char *p;
		o->host = rq->query(rq->qctx, "host");
		o->user = rq->query(rq->qctx, "user");
		o->password = rq->query(rq->qctx, "password");
		o->tls_ca = rq->query(rq->qctx, "tls-ca");
		o->tls_cert = rq->query(rq->qctx, "tls-cert");
		o->tls_key = rq->query(rq->qctx, "tls-key");
		role = rq->query(rq->qctx, "role");
		if (!o->host || !o->user) {
			http_error(rs, 400, "missing_field", o->host ? "user" : "host",
				   "missing %s; expected a connection {host, port, user, password, tls} as the JSON body "
				   "or as query parameters", o->host ? "user" : "host");
			return -1;
		}
		if ((p = rq->query(rq->qctx, "port")) && http_query_int(rq, rs, "port", 1, 65535, 3306, &port) < 0)
			return -1;
	}
	if (role && strcmp(role, "source") != 0 && strcmp(role, "target") != 0) {
		http_error(rs, 422, "invalid", "role", "role is \"%.40s\"; expected source or target", role);
		return -1;
	}
	if (!o->password)
		o->password = "";
	if ((o->tls_cert != NULL) != (o->tls_key != NULL)) {
		http_error(rs, 422, "invalid", "tls", "tls has %s but no %s; expected both cert and key, or neither",
			   o->tls_cert ? "cert" : "key", o->tls_cert ? "key" : "cert");
		return -1;
	}
	o->role = role && !strcmp(role, "target") ? TIDM_ROLE_TARGET : TIDM_ROLE_SOURCE;
	o->port = (unsigned)port;
	return 0;
}

static const char *flavor_name(enum tidm_flavor f)
{
	switch (f) {
	case TIDM_FLAVOR_MYSQL: return "mysql";
	case TIDM_FLAVOR_MARIADB: return "mariadb";
	case TIDM_FLAVOR_TIDB: return "tidb";
	default: return "unknown";
	}
}

void http_api_connections_check(http_req *rq, http_resp *rs)
{
	json_t *body = NULL;
	tidm_conn_opts o;
	tidm_conn *c = NULL;
	int rc;

	if (read_conn(rq, rs, &body, &o) < 0)
		goto out;
	rc = tidm_conn_open(&c, &o);
	if (rc < 0) {
		http_ok(rs, 200, json_pack("{s:b,s:s,s:s}", "ok", 0, "code", tidm_err_name(rc), "message", tidm_err_msg()));
		goto out;
	}
	http_ok(rs, 200, json_pack("{s:b,s:{s:s,s:s}}", "ok", 1, "server", "flavor", flavor_name(tidm_conn_info(c)->flavor),
				   "version", tidm_conn_info(c)->version_str));
	tidm_conn_close(c);
out:
	json_decref(body);
}

void http_api_sources_objects(http_req *rq, http_resp *rs)
{
	json_t *body = NULL, *dbs = NULL, *db = NULL;
	tidm_conn_opts o;
	tidm_conn *c = NULL;
	tidm_res *r = NULL;
	const char *last = NULL;
	int rc;

	if (read_conn(rq, rs, &body, &o) < 0)
		goto out;
	if ((rc = tidm_conn_open(&c, &o)) < 0) {
		http_error(rs, 422, "connection_failed", NULL, "%s", tidm_err_msg());
		goto out;
	}
	/* Schemata first (a database without tables is still selectable), then their tables. */
	rc = tidm_conn_query(c, &r,
			     "SELECT s.SCHEMA_NAME, t.TABLE_NAME, t.TABLE_TYPE FROM information_schema.SCHEMATA s "
			     "LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = s.SCHEMA_NAME "
			     "ORDER BY s.SCHEMA_NAME, t.TABLE_NAME");
	if (rc < 0) {
		http_error(rs, 422, "connection_failed", NULL, "%s", tidm_err_msg());
		goto out;
	}
	dbs = json_array();
	while (tidm_res_next(r) == 1) {
		const char *schema = tidm_res_get(r, 0), *table = tidm_res_get(r, 1), *type = tidm_res_get(r, 2);
		if (!schema || tidm_filter_is_system_schema(schema))
			continue;
		if (!last || strcmp(last, schema) != 0) {
			db = json_pack("{s:s,s:[]}", "name", schema, "tables");
			json_array_append_new(dbs, db);
			last = schema;
		}
		if (table)
			json_array_append_new(json_object_get(db, "tables"),
					      json_pack("{s:s,s:s}", "name", table, "type",
							type && !strcmp(type, "VIEW") ? "view" : "table"));
	}
	http_ok(rs, 200, json_pack("{s:o}", "databases", dbs));
out:
	tidm_res_free(r);
	tidm_conn_close(c);
	json_decref(body);
}

/* POST /files/tls: a TLS file as text -> the path the tls members then name. */
void http_api_files_tls(http_req *rq, http_resp *rs)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if (http_body_object(rq, rs, false, &body) < 0)
		return;
	json_decref(body);
	rc = tidm_manager_save_tls(rq->mgr, rq->body, rq->body_len, &out);
	if (rc < 0) {
		http_manager_error(rs, rc);
		return;
	}
	http_ok(rs, 201, out);
}
