/*
 * runway.c - the binlog runway item: will the position the job needs still be on the
 * source when replication gets there?
 *
 * DESIGN
 * Runway: the binlog position a type all job needs is the one current when its snapshot
 * is taken (now); an incremental job from a file needs that file. A position is purged
 * by age (retention R: binlog_expire_logs_seconds, expire_logs_days, RDS's binlog
 * retention hours) once its file is older than R, so the runway of "now" is R; and by
 * size (MariaDB's binlog_space_limit L) once L more bytes are written, L / w at the
 * binlog write rate w. An older start position has used up part of both: its age is
 * estimated as the bytes written since it over w. The runway is the smaller of the two.
 * w is measured over the sample below from the source's position before and after.
 *
 * Full-phase estimate: the selected tables' size in statistics bytes (DATA_LENGTH +
 * INDEX_LENGTH) over a copy rate: `precheck: {copy-rate: BYTES}` when the job file sets
 * one; otherwise a sample of the largest table is read on one connection for about half a
 * second, its rows/s converted to statistics bytes/s through that table's bytes per row,
 * times the job's parallelism min(dump-threads, load-threads), halved because the target
 * writes (and indexes) more slowly than the source reads (tidm's own benches load at
 * about half the read rate). An estimate, said to be one.
 *
 * Margin = runway / estimate: fail under 1 (the copy outlasts the binlog), warning under 2.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/quote.h"
#include "db/replica.h"
#include "precheck/pc_int.h"
#include "util/err.h"

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Binlog bytes from (f1,p1) to (f2,p2) by the file list (sizes of whole files between). */
static double bytes_between(const pc_ctx *c, const char *f1, uint64_t p1, const char *f2, uint64_t p2)
{
	double b = 0;
	bool in = false;

	if (!strcmp(f1, f2))
		return p2 >= p1 ? (double)(p2 - p1) : 0;
	for (size_t i = 0; i < c->n_logs; i++) {
		if (!strcmp(c->log_files[i], f1)) {
			in = true;
			b += c->log_sizes[i] > p1 ? (double)(c->log_sizes[i] - p1) : 0;
			continue;
		}
		if (!strcmp(c->log_files[i], f2))
			return b + (double)p2;
		if (in)
			b += (double)c->log_sizes[i];
	}
	return b + (double)p2;
}

/* Rows per second reading the largest selected table for about `secs` seconds. */
static double sample_rows_per_s(pc_ctx *c, const pc_table *t, double secs)
{
	tidm_conn *conn = NULL;
	tidm_conn_opts o = c->sopts;
	tidm_buf q = TIDM_BUF_INIT;
	double t0, el = 0;
	uint64_t rows = 0;
	bool killed = false;
	int rc;

	o.retries = 1;
	o.read_timeout = c->o->timeout_s;
	if (tidm_conn_open(&conn, &o) < 0)
		return -1;
	tidm_buf_puts(&q, "SELECT * FROM ");
	tidm_quote_qualified(&q, t->db, t->name);
	t0 = mono();
	if ((rc = tidm_conn_stream_begin(conn, q.data)) == 0) {
		const char *const *vals;
		const unsigned long *lens;
		while ((rc = tidm_conn_stream_next(conn, &vals, &lens)) == 1) {
			rows++;
			if ((rows & 255) == 0 && (el = mono() - t0) >= secs) {
				/* stop the server sending the rest rather than reading it */
				killed = tidm_conn_kill_query(&o, tidm_conn_thread_id(conn)) == 0;
				break;
			}
		}
		el = mono() - t0;
		tidm_conn_stream_end(conn);
	}
	(void)killed;
	tidm_buf_dispose(&q);
	tidm_conn_close(conn);
	tidm_err_clear();
	if (!rows || el <= 0)
		return -1;
	return (double)rows / el;
}

/* bytes/s assumed when no sample can be read: a slow single-threaded logical copy */
#define ASSUMED_COPY_RATE (4.0 * 1024 * 1024)

