/*
 * verify_int.h - the internal contract of verify/: the table description, SQL rendering
 * (render.c, pure: unit-tested for every flavour, TiDB included), the compare engine
 * (engine.c), bisection and row digests (narrow.c), the online protocol (online.c),
 * repair SQL (repair.c) and the results in tidm_meta (store.c).
 * Functions return 0 or a tidm error code that tidm_err has recorded, unless they say
 * otherwise.
 */
#ifndef TIDM_VERIFY_VERIFY_INT_H
#define TIDM_VERIFY_VERIFY_INT_H

#include <pthread.h>

#include "util/buf.h"
#include "verify/verify.h"

/* What a column's type asks of its digest (render.c says how each is rendered). */
/* VF_JSON_CLIENT: JSON on one side of two different flavours (each prints JSON its own
 * way): left out of the servers' digests (its NULL marker stays) and compared row by row
 * in the client, canonicalised (vjson_canon). */
enum vfam { VF_EXACT, VF_STRING, VF_BINARY, VF_BIT, VF_FLOAT, VF_DOUBLE, VF_JSON, VF_JSON_CLIENT };

typedef struct vcol {
	char *name;
	enum vfam fam;
	bool nullable;
	bool generated; /* computed by the server: compared, never written by a repair */
} vcol;

/* A table's repair statements, written to the repair file in table order at the end. */
typedef struct vrepair_out {
	tidm_buf del; /* DELETEs first, */
	tidm_buf put; /* then REPLACE / INSERT */
	uint64_t stmts;
} vrepair_out;

typedef struct vtable {
	char *db;
	char *name;
	vcol *cols; /* compared columns, in table order */
	size_t ncols;
	size_t key[16]; /* indexes into cols of the key columns; nkey == 0: keyless */
	size_t nkey;
	bool key_is_int;
	uint64_t est_rows;
	/* per side (0 source, 1 target): every text column is utf8mb4 in one collation, so
	 * their bytes go into the digest as they are (no CONVERT) */
	bool plain_text[2];
	size_t njson_client; /* columns of family VF_JSON_CLIENT */
	vrepair_out *rep; /* owned by the run; written by the one thread finishing the table */
} vtable;

void vtable_dispose(vtable *t);

/* ---- render.c: the statements sent (identifiers quoted, values as literals) ---- */

/* Sides may differ in flavour: a table's digest SQL is rendered for the server it runs on,
 * `peer` being the other side's flavour (JSON needs both). */
typedef struct vdialect {
	enum tidm_flavor self;
	enum tidm_flavor peer;
	bool target; /* the statement runs on the target (vtable.plain_text[1]) */
} vdialect;

/* One column's contribution to the row string (`plain`: text needs no CONVERT). */
void vrender_col(tidm_buf *b, const vcol *c, const vdialect *d, bool plain);
/* CRC32(CONCAT_WS('#', col..., null markers)): the row digest expression. */
void vrender_row_hash(tidm_buf *b, const vtable *t, const vdialect *d);
/* The key range (lo, hi] as a WHERE condition (no "WHERE"); lo/hi are comma-separated
 * literal lists (NULL = unbounded). Nothing when both are NULL. */
void vrender_range(tidm_buf *b, const vtable *t, const char *lo, const char *hi);
/* SELECT COUNT(*), SUM(h) over a range. */
void vrender_chunk_sql(tidm_buf *b, const vtable *t, const vdialect *d, const char *lo, const char *hi);
/* SELECT key..., h [, client-compared JSON columns] over a range (row digests). */
void vrender_rows_sql(tidm_buf *b, const vtable *t, const vdialect *d, const char *lo, const char *hi);
/* SELECT key..., h of the rows whose keys are in `keys` (n literal lists, NUL-separated). */
void vrender_lookup_sql(tidm_buf *b, const vtable *t, const vdialect *d, const char *keys, size_t n);
/* SELECT every compared column of the rows whose keys are in `keys` (as above). */
void vrender_fetch_sql(tidm_buf *b, const vtable *t, const char *keys, size_t n);
/* The middle key of a range: SELECT key... WHERE range ORDER BY key LIMIT 1 OFFSET n. */
void vrender_mid_sql(tidm_buf *b, const vtable *t, const char *lo, const char *hi, uint64_t offset);
/* Keyless: SELECT h, COUNT(*) ... GROUP BY h (the multiset of row digests), restricted to
 * the digests in `hashes` (n of them) when n > 0. */
void vrender_multiset_sql(tidm_buf *b, const vtable *t, const vdialect *d, const uint32_t *hashes, size_t n);
/* Keyless: SELECT every compared column of up to `limit` rows whose digest is `hash`. */
void vrender_fetch_hash_sql(tidm_buf *b, const vtable *t, const vdialect *d, uint32_t hash, uint64_t limit);
/* JSON text in one canonical form (keys sorted by bytes, no spaces, integral numbers as
 * integers, others with 15 significant digits); text that is no JSON is copied as it is. */
