/*
 * test_json.c - MySQL binary JSON to text and PARTIAL_UPDATE_ROWS diffs.
 *
 * Hand-encoded documents (layout of binlog-protocol.md section 5) check each type and
 * MySQL's text rules; the fixtures json-opaque.binlog (MySQL 9.0.1, the opaque values
 * asserted by rust_mysql_common) and json.binlog.000001 (MySQL 8.0.22: four inserts and a
 * PARTIAL_UPDATE_ROWS event whose after image also carries generated columns name/age
 * computed by the server from the updated document) are decoded from the row events.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "binlog/json.h"
#include "util/buf.h"
#include "util/err.h"

static tidm_buf out;
static int rc;

/* Decode; returns the text ("" on error, rc holds the code). */
static const char *text(const uint8_t *p, size_t n)
{
	tidm_buf_clear(&out);
	rc = tidm_binlog_json_to_text(&out, p, n);
	return rc == 0 ? (out.data ? out.data : "") : "";
}

#define TEXT(...) text((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static const char *dbl(double d)
{
	uint8_t b[9];
	uint64_t bits;
	int i;

	memcpy(&bits, &d, 8);
	b[0] = 0x0b;
	for (i = 0; i < 8; i++)
		b[1 + i] = (uint8_t)(bits >> (8 * i));
	return text(b, sizeof(b));
}

static int setup(void **state)
{
	(void)state;
	tidm_buf_init(&out);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tidm_buf_dispose(&out);
	return 0;
}

