/*
 * test_rate.c - the progress estimator (util/rate): "estimating" until the rate is known,
 * an ETA that follows the smoothed rate rather than the average since the start, and the
 * formatting a progress line shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/rate.h"

static const char *eta_str(const tidm_rate *r, double done, double total)
{
	static char buf[32];
	tidm_rate_format_eta(buf, sizeof(buf), tidm_rate_eta(r, done, total));
	return buf;
}

/* The case: a slow first second (29 rows/s) of a copy that ends after one second
 * never shows an ETA, only "estimating". */
static void test_util_rate__estimating_at_start(void **state)
{
	tidm_rate r;
	(void)state;
	tidm_rate_init(&r);
	assert_string_equal(eta_str(&r, 0, 1000000), "estimating");
	tidm_rate_sample(&r, 0.0, 0);
	assert_string_equal(eta_str(&r, 0, 1000000), "estimating");
	tidm_rate_sample(&r, 0.2, 29 * 100);
	assert_false(tidm_rate_known(&r));
	assert_string_equal(eta_str(&r, 2900, 1000000), "estimating");
	tidm_rate_sample(&r, 1.0, 1000000);
	assert_string_equal(eta_str(&r, 1000000, 1000000), "estimating");
	assert_true(tidm_rate_per_s(&r) == 0);
}

/* No progress at all (connecting, the first statement in flight): the clock of the
 * estimate starts at the first progress, not at the first sample. */
static void test_util_rate__clock_starts_at_first_progress(void **state)
{
	tidm_rate r;
	(void)state;
	tidm_rate_init(&r);
	for (double t = 0; t <= 10.0; t += 1.0)
		tidm_rate_sample(&r, t, 0);
	assert_string_equal(eta_str(&r, 0, 1000), "estimating");
	tidm_rate_sample(&r, 11.0, 100);
	tidm_rate_sample(&r, 12.0, 200);
	assert_string_equal(eta_str(&r, 200, 1000), "estimating");
	tidm_rate_sample(&r, 14.0, 400);
	assert_true(tidm_rate_known(&r));
	/* 600 left at 100/s */
	assert_string_equal(eta_str(&r, 400, 1000), "0:00:06");
}

/* A slow start followed by a steady rate: the ETA converges to the steady rate's, while
 * the average since the start would still be far off. */
static void test_util_rate__smoothed_rate_converges(void **state)
{
	tidm_rate r;
	double done = 0, t;
	(void)state;
	tidm_rate_init(&r);
	tidm_rate_sample(&r, 0, 0);
	tidm_rate_sample(&r, 1, 29); /* 29/s in the first second */
	done = 29;
	for (t = 2; t <= 60; t += 1) {
		done += 10000;
		tidm_rate_sample(&r, t, done);
	}
	assert_true(tidm_rate_known(&r));
	/* within 1% of 10000/s after 59 s at that rate (tau 10 s) */
	assert_true(tidm_rate_per_s(&r) > 9900 && tidm_rate_per_s(&r) <= 10000);
	/* 1,000,000 left: 100 s at 10000/s */
	double eta = tidm_rate_eta(&r, done, done + 1000000);
	assert_true(eta >= 100 && eta < 101.1);
	assert_string_equal(eta_str(&r, done, done), "0:00:00");
}

/* A rate that changes is followed within a few time constants, and samples closer than
 * 0.1 s or going backwards do not break it. */
static void test_util_rate__follows_changes(void **state)
{
	tidm_rate r;
	double done = 0, t;
	(void)state;
	tidm_rate_init(&r);
	tidm_rate_sample(&r, 0, 0);
	for (t = 1; t <= 30; t++)
		tidm_rate_sample(&r, t, done += 1000);
	tidm_rate_sample(&r, 30.05, done + 999999); /* too close: ignored */
	assert_true(tidm_rate_per_s(&r) > 990 && tidm_rate_per_s(&r) < 1010);
	for (t = 31; t <= 80; t++)
		tidm_rate_sample(&r, t, done += 4000);
	assert_true(tidm_rate_per_s(&r) > 3950 && tidm_rate_per_s(&r) <= 4000);
	/* the amount went down (a new run): estimating again */
	tidm_rate_sample(&r, 81, 10);
	assert_false(tidm_rate_known(&r));
	assert_string_equal(eta_str(&r, 10, 1000), "estimating");
}

static void test_util_rate__unknown_total_and_format(void **state)
{
	tidm_rate r;
	char buf[32];
	(void)state;
	tidm_rate_init(&r);
	for (double t = 0; t <= 5; t++)
		tidm_rate_sample(&r, t, t * 100);
	assert_true(tidm_rate_known(&r));
	assert_string_equal(eta_str(&r, 500, -1), "estimating"); /* no total yet */
	assert_string_equal(eta_str(&r, 500, 0), "estimating");
	tidm_rate_format_eta(buf, sizeof(buf), 3723.4);
	assert_string_equal(buf, "1:02:03");
	tidm_rate_format_eta(buf, sizeof(buf), 400000);
	assert_string_equal(buf, ">99h");
	tidm_rate_format_eta(buf, sizeof(buf), -1);
	assert_string_equal(buf, "estimating");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_rate__estimating_at_start),
		cmocka_unit_test(test_util_rate__clock_starts_at_first_progress),
		cmocka_unit_test(test_util_rate__smoothed_rate_converges),
		cmocka_unit_test(test_util_rate__follows_changes),
		cmocka_unit_test(test_util_rate__unknown_total_and_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
