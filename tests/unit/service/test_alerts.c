/*
 * test_alerts.c - the daemon's alerts (service/alerts.h) with a test runner
 * (service/hooks.h) whose progress the test sets, a watcher round of 50 ms and a sendmail
 * stand-in (a shell script keeping each message in a file): a lag above the job's
 * lag-seconds is one notice, its end one "resolved", a second excursion a new incident;
 * a job stuck in its dump past no-progress-seconds is one notice, and pausing it clears
 * it; the subscription rules, and answers without the secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "service/hooks.h"
#include "service/manager.h"
#include "util/err.h"
#include "util/log.h"

static char dir[256], sendmail[300];
static _Atomic int64_t lag_now;

static void sleep_ms(long ms) { nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL); }

static int fake_run(const tidm_job_config *cfg, const tidm_run_opts *o, tidm_run_progress *p, tidm_run_result *out,
		    void *payload)
{
	(void)out;
	(void)payload;
	if (!strncmp(cfg->name, "dump", 4)) {
		atomic_store(&p->phase, TIDM_PHASE_FULL);
		atomic_store(&p->full.stage, TIDM_FULL_SNAPSHOT);
	} else {
		atomic_store(&p->phase, TIDM_PHASE_SYNC);
	}
	while (!*o->cancel) {
		if (strncmp(cfg->name, "dump", 4) != 0)
			atomic_store(&p->sync.lag_s, atomic_load(&lag_now));
		sleep_ms(5);
	}
	return TIDM_ECANCELED;
}

/* The scripted jobs point at no server: no precheck (it is tested on its own). */
static int fake_precheck(const tidm_job_config *cfg, void *payload)
{
	(void)cfg;
	(void)payload;
	return 0;
}

static const tidm_manager_hooks hooks = {.run = fake_run, .precheck = fake_precheck};

