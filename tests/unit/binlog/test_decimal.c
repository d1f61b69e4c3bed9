/*
 * test_decimal.c - NEWDECIMAL decoding: the byte examples of binlog-protocol.md 4.1,
 * hand-encoded extremes (DECIMAL(65,30)), corrupt input, and the 17 rows x 11 DECIMAL
 * columns of go-mysql's tcb-eval002c-bin.003320 compared with the values mariadb-binlog
 * printed for the same file (tcb-eval002c-bin.003320.mariadb-binlog.txt).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "binlog/decimal.h"
#include "util/buf.h"
#include "util/err.h"

/* Decode and return the text (static buffer); NULL on error. */
static const char *dec(const uint8_t *p, size_t n, unsigned prec, unsigned scale, size_t *used)
{
	static char text[128];
	tidm_buf b = TIDM_BUF_INIT;
	int rc = tidm_binlog_decimal_to_text(&b, p, n, prec, scale, used);

	if (rc < 0) {
		tidm_buf_dispose(&b);
		return NULL;
	}
	snprintf(text, sizeof(text), "%s", b.data ? b.data : "");
	tidm_buf_dispose(&b);
	return text;
}

static void test_binlog_decimal__bin_size(void **state)
{
	(void)state;
	assert_int_equal(tidm_binlog_decimal_bin_size(14, 4), 7);
	assert_int_equal(tidm_binlog_decimal_bin_size(5, 2), 3);
	assert_int_equal(tidm_binlog_decimal_bin_size(10, 0), 5);
	assert_int_equal(tidm_binlog_decimal_bin_size(4, 2), 2);
	assert_int_equal(tidm_binlog_decimal_bin_size(9, 9), 4);
	assert_int_equal(tidm_binlog_decimal_bin_size(18, 9), 8);
	assert_int_equal(tidm_binlog_decimal_bin_size(65, 30), 30);
	assert_int_equal(tidm_binlog_decimal_bin_size(30, 25), 15);
	assert_int_equal(tidm_binlog_decimal_bin_size(0, 0), 0);
	assert_int_equal(tidm_binlog_decimal_bin_size(66, 0), 0);
	assert_int_equal(tidm_binlog_decimal_bin_size(40, 31), 0);
	assert_int_equal(tidm_binlog_decimal_bin_size(5, 6), 0);
}

static void test_binlog_decimal__protocol_examples(void **state)
{
	static const uint8_t pos14_4[] = {0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x04, 0xd2};
	static const uint8_t neg14_4[] = {0x7e, 0xf2, 0x04, 0xc7, 0x2d, 0xfb, 0x2d};
	static const uint8_t pos5_2[] = {0x80, 0x00, 0x05};
	static const uint8_t neg5_2[] = {0x7f, 0xff, 0xfa};
	static const uint8_t zero10_0[] = {0x80, 0x00, 0x00, 0x00, 0x00};
	size_t used = 0;

	(void)state;
	assert_string_equal(dec(pos14_4, sizeof(pos14_4), 14, 4, &used), "1234567890.1234");
	assert_int_equal(used, 7);
	assert_string_equal(dec(neg14_4, sizeof(neg14_4), 14, 4, NULL), "-1234567890.1234");
	assert_string_equal(dec(pos5_2, sizeof(pos5_2), 5, 2, &used), "0.05");
	assert_int_equal(used, 3);
	assert_string_equal(dec(neg5_2, sizeof(neg5_2), 5, 2, NULL), "-0.05");
	assert_string_equal(dec(zero10_0, sizeof(zero10_0), 10, 0, &used), "0");
	assert_int_equal(used, 5);
}

