/*
 * redolog.h - mode physical on MySQL 8.0.21+: the InnoDB redo log switched off for the
 * load (`spec: physical: {disable-redo-log: true}`) and always switched on again.
 *
 * A small state machine over a query function, so a unit test can drive it with scripted
 * answers: UNTOUCHED -(tidm_redo_disable)-> DISABLED -(tidm_redo_restore)-> RESTORED, or
 * UNTOUCHED -> DISABLED also when it is off already (an earlier run killed by -9 during its
 * load leaves it so); UNTOUCHED -> SKIPPED (not MySQL 8.0.21+, no privilege: the load runs with the redo log
 * on) or -> REFUSED (other clients write the target: the job stops before loading). From
 * DISABLED every exit path calls tidm_redo_restore, which retries ALTER INSTANCE ENABLE
 * and, if the server still refuses, stays DISABLED and says how to do it by hand.
 * Not thread-safe: the coordinating thread alone calls it.
 */
#ifndef TIDM_DB_REDOLOG_H
#define TIDM_DB_REDOLOG_H

#include <stdbool.h>

/*
 * Runs `sql`. With `value` non-NULL the statement returns rows: *value receives a malloc'd
 * copy of the first column of the first row (NULL when there is none). Returns 0 or a
 * negative tidm error code with the thread's error set (tidm_err_dberr() gives the
 * server's error number).
 */
typedef int (*tidm_redo_query_fn)(void *ctx, const char *sql, char **value);

enum tidm_redo_state { TIDM_REDO_UNTOUCHED, TIDM_REDO_SKIPPED, TIDM_REDO_REFUSED, TIDM_REDO_DISABLED, TIDM_REDO_RESTORED };

typedef struct tidm_redo {
	enum tidm_redo_state state;
	tidm_redo_query_fn query;
	void *ctx;
	unsigned sample_ms;     /* how long the write counters are watched (default 1000) */
	unsigned restore_tries; /* attempts of ALTER INSTANCE ENABLE (default 3) */
	char why[512];          /* SKIPPED / REFUSED: the reason, for the log */
} tidm_redo;

void tidm_redo_init(tidm_redo *r, tidm_redo_query_fn query, void *ctx);

/*
 * Switch the redo log off if the server is MySQL 8.0.21+ (`version` as in
 * tidm_server_info, `is_mysql` its flavour), the user holds INNODB_REDO_LOG_ENABLE and no
 * other client writes (the server's write counters do not move while watched, and no other
 * session runs a statement). Returns 0 with state DISABLED or SKIPPED; TIDM_EINVAL with
 * state REFUSED (message set: other clients write); another error when a query fails
 * (state UNTOUCHED, or DISABLED if only the check after the switch failed).
 */
int tidm_redo_disable(tidm_redo *r, bool is_mysql, unsigned version);

/* Switch it on again if this tidm_redo switched it off. 0 (state RESTORED, or nothing to
 * do), or an error (state stays DISABLED; message says to run ALTER INSTANCE ENABLE INNODB
 * REDO_LOG). */
int tidm_redo_restore(tidm_redo *r);

#endif
