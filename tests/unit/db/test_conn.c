/*
 * test_conn.c - db/conn.c without a server: libmariadb is replaced by a scripted fake
 * (the symbols in test_conn.wrap are linked with -Wl,--wrap=, pgBackRest harness/pq.h
 * style). Each test scripts what mysql_real_connect answers attempt by attempt and what
 * each statement returns, then checks what a user sees: return code, the exact message
 * (SPEC §6 connection messages with the raw cause), retries and their backoff, TLS
 * options, session settings, flavour detection and the error mapping of statements.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <mysql.h>

#include "db/conn.h"
#include "util/err.h"
#include "util/log.h"

/* ---- the fake ------------------------------------------------------------------- */

#define MAXC 4

struct fake_connect {
	unsigned err; /* 0 = success */
	const char *msg;
	bool server_ssl;
};

struct fake_query {
	const char *sql; /* exact statement */
	unsigned err;
	const char *msg;
	unsigned ncols, nrows;
	const char *vals[4][MAXC];
	const MYSQL_FIELD *fields;
	uint64_t affected;
};

struct attempt {
	char ca[128], cert[128], key[128];
	int enforce, verify;
	unsigned connect_timeout;
	char password[64];
};

struct fake_my {
	unsigned err;
	char msg[512];
	const struct fake_query *last; /* last statement with a result set */
	bool server_ssl;               /* the handshake offered TLS */
	struct attempt opts;
};

struct fake_res {
	const struct fake_query *q;
	unsigned next;
	char *row[MAXC];
	unsigned long lens[MAXC];
	MYSQL_FIELD fields[MAXC];
};

static struct {
	const struct fake_connect *connects;
	size_t nconnects;
	unsigned connect_calls;
	struct attempt attempts[16];
	const struct fake_query *queries;
	size_t nqueries;
	char *sqllog[64];
	unsigned nsql;
	unsigned sleeps_ms[16];
	unsigned nsleeps;
	unsigned open_handles;
} fake;

static const struct fake_connect connect_ok[] = {{0, NULL, false}};

static void fake_reset(void)
{
	for (unsigned i = 0; i < fake.nsql; i++)
		free(fake.sqllog[i]);
	memset(&fake, 0, sizeof(fake));
	fake.connects = connect_ok;
	fake.nconnects = 1;
	tidm_err_clear();
}

MYSQL *__wrap_mysql_init(MYSQL *m);
MYSQL *__wrap_mysql_init(MYSQL *m)
{
	struct fake_my *f = calloc(1, sizeof(*f));

	(void)m;
	fake.open_handles++;
	return (MYSQL *)f;
}

int __wrap_mysql_options(MYSQL *m, enum mysql_option opt, const void *arg);
int __wrap_mysql_options(MYSQL *m, enum mysql_option opt, const void *arg)
{
	struct fake_my *f = (struct fake_my *)m;

	switch (opt) {
	case MYSQL_OPT_SSL_CA: snprintf(f->opts.ca, sizeof(f->opts.ca), "%s", (const char *)arg); break;
	case MYSQL_OPT_SSL_CERT: snprintf(f->opts.cert, sizeof(f->opts.cert), "%s", (const char *)arg); break;
	case MYSQL_OPT_SSL_KEY: snprintf(f->opts.key, sizeof(f->opts.key), "%s", (const char *)arg); break;
	case MYSQL_OPT_SSL_ENFORCE: f->opts.enforce = *(const my_bool *)arg; break;
	case MYSQL_OPT_SSL_VERIFY_SERVER_CERT: f->opts.verify = *(const my_bool *)arg; break;
	case MYSQL_OPT_CONNECT_TIMEOUT: f->opts.connect_timeout = *(const unsigned *)arg; break;
	default: break;
	}
	return 0;
}

MYSQL *__wrap_mysql_real_connect(MYSQL *m, const char *host, const char *user, const char *pw,
				 const char *db, unsigned port, const char *sock, unsigned long flags);
MYSQL *__wrap_mysql_real_connect(MYSQL *m, const char *host, const char *user, const char *pw,
				 const char *db, unsigned port, const char *sock, unsigned long flags)
{
	struct fake_my *f = (struct fake_my *)m;
	unsigned i = fake.connect_calls++;
	const struct fake_connect *fc = &fake.connects[i < fake.nconnects ? i : fake.nconnects - 1];

	(void)host, (void)user, (void)db, (void)port, (void)sock, (void)flags;
	snprintf(f->opts.password, sizeof(f->opts.password), "%s", pw ? pw : "");
	if (i < 16)
		fake.attempts[i] = f->opts;
	f->err = fc->err;
	snprintf(f->msg, sizeof(f->msg), "%s", fc->msg ? fc->msg : "");
	f->server_ssl = fc->server_ssl;
	return fc->err ? NULL : m;
}

my_bool __wrap_mariadb_get_infov(MYSQL *m, enum mariadb_value v, void *arg, ...);
my_bool __wrap_mariadb_get_infov(MYSQL *m, enum mariadb_value v, void *arg, ...)
{
	struct fake_my *f = (struct fake_my *)m;

	if (v != MARIADB_CONNECTION_SERVER_CAPABILITIES)
		return 1;
	*(unsigned long *)arg = f->server_ssl ? CLIENT_SSL : 0;
	return 0;
}

