/*
 * test_config.c - the job file (job/config): every field of SPEC §7.1 read back, the
 * defaults, JSON bodies, and each user mistake with its exact "FILE:LINE:COL: ..." message.
 * Job files are written into a fresh temporary directory, which is also the working
 * directory, so messages start with "job.yaml:" and relative paths resolve there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "job/config.h"
#include "util/err.h"

static char tmpdir[256];

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* tmpdir + "/" + name */
static const char *in_tmp(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/tidm-config-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir) || chdir(tmpdir) != 0)
		return -1;
	/* the directory may be reached through a symlink (/tmp): use the name getcwd shows */
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s", cwd);
	free(cwd);
	unsetenv("TIDM_TEST_NO_SUCH_VAR");
	return 0;
}

static int teardown(void **state)
{
	static const char *const files[] = {"job.yaml", "pw.txt", "pw-crlf.txt", "sub/job.yaml", "big.txt"};

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(in_tmp(files[i]));
	rmdir(in_tmp("sub"));
	if (chdir("/") != 0)
		return -1;
	return rmdir(tmpdir);
}

/* Write job.yaml = text, load it and expect TIDM_EINVAL with exactly msg. */
static void expect_error(const char *text, const char *msg)
{
	tidm_job_config *cfg = (tidm_job_config *)1;

	write_file("job.yaml", text);
	tidm_err_clear();
	assert_int_equal(tidm_job_config_load(&cfg, "job.yaml"), TIDM_EINVAL);
	assert_null(cfg);
	assert_int_equal(tidm_err_code(), TIDM_EINVAL);
	assert_string_equal(tidm_err_msg(), msg);
}

/* A valid minimal body; tests append or prepend to it. */
#define MIN_SOURCE "source:\n  host: src.example\n  user: migrator\n"
#define MIN_TARGET "target:\n  host: tidb.example\n  port: 4000\n  user: root\n"

static void test_job_config__full_file(void **state)
{
	tidm_job_config *cfg = NULL;
	const char *text =
		"name: shop-to-tidb          # letter first, < 60 chars\n"
		"type: incremental\n"
		"mode: physical\n"
		"source:\n"
		"  host: 127.0.0.1\n"
		"  port: 3307\n"
		"  user: migrator\n"
		"  password: \"p@ss: word\"\n"
		"  tls: { ca: ca.pem, cert: /etc/tidm/client.pem, key: keys/client-key.pem }\n"
		"  connect-timeout: 5\n"
		"  stall-timeout: 7\n"
		"target:\n"
		"  host: tidb.internal\n"
		"  port: 4000\n"
		"  user: root\n"
		"  password-env: TIDM_TEST_TARGET_PW\n"
		"  tls: { ca: /etc/ssl/ca.pem, verify-hostname: false }\n"
		"objects:\n"
		"  databases: [shop, crm]\n"
		"  tables: [billing.invoices]\n"
		"  exclude: [\"shop.tmp_*\"]\n"
		"start:\n"
		"  gtid: \"3E11FA47-71CA-11E1-9E33-C80AA9429562:1-23\"\n"
		"spec:\n"
		"  dump-threads: 6\n"
		"  load-threads: 3\n"
		"  apply-workers: 16\n"
		"  batch: 250\n"
		"  chunk-rows: 50000\n"
		"  statement-bytes: 4096\n"
		"  safe-mode-seconds: 0\n"
		"  load-method: insert\n"
		"  keyless-nonempty: append\n"
		"  max-txn-bytes: 8388608\n"
		"  verify: continuous\n"
		"  verify-rows-per-second: 5000\n"
		"  verify-chunk-rows: 2000\n"
		"  stage: file:///shared/tidm-stage\n"
		"  physical: {disable-redo-log: true, one-transaction: true}\n"
		"safe-mode: true\n";
	char expect[512];

	(void)state;
	setenv("TIDM_TEST_TARGET_PW", "from-env", 1);
	write_file("job.yaml", text);
	assert_int_equal(tidm_job_config_load(&cfg, "job.yaml"), 0);
	assert_non_null(cfg);
	assert_string_equal(cfg->path, "job.yaml");
	assert_string_equal(cfg->name, "shop-to-tidb");
	assert_int_equal(cfg->load_method, TIDM_LOAD_INSERT);
	assert_int_equal(cfg->keyless_nonempty, TIDM_KEYLESS_APPEND);
	assert_int_equal(cfg->verify, TIDM_VERIFY_CONTINUOUS);
	assert_int_equal(cfg->verify_rows_per_second, 5000);
	assert_int_equal(cfg->verify_chunk_rows, 2000);
	assert_string_equal(cfg->stage, "file:///shared/tidm-stage");
	assert_true(cfg->physical_disable_redo);
	assert_true(cfg->physical_one_txn);
	assert_int_equal(cfg->type, TIDM_JOB_INCREMENTAL);
	assert_int_equal(cfg->mode, TIDM_MODE_PHYSICAL);
	assert_string_equal(cfg->source.host, "127.0.0.1");
	assert_int_equal(cfg->source.port, 3307);
	assert_string_equal(cfg->source.user, "migrator");
	assert_string_equal(cfg->source.password, "p@ss: word");
	snprintf(expect, sizeof(expect), "%s/ca.pem", tmpdir);
	assert_string_equal(cfg->source.tls_ca, expect);
	assert_string_equal(cfg->source.tls_cert, "/etc/tidm/client.pem");
	snprintf(expect, sizeof(expect), "%s/keys/client-key.pem", tmpdir);
	assert_string_equal(cfg->source.tls_key, expect);
	assert_int_equal(cfg->source.connect_timeout, 5);
	assert_int_equal(cfg->source.stall_timeout, 7);
	assert_int_equal(cfg->target.stall_timeout, 30);
	assert_false(cfg->source.tls_no_host_check);
	assert_true(cfg->target.tls_no_host_check);
	assert_string_equal(cfg->target.host, "tidb.internal");
	assert_int_equal(cfg->target.port, 4000);
	assert_string_equal(cfg->target.user, "root");
	assert_string_equal(cfg->target.password, "from-env");
	assert_string_equal(cfg->target.tls_ca, "/etc/ssl/ca.pem");
	assert_null(cfg->target.tls_cert);
	assert_null(cfg->target.tls_key);
	assert_int_equal(cfg->target.connect_timeout, 10);
	/* objects: whole databases, one table, an exclusion */
	assert_int_equal(cfg->objects.n_databases, 2);
	assert_int_equal(cfg->objects.n_tables, 1);
	assert_int_equal(cfg->objects.n_exclude, 1);
	assert_true(tidm_filter_match_table(&cfg->objects, "shop", "orders"));
	assert_false(tidm_filter_match_table(&cfg->objects, "shop", "tmp_x"));
	assert_true(tidm_filter_match_table(&cfg->objects, "crm", "contacts"));
	assert_true(tidm_filter_match_table(&cfg->objects, "billing", "invoices"));
	assert_false(tidm_filter_match_table(&cfg->objects, "billing", "payments"));
	assert_false(tidm_filter_match_db(&cfg->objects, "hr"));
	assert_string_equal(cfg->start_gtid, "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-23");
	assert_null(cfg->start_binlog_file);
	assert_int_equal(cfg->start_binlog_pos, 0);
	assert_false(cfg->start_requested);
	assert_int_equal(cfg->dump_threads, 6);
	assert_int_equal(cfg->load_threads, 3);
	assert_int_equal(cfg->apply_workers, 16);
	assert_int_equal(cfg->batch, 250);
	assert_int_equal(cfg->chunk_rows, 50000);
	assert_int_equal(cfg->statement_bytes, 4096);
	assert_int_equal(cfg->max_txn_bytes, 8388608);
	assert_true(cfg->max_txn_bytes_set);
	assert_int_equal(cfg->safe_mode_seconds, 0);
	assert_true(cfg->safe_mode);
	tidm_job_config_free(cfg);
	unsetenv("TIDM_TEST_TARGET_PW");
}

