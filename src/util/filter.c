/*
 * filter.c - the object selection of a job: which databases and tables are migrated
 * (SPEC §2, §7.1 `objects:`). See filter.h for the rules.
 *
 * Design. A pattern is parsed once into a rule {db, table} of two glob strings; the
 * lists (databases, tables, exclude) are plain arrays owned by the tidm_filter. Matching
 * walks the lists linearly: a job names a handful of patterns, and matching happens once
 * per table at planning time and once per table-map event (callers cache the answer), so
 * no index is worth its complexity.
 *
 * Pattern syntax: "db" or "db.table"; each part is either a bare run of bytes without
 * '.' or '`', or a backquoted name in which a doubled backquote stands for one backquote
 * ("`my.db`.`t``1`" is database "my.db", table "t`1"). `*` and `?` are wildcards in
 * both forms (there is no escape: a name containing a literal '*' is matched by the
 * pattern anyway). Everything else, spaces and non-ASCII bytes included, is literal.
 *
 * Matching is case-sensitive and compares bytes, except that `?` consumes one whole
 * UTF-8 character (a user writing "caf?" expects it to match "café"); a byte that is not
 * valid UTF-8 counts as one character. The glob matcher is iterative with a single
 * backtrack point (the last `*`), so a hostile pattern costs O(len(p) * len(s)), never
 * exponential time.
 *
 * System schemas are compared case-insensitively, so "MYSQL" or "INFORMATION_SCHEMA"
 * are never selected either.
 */
#include "util/filter.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/err.h"

/* Longest part of a pattern echoed in a message (patterns come from users). */
#define ECHO_MAX 80

static const char *const system_schemas[] = {
	"mysql", "information_schema", "performance_schema", "sys", "tidm_meta", "metrics_schema",
};

bool tidm_filter_is_system_schema(const char *db)
{
	if (!db)
		return false;
	for (size_t i = 0; i < sizeof(system_schemas) / sizeof(system_schemas[0]); i++)
		if (strcasecmp(db, system_schemas[i]) == 0)
			return true;
	return false;
}

/* Length in bytes of the UTF-8 character starting at s (1 for an invalid byte). */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xE0) == 0xC0)
		n = 2;
	else if ((s[0] & 0xF0) == 0xE0)
		n = 3;
	else if ((s[0] & 0xF8) == 0xF0)
		n = 4;
	else
		return 1;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 1;
	return n;
}

bool tidm_glob_match(const char *pattern, const char *s)
{
	const unsigned char *p = (const unsigned char *)pattern, *t = (const unsigned char *)s;
	const unsigned char *star_p = NULL, *star_t = NULL;

	if (!pattern || !s)
		return false;
	while (*t) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return true;
			star_p = p;
			star_t = t;
			continue;
		}
		if (*p == '?') {
			p++;
			t += utf8_len(t);
			continue;
		}
		if (*p && *p == *t) {
			p++;
			t++;
			continue;
		}
		if (!star_p)
			return false;
		/* Backtrack: let the last `*` swallow one more character. */
		star_t += utf8_len(star_t);
		t = star_t;
		p = star_p;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* Append text to b for a message: at most ECHO_MAX bytes, control bytes as \xNN. */
static void echo(tidm_buf *b, const char *text)
{
	size_t n = strlen(text);

	for (size_t i = 0; i < n && i < ECHO_MAX; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c == 0x7f)
			tidm_buf_printf(b, "\\x%02x", c);
		else if (c == '"' || c == '\\')
			tidm_buf_printf(b, "\\%c", c);
		else
			tidm_buf_putc(b, (char)c);
	}
	if (n > ECHO_MAX)
		tidm_buf_puts(b, "...");
}

/* Set TIDM_EINVAL with message: `invalid PATTERN "text": why; expected ...`. */
static int pattern_error(const char *text, const char *why, const char *expected)
{
	tidm_buf b = TIDM_BUF_INIT;

	tidm_buf_puts(&b, "invalid pattern \"");
	echo(&b, text);
	tidm_buf_printf(&b, "\": %s; expected %s", why, expected);
	tidm_err_set(TIDM_EINVAL, "%s", b.data);
	tidm_buf_dispose(&b);
	return TIDM_EINVAL;
}

/*
 * Parse one part of a pattern starting at *pp into out (malloc'd); stops at the '.'
 * separating parts or at the end. Returns 0, or a static reason for the error message.
 */
static const char *parse_part(const char **pp, char **out)
{
	const char *p = *pp;
	tidm_buf b = TIDM_BUF_INIT;

	tidm_buf_reserve(&b, 0);
	if (*p == '`') {
		p++;
		for (;;) {
			if (!*p) {
				tidm_buf_dispose(&b);
				return "unterminated backquote";
			}
			if (*p == '`') {
				if (p[1] == '`') {
					tidm_buf_putc(&b, '`');
					p += 2;
					continue;
				}
				p++;
				break;
			}
			tidm_buf_putc(&b, *p++);
		}
		if (*p && *p != '.') {
			tidm_buf_dispose(&b);
			return "text after a closing backquote";
		}
	} else {
		while (*p && *p != '.') {
			if (*p == '`') {
				tidm_buf_dispose(&b);
				return "a backquote inside a name";
			}
			tidm_buf_putc(&b, *p++);
		}
	}
	if (b.len == 0) {
		tidm_buf_dispose(&b);
		return "an empty name";
	}
	*pp = p;
	*out = tidm_buf_detach(&b);
	return NULL;
}

