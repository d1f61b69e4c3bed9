/*
 * render.c - SQL text of row values, tuples, keys and UPDATE statements.
 *
 * DESIGN
 *  Values are written as literals the target parses back to the same value: integers and
 *  decimals as text, FLOAT with 9 and DOUBLE with 17 significant digits, temporal values as
 *  quoted text (TIMESTAMP converted from epoch seconds to UTC; sessions use +00:00),
 *  strings and blobs as hex with the target column's character set introducer (so they
 *  compare under the column's collation and keys use their index), JSON as its text,
 *  BIT/ENUM/SET as their numbers, GEOMETRY as the server's internal bytes.
 *  A row is a tuple "(v1,...)" of the columns the target table has (sync_put_tuple); it is
 *  addressed by its key columns, or by every column of a keyless table (sync_put_where,
 *  sync_put_key_text); sync_describe_row names it in messages ("`d`.`t` (id=5)").
 *  UPDATE sets the columns the image carries (sync_put_update); a partial JSON update is
 *  written as JSON_REPLACE/JSON_SET/... of the column as it is on the target
 *  (put_json_diffs).
 */
#include "sync/apply.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "binlog/cursor.h"
#include "binlog/json.h"
#include "binlog/rows.h"
#include "db/conn.h"
#include "db/meta.h"
#include "db/quote.h"
#include "sync/ddl.h"
#include "sync/ddl_charset.h"
#include "sync/ddl_guard.h"
#include "sync/schema.h"
#include "sync/sequence.h"
#include "sync/txn_split.h"
#include "util/err.h"
#include "util/gtid.h"
#include "util/log.h"
#include "sync/apply_int.h"

static void put_hex_with_charset(tidm_buf *b, const uint8_t *p, size_t n, const char *charset)
{
	if (charset && *charset && strcmp(charset, "binary") != 0) {
		tidm_buf_putc(b, '_');
		tidm_buf_puts(b, charset);
		tidm_buf_putc(b, ' ');
	}
	tidm_quote_hex(b, p, n);
}

static void put_datetime(tidm_buf *b, const tidm_binlog_time *t, unsigned fsp, bool with_date, bool with_time)
{
	char tmp[64];
	int n = 0;

	if (with_date)
		n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "%04d-%02u-%02u", (int)t->year, t->month, t->day);
	if (with_time) {
		if (with_date)
			tmp[n++] = ' ';
		n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "%s%02u:%02u:%02u", t->neg ? "-" : "", t->hour,
			      t->minute, t->second);
		if (fsp)
			n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, ".%06u", t->usec);
	}
	tidm_buf_putc(b, '\'');
	tidm_buf_put(b, tmp, (size_t)n);
	tidm_buf_putc(b, '\'');
}

