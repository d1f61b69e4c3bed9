/*
 * alerts.c - the daemon's alerts and their subscribers (alerts.h, manager.h).
 *
 * DESIGN
 *  - The watcher thread takes m->mu once per round, compares every job with what it saw
 *    the round before (state, progress count, lag) and collects the notices of incidents
 *    that open or clear; each notice is written as an event of the job (and so logged)
 *    while the lock is held. Deliveries are queued after the lock is dropped.
 *  - The delivery thread sends queued notices, one at a time, the earliest due first; a
 *    failed try is put back with the next wait (1 s doubling, at most 60 s) until the
 *    8th try, then dropped with an error in the log. Log lines name the subscription by
 *    id, never its URL (it may carry credentials).
 *  - Webhook bodies are compact JSON with sorted keys; the signature covers exactly the
 *    bytes sent.
 */
#include "service/alerts.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "service/manager_int.h"
#include "util/err.h"
#include "util/log.h"

extern char **environ;

#define DEFAULT_SENDMAIL "/usr/sbin/sendmail"
#define MAX_TRIES 8
#define FIRST_WAIT_MS 1000
#define MAX_WAIT_MS 60000
#define CAUGHT_UP_LAG_S 60 /* as TidmJobNoProgress in monitoring/tidm-alerts.yml */

enum { INC_FAILED, INC_NO_PROGRESS, INC_LAG, INC_KINDS };
static const char *const inc_names[INC_KINDS] = {"failed", "no_progress", "lag"};
static const char *const inc_titles[INC_KINDS] = {"failed", "no progress", "replication lag"};

struct watch {
	char name[64];
	int64_t created_at; /* a job re-created under the same name is another job */
	char state[16];
	uint64_t count;      /* rows copied + binlog events applied */
	int64_t progress_ms; /* monotonic ms of the last progress */
	bool open[INC_KINDS];
	char incident[INC_KINDS][128];
	unsigned round;
};

struct notice {
	char job[64];
	int kind;
	char state[16];
	char message[1024];
	char incident[128];
	bool cleared;
	int64_t time; /* Unix ms */
};

struct item {
	struct item *next;
	char job[64]; /* for the log */
	int64_t sub_id;
	char kind[16];
	char *target;
	char *secret; /* sealed */
	char *body;   /* webhook: the JSON; email: the whole message */
	unsigned tries;
	int64_t due; /* monotonic ms */
};

struct mgr_alerts {
	tidm_manager *m;
	char sendmail[1024];
	unsigned interval_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	bool stop;
	pthread_t watcher, sender;
	bool have_watcher, have_sender;
	struct watch *w; /* watcher thread only */
	size_t nw, capw;
	unsigned round;
	struct item *queue;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait on a->cv until `due` (monotonic ms) or a signal. a->mu held. */
static void wait_until(mgr_alerts *a, int64_t due)
{
	struct timespec ts = {.tv_sec = (time_t)(due / 1000), .tv_nsec = (long)(due % 1000) * 1000000};
	pthread_cond_timedwait(&a->cv, &a->mu, &ts);
}

/* ---- the watcher ------------------------------------------------------------------- */

/* The job's thresholds from its definition (validated by job/config.c at creation). */
static void thresholds(const mgr_job *j, int64_t *no_progress_s, int64_t *lag_s)
{
	json_t *d = json_loads(j->def, 0, NULL), *al = d ? json_object_get(d, "alerts") : NULL, *v;

	*no_progress_s = 1200;
	*lag_s = 0;
	if (json_is_object(al)) {
		if (json_is_integer(v = json_object_get(al, "no-progress-minutes")))
			*no_progress_s = json_integer_value(v) * 60;
		if (json_is_integer(v = json_object_get(al, "no-progress-seconds")))
			*no_progress_s = json_integer_value(v);
		if (json_is_integer(v = json_object_get(al, "lag-seconds")))
			*lag_s = json_integer_value(v);
	}
	json_decref(d);
}

static struct watch *watch_of(mgr_alerts *a, const mgr_job *j, bool *fresh)
{
	struct watch *w;

