/*
 * test_gtid.c - GTID sets: MySQL and MariaDB text, set algebra, MySQL binary form, and the
 * PREVIOUS_GTIDS events of two real MySQL binlogs (8.0.40 untagged, 9.6.0 tagged) whose
 * sets rust_mysql_common asserts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/gtid.h"

#define U1 "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define U2 "b9b88c66-0755-11f1-9899-4a9da94c4d71"

static tidm_buf out;

/* Canonical text of a set (static buffer). */
static const char *fmt(const tidm_gtid_set *s)
{
	tidm_buf_clear(&out);
	tidm_gtid_set_format(s, &out);
	return out.data;
}

/* Parse then format; "ERR: message" on error. */
static const char *canon(tidm_gtid_flavor fl, const char *text)
{
	static char res[512];
	tidm_gtid_set s;
	int rc;

	tidm_gtid_set_init(&s, TIDM_GTID_AUTO);
	rc = tidm_gtid_set_parse(&s, fl, text);
	if (rc < 0) {
		assert_int_equal(rc, TIDM_EINVAL);
		snprintf(res, sizeof(res), "ERR: %s", tidm_err_msg());
	} else {
		snprintf(res, sizeof(res), "%s", fmt(&s));
	}
	tidm_gtid_set_dispose(&s);
	return res;
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

static void test_util_gtid__mysql_text(void **state)
{
	(void)state;
	assert_string_equal(canon(TIDM_GTID_MYSQL, ""), "");
	assert_string_equal(canon(TIDM_GTID_MYSQL, "  "), "");
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":1-5"), U1 ":1-5");
	/* merged, sorted, lowercased; whitespace and newlines as in SHOW output */
	assert_string_equal(canon(TIDM_GTID_MYSQL, "3E11FA47-71CA-11E1-9E33-C80AA9429562:7:1-5,\n " U1 ":6"),
			    U1 ":1-7");
	assert_string_equal(canon(TIDM_GTID_AUTO, U2 ":10-20:1-3:5," U1 ":9"), U1 ":9," U2 ":1-3:5:10-20");
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":1-3:4-6:8"), U1 ":1-6:8");
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":5:1-10:12"), U1 ":1-10:12");
	/* hyphen-less UUID */
	assert_string_equal(canon(TIDM_GTID_MYSQL, "3e11fa4771ca11e19e33c80aa9429562:2"), U1 ":2");
	/* tags (8.4): untagged first, tags sorted, tag applies until the next one */
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":Zeta:1-2:alpha:7:8," U1 ":3"),
			    U1 ":3:alpha:7-8:zeta:1-2");
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":_t_1:9223372036854775806"),
			    U1 ":_t_1:9223372036854775806");
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":1,"), U1 ":1");

	assert_string_equal(canon(TIDM_GTID_MYSQL, "3e11fa47-71ca-11e1-9e33-c80aa942956:1"),
			    "ERR: bad GTID set: bad UUID \"3e11fa47-71ca-11e1-9e33-c80aa942956\"");
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":5-3"), "ERR: bad GTID set: bad GTID interval \"5-3\"");
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":0"), "ERR: bad GTID set: bad GTID interval \"0\"");
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":1-9223372036854775807"),
			    "ERR: bad GTID set: bad GTID interval \"1-9223372036854775807\"");
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":1x"), "ERR: bad GTID set: bad GTID interval \"1x\"");
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":t-1:1"), "ERR: bad GTID set: bad GTID tag \"t-1\"");
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":abcdefghijabcdefghijabcdefghijabc:1"),
			    "ERR: bad GTID set: bad GTID tag \"abcdefghijabcdefghijabcdefghijabc\"");
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":tag"), "ERR: bad GTID set: tag \"tag\" without an interval");
	assert_string_equal(canon(TIDM_GTID_MYSQL, U1 ":1 x"), "ERR: bad GTID set: bad GTID interval \"1 x\"");
}

