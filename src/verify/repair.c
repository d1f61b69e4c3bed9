/*
 * repair.c - each proven difference: its line in the report and the statements that make
 * the target row equal to the source's.
 *
 * DESIGN
 *  The rows are fetched only now, by key (or, keyless, by row digest), so values cross the
 *  network for differing rows only. Keyed: a row missing on the target or changed is
 *  written with REPLACE INTO (every column but generated ones, values from the source as
 *  the copy writes them: numbers as printed, text escaped, bytes and BIT as hex); a row the
 *  source lacks is deleted by its key. Keyless: surplus copies on the target are deleted by
 *  their row digest (DELETE ... WHERE CRC32(...) = h LIMIT n: any n of the identical rows),
 *  missing copies are inserted. A table's DELETEs are written before its REPLACEs, so a
 *  key that differs only under the target's collation ('a' vs 'A' in a _ci column) is
 *  removed before the source's row goes in. The file starts with the session settings the
 *  values assume (utf8mb4, UTC).
 */
#include "verify/verify_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "db/quote.h"
#include "util/err.h"

void vreport_add(tidm_verify_table_report *rep, enum tidm_verify_side side, const char *key, const char *cols,
		 uint64_t rows)
{
	rep->differing_rows += rows;
	if (rep->ndiffs >= TIDM_VERIFY_MAX_DIFFS)
		return;
	if (!(rep->ndiffs & (rep->ndiffs - 1)) || !rep->diffs) {
		size_t cap = rep->ndiffs ? rep->ndiffs * 2 : 1;
		tidm_verify_diff *grown = realloc(rep->diffs, cap * sizeof(*grown));
		if (!grown)
			abort();
		rep->diffs = grown;
	}
	rep->diffs[rep->ndiffs].side = side;
	rep->diffs[rep->ndiffs].key = vstrdup(key);
	rep->diffs[rep->ndiffs].columns = cols ? vstrdup(cols) : NULL;
	rep->diffs[rep->ndiffs].rows = rows;
	rep->ndiffs++;
}

/* A fetched row: values (malloc'd copies) and kinds. */
typedef struct frow {
	char **v;
	size_t *len;
	enum tidm_col_kind *kind;
	size_t n;
	bool has;
} frow;

