/*
 * probe.c - the export throttle's monitor: the held-back share for the gauges and, in
 * adaptive mode, the source probe that drives the AIMD controller (see probe.h).
 *
 * DESIGN
 *  One thread wakes every PROBE_TICK_S. In adaptive mode each tick sends the probe on its
 *  own connection and keeps its round-trip time: a point read through the storage engine
 *  (the export passes the first key of its largest table: page latches and buffer pool,
 *  as the applications' queries meet them), else `SELECT 1` (no table, no privilege).
 *  Its limit: a probe that mostly sleeps is scheduled at once when it wakes, so it sees
 *  CPU contention on the source's host late or not at all (bench/README.md). Every STEP_TICKS ticks
 *  (half a second) one control step takes the median latency of the step (a single slow
 *  answer is noise), the rows the readers took in it and the source's Threads_running,
 *  and sets the throttle's adaptive limit (tidm_aimd_step). Threads_running counts the
 *  export's own readers and the probe, so those are subtracted; the rest above twice its
 *  idle value plus BUSY_MARGIN counts as overload even while the probe still answers fast.
 *  The baseline (median of BASELINE_SAMPLES probes, and of Threads_running) is measured
 *  before the readers start: it is the source's latency under its own applications' load,
 *  which the export must not raise.
 *  A probe that fails (a timeout: PROBE_TIMEOUT_S) counts as congested; a lost connection
 *  is opened again every RECONNECT_S at most, the limit held meanwhile. The controller's
 *  floor keeps the export moving whatever the probe says.
 */
#include "db/probe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/err.h"
#include "util/log.h"

#define PROBE_TICK_S 0.1
#define STEP_TICKS 5
#define WINDOW_STEPS 10 /* the held-back share covers this many steps (5 s) */
#define BASELINE_SAMPLES 15
#define PROBE_TIMEOUT_S 5u
#define RECONNECT_S 2.0
#define BUSY_MARGIN 4.0

struct tidm_probe {
	tidm_throttle th;
	tidm_probe_opts o;
	tidm_conn_opts src;
	tidm_conn *conn;
	double reconnect_at;
	tidm_throttle_gauges *g;
	tidm_throttle_gauges own_gauges;
	char *sql; /* the probe */
	tidm_aimd aimd;
	double base_running; /* the source's Threads_running before the export, less the probe */
	bool adaptive;       /* the probe works (adaptive asked and the baseline measured) */
	bool trace;          /* TIDM_THROTTLE_TRACE set: every control step is logged (benches) */
	double started;
	pthread_t thread;
	_Atomic bool stop;
};

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

static void drop_conn(tidm_probe *p)
{
	tidm_conn_close(p->conn);
	p->conn = NULL;
	p->reconnect_at = tidm_throttle_now() + RECONNECT_S;
}

/* One round trip: its seconds in *lat. A timeout counts as PROBE_TIMEOUT_S; another
 * failure returns -1 (the connection is dropped and opened again later). */
static int probe_once(tidm_probe *p, double *lat)
{
	char *v = NULL;
	double t0;
	int rc;

	if (!p->conn) {
		if (tidm_throttle_now() < p->reconnect_at || tidm_conn_open(&p->conn, &p->src) < 0) {
			tidm_err_clear();
			if (!p->conn)
				p->reconnect_at = tidm_throttle_now() + RECONNECT_S;
			return -1;
		}
	}
	t0 = tidm_throttle_now();
	rc = tidm_conn_query_value(p->conn, &v, p->sql);
	*lat = tidm_throttle_now() - t0;
	free(v);
	if (rc < 0) {
		tidm_debug("the source probe failed after %.3f s: %s", *lat, tidm_err_msg());
		tidm_err_clear();
		drop_conn(p);
		if (*lat < (double)PROBE_TIMEOUT_S - 0.5)
			return -1;
		*lat = PROBE_TIMEOUT_S;
	}
	return 0;
}

/* The source's Threads_running; -1 when it cannot be read. */
static double threads_running(tidm_probe *p)
{
	tidm_res *res = NULL;
	double n = -1;

	if (!p->conn)
		return -1;
	if (tidm_conn_query(p->conn, &res, "SHOW GLOBAL STATUS LIKE 'Threads_running'") == 0 && tidm_res_next(res) == 1 &&
	    tidm_res_cols(res) >= 2 && tidm_res_get(res, 1))
		n = strtod(tidm_res_get(res, 1), NULL);
	else
		tidm_err_clear();
	tidm_res_free(res);
	return n;
}