static int setup(void **state)
{
	FILE *f;
	(void)state;
	snprintf(dir, sizeof(dir), "%s/tidm-alerts-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	tidm_log_set_level(TIDM_LOG_ERROR);
	if (!mkdtemp(dir))
		return -1;
	snprintf(sendmail, sizeof(sendmail), "%s/sendmail", dir);
	if (!(f = fopen(sendmail, "w")))
		return -1;
	fprintf(f, "#!/bin/sh\nn=$(ls '%s' | grep -c '^mail') ; cat >'%s/tmp' && mv '%s/tmp' \"%s/mail.$((n + 1))\"\n",
		dir, dir, dir, dir);
	fclose(f);
	return chmod(sendmail, 0700);
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static tidm_manager *open_mgr(void)
{
	tidm_manager_opts o = {.data_dir = dir, .hooks = &hooks, .sendmail = sendmail, .alert_interval_ms = 50};
	tidm_manager *m = NULL;
	assert_int_equal(tidm_manager_open(&m, &o), 0);
	return m;
}

static void create(tidm_manager *m, const char *name, const char *type, const char *alerts)
{
	char b[1024];
	json_t *out = NULL;

	snprintf(b, sizeof(b),
		 "{\"name\":\"%s\",\"type\":\"%s\",\"start\":true,\"alerts\":%s,"
		 "\"source\":{\"host\":\"127.0.0.1\",\"port\":3306,\"user\":\"u\",\"password\":\"pw\"},"
		 "\"target\":{\"host\":\"127.0.0.1\",\"port\":4000,\"user\":\"root\",\"password\":\"pw\"}}",
		 name, type, alerts);
	if (tidm_manager_create(m, b, strlen(b), &out) != 0)
		fail_msg("create %s: %s", name, tidm_err_msg());
	json_decref(out);
}

static void subscribe_mail(tidm_manager *m)
{
	const char *b = "{\"kind\":\"email\",\"address\":\"ops@example.com\"}";
	json_t *out = NULL;
	assert_int_equal(tidm_manager_alert_sub_create(m, b, strlen(b), &out), 0);
	json_decref(out);
}

/* The subject of mail number n ("" when there is none yet). */
static const char *subject(int n)
{
	static char line[512];
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/mail.%d", dir, n);
	line[0] = '\0';
	if (!(f = fopen(path, "r")))
		return line;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Subject: ", 9))
			break;
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

static void wait_mail(int n)
{
	for (int i = 0; i < 1000 && !subject(n)[0]; i++)
		sleep_ms(10);
	if (!subject(n)[0])
		fail_msg("mail %d did not come", n);
}

static void test_alerts__lag(void **state)
{
	tidm_manager *m;
	(void)state;

	atomic_store(&lag_now, 0);
	m = open_mgr();
	subscribe_mail(m);
	create(m, "lagjob", "incremental", "{\"lag-seconds\":10}");
	sleep_ms(300);
	assert_string_equal(subject(1), ""); /* lag 0: nothing */
	atomic_store(&lag_now, 100);
	wait_mail(1);
	assert_string_equal(subject(1), "Subject: [tidm] job lagjob: replication lag");
	sleep_ms(300);
	assert_string_equal(subject(2), ""); /* once per incident */
	atomic_store(&lag_now, 3);
	wait_mail(2);
	assert_string_equal(subject(2), "Subject: [tidm] job lagjob: replication lag (resolved)");
	atomic_store(&lag_now, 50);
	wait_mail(3);
	assert_string_equal(subject(3), "Subject: [tidm] job lagjob: replication lag");
	tidm_manager_close(m);
}

static void test_alerts__no_progress_then_paused(void **state)
{
	tidm_manager *m;
	json_t *out = NULL;
	(void)state;

	m = open_mgr();
	subscribe_mail(m);
	create(m, "dumpjob", "full", "{\"no-progress-seconds\":1}");
	wait_mail(1);
	assert_string_equal(subject(1), "Subject: [tidm] job dumpjob: no progress");
	assert_int_equal(tidm_manager_pause(m, "dumpjob", &out), 0);
	json_decref(out);
	wait_mail(2);
	assert_string_equal(subject(2), "Subject: [tidm] job dumpjob: no progress (resolved)");
	assert_int_equal(tidm_manager_events(m, "dumpjob", 0, 100, &out), 0);
	{
		char *t = json_dumps(out, 0);
		assert_non_null(strstr(t, "\"kind\": \"alert\""));
		free(t);
	}
	json_decref(out);
	tidm_manager_close(m);
}

static void test_alerts__subscriptions(void **state)
{
	tidm_manager *m;
	json_t *out = NULL;
	char *t;
	const char *ok = "{\"kind\":\"webhook\",\"url\":\"https://h.example/x\",\"secret\":\"0123456789abcdef-secret\"}";
	(void)state;

	m = open_mgr();
	assert_int_equal(tidm_manager_alert_sub_create(m, ok, strlen(ok), &out), 0);
	t = json_dumps(out, JSON_COMPACT);
	assert_null(strstr(t, "0123456789abcdef"));
	assert_non_null(strstr(t, "\"has_secret\":true"));
	free(t);
	json_decref(out);
	assert_int_equal(tidm_manager_alert_sub_list(m, &out), 0);
	t = json_dumps(out, JSON_COMPACT);
	assert_null(strstr(t, "0123456789abcdef"));
	free(t);
	json_decref(out);

	const char *bad[][2] = {
		{"{\"kind\":\"webhook\",\"url\":\"https://h/x\",\"secret\":\"short\"}", "secret"},
		{"{\"kind\":\"webhook\",\"url\":\"ftp://h/x\",\"secret\":\"0123456789abcdef\"}", "url"},
		{"{\"kind\":\"email\",\"address\":\"a@b\\nBcc: x@y\"}", "address"},
		{"{\"kind\":\"email\",\"address\":\"ops@example.com\",\"secret\":\"0123456789abcdef\"}", "secret"},
		{"{\"kind\":\"sms\"}", "kind"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tidm_manager_alert_sub_create(m, bad[i][0], strlen(bad[i][0]), &out), TIDM_EINVAL);
		assert_null(out);
		assert_string_equal(tidm_manager_err_field(), bad[i][1]);
	}
	assert_int_equal(tidm_manager_alert_sub_delete(m, "x1"), TIDM_ENOTFOUND);
	assert_int_equal(tidm_manager_alert_sub_delete(m, "1"), 0);
	assert_int_equal(tidm_manager_alert_sub_delete(m, "1"), TIDM_ENOTFOUND);
	tidm_manager_close(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alerts__lag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alerts__no_progress_then_paused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alerts__subscriptions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
