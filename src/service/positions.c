/*
 * positions.c - where a job stands in the source's binary log, read live for the
 * console's job details: the source's current position (file, position, GTID set) and the
 * checkpoint the target holds (tidm_meta.sync_workers: the lowest worker checkpoint, where
 * replication would resume), and the snapshot the copy was taken at (tidm_meta.jobs); and
 * the job's verification results (tidm_meta, verify/verify.h).
 *
 * DESIGN
 * The status answer (json.c) stays free of I/O because it is polled for 200 jobs at a
 * time; this call opens one connection to each side (5 s timeout, one try) and is meant
 * to be polled slowly by one open details page. A side that cannot be reached is answered
 * as null with its SPEC §6 message beside it, never as an error of the whole call: the
 * page shows what it can. Passwords are unsealed only for the connections and never
 * leave this function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/conn.h"
#include "db/meta.h"
#include "db/quote.h"
#include "db/replica.h"
#include "service/manager_int.h"
#include "verify/verify.h"
#include "sync/apply.h"
#include "util/buf.h"
#include "util/err.h"

static tidm_conn *open_side(const tidm_endpoint *e, enum tidm_role role, json_t **err)
{
	tidm_conn_opts o;
	tidm_conn *c = NULL;

	tidm_endpoint_conn_opts(&o, e, role);
	o.connect_timeout = 5;
	o.retries = 1;
	tidm_err_clear();
	if (tidm_conn_open(&c, &o) < 0) {
		*err = json_string(tidm_err_msg());
		return NULL;
	}
	return c;
}

static json_t *source_position(const tidm_job_config *cfg, json_t **err)
{
	tidm_replica_status st;
	tidm_conn *c = open_side(&cfg->source, TIDM_ROLE_SOURCE, err);
	json_t *o = NULL;

	if (!c)
		return json_null();
	memset(&st, 0, sizeof(st));
	if (tidm_replica_status_read(c, &st) < 0)
		*err = json_string(tidm_err_msg());
	else
		o = json_pack("{ss sI ss}", "file", st.file, "pos", (json_int_t)st.pos, "gtid", st.gtid ? st.gtid : "");
	tidm_replica_status_dispose(&st);
	tidm_conn_close(c);
	return o ? o : json_null();
}

/* The checkpoint, and the snapshot of the copy as tidm_meta.jobs records it (*snap). */
static json_t *target_checkpoint(const tidm_job_config *cfg, json_t **err, json_t **snap)
{
	tidm_conn *c = open_side(&cfg->target, TIDM_ROLE_TARGET, err);
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	tidm_meta_job mj;
	json_t *o = NULL;

	if (!c)
		return json_null();
	memset(&mj, 0, sizeof(mj));
	if (tidm_meta_job_get(c, cfg->name, &mj) == 0 && mj.exists && mj.snap_file[0]) {
		json_decref(*snap);
		*snap = json_pack("{ss sI ss}", "file", mj.snap_file, "pos", (json_int_t)mj.snap_pos, "gtid",
				  mj.snap_gtid ? mj.snap_gtid : "");
	}
	tidm_meta_job_dispose(&mj);
	tidm_err_clear();
	tidm_buf_puts(&q, "SELECT `file`, `pos` FROM `" TIDM_META_DB "`.`sync_workers` WHERE `job` = ");
	tidm_quote_string(&q, cfg->name, strlen(cfg->name));
	tidm_buf_puts(&q, " AND `file` <> ''");
	if (tidm_conn_query(c, &res, q.data) < 0) {
		/* no table yet: the job never replicated */
		if (tidm_err_dberr() != 1146 && tidm_err_dberr() != 1049)
			*err = json_string(tidm_err_msg());
	} else {
		char file[512] = "";
		uint64_t pos = 0;
		bool have = false;
		while (tidm_res_next(res) == 1) {
			const char *f = tidm_res_get(res, 0);
			uint64_t p = strtoull(tidm_res_get(res, 1), NULL, 10);
			if (!have || tidm_sync_pos_cmp(f, p, file, pos) < 0) {
				snprintf(file, sizeof(file), "%s", f);
				pos = p;
				have = true;
			}
		}
		if (have)
			o = json_pack("{ss sI}", "file", file, "pos", (json_int_t)pos);
	}
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	tidm_conn_close(c);
	return o ? o : json_null();
}

