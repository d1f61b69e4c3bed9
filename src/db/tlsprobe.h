/*
 * tlsprobe.h - private to src/db/: look at a server's TLS certificate without logging in.
 *
 * Connector/C verifies a server certificate as one yes/no (chain and host name together,
 * "Validation of SSL server certificate failed"), and cannot check the chain alone. The
 * probe speaks just enough of the protocol to get there (the server's greeting, an SSL
 * request packet, the TLS handshake with the job's CA and client certificate) and reports
 * what it found, so that conn.c can
 *   - name the cause of a refusal (the names the certificate carries; why the chain fails);
 *   - honour `tls: {verify-hostname: false}`: the chain is checked here, and the real
 *     connection is pinned to the very certificate checked (its SHA-1 fingerprint,
 *     MARIADB_OPT_TLS_PEER_FP), so nothing is accepted that was not verified.
 * OpenSSL comes with Connector/C (libmariadb-dev depends on libssl-dev).
 */
#ifndef TIDM_DB_TLSPROBE_H
#define TIDM_DB_TLSPROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "db/conn.h"

typedef struct tidm_tls_probe {
	bool chain_ok;         /* the certificate chains to the CA and is in its dates */
	bool host_ok;          /* it names the host tidm connects to (DNS name or IP) */
	char chain_err[160];   /* OpenSSL's reason when !chain_ok */
	char names[256];       /* the names it carries: DNS and IP subject alt names, else CN */
	char sha1[64];         /* fingerprint, hex with colons */
} tidm_tls_probe;

/* 0: handshake done, *out filled; <0: could not get that far (cause in `cause`). Does not
 * touch the thread's error. */
int tidm_tls_probe_run(const tidm_conn_opts *o, tidm_tls_probe *out, char *cause, size_t cap);

#endif
