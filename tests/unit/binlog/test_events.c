/*
 * test_events.c - the binlog decoder on hand-built events: the byte examples of
 * binlog-protocol.md (temporal values, GTID_TAGGED), PARTIAL_UPDATE_ROWS applied to a full
 * before image, MariaDB compressed QUERY and rows events, errors with exact messages, and a
 * robustness sweep: every event of the fixture files truncated at every length and with
 * bytes flipped must decode or fail with a code, never crash (run under ASan/UBSan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "binlog/event.h"
#include "binlog/file.h"
#include "binlog/rows.h"
#include "util/buf.h"
#include "util/err.h"

/* Build an event (no CRC) into a fresh malloc of the exact size (so ASan sees overreads). */
static uint8_t *mkev(uint8_t type, const uint8_t *body, size_t blen, size_t *n)
{
	size_t sz = 19 + blen;
	uint8_t *p = malloc(sz);
	assert_non_null(p);
	memset(p, 0, 19);
	p[4] = type;
	p[5] = 1;
	p[9] = (uint8_t)sz;
	p[10] = (uint8_t)(sz >> 8);
	p[11] = (uint8_t)(sz >> 16);
	memcpy(p + 19, body, blen);
	*n = sz;
	return p;
}

static int decode(tidm_binlog_decoder *d, tidm_binlog_event *ev, uint8_t type, const uint8_t *body,
		  size_t blen, uint8_t **keep)
{
	size_t n;
	uint8_t *p = mkev(type, body, blen, &n);
	int rc = tidm_binlog_decoder_decode(d, ev, p, n, 0);
	*keep = p; /* events point into p: caller frees */
	return rc;
}

/* TABLE_MAP of `d`.`t` (table id 1) with one column of type/meta. */
static void map_one(tidm_binlog_decoder *d, uint8_t type, const uint8_t *meta, uint8_t mlen)
{
	uint8_t b[64], *keep;
	size_t n = 0;
	tidm_binlog_event ev;
	memcpy(b, "\x01\0\0\0\0\0\0\0\x01" "d\0\x01t\0\x01", 15);
	n = 15;
	b[n++] = type;
	b[n++] = mlen;
	if (mlen)
		memcpy(b + n, meta, mlen);
	n += mlen;
	b[n++] = 1; /* nullable */
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_TABLE_MAP, b, n, &keep), 0);
	assert_string_equal(ev.u.table_map->table, "t");
	free(keep);
}

/* One WRITE_ROWS_V2 row with a single non-NULL value; returns its JSON text. */
static char *one_value(uint8_t type, const uint8_t *meta, uint8_t mlen, const uint8_t *val,
		       size_t vlen)
{
	tidm_binlog_decoder *d = tidm_binlog_decoder_new();
	tidm_binlog_event ev;
	tidm_binlog_row_iter it;
	tidm_binlog_row row;
	tidm_buf out = TIDM_BUF_INIT;
	uint8_t b[128], *keep;
	size_t n;

	map_one(d, type, meta, mlen);
	memcpy(b, "\x01\0\0\0\0\0\x01\0\x02\0\x01\x01\x00", 13); /* id, flags, xlen, 1 col, bitmap, nulls */
	memcpy(b + 13, val, vlen);
	n = 13 + vlen;
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_WRITE_ROWS_V2, b, n, &keep), 0);
	assert_int_equal(tidm_binlog_rows_begin(&it, d, &ev), 0);
	assert_int_equal(tidm_binlog_rows_next(&it, &row), 1);
	assert_int_equal(tidm_binlog_value_to_json(&out, &row.after[0], &ev.u.rows.table->cols[0]), 0);
	assert_int_equal(tidm_binlog_rows_next(&it, &row), 0);
	free(keep);
	tidm_binlog_decoder_free(d);
	return tidm_buf_detach(&out);
}

#define CHECK_VALUE(type, meta, val, want)                                                     \
	do {                                                                                    \
		char *got_ = one_value(type, (const uint8_t *)(meta), sizeof(meta) - 1,          \
				       (const uint8_t *)(val), sizeof(val) - 1);                 \
		assert_string_equal(got_, want);                                                \
		free(got_);                                                                     \
	} while (0)

