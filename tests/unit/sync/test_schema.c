/*
 * test_schema.c - sync/schema.c: the fold class of a key column, which decides whether two
 * values with different bytes may be one key on the target (routing and conflict hashes of
 * the applier depend on it; see tidm_schema_keyfold).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync/schema.h"

static void test_sync_schema__keyfold(void **state)
{
	static const struct {
		const char *charset, *collation, *type;
		int want;
	} cases[] = {
		{NULL, NULL, "int", TIDM_KEYFOLD_EXACT},
		{NULL, NULL, "bigint", TIDM_KEYFOLD_EXACT},
		{NULL, NULL, "datetime", TIDM_KEYFOLD_EXACT},
		{NULL, NULL, "decimal", TIDM_KEYFOLD_EXACT},
		{NULL, NULL, "varbinary", TIDM_KEYFOLD_EXACT},
		{"binary", "binary", "varchar", TIDM_KEYFOLD_EXACT},
		{"", NULL, "binary", TIDM_KEYFOLD_EXACT},
		{NULL, NULL, "float", TIDM_KEYFOLD_OPAQUE},
		{NULL, NULL, "double", TIDM_KEYFOLD_OPAQUE},
		{"utf8mb4", "utf8mb4_bin", "varchar", TIDM_KEYFOLD_TRIM},
		{"utf8mb4", "utf8mb4_nopad_bin", "varchar", TIDM_KEYFOLD_TRIM},
		{"latin1", "latin1_bin", "char", TIDM_KEYFOLD_TRIM},
		{"utf8mb4", "utf8mb4_general_ci", "varchar", TIDM_KEYFOLD_OPAQUE},
		{"utf8mb4", "utf8mb4_0900_ai_ci", "varchar", TIDM_KEYFOLD_OPAQUE},
		{"utf8mb4", "utf8mb4_0900_as_cs", "varchar", TIDM_KEYFOLD_OPAQUE},
		{"latin1", "latin1_swedish_ci", "text", TIDM_KEYFOLD_OPAQUE},
		{"utf8mb4", NULL, "varchar", TIDM_KEYFOLD_OPAQUE},
		{"utf16", "utf16_bin", "varchar", TIDM_KEYFOLD_OPAQUE},
		{"ucs2", "ucs2_bin", "char", TIDM_KEYFOLD_OPAQUE},
		{"utf32", "utf32_bin", "varchar", TIDM_KEYFOLD_OPAQUE},
		{"utf8mb4", "bin", "varchar", TIDM_KEYFOLD_OPAQUE}, /* no "_bin" suffix */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = tidm_schema_keyfold(cases[i].charset, cases[i].collation, cases[i].type);
		if (got != cases[i].want)
			fail_msg("case %zu (%s/%s/%s): %d, want %d", i, cases[i].charset ? cases[i].charset : "NULL",
				 cases[i].collation ? cases[i].collation : "NULL", cases[i].type, got, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_schema__keyfold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