static void frow_dispose(frow *f)
{
	size_t i;
	for (i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
	free(f->len);
	free(f->kind);
	memset(f, 0, sizeof(*f));
}

/* Stream `sql` and call `each` per row (a frow valid during the call). */
static int fetch(vside *s, const char *sql, int (*each)(frow *f, void *payload), void *payload)
{
	const char *const *vals;
	const unsigned long *lens;
	int got, rc = 0;

	if ((rc = tidm_conn_stream_begin(s->c, sql)) < 0)
		return rc;
	while ((got = tidm_conn_stream_next(s->c, &vals, &lens)) == 1) {
		frow f;
		size_t i, n = tidm_conn_stream_cols(s->c);
		memset(&f, 0, sizeof(f));
		f.n = n;
		f.has = true;
		f.v = calloc(n + 1, sizeof(char *));
		f.len = calloc(n + 1, sizeof(size_t));
		f.kind = calloc(n + 1, sizeof(*f.kind));
		if (!f.v || !f.len || !f.kind)
			abort();
		for (i = 0; i < n; i++) {
			f.kind[i] = tidm_conn_stream_kind(s->c, (unsigned)i);
			if (vals[i]) {
				f.v[i] = malloc(lens[i] + 1);
				if (!f.v[i])
					abort();
				memcpy(f.v[i], vals[i], lens[i]);
				f.v[i][lens[i]] = '\0';
				f.len[i] = lens[i];
			}
		}
		if (rc == 0)
			rc = each(&f, payload);
		frow_dispose(&f);
	}
	tidm_conn_stream_end(s->c);
	return got < 0 ? got : rc;
}

static int keep_first(frow *f, void *payload)
{
	frow *dst = payload;
	if (dst->has)
		return 0;
	*dst = *f;
	memset(f, 0, sizeof(*f));
	return 0;
}

static void put_value(tidm_buf *b, const frow *f, size_t i)
{
	if (!f->v[i]) {
		tidm_buf_puts(b, "NULL");
		return;
	}
	switch (f->kind[i]) {
	case TIDM_KIND_NUMBER:
		tidm_buf_put(b, f->v[i], f->len[i]);
		break;
	case TIDM_KIND_STRING:
		tidm_quote_string(b, f->v[i], f->len[i]);
		break;
	case TIDM_KIND_BINARY:
	case TIDM_KIND_BIT:
	default:
		tidm_quote_hex(b, f->v[i], f->len[i]);
		break;
	}
}

static void put_insert(const vtable *t, const frow *f, bool replace)
{
	tidm_buf *b = &t->rep->put;
	size_t i;
	bool first = true;

	tidm_buf_puts(b, replace ? "REPLACE INTO " : "INSERT INTO ");
	tidm_quote_qualified(b, t->db, t->name);
	tidm_buf_puts(b, " (");
	for (i = 0; i < t->ncols; i++) {
		if (t->cols[i].generated)
			continue;
		if (!first)
			tidm_buf_puts(b, ", ");
		first = false;
		tidm_quote_ident(b, t->cols[i].name);
	}
	tidm_buf_puts(b, ") VALUES (");
	first = true;
	for (i = 0; i < t->ncols && i < f->n; i++) {
		if (t->cols[i].generated)
			continue;
		if (!first)
			tidm_buf_puts(b, ", ");
		first = false;
		put_value(b, f, i);
	}
	tidm_buf_puts(b, ");\n");
	t->rep->stmts++;
}

/* A short text of a keyless row for the report: "`a`=1, `b`='x'" (first 200 bytes). */
static void row_text(tidm_buf *b, const vtable *t, const frow *f)
{
	size_t i;
	for (i = 0; i < t->ncols && i < f->n && b->len < 200; i++) {
		if (i)
			tidm_buf_puts(b, ", ");
		tidm_quote_ident(b, t->cols[i].name);
		tidm_buf_putc(b, '=');
		if (!f->v[i])
			tidm_buf_puts(b, "NULL");
		else if (f->kind[i] == TIDM_KIND_NUMBER)
			tidm_buf_put(b, f->v[i], f->len[i]);
		else if (f->kind[i] == TIDM_KIND_STRING)
			tidm_quote_string(b, f->v[i], f->len[i] > 64 ? 64 : f->len[i]);
		else
			tidm_quote_hex(b, f->v[i], f->len[i] > 32 ? 32 : f->len[i]);
	}
}

int vrepair_keyed(vrun *r, vside *src, vside *tgt, const vtable *t, const vcand *c, tidm_verify_table_report *rep)
{
	tidm_buf q = TIDM_BUF_INIT, key = TIDM_BUF_INIT, cols = TIDM_BUF_INIT;
	frow a, b;
	enum tidm_verify_side side;
	int rc = 0;
	size_t i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	vrender_key_text(&key, t, c->key);
	side = c->src_has && c->tgt_has ? TIDM_VERIFY_CHANGED : c->src_has ? TIDM_VERIFY_MISSING : TIDM_VERIFY_EXTRA;
	vrender_fetch_sql(&q, t, c->key, 1);
	if (c->src_has && (rc = fetch(src, q.data, keep_first, &a)) < 0)
		goto out;
	if (c->tgt_has && (rc = fetch(tgt, q.data, keep_first, &b)) < 0)
		goto out;
	if (side == TIDM_VERIFY_CHANGED && a.has && b.has)
		for (i = 0; i < t->ncols && i < a.n && i < b.n; i++) {
			bool same = (!a.v[i] && !b.v[i]) ||
				    (a.v[i] && b.v[i] && a.len[i] == b.len[i] && !memcmp(a.v[i], b.v[i], a.len[i]));
			if (!same && a.v[i] && b.v[i] && t->cols[i].fam == VF_JSON_CLIENT) {
				tidm_buf x = TIDM_BUF_INIT, y = TIDM_BUF_INIT;
				vjson_canon(&x, a.v[i], a.len[i]);
				vjson_canon(&y, b.v[i], b.len[i]);
				same = x.len == y.len && (!x.len || !memcmp(x.data, y.data, x.len));
				tidm_buf_dispose(&x);
				tidm_buf_dispose(&y);
			}
			if (same)
				continue;
			if (cols.len)
				tidm_buf_puts(&cols, ", ");
			tidm_quote_ident(&cols, t->cols[i].name);
		}
	vreport_add(rep, side, key.data, cols.len ? cols.data : NULL, 1);
	if (r->repair) {
		if (side == TIDM_VERIFY_EXTRA) {
			const char *starts = c->key;
			tidm_buf_puts(&t->rep->del, "DELETE FROM ");
			tidm_quote_qualified(&t->rep->del, t->db, t->name);
			tidm_buf_puts(&t->rep->del, " WHERE ");
			for (i = 0; i < t->nkey; i++) {
				const char *e = strchr(starts, ',');
				size_t len = e ? (size_t)(e - starts) : strlen(starts);
				if (i)
					tidm_buf_puts(&t->rep->del, " AND ");
				tidm_quote_ident(&t->rep->del, t->cols[t->key[i]].name);
				tidm_buf_puts(&t->rep->del, " = ");
				tidm_buf_put(&t->rep->del, starts, len);
				starts = e ? e + 1 : starts + len;
			}
			tidm_buf_puts(&t->rep->del, " LIMIT 1;\n");
			t->rep->stmts++;
		} else if (a.has) {
			put_insert(t, &a, true);
		}
	}
out:
	frow_dispose(&a);
	frow_dispose(&b);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&key);
	tidm_buf_dispose(&cols);
	return rc;
}