static void test_binlog_events__protocol_examples(void **state)
{
	(void)state;
	/* binlog-protocol.md 4.2 */
	CHECK_VALUE(TIDM_COL_TIME2, "\x00", "\x80\xc8\xb8", "\"12:34:56\"");
	CHECK_VALUE(TIDM_COL_TIME2, "\x00", "\x7f\xff\xff", "\"-00:00:01\"");
	CHECK_VALUE(TIDM_COL_TIME2, "\x06", "\x7e\xfd\xfb\xff\xd8\x75", "\"-16:08:04.010123\"");
	/* -1.5 s at fsp 2: int part -2, fraction byte 0xce (-50 hundredths): the borrow rule */
	CHECK_VALUE(TIDM_COL_TIME2, "\x02", "\x7f\xff\xfe\xce", "\"-00:00:01.50\"");
	CHECK_VALUE(TIDM_COL_DATETIME2, "\x03", "\x99\xa9\xde\xc8\xb8\x1e\xd2",
		    "\"2021-06-15 12:34:56.789\"");
	CHECK_VALUE(TIDM_COL_DATETIME2, "\x00", "\x80\x00\x00\x00\x00", "\"0000-00-00 00:00:00\"");
	CHECK_VALUE(TIDM_COL_TIMESTAMP2, "\x01", "\x65\x53\xf1\x00\x32", "\"2023-11-14 22:13:20.5\"");
	CHECK_VALUE(TIDM_COL_TIMESTAMP2, "\x00", "\x00\x00\x00\x00", "\"0000-00-00 00:00:00\"");
	CHECK_VALUE(TIDM_COL_DATE, "", "\xcf\xca\x0f", "\"2021-06-15\"");
	/* 4.1 */
	CHECK_VALUE(TIDM_COL_NEWDECIMAL, "\x0e\x04", "\x81\x0d\xfb\x38\xd2\x04\xd2",
		    "\"1234567890.1234\"");
	CHECK_VALUE(TIDM_COL_NEWDECIMAL, "\x05\x02", "\x7f\xff\xfa", "\"-0.05\"");
	/* integers: INT24 sign extension, LONGLONG extremes (no SIGNEDNESS: signed) */
	CHECK_VALUE(TIDM_COL_INT24, "", "\xff\xff\xff", "-1");
	CHECK_VALUE(TIDM_COL_LONGLONG, "", "\x00\x00\x00\x00\x00\x00\x00\x80", "-9223372036854775808");
	CHECK_VALUE(TIDM_COL_YEAR, "", "\x7a", "2022");
	CHECK_VALUE(TIDM_COL_YEAR, "", "\x00", "0");
	/* BIT(10): meta byte0 = bits % 8, byte1 = bits / 8; value big-endian */
	CHECK_VALUE(TIDM_COL_BIT, "\x02\x01", "\x02\x01", "513");
	CHECK_VALUE(TIDM_COL_DOUBLE, "\x08", "\x9a\x99\x99\x99\x99\x99\xb9\x3f", "0.1");
	CHECK_VALUE(TIDM_COL_FLOAT, "\x04", "\xcd\xcc\x8c\x3f", "1.1");
	/* VARCHAR(300): 2-byte length; CHAR with the real-type trick: 0xfe, 3 bytes */
	CHECK_VALUE(TIDM_COL_VARCHAR, "\x2c\x01", "\x03\x00" "a\"b", "\"a\\\"b\"");
	CHECK_VALUE(TIDM_COL_STRING, "\xfe\x03", "\x02hi", "\"hi\"");
	/* ENUM (real type 0xf7, 1 byte) and SET (0xf8, 1 byte) without names: index / bits */
	CHECK_VALUE(TIDM_COL_STRING, "\xf7\x01", "\x02", "2");
	CHECK_VALUE(TIDM_COL_STRING, "\xf8\x01", "\x05", "5");
	/* BLOB with 2-byte length, not UTF-8: hex */
	CHECK_VALUE(TIDM_COL_BLOB, "\x02", "\x02\x00\xff\x00", "{\"hex\":\"ff00\"}");
	/* JSON (binary) and VECTOR */
	CHECK_VALUE(TIDM_COL_JSON, "\x04", "\x02\x00\x00\x00\x04\x01", "true");
	CHECK_VALUE(TIDM_COL_VECTOR, "\x04", "\x08\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\xc0",
		    "[1,-2]");
}