void __wrap_mysql_close(MYSQL *m);
void __wrap_mysql_close(MYSQL *m)
{
	if (m)
		fake.open_handles--;
	free(m);
}

unsigned int __wrap_mysql_errno(MYSQL *m);
unsigned int __wrap_mysql_errno(MYSQL *m) { return ((struct fake_my *)m)->err; }

const char *__wrap_mysql_error(MYSQL *m);
const char *__wrap_mysql_error(MYSQL *m) { return ((struct fake_my *)m)->msg; }

unsigned long __wrap_mysql_thread_id(MYSQL *m);
unsigned long __wrap_mysql_thread_id(MYSQL *m)
{
	(void)m;
	return 4242;
}

int __wrap_mysql_real_query(MYSQL *m, const char *q, unsigned long len);
int __wrap_mysql_real_query(MYSQL *m, const char *q, unsigned long len)
{
	struct fake_my *f = (struct fake_my *)m;

	if (fake.nsql < 64)
		fake.sqllog[fake.nsql++] = strndup(q, len);
	f->err = 0;
	f->msg[0] = '\0';
	f->last = NULL;
	for (size_t i = 0; i < fake.nqueries; i++) {
		const struct fake_query *fq = &fake.queries[i];

		if (strlen(fq->sql) == len && memcmp(fq->sql, q, len) == 0) {
			if (fq->err) {
				f->err = fq->err;
				snprintf(f->msg, sizeof(f->msg), "%s", fq->msg);
				return 1;
			}
			f->last = fq;
			break;
		}
	}
	return 0;
}

static MYSQL_RES *make_res(MYSQL *m)
{
	struct fake_my *f = (struct fake_my *)m;
	struct fake_res *r;

	if (!f->last || f->last->ncols == 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	r->q = f->last;
	for (unsigned i = 0; i < r->q->ncols; i++) {
		if (r->q->fields)
			r->fields[i] = r->q->fields[i];
		else {
			r->fields[i].name = (char *)"c";
			r->fields[i].type = MYSQL_TYPE_VAR_STRING;
			r->fields[i].charsetnr = 45;
		}
	}
	return (MYSQL_RES *)r;
}

MYSQL_RES *__wrap_mysql_store_result(MYSQL *m);
MYSQL_RES *__wrap_mysql_store_result(MYSQL *m) { return make_res(m); }

MYSQL_RES *__wrap_mysql_use_result(MYSQL *m);
MYSQL_RES *__wrap_mysql_use_result(MYSQL *m) { return make_res(m); }

void __wrap_mysql_free_result(MYSQL_RES *r);
void __wrap_mysql_free_result(MYSQL_RES *r) { free(r); }

unsigned int __wrap_mysql_field_count(MYSQL *m);
unsigned int __wrap_mysql_field_count(MYSQL *m)
{
	struct fake_my *f = (struct fake_my *)m;

	return f->last ? f->last->ncols : 0;
}

my_ulonglong __wrap_mysql_affected_rows(MYSQL *m);
my_ulonglong __wrap_mysql_affected_rows(MYSQL *m)
{
	struct fake_my *f = (struct fake_my *)m;

	return f->last ? f->last->affected : 0;
}

int __wrap_mysql_next_result(MYSQL *m);
int __wrap_mysql_next_result(MYSQL *m)
{
	(void)m;
	return -1;
}

my_bool __wrap_mysql_more_results(MYSQL *m);
my_bool __wrap_mysql_more_results(MYSQL *m)
{
	(void)m;
	return 0;
}

unsigned int __wrap_mysql_num_fields(MYSQL_RES *r);
unsigned int __wrap_mysql_num_fields(MYSQL_RES *r) { return ((struct fake_res *)r)->q->ncols; }

my_ulonglong __wrap_mysql_num_rows(MYSQL_RES *r);
my_ulonglong __wrap_mysql_num_rows(MYSQL_RES *r) { return ((struct fake_res *)r)->q->nrows; }

MYSQL_ROW __wrap_mysql_fetch_row(MYSQL_RES *res);
MYSQL_ROW __wrap_mysql_fetch_row(MYSQL_RES *res)
{
	struct fake_res *r = (struct fake_res *)res;

	if (r->next >= r->q->nrows)
		return NULL;
	for (unsigned i = 0; i < r->q->ncols; i++) {
		r->row[i] = (char *)r->q->vals[r->next][i];
		r->lens[i] = r->row[i] ? strlen(r->row[i]) : 0;
	}
	r->next++;
	return r->row;
}

unsigned long *__wrap_mysql_fetch_lengths(MYSQL_RES *r);
unsigned long *__wrap_mysql_fetch_lengths(MYSQL_RES *r) { return ((struct fake_res *)r)->lens; }

MYSQL_FIELD *__wrap_mysql_fetch_fields(MYSQL_RES *r);
MYSQL_FIELD *__wrap_mysql_fetch_fields(MYSQL_RES *r) { return ((struct fake_res *)r)->fields; }

int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
	(void)rem;
	if (fake.nsleeps < 16)
		fake.sleeps_ms[fake.nsleeps++] = (unsigned)(req->tv_sec * 1000 + req->tv_nsec / 1000000);
	return 0;
}

