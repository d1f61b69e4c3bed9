/*
 * engine.c - tidm_verify_run: discovery, chunk plans, the parallel compare, the report.
 *
 * DESIGN
 *  Discover the selected base tables of the source (the job's objects, then --tables),
 *  with their columns (families: render.c) and the key chunks are cut along: the primary
 *  key, else the first unique key of NOT NULL columns without prefix; none = keyless.
 *  Plan: one integer key is cut by arithmetic between MIN and MAX (no scan); any other key
 *  is walked `chunk_rows` apart (LIMIT 1 OFFSET n-1), as the copy does (dump/plan.c; verify
 *  sits at the same level and has its own). A keyless table is one chunk.
 *  Compare: `threads` source workers and as many target workers, each with its own
 *  connection. A source worker takes the next chunk, waits for the rows-per-second budget,
 *  computes the chunk's digest (online: in a consistent snapshot whose binlog position it
 *  records) and hands the chunk to the target workers, which compute the target's digest
 *  (online: once the job's applier has passed that position, online.c). Both servers thus
 *  work at once and only three numbers per chunk and side cross the network.
 *  Then the workers, a table at a time each (on their own connections, so that online the
 *  waits for the applier overlap), narrow each differing chunk to candidate keys
 *  (narrow.c), confirm them by key lookups on both sides (online.c) and record every
 *  difference with its repair SQL (repair.c, kept per table and written in table order); a differing keyless table is compared as a
 *  multiset of row digests (online.c). Results go to tidm_meta.verify_tables (store.c) as
 *  each table ends; progress is written every 2 s while chunks run.
 *  Errors of one table (missing on the target, a column it lacks) are that table's result;
 *  a lost connection or a refused login ends the run.
 */
#include "verify/verify_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/meta.h"
#include "db/probe.h"
#include "db/quote.h"
#include "util/err.h"
#include "util/log.h"

#define DEFAULT_CHUNK_ROWS 50000

char *vstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	return d;
}