static void test_job_config__defaults(void **state)
{
	tidm_job_config *cfg = NULL;

	(void)state;
	write_file("job.yaml", "name: a\ntype: full\n" MIN_SOURCE "target: {host: t, user: root}\n");
	assert_int_equal(tidm_job_config_load(&cfg, "job.yaml"), 0);
	assert_string_equal(cfg->name, "a");
	assert_int_equal(cfg->type, TIDM_JOB_FULL);
	assert_int_equal(cfg->keyless_nonempty, TIDM_KEYLESS_REFUSE);
	assert_int_equal(cfg->verify, TIDM_VERIFY_OFF);
	assert_int_equal(cfg->verify_rows_per_second, 0);
	assert_int_equal(cfg->mode, TIDM_MODE_LOGICAL);
	assert_int_equal(cfg->source.port, 3306);
	assert_int_equal(cfg->target.port, 3306);
	assert_string_equal(cfg->source.password, "");
	assert_string_equal(cfg->target.password, "");
	assert_null(cfg->source.tls_ca);
	assert_null(cfg->source.tls_cert);
	assert_null(cfg->source.tls_key);
	assert_int_equal(cfg->source.connect_timeout, 10);
	assert_int_equal(cfg->objects.n_databases + cfg->objects.n_tables + cfg->objects.n_exclude, 0);
	assert_true(tidm_filter_match_table(&cfg->objects, "anything", "t"));
	assert_false(tidm_filter_match_table(&cfg->objects, "mysql", "user"));
	assert_null(cfg->start_gtid);
	assert_null(cfg->start_binlog_file);
	assert_int_equal(cfg->start_binlog_pos, 0);
	assert_int_equal(cfg->dump_threads, 4);
	assert_int_equal(cfg->load_threads, 4);
	assert_int_equal(cfg->apply_workers, 8);
	assert_int_equal(cfg->batch, 100);
	assert_int_equal(cfg->chunk_rows, 100000);
	assert_int_equal(cfg->statement_bytes, 1048576);
	assert_false(cfg->max_txn_bytes_set); /* the target decides (sync/txn_split.h) */
	assert_false(cfg->safe_mode);
	assert_int_equal(cfg->safe_mode_seconds, 60);
	assert_int_equal(cfg->alert_no_progress_s, 1200); /* alerts: defaults */
	assert_int_equal(cfg->alert_lag_s, 0);
	assert_string_equal(tidm_job_type_name(cfg->type), "full");
	assert_string_equal(tidm_job_mode_name(cfg->mode), "logical");
	tidm_job_config_free(cfg);
	tidm_job_config_free(NULL);

	/* document markers around the one job are fine */
	write_file("job.yaml", "---\nname: b\ntype: all\n" MIN_SOURCE MIN_TARGET "...\n---\n");
	assert_int_equal(tidm_job_config_load(&cfg, "job.yaml"), 0);
	assert_string_equal(cfg->name, "b");
	assert_int_equal(cfg->type, TIDM_JOB_ALL);
	tidm_job_config_free(cfg);
}

