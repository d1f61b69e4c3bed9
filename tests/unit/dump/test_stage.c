/*
 * test_stage.c - dump/stage.c: the files mode physical stages for TiDB's IMPORT INTO and
 * the statement that reads them. No TiDB runs here, so the format is checked against a
 * reader written from the rules IMPORT INTO applies with the options tidm passes (TAB
 * between fields, LF after a row, no enclosing, backslash escapes \0 \b \n \r \t \Z and
 * \<any byte> = that byte, an unescaped \N = NULL): every byte value, NULL, the empty
 * string and the string "\N" must come back as written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dump/stage.h"
#include "util/err.h"

/* One field per call: decodes b[*at...] up to TAB or LF; *is_null for an unescaped \N. */
static void read_field(const tidm_buf *b, size_t *at, tidm_buf *out, bool *is_null, char *end)
{
	size_t i = *at;

	tidm_buf_clear(out);
	*is_null = false;
	if (i + 2 <= b->len && b->data[i] == '\\' && b->data[i + 1] == 'N' &&
	    (i + 2 == b->len || b->data[i + 2] == '\t' || b->data[i + 2] == '\n')) {
		*is_null = true;
		i += 2;
	} else {
		while (i < b->len && b->data[i] != '\t' && b->data[i] != '\n') {
			char c = b->data[i++];
			assert_true(c != '\r' && c != '\0'); /* never raw: IMPORT INTO could read a line end */
			if (c == '\\') {
				assert_true(i < b->len);
				c = b->data[i++];
				switch (c) {
				case '0': c = '\0'; break;
				case 'b': c = '\b'; break;
				case 'n': c = '\n'; break;
				case 'r': c = '\r'; break;
				case 't': c = '\t'; break;
				case 'Z': c = '\032'; break;
				default: break;
				}
			}
			tidm_buf_putc(out, c);
		}
	}
	assert_true(i < b->len);
	*end = b->data[i];
	*at = i + 1;
}

static void test_dump_stage__every_byte_null_and_empty(void **state)
{
	char all[256];
	const char *vals[5];
	unsigned long lens[5];
	tidm_buf b = TIDM_BUF_INIT, f = TIDM_BUF_INIT;
	size_t at = 0;
	bool is_null;
	char end;

	(void)state;
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	vals[0] = all, lens[0] = 256;        /* every byte, as in a BLOB */
	vals[1] = NULL, lens[1] = 0;         /* NULL */
	vals[2] = "", lens[2] = 0;           /* the empty string */
	vals[3] = "\\N", lens[3] = 2;        /* the string \N, not NULL */
	vals[4] = "caf\xc3\xa9\t\n", lens[4] = 7;
	tidm_stage_put_row(&b, vals, lens, 5);
	tidm_stage_put_row(&b, vals + 1, lens + 1, 1); /* a row of a single NULL */

	read_field(&b, &at, &f, &is_null, &end);
	assert_false(is_null);
	assert_int_equal(f.len, 256);
	assert_memory_equal(f.data, all, 256);
	assert_int_equal(end, '\t');
	read_field(&b, &at, &f, &is_null, &end);
	assert_true(is_null);
	read_field(&b, &at, &f, &is_null, &end);
	assert_false(is_null);
	assert_int_equal(f.len, 0);
	read_field(&b, &at, &f, &is_null, &end);
	assert_false(is_null);
	assert_int_equal(f.len, 2);
	assert_memory_equal(f.data, "\\N", 2);
	read_field(&b, &at, &f, &is_null, &end);
	assert_int_equal(f.len, 7);
	assert_memory_equal(f.data, "caf\xc3\xa9\t\n", 7);
	assert_int_equal(end, '\n');
	read_field(&b, &at, &f, &is_null, &end);
	assert_true(is_null);
	assert_int_equal(end, '\n');
	assert_int_equal(at, b.len);
	/* the exact bytes of the special ones */
	tidm_buf_clear(&b);
	vals[0] = "a\\b\tc\nd\re\0f", lens[0] = 11;
	tidm_stage_put_row(&b, vals, lens, 1);
	assert_int_equal(b.len, 17);
	assert_memory_equal(b.data, "a\\\\b\\tc\\nd\\re\\0f\n", 17);
	tidm_buf_dispose(&b);
	tidm_buf_dispose(&f);
}

static void test_dump_stage__paths(void **state)
{
	tidm_buf dir = TIDM_BUF_INIT, loc = TIDM_BUF_INIT;

	(void)state;
	assert_int_equal(tidm_stage_paths("file:///mnt/stage/", "job-1", "shop", "we`ird/../t", &dir, &loc), 0);
	assert_string_equal(dir.data, "/mnt/stage/job-1/73686f70.7765606972642f2e2e2f74");
	assert_string_equal(loc.data, "/mnt/stage/job-1/73686f70.7765606972642f2e2e2f74/*.csv");
	assert_int_equal(tidm_stage_paths("file:///", "j", "d", "t", &dir, &loc), 0);
	assert_string_equal(dir.data, "/j/64.74");
	assert_int_equal(tidm_stage_paths("s3://bucket/pre/fix?region=x", "j", "d", "t", &dir, &loc), 0);
	assert_int_equal(dir.len, 0);
	assert_string_equal(loc.data, "s3://bucket/pre/fix/j/64.74/*.csv?region=x");
	assert_int_equal(tidm_stage_paths("/plain/dir", "j", "d", "t", &dir, &loc), TIDM_EINVAL);
	assert_string_equal(tidm_err_msg(), "spec.stage \"/plain/dir\" is not a file:/// or s3:// URL");
	tidm_buf_dispose(&dir);
	tidm_buf_dispose(&loc);
}

static void test_dump_stage__import_statement(void **state)
{
	static const char *const cols[] = {"id", "we`ird col", "ü"};
	tidm_buf b = TIDM_BUF_INIT;

	(void)state;
	tidm_stage_import_sql(&b, "sh`op", "or'ders", cols, 3, "/mnt/stage/j/it's/*.csv", 0);
	assert_string_equal(b.data,
			    "IMPORT INTO `sh``op`.`or'ders` (`id`,`we``ird col`,`\xc3\xbc`) FROM '/mnt/stage/j/it\\'s/*.csv' "
			    "FORMAT 'csv' WITH CHARACTER_SET='binary', FIELDS_TERMINATED_BY='\t', FIELDS_ENCLOSED_BY='', "
			    "FIELDS_ESCAPED_BY='\\\\', FIELDS_DEFINED_NULL_BY='\\\\N', LINES_TERMINATED_BY='\\n'");
	tidm_buf_clear(&b);
	tidm_stage_import_sql(&b, "d", "t", cols, 1, "s3://b/p/*.csv", 8);
	assert_non_null(strstr(b.data, ", THREAD=8"));
	assert_null(strstr(b.data, "DISABLE_PRECHECK")); /* PITR/changefeed check of TiDB stays on */
	tidm_buf_dispose(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_stage__every_byte_null_and_empty),
		cmocka_unit_test(test_dump_stage__paths),
		cmocka_unit_test(test_dump_stage__import_statement),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
