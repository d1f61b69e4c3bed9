/*
 * test_render.c - verify/render.c: the exact statements verify sends to MariaDB, MySQL and
 * TiDB (no TiDB runs here: its statements are checked as text): row digests with the
 * normalisation of each column family, chunk digests over composite and single-column
 * key ranges, row digests, lookups, middle keys, keyless multisets, hostile identifiers,
 * and the key text of reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "verify/verify_int.h"

static vcol fam_cols[] = {
	{"id", VF_EXACT, false, false},  {"s", VF_STRING, true, false}, {"b", VF_BINARY, true, false},
	{"bt", VF_BIT, true, false},     {"f", VF_FLOAT, true, false},  {"d", VF_DOUBLE, false, false},
	{"j", VF_JSON, true, false},     {"g", VF_EXACT, true, true},
};

static vtable fam_table(void)
{
	vtable t;
	memset(&t, 0, sizeof(t));
	t.db = "shop";
	t.name = "we`ird";
	t.cols = fam_cols;
	t.ncols = sizeof(fam_cols) / sizeof(fam_cols[0]);
	t.key[0] = 0;
	t.nkey = 1;
	t.key_is_int = true;
	return t;
}

#define ROW_HASH_TAIL                                                                                                  \
	", IF(`f` = 0, '0', CONCAT(CAST(ROUND(`f` / POW(10, FLOOR(LOG10(ABS(`f`)))), 5) AS DECIMAL(9, 5)), 'e', "      \
	"FLOOR(LOG10(ABS(`f`))))), IF(`d` = 0, '0', CONCAT(CAST(ROUND(`d` / POW(10, FLOOR(LOG10(ABS(`d`)))), 14) AS "   \
	"DECIMAL(18, 14)), 'e', FLOOR(LOG10(ABS(`d`)))))"

static void test_verify_render__row_hash_per_flavour(void **state)
{
	vtable t = fam_table();
	vdialect maria = {TIDM_FLAVOR_MARIADB, TIDM_FLAVOR_MARIADB, false},
		 tidb = {TIDM_FLAVOR_TIDB, TIDM_FLAVOR_MARIADB, true}, mysql = {TIDM_FLAVOR_MYSQL, TIDM_FLAVOR_TIDB, false};
	tidm_buf b = TIDM_BUF_INIT;

	(void)state;
	vrender_row_hash(&b, &t, &maria);
	assert_string_equal(b.data, "CRC32(CONCAT_WS('#', `id`, CONVERT(`s` USING utf8mb4), `b`, CAST(`bt` AS UNSIGNED)" ROW_HASH_TAIL
				    ", CONVERT(`j` USING utf8mb4), `g`, CONCAT(ISNULL(`s`), ISNULL(`b`), ISNULL(`bt`), "
				    "ISNULL(`f`), ISNULL(`j`), ISNULL(`g`))))");
	/* TiDB and MySQL: JSON as its canonical text, the rest the same functions */
	tidm_buf_clear(&b);
	vrender_row_hash(&b, &t, &tidb);
	assert_string_equal(b.data, "CRC32(CONCAT_WS('#', `id`, CONVERT(`s` USING utf8mb4), `b`, CAST(`bt` AS UNSIGNED)" ROW_HASH_TAIL
				    ", CAST(`j` AS CHAR), `g`, CONCAT(ISNULL(`s`), ISNULL(`b`), ISNULL(`bt`), "
				    "ISNULL(`f`), ISNULL(`j`), ISNULL(`g`))))");
	tidm_buf_clear(&b);
	vrender_row_hash(&b, &t, &mysql);
	assert_non_null(strstr(b.data, ", CAST(`j` AS CHAR), "));
	tidm_buf_dispose(&b);
}