PC_ITEM(pc_item_binlog_runway)
{
	bool assumed = false;
	/* a type all job past its full phase (resumed in replication) has nothing to copy */
	bool copying = pc_copies(c) && !(c->job_exists && !strcmp(c->job_stage, "sync"));
	tidm_runway *rw = &c->runway;
	tidm_conn *src;
	const char *err;
	double R = 0, L, w = -1, runway, t0;
	char desc[160], d_run[32], d_est[32], d_r[32];
	tidm_replica_status s1, s2;
	const pc_table *big = NULL;
	int rc;

	if (!pc_replicates(c)) {
		pc_pass(r, "not needed: a type full job does not read the binary log");
		return;
	}
	if (c->src_rc < 0) {
		pc_warn(r, "not checked: the source connection failed");
		return;
	}
	rc = pc_retention_seconds(c, k, &R, desc, sizeof(desc));
	if (rc < 0) {
		if (rc == TIDM_ENOTFOUND)
			tidm_err_set(rc, "the source has neither binlog_expire_logs_seconds nor expire_logs_days");
		pc_cannot(r, "the binlog retention");
		return;
	}
	snprintf(rw->retention, sizeof(rw->retention), "%s", desc);
	L = pc_retention_bytes(c);
	if (pc_need_binlogs(c, k, &err) < 0 || !(src = pc_src(k))) {
		tidm_err_set(TIDM_ERROR, "%s", err ? err : "no source connection");
		pc_cannot(r, "the source's binlog files");
		return;
	}

	/* the full phase's size, and a copy-rate sample that also times the binlog rate */
	if (copying) {
		if (pc_need_tables(c, k, &err) < 0) {
			tidm_err_set(TIDM_ERROR, "%s", err);
			pc_cannot(r, "the selected tables' sizes");
			return;
		}
		rw->full_bytes = 0;
		for (size_t i = 0; i < c->n_tables; i++) {
			rw->full_bytes += c->tables[i].bytes;
			if (!big || c->tables[i].bytes > big->bytes)
				big = &c->tables[i];
		}
	}
	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	if (tidm_replica_status_read(src, &s1) < 0) {
		pc_cannot(r, "the source's binlog position");
		return;
	}
	t0 = mono();
	if (copying) {
		if (c->cfg->precheck_copy_rate) {
			rw->copy_rate = (double)c->cfg->precheck_copy_rate;
		} else if (big && big->bytes && big->rows) {
			double rps = sample_rows_per_s(c, big, c->o->sample_seconds);
			unsigned par = c->cfg->dump_threads < c->cfg->load_threads ? c->cfg->dump_threads : c->cfg->load_threads;
			if (rps > 0)
				rw->copy_rate = rps * ((double)big->bytes / (double)big->rows) * (par ? par : 1) / 2;
		}
		if (rw->copy_rate <= 0 && rw->full_bytes) {
			/* nothing to sample (statistics not gathered yet, empty tables): a cautious rate */
			rw->copy_rate = ASSUMED_COPY_RATE;
			assumed = true;
		}
		if (rw->full_bytes == 0)
			rw->full_estimate_s = 0;
		else if (rw->copy_rate > 0)
			rw->full_estimate_s = (double)rw->full_bytes / rw->copy_rate;
	} else {
		rw->full_estimate_s = 0;
	}
	/* let the rate sample see at least a short interval */
	while (mono() - t0 < 0.25)
		nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
	if (tidm_replica_status_read(src, &s2) == 0) {
		double el = mono() - t0;
		w = bytes_between(c, s1.file, s1.pos, s2.file, s2.pos) / el;
	}
	tidm_replica_status_dispose(&s2);
	rw->write_rate = w;

	/* runway of the needed position */
	{
		double age_bytes = 0;
		if (c->cfg->type == TIDM_JOB_INCREMENTAL && c->cfg->start_binlog_file && !c->job_exists)
			age_bytes = bytes_between(c, c->cfg->start_binlog_file, c->cfg->start_binlog_pos, s1.file, s1.pos);
		runway = R;
		if (!isinf(R) && age_bytes > 0 && w > 0)
			runway = R - age_bytes / w;
		if (L > 0) {
			double by_size = w > 0 ? (L - age_bytes) / w : INFINITY;
			if (by_size < runway) {
				runway = by_size;
				snprintf(rw->retention, sizeof(rw->retention), "binlog size limit %.0f bytes at %.0f bytes/s", L,
					 w);
			}
		}
		if (runway < 0)
			runway = 0;
	}
	tidm_replica_status_dispose(&s1);
	rw->runway_s = runway;
	tidm_precheck_fmt_duration(d_run, sizeof(d_run), runway);
	tidm_precheck_fmt_duration(d_est, sizeof(d_est), rw->full_estimate_s);
	snprintf(d_r, sizeof(d_r), "%.0f", w > 0 ? w : 0);

	if (!copying) {
		if (runway <= 0) {
			pc_fail(r, "the start position will be purged any moment (%s)", rw->retention);
			pc_fix(r, "Keep binary logs longer (see binlog-retention), or start from a newer position.");
		} else {
			pc_pass(r, "the needed binlog position stays on the source for about %s (%s; binlog written at %s "
				   "bytes/s); replication must not fall further behind than that",
				d_run, rw->retention, d_r);
		}
		return;
	}
	if (rw->full_estimate_s < 0) {
		pc_warn(r, "could not estimate the full phase's duration (no copy-rate sample; %llu bytes to copy); "
			   "the binlog runway is %s (%s)",
			(unsigned long long)rw->full_bytes, d_run, rw->retention);
		pc_fix(r, "Set precheck: {copy-rate: BYTES-PER-SECOND} in the job file to the rate you expect, and run the "
			  "precheck again.");
		return;
	}
	if (isinf(runway)) {
		pc_pass(r, "nothing purges the binary log by age or size (%s); the full phase of about %s (%llu bytes at "
			   "%.0f bytes/s) is safe",
			rw->retention, d_est, (unsigned long long)rw->full_bytes, rw->copy_rate > 0 ? rw->copy_rate : 0);
		return;
	}
	if (runway < rw->full_estimate_s) {
		pc_fail(r,
			"the full phase is estimated at %s (%llu bytes at %.0f bytes/s%s) but the snapshot's binlog position "
			"will be purged in about %s (%s; binlog written at %s bytes/s): replication could not continue "
			"after the copy",
			d_est, (unsigned long long)rw->full_bytes, rw->copy_rate,
			c->cfg->precheck_copy_rate ? ", the job's copy-rate" : assumed ? ", assumed" : ", sampled", d_run, rw->retention, d_r);
		pc_fix(r, "Keep binary logs for at least twice the estimate (see binlog-retention for how), or copy less "
			  "per job (objects), or copy faster (spec: dump-threads, load-threads).");
		return;
	}
	if (runway < 2 * rw->full_estimate_s) {
		pc_warn(r,
			"the full phase is estimated at %s (%llu bytes at %.0f bytes/s%s) and the snapshot's binlog position "
			"stays for about %s (%s; binlog written at %s bytes/s): a margin of %.1fx, under the 2x that leaves "
			"room for a slower copy or a pause",
			d_est, (unsigned long long)rw->full_bytes, rw->copy_rate,
			c->cfg->precheck_copy_rate ? ", the job's copy-rate" : assumed ? ", assumed" : ", sampled", d_run, rw->retention, d_r,
			runway / (rw->full_estimate_s > 0 ? rw->full_estimate_s : 1));
		pc_fix(r, "Keep binary logs longer (see binlog-retention for how).");
		return;
	}
	pc_pass(r, "the full phase is estimated at %s (%llu bytes at %.0f bytes/s); the snapshot's binlog position "
		   "stays for about %s (%s): margin %.1fx",
		d_est, (unsigned long long)rw->full_bytes, rw->copy_rate, d_run, rw->retention,
		rw->full_estimate_s > 0 ? runway / rw->full_estimate_s : INFINITY);
}
