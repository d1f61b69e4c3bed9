/*
 * online.c - verify while the job keeps replicating: when a source read and a target read
 * may be compared, candidate confirmation for keyed tables, and keyless multisets.
 *
 * DESIGN
 *  The problem: the source keeps writing and the applier is behind it, so a target read
 *  and a source read taken "at the same time" see different moments of the same history.
 *  The protocol (chosen over a barrier inside the applier, so that the sync hot path is
 *  untouched):
 *   1. Every source read runs in a consistent snapshot (START TRANSACTION WITH CONSISTENT
 *      SNAPSHOT) whose binlog position P is known: MariaDB reports it exactly
 *      (binlog_snapshot_file/_position); on MySQL the position read right after the
 *      snapshot starts is an upper bound of it, which is all step 2 needs.
 *   2. The matching target read waits until the job's applier has committed everything
 *      before P: every worker's checkpoint in tidm_meta.sync_workers is at or past P (a
 *      worker commits its checkpoint in the same transaction as its rows, sync/apply.h).
 *      The target then holds, for every row, the source's state at some position between
 *      P and the furthest worker checkpoint M.
 *   3. Chunks and halves whose digests agree are equal. What disagrees is narrowed to
 *      candidate keys (narrow.c), each of which must be proven: a round reads the
 *      candidates on the source in a snapshot at P, on the target once the applier passed
 *      P, and on the source again afterwards (at P' >= M). A candidate equal on both
 *      sides is done. One that differs while the source did not change between P and P'
 *      is a conclusive difference for that round: the target must have held the source's
 *      (unchanged) state, and does not. A round where the source changed, or the applier
 *      did not pass P within the wait, proves nothing (after one wait timed out, later
 *      ones give up at once: a job that stopped uncleanly still says "running").
 *   4. A difference is reported once CONFIRM rounds were conclusive (3, so a row that went
 *      A -> B -> A on the source during one round cannot be reported); a candidate still
 *      unproven after MAX_ROUNDS rounds (a row written all the time) is counted as
 *      unsettled: neither equal nor different, said in the report.
 *  Offline (the job is not syncing: its record is not "running" in stage "sync"): one
 *  round, no snapshots, no waiting; both sides are compared as they are.
 *  Keyless tables follow the same rounds with the multiset of row digests in place of
 *  keys: (digest, count) pairs whose counts differ are the candidates.
 */
#include "verify/verify_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/meta.h"
#include "db/quote.h"
#include "db/replica.h"
#include "util/err.h"
#include "util/log.h"

#define CONFIRM 3
#define MAX_ROUNDS 8
#define WAIT_S 30.0
#define LOOKUP_BATCH 500