static void test_binlog_events__gtid_tagged_example(void **state)
{
	/* go-mysql-org/go-mysql#845, quoted in binlog-protocol.md 3.11 */
	static const uint8_t body[] =
		"\x02\x78\x00\x00\x00\x02\xaa\xaa\xaa\xaa\x88\x88\x66\x66\x44\x44\x22\x22\x22\x22"
		"\x22\x22\x04\x73\x20\x1b\x06\x14secondtest\x08\xc1\x0e\x0a\xd1\x0e\x0c\x7f\x23\x35"
		"\x48\x61\xbd\x26\x06\x10\x59\x04\x12\xa3\xff\x0a";
	tidm_binlog_decoder *d = tidm_binlog_decoder_new();
	tidm_binlog_event ev;
	uint8_t *keep;
	char u[37];
	(void)state;

	assert_int_equal(sizeof(body) - 1, 60);
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_GTID_TAGGED, body, sizeof(body) - 1, &keep), 0);
	tidm_binlog_uuid_format(u, ev.u.gtid.sid);
	assert_string_equal(u, "55555555-4444-3333-2222-111111111111");
	assert_int_equal(ev.u.gtid.gno, 111111);
	assert_int_equal(ev.u.gtid.tag_len, 10);
	assert_memory_equal(ev.u.gtid.tag, "secondtest", 10);
	assert_int_equal(ev.u.gtid.last_committed, 472);
	assert_int_equal(ev.u.gtid.sequence_number, 474);
	assert_int_equal(ev.u.gtid.immediate_commit_ts, 1731444683060515ULL);
	assert_int_equal(ev.u.gtid.original_commit_ts, 1731444683060515ULL);
	assert_int_equal(ev.u.gtid.transaction_length, 278);
	assert_int_equal(ev.u.gtid.immediate_server_version, 90100);
	assert_int_equal(ev.u.gtid.original_server_version, 90100);
	free(keep);
	tidm_binlog_decoder_free(d);
}

static void test_binlog_events__partial_json_with_before(void **state)
{
	/* {"a": 1} as binary JSON: small object, 1 key, int16 inlined */
	static const uint8_t doc[] = {0x00, 0x01, 0x00, 0x0c, 0x00, 0x0b, 0x00, 0x01, 0x00,
				      0x05, 0x01, 0x00, 'a'};
	/* REPLACE $.a with int16 2 */
	static const uint8_t diff[] = {0x00, 0x03, '$', '.', 'a', 0x03, 0x05, 0x02, 0x00};
	tidm_binlog_decoder *d = tidm_binlog_decoder_new();
	tidm_binlog_event ev;
	tidm_binlog_row_iter it;
	tidm_binlog_row row;
	tidm_buf out = TIDM_BUF_INIT;
	uint8_t b[128], *keep;
	size_t n = 0;
	(void)state;

	map_one(d, TIDM_COL_JSON, (const uint8_t *)"\x04", 1);
	memcpy(b, "\x01\0\0\0\0\0\x01\0\x02\0\x01\x01\x01", 13); /* id, flags, xlen, 1 col, 2 bitmaps */
	n = 13;
	b[n++] = 0; /* before: nulls */
	memcpy(b + n, "\x0d\0\0\0", 4);
	n += 4;
	memcpy(b + n, doc, sizeof(doc));
	n += sizeof(doc);
	b[n++] = 1; /* value_options: PARTIAL_JSON */
	b[n++] = 1; /* partial bits: the JSON column */
	b[n++] = 0; /* after: nulls */
	memcpy(b + n, "\x09\0\0\0", 4);
	n += 4;
	memcpy(b + n, diff, sizeof(diff));
	n += sizeof(diff);
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_PARTIAL_UPDATE_ROWS, b, n, &keep), 0);
	assert_true(ev.u.rows.partial);
	assert_int_equal(tidm_binlog_rows_begin(&it, d, &ev), 0);
	assert_int_equal(tidm_binlog_rows_next(&it, &row), 1);
	assert_int_equal(row.before[0].kind, TIDM_BV_JSON);
	assert_int_equal(row.after[0].kind, TIDM_BV_JSON_TEXT);
	assert_int_equal(tidm_binlog_value_to_json(&out, &row.before[0], NULL), 0);
	tidm_buf_putc(&out, '|');
	assert_int_equal(tidm_binlog_value_to_json(&out, &row.after[0], NULL), 0);
	assert_string_equal(out.data, "{\"a\": 1}|{\"a\": 2}");
	assert_int_equal(tidm_binlog_rows_next(&it, &row), 0);
	tidm_buf_dispose(&out);
	free(keep);
	tidm_binlog_decoder_free(d);
}

/* MariaDB compressed block: 0x80 | lenlen, length big-endian, zlib stream. */
static size_t maria_block(uint8_t *out, const void *src, size_t n)
{
	uLongf cl = compressBound((uLong)n);
	out[0] = 0x82;
	out[1] = (uint8_t)(n >> 8);
	out[2] = (uint8_t)n;
	assert_int_equal(compress(out + 3, &cl, src, (uLong)n), Z_OK);
	return 3 + cl;
}

