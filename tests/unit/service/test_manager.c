/*
 * test_manager.c - the job manager's lifecycle (service/manager.h) without servers: the
 * runner and the removal of tidm_meta rows are replaced by scripted fakes
 * (service/hooks.h), chosen by the job's name:
 *   sync*   runs in stage syncing until it is cancelled
 *   dump*   sits in the export (stage dumping) until it is cancelled
 *   full*   finishes at once (type full)
 *   flaky*  fails with a lost connection twice, then runs like sync*
 *   dup*    fails with a duplicate key (server error 1062)
 * Checked: every transition of manager.h and the 409 naming the state, the 400/422
 * errors with their fields, passwords sealed (in no answer, event or the store's file),
 * automatic retries with their events, scale, restart, delete, and a daemon restart
 * (running jobs resume, a job paused by the user stays paused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "service/hooks.h"
#include "service/manager.h"
#include "service/store.h"
#include "util/err.h"
#include "util/log.h"

static char dir[256];

static struct fake {
	_Atomic int runs;       /* calls of run */
	_Atomic int restarts;   /* ... with restart */
	_Atomic int replaces;   /* ... with replace_conflicts */
	_Atomic int flaky_left; /* flaky*: failures still to come */
	_Atomic unsigned workers; /* apply_workers of the last run */
	_Atomic int forgets;
	_Atomic int bad_password; /* a run met a configuration without its password */
} fk;

