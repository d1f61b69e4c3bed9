/*
 * ddl.h - understanding and rewriting the statements of binlog QUERY events (SPEC §5).
 *
 * The applier calls tidm_ddl_parse() for every QUERY event that is not BEGIN, COMMIT,
 * ROLLBACK, SAVEPOINT or XA, then tidm_ddl_rewrite() to learn what to do with it on the
 * target. Pure module: no database call, no I/O, no global state; every function may be
 * called from any thread on its own objects.
 *
 * Lexical rules (those of a MySQL/MariaDB server with default sql_mode): comments
 * `/ * ... * /`, `-- ` and `#` are skipped; executable comments `/ *!50001 ... * /` and
 * MariaDB's `/ *M!100100 ... * /` are part of the statement (their content is parsed as if
 * the markers were not there); `backquoted` identifiers with doubled backticks may hold any
 * byte but NUL; "double-quoted" text is a string, and a backslash escapes the next byte
 * in strings, unless tidm_ddl_parse_mode() says the event's sql_mode has ANSI_QUOTES or
 * NO_BACKSLASH_ESCAPES; keywords are case-insensitive. Unqualified names resolve to the
 * event's default database.
 */
#ifndef TIDM_SYNC_DDL_H
#define TIDM_SYNC_DDL_H

#include <stdbool.h>
#include <stddef.h>

#include "db/conn.h" /* enum tidm_flavor only: nothing here talks to a server */
#include "util/buf.h"

enum tidm_ddl_kind {
	TIDM_DDL_NOT_DDL = 0, /* DML in statement format, GRANT, FLUSH, ANALYZE, SET ...: skip with a log line */
	TIDM_DDL_OTHER,       /* DDL tidm does not replicate (TABLESPACE, SEQUENCE, SERVER, ...) or could not parse */
	TIDM_DDL_CREATE_DATABASE,
	TIDM_DDL_DROP_DATABASE,
	TIDM_DDL_ALTER_DATABASE,
	TIDM_DDL_CREATE_TABLE, /* also ... LIKE (create_like) and ... SELECT (create_select) */
	TIDM_DDL_ALTER_TABLE,
	TIDM_DDL_DROP_TABLE,
	TIDM_DDL_RENAME_TABLE, /* RENAME TABLE, and ALTER TABLE whose only change is RENAME [TO] */
	TIDM_DDL_TRUNCATE_TABLE,
	TIDM_DDL_CREATE_INDEX,
	TIDM_DDL_DROP_INDEX,
	TIDM_DDL_CREATE_VIEW,
	TIDM_DDL_ALTER_VIEW,
	TIDM_DDL_DROP_VIEW,
	TIDM_DDL_CREATE_TRIGGER,
	TIDM_DDL_DROP_TRIGGER,
	TIDM_DDL_CREATE_PROCEDURE,
	TIDM_DDL_ALTER_PROCEDURE,
	TIDM_DDL_DROP_PROCEDURE,
	TIDM_DDL_CREATE_FUNCTION,
	TIDM_DDL_ALTER_FUNCTION,
	TIDM_DDL_DROP_FUNCTION,
	TIDM_DDL_CREATE_EVENT,
	TIDM_DDL_ALTER_EVENT,
	TIDM_DDL_DROP_EVENT,
};

/* What an object of a statement is. */
enum tidm_ddl_obj_role {
	TIDM_DDL_OBJ_TABLE,    /* a table or view the statement changes (name set) */
	TIDM_DDL_OBJ_DATABASE, /* the database itself (name NULL) */
	TIDM_DDL_OBJ_ROUTINE,  /* trigger, procedure, function or event `db`.`name`: not a table */
	TIDM_DDL_OBJ_LIKE,     /* the source table of CREATE TABLE ... LIKE (read, not changed) */
};

/*
 * One object a statement touches. Strings are owned by the tidm_ddl (NUL-terminated,
 * decoded: backticks removed, doubled backticks undoubled). For a rename (RENAME TABLE,
 * ALTER TABLE ... RENAME, ALTER TABLE ... EXCHANGE PARTITION is NOT a rename) new_db and
 * new_name are the new name, else NULL. at/end (new_at/new_end) are the byte span of the
 * name as written in the statement (`db`.`t` or t); at == end when the name is implicit
 * (ALTER DATABASE without a name: the default database).
 */
typedef struct tidm_ddl_obj {
	enum tidm_ddl_obj_role role;
	char *db;
	char *name;
	char *new_db;
	char *new_name;
	size_t at, end;
	size_t new_at, new_end;
} tidm_ddl_obj;