static void test_binlog_events__mariadb_compressed(void **state)
{
	static const char sql[] = "INSERT INTO t VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9)";
	tidm_binlog_decoder *d = tidm_binlog_decoder_new();
	tidm_binlog_event ev;
	tidm_binlog_row_iter it;
	tidm_binlog_row row;
	uint8_t b[512], *keep;
	size_t n;
	(void)state;

	/* QUERY_COMPRESSED: thread 7, exec 0, db "d", error 0, no status vars */
	memcpy(b, "\x07\0\0\0\0\0\0\0\x01\0\0\0\0d\0", 15);
	n = 15 + maria_block(b + 15, sql, sizeof(sql) - 1);
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_MARIA_QUERY_COMPRESSED, b, n, &keep), 0);
	assert_int_equal(ev.u.query.sql_len, sizeof(sql) - 1);
	assert_memory_equal(ev.u.query.sql, sql, sizeof(sql) - 1);
	assert_int_equal(ev.u.query.thread_id, 7);
	free(keep);

	/* WRITE_ROWS_COMPRESSED_V1 of two LONG rows 5 and -6 */
	map_one(d, TIDM_COL_LONG, NULL, 0);
	static const uint8_t rows[] = {0x00, 5, 0, 0, 0, 0x00, 0xfa, 0xff, 0xff, 0xff};
	memcpy(b, "\x01\0\0\0\0\0\x01\0\x01\x01", 10);
	n = 10 + maria_block(b + 10, rows, sizeof(rows));
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_MARIA_WRITE_ROWS_COMPRESSED_V1, b, n, &keep), 0);
	assert_int_equal(tidm_binlog_rows_begin(&it, d, &ev), 0);
	assert_int_equal(tidm_binlog_rows_next(&it, &row), 1);
	assert_int_equal(row.after[0].v.i, 5);
	assert_int_equal(tidm_binlog_rows_next(&it, &row), 1);
	assert_int_equal(row.after[0].v.i, -6);
	assert_int_equal(tidm_binlog_rows_next(&it, &row), 0);
	free(keep);

	/* a corrupt zlib stream */
	n = 10 + maria_block(b + 10, rows, sizeof(rows));
	b[14] ^= 0x55;
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_MARIA_WRITE_ROWS_COMPRESSED_V1, b, n, &keep),
			 TIDM_ECORRUPT);
	assert_non_null(strstr(tidm_err_msg(), "MARIA_WRITE_ROWS_COMPRESSED_V1 event: "));
	free(keep);
	tidm_binlog_decoder_free(d);
}

static void test_binlog_events__errors(void **state)
{
	tidm_binlog_decoder *d = tidm_binlog_decoder_new();
	tidm_binlog_event ev;
	tidm_binlog_row_iter it;
	tidm_binlog_row row;
	uint8_t *keep;
	(void)state;

	/* unknown type without IGNORABLE: refused, with the number */
	assert_int_equal(decode(d, &ev, 99, (const uint8_t *)"x", 1, &keep), TIDM_EUNSUPPORTED);
	assert_string_equal(tidm_err_msg(), "unknown event type 99 (flags 0x0000)");
	free(keep);
	/* ... with IGNORABLE: reported as undecoded */
	size_t n;
	keep = mkev(99, (const uint8_t *)"x", 1, &n);
	keep[18] = 0x00;
	keep[17] = 0x80;
	assert_int_equal(tidm_binlog_decoder_decode(d, &ev, keep, n, 0), 0);
	assert_true(ev.unsupported);
	free(keep);
	/* rows event without its TABLE_MAP */
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_WRITE_ROWS_V2,
				(const uint8_t *)"\x09\0\0\0\0\0\x01\0\x02\0\x01\x01\x00\x01\0\0\0", 17,
				&keep),
			 TIDM_ENOTFOUND);
	assert_string_equal(tidm_err_msg(), "WRITE_ROWS_V2 event: no TABLE_MAP for table id 9");
	free(keep);
	/* a row cut short */
	map_one(d, TIDM_COL_LONG, NULL, 0);
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_WRITE_ROWS_V2,
				(const uint8_t *)"\x01\0\0\0\0\0\x01\0\x02\0\x01\x01\x00\x01\0", 15, &keep),
			 0);
	assert_int_equal(tidm_binlog_rows_begin(&it, d, &ev), 0);
	assert_int_equal(tidm_binlog_rows_next(&it, &row), TIDM_ECORRUPT);
	assert_string_equal(tidm_err_msg(), "rows event `d`.`t`: row 1 runs past the end of the "
					    "event (at row byte 1 of 3)");
	free(keep);
	/* header size disagreeing with the buffer */
	keep = mkev(TIDM_BINLOG_XID, (const uint8_t *)"12345678", 8, &n);
	assert_int_equal(tidm_binlog_decoder_decode(d, &ev, keep, n - 1, 0), TIDM_ECORRUPT);
	assert_string_equal(tidm_err_msg(), "XID event: header says 27 bytes, have 26");
	free(keep);
	/* dummy rows event (table id 0x00ffffff, STMT_END) without a map: framed, no rows */
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_WRITE_ROWS_V2,
				(const uint8_t *)"\xff\xff\xff\0\0\0\x01\0\x02\0\x00", 11, &keep),
			 0);
	assert_null(ev.u.rows.table);
	assert_int_equal(tidm_binlog_rows_begin(&it, d, &ev), 0);
	assert_int_equal(tidm_binlog_rows_next(&it, &row), 0);
	free(keep);
	tidm_binlog_decoder_free(d);
}

