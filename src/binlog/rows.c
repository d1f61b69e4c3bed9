/*
 * rows.c - rows events: framing (table id, flags, v2 extra data, column bitmaps) and the row
 * iterator that decodes row images into typed values.
 *
 * Design: tidm_binlog_rows_frame() runs inside tidm_binlog_decoder_decode() and only locates
 * the parts of the event; no value is touched. tidm_binlog_rows_next() decodes one row (one
 * image, or before+after for UPDATE) into the decoder's value array, which is sized once per
 * table width and reused: decoding allocates nothing. Scalars are converted in place; byte
 * values point into the event; DECIMAL and binary JSON keep their raw bytes and are turned
 * into text only by the formatting helpers (value.c). The only per-row work that produces new
 * bytes is PARTIAL_UPDATE_ROWS (JSON diffs applied to the before image), written to the
 * decoder's json_text buffer, cleared at each row.
 *
 * Every read is bounds-checked against the end of the event; errors name the row, column and
 * type (binlog-protocol.md sections 3.7, 3.8, 4).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "binlog/cursor.h"
#include "binlog/decimal.h"
#include "binlog/decoder_int.h"
#include "binlog/json.h"
#include "util/err.h"

/* Set bits among the first n bits of bm (table lookup: no popcnt instruction assumed). */
static unsigned popcount_bits(const uint8_t *bm, unsigned n)
{
	static const uint8_t pc[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
	unsigned c = 0;
	for (unsigned i = 0; i < n / 8; i++)
		c += pc[bm[i] & 15] + pc[bm[i] >> 4];
	if (n % 8) {
		uint8_t last = (uint8_t)(bm[n / 8] & ((1u << (n % 8)) - 1));
		c += pc[last & 15] + pc[last >> 4];
	}
	return c;
}

/* v2 extra row info items (binlog-protocol.md 3.7): 0 NDB (u8 length incl. its 2-byte
 * header, u8 format, data), 1 PARTITION (u16 id, + u16 source id for updates). */
static int extra_parse(tidm_binlog_rows *r)
{
	tidm_binlog_cursor c;
	uint8_t type, len;
	tidm_binlog_cursor_init(&c, r->extra, r->extra_len);
	while (tidm_binlog_cursor_u8(&c, &type)) {
		if (type == 0) {
			if (!tidm_binlog_cursor_u8(&c, &len) || len < 2)
				return -1;
			c.p--; /* keep the header in ndb_info */
			if (!tidm_binlog_cursor_bytes(&c, len, &r->ndb_info))
				return -1;
			r->ndb_info_len = len;
		} else if (type == 1) {
			if (!tidm_binlog_cursor_u16(&c, &r->partition_id))
				return -1;
			if (r->kind == TIDM_ROWS_UPDATE && !tidm_binlog_cursor_u16(&c, &r->source_partition_id))
				return -1;
			r->has_partition = true;
		} else {
			return 0; /* unknown item: its length is unknown, keep the raw bytes only */
		}
	}
	return 0;
}

int tidm_binlog_rows_frame(tidm_binlog_decoder *d, tidm_binlog_event *ev)
{
	tidm_binlog_rows *r = &ev->u.rows;
	uint8_t type = ev->hdr.type;
	unsigned ph = d->post_header[type];
	tidm_binlog_cursor c;
	uint64_t id, ncols;
	size_t bml;
	bool v2 = false, compressed = false;

	switch (type) {
	case TIDM_BINLOG_WRITE_ROWS_V2:
		v2 = true;
		/* fallthrough */
	case TIDM_BINLOG_WRITE_ROWS_V1:
		r->kind = TIDM_ROWS_INSERT;
		break;
	case TIDM_BINLOG_UPDATE_ROWS_V2:
		v2 = true;
		/* fallthrough */
	case TIDM_BINLOG_UPDATE_ROWS_V1:
		r->kind = TIDM_ROWS_UPDATE;
		break;
	case TIDM_BINLOG_PARTIAL_UPDATE_ROWS:
		v2 = true;
		r->partial = true;
		r->kind = TIDM_ROWS_UPDATE;
		break;
	case TIDM_BINLOG_DELETE_ROWS_V2:
		v2 = true;
		/* fallthrough */
	case TIDM_BINLOG_DELETE_ROWS_V1:
		r->kind = TIDM_ROWS_DELETE;
		break;
	case TIDM_BINLOG_MARIA_WRITE_ROWS_COMPRESSED_V1:
		compressed = true;
		r->kind = TIDM_ROWS_INSERT;
		break;
	case TIDM_BINLOG_MARIA_UPDATE_ROWS_COMPRESSED_V1:
		compressed = true;
		r->kind = TIDM_ROWS_UPDATE;
		break;
	default:
		compressed = true;
		r->kind = TIDM_ROWS_DELETE;
		break;
	}
	r->version = v2 ? 2 : 1;

	tidm_binlog_cursor_init(&c, ev->body, ev->body_len);
	if (!tidm_binlog_cursor_le(&c, ph == 6 ? 4 : 6, &id) || !tidm_binlog_cursor_u16(&c, &r->flags))
		return tidm_err_set(TIDM_ECORRUPT, "%s event: truncated post-header",
				    tidm_binlog_type_name(type));
	r->table_id = id;
	if (v2) {
		uint16_t xlen;
		const uint8_t *x;
		if (!tidm_binlog_cursor_u16(&c, &xlen) || xlen < 2 ||
		    !tidm_binlog_cursor_bytes(&c, xlen - 2u, &x))
			return tidm_err_set(TIDM_ECORRUPT, "%s event: bad extra row data length",
					    tidm_binlog_type_name(type));
		r->extra = x;
		r->extra_len = xlen - 2u;
		if (extra_parse(r) < 0)
			return tidm_err_set(TIDM_ECORRUPT, "%s event: malformed extra row data",
					    tidm_binlog_type_name(type));
	}
	if (!tidm_binlog_cursor_lenenc(&c, &ncols) || ncols > TIDM_BINLOG_MAX_COLUMNS)
		return tidm_err_set(TIDM_ECORRUPT, "%s event: bad column count",
				    tidm_binlog_type_name(type));
	r->ncols = (unsigned)ncols;
	bml = ((size_t)ncols + 7) / 8;
	if (!tidm_binlog_cursor_bytes(&c, bml, &r->present1) ||
	    (r->kind == TIDM_ROWS_UPDATE && !tidm_binlog_cursor_bytes(&c, bml, &r->present2)))
		return tidm_err_set(TIDM_ECORRUPT, "%s event: truncated column bitmaps",
				    tidm_binlog_type_name(type));
	if (compressed) {
		int rc = tidm_binlog_maria_uncompress(d, c.p, tidm_binlog_cursor_left(&c));
		if (rc < 0) {
			tidm_err_prefix("%s event: ", tidm_binlog_type_name(type));
			return rc;
		}
		r->data = (const uint8_t *)d->scratch.data;
		r->data_len = d->scratch.len;
	} else {
		r->data = c.p;
		r->data_len = tidm_binlog_cursor_left(&c);
	}
	if (id == TIDM_BINLOG_DUMMY_TABLE_ID) {
		r->table = NULL;
		return 0;
	}
	r->table = tidm_binlog_tablemap_find(d, id);
	if (!r->table)
		return tidm_err_set(TIDM_ENOTFOUND, "%s event: no TABLE_MAP for table id %llu",
				    tidm_binlog_type_name(type), (unsigned long long)id);
	if (r->table->ncols != r->ncols)
		return tidm_err_set(TIDM_ECORRUPT,
				    "%s event: %u columns but TABLE_MAP of `%s`.`%s` has %u",
				    tidm_binlog_type_name(type), r->ncols, r->table->db, r->table->table,
				    r->table->ncols);
	return 0;
}

int tidm_binlog_rows_begin(tidm_binlog_row_iter *it, struct tidm_binlog_decoder *d,
			   const struct tidm_binlog_event *ev)
{
	const tidm_binlog_rows *r = &ev->u.rows;
	memset(it, 0, sizeof(*it));
	if (!tidm_binlog_is_rows_event(ev->hdr.type))
		return tidm_err_set(TIDM_EINVAL, "not a rows event");
	it->dec = d;
	it->rows = r;
	it->n_present1 = r->table ? popcount_bits(r->present1, r->ncols) : 0;
	it->n_present2 = r->table && r->present2 ? popcount_bits(r->present2, r->ncols) : 0;
	it->p = r->data;
	it->end = r->data + r->data_len;
	if (!r->table) {
		if (r->data_len > 0)
			return tidm_err_set(TIDM_ECORRUPT,
					    "rows event for the dummy table id carries row data");
		return 0;
	}
	if (d->vals_cap < r->ncols) {
		tidm_binlog_value *nv = realloc(d->vals, 2 * (size_t)r->ncols * sizeof(*nv));
		if (!nv)
			return tidm_err_set(TIDM_ENOMEM, "rows: out of memory");
		d->vals = nv;
		d->vals_cap = r->ncols;
	}
	return 0;
}

/* Fractional seconds of fsp digits (binlog-protocol.md 4.2), big-endian. */
static inline bool frac_read(tidm_binlog_cursor *c, unsigned fsp, uint32_t *usec)
{
	unsigned n = (fsp + 1) / 2;
	uint64_t v;
	if (n == 0) {
		*usec = 0;
		return true;
	}
	if (tidm_binlog_cursor_left(c) < n)
		return false;
	v = tidm_binlog_be(c->p, n);
	c->p += n;
	*usec = (uint32_t)(n == 1 ? v * 10000 : n == 2 ? v * 100 : v);
	return true;
}

static inline bool len_prefixed(tidm_binlog_cursor *c, unsigned plen, tidm_binlog_value *v)
{
	uint64_t len;
	if (plen < 1 || plen > 4 || !tidm_binlog_cursor_le(c, plen, &len) ||
	    len > tidm_binlog_cursor_left(c))
		return false;
	v->v.bytes = c->p;
	v->len = (uint32_t)len;
	c->p += len;
	return true;
}

/* Decode one non-NULL value of column col at c into v. */
static int value_decode(tidm_binlog_cursor *c, const tidm_binlog_column *col, tidm_binlog_value *v)
{
	uint64_t u;
	const uint8_t *b;
	unsigned meta = col->meta;

	v->type = col->type;
	v->charset = col->charset;
	v->meta = col->meta;
	switch (col->type) {
	case TIDM_COL_TINY:
	case TIDM_COL_SHORT:
	case TIDM_COL_INT24:
	case TIDM_COL_LONG:
	case TIDM_COL_LONGLONG: {
		static const uint8_t width[] = {0, 1, 2, 4, 0, 0, 0, 0, 8, 3};
		unsigned w = width[col->type];
		if (!tidm_binlog_cursor_le(c, w, &u))
			return TIDM_EAGAIN;
		if (col->is_unsigned) {
			v->kind = TIDM_BV_UINT;
			v->v.u = u;
		} else {
			unsigned sh = 64 - 8 * w;
			v->kind = TIDM_BV_INT;
			v->v.i = (int64_t)(u << sh) >> sh;
		}
		return 0;
	}
	case TIDM_COL_FLOAT: {
		float f;
		if (!tidm_binlog_cursor_bytes(c, 4, &b))
			return TIDM_EAGAIN;
		memcpy(&f, b, 4);
		v->kind = TIDM_BV_FLOAT;
		v->v.d = f;
		return 0;
	}
	case TIDM_COL_DOUBLE:
		if (!tidm_binlog_cursor_bytes(c, 8, &b))
			return TIDM_EAGAIN;
		memcpy(&v->v.d, b, 8);
		v->kind = TIDM_BV_DOUBLE;
		return 0;
	case TIDM_COL_NEWDECIMAL: {
		size_t n = tidm_binlog_decimal_bin_size(meta >> 8, meta & 0xff);
		if (n == 0)
			return tidm_err_set(TIDM_ECORRUPT, "DECIMAL(%u,%u) is not a valid type",
					    meta >> 8, meta & 0xff);
		if (!tidm_binlog_cursor_bytes(c, n, &v->v.bytes))
			return TIDM_EAGAIN;
		v->kind = TIDM_BV_DECIMAL;
		v->len = (uint32_t)n;
		return 0;
	}
	case TIDM_COL_YEAR:
		if (!tidm_binlog_cursor_le(c, 1, &u))
			return TIDM_EAGAIN;
		v->kind = TIDM_BV_YEAR;
		v->v.i = u ? 1900 + (int64_t)u : 0;
		return 0;
	case TIDM_COL_DATE:
	case TIDM_COL_NEWDATE:
		if (!tidm_binlog_cursor_le(c, 3, &u))
			return TIDM_EAGAIN;
		v->kind = TIDM_BV_DATE;
		memset(&v->v.t, 0, sizeof(v->v.t));
		v->v.t.day = u & 31;
		v->v.t.month = (u >> 5) & 15;
		v->v.t.year = (int32_t)(u >> 9);
		return 0;
	case TIDM_COL_TIME: {
		int64_t s;
		if (!tidm_binlog_cursor_le(c, 3, &u))
			return TIDM_EAGAIN;
		s = (int64_t)(u << 40) >> 40;
		v->kind = TIDM_BV_TIME;
		memset(&v->v.t, 0, sizeof(v->v.t));
		v->v.t.neg = s < 0;
		if (s < 0)
			s = -s;
		v->v.t.hour = (uint16_t)(s / 10000);
		v->v.t.minute = (uint8_t)(s / 100 % 100);
		v->v.t.second = (uint8_t)(s % 100);
		v->fsp = 0;
		return 0;
	}
	case TIDM_COL_DATETIME: {
		uint64_t dpart, tpart;
		if (!tidm_binlog_cursor_le(c, 8, &u))
			return TIDM_EAGAIN;
		dpart = u / 1000000;
		tpart = u % 1000000;
		v->kind = TIDM_BV_DATETIME;
		memset(&v->v.t, 0, sizeof(v->v.t));
		v->v.t.year = (int32_t)(dpart / 10000);
		v->v.t.month = (uint8_t)(dpart / 100 % 100);
		v->v.t.day = (uint8_t)(dpart % 100);
		v->v.t.hour = (uint16_t)(tpart / 10000);
		v->v.t.minute = (uint8_t)(tpart / 100 % 100);
		v->v.t.second = (uint8_t)(tpart % 100);
		v->fsp = 0;
		return 0;
	}
	case TIDM_COL_TIMESTAMP:
		if (!tidm_binlog_cursor_le(c, 4, &u))
			return TIDM_EAGAIN;
		v->kind = TIDM_BV_TIMESTAMP;
		v->v.ts.sec = (int64_t)u;
		v->v.ts.usec = 0;
		v->fsp = 0;
		return 0;
	case TIDM_COL_TIMESTAMP2:
		if (meta > 6)
			return tidm_err_set(TIDM_ECORRUPT, "TIMESTAMP2 with fsp %u", meta);
		if (!tidm_binlog_cursor_bytes(c, 4, &b))
			return TIDM_EAGAIN;
		v->kind = TIDM_BV_TIMESTAMP;
		v->v.ts.sec = (int64_t)tidm_binlog_be(b, 4);
		v->fsp = (uint8_t)meta;
		if (!frac_read(c, meta, &v->v.ts.usec))
			return TIDM_EAGAIN;
		return 0;
	case TIDM_COL_DATETIME2: {
		int64_t ip;
		uint64_t ymd, hms, ym;
		if (meta > 6)
			return tidm_err_set(TIDM_ECORRUPT, "DATETIME2 with fsp %u", meta);
		if (!tidm_binlog_cursor_bytes(c, 5, &b))
			return TIDM_EAGAIN;
		ip = (int64_t)tidm_binlog_be(b, 5) - 0x8000000000LL;
		if (ip < 0)
			ip = -ip;
		ymd = (uint64_t)ip >> 17;
		hms = (uint64_t)ip & 0x1ffff;
		ym = ymd >> 5;
		v->kind = TIDM_BV_DATETIME;
		v->fsp = (uint8_t)meta;
		v->v.t.neg = false;
		v->v.t.year = (int32_t)(ym / 13);
		v->v.t.month = (uint8_t)(ym % 13);
		v->v.t.day = (uint8_t)(ymd & 31);
		v->v.t.hour = (uint16_t)(hms >> 12);
		v->v.t.minute = (uint8_t)((hms >> 6) & 63);
		v->v.t.second = (uint8_t)(hms & 63);
		if (!frac_read(c, meta, &v->v.t.usec))
			return TIDM_EAGAIN;
		return 0;
	}
	case TIDM_COL_TIME2: {
		int64_t ip, frac = 0, tmp;
		unsigned fb = (meta + 1) / 2;
		if (meta > 6)
			return tidm_err_set(TIDM_ECORRUPT, "TIME2 with fsp %u", meta);
		if (!tidm_binlog_cursor_bytes(c, 3 + fb, &b))
			return TIDM_EAGAIN;
		if (fb == 3) {
			tmp = (int64_t)tidm_binlog_be(b, 6) - 0x800000000000LL;
		} else {
			ip = (int64_t)tidm_binlog_be(b, 3) - 0x800000;
			if (fb == 1) {
				frac = b[3];
				if (ip < 0 && frac) {
					ip++;
					frac -= 0x100;
				}
				frac *= 10000;
			} else if (fb == 2) {
				frac = (int64_t)tidm_binlog_be(b + 3, 2);
				if (ip < 0 && frac) {
					ip++;
					frac -= 0x10000;
				}
				frac *= 100;
			}
			tmp = ip * (1LL << 24) + frac;
		}
		v->kind = TIDM_BV_TIME;
		v->fsp = (uint8_t)meta;
		memset(&v->v.t, 0, sizeof(v->v.t));
		v->v.t.neg = tmp < 0;
		if (tmp < 0)
			tmp = -tmp;
		uint64_t hms = (uint64_t)tmp >> 24;
		v->v.t.usec = (uint32_t)((uint64_t)tmp & 0xffffff);
		v->v.t.hour = (uint16_t)((hms >> 12) & 0x3ff);
		v->v.t.minute = (uint8_t)((hms >> 6) & 63);
		v->v.t.second = (uint8_t)(hms & 63);
		return 0;
	}
	case TIDM_COL_VARCHAR:
	case TIDM_COL_VAR_STRING:
	case TIDM_COL_STRING:
		v->kind = TIDM_BV_STRING;
		return len_prefixed(c, meta < 256 ? 1 : 2, v) ? 0 : TIDM_EAGAIN;
	case TIDM_COL_ENUM:
		if (meta < 1 || meta > 2)
			return tidm_err_set(TIDM_ECORRUPT, "ENUM stored in %u bytes", meta);
		if (!tidm_binlog_cursor_le(c, meta, &u))
			return TIDM_EAGAIN;
		v->kind = TIDM_BV_ENUM;
		v->v.u = u;
		return 0;
	case TIDM_COL_SET:
		if (meta < 1 || meta > 8)
			return tidm_err_set(TIDM_ECORRUPT, "SET stored in %u bytes", meta);
		if (!tidm_binlog_cursor_le(c, meta, &u))
			return TIDM_EAGAIN;
		v->kind = TIDM_BV_SET;
		v->v.u = u;
		v->len = meta * 8;
		return 0;
	case TIDM_COL_BIT: {
		unsigned nb = (meta + 7) / 8;
		if (meta < 1 || meta > 64)
			return tidm_err_set(TIDM_ECORRUPT, "BIT(%u) is not a valid type", meta);
		if (!tidm_binlog_cursor_bytes(c, nb, &b))
			return TIDM_EAGAIN;
		v->kind = TIDM_BV_BIT;
		v->v.u = tidm_binlog_be(b, nb);
		v->len = meta;
		return 0;
	}
	case TIDM_COL_TINY_BLOB:
	case TIDM_COL_MEDIUM_BLOB:
	case TIDM_COL_LONG_BLOB:
	case TIDM_COL_BLOB:
		v->kind = TIDM_BV_BLOB;
		return len_prefixed(c, meta, v) ? 0 : TIDM_EAGAIN;
	case TIDM_COL_JSON:
		v->kind = TIDM_BV_JSON;
		return len_prefixed(c, meta, v) ? 0 : TIDM_EAGAIN;
	case TIDM_COL_GEOMETRY:
		v->kind = TIDM_BV_GEOMETRY;
		return len_prefixed(c, meta, v) ? 0 : TIDM_EAGAIN;
	case TIDM_COL_VECTOR:
		v->kind = TIDM_BV_VECTOR;
		if (!len_prefixed(c, meta, v))
			return TIDM_EAGAIN;
		if (v->len % 4)
			return tidm_err_set(TIDM_ECORRUPT, "VECTOR value of %u bytes", v->len);
		return 0;
	default:
		return tidm_err_set(TIDM_EUNSUPPORTED, "column type %u (%s) cannot be decoded",
				    col->type, tidm_binlog_coltype_name(col->type));
	}
}

/* Marks a value whose bytes are in d->json_text at offset v.u until the row is complete. */
#define IN_ROW_BUF 0xff

/*
 * A MariaDB COMPRESSED column value (after its length prefix): one header byte - 0: the
 * value follows as is; else bit 7 set, bits 3-6 the algorithm (1 = zlib) and bits 0-2 the
 * number of big-endian bytes holding the original length, then a deflate stream. The
 * inflated bytes go to d->json_text (the row's buffer).
 */
static int uncompress_column(tidm_binlog_decoder *d, tidm_binlog_value *v)
{
	const uint8_t *p = v->v.bytes;
	size_t n = v->len, lb, i, off;
	uint64_t orig = 0;
	z_stream zs;
	int zr, wbits;

	if (n == 0)
		return 0; /* empty value */
	if (p[0] == 0) {
		v->v.bytes = p + 1;
		v->len = (uint32_t)(n - 1);
		return 0;
	}
	lb = p[0] & 7;
	if (!(p[0] & 0x80) || lb == 0 || lb > 4 || ((p[0] >> 3) & 15) != 1 || n < 1 + lb)
		return tidm_err_set(TIDM_ECORRUPT, "compressed column value with header 0x%02x", p[0]);
	for (i = 0; i < lb; i++)
		orig = orig << 8 | p[1 + i];
	if (orig > ((uint64_t)1 << 30))
		return tidm_err_set(TIDM_ECORRUPT, "compressed column value claims %llu bytes", (unsigned long long)orig);
	off = d->json_text.len;
	for (wbits = -MAX_WBITS;; wbits = MAX_WBITS) {
		tidm_buf_truncate(&d->json_text, off);
		tidm_buf_reserve(&d->json_text, (size_t)orig + 1);
		memset(&zs, 0, sizeof(zs));
		if (inflateInit2(&zs, wbits) != Z_OK)
			return tidm_err_set(TIDM_ERROR, "zlib: cannot start inflating");
		zs.next_in = (Bytef *)(uintptr_t)(p + 1 + lb);
		zs.avail_in = (uInt)(n - 1 - lb);
		zs.next_out = (Bytef *)d->json_text.data + off;
		zs.avail_out = (uInt)orig;
		zr = inflate(&zs, Z_FINISH);
		inflateEnd(&zs);
		if (zr == Z_STREAM_END && zs.total_out == orig)
			break;
		if (wbits == MAX_WBITS)
			return tidm_err_set(TIDM_ECORRUPT, "compressed column value does not inflate to %llu bytes",
					    (unsigned long long)orig);
	}
	d->json_text.len = off + (size_t)orig;
	d->json_text.data[d->json_text.len] = '\0';
	v->v.u = off;
	v->len = (uint32_t)orig;
	v->fsp = IN_ROW_BUF;
	return 0;
}

/*
 * Decode one image: present bitmap bm over the table's columns; vals[ncols] filled.
 * after_partial: this is the after image of PARTIAL_UPDATE_ROWS (value_options first);
 * before: the before image (for applying JSON diffs), else NULL.
 */
static int image_decode(tidm_binlog_row_iter *it, const uint8_t *bm, unsigned present,
			tidm_binlog_value *vals, bool after_partial, const tidm_binlog_value *before)
{
	const tidm_binlog_table *t = it->rows->table;
	tidm_binlog_decoder *d = it->dec;
	tidm_binlog_cursor c = {it->p, it->end};
	unsigned n = t->ncols, k = 0, jidx = 0;
	const uint8_t *nulls, *pbits = NULL;
	int rc;

	for (unsigned i = 0; i < n; i++)
		vals[i].fsp = 0; /* IN_ROW_BUF marks are set below only for inflated values */
	if (after_partial) {
		uint64_t opts;
		if (!tidm_binlog_cursor_lenenc(&c, &opts))
			goto short_read;
		if (opts & 1) {
			unsigned nj = 0;
			for (unsigned i = 0; i < n; i++)
				nj += t->cols[i].type == TIDM_COL_JSON;
			if (!tidm_binlog_cursor_bytes(&c, (nj + 7) / 8, &pbits))
				goto short_read;
		}
	}
	if (!tidm_binlog_cursor_bytes(&c, (present + 7) / 8, &nulls))
		goto short_read;
	for (unsigned i = 0; i < n; i++) {
		tidm_binlog_value *v = &vals[i];
		const tidm_binlog_column *col = &t->cols[i];
		bool is_json = col->type == TIDM_COL_JSON;
		unsigned my_j = jidx;
		jidx += is_json;
		if (!((bm[i >> 3] >> (i & 7)) & 1)) {
			v->kind = TIDM_BV_ABSENT;
			v->type = col->type;
			continue;
		}
		if ((nulls[k >> 3] >> (k & 7)) & 1) {
			k++;
			v->kind = TIDM_BV_NULL;
			v->type = col->type;
			continue;
		}
		k++;
		if (is_json && pbits && ((pbits[my_j >> 3] >> (my_j & 7)) & 1)) {
			/* partial JSON: u32 length, then the diffs */
			uint64_t dl;
			const uint8_t *diffs;
			if (!tidm_binlog_cursor_le(&c, 4, &dl) || dl > tidm_binlog_cursor_left(&c))
				goto short_read;
			diffs = c.p;
			c.p += dl;
			v->type = col->type;
			v->charset = col->charset;
			v->meta = col->meta;
			if (!before || (before[i].kind != TIDM_BV_JSON)) {
				v->kind = TIDM_BV_JSON_DIFF;
				v->v.bytes = diffs;
				v->len = (uint32_t)dl;
				continue;
			}
			size_t off = d->json_text.len;
			rc = tidm_binlog_json_apply_diffs(&d->json_text, before[i].v.bytes, before[i].len,
							  diffs, (size_t)dl);
			if (rc < 0) {
				tidm_err_prefix("row %u, column %u (JSON partial update): ", it->index + 1,
						i + 1);
				return rc;
			}
			v->kind = TIDM_BV_JSON_TEXT;
			v->v.u = off; /* turned into a pointer once the row is complete */
			v->len = (uint32_t)(d->json_text.len - off);
			continue;
		}
		if (col->type == TIDM_COL_BLOB_COMPRESSED || col->type == TIDM_COL_VARCHAR_COMPRESSED) {
			unsigned plen = col->type == TIDM_COL_BLOB_COMPRESSED ? col->meta : (col->meta < 256 ? 1 : 2);
			v->type = col->type;
			v->charset = col->charset;
			v->meta = col->meta;
			v->fsp = 0;
			v->kind = col->type == TIDM_COL_BLOB_COMPRESSED ? TIDM_BV_BLOB : TIDM_BV_STRING;
			if (!len_prefixed(&c, plen, v))
				goto short_read;
			if ((rc = uncompress_column(d, v)) < 0) {
				tidm_err_prefix("rows event `%s`.`%s` row %u, column %u: ", t->db, t->table,
						it->index + 1, i + 1);
				return rc;
			}
			continue;
		}
		rc = value_decode(&c, col, v);
		if (rc == TIDM_EAGAIN)
			goto short_read;
		if (rc < 0) {
			tidm_err_prefix("rows event `%s`.`%s` row %u, column %u: ", t->db, t->table,
					it->index + 1, i + 1);
			return rc;
		}
	}
	it->p = c.p;
	return 0;
short_read:
	return tidm_err_set(TIDM_ECORRUPT,
			    "rows event `%s`.`%s`: row %u runs past the end of the event "
			    "(at row byte %zu of %zu)",
			    t->db, t->table, it->index + 1, (size_t)(c.p - it->rows->data),
			    it->rows->data_len);
}

static void fix_json_text(tidm_binlog_decoder *d, tidm_binlog_value *vals, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (vals[i].kind == TIDM_BV_JSON_TEXT || vals[i].fsp == IN_ROW_BUF) {
			vals[i].v.bytes = (const uint8_t *)d->json_text.data + vals[i].v.u;
			if (vals[i].fsp == IN_ROW_BUF)
				vals[i].fsp = 0;
		}
}

int tidm_binlog_rows_next(tidm_binlog_row_iter *it, tidm_binlog_row *out)
{
	const tidm_binlog_rows *r = it->rows;
	tidm_binlog_decoder *d = it->dec;
	tidm_binlog_value *a, *b;
	int rc;

	if (!r || it->p >= it->end || !r->table)
		return 0;
	const uint8_t *start = it->p;
	a = d->vals;
	b = d->vals + r->ncols;
	tidm_buf_clear(&d->json_text);
	out->ncols = r->ncols;
	out->before = out->after = NULL;
	switch (r->kind) {
	case TIDM_ROWS_INSERT:
		rc = image_decode(it, r->present1, it->n_present1, a, false, NULL);
		out->after = a;
		break;
	case TIDM_ROWS_DELETE:
		rc = image_decode(it, r->present1, it->n_present1, a, false, NULL);
		out->before = a;
		break;
	default:
		rc = image_decode(it, r->present1, it->n_present1, a, false, NULL);
		if (rc == 0)
			rc = image_decode(it, r->present2, it->n_present2, b, r->partial, a);
		if (rc == 0)
			fix_json_text(d, b, r->ncols);
		out->before = a;
		out->after = b;
		break;
	}
	if (rc == 0)
		fix_json_text(d, a, r->ncols);
	if (rc == 0 && it->p == start)
		rc = tidm_err_set(TIDM_ECORRUPT,
				  "rows event `%s`.`%s`: row %u is empty (no column in its images)",
				  r->table->db, r->table->table, it->index + 1);
	if (rc < 0) {
		it->p = it->end; /* stop: the rest cannot be framed */
		return rc;
	}
	it->index++;
	return 1;
}
