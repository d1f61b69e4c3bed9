/*
 * manager.h - the job service's job manager (issue 14): many migration jobs in one process,
 * each run by the job runner of `tidm migrate` (job/runner.h) on a thread of its own, their
 * definitions, states, last errors and events kept in a store (service/store.h, SQLite by
 * default behind an interface of its own).
 *
 * Every function may be called from any thread (the HTTP server's handler threads); the
 * manager serialises state changes per job. Answers are JSON objects (jansson) in the
 * shapes of the OpenAPI document (docs/openapi.json); passwords never appear in them.
 *
 * Errors: functions return 0, or a negative code with the thread's error (util/err.h) set
 * to a message a user can act on, and tidm_manager_err_field() naming the offending field
 * of a request body (or NULL):
 *   TIDM_EINVAL      -> HTTP 400 (malformed body) or 422 (a valid body the rules refuse:
 *                      bad name, bad type, too many jobs); the message says which
 *   TIDM_ENOTFOUND   -> 404 (no such job)
 *   TIDM_ECONFLICT   -> 409 (the job's state forbids the operation, or the name is taken;
 *                      the message names the current state)
 *   others           -> 500
 *
 * Lifecycle (SPEC §6): created -> prechecking -> running (stage dumping | loading |
 * syncing) -> finished (type full); paused; failed. Transitions:
 *   start/resume: created, paused, failed -> prechecking -> running
 *   pause:        prechecking, running -> paused (at a statement boundary, checkpoints kept)
 *   restart:      any but prechecking -> running from a new snapshot (replace_conflicts =
 *                 "restart and replace" of SPEC §5)
 *   scale:        running or paused, not while dumping -> same state, new spec
 *   delete:       any (a running job is stopped first); its tidm_meta rows go, target data never
 * Anything else -> TIDM_ECONFLICT.
 */
#ifndef TIDM_SERVICE_MANAGER_H
#define TIDM_SERVICE_MANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct tidm_manager tidm_manager;

struct tidm_manager_hooks; /* service/hooks.h */

typedef struct tidm_manager_opts {
	const char *data_dir;   /* the store, the secret key (mode 0600); created (0700) when missing */
	unsigned max_jobs;      /* 0 = 200 */
	/* automatic resume of transient failures: the first wait, doubling up to the cap
	 * (0 = 1000 ms and 60000 ms) */
	unsigned retry_first_ms;
	unsigned retry_max_ms;
	const struct tidm_manager_hooks *hooks; /* tests only; NULL = the real runner */
	/* alerts (service/alerts.h): the sendmail program (NULL = /usr/sbin/sendmail) and the
	 * watcher's round (0 = 2000 ms) */
	const char *sendmail;
	unsigned alert_interval_ms;
} tidm_manager_opts;

/* Opens the store (creating / migrating it), then resumes every job whose recorded state
 * is running or prechecking (from its checkpoint; safe mode as in `tidm migrate`). */
int tidm_manager_open(tidm_manager **out, const tidm_manager_opts *o);
/* Pauses every running job at a statement boundary (recorded as paused by the daemon's
 * shutdown, so they are resumed at the next open), waits for their threads, closes. */
void tidm_manager_close(tidm_manager *m);

const char *tidm_manager_err_field(void);
/* After TIDM_EINVAL: true when the body itself was malformed (HTTP 400: not JSON, not an
 * object; the message names the position), false when the rules refused it (422). */
bool tidm_manager_err_malformed(void);

/* body: the job file as JSON (SPEC §7.1 fields; "start": true starts it). */
int tidm_manager_create(tidm_manager *m, const char *body, size_t len, json_t **out);
int tidm_manager_list(tidm_manager *m, json_t **out);                 /* {"jobs":[...]} */
int tidm_manager_get(tidm_manager *m, const char *name, json_t **out); /* state, stage, progress, lag, positions, last_error */
int tidm_manager_start(tidm_manager *m, const char *name, json_t **out);
int tidm_manager_pause(tidm_manager *m, const char *name, json_t **out);
int tidm_manager_resume(tidm_manager *m, const char *name, json_t **out);
int tidm_manager_restart(tidm_manager *m, const char *name, bool replace_conflicts, json_t **out);
/* spec: {"dump-threads","load-threads","apply-workers","batch"} (any subset) */
int tidm_manager_scale(tidm_manager *m, const char *name, const json_t *spec, json_t **out);
int tidm_manager_delete(tidm_manager *m, const char *name);
/* The job's events after id `after` (0: from the first), at most `limit`: {"events":[{"id","time","level","kind","message","cause"}]} */
int tidm_manager_events(tidm_manager *m, const char *name, int64_t after, unsigned limit, json_t **out);

/* Alert subscribers (service/alerts.h). body: {"kind":"webhook","url","secret"} or
 * {"kind":"email","address"}; the answer {"id","kind","url"|"address","has_secret",
 * "created_at"} never holds the secret. list: {"subscriptions":[...]}. delete: the id as
 * text (TIDM_ENOTFOUND when none). */
int tidm_manager_alert_sub_create(tidm_manager *m, const char *body, size_t len, json_t **out);
int tidm_manager_alert_sub_list(tidm_manager *m, json_t **out);
int tidm_manager_alert_sub_delete(tidm_manager *m, const char *id);

/* The job's recent lag and rates, one sample per step (history.c), newer than since_ms:
 * {"name","step_s","columns":["time_ms","lag_s","apply_rows_per_s","copy_rows_per_s"],
 *  "samples":[[t, lag|null, apply, copy], ...]} oldest first; the last 6 hours at most. */
int tidm_manager_history(tidm_manager *m, const char *name, int64_t since_ms, json_t **out);

/* Live positions (positions.c; opens one connection to each side, 5 s timeout):
 * {"source": {"file","pos","gtid"}|null, "source_error": msg|null,
 *  "checkpoint": {"file","pos"}|null (the target's lowest worker checkpoint), "target_error",
 *  "snapshot": {"file","pos"}|null}. An unreachable side is null with its message. */
int tidm_manager_positions(tidm_manager *m, const char *name, json_t **out);
/* The job's verification results as the target's tidm_meta holds them (verify/verify.h;
 * written by spec.verify and by tidm verify): {"tables": [{"db","table","state",
 * "chunks_total","chunks_done","rows_checked","differing_rows","pass","updated_at",
 * "detail"|null}], "error": msg|null (the target could not be read)}. */
int tidm_manager_verify(tidm_manager *m, const char *name, json_t **out);

/* A TLS file given as text (the console's uploads): body {"kind":"ca|cert|key","pem":"..."}.
 * Checks it is PEM of that kind, keeps it in DATA_DIR/tls/ (mode 0600, named by its hash,
 * so the same file twice is one file) and answers {"path": "..."} for the tls members of
 * a connection or a job. TIDM_EINVAL (field named) when it is not such a PEM. */
int tidm_manager_save_tls(tidm_manager *m, const char *body, size_t len, json_t **out);

struct tidm_buf;
/* Appends the Prometheus text (job/metrics.h) of every job and of the process. */
int tidm_manager_metrics(tidm_manager *m, struct tidm_buf *out);

#endif