	*fresh = false;
	for (size_t i = 0; i < a->nw; i++)
		if (!strcmp(a->w[i].name, j->name) && a->w[i].created_at == j->created_at)
			return &a->w[i];
	if (a->nw == a->capw) {
		size_t cap = a->capw ? a->capw * 2 : 16;
		struct watch *g = realloc(a->w, cap * sizeof(*g));
		if (!g)
			return NULL;
		a->w = g;
		a->capw = cap;
	}
	w = &a->w[a->nw++];
	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", j->name);
	w->created_at = j->created_at;
	*fresh = true;
	return w;
}

/* Opens or clears incident `kind` of w; appends the notice and writes the job's event. */
static void flip(tidm_manager *m, mgr_job *j, struct watch *w, int kind, bool open, struct notice **ns, size_t *nn,
		 size_t *capn, const char *fmt, ...) __attribute__((format(printf, 9, 10)));
static void flip(tidm_manager *m, mgr_job *j, struct watch *w, int kind, bool open, struct notice **ns, size_t *nn,
		 size_t *capn, const char *fmt, ...)
{
	struct notice *n;
	va_list ap;

	if (w->open[kind] == open)
		return;
	w->open[kind] = open;
	if (open)
		snprintf(w->incident[kind], sizeof(w->incident[kind]), "%s-%s-%lld", j->name, inc_names[kind],
			 (long long)mgr_now_ms());
	if (*nn == *capn) {
		size_t cap = *capn ? *capn * 2 : 8;
		struct notice *g = realloc(*ns, cap * sizeof(*g));
		if (!g)
			return;
		*ns = g;
		*capn = cap;
	}
	n = &(*ns)[(*nn)++];
	memset(n, 0, sizeof(*n));
	snprintf(n->job, sizeof(n->job), "%s", j->name);
	n->kind = kind;
	snprintf(n->state, sizeof(n->state), "%s", j->state);
	va_start(ap, fmt);
	vsnprintf(n->message, sizeof(n->message), fmt, ap);
	va_end(ap);
	snprintf(n->incident, sizeof(n->incident), "%s", w->incident[kind]);
	n->cleared = !open;
	n->time = mgr_now_ms();
	mgr_event(m, j, open ? (kind == INC_FAILED ? "error" : "warn") : "info", "alert", NULL, "alert %s %s: %s",
		  inc_names[kind], open ? "opened" : "cleared", n->message);
}

/* One round over every job. m->mu held. */
static void watch_round(mgr_alerts *a, struct notice **ns, size_t *nn, size_t *capn)
{
	tidm_manager *m = a->m;
	int64_t now = mono_ms();
	size_t k;

	a->round++;
	for (k = 0; k < m->njobs; k++) {
		mgr_job *j = m->jobs[k];
		bool fresh, running, progressed, syncing;
		int64_t np_s, lag_max, lag = atomic_load(&j->prog.sync.lag_s);
		uint64_t count;
		struct watch *w;

		if (j->deleted || !(w = watch_of(a, j, &fresh)))
			continue;
		w->round = a->round;
		thresholds(j, &np_s, &lag_max);
		running = !strcmp(j->state, "running");
		syncing = running && !strcmp(mgr_live_stage(j), "syncing");
		count = atomic_load(&j->prog.full.rows_done) + atomic_load(&j->prog.sync.events);
		if (fresh) {
			/* a job the daemon found at start keeps its state as seen; one created since
			 * (perhaps failed already) starts from nothing */
			snprintf(w->state, sizeof(w->state), "%s", a->round == 1 ? j->state : "");
			w->count = count;
			w->progress_ms = now;
		}
		progressed = count != w->count || (syncing && lag >= 0 && lag < CAUGHT_UP_LAG_S);
		if (progressed || (running && strcmp(w->state, "running") != 0)) {
			w->count = count;
			w->progress_ms = now;
		}

		/* failed: on the transition into it; clears when the job leaves it */
		if (!strcmp(j->state, "failed") && strcmp(w->state, "failed") != 0)
			flip(m, j, w, INC_FAILED, true, ns, nn, capn, "job %s failed: %s", j->name,
			     j->last_error ? j->last_error : "(no message)");
		else if (strcmp(j->state, "failed") != 0)
			flip(m, j, w, INC_FAILED, false, ns, nn, capn, "job %s is %s again", j->name, j->state);

		if (running && now - w->progress_ms >= np_s * 1000)
			flip(m, j, w, INC_NO_PROGRESS, true, ns, nn, capn,
			     "job %s has made no progress for %lld s (no row copied, no binlog event applied, not caught up)",
			     j->name, (long long)((now - w->progress_ms) / 1000));
		else if (!running)
			flip(m, j, w, INC_NO_PROGRESS, false, ns, nn, capn, "job %s is no longer running (state %s)", j->name,
			     j->state);
		else if (progressed)
			flip(m, j, w, INC_NO_PROGRESS, false, ns, nn, capn, "job %s makes progress again", j->name);

		if (lag_max > 0 && syncing && lag > lag_max)
			flip(m, j, w, INC_LAG, true, ns, nn, capn, "job %s lags %lld s behind the source (threshold %lld s)",
			     j->name, (long long)lag, (long long)lag_max);
		else if (!syncing)
			flip(m, j, w, INC_LAG, false, ns, nn, capn, "job %s is no longer syncing (state %s)", j->name, j->state);
		else if (lag >= 0 && lag <= lag_max)
			flip(m, j, w, INC_LAG, false, ns, nn, capn, "job %s lags %lld s, under the threshold of %lld s",
			     j->name, (long long)lag, (long long)lag_max);
		snprintf(w->state, sizeof(w->state), "%s", j->state);
	}
	/* jobs gone: their incidents end without a notice */
	for (k = 0; k < a->nw;) {
		if (a->w[k].round != a->round)
			a->w[k] = a->w[--a->nw];
		else
			k++;
	}
}

static char *webhook_body(const struct notice *n)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:b}", "event", inc_names[n->kind], "job", n->job, "state",
			      n->state, "message", n->message, "time", mgr_time_json(n->time), "incident", n->incident,
			      "cleared", n->cleared);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(o);
	return s;
}

