/*
 * test_fixtures.c - the binlog decoder against every real binlog in
 * $TIDM_FIXTURES/binlog, table-driven from SOURCES.md:
 *   - per file, event counts by type (top level and inside TRANSACTION_PAYLOAD) equal the
 *     "events:" of SOURCES.md, and the row-image counts equal its "rows I/U/D";
 *   - the files SOURCES.md calls corrupt or truncated fail at the byte offset of the bad
 *     event, after the events before it decoded (their counts are in the table below);
 *   - every row value equals the value mariadb-binlog printed in the `.mariadb-binlog.txt`
 *     companion: both sides are normalised to mariadb-binlog's notation (quoted strings with
 *     \xNN escapes, TIMESTAMP as epoch seconds, DATE as 'Y:M:D', b'..' bits, "-3 (4294967293)"
 *     for unsigned) and compared value by value, with columns matched by number;
 *   - the expectations SOURCES.md quotes (JSON opaque values, tagged GTID and previous GTID
 *     sets, MINIMAL image columns, TIME2 overflow, VECTOR floats, BIT values).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "binlog/event.h"
#include "binlog/file.h"
#include "binlog/rows.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/gtid.h"

static char g_dir[1024];

static const char *fixtures_dir(void)
{
	const char *e = getenv("TIDM_FIXTURES");
	snprintf(g_dir, sizeof(g_dir), "%s/binlog", e && *e ? e : "/work/shared/fixtures");
	return g_dir;
}

/* Whole file (or gunzipped file) into memory. */
static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f;
	bool gz = strlen(path) > 3 && strcmp(path + strlen(path) - 3, ".gz") == 0;
	char cmd[1200];
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0, k;

	if (gz) {
		snprintf(cmd, sizeof(cmd), "gzip -dc '%s'", path);
		f = popen(cmd, "r");
	} else {
		f = fopen(path, "rb");
	}
	if (!f)
		return NULL;
	do {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		k = fread(buf + len, 1, cap - len, f);
		len += k;
	} while (k > 0);
	if (gz)
		pclose(f);
	else
		fclose(f);
	*n = len;
	return buf;
}

/* ---- SOURCES.md ---- */

typedef struct expect {
	char path[256];
	char events[1024];
	char inner[512];
	int rows[3]; /* I/U/D, -1 unknown */
} expect;

static expect g_exp[128];
static int g_nexp;

static void parse_sources(void)
{
	char path[1200], *line = NULL, dir[128] = "";
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/SOURCES.md", fixtures_dir());
	f = fopen(path, "r");
	assert_non_null(f);
	g_nexp = 0;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "## ", 3) == 0) {
			char *sl = strchr(line + 3, '/');
			size_t n = sl ? (size_t)(sl - line - 3) : 0;
			if (n >= sizeof(dir))
				n = 0;
			memcpy(dir, line + 3, n);
			dir[n] = '\0';
			continue;
		}
		if (strncmp(line, "- **", 4) != 0)
			continue;
		char *end = strstr(line + 4, "**");
		char *ev = strstr(line, "events: ");
		if (!end || !ev)
			continue;
		assert_true(g_nexp < 128);
		expect *x = &g_exp[g_nexp++];
		memset(x, 0, sizeof(*x));
		snprintf(x->path, sizeof(x->path), "%s/%.*s", dir, (int)(end - line - 4), line + 4);
		x->rows[0] = x->rows[1] = x->rows[2] = -1;
		char *r = strstr(line, "rows I/U/D = ");
		if (r)
			sscanf(r + 13, "%d/%d/%d", &x->rows[0], &x->rows[1], &x->rows[2]);
		ev += 8;
		char *stop = strstr(ev, " — ");
		if (stop)
			*stop = '\0';
		size_t n = strlen(ev);
		char *inner = strstr(ev, "; inner: ");
		if (inner) {
			snprintf(x->inner, sizeof(x->inner), "%.*s", (int)(n - (size_t)(inner + 9 - ev)),
				 inner + 9);
			n = (size_t)(inner - ev);
		}
		snprintf(x->events, sizeof(x->events), "%.*s", (int)n, ev);
	}
	free(line);
	fclose(f);
}

