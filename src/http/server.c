/*
 * server.c - libmicrohttpd glue of the API (server.h): binding (loopback unless a token
 * is set; TLS from PEM text), the bearer check, the body cap, and turning a routed answer
 * (router.c) into an HTTP response.
 *
 * Design: MHD runs its listening thread plus one thread per connection, so a handler that
 * waits on the manager (a pause waits for a statement boundary) blocks only its own
 * client. The access handler is called several times per request: first with the headers
 * (authentication and the Content-Length cap are answered there, before any body is
 * read), then with body pieces (kept up to max_body; beyond it the rest is read and
 * dropped), then once with no data (routing). The per-request state lives in *con_cls and
 * is freed by the completion callback.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "http/http_int.h"
#include "http/server.h"
#include "http/web_assets.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "job/metrics.h"

#define API_PREFIX "/api/v1"

struct tidm_http_server {
	struct MHD_Daemon *d;
	tidm_manager *mgr;
	char *token;
	size_t token_len;
	size_t max_body;
	unsigned port;
	char addr[128];
	int (*metrics)(void *ctx, tidm_buf *out);
	void *metrics_ctx;
	bool metrics_only;
};

struct request {
	tidm_buf body;
	bool too_big;
};

/* The last message libmicrohttpd logged on this thread (bind errors come this way). */
static _Thread_local char mhd_last[256];

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	size_t n;
	(void)cls;
	vsnprintf(mhd_last, sizeof(mhd_last), fmt, ap);
	n = strlen(mhd_last);
	while (n > 0 && (mhd_last[n - 1] == '\n' || mhd_last[n - 1] == '\r'))
		mhd_last[--n] = '\0';
	tidm_warn("http: %s", mhd_last);
}

int tidm_http_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcasecmp(host, "localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return 1;
		if (IN6_IS_ADDR_V4MAPPED(&a6))
			return a6.s6_addr[12] == 127;
	}
	return 0;
}

/* Splits "HOST:PORT" / "[V6]:PORT" into host and port. */
static int split_listen(const char *listen, char *host, size_t host_size, unsigned *port)
{
	const char *colon, *h = listen, *he;
	char *end;
	unsigned long p;

	if (listen[0] == '[') {
		h = listen + 1;
		he = strchr(h, ']');
		if (!he || he[1] != ':')
			goto bad;
		colon = he + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			goto bad;
		he = colon;
	}
	if (he == h || (size_t)(he - h) >= host_size)
		goto bad;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	p = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || p > 65535)
		goto bad;
	*port = (unsigned)p;
	return 0;
bad:
	return tidm_err_set(TIDM_EINVAL, "--listen \"%s\": expected HOST:PORT, e.g. 127.0.0.1:8261 or [::1]:8261", listen);
}

/* Constant-time comparison: the time depends on the expected token's length only. */
static bool token_ok(const tidm_http_server *s, const char *header)
{
	volatile unsigned char diff;
	size_t n, i;

	if (!header || strncasecmp(header, "Bearer ", 7) != 0)
		return false;
	header += 7;
	while (*header == ' ')
		header++;
	n = strlen(header);
	diff = n != s->token_len;
	for (i = 0; i < s->token_len; i++)
		diff |= (unsigned char)((i < n ? (unsigned char)header[i] : 0) ^ (unsigned char)s->token[i]);
	return diff == 0;
}