static void test_verify_render__chunk_single_key_tidb(void **state)
{
	vcol cols[] = {{"id", VF_EXACT, false, false}, {"c", VF_STRING, false, false}};
	vtable t;
	vdialect tidb = {TIDM_FLAVOR_TIDB, TIDM_FLAVOR_MYSQL, false};
	tidm_buf b = TIDM_BUF_INIT;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.db = "sbtest";
	t.name = "sbtest1";
	t.cols = cols;
	t.ncols = 2;
	t.nkey = 1;
	vrender_chunk_sql(&b, &t, &tidb, "1000", "2000");
	assert_string_equal(b.data, "SELECT COUNT(*), CAST(COALESCE(SUM(CRC32(CONCAT_WS('#', `id`, CONVERT(`c` USING utf8mb4))) "
				    "+ 0e0), 0) AS DECIMAL(20, 0)) FROM `sbtest`.`sbtest1` WHERE `id` > 1000 AND `id` <= 2000");
	/* on the target, where every text column is utf8mb4 in one collation: no CONVERT */
	t.plain_text[1] = true;
	tidm_buf_clear(&b);
	tidb.target = true;
	vrender_chunk_sql(&b, &t, &tidb, "1000", "2000");
	assert_string_equal(b.data, "SELECT COUNT(*), CAST(COALESCE(SUM(CRC32(CONCAT_WS('#', `id`, `c`)) + 0e0), 0) AS "
				    "DECIMAL(20, 0)) FROM `sbtest`.`sbtest1` WHERE `id` > 1000 AND `id` <= 2000");
	tidb.target = false;
	tidm_buf_clear(&b);
	vrender_chunk_sql(&b, &t, &tidb, NULL, "-5");
	assert_non_null(strstr(b.data, " FROM `sbtest`.`sbtest1` WHERE `id` <= -5"));
	tidm_buf_clear(&b);
	vrender_chunk_sql(&b, &t, &tidb, "7", NULL);
	assert_non_null(strstr(b.data, " FROM `sbtest`.`sbtest1` WHERE `id` > 7"));
	tidm_buf_clear(&b);
	vrender_chunk_sql(&b, &t, &tidb, NULL, NULL);
	assert_non_null(strstr(b.data, " FROM `sbtest`.`sbtest1`"));
	assert_null(strstr(b.data, "WHERE"));
	tidm_buf_clear(&b);
	vrender_rows_sql(&b, &t, &tidb, "1", "9");
	assert_string_equal(b.data, "SELECT `id`, CRC32(CONCAT_WS('#', `id`, CONVERT(`c` USING utf8mb4))) FROM "
				    "`sbtest`.`sbtest1` WHERE `id` > 1 AND `id` <= 9");
	tidm_buf_clear(&b);
	vrender_lookup_sql(&b, &t, &tidb, "1\0_utf8mb4 X'61'\0", 2);
	assert_string_equal(b.data, "SELECT `id`, CRC32(CONCAT_WS('#', `id`, CONVERT(`c` USING utf8mb4))) FROM "
				    "`sbtest`.`sbtest1` WHERE `id` IN (1, _utf8mb4 X'61')");
	tidm_buf_clear(&b);
	vrender_fetch_sql(&b, &t, "42", 1);
	assert_string_equal(b.data, "SELECT `id`, `c` FROM `sbtest`.`sbtest1` WHERE `id` IN (42)");
	tidm_buf_dispose(&b);
}