/* ---- helpers -------------------------------------------------------------------- */

#define PASSWORD "s3cret-Pa55"
#define SRC_MSG                                                                                  \
	"Failed to connect to the source database using given parameters. Please make sure the " \
	"source database is up and can be connected using the given parameters."
#define SRC_MAXCONN_MSG                                                                      \
	"Failed to connect to the source database. Please check whether the database is " \
	"available or the maximum connections have been reached."
#define TGT_MSG                                                                               \
	"Failed to connect to the TiDB cluster using the given user and password. Please make " \
	"sure TiDB Cluster is up and can be connected to using the given user and password."

static tidm_conn_opts src_opts(void)
{
	tidm_conn_opts o = {.role = TIDM_ROLE_SOURCE, .host = "127.0.0.1", .port = 3306, .user = "migrator",
			    .password = PASSWORD};
	return o;
}

static const struct fake_query mariadb_queries[] = {
	{.sql = "SELECT VERSION()", .ncols = 1, .nrows = 1, .vals = {{"10.11.6-MariaDB-log"}}},
};

/* Log lines written during a test go to a temporary file read back by log_text(). */
static int log_fd = -1;

static int setup(void **state)
{
	char path[] = "/tmp/tidm_test_conn_XXXXXX";

	(void)state;
	fake_reset();
	log_fd = mkstemp(path);
	if (log_fd < 0)
		return -1;
	unlink(path);
	tidm_log_set_fd(log_fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tidm_log_set_fd(2);
	close(log_fd);
	assert_int_equal(fake.open_handles, 0);
	fake_reset();
	return 0;
}

static const char *log_text(void)
{
	static char text[8192];
	ssize_t n = pread(log_fd, text, sizeof(text) - 1, 0);

	text[n > 0 ? n : 0] = '\0';
	return text;
}

/* ---- connecting ----------------------------------------------------------------- */

static void test_db_conn__refused_retried_with_backoff(void **state)
{
	static const struct fake_connect refused[] = {
		{2002, "Can't connect to server on '127.0.0.1' (111)", false}};
	tidm_conn_opts o = src_opts();
	tidm_conn *c = (tidm_conn *)&o;

	(void)state;
	fake.connects = refused;
	o.port = 1;
	o.retries = 4;
	assert_int_equal(tidm_conn_open(&c, &o), TIDM_ECONN);
	assert_null(c);
	assert_int_equal(fake.connect_calls, 4);
	assert_int_equal(fake.nsleeps, 3);
	assert_int_equal(fake.sleeps_ms[0], 500);
	assert_int_equal(fake.sleeps_ms[1], 1000);
	assert_int_equal(fake.sleeps_ms[2], 2000);
	assert_string_equal(tidm_err_msg(), SRC_MSG " (host 127.0.0.1:1: Can't connect to server on '127.0.0.1' "
						    "(111), errno 2002)");
	assert_int_equal(tidm_err_dberr(), 2002);
	assert_int_equal(fake.attempts[0].connect_timeout, 10);
}

static void test_db_conn__default_retries_and_cap(void **state)
{
	static const struct fake_connect unknown_host[] = {
		{2005, "Unknown server host 'nohost.invalid' (-2)", false}};
	tidm_conn_opts o = src_opts();
	tidm_conn *c;

	(void)state;
	fake.connects = unknown_host;
	o.host = "nohost.invalid";
	assert_int_equal(tidm_conn_open(&c, &o), TIDM_ECONN);
	assert_int_equal(fake.connect_calls, 5); /* retries 0 means 5 */
	assert_int_equal(fake.nsleeps, 4);
	assert_int_equal(fake.sleeps_ms[3], 4000);

	fake_reset();
	fake.connects = unknown_host;
	o.retries = 8;
	assert_int_equal(tidm_conn_open(&c, &o), TIDM_ECONN);
	assert_int_equal(fake.nsleeps, 7);
	assert_int_equal(fake.sleeps_ms[4], 8000);
	assert_int_equal(fake.sleeps_ms[6], 8000); /* capped */
}

static void test_db_conn__refused_then_up(void **state)
{
	static const struct fake_connect flaky[] = {
		{2002, "Can't connect to server on '127.0.0.1' (111)", false},
		{2013, "Lost connection to server at 'handshake: reading initial communication packet'", false},
		{0, NULL, false}};
	tidm_conn_opts o = src_opts();
	tidm_conn *c;

	(void)state;
	fake.connects = flaky;
	fake.nconnects = 3;
	fake.queries = mariadb_queries;
	fake.nqueries = 1;
	assert_int_equal(tidm_conn_open(&c, &o), 0);
	assert_non_null(c);
	assert_int_equal(fake.connect_calls, 3);
	assert_int_equal(fake.nsleeps, 2);
	assert_int_equal(tidm_conn_thread_id(c), 4242);
	tidm_conn_close(c);
}

static void test_db_conn__access_denied_not_retried(void **state)
{
	/* a hostile or buggy server echoing the password: it must not reach the message */
	static const struct fake_connect denied[] = {
		{1045, "Access denied for user 'root'@'10.0.0.1' (using password: YES) " PASSWORD, false}};
	tidm_conn_opts o = src_opts();
	tidm_conn *c;

	(void)state;
	fake.connects = denied;
	o.role = TIDM_ROLE_TARGET;
	o.port = 4000;
	assert_int_equal(tidm_conn_open(&c, &o), TIDM_EAUTH);
	assert_int_equal(fake.connect_calls, 1);
	assert_int_equal(fake.nsleeps, 0);
	assert_string_equal(tidm_err_msg(), TGT_MSG " (host 127.0.0.1:4000: Access denied for user "
						    "'root'@'10.0.0.1' (using password: YES) ***, errno 1045)");
	assert_null(strstr(tidm_err_msg(), PASSWORD));
	assert_null(strstr(log_text(), PASSWORD));
	/* the password itself was handed to the library */
	assert_string_equal(fake.attempts[0].password, PASSWORD);
}

static void test_db_conn__too_many_connections(void **state)
{
	static const struct fake_connect full[] = {{1040, "Too many connections", false}};
	tidm_conn_opts o = src_opts();
	tidm_conn *c;

	(void)state;
	fake.connects = full;
	o.retries = 2;
	assert_int_equal(tidm_conn_open(&c, &o), TIDM_ECONN);
	assert_int_equal(fake.connect_calls, 2);
	assert_string_equal(tidm_err_msg(), SRC_MAXCONN_MSG " (host 127.0.0.1:3306: Too many connections, errno 1040)");
}

static void test_db_conn__other_connect_error_not_retried(void **state)
{
	static const struct fake_connect tls_bad[] = {
		{2026, "TLS/SSL error: self-signed certificate in certificate chain", false}};
	tidm_conn_opts o = src_opts();
	tidm_conn *c;

	(void)state;
	fake.connects = tls_bad;
	assert_int_equal(tidm_conn_open(&c, &o), TIDM_ERROR);
	assert_int_equal(fake.connect_calls, 1);
	assert_string_equal(tidm_err_msg(), SRC_MSG " (host 127.0.0.1:3306: TLS/SSL error: self-signed certificate "
						    "in certificate chain, errno 2026)");
}

/* ---- TLS ------------------------------------------------------------------------ */

static const char *tls_file(const char *name)
{
	static char paths[3][256];
	static int k;
	char *p = paths[k++ % 3];
	FILE *f;

	snprintf(p, 256, "/tmp/tidm_test_conn_%d_%s", (int)getpid(), name);
	f = fopen(p, "w");
	if (f) {
		fputs("-----BEGIN CERTIFICATE-----\n", f);
		fclose(f);
	}
	return p;
}

static void test_db_conn__tls_three_forms(void **state)
{
	const char *ca = tls_file("ca.pem"), *cert = tls_file("cert.pem"), *key = tls_file("key.pem");
	tidm_conn_opts o = src_opts();
	tidm_conn *c;

	(void)state;
	fake.queries = mariadb_queries;
	fake.nqueries = 1;

	/* CA only: server verified */
	o.tls_ca = ca;
	assert_int_equal(tidm_conn_open(&c, &o), 0);
	tidm_conn_close(c);
	assert_string_equal(fake.attempts[0].ca, ca);
	assert_string_equal(fake.attempts[0].cert, "");
	assert_int_equal(fake.attempts[0].enforce, 1);
	assert_int_equal(fake.attempts[0].verify, 1);
	assert_null(strstr(log_text(), "not verified"));

	/* cert + key only: client authentication, server not verified, warned */
	fake.connect_calls = 0;
	o.tls_ca = NULL;
	o.tls_cert = cert;
	o.tls_key = key;
	assert_int_equal(tidm_conn_open(&c, &o), 0);
	tidm_conn_close(c);
	assert_string_equal(fake.attempts[0].ca, "");
	assert_string_equal(fake.attempts[0].cert, cert);
	assert_string_equal(fake.attempts[0].key, key);
	assert_int_equal(fake.attempts[0].enforce, 1);
	assert_int_equal(fake.attempts[0].verify, 0);
	assert_non_null(strstr(log_text(), "WARN  source connection: TLS with a client certificate but no CA: the "
					   "server certificate is not verified"));

	/* all three: mutual TLS */
	fake.connect_calls = 0;
	o.tls_ca = ca;
	assert_int_equal(tidm_conn_open(&c, &o), 0);
	tidm_conn_close(c);
	assert_string_equal(fake.attempts[0].ca, ca);
	assert_string_equal(fake.attempts[0].cert, cert);
	assert_int_equal(fake.attempts[0].verify, 1);

	/* none: no TLS options at all */
	fake.connect_calls = 0;
	o.tls_ca = o.tls_cert = o.tls_key = NULL;
	assert_int_equal(tidm_conn_open(&c, &o), 0);
	tidm_conn_close(c);
	assert_int_equal(fake.attempts[0].enforce, 0);
	unlink(ca);
	unlink(cert);
	unlink(key);
}

static void test_db_conn__tls_bad_files(void **state)
{
	const char *cert = tls_file("cert2.pem");
	tidm_conn_opts o = src_opts();
	tidm_conn *c;

	(void)state;
	o.role = TIDM_ROLE_TARGET;
	o.tls_ca = "/nonexistent/ca.pem";
	assert_int_equal(tidm_conn_open(&c, &o), TIDM_EINVAL);
	assert_string_equal(tidm_err_msg(),
			    "target connection: TLS CA file '/nonexistent/ca.pem' cannot be read: No such file or directory");
	assert_int_equal(fake.connect_calls, 0);

	o.tls_ca = NULL;
	o.tls_cert = cert;
	assert_int_equal(tidm_conn_open(&c, &o), TIDM_EINVAL);
	assert_string_equal(tidm_err_msg(),
			    "target connection: TLS needs both a client certificate and its key (or neither)");

	o.tls_key = "/nonexistent/key.pem";
	assert_int_equal(tidm_conn_open(&c, &o), TIDM_EINVAL);
	assert_string_equal(tidm_err_msg(), "target connection: TLS key file '/nonexistent/key.pem' cannot be read: "
					    "No such file or directory");
	unlink(cert);
}

static void test_db_conn__secure_transport_required(void **state)
{
	/* MySQL says 3159; the retry goes over TLS without verification and warns */
	static const struct fake_connect mysql_rst[] = {
		{3159, "Connections using insecure transport are prohibited while --require_secure_transport=ON.",
		 true},
		{0, NULL, true}};
	/* MariaDB says 1045; retried over TLS only because the server offers TLS, then a
	 * genuine wrong password fails the same way and is reported */
	static const struct fake_connect mariadb_denied[] = {
		{1045, "Access denied for user 'migrator'@'localhost' (using password: YES)", true}};
	tidm_conn_opts o = src_opts();
	tidm_conn *c;

	(void)state;
	fake.connects = mysql_rst;
	fake.nconnects = 2;
	fake.queries = mariadb_queries;
	fake.nqueries = 1;
	assert_int_equal(tidm_conn_open(&c, &o), 0);
	tidm_conn_close(c);
	assert_int_equal(fake.connect_calls, 2);
	assert_int_equal(fake.nsleeps, 0);
	assert_int_equal(fake.attempts[0].enforce, 0);
	assert_int_equal(fake.attempts[1].enforce, 1);
	assert_int_equal(fake.attempts[1].verify, 0);
	assert_non_null(strstr(log_text(), "WARN  source connection: the server requires TLS and none is configured; "
					   "connected over TLS, the server certificate is not verified"));

	fake_reset();
	fake.connects = mariadb_denied;
	assert_int_equal(tidm_conn_open(&c, &o), TIDM_EAUTH);
	assert_int_equal(fake.connect_calls, 2);
	assert_string_equal(tidm_err_msg(), SRC_MSG " (host 127.0.0.1:3306: Access denied for user "
						    "'migrator'@'localhost' (using password: YES), errno 1045)");
}

/* ---- session and detection ------------------------------------------------------ */

static void test_db_conn__session_settings(void **state)
{
	tidm_conn_opts o = src_opts();
	tidm_conn *c;

	(void)state;
	fake.queries = mariadb_queries;
	fake.nqueries = 1;
	o.role = TIDM_ROLE_TARGET;
	o.init_sql = "SET SESSION tidb_txn_mode = 'optimistic'";
	assert_int_equal(tidm_conn_open(&c, &o), 0);
	tidm_conn_close(c);
	assert_true(fake.nsql >= 6);
	assert_string_equal(fake.sqllog[0], "SET NAMES utf8mb4");
	assert_string_equal(fake.sqllog[1], "SET SESSION time_zone = '+00:00'");
	assert_string_equal(fake.sqllog[2], "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'");
	assert_string_equal(fake.sqllog[3], "SET SESSION foreign_key_checks = 0");
	assert_string_equal(fake.sqllog[4], "SET SESSION tidb_txn_mode = 'optimistic'");
	assert_string_equal(fake.sqllog[5], "SELECT VERSION()");
}

static void test_db_conn__init_sql_error(void **state)
{
	static const struct fake_query q[] = {
		{.sql = "SET SESSION nosuch = 1", .err = 1193, .msg = "Unknown system variable 'nosuch'"},
	};
	tidm_conn_opts o = src_opts();
	tidm_conn *c;

	(void)state;
	fake.queries = q;
	fake.nqueries = 1;
	o.init_sql = "SET SESSION nosuch = 1";
	assert_int_equal(tidm_conn_open(&c, &o), TIDM_ERROR);
	assert_null(c);
	assert_string_equal(tidm_err_msg(), "source connection to 127.0.0.1:3306: source query failed (statement: "
					    "SET SESSION nosuch = 1): Unknown system variable 'nosuch' (errno 1193)");
}

static void test_db_conn__flavor_detection(void **state)
{
	static const struct fake_query mysql8[] = {
		{.sql = "SELECT VERSION()", .ncols = 1, .nrows = 1, .vals = {{"8.0.36"}}},
		{.sql = "SELECT tidb_version()", .err = 1305, .msg = "FUNCTION tidb_version does not exist"},
		{.sql = "SELECT AURORA_VERSION()", .err = 1305, .msg = "FUNCTION aurora_version does not exist"},
	};
	static const struct fake_query aurora_reader[] = {
		{.sql = "SELECT VERSION()", .ncols = 1, .nrows = 1, .vals = {{"8.0.32"}}},
		{.sql = "SELECT tidb_version()", .err = 1305, .msg = "FUNCTION tidb_version does not exist"},
		{.sql = "SELECT AURORA_VERSION()", .ncols = 1, .nrows = 1, .vals = {{"3.05.2"}}},
		{.sql = "SELECT @@innodb_read_only", .ncols = 1, .nrows = 1, .vals = {{"1"}}},
	};
	static const struct fake_query tidb[] = {
		{.sql = "SELECT VERSION()", .ncols = 1, .nrows = 1, .vals = {{"8.0.11-TiDB-v7.5.1"}}},
		{.sql = "SELECT tidb_version()",
		 .ncols = 1,
		 .nrows = 1,
		 .vals = {{"Release Version: v7.5.1\nEdition: Community\nGit Commit Hash: 7d16cc79"}}},
	};
	static const struct fake_query tidb_old[] = {
		{.sql = "SELECT VERSION()", .ncols = 1, .nrows = 1, .vals = {{"5.7.25-TiDB-v5.4.0"}}},
		{.sql = "SELECT tidb_version()", .ncols = 1, .nrows = 1, .vals = {{"Edition: Community"}}},
	};
	static const struct {
		const struct fake_query *q;
		size_t n;
		enum tidm_flavor flavor;
		unsigned version;
		bool aurora, reader;
		const char *version_str;
	} cases[] = {
		{mariadb_queries, 1, TIDM_FLAVOR_MARIADB, 101106, false, false, "10.11.6-MariaDB-log"},
		{mysql8, 3, TIDM_FLAVOR_MYSQL, 80036, false, false, "8.0.36"},
		{aurora_reader, 4, TIDM_FLAVOR_MYSQL, 80032, true, true, "8.0.32"},
		{tidb, 2, TIDM_FLAVOR_TIDB, 70501, false, false, "8.0.11-TiDB-v7.5.1"},
		{tidb_old, 2, TIDM_FLAVOR_TIDB, 50400, false, false, "5.7.25-TiDB-v5.4.0"},
	};
	tidm_conn_opts o = src_opts();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tidm_conn *c;
		const tidm_server_info *info;

		fake_reset();
		fake.queries = cases[i].q;
		fake.nqueries = cases[i].n;
		assert_int_equal(tidm_conn_open(&c, &o), 0);
		info = tidm_conn_info(c);
		assert_int_equal(info->flavor, cases[i].flavor);
		assert_int_equal(info->version, cases[i].version);
		assert_int_equal(info->aurora, cases[i].aurora);
		assert_int_equal(info->aurora_reader, cases[i].reader);
		assert_string_equal(info->version_str, cases[i].version_str);
		assert_int_equal(tidm_err_code(), 0); /* probing left no error behind */
		tidm_conn_close(c);
	}
}

