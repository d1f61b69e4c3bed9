/*
 * fake_primary.c - a scripted fake MySQL 8.0.36 primary for replication tests
 * (tidm_fake_primary, test-only; not part of tidm).
 *
 *   tidm_fake_primary --binlog FILE [--port N] [--user U] [--password-env VAR]
 *                     [--fail-purged] [--stall] [--name NAME] [--server-version V]
 *                     [--rename-db FROM=TO] [--answers FILE] [--misbehave MODE [--misbehave-once]]
 *
 * Listens on 127.0.0.1:N (0 or absent: a free port) and prints the port on stdout, one
 * line, as soon as it listens. Serves clients concurrently (a thread each), forever (kill
 * it to stop).
 *
 * Protocol: handshake v10 with mysql_native_password (the scramble is verified against
 * the configured password; a wrong one gets error 1045), then:
 *   COM_QUERY: first the --answers FILE (below), then:
 *     SET ... -> OK (the heartbeat period and the declared checksum are noted);
 *     SELECT VERSION() -> the variable version (8.0.36); tidb_version()/AURORA_VERSION()
 *     -> error 1305; @master_binlog_checksum -> what the client declared;
 *     SHOW MASTER STATUS / SHOW BINARY LOG STATUS -> (NAME, size of FILE, "", "",
 *     gtid_executed); SHOW BINARY LOGS -> (NAME, size, No); then the built-in answers of
 *     fake_answers.c:
 *     - SHOW [GLOBAL|SESSION] VARIABLES [LIKE 'p' | WHERE Variable_name IN ('a',...) /
 *       = 'a' / LIKE 'p', joined by OR] -> (Variable_name, Value), sorted, filtered, from
 *       a MySQL 8.0.36 list (fake_answers.c builtin_vars: server_id 1, log_bin ON,
 *       binlog_format ROW, binlog_row_image FULL, binlog_expire_logs_seconds 2592000,
 *       expire_logs_days 0, gtid_mode ON, enforce_gtid_consistency ON, max_connections
 *       151, lower_case_table_names 0, sql_mode, time_zone SYSTEM, system_time_zone UTC,
 *       basedir /usr/, utf8mb4 / utf8mb4_0900_ai_ci, log_replica_updates ON,
 *       binlog_transaction_compression OFF, version_comment "MySQL Community Server -
 *       GPL", ...; binlog_checksum, gtid_executed, gtid_purged from FILE, version from
 *       --server-version);
 *     - SELECT @@[GLOBAL.|SESSION.]x [[AS] a], ... [LIMIT n] -> one row from the same list
 *       (ON/OFF variables as 1/0, as MySQL does), columns named as typed or by the alias;
 *       an unknown one -> error 1193 "Unknown system variable 'x'";
 *     - SHOW [GLOBAL] STATUS [filters as above] -> Threads_connected 1, Uptime 86400, ...;
 *     - SHOW GRANTS [FOR CURRENT_USER[()]] -> "GRANT ALL PRIVILEGES ON *.* TO `U`@`%` WITH
 *       GRANT OPTION" (column "Grants for U@%");
 *     - SHOW DATABASES -> information_schema, mysql, performance_schema, sys;
 *     - SELECT list FROM information_schema.T (TABLES, COLUMNS, STATISTICS, SCHEMATA,
 *       TRIGGERS, ROUTINES, EVENTS, COLLATIONS, ENGINES, VIEWS, PARTITIONS, KEY_COLUMN_USAGE,
 *       TABLE_CONSTRAINTS, ... *_PRIVILEGES) -> no rows, columns named from the select list
 *       (alias, last part of a column name, else the expression's text); aggregates
 *       (COUNT -> 0, SUM/MIN/MAX/... -> NULL) without GROUP BY give their one row. `*` is
 *       error 1064 (script it);
 *     anything else -> error 1064 "tidm fake primary does not answer this statement: ...".
 *
 *   --answers FILE: canned answers, tried before all of the above, first match wins. One
 *   directive a line; blank lines and lines starting with # are ignored:
 *     query: TEXT      the statement starts with TEXT (both whitespace-collapsed, trailing
 *                      ';' dropped, case-insensitive)
 *     query= TEXT      the whole statement is TEXT (same comparison)
 *     query~ REGEX     POSIX extended regex, case-insensitive, against the collapsed statement
 *       (several query lines in a row: one entry answering any of them), then ONE answer:
 *     columns: A<TAB>B       a result set with these columns (tab-separated), then
 *     row: 1<TAB>x           zero or more rows of as many fields; \N alone = NULL,
 *                            \t \n \\ escapes. columns| A | B  and  row| 1 | x  split at '|'
 *                            and trim spaces instead.
 *     error: CODE [#SQLSTATE] MESSAGE   an error (SQLSTATE defaults by code: 1227 42000,
 *                            1142 42000, 1045 28000, 1146 42S02, ..., else HY000)
 *     ok  /  ok: N           an OK packet (N affected rows, default 0)
 *     close                  drop the connection without an answer
 *     sleep: MS              (in an entry) wait MS milliseconds before answering
 *   and, between entries, changes to the built-in lists (they affect SHOW VARIABLES, SELECT
 *   @@GLOBAL.x and @@x alike; SELECT VERSION() and the handshake follow "version"):
 *     set-var: NAME VALUE    set or add a variable (VALUE: rest of the line; \N = NULL;
 *                            ON/OFF/1/0 for boolean ones; log_slave_updates and
 *                            log_replica_updates move together)
 *     unset-var: NAME        remove one (SELECT @@NAME -> error 1193; e.g. MySQL 8.4's
 *                            expire_logs_days)
 *     set-status: NAME VALUE set or add a SHOW GLOBAL STATUS value
 *   A malformed file: "tidm_fake_primary: FILE:LINE: what", exit 2. Each scripted answer
 *   is logged on stderr as "FILE:LINE answers: STATEMENT".
 *   COM_PING, COM_REGISTER_SLAVE -> OK; COM_QUIT.
 *   COM_BINLOG_DUMP / COM_BINLOG_DUMP_GTID -> a fake ROTATE (CRC iff the client declared
 *     CRC32), the FDE (log_pos 0 and CRC recomputed when starting past it, like a real
 *     server), then the events of FILE from the requested position (COM_BINLOG_DUMP_GTID
 *     without a file name: from the start), each as a 0x00-prefixed packet; then an EOF
 *     packet for BINLOG_DUMP_NON_BLOCK, else heartbeats every heartbeat period until the
 *     client goes away. --fail-purged answers the dump with error 1236 "Could not find
 *     first log file name in binary log index file"; --stall sends nothing after the file
 *     (no heartbeat, no EOF), like a dead link.
 *   COM_BINLOG_DUMP_GTID, as MySQL 8.0's Binlog_sender: without a file name, a replica
 *     set lacking a GTID of the file's PREVIOUS_GTIDS (purged: this primary has no older
 *     file) gets error 1236 ER_SOURCE_HAS_PURGED_REQUIRED_GTIDS; a transaction whose GTID (tagged or not) is in
 *     the replica's set is not sent: from its GTID event up to the next GTID event, ROTATE
 *     excepted; a HEARTBEAT with the end position of what was skipped follows. Unlike
 *     MySQL, ANONYMOUS_GTID transactions are served (MySQL refuses them with
 *     AUTO_POSITION), so that GTID-less fixtures can be read by GTID too.
 *   --rename-db FROM=TO (test convenience, no server does this): TABLE_MAP events of
 *     schema FROM name TO instead (same length, so positions hold; CRC recomputed). tidm
 *     never replicates system schemas, and several MySQL fixtures write to `mysql`.
 *     Events inside a TRANSACTION_PAYLOAD are not renamed.
 *   --server-version 8.4.x/9.x: SHOW MASTER STATUS is a syntax error (removed in 8.4), and
 *     8.0.x rejects SHOW BINARY LOG STATUS, as the real servers do.
 *   --misbehave MODE [--misbehave-once]: a hostile peer (issue 19). The event modes act on
 *     the first ROWS or TRANSACTION_PAYLOAD event the dump sends (unknown-table: ROWS only;
 *     fde-header-len: the FDE), once per dump, or
 *     only in the first dump of the process with --misbehave-once (a transient fault: the
 *     replica's retry gets a good stream). Each is logged as "misbehaving: MODE at ...".
 *       bad-length      the event's size field says 1000 bytes more than the packet holds
 *                       (CRC recomputed: only the length lies)
 *       bad-crc         one byte of the event's body flipped, the CRC left as it was
 *       unknown-table   the ROWS event names table id 0xabcdef, which no TABLE_MAP defined
 *                       (CRC recomputed)
 *       fde-header-len  the FDE says events have a 255-byte common header (CRC recomputed)
 *       truncate        the packet header announces the whole event, half of it is sent,
 *                       then the connection is closed
 *       stall-packet    as truncate, but the connection stays open and silent
 *       bad-seq         the event's packet carries a sequence number 7 ahead
 *       oversized       instead of the event: a packet of three 16 MiB continuation pieces
 *                       and a tail, all garbage (a 48 MiB "event")
 *       heartbeat-flood after the FDE: heartbeats naming position 4, one per millisecond,
 *                       forever (a source that never makes progress)
 *       garbage-handshake  after a successful login, 200 garbage bytes instead of the
 *                       answer to the first command
 *
 * Design: plain blocking sockets, one buffer per packet, every length from the wire
 * checked against what was read; FILE is read once into memory (in place from the
 * fixtures directory, never copied) and its events are framed with their header sizes
 * checked against the file end. The binlog decoder of tidm (tidm_pure) is only used to
 * learn the file's checksum algorithm, its GTID sets and where each GTID event starts;
 * the bytes sent are the file's own (but for --rename-db and the FDE's log_pos).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "binlog/event.h"
#include "binlog/file.h"
#include "util/buf.h"
#include "util/gtid.h"

#include "fake_answers.h"

#define MAX_PACKET (16u << 20)
#define SERVER_VERSION "8.0.36"
#define SERVER_UUID "5a0c1c7e-8b0a-11ee-9f00-0242ac120002"

/* capability flags */
enum {
	CLIENT_LONG_PASSWORD = 0x1,
	CLIENT_FOUND_ROWS = 0x2,
	CLIENT_LONG_FLAG = 0x4,
	CLIENT_CONNECT_WITH_DB = 0x8,
	CLIENT_PROTOCOL_41 = 0x200,
	CLIENT_TRANSACTIONS = 0x2000,
	CLIENT_SECURE_CONNECTION = 0x8000,
	CLIENT_MULTI_STATEMENTS = 0x10000,
	CLIENT_MULTI_RESULTS = 0x20000,
	CLIENT_PLUGIN_AUTH = 0x80000,
	CLIENT_CONNECT_ATTRS = 0x100000,
	CLIENT_PLUGIN_AUTH_LENENC = 0x200000,
};

