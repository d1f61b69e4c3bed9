/*
 * test_quote.c - db/quote.c: identifiers with backticks, string escaping of every special
 * byte (embedded NUL included), hex literals, table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "db/quote.h"

static void test_db_quote__ident(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"t", "`t`"},
		{"", "``"},
		{"a`b", "`a``b`"},
		{"``", "``````"},
		{"my table", "`my table`"},
		{"COLLATE 'x'", "`COLLATE 'x'`"},
		{"caf\xc3\xa9", "`caf\xc3\xa9`"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tidm_buf b = TIDM_BUF_INIT;

		tidm_quote_ident(&b, cases[i].in);
		assert_string_equal(b.data, cases[i].want);
		tidm_buf_dispose(&b);
	}
}

static void test_db_quote__qualified(void **state)
{
	tidm_buf b = TIDM_BUF_INIT;

	(void)state;
	tidm_quote_qualified(&b, "shop", "or`ders");
	assert_string_equal(b.data, "`shop`.`or``ders`");
	/* appends to what is already there */
	tidm_buf_puts(&b, ", ");
	tidm_quote_qualified(&b, "a.b", "c");
	assert_string_equal(b.data, "`shop`.`or``ders`, `a.b`.`c`");
	tidm_buf_dispose(&b);
}

static void test_db_quote__string(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;
		size_t want_n;
	} cases[] = {
		{"", 0, "''", 2},
		{"abc", 3, "'abc'", 5},
		{"it's", 4, "'it\\'s'", 7},
		{"say \"hi\"", 8, "'say \\\"hi\\\"'", 12},
		{"C:\\dir", 6, "'C:\\\\dir'", 9},
		{"a\0b", 3, "'a\\0b'", 6},
		{"\n\r\032", 3, "'\\n\\r\\Z'", 8},
		{"\t", 1, "'\t'", 3},                       /* tab needs no escape */
		{"caf\xc3\xa9", 5, "'caf\xc3\xa9'", 7},     /* UTF-8 copied as is */
		{"\xff\xfe", 2, "'\xff\xfe'", 4},           /* high bytes copied as is */
		{"\\'", 2, "'\\\\\\''", 6},                 /* no escape can be undone */
		{"x\0", 1, "'x'", 3},                       /* only n bytes are read */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tidm_buf b = TIDM_BUF_INIT;

		tidm_quote_string(&b, cases[i].in, cases[i].n);
		assert_int_equal(b.len, cases[i].want_n);
		assert_memory_equal(b.data, cases[i].want, cases[i].want_n);
		assert_int_equal(b.data[b.len], '\0');
		tidm_buf_dispose(&b);
	}
}

static void test_db_quote__string_long(void **state)
{
	/* a long value with escapes spread through it: every byte survives in order */
	tidm_buf b = TIDM_BUF_INIT;
	char in[3000];
	size_t i, o = 1;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (i % 7 == 0) ? '\'' : (char)('a' + i % 26);
	tidm_quote_string(&b, in, sizeof(in));
	assert_int_equal(b.len, sizeof(in) + (sizeof(in) + 6) / 7 + 2);
	for (i = 0; i < sizeof(in); i++) {
		if (in[i] == '\'') {
			assert_int_equal(b.data[o++], '\\');
		}
		assert_int_equal(b.data[o++], in[i]);
	}
	assert_int_equal(b.data[o], '\'');
	tidm_buf_dispose(&b);
}

static void test_db_quote__hex(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;
	} cases[] = {
		{"", 0, "''"},
		{"\0", 1, "X'00'"},
		{"\x01\xab\xff", 3, "X'01ABFF'"},
		{"AZ'", 3, "X'415A27'"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tidm_buf b = TIDM_BUF_INIT;

		tidm_quote_hex(&b, cases[i].in, cases[i].n);
		assert_string_equal(b.data, cases[i].want);
		tidm_buf_dispose(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_db_quote__ident),
		cmocka_unit_test(test_db_quote__qualified),
		cmocka_unit_test(test_db_quote__string),
		cmocka_unit_test(test_db_quote__string_long),
		cmocka_unit_test(test_db_quote__hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