/* ---- statements ----------------------------------------------------------------- */

static void test_db_conn__statement_errors(void **state)
{
	static char long_sql[5000];
	static struct fake_query q[] = {
		{.sql = "INSERT INTO t VALUES (1)", .err = 1062, .msg = "Duplicate entry '1' for key 'PRIMARY'"},
		{.sql = "SELECT * FROM nope", .err = 1146, .msg = "Table 'db.nope' doesn't exist"},
		{.sql = "USE nope", .err = 1049, .msg = "Unknown database 'nope'"},
		{.sql = "UPDATE t SET a=1", .err = 1213, .msg = "Deadlock found when trying to get lock; try restarting transaction"},
		{.sql = "DELETE FROM t", .err = 1205, .msg = "Lock wait timeout exceeded; try restarting transaction"},
		{.sql = "SELECT 1", .err = 2013, .msg = "Lost connection to server during query"},
		{.sql = "SELECT 2", .err = 2006, .msg = "Server has gone away"},
		{.sql = "DROP TABLE t", .err = 1142, .msg = "DROP command denied to user 'u'@'h' for table `db`.`t`"},
		{.sql = "FLUSH TABLES WITH READ LOCK", .err = 1227, .msg = "Access denied; you need (at least one of) the RELOAD privilege(s) for this operation"},
		{.sql = "INSERT INTO big VALUES (2)", .err = 1114, .msg = "The table 'big' is full"},
		{.sql = "INSERT INTO big VALUES (3)", .err = 3, .msg = "Error writing file './db/big.ibd' (Errcode: 28 \"No space left on device\")"},
		{.sql = "SELECT bad syntax", .err = 1064, .msg = "You have an error in your SQL syntax"},
		{.sql = "SELECT SLEEP(100)", .err = 1317, .msg = "Query execution was interrupted"},
		{.sql = "COMMIT", .err = 9007, .msg = "Write conflict, txnStartTS=1, conflictStartTS=2 [try again later]"},
		{.sql = "SELECT 3", .err = 1927, .msg = "Connection was killed"},
		{.sql = "INSERT INTO tikv VALUES (1)", .err = 8121, .msg = "TiKV disk full"},
		{.sql = long_sql, .err = 1064, .msg = "You have an error in your SQL syntax"},
	};
	static const struct {
		const char *sql;
		int code;
		unsigned dberr;
		const char *msg;
	} cases[] = {
		{"INSERT INTO t VALUES (1)", TIDM_EDUPKEY, 1062,
		 "target query failed (statement: INSERT INTO t VALUES (1)): Duplicate entry '1' for key 'PRIMARY' (errno 1062)"},
		{"SELECT * FROM nope", TIDM_ENOTFOUND, 1146,
		 "target query failed (statement: SELECT * FROM nope): Table 'db.nope' doesn't exist (errno 1146)"},
		{"USE nope", TIDM_ENOTFOUND, 1049, "target query failed (statement: USE nope): Unknown database 'nope' (errno 1049)"},
		{"UPDATE t SET a=1", TIDM_ECONN, 1213, NULL},
		{"DELETE FROM t", TIDM_ECONN, 1205, NULL},
		{"SELECT 1", TIDM_ECONN, 2013,
		 "target query failed (statement: SELECT 1): Lost connection to server during query (errno 2013)"},
		{"SELECT 2", TIDM_ECONN, 2006, NULL},
		{"DROP TABLE t", TIDM_EAUTH, 1142,
		 "target query failed (statement: DROP TABLE t): DROP command denied to user 'u'@'h' for table `db`.`t` (errno 1142)"},
		{"FLUSH TABLES WITH READ LOCK", TIDM_EAUTH, 1227, NULL},
		{"INSERT INTO big VALUES (2)", TIDM_ERROR, 1114,
		 "the target database is out of storage; free space and resume (statement: INSERT INTO big VALUES (2)): "
		 "The table 'big' is full (errno 1114)"},
		{"INSERT INTO big VALUES (3)", TIDM_ERROR, 3,
		 "the target database is out of storage; free space and resume (statement: INSERT INTO big VALUES (3)): "
		 "Error writing file './db/big.ibd' (Errcode: 28 \"No space left on device\") (errno 3)"},
		{"SELECT bad syntax", TIDM_ERROR, 1064,
		 "target query failed (statement: SELECT bad syntax): You have an error in your SQL syntax (errno 1064)"},
		{"SELECT SLEEP(100)", TIDM_ECANCELED, 1317, NULL},
		{"COMMIT", TIDM_ECONN, 9007, NULL},
		{"SELECT 3", TIDM_ECONN, 1927, NULL},
		{"INSERT INTO tikv VALUES (1)", TIDM_ERROR, 8121,
		 "the target database is out of storage; free space and resume (statement: INSERT INTO tikv VALUES (1)): "
		 "TiKV disk full (errno 8121)"},
	};
	tidm_conn_opts o = src_opts();
	tidm_conn *c;
	char want[512];

	(void)state;
	memset(long_sql, 0, sizeof(long_sql));
	memcpy(long_sql, "INSERT INTO t VALUES\n", 21);
	memset(long_sql + 21, 'x', sizeof(long_sql) - 22);
	fake.queries = q;
	fake.nqueries = sizeof(q) / sizeof(q[0]);
	o.role = TIDM_ROLE_TARGET;
	assert_int_equal(tidm_conn_open(&c, &o), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(tidm_conn_exec(c, cases[i].sql, strlen(cases[i].sql)), cases[i].code);
		assert_int_equal(tidm_err_dberr(), cases[i].dberr);
		if (cases[i].msg)
			assert_string_equal(tidm_err_msg(), cases[i].msg);
	}
	/* a multi-MB statement is cut to its first 200 bytes, newlines flattened */
	assert_int_equal(tidm_conn_exec(c, long_sql, strlen(long_sql)), TIDM_ERROR);
	snprintf(want, sizeof(want), "target query failed (statement: INSERT INTO t VALUES %.179s...): You have an error "
				     "in your SQL syntax (errno 1064)", long_sql + 21);
	assert_string_equal(tidm_err_msg(), want);
	/* queries map the same way */
	{
		tidm_res *r = (tidm_res *)&o;

		assert_int_equal(tidm_conn_query(c, &r, "SELECT * FROM nope"), TIDM_ENOTFOUND);
		assert_null(r);
	}
	tidm_conn_close(c);
}

