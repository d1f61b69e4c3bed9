/*
 * render.c - the statements verify sends: chunk digests, row digests, lookups, the middle
 * key of a range, keyless multisets. Pure functions over tidm_buf (unit-tested, TiDB's
 * statements included, in tests/unit/verify/test_render.c).
 *
 * DESIGN
 *  A row's digest is CRC32 over CONCAT_WS('#', each compared column as rendered below,
 *  and, when a column may be NULL, CONCAT(ISNULL(c1), ...) so that NULL and '' differ).
 *  A chunk's digest is COUNT(*) and SUM(h) over its rows: an exact sum, so the digest of
 *  a multiset (duplicate rows of a keyless table count) and blind to row order; a changed
 *  row goes unnoticed only if its CRC32 is unchanged (odds 2^-32 per differing chunk).
 *  A key range sums in a DOUBLE (h + 0e0): exact below 2^53, which at most
 *  TIDM_VERIFY_CHUNK_ROWS_MAX rows of 32-bit CRCs cannot reach, and measured a third
 *  cheaper for the server than SUM of an integer, which MariaDB adds as DECIMAL; the
 *  result is cast to DECIMAL(20, 0) so that it prints exactly. A keyless table is one
 *  chunk of any size: DECIMAL. A second hash (BIT_XOR of another CRC) would double the
 *  servers' work (bench/verify.sh). Only two numbers come back. Every flavour (MariaDB, MySQL, TiDB) has CRC32, CONCAT_WS,
 *  BIT_XOR, CONVERT ... USING, ROUND, LOG10 and POW, so the same shapes run everywhere;
 *  what differs per flavour is said at the column.
 *
 *  Normalisation, so that equal data never differs:
 *   strings   CONVERT(c USING utf8mb4): the characters, whatever the column's charset or
 *             collation on each side (a collation mapped by the copy, latin1 vs utf8mb4),
 *             and one collation for the whole CONCAT_WS (MySQL refuses mixed ones); on a
 *             side where every text column of the table is utf8mb4 in one collation the
 *             bytes are already those and the column goes in as it is (plain_text);
 *   binary    the bytes as they are (BLOB, BINARY, geometry);
 *   BIT       CAST(c AS UNSIGNED): the number, not the bytes (servers differ in width);
 *   FLOAT     6 significant digits, DOUBLE 15, written as mantissa 'e' exponent with a
 *             DECIMAL mantissa: servers print floating-point numbers differently
 *             (MySQL 8 and TiDB shortest round-trip, MariaDB %g, exponents as e+20 or
 *             e20), and a value that went through text may differ in its last binary
 *             digit; the digits kept are what FLOAT and DOUBLE can represent;
 *   JSON      between servers of one flavour: MySQL and TiDB CAST(c AS CHAR), their
 *             canonical text; MariaDB stores JSON as text, compared as written (a copy
 *             keeps it). Between flavours each prints JSON its own way (MariaDB as
 *             written, MySQL keys by length then bytes, TiDB by bytes, numbers
 *             differently): such a column (JSON on either side) is left out of the
 *             servers' digest but for its NULL marker, and compared in the client in one
 *             canonical form (vjson_canon) for every row of a keyed table; a keyless
 *             table compares only whether it is NULL;
 *   temporal  as the server prints them: every tidm session has time_zone '+00:00', so
 *             TIMESTAMP is UTC on both sides; fractional digits follow the column;
 *   numbers   as printed (integers and DECIMAL print exactly).
 *  Key ranges use the same literals as the copy's chunk plan (numbers as they are, text
 *  as _utf8mb4 X'..', bytes as X'..'), written with OR/AND so any server uses the index.
 */
#include "verify/verify_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db/quote.h"

static const char *key_name(const vtable *t, size_t i)
{
	return t->cols[t->key[i]].name;
}

static void put_float(tidm_buf *b, const char *name, unsigned digits)
{
	/* IF(c = 0, '0', CONCAT(CAST(ROUND(c / POW(10, e), d-1) AS DECIMAL(d+3, d-1)), 'e', e))
	 * with e = FLOOR(LOG10(ABS(c))); NULL stays NULL (the null markers tell) */
	tidm_buf_puts(b, "IF(");
	tidm_quote_ident(b, name);
	tidm_buf_puts(b, " = 0, '0', CONCAT(CAST(ROUND(");
	tidm_quote_ident(b, name);
	tidm_buf_puts(b, " / POW(10, FLOOR(LOG10(ABS(");
	tidm_quote_ident(b, name);
	tidm_buf_printf(b, ")))), %u) AS DECIMAL(%u, %u)), 'e', FLOOR(LOG10(ABS(", digits - 1, digits + 3, digits - 1);
	tidm_quote_ident(b, name);
	tidm_buf_puts(b, ")))))");
}