double vnow(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool vcancelled(vrun *r)
{
	return r->o->cancel && *r->o->cancel;
}

static bool cancelled(void *payload)
{
	return vcancelled(payload);
}

/* The source budget: the shared export throttle of db/probe.h (its caps, its adaptive
 * mode); none when neither verify nor spec.export sets one. */
void vthrottle(vrun *r, uint64_t rows)
{
	if (r->thr)
		tidm_throttle_take(tidm_probe_throttle(r->thr), rows, 0, cancelled, r);
}

void vtable_dispose(vtable *t)
{
	size_t i;
	for (i = 0; i < t->ncols; i++)
		free(t->cols[i].name);
	free(t->cols);
	free(t->db);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

const char *tidm_verify_state_name(enum tidm_verify_state s)
{
	switch (s) {
	case TIDM_VERIFY_PENDING: return "pending";
	case TIDM_VERIFY_RUNNING: return "running";
	case TIDM_VERIFY_EQUAL: return "equal";
	case TIDM_VERIFY_DIFFERENT: return "different";
	case TIDM_VERIFY_UNSETTLED: return "unsettled";
	case TIDM_VERIFY_ERROR: return "error";
	default: return "unknown";
	}
}

void tidm_verify_report_free(tidm_verify_report *r)
{
	size_t i, j;
	if (!r)
		return;
	for (i = 0; i < r->ntables; i++) {
		tidm_verify_table_report *t = &r->tables[i];
		for (j = 0; j < t->ndiffs; j++) {
			free(t->diffs[j].key);
			free(t->diffs[j].columns);
		}
		free(t->diffs);
		free(t->db);
		free(t->table);
		free(t->error);
	}
	free(r->tables);
	free(r);
}

bool tidm_verify_report_equal(const tidm_verify_report *r)
{
	size_t i;
	for (i = 0; i < r->ntables; i++)
		if (r->tables[i].state != TIDM_VERIFY_EQUAL)
			return false;
	return true;
}

/* ---- discovery ---------------------------------------------------------------------- */

static enum vfam family_of(const char *type)
{
	static const char *const str[] = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", NULL};
	static const char *const bin[] = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", NULL};
	size_t i;

	for (i = 0; str[i]; i++)
		if (!strcmp(type, str[i]))
			return VF_STRING;
	for (i = 0; bin[i]; i++)
		if (!strcmp(type, bin[i]))
			return VF_BINARY;
	if (!strcmp(type, "float"))
		return VF_FLOAT;
	if (!strcmp(type, "double") || !strcmp(type, "real"))
		return VF_DOUBLE;
	if (!strcmp(type, "bit"))
		return VF_BIT;
	if (!strcmp(type, "json"))
		return VF_JSON;
	/* integers, decimal, temporal types: printed exactly; geometry and others: bytes */
	if (strstr(type, "int") || !strcmp(type, "decimal") || !strcmp(type, "date") || !strcmp(type, "datetime") ||
	    !strcmp(type, "timestamp") || !strcmp(type, "time") || !strcmp(type, "year"))
		return VF_EXACT;
	return VF_BINARY;
}

static void put_str(tidm_buf *b, const char *s)
{
	tidm_quote_string(b, s, strlen(s));
}

static int describe(tidm_conn *src, vtable *t)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	char *best = NULL, *int_cols = NULL;
	bool best_ok = false;
	size_t ntext = 0, nutf8 = 0, k;
	const char *coll1 = NULL;
	bool one_coll = true;
	int rc;

	/* columns, and from the same rows: which are integers (the key's chunking) and whether
	 * the text columns are utf8mb4 in one collation (plain_text[0]) */
	tidm_buf_puts(&q, "SELECT COLUMN_NAME, LOWER(DATA_TYPE), IS_NULLABLE, EXTRA, CHARACTER_SET_NAME, COLLATION_NAME "
			  "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
	put_str(&q, t->db);
	tidm_buf_puts(&q, " AND TABLE_NAME = ");
	put_str(&q, t->name);
	tidm_buf_puts(&q, " ORDER BY ORDINAL_POSITION");
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	t->cols = calloc(tidm_res_rows(res) + 1, sizeof(*t->cols));
	int_cols = calloc(tidm_res_rows(res) + 1, 1);
	if (!t->cols || !int_cols)
		abort();
	while (tidm_res_next(res) == 1) {
		vcol *c = &t->cols[t->ncols];
		const char *extra = tidm_res_get(res, 3), *type = tidm_res_get(res, 1);
		const char *cs = tidm_res_get(res, 4), *coll = tidm_res_get(res, 5);
		static const char *const ints[] = {"tinyint", "smallint", "mediumint", "int", "bigint", NULL};
		for (k = 0; ints[k]; k++)
			if (!strcmp(type, ints[k]))
				int_cols[t->ncols] = 1;
		c->name = vstrdup(tidm_res_get(res, 0));
		c->fam = family_of(type);
		c->nullable = !strcmp(tidm_res_get(res, 2), "YES");
		c->generated = extra && strstr(extra, "GENERATED");
		if (cs) {
			ntext++;
			nutf8 += !strcmp(cs, "utf8mb4");
			if (coll1 && (!coll || strcmp(coll1, coll)))
				one_coll = false;
			if (!coll1)
				coll1 = coll ? coll : "";
		}
		t->ncols++;
	}
	t->plain_text[0] = ntext && ntext == nutf8 && one_coll;
	coll1 = NULL;
	tidm_res_free(res);
	res = NULL;
	if (!t->ncols) {
		rc = tidm_err_set(TIDM_ENOTFOUND, "table `%s`.`%s` has no columns on the source (dropped?)", t->db, t->name);
		goto out;
	}
	tidm_buf_clear(&q);
	/* the unique keys (nullability from the columns above: no join of information_schema
	 * tables, which the server may not filter by table) */
	tidm_buf_puts(&q, "SELECT INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS "
			  "WHERE NON_UNIQUE = 0 AND TABLE_SCHEMA = ");
	put_str(&q, t->db);
	tidm_buf_puts(&q, " AND TABLE_NAME = ");
	put_str(&q, t->name);
	tidm_buf_puts(&q, " ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX");
	if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
		goto out;
	while (tidm_res_next(res) == 1) {
		const char *idx = tidm_res_get(res, 0), *col = tidm_res_get(res, 1);
		bool usable = tidm_res_get(res, 2) == NULL; /* no prefix */

		if (best && strcmp(best, idx) != 0) {
			if (best_ok)
				break;
			t->nkey = 0;
			free(best);
			best = NULL;
		}
		if (!best) {
			best = vstrdup(idx);
			best_ok = true;
		}
		for (k = 0; k < t->ncols && strcmp(t->cols[k].name, col); k++)
			;
		if (!usable || k == t->ncols || t->cols[k].nullable || t->nkey >= 16)
			best_ok = false;
		else
			t->key[t->nkey++] = k;
	}
	if (!best_ok)
		t->nkey = 0;
	/* an integer key: chunks by arithmetic */
	t->key_is_int = t->nkey == 1 && int_cols[t->key[0]];
out:
	free(int_cols);
	free(best);
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

/* plain_text[1]: every text column of the table on the target is utf8mb4 in one collation
 * (JSON on MariaDB counts as text); the source's comes with describe(). */
static int text_plain(tidm_conn *c, vtable *t, bool *out)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc;

	*out = false;
	tidm_buf_puts(&q, "SELECT COUNT(*), COUNT(DISTINCT COLLATION_NAME), SUM(CHARACTER_SET_NAME = 'utf8mb4') "
			  "FROM information_schema.COLUMNS WHERE CHARACTER_SET_NAME IS NOT NULL AND TABLE_SCHEMA = ");
	put_str(&q, t->db);
	tidm_buf_puts(&q, " AND TABLE_NAME = ");
	put_str(&q, t->name);
	if ((rc = tidm_conn_query(c, &res, q.data)) == 0 && tidm_res_next(res) == 1) {
		const char *n = tidm_res_get(res, 0), *dc = tidm_res_get(res, 1), *u = tidm_res_get(res, 2);
		*out = n && dc && u && !strcmp(dc, "1") && !strcmp(n, u);
	}
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

/* Between two flavours, a column that is JSON on either side is compared in the client
 * (render.c): VF_JSON_CLIENT. */
static int json_client(tidm_conn *tgt, vtable *t)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	size_t i;
	int rc;

	tidm_buf_puts(&q, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE LOWER(DATA_TYPE) = 'json' AND "
			  "TABLE_SCHEMA = ");
	put_str(&q, t->db);
	tidm_buf_puts(&q, " AND TABLE_NAME = ");
	put_str(&q, t->name);
	if ((rc = tidm_conn_query(tgt, &res, q.data)) < 0)
		goto out;
	while (tidm_res_next(res) == 1)
		for (i = 0; i < t->ncols; i++)
			if (!strcmp(t->cols[i].name, tidm_res_get(res, 0)))
				t->cols[i].fam = VF_JSON;
	for (i = 0; i < t->ncols; i++)
		if (t->cols[i].fam == VF_JSON) {
			t->cols[i].fam = VF_JSON_CLIENT;
			t->njson_client++;
		}
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

/* "db.t" in the --tables list? (db and table split at the first dot) */
static bool in_list(const tidm_verify_opts *o, const char *db, const char *name, bool *used)
{
	size_t i, dl = strlen(db);
	if (!o->ntables)
		return true;
	for (i = 0; i < o->ntables; i++) {
		const char *s = o->tables[i];
		if (!strncmp(s, db, dl) && s[dl] == '.' && !strcmp(s + dl + 1, name)) {
			used[i] = true;
			return true;
		}
	}
	return false;
}

static int discover(vrun *r, tidm_conn *src, vtable **out, size_t *n)
{
	const tidm_verify_opts *o = r->o;
	tidm_res *res = NULL;
	vtable *ts = NULL;
	size_t nt = 0, i;
	bool *used = calloc(o->ntables + 1, sizeof(bool));
	int rc;

	if (!used)
		abort();
	rc = tidm_conn_query(src, &res,
			     "SELECT TABLE_SCHEMA, TABLE_NAME, IFNULL(TABLE_ROWS, 0) FROM information_schema.TABLES "
			     "WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') "
			     "AND TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys') "
			     "ORDER BY TABLE_SCHEMA, TABLE_NAME");
	if (rc < 0) {
		tidm_err_prefix("cannot list the source's tables: ");
		goto out;
	}
	while (tidm_res_next(res) == 1) {
		const char *db = tidm_res_get(res, 0), *name = tidm_res_get(res, 1);
		vtable *grown;
		if (!tidm_filter_match_table(&r->cfg->objects, db, name) || !in_list(o, db, name, used))
			continue;
		grown = realloc(ts, (nt + 1) * sizeof(*ts));
		if (!grown)
			abort();
		ts = grown;
		memset(&ts[nt], 0, sizeof(ts[nt]));
		ts[nt].db = vstrdup(db);
		ts[nt].name = vstrdup(name);
		ts[nt].est_rows = strtoull(tidm_res_get(res, 2), NULL, 10);
		nt++;
	}
	for (i = 0; i < o->ntables; i++)
		if (!used[i]) {
			rc = tidm_err_set(TIDM_EINVAL,
					  "--tables: %s is not a table of the job %s on the source (expected db.table, one of "
					  "the tables the job's objects select)",
					  o->tables[i], r->cfg->name);
			goto out;
		}
	for (i = 0; i < nt; i++)
		if ((rc = describe(src, &ts[i])) < 0)
			goto out;
out:
	tidm_res_free(res);
	free(used);
	if (rc < 0) {
		for (i = 0; i < nt; i++)
			vtable_dispose(&ts[i]);
		free(ts);
		ts = NULL;
		nt = 0;
	}
	*out = ts;
	*n = nt;
	return rc;
}

/* ---- chunk plans -------------------------------------------------------------------- */

typedef struct vchunk {
	size_t table;
	char *lo, *hi;
	vpos at;             /* online: the source snapshot's position */
	char s[2][32];       /* source COUNT, SUM */
	char t[2][32];       /* target */
	bool src_done, tgt_done;
	int err;             /* a failed digest: the table's error */
} vchunk;

typedef struct vplan {
	vchunk *c;
	size_t n;
} vplan;

static void plan_add(vplan *p, size_t table, const char *lo, const char *hi)
{
	vchunk *grown = realloc(p->c, (p->n + 1) * sizeof(*p->c));
	if (!grown)
		abort();
	p->c = grown;
	memset(&p->c[p->n], 0, sizeof(p->c[p->n]));
	p->c[p->n].table = table;
	p->c[p->n].lo = lo ? vstrdup(lo) : NULL;
	p->c[p->n].hi = hi ? vstrdup(hi) : NULL;
	p->n++;
}

static int plan_table(vrun *r, tidm_conn *src, const vtable *t, size_t ti, uint64_t step, vplan *p)
{
	tidm_buf q = TIDM_BUF_INIT, prev = TIDM_BUF_INIT, cur = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc = 0;

	if (t->nkey == 0) {
		plan_add(p, ti, NULL, NULL);
		return 0;
	}
	if (t->key_is_int) {
		const char *kn = t->cols[t->key[0]].name;
		tidm_buf_puts(&q, "SELECT MIN(");
		tidm_quote_ident(&q, kn);
		tidm_buf_puts(&q, "), MAX(");
		tidm_quote_ident(&q, kn);
		tidm_buf_puts(&q, ") FROM ");
		tidm_quote_qualified(&q, t->db, t->name);
		if ((rc = tidm_conn_query(src, &res, q.data)) < 0)
			goto out;
		if (tidm_res_next(res) == 1 && tidm_res_get(res, 0) && tidm_res_get(res, 1)) {
			const char *a = tidm_res_get(res, 0), *b = tidm_res_get(res, 1);
			__int128 lo = a[0] == '-' ? (__int128)strtoll(a, NULL, 10) : (__int128)strtoull(a, NULL, 10);
			__int128 hi = b[0] == '-' ? (__int128)strtoll(b, NULL, 10) : (__int128)strtoull(b, NULL, 10);
			__int128 width = hi - lo + 1, each;
			uint64_t chunks = t->est_rows / step + 1, i;
			if (chunks >= 2 && width >= (__int128)chunks * 2) {
				each = width / (__int128)chunks;
				for (i = 1; i < chunks; i++) {
					__int128 v = lo + each * (__int128)i - 1;
					tidm_buf_clear(&cur);
					if (v < 0)
						tidm_buf_printf(&cur, "%lld", (long long)v);
					else
						tidm_buf_printf(&cur, "%llu", (unsigned long long)v);
					plan_add(p, ti, prev.len ? prev.data : NULL, cur.data);
					tidm_buf_clear(&prev);
					tidm_buf_put(&prev, cur.data, cur.len);
				}
			}
		}
		plan_add(p, ti, prev.len ? prev.data : NULL, NULL);
		goto out;
	}
	for (;;) {
		if (vcancelled(r)) {
			rc = TIDM_ECANCELED;
			goto out;
		}
		tidm_buf_clear(&q);
		vrender_mid_sql(&q, t, prev.len ? prev.data : NULL, NULL, step - 1);
		tidm_buf_clear(&cur);
		if ((rc = tidm_conn_first_row_literals(src, q.data, &cur)) < 0)
			goto out;
		rc = 0;
		if (!cur.len)
			break;
		plan_add(p, ti, prev.len ? prev.data : NULL, cur.data);
		tidm_buf_clear(&prev);
		tidm_buf_put(&prev, cur.data, cur.len);
	}
	plan_add(p, ti, prev.len ? prev.data : NULL, NULL);
out:
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&prev);
	tidm_buf_dispose(&cur);
	return rc;
}

/* ---- the parallel compare ----------------------------------------------------------- */

typedef struct vpipe {
	vrun *r;
	vtable *tables;
	vplan *plan;
	_Atomic size_t next_src;
	/* chunks whose source digest is done, for the target workers; guarded by r->mu */
	pthread_cond_t ready;
	size_t *queue;
	size_t qhead, qtail;
	unsigned src_left; /* source workers still running */
	_Atomic int fatal; /* a connection failed: stop */
	int fatal_code;
	char fatal_msg[1024];
	_Atomic uint64_t *table_chunks_done;
} vpipe;

typedef struct vworker {
	vpipe *p;
	vside side;
	pthread_t th;
} vworker;

static void set_fatal(vpipe *p)
{
	pthread_mutex_lock(&p->r->mu);
	if (!atomic_load(&p->fatal)) {
		p->fatal_code = tidm_err_code() ? tidm_err_code() : TIDM_ERROR;
		snprintf(p->fatal_msg, sizeof(p->fatal_msg), "%s", tidm_err_msg());
		atomic_store(&p->fatal, 1);
	}
	pthread_cond_broadcast(&p->ready);
	pthread_mutex_unlock(&p->r->mu);
}

/* Connection-level failures end the run; statement errors are the table's. */
static bool fatal_error(int rc)
{
	return rc == TIDM_ECONN || rc == TIDM_EAUTH || rc == TIDM_ECANCELED;
}

static int digest(vside *s, const vtable *t, const char *lo, const char *hi, char out[2][32])
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc, i;

	vrender_chunk_sql(&q, t, &s->d, lo, hi);
	rc = tidm_conn_query(s->c, &res, q.data);
	if (rc == 0 && tidm_res_next(res) == 1)
		for (i = 0; i < 2; i++)
			snprintf(out[i], 32, "%s", tidm_res_get(res, (unsigned)i) ? tidm_res_get(res, (unsigned)i) : "0");
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

/* A statement error of one chunk: its table's error (the message is read again after the
 * compare, chunk_error_text: the worker's thread error is gone by then). */
static void chunk_error(vchunk *c, int rc)
{
	c->err = rc;
}

static void *src_worker(void *arg)
{
	vworker *w = arg;
	vpipe *p = w->p;
	vrun *r = p->r;
	uint64_t step = r->chunk_rows;

	for (;;) {
		size_t i = atomic_fetch_add(&p->next_src, 1);
		vchunk *c;
		int rc;

		if (i >= p->plan->n || atomic_load(&p->fatal) || vcancelled(r))
			break;
		c = &p->plan->c[i];
		/* a keyless table is one chunk: all its rows */
		vthrottle(r, p->tables[c->table].nkey ? step : p->tables[c->table].est_rows + 1);
		if ((rc = vread_begin(r, &w->side, &c->at)) == 0) {
			rc = digest(&w->side, &p->tables[c->table], c->lo, c->hi, c->s);
			vread_end(r, &w->side);
		}
		if (rc < 0) {
			if (fatal_error(rc) || tidm_err_dberr() == 0) {
				set_fatal(p);
				break;
			}
			chunk_error(c, rc);
		}
		c->src_done = true;
		pthread_mutex_lock(&r->mu);
		p->queue[p->qtail++] = i;
		pthread_cond_broadcast(&p->ready);
		pthread_mutex_unlock(&r->mu);
	}
	pthread_mutex_lock(&r->mu);
	p->src_left--;
	pthread_cond_broadcast(&p->ready);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static void *tgt_worker(void *arg)
{
	vworker *w = arg;
	vpipe *p = w->p;
	vrun *r = p->r;

	for (;;) {
		size_t i;
		vchunk *c;
		int rc = 0;
		bool passed;

		pthread_mutex_lock(&r->mu);
		while (p->qhead == p->qtail && p->src_left && !atomic_load(&p->fatal))
			pthread_cond_wait(&p->ready, &r->mu);
		if (p->qhead == p->qtail || atomic_load(&p->fatal)) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		i = p->queue[p->qhead++];
		pthread_mutex_unlock(&r->mu);
		c = &p->plan->c[i];
		if (!c->err) {
			if (r->online)
				rc = vwait_applied(r, w->side.c, &c->at, 10.0, &passed);
			if (rc == 0)
				rc = digest(&w->side, &p->tables[c->table], c->lo, c->hi, c->t);
			if (rc < 0) {
				if (fatal_error(rc) || tidm_err_dberr() == 0) {
					set_fatal(p);
					break;
				}
				chunk_error(c, rc);
			}
		}
		c->tgt_done = true;
		atomic_fetch_add(&p->table_chunks_done[c->table], 1);
		if (r->o->progress) {
			atomic_fetch_add(&r->o->progress->chunks_done, 1);
			atomic_fetch_add(&r->o->progress->rows_done, strtoull(c->s[0], NULL, 10));
		}
	}
	return NULL;
}

static int open_side(vrun *r, vside *s, bool source, enum tidm_flavor peer)
{
	int rc = tidm_conn_open(&s->c, source ? &r->sopts : &r->topts);
	if (rc < 0)
		return rc;
	s->source = source;
	s->d.self = tidm_conn_info(s->c)->flavor;
	s->d.peer = peer;
	s->d.target = !source;
	return 0;
}

static void table_error(tidm_verify_table_report *rep, const char *msg)
{
	rep->state = TIDM_VERIFY_ERROR;
	if (!rep->error)
		rep->error = vstrdup(msg);
}

/* After the chunks: narrow what differs, confirm, report one table. */
static int finish_table(vrun *r, vside *src, vside *tgt, vtable *t, vplan *plan, size_t ti,
			tidm_verify_table_report *rep)
{
	vcand *cands = NULL;
	size_t ncands = 0, i;
	int rc = 0;
	bool keyless_diff = false;
	uint64_t rows = 0;

	for (i = 0; i < plan->n; i++) {
		vchunk *c = &plan->c[i];
		if (c->table != ti)
			continue;
		rep->chunks++;
		rows += strtoull(c->s[0], NULL, 10);
		if (c->err) {
			table_error(rep, "a chunk's digest failed");
			continue;
		}
		if (!strcmp(c->s[0], c->t[0]) && !strcmp(c->s[1], c->t[1]) && !(t->njson_client && t->nkey))
			continue;
		if (t->nkey == 0) {
			keyless_diff = true;
			continue;
		}
		rc = vnarrow(r, src, tgt, t, c->lo, c->hi, strtoull(c->s[0], NULL, 10), strtoull(c->t[0], NULL, 10),
			     &cands, &ncands);
		if (rc < 0)
			goto out;
	}
	rep->rows_source = rows;
	if (rep->state == TIDM_VERIFY_ERROR)
		goto out;
	if (keyless_diff)
		rc = vcompare_keyless(r, src, tgt, t, rep);
	else if (ncands)
		rc = vconfirm_keyed(r, src, tgt, t, cands, ncands, rep);
	if (rc < 0)
		goto out;
	if (rep->differing_rows)
		rep->state = TIDM_VERIFY_DIFFERENT;
	else if (rep->unsettled_rows)
		rep->state = TIDM_VERIFY_UNSETTLED;
	else
		rep->state = TIDM_VERIFY_EQUAL;
out:
	for (i = 0; i < ncands; i++)
		free(cands[i].key);
	free(cands);
	if (rc < 0 && !fatal_error(rc)) {
		table_error(rep, tidm_err_msg());
		tidm_err_clear();
		rc = 0;
	}
	return rc;
}

/* The first chunk error's message of a table (re-run the digest to get it again). */
static void chunk_error_text(vrun *r, vside *src, vside *tgt, vtable *t, vchunk *c, tidm_verify_table_report *rep)
{
	char tmp[2][32];
	(void)r;
	if (digest(src, t, c->lo, c->hi, tmp) < 0) {
		tidm_err_prefix("on the source: ");
		table_error(rep, tidm_err_msg());
	} else if (digest(tgt, t, c->lo, c->hi, tmp) < 0) {
		tidm_err_prefix("on the target: ");
		table_error(rep, tidm_err_msg());
	}
	tidm_err_clear();
}

/* The tables' finishing (narrow, confirm, report) on worker threads. */
typedef struct vfinish {
	vrun *r;
	vtable *tables;
	vplan *plan;
	tidm_verify_report *rep;
	size_t ntables;
	_Atomic size_t next;
	/* guarded by r->mu */
	bool fatal;
	int fatal_code;
	char fatal_msg[1024];
} vfinish;

typedef struct vfworker {
	vfinish *f;
	vside *src, *tgt;
	pthread_t th;
} vfworker;

static void *finish_main(void *arg)
{
	vfworker *w = arg;
	vfinish *f = w->f;

	for (;;) {
		size_t i = atomic_fetch_add(&f->next, 1), j;
		tidm_verify_table_report *tr;
		int rc;

		if (i >= f->ntables || vcancelled(f->r))
			break;
		tr = &f->rep->tables[i];
		for (j = 0; j < f->plan->n; j++)
			if (f->plan->c[j].table == i && f->plan->c[j].err) {
				chunk_error_text(f->r, w->src, w->tgt, &f->tables[i], &f->plan->c[j], tr);
				break;
			}
		if ((rc = finish_table(f->r, w->src, w->tgt, &f->tables[i], f->plan, i, tr)) < 0) {
			pthread_mutex_lock(&f->r->mu);
			if (!f->fatal) {
				f->fatal = true;
				f->fatal_code = tidm_err_code() ? tidm_err_code() : rc;
				snprintf(f->fatal_msg, sizeof(f->fatal_msg), "%s", tidm_err_msg());
			}
			pthread_mutex_unlock(&f->r->mu);
			atomic_store(&f->next, f->ntables); /* the others stop after their table */
			break;
		}
	}
	return NULL;
}

static void repair_header(vrun *r)
{
	if (!r->repair)
		return;
	fprintf(r->repair, "-- tidm verify: statements that make the target of job %s equal to its source.\n"
			   "-- Review, then run them on the target.\n"
			   "SET NAMES utf8mb4;\nSET time_zone = '+00:00';\nSET foreign_key_checks = 0;\n",
		r->cfg->name);
}

int tidm_verify_run(tidm_verify_report **out, const tidm_verify_opts *o)
{
	vrun r;
	vpipe p;
	vplan plan = {0};
	vtable *tables = NULL;
	size_t ntables = 0, i;
	vside csrc = {0}, ctgt = {0};
	vworker *sw = NULL, *tw = NULL;
	vfworker *fw = NULL;
	vfinish fin;
	vrepair_out *reps = NULL;
	unsigned nth = o->threads ? o->threads : (o->cfg->dump_threads ? o->cfg->dump_threads : 4), k;
	unsigned started_s = 0, started_t = 0;
	tidm_verify_report *rep = calloc(1, sizeof(*rep));
	double t0 = vnow(), last_store;
	int rc;

	if (!rep)
		abort();
	*out = NULL;
	memset(&r, 0, sizeof(r));
	memset(&p, 0, sizeof(p));
	memset(&fin, 0, sizeof(fin));
	r.o = o;
	r.cfg = o->cfg;
	r.repair = o->repair;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&p.ready, NULL);
	r.chunk_rows = o->chunk_rows ? o->chunk_rows : o->cfg->verify_chunk_rows ? o->cfg->verify_chunk_rows : DEFAULT_CHUNK_ROWS;
	if (r.chunk_rows > TIDM_VERIFY_CHUNK_ROWS_MAX)
		r.chunk_rows = TIDM_VERIFY_CHUNK_ROWS_MAX;
	r.leaf_rows = r.chunk_rows / 8 > 64 ? r.chunk_rows / 8 : 64;
	tidm_endpoint_conn_opts(&r.sopts, &o->cfg->source, TIDM_ROLE_SOURCE);
	tidm_endpoint_conn_opts(&r.topts, &o->cfg->target, TIDM_ROLE_TARGET);

	if ((rc = tidm_conn_open(&ctgt.c, &r.topts)) < 0 || (rc = open_side(&r, &csrc, true, tidm_conn_info(ctgt.c)->flavor)) < 0)
		goto out;
	ctgt.d.self = tidm_conn_info(ctgt.c)->flavor;
	ctgt.d.peer = csrc.d.self;
	ctgt.d.target = true;
	if ((rc = vonline_detect(&r, ctgt.c)) < 0)
		goto out;
	rep->online = r.online;
	if (o->store && (rc = vstore_ensure(ctgt.c)) < 0)
		goto out;
	if ((rc = discover(&r, csrc.c, &tables, &ntables)) < 0)
		goto out;
	rep->tables = calloc(ntables + 1, sizeof(*rep->tables));
	reps = calloc(ntables + 1, sizeof(*reps));
	if (!rep->tables || !reps)
		abort();
	rep->ntables = ntables;
	for (i = 0; i < ntables; i++) {
		rep->tables[i].db = vstrdup(tables[i].db);
		rep->tables[i].table = vstrdup(tables[i].name);
		rep->tables[i].keyless = tables[i].nkey == 0;
		rep->tables[i].state = TIDM_VERIFY_RUNNING;
		tables[i].rep = &reps[i];
		if ((rc = text_plain(ctgt.c, &tables[i], &tables[i].plain_text[1])) < 0 ||
		    (csrc.d.self != ctgt.d.self && (rc = json_client(ctgt.c, &tables[i])) < 0))
			goto out;
		if ((rc = plan_table(&r, csrc.c, &tables[i], i, r.chunk_rows, &plan)) < 0)
			goto out;
	}
	if (o->progress) {
		atomic_store(&o->progress->tables_total, ntables);
		atomic_store(&o->progress->chunks_total, plan.n);
	}
	p.table_chunks_done = calloc(ntables + 1, sizeof(*p.table_chunks_done));
	p.queue = calloc(plan.n + 1, sizeof(size_t));
	if (!p.table_chunks_done || !p.queue)
		abort();
	if (o->store && !o->ntables && (rc = vstore_reset(&r, ctgt.c)) < 0)
		goto out;
	if (o->store)
		for (i = 0; i < ntables; i++) {
			uint64_t tot = 0;
			size_t j;
			for (j = 0; j < plan.n; j++)
				tot += plan.c[j].table == i;
			if ((rc = vstore_put(&r, ctgt.c, &rep->tables[i], TIDM_VERIFY_RUNNING, tot, 0, 0)) < 0)
				goto out;
		}
	repair_header(&r);

	/* the parallel digests */
	{
		/* the source budget: verify's own cap, spec.export's if lower, its adaptive mode */
		tidm_probe_opts po = {0};
		uint64_t cap = o->rows_per_second, ecap = o->cfg->export_max_rows;
		po.max_rows = (double)(cap && (!ecap || cap < ecap) ? cap : ecap);
		po.adaptive = o->cfg->export_adaptive;
		po.readers = nth;
		po.what = "verify";
		tidm_probe_start(&r.thr, &r.sopts, &po, NULL);
	}
	p.r = &r;
	p.tables = tables;
	p.plan = &plan;
	sw = calloc(nth, sizeof(*sw));
	tw = calloc(nth, sizeof(*tw));
	fw = calloc(nth, sizeof(*fw));
	if (!sw || !tw || !fw)
		abort();
	for (k = 0; k < nth; k++) {
		sw[k].p = &p;
		tw[k].p = &p;
		if ((rc = open_side(&r, &sw[k].side, true, ctgt.d.self)) < 0 ||
		    (rc = open_side(&r, &tw[k].side, false, csrc.d.self)) < 0)
			goto out;
	}
	p.src_left = nth;
	for (k = 0; k < nth; k++) {
		if (pthread_create(&sw[k].th, NULL, src_worker, &sw[k]) != 0)
			abort();
		started_s++;
		if (pthread_create(&tw[k].th, NULL, tgt_worker, &tw[k]) != 0)
			abort();
		started_t++;
	}
	/* progress while the chunks run */
	last_store = vnow();
	for (;;) {
		bool done;
		pthread_mutex_lock(&r.mu);
		done = (!p.src_left && p.qhead == p.qtail) || atomic_load(&p.fatal);
		if (!done) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&p.ready, &r.mu, &ts);
		}
		pthread_mutex_unlock(&r.mu);
		if (done)
			break;
		if (o->store && vnow() - last_store >= 2.0) {
			for (i = 0; i < ntables; i++) {
				uint64_t tot = 0, d = atomic_load(&p.table_chunks_done[i]);
				size_t j;
				for (j = 0; j < plan.n; j++)
					tot += plan.c[j].table == i;
				vstore_put(&r, ctgt.c, &rep->tables[i], TIDM_VERIFY_RUNNING, tot, d, 0);
			}
			last_store = vnow();
		}
	}
	for (k = 0; k < started_s; k++)
		pthread_join(sw[k].th, NULL);
	started_s = 0;
	for (k = 0; k < started_t; k++)
		pthread_join(tw[k].th, NULL);
	started_t = 0;
	if (atomic_load(&p.fatal)) {
		rc = tidm_err_set(p.fatal_code, "%s", p.fatal_msg);
		goto out;
	}
	if (vcancelled(&r)) {
		rc = tidm_err_set(TIDM_ECANCELED, "verify interrupted");
		goto out;
	}
	/* narrow, confirm and report: tables in parallel on the workers' connections (online,
	 * each waits for the applier), then stored and written out in table order */
	fin.r = &r;
	fin.tables = tables;
	fin.plan = &plan;
	fin.rep = rep;
	fin.ntables = ntables;
	for (k = 0; k < nth; k++) {
		fw[k].f = &fin;
		fw[k].src = &sw[k].side;
		fw[k].tgt = &tw[k].side;
		if (pthread_create(&fw[k].th, NULL, finish_main, &fw[k]) != 0)
			abort();
	}
	for (k = 0; k < nth; k++)
		pthread_join(fw[k].th, NULL);
	if (fin.fatal) {
		rc = tidm_err_set(fin.fatal_code, "%s", fin.fatal_msg);
		goto out;
	}
	if (vcancelled(&r)) {
		rc = tidm_err_set(TIDM_ECANCELED, "verify interrupted");
		goto out;
	}
	for (i = 0; i < ntables; i++) {
		tidm_verify_table_report *tr = &rep->tables[i];
		vrepair_out *ro = &reps[i];
		if (r.repair && (ro->del.len || ro->put.len)) {
			fprintf(r.repair, "-- `%s`.`%s`\n", tables[i].db, tables[i].name);
			if (ro->del.len)
				fwrite(ro->del.data, 1, ro->del.len, r.repair);
			if (ro->put.len)
				fwrite(ro->put.data, 1, ro->put.len, r.repair);
		}
		rep->repair_statements += ro->stmts;
		if (o->progress) {
			atomic_fetch_add(&o->progress->tables_done, 1);
			atomic_fetch_add(&o->progress->differing_rows, tr->differing_rows);
		}
		if (o->store && (rc = vstore_put(&r, ctgt.c, tr, tr->state, tr->chunks, tr->chunks, tr->rows_source)) < 0)
			goto out;
	}
	rep->seconds = vnow() - t0;
	*out = rep;
	rep = NULL;
out:
	if (started_s || started_t) {
		atomic_store(&p.fatal, 1);
		pthread_mutex_lock(&r.mu);
		pthread_cond_broadcast(&p.ready);
		pthread_mutex_unlock(&r.mu);
		for (k = 0; k < started_s; k++)
			pthread_join(sw[k].th, NULL);
		for (k = 0; k < started_t; k++)
			pthread_join(tw[k].th, NULL);
	}
	for (k = 0; sw && k < nth; k++)
		tidm_conn_close(sw[k].side.c);
	for (k = 0; tw && k < nth; k++)
		tidm_conn_close(tw[k].side.c);
	free(sw);
	free(tw);
	free(fw);
	for (i = 0; reps && i < ntables; i++) {
		tidm_buf_dispose(&reps[i].del);
		tidm_buf_dispose(&reps[i].put);
	}
	free(reps);
	for (i = 0; i < plan.n; i++) {
		free(plan.c[i].lo);
		free(plan.c[i].hi);
	}
	free(plan.c);
	free(p.queue);
	free(p.table_chunks_done);
	for (i = 0; i < ntables; i++)
		vtable_dispose(&tables[i]);
	free(tables);
	tidm_conn_close(csrc.c);
	tidm_conn_close(ctgt.c);
	tidm_verify_report_free(rep);
	pthread_cond_destroy(&p.ready);
	tidm_probe_stop(r.thr);
	pthread_mutex_destroy(&r.mu);
	return rc;
}
