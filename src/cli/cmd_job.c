/*
 * cmd_job.c - `tidm job`: the client of the job service (`tidm server`, issue 14). Each
 * subcommand is one or two requests to the HTTP API (docs/openapi.json) with libcurl.
 *
 *   create JOB.yaml [--start]   the job file is checked here first (job/config.h: the same
 *                               messages and exit 2 as `tidm migrate`), then sent as JSON
 *                               (libfyaml's JSON emitter) with password-env/password-file
 *                               resolved to "password" and TLS paths made absolute, so the
 *                               server needs neither the client's environment nor its
 *                               working directory
 *   list | show NAME | start|pause|resume|delete NAME | restart NAME [--replace-conflicts]
 *   scale NAME --apply-workers N [--dump-threads N] [--load-threads N] [--batch N]
 *   events NAME [--follow]      --follow polls once a second until Ctrl-C
 *   alerts add --webhook URL (--secret-file F | --secret-env VAR) | alerts add --email ADDR
 *   alerts list | alerts remove ID   the subscribers of the daemon's alerts (the secret is
 *                               read from a file or the environment, never the command line)
 * Options: --server URL (env TIDM_SERVER, default http://127.0.0.1:8261), --token-file F
 * (env TIDM_TOKEN_FILE), --format table|json (json prints the API's answers as they are).
 *
 * Exit codes (SPEC §7.2): 0 ok; 1 the API answered an error (its message on stderr) or
 * could not be reached; 2 bad usage or a job file the client or the server refuses
 * (400/422 on create); 3 the server refused because of a failed precheck (error code
 * "precheck_failed").
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libfyaml.h>

#include "cli/cmd.h"
#include "job/config.h"
#include "util/buf.h"
#include "util/err.h"

#define DEFAULT_SERVER "http://127.0.0.1:8261"

struct client {
	CURL *curl;
	char base[512];
	char *auth; /* "Authorization: Bearer ..." or NULL */
	bool json;
	bool color;
};