static void test_binlog_events__control_events(void **state)
{
	tidm_binlog_decoder *d = tidm_binlog_decoder_new();
	tidm_binlog_event ev;
	uint8_t *keep;
	(void)state;

	/* HEARTBEAT_V2: TLV file name, position (lenenc 0xfc + 2 bytes), end mark */
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_HEARTBEAT_V2,
				(const uint8_t *)"\x01\x0d" "binlog.000042\x02\x03\xfc\x34\x12\x00", 21,
				&keep),
			 0);
	assert_int_equal(ev.u.heartbeat.name_len, 13);
	assert_memory_equal(ev.u.heartbeat.name, "binlog.000042", 13);
	assert_int_equal(ev.u.heartbeat.position, 0x1234);
	free(keep);

	/* XA_PREPARE: one_phase 0, formatID 1, gtrid "ab", bqual "c" */
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_XA_PREPARE,
				(const uint8_t *)"\x00\x01\0\0\0\x02\0\0\0\x01\0\0\0abc", 16, &keep),
			 0);
	assert_false(ev.u.xa_prepare.one_phase);
	assert_int_equal(ev.u.xa_prepare.format_id, 1);
	assert_int_equal(ev.u.xa_prepare.gtrid_len, 2);
	assert_int_equal(ev.u.xa_prepare.bqual_len, 1);
	assert_memory_equal(ev.u.xa_prepare.data, "abc", 3);
	free(keep);

	/* MariaDB GTID 0-1-100 with a commit id (flags2 2 | TRANSACTIONAL 4) */
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_MARIA_GTID,
				(const uint8_t *)"\x64\0\0\0\0\0\0\0\x00\0\0\0\x06\x07\0\0\0\0\0\0\0",
				21, &keep),
			 0);
	assert_int_equal(ev.u.maria_gtid.seq_no, 100);
	assert_int_equal(ev.u.maria_gtid.domain_id, 0);
	assert_int_equal(ev.u.maria_gtid.server_id, 1);
	assert_int_equal(ev.u.maria_gtid.commit_id, 7);
	free(keep);

	/* MariaDB GTID_LIST claiming more entries than bytes */
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_MARIA_GTID_LIST,
				(const uint8_t *)"\x02\0\0\0\0\0\0\0\x01\0\0\0\x05\0\0\0\0\0\0\0", 20,
				&keep),
			 TIDM_ECORRUPT);
	assert_string_equal(tidm_err_msg(), "MARIA_GTID_LIST event: more entries than bytes");
	free(keep);

	/* INCIDENT 1 "LOST_EVENTS" */
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_INCIDENT,
				(const uint8_t *)"\x01\x00\x0bLOST_EVENTS", 14, &keep),
			 0);
	assert_int_equal(ev.u.incident.type, 1);
	assert_int_equal(ev.u.incident.message_len, 11);
	free(keep);

	/* USER_VAR @a = 5 (INT) */
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_USER_VAR,
				(const uint8_t *)"\x01\0\0\0a\x00\x02\x21\0\0\0\x08\0\0\0\x05\0\0\0\0\0\0\0\x00",
				24, &keep),
			 0);
	assert_int_equal(ev.u.user_var.name_len, 1);
	assert_int_equal(ev.u.user_var.value_type, 2);
	assert_int_equal(ev.u.user_var.value_len, 8);
	assert_int_equal(ev.u.user_var.value[0], 5);
	free(keep);

	/* QUERY with a MariaDB 11 character-set-collations block before Q_CHARSET */
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_QUERY,
				(const uint8_t *)"\x01\0\0\0\0\0\0\0\x01\0\0\x0d\0"
						 "\x83\x01\x21\0\xe0\0"
						 "\x04\x21\0\x21\0\x08\0"
						 "d\0BEGIN",
				33, &keep),
			 0);
	assert_true(ev.u.query.has_charset);
	assert_int_equal(ev.u.query.charset_client, 33);
	assert_int_equal(ev.u.query.collation_server, 8);
	assert_int_equal(ev.u.query.sql_len, 5);
	assert_memory_equal(ev.u.query.sql, "BEGIN", 5);
	free(keep);
	tidm_binlog_decoder_free(d);
}

