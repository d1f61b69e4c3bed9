/*
 * full.h - existing-data ("full") migration, logical mode: a consistent snapshot of the
 * selected tables is copied to the target as multi-row REPLACE statements, in parallel
 * chunks, with per-chunk checkpoints in `tidm_meta` on the target so that an interrupted
 * run resumes where it stopped.
 *
 * Threads: tidm_full_run() starts and joins its own workers; the progress struct is
 * written by them with atomics and may be read by any thread at any time.
 */
#ifndef TIDM_DUMP_FULL_H
#define TIDM_DUMP_FULL_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "jobdef/jobdef.h"
#include "util/buf.h"
#include "util/throttle.h"

/* Live counters, readable at any time. */
typedef struct tidm_full_progress {
	_Atomic int stage;              /* enum tidm_full_stage */
	_Atomic uint64_t tables_total;
	_Atomic uint64_t tables_done;
	_Atomic uint64_t chunks_total;
	_Atomic uint64_t chunks_done;
	_Atomic uint64_t chunks_skipped; /* finished in an earlier run */
	_Atomic uint64_t rows_estimate;  /* from table statistics */
	_Atomic uint64_t rows_done;      /* includes rows_skipped */
	_Atomic uint64_t rows_skipped;   /* rows of chunks finished in an earlier run */
	_Atomic uint64_t bytes_done;     /* SQL bytes written to the target */
	tidm_throttle_gauges throttle;   /* spec.export's throttle (util/throttle.h) */
} tidm_full_progress;

enum tidm_full_stage {
	TIDM_FULL_CONNECTING,
	TIDM_FULL_SNAPSHOT,
	TIDM_FULL_SCHEMA,
	TIDM_FULL_PLANNING,
	TIDM_FULL_COPYING,
	TIDM_FULL_DONE,
};

/* The snapshot position (where incremental replication continues). */
typedef struct tidm_snapshot_pos {
	char file[256];
	uint64_t pos;
	char *gtid_set; /* malloc'd; NULL when the server has none */
	char method[32]; /* "FTWRL", "LOCK TABLES", ... */
} tidm_snapshot_pos;

typedef struct tidm_full_result {
	tidm_snapshot_pos snapshot;
	bool resumed;
	tidm_buf mapping_report; /* one line per charset/collation/feature mapping */
	uint64_t tables;
	uint64_t views;
} tidm_full_result;

void tidm_full_result_dispose(tidm_full_result *r);

/*
 * Run the full phase of `cfg`. `cancel` (may be NULL) is polled; when it becomes non-zero
 * the run stops at the next statement boundary and returns TIDM_ECANCELED with all
 * finished chunks recorded. On failure the thread's last error says what and where.
 * An unfinished job is resumed unless `restart`; otherwise the copy starts afresh from a
 * new snapshot (tables without a key that an earlier run filled are emptied first, and
 * one holding rows tidm did not write is refused before anything is written:
 * dump/keyless.h).
 */
int tidm_full_run(const tidm_job_config *cfg, tidm_full_progress *progress, tidm_full_result *out,
		  volatile sig_atomic_t *cancel, bool restart);

#endif
