/*
 * conn.h - a connection to a MySQL-protocol server (source or target). The only module
 * that calls libmariadb.
 *
 * One owner thread per connection. Errors set the thread's last error (util/err.h) with
 * the user-facing message of SPEC §6 for connection failures, and the server's errno as
 * the raw cause. Transient failures (connection refused/lost, too many connections,
 * lock wait timeout, deadlock) map to TIDM_ECONN; access denied to TIDM_EAUTH.
 *
 * Error codes of statements: lost connection (2006/2013/2055, 1053, 1927), deadlock
 * (1213), lock wait timeout (1205) and TiDB's retryable 8005/8028/9001/9002/9005/9007 →
 * TIDM_ECONN (retry the transaction; after a lost connection close and reopen: there is
 * no automatic reconnect); interrupted by KILL QUERY (1317) → TIDM_ECANCELED; duplicate key (1062) → TIDM_EDUPKEY; unknown table/database
 * (1146/1049) → TIDM_ENOTFOUND; privilege errors (1044/1045/1142/1143/1227) → TIDM_EAUTH;
 * out of storage (1021, 1114, ENOSPC) → TIDM_ERROR with a message saying the database is
 * out of storage; anything else TIDM_ERROR. The message names the side, the first 200
 * bytes of the statement, the server's message and errno; tidm_err_dberr() gives the
 * errno. A password never appears in a message.
 *
 * Opening: transient failures (refused, unknown host, timeout, too many connections) are
 * retried `retries` times with backoff 0.5 s, 1 s, 2 s ... (capped at 8 s), then fail with
 * TIDM_ECONN and the SPEC §6 message followed by the raw cause, e.g.
 *   "Failed to connect to the source database using given parameters. ... (host
 *    127.0.0.1:1: Can't connect to server on '127.0.0.1' (111), errno 2002)".
 * Access denied is not retried (TIDM_EAUTH). TLS files that cannot be read, or a cert
 * without its key → TIDM_EINVAL naming the file. When no TLS is configured and the server
 * requires secure transport, the connection is retried once over TLS without
 * verification (warned).
 *
 * Session settings, applied to every connection right after connecting, before
 * opts.init_sql:
 *   SET NAMES utf8mb4                 values travel as utf8mb4 and the server converts to
 *                                     and from each column's charset: exact for every
 *                                     character (checked: all 256 latin1 bytes); bytes that
 *                                     are no character of the column's charset (cp1250
 *                                     0x81, invalid UTF-8) are not preserved. Binary
 *                                     columns are not converted and are reported as
 *                                     TIDM_KIND_BINARY (write them as hex). Literals then
 *                                     compare under the column's collation (chunk ranges);
 *   time_zone = '+00:00'              TIMESTAMP values are read and written as UTC;
 *   sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'
 *                                     no NO_BACKSLASH_ESCAPES (db/quote.h relies on it), no
 *                                     ANSI_QUOTES, no strict/zero-date modes: zero dates and
 *                                     0 in AUTO_INCREMENT columns copy as they are;
 *   source only: net_write_timeout = 3600 (a streaming reader may be slow; best effort);
 *   target only: foreign_key_checks = 0 (tables load in any order, in parallel).
 * Connections are used by one thread at a time; different connections on different
 * threads are independent.
 *
 * Stalled links (opts.stall_timeout, db/watchdog.c): a statement call that has waited on
 * the server for stall_timeout seconds is looked into from a new connection of the same
 * user (information_schema.PROCESSLIST, by thread id). A session the server still runs a
 * statement for (a long ALTER, a lock wait) is left alone and looked at again a period
 * later; a session that is idle, gone, or a server that does not answer a new connection
 * either, means the link is stalled: the socket is shut down, the call fails with the
 * lost-connection error (TIDM_ECONN, retried like any lost link) and a WARN names the link
 * and the statement. No read timeout is set for this: a long statement is never cut.
 */
#ifndef TIDM_DB_CONN_H
#define TIDM_DB_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef struct tidm_conn tidm_conn;

enum tidm_role { TIDM_ROLE_SOURCE, TIDM_ROLE_TARGET };

enum tidm_flavor { TIDM_FLAVOR_MYSQL, TIDM_FLAVOR_MARIADB, TIDM_FLAVOR_TIDB };

typedef struct tidm_conn_opts {
	enum tidm_role role;
	const char *host;
	unsigned port;
	const char *user;
	const char *password;
	const char *tls_ca;   /* CA only: verify the server */
	const char *tls_cert; /* cert+key only: client auth, server not verified (warned) */
	const char *tls_key;
	bool tls_no_host_check;   /* with tls_ca: the chain is verified, not the host name
				   * (`tls: {verify-hostname: false}`; db/tlsprobe.h) */
	unsigned connect_timeout; /* seconds; 0 = 10 */
	unsigned read_timeout;    /* seconds; 0 = none */
	unsigned stall_timeout;   /* seconds; 0 = not watched. See "Stalled links" above. */
	unsigned retries;         /* attempts for transient errors; 0 = 5 */
	const char *init_sql;     /* optional statement run after the session settings above */
	bool found_rows;          /* affected rows of an UPDATE count matched rows (CLIENT_FOUND_ROWS) */
	bool multi_statements;    /* allow "stmt1; stmt2" in one exec (CLIENT_MULTI_STATEMENTS) */
	bool local_infile;        /* allow tidm_conn_load_local (the client only ever sends the
				   * buffer given there, never a file the server names) */
} tidm_conn_opts;