struct answer {
	long status;
	tidm_buf raw;
	json_t *json;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int usage(void)
{
	fputs("usage: tidm job create JOB.yaml [--start]\n"
	      "       tidm job list\n"
	      "       tidm job show|start|pause|resume|delete NAME\n"
	      "       tidm job restart NAME [--replace-conflicts]\n"
	      "       tidm job scale NAME [--apply-workers N] [--dump-threads N] [--load-threads N] [--batch N]\n"
	      "       tidm job events NAME [--follow]\n"
	      "       tidm job alerts add --webhook URL (--secret-file F | --secret-env VAR)\n"
	      "       tidm job alerts add --email ADDRESS\n"
	      "       tidm job alerts list | tidm job alerts remove ID\n"
	      "options: --server URL (env TIDM_SERVER, default " DEFAULT_SERVER ")\n"
	      "         --token-file F (env TIDM_TOKEN_FILE)   --format table|json\n",
	      stderr);
	return TIDM_EXIT_USAGE;
}

static size_t on_data(char *p, size_t size, size_t n, void *payload)
{
	tidm_buf_put(payload, p, size * n);
	return size * n;
}

static void answer_dispose(struct answer *a)
{
	json_decref(a->json);
	tidm_buf_dispose(&a->raw);
	memset(a, 0, sizeof(*a));
}

/* One request. Returns 0 with a->status and a->json (NULL when the body is not JSON), or
 * -1 after printing why the server could not be reached. */
static int api(struct client *c, const char *method, const char *path, const char *body, struct answer *a)
{
	struct curl_slist *h = NULL;
	char url[1024], errbuf[CURL_ERROR_SIZE] = "";
	CURLcode cc;

	memset(a, 0, sizeof(*a));
	snprintf(url, sizeof(url), "%s/api/v1%s", c->base, path);
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &a->raw);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	h = curl_slist_append(h, "Accept: application/json");
	h = curl_slist_append(h, "Expect:");
	if (body) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (c->auth)
		h = curl_slist_append(h, c->auth);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	cc = curl_easy_perform(c->curl);
	curl_slist_free_all(h);
	if (cc != CURLE_OK) {
		fprintf(stderr, "tidm job: cannot reach the job service at %s: %s; is `tidm server` running there? "
				"(--server URL or TIDM_SERVER)\n",
			c->base, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		return -1;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &a->status);
	if (a->raw.len)
		a->json = json_loadb(a->raw.data, a->raw.len, 0, NULL);
	return 0;
}

/* Prints an error answer; returns the exit code for it. */
static int api_failed(const struct answer *a, bool job_file)
{
	json_t *e = json_object_get(a->json, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *field = json_string_value(json_object_get(e, "field"));

	if (msg)
		fprintf(stderr, "tidm job: %s%s%s%s (HTTP %ld)\n", msg, field ? " [field " : "", field ? field : "",
			field ? "]" : "", a->status);
	else
		fprintf(stderr, "tidm job: the server answered HTTP %ld: %.*s\n", a->status,
			(int)(a->raw.len > 300 ? 300 : a->raw.len), a->raw.data ? a->raw.data : "");
	if (code && !strcmp(code, "precheck_failed"))
		return TIDM_EXIT_PRECHECK;
	if (job_file && (a->status == 400 || a->status == 422))
		return TIDM_EXIT_USAGE;
	return TIDM_EXIT_FAILED;
}

static void print_raw(const struct answer *a)
{
	fwrite(a->raw.data, 1, a->raw.len, stdout);
	if (a->raw.len && a->raw.data[a->raw.len - 1] != '\n')
		putchar('\n');
}

/* --- table output ------------------------------------------------------------------- */

static const char *state_color(const char *state)
{
	if (!state)
		return NULL;
	if (!strcmp(state, "running"))
		return "32";
	if (!strcmp(state, "paused"))
		return "33";
	if (!strcmp(state, "failed"))
		return "31";
	if (!strcmp(state, "finished"))
		return "36";
	if (!strcmp(state, "prechecking"))
		return "35";
	return NULL;
}

static const char *str_or(json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && s[0] ? s : def;
}

static void fmt_progress(json_t *job, char *out, size_t n)
{
	json_t *p = json_object_get(job, "progress"), *pct = json_object_get(p, "percent");
	json_t *rows = json_object_get(p, "rows");

	if (json_is_number(pct) && !json_is_integer(rows))
		snprintf(out, n, "%.1f%%", json_number_value(pct));
	else if (json_is_number(pct))
		snprintf(out, n, "%.1f%% %lld rows", json_number_value(pct), (long long)json_integer_value(rows));
	else if (json_is_integer(rows))
		snprintf(out, n, "%lld rows", (long long)json_integer_value(rows));
	else
		snprintf(out, n, "-");
}

static void fmt_lag(json_t *job, char *out, size_t n)
{
	json_t *l = json_object_get(job, "lag_seconds");
	if (json_is_number(l))
		snprintf(out, n, "%.1fs", json_number_value(l));
	else
		snprintf(out, n, "-");
}

static const char *last_error(json_t *job)
{
	json_t *e = json_object_get(job, "last_error");
	if (json_is_string(e))
		return json_string_value(e);
	return str_or(e, "message", NULL);
}

#define NCOLS 7

static void print_cell(const struct client *c, const char *s, int width, const char *color, bool last)
{
	if (color && c->color)
		printf("\033[%sm%s\033[0m", color, s);
	else
		fputs(s, stdout);
	if (!last)
		printf("%*s", width - (int)strlen(s) + 2, "");
}

static void print_list(const struct client *c, json_t *jobs)
{
	static const char *const head[NCOLS] = {"NAME", "TYPE", "STATE", "STAGE", "PROGRESS", "LAG", "LAST ERROR"};
	size_t n = json_array_size(jobs), i, k;
	char (*cells)[NCOLS][160];
	int w[NCOLS];

	if (n == 0) {
		puts("no jobs");
		return;
	}
	if (!(cells = calloc(n, sizeof(*cells))))
		return;
	for (k = 0; k < NCOLS; k++)
		w[k] = (int)strlen(head[k]);
	for (i = 0; i < n; i++) {
		json_t *j = json_array_get(jobs, i);
		const char *err = last_error(j);
		snprintf(cells[i][0], sizeof(cells[i][0]), "%s", str_or(j, "name", "?"));
		snprintf(cells[i][1], sizeof(cells[i][1]), "%s", str_or(j, "type", "-"));
		snprintf(cells[i][2], sizeof(cells[i][2]), "%s", str_or(j, "state", "-"));
		snprintf(cells[i][3], sizeof(cells[i][3]), "%s", str_or(j, "stage", "-"));
		fmt_progress(j, cells[i][4], sizeof(cells[i][4]));
		fmt_lag(j, cells[i][5], sizeof(cells[i][5]));
		snprintf(cells[i][6], sizeof(cells[i][6]), "%.80s", err ? err : "-");
		for (k = 0; k < NCOLS; k++)
			if ((int)strlen(cells[i][k]) > w[k])
				w[k] = (int)strlen(cells[i][k]);
	}
	for (k = 0; k < NCOLS; k++)
		print_cell(c, head[k], w[k], c->color ? "1" : NULL, k == NCOLS - 1);
	putchar('\n');
	for (i = 0; i < n; i++) {
		for (k = 0; k < NCOLS; k++)
			print_cell(c, cells[i][k], w[k], k == 2 ? state_color(cells[i][k]) : NULL, k == NCOLS - 1);
		putchar('\n');
	}
	free(cells);
}

static void print_kv(const char *key, const char *val)
{
	printf("%-12s %s\n", key, val);
}

static void print_job(const struct client *c, json_t *j)
{
	const char *state = str_or(j, "state", "-"), *color = state_color(state), *err;
	char buf[256];
	json_t *e = json_object_get(j, "last_error"), *v;
	const char *k;

	print_kv("name", str_or(j, "name", "?"));
	print_kv("type", str_or(j, "type", "-"));
	if (color && c->color)
		printf("%-12s \033[%sm%s\033[0m\n", "state", color, state);
	else
		print_kv("state", state);
	print_kv("stage", str_or(j, "stage", "-"));
	fmt_progress(j, buf, sizeof(buf));
	print_kv("progress", buf);
	fmt_lag(j, buf, sizeof(buf));
	print_kv("lag", buf);
	if ((v = json_object_get(j, "spec")) && json_is_object(v)) {
		tidm_buf b = TIDM_BUF_INIT;
		json_t *x;
		json_object_foreach(v, k, x) {
			if (json_is_integer(x))
				tidm_buf_printf(&b, "%s%s=%lld", b.len ? " " : "", k, (long long)json_integer_value(x));
		}
		print_kv("spec", b.len ? b.data : "-");
		tidm_buf_dispose(&b);
	}
	if ((v = json_object_get(j, "positions")) && json_is_object(v) && json_object_size(v)) {
		char *s = json_dumps(v, JSON_COMPACT);
		print_kv("positions", s ? s : "-");
		free(s);
	}
	err = last_error(j);
	print_kv("last error", err ? err : "-");
	if (err && json_is_string(json_object_get(e, "cause")))
		print_kv("  cause", json_string_value(json_object_get(e, "cause")));
}

static void print_events(json_t *events, int64_t *last_id)
{
	size_t i;
	json_t *e;

	json_array_foreach(events, i, e) {
		time_t t = (time_t)json_integer_value(json_object_get(e, "time"));
		const char *cause = str_or(e, "cause", NULL);
		struct tm tm;
		char ts[32] = "-";
		if (gmtime_r(&t, &tm))
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("%s  %-7s %-10s %s%s%s%s\n", ts, str_or(e, "level", "-"), str_or(e, "kind", "-"),
		       str_or(e, "message", ""), cause ? " (" : "", cause ? cause : "", cause ? ")" : "");
		*last_id = json_integer_value(json_object_get(e, "id"));
	}
	fflush(stdout);
}

/* --- create ------------------------------------------------------------------------- */

/* The job file as a JSON body: passwords resolved, TLS paths absolute (from cfg). */
static char *job_body(const char *path, const tidm_job_config *cfg, bool *has_start)
{
	static const char *const sides[] = {"source", "target"};
	struct fy_document *doc;
	char *text, *out = NULL;
	json_t *root;
	json_error_t je;
	size_t i;

	if (!(doc = fy_document_build_from_file(NULL, path))) {
		fprintf(stderr, "tidm job: %s: cannot read the job file as YAML\n", path);
		return NULL;
	}
	text = fy_emit_document_to_string(doc, FYECF_MODE_JSON | FYECF_NO_ENDING_NEWLINE);
	fy_document_destroy(doc);
	if (!text || !(root = json_loads(text, 0, &je))) {
		fprintf(stderr, "tidm job: %s: cannot turn the job file into JSON%s%s\n", path, text ? ": " : "",
			text ? je.text : "");
		free(text);
		return NULL;
	}
	free(text);
	for (i = 0; i < 2; i++) {
		const tidm_endpoint *ep = i == 0 ? &cfg->source : &cfg->target;
		json_t *side = json_object_get(root, sides[i]), *tls;
		if (!json_is_object(side))
			continue;
		json_object_del(side, "password-env");
		json_object_del(side, "password-file");
		json_object_set_new(side, "password", json_string(ep->password ? ep->password : ""));
		if ((tls = json_object_get(side, "tls")) && json_is_object(tls)) {
			if (ep->tls_ca)
				json_object_set_new(tls, "ca", json_string(ep->tls_ca));
			if (ep->tls_cert)
				json_object_set_new(tls, "cert", json_string(ep->tls_cert));
			if (ep->tls_key)
				json_object_set_new(tls, "key", json_string(ep->tls_key));
		}
	}
	*has_start = json_object_get(root, "start") != NULL;
	out = json_dumps(root, JSON_COMPACT);
	json_decref(root); /* jansson does not wipe; the password copy lives only briefly */
	return out;
}

static int cmd_create(struct client *c, const char *path, bool start)
{
	tidm_job_config *cfg = NULL;
	struct answer a;
	char *body, *name_esc = NULL, p[256];
	bool has_start = false, start_after = false;
	int code = TIDM_EXIT_OK;

	if (tidm_job_config_load(&cfg, path) < 0) {
		fprintf(stderr, "tidm job: %s\n", tidm_err_msg());
		return TIDM_EXIT_USAGE;
	}
	body = job_body(path, cfg, &has_start);
	if (!body) {
		tidm_job_config_free(cfg);
		return TIDM_EXIT_USAGE;
	}
	if (start && !has_start) {
		/* "start": true in the body starts it in the same request */
		size_t n = strlen(body);
		char *b2 = realloc(body, n + 16);
		if (b2) {
			body = b2;
			memcpy(body + n - 1, ",\"start\":true}", 15);
		}
	} else if (start) {
		start_after = true; /* `start` is the start position here */
	}
	if (api(c, "POST", "/jobs", body, &a) < 0)
		code = TIDM_EXIT_FAILED;
	explicit_bzero(body, strlen(body));
	free(body);
	if (code != TIDM_EXIT_OK)
		goto out;
	if (a.status != 201) {
		code = api_failed(&a, true);
		answer_dispose(&a);
		goto out;
	}
	if (start_after) {
		answer_dispose(&a);
		name_esc = curl_easy_escape(c->curl, cfg->name, 0);
		snprintf(p, sizeof(p), "/jobs/%s/start", name_esc ? name_esc : cfg->name);
		if (api(c, "POST", p, NULL, &a) < 0) {
			code = TIDM_EXIT_FAILED;
			goto out;
		}
		if (a.status != 200) {
			code = api_failed(&a, false);
			answer_dispose(&a);
			goto out;
		}
	}
	if (c->json)
		print_raw(&a);
	else
		printf("job %s created%s: state %s\n", cfg->name, start ? " and started" : "",
		       str_or(a.json, "state", "?"));
	answer_dispose(&a);
out:
	curl_free(name_esc);
	tidm_job_config_free(cfg);
	return code;
}

/* --- the rest ------------------------------------------------------------------------ */

static int simple(struct client *c, const char *method, const char *path, const char *body, const char *verb,
		  const char *name)
{
	struct answer a;
	int code = TIDM_EXIT_OK;

	if (api(c, method, path, body, &a) < 0)
		return TIDM_EXIT_FAILED;
	if (a.status != 200)
		code = api_failed(&a, false);
	else if (c->json)
		print_raw(&a);
	else if (!strcmp(verb, "list"))
		print_list(c, json_object_get(a.json, "jobs"));
	else if (!strcmp(verb, "show"))
		print_job(c, a.json);
	else if (!strcmp(verb, "delete"))
		printf("job %s deleted\n", name);
	else {
		const char *stage = str_or(a.json, "stage", NULL), *state = str_or(a.json, "state", "?");
		const char *color = c->color ? state_color(state) : NULL;
		printf("job %s: %s; state %s%s%s%s%s\n", name, verb, color ? "\033[" : "", color ? color : "",
		       color ? "m" : "", state, color ? "\033[0m" : "");
		if (stage)
			printf("  stage %s\n", stage);
	}
	answer_dispose(&a);
	return code;
}

/* --- alerts ------------------------------------------------------------------------- */

struct alert_args {
	const char *webhook, *email, *secret_file, *secret_env;
};

/* The shared secret of a webhook, from a file (trailing newline dropped) or a variable. */
static char *alert_secret(const struct alert_args *aa)
{
	char buf[2048];
	size_t n;
	FILE *f;

	if (aa->secret_env) {
		const char *v = getenv(aa->secret_env);
		if (!v || !v[0]) {
			fprintf(stderr, "tidm job alerts add: --secret-env %s: the variable is not set or empty\n",
				aa->secret_env);
			return NULL;
		}
		return strdup(v);
	}
	if (!(f = fopen(aa->secret_file, "rb"))) {
		fprintf(stderr, "tidm job alerts add: cannot read --secret-file \"%s\": %s\n", aa->secret_file,
			strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (!n || strlen(buf) != n) {
		fprintf(stderr, "tidm job alerts add: --secret-file \"%s\" holds no secret\n", aa->secret_file);
		return NULL;
	}
	{
		char *s = strdup(buf);
		explicit_bzero(buf, sizeof(buf));
		return s;
	}
}

static void print_sub(json_t *s)
{
	const char *kind = str_or(s, "kind", "?");
	printf("%-4lld %-8s %s%s\n", (long long)json_integer_value(json_object_get(s, "id")), kind,
	       str_or(s, !strcmp(kind, "email") ? "address" : "url", "?"),
	       json_is_true(json_object_get(s, "has_secret")) ? "  (signed)" : "");
}

static int cmd_alerts(struct client *c, const char *verb, const char *id, const struct alert_args *aa)
{
	struct answer a;
	char path[256], *body = NULL, *secret = NULL;
	int code = TIDM_EXIT_OK;
	long want = 200;

	if (!strcmp(verb, "add")) {
		json_t *o;
		if (id || !aa->webhook == !aa->email || (aa->email && (aa->secret_file || aa->secret_env)) ||
		    (aa->webhook && !aa->secret_file == !aa->secret_env)) {
			fputs("tidm job alerts add: give --webhook URL with one of --secret-file F, --secret-env VAR; or "
			      "--email ADDRESS\n",
			      stderr);
			return usage();
		}
		if (aa->webhook && !(secret = alert_secret(aa)))
			return TIDM_EXIT_USAGE;
		o = aa->webhook ? json_pack("{s:s, s:s, s:s}", "kind", "webhook", "url", aa->webhook, "secret", secret)
				: json_pack("{s:s, s:s}", "kind", "email", "address", aa->email);
		body = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (secret) {
			explicit_bzero(secret, strlen(secret));
			free(secret);
		}
		if (!body)
			return TIDM_EXIT_FAILED;
		snprintf(path, sizeof(path), "/alerts/subscriptions");
		want = 201;
	} else if (!strcmp(verb, "list")) {
		if (id || aa->webhook || aa->email || aa->secret_file || aa->secret_env)
			return usage();
		snprintf(path, sizeof(path), "/alerts/subscriptions");
	} else if (!strcmp(verb, "remove")) {
		char *esc;
		if (!id || aa->webhook || aa->email || aa->secret_file || aa->secret_env)
			return usage();
		if (!(esc = curl_easy_escape(c->curl, id, 0)))
			return TIDM_EXIT_FAILED;
		snprintf(path, sizeof(path), "/alerts/subscriptions/%s", esc);
		curl_free(esc);
	} else {
		fprintf(stderr, "tidm job alerts: unknown subcommand '%s'; expected add, list or remove\n", verb);
		return usage();
	}
	if (api(c, !strcmp(verb, "add") ? "POST" : !strcmp(verb, "list") ? "GET" : "DELETE", path, body, &a) < 0) {
		if (body)
			explicit_bzero(body, strlen(body));
		free(body);
		return TIDM_EXIT_FAILED;
	}
	if (body)
		explicit_bzero(body, strlen(body));
	free(body);
	if (a.status != want)
		code = api_failed(&a, false);
	else if (c->json)
		print_raw(&a);
	else if (!strcmp(verb, "add"))
		print_sub(a.json);
	else if (!strcmp(verb, "remove"))
		printf("alert subscription %s removed\n", id);
	else {
		json_t *subs = json_object_get(a.json, "subscriptions"), *s;
		size_t k;
		if (!json_array_size(subs))
			puts("no alert subscriptions");
		json_array_foreach(subs, k, s)
			print_sub(s);
	}
	answer_dispose(&a);
	return code;
}

static int cmd_events(struct client *c, const char *name_esc, bool follow)
{
	struct answer a;
	int64_t last = 0;
	char p[512];
	struct sigaction sa;

	if (follow) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigint;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	do {
		json_t *events, *e;
		size_t i;
		snprintf(p, sizeof(p), "/jobs/%s/events?after=%lld&limit=1000", name_esc, (long long)last);
		if (api(c, "GET", p, NULL, &a) < 0)
			return interrupted ? TIDM_EXIT_OK : TIDM_EXIT_FAILED;
		if (a.status != 200) {
			int code = api_failed(&a, false);
			answer_dispose(&a);
			return code;
		}
		events = json_object_get(a.json, "events");
		if (c->json && !follow) {
			print_raw(&a);
		} else if (c->json) {
			json_array_foreach(events, i, e) {
				char *s = json_dumps(e, JSON_COMPACT);
				if (s)
					puts(s);
				free(s);
				last = json_integer_value(json_object_get(e, "id"));
			}
			fflush(stdout);
		} else {
			print_events(events, &last);
		}
		i = json_array_size(events);
		answer_dispose(&a);
		if (i == 1000)
			continue; /* more at once */
		if (!follow)
			break;
		for (i = 0; i < 10 && !interrupted; i++)
			usleep(100000);
	} while (!interrupted);
	return TIDM_EXIT_OK;
}

static int read_token(struct client *c, const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "rb");
	tidm_buf b = TIDM_BUF_INIT;

	if (!f) {
		fprintf(stderr, "tidm job: cannot read --token-file \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	if (!n || strlen(buf) != n) {
		fprintf(stderr, "tidm job: --token-file \"%s\" holds no token\n", path);
		return -1;
	}
	tidm_buf_printf(&b, "Authorization: Bearer %s", buf);
	explicit_bzero(buf, sizeof(buf));
	c->auth = tidm_buf_detach(&b);
	return 0;
}

static int parse_count(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || !*s || *end || *out < lo || *out > hi) {
		fprintf(stderr, "tidm job: %s \"%s\": expected a number %ld..%ld\n", opt, s, lo, hi);
		return -1;
	}
	return 0;
}

int tidm_cmd_job(int argc, char **argv)
{
	static const char *const scale_opts[] = {"--apply-workers", "--dump-threads", "--load-threads", "--batch"};
	const char *server = getenv("TIDM_SERVER"), *token_file = getenv("TIDM_TOKEN_FILE"), *format = "table";
	const char *pos[3] = {NULL, NULL, NULL};
	bool start = false, replace = false, follow = false;
	json_t *spec = json_object();
	struct alert_args aa = {0};
	struct client c = {0};
	char path[512], *name_esc = NULL, *body = NULL;
	const char *sub, *name;
	size_t npos = 0, k;
	int i, code = TIDM_EXIT_USAGE;
	long v;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			goto usage;
		if (!strcmp(a, "--start"))
			start = true;
		else if (!strcmp(a, "--replace-conflicts"))
			replace = true;
		else if (!strcmp(a, "--follow"))
			follow = true;
		else if (a[0] == '-' && a[1] == '-') {
			if (i + 1 >= argc) {
				fprintf(stderr, "tidm job: %s needs a value\n", a);
				goto usage;
			}
			if (!strcmp(a, "--server"))
				server = argv[++i];
			else if (!strcmp(a, "--token-file"))
				token_file = argv[++i];
			else if (!strcmp(a, "--format"))
				format = argv[++i];
			else if (!strcmp(a, "--webhook"))
				aa.webhook = argv[++i];
			else if (!strcmp(a, "--email"))
				aa.email = argv[++i];
			else if (!strcmp(a, "--secret-file"))
				aa.secret_file = argv[++i];
			else if (!strcmp(a, "--secret-env"))
				aa.secret_env = argv[++i];
			else {
				for (k = 0; k < 4; k++)
					if (!strcmp(a, scale_opts[k]))
						break;
				if (k == 4) {
					fprintf(stderr, "tidm job: unknown option '%s'\n", a);
					goto usage;
				}
				if (parse_count(a, argv[++i], 1, k == 3 ? 100000 : 64, &v) < 0)
					goto out;
				json_object_set_new(spec, a + 2, json_integer(v));
			}
		} else if (npos < 3) {
			pos[npos++] = a;
		} else {
			fprintf(stderr, "tidm job: unexpected argument '%s'\n", a);
			goto usage;
		}
	}
	if (!(sub = pos[0]))
		goto usage;
	name = pos[1];
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0) {
		fprintf(stderr, "tidm job: --format \"%s\": expected table or json\n", format);
		goto usage;
	}
	if (strcmp(sub, "alerts") != 0 && (aa.webhook || aa.email || aa.secret_file || aa.secret_env)) {
		fprintf(stderr, "tidm job %s: --webhook, --email, --secret-file and --secret-env go with `alerts add`\n", sub);
		goto usage;
	}
	if (!strcmp(sub, "alerts") ? npos < 2 || start || replace || follow || json_object_size(spec)
	    : (!strcmp(sub, "list") ? npos != 1 : npos != 2) || (start && strcmp(sub, "create") != 0) ||
	    (replace && strcmp(sub, "restart") != 0) || (follow && strcmp(sub, "events") != 0) ||
	    (json_object_size(spec) && strcmp(sub, "scale") != 0)) {
		fprintf(stderr, "tidm job %s: wrong arguments\n", sub);
		goto usage;
	}
	if (!strcmp(sub, "scale") && !json_object_size(spec)) {
		fputs("tidm job scale: say what to change: --apply-workers N, --dump-threads N, --load-threads N, --batch N\n",
		      stderr);
		goto usage;
	}
	c.json = !strcmp(format, "json");
	c.color = !c.json && isatty(1) && !getenv("NO_COLOR");
	snprintf(c.base, sizeof(c.base), "%s", server && server[0] ? server : DEFAULT_SERVER);
	while (strlen(c.base) > 0 && c.base[strlen(c.base) - 1] == '/')
		c.base[strlen(c.base) - 1] = '\0';
	if (token_file && token_file[0] && read_token(&c, token_file) < 0)
		goto out;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!(c.curl = curl_easy_init())) {
		fputs("tidm job: cannot initialise libcurl\n", stderr);
		code = TIDM_EXIT_FAILED;
		goto out;
	}
	if (!strcmp(sub, "alerts")) {
		code = cmd_alerts(&c, pos[1], pos[2], &aa);
		goto out;
	}
	if (name && !(name_esc = curl_easy_escape(c.curl, name, 0))) {
		code = TIDM_EXIT_FAILED;
		goto out;
	}
	snprintf(path, sizeof(path), "/jobs/%s", name_esc ? name_esc : "");
	if (!strcmp(sub, "create"))
		code = cmd_create(&c, name, start);
	else if (!strcmp(sub, "list"))
		code = simple(&c, "GET", "/jobs", NULL, "list", NULL);
	else if (!strcmp(sub, "show"))
		code = simple(&c, "GET", path, NULL, "show", name);
	else if (!strcmp(sub, "delete"))
		code = simple(&c, "DELETE", path, NULL, "delete", name);
	else if (!strcmp(sub, "events"))
		code = cmd_events(&c, name_esc, follow);
	else if (!strcmp(sub, "start") || !strcmp(sub, "pause") || !strcmp(sub, "resume") ||
		 !strcmp(sub, "restart") || !strcmp(sub, "scale")) {
		if (!strcmp(sub, "restart"))
			body = strdup(replace ? "{\"replace_conflicts\":true}" : "{\"replace_conflicts\":false}");
		else if (!strcmp(sub, "scale"))
			body = json_dumps(spec, JSON_COMPACT);
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", sub);
		code = simple(&c, "POST", path, body, sub, name);
	} else {
		fprintf(stderr, "tidm job: unknown subcommand '%s'\n", sub);
		goto usage;
	}
	goto out;
usage:
	code = usage();
out:
	free(body);
	curl_free(name_esc);
	if (c.curl)
		curl_easy_cleanup(c.curl);
	if (c.auth) {
		explicit_bzero(c.auth, strlen(c.auth));
		free(c.auth);
	}
	json_decref(spec);
	return code;
}
