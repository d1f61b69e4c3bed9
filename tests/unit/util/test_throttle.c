/*
 * test_throttle.c - the export throttle's arithmetic (util/throttle, util/size): the token
 * bucket holds a rate from the first take and shares it among takers; the shared throttle
 * waits in slices that see a stop, on a fake clock; the AIMD controller backs off from the
 * observed rate when the probe's latency rises, climbs back step by step when it is calm,
 * never goes below its floor; the progress text; amounts with unit suffixes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/err.h"
#include "util/size.h"
#include "util/throttle.h"

static void near(double a, double b, int line)
{
	if (!(a > b - 1e-6 && a < b + 1e-6))
		fail_msg("line %d: %.9g, expected %.9g", line, a, b);
}
#define NEAR(a, b) near((a), (b), __LINE__)

/* 10,000 rows at 5,000 rows/s take 2 s from an empty bucket, whatever the step size. */
static void test_util_throttle__bucket_holds_rate(void **state)
{
	tidm_bucket b;
	double t = 0, wait;
	(void)state;
	tidm_bucket_init(&b, 5000, t);
	for (int i = 0; i < 100; i++) {
		wait = tidm_bucket_take(&b, 100, t);
		t += wait; /* the taker sleeps its wait */
	}
	NEAR(t, 2.0);
	/* unlimited: never waits */
	tidm_bucket_init(&b, 0, 0);
	assert_true(tidm_bucket_take(&b, 1e9, 0) == 0);
}

/* Idle time saves up at most TIDM_BUCKET_BURST_S of tokens. */
static void test_util_throttle__bucket_burst_capped(void **state)
{
	tidm_bucket b;
	(void)state;
	tidm_bucket_init(&b, 1000, 0);
	/* 10 s idle: only 250 tokens saved */
	assert_true(tidm_bucket_take(&b, 250, 10.0) == 0);
	NEAR(tidm_bucket_take(&b, 500, 10.0), 0.5);
}

/* Two takers at the same instant queue on one debt: together they get the rate. */
static void test_util_throttle__bucket_shared_debt(void **state)
{
	tidm_bucket b;
	(void)state;
	tidm_bucket_init(&b, 1000, 0);
	NEAR(tidm_bucket_take(&b, 500, 0), 0.5);
	NEAR(tidm_bucket_take(&b, 500, 0), 1.0);
	/* a lower rate from now on: the debt is paid at it */
	tidm_bucket_set_rate(&b, 500, 0);
	NEAR(tidm_bucket_take(&b, 0, 0), 2.0);
}

/* A fake clock: sleeping advances it; `stop_after` sleeps make stop() true. */
typedef struct fake {
	double now;
	int sleeps;
	int stop_after;
} fake;
static double fake_clock(void *p) { return ((fake *)p)->now; }
static void fake_sleep(double s, void *p)
{
	fake *f = p;
	assert_true(s <= TIDM_THROTTLE_SLICE_S + 1e-9); /* waits in slices */
	f->now += s;
	f->sleeps++;
}
static bool fake_stop(void *p)
{
	fake *f = p;
	return f->stop_after && f->sleeps >= f->stop_after;
}

/* 20,000 rows in steps of 64 at 10,000 rows/s: about 2 s of (fake) sleeping, all counted
 * as waited; the bytes cap applies as well. */
static void test_util_throttle__shared_cap(void **state)
{
	tidm_throttle t;
	fake f = {100.0, 0, 0};
	uint64_t left = 20000;
	(void)state;
	tidm_throttle_init(&t, 10000, 0);
	tidm_throttle_set_clock(&t, fake_clock, fake_sleep, &f);
	while (left) {
		uint64_t n = left < 64 ? left : 64;
		assert_int_equal(tidm_throttle_take(&t, n, 1000, fake_stop, &f), 0);
		left -= n;
	}
	assert_true(f.now - 100.0 > 1.99 && f.now - 100.0 < 2.01);
	assert_int_equal(atomic_load(&t.taken_rows), 20000);
	assert_true(atomic_load(&t.waited_us) > 1990000);
	tidm_throttle_dispose(&t);

	/* bytes: 1 MB at 100 kB/s = 10 s; rows unlimited */
	f.now = 0;
	tidm_throttle_init(&t, 0, 100000);
	tidm_throttle_set_clock(&t, fake_clock, fake_sleep, &f);
	for (int i = 0; i < 100; i++)
		assert_int_equal(tidm_throttle_take(&t, 1, 10000, NULL, NULL), 0);
	assert_true(f.now > 9.99 && f.now < 10.01);
	tidm_throttle_dispose(&t);
}

/* A stop is seen within one slice, however long the wait. */
static void test_util_throttle__stop_while_waiting(void **state)
{
	tidm_throttle t;
	fake f = {0, 0, 3};
	(void)state;
	tidm_throttle_init(&t, 10, 0);
	tidm_throttle_set_clock(&t, fake_clock, fake_sleep, &f);
	assert_int_equal(tidm_throttle_take(&t, 1000, 0, fake_stop, &f), TIDM_ECANCELED); /* a 100 s wait */
	assert_int_equal(f.sleeps, 3);
	tidm_throttle_dispose(&t);
}