static void test_binlog_decimal__extremes(void **state)
{
	/* DECIMAL(65,30) max: 35 integer digits = 8 + 9 + 9 + 9, 30 fraction = 9+9+9+3. */
	uint8_t max[30] = {0x85, 0xf5, 0xe0, 0xff};
	uint8_t neg[30];
	/* DECIMAL(4,2) -0.50: intg 2 -> 1 byte, frac 2 -> 1 byte; 0 and 50, inverted. */
	static const uint8_t half[] = {0x7f, 0xcd};
	/* DECIMAL(9,0) all zero and DECIMAL(18,9) 1.000000001 (scale a multiple of 9). */
	static const uint8_t nine_zero[] = {0x80, 0x00, 0x00, 0x00};
	static const uint8_t d18_9[] = {0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01};
	/* DECIMAL(12,6) 12345.678900 = 12345 | 678900 */
	static const uint8_t d12_6[] = {0x80, 0x30, 0x39, 0x0a, 0x5b, 0xf4};
	/* A negative zero (sign bit clear, all groups 0 after inversion) prints "0.00". */
	static const uint8_t negzero[] = {0x7f, 0xff};
	size_t i;
	char want[80];

	(void)state;
	for (i = 4; i < 28; i += 4) {
		max[i] = 0x3b;
		max[i + 1] = 0x9a;
		max[i + 2] = 0xc9;
		max[i + 3] = 0xff;
	}
	max[28] = 0x03;
	max[29] = 0xe7;
	memset(want, '9', 35);
	want[35] = '.';
	memset(want + 36, '9', 30);
	want[66] = '\0';
	assert_string_equal(dec(max, sizeof(max), 65, 30, NULL), want);
	for (i = 0; i < sizeof(max); i++)
		neg[i] = (uint8_t)~max[i];
	memmove(want + 1, want, 67);
	want[0] = '-';
	assert_string_equal(dec(neg, sizeof(neg), 65, 30, NULL), want);

	assert_string_equal(dec(half, sizeof(half), 4, 2, NULL), "-0.50");
	assert_string_equal(dec(nine_zero, sizeof(nine_zero), 9, 0, NULL), "0");
	assert_string_equal(dec(d18_9, sizeof(d18_9), 18, 9, NULL), "1.000000001");
	assert_string_equal(dec(d12_6, sizeof(d12_6), 12, 6, NULL), "12345.678900");
	assert_string_equal(dec(negzero, sizeof(negzero), 4, 2, NULL), "0.00");
}

static void test_binlog_decimal__corrupt(void **state)
{
	static const uint8_t pos14_4[] = {0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x04, 0xd2};
	/* DECIMAL(9,0) group 0xffffffff > 999999999 */
	static const uint8_t big[] = {0xff, 0xff, 0xff, 0xff};
	/* DECIMAL(2,0) leading partial 1 byte = 100 > 99 */
	static const uint8_t big2[] = {0x80 | 0x64};
	/* DECIMAL(3,0): 2 bytes, 1000 > 999 */
	static const uint8_t big3[] = {0x83, 0xe8};
	tidm_buf b = TIDM_BUF_INIT;

	(void)state;
	tidm_buf_puts(&b, "keep");
	assert_int_equal(tidm_binlog_decimal_to_text(&b, pos14_4, 6, 14, 4, NULL), TIDM_ECORRUPT);
	assert_non_null(strstr(tidm_err_msg(), "needs 7 bytes, 6 left"));
	assert_int_equal(tidm_binlog_decimal_to_text(&b, NULL, 0, 14, 4, NULL), TIDM_ECORRUPT);
	assert_int_equal(tidm_binlog_decimal_to_text(&b, pos14_4, 7, 0, 0, NULL), TIDM_ECORRUPT);
	assert_int_equal(tidm_binlog_decimal_to_text(&b, pos14_4, 7, 70, 2, NULL), TIDM_ECORRUPT);
	assert_int_equal(tidm_binlog_decimal_to_text(&b, pos14_4, 7, 4, 5, NULL), TIDM_ECORRUPT);
	assert_int_equal(tidm_binlog_decimal_to_text(&b, big, 4, 9, 0, NULL), TIDM_ECORRUPT);
	assert_int_equal(tidm_binlog_decimal_to_text(&b, big2, 1, 2, 0, NULL), TIDM_ECORRUPT);
	assert_int_equal(tidm_binlog_decimal_to_text(&b, big3, 2, 3, 0, NULL), TIDM_ECORRUPT);
	assert_string_equal(b.data, "keep");
	tidm_buf_dispose(&b);
}