int vpos_cmp(const vpos *a, const vpos *b)
{
	size_t la = strlen(a->file), lb = strlen(b->file);
	int c;
	if (la != lb)
		return la < lb ? -1 : 1;
	if ((c = strcmp(a->file, b->file)) != 0)
		return c;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

int vonline_detect(vrun *r, tidm_conn *tgt)
{
	tidm_meta_job j;
	int rc;

	if (r->o->online >= 0) {
		r->online = r->o->online == 1;
		return 0;
	}
	rc = tidm_meta_job_get(tgt, r->cfg->name, &j);
	if (rc < 0) {
		/* no job store on the target yet: nothing replicates */
		tidm_err_clear();
		r->online = false;
		return 0;
	}
	r->online = j.exists && !strcmp(j.state, "running") && !strcmp(j.stage, "sync");
	if (j.exists && !strcmp(j.state, "running") && strcmp(j.stage, "sync") != 0)
		tidm_warn("verify: job %s is still copying (stage %s): the target is not complete yet, tables being "
			  "copied will differ",
			  r->cfg->name, j.stage);
	tidm_meta_job_dispose(&j);
	return 0;
}

int vread_begin(vrun *r, vside *s, vpos *at)
{
	tidm_res *res = NULL;
	int rc;

	memset(at, 0, sizeof(*at));
	if (!r->online || !s->source)
		return 0;
	if ((rc = tidm_conn_exec(s->c, "START TRANSACTION WITH CONSISTENT SNAPSHOT", 42)) < 0)
		return rc;
	if (s->d.self == TIDM_FLAVOR_MARIADB) {
		rc = tidm_conn_query(s->c, &res, "SHOW STATUS LIKE 'binlog_snapshot_%'");
		while (rc == 0 && tidm_res_next(res) == 1) {
			const char *n = tidm_res_get(res, 0), *v = tidm_res_get(res, 1);
			if (!n || !v)
				continue;
			if (!strcasecmp(n, "binlog_snapshot_file"))
				snprintf(at->file, sizeof(at->file), "%s", v);
			else if (!strcasecmp(n, "binlog_snapshot_position"))
				at->pos = strtoull(v, NULL, 10);
		}
		tidm_res_free(res);
	} else {
		tidm_replica_status st;
		if ((rc = tidm_replica_status_read(s->c, &st)) == 0) {
			snprintf(at->file, sizeof(at->file), "%s", st.file);
			at->pos = st.pos;
		}
		tidm_replica_status_dispose(&st);
	}
	if (rc < 0)
		tidm_conn_rollback(s->c);
	return rc;
}

void vread_end(vrun *r, vside *s)
{
	if (r->online && s->source)
		tidm_conn_commit(s->c);
}

/* The lowest worker checkpoint of the job (file[0] == 0: none). */
static int read_applied(vrun *r, tidm_conn *tgt, vpos *out)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	tidm_buf_puts(&q, "SELECT `file`, `pos` FROM `" TIDM_META_DB "`.`sync_workers` WHERE `job` = ");
	tidm_quote_string(&q, r->cfg->name, strlen(r->cfg->name));
	if ((rc = tidm_conn_query(tgt, &res, q.data)) == 0) {
		bool first = true;
		while (tidm_res_next(res) == 1) {
			vpos p;
			snprintf(p.file, sizeof(p.file), "%s", tidm_res_get(res, 0));
			p.pos = strtoull(tidm_res_get(res, 1), NULL, 10);
			if (!p.file[0]) { /* a worker without a checkpoint: nothing is proven */
				memset(out, 0, sizeof(*out));
				break;
			}
			if (first || vpos_cmp(&p, out) < 0)
				*out = p;
			first = false;
		}
	}
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

int vwait_applied(vrun *r, tidm_conn *tgt, const vpos *at, double timeout_s, bool *passed)
{
	double until = vnow() + timeout_s;
	int rc;

	*passed = true;
	if (!r->online)
		return 0;
	*passed = false;
	if (!at->file[0])
		return 0;
	for (;;) {
		vpos cur;
		bool fresh, stalled;
		pthread_mutex_lock(&r->mu);
		cur = r->applied;
		fresh = vnow() - r->applied_at < 0.1;
		stalled = r->stalled;
		pthread_mutex_unlock(&r->mu);
		if (cur.file[0] && vpos_cmp(&cur, at) >= 0) {
			*passed = true;
			return 0;
		}
		if (!fresh) {
			if ((rc = read_applied(r, tgt, &cur)) < 0)
				return rc;
			pthread_mutex_lock(&r->mu);
			r->applied = cur;
			r->applied_at = vnow();
			pthread_mutex_unlock(&r->mu);
			if (cur.file[0] && vpos_cmp(&cur, at) >= 0) {
				*passed = true;
				return 0;
			}
		}
		if (vnow() >= until || vcancelled(r) || stalled) {
			pthread_mutex_lock(&r->mu);
			if (!r->stalled && !vcancelled(r)) {
				r->stalled = true;
				tidm_warn("verify: the job's applier did not pass the source's position %s:%llu within %.0f s "
					  "(it is at %s:%llu); is the job still running? Rows that differ are reported as "
					  "unsettled",
					  at->file, (unsigned long long)at->pos, timeout_s, cur.file[0] ? cur.file : "-",
					  (unsigned long long)cur.pos);
			}
			pthread_mutex_unlock(&r->mu);
			return 0;
		}
		nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
	}
}

/* ---- keyed candidates ----------------------------------------------------------------- */

typedef struct seen {
	bool has;
	uint32_t h;
} seen;

/* Look the candidates up on one side: out[i] for cand i. */
static int lookup(vrun *r, vside *s, const vtable *t, vcand *c, const size_t *idx, size_t n, seen *out)
{
	tidm_buf keys = TIDM_BUF_INIT, q = TIDM_BUF_INIT;
	vrow *rows = NULL;
	size_t nrows = 0, i, j;
	int rc;

	for (i = 0; i < n; i++) {
		tidm_buf_puts(&keys, c[idx[i]].key);
		tidm_buf_putc(&keys, '\0');
		out[i].has = false;
	}
	vrender_lookup_sql(&q, t, &s->d, keys.data, n);
	rc = vrows_read(r, s, q.data, t, &rows, &nrows);
	for (j = 0; rc == 0 && j < nrows; j++)
		for (i = 0; i < n; i++)
			if (!strcmp(rows[j].key, c[idx[i]].key)) {
				out[i].has = true;
				out[i].h = rows[j].h;
			}
	for (j = 0; j < nrows; j++)
		free(rows[j].key);
	free(rows);
	tidm_buf_dispose(&keys);
	tidm_buf_dispose(&q);
	return rc;
}

static void round_pause(vrun *r, unsigned round)
{
	double s = 0.2 * round;
	if (!r->online)
		return;
	while (s > 0 && !vcancelled(r)) {
		nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
		s -= 0.1;
	}
}

/* One round over a batch of open candidates. */
static int confirm_batch(vrun *r, vside *src, vside *tgt, const vtable *t, vcand *c, const size_t *idx, size_t n)
{
	seen *a = calloc(n + 1, sizeof(seen)), *b = calloc(n + 1, sizeof(seen)), *a2 = calloc(n + 1, sizeof(seen));
	vpos at;
	bool passed = true;
	size_t i;
	int rc;

	if (!a || !b || !a2)
		abort();
	vthrottle(r, n);
	if ((rc = vread_begin(r, src, &at)) < 0)
		goto out;
	rc = lookup(r, src, t, c, idx, n, a);
	vread_end(r, src);
	if (rc < 0 || (rc = vwait_applied(r, tgt->c, &at, WAIT_S, &passed)) < 0 ||
	    (rc = lookup(r, tgt, t, c, idx, n, b)) < 0)
		goto out;
	if (r->online && (rc = lookup(r, src, t, c, idx, n, a2)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		vcand *k = &c[idx[i]];
		bool same = a[i].has == b[i].has && (!a[i].has || a[i].h == b[i].h);
		bool stable = !r->online || (a[i].has == a2[i].has && (!a[i].has || a[i].h == a2[i].h));
		if (same) {
			k->settled_equal = true;
			continue;
		}
		if (!passed || !stable)
			continue; /* inconclusive */
		k->differ_rounds++;
		k->src_has = a[i].has;
		k->src_h = a[i].h;
		k->tgt_has = b[i].has;
		k->tgt_h = b[i].h;
	}
out:
	free(a);
	free(b);
	free(a2);
	return rc;
}

int vconfirm_keyed(vrun *r, vside *src, vside *tgt, const vtable *t, vcand *c, size_t n,
		   tidm_verify_table_report *rep)
{
	unsigned need = r->online ? CONFIRM : 1, rounds = r->online ? MAX_ROUNDS : 1, round;
	size_t *idx = calloc(n + 1, sizeof(size_t)), i, m;
	int rc = 0;

	if (!idx)
		abort();
	/* the same key may come from two halves (collation order): once is enough */
	for (i = 0; i < n; i++)
		for (m = 0; m < i; m++)
			if (!c[i].settled_equal && !strcmp(c[i].key, c[m].key))
				c[i].settled_equal = true;
	for (round = 0; round < rounds && rc == 0; round++) {
		size_t open = 0;
		for (i = 0; i < n; i++)
			if (!c[i].settled_equal && c[i].differ_rounds < need)
				idx[open++] = i;
		if (!open)
			break;
		if (round)
			round_pause(r, round);
		for (i = 0; i < open && rc == 0; i += LOOKUP_BATCH)
			rc = confirm_batch(r, src, tgt, t, c, idx + i, open - i > LOOKUP_BATCH ? LOOKUP_BATCH : open - i);
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (c[i].settled_equal) {
			rep->rechecked_rows++;
			continue;
		}
		if (c[i].differ_rounds >= need)
			rc = vrepair_keyed(r, src, tgt, t, &c[i], rep);
		else
			rep->unsettled_rows++;
	}
	free(idx);
	return rc;
}

/* ---- keyless: multisets of row digests ------------------------------------------------ */

typedef struct hcount {
	uint32_t h;
	int64_t n;
} hcount;

static int hc_cmp(const void *a, const void *b)
{
	uint32_t x = ((const hcount *)a)->h, y = ((const hcount *)b)->h;
	return x < y ? -1 : x > y;
}

static int multiset(vrun *r, vside *s, const vtable *t, const uint32_t *hashes, size_t nh, hcount **out, size_t *n)
{
	tidm_buf q = TIDM_BUF_INIT;
	const char *const *vals;
	const unsigned long *lens;
	size_t cap = 0;
	int got, rc;

	(void)r;
	*out = NULL;
	*n = 0;
	vrender_multiset_sql(&q, t, &s->d, hashes, nh);
	if ((rc = tidm_conn_stream_begin(s->c, q.data)) < 0)
		goto out;
	while ((got = tidm_conn_stream_next(s->c, &vals, &lens)) == 1) {
		if (*n == cap) {
			hcount *grown;
			cap = cap ? cap * 2 : 1024;
			grown = realloc(*out, cap * sizeof(**out));
			if (!grown)
				abort();
			*out = grown;
		}
		(*out)[*n].h = vals[0] ? (uint32_t)strtoul(vals[0], NULL, 10) : 0;
		(*out)[*n].n = vals[1] ? strtoll(vals[1], NULL, 10) : 0;
		(*n)++;
	}
	tidm_conn_stream_end(s->c);
	rc = got < 0 ? got : 0;
	if (*n)
		qsort(*out, *n, sizeof(**out), hc_cmp);
out:
	tidm_buf_dispose(&q);
	return rc;
}

static int64_t count_of(const hcount *v, size_t n, uint32_t h)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].h == h ? v[lo].n : 0;
}

