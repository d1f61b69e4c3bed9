/*
 * json.c - MySQL binary JSON to MySQL's JSON text, and PARTIAL_UPDATE_ROWS diffs.
 *
 * Design: one code path for both entry points. The binary document is parsed into a small
 * DOM (jnode) allocated from a per-call arena; strings, keys and opaque payloads point into
 * the caller's bytes, nothing is copied. tidm_binlog_json_to_text() prints the DOM;
 * tidm_binlog_json_apply_diffs() parses the before image, applies each diff to the DOM
 * (MySQL's apply_json_diffs semantics, see json.h) and prints the result. The arena is
 * freed before returning.
 *
 * Safety against hostile bytes (binlogs are untrusted input, and this code is fuzzed):
 * - every offset/length is checked against the enclosing container's declared size, which
 *   is itself checked against the bytes available;
 * - an element count is checked against the container size before anything is allocated
 *   (a count can never exceed size / entry size);
 * - recursion depth is capped at TIDM_BINLOG_JSON_MAX_DEPTH (parse and print);
 * - value entries may point at the same bytes (MySQL never writes that): each document
 *   has a budget of n nodes and n string/opaque payload bytes, so a small input cannot
 *   expand into a huge DOM or output (a "billion laughs" of shared sub-containers).
 *
 * Output format (MySQL's Json_wrapper::to_string, sql-common/json_dom.cc):
 * `{"k": v, "k2": v2}`, `[a, b]`; strings escape `"` `\` and bytes <= 0x1f (\b \t \n \f \r,
 * else \u00xx lowercase), other bytes verbatim; doubles via my_gcvt rules (see
 * put_double); DECIMAL unquoted; DATE "YYYY-MM-DD", DATETIME/TIMESTAMP with 6 fraction
 * digits, TIME "[-]HH:MM:SS.ffffff"; opaque VAR_STRING as a plain string; other opaque as
 * "base64:typeNN:<base64 with a newline every 76 chars, escaped as \n>".
 */
#include "binlog/json.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog/decimal.h"
#include "util/err.h"

/* Binary type bytes (binlog-protocol.md section 5). */
enum {
	JB_SMALL_OBJECT = 0x00,
	JB_LARGE_OBJECT = 0x01,
	JB_SMALL_ARRAY = 0x02,
	JB_LARGE_ARRAY = 0x03,
	JB_LITERAL = 0x04,
	JB_INT16 = 0x05,
	JB_UINT16 = 0x06,
	JB_INT32 = 0x07,
	JB_UINT32 = 0x08,
	JB_INT64 = 0x09,
	JB_UINT64 = 0x0a,
	JB_DOUBLE = 0x0b,
	JB_STRING = 0x0c,
	JB_OPAQUE = 0x0f,
};

/* MySQL field types that have a text form inside JSON. */
enum {
	FT_TIMESTAMP = 7,
	FT_DATE = 10,
	FT_TIME = 11,
	FT_DATETIME = 12,
	FT_NEWDECIMAL = 246,
	FT_VAR_STRING = 253,
};

enum jkind { JK_NULL, JK_TRUE, JK_FALSE, JK_INT, JK_UINT, JK_DOUBLE, JK_STRING, JK_OPAQUE, JK_OBJECT, JK_ARRAY };

typedef struct jnode jnode;

/* A container slot: key is used by objects only. */
typedef struct jmember {
	const uint8_t *key;
	size_t klen;
	jnode *val;
} jmember;

struct jnode {
	uint8_t kind;  /* enum jkind */
	uint8_t ftype; /* JK_OPAQUE: MySQL field type */
	union {
		int64_t i;
		uint64_t u;
		double d;
		struct {
			const uint8_t *p;
			size_t n;
		} s;
		struct {
			jmember *m;
			size_t n, cap;
		} c;
	} v;
};

/* ---- arena ---- */

typedef struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	max_align_t data[];
} arena_block;

typedef struct arena {
	arena_block *head;
} arena;

