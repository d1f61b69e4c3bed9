/*
 * watchdog.c - stalled links: a statement waiting on a server that will never answer.
 *
 * DESIGN
 *  A read timeout cannot tell a stalled link from a long statement: a replicated ALTER or
 *  a LOAD DATA of a big batch may keep a target busy for an hour, and cutting it would
 *  undo the work and try it again for ever. The server knows which it is. So a wait that
 *  has lasted stall_timeout seconds is looked into from a second connection of the same
 *  user (a user sees its own sessions without the PROCESS privilege):
 *    SELECT COMMAND FROM information_schema.PROCESSLIST WHERE ID = <thread id>
 *  - bytes moved on our socket since the wait began or the last look (TCP_INFO counters
 *    of bytes received and acknowledged): the link carries data (a slow link, a big
 *    row): alive, whatever the server says;
 *  - a session in a command (Query, Execute, ...): the server works on our statement:
 *    alive; looked at again one period later; except in the states where the server
 *    itself waits on the link: "Writing to net", "Sending to client" (MySQL 8),
 *    "Reading from net": it sends us rows we never receive, or waits for bytes we sent;
 *  - Sleep or Killed: the server has answered, or never received the statement, and we
 *    still wait: the link lost it (a stalled middlebox, a dropped NAT entry);
 *  - no such session: the server has closed it; the link never told us;
 *  - the second connection fails with a network error (refused, timeout, lost): the server
 *    cannot be reached at all; a server error (too many connections, access denied)
 *    tells nothing, and nothing is done.
 *  On a stalled verdict the server's session is ended (KILL CONNECTION from the second
 *  connection, when it got that far: what the network still holds must find no session
 *  when the link heals, db/fence.h) and our socket is shut down (not closed: its owner still holds it):
 *  the blocked read returns at once, Connector/C reports the lost connection, and the
 *  caller's retry path (TIDM_ECONN) reopens, as after a cut. The look runs outside the
 *  lock; a slot released meanwhile is freed by the watchdog when the look ends, and a
 *  verdict about a wait that has since ended (generation changed) is dropped.
 *
 *  One thread for the process, started with the first watched connection, polling every
 *  250 ms; it never exits (it sleeps on a condition while nothing is watched).
 */
#include "db/watchdog.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "db/conn.h"
#include "util/err.h"
#include "util/log.h"

#define WD_TICK_MS 250
#define WD_WHAT 80

struct tidm_wd_slot {
	struct tidm_wd_slot *next;
	/* the second connection's settings (copies) */
	tidm_conn_opts o;
	char *host, *user, *password, *ca, *cert, *key;
	int fd;
	unsigned long thread_id;
	uint64_t stall_ms;
	/* guarded by wd_mu */
	uint64_t busy_since; /* 0 = not waiting */
	uint64_t gen;
	uint64_t last_look;
	uint64_t moved; /* TCP bytes received + acknowledged at the wait's start / last look */
	char what[WD_WHAT + 1];
	bool looking, orphan;
	bool fired;
};

static pthread_mutex_t wd_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cv = PTHREAD_COND_INITIALIZER;
static tidm_wd_slot *wd_head;
static bool wd_started;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Bytes received plus bytes the peer acknowledged on `fd`; 0 when unknown (not TCP). */
static uint64_t tcp_moved(int fd)
{
	struct tcp_info ti;
	socklen_t n = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &n) != 0)
		return 0;
	if (n < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
		return 0;
	return ti.tcpi_bytes_received + ti.tcpi_bytes_acked;
}

static bool waits_on_link(const char *state)
{
	return state && (strstr(state, "Writing to net") || strstr(state, "Sending to client") ||
			 strstr(state, "Reading from net"));
}

static char *dup0(const char *s) { return s ? strdup(s) : NULL; }

static void slot_free(tidm_wd_slot *s)
{
	if (s->password) {
		memset(s->password, 0, strlen(s->password));
		free(s->password);
	}
	free(s->host);
	free(s->user);
	free(s->ca);
	free(s->cert);
	free(s->key);
	free(s);
}

enum verdict { WD_ALIVE, WD_STALLED, WD_UNKNOWN };

/* Ask the server about session `s->thread_id` (no lock held). `why` gets the reason. */
/* End the server's side of a stalled link too: statements held in the network must find
 * no session when the link heals (db/fence.h). Closes `side`. */
