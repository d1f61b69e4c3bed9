/*
 * test_log.c - the log's two formats (util/log.h): text lines as before (a job named by
 * tidm_log_job is a "job NAME: " prefix), and JSON lines with exactly time, level, job and
 * message, escaped so that any message (quotes, newlines, control and invalid UTF-8
 * bytes) stays one valid JSON object on one line; the job of a line from the caller, else
 * the thread's, else the process's.
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
#include <jansson.h>

#include "util/log.h"

static char out[8192];

/* Runs fn with the log going to a pipe; out holds what it wrote. */
static void capture(void (*fn)(void))
{
	int p[2];
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	tidm_log_set_fd(p[1]);
	fn();
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	tidm_log_set_fd(2);
}

static void log_plain(void)
{
	tidm_info("copied %d rows", 5);
	tidm_log_job(TIDM_LOG_WARN, "shop", "lag %d s", 7);
}

static void test_log__text(void **state)
{
	(void)state;
	assert_int_equal(tidm_log_set_format_name("text"), 0);
	capture(log_plain);
	/* "2026-01-02T03:04:05.678Z INFO  copied 5 rows\n...WARN  job shop: lag 7 s\n" */
	assert_non_null(strstr(out, "Z INFO  copied 5 rows\n"));
	assert_non_null(strstr(out, "Z WARN  job shop: lag 7 s\n"));
	assert_int_equal(tidm_log_set_format_name("xml"), -1);
}

static void log_odd(void)
{
	tidm_error("bad \"quote\" \\ back\nnew line\ttab \x01 ctl \xff\xfe bytes \xc3\xa9t\xc3\xa9 ok");
	tidm_log_job(TIDM_LOG_INFO, "job-\"x\"", "named");
	tidm_log_set_thread_job("th");
	tidm_info("thread's");
	tidm_log_set_thread_job(NULL);
	tidm_log_set_default_job("proc");
	tidm_debug("below the level: not written");
	tidm_info("process's");
	tidm_log_set_default_job(NULL);
	tidm_info("none");
}

static json_t *line_json(char **cursor)
{
	char *nl = strchr(*cursor, '\n');
	json_error_t e;
	json_t *o;

	assert_non_null(nl);
	*nl = '\0';
	o = json_loads(*cursor, 0, &e);
	if (!o)
		fail_msg("not JSON (%s): %s", e.text, *cursor);
	*cursor = nl + 1;
	assert_int_equal(json_object_size(o), 4);
	assert_non_null(json_string_value(json_object_get(o, "time")));
	return o;
}

static void test_log__json(void **state)
{
	char *c = out;
	json_t *o;
	(void)state;

	assert_int_equal(tidm_log_set_format_name("json"), 0);
	capture(log_odd);
	tidm_log_set_format_name("text");

	o = line_json(&c);
	assert_string_equal(json_string_value(json_object_get(o, "level")), "error");
	assert_true(json_is_null(json_object_get(o, "job")));
	assert_string_equal(json_string_value(json_object_get(o, "message")),
			    "bad \"quote\" \\ back\nnew line\ttab \x01 ctl \xef\xbf\xbd\xef\xbf\xbd bytes \xc3\xa9t\xc3\xa9 ok");
	json_decref(o);
	o = line_json(&c);
	assert_string_equal(json_string_value(json_object_get(o, "job")), "job-\"x\"");
	assert_string_equal(json_string_value(json_object_get(o, "level")), "info");
	json_decref(o);
	o = line_json(&c);
	assert_string_equal(json_string_value(json_object_get(o, "job")), "th");
	json_decref(o);
	o = line_json(&c);
	assert_string_equal(json_string_value(json_object_get(o, "job")), "proc");
	assert_string_equal(json_string_value(json_object_get(o, "message")), "process's");
	json_decref(o);
	o = line_json(&c);
	assert_true(json_is_null(json_object_get(o, "job")));
	json_decref(o);
	assert_string_equal(c, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log__text),
		cmocka_unit_test(test_log__json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