/* "A×1, B×2" -> counts[type]; returns false on an unknown name. */
static bool parse_counts(const char *s, unsigned long counts[256])
{
	char name[64];
	memset(counts, 0, 256 * sizeof(counts[0]));
	if (strncmp(s, "(none", 5) == 0)
		return true;
	while (*s) {
		const char *x = strstr(s, "\xc3\x97");
		if (!x)
			return false;
		size_t n = (size_t)(x - s);
		if (n >= sizeof(name))
			return false;
		memcpy(name, s, n);
		name[n] = '\0';
		unsigned long c = strtoul(x + 2, (char **)&s, 10);
		int t;
		for (t = 1; t < 256; t++) {
			const char *tn = tidm_binlog_type_name((unsigned)t);
			if (tn && strcmp(tn, name) == 0)
				break;
		}
		if (t == 256) {
			print_error("unknown event type name '%s' in SOURCES.md\n", name);
			return false;
		}
		counts[t] = c;
		while (*s == ',' || *s == ' ')
			s++;
	}
	return true;
}

/* ---- mariadb-binlog notation of our values ---- */

static void put_quoted(tidm_buf *b, const uint8_t *p, size_t n)
{
	tidm_buf_putc(b, '\'');
	for (size_t i = 0; i < n; i++) {
		if (p[i] > 0x1f)
			tidm_buf_putc(b, (char)p[i]);
		else
			tidm_buf_printf(b, "\\x%02x", p[i]);
	}
	tidm_buf_putc(b, '\'');
}

static void put_bits(tidm_buf *b, uint64_t v, unsigned nbits)
{
	tidm_buf_puts(b, "b'");
	for (unsigned i = nbits; i > 0; i--)
		tidm_buf_putc(b, (v >> (i - 1)) & 1 ? '1' : '0');
	tidm_buf_putc(b, '\'');
}

static void mariadb_value(tidm_buf *b, const tidm_binlog_value *v)
{
	switch (v->kind) {
	case TIDM_BV_NULL:
		tidm_buf_puts(b, "NULL");
		break;
	case TIDM_BV_INT:
	case TIDM_BV_YEAR:
		tidm_buf_put_i64(b, v->v.i);
		break;
	case TIDM_BV_UINT:
	case TIDM_BV_ENUM:
		tidm_buf_put_u64(b, v->v.u);
		break;
	case TIDM_BV_FLOAT:
	case TIDM_BV_DOUBLE:
		tidm_buf_printf(b, "%.17g", v->v.d);
		break;
	case TIDM_BV_DECIMAL:
		assert_int_equal(tidm_binlog_value_decimal_text(b, v), 0);
		break;
	case TIDM_BV_STRING:
	case TIDM_BV_BLOB:
		put_quoted(b, v->v.bytes, v->len);
		break;
	case TIDM_BV_DATE:
		tidm_buf_printf(b, "'%04d:%02u:%02u'", (int)v->v.t.year, v->v.t.month, v->v.t.day);
		break;
	case TIDM_BV_TIME:
	case TIDM_BV_DATETIME:
		tidm_buf_putc(b, '\'');
		tidm_binlog_value_time_text(b, v);
		tidm_buf_putc(b, '\'');
		break;
	case TIDM_BV_TIMESTAMP: {
		static const unsigned div[] = {1000000, 100000, 10000, 1000, 100, 10, 1};
		tidm_buf_printf(b, "%lld", (long long)v->v.ts.sec);
		if (v->fsp)
			tidm_buf_printf(b, ".%0*u", v->fsp, v->v.ts.usec / div[v->fsp]);
		break;
	}
	case TIDM_BV_SET:
		put_bits(b, v->v.u, v->len);
		break;
	case TIDM_BV_BIT:
		put_bits(b, v->v.u, v->len);
		break;
	default:
		tidm_buf_printf(b, "<kind %u>", v->kind);
		break;
	}
}

