/*
 * pc_int.h - what the precheck's items share (private to src/precheck/).
 *
 * An item is a function that reads facts from the context (loaded once, on demand, by
 * whichever item needs them first; other items wait for it) and its thread's own
 * connections, and answers with pc_pass / pc_warn / pc_fail (a printf message), plus
 * pc_fix for how to fix it. An item that cannot check answers pc_cannot(), a warning.
 */
#ifndef TIDM_PRECHECK_PC_INT_H
#define TIDM_PRECHECK_PC_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/conn.h"
#include "precheck/precheck.h"
#include "util/buf.h"

enum pc_hosting { PC_SELF_MYSQL, PC_MARIADB, PC_RDS, PC_AURORA, PC_AZURE, PC_CLOUDSQL, PC_TIDB };

/* name -> value of a server's global variables (or status), sorted by name */
typedef struct pc_vars {
	char **names;
	char **values;
	size_t n;
} pc_vars;
const char *pc_var(const pc_vars *v, const char *name); /* NULL when absent */

/* One selected source base table. */
typedef struct pc_table {
	char *db, *name;
	char *engine;      /* NULL for none */
	char *collation;   /* table default */
	uint64_t bytes;    /* DATA_LENGTH + INDEX_LENGTH (statistics) */
	uint64_t rows;     /* TABLE_ROWS (estimate) */
	bool has_key;      /* PRIMARY KEY or a UNIQUE key of NOT NULL columns */
	bool on_target;    /* a table of that name exists on the target */
	bool target_view;  /* ... and is a view there */
} pc_table;

/* A fact loaded once: state 0 not yet, 1 loading, 2 loaded (rc says how). */
typedef struct pc_once {
	int state;
	int rc;
	char err[512];
} pc_once;

typedef struct pc_ctx {
	const tidm_job_config *cfg;
	const tidm_precheck_opts *o;
	pthread_mutex_t mu;
	pthread_cond_t cv;

	/* connections: opened once up front; their results are the connection items' */
	tidm_conn_opts sopts, topts;
	int src_rc, tgt_rc;
	char src_err[1024], tgt_err[1024];
	tidm_server_info src_info, tgt_info;
	enum pc_hosting hosting;     /* of the source */
	bool job_exists;             /* tidm_meta.jobs has a record of this job on the target */
	char job_state[16], job_stage[16];

	pc_vars svars, tvars;        /* global variables (read up front) */
	pc_vars sstatus, tstatus;    /* Threads_connected, ... (read up front) */

	pc_once tables_once;         /* source tables (selected), target presence */
	pc_once keys_once;           /* the source's unique keys (STATISTICS) */
	void *keys;                  /* facts.c's per-table key summary */
	size_t n_keys;
	pc_once join_once;           /* has_key of each table from the two above */
	pc_once columns_once;        /* the selected tables' collated and generated columns */
	struct pc_column *columns;
	size_t n_columns;
	pc_table *tables;
	size_t n_tables;
	char **dbs;                  /* selected databases that exist on the source, sorted */
	size_t n_dbs;

	pc_once binlogs_once;        /* SHOW BINARY LOGS, current position */
	char **log_files;
	uint64_t *log_sizes;
	size_t n_logs;
	char cur_file[512];
	uint64_t cur_pos;
	char *cur_gtid;
	double rate_bytes_s;         /* measured binlog write rate; <0 unknown */

	tidm_runway runway;          /* written by the runway item */
} pc_ctx;

/* A thread's connections (opened on first use with the item timeout as read timeout;
 * reopened after an item lost one). */
typedef struct pc_conns {
	pc_ctx *c;
	tidm_conn *src, *tgt;
} pc_conns;
/* The source / target connection of this thread, or NULL with the reason in the result. */
tidm_conn *pc_src(pc_conns *k);
tidm_conn *pc_tgt(pc_conns *k);

typedef struct pc_result {
	enum tidm_check_state state;
	bool set;
	tidm_buf msg, fix;
} pc_result;

