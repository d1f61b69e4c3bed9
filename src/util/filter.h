/*
 * filter.h - the object selection of a job (SPEC §2, §7.1 `objects:`): which databases
 * and tables a job migrates. Pure; no I/O.
 *
 * Rules:
 *  - system schemas (mysql, information_schema, performance_schema, sys, and tidm_meta,
 *    plus TiDB's metrics_schema) are never selected, whatever the user wrote;
 *  - no databases and no tables given: everything else is selected;
 *  - `databases`: whole databases, tables created later included;
 *  - `tables`: "db.table" entries, only those tables (later tables of db not included);
 *  - `exclude`: "db" or "db.table" patterns removed afterwards;
 *  - patterns accept `*` and `?` in either part; matching is case-sensitive, byte-wise,
 *    except that `?` matches one whole UTF-8 character ("caf?" matches "café").
 *    A database or table name that itself contains a dot is written with backticks:
 *    "`my.db`.`t.1`".
 */
#ifndef TIDM_UTIL_FILTER_H
#define TIDM_UTIL_FILTER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tidm_filter_rule {
	char *db;    /* pattern for the database */
	char *table; /* pattern for the table; NULL = whole database */
} tidm_filter_rule;

typedef struct tidm_filter {
	tidm_filter_rule *databases; /* table == NULL */
	size_t n_databases;
	tidm_filter_rule *tables;
	size_t n_tables;
	tidm_filter_rule *exclude;
	size_t n_exclude;
} tidm_filter;

#define TIDM_FILTER_INIT {0}

/* Parse "db", "db.table", "`d.b`.`t`" (with * ?) into a rule. `want_table`: 1 the table
 * part is required, 0 it is forbidden, -1 optional. Returns 0 or TIDM_EINVAL (message set). */
int tidm_filter_rule_parse(tidm_filter_rule *out, const char *text, int want_table);
/* Append rules parsed from text to one of the lists. */
int tidm_filter_add_database(tidm_filter *f, const char *text);
int tidm_filter_add_table(tidm_filter *f, const char *text);
int tidm_filter_add_exclude(tidm_filter *f, const char *text);
void tidm_filter_dispose(tidm_filter *f);

bool tidm_filter_is_system_schema(const char *db);
/* May some table of db be selected (tables of db need listing)? */
bool tidm_filter_match_db(const tidm_filter *f, const char *db);
/* Is db.table selected? */
bool tidm_filter_match_table(const tidm_filter *f, const char *db, const char *table);
/* Glob match with * and ?. */
bool tidm_glob_match(const char *pattern, const char *s);

#endif