static int put_value(struct tidm_applier *a, tidm_buf *b, const tidm_binlog_value *v, const tidm_schema_col *col)
{
	char tmp[64];
	int rc;

	switch (v->kind) {
	case TIDM_BV_NULL:
		tidm_buf_puts(b, "NULL");
		return 0;
	case TIDM_BV_INT:
		if (col->is_unsigned && v->v.i < 0) {
			/* the binlog did not say the column is unsigned: the bits are the value */
			uint64_t u = (uint64_t)v->v.i;
			switch (v->type) {
			case TIDM_COL_TINY: u &= 0xffu; break;
			case TIDM_COL_SHORT: u &= 0xffffu; break;
			case TIDM_COL_INT24: u &= 0xffffffu; break;
			case TIDM_COL_LONG: u &= 0xffffffffu; break;
			default: break;
			}
			tidm_buf_put_u64(b, u);
			return 0;
		}
		tidm_buf_put_i64(b, v->v.i);
		return 0;
	case TIDM_BV_YEAR:
		tidm_buf_put_i64(b, v->v.i);
		return 0;
	case TIDM_BV_UINT:
	case TIDM_BV_BIT:
	case TIDM_BV_ENUM:
	case TIDM_BV_SET:
		tidm_buf_put_u64(b, v->v.u);
		return 0;
	case TIDM_BV_FLOAT:
	case TIDM_BV_DOUBLE:
		if (!isfinite(v->v.d))
			return tidm_err_set(TIDM_ECORRUPT, "non-finite floating point value in column `%s`", col->name);
		snprintf(tmp, sizeof(tmp), v->kind == TIDM_BV_FLOAT ? "%.9g" : "%.17g", v->v.d);
		tidm_buf_puts(b, tmp);
		return 0;
	case TIDM_BV_DECIMAL:
		return tidm_binlog_value_decimal_text(b, v);
	case TIDM_BV_STRING:
		if (col->binary_len > v->len && col->binary_len <= 255) {
			/* BINARY(n): the binlog drops trailing zero bytes; keys compare with them */
			uint8_t padded[255];
			memcpy(padded, v->v.bytes, v->len);
			memset(padded + v->len, 0, col->binary_len - v->len);
			tidm_quote_hex(b, padded, col->binary_len);
			return 0;
		}
		put_hex_with_charset(b, v->v.bytes, v->len, col->charset);
		return 0;
	case TIDM_BV_BLOB:
		put_hex_with_charset(b, v->v.bytes, v->len, col->charset);
		return 0;
	case TIDM_BV_GEOMETRY:
	case TIDM_BV_VECTOR:
		tidm_quote_hex(b, v->v.bytes, v->len);
		return 0;
	case TIDM_BV_DATE:
		put_datetime(b, &v->v.t, 0, true, false);
		return 0;
	case TIDM_BV_TIME:
		put_datetime(b, &v->v.t, v->fsp, false, true);
		return 0;
	case TIDM_BV_DATETIME:
		put_datetime(b, &v->v.t, v->fsp, true, true);
		return 0;
	case TIDM_BV_TIMESTAMP: {
		tidm_binlog_time t;
		memset(&t, 0, sizeof(t));
		if (v->v.ts.sec != 0 || v->v.ts.usec != 0) {
			time_t s = (time_t)v->v.ts.sec;
			struct tm tm;
			gmtime_r(&s, &tm);
			t.year = tm.tm_year + 1900;
			t.month = (uint8_t)(tm.tm_mon + 1);
			t.day = (uint8_t)tm.tm_mday;
			t.hour = (uint16_t)tm.tm_hour;
			t.minute = (uint8_t)tm.tm_min;
			t.second = (uint8_t)tm.tm_sec;
			t.usec = v->v.ts.usec;
		}
		put_datetime(b, &t, v->fsp, true, true);
		return 0;
	}
	case TIDM_BV_JSON: {
		size_t at;
		tidm_buf_clear(&a->scratch);
		if ((rc = tidm_binlog_value_json_text(&a->scratch, v)) < 0)
			return rc;
		at = b->len;
		(void)at;
		tidm_quote_string(b, a->scratch.data ? a->scratch.data : "null", a->scratch.len ? a->scratch.len : 4);
		return 0;
	}
	case TIDM_BV_JSON_TEXT:
		tidm_quote_string(b, (const char *)v->v.bytes, v->len);
		return 0;
	case TIDM_BV_JSON_DIFF:
		return tidm_err_set(TIDM_EUNSUPPORTED,
				    "column `%s`: a partial JSON update without the before image (binlog_row_image=MINIMAL "
				    "with binlog_row_value_options=PARTIAL_JSON) cannot be applied; set binlog_row_image=FULL",
				    col->name);
	case TIDM_BV_ABSENT:
	default:
		return tidm_err_set(TIDM_EUNSUPPORTED, "column `%s`: value of kind %u cannot be written", col->name,
				    (unsigned)v->kind);
	}
}

/* "(v1,v2,...)" over the insertable columns of an image. */
int sync_put_tuple(struct tidm_applier *a, tidm_buf *b, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols)
{
	size_t i;
	bool first = true;
	int rc;

	tidm_buf_putc(b, '(');
	for (i = 0; i < t->schema->ncols; i++) {
		const tidm_schema_col *c = &t->schema->cols[i];
		if (c->generated)
			continue;
		if (!first)
			tidm_buf_putc(b, ',');
		first = false;
		if (i >= ncols || img[i].kind == TIDM_BV_ABSENT) {
			tidm_buf_puts(b, "DEFAULT");
			continue;
		}
		if ((rc = put_value(a, b, &img[i], c)) < 0)
			return rc;
	}
	tidm_buf_putc(b, ')');
	return 0;
}