void pc_pass(pc_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pc_warn(pc_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pc_fail(pc_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pc_fix(pc_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Warning: the item could not check (what it tried and the thread's error). */
void pc_cannot(pc_result *r, const char *what);

/* A column of a selected table with a collation or a generation expression. */
typedef struct pc_column {
	char *db, *table, *name;
	char *collation; /* NULL when none */
	bool generated;
} pc_column;

/* Load the shared facts (thread-safe, once); 0 or the loading error (message in `err`).
 * pc_need_tables: the selected tables (has_key not yet known); pc_need_keys: the same with
 * has_key filled in; pc_need_columns: c->columns. */
int pc_need_tables(pc_ctx *c, pc_conns *k, const char **err);
int pc_need_keys(pc_ctx *c, pc_conns *k, const char **err);
int pc_need_columns(pc_ctx *c, pc_conns *k, const char **err);
void pc_facts_dispose(pc_ctx *c);
int pc_need_binlogs(pc_ctx *c, pc_conns *k, const char **err);

/* The databases the job names without wildcards (a user may not see them, or they may not
 * exist yet: items that check databases check these too). At most `max`. */
size_t pc_named_dbs(const pc_ctx *c, const char **out, size_t max);

/* Is the job replicating (type incremental or all)? Does it copy (full or all)? */
bool pc_replicates(const pc_ctx *c);
bool pc_copies(const pc_ctx *c);

/* The source's binlog retention by age: *secs (INFINITY: never purged by age) and the
 * setting that decides it in `desc`. TIDM_ENOTFOUND when the server has no such setting. */
int pc_retention_seconds(pc_ctx *c, pc_conns *k, double *secs, char *desc, size_t n);
/* A size limit on the binlogs (MariaDB binlog_space_limit / max_binlog_total_size), 0 none. */
double pc_retention_bytes(const pc_ctx *c);

/* How to change a server setting on the source's hosting: `var` = `value`. Appended to
 * the fix: "set binlog_format = ROW in my.cnf ([mysqld]) and SET PERSIST ...", "in the DB
 * parameter group of the instance ...", ... `dynamic`: can be changed without a restart. */
void pc_fix_setting(pc_result *r, const pc_ctx *c, const char *var, const char *value, bool dynamic);
const char *pc_hosting_name(enum pc_hosting h);

/* A comma-separated list of at most `max` names (then "and N more"), `db`.`t` quoted. */
void pc_list_add(tidm_buf *b, size_t *count, size_t max, const char *db, const char *table);
void pc_list_end(tidm_buf *b, size_t count, size_t max);

/* A glob of MySQL's grant wildcards (`_`, `%`, `\` escapes) against a name. */
bool pc_grant_match(const char *pattern, const char *name);

/* item functions */
typedef void (*pc_item_fn)(pc_ctx *c, pc_conns *k, pc_result *r);
#define PC_ITEM(name) void name(pc_ctx *c, pc_conns *k, pc_result *r)
/* connections, versions, privileges, concurrency (items_server.c) */
PC_ITEM(pc_item_source_connection);
PC_ITEM(pc_item_target_connection);
PC_ITEM(pc_item_source_version);
PC_ITEM(pc_item_target_version);
PC_ITEM(pc_item_source_privileges);
PC_ITEM(pc_item_target_privileges);
PC_ITEM(pc_item_source_connections);
PC_ITEM(pc_item_target_connections);
/* binlog (items_binlog.c) */
PC_ITEM(pc_item_server_id);
PC_ITEM(pc_item_log_bin);
PC_ITEM(pc_item_binlog_format);
PC_ITEM(pc_item_binlog_row_image);
PC_ITEM(pc_item_binlog_retention);
PC_ITEM(pc_item_binlog_db_filter);
PC_ITEM(pc_item_gtid_mode);
PC_ITEM(pc_item_start_position);
PC_ITEM(pc_item_binlog_runway); /* runway.c */
/* schema (items_schema.c) */
PC_ITEM(pc_item_collations);
PC_ITEM(pc_item_engines);
PC_ITEM(pc_item_keyless_tables);
PC_ITEM(pc_item_keyless_nonempty);
PC_ITEM(pc_item_require_primary_key);
PC_ITEM(pc_item_target_tables);
PC_ITEM(pc_item_physical_empty);
PC_ITEM(pc_item_target_triggers);
PC_ITEM(pc_item_source_objects);
PC_ITEM(pc_item_generated_columns);
PC_ITEM(pc_item_lower_case_table_names);
PC_ITEM(pc_item_sql_mode);
PC_ITEM(pc_item_time_zone);

#endif