static void test_verify_render__composite_key_ranges(void **state)
{
	vcol cols[] = {{"a", VF_STRING, false, false}, {"b`b", VF_EXACT, false, false}, {"v", VF_BINARY, true, false}};
	vtable t;
	vdialect maria = {TIDM_FLAVOR_MARIADB, TIDM_FLAVOR_TIDB, false};
	tidm_buf b = TIDM_BUF_INIT;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.db = "d b";
	t.name = "t";
	t.cols = cols;
	t.ncols = 3;
	t.key[0] = 0;
	t.key[1] = 1;
	t.nkey = 2;
	vrender_range(&b, &t, "_utf8mb4 X'61',1", "_utf8mb4 X'62',2");
	assert_string_equal(b.data, "((`a` > _utf8mb4 X'61') OR (`a` = _utf8mb4 X'61' AND `b``b` > 1)) AND "
				    "((`a` < _utf8mb4 X'62') OR (`a` = _utf8mb4 X'62' AND `b``b` < 2) OR "
				    "(`a` = _utf8mb4 X'62' AND `b``b` = 2))");
	tidm_buf_clear(&b);
	vrender_mid_sql(&b, &t, "_utf8mb4 X'61',1", NULL, 500);
	assert_string_equal(b.data, "SELECT `a`, `b``b` FROM `d b`.`t` WHERE ((`a` > _utf8mb4 X'61') OR (`a` = _utf8mb4 "
				    "X'61' AND `b``b` > 1)) ORDER BY `a`, `b``b` LIMIT 1 OFFSET 500");
	tidm_buf_clear(&b);
	vrender_lookup_sql(&b, &t, &maria, "_utf8mb4 X'61',1\0_utf8mb4 X'27',2\0", 2);
	assert_non_null(strstr(b.data, " FROM `d b`.`t` WHERE (`a` = _utf8mb4 X'61' AND `b``b` = 1) OR "
				       "(`a` = _utf8mb4 X'27' AND `b``b` = 2)"));
	tidm_buf_clear(&b);
	vrender_key_text(&b, &t, "_utf8mb4 X'27',2");
	assert_string_equal(b.data, "`a`='\\'', `b``b`=2");
	tidm_buf_dispose(&b);
}

static void test_verify_render__keyless_multiset(void **state)
{
	vcol cols[] = {{"a", VF_EXACT, true, false}, {"s", VF_STRING, true, false}};
	vtable t;
	vdialect tidb = {TIDM_FLAVOR_TIDB, TIDM_FLAVOR_MARIADB, true};
	uint32_t hs[] = {1, 4294967295u};
	tidm_buf b = TIDM_BUF_INIT;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.db = "x";
	t.name = "log";
	t.cols = cols;
	t.ncols = 2;
	vrender_multiset_sql(&b, &t, &tidb, NULL, 0);
	assert_string_equal(b.data, "SELECT CRC32(CONCAT_WS('#', `a`, CONVERT(`s` USING utf8mb4), CONCAT(ISNULL(`a`), "
				    "ISNULL(`s`)))), COUNT(*) FROM `x`.`log` GROUP BY 1");
	tidm_buf_clear(&b);
	vrender_multiset_sql(&b, &t, &tidb, hs, 2);
	assert_non_null(strstr(b.data, " FROM `x`.`log` WHERE CRC32(CONCAT_WS('#', `a`, CONVERT(`s` USING utf8mb4), "
				       "CONCAT(ISNULL(`a`), ISNULL(`s`)))) IN (1, 4294967295) GROUP BY 1"));
	tidm_buf_clear(&b);
	vrender_fetch_hash_sql(&b, &t, &tidb, 77, 3);
	assert_string_equal(b.data, "SELECT `a`, `s` FROM `x`.`log` WHERE CRC32(CONCAT_WS('#', `a`, CONVERT(`s` USING "
				    "utf8mb4), CONCAT(ISNULL(`a`), ISNULL(`s`)))) = 77 LIMIT 3");
	/* a keyless table has no range: the chunk is the whole table, of any size: DECIMAL sum */
	tidm_buf_clear(&b);
	vrender_chunk_sql(&b, &t, &tidb, NULL, NULL);
	assert_string_equal(b.data, "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('#', `a`, CONVERT(`s` USING utf8mb4), "
				    "CONCAT(ISNULL(`a`), ISNULL(`s`))))), 0) FROM `x`.`log`");
	tidm_buf_dispose(&b);
}