static void test_binlog_json__scalars(void **state)
{
	(void)state;
	assert_string_equal(text(NULL, 0), "null");
	assert_string_equal(TEXT(0x04, 0x00), "null");
	assert_string_equal(TEXT(0x04, 0x01), "true");
	assert_string_equal(TEXT(0x04, 0x02), "false");
	assert_string_equal(TEXT(0x05, 0xff, 0xff), "-1");
	assert_string_equal(TEXT(0x06, 0xff, 0xff), "65535");
	assert_string_equal(TEXT(0x07, 0x00, 0x00, 0x00, 0x80), "-2147483648");
	assert_string_equal(TEXT(0x08, 0xff, 0xff, 0xff, 0xff), "4294967295");
	assert_string_equal(TEXT(0x09, 0, 0, 0, 0, 0, 0, 0, 0x80), "-9223372036854775808");
	assert_string_equal(TEXT(0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
			    "18446744073709551615");
	assert_string_equal(TEXT(0x0c, 0x03, 'a', 'b', 'c'), "\"abc\"");
	assert_string_equal(TEXT(0x0c, 0x00), "\"\"");
	/* escapes: " \ \n \t \b \f \r, other controls as \u00xx (lowercase), 0x7f and UTF-8 raw */
	assert_string_equal(TEXT(0x0c, 0x0c, '"', '\\', '\n', '\t', '\b', '\f', '\r', 0x01, 0x1f,
				 0x7f, 0xc3, 0xa9),
			    "\"\\\"\\\\\\n\\t\\b\\f\\r\\u0001\\u001f\x7f\xc3\xa9\"");
}

static void test_binlog_json__doubles(void **state)
{
	(void)state;
	assert_string_equal(dbl(1.5), "1.5");
	assert_string_equal(dbl(1.0), "1.0");
	assert_string_equal(dbl(-2.0), "-2.0");
	assert_string_equal(dbl(0.0), "0.0");
	assert_string_equal(dbl(0.1), "0.1");
	assert_string_equal(dbl(100.0), "100.0");
	assert_string_equal(dbl(1e14), "100000000000000.0");
	assert_string_equal(dbl(1e15), "1e15");
	assert_string_equal(dbl(1e16), "1e16");
	assert_string_equal(dbl(1e20), "1e20");
	assert_string_equal(dbl(1234567890123456.0), "1.234567890123456e15");
	assert_string_equal(dbl(1234567890123456.7), "1234567890123456.8");
	assert_string_equal(dbl(123456789012345678.0), "1.2345678901234568e17");
	assert_string_equal(dbl(1e-7), "0.0000001");
	assert_string_equal(dbl(1e-15), "0.000000000000001");
	assert_string_equal(dbl(1e-16), "1e-16");
	assert_string_equal(dbl(1.234e-16), "1.234e-16");
	assert_string_equal(dbl(-1.5e-5), "-0.000015");
	assert_string_equal(dbl(1.5e300), "1.5e300");
	assert_string_equal(dbl(3.141592653589793), "3.141592653589793");
	assert_string_equal(dbl(NAN), "null");
}

static void test_binlog_json__containers(void **state)
{
	(void)state;
	/* {} and [] */
	assert_string_equal(TEXT(0x00, 0x00, 0x00, 0x04, 0x00), "{}");
	assert_string_equal(TEXT(0x02, 0x00, 0x00, 0x04, 0x00), "[]");
	/* {"a": 1, "b": [true, null]}: small object, 2 keys, inline int16 and a nested array.
	 * header 4, key entries 2x4 (12), value entries 2x3 (18), keys at 18,19, array at 20 */
	assert_string_equal(TEXT(0x00, 0x02, 0x00, 0x1e, 0x00,          /* count 2, size 30 */
				 0x12, 0x00, 0x01, 0x00, 0x13, 0x00, 0x01, 0x00, /* keys */
				 0x05, 0x01, 0x00, 0x02, 0x14, 0x00,             /* values */
				 'a', 'b',                                       /* key bytes */
				 0x02, 0x00, 0x0a, 0x00,                         /* [ count 2, size 10 */
				 0x04, 0x01, 0x00, 0x04, 0x00, 0x00),            /* true, null */
			    "{\"a\": 1, \"b\": [true, null]}");
	/* large array: [-1, 4294967295, "x", 2.5] (int32/uint32 inlined in large containers) */
	assert_string_equal(TEXT(0x03, 0x04, 0x00, 0x00, 0x00, 0x26, 0x00, 0x00, 0x00, /* 4, 38 */
				 0x07, 0xff, 0xff, 0xff, 0xff,                         /* -1 */
				 0x08, 0xff, 0xff, 0xff, 0xff,                         /* uint32 */
				 0x0c, 0x1c, 0x00, 0x00, 0x00,                         /* str @28 */
				 0x0b, 0x1e, 0x00, 0x00, 0x00,                         /* dbl @30 */
				 0x01, 'x', 0, 0, 0, 0, 0, 0, 0x04, 0x40),
			    "[-1, 4294967295, \"x\", 2.5]");
	/* key with characters that need escaping */
	assert_string_equal(TEXT(0x00, 0x01, 0x00, 0x0e, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x04, 0x01,
				 0x00, '"', '\n', 0x00),
			    "{\"\\\"\\n\": true}");
}

static void test_binlog_json__opaque(void **state)
{
	uint8_t big[2 + 60 + 1];
	char want[128];

	(void)state;
	/* DATE 2012-03-18: ((2012*13+3)<<5 | 18) << 17 << 24 */
	{
		uint64_t ym = 2012ull * 13 + 3, v = ((ym << 5 | 18) << 17) << 24;
		uint8_t b[11] = {0x0f, 10, 8};
		int i;
		for (i = 0; i < 8; i++)
			b[3 + i] = (uint8_t)(v >> (8 * i));
		assert_string_equal(text(b, sizeof(b)), "\"2012-03-18\"");
		b[1] = 12; /* DATETIME */
		v = (((ym << 5 | 18) << 17 | 11u << 12 | 30u << 6 | 45u) << 24) | 5;
		for (i = 0; i < 8; i++)
			b[3 + i] = (uint8_t)(v >> (8 * i));
		assert_string_equal(text(b, sizeof(b)), "\"2012-03-18 11:30:45.000005\"");
		b[1] = 7; /* TIMESTAMP prints like DATETIME */
		assert_string_equal(text(b, sizeof(b)), "\"2012-03-18 11:30:45.000005\"");
		b[1] = 11; /* TIME -838:59:59.000000 */
		v = (uint64_t)(-(int64_t)(((838ull << 12) | 59u << 6 | 59u) << 24));
		for (i = 0; i < 8; i++)
			b[3 + i] = (uint8_t)(v >> (8 * i));
		assert_string_equal(text(b, sizeof(b)), "\"-838:59:59.000000\"");
		/* fraction >= 1000000 is corrupt */
		v = 1000000;
		for (i = 0; i < 8; i++)
			b[3 + i] = (uint8_t)(v >> (8 * i));
		assert_string_equal(text(b, sizeof(b)), "");
		assert_int_equal(rc, TIDM_ECORRUPT);
	}
	/* DECIMAL(5,2) -0.05 (decimal.c example) unquoted; wrong length is corrupt */
	assert_string_equal(TEXT(0x0f, 246, 5, 5, 2, 0x7f, 0xff, 0xfa), "-0.05");
	assert_string_equal(TEXT(0x0f, 246, 6, 5, 2, 0x7f, 0xff, 0xfa, 0x00), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	/* VAR_STRING opaque is a plain string; other types base64 */
	assert_string_equal(TEXT(0x0f, 253, 2, 'h', 'i'), "\"hi\"");
	assert_string_equal(TEXT(0x0f, 15, 1, 'U'), "\"base64:type15:VQ==\"");
	assert_string_equal(TEXT(0x0f, 252, 0), "\"base64:type252:\"");
	assert_string_equal(TEXT(0x0f, 16, 2, 0xfb, 0xff), "\"base64:type16:+/8=\"");
	/* 60 bytes -> 80 base64 chars: MySQL breaks the line after 76 */
	memset(big, 0, sizeof(big));
	big[0] = 0x0f;
	big[1] = 15;
	big[2] = 60;
	snprintf(want, sizeof(want), "\"base64:type15:%.76s\\nAAAA\"",
		 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_string_equal(text(big, sizeof(big)), want);
}

/* n nested arrays around null: 02 01 00 07 00 | 02 ... | 04 00 */
static void nested(tidm_buf *b, unsigned n)
{
	unsigned i;

	tidm_buf_clear(b);
	tidm_buf_putc(b, 0x02);
	for (i = 0; i + 1 < n; i++) {
		size_t size = 7 * (size_t)(n - i); /* header 4 + entry 3 + the child */
		uint8_t hdr[7] = {0x01, 0x00, (uint8_t)size, (uint8_t)(size >> 8), 0x02, 0x07, 0x00};
		tidm_buf_put(b, hdr, 7);
	}
	{
		uint8_t last[7] = {0x01, 0x00, 0x07, 0x00, 0x04, 0x00, 0x00};
		tidm_buf_put(b, last, 7);
	}
}

static void test_binlog_json__depth(void **state)
{
	tidm_buf b = TIDM_BUF_INIT;
	char want[512];
	unsigned i;

	(void)state;
	nested(&b, 100);
	for (i = 0; i < 100; i++)
		want[i] = '[';
	memcpy(want + 100, "null", 4);
	for (i = 0; i < 100; i++)
		want[104 + i] = ']';
	want[204] = '\0';
	assert_string_equal(text((const uint8_t *)b.data, b.len), want);
	nested(&b, 101);
	assert_string_equal(text((const uint8_t *)b.data, b.len), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_non_null(strstr(tidm_err_msg(), "nesting deeper than 100"));
	tidm_buf_dispose(&b);
}

static void test_binlog_json__corrupt(void **state)
{
	static const uint8_t good[] = {0x00, 0x02, 0x00, 0x1e, 0x00, 0x12, 0x00, 0x01, 0x00, 0x13,
				       0x00, 0x01, 0x00, 0x05, 0x01, 0x00, 0x02, 0x14, 0x00, 'a',
				       'b',  0x02, 0x00, 0x0a, 0x00, 0x04, 0x01, 0x00, 0x04, 0x00,
				       0x00};
	uint8_t bad[sizeof(good)];
	size_t n;

	(void)state;
	/* every truncation fails cleanly (no read past the end under ASan) */
	for (n = 1; n < sizeof(good); n++) {
		text(good, n);
		assert_int_equal(rc, TIDM_ECORRUPT);
	}
	/* every single-byte change either decodes or fails cleanly */
	for (n = 0; n < sizeof(good); n++) {
		unsigned v;
		for (v = 0; v < 256; v += 7) {
			memcpy(bad, good, sizeof(good));
			bad[n] = (uint8_t)v;
			text(bad, sizeof(bad));
			assert_true(rc == 0 || rc == TIDM_ECORRUPT);
		}
	}
	assert_string_equal(TEXT(0x0d, 0x00), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_non_null(strstr(tidm_err_msg(), "unknown value type 0x0d at offset 1"));
	assert_string_equal(TEXT(0x04, 0x03), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	/* count 0xffff in a 4-byte container: refused before any allocation */
	assert_string_equal(TEXT(0x02, 0xff, 0xff, 0x04, 0x00), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_non_null(strstr(tidm_err_msg(), "element count"));
	/* string length past the end; varlen longer than 5 bytes */
	assert_string_equal(TEXT(0x0c, 0x05, 'a'), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_string_equal(TEXT(0x0c, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	/* three entries pointing at the same string: a document never shares bytes, and
	 * the budget (payload bytes <= document bytes) refuses it */
	assert_string_equal(TEXT(0x02, 0x03, 0x00, 0x1a, 0x00, 0x0c, 0x0d, 0x00, 0x0c, 0x0d, 0x00,
				 0x0c, 0x0d, 0x00, 0x0c, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
				 'a', 'a', 'a', 'a'),
			    "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_non_null(strstr(tidm_err_msg(), "overlap"));
}

/* ---- diffs ---- */

/* {"a": 1, "b": [true, null]} */
static const uint8_t before_doc[] = {0x00, 0x02, 0x00, 0x1e, 0x00, 0x12, 0x00, 0x01, 0x00, 0x13, 0x00,
				     0x01, 0x00, 0x05, 0x01, 0x00, 0x02, 0x14, 0x00, 'a',  'b',  0x02,
				     0x00, 0x0a, 0x00, 0x04, 0x01, 0x00, 0x04, 0x00, 0x00};

static void diff(tidm_buf *d, uint8_t op, const char *path, const uint8_t *val, size_t vlen)
{
	tidm_buf_putc(d, (char)op);
	tidm_buf_putc(d, (char)strlen(path));
	tidm_buf_puts(d, path);
	if (op != 2) {
		tidm_buf_putc(d, (char)vlen);
		tidm_buf_put(d, val, vlen);
	}
}

static const uint8_t v_x[] = {0x0c, 0x01, 'x'};
static const uint8_t v_5[] = {0x05, 0x05, 0x00};
static const uint8_t v_true[] = {0x04, 0x01};

/* Apply one diff to before_doc and return the text ("" on error). */
static const char *apply1(uint8_t op, const char *path, const uint8_t *val, size_t vlen)
{
	tidm_buf d = TIDM_BUF_INIT;

	diff(&d, op, path, val, vlen);
	tidm_buf_clear(&out);
	rc = tidm_binlog_json_apply_diffs(&out, before_doc, sizeof(before_doc), (const uint8_t *)d.data,
					  d.len);
	tidm_buf_dispose(&d);
	return rc == 0 ? out.data : "";
}

static void test_binlog_json__diffs(void **state)
{
	tidm_buf d = TIDM_BUF_INIT;
	size_t end1, end2;

	(void)state;
	assert_string_equal(apply1(0, "$.a", v_x, sizeof(v_x)), "{\"a\": \"x\", \"b\": [true, null]}");
	assert_string_equal(apply1(0, "$.b[1]", v_5, sizeof(v_5)), "{\"a\": 1, \"b\": [true, 5]}");
	assert_string_equal(apply1(0, "$.b[last]", v_5, sizeof(v_5)), "{\"a\": 1, \"b\": [true, 5]}");
	assert_string_equal(apply1(0, "$.b[last-1]", v_5, sizeof(v_5)), "{\"a\": 1, \"b\": [5, null]}");
	assert_string_equal(apply1(0, "$", v_5, sizeof(v_5)), "5");
	assert_string_equal(apply1(1, "$.b[1]", v_5, sizeof(v_5)), "{\"a\": 1, \"b\": [true, 5, null]}");
	assert_string_equal(apply1(1, "$.b[0]", v_5, sizeof(v_5)), "{\"a\": 1, \"b\": [5, true, null]}");
	assert_string_equal(apply1(1, "$.b[9]", v_5, sizeof(v_5)), "{\"a\": 1, \"b\": [true, null, 5]}");
	/* keys stay in MySQL order: by length, then bytes */
	assert_string_equal(apply1(1, "$.ab", v_5, sizeof(v_5)), "{\"a\": 1, \"b\": [true, null], \"ab\": 5}");
	assert_string_equal(apply1(1, "$.A", v_5, sizeof(v_5)), "{\"A\": 5, \"a\": 1, \"b\": [true, null]}");
	assert_string_equal(apply1(1, "$.\"c d\"", v_5, sizeof(v_5)),
			    "{\"a\": 1, \"b\": [true, null], \"c d\": 5}");
	assert_string_equal(apply1(1, "$.\"\\u00e9\\\"\"", v_5, sizeof(v_5)),
			    "{\"a\": 1, \"b\": [true, null], \"\xc3\xa9\\\"\": 5}");
	/* INSERT of an existing member replaces it (Json_object::add_clone) */
	assert_string_equal(apply1(1, "$.a", v_true, sizeof(v_true)), "{\"a\": true, \"b\": [true, null]}");
	assert_string_equal(apply1(2, "$.a", NULL, 0), "{\"b\": [true, null]}");
	assert_string_equal(apply1(2, "$.b[0]", NULL, 0), "{\"a\": 1, \"b\": [null]}");
	assert_string_equal(apply1(2, "$.b[last]", NULL, 0), "{\"a\": 1, \"b\": [true]}");

	/* failures */
	assert_string_equal(apply1(0, "$.zz", v_5, sizeof(v_5)), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_non_null(strstr(tidm_err_msg(), "REPLACE path not found"));
	assert_string_equal(apply1(2, "$.zz", NULL, 0), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_string_equal(apply1(2, "$.b[2]", NULL, 0), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_string_equal(apply1(1, "$.a.c", v_5, sizeof(v_5)), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_string_equal(apply1(1, "$.b.c", v_5, sizeof(v_5)), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_string_equal(apply1(2, "$", NULL, 0), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_string_equal(apply1(0, "a.b", v_5, sizeof(v_5)), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_non_null(strstr(tidm_err_msg(), "bad path \"a.b\""));
	assert_string_equal(apply1(0, "$[*]", v_5, sizeof(v_5)), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_string_equal(apply1(3, "$.a", v_5, sizeof(v_5)), "");
	assert_int_equal(rc, TIDM_ECORRUPT);
	assert_non_null(strstr(tidm_err_msg(), "unknown operation 3"));

	/* a sequence: REPLACE $.a, INSERT $.b[0], REMOVE $.b[last] */
	diff(&d, 0, "$.a", v_x, sizeof(v_x));
	end1 = d.len;
	diff(&d, 1, "$.b[0]", v_5, sizeof(v_5));
	end2 = d.len;
	diff(&d, 2, "$.b[last]", NULL, 0);
	tidm_buf_clear(&out);
	assert_int_equal(tidm_binlog_json_apply_diffs(&out, before_doc, sizeof(before_doc),
						      (const uint8_t *)d.data, d.len),
			 0);
	assert_string_equal(out.data, "{\"a\": \"x\", \"b\": [5, true]}");
	/* every truncation of the diff list fails cleanly */
	{
		size_t n;
		for (n = 1; n < d.len; n++) {
			tidm_buf_clear(&out);
			rc = tidm_binlog_json_apply_diffs(&out, before_doc, sizeof(before_doc),
							  (const uint8_t *)d.data, n);
			assert_true(n == end1 || n == end2 ? rc == 0 : rc == TIDM_ECORRUPT);
		}
	}
	/* an empty before image is null; INSERT under it has no parent */
	tidm_buf_clear(&out);
	assert_int_equal(tidm_binlog_json_apply_diffs(&out, NULL, 0, (const uint8_t *)d.data, d.len),
			 TIDM_ECORRUPT);
	tidm_buf_dispose(&d);
}

/* ---- fixtures ---- */

static uint8_t *read_fixture(const char *rel, size_t *n)
{
	const char *fx = getenv("TIDM_FIXTURES");
	char path[1024];
	FILE *f;
	uint8_t *data;
	long len;

	snprintf(path, sizeof(path), "%s/%s", fx ? fx : "/work/shared/fixtures", rel);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)len);
	if (data && fread(data, 1, (size_t)len, f) != (size_t)len) {
		free(data);
		data = NULL;
	}
	fclose(f);
	*n = (size_t)len;
	return data;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Next event of `type` at or after *pos (CRC32 files); body without header and CRC. */
static const uint8_t *next_event(const uint8_t *bin, size_t len, size_t *pos, uint8_t type, size_t *body_len)
{
	while (*pos + 19 <= len) {
		size_t at = *pos;
		uint32_t size = le32(bin + at + 9);
		assert_true(size >= 23 && at + size <= len);
		*pos += size;
		if (bin[at + 4] == type) {
			*body_len = size - 19 - 4;
			return bin + at + 19;
		}
	}
	return NULL;
}

static void test_binlog_json__fixture_opaque(void **state)
{
	/* MySQL text of the 8 documents (rust_mysql_common asserts the same values; MySQL
	 * prints DECIMAL unquoted and puts a space after ':' and ','). */
	static const char *const want[] = {
		"{\"a\": \"base64:type15:VQ==\"}",
		"{\"b\": \"2012-03-18\"}",
		"{\"c\": \"2012-03-18 11:30:45.000000\"}",
		"{\"c\": \"87:31:46.654321\"}",
		"{\"d\": 123.456}",
		"{\"e\": 9.00}",
		"{\"e\": [0, 1, true, false]}",
		"{\"e\": null}",
	};
	size_t len, pos = 4, blen, i = 0;
	uint8_t *bin = read_fixture("binlog/rust_mysql_common/json-opaque.binlog", &len);
	const uint8_t *b;

	(void)state;
	assert_non_null(bin);
	while ((b = next_event(bin, len, &pos, 30, &blen)) != NULL) {
		/* post-header 10 (extra-data len 2), 1 column, present bitmap, null bitmap */
		size_t off = 8 + (size_t)(b[8] | b[9] << 8);
		uint32_t jlen;
		assert_int_equal(b[off], 1);
		off += 3;
		jlen = le32(b + off);
		off += 4;
		assert_int_equal(off + jlen, blen);
		assert_true(i < 8);
		assert_string_equal(text(b + off, jlen), want[i]);
		i++;
	}
	assert_int_equal(i, 8);
	free(bin);
}

static void test_binlog_json__fixture_partial_update(void **state)
{
	/* mysql.t(id INT, json_col JSON, name VARCHAR(100) AS (json_col->>'$.name'),
	 * age INT AS (json_col->>'$.age')): rows 1..6 inserted by two WRITE_ROWS events. */
	const uint8_t *docs[7] = {NULL};
	size_t doc_len[7] = {0};
	size_t len, pos = 4, blen, rows = 0;
	uint8_t *bin = read_fixture("binlog/rust_mysql_common/json.binlog.000001", &len);
	const uint8_t *b;
	static const char *const data[7] = {NULL, "xxxxxxxxxx", "yyyyyyyyyy", "zzzzzzzzzz",
					    "xxxxxxxxxx", "yyyyyyyyyy", "zzzzzzzzzz"};

	(void)state;
	assert_non_null(bin);
	while ((b = next_event(bin, len, &pos, 30, &blen)) != NULL) {
		size_t off = 8 + (size_t)(b[8] | b[9] << 8);
		assert_int_equal(b[off], 4);
		off += 2;
		while (off < blen) {
			uint32_t id, jlen;
			off += 1; /* null bitmap */
			id = le32(b + off);
			off += 4;
			jlen = le32(b + off);
			off += 4;
			assert_true(id >= 1 && id <= 6);
			docs[id] = b + off;
			doc_len[id] = jlen;
			off += jlen;
			off += 2 + (size_t)(b[off] | b[off + 1] << 8); /* VARCHAR(100) utf8mb4 */
			off += 4;
		}
		assert_int_equal(off, blen);
	}
	/* the inserted documents themselves */
	assert_string_equal(text(docs[1], doc_len[1]),
			    "{\"age\": 24, \"data\": \"xxxxxxxxxx\", \"name\": \"Joe\"}");
	assert_string_equal(text(docs[3], doc_len[3]),
			    "{\"age\": 40, \"data\": \"zzzzzzzzzz\", \"name\": \"Pete\"}");

	pos = 4;
	b = next_event(bin, len, &pos, 39, &blen);
	assert_non_null(b);
	{
		size_t off = 8 + (size_t)(b[8] | b[9] << 8);
		assert_int_equal(b[off], 4);    /* columns */
		assert_int_equal(b[off + 1], 1); /* before image: id only (MINIMAL) */
		assert_int_equal(b[off + 2], 0x0e);
		off += 3;
		while (off < blen) {
			uint32_t id, dlen, age;
			size_t nlen;
			const uint8_t *name;
			char want[128];
			off += 1; /* before: null bitmap */
			id = le32(b + off);
			off += 4;
			assert_true(id >= 1 && id <= 6 && docs[id] != NULL);
			assert_int_equal(b[off], 1); /* value_options: PARTIAL_JSON */
			assert_int_equal(b[off + 1], 1); /* partial bitmap: the JSON column */
			off += 3;                    /* options, partial bitmap, null bitmap */
			dlen = le32(b + off);
			off += 4;
			tidm_buf_clear(&out);
			assert_int_equal(tidm_binlog_json_apply_diffs(&out, docs[id], doc_len[id], b + off, dlen), 0);
			off += dlen;
			nlen = (size_t)(b[off] | b[off + 1] << 8);
			name = b + off + 2;
			off += 2 + nlen;
			age = le32(b + off);
			off += 4;
			/* the server computed name and age from the after document */
			snprintf(want, sizeof(want), "{\"age\": %u, \"data\": \"%s\", \"name\": \"%.*s\"}",
				 age, data[id], (int)nlen, (const char *)name);
			assert_string_equal(out.data, want);
			rows++;
		}
		assert_int_equal(off, blen);
	}
	assert_int_equal(rows, 6);
	free(bin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binlog_json__scalars),
		cmocka_unit_test(test_binlog_json__doubles),
		cmocka_unit_test(test_binlog_json__containers),
		cmocka_unit_test(test_binlog_json__opaque),
		cmocka_unit_test(test_binlog_json__depth),
		cmocka_unit_test(test_binlog_json__corrupt),
		cmocka_unit_test(test_binlog_json__diffs),
		cmocka_unit_test(test_binlog_json__fixture_opaque),
		cmocka_unit_test(test_binlog_json__fixture_partial_update),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
