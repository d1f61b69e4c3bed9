/*
 * tlsfiles.c - TLS files given as text through the API (the console's certificate
 * uploads): kept in DATA_DIR/tls/ and answered as a path for the tls members of a
 * connection or a job (SPEC §2: CA only, client certificate + key, or all three).
 *
 * DESIGN
 * A connection (db/conn.h) takes file paths, as the job file does; the browser has file
 * contents. Rather than teach every layer a second form, the service writes the text to a
 * file once and the rest of tidm sees an ordinary path. The file is named by the BLAKE2b
 * hash of its kind and bytes (the same upload twice is the same file; nobody can pick a
 * name), written to a temporary name with mode 0600 and renamed into place. Only PEM of
 * the announced kind is accepted (a CA or certificate holds "-----BEGIN CERTIFICATE-----",
 * a key "-----BEGIN ... PRIVATE KEY-----"); the bytes themselves are checked by the TLS
 * library when a connection uses them, whose message then names the file.
 */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "service/manager_int.h"
#include "util/err.h"

#define TLS_MAX_PEM (256 * 1024)

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int tidm_manager_save_tls(tidm_manager *m, const char *body, size_t len, json_t **out)
{
	json_error_t jerr;
	json_t *b, *jk, *jp;
	const char *kind, *pem;
	size_t pem_len;
	unsigned char hash[16];
	char hex[33], dir[4096], path[4200], tmp[4300];
	int fd, rc = 0;

	mgr_err_begin();
	*out = NULL;
	if (!(b = json_loadb(body ? body : "", len, 0, &jerr)) || !json_is_object(b)) {
		mgr_err_field(NULL, true);
		rc = tidm_err_set(TIDM_EINVAL, "the body must be a JSON object {\"kind\": \"ca|cert|key\", \"pem\": \"...\"}%s%s",
				  b ? "" : ": ", b ? "" : jerr.text);
		json_decref(b);
		return rc;
	}
	jk = json_object_get(b, "kind");
	jp = json_object_get(b, "pem");
	kind = json_string_value(jk);
	if (!kind || (strcmp(kind, "ca") != 0 && strcmp(kind, "cert") != 0 && strcmp(kind, "key") != 0)) {
		mgr_err_field("kind", false);
		rc = tidm_err_set(TIDM_EINVAL, "\"kind\" must be \"ca\", \"cert\" or \"key\"");
		goto out;
	}
	pem = json_string_value(jp);
	pem_len = pem ? json_string_length(jp) : 0;
	if (!pem || pem_len == 0 || pem_len > TLS_MAX_PEM || memchr(pem, '\0', pem_len)) {
		mgr_err_field("pem", false);
		rc = tidm_err_set(TIDM_EINVAL, "\"pem\" must be the text of a PEM file (at most %d KiB)", TLS_MAX_PEM / 1024);
		goto out;
	}
	if (!strcmp(kind, "key") ? !(strstr(pem, "-----BEGIN ") && strstr(pem, "PRIVATE KEY-----"))
				 : !strstr(pem, "-----BEGIN CERTIFICATE-----")) {
		mgr_err_field("pem", false);
		rc = tidm_err_set(TIDM_EINVAL, "this file is not a PEM %s: expected a line \"-----BEGIN %s-----\"",
				  !strcmp(kind, "key") ? "private key" : "certificate",
				  !strcmp(kind, "key") ? "PRIVATE KEY" : "CERTIFICATE");
		goto out;
	}
	{
		crypto_generichash_state st;
		crypto_generichash_init(&st, NULL, 0, sizeof(hash));
		crypto_generichash_update(&st, (const unsigned char *)kind, strlen(kind) + 1);
		crypto_generichash_update(&st, (const unsigned char *)pem, pem_len);
		crypto_generichash_final(&st, hash, sizeof(hash));
	}
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	snprintf(dir, sizeof(dir), "%s/tls", m->data_dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = tidm_err_set(TIDM_ERROR, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s-%s.pem", dir, kind, hex);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) { /* mode 0600 */
		rc = tidm_err_set(TIDM_ERROR, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, pem, pem_len) < 0 || fsync(fd) < 0) {
		rc = tidm_err_set(TIDM_ERROR, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		rc = tidm_err_set(TIDM_ERROR, "cannot rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	*out = json_pack("{ss ss}", "kind", kind, "path", path);
out:
	json_decref(b);
	return rc;
}
