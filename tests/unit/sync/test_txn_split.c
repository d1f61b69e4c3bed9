/*
 * test_txn_split.c - sync/txn_split.c: the piece size a target gets by default (TiDB's
 * txn-total-size-limit detection), parsing the limit as SHOW CONFIG prints it, and whether
 * a checkpoint inside a split transaction covers a row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync/txn_split.h"

static void test_sync_txn_split__default(void **state)
{
	(void)state;
	/* MySQL and MariaDB have no limit: never split */
	assert_int_equal(tidm_txn_split_default(TIDM_FLAVOR_MYSQL, 0), 0);
	assert_int_equal(tidm_txn_split_default(TIDM_FLAVOR_MARIADB, 104857600), 0);
	/* TiDB: half its limit; unknown = the default 100 MiB */
	assert_int_equal(tidm_txn_split_default(TIDM_FLAVOR_TIDB, 104857600), 52428800);
	assert_int_equal(tidm_txn_split_default(TIDM_FLAVOR_TIDB, 0), 52428800);
	assert_int_equal(tidm_txn_split_default(TIDM_FLAVOR_TIDB, 10737418240ull), 5368709120ull);
	/* below the TiDB default limit, and never below 1 MiB */
	assert_true(tidm_txn_split_default(TIDM_FLAVOR_TIDB, 0) < TIDM_TIDB_TXN_LIMIT_DEFAULT);
	assert_int_equal(tidm_txn_split_default(TIDM_FLAVOR_TIDB, 1000), 1048576);
}

static void test_sync_txn_split__parse(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(tidm_txn_limit_parse("104857600", &v), 0);
	assert_int_equal(v, 104857600);
	assert_int_equal(tidm_txn_limit_parse(" 1073741824 ", &v), 0);
	assert_int_equal(v, 1073741824);
	assert_int_equal(tidm_txn_limit_parse("1.048576e+08", &v), 0);
	assert_int_equal(v, 104857600);
	assert_int_equal(tidm_txn_limit_parse("1099511627776", &v), 0);
	assert_int_equal(v, 1099511627776ull);
	v = 7;
	assert_int_equal(tidm_txn_limit_parse("", &v), -1);
	assert_int_equal(tidm_txn_limit_parse(NULL, &v), -1);
	assert_int_equal(tidm_txn_limit_parse("-5", &v), -1);
	assert_int_equal(tidm_txn_limit_parse("100MiB", &v), -1);
	assert_int_equal(tidm_txn_limit_parse("99999999999999999999999", &v), -1);
	assert_int_equal(v, 7);
}

static void test_sync_txn_split__pos_applied(void **state)
{
	(void)state;
	/* a checkpoint at a boundary (row 0): transactions starting before it */
	assert_true(tidm_txn_pos_applied("b.000001", 100, 0, "b.000001", 200, 0));
	assert_false(tidm_txn_pos_applied("b.000001", 200, 0, "b.000001", 200, 0));
	assert_false(tidm_txn_pos_applied("b.000001", 200, 5, "b.000001", 200, 0));
	/* inside the transaction starting at 200: its first 50 rows */
	assert_true(tidm_txn_pos_applied("b.000001", 200, 0, "b.000001", 200, 50));
	assert_true(tidm_txn_pos_applied("b.000001", 200, 49, "b.000001", 200, 50));
	assert_false(tidm_txn_pos_applied("b.000001", 200, 50, "b.000001", 200, 50));
	assert_false(tidm_txn_pos_applied("b.000001", 300, 0, "b.000001", 200, 50));
	/* other files; no checkpoint */
	assert_true(tidm_txn_pos_applied("b.000001", 900, 99, "b.000002", 4, 0));
	assert_false(tidm_txn_pos_applied("b.000002", 4, 0, "b.000001", 900, 10));
	assert_false(tidm_txn_pos_applied("b.000001", 4, 0, "", 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_txn_split__default),
		cmocka_unit_test(test_sync_txn_split__parse),
		cmocka_unit_test(test_sync_txn_split__pos_applied),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
