#!/usr/bin/env bash
# kill -9 at several points of a keyless table's copy, each followed by the same command
# again, ends equal: no keyless row twice. The Aria table is not transactional on the
# target (as LOAD DATA is not on TiDB before v7.6): its rows of an interrupted copy are
# committed without their chunk's "done" mark, so tidm must empty it before copying again.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`;
CREATE TABLE \`$db\`.nokey (a INT, b VARCHAR(40)) ENGINE=InnoDB;
INSERT INTO \`$db\`.nokey SELECT seq % 97, CONCAT('row-', seq) FROM \`$db\`.seq_1_to_200000;
CREATE TABLE \`$db\`.nokey_aria (a INT, b VARCHAR(40)) ENGINE=Aria TRANSACTIONAL=0;
INSERT INTO \`$db\`.nokey_aria SELECT seq % 89, CONCAT('aria-', seq) FROM \`$db\`.seq_1_to_200000;
CREATE TABLE \`$db\`.k (id INT PRIMARY KEY, v VARCHAR(40));
INSERT INTO \`$db\`.k SELECT seq, CONCAT('k-', seq) FROM \`$db\`.seq_1_to_50000;"

write_job "$TEST_TMP/job.yaml" name=keyless-kill "databases=$db" spec.statement-bytes=16384 spec.chunk-rows=5000 spec.dump-threads=2 spec.load-threads=1
# (this test's database only: other tests running beside it load tables named nokey too)
loading() { [ "$(tgt_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'LOAD DATA%$db%nokey%'" 2>/dev/null || echo 0)" -gt 0 ]; }
state() { tgt_sql "SELECT state FROM tidm_meta.jobs WHERE name = 'keyless-kill'" 2>/dev/null || true; }

# kill points: while the keyless tables' rows stream (several delays after their first
# LOAD DATA), and a random one
killed=0
for delay in 0 0.4 1.0 1.8 "0.$((RANDOM % 10))"; do
	[ "$(state)" = finished ] && break
	"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" >>"$TEST_TMP/killed-runs" 2>&1 &
	pid=$!
	if ! wait_for "loading || ! kill -0 $pid 2>/dev/null" 120 "a keyless table being loaded"; then
		fail "no keyless load seen"
	fi
	sleep "$delay"
	if kill -9 "$pid" 2>/dev/null; then
		killed=$((killed + 1))
	fi
	wait "$pid" 2>/dev/null || true
	echo "kill after ${delay}s: state $(state), target rows nokey $(tgt_sql "SELECT COUNT(*) FROM \`$db\`.nokey" 2>/dev/null || echo -), nokey_aria $(tgt_sql "SELECT COUNT(*) FROM \`$db\`.nokey_aria" 2>/dev/null || echo -)"
done
[ "$killed" -ge 2 ] || fail "the copy ended before it could be killed twice ($killed kills)"

tidm migrate "$TEST_TMP/job.yaml" >"$TEST_TMP/last" 2>&1 || fail "the run after the kills failed: $(cat "$TEST_TMP/last")"
cat "$TEST_TMP/last"
assert_eq finished "$(state)" "job state"
assert_eq 200000 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.nokey")" "keyless InnoDB table: no row twice"
assert_eq 200000 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.nokey_aria")" "keyless Aria table: no row twice"
assert_tables_equal "$db"