static char *mail_body(const struct notice *n, const char *to)
{
	json_t *t = mgr_time_json(n->time);
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (!f) {
		json_decref(t);
		return NULL;
	}
	fprintf(f,
		"To: %s\nSubject: [tidm] job %s: %s%s\nContent-Type: text/plain; charset=utf-8\n"
		"Auto-Submitted: auto-generated\nX-Tidm-Incident: %s\n\n%s\n\njob: %s\nstate: %s\nalert: %s\n"
		"incident: %s\ncleared: %s\ntime: %s\n",
		to, n->job, inc_titles[n->kind], n->cleared ? " (resolved)" : "", n->incident, n->message, n->job, n->state,
		inc_names[n->kind], n->incident, n->cleared ? "true" : "false", json_string_value(t));
	fclose(f);
	json_decref(t);
	return s;
}

/* Queue every notice for every subscriber. Without m->mu. */
static void enqueue(mgr_alerts *a, const struct notice *ns, size_t nn)
{
	tidm_store_sub *subs = NULL;
	size_t n = 0;

	if (tidm_store_sub_list(a->m->store, &subs, &n) < 0) {
		tidm_error("alerts: reading the subscriptions: %s", tidm_err_msg());
		return;
	}
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < nn; i++) {
		for (size_t s = 0; s < n; s++) {
			struct item *it = calloc(1, sizeof(*it)), **tail;
			bool mail = !strcmp(subs[s].kind, "email");
			if (!it)
				break;
			it->sub_id = subs[s].id;
			snprintf(it->job, sizeof(it->job), "%s", ns[i].job);
			snprintf(it->kind, sizeof(it->kind), "%s", subs[s].kind);
			it->target = strdup(subs[s].target);
			it->secret = subs[s].secret ? strdup(subs[s].secret) : NULL;
			it->body = mail ? mail_body(&ns[i], subs[s].target) : webhook_body(&ns[i]);
			it->due = mono_ms();
			if (!it->target || !it->body) {
				free(it->target);
				free(it->secret);
				free(it->body);
				free(it);
				continue;
			}
			for (tail = &a->queue; *tail; tail = &(*tail)->next)
				;
			*tail = it;
		}
	}
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	tidm_store_subs_free(subs, n);
}