typedef struct hcand {
	uint32_t h;
	int64_t delta; /* source count - target count, of the last conclusive round */
	unsigned differ_rounds;
	bool equal;
} hcand;

int vcompare_keyless(vrun *r, vside *src, vside *tgt, const vtable *t, tidm_verify_table_report *rep)
{
	unsigned need = r->online ? CONFIRM : 1, rounds = r->online ? MAX_ROUNDS : 1, round;
	hcand *cand = NULL;
	size_t ncand = 0, i;
	uint32_t *hs = NULL;
	int rc = 0;

	for (round = 0; round < rounds && rc == 0; round++) {
		hcount *a = NULL, *b = NULL, *a2 = NULL;
		size_t na = 0, nb = 0, na2 = 0, nh = 0;
		vpos at;
		bool passed = true;

		if (round) {
			for (i = 0; i < ncand; i++)
				if (!cand[i].equal && cand[i].differ_rounds < need)
					hs[nh++] = cand[i].h;
			if (!nh)
				break;
			round_pause(r, round);
		}
		vthrottle(r, rep->rows_source ? rep->rows_source : 1);
		if ((rc = vread_begin(r, src, &at)) < 0)
			break;
		rc = multiset(r, src, t, hs, nh, &a, &na);
		vread_end(r, src);
		if (rc == 0)
			rc = vwait_applied(r, tgt->c, &at, WAIT_S, &passed);
		if (rc == 0)
			rc = multiset(r, tgt, t, hs, nh, &b, &nb);
		if (rc == 0 && round == 0) {
			/* the candidates: digests whose counts differ */
			size_t x = 0, y = 0;
			while (x < na || y < nb) {
				uint32_t h;
				int64_t d;
				if (y == nb || (x < na && a[x].h < b[y].h)) {
					h = a[x].h;
					d = a[x++].n;
				} else if (x == na || b[y].h < a[x].h) {
					h = b[y].h;
					d = -b[y++].n;
				} else {
					h = a[x].h;
					d = a[x++].n - b[y++].n;
				}
				if (!d)
					continue;
				cand = realloc(cand, (ncand + 1) * sizeof(*cand));
				if (!cand)
					abort();
				memset(&cand[ncand], 0, sizeof(*cand));
				cand[ncand++].h = h;
			}
			hs = calloc(ncand + 1, sizeof(*hs));
			if (!hs)
				abort();
			for (i = 0; i < ncand; i++)
				hs[i] = cand[i].h;
			nh = ncand;
			if (r->online && nh) {
				/* round 0 read everything; its stability check reads only the candidates */
				free(a);
				a = NULL;
				na = 0;
				rc = vread_begin(r, src, &at);
				if (rc == 0) {
					rc = multiset(r, src, t, hs, nh, &a, &na);
					vread_end(r, src);
				}
				if (rc == 0)
					rc = vwait_applied(r, tgt->c, &at, WAIT_S, &passed);
				free(b);
				b = NULL;
				nb = 0;
				if (rc == 0)
					rc = multiset(r, tgt, t, hs, nh, &b, &nb);
			}
		}
		if (rc == 0 && r->online && nh)
			rc = multiset(r, src, t, hs, nh, &a2, &na2);
		for (i = 0; rc == 0 && i < ncand; i++) {
			hcand *k = &cand[i];
			int64_t sa, tb;
			if (k->equal || k->differ_rounds >= need)
				continue;
			sa = count_of(a, na, k->h);
			tb = count_of(b, nb, k->h);
			if (sa == tb) {
				k->equal = true;
				continue;
			}
			if (!passed || (r->online && count_of(a2, na2, k->h) != sa))
				continue;
			k->differ_rounds++;
			k->delta = sa - tb;
		}
		free(a);
		free(b);
		free(a2);
	}
	for (i = 0; rc == 0 && i < ncand; i++) {
		if (cand[i].equal) {
			rep->rechecked_rows++;
			continue;
		}
		if (cand[i].differ_rounds >= need)
			rc = vrepair_keyless(r, src, tgt, t, cand[i].h, cand[i].delta, rep);
		else
			rep->unsettled_rows++;
	}
	free(cand);
	free(hs);
	return rc;
}
