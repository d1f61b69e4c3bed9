/*
 * rate.h - a progress estimator: samples of (time, amount done) in, a smoothed rate and
 * the time left out, or "estimating" while the rate is not known yet.
 *
 * Pure (no clock, no I/O): the caller passes the time of each sample, so tests feed
 * sequences of samples and check what a progress line would show. One owner per
 * estimator; not thread-safe.
 *
 * The rate is an exponentially weighted moving average of the rate between samples, with
 * a time constant of TIDM_RATE_TAU_S seconds, so a slow first second (connections, the
 * first statement) weighs less and less. It counts as known only after samples spanning
 * TIDM_RATE_MIN_SPAN_S seconds with some progress in them; before that the time left is
 * "estimating" (a copy that finishes in one second never shows an ETA).
 */
#ifndef TIDM_UTIL_RATE_H
#define TIDM_UTIL_RATE_H

#include <stdbool.h>
#include <stddef.h>

#define TIDM_RATE_TAU_S 10.0
#define TIDM_RATE_MIN_SPAN_S 3.0

typedef struct tidm_rate {
	bool started;      /* a first sample was taken */
	double t_first;    /* time of the first sample */
	double t_last;     /* time and amount of the last sample */
	double v_last;
	double rate;       /* smoothed amount per second (0 until the first progress) */
	bool have_rate;    /* rate holds at least one interval's measurement */
} tidm_rate;

void tidm_rate_init(tidm_rate *r);
/* One sample: `done` (monotonic; a smaller value restarts the estimate) at time `t` (s).
 * Samples closer than 0.1 s to the previous one are ignored. */
void tidm_rate_sample(tidm_rate *r, double t, double done);
/* True once the rate is known (see above). */
bool tidm_rate_known(const tidm_rate *r);
/* Smoothed amount per second; 0 while not known. */
double tidm_rate_per_s(const tidm_rate *r);
/* Seconds left to reach `total` from `done`, or -1 while estimating (rate unknown, or
 * total unknown: total <= 0). 0 when done >= total. */
double tidm_rate_eta(const tidm_rate *r, double done, double total);
/* "H:MM:SS", or "estimating" for a negative `secs`, ">99h" beyond 99:59:59. */
void tidm_rate_format_eta(char *out, size_t n, double secs);

#endif
