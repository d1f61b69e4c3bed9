/*
 * server.h - the HTTP server of `tidm server` (issue 14): the JSON API of SPEC §7.3 under
 * /api/v1 on libmicrohttpd, routed to the job manager (service/manager.h).
 *
 * Rules it enforces before a handler runs:
 *  - listening on an address other than loopback (127.0.0.0/8, ::1) needs a token:
 *    tidm_http_server_start() refuses with TIDM_EINVAL and a message saying so;
 *  - with a token, every request under /api needs `Authorization: Bearer TOKEN` (compared
 *    in constant time), else 401;
 *  - GET /metrics answers the Prometheus text format; with a token it needs the same
 *    bearer header (Prometheus: `authorization: {credentials_file: ...}`);
 *  - request bodies larger than max_body are answered 413 without being kept.
 * Errors are JSON {"error":{"code","message","field"}} (docs/openapi.json lists them all).
 *
 * Threads: libmicrohttpd runs one thread per connection; handlers call the manager from
 * those threads (the manager is thread-safe). start/stop are called from one thread.
 */
#ifndef TIDM_HTTP_SERVER_H
#define TIDM_HTTP_SERVER_H

#include <stddef.h>

#include "service/manager.h"
#include "util/buf.h"

typedef struct tidm_http_server tidm_http_server;

typedef struct tidm_http_server_opts {
	const char *listen;   /* "HOST:PORT", "[V6]:PORT"; port 0 picks a free port */
	const char *token;    /* bearer token; NULL: none (loopback only) */
	const char *tls_cert; /* PEM text of the certificate chain; NULL: plain HTTP */
	const char *tls_key;  /* PEM text of its private key */
	size_t max_body;      /* bytes; 0 = 1 MiB */
	tidm_manager *manager; /* borrowed; must outlive the server; NULL with metrics_only */
	/* GET /metrics (Prometheus text, job/metrics.h): appends the figures to `out`; NULL:
	 * the manager's (tidm_manager_metrics). Called from handler threads. */
	int (*metrics)(void *ctx, tidm_buf *out);
	void *metrics_ctx;
	/* serve GET /metrics only (`tidm migrate --metrics-listen`): read-only, so any
	 * address may be used without a token */
	bool metrics_only;
} tidm_http_server_opts;

/* Binds and starts serving. Errors: TIDM_EINVAL (bad address, non-loopback without a
 * token, TLS without libmicrohttpd TLS support, cert without key), TIDM_ERROR (cannot
 * bind: the message names the address and the reason). */
int tidm_http_server_start(tidm_http_server **out, const tidm_http_server_opts *o);
/* The port actually bound (useful with port 0). */
unsigned tidm_http_server_port(const tidm_http_server *s);
/* The address as it was bound, e.g. "127.0.0.1:8261" (valid until stop). */
const char *tidm_http_server_addr(const tidm_http_server *s);
/* Stops accepting, waits for running handlers, frees (NULL is a no-op). */
void tidm_http_server_stop(tidm_http_server *s);

/* True when host (a numeric IPv4/IPv6 address or "localhost") is a loopback address. */
int tidm_http_is_loopback(const char *host);

#endif
