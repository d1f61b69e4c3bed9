/*
 * precheck.c - the item table, the run and the report (see precheck.h).
 *
 * DESIGN
 * A run first opens one source and one target connection (their outcome is the two
 * connection items) and reads what nearly every item needs in one round trip each: the
 * global variables and a few status counters of both servers, the source's hosting
 * (db/hosting.h) and whether the job already has a record on the target. Then a small
 * pool of threads takes the items in table order; each thread owns a source and a
 * target connection, opened on first use with the item timeout as their read timeout,
 * so a query that hangs ends as that item's "could not check" warning and the thread
 * opens fresh connections for its next item. Bulk facts (every selected table with its
 * key, size, engine and collation; the binlog file list) are loaded by the first item
 * that asks, under the context's mutex and condition variable, while the other threads
 * go on with items that do not need them. On 20,000 tables the precheck costs a handful
 * of information_schema queries, not 20,000 of anything.
 */
#include "precheck/precheck.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "db/hosting.h"
#include "db/quote.h"
#include "precheck/pc_int.h"
#include "util/err.h"

typedef struct pc_item {
	const char *id;
	const char *title;
	pc_item_fn fn;
} pc_item;

static const pc_item items[] = {
	{"source-connection", "Source connection and authentication", pc_item_source_connection},
	{"target-connection", "Target connection and authentication", pc_item_target_connection},
	{"source-version", "Source version and flavour", pc_item_source_version},
	{"target-version", "Target version and flavour", pc_item_target_version},
	{"source-privileges", "Source user privileges", pc_item_source_privileges},
	{"target-privileges", "Target user privileges", pc_item_target_privileges},
	{"source-connections", "Source max_connections against the job's concurrency", pc_item_source_connections},
	{"target-connections", "Target max_connections against the job's concurrency", pc_item_target_connections},
	{"server-id", "Source server_id", pc_item_server_id},
	{"log-bin", "Source binary log enabled", pc_item_log_bin},
	{"binlog-format", "Source binlog_format is ROW", pc_item_binlog_format},
	{"binlog-row-image", "Source binlog_row_image is FULL", pc_item_binlog_row_image},
	{"binlog-retention", "Source binlog retention", pc_item_binlog_retention},
	{"binlog-runway", "Binlog runway against the full phase's duration", pc_item_binlog_runway},
	{"binlog-db-filter", "Selected databases against binlog_do_db / binlog_ignore_db", pc_item_binlog_db_filter},
	{"gtid-mode", "GTID mode for a GTID start position", pc_item_gtid_mode},
	{"start-position", "Start position still on the source", pc_item_start_position},
	{"target-tables", "Selected tables exist on the target (incremental)", pc_item_target_tables},
	{"physical-empty", "Target tables empty (physical mode)", pc_item_physical_empty},
	{"keyless-tables", "Tables without a primary key or NOT NULL unique key", pc_item_keyless_tables},
	{"keyless-nonempty", "Keyless tables into non-empty target tables", pc_item_keyless_nonempty},
	{"require-primary-key", "Target requires a primary key", pc_item_require_primary_key},
	{"collations", "Character sets and collations on the target", pc_item_collations},
	{"engines", "Storage engines and row formats on the target", pc_item_engines},
	{"generated-columns", "Generated columns", pc_item_generated_columns},
	{"source-objects", "Triggers, events and stored routines on the source", pc_item_source_objects},
	{"target-triggers", "Triggers on the target's selected tables", pc_item_target_triggers},
	{"lower-case-table-names", "lower_case_table_names of source and target", pc_item_lower_case_table_names},
	{"sql-mode", "sql_mode of source and target", pc_item_sql_mode},
	{"time-zone", "Time zone of source and target", pc_item_time_zone},
};
#define N_ITEMS (sizeof(items) / sizeof(items[0]))

size_t tidm_precheck_item_count(void)
{
	return N_ITEMS;
}

const char *tidm_precheck_item_id(size_t i)
{
	return i < N_ITEMS ? items[i].id : NULL;
}

const char *tidm_precheck_item_title(size_t i)
{
	return i < N_ITEMS ? items[i].title : NULL;
}

