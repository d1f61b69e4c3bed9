/*
 * ddl.c - classification, object extraction and target rewriting of binlog QUERY
 * statements. See ddl.h.
 *
 * Design:
 * - A lazy lexer walks the statement once per pass and returns significant tokens only
 *   (words, `identifiers`, 'strings', single punctuation bytes) as byte spans into the
 *   caller's text; comments and whitespace are skipped, executable comments have their
 *   markers skipped and their content lexed. The lexer state is two integers, so the
 *   parser looks ahead by copying it; nothing is allocated per token, and a statement of
 *   any size costs one pass and no memory beyond the decoded names.
 * - A small recursive-descent parser reads only the head of each statement kind (the
 *   words before the object names, the names, the few clauses that name other tables)
 *   and records byte offsets of what the rewriter may change: names, the spot after the
 *   object keyword where IF [NOT] EXISTS goes, the DEFINER clause, MariaDB-only words.
 *   Column definitions, view and routine bodies are never interpreted.
 * - The rewriter decides from the objects and the job's selection, then either builds a
 *   new statement (a partly selected DROP/RENAME) or applies a sorted list of splices to
 *   the original text, so that comments, executable comments and formatting survive.
 *   CREATE TABLE text is handed to db/dialect (a pure text function) with a neutral head
 *   (CREATE TABLE `name`) so that its report lines name the table; other statements get
 *   their CHARSET/COLLATE values mapped here with the same dialect maps.
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

/* ---- lexer ---------------------------------------------------------------------------- */

enum tk { TK_END, TK_WORD, TK_QID, TK_STR, TK_PUNCT, TK_ERR };

struct tok {
	enum tk type;
	size_t at, end; /* span in the statement; for TK_ERR `at` is where the bad construct starts */
	const char *err; /* TK_ERR: what is wrong (static) */
};

struct lexer {
	const char *s;
	size_t n, pos;
	bool in_vc;    /* inside an executable comment */
	unsigned mode; /* TIDM_DDL_ANSI_QUOTES | TIDM_DDL_NO_BACKSLASH_ESCAPES */
};

static bool is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static bool is_word(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' ||
	       c >= 0x80;
}

static void lex_err(struct tok *t, size_t at, const char *msg)
{
	t->type = TK_ERR;
	t->at = at;
	t->end = at;
	t->err = msg;
}

/* Next significant token; comments and whitespace skipped, executable comment markers too. */
static void lex(struct lexer *lx, struct tok *t)
{
	const char *s = lx->s;
	size_t n = lx->n, p = lx->pos, q;
	unsigned char c;

	for (;;) {
		if (p >= n) {
			if (lx->in_vc) {
				lex_err(t, p, "unterminated executable comment");
				return;
			}
			t->type = TK_END;
			t->at = t->end = n;
			lx->pos = n;
			return;
		}
		c = (unsigned char)s[p];
		if (is_ws(c)) {
			p++;
		} else if (c == '#' || (c == '-' && p + 1 < n && s[p + 1] == '-' &&
					(p + 2 >= n || (unsigned char)s[p + 2] <= ' '))) {
			while (p < n && s[p] != '\n')
				p++;
		} else if (c == '/' && p + 1 < n && s[p + 1] == '*') {
			if (p + 2 < n && (s[p + 2] == '!' || (s[p + 2] == 'M' && p + 3 < n && s[p + 3] == '!'))) {
				p += s[p + 2] == '!' ? 3 : 4;
				while (p < n && s[p] >= '0' && s[p] <= '9')
					p++;
				lx->in_vc = true;
				continue;
			}
			for (q = p + 2; q + 1 < n && !(s[q] == '*' && s[q + 1] == '/'); q++)
				;
			if (q + 1 >= n) {
				lex_err(t, p, "unterminated comment");
				return;
			}
			p = q + 2;
		} else if (lx->in_vc && c == '*' && p + 1 < n && s[p + 1] == '/') {
			p += 2;
			lx->in_vc = false;
		} else {
			break;
		}
	}
	t->at = p;
	t->err = NULL;
	if (c == '`' || c == '\'' || c == '"') {
		bool id = c == '`' || (c == '"' && (lx->mode & TIDM_DDL_ANSI_QUOTES));
		bool bs = !id && !(lx->mode & TIDM_DDL_NO_BACKSLASH_ESCAPES);

		for (q = p + 1;; q++) {
			if (q >= n) {
				lex_err(t, p, id ? "unterminated quoted identifier" : "unterminated string");
				return;
			}
			if (bs && s[q] == '\\') {
				q++;
				continue;
			}
			if ((unsigned char)s[q] == c) {
				if (q + 1 < n && (unsigned char)s[q + 1] == c) {
					q++;
					continue;
				}
				break;
			}
		}
		t->type = id ? TK_QID : TK_STR;
		t->end = q + 1;
	} else if (is_word(c)) {
		for (q = p; q < n && is_word((unsigned char)s[q]); q++)
			;
		t->type = TK_WORD;
		t->end = q;
	} else {
		t->type = TK_PUNCT;
		t->end = p + 1;
	}
	lx->pos = t->end;
}

/* ---- parser helpers ------------------------------------------------------------------- */

struct parser {
	struct lexer lx;
	struct tok t; /* current token */
	const char *sql;
	size_t len;
	const char *defdb;
	tidm_ddl *d;
	const char *what; /* statement head for messages: "ALTER TABLE" */
	int rc;
};

static void adv(struct parser *p) { lex(&p->lx, &p->t); }

static struct tok peek(const struct parser *p)
{
	struct lexer l = p->lx;
	struct tok t;

	lex(&l, &t);
	return t;
}