static void test_job_config__json_body(void **state)
{
	tidm_job_config *cfg = NULL;
	const char *body =
		"{\"name\": \"api-job\", \"type\": \"incremental\", \"start\": true,\n"
		" \"source\": {\"host\": \"s\", \"port\": 3306, \"user\": \"u\", \"password\": \"pw\"},\n"
		" \"target\": {\"host\": \"t\", \"port\": 4000, \"user\": \"root\"},\n"
		" \"objects\": {\"databases\": [\"shop\"], \"exclude\": [\"shop.tmp_*\"]},\n"
		" \"spec\": {\"batch\": 500}, \"safe-mode\": false,\n"
		" \"alerts\": {\"no-progress-seconds\": 5, \"lag-seconds\": 30}}";

	(void)state;
	assert_int_equal(tidm_job_config_parse(&cfg, body, strlen(body), "request body"), 0);
	assert_int_equal(cfg->alert_no_progress_s, 5);
	assert_int_equal(cfg->alert_lag_s, 30);
	assert_string_equal(cfg->path, "request body");
	assert_string_equal(cfg->name, "api-job");
	assert_int_equal(cfg->type, TIDM_JOB_INCREMENTAL);
	assert_true(cfg->start_requested);
	assert_null(cfg->start_gtid);
	assert_string_equal(cfg->source.password, "pw");
	assert_int_equal(cfg->target.port, 4000);
	assert_int_equal(cfg->batch, 500);
	assert_true(tidm_filter_match_table(&cfg->objects, "shop", "a"));
	assert_false(tidm_filter_match_table(&cfg->objects, "shop", "tmp_a"));
	tidm_job_config_free(cfg);

	/* the same parser reports positions inside a JSON body */
	const char *bad = "{\"name\": \"api-job\",\n \"type\": \"full\", \"tpye\": 1}";
	cfg = NULL;
	assert_int_equal(tidm_job_config_parse(&cfg, bad, strlen(bad), "request body"), TIDM_EINVAL);
	assert_null(cfg);
	assert_string_equal(tidm_err_msg(),
			    "request body:2:18: unknown key \"tpye\" in the job; expected one of name, type, mode, "
			    "source, target, objects, start, spec, safe-mode, precheck, alerts");
	/* the text need not be NUL-terminated */
	char not_terminated[] = {'n', 'a', 'm', 'e', ':', ' ', '1', 'X'};
	assert_int_equal(tidm_job_config_parse(&cfg, not_terminated, 7, "body"), TIDM_EINVAL);
	assert_string_equal(tidm_err_msg(),
			    "body:1:7: invalid job name \"1\": it must start with a letter; expected a name that "
			    "starts with a letter, is shorter than 60 characters and uses only A-Z a-z 0-9 _ -");
}

static void test_job_config__passwords_from_file_and_env(void **state)
{
	tidm_job_config *cfg = NULL;

	(void)state;
	assert_int_equal(mkdir(in_tmp("sub"), 0700), 0);
	write_file("pw.txt", "file-secret\n");
	write_file("pw-crlf.txt", "crlf-secret\r\n");
	/* password-file is relative to the job file's directory, not the working directory */
	write_file("sub/job.yaml",
		   "name: a\ntype: all\n"
		   "source: {host: s, user: u, password-file: ../pw.txt}\n"
		   "target: {host: t, user: u, password-file: ../pw-crlf.txt}\n");
	assert_int_equal(tidm_job_config_load(&cfg, "sub/job.yaml"), 0);
	assert_string_equal(cfg->source.password, "file-secret");
	assert_string_equal(cfg->target.password, "crlf-secret");
	tidm_job_config_free(cfg);

	/* an empty environment variable is an empty password */
	setenv("TIDM_TEST_EMPTY_PW", "", 1);
	write_file("job.yaml", "name: a\ntype: all\nsource: {host: s, user: u, password-env: TIDM_TEST_EMPTY_PW}\n"
			       "target: {host: t, user: u, password: ''}\n");
	assert_int_equal(tidm_job_config_load(&cfg, "job.yaml"), 0);
	assert_string_equal(cfg->source.password, "");
	assert_string_equal(cfg->target.password, "");
	tidm_job_config_free(cfg);
	unsetenv("TIDM_TEST_EMPTY_PW");
}

static void test_job_config__binlog_start(void **state)
{
	tidm_job_config *cfg = NULL;

	(void)state;
	write_file("job.yaml", "name: a\ntype: incremental\n" MIN_SOURCE MIN_TARGET
			       "start:\n  binlog-file: mysql-bin.000016\n  binlog-pos: 5122\n");
	assert_int_equal(tidm_job_config_load(&cfg, "job.yaml"), 0);
	assert_string_equal(cfg->start_binlog_file, "mysql-bin.000016");
	assert_int_equal(cfg->start_binlog_pos, 5122);
	assert_null(cfg->start_gtid);
	tidm_job_config_free(cfg);
}

/*
 * Like expect_error, and also assert that nothing was printed on stderr (libfyaml must
 * not print its diagnostics). stderr is restored before any assertion can fail.
 */
static void expect_error_silent(const char *text, const char *msg)
{
	tidm_job_config *cfg = NULL;
	char path[300];
	FILE *f;
	long size;
	int saved, rc;

	write_file("job.yaml", text);
	snprintf(path, sizeof(path), "%s/stderr.txt", tmpdir);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_non_null(freopen(path, "w", stderr));
	rc = tidm_job_config_load(&cfg, "job.yaml");
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	unlink(path);
	assert_int_equal(rc, TIDM_EINVAL);
	assert_null(cfg);
	assert_string_equal(tidm_err_msg(), msg);
	assert_int_equal(size, 0);
}

