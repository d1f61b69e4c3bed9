/*
 * cmd_verify.c - `tidm verify JOB.yaml [--tables db.t,...] [--repair-sql FILE]
 * [--format table|json]`: compares the job's tables on the source and the target
 * (verify/verify.h) and prints every difference.
 *
 * Exit codes (SPEC §7.2): 0 every selected table is equal; 1 a difference, a table that
 * could not be compared, rows that never held still while the job synced (unsettled), or
 * a failure (message on stderr); 2 bad usage or job file. Ctrl-C stops it (exit 1).
 * The table goes to stdout; --format json prints
 *   {"equal": bool, "online": bool, "seconds": n, "repair_statements": n,
 *    "tables": [{"table": "db.t", "state": "equal|different|unsettled|error", "keyless",
 *                "rows", "chunks", "differing_rows", "unsettled_rows", "rechecked_rows", "error"?,
 *                "differences": [{"side": "missing|extra|changed", "key", "columns"?, "rows"}]}]}
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "job/config.h"
#include "util/err.h"
#include "util/log.h"
#include "verify/verify.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int usage(void)
{
	fputs("usage: tidm verify JOB.yaml [--tables db.table,...] [--repair-sql FILE] [--format table|json]\n", stderr);
	return TIDM_EXIT_USAGE;
}

static const char *side_name(enum tidm_verify_side s)
{
	return s == TIDM_VERIFY_MISSING ? "missing" : s == TIDM_VERIFY_EXTRA ? "extra" : "changed";
}

static void print_table(const tidm_verify_report *r)
{
	size_t i, j, eq = 0, diff = 0, other = 0;
	uint64_t rows = 0;

	printf("%-40s %-10s %12s %8s %10s\n", "TABLE", "STATE", "ROWS", "CHUNKS", "DIFFERING");
	for (i = 0; i < r->ntables; i++) {
		const tidm_verify_table_report *t = &r->tables[i];
		char name[160];
		snprintf(name, sizeof(name), "%s.%s", t->db, t->table);
		printf("%-40s %-10s %12" PRIu64 " %8" PRIu64 " %10" PRIu64 "\n", name, tidm_verify_state_name(t->state),
		       t->rows_source, t->chunks, t->differing_rows);
		if (t->error)
			printf("  error: %s\n", t->error);
		for (j = 0; j < t->ndiffs; j++)
			printf("  %-8s %s%s%s\n", side_name(t->diffs[j].side), t->diffs[j].key,
			       t->diffs[j].columns ? "  differs in " : "", t->diffs[j].columns ? t->diffs[j].columns : "");
		if (t->ndiffs == TIDM_VERIFY_MAX_DIFFS)
			printf("  (the first %d differences are shown)\n", TIDM_VERIFY_MAX_DIFFS);
		if (t->unsettled_rows)
			printf("  %" PRIu64 " rows neither proven equal nor different while the job synced (still changing, "
			       "or the applier behind: see the log)\n",
			       t->unsettled_rows);
		if (t->state == TIDM_VERIFY_EQUAL)
			eq++;
		else if (t->state == TIDM_VERIFY_DIFFERENT)
			diff++;
		else
			other++;
		rows += t->differing_rows;
	}
	printf("verify: %zu tables, %zu equal, %zu different (%" PRIu64 " rows), %zu unsettled or in error; %.1f s, %s\n",
	       r->ntables, eq, diff, rows, other, r->seconds, r->online ? "online (the job is syncing)" : "offline");
}

static void print_json(const tidm_verify_report *r)
{
	json_t *root = json_object(), *tables = json_array();
	size_t i, j;
	char *text;

	json_object_set_new(root, "equal", json_boolean(tidm_verify_report_equal(r)));
	json_object_set_new(root, "online", json_boolean(r->online));
	json_object_set_new(root, "seconds", json_real(r->seconds));
	json_object_set_new(root, "repair_statements", json_integer((json_int_t)r->repair_statements));
	for (i = 0; i < r->ntables; i++) {
		const tidm_verify_table_report *t = &r->tables[i];
		json_t *o = json_object(), *diffs = json_array();
		char name[160];
		snprintf(name, sizeof(name), "%s.%s", t->db, t->table);
		json_object_set_new(o, "table", json_string(name));
		json_object_set_new(o, "state", json_string(tidm_verify_state_name(t->state)));
		json_object_set_new(o, "keyless", json_boolean(t->keyless));
		json_object_set_new(o, "rows", json_integer((json_int_t)t->rows_source));
		json_object_set_new(o, "chunks", json_integer((json_int_t)t->chunks));
		json_object_set_new(o, "differing_rows", json_integer((json_int_t)t->differing_rows));
		json_object_set_new(o, "unsettled_rows", json_integer((json_int_t)t->unsettled_rows));
		json_object_set_new(o, "rechecked_rows", json_integer((json_int_t)t->rechecked_rows));
		if (t->error)
			json_object_set_new(o, "error", json_string(t->error));
		for (j = 0; j < t->ndiffs; j++) {
			json_t *d = json_object();
			json_object_set_new(d, "side", json_string(side_name(t->diffs[j].side)));
			json_object_set_new(d, "key", json_string(t->diffs[j].key));
			if (t->diffs[j].columns)
				json_object_set_new(d, "columns", json_string(t->diffs[j].columns));
			json_object_set_new(d, "rows", json_integer((json_int_t)t->diffs[j].rows));
			json_array_append_new(diffs, d);
		}
		json_object_set_new(o, "differences", diffs);
		json_array_append_new(tables, o);
	}
	json_object_set_new(root, "tables", tables);
	text = json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (text)
		puts(text);
	free(text);
	json_decref(root);
}

/* "db.t,db.u" -> array of strings (in place) */
static size_t split_tables(char *list, char ***out)
{
	size_t n = 0;
	char *p = list, *tok, *save = NULL;
	char **v = NULL;

	while ((tok = strtok_r(p, ",", &save)) != NULL) {
		char **grown = realloc(v, (n + 1) * sizeof(*v));
		if (!grown)
			abort();
		v = grown;
		v[n++] = tok;
		p = NULL;
	}
	*out = v;
	return n;
}

