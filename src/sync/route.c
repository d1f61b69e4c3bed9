/*
 * route.c - routing of row items to workers, conflict keys and copy windows.
 *
 * DESIGN
 *  worker = hash(db, table, key values) % workers      (keyless tables: hash(db, table))
 *  Every key an item touches (old and new primary key, old and new values of the other
 *  unique keys) is remembered in the key map with the worker and transaction sequence
 *  number. A later transaction whose item touches a key held by another worker first waits
 *  until that worker has committed the holding transaction (sync_claim_keys, sync_wait_committed);
 *  inside one transaction such an item goes to the worker already holding the key
 *  (sync_route_in_txn). Both rules keep the routing a function of the transaction's own
 *  content, which the exactly-once replay relies on. Hashes fold the key columns whose
 *  different bytes may be one key on the target (key_folds in tables.c).
 *  The key map is open addressing with KEYMAP_SIZE slots; a transaction with more keys
 *  than it holds sets keys_overflow and is flushed at its end.
 *  Windows: a table the full phase copied under snapshots between lo and hi (a resumed
 *  full phase uses a newer snapshot): its changes before lo are in every copied row and are
 *  skipped, those between lo and hi are applied in safe mode (tidm_applier_add_window,
 *  sync_window_side).
 */
#include "sync/apply.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "binlog/cursor.h"
#include "binlog/json.h"
#include "binlog/rows.h"
#include "db/conn.h"
#include "db/meta.h"
#include "db/quote.h"
#include "sync/ddl.h"
#include "sync/ddl_charset.h"
#include "sync/ddl_guard.h"
#include "sync/schema.h"
#include "sync/sequence.h"
#include "sync/txn_split.h"
#include "util/err.h"
#include "util/gtid.h"
#include "util/log.h"
#include "sync/apply_int.h"

const window *sync_find_window(const struct tidm_applier *a, const char *db, const char *table)
{
	const window *w;
	for (w = a->windows; w; w = w->next)
		if (!strcmp(w->db, db) && !strcmp(w->table, table))
			return w;
	return NULL;
}

void tidm_applier_add_window(tidm_applier *a, const char *db, const char *table, const char *lo_file, uint64_t lo_pos,
			     const char *hi_file, uint64_t hi_pos)
{
	window *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	w->db = strdup(db);
	w->table = strdup(table);
	if (!w->db || !w->table)
		abort();
	snprintf(w->lo_file, sizeof(w->lo_file), "%s", lo_file);
	snprintf(w->hi_file, sizeof(w->hi_file), "%s", hi_file);
	w->lo_pos = lo_pos;
	w->hi_pos = hi_pos;
	w->next = a->windows;
	a->windows = w;
}

/* -1: the transaction is before the table's window (skip), 1: inside (safe mode), 0: after. */
int sync_window_side(const struct tidm_applier *a, const window *w)
{
	if (!w)
		return 0;
	if (tidm_sync_pos_cmp(a->txn_file, a->txn_start, w->lo_file, w->lo_pos) < 0)
		return -1;
	if (tidm_sync_pos_cmp(a->txn_file, a->txn_start, w->hi_file, w->hi_pos) < 0)
		return 1;
	return 0;
}