/* A message with the job's passwords replaced (db/conn.h never puts them in; belt and braces). */
static json_t *scrubbed(json_t *msg, const tidm_job_config *cfg)
{
	char buf[2048];

	if (!msg)
		return NULL;
	snprintf(buf, sizeof(buf), "%s", json_string_value(msg) ? json_string_value(msg) : "");
	json_decref(msg);
	mgr_scrub(buf, sizeof(buf), cfg);
	return json_string(buf);
}

/* The configuration (passwords unsealed) of job `name`, and its snapshot position as the
 * manager knows it (*snap, when snap is not NULL). */
static int job_config_of(tidm_manager *m, const char *name, tidm_job_config **cfg, json_t **snap)
{
	mgr_job *j = NULL;
	int rc;

	pthread_mutex_lock(&m->mu);
	for (size_t k = 0; k < m->njobs; k++)
		if (!m->jobs[k]->deleted && !strcmp(m->jobs[k]->name, name))
			j = m->jobs[k];
	if (!j) {
		pthread_mutex_unlock(&m->mu);
		return tidm_err_set(TIDM_ENOTFOUND, "no job named %s", name);
	}
	rc = mgr_job_config(m, j, NULL, cfg);
	if (snap)
		*snap = j->snap_file[0] ? json_pack("{ss sI}", "file", j->snap_file, "pos", (json_int_t)j->snap_pos)
					: json_null();
	pthread_mutex_unlock(&m->mu);
	if (rc < 0 && snap) {
		json_decref(*snap);
		*snap = NULL;
	}
	return rc;
}

int tidm_manager_positions(tidm_manager *m, const char *name, json_t **out)
{
	tidm_job_config *cfg = NULL;
	json_t *serr = NULL, *terr = NULL, *src, *cp, *snap = NULL;
	int rc;

	mgr_err_begin();
	*out = NULL;
	if ((rc = job_config_of(m, name, &cfg, &snap)) < 0)
		return rc;
	src = source_position(cfg, &serr);
	cp = target_checkpoint(cfg, &terr, &snap);
	serr = scrubbed(serr, cfg);
	terr = scrubbed(terr, cfg);
	*out = json_pack("{so so so so so}", "source", src, "source_error", serr ? serr : json_null(), "checkpoint", cp,
			 "target_error", terr ? terr : json_null(), "snapshot", snap);
	tidm_job_config_free(cfg);
	return 0;
}

int tidm_manager_verify(tidm_manager *m, const char *name, json_t **out)
{
	tidm_job_config *cfg = NULL;
	tidm_verify_result *r = NULL;
	json_t *err = NULL, *tables;
	tidm_conn *c;
	size_t n = 0;
	int rc;

	mgr_err_begin();
	*out = NULL;
	if ((rc = job_config_of(m, name, &cfg, NULL)) < 0)
		return rc;
	tables = json_array();
	if ((c = open_side(&cfg->target, TIDM_ROLE_TARGET, &err)) != NULL) {
		if (tidm_verify_results_read(c, cfg->name, &r, &n) < 0)
			err = json_string(tidm_err_msg());

		for (size_t i = 0; i < n; i++)
			json_array_append_new(tables, json_pack("{ss ss ss sI sI sI sI si ss ss?}", "db", r[i].db, "table",
								r[i].table, "state", r[i].state, "chunks_total",
								(json_int_t)r[i].chunks_total, "chunks_done",
								(json_int_t)r[i].chunks_done, "rows_checked",
								(json_int_t)r[i].rows_checked, "differing_rows",
								(json_int_t)r[i].differing_rows, "pass", (int)r[i].pass,
								"updated_at", r[i].updated_at, "detail", r[i].detail));
		tidm_verify_results_free(r, n);
		tidm_conn_close(c);
	}
	err = scrubbed(err, cfg);
	*out = json_pack("{so so}", "tables", tables, "error", err ? err : json_null());
	tidm_job_config_free(cfg);
	return 0;
}