static void test_binlog_events__crc32_matches_zlib(void **state)
{
	uint8_t *buf = malloc(4096 + 16);
	uint32_t seed = 12345;
	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < 4096 + 16; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
	for (int mode = 0; mode < 2; mode++) {
		tidm_binlog_crc32_force(mode == 0 ? 0 : -1);
		for (size_t off = 0; off < 16; off++)
			for (size_t n = 0; n <= 700; n++) {
				uint32_t want = (uint32_t)crc32(0, buf + off, (uInt)n);
				assert_int_equal(tidm_binlog_crc32(0, buf + off, n), want);
				/* continuing from a previous crc */
				want = (uint32_t)crc32(0x12345678u, buf + off, (uInt)n);
				assert_int_equal(tidm_binlog_crc32(0x12345678u, buf + off, n), want);
			}
		assert_int_equal(tidm_binlog_crc32(0, buf, 4096), (uint32_t)crc32(0, buf, 4096));
	}
	tidm_binlog_crc32_force(-1);
	/* the check value of CRC-32 */
	assert_int_equal(tidm_binlog_crc32(0, (const uint8_t *)"123456789", 9), 0xcbf43926u);
	free(buf);
}

/* lenenc of v into o; returns bytes written */
static size_t put_lenenc(uint8_t *o, uint64_t v)
{
	if (v < 251) {
		o[0] = (uint8_t)v;
		return 1;
	}
	if (v < 65536) {
		o[0] = 0xfc;
		o[1] = (uint8_t)v;
		o[2] = (uint8_t)(v >> 8);
		return 3;
	}
	o[0] = 0xfe;
	for (int i = 0; i < 8; i++)
		o[1 + i] = (uint8_t)(v >> (8 * i));
	return 9;
}

/* TRANSACTION_PAYLOAD body: TLV header (size, ZSTD, declared size), then the frame. */
static size_t payload_body(uint8_t *o, const uint8_t *frame, size_t flen, uint64_t declared)
{
	uint8_t tmp[16];
	size_t n = 0, k;
	o[n++] = 1;
	k = put_lenenc(tmp, flen);
	o[n++] = (uint8_t)k;
	memcpy(o + n, tmp, k);
	n += k;
	o[n++] = 2;
	o[n++] = 1;
	o[n++] = 0; /* ZSTD */
	o[n++] = 3;
	k = put_lenenc(tmp, declared);
	o[n++] = (uint8_t)k;
	memcpy(o + n, tmp, k);
	n += k;
	o[n++] = 0;
	memcpy(o + n, frame, flen);
	return n + flen;
}

static void test_binlog_events__transaction_payload(void **state)
{
	enum { NXID = 50000 };
	size_t raw_len = (size_t)NXID * 27, n;
	uint8_t *raw = malloc(raw_len), *frame, *body, *keep;
	tidm_binlog_decoder *d = tidm_binlog_decoder_new();
	tidm_binlog_event ev, in;
	(void)state;

	assert_non_null(raw);
	for (size_t i = 0; i < NXID; i++) { /* XID events, no CRC, log_pos 0 */
		uint8_t *e = raw + i * 27;
		memset(e, 0, 27);
		e[4] = TIDM_BINLOG_XID;
		e[9] = 27;
		uint64_t x = i + 1;
		memcpy(e + 19, &x, 8);
	}
	size_t fcap = ZSTD_compressBound(raw_len);
	frame = malloc(fcap);
	body = malloc(fcap + 64);
	assert_non_null(frame);
	assert_non_null(body);
	size_t flen = ZSTD_compress(frame, fcap, raw, raw_len, 3);
	assert_false(ZSTD_isError(flen));
	assert_true(flen * 8 + 65536 < raw_len); /* the buffer has to grow while decompressing */

	n = payload_body(body, frame, flen, raw_len);
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_TRANSACTION_PAYLOAD, body, n, &keep), 0);
	assert_int_equal(ev.u.payload.uncompressed_size, raw_len);
	assert_int_equal(tidm_binlog_decoder_payload_begin(d, &ev), 0);
	uint64_t count = 0;
	int k;
	while ((k = tidm_binlog_decoder_payload_next(d, &in)) == 1) {
		assert_int_equal(in.hdr.type, TIDM_BINLOG_XID);
		assert_int_equal(in.u.xid, ++count);
	}
	assert_int_equal(k, 0);
	assert_int_equal(count, NXID);
	free(keep);

	/* a header that lies about the size: refused, no 1 GiB buffer */
	n = payload_body(body, frame, flen, (uint64_t)1 << 30);
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_TRANSACTION_PAYLOAD, body, n, &keep), 0);
	assert_int_equal(tidm_binlog_decoder_payload_begin(d, &ev), TIDM_ECORRUPT);
	assert_non_null(strstr(tidm_err_msg(), "does not decompress to the declared 1073741824 bytes"));
	free(keep);
	/* over the cap */
	n = payload_body(body, frame, flen, ((uint64_t)1 << 30) + 1);
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_TRANSACTION_PAYLOAD, body, n, &keep), 0);
	assert_int_equal(tidm_binlog_decoder_payload_begin(d, &ev), TIDM_ECORRUPT);
	assert_non_null(strstr(tidm_err_msg(), "over the 1073741824 cap"));
	free(keep);
	/* truncated frame */
	n = payload_body(body, frame, flen / 2, raw_len);
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_TRANSACTION_PAYLOAD, body, n, &keep), 0);
	assert_int_equal(tidm_binlog_decoder_payload_begin(d, &ev), TIDM_ECORRUPT);
	free(keep);

	free(raw);
	free(frame);
	free(body);
	tidm_binlog_decoder_free(d);
}