typedef struct ins_ctx {
	const vtable *t;
	tidm_buf *text;
	bool write; /* an INSERT per row into the repair */
} ins_ctx;

static int insert_each(frow *f, void *payload)
{
	ins_ctx *x = payload;
	if (!x->text->len)
		row_text(x->text, x->t, f);
	if (x->write)
		put_insert(x->t, f, false);
	return 0;
}

int vrepair_keyless(vrun *r, vside *src, vside *tgt, const vtable *t, uint32_t h, int64_t delta,
		    tidm_verify_table_report *rep)
{
	tidm_buf q = TIDM_BUF_INIT, text = TIDM_BUF_INIT;
	uint64_t n = (uint64_t)(delta < 0 ? -delta : delta);
	int rc;

	if (delta > 0) {
		ins_ctx x = {t, &text, r->repair != NULL};
		vrender_fetch_hash_sql(&q, t, &src->d, h, n);
		rc = fetch(src, q.data, insert_each, &x);
	} else {
		ins_ctx x = {t, &text, false};
		vrender_fetch_hash_sql(&q, t, &tgt->d, h, 1);
		rc = fetch(tgt, q.data, insert_each, &x);
		if (rc == 0 && r->repair) {
			tidm_buf_puts(&t->rep->del, "DELETE FROM ");
			tidm_quote_qualified(&t->rep->del, t->db, t->name);
			tidm_buf_puts(&t->rep->del, " WHERE ");
			vrender_row_hash(&t->rep->del, t, &tgt->d);
			tidm_buf_printf(&t->rep->del, " = %" PRIu32 " LIMIT %" PRIu64 ";\n", h, n);
			t->rep->stmts++;
		}
	}
	if (rc == 0) {
		tidm_buf k = TIDM_BUF_INIT;
		tidm_buf_printf(&k, "row (%s) x%" PRIu64, text.data ? text.data : "", n);
		vreport_add(rep, delta > 0 ? TIDM_VERIFY_MISSING : TIDM_VERIFY_EXTRA, k.data, NULL, n);
		tidm_buf_dispose(&k);
	}
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&text);
	return rc;
}