bool tidm_precheck_item_known(const char *id)
{
	for (size_t i = 0; i < N_ITEMS; i++)
		if (!strcmp(items[i].id, id))
			return true;
	return false;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- results ---------------------------------------------------------------------------- */

static void set_state(pc_result *r, enum tidm_check_state st, const char *fmt, va_list ap)
{
	r->state = st;
	r->set = true;
	tidm_buf_clear(&r->msg);
	tidm_buf_vprintf(&r->msg, fmt, ap);
}

void pc_pass(pc_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_state(r, TIDM_CHECK_PASS, fmt, ap);
	va_end(ap);
}

void pc_warn(pc_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_state(r, TIDM_CHECK_WARNING, fmt, ap);
	va_end(ap);
}

void pc_fail(pc_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_state(r, TIDM_CHECK_FAIL, fmt, ap);
	va_end(ap);
}

void pc_fix(pc_result *r, const char *fmt, ...)
{
	va_list ap;
	if (r->fix.len)
		tidm_buf_putc(&r->fix, ' ');
	va_start(ap, fmt);
	tidm_buf_vprintf(&r->fix, fmt, ap);
	va_end(ap);
}

void pc_cannot(pc_result *r, const char *what)
{
	const char *e = tidm_err_msg();
	pc_warn(r, "could not check %s: %s", what, e && *e ? e : "unknown error");
	tidm_buf_clear(&r->fix);
	pc_fix(r, "Make the check possible (the message says what failed) and run the precheck again, or "
		  "ignore this item if you have checked it yourself.");
	tidm_err_clear();
}

void pc_list_add(tidm_buf *b, size_t *count, size_t max, const char *db, const char *table)
{
	if (*count < max) {
		if (*count)
			tidm_buf_puts(b, ", ");
		if (table)
			tidm_quote_qualified(b, db, table);
		else
			tidm_quote_ident(b, db);
	}
	(*count)++;
}

void pc_list_end(tidm_buf *b, size_t count, size_t max)
{
	if (count > max)
		tidm_buf_printf(b, " and %zu more", count - max);
}

bool pc_replicates(const pc_ctx *c)
{
	return c->cfg->type != TIDM_JOB_FULL;
}

bool pc_copies(const pc_ctx *c)
{
	return c->cfg->type != TIDM_JOB_INCREMENTAL;
}

/* --- variables --------------------------------------------------------------------------- */

typedef struct var_pair {
	char *name, *value;
} var_pair;

static int pair_cmp(const void *a, const void *b)
{
	return strcasecmp(((const var_pair *)a)->name, ((const var_pair *)b)->name);
}

const char *pc_var(const pc_vars *v, const char *name)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int d = strcasecmp(v->names[mid], name);
		if (!d)
			return v->values[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void vars_dispose(pc_vars *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->names[i]);
		free(v->values[i]);
	}
	free(v->names);
	free(v->values);
	memset(v, 0, sizeof(*v));
}

/* Two-column rows (name, value) into a map sorted by name. */
static int vars_load(tidm_conn *conn, const char *sql, pc_vars *v)
{
	tidm_res *res = NULL;
	var_pair *pairs;
	size_t n, i = 0;
	int rc = tidm_conn_query(conn, &res, sql);

	if (rc < 0)
		return rc;
	n = tidm_res_rows(res);
	pairs = calloc(n ? n : 1, sizeof(*pairs));
	v->names = calloc(n ? n : 1, sizeof(char *));
	v->values = calloc(n ? n : 1, sizeof(char *));
	if (!pairs || !v->names || !v->values) {
		free(pairs);
		free(v->names);
		free(v->values);
		v->names = v->values = NULL;
		tidm_res_free(res);
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	}
	while (tidm_res_next(res) == 1 && i < n) {
		const char *a = tidm_res_get(res, 0), *b = tidm_res_cols(res) > 1 ? tidm_res_get(res, 1) : NULL;
		pairs[i].name = strdup(a ? a : "");
		pairs[i].value = strdup(b ? b : "");
		i++;
	}
	tidm_res_free(res);
	qsort(pairs, i, sizeof(*pairs), pair_cmp);
	for (size_t j = 0; j < i; j++) {
		v->names[j] = pairs[j].name;
		v->values[j] = pairs[j].value;
	}
	v->n = i;
	free(pairs);
	return 0;
}