static bool tok_kw(const struct parser *p, const struct tok *t, const char *kw)
{
	size_t n = strlen(kw);

	return t->type == TK_WORD && t->end - t->at == n && strncasecmp(p->sql + t->at, kw, n) == 0;
}

static bool kw(const struct parser *p, const char *k) { return tok_kw(p, &p->t, k); }

static bool kw_in(const struct parser *p, const struct tok *t, const char *const *list)
{
	for (; *list; list++)
		if (tok_kw(p, t, *list))
			return true;
	return false;
}

static bool accept(struct parser *p, const char *k)
{
	if (!kw(p, k))
		return false;
	adv(p);
	return true;
}

static bool tok_punct(const struct parser *p, const struct tok *t, char c)
{
	return t->type == TK_PUNCT && p->sql[t->at] == c;
}

static bool punct(const struct parser *p, char c) { return tok_punct(p, &p->t, c); }

/* Record "expected X" at the current token (first error wins); returns TIDM_ECORRUPT. */
static int perr(struct parser *p, const char *expected)
{
	if (p->rc < 0)
		return p->rc;
	if (p->t.type == TK_ERR) {
		p->rc = tidm_err_set(TIDM_ECORRUPT, "%s: %s at offset %zu", p->what, p->t.err, p->t.at);
	} else if (p->t.type == TK_END) {
		p->rc = tidm_err_set(TIDM_ECORRUPT, "%s: expected %s at end of statement", p->what, expected);
	} else {
		size_t n = p->t.end - p->t.at;

		p->rc = tidm_err_set(TIDM_ECORRUPT, "%s: expected %s, found '%.*s%s' at offset %zu", p->what, expected,
				     (int)(n > 40 ? 40 : n), p->sql + p->t.at, n > 40 ? "..." : "", p->t.at);
	}
	return p->rc;
}