static void test_job_config__malformed_yaml(void **state)
{
	(void)state;
	expect_error_silent("name: a\ntype: full\nsource:\n  host: s\n   user: u\n",
			    "job.yaml:4:9: invalid YAML: invalid multiline plain key");
	expect_error_silent("name: a\ntype: \"full\n",
			    "job.yaml:2:8: invalid YAML: double-quoted scalar without closing quote");
	expect_error_silent("name: a\nobjects:\n  databases: [shop, crm\n  tables: []\n",
			    "job.yaml:5:1: invalid YAML: flow sequence without a closing bracket");
	expect_error_silent("", "job.yaml:1:1: the job file is empty; expected a mapping with name, type, source and target");
	expect_error_silent("# nothing yet\n",
			    "job.yaml:1:1: the job file is empty; expected a mapping with name, type, source and target");
	expect_error("name: a\nname: b\n", "job.yaml:2:1: invalid YAML: duplicate key");
	expect_error("\xff\xfe\x00\x01", "job.yaml:1:1: invalid YAML: the text cannot be parsed; expected a UTF-8 YAML or JSON text");
	expect_error("name: a\ntype: full\n---\nname: b\n",
		     "job.yaml:4:1: a second YAML document (after ---); expected one job per file");
	expect_error("name: a\ntype: full\n---\nname: \"b\n",
		     "job.yaml:4:8: invalid YAML: double-quoted scalar without closing quote");
	expect_error("- name: a\n",
		     "job.yaml:1:1: the job is a list; expected a mapping with keys name, type, mode, source, target, "
		     "objects, start, spec, safe-mode, precheck, alerts");
	expect_error("name: &n a\ntype: *n\n",
		     "job.yaml:2:7: type is an alias (anchors and aliases are not supported); expected one of full, "
		     "incremental, all");
}

static void test_job_config__unknown_keys(void **state)
{
	(void)state;
	expect_error("name: a\n\ntpye: full\n",
		     "job.yaml:3:1: unknown key \"tpye\" in the job; expected one of name, type, mode, source, target, "
		     "objects, start, spec, safe-mode, precheck, alerts");
	expect_error("name: a\ntype: full\nsource:\n  hots: s\n",
		     "job.yaml:4:3: unknown key \"hots\" in source; expected one of host, port, user, password, "
		     "password-env, password-file, tls, connect-timeout, binlog, triggers, stall-timeout");
	expect_error("name: a\ntype: full\n" MIN_SOURCE "target:\n  host: t\n  tls: {ca: a, crt: b}\n",
		     "job.yaml:8:16: unknown key \"crt\" in target.tls; expected one of ca, cert, key, verify-hostname");
	expect_error("name: a\ntype: full\nspec:\n  threads: 4\n",
		     "job.yaml:4:3: unknown key \"threads\" in spec; expected one of dump-threads, load-threads, "
		     "apply-workers, batch, chunk-rows, statement-bytes, safe-mode-seconds, load-method, "
		     "keyless-nonempty, max-txn-bytes, verify, verify-rows-per-second, verify-chunk-rows, stage, physical, export");
	expect_error("name: a\ntype: full\nspec:\n  stage: /shared/dir\n",
		     "job.yaml:4:10: stage in spec is not a URL tidm can stage files at; expected a URL such as "
		     "file:///shared/dir or s3://bucket/prefix");
	expect_error("name: a\ntype: full\nspec:\n  physical: {redo: off}\n",
		     "job.yaml:4:14: unknown key \"redo\" in physical in spec; expected one of disable-redo-log, one-transaction");
	expect_error("name: a\ntype: full\nspec:\n  physical: {disable-redo-log: maybe}\n",
		     "job.yaml:4:32: disable-redo-log in physical in spec is \"maybe\"; expected true or false");
	expect_error("name: a\ntype: full\nspec:\n  physical: yes\n",
		     "job.yaml:4:13: physical in spec is a value; expected a mapping with disable-redo-log and/or one-transaction");
	expect_error("name: a\ntype: full\nspec:\n  verify: sometimes\n",
		     "job.yaml:4:11: verify in spec is \"sometimes\"; expected one of off, after-full, continuous");
	expect_error("name: a\ntype: full\nspec:\n  verify-rows-per-second: 0\n",
		     "job.yaml:4:27: verify-rows-per-second in spec is \"0\"; expected a whole number from 1 to 1000000000");
	expect_error("name: a\nobjects:\n  database: [shop]\n",
		     "job.yaml:3:3: unknown key \"database\" in objects; expected one of databases, tables, exclude");
	expect_error("name: a\nstart: {gtid: 0-1-5, pos: 4}\n",
		     "job.yaml:2:22: unknown key \"pos\" in start; expected one of gtid, binlog-file, binlog-pos");
}

/* spec.export: the values read, suffixes of byte amounts, and each bad value refused at
 * its line:column with what is expected. */
