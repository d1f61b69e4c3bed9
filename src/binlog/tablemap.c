/*
 * tablemap.c - TABLE_MAP events and the decoder's table-map cache.
 *
 * Design: a TABLE_MAP body is parsed once into a tm_entry (tidm_binlog_table + its columns +
 * one string pool for names and ENUM/SET strings + a copy of the raw body). Entries live in
 * an open-addressing hash keyed by table id. Servers re-send the same TABLE_MAP before every
 * statement; when the bytes equal the cached copy (one memcmp) the entry is reused as is, so
 * the steady state of a replication stream parses nothing here. A changed body replaces the
 * entry (a table id can be reused for a new definition). The cache is bounded: past
 * TM_MAX_ENTRIES entries it is emptied, which is safe because every rows event follows its
 * own TABLE_MAP within the same statement.
 *
 * Allocation sizes come only from the event length (strings, pointer arrays), never from a
 * count on the wire; counts are checked against the bytes that remain.
 */
#include <stdlib.h>
#include <string.h>

#include "binlog/cursor.h"
#include "binlog/decoder_int.h"
#include "util/err.h"

#define TM_MAX_ENTRIES 65536

static const char *const coltype_names[256] = {
	[TIDM_COL_DECIMAL] = "DECIMAL",	      [TIDM_COL_TINY] = "TINY",
	[TIDM_COL_SHORT] = "SHORT",	      [TIDM_COL_LONG] = "LONG",
	[TIDM_COL_FLOAT] = "FLOAT",	      [TIDM_COL_DOUBLE] = "DOUBLE",
	[TIDM_COL_NULL] = "NULL",	      [TIDM_COL_TIMESTAMP] = "TIMESTAMP",
	[TIDM_COL_LONGLONG] = "LONGLONG",     [TIDM_COL_INT24] = "INT24",
	[TIDM_COL_DATE] = "DATE",	      [TIDM_COL_TIME] = "TIME",
	[TIDM_COL_DATETIME] = "DATETIME",     [TIDM_COL_YEAR] = "YEAR",
	[TIDM_COL_NEWDATE] = "NEWDATE",	      [TIDM_COL_VARCHAR] = "VARCHAR",
	[TIDM_COL_BIT] = "BIT",		      [TIDM_COL_TIMESTAMP2] = "TIMESTAMP2",
	[TIDM_COL_DATETIME2] = "DATETIME2",   [TIDM_COL_TIME2] = "TIME2",
	[TIDM_COL_VECTOR] = "VECTOR",	      [TIDM_COL_TYPED_ARRAY] = "TYPED_ARRAY",
	[TIDM_COL_JSON] = "JSON",	      [TIDM_COL_NEWDECIMAL] = "NEWDECIMAL",
	[TIDM_COL_ENUM] = "ENUM",	      [TIDM_COL_SET] = "SET",
	[TIDM_COL_TINY_BLOB] = "TINY_BLOB",   [TIDM_COL_MEDIUM_BLOB] = "MEDIUM_BLOB",
	[TIDM_COL_LONG_BLOB] = "LONG_BLOB",   [TIDM_COL_BLOB] = "BLOB",
	[TIDM_COL_VAR_STRING] = "VAR_STRING", [TIDM_COL_STRING] = "STRING",
	[TIDM_COL_GEOMETRY] = "GEOMETRY",
	[TIDM_COL_BLOB_COMPRESSED] = "BLOB_COMPRESSED", [TIDM_COL_VARCHAR_COMPRESSED] = "VARCHAR_COMPRESSED",
};

const char *tidm_binlog_coltype_name(unsigned type)
{
	const char *n = type < 256 ? coltype_names[type] : NULL;
	return n ? n : "?";
}

static void entry_free(tm_entry *e)
{
	if (!e)
		return;
	free(e->t.cols);
	free(e->raw);
	free(e->pool);
	free(e->strs);
	free(e->strs_len);
	free(e->pk);
	free(e);
}

void tidm_binlog_tablemap_clear(tidm_binlog_decoder *d)
{
	for (size_t i = 0; i < d->nslots; i++) {
		entry_free(d->slots[i]);
		d->slots[i] = NULL;
	}
	d->nused = 0;
}

static size_t slot_of(const tidm_binlog_decoder *d, uint64_t id)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ULL;
	size_t mask = d->nslots - 1, i = (size_t)(h >> 17) & mask;
	while (d->slots[i] && d->slots[i]->t.table_id != id)
		i = (i + 1) & mask;
	return i;
}

