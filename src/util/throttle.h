/*
 * throttle.h - rate limits for reads from the source: a token bucket, an AIMD controller
 * that sets a limit from the source's probe latency, and a thread-safe throttle that
 * several readers share (the export's dump workers, verify's source readers).
 *
 * tidm_bucket and tidm_aimd are pure: the caller passes the time (seconds, monotonic), so
 * tests drive them with a fake clock. tidm_throttle takes its clock and sleep from
 * function pointers (the real ones by default) for the same reason.
 *
 * Threads: tidm_bucket and tidm_aimd have one owner. tidm_throttle is shared: every
 * function may be called from any thread; its counters and tidm_throttle_gauges are
 * atomics that any thread may read at any time.
 */
#ifndef TIDM_UTIL_THROTTLE_H
#define TIDM_UTIL_THROTTLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tokens saved up while nobody reads: this many seconds of the rate. */
#define TIDM_BUCKET_BURST_S 0.25
/* A waiting reader wakes at least this often (seconds) to check for a stop. */
#define TIDM_THROTTLE_SLICE_S 0.05

/* ---- token bucket ---------------------------------------------------------------- */

typedef struct tidm_bucket {
	double rate;   /* amount per second; 0 = unlimited */
	double tokens; /* may go negative: a debt that later takers wait out */
	double at;     /* time of the last refill */
} tidm_bucket;

/* Empty bucket (no burst at the start) refilling at `rate` (0 = unlimited) from `now`. */
void tidm_bucket_init(tidm_bucket *b, double rate, double now);
/* A new rate from `now` on; the tokens (or debt) so far are kept. */
void tidm_bucket_set_rate(tidm_bucket *b, double rate, double now);
/* Take `n` at `now`; returns the seconds the taker must wait before going on (0 = go).
 * Takers queue up on the debt, so N concurrent takers together get `rate`. */
double tidm_bucket_take(tidm_bucket *b, double n, double now);

/* ---- AIMD controller ----------------------------------------------------------------- */

/* Congested: probe latency above baseline * RATIO + SLACK_S; calm: at most
 * baseline * CALM_RATIO + CALM_SLACK_S. In between the limit holds. */
#define TIDM_AIMD_RATIO 1.5
#define TIDM_AIMD_SLACK_S 0.0003
#define TIDM_AIMD_CALM_RATIO 1.2
#define TIDM_AIMD_CALM_SLACK_S 0.00015
#define TIDM_AIMD_DECREASE 0.6   /* congested: limit = observed rate x this */
#define TIDM_AIMD_STEP 0.05      /* calm: limit += peak rate x this ... */
#define TIDM_AIMD_CALM_STEPS 2   /* ... once calm for this many steps in a row */
#define TIDM_AIMD_FLOOR 0.05     /* never below peak rate x this ... */
#define TIDM_AIMD_FLOOR_MIN 100.0 /* ... nor below this many per second */

typedef struct tidm_aimd {
	double baseline; /* the source's idle probe latency (s) */
	double ceiling;  /* the user's cap (per s); 0 = none */
	double limit;    /* the limit now (per s); 0 = none */
	double peak;     /* highest rate observed (median of 3 steps) */
	double recent[3]; /* the rates of the last 3 steps */
	unsigned steps;
	unsigned calm_steps; /* calm steps in a row */
	double release;  /* no ceiling: the limit is lifted when it reaches this (1.25 x the
			  * peak at the last backoff; the peak itself follows a binding limit) */
	unsigned backoffs; /* steps that lowered the limit */
	int last;        /* last step: -1 lowered, 0 held, +1 raised or released */
} tidm_aimd;

void tidm_aimd_init(tidm_aimd *a, double baseline_s, double ceiling);
/* One control step: the probe latency of the interval (s, a median), the rate the readers
 * achieved over it (per s) and `busy`, the source's own sign of overload (its running
 * threads). Returns the new limit (0 = none): lowered multiplicatively when congested
 * (from the observed rate, so a limit the readers do not reach still bites), raised
 * additively when calm for TIDM_AIMD_CALM_STEPS steps in a row, released once it exceeds the peak rate of the last backoff by a quarter (no ceiling)
 * or reaches the ceiling; never below the floor, so the export always finishes. */
double tidm_aimd_step(tidm_aimd *a, double probe_s, double observed, bool busy);
/* The floor of the limit now (per s). */
double tidm_aimd_floor(const tidm_aimd *a);

/* The median of `n` values (sorted in place); 0 for n == 0. */
double tidm_median(double *v, size_t n);

/* ---- shared throttle ------------------------------------------------------------- */

enum tidm_throttle_mode { TIDM_THROTTLE_OFF, TIDM_THROTTLE_FIXED, TIDM_THROTTLE_ADAPTIVE };

/* What a progress line, the JSON API and the metrics show. */
typedef struct tidm_throttle_gauges {
	_Atomic int mode;                /* enum tidm_throttle_mode */
	_Atomic uint32_t held_permille;  /* share of the readers' time spent waiting, last ~5 s */
	_Atomic uint64_t limit_rows;     /* rows/s allowed now (0 = no rows limit) */
	_Atomic uint64_t probe_us;       /* source probe latency, median of the last interval */
	_Atomic uint64_t baseline_us;    /* the same before the export started */
	_Atomic uint32_t threads_running; /* the source's Threads_running, last read */
} tidm_throttle_gauges;

typedef double (*tidm_clock_fn)(void *payload);
typedef void (*tidm_sleep_fn)(double seconds, void *payload);

typedef struct tidm_throttle {
	pthread_mutex_t mu; /* guards the buckets */
	tidm_bucket rows, bytes;
	double max_rows, max_bytes; /* the user's caps; 0 = none */
	double adaptive;            /* the controller's rows limit; 0 = none */
	tidm_clock_fn clock;
	tidm_sleep_fn sleep;
	void *clock_payload;
	_Atomic uint64_t waited_us; /* total time takers have waited */
	_Atomic uint64_t taken_rows;
	_Atomic uint64_t taken_bytes;
} tidm_throttle;

/* Caps in rows and bytes per second (0 = none); the real clock. */
void tidm_throttle_init(tidm_throttle *t, double max_rows, double max_bytes);
void tidm_throttle_dispose(tidm_throttle *t);
/* Test hook: another clock and sleep (before any take). */
void tidm_throttle_set_clock(tidm_throttle *t, tidm_clock_fn clock, tidm_sleep_fn sleep, void *payload);
/* The controller's rows limit (0 = none); the rows rate is the lower of it and max_rows. */
void tidm_throttle_set_adaptive(tidm_throttle *t, double rows_per_s);
/* The rows per second allowed now (0 = unlimited). */
double tidm_throttle_rows_limit(tidm_throttle *t);
/* Take `rows` and `bytes`, sleeping (in slices of TIDM_THROTTLE_SLICE_S) while the caps
 * ask; `stop(payload)` (may be NULL) is checked every slice. 0, or TIDM_ECANCELED (not
 * recorded in tidm_err) when stop became true. */
int tidm_throttle_take(tidm_throttle *t, uint64_t rows, uint64_t bytes, bool (*stop)(void *payload), void *payload);
/* Seconds on the monotonic clock (the default clock). */
double tidm_throttle_now(void);

/* "throttled 43% (adaptive, probe 2.1 ms vs 0.4 ms idle)", "throttled 90% (cap)", or ""
 * when the throttle is off or held back less than 1% of the time. */
void tidm_throttle_format(char *out, size_t n, const tidm_throttle_gauges *g);

#endif
