/*
 * stream.c - the binlog stream of a live source: connect, register, dump, decode, track
 * positions, reconnect. See stream.h for the contract.
 *
 * Design:
 * - One connection, one decoder. Each packet from tidm_replica_read() is one complete
 *   event and goes straight to tidm_binlog_decoder_decode(); the decoder is told the
 *   checksum algorithm the client declared so that the first (fake) ROTATE, which comes
 *   before any FDE, is framed correctly. TRANSACTION_PAYLOAD events are returned, then
 *   their inner events one by one (flagged in_payload) before the next packet is read.
 * - Two positions: the current one (file, position after the last event) and the last
 *   transaction boundary (file, position, executed GTID set). The boundary is what a
 *   reconnect resumes from, so a transaction is never half-delivered after a reconnect:
 *   the caller is told (TIDM_REPL_RECONNECTED) and drops what it holds of the open one.
 * - Dead link: the server sends a heartbeat whenever it has been idle for one period, so
 *   no packet for the source's stall-timeout (job file, default 30 s; at least 2.5
 *   periods) means the link or the server is gone. Before each read the
 *   stream waits for the socket in 100 ms slices (tidm_replica_poll), checking the cancel
 *   flag and that deadline; the connection's read timeout (the same time, rounded up to
 *   seconds) is the safety net where the socket cannot be watched (TLS) and for a packet
 *   that stops half-way.
 * - Reconnect: close, wait (0.5 s doubling, capped at 30 s, reset when the transaction
 *   boundary moves: a peer that cuts every stream at the same event backs off), reopen with a single connection attempt, prepare, register and
 *   dump again from the boundary. Only TIDM_ECONN is retried; refused credentials, a
 *   purged binlog or a decoding error end the stream.
 */
#include "repl/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "db/replica.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

#define NAME_MAX_ 512
#define BACKOFF_FIRST_MS 500
#define BACKOFF_CAP_MS 30000
#define POLL_SLICE_MS 100

struct tidm_repl_stream {
	tidm_repl_opts o;
	uint32_t server_id;
	bool by_gtid;
	enum tidm_flavor flavor;
	tidm_conn *conn;
	tidm_binlog_decoder *dec;
	uint8_t declared_alg;
	/* current position */
	char cur_file[NAME_MAX_];
	uint64_t cur_pos;
	char ev_file[NAME_MAX_]; /* file of the event last returned */
	/* last transaction boundary */
	char b_file[NAME_MAX_];
	uint64_t b_pos;
	tidm_gtid_set b_gtid;
	tidm_repl_trx trx;
	/* source position at open */
	char open_file[NAME_MAX_];
	uint64_t open_pos;
	/* payload iteration */
	bool in_payload;
	uint64_t payload_pos, payload_next;
	bool done;
	bool notify_reconnect;
	unsigned reconnects;
	unsigned delay_ms;
};

static bool canceled(const tidm_repl_stream *s) { return s->o.cancel && *s->o.cancel; }