/* The idle baseline: false when the probe does not work. */
static bool measure_baseline(tidm_probe *p)
{
	double lat[BASELINE_SAMPLES], run[3];
	size_t n = 0, nr = 0, i;

	for (i = 0; i < BASELINE_SAMPLES; i++) {
		if (probe_once(p, &lat[n]) == 0)
			n++;
		if (i < 3) {
			double r = threads_running(p);
			if (r >= 0)
				run[nr++] = r - 1; /* the probe's own SHOW */
		}
		sleep_s(0.05);
	}
	if (n < BASELINE_SAMPLES / 2 + 1 && strcmp(p->sql, "SELECT 1") != 0) {
		tidm_warn("%s throttle: the probe query fails (%s); probing with SELECT 1", p->o.what, p->sql);
		free(p->sql);
		if (!(p->sql = strdup("SELECT 1")))
			abort();
		p->reconnect_at = 0;
		return measure_baseline(p);
	}
	if (n < BASELINE_SAMPLES / 2 + 1)
		return false;
	tidm_aimd_init(&p->aimd, tidm_median(lat, n), p->o.max_rows);
	p->base_running = nr ? tidm_median(run, nr) : 0;
	if (p->base_running < 0)
		p->base_running = 0;
	atomic_store(&p->g->baseline_us, (uint64_t)(p->aimd.baseline * 1e6));
	atomic_store(&p->g->probe_us, (uint64_t)(p->aimd.baseline * 1e6));
	tidm_info("%s throttle: adaptive; the source answers a probe in %.2f ms before the copy (median of %zu), "
		  "%.0f threads running",
		  p->o.what, p->aimd.baseline * 1e3, n, p->base_running);
	return true;
}

/* One control step from the probes of the step and the rate the readers achieved. */
static void control(tidm_probe *p, double *lat, size_t n, double observed)
{
	double med, running, excess, limit, was = p->aimd.limit;
	bool busy = false;

	if (!n)
		return; /* no answer: the limit holds */
	med = tidm_median(lat, n);
	running = threads_running(p);
	if (running >= 0) {
		atomic_store(&p->g->threads_running, (uint32_t)running);
		excess = running - 1 - (double)p->o.readers;
		busy = excess > 2 * p->base_running + BUSY_MARGIN;
	}
	limit = tidm_aimd_step(&p->aimd, med, observed, busy);
	tidm_throttle_set_adaptive(&p->th, limit);
	atomic_store(&p->g->probe_us, (uint64_t)(med * 1e6));
	if (limit != was || p->trace)
		tidm_log(p->trace ? TIDM_LOG_INFO : TIDM_LOG_DEBUG,
			 "%s throttle: probe %.2f ms (idle %.2f ms), %.0f threads running, %.0f rows/s: limit %.0f rows/s%s",
			 p->o.what, med * 1e3, p->aimd.baseline * 1e3, running, observed, limit,
			 limit > 0 ? "" : " (none)");
	if (was == 0 && limit > 0)
		tidm_info("%s throttle: the source's latency rose (probe %.2f ms, %.2f ms idle%s); holding back to %.0f "
			  "rows/s",
			  p->o.what, med * 1e3, p->aimd.baseline * 1e3, busy ? ", many threads running" : "", limit);
	else if (was > 0 && limit == 0)
		tidm_info("%s throttle: the source's latency is back near its idle value; no longer holding back",
			  p->o.what);
}

static void *monitor(void *arg)
{
	tidm_probe *p = arg;
	double lat[STEP_TICKS], t_hist[WINDOW_STEPS + 1], w_hist[WINDOW_STEPS + 1];
	double last_t = tidm_throttle_now(), last_rows = (double)atomic_load(&p->th.taken_rows);
	size_t nlat = 0, nhist = 0, tick = 0;

	t_hist[0] = last_t;
	w_hist[0] = (double)atomic_load(&p->th.waited_us) / 1e6;
	nhist = 1;
	while (!atomic_load(&p->stop)) {
		double now, rows, waited, held, span;
		sleep_s(PROBE_TICK_S);
		if (p->adaptive && nlat < STEP_TICKS && probe_once(p, &lat[nlat]) == 0)
			nlat++;
		if (++tick % STEP_TICKS)
			continue;
		now = tidm_throttle_now();
		rows = (double)atomic_load(&p->th.taken_rows);
		waited = (double)atomic_load(&p->th.waited_us) / 1e6;
		if (p->adaptive)
			control(p, lat, nlat, now > last_t ? (rows - last_rows) / (now - last_t) : 0);
		nlat = 0;
		last_t = now;
		last_rows = rows;
		/* held back: the readers' waiting over the window, as a share of their time */
		if (nhist == WINDOW_STEPS + 1) {
			memmove(t_hist, t_hist + 1, WINDOW_STEPS * sizeof(double));
			memmove(w_hist, w_hist + 1, WINDOW_STEPS * sizeof(double));
			nhist--;
		}
		t_hist[nhist] = now;
		w_hist[nhist++] = waited;
		span = (now - t_hist[0]) * (p->o.readers ? p->o.readers : 1);
		held = span > 0 ? (waited - w_hist[0]) / span : 0;
		atomic_store(&p->g->held_permille, (uint32_t)(held >= 1 ? 1000 : held <= 0 ? 0 : held * 1000));
		atomic_store(&p->g->limit_rows, (uint64_t)tidm_throttle_rows_limit(&p->th));
	}
	return NULL;
}

