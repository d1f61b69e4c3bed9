/*
 * store_sqlite.c - the job store in an embedded SQLite file, DATA_DIR/tidm.db (store.h).
 *
 * DESIGN
 *  - One connection (SQLITE_OPEN_FULLMUTEX) guarded by a mutex of our own, so that a
 *    statement and the reading of its rows are one step; WAL journal (readers never wait
 *    for the writer, a crash loses at most the last transaction), synchronous = NORMAL,
 *    busy timeout 5 s (another process holding the file: the CLI reading it, a backup).
 *  - Schema version in PRAGMA user_version. `migrations[k]` takes a store from version k
 *    to k + 1; opening runs the missing steps in order, each in one transaction together
 *    with the new version number, so a store is always at exactly one version. A store
 *    newer than this program is refused (TIDM_ECORRUPT), never written.
 *  - Every value goes through a bound parameter of a prepared statement; the only SQL text
 *    built at run time is the PRAGMA user_version of a migration step (an integer).
 */
#include "service/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "util/err.h"

typedef struct sqlite_store {
	tidm_store base;
	sqlite3 *db;
	pthread_mutex_t mu;
	char path[1024];
} sqlite_store;

/* migrations[k]: version k -> k + 1 (k = 0: an empty file). */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE jobs ("
	" name TEXT NOT NULL PRIMARY KEY,"
	" definition TEXT NOT NULL,"
	" secrets TEXT,"
	" state TEXT NOT NULL,"
	" stage TEXT NOT NULL DEFAULT '',"
	" last_error TEXT,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" job TEXT NOT NULL,"
	" time INTEGER NOT NULL,"
	" level TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" message TEXT NOT NULL,"
	" cause TEXT);",
	/* 1 -> 2: the raw cause apart from the message; jobs paused by a shutdown; events by job */
	"ALTER TABLE jobs ADD COLUMN last_cause TEXT;"
	"ALTER TABLE jobs ADD COLUMN resume_on_open INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX events_job_id ON events(job, id);",
	/* 2 -> 3: alert subscribers (issue 15) */
	"CREATE TABLE alert_subscriptions ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" kind TEXT NOT NULL,"
	" target TEXT NOT NULL,"
	" secret TEXT,"
	" created_at INTEGER NOT NULL);",
};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == TIDM_STORE_SCHEMA_VERSION,
	       "one migration step per schema version");

static int db_fail(sqlite_store *s, const char *what)
{
	int ec = sqlite3_extended_errcode(s->db);
	int code = (ec & 0xff) == SQLITE_NOTADB || (ec & 0xff) == SQLITE_CORRUPT ? TIDM_ECORRUPT : TIDM_ERROR;
	return tidm_err_set(code, "job store %s: %s: %s (SQLite error %d)", s->path, what, sqlite3_errmsg(s->db), ec);
}

static int prepare(sqlite_store *s, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(s, "preparing a statement");
	return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	char *p;

	if (!t)
		return NULL;
	p = strdup((const char *)t);
	if (!p)
		abort();
	return p;
}

static void col_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(buf, size, "%s", t ? (const char *)t : "");
}

/* Run a statement that returns no rows. */
static int step_done(sqlite_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return TIDM_ECONFLICT;
	return db_fail(s, what);
}

static int user_version(sqlite_store *s, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = prepare(s, &st, "PRAGMA user_version")) < 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		rc = db_fail(s, "reading the schema version");
	sqlite3_finalize(st);
	return rc;
}

