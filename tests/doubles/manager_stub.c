/*
 * manager_stub.c - an in-memory test double of service/manager.h (issue 14), linked only
 * while src/service/ holds no implementation (see CMakeLists.txt). It keeps jobs in a
 * mutex-guarded array and walks the state machine of manager.h without running anything:
 * start puts a job in `running` (stage dumping, or syncing for incremental), pause in
 * `paused`, and so on. Enough to run the HTTP API and `tidm job` end to end; not the
 * product. Validation of a job body goes through job/config.h like the real one.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job/config.h"
#include "service/manager.h"
#include "util/err.h"

struct stub_job {
	char name[64];
	char type[16];
	char state[16];
	char stage[16];
	json_t *spec;
	json_t *events;
	int64_t next_event;
	time_t created;
};

struct tidm_manager {
	pthread_mutex_t mu;
	struct stub_job *jobs;
	size_t n;
	unsigned max_jobs;
};

static _Thread_local const char *err_field;

const char *tidm_manager_err_field(void)
{
	return err_field;
}

int tidm_manager_open(tidm_manager **out, const tidm_manager_opts *o)
{
	tidm_manager *m = calloc(1, sizeof(*m));
	if (!m)
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	pthread_mutex_init(&m->mu, NULL);
	m->max_jobs = o && o->max_jobs ? o->max_jobs : 200;
	*out = m;
	return 0;
}

void tidm_manager_close(tidm_manager *m)
{
	size_t i;
	if (!m)
		return;
	for (i = 0; i < m->n; i++) {
		json_decref(m->jobs[i].spec);
		json_decref(m->jobs[i].events);
	}
	free(m->jobs);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static struct stub_job *find(tidm_manager *m, const char *name)
{
	size_t i;
	for (i = 0; i < m->n; i++)
		if (!strcmp(m->jobs[i].name, name))
			return &m->jobs[i];
	return NULL;
}

static void event(struct stub_job *j, const char *level, const char *kind, const char *msg)
{
	json_array_append_new(j->events, json_pack("{s:I,s:I,s:s,s:s,s:s,s:n}", "id", (json_int_t)++j->next_event,
						   "time", (json_int_t)time(NULL), "level", level, "kind", kind,
						   "message", msg, "cause"));
}

static json_t *job_json(const struct stub_job *j)
{
	return json_pack("{s:s,s:s,s:s,s:s?,s:O,s:{s:I,s:I,s:f},s:n,s:n,s:I}", "name", j->name, "type", j->type,
			 "state", j->state, "stage", j->stage[0] ? j->stage : NULL, "spec", j->spec, "progress",
			 "tables_done", (json_int_t)0, "rows", (json_int_t)0, "percent", 0.0, "lag_seconds",
			 "last_error", "created_at", (json_int_t)j->created);
}

static void set_state(struct stub_job *j, const char *state, const char *stage)
{
	char msg[96];
	snprintf(j->state, sizeof(j->state), "%s", state);
	snprintf(j->stage, sizeof(j->stage), "%s", stage ? stage : "");
	snprintf(msg, sizeof(msg), "state %s%s%s", state, stage ? ", stage " : "", stage ? stage : "");
	event(j, "info", "state", msg);
}

static void run(struct stub_job *j)
{
	set_state(j, "running", !strcmp(j->type, "incremental") ? "syncing" : "dumping");
}

int tidm_manager_create(tidm_manager *m, const char *body, size_t len, json_t **out)
{
	tidm_job_config *cfg = NULL;
	struct stub_job *j, *grown;
	int rc;

	err_field = NULL;
	rc = tidm_job_config_parse(&cfg, body, len, "request body");
	if (rc < 0) {
		if (strstr(tidm_err_msg(), "name"))
			err_field = "name";
		return rc;
	}
	pthread_mutex_lock(&m->mu);
	if (find(m, cfg->name)) {
		rc = tidm_err_set(TIDM_ECONFLICT, "a job named \"%s\" exists already", cfg->name);
		err_field = "name";
		goto out;
	}
	if (m->n >= m->max_jobs) {
		rc = tidm_err_set(TIDM_EINVAL, "the store holds %u jobs, the most it takes; delete one first", m->max_jobs);
		goto out;
	}
	if (!(grown = realloc(m->jobs, (m->n + 1) * sizeof(*m->jobs)))) {
		rc = tidm_err_set(TIDM_ENOMEM, "out of memory");
		goto out;
	}
	m->jobs = grown;
	j = &m->jobs[m->n++];
	memset(j, 0, sizeof(*j));
	snprintf(j->name, sizeof(j->name), "%s", cfg->name);
	snprintf(j->type, sizeof(j->type), "%s", tidm_job_type_name(cfg->type));
	j->spec = json_pack("{s:i,s:i,s:i,s:i}", "dump-threads", cfg->dump_threads, "load-threads", cfg->load_threads,
			    "apply-workers", cfg->apply_workers, "batch", cfg->batch);
	j->events = json_array();
	j->created = time(NULL);
	set_state(j, "created", NULL);
	if (cfg->start_requested)
		run(j);
	*out = job_json(j);
out:
	pthread_mutex_unlock(&m->mu);
	tidm_job_config_free(cfg);
	return rc;
}

int tidm_manager_list(tidm_manager *m, json_t **out)
{
	json_t *a = json_array();
	size_t i;
	pthread_mutex_lock(&m->mu);
	for (i = 0; i < m->n; i++)
		json_array_append_new(a, job_json(&m->jobs[i]));
	pthread_mutex_unlock(&m->mu);
	*out = json_pack("{s:o}", "jobs", a);
	return 0;
}

/* Looks the job up, checks that its state is one of `allowed` (NULL: any), locks. */
static int lookup(tidm_manager *m, const char *name, const char *const *allowed, const char *op,
		  struct stub_job **out)
{
	struct stub_job *j;
	size_t i;

