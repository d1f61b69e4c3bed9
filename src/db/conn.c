/*
 * conn.c - MySQL-protocol connections over MariaDB Connector/C. See conn.h.
 *
 * Design:
 * - Every connection gets the same session settings right after connecting (see
 *   conn.h, "Session settings"): utf8mb4 on the wire, time_zone '+00:00', a fixed
 *   sql_mode without NO_BACKSLASH_ESCAPES/ANSI_QUOTES (db/quote.c relies on it), then the
 *   caller's init_sql. Character set choice: the server converts every text column to
 *   utf8mb4 on the way out and back to the column's charset on the way in; every character
 *   round-trips through Unicode (latin1 included: MySQL's latin1 maps all 256 bytes;
 *   bytes that are no character of their charset, e.g. cp1250 0x81, become '?'), binary
 *   columns (charsetnr 63) are never converted and are written back as hex
 *   (TIDM_KIND_BINARY). Literals in WHERE clauses then compare under the column's
 *   collation, which chunk boundaries need ("SET NAMES binary" would make them compare
 *   bytewise).
 * - Opening retries transient failures (refused, unknown host, timeout, lost, too many
 *   connections) with exponential backoff 0.5 s, 1 s, 2 s, ... capped at 8 s; access
 *   denied is never retried. The final message is the user-facing one of SPEC §6 with
 *   the raw cause in parentheses. A server that refuses plain connections
 *   (require_secure_transport=ON) is retried once over TLS without verification.
 * - Statement errors are mapped once, here, to the few codes a caller acts on
 *   (map_errno); the message names the side, a prefix of the statement and the server's
 *   message and errno. The connection's password is scrubbed from every message.
 * - No automatic reconnect: a session carries state (snapshot, transaction, session
 *   variables); after TIDM_ECONN for a lost connection the caller closes and reopens.
 */
#include "db/conn.h"
#include "db/conn_int.h"
#include "db/tlsprobe.h"
#include "db/watchdog.h"
#include "db/quote.h"

#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"
#include "util/log.h"

/* Server and client error numbers used below (mysqld_error.h / errmsg.h names). */
enum {
	ER_DISK_FULL_ = 1021,
	ER_CON_COUNT_ = 1040,
	ER_DBACCESS_DENIED_ = 1044,
	ER_ACCESS_DENIED_ = 1045,
	ER_BAD_DB_ = 1049,
	ER_DUP_ENTRY_ = 1062,
	ER_RECORD_FILE_FULL_ = 1114,
	ER_TABLEACCESS_DENIED_ = 1142,
	ER_COLUMNACCESS_DENIED_ = 1143,
	ER_NO_SUCH_TABLE_ = 1146,
	ER_LOCK_WAIT_TIMEOUT_ = 1205,
	ER_LOCK_DEADLOCK_ = 1213,
	ER_SPECIFIC_ACCESS_DENIED_ = 1227,
	ER_SP_DOES_NOT_EXIST_ = 1305,
	ER_SERVER_SHUTDOWN_ = 1053,
	ER_QUERY_INTERRUPTED_ = 1317,
	ER_CONNECTION_KILLED_ = 1927, /* MariaDB */
	ER_SECURE_TRANSPORT_REQUIRED_ = 3159, /* MySQL 5.7+ */
	/* TiDB: write conflicts, schema changed during the transaction, TiKV/PD busy */
	TIDB_WRITE_CONFLICT_ = 8005,
	TIDB_INFO_SCHEMA_CHANGED_ = 8028,
	TIDB_PD_TIMEOUT_ = 9001,
	TIDB_TIKV_TIMEOUT_ = 9002,
	TIDB_REGION_UNAVAILABLE_ = 9005,
	TIDB_WRITE_CONFLICT_TXN_ = 9007,
	CR_CONNECTION_ERROR_ = 2002,
	CR_CONN_HOST_ERROR_ = 2003,
	CR_UNKNOWN_HOST_ = 2005,
	CR_SSL_CONNECTION_ERROR_ = 2026,
	CR_SERVER_GONE_ = 2006,
	CR_SERVER_LOST_ = 2013,
	CR_SERVER_LOST_EXTENDED_ = 2055,
};

#define STMT_PREFIX_MAX 200
#define BACKOFF_FIRST_MS 500
#define BACKOFF_CAP_MS 8000

struct tidm_conn {
	MYSQL *my;
	enum tidm_role role;
	char *password; /* copy, only to scrub it from messages */
	char *host;
	unsigned port;
	tidm_server_info info;
	uint64_t affected;
	uint64_t max_packet; /* the server's max_allowed_packet; 0 = not asked yet, UINT64_MAX = unknown */
	/* streaming query state */
	MYSQL_RES *stream;
	unsigned stream_ncols;
	enum tidm_col_kind *kinds;
	/* LOAD DATA LOCAL: the buffer served to the server (NULL outside tidm_conn_load_local) */
	const char *ld_data;
	size_t ld_len, ld_off;
	tidm_wd_slot *wd; /* stalled-link watchdog (NULL: not watched) */
};

