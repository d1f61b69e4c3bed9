/*
 * ddl_int.h - the lexer and parser state shared by the files of sync/ddl*
 *
 * sync/ddl.h is implemented by three files:
 *   ddl_lex.c      the lexer (significant tokens as byte spans into the statement) and the
 *                  parser's token-level primitives (look-ahead, keywords, names, the
 *                  clauses every statement kind shares)
 *   ddl.c          the statement parser: one function per statement kind, and the public
 *                  entry points tidm_ddl_parse / tidm_ddl_dispose / tidm_ddl_kind_name
 *   ddl_rewrite.c  the rewriter for the target (tidm_ddl_rewrite)
 * Contract: a token is a span [at, end) of the caller's text, never a copy; the lexer state
 * (struct lexer) is plain data, so the parser looks ahead by copying it. A parser function
 * returns 0, or -1 after recording the first error in p->rc and the tidm_err message
 * (ddl_perr); after an error the parse stops. Names are decoded into malloc'ed strings owned by
 * the tidm_ddl being built (ddl_add_obj).
 */
#ifndef TIDM_SYNC_DDL_INT_H
#define TIDM_SYNC_DDL_INT_H

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

/* ---- shared between the files of the module (each defined in the file named) ---- */

/* ddl_lex.c */
bool ddl_is_ws(unsigned char c);
void ddl_lex(struct lexer *lx, struct tok *t);
void ddl_adv(struct parser *p);
struct tok ddl_peek(const struct parser *p);
bool ddl_tok_kw(const struct parser *p, const struct tok *t, const char *kw);
bool ddl_kw(const struct parser *p, const char *k);
bool ddl_kw_in(const struct parser *p, const struct tok *t, const char *const *list);
bool ddl_accept(struct parser *p, const char *k);
bool ddl_tok_punct(const struct parser *p, const struct tok *t, char c);
bool ddl_punct(const struct parser *p, char c);
int ddl_perr(struct parser *p, const char *expected);
void *ddl_xrealloc(void *ptr, size_t n);
char *ddl_xstrdup(const char *s);
int ddl_ident(struct parser *p, char **out, const char *expected);
tidm_ddl_obj *ddl_add_obj(tidm_ddl *d, enum tidm_ddl_obj_role role, char *db, char *name, size_t at, size_t end);
int ddl_qname(struct parser *p, const char *expected, bool allow_nodb, char **db, char **name, size_t *at,
	      size_t *end);
tidm_ddl_obj *ddl_qname_obj(struct parser *p, enum tidm_ddl_obj_role role, const char *expected, bool allow_nodb);
bool ddl_if_exists(struct parser *p);
int ddl_if_not_exists(struct parser *p);
int ddl_prefix(struct parser *p);
void ddl_wait_clause(struct parser *p);
int ddl_rest(struct parser *p);

#endif