/* --- connections ------------------------------------------------------------------------- */

static tidm_conn *thread_conn(pc_conns *k, bool source)
{
	pc_ctx *c = k->c;
	tidm_conn **slot = source ? &k->src : &k->tgt;
	const tidm_conn_opts *base = source ? &c->sopts : &c->topts;
	tidm_conn_opts o;

	if ((source ? c->src_rc : c->tgt_rc) < 0) {
		tidm_err_set(TIDM_ECONN, "the %s connection failed (see %s-connection)", source ? "source" : "target",
			     source ? "source" : "target");
		return NULL;
	}
	if (*slot)
		return *slot;
	o = *base;
	o.retries = 2;
	o.read_timeout = c->o->timeout_s;
	if (tidm_conn_open(slot, &o) < 0)
		*slot = NULL;
	return *slot;
}

tidm_conn *pc_src(pc_conns *k)
{
	return thread_conn(k, true);
}

tidm_conn *pc_tgt(pc_conns *k)
{
	return thread_conn(k, false);
}

static void conns_close(pc_conns *k)
{
	tidm_conn_close(k->src);
	tidm_conn_close(k->tgt);
	k->src = k->tgt = NULL;
}

/* --- the run ----------------------------------------------------------------------------- */

typedef struct pc_run {
	pc_ctx *c;
	tidm_precheck_report *rep;
	size_t next;
	pthread_mutex_t mu;
} pc_run;

static void run_one(pc_run *run, pc_conns *k, size_t i)
{
	pc_result r;
	tidm_check_result *out = &run->rep->items[i];
	double t0 = now_s();

	memset(&r, 0, sizeof(r));
	tidm_buf_init(&r.msg);
	tidm_buf_init(&r.fix);
	tidm_err_clear();
	items[i].fn(run->c, k, &r);
	if (!r.set)
		pc_warn(&r, "the item gave no answer (a defect of tidm; please report it)");
	out->id = items[i].id;
	out->title = items[i].title;
	out->state = r.state;
	out->message = tidm_buf_detach(&r.msg);
	if (!out->message)
		out->message = strdup("");
	out->fix = r.state != TIDM_CHECK_PASS && r.fix.len ? tidm_buf_detach(&r.fix) : NULL;
	tidm_buf_dispose(&r.fix);
	out->seconds = now_s() - t0;
	/* a query that timed out or lost its connection leaves it unusable */
	if (r.state == TIDM_CHECK_WARNING && !strncmp(out->message, "could not check", 15))
		conns_close(k);
}

/*
 * The order items start in: first one of each that loads a bulk fact (keys, tables,
 * columns, the runway's sample), so that those load side by side on different threads,
 * then the rest in table order.
 */
static const char *const first[] = {"keyless-tables", "source-privileges", "collations", "binlog-runway"};

static size_t nth_item(size_t n)
{
	size_t nf = sizeof(first) / sizeof(first[0]), seen = 0;

	if (n < nf) {
		for (size_t i = 0; i < N_ITEMS; i++)
			if (!strcmp(items[i].id, first[n]))
				return i;
	}
	for (size_t i = 0; i < N_ITEMS; i++) {
		bool early = false;
		for (size_t f = 0; f < nf; f++)
			early = early || !strcmp(items[i].id, first[f]);
		if (early)
			continue;
		if (seen++ == n - nf)
			return i;
	}
	return N_ITEMS;
}

static void *worker(void *arg)
{
	pc_run *run = arg;
	pc_conns k = {.c = run->c};

	for (;;) {
		size_t n, i;
		pthread_mutex_lock(&run->mu);
		n = run->next++;
		pthread_mutex_unlock(&run->mu);
		if (n >= N_ITEMS)
			break;
		i = nth_item(n);
		if (i < N_ITEMS)
			run_one(run, &k, i);
	}
	conns_close(&k);
	return NULL;
}