const tidm_binlog_table *tidm_binlog_tablemap_find(const tidm_binlog_decoder *d, uint64_t id)
{
	if (d->nslots == 0)
		return NULL;
	tm_entry *e = d->slots[slot_of(d, id)];
	return e ? &e->t : NULL;
}

/* Insert or replace; takes ownership of e. */
static int cache_put(tidm_binlog_decoder *d, tm_entry *e)
{
	if (d->nused >= TM_MAX_ENTRIES)
		tidm_binlog_tablemap_clear(d);
	if ((d->nused + 1) * 2 > d->nslots) {
		size_t nn = d->nslots ? d->nslots * 2 : 64;
		tm_entry **old = d->slots;
		size_t on = d->nslots;
		d->slots = calloc(nn, sizeof(*d->slots));
		if (!d->slots) {
			d->slots = old;
			entry_free(e);
			return tidm_err_set(TIDM_ENOMEM, "table map cache: out of memory");
		}
		d->nslots = nn;
		for (size_t i = 0; i < on; i++)
			if (old[i])
				d->slots[slot_of(d, old[i]->t.table_id)] = old[i];
		free(old);
	}
	size_t i = slot_of(d, e->t.table_id);
	if (d->slots[i])
		entry_free(d->slots[i]);
	else
		d->nused++;
	d->slots[i] = e;
	return 0;
}

static bool is_numeric(uint8_t t)
{
	switch (t) {
	case TIDM_COL_TINY:
	case TIDM_COL_SHORT:
	case TIDM_COL_INT24:
	case TIDM_COL_LONG:
	case TIDM_COL_LONGLONG:
	case TIDM_COL_FLOAT:
	case TIDM_COL_DOUBLE:
	case TIDM_COL_DECIMAL:
	case TIDM_COL_NEWDECIMAL:
		return true;
	default:
		return false;
	}
}

static bool is_character(uint8_t t, bool mariadb)
{
	switch (t) {
	case TIDM_COL_STRING:
	case TIDM_COL_VAR_STRING:
	case TIDM_COL_VARCHAR:
	case TIDM_COL_BLOB:
	case TIDM_COL_TINY_BLOB:
	case TIDM_COL_MEDIUM_BLOB:
	case TIDM_COL_LONG_BLOB:
	case TIDM_COL_BLOB_COMPRESSED:
	case TIDM_COL_VARCHAR_COMPRESSED:
		return true;
	case TIDM_COL_GEOMETRY:
		return mariadb;
	default:
		return false;
	}
}

static bool is_enum_set(uint8_t t) { return t == TIDM_COL_ENUM || t == TIDM_COL_SET; }

/* Metadata bytes of a type in TABLE_MAP (binlog-protocol.md 3.5). */
static int meta_size(uint8_t t)
{
	switch (t) {
	case TIDM_COL_FLOAT:
	case TIDM_COL_DOUBLE:
	case TIDM_COL_TIMESTAMP2:
	case TIDM_COL_DATETIME2:
	case TIDM_COL_TIME2:
	case TIDM_COL_VECTOR:
	case TIDM_COL_JSON:
	case TIDM_COL_TINY_BLOB:
	case TIDM_COL_MEDIUM_BLOB:
	case TIDM_COL_LONG_BLOB:
	case TIDM_COL_BLOB:
	case TIDM_COL_GEOMETRY:
	case TIDM_COL_BLOB_COMPRESSED:
		return 1;
	case TIDM_COL_VARCHAR:
	case TIDM_COL_VARCHAR_COMPRESSED:
	case TIDM_COL_VAR_STRING:
	case TIDM_COL_BIT:
	case TIDM_COL_NEWDECIMAL:
	case TIDM_COL_STRING:
	case TIDM_COL_ENUM:
	case TIDM_COL_SET:
		return 2;
	default:
		return 0;
	}
}