/* One row-image line: "I `db`.`t`", "W @3=value", "S @1=value" ... */
typedef struct line {
	char *text;
	char *type; /* mariadb type comment ("INT", "DOUBLE", ...) or NULL */
} line;

typedef struct lines {
	line *v;
	size_t n, cap;
} lines;

static void lines_add(lines *l, const char *text, size_t n, const char *type)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	l->v[l->n].text = strndup(text, n);
	l->v[l->n].type = type ? strdup(type) : NULL;
	l->n++;
}

static void lines_free(lines *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].text);
		free(l->v[i].type);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void image_lines(lines *l, char sect, const tidm_binlog_row *row,
			const tidm_binlog_value *vals)
{
	tidm_buf b = TIDM_BUF_INIT;
	for (unsigned i = 0; i < row->ncols; i++) {
		if (vals[i].kind == TIDM_BV_ABSENT)
			continue;
		tidm_buf_clear(&b);
		tidm_buf_printf(&b, "%c @%u=", sect, i + 1);
		mariadb_value(&b, &vals[i]);
		lines_add(l, b.data, b.len, NULL);
	}
	tidm_buf_dispose(&b);
}

/* ---- decoding a whole file ---- */

typedef struct result {
	unsigned long top[256], inner[256];
	int rows[3];
	int rc;
	uint64_t fail_offset;
	char msg[1024];
	lines rowlines;
} result;

static void rows_of(tidm_binlog_decoder *dec, const tidm_binlog_event *ev, result *r)
{
	tidm_binlog_row_iter it;
	tidm_binlog_row row;
	tidm_buf b = TIDM_BUF_INIT;
	int rc;

	if (ev->unsupported)
		return;
	switch (ev->hdr.type) {
	case TIDM_BINLOG_WRITE_ROWS_V1:
	case TIDM_BINLOG_UPDATE_ROWS_V1:
	case TIDM_BINLOG_DELETE_ROWS_V1:
	case TIDM_BINLOG_WRITE_ROWS_V2:
	case TIDM_BINLOG_UPDATE_ROWS_V2:
	case TIDM_BINLOG_DELETE_ROWS_V2:
	case TIDM_BINLOG_PARTIAL_UPDATE_ROWS:
		break;
	default:
		return;
	}
	assert_int_equal(tidm_binlog_rows_begin(&it, dec, ev), 0);
	const tidm_binlog_rows *rw = &ev->u.rows;
	while ((rc = tidm_binlog_rows_next(&it, &row)) == 1) {
		tidm_buf_clear(&b);
		static const char *const verb[] = {"", "INSERT", "UPDATE", "DELETE"};
		tidm_buf_printf(&b, "%s `%s`.`%s`", verb[rw->kind], rw->table->db, rw->table->table);
		lines_add(&r->rowlines, b.data, b.len, NULL);
		r->rows[rw->kind - 1]++;
		if (row.before)
			image_lines(&r->rowlines, 'W', &row, row.before);
		if (row.after)
			image_lines(&r->rowlines, 'S', &row, row.after);
	}
	if (rc < 0)
		fail_msg("rows: %s", tidm_err_msg());
	tidm_buf_dispose(&b);
}

static void decode_all(const char *rel, result *r)
{
	char path[1200];
	size_t n = 0;
	uint8_t *data;
	tidm_binlog_file *f;
	tidm_binlog_event ev, in;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/%s", fixtures_dir(), rel);
	data = slurp(path, &n);
	assert_non_null(data);
	r->rc = tidm_binlog_file_open_mem(&f, data, n);
	if (r->rc < 0) {
		r->fail_offset = 0;
		snprintf(r->msg, sizeof(r->msg), "%s", tidm_err_msg());
		free(data);
		return;
	}
	tidm_binlog_decoder *dec = tidm_binlog_file_decoder(f);
	while ((r->rc = tidm_binlog_file_next(f, &ev)) == 1) {
		r->top[ev.hdr.type]++;
		rows_of(dec, &ev, r);
		if (ev.hdr.type == TIDM_BINLOG_TRANSACTION_PAYLOAD) {
			int k;
			assert_int_equal(tidm_binlog_decoder_payload_begin(dec, &ev), 0);
			while ((k = tidm_binlog_decoder_payload_next(dec, &in)) == 1) {
				r->inner[in.hdr.type]++;
				rows_of(dec, &in, r);
			}
			assert_int_equal(k, 0);
		}
	}
	if (r->rc < 0) {
		r->fail_offset = tidm_binlog_file_offset(f);
		snprintf(r->msg, sizeof(r->msg), "%s", tidm_err_msg());
	}
	tidm_binlog_file_close(f);
	free(data);
}