static void end_session(tidm_conn *side, unsigned long thread_id)
{
	char sql[64];

	if (tidm_conn_info(side)->flavor == TIDM_FLAVOR_TIDB && tidm_conn_info(side)->version < 60100)
		snprintf(sql, sizeof(sql), "KILL TIDB %lu", thread_id);
	else
		snprintf(sql, sizeof(sql), "KILL CONNECTION %lu", thread_id);
	if (tidm_conn_exec(side, sql, strlen(sql)) < 0)
		tidm_err_clear();
	tidm_conn_close(side);
}

/* *side: on a stalled verdict whose session still exists, the open second connection. */
static enum verdict look(const tidm_wd_slot *s, char *why, size_t cap, tidm_conn **side)
{
	tidm_conn_opts o = s->o;
	unsigned t = (unsigned)(s->stall_ms / 1000u);
	tidm_conn *c = NULL;
	tidm_res *res = NULL;
	const char *cmd = NULL, *state = NULL;
	char sql[128];
	enum verdict v;

	if (t < 1)
		t = 1;
	if (t > 10)
		t = 10;
	o.connect_timeout = t;
	o.read_timeout = t;
	o.retries = 1;
	o.stall_timeout = 0;
	o.init_sql = NULL;
	o.local_infile = false;
	o.multi_statements = false;
	if (tidm_conn_open(&c, &o) < 0) {
		int code = tidm_err_code();
		snprintf(why, cap, "a new connection fails too (%s)", tidm_err_msg());
		tidm_err_clear();
		return code == TIDM_ECONN ? WD_STALLED : WD_UNKNOWN;
	}
	snprintf(sql, sizeof(sql), "SELECT COMMAND, STATE FROM information_schema.PROCESSLIST WHERE ID = %lu",
		 s->thread_id);
	if (tidm_conn_query(c, &res, sql) < 0) {
		int code = tidm_err_code();
		snprintf(why, cap, "the process list cannot be read (%s)", tidm_err_msg());
		tidm_err_clear();
		tidm_conn_close(c);
		return code == TIDM_ECONN ? WD_STALLED : WD_UNKNOWN;
	}
	if (tidm_res_next(res) == 1) {
		cmd = tidm_res_get(res, 0);
		state = tidm_res_get(res, 1);
	}
	if (!cmd) {
		snprintf(why, cap, "the server has no session %lu any more", s->thread_id);
		v = WD_STALLED;
	} else if (!strcmp(cmd, "Sleep") || !strcmp(cmd, "Killed")) {
		snprintf(why, cap, "the server's session %lu is idle (%s): it answered, or never got the statement",
			 s->thread_id, cmd);
		v = WD_STALLED;
	} else if (waits_on_link(state)) {
		snprintf(why, cap, "the server's session %lu waits on the link (%s, %s) and no byte has moved",
			 s->thread_id, cmd, state);
		v = WD_STALLED;
	} else {
		snprintf(why, cap, "the server still runs it (%s%s%s)", cmd, state && *state ? ", " : "",
			 state ? state : "");
		v = WD_ALIVE;
	}
	tidm_res_free(res);
	if (v == WD_STALLED && cmd) {
		*side = c; /* the caller ends the session with it (end_session) */
		return v;
	}
	tidm_conn_close(c);
	return v;
}

static void *wd_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&wd_mu);
	for (;;) {
		tidm_wd_slot *s, *pick = NULL;
		uint64_t now, gen, since;
		enum verdict v;
		tidm_conn *side;
		char why[512];

		while (!wd_head)
			pthread_cond_wait(&wd_cv, &wd_mu);
		now = now_ms(); /* after the wait: a clock read before it made new waits look old */
		for (s = wd_head; s; s = s->next)
			if (!s->orphan && !s->fired && s->busy_since && now >= s->busy_since + s->stall_ms &&
			    now >= s->last_look + s->stall_ms) {
				pick = s;
				break;
			}
		if (!pick) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += WD_TICK_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&wd_cv, &wd_mu, &ts);
			continue;
		}
		gen = pick->gen;
		since = pick->busy_since;
		{
			uint64_t moved = tcp_moved(pick->fd);
			if (moved != pick->moved) {
				/* the link carries bytes: not stalled; look again a period later */
				pick->moved = moved;
				pick->last_look = now;
				continue;
			}
		}
		pick->looking = true;
		pthread_mutex_unlock(&wd_mu);
		side = NULL;
		v = look(pick, why, sizeof(why), &side);
		pthread_mutex_lock(&wd_mu);
		pick->looking = false;
		pick->last_look = now_ms();
		if (pick->orphan) {
			slot_free(pick);
			pthread_cond_broadcast(&wd_cv);
			if (side)
				tidm_conn_close(side);
			continue;
		}
		if (v == WD_STALLED && pick->gen == gen && pick->busy_since) {
			tidm_warn("%s link to %s:%u stalled: no answer for %llu s to \"%s\"; %s. Closing it; the "
				  "work is tried again on a new connection",
				  pick->o.role == TIDM_ROLE_SOURCE ? "source" : "target",
				  pick->host ? pick->host : "localhost", pick->o.port,
				  (unsigned long long)((pick->last_look - since) / 1000u), pick->what, why);
			pick->fired = true;
			shutdown(pick->fd, SHUT_RDWR);
			if (side) {
				/* our side is closed first, so the call fails as stalled whatever the
				 * kill makes the link do; `pick` may be freed once the lock is let go */
				unsigned long tid = pick->thread_id;
				pthread_mutex_unlock(&wd_mu);
				end_session(side, tid);
				side = NULL;
				pthread_mutex_lock(&wd_mu);
			}
		} else if (v != WD_STALLED && pick->gen == gen && pick->busy_since) {
			tidm_debug("%s link to %s:%u: waiting %llu s on \"%s\": %s",
				   pick->o.role == TIDM_ROLE_SOURCE ? "source" : "target",
				   pick->host ? pick->host : "localhost", pick->o.port,
				   (unsigned long long)((pick->last_look - since) / 1000u), pick->what, why);
		}
		if (side) { /* the wait ended meanwhile: the session is fine */
			pthread_mutex_unlock(&wd_mu);
			tidm_conn_close(side);
			pthread_mutex_lock(&wd_mu);
		}
		pthread_cond_broadcast(&wd_cv);
	}
	return NULL;
}

