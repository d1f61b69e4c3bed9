/*
 * store.c - the engine-independent part of the job store (see store.h): the calls that
 * dispatch to an engine's operations, and freeing what they return.
 */
#include "service/store.h"

#include <stdlib.h>

void tidm_store_close(tidm_store *s)
{
	if (s)
		s->ops->close(s);
}

int tidm_store_schema_version(tidm_store *s, int *out) { return s->ops->schema_version(s, out); }
int tidm_store_job_create(tidm_store *s, const tidm_store_job *j) { return s->ops->job_create(s, j); }

int tidm_store_job_update_definition(tidm_store *s, const char *name, const char *definition, int64_t updated_at)
{
	return s->ops->job_update_definition(s, name, definition, updated_at);
}

int tidm_store_job_set_state(tidm_store *s, const char *name, const tidm_store_state *st)
{
	return s->ops->job_set_state(s, name, st);
}

int tidm_store_job_get(tidm_store *s, const char *name, tidm_store_job *out) { return s->ops->job_get(s, name, out); }
int tidm_store_job_list(tidm_store *s, tidm_store_job **out, size_t *n) { return s->ops->job_list(s, out, n); }
int tidm_store_job_count(tidm_store *s, size_t *out) { return s->ops->job_count(s, out); }
int tidm_store_job_delete(tidm_store *s, const char *name) { return s->ops->job_delete(s, name); }

int tidm_store_event_append(tidm_store *s, const char *job, tidm_store_event *ev)
{
	return s->ops->event_append(s, job, ev);
}

int tidm_store_event_list(tidm_store *s, const char *job, int64_t after, unsigned limit, tidm_store_event **out,
			  size_t *n)
{
	return s->ops->event_list(s, job, after, limit ? limit : 100, out, n);
}

int tidm_store_sub_create(tidm_store *s, tidm_store_sub *sub) { return s->ops->sub_create(s, sub); }
int tidm_store_sub_list(tidm_store *s, tidm_store_sub **out, size_t *n) { return s->ops->sub_list(s, out, n); }
int tidm_store_sub_delete(tidm_store *s, int64_t id) { return s->ops->sub_delete(s, id); }

void tidm_store_subs_free(tidm_store_sub *subs, size_t n)
{
	for (size_t i = 0; i < n && subs; i++) {
		free(subs[i].target);
		free(subs[i].secret);
	}
	free(subs);
}

void tidm_store_job_dispose(tidm_store_job *j)
{
	if (!j)
		return;
	free(j->name);
	free(j->definition);
	free(j->secrets);
	free(j->last_error);
	free(j->last_cause);
	j->name = j->definition = j->secrets = j->last_error = j->last_cause = NULL;
}

void tidm_store_jobs_free(tidm_store_job *jobs, size_t n)
{
	for (size_t i = 0; i < n && jobs; i++)
		tidm_store_job_dispose(&jobs[i]);
	free(jobs);
}

void tidm_store_events_free(tidm_store_event *evs, size_t n)
{
	for (size_t i = 0; i < n && evs; i++) {
		free(evs[i].message);
		free(evs[i].cause);
	}
	free(evs);
}