/* ---- the table ---- */

typedef struct bad_file {
	const char *path;
	uint64_t offset;     /* start of the bad event */
	const char *before;  /* events decoded before it (SOURCES.md notation) */
	const char *message; /* part of the error message */
} bad_file;

static const bad_file bad_files[] = {
	/* bytes went through a text conversion: the magic is EF BF BD 62 */
	{"canal/tsdb/mysql-bin.000001", 0, "(none)", "not a binlog file: bad magic ef bf bd 62"},
	/* magic + 10 bytes of a header */
	{"rust_mysql_common/binlog_truncated_event.000001", 4, "(none)",
	 "truncated event: 10 bytes left"},
	/* FDE, then a PREVIOUS_GTIDS cut short */
	{"rust_mysql_common/binlog_truncated_prev_gtid_event.000001", 120,
	 "FORMAT_DESCRIPTION\xc3\x97" "1", "truncated event: 9 bytes left"},
	/* the broken QUERY of size 171 (mariadb-binlog reports it at 91176, the start of the
	 * INTVAR it groups with the query); a ROTATE after it is not reached */
	{"rust_mysql_common/corrupt-relay-bin.000624", 91204,
	 "FORMAT_DESCRIPTION\xc3\x97" "2, ROTATE\xc3\x97" "1, QUERY\xc3\x97" "453, INTVAR\xc3\x97"
	 "233, XID\xc3\x97" "183",
	 "QUERY event: status variables longer than the event"},
	/* pre-GA 5.2 file: the "deliberately broken XID" (type 16 with a 19-byte body) */
	{"rust_mysql_common/ver_5_1-wl2325_r.001", 428,
	 "FORMAT_DESCRIPTION\xc3\x97" "1, QUERY\xc3\x97" "3", "XID event: body of 19 bytes, expected 8"},
};

static const bad_file *find_bad(const char *path)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++)
		if (strcmp(bad_files[i].path, path) == 0)
			return &bad_files[i];
	return NULL;
}

static void assert_counts(const char *file, const char *what, const unsigned long *got,
			  const char *want_s)
{
	unsigned long want[256];
	assert_true(parse_counts(want_s, want));
	for (int t = 0; t < 256; t++) {
		if (got[t] != want[t]) {
			const char *n = tidm_binlog_type_name((unsigned)t);
			fail_msg("%s: %s %s: decoded %lu, SOURCES.md says %lu", file, what,
				 n ? n : "?", got[t], want[t]);
		}
	}
}

static void test_binlog_fixtures__counts_and_failures(void **state)
{
	int nbad = 0;
	(void)state;
	parse_sources();
	assert_true(g_nexp >= 50);
	for (int i = 0; i < g_nexp; i++) {
		expect *x = &g_exp[i];
		const bad_file *bad = find_bad(x->path);
		result r;
		decode_all(x->path, &r);
		if (bad) {
			nbad++;
			if (r.rc >= 0)
				fail_msg("%s: decoded without error, expected a failure at %llu", x->path,
					 (unsigned long long)bad->offset);
			assert_int_equal(r.rc, TIDM_ECORRUPT);
			if (r.fail_offset != bad->offset)
				fail_msg("%s: failed at %llu (%s), expected %llu", x->path,
					 (unsigned long long)r.fail_offset, r.msg,
					 (unsigned long long)bad->offset);
			if (!strstr(r.msg, bad->message))
				fail_msg("%s: message '%s' lacks '%s'", x->path, r.msg, bad->message);
			char at[64];
			snprintf(at, sizeof(at), "at offset %llu", (unsigned long long)bad->offset);
			assert_non_null(strstr(r.msg, at));
			assert_counts(x->path, "events before the failure", r.top, bad->before);
		} else {
			if (r.rc < 0)
				fail_msg("%s: %s", x->path, r.msg);
			assert_counts(x->path, "events", r.top, x->events);
			assert_counts(x->path, "inner events", r.inner, x->inner[0] ? x->inner : "(none)");
			if (x->rows[0] >= 0) {
				if (r.rows[0] != x->rows[0] || r.rows[1] != x->rows[1] ||
				    r.rows[2] != x->rows[2])
					fail_msg("%s: rows I/U/D %d/%d/%d, SOURCES.md says %d/%d/%d", x->path,
						 r.rows[0], r.rows[1], r.rows[2], x->rows[0], x->rows[1],
						 x->rows[2]);
			}
		}
		lines_free(&r.rowlines);
	}
	assert_int_equal(nbad, (int)(sizeof(bad_files) / sizeof(bad_files[0])));
}

