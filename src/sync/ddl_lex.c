/*
 * ddl_lex.c - the DDL lexer and the parser's token-level primitives (see ddl_int.h).
 *
 * DESIGN
 *  A lazy lexer walks the statement once per pass and returns significant tokens only
 *  (words, `identifiers`, 'strings', single punctuation bytes) as byte spans into the
 *  caller's text; comments and whitespace are skipped, executable comments have their
 *  markers skipped and their content lexed. The lexer state is two integers, so the parser
 *  looks ahead by copying it (ddl_peek); nothing is allocated per token, and a statement of any
 *  size costs one pass and no memory beyond the decoded names.
 *  The parser primitives here read keywords and punctuation (ddl_kw, ddl_accept, ddl_punct), decode
 *  names (ddl_ident, ddl_qname) into objects of the statement (ddl_add_obj), and parse the clauses
 *  several statement kinds share: IF [NOT] EXISTS, DEFINER, the prefix words of CREATE
 *  (OR REPLACE, ALGORITHM, SQL SECURITY ...), WAIT / NOWAIT. tidm_ddl_stmt_len cuts the
 *  first statement off a multi-statement text with the same lexer.
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

bool ddl_is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

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
void ddl_lex(struct lexer *lx, struct tok *t)
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
		if (ddl_is_ws(c)) {
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

void ddl_adv(struct parser *p) { ddl_lex(&p->lx, &p->t); }

struct tok ddl_peek(const struct parser *p)
{
	struct lexer l = p->lx;
	struct tok t;

	ddl_lex(&l, &t);
	return t;
}

bool ddl_tok_kw(const struct parser *p, const struct tok *t, const char *kw)
{
	size_t n = strlen(kw);

	return t->type == TK_WORD && t->end - t->at == n && strncasecmp(p->sql + t->at, kw, n) == 0;
}

bool ddl_kw(const struct parser *p, const char *k) { return ddl_tok_kw(p, &p->t, k); }

bool ddl_kw_in(const struct parser *p, const struct tok *t, const char *const *list)
{
	for (; *list; list++)
		if (ddl_tok_kw(p, t, *list))
			return true;
	return false;
}

bool ddl_accept(struct parser *p, const char *k)
{
	if (!ddl_kw(p, k))
		return false;
	ddl_adv(p);
	return true;
}

bool ddl_tok_punct(const struct parser *p, const struct tok *t, char c)
{
	return t->type == TK_PUNCT && p->sql[t->at] == c;
}

bool ddl_punct(const struct parser *p, char c) { return ddl_tok_punct(p, &p->t, c); }

/* Record "expected X" at the current token (first error wins); returns TIDM_ECORRUPT. */
int ddl_perr(struct parser *p, const char *expected)
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

void *ddl_xrealloc(void *ptr, size_t n)
{
	void *r = realloc(ptr, n ? n : 1);

	if (!r)
		abort(); /* as tidm_buf: out of memory is not recoverable here */
	return r;
}

char *ddl_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(ddl_xrealloc(NULL, n), s, n);
}