static void test_db_conn__results(void **state)
{
	static const MYSQL_FIELD fields[] = {
		{.name = (char *)"id", .type = MYSQL_TYPE_LONGLONG, .charsetnr = 63},
		{.name = (char *)"name", .type = MYSQL_TYPE_VAR_STRING, .charsetnr = 45},
		{.name = (char *)"blob", .type = MYSQL_TYPE_BLOB, .charsetnr = 63},
		{.name = (char *)"flags", .type = MYSQL_TYPE_BIT, .charsetnr = 63},
	};
	static const MYSQL_FIELD fields2[] = {
		{.name = (char *)"d", .type = MYSQL_TYPE_DATETIME, .charsetnr = 63},
		{.name = (char *)"g", .type = MYSQL_TYPE_GEOMETRY, .charsetnr = 63},
		{.name = (char *)"dec", .type = MYSQL_TYPE_NEWDECIMAL, .charsetnr = 63},
		{.name = (char *)"j", .type = MYSQL_TYPE_JSON, .charsetnr = 63},
	};
	static const struct fake_query q[] = {
		{.sql = "SELECT VERSION()", .ncols = 1, .nrows = 1, .vals = {{"10.11.6-MariaDB"}}},
		{.sql = "SELECT id, name, blob, flags FROM t",
		 .ncols = 4,
		 .nrows = 2,
		 .vals = {{"1", "caf\xc3\xa9", "\x01\x02", "\x05"}, {"2", NULL, "", NULL}},
		 .fields = fields},
		{.sql = "SELECT d, g, dec, j FROM t", .ncols = 4, .nrows = 0, .fields = fields2},
		{.sql = "DELETE FROM t", .affected = 7},
		{.sql = "SELECT NULL", .ncols = 1, .nrows = 1, .vals = {{NULL}}},
	};
	tidm_conn_opts o = src_opts();
	tidm_conn *c;
	tidm_res *r;
	char *v;
	const char *const *vals;
	const unsigned long *lens;

	(void)state;
	fake.queries = q;
	fake.nqueries = sizeof(q) / sizeof(q[0]);
	assert_int_equal(tidm_conn_open(&c, &o), 0);

	assert_int_equal(tidm_conn_exec(c, "DELETE FROM t", 13), 0);
	assert_int_equal(tidm_conn_affected(c), 7);

	assert_int_equal(tidm_conn_query(c, &r, "SELECT id, name, blob, flags FROM t"), 0);
	assert_int_equal(tidm_res_rows(r), 2);
	assert_int_equal(tidm_res_cols(r), 4);
	assert_string_equal(tidm_res_col_name(r, 1), "name");
	assert_int_equal(tidm_res_next(r), 1);
	assert_string_equal(tidm_res_get(r, 1), "caf\xc3\xa9");
	assert_int_equal(tidm_res_len(r, 1), 5);
	assert_int_equal(tidm_res_next(r), 1);
	assert_null(tidm_res_get(r, 1));
	assert_null(tidm_res_get(r, 9));
	assert_int_equal(tidm_res_next(r), 0);
	tidm_res_free(r);

	assert_int_equal(tidm_conn_query_value(c, &v, "SELECT VERSION()"), 0);
	assert_string_equal(v, "10.11.6-MariaDB");
	free(v);
	assert_int_equal(tidm_conn_query_value(c, &v, "SELECT NULL"), 0);
	assert_null(v);

	assert_int_equal(tidm_conn_stream_begin(c, "SELECT id, name, blob, flags FROM t"), 0);
	assert_int_equal(tidm_conn_stream_cols(c), 4);
	assert_int_equal(tidm_conn_stream_kind(c, 0), TIDM_KIND_NUMBER);
	assert_int_equal(tidm_conn_stream_kind(c, 1), TIDM_KIND_STRING);
	assert_int_equal(tidm_conn_stream_kind(c, 2), TIDM_KIND_BINARY);
	assert_int_equal(tidm_conn_stream_kind(c, 3), TIDM_KIND_BIT);
	assert_int_equal(tidm_conn_stream_next(c, &vals, &lens), 1);
	assert_string_equal(vals[0], "1");
	assert_int_equal(lens[2], 2);
	assert_int_equal(tidm_conn_stream_next(c, &vals, &lens), 1);
	assert_null(vals[1]);
	assert_int_equal(tidm_conn_stream_next(c, &vals, &lens), 0);
	tidm_conn_stream_end(c);

	assert_int_equal(tidm_conn_stream_begin(c, "SELECT d, g, dec, j FROM t"), 0);
	assert_int_equal(tidm_conn_stream_kind(c, 0), TIDM_KIND_STRING); /* charset 63, yet text */
	assert_int_equal(tidm_conn_stream_kind(c, 1), TIDM_KIND_BINARY);
	assert_int_equal(tidm_conn_stream_kind(c, 2), TIDM_KIND_NUMBER);
	assert_int_equal(tidm_conn_stream_kind(c, 3), TIDM_KIND_STRING);
	assert_int_equal(tidm_conn_stream_next(c, &vals, &lens), 0);
	/* closing with a stream still open releases it */
	tidm_conn_close(c);
}

