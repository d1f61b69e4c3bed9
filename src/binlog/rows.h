/*
 * rows.h - table maps, rows events and typed column values.
 *
 * A TABLE_MAP event becomes a tidm_binlog_table (columns with their type, metadata,
 * nullability and every optional-metadata field the server logged). A rows event
 * (WRITE/UPDATE/DELETE v1/v2, PARTIAL_UPDATE_ROWS, MariaDB compressed v1) is framed into a
 * tidm_binlog_rows; its row images are then read one at a time with a tidm_binlog_row_iter
 * into value arrays owned by the decoder and reused from row to row: decoding a row
 * allocates nothing. Values that need work to print (DECIMAL, binary JSON) are kept as
 * their raw bytes and converted only when asked (tidm_binlog_value_*_text), so a consumer
 * that does not look at a column pays nothing for it.
 *
 * This is the interface the replication applier builds SQL from:
 *
 *     tidm_binlog_row_iter it;
 *     tidm_binlog_row row;
 *     int rc = tidm_binlog_rows_begin(&it, dec, &ev);
 *     while (rc == 0 && (rc = tidm_binlog_rows_next(&it, &row)) == 1) {
 *         for (unsigned i = 0; i < row.ncols; i++) {
 *             const tidm_binlog_value *v = row.after ? &row.after[i] : NULL;
 *             ... v->kind, v->v.i, v->v.bytes/v->len, ...
 *         }
 *     }
 *     if (rc < 0) ... tidm_err_msg() ...
 *
 * Lifetime: row.before/row.after and every pointer inside the values stay valid until the
 * next tidm_binlog_rows_next() or tidm_binlog_decoder_decode() on the same decoder; byte
 * values point into the event bytes (or into decoder memory for compressed events and
 * partial JSON), so the event bytes must also stay alive.
 */
#ifndef TIDM_BINLOG_ROWS_H
#define TIDM_BINLOG_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Column types as they appear in TABLE_MAP (MySQL enum_field_types). */
enum tidm_binlog_coltype {
	TIDM_COL_DECIMAL = 0,
	TIDM_COL_TINY = 1,
	TIDM_COL_SHORT = 2,
	TIDM_COL_LONG = 3,
	TIDM_COL_FLOAT = 4,
	TIDM_COL_DOUBLE = 5,
	TIDM_COL_NULL = 6,
	TIDM_COL_TIMESTAMP = 7,
	TIDM_COL_LONGLONG = 8,
	TIDM_COL_INT24 = 9,
	TIDM_COL_DATE = 10,
	TIDM_COL_TIME = 11,
	TIDM_COL_DATETIME = 12,
	TIDM_COL_YEAR = 13,
	TIDM_COL_NEWDATE = 14,
	TIDM_COL_VARCHAR = 15,
	TIDM_COL_BIT = 16,
	TIDM_COL_TIMESTAMP2 = 17,
	TIDM_COL_DATETIME2 = 18,
	TIDM_COL_TIME2 = 19,
	TIDM_COL_BLOB_COMPRESSED = 140,	   /* MariaDB BLOB/TEXT ... COMPRESSED (values inflated) */
	TIDM_COL_VARCHAR_COMPRESSED = 141, /* MariaDB VARCHAR/VARBINARY ... COMPRESSED */
	TIDM_COL_TYPED_ARRAY = 244,
	TIDM_COL_VECTOR = 242,
	TIDM_COL_JSON = 245,
	TIDM_COL_NEWDECIMAL = 246,
	TIDM_COL_ENUM = 247,
	TIDM_COL_SET = 248,
	TIDM_COL_TINY_BLOB = 249,
	TIDM_COL_MEDIUM_BLOB = 250,
	TIDM_COL_LONG_BLOB = 251,
	TIDM_COL_BLOB = 252,
	TIDM_COL_VAR_STRING = 253,
	TIDM_COL_STRING = 254,
	TIDM_COL_GEOMETRY = 255,
};

/* Name of a column type ("LONG", "VARCHAR", "ENUM", ...), "?" for unknown codes. */
const char *tidm_binlog_coltype_name(unsigned type);

/* Collation id of binary strings. */
#define TIDM_BINLOG_CHARSET_BINARY 63
/* Most columns a table may have (MySQL and MariaDB limit: 4096). */
#define TIDM_BINLOG_MAX_COLUMNS 4096