/* WHERE condition addressing the row of `img`: by key, or NULL-safe on every column. */
int sync_put_where(struct tidm_applier *a, tidm_buf *b, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols)
{
	const tidm_schema_table *s = t->schema;
	size_t i, n = s->nkey ? s->nkey : s->ncols;
	bool first = true;
	int rc;

	for (i = 0; i < n; i++) {
		size_t ci = s->nkey ? s->key[i] : i;
		const tidm_schema_col *c = &s->cols[ci];
		if (ci >= ncols || img[ci].kind == TIDM_BV_ABSENT) {
			if (s->nkey)
				return tidm_err_set(TIDM_EUNSUPPORTED,
						    "`%s`.`%s`: the binlog row image lacks key column `%s` (the source's "
						    "key differs from the target's)",
						    s->db, s->name, c->name);
			continue;
		}
		if (!s->nkey && (c->generated || !strcmp(c->data_type, "json") || !strcmp(c->data_type, "geometry")))
			continue; /* not comparable by equality, or a function of the other columns,
				   * which address the row */
		if (!first)
			tidm_buf_puts(b, " AND ");
		first = false;
		tidm_quote_ident(b, c->name);
		tidm_buf_puts(b, s->nkey ? " = " : " <=> ");
		if (img[ci].kind == TIDM_BV_FLOAT && isfinite(img[ci].v.d)) {
			/* the float's exact value: the column compares as a double, and 9 digits,
			 * which give back the same float, are another double */
			char tmp[64];
			snprintf(tmp, sizeof(tmp), "%.17g", img[ci].v.d);
			tidm_buf_puts(b, tmp);
			continue;
		}
		if ((rc = put_value(a, b, &img[ci], c)) < 0)
			return rc;
		if (!s->nkey && c->keyfold != TIDM_KEYFOLD_EXACT && c->charset &&
		    (img[ci].kind == TIDM_BV_STRING || img[ci].kind == TIDM_BV_BLOB)) {
			/* no key: the row is the one with these bytes ('abc' and 'ABC ' are two rows
			 * here), compared besides the collation's equality, which an index can use */
			tidm_buf_puts(b, " AND CAST(");
			tidm_quote_ident(b, c->name);
			tidm_buf_puts(b, " AS BINARY) <=> ");
			tidm_quote_hex(b, img[ci].v.bytes, img[ci].len);
		}
	}
	if (first)
		tidm_buf_puts(b, "1");
	return 0;
}

/* Key text of an image: "v1,v2", the values as literals. With `fold`, the text every
 * spelling of the same key on the target shares (for routing and conflict hashes; see
 * tidm_schema_keyfold): an opaque column's value is left out, a TRIM column's loses its
 * trailing spaces. */
int sync_put_key_text(struct tidm_applier *a, tidm_buf *b, const tbl_info *t, const tidm_binlog_value *img,
		      unsigned ncols, const size_t *cols, size_t n, bool fold)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		const tidm_schema_col *c = &t->schema->cols[cols[i]];
		const tidm_binlog_value *v = &img[cols[i]];
		if (i)
			tidm_buf_putc(b, ',');
		if (cols[i] >= ncols || v->kind == TIDM_BV_ABSENT) {
			tidm_buf_puts(b, "?");
			continue;
		}
		if (fold && c->keyfold == TIDM_KEYFOLD_OPAQUE && v->kind != TIDM_BV_NULL) {
			tidm_buf_putc(b, '~');
			continue;
		}
		if (fold && c->keyfold == TIDM_KEYFOLD_TRIM && (v->kind == TIDM_BV_STRING || v->kind == TIDM_BV_BLOB)) {
			size_t len = v->len;
			while (len && v->v.bytes[len - 1] == ' ')
				len--;
			tidm_quote_hex(b, v->v.bytes, len);
			continue;
		}
		if ((rc = put_value(a, b, v, c)) < 0)
			return rc;
	}
	return 0;
}

char *sync_describe_row(struct tidm_applier *a, const tbl_info *t, const tidm_binlog_value *img, unsigned ncols)
{
	const tidm_schema_table *s = t->schema;
	tidm_buf b = TIDM_BUF_INIT;
	size_t i;

	tidm_buf_printf(&b, "%s (", t->qname);
	if (s->nkey) {
		for (i = 0; i < s->nkey; i++) {
			size_t ci = s->key[i];
			if (i)
				tidm_buf_puts(&b, ", ");
			tidm_buf_printf(&b, "%s=", s->cols[ci].name);
			if (ci < ncols && img[ci].kind != TIDM_BV_ABSENT) {
				size_t at = b.len;
				if (put_value(a, &b, &img[ci], &s->cols[ci]) < 0)
					tidm_buf_truncate(&b, at);
			}
		}
	} else {
		tidm_buf_puts(&b, "no key");
	}
	tidm_buf_putc(&b, ')');
	return tidm_buf_detach(&b);
}