/* ---- companions ---- */

static bool read_companion(const char *rel, lines *out)
{
	char path[1200], cmd[1300];
	char *ln = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	bool gz;
	char sect = '?';

	snprintf(path, sizeof(path), "%s/%s.mariadb-binlog.txt", fixtures_dir(), rel);
	f = fopen(path, "r");
	gz = false;
	if (!f) {
		snprintf(cmd, sizeof(cmd), "gzip -dc '%s.gz' 2>/dev/null", path);
		snprintf(path + strlen(path), sizeof(path) - strlen(path), ".gz");
		FILE *t = fopen(path, "r");
		if (!t)
			return false;
		fclose(t);
		f = popen(cmd, "r");
		gz = true;
	}
	assert_non_null(f);
	while ((n = getline(&ln, &cap, f)) > 0) {
		if (ln[n - 1] == '\n')
			ln[--n] = '\0';
		if (strncmp(ln, "### ", 4) != 0)
			continue;
		char *s = ln + 4;
		if (strncmp(s, "INSERT INTO ", 12) == 0) {
			char buf[600];
			snprintf(buf, sizeof(buf), "INSERT %s", s + 12);
			lines_add(out, buf, strlen(buf), NULL);
		} else if (strncmp(s, "UPDATE ", 7) == 0) {
			lines_add(out, s, strlen(s), NULL);
		} else if (strncmp(s, "DELETE FROM ", 12) == 0) {
			char buf[600];
			snprintf(buf, sizeof(buf), "DELETE %s", s + 12);
			lines_add(out, buf, strlen(buf), NULL);
		} else if (strcmp(s, "SET") == 0) {
			sect = 'S';
		} else if (strcmp(s, "WHERE") == 0) {
			sect = 'W';
		} else if (strncmp(s, "  @", 3) == 0) {
			/* the value ends where the last type comment opens */
			char *c = NULL, *p = s;
			while ((p = strstr(p, " /* ")) != NULL)
				c = p++;
			assert_non_null(c);
			char type[64] = "";
			sscanf(c + 4, "%63[A-Za-z_/]", type);
			tidm_buf b = TIDM_BUF_INIT;
			tidm_buf_printf(&b, "%c ", sect);
			tidm_buf_put(&b, s + 2, (size_t)(c - s - 2));
			lines_add(out, b.data, b.len, type);
			tidm_buf_dispose(&b);
		}
	}
	free(ln);
	if (gz)
		pclose(f);
	else
		fclose(f);
	return true;
}

/* mariadb-binlog value (after "@N=") equals ours? */
static bool value_equal(const char *theirs, const char *ours, const char *type)
{
	if (strcmp(theirs, ours) == 0)
		return true;
	if (type && (strcmp(type, "FLOAT") == 0 || strcmp(type, "DOUBLE") == 0)) {
		double a = strtod(theirs, NULL), b = strtod(ours, NULL);
		if (strcmp(type, "DOUBLE") == 0)
			return a == b;
		return (float)a == (float)b;
	}
	/* "-3 (4294967293)": signed view, then unsigned view */
	const char *par = strstr(theirs, " (");
	if (par && theirs[strlen(theirs) - 1] == ')') {
		size_t n1 = (size_t)(par - theirs);
		if (strlen(ours) == n1 && strncmp(theirs, ours, n1) == 0)
			return true;
		size_t n2 = strlen(par + 2) - 1;
		if (strlen(ours) == n2 && strncmp(par + 2, ours, n2) == 0)
			return true;
	}
	return false;
}

