/*
 * ddl_rewrite.c - rewriting of a parsed statement for the target (see ddl.h).
 *
 * DESIGN
 *  The rewriter decides from the objects and the job's selection, then either builds a new
 *  statement (a partly selected DROP/RENAME: regenerate) or applies a sorted list of
 *  splices (struct edits) to the original text, so that comments, executable comments and
 *  formatting survive. CREATE TABLE text is handed to db/dialect (a pure text function)
 *  with a neutral head (CREATE TABLE `name`) so that its report lines name the table
 *  (adapt_create); other statements get their CHARSET/COLLATE values mapped here with the
 *  same dialect maps (map_charsets). On TiDB before 6.2 an ALTER TABLE of several changes
 *  becomes one ALTER TABLE per change (split_alter).
 */
#include "sync/ddl.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/dialect.h"
#include "db/quote.h"
#include "util/err.h"
#include "sync/ddl_int.h"

/* Replace [at, end) of the statement by pool[off, off + n); inserts have at == end. */
struct edit {
	size_t at, end, off, n, seq;
};

struct edits {
	struct edit *v;
	size_t n, cap;
	tidm_buf pool;
};

static void edit_add(struct edits *e, size_t at, size_t end, const char *text, size_t n)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->v = ddl_xrealloc(e->v, e->cap * sizeof(*e->v));
	}
	e->v[e->n] = (struct edit){at, end, e->pool.len, n, e->n};
	e->n++;
	tidm_buf_put(&e->pool, text, n);
}

static void edit_qualified(struct edits *e, size_t at, size_t end, const char *db, const char *name)
{
	tidm_buf b = TIDM_BUF_INIT;

	if (db && *db)
		tidm_quote_qualified(&b, db, name);
	else
		tidm_quote_ident(&b, name);
	edit_add(e, at, end, b.data, b.len);
	tidm_buf_dispose(&b);
}