static const char *query_value(void *qctx, const char *key)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)qctx, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result send_answer(struct MHD_Connection *c, const char *method, const char *url, http_resp *rs)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (rs->raw) {
		r = MHD_create_response_from_buffer(rs->raw_len, (void *)rs->raw, MHD_RESPMEM_PERSISTENT);
	} else {
		char *text = json_dumps(rs->json, JSON_COMPACT);
		size_t n = text ? strlen(text) : 0;
		char *t2 = text ? realloc(text, n + 2) : NULL;
		if (!t2) {
			free(text);
			return MHD_NO;
		}
		t2[n] = '\n';
		t2[n + 1] = '\0';
		r = MHD_create_response_from_buffer(n + 1, t2, MHD_RESPMEM_MUST_FREE);
	}
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (rs->allow[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rs->allow);
	if (rs->status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	ret = MHD_queue_response(c, rs->status, r);
	MHD_destroy_response(r);
	if (rs->status >= 500 && rs->status != 501)
		tidm_warn("http: %s %s -> %u", method, url, rs->status);
	else
		tidm_debug("http: %s %s -> %u", method, url, rs->status);
	json_decref(rs->json);
	return ret;
}

/* GET /metrics: the Prometheus text of the jobs and the process. */
static enum MHD_Result send_metrics(tidm_http_server *s, struct MHD_Connection *c, const char *method, const char *url)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	tidm_buf b;
	int rc;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		http_resp rs = {0};
		http_error(&rs, 405, "method_not_allowed", NULL, "%s /metrics: only GET is served here", method);
		snprintf(rs.allow, sizeof(rs.allow), "GET, HEAD");
		return send_answer(c, method, url, &rs);
	}
	tidm_buf_init(&b);
	tidm_err_clear();
	rc = s->metrics ? s->metrics(s->metrics_ctx, &b) : tidm_manager_metrics(s->mgr, &b);
	if (rc < 0) {
		http_resp rs = {0};
		tidm_buf_dispose(&b);
		http_error(&rs, 500, "internal", NULL, "cannot render the metrics: %s", tidm_err_msg());
		return send_answer(c, method, url, &rs);
	}
	r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
	tidm_buf_dispose(&b);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, TIDM_METRICS_CONTENT_TYPE);
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	tidm_debug("http: %s %s -> 200", method, url);
	return ret;
}

/* GET / and GET /NAME: the console's files (web_assets.h). Returns MHD_NO + *served
 * false when `url` is none of them. The pages hold no data and no secret: they are served
 * without the token, and ask for it when the API answers 401. */
static enum MHD_Result send_asset(struct MHD_Connection *c, const char *method, const char *url, bool *served)
{
	const tidm_web_asset *a;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char etag[24];
	bool not_modified;