static void test_binlog_fixtures__values_match_mariadb_binlog(void **state)
{
	int files = 0;
	size_t values = 0;
	(void)state;
	parse_sources();
	for (int i = 0; i < g_nexp; i++) {
		lines theirs = {0};
		result r;
		if (!read_companion(g_exp[i].path, &theirs))
			continue;
		files++;
		decode_all(g_exp[i].path, &r);
		assert_true(r.rc == 0);
		for (size_t k = 0; k < theirs.n && k < r.rowlines.n; k++) {
			const char *t = theirs.v[k].text, *o = r.rowlines.v[k].text;
			bool ok;
			if (t[0] == 'S' || t[0] == 'W') {
				/* "S @3=value": same section and column, then the value */
				const char *te = strchr(t, '='), *oe = strchr(o, '=');
				ok = te && oe && te - t == oe - o && strncmp(t, o, (size_t)(te - t)) == 0 &&
				     value_equal(te + 1, oe + 1, theirs.v[k].type);
				values++;
			} else {
				ok = strcmp(t, o) == 0;
			}
			if (!ok)
				fail_msg("%s: row line %zu differs:\n  mariadb-binlog: %s\n  tidm:           %s",
					 g_exp[i].path, k + 1, t, o);
		}
		if (theirs.n != r.rowlines.n)
			fail_msg("%s: %zu row lines from mariadb-binlog, %zu from tidm", g_exp[i].path,
				 theirs.n, r.rowlines.n);
		lines_free(&theirs);
		lines_free(&r.rowlines);
	}
	/* every dump SOURCES.md says was saved */
	assert_true(files >= 35);
	assert_true(values > 290000); /* 294711 "###   @N=" lines in the dumps */
	print_message("compared %zu values in %d files\n", values, files);
}

/* ---- SOURCES.md quoted expectations ---- */

typedef struct seen {
	tidm_buf text; /* accumulated per test */
} seen;

/* Call fn for every (top-level and inner) event of a file. */
typedef void (*event_fn)(tidm_binlog_decoder *dec, const tidm_binlog_event *ev, void *payload);

static void each_event(const char *rel, event_fn fn, void *payload)
{
	char path[1200];
	size_t n;
	uint8_t *data;
	tidm_binlog_file *f;
	tidm_binlog_event ev, in;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", fixtures_dir(), rel);
	data = slurp(path, &n);
	assert_non_null(data);
	assert_int_equal(tidm_binlog_file_open_mem(&f, data, n), 0);
	tidm_binlog_decoder *dec = tidm_binlog_file_decoder(f);
	while ((rc = tidm_binlog_file_next(f, &ev)) == 1) {
		fn(dec, &ev, payload);
		if (ev.hdr.type == TIDM_BINLOG_TRANSACTION_PAYLOAD) {
			assert_int_equal(tidm_binlog_decoder_payload_begin(dec, &ev), 0);
			while (tidm_binlog_decoder_payload_next(dec, &in) == 1)
				fn(dec, &in, payload);
		}
	}
	assert_int_equal(rc, 0);
	tidm_binlog_file_close(f);
	free(data);
}