/* The job's record in tidm_meta (read only: the schema may not exist). */
static void read_job_record(pc_ctx *c, tidm_conn *tgt)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;

	tidm_buf_puts(&q, "SELECT `state`, `stage` FROM `tidm_meta`.`jobs` WHERE `name` = ");
	tidm_quote_string(&q, c->cfg->name, strlen(c->cfg->name));
	if (tidm_conn_query(tgt, &res, q.data) == 0 && tidm_res_next(res) == 1) {
		const char *st = tidm_res_get(res, 0), *sg = tidm_res_get(res, 1);
		c->job_exists = true;
		snprintf(c->job_state, sizeof(c->job_state), "%s", st ? st : "");
		snprintf(c->job_stage, sizeof(c->job_stage), "%s", sg ? sg : "");
	}
	tidm_err_clear();
	tidm_res_free(res);
	tidm_buf_dispose(&q);
}

/* Open one connection of each side; read what every item needs. */
static void prepare(pc_ctx *c)
{
	tidm_conn *src = NULL, *tgt = NULL;
	tidm_conn_opts o;

	o = c->sopts;
	o.retries = 2;
	o.read_timeout = c->o->timeout_s;
	if ((c->src_rc = tidm_conn_open(&src, &o)) < 0) {
		snprintf(c->src_err, sizeof(c->src_err), "%s", tidm_err_msg());
	} else {
		enum tidm_hosting h = TIDM_HOSTING_SELF;
		c->src_info = *tidm_conn_info(src);
		if (vars_load(src, "SHOW GLOBAL VARIABLES", &c->svars) < 0)
			tidm_err_clear();
		if (vars_load(src, "SHOW GLOBAL STATUS LIKE 'Threads_connected'", &c->sstatus) < 0)
			tidm_err_clear();
		if (tidm_conn_detect_hosting(src, &h) < 0)
			tidm_err_clear();
		switch (h) {
		case TIDM_HOSTING_RDS: c->hosting = PC_RDS; break;
		case TIDM_HOSTING_AURORA: c->hosting = PC_AURORA; break;
		case TIDM_HOSTING_AZURE: c->hosting = PC_AZURE; break;
		case TIDM_HOSTING_CLOUDSQL: c->hosting = PC_CLOUDSQL; break;
		default:
			c->hosting = c->src_info.flavor == TIDM_FLAVOR_MARIADB ? PC_MARIADB
				     : c->src_info.flavor == TIDM_FLAVOR_TIDB ? PC_TIDB
									   : PC_SELF_MYSQL;
		}
	}
	o = c->topts;
	o.retries = 2;
	o.read_timeout = c->o->timeout_s;
	if ((c->tgt_rc = tidm_conn_open(&tgt, &o)) < 0) {
		snprintf(c->tgt_err, sizeof(c->tgt_err), "%s", tidm_err_msg());
	} else {
		c->tgt_info = *tidm_conn_info(tgt);
		if (vars_load(tgt, "SHOW GLOBAL VARIABLES", &c->tvars) < 0)
			tidm_err_clear();
		if (vars_load(tgt, "SHOW GLOBAL STATUS LIKE 'Threads_connected'", &c->tstatus) < 0)
			tidm_err_clear();
		read_job_record(c, tgt);
	}
	tidm_conn_close(src);
	tidm_conn_close(tgt);
	tidm_err_clear();
}

static void ctx_dispose(pc_ctx *c)
{
	pc_facts_dispose(c);
	vars_dispose(&c->svars);
	vars_dispose(&c->tvars);
	vars_dispose(&c->sstatus);
	vars_dispose(&c->tstatus);
	for (size_t i = 0; i < c->n_tables; i++) {
		pc_table *t = &c->tables[i];
		free(t->db);
		free(t->name);
		free(t->engine);
		free(t->collation);
	}
	free(c->tables);
	for (size_t i = 0; i < c->n_dbs; i++)
		free(c->dbs[i]);
	free(c->dbs);
	for (size_t i = 0; i < c->n_logs; i++)
		free(c->log_files[i]);
	free(c->log_files);
	free(c->log_sizes);
	free(c->cur_gtid);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
}

