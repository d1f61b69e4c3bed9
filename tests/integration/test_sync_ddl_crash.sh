#!/usr/bin/env bash
# A crash between a replicated DDL and its checkpoint must not replay a DDL that was
# applied: a RENAME swap `a→tmp, b→a, tmp→b` in one statement (tables of the same
# definition, different rows) and in three statements, a column swap by CHANGE, ADD
# COLUMN, DROP COLUMN. tidm dies right after each DDL statement it runs, before the
# checkpoint after it (TIDM_TEST_CRASH_AFTER_DDL=1, the test-only hook of
# sync/ddl_guard.h: _exit(137) like kill -9), and is started again each time; the last
# run must end with every table and definition equal to the source's.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
schema="CREATE DATABASE \`$db\`;
CREATE TABLE \`$db\`.a (id INT PRIMARY KEY, v VARCHAR(20));
CREATE TABLE \`$db\`.b (id INT PRIMARY KEY, v VARCHAR(20));
CREATE TABLE \`$db\`.c (id INT PRIMARY KEY, c1 INT);
CREATE TABLE \`$db\`.d (id INT PRIMARY KEY, d1 VARCHAR(10));
CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, x INT, y VARCHAR(10));
INSERT INTO \`$db\`.a VALUES (1, 'in a'), (2, 'in a');
INSERT INTO \`$db\`.b VALUES (1, 'in b');
INSERT INTO \`$db\`.c VALUES (1, 11);
INSERT INTO \`$db\`.d VALUES (1, 'dd');
INSERT INTO \`$db\`.t VALUES (1, 10, 'ten'), (2, 20, 'twenty');"
src_sql "$schema"
tgt_sql "$schema"
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
pos=$(src_sql "SHOW MASTER STATUS" | cut -f2)

write_job "$TEST_TMP/job.yaml" name=ddl-crash-$$ type=incremental "databases=$db" \
	start.binlog-file="$file" start.binlog-pos="$pos" spec.apply-workers=2
n=0
# crash_runs K: K runs that each die right after the first DDL statement they run
crash_runs() {
	local k rc
	for ((k = 1; k <= $1; k++)); do
		n=$((n + 1))
		rc=0
		TIDM_TEST_CRASH_AFTER_DDL=1 "$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/run$n" 2>&1 || rc=$?
		[ "$rc" = 137 ] || fail "run $n: expected the test crash (exit 137), got exit $rc: $(cat "$TEST_TMP/run$n")"
		assert_contains "$(cat "$TEST_TMP/run$n")" "exiting after DDL statement 1" "run $n crashed at the hook"
	done
}
# final_run: a run without crash to the end, then everything compared
final_run() {
	local rc=0 tbl
	n=$((n + 1))
	"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/run$n" 2>&1 || rc=$?
	[ "$rc" = 0 ] || fail "run $n ($1): exit $rc: $(cat "$TEST_TMP/run$n")"
	for tbl in a b c d t; do
		assert_eq "$(src_sql "SHOW CREATE TABLE \`$db\`.\`$tbl\`")" "$(tgt_sql "SHOW CREATE TABLE \`$db\`.\`$tbl\`")" "$1: definition of $tbl"
	done
	assert_eq "a b c d t" "$(tgt_sql "SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME SEPARATOR ' ') FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db'")" "$1: tables on the target"
	assert_tables_equal "$db"
}
after() { # the DML after DDL number $1
	echo "INSERT INTO \`$db\`.a (id, v) VALUES (100 + $1, 'after ddl $1'); INSERT INTO \`$db\`.t (id) VALUES (100 + $1)"
}

# the swap in one statement (a and b have the same definition: only their rows tell them apart)
src_sql "RENAME TABLE \`$db\`.a TO \`$db\`.tmp, \`$db\`.b TO \`$db\`.a, \`$db\`.tmp TO \`$db\`.b; $(after 1)"
crash_runs 1
final_run "RENAME swap in one statement"
assert_eq "in b" "$(tgt_sql "SELECT v FROM \`$db\`.a WHERE id = 1")" "a holds b's rows after the swap"

# the swap in three statements, a crash after each of them
src_sql "RENAME TABLE \`$db\`.c TO \`$db\`.tmp2; $(after 2); RENAME TABLE \`$db\`.d TO \`$db\`.c; $(after 3);
	RENAME TABLE \`$db\`.tmp2 TO \`$db\`.d; $(after 4)"
crash_runs 3
final_run "RENAME swap in three statements"

# non-idempotent ALTERs, a crash right after each
i=4
for s in "ADD COLUMN z INT NOT NULL DEFAULT 7" "CHANGE x y INT, CHANGE y x VARCHAR(10)" "DROP COLUMN z" \
	"CHANGE y y2 BIGINT, ADD COLUMN y INT DEFAULT 5"; do
	i=$((i + 1))
	src_sql "ALTER TABLE \`$db\`.t $s; $(after $i)"
	crash_runs 1
	final_run "ALTER TABLE t $s"
done
grep -h "already applied before the restart" "$TEST_TMP"/run* || fail "no DDL was recognised as applied"
assert_eq "0" "$(tgt_sql "SELECT COUNT(*) FROM tidm_meta.ddl_guard WHERE job = 'ddl-crash-$$'")" "no DDL left in progress"