	err_field = NULL;
	pthread_mutex_lock(&m->mu);
	if (!(j = find(m, name))) {
		pthread_mutex_unlock(&m->mu);
		return tidm_err_set(TIDM_ENOTFOUND, "no job named \"%s\"", name);
	}
	for (i = 0; allowed && allowed[i]; i++)
		if (!strcmp(j->state, allowed[i]))
			break;
	if (allowed && !allowed[i]) {
		int rc = tidm_err_set(TIDM_ECONFLICT, "job \"%s\" is %s: it cannot %s in that state", name, j->state, op);
		pthread_mutex_unlock(&m->mu);
		return rc;
	}
	*out = j;
	return 0;
}

int tidm_manager_get(tidm_manager *m, const char *name, json_t **out)
{
	struct stub_job *j;
	int rc = lookup(m, name, NULL, "", &j);
	if (rc < 0)
		return rc;
	*out = job_json(j);
	pthread_mutex_unlock(&m->mu);
	return 0;
}

static int transition(tidm_manager *m, const char *name, const char *const *allowed, const char *op,
		      const char *state, json_t **out)
{
	struct stub_job *j;
	int rc = lookup(m, name, allowed, op, &j);
	if (rc < 0)
		return rc;
	if (state)
		set_state(j, state, NULL);
	else
		run(j);
	*out = job_json(j);
	pthread_mutex_unlock(&m->mu);
	return 0;
}

int tidm_manager_start(tidm_manager *m, const char *name, json_t **out)
{
	static const char *const ok[] = {"created", "paused", "failed", NULL};
	return transition(m, name, ok, "start", NULL, out);
}

int tidm_manager_resume(tidm_manager *m, const char *name, json_t **out)
{
	static const char *const ok[] = {"created", "paused", "failed", NULL};
	return transition(m, name, ok, "resume", NULL, out);
}

int tidm_manager_pause(tidm_manager *m, const char *name, json_t **out)
{
	static const char *const ok[] = {"prechecking", "running", NULL};
	return transition(m, name, ok, "pause", "paused", out);
}

int tidm_manager_restart(tidm_manager *m, const char *name, bool replace_conflicts, json_t **out)
{
	static const char *const ok[] = {"created", "running", "paused", "failed", "finished", NULL};
	(void)replace_conflicts;
	return transition(m, name, ok, "restart", NULL, out);
}

int tidm_manager_scale(tidm_manager *m, const char *name, const json_t *spec, json_t **out)
{
	static const char *const ok[] = {"running", "paused", NULL};
	struct stub_job *j;
	const char *k;
	json_t *v;
	int rc = lookup(m, name, ok, "scale", &j);
	if (rc < 0)
		return rc;
	json_object_foreach((json_t *)spec, k, v) {
		json_int_t n = json_integer_value(v);
		if (n < 1 || n > (strcmp(k, "batch") ? 64 : 100000)) {
			err_field = k;
			rc = tidm_err_set(TIDM_EINVAL, "spec %s is %lld; expected 1..%d", k, (long long)n,
					  strcmp(k, "batch") ? 64 : 100000);
			pthread_mutex_unlock(&m->mu);
			return rc;
		}
	}
	json_object_foreach((json_t *)spec, k, v)
		json_object_set(j->spec, k, v);
	event(j, "info", "scale", "spec changed");
	*out = job_json(j);
	pthread_mutex_unlock(&m->mu);
	return 0;
}

int tidm_manager_delete(tidm_manager *m, const char *name)
{
	struct stub_job *j;
	int rc = lookup(m, name, NULL, "", &j);
	if (rc < 0)
		return rc;
	json_decref(j->spec);
	json_decref(j->events);
	memmove(j, j + 1, (size_t)(m->jobs + m->n - (j + 1)) * sizeof(*j));
	m->n--;
	pthread_mutex_unlock(&m->mu);
	return 0;
}

int tidm_manager_events(tidm_manager *m, const char *name, int64_t after, unsigned limit, json_t **out)
{
	struct stub_job *j;
	json_t *a, *e;
	size_t i;
	int rc = lookup(m, name, NULL, "", &j);
	if (rc < 0)
		return rc;
	a = json_array();
	json_array_foreach(j->events, i, e) {
		if (json_integer_value(json_object_get(e, "id")) > after && json_array_size(a) < limit)
			json_array_append(a, e);
	}
	pthread_mutex_unlock(&m->mu);
	*out = json_pack("{s:o}", "events", a);
	return 0;
}
