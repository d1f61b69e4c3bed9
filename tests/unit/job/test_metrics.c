/* test_metrics.c - the Prometheus text of jobs (job/metrics.h): label escaping, one
 * HELP/TYPE per family with every job's samples, counters that only grow, the histogram
 * cumulative, samples absent while unknown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "job/metrics.h"
#include "util/err.h"

static char *render(const tidm_job_metrics *j, size_t n)
{
	tidm_buf b;
	tidm_buf_init(&b);
	tidm_metrics_render_jobs(&b, j, n, 1000);
	tidm_buf_putc(&b, '\0');
	return tidm_buf_detach(&b);
}

/* The value of the sample whose line starts with `series ` (-1 when absent). */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;
	while ((p = strstr(p, series))) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return -1;
}

static void test_label_escaping(void **state)
{
	tidm_run_progress p = {0};
	tidm_job_metrics j = {"a\"b\\c\nd", "all", "running", "syncing", &p};
	char *t = render(&j, 1);
	(void)state;
	assert_non_null(strstr(t, "tidm_job_state{job_name=\"a\\\"b\\\\c\\nd\",state=\"running\"} 1\n"));
	assert_non_null(strstr(t, "tidm_job_state{job_name=\"a\\\"b\\\\c\\nd\",state=\"failed\"} 0\n"));
	assert_null(strstr(t, "c\nd")); /* no raw newline inside a label */
	free(t);
}

static void test_families_once_and_grouped(void **state)
{
	tidm_run_progress p1 = {0}, p2 = {0};
	tidm_job_metrics j[2] = {{"one", "full", "running", "loading", &p1}, {"two", "incremental", "paused", "", &p2}};
	char *t = render(j, 2), *a, *b;
	(void)state;
	a = strstr(t, "# TYPE tidm_sync_rows_applied_total counter\n");
	assert_non_null(a);
	assert_null(strstr(a + 1, "# TYPE tidm_sync_rows_applied_total"));
	/* both jobs' samples right after the family's header */
	b = strstr(a, "tidm_sync_rows_applied_total{job_name=\"one\"} 0\ntidm_sync_rows_applied_total{job_name=\"two\"} 0\n");
	assert_non_null(b);
	assert_non_null(strstr(t, "tidm_jobs 2\n"));
	assert_non_null(strstr(t, "tidm_job_stage{job_name=\"one\",stage=\"loading\"} 1\n"));
	assert_non_null(strstr(t, "tidm_job_info{job_name=\"two\",type=\"incremental\"} 1\n"));
	/* not replicating: no lag sample; no position yet: none either */
	assert_null(strstr(t, "tidm_replication_lag_seconds{"));
	assert_null(strstr(t, "tidm_binlog_file_index{"));
	free(t);
}