/* The adaptive limit lowers the rows rate below the user's cap and never raises it above. */
static void test_util_throttle__adaptive_limit(void **state)
{
	tidm_throttle t;
	fake f = {0, 0, 0};
	(void)state;
	tidm_throttle_init(&t, 10000, 0);
	tidm_throttle_set_clock(&t, fake_clock, fake_sleep, &f);
	NEAR(tidm_throttle_rows_limit(&t), 10000);
	tidm_throttle_set_adaptive(&t, 2000);
	NEAR(tidm_throttle_rows_limit(&t), 2000);
	tidm_throttle_set_adaptive(&t, 50000);
	NEAR(tidm_throttle_rows_limit(&t), 10000);
	tidm_throttle_set_adaptive(&t, 0);
	NEAR(tidm_throttle_rows_limit(&t), 10000);
	tidm_throttle_dispose(&t);
	tidm_throttle_init(&t, 0, 0);
	tidm_throttle_set_adaptive(&t, 300);
	NEAR(tidm_throttle_rows_limit(&t), 300);
	tidm_throttle_dispose(&t);
}

/* Latency up: multiplicative decrease from the rate observed; calm for 2 steps in a row:
 * additive increase by 5% of the peak per step, released at 1.25 x the peak; between the
 * thresholds: hold. */
static void test_util_throttle__aimd_steps(void **state)
{
	tidm_aimd a;
	double base = 0.0004;
	(void)state;
	tidm_aimd_init(&a, base, 0);
	/* calm, unlimited: stays unlimited, learns the peak */
	for (int i = 0; i < 3; i++)
		NEAR(tidm_aimd_step(&a, base, 40000, false), 0);
	assert_int_equal(a.last, 0);
	NEAR(a.peak, 40000);
	/* 2.1 ms vs 0.4 ms: back off to 0.6 x observed (30,000 rows/s now) */
	NEAR(tidm_aimd_step(&a, 0.0021, 30000, false), 18000);
	assert_int_equal(a.last, -1);
	/* still congested: from the limit (the readers reach it) */
	NEAR(tidm_aimd_step(&a, 0.0021, 18000, false), 10800);
	/* a limit the readers do not reach: from what they achieve */
	NEAR(tidm_aimd_step(&a, 0.0021, 5000, false), 3000);
	/* in between (0.7 ms: above 1.2 x + 0.15 ms, below 1.5 x + 0.3 ms): hold */
	NEAR(tidm_aimd_step(&a, 0.0007, 3000, false), 3000);
	assert_int_equal(a.last, 0);
	/* calm once: hold; twice in a row: + 5% of the 40,000 peak, and so on */
	NEAR(tidm_aimd_step(&a, 0.0004, 3000, false), 3000);
	assert_int_equal(a.last, 0);
	NEAR(tidm_aimd_step(&a, 0.0005, 3000, false), 5000);
	assert_int_equal(a.last, 1);
	NEAR(tidm_aimd_step(&a, 0.0004, 5000, false), 7000);
	/* the running-threads signal alone backs off too */
	NEAR(tidm_aimd_step(&a, 0.0004, 7000, true), 4200);
	/* one noisy calm step between congested ones does not raise it */
	NEAR(tidm_aimd_step(&a, 0.0004, 4200, false), 4200);
	NEAR(tidm_aimd_step(&a, 0.0030, 4200, false), 2520);
	NEAR(tidm_aimd_step(&a, 0.0004, 2520, false), 2520);
	/* calm long enough: released at 1.25 x peak = 50,000 */
	for (int i = 0; i < 40 && a.limit > 0; i++)
		tidm_aimd_step(&a, 0.0004, a.limit, false);
	assert_true(a.limit == 0);
	assert_int_equal(a.last, 1);
}

/* The first half second of a stream is a burst: it sets neither the peak nor the step. */
static void test_util_throttle__aimd_burst(void **state)
{
	tidm_aimd a;
	(void)state;
	tidm_aimd_init(&a, 0.0004, 0);
	tidm_aimd_step(&a, 0.0004, 152000, false);
	tidm_aimd_step(&a, 0.0004, 30000, false);
	tidm_aimd_step(&a, 0.0004, 31000, false);
	NEAR(a.peak, 31000);
	NEAR(tidm_aimd_floor(&a), 1550);
	/* a backoff before the peak is known is not lifted by the next two calm steps (the
	 * bench saw 208,456 rows/s, then 43,063 and 38,857: released at once) */
	tidm_aimd_init(&a, 0.00039, 0);
	NEAR(tidm_aimd_step(&a, 0.00701, 208456, false), 125073.6);
	tidm_aimd_step(&a, 0.00017, 43063, false);
	tidm_aimd_step(&a, 0.00024, 38857, false);
	assert_true(a.limit > 0);
}