/* Allocate n bytes (max_align_t aligned) from the arena; aborts on out of memory. */
static void *arena_alloc(arena *a, size_t n)
{
	arena_block *b = a->head;
	size_t need = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	void *p;

	if (need < n)
		abort();
	if (!b || b->cap - b->used < need) {
		size_t cap = need > 16384 ? need : 16384;
		b = malloc(sizeof(*b) + cap);
		if (!b) {
			fputs("tidm: out of memory\n", stderr);
			abort();
		}
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += need;
	return p;
}

static void arena_free(arena *a)
{
	while (a->head) {
		arena_block *next = a->head->next;
		free(a->head);
		a->head = next;
	}
}

/* ---- parsing the binary form ---- */

typedef struct jctx {
	arena *a;
	const uint8_t *base; /* start of the document, for offsets in messages */
	const char *what;    /* "document", "diff 3 value", ... */
	size_t nodes_left;
	size_t bytes_left;
} jctx;

static int corrupt(const jctx *cx, const uint8_t *at, const char *why)
{
	return tidm_err_set(TIDM_ECORRUPT, "JSON %s: %s at offset %zu", cx->what, why,
			    (size_t)(at - cx->base));
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static jnode *new_node(jctx *cx, enum jkind kind)
{
	jnode *nd = arena_alloc(cx->a, sizeof(*nd));

	memset(nd, 0, sizeof(*nd));
	nd->kind = (uint8_t)kind;
	return nd;
}

/*
 * Read MySQL's variable-length data length (7 bits per byte, low first, at most 5 bytes,
 * value <= UINT32_MAX). Returns bytes used, 0 when malformed or truncated.
 */
static size_t read_varlen(const uint8_t *p, size_t n, size_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 5 && i < n; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (v > UINT32_MAX)
				return 0;
			*out = (size_t)v;
			return i + 1;
		}
	}
	return 0;
}

static int parse_value(jctx *cx, uint8_t type, const uint8_t *p, size_t n, unsigned depth, jnode **out);

/* A string or opaque payload: [u8 field type,] varlen length, bytes. */
static int parse_data(jctx *cx, uint8_t type, const uint8_t *p, size_t n, jnode *nd)
{
	size_t pos = 0, len = 0, used;

	if (type == JB_OPAQUE) {
		if (n < 1)
			return corrupt(cx, p, "truncated opaque value");
		nd->ftype = p[0];
		pos = 1;
	}
	used = read_varlen(p + pos, n - pos, &len);
	if (used == 0)
		return corrupt(cx, p + pos, "bad data length");
	pos += used;
	if (len > n - pos)
		return corrupt(cx, p, "data length past the end of its container");
	if (len > cx->bytes_left)
		return corrupt(cx, p, "values overlap (more payload bytes than the document has)");
	cx->bytes_left -= len;
	nd->v.s.p = p + pos;
	nd->v.s.n = len;
	return 0;
}

/*
 * An object or array whose header starts at p; n bytes are readable from p (the rest of
 * the enclosing container or document). Layout: count, size, [key entries], value
 * entries, keys, values; offsets are relative to p.
 */
