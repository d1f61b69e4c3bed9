/*
 * test_filter.c - the object selection (util/filter): pattern parsing, wildcards, the
 * databases/tables/exclude semantics of SPEC §2 and the system schemas that are never
 * selected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/err.h"
#include "util/filter.h"

/* Build a filter from three NULL-terminated lists; every pattern must parse. */
static void build(tidm_filter *f, const char *const *dbs, const char *const *tables,
		  const char *const *exclude)
{
	for (size_t i = 0; dbs && dbs[i]; i++)
		assert_int_equal(tidm_filter_add_database(f, dbs[i]), 0);
	for (size_t i = 0; tables && tables[i]; i++)
		assert_int_equal(tidm_filter_add_table(f, tables[i]), 0);
	for (size_t i = 0; exclude && exclude[i]; i++)
		assert_int_equal(tidm_filter_add_exclude(f, exclude[i]), 0);
}

static void test_util_filter__glob(void **state)
{
	(void)state;
	assert_true(tidm_glob_match("*", ""));
	assert_true(tidm_glob_match("*", "anything"));
	assert_true(tidm_glob_match("tmp_*", "tmp_"));
	assert_true(tidm_glob_match("tmp_*", "tmp_2024"));
	assert_false(tidm_glob_match("tmp_*", "tm"));
	assert_false(tidm_glob_match("tmp_*", "xtmp_1"));
	assert_true(tidm_glob_match("t?", "t1"));
	assert_false(tidm_glob_match("t?", "t"));
	assert_false(tidm_glob_match("t?", "t12"));
	assert_true(tidm_glob_match("*_log_*", "app_log_2024"));
	assert_true(tidm_glob_match("a*b*c", "aXXbYYbZZc"));
	assert_false(tidm_glob_match("a*b*c", "aXXbYYbZZ"));
	assert_true(tidm_glob_match("**a", "a"));
	/* case-sensitive */
	assert_false(tidm_glob_match("Shop", "shop"));
	/* `?` takes one whole UTF-8 character */
	assert_true(tidm_glob_match("caf?", "caf\xc3\xa9"));
	assert_true(tidm_glob_match("?rger", "\xc3\xa4rger"));
	assert_false(tidm_glob_match("caf??", "caf\xc3\xa9"));
	/* a long hostile pattern finishes (no exponential backtracking) */
	{
		char p[200], s[4000];
		memset(p, 0, sizeof(p));
		for (int i = 0; i < 60; i++) {
			p[2 * i] = '*';
			p[2 * i + 1] = 'a';
		}
		p[120] = 'b';
		memset(s, 'a', sizeof(s) - 1);
		s[sizeof(s) - 1] = '\0';
		assert_false(tidm_glob_match(p, s));
	}
}

static void test_util_filter__system_schemas_never(void **state)
{
	tidm_filter all = TIDM_FILTER_INIT, star = TIDM_FILTER_INIT;
	const char *const sys[] = {"mysql", "information_schema", "performance_schema", "sys",
				   "tidm_meta", "metrics_schema", "INFORMATION_SCHEMA", "MySQL"};
	const char *const star_db[] = {"*", NULL};
	const char *const star_tbl[] = {"*.*", NULL};

	(void)state;
	build(&star, star_db, star_tbl, NULL);
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
		assert_true(tidm_filter_is_system_schema(sys[i]));
		assert_false(tidm_filter_match_db(&all, sys[i]));
		assert_false(tidm_filter_match_table(&all, sys[i], "user"));
		assert_false(tidm_filter_match_db(&star, sys[i]));
		assert_false(tidm_filter_match_table(&star, sys[i], "user"));
	}
	assert_false(tidm_filter_is_system_schema("shop"));
	assert_false(tidm_filter_is_system_schema("mysql2"));
	assert_true(tidm_filter_match_db(&all, "mysql2"));
	assert_true(tidm_filter_match_table(&star, "shop", "orders"));
	tidm_filter_dispose(&star);
}

static void test_util_filter__empty_selects_everything(void **state)
{
	tidm_filter f = TIDM_FILTER_INIT;

	(void)state;
	assert_true(tidm_filter_match_db(&f, "shop"));
	assert_true(tidm_filter_match_table(&f, "shop", "orders"));
	assert_true(tidm_filter_match_table(&f, "crm", "x"));
	tidm_filter_dispose(&f);
}