static void test_verify_render__literals(void **state)
{
	tidm_buf b = TIDM_BUF_INIT;

	(void)state;
	tidm_conn_put_literal(&b, TIDM_KIND_NUMBER, "-12.5", 5);
	tidm_buf_putc(&b, ' ');
	tidm_conn_put_literal(&b, TIDM_KIND_STRING, "a,'b", 4);
	tidm_buf_putc(&b, ' ');
	tidm_conn_put_literal(&b, TIDM_KIND_BINARY, "\0\xff", 2);
	tidm_buf_putc(&b, ' ');
	tidm_conn_put_literal(&b, TIDM_KIND_STRING, NULL, 0);
	/* no comma in any literal: key lists are comma-separated */
	assert_string_equal(b.data, "-12.5 _utf8mb4 X'612C2762' X'00FF' NULL");
	tidm_buf_dispose(&b);
}

static void canon(tidm_buf *b, const char *text)
{
	vjson_canon(b, text, strlen(text));
}

/* Between flavours JSON is compared in the client: out of the servers' digest (its NULL
 * marker stays), selected after the hash, canonicalised the same whichever server printed it. */
static void test_verify_render__json_between_flavours(void **state)
{
	vcol cols[] = {{"id", VF_EXACT, false, false}, {"j", VF_JSON_CLIENT, true, false}};
	vtable t;
	vdialect tidb = {TIDM_FLAVOR_TIDB, TIDM_FLAVOR_MARIADB, true};
	tidm_buf b = TIDM_BUF_INIT, m = TIDM_BUF_INIT, y = TIDM_BUF_INIT, tb = TIDM_BUF_INIT;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.db = "d";
	t.name = "docs";
	t.cols = cols;
	t.ncols = 2;
	t.nkey = 1;
	t.njson_client = 1;
	vrender_rows_sql(&b, &t, &tidb, "0", "10");
	assert_string_equal(b.data, "SELECT `id`, CRC32(CONCAT_WS('#', `id`, NULL, CONCAT(ISNULL(`j`)))), `j` FROM `d`.`docs` "
				    "WHERE `id` > 0 AND `id` <= 10");
	tidm_buf_clear(&b);
	vrender_lookup_sql(&b, &t, &tidb, "7\0", 1);
	assert_string_equal(b.data, "SELECT `id`, CRC32(CONCAT_WS('#', `id`, NULL, CONCAT(ISNULL(`j`)))), `j` FROM `d`.`docs` "
				    "WHERE `id` IN (7)");
	/* MariaDB keeps the text as written; MySQL sorts keys by length, TiDB by bytes */
	canon(&m, "{\"b\":1.0, \"aa\" : [1.50, \"x\", null, 1e2], \"a\": {\"z\": true}}");
	canon(&y, "{\"b\": 1, \"a\": {\"z\": true}, \"aa\": [1.5, \"x\", null, 100.0]}");
	canon(&tb, "{\"a\": {\"z\": true}, \"aa\": [1.5, \"x\", null, 100], \"b\": 1}");
	assert_string_equal(m.data, "{\"a\":{\"z\":true},\"aa\":[1.5,\"x\",null,100],\"b\":1}");
	assert_string_equal(y.data, m.data);
	assert_string_equal(tb.data, m.data);
	/* a different value stays different; text that is no JSON is kept as it is */
	tidm_buf_clear(&y);
	canon(&y, "{\"b\": 2}");
	assert_string_equal(y.data, "{\"b\":2}");
	tidm_buf_clear(&y);
	canon(&y, "not json");
	assert_string_equal(y.data, "not json");
	tidm_buf_dispose(&b);
	tidm_buf_dispose(&m);
	tidm_buf_dispose(&y);
	tidm_buf_dispose(&tb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_render__row_hash_per_flavour),
		cmocka_unit_test(test_verify_render__chunk_single_key_tidb),
		cmocka_unit_test(test_verify_render__composite_key_ranges),
		cmocka_unit_test(test_verify_render__keyless_multiset),
		cmocka_unit_test(test_verify_render__literals),
		cmocka_unit_test(test_verify_render__json_between_flavours),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