static int parse_container(jctx *cx, bool large, bool object, const uint8_t *p, size_t n,
			   unsigned depth, jnode *nd)
{
	size_t osz = large ? 4 : 2;
	size_t kentry = osz + 2, ventry = 1 + osz;
	size_t count, size, hdr, i;
	int rc;

	if (depth >= TIDM_BINLOG_JSON_MAX_DEPTH)
		return corrupt(cx, p, "nesting deeper than 100");
	if (n < 2 * osz)
		return corrupt(cx, p, "truncated container header");
	count = large ? rd32(p) : rd16(p);
	size = large ? rd32(p + osz) : rd16(p + osz);
	if (size > n)
		return corrupt(cx, p, "container size past the end of the data");
	if (size < 2 * osz)
		return corrupt(cx, p, "container size smaller than its header");
	/* count is bounded by the size before anything is sized from it */
	if (count > (size - 2 * osz) / (ventry + (object ? kentry : 0)))
		return corrupt(cx, p, "element count does not fit the container size");
	hdr = 2 * osz + count * (ventry + (object ? kentry : 0));

	nd->v.c.n = count;
	nd->v.c.cap = count;
	nd->v.c.m = count ? arena_alloc(cx->a, count * sizeof(jmember)) : NULL;
	for (i = 0; i < count; i++) {
		jmember *m = &nd->v.c.m[i];
		const uint8_t *ve = p + 2 * osz + (object ? count * kentry : 0) + i * ventry;
		uint8_t vtype = ve[0];
		const uint8_t *vfield = ve + 1;

		m->key = NULL;
		m->klen = 0;
		if (object) {
			const uint8_t *ke = p + 2 * osz + i * kentry;
			size_t koff = large ? rd32(ke) : rd16(ke);
			size_t klen = rd16(ke + osz);
			if (koff < hdr || koff > size || klen > size - koff)
				return corrupt(cx, ke, "key outside its object");
			m->key = p + koff;
			m->klen = klen;
		}
		/* Inlined values live in the entry itself. */
		if (vtype == JB_LITERAL || vtype == JB_INT16 || vtype == JB_UINT16 ||
		    (large && (vtype == JB_INT32 || vtype == JB_UINT32))) {
			rc = parse_value(cx, vtype, vfield, osz, depth + 1, &m->val);
		} else {
			size_t voff = large ? rd32(vfield) : rd16(vfield);
			if (voff < hdr || voff >= size)
				return corrupt(cx, vfield, "value offset outside its container");
			rc = parse_value(cx, vtype, p + voff, size - voff, depth + 1, &m->val);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One value of binary type `type` whose bytes start at p (n readable). */
static int parse_value(jctx *cx, uint8_t type, const uint8_t *p, size_t n, unsigned depth, jnode **out)
{
	jnode *nd;

	if (cx->nodes_left == 0)
		return corrupt(cx, p, "values overlap (more values than the document has bytes)");
	cx->nodes_left--;
	nd = new_node(cx, JK_NULL);
	*out = nd;
	switch (type) {
	case JB_SMALL_OBJECT:
	case JB_LARGE_OBJECT:
		nd->kind = JK_OBJECT;
		return parse_container(cx, type == JB_LARGE_OBJECT, true, p, n, depth, nd);
	case JB_SMALL_ARRAY:
	case JB_LARGE_ARRAY:
		nd->kind = JK_ARRAY;
		return parse_container(cx, type == JB_LARGE_ARRAY, false, p, n, depth, nd);
	case JB_LITERAL:
		if (n < 1)
			return corrupt(cx, p, "truncated literal");
		if (p[0] > 2)
			return corrupt(cx, p, "unknown literal");
		nd->kind = p[0] == 0 ? JK_NULL : p[0] == 1 ? JK_TRUE : JK_FALSE;
		return 0;
	case JB_INT16:
	case JB_UINT16:
		if (n < 2)
			return corrupt(cx, p, "truncated int16");
		if (type == JB_INT16) {
			nd->kind = JK_INT;
			nd->v.i = (int16_t)rd16(p);
		} else {
			nd->kind = JK_UINT;
			nd->v.u = rd16(p);
		}
		return 0;
	case JB_INT32:
	case JB_UINT32:
		if (n < 4)
			return corrupt(cx, p, "truncated int32");
		if (type == JB_INT32) {
			nd->kind = JK_INT;
			nd->v.i = (int32_t)rd32(p);
		} else {
			nd->kind = JK_UINT;
			nd->v.u = rd32(p);
		}
		return 0;
	case JB_INT64:
	case JB_UINT64:
	case JB_DOUBLE:
		if (n < 8)
			return corrupt(cx, p, "truncated 8-byte number");
		if (type == JB_INT64) {
			nd->kind = JK_INT;
			nd->v.i = (int64_t)rd64(p);
		} else if (type == JB_UINT64) {
			nd->kind = JK_UINT;
			nd->v.u = rd64(p);
		} else {
			uint64_t bits = rd64(p);
			nd->kind = JK_DOUBLE;
			memcpy(&nd->v.d, &bits, sizeof(bits));
		}
		return 0;
	case JB_STRING:
		nd->kind = JK_STRING;
		return parse_data(cx, type, p, n, nd);
	case JB_OPAQUE:
		nd->kind = JK_OPAQUE;
		return parse_data(cx, type, p, n, nd);
	default: {
		char why[48];
		snprintf(why, sizeof(why), "unknown value type 0x%02x", type);
		return corrupt(cx, p, why);
	}
	}
}

/* Parse a whole binary document (type byte + value); n == 0 is the null literal. */
static int parse_document(arena *a, const char *what, const uint8_t *p, size_t n, jnode **out)
{
	jctx cx = {a, p, what, n, n};

	if (n == 0) {
		*out = new_node(&cx, JK_NULL);
		return 0;
	}
	if (n < 2)
		return tidm_err_set(TIDM_ECORRUPT, "JSON %s: truncated at offset 1", what);
	return parse_value(&cx, p[0], p + 1, n - 1, 0, out);
}

/* ---- printing ---- */

/* Append data as a JSON string literal, escaped the way MySQL's double_quote() does. */
static void put_quoted(tidm_buf *out, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run;

	tidm_buf_reserve(out, n + 2);
	tidm_buf_putc(out, '"');
	while (i < n) {
		for (run = i; run < n && s[run] > 0x1f && s[run] != '"' && s[run] != '\\'; run++)
			;
		tidm_buf_put(out, s + i, run - i);
		if (run == n)
			break;
		tidm_buf_putc(out, '\\');
		switch (s[run]) {
		case '\b':
			tidm_buf_putc(out, 'b');
			break;
		case '\t':
			tidm_buf_putc(out, 't');
			break;
		case '\n':
			tidm_buf_putc(out, 'n');
			break;
		case '\f':
			tidm_buf_putc(out, 'f');
			break;
		case '\r':
			tidm_buf_putc(out, 'r');
			break;
		case '"':
		case '\\':
			tidm_buf_putc(out, (char)s[run]);
			break;
		default:
			tidm_buf_puts(out, "u00");
			tidm_buf_putc(out, hex[s[run] >> 4]);
			tidm_buf_putc(out, hex[s[run] & 15]);
			break;
		}
		i = run + 1;
	}
	tidm_buf_putc(out, '"');
}

/*
 * A double as MySQL's JSON text prints it (my_gcvt(MY_GCVT_ARG_DOUBLE) + ".0"):
 * the shortest digit string that reads back as the same double; with decpt the decimal
 * point position (value = 0.DIGITS x 10^decpt) and nd the digit count, fixed notation iff
 * -14 <= decpt && (decpt <= 15 || nd > decpt), else d[.ddd]e[-]X with no '+' and no
 * padding; fixed values without a fraction get ".0". NaN/Inf cannot be stored in MySQL
 * JSON; they print as null.
 */
static void put_double(tidm_buf *out, double d)
{
	char e[40], digits[24];
	int prec, exp10, decpt, nd = 0, i;
	const char *q;

	if (!isfinite(d)) {
		tidm_buf_puts(out, "null");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, d);
		if (strtod(e, NULL) == d)
			break;
	}
	q = e;
	if (*q == '-') {
		tidm_buf_putc(out, '-');
		q++;
	}
	for (; *q && *q != 'e'; q++)
		if (*q >= '0' && *q <= '9' && nd < (int)sizeof(digits) - 1)
			digits[nd++] = *q;
	digits[nd] = '\0';
	exp10 = *q == 'e' ? atoi(q + 1) : 0;
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	decpt = d == 0 ? 1 : exp10 + 1;

	if (decpt >= -14 && (decpt <= 15 || nd > decpt)) {
		if (decpt <= 0) {
			tidm_buf_puts(out, "0.");
			for (i = 0; i < -decpt; i++)
				tidm_buf_putc(out, '0');
			tidm_buf_put(out, digits, (size_t)nd);
		} else if (decpt >= nd) {
			tidm_buf_put(out, digits, (size_t)nd);
			for (i = nd; i < decpt; i++)
				tidm_buf_putc(out, '0');
			tidm_buf_puts(out, ".0");
		} else {
			tidm_buf_put(out, digits, (size_t)decpt);
			tidm_buf_putc(out, '.');
			tidm_buf_put(out, digits + decpt, (size_t)(nd - decpt));
		}
	} else {
		tidm_buf_putc(out, digits[0]);
		if (nd > 1) {
			tidm_buf_putc(out, '.');
			tidm_buf_put(out, digits + 1, (size_t)(nd - 1));
		}
		tidm_buf_printf(out, "e%d", decpt - 1);
	}
}

/* MySQL base64 (mysys/base64.cc): standard alphabet, '=' padding, '\n' every 76 chars. */
static void put_base64(tidm_buf *b64, const uint8_t *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i = 0, line = 0;

	while (i < n) {
		uint32_t c;
		if (line == 76) {
			tidm_buf_putc(b64, '\n');
			line = 0;
		}
		c = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			c |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			c |= s[i + 2];
		tidm_buf_putc(b64, tab[(c >> 18) & 63]);
		tidm_buf_putc(b64, tab[(c >> 12) & 63]);
		tidm_buf_putc(b64, i + 1 < n ? tab[(c >> 6) & 63] : '=');
		tidm_buf_putc(b64, i + 2 < n ? tab[c & 63] : '=');
		i += 3;
		line += 4;
	}
}

/* Opaque temporal: 8-byte packed value (json_binary / my_time.cc TIME_from_longlong_*). */
static int put_temporal(tidm_buf *out, const jnode *nd)
{
	int64_t v;
	uint64_t t;
	bool neg;
	unsigned long us;

	if (nd->v.s.n != 8)
		return tidm_err_set(TIDM_ECORRUPT, "JSON: opaque type %u needs 8 bytes, has %zu",
				    nd->ftype, nd->v.s.n);
	v = (int64_t)rd64(nd->v.s.p);
	neg = v < 0;
	t = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	us = (unsigned long)(t % (1u << 24));
	if (us > 999999)
		return tidm_err_set(TIDM_ECORRUPT, "JSON: temporal fraction %lu out of range", us);
	if (nd->ftype == FT_TIME) {
		uint64_t hms = t >> 24;
		tidm_buf_printf(out, "\"%s%02u:%02u:%02u.%06lu\"", neg ? "-" : "",
				(unsigned)((hms >> 12) % (1u << 10)), (unsigned)((hms >> 6) % 64),
				(unsigned)(hms % 64), us);
	} else {
		uint64_t ymdhms = t >> 24, ymd = ymdhms >> 17, ym = ymd >> 5, hms = ymdhms % (1u << 17);
		unsigned year = (unsigned)((ym / 13) % 100000), month = (unsigned)(ym % 13),
			 day = (unsigned)(ymd % 32);
		if (nd->ftype == FT_DATE)
			tidm_buf_printf(out, "\"%04u-%02u-%02u\"", year, month, day);
		else
			tidm_buf_printf(out, "\"%04u-%02u-%02u %02u:%02u:%02u.%06lu\"", year, month,
					day, (unsigned)(hms >> 12), (unsigned)((hms >> 6) % 64),
					(unsigned)(hms % 64), us);
	}
	return 0;
}

static int put_opaque(tidm_buf *out, const jnode *nd)
{
	switch (nd->ftype) {
	case FT_NEWDECIMAL: {
		size_t used = 0;
		int rc;
		if (nd->v.s.n < 2)
			return tidm_err_set(TIDM_ECORRUPT, "JSON: opaque DECIMAL of %zu bytes",
					    nd->v.s.n);
		rc = tidm_binlog_decimal_to_text(out, nd->v.s.p + 2, nd->v.s.n - 2, nd->v.s.p[0],
						 nd->v.s.p[1], &used);
		if (rc < 0)
			return rc;
		if (used != nd->v.s.n - 2)
			return tidm_err_set(TIDM_ECORRUPT,
					    "JSON: opaque DECIMAL(%u,%u) has %zu bytes, needs %zu",
					    nd->v.s.p[0], nd->v.s.p[1], nd->v.s.n - 2, used);
		return 0;
	}
	case FT_DATE:
	case FT_TIME:
	case FT_DATETIME:
	case FT_TIMESTAMP:
		return put_temporal(out, nd);
	case FT_VAR_STRING:
		put_quoted(out, nd->v.s.p, nd->v.s.n);
		return 0;
	default: {
		tidm_buf b64 = TIDM_BUF_INIT;
		tidm_buf_printf(&b64, "base64:type%u:", nd->ftype);
		put_base64(&b64, nd->v.s.p, nd->v.s.n);
		put_quoted(out, (const uint8_t *)b64.data, b64.len);
		tidm_buf_dispose(&b64);
		return 0;
	}
	}
}

static int print_node(tidm_buf *out, const jnode *nd, unsigned depth)
{
	size_t i;
	int rc;

	switch (nd->kind) {
	case JK_NULL:
		tidm_buf_puts(out, "null");
		return 0;
	case JK_TRUE:
		tidm_buf_puts(out, "true");
		return 0;
	case JK_FALSE:
		tidm_buf_puts(out, "false");
		return 0;
	case JK_INT:
		tidm_buf_put_i64(out, nd->v.i);
		return 0;
	case JK_UINT:
		tidm_buf_put_u64(out, nd->v.u);
		return 0;
	case JK_DOUBLE:
		put_double(out, nd->v.d);
		return 0;
	case JK_STRING:
		put_quoted(out, nd->v.s.p, nd->v.s.n);
		return 0;
	case JK_OPAQUE:
		return put_opaque(out, nd);
	case JK_OBJECT:
	case JK_ARRAY:
		if (depth >= TIDM_BINLOG_JSON_MAX_DEPTH)
			return tidm_err_set(TIDM_ECORRUPT, "JSON: nesting deeper than %d",
					    TIDM_BINLOG_JSON_MAX_DEPTH);
		tidm_buf_putc(out, nd->kind == JK_OBJECT ? '{' : '[');
		for (i = 0; i < nd->v.c.n; i++) {
			const jmember *m = &nd->v.c.m[i];
			if (i > 0)
				tidm_buf_puts(out, ", ");
			if (nd->kind == JK_OBJECT) {
				put_quoted(out, m->key, m->klen);
				tidm_buf_puts(out, ": ");
			}
			rc = print_node(out, m->val, depth + 1);
			if (rc < 0)
				return rc;
		}
		tidm_buf_putc(out, nd->kind == JK_OBJECT ? '}' : ']');
		return 0;
	default:
		return tidm_err_set(TIDM_ECORRUPT, "JSON: internal node kind %u", nd->kind);
	}
}

int tidm_binlog_json_to_text(tidm_buf *out, const uint8_t *p, size_t n)
{
	arena a = {NULL};
	jnode *doc = NULL;
	int rc;

	rc = parse_document(&a, "document", p, n, &doc);
	if (rc == 0)
		rc = print_node(out, doc, 0);
	arena_free(&a);
	return rc;
}

/* ---- diffs ---- */

enum { DIFF_REPLACE = 0, DIFF_INSERT = 1, DIFF_REMOVE = 2 };

typedef struct jleg {
	bool member;
	const uint8_t *key; /* member: decoded name */
	size_t klen;
	size_t index; /* cell: [index] or [last-index] */
	bool from_end;
} jleg;

/* MySQL packed length (lenenc). Returns bytes used, 0 when malformed or truncated. */
static size_t read_lenenc(const uint8_t *p, size_t n, uint64_t *out)
{
	if (n < 1)
		return 0;
	if (p[0] < 0xfb) {
		*out = p[0];
		return 1;
	}
	if (p[0] == 0xfc && n >= 3) {
		*out = rd16(p + 1);
		return 3;
	}
	if (p[0] == 0xfd && n >= 4) {
		*out = (uint64_t)p[1] | (uint64_t)p[2] << 8 | (uint64_t)p[3] << 16;
		return 4;
	}
	if (p[0] == 0xfe && n >= 9) {
		*out = rd64(p + 1);
		return 9;
	}
	return 0;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Append code point cp as UTF-8 to dst (room for 4 bytes); returns bytes written. */
static size_t put_utf8(uint8_t *dst, uint32_t cp)
{
	if (cp < 0x80) {
		dst[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		dst[0] = (uint8_t)(0xc0 | cp >> 6);
		dst[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		dst[0] = (uint8_t)(0xe0 | cp >> 12);
		dst[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		dst[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	dst[0] = (uint8_t)(0xf0 | cp >> 18);
	dst[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	dst[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	dst[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* Read 4 hex digits at s[*i..]; -1 when not there. */
static long read_hex4(const uint8_t *s, size_t n, size_t i)
{
	long v = 0;
	size_t k;

	if (n - i < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		int h = hexval(s[i + k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/*
 * Decode the JSON string literal starting at s[*i] == '"' into arena memory; *i moves past
 * the closing quote. Returns 0 or -1 when malformed.
 */
static int read_quoted(arena *a, const uint8_t *s, size_t n, size_t *i, const uint8_t **key,
		       size_t *klen)
{
	uint8_t *dst;
	size_t o = 0, k = *i + 1, end = k;

	/* Size the copy from this literal only: decoded text is never longer than its input. */
	while (end < n && s[end] != '"')
		end += s[end] == '\\' ? 2 : 1;
	dst = arena_alloc(a, end - k + 1);

	while (k < n && s[k] != '"') {
		if (s[k] != '\\') {
			dst[o++] = s[k++];
			continue;
		}
		if (++k >= n)
			return -1;
		switch (s[k]) {
		case '"':
		case '\\':
		case '/':
			dst[o++] = s[k++];
			break;
		case 'b':
			dst[o++] = '\b';
			k++;
			break;
		case 'f':
			dst[o++] = '\f';
			k++;
			break;
		case 'n':
			dst[o++] = '\n';
			k++;
			break;
		case 'r':
			dst[o++] = '\r';
			k++;
			break;
		case 't':
			dst[o++] = '\t';
			k++;
			break;
		case 'u': {
			long cp = read_hex4(s, n, k + 1), lo;
			if (cp < 0)
				return -1;
			k += 5;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (n - k < 6 || s[k] != '\\' || s[k + 1] != 'u')
					return -1;
				lo = read_hex4(s, n, k + 2);
				if (lo < 0xdc00 || lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				k += 6;
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return -1;
			}
			/* \uXXXX takes 6 input bytes and at most 3 output bytes; a pair 12 -> 4 */
			o += put_utf8(dst + o, (uint32_t)cp);
			break;
		}
		default:
			return -1;
		}
	}
	if (k >= n)
		return -1;
	*key = dst;
	*klen = o;
	*i = k + 1;
	return 0;
}

static void skip_ws(const uint8_t *s, size_t n, size_t *i)
{
	while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r'))
		(*i)++;
}

/* Read a decimal array index; -1 when absent or too large. */
static int read_index(const uint8_t *s, size_t n, size_t *i, size_t *out)
{
	size_t v = 0, start = *i;

	while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
		if (v > (SIZE_MAX - 9) / 10)
			return -1;
		v = v * 10 + (size_t)(s[*i] - '0');
		(*i)++;
	}
	if (*i == start)
		return -1;
	*out = v;
	return 0;
}

/*
 * Parse a JSON path as MySQL writes it in a diff ($, .name, ."quoted name", [n],
 * [last], [last-n]); wildcards and ranges cannot appear in diffs and are refused.
 * Legs go to arena memory (at most one per path byte).
 */
static int parse_path(arena *a, const uint8_t *s, size_t n, jleg **legs, size_t *nlegs)
{
	size_t i = 0, cnt = 0;
	jleg *lg = arena_alloc(a, (n + 1) * sizeof(jleg));

	skip_ws(s, n, &i);
	if (i >= n || s[i] != '$')
		return -1;
	i++;
	for (;;) {
		jleg *l;
		skip_ws(s, n, &i);
		if (i >= n)
			break;
		l = &lg[cnt];
		memset(l, 0, sizeof(*l));
		if (s[i] == '.') {
			i++;
			skip_ws(s, n, &i);
			if (i >= n)
				return -1;
			l->member = true;
			if (s[i] == '"') {
				if (read_quoted(a, s, n, &i, &l->key, &l->klen) < 0)
					return -1;
			} else {
				size_t st = i;
				while (i < n && s[i] != '.' && s[i] != '[' && s[i] != ' ' && s[i] != '\t' &&
				       s[i] != '\n' && s[i] != '\r' && s[i] != '*' && s[i] != '"')
					i++;
				if (i == st)
					return -1;
				l->key = s + st;
				l->klen = i - st;
			}
		} else if (s[i] == '[') {
			i++;
			skip_ws(s, n, &i);
			if (n - i >= 4 && memcmp(s + i, "last", 4) == 0) {
				i += 4;
				l->from_end = true;
				skip_ws(s, n, &i);
				if (i < n && s[i] == '-') {
					i++;
					skip_ws(s, n, &i);
					if (read_index(s, n, &i, &l->index) < 0)
						return -1;
				}
			} else if (read_index(s, n, &i, &l->index) < 0) {
				return -1;
			}
			skip_ws(s, n, &i);
			if (i >= n || s[i] != ']')
				return -1;
			i++;
		} else {
			return -1;
		}
		cnt++;
	}
	*legs = lg;
	*nlegs = cnt;
	return 0;
}

/* Json_array_index: the position a cell leg names in an array of `size` elements. */
static size_t leg_position(const jleg *l, size_t size, bool *within)
{
	*within = l->index < size;
	if (l->from_end)
		return l->index < size ? size - l->index - 1 : 0;
	return l->index < size ? l->index : size;
}

static size_t find_member(const jnode *obj, const uint8_t *key, size_t klen)
{
	size_t i;

	for (i = 0; i < obj->v.c.n; i++)
		if (obj->v.c.m[i].klen == klen && (klen == 0 || memcmp(obj->v.c.m[i].key, key, klen) == 0))
			return i;
	return obj->v.c.n;
}

/* Follow legs[0..nlegs) from *root; returns the slot holding the value, or NULL. */
static jnode **seek(jnode **root, const jleg *legs, size_t nlegs)
{
	jnode **slot = root;
	size_t k;

	for (k = 0; k < nlegs; k++) {
		jnode *cur = *slot;
		const jleg *l = &legs[k];
		size_t pos;
		bool within;

		if (l->member) {
			if (cur->kind != JK_OBJECT)
				return NULL;
			pos = find_member(cur, l->key, l->klen);
			if (pos == cur->v.c.n)
				return NULL;
		} else {
			if (cur->kind != JK_ARRAY)
				return NULL;
			pos = leg_position(l, cur->v.c.n, &within);
			if (!within)
				return NULL;
		}
		slot = &cur->v.c.m[pos].val;
	}
	return slot;
}

/* Make room for one more slot at index pos (arena-grown). */
static jmember *insert_slot(arena *a, jnode *c, size_t pos)
{
	if (c->v.c.n == c->v.c.cap) {
		size_t cap = c->v.c.cap ? c->v.c.cap * 2 : 4;
		jmember *m = arena_alloc(a, cap * sizeof(jmember));
		if (c->v.c.n)
			memcpy(m, c->v.c.m, c->v.c.n * sizeof(jmember));
		c->v.c.m = m;
		c->v.c.cap = cap;
	}
	memmove(&c->v.c.m[pos + 1], &c->v.c.m[pos], (c->v.c.n - pos) * sizeof(jmember));
	c->v.c.n++;
	return &c->v.c.m[pos];
}

/* json_key_less: shorter keys first, then bytes. */
static bool key_less(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return alen < blen;
	return alen > 0 && memcmp(a, b, alen) < 0;
}

static int apply_one(arena *a, jnode **doc, unsigned idx, uint8_t op, const jleg *legs,
		     size_t nlegs, jnode *val)
{
	static const char *const names[] = {"REPLACE", "INSERT", "REMOVE"};
	jnode **slot, *parent;
	const jleg *last;
	size_t pos;
	bool within;

	if (nlegs == 0) {
		if (op != DIFF_REPLACE)
			return tidm_err_set(TIDM_ECORRUPT, "JSON diff %u: %s of the root document", idx,
					    names[op]);
		*doc = val;
		return 0;
	}
	if (op == DIFF_REPLACE) {
		slot = seek(doc, legs, nlegs);
		if (!slot)
			return tidm_err_set(TIDM_ECORRUPT, "JSON diff %u: REPLACE path not found", idx);
		*slot = val;
		return 0;
	}
	slot = seek(doc, legs, nlegs - 1);
	if (!slot)
		return tidm_err_set(TIDM_ECORRUPT, "JSON diff %u: %s parent path not found", idx,
				    names[op]);
	parent = *slot;
	last = &legs[nlegs - 1];
	if (parent->kind == JK_OBJECT && last->member) {
		pos = find_member(parent, last->key, last->klen);
		if (op == DIFF_INSERT) {
			jmember *m;
			if (pos < parent->v.c.n) {
				parent->v.c.m[pos].val = val;
				return 0;
			}
			for (pos = 0; pos < parent->v.c.n; pos++)
				if (key_less(last->key, last->klen, parent->v.c.m[pos].key,
					     parent->v.c.m[pos].klen))
					break;
			m = insert_slot(a, parent, pos);
			m->key = last->key;
			m->klen = last->klen;
			m->val = val;
			return 0;
		}
		if (pos == parent->v.c.n)
			return tidm_err_set(TIDM_ECORRUPT, "JSON diff %u: REMOVE of a missing member",
					    idx);
		memmove(&parent->v.c.m[pos], &parent->v.c.m[pos + 1],
			(parent->v.c.n - pos - 1) * sizeof(jmember));
		parent->v.c.n--;
		return 0;
	}
	if (parent->kind == JK_ARRAY && !last->member) {
		pos = leg_position(last, parent->v.c.n, &within);
		if (op == DIFF_INSERT) {
			jmember *m = insert_slot(a, parent, pos);
			m->key = NULL;
			m->klen = 0;
			m->val = val;
			return 0;
		}
		if (!within)
			return tidm_err_set(TIDM_ECORRUPT, "JSON diff %u: REMOVE of a missing element",
					    idx);
		memmove(&parent->v.c.m[pos], &parent->v.c.m[pos + 1],
			(parent->v.c.n - pos - 1) * sizeof(jmember));
		parent->v.c.n--;
		return 0;
	}
	return tidm_err_set(TIDM_ECORRUPT, "JSON diff %u: %s path does not match the document", idx,
			    names[op]);
}

int tidm_binlog_json_apply_diffs(tidm_buf *out_text, const uint8_t *before, size_t before_len,
				 const uint8_t *diffs, size_t diffs_len)
{
	arena a = {NULL};
	jnode *doc = NULL;
	size_t pos = 0;
	unsigned idx = 0;
	int rc;

	if (before_len > 0 && before == NULL)
		return tidm_err_set(TIDM_ECORRUPT, "JSON diff: no before image");
	rc = parse_document(&a, "before image", before, before_len, &doc);
	while (rc == 0 && pos < diffs_len) {
		uint8_t op = diffs[pos];
		uint64_t plen = 0, vlen = 0;
		size_t used, nlegs = 0;
		const uint8_t *path;
		jleg *legs = NULL;
		jnode *val = NULL;
		char what[40];

		if (op > DIFF_REMOVE) {
			rc = tidm_err_set(TIDM_ECORRUPT, "JSON diff %u: unknown operation %u at offset %zu",
					  idx, op, pos);
			break;
		}
		pos++;
		used = read_lenenc(diffs + pos, diffs_len - pos, &plen);
		if (used == 0 || plen > diffs_len - pos - used) {
			rc = tidm_err_set(TIDM_ECORRUPT, "JSON diff %u: bad path length at offset %zu", idx,
					  pos);
			break;
		}
		pos += used;
		path = diffs + pos;
		pos += (size_t)plen;
		if (parse_path(&a, path, (size_t)plen, &legs, &nlegs) < 0) {
			rc = tidm_err_set(TIDM_ECORRUPT, "JSON diff %u: bad path \"%.*s\"", idx,
					  (int)(plen > 200 ? 200 : plen), (const char *)path);
			break;
		}
		if (op != DIFF_REMOVE) {
			used = read_lenenc(diffs + pos, diffs_len - pos, &vlen);
			if (used == 0 || vlen > diffs_len - pos - used) {
				rc = tidm_err_set(TIDM_ECORRUPT,
						  "JSON diff %u: bad value length at offset %zu", idx, pos);
				break;
			}
			pos += used;
			snprintf(what, sizeof(what), "diff %u value", idx);
			rc = parse_document(&a, what, diffs + pos, (size_t)vlen, &val);
			if (rc < 0)
				break;
			pos += (size_t)vlen;
		}
		rc = apply_one(&a, &doc, idx, op, legs, nlegs, val);
		idx++;
	}
	if (rc == 0)
		rc = print_node(out_text, doc, 0);
	arena_free(&a);
	return rc;
}