/* The floor: 5% of the peak (at least 100/s); the export never stalls. */
static void test_util_throttle__aimd_floor(void **state)
{
	tidm_aimd a;
	(void)state;
	tidm_aimd_init(&a, 0.0004, 0);
	for (int i = 0; i < 3; i++)
		tidm_aimd_step(&a, 0.0004, 100000, false);
	for (int i = 0; i < 50; i++)
		tidm_aimd_step(&a, 0.5, a.limit > 0 ? a.limit : 100000, false);
	NEAR(a.limit, 5000);
	NEAR(tidm_aimd_floor(&a), 5000);
	/* nothing observed yet: the absolute floor */
	tidm_aimd_init(&a, 0.0004, 0);
	NEAR(tidm_aimd_step(&a, 0.01, 0, false), 100);
	/* a probe that timed out (5 s) is congestion too */
	tidm_aimd_init(&a, 0.0004, 0);
	NEAR(tidm_aimd_step(&a, 5.0, 1000, false), 600);
}

/* With a ceiling (max-rows-per-second): released when it reaches the ceiling; a floor
 * never above the ceiling. */
static void test_util_throttle__aimd_ceiling(void **state)
{
	tidm_aimd a;
	(void)state;
	tidm_aimd_init(&a, 0.001, 2000);
	NEAR(tidm_aimd_step(&a, 0.01, 2000, false), 1200);
	for (int i = 0; i < 20 && a.limit > 0; i++)
		tidm_aimd_step(&a, 0.001, a.limit, false);
	assert_true(a.limit == 0);
	tidm_aimd_init(&a, 0.001, 50);
	NEAR(tidm_aimd_floor(&a), 50);
}

static void test_util_throttle__median(void **state)
{
	double v[] = {5, 1, 4, 2, 3}, w[] = {4, 1, 3, 2};
	(void)state;
	NEAR(tidm_median(v, 5), 3);
	NEAR(tidm_median(w, 4), 2.5);
	NEAR(tidm_median(NULL, 0), 0);
}

static void test_util_throttle__format(void **state)
{
	tidm_throttle_gauges g;
	char out[128];
	(void)state;
	memset(&g, 0, sizeof(g));
	tidm_throttle_format(out, sizeof(out), &g);
	assert_string_equal(out, "");
	atomic_store(&g.mode, TIDM_THROTTLE_FIXED);
	atomic_store(&g.held_permille, 5);
	tidm_throttle_format(out, sizeof(out), &g);
	assert_string_equal(out, ""); /* under 1%: not holding back */
	atomic_store(&g.held_permille, 904);
	tidm_throttle_format(out, sizeof(out), &g);
	assert_string_equal(out, "throttled 90% (cap)");
	atomic_store(&g.mode, TIDM_THROTTLE_ADAPTIVE);
	atomic_store(&g.held_permille, 430);
	atomic_store(&g.probe_us, 2100);
	atomic_store(&g.baseline_us, 400);
	tidm_throttle_format(out, sizeof(out), &g);
	assert_string_equal(out, "throttled 43% (adaptive, probe 2.1 ms vs 0.4 ms idle)");
}

static void test_util_throttle__size_parse(void **state)
{
	uint64_t n = 0;
	(void)state;
	assert_int_equal(tidm_size_parse("1048576", 7, &n), 0);
	assert_true(n == 1048576);
	assert_int_equal(tidm_size_parse("10MB", 4, &n), 0);
	assert_true(n == 10000000);
	assert_int_equal(tidm_size_parse("64MiB", 5, &n), 0);
	assert_true(n == 67108864);
	assert_int_equal(tidm_size_parse("512 KiB", 7, &n), 0);
	assert_true(n == 524288);
	assert_int_equal(tidm_size_parse("2G", 2, &n), 0);
	assert_true(n == 2000000000);
	assert_int_equal(tidm_size_parse("10XB", 4, &n), -1);
	assert_int_equal(tidm_size_parse("MB", 2, &n), -1);
	assert_int_equal(tidm_size_parse("-5", 2, &n), -1);
	assert_int_equal(tidm_size_parse("1.5MB", 5, &n), -1);
	assert_int_equal(tidm_size_parse("", 0, &n), -1);
	assert_int_equal(tidm_size_parse("99999999999999999999", 20, &n), -1);
	assert_int_equal(tidm_size_parse("20000000TiB", 11, &n), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_throttle__bucket_holds_rate),
		cmocka_unit_test(test_util_throttle__bucket_burst_capped),
		cmocka_unit_test(test_util_throttle__bucket_shared_debt),
		cmocka_unit_test(test_util_throttle__shared_cap),
		cmocka_unit_test(test_util_throttle__stop_while_waiting),
		cmocka_unit_test(test_util_throttle__adaptive_limit),
		cmocka_unit_test(test_util_throttle__aimd_steps),
		cmocka_unit_test(test_util_throttle__aimd_burst),
		cmocka_unit_test(test_util_throttle__aimd_floor),
		cmocka_unit_test(test_util_throttle__aimd_ceiling),
		cmocka_unit_test(test_util_throttle__median),
		cmocka_unit_test(test_util_throttle__format),
		cmocka_unit_test(test_util_throttle__size_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
