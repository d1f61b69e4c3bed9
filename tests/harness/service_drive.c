/*
 * service_drive.c - drives the job manager (service/manager.h) in-process for integration
 * tests, one command per line on stdin, one answer line on stdout ("ok ..." or
 * "err CODE message"):
 *   open | close                      the manager on DATA_DIR (argv[1]); close = a clean SIGTERM
 *   create FILE.yaml [start]          the job file converted to JSON (libfyaml), POSTed
 *   start|pause|resume|delete NAME    restart NAME [replace]
 *   scale NAME KEY=N                  get NAME (the answer's JSON)   events NAME
 *   wait NAME STATE/STAGE SECONDS     polls get until "state/stage" (stage "-" when null)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libfyaml.h>

#include "service/manager.h"
#include "util/err.h"
#include "util/log.h"

static tidm_manager *m;
static const char *data_dir;

static void answer(int rc, json_t *o)
{
	if (rc < 0) {
		printf("err %s %s\n", tidm_err_name(rc), tidm_err_msg());
	} else {
		char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
		printf("ok%s%s\n", t ? " " : "", t ? t : "");
		free(t);
	}
	json_decref(o);
	fflush(stdout);
}

static int create(const char *file, bool start, json_t **out)
{
	struct fy_document *fyd = fy_document_build_from_file(NULL, file);
	char *json;
	int rc;

	if (!fyd)
		return tidm_err_set(TIDM_EINVAL, "cannot read %s", file);
	json = fy_emit_document_to_string(fyd, FYECF_MODE_JSON_ONELINE);
	fy_document_destroy(fyd);
	if (start) {
		/* {"name"... -> {"start":true,"name"... */
		char *b = malloc(strlen(json) + 16);
		sprintf(b, "{\"start\":true,%s", json + 1);
		free(json);
		json = b;
	}
	rc = tidm_manager_create(m, json, strlen(json), out);
	free(json);
	return rc;
}

static const char *state_of(const char *name, char *buf, size_t n)
{
	json_t *o = NULL;
	if (tidm_manager_get(m, name, &o) < 0)
		return "gone";
	json_t *st = json_object_get(o, "stage");
	snprintf(buf, n, "%s/%s", json_string_value(json_object_get(o, "state")), json_is_string(st) ? json_string_value(st) : "-");
	json_decref(o);
	return buf;
}

int main(int argc, char **argv)
{
	char line[4096], a[1024], b[1024], c[64];
	tidm_manager_opts opts = {0};

	if (argc != 2) {
		fprintf(stderr, "usage: %s DATA_DIR < commands\n", argv[0]);
		return 2;
	}
	data_dir = argv[1];
	opts.data_dir = data_dir;
	opts.retry_first_ms = 200;
	opts.retry_max_ms = 2000;
	tidm_log_set_level(TIDM_LOG_INFO);
	while (fgets(line, sizeof(line), stdin)) {
		json_t *o = NULL;
		int n;
		line[strcspn(line, "\n")] = '\0';
		a[0] = b[0] = c[0] = '\0';
		n = sscanf(line, "%*s %1023s %1023s %63s", a, b, c);
		(void)n;
		if (!strncmp(line, "open", 4)) {
			answer(tidm_manager_open(&m, &opts), NULL);
		} else if (!strncmp(line, "close", 5)) {
			tidm_manager_close(m);
			m = NULL;
			answer(0, NULL);
		} else if (!strncmp(line, "create ", 7)) {
			int rc = create(a, !strcmp(b, "start"), &o);
			answer(rc, rc < 0 ? NULL : json_pack("{ss}", "state", json_string_value(json_object_get(o, "state"))));
			json_decref(o);
		} else if (!strncmp(line, "start ", 6)) {
			answer(tidm_manager_start(m, a, &o), NULL), json_decref(o);
		} else if (!strncmp(line, "pause ", 6)) {
			answer(tidm_manager_pause(m, a, &o), NULL), json_decref(o);
		} else if (!strncmp(line, "resume ", 7)) {
			answer(tidm_manager_resume(m, a, &o), NULL), json_decref(o);
		} else if (!strncmp(line, "restart ", 8)) {
			answer(tidm_manager_restart(m, a, !strcmp(b, "replace"), &o), NULL), json_decref(o);
		} else if (!strncmp(line, "delete ", 7)) {
			answer(tidm_manager_delete(m, a), NULL);
		} else if (!strncmp(line, "scale ", 6)) {
			char *eq = strchr(b, '=');
			json_t *spec = json_object();
			if (eq) {
				*eq = '\0';
				json_object_set_new(spec, b, json_integer(atoll(eq + 1)));
			}
			answer(tidm_manager_scale(m, a, spec, &o), NULL), json_decref(o);
			json_decref(spec);
		} else if (!strncmp(line, "get ", 4)) {
			int rc = tidm_manager_get(m, a, &o);
			answer(rc, o);
		} else if (!strncmp(line, "events ", 7)) {
			int rc = tidm_manager_events(m, a, 0, 1000, &o);
			answer(rc, o);
		} else if (!strncmp(line, "wait ", 5)) {
			char buf[64];
			double limit = atof(c);
			struct timespec t0, t;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			for (;;) {
				if (!strcmp(state_of(a, buf, sizeof(buf)), b)) {
					answer(0, NULL);
					break;
				}
				clock_gettime(CLOCK_MONOTONIC, &t);
				if ((double)(t.tv_sec - t0.tv_sec) > limit) {
					printf("err TIMEOUT job %s is %s, waited %s s for %s\n", a, buf, c, b);
					fflush(stdout);
					break;
				}
				nanosleep(&(struct timespec){0, 100000000L}, NULL);
			}
		} else {
			printf("err EINVAL unknown command: %s\n", line);
			fflush(stdout);
		}
	}
	tidm_manager_close(m);
	return 0;
}
