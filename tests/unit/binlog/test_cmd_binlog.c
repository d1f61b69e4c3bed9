/*
 * test_cmd_binlog.c - `tidm binlog decode` as a user runs it ($TIDM_BIN): exit codes, the
 * error line with the offset after the events before it, the JSON lines of SPEC 7.2
 * (type/pos/next_pos, rows by column, UPDATE before/after, payload events after the payload),
 * --count, --format text and usage errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct run {
	int status;
	char *out; /* stdout */
	char *err; /* stderr */
	int lines;
} run;

static char *read_all(FILE *f)
{
	size_t cap = 1 << 16, len = 0, k;
	char *b = malloc(cap);
	assert_non_null(b);
	while ((k = fread(b + len, 1, cap - len - 1, f)) > 0) {
		len += k;
		if (cap - len < 4096) {
			cap *= 2;
			b = realloc(b, cap);
			assert_non_null(b);
		}
	}
	b[len] = '\0';
	return b;
}

/* Run `tidm binlog ARGS` (ARGS: fixture-relative paths start with '@'). */
static void tidm(run *r, const char *args)
{
	const char *bin = getenv("TIDM_BIN"), *fx = getenv("TIDM_FIXTURES");
	char errpath[] = "/tmp/tidm_cmd_binlog_XXXXXX", cmd[4096], expanded[3000];
	size_t o = 0;
	int fd = mkstemp(errpath);

	assert_true(fd >= 0);
	close(fd);
	if (!bin || !*bin)
		bin = "tidm";
	if (!fx || !*fx)
		fx = "/work/shared/fixtures";
	for (const char *s = args; *s && o < sizeof(expanded) - 600; s++) {
		if (*s == '@')
			o += (size_t)snprintf(expanded + o, sizeof(expanded) - o, "%s/binlog/", fx);
		else
			expanded[o++] = *s;
	}
	expanded[o] = '\0';
	snprintf(cmd, sizeof(cmd), "'%s' binlog %s 2>'%s'", bin, expanded, errpath);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	r->out = read_all(p);
	r->status = pclose(p);
	r->status = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
	FILE *e = fopen(errpath, "r");
	assert_non_null(e);
	r->err = read_all(e);
	fclose(e);
	unlink(errpath);
	r->lines = 0;
	for (const char *s = r->out; *s; s++)
		r->lines += *s == '\n';
}

static void run_free(run *r)
{
	free(r->out);
	free(r->err);
}