static struct {
	const char *path, *name, *user, *password;
	const char *version; /* --server-version, default 8.0.36 */
	bool fail_purged;
	bool stall; /* --stall: after the file, neither heartbeats nor EOF (a dead link) */
	uint8_t *data;
	size_t size;
	uint8_t alg; /* the file's checksum algorithm */
	char *gtid;  /* executed set of the file (text) */
	tidm_gtid_set prev; /* the file's PREVIOUS_GTIDS: what this primary has purged */
	struct trx_gtid {
		size_t off; /* offset of a GTID / GTID_TAGGED event */
		tidm_gtid gtid;
	} *trx;
	size_t n_trx;
	char rename_from[65], rename_to[65]; /* --rename-db; "" = none */
	const char *misbehave; /* --misbehave MODE; NULL = none */
	bool misbehave_once;
} cfg;

static pthread_mutex_t mis_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned mis_done; /* misbehaviours so far */

/* True when MODE is the --misbehave mode and may act now (counted). */
static bool misbehave_now(const char *mode)
{
	bool yes;
	if (!cfg.misbehave || strcmp(cfg.misbehave, mode) != 0)
		return false;
	pthread_mutex_lock(&mis_mu);
	yes = !cfg.misbehave_once || mis_done == 0;
	mis_done += yes;
	pthread_mutex_unlock(&mis_mu);
	return yes;
}

typedef struct client {
	int fd;
	uint8_t seq;
	uint8_t salt[20];
	unsigned long long hb_ns;
	bool declared_crc;
	tidm_buf in;
} client;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;
	char line[2048];
	int n = snprintf(line, sizeof(line), "fake_primary: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	fputs(line, stderr); /* one call: lines of concurrent clients do not mix */
}

/* ---- SHA-1 (FIPS 180-1), for mysql_native_password ---- */

typedef struct sha1 {
	uint32_t h[5];
	uint64_t len;
	uint8_t buf[64];
	size_t n;
} sha1;

