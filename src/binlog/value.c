/*
 * value.c - text forms of decoded column values: exact DECIMAL text, JSON documents, SQL
 * temporal literals, and the JSON value printed by `tidm binlog decode`.
 *
 * Design: row decoding (rows.c) leaves DECIMAL and binary JSON as raw bytes; the conversions
 * happen here, only for the values a consumer prints. All output is appended to a caller's
 * tidm_buf, so a consumer that reuses one buffer allocates nothing in steady state. The JSON
 * forms are the hot path of `tidm binlog decode --format json`: no printf except for floats,
 * strings are escaped and UTF-8-checked in one pass (falling back to hex on the first invalid
 * sequence), temporal values are formatted by hand into room grabbed once.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog/cursor.h"
#include "binlog/decimal.h"
#include "binlog/json.h"
#include "binlog/rows.h"
#include "util/err.h"

int tidm_binlog_value_decimal_text(tidm_buf *out, const tidm_binlog_value *v)
{
	if (v->kind != TIDM_BV_DECIMAL)
		return tidm_err_set(TIDM_EINVAL, "not a DECIMAL value");
	return tidm_binlog_decimal_to_text(out, v->v.bytes, v->len, v->meta >> 8, v->meta & 0xff,
					   NULL);
}

int tidm_binlog_value_json_text(tidm_buf *out, const tidm_binlog_value *v)
{
	size_t before = out->len;
	int rc;
	if (v->kind == TIDM_BV_JSON_TEXT) {
		tidm_buf_put(out, v->v.bytes, v->len);
		return 0;
	}
	if (v->kind != TIDM_BV_JSON)
		return tidm_err_set(TIDM_EINVAL, "not a JSON value");
	rc = tidm_binlog_json_to_text(out, v->v.bytes, v->len);
	if (rc < 0)
		tidm_buf_truncate(out, before);
	return rc;
}

/* Append a string literal. */
#define PUT_LIT(b, lit) tidm_buf_put_fast((b), (lit), sizeof(lit) - 1)