/* The n-th (1-based) line of s, copied. */
static char *nth_line(const char *s, int n)
{
	for (int i = 1; i < n && s; i++) {
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	assert_non_null(s);
	const char *e = strchr(s, '\n');
	return strndup(s, e ? (size_t)(e - s) : strlen(s));
}

static void test_binlog_cmd__corrupt_file_offset(void **state)
{
	run r;
	(void)state;
	tidm(&r, "decode @rust_mysql_common/corrupt-relay-bin.000624");
	assert_int_equal(r.status, 1);
	/* every event before the broken QUERY is printed: 872 lines, the last the INTVAR */
	assert_int_equal(r.lines, 872);
	char *last = nth_line(r.out, 872);
	assert_true(strncmp(last, "{\"type\":\"INTVAR\",\"pos\":91176,\"next_pos\":91204,", 46) == 0);
	free(last);
	assert_non_null(strstr(r.err, "corrupt-relay-bin.000624: QUERY event: status variables "
				      "longer than the event, at offset 91204\n"));
	run_free(&r);

	tidm(&r, "decode @canal/tsdb/mysql-bin.000001");
	assert_int_equal(r.status, 1);
	assert_int_equal(r.lines, 0);
	assert_non_null(strstr(r.err, "not a binlog file: bad magic ef bf bd 62 at offset 0"));
	run_free(&r);

	tidm(&r, "decode @rust_mysql_common/binlog_truncated_prev_gtid_event.000001");
	assert_int_equal(r.status, 1);
	assert_int_equal(r.lines, 1);
	assert_true(strncmp(r.out, "{\"type\":\"FORMAT_DESCRIPTION\",\"pos\":4,\"next_pos\":120,", 52) ==
		    0);
	assert_non_null(strstr(r.err, "truncated event: 9 bytes left, a header needs 19, at offset 120"));
	run_free(&r);
}

static void test_binlog_cmd__json_lines(void **state)
{
	run r;
	(void)state;
	tidm(&r, "decode @rust_mysql_common/transaction_compression.000001");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	/* FDE, PREVIOUS_GTIDS, ANONYMOUS_GTID, payload + 4 inner events, ROTATE */
	assert_int_equal(r.lines, 9);
	char *l = nth_line(r.out, 4);
	assert_string_equal(l, "{\"type\":\"TRANSACTION_PAYLOAD\",\"pos\":274,\"next_pos\":431,"
			       "\"timestamp\":1695159109,\"server_id\":1,\"log_pos\":431,\"size\":157,"
			       "\"compression\":\"ZSTD\",\"payload_size\":124,\"uncompressed_size\":179}");
	free(l);
	l = nth_line(r.out, 7);
	assert_string_equal(l, "{\"type\":\"WRITE_ROWS_V2\",\"pos\":274,\"next_pos\":431,"
			       "\"in_payload\":true,\"payload_offset\":116,\"timestamp\":1695159109,"
			       "\"server_id\":1,\"log_pos\":0,\"size\":36,\"table_id\":88,\"db\":\"test\","
			       "\"table\":\"tb1\",\"flags\":1,\"rows\":[{\"@1\":1}]}");
	free(l);
	l = nth_line(r.out, 2);
	assert_non_null(strstr(l, "\"gtid_set\":\"357df524-4139-11ee-9979-b033ee13919e:1\""));
	free(l);
	run_free(&r);

	/* UPDATE rows: before/after, column names from FULL metadata */
	tidm(&r, "decode @rust_mysql_common/binlog-invisible-columns.000001");
	assert_int_equal(r.status, 0);
	const char *u = strstr(r.out, "{\"type\":\"UPDATE_ROWS_V2\"");
	assert_non_null(u);
	assert_non_null(strstr(u, "\"rows\":[{\"before\":{"));
	assert_non_null(strstr(u, "},\"after\":{"));
	assert_non_null(strstr(u, "\"f3\":"));
	run_free(&r);

	/* tagged GTID */
	tidm(&r, "decode @rust_mysql_common/binlog_transaction_with_GTID_TAG.000001");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"type\":\"GTID_TAGGED\",\"pos\":245,\"next_pos\":328,"));
	assert_non_null(strstr(r.out, "\"gtid\":\"55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3\""));
	assert_non_null(strstr(r.out, "\"rows\":[{\"@1\":3,\"@2\":100,\"@3\":\"250.00\"}]"));
	run_free(&r);
}

static void test_binlog_cmd__count_text_usage(void **state)
{
	run r;
	(void)state;
	tidm(&r, "decode @mysql-binlog-connector-rust/mysql-bin.000057 --count");
	assert_int_equal(r.status, 0);
	/* top-level and inner events together (SOURCES.md: 8 top-level + 13 inner) */
	assert_non_null(strstr(r.out, "TRANSACTION_PAYLOAD 2\n"));
	assert_non_null(strstr(r.out, "QUERY 3\n"));
	assert_non_null(strstr(r.out, "events 21\nrows 3\n"));
	run_free(&r);

	tidm(&r, "decode @rust_mysql_common/bug32407.001 --format text");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "#350 WRITE_ROWS_V2 `test`.`t1`\n  INSERT (@1=1)\n  INSERT (@1=1)\n"));
	run_free(&r);

	tidm(&r, "decode @rust_mysql_common/bug32407.001 @rust_mysql_common/master-bin.000001");
	assert_int_equal(r.status, 0);
	assert_int_equal(r.lines, 7 + 3);
	assert_non_null(strstr(r.out, "master-bin.000001\",\"pos\":4,"));
	run_free(&r);

	tidm(&r, "");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "usage: tidm binlog decode FILE..."));
	run_free(&r);
	tidm(&r, "decode");
	assert_int_equal(r.status, 2);
	run_free(&r);
	tidm(&r, "decode @rust_mysql_common/bug32407.001 --format xml");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "unknown format 'xml'"));
	run_free(&r);
	tidm(&r, "decode /nonexistent/file");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "cannot open /nonexistent/file"));
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binlog_cmd__corrupt_file_offset),
		cmocka_unit_test(test_binlog_cmd__json_lines),
		cmocka_unit_test(test_binlog_cmd__count_text_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