static void test_util_filter__databases_vs_tables(void **state)
{
	tidm_filter f = TIDM_FILTER_INIT;
	const char *const dbs[] = {"shop", "crm", NULL};
	const char *const tables[] = {"billing.invoices", NULL};

	(void)state;
	build(&f, dbs, tables, NULL);
	/* whole databases: any table, including ones created later */
	assert_true(tidm_filter_match_db(&f, "shop"));
	assert_true(tidm_filter_match_table(&f, "shop", "orders"));
	assert_true(tidm_filter_match_table(&f, "shop", "created_tomorrow"));
	assert_true(tidm_filter_match_table(&f, "crm", "contacts"));
	/* single tables: only that table of billing */
	assert_true(tidm_filter_match_db(&f, "billing"));
	assert_true(tidm_filter_match_table(&f, "billing", "invoices"));
	assert_false(tidm_filter_match_table(&f, "billing", "payments"));
	/* anything else is not selected */
	assert_false(tidm_filter_match_db(&f, "hr"));
	assert_false(tidm_filter_match_table(&f, "hr", "invoices"));
	assert_false(tidm_filter_match_table(&f, "shopx", "orders"));
	tidm_filter_dispose(&f);
	/* dispose leaves an empty filter that can be disposed again */
	tidm_filter_dispose(&f);
	assert_int_equal(f.n_databases, 0);
}

static void test_util_filter__exclude(void **state)
{
	tidm_filter f = TIDM_FILTER_INIT, g = TIDM_FILTER_INIT;
	const char *const dbs[] = {"shop", "crm", "logs_*", NULL};
	const char *const ex[] = {"shop.tmp_*", "crm", "logs_?.*", NULL};
	const char *const ex_only[] = {"scratch", "*.bak_*", NULL};

	(void)state;
	build(&f, dbs, NULL, ex);
	assert_true(tidm_filter_match_table(&f, "shop", "orders"));
	assert_false(tidm_filter_match_table(&f, "shop", "tmp_1"));
	assert_false(tidm_filter_match_table(&f, "shop", "tmp_"));
	assert_true(tidm_filter_match_table(&f, "shop", "tmp"));
	assert_true(tidm_filter_match_db(&f, "shop")); /* other tables of shop remain */
	/* excluding a database removes the database entirely */
	assert_false(tidm_filter_match_db(&f, "crm"));
	assert_false(tidm_filter_match_table(&f, "crm", "contacts"));
	/* "db.*" excludes every table, so the database need not be listed */
	assert_false(tidm_filter_match_db(&f, "logs_1"));
	assert_false(tidm_filter_match_table(&f, "logs_1", "t"));
	assert_true(tidm_filter_match_db(&f, "logs_12"));
	assert_true(tidm_filter_match_table(&f, "logs_12", "t"));
	tidm_filter_dispose(&f);

	/* exclude alone: everything but the excluded */
	build(&g, NULL, NULL, ex_only);
	assert_true(tidm_filter_match_table(&g, "shop", "orders"));
	assert_false(tidm_filter_match_db(&g, "scratch"));
	assert_false(tidm_filter_match_table(&g, "scratch", "a"));
	assert_false(tidm_filter_match_table(&g, "shop", "bak_orders"));
	assert_true(tidm_filter_match_table(&g, "shop", "orders_bak"));
	assert_false(tidm_filter_match_table(&g, "mysql", "user"));
	tidm_filter_dispose(&g);
}

static void test_util_filter__wildcards_in_lists(void **state)
{
	tidm_filter f = TIDM_FILTER_INIT;
	const char *const dbs[] = {"app_?", NULL};
	const char *const tables[] = {"*.users", "billing.inv_*", NULL};

	(void)state;
	build(&f, dbs, tables, NULL);
	assert_true(tidm_filter_match_table(&f, "app_1", "anything"));
	assert_false(tidm_filter_match_table(&f, "app_10", "anything"));
	assert_true(tidm_filter_match_table(&f, "app_10", "users"));
	assert_true(tidm_filter_match_table(&f, "billing", "inv_2024"));
	assert_false(tidm_filter_match_table(&f, "billing", "invoices"));
	tidm_filter_dispose(&f);
}

static void test_util_filter__names_with_dots_spaces_backquotes(void **state)
{
	tidm_filter_rule r;
	tidm_filter f = TIDM_FILTER_INIT;
	const char *const tables[] = {"`my.db`.`t.1`", "my db.my table", "`a``b`.c", NULL};
	const char *const dbs[] = {"caf\xc3\xa9", NULL};

	(void)state;
	assert_int_equal(tidm_filter_rule_parse(&r, "`my.db`.`t.1`", -1), 0);
	assert_string_equal(r.db, "my.db");
	assert_string_equal(r.table, "t.1");
	free(r.db);
	free(r.table);

	assert_int_equal(tidm_filter_rule_parse(&r, "`a``b`", -1), 0);
	assert_string_equal(r.db, "a`b");
	assert_null(r.table);
	free(r.db);

	assert_int_equal(tidm_filter_rule_parse(&r, "shop.`x`", 1), 0);
	assert_string_equal(r.db, "shop");
	assert_string_equal(r.table, "x");
	free(r.db);
	free(r.table);

	build(&f, dbs, tables, NULL);
	assert_true(tidm_filter_match_table(&f, "my.db", "t.1"));
	assert_false(tidm_filter_match_table(&f, "my", "db"));
	assert_true(tidm_filter_match_table(&f, "my db", "my table"));
	assert_true(tidm_filter_match_table(&f, "a`b", "c"));
	assert_true(tidm_filter_match_table(&f, "caf\xc3\xa9", "t"));
	assert_false(tidm_filter_match_table(&f, "cafe", "t"));
	tidm_filter_dispose(&f);
}