/*
 * A partial JSON update without the column's old value (binlog_row_image MINIMAL with
 * binlog_row_value_options PARTIAL_JSON): the new value is computed on the target from the
 * column as it is there, diff by diff, as MySQL applied them: REPLACE is JSON_REPLACE, INSERT
 * of an object member JSON_SET, INSERT at an array index JSON_ARRAY_INSERT, REMOVE
 * JSON_REMOVE; each value as JSON (MariaDB: JSON_EXTRACT(text, '$'); MySQL, TiDB: CAST).
 */
static int put_json_diffs(struct tidm_applier *a, tidm_buf *b, const tidm_schema_col *c, const tidm_binlog_value *v)
{
	static const char *const fn[] = {"JSON_REPLACE(", "JSON_SET(", "JSON_REMOVE("};
	bool maria = tidm_conn_info(a->conn)->flavor == TIDM_FLAVOR_MARIADB;
	tidm_binlog_cursor cur;
	tidm_buf expr = TIDM_BUF_INIT, next = TIDM_BUF_INIT;
	int rc = 0;

	tidm_quote_ident(&expr, c->name);
	tidm_binlog_cursor_init(&cur, v->v.bytes, v->len);
	while (tidm_binlog_cursor_left(&cur) > 0) {
		uint8_t op;
		const uint8_t *path, *val = NULL;
		size_t plen, vlen = 0;
		const char *f;

		if (!tidm_binlog_cursor_u8(&cur, &op) || op > 2 || !tidm_binlog_cursor_lenenc_bytes(&cur, &path, &plen) ||
		    (op != 2 && !tidm_binlog_cursor_lenenc_bytes(&cur, &val, &vlen))) {
			rc = tidm_err_set(TIDM_ECORRUPT, "column `%s`: a malformed partial JSON update", c->name);
			break;
		}
		f = fn[op];
		if (op == 1 && plen && path[plen - 1] == ']')
			f = "JSON_ARRAY_INSERT(";
		tidm_buf_clear(&next);
		tidm_buf_puts(&next, f);
		tidm_buf_put(&next, expr.data, expr.len);
		tidm_buf_putc(&next, ',');
		tidm_quote_string(&next, (const char *)path, plen);
		if (op != 2) {
			tidm_buf_clear(&a->scratch);
			if ((rc = tidm_binlog_json_to_text(&a->scratch, val, vlen)) < 0)
				break;
			tidm_buf_puts(&next, maria ? ",JSON_EXTRACT(" : ",CAST(");
			tidm_quote_string(&next, a->scratch.data ? a->scratch.data : "null",
					  a->scratch.len ? a->scratch.len : 4);
			tidm_buf_puts(&next, maria ? ",'$')" : " AS JSON)");
		}
		tidm_buf_putc(&next, ')');
		tidm_buf_clear(&expr);
		tidm_buf_put(&expr, next.data, next.len);
	}
	if (rc == 0)
		tidm_buf_put(b, expr.data, expr.len);
	tidm_buf_dispose(&expr);
	tidm_buf_dispose(&next);
	return rc;
}

/* "UPDATE `d`.`t` SET ... WHERE ... LIMIT 1" for a row change: 1, 0 when it sets nothing
 * (every column generated or absent), < 0 on an error. */
int sync_put_update(struct tidm_applier *a, tidm_buf *b, const tbl_info *t, const tidm_binlog_row *row)
{
	const tidm_schema_table *s = t->schema;
	size_t i;
	bool first = true;
	int rc;

	tidm_buf_printf(b, "UPDATE %s SET ", t->qname);
	for (i = 0; i < s->ncols; i++) {
		const tidm_schema_col *c = &s->cols[i];
		if (c->generated || i >= row->ncols || row->after[i].kind == TIDM_BV_ABSENT)
			continue;
		if (!first)
			tidm_buf_putc(b, ',');
		first = false;
		tidm_quote_ident(b, c->name);
		tidm_buf_putc(b, '=');
		if (row->after[i].kind == TIDM_BV_JSON_DIFF)
			rc = put_json_diffs(a, b, c, &row->after[i]);
		else
			rc = put_value(a, b, &row->after[i], c);
		if (rc < 0)
			return rc;
	}
	if (first)
		return 0;
	tidm_buf_puts(b, " WHERE ");
	if ((rc = sync_put_where(a, b, t, row->before, row->ncols)) < 0)
		return rc;
	tidm_buf_puts(b, " LIMIT 1");
	return 1;
}