static void test_db_conn__kill_query(void **state)
{
	static const struct fake_query q[] = {
		{.sql = "SELECT VERSION()", .ncols = 1, .nrows = 1, .vals = {{"8.0.36"}}},
		{.sql = "SELECT tidb_version()", .err = 1305, .msg = "FUNCTION tidb_version does not exist"},
		{.sql = "SELECT AURORA_VERSION()", .err = 1305, .msg = "FUNCTION aurora_version does not exist"},
		{.sql = "KILL QUERY 99", .err = 1094, .msg = "Unknown thread id: 99"},
	};
	tidm_conn_opts o = src_opts();

	(void)state;
	fake.queries = q;
	fake.nqueries = sizeof(q) / sizeof(q[0]);
	assert_int_equal(tidm_conn_kill_query(&o, 4242), 0);
	assert_string_equal(fake.sqllog[fake.nsql - 1], "KILL QUERY 4242");
	assert_int_equal(tidm_conn_kill_query(&o, 99), TIDM_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_db_conn__refused_retried_with_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__default_retries_and_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__refused_then_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__access_denied_not_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__too_many_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__other_connect_error_not_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__tls_three_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__tls_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__secure_transport_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__session_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__init_sql_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__flavor_detection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__statement_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__results, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_conn__kill_query, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