typedef struct tidm_binlog_column {
	uint8_t type;	   /* real type: STRING metadata resolved to STRING/ENUM/SET */
	uint8_t wire_type; /* the type byte in TABLE_MAP */
	/* Decoded metadata, by type: VARCHAR/VAR_STRING/STRING: max length in bytes;
	 * BLOB/GEOMETRY/JSON/VECTOR: length-prefix size; NEWDECIMAL: precision << 8 | scale;
	 * BIT: number of bits; TIMESTAMP2/DATETIME2/TIME2: fsp; FLOAT/DOUBLE: 4/8;
	 * ENUM/SET: storage bytes. */
	uint16_t meta;
	bool nullable;
	bool is_unsigned; /* from SIGNEDNESS metadata (false when not logged) */
	bool visible;	  /* from COLUMN_VISIBILITY (true when not logged) */
	bool in_pk;	  /* from SIMPLE_PRIMARY_KEY / PRIMARY_KEY_WITH_PREFIX */
	uint16_t pk_prefix; /* prefix length of the key part, 0 = whole column */
	uint16_t charset;   /* collation id; 0 = not logged */
	uint8_t geometry_type; /* GEOMETRY_TYPE (0 GEOMETRY, 1 POINT, ...) */
	uint32_t vector_dim;   /* VECTOR_DIMENSIONALITY; 0 = not logged */
	const char *name;      /* COLUMN_NAME (NUL-terminated) or NULL when not logged */
	/* ENUM_STR_VALUE / SET_STR_VALUE: n_strs strings, each strs[i] with len strs_len[i]. */
	uint32_t n_strs;
	const char *const *strs;
	const uint32_t *strs_len;
} tidm_binlog_column;

/* TABLE_MAP flags. */
#define TIDM_BINLOG_TM_GIPK 0x0004 /* generated invisible primary key (my_row_id) */

typedef struct tidm_binlog_table {
	uint64_t table_id;
	uint16_t flags;
	const char *db;	   /* NUL-terminated */
	const char *table; /* NUL-terminated */
	unsigned ncols;
	tidm_binlog_column *cols;
	/* Which optional metadata fields were present (bit = 1 << field type 1..13). */
	uint32_t opt_meta;
	unsigned n_pk;	     /* primary key columns, in key order: */
	const uint16_t *pk;  /* column indexes */
} tidm_binlog_table;

/* ---- values ---- */

enum tidm_binlog_value_kind {
	TIDM_BV_ABSENT = 0, /* column not in this image (MINIMAL/NOBLOB row image) */
	TIDM_BV_NULL,
	TIDM_BV_INT,	  /* v.i; TINY..LONGLONG signed */
	TIDM_BV_UINT,	  /* v.u; unsigned integers */
	TIDM_BV_FLOAT,	  /* v.d (FLOAT widened to double) */
	TIDM_BV_DOUBLE,	  /* v.d */
	TIDM_BV_DECIMAL,  /* v.bytes/len raw NEWDECIMAL; meta = precision << 8 | scale */
	TIDM_BV_STRING,	  /* v.bytes/len; CHAR/VARCHAR/BINARY; charset (0 = unknown). The server
			     strips CHAR's trailing spaces and BINARY(n)'s trailing 0x00 bytes:
			     re-pad BINARY to n bytes (n = meta) before comparing or writing */
	TIDM_BV_BLOB,	  /* v.bytes/len; BLOB/TEXT family; charset (0 = unknown, 63 = binary) */
	TIDM_BV_YEAR,	  /* v.i: 0 or 1901..2155 */
	TIDM_BV_DATE,	  /* v.t (year, month, day) */
	TIDM_BV_TIME,	  /* v.t (neg, hour up to 838, minute, second, usec; fsp) */
	TIDM_BV_DATETIME, /* v.t (all fields; fsp) */
	TIDM_BV_TIMESTAMP, /* v.ts seconds since epoch UTC + usec; fsp; 0 s = zero date */
	TIDM_BV_JSON,	  /* v.bytes/len: MySQL binary JSON (len 0 = JSON null) */
	TIDM_BV_JSON_TEXT, /* v.bytes/len: JSON text (result of a PARTIAL_UPDATE_ROWS diff) */
	TIDM_BV_JSON_DIFF, /* v.bytes/len: PARTIAL_UPDATE_ROWS diffs whose before document is
			      not in the before image (MINIMAL): op, path, value list as logged */
	TIDM_BV_BIT,	  /* v.u; len = number of bits */
	TIDM_BV_ENUM,	  /* v.u: 1-based index, 0 = '' */
	TIDM_BV_SET,	  /* v.u: bit i = member i */
	TIDM_BV_GEOMETRY, /* v.bytes/len: u32 SRID + WKB */
	TIDM_BV_VECTOR,	  /* v.bytes/len: len/4 float32 little-endian */
};

typedef struct tidm_binlog_time {
	int32_t year;
	uint16_t hour; /* TIME: up to 838 */
	uint8_t month, day, minute, second;
	bool neg; /* TIME only */
	uint32_t usec;
} tidm_binlog_time;

typedef struct tidm_binlog_value {
	uint8_t kind; /* enum tidm_binlog_value_kind */
	uint8_t type; /* column real type */
	uint8_t fsp;  /* fractional digits of temporal values */
	uint16_t charset;
	uint16_t meta;
	uint32_t len;
	union {
		int64_t i;
		uint64_t u;
		double d;
		const uint8_t *bytes;
		tidm_binlog_time t;
		struct {
			int64_t sec;
			uint32_t usec;
		} ts;
	} v;
} tidm_binlog_value;

