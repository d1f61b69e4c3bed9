/*
 * test_redolog.c - db/redolog.c, the InnoDB redo log switch of mode physical, driven by a
 * scripted query function: each step of a script is the statement expected next and the
 * answer the server gives (a value, or an error number and message). Checks what a user
 * relies on: the log is switched on again after a failed load, a refused ENABLE is
 * retried, other clients' writes refuse the switch, a missing privilege or an old server
 * only skips it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db/redolog.h"
#include "util/err.h"

struct step {
	const char *sql_prefix; /* the statement starts with this */
	const char *value;      /* answer for a query; NULL = no row */
	unsigned err;           /* 0 = success */
};

struct script {
	const struct step *steps;
	size_t n, at;
};

static int scripted(void *ctx, const char *sql, char **value)
{
	struct script *s = ctx;
	const struct step *st;

	if (s->at >= s->n)
		fail_msg("unexpected statement after the script: %s", sql);
	st = &s->steps[s->at++];
	if (strncmp(sql, st->sql_prefix, strlen(st->sql_prefix)) != 0)
		fail_msg("step %zu: expected \"%s...\", got \"%s\"", s->at, st->sql_prefix, sql);
	if (st->err)
		return tidm_err_set_db(st->err == 2013 ? TIDM_ECONN : TIDM_ERROR, st->err, "server error %u", st->err);
	if (value)
		*value = st->value ? strdup(st->value) : NULL;
	return 0;
}

#define STATUS "SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE VARIABLE_NAME = 'Innodb_redo_log"
#define OTHERS "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
#define WRITES "SELECT SUM(VARIABLE_VALUE) FROM performance_schema.global_status"
#define DISABLE "ALTER INSTANCE DISABLE INNODB REDO_LOG"
#define ENABLE "ALTER INSTANCE ENABLE INNODB REDO_LOG"

static void init(tidm_redo *r, struct script *s, const struct step *steps, size_t n)
{
	s->steps = steps;
	s->n = n;
	s->at = 0;
	tidm_redo_init(r, scripted, s);
	r->sample_ms = 1;
}

/* Disabled for the load; the load fails; every exit path calls restore: ENABLE is sent. */
static void test_db_redolog__enabled_again_after_a_failure(void **state)
{
	static const struct step steps[] = {
		{STATUS, "ON", 0}, {OTHERS, "0", 0}, {WRITES, "1234", 0}, {WRITES, "1234", 0}, {DISABLE, NULL, 0},
		{ENABLE, NULL, 0},
	};
	struct script s;
	tidm_redo r;

	(void)state;
	init(&r, &s, steps, 6);
	assert_int_equal(tidm_redo_disable(&r, true, 80036), 0);
	assert_int_equal(r.state, TIDM_REDO_DISABLED);
	/* ... the load fails here (its error is the run's) ... */
	tidm_err_set(TIDM_ERROR, "copying `db`.`t`: lost the source");
	assert_int_equal(tidm_redo_restore(&r), 0);
	assert_int_equal(r.state, TIDM_REDO_RESTORED);
	assert_int_equal(s.at, 6);
	/* a second restore (another exit path) sends nothing */
	assert_int_equal(tidm_redo_restore(&r), 0);
	assert_int_equal(s.at, 6);
}

/* ENABLE fails (connection lost, then a server error): retried until it is accepted. */
static void test_db_redolog__enable_retried(void **state)
{
	static const struct step steps[] = {
		{STATUS, "ON", 0}, {OTHERS, "0", 0}, {WRITES, "5", 0}, {WRITES, "5", 0}, {DISABLE, NULL, 0},
		{ENABLE, NULL, 2013}, {ENABLE, NULL, 1205}, {ENABLE, NULL, 0},
	};
	struct script s;
	tidm_redo r;

	(void)state;
	init(&r, &s, steps, 8);
	assert_int_equal(tidm_redo_disable(&r, true, 80021), 0);
	assert_int_equal(tidm_redo_restore(&r), 0);
	assert_int_equal(r.state, TIDM_REDO_RESTORED);
	assert_int_equal(s.at, 8);
}

