/*
 * manager.c - the job service's job manager (manager.h): the job table, the lifecycle's
 * state machine and the API operations. The thread that runs a job is in jobthread.c, the
 * status answer in json.c.
 *
 * DESIGN
 *  - The store (service/store.h) is the record: every state change is written there at
 *    once, so a daemon killed at any moment finds each job as it last stood. Reads (get,
 *    list) are served from memory; events are read from the store.
 *  - Definitions: a POST body is validated by the job file parser (job/config.h, which
 *    reads JSON as YAML); the stored definition is the body without "start": true and
 *    without the passwords, which are sealed (service/secrets.h) and kept apart. A job's
 *    configuration is rebuilt from both whenever it starts.
 *  - Transitions (manager.h): an operation checks the state under the manager's mutex and
 *    holds the job's `busy` flag while it stops and starts the job's thread, so operations
 *    on one job are serialised and a refused one names the state it met.
 *  - Opening: jobs recorded running or prechecking (the daemon was killed) and jobs paused
 *    by the daemon's shutdown are started again; the runner resumes from the checkpoints
 *    in tidm_meta (in safe mode after an unclean stop). Closing pauses every running job
 *    at a statement boundary and records it to be resumed.
 */
#include "service/manager.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "db/conn.h"
#include "db/meta.h"
#include "job/config.h"
#include "service/alerts.h"
#include "service/manager_int.h"
#include "util/err.h"
#include "util/log.h"

#define DEFAULT_MAX_JOBS 200

static _Thread_local char err_field[64];
static _Thread_local bool err_malformed;

const char *tidm_manager_err_field(void) { return err_field[0] ? err_field : NULL; }
bool tidm_manager_err_malformed(void) { return err_malformed; }

static void err_reset(void)
{
	err_field[0] = '\0';
	err_malformed = false;
	tidm_err_clear();
}

void mgr_err_begin(void) { err_reset(); }

void mgr_err_field(const char *field, bool malformed)
{
	snprintf(err_field, sizeof(err_field), "%s", field ? field : "");
	err_malformed = malformed;
}

/* TIDM_EINVAL naming a field (422). */
#define invalid(field, ...) (snprintf(err_field, sizeof(err_field), "%s", (field)), tidm_err_set(TIDM_EINVAL, __VA_ARGS__))

int64_t mgr_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *xstrdup(const char *s)
{
	char *p = s ? strdup(s) : NULL;
	if (s && !p)
		abort();
	return p;
}

void mgr_set_state(tidm_manager *m, mgr_job *j, const char *state, const char *stage, const char *err,
		   const char *cause, bool resume_on_open)
{
	char st[16], sg[16];
	char *e = xstrdup(err), *c = xstrdup(err ? cause : NULL);
	tidm_store_state v;

	snprintf(st, sizeof(st), "%s", state);
	if (stage)
		snprintf(sg, sizeof(sg), "%s", stage);
	memcpy(j->state, st, sizeof(st));
	if (stage)
		memcpy(j->stage, sg, sizeof(sg));
	free(j->last_error);
	free(j->last_cause);
	j->last_error = e;
	j->last_cause = c;
	j->resume_on_open = resume_on_open;
	j->updated_at = mgr_now_ms();
	memset(&v, 0, sizeof(v));
	v.state = j->state;
	v.stage = j->stage;
	v.last_error = e;
	v.last_cause = c;
	v.resume_on_open = resume_on_open;
	v.updated_at = j->updated_at;
	if (tidm_store_job_set_state(m->store, j->name, &v) < 0)
		tidm_error("job %s: recording its state %s: %s", j->name, j->state, tidm_err_msg());
}