int tidm_cmd_verify(int argc, char **argv)
{
	const char *path = NULL, *format = "table", *repair_path = NULL;
	char *tables_arg = NULL, **tables = NULL;
	size_t ntables = 0, i;
	tidm_job_config *cfg = NULL;
	tidm_verify_opts o = TIDM_VERIFY_OPTS_INIT;
	tidm_verify_report *rep = NULL;
	FILE *repair = NULL;
	struct sigaction sa;
	int rc, code;

	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--format") && k + 1 < argc)
			format = argv[++k];
		else if (!strncmp(argv[k], "--format=", 9))
			format = argv[k] + 9;
		else if (!strcmp(argv[k], "--tables") && k + 1 < argc)
			tables_arg = argv[++k];
		else if (!strncmp(argv[k], "--tables=", 9))
			tables_arg = argv[k] + 9;
		else if (!strcmp(argv[k], "--repair-sql") && k + 1 < argc)
			repair_path = argv[++k];
		else if (!strncmp(argv[k], "--repair-sql=", 13))
			repair_path = argv[k] + 13;
		else if (argv[k][0] == '-' || path)
			return usage();
		else
			path = argv[k];
	}
	if (!path)
		return usage();
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0) {
		fprintf(stderr, "tidm: unknown --format %s; expected table or json\n", format);
		return TIDM_EXIT_USAGE;
	}
	if (tables_arg) {
		tables_arg = strdup(tables_arg);
		if (!tables_arg)
			abort();
		ntables = split_tables(tables_arg, &tables);
		for (i = 0; i < ntables; i++)
			if (!strchr(tables[i], '.') || tables[i][0] == '.' || tables[i][strlen(tables[i]) - 1] == '.') {
				fprintf(stderr, "tidm: --tables: '%s' is not a table name; expected db.table[,db.table...]\n",
					tables[i]);
				code = TIDM_EXIT_USAGE;
				goto out;
			}
		if (!ntables) {
			fputs("tidm: --tables is empty; expected db.table[,db.table...]\n", stderr);
			code = TIDM_EXIT_USAGE;
			goto out;
		}
	}
	if (tidm_job_config_load(&cfg, path) < 0) {
		fprintf(stderr, "tidm: %s\n", tidm_err_msg());
		code = TIDM_EXIT_USAGE;
		goto out;
	}
	if (repair_path && !(repair = fopen(repair_path, "w"))) {
		fprintf(stderr, "tidm: --repair-sql: cannot write %s: %s\n", repair_path, strerror(errno));
		code = TIDM_EXIT_USAGE;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	o.cfg = cfg;
	o.tables = (const char *const *)tables;
	o.ntables = ntables;
	o.repair = repair;
	o.rows_per_second = cfg->verify_rows_per_second;
	o.cancel = &stop_flag;
	tidm_log_set_default_job(cfg->name);
	rc = tidm_verify_run(&rep, &o);
	if (rc < 0) {
		fprintf(stderr, "tidm: verify of job %s failed: %s\n", cfg->name, tidm_err_msg());
		code = rc == TIDM_EINVAL ? TIDM_EXIT_USAGE : TIDM_EXIT_FAILED;
		goto out;
	}
	if (!strcmp(format, "json"))
		print_json(rep);
	else
		print_table(rep);
	fflush(stdout);
	code = tidm_verify_report_equal(rep) ? TIDM_EXIT_OK : TIDM_EXIT_FAILED;
out:
	if (repair && fclose(repair) != 0 && code == TIDM_EXIT_OK) {
		fprintf(stderr, "tidm: --repair-sql: cannot write %s: %s\n", repair_path, strerror(errno));
		code = TIDM_EXIT_FAILED;
	}
	tidm_verify_report_free(rep);
	tidm_job_config_free(cfg);
	free(tables);
	free(tables_arg);
	return code;
}
