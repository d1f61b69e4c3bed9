#!/usr/bin/env bash
# A non-empty target: rows with the same key are replaced by the source's (not duplicated,
# not an error); rows only the target has are left alone.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
schema="CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, u VARCHAR(20) NOT NULL, v VARCHAR(20), UNIQUE KEY (u));"
src_sql "$schema"
tgt_sql "$schema"
src_sql "INSERT INTO \`$db\`.t SELECT seq, CONCAT('u', seq), CONCAT('source-', seq) FROM \`$db\`.seq_1_to_5000"
# same keys with other values, a row that collides only on the unique key, and target-only rows
tgt_sql "INSERT INTO \`$db\`.t SELECT seq, CONCAT('u', seq), 'stale' FROM \`$db\`.seq_1_to_2500;
INSERT INTO \`$db\`.t VALUES (90001, 'u4000', 'collides on u'), (90002, 'only-target', 'kept')"

write_job "$TEST_TMP/job.yaml" "databases=$db" spec.chunk-rows=1000
tidm migrate "$TEST_TMP/job.yaml" >"$TEST_TMP/out" 2>&1 || fail "tidm migrate failed: $(cat "$TEST_TMP/out")"

assert_eq 5001 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.t")" "target rows = source rows + the target-only row"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.t WHERE v = 'stale' OR id = 90001")" "stale and colliding rows replaced"
assert_eq "kept" "$(tgt_sql "SELECT v FROM \`$db\`.t WHERE id = 90002")" "target-only row untouched"
tgt_sql "DELETE FROM \`$db\`.t WHERE id = 90002"
assert_tables_equal "$db"

# A target that refuses LOAD DATA LOCAL (local_infile OFF, MySQL 8's default): load-method
# auto falls back to REPLACE statements with the same result; load-method load-data says why
# it cannot run, exits non-zero and writes no row.
on_exit "tgt_sql 'SET GLOBAL local_infile = ON' >/dev/null 2>&1 || true"
tgt_sql "SET GLOBAL local_infile = OFF"
tgt_sql "DROP DATABASE \`$db\`"
write_job "$TEST_TMP/job-li.yaml" "databases=$db" spec.chunk-rows=1000 name=nonempty-noinfile
tidm migrate "$TEST_TMP/job-li.yaml" >"$TEST_TMP/out-li" 2>&1 || fail "tidm migrate (local_infile OFF) failed: $(cat "$TEST_TMP/out-li")"
assert_contains "$(cat "$TEST_TMP/out-li")" "rows are written with multi-row REPLACE statements"
assert_tables_equal "$db"
tgt_sql "DROP DATABASE \`$db\`"
write_job "$TEST_TMP/job-ld.yaml" "databases=$db" spec.load-method=load-data name=nonempty-loaddata
rc=0
tidm migrate "$TEST_TMP/job-ld.yaml" >"$TEST_TMP/out-ld" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status when LOAD DATA LOCAL is required but refused"
assert_contains "$(cat "$TEST_TMP/out-ld")" "spec.load-method is load-data, but the target does not allow LOAD DATA LOCAL INFILE (local_infile is OFF); set local_infile = ON on the target or use load-method: auto"
assert_eq "" "$(tgt_sql "SHOW DATABASES LIKE '$db'")" "nothing created when the load method is refused"
tgt_sql "SET GLOBAL local_infile = ON"

# A job store made by an earlier tidm (no `deferred_keys` column) is upgraded in place.
tgt_sql "ALTER TABLE tidm_meta.tables DROP COLUMN deferred_keys"
tgt_sql "DROP DATABASE IF EXISTS \`$db\`"
write_job "$TEST_TMP/job-up.yaml" "databases=$db" name=nonempty-upgrade
tidm migrate "$TEST_TMP/job-up.yaml" >"$TEST_TMP/out-up" 2>&1 || fail "tidm migrate on an old job store failed: $(cat "$TEST_TMP/out-up")"
assert_eq 1 "$(tgt_sql "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'tidm_meta' AND TABLE_NAME = 'tables' AND COLUMN_NAME = 'deferred_keys'")" "deferred_keys column added back"
assert_tables_equal "$db"
assert_indexes_equal "$db"

# A job an earlier tidm interrupted (its store has no keyless claims): resumed, a keyless
# table it had copied is its own - not refused as foreign rows, not copied twice.
db2=$(test_db old)
src_sql "CREATE DATABASE \`$db2\`; CREATE TABLE \`$db2\`.k (a INT, b VARCHAR(10)); CREATE TABLE \`$db2\`.t (id INT PRIMARY KEY);
	INSERT INTO \`$db2\`.k SELECT seq % 3, 'x' FROM \`$db2\`.seq_1_to_300; INSERT INTO \`$db2\`.t SELECT seq FROM \`$db2\`.seq_1_to_3000"
write_job "$TEST_TMP/job-old.yaml" "databases=$db2" spec.chunk-rows=1000 name=nonempty-old-$$
tidm migrate "$TEST_TMP/job-old.yaml" >"$TEST_TMP/out-old1" 2>&1 || fail "first run failed: $(cat "$TEST_TMP/out-old1")"
tgt_sql "UPDATE tidm_meta.jobs SET state = 'running', stage = 'dump' WHERE name = 'nonempty-old-$$';
	UPDATE tidm_meta.tables SET keyless = NULL WHERE job = 'nonempty-old-$$';
	UPDATE tidm_meta.chunks SET state = 'pending' WHERE job = 'nonempty-old-$$' AND tbl = 't';
	DELETE FROM \`$db2\`.t"
tidm migrate "$TEST_TMP/job-old.yaml" >"$TEST_TMP/out-old2" 2>&1 || fail "resuming an earlier tidm's job failed: $(cat "$TEST_TMP/out-old2")"
assert_eq 300 "$(tgt_sql "SELECT COUNT(*) FROM \`$db2\`.k")" "keyless rows after resuming an earlier tidm's job"
assert_tables_equal "$db2"

# A source table whose name is a view on the target: refused before anything is written
# (rows copied there would go through the view into its base table).
db3=$(test_db view)
src_sql "CREATE DATABASE \`$db3\`; CREATE TABLE \`$db3\`.v (id INT PRIMARY KEY, x INT); INSERT INTO \`$db3\`.v VALUES (1, 1), (2, 2)"
tgt_sql "CREATE DATABASE \`$db3\`; CREATE TABLE \`$db3\`.base (id INT PRIMARY KEY, x INT); CREATE VIEW \`$db3\`.v AS SELECT * FROM \`$db3\`.base"
write_job "$TEST_TMP/job-view.yaml" "databases=$db3" name=nonempty-view-$$
rc=0
tidm migrate "$TEST_TMP/job-view.yaml" >"$TEST_TMP/out-view" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status when a source table is a view on the target"
assert_contains "$(cat "$TEST_TMP/out-view")" "source table \`$db3\`.\`v\` (a view there): the target has a view or sequence of that name, and rows copied there would go through it. Nothing was written."
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM \`$db3\`.base")" "rows written through the view"