tidm_wd_slot *tidm_wd_register(const tidm_conn_opts *o, int fd, unsigned long thread_id)
{
	tidm_wd_slot *s;

	if (!o->stall_timeout || fd < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->o = *o;
	s->host = dup0(o->host);
	s->user = dup0(o->user);
	s->password = dup0(o->password);
	s->ca = dup0(o->tls_ca);
	s->cert = dup0(o->tls_cert);
	s->key = dup0(o->tls_key);
	s->o.host = s->host;
	s->o.user = s->user;
	s->o.password = s->password;
	s->o.tls_ca = s->ca;
	s->o.tls_cert = s->cert;
	s->o.tls_key = s->key;
	s->o.init_sql = NULL;
	s->fd = fd;
	s->thread_id = thread_id;
	s->stall_ms = (uint64_t)o->stall_timeout * 1000u;
	pthread_mutex_lock(&wd_mu);
	if (!wd_started) {
		pthread_t t;
		if (pthread_create(&t, NULL, wd_main, NULL) == 0) {
			pthread_detach(t);
			wd_started = true;
		} else {
			pthread_mutex_unlock(&wd_mu);
			tidm_warn("cannot start the stalled-link watchdog; links are not watched");
			slot_free(s);
			return NULL;
		}
	}
	s->next = wd_head;
	wd_head = s;
	pthread_cond_broadcast(&wd_cv);
	pthread_mutex_unlock(&wd_mu);
	return s;
}

void tidm_wd_unregister(tidm_wd_slot *s)
{
	tidm_wd_slot **pp;

	if (!s)
		return;
	pthread_mutex_lock(&wd_mu);
	for (pp = &wd_head; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->looking) {
		/* the watchdog frees it when its look ends; the socket must not be shut down
		 * after its owner closes it (the number may be reused) */
		s->orphan = true;
		s->busy_since = 0;
		pthread_mutex_unlock(&wd_mu);
		return;
	}
	pthread_mutex_unlock(&wd_mu);
	slot_free(s);
}

void tidm_wd_busy(tidm_wd_slot *s, const char *what, size_t len)
{
	size_t i, n;

	if (!s)
		return;
	pthread_mutex_lock(&wd_mu);
	s->busy_since = now_ms();
	s->gen++;
	s->last_look = 0;
	s->moved = tcp_moved(s->fd);
	n = len < WD_WHAT ? len : WD_WHAT;
	for (i = 0; i < n; i++)
		s->what[i] = (what[i] == '\n' || what[i] == '\r' || what[i] == '\t' || what[i] == '"') ? ' ' : what[i];
	s->what[n] = '\0';
	pthread_mutex_unlock(&wd_mu);
}

void tidm_wd_idle(tidm_wd_slot *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&wd_mu);
	s->busy_since = 0;
	pthread_mutex_unlock(&wd_mu);
}

bool tidm_wd_fired(const tidm_wd_slot *s)
{
	bool f;

	if (!s)
		return false;
	pthread_mutex_lock(&wd_mu);
	f = s->fired;
	pthread_mutex_unlock(&wd_mu);
	return f;
}