void vrender_col(tidm_buf *b, const vcol *c, const vdialect *d, bool plain)
{
	switch (c->fam) {
	case VF_STRING:
		if (plain) {
			tidm_quote_ident(b, c->name);
			break;
		}
		tidm_buf_puts(b, "CONVERT(");
		tidm_quote_ident(b, c->name);
		tidm_buf_puts(b, " USING utf8mb4)");
		break;
	case VF_BIT:
		tidm_buf_puts(b, "CAST(");
		tidm_quote_ident(b, c->name);
		tidm_buf_puts(b, " AS UNSIGNED)");
		break;
	case VF_FLOAT:
		put_float(b, c->name, 6);
		break;
	case VF_DOUBLE:
		put_float(b, c->name, 15);
		break;
	case VF_JSON_CLIENT:
		/* compared in the client: nothing here (the NULL marker stays) */
		tidm_buf_puts(b, "NULL");
		break;
	case VF_JSON:
		if (d->self == TIDM_FLAVOR_MARIADB && plain) {
			tidm_quote_ident(b, c->name);
		} else if (d->self == TIDM_FLAVOR_MARIADB) {
			/* JSON is LONGTEXT with a check on MariaDB: the text as stored */
			tidm_buf_puts(b, "CONVERT(");
			tidm_quote_ident(b, c->name);
			tidm_buf_puts(b, " USING utf8mb4)");
		} else {
			/* MySQL and TiDB: the canonical text of the binary JSON */
			tidm_buf_puts(b, "CAST(");
			tidm_quote_ident(b, c->name);
			tidm_buf_puts(b, " AS CHAR)");
		}
		break;
	case VF_EXACT:
	case VF_BINARY:
	default:
		tidm_quote_ident(b, c->name);
		break;
	}
}

void vrender_row_hash(tidm_buf *b, const vtable *t, const vdialect *d)
{
	size_t i;
	bool any_null = false;

	tidm_buf_puts(b, "CRC32(CONCAT_WS('#'");
	for (i = 0; i < t->ncols; i++) {
		tidm_buf_puts(b, ", ");
		vrender_col(b, &t->cols[i], d, t->plain_text[d->target]);
		any_null |= t->cols[i].nullable;
	}
	if (any_null) {
		bool first = true;
		tidm_buf_puts(b, ", CONCAT(");
		for (i = 0; i < t->ncols; i++) {
			if (!t->cols[i].nullable)
				continue;
			if (!first)
				tidm_buf_puts(b, ", ");
			first = false;
			tidm_buf_puts(b, "ISNULL(");
			tidm_quote_ident(b, t->cols[i].name);
			tidm_buf_putc(b, ')');
		}
		tidm_buf_putc(b, ')');
	}
	tidm_buf_puts(b, "))");
}

/* (k1,..,kn) > (v1,..,vn) (greater) or <= (v1,..,vn), written with OR/AND. */
static void put_key_cmp(tidm_buf *b, const vtable *t, const char *bound, bool greater)
{
	const char *starts[16];
	size_t lens[16], n, i, j;

	n = tidm_literal_split(bound, starts, lens, 16);
	if (n > t->nkey)
		n = t->nkey;
	tidm_buf_putc(b, '(');
	for (i = 0; i < n; i++) {
		if (i)
			tidm_buf_puts(b, " OR ");
		tidm_buf_putc(b, '(');
		for (j = 0; j < i; j++) {
			tidm_quote_ident(b, key_name(t, j));
			tidm_buf_puts(b, " = ");
			tidm_buf_put(b, starts[j], lens[j]);
			tidm_buf_puts(b, " AND ");
		}
		tidm_quote_ident(b, key_name(t, i));
		tidm_buf_puts(b, greater ? " > " : " < ");
		tidm_buf_put(b, starts[i], lens[i]);
		tidm_buf_putc(b, ')');
	}
	if (!greater) {
		tidm_buf_puts(b, " OR (");
		for (j = 0; j < n; j++) {
			if (j)
				tidm_buf_puts(b, " AND ");
			tidm_quote_ident(b, key_name(t, j));
			tidm_buf_puts(b, " = ");
			tidm_buf_put(b, starts[j], lens[j]);
		}
		tidm_buf_putc(b, ')');
	}
	tidm_buf_putc(b, ')');
}

void vrender_range(tidm_buf *b, const vtable *t, const char *lo, const char *hi)
{
	if (t->nkey == 0)
		return;
	if (t->nkey == 1) {
		/* one column: a plain range the optimizer cannot miss */
		if (lo) {
			tidm_quote_ident(b, key_name(t, 0));
			tidm_buf_puts(b, " > ");
			tidm_buf_puts(b, lo);
		}
		if (hi) {
			if (lo)
				tidm_buf_puts(b, " AND ");
			tidm_quote_ident(b, key_name(t, 0));
			tidm_buf_puts(b, " <= ");
			tidm_buf_puts(b, hi);
		}
		return;
	}
	if (lo)
		put_key_cmp(b, t, lo, true);
	if (hi) {
		if (lo)
			tidm_buf_puts(b, " AND ");
		put_key_cmp(b, t, hi, false);
	}
}