/* Read one column's metadata from m and resolve the real type. */
static bool column_meta(tidm_binlog_column *col, tidm_binlog_cursor *m)
{
	const uint8_t *b;
	uint8_t t = col->wire_type;

	col->type = t;
	if (t == TIDM_COL_TYPED_ARRAY) {
		uint8_t et;
		int n;
		if (!tidm_binlog_cursor_u8(m, &et))
			return false;
		n = meta_size(et);
		return tidm_binlog_cursor_skip(m, (size_t)n);
	}
	switch (meta_size(t)) {
	case 0:
		return true;
	case 1:
		if (!tidm_binlog_cursor_bytes(m, 1, &b))
			return false;
		col->meta = b[0];
		return true;
	default:
		if (!tidm_binlog_cursor_bytes(m, 2, &b))
			return false;
		break;
	}
	switch (t) {
	case TIDM_COL_VARCHAR:
	case TIDM_COL_VARCHAR_COMPRESSED:
	case TIDM_COL_VAR_STRING:
		col->meta = (uint16_t)(b[0] | b[1] << 8);
		break;
	case TIDM_COL_BIT:
		col->meta = (uint16_t)(b[1] * 8 + b[0]);
		break;
	case TIDM_COL_NEWDECIMAL:
		col->meta = (uint16_t)(b[0] << 8 | b[1]);
		break;
	default: /* STRING / ENUM / SET */
		if ((b[0] & 0x30) != 0x30) {
			col->type = (uint8_t)(b[0] | 0x30);
			col->meta = (uint16_t)(b[1] | (((b[0] & 0x30) ^ 0x30) << 4));
		} else {
			col->type = b[0];
			col->meta = b[1];
		}
		break;
	}
	return true;
}

/* Copy n bytes into the pool as a NUL-terminated string. */
static const char *pool_str(tm_entry *e, size_t *used, size_t cap, const uint8_t *s, size_t n)
{
	char *o;
	if (*used + n + 1 > cap)
		return NULL;
	o = e->pool + *used;
	memcpy(o, s, n);
	o[n] = '\0';
	*used += n + 1;
	return o;
}

/* Apply a DEFAULT_CHARSET / COLUMN_CHARSET style field to the columns selected by pick. */
static bool charsets(tidm_binlog_table *t, tidm_binlog_cursor *f, bool per_column, bool enums,
		     bool mariadb)
{
	uint64_t v, idx;
	unsigned k = 0;
	if (per_column) {
		for (unsigned i = 0; i < t->ncols && tidm_binlog_cursor_left(f) > 0; i++) {
			uint8_t ty = t->cols[i].type;
			if (enums ? !is_enum_set(ty) : !is_character(ty, mariadb))
				continue;
			if (!tidm_binlog_cursor_lenenc(f, &v))
				return false;
			t->cols[i].charset = (uint16_t)v;
		}
		return true;
	}
	if (!tidm_binlog_cursor_lenenc(f, &v))
		return false;
	for (unsigned i = 0; i < t->ncols; i++) {
		uint8_t ty = t->cols[i].type;
		if (enums ? is_enum_set(ty) : is_character(ty, mariadb))
			t->cols[i].charset = (uint16_t)v;
	}
	while (tidm_binlog_cursor_left(f) > 0) {
		uint64_t cs;
		if (!tidm_binlog_cursor_lenenc(f, &idx) || !tidm_binlog_cursor_lenenc(f, &cs))
			return false;
		/* idx counts among the selected columns */
		k = 0;
		for (unsigned i = 0; i < t->ncols; i++) {
			uint8_t ty = t->cols[i].type;
			if (enums ? !is_enum_set(ty) : !is_character(ty, mariadb))
				continue;
			if (k++ == idx) {
				t->cols[i].charset = (uint16_t)cs;
				break;
			}
		}
	}
	return true;
}