/*
 * A parsed statement. Caller storage: TIDM_DDL_INIT (or tidm_ddl_init) once, then any
 * number of tidm_ddl_parse() calls (each one releases what the previous one held), then
 * tidm_ddl_dispose(). The byte offsets refer to the text given to the last parse.
 */
typedef struct tidm_ddl {
	enum tidm_ddl_kind kind;
	bool temporary;         /* CREATE/DROP TEMPORARY TABLE: the applier ignores it */
	bool create_select;     /* CREATE TABLE ... SELECT: its rows are not in the binlog, cannot be migrated */
	bool create_like;       /* CREATE TABLE ... LIKE (the source is an OBJ_LIKE object) */
	bool start_transaction; /* MySQL 8.0.21+ atomic CTAS: CREATE TABLE ... START TRANSACTION */
	bool if_exists;         /* IF EXISTS written */
	bool if_not_exists;     /* IF NOT EXISTS written */
	bool or_replace;        /* CREATE OR REPLACE */
	bool alter_rename;      /* ALTER TABLE with a RENAME [TO] x change (kind RENAME_TABLE when it is the only one) */
	bool udf;               /* CREATE [AGGREGATE] FUNCTION ... SONAME: a loadable function, no database */
	bool tidb_noop;         /* ALTER TABLE made only of ENGINE=, FORCE, ORDER BY, ALGORITHM=, LOCK= */
	bool dml;               /* NOT_DDL: INSERT/REPLACE/UPDATE/DELETE/LOAD in statement format; objs are
				 * the tables it may write (every name in a table position) */
	bool dml_unknown;       /* dml: some table it writes could not be named */
	tidm_ddl_obj *objs;
	size_t n_objs;
	unsigned mode;       /* TIDM_DDL_ANSI_QUOTES | TIDM_DDL_NO_BACKSLASH_ESCAPES given to the parse */
	/* Positions used by the rewriter (byte offsets in the statement). */
	size_t p_create_end; /* end of the CREATE / ALTER keyword */
	size_t p_kw_end;     /* end of the object keyword (TABLE, DATABASE, INDEX, VIEW, ...) */
	size_t p_definer_at, p_definer_end; /* DEFINER = user (at == end: none) */
	size_t p_orr_at, p_orr_end;         /* OR REPLACE (at == end: none) */
	size_t p_online_at, p_online_end;   /* ALTER ONLINE TABLE */
	size_t p_ignore_at, p_ignore_end;   /* ALTER IGNORE TABLE */
	size_t p_start_txn_at;              /* START TRANSACTION of a CREATE TABLE (with start_transaction) */
	size_t p_body_at;                   /* CREATE TABLE: first byte after the table name */
	size_t cap_objs;
} tidm_ddl;

#define TIDM_DDL_INIT {0}

void tidm_ddl_init(tidm_ddl *d);
void tidm_ddl_dispose(tidm_ddl *d);

/*
 * Classify `sql` (len bytes, need not be NUL-terminated; may hold any byte) and list the
 * objects it touches, in statement order: for DROP TABLE a, b.c two TABLE objects; for
 * RENAME TABLE a TO b, c TO d two TABLE objects with new names; for CREATE INDEX / DROP
 * INDEX / CREATE TRIGGER the table; for CREATE TABLE t LIKE s the TABLE t then the LIKE s;
 * for ALTER TABLE t EXCHANGE PARTITION p WITH TABLE u the TABLE t then the TABLE u.
 * Names in view, trigger and routine bodies and in FOREIGN KEY ... REFERENCES are not
 * objects. `default_db` (the event's schema; NULL or "" when none) resolves unqualified
 * names.
 * Returns 0, also for NOT_DDL and OTHER statements (an empty statement is NOT_DDL).
 * TIDM_ECORRUPT when the statement is a DDL tidm knows but cannot be read (truncated,
 * unterminated string/comment/identifier, missing name, a NUL in an identifier, an
 * unqualified name without a default database): `out->kind` is then TIDM_DDL_OTHER with no
 * objects and the message says what was expected where ("ALTER TABLE: expected a table
 * name at end of statement").
 */
int tidm_ddl_parse(tidm_ddl *out, const char *sql, size_t len, const char *default_db);

/* The event's sql_mode bits that change how a statement is read (binlog QUERY status vars). */
enum {
	TIDM_DDL_ANSI_QUOTES = 1u << 0,          /* "x" is an identifier */
	TIDM_DDL_NO_BACKSLASH_ESCAPES = 1u << 1, /* '\' is an ordinary byte in strings */
};

/*
 * tidm_ddl_parse() for an event whose sql_mode had ANSI_QUOTES and/or NO_BACKSLASH_ESCAPES
 * (`mode`, the bits above; 0 is tidm_ddl_parse). tidm_ddl_rewrite() then writes the
 * statement for a session with neither mode (tidm's): "identifiers" become `identifiers`
 * and backslashes in strings are doubled.
 */
