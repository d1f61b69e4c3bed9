#!/usr/bin/env bash
# Transaction shapes and row matching the other sync tests lack, each checked against the
# source: SAVEPOINT / ROLLBACK TO inside a transaction that also wrote a MyISAM table (the
# source logs the rows it undid), BEGIN ... ROLLBACK after a MyISAM write, XA COMMIT after
# XA PREPARE and XA COMMIT ONE PHASE; XA ROLLBACK after XA PREPARE stops the job with what
# to do, and the next run goes on after it (not so for an XA transaction on tables outside
# the job). Keyless tables whose rows differ only in case,
# trailing spaces or a FLOAT; a FLOAT in a primary key; a table with 9 unique keys whose
# values move between rows across transactions (8 workers); MariaDB system-versioned tables
# (the source logs history rows and deletes as rows; the target keeps its own history); an
# incremental job resumed after the source created a table.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
schema="CREATE DATABASE \`$db\`;
CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v INT);
CREATE TABLE \`$db\`.m (id INT PRIMARY KEY, v INT) ENGINE=MyISAM;
CREATE TABLE \`$db\`.kl_ci (s VARCHAR(10) COLLATE utf8mb4_general_ci, n INT);
CREATE TABLE \`$db\`.kl_f (a INT, f FLOAT);
CREATE TABLE \`$db\`.fk (id INT, f FLOAT NOT NULL, v INT, PRIMARY KEY (id, f));
CREATE TABLE \`$db\`.sv (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING;
CREATE TABLE \`$db\`.svk (a INT, v INT) WITH SYSTEM VERSIONING;"
cols="" keys="" vals=""
for ((k = 1; k <= 9; k++)); do
	cols+=", u$k VARBINARY(20) NOT NULL" keys+=", UNIQUE KEY (u$k)" vals+=", CONCAT('$k-', seq)"
done
schema+="CREATE TABLE \`$db\`.w (id INT PRIMARY KEY $cols $keys);"
rows="INSERT INTO \`$db\`.t VALUES (1, 1);
INSERT INTO \`$db\`.kl_ci VALUES ('abc', 1), ('ABC', 1), ('x', 2), ('x ', 2);
INSERT INTO \`$db\`.kl_f VALUES (1, 1.5), (1, 2.5), (2, 0.1), (2, 0.2);
INSERT INTO \`$db\`.fk VALUES (1, 0.1, 0), (1, 0.2, 0), (2, 2.5, 0);
INSERT INTO \`$db\`.sv VALUES (1, 1), (3, 3);
INSERT INTO \`$db\`.svk VALUES (1, 1), (2, 2);
INSERT INTO \`$db\`.w SELECT seq $vals FROM \`$db\`.seq_1_to_300;"
src_sql "$schema $rows"
tgt_sql "$schema $rows"
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
pos=$(src_sql "SHOW MASTER STATUS" | cut -f2)
write_job "$TEST_TMP/job.yaml" name=sync-txn-$$ type=incremental "databases=$db" start.binlog-file="$file" \
	start.binlog-pos="$pos" spec.apply-workers=8
run_tidm() {
	local want=$1 rc=0
	shift
	out=$("$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up "$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "tidm migrate: exit $rc, expected $want; output: $out"
}

src_sql "USE \`$db\`;
BEGIN; INSERT INTO t VALUES (40, 40); SAVEPOINT s1; INSERT INTO t VALUES (41, 41); INSERT INTO m VALUES (1, 1);
	UPDATE t SET v = 0 WHERE id = 1; ROLLBACK TO s1; INSERT INTO t VALUES (42, 42); COMMIT;
BEGIN; INSERT INTO t VALUES (50, 50); INSERT INTO m VALUES (2, 2); ROLLBACK;
BEGIN; INSERT INTO t VALUES (60, 60); ROLLBACK;
XA START 'x2'; INSERT INTO t VALUES (20, 20); XA END 'x2'; XA PREPARE 'x2'; XA COMMIT 'x2';
XA START 'x3'; INSERT INTO t VALUES (30, 30); XA END 'x3'; XA COMMIT 'x3' ONE PHASE;
DELETE FROM kl_ci WHERE s = BINARY 'ABC';
UPDATE kl_ci SET n = 9 WHERE s = BINARY 'x ';
DELETE FROM kl_f WHERE f = 2.5;
UPDATE kl_f SET a = 7 WHERE f > 0.15 AND f < 0.25;
UPDATE fk SET v = 1 WHERE f > 0.15;
DELETE FROM fk WHERE f > 2;
INSERT INTO sv VALUES (2, 2); UPDATE sv SET v = 5 WHERE id = 1; DELETE FROM sv WHERE id = 2; UPDATE sv SET id = 4 WHERE id = 3;
UPDATE svk SET v = 9 WHERE a = 1; DELETE FROM svk WHERE a = 2;"
{
	for ((i = 1; i <= 300; i++)); do
		echo "UPDATE \`$db\`.w SET u9 = CONCAT('gone', id) WHERE id = $i;"
		echo "UPDATE \`$db\`.w SET u9 = '9-$i' WHERE id = $((i % 300 + 1));"
	done
} | src_sql
run_tidm 0
assert_tables_equal "$db"
assert_eq "1 40 42 20 30" "$(tgt_sql "SELECT GROUP_CONCAT(id ORDER BY FIELD(id, 1, 40, 42, 20, 30) SEPARATOR ' ') FROM \`$db\`.t")" \
	"rows after savepoints, rollbacks and XA"

# XA ROLLBACK after XA PREPARE of a transaction on tables outside the job: nothing to undo,
# the job goes on
db_other=$(test_db other)
src_sql "CREATE DATABASE \`$db_other\`; CREATE TABLE \`$db_other\`.o (id INT PRIMARY KEY);
	USE \`$db_other\`; XA START 'xo'; INSERT INTO o VALUES (1); XA END 'xo'; XA PREPARE 'xo'; XA ROLLBACK 'xo';
	INSERT INTO \`$db\`.t VALUES (80, 80)"
run_tidm 0
assert_eq 1 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.t WHERE id = 80")" "the row after an unselected XA ROLLBACK"

# XA ROLLBACK after XA PREPARE: tidm applied the rows at the prepare
src_sql "USE \`$db\`; XA START 'x1'; INSERT INTO t VALUES (10, 10); XA END 'x1'; XA PREPARE 'x1'; XA ROLLBACK 'x1';
	INSERT INTO t VALUES (70, 70)"
run_tidm 1
assert_contains "$out" "XA ROLLBACK X'7831',X'',1 at $file:"
assert_contains "$out" "the source rolled back a prepared XA transaction whose changes tidm had applied at its XA PREPARE; remove them on the target"
assert_eq 1 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.t WHERE id = 10")" "the prepared row is on the target"
tgt_sql "DELETE FROM \`$db\`.t WHERE id = 10"
run_tidm 0
assert_tables_equal "$db"

# resumed after the source created a table (it reaches the target by the replicated DDL)
src_sql "CREATE TABLE \`$db\`.n (id INT PRIMARY KEY); INSERT INTO \`$db\`.n VALUES (1)"
run_tidm 0
src_sql "INSERT INTO \`$db\`.n VALUES (2)"
run_tidm 0
assert_tables_equal "$db"

# binlog_row_image MINIMAL, applied in safe mode: an UPDATE's image lacks the columns it did
# not change, which a REPLACE would reset to their defaults
src_sql "CREATE TABLE \`$db\`.mi (id INT PRIMARY KEY, a INT DEFAULT 0, b VARCHAR(10) DEFAULT 'd');
	INSERT INTO \`$db\`.mi VALUES (1, 10, 'x'), (2, 20, 'y')"
run_tidm 0
src_sql "SET SESSION binlog_row_image = 'MINIMAL'; UPDATE \`$db\`.mi SET a = a + 1; INSERT INTO \`$db\`.mi (id, b) VALUES (3, 'z');
	DELETE FROM \`$db\`.mi WHERE id = 2"
write_job "$TEST_TMP/safe.yaml" name=sync-txn-$$ type=incremental "databases=$db" start.binlog-file="$file" \
	start.binlog-pos="$pos" spec.apply-workers=8 safe-mode=true
out=$("$TIDM_BIN" migrate "$TEST_TMP/safe.yaml" --until-caught-up 2>&1) || fail "safe-mode run failed: $out"
assert_tables_equal "$db"