static void *watcher_main(void *arg)
{
	mgr_alerts *a = arg;
	int64_t next = mono_ms() + a->interval_ms;

	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		struct notice *ns = NULL;
		size_t nn = 0, capn = 0;

		if (mono_ms() < next) {
			wait_until(a, next);
			continue;
		}
		next = mono_ms() + a->interval_ms;
		pthread_mutex_unlock(&a->mu);
		pthread_mutex_lock(&a->m->mu);
		watch_round(a, &ns, &nn, &capn);
		mgr_history_round(a->m);
		pthread_mutex_unlock(&a->m->mu);
		if (nn)
			enqueue(a, ns, nn);
		free(ns);
		pthread_mutex_lock(&a->mu);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* ---- delivery ---------------------------------------------------------------------- */

static size_t discard(char *p, size_t size, size_t n, void *u)
{
	(void)p;
	(void)u;
	return size * n;
}

static int send_webhook(mgr_alerts *a, const struct item *it)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[2 * crypto_auth_hmacsha256_BYTES + 1], sig[128], *key = NULL;
	size_t keylen = 0;
	struct curl_slist *h = NULL;
	CURL *c;
	CURLcode cc;
	long status = 0;
	int rc = 0;

	if (it->secret && tidm_secrets_unseal(a->m->secrets, it->secret, &key, &keylen) < 0) {
		tidm_error("alert subscription %lld: the shared secret does not open: %s", (long long)it->sub_id,
			   tidm_err_msg());
		return -1;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	if (key) {
		crypto_auth_hmacsha256_state st;
		crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, keylen);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)it->body, strlen(it->body));
		crypto_auth_hmacsha256_final(&st, mac);
		sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
		snprintf(sig, sizeof(sig), "X-Tidm-Signature: sha256=%s", hex);
		h = curl_slist_append(h, sig);
		tidm_secrets_free_plain(key);
	}
	if (!(c = curl_easy_init())) {
		curl_slist_free_all(h);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, it->target);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, it->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(it->body));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tidm-alerts");
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK) {
		tidm_log_job(TIDM_LOG_WARN, it->job, "alert subscription %lld (webhook): try %u: %s", (long long)it->sub_id,
			     it->tries + 1, curl_easy_strerror(cc));
		rc = -1;
	} else if (status < 200 || status > 299) {
		tidm_log_job(TIDM_LOG_WARN, it->job, "alert subscription %lld (webhook): try %u: the receiver answered HTTP %ld",
			     (long long)it->sub_id, it->tries + 1, status);
		rc = -1;
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return rc;
}