int tidm_ddl_parse_mode(tidm_ddl *out, const char *sql, size_t len, const char *default_db, unsigned mode);

/* The length of the first statement of `sql` (up to its ';' outside strings, quoted names
 * and comments; `len` when there is none), read in `mode`. tidm_ddl_rewrite() may make
 * several statements of one (CREATE OR REPLACE TABLE for MySQL/TiDB, ALTER TABLE for TiDB
 * before 6.2), written in mode 0: this walks them. */
size_t tidm_ddl_stmt_len(const char *sql, size_t len, unsigned mode);

/* "CREATE TABLE", "NOT DDL", ... (static). */
const char *tidm_ddl_kind_name(enum tidm_ddl_kind kind);

/* What the applier does with a statement. */
enum tidm_ddl_action {
	TIDM_DDL_SKIP = 0, /* nothing to run; out holds the reason, one line, for the log */
	TIDM_DDL_APPLY,    /* run out on the target */
	TIDM_DDL_FAIL,     /* the job fails: out is empty, the message is in tidm_err_msg() */
};

typedef struct tidm_ddl_opts {
	enum tidm_flavor source;  /* flavour of the source (for charset defaults) */
	enum tidm_flavor target;  /* flavour of the target */
	unsigned target_version;  /* as tidm_server_info.version (80036, 101106, TiDB 70501) */
	bool idempotent;          /* replay after a crash: IF [NOT] EXISTS / OR REPLACE where the target accepts it */
	tidm_buf *report;         /* may be NULL: one line per dialect change the user should know about */
} tidm_ddl_opts;

#define TIDM_DDL_OPTS_INIT {TIDM_FLAVOR_MYSQL, TIDM_FLAVOR_MYSQL, 0, false, NULL}

/*
 * Decide what to do with the parsed statement `ddl` of `sql`/`len` (the same text that was
 * parsed) for a job whose selection is `selected`: it is asked about every object as
 * (db, table) and, for DATABASE and ROUTINE objects, as (db, NULL) ("is some table of db
 * selected", tidm_filter_match_db). `out` is cleared first; `*action` receives the decision:
 * - SKIP: NOT_DDL, OTHER, temporary tables, no selected object, triggers and events (the
 *   source's row events already carry what they did; on the target they would do it
 *   twice), loadable functions (SONAME), views and routines on a TiDB target, an ALTER
 *   TABLE that only rebuilds (ENGINE=, FORCE, ORDER BY) on TiDB. `out` says why.
 * - APPLY: `out` is the statement for the target. Names of the objects are written fully
 *   qualified (`db`.`t`), so the statement does not depend on USE for them (it still does
 *   for names inside view/routine bodies and FOREIGN KEY ... REFERENCES: run it with the
 *   event's default database current). Partly selected DROP TABLE/VIEW keep the selected
 *   names only (`DROP TABLE IF EXISTS `db`.`a``); a RENAME keeps the selected pairs.
 *   DEFINER=... is removed (the user may not exist on the target). CREATE TABLE text goes
 *   through tidm_dialect_adapt_create(); CHARSET/COLLATE values of other statements through
 *   the dialect maps. With opts->idempotent: IF NOT EXISTS for CREATE TABLE/DATABASE (and
 *   CREATE INDEX on MariaDB and TiDB), IF EXISTS for DROP TABLE/DATABASE/VIEW (and DROP
 *   INDEX on MariaDB and TiDB), OR REPLACE for CREATE VIEW. MariaDB-only ALTER ONLINE /
 *   ALTER IGNORE words are dropped for other targets; START TRANSACTION of an atomic CTAS
 *   is dropped. MariaDB's CREATE OR REPLACE TABLE becomes, for other targets, two
 *   statements in one text: "DROP TABLE IF EXISTS `db`.`t`; CREATE TABLE ..." (run it on
 *   a connection with multi-statements).
 * - FAIL: a statement that touches selected and unselected objects and cannot be split
 *   (a RENAME moving a table into or out of the selection, CREATE TABLE ... LIKE an
 *   unselected table, EXCHANGE PARTITION with an unselected table), CREATE TABLE ... SELECT
 *   of a selected table, a CREATE TABLE the target cannot hold. Returns the error (TIDM_EUNSUPPORTED) with the message set.
 * Returns 0 for SKIP and APPLY; a negative TIDM_E* with *action = FAIL otherwise.
 */
int tidm_ddl_rewrite(tidm_buf *out, const tidm_ddl *ddl, const char *sql, size_t len, const tidm_ddl_opts *opts,
		     bool (*selected)(const char *db, const char *table, void *payload), void *payload, int *action);

#endif