/* Decode the identifier at the current token (word or `quoted`) into a new string. */
int ddl_ident(struct parser *p, char **out, const char *expected)
{
	const char *s = p->sql + p->t.at;
	size_t n = p->t.end - p->t.at, i, o = 0;
	char *r;

	*out = NULL;
	if (p->t.type == TK_WORD) {
		r = ddl_xrealloc(NULL, n + 1);
		memcpy(r, s, n);
		r[n] = '\0';
		*out = r;
		return 0;
	}
	if (p->t.type != TK_QID)
		return ddl_perr(p, expected);
	if (n <= 2) {
		if (p->rc == 0)
			p->rc = tidm_err_set(TIDM_ECORRUPT, "%s: empty identifier `` at offset %zu", p->what, p->t.at);
		return p->rc;
	}
	r = ddl_xrealloc(NULL, n);
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

tidm_ddl_obj *ddl_add_obj(tidm_ddl *d, enum tidm_ddl_obj_role role, char *db, char *name, size_t at, size_t end)
{
	tidm_ddl_obj *o;

	if (d->n_objs == d->cap_objs) {
		d->cap_objs = d->cap_objs ? d->cap_objs * 2 : 4;
		d->objs = ddl_xrealloc(d->objs, d->cap_objs * sizeof(*d->objs));
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
int ddl_qname(struct parser *p, const char *expected, bool allow_nodb, char **db, char **name, size_t *at,
	      size_t *end)
{
	char *a = NULL, *b = NULL;

	*db = *name = NULL;
	*at = p->t.at;
	if (ddl_ident(p, &a, expected) < 0)
		return p->rc;
	*end = p->t.end;
	ddl_adv(p);
	if (ddl_punct(p, '.')) {
		ddl_adv(p);
		if (ddl_ident(p, &b, expected) < 0) {
			free(a);
			return p->rc;
		}
		*end = p->t.end;
		ddl_adv(p);
		*db = a;
		*name = b;
		return 0;
	}
	if (p->defdb && *p->defdb) {
		*db = ddl_xstrdup(p->defdb);
	} else if (allow_nodb) {
		*db = ddl_xstrdup("");
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
tidm_ddl_obj *ddl_qname_obj(struct parser *p, enum tidm_ddl_obj_role role, const char *expected, bool allow_nodb)
{
	char *db, *name;
	size_t at = 0, end = 0;

	if (ddl_qname(p, expected, allow_nodb, &db, &name, &at, &end) < 0)
		return NULL;
	return ddl_add_obj(p->d, role, db, name, at, end);
}

bool ddl_if_exists(struct parser *p)
{
	if (ddl_kw(p, "IF")) {
		struct tok n = ddl_peek(p);

		if (ddl_tok_kw(p, &n, "EXISTS")) {
			ddl_adv(p);
			ddl_adv(p);
			p->d->if_exists = true;
			return true;
		}
	}
	return false;
}

int ddl_if_not_exists(struct parser *p)
{
	if (!ddl_kw(p, "IF"))
		return 0;
	ddl_adv(p);
	if (!ddl_accept(p, "NOT"))
		return ddl_perr(p, "NOT EXISTS after IF");
	if (!ddl_accept(p, "EXISTS"))
		return ddl_perr(p, "EXISTS after IF NOT");
	p->d->if_not_exists = true;
	return 0;
}

/* A user after DEFINER =: CURRENT_USER[()], name, 'name'@'host', `n`@`h`, name@host.domain. */
static int definer_user(struct parser *p)
{
	if (ddl_kw(p, "CURRENT_USER")) {
		p->d->p_definer_end = p->t.end;
		ddl_adv(p);
		if (ddl_punct(p, '(')) {
			ddl_adv(p);
			if (!ddl_punct(p, ')'))
				return ddl_perr(p, "')' after CURRENT_USER(");
			p->d->p_definer_end = p->t.end;
			ddl_adv(p);
		}
		return 0;
	}
	if (p->t.type != TK_WORD && p->t.type != TK_QID && p->t.type != TK_STR)
		return ddl_perr(p, "a user name after DEFINER =");
	p->d->p_definer_end = p->t.end;
	ddl_adv(p);
	if (!ddl_punct(p, '@'))
		return 0; /* a role */
	ddl_adv(p);
	if (p->t.type != TK_WORD && p->t.type != TK_QID && p->t.type != TK_STR)
		return ddl_perr(p, "a host name after '@'");
	p->d->p_definer_end = p->t.end;
	ddl_adv(p);
	/* unquoted host names with dots or dashes: every piece adjacent to the previous one */
	while ((ddl_punct(p, '.') || ddl_punct(p, '-')) && p->t.at == p->d->p_definer_end) {
		struct tok n = ddl_peek(p);

		if (n.type != TK_WORD || n.at != p->t.end)
			break;
		ddl_adv(p);
		p->d->p_definer_end = p->t.end;
		ddl_adv(p);
	}
	return 0;
}

/*
 * Words between CREATE/ALTER/DROP and the object keyword: OR REPLACE, ALGORITHM = x,
 * DEFINER = u, SQL SECURITY x, TEMPORARY, ONLINE/OFFLINE, IGNORE, UNIQUE/FULLTEXT/SPATIAL,
 * AGGREGATE.
 */
int ddl_prefix(struct parser *p)
{
	for (;;) {
		if (ddl_kw(p, "OR")) {
			size_t at = p->t.at, end;
			ddl_adv(p);
			end = p->t.end;
			if (!ddl_accept(p, "REPLACE"))
				return ddl_perr(p, "REPLACE after OR");
			p->d->or_replace = true;
			p->d->p_orr_at = at;
			p->d->p_orr_end = end;
		} else if (ddl_kw(p, "ALGORITHM")) {
			ddl_adv(p);
			if (ddl_punct(p, '='))
				ddl_adv(p);
			if (p->t.type != TK_WORD)
				return ddl_perr(p, "a value after ALGORITHM =");
			ddl_adv(p);
		} else if (ddl_kw(p, "DEFINER")) {
			p->d->p_definer_at = p->t.at;
			ddl_adv(p);
			if (ddl_punct(p, '='))
				ddl_adv(p);
			if (definer_user(p) < 0)
				return p->rc;
		} else if (ddl_kw(p, "SQL")) {
			ddl_adv(p);
			if (!ddl_accept(p, "SECURITY"))
				return ddl_perr(p, "SECURITY after SQL");
			if (p->t.type != TK_WORD)
				return ddl_perr(p, "DEFINER or INVOKER after SQL SECURITY");
			ddl_adv(p);
		} else if (ddl_kw(p, "TEMPORARY")) {
			p->d->temporary = true;
			ddl_adv(p);
		} else if (ddl_kw(p, "ONLINE")) {
			p->d->p_online_at = p->t.at;
			p->d->p_online_end = p->t.end;
			ddl_adv(p);
		} else if (ddl_kw(p, "IGNORE")) {
			p->d->p_ignore_at = p->t.at;
			p->d->p_ignore_end = p->t.end;
			ddl_adv(p);
		} else if (ddl_kw(p, "OFFLINE") || ddl_kw(p, "UNIQUE") || ddl_kw(p, "FULLTEXT") || ddl_kw(p, "SPATIAL") ||
			   ddl_kw(p, "AGGREGATE")) {
			ddl_adv(p);
		} else {
			return 0;
		}
	}
}

/* MariaDB WAIT n | NOWAIT after a name. */
void ddl_wait_clause(struct parser *p)
{
	if (ddl_kw(p, "NOWAIT")) {
		ddl_adv(p);
	} else if (ddl_kw(p, "WAIT")) {
		struct tok n = ddl_peek(p);

		if (n.type == TK_WORD) {
			ddl_adv(p);
			ddl_adv(p);
		}
	}
}

/* Skip to the end of the statement, failing on a lexer error (unterminated string...). */
int ddl_rest(struct parser *p)
{
	while (p->t.type != TK_END && p->t.type != TK_ERR)
		ddl_adv(p);
	return p->t.type == TK_ERR ? ddl_perr(p, "") : 0;
}

size_t tidm_ddl_stmt_len(const char *sql, size_t len, unsigned mode)
{
	struct lexer lx = {.s = sql, .n = len, .pos = 0, .mode = mode};
	struct tok t;

	for (;;) {
		ddl_lex(&lx, &t);
		if (t.type == TK_END || t.type == TK_ERR)
			return len;
		if (t.type == TK_PUNCT && sql[t.at] == ';')
			return t.at;
	}
}