static void test_job_config__export(void **state)
{
	tidm_job_config *cfg = NULL;

	(void)state;
	write_file("job.yaml", "name: a\ntype: full\n" MIN_SOURCE MIN_TARGET
			       "spec:\n  export: {max-rows-per-second: 10000, max-bytes-per-second: 64MiB, adaptive: true}\n");
	assert_int_equal(tidm_job_config_load(&cfg, "job.yaml"), 0);
	assert_int_equal(cfg->export_max_rows, 10000);
	assert_int_equal(cfg->export_max_bytes, 67108864);
	assert_true(cfg->export_adaptive);
	tidm_job_config_free(cfg);
	write_file("job.yaml", "name: a\ntype: full\n" MIN_SOURCE MIN_TARGET
			       "spec:\n  export:\n    max-bytes-per-second: 10MB\n");
	assert_int_equal(tidm_job_config_load(&cfg, "job.yaml"), 0);
	assert_int_equal(cfg->export_max_rows, 0);
	assert_int_equal(cfg->export_max_bytes, 10000000);
	assert_false(cfg->export_adaptive);
	tidm_job_config_free(cfg);
	/* absent: nothing throttled */
	write_file("job.yaml", "name: a\ntype: full\n" MIN_SOURCE MIN_TARGET);
	assert_int_equal(tidm_job_config_load(&cfg, "job.yaml"), 0);
	assert_true(cfg->export_max_rows == 0 && cfg->export_max_bytes == 0 && !cfg->export_adaptive);
	tidm_job_config_free(cfg);

	expect_error("name: a\ntype: full\nspec:\n  export:\n    max-rows-per-second: 0\n",
		     "job.yaml:5:26: max-rows-per-second in spec.export is \"0\"; expected a whole number from 1 to "
		     "1000000000");
	expect_error("name: a\ntype: full\nspec:\n  export: {max-rows-per-second: fast}\n",
		     "job.yaml:4:33: max-rows-per-second in spec.export is \"fast\"; expected a whole number from 1 to "
		     "1000000000");
	expect_error("name: a\ntype: full\nspec:\n  export:\n    max-bytes-per-second: 10XB\n",
		     "job.yaml:5:27: max-bytes-per-second in spec.export is \"10XB\"; expected a number of bytes from "
		     "1024 to 1099511627776, optionally with a suffix such as 10MB or 64MiB");
	expect_error("name: a\ntype: full\nspec:\n  export:\n    max-bytes-per-second: 100\n",
		     "job.yaml:5:27: max-bytes-per-second in spec.export is \"100\"; expected a number of bytes from "
		     "1024 to 1099511627776, optionally with a suffix such as 10MB or 64MiB");
	expect_error("name: a\ntype: full\nspec:\n  export:\n    max-bytes-per-second:\n",
		     "job.yaml:5:5: max-bytes-per-second in spec.export is empty; expected a number of bytes from "
		     "1024 to 1099511627776, optionally with a suffix such as 10MB or 64MiB");
	expect_error("name: a\ntype: full\nspec:\n  export:\n    adaptive: yes\n",
		     "job.yaml:5:15: adaptive in spec.export is \"yes\"; expected true or false");
	expect_error("name: a\ntype: full\nspec:\n  export:\n    max-rows: 5\n",
		     "job.yaml:5:5: unknown key \"max-rows\" in spec.export; expected one of max-rows-per-second, "
		     "max-bytes-per-second, adaptive");
	expect_error("name: a\ntype: full\nspec:\n  export: 5000\n",
		     "job.yaml:4:11: export in spec is a value; expected a mapping with max-rows-per-second, "
		     "max-bytes-per-second and/or adaptive");
}

static void test_job_config__missing_keys(void **state)
{
	(void)state;
	expect_error("type: full\n" MIN_SOURCE MIN_TARGET,
		     "job.yaml:1:1: missing key \"name\" in the job; expected a name that starts with a letter, is "
		     "shorter than 60 characters and uses only A-Z a-z 0-9 _ -");
	expect_error("name: a\n" MIN_SOURCE MIN_TARGET,
		     "job.yaml:1:1: missing key \"type\" in the job; expected one of full, incremental, all");
	expect_error("name: a\ntype: full\n" MIN_SOURCE,
		     "job.yaml:1:1: missing key \"target\" in the job; expected a mapping with host, port, user and a "
		     "password");
	expect_error("name: a\ntype: full\nsource:\n  user: u\n  port: 3306\n",
		     "job.yaml:4:3: missing key \"host\" in source; expected the host name or IP address of the source "
		     "server");
	expect_error("name: a\ntype: full\nsource: {host: h}\n",
		     "job.yaml:3:9: missing key \"user\" in source; expected the user name to connect as");
	expect_error("name: a\ntype: full\nsource:\n",
		     "job.yaml:3:1: source is empty; expected a mapping with host, port, user and a password");
	expect_error("name: a\ntype: full\nsource: [h]\n",
		     "job.yaml:3:9: source is a list; expected a mapping with host, port, user and a password");
}

static void test_job_config__bad_name(void **state)
{
	(void)state;
	expect_error("name: 1abc\n",
		     "job.yaml:1:7: invalid job name \"1abc\": it must start with a letter; expected a name that starts "
		     "with a letter, is shorter than 60 characters and uses only A-Z a-z 0-9 _ -");
	expect_error("name: shop to tidb\n",
		     "job.yaml:1:7: invalid job name \"shop to tidb\": it may only contain A-Z a-z 0-9 _ -; expected a "
		     "name that starts with a letter, is shorter than 60 characters and uses only A-Z a-z 0-9 _ -");
	expect_error("name: a123456789b123456789c123456789d123456789e123456789f123456789\n",
		     "job.yaml:1:7: invalid job name \"a123456789b123456789c123456789d123456789e123456789f123456789\": it "
		     "must be shorter than 60 characters; expected a name that starts with a letter, is shorter than 60 "
		     "characters and uses only A-Z a-z 0-9 _ -");
	expect_error("name: \"\"\n",
		     "job.yaml:1:7: name is empty; expected a name that starts with a letter, is shorter than 60 "
		     "characters and uses only A-Z a-z 0-9 _ -");
	expect_error("name: [a]\n",
		     "job.yaml:1:7: name is a list; expected a name that starts with a letter, is shorter than 60 "
		     "characters and uses only A-Z a-z 0-9 _ -");
	/* the rule itself */
	assert_null(tidm_job_name_check("a"));
	assert_null(tidm_job_name_check("Shop_to-TiDB_2"));
	assert_null(tidm_job_name_check("a2345678901234567890123456789012345678901234567890123456789")); /* 59 */
	assert_string_equal(tidm_job_name_check("a23456789012345678901234567890123456789012345678901234567890"),
			    "it must be shorter than 60 characters");
	assert_string_equal(tidm_job_name_check(""), "it is empty");
	assert_string_equal(tidm_job_name_check(NULL), "it is empty");
	assert_string_equal(tidm_job_name_check("_a"), "it must start with a letter");
	assert_string_equal(tidm_job_name_check("a.b"), "it may only contain A-Z a-z 0-9 _ -");
	assert_string_equal(tidm_job_name_check("caf\xc3\xa9"), "it may only contain A-Z a-z 0-9 _ -");
}