struct tidm_res {
	MYSQL_RES *r;
	MYSQL_ROW row;
	unsigned long *lens;
	unsigned ncols;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

/* mysql_library_init is not thread-safe; mysql_init calls it implicitly on first use. */
static void lib_init(void) { mysql_library_init(0, NULL, NULL); }

static const char *role_name(enum tidm_role r) { return r == TIDM_ROLE_SOURCE ? "source" : "target"; }

/* Copy `msg` into out, replacing every occurrence of the password by "***". */
static void scrub(char *out, size_t cap, const char *msg, const char *password)
{
	size_t o = 0, pl = password ? strlen(password) : 0;
	const char *p = msg;

	while (*p && o + 1 < cap) {
		if (pl >= 3 && strncmp(p, password, pl) == 0) {
			for (const char *s = "***"; *s && o + 1 < cap; s++)
				out[o++] = *s;
			p += pl;
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
}

/* Statement prefix for messages: at most STMT_PREFIX_MAX bytes, newlines flattened. */
static void stmt_prefix(char *out, size_t cap, const char *sql, size_t len)
{
	size_t n = len, i;

	if (n > STMT_PREFIX_MAX)
		n = STMT_PREFIX_MAX;
	if (n > cap - 4)
		n = cap - 4;
	for (i = 0; i < n; i++)
		out[i] = (sql[i] == '\n' || sql[i] == '\r' || sql[i] == '\t') ? ' ' : sql[i];
	if (n < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static bool is_out_of_storage(unsigned e, const char *msg)
{
	if (e == ER_DISK_FULL_ || e == ER_RECORD_FILE_FULL_)
		return true;
	return strstr(msg, "No space left on device") || strstr(msg, "Errcode: 28") ||
	       strstr(msg, "disk full") || strstr(msg, "Disk full");
}

/* Map a server/client errno to a tidm code (see conn.h). */
static int map_errno(unsigned e, const char *msg)
{
	switch (e) {
	case CR_CONNECTION_ERROR_:
	case CR_CONN_HOST_ERROR_:
	case CR_UNKNOWN_HOST_:
	case CR_SERVER_GONE_:
	case CR_SERVER_LOST_:
	case CR_SERVER_LOST_EXTENDED_:
	case ER_CON_COUNT_:
	case ER_LOCK_WAIT_TIMEOUT_:
	case ER_LOCK_DEADLOCK_:
	case ER_SERVER_SHUTDOWN_:
	case ER_CONNECTION_KILLED_:
	case TIDB_WRITE_CONFLICT_:
	case TIDB_INFO_SCHEMA_CHANGED_:
	case TIDB_PD_TIMEOUT_:
	case TIDB_TIKV_TIMEOUT_:
	case TIDB_REGION_UNAVAILABLE_:
	case TIDB_WRITE_CONFLICT_TXN_:
		return TIDM_ECONN;
	case ER_QUERY_INTERRUPTED_: /* our own KILL QUERY (tidm_conn_kill_query) */
		return TIDM_ECANCELED;
	case ER_DUP_ENTRY_:
		return TIDM_EDUPKEY;
	case ER_NO_SUCH_TABLE_:
	case ER_BAD_DB_:
		return TIDM_ENOTFOUND;
	case ER_ACCESS_DENIED_:
	case ER_DBACCESS_DENIED_:
	case ER_TABLEACCESS_DENIED_:
	case ER_COLUMNACCESS_DENIED_:
	case ER_SPECIFIC_ACCESS_DENIED_:
		return TIDM_EAUTH;
	default:
		(void)msg;
		return TIDM_ERROR;
	}
}

/* Record the error of the last statement `sql` on c; returns the mapped code. */
static int set_query_error(tidm_conn *c, const char *sql, size_t len)
{
	unsigned e = mysql_errno(c->my);
	char msg[1024], pre[STMT_PREFIX_MAX + 8];
	int code;

	scrub(msg, sizeof(msg), mysql_error(c->my), c->password);
	code = map_errno(e, msg);
	if (e == 0) {
		code = TIDM_ERROR;
		snprintf(msg, sizeof(msg), "unknown error");
	}
	stmt_prefix(pre, sizeof(pre), sql, len);
	if (is_out_of_storage(e, msg))
		return tidm_err_set_db(TIDM_ERROR, e,
				       "the %s database is out of storage; free space and resume "
				       "(statement: %s): %s (errno %u)",
				       role_name(c->role), pre, msg, e);
	if (tidm_wd_fired(c->wd))
		return tidm_err_set_db(TIDM_ECONN, e,
				       "%s query failed (statement: %s): %s (errno %u); tidm closed the link, "
				       "stalled for longer than stall-timeout",
				       role_name(c->role), pre, msg, e);
	return tidm_err_set_db(code, e, "%s query failed (statement: %s): %s (errno %u)",
			       role_name(c->role), pre, msg, e);
}

/* A TLS refusal: say what is wrong with the server's certificate (db/tlsprobe.h), after
 * Connector/C's cause. */
static void explain_tls(const tidm_conn_opts *o, char *cause, size_t cap)
{
	const char *host = o->host && *o->host ? o->host : "localhost";
	size_t used = strlen(cause);
	tidm_tls_probe pr;
	char why[256];

	if (tidm_tls_probe_run(o, &pr, why, sizeof(why)) < 0 || used + 8 >= cap)
		return;
	if (!pr.chain_ok)
		snprintf(cause + used, cap - used, "; the server's certificate (%s) is not trusted by the CA %s: %s",
			 pr.names, o->tls_ca, pr.chain_err);
	else if (!pr.host_ok)
		snprintf(cause + used, cap - used,
			 "; the server's certificate names %s, not %s: connect by one of those names, or set "
			 "tls: {verify-hostname: false} to verify the chain only",
			 pr.names, host);
}

/* The SPEC §6 message for a failed connection. */
static const char *connect_message(enum tidm_role role, unsigned e)
{
	if (role == TIDM_ROLE_TARGET)
		return "Failed to connect to the TiDB cluster using the given user and password. "
		       "Please make sure TiDB Cluster is up and can be connected to using the given "
		       "user and password.";
	if (e == ER_CON_COUNT_)
		return "Failed to connect to the source database. Please check whether the database "
		       "is available or the maximum connections have been reached.";
	return "Failed to connect to the source database using given parameters. Please make "
	       "sure the source database is up and can be connected using the given parameters.";
}

static bool connect_transient(unsigned e)
{
	switch (e) {
	case CR_CONNECTION_ERROR_:
	case CR_CONN_HOST_ERROR_:
	case CR_UNKNOWN_HOST_:
	case CR_SERVER_GONE_:
	case CR_SERVER_LOST_:
	case CR_SERVER_LOST_EXTENDED_:
	case ER_CON_COUNT_:
		return true;
	default:
		return false;
	}
}

/*
 * A server with require_secure_transport=ON refusing a plain connection: MySQL says so
 * (3159); MariaDB answers "Access denied" (1045), so that case is retried over TLS only
 * when the server offered TLS in its handshake, and a wrong password then fails twice.
 */
static bool needs_tls(unsigned e, const char *msg, bool server_ssl)
{
	return e == ER_SECURE_TRANSPORT_REQUIRED_ || strstr(msg, "insecure transport") != NULL ||
	       (e == ER_ACCESS_DENIED_ && server_ssl);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

static char *dup_or_null(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		abort();
	return d;
}

static int check_tls_file(const tidm_conn_opts *o, const char *what, const char *path)
{
	if (access(path, R_OK) != 0)
		return tidm_err_set(TIDM_EINVAL, "%s connection: TLS %s file '%s' cannot be read: %s",
				    role_name(o->role), what, path, strerror(errno));
	return 0;
}

/* Validate the TLS options: the three forms of SPEC §2, files readable. */
static int check_tls(const tidm_conn_opts *o)
{
	int rc;

	if ((o->tls_cert && *o->tls_cert) != (o->tls_key && *o->tls_key))
		return tidm_err_set(TIDM_EINVAL,
				    "%s connection: TLS needs both a client certificate and its key "
				    "(or neither)",
				    role_name(o->role));
	if (o->tls_ca && *o->tls_ca && (rc = check_tls_file(o, "CA", o->tls_ca)) < 0)
		return rc;
	if (o->tls_cert && *o->tls_cert && (rc = check_tls_file(o, "certificate", o->tls_cert)) < 0)
		return rc;
	if (o->tls_key && *o->tls_key && (rc = check_tls_file(o, "key", o->tls_key)) < 0)
		return rc;
	return 0;
}

/* Set the options of a fresh handle; force_tls: TLS without verification (retry path). */
/* pin_fp: the SHA-1 fingerprint of a certificate tlsprobe.c verified (chain only,
 * tls_no_host_check): Connector/C then accepts that certificate and no other. */
static void set_options(MYSQL *my, const tidm_conn_opts *o, bool force_tls, const char *pin_fp)
{
	unsigned ct = o->connect_timeout ? o->connect_timeout : 10;
	my_bool on = 1, off = 0;
	bool has_ca = o->tls_ca && *o->tls_ca, has_cert = o->tls_cert && *o->tls_cert;

	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	if (o->read_timeout) {
		mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &o->read_timeout);
		mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &o->read_timeout);
	}
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (has_ca)
		mysql_options(my, MYSQL_OPT_SSL_CA, o->tls_ca);
	if (has_cert) {
		mysql_options(my, MYSQL_OPT_SSL_CERT, o->tls_cert);
		mysql_options(my, MYSQL_OPT_SSL_KEY, o->tls_key);
	}
	if (o->local_infile) {
		unsigned int li = 1;
		mysql_options(my, MYSQL_OPT_LOCAL_INFILE, &li);
	}
	if (has_ca || has_cert || force_tls) {
		mysql_options(my, MYSQL_OPT_SSL_ENFORCE, &on);
		mysql_options(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, has_ca && !pin_fp ? &on : &off);
		if (pin_fp)
			mysql_options(my, MARIADB_OPT_TLS_PEER_FP, pin_fp);
	}
}

/* LOAD DATA LOCAL handlers: serve the connection's buffer, never a file. */
static int ld_init(void **ptr, const char *filename, void *userdata)
{
	tidm_conn *c = userdata;

	(void)filename;
	*ptr = c;
	return c->ld_data ? 0 : 1; /* a request the client did not make: refused */
}

static int ld_read(void *ptr, char *buf, unsigned int cap)
{
	tidm_conn *c = ptr;
	size_t n = c->ld_len - c->ld_off;

	if (n > cap)
		n = cap;
	memcpy(buf, c->ld_data + c->ld_off, n);
	c->ld_off += n;
	return (int)n;
}

static void ld_end(void *ptr) { (void)ptr; }

static int ld_error(void *ptr, char *msg, unsigned int cap)
{
	tidm_conn *c = ptr;

	snprintf(msg, cap, "%s", c->ld_data ? "LOAD DATA LOCAL failed" : "the server asked for a file the client did not offer");
	return 2000; /* CR_UNKNOWN_ERROR */
}

/* One connection attempt; on failure *err and *msg hold the cause (handle closed). */
static MYSQL *try_connect(const tidm_conn_opts *o, bool force_tls, const char *pin_fp, unsigned *err, char *msg,
			  size_t cap, bool *server_ssl)
{
	MYSQL *my = mysql_init(NULL);
	unsigned long caps = 0;

	if (!my) {
		*err = 0;
		snprintf(msg, cap, "out of memory");
		return NULL;
	}
	set_options(my, o, force_tls, pin_fp);
	if (!mysql_real_connect(my, o->host, o->user, o->password, NULL, o->port, NULL,
				(o->found_rows ? CLIENT_FOUND_ROWS : 0) |
					(o->multi_statements ? CLIENT_MULTI_STATEMENTS : 0))) {
		*err = mysql_errno(my);
		scrub(msg, cap, mysql_error(my), o->password);
		/* the handshake's capabilities stay in the handle after a failed login */
		if (mariadb_get_infov(my, MARIADB_CONNECTION_SERVER_CAPABILITIES, &caps) == 0)
			*server_ssl = (caps & CLIENT_SSL) != 0;
		mysql_close(my);
		return NULL;
	}
	return my;
}

/* Run a statement whose result is ignored, without touching the thread's error. */
static int quiet_exec(MYSQL *my, const char *sql)
{
	if (mysql_real_query(my, sql, strlen(sql)) != 0)
		return -1;
	do {
		MYSQL_RES *r = mysql_store_result(my);

		if (r)
			mysql_free_result(r);
	} while (mysql_next_result(my) == 0);
	return 0;
}

/* First value of the first row into out (cap bytes); -1 with the error left in my. */
static int quiet_value(MYSQL *my, const char *sql, char *out, size_t cap, bool *isnull)
{
	MYSQL_RES *r;
	MYSQL_ROW row;

	out[0] = '\0';
	*isnull = true;
	if (mysql_real_query(my, sql, strlen(sql)) != 0)
		return -1;
	r = mysql_store_result(my);
	if (!r)
		return mysql_errno(my) ? -1 : 0;
	row = mysql_fetch_row(r);
	if (row && mysql_num_fields(r) > 0 && row[0]) {
		snprintf(out, cap, "%s", row[0]);
		*isnull = false;
	}
	mysql_free_result(r);
	return 0;
}

/* "8.0.36-log" gives 80036: the first a.b.c at or after s; 0 when none. */
static unsigned parse_version(const char *s)
{
	unsigned a = 0, b = 0, c = 0;

	while (*s && (*s < '0' || *s > '9'))
		s++;
	if (sscanf(s, "%u.%u.%u", &a, &b, &c) < 2)
		return 0;
	if (b > 99 || c > 99)
		return 0;
	return a * 10000 + b * 100 + c;
}

/* Detect flavour and version (conn.h: tidm_server_info). */
static int detect_server(tidm_conn *c)
{
	char val[512];
	bool isnull;
	const char *t;

	if (quiet_value(c->my, "SELECT VERSION()", val, sizeof(val), &isnull) < 0)
		return set_query_error(c, "SELECT VERSION()", 16);
	{
		size_t n = strnlen(val, sizeof(c->info.version_str) - 1);

		memcpy(c->info.version_str, val, n);
		c->info.version_str[n] = '\0';
	}
	c->info.version = parse_version(val);
	if (strstr(val, "MariaDB")) {
		c->info.flavor = TIDM_FLAVOR_MARIADB;
		return 0;
	}
	if (quiet_value(c->my, "SELECT tidb_version()", val, sizeof(val), &isnull) == 0) {
		c->info.flavor = TIDM_FLAVOR_TIDB;
		/* "Release Version: v7.5.1\n..." is authoritative; else "...-TiDB-v7.5.1" */
		if ((t = strstr(val, "Release Version:")) && (c->info.version = parse_version(t)) != 0)
			return 0;
		if ((t = strstr(c->info.version_str, "TiDB-v")) && (c->info.version = parse_version(t + 6)) != 0)
			return 0;
		/* TiDB Cloud ("8.0.11-TiDB-CLOUD.202603.0"): no release number; treat as current */
		c->info.version = 80500;
		return 0;
	}
	if (mysql_errno(c->my) == CR_SERVER_GONE_ || mysql_errno(c->my) == CR_SERVER_LOST_)
		return set_query_error(c, "SELECT tidb_version()", 21);
	c->info.flavor = TIDM_FLAVOR_MYSQL;
	if (quiet_value(c->my, "SELECT AURORA_VERSION()", val, sizeof(val), &isnull) == 0 && !isnull) {
		c->info.aurora = true;
		if (quiet_value(c->my, "SELECT @@innodb_read_only", val, sizeof(val), &isnull) == 0 && !isnull)
			c->info.aurora_reader = strcmp(val, "1") == 0;
	}
	return 0;
}

/* The session settings every connection gets (documented in conn.h). */
static int session_setup(tidm_conn *c, const tidm_conn_opts *o)
{
	static const char *common[] = {
		"SET NAMES utf8mb4",
		"SET SESSION time_zone = '+00:00'",
		"SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'",
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if ((rc = tidm_conn_exec(c, common[i], strlen(common[i]))) < 0)
			return rc;
	if (o->role == TIDM_ROLE_SOURCE) {
		/* a streaming reader may pause between rows while the target catches up */
		if (quiet_exec(c->my, "SET SESSION net_write_timeout = 3600") < 0)
			tidm_debug("source: cannot raise net_write_timeout: %s", mysql_error(c->my));
	} else {
		if ((rc = tidm_conn_exec(c, "SET SESSION foreign_key_checks = 0", 34)) < 0)
			return rc;
	}
	if (o->init_sql && *o->init_sql && (rc = tidm_conn_exec(c, o->init_sql, strlen(o->init_sql))) < 0)
		return rc;
	return 0;
}

int tidm_conn_open(tidm_conn **out, const tidm_conn_opts *o)
{
	unsigned attempts = o->retries ? o->retries : 5, n, e = 0, delay = BACKOFF_FIRST_MS;
	bool force_tls = false, tls_retried = false;
	char cause[1024], pin_fp[64] = "";
	MYSQL *my = NULL;
	tidm_conn *c;
	int rc;

	*out = NULL;
	pthread_once(&lib_once, lib_init);
	if ((rc = check_tls(o)) < 0)
		return rc;
	if (o->tls_cert && *o->tls_cert && !(o->tls_ca && *o->tls_ca))
		tidm_warn("%s connection: TLS with a client certificate but no CA: the server "
			  "certificate is not verified",
			  role_name(o->role));

	if (o->tls_no_host_check && o->tls_ca && *o->tls_ca) {
		/* the chain alone is checked here; the connection then takes only that certificate */
		tidm_tls_probe pr;
		char why[256];
		if (tidm_tls_probe_run(o, &pr, why, sizeof(why)) == 0) {
			if (!pr.chain_ok)
				return tidm_err_set(TIDM_ERROR,
						    "%s (host %s:%u: the server's certificate is not trusted by the CA %s: %s)",
						    connect_message(o->role, 0), o->host ? o->host : "localhost", o->port,
						    o->tls_ca, pr.chain_err);
			snprintf(pin_fp, sizeof(pin_fp), "%s", pr.sha1);
		} else {
			tidm_debug("%s: TLS probe of %s:%u failed (%s); verifying the host name as well",
				   role_name(o->role), o->host ? o->host : "localhost", o->port, why);
		}
	}
	for (n = 1;; n++) {
		bool server_ssl = false;

		my = try_connect(o, force_tls, pin_fp[0] ? pin_fp : NULL, &e, cause, sizeof(cause), &server_ssl);
		if (my)
			break;
		if (!tls_retried && needs_tls(e, cause, server_ssl) && !(o->tls_ca && *o->tls_ca) &&
		    !(o->tls_cert && *o->tls_cert)) {
			tidm_debug("%s connection refused without TLS (errno %u); retrying over TLS",
				   role_name(o->role), e);
			force_tls = tls_retried = true;
			n--;
			continue;
		}
		if (!connect_transient(e) || n >= attempts)
			break;
		tidm_info("%s connection to %s:%u failed (%s, errno %u); retry %u/%u in %u ms",
			  role_name(o->role), o->host ? o->host : "localhost", o->port, cause, e, n,
			  attempts - 1, delay);
		sleep_ms(delay);
		delay = delay * 2 > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : delay * 2;
	}
	if (!my && o->tls_ca && *o->tls_ca && e == CR_SSL_CONNECTION_ERROR_)
		explain_tls(o, cause, sizeof(cause));
	if (!my) {
		int code = e == ER_ACCESS_DENIED_ ? TIDM_EAUTH : connect_transient(e) ? TIDM_ECONN : TIDM_ERROR;

		return tidm_err_set_db(code, e, "%s (host %s:%u: %s, errno %u)", connect_message(o->role, e),
				       o->host ? o->host : "localhost", o->port, cause, e);
	}

	if (force_tls)
		tidm_warn("%s connection: the server requires TLS and none is configured; connected "
			  "over TLS, the server certificate is not verified",
			  role_name(o->role));
	c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->my = my;
	c->role = o->role;
	c->password = dup_or_null(o->password);
	c->host = dup_or_null(o->host);
	c->port = o->port;
	if (o->local_infile)
		mysql_set_local_infile_handler(my, ld_init, ld_read, ld_end, ld_error, c);
	if ((rc = session_setup(c, o)) < 0 || (rc = detect_server(c)) < 0) {
		tidm_err_prefix("%s connection to %s:%u: ", role_name(o->role), o->host ? o->host : "localhost",
				o->port);
		tidm_conn_close(c);
		return rc;
	}
	if (o->stall_timeout)
		c->wd = tidm_wd_register(o, (int)mysql_get_socket(my), mysql_thread_id(my));
	tidm_debug("%s connected to %s:%u (%s, thread %lu)", role_name(o->role), o->host ? o->host : "localhost",
		   o->port, c->info.version_str, mysql_thread_id(my));
	*out = c;
	return 0;
}

void tidm_conn_close(tidm_conn *c)
{
	if (!c)
		return;
	tidm_conn_stream_end(c);
	tidm_wd_unregister(c->wd); /* before the socket closes: its number may be reused */
	mysql_close(c->my);
	if (c->password) {
		memset(c->password, 0, strlen(c->password));
		free(c->password);
	}
	free(c->host);
	free(c);
}

const tidm_server_info *tidm_conn_info(const tidm_conn *c) { return &c->info; }

/* db-private accessors (db/conn_int.h) */
MYSQL *tidm_conn_handle(tidm_conn *c) { return c->my; }

const char *tidm_conn_password(const tidm_conn *c) { return c->password; }

unsigned long tidm_conn_thread_id(const tidm_conn *c) { return mysql_thread_id(c->my); }

/*
 * A statement larger than the server's max_allowed_packet is refused by the server, which
 * then closes the connection: the client sees "server has gone away", which would be
 * retried forever as a lost link. Such a statement is refused here instead, as what it
 * is. The server's value is asked once per connection, at the first statement of 64 KiB
 * or more (smaller ones fit any server: its minimum is 1 KiB, defaults are 16-64 MiB, and
 * a value below 64 KiB is not a setting anyone runs).
 */
#define PACKET_CHECK_FROM (64u << 10)

static int check_packet(tidm_conn *c, size_t len)
{
	char val[32];
	bool isnull;

	if (len < PACKET_CHECK_FROM)
		return 0;
	if (!c->max_packet) {
		c->max_packet = UINT64_MAX;
		if (quiet_value(c->my, "SELECT @@max_allowed_packet", val, sizeof(val), &isnull) == 0 && !isnull)
			c->max_packet = strtoull(val, NULL, 10) ? strtoull(val, NULL, 10) : UINT64_MAX;
		else if (mysql_errno(c->my))
			return set_query_error(c, "SELECT @@max_allowed_packet", 27);
	}
	/* the packet holds the command byte and the statement */
	if ((uint64_t)len + 1 <= c->max_packet)
		return 0;
	return tidm_err_set(TIDM_ERROR,
			    "a statement of %zu bytes is larger than the %s's max_allowed_packet (%llu bytes); raise "
			    "max_allowed_packet on the %s (SET GLOBAL max_allowed_packet = ..., and in its configuration "
			    "file) to more than the largest row, then run the same command again",
			    len, role_name(c->role), (unsigned long long)c->max_packet, role_name(c->role));
}

uint64_t tidm_conn_max_packet(const tidm_conn *c) { return c->max_packet == UINT64_MAX ? 0 : c->max_packet; }

static int raw_exec_multi(tidm_conn *c, const char *sql, size_t len, uint64_t *affected, size_t n, size_t *failed)
{
	size_t i = 0, failed_at = 0;
	int rc;

	if (!failed)
		failed = &failed_at;
	*failed = 0;
	if ((rc = check_packet(c, len)) < 0)
		return rc;
	if (mysql_real_query(c->my, sql, len) != 0)
		return set_query_error(c, sql, len);
	c->affected = 0;
	for (;;) {
		MYSQL_RES *r = mysql_store_result(c->my);
		int nr;

		if (r)
			mysql_free_result(r);
		else if (mysql_field_count(c->my) != 0) {
			*failed = i;
			return set_query_error(c, sql, len);
		} else
			c->affected += mysql_affected_rows(c->my);
		if (i < n)
			affected[i] = r ? 0 : mysql_affected_rows(c->my);
		i++;
		nr = mysql_next_result(c->my);
		if (nr > 0) {
			*failed = i;
			return set_query_error(c, sql, len);
		}
		if (nr < 0)
			break;
	}
	return 0;
}

static int raw_load_local(tidm_conn *c, const char *sql, size_t len, const char *data, size_t n,
			 tidm_load_counts *counts)
{
	const char *info;
	unsigned long long rec, del, skip, warn;
	int rc = 0;

	memset(counts, 0, sizeof(*counts));
	c->ld_data = data ? data : "";
	c->ld_len = data ? n : 0;
	c->ld_off = 0;
	if (mysql_real_query(c->my, sql, len) != 0)
		rc = set_query_error(c, sql, len);
	c->ld_data = NULL;
	if (rc < 0)
		return rc;
	c->affected = mysql_affected_rows(c->my);
	info = mysql_info(c->my);
	if (info && sscanf(info, "Records: %llu Deleted: %llu Skipped: %llu Warnings: %llu", &rec, &del, &skip,
			   &warn) == 4) {
		counts->known = true;
		counts->records = rec;
		counts->deleted = del;
		counts->skipped = skip;
		counts->warnings = warn;
	} else {
		counts->warnings = mysql_warning_count(c->my);
	}
	return 0;
}

int tidm_conn_exec(tidm_conn *c, const char *sql, size_t len)
{
	return tidm_conn_exec_multi(c, sql, len, NULL, 0, NULL);
}

int tidm_conn_execf(tidm_conn *c, const char *fmt, ...)
{
	tidm_buf b = TIDM_BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	tidm_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	rc = tidm_conn_exec(c, b.data ? b.data : "", b.len);
	tidm_buf_dispose(&b);
	return rc;
}

uint64_t tidm_conn_affected(const tidm_conn *c) { return c->affected; }

static int raw_query(tidm_conn *c, tidm_res **out, const char *sql)
{
	size_t len = strlen(sql);
	tidm_res *r;
	MYSQL_RES *mr;

	*out = NULL;
	if (mysql_real_query(c->my, sql, len) != 0)
		return set_query_error(c, sql, len);
	mr = mysql_store_result(c->my);
	if (!mr && mysql_field_count(c->my) != 0)
		return set_query_error(c, sql, len);
	/* drop any further result sets (CALL) so the connection stays usable */
	while (mysql_more_results(c->my) && mysql_next_result(c->my) == 0) {
		MYSQL_RES *extra = mysql_store_result(c->my);

		if (extra)
			mysql_free_result(extra);
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	r->r = mr;
	r->ncols = mr ? mysql_num_fields(mr) : 0;
	*out = r;
	return 0;
}

int tidm_conn_queryf(tidm_conn *c, tidm_res **out, const char *fmt, ...)
{
	tidm_buf b = TIDM_BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	tidm_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	rc = tidm_conn_query(c, out, b.data ? b.data : "");
	tidm_buf_dispose(&b);
	return rc;
}

size_t tidm_res_rows(const tidm_res *r) { return r->r ? (size_t)mysql_num_rows(r->r) : 0; }

unsigned tidm_res_cols(const tidm_res *r) { return r->ncols; }

int tidm_res_next(tidm_res *r)
{
	if (!r->r)
		return 0;
	r->row = mysql_fetch_row(r->r);
	if (!r->row) {
		r->lens = NULL;
		return 0;
	}
	r->lens = mysql_fetch_lengths(r->r);
	return 1;
}

const char *tidm_res_get(const tidm_res *r, unsigned col)
{
	if (!r->row || col >= r->ncols)
		return NULL;
	return r->row[col];
}

size_t tidm_res_len(const tidm_res *r, unsigned col)
{
	if (!r->row || !r->lens || col >= r->ncols)
		return 0;
	return r->lens[col];
}

const char *tidm_res_col_name(const tidm_res *r, unsigned col)
{
	if (!r->r || col >= r->ncols)
		return NULL;
	return mysql_fetch_fields(r->r)[col].name;
}

void tidm_res_free(tidm_res *r)
{
	if (!r)
		return;
	if (r->r)
		mysql_free_result(r->r);
	free(r);
}

int tidm_conn_query_value(tidm_conn *c, char **out, const char *sql)
{
	tidm_res *r;
	int rc;

	*out = NULL;
	if ((rc = tidm_conn_query(c, &r, sql)) < 0)
		return rc;
	if (tidm_res_next(r) == 1 && r->ncols > 0 && tidm_res_get(r, 0)) {
		size_t n = tidm_res_len(r, 0);

		*out = malloc(n + 1);
		if (!*out)
			abort();
		memcpy(*out, tidm_res_get(r, 0), n);
		(*out)[n] = '\0';
	}
	tidm_res_free(r);
	return 0;
}

/* How a column's values are written back as SQL (conn.h: enum tidm_col_kind). */
static enum tidm_col_kind col_kind(const MYSQL_FIELD *f)
{
	switch (f->type) {
	case MYSQL_TYPE_DECIMAL:
	case MYSQL_TYPE_NEWDECIMAL:
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
	case MYSQL_TYPE_YEAR:
		return TIDM_KIND_NUMBER;
	case MYSQL_TYPE_BIT:
		return TIDM_KIND_BIT;
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_TINY_BLOB:
	case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_GEOMETRY:
		/* temporal types also report charset 63, so only string types are checked */
		return f->charsetnr == 63 ? TIDM_KIND_BINARY : TIDM_KIND_STRING;
	default:
		/* dates, times, JSON, ENUM/SET: text in the connection charset */
		return TIDM_KIND_STRING;
	}
}

static int raw_stream_begin(tidm_conn *c, const char *sql)
{
	size_t len = strlen(sql);
	MYSQL_FIELD *f;
	unsigned i;

	tidm_conn_stream_end(c);
	if (mysql_real_query(c->my, sql, len) != 0)
		return set_query_error(c, sql, len);
	c->stream = mysql_use_result(c->my);
	if (!c->stream) {
		if (mysql_errno(c->my))
			return set_query_error(c, sql, len);
		return tidm_err_set(TIDM_ERROR, "%s: streaming statement returned no result set",
				    role_name(c->role));
	}
	c->stream_ncols = mysql_num_fields(c->stream);
	c->kinds = calloc(c->stream_ncols ? c->stream_ncols : 1, sizeof(*c->kinds));
	if (!c->kinds)
		abort();
	f = mysql_fetch_fields(c->stream);
	for (i = 0; i < c->stream_ncols; i++)
		c->kinds[i] = col_kind(&f[i]);
	return 0;
}

unsigned tidm_conn_stream_cols(const tidm_conn *c) { return c->stream ? c->stream_ncols : 0; }

enum tidm_col_kind tidm_conn_stream_kind(const tidm_conn *c, unsigned col)
{
	if (!c->stream || col >= c->stream_ncols)
		return TIDM_KIND_STRING;
	return c->kinds[col];
}

static int raw_stream_next(tidm_conn *c, const char *const **vals, const unsigned long **lens)
{
	MYSQL_ROW row;

	if (!c->stream)
		return tidm_err_set(TIDM_ERROR, "%s: no streaming query in progress", role_name(c->role));
	row = mysql_fetch_row(c->stream);
	if (!row) {
		if (mysql_errno(c->my))
			return set_query_error(c, "(reading rows of a streaming query)", 35);
		return 0;
	}
	*vals = (const char *const *)row;
	*lens = mysql_fetch_lengths(c->stream);
	return 1;
}

void tidm_conn_stream_end(tidm_conn *c)
{
	if (c->stream) {
		/* frees the rows not yet read, which Connector/C drains from the socket */
		tidm_wd_busy(c->wd, "(dropping the rest of a streaming query)", 40);
		mysql_free_result(c->stream);
		tidm_wd_idle(c->wd);
		c->stream = NULL;
	}
	free(c->kinds);
	c->kinds = NULL;
	c->stream_ncols = 0;
}

/* ---- the public statement calls: each wait on the server is watched (db/watchdog.h) --- */

int tidm_conn_exec_multi(tidm_conn *c, const char *sql, size_t len, uint64_t *affected, size_t n, size_t *failed)
{
	int rc;

	tidm_wd_busy(c->wd, sql, len);
	rc = raw_exec_multi(c, sql, len, affected, n, failed);
	tidm_wd_idle(c->wd);
	return rc;
}

int tidm_conn_load_local(tidm_conn *c, const char *sql, size_t len, const char *data, size_t n,
			 tidm_load_counts *counts)
{
	int rc;

	tidm_wd_busy(c->wd, sql, len);
	rc = raw_load_local(c, sql, len, data, n, counts);
	tidm_wd_idle(c->wd);
	return rc;
}

int tidm_conn_query(tidm_conn *c, tidm_res **out, const char *sql)
{
	int rc;

	tidm_wd_busy(c->wd, sql, strlen(sql));
	rc = raw_query(c, out, sql);
	tidm_wd_idle(c->wd);
	return rc;
}

int tidm_conn_stream_begin(tidm_conn *c, const char *sql)
{
	int rc;

	tidm_conn_stream_end(c);
	tidm_wd_busy(c->wd, sql, strlen(sql));
	rc = raw_stream_begin(c, sql);
	tidm_wd_idle(c->wd);
	return rc;
}

int tidm_conn_stream_next(tidm_conn *c, const char *const **vals, const unsigned long **lens)
{
	int rc;

	tidm_wd_busy(c->wd, "(reading rows of a streaming query)", 35);
	rc = raw_stream_next(c, vals, lens);
	tidm_wd_idle(c->wd);
	return rc;
}

int tidm_conn_begin(tidm_conn *c) { return tidm_conn_exec(c, "BEGIN", 5); }

int tidm_conn_commit(tidm_conn *c) { return tidm_conn_exec(c, "COMMIT", 6); }

int tidm_conn_rollback(tidm_conn *c) { return tidm_conn_exec(c, "ROLLBACK", 8); }

int tidm_conn_kill_query(const tidm_conn_opts *o, unsigned long thread_id)
{
	tidm_conn_opts k = *o;
	tidm_conn *c;
	int rc;

	k.retries = 2;
	k.init_sql = NULL;
	if ((rc = tidm_conn_open(&c, &k)) < 0)
		return rc;
	/* TiDB before 6.1 (no global kill) needs its own spelling */
	if (c->info.flavor == TIDM_FLAVOR_TIDB && c->info.version < 60100)
		rc = tidm_conn_execf(c, "KILL TIDB QUERY %lu", thread_id);
	else
		rc = tidm_conn_execf(c, "KILL QUERY %lu", thread_id);
	if (rc < 0 && tidm_err_dberr() == 1094) /* unknown thread: it has finished */
		rc = TIDM_ENOTFOUND;
	tidm_conn_close(c);
	return rc;
}

void tidm_conn_put_literal(tidm_buf *b, enum tidm_col_kind kind, const char *v, size_t n)
{
	if (!v) {
		tidm_buf_puts(b, "NULL");
		return;
	}
	if (kind == TIDM_KIND_NUMBER) {
		tidm_buf_put(b, v, n);
		return;
	}
	if (kind == TIDM_KIND_STRING)
		tidm_buf_puts(b, "_utf8mb4 ");
	tidm_quote_hex(b, v, n);
}

int tidm_conn_first_row_literals(tidm_conn *c, const char *sql, tidm_buf *out)
{
	const char *const *vals;
	const unsigned long *lens;
	int got, rc;

	if ((rc = tidm_conn_stream_begin(c, sql)) < 0)
		return rc;
	got = tidm_conn_stream_next(c, &vals, &lens);
	if (got == 1)
		for (unsigned col = 0; col < tidm_conn_stream_cols(c); col++) {
			if (col)
				tidm_buf_putc(out, ',');
			tidm_conn_put_literal(out, tidm_conn_stream_kind(c, col), vals[col], lens[col]);
		}
	rc = got;
	while (got == 1)
		got = tidm_conn_stream_next(c, &vals, &lens);
	tidm_conn_stream_end(c);
	return got < 0 ? got : rc;
}