static void test_util_gtid__mariadb_text(void **state)
{
	(void)state;
	assert_string_equal(canon(TIDM_GTID_MARIADB, "1-2-57,0-1-100"), "0-1-100,1-2-57");
	assert_string_equal(canon(TIDM_GTID_AUTO, " 0-1-100 , 4294967295-4294967295-18446744073709551615"),
			    "0-1-100,4294967295-4294967295-18446744073709551615");
	assert_string_equal(canon(TIDM_GTID_MARIADB, "0-1-100,0-2-50"),
			    "ERR: bad GTID set: two GTIDs for domain 0 (\"0-2-50\")");
	assert_string_equal(canon(TIDM_GTID_MARIADB, "0-1"), "ERR: bad GTID set: bad MariaDB GTID \"0-1\"");
	assert_string_equal(canon(TIDM_GTID_MARIADB, "0-1-2x"), "ERR: bad GTID set: bad MariaDB GTID \"0-1-2x\"");
	assert_string_equal(canon(TIDM_GTID_MARIADB, "4294967296-1-2"),
			    "ERR: bad GTID set: bad MariaDB GTID \"4294967296-1-2\"");
}

static void test_util_gtid__single(void **state)
{
	tidm_gtid g;

	(void)state;
	assert_int_equal(tidm_gtid_parse(&g, TIDM_GTID_AUTO, U1 ":42"), 0);
	assert_int_equal(g.flavor, TIDM_GTID_MYSQL);
	assert_int_equal(g.gno, 42);
	assert_int_equal(g.uuid[0], 0x3e);
	assert_int_equal(g.uuid[15], 0x62);
	assert_string_equal(g.tag, "");
	tidm_buf_clear(&out);
	tidm_gtid_format(&g, &out);
	assert_string_equal(out.data, U1 ":42");
	assert_int_equal(tidm_gtid_parse(&g, TIDM_GTID_MYSQL, U1 ":MyTag:3"), 0);
	assert_string_equal(g.tag, "mytag");
	tidm_buf_clear(&out);
	tidm_gtid_format(&g, &out);
	assert_string_equal(out.data, U1 ":mytag:3");
	assert_int_equal(tidm_gtid_parse(&g, TIDM_GTID_AUTO, "0-1-100"), 0);
	assert_int_equal(g.flavor, TIDM_GTID_MARIADB);
	assert_int_equal(g.domain, 0);
	assert_int_equal(g.server, 1);
	assert_int_equal(g.seq, 100);
	tidm_buf_clear(&out);
	tidm_gtid_format(&g, &out);
	assert_string_equal(out.data, "0-1-100");
	assert_int_equal(tidm_gtid_parse(&g, TIDM_GTID_MYSQL, U1 ":0"), TIDM_EINVAL);
	assert_int_equal(tidm_gtid_parse(&g, TIDM_GTID_MYSQL, U1), TIDM_EINVAL);
	assert_int_equal(tidm_gtid_parse(&g, TIDM_GTID_MYSQL, U1 ":1-2"), TIDM_EINVAL);
	assert_int_equal(tidm_gtid_parse(&g, TIDM_GTID_MARIADB, "1-2"), TIDM_EINVAL);
}