static void test_job_config__bad_values(void **state)
{
	(void)state;
	expect_error("name: a\ntype: fulll\n",
		     "job.yaml:2:7: type is \"fulll\"; expected one of full, incremental, all");
	expect_error("name: a\nmode: fast\n", "job.yaml:2:7: mode is \"fast\"; expected one of logical, physical");
	expect_error("name: a\ntype: full\nsource:\n  host: h\n  port: abc\n",
		     "job.yaml:5:9: port in source is \"abc\"; expected a whole number from 1 to 65535");
	expect_error("name: a\ntype: full\nsource:\n  host: h\n  port: 0\n",
		     "job.yaml:5:9: port in source is \"0\"; expected a whole number from 1 to 65535");
	expect_error("name: a\ntype: full\nsource: {host: h, port: 65536}\n",
		     "job.yaml:3:25: port in source is \"65536\"; expected a whole number from 1 to 65535");
	expect_error("name: a\ntype: full\nsource: {host: h, port: -1}\n",
		     "job.yaml:3:25: port in source is \"-1\"; expected a whole number from 1 to 65535");
	expect_error("name: a\ntype: full\nsource: {host: h, port: 99999999999999999999999}\n",
		     "job.yaml:3:25: port in source is \"99999999999999999999999\"; expected a whole number from 1 to "
		     "65535");
	expect_error("name: a\ntype: full\nsource: {host: h, connect-timeout: 0}\n",
		     "job.yaml:3:36: connect-timeout in source is \"0\"; expected a whole number from 1 to 3600");
	expect_error("name: a\ntype: full\nsource: {host: h, stall-timeout: 0}\n",
		     "job.yaml:3:34: stall-timeout in source is \"0\"; expected a whole number from 1 to 3600");
	expect_error("name: a\ntype: full\nsource:\n  host: h\n  tls: {cert: c.pem, key: k.pem, verify-hostname: false}\n",
		     "job.yaml:5:8: tls in source has verify-hostname: false but no ca; without a CA nothing is verified");
	expect_error("name: a\ntype: full\nsource:\n  host: h\n  tls: {ca: c.pem, verify-hostname: maybe}\n",
		     "job.yaml:5:37: verify-hostname in source.tls is \"maybe\"; expected true or false");
	expect_error("name: a\ntype: full\nsource: {host: '', user: u}\n",
		     "job.yaml:3:16: host in source is empty; expected the host name or IP address of the server");
	expect_error("name: a\nspec:\n  dump-threads: 65\n",
		     "job.yaml:3:17: dump-threads in spec is \"65\"; expected a whole number from 1 to 64");
	expect_error("name: a\nalerts:\n  no-progress-minutes: 0\n",
		     "job.yaml:3:24: no-progress-minutes in alerts is \"0\"; expected a whole number from 1 to 10080");
	expect_error("name: a\nalerts: {lag-seconds: x}\n",
		     "job.yaml:2:23: lag-seconds in alerts is \"x\"; expected a whole number from 1 to 604800");
	expect_error("name: a\nalerts: {no-progress-minutes: 5, no-progress-seconds: 5}\n",
		     "job.yaml:2:34: alerts has both no-progress-minutes and no-progress-seconds; expected one of them");
	expect_error("name: a\nalerts: [1]\n",
		     "job.yaml:2:9: alerts is a list; expected a mapping with no-progress-minutes (or no-progress-seconds) "
		     "and/or lag-seconds");
	expect_error("name: a\nspec:\n  batch: 0\n",
		     "job.yaml:3:10: batch in spec is \"0\"; expected a whole number from 1 to 100000");
	expect_error("name: a\nspec:\n  chunk-rows: 999\n",
		     "job.yaml:3:15: chunk-rows in spec is \"999\"; expected a whole number from 1000 to 100000000");
	expect_error("name: a\nspec:\n  statement-bytes: 67108865\n",
		     "job.yaml:3:20: statement-bytes in spec is \"67108865\"; expected a whole number from 4096 to "
		     "67108864");
	expect_error("name: a\nspec:\n  max-txn-bytes: 100MiB\n",
		     "job.yaml:3:18: max-txn-bytes in spec is \"100MiB\"; expected a whole number from 0 to "
		     "1099511627776");
	expect_error("name: a\nspec:\n  load-threads: 2.5\n",
		     "job.yaml:3:17: load-threads in spec is \"2.5\"; expected a whole number from 1 to 64");
	expect_error("name: a\nspec:\n  load-method: fast\n",
		     "job.yaml:3:16: load-method in spec is \"fast\"; expected one of auto, load-data, insert");
	expect_error("name: a\nspec:\n  keyless-nonempty: sometimes\n",
		     "job.yaml:3:21: keyless-nonempty in spec is \"sometimes\"; expected one of refuse, append");
	expect_error("name: a\nsafe-mode: yes\n", "job.yaml:2:12: safe-mode is \"yes\"; expected true or false");
}