static int optional_meta(tidm_binlog_decoder *d, tm_entry *e, tidm_binlog_cursor *c, size_t *used,
			 size_t pool_cap)
{
	tidm_binlog_table *t = &e->t;
	size_t nstr = 0, str_cap = 0;
	bool mariadb = d->fde.mariadb;

	while (tidm_binlog_cursor_left(c) > 0) {
		uint8_t type;
		const uint8_t *val;
		size_t vlen;
		if (!tidm_binlog_cursor_u8(c, &type) || !tidm_binlog_cursor_lenenc_bytes(c, &val, &vlen))
			return tidm_err_set(TIDM_ECORRUPT, "TABLE_MAP event: truncated optional metadata");
		tidm_binlog_cursor f;
		tidm_binlog_cursor_init(&f, val, vlen);
		bool ok = true;
		if (type < 32)
			t->opt_meta |= 1u << type;
		switch (type) {
		case 1: { /* SIGNEDNESS, MSB first over numeric columns */
			unsigned k = 0;
			for (unsigned i = 0; i < t->ncols; i++) {
				if (!is_numeric(t->cols[i].type))
					continue;
				if (k / 8 >= vlen) {
					ok = false;
					break;
				}
				t->cols[i].is_unsigned = (val[k / 8] >> (7 - k % 8)) & 1;
				k++;
			}
			break;
		}
		case 2:
		case 3:
			ok = charsets(t, &f, type == 3, false, mariadb);
			break;
		case 10:
		case 11:
			ok = charsets(t, &f, type == 11, true, mariadb);
			break;
		case 4: /* COLUMN_NAME */
			for (unsigned i = 0; ok && i < t->ncols; i++) {
				uint8_t n;
				const uint8_t *s;
				ok = tidm_binlog_cursor_u8(&f, &n) && tidm_binlog_cursor_bytes(&f, n, &s);
				if (ok)
					ok = (t->cols[i].name = pool_str(e, used, pool_cap, s, n)) != NULL;
			}
			break;
		case 5:
		case 6: { /* SET_STR_VALUE / ENUM_STR_VALUE */
			uint8_t want = type == 5 ? TIDM_COL_SET : TIDM_COL_ENUM;
			if (!e->strs) {
				/* every string takes at least its 1-byte length: the rest of the
				 * event bounds the count */
				str_cap = tidm_binlog_cursor_left(c) + vlen;
				e->strs = calloc(str_cap ? str_cap : 1, sizeof(*e->strs));
				e->strs_len = calloc(str_cap ? str_cap : 1, sizeof(*e->strs_len));
				if (!e->strs || !e->strs_len)
					return tidm_err_set(TIDM_ENOMEM, "TABLE_MAP: out of memory");
			}
			for (unsigned i = 0; ok && i < t->ncols; i++) {
				uint64_t cnt;
				if (t->cols[i].type != want)
					continue;
				ok = tidm_binlog_cursor_lenenc(&f, &cnt) && cnt <= str_cap - nstr;
				if (!ok)
					break;
				t->cols[i].strs = e->strs + nstr;
				t->cols[i].strs_len = e->strs_len + nstr;
				t->cols[i].n_strs = (uint32_t)cnt;
				for (uint64_t j = 0; ok && j < cnt; j++) {
					const uint8_t *s;
					size_t n;
					ok = tidm_binlog_cursor_lenenc_bytes(&f, &s, &n);
					if (ok) {
						e->strs[nstr] = pool_str(e, used, pool_cap, s, n);
						e->strs_len[nstr] = (uint32_t)n;
						ok = e->strs[nstr++] != NULL;
					}
				}
			}
			break;
		}
		case 7: /* GEOMETRY_TYPE */
			for (unsigned i = 0; ok && i < t->ncols; i++) {
				uint64_t g = 0;
				if (t->cols[i].type != TIDM_COL_GEOMETRY)
					continue;
				ok = tidm_binlog_cursor_lenenc(&f, &g);
				t->cols[i].geometry_type = (uint8_t)g;
			}
			break;
		case 8:
		case 9: { /* SIMPLE_PRIMARY_KEY / PRIMARY_KEY_WITH_PREFIX */
			free(e->pk);
			e->pk = calloc(vlen ? vlen : 1, sizeof(*e->pk));
			if (!e->pk)
				return tidm_err_set(TIDM_ENOMEM, "TABLE_MAP: out of memory");
			t->n_pk = 0;
			while (ok && tidm_binlog_cursor_left(&f) > 0) {
				uint64_t idx, prefix = 0;
				ok = tidm_binlog_cursor_lenenc(&f, &idx) &&
				     (type == 8 || tidm_binlog_cursor_lenenc(&f, &prefix)) && idx < t->ncols;
				if (ok) {
					e->pk[t->n_pk++] = (uint16_t)idx;
					t->cols[idx].in_pk = true;
					t->cols[idx].pk_prefix = (uint16_t)prefix;
				}
			}
			t->pk = e->pk;
			break;
		}
		case 12: /* COLUMN_VISIBILITY, MSB first over all columns */
			for (unsigned i = 0; i < t->ncols; i++) {
				if (i / 8 >= vlen) {
					ok = false;
					break;
				}
				t->cols[i].visible = (val[i / 8] >> (7 - i % 8)) & 1;
			}
			break;
		case 13: /* VECTOR_DIMENSIONALITY */
			for (unsigned i = 0; ok && i < t->ncols; i++) {
				uint64_t dim = 0;
				if (t->cols[i].type != TIDM_COL_VECTOR)
					continue;
				ok = tidm_binlog_cursor_lenenc(&f, &dim);
				t->cols[i].vector_dim = (uint32_t)dim;
			}
			break;
		default:
			break; /* unknown field: its length lets us skip it */
		}
		if (!ok)
			return tidm_err_set(TIDM_ECORRUPT,
					    "TABLE_MAP event `%s`.`%s`: bad optional metadata field %u",
					    t->db, t->table, type);
	}
	return 0;
}