static void put_where_range(tidm_buf *b, const vtable *t, const char *lo, const char *hi)
{
	if (t->nkey && (lo || hi)) {
		tidm_buf_puts(b, " WHERE ");
		vrender_range(b, t, lo, hi);
	}
}

static void put_key_list(tidm_buf *b, const vtable *t)
{
	size_t i;
	for (i = 0; i < t->nkey; i++) {
		if (i)
			tidm_buf_puts(b, ", ");
		tidm_quote_ident(b, key_name(t, i));
	}
}

void vrender_chunk_sql(tidm_buf *b, const vtable *t, const vdialect *d, const char *lo, const char *hi)
{
	if (t->nkey) {
		/* a key range holds at most TIDM_VERIFY_CHUNK_ROWS_MAX rows: the sum of their CRCs
		 * stays below 2^53, exact in a DOUBLE whatever the order of the additions */
		tidm_buf_puts(b, "SELECT COUNT(*), CAST(COALESCE(SUM(");
		vrender_row_hash(b, t, d);
		tidm_buf_puts(b, " + 0e0), 0) AS DECIMAL(20, 0)) FROM ");
	} else {
		tidm_buf_puts(b, "SELECT COUNT(*), COALESCE(SUM(");
		vrender_row_hash(b, t, d);
		tidm_buf_puts(b, "), 0) FROM ");
	}
	tidm_quote_qualified(b, t->db, t->name);
	put_where_range(b, t, lo, hi);
}

/* The client-compared JSON columns, after the hash. */
static void put_json_client(tidm_buf *b, const vtable *t)
{
	size_t i;
	for (i = 0; t->njson_client && i < t->ncols; i++)
		if (t->cols[i].fam == VF_JSON_CLIENT) {
			tidm_buf_puts(b, ", ");
			tidm_quote_ident(b, t->cols[i].name);
		}
}

void vrender_rows_sql(tidm_buf *b, const vtable *t, const vdialect *d, const char *lo, const char *hi)
{
	tidm_buf_puts(b, "SELECT ");
	put_key_list(b, t);
	tidm_buf_puts(b, ", ");
	vrender_row_hash(b, t, d);
	put_json_client(b, t);
	tidm_buf_puts(b, " FROM ");
	tidm_quote_qualified(b, t->db, t->name);
	put_where_range(b, t, lo, hi);
}

/* WHERE k IN (..) for one key column, else (k1 = .. AND k2 = ..) OR ... */
static void put_where_keys(tidm_buf *b, const vtable *t, const char *keys, size_t n)
{
	const char *p = keys;
	size_t i, j;

	tidm_buf_puts(b, " WHERE ");
	if (t->nkey == 1) {
		tidm_quote_ident(b, key_name(t, 0));
		tidm_buf_puts(b, " IN (");
		for (i = 0; i < n; i++, p += strlen(p) + 1) {
			if (i)
				tidm_buf_puts(b, ", ");
			tidm_buf_puts(b, p);
		}
		tidm_buf_putc(b, ')');
		return;
	}
	for (i = 0; i < n; i++, p += strlen(p) + 1) {
		const char *starts[16];
		size_t lens[16], m = tidm_literal_split(p, starts, lens, 16);
		if (i)
			tidm_buf_puts(b, " OR ");
		tidm_buf_putc(b, '(');
		for (j = 0; j < m && j < t->nkey; j++) {
			if (j)
				tidm_buf_puts(b, " AND ");
			tidm_quote_ident(b, key_name(t, j));
			tidm_buf_puts(b, " = ");
			tidm_buf_put(b, starts[j], lens[j]);
		}
		tidm_buf_putc(b, ')');
	}
}

void vrender_lookup_sql(tidm_buf *b, const vtable *t, const vdialect *d, const char *keys, size_t n)
{
	tidm_buf_puts(b, "SELECT ");
	put_key_list(b, t);
	tidm_buf_puts(b, ", ");
	vrender_row_hash(b, t, d);
	put_json_client(b, t);
	tidm_buf_puts(b, " FROM ");
	tidm_quote_qualified(b, t->db, t->name);
	put_where_keys(b, t, keys, n);
}

static void put_all_cols(tidm_buf *b, const vtable *t)
{
	size_t i;
	for (i = 0; i < t->ncols; i++) {
		if (i)
			tidm_buf_puts(b, ", ");
		tidm_quote_ident(b, t->cols[i].name);
	}
}