static void sleep_ms(long ms)
{
	nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static int until_cancel(const tidm_run_opts *o)
{
	while (!*o->cancel)
		sleep_ms(5);
	return TIDM_ECANCELED;
}

static int fake_run(const tidm_job_config *cfg, const tidm_run_opts *o, tidm_run_progress *p, tidm_run_result *out,
		    void *payload)
{
	(void)payload;
	(void)out;
	atomic_fetch_add(&fk.runs, 1);
	if (o->restart)
		atomic_fetch_add(&fk.restarts, 1);
	if (o->replace_conflicts)
		atomic_fetch_add(&fk.replaces, 1);
	atomic_store(&fk.workers, cfg->apply_workers);
	if (!cfg->source.password || strcmp(cfg->source.password, "s3cr3t-src") != 0 || !cfg->target.password ||
	    strcmp(cfg->target.password, "s3cr3t-tgt") != 0)
		atomic_store(&fk.bad_password, 1);
	if (!strncmp(cfg->name, "full", 4)) {
		atomic_store(&p->phase, TIDM_PHASE_DONE);
		return 0;
	}
	if (!strncmp(cfg->name, "dup", 3))
		return tidm_err_set_db(TIDM_EDUPKEY, 1062, "Duplicate entry '1' for key 'PRIMARY' in `d`.`t`");
	if (!strncmp(cfg->name, "flaky", 5) && atomic_fetch_sub(&fk.flaky_left, 1) > 0)
		return tidm_err_set_db(TIDM_ECONN, 2013, "target: Lost connection to server during query");
	if (!strncmp(cfg->name, "dump", 4)) {
		atomic_store(&p->phase, TIDM_PHASE_FULL);
		atomic_store(&p->full.stage, TIDM_FULL_SNAPSHOT);
		return until_cancel(o);
	}
	atomic_store(&p->phase, TIDM_PHASE_SYNC);
	atomic_store(&p->sync.lag_s, 0);
	return until_cancel(o);
}

static int fake_forget(const tidm_job_config *cfg, void *payload)
{
	(void)cfg;
	(void)payload;
	atomic_fetch_add(&fk.forgets, 1);
	return 0;
}

/* The scripted jobs point at no server: the precheck (tested on its own) passes. */
static int fake_precheck(const tidm_job_config *cfg, void *payload)
{
	(void)cfg;
	(void)payload;
	return 0;
}

static const tidm_manager_hooks hooks = {.run = fake_run, .forget = fake_forget, .precheck = fake_precheck};

static tidm_manager *open_mgr(unsigned max_jobs)
{
	tidm_manager_opts o = {.data_dir = dir, .max_jobs = max_jobs, .retry_first_ms = 20, .retry_max_ms = 80,
			       .hooks = &hooks};
	tidm_manager *m = NULL;
	assert_int_equal(tidm_manager_open(&m, &o), 0);
	return m;
}

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	snprintf(dir, sizeof(dir), "%s/tidm-mgr-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	tidm_log_set_level(TIDM_LOG_ERROR);
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *body(const char *name, const char *type, const char *extra)
{
	static char b[1024];
	snprintf(b, sizeof(b),
		 "{\"name\":\"%s\",\"type\":\"%s\",%s"
		 "\"source\":{\"host\":\"127.0.0.1\",\"port\":3306,\"user\":\"u\",\"password\":\"s3cr3t-src\"},"
		 "\"target\":{\"host\":\"127.0.0.1\",\"port\":4000,\"user\":\"root\",\"password\":\"s3cr3t-tgt\"}}",
		 name, type, extra ? extra : "");
	return b;
}

static void create(tidm_manager *m, const char *name, const char *type, const char *extra)
{
	json_t *out = NULL;
	const char *b = body(name, type, extra);
	int rc = tidm_manager_create(m, b, strlen(b), &out);
	if (rc != 0)
		fail_msg("create %s: %s", name, tidm_err_msg());
	char *text = json_dumps(out, 0);
	assert_null(strstr(text, "s3cr3t"));
	free(text);
	json_decref(out);
}

static const char *state_of(tidm_manager *m, const char *name, char *buf, size_t n)
{
	json_t *o = NULL;
	if (tidm_manager_get(m, name, &o) != 0)
		return "gone";
	snprintf(buf, n, "%s/%s", json_string_value(json_object_get(o, "state")),
		 json_is_string(json_object_get(o, "stage")) ? json_string_value(json_object_get(o, "stage")) : "-");
	json_decref(o);
	return buf;
}

/* Wait (10 s at most) until the job's "state/stage" is `want`. */
static void wait_state(tidm_manager *m, const char *name, const char *want)
{
	char buf[64];
	for (int k = 0; k < 1000; k++) {
		if (!strcmp(state_of(m, name, buf, sizeof(buf)), want))
			return;
		sleep_ms(10);
	}
	fail_msg("job %s: waited for %s, it is %s", name, want, state_of(m, name, buf, sizeof(buf)));
}

/* All event messages of a job, one per line "level kind: message [cause]". */
static char *events_text(tidm_manager *m, const char *name)
{
	static char buf[16384];
	json_t *o = NULL, *e;
	size_t k, off = 0;
	assert_int_equal(tidm_manager_events(m, name, 0, 1000, &o), 0);
	buf[0] = '\0';
	json_array_foreach(json_object_get(o, "events"), k, e) {
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s %s: %s [%s]\n",
					json_string_value(json_object_get(e, "level")),
					json_string_value(json_object_get(e, "kind")),
					json_string_value(json_object_get(e, "message")),
					json_is_string(json_object_get(e, "cause")) ? json_string_value(json_object_get(e, "cause")) : "");
	}
	json_decref(o);
	return buf;
}

static void expect_conflict(int rc, const char *msg)
{
	assert_int_equal(rc, TIDM_ECONFLICT);
	assert_string_equal(tidm_err_msg(), msg);
}

static void test_manager__lifecycle(void **state)
{
	tidm_manager *m = open_mgr(0);
	json_t *o = NULL;
	(void)state;

	create(m, "sync1", "all", NULL);
	wait_state(m, "sync1", "created/-");
	expect_conflict(tidm_manager_pause(m, "sync1", &o), "job sync1 is created: only a prechecking or running job can be paused");
	assert_null(o);
	assert_int_equal(tidm_manager_start(m, "sync1", &o), 0);
	json_decref(o);
	wait_state(m, "sync1", "running/syncing");
	expect_conflict(tidm_manager_start(m, "sync1", &o),
			"job sync1 is running: only a created, paused or failed job can be started or resumed");
	expect_conflict(tidm_manager_resume(m, "sync1", &o),
			"job sync1 is running: only a created, paused or failed job can be started or resumed");

	assert_int_equal(tidm_manager_pause(m, "sync1", &o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "paused");
	json_decref(o);
	expect_conflict(tidm_manager_pause(m, "sync1", &o), "job sync1 is paused: only a prechecking or running job can be paused");
	assert_int_equal(tidm_manager_resume(m, "sync1", &o), 0);
	json_decref(o);
	wait_state(m, "sync1", "running/syncing");
	assert_int_equal(atomic_load(&fk.runs), 2);
	assert_int_equal(atomic_load(&fk.workers), 8);

	/* scale: restarts from the checkpoint with the new spec, with a warning */
	json_t *spec = json_pack("{si si}", "apply-workers", 4, "batch", 500);
	assert_int_equal(tidm_manager_scale(m, "sync1", spec, &o), 0);
	json_decref(spec);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "spec"), "apply-workers")), 4);
	json_decref(o);
	wait_state(m, "sync1", "running/syncing");
	assert_int_equal(atomic_load(&fk.runs), 3);
	assert_int_equal(atomic_load(&fk.workers), 4);
	assert_int_equal(atomic_load(&fk.restarts), 0);
	/* bad scale requests name the field */
	spec = json_pack("{si}", "apply-workers", 0);
	assert_int_equal(tidm_manager_scale(m, "sync1", spec, &o), TIDM_EINVAL);
	assert_string_equal(tidm_manager_err_field(), "spec.apply-workers");
	assert_string_equal(tidm_err_msg(), "apply-workers must be an integer from 1 to 64");
	json_decref(spec);
	spec = json_pack("{si}", "chunk-rows", 5000);
	assert_int_equal(tidm_manager_scale(m, "sync1", spec, &o), TIDM_EINVAL);
	assert_string_equal(tidm_manager_err_field(), "spec.chunk-rows");
	json_decref(spec);

	/* restart with replace: a new snapshot */
	assert_int_equal(tidm_manager_restart(m, "sync1", true, &o), 0);
	json_decref(o);
	wait_state(m, "sync1", "running/syncing");
	assert_int_equal(atomic_load(&fk.restarts), 1);
	assert_int_equal(atomic_load(&fk.replaces), 1);
	assert_int_equal(atomic_load(&fk.bad_password), 0);

	const char *ev = events_text(m, "sync1");
	assert_non_null(strstr(ev, "info state: created (type all) []\n"
				   "info state: prechecking (started) []\n"
				   "info state: running []\n"
				   "info state: paused []\n"
				   "info state: prechecking (resumed) []\n"
				   "info state: running []\n"
				   "info scale: spec changed: apply-workers default -> 4, batch default -> 500; the job "
				   "restarts from its checkpoint []\n"
				   "warn warning: a table without a primary key or unique key may receive duplicate rows "
				   "when the job restarts from its checkpoint with a new spec []\n"
				   "info state: prechecking (restarted from its checkpoint with the new spec) []\n"
				   "info state: running []\n"
				   "info state: prechecking (restarted from a new snapshot, replacing conflicting rows) []\n"
				   "info state: running from a new snapshot []\n"));
	assert_null(strstr(ev, "s3cr3t"));

	/* delete a running job: stopped, its tidm_meta rows removed, gone */
	assert_int_equal(tidm_manager_delete(m, "sync1"), 0);
	assert_int_equal(atomic_load(&fk.forgets), 1);
	assert_int_equal(tidm_manager_get(m, "sync1", &o), TIDM_ENOTFOUND);
	assert_string_equal(tidm_err_msg(), "no job named sync1");
	assert_int_equal(tidm_manager_events(m, "sync1", 0, 10, &o), TIDM_ENOTFOUND);
	assert_int_equal(tidm_manager_delete(m, "sync1"), TIDM_ENOTFOUND);
	/* a created job that never ran has nothing on the target */
	create(m, "sync2", "all", NULL);
	assert_int_equal(tidm_manager_delete(m, "sync2"), 0);
	assert_int_equal(atomic_load(&fk.forgets), 1);
	tidm_manager_close(m);
}