	*served = false;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return MHD_NO;
	if (!strcmp(url, "/"))
		url = "/index.html";
	for (a = tidm_web_assets; a->path; a++)
		if (!strcmp(a->path, url))
			break;
	if (!a->path)
		return MHD_NO;
	*served = true;
	{
		/* the ETag is the bytes' FNV-1a hash: a reload asks and gets 304 when unchanged */
		uint64_t hsh = 1469598103934665603ULL;
		const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
		for (unsigned long i = 0; i < *a->len; i++)
			hsh = (hsh ^ a->data[i]) * 1099511628211ULL;
		snprintf(etag, sizeof(etag), "\"%016llx\"", (unsigned long long)hsh);
		not_modified = inm && strstr(inm, etag) != NULL;
	}
	r = not_modified ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
			 : MHD_create_response_from_buffer(*a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
	/* the program is the version: revalidate cheaply, never serve an old console */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
				"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
	ret = MHD_queue_response(c, not_modified ? 304 : 200, r);
	MHD_destroy_response(r);
	tidm_debug("http: %s %s -> %d", method, url, not_modified ? 304 : 200);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	tidm_http_server *s = cls;
	struct request *rq = *con_cls;
	http_resp rs = {0};
	http_req hr = {0};
	(void)version;

	if (!rq) {
		const char *cl;
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq;
		if (s->token && (!strncmp(url, "/api", 4) || !strcmp(url, "/metrics")) &&
		    !token_ok(s, MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION))) {
			http_error(&rs, 401, "unauthorized", NULL,
				   "this server needs a bearer token: send the header \"Authorization: Bearer TOKEN\" "
				   "with the token of its --token-file");
			return send_answer(c, method, url, &rs);
		}
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > s->max_body) {
			http_error(&rs, 413, "payload_too_large", NULL, "the body has %s bytes; at most %zu are accepted",
				   cl, s->max_body);
			return send_answer(c, method, url, &rs);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!rq->too_big && rq->body.len + *upload_data_size <= s->max_body)
			tidm_buf_put(&rq->body, upload_data, *upload_data_size);
		else
			rq->too_big = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->too_big) {
		http_error(&rs, 413, "payload_too_large", NULL, "the body is larger than %zu bytes, the most accepted",
			   s->max_body);
		return send_answer(c, method, url, &rs);
	}
	if (!strcmp(url, "/metrics"))
		return send_metrics(s, c, method, url);
	if (s->metrics_only) {
		http_error(&rs, 404, "not_found", NULL, "no such route: %s %s (this listener serves only GET /metrics)",
			   method, url);
		return send_answer(c, method, url, &rs);
	}
	if (strncmp(url, API_PREFIX "/", sizeof(API_PREFIX)) != 0) {
		bool served;
		enum MHD_Result ar = send_asset(c, method, url, &served);
		if (served)
			return ar;
		http_error(&rs, 404, "not_found", NULL, "no such route: %s %s (the API is under %s/)", method, url,
			   API_PREFIX);
		return send_answer(c, method, url, &rs);
	}
	hr.method = method;
	hr.path = url + strlen(API_PREFIX);
	hr.body = rq->body.len ? rq->body.data : NULL;
	hr.body_len = rq->body.len;
	hr.query = query_value;
	hr.qctx = c;
	hr.mgr = s->mgr;
	tidm_err_clear();
	http_route(&hr, &rs);
	if (!rs.json && !rs.raw)
		http_error(&rs, 500, "internal", NULL, "out of memory");
	return send_answer(c, method, url, &rs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;
	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		tidm_buf_dispose(&rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

int tidm_http_server_start(tidm_http_server **out, const tidm_http_server_opts *o)
{
	tidm_http_server *s;
	struct addrinfo hints = {0}, *ai = NULL;
	char host[100], portstr[8];
	unsigned port, flags;
	const union MHD_DaemonInfo *info;
	int rc, gai;

	*out = NULL;
	if ((rc = split_listen(o->listen, host, sizeof(host), &port)) < 0)
		return rc;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((gai = getaddrinfo(host, portstr, &hints, &ai)) != 0)
		return tidm_err_set(TIDM_EINVAL, "--listen \"%s\": cannot resolve \"%s\": %s", o->listen, host,
				    gai_strerror(gai));
	if (!o->token && !o->metrics_only) {
		char numeric[INET6_ADDRSTRLEN] = "";
		getnameinfo(ai->ai_addr, ai->ai_addrlen, numeric, sizeof(numeric), NULL, 0, NI_NUMERICHOST);
		if (!tidm_http_is_loopback(numeric)) {
			freeaddrinfo(ai);
			return tidm_err_set(TIDM_EINVAL,
					    "refusing to listen on %s without --token-file: an address other than loopback "
					    "(127.0.0.1, ::1) needs a bearer token so that only its holders can operate jobs",
					    o->listen);
		}
	}
	if ((o->tls_cert != NULL) != (o->tls_key != NULL)) {
		freeaddrinfo(ai);
		return tidm_err_set(TIDM_EINVAL, "--tls-cert and --tls-key go together: give both, or neither");
	}
	if (o->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		freeaddrinfo(ai);
		return tidm_err_set(TIDM_EINVAL, "this libmicrohttpd was built without TLS: --tls-cert/--tls-key cannot be served");
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		freeaddrinfo(ai);
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	}
	s->mgr = o->manager;
	s->metrics = o->metrics;
	s->metrics_ctx = o->metrics_ctx;
	s->metrics_only = o->metrics_only;
	s->max_body = o->max_body ? o->max_body : (size_t)1 << 20;
	if (o->token) {
		s->token = strdup(o->token);
		s->token_len = strlen(o->token);
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (o->tls_cert)
		flags |= MHD_USE_TLS;
	mhd_last[0] = '\0';
	s->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, s,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
				MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
				o->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, o->tls_cert,
				MHD_OPTION_HTTPS_MEM_KEY, o->tls_key,
				MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!s->d) {
		rc = tidm_err_set(TIDM_ERROR, "cannot serve on %s: %s", o->listen,
				  mhd_last[0] ? mhd_last : "libmicrohttpd could not start (address in use? TLS files valid?)");
		free(s->token);
		free(s);
		return rc;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	snprintf(s->addr, sizeof(s->addr), "%s%s%s:%u", strchr(host, ':') ? "[" : "", host,
		 strchr(host, ':') ? "]" : "", s->port);
	*out = s;
	return 0;
}

unsigned tidm_http_server_port(const tidm_http_server *s)
{
	return s->port;
}

const char *tidm_http_server_addr(const tidm_http_server *s)
{
	return s->addr;
}

void tidm_http_server_stop(tidm_http_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	if (s->token) {
		explicit_bzero(s->token, s->token_len);
		free(s->token);
	}
	free(s);
}
