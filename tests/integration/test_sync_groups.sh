#!/usr/bin/env bash
# Grouped statements: a worker sends the changes of many rows of one table as one statement
# (a multi-row INSERT or REPLACE, DELETE ... WHERE key IN (...), and INSERT ... ON DUPLICATE
# KEY UPDATE for updates that keep the row key). Whatever the mix, the target must end equal
# to the source: several changes to one row inside a transaction, a key changed, keys whose
# bytes differ but that are one row under a _ci collation, composite and string keys, a
# table with a second unique key and a keyless table between them, an update that changes
# nothing on the target, and all of it again in safe mode. One worker: the order inside a
# worker is what is tested.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
schema="CREATE DATABASE \`$db\`;
CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(20), n INT);
CREATE TABLE \`$db\`.ci (name VARCHAR(20) COLLATE utf8mb4_general_ci PRIMARY KEY, v INT);
CREATE TABLE \`$db\`.comp (a INT, b VARCHAR(10) COLLATE utf8mb4_bin, v TEXT, PRIMARY KEY (a, b));
CREATE TABLE \`$db\`.uq (id INT PRIMARY KEY, u INT, v INT, UNIQUE KEY (u));
CREATE TABLE \`$db\`.nokey (a INT, b INT);"
src_sql "$schema"
tgt_sql "$schema"
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
pos=$(src_sql "SHOW MASTER STATUS" | cut -f2)
write_job "$TEST_TMP/job.yaml" name=sync-groups type=incremental "databases=$db" \
	start.binlog-file="$file" start.binlog-pos="$pos" spec.apply-workers=1
run_tidm() {
	local rc=0
	out=$("$TIDM_BIN" migrate "$@" --until-caught-up 2>&1) || rc=$?
	[ "$rc" = 0 ] || fail "tidm migrate $*: exit $rc; output: $out"
}

src_sql "INSERT INTO \`$db\`.t SELECT seq, CONCAT('r', seq), seq FROM \`$db\`.seq_1_to_300;
	INSERT INTO \`$db\`.ci VALUES ('abc', 1), ('Bob', 2), ('carol', 3), ('dave', 4), ('Émile', 5),
		('Émile-a', 5), ('Émile-b', 5), ('Émile-c', 5);
	INSERT INTO \`$db\`.comp SELECT seq % 10, CONCAT('k', seq), REPEAT('x', seq) FROM \`$db\`.seq_1_to_100;
	INSERT INTO \`$db\`.uq SELECT seq, seq, seq FROM \`$db\`.seq_1_to_50;
	INSERT INTO \`$db\`.nokey SELECT seq % 7, seq FROM \`$db\`.seq_1_to_50"
run_tidm "$TEST_TMP/job.yaml"
assert_tables_equal "$db"

workload() { # one transaction of every kind of change, several to some rows; $1 tells runs apart
	local r=$1
	src_sql "BEGIN;
	UPDATE \`$db\`.t SET v = CONCAT(v, '$r') WHERE id <= 60;
	DELETE FROM \`$db\`.t WHERE id BETWEEN 61 AND 80;
	INSERT INTO \`$db\`.t SELECT seq, 'back$r', seq FROM \`$db\`.seq_61_to_70;
	UPDATE \`$db\`.t SET n = n + 1 WHERE id BETWEEN 50 AND 75;
	UPDATE \`$db\`.t SET id = id + 1000 WHERE id BETWEEN 90 AND 95;
	UPDATE \`$db\`.t SET id = id - 1000 WHERE id BETWEEN 1090 AND 1092;
	UPDATE \`$db\`.uq SET u = u + 100 WHERE id <= 10;
	UPDATE \`$db\`.t SET v = 'between' WHERE id = 100;
	DELETE FROM \`$db\`.nokey WHERE b <= 5;
	UPDATE \`$db\`.t SET v = 'after' WHERE id = 100;
	INSERT INTO \`$db\`.nokey VALUES (1, 1), (1, 1);
	INSERT INTO \`$db\`.ci VALUES ('zz$r', 0);
	DELETE FROM \`$db\`.ci WHERE name = 'abc';
	INSERT INTO \`$db\`.ci VALUES ('ABC ', 10);
	UPDATE \`$db\`.ci SET v = v + 1 WHERE name = 'abc';
	UPDATE \`$db\`.ci SET v = v + 1 WHERE name < 'd';
	INSERT INTO \`$db\`.ci VALUES ('yy$r', 0);
	DELETE FROM \`$db\`.ci WHERE name = 'EMILE-$r';
	INSERT INTO \`$db\`.ci VALUES ('emile-$r', 6);
	UPDATE \`$db\`.comp SET v = CONCAT(v, '$r') WHERE a IN (1, 2);
	DELETE FROM \`$db\`.comp WHERE a = 3;
	INSERT INTO \`$db\`.comp SELECT 3, CONCAT('k', seq), '$r' FROM \`$db\`.seq_1_to_20;
	UPDATE \`$db\`.comp SET b = CONCAT(b, 'z') WHERE a = 4;
	COMMIT"
	# many small transactions, as a steady load sends them
	for i in $(seq 1 40); do
		echo "UPDATE \`$db\`.t SET n = n + $i WHERE id = $((200 + i)); DELETE FROM \`$db\`.t WHERE id = $((240 + i)); INSERT INTO \`$db\`.t VALUES ($((240 + i)), '$r', $i);"
	done | src_sql
	# the original order of the keys comes back for the next round
	src_sql "UPDATE \`$db\`.comp SET b = LEFT(b, CHAR_LENGTH(b) - 1) WHERE a = 4;
		DELETE FROM \`$db\`.ci WHERE name = 'abc'; INSERT INTO \`$db\`.ci VALUES ('abc', 1);
		UPDATE \`$db\`.uq SET u = u - 100 WHERE id <= 10"
}

workload a
run_tidm "$TEST_TMP/job.yaml"
assert_tables_equal "$db"
assert_eq "after" "$(tgt_sql "SELECT v FROM \`$db\`.t WHERE id = 100")" "the last of several updates to one row"

# an update that changes nothing on the target (it holds the new values already) makes the
# group's count differ: the rows are then applied one by one, and the job goes on
tgt_sql "UPDATE \`$db\`.t SET v = 'same' WHERE id = 20"
src_sql "UPDATE \`$db\`.t SET v = IF(id = 20, 'same', CONCAT(v, '-2')) WHERE id BETWEEN 10 AND 30"
run_tidm "$TEST_TMP/job.yaml"
assert_tables_equal "$db"

# safe mode: updates become DELETE + REPLACE, grouped the same way
write_job "$TEST_TMP/job-safe.yaml" name=sync-groups type=incremental "databases=$db" safe-mode=true \
	start.binlog-file="$file" start.binlog-pos="$pos" spec.apply-workers=1
workload b
run_tidm "$TEST_TMP/job-safe.yaml"
assert_tables_equal "$db"
workload c
run_tidm "$TEST_TMP/job.yaml"
assert_tables_equal "$db"