static void copy_name(char *dst, const char *src, size_t n)
{
	if (n >= NAME_MAX_)
		n = NAME_MAX_ - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int tidm_repl_file_cmp(const char *a, const char *b)
{
	const char *da = strrchr(a, '.'), *db = strrchr(b, '.');

	/* same base name: compare the numeric extension as a number (000999 < 1000000) */
	if (da && db && da - a == db - b && strncmp(a, b, (size_t)(da - a)) == 0) {
		char *ea, *eb;
		unsigned long long na = strtoull(da + 1, &ea, 10), nb = strtoull(db + 1, &eb, 10);
		if (*ea == '\0' && *eb == '\0' && ea != da + 1 && eb != db + 1)
			return na < nb ? -1 : na > nb;
	}
	return strcmp(a, b);
}

/* Trimmed statement text equals `word` (case-insensitive, ignoring a trailing ';'). */
static bool sql_is(const char *sql, size_t n, const char *word)
{
	size_t wl = strlen(word);

	while (n && (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r'))
		sql++, n--;
	while (n && (sql[n - 1] == ' ' || sql[n - 1] == '\t' || sql[n - 1] == '\n' || sql[n - 1] == '\r' ||
		     sql[n - 1] == ';'))
		n--;
	return n == wl && strncasecmp(sql, word, wl) == 0;
}

/* Statement text starts with `prefix` followed by a space or the end. */
static bool sql_starts(const char *sql, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	while (n && (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r'))
		sql++, n--;
	return n >= pl && strncasecmp(sql, prefix, pl) == 0 && (n == pl || sql[pl] == ' ' || sql[pl] == '\t');
}

static bool trx_end(tidm_repl_trx *t, tidm_gtid *gtid, bool *has_gtid)
{
	if (has_gtid)
		*has_gtid = t->has_gtid;
	if (gtid && t->has_gtid)
		*gtid = t->gtid;
	t->in_trx = t->saw_begin = t->has_gtid = false;
	return true;
}

bool tidm_repl_trx_feed(tidm_repl_trx *t, const tidm_binlog_event *ev, tidm_gtid *gtid, bool *has_gtid)
{
	if (has_gtid)
		*has_gtid = false;
	if (ev->unsupported)
		return false;
	switch (ev->hdr.type) {
	case TIDM_BINLOG_GTID:
	case TIDM_BINLOG_GTID_TAGGED:
	case TIDM_BINLOG_ANONYMOUS_GTID: {
		const tidm_binlog_gtid *g = &ev->u.gtid;
		t->in_trx = true;
		t->saw_begin = false;
		t->has_gtid = ev->hdr.type != TIDM_BINLOG_ANONYMOUS_GTID && g->gno > 0;
		memset(&t->gtid, 0, sizeof(t->gtid));
		t->gtid.flavor = TIDM_GTID_MYSQL;
		memcpy(t->gtid.uuid, g->sid, 16);
		t->gtid.gno = (uint64_t)g->gno;
		if (g->tag && g->tag_len) {
			size_t n = g->tag_len > TIDM_GTID_TAG_MAX ? TIDM_GTID_TAG_MAX : g->tag_len;
			memcpy(t->gtid.tag, g->tag, n);
			t->gtid.tag[n] = '\0';
		}
		return false;
	}
	case TIDM_BINLOG_MARIA_GTID:
		t->in_trx = true;
		t->saw_begin = false;
		t->has_gtid = true;
		memset(&t->gtid, 0, sizeof(t->gtid));
		t->gtid.flavor = TIDM_GTID_MARIADB;
		t->gtid.domain = ev->u.maria_gtid.domain_id;
		t->gtid.server = ev->u.maria_gtid.server_id;
		t->gtid.seq = ev->u.maria_gtid.seq_no;
		return false;
	case TIDM_BINLOG_QUERY:
	case TIDM_BINLOG_MARIA_QUERY_COMPRESSED: {
		const char *sql = ev->u.query.sql;
		size_t n = sql ? ev->u.query.sql_len : 0;
		if (sql_is(sql, n, "BEGIN") || sql_starts(sql, n, "XA START") || sql_starts(sql, n, "XA BEGIN")) {
			t->in_trx = t->saw_begin = true;
			return false;
		}
		if (sql_is(sql, n, "COMMIT") || sql_is(sql, n, "ROLLBACK") || sql_starts(sql, n, "XA COMMIT") ||
		    sql_starts(sql, n, "XA ROLLBACK"))
			return trx_end(t, gtid, has_gtid);
		if (t->in_trx && t->saw_begin)
			return false; /* a statement inside BEGIN ... COMMIT */
		return trx_end(t, gtid, has_gtid); /* DDL (after its GTID) or a lone statement */
	}
	case TIDM_BINLOG_XID:
	case TIDM_BINLOG_XA_PREPARE:
		return trx_end(t, gtid, has_gtid);
	default:
		return false;
	}
}

static void sleep_ms_cancelable(const tidm_repl_stream *s, unsigned ms)
{
	while (ms && !canceled(s)) {
		unsigned step = ms > 100 ? 100 : ms;
		struct timespec ts = {0, (long)step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* Silence that means a dead link: the source's stall-timeout when set (the server sends a
 * heartbeat every period while idle, so only a stalled link or source is silent that
 * long), else 2.5 heartbeat periods. */
static uint64_t dead_ms(const tidm_repl_stream *s)
{
	uint64_t hb25 = (uint64_t)s->o.heartbeat_ms * 5 / 2;
	uint64_t st = (uint64_t)s->o.conn.stall_timeout * 1000u;

	return st > hb25 ? st : hb25;
}

/* Open the connection, prepare, register and dump from the boundary. first: also read the
 * source position (for START_NOW and until_open_pos). */
static int connect_and_dump(tidm_repl_stream *s, bool first)
{
	tidm_conn_opts co = s->o.conn;
	unsigned hb = s->o.heartbeat_ms;
	tidm_replica_setup setup = {.server_id = s->server_id, .heartbeat_ms = hb};
	tidm_buf state = TIDM_BUF_INIT;
	char host[256] = "tidm";
	uint8_t alg = 0;
	int rc;

	co.role = TIDM_ROLE_SOURCE;
	co.read_timeout = (unsigned)((dead_ms(s) + 999) / 1000);
	if (!first)
		co.retries = 1; /* our own backoff loop governs reconnects */
	if ((rc = tidm_conn_open(&s->conn, &co)) < 0)
		return rc;
	s->flavor = tidm_conn_info(s->conn)->flavor;
	if (first) {
		tidm_replica_status st;
		if ((rc = tidm_replica_status_read(s->conn, &st)) < 0)
			goto fail;
		copy_name(s->open_file, st.file, strlen(st.file));
		s->open_pos = st.pos;
		if (s->o.start == TIDM_REPL_START_NOW) {
			copy_name(s->b_file, st.file, strlen(st.file));
			s->b_pos = st.pos;
			if (st.gtid[0] && tidm_gtid_set_parse(&s->b_gtid, TIDM_GTID_AUTO, st.gtid) < 0) {
				tidm_debug("source GTID position '%s' not parsed: %s", st.gtid, tidm_err_msg());
				tidm_err_clear();
				tidm_gtid_set_dispose(&s->b_gtid);
				tidm_gtid_set_init(&s->b_gtid, TIDM_GTID_AUTO);
			}
		}
		tidm_replica_status_dispose(&st);
		if (s->by_gtid) {
			tidm_gtid_flavor want = s->flavor == TIDM_FLAVOR_MARIADB ? TIDM_GTID_MARIADB : TIDM_GTID_MYSQL;
			if (!tidm_gtid_set_is_empty(&s->b_gtid) && s->b_gtid.flavor != want) {
				rc = tidm_err_set(TIDM_EINVAL, "start GTID '%s' is a %s GTID but the source is %s",
						  s->o.start_gtid, s->b_gtid.flavor == TIDM_GTID_MYSQL ? "MySQL" : "MariaDB",
						  want == TIDM_GTID_MYSQL ? "MySQL" : "MariaDB");
				goto fail;
			}
		}
	}
	if (s->by_gtid && s->flavor == TIDM_FLAVOR_MARIADB) {
		tidm_gtid_set_format(&s->b_gtid, &state);
		setup.mariadb_connect_state = state.data ? state.data : "";
	}
	if ((rc = tidm_replica_prepare(s->conn, &setup, &alg)) < 0)
		goto fail;
	s->declared_alg = alg;
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	if ((rc = tidm_replica_register(s->conn, s->server_id, host, 0)) < 0)
		goto fail;
	unsigned flags = s->o.non_block ? TIDM_REPLICA_NON_BLOCK : 0;
	if (s->by_gtid && s->flavor != TIDM_FLAVOR_MARIADB)
		rc = tidm_replica_dump_gtid(s->conn, s->server_id, &s->b_gtid, "", 4, flags);
	else if (s->by_gtid)
		rc = tidm_replica_dump(s->conn, s->server_id, "", 4, flags);
	else
		rc = tidm_replica_dump(s->conn, s->server_id, s->b_file, s->b_pos ? s->b_pos : 4, flags);
	if (rc < 0)
		goto fail;
	tidm_binlog_decoder_free(s->dec);
	s->dec = tidm_binlog_decoder_new();
	if (!s->dec)
		abort();
	tidm_binlog_decoder_set_checksum(s->dec, alg);
	memcpy(s->cur_file, s->b_file, sizeof(s->cur_file));
	s->cur_pos = s->b_pos;
	memset(&s->trx, 0, sizeof(s->trx));
	s->in_payload = false;
	tidm_buf_dispose(&state);
	return 0;
fail:
	tidm_buf_dispose(&state);
	tidm_conn_close(s->conn);
	s->conn = NULL;
	return rc;
}

int tidm_repl_stream_open(tidm_repl_stream **out, const tidm_repl_opts *o)
{
	tidm_repl_stream *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->o = *o;
	if (!s->o.heartbeat_ms)
		s->o.heartbeat_ms = 1000;
	s->server_id = o->server_id ? o->server_id : tidm_replica_server_id(o->job_name ? o->job_name : "tidm");
	s->delay_ms = BACKOFF_FIRST_MS;
	tidm_gtid_set_init(&s->b_gtid, TIDM_GTID_AUTO);
	switch (o->start) {
	case TIDM_REPL_START_NOW:
		break;
	case TIDM_REPL_START_FILE:
		if (!o->start_file || !*o->start_file) {
			rc = tidm_err_set(TIDM_EINVAL, "a binlog start position needs a file name");
			goto fail;
		}
		copy_name(s->b_file, o->start_file, strlen(o->start_file));
		s->b_pos = o->start_pos ? o->start_pos : 4;
		break;
	case TIDM_REPL_START_GTID:
		s->by_gtid = true;
		if ((rc = tidm_gtid_set_parse(&s->b_gtid, TIDM_GTID_AUTO, o->start_gtid ? o->start_gtid : "")) < 0)
			goto fail;
		break;
	default:
		rc = tidm_err_set(TIDM_EINVAL, "unknown stream start kind %d", (int)o->start);
		goto fail;
	}
	if ((rc = connect_and_dump(s, true)) < 0)
		goto fail;
	tidm_info("binlog stream from %s:%u as replica %u, starting at %s", o->conn.host ? o->conn.host : "localhost",
		  o->conn.port, s->server_id,
		  s->by_gtid ? "a GTID set" : s->b_file);
	*out = s;
	return 0;
fail:
	tidm_repl_stream_close(s);
	return rc;
}

void tidm_repl_stream_close(tidm_repl_stream *s)
{
	if (!s)
		return;
	tidm_conn_close(s->conn);
	tidm_binlog_decoder_free(s->dec);
	tidm_gtid_set_dispose(&s->b_gtid);
	free(s);
}

/* Reconnect from the boundary until it works, the caller cancels, or a fatal error. */
static int reconnect(tidm_repl_stream *s)
{
	int rc;

	tidm_conn_close(s->conn);
	s->conn = NULL;
	for (;;) {
		if (canceled(s))
			return tidm_err_set(TIDM_ECANCELED, "binlog stream canceled");
		tidm_info("binlog stream: reconnecting in %u ms (resume at %s%s:%llu)", s->delay_ms,
			  s->by_gtid ? "the executed GTID set, " : "", s->b_file, (unsigned long long)s->b_pos);
		sleep_ms_cancelable(s, s->delay_ms);
		if (canceled(s))
			return tidm_err_set(TIDM_ECANCELED, "binlog stream canceled");
		s->delay_ms = s->delay_ms * 2 > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : s->delay_ms * 2;
		rc = connect_and_dump(s, false);
		if (rc == 0)
			break;
		if (rc != TIDM_ECONN)
			return rc;
		tidm_warn("binlog stream: reconnect failed: %s", tidm_err_msg());
	}
	s->reconnects++;
	s->notify_reconnect = true;
	return 0;
}

static void until_check(tidm_repl_stream *s, const char *file, uint64_t pos)
{
	if (!s->o.until_open_pos || !file[0] || !s->open_file[0])
		return;
	int c = tidm_repl_file_cmp(file, s->open_file);
	if (c > 0 || (c == 0 && pos >= s->open_pos))
		s->done = true;
}

static bool is_artificial(const tidm_binlog_event *ev)
{
	uint8_t t = ev->hdr.type;
	return (ev->hdr.flags & TIDM_BINLOG_F_ARTIFICIAL) || t == TIDM_BINLOG_HEARTBEAT || t == TIDM_BINLOG_HEARTBEAT_V2 ||
	       (ev->hdr.timestamp == 0 && (t == TIDM_BINLOG_ROTATE || t == TIDM_BINLOG_MARIA_GTID_LIST));
}

/* Position bookkeeping after event `out->ev` has been decoded (top-level or inner). */
static void track(tidm_repl_stream *s, tidm_repl_event *out)
{
	tidm_gtid g;
	bool has_g = false;

	out->trx_end = tidm_repl_trx_feed(&s->trx, &out->ev, &g, &has_g);
	if (out->trx_end && has_g && tidm_gtid_set_add(&s->b_gtid, &g) < 0) {
		tidm_debug("GTID not added to the executed set: %s", tidm_err_msg());
		tidm_err_clear();
	}
	out->in_trx = s->trx.in_trx;
	if (!s->trx.in_trx && !out->ev.unsupported && s->cur_file[0]) {
		/* the boundary moved: real progress, so the next reconnect waits the first step
		 * again (the fake events of a reconnect do not move it: a peer that cuts every
		 * stream at the same event is retried with a growing backoff) */
		if (s->b_pos != s->cur_pos || strcmp(s->b_file, s->cur_file) != 0)
			s->delay_ms = BACKOFF_FIRST_MS;
		memcpy(s->b_file, s->cur_file, sizeof(s->b_file));
		s->b_pos = s->cur_pos;
	}
}

int tidm_repl_stream_next(tidm_repl_stream *s, tidm_repl_event *out)
{
	const uint8_t *p;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	for (;;) {
		if (canceled(s))
			return tidm_err_set(TIDM_ECANCELED, "binlog stream canceled");
		if (s->notify_reconnect) {
			s->notify_reconnect = false;
			return TIDM_REPL_RECONNECTED;
		}
		if (s->in_payload) {
			rc = tidm_binlog_decoder_payload_next(s->dec, &out->ev);
			if (rc == 1) {
				out->dec = s->dec;
				out->file = s->ev_file;
				out->pos = s->payload_pos;
				out->next_pos = s->payload_next;
				out->in_payload = true;
				track(s, out);
				return 1;
			}
			s->in_payload = false;
			if (rc < 0) {
				tidm_err_prefix("binlog %s position %llu, inside TRANSACTION_PAYLOAD: ", s->ev_file,
						(unsigned long long)s->payload_pos);
				return rc;
			}
			until_check(s, s->cur_file, s->cur_pos);
			continue;
		}
		if (s->done)
			return 0;
		if (!s->conn) {
			if ((rc = reconnect(s)) < 0)
				return rc;
			continue;
		}
		/* wait in short slices: the cancel flag is seen within POLL_SLICE_MS, and
		 * silence for 2.5 heartbeat periods is a dead link */
		{
			uint64_t waited = 0, dead = dead_ms(s);
			while (!tidm_replica_poll(s->conn, POLL_SLICE_MS)) {
				if (canceled(s))
					return tidm_err_set(TIDM_ECANCELED, "binlog stream canceled");
				waited += POLL_SLICE_MS;
				if (waited >= dead)
					break;
			}
			if (waited >= dead) {
				char st[40] = "";
				if (s->o.conn.stall_timeout)
					snprintf(st, sizeof(st), ", stall-timeout %u s", s->o.conn.stall_timeout);
				tidm_err_set(TIDM_ECONN, "source binlog stream: no packet for %llu ms (heartbeat period "
							 "%u ms%s): the link or the source is gone",
					     (unsigned long long)waited, s->o.heartbeat_ms, st);
				tidm_warn("binlog stream: %s", tidm_err_msg());
				if ((rc = reconnect(s)) < 0)
					return rc;
				continue;
			}
		}
		rc = tidm_replica_read(s->conn, &p, &n);
		if (rc == 0 && !s->o.non_block) {
			/* a blocking dump ends only when the source goes away (a clean shutdown or
			 * restart sends EOF): follow it like a lost link */
			tidm_err_set(TIDM_ECONN, "source binlog stream: the source ended the dump (shut down or restarted)");
			rc = TIDM_ECONN;
		}
		if (rc == 0) {
			s->done = true;
			return 0;
		}
		if (rc == TIDM_ECONN) {
			tidm_warn("binlog stream: %s", tidm_err_msg());
			if ((rc = reconnect(s)) < 0)
				return rc;
			continue;
		}
		if (rc < 0)
			return rc;

		tidm_binlog_header h;
		if ((rc = tidm_binlog_header_parse(&h, p, n)) < 0 || h.event_size != n) {
			return tidm_err_set(TIDM_ECORRUPT,
					    "binlog %s position %llu: packet of %zu bytes holds an event of size %u",
					    s->cur_file, (unsigned long long)s->cur_pos, n, rc < 0 ? 0 : h.event_size);
		}
		rc = tidm_binlog_decoder_decode(s->dec, &out->ev, p, n, 0);
		if (rc < 0) {
			const char *tn = tidm_binlog_type_name(h.type);
			tidm_err_prefix("binlog %s position %llu, %s event: ", s->cur_file, (unsigned long long)s->cur_pos,
					tn ? tn : "UNKNOWN");
			return rc;
		}
		out->dec = s->dec;
		out->artificial = is_artificial(&out->ev) ||
				  (out->ev.hdr.type == TIDM_BINLOG_FORMAT_DESCRIPTION && out->ev.hdr.log_pos == 0);
		const tidm_binlog_event *ev = &out->ev;
		uint8_t t = ev->hdr.type;

		if (t == TIDM_BINLOG_HEARTBEAT || t == TIDM_BINLOG_HEARTBEAT_V2) {
			char hb_file[NAME_MAX_];
			copy_name(hb_file, ev->u.heartbeat.name ? ev->u.heartbeat.name : "", ev->u.heartbeat.name_len);
			/* A MySQL primary that skipped transactions the replica has (GTID dump)
			 * sends a heartbeat with the end of what it skipped: between transactions,
			 * the position moves there, as a MySQL replica's source log position does. */
			if (!s->trx.in_trx && !ev->unsupported && s->cur_file[0] && !strcmp(hb_file, s->cur_file) &&
			    ev->u.heartbeat.position > s->cur_pos) {
				s->cur_pos = ev->u.heartbeat.position;
				memcpy(s->b_file, s->cur_file, sizeof(s->b_file));
				s->b_pos = s->cur_pos;
			}
			until_check(s, hb_file[0] ? hb_file : s->cur_file, ev->u.heartbeat.position);
			if (!s->o.return_heartbeats)
				continue;
			memcpy(s->ev_file, s->cur_file, sizeof(s->ev_file));
			out->file = s->ev_file;
			out->pos = out->next_pos = ev->u.heartbeat.position;
			return 1;
		}
		if (t == TIDM_BINLOG_ROTATE && !ev->unsupported) {
			if (out->artificial) {
				copy_name(s->cur_file, ev->u.rotate.name, ev->u.rotate.name_len);
				s->cur_pos = ev->u.rotate.position;
				memcpy(s->ev_file, s->cur_file, sizeof(s->ev_file));
				out->pos = out->next_pos = s->cur_pos;
			} else {
				memcpy(s->ev_file, s->cur_file, sizeof(s->ev_file));
				out->pos = ev->hdr.log_pos >= n ? ev->hdr.log_pos - n : s->cur_pos;
				out->next_pos = ev->hdr.log_pos ? ev->hdr.log_pos : s->cur_pos + n;
				copy_name(s->cur_file, ev->u.rotate.name, ev->u.rotate.name_len);
				s->cur_pos = ev->u.rotate.position;
			}
		} else {
			memcpy(s->ev_file, s->cur_file, sizeof(s->ev_file));
			if (ev->hdr.log_pos) {
				out->pos = ev->hdr.log_pos >= n ? ev->hdr.log_pos - n : s->cur_pos;
				s->cur_pos = ev->hdr.log_pos;
			} else if (out->artificial || t == TIDM_BINLOG_FORMAT_DESCRIPTION) {
				/* fake events and the FDE sent before a mid-file start have no position */
				out->pos = s->cur_pos;
			} else {
				/* MariaDB 11.4+ writes log_pos 0 for events from the transaction cache */
				out->pos = s->cur_pos;
				s->cur_pos += n;
			}
			out->next_pos = s->cur_pos;
		}
		out->file = s->ev_file;
		track(s, out);
		if (t == TIDM_BINLOG_TRANSACTION_PAYLOAD && !ev->unsupported) {
			if ((rc = tidm_binlog_decoder_payload_begin(s->dec, ev)) < 0) {
				tidm_err_prefix("binlog %s position %llu, TRANSACTION_PAYLOAD: ", s->ev_file,
						(unsigned long long)out->pos);
				return rc;
			}
			s->in_payload = true;
			s->payload_pos = out->pos;
			s->payload_next = out->next_pos;
			return 1;
		}
		until_check(s, s->cur_file, s->cur_pos);
		return 1;
	}
}

const char *tidm_repl_stream_file(const tidm_repl_stream *s) { return s->b_file; }
uint64_t tidm_repl_stream_pos(const tidm_repl_stream *s) { return s->b_pos; }
const tidm_gtid_set *tidm_repl_stream_gtid(const tidm_repl_stream *s) { return &s->b_gtid; }
const char *tidm_repl_stream_open_file(const tidm_repl_stream *s) { return s->open_file; }
uint64_t tidm_repl_stream_open_pos(const tidm_repl_stream *s) { return s->open_pos; }
unsigned tidm_repl_stream_reconnects(const tidm_repl_stream *s) { return s->reconnects; }