void mgr_event(tidm_manager *m, mgr_job *j, const char *level, const char *kind, const char *cause, const char *fmt,
	       ...)
{
	char msg[4096];
	va_list ap;
	tidm_store_event ev;
	enum tidm_log_level lvl = !strcmp(level, "error") ? TIDM_LOG_ERROR
				  : !strcmp(level, "warn") ? TIDM_LOG_WARN
							   : TIDM_LOG_INFO;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof(ev));
	ev.time = mgr_now_ms();
	snprintf(ev.level, sizeof(ev.level), "%s", level);
	snprintf(ev.kind, sizeof(ev.kind), "%s", kind);
	ev.message = msg;
	ev.cause = (char *)cause;
	if (tidm_store_event_append(m->store, j->name, &ev) < 0)
		tidm_error("job %s: recording an event: %s", j->name, tidm_err_msg());
	tidm_log_job(lvl, j->name, "%s%s%s%s", msg, cause ? " (" : "", cause ? cause : "", cause ? ")" : "");
}

/* ---- definitions and passwords ------------------------------------------------- */

static const char *const sides[] = {"source", "target"};

/* Overwrite a JSON string's bytes (jansson keeps them in its own buffer). */
static void wipe_json_string(json_t *s)
{
	if (json_is_string(s))
		explicit_bzero((char *)json_string_value(s), json_string_length(s));
}

