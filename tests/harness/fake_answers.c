/*
 * fake_answers.c - what tidm_fake_primary answers to queries that are not about its binlog:
 * the --answers file (scripted result sets, errors, set-var lines) and the built-in answers
 * every MySQL 8.0 primary gives (SHOW GLOBAL VARIABLES / STATUS with LIKE and WHERE
 * filters, SELECT @@var, SHOW GRANTS, SHOW DATABASES, empty information_schema SELECTs).
 * The file format and the list of answers are documented in fake_primary.c's header.
 *
 * Design: the file is parsed once into entries (match patterns + one canned reply whose
 * strings live in the entry); a reply to a built-in question owns its strings. Statements
 * are compared whitespace-collapsed and case-insensitively. Every count and length comes
 * from the file or the statement and is checked; nothing here trusts either.
 */
#include "fake_answers.h"

#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_COLS 256

/* ---- small helpers ---- */

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		abort();
	return q;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = xrealloc(NULL, n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* s whitespace-collapsed: runs of blanks become one space, none leading or trailing, and
 * trailing ';' dropped. Owned. */
static char *normalize(const char *s)
{
	size_t n = strlen(s), k = 0;
	char *d = xrealloc(NULL, n + 1);
	bool space = false;

	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			space = k > 0;
			continue;
		}
		if (space)
			d[k++] = ' ';
		space = false;
		d[k++] = *s;
	}
	while (k > 0 && (d[k - 1] == ';' || d[k - 1] == ' '))
		k--;
	d[k] = '\0';
	return d;
}

static bool starts_ci(const char *s, const char *p) { return strncasecmp(s, p, strlen(p)) == 0; }

static const char *skip_ws(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* After keyword kw (case-insensitive, followed by a non-identifier character) at s: the
 * text after it and its blanks, else NULL. */
static const char *keyword(const char *s, const char *kw)
{
	size_t n = strlen(kw);
	if (strncasecmp(s, kw, n) != 0 || isalnum((unsigned char)s[n]) || s[n] == '_')
		return NULL;
	return skip_ws(s + n);
}

/* SQL LIKE, case-insensitive: % any run, _ one character, backslash escapes. */
static bool like(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '%') {
			while (p[1] == '%')
				p++;
			if (!p[1])
				return true;
			for (; *s; s++)
				if (like(p + 1, s))
					return true;
			return false;
		}
		if (!*s)
			return false;
		if (*p == '_')
			continue;
		if (*p == '\\' && p[1])
			p++;
		if (tolower((unsigned char)*p) != tolower((unsigned char)*s))
			return false;
	}
	return !*s;
}

/* A quoted string literal at *s ('...' or "..."; doubled quotes and backslash escapes):
 * its value (owned) and *s past it; NULL when there is none. */
static char *literal(const char **s)
{
	const char *p = *s;
	char q = *p;
	if (q != '\'' && q != '"')
		return NULL;
	size_t n = strlen(p), k = 0;
	char *d = xrealloc(NULL, n);
	for (p++; *p; p++) {
		if (*p == q && p[1] == q) {
			d[k++] = q;
			p++;
		} else if (*p == q) {
			d[k] = '\0';
			*s = p + 1;
			return d;
		} else if (*p == '\\' && p[1]) {
			d[k++] = *++p;
		} else {
			d[k++] = *p;
		}
	}
	free(d);
	return NULL;
}

/* ---- replies ---- */

static const char *own(fa_reply *r, char *s)
{
	if (r->n_own == r->cap_own) {
		r->cap_own = r->cap_own ? 2 * r->cap_own : 16;
		r->own = xrealloc(r->own, r->cap_own * sizeof(*r->own));
	}
	r->own[r->n_own++] = s;
	return s;
}

