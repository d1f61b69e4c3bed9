/*
 * json.c - the job service's status answer for one job (GET /jobs/{name}, and each item of
 * GET /jobs). Shape (every key always present; null where not known):
 *   {"name", "type": "full|incremental|all", "mode": "logical|physical", "state", "stage": "dumping|loading|syncing|done"|null,
 *    "created_at", "updated_at": RFC 3339 UTC,
 *    "progress": {"tables_total", "tables_done", "chunks_total", "chunks_done", "rows",
 *                 "rows_estimate", "bytes", "percent", "rows_per_s", "bytes_per_s", "eta_s"|null},
 *    "sync": {"events", "transactions", "rows", "ddls", "lag_s"|null, "safe_mode", "reconnects",
 *             "apply_rows_per_s" (smoothed, while syncing)},
 *    "lag_s": the replication lag in seconds | null,
 *    "positions": {"snapshot": {"file","pos"}|null, "checkpoint": {"file","pos","gtid"}|null},
 *    "last_error": {"message", "cause"} | null,
 *    "retry": {"attempt", "at"} | null   (waiting to try again after a transient failure),
 *    "spec": {"dump-threads", "load-threads", "apply-workers", "batch"} as defined,
 *    "definition": the job as stored, without passwords  (detail only),
 *    "precheck": the last precheck's answer (as POST /precheck) | null  (detail only)}
 * Progress figures are those of the current run (or of the last one once it stopped);
 * rates are averages since the run's start, the ETA from the rows left at that rate.
 * A password never reaches an answer: the stored definition has none.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "service/manager_int.h"

json_t *mgr_time_json(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[40], out[48];

	if (ms <= 0)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, sizeof(out), "%s.%03dZ", buf, (int)(ms % 1000));
	return json_string(out);
}

static json_t *progress_json(const mgr_job *j, double secs)
{
	const tidm_full_progress *p = &j->prog.full;
	uint64_t est = atomic_load(&p->rows_estimate), done = atomic_load(&p->rows_done);
	uint64_t skipped = atomic_load(&p->rows_skipped), bytes = atomic_load(&p->bytes_done);
	uint64_t ct = atomic_load(&p->chunks_total), cd = atomic_load(&p->chunks_done);
	int phase = atomic_load(&j->prog.phase);
	double pct = 0, rrate = 0, brate = 0;
	json_t *eta = json_null();

	if (phase == TIDM_PHASE_SYNC || phase == TIDM_PHASE_DONE || !strcmp(j->state, "finished"))
		pct = 100;
	else if (ct)
		pct = 100.0 * (double)cd / (double)ct;
	else if (est)
		pct = 100.0 * (double)done / (double)est;
	if (pct > 100)
		pct = 100;
	if (secs >= 1 && done > skipped) {
		rrate = (double)(done - skipped) / secs;
		brate = (double)bytes / secs;
	}
	if (j->th_live && phase == TIDM_PHASE_FULL && rrate > 0 && est > done) {
		json_decref(eta);
		eta = json_integer((json_int_t)((double)(est - done) / rrate + 0.5));
	}
	return json_pack("{sI sI sI sI sI sI sI sf sf sf so}", "tables_total", (json_int_t)atomic_load(&p->tables_total),
			 "tables_done", (json_int_t)atomic_load(&p->tables_done), "chunks_total", (json_int_t)ct,
			 "chunks_done", (json_int_t)cd, "rows", (json_int_t)done, "rows_estimate", (json_int_t)est, "bytes",
			 (json_int_t)bytes, "percent", (double)(int)(pct * 10) / 10.0, "rows_per_s", (double)(int64_t)rrate,
			 "bytes_per_s", (double)(int64_t)brate, "eta_s", eta);
}

static json_t *sync_json(const mgr_job *j, json_t **lag_out)
{
	const tidm_sync_progress *p = &j->prog.sync;
	int64_t lag = atomic_load(&p->lag_s);
	bool syncing = j->th_live && atomic_load(&j->prog.phase) == TIDM_PHASE_SYNC;

	*lag_out = syncing && lag >= 0 ? json_integer(lag) : json_null();
	return json_pack("{sI sI sI sI so sb sI sf}", "events", (json_int_t)atomic_load(&p->events), "transactions",
			 (json_int_t)atomic_load(&p->txns), "rows", (json_int_t)atomic_load(&p->rows), "ddls",
			 (json_int_t)atomic_load(&p->ddls), "lag_s", syncing && lag >= 0 ? json_integer(lag) : json_null(),
			 "safe_mode", atomic_load(&p->safe_mode) != 0, "reconnects",
			 (json_int_t)atomic_load(&j->prog.reconnects), "apply_rows_per_s",
			 syncing ? (double)(int64_t)(atomic_load(&p->apply_rate_milli) / 100) / 10.0 : 0.0);
}

static const char *const spec_keys[] = {"dump-threads", "load-threads", "apply-workers", "batch"};

void mgr_spec_cache(mgr_job *j)
{
	static const int64_t defaults[] = {4, 4, 8, 100};
	json_t *def = j->def ? json_loads(j->def, 0, NULL) : NULL, *spec = def ? json_object_get(def, "spec") : NULL;

	for (size_t k = 0; k < sizeof(spec_keys) / sizeof(spec_keys[0]); k++) {
		json_t *v = spec ? json_object_get(spec, spec_keys[k]) : NULL;
		j->spec[k] = json_is_integer(v) ? (int64_t)json_integer_value(v) : defaults[k];
	}
	snprintf(j->mode, sizeof(j->mode), "%s",
		 json_is_string(json_object_get(def, "mode")) ? json_string_value(json_object_get(def, "mode")) : "logical");
	json_decref(def);
}

/* The list answers 200 jobs at a time: no definition is parsed for it. */
static json_t *spec_json(const mgr_job *j)
{
	json_t *o = json_object();

	for (size_t k = 0; k < sizeof(spec_keys) / sizeof(spec_keys[0]); k++)
		json_object_set_new(o, spec_keys[k], json_integer((json_int_t)j->spec[k]));
	return o;
}