const char *pc_hosting_name(enum pc_hosting h)
{
	switch (h) {
	case PC_MARIADB: return "MariaDB";
	case PC_RDS: return "Amazon RDS";
	case PC_AURORA: return "Amazon Aurora";
	case PC_AZURE: return "Azure Database for MySQL";
	case PC_CLOUDSQL: return "Google Cloud SQL";
	case PC_TIDB: return "TiDB";
	default: return "self-managed MySQL";
	}
}

int tidm_precheck_run(const tidm_job_config *cfg, const tidm_precheck_opts *opts, tidm_precheck_report *out)
{
	tidm_precheck_opts o = opts ? *opts : (tidm_precheck_opts){0};
	pc_ctx *c;
	pc_run run;
	pthread_t th[16];
	unsigned nth, started = 0;
	double t0 = now_s();

	memset(out, 0, sizeof(*out));
	if (!o.timeout_s)
		o.timeout_s = 30;
	if (!o.threads)
		o.threads = 6;
	if (o.sample_seconds <= 0)
		o.sample_seconds = 0.5;
	nth = o.threads > 16 ? 16 : o.threads;
	out->items = calloc(N_ITEMS, sizeof(*out->items));
	c = calloc(1, sizeof(*c));
	if (!out->items || !c) {
		free(out->items);
		free(c);
		out->items = NULL;
		return tidm_err_set(TIDM_ENOMEM, "out of memory");
	}
	out->n = N_ITEMS;
	c->cfg = cfg;
	c->o = &o;
	c->rate_bytes_s = -1;
	c->runway.runway_s = -1;
	c->runway.full_estimate_s = -1;
	c->runway.write_rate = -1;
	c->runway.copy_rate = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	tidm_endpoint_conn_opts(&c->sopts, &cfg->source, TIDM_ROLE_SOURCE);
	tidm_endpoint_conn_opts(&c->topts, &cfg->target, TIDM_ROLE_TARGET);
	prepare(c);
	/* a server with few free connections: fewer threads (each may open one per side) */
	{
		const char *ms = pc_var(&c->svars, "max_connections"), *us = pc_var(&c->sstatus, "Threads_connected"),
			   *mt = pc_var(&c->tvars, "max_connections"), *ut = pc_var(&c->tstatus, "Threads_connected");
		long fs = ms && us ? atol(ms) - atol(us) - 2 : 1000, ft = mt && ut ? atol(mt) - atol(ut) - 2 : 1000;
		long f = fs < ft ? fs : ft;
		if (f / 2 < (long)nth)
			nth = f / 2 > 1 ? (unsigned)(f / 2) : 1;
	}

	memset(&run, 0, sizeof(run));
	run.c = c;
	run.rep = out;
	pthread_mutex_init(&run.mu, NULL);
	for (unsigned i = 0; i < nth; i++)
		if (pthread_create(&th[started], NULL, worker, &run) == 0)
			started++;
	if (!started)
		worker(&run);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&run.mu);

	/* ignored warnings */
	for (size_t i = 0; i < out->n; i++) {
		tidm_check_result *it = &out->items[i];
		if (it->state != TIDM_CHECK_WARNING)
			continue;
		if (o.ignore_warnings)
			it->ignored = true;
		for (size_t j = 0; j < cfg->n_precheck_ignore; j++)
			if (!strcmp(cfg->precheck_ignore[j], it->id))
				it->ignored = true;
	}
	snprintf(out->source_hosting, sizeof(out->source_hosting), "%s",
		 c->src_rc < 0 ? "unknown" : pc_hosting_name(c->hosting));
	out->runway = c->runway;
	out->resuming = c->job_exists && !o.restart;
	snprintf(out->job_state, sizeof(out->job_state), "%s", c->job_exists ? c->job_state : "");
	out->seconds = now_s() - t0;
	ctx_dispose(c);
	free(c);
	tidm_err_clear();
	return 0;
}

void tidm_precheck_report_dispose(tidm_precheck_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].message);
		free(r->items[i].fix);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

