/*
 * cmd_server.c - `tidm server`: the job service (issue 14). Opens the job manager on the
 * data dir (service/manager.h), serves the HTTP API (http/server.h) until SIGTERM or
 * SIGINT, then stops serving and closes the manager, which pauses every running job at a
 * statement boundary; exit 0.
 *
 * Signals are blocked in every thread (the mask is set before any thread starts) and
 * taken by sigwait() here, so no handler runs inside a job or a request.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cmd.h"
#include "http/server.h"
#include "service/manager.h"
#include "util/err.h"
#include "util/log.h"

#define SECRET_FILE_MAX (1u << 20)

static int usage(void)
{
	fputs("usage: tidm server [--listen ADDR] --data-dir DIR [--token-file F] [--tls-cert F --tls-key F]\n"
	      "                   [--max-jobs N] [--sendmail PATH] [--log-format text|json]\n"
	      "  --listen ADDR      HOST:PORT to serve the API on (default 127.0.0.1:8261); an address\n"
	      "                     other than loopback needs --token-file\n"
	      "  --data-dir DIR     where the job store and its secret key live\n"
	      "  --token-file F     every API request must send \"Authorization: Bearer <token in F>\"\n"
	      "  --tls-cert F, --tls-key F   serve HTTPS with this PEM certificate chain and key\n"
	      "  --max-jobs N       most jobs the store holds (default 200)\n"
	      "  --sendmail PATH    the program e-mail alerts go through (default /usr/sbin/sendmail)\n"
	      "  --log-format F     text (default) or json: one JSON object per line (time, level, job, message)\n",
	      stderr);
	return TIDM_EXIT_USAGE;
}

/* Reads a whole small file (token, PEM). trim: drop trailing whitespace. */
static char *read_file(const char *what, const char *path, bool trim)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;
	struct stat st;

	if (!f) {
		fprintf(stderr, "tidm server: cannot read %s \"%s\": %s\n", what, path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && (size_t)st.st_size > SECRET_FILE_MAX) {
		fprintf(stderr, "tidm server: %s \"%s\" is larger than %u bytes\n", what, path, SECRET_FILE_MAX);
		fclose(f);
		return NULL;
	}
	if (!(buf = malloc(SECRET_FILE_MAX + 1)))
		goto fail;
	n = fread(buf, 1, SECRET_FILE_MAX, f);
	if (ferror(f)) {
		fprintf(stderr, "tidm server: cannot read %s \"%s\": %s\n", what, path, strerror(errno));
		goto fail;
	}
	buf[n] = '\0';
	if (trim)
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
			buf[--n] = '\0';
	if (strlen(buf) != n) {
		fprintf(stderr, "tidm server: %s \"%s\" contains a NUL byte\n", what, path);
		goto fail;
	}
	fclose(f);
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int tidm_cmd_server(int argc, char **argv)
{
	const char *listen = "127.0.0.1:8261", *data_dir = NULL, *token_file = NULL, *cert_file = NULL,
		   *key_file = NULL, *sendmail = NULL;
	char *token = NULL, *cert = NULL, *key = NULL, *end;
	unsigned long max_jobs = 0;
	tidm_manager_opts mo = {0};
	tidm_http_server_opts ho = {0};
	tidm_manager *m = NULL;
	tidm_http_server *srv = NULL;
	sigset_t set;
	struct stat st;
	int i, sig = 0, code = TIDM_EXIT_FAILED;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage();
		if (i + 1 >= argc || a[0] != '-') {
			fprintf(stderr, "tidm server: unexpected argument '%s'\n", a);
			return usage();
		}
		if (!strcmp(a, "--listen"))
			listen = argv[++i];
		else if (!strcmp(a, "--data-dir"))
			data_dir = argv[++i];
		else if (!strcmp(a, "--token-file"))
			token_file = argv[++i];
		else if (!strcmp(a, "--tls-cert"))
			cert_file = argv[++i];
		else if (!strcmp(a, "--tls-key"))
			key_file = argv[++i];
		else if (!strcmp(a, "--sendmail"))
			sendmail = argv[++i];
		else if (!strcmp(a, "--log-format")) {
			if (tidm_log_set_format_name(argv[++i]) < 0) {
				fprintf(stderr, "tidm server: --log-format \"%s\": expected text or json\n", argv[i]);
				return TIDM_EXIT_USAGE;
			}
		} else if (!strcmp(a, "--max-jobs")) {
			errno = 0;
			max_jobs = strtoul(argv[++i], &end, 10);
			if (errno || *end || !argv[i][0] || max_jobs == 0 || max_jobs > 1000000) {
				fprintf(stderr, "tidm server: --max-jobs \"%s\": expected a number 1..1000000\n", argv[i]);
				return TIDM_EXIT_USAGE;
			}
		} else {
			fprintf(stderr, "tidm server: unknown option '%s'\n", a);
			return usage();
		}
	}
	if (!data_dir) {
		fputs("tidm server: --data-dir is required\n", stderr);
		return usage();
	}
	if ((cert_file != NULL) != (key_file != NULL)) {
		fputs("tidm server: --tls-cert and --tls-key go together: give both, or neither\n", stderr);
		return TIDM_EXIT_USAGE;
	}
	if (token_file) {
		if (!(token = read_file("--token-file", token_file, true)))
			return TIDM_EXIT_USAGE;
		if (!token[0]) {
			fprintf(stderr, "tidm server: --token-file \"%s\" is empty; expected the bearer token\n", token_file);
			wipe_free(token);
			return TIDM_EXIT_USAGE;
		}
		if (stat(token_file, &st) == 0 && (st.st_mode & 077))
			tidm_warn("server: --token-file %s can be read by other users (mode %03o); chmod 600 it",
				  token_file, (unsigned)(st.st_mode & 0777));
	}
	if (cert_file && (!(cert = read_file("--tls-cert", cert_file, false)) ||
			  !(key = read_file("--tls-key", key_file, false)))) {
		code = TIDM_EXIT_USAGE;
		goto out;
	}

	/* Every thread started from here on (manager, HTTP) inherits the blocked signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	mo.data_dir = data_dir;
	mo.max_jobs = (unsigned)max_jobs;
	mo.sendmail = sendmail;
	if (tidm_manager_open(&m, &mo) < 0) {
		fprintf(stderr, "tidm server: %s\n", tidm_err_msg());
		goto out;
	}
	ho.listen = listen;
	ho.token = token;
	ho.tls_cert = cert;
	ho.tls_key = key;
	ho.manager = m;
	if (tidm_http_server_start(&srv, &ho) < 0) {
		code = tidm_err_code() == TIDM_EINVAL ? TIDM_EXIT_USAGE : TIDM_EXIT_FAILED;
		fprintf(stderr, "tidm server: %s\n", tidm_err_msg());
		goto out;
	}
	tidm_info("server: serving the API on %s://%s/api/v1 (data dir %s%s)", cert ? "https" : "http",
		  tidm_http_server_addr(srv), data_dir, token ? ", bearer token required" : "");
	while (sigwait(&set, &sig) != 0)
		;
	tidm_info("server: %s received: stopping (running jobs pause at a statement boundary)",
		  sig == SIGTERM ? "SIGTERM" : "SIGINT");
	code = TIDM_EXIT_OK;
out:
	tidm_http_server_stop(srv);
	if (m) {
		tidm_manager_close(m);
		if (code == TIDM_EXIT_OK)
			tidm_info("server: stopped");
	}
	wipe_free(token);
	wipe_free(cert);
	wipe_free(key);
	return code;
}