static void test_util_gtid__mysql_algebra(void **state)
{
	tidm_gtid_set a, b, c;
	tidm_gtid g;

	(void)state;
	tidm_gtid_set_init(&a, TIDM_GTID_MYSQL);
	tidm_gtid_set_init(&b, TIDM_GTID_MYSQL);
	tidm_gtid_set_init(&c, TIDM_GTID_AUTO);

	/* add one by one: 1,2,3 merge; 5 stays apart; 4 bridges */
	assert_int_equal(tidm_gtid_parse(&g, TIDM_GTID_MYSQL, U1 ":1"), 0);
	assert_int_equal(tidm_gtid_set_add(&a, &g), 0);
	g.gno = 3;
	assert_int_equal(tidm_gtid_set_add(&a, &g), 0);
	g.gno = 5;
	assert_int_equal(tidm_gtid_set_add(&a, &g), 0);
	assert_string_equal(fmt(&a), U1 ":1:3:5");
	g.gno = 2;
	tidm_gtid_set_add(&a, &g);
	g.gno = 4;
	tidm_gtid_set_add(&a, &g);
	assert_string_equal(fmt(&a), U1 ":1-5");
	g.gno = 0;
	assert_int_equal(tidm_gtid_set_add(&a, &g), TIDM_EINVAL);

	/* union */
	assert_int_equal(tidm_gtid_set_parse(&b, TIDM_GTID_MYSQL, U1 ":3-10:20," U2 ":1-2:t:4"), 0);
	assert_int_equal(tidm_gtid_set_union(&a, &b), 0);
	assert_string_equal(fmt(&a), U1 ":1-10:20," U2 ":1-2:t:4");
	/* union into an empty AUTO set adopts the flavor */
	assert_int_equal(tidm_gtid_set_union(&c, &b), 0);
	assert_true(tidm_gtid_set_equal(&c, &b));

	/* contains */
	assert_true(tidm_gtid_set_contains(&a, &b));
	assert_false(tidm_gtid_set_contains(&b, &a));
	assert_true(tidm_gtid_set_contains(&a, &a));
	tidm_gtid_set_parse(&b, TIDM_GTID_MYSQL, U1 ":2-4:20");
	assert_true(tidm_gtid_set_contains(&a, &b));
	tidm_gtid_set_parse(&b, TIDM_GTID_MYSQL, U1 ":10-11");
	assert_false(tidm_gtid_set_contains(&a, &b));
	tidm_gtid_set_parse(&b, TIDM_GTID_MYSQL, U2 ":u:4");
	assert_false(tidm_gtid_set_contains(&a, &b));
	tidm_gtid_set_parse(&b, TIDM_GTID_MYSQL, "");
	assert_true(tidm_gtid_set_contains(&a, &b));
	assert_int_equal(tidm_gtid_parse(&g, TIDM_GTID_MYSQL, U2 ":t:4"), 0);
	assert_true(tidm_gtid_set_contains_gtid(&a, &g));
	g.gno = 3;
	assert_false(tidm_gtid_set_contains_gtid(&a, &g));
	g.tag[0] = '\0';
	assert_false(tidm_gtid_set_contains_gtid(&a, &g));
	g.gno = 2;
	assert_true(tidm_gtid_set_contains_gtid(&a, &g));
	g.gno = 11;
	memcpy(g.uuid, a.sids[0].uuid, 16);
	assert_false(tidm_gtid_set_contains_gtid(&a, &g));
	g.gno = 20;
	assert_true(tidm_gtid_set_contains_gtid(&a, &g));

	/* subtract: splits, trims, drops emptied entries */
	tidm_gtid_set_copy(&c, &a);
	tidm_gtid_set_parse(&b, TIDM_GTID_MYSQL, U1 ":3-4:7:9-25," U2 ":t:1-100");
	assert_int_equal(tidm_gtid_set_subtract(&c, &b), 0);
	assert_string_equal(fmt(&c), U1 ":1-2:5-6:8," U2 ":1-2");
	tidm_gtid_set_parse(&b, TIDM_GTID_MYSQL, U1 ":1-8," U2 ":2");
	assert_int_equal(tidm_gtid_set_subtract(&c, &b), 0);
	assert_string_equal(fmt(&c), U2 ":1");
	assert_int_equal(tidm_gtid_set_subtract(&c, &c), 0);
	assert_true(tidm_gtid_set_is_empty(&c));
	/* (a - b) U b contains a; a - a is empty */
	tidm_gtid_set_copy(&c, &a);
	tidm_gtid_set_parse(&b, TIDM_GTID_MYSQL, U1 ":5-15");
	tidm_gtid_set_subtract(&c, &b);
	assert_false(tidm_gtid_set_contains(&c, &b));
	tidm_gtid_set_union(&c, &b);
	assert_true(tidm_gtid_set_contains(&c, &a));
	assert_string_equal(fmt(&c), U1 ":1-15:20," U2 ":1-2:t:4");

	/* equal / copy */
	tidm_gtid_set_copy(&c, &a);
	assert_true(tidm_gtid_set_equal(&c, &a));
	g.gno = 30;
	tidm_gtid_set_add(&c, &g);
	assert_false(tidm_gtid_set_equal(&c, &a));

	/* mixing flavors is refused */
	tidm_gtid_set_parse(&b, TIDM_GTID_MARIADB, "0-1-5");
	assert_int_equal(tidm_gtid_set_union(&a, &b), TIDM_EINVAL);
	assert_int_equal(tidm_gtid_set_subtract(&a, &b), TIDM_EINVAL);
	assert_false(tidm_gtid_set_contains(&a, &b));
	assert_int_equal(tidm_gtid_set_encode_mysql(&b, &out), TIDM_EINVAL);

	tidm_gtid_set_dispose(&a);
	tidm_gtid_set_dispose(&b);
	tidm_gtid_set_dispose(&c);
}

