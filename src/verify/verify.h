/*
 * verify.h - `tidm verify`: proves the target equal to the source, row by row, also while
 * the job keeps replicating (SPEC §7.2, issue 18).
 *
 * Every selected table is compared in key-range chunks whose digests (COUNT(*) and the
 * SUM of a CRC32 per row) are computed on each server: only digests cross the network. A chunk whose digests differ is halved (bisection at the source's middle key)
 * until a range holds few rows, whose per-row digests are then compared; every candidate
 * row is finally looked up by its key on both sides (verify/online.c explains how this
 * also makes the check exact while the job is syncing). Tables without a usable key are
 * compared as multisets of row digests. What each column contributes to a row's digest is
 * normalised so that equal data never differs (verify/render.c: floats, JSON, BIT,
 * strings of any charset or collation, temporal values in UTC).
 *
 * Threads: tidm_verify_run() starts and joins its own workers; `progress` is written with
 * atomics and may be read by any thread at any time.
 * Errors: 0, or a negative tidm code with the thread's message set (util/err.h):
 * TIDM_EINVAL for a bad table list, TIDM_ECONN / TIDM_EAUTH when a server cannot be used,
 * TIDM_ECANCELED when `cancel` became non-zero. A table that cannot be compared (missing
 * on the target, a column the target lacks) is not an error of the run: its result says
 * so (state "error").
 */
#ifndef TIDM_VERIFY_VERIFY_H
#define TIDM_VERIFY_VERIFY_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "db/conn.h"
#include "jobdef/jobdef.h"

/* How a row differs. */
enum tidm_verify_side {
	TIDM_VERIFY_MISSING,  /* on the source, not on the target */
	TIDM_VERIFY_EXTRA,    /* on the target, not on the source */
	TIDM_VERIFY_CHANGED,  /* same key, other values */
};

typedef struct tidm_verify_diff {
	enum tidm_verify_side side;
	char *key;       /* "`id`=5" or "`a`=1, `b`='x'"; keyless: "row digest 123456 (2 rows)" */
	char *columns;   /* CHANGED: the columns whose values differ, "`c`, `pad`"; else NULL */
	uint64_t rows;   /* rows this difference stands for (keyless: the multiplicity) */
} tidm_verify_diff;

/* State of one table: also the `state` stored in tidm_meta.verify_tables. */
enum tidm_verify_state {
	TIDM_VERIFY_PENDING,
	TIDM_VERIFY_RUNNING,
	TIDM_VERIFY_EQUAL,
	TIDM_VERIFY_DIFFERENT,
	TIDM_VERIFY_UNSETTLED, /* online: rows kept changing; neither equality nor a difference proven */
	TIDM_VERIFY_ERROR,
};
const char *tidm_verify_state_name(enum tidm_verify_state s);

typedef struct tidm_verify_table_report {
	char *db;
	char *table;
	enum tidm_verify_state state;
	bool keyless;
	uint64_t chunks;
	uint64_t rows_source;     /* rows counted on the source */
	uint64_t differing_rows;  /* rows behind the differences */
	uint64_t unsettled_rows;  /* online: candidates that never held still */
	uint64_t rechecked_rows;  /* candidates (rows of differing chunks) found equal when looked
				   * up again: online, mostly rows in flight in the applier */
	char *error;              /* state ERROR: why (malloc'd) */
	tidm_verify_diff *diffs;  /* the first TIDM_VERIFY_MAX_DIFFS differences */
	size_t ndiffs;
} tidm_verify_table_report;

#define TIDM_VERIFY_MAX_DIFFS 1000
/* The largest chunk (spec: verify-chunk-rows): its digest's sum stays exact (render.c). */
#define TIDM_VERIFY_CHUNK_ROWS_MAX 1000000

typedef struct tidm_verify_report {
	tidm_verify_table_report *tables;
	size_t ntables;
	bool online;         /* the job was syncing: the online protocol was used */
	double seconds;
	uint64_t repair_statements; /* written to the repair file */
} tidm_verify_report;

void tidm_verify_report_free(tidm_verify_report *r);

typedef struct tidm_verify_progress {
	_Atomic uint64_t tables_total;
	_Atomic uint64_t tables_done;
	_Atomic uint64_t chunks_total;
	_Atomic uint64_t chunks_done;
	_Atomic uint64_t rows_done;
	_Atomic uint64_t differing_rows;
} tidm_verify_progress;

typedef struct tidm_verify_opts {
	const tidm_job_config *cfg;
	/* "db.t" names to compare (each must be a selected table of the job); NULL/0: all */
	const char *const *tables;
	size_t ntables;
	FILE *repair;            /* when set: SQL that makes the target equal is written here */
	unsigned threads;        /* connections per side; 0 = cfg->dump_threads */
	uint64_t chunk_rows;     /* rows per chunk; 0 = cfg->verify_chunk_rows, else 50000 */
	uint64_t rows_per_second; /* cap on rows read from the source; 0 = none */
	int online;              /* 1 on, 0 off, -1 (default) decided from the job's record */
	unsigned pass;           /* pass number stored with the results (continuous mode) */
	bool store;              /* keep the results in tidm_meta.verify_tables */
	volatile sig_atomic_t *cancel;
	tidm_verify_progress *progress; /* may be NULL */
} tidm_verify_opts;

#define TIDM_VERIFY_OPTS_INIT {.online = -1, .store = true}

/* Compare. On success *out holds the report (free it with tidm_verify_report_free). */
int tidm_verify_run(tidm_verify_report **out, const tidm_verify_opts *o);

/* True when the report has no difference, no unsettled row and no table in error. */
bool tidm_verify_report_equal(const tidm_verify_report *r);

/*
 * The results kept in tidm_meta.verify_tables for a job (for the job service, the API and
 * `tidm migrate`'s summary): one per table, in (db, table) order. *out is malloc'd (free
 * with tidm_verify_results_free); *n = 0 and *out = NULL when the job has none. Works on a
 * target where verify never ran (no table: no results).
 */
typedef struct tidm_verify_result {
	char db[65];
	char table[65];
	char state[16];          /* tidm_verify_state_name() */
	uint64_t chunks_total;
	uint64_t chunks_done;
	uint64_t rows_checked;
	uint64_t differing_rows;
	unsigned pass;           /* the pass these results are of (1, 2, ... in continuous mode) */
	char updated_at[32];     /* target's clock, "YYYY-MM-DD hh:mm:ss" */
	char *detail;            /* malloc'd or NULL: the error, or the first differing keys */
} tidm_verify_result;
int tidm_verify_results_read(tidm_conn *target, const char *job, tidm_verify_result **out, size_t *n);
void tidm_verify_results_free(tidm_verify_result *r, size_t n);

#endif