/* ENABLE refused every time: the state stays DISABLED and the message says what to run. */
static void test_db_redolog__enable_refused(void **state)
{
	static const struct step steps[] = {
		{STATUS, "ON", 0}, {OTHERS, "0", 0}, {WRITES, "5", 0}, {WRITES, "5", 0}, {DISABLE, NULL, 0},
		{ENABLE, NULL, 1227}, {ENABLE, NULL, 1227}, {ENABLE, NULL, 1227},
	};
	struct script s;
	tidm_redo r;

	(void)state;
	init(&r, &s, steps, 8);
	assert_int_equal(tidm_redo_disable(&r, true, 80040), 0);
	assert_true(tidm_redo_restore(&r) < 0);
	assert_int_equal(r.state, TIDM_REDO_DISABLED);
	assert_string_equal(tidm_err_msg(), "the target's InnoDB redo log is still OFF (server error 1227): run ALTER "
					    "INSTANCE ENABLE INNODB REDO_LOG on the target now; without the redo log a "
					    "crash of the target loses data");
}

/* Other clients write: refused before anything is switched; restore sends nothing. */
static void test_db_redolog__refused_when_others_write(void **state)
{
	static const struct step busy[] = {{STATUS, "ON", 0}, {OTHERS, "0", 0}, {WRITES, "100", 0}, {WRITES, "117", 0}};
	static const struct step running[] = {{STATUS, "ON", 0}, {OTHERS, "2", 0}, {WRITES, "100", 0}};
	struct script s;
	tidm_redo r;

	(void)state;
	init(&r, &s, busy, 4);
	assert_int_equal(tidm_redo_disable(&r, true, 80036), TIDM_EINVAL);
	assert_int_equal(r.state, TIDM_REDO_REFUSED);
	assert_string_equal(tidm_err_msg(),
			    "spec.physical.disable-redo-log: the target executed 17 writing statements of other clients "
			    "within 1 ms, and a crash without the redo log loses their writes too. Nothing was loaded. "
			    "Stop the other clients, or remove disable-redo-log from the job");
	assert_int_equal(tidm_redo_restore(&r), 0);
	assert_int_equal(s.at, 4);

	init(&r, &s, running, 3);
	assert_int_equal(tidm_redo_disable(&r, true, 80036), TIDM_EINVAL);
	assert_non_null(strstr(tidm_err_msg(), "2 other sessions run statements on the target"));
}

/* Skipped, the load goes on with the redo log: an old server, MariaDB, no privilege. */
static void test_db_redolog__skipped(void **state)
{
	static const struct step denied[] = {
		{STATUS, "ON", 0}, {OTHERS, "0", 0}, {WRITES, "5", 0}, {WRITES, "5", 0}, {DISABLE, NULL, 1227},
	};
	struct script s;
	tidm_redo r;

	(void)state;
	init(&r, &s, NULL, 0);
	assert_int_equal(tidm_redo_disable(&r, true, 80020), 0);
	assert_int_equal(r.state, TIDM_REDO_SKIPPED);
	init(&r, &s, NULL, 0);
	assert_int_equal(tidm_redo_disable(&r, false, 101106), 0);
	assert_int_equal(r.state, TIDM_REDO_SKIPPED);
	init(&r, &s, denied, 5);
	assert_int_equal(tidm_redo_disable(&r, true, 80036), 0);
	assert_int_equal(r.state, TIDM_REDO_SKIPPED);
	assert_non_null(strstr(r.why, "INNODB_REDO_LOG_ENABLE"));
	assert_int_equal(tidm_redo_restore(&r), 0);
	assert_int_equal(s.at, 5);
}

/* Off already when the run starts (an earlier run killed with -9 during its load): taken
 * over, so the end of this load switches it on. */
static void test_db_redolog__off_already(void **state)
{
	static const struct step steps[] = {{STATUS, "OFF", 0}, {ENABLE, NULL, 0}};
	struct script s;
	tidm_redo r;

	(void)state;
	init(&r, &s, steps, 2);
	assert_int_equal(tidm_redo_disable(&r, true, 80036), 0);
	assert_int_equal(r.state, TIDM_REDO_DISABLED);
	assert_int_equal(tidm_redo_restore(&r), 0);
	assert_int_equal(s.at, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_db_redolog__enabled_again_after_a_failure),
		cmocka_unit_test(test_db_redolog__enable_retried),
		cmocka_unit_test(test_db_redolog__enable_refused),
		cmocka_unit_test(test_db_redolog__refused_when_others_write),
		cmocka_unit_test(test_db_redolog__skipped),
		cmocka_unit_test(test_db_redolog__off_already),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
