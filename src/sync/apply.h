/*
 * apply.h - the incremental applier: decoded binlog events in, SQL on the target out.
 *
 * The caller (the replication loop) feeds every event in binlog order with the position
 * after it. Row changes become INSERT/UPDATE/DELETE addressed by the target table's key
 * (sync/schema.h) and run on `apply_workers` worker connections in parallel: changes to
 * the same row always go to the same worker, in order, and a transaction that touches a
 * key still in flight on another worker waits for it. DDL is a barrier: every change
 * before it is committed first.
 *
 * Exactly once: a worker commits only at source transaction boundaries, and the same target
 * transaction records the worker's checkpoint (file, position) in tidm_meta.sync_workers.
 * After a restart, replication resumes at the lowest worker checkpoint and each replayed
 * change is skipped when the worker it is routed to had already committed it (routing is
 * a pure function of the table, the key and the worker count). Safe mode (INSERT as
 * REPLACE, UPDATE as DELETE + REPLACE) covers what cannot be proven: a changed worker
 * count, or `safe-mode: true`.
 *
 * Threads: one coordinator thread calls everything here; workers are internal.
 */
#ifndef TIDM_SYNC_APPLY_H
#define TIDM_SYNC_APPLY_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "binlog/event.h"
#include "db/conn.h"
#include "jobdef/jobdef.h"

#define TIDM_SYNC_BATCH_BUCKETS 12

typedef struct tidm_sync_progress {
	_Atomic uint64_t events;    /* events fed */
	_Atomic uint64_t txns;      /* source transactions dispatched */
	_Atomic uint64_t rows;      /* row changes applied (committed) */
	_Atomic uint64_t skipped;   /* row changes skipped as already applied */
	_Atomic uint64_t ddls;      /* DDL statements applied */
	_Atomic int64_t last_ts;    /* timestamp (s) of the last committed source transaction */
	_Atomic int64_t lag_s;      /* seconds the target is behind (-1 unknown) */
	_Atomic int safe_mode;      /* 1 while safe mode is on */
	/* for metrics (job/metrics.h); never reset between runs of one job */
	_Atomic uint64_t binlog_bytes;  /* binlog bytes read (event sizes) */
	_Atomic uint64_t queue_depth;   /* row changes and boundaries queued to the workers, not yet taken */
	_Atomic uint64_t applied_pos;   /* the furthest committed position: file number << 40 | offset */
	_Atomic int64_t checkpoint_at;  /* Unix time (s) of the last checkpoint commit; 0 none */
	_Atomic uint64_t apply_rate_milli; /* smoothed rows applied per second x 1000 */
	/* commits (a batch with its checkpoint) by duration: bucket i counts those <= bounds[i]
	 * (not cumulative), the last one those above every bound */
	_Atomic uint64_t batch_hist[TIDM_SYNC_BATCH_BUCKETS + 1];
	_Atomic uint64_t batch_sum_us;
} tidm_sync_progress;

/* The upper bounds (seconds) of the batch-duration buckets above. */
extern const double tidm_sync_batch_bounds[TIDM_SYNC_BATCH_BUCKETS];
/* Packs a binlog position for applied_pos (file "name.000123" -> 123; offsets up to 1 TiB). */
uint64_t tidm_sync_pos_pack(const char *file, uint64_t pos);

/* A position in the source's binlog. */
typedef struct tidm_sync_pos {
	char file[256];
	uint64_t pos;
	char gtid[4096]; /* executed GTID set at this position ("" unknown) */
} tidm_sync_pos;

/* Compare binlog positions: <0, 0, >0 (file names by length then bytes, so .999999 < .1000000). */
int tidm_sync_pos_cmp(const char *file_a, uint64_t pos_a, const char *file_b, uint64_t pos_b);

typedef struct tidm_applier tidm_applier;

typedef struct tidm_applier_opts {
	const tidm_job_config *cfg;
	bool replace_conflicts; /* a duplicate key overwrites the target row instead of failing */
	volatile sig_atomic_t *cancel;
	tidm_sync_progress *progress;
	enum tidm_flavor source_flavor; /* for DDL adaptation */
} tidm_applier_opts;

/*
 * Create the applier: ensures the checkpoint tables, opens the worker connections, reads
 * the previous checkpoints. `*resume` receives where the stream must start (the lowest
 * worker checkpoint) and is left untouched when the job has none yet (then the caller
 * decides: snapshot position or the job's start position) - `*have_resume` tells which.
 * `unclean` says the previous run did not stop cleanly (safe mode for safe_mode_seconds).
 */
int tidm_applier_new(tidm_applier **out, const tidm_applier_opts *o, tidm_sync_pos *resume, bool *have_resume);
/* Set the position the stream starts at when there was no checkpoint (writes it as every worker's checkpoint). */
int tidm_applier_set_start(tidm_applier *a, const tidm_sync_pos *start);
/*
 * Feed one event. `dec` decoded it (rows are iterated with it). `file` is the binlog file
 * the event is in and `next_pos` the position after it. TIDM_EDUPKEY / TIDM_ENOTFOUND
 * (missing row, missing table) and others with the message set; the applier is then
 * unusable (free it).
 */
int tidm_applier_feed(tidm_applier *a, tidm_binlog_decoder *dec, const tidm_binlog_event *ev, const char *file,
		      uint64_t next_pos);
/*
 * A table copied by the full phase under snapshots between lo and hi (an interrupted full
 * phase resumes under a newer snapshot): its changes before lo are in every copied row and
 * are skipped; changes between lo and hi are applied in safe mode (some rows have them).
 */
void tidm_applier_add_window(tidm_applier *a, const char *db, const char *table, const char *lo_file, uint64_t lo_pos,
			     const char *hi_file, uint64_t hi_pos);
/* The stream reconnected: drop any half-fed transaction (it will be sent again). */
void tidm_applier_reset_txn(tidm_applier *a);
/* Ask every worker to commit at the current transaction boundary, without waiting (keeps
 * idle workers' checkpoints moving while replication runs). */
int tidm_applier_checkpoint(tidm_applier *a);
/* Commit everything fed so far and record the checkpoint; *out (may be NULL) = that position. */
int tidm_applier_flush(tidm_applier *a, tidm_sync_pos *out);
/* Stop the workers (after a flush when `clean`), close connections. */
void tidm_applier_free(tidm_applier *a);

#endif
