#!/usr/bin/env bash
# Keys that are one value on the target but not byte for byte: under a _ci collation 'abc'
# and 'ABC ' are one key, under an accent-insensitive one 'é' and 'e' too, and two values
# that differ only after a unique prefix index's length collide. Many workers apply a
# backlog of transactions where each row change reuses a key the previous transaction
# freed, in another spelling: the later change may not overtake the earlier one (a
# duplicate key on the target, or a DELETE removing the new row), whichever worker each
# lands on. Ends equal, with the job's exit 0.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
schema="CREATE DATABASE \`$db\`;
CREATE TABLE \`$db\`.pk (k VARCHAR(20) COLLATE utf8mb4_general_ci PRIMARY KEY, v INT);
CREATE TABLE \`$db\`.comp (a INT, b VARCHAR(20) COLLATE latin1_swedish_ci, v INT, PRIMARY KEY (a, b));
CREATE TABLE \`$db\`.uq (id INT PRIMARY KEY, email VARCHAR(40) COLLATE utf8mb4_unicode_ci NOT NULL, v INT, UNIQUE KEY (email));
CREATE TABLE \`$db\`.pre (id INT PRIMARY KEY, s VARBINARY(40) NOT NULL, UNIQUE KEY (s(4)));
CREATE TABLE \`$db\`.bin (k VARCHAR(20) COLLATE utf8mb4_bin PRIMARY KEY, v INT);"
src_sql "$schema"
tgt_sql "$schema"
n=400
src_sql "INSERT INTO \`$db\`.pk SELECT CONCAT('key', seq), 0 FROM \`$db\`.seq_1_to_$n;
	INSERT INTO \`$db\`.comp SELECT seq % 3, CONCAT('b', seq), 0 FROM \`$db\`.seq_1_to_$n;
	INSERT INTO \`$db\`.uq SELECT seq, CONCAT('user', seq, '@example.com'), 0 FROM \`$db\`.seq_1_to_$n;
	INSERT INTO \`$db\`.pre SELECT seq, CONCAT(LPAD(seq, 4, '0'), 'x') FROM \`$db\`.seq_1_to_$n;
	INSERT INTO \`$db\`.bin SELECT CONCAT('key', seq), 0 FROM \`$db\`.seq_1_to_$n"
tgt_sql "INSERT INTO \`$db\`.pk SELECT CONCAT('key', seq), 0 FROM \`$db\`.seq_1_to_$n;
	INSERT INTO \`$db\`.comp SELECT seq % 3, CONCAT('b', seq), 0 FROM \`$db\`.seq_1_to_$n;
	INSERT INTO \`$db\`.uq SELECT seq, CONCAT('user', seq, '@example.com'), 0 FROM \`$db\`.seq_1_to_$n;
	INSERT INTO \`$db\`.pre SELECT seq, CONCAT(LPAD(seq, 4, '0'), 'x') FROM \`$db\`.seq_1_to_$n;
	INSERT INTO \`$db\`.bin SELECT CONCAT('key', seq), 0 FROM \`$db\`.seq_1_to_$n"
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
pos=$(src_sql "SHOW MASTER STATUS" | cut -f2)

# The backlog: per key, a transaction frees it and the next takes it in another spelling.
{
	for ((i = 1; i <= n; i++)); do
		echo "DELETE FROM \`$db\`.pk WHERE k = 'key$i';"
		echo "INSERT INTO \`$db\`.pk VALUES ('KEY$i ', $i);"
		echo "DELETE FROM \`$db\`.comp WHERE a = $((i % 3)) AND b = 'b$i';"
		echo "INSERT INTO \`$db\`.comp VALUES ($((i % 3)), 'B$i', $i);"
		echo "UPDATE \`$db\`.uq SET email = CONCAT('gone', id) WHERE id = $i;"
		echo "UPDATE \`$db\`.uq SET email = 'USER$i@Example.com' WHERE id = $((i % n + 1));"
		echo "UPDATE \`$db\`.pre SET s = CONCAT('z', id) WHERE id = $i;"
		echo "UPDATE \`$db\`.pre SET s = '$(printf %04d "$i")y' WHERE id = $((i % n + 1));"
		echo "DELETE FROM \`$db\`.bin WHERE k = 'key$i';"
		echo "INSERT INTO \`$db\`.bin VALUES ('key$i ', $i);"
	done
} >"$TEST_TMP/work.sql"
# UPDATEs of uq and pre above move a value to the next row only after its holder let go:
# on the source each statement is its own transaction, in this order.
src_sql <"$TEST_TMP/work.sql" || fail "the source workload failed"

write_job "$TEST_TMP/job.yaml" name=sync-collate-$$ type=incremental "databases=$db" \
	start.binlog-file="$file" start.binlog-pos="$pos" spec.apply-workers=8
rc=0
out=$("$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "tidm migrate: exit $rc; output: $out"
assert_tables_equal "$db"
assert_eq "$n" "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.pk WHERE k LIKE 'KEY% '")" "every pk row respelled"