static void test_manager__full_and_failures(void **state)
{
	tidm_manager *m = open_mgr(0);
	json_t *o = NULL;
	(void)state;

	create(m, "full1", "full", "\"start\":true,");
	wait_state(m, "full1", "finished/done");
	expect_conflict(tidm_manager_resume(m, "full1", &o), "job full1 is finished: a finished job starts again only with restart");
	expect_conflict(tidm_manager_scale(m, "full1", NULL, &o), "job full1 is finished: only a running or paused job can be scaled");
	assert_int_equal(tidm_manager_restart(m, "full1", false, &o), 0);
	json_decref(o);
	wait_state(m, "full1", "finished/done");
	assert_int_equal(atomic_load(&fk.restarts), 1);

	/* not transient: failed at once, with the message and the raw cause */
	create(m, "dup1", "all", "\"start\":true,");
	wait_state(m, "dup1", "failed/-");
	assert_int_equal(tidm_manager_get(m, "dup1", &o), 0);
	json_t *le = json_object_get(o, "last_error");
	assert_string_equal(json_string_value(json_object_get(le, "message")), "Duplicate entry '1' for key 'PRIMARY' in `d`.`t`");
	assert_non_null(strstr(json_string_value(json_object_get(le, "cause")), "EDUPKEY, server error 1062, at test_manager.c:"));
	json_decref(o);
	assert_non_null(strstr(events_text(m, "dup1"), "error error: failed: Duplicate entry '1' for key 'PRIMARY' in `d`.`t` [EDUPKEY, server error 1062"));
	/* a failed job may be resumed (after the fix) */
	int runs = atomic_load(&fk.runs);
	assert_int_equal(tidm_manager_resume(m, "dup1", &o), 0);
	json_decref(o);
	wait_state(m, "dup1", "failed/-");
	assert_int_equal(atomic_load(&fk.runs), runs + 1);

	/* transient: retried with backoff, each try an event, then it runs */
	atomic_store(&fk.flaky_left, 2);
	create(m, "flaky1", "all", "\"start\":true,");
	wait_state(m, "flaky1", "running/syncing");
	const char *ev = events_text(m, "flaky1");
	assert_non_null(strstr(ev, "warn retry: transient failure, try 2 again from the checkpoints in 0.0 s: target: Lost "
				   "connection to server during query [ECONN, server error 2013, at test_manager.c:"));
	assert_non_null(strstr(ev, "warn retry: transient failure, try 3 again from the checkpoints in 0.0 s: target: Lost"));
	assert_null(strstr(ev, "try 4"));
	tidm_manager_close(m);
}