void tidm_precheck_counts(const tidm_precheck_report *r, unsigned *pass, unsigned *warnings, unsigned *fails,
			  unsigned *ignored)
{
	unsigned p = 0, w = 0, f = 0, ig = 0;
	for (size_t i = 0; i < r->n; i++) {
		switch (r->items[i].state) {
		case TIDM_CHECK_PASS: p++; break;
		case TIDM_CHECK_WARNING:
			if (r->items[i].ignored)
				ig++;
			else
				w++;
			break;
		default: f++;
		}
	}
	if (pass)
		*pass = p;
	if (warnings)
		*warnings = w;
	if (fails)
		*fails = f;
	if (ignored)
		*ignored = ig;
}

bool tidm_precheck_blocks(const tidm_precheck_report *r)
{
	unsigned w, f;
	tidm_precheck_counts(r, NULL, &w, &f, NULL);
	return w || f;
}

/* --- output ------------------------------------------------------------------------------ */

static const char *state_name(enum tidm_check_state s)
{
	return s == TIDM_CHECK_PASS ? "pass" : s == TIDM_CHECK_WARNING ? "warning" : "fail";
}

void tidm_precheck_fmt_duration(char *out, size_t n, double s)
{
	if (s < 0)
		snprintf(out, n, "unknown");
	else if (isinf(s))
		snprintf(out, n, "unlimited");
	else if (s >= 86400)
		snprintf(out, n, "%.0fd %.0fh", floor(s / 86400), floor(fmod(s, 86400) / 3600));
	else if (s >= 3600)
		snprintf(out, n, "%.0fh %02.0fm", floor(s / 3600), floor(fmod(s, 3600) / 60));
	else if (s >= 60)
		snprintf(out, n, "%.0fm %02.0fs", floor(s / 60), floor(fmod(s, 60)));
	else
		snprintf(out, n, "%.0fs", s);
}

/* A JSON string of text that should be UTF-8; invalid bytes become U+FFFD. */
static json_t *jstr(const char *s)
{
	json_t *j;
	tidm_buf b = TIDM_BUF_INIT;
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	j = json_string(s ? s : "");
	if (j)
		return j;
	for (; *p; p++)
		tidm_buf_puts(&b, *p < 0x80 ? (char[]){(char)*p, 0} : "\xef\xbf\xbd");
	j = json_string(b.data ? b.data : "");
	tidm_buf_dispose(&b);
	return j;
}

static json_t *jnum_or_null(double v)
{
	return v < 0 || isinf(v) || isnan(v) ? json_null() : json_real(v);
}

json_t *tidm_precheck_json(const tidm_precheck_report *r)
{
	json_t *root = json_object(), *arr = json_array(), *sum = json_object(), *rw = json_object();
	unsigned p, w, f, ig;

	for (size_t i = 0; i < r->n; i++) {
		const tidm_check_result *it = &r->items[i];
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(it->id));
		json_object_set_new(o, "title", json_string(it->title));
		json_object_set_new(o, "state", json_string(state_name(it->state)));
		json_object_set_new(o, "message", jstr(it->message));
		json_object_set_new(o, "fix", it->fix ? jstr(it->fix) : json_null());
		json_object_set_new(o, "ignored", json_boolean(it->ignored));
		json_object_set_new(o, "seconds", json_real(it->seconds));
		json_array_append_new(arr, o);
	}
	tidm_precheck_counts(r, &p, &w, &f, &ig);
	json_object_set_new(root, "items", arr);
	json_object_set_new(sum, "pass", json_integer(p));
	json_object_set_new(sum, "warning", json_integer(w));
	json_object_set_new(sum, "fail", json_integer(f));
	json_object_set_new(sum, "ignored", json_integer(ig));
	json_object_set_new(sum, "ok", json_boolean(!tidm_precheck_blocks(r)));
	json_object_set_new(root, "summary", sum);
	json_object_set_new(root, "source_hosting", json_string(r->source_hosting));
	json_object_set_new(rw, "runway_seconds", isinf(r->runway.runway_s) ? json_string("unlimited")
									       : jnum_or_null(r->runway.runway_s));
	json_object_set_new(rw, "full_estimate_seconds", jnum_or_null(r->runway.full_estimate_s));
	json_object_set_new(rw, "binlog_write_bytes_per_second", jnum_or_null(r->runway.write_rate));
	json_object_set_new(rw, "copy_bytes_per_second", jnum_or_null(r->runway.copy_rate));
	json_object_set_new(rw, "full_bytes", json_integer((json_int_t)r->runway.full_bytes));
	json_object_set_new(rw, "retention", json_string(r->runway.retention));
	json_object_set_new(root, "runway", rw);
	json_object_set_new(root, "seconds", json_real(r->seconds));
	return root;
}