/* Bring the schema from its version to `want`, one step per transaction. */
static int migrate(sqlite_store *s, int want)
{
	int have = 0, rc;

	if ((rc = user_version(s, &have)) < 0)
		return rc;
	if (have > TIDM_STORE_SCHEMA_VERSION)
		return tidm_err_set(TIDM_ECORRUPT,
				    "job store %s has schema version %d, written by a newer tidm (this one knows up "
				    "to %d): use that version, or another data directory",
				    s->path, have, TIDM_STORE_SCHEMA_VERSION);
	for (int v = have; v < want; v++) {
		char setv[64], *msg = NULL;

		snprintf(setv, sizeof(setv), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(s->db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(s->db, setv, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			rc = tidm_err_set(TIDM_ERROR, "job store %s: migrating the schema from version %d to %d: %s",
					  s->path, v, v + 1, msg ? msg : sqlite3_errmsg(s->db));
			sqlite3_free(msg);
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	return 0;
}

static void op_close(tidm_store *base)
{
	sqlite_store *s = (sqlite_store *)base;

	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static int op_schema_version(tidm_store *base, int *out)
{
	sqlite_store *s = (sqlite_store *)base;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = user_version(s, out);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int op_job_create(tidm_store *base, const tidm_store_job *j)
{
	sqlite_store *s = (sqlite_store *)base;
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = prepare(s, &st,
			  "INSERT INTO jobs (name, definition, secrets, state, stage, last_error, last_cause, "
			  "resume_on_open, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")) == 0) {
		bind_text(st, 1, j->name);
		bind_text(st, 2, j->definition);
		bind_text(st, 3, j->secrets);
		bind_text(st, 4, j->state);
		bind_text(st, 5, j->stage);
		bind_text(st, 6, j->last_error);
		bind_text(st, 7, j->last_cause);
		sqlite3_bind_int(st, 8, j->resume_on_open);
		sqlite3_bind_int64(st, 9, j->created_at);
		sqlite3_bind_int64(st, 10, j->updated_at);
		rc = step_done(s, st, "adding a job");
		if (rc == TIDM_ECONFLICT)
			tidm_err_set(TIDM_ECONFLICT, "a job named %s exists already", j->name);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* After an UPDATE/DELETE of one job: TIDM_ENOTFOUND when no row changed. */
static int one_changed(sqlite_store *s, const char *name)
{
	if (sqlite3_changes(s->db) == 0)
		return tidm_err_set(TIDM_ENOTFOUND, "no job named %s", name);
	return 0;
}

static int op_job_update_definition(tidm_store *base, const char *name, const char *definition, int64_t updated_at)
{
	sqlite_store *s = (sqlite_store *)base;
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = prepare(s, &st, "UPDATE jobs SET definition = ?2, updated_at = ?3 WHERE name = ?1")) == 0) {
		bind_text(st, 1, name);
		bind_text(st, 2, definition);
		sqlite3_bind_int64(st, 3, updated_at);
		if ((rc = step_done(s, st, "changing a job's definition")) == 0)
			rc = one_changed(s, name);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int op_job_set_state(tidm_store *base, const char *name, const tidm_store_state *v)
{
	sqlite_store *s = (sqlite_store *)base;
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = prepare(s, &st,
			  "UPDATE jobs SET state = ?2, stage = COALESCE(?3, stage), last_error = ?4, last_cause = ?5, "
			  "resume_on_open = ?6, updated_at = ?7 WHERE name = ?1")) == 0) {
		bind_text(st, 1, name);
		bind_text(st, 2, v->state);
		bind_text(st, 3, v->stage);
		bind_text(st, 4, v->last_error);
		bind_text(st, 5, v->last_cause);
		sqlite3_bind_int(st, 6, v->resume_on_open);
		sqlite3_bind_int64(st, 7, v->updated_at);
		if ((rc = step_done(s, st, "recording a job's state")) == 0)
			rc = one_changed(s, name);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

#define JOB_COLS "name, definition, secrets, state, stage, last_error, last_cause, resume_on_open, created_at, updated_at"

static void read_job(sqlite3_stmt *st, tidm_store_job *j)
{
	memset(j, 0, sizeof(*j));
	j->name = col_dup(st, 0);
	j->definition = col_dup(st, 1);
	j->secrets = col_dup(st, 2);
	col_copy(st, 3, j->state, sizeof(j->state));
	col_copy(st, 4, j->stage, sizeof(j->stage));
	j->last_error = col_dup(st, 5);
	j->last_cause = col_dup(st, 6);
	j->resume_on_open = sqlite3_column_int(st, 7) != 0;
	j->created_at = sqlite3_column_int64(st, 8);
	j->updated_at = sqlite3_column_int64(st, 9);
}

static int op_job_get(tidm_store *base, const char *name, tidm_store_job *out)
{
	sqlite_store *s = (sqlite_store *)base;
	sqlite3_stmt *st = NULL;
	int rc, r;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->mu);
	if ((rc = prepare(s, &st, "SELECT " JOB_COLS " FROM jobs WHERE name = ?1")) == 0) {
		bind_text(st, 1, name);
		r = sqlite3_step(st);
		if (r == SQLITE_ROW)
			read_job(st, out);
		else if (r == SQLITE_DONE)
			rc = tidm_err_set(TIDM_ENOTFOUND, "no job named %s", name);
		else
			rc = db_fail(s, "reading a job");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int op_job_list(tidm_store *base, tidm_store_job **out, size_t *n)
{
	sqlite_store *s = (sqlite_store *)base;
	sqlite3_stmt *st = NULL;
	tidm_store_job *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc, r;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&s->mu);
	if ((rc = prepare(s, &st, "SELECT " JOB_COLS " FROM jobs ORDER BY name")) == 0) {
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			if (cnt == cap) {
				cap = cap ? cap * 2 : 16;
				v = realloc(v, cap * sizeof(*v));
				if (!v)
					abort();
			}
			read_job(st, &v[cnt++]);
		}
		if (r != SQLITE_DONE)
			rc = db_fail(s, "listing jobs");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	if (rc < 0) {
		tidm_store_jobs_free(v, cnt);
		return rc;
	}
	*out = v;
	*n = cnt;
	return 0;
}

static int op_job_count(tidm_store *base, size_t *out)
{
	sqlite_store *s = (sqlite_store *)base;
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = prepare(s, &st, "SELECT COUNT(*) FROM jobs")) == 0) {
		if (sqlite3_step(st) == SQLITE_ROW)
			*out = (size_t)sqlite3_column_int64(st, 0);
		else
			rc = db_fail(s, "counting jobs");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int op_job_delete(tidm_store *base, const char *name)
{
	sqlite_store *s = (sqlite_store *)base;
	sqlite3_stmt *ev = NULL, *jb = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(s, "deleting a job");
		goto out;
	}
	if ((rc = prepare(s, &ev, "DELETE FROM events WHERE job = ?1")) == 0 &&
	    (rc = prepare(s, &jb, "DELETE FROM jobs WHERE name = ?1")) == 0) {
		bind_text(ev, 1, name);
		bind_text(jb, 1, name);
		if ((rc = step_done(s, ev, "deleting a job's events")) == 0 &&
		    (rc = step_done(s, jb, "deleting a job")) == 0)
			rc = one_changed(s, name);
	}
	if (sqlite3_exec(s->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK && rc == 0)
		rc = db_fail(s, "deleting a job");
out:
	sqlite3_finalize(ev);
	sqlite3_finalize(jb);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int op_event_append(tidm_store *base, const char *job, tidm_store_event *e)
{
	sqlite_store *s = (sqlite_store *)base;
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = prepare(s, &st,
			  "INSERT INTO events (job, time, level, kind, message, cause) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")) ==
	    0) {
		bind_text(st, 1, job);
		sqlite3_bind_int64(st, 2, e->time);
		bind_text(st, 3, e->level);
		bind_text(st, 4, e->kind);
		bind_text(st, 5, e->message ? e->message : "");
		bind_text(st, 6, e->cause);
		if ((rc = step_done(s, st, "appending an event")) == 0)
			e->id = sqlite3_last_insert_rowid(s->db);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int op_event_list(tidm_store *base, const char *job, int64_t after, unsigned limit, tidm_store_event **out,
			 size_t *n)
{
	sqlite_store *s = (sqlite_store *)base;
	sqlite3_stmt *st = NULL;
	tidm_store_event *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc, r;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&s->mu);
	if ((rc = prepare(s, &st,
			  "SELECT id, time, level, kind, message, cause FROM events WHERE job = ?1 AND id > ?2 "
			  "ORDER BY id LIMIT ?3")) == 0) {
		bind_text(st, 1, job);
		sqlite3_bind_int64(st, 2, after);
		sqlite3_bind_int64(st, 3, limit);
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			tidm_store_event *e;
			if (cnt == cap) {
				cap = cap ? cap * 2 : 16;
				v = realloc(v, cap * sizeof(*v));
				if (!v)
					abort();
			}
			e = &v[cnt++];
			memset(e, 0, sizeof(*e));
			e->id = sqlite3_column_int64(st, 0);
			e->time = sqlite3_column_int64(st, 1);
			col_copy(st, 2, e->level, sizeof(e->level));
			col_copy(st, 3, e->kind, sizeof(e->kind));
			e->message = col_dup(st, 4);
			e->cause = col_dup(st, 5);
		}
		if (r != SQLITE_DONE)
			rc = db_fail(s, "listing events");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	if (rc < 0) {
		tidm_store_events_free(v, cnt);
		return rc;
	}
	*out = v;
	*n = cnt;
	return 0;
}

static int op_sub_create(tidm_store *base, tidm_store_sub *sub)
{
	sqlite_store *s = (sqlite_store *)base;
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = prepare(s, &st,
			  "INSERT INTO alert_subscriptions (kind, target, secret, created_at) VALUES (?1, ?2, ?3, ?4)")) == 0) {
		bind_text(st, 1, sub->kind);
		bind_text(st, 2, sub->target ? sub->target : "");
		bind_text(st, 3, sub->secret);
		sqlite3_bind_int64(st, 4, sub->created_at);
		if ((rc = step_done(s, st, "adding an alert subscription")) == 0)
			sub->id = sqlite3_last_insert_rowid(s->db);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int op_sub_list(tidm_store *base, tidm_store_sub **out, size_t *n)
{
	sqlite_store *s = (sqlite_store *)base;
	sqlite3_stmt *st = NULL;
	tidm_store_sub *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc, r;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&s->mu);
	if ((rc = prepare(s, &st, "SELECT id, kind, target, secret, created_at FROM alert_subscriptions ORDER BY id")) ==
	    0) {
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			tidm_store_sub *e;
			if (cnt == cap) {
				cap = cap ? cap * 2 : 8;
				v = realloc(v, cap * sizeof(*v));
				if (!v)
					abort();
			}
			e = &v[cnt++];
			memset(e, 0, sizeof(*e));
			e->id = sqlite3_column_int64(st, 0);
			col_copy(st, 1, e->kind, sizeof(e->kind));
			e->target = col_dup(st, 2);
			e->secret = col_dup(st, 3);
			e->created_at = sqlite3_column_int64(st, 4);
		}
		if (r != SQLITE_DONE)
			rc = db_fail(s, "listing alert subscriptions");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	if (rc < 0) {
		tidm_store_subs_free(v, cnt);
		return rc;
	}
	*out = v;
	*n = cnt;
	return 0;
}

static int op_sub_delete(tidm_store *base, int64_t id)
{
	sqlite_store *s = (sqlite_store *)base;
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = prepare(s, &st, "DELETE FROM alert_subscriptions WHERE id = ?1")) == 0) {
		sqlite3_bind_int64(st, 1, id);
		if ((rc = step_done(s, st, "removing an alert subscription")) == 0 && sqlite3_changes(s->db) == 0)
			rc = tidm_err_set(TIDM_ENOTFOUND, "no alert subscription %lld", (long long)id);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static const tidm_store_ops sqlite_ops = {
	.engine = "sqlite",
	.close = op_close,
	.schema_version = op_schema_version,
	.job_create = op_job_create,
	.job_update_definition = op_job_update_definition,
	.job_set_state = op_job_set_state,
	.job_get = op_job_get,
	.job_list = op_job_list,
	.job_count = op_job_count,
	.job_delete = op_job_delete,
	.event_append = op_event_append,
	.event_list = op_event_list,
	.sub_create = op_sub_create,
	.sub_list = op_sub_list,
	.sub_delete = op_sub_delete,
};

int tidm_store_sqlite_open_file(tidm_store **out, const char *path, int version)
{
	sqlite_store *s;
	char *msg = NULL;
	int rc;

	*out = NULL;
	if (version < 1 || version > TIDM_STORE_SCHEMA_VERSION)
		return tidm_err_set(TIDM_EINVAL, "job store: schema version %d is not 1..%d", version,
				    TIDM_STORE_SCHEMA_VERSION);
	s = calloc(1, sizeof(*s));
	if (!s)
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	s->base.ops = &sqlite_ops;
	pthread_mutex_init(&s->mu, NULL);
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
	    SQLITE_OK) {
		rc = tidm_err_set(TIDM_ERROR, "cannot open the job store %s: %s", path,
				  s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, &msg) != SQLITE_OK) {
		int ec = sqlite3_extended_errcode(s->db);
		rc = tidm_err_set((ec & 0xff) == SQLITE_NOTADB ? TIDM_ECORRUPT : TIDM_ERROR,
				  "cannot open the job store %s: %s (is it a tidm job store?)", path,
				  msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		goto fail;
	}
	if ((rc = migrate(s, version)) < 0)
		goto fail;
	*out = &s->base;
	return 0;
fail:
	op_close(&s->base);
	return rc;
}

int tidm_store_sqlite_open(tidm_store **out, const char *data_dir)
{
	char path[1024];

	if ((size_t)snprintf(path, sizeof(path), "%s/tidm.db", data_dir) >= sizeof(path))
		return tidm_err_set(TIDM_EINVAL, "data directory path too long: %s", data_dir);
	return tidm_store_sqlite_open_file(out, path, TIDM_STORE_SCHEMA_VERSION);
}