typedef struct tidm_server_info {
	enum tidm_flavor flavor;
	unsigned version;         /* e.g. 80036, 101106 */
	char version_str[96];
	bool aurora;
	bool aurora_reader;
	bool tidb_pitr_active;    /* unknown = false */
} tidm_server_info;

int tidm_conn_open(tidm_conn **out, const tidm_conn_opts *o);
void tidm_conn_close(tidm_conn *c);
/* Server flavour/version, detected at open (SELECT VERSION(), tidb_version(), aurora_version()). */
const tidm_server_info *tidm_conn_info(const tidm_conn *c);
/* Thread id of the session (for KILL QUERY). */
unsigned long tidm_conn_thread_id(const tidm_conn *c);

/* Run a statement that returns no rows (or discard them). A statement larger than the
 * server's max_allowed_packet (asked once per connection, at the first statement of 64 KiB
 * or more) is not sent: TIDM_ERROR saying both sizes (the server would close the
 * connection, which looks like a lost link). */
int tidm_conn_exec(tidm_conn *c, const char *sql, size_t len);
/* The server's max_allowed_packet once learned by the check above; 0 = not known. */
uint64_t tidm_conn_max_packet(const tidm_conn *c);
int tidm_conn_execf(tidm_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Run a script of `n` statements separated by ';' in one round trip (the connection must
 * be opened with multi_statements). affected[i] receives the rows changed by statement i.
 * On failure the statements after the failing one did not run; *failed is its index.
 */
int tidm_conn_exec_multi(tidm_conn *c, const char *sql, size_t len, uint64_t *affected, size_t n, size_t *failed);
/*
 * LOAD DATA LOCAL INFILE from memory (the connection must be opened with local_infile):
 * `sql` is the statement; whatever file it names, the client sends `data` (n bytes).
 * On success *counts holds the server's report. A server that does not allow it fails
 * with errno 1148 or 3948 (tidm_err_dberr()).
 */
typedef struct tidm_load_counts {
	bool known;        /* the server reported "Records: .. Deleted: .. Skipped: .. Warnings: .." */
	uint64_t records;  /* rows read from the data */
	uint64_t deleted;  /* rows replaced (REPLACE) */
	uint64_t skipped;  /* rows not loaded (duplicates without REPLACE) */
	uint64_t warnings;
} tidm_load_counts;
int tidm_conn_load_local(tidm_conn *c, const char *sql, size_t len, const char *data, size_t n,
			 tidm_load_counts *counts);

/* Rows changed by the last exec. */
uint64_t tidm_conn_affected(const tidm_conn *c);

/*
 * Buffered query: the whole result is read. Row access is valid until tidm_res_free().
 */
typedef struct tidm_res tidm_res;
int tidm_conn_query(tidm_conn *c, tidm_res **out, const char *sql);
int tidm_conn_queryf(tidm_conn *c, tidm_res **out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
size_t tidm_res_rows(const tidm_res *r);
unsigned tidm_res_cols(const tidm_res *r);
/* Next row: 1 = row, 0 = end. Values are NUL-terminated; NULL for SQL NULL. */
int tidm_res_next(tidm_res *r);
const char *tidm_res_get(const tidm_res *r, unsigned col);
size_t tidm_res_len(const tidm_res *r, unsigned col);
const char *tidm_res_col_name(const tidm_res *r, unsigned col);
void tidm_res_free(tidm_res *r);
/* First column of the first row as a malloc'd string (NULL result → *out = NULL). */
int tidm_conn_query_value(tidm_conn *c, char **out, const char *sql);

/*
 * Streaming query (unbuffered): rows are read one at a time; the connection can run
 * nothing else until tidm_conn_stream_end(). Per column the kind tells how to write the
 * value back as SQL.
 */
enum tidm_col_kind { TIDM_KIND_NUMBER, TIDM_KIND_STRING, TIDM_KIND_BINARY, TIDM_KIND_BIT };
int tidm_conn_stream_begin(tidm_conn *c, const char *sql);
unsigned tidm_conn_stream_cols(const tidm_conn *c);
enum tidm_col_kind tidm_conn_stream_kind(const tidm_conn *c, unsigned col);
/* 1 = row in (*vals,*lens), 0 = end, <0 error. vals[i]==NULL is SQL NULL. */
int tidm_conn_stream_next(tidm_conn *c, const char *const **vals, const unsigned long **lens);
void tidm_conn_stream_end(tidm_conn *c);
/* Append the SQL literal of one streamed value of `kind`: NULL (v NULL), a number as is,
 * text as _utf8mb4 X'..', bytes and bits as X'..' (never a comma: lists of them split by
 * tidm_literal_split, db/quote.h). */
void tidm_conn_put_literal(tidm_buf *b, enum tidm_col_kind kind, const char *v, size_t n);
/* Streams `sql` and appends its first row to `out` as comma-separated literals
 * (tidm_conn_put_literal); further rows are read and dropped. 1 = a row, 0 = none, <0 error. */
int tidm_conn_first_row_literals(tidm_conn *c, const char *sql, tidm_buf *out);

/* Transactions. */
int tidm_conn_begin(tidm_conn *c);
int tidm_conn_commit(tidm_conn *c);
int tidm_conn_rollback(tidm_conn *c);

/* Ask the server to stop the statement running on `thread_id` (opens its own connection). */
int tidm_conn_kill_query(const tidm_conn_opts *o, unsigned long thread_id);

#endif
