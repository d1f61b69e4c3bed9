/*
 * store.h - where the job service keeps its jobs: definitions, states, last errors and a
 * per-job event log. An interface of its own (a table of operations behind an opaque
 * handle) so that the manager never depends on the engine: the embedded SQLite file of
 * store_sqlite.c today, a shared store on a distributed SQL database later (issue 14).
 * Nothing above this header may assume SQL or SQLite's semantics.
 *
 * Semantics every implementation keeps:
 *  - job names are unique; tidm_store_job_create() of a taken name is TIDM_ECONFLICT;
 *  - a job's row and its events go together (tidm_store_job_delete removes both);
 *  - event ids grow strictly within a store (paging: "after id X");
 *  - times are Unix milliseconds (UTC) set by the caller.
 * Secrets: `secrets` is an opaque text the store keeps as given (the manager puts the
 * sealed passwords there, service/secrets.h); `definition` never holds a password.
 *
 * Errors: 0, or TIDM_ENOTFOUND (no such job), TIDM_ECONFLICT (name taken), TIDM_ECORRUPT
 * (the file is not a store, or a newer schema than this program knows), TIDM_ERROR (I/O),
 * with the thread's error set.
 * Threads: one handle may be used from any thread; the implementation serialises.
 */
#ifndef TIDM_SERVICE_STORE_H
#define TIDM_SERVICE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The newest schema this program writes (store_sqlite.c migrates older ones in place). */
#define TIDM_STORE_SCHEMA_VERSION 3

typedef struct tidm_store tidm_store;

/* One job as stored. Strings are malloc'd (tidm_store_job_dispose frees them); NULL = none. */
typedef struct tidm_store_job {
	char *name;
	char *definition;  /* the job as JSON text, passwords removed */
	char *secrets;     /* opaque (sealed passwords) */
	char state[16];    /* created | prechecking | running | paused | failed | finished */
	char stage[16];    /* "" | dumping | loading | syncing | done */
	char *last_error;  /* message a user acts on */
	char *last_cause;  /* the raw cause (error code, server errno, where) */
	bool resume_on_open; /* paused by the daemon's shutdown: resumed at the next open */
	int64_t created_at;  /* Unix ms */
	int64_t updated_at;
} tidm_store_job;

/* The state part of a job, written on its own (tidm_store_job_set_state). */
typedef struct tidm_store_state {
	const char *state;
	const char *stage;      /* NULL: unchanged */
	const char *last_error; /* NULL: cleared */
	const char *last_cause;
	bool resume_on_open;
	int64_t updated_at;
} tidm_store_state;

typedef struct tidm_store_event {
	int64_t id;      /* assigned by the store */
	int64_t time;    /* Unix ms */
	char level[8];   /* info | warn | error */
	char kind[16];   /* state | retry | error | scale | warning | ... */
	char *message;
	char *cause;     /* NULL when none */
} tidm_store_event;

/* An alert subscriber (service/alerts.h): a webhook URL or an e-mail address. */
typedef struct tidm_store_sub {
	int64_t id;        /* assigned by the store */
	char kind[16];     /* webhook | email */
	char *target;      /* the URL or the address */
	char *secret;      /* opaque (the sealed shared secret of a webhook); NULL none */
	int64_t created_at; /* Unix ms */
} tidm_store_sub;

/* The operations of one engine. Callers use the tidm_store_* functions below. */
typedef struct tidm_store_ops {
	const char *engine;
	void (*close)(tidm_store *s);
	int (*schema_version)(tidm_store *s, int *out);
	int (*job_create)(tidm_store *s, const tidm_store_job *j);
	int (*job_update_definition)(tidm_store *s, const char *name, const char *definition, int64_t updated_at);
	int (*job_set_state)(tidm_store *s, const char *name, const tidm_store_state *st);
	int (*job_get)(tidm_store *s, const char *name, tidm_store_job *out);
	int (*job_list)(tidm_store *s, tidm_store_job **out, size_t *n);
	int (*job_count)(tidm_store *s, size_t *out);
	int (*job_delete)(tidm_store *s, const char *name);
	int (*event_append)(tidm_store *s, const char *job, tidm_store_event *ev);
	int (*event_list)(tidm_store *s, const char *job, int64_t after, unsigned limit, tidm_store_event **out,
			  size_t *n);
	int (*sub_create)(tidm_store *s, tidm_store_sub *sub);
	int (*sub_list)(tidm_store *s, tidm_store_sub **out, size_t *n);
	int (*sub_delete)(tidm_store *s, int64_t id);
} tidm_store_ops;

/* Every engine's handle starts with this. */
struct tidm_store {
	const tidm_store_ops *ops;
};

/* The SQLite engine: DATA_DIR/tidm.db (created with the directory's umask, WAL). */
int tidm_store_sqlite_open(tidm_store **out, const char *data_dir);
/* Tests: a file path, migrated up to `version` only (1..TIDM_STORE_SCHEMA_VERSION). */
int tidm_store_sqlite_open_file(tidm_store **out, const char *path, int version);

/* NULL is a no-op. */
void tidm_store_close(tidm_store *s);
int tidm_store_schema_version(tidm_store *s, int *out);
/* name, definition, secrets, state, stage, created_at, updated_at are written. */
int tidm_store_job_create(tidm_store *s, const tidm_store_job *j);
int tidm_store_job_update_definition(tidm_store *s, const char *name, const char *definition, int64_t updated_at);
int tidm_store_job_set_state(tidm_store *s, const char *name, const tidm_store_state *st);
/* out is filled (dispose it) or TIDM_ENOTFOUND. */
int tidm_store_job_get(tidm_store *s, const char *name, tidm_store_job *out);
/* All jobs, by name; *out is an array of *n (tidm_store_jobs_free). */
int tidm_store_job_list(tidm_store *s, tidm_store_job **out, size_t *n);
int tidm_store_job_count(tidm_store *s, size_t *out);
/* The job and all its events; TIDM_ENOTFOUND when there is none. */
int tidm_store_job_delete(tidm_store *s, const char *name);
/* Appends; ev->id receives the new id. */
int tidm_store_event_append(tidm_store *s, const char *job, tidm_store_event *ev);
/* Events of `job` with id > after, oldest first, at most `limit` (0: 100). */
int tidm_store_event_list(tidm_store *s, const char *job, int64_t after, unsigned limit, tidm_store_event **out,
			  size_t *n);

/* Alert subscribers. create: sub->id receives the new id (kind, target, secret,
 * created_at written). list: all, by id (tidm_store_subs_free). delete: TIDM_ENOTFOUND
 * when there is none. */
int tidm_store_sub_create(tidm_store *s, tidm_store_sub *sub);
int tidm_store_sub_list(tidm_store *s, tidm_store_sub **out, size_t *n);
int tidm_store_sub_delete(tidm_store *s, int64_t id);
void tidm_store_subs_free(tidm_store_sub *subs, size_t n);

void tidm_store_job_dispose(tidm_store_job *j);
void tidm_store_jobs_free(tidm_store_job *jobs, size_t n);
void tidm_store_events_free(tidm_store_event *evs, size_t n);

#endif