void vrender_fetch_sql(tidm_buf *b, const vtable *t, const char *keys, size_t n)
{
	tidm_buf_puts(b, "SELECT ");
	put_all_cols(b, t);
	tidm_buf_puts(b, " FROM ");
	tidm_quote_qualified(b, t->db, t->name);
	put_where_keys(b, t, keys, n);
}

void vrender_mid_sql(tidm_buf *b, const vtable *t, const char *lo, const char *hi, uint64_t offset)
{
	tidm_buf_puts(b, "SELECT ");
	put_key_list(b, t);
	tidm_buf_puts(b, " FROM ");
	tidm_quote_qualified(b, t->db, t->name);
	put_where_range(b, t, lo, hi);
	tidm_buf_puts(b, " ORDER BY ");
	put_key_list(b, t);
	tidm_buf_printf(b, " LIMIT 1 OFFSET %" PRIu64, offset);
}

void vrender_multiset_sql(tidm_buf *b, const vtable *t, const vdialect *d, const uint32_t *hashes, size_t n)
{
	size_t i;

	tidm_buf_puts(b, "SELECT ");
	vrender_row_hash(b, t, d);
	tidm_buf_puts(b, ", COUNT(*) FROM ");
	tidm_quote_qualified(b, t->db, t->name);
	if (n) {
		tidm_buf_puts(b, " WHERE ");
		vrender_row_hash(b, t, d);
		tidm_buf_puts(b, " IN (");
		for (i = 0; i < n; i++)
			tidm_buf_printf(b, "%s%" PRIu32, i ? ", " : "", hashes[i]);
		tidm_buf_putc(b, ')');
	}
	tidm_buf_puts(b, " GROUP BY 1");
}

void vrender_fetch_hash_sql(tidm_buf *b, const vtable *t, const vdialect *d, uint32_t hash, uint64_t limit)
{
	tidm_buf_puts(b, "SELECT ");
	put_all_cols(b, t);
	tidm_buf_puts(b, " FROM ");
	tidm_quote_qualified(b, t->db, t->name);
	tidm_buf_puts(b, " WHERE ");
	vrender_row_hash(b, t, d);
	tidm_buf_printf(b, " = %" PRIu32 " LIMIT %" PRIu64, hash, limit);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void vrender_key_text(tidm_buf *b, const vtable *t, const char *key)
{
	const char *starts[16];
	size_t lens[16], n = tidm_literal_split(key, starts, lens, 16), i;

	for (i = 0; i < n && i < t->nkey; i++) {
		const char *s = starts[i];
		size_t len = lens[i];
		if (i)
			tidm_buf_puts(b, ", ");
		tidm_quote_ident(b, key_name(t, i));
		tidm_buf_putc(b, '=');
		if (len > 12 && !strncmp(s, "_utf8mb4 X'", 11)) {
			/* text: shown as a quoted string */
			tidm_buf hex = TIDM_BUF_INIT;
			size_t k;
			for (k = 11; k + 1 < len - 1; k += 2) {
				int hi = hexval(s[k]), lo = hexval(s[k + 1]);
				if (hi < 0 || lo < 0)
					break;
				tidm_buf_putc(&hex, (char)(hi * 16 + lo));
			}
			tidm_quote_string(b, hex.data ? hex.data : "", hex.len);
			tidm_buf_dispose(&hex);
		} else {
			tidm_buf_put(b, s, len);
		}
	}
}

/* Integral reals (within 2^53) become integers, recursively: servers print 1 and 1.0. */
static json_t *canon_numbers(json_t *v)
{
	if (json_is_real(v)) {
		double x = json_real_value(v);
		if (isfinite(x) && x == floor(x) && fabs(x) < 9007199254740992.0) {
			json_t *i = json_integer((json_int_t)x);
			json_decref(v);
			return i;
		}
		return v;
	}
	if (json_is_array(v)) {
		size_t i;
		for (i = 0; i < json_array_size(v); i++)
			json_array_set_new(v, i, canon_numbers(json_incref(json_array_get(v, i))));
	} else if (json_is_object(v)) {
		const char *k;
		json_t *x;
		void *tmp;
		json_object_foreach_safe(v, tmp, k, x) json_object_set_new(v, k, canon_numbers(json_incref(x)));
	}
	return v;
}

void vjson_canon(tidm_buf *out, const char *text, size_t n)
{
	json_error_t e;
	json_t *v = json_loadb(text, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	char *s;

	if (!v) {
		tidm_buf_put(out, text, n);
		return;
	}
	v = canon_numbers(v);
	s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	if (s)
		tidm_buf_puts(out, s);
	else
		tidm_buf_put(out, text, n);
	free(s);
	json_decref(v);
}
