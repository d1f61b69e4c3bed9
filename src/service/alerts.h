/*
 * alerts.h - the daemon's own alerts (issue 15, SPEC §6), for people without Prometheus.
 *
 * A watcher thread looks at every job every few seconds, from the same progress counters
 * the manager and GET /metrics read, and opens an incident when
 *   - failed:      the job's state became failed;
 *   - no_progress: the job is running and for `alerts.no-progress-minutes` (default 20)
 *                  neither copied a row nor applied a binlog event, while not caught up.
 *                  "Progress" is the TidmJobNoProgress rule of monitoring/tidm-alerts.yml:
 *                  full.rows_done or sync.events moved, or the replication lag (event time
 *                  or heartbeat based) is known and under 60 s (an idle, caught-up job);
 *   - lag:         the job is syncing with a lag above `alerts.lag-seconds` (off unless set).
 * Every subscriber is notified once when an incident opens and once when it clears (the
 * failed job resumed, progress again, lag back under the threshold, the job left running);
 * a deleted job's incidents end silently. A job already failed when the daemon starts is
 * not a new incident. Each notice is also an event of the job (kind "alert") and a log line.
 *
 * Subscribers live in the store (store.h): a webhook (JSON POST through libcurl, signed
 * X-Tidm-Signature: sha256=<hex HMAC-SHA256 of the body keyed by the shared secret>,
 * retried with backoff 1 s doubling to 60 s, 8 tries) or an e-mail address (the message
 * on the standard input of `SENDMAIL -t -i`, retried the same way). Secrets are sealed
 * (secrets.h) and never answered.
 */
#ifndef TIDM_SERVICE_ALERTS_H
#define TIDM_SERVICE_ALERTS_H

#include <stdint.h>

struct tidm_manager;
typedef struct mgr_alerts mgr_alerts;

/* Starts the watcher and the delivery threads. sendmail NULL: /usr/sbin/sendmail;
 * interval_ms 0: 2000. Returns NULL (logged) when threads cannot start. */
mgr_alerts *mgr_alerts_start(struct tidm_manager *m, const char *sendmail, unsigned interval_ms);
/* Stops both threads (pending deliveries are dropped, logged) and frees. NULL: no-op.
 * Called without m->mu. */
void mgr_alerts_stop(mgr_alerts *a);

#endif