int tidm_probe_start(tidm_probe **out, const tidm_conn_opts *src, const tidm_probe_opts *o, tidm_throttle_gauges *g)
{
	tidm_probe *p;

	*out = NULL;
	if (o->max_rows <= 0 && o->max_bytes <= 0 && !o->adaptive)
		return 0;
	if (!(p = calloc(1, sizeof(*p))))
		abort();
	p->o = *o;
	if (!p->o.what)
		p->o.what = "the export";
	p->src = *src;
	p->trace = getenv("TIDM_THROTTLE_TRACE") != NULL;
	p->sql = strdup(o->probe_sql ? o->probe_sql : "SELECT 1");
	if (!p->sql)
		abort();
	p->src.read_timeout = PROBE_TIMEOUT_S;
	p->src.connect_timeout = 2;
	p->src.retries = 1;
	p->g = g ? g : &p->own_gauges;
	tidm_throttle_init(&p->th, o->max_rows, o->max_bytes);
	p->started = tidm_throttle_now();
	atomic_store(&p->g->held_permille, 0);
	atomic_store(&p->g->baseline_us, 0);
	atomic_store(&p->g->limit_rows, (uint64_t)o->max_rows);
	if (o->adaptive) {
		if (tidm_conn_open(&p->conn, &p->src) < 0) {
			tidm_warn("%s throttle: cannot open the probe connection to the source (%s); the adaptive throttle "
				  "is off%s",
				  p->o.what, tidm_err_msg(), o->max_rows > 0 || o->max_bytes > 0 ? ", the caps hold" : "");
			tidm_err_clear();
		} else if (!(p->adaptive = measure_baseline(p))) {
			tidm_warn("%s throttle: the source does not answer the probe; the adaptive throttle is off", p->o.what);
			drop_conn(p);
		}
	}
	atomic_store(&p->g->mode, p->adaptive ? TIDM_THROTTLE_ADAPTIVE
				  : o->max_rows > 0 || o->max_bytes > 0 ? TIDM_THROTTLE_FIXED
									 : TIDM_THROTTLE_OFF);
	if (pthread_create(&p->thread, NULL, monitor, p) != 0) {
		tidm_warn("%s throttle: cannot start its thread; the throttle is off", p->o.what);
		tidm_conn_close(p->conn);
		tidm_throttle_dispose(&p->th);
		atomic_store(&p->g->mode, TIDM_THROTTLE_OFF);
		free(p->sql);
		free(p);
		return 0;
	}
	*out = p;
	return 0;
}

tidm_throttle *tidm_probe_throttle(tidm_probe *p)
{
	return p ? &p->th : NULL;
}

void tidm_probe_stop(tidm_probe *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	if (p->o.summary && (p->adaptive || atomic_load(&p->th.waited_us) >= 500000)) {
		double el = tidm_throttle_now() - p->started, waited = (double)atomic_load(&p->th.waited_us) / 1e6;
		double share = el > 0 ? waited / (el * (p->o.readers ? p->o.readers : 1)) : 0;
		char backoffs[64] = "";
		if (p->adaptive)
			snprintf(backoffs, sizeof(backoffs), "; the adaptive limit was lowered %u times", p->aimd.backoffs);
		tidm_info("%s throttle: %llu rows read in %.1f s; the readers waited %.1f s for it (%.0f%% of their "
			  "time)%s",
			  p->o.what, (unsigned long long)atomic_load(&p->th.taken_rows), el, waited,
			  100 * (share > 1 ? 1 : share), backoffs);
	}
	tidm_conn_close(p->conn);
	tidm_throttle_dispose(&p->th);
	atomic_store(&p->g->mode, TIDM_THROTTLE_OFF);
	free(p->sql);
	free(p);
}