static void *xrealloc(void *ptr, size_t n)
{
	void *r = realloc(ptr, n ? n : 1);

	if (!r)
		abort(); /* as tidm_buf: out of memory is not recoverable here */
	return r;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

/* Decode the identifier at the current token (word or `quoted`) into a new string. */
static int ident(struct parser *p, char **out, const char *expected)
{
	const char *s = p->sql + p->t.at;
	size_t n = p->t.end - p->t.at, i, o = 0;
	char *r;

	*out = NULL;
	if (p->t.type == TK_WORD) {
		r = xrealloc(NULL, n + 1);
		memcpy(r, s, n);
		r[n] = '\0';
		*out = r;
		return 0;
	}
	if (p->t.type != TK_QID)
		return perr(p, expected);
	if (n <= 2) {
		if (p->rc == 0)
			p->rc = tidm_err_set(TIDM_ECORRUPT, "%s: empty identifier `` at offset %zu", p->what, p->t.at);
		return p->rc;
	}
	r = xrealloc(NULL, n);
	for (i = 1; i + 1 < n; i++) {
		char qc = s[0];

		if (s[i] == '\0') {
			free(r);
			if (p->rc == 0)
				p->rc = tidm_err_set(TIDM_ECORRUPT, "%s: NUL byte in identifier at offset %zu", p->what,
						     p->t.at + i);
			return p->rc;
		}
		r[o++] = s[i];
		if (s[i] == qc)
			i++; /* doubled */
	}
	r[o] = '\0';
	*out = r;
	return 0;
}

static tidm_ddl_obj *add_obj(tidm_ddl *d, enum tidm_ddl_obj_role role, char *db, char *name, size_t at, size_t end)
{
	tidm_ddl_obj *o;

	if (d->n_objs == d->cap_objs) {
		d->cap_objs = d->cap_objs ? d->cap_objs * 2 : 4;
		d->objs = xrealloc(d->objs, d->cap_objs * sizeof(*d->objs));
	}
	o = &d->objs[d->n_objs++];
	memset(o, 0, sizeof(*o));
	o->role = role;
	o->db = db;
	o->name = name;
	o->at = at;
	o->end = end;
	return o;
}

/*
 * [db.]name at the current token. Unqualified: the default database, or "" when
 * `allow_nodb` (loadable functions), else an error. On success *db and *name are owned
 * by the caller and the current token is the one after the name.
 */
static int qname(struct parser *p, const char *expected, bool allow_nodb, char **db, char **name, size_t *at,
		 size_t *end)
{
	char *a = NULL, *b = NULL;

	*db = *name = NULL;
	*at = p->t.at;
	if (ident(p, &a, expected) < 0)
		return p->rc;
	*end = p->t.end;
	adv(p);
	if (punct(p, '.')) {
		adv(p);
		if (ident(p, &b, expected) < 0) {
			free(a);
			return p->rc;
		}
		*end = p->t.end;
		adv(p);
		*db = a;
		*name = b;
		return 0;
	}
	if (p->defdb && *p->defdb) {
		*db = xstrdup(p->defdb);
	} else if (allow_nodb) {
		*db = xstrdup("");
	} else {
		p->rc = tidm_err_set(TIDM_ECORRUPT, "%s: `%s` has no database and the statement has no default database",
				     p->what, a);
		free(a);
		return p->rc;
	}
	*name = a;
	return 0;
}

/* qname and append it as an object. */
static tidm_ddl_obj *qname_obj(struct parser *p, enum tidm_ddl_obj_role role, const char *expected, bool allow_nodb)
{
	char *db, *name;
	size_t at = 0, end = 0;

	if (qname(p, expected, allow_nodb, &db, &name, &at, &end) < 0)
		return NULL;
	return add_obj(p->d, role, db, name, at, end);
}

static bool if_exists(struct parser *p)
{
	if (kw(p, "IF")) {
		struct tok n = peek(p);

		if (tok_kw(p, &n, "EXISTS")) {
			adv(p);
			adv(p);
			p->d->if_exists = true;
			return true;
		}
	}
	return false;
}

static int if_not_exists(struct parser *p)
{
	if (!kw(p, "IF"))
		return 0;
	adv(p);
	if (!accept(p, "NOT"))
		return perr(p, "NOT EXISTS after IF");
	if (!accept(p, "EXISTS"))
		return perr(p, "EXISTS after IF NOT");
	p->d->if_not_exists = true;
	return 0;
}

/* A user after DEFINER =: CURRENT_USER[()], name, 'name'@'host', `n`@`h`, name@host.domain. */
static int definer_user(struct parser *p)
{
	if (kw(p, "CURRENT_USER")) {
		p->d->p_definer_end = p->t.end;
		adv(p);
		if (punct(p, '(')) {
			adv(p);
			if (!punct(p, ')'))
				return perr(p, "')' after CURRENT_USER(");
			p->d->p_definer_end = p->t.end;
			adv(p);
		}
		return 0;
	}
	if (p->t.type != TK_WORD && p->t.type != TK_QID && p->t.type != TK_STR)
		return perr(p, "a user name after DEFINER =");
	p->d->p_definer_end = p->t.end;
	adv(p);
	if (!punct(p, '@'))
		return 0; /* a role */
	adv(p);
	if (p->t.type != TK_WORD && p->t.type != TK_QID && p->t.type != TK_STR)
		return perr(p, "a host name after '@'");
	p->d->p_definer_end = p->t.end;
	adv(p);
	/* unquoted host names with dots or dashes: every piece adjacent to the previous one */
	while ((punct(p, '.') || punct(p, '-')) && p->t.at == p->d->p_definer_end) {
		struct tok n = peek(p);

		if (n.type != TK_WORD || n.at != p->t.end)
			break;
		adv(p);
		p->d->p_definer_end = p->t.end;
		adv(p);
	}
	return 0;
}

/*
 * Words between CREATE/ALTER/DROP and the object keyword: OR REPLACE, ALGORITHM = x,
 * DEFINER = u, SQL SECURITY x, TEMPORARY, ONLINE/OFFLINE, IGNORE, UNIQUE/FULLTEXT/SPATIAL,
 * AGGREGATE.
 */
static int prefix(struct parser *p)
{
	for (;;) {
		if (kw(p, "OR")) {
			size_t at = p->t.at, end;
			adv(p);
			end = p->t.end;
			if (!accept(p, "REPLACE"))
				return perr(p, "REPLACE after OR");
			p->d->or_replace = true;
			p->d->p_orr_at = at;
			p->d->p_orr_end = end;
		} else if (kw(p, "ALGORITHM")) {
			adv(p);
			if (punct(p, '='))
				adv(p);
			if (p->t.type != TK_WORD)
				return perr(p, "a value after ALGORITHM =");
			adv(p);
		} else if (kw(p, "DEFINER")) {
			p->d->p_definer_at = p->t.at;
			adv(p);
			if (punct(p, '='))
				adv(p);
			if (definer_user(p) < 0)
				return p->rc;
		} else if (kw(p, "SQL")) {
			adv(p);
			if (!accept(p, "SECURITY"))
				return perr(p, "SECURITY after SQL");
			if (p->t.type != TK_WORD)
				return perr(p, "DEFINER or INVOKER after SQL SECURITY");
			adv(p);
		} else if (kw(p, "TEMPORARY")) {
			p->d->temporary = true;
			adv(p);
		} else if (kw(p, "ONLINE")) {
			p->d->p_online_at = p->t.at;
			p->d->p_online_end = p->t.end;
			adv(p);
		} else if (kw(p, "IGNORE")) {
			p->d->p_ignore_at = p->t.at;
			p->d->p_ignore_end = p->t.end;
			adv(p);
		} else if (kw(p, "OFFLINE") || kw(p, "UNIQUE") || kw(p, "FULLTEXT") || kw(p, "SPATIAL") ||
			   kw(p, "AGGREGATE")) {
			adv(p);
		} else {
			return 0;
		}
	}
}

/* MariaDB WAIT n | NOWAIT after a name. */
static void wait_clause(struct parser *p)
{
	if (kw(p, "NOWAIT")) {
		adv(p);
	} else if (kw(p, "WAIT")) {
		struct tok n = peek(p);

		if (n.type == TK_WORD) {
			adv(p);
			adv(p);
		}
	}
}

/* Skip to the end of the statement, failing on a lexer error (unterminated string...). */
static int rest(struct parser *p)
{
	while (p->t.type != TK_END && p->t.type != TK_ERR)
		adv(p);
	return p->t.type == TK_ERR ? perr(p, "") : 0;
}

/* ---- statement kinds ----------------------------------------------------------------- */

static int parse_create_table(struct parser *p)
{
	tidm_ddl *d = p->d;
	struct tok next;
	int depth = 0;

	d->kind = TIDM_DDL_CREATE_TABLE;
	p->what = "CREATE TABLE";
	d->p_kw_end = p->t.end;
	adv(p);
	if (if_not_exists(p) < 0)
		return p->rc;
	if (!qname_obj(p, TIDM_DDL_OBJ_TABLE, "a table name", false))
		return p->rc;
	d->p_body_at = d->objs[0].end;
	next = peek(p);
	if (kw(p, "LIKE") || (punct(p, '(') && tok_kw(p, &next, "LIKE"))) {
		bool paren = punct(p, '(');

		if (paren)
			adv(p);
		adv(p);
		d->create_like = true;
		if (!qname_obj(p, TIDM_DDL_OBJ_LIKE, "a table name after LIKE", false))
			return p->rc;
		if (paren && !punct(p, ')'))
			return perr(p, "')' after the LIKE table");
		return rest(p);
	}
	if (p->t.type == TK_END)
		return perr(p, "'(', LIKE or SELECT after the table name");
	for (; p->t.type != TK_END; adv(p)) {
		if (p->t.type == TK_ERR)
			return perr(p, "");
		if (punct(p, '(')) {
			if (depth == 0) {
				struct tok n = peek(p);

				if (tok_kw(p, &n, "SELECT") || tok_kw(p, &n, "WITH") || tok_kw(p, &n, "VALUES") ||
				    tok_kw(p, &n, "TABLE"))
					d->create_select = true;
			}
			depth++;
		} else if (punct(p, ')')) {
			depth--;
		} else if (depth == 0 && (kw(p, "SELECT") || kw(p, "AS"))) {
			d->create_select = true;
		} else if (depth == 0 && kw(p, "START")) {
			struct tok n = peek(p);

			if (tok_kw(p, &n, "TRANSACTION")) {
				d->start_transaction = true;
				d->p_start_txn_at = p->t.at;
			}
		}
	}
	return 0;
}

static int parse_database(struct parser *p, enum tidm_ddl_kind kind)
{
	static const char *const opts[] = {"CHARACTER", "CHARSET", "DEFAULT", "COLLATE", "ENCRYPTION",
					   "READ",      "COMMENT", "UPGRADE", NULL};
	tidm_ddl *d = p->d;
	char *name;

	d->kind = kind;
	p->what = kind == TIDM_DDL_CREATE_DATABASE ? "CREATE DATABASE"
		  : kind == TIDM_DDL_DROP_DATABASE ? "DROP DATABASE"
						   : "ALTER DATABASE";
	d->p_kw_end = p->t.end;
	adv(p);
	if (kind == TIDM_DDL_CREATE_DATABASE && if_not_exists(p) < 0)
		return p->rc;
	if (kind == TIDM_DDL_DROP_DATABASE)
		if_exists(p);
	if (kind == TIDM_DDL_ALTER_DATABASE && p->t.type == TK_WORD && kw_in(p, &p->t, opts)) {
		if (!p->defdb || !*p->defdb) {
			p->rc = tidm_err_set(TIDM_ECORRUPT,
					     "ALTER DATABASE: no database named and the statement has no default database");
			return p->rc;
		}
		add_obj(d, TIDM_DDL_OBJ_DATABASE, xstrdup(p->defdb), NULL, d->p_kw_end, d->p_kw_end);
		return rest(p);
	}
	if (ident(p, &name, "a database name") < 0)
		return p->rc;
	add_obj(d, TIDM_DDL_OBJ_DATABASE, name, NULL, p->t.at, p->t.end);
	adv(p);
	return rest(p);
}

static int parse_alter_table(struct parser *p)
{
	static const char *const noop[] = {"ENGINE", "FORCE", "ORDER", NULL};
	static const char *const neutral[] = {"ALGORITHM", "LOCK", NULL};
	tidm_ddl *d = p->d;
	size_t renames = 0, other = 0, noops = 0, partition = 0;
	bool spec_start = true;
	int depth = 0;

	d->kind = TIDM_DDL_ALTER_TABLE;
	p->what = "ALTER TABLE";
	d->p_kw_end = p->t.end;
	adv(p);
	if_exists(p); /* MariaDB */
	if (!qname_obj(p, TIDM_DDL_OBJ_TABLE, "a table name", false))
		return p->rc;
	wait_clause(p);
	while (p->t.type != TK_END) {
		if (p->t.type == TK_ERR)
			return perr(p, "");
		if (punct(p, '(')) {
			depth++;
		} else if (punct(p, ')')) {
			depth--;
		} else if (depth == 0 && punct(p, ',')) {
			spec_start = true;
			adv(p);
			continue;
		} else if (depth == 0 && (kw(p, "PARTITION") || kw(p, "REMOVE"))) {
			partition++;
		}
		if (depth == 0 && spec_start && p->t.type == TK_WORD) {
			spec_start = false;
			if (kw(p, "RENAME")) {
				struct tok n = peek(p);

				if (tok_kw(p, &n, "COLUMN") || tok_kw(p, &n, "INDEX") || tok_kw(p, &n, "KEY")) {
					other++;
				} else {
					tidm_ddl_obj *o;
					char *db, *name;
					size_t at, end;

					adv(p);
					if (!accept(p, "TO"))
						(void)accept(p, "AS");
					if (punct(p, '='))
						adv(p);
					if (qname(p, "the new table name after RENAME", false, &db, &name, &at, &end) < 0)
						return p->rc;
					o = &d->objs[0];
					free(o->new_db);
					free(o->new_name);
					o->new_db = db;
					o->new_name = name;
					o->new_at = at;
					o->new_end = end;
					d->alter_rename = true;
					renames++;
					continue;
				}
			} else if (kw(p, "EXCHANGE")) {
				other++;
				adv(p);
				if (!accept(p, "PARTITION"))
					return perr(p, "PARTITION after EXCHANGE");
				if (p->t.type != TK_WORD && p->t.type != TK_QID)
					return perr(p, "a partition name");
				adv(p);
				if (!accept(p, "WITH"))
					return perr(p, "WITH after the partition name");
				if (!accept(p, "TABLE"))
					return perr(p, "TABLE after WITH");
				if (!qname_obj(p, TIDM_DDL_OBJ_TABLE, "a table name after WITH TABLE", false))
					return p->rc;
				continue;
			} else if (kw_in(p, &p->t, noop)) {
				noops++;
			} else if (!kw_in(p, &p->t, neutral)) {
				other++;
			}
		}
		adv(p);
	}
	if (renames && !other && !noops && !partition)
		d->kind = TIDM_DDL_RENAME_TABLE;
	d->tidb_noop = noops && !other && !renames && !partition;
	return 0;
}

static int parse_drop_list(struct parser *p, enum tidm_ddl_kind kind)
{
	tidm_ddl *d = p->d;

	d->kind = kind;
	p->what = kind == TIDM_DDL_DROP_TABLE ? "DROP TABLE" : "DROP VIEW";
	d->p_kw_end = p->t.end;
	adv(p);
	if_exists(p);
	for (;;) {
		if (!qname_obj(p, TIDM_DDL_OBJ_TABLE, kind == TIDM_DDL_DROP_TABLE ? "a table name" : "a view name", false))
			return p->rc;
		if (!punct(p, ','))
			break;
		adv(p);
	}
	return rest(p);
}

static int parse_rename(struct parser *p)
{
	tidm_ddl *d = p->d;

	d->kind = TIDM_DDL_RENAME_TABLE;
	p->what = "RENAME TABLE";
	d->p_kw_end = p->t.end;
	adv(p);
	if_exists(p); /* MariaDB 10.5 */
	for (;;) {
		tidm_ddl_obj *o = qname_obj(p, TIDM_DDL_OBJ_TABLE, "a table name", false);
		size_t at, end;
		char *db, *name;

		if (!o)
			return p->rc;
		wait_clause(p);
		if (!accept(p, "TO"))
			return perr(p, "TO after the table name");
		if (qname(p, "the new table name after TO", false, &db, &name, &at, &end) < 0)
			return p->rc;
		o = &d->objs[d->n_objs - 1];
		o->new_db = db;
		o->new_name = name;
		o->new_at = at;
		o->new_end = end;
		if (!punct(p, ','))
			break;
		adv(p);
	}
	return rest(p);
}

static int parse_index(struct parser *p, enum tidm_ddl_kind kind)
{
	tidm_ddl *d = p->d;
	char *name;

	d->kind = kind;
	p->what = kind == TIDM_DDL_CREATE_INDEX ? "CREATE INDEX" : "DROP INDEX";
	d->p_kw_end = p->t.end;
	adv(p);
	if (kind == TIDM_DDL_CREATE_INDEX && if_not_exists(p) < 0)
		return p->rc;
	if (kind == TIDM_DDL_DROP_INDEX)
		if_exists(p);
	if (ident(p, &name, "an index name") < 0)
		return p->rc;
	free(name);
	adv(p);
	/* CREATE INDEX i USING BTREE ON t / TYPE BTREE */
	if (kw(p, "USING") || kw(p, "TYPE")) {
		adv(p);
		if (p->t.type != TK_WORD)
			return perr(p, "an index type");
		adv(p);
	}
	if (!accept(p, "ON"))
		return perr(p, "ON after the index name");
	if (!qname_obj(p, TIDM_DDL_OBJ_TABLE, "a table name after ON", false))
		return p->rc;
	return rest(p);
}

/* VIEW / TRIGGER / PROCEDURE / FUNCTION / EVENT after CREATE/ALTER/DROP and the prefix. */
static int parse_named(struct parser *p, enum tidm_ddl_kind kind, const char *what, bool create, bool drop)
{
	tidm_ddl *d = p->d;
	bool view = kind == TIDM_DDL_CREATE_VIEW || kind == TIDM_DDL_ALTER_VIEW;
	bool func = kind == TIDM_DDL_CREATE_FUNCTION;
	tidm_ddl_obj *o;

	d->kind = kind;
	p->what = what;
	d->p_kw_end = p->t.end;
	adv(p);
	if (create && if_not_exists(p) < 0)
		return p->rc;
	if (drop)
		if_exists(p);
	o = qname_obj(p, view ? TIDM_DDL_OBJ_TABLE : TIDM_DDL_OBJ_ROUTINE, view ? "a view name" : "a name", func);
	if (!o)
		return p->rc;
	if (kind == TIDM_DDL_CREATE_TRIGGER) {
		/* BEFORE|AFTER event[, ...] ON table */
		while (p->t.type != TK_END && p->t.type != TK_ERR && !kw(p, "ON"))
			adv(p);
		if (!accept(p, "ON"))
			return perr(p, "ON and the trigger's table");
		if (!qname_obj(p, TIDM_DDL_OBJ_TABLE, "the trigger's table after ON", false))
			return p->rc;
	}
	if (func) {
		for (; p->t.type != TK_END && p->t.type != TK_ERR; adv(p))
			if (kw(p, "SONAME"))
				d->udf = true;
	}
	return rest(p);
}

static const char *const not_ddl_heads[] = {
	"INSERT",  "UPDATE",   "DELETE",    "REPLACE",   "LOAD",     "SET",      "GRANT",   "REVOKE",   "FLUSH",
	"ANALYZE", "OPTIMIZE", "REPAIR",    "CHECK",     "CHECKSUM", "CALL",     "DO",      "SELECT",   "WITH",
	"VALUES",  "TABLE",    "SHOW",      "HANDLER",   "LOCK",     "UNLOCK",   "BEGIN",   "COMMIT",   "ROLLBACK",
	"SAVEPOINT", "RELEASE", "XA",       "START",     "USE",      "PREPARE",  "EXECUTE", "DEALLOCATE", "KILL",
	"RESET",   "PURGE",    "CHANGE",    "INSTALL",   "UNINSTALL", "SIGNAL",  "RESIGNAL", "BINLOG",  "CACHE",
	"DESCRIBE", "DESC",    "EXPLAIN",   "HELP",      "SHUTDOWN", "RESTART",  "CLONE",   "BACKUP",   "STOP",
	"GET",     NULL,
};

/*
 * Statement-format DML (INSERT, REPLACE, UPDATE, DELETE, LOAD DATA/XML): the tables it may
 * write, as OBJ_TABLE objects, found without failing on what it does not follow. Every
 * name in a table position counts - for UPDATE and DELETE every name before SET / WHERE,
 * aliases and ON-clause columns included (an alias may then match a selected table: the
 * caller errs on the side of refusing). `dml_unknown` when a name has no database and the
 * statement no default one, or the statement ends before a table.
 */
static void dml_name(struct parser *p)
{
	size_t at = p->t.at, end = p->t.end;
	char *a = NULL, *b = NULL;

	if ((p->t.type != TK_WORD && p->t.type != TK_QID) || ident(p, &a, "") < 0) {
		p->rc = 0;
		tidm_err_clear();
		adv(p);
		return;
	}
	adv(p);
	if (punct(p, '.')) {
		adv(p);
		if (punct(p, '*')) { /* DELETE t.* FROM ...: t is a table of the default database */
			adv(p);
		} else if ((p->t.type == TK_WORD || p->t.type == TK_QID) && ident(p, &b, "") == 0) {
			end = p->t.end;
			adv(p);
			add_obj(p->d, TIDM_DDL_OBJ_TABLE, a, b, at, end);
			return;
		} else {
			p->rc = 0;
			tidm_err_clear();
		}
	}
	if (p->defdb && *p->defdb)
		add_obj(p->d, TIDM_DDL_OBJ_TABLE, xstrdup(p->defdb), a, at, end);
	else {
		free(a);
		p->d->dml_unknown = true;
	}
}

/* The one table an INSERT / LOAD writes, at the current token. */
static void dml_target(struct parser *p)
{
	if (p->t.type == TK_END || p->t.type == TK_ERR)
		p->d->dml_unknown = true;
	else
		dml_name(p);
}

static const char *const dml_words[] = {
	"LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "INTO", "QUICK", "AS", "JOIN", "INNER", "LEFT",
	"RIGHT", "OUTER", "CROSS", "STRAIGHT_JOIN", "NATURAL", "ON", "USING", "FROM", "AND", "OR", "NOT", "IS",
	"NULL", "PARTITION", "USE", "FORCE", "INDEX", "KEY", "FOR", "LATERAL", "ONLY", NULL,
};

static void parse_dml(struct parser *p)
{
	tidm_ddl *d = p->d;
	int depth = 0;
	bool insert = kw(p, "INSERT") || kw(p, "REPLACE"), load = kw(p, "LOAD");

	d->dml = true;
	adv(p);
	if (load) { /* LOAD DATA|XML ... INTO TABLE name */
		while (p->t.type != TK_END && p->t.type != TK_ERR && !kw(p, "TABLE"))
			adv(p);
		adv(p);
		dml_target(p);
		return;
	}
	if (insert) { /* INSERT|REPLACE [modifiers] [INTO] name */
		while (kw(p, "LOW_PRIORITY") || kw(p, "DELAYED") || kw(p, "HIGH_PRIORITY") || kw(p, "IGNORE") ||
		       kw(p, "INTO"))
			adv(p);
		dml_target(p);
		return;
	}
	/* UPDATE table_references SET ...; DELETE ... [FROM ...] [USING ...] WHERE|ORDER|LIMIT ... */
	while (p->t.type != TK_END && p->t.type != TK_ERR) {
		if (punct(p, '('))
			depth++;
		else if (punct(p, ')'))
			depth--;
		if (depth == 0 && (kw(p, "SET") || kw(p, "WHERE") || kw(p, "ORDER") || kw(p, "LIMIT") ||
				   kw(p, "RETURNING")))
			break;
		if (depth == 0 && (p->t.type == TK_WORD || p->t.type == TK_QID) && !kw_in(p, &p->t, dml_words)) {
			dml_name(p);
			continue;
		}
		adv(p);
	}
	if (!d->n_objs)
		d->dml_unknown = true;
}

static int parse_stmt(struct parser *p)
{
	tidm_ddl *d = p->d;

	adv(p);
	if (p->t.type == TK_END || punct(p, '(') || punct(p, ';'))
		return 0; /* NOT_DDL */
	if (p->t.type == TK_ERR) {
		p->what = "statement";
		return perr(p, "");
	}
	if (p->t.type != TK_WORD) {
		d->kind = TIDM_DDL_OTHER;
		return 0;
	}
	if (kw(p, "INSERT") || kw(p, "REPLACE") || kw(p, "UPDATE") || kw(p, "DELETE") || kw(p, "LOAD")) {
		parse_dml(p);
		return 0;
	}
	if (kw_in(p, &p->t, not_ddl_heads))
		return 0;
	d->kind = TIDM_DDL_OTHER;
	if (kw(p, "CREATE")) {
		p->what = "CREATE";
		d->p_create_end = p->t.end;
		adv(p);
		if (prefix(p) < 0)
			return p->rc;
		if (kw(p, "DATABASE") || kw(p, "SCHEMA"))
			return parse_database(p, TIDM_DDL_CREATE_DATABASE);
		if (kw(p, "TABLE"))
			return parse_create_table(p);
		if (kw(p, "INDEX"))
			return parse_index(p, TIDM_DDL_CREATE_INDEX);
		if (kw(p, "VIEW"))
			return parse_named(p, TIDM_DDL_CREATE_VIEW, "CREATE VIEW", true, false);
		if (kw(p, "TRIGGER"))
			return parse_named(p, TIDM_DDL_CREATE_TRIGGER, "CREATE TRIGGER", true, false);
		if (kw(p, "PROCEDURE"))
			return parse_named(p, TIDM_DDL_CREATE_PROCEDURE, "CREATE PROCEDURE", true, false);
		if (kw(p, "FUNCTION"))
			return parse_named(p, TIDM_DDL_CREATE_FUNCTION, "CREATE FUNCTION", true, false);
		if (kw(p, "EVENT"))
			return parse_named(p, TIDM_DDL_CREATE_EVENT, "CREATE EVENT", true, false);
		if (kw(p, "USER") || kw(p, "ROLE"))
			d->kind = TIDM_DDL_NOT_DDL;
		return 0;
	}
	if (kw(p, "ALTER")) {
		p->what = "ALTER";
		d->p_create_end = p->t.end;
		adv(p);
		if (prefix(p) < 0)
			return p->rc;
		if (kw(p, "TABLE"))
			return parse_alter_table(p);
		if (kw(p, "DATABASE") || kw(p, "SCHEMA"))
			return parse_database(p, TIDM_DDL_ALTER_DATABASE);
		if (kw(p, "VIEW"))
			return parse_named(p, TIDM_DDL_ALTER_VIEW, "ALTER VIEW", false, false);
		if (kw(p, "PROCEDURE"))
			return parse_named(p, TIDM_DDL_ALTER_PROCEDURE, "ALTER PROCEDURE", false, false);
		if (kw(p, "FUNCTION"))
			return parse_named(p, TIDM_DDL_ALTER_FUNCTION, "ALTER FUNCTION", false, false);
		if (kw(p, "EVENT"))
			return parse_named(p, TIDM_DDL_ALTER_EVENT, "ALTER EVENT", false, false);
		if (kw(p, "USER") || kw(p, "ROLE"))
			d->kind = TIDM_DDL_NOT_DDL;
		return 0;
	}
	if (kw(p, "DROP")) {
		p->what = "DROP";
		adv(p);
		if (prefix(p) < 0)
			return p->rc;
		if (kw(p, "TABLE") || kw(p, "TABLES"))
			return parse_drop_list(p, TIDM_DDL_DROP_TABLE);
		if (kw(p, "DATABASE") || kw(p, "SCHEMA"))
			return parse_database(p, TIDM_DDL_DROP_DATABASE);
		if (kw(p, "INDEX"))
			return parse_index(p, TIDM_DDL_DROP_INDEX);
		if (kw(p, "VIEW"))
			return parse_drop_list(p, TIDM_DDL_DROP_VIEW);
		if (kw(p, "TRIGGER"))
			return parse_named(p, TIDM_DDL_DROP_TRIGGER, "DROP TRIGGER", false, true);
		if (kw(p, "PROCEDURE"))
			return parse_named(p, TIDM_DDL_DROP_PROCEDURE, "DROP PROCEDURE", false, true);
		if (kw(p, "FUNCTION"))
			return parse_named(p, TIDM_DDL_DROP_FUNCTION, "DROP FUNCTION", false, true);
		if (kw(p, "EVENT"))
			return parse_named(p, TIDM_DDL_DROP_EVENT, "DROP EVENT", false, true);
		if (kw(p, "USER") || kw(p, "ROLE") || kw(p, "PREPARE"))
			d->kind = TIDM_DDL_NOT_DDL;
		return 0;
	}
	if (kw(p, "RENAME")) {
		adv(p);
		if (kw(p, "TABLE") || kw(p, "TABLES"))
			return parse_rename(p);
		if (kw(p, "USER"))
			d->kind = TIDM_DDL_NOT_DDL;
		return 0;
	}
	if (kw(p, "TRUNCATE")) {
		d->kind = TIDM_DDL_TRUNCATE_TABLE;
		p->what = "TRUNCATE TABLE";
		adv(p);
		if (kw(p, "TABLE")) {
			d->p_kw_end = p->t.end;
			adv(p);
		}
		if (!qname_obj(p, TIDM_DDL_OBJ_TABLE, "a table name", false))
			return p->rc;
		return rest(p);
	}
	return 0;
}

/* ---- public: parse -------------------------------------------------------------------- */

void tidm_ddl_init(tidm_ddl *d) { memset(d, 0, sizeof(*d)); }

void tidm_ddl_dispose(tidm_ddl *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_objs; i++) {
		free(d->objs[i].db);
		free(d->objs[i].name);
		free(d->objs[i].new_db);
		free(d->objs[i].new_name);
	}
	free(d->objs);
	memset(d, 0, sizeof(*d));
}