static void test_job_config__password_errors(void **state)
{
	(void)state;
	unsetenv("TIDM_TEST_NO_SUCH_VAR");
	expect_error("name: a\ntype: full\nsource:\n  host: h\n  user: u\n  password-env: TIDM_TEST_NO_SUCH_VAR\n",
		     "job.yaml:6:17: environment variable \"TIDM_TEST_NO_SUCH_VAR\" (password-env of source) is not "
		     "set; expected it to hold the source password");
	{
		char msg[1024];
		snprintf(msg, sizeof(msg),
			 "job.yaml:6:18: cannot read password-file \"%s/missing.txt\" of source: No such file or "
			 "directory; expected a readable file holding the password",
			 tmpdir);
		expect_error("name: a\ntype: full\nsource:\n  host: h\n  user: u\n  password-file: missing.txt\n", msg);
	}
	expect_error("name: a\ntype: full\nsource:\n  host: h\n  user: u\n  password: x\n  password-env: PW\n",
		     "job.yaml:7:3: source has both password and password-env; expected exactly one of password, "
		     "password-env, password-file");
	expect_error("name: a\ntype: full\nsource: {password-file: f, host: h, password: x}\n",
		     "job.yaml:3:37: source has both password-file and password; expected exactly one of password, "
		     "password-env, password-file");
	expect_error("name: a\ntype: full\nsource: {host: h, user: u, password: [x]}\n",
		     "job.yaml:3:38: password in source is a list; expected a string (the password)");
}

static void test_job_config__tls_errors(void **state)
{
	(void)state;
	expect_error("name: a\ntype: full\nsource:\n  host: h\n  tls: {cert: c.pem}\n",
		     "job.yaml:5:8: tls in source has cert but no key; expected ca alone, cert and key, or ca, cert and "
		     "key");
	expect_error("name: a\ntype: full\nsource:\n  host: h\n  tls:\n    ca: ca.pem\n    key: k.pem\n",
		     "job.yaml:6:5: tls in source has key but no cert; expected ca alone, cert and key, or ca, cert and "
		     "key");
	expect_error("name: a\ntype: full\nsource:\n  host: h\n  tls: {}\n",
		     "job.yaml:5:8: tls in source is empty; expected ca alone, cert and key, or ca, cert and key");
	expect_error("name: a\ntype: full\nsource:\n  host: h\n  tls: ca.pem\n",
		     "job.yaml:5:8: tls in source is a value; expected a mapping with ca alone, cert and key, or ca, "
		     "cert and key");
}

static void test_job_config__start_rules(void **state)
{
	(void)state;
	expect_error("name: a\ntype: full\n" MIN_SOURCE MIN_TARGET "start:\n  gtid: \"0-1-5\"\n",
		     "job.yaml:10:1: start is only allowed with type incremental (type full copies existing data only and "
		     "reads no binlog); expected no start, or type: incremental");
	/* type may come after start: the rule is checked once the whole job is read */
	expect_error("name: a\nstart: {binlog-file: b.000001, binlog-pos: 4}\n" MIN_SOURCE MIN_TARGET "type: all\n",
		     "job.yaml:2:1: start is only allowed with type incremental (type all starts the binlog exactly at "
		     "the snapshot of its full copy); expected no start, or type: incremental");
	expect_error("name: a\ntype: incremental\nstart:\n  binlog-file: mysql-bin.000016\n",
		     "job.yaml:4:3: start has binlog-file but no binlog-pos; expected both binlog-file and binlog-pos");
	expect_error("name: a\ntype: incremental\nstart:\n  binlog-pos: 5122\n",
		     "job.yaml:4:3: start has binlog-pos but no binlog-file; expected both binlog-file and binlog-pos");
	expect_error("name: a\ntype: incremental\nstart:\n  gtid: 0-1-1\n  binlog-file: f\n  binlog-pos: 4\n",
		     "job.yaml:5:3: start has both gtid and binlog-file; expected gtid, or binlog-file with binlog-pos");
	expect_error("name: a\ntype: incremental\nstart:\n  binlog-file: f\n  binlog-pos: 3\n",
		     "job.yaml:5:15: binlog-pos in start is \"3\"; expected a whole number from 4 to "
		     "18446744073709551615");
	expect_error("name: a\ntype: incremental\nstart:\n  gtid: \"3E11FA47-71CA-11E1-9E33:1-23\"\n",
		     "job.yaml:4:9: gtid in start is not valid (bad GTID set: bad UUID \"3E11FA47-71CA-11E1-9E33\"); "
		     "expected a GTID set such as 3E11FA47-71CA-11E1-9E33-C80AA9429562:1-23 (MySQL) or 0-1-100 (MariaDB)");
	expect_error("name: a\ntype: incremental\nstart: now\n",
		     "job.yaml:3:8: start is \"now\"; expected a mapping with gtid, or binlog-file with binlog-pos");
}

static void test_job_config__objects_errors(void **state)
{
	(void)state;
	expect_error("name: a\ntype: full\nobjects:\n  tables: [billing.invoices, shop]\n",
		     "job.yaml:4:30: invalid pattern \"shop\": no table part; expected \"db.table\" (wildcards * and ?; "
		     "write a name containing a dot in backquotes, e.g. `my.db`.t)");
	expect_error("name: a\ntype: full\nobjects:\n  exclude:\n    - shop\n    - \"a.b.c\"\n",
		     "job.yaml:6:7: invalid pattern \"a.b.c\": more than one dot outside backquotes; expected \"db\" or "
		     "\"db.table\" (wildcards * and ?; write a name containing a dot in backquotes, e.g. `my.db`.t)");
	expect_error("name: a\ntype: full\nobjects:\n  databases: [\"`shop\"]\n",
		     "job.yaml:4:15: invalid pattern \"`shop\": unterminated backquote; expected a database name "
		     "(wildcards * and ?; write a name containing a dot in backquotes, e.g. `my.db`)");
	expect_error("name: a\ntype: full\nobjects:\n  databases: shop\n",
		     "job.yaml:4:14: databases in objects is a value; expected a list of patterns, e.g. [shop, crm] or "
		     "[\"shop.tmp_*\"]");
	expect_error("name: a\ntype: full\nobjects:\n  databases: [[shop]]\n",
		     "job.yaml:4:15: an item of databases in objects is a list; expected a pattern such as shop or "
		     "shop.orders");
}

