/*
 * precheck.h - everything that would make a migration fail, found before anything is
 * written (SPEC §3). One table of items (id, title, the function that runs it); a run
 * answers each item pass / warning / fail with what was found (values, database and table
 * names), why it matters, and how to fix it for the source's hosting (self-managed MySQL,
 * MariaDB, Amazon RDS, Aurora, Azure Flexible Server, Google Cloud SQL).
 *
 * Reads only: no statement that writes runs on either server (not even tidm_meta's
 * creation). Items run concurrently on a few threads, each thread with its own source
 * and target connections opened with a read timeout of `timeout_s`: an item whose query
 * takes longer, or that cannot run at all (a variable the user may not read, a lost
 * connection), answers warning "could not check: ..." instead of failing the precheck.
 * Facts shared by several items (the variables of each server, the selected tables with
 * their keys, sizes, engines and collations) are read once, in bulk (one query each, not
 * one per table), by the first item that needs them.
 *
 * The outcome blocks a start when an item fails, or warns and is not ignored (by
 * `ignore_warnings`, or by its id listed in the job file's `precheck: {ignore: [...]}`).
 *
 * Thread-safety: tidm_precheck_run() may run in several threads at once (one report each);
 * the item table is immutable.
 */
#ifndef TIDM_PRECHECK_PRECHECK_H
#define TIDM_PRECHECK_PRECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jobdef/jobdef.h"
#include "util/buf.h"

enum tidm_check_state { TIDM_CHECK_PASS, TIDM_CHECK_WARNING, TIDM_CHECK_FAIL };

typedef struct tidm_check_result {
	const char *id;    /* static: the item's id, e.g. "binlog-format" */
	const char *title; /* static */
	enum tidm_check_state state;
	char *message;     /* what was found and why it matters (malloc'd, never NULL) */
	char *fix;         /* how to fix it for the source's hosting; NULL on pass */
	bool ignored;      /* a warning ignored by the job file or --ignore-warnings */
	double seconds;    /* how long the item took */
} tidm_check_result;

/* The binlog runway (SPEC beyond the reference): how long the position the job needs stays
 * on the source, against how long the full phase is estimated to take. Negative = unknown;
 * runway_s INFINITY when nothing purges the binlog automatically. */
typedef struct tidm_runway {
	double runway_s;          /* seconds until the needed position is purged, from now */
	double full_estimate_s;   /* estimated duration of the full phase (0: no full phase) */
	double write_rate;        /* the source's binlog bytes per second, measured */
	double copy_rate;         /* bytes per second used for the estimate */
	uint64_t full_bytes;      /* data + index bytes of the selected tables (statistics) */
	char retention[160];      /* the setting that decides, e.g. "binlog_expire_logs_seconds = 86400" */
} tidm_runway;

typedef struct tidm_precheck_report {
	tidm_check_result *items; /* in the order of the item table */
	size_t n;
	char source_hosting[32];  /* "self-managed MySQL", "MariaDB", "Amazon RDS", ... */
	tidm_runway runway;
	double seconds;           /* the whole run */
	bool resuming;            /* the job has a record on the target: it ran before */
	char job_state[16];       /* then its state ("running", "paused", "failed", "finished") */
} tidm_precheck_report;

typedef struct tidm_precheck_opts {
	unsigned timeout_s;       /* per item; 0 = 30 */
	unsigned threads;         /* 0 = 6 */
	bool ignore_warnings;     /* every warning counts as ignored */
	double sample_seconds;    /* copy-rate sample of the runway item; 0 = 0.5 */
	bool restart;             /* the run starts the job over (migrate --restart): not resuming */
} tidm_precheck_opts;

/* The item table. */
size_t tidm_precheck_item_count(void);
const char *tidm_precheck_item_id(size_t i);
const char *tidm_precheck_item_title(size_t i);
/* Is `id` an item's id (job files may only ignore those)? */
bool tidm_precheck_item_known(const char *id);

/*
 * Run every item for the job. Returns 0 when the precheck ran (whatever its outcome: see
 * tidm_precheck_blocks), negative only when it could not run at all (out of memory).
 * Connection failures are items' results (source-connection / target-connection fail,
 * and the items that need that server say they could not run).
 */
int tidm_precheck_run(const tidm_job_config *cfg, const tidm_precheck_opts *o, tidm_precheck_report *out);
void tidm_precheck_report_dispose(tidm_precheck_report *r);

/* Counts of items per state (ignored warnings counted in *ignored, not in *warnings). */
void tidm_precheck_counts(const tidm_precheck_report *r, unsigned *pass, unsigned *warnings, unsigned *fails,
			  unsigned *ignored);
/* Does the outcome forbid starting the job (a fail, or a warning not ignored)? */
bool tidm_precheck_blocks(const tidm_precheck_report *r);

/* SPEC §7.2: {"items":[{"id","title","state","message","fix"}], ...} plus "ignored",
 * "seconds", a "summary" and the runway figures. */
void tidm_precheck_format_json(const tidm_precheck_report *r, tidm_buf *out);
/* The same as a JSON object (the caller owns it). */
json_t *tidm_precheck_json(const tidm_precheck_report *r);
/* A table for a terminal: one block per item (state, id, title, message, fix), a summary
 * line; ANSI colours for the states when `color`. `verbose`: passing items' messages too. */
void tidm_precheck_format_table(const tidm_precheck_report *r, tidm_buf *out, bool color, bool verbose);

/* "1d 2h", "3h 05m", "12m", "40s" */
void tidm_precheck_fmt_duration(char *out, size_t n, double seconds);

#endif