static const char expected_any[] =
	"\"db\" or \"db.table\" (wildcards * and ?; write a name containing a dot in backquotes, "
	"e.g. `my.db`.t)";
static const char expected_table[] =
	"\"db.table\" (wildcards * and ?; write a name containing a dot in backquotes, "
	"e.g. `my.db`.t)";
static const char expected_db[] =
	"a database name (wildcards * and ?; write a name containing a dot in backquotes, "
	"e.g. `my.db`)";

int tidm_filter_rule_parse(tidm_filter_rule *out, const char *text, int want_table)
{
	const char *p = text, *why;
	const char *expected = want_table == 1 ? expected_table : want_table == 0 ? expected_db : expected_any;
	char *db = NULL, *table = NULL;

	out->db = NULL;
	out->table = NULL;
	if (!text || !*text) {
		tidm_err_set(TIDM_EINVAL, "empty pattern; expected %s", expected);
		return TIDM_EINVAL;
	}
	why = parse_part(&p, &db);
	if (!why && *p == '.') {
		p++;
		why = parse_part(&p, &table);
		if (!why && *p == '.')
			why = "more than one dot outside backquotes";
	}
	if (why) {
		free(db);
		free(table);
		return pattern_error(text, why, expected);
	}
	if (want_table == 1 && !table) {
		free(db);
		return pattern_error(text, "no table part", expected);
	}
	if (want_table == 0 && table) {
		free(db);
		free(table);
		return pattern_error(text, "a table part in a database pattern",
				     "a database name (list single tables under tables)");
	}
	out->db = db;
	out->table = table;
	return 0;
}

/* Parse text and append the rule to *list. */
static int add_rule(tidm_filter_rule **list, size_t *n, const char *text, int want_table)
{
	tidm_filter_rule r, *grown;
	int rc = tidm_filter_rule_parse(&r, text, want_table);

	if (rc < 0)
		return rc;
	grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown) {
		free(r.db);
		free(r.table);
		return tidm_err_set(TIDM_ENOMEM, "out of memory adding a filter rule");
	}
	grown[*n] = r;
	*list = grown;
	(*n)++;
	return 0;
}

int tidm_filter_add_database(tidm_filter *f, const char *text)
{
	return add_rule(&f->databases, &f->n_databases, text, 0);
}

int tidm_filter_add_table(tidm_filter *f, const char *text)
{
	return add_rule(&f->tables, &f->n_tables, text, 1);
}

int tidm_filter_add_exclude(tidm_filter *f, const char *text)
{
	return add_rule(&f->exclude, &f->n_exclude, text, -1);
}

static void free_rules(tidm_filter_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rules[i].db);
		free(rules[i].table);
	}
	free(rules);
}

void tidm_filter_dispose(tidm_filter *f)
{
	if (!f)
		return;
	free_rules(f->databases, f->n_databases);
	free_rules(f->tables, f->n_tables);
	free_rules(f->exclude, f->n_exclude);
	memset(f, 0, sizeof(*f));
}

/* A table pattern made only of '*' matches every table, so it excludes a whole database. */
static bool all_tables(const char *table_pattern)
{
	if (!table_pattern)
		return true;
	for (const char *p = table_pattern; *p; p++)
		if (*p != '*')
			return false;
	return true;
}

/* Is the whole database db excluded (a "db" or "db.*" exclude rule)? */
static bool db_excluded(const tidm_filter *f, const char *db)
{
	for (size_t i = 0; i < f->n_exclude; i++)
		if (all_tables(f->exclude[i].table) && tidm_glob_match(f->exclude[i].db, db))
			return true;
	return false;
}

bool tidm_filter_match_db(const tidm_filter *f, const char *db)
{
	if (!f || !db || tidm_filter_is_system_schema(db) || db_excluded(f, db))
		return false;
	if (f->n_databases == 0 && f->n_tables == 0)
		return true;
	for (size_t i = 0; i < f->n_databases; i++)
		if (tidm_glob_match(f->databases[i].db, db))
			return true;
	for (size_t i = 0; i < f->n_tables; i++)
		if (tidm_glob_match(f->tables[i].db, db))
			return true;
	return false;
}

bool tidm_filter_match_table(const tidm_filter *f, const char *db, const char *table)
{
	bool selected = false;

	if (!f || !db || !table || tidm_filter_is_system_schema(db))
		return false;
	if (f->n_databases == 0 && f->n_tables == 0)
		selected = true;
	for (size_t i = 0; !selected && i < f->n_databases; i++)
		selected = tidm_glob_match(f->databases[i].db, db);
	for (size_t i = 0; !selected && i < f->n_tables; i++)
		selected = tidm_glob_match(f->tables[i].db, db) && tidm_glob_match(f->tables[i].table, table);
	if (!selected)
		return false;
	for (size_t i = 0; i < f->n_exclude; i++) {
		const tidm_filter_rule *r = &f->exclude[i];
		if (tidm_glob_match(r->db, db) && (!r->table || tidm_glob_match(r->table, table)))
			return false;
	}
	return true;
}