static void test_manager__scale_refused_while_dumping(void **state)
{
	tidm_manager *m = open_mgr(0);
	json_t *o = NULL, *spec = json_pack("{si}", "dump-threads", 2);
	(void)state;

	create(m, "dump1", "all", "\"start\":true,");
	wait_state(m, "dump1", "running/dumping");
	expect_conflict(tidm_manager_scale(m, "dump1", spec, &o),
			"job dump1 is running in stage dumping (the export, under the snapshot): scale it once it is "
			"loading or syncing");
	assert_int_equal(tidm_manager_pause(m, "dump1", &o), 0);
	json_decref(o);
	/* paused: the new spec is kept for the next run */
	assert_int_equal(tidm_manager_scale(m, "dump1", spec, &o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "paused");
	json_decref(o);
	json_decref(spec);
	tidm_manager_close(m);
}

static void test_manager__bad_bodies(void **state)
{
	tidm_manager *m = open_mgr(2);
	json_t *o = NULL;
	const char *b;
	(void)state;

	b = "{\"name\": \"x\",";
	assert_int_equal(tidm_manager_create(m, b, strlen(b), &o), TIDM_EINVAL);
	assert_true(tidm_manager_err_malformed());
	assert_null(tidm_manager_err_field());
	assert_string_equal(tidm_err_msg(), "malformed JSON at line 1, column 13 (byte 13): string or '}' expected near end of file");
	b = "[1]";
	assert_int_equal(tidm_manager_create(m, b, strlen(b), &o), TIDM_EINVAL);
	assert_true(tidm_manager_err_malformed());

	b = body("9lives", "all", NULL);
	assert_int_equal(tidm_manager_create(m, b, strlen(b), &o), TIDM_EINVAL);
	assert_false(tidm_manager_err_malformed());
	assert_string_equal(tidm_manager_err_field(), "name");
	assert_non_null(strstr(tidm_err_msg(), "name \"9lives\" is not a valid job name: "));

	b = body("sync1", "sideways", NULL);
	assert_int_equal(tidm_manager_create(m, b, strlen(b), &o), TIDM_EINVAL);
	assert_string_equal(tidm_manager_err_field(), "type");
	assert_non_null(strstr(tidm_err_msg(), "body:1:"));

	b = "{\"name\":\"sync1\",\"type\":\"all\",\"source\":{\"host\":\"h\",\"port\":70000,\"user\":\"u\",\"password\":\"s3cr3t-src\"},"
	    "\"target\":{\"host\":\"h\",\"user\":\"u\",\"password\":\"s3cr3t-tgt\"}}";
	assert_int_equal(tidm_manager_create(m, b, strlen(b), &o), TIDM_EINVAL);
	assert_string_equal(tidm_manager_err_field(), "source.port");
	assert_null(strstr(tidm_err_msg(), "s3cr3t"));

	create(m, "sync1", "all", NULL);
	b = body("sync1", "all", NULL);
	expect_conflict(tidm_manager_create(m, b, strlen(b), &o), "a job named sync1 exists already (state created)");
	create(m, "sync2", "all", NULL);
	b = body("sync3", "all", NULL);
	assert_int_equal(tidm_manager_create(m, b, strlen(b), &o), TIDM_EINVAL);
	assert_false(tidm_manager_err_malformed());
	assert_string_equal(tidm_err_msg(), "the store holds 2 jobs, the most it takes (max jobs 2): delete one first");

	assert_int_equal(tidm_manager_get(m, "nope", &o), TIDM_ENOTFOUND);
	assert_int_equal(tidm_manager_start(m, "nope", &o), TIDM_ENOTFOUND);
	assert_int_equal(tidm_manager_list(m, &o), 0);
	assert_int_equal(json_array_size(json_object_get(o, "jobs")), 2);
	json_decref(o);
	tidm_manager_close(m);

	/* passwords are nowhere in the data directory in clear */
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "cat '%s'/tidm.db* | grep -c s3cr3t >/dev/null", dir);
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "cat '%s'/tidm.db* | grep -c sync2 >/dev/null", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_manager__daemon_restart(void **state)
{
	tidm_manager *m = open_mgr(0);
	json_t *o = NULL;
	tidm_store *s = NULL;
	(void)state;

	create(m, "sync1", "all", "\"start\":true,");
	create(m, "sync2", "all", "\"start\":true,");
	create(m, "sync3", "all", NULL);
	wait_state(m, "sync1", "running/syncing");
	wait_state(m, "sync2", "running/syncing");
	assert_int_equal(tidm_manager_pause(m, "sync2", &o), 0);
	json_decref(o);
	tidm_manager_close(m); /* a clean SIGTERM */

	m = open_mgr(0);
	wait_state(m, "sync1", "running/syncing");
	wait_state(m, "sync2", "paused/syncing");
	wait_state(m, "sync3", "created/-");
	assert_non_null(strstr(events_text(m, "sync1"), "info state: paused by the daemon's shutdown; resumes when it starts "
							"again []\ninfo state: prechecking (resumed: paused by the "
							"daemon's shutdown) []\ninfo state: running []\n"));
	tidm_manager_close(m);

	/* a daemon killed while sync3 ran: its record says running */
	assert_int_equal(tidm_store_sqlite_open(&s, dir), 0);
	tidm_store_state st = {.state = "running", .stage = "syncing", .updated_at = 1};
	assert_int_equal(tidm_store_job_set_state(s, "sync3", &st), 0);
	tidm_store_close(s);
	m = open_mgr(0);
	wait_state(m, "sync3", "running/syncing");
	assert_non_null(strstr(events_text(m, "sync3"), "prechecking (resumed: the daemon stopped while the job ran)"));
	wait_state(m, "sync2", "paused/syncing");
	tidm_manager_close(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_manager__lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manager__full_and_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manager__scale_refused_while_dumping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manager__bad_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manager__daemon_restart, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