/* Append every row of rows events as JSON values "col=value;" and "|" between rows. */
static void collect_rows(tidm_binlog_decoder *dec, const tidm_binlog_event *ev, void *payload)
{
	tidm_buf *b = payload;
	tidm_binlog_row_iter it;
	tidm_binlog_row row;
	if (tidm_binlog_rows_begin(&it, dec, ev) < 0) {
		tidm_err_clear();
		return;
	}
	while (tidm_binlog_rows_next(&it, &row) == 1) {
		for (int img = 0; img < 2; img++) {
			const tidm_binlog_value *vals = img ? row.after : row.before;
			if (!vals)
				continue;
			tidm_buf_puts(b, img ? "+" : "-");
			for (unsigned i = 0; i < row.ncols; i++) {
				if (vals[i].kind == TIDM_BV_ABSENT)
					continue;
				tidm_buf_printf(b, "@%u=", i + 1);
				assert_int_equal(tidm_binlog_value_to_json(b, &vals[i],
									   &ev->u.rows.table->cols[i]),
						 0);
				tidm_buf_putc(b, ';');
			}
		}
		tidm_buf_putc(b, '|');
	}
}

static void test_binlog_fixtures__json_opaque(void **state)
{
	tidm_buf b = TIDM_BUF_INIT;
	(void)state;
	each_event("rust_mysql_common/json-opaque.binlog", collect_rows, &b);
	/* SOURCES.md quotes these documents; MySQL prints them with ": " and ", " */
	assert_string_equal(b.data, "+@1={\"a\": \"base64:type15:VQ==\"};|"
				    "+@1={\"b\": \"2012-03-18\"};|"
				    "+@1={\"c\": \"2012-03-18 11:30:45.000000\"};|"
				    "+@1={\"c\": \"87:31:46.654321\"};|"
				    "+@1={\"d\": 123.456};|"
				    "+@1={\"e\": 9.00};|"
				    "+@1={\"e\": [0, 1, true, false]};|"
				    "+@1={\"e\": null};|");
	tidm_buf_dispose(&b);
}

typedef struct gtids {
	tidm_buf prev;
	tidm_buf gtid;
} gtids;

static void collect_gtids(tidm_binlog_decoder *dec, const tidm_binlog_event *ev, void *payload)
{
	gtids *g = payload;
	(void)dec;
	if (ev->hdr.type == TIDM_BINLOG_PREVIOUS_GTIDS) {
		tidm_gtid_set set;
		tidm_gtid_set_init(&set, TIDM_GTID_MYSQL);
		assert_int_equal(tidm_gtid_set_decode_mysql(&set, ev->u.previous_gtids.data,
							    ev->u.previous_gtids.len),
				 0);
		tidm_gtid_set_format(&set, &g->prev);
		tidm_gtid_set_dispose(&set);
	} else if (ev->hdr.type == TIDM_BINLOG_GTID_TAGGED || ev->hdr.type == TIDM_BINLOG_GTID) {
		char u[37];
		tidm_binlog_uuid_format(u, ev->u.gtid.sid);
		tidm_buf_printf(&g->gtid, "%s%s|%.*s|%lld", g->gtid.len ? ";" : "", u,
				(int)ev->u.gtid.tag_len, ev->u.gtid.tag ? ev->u.gtid.tag : "",
				(long long)ev->u.gtid.gno);
	}
}

static void test_binlog_fixtures__tagged_gtids(void **state)
{
	gtids g = {TIDM_BUF_INIT, TIDM_BUF_INIT};
	tidm_buf rows = TIDM_BUF_INIT;
	(void)state;
	each_event("rust_mysql_common/binlog_transaction_with_GTID_TAG.000001", collect_gtids, &g);
	assert_string_equal(g.prev.data, "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:mytag:1-2");
	assert_string_equal(g.gtid.data, "55778904-0299-11f1-b1b8-4ef0c4956feb|mytag|3");
	each_event("rust_mysql_common/binlog_transaction_with_GTID_TAG.000001", collect_rows, &rows);
	assert_string_equal(rows.data, "+@1=3;@2=100;@3=\"250.00\";|");
	tidm_buf_dispose(&g.prev);
	tidm_buf_dispose(&g.gtid);
	tidm_buf_dispose(&rows);

	gtids u = {TIDM_BUF_INIT, TIDM_BUF_INIT};
	each_event("rust_mysql_common/binlog_transaction_previous_GTID_no_tag.000001", collect_gtids,
		   &u);
	assert_string_equal(u.prev.data, "b9b88c66-0755-11f1-9899-4a9da94c4d71:1-2");
	tidm_buf_dispose(&u.prev);
	tidm_buf_dispose(&u.gtid);
}

