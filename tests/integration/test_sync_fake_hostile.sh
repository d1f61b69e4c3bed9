#!/usr/bin/env bash
# `tidm migrate` (incremental) against a misbehaving primary (issue 19, "Hostile input";
# tidm_fake_primary --misbehave, see test_repl_fake_hostile.sh for the stream itself). The
# fixture is test_sync_fake_primary.sh's MySQL 8.0 binlog of compressed transactions
# (TRANSACTION_PAYLOAD) into database `a` (a fixed name: RESOURCE_LOCK tidm_fixed_dbs).
#  - bad-crc on the first compressed transaction: exit 1 at once, the message names file,
#    position and event, and the target holds no row of it (nothing wrong written);
#  - truncate once (the link breaks mid-event): the job
#    reconnects by itself and ends caught up with every row as the source wrote it.
. "$(dirname "$0")/../harness/lib.sh"

FAKE=${TIDM_FAKE_PRIMARY:-$TIDM_BUILD/tidm_fake_primary}
[ -x "$FAKE" ] || fail "tidm_fake_primary not built ($FAKE)"
BIN=$TIDM_FIXTURES/binlog/mysql-binlog-connector-rust/mysql-bin.000057
[ -r "$BIN" ] || fail "fixture missing: $BIN"
export FAKE_PW='fake-Hostile-pw4'
u=76f3e7be-6720-11ed-9cad-0242ac110002 # the file's PREVIOUS_GTIDS is $u:1-10, then :11-13

start_fake() {
	local out=$TEST_TMP/fake.$RANDOM
	"$FAKE" --binlog "$BIN" --password-env FAKE_PW "$@" >"$out.port" 2>"$out.log" &
	local pid=$!
	on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_for "[ -s '$out.port' ]" 10 "the fake primary to listen"
	FAKE_PORT=$(head -1 "$out.port")
	FAKE_LOG=$out.log
}
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

run_job() { # NAME -> RC, OUT
	write_job "$TEST_TMP/$1.yaml" name="fake-hostile-$1-$$" type=incremental precheck.ignore=keyless-tables,sql-mode databases=a \
		source.port="$FAKE_PORT" source.user=root source.password-env=FAKE_PW start.gtid="$u:1-10"
	RC=0
	timeout 90 "$TIDM_BIN" migrate "$TEST_TMP/$1.yaml" --until-caught-up >"$TEST_TMP/$1.out" 2>&1 || RC=$?
	OUT=$(cat "$TEST_TMP/$1.out")
	[ "$RC" -ne 124 ] || fail "$1: tidm migrate still running after 90 s: $(tail -5 "$TEST_TMP/$1.out")"
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$TEST_TMP/$1.out"; then fail "$1: sanitizer report: $OUT"; fi
}

# --- corrupt: stop, name the place, write nothing of it -----------------------------------
target_before
before=$(tgt_sql "SET time_zone = '+00:00'; $q")
start_fake --misbehave bad-crc
run_job crc
assert_contains "$(cat "$FAKE_LOG")" "misbehaving: bad-crc" "the fake primary misbehaved"
assert_eq 1 "$RC" "bad-crc: exit code ($OUT)"
assert_contains "$OUT" "binlog mysql-bin.000057 position"
assert_contains "$OUT" "TRANSACTION_PAYLOAD event: TRANSACTION_PAYLOAD event: CRC32 mismatch"
assert_eq "$before" "$(tgt_sql "SET time_zone = '+00:00'; $q")" "bad-crc: the target rows are unchanged"
assert_eq "0" "$(tgt_sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'a' AND table_name = 'b' AND table_rows > 0")" "bad-crc: no row of the corrupt transaction"

# --- transient: recover by itself, every row right -----------------------------------------
for m in truncate; do
	target_before
	start_fake --misbehave "$m" --misbehave-once
	run_job "$m"
	assert_contains "$(cat "$FAKE_LOG")" "misbehaving: $m" "the fake primary misbehaved ($m)"
	assert_eq 0 "$RC" "$m once: exit code ($OUT)"
	assert_contains "$OUT" "reconnecting" "$m: the job reconnected"
	assert_eq "1" "$(tgt_sql "SELECT GROUP_CONCAT(id) FROM a.b")" "$m: a.b's row, once"
	assert_eq "$expected" "$(tgt_sql "SET time_zone = '+00:00'; $q")" "$m: rows of the compressed transactions"
done
echo "ok: sync_fake_hostile"
