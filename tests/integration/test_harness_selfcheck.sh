#!/usr/bin/env bash
# The harness itself against the test servers: equal tables compare equal whatever the
# row order; one changed row, a NULL against an empty string, or a missing table is
# reported with the table's name; write_job and wait_for do what they say.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
assert_eq "$db" "$(test_db)" "test_db is stable within a test"
case "$db" in t_harness_selfcheck_*) ;; *) fail "unexpected test_db name '$db'" ;; esac

schema="CREATE DATABASE \`$db\`;
CREATE TABLE \`$db\`.t1 (
  id INT PRIMARY KEY, name VARCHAR(50) CHARACTER SET utf8mb4, note TEXT NULL,
  amount DECIMAL(12,2), raw VARBINARY(16), doc JSON, at DATETIME(6), f DOUBLE
) ENGINE=InnoDB;
CREATE TABLE \`$db\`.nopk (a INT NULL, b VARCHAR(10) NULL);"
rows="(1, 'alice', NULL, 10.50, 0x00FF23, '{\"k\": [1, 2]}', '2024-01-02 03:04:05.123456', 1.5),
(2, 'bø 日本 🙂', '', -3.00, NULL, NULL, NULL, NULL),
(3, 'a#b', 'c', 0, '', '[]', '1970-01-01 00:00:01', -0.25)"

src_sql "$schema"
tgt_sql "$schema"
src_sql "INSERT INTO \`$db\`.t1 VALUES $rows"
tgt_sql "INSERT INTO \`$db\`.t1 VALUES $rows"
src_sql "INSERT INTO \`$db\`.nopk VALUES (1,'x'),(1,'x'),(NULL,NULL)"
tgt_sql "INSERT INTO \`$db\`.nopk VALUES (NULL,NULL),(1,'x'),(1,'x')"

assert_eq 3 "$(src_sql "SELECT COUNT(*) FROM \`$db\`.t1")" "source row count"
assert_eq "$(checksum_table source "$db" t1)" "$(checksum_table target "$db" t1)" "checksums of equal tables"
assert_tables_equal "$db"
assert_tables_equal "$db" t1 nopk

# expect_unequal WHAT TABLE: assert_tables_equal must fail and name the table.
expect_unequal() {
	local out
	if out=$( (assert_tables_equal "$db") 2>&1); then
		fail "assert_tables_equal passed although $1"
	fi
	assert_contains "$out" "$db.$2" "failure message names the table"
	echo "ok: detected $1"
}

tgt_sql "UPDATE \`$db\`.t1 SET amount = 10.51 WHERE id = 1"
expect_unequal "one value changed on target" t1
tgt_sql "UPDATE \`$db\`.t1 SET amount = 10.50 WHERE id = 1"
assert_tables_equal "$db"

tgt_sql "UPDATE \`$db\`.t1 SET note = NULL WHERE id = 2"
expect_unequal "'' became NULL" t1
tgt_sql "UPDATE \`$db\`.t1 SET note = '' WHERE id = 2"

tgt_sql "UPDATE \`$db\`.t1 SET name = 'a', note = 'b#c' WHERE id = 3"
expect_unequal "a separator moved between columns" t1
tgt_sql "UPDATE \`$db\`.t1 SET name = 'a#b', note = 'c' WHERE id = 3"

tgt_sql "DELETE FROM \`$db\`.nopk WHERE a IS NULL LIMIT 1"
expect_unequal "a row missing in a table without key" nopk
tgt_sql "INSERT INTO \`$db\`.nopk VALUES (NULL,NULL)"
assert_tables_equal "$db"

tgt_sql "DELETE FROM \`$db\`.nopk WHERE a = 1 LIMIT 1"
tgt_sql "INSERT INTO \`$db\`.nopk VALUES (NULL,NULL)"
expect_unequal "a duplicate row replaced by another duplicate" nopk
tgt_sql "DELETE FROM \`$db\`.nopk; INSERT INTO \`$db\`.nopk VALUES (1,'x'),(1,'x'),(NULL,NULL)"

src_sql "CREATE TABLE \`$db\`.only_src (id INT PRIMARY KEY)"
expect_unequal "a table exists only on the source" only_src
src_sql "DROP TABLE \`$db\`.only_src"
assert_tables_equal "$db"

# write_job
job=$TEST_TMP/job.yaml
write_job "$job" type=all databases="$db,other" exclude='x.tmp_*' target.password-env=TIDM_TEST_TARGET_PASSWORD \
	spec.batch=50 source.tls.ca="$TIDM_TEST_TLS_CA"
text=$(cat "$job")
assert_contains "$text" "name: harness_selfcheck"
assert_contains "$text" "type: all"
assert_contains "$text" "port: $TIDM_TEST_SOURCE_PORT"
assert_contains "$text" "databases: [\"$db\", \"other\"]"
assert_contains "$text" 'exclude: ["x.tmp_*"]'
assert_contains "$text" "password-env: TIDM_TEST_TARGET_PASSWORD"
assert_contains "$text" "batch: 50"
assert_contains "$text" "ca: $TIDM_TEST_TLS_CA"
[ "$(grep -c 'password:' "$job")" = 1 ] || fail "target password should be replaced by password-env: $text"

# wait_for
touch_later=$TEST_TMP/flag
(sleep 0.5 && touch "$touch_later") &
wait_for "test -e '$touch_later'" 10 "flag file"
if (wait_for false 1) 2>/dev/null; then fail "wait_for false succeeded"; fi

echo "harness selfcheck passed"
