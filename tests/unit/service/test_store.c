/*
 * test_store.c - the SQLite job store (service/store.h): jobs put, read back, listed,
 * counted, their state changed and deleted; events appended and paged; a store reopened
 * keeps everything; a version 1 store is migrated in place with its jobs; a store of a
 * newer schema and a file that is not a store are refused with a message naming the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "service/store.h"
#include "util/err.h"

static char dir[256];
static char path[300];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/tidm-store-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/tidm.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char p[400];
	(void)state;
	static const char *const sfx[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

static void put_job(tidm_store *s, const char *name, int64_t t)
{
	tidm_store_job j;

	memset(&j, 0, sizeof(j));
	j.name = (char *)name;
	j.definition = (char *)"{\"name\":\"x\",\"type\":\"all\"}";
	j.secrets = (char *)"{\"source\":\"c2VhbGVk\"}";
	snprintf(j.state, sizeof(j.state), "created");
	j.created_at = j.updated_at = t;
	assert_int_equal(tidm_store_job_create(s, &j), 0);
}

static void test_store_sqlite__jobs(void **state)
{
	tidm_store *s = NULL;
	tidm_store_job j, *all = NULL;
	size_t n = 0;
	int v = 0;
	(void)state;

	assert_int_equal(tidm_store_sqlite_open(&s, dir), 0);
	assert_int_equal(tidm_store_schema_version(s, &v), 0);
	assert_int_equal(v, TIDM_STORE_SCHEMA_VERSION);
	put_job(s, "shop", 1000);
	/* a taken name */
	memset(&j, 0, sizeof(j));
	j.name = (char *)"shop";
	j.definition = (char *)"{}";
	snprintf(j.state, sizeof(j.state), "created");
	assert_int_equal(tidm_store_job_create(s, &j), TIDM_ECONFLICT);
	assert_string_equal(tidm_err_msg(), "a job named shop exists already");

	tidm_store_state st = {.state = "failed", .stage = "syncing", .last_error = "duplicate key",
			       .last_cause = "EDUPKEY, error 1062", .updated_at = 2000};
	assert_int_equal(tidm_store_job_set_state(s, "shop", &st), 0);
	assert_int_equal(tidm_store_job_get(s, "shop", &j), 0);
	assert_string_equal(j.state, "failed");
	assert_string_equal(j.stage, "syncing");
	assert_string_equal(j.last_error, "duplicate key");
	assert_string_equal(j.last_cause, "EDUPKEY, error 1062");
	assert_string_equal(j.secrets, "{\"source\":\"c2VhbGVk\"}");
	assert_int_equal(j.created_at, 1000);
	assert_int_equal(j.updated_at, 2000);
	assert_false(j.resume_on_open);
	tidm_store_job_dispose(&j);
	/* stage NULL keeps it, error NULL clears it */
	tidm_store_state st2 = {.state = "paused", .resume_on_open = true, .updated_at = 3000};
	assert_int_equal(tidm_store_job_set_state(s, "shop", &st2), 0);
	assert_int_equal(tidm_store_job_update_definition(s, "shop", "{\"spec\":{}}", 3500), 0);
	assert_int_equal(tidm_store_job_get(s, "shop", &j), 0);
	assert_string_equal(j.stage, "syncing");
	assert_null(j.last_error);
	assert_true(j.resume_on_open);
	assert_string_equal(j.definition, "{\"spec\":{}}");
	tidm_store_job_dispose(&j);

	assert_int_equal(tidm_store_job_get(s, "nope", &j), TIDM_ENOTFOUND);
	assert_string_equal(tidm_err_msg(), "no job named nope");
	assert_int_equal(tidm_store_job_set_state(s, "nope", &st), TIDM_ENOTFOUND);
	assert_int_equal(tidm_store_job_delete(s, "nope"), TIDM_ENOTFOUND);

	/* 250 jobs: listed by name, counted */
	for (int i = 0; i < 250; i++) {
		char name[32];
		snprintf(name, sizeof(name), "job%03d", i);
		put_job(s, name, i);
	}
	assert_int_equal(tidm_store_job_count(s, &n), 0);
	assert_int_equal(n, 251);
	assert_int_equal(tidm_store_job_list(s, &all, &n), 0);
	assert_int_equal(n, 251);
	assert_string_equal(all[0].name, "job000");
	assert_string_equal(all[249].name, "job249");
	assert_string_equal(all[250].name, "shop");
	tidm_store_jobs_free(all, n);

	assert_int_equal(tidm_store_job_delete(s, "job007"), 0);
	assert_int_equal(tidm_store_job_count(s, &n), 0);
	assert_int_equal(n, 250);
	tidm_store_close(s);

	/* reopened: everything is still there */
	assert_int_equal(tidm_store_sqlite_open(&s, dir), 0);
	assert_int_equal(tidm_store_job_count(s, &n), 0);
	assert_int_equal(n, 250);
	assert_int_equal(tidm_store_job_get(s, "shop", &j), 0);
	assert_string_equal(j.state, "paused");
	tidm_store_job_dispose(&j);
	assert_int_equal(tidm_store_job_get(s, "job007", &j), TIDM_ENOTFOUND);
	tidm_store_close(s);
}

