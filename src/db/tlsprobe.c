/*
 * tlsprobe.c - a server's TLS certificate, looked at without logging in (see tlsprobe.h).
 *
 * DESIGN
 *  TCP connect (the job's connect-timeout for every step), read the greeting (protocol 10;
 *  CLIENT_SSL must be offered), send the 32-byte SSL request (protocol 4.1 capabilities
 *  plus CLIENT_SSL, sequence 1), then an OpenSSL handshake with the CA as trust anchor,
 *  the client certificate when the job has one, SNI set to the host, and no verification
 *  callback: the handshake completes whatever the certificate, and the verdicts are read
 *  afterwards (SSL_get_verify_result for the chain, X509_check_host / X509_check_ip_asc
 *  for the name). The connection is then closed; the server logs an aborted connection.
 */
#include "db/tlsprobe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define CLIENT_LONG_PASSWORD_ 0x1u
#define CLIENT_PROTOCOL_41_ 0x200u
#define CLIENT_SSL_ 0x800u
#define CLIENT_SECURE_CONNECTION_ 0x8000u
#define CLIENT_PLUGIN_AUTH_ 0x80000u

static int dial(const char *host, unsigned port, unsigned timeout, char *cause, size_t cap)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = {(time_t)timeout, 0};
	char ports[16];
	int fd = -1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ports, sizeof(ports), "%u", port);
	if ((e = getaddrinfo(host, ports, &hints, &res)) != 0) {
		snprintf(cause, cap, "cannot resolve %s: %s", host, gai_strerror(e));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		snprintf(cause, cap, "cannot connect to %s:%u: %s", host, port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int read_full(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = recv(fd, p, n, 0);
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The greeting: 1 when it offers TLS, 0 when not, -1 on error (cause set). */
static int greeting(int fd, char *cause, size_t cap)
{
	uint8_t h[4], body[1024];
	size_t len, i;

	if (read_full(fd, h, 4) < 0) {
		snprintf(cause, cap, "no greeting from the server");
		return -1;
	}
	len = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
	if (len < 1 || len > sizeof(body) || read_full(fd, body, len) < 0) {
		snprintf(cause, cap, "a greeting of %zu bytes", len);
		return -1;
	}
	if (body[0] == 0xff) {
		snprintf(cause, cap, "the server refused the connection: %.*s", (int)(len > 9 ? len - 9 : 0),
			 len > 9 ? (const char *)body + 9 : "");
		return -1;
	}
	if (body[0] != 10) {
		snprintf(cause, cap, "protocol version %u", body[0]);
		return -1;
	}
	for (i = 1; i < len && body[i]; i++)
		; /* server version */
	i += 1 + 4 + 8 + 1; /* NUL, connection id, scramble part 1, filler */
	if (i + 2 > len) {
		snprintf(cause, cap, "a short greeting");
		return -1;
	}
	return ((unsigned)body[i] | (unsigned)body[i + 1] << 8) & CLIENT_SSL_ ? 1 : 0;
}

static void put_names(X509 *cert, char *out, size_t cap)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	size_t used = 0;
	int i;

	out[0] = '\0';
	for (i = 0; sans && i < sk_GENERAL_NAME_num(sans) && used + 2 < cap; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		char one[64] = "";
		if (g->type == GEN_DNS) {
			const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
			snprintf(one, sizeof(one), "%.*s", ASN1_STRING_length(g->d.dNSName), (const char *)d);
		} else if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 4) {
			const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
			snprintf(one, sizeof(one), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		} else if (g->type == GEN_IPADD) {
			snprintf(one, sizeof(one), "(an IPv6 address)");
		}
		if (one[0])
			used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", one);
	}
	GENERAL_NAMES_free(sans);
	if (!out[0]) {
		char cn[128] = "";
		X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
		snprintf(out, cap, "%s", cn[0] ? cn : "(no name)");
	}
}

static bool is_ip(const char *host)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int tidm_tls_probe_run(const tidm_conn_opts *o, tidm_tls_probe *out, char *cause, size_t cap)
{
	const char *host = o->host && *o->host ? o->host : "localhost";
	unsigned timeout = o->connect_timeout ? o->connect_timeout : 10;
	static const uint8_t zeros[23];
	uint8_t req[36];
	uint32_t caps = CLIENT_LONG_PASSWORD_ | CLIENT_PROTOCOL_41_ | CLIENT_SSL_ | CLIENT_SECURE_CONNECTION_ |
			CLIENT_PLUGIN_AUTH_;
	uint32_t maxp = 16u << 20;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	X509 *cert = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdn = 0, i;
	int fd, rc = -1, offers;

	memset(out, 0, sizeof(*out));
	if ((fd = dial(host, o->port ? o->port : 3306, timeout, cause, cap)) < 0)
		return -1;
	if ((offers = greeting(fd, cause, cap)) <= 0) {
		if (offers == 0)
			snprintf(cause, cap, "the server does not offer TLS");
		goto out;
	}
	req[0] = 32;
	req[1] = req[2] = 0;
	req[3] = 1;
	for (i = 0; i < 4; i++) {
		req[4 + i] = (uint8_t)(caps >> (8 * i));
		req[8 + i] = (uint8_t)(maxp >> (8 * i));
	}
	req[12] = 45; /* utf8mb4_general_ci */
	memcpy(req + 13, zeros, sizeof(zeros));
	if (send(fd, req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req)) {
		snprintf(cause, cap, "cannot send the TLS request: %s", strerror(errno));
		goto out;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		goto ssl_fail;
	if (o->tls_ca && *o->tls_ca && SSL_CTX_load_verify_locations(ctx, o->tls_ca, NULL) != 1)
		goto ssl_fail;
	if (o->tls_cert && *o->tls_cert &&
	    (SSL_CTX_use_certificate_chain_file(ctx, o->tls_cert) != 1 ||
	     SSL_CTX_use_PrivateKey_file(ctx, o->tls_key, SSL_FILETYPE_PEM) != 1))
		goto ssl_fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (!(ssl = SSL_new(ctx)) || SSL_set_fd(ssl, fd) != 1)
		goto ssl_fail;
	if (!is_ip(host))
		SSL_set_tlsext_host_name(ssl, host);
	if (SSL_connect(ssl) != 1)
		goto ssl_fail;
	cert = SSL_get_peer_certificate(ssl);
	if (!cert) {
		snprintf(cause, cap, "the server sent no certificate");
		goto out;
	}
	{
		long v = SSL_get_verify_result(ssl);
		out->chain_ok = v == X509_V_OK;
		if (!out->chain_ok)
			snprintf(out->chain_err, sizeof(out->chain_err), "%s", X509_verify_cert_error_string(v));
	}
	out->host_ok = is_ip(host) ? X509_check_ip_asc(cert, host, 0) == 1 : X509_check_host(cert, host, 0, 0, NULL) == 1;
	put_names(cert, out->names, sizeof(out->names));
	if (X509_digest(cert, EVP_sha1(), md, &mdn) == 1) {
		size_t used = 0;
		for (i = 0; i < mdn && used + 4 < sizeof(out->sha1); i++)
			used += (size_t)snprintf(out->sha1 + used, sizeof(out->sha1) - used, "%s%02X", i ? ":" : "", md[i]);
	}
	rc = 0;
	goto out;
ssl_fail: {
	unsigned long e = ERR_get_error();
	char buf[200];
	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(cause, cap, "TLS handshake: %s", e ? buf : "failed");
}
out:
	ERR_clear_error();
	if (cert)
		X509_free(cert);
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	close(fd);
	return rc;
}