static void test_util_gtid__mariadb_algebra(void **state)
{
	tidm_gtid_set a, b;
	tidm_gtid g;

	(void)state;
	tidm_gtid_set_init(&a, TIDM_GTID_MARIADB);
	tidm_gtid_set_init(&b, TIDM_GTID_MARIADB);
	tidm_gtid_set_parse(&a, TIDM_GTID_MARIADB, "0-1-100,2-1-7");
	tidm_gtid_parse(&g, TIDM_GTID_MARIADB, "0-3-101");
	assert_int_equal(tidm_gtid_set_add(&a, &g), 0);
	tidm_gtid_parse(&g, TIDM_GTID_MARIADB, "2-1-5"); /* older: position stays */
	tidm_gtid_set_add(&a, &g);
	tidm_gtid_parse(&g, TIDM_GTID_MARIADB, "1-1-1");
	tidm_gtid_set_add(&a, &g);
	assert_string_equal(fmt(&a), "0-3-101,1-1-1,2-1-7");
	tidm_gtid_parse(&g, TIDM_GTID_MARIADB, "2-9-7");
	assert_true(tidm_gtid_set_contains_gtid(&a, &g));
	g.seq = 8;
	assert_false(tidm_gtid_set_contains_gtid(&a, &g));
	g.domain = 5;
	g.seq = 1;
	assert_false(tidm_gtid_set_contains_gtid(&a, &g));

	tidm_gtid_set_parse(&b, TIDM_GTID_MARIADB, "0-1-50,2-1-9");
	assert_false(tidm_gtid_set_contains(&a, &b));
	assert_false(tidm_gtid_set_contains(&b, &a));
	assert_int_equal(tidm_gtid_set_union(&b, &a), 0);
	assert_string_equal(fmt(&b), "0-3-101,1-1-1,2-1-9");
	assert_true(tidm_gtid_set_contains(&b, &a));
	/* subtract: domains b has not reached */
	tidm_gtid_set_parse(&b, TIDM_GTID_MARIADB, "0-1-101,2-1-6");
	assert_int_equal(tidm_gtid_set_subtract(&a, &b), 0);
	assert_string_equal(fmt(&a), "1-1-1,2-1-7");
	tidm_gtid_set_dispose(&a);
	tidm_gtid_set_dispose(&b);
}

/* ---- binary ---- */