static void test_counters_monotonic_and_histogram(void **state)
{
	tidm_run_progress p = {0};
	tidm_job_metrics j = {"s", "all", "running", "syncing", &p};
	char *t1, *t2;
	(void)state;
	atomic_store(&p.sync.rows, 10);
	atomic_store(&p.sync.lag_s, 7);
	atomic_store(&p.sync.applied_pos, tidm_sync_pos_pack("mysql-bin.000012", 4567));
	atomic_store(&p.sync.checkpoint_at, 990);
	atomic_fetch_add(&p.sync.batch_hist[0], 2);  /* <= 1 ms */
	atomic_fetch_add(&p.sync.batch_hist[TIDM_SYNC_BATCH_BUCKETS], 1); /* above 10 s */
	atomic_store(&p.sync.batch_sum_us, 12001000);
	atomic_fetch_add(&p.errors[tidm_run_error_class(TIDM_ECONN)], 1);
	t1 = render(&j, 1);
	assert_true(sample(t1, "tidm_sync_rows_applied_total{job_name=\"s\"}") == 10);
	assert_true(sample(t1, "tidm_replication_lag_seconds{job_name=\"s\"}") == 7);
	assert_true(sample(t1, "tidm_binlog_file_index{job_name=\"s\"}") == 12);
	assert_true(sample(t1, "tidm_binlog_position_bytes{job_name=\"s\"}") == 4567);
	assert_true(sample(t1, "tidm_checkpoint_age_seconds{job_name=\"s\"}") == 10);
	assert_true(sample(t1, "tidm_errors_total{job_name=\"s\",class=\"connection\"}") == 1);
	assert_true(sample(t1, "tidm_errors_total{job_name=\"s\",class=\"other\"}") == 0);
	assert_true(sample(t1, "tidm_sync_batch_duration_seconds_bucket{job_name=\"s\",le=\"0.001\"}") == 2);
	assert_true(sample(t1, "tidm_sync_batch_duration_seconds_bucket{job_name=\"s\",le=\"10\"}") == 2);
	assert_true(sample(t1, "tidm_sync_batch_duration_seconds_bucket{job_name=\"s\",le=\"+Inf\"}") == 3);
	assert_true(sample(t1, "tidm_sync_batch_duration_seconds_count{job_name=\"s\"}") == 3);
	assert_true(sample(t1, "tidm_sync_batch_duration_seconds_sum{job_name=\"s\"}") > 12.0);
	/* more work: every counter is at least what it was */
	atomic_fetch_add(&p.sync.rows, 5);
	atomic_fetch_add(&p.sync.txns, 2);
	atomic_fetch_add(&p.sync.batch_hist[3], 1);
	t2 = render(&j, 1);
	for (const char *q = t1; (q = strstr(q, "# TYPE ")); q++) {
		char name[128], type[32], series[160];
		if (sscanf(q, "# TYPE %127s %31s", name, type) != 2 || strcmp(type, "counter") != 0)
			continue;
		snprintf(series, sizeof(series), "%s{job_name=\"s\"}", name);
		if (sample(t1, series) >= 0)
			assert_true(sample(t2, series) >= sample(t1, series));
	}
	assert_true(sample(t2, "tidm_sync_rows_applied_total{job_name=\"s\"}") == 15);
	assert_true(sample(t2, "tidm_sync_batch_duration_seconds_count{job_name=\"s\"}") == 4);
	free(t1);
	free(t2);
}

/* 200 jobs render well under the 50 ms a scrape may take (issue 15), even under ASan. */
static void test_200_jobs_fast(void **state)
{
	static tidm_run_progress p[200];
	tidm_job_metrics j[200];
	char names[200][32];
	struct timespec t0, t1;
	tidm_buf b;
	double ms;
	(void)state;
	for (int i = 0; i < 200; i++) {
		snprintf(names[i], sizeof(names[i]), "job-%03d", i);
		j[i] = (tidm_job_metrics){names[i], "all", "running", "syncing", &p[i]};
		atomic_store(&p[i].sync.rows, (uint64_t)i * 1000);
	}
	tidm_buf_init(&b);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tidm_metrics_render_jobs(&b, j, 200, 1000);
	tidm_metrics_render_process(&b);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("200 jobs: %zu bytes rendered in %.2f ms\n", b.len, ms);
	assert_true(ms < 50);
	tidm_buf_dispose(&b);
}

static void test_process(void **state)
{
	tidm_buf b;
	(void)state;
	tidm_buf_init(&b);
	tidm_metrics_render_process(&b);
	tidm_buf_putc(&b, '\0');
	assert_non_null(strstr(b.data, "\nprocess_cpu_seconds_total "));
	assert_true(sample(b.data, "process_resident_memory_bytes") > 0);
	assert_true(sample(b.data, "process_open_fds") >= 3);
	assert_true(sample(b.data, "process_threads") >= 1);
	tidm_buf_dispose(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_families_once_and_grouped),
		cmocka_unit_test(test_counters_monotonic_and_histogram),
		cmocka_unit_test(test_200_jobs_fast),
		cmocka_unit_test(test_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