static uint32_t rol(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static void sha1_block(sha1 *s, const uint8_t *p)
{
	uint32_t w[80], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		uint32_t t = rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol(b, 30), b = a, a = t;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e;
}

static void sha1_init(sha1 *s)
{
	static const uint32_t h0[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
	memcpy(s->h, h0, sizeof(h0));
	s->len = 0;
	s->n = 0;
}

static void sha1_update(sha1 *s, const void *data, size_t n)
{
	const uint8_t *p = data;
	s->len += n;
	while (n--) {
		s->buf[s->n++] = *p++;
		if (s->n == 64) {
			sha1_block(s, s->buf);
			s->n = 0;
		}
	}
}

static void sha1_final(sha1 *s, uint8_t out[20])
{
	uint64_t bits = s->len * 8;
	uint8_t pad = 0x80, z = 0, l[8];
	sha1_update(s, &pad, 1);
	while (s->n != 56)
		sha1_update(s, &z, 1);
	for (int i = 0; i < 8; i++)
		l[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(s, l, 8);
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (uint8_t)(s->h[i] >> (24 - 8 * j));
}

static void sha1_of(uint8_t out[20], const void *a, size_t an, const void *b, size_t bn)
{
	sha1 s;
	sha1_init(&s);
	sha1_update(&s, a, an);
	if (b)
		sha1_update(&s, b, bn);
	sha1_final(&s, out);
}

/* ---- packets ---- */

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;
	while (n) {
		ssize_t k = send(fd, q, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		q += k;
		n -= (size_t)k;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	uint8_t *q = p;
	while (n) {
		ssize_t k = recv(fd, q, n, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		q += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Send one payload, split into 0xffffff pieces as the protocol requires. */
static int send_packet(client *c, const void *payload, size_t n)
{
	const uint8_t *p = payload;
	for (;;) {
		size_t k = n >= 0xffffff ? 0xffffff : n;
		uint8_t h[4] = {(uint8_t)k, (uint8_t)(k >> 8), (uint8_t)(k >> 16), c->seq++};
		if (write_all(c->fd, h, 4) < 0 || write_all(c->fd, p, k) < 0)
			return -1;
		p += k;
		n -= k;
		if (k < 0xffffff)
			return 0;
	}
}

/* Read one payload (continuations joined) into c->in. */
static int read_packet(client *c)
{
	tidm_buf_clear(&c->in);
	for (;;) {
		uint8_t h[4];
		if (read_all(c->fd, h, 4) < 0)
			return -1;
		size_t k = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
		c->seq = (uint8_t)(h[3] + 1);
		if (c->in.len + k > MAX_PACKET) {
			logf_("client packet over %u bytes: closing", MAX_PACKET);
			return -1;
		}
		tidm_buf_reserve(&c->in, k);
		if (read_all(c->fd, c->in.data + c->in.len, k) < 0)
			return -1;
		c->in.len += k;
		c->in.data[c->in.len] = '\0';
		if (k < 0xffffff)
			return 0;
	}
}

static void put_lenenc(tidm_buf *b, uint64_t v)
{
	if (v < 251) {
		tidm_buf_putc(b, (char)v);
	} else if (v < 65536) {
		uint8_t x[3] = {0xfc, (uint8_t)v, (uint8_t)(v >> 8)};
		tidm_buf_put(b, x, 3);
	} else if (v < 16777216) {
		uint8_t x[4] = {0xfd, (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16)};
		tidm_buf_put(b, x, 4);
	} else {
		uint8_t x[9] = {0xfe};
		for (int i = 0; i < 8; i++)
			x[1 + i] = (uint8_t)(v >> (8 * i));
		tidm_buf_put(b, x, 9);
	}
}

static void put_lenstr(tidm_buf *b, const char *s)
{
	put_lenenc(b, strlen(s));
	tidm_buf_puts(b, s);
}

static void put_le(tidm_buf *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		tidm_buf_putc(b, (char)(uint8_t)(v >> (8 * i)));
}

static int send_ok(client *c)
{
	static const uint8_t ok[] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};
	return send_packet(c, ok, sizeof(ok));
}

static int send_err(client *c, unsigned code, const char *state, const char *msg)
{
	tidm_buf b = TIDM_BUF_INIT;
	tidm_buf_putc(&b, (char)0xff);
	put_le(&b, code, 2);
	tidm_buf_putc(&b, '#');
	tidm_buf_put(&b, state, 5);
	tidm_buf_puts(&b, msg);
	int rc = send_packet(c, b.data, b.len);
	tidm_buf_dispose(&b);
	return rc;
}

static int send_eof(client *c)
{
	static const uint8_t eof[] = {0xfe, 0x00, 0x00, 0x02, 0x00};
	return send_packet(c, eof, sizeof(eof));
}

/* A text result set: ncols names, nrows rows of values (NULL = SQL NULL). */
static int send_result(client *c, int ncols, const char *const *names, int nrows, const char *const *vals)
{
	tidm_buf b = TIDM_BUF_INIT;
	int rc = 0;

	put_lenenc(&b, (uint64_t)ncols);
	rc |= send_packet(c, b.data, b.len);
	for (int i = 0; i < ncols && rc == 0; i++) {
		tidm_buf_clear(&b);
		put_lenstr(&b, "def");
		put_lenstr(&b, "");
		put_lenstr(&b, "");
		put_lenstr(&b, "");
		put_lenstr(&b, names[i]);
		put_lenstr(&b, "");
		tidm_buf_putc(&b, 0x0c);
		put_le(&b, 45, 2);   /* utf8mb4_general_ci */
		put_le(&b, 1024, 4); /* column length */
		tidm_buf_putc(&b, (char)0xfd); /* VAR_STRING */
		put_le(&b, 0, 2);
		tidm_buf_putc(&b, 0);
		put_le(&b, 0, 2);
		rc |= send_packet(c, b.data, b.len);
	}
	rc |= send_eof(c);
	for (int r = 0; r < nrows && rc == 0; r++) {
		tidm_buf_clear(&b);
		for (int i = 0; i < ncols; i++) {
			const char *v = vals[r * ncols + i];
			if (v)
				put_lenstr(&b, v);
			else
				tidm_buf_putc(&b, (char)0xfb);
		}
		rc |= send_packet(c, b.data, b.len);
	}
	rc |= send_eof(c);
	tidm_buf_dispose(&b);
	return rc ? -1 : 0;
}

static int send_value(client *c, const char *name, const char *value)
{
	return send_result(c, 1, &name, 1, &value);
}

/* ---- handshake ---- */

static int handshake(client *c, uint32_t conn_id)
{
	tidm_buf b = TIDM_BUF_INIT;
	uint32_t caps = CLIENT_LONG_PASSWORD | CLIENT_FOUND_ROWS | CLIENT_LONG_FLAG | CLIENT_CONNECT_WITH_DB |
			CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_STATEMENTS |
			CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS | CLIENT_PLUGIN_AUTH_LENENC;
	int rc;

	for (int i = 0; i < 20; i++) {
		/* printable, non-zero salt bytes as real servers send */
		c->salt[i] = (uint8_t)(33 + rand() % 90);
	}
	c->seq = 0;
	tidm_buf_putc(&b, 10);
	tidm_buf_puts(&b, cfg.version);
	tidm_buf_putc(&b, 0);
	put_le(&b, conn_id, 4);
	tidm_buf_put(&b, c->salt, 8);
	tidm_buf_putc(&b, 0);
	put_le(&b, caps & 0xffff, 2);
	tidm_buf_putc(&b, 45);
	put_le(&b, 2, 2); /* status: autocommit */
	put_le(&b, caps >> 16, 2);
	tidm_buf_putc(&b, 21);
	for (int i = 0; i < 10; i++)
		tidm_buf_putc(&b, 0);
	tidm_buf_put(&b, c->salt + 8, 12);
	tidm_buf_putc(&b, 0);
	tidm_buf_puts(&b, "mysql_native_password");
	tidm_buf_putc(&b, 0);
	rc = send_packet(c, b.data, b.len);
	tidm_buf_dispose(&b);
	if (rc < 0 || read_packet(c) < 0)
		return -1;

	/* HandshakeResponse41 */
	const uint8_t *p = (const uint8_t *)c->in.data, *end = p + c->in.len;
	if (c->in.len < 32) {
		logf_("short handshake response (%zu bytes; TLS request?)", c->in.len);
		send_err(c, 1043, "08S01", "Bad handshake");
		return -1;
	}
	uint32_t ccaps = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	p += 32;
	const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
	if (!nul) {
		send_err(c, 1043, "08S01", "Bad handshake");
		return -1;
	}
	char user[128];
	snprintf(user, sizeof(user), "%.*s", (int)(nul - p), (const char *)p);
	p = nul + 1;
	const uint8_t *auth = p;
	size_t alen = 0;
	if (ccaps & CLIENT_PLUGIN_AUTH_LENENC) {
		if (p >= end || *p >= 251) {
			send_err(c, 1043, "08S01", "Bad handshake");
			return -1;
		}
		alen = *p;
		auth = p + 1;
	} else if (ccaps & CLIENT_SECURE_CONNECTION) {
		if (p >= end) {
			send_err(c, 1043, "08S01", "Bad handshake");
			return -1;
		}
		alen = *p;
		auth = p + 1;
	} else {
		const uint8_t *z = memchr(p, 0, (size_t)(end - p));
		alen = z ? (size_t)(z - p) : 0;
	}
	if (auth + alen > end) {
		send_err(c, 1043, "08S01", "Bad handshake");
		return -1;
	}
	uint8_t resp[20];
	size_t rlen = alen > 20 ? 20 : alen;
	memcpy(resp, auth, rlen);

	/* expected scramble: SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw))) */
	bool ok = strcmp(user, cfg.user) == 0;
	const char *pw = cfg.password ? cfg.password : "";
	if (ok && *pw) {
		uint8_t h1[20], h2[20], h3[20];
		sha1_of(h1, pw, strlen(pw), NULL, 0);
		sha1_of(h2, h1, 20, NULL, 0);
		sha1_of(h3, c->salt, 20, h2, 20);
		for (int i = 0; i < 20; i++)
			h3[i] ^= h1[i];
		ok = alen == 20 && memcmp(h3, resp, 20) == 0;
	} else if (ok) {
		ok = alen == 0;
	}
	if (!ok) {
		char msg[256];
		snprintf(msg, sizeof(msg), "Access denied for user '%s'@'127.0.0.1' (using password: %s)", user,
			 alen ? "YES" : "NO");
		logf_("%s", msg);
		send_err(c, 1045, "28000", msg);
		return -1;
	}
	return send_ok(c);
}

/* ---- queries ---- */

static bool starts_ci(const char *s, const char *prefix) { return strncasecmp(s, prefix, strlen(prefix)) == 0; }

static bool contains_ci(const char *s, const char *needle)
{
	for (size_t n = strlen(needle); *s; s++)
		if (strncasecmp(s, needle, n) == 0)
			return true;
	return false;
}

static const char *csum_name(void) { return cfg.alg == TIDM_BINLOG_CSUM_CRC32 ? "CRC32" : "NONE"; }

static int handle_set(client *c, const char *q)
{
	const char *hb = strstr(q, "@master_heartbeat_period");
	if (!hb)
		hb = strstr(q, "@source_heartbeat_period");
	if (hb && (hb = strchr(hb, '=')) != NULL)
		c->hb_ns = strtoull(hb + 1, NULL, 10);
	if (contains_ci(q, "@master_binlog_checksum") || contains_ci(q, "@source_binlog_checksum")) {
		if (contains_ci(q, "'NONE'"))
			c->declared_crc = false;
		else if (contains_ci(q, "'CRC32'"))
			c->declared_crc = true;
		else
			c->declared_crc = cfg.alg == TIDM_BINLOG_CSUM_CRC32;
	}
	return send_ok(c);
}

/* Send a reply of fake_answers.c. */
static int send_reply(client *c, const fa_reply *r)
{
	if (r->delay_ms) {
		struct timespec ts = {(time_t)(r->delay_ms / 1000), (long)(r->delay_ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	switch (r->kind) {
	case FA_ROWS:
		return send_result(c, r->ncols, r->names, r->nrows, r->vals);
	case FA_ERROR:
		return send_err(c, r->code, r->state, r->msg ? r->msg : "");
	case FA_OK: {
		tidm_buf b = TIDM_BUF_INIT;
		tidm_buf_putc(&b, 0);
		put_lenenc(&b, r->code);
		put_lenenc(&b, 0);
		put_le(&b, 2, 2);
		put_le(&b, 0, 2);
		int rc = send_packet(c, b.data, b.len);
		tidm_buf_dispose(&b);
		return rc;
	}
	case FA_CLOSE:
		return -1;
	default:
		logf_("unknown reply kind %d", (int)r->kind);
		return -1;
	}
}

static const char *var_or(const char *name, const char *dflt)
{
	bool found;
	const char *v = fa_get_var(name, &found);
	return found && v ? v : dflt;
}

static int handle_query(client *c, const char *q)
{
	char size[32];
	fa_reply r = {0};
	int rc;

	while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
		q++;
	if (fa_script(q, &r)) {
		logf_("%s answers: %.200s", r.where, q);
		return send_reply(c, &r);
	}
	snprintf(size, sizeof(size), "%zu", cfg.size);
	if (starts_ci(q, "SET "))
		return handle_set(c, q);
	if (starts_ci(q, "SELECT VERSION()"))
		return send_value(c, "VERSION()", var_or("version", cfg.version));
	if (starts_ci(q, "SELECT tidb_version()"))
		return send_err(c, 1305, "42000", "FUNCTION tidb_version does not exist");
	if (starts_ci(q, "SELECT AURORA_VERSION()"))
		return send_err(c, 1305, "42000", "FUNCTION aurora_version does not exist");
	if (starts_ci(q, "SELECT @master_binlog_checksum") || starts_ci(q, "SELECT @source_binlog_checksum"))
		return send_value(c, "@master_binlog_checksum", c->declared_crc ? "CRC32" : "NONE");
	/* MySQL 8.4 removed SHOW MASTER STATUS (SHOW BINARY LOG STATUS exists since 8.2) */
	bool v84 = strncmp(cfg.version, "8.4", 3) == 0 || strncmp(cfg.version, "9.", 2) == 0;
	if ((starts_ci(q, "SHOW MASTER STATUS") && v84) || (starts_ci(q, "SHOW BINARY LOG STATUS") && !v84 &&
							    strncmp(cfg.version, "8.0", 3) == 0)) {
		char msg[200];
		snprintf(msg, sizeof(msg), "You have an error in your SQL syntax near '%.40s' (server %s)", q, cfg.version);
		return send_err(c, 1064, "42000", msg);
	}
	if (starts_ci(q, "SHOW MASTER STATUS") || starts_ci(q, "SHOW BINARY LOG STATUS")) {
		static const char *const names[] = {"File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB",
						    "Executed_Gtid_Set"};
		const char *vals[] = {cfg.name, size, "", "", var_or("gtid_executed", cfg.gtid)};
		return send_result(c, 5, names, 1, vals);
	}
	if (starts_ci(q, "SHOW BINARY LOGS") || starts_ci(q, "SHOW MASTER LOGS")) {
		static const char *const names[] = {"Log_name", "File_size", "Encrypted"};
		const char *vals[] = {cfg.name, size, "No"};
		return send_result(c, 3, names, 1, vals);
	}
	/* variables (SELECT @@x, SHOW VARIABLES), status, grants, databases, information_schema */
	if (fa_builtin(q, cfg.user, &r)) {
		rc = send_reply(c, &r);
		fa_reply_dispose(&r);
		return rc;
	}
	fa_reply_dispose(&r);
	char msg[300];
	snprintf(msg, sizeof(msg), "tidm fake primary does not answer this statement: %.200s", q);
	logf_("%s", msg);
	return send_err(c, 1064, "42000", msg);
}

/* ---- binlog dump ---- */

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * --rename-db: the schema of a TABLE_MAP event (post-header: table id 6, flags 2; then
 * the schema's length byte and name) becomes cfg.rename_to. True when e was changed.
 */
static bool rename_table_map(uint8_t *e, size_t n)
{
	size_t at = TIDM_BINLOG_HEADER_LEN + 8, len = strlen(cfg.rename_from);

	if (!len || e[4] != TIDM_BINLOG_TABLE_MAP || n < at + 1 + len || e[at] != len ||
	    memcmp(e + at + 1, cfg.rename_from, len) != 0)
		return false;
	memcpy(e + at + 1, cfg.rename_to, len);
	return true;
}

/* Send an event as a 0x00-prefixed packet; recompute_crc: its trailing CRC32 first (also
 * done when --rename-db changed it in a file with checksums). */
static int send_event(client *c, const uint8_t *ev, size_t n, bool recompute_crc)
{
	tidm_buf b = TIDM_BUF_INIT;
	tidm_buf_putc(&b, 0);
	tidm_buf_put(&b, ev, n);
	uint8_t *e = (uint8_t *)b.data + 1;
	if (rename_table_map(e, n) && cfg.alg == TIDM_BINLOG_CSUM_CRC32)
		recompute_crc = true;
	if (recompute_crc && n >= TIDM_BINLOG_HEADER_LEN + 4)
		wr32(e + n - 4, tidm_binlog_crc32(0, e, n - 4));
	int rc = send_packet(c, b.data, b.len);
	tidm_buf_dispose(&b);
	return rc;
}

/* A header + body (+ CRC when crc) event, built in b. */
static void build_event(tidm_buf *b, uint8_t type, uint32_t log_pos, uint16_t flags, const void *body, size_t n,
			bool crc)
{
	uint32_t size = (uint32_t)(TIDM_BINLOG_HEADER_LEN + n + (crc ? 4 : 0));
	tidm_buf_clear(b);
	put_le(b, 0, 4); /* timestamp 0 */
	tidm_buf_putc(b, (char)type);
	put_le(b, 1, 4); /* server_id */
	put_le(b, size, 4);
	put_le(b, log_pos, 4);
	put_le(b, flags, 2);
	tidm_buf_put(b, body, n);
	if (crc)
		put_le(b, tidm_binlog_crc32(0, (const uint8_t *)b->data, b->len), 4);
}

/* A HEARTBEAT event naming FILE and log_pos pos. */
static int send_heartbeat(client *c, tidm_buf *ev, size_t pos)
{
	build_event(ev, TIDM_BINLOG_HEARTBEAT, (uint32_t)pos, 0, cfg.name, strlen(cfg.name),
		    cfg.alg == TIDM_BINLOG_CSUM_CRC32);
	return send_event(c, (const uint8_t *)ev->data, ev->len, false);
}

/* The GTID of the GTID / GTID_TAGGED event at offset off, or NULL. */
static const tidm_gtid *gtid_at(size_t off)
{
	for (size_t i = 0; i < cfg.n_trx; i++)
		if (cfg.trx[i].off == off)
			return &cfg.trx[i].gtid;
	return NULL;
}

/*
 * COM_BINLOG_DUMP_GTID without a file name: a replica set lacking GTIDs this primary has
 * purged (the file's PREVIOUS_GTIDS) gets MySQL 8.0's ER_SOURCE_HAS_PURGED_REQUIRED_GTIDS
 * as error 1236. 1 when refused (the error is sent), 0 when the set is fine.
 */
static int refuse_purged(client *c, const tidm_gtid_set *exclude)
{
	tidm_gtid_set missing;
	tidm_buf sent = TIDM_BUF_INIT, miss = TIDM_BUF_INIT;
	char msg[1024];

	if (tidm_gtid_set_contains(exclude, &cfg.prev))
		return 0;
	tidm_gtid_set_init(&missing, TIDM_GTID_MYSQL);
	tidm_gtid_set_copy(&missing, &cfg.prev);
	tidm_gtid_set_subtract(&missing, exclude);
	tidm_gtid_set_format(exclude, &sent);
	tidm_gtid_set_format(&missing, &miss);
	snprintf(msg, sizeof(msg),
		 "Cannot replicate because the source purged required binary logs. Replicate the missing "
		 "transactions from elsewhere, or provision a new replica from backup. Consider increasing "
		 "the source's binary log expiration period. The GTID set sent by the replica is '%.200s', "
		 "and the missing transactions are '%.200s'",
		 sent.data ? sent.data : "", miss.data ? miss.data : "");
	tidm_buf_dispose(&sent);
	tidm_buf_dispose(&miss);
	tidm_gtid_set_dispose(&missing);
	logf_("dump refused: %s", msg);
	send_err(c, 1236, "HY000", msg);
	return 1;
}

static bool is_rows_event(uint8_t t) { return (t >= 23 && t <= 25) || (t >= 30 && t <= 32); }

/* Send the bytes of a packet header announcing n payload bytes. */
static int send_header(client *c, size_t n)
{
	uint8_t h[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), c->seq++};
	return write_all(c->fd, h, 4);
}

/* Wait until the client closes (a silent, open connection). */
static void wait_close(client *c)
{
	char tmp[256];
	for (;;) {
		struct pollfd pfd = {c->fd, POLLIN, 0};
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return;
		if (recv(c->fd, tmp, sizeof(tmp), 0) <= 0)
			return;
	}
}

/*
 * The event-level --misbehave modes, for the ROWS event e (size n) at offset off: 1 = the
 * event was sent (altered), 0 = not this mode (send it as is), -1 = the connection ends.
 */
static int misbehave_event(client *c, const uint8_t *e, size_t n, size_t off)
{
	bool crc = cfg.alg == TIDM_BINLOG_CSUM_CRC32;
	const char *m = cfg.misbehave;
	int rc;

	/* a ROWS event; for the modes that do not look inside it, a TRANSACTION_PAYLOAD too */
	bool target = is_rows_event(e[4]) || (e[4] == TIDM_BINLOG_TRANSACTION_PAYLOAD && strcmp(m ? m : "", "unknown-table"));
	if (!m || !target || !misbehave_now(m))
		return 0;
	logf_("misbehaving: %s at offset %zu (event type %u, %zu bytes)", m, off, e[4], n);
	if (!strcmp(m, "bad-length") || !strcmp(m, "bad-crc") || !strcmp(m, "unknown-table")) {
		uint8_t *x = malloc(n);
		if (!x)
			return -1;
		memcpy(x, e, n);
		if (!strcmp(m, "bad-length"))
			wr32(x + 9, (uint32_t)n + 1000);
		else if (!strcmp(m, "bad-crc"))
			x[TIDM_BINLOG_HEADER_LEN + (n - TIDM_BINLOG_HEADER_LEN) / 2] ^= 0x5a;
		else /* the table id: 6 bytes after the common header */
			for (int i = 0; i < 6; i++)
				x[TIDM_BINLOG_HEADER_LEN + i] = (uint8_t)(0xabcdefull >> (8 * i));
		rc = send_event(c, x, n, crc && strcmp(m, "bad-crc") != 0);
		free(x);
		return rc < 0 ? -1 : 1;
	}
	if (!strcmp(m, "truncate") || !strcmp(m, "stall-packet")) {
		if (send_header(c, n + 1) < 0 || write_all(c->fd, "", 1) < 0 || write_all(c->fd, e, n / 2) < 0)
			return -1;
		if (!strcmp(m, "stall-packet"))
			wait_close(c);
		return -1;
	}
	if (!strcmp(m, "bad-seq")) {
		c->seq = (uint8_t)(c->seq + 7);
		return send_event(c, e, n, false) < 0 ? -1 : 1;
	}
	if (!strcmp(m, "oversized")) {
		size_t piece = 0xffffff;
		uint8_t *g = malloc(piece);
		if (!g)
			return -1;
		memset(g, 'G', piece);
		g[0] = 0; /* an "OK"-prefixed event packet */
		for (int i = 0; i < 3; i++)
			if (send_header(c, piece) < 0 || write_all(c->fd, g, piece) < 0) {
				free(g);
				return -1;
			}
		rc = send_header(c, 10) < 0 || write_all(c->fd, g + 1, 10) < 0 ? -1 : 1;
		free(g);
		return rc;
	}
	return 0;
}

/*
 * Serve FILE from pos. exclude (COM_BINLOG_DUMP_GTID): the replica's GTID set; the
 * transactions it already has are skipped. As MySQL, skipped events are followed by a
 * heartbeat naming the end of the last one (before the next event sent, or at the end of
 * the file), so the replica learns the position.
 */
static int dump(client *c, uint64_t pos, unsigned flags, const tidm_gtid_set *exclude)
{
	tidm_buf ev = TIDM_BUF_INIT, body = TIDM_BUF_INIT;
	bool file_crc = cfg.alg == TIDM_BINLOG_CSUM_CRC32;
	unsigned skipped = 0;
	size_t skipped_end = 0; /* end of the events skipped since the last one sent */
	int rc = 0;

	if (cfg.fail_purged) {
		logf_("dump refused (--fail-purged)");
		return send_err(c, 1236, "HY000", "Could not find first log file name in binary log index file");
	}
	if (pos < 4)
		pos = 4;
	if (pos > cfg.size) {
		char msg[200];
		snprintf(msg, sizeof(msg),
			 "Client requested source to start replication from position > file size");
		return send_err(c, 1236, "HY000", msg);
	}
	c->seq = 1;
	/* fake ROTATE: CRC iff the client declared CRC32 */
	put_le(&body, pos, 8);
	tidm_buf_puts(&body, cfg.name);
	build_event(&ev, TIDM_BINLOG_ROTATE, 0, TIDM_BINLOG_F_ARTIFICIAL, body.data, body.len, c->declared_crc);
	if ((rc = send_event(c, (const uint8_t *)ev.data, ev.len, false)) < 0)
		goto out;

	size_t off = 4;
	bool first = true, skip = false;
	while (off < cfg.size) {
		if (cfg.size - off < TIDM_BINLOG_HEADER_LEN) {
			logf_("truncated event header at offset %zu", off);
			break;
		}
		const uint8_t *e = cfg.data + off;
		uint32_t size = rd32(e + 9);
		if (size < TIDM_BINLOG_HEADER_LEN || size > cfg.size - off) {
			logf_("bad event size %u at offset %zu", size, off);
			break;
		}
		if (exclude && (e[4] == TIDM_BINLOG_GTID || e[4] == TIDM_BINLOG_GTID_TAGGED)) {
			/* a transaction starts: skipped up to the next GTID event if the replica has it */
			const tidm_gtid *g = gtid_at(off);
			skip = g && tidm_gtid_set_contains_gtid(exclude, g);
			skipped += skip && off >= pos;
		} else if (e[4] == TIDM_BINLOG_ANONYMOUS_GTID) {
			skip = false;
		}
		if (first) {
			/* the FDE: IN_USE cleared; past it: log_pos 0 and a fresh CRC */
			tidm_buf_clear(&body);
			tidm_buf_put(&body, e, size);
			uint8_t *f = (uint8_t *)body.data;
			f[17] &= (uint8_t)~TIDM_BINLOG_F_BINLOG_IN_USE;
			bool recompute = false;
			if (pos > off) {
				wr32(f + 13, 0);
				recompute = file_crc;
			}
			/* the common header length: after binlog_version 2, server_version 50, created 4 */
			if (size > TIDM_BINLOG_HEADER_LEN + 57 && misbehave_now("fde-header-len")) {
				logf_("misbehaving: fde-header-len at offset %zu", off);
				f[TIDM_BINLOG_HEADER_LEN + 56] = 255;
				recompute = file_crc;
			}
			if ((rc = send_event(c, f, size, recompute)) < 0)
				goto out;
			first = false;
			if (misbehave_now("heartbeat-flood")) {
				logf_("misbehaving: heartbeat-flood after the FDE");
				for (;;) {
					struct pollfd pfd = {c->fd, POLLIN, 0};
					char tmp[256];
					if (poll(&pfd, 1, 1) > 0 && recv(c->fd, tmp, sizeof(tmp), 0) <= 0)
						goto out;
					if (send_heartbeat(c, &ev, 4) < 0)
						goto out;
				}
			}
		} else if (off >= pos && skip && e[4] != TIDM_BINLOG_ROTATE) {
			skipped_end = off + size;
		} else if (off >= pos) {
			if (skipped_end && (rc = send_heartbeat(c, &ev, skipped_end)) < 0)
				goto out;
			skipped_end = 0;
			int mb = misbehave_event(c, e, size, off);
			if (mb < 0)
				goto out;
			if (!mb && (rc = send_event(c, e, size, false)) < 0)
				goto out;
		}
		off += size;
	}
	if (skipped_end && (rc = send_heartbeat(c, &ev, skipped_end)) < 0)
		goto out;
	if (exclude)
		logf_("skipped %u transaction(s) the replica has", skipped);
	if (flags & 0x01) {
		rc = send_eof(c);
		goto out;
	}
	/* idle: heartbeats until the client goes away (--stall: silence) */
	for (;;) {
		struct pollfd pfd = {c->fd, POLLIN, 0};
		int ms = cfg.stall ? -1 : c->hb_ns ? (int)(c->hb_ns / 1000000ull) : 30000;
		int k = poll(&pfd, 1, ms < 0 ? -1 : ms < 1 ? 1 : ms);
		if (k < 0 && errno == EINTR)
			continue;
		if (k != 0) {
			char tmp[256];
			if (recv(c->fd, tmp, sizeof(tmp), 0) <= 0)
				break; /* client closed */
			continue;
		}
		if ((rc = send_heartbeat(c, &ev, cfg.size)) < 0)
			break;
	}
out:
	tidm_buf_dispose(&ev);
	tidm_buf_dispose(&body);
	return -1; /* the connection ends with the stream */
}

static int handle_dump(client *c)
{
	const uint8_t *p = (const uint8_t *)c->in.data;
	size_t n = c->in.len;

	if (p[0] == 0x12) {
		if (n < 11)
			return send_err(c, 1064, "42000", "malformed COM_BINLOG_DUMP");
		uint32_t pos = rd32(p + 1);
		unsigned flags = (unsigned)p[5] | (unsigned)p[6] << 8;
		logf_("COM_BINLOG_DUMP pos %u flags %#x server_id %u file '%.*s'", pos, flags, rd32(p + 7),
		      (int)(n - 11), (const char *)p + 11);
		if (n > 11 && (n - 11 != strlen(cfg.name) || memcmp(p + 11, cfg.name, n - 11) != 0) && !cfg.fail_purged)
			return send_err(c, 1236, "HY000", "Could not find first log file name in binary log index file");
		return dump(c, pos, flags, NULL);
	}
	/* COM_BINLOG_DUMP_GTID: flags 2, server_id 4, name_len 4, name, pos 8, data_size 4,
	 * data (the replica's executed set, binary: util/gtid.h) */
	if (n < 11)
		return send_err(c, 1064, "42000", "malformed COM_BINLOG_DUMP_GTID");
	unsigned flags = (unsigned)p[1] | (unsigned)p[2] << 8;
	uint32_t nl = rd32(p + 7);
	if (nl > n - 11 || n - 11 - nl < 12)
		return send_err(c, 1064, "42000", "malformed COM_BINLOG_DUMP_GTID");
	const uint8_t *q = p + 11 + nl;
	uint64_t pos = (uint64_t)rd32(q) | (uint64_t)rd32(q + 4) << 32;
	uint32_t ds = rd32(q + 8);
	if (ds > n - 11 - nl - 12)
		return send_err(c, 1064, "42000", "malformed COM_BINLOG_DUMP_GTID (GTID data size)");
	if (nl && (nl != strlen(cfg.name) || memcmp(p + 11, cfg.name, nl) != 0) && !cfg.fail_purged)
		return send_err(c, 1236, "HY000", "Could not find first log file name in binary log index file");
	tidm_gtid_set set;
	tidm_buf txt = TIDM_BUF_INIT;
	tidm_gtid_set_init(&set, TIDM_GTID_MYSQL);
	if (tidm_gtid_set_decode_mysql(&set, q + 12, ds) < 0) {
		tidm_gtid_set_dispose(&set);
		return send_err(c, 1236, "HY000", "malformed GTID set in COM_BINLOG_DUMP_GTID");
	}
	tidm_gtid_set_format(&set, &txt);
	logf_("COM_BINLOG_DUMP_GTID flags %#x server_id %u file '%.*s' pos %llu gtid '%s'", flags, rd32(p + 3),
	      (int)nl, (const char *)p + 11, (unsigned long long)pos, txt.data ? txt.data : "");
	tidm_buf_dispose(&txt);
	/* as MySQL: a file name given starts there (no purge check), else the (only) file
	 * from its start */
	int rc = !nl && !cfg.fail_purged && refuse_purged(c, &set) ? -1 : dump(c, nl ? pos : 4, flags, &set);
	tidm_gtid_set_dispose(&set);
	return rc;
}

static void serve(int fd, uint32_t conn_id)
{
	client c = {.fd = fd};

	tidm_buf_init(&c.in);
	if (handshake(&c, conn_id) < 0)
		goto done;
	if (misbehave_now("garbage-handshake")) {
		static const char junk[] = "\xff\xfe\x01GARBAGE AFTER THE HANDSHAKE \x00\x13\x37";
		logf_("misbehaving: garbage-handshake on connection %u", conn_id);
		for (int i = 0; i < 200; i += (int)sizeof(junk) - 1)
			if (write_all(fd, junk, sizeof(junk) - 1) < 0)
				goto done;
	}
	for (;;) {
		if (read_packet(&c) < 0 || c.in.len == 0)
			break;
		uint8_t cmd = (uint8_t)c.in.data[0];
		int rc;
		switch (cmd) {
		case 0x01: /* COM_QUIT */
			goto done;
		case 0x03: /* COM_QUERY */
			c.seq = 1;
			rc = handle_query(&c, c.in.data + 1);
			break;
		case 0x0e: /* COM_PING */
		case 0x15: /* COM_REGISTER_SLAVE */
			rc = send_ok(&c);
			break;
		case 0x12: /* COM_BINLOG_DUMP */
		case 0x1e: /* COM_BINLOG_DUMP_GTID */
			rc = handle_dump(&c);
			if (rc < 0 || cfg.fail_purged)
				goto done;
			break;
		default: {
			char msg[64];
			snprintf(msg, sizeof(msg), "Unknown command %u", cmd);
			rc = send_err(&c, 1047, "08S01", msg);
			break;
		}
		}
		if (rc < 0)
			break;
	}
done:
	tidm_buf_dispose(&c.in);
	close(fd);
}

struct conn_arg {
	int fd;
	uint32_t id;
};

static void *serve_thread(void *arg)
{
	struct conn_arg ca = *(struct conn_arg *)arg;
	free(arg);
	serve(ca.fd, ca.id);
	return NULL;
}

/* Checksum algorithm, PREVIOUS_GTIDS, executed GTID set and GTID events of the file,
 * from tidm's decoder. */
static int inspect_file(void)
{
	tidm_binlog_file *f;
	tidm_binlog_event ev;
	tidm_gtid_set set;
	tidm_buf txt = TIDM_BUF_INIT;
	int rc;

	tidm_gtid_set_init(&cfg.prev, TIDM_GTID_MYSQL);
	if (tidm_binlog_file_open_mem(&f, cfg.data, cfg.size) < 0)
		return -1;
	tidm_gtid_set_init(&set, TIDM_GTID_MYSQL);
	cfg.alg = TIDM_BINLOG_CSUM_OFF;
	while ((rc = tidm_binlog_file_next(f, &ev)) == 1) {
		if (ev.hdr.type == TIDM_BINLOG_FORMAT_DESCRIPTION)
			cfg.alg = ev.u.fde.checksum_alg == TIDM_BINLOG_CSUM_CRC32 ? TIDM_BINLOG_CSUM_CRC32 : 0;
		else if (ev.hdr.type == TIDM_BINLOG_PREVIOUS_GTIDS && !ev.unsupported) {
			tidm_gtid_set prev;
			tidm_gtid_set_init(&prev, TIDM_GTID_MYSQL);
			if (tidm_gtid_set_decode_mysql(&prev, ev.u.previous_gtids.data, ev.u.previous_gtids.len) == 0) {
				tidm_gtid_set_union(&set, &prev);
				tidm_gtid_set_union(&cfg.prev, &prev);
			}
			tidm_gtid_set_dispose(&prev);
		} else if ((ev.hdr.type == TIDM_BINLOG_GTID || ev.hdr.type == TIDM_BINLOG_GTID_TAGGED) &&
			   !ev.unsupported && ev.u.gtid.gno > 0) {
			tidm_gtid g = {.flavor = TIDM_GTID_MYSQL, .gno = (uint64_t)ev.u.gtid.gno};
			memcpy(g.uuid, ev.u.gtid.sid, 16);
			if (ev.u.gtid.tag && ev.u.gtid.tag_len && ev.u.gtid.tag_len <= TIDM_GTID_TAG_MAX)
				memcpy(g.tag, ev.u.gtid.tag, ev.u.gtid.tag_len);
			tidm_gtid_set_add(&set, &g);
			struct trx_gtid *t = realloc(cfg.trx, (cfg.n_trx + 1) * sizeof(*t));
			if (!t)
				abort();
			cfg.trx = t;
			t[cfg.n_trx].off = (size_t)tidm_binlog_file_offset(f);
			t[cfg.n_trx++].gtid = g;
		}
	}
	tidm_binlog_file_close(f);
	tidm_gtid_set_format(&set, &txt);
	cfg.gtid = strdup(txt.data ? txt.data : "");
	tidm_buf_dispose(&txt);
	tidm_gtid_set_dispose(&set);
	return rc < 0 ? -1 : 0;
}

static int load_file(void)
{
	FILE *f = fopen(cfg.path, "rb");
	struct stat st;

	if (!f || fstat(fileno(f), &st) < 0 || st.st_size < 4 || st.st_size > (1 << 30)) {
		fprintf(stderr, "fake_primary: cannot read binlog %s\n", cfg.path);
		if (f)
			fclose(f);
		return -1;
	}
	cfg.size = (size_t)st.st_size;
	cfg.data = malloc(cfg.size);
	if (!cfg.data || fread(cfg.data, 1, cfg.size, f) != cfg.size || memcmp(cfg.data, TIDM_BINLOG_MAGIC, 4) != 0) {
		fprintf(stderr, "fake_primary: %s is not a binlog file\n", cfg.path);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (inspect_file() < 0)
		fprintf(stderr, "fake_primary: warning: %s does not decode completely\n", cfg.path);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned port = 0;
	int ls;
	struct sockaddr_in a = {0};
	socklen_t al = sizeof(a);
	const char *answers = NULL;

	cfg.user = "root";
	cfg.version = SERVER_VERSION;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--binlog") && v)
			cfg.path = argv[++i];
		else if (!strcmp(argv[i], "--port") && v)
			port = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--user") && v)
			cfg.user = argv[++i];
		else if (!strcmp(argv[i], "--password-env") && v)
			cfg.password = getenv(argv[++i]);
		else if (!strcmp(argv[i], "--name") && v)
			cfg.name = argv[++i];
		else if (!strcmp(argv[i], "--server-version") && v)
			cfg.version = argv[++i];
		else if (!strcmp(argv[i], "--answers") && v)
			answers = argv[++i];
		else if (!strcmp(argv[i], "--fail-purged"))
			cfg.fail_purged = true;
		else if (!strcmp(argv[i], "--stall"))
			cfg.stall = true;
		else if (!strcmp(argv[i], "--misbehave") && v)
			cfg.misbehave = argv[++i];
		else if (!strcmp(argv[i], "--misbehave-once"))
			cfg.misbehave_once = true;
		else if (!strcmp(argv[i], "--rename-db") && v && strchr(v, '=') &&
			 strlen(v) < sizeof(cfg.rename_from) &&
			 (size_t)(strchr(v, '=') - v) * 2 + 1 == strlen(v)) {
			/* FROM=TO of the same length */
			i++;
			snprintf(cfg.rename_from, sizeof(cfg.rename_from), "%.*s", (int)(strchr(v, '=') - v), v);
			snprintf(cfg.rename_to, sizeof(cfg.rename_to), "%s", strchr(v, '=') + 1);
		} else {
			fprintf(stderr,
				"usage: tidm_fake_primary --binlog FILE [--port N] [--user U] [--password-env VAR] "
				"[--name NAME] [--fail-purged] [--stall] [--server-version V] [--rename-db FROM=TO] "
				"[--answers FILE] [--misbehave MODE [--misbehave-once]]\n"
				"  (--rename-db: FROM and TO of the same length)\n");
			return 2;
		}
	}
	if (!cfg.path || port > 65535) {
		fprintf(stderr, "tidm_fake_primary: --binlog FILE is required\n");
		return 2;
	}
	if (!cfg.name) {
		const char *slash = strrchr(cfg.path, '/');
		cfg.name = slash ? slash + 1 : cfg.path;
	}
	if (load_file() < 0)
		return 1;
	/* the built-in variables, then what the file and the options say, then --answers */
	fa_init();
	fa_set_var("version", cfg.version);
	fa_set_var("binlog_checksum", csum_name());
	fa_set_var("gtid_executed", cfg.gtid ? cfg.gtid : "");
	fa_set_var("server_uuid", SERVER_UUID);
	{
		tidm_buf purged = TIDM_BUF_INIT;
		tidm_gtid_set_format(&cfg.prev, &purged);
		fa_set_var("gtid_purged", purged.data ? purged.data : "");
		tidm_buf_dispose(&purged);
	}
	if (answers && fa_load(answers) < 0) {
		fa_free();
		return 2;
	}
	cfg.version = var_or("version", cfg.version); /* a set-var version also changes the handshake */
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());

	ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 8) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
		perror("fake_primary: listen");
		return 1;
	}
	printf("%u\n", ntohs(a.sin_port));
	fflush(stdout);
	logf_("serving %s as %s (%zu bytes, checksum %s, gtid '%s') on 127.0.0.1:%u", cfg.path, cfg.name, cfg.size,
	      csum_name(), cfg.gtid ? cfg.gtid : "", ntohs(a.sin_port));
	for (uint32_t id = 1;; id++) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("fake_primary: accept");
			return 1;
		}
		/* one thread per client: a precheck opens several connections at once */
		struct conn_arg *ca = malloc(sizeof(*ca));
		pthread_t t;
		if (!ca) {
			close(fd);
			continue;
		}
		ca->fd = fd;
		ca->id = id;
		if (pthread_create(&t, NULL, serve_thread, ca) != 0) {
			logf_("cannot start a client thread: closing connection %u", id);
			close(fd);
			free(ca);
			continue;
		}
		pthread_detach(t);
	}
}