static void check_minimal(tidm_binlog_decoder *dec, const tidm_binlog_event *ev, void *payload)
{
	tidm_binlog_row_iter it;
	tidm_binlog_row row;
	int *nrows = payload;
	if (ev->hdr.type != TIDM_BINLOG_WRITE_ROWS_V2)
		return;
	assert_int_equal(tidm_binlog_rows_begin(&it, dec, ev), 0);
	assert_int_equal(tidm_binlog_rows_next(&it, &row), 1);
	(*nrows)++;
	assert_null(row.before);
	assert_int_equal(row.ncols, 5);
	const tidm_binlog_value *a = row.after;
	assert_int_equal(a[0].kind, TIDM_BV_INT);
	assert_int_equal(a[0].v.i, 1);
	assert_int_equal(a[1].kind, TIDM_BV_ABSENT);
	assert_int_equal(a[2].kind, TIDM_BV_STRING);
	assert_int_equal(a[2].len, 1);
	assert_memory_equal(a[2].v.bytes, "a", 1);
	assert_int_equal(a[2].charset, 255); /* utf8mb4_0900_ai_ci */
	assert_int_equal(a[3].kind, TIDM_BV_ABSENT);
	assert_int_equal(a[4].kind, TIDM_BV_UINT); /* INT UNSIGNED from SIGNEDNESS */
	assert_int_equal(a[4].v.u, 3230202323u);
	assert_int_equal(tidm_binlog_rows_next(&it, &row), 0);
}

static void test_binlog_fixtures__minimal_image(void **state)
{
	int n = 0;
	(void)state;
	each_event("rust_mysql_common/minimal_row_metadata.000001", check_minimal, &n);
	assert_int_equal(n, 1);
}

static void test_binlog_fixtures__typed_values(void **state)
{
	tidm_buf b = TIDM_BUF_INIT;
	(void)state;
	each_event("rust_mysql_common/time_issue.000001", collect_rows, &b);
	assert_string_equal(b.data, "+@1=\"-507:48:27\";|");
	tidm_buf_clear(&b);
	each_event("rust_mysql_common/mysql_type_bit.000001", collect_rows, &b);
	/* BIT(3) b100, TEXT "foo", BIT(8) b00100000 */
	assert_string_equal(b.data, "+@1=4;@2=\"foo\";@3=32;|");
	tidm_buf_clear(&b);
	each_event("rust_mysql_common/vector.binlog", collect_rows, &b);
	assert_true(strncmp(b.data, "+@1=1;@2=[1.1,2.2,3.3];|+@1=2;@2=[1,-1,0];|", 43) == 0);
	/* dtb.bar: BLOB foo (binary charset 63) holds "bar": printed as bytes */
	assert_non_null(strstr(b.data, "+@1=2;@2=[1.01,-1.01];@3={\"hex\":\"626172\"};@4=[42,43,44,45];|"));
	tidm_buf_clear(&b);
	each_event("rust_mysql_common/transaction_compression.000001", collect_rows, &b);
	assert_string_equal(b.data, "+@1=1;|");
	tidm_buf_clear(&b);
	/* enum index 1/2 and set bits 0b101/0b1010 (FULL metadata: printed by name) */
	each_event("rust_mysql_common/mysql-enum-string-set.000001", collect_rows, &b);
	assert_non_null(strstr(b.data, "@3=\"var1\";@4=[\"one\",\"three\"]"));
	assert_non_null(strstr(b.data, "@3=\"variant2\";@4=[\"two\",\"four\"]"));
	tidm_buf_dispose(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binlog_fixtures__counts_and_failures),
		cmocka_unit_test(test_binlog_fixtures__values_match_mariadb_binlog),
		cmocka_unit_test(test_binlog_fixtures__json_opaque),
		cmocka_unit_test(test_binlog_fixtures__tagged_gtids),
		cmocka_unit_test(test_binlog_fixtures__minimal_image),
		cmocka_unit_test(test_binlog_fixtures__typed_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