static int send_mail(mgr_alerts *a, const struct item *it)
{
	char *argv[] = {a->sendmail, (char *)"-t", (char *)"-i", NULL};
	posix_spawn_file_actions_t fa;
	int p[2], st = 0, err;
	pid_t pid;
	size_t off = 0, len = strlen(it->body);

	if (pipe(p) != 0)
		return -1;
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	err = posix_spawn(&pid, a->sendmail, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	if (err != 0) {
		close(p[1]);
		tidm_log_job(TIDM_LOG_WARN, it->job, "alert subscription %lld (email): try %u: cannot run %s: %s",
			     (long long)it->sub_id, it->tries + 1, a->sendmail, strerror(err));
		return -1;
	}
	while (off < len) {
		ssize_t w = write(p[1], it->body + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(p[1]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (off < len || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		tidm_log_job(TIDM_LOG_WARN, it->job, "alert subscription %lld (email): try %u: %s -t -i %s",
			     (long long)it->sub_id, it->tries + 1, a->sendmail,
			     off < len ? "did not take the whole message" : "failed (exit status not 0)");
		return -1;
	}
	return 0;
}

static void item_free(struct item *it)
{
	free(it->target);
	free(it->secret);
	free(it->body);
	free(it);
}

static void *sender_main(void *arg)
{
	mgr_alerts *a = arg;

	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		struct item **best = NULL, *it;
		int64_t now = mono_ms();
		int rc;

		for (struct item **pp = &a->queue; *pp; pp = &(*pp)->next)
			if (!best || (*pp)->due < (*best)->due)
				best = pp;
		if (!best) {
			pthread_cond_wait(&a->cv, &a->mu);
			continue;
		}
		if ((*best)->due > now) {
			wait_until(a, (*best)->due);
			continue;
		}
		it = *best;
		*best = it->next;
		pthread_mutex_unlock(&a->mu);
		rc = !strcmp(it->kind, "email") ? send_mail(a, it) : send_webhook(a, it);
		pthread_mutex_lock(&a->mu);
		if (rc == 0) {
			tidm_log_job(TIDM_LOG_INFO, it->job, "alert subscription %lld (%s): delivered", (long long)it->sub_id,
				     it->kind);
			item_free(it);
			continue;
		}
		if (++it->tries >= MAX_TRIES) {
			tidm_log_job(TIDM_LOG_ERROR, it->job, "alert subscription %lld (%s): dropped a notice after %u tries",
				     (long long)it->sub_id, it->kind, it->tries);
			item_free(it);
			continue;
		}
		{
			int64_t wait = (int64_t)FIRST_WAIT_MS << (it->tries - 1);
			it->due = mono_ms() + (wait > MAX_WAIT_MS ? MAX_WAIT_MS : wait);
		}
		it->next = a->queue;
		a->queue = it;
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

mgr_alerts *mgr_alerts_start(tidm_manager *m, const char *sendmail, unsigned interval_ms)
{
	mgr_alerts *a = calloc(1, sizeof(*a));
	pthread_condattr_t ca;

	if (!a)
		return NULL;
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		tidm_error("alerts: cannot initialise libsodium or libcurl; no alerts are sent");
		free(a);
		return NULL;
	}
	a->m = m;
	snprintf(a->sendmail, sizeof(a->sendmail), "%s", sendmail && sendmail[0] ? sendmail : DEFAULT_SENDMAIL);
	a->interval_ms = interval_ms ? interval_ms : 2000;
	pthread_mutex_init(&a->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cv, &ca);
	pthread_condattr_destroy(&ca);
	a->have_watcher = pthread_create(&a->watcher, NULL, watcher_main, a) == 0;
	a->have_sender = pthread_create(&a->sender, NULL, sender_main, a) == 0;
	if (!a->have_watcher || !a->have_sender) {
		tidm_error("alerts: cannot start a thread; no alerts are sent");
		mgr_alerts_stop(a);
		return NULL;
	}
	return a;
}

void mgr_alerts_stop(mgr_alerts *a)
{
	size_t dropped = 0;

	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	if (a->have_watcher)
		pthread_join(a->watcher, NULL);
	if (a->have_sender)
		pthread_join(a->sender, NULL);
	while (a->queue) {
		struct item *it = a->queue;
		a->queue = it->next;
		item_free(it);
		dropped++;
	}
	if (dropped)
		tidm_warn("alerts: %zu notice(s) not delivered before the daemon stopped", dropped);
	free(a->w);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	curl_global_cleanup();
	free(a);
}