uint64_t sync_fnv(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;
	size_t i;
	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

uint64_t sync_key_hash(const tbl_info *t, const char *key, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	h = sync_fnv(t->qname, strlen(t->qname) + 1, h);
	h = sync_fnv(key, n, h);
	return h ? h : 1;
}

static keyslot *key_find(struct tidm_applier *a, uint64_t h)
{
	size_t i = (size_t)(h & (KEYMAP_SIZE - 1));
	for (;;) {
		keyslot *s = &a->keys[i];
		if (s->hash == 0 || s->hash == h)
			return s;
		i = (i + 1) & (KEYMAP_SIZE - 1);
	}
}

/* All workers idle and committed up to `seq`: the key map can be emptied. */
int sync_wait_committed(struct tidm_applier *a, unsigned wid, uint64_t seq)
{
	pthread_mutex_lock(&a->mu);
	while (atomic_load(&a->w[wid].committed_seq) < seq && !atomic_load(&a->failed) && !sync_canceled(a))
		sync_coord_wait(a);
	pthread_mutex_unlock(&a->mu);
	if (atomic_load(&a->failed))
		return sync_take_failure(a);
	if (atomic_load(&a->w[wid].committed_seq) < seq)
		return tidm_err_set(TIDM_ECANCELED, "canceled while waiting for apply worker %u", wid);
	return 0;
}

/* A key already used inside this transaction keeps its worker (order within the
 * transaction); the routing stays a function of the transaction's own content. */
void sync_route_in_txn(struct tidm_applier *a, const uint64_t *hashes, size_t n, unsigned *wid)
{
	size_t i;

	for (i = 0; i < n; i++) {
		keyslot *s = key_find(a, hashes[i]);
		if (s->hash && s->seq == a->seq) {
			*wid = s->worker;
			return;
		}
	}
}

/*
 * Claim the keys of one change for worker wid: first wait for other workers still holding
 * one of them from an earlier transaction to commit it. When the map is full, keys stop
 * being recorded and the transaction's end flushes every worker (see sync_txn_end).
 */

int sync_claim_keys(struct tidm_applier *a, const uint64_t *hashes, size_t n, unsigned wid)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		keyslot *s = key_find(a, hashes[i]);
		if (s->hash && s->worker != wid && s->seq != a->seq &&
		    atomic_load(&a->w[s->worker].committed_seq) < s->seq)
			if ((rc = sync_wait_committed(a, s->worker, s->seq)) < 0)
				return rc;
	}
	sync_record_keys(a, hashes, n, wid);
	return 0;
}

/* The keys of a change are held by worker wid in this transaction (also for a change the
 * worker had committed before a restart: later changes of the transaction that touch them
 * are routed as they were then). */
void sync_record_keys(struct tidm_applier *a, const uint64_t *hashes, size_t n, unsigned wid)
{
	size_t i;

	for (i = 0; i < n; i++) {
		keyslot *s = key_find(a, hashes[i]);
		if (s->hash && s->seq == a->seq) {
			s->worker = wid;
			continue;
		}
		/* the map is full for this transaction after a number of its own keys, not of the
		 * keys earlier transactions left: the routing of its later changes is then the
		 * same when a restart replays it from its start on an empty map */
		if (a->txn_keys >= KEYMAP_SIZE / 4) {
			a->keys_overflow = true;
			break;
		}
		a->txn_keys++;
		if (!s->hash)
			a->nkeys++;
		s->hash = hashes[i];
		s->seq = a->seq;
		s->worker = wid;
	}
}

/* The hash of an image's row key: exact (the row's identity in the binlog) or folded. */
int sync_row_key_hash(struct tidm_applier *a, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols,
		      bool fold, uint64_t *out)
{
	int rc;

	tidm_buf_clear(&a->keybuf); /* the hash must depend on this row's key only */
	if ((rc = sync_put_key_text(a, &a->keybuf, t, img, ncols, t->schema->key, t->schema->nkey, fold)) < 0)
		return rc;
	*out = sync_key_hash(t, a->keybuf.data ? a->keybuf.data : "", a->keybuf.len);
	tidm_buf_clear(&a->keybuf);
	return 0;
}

/* Hashes of the keys a row image touches: the row key and each other unique key. */
int sync_image_keys(struct tidm_applier *a, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols,
		    uint64_t *out, size_t *n, size_t max)
{
	const tidm_schema_table *s = t->schema;
	size_t u;
	int rc;

	if (!img)
		return 0;
	tidm_buf_clear(&a->keybuf);
	if (s->nkey) {
		if ((rc = sync_put_key_text(a, &a->keybuf, t, img, ncols, s->key, s->nkey, t->key_folds)) < 0)
			return rc;
	}
	if (*n < max)
		out[(*n)++] = sync_key_hash(t, a->keybuf.data ? a->keybuf.data : "", a->keybuf.len);
	for (u = 0; u < s->nuniques && *n < max; u++) {
		tidm_buf_clear(&a->keybuf);
		tidm_buf_printf(&a->keybuf, "#%zu:", u);
		if ((rc = sync_put_key_text(a, &a->keybuf, t, img, ncols, s->uniques[u], s->nuniq[u], t->key_folds)) < 0)
			return rc;
		out[(*n)++] = sync_key_hash(t, a->keybuf.data, a->keybuf.len);
	}
	return 0;
}