int mgr_job_config(tidm_manager *m, const mgr_job *j, const char *def, tidm_job_config **out)
{
	json_t *d = json_loads(def ? def : j->def, 0, NULL), *sec = j->secrets ? json_loads(j->secrets, 0, NULL) : NULL;
	char origin[96], *text = NULL;
	int rc = 0;

	*out = NULL;
	if (!d || (j->secrets && !sec)) {
		rc = tidm_err_set(TIDM_ECORRUPT, "job %s: its definition in the job store is damaged", j->name);
		goto out;
	}
	for (size_t k = 0; k < 2 && rc == 0; k++) {
		json_t *sealed = sec ? json_object_get(sec, sides[k]) : NULL, *ep = json_object_get(d, sides[k]);
		char *plain = NULL;
		if (!json_is_string(sealed) || !json_is_object(ep))
			continue;
		if ((rc = tidm_secrets_unseal(m->secrets, json_string_value(sealed), &plain, NULL)) < 0)
			break;
		json_object_set_new(ep, "password", json_string(plain));
		tidm_secrets_free_plain(plain);
	}
	if (rc < 0)
		goto out;
	text = json_dumps(d, JSON_COMPACT);
	if (!text) {
		rc = tidm_err_set(TIDM_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(origin, sizeof(origin), "job %s", j->name);
	rc = tidm_job_config_parse(out, text, strlen(text), origin);
out:
	for (size_t k = 0; d && k < 2; k++)
		wipe_json_string(json_object_get(json_object_get(d, sides[k]), "password"));
	if (text) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	json_decref(d);
	json_decref(sec);
	return rc;
}

/*
 * The field a job-file message is about: "body:3:5: port in source must be ..." ->
 * "source.port"; "body:1:2: type must be ..." -> "type". NULL when it names none.
 */
static void field_from_message(const char *msg)
{
	static const char *const top[] = {"name", "type", "mode", "source", "target", "objects", "start", "spec",
					  "safe-mode", NULL};
	const char *p = msg;
	char a[32], b[32];
	int n = 0;

	for (int colons = 0; *p && colons < 3; p++)
		if (*p == ':')
			colons++;
	while (*p == ' ')
		p++;
	if (sscanf(p, "%31[a-z0-9-] in %31[a-z0-9-]%n", a, b, &n) == 2 && n > 0) {
		snprintf(err_field, sizeof(err_field), "%s.%s", b, a);
		return;
	}
	if (sscanf(p, "%31[a-z0-9-]", a) == 1)
		for (size_t k = 0; top[k]; k++)
			if (!strcmp(a, top[k])) {
				snprintf(err_field, sizeof(err_field), "%s", a);
				return;
			}
}

/* Body -> stored definition (no "start": true, no passwords) and sealed passwords. */
static int split_secrets(tidm_manager *m, json_t *body, char **def_out, char **sec_out)
{
	json_t *d = json_deep_copy(body), *sec = json_object(), *start = json_object_get(d, "start");
	int rc = 0;

	*def_out = *sec_out = NULL;
	if (json_is_boolean(start))
		json_object_del(d, "start");
	for (size_t k = 0; k < 2 && rc == 0; k++) {
		json_t *ep = json_object_get(d, sides[k]), *pw = ep ? json_object_get(ep, "password") : NULL;
		char *sealed = NULL;
		if (!json_is_string(pw))
			continue;
		rc = tidm_secrets_seal(m->secrets, json_string_value(pw), json_string_length(pw), &sealed);
		if (rc == 0)
			json_object_set_new(sec, sides[k], json_string(sealed));
		free(sealed);
		wipe_json_string(pw);
		json_object_del(ep, "password");
	}
	if (rc == 0) {
		*def_out = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
		*sec_out = json_object_size(sec) ? json_dumps(sec, JSON_COMPACT) : NULL;
	}
	json_decref(d);
	json_decref(sec);
	return rc;
}

/* ---- the job table ------------------------------------------------------------------ */

static mgr_job *find(tidm_manager *m, const char *name)
{
	for (size_t k = 0; k < m->njobs; k++)
		if (!strcmp(m->jobs[k]->name, name))
			return m->jobs[k];
	return NULL;
}

static void job_free(mgr_job *j)
{
	mgr_history_free(j->hist);
	free(j->precheck);
	free(j->def);
	free(j->secrets);
	free(j->last_error);
	free(j->last_cause);
	free(j);
}

static mgr_job *job_add(tidm_manager *m, const tidm_store_job *sj)
{
	mgr_job *j = calloc(1, sizeof(*j));
	json_t *d;

	if (!j)
		abort();
	if (m->njobs == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 32;
		m->jobs = realloc(m->jobs, m->cap * sizeof(*m->jobs));
		if (!m->jobs)
			abort();
	}
	m->jobs[m->njobs++] = j;
	j->m = m;
	snprintf(j->name, sizeof(j->name), "%s", sj->name);
	j->def = xstrdup(sj->definition);
	j->secrets = xstrdup(sj->secrets);
	snprintf(j->state, sizeof(j->state), "%s", sj->state);
	snprintf(j->stage, sizeof(j->stage), "%s", sj->stage);
	j->last_error = xstrdup(sj->last_error);
	j->last_cause = xstrdup(sj->last_cause);
	j->resume_on_open = sj->resume_on_open;
	j->created_at = sj->created_at;
	j->updated_at = sj->updated_at;
	j->type = TIDM_JOB_ALL;
	d = json_loads(j->def, 0, NULL);
	if (d) {
		const char *t = json_string_value(json_object_get(d, "type"));
		if (t && !strcmp(t, "full"))
			j->type = TIDM_JOB_FULL;
		else if (t && !strcmp(t, "incremental"))
			j->type = TIDM_JOB_INCREMENTAL;
	}
	json_decref(d);
	mgr_spec_cache(j);
	tidm_run_progress_reset(&j->prog);
	return j;
}

static void job_remove(tidm_manager *m, mgr_job *j)
{
	for (size_t k = 0; k < m->njobs; k++)
		if (m->jobs[k] == j) {
			m->jobs[k] = m->jobs[--m->njobs];
			break;
		}
}

/* Take the job for an operation (waiting for one in progress). m->mu held. */
static mgr_job *acquire(tidm_manager *m, const char *name, int *rc)
{
	mgr_job *j = find(m, name);

	if (!j) {
		*rc = tidm_err_set(TIDM_ENOTFOUND, "no job named %s", name);
		return NULL;
	}
	j->refs++;
	while (j->busy && !j->deleted)
		pthread_cond_wait(&m->cv, &m->mu);
	j->refs--;
	if (j->deleted) {
		if (j->refs == 0)
			job_free(j);
		*rc = tidm_err_set(TIDM_ENOTFOUND, "no job named %s", name);
		return NULL;
	}
	j->busy = true;
	*rc = 0;
	return j;
}

static void release(tidm_manager *m, mgr_job *j)
{
	j->busy = false;
	pthread_cond_broadcast(&m->cv);
}

/* Stop the job's thread (if any) for `why` and reap it. m->mu held. */
static void stop_thread(tidm_manager *m, mgr_job *j, enum mgr_stop why)
{
	if (j->th_live) {
		j->stop = why;
		j->cancel = 1;
		pthread_cond_broadcast(&m->cv);
		while (j->th_live)
			pthread_cond_wait(&m->cv, &m->mu);
	}
	if (j->th_valid) {
		pthread_join(j->th, NULL); /* the thread has ended: this does not wait */
		j->th_valid = false;
	}
}

/* Start the job's thread: prechecking, then running. m->mu held. */
static int launch(tidm_manager *m, mgr_job *j, bool restart, bool replace, const char *why)
{
	int e;

	stop_thread(m, j, MGR_STOP_NONE);
	tidm_run_progress_reset(&j->prog);
	j->cancel = 0;
	j->stop = MGR_STOP_NONE;
	j->restart = restart;
	j->replace_conflicts = replace;
	j->attempt = 0;
	j->retry_at = 0;
	j->run_started = 0;
	mgr_set_state(m, j, "prechecking", NULL, NULL, NULL, false);
	mgr_event(m, j, "info", "state", NULL, "prechecking (%s)", why);
	j->th_live = j->th_valid = true;
	if ((e = pthread_create(&j->th, NULL, mgr_job_main, j)) != 0) {
		j->th_live = j->th_valid = false;
		mgr_set_state(m, j, "failed", NULL, "cannot start a thread for the job", strerror(e), false);
		return tidm_err_set(TIDM_ERROR, "job %s: cannot start a thread: %s", j->name, strerror(e));
	}
	return 0;
}

static int conflict(const mgr_job *j, const char *what)
{
	return tidm_err_set(TIDM_ECONFLICT, "job %s is %s: %s", j->name, j->state, what);
}

/* ---- open, close ------------------------------------------------------------------- */

int tidm_manager_open(tidm_manager **out, const tidm_manager_opts *o)
{
	tidm_manager *m;
	tidm_store_job *all = NULL;
	size_t n = 0;
	pthread_condattr_t ca;
	int rc;

	err_reset();
	*out = NULL;
	if (!o || !o->data_dir || !o->data_dir[0])
		return tidm_err_set(TIDM_EINVAL, "the job service needs a data directory");
	if (mkdir(o->data_dir, 0700) != 0 && errno != EEXIST)
		return tidm_err_set(TIDM_ERROR, "cannot create the data directory %s: %s", o->data_dir, strerror(errno));
	m = calloc(1, sizeof(*m));
	if (!m)
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	m->max_jobs = o->max_jobs ? o->max_jobs : DEFAULT_MAX_JOBS;
	m->retry_first_ms = o->retry_first_ms ? o->retry_first_ms : 1000;
	m->retry_max_ms = o->retry_max_ms ? o->retry_max_ms : 60000;
	if (m->retry_max_ms < m->retry_first_ms)
		m->retry_max_ms = m->retry_first_ms;
	if (o->hooks)
		m->hooks = *o->hooks;
	if (!(m->data_dir = strdup(o->data_dir)))
		abort();
	if ((rc = tidm_secrets_open(&m->secrets, o->data_dir)) < 0 ||
	    (rc = tidm_store_sqlite_open(&m->store, o->data_dir)) < 0 || (rc = tidm_store_job_list(m->store, &all, &n)) < 0) {
		tidm_store_close(m->store);
		tidm_secrets_close(m->secrets);
		pthread_cond_destroy(&m->cv);
		pthread_mutex_destroy(&m->mu);
		free(m->data_dir);
		free(m);
		return rc;
	}
	pthread_mutex_lock(&m->mu);
	for (size_t k = 0; k < n; k++) {
		mgr_job *j = job_add(m, &all[k]);
		if (!strcmp(j->state, "running") || !strcmp(j->state, "prechecking"))
			launch(m, j, false, false, "resumed: the daemon stopped while the job ran");
		else if (!strcmp(j->state, "paused") && j->resume_on_open)
			launch(m, j, false, false, "resumed: paused by the daemon's shutdown");
	}
	pthread_mutex_unlock(&m->mu);
	tidm_store_jobs_free(all, n);
	m->alerts = mgr_alerts_start(m, o->sendmail, o->alert_interval_ms);
	*out = m;
	return 0;
}

void tidm_manager_close(tidm_manager *m)
{
	if (!m)
		return;
	mgr_alerts_stop(m->alerts);
	pthread_mutex_lock(&m->mu);
	m->closing = true;
	for (size_t k = 0; k < m->njobs; k++) {
		mgr_job *j = m->jobs[k];
		if (j->th_live) {
			j->stop = MGR_STOP_SHUTDOWN;
			j->cancel = 1;
		}
	}
	pthread_cond_broadcast(&m->cv);
	for (size_t k = 0; k < m->njobs; k++) {
		while (m->jobs[k]->th_live)
			pthread_cond_wait(&m->cv, &m->mu);
	}
	for (size_t k = 0; k < m->njobs; k++) {
		if (m->jobs[k]->th_valid)
			pthread_join(m->jobs[k]->th, NULL);
		job_free(m->jobs[k]);
	}
	pthread_mutex_unlock(&m->mu);
	free(m->jobs);
	tidm_store_close(m->store);
	tidm_secrets_close(m->secrets);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m->data_dir);
	free(m);
}

/* ---- operations -------------------------------------------------------------------- */

int tidm_manager_create(tidm_manager *m, const char *body, size_t len, json_t **out)
{
	json_error_t je;
	json_t *d = NULL, *name;
	tidm_job_config *cfg = NULL;
	tidm_store_job sj;
	char *def = NULL, *sec = NULL;
	const char *why;
	mgr_job *j;
	int rc;

	err_reset();
	*out = NULL;
	d = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!d) {
		err_malformed = true;
		return tidm_err_set(TIDM_EINVAL, "malformed JSON at line %d, column %d (byte %d): %s", je.line, je.column,
				    je.position, je.text);
	}
	if (!json_is_object(d)) {
		err_malformed = true;
		rc = tidm_err_set(TIDM_EINVAL, "the body must be a JSON object: the job file's fields (SPEC 7.1)");
		goto out;
	}
	name = json_object_get(d, "name");
	if (!json_is_string(name)) {
		rc = invalid("name", "name is required: a string, letter first, shorter than 60 characters, only A-Z a-z 0-9 _ -");
		goto out;
	}
	if ((why = tidm_job_name_check(json_string_value(name))) != NULL) {
		rc = invalid("name", "name \"%s\" is not a valid job name: %s", json_string_value(name), why);
		goto out;
	}
	if ((rc = tidm_job_config_parse(&cfg, body, len, "body")) < 0) {
		field_from_message(tidm_err_msg());
		goto out;
	}
	if ((rc = split_secrets(m, d, &def, &sec)) < 0)
		goto out;

	pthread_mutex_lock(&m->mu);
	if ((j = find(m, cfg->name)) != NULL) {
		snprintf(err_field, sizeof(err_field), "name");
		rc = tidm_err_set(TIDM_ECONFLICT, "a job named %s exists already (state %s)", cfg->name, j->state);
	} else if (m->njobs >= m->max_jobs) {
		rc = tidm_err_set(TIDM_EINVAL, "the store holds %zu jobs, the most it takes (max jobs %u): delete one first",
				  m->njobs, m->max_jobs);
	} else {
		memset(&sj, 0, sizeof(sj));
		sj.name = cfg->name;
		sj.definition = def;
		sj.secrets = sec;
		snprintf(sj.state, sizeof(sj.state), "created");
		sj.created_at = sj.updated_at = mgr_now_ms();
		if ((rc = tidm_store_job_create(m->store, &sj)) == 0) {
			j = job_add(m, &sj);
			mgr_event(m, j, "info", "state", NULL, "created (type %s)", tidm_job_type_name(cfg->type));
			if (cfg->start_requested)
				rc = launch(m, j, false, false, "started at creation");
			*out = mgr_job_json(m, j, true);
		}
	}
	pthread_mutex_unlock(&m->mu);
out:
	tidm_job_config_free(cfg);
	free(def);
	free(sec);
	json_decref(d);
	return rc;
}

