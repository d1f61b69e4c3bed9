/*
 * history.c - the recent past of each job for the console's charts (issue 16): the
 * replication lag, the apply rate (binlog rows applied per second) and the copy rate (rows
 * copied per second), one sample every HIST_STEP_MS, the last HIST_SLOTS of them (6 hours).
 *
 * DESIGN
 * The alerts watcher (alerts.c) already wakes every couple of seconds and looks at every
 * job under m->mu; it calls mgr_history_round() after its own round. A job gets a ring
 * only once it has run (a created or never-started job costs nothing), and the ring grows
 * by doubling up to its cap, so a job that ran for a minute holds a few hundred bytes,
 * not the whole six hours. Rates are the deltas of the runner's counters between two
 * samples; a counter that went backwards (a new run reset it) gives a rate of 0 for that
 * step instead of a spike. The history lives in memory: a daemon restart starts it anew
 * (the Prometheus metrics are the long-term record).
 */
#include <stdlib.h>
#include <string.h>

#include "service/manager_int.h"
#include "util/err.h"

#define HIST_STEP_MS 5000
#define HIST_SLOTS (6 * 3600 / 5)

struct hist_sample {
	int64_t t_ms;
	float lag_s;       /* < 0: unknown (not syncing) */
	float apply_rps;   /* binlog rows applied per second */
	float copy_rps;    /* rows copied per second */
};

struct mgr_history {
	struct hist_sample *s;
	size_t cap, start, n;    /* ring: n samples from index start */
	int64_t last_ms;         /* time of the counters below */
	uint64_t last_apply, last_copy;
};

void mgr_history_free(struct mgr_history *h)
{
	if (h) {
		free(h->s);
		free(h);
	}
}

static void push(struct mgr_history *h, const struct hist_sample *x)
{
	if (h->n == h->cap && h->cap < HIST_SLOTS) {
		size_t ncap = h->cap ? h->cap * 2 : 64;
		struct hist_sample *ns;

		if (ncap > HIST_SLOTS)
			ncap = HIST_SLOTS;
		if (!(ns = malloc(ncap * sizeof(*ns))))
			return; /* keep what we have; the next round tries again */
		for (size_t k = 0; k < h->n; k++)
			ns[k] = h->s[(h->start + k) % h->cap];
		free(h->s);
		h->s = ns;
		h->cap = ncap;
		h->start = 0;
	}
	if (h->n < h->cap) {
		h->s[(h->start + h->n) % h->cap] = *x;
		h->n++;
	} else {
		h->s[h->start] = *x;
		h->start = (h->start + 1) % h->cap;
	}
}

static float rate(uint64_t now, uint64_t before, int64_t dt_ms)
{
	if (now < before || dt_ms <= 0)
		return 0;
	return (float)((double)(now - before) * 1000.0 / (double)dt_ms);
}

void mgr_history_round(tidm_manager *m)
{
	int64_t now = mgr_now_ms();

	for (size_t k = 0; k < m->njobs; k++) {
		mgr_job *j = m->jobs[k];
		struct mgr_history *h = j->hist;
		uint64_t apply, copy;
		struct hist_sample x;
		int64_t lag;

		if (j->deleted || (!h && !j->th_live))
			continue;
		if (!h && !(h = j->hist = calloc(1, sizeof(*h))))
			continue;
		apply = atomic_load(&j->prog.sync.rows);
		copy = atomic_load(&j->prog.full.rows_done);
		if (!h->last_ms) {
			h->last_ms = now;
			h->last_apply = apply;
			h->last_copy = copy;
			continue;
		}
		if (now - h->last_ms < HIST_STEP_MS)
			continue;
		lag = atomic_load(&j->prog.sync.lag_s);
		x.t_ms = now;
		x.lag_s = j->th_live && atomic_load(&j->prog.phase) == TIDM_PHASE_SYNC && lag >= 0 ? (float)lag : -1;
		x.apply_rps = j->th_live ? rate(apply, h->last_apply, now - h->last_ms) : 0;
		x.copy_rps = j->th_live ? rate(copy, h->last_copy, now - h->last_ms) : 0;
		push(h, &x);
		h->last_ms = now;
		h->last_apply = apply;
		h->last_copy = copy;
	}
}

static json_t *num(float v)
{
	return json_real((double)(int64_t)((double)v * 10.0 + 0.5) / 10.0);
}

int tidm_manager_history(tidm_manager *m, const char *name, int64_t since_ms, json_t **out)
{
	json_t *arr;
	int rc = 0;

	mgr_err_begin();
	*out = NULL;
	pthread_mutex_lock(&m->mu);
	for (size_t k = 0; k < m->njobs; k++) {
		mgr_job *j = m->jobs[k];
		const struct mgr_history *h = j->hist;

		if (j->deleted || strcmp(j->name, name) != 0)
			continue;
		arr = json_array();
		for (size_t i = 0; h && i < h->n; i++) {
			const struct hist_sample *x = &h->s[(h->start + i) % h->cap];
			if (x->t_ms <= since_ms)
				continue;
			json_array_append_new(arr, json_pack("[I o o o]", (json_int_t)x->t_ms,
							     x->lag_s < 0 ? json_null() : num(x->lag_s),
							     num(x->apply_rps), num(x->copy_rps)));
		}
		*out = json_pack("{ss si s[ssss] so}", "name", j->name, "step_s", HIST_STEP_MS / 1000, "columns", "time_ms",
				 "lag_s", "apply_rows_per_s", "copy_rows_per_s", "samples", arr);
		pthread_mutex_unlock(&m->mu);
		return 0;
	}
	rc = tidm_err_set(TIDM_ENOTFOUND, "no job named %s", name);
	pthread_mutex_unlock(&m->mu);
	return rc;
}