void tidm_precheck_format_json(const tidm_precheck_report *r, tidm_buf *out)
{
	json_t *root = tidm_precheck_json(r);
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	if (text) {
		tidm_buf_puts(out, text);
		tidm_buf_putc(out, '\n');
		free(text);
	}
	json_decref(root);
}

/* `prefix` then `s`, indented by `ind` spaces, wrapped near `width` columns at spaces. */
static void put_wrapped(tidm_buf *out, const char *prefix, const char *s, unsigned ind, unsigned width)
{
	size_t col = ind + strlen(prefix);
	for (unsigned i = 0; i < ind; i++)
		tidm_buf_putc(out, ' ');
	tidm_buf_puts(out, prefix);
	while (*s) {
		size_t w = strcspn(s, " \n");
		if (col > ind && col + w > width) {
			tidm_buf_putc(out, '\n');
			for (unsigned i = 0; i < ind; i++)
				tidm_buf_putc(out, ' ');
			col = ind;
		}
		tidm_buf_put(out, s, w);
		col += w;
		s += w;
		if (*s == '\n') {
			tidm_buf_putc(out, '\n');
			for (unsigned i = 0; i < ind; i++)
				tidm_buf_putc(out, ' ');
			col = ind;
			s++;
		} else if (*s == ' ') {
			if (col > ind) {
				tidm_buf_putc(out, ' ');
				col++;
			}
			s++;
		}
	}
	tidm_buf_putc(out, '\n');
}

void tidm_precheck_format_table(const tidm_precheck_report *r, tidm_buf *out, bool color, bool verbose)
{
	unsigned p, w, f, ig;
	size_t idw = 0;

	for (size_t i = 0; i < r->n; i++)
		if (strlen(r->items[i].id) > idw)
			idw = strlen(r->items[i].id);
	for (size_t i = 0; i < r->n; i++) {
		const tidm_check_result *it = &r->items[i];
		const char *st = it->state == TIDM_CHECK_PASS ? "PASS" : it->state == TIDM_CHECK_FAIL ? "FAIL"
					      : it->ignored					 ? "IGNORED"
												 : "WARNING";
		const char *col = it->state == TIDM_CHECK_PASS ? "\033[32m" : it->state == TIDM_CHECK_FAIL ? "\033[1;31m"
								 : it->ignored ? "\033[2;33m" : "\033[33m";
		tidm_buf_printf(out, "%s%-7s%s  %-*s  %s\n", color ? col : "", st, color ? "\033[0m" : "", (int)idw, it->id,
				it->title);
		/* wrapped for a terminal; one line each otherwise, for logs and grep */
		if (it->state != TIDM_CHECK_PASS || verbose)
			put_wrapped(out, "", it->message, 9, color ? 100 : 1u << 30);
		if (it->fix && it->state != TIDM_CHECK_PASS)
			put_wrapped(out, "fix: ", it->fix, 9, color ? 100 : 1u << 30);
	}
	tidm_precheck_counts(r, &p, &w, &f, &ig);
	tidm_buf_printf(out, "\n%u passed, %u warning%s, %u failed", p, w, w == 1 ? "" : "s", f);
	if (ig)
		tidm_buf_printf(out, ", %u warning%s ignored", ig, ig == 1 ? "" : "s");
	tidm_buf_printf(out, " (source: %s; %.1f s): %s\n", r->source_hosting, r->seconds,
			f ? "the job cannot start"
			: w ? "the job starts only when the warnings are fixed or ignored (--ignore-warnings, or "
			      "precheck: {ignore: [id, ...]} in the job file)"
			    : "ready to start");
}