int tidm_manager_list(tidm_manager *m, json_t **out)
{
	json_t *arr = json_array();

	err_reset();
	pthread_mutex_lock(&m->mu);
	for (size_t k = 0; k < m->njobs; k++)
		json_array_append_new(arr, mgr_job_json(m, m->jobs[k], false));
	pthread_mutex_unlock(&m->mu);
	*out = json_pack("{so}", "jobs", arr);
	return 0;
}

int tidm_manager_get(tidm_manager *m, const char *name, json_t **out)
{
	mgr_job *j;
	int rc = 0;

	err_reset();
	*out = NULL;
	pthread_mutex_lock(&m->mu);
	if ((j = find(m, name)) != NULL)
		*out = mgr_job_json(m, j, true);
	else
		rc = tidm_err_set(TIDM_ENOTFOUND, "no job named %s", name);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/* start and resume: created, paused, failed -> prechecking. */
static int start_op(tidm_manager *m, const char *name, const char *verb, json_t **out)
{
	mgr_job *j;
	int rc;

	err_reset();
	*out = NULL;
	pthread_mutex_lock(&m->mu);
	if (!(j = acquire(m, name, &rc)))
		goto out;
	if (strcmp(j->state, "created") && strcmp(j->state, "paused") && strcmp(j->state, "failed"))
		rc = conflict(j, !strcmp(j->state, "finished")
					 ? "a finished job starts again only with restart"
					 : "only a created, paused or failed job can be started or resumed");
	else
		rc = launch(m, j, false, false, verb);
	if (rc == 0)
		*out = mgr_job_json(m, j, true);
	release(m, j);
out:
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int tidm_manager_start(tidm_manager *m, const char *name, json_t **out) { return start_op(m, name, "started", out); }
int tidm_manager_resume(tidm_manager *m, const char *name, json_t **out) { return start_op(m, name, "resumed", out); }

int tidm_manager_pause(tidm_manager *m, const char *name, json_t **out)
{
	mgr_job *j;
	int rc;

	err_reset();
	*out = NULL;
	pthread_mutex_lock(&m->mu);
	if (!(j = acquire(m, name, &rc)))
		goto out;
	if ((strcmp(j->state, "running") && strcmp(j->state, "prechecking")) || !j->th_live)
		rc = conflict(j, "only a prechecking or running job can be paused");
	else
		stop_thread(m, j, MGR_STOP_PAUSE);
	if (rc == 0)
		*out = mgr_job_json(m, j, true);
	release(m, j);
out:
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int tidm_manager_restart(tidm_manager *m, const char *name, bool replace_conflicts, json_t **out)
{
	mgr_job *j;
	int rc;

	err_reset();
	*out = NULL;
	pthread_mutex_lock(&m->mu);
	if (!(j = acquire(m, name, &rc)))
		goto out;
	if (!strcmp(j->state, "prechecking")) {
		rc = conflict(j, "wait for the precheck to end, or pause the job, then restart it");
	} else if (j->type == TIDM_JOB_INCREMENTAL) {
		rc = tidm_err_set(TIDM_EINVAL, "job %s is type incremental: restart copies a job's existing data again "
					       "from a new snapshot and it has none; resume it instead",
				  j->name);
	} else {
		stop_thread(m, j, MGR_STOP_RESTART);
		rc = launch(m, j, true, replace_conflicts,
			    replace_conflicts ? "restarted from a new snapshot, replacing conflicting rows"
					      : "restarted from a new snapshot");
	}
	if (rc == 0)
		*out = mgr_job_json(m, j, true);
	release(m, j);
out:
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/* The spec keys scale takes, with their ranges (job/config.h). */
static const struct {
	const char *key;
	json_int_t lo, hi;
} scale_keys[] = {
	{"dump-threads", 1, 64},
	{"load-threads", 1, 64},
	{"apply-workers", 1, 64},
	{"batch", 1, 100000},
};

/* Check a scale request and merge it into the definition: *def_out, *desc_out ("a 1 -> 2, ..."). */
static int scale_merge(const mgr_job *j, const json_t *spec, char **def_out, char *desc, size_t descsz)
{
	json_t *d = json_loads(j->def, 0, NULL), *cur;
	const char *key;
	json_t *v;
	size_t off = 0;
	int rc = 0;

	*def_out = NULL;
	desc[0] = '\0';
	if (!json_is_object(spec) || json_object_size(spec) == 0) {
		json_decref(d);
		return invalid("spec", "the body must be an object with one or more of dump-threads, load-threads, "
				       "apply-workers, batch");
	}
	if (!d)
		return tidm_err_set(TIDM_ECORRUPT, "job %s: its definition in the job store is damaged", j->name);
	cur = json_object_get(d, "spec");
	if (!json_is_object(cur)) {
		cur = json_object();
		json_object_set_new(d, "spec", cur);
	}
	json_object_foreach((json_t *)spec, key, v) {
		size_t k;
		char f[48];
		for (k = 0; k < sizeof(scale_keys) / sizeof(scale_keys[0]); k++)
			if (!strcmp(key, scale_keys[k].key))
				break;
		snprintf(f, sizeof(f), "spec.%s", key);
		if (k == sizeof(scale_keys) / sizeof(scale_keys[0])) {
			rc = invalid(f, "%s cannot be scaled; expected dump-threads, load-threads, apply-workers or batch", key);
			break;
		}
		if (!json_is_integer(v) || json_integer_value(v) < scale_keys[k].lo || json_integer_value(v) > scale_keys[k].hi) {
			rc = invalid(f, "%s must be an integer from %lld to %lld", key, (long long)scale_keys[k].lo,
				     (long long)scale_keys[k].hi);
			break;
		}
		json_t *old = json_object_get(cur, key);
		char was[32];
		if (json_is_integer(old))
			snprintf(was, sizeof(was), "%lld", (long long)json_integer_value(old));
		else
			snprintf(was, sizeof(was), "default");
		if (off < descsz)
			off += (size_t)snprintf(desc + off, descsz - off, "%s%s %s -> %lld", off ? ", " : "", key, was,
						(long long)json_integer_value(v));
		json_object_set_new(cur, key, json_integer(json_integer_value(v)));
	}
	if (rc == 0)
		*def_out = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	return rc;
}

int tidm_manager_scale(tidm_manager *m, const char *name, const json_t *spec, json_t **out)
{
	tidm_job_config *cfg = NULL;
	char *def = NULL, desc[512];
	bool was_running;
	mgr_job *j;
	int rc;

	err_reset();
	*out = NULL;
	pthread_mutex_lock(&m->mu);
	if (!(j = acquire(m, name, &rc)))
		goto out;
	was_running = !strcmp(j->state, "running") && j->th_live;
	if (!was_running && strcmp(j->state, "paused")) {
		rc = conflict(j, "only a running or paused job can be scaled");
		goto done;
	}
	if (was_running && !strcmp(mgr_live_stage(j), "dumping")) {
		rc = tidm_err_set(TIDM_ECONFLICT, "job %s is running in stage dumping (the export, under the snapshot): "
						  "scale it once it is loading or syncing",
				  j->name);
		goto done;
	}
	if ((rc = scale_merge(j, spec, &def, desc, sizeof(desc))) < 0)
		goto done;
	/* the new definition must still be a valid job */
	if ((rc = mgr_job_config(m, j, def, &cfg)) < 0)
		goto done;
	if (was_running)
		stop_thread(m, j, MGR_STOP_SCALE);
	if ((rc = tidm_store_job_update_definition(m->store, j->name, def, mgr_now_ms())) < 0)
		goto relaunch;
	free(j->def);
	j->def = def;
	def = NULL;
	mgr_spec_cache(j);
	mgr_event(m, j, "info", "scale", NULL, "spec changed: %s; %s", desc,
		  was_running ? "the job restarts from its checkpoint" : "it applies when the job resumes");
	mgr_event(m, j, "warn", "warning", NULL,
		  "a table without a primary key or unique key may receive duplicate rows when the job restarts "
		  "from its checkpoint with a new spec");
relaunch:
	if (was_running) {
		int lrc = launch(m, j, false, false, "restarted from its checkpoint with the new spec");
		if (rc == 0)
			rc = lrc;
	}
done:
	if (rc == 0)
		*out = mgr_job_json(m, j, true);
	release(m, j);
out:
	pthread_mutex_unlock(&m->mu);
	tidm_job_config_free(cfg);
	free(def);
	return rc;
}

/* Remove the job's rows in tidm_meta on the target (never target data). */
static int forget_on_target(tidm_manager *m, const tidm_job_config *cfg)
{
	tidm_conn_opts co;
	tidm_conn *c = NULL;
	int rc;

	if (m->hooks.forget)
		return m->hooks.forget(cfg, m->hooks.payload);
	tidm_endpoint_conn_opts(&co, &cfg->target, TIDM_ROLE_TARGET);
	if ((rc = tidm_conn_open(&c, &co)) == 0) {
		rc = tidm_meta_job_delete(c, cfg->name);
		/* no tidm_meta on the target: nothing of the job to remove */
		if (rc < 0 && (tidm_err_dberr() == 1146 || tidm_err_dberr() == 1049)) {
			tidm_err_clear();
			rc = 0;
		}
	}
	tidm_conn_close(c);
	return rc;
}

int tidm_manager_delete(tidm_manager *m, const char *name)
{
	tidm_job_config *cfg = NULL;
	mgr_job *j;
	int rc;

	err_reset();
	pthread_mutex_lock(&m->mu);
	if (!(j = acquire(m, name, &rc)))
		goto out;
	stop_thread(m, j, MGR_STOP_DELETE);
	if (strcmp(j->state, "created") != 0) {
		/* the job ran: its checkpoints on the target go first (while it can still be named) */
		rc = mgr_job_config(m, j, NULL, &cfg);
		if (rc == 0) {
			pthread_mutex_unlock(&m->mu); /* a connection may take a while */
			rc = forget_on_target(m, cfg);
			pthread_mutex_lock(&m->mu);
		}
		if (rc < 0) {
			char msg[2048];
			snprintf(msg, sizeof(msg), "%s", tidm_err_msg());
			mgr_scrub(msg, sizeof(msg), cfg);
			if (!strcmp(j->state, "paused"))
				mgr_set_state(m, j, "paused", NULL, NULL, NULL, false);
			rc = tidm_err_set(rc, "job %s: its checkpoints in tidm_meta on the target could not be removed "
					      "(%s); the job is kept (%s): delete it again once the target is reachable",
					  j->name, msg, j->state);
			release(m, j);
			goto out;
		}
	}
	if ((rc = tidm_store_job_delete(m->store, j->name)) < 0) {
		release(m, j);
		goto out;
	}
	tidm_info("job %s: deleted", j->name);
	job_remove(m, j);
	j->deleted = true;
	j->busy = false;
	pthread_cond_broadcast(&m->cv);
	if (j->refs == 0)
		job_free(j);
out:
	pthread_mutex_unlock(&m->mu);
	tidm_job_config_free(cfg);
	return rc;
}

int tidm_manager_events(tidm_manager *m, const char *name, int64_t after, unsigned limit, json_t **out)
{
	tidm_store_event *ev = NULL;
	size_t n = 0;
	json_t *arr;
	bool known;
	int rc;

	err_reset();
	*out = NULL;
	pthread_mutex_lock(&m->mu);
	known = find(m, name) != NULL;
	pthread_mutex_unlock(&m->mu);
	if (!known)
		return tidm_err_set(TIDM_ENOTFOUND, "no job named %s", name);
	if (limit > 1000)
		limit = 1000;
	if ((rc = tidm_store_event_list(m->store, name, after < 0 ? 0 : after, limit, &ev, &n)) < 0)
		return rc;
	arr = json_array();
	for (size_t k = 0; k < n; k++)
		json_array_append_new(arr, json_pack("{sI so ss ss ss ss?}", "id", (json_int_t)ev[k].id, "time",
						     mgr_time_json(ev[k].time), "level", ev[k].level, "kind", ev[k].kind,
						     "message", ev[k].message ? ev[k].message : "", "cause", ev[k].cause));
	tidm_store_events_free(ev, n);
	*out = json_pack("{so}", "events", arr);
	return 0;
}
