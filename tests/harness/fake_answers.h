/*
 * fake_answers.h - the query answers of tidm_fake_primary (test-only; fake_primary.c's header
 * documents the --answers file format and the built-in answers).
 *
 * Threads: fa_init(), fa_set_var() and fa_load() run once at start-up, before any client is
 * served; after that the tables are read-only and fa_script() / fa_builtin() may run from
 * several client threads at once. A reply is the caller's storage: fa_reply_dispose() it.
 */
#ifndef TIDM_FAKE_ANSWERS_H
#define TIDM_FAKE_ANSWERS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum fa_kind {
	FA_ROWS,  /* a result set: ncols names, nrows rows */
	FA_ERROR, /* an error packet: code, state, msg */
	FA_OK,    /* an OK packet (affected rows: code) */
	FA_CLOSE, /* drop the connection without answering */
} fa_kind;

typedef struct fa_reply {
	fa_kind kind;
	unsigned code;
	char state[6];
	const char *msg;
	int ncols, nrows;
	const char *const *names;
	const char *const *vals; /* nrows * ncols, row-major; NULL = SQL NULL */
	unsigned delay_ms;       /* wait this long before answering */
	const char *where;       /* "FILE:LINE" of a scripted answer, else NULL */
	/* owned storage (built-in answers) */
	char **own;
	size_t n_own, cap_own;
	const char **names_own, **vals_own;
	char msg_own[512], where_own[300];
} fa_reply;

/* The built-in variable and status lists (MySQL 8.0.36 defaults). */
void fa_init(void);
/* Set (value NULL: SQL NULL) or add a variable of the built-in list. */
void fa_set_var(const char *name, const char *value);
/* The value of a variable, or NULL (*found false when there is no such variable). */
const char *fa_get_var(const char *name, bool *found);
/* Read an answers file; on a malformed one prints "FILE:LINE: what" and returns -1. */
int fa_load(const char *path);
/* Answer statement q from the answers file: true when an entry matched (r filled). */
bool fa_script(const char *q, fa_reply *r);
/* The generic built-in answers (variables, status, grants for user, databases,
 * information_schema); true when q is one of them (r filled, possibly with an error). */
bool fa_builtin(const char *q, const char *user, fa_reply *r);
void fa_reply_dispose(fa_reply *r);
/* Free every table (before exiting). */
void fa_free(void);

#endif