/* Append the DECIMAL value's exact text ("-12.50"). TIDM_ECORRUPT on bad bytes. */
int tidm_binlog_value_decimal_text(tidm_buf *out, const tidm_binlog_value *v);
/* Append the JSON value's MySQL text (JSON or JSON_TEXT kinds). TIDM_ECORRUPT on bad bytes. */
int tidm_binlog_value_json_text(tidm_buf *out, const tidm_binlog_value *v);
/* Append a temporal value as SQL literal text without quotes: DATE "2021-06-15",
 * TIME "-838:59:59.000000", DATETIME "2021-06-15 12:34:56.789", TIMESTAMP as UTC
 * date-time (zero: "0000-00-00 00:00:00"); fsp digits of fraction. */
void tidm_binlog_value_time_text(tidm_buf *out, const tidm_binlog_value *v);
/*
 * Append the value as a JSON value (what `tidm binlog decode` prints): numbers as numbers
 * (DECIMAL as a string for exactness), strings as JSON strings when valid UTF-8 and not of
 * the binary charset (63), else {"hex":"..."}, temporals as strings (time_text), JSON documents inline, ENUM/SET as
 * their names when `col` carries ENUM/SET strings (else the index / bit mask), BIT and
 * YEAR as numbers, GEOMETRY as {"hex":...}, VECTOR as an array of numbers, NULL as null.
 * col may be NULL. Returns 0 or TIDM_ECORRUPT (bad DECIMAL/JSON bytes).
 */
int tidm_binlog_value_to_json(tidm_buf *out, const tidm_binlog_value *v,
			      const tidm_binlog_column *col);

/* ---- rows events ---- */

enum tidm_binlog_rows_kind { TIDM_ROWS_INSERT = 1, TIDM_ROWS_UPDATE, TIDM_ROWS_DELETE };

/* Rows event flags. */
#define TIDM_BINLOG_ROWS_STMT_END 0x0001
#define TIDM_BINLOG_ROWS_NO_FOREIGN_KEY_CHECKS 0x0002 /* the session had foreign_key_checks = 0 */
/* Table id of the dummy "end of statement" rows event that has no TABLE_MAP. */
#define TIDM_BINLOG_DUMMY_TABLE_ID 0x00ffffffULL

typedef struct tidm_binlog_rows {
	uint8_t kind;	 /* enum tidm_binlog_rows_kind */
	uint8_t version; /* 1 or 2 */
	bool partial;	 /* PARTIAL_UPDATE_ROWS (JSON diffs in after images) */
	uint64_t table_id;
	uint16_t flags;
	const struct tidm_binlog_table *table; /* NULL for the dummy table id */
	unsigned ncols;
	const uint8_t *present1; /* columns-present bitmap (before image; after for INSERT) */
	const uint8_t *present2; /* UPDATE: after-image bitmap; else NULL */
	const uint8_t *extra;	 /* v2 extra row info (after the 2-byte length) */
	size_t extra_len;
	/* parsed from extra: partition (type 1) and NDB info (type 0, raw incl. its header) */
	bool has_partition;
	uint16_t partition_id, source_partition_id; /* source: UPDATE / PARTIAL_UPDATE only */
	const uint8_t *ndb_info;
	size_t ndb_info_len;
	const uint8_t *data; /* row images (decompressed for MariaDB compressed events) */
	size_t data_len;
} tidm_binlog_rows;

typedef struct tidm_binlog_row {
	unsigned ncols;
	/* Values indexed by column ordinal (0-based); NULL when the event has no such image
	 * (before for INSERT, after for DELETE). Columns not in the image are TIDM_BV_ABSENT. */
	const tidm_binlog_value *before;
	const tidm_binlog_value *after;
} tidm_binlog_row;

struct tidm_binlog_decoder;
struct tidm_binlog_event;

typedef struct tidm_binlog_row_iter {
	struct tidm_binlog_decoder *dec;
	const tidm_binlog_rows *rows;
	const uint8_t *p, *end;
	unsigned index; /* rows produced so far */
	unsigned n_present1, n_present2; /* columns in each image (bits set in the bitmaps) */
} tidm_binlog_row_iter;

/* Start iterating the rows of a decoded rows event. TIDM_EINVAL if ev is not one. */
int tidm_binlog_rows_begin(tidm_binlog_row_iter *it, struct tidm_binlog_decoder *dec,
			   const struct tidm_binlog_event *ev);
/* Decode the next row: 1 with *out filled, 0 at the end, TIDM_ECORRUPT (message names the
 * row, column and type) or TIDM_EUNSUPPORTED (a column type we cannot decode). */
int tidm_binlog_rows_next(tidm_binlog_row_iter *it, tidm_binlog_row *out);

#endif
