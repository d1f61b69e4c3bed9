/*
 * jobdef.h - the job definition: what one migration job is (its type and mode, source and
 * target endpoints, selected objects, start position and tuning), as the job file of SPEC
 * §7.1 states it. The modules that carry a job out (dump/, sync/) read it; job/config.c
 * fills it from a job file and frees it. It sits below its readers so that every include
 * points down the layers. One owner; immutable once loaded (threads may read it
 * concurrently).
 */
#ifndef TIDM_JOBDEF_JOBDEF_H
#define TIDM_JOBDEF_JOBDEF_H

#include <stdbool.h>
#include <stdint.h>

#include "db/conn.h"
#include "util/filter.h"

enum tidm_job_type { TIDM_JOB_FULL, TIDM_JOB_INCREMENTAL, TIDM_JOB_ALL };
enum tidm_job_mode { TIDM_MODE_LOGICAL, TIDM_MODE_PHYSICAL };

/* How the full phase writes rows (`spec: load-method`). */
enum tidm_load_method { TIDM_LOAD_AUTO, TIDM_LOAD_DATA, TIDM_LOAD_INSERT };
/* A target table without a key that already holds rows tidm did not write
 * (`spec: keyless-nonempty`): refuse the job before anything is written, or add the rows. */
enum tidm_keyless_nonempty { TIDM_KEYLESS_REFUSE, TIDM_KEYLESS_APPEND };
/* Verification as part of the job (`spec: verify`, verify/verify.h): never, once after the
 * full phase (type all: once replication has started), or pass after pass while syncing. */
enum tidm_verify_mode { TIDM_VERIFY_OFF, TIDM_VERIFY_AFTER_FULL, TIDM_VERIFY_CONTINUOUS };

typedef struct tidm_endpoint {
	char *host;
	unsigned port;
	char *user;
	char *password;        /* resolved secret (from value, env or file); never printed */
	char *tls_ca;          /* NULL when absent */
	char *tls_cert;
	char *tls_key;
	bool tls_no_host_check;   /* `tls: {verify-hostname: false}`: the chain only */
	unsigned connect_timeout; /* seconds, default 10 */
	unsigned stall_timeout;   /* seconds, default 30 (`stall-timeout`): a link silent this long
				   * while tidm waits on it is closed and opened again (db/conn.h) */
	bool write_binlog;        /* target only (`binlog: true`): the copy also goes to the
				   * target's own binlog; default false, like myloader */
	bool allow_triggers;      /* target only (`triggers: allow`): run although selected
				   * tables have triggers on the target (default `refuse`) */
} tidm_endpoint;

typedef struct tidm_job_config {
	char *path; /* the job file, for messages */
	char *name;
	enum tidm_job_type type;
	enum tidm_job_mode mode;
	tidm_endpoint source;
	tidm_endpoint target;
	tidm_filter objects;
	/* start position (incremental only); all NULL/0 means "now" */
	char *start_gtid;
	char *start_binlog_file;
	uint64_t start_binlog_pos;
	/* spec */
	unsigned dump_threads;  /* default 4 */
	unsigned load_threads;  /* default 4 */
	unsigned apply_workers; /* default 8 */
	unsigned batch;         /* rows per statement/transaction, default 100 */
	uint64_t chunk_rows;    /* rows per dump chunk, default 100000 (`spec: chunk-rows`) */
	uint64_t statement_bytes; /* max bytes of one LOAD DATA batch or INSERT/REPLACE, default 1 MiB (`spec: statement-bytes`) */
	/* split a source transaction into target transactions of about this many bytes of
	 * statements per apply worker (`spec: max-txn-bytes`, 0 = never); unset: below the
	 * target's limit on TiDB, never elsewhere (see sync/txn_split.h) */
	uint64_t max_txn_bytes;
	bool max_txn_bytes_set;
	enum tidm_load_method load_method; /* default auto: LOAD DATA LOCAL when the target allows it */
	enum tidm_keyless_nonempty keyless_nonempty; /* default refuse */
	enum tidm_verify_mode verify;     /* default off */
	/* mode physical: where files are staged for a TiDB target's IMPORT INTO (`spec: stage`,
	 * file:///dir or s3://bucket/prefix; NULL = unset), and whether a MySQL 8.0.21+ target's
	 * InnoDB redo log may be disabled during the load (`spec: physical: {disable-redo-log}`) */
	char *stage;
	bool physical_disable_redo;
	bool physical_one_txn; /* mode physical on MySQL/MariaDB: a table's rows in one target
				* transaction (`spec: physical: {one-transaction}`), else each batch commits */
	uint64_t verify_rows_per_second;  /* cap on the rows verify reads from the source per
					   * second (`spec: verify-rows-per-second`); 0 = unset:
					   * none for tidm verify, 100000 for the job's own passes */
	uint64_t verify_chunk_rows;       /* rows per verify chunk (`spec: verify-chunk-rows`), default 50000 */
	/* the export's reads from the source (`spec: export: {max-rows-per-second: N,
	 * max-bytes-per-second: N, adaptive: BOOL}`, util/throttle.h, db/probe.h): caps shared
	 * by all dump workers (0 = none) and the adaptive throttle; verify's reads too */
	uint64_t export_max_rows;
	uint64_t export_max_bytes;
	bool export_adaptive;
	bool safe_mode;
	unsigned safe_mode_seconds; /* default 60 (`spec: safe-mode-seconds`, 0..86400) */
	/* precheck (`precheck: {ignore: [id, ...], copy-rate: BYTES, timeout: SECONDS}`):
	 * warnings of these items do not stop the job; the copy rate (bytes/s) the binlog
	 * runway item assumes instead of sampling (0 = sample); the per-item timeout (0 = 30) */
	char **precheck_ignore;
	size_t n_precheck_ignore;
	uint64_t precheck_copy_rate;
	unsigned precheck_timeout;
	/* the daemon's alerts (`alerts: {no-progress-minutes: N | no-progress-seconds: N,
	 * lag-seconds: N}`): a running job that made no progress for this long (default
	 * 1200 s), replication lag above this many seconds (0 = no lag alert, the default) */
	unsigned alert_no_progress_s;
	unsigned alert_lag_s;
	/* HTTP API only: `"start": true` in a POST /jobs body asks to start the job at once.
	 * A boolean `start` is this request, a mapping `start` is the start position. */
	bool start_requested;
} tidm_job_config;

/* SPEC §2 name rule; returns NULL when valid, else a static reason. */
const char *tidm_job_name_check(const char *name);

/* "full", "incremental", "all" / "logical", "physical" (as written in the job file). */
const char *tidm_job_type_name(enum tidm_job_type t);

/* Connection options for one endpoint of a job. The strings are borrowed from `e`: valid
 * while the configuration lives. */
void tidm_endpoint_conn_opts(tidm_conn_opts *out, const tidm_endpoint *e, enum tidm_role role);
const char *tidm_job_mode_name(enum tidm_job_mode m);

#endif