static void test_store_sqlite__events(void **state)
{
	tidm_store *s = NULL;
	tidm_store_event *ev = NULL;
	size_t n = 0;
	int64_t after = 0;
	(void)state;

	assert_int_equal(tidm_store_sqlite_open(&s, dir), 0);
	put_job(s, "a", 1);
	put_job(s, "b", 1);
	for (int i = 0; i < 230; i++) {
		char msg[64];
		tidm_store_event e = {.time = 1000 + i};
		snprintf(e.level, sizeof(e.level), i % 10 ? "info" : "warn");
		snprintf(e.kind, sizeof(e.kind), "state");
		snprintf(msg, sizeof(msg), "event %d", i);
		e.message = msg;
		e.cause = i % 10 ? NULL : (char *)"cause";
		assert_int_equal(tidm_store_event_append(s, i % 2 ? "b" : "a", &e), 0);
		assert_true(e.id > 0);
	}
	/* job a: events 0, 2, ..., 228 (115), paged by 50 */
	int seen = 0, pages = 0;
	for (;;) {
		assert_int_equal(tidm_store_event_list(s, "a", after, 50, &ev, &n), 0);
		if (n == 0) {
			tidm_store_events_free(ev, n);
			break;
		}
		pages++;
		for (size_t k = 0; k < n; k++) {
			char want[64];
			snprintf(want, sizeof(want), "event %d", seen * 2);
			assert_string_equal(ev[k].message, want);
			assert_true(ev[k].id > after);
			assert_int_equal(ev[k].time, 1000 + seen * 2);
			if ((seen * 2) % 10 == 0) {
				assert_string_equal(ev[k].level, "warn");
				assert_string_equal(ev[k].cause, "cause");
			} else {
				assert_null(ev[k].cause);
			}
			after = ev[k].id;
			seen++;
		}
		tidm_store_events_free(ev, n);
	}
	assert_int_equal(seen, 115);
	assert_int_equal(pages, 3);
	/* deleting a job deletes its events, not the other job's */
	assert_int_equal(tidm_store_job_delete(s, "a"), 0);
	assert_int_equal(tidm_store_event_list(s, "a", 0, 0, &ev, &n), 0);
	assert_int_equal(n, 0);
	tidm_store_events_free(ev, n);
	assert_int_equal(tidm_store_event_list(s, "b", 0, 1000, &ev, &n), 0);
	assert_int_equal(n, 115);
	tidm_store_events_free(ev, n);
	tidm_store_close(s);
}