/* Parsing `text` with want_table fails with EINVAL and exactly `msg`. */
static void expect_bad(const char *text, int want_table, const char *msg)
{
	tidm_filter_rule r = {(char *)"sentinel", (char *)"sentinel"};

	tidm_err_clear();
	assert_int_equal(tidm_filter_rule_parse(&r, text, want_table), TIDM_EINVAL);
	assert_int_equal(tidm_err_code(), TIDM_EINVAL);
	assert_string_equal(tidm_err_msg(), msg);
	assert_null(r.db);
	assert_null(r.table);
}

static void test_util_filter__bad_patterns(void **state)
{
	tidm_filter f = TIDM_FILTER_INIT;

	(void)state;
	expect_bad("", -1,
		   "empty pattern; expected \"db\" or \"db.table\" (wildcards * and ?; write a name "
		   "containing a dot in backquotes, e.g. `my.db`.t)");
	expect_bad("a.b.c", -1,
		   "invalid pattern \"a.b.c\": more than one dot outside backquotes; expected \"db\" or "
		   "\"db.table\" (wildcards * and ?; write a name containing a dot in backquotes, e.g. "
		   "`my.db`.t)");
	expect_bad("`my.db.t", -1,
		   "invalid pattern \"`my.db.t\": unterminated backquote; expected \"db\" or \"db.table\" "
		   "(wildcards * and ?; write a name containing a dot in backquotes, e.g. `my.db`.t)");
	expect_bad("shop", 1,
		   "invalid pattern \"shop\": no table part; expected \"db.table\" (wildcards * and ?; "
		   "write a name containing a dot in backquotes, e.g. `my.db`.t)");
	expect_bad("shop.orders", 0,
		   "invalid pattern \"shop.orders\": a table part in a database pattern; expected a "
		   "database name (list single tables under tables)");
	expect_bad("shop.", -1,
		   "invalid pattern \"shop.\": an empty name; expected \"db\" or \"db.table\" (wildcards * "
		   "and ?; write a name containing a dot in backquotes, e.g. `my.db`.t)");
	expect_bad(".t", -1,
		   "invalid pattern \".t\": an empty name; expected \"db\" or \"db.table\" (wildcards * "
		   "and ?; write a name containing a dot in backquotes, e.g. `my.db`.t)");
	expect_bad("``.t", 1,
		   "invalid pattern \"``.t\": an empty name; expected \"db.table\" (wildcards * and ?; "
		   "write a name containing a dot in backquotes, e.g. `my.db`.t)");
	expect_bad("`a`b.t", -1,
		   "invalid pattern \"`a`b.t\": text after a closing backquote; expected \"db\" or "
		   "\"db.table\" (wildcards * and ?; write a name containing a dot in backquotes, e.g. "
		   "`my.db`.t)");
	expect_bad("sh`op", 0,
		   "invalid pattern \"sh`op\": a backquote inside a name; expected a database name "
		   "(wildcards * and ?; write a name containing a dot in backquotes, e.g. `my.db`)");
	/* control bytes are escaped in the message */
	expect_bad("a\nb.c.d", -1,
		   "invalid pattern \"a\\x0ab.c.d\": more than one dot outside backquotes; expected \"db\" "
		   "or \"db.table\" (wildcards * and ?; write a name containing a dot in backquotes, e.g. "
		   "`my.db`.t)");

	/* a failed add leaves the filter unchanged */
	assert_int_equal(tidm_filter_add_table(&f, "shop"), TIDM_EINVAL);
	assert_int_equal(f.n_tables, 0);
	assert_int_equal(tidm_filter_add_database(&f, "a.b"), TIDM_EINVAL);
	assert_int_equal(tidm_filter_add_exclude(&f, "a.b.c"), TIDM_EINVAL);
	assert_int_equal(f.n_databases + f.n_exclude, 0);
	assert_true(tidm_filter_match_table(&f, "shop", "t"));
	tidm_filter_dispose(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_filter__glob),
		cmocka_unit_test(test_util_filter__system_schemas_never),
		cmocka_unit_test(test_util_filter__empty_selects_everything),
		cmocka_unit_test(test_util_filter__databases_vs_tables),
		cmocka_unit_test(test_util_filter__exclude),
		cmocka_unit_test(test_util_filter__wildcards_in_lists),
		cmocka_unit_test(test_util_filter__names_with_dots_spaces_backquotes),
		cmocka_unit_test(test_util_filter__bad_patterns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