int tidm_binlog_tablemap_decode(tidm_binlog_decoder *d, const uint8_t *body, size_t len,
				const tidm_binlog_table **out)
{
	unsigned ph = d->post_header[TIDM_BINLOG_TABLE_MAP];
	unsigned idlen = ph == 6 ? 4 : 6;
	tidm_binlog_cursor c;
	uint64_t id, ncols;
	size_t mlen;
	uint16_t flags;
	uint8_t n;
	const uint8_t *s, *types, *meta, *nullbits;
	tm_entry *e;
	size_t used = 0, pool_cap;
	int rc;

	tidm_binlog_cursor_init(&c, body, len);
	if (!tidm_binlog_cursor_le(&c, idlen, &id) || !tidm_binlog_cursor_u16(&c, &flags) ||
	    (ph > idlen + 2 && !tidm_binlog_cursor_skip(&c, ph - idlen - 2)))
		return tidm_err_set(TIDM_ECORRUPT, "TABLE_MAP event: truncated post-header");

	/* fast path: same bytes as the cached map of this id */
	tm_entry *old = NULL;
	if (d->nslots) {
		old = d->slots[slot_of(d, id)];
		if (old && old->raw_len == len && memcmp(old->raw, body, len) == 0) {
			*out = &old->t;
			return 0;
		}
	}

	pool_cap = 2 * len + 16;
	e = calloc(1, sizeof(*e));
	if (!e)
		return tidm_err_set(TIDM_ENOMEM, "TABLE_MAP: out of memory");
	e->pool = malloc(pool_cap);
	e->raw = malloc(len ? len : 1);
	if (!e->pool || !e->raw) {
		entry_free(e);
		return tidm_err_set(TIDM_ENOMEM, "TABLE_MAP: out of memory");
	}
	memcpy(e->raw, body, len);
	e->raw_len = len;
	e->t.table_id = id;
	e->t.flags = flags;

	rc = TIDM_ECORRUPT;
	if (!tidm_binlog_cursor_u8(&c, &n) || !tidm_binlog_cursor_bytes(&c, n, &s) ||
	    !tidm_binlog_cursor_skip(&c, 1)) {
		tidm_err_set(rc, "TABLE_MAP event: truncated database name");
		goto fail;
	}
	e->t.db = pool_str(e, &used, pool_cap, s, n);
	if (!tidm_binlog_cursor_u8(&c, &n) || !tidm_binlog_cursor_bytes(&c, n, &s) ||
	    !tidm_binlog_cursor_skip(&c, 1)) {
		tidm_err_set(rc, "TABLE_MAP event: truncated table name");
		goto fail;
	}
	e->t.table = pool_str(e, &used, pool_cap, s, n);
	if (!tidm_binlog_cursor_lenenc(&c, &ncols) || ncols == 0 || ncols > TIDM_BINLOG_MAX_COLUMNS ||
	    !tidm_binlog_cursor_bytes(&c, (size_t)ncols, &types)) {
		tidm_err_set(rc, "TABLE_MAP event `%s`.`%s`: bad column count", e->t.db, e->t.table);
		goto fail;
	}
	if (!tidm_binlog_cursor_lenenc_bytes(&c, &meta, &mlen) ||
	    !tidm_binlog_cursor_bytes(&c, ((size_t)ncols + 7) / 8, &nullbits)) {
		tidm_err_set(rc, "TABLE_MAP event `%s`.`%s`: truncated metadata", e->t.db, e->t.table);
		goto fail;
	}
	e->t.ncols = (unsigned)ncols;
	e->t.cols = calloc((size_t)ncols, sizeof(*e->t.cols));
	if (!e->t.cols) {
		rc = tidm_err_set(TIDM_ENOMEM, "TABLE_MAP: out of memory");
		goto fail;
	}
	tidm_binlog_cursor m;
	tidm_binlog_cursor_init(&m, meta, mlen);
	for (unsigned i = 0; i < e->t.ncols; i++) {
		tidm_binlog_column *col = &e->t.cols[i];
		col->wire_type = types[i];
		col->visible = true;
		col->nullable = (nullbits[i / 8] >> (i % 8)) & 1;
		if (!column_meta(col, &m)) {
			tidm_err_set(rc, "TABLE_MAP event `%s`.`%s`: metadata too short at column %u",
				     e->t.db, e->t.table, i + 1);
			goto fail;
		}
	}
	rc = optional_meta(d, e, &c, &used, pool_cap);
	if (rc < 0)
		goto fail;
	rc = cache_put(d, e);
	if (rc < 0)
		return rc;
	*out = &e->t;
	return 0;
fail:
	entry_free(e);
	return rc;
}
