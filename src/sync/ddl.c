/*
 * ddl.c - classification and object extraction of binlog QUERY statements (see ddl.h).
 *
 * DESIGN
 *  A small recursive-descent parser reads only the head of each statement kind (the words
 *  before the object names, the names, the few clauses that name other tables) and records
 *  byte offsets of what the rewriter may change: names, the spot after the object keyword
 *  where IF [NOT] EXISTS goes, the DEFINER clause, MariaDB-only words. Column definitions,
 *  view and routine bodies are never interpreted. Statements that are not DDL are
 *  recognised by their first words (not_ddl_heads); DML names its target table for the
 *  messages and the selection (parse_dml). The lexer and the parser primitives are in
 *  ddl_lex.c, the rewriting for the target in ddl_rewrite.c.
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

static int parse_create_table(struct parser *p)
{
	tidm_ddl *d = p->d;
	struct tok next;
	int depth = 0;

	d->kind = TIDM_DDL_CREATE_TABLE;
	p->what = "CREATE TABLE";
	d->p_kw_end = p->t.end;
	ddl_adv(p);
	if (ddl_if_not_exists(p) < 0)
		return p->rc;
	if (!ddl_qname_obj(p, TIDM_DDL_OBJ_TABLE, "a table name", false))
		return p->rc;
	d->p_body_at = d->objs[0].end;
	next = ddl_peek(p);
	if (ddl_kw(p, "LIKE") || (ddl_punct(p, '(') && ddl_tok_kw(p, &next, "LIKE"))) {
		bool paren = ddl_punct(p, '(');

		if (paren)
			ddl_adv(p);
		ddl_adv(p);
		d->create_like = true;
		if (!ddl_qname_obj(p, TIDM_DDL_OBJ_LIKE, "a table name after LIKE", false))
			return p->rc;
		if (paren && !ddl_punct(p, ')'))
			return ddl_perr(p, "')' after the LIKE table");
		return ddl_rest(p);
	}
	if (p->t.type == TK_END)
		return ddl_perr(p, "'(', LIKE or SELECT after the table name");
	for (; p->t.type != TK_END; ddl_adv(p)) {
		if (p->t.type == TK_ERR)
			return ddl_perr(p, "");
		if (ddl_punct(p, '(')) {
			if (depth == 0) {
				struct tok n = ddl_peek(p);

				if (ddl_tok_kw(p, &n, "SELECT") || ddl_tok_kw(p, &n, "WITH") || ddl_tok_kw(p, &n, "VALUES") ||
				    ddl_tok_kw(p, &n, "TABLE"))
					d->create_select = true;
			}
			depth++;
		} else if (ddl_punct(p, ')')) {
			depth--;
		} else if (depth == 0 && (ddl_kw(p, "SELECT") || ddl_kw(p, "AS"))) {
			d->create_select = true;
		} else if (depth == 0 && ddl_kw(p, "START")) {
			struct tok n = ddl_peek(p);

			if (ddl_tok_kw(p, &n, "TRANSACTION")) {
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
	ddl_adv(p);
	if (kind == TIDM_DDL_CREATE_DATABASE && ddl_if_not_exists(p) < 0)
		return p->rc;
	if (kind == TIDM_DDL_DROP_DATABASE)
		ddl_if_exists(p);
	if (kind == TIDM_DDL_ALTER_DATABASE && p->t.type == TK_WORD && ddl_kw_in(p, &p->t, opts)) {
		if (!p->defdb || !*p->defdb) {
			p->rc = tidm_err_set(TIDM_ECORRUPT,
					     "ALTER DATABASE: no database named and the statement has no default database");
			return p->rc;
		}
		ddl_add_obj(d, TIDM_DDL_OBJ_DATABASE, ddl_xstrdup(p->defdb), NULL, d->p_kw_end, d->p_kw_end);
		return ddl_rest(p);
	}
	if (ddl_ident(p, &name, "a database name") < 0)
		return p->rc;
	ddl_add_obj(d, TIDM_DDL_OBJ_DATABASE, name, NULL, p->t.at, p->t.end);
	ddl_adv(p);
	return ddl_rest(p);
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
	ddl_adv(p);
	ddl_if_exists(p); /* MariaDB */
	if (!ddl_qname_obj(p, TIDM_DDL_OBJ_TABLE, "a table name", false))
		return p->rc;
	ddl_wait_clause(p);
	while (p->t.type != TK_END) {
		if (p->t.type == TK_ERR)
			return ddl_perr(p, "");
		if (ddl_punct(p, '(')) {
			depth++;
		} else if (ddl_punct(p, ')')) {
			depth--;
		} else if (depth == 0 && ddl_punct(p, ',')) {
			spec_start = true;
			ddl_adv(p);
			continue;
		} else if (depth == 0 && (ddl_kw(p, "PARTITION") || ddl_kw(p, "REMOVE"))) {
			partition++;
		}
		if (depth == 0 && spec_start && p->t.type == TK_WORD) {
			spec_start = false;
			if (ddl_kw(p, "RENAME")) {
				struct tok n = ddl_peek(p);

				if (ddl_tok_kw(p, &n, "COLUMN") || ddl_tok_kw(p, &n, "INDEX") || ddl_tok_kw(p, &n, "KEY")) {
					other++;
				} else {
					tidm_ddl_obj *o;
					char *db, *name;
					size_t at, end;

					ddl_adv(p);
					if (!ddl_accept(p, "TO"))
						(void)ddl_accept(p, "AS");
					if (ddl_punct(p, '='))
						ddl_adv(p);
					if (ddl_qname(p, "the new table name after RENAME", false, &db, &name, &at, &end) < 0)
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
			} else if (ddl_kw(p, "EXCHANGE")) {
				other++;
				ddl_adv(p);
				if (!ddl_accept(p, "PARTITION"))
					return ddl_perr(p, "PARTITION after EXCHANGE");
				if (p->t.type != TK_WORD && p->t.type != TK_QID)
					return ddl_perr(p, "a partition name");
				ddl_adv(p);
				if (!ddl_accept(p, "WITH"))
					return ddl_perr(p, "WITH after the partition name");
				if (!ddl_accept(p, "TABLE"))
					return ddl_perr(p, "TABLE after WITH");
				if (!ddl_qname_obj(p, TIDM_DDL_OBJ_TABLE, "a table name after WITH TABLE", false))
					return p->rc;
				continue;
			} else if (ddl_kw_in(p, &p->t, noop)) {
				noops++;
			} else if (!ddl_kw_in(p, &p->t, neutral)) {
				other++;
			}
		}
		ddl_adv(p);
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
	ddl_adv(p);
	ddl_if_exists(p);
	for (;;) {
		if (!ddl_qname_obj(p, TIDM_DDL_OBJ_TABLE, kind == TIDM_DDL_DROP_TABLE ? "a table name" : "a view name", false))
			return p->rc;
		if (!ddl_punct(p, ','))
			break;
		ddl_adv(p);
	}
	return ddl_rest(p);
}

static int parse_rename(struct parser *p)
{
	tidm_ddl *d = p->d;

	d->kind = TIDM_DDL_RENAME_TABLE;
	p->what = "RENAME TABLE";
	d->p_kw_end = p->t.end;
	ddl_adv(p);
	ddl_if_exists(p); /* MariaDB 10.5 */
	for (;;) {
		tidm_ddl_obj *o = ddl_qname_obj(p, TIDM_DDL_OBJ_TABLE, "a table name", false);
		size_t at, end;
		char *db, *name;

		if (!o)
			return p->rc;
		ddl_wait_clause(p);
		if (!ddl_accept(p, "TO"))
			return ddl_perr(p, "TO after the table name");
		if (ddl_qname(p, "the new table name after TO", false, &db, &name, &at, &end) < 0)
			return p->rc;
		o = &d->objs[d->n_objs - 1];
		o->new_db = db;
		o->new_name = name;
		o->new_at = at;
		o->new_end = end;
		if (!ddl_punct(p, ','))
			break;
		ddl_adv(p);
	}
	return ddl_rest(p);
}

static int parse_index(struct parser *p, enum tidm_ddl_kind kind)
{
	tidm_ddl *d = p->d;
	char *name;

	d->kind = kind;
	p->what = kind == TIDM_DDL_CREATE_INDEX ? "CREATE INDEX" : "DROP INDEX";
	d->p_kw_end = p->t.end;
	ddl_adv(p);
	if (kind == TIDM_DDL_CREATE_INDEX && ddl_if_not_exists(p) < 0)
		return p->rc;
	if (kind == TIDM_DDL_DROP_INDEX)
		ddl_if_exists(p);
	if (ddl_ident(p, &name, "an index name") < 0)
		return p->rc;
	free(name);
	ddl_adv(p);
	/* CREATE INDEX i USING BTREE ON t / TYPE BTREE */
	if (ddl_kw(p, "USING") || ddl_kw(p, "TYPE")) {
		ddl_adv(p);
		if (p->t.type != TK_WORD)
			return ddl_perr(p, "an index type");
		ddl_adv(p);
	}
	if (!ddl_accept(p, "ON"))
		return ddl_perr(p, "ON after the index name");
	if (!ddl_qname_obj(p, TIDM_DDL_OBJ_TABLE, "a table name after ON", false))
		return p->rc;
	return ddl_rest(p);
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
	ddl_adv(p);
	if (create && ddl_if_not_exists(p) < 0)
		return p->rc;
	if (drop)
		ddl_if_exists(p);
	o = ddl_qname_obj(p, view ? TIDM_DDL_OBJ_TABLE : TIDM_DDL_OBJ_ROUTINE, view ? "a view name" : "a name", func);
	if (!o)
		return p->rc;
	if (kind == TIDM_DDL_CREATE_TRIGGER) {
		/* BEFORE|AFTER event[, ...] ON table */
		while (p->t.type != TK_END && p->t.type != TK_ERR && !ddl_kw(p, "ON"))
			ddl_adv(p);
		if (!ddl_accept(p, "ON"))
			return ddl_perr(p, "ON and the trigger's table");
		if (!ddl_qname_obj(p, TIDM_DDL_OBJ_TABLE, "the trigger's table after ON", false))
			return p->rc;
	}
	if (func) {
		for (; p->t.type != TK_END && p->t.type != TK_ERR; ddl_adv(p))
			if (ddl_kw(p, "SONAME"))
				d->udf = true;
	}
	return ddl_rest(p);
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

	if ((p->t.type != TK_WORD && p->t.type != TK_QID) || ddl_ident(p, &a, "") < 0) {
		p->rc = 0;
		tidm_err_clear();
		ddl_adv(p);
		return;
	}
	ddl_adv(p);
	if (ddl_punct(p, '.')) {
		ddl_adv(p);
		if (ddl_punct(p, '*')) { /* DELETE t.* FROM ...: t is a table of the default database */
			ddl_adv(p);
		} else if ((p->t.type == TK_WORD || p->t.type == TK_QID) && ddl_ident(p, &b, "") == 0) {
			end = p->t.end;
			ddl_adv(p);
			ddl_add_obj(p->d, TIDM_DDL_OBJ_TABLE, a, b, at, end);
			return;
		} else {
			p->rc = 0;
			tidm_err_clear();
		}
	}
	if (p->defdb && *p->defdb)
		ddl_add_obj(p->d, TIDM_DDL_OBJ_TABLE, ddl_xstrdup(p->defdb), a, at, end);
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
	bool insert = ddl_kw(p, "INSERT") || ddl_kw(p, "REPLACE"), load = ddl_kw(p, "LOAD");

	d->dml = true;
	ddl_adv(p);
	if (load) { /* LOAD DATA|XML ... INTO TABLE name */
		while (p->t.type != TK_END && p->t.type != TK_ERR && !ddl_kw(p, "TABLE"))
			ddl_adv(p);
		ddl_adv(p);
		dml_target(p);
		return;
	}
	if (insert) { /* INSERT|REPLACE [modifiers] [INTO] name */
		while (ddl_kw(p, "LOW_PRIORITY") || ddl_kw(p, "DELAYED") || ddl_kw(p, "HIGH_PRIORITY") || ddl_kw(p, "IGNORE") ||
		       ddl_kw(p, "INTO"))
			ddl_adv(p);
		dml_target(p);
		return;
	}
	/* UPDATE table_references SET ...; DELETE ... [FROM ...] [USING ...] WHERE|ORDER|LIMIT ... */
	while (p->t.type != TK_END && p->t.type != TK_ERR) {
		if (ddl_punct(p, '('))
			depth++;
		else if (ddl_punct(p, ')'))
			depth--;
		if (depth == 0 && (ddl_kw(p, "SET") || ddl_kw(p, "WHERE") || ddl_kw(p, "ORDER") || ddl_kw(p, "LIMIT") ||
				   ddl_kw(p, "RETURNING")))
			break;
		if (depth == 0 && (p->t.type == TK_WORD || p->t.type == TK_QID) && !ddl_kw_in(p, &p->t, dml_words)) {
			dml_name(p);
			continue;
		}
		ddl_adv(p);
	}
	if (!d->n_objs)
		d->dml_unknown = true;
}

static int parse_stmt(struct parser *p)
{
	tidm_ddl *d = p->d;

	ddl_adv(p);
	if (p->t.type == TK_END || ddl_punct(p, '(') || ddl_punct(p, ';'))
		return 0; /* NOT_DDL */
	if (p->t.type == TK_ERR) {
		p->what = "statement";
		return ddl_perr(p, "");
	}
	if (p->t.type != TK_WORD) {
		d->kind = TIDM_DDL_OTHER;
		return 0;
	}
	if (ddl_kw(p, "INSERT") || ddl_kw(p, "REPLACE") || ddl_kw(p, "UPDATE") || ddl_kw(p, "DELETE") || ddl_kw(p, "LOAD")) {
		parse_dml(p);
		return 0;
	}
	if (ddl_kw_in(p, &p->t, not_ddl_heads))
		return 0;
	d->kind = TIDM_DDL_OTHER;
	if (ddl_kw(p, "CREATE")) {
		p->what = "CREATE";
		d->p_create_end = p->t.end;
		ddl_adv(p);
		if (ddl_prefix(p) < 0)
			return p->rc;
		if (ddl_kw(p, "DATABASE") || ddl_kw(p, "SCHEMA"))
			return parse_database(p, TIDM_DDL_CREATE_DATABASE);
		if (ddl_kw(p, "TABLE"))
			return parse_create_table(p);
		if (ddl_kw(p, "INDEX"))
			return parse_index(p, TIDM_DDL_CREATE_INDEX);
		if (ddl_kw(p, "VIEW"))
			return parse_named(p, TIDM_DDL_CREATE_VIEW, "CREATE VIEW", true, false);
		if (ddl_kw(p, "TRIGGER"))
			return parse_named(p, TIDM_DDL_CREATE_TRIGGER, "CREATE TRIGGER", true, false);
		if (ddl_kw(p, "PROCEDURE"))
			return parse_named(p, TIDM_DDL_CREATE_PROCEDURE, "CREATE PROCEDURE", true, false);
		if (ddl_kw(p, "FUNCTION"))
			return parse_named(p, TIDM_DDL_CREATE_FUNCTION, "CREATE FUNCTION", true, false);
		if (ddl_kw(p, "EVENT"))
			return parse_named(p, TIDM_DDL_CREATE_EVENT, "CREATE EVENT", true, false);
		if (ddl_kw(p, "USER") || ddl_kw(p, "ROLE"))
			d->kind = TIDM_DDL_NOT_DDL;
		return 0;
	}
	if (ddl_kw(p, "ALTER")) {
		p->what = "ALTER";
		d->p_create_end = p->t.end;
		ddl_adv(p);
		if (ddl_prefix(p) < 0)
			return p->rc;
		if (ddl_kw(p, "TABLE"))
			return parse_alter_table(p);
		if (ddl_kw(p, "DATABASE") || ddl_kw(p, "SCHEMA"))
			return parse_database(p, TIDM_DDL_ALTER_DATABASE);
		if (ddl_kw(p, "VIEW"))
			return parse_named(p, TIDM_DDL_ALTER_VIEW, "ALTER VIEW", false, false);
		if (ddl_kw(p, "PROCEDURE"))
			return parse_named(p, TIDM_DDL_ALTER_PROCEDURE, "ALTER PROCEDURE", false, false);
		if (ddl_kw(p, "FUNCTION"))
			return parse_named(p, TIDM_DDL_ALTER_FUNCTION, "ALTER FUNCTION", false, false);
		if (ddl_kw(p, "EVENT"))
			return parse_named(p, TIDM_DDL_ALTER_EVENT, "ALTER EVENT", false, false);
		if (ddl_kw(p, "USER") || ddl_kw(p, "ROLE"))
			d->kind = TIDM_DDL_NOT_DDL;
		return 0;
	}
	if (ddl_kw(p, "DROP")) {
		p->what = "DROP";
		ddl_adv(p);
		if (ddl_prefix(p) < 0)
			return p->rc;
		if (ddl_kw(p, "TABLE") || ddl_kw(p, "TABLES"))
			return parse_drop_list(p, TIDM_DDL_DROP_TABLE);
		if (ddl_kw(p, "DATABASE") || ddl_kw(p, "SCHEMA"))
			return parse_database(p, TIDM_DDL_DROP_DATABASE);
		if (ddl_kw(p, "INDEX"))
			return parse_index(p, TIDM_DDL_DROP_INDEX);
		if (ddl_kw(p, "VIEW"))
			return parse_drop_list(p, TIDM_DDL_DROP_VIEW);
		if (ddl_kw(p, "TRIGGER"))
			return parse_named(p, TIDM_DDL_DROP_TRIGGER, "DROP TRIGGER", false, true);
		if (ddl_kw(p, "PROCEDURE"))
			return parse_named(p, TIDM_DDL_DROP_PROCEDURE, "DROP PROCEDURE", false, true);
		if (ddl_kw(p, "FUNCTION"))
			return parse_named(p, TIDM_DDL_DROP_FUNCTION, "DROP FUNCTION", false, true);
		if (ddl_kw(p, "EVENT"))
			return parse_named(p, TIDM_DDL_DROP_EVENT, "DROP EVENT", false, true);
		if (ddl_kw(p, "USER") || ddl_kw(p, "ROLE") || ddl_kw(p, "PREPARE"))
			d->kind = TIDM_DDL_NOT_DDL;
		return 0;
	}
	if (ddl_kw(p, "RENAME")) {
		ddl_adv(p);
		if (ddl_kw(p, "TABLE") || ddl_kw(p, "TABLES"))
			return parse_rename(p);
		if (ddl_kw(p, "USER"))
			d->kind = TIDM_DDL_NOT_DDL;
		return 0;
	}
	if (ddl_kw(p, "TRUNCATE")) {
		d->kind = TIDM_DDL_TRUNCATE_TABLE;
		p->what = "TRUNCATE TABLE";
		ddl_adv(p);
		if (ddl_kw(p, "TABLE")) {
			d->p_kw_end = p->t.end;
			ddl_adv(p);
		}
		if (!ddl_qname_obj(p, TIDM_DDL_OBJ_TABLE, "a table name", false))
			return p->rc;
		return ddl_rest(p);
	}
	return 0;
}

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
