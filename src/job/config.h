/*
 * config.h - a migration job's configuration: the job file of SPEC §7.1, parsed and
 * validated. One owner; immutable once loaded (threads may read it concurrently).
 */
#ifndef TIDM_JOB_CONFIG_H
#define TIDM_JOB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "util/filter.h"

enum tidm_job_type { TIDM_JOB_FULL, TIDM_JOB_INCREMENTAL, TIDM_JOB_ALL };
enum tidm_job_mode { TIDM_MODE_LOGICAL, TIDM_MODE_PHYSICAL };

typedef struct tidm_endpoint {
	char *host;
	unsigned port;
	char *user;
	char *password;        /* resolved secret (from value, env or file); never printed */
	char *tls_ca;          /* NULL when absent */
	char *tls_cert;
	char *tls_key;
	unsigned connect_timeout; /* seconds, default 10 */
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
	uint64_t statement_bytes; /* max bytes of one INSERT/REPLACE, default 1 MiB (`spec: statement-bytes`) */
	bool safe_mode;
	unsigned safe_mode_seconds; /* default 60 */
} tidm_job_config;

/*
 * Load and validate a job file. On error returns TIDM_EINVAL (or TIDM_ENOTFOUND when the
 * file cannot be read) with a message "PATH:LINE:COL: what is wrong and what is expected".
 * Passwords come from `password`, `password-env` or `password-file`; the message never
 * contains a password.
 */
int tidm_job_config_load(tidm_job_config **out, const char *path);
/* Same from a YAML/JSON text held in memory; `origin` names it in messages. */
int tidm_job_config_parse(tidm_job_config **out, const char *text, size_t len, const char *origin);
void tidm_job_config_free(tidm_job_config *cfg);

/* SPEC §2 name rule; returns NULL when valid, else a static reason. */
const char *tidm_job_name_check(const char *name);

const char *tidm_job_type_name(enum tidm_job_type t);

#endif