int tidm_ddl_parse(tidm_ddl *out, const char *sql, size_t len, const char *default_db)
{
	return tidm_ddl_parse_mode(out, sql, len, default_db, 0);
}

int tidm_ddl_parse_mode(tidm_ddl *out, const char *sql, size_t len, const char *default_db, unsigned mode)
{
	struct parser p = {.sql = sql ? sql : "", .len = sql ? len : 0, .defdb = default_db, .d = out, .what = "statement"};

	tidm_ddl_dispose(out);
	out->mode = mode;
	p.lx.s = p.sql;
	p.lx.n = p.len;
	p.lx.mode = mode;
	if (parse_stmt(&p) < 0) {
		int rc = p.rc;

		tidm_ddl_dispose(out);
		out->kind = TIDM_DDL_OTHER;
		return rc;
	}
	return 0;
}

const char *tidm_ddl_kind_name(enum tidm_ddl_kind kind)
{
	switch (kind) {
	case TIDM_DDL_NOT_DDL: return "NOT DDL";
	case TIDM_DDL_OTHER: return "OTHER DDL";
	case TIDM_DDL_CREATE_DATABASE: return "CREATE DATABASE";
	case TIDM_DDL_DROP_DATABASE: return "DROP DATABASE";
	case TIDM_DDL_ALTER_DATABASE: return "ALTER DATABASE";
	case TIDM_DDL_CREATE_TABLE: return "CREATE TABLE";
	case TIDM_DDL_ALTER_TABLE: return "ALTER TABLE";
	case TIDM_DDL_DROP_TABLE: return "DROP TABLE";
	case TIDM_DDL_RENAME_TABLE: return "RENAME TABLE";
	case TIDM_DDL_TRUNCATE_TABLE: return "TRUNCATE TABLE";
	case TIDM_DDL_CREATE_INDEX: return "CREATE INDEX";
	case TIDM_DDL_DROP_INDEX: return "DROP INDEX";
	case TIDM_DDL_CREATE_VIEW: return "CREATE VIEW";
	case TIDM_DDL_ALTER_VIEW: return "ALTER VIEW";
	case TIDM_DDL_DROP_VIEW: return "DROP VIEW";
	case TIDM_DDL_CREATE_TRIGGER: return "CREATE TRIGGER";
	case TIDM_DDL_DROP_TRIGGER: return "DROP TRIGGER";
	case TIDM_DDL_CREATE_PROCEDURE: return "CREATE PROCEDURE";
	case TIDM_DDL_ALTER_PROCEDURE: return "ALTER PROCEDURE";
	case TIDM_DDL_DROP_PROCEDURE: return "DROP PROCEDURE";
	case TIDM_DDL_CREATE_FUNCTION: return "CREATE FUNCTION";
	case TIDM_DDL_ALTER_FUNCTION: return "ALTER FUNCTION";
	case TIDM_DDL_DROP_FUNCTION: return "DROP FUNCTION";
	case TIDM_DDL_CREATE_EVENT: return "CREATE EVENT";
	case TIDM_DDL_ALTER_EVENT: return "ALTER EVENT";
	case TIDM_DDL_DROP_EVENT: return "DROP EVENT";
	default: return "UNKNOWN";
	}
}