static int edit_cmp(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Copy sql[from, to) into out with the edits that start inside it (sorted first). */
static void edits_apply(tidm_buf *out, const char *sql, size_t from, size_t to, const struct edits *e)
{
	size_t pos = from;

	for (size_t i = 0; i < e->n; i++) {
		const struct edit *x = &e->v[i];

		if (x->at < from || x->at >= to)
			continue;
		if (x->at < pos)
			continue; /* overlapping edit: the first one wins */
		tidm_buf_put(out, sql + pos, x->at - pos);
		tidm_buf_put(out, e->pool.data + x->off, x->n);
		pos = x->end > to ? to : x->end;
	}
	tidm_buf_put(out, sql + pos, to - pos);
}

static void edits_dispose(struct edits *e)
{
	free(e->v);
	tidm_buf_dispose(&e->pool);
}

/* First position at or after pos that is not whitespace. */
static size_t skip_ws(const char *sql, size_t len, size_t pos)
{
	while (pos < len && ddl_is_ws((unsigned char)sql[pos]))
		pos++;
	return pos;
}

static void put_obj(tidm_buf *b, const tidm_ddl_obj *o, bool new_name)
{
	const char *db = new_name ? o->new_db : o->db, *name = new_name ? o->new_name : o->name;

	if (o->role == TIDM_DDL_OBJ_DATABASE)
		tidm_quote_ident(b, db);
	else if (!db || !*db)
		tidm_quote_ident(b, name);
	else
		tidm_quote_qualified(b, db, name);
}

/* "KIND `db`.`name`" for messages. */
static void put_what(tidm_buf *b, const tidm_ddl *d)
{
	tidm_buf_puts(b, tidm_ddl_kind_name(d->kind));
	if (d->n_objs) {
		tidm_buf_putc(b, ' ');
		put_obj(b, &d->objs[0], false);
	}
}

/* The first bytes of the statement, printable, for a log line. */
static void put_head(tidm_buf *b, const char *sql, size_t len)
{
	size_t i = skip_ws(sql, len, 0), n = 0;
	bool space = false;

	for (; i < len && n < 60; i++, n++) {
		unsigned char c = (unsigned char)sql[i];

		if (c < 0x20 || c == 0x7f) {
			if (!space)
				tidm_buf_putc(b, ' ');
			space = true;
			continue;
		}
		space = false;
		tidm_buf_putc(b, (char)c);
	}
	if (i < len)
		tidm_buf_puts(b, "...");
}

static int skip(tidm_buf *out, int *action, const tidm_ddl *d, const char *why)
{
	tidm_buf_clear(out);
	put_what(out, d);
	tidm_buf_puts(out, ": ");
	tidm_buf_puts(out, why);
	*action = TIDM_DDL_SKIP;
	return 0;
}

static bool obj_selected(const tidm_ddl_obj *o, bool new_name,
			 bool (*selected)(const char *db, const char *table, void *payload), void *payload)
{
	const char *db = new_name ? o->new_db : o->db;
	const char *name = new_name ? o->new_name : o->name;

	if (o->role == TIDM_DDL_OBJ_DATABASE || o->role == TIDM_DDL_OBJ_ROUTINE)
		name = NULL;
	return selected(db, name, payload);
}

static int fail(tidm_buf *out, int *action, const tidm_ddl *d, const char *sql, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Message for a statement that cannot be split; returns TIDM_EUNSUPPORTED. */

static int fail(tidm_buf *out, int *action, const tidm_ddl *d, const char *sql, size_t len, const char *fmt, ...)
{
	tidm_buf m = TIDM_BUF_INIT;
	va_list ap;
	int rc;

	(void)d;
	va_start(ap, fmt);
	tidm_buf_vprintf(&m, fmt, ap);
	va_end(ap);
	tidm_buf_puts(&m, " (statement: ");
	put_head(&m, sql, len);
	tidm_buf_putc(&m, ')');
	rc = tidm_err_set(TIDM_EUNSUPPORTED, "%s", m.data);
	tidm_buf_dispose(&m);
	tidm_buf_clear(out);
	*action = TIDM_DDL_FAIL;
	return rc;
}

/* CHARSET / CHARACTER SET / COLLATE values of a statement other than CREATE TABLE. */
static void map_charsets(struct edits *e, const tidm_ddl *d, const char *sql, size_t len, const tidm_ddl_opts *o)
{
	struct lexer lx = {.s = sql, .n = len, .mode = d->mode};
	struct parser p = {.sql = sql, .len = len};
	struct tok prev = {TK_END, 0, 0, NULL}, t;
	static const char *const not_after[] = {"ADD", "COLUMN", "MODIFY", "CHANGE", "DROP", "AFTER", "FIRST", NULL};

	for (ddl_lex(&lx, &t); t.type != TK_END && t.type != TK_ERR; prev = t, ddl_lex(&lx, &t)) {
		bool coll = ddl_tok_kw(&p, &t, "COLLATE"), cs = ddl_tok_kw(&p, &t, "CHARSET") || ddl_tok_kw(&p, &t, "CHARACTER");
		struct tok v;
		char name[64];
		const char *m, *why = NULL;
		size_t vn;

		if (!coll && !cs)
			continue;
		if (ddl_kw_in(&p, &prev, not_after) || ddl_tok_punct(&p, &prev, ',') || ddl_tok_punct(&p, &prev, '('))
			continue;
		ddl_lex(&lx, &v);
		if (ddl_tok_kw(&p, &t, "CHARACTER")) {
			if (!ddl_tok_kw(&p, &v, "SET"))
				continue;
			ddl_lex(&lx, &v);
		}
		if (ddl_tok_punct(&p, &v, '='))
			ddl_lex(&lx, &v);
		if (v.type != TK_WORD && v.type != TK_QID && v.type != TK_STR)
			continue;
		vn = v.end - v.at - (v.type == TK_WORD ? 0 : 2);
		if (vn == 0 || vn >= sizeof(name) || ddl_tok_kw(&p, &v, "DEFAULT"))
			continue;
		memcpy(name, sql + v.at + (v.type == TK_WORD ? 0 : 1), vn);
		name[vn] = '\0';
		if (memchr(name, '\0', vn) || strpbrk(name, "`'\"\\"))
			continue;
		m = coll ? tidm_dialect_map_collation(o->target, o->target_version, name, &why)
			 : tidm_dialect_map_charset(o->target, o->target_version, name, &why);
		if (m == name || !m)
			continue;
		edit_add(e, v.at, v.end, m, strlen(m));
		if (o->report) {
			if (d->n_objs)
				put_obj(o->report, &d->objs[0], false);
			tidm_buf_printf(o->report, ": %s %s mapped to %s", coll ? "collation" : "character set", name, m);
			if (why)
				tidm_buf_printf(o->report, " (%s)", why);
			tidm_buf_putc(o->report, '\n');
		}
	}
}

/*
 * A statement read with ANSI_QUOTES / NO_BACKSLASH_ESCAPES is written for tidm's session
 * (neither mode): "identifiers" become `identifiers`, backslashes in strings are doubled.
 * Added after the other edits, so that a name already rewritten keeps its rewrite.
 */
static void normalize_quotes(struct edits *e, const tidm_ddl *d, const char *sql, size_t len)
{
	struct lexer lx = {.s = sql, .n = len, .mode = d->mode};
	struct tok t;
	tidm_buf b = TIDM_BUF_INIT;

	for (ddl_lex(&lx, &t); t.type != TK_END && t.type != TK_ERR; ddl_lex(&lx, &t)) {
		const char *s = sql + t.at;
		size_t n = t.end - t.at;

		tidm_buf_clear(&b);
		if (t.type == TK_QID && s[0] == '"') {
			tidm_buf_putc(&b, '`');
			for (size_t i = 1; i + 1 < n; i++) {
				if (s[i] == '"')
					i++; /* doubled */
				if (s[i] == '`')
					tidm_buf_putc(&b, '`');
				tidm_buf_putc(&b, s[i]);
			}
			tidm_buf_putc(&b, '`');
		} else if (t.type == TK_STR && (d->mode & TIDM_DDL_NO_BACKSLASH_ESCAPES) && memchr(s, '\\', n)) {
			for (size_t i = 0; i < n; i++) {
				if (s[i] == '\\')
					tidm_buf_putc(&b, '\\');
				tidm_buf_putc(&b, s[i]);
			}
		} else {
			continue;
		}
		edit_add(e, t.at, t.end, b.data, b.len);
	}
	tidm_buf_dispose(&b);
}

/*
 * db/dialect applies its per-column rules (types, ZEROFILL, column names in report lines)
 * to items of the table body that start with a `backquoted` name, as SHOW CREATE TABLE
 * writes them; a statement from the binlog is as the user typed it. Quote the unquoted
 * column names of the body (same identifiers, so the statement means the same).
 */
static void quote_columns(struct edits *e, const tidm_ddl *d, const char *sql, size_t len)
{
	static const char *const not_col[] = {"PRIMARY",    "KEY",   "INDEX", "UNIQUE", "FULLTEXT", "SPATIAL",
					      "CONSTRAINT", "FOREIGN", "CHECK", "PERIOD", NULL};
	struct lexer lx = {.s = sql, .n = len, .pos = d->p_body_at, .mode = d->mode};
	struct parser p = {.sql = sql, .len = len};
	struct tok t;
	bool item = true;
	int depth = 0;

	ddl_lex(&lx, &t);
	if (!ddl_tok_punct(&p, &t, '('))
		return;
	for (ddl_lex(&lx, &t); t.type != TK_END && t.type != TK_ERR; ddl_lex(&lx, &t)) {
		if (ddl_tok_punct(&p, &t, '(')) {
			depth++;
		} else if (ddl_tok_punct(&p, &t, ')')) {
			if (depth-- == 0)
				return;
		} else if (depth == 0 && ddl_tok_punct(&p, &t, ',')) {
			item = true;
			continue;
		} else if (item && t.type == TK_WORD && !ddl_kw_in(&p, &t, not_col)) {
			tidm_buf b = TIDM_BUF_INIT;

			tidm_buf_putc(&b, '`');
			tidm_buf_put(&b, sql + t.at, t.end - t.at);
			tidm_buf_putc(&b, '`');
			edit_add(e, t.at, t.end, b.data, b.len);
			tidm_buf_dispose(&b);
		}
		item = false;
	}
}

/* DROP TABLE/VIEW of the selected names only, or RENAME TABLE of the selected pairs. */
static void regenerate(tidm_buf *out, const tidm_ddl *d, const bool *sel)
{
	size_t k = 0;

	tidm_buf_clear(out);
	if (d->kind == TIDM_DDL_RENAME_TABLE)
		tidm_buf_puts(out, "RENAME TABLE ");
	else
		tidm_buf_puts(out, d->kind == TIDM_DDL_DROP_TABLE ? "DROP TABLE IF EXISTS " : "DROP VIEW IF EXISTS ");
	for (size_t i = 0; i < d->n_objs; i++) {
		if (!sel[i])
			continue;
		if (k++)
			tidm_buf_puts(out, ", ");
		put_obj(out, &d->objs[i], false);
		if (d->kind == TIDM_DDL_RENAME_TABLE) {
			tidm_buf_puts(out, " TO ");
			put_obj(out, &d->objs[i], true);
		}
	}
}

/*
 * CREATE TABLE through db/dialect: the text after the name is given to it behind a neutral
 * "CREATE TABLE `name`" head (so that its report lines name the table) and the head of our
 * own rewrite is put back in front.
 */
static int adapt_create(tidm_buf *out, const tidm_ddl *d, const char *sql, size_t len, const struct edits *e,
			const tidm_ddl_opts *o)
{
	tidm_buf in = TIDM_BUF_INIT, res = TIDM_BUF_INIT;
	size_t body = d->p_body_at, head_len;
	int rc;

	tidm_buf_clear(out);
	edits_apply(out, sql, 0, body, e);
	tidm_buf_puts(&in, "CREATE TABLE ");
	tidm_quote_ident(&in, d->objs[0].name);
	head_len = in.len;
	edits_apply(&in, sql, body, len, e);
	if (memchr(in.data, '\0', in.len)) {
		/* a NUL byte (in a string default) would end the text early: leave it as it is */
		tidm_buf_put(out, in.data + head_len, in.len - head_len);
		if (o->report) {
			put_obj(o->report, &d->objs[0], false);
			tidm_buf_puts(o->report, ": not adapted to the target (the statement holds a NUL byte)\n");
		}
		rc = 0;
		goto done;
	}
	rc = tidm_dialect_adapt_create_in(&res, d->objs[0].db, in.data, o->source, o->target, o->target_version,
					  o->report);
	if (rc < 0)
		goto done;
	if (res.len < head_len || memcmp(res.data, in.data, head_len) != 0) {
		rc = tidm_err_set(TIDM_ERROR, "CREATE TABLE %s: the dialect rewrite changed the table name", in.data);
		goto done;
	}
	tidm_buf_put(out, res.data + head_len, res.len - head_len);
done:
	tidm_buf_dispose(&in);
	tidm_buf_dispose(&res);
	return rc;
}

/*
 * TiDB before 6.2 refuses an ALTER TABLE of several changes ("Unsupported multi schema
 * change"): `out` (a rewritten ALTER TABLE with qualified names) becomes one ALTER TABLE per
 * change, run in one go; a RENAME [TO] goes last, so the others still find the table. A
 * replay after a crash between them meets the changes already made as "duplicate column"
 * and the like, which safe mode passes over. Left as it is when it cannot be split.
 */
static void split_alter(tidm_buf *out)
{
	tidm_ddl d2 = TIDM_DDL_INIT;
	struct lexer lx;
	struct tok t;
	size_t head_end, spec_at = 0, n = 0, cap = 0, i, rename = SIZE_MAX;
	size_t (*spans)[2] = NULL;
	int depth = 0;
	bool at_start = true;
	tidm_buf r = TIDM_BUF_INIT;

	if (tidm_ddl_parse(&d2, out->data, out->len, NULL) < 0 || d2.n_objs == 0 ||
	    (d2.kind != TIDM_DDL_ALTER_TABLE && d2.kind != TIDM_DDL_RENAME_TABLE)) {
		tidm_err_clear();
		goto done;
	}
	head_end = d2.objs[0].end;
	lx = (struct lexer){.s = out->data, .n = out->len, .pos = head_end, .mode = 0};
	for (;;) {
		ddl_lex(&lx, &t);
		if (t.type == TK_ERR)
			goto done;
		if (t.type == TK_END || (depth == 0 && t.type == TK_PUNCT && out->data[t.at] == ',')) {
			if (!at_start) {
				if (n == cap) {
					cap = cap ? cap * 2 : 8;
					spans = ddl_xrealloc(spans, cap * sizeof(*spans));
				}
				spans[n][0] = spec_at;
				spans[n][1] = t.type == TK_END ? out->len : t.at;
				n++;
			}
			if (t.type == TK_END)
				break;
			at_start = true;
			continue;
		}
		if (t.type == TK_PUNCT && out->data[t.at] == '(')
			depth++;
		else if (t.type == TK_PUNCT && out->data[t.at] == ')')
			depth--;
		if (at_start) {
			at_start = false;
			spec_at = t.at;
			if (t.type == TK_WORD && t.end - t.at == 6 && !strncasecmp(out->data + t.at, "RENAME", 6)) {
				struct lexer l2 = lx;
				struct tok nt;
				ddl_lex(&l2, &nt);
				if (!(nt.type == TK_WORD &&
				      ((nt.end - nt.at == 6 && !strncasecmp(out->data + nt.at, "COLUMN", 6)) ||
				       (nt.end - nt.at == 5 && !strncasecmp(out->data + nt.at, "INDEX", 5)) ||
				       (nt.end - nt.at == 3 && !strncasecmp(out->data + nt.at, "KEY", 3)))))
					rename = n;
			}
		}
	}
	if (n < 2)
		goto done;
	for (size_t k = 0; k <= n; k++) {
		/* every change but the rename in order, then the rename */
		if (k == n && rename == SIZE_MAX)
			break;
		i = k == n ? rename : k;
		if (k < n && i == rename)
			continue;
		size_t a = spans[i][0], b = spans[i][1];
		while (b > a && ddl_is_ws((unsigned char)out->data[b - 1]))
			b--;
		if ((b - a > 9 && !strncasecmp(out->data + a, "ALGORITHM", 9)) ||
		    (b - a > 4 && !strncasecmp(out->data + a, "LOCK", 4) &&
		     (out->data[a + 4] == '=' || ddl_is_ws((unsigned char)out->data[a + 4]))))
			continue; /* TiDB only asserts these; alone they would be statements of their own */
		if (r.len)
			tidm_buf_puts(&r, "; ");
		tidm_buf_put(&r, out->data, head_end);
		tidm_buf_putc(&r, ' ');
		tidm_buf_put(&r, out->data + a, b - a);
	}
	tidm_buf_clear(out);
	tidm_buf_put(out, r.data, r.len);
done:
	free(spans);
	tidm_buf_dispose(&r);
	tidm_ddl_dispose(&d2);
}

int tidm_ddl_rewrite(tidm_buf *out, const tidm_ddl *ddl, const char *sql, size_t len, const tidm_ddl_opts *opts,
		     bool (*selected)(const char *db, const char *table, void *payload), void *payload, int *action)
{
	static const tidm_ddl_opts defaults = TIDM_DDL_OPTS_INIT;
	const tidm_ddl *d = ddl;
	const tidm_ddl_opts *o = opts ? opts : &defaults;
	struct edits e = {0};
	bool *sel = NULL, *nsel = NULL, any = false, partial = false, drop_first = false;
	bool maria = o->target == TIDM_FLAVOR_MARIADB, tidb = o->target == TIDM_FLAVOR_TIDB;
	int rc = 0;
	size_t i;

	tidm_buf_clear(out);
	*action = TIDM_DDL_SKIP;
	if (!sql)
		sql = "", len = 0;
	switch (d->kind) {
	case TIDM_DDL_NOT_DDL:
	case TIDM_DDL_OTHER:
		tidm_buf_puts(out, d->kind == TIDM_DDL_NOT_DDL ? "not a DDL statement, not replicated: "
							       : "a DDL statement tidm does not replicate: ");
		put_head(out, sql, len);
		return 0;
	case TIDM_DDL_CREATE_TRIGGER:
	case TIDM_DDL_DROP_TRIGGER:
		return skip(out, action, d,
			    "triggers are not replicated (the source's row events already hold what they did; "
			    "on the target they would do it twice)");
	case TIDM_DDL_CREATE_EVENT:
	case TIDM_DDL_ALTER_EVENT:
	case TIDM_DDL_DROP_EVENT:
		return skip(out, action, d,
			    "events are not replicated (the source's row events already hold what they did; "
			    "on the target they would do it twice)");
	default:
		break;
	}
	if (d->temporary)
		return skip(out, action, d, "temporary tables are not replicated");
	if (d->udf)
		return skip(out, action, d, "loadable functions (SONAME) are not replicated");
	if (d->n_objs == 0 || !selected)
		return skip(out, action, d, "no object named");

	/* selection */
	sel = ddl_xrealloc(NULL, d->n_objs * sizeof(*sel));
	nsel = ddl_xrealloc(NULL, d->n_objs * sizeof(*nsel));
	for (i = 0; i < d->n_objs; i++) {
		const tidm_ddl_obj *x = &d->objs[i];

		sel[i] = obj_selected(x, false, selected, payload);
		nsel[i] = x->new_name ? obj_selected(x, true, selected, payload) : sel[i];
		if (x->role != TIDM_DDL_OBJ_LIKE && (sel[i] || nsel[i]))
			any = true;
		else if (x->role != TIDM_DDL_OBJ_LIKE)
			partial = true;
	}
	if (!any) {
		rc = skip(out, action, d, "no selected object");
		goto done;
	}
	if (tidb && (d->kind == TIDM_DDL_CREATE_VIEW || d->kind == TIDM_DDL_ALTER_VIEW || d->kind == TIDM_DDL_DROP_VIEW)) {
		rc = skip(out, action, d, "views are not replicated to TiDB (create them after the migration)");
		goto done;
	}
	if (tidb && d->kind >= TIDM_DDL_CREATE_PROCEDURE && d->kind <= TIDM_DDL_DROP_FUNCTION) {
		rc = skip(out, action, d, "TiDB has no stored procedures or functions");
		goto done;
	}
	if (tidb && d->tidb_noop) {
		rc = skip(out, action, d, "a table rebuild (ENGINE=, FORCE, ORDER BY) means nothing on TiDB");
		goto done;
	}
	if (d->create_select) {
		tidm_buf m = TIDM_BUF_INIT;

		put_obj(&m, &d->objs[0], false);
		rc = fail(out, action, d, sql, len,
			  "CREATE TABLE %s ... SELECT cannot be migrated: the binlog holds the statement but not the rows "
			  "it copied (a source writing statement-format binlog, e.g. a replica of a statement-format "
			  "primary); create and fill the table on the target, then skip this event",
			  m.data);
		tidm_buf_dispose(&m);
		goto done;
	}
	for (i = 0; i < d->n_objs; i++) {
		const tidm_ddl_obj *x = &d->objs[i];
		tidm_buf a = TIDM_BUF_INIT, b = TIDM_BUF_INIT;

		put_obj(&a, x, false);
		if (x->new_name && sel[i] != nsel[i]) {
			put_obj(&b, x, true);
			rc = fail(out, action, d, sql, len,
				  "%s renames %s (%s) to %s (%s): it would move a table %s the job's selection; "
				  "select both names or neither",
				  tidm_ddl_kind_name(d->kind), a.data, sel[i] ? "selected" : "not selected", b.data,
				  nsel[i] ? "selected" : "not selected", sel[i] ? "out of" : "into");
		} else if (x->role == TIDM_DDL_OBJ_LIKE && !sel[i]) {
			rc = fail(out, action, d, sql, len,
				  "CREATE TABLE ... LIKE %s: the table it copies is not selected, so the target may "
				  "not have it; select it too",
				  a.data);
		} else if (d->kind == TIDM_DDL_ALTER_TABLE && i > 0 && x->role == TIDM_DDL_OBJ_TABLE &&
			   sel[i] != sel[0]) {
			rc = fail(out, action, d, sql, len,
				  "ALTER TABLE ... EXCHANGE PARTITION with %s: one of the two tables is not selected", a.data);
		}
		tidm_buf_dispose(&a);
		tidm_buf_dispose(&b);
		if (rc < 0)
			goto done;
	}
	/* CREATE OR REPLACE TABLE is MariaDB syntax: elsewhere DROP TABLE IF EXISTS, then CREATE
	 * TABLE (what MariaDB itself does; the applier's connection runs both in one go) */
	drop_first = d->kind == TIDM_DDL_CREATE_TABLE && d->or_replace && !maria && d->p_orr_end > d->p_orr_at;
	if (drop_first)
		edit_add(&e, d->p_orr_at, skip_ws(sql, len, d->p_orr_end), "", 0);
	*action = TIDM_DDL_APPLY;
	if (partial && (d->kind == TIDM_DDL_DROP_TABLE || d->kind == TIDM_DDL_DROP_VIEW ||
			(d->kind == TIDM_DDL_RENAME_TABLE && !d->alter_rename))) {
		regenerate(out, d, sel);
		goto done;
	}

	/* splices on the original text */
	for (i = 0; i < d->n_objs; i++) {
		const tidm_ddl_obj *x = &d->objs[i];

		if (x->role == TIDM_DDL_OBJ_DATABASE) {
			if (x->at == x->end) {
				tidm_buf b = TIDM_BUF_INIT;

				tidm_buf_putc(&b, ' ');
				tidm_quote_ident(&b, x->db);
				edit_add(&e, x->at, x->end, b.data, b.len);
				tidm_buf_dispose(&b);
			}
			continue;
		}
		edit_qualified(&e, x->at, x->end, x->db, x->name);
		if (x->new_name)
			edit_qualified(&e, x->new_at, x->new_end, x->new_db, x->new_name);
	}
	if (o->idempotent) {
		const char *ins = NULL;
		size_t at = d->p_kw_end;

		switch (d->kind) {
		case TIDM_DDL_CREATE_TABLE:
		case TIDM_DDL_CREATE_DATABASE:
			if (!d->if_not_exists && !d->or_replace)
				ins = " IF NOT EXISTS";
			break;
		case TIDM_DDL_CREATE_INDEX:
			if ((maria || tidb) && !d->if_not_exists && !d->or_replace)
				ins = " IF NOT EXISTS";
			break;
		case TIDM_DDL_DROP_TABLE:
		case TIDM_DDL_DROP_DATABASE:
		case TIDM_DDL_DROP_VIEW:
			if (!d->if_exists)
				ins = " IF EXISTS";
			break;
		case TIDM_DDL_DROP_INDEX:
			if ((maria || tidb) && !d->if_exists)
				ins = " IF EXISTS";
			break;
		case TIDM_DDL_CREATE_VIEW:
			if (!d->or_replace && !d->if_not_exists) {
				ins = " OR REPLACE";
				at = d->p_create_end;
			}
			break;
		default:
			break;
		}
		if (ins)
			edit_add(&e, at, at, ins, strlen(ins));
	}
	if (d->p_definer_end > d->p_definer_at)
		edit_add(&e, d->p_definer_at, skip_ws(sql, len, d->p_definer_end), "", 0);
	if (!maria && d->p_online_end > d->p_online_at)
		edit_add(&e, d->p_online_at, skip_ws(sql, len, d->p_online_end), "", 0);
	if (!maria && d->p_ignore_end > d->p_ignore_at)
		edit_add(&e, d->p_ignore_at, skip_ws(sql, len, d->p_ignore_end), "", 0);
	if (d->start_transaction) {
		struct lexer lx = {.s = sql, .n = len, .pos = d->p_start_txn_at, .mode = d->mode};
		struct tok t;
		size_t at = d->p_start_txn_at;

		ddl_lex(&lx, &t); /* START */
		ddl_lex(&lx, &t); /* TRANSACTION */
		while (at > 0 && ddl_is_ws((unsigned char)sql[at - 1]))
			at--;
		if (t.type == TK_WORD)
			edit_add(&e, at, t.end, "", 0);
	}
	if (d->kind == TIDM_DDL_ALTER_TABLE || d->kind == TIDM_DDL_CREATE_DATABASE || d->kind == TIDM_DDL_ALTER_DATABASE)
		map_charsets(&e, d, sql, len, o);
	if (d->mode)
		normalize_quotes(&e, d, sql, len);
	if (d->kind == TIDM_DDL_CREATE_TABLE && !d->create_like)
		quote_columns(&e, d, sql, len);
	if (e.n)
		qsort(e.v, e.n, sizeof(*e.v), edit_cmp);
	if (d->kind == TIDM_DDL_CREATE_TABLE && !d->create_like) {
		rc = adapt_create(out, d, sql, len, &e, o);
		if (rc < 0) {
			tidm_err_prefix("CREATE TABLE for the target: ");
			tidm_buf_clear(out);
			*action = TIDM_DDL_FAIL;
		}
		goto done;
	}
	edits_apply(out, sql, 0, len, &e);
done:
	if (drop_first && rc == 0 && *action == TIDM_DDL_APPLY) {
		tidm_buf both = TIDM_BUF_INIT;
		tidm_buf_puts(&both, "DROP TABLE IF EXISTS ");
		put_obj(&both, &d->objs[0], false);
		tidm_buf_puts(&both, "; ");
		tidm_buf_put(&both, out->data, out->len);
		tidm_buf_clear(out);
		tidm_buf_put(out, both.data, both.len);
		tidm_buf_dispose(&both);
	}
	if (tidb && o->target_version < 60200 && rc == 0 && *action == TIDM_DDL_APPLY &&
	    (d->kind == TIDM_DDL_ALTER_TABLE || (d->kind == TIDM_DDL_RENAME_TABLE && d->alter_rename)))
		split_alter(out);
	free(sel);
	free(nsel);
	edits_dispose(&e);
	return rc;
}