static void test_binlog_events__extra_row_data(void **state)
{
	tidm_binlog_decoder *d = tidm_binlog_decoder_new();
	tidm_binlog_event ev;
	tidm_binlog_row_iter it;
	tidm_binlog_row row;
	uint8_t *keep;
	(void)state;

	map_one(d, TIDM_COL_LONG, NULL, 0);
	/* WRITE_ROWS_V2 with extra: PARTITION id 3; one row 7 */
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_WRITE_ROWS_V2,
				(const uint8_t *)"\x01\0\0\0\0\0\x01\0\x05\0\x01\x03\0\x01\x01\x00\x07\0\0\0",
				20, &keep),
			 0);
	assert_true(ev.u.rows.has_partition);
	assert_int_equal(ev.u.rows.partition_id, 3);
	assert_int_equal(tidm_binlog_rows_begin(&it, d, &ev), 0);
	assert_int_equal(tidm_binlog_rows_next(&it, &row), 1);
	assert_int_equal(row.after[0].v.i, 7);
	free(keep);
	/* UPDATE_ROWS_V2: partition 2 from source partition 1; 5 -> 6 */
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_UPDATE_ROWS_V2,
				(const uint8_t *)"\x01\0\0\0\0\0\x01\0\x07\0\x01\x02\0\x01\0"
						 "\x01\x01\x01\x00\x05\0\0\0\x00\x06\0\0\0",
				28, &keep),
			 0);
	assert_int_equal(ev.u.rows.partition_id, 2);
	assert_int_equal(ev.u.rows.source_partition_id, 1);
	assert_int_equal(tidm_binlog_rows_begin(&it, d, &ev), 0);
	assert_int_equal(tidm_binlog_rows_next(&it, &row), 1);
	assert_int_equal(row.before[0].v.i, 5);
	assert_int_equal(row.after[0].v.i, 6);
	assert_int_equal(tidm_binlog_rows_next(&it, &row), 0);
	free(keep);
	/* NDB item whose length runs past the extra data */
	assert_int_equal(decode(d, &ev, TIDM_BINLOG_WRITE_ROWS_V2,
				(const uint8_t *)"\x01\0\0\0\0\0\x01\0\x05\0\x00\x09\x00\x01\x01", 15,
				&keep),
			 TIDM_ECORRUPT);
	assert_string_equal(tidm_err_msg(), "WRITE_ROWS_V2 event: malformed extra row data");
	free(keep);
	tidm_binlog_decoder_free(d);
}

/* ---- robustness sweep over the fixture events ---- */