/* ---- fixture: go-mysql tcb-eval002c-bin.003320 ---- */

static uint8_t *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)len + 1);
	if (data && fread(data, 1, (size_t)len, f) != (size_t)len) {
		free(data);
		data = NULL;
	}
	fclose(f);
	if (!data)
		return NULL;
	data[len] = 0;
	*n = (size_t)len;
	return data;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct expect {
	unsigned prec, scale;
	char value[80];
};

static void test_binlog_decimal__fixture_go_mysql(void **state)
{
	const char *fx = getenv("TIDM_FIXTURES");
	char path[1024];
	uint8_t *bin;
	char *txt, *line, *save = NULL;
	size_t bin_len, txt_len, pos, rows = 0, nexp = 0, ei = 0;
	struct expect *exp;
	const uint8_t *body = NULL;
	size_t body_len = 0;

	(void)state;
	if (!fx)
		fx = "/work/shared/fixtures";
	snprintf(path, sizeof(path), "%s/binlog/go-mysql/tcb-eval002c-bin.003320", fx);
	bin = read_file(path, &bin_len);
	assert_non_null(bin);
	snprintf(path, sizeof(path), "%s/binlog/go-mysql/tcb-eval002c-bin.003320.mariadb-binlog.txt",
		 fx);
	txt = (char *)read_file(path, &txt_len);
	assert_non_null(txt);

	/* Expected values: lines "###   @N=VALUE (comment) DECIMAL(p,s) meta=...", in order. */
	exp = calloc(17 * 11, sizeof(*exp));
	for (line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char val[80];
		unsigned col, p, s;
		if (sscanf(line, "###   @%u=%79s /* DECIMAL(%u,%u)", &col, val, &p, &s) == 4) {
			assert_true(nexp < 17 * 11);
			exp[nexp].prec = p;
			exp[nexp].scale = s;
			snprintf(exp[nexp].value, sizeof(exp[nexp].value), "%s", val);
			nexp++;
		}
	}
	assert_int_equal(nexp, 17 * 11);

	/* Find the WRITE_ROWS_V2 event (type 30); the file has CRC32 (4 trailing bytes). */
	for (pos = 4; pos + 19 <= bin_len;) {
		uint32_t size = le32(bin + pos + 9);
		assert_true(size >= 19 && pos + size <= bin_len);
		if (bin[pos + 4] == 30) {
			body = bin + pos + 19;
			body_len = size - 19 - 4;
		}
		pos += size;
	}
	assert_non_null(body);
	/* post-header: table id 6, flags 2, extra-data length 2 (counts itself) */
	pos = 8 + (size_t)(body[8] | body[9] << 8);
	assert_int_equal(body[pos], 14); /* column count */
	pos += 1 + 2;                    /* columns-present bitmap */
	while (pos < body_len) {
		unsigned c;
		assert_int_equal((body[pos] | body[pos + 1] << 8) & 0x3fff, 0); /* no NULLs */
		pos += 2 + 4;                                        /* null bitmap, INT id */
		for (c = 0; c < 11; c++) {
			size_t used = 0;
			const char *got;
			struct expect *e = &exp[ei++];
			got = dec(body + pos, body_len - pos, e->prec, e->scale, &used);
			assert_non_null(got);
			assert_string_equal(got, e->value);
			assert_int_equal(used, tidm_binlog_decimal_bin_size(e->prec, e->scale));
			pos += used;
		}
		pos += 8; /* prec, scale INT columns */
		rows++;
	}
	assert_int_equal(pos, body_len);
	assert_int_equal(rows, 17);
	assert_int_equal(ei, nexp);
	free(exp);
	free(txt);
	free(bin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binlog_decimal__bin_size),
		cmocka_unit_test(test_binlog_decimal__protocol_examples),
		cmocka_unit_test(test_binlog_decimal__extremes),
		cmocka_unit_test(test_binlog_decimal__corrupt),
		cmocka_unit_test(test_binlog_decimal__fixture_go_mysql),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