static void test_util_gtid__binary(void **state)
{
	tidm_gtid_set a, b;
	tidm_buf bin = TIDM_BUF_INIT;
	size_t n;

	(void)state;
	tidm_gtid_set_init(&a, TIDM_GTID_MYSQL);
	tidm_gtid_set_init(&b, TIDM_GTID_AUTO);

	/* empty set: 8 zero bytes */
	assert_int_equal(tidm_gtid_set_encode_mysql(&a, &bin), 0);
	assert_int_equal(bin.len, 8);
	assert_memory_equal(bin.data, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(tidm_gtid_set_decode_mysql(&b, (const uint8_t *)bin.data, bin.len), 0);
	assert_true(tidm_gtid_set_is_empty(&b));

	/* classic: 1 sid, 2 intervals [1,6) [8,9) */
	tidm_gtid_set_parse(&a, TIDM_GTID_MYSQL, U1 ":1-5:8");
	tidm_buf_clear(&bin);
	tidm_gtid_set_encode_mysql(&a, &bin);
	assert_int_equal(bin.len, 8 + 16 + 8 + 32);
	assert_int_equal((uint8_t)bin.data[0], 1);
	assert_int_equal((uint8_t)bin.data[7], 0);
	assert_int_equal((uint8_t)bin.data[8], 0x3e);
	assert_int_equal((uint8_t)bin.data[24], 2);
	assert_int_equal((uint8_t)bin.data[32], 1);
	assert_int_equal((uint8_t)bin.data[40], 6);
	assert_int_equal((uint8_t)bin.data[48], 8);
	assert_int_equal((uint8_t)bin.data[56], 9);
	assert_int_equal(tidm_gtid_set_decode_mysql(&b, (const uint8_t *)bin.data, bin.len), 0);
	assert_true(tidm_gtid_set_equal(&a, &b));

	/* tagged: header 01 <n:6> 01, per entry a varlen tag length */
	tidm_gtid_set_parse(&a, TIDM_GTID_MYSQL, U1 ":1-2:ab:3," U2 ":7");
	tidm_buf_clear(&bin);
	tidm_gtid_set_encode_mysql(&a, &bin);
	assert_int_equal((uint8_t)bin.data[0], 1);
	assert_int_equal((uint8_t)bin.data[1], 3);
	assert_int_equal((uint8_t)bin.data[7], 1);
	assert_int_equal((uint8_t)bin.data[24], 0);     /* untagged entry: tag length 0 */
	assert_int_equal((uint8_t)bin.data[8 + 41 + 16], 4); /* "ab": 2 << 1 */
	assert_int_equal(tidm_gtid_set_decode_mysql(&b, (const uint8_t *)bin.data, bin.len), 0);
	assert_string_equal(fmt(&b), U1 ":1-2:ab:3," U2 ":7");

	/* every truncation and trailing garbage fail cleanly */
	for (n = 0; n < bin.len; n++) {
		assert_int_equal(tidm_gtid_set_decode_mysql(&b, (const uint8_t *)bin.data, n), TIDM_ECORRUPT);
		assert_true(tidm_gtid_set_is_empty(&b));
	}
	tidm_buf_putc(&bin, 0);
	assert_int_equal(tidm_gtid_set_decode_mysql(&b, (const uint8_t *)bin.data, bin.len), TIDM_ECORRUPT);
	assert_non_null(strstr(tidm_err_msg(), "1 trailing bytes"));

	/* huge counts are refused before allocating; bad intervals */
	{
		uint8_t h[8 + 16 + 8 + 16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
		assert_int_equal(tidm_gtid_set_decode_mysql(&b, h, sizeof(h)), TIDM_ECORRUPT);
		memset(h, 0, sizeof(h));
		h[0] = 1;
		h[24] = 0xff; /* n_intervals huge */
		h[31] = 0xff;
		assert_int_equal(tidm_gtid_set_decode_mysql(&b, h, sizeof(h)), TIDM_ECORRUPT);
		h[24] = 1;
		h[31] = 0;
		h[32] = 5; /* [5, 5) empty */
		h[40] = 5;
		assert_int_equal(tidm_gtid_set_decode_mysql(&b, h, sizeof(h)), TIDM_ECORRUPT);
		assert_non_null(strstr(tidm_err_msg(), "bad interval [5, 5)"));
		h[40] = 6;
		assert_int_equal(tidm_gtid_set_decode_mysql(&b, h, sizeof(h)), 0);
		assert_string_equal(fmt(&b), "00000000-0000-0000-0000-000000000000:5");
	}
	tidm_buf_dispose(&bin);
	tidm_gtid_set_dispose(&a);
	tidm_gtid_set_dispose(&b);
}

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

/* Decode the PREVIOUS_GTIDS (type 35) body of a CRC32 binlog; re-encode it byte for byte. */
static void check_previous_gtids(const char *rel, const char *want)
{
	size_t len, pos = 4, found = 0;
	uint8_t *bin = read_fixture(rel, &len);
	tidm_gtid_set s;
	tidm_buf enc = TIDM_BUF_INIT;

	assert_non_null(bin);
	tidm_gtid_set_init(&s, TIDM_GTID_AUTO);
	while (pos + 19 <= len) {
		uint32_t size = (uint32_t)bin[pos + 9] | (uint32_t)bin[pos + 10] << 8 |
				(uint32_t)bin[pos + 11] << 16 | (uint32_t)bin[pos + 12] << 24;
		assert_true(size >= 23 && pos + size <= len);
		if (bin[pos + 4] == 35) {
			const uint8_t *body = bin + pos + 19;
			size_t blen = size - 19 - 4;
			assert_int_equal(tidm_gtid_set_decode_mysql(&s, body, blen), 0);
			assert_string_equal(fmt(&s), want);
			tidm_gtid_set_encode_mysql(&s, &enc);
			assert_int_equal(enc.len, blen);
			assert_memory_equal(enc.data, body, blen);
			found++;
		}
		pos += size;
	}
	assert_int_equal(found, 1);
	tidm_buf_dispose(&enc);
	tidm_gtid_set_dispose(&s);
	free(bin);
}

static void test_util_gtid__fixture_previous_gtids(void **state)
{
	(void)state;
	check_previous_gtids("binlog/rust_mysql_common/binlog_transaction_previous_GTID_no_tag.000001",
			     "b9b88c66-0755-11f1-9899-4a9da94c4d71:1-2");
	check_previous_gtids("binlog/rust_mysql_common/binlog_transaction_with_GTID_TAG.000001",
			     "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:mytag:1-2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_gtid__mysql_text),
		cmocka_unit_test(test_util_gtid__mariadb_text),
		cmocka_unit_test(test_util_gtid__single),
		cmocka_unit_test(test_util_gtid__mysql_algebra),
		cmocka_unit_test(test_util_gtid__mariadb_algebra),
		cmocka_unit_test(test_util_gtid__binary),
		cmocka_unit_test(test_util_gtid__fixture_previous_gtids),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