void vjson_canon(tidm_buf *out, const char *text, size_t n);
/* A streamed value as an SQL literal (number as is, text as _utf8mb4 X'..', bytes as X'..'). */
/* "`a`=1, `b`='x'" from a key literal list (for reports). */
void vrender_key_text(tidm_buf *b, const vtable *t, const char *key);

/* ---- shared run state (engine.c) ---- */

typedef struct vrun vrun;

/* binlog position of a source read (online); file[0] == 0: none */
typedef struct vpos {
	char file[512];
	uint64_t pos;
} vpos;

int vpos_cmp(const vpos *a, const vpos *b);

/* A side's session: its connection and dialect. */
typedef struct vside {
	tidm_conn *c;
	vdialect d;
	bool source;
} vside;

/* online.c */
/* Begin a read on the source: offline nothing; online a consistent snapshot whose binlog
 * position goes to *at. End it with vread_end. */
int vread_begin(vrun *r, vside *s, vpos *at);
void vread_end(vrun *r, vside *s);
/* Online: wait until the job's applier has committed everything before `at`
 * (timeout_s; *passed = false when it did not). Offline: *passed = true at once. */
int vwait_applied(vrun *r, tidm_conn *tgt, const vpos *at, double timeout_s, bool *passed);
/* Decide from the job's record whether to run online. */
int vonline_detect(vrun *r, tidm_conn *tgt);

/* The candidates of a table: keys (literal lists) that may differ, confirmed by lookups. */
typedef struct vcand {
	char *key;        /* literal list */
	bool src_has, tgt_has;
	uint32_t src_h, tgt_h;
	unsigned differ_rounds;
	bool settled_equal;
} vcand;

/* Confirm the candidates (online: rounds until each is proven); fills the report. */
int vconfirm_keyed(vrun *r, vside *src, vside *tgt, const vtable *t, vcand *c, size_t n,
		   tidm_verify_table_report *rep);
/* Keyless: compare the multisets of row digests; fills the report. */
int vcompare_keyless(vrun *r, vside *src, vside *tgt, const vtable *t, tidm_verify_table_report *rep);

/* narrow.c: the candidate keys of a differing range (bisection, then row digests). */
int vnarrow(vrun *r, vside *src, vside *tgt, const vtable *t, const char *lo, const char *hi, uint64_t srows,
	    uint64_t trows, vcand **cands, size_t *ncands);
/* Row digests of a range on one side: key literal list -> hash (appends to out); the
 * client-compared JSON columns after the hash are folded into it. */
typedef struct vrow {
	char *key;
	uint32_t h;
} vrow;
int vrows_read(vrun *r, vside *s, const char *sql, const vtable *t, vrow **out, size_t *n);

/* repair.c */
/* Record one difference (and its repair statements in t->rep when a repair file is open).
 * Thread: the one finishing the table. */
int vrepair_keyed(vrun *r, vside *src, vside *tgt, const vtable *t, const vcand *c, tidm_verify_table_report *rep);
int vrepair_keyless(vrun *r, vside *src, vside *tgt, const vtable *t, uint32_t h, int64_t delta,
		    tidm_verify_table_report *rep);
void vreport_add(tidm_verify_table_report *rep, enum tidm_verify_side side, const char *key, const char *cols,
		 uint64_t rows);

/* store.c */
int vstore_ensure(tidm_conn *tgt);
/* Forget the job's stored results (a pass over every table of the job begins). */
int vstore_reset(vrun *r, tidm_conn *tgt);
int vstore_put(vrun *r, tidm_conn *tgt, const tidm_verify_table_report *rep, enum tidm_verify_state st,
	       uint64_t chunks_total, uint64_t chunks_done, uint64_t rows_checked);

/* engine.c */
struct vrun {
	const tidm_verify_opts *o;
	const tidm_job_config *cfg;
	tidm_conn_opts sopts, topts;
	bool online;
	pthread_mutex_t mu;
	struct tidm_probe *thr; /* the source budget (vthrottle, db/probe.h); NULL: none */
	/* the applier's position last read (online), guarded by mu */
	vpos applied;
	double applied_at;
	bool stalled; /* a wait timed out: later waits give up at once (warned once) */
	uint64_t chunk_rows; /* rows per chunk */
	uint64_t leaf_rows;  /* a range this small is read as row digests (chunk_rows / 8) */
	FILE *repair;
};
bool vcancelled(vrun *r);
/* Take `rows` from the source budget, sleeping as needed. */
void vthrottle(vrun *r, uint64_t rows);
double vnow(void);
char *vstrdup(const char *s);

#endif