/* ---- rewriting ------------------------------------------------------------------------ */

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
		e->v = xrealloc(e->v, e->cap * sizeof(*e->v));
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
	while (pos < len && is_ws((unsigned char)sql[pos]))
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

/* Message for a statement that cannot be split; returns TIDM_EUNSUPPORTED. */
static int fail(tidm_buf *out, int *action, const tidm_ddl *d, const char *sql, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
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

	for (lex(&lx, &t); t.type != TK_END && t.type != TK_ERR; prev = t, lex(&lx, &t)) {
		bool coll = tok_kw(&p, &t, "COLLATE"), cs = tok_kw(&p, &t, "CHARSET") || tok_kw(&p, &t, "CHARACTER");
		struct tok v;
		char name[64];
		const char *m, *why = NULL;
		size_t vn;

		if (!coll && !cs)
			continue;
		if (kw_in(&p, &prev, not_after) || tok_punct(&p, &prev, ',') || tok_punct(&p, &prev, '('))
			continue;
		lex(&lx, &v);
		if (tok_kw(&p, &t, "CHARACTER")) {
			if (!tok_kw(&p, &v, "SET"))
				continue;
			lex(&lx, &v);
		}
		if (tok_punct(&p, &v, '='))
			lex(&lx, &v);
		if (v.type != TK_WORD && v.type != TK_QID && v.type != TK_STR)
			continue;
		vn = v.end - v.at - (v.type == TK_WORD ? 0 : 2);
		if (vn == 0 || vn >= sizeof(name) || tok_kw(&p, &v, "DEFAULT"))
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

	for (lex(&lx, &t); t.type != TK_END && t.type != TK_ERR; lex(&lx, &t)) {
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

	lex(&lx, &t);
	if (!tok_punct(&p, &t, '('))
		return;
	for (lex(&lx, &t); t.type != TK_END && t.type != TK_ERR; lex(&lx, &t)) {
		if (tok_punct(&p, &t, '(')) {
			depth++;
		} else if (tok_punct(&p, &t, ')')) {
			if (depth-- == 0)
				return;
		} else if (depth == 0 && tok_punct(&p, &t, ',')) {
			item = true;
			continue;
		} else if (item && t.type == TK_WORD && !kw_in(&p, &t, not_col)) {
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

size_t tidm_ddl_stmt_len(const char *sql, size_t len, unsigned mode)
{
	struct lexer lx = {.s = sql, .n = len, .pos = 0, .mode = mode};
	struct tok t;

	for (;;) {
		lex(&lx, &t);
		if (t.type == TK_END || t.type == TK_ERR)
			return len;
		if (t.type == TK_PUNCT && sql[t.at] == ';')
			return t.at;
	}
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
		lex(&lx, &t);
		if (t.type == TK_ERR)
			goto done;
		if (t.type == TK_END || (depth == 0 && t.type == TK_PUNCT && out->data[t.at] == ',')) {
			if (!at_start) {
				if (n == cap) {
					cap = cap ? cap * 2 : 8;
					spans = xrealloc(spans, cap * sizeof(*spans));
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
				lex(&l2, &nt);
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
		while (b > a && is_ws((unsigned char)out->data[b - 1]))
			b--;
		if ((b - a > 9 && !strncasecmp(out->data + a, "ALGORITHM", 9)) ||
		    (b - a > 4 && !strncasecmp(out->data + a, "LOCK", 4) &&
		     (out->data[a + 4] == '=' || is_ws((unsigned char)out->data[a + 4]))))
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
	sel = xrealloc(NULL, d->n_objs * sizeof(*sel));
	nsel = xrealloc(NULL, d->n_objs * sizeof(*nsel));
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

		lex(&lx, &t); /* START */
		lex(&lx, &t); /* TRANSACTION */
		while (at > 0 && is_ws((unsigned char)sql[at - 1]))
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