static void reply_error(fa_reply *r, unsigned code, const char *state, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void reply_error(fa_reply *r, unsigned code, const char *state, const char *fmt, ...)
{
	va_list ap;
	r->kind = FA_ERROR;
	r->code = code;
	snprintf(r->state, sizeof(r->state), "%s", state);
	va_start(ap, fmt);
	vsnprintf(r->msg_own, sizeof(r->msg_own), fmt, ap);
	va_end(ap);
	r->msg = r->msg_own;
}

/* A result set of ncols columns (names owned by the caller or r) and no rows yet. */
static void reply_rows(fa_reply *r, int ncols)
{
	r->kind = FA_ROWS;
	r->ncols = ncols;
	r->nrows = 0;
	r->names_own = xrealloc(r->names_own, (size_t)(ncols ? ncols : 1) * sizeof(char *));
	r->names = r->names_own;
}

static void add_row(fa_reply *r, const char *const *vals)
{
	size_t n = (size_t)(r->nrows + 1) * (size_t)r->ncols;
	r->vals_own = xrealloc(r->vals_own, (n ? n : 1) * sizeof(char *));
	for (int i = 0; i < r->ncols; i++)
		r->vals_own[(size_t)r->nrows * (size_t)r->ncols + (size_t)i] = vals[i];
	r->nrows++;
	r->vals = r->vals_own;
}

void fa_reply_dispose(fa_reply *r)
{
	for (size_t i = 0; i < r->n_own; i++)
		free(r->own[i]);
	free(r->own);
	free(r->names_own);
	free(r->vals_own);
	memset(r, 0, sizeof(*r));
}

/* ---- variables and status ---- */

typedef struct var {
	char *name, *value; /* value NULL: SQL NULL */
	bool boolean;       /* SHOW says ON/OFF, SELECT @@ says 1/0 */
} var;

typedef struct var_list {
	var *v;
	size_t n;
} var_list;

static var_list vars, status;

/* name, value, boolean (MySQL 8.0.36 on Linux, as a fresh mysqld reports them) */
static const struct {
	const char *name, *value;
	bool boolean;
} builtin_vars[] = {
	{"auto_increment_increment", "1", 0},
	{"auto_increment_offset", "1", 0},
	{"autocommit", "ON", 1},
	{"basedir", "/usr/", 0},
	{"binlog_cache_size", "32768", 0},
	{"binlog_checksum", "CRC32", 0},
	{"binlog_encryption", "OFF", 1},
	{"binlog_error_action", "ABORT_SERVER", 0},
	{"binlog_expire_logs_auto_purge", "ON", 1},
	{"binlog_expire_logs_seconds", "2592000", 0},
	{"binlog_format", "ROW", 0},
	{"binlog_gtid_simple_recovery", "ON", 1},
	{"binlog_order_commits", "ON", 1},
	{"binlog_row_image", "FULL", 0},
	{"binlog_row_metadata", "MINIMAL", 0},
	{"binlog_row_value_options", "", 0},
	{"binlog_rows_query_log_events", "OFF", 1},
	{"binlog_transaction_compression", "OFF", 1},
	{"binlog_transaction_dependency_tracking", "COMMIT_ORDER", 0},
	{"character_set_client", "utf8mb4", 0},
	{"character_set_connection", "utf8mb4", 0},
	{"character_set_database", "utf8mb4", 0},
	{"character_set_results", "utf8mb4", 0},
	{"character_set_server", "utf8mb4", 0},
	{"character_set_system", "utf8mb3", 0},
	{"collation_connection", "utf8mb4_0900_ai_ci", 0},
	{"collation_database", "utf8mb4_0900_ai_ci", 0},
	{"collation_server", "utf8mb4_0900_ai_ci", 0},
	{"datadir", "/var/lib/mysql/", 0},
	{"default_authentication_plugin", "caching_sha2_password", 0},
	{"default_collation_for_utf8mb4", "utf8mb4_0900_ai_ci", 0},
	{"default_storage_engine", "InnoDB", 0},
	{"enforce_gtid_consistency", "ON", 0},
	{"expire_logs_days", "0", 0},
	{"explicit_defaults_for_timestamp", "ON", 1},
	{"foreign_key_checks", "ON", 1},
	{"gtid_executed", "", 0},
	{"gtid_mode", "ON", 0},
	{"gtid_purged", "", 0},
	{"hostname", "fake-primary", 0},
	{"innodb_buffer_pool_size", "134217728", 0},
	{"innodb_default_row_format", "dynamic", 0},
	{"innodb_file_per_table", "ON", 1},
	{"innodb_page_size", "16384", 0},
	{"innodb_read_only", "OFF", 1},
	{"innodb_version", "8.0.36", 0},
	{"log_bin", "ON", 1},
	{"log_bin_basename", "/var/lib/mysql/binlog", 0},
	{"log_replica_updates", "ON", 1},
	{"log_slave_updates", "ON", 1},
	{"lower_case_file_system", "OFF", 1},
	{"lower_case_table_names", "0", 0},
	{"max_allowed_packet", "67108864", 0},
	{"max_binlog_size", "1073741824", 0},
	{"max_connections", "151", 0},
	{"net_read_timeout", "30", 0},
	{"net_write_timeout", "60", 0},
	{"performance_schema", "ON", 1},
	{"port", "3306", 0},
	{"read_only", "OFF", 1},
	{"replica_parallel_workers", "4", 0},
	{"require_secure_transport", "OFF", 1},
	{"server_id", "1", 0},
	{"server_uuid", "", 0},
	{"skip_name_resolve", "OFF", 1},
	{"sql_generate_invisible_primary_key", "OFF", 1},
	{"sql_log_bin", "ON", 1},
	{"sql_mode",
	 "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
	 "NO_ENGINE_SUBSTITUTION",
	 0},
	{"sql_require_primary_key", "OFF", 1},
	{"super_read_only", "OFF", 1},
	{"sync_binlog", "1", 0},
	{"system_time_zone", "UTC", 0},
	{"time_zone", "SYSTEM", 0},
	{"transaction_isolation", "REPEATABLE-READ", 0},
	{"transaction_read_only", "OFF", 1},
	{"version", "8.0.36", 0},
	{"version_comment", "MySQL Community Server - GPL", 0},
	{"version_compile_machine", "x86_64", 0},
	{"version_compile_os", "Linux", 0},
	{"wait_timeout", "28800", 0},
};

static const char *const builtin_status[][2] = {
	{"Aborted_clients", "0"},
	{"Aborted_connects", "0"},
	{"Binlog_cache_disk_use", "0"},
	{"Binlog_cache_use", "12"},
	{"Bytes_received", "123456"},
	{"Bytes_sent", "654321"},
	{"Com_commit", "0"},
	{"Com_insert", "10"},
	{"Com_select", "100"},
	{"Connections", "20"},
	{"Innodb_buffer_pool_pages_total", "8192"},
	{"Max_used_connections", "3"},
	{"Open_tables", "40"},
	{"Queries", "200"},
	{"Questions", "150"},
	{"Threads_cached", "0"},
	{"Threads_connected", "1"},
	{"Threads_created", "3"},
	{"Threads_running", "1"},
	{"Uptime", "86400"},
	{"Uptime_since_flush_status", "86400"},
};

static var *find(var_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

static void set(var_list *l, const char *name, const char *value, bool boolean)
{
	var *v = find(l, name);
	if (!v) {
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		v = &l->v[l->n++];
		v->name = xstrdup(name);
		v->value = NULL;
		v->boolean = boolean;
	}
	free(v->value);
	v->value = NULL;
	if (value && v->boolean && (!strcasecmp(value, "1") || !strcasecmp(value, "ON") || !strcasecmp(value, "TRUE")))
		value = "ON";
	else if (value && v->boolean && (!strcasecmp(value, "0") || !strcasecmp(value, "OFF") || !strcasecmp(value, "FALSE")))
		value = "OFF";
	if (value)
		v->value = xstrdup(value);
}

static void unset(var_list *l, const char *name)
{
	var *v = find(l, name);
	if (!v)
		return;
	free(v->name);
	free(v->value);
	*v = l->v[--l->n];
}

/* variables MySQL 8.0 keeps under two names */
static const char *alias_of(const char *name)
{
	if (!strcasecmp(name, "log_slave_updates"))
		return "log_replica_updates";
	if (!strcasecmp(name, "log_replica_updates"))
		return "log_slave_updates";
	return NULL;
}

void fa_init(void)
{
	for (size_t i = 0; i < sizeof(builtin_vars) / sizeof(builtin_vars[0]); i++)
		set(&vars, builtin_vars[i].name, builtin_vars[i].value, builtin_vars[i].boolean);
	for (size_t i = 0; i < sizeof(builtin_status) / sizeof(builtin_status[0]); i++)
		set(&status, builtin_status[i][0], builtin_status[i][1], false);
}

void fa_set_var(const char *name, const char *value)
{
	set(&vars, name, value, false);
	if (alias_of(name))
		set(&vars, alias_of(name), value, false);
}

const char *fa_get_var(const char *name, bool *found)
{
	var *v = find(&vars, name);
	if (found)
		*found = v != NULL;
	return v ? v->value : NULL;
}

/* ---- the answers file ---- */

typedef struct entry {
	char *where; /* FILE:LINE of its first query line */
	char **pat;  /* normalized prefix / exact text, or NULL for a regex */
	char *how;   /* per pattern: ':' prefix, '=' exact, '~' regex */
	regex_t *re;
	size_t npat;
	fa_kind kind;
	unsigned code;
	char state[6];
	char *msg;
	int ncols, nrows;
	char **names, **vals;
	unsigned delay_ms;
	bool has_answer;
} entry;

static entry *entries;
static size_t n_entries;

/* the SQLSTATE a real server sends with some common error codes */
static const char *default_state(unsigned code)
{
	switch (code) {
	case 1044: case 1045: return "28000";
	case 1046: case 1049: case 1064: case 1142: case 1143: case 1227: case 1305: case 1370: return "42000";
	case 1146: return "42S02";
	case 1054: return "42S22";
	default: return "HY000";
	}
}

/* Split s at sep into fields (owned, appended to *out); '|' fields are trimmed. \N alone is
 * NULL; \t \n \\ are escapes. The number of fields, or -1 when there are too many. */
static int split(const char *s, char sep, char ***out, size_t *n)
{
	int count = 0;
	for (;;) {
		const char *e = strchr(s, sep);
		size_t len = e ? (size_t)(e - s) : strlen(s);
		const char *a = s, *b = s + len;
		if (sep == '|') {
			while (a < b && *a == ' ')
				a++;
			while (b > a && b[-1] == ' ')
				b--;
		}
		if (++count > MAX_COLS)
			return -1;
		*out = xrealloc(*out, (*n + 1) * sizeof(char *));
		if (b - a == 2 && a[0] == '\\' && a[1] == 'N') {
			(*out)[(*n)++] = NULL;
		} else {
			char *d = xrealloc(NULL, (size_t)(b - a) + 1);
			size_t k = 0;
			for (const char *p = a; p < b; p++) {
				if (*p == '\\' && p + 1 < b) {
					p++;
					d[k++] = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p;
				} else {
					d[k++] = *p;
				}
			}
			d[k] = '\0';
			(*out)[(*n)++] = d;
		}
		if (!e)
			return count;
		s = e + 1;
	}
}

static int perr(const char *path, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(const char *path, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tidm_fake_primary: %s:%d: ", path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

int fa_load(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ln = 0, rc = 0;
	entry *cur = NULL; /* the entry being read */

	if (!f) {
		fprintf(stderr, "tidm_fake_primary: cannot read answers file %s\n", path);
		return -1;
	}
	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		ln++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (strlen(line) != (size_t)len) {
			rc = perr(path, ln, "NUL byte in line");
			break;
		}
		const char *s = skip_ws(line);
		if (!*s || *s == '#')
			continue;
		size_t kl = strcspn(s, ":=~| \t");
		char kw[32];
		if (kl == 0 || kl >= sizeof(kw)) {
			rc = perr(path, ln, "expected 'KEYWORD: ...' (query, columns, row, error, ok, close, sleep, "
					    "set-var, unset-var, set-status), got '%.60s'", s);
			break;
		}
		memcpy(kw, s, kl);
		kw[kl] = '\0';
		char sep = s[kl];
		const char *arg = s[kl] ? s + kl + 1 : s + kl;
		if (sep != '\t' && sep != '|')
			while (*arg == ' ')
				arg++;
		static const char *const known[] = {"query", "columns", "row", "error", "ok", "close", "sleep",
						    "set-var", "unset-var", "set-status"};
		bool is_known = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			is_known |= strcasecmp(kw, known[i]) == 0;
		if (!is_known) {
			rc = perr(path, ln, "unknown keyword '%s' (query, columns, row, error, ok, close, sleep, set-var, "
					    "unset-var, set-status)", kw);
			break;
		}
		bool is_query = !strcasecmp(kw, "query");
		if (is_query && sep != ':' && sep != '=' && sep != '~') {
			rc = perr(path, ln, "'query' must be followed by ':' (prefix), '=' (whole statement) or '~' "
					    "(POSIX regex)");
			break;
		}
		if (!is_query && sep != ':' && !((!strcasecmp(kw, "row") || !strcasecmp(kw, "columns")) && sep == '|') &&
		    !((!strcasecmp(kw, "ok") || !strcasecmp(kw, "close")) && sep == '\0')) {
			rc = perr(path, ln, "'%s' must be followed by ':'", kw);
			break;
		}
		if (is_query) {
			if (!cur || cur->has_answer) {
				if (cur == NULL && n_entries > 0 && !entries[n_entries - 1].has_answer) {
					rc = perr(path, ln, "internal: unfinished entry");
					break;
				}
				entries = xrealloc(entries, (n_entries + 1) * sizeof(*entries));
				cur = &entries[n_entries++];
				memset(cur, 0, sizeof(*cur));
				char w[300];
				snprintf(w, sizeof(w), "%s:%d", path, ln);
				cur->where = xstrdup(w);
			}
			if (!*arg) {
				rc = perr(path, ln, "empty query pattern");
				break;
			}
			cur->pat = xrealloc(cur->pat, (cur->npat + 1) * sizeof(char *));
			cur->how = xrealloc(cur->how, cur->npat + 1);
			cur->re = xrealloc(cur->re, (cur->npat + 1) * sizeof(regex_t));
			cur->how[cur->npat] = sep;
			cur->pat[cur->npat] = NULL;
			if (sep == '~') {
				int e = regcomp(&cur->re[cur->npat], arg, REG_EXTENDED | REG_ICASE | REG_NOSUB);
				if (e) {
					char m[200];
					regerror(e, &cur->re[cur->npat], m, sizeof(m));
					rc = perr(path, ln, "bad regular expression: %s", m);
					break;
				}
			} else {
				cur->pat[cur->npat] = normalize(arg);
			}
			cur->npat++;
			continue;
		}
		if (!strcasecmp(kw, "set-var") || !strcasecmp(kw, "unset-var") || !strcasecmp(kw, "set-status")) {
			if (cur && !cur->has_answer) {
				rc = perr(path, ln, "%s inside the entry of %s, which has no answer yet", kw, cur->where);
				break;
			}
			size_t nl = strcspn(arg, " \t");
			if (nl == 0 || nl > 64) {
				rc = perr(path, ln, "%s needs a variable name (at most 64 characters)", kw);
				break;
			}
			char *name = xstrndup(arg, nl);
			const char *val = skip_ws(arg + nl);
			bool null = strcmp(val, "\\N") == 0;
			if (!strcasecmp(kw, "unset-var")) {
				if (*val)
					rc = perr(path, ln, "unset-var takes only a name");
				unset(&vars, name);
				if (alias_of(name))
					unset(&vars, alias_of(name));
			} else if (!strcasecmp(kw, "set-var")) {
				fa_set_var(name, null ? NULL : val);
			} else {
				set(&status, name, null ? NULL : val, false);
			}
			free(name);
			continue;
		}
		if (!cur) {
			rc = perr(path, ln, "'%s' before any 'query' line", kw);
			break;
		}
		if (!strcasecmp(kw, "sleep")) {
			char *end;
			unsigned long ms = strtoul(arg, &end, 10);
			if (end == arg || *skip_ws(end) || ms > 600000) {
				rc = perr(path, ln, "sleep: milliseconds (0 to 600000) expected, got '%.40s'", arg);
				break;
			}
			cur->delay_ms = (unsigned)ms;
			continue;
		}
		if (!strcasecmp(kw, "columns")) {
			if (cur->has_answer) {
				rc = perr(path, ln, "second answer for the entry of %s (start a new entry with 'query')",
					  cur->where);
				break;
			}
			size_t n = 0;
			int k = split(arg, sep == '|' ? '|' : '\t', &cur->names, &n);
			if (k < 0) {
				cur->ncols = (int)n;
				rc = perr(path, ln, "more than %d columns", MAX_COLS);
				break;
			}
			for (size_t i = 0; i < n; i++)
				if (!cur->names[i] || !*cur->names[i]) {
					cur->ncols = k;
					rc = perr(path, ln, "column %zu has no name", i + 1);
				}
			cur->ncols = k;
			cur->kind = FA_ROWS;
			cur->has_answer = true;
			continue;
		}
		if (!strcasecmp(kw, "row")) {
			if (!cur->has_answer || cur->kind != FA_ROWS) {
				rc = perr(path, ln, "'row' without 'columns' before it in the entry of %s", cur->where);
				break;
			}
			size_t n = (size_t)cur->nrows * (size_t)cur->ncols;
			int k = split(arg, sep == '|' ? '|' : '\t', &cur->vals, &n);
			if (k != cur->ncols) {
				size_t want = (size_t)cur->nrows * (size_t)cur->ncols;
				for (size_t i = want; i < n; i++)
					free(cur->vals[i]);
				rc = perr(path, ln, "row has %d field(s), the columns are %d", k < 0 ? MAX_COLS + 1 : k,
					  cur->ncols);
				break;
			}
			cur->nrows++;
			continue;
		}
		if (!strcasecmp(kw, "error") || !strcasecmp(kw, "ok") || !strcasecmp(kw, "close")) {
			if (cur->has_answer) {
				rc = perr(path, ln, "second answer for the entry of %s (start a new entry with 'query')",
					  cur->where);
				break;
			}
			cur->has_answer = true;
			if (!strcasecmp(kw, "close")) {
				cur->kind = FA_CLOSE;
				continue;
			}
			char *end;
			unsigned long code = strtoul(arg, &end, 10);
			if (!strcasecmp(kw, "ok")) {
				cur->kind = FA_OK;
				if (*arg && (end == arg || *skip_ws(end) || code > 0xffffffffUL)) {
					rc = perr(path, ln, "ok: optional affected-row count expected, got '%.40s'", arg);
					break;
				}
				cur->code = (unsigned)code;
				continue;
			}
			cur->kind = FA_ERROR;
			if (end == arg || code < 1 || code > 65535 || (*end && *end != ' ')) {
				rc = perr(path, ln, "error: CODE [#SQLSTATE] MESSAGE expected (CODE 1 to 65535), got '%.40s'",
					  arg);
				break;
			}
			const char *m = skip_ws(end);
			snprintf(cur->state, sizeof(cur->state), "%s", default_state((unsigned)code));
			if (*m == '#') {
				size_t sl = strcspn(m + 1, " ");
				if (sl != 5) {
					rc = perr(path, ln, "SQLSTATE '#%.*s' is not 5 characters", (int)(sl > 20 ? 20 : sl),
						  m + 1);
					break;
				}
				memcpy(cur->state, m + 1, 5);
				cur->state[5] = '\0';
				m = skip_ws(m + 6);
			}
			cur->code = (unsigned)code;
			cur->msg = xstrdup(m);
			continue;
		}
		rc = perr(path, ln, "unhandled keyword '%s'", kw);
	}
	if (rc == 0 && cur && !cur->has_answer)
		rc = perr(path, ln, "the entry of %s has no answer (columns, error, ok or close)", cur->where);
	free(line);
	fclose(f);
	return rc;
}

static bool entry_matches(const entry *e, const char *norm)
{
	for (size_t i = 0; i < e->npat; i++) {
		if (e->how[i] == '~' && regexec(&e->re[i], norm, 0, NULL, 0) == 0)
			return true;
		if (e->how[i] == ':' && starts_ci(norm, e->pat[i]))
			return true;
		if (e->how[i] == '=' && strcasecmp(norm, e->pat[i]) == 0)
			return true;
	}
	return false;
}

bool fa_script(const char *q, fa_reply *r)
{
	char *norm = normalize(q);
	const entry *e = NULL;

	for (size_t i = 0; i < n_entries && !e; i++)
		if (entry_matches(&entries[i], norm))
			e = &entries[i];
	free(norm);
	if (!e)
		return false;
	r->kind = e->kind;
	r->code = e->code;
	memcpy(r->state, e->state, sizeof(r->state));
	r->msg = e->msg;
	r->ncols = e->ncols;
	r->nrows = e->nrows;
	r->names = (const char *const *)e->names;
	r->vals = (const char *const *)e->vals;
	r->delay_ms = e->delay_ms;
	r->where = e->where;
	return true;
}

/* ---- built-in answers ---- */

static int cmp_var(const void *a, const void *b)
{
	return strcasecmp((*(const var *const *)a)->name, (*(const var *const *)b)->name);
}

/*
 * WHERE conditions on Variable_name: `Variable_name IN ('a', ...)`, `= 'a'`, `LIKE 'p'`,
 * joined by OR. The patterns (owned, each prefixed '=' or 'L') into *pats; -1 when the
 * text is something else.
 */
static int parse_where(const char *s, char ***pats, size_t *n)
{
	for (;;) {
		s = skip_ws(s);
		if (*s == '`')
			s++;
		const char *t = keyword(s, "Variable_name");
		if (!t)
			return -1;
		if (*t == '`')
			t = skip_ws(t + 1);
		char kind = 0;
		if (*t == '=') {
			kind = '=';
			t = skip_ws(t + 1);
		} else if (keyword(t, "LIKE")) {
			kind = 'L';
			t = keyword(t, "LIKE");
		} else if (keyword(t, "IN")) {
			kind = 'I';
			t = keyword(t, "IN");
			if (*t != '(')
				return -1;
			t = skip_ws(t + 1);
		} else {
			return -1;
		}
		do {
			t = skip_ws(t);
			char *v = literal(&t);
			if (!v)
				return -1;
			size_t vl = strlen(v);
			char *p = xrealloc(NULL, vl + 2);
			p[0] = kind == 'L' ? 'L' : '=';
			memcpy(p + 1, v, vl + 1);
			free(v);
			*pats = xrealloc(*pats, (*n + 1) * sizeof(char *));
			(*pats)[(*n)++] = p;
			t = skip_ws(t);
		} while (kind == 'I' && *t == ',' && (t = t + 1));
		if (kind == 'I') {
			if (*t != ')')
				return -1;
			t = skip_ws(t + 1);
		}
		if (!*t)
			return 0;
		if (!(s = keyword(t, "OR")))
			return -1;
	}
}

/* SHOW [GLOBAL|SESSION] VARIABLES|STATUS [LIKE 'p' | WHERE ...] from list l; rest is the
 * text after VARIABLES / STATUS. */
static void show_list(fa_reply *r, var_list *l, const char *rest, const char *q)
{
	char **pats = NULL;
	size_t np = 0;
	const char *t;
	bool bad = false;

	if ((t = keyword(rest, "LIKE"))) {
		char *v = literal(&t);
		if (v && !*skip_ws(t)) {
			size_t vl = strlen(v);
			pats = xrealloc(NULL, sizeof(char *));
			pats[0] = xrealloc(NULL, vl + 2);
			pats[0][0] = 'L';
			memcpy(pats[0] + 1, v, vl + 1);
			np = 1;
		} else {
			bad = true;
		}
		free(v);
	} else if ((t = keyword(rest, "WHERE"))) {
		bad = parse_where(t, &pats, &np) < 0;
	} else if (*rest) {
		bad = true;
	}
	if (bad) {
		reply_error(r, 1064, "42000", "tidm fake primary cannot filter this (LIKE 'p', or WHERE Variable_name "
					      "IN (...) / = '...' / LIKE '...' joined by OR; else script it): %.300s", q);
	} else {
		static const char *const names[] = {"Variable_name", "Value"};
		const var **sorted = xrealloc(NULL, (l->n ? l->n : 1) * sizeof(*sorted));
		for (size_t i = 0; i < l->n; i++)
			sorted[i] = &l->v[i];
		qsort(sorted, l->n, sizeof(*sorted), cmp_var);
		reply_rows(r, 2);
		r->names = names;
		for (size_t i = 0; i < l->n; i++) {
			bool ok = np == 0;
			for (size_t k = 0; k < np && !ok; k++)
				ok = pats[k][0] == 'L' ? like(pats[k] + 1, sorted[i]->name)
						       : strcasecmp(pats[k] + 1, sorted[i]->name) == 0;
			if (ok) {
				const char *row[2] = {sorted[i]->name, sorted[i]->value};
				add_row(r, row);
			}
		}
		free(sorted);
	}
	for (size_t k = 0; k < np; k++)
		free(pats[k]);
	free(pats);
}

/* SELECT @@[GLOBAL.|SESSION.]name [[AS] alias], ... [LIMIT n]; false when q is not only that. */
static bool select_vars(fa_reply *r, const char *q)
{
	const char *s = keyword(q, "SELECT");
	const char *items[MAX_COLS], *vals[MAX_COLS];
	int n = 0;

	if (!s || s[0] != '@' || s[1] != '@')
		return false;
	for (;;) {
		if (n == MAX_COLS || s[0] != '@' || s[1] != '@')
			return false;
		const char *start = s, *name = s + 2;
		if (starts_ci(name, "GLOBAL.") || starts_ci(name, "SESSION.") || starts_ci(name, "LOCAL."))
			name = strchr(name, '.') + 1;
		const char *e = name;
		while (isalnum((unsigned char)*e) || *e == '_')
			e++;
		if (e == name)
			return false;
		char vname[72];
		snprintf(vname, sizeof(vname), "%.*s", (int)(e - name > 64 ? 64 : e - name), name);
		var *v = find(&vars, vname);
		if (!v) {
			reply_error(r, 1193, "HY000", "Unknown system variable '%s'", vname);
			return true;
		}
		const char *col = own(r, xstrndup(start, (size_t)(e - start)));
		s = skip_ws(e);
		const char *a = keyword(s, "AS");
		if (a || ((isalpha((unsigned char)*s) || *s == '`') && !keyword(s, "LIMIT") && !keyword(s, "FROM"))) {
			a = a ? a : s;
			bool bq = *a == '`';
			const char *ae = a + bq;
			while (*ae && (bq ? *ae != '`' : (isalnum((unsigned char)*ae) || *ae == '_')))
				ae++;
			col = own(r, xstrndup(a + bq, (size_t)(ae - a - bq)));
			s = skip_ws(ae + (bq && *ae == '`'));
		}
		items[n] = col;
		vals[n] = v->value && v->boolean ? (strcmp(v->value, "ON") == 0 ? "1" : "0") : v->value;
		n++;
		if (*s == ',') {
			s = skip_ws(s + 1);
			continue;
		}
		if (!*s || keyword(s, "LIMIT"))
			break;
		return false;
	}
	reply_rows(r, n);
	for (int i = 0; i < n; i++)
		r->names_own[i] = items[i];
	add_row(r, vals);
	return true;
}

/* The information_schema tables answered empty. */
static const char *const is_tables[] = {
	"TABLES", "COLUMNS", "STATISTICS", "SCHEMATA", "TRIGGERS", "ROUTINES", "EVENTS", "COLLATIONS", "ENGINES",
	"VIEWS", "PARTITIONS", "KEY_COLUMN_USAGE", "TABLE_CONSTRAINTS", "REFERENTIAL_CONSTRAINTS",
	"CHECK_CONSTRAINTS", "CHARACTER_SETS", "PLUGINS", "USER_PRIVILEGES", "SCHEMA_PRIVILEGES",
	"TABLE_PRIVILEGES", "COLUMN_PRIVILEGES",
};

/* The end of the select list: the top-level FROM of a SELECT, or NULL. */
static const char *top_from(const char *s)
{
	int depth = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '\'' || *p == '"' || *p == '`') {
			const char *e = strchr(p + 1, *p);
			if (!e)
				return NULL;
			p = e;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			depth--;
		} else if (depth == 0 && p > s && p[-1] == ' ' && keyword(p, "FROM")) {
			return p;
		}
	}
	return NULL;
}

/* The name of a select item's column (owned): its alias, the last part of a plain
 * (qualified) column name, else its text; NULL for '*'. agg: 'C' COUNT, 'A' another
 * aggregate, 0 none. */
static char *item_name(const char *a, const char *b, char *agg)
{
	while (a < b && *a == ' ')
		a++;
	while (b > a && b[-1] == ' ')
		b--;
	if (b == a || (b[-1] == '*' && (b - a == 1 || b[-2] == '.')))
		return NULL;
	/* alias: the last word, after AS or after a word / ')' / quote */
	const char *sp = b;
	while (sp > a && sp[-1] != ' ')
		sp--;
	const char *expr_end = b;
	char *alias = NULL;
	if (sp > a) {
		const char *w = sp, *we = b;
		bool ident = true;
		if (*w == '`' && we - w >= 2 && we[-1] == '`')
			w++, we--;
		for (const char *p = w; p < we; p++)
			ident &= isalnum((unsigned char)*p) || *p == '_' || *p == '$';
		const char *h = sp - 1; /* the space */
		while (h > a && h[-1] == ' ')
			h--;
		bool as = h - a >= 3 && strncasecmp(h - 2, "AS", 2) == 0 && h[-3] == ' ';
		char last = h > a ? h[-1] : 0;
		if (ident && we > w && (as || isalnum((unsigned char)last) || last == ')' || last == '`' || last == '_' ||
					last == '\'')) {
			alias = xstrndup(w, (size_t)(we - w));
			expr_end = as ? h - 2 : h;
			while (expr_end > a && expr_end[-1] == ' ')
				expr_end--;
		}
	}
	*agg = 0;
	if (!strncasecmp(a, "COUNT(", 6))
		*agg = 'C';
	else if (!strncasecmp(a, "SUM(", 4) || !strncasecmp(a, "MIN(", 4) || !strncasecmp(a, "MAX(", 4) ||
		 !strncasecmp(a, "AVG(", 4) || !strncasecmp(a, "GROUP_CONCAT(", 13) || !strncasecmp(a, "BIT_XOR(", 8))
		*agg = 'A';
	if (alias)
		return alias;
	/* a plain column: the part after the last dot, without backquotes */
	bool plain = true;
	for (const char *p = a; p < expr_end; p++)
		plain &= isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '`' || *p == '$';
	if (plain) {
		const char *d = expr_end;
		while (d > a && d[-1] != '.')
			d--;
		if (*d == '`' && expr_end - d >= 2)
			return xstrndup(d + 1, (size_t)(expr_end - d - 2));
		return xstrndup(d, (size_t)(expr_end - d));
	}
	return xstrndup(a, (size_t)(expr_end - a));
}

/* SELECT <list> FROM information_schema.<one of is_tables> ...: no rows (one row of 0 /
 * NULL for aggregates without GROUP BY). */
static bool select_is(fa_reply *r, const char *q)
{
	const char *s = keyword(q, "SELECT"), *from;
	if (!s)
		return false;
	if (keyword(s, "DISTINCT"))
		s = keyword(s, "DISTINCT");
	if (!(from = top_from(s)))
		return false;
	const char *t = keyword(from, "FROM");
	bool bq = *t == '`';
	if (!starts_ci(t + bq, "information_schema"))
		return false;
	t += bq + strlen("information_schema");
	if (bq && *t++ != '`')
		return false;
	if (*t++ != '.')
		return false;
	bq = *t == '`';
	t += bq;
	size_t tl = strcspn(t, "` ");
	bool known = false;
	for (size_t i = 0; i < sizeof(is_tables) / sizeof(is_tables[0]) && !known; i++)
		known = strlen(is_tables[i]) == tl && strncasecmp(is_tables[i], t, tl) == 0;
	if (!known)
		return false;
	/* the select list, split at top-level commas */
	const char *names[MAX_COLS], *vals[MAX_COLS];
	int n = 0, depth = 0;
	bool any_agg = false;
	const char *a = s;
	for (const char *p = s;; p++) {
		if (p < from && (*p == '\'' || *p == '"' || *p == '`')) {
			const char *e = strchr(p + 1, *p);
			p = e && e < from ? e : from - 1;
			continue;
		}
		if (p < from && *p == '(')
			depth++;
		else if (p < from && *p == ')')
			depth--;
		if (p == from || (*p == ',' && depth == 0)) {
			char agg = 0;
			char *name = n < MAX_COLS ? item_name(a, p, &agg) : NULL;
			if (!name) {
				reply_error(r, 1064, "42000", "tidm fake primary cannot name the columns of this select "
							      "list; script it with --answers: %.300s", q);
				return true;
			}
			names[n] = own(r, name);
			vals[n] = agg == 'C' ? "0" : NULL;
			any_agg |= agg != 0;
			n++;
			a = p + 1;
			if (p == from)
				break;
		}
	}
	reply_rows(r, n);
	for (int i = 0; i < n; i++)
		r->names_own[i] = names[i];
	bool grouped = false;
	for (const char *p = from; *p && !grouped; p++)
		grouped = starts_ci(p, " GROUP BY ");
	if (any_agg && !grouped)
		add_row(r, vals);
	return true;
}

bool fa_builtin(const char *q, const char *user, fa_reply *r)
{
	char *norm = normalize(q);
	const char *t;
	bool done = true;

	if ((t = keyword(norm, "SHOW"))) {
		const char *u = keyword(t, "GLOBAL") ? keyword(t, "GLOBAL") : keyword(t, "SESSION") ? keyword(t, "SESSION") : t;
		const char *rest;
		if ((rest = keyword(u, "VARIABLES"))) {
			show_list(r, &vars, rest, q);
		} else if ((rest = keyword(u, "STATUS"))) {
			show_list(r, &status, rest, q);
		} else if ((rest = keyword(t, "GRANTS"))) {
			if (*rest && !starts_ci(rest, "FOR CURRENT_USER")) {
				done = false;
			} else {
				char col[200], *line = xrealloc(NULL, 300);
				snprintf(col, sizeof(col), "Grants for %.64s@%%", user);
				snprintf(line, 300, "GRANT ALL PRIVILEGES ON *.* TO `%.64s`@`%%` WITH GRANT OPTION", user);
				reply_rows(r, 1);
				r->names_own[0] = own(r, xstrdup(col));
				const char *row[1] = {own(r, line)};
				add_row(r, row);
			}
		} else if ((rest = keyword(t, "DATABASES")) && !*rest) {
			static const char *const dbs[] = {"information_schema", "mysql", "performance_schema", "sys"};
			static const char *const names[] = {"Database"};
			reply_rows(r, 1);
			r->names = names;
			for (size_t i = 0; i < 4; i++)
				add_row(r, &dbs[i]);
		} else {
			done = false;
		}
	} else if (!select_vars(r, norm) && !select_is(r, norm)) {
		done = false;
	}
	free(norm);
	return done;
}

void fa_free(void)
{
	for (size_t i = 0; i < n_entries; i++) {
		entry *e = &entries[i];
		for (size_t k = 0; k < e->npat; k++) {
			if (e->how[k] == '~')
				regfree(&e->re[k]);
			free(e->pat[k]);
		}
		for (size_t k = 0; k < (size_t)e->ncols; k++)
			free(e->names[k]);
		for (size_t k = 0; k < (size_t)e->ncols * (size_t)e->nrows; k++)
			free(e->vals[k]);
		free(e->pat);
		free(e->how);
		free(e->re);
		free(e->names);
		free(e->vals);
		free(e->msg);
		free(e->where);
	}
	free(entries);
	entries = NULL;
	n_entries = 0;
	for (var_list *l = &vars; l; l = l == &vars ? &status : NULL) {
		for (size_t i = 0; i < l->n; i++) {
			free(l->v[i].name);
			free(l->v[i].value);
		}
		free(l->v);
		l->v = NULL;
		l->n = 0;
	}
}