static void exercise(tidm_binlog_decoder *d, const uint8_t *p, size_t n, tidm_buf *out)
{
	tidm_binlog_event ev, in;
	tidm_binlog_row_iter it;
	tidm_binlog_row row;
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, p, n);
	if (n >= 13) { /* make the header agree with the (possibly cut) length */
		copy[9] = (uint8_t)n;
		copy[10] = (uint8_t)(n >> 8);
		copy[11] = (uint8_t)(n >> 16);
		copy[12] = (uint8_t)(n >> 24);
	}
	rc = tidm_binlog_decoder_decode(d, &ev, copy, n, TIDM_BINLOG_DECODE_NO_VERIFY);
	if (rc == 0 && !ev.unsupported && tidm_binlog_rows_begin(&it, d, &ev) == 0) {
		while (tidm_binlog_rows_next(&it, &row) == 1)
			for (unsigned i = 0; i < row.ncols; i++) {
				if (row.before)
					(void)tidm_binlog_value_to_json(out, &row.before[i],
									&ev.u.rows.table->cols[i]);
				if (row.after)
					(void)tidm_binlog_value_to_json(out, &row.after[i],
									&ev.u.rows.table->cols[i]);
				tidm_buf_clear(out);
			}
	}
	if (rc == 0 && ev.hdr.type == TIDM_BINLOG_TRANSACTION_PAYLOAD &&
	    tidm_binlog_decoder_payload_begin(d, &ev) == 0) {
		while (tidm_binlog_decoder_payload_next(d, &in) == 1)
			;
	}
	assert_true(rc == 0 || rc == TIDM_ECORRUPT || rc == TIDM_EUNSUPPORTED ||
		    rc == TIDM_ENOTFOUND || rc == TIDM_ENOMEM);
	free(copy);
}

static void sweep_file(const char *rel, size_t *variants)
{
	char path[1200];
	const char *e = getenv("TIDM_FIXTURES");
	tidm_binlog_file *f;
	tidm_binlog_event ev;
	tidm_buf out = TIDM_BUF_INIT;

	snprintf(path, sizeof(path), "%s/binlog/%s", e && *e ? e : "/work/shared/fixtures", rel);
	assert_int_equal(tidm_binlog_file_open(&f, path), 0);
	tidm_binlog_decoder *fz = tidm_binlog_decoder_new();
	while (tidm_binlog_file_next(f, &ev) == 1) {
		const uint8_t *p = ev.raw;
		size_t n = ev.raw_len, step = n > 1024 ? n / 256 : 1;
		for (size_t cut = 0; cut < n; cut += step, (*variants)++)
			exercise(fz, p, cut, &out);
		uint8_t *flip = malloc(n);
		assert_non_null(flip);
		for (size_t i = 19; i < n; i += step, (*variants)++) {
			memcpy(flip, p, n);
			flip[i] ^= (uint8_t)(0x80 >> (i % 8)) | 0x01;
			exercise(fz, flip, n, &out);
			flip[i] = 0xff;
			exercise(fz, flip, n, &out);
		}
		free(flip);
		/* bring the fuzz decoder back in step with the real stream */
		tidm_binlog_event tmp;
		(void)tidm_binlog_decoder_decode(fz, &tmp, p, n, TIDM_BINLOG_DECODE_NO_VERIFY);
	}
	tidm_binlog_decoder_free(fz);
	tidm_binlog_file_close(f);
	tidm_buf_dispose(&out);
}

static void test_binlog_events__robust_to_damage(void **state)
{
	static const char *const files[] = {
		"rust_mysql_common/json-opaque.binlog",
		"rust_mysql_common/json.binlog.000001",
		"rust_mysql_common/vector.binlog",
		"rust_mysql_common/mysql-enum-string-set.000001",
		"rust_mysql_common/binlog-invisible-columns.000001",
		"rust_mysql_common/binlog_transaction_with_GTID_TAG.000001",
		"rust_mysql_common/mariadb-bin.000001",
		"rust_mysql_common/transaction_compression.000001",
		"rust_mysql_common/time_issue.000001",
		"rust_mysql_common/mysql_type_bit.000001",
		"rust_mysql_common/ver_5_1_23.001",
		"mysql-binlog-connector-rust/mysql-bin.000057",
		"mysql-binlog-connector-java/mysql-bin.checksum-none",
		"go-mysql/tcb-eval002c-bin.003320",
		"canal/tsdb/mysql-bin.000003",
	};
	size_t variants = 0;
	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		sweep_file(files[i], &variants);
	print_message("decoded %zu damaged events\n", variants);
	assert_true(variants > 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binlog_events__protocol_examples),
		cmocka_unit_test(test_binlog_events__gtid_tagged_example),
		cmocka_unit_test(test_binlog_events__partial_json_with_before),
		cmocka_unit_test(test_binlog_events__mariadb_compressed),
		cmocka_unit_test(test_binlog_events__errors),
		cmocka_unit_test(test_binlog_events__control_events),
		cmocka_unit_test(test_binlog_events__crc32_matches_zlib),
		cmocka_unit_test(test_binlog_events__transaction_payload),
		cmocka_unit_test(test_binlog_events__extra_row_data),
		cmocka_unit_test(test_binlog_events__robust_to_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