json_t *mgr_job_json(const tidm_manager *m, const mgr_job *j, bool detail)
{
	const char *stage = mgr_live_stage(j);
	int64_t now = mgr_now_ms();
	double secs = j->run_started ? (double)(now - j->run_started) / 1000.0 : 0;
	json_t *def = detail ? json_loads(j->def, 0, NULL) : NULL, *o, *lag = NULL, *pos;
	(void)m;

	pos = json_pack("{so so}", "snapshot",
			j->snap_file[0] ? json_pack("{ss sI}", "file", j->snap_file, "pos", (json_int_t)j->snap_pos)
					: json_null(),
			"checkpoint",
			j->have_checkpoint ? json_pack("{ss sI ss}", "file", j->checkpoint.file, "pos",
						       (json_int_t)j->checkpoint.pos, "gtid", j->checkpoint.gtid)
					   : json_null());
	o = json_pack("{ss ss ss ss so so so}", "name", j->name, "type", tidm_job_type_name(j->type), "mode", j->mode,
		      "state", j->state,
		      "stage", stage[0] ? json_string(stage) : json_null(), "created_at", mgr_time_json(j->created_at),
		      "updated_at", mgr_time_json(j->updated_at));
	json_object_set_new(o, "progress", progress_json(j, secs));
	json_object_set_new(o, "sync", sync_json(j, &lag));
	json_object_set_new(o, "lag_s", lag);
	json_object_set_new(o, "positions", pos);
	json_object_set_new(o, "last_error",
			    j->last_error ? json_pack("{ss ss?}", "message", j->last_error, "cause", j->last_cause)
					  : json_null());
	json_object_set_new(o, "retry",
			    j->retry_at ? json_pack("{sI so}", "attempt", (json_int_t)j->attempt, "at",
						    mgr_time_json(j->retry_at))
					: json_null());
	json_object_set_new(o, "spec", spec_json(j));
	if (detail && def)
		json_object_set(o, "definition", def);
	if (detail)
		json_object_set_new(o, "precheck", j->precheck ? json_loads(j->precheck, 0, NULL) : json_null());
	json_decref(def);
	return o;
}