/* The password "s3cr3t-XYZ" must never be in a message, whatever goes wrong near it. */
static void test_job_config__password_never_in_messages(void **state)
{
	static const char *const jobs[] = {
		/* unclosed quote right after the password */
		"name: a\ntype: full\nsource:\n  host: h\n  password: \"s3cr3t-XYZ\n  user: u\n",
		"name: a\ntype: full\nsource: {host: h, password: 's3cr3t-XYZ}\n",
		/* bad indentation on the password line */
		"name: a\ntype: full\nsource:\n  host: h\n    password: s3cr3t-XYZ\n",
		/* bad escape inside the password */
		"name: a\ntype: full\nsource:\n  host: h\n  password: \"s3cr3t-XYZ\\q\"\n",
		/* the password pasted where a value is echoed */
		"name: a\ntype: s3cr3t-XYZ\nsource: {host: h, user: u, password: s3cr3t-XYZ}\n",
		"name: a\ntype: full\nsource: {host: h, user: u, password: s3cr3t-XYZ, port: s3cr3t-XYZ}\n",
		"name: s3cr3t-XYZ!\nsource: {password: \"s3cr3t-XYZ\"}\n",
		/* the password pasted as a key, or as a line of its own */
		"name: a\ntype: full\nsource:\n  password: s3cr3t-XYZ\n  s3cr3t-XYZ: 1\n",
		"name: a\ntype: full\nsource:\n  password:\n  s3cr3t-XYZ\n",
		/* a password read from the file or the environment, then echoed */
		"name: a\ntype: full\nsource: {host: h, user: u, password-file: pw.txt}\nobjects: {tables: [s3cr3t-XYZ]}\n",
		"name: a\ntype: full\nsource: {host: h, user: u, password-env: TIDM_TEST_SECRET}\nmode: s3cr3t-XYZ\n",
		/* JSON */
		"{\"name\": \"a\", \"source\": {\"password\": \"s3cr3t-XYZ\", \"port\": \"s3cr3t-XYZ\"}}",
		"{\"name\": \"a\", \"source\": {\"password\": \"s3cr3t-XYZ\" \"port\": 1}}",
	};
	tidm_job_config *cfg;

	(void)state;
	write_file("pw.txt", "s3cr3t-XYZ\n");
	setenv("TIDM_TEST_SECRET", "s3cr3t-XYZ", 1);
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		write_file("job.yaml", jobs[i]);
		cfg = NULL;
		tidm_err_clear();
		assert_int_equal(tidm_job_config_load(&cfg, "job.yaml"), TIDM_EINVAL);
		assert_null(cfg);
		if (strstr(tidm_err_msg(), "s3cr3t") || strstr(tidm_err_msg(), "XYZ"))
			fail_msg("job %zu: the password leaked: %s", i, tidm_err_msg());
		assert_int_equal(strncmp(tidm_err_msg(), "job.yaml:", 9), 0);
	}
	/* an echoed value equal to the password is masked, the rest of the message stays */
	expect_error("name: a\ntype: s3cr3t-XYZ\nsource: {host: h, user: u, password: s3cr3t-XYZ}\n",
		     "job.yaml:2:7: type is \"***\"; expected one of full, incremental, all");
	unsetenv("TIDM_TEST_SECRET");
}

static void test_job_config__file_errors(void **state)
{
	tidm_job_config *cfg = (tidm_job_config *)1;
	char big[4096];
	FILE *f;

	(void)state;
	assert_int_equal(tidm_job_config_load(&cfg, "no-such-job.yaml"), TIDM_ENOTFOUND);
	assert_null(cfg);
	assert_string_equal(tidm_err_msg(), "no-such-job.yaml: cannot read the job file: No such file or directory");
	assert_int_equal(tidm_job_config_load(&cfg, "."), TIDM_EINVAL);
	assert_string_equal(tidm_err_msg(), ".: cannot read the job file: Is a directory");
	/* a job file larger than 1 MiB is refused before parsing */
	memset(big, '#', sizeof(big));
	f = fopen("big.txt", "wb");
	assert_non_null(f);
	for (int i = 0; i < 300; i++)
		assert_int_equal(fwrite(big, 1, sizeof(big), f), sizeof(big));
	fclose(f);
	assert_int_equal(tidm_job_config_load(&cfg, "big.txt"), TIDM_EINVAL);
	assert_string_equal(tidm_err_msg(), "big.txt: the job file is larger than 1048576 bytes; expected a job file (YAML)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_config__full_file),
		cmocka_unit_test(test_job_config__defaults),
		cmocka_unit_test(test_job_config__json_body),
		cmocka_unit_test(test_job_config__passwords_from_file_and_env),
		cmocka_unit_test(test_job_config__binlog_start),
		cmocka_unit_test(test_job_config__malformed_yaml),
		cmocka_unit_test(test_job_config__unknown_keys),
		cmocka_unit_test(test_job_config__missing_keys),
		cmocka_unit_test(test_job_config__bad_name),
		cmocka_unit_test(test_job_config__bad_values),
		cmocka_unit_test(test_job_config__password_errors),
		cmocka_unit_test(test_job_config__tls_errors),
		cmocka_unit_test(test_job_config__export),
		cmocka_unit_test(test_job_config__start_rules),
		cmocka_unit_test(test_job_config__objects_errors),
		cmocka_unit_test(test_job_config__password_never_in_messages),
		cmocka_unit_test(test_job_config__file_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
