/*
 * throttle.c - token bucket, AIMD controller and the shared throttle (see throttle.h).
 *
 * DESIGN
 *  The bucket lets its tokens go negative: a taker subtracts its amount at once and
 *  waits until the refill has paid its debt (-tokens / rate). Concurrent takers thus
 *  queue on one debt and together get exactly the rate, without a condition variable or a
 *  wake-up order; each sleeps its own wait in short slices so a stop is seen within
 *  TIDM_THROTTLE_SLICE_S. The bucket starts empty and saves up at most
 *  TIDM_BUCKET_BURST_S seconds of tokens, so a cap holds from the first row and a pause
 *  (between chunks) is not followed by a large burst.
 *  The AIMD controller is TCP's congestion avoidance applied to the source's latency:
 *  the probe's latency above its idle baseline is the congestion signal. A backoff starts
 *  from the rate actually achieved (not from a limit the readers may not reach), an
 *  increase adds a fixed share of the peak rate, and a floor keeps the export moving.
 */
#include "util/throttle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "util/err.h"

/* ---- token bucket ---------------------------------------------------------------- */

void tidm_bucket_init(tidm_bucket *b, double rate, double now)
{
	b->rate = rate > 0 ? rate : 0;
	b->tokens = 0;
	b->at = now;
}

static void refill(tidm_bucket *b, double now)
{
	if (now > b->at) {
		b->tokens += (now - b->at) * b->rate;
		if (b->tokens > b->rate * TIDM_BUCKET_BURST_S)
			b->tokens = b->rate * TIDM_BUCKET_BURST_S;
	}
	if (now > b->at)
		b->at = now;
}

void tidm_bucket_set_rate(tidm_bucket *b, double rate, double now)
{
	refill(b, now);
	b->rate = rate > 0 ? rate : 0;
	if (b->rate == 0)
		b->tokens = 0; /* unlimited: no debt carried into a later limit */
}

double tidm_bucket_take(tidm_bucket *b, double n, double now)
{
	if (b->rate <= 0)
		return 0;
	refill(b, now);
	b->tokens -= n;
	return b->tokens < 0 ? -b->tokens / b->rate : 0;
}

/* ---- AIMD controller ----------------------------------------------------------------- */

void tidm_aimd_init(tidm_aimd *a, double baseline_s, double ceiling)
{
	a->baseline = baseline_s > 0 ? baseline_s : 0;
	a->ceiling = ceiling > 0 ? ceiling : 0;
	a->limit = 0;
	a->peak = 0;
	a->release = 0;
	a->recent[0] = a->recent[1] = a->recent[2] = 0;
	a->steps = 0;
	a->calm_steps = 0;
	a->backoffs = 0;
	a->last = 0;
}

double tidm_aimd_floor(const tidm_aimd *a)
{
	double f = a->peak * TIDM_AIMD_FLOOR;

	if (f < TIDM_AIMD_FLOOR_MIN)
		f = TIDM_AIMD_FLOOR_MIN;
	if (a->ceiling > 0 && f > a->ceiling)
		f = a->ceiling;
	return f;
}