static void test_store_sqlite__migration(void **state)
{
	tidm_store *s = NULL;
	tidm_store_job j;
	sqlite3 *db = NULL;
	int v = 0;
	(void)state;

	/* a store as version 1 wrote it, with one job and one event */
	assert_int_equal(tidm_store_sqlite_open_file(&s, path, 1), 0);
	assert_int_equal(tidm_store_schema_version(s, &v), 0);
	assert_int_equal(v, 1);
	tidm_store_close(s);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO jobs (name, definition, state, stage, last_error, created_at, updated_at) "
				      "VALUES ('old', '{\"type\":\"full\"}', 'failed', 'loading', 'boom', 5, 6);"
				      "INSERT INTO events (job, time, level, kind, message) VALUES ('old', 7, 'error', 'error', 'boom')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(tidm_store_sqlite_open(&s, dir), 0);
	assert_int_equal(tidm_store_schema_version(s, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(tidm_store_job_get(s, "old", &j), 0);
	assert_string_equal(j.state, "failed");
	assert_string_equal(j.stage, "loading");
	assert_string_equal(j.last_error, "boom");
	assert_null(j.last_cause);
	assert_false(j.resume_on_open);
	assert_int_equal(j.created_at, 5);
	tidm_store_job_dispose(&j);
	tidm_store_event *ev = NULL;
	size_t n = 0;
	assert_int_equal(tidm_store_event_list(s, "old", 0, 0, &ev, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].message, "boom");
	tidm_store_events_free(ev, n);
	tidm_store_close(s);

	/* a newer schema is refused, unchanged */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(tidm_store_sqlite_open(&s, dir), TIDM_ECORRUPT);
	assert_null(s);
	char want[600];
	snprintf(want, sizeof(want),
		 "job store %s has schema version 99, written by a newer tidm (this one knows up to 3): use that "
		 "version, or another data directory",
		 path);
	assert_string_equal(tidm_err_msg(), want);
}

/* alert subscribers (schema 3): ids grow, the secret is kept as given, delete by id */
static void test_store_sqlite__subscriptions(void **state)
{
	tidm_store *s = NULL;
	tidm_store_sub a = {0}, b = {0}, *l = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(tidm_store_sqlite_open(&s, dir), 0);
	snprintf(a.kind, sizeof(a.kind), "webhook");
	a.target = (char *)"http://127.0.0.1:9/hook";
	a.secret = (char *)"sealed-text";
	a.created_at = 11;
	assert_int_equal(tidm_store_sub_create(s, &a), 0);
	snprintf(b.kind, sizeof(b.kind), "email");
	b.target = (char *)"ops@example.com";
	b.created_at = 12;
	assert_int_equal(tidm_store_sub_create(s, &b), 0);
	assert_true(b.id > a.id);
	assert_int_equal(tidm_store_sub_list(s, &l, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].kind, "webhook");
	assert_string_equal(l[0].target, "http://127.0.0.1:9/hook");
	assert_string_equal(l[0].secret, "sealed-text");
	assert_int_equal(l[0].created_at, 11);
	assert_string_equal(l[1].target, "ops@example.com");
	assert_null(l[1].secret);
	tidm_store_subs_free(l, n);
	assert_int_equal(tidm_store_sub_delete(s, a.id), 0);
	assert_int_equal(tidm_store_sub_delete(s, a.id), TIDM_ENOTFOUND);
	assert_int_equal(tidm_store_sub_list(s, &l, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].id, b.id);
	tidm_store_subs_free(l, n);
	tidm_store_close(s);
}

static void test_store_sqlite__not_a_store(void **state)
{
	tidm_store *s = NULL;
	FILE *f = fopen(path, "wb");
	(void)state;

	assert_non_null(f);
	for (int i = 0; i < 100; i++)
		fputs("this is not a database file at all. ", f);
	fclose(f);
	assert_int_equal(tidm_store_sqlite_open(&s, dir), TIDM_ECORRUPT);
	assert_null(s);
	assert_non_null(strstr(tidm_err_msg(), path));
	assert_non_null(strstr(tidm_err_msg(), "is it a tidm job store?"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_sqlite__jobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_sqlite__events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_sqlite__migration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_sqlite__subscriptions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_sqlite__not_a_store, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