/* Fixed-width zero-padded decimal (hot path of temporal output: no printf). */
static char *digits(char *o, uint32_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		o[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return o + width;
}

static char *put_frac(char *o, uint32_t usec, unsigned fsp)
{
	static const uint32_t div[] = {1000000, 100000, 10000, 1000, 100, 10, 1};
	if (fsp == 0)
		return o;
	if (fsp > 6)
		fsp = 6;
	*o++ = '.';
	return digits(o, usec / div[fsp] % 1000000, (int)fsp);
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *put_date(char *o, int64_t y, unsigned m, unsigned d)
{
	if (y < 0 || y > 9999)
		y = 0;
	o = digits(o, (uint32_t)y, 4);
	*o++ = '-';
	o = digits(o, m, 2);
	*o++ = '-';
	return digits(o, d, 2);
}

static char *put_hms(char *o, unsigned h, unsigned mi, unsigned sec)
{
	o = digits(o, h, h > 99 ? 3 : 2);
	*o++ = ':';
	o = digits(o, mi, 2);
	*o++ = ':';
	return digits(o, sec, 2);
}

/* The temporal text of v at o (at most TIME_TEXT_MAX bytes); returns the end, or NULL when v
 * is not temporal. */
#define TIME_TEXT_MAX 48
static char *time_text(char *o, const tidm_binlog_value *v)
{
	const tidm_binlog_time *t = &v->v.t;
	switch (v->kind) {
	case TIDM_BV_DATE:
		return put_date(o, t->year, t->month, t->day);
	case TIDM_BV_TIME:
		if (t->neg)
			*o++ = '-';
		o = put_hms(o, t->hour, t->minute, t->second);
		return put_frac(o, t->usec, v->fsp);
	case TIDM_BV_DATETIME:
		o = put_date(o, t->year, t->month, t->day);
		*o++ = ' ';
		o = put_hms(o, t->hour, t->minute, t->second);
		return put_frac(o, t->usec, v->fsp);
	case TIDM_BV_TIMESTAMP: {
		int64_t s = v->v.ts.sec, y = 0;
		unsigned m = 0, d = 0, sod = 0;
		if (s > 0) {
			civil_from_days(s / 86400, &y, &m, &d);
			sod = (unsigned)(s % 86400);
		}
		o = put_date(o, y, m, d);
		*o++ = ' ';
		o = put_hms(o, sod / 3600, sod / 60 % 60, sod % 60);
		return put_frac(o, v->v.ts.usec, v->fsp);
	}
	default:
		return NULL;
	}
}

void tidm_binlog_value_time_text(tidm_buf *out, const tidm_binlog_value *v)
{
	char *o = tidm_buf_grab(out, TIME_TEXT_MAX), *e = time_text(o, v);
	if (e)
		tidm_buf_commit(out, (size_t)(e - o));
	else
		tidm_buf_commit(out, 0);
}

/* Length of the valid UTF-8 sequence at p (0 if invalid). */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

static void put_hex(tidm_buf *out, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *o = tidm_buf_grab(out, 2 * n);
	for (size_t i = 0; i < n; i++) {
		o[2 * i] = hex[p[i] >> 4];
		o[2 * i + 1] = hex[p[i] & 15];
	}
	tidm_buf_commit(out, 2 * n);
}

/*
 * Text bytes: a JSON string when valid UTF-8, else {"hex":"..."}. One pass: ASCII runs are
 * escaped by tidm_buf_put_json_ascii(), each non-ASCII sequence is checked and copied, and
 * at the first invalid one the string written so far is dropped for the hex form.
 */
static void put_bytes(tidm_buf *out, const uint8_t *p, size_t n)
{
	size_t at = out->len, i = 0;
	tidm_buf_putc_fast(out, '"');
	for (;;) {
		i += tidm_buf_put_json_ascii(out, p + i, n - i);
		if (i >= n)
			break;
		size_t k = utf8_len(p + i, n - i);
		if (k == 0) {
			tidm_buf_truncate(out, at);
			PUT_LIT(out, "{\"hex\":\"");
			put_hex(out, p, n);
			PUT_LIT(out, "\"}");
			return;
		}
		tidm_buf_put(out, p + i, k);
		i += k;
	}
	tidm_buf_putc_fast(out, '"');
}

/* Shortest text that reads back as the same double (or float when single). */
static void put_double(tidm_buf *out, double d, bool single)
{
	char tmp[40];
	if (!isfinite(d)) {
		PUT_LIT(out, "null");
		return;
	}
	for (int prec = single ? 6 : 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (single ? strtof(tmp, NULL) == (float)d : strtod(tmp, NULL) == d)
			break;
	}
	tidm_buf_puts(out, tmp);
}

/* PARTIAL_UPDATE_ROWS diffs without a before document: {"json_diffs":[{"op","path","value"}]}
 * (binlog-protocol.md 3.8). */
static int put_json_diffs(tidm_buf *out, const uint8_t *p, size_t n)
{
	static const char *const ops[] = {"replace", "insert", "remove"};
	tidm_binlog_cursor c;
	size_t at = out->len;
	int first = 1;

	tidm_binlog_cursor_init(&c, p, n);
	PUT_LIT(out, "{\"json_diffs\":[");
	while (tidm_binlog_cursor_left(&c) > 0) {
		uint8_t op;
		const uint8_t *path, *val;
		size_t plen, vlen;
		if (!tidm_binlog_cursor_u8(&c, &op) || op > 2 ||
		    !tidm_binlog_cursor_lenenc_bytes(&c, &path, &plen))
			goto bad;
		if (!first)
			tidm_buf_putc_fast(out, ',');
		first = 0;
		tidm_buf_printf(out, "{\"op\":\"%s\",\"path\":", ops[op]);
		put_bytes(out, path, plen);
		if (op != 2) {
			if (!tidm_binlog_cursor_lenenc_bytes(&c, &val, &vlen))
				goto bad;
			PUT_LIT(out, ",\"value\":");
			if (tidm_binlog_json_to_text(out, val, vlen) < 0) {
				tidm_buf_truncate(out, at);
				return tidm_err_code();
			}
		}
		tidm_buf_putc_fast(out, '}');
	}
	PUT_LIT(out, "]}");
	return 0;
bad:
	tidm_buf_truncate(out, at);
	return tidm_err_set(TIDM_ECORRUPT, "malformed JSON diff at byte %zu", (size_t)(c.p - p));
}

int tidm_binlog_value_to_json(tidm_buf *out, const tidm_binlog_value *v,
			      const tidm_binlog_column *col)
{
	int rc;
	switch (v->kind) {
	case TIDM_BV_ABSENT:
	case TIDM_BV_NULL:
		PUT_LIT(out, "null");
		return 0;
	case TIDM_BV_INT:
	case TIDM_BV_YEAR: {
		char *o = tidm_buf_grab(out, TIDM_BUF_I64_MAX);
		tidm_buf_commit(out, (size_t)(tidm_buf_fmt_i64(o, v->v.i) - o));
		return 0;
	}
	case TIDM_BV_UINT:
	case TIDM_BV_BIT: {
		char *o = tidm_buf_grab(out, TIDM_BUF_I64_MAX);
		tidm_buf_commit(out, (size_t)(tidm_buf_fmt_u64(o, v->v.u) - o));
		return 0;
	}
	case TIDM_BV_FLOAT:
	case TIDM_BV_DOUBLE:
		put_double(out, v->v.d, v->kind == TIDM_BV_FLOAT);
		return 0;
	case TIDM_BV_DECIMAL: {
		size_t at = out->len;
		tidm_buf_putc_fast(out, '"');
		rc = tidm_binlog_value_decimal_text(out, v);
		if (rc < 0) {
			tidm_buf_truncate(out, at);
			return rc;
		}
		tidm_buf_putc_fast(out, '"');
		return 0;
	}
	case TIDM_BV_STRING:
	case TIDM_BV_BLOB:
		if (v->charset == TIDM_BINLOG_CHARSET_BINARY) { /* BINARY/VARBINARY/BLOB: bytes */
			PUT_LIT(out, "{\"hex\":\"");
			put_hex(out, v->v.bytes, v->len);
			PUT_LIT(out, "\"}");
		} else {
			put_bytes(out, v->v.bytes, v->len);
		}
		return 0;
	case TIDM_BV_DATE:
	case TIDM_BV_TIME:
	case TIDM_BV_DATETIME:
	case TIDM_BV_TIMESTAMP: {
		char *o = tidm_buf_grab(out, TIME_TEXT_MAX + 2), *e;
		*o = '"';
		e = time_text(o + 1, v);
		*e++ = '"';
		tidm_buf_commit(out, (size_t)(e - o));
		return 0;
	}
	case TIDM_BV_JSON:
	case TIDM_BV_JSON_TEXT:
		return tidm_binlog_value_json_text(out, v);
	case TIDM_BV_JSON_DIFF:
		return put_json_diffs(out, v->v.bytes, v->len);
	case TIDM_BV_ENUM:
		if (col && col->strs && v->v.u <= col->n_strs) {
			if (v->v.u == 0)
				PUT_LIT(out, "\"\"");
			else
				put_bytes(out, (const uint8_t *)col->strs[v->v.u - 1],
					  col->strs_len[v->v.u - 1]);
		} else {
			tidm_buf_put_u64(out, v->v.u);
		}
		return 0;
	case TIDM_BV_SET:
		if (col && col->strs) {
			bool first = true;
			tidm_buf_putc_fast(out, '[');
			for (unsigned i = 0; i < 64 && i < col->n_strs; i++) {
				if (!((v->v.u >> i) & 1))
					continue;
				if (!first)
					tidm_buf_putc_fast(out, ',');
				first = false;
				put_bytes(out, (const uint8_t *)col->strs[i], col->strs_len[i]);
			}
			tidm_buf_putc_fast(out, ']');
		} else {
			tidm_buf_put_u64(out, v->v.u);
		}
		return 0;
	case TIDM_BV_GEOMETRY:
		PUT_LIT(out, "{\"hex\":\"");
		put_hex(out, v->v.bytes, v->len);
		PUT_LIT(out, "\"}");
		return 0;
	case TIDM_BV_VECTOR:
		tidm_buf_putc_fast(out, '[');
		for (uint32_t i = 0; i + 4 <= v->len; i += 4) {
			float f;
			memcpy(&f, v->v.bytes + i, 4);
			if (i)
				tidm_buf_putc_fast(out, ',');
			put_double(out, f, true);
		}
		tidm_buf_putc_fast(out, ']');
		return 0;
	default:
		return tidm_err_set(TIDM_EINVAL, "value kind %u", v->kind);
	}
}
