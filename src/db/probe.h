/*
 * probe.h - the export throttle with its view of the source: the shared caps of
 * util/throttle.h plus, in adaptive mode, a light probe on a connection of its own that
 * measures the source's latency and lowers or raises the allowed rate (util/throttle.h,
 * tidm_aimd). Used by the full phase's dump workers and by verify's source readers.
 *
 * Lifecycle: tidm_probe_start before the readers start (in adaptive mode it measures the
 * idle baseline first, about half a second), tidm_probe_throttle for the readers,
 * tidm_probe_stop after they have finished.
 *
 * Threads: one monitor thread per probe (started by tidm_probe_start, joined by
 * tidm_probe_stop). The throttle it returns is shared by any number of threads.
 */
#ifndef TIDM_DB_PROBE_H
#define TIDM_DB_PROBE_H

#include <stdbool.h>

#include "db/conn.h"
#include "util/throttle.h"

typedef struct tidm_probe_opts {
	double max_rows;   /* rows per second, all readers together; 0 = none */
	double max_bytes;  /* bytes per second; 0 = none */
	bool adaptive;     /* probe the source and back off when its latency rises */
	unsigned readers;  /* threads taking from the throttle (the held-back share is of their time) */
	const char *what;  /* "the export", "verify": for the log */
	bool summary;      /* log a summary line at tidm_probe_stop */
	const char *probe_sql; /* the probe (a point read that goes through the storage engine,
				* as the applications' queries do); NULL or failing: SELECT 1 */
} tidm_probe_opts;

typedef struct tidm_probe tidm_probe;

/*
 * Start the throttle of `o`; *out = NULL when it has nothing to do (no cap, not adaptive).
 * `src` is the source (adaptive: the probe connection; the strings must outlive the
 * probe). `g` (may be NULL) receives the gauges and must outlive the probe. A probe
 * connection that cannot be opened or answers no query leaves the caps only (warned):
 * the throttle never fails a job. Returns 0.
 */
int tidm_probe_start(tidm_probe **out, const tidm_conn_opts *src, const tidm_probe_opts *o, tidm_throttle_gauges *g);
/* The shared throttle (NULL for a NULL probe); valid until tidm_probe_stop. */
tidm_throttle *tidm_probe_throttle(tidm_probe *p);
/* Stop the monitor, close the probe connection and free; NULL is a no-op. With `summary`,
 * logs the rows, the time waited and the backoffs when the throttle held back half a
 * second or more, or was adaptive. The gauges keep their last values (the mode says off). */
void tidm_probe_stop(tidm_probe *p);

#endif
