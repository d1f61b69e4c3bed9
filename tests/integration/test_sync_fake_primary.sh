#!/usr/bin/env bash
# A scripted fake MySQL 8.0 primary (tests/harness/fake_primary.c) serves a real MySQL
# 8.0 binlog with compressed transactions (TRANSACTION_PAYLOAD, zstd) over
# COM_BINLOG_DUMP_GTID; an incremental job applies it to the MariaDB target: the DDL
# creates its table, the compressed INSERT/UPDATE rows land with every value as MySQL
# wrote it (dates, TIMESTAMP2 in UTC, ENUM/SET by index, JSON, text). Then again with a
# start GTID set holding the DDL (:11) and the first compressed transaction (:12): the
# primary skips them, so a.b (created by the test) stays empty while :13 is applied.
# More fixtures: test_sync_fake_fixtures.sh.
. "$(dirname "$0")/../harness/lib.sh"

FAKE=${TIDM_FAKE_PRIMARY:-$TIDM_BUILD/tidm_fake_primary}
[ -x "$FAKE" ] || fail "tidm_fake_primary not built ($FAKE)"
BIN=$TIDM_FIXTURES/binlog/mysql-binlog-connector-rust/mysql-bin.000057
[ -r "$BIN" ] || fail "fixture missing: $BIN"

export FAKE_PW='fake-Primary-pw2'
"$FAKE" --binlog "$BIN" --password-env FAKE_PW >"$TEST_TMP/fake.port" 2>"$TEST_TMP/fake.log" &
fpid=$!
on_exit "kill $fpid 2>/dev/null; wait $fpid 2>/dev/null"
wait_for "[ -s '$TEST_TMP/fake.port' ]" 10 "the fake primary to listen"
port=$(head -1 "$TEST_TMP/fake.port")

# The target: database `a` (the binlog's) with test_table_3 as it was before the binlog.
target_before() {
	tgt_sql "DROP DATABASE IF EXISTS a; CREATE DATABASE a;
CREATE TABLE a.test_table_3 (id INT PRIMARY KEY, c2 VARCHAR(100), c3 DATE, c4 INT, c5 TEXT, c6 TIMESTAMP NULL,
  c7 ENUM('e1','e2','e3','e4'), c8 SET('s1','s2','s3','s4'), c9 CHAR(10), c10 JSON, c11 VARCHAR(100), c12 DATE, c13 DATE,
  c14 INT, c15 TEXT, c16 TIMESTAMP NULL, c17 DATE, c18 INT, c19 TEXT, c20 TIMESTAMP NULL);
SET time_zone = '+00:00';
INSERT INTO a.test_table_3 VALUES (55555, 'product_item_value_2', '2022-11-20', 111, 'description_1', '2022-11-20 13:40:30',
  4, 8, 'b3', '{\"c\": 1}', 'product_item_2_value', '2022-11-20', '2022-11-20', 2222, 'description_3_value',
  '2022-11-20 13:40:30', '2022-11-20', 222, 'description_4_value', '2022-11-20 13:40:30');"
}
on_exit "tgt_sql 'DROP DATABASE IF EXISTS a' >/dev/null 2>&1 || true"
q="SELECT id, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, c20 FROM a.test_table_3 ORDER BY id"
expected="6666	product_item_value_2	2022-11-20	111	description_1	2022-11-20 13:53:32	e4	s4	b3	{\"c\": 1}	product_item_2_value	2022-11-20	2022-11-20	2222	description_3_value	2022-11-20 13:53:32	2022-11-20	222	description_4_value	2022-11-20 13:53:32
55555	product_item_value_2	2022-11-20	111	description_1	2022-11-20 13:40:30	e4	s3	b3	{\"c\": 1}	product_3_value	2022-11-20	2022-11-20	2222	description_3_value	2022-11-20 13:40:30	2022-11-20	222	description_4_value	2022-11-20 13:40:30"
u=76f3e7be-6720-11ed-9cad-0242ac110002 # the file's PREVIOUS_GTIDS is $u:1-10, then :11-13

# --- from the file's PREVIOUS_GTIDS: every transaction --------------------------------------
target_before
# a MySQL 8.0 source into MariaDB: their sql_mode differs, which the precheck warns about
# (item sql-mode); these jobs accept it
write_job "$TEST_TMP/job.yaml" name="fake-primary-$$" type=incremental precheck.ignore=keyless-tables,sql-mode databases=a source.port="$port" source.user=root \
	source.password-env=FAKE_PW start.gtid="$u:1-10"
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/out" 2>&1 || fail "tidm migrate failed: $(cat "$TEST_TMP/out")"
cat "$TEST_TMP/out"
assert_contains "$(cat "$TEST_TMP/fake.log")" "COM_BINLOG_DUMP_GTID" "the fake primary was asked by GTID"

assert_eq "1" "$(tgt_sql "SELECT GROUP_CONCAT(id) FROM a.b")" "a.b created by the binlog's DDL and filled from a compressed transaction"
assert_eq "$expected" "$(tgt_sql "SET time_zone = '+00:00'; $q")" "rows of the compressed transactions"

# --- :11 (CREATE TABLE b) and :12 (compressed INSERT INTO b) already applied: skipped -------
target_before
tgt_sql "CREATE TABLE a.b (id INT)"
write_job "$TEST_TMP/skip.yaml" name="fake-primary-skip-$$" type=incremental precheck.ignore=keyless-tables,sql-mode databases=a source.port="$port" source.user=root \
	source.password-env=FAKE_PW start.gtid="$u:1-12"
"$TIDM_BIN" migrate "$TEST_TMP/skip.yaml" --until-caught-up >"$TEST_TMP/skip.out" 2>&1 ||
	fail "tidm migrate from $u:1-12 failed: $(cat "$TEST_TMP/skip.out")"
assert_contains "$(cat "$TEST_TMP/fake.log")" "skipped 2 transaction(s) the replica has" "the primary skipped :11 and :12"
assert_eq "0" "$(tgt_sql "SELECT COUNT(*) FROM a.b")" "the compressed INSERT of :12 is not applied"
assert_eq "$expected" "$(tgt_sql "SET time_zone = '+00:00'; $q")" "the compressed transaction :13 is applied"
