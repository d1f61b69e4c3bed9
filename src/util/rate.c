/*
 * rate.c - progress estimation (see rate.h).
 *
 * DESIGN: the time left is (total - done) / rate with a rate smoothed over time, not
 * done / elapsed: the elapsed time includes the start (connecting, planning, the first
 * statement's latency), which made the first seconds of a copy show hours for what took
 * one second. The weight of each interval is 1 - exp(-dt / tau), so irregular sampling
 * (a progress line every second on a terminal, every 10 s in a log) weighs time, not
 * sample count. Nothing is shown until TIDM_RATE_MIN_SPAN_S seconds of samples with some
 * progress: an estimate from a fraction of a second is noise.
 */
#include "util/rate.h"

#include <math.h>
#include <stdio.h>

void tidm_rate_init(tidm_rate *r)
{
	r->started = false;
	r->t_first = r->t_last = r->v_last = r->rate = 0;
	r->have_rate = false;
}

void tidm_rate_sample(tidm_rate *r, double t, double done)
{
	double dt, inst, w;

	if (!r->started || done < r->v_last || t < r->t_last) {
		tidm_rate_init(r);
		r->started = true;
		r->t_first = r->t_last = t;
		r->v_last = done;
		return;
	}
	dt = t - r->t_last;
	if (dt < 0.1)
		return;
	inst = (done - r->v_last) / dt;
	if (!r->have_rate) {
		if (done > r->v_last) {
			r->rate = inst;
			r->have_rate = true;
		} else {
			/* nothing moved yet: the clock starts at the first progress */
			r->t_first = t;
		}
	} else {
		w = 1.0 - exp(-dt / TIDM_RATE_TAU_S);
		r->rate += w * (inst - r->rate);
	}
	r->t_last = t;
	r->v_last = done;
}

bool tidm_rate_known(const tidm_rate *r)
{
	return r->have_rate && r->rate > 0 && r->t_last - r->t_first >= TIDM_RATE_MIN_SPAN_S;
}

double tidm_rate_per_s(const tidm_rate *r)
{
	return tidm_rate_known(r) ? r->rate : 0;
}

double tidm_rate_eta(const tidm_rate *r, double done, double total)
{
	if (total <= 0 || !tidm_rate_known(r))
		return -1;
	if (done >= total)
		return 0;
	return (total - done) / r->rate;
}

void tidm_rate_format_eta(char *out, size_t n, double secs)
{
	long s;

	if (secs < 0) {
		snprintf(out, n, "estimating");
		return;
	}
	if (secs > 359999) {
		snprintf(out, n, ">99h");
		return;
	}
	s = lround(secs);
	snprintf(out, n, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
}