double tidm_aimd_step(tidm_aimd *a, double probe_s, double observed, bool busy)
{
	bool congested = busy || probe_s > a->baseline * TIDM_AIMD_RATIO + TIDM_AIMD_SLACK_S;
	bool calm = !busy && probe_s <= a->baseline * TIDM_AIMD_CALM_RATIO + TIDM_AIMD_CALM_SLACK_S;
	double floor_, from;

	/* the peak is that of the median of the last 3 steps: the first half second of a
	 * stream comes in a burst (socket buffers) that would inflate the step and the floor */
	a->recent[a->steps++ % 3] = observed;
	if (a->steps >= 3) {
		double m[3] = {a->recent[0], a->recent[1], a->recent[2]};
		double med = tidm_median(m, 3);
		if (med > a->peak)
			a->peak = med;
	}
	a->calm_steps = calm ? a->calm_steps + 1 : 0;
	floor_ = tidm_aimd_floor(a);
	if (congested) {
		/* from what the readers achieved: a limit above it would not slow them */
		from = a->limit > 0 && a->limit < observed ? a->limit : observed;
		if (from <= 0)
			from = a->limit > 0 ? a->limit : a->peak;
		/* (before the peak is known, from the rate the backoff starts from) */
		a->release = 1.25 * (a->peak > from ? a->peak : from);
		a->limit = from * TIDM_AIMD_DECREASE;
		if (a->limit < floor_)
			a->limit = floor_;
		a->backoffs++;
		a->last = -1;
	} else if (calm && a->limit > 0 && a->calm_steps >= TIDM_AIMD_CALM_STEPS) {
		double step = a->peak * TIDM_AIMD_STEP;
		a->limit += step > floor_ ? step : floor_;
		if ((a->ceiling > 0 && a->limit >= a->ceiling) || (a->ceiling == 0 && a->limit >= a->release))
			a->limit = 0; /* released: the user's cap (if any) is all that holds */
		a->last = 1;
	} else {
		a->last = 0;
	}
	return a->limit;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

double tidm_median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- shared throttle ------------------------------------------------------------- */

double tidm_throttle_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double real_clock(void *payload)
{
	(void)payload;
	return tidm_throttle_now();
}

static void real_sleep(double s, void *payload)
{
	struct timespec ts;
	(void)payload;
	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static double min_rate(double a, double b)
{
	if (a <= 0)
		return b > 0 ? b : 0;
	if (b <= 0)
		return a;
	return a < b ? a : b;
}

void tidm_throttle_init(tidm_throttle *t, double max_rows, double max_bytes)
{
	double now = tidm_throttle_now();

	pthread_mutex_init(&t->mu, NULL);
	t->max_rows = max_rows > 0 ? max_rows : 0;
	t->max_bytes = max_bytes > 0 ? max_bytes : 0;
	t->adaptive = 0;
	t->clock = real_clock;
	t->sleep = real_sleep;
	t->clock_payload = NULL;
	tidm_bucket_init(&t->rows, t->max_rows, now);
	tidm_bucket_init(&t->bytes, t->max_bytes, now);
	atomic_store(&t->waited_us, 0);
	atomic_store(&t->taken_rows, 0);
	atomic_store(&t->taken_bytes, 0);
}

void tidm_throttle_dispose(tidm_throttle *t)
{
	pthread_mutex_destroy(&t->mu);
}

void tidm_throttle_set_clock(tidm_throttle *t, tidm_clock_fn clock, tidm_sleep_fn sleep, void *payload)
{
	double now = clock(payload);

	pthread_mutex_lock(&t->mu);
	t->clock = clock;
	t->sleep = sleep;
	t->clock_payload = payload;
	t->rows.at = t->bytes.at = now;
	pthread_mutex_unlock(&t->mu);
}

void tidm_throttle_set_adaptive(tidm_throttle *t, double rows_per_s)
{
	pthread_mutex_lock(&t->mu);
	t->adaptive = rows_per_s > 0 ? rows_per_s : 0;
	tidm_bucket_set_rate(&t->rows, min_rate(t->max_rows, t->adaptive), t->clock(t->clock_payload));
	pthread_mutex_unlock(&t->mu);
}

double tidm_throttle_rows_limit(tidm_throttle *t)
{
	double r;

	pthread_mutex_lock(&t->mu);
	r = t->rows.rate;
	pthread_mutex_unlock(&t->mu);
	return r;
}

int tidm_throttle_take(tidm_throttle *t, uint64_t rows, uint64_t bytes, bool (*stop)(void *payload), void *payload)
{
	double wait, wb, now;

	atomic_fetch_add(&t->taken_rows, rows);
	atomic_fetch_add(&t->taken_bytes, bytes);
	pthread_mutex_lock(&t->mu);
	now = t->clock(t->clock_payload);
	wait = tidm_bucket_take(&t->rows, (double)rows, now);
	wb = tidm_bucket_take(&t->bytes, (double)bytes, now);
	pthread_mutex_unlock(&t->mu);
	if (wb > wait)
		wait = wb;
	if (wait <= 0)
		return 0;
	atomic_fetch_add(&t->waited_us, (uint64_t)(wait * 1e6));
	while (wait > 0) {
		double step = wait > TIDM_THROTTLE_SLICE_S ? TIDM_THROTTLE_SLICE_S : wait;
		if (stop && stop(payload))
			return TIDM_ECANCELED;
		t->sleep(step, t->clock_payload);
		wait -= step;
	}
	return 0;
}

void tidm_throttle_format(char *out, size_t n, const tidm_throttle_gauges *g)
{
	int mode = atomic_load(&g->mode);
	unsigned held = atomic_load(&g->held_permille);

	if (n)
		out[0] = '\0';
	if (mode == TIDM_THROTTLE_OFF || held < 10)
		return;
	if (mode == TIDM_THROTTLE_ADAPTIVE && atomic_load(&g->baseline_us))
		snprintf(out, n, "throttled %u%% (adaptive, probe %.1f ms vs %.1f ms idle)", (held + 5) / 10,
			 (double)atomic_load(&g->probe_us) / 1000.0, (double)atomic_load(&g->baseline_us) / 1000.0);
	else
		snprintf(out, n, "throttled %u%% (%s)", (held + 5) / 10, mode == TIDM_THROTTLE_ADAPTIVE ? "adaptive" : "cap");
}
