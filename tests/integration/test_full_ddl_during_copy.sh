#!/usr/bin/env bash
# DDL on the source while the full phase copies its tables (issue 12, items 4 and 8).
# The copy is slowed down with the test-only hook TIDM_TEST_PAUSE_AFTER_CHUNK (ms each dump
# worker sleeps after a chunk): a big table's chunks come first, the small tables are read
# last, and each gets its DDL (ADD / DROP / CHANGE column, MODIFY on a keyless table, ADD
# INDEX, RENAME, DROP, TRUNCATE) between the snapshot and the moment it is read, with rows
# written before and after the DDL.
#  1. type all, one run: it goes on and ends equal (rows, columns, indexes, table list).
#  2. type all, RENAME during the copy, then kill -9, then the same command again: equal.
. "$(dirname "$0")/../harness/lib.sh"

src_db() { # db: SQL from stdin, run in db
	{ printf 'USE `%s`;\n' "$1"; cat; } | src_sql
}

# $1 db: a big table of $2 rows (1000-row chunks) and the small tables
setup() {
	local db=$1 rows=$2
	src_sql "CREATE DATABASE \`$db\`"
	src_db "$db" <<-SQL
		CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(40));
		INSERT INTO big SELECT seq, CONCAT('row ', seq) FROM seq_1_to_$rows;
		ANALYZE TABLE big;
		CREATE TABLE t_add (id INT PRIMARY KEY, v INT);
		CREATE TABLE t_drop (id INT PRIMARY KEY, v INT, w VARCHAR(10));
		CREATE TABLE t_change (id INT PRIMARY KEY, v INT);
		CREATE TABLE t_keyless (v INT, w VARCHAR(10));
		CREATE TABLE t_index (id INT PRIMARY KEY, v INT);
		CREATE TABLE t_rename (id INT PRIMARY KEY, v INT);
		CREATE TABLE t_drop_table (id INT PRIMARY KEY, v INT);
		CREATE TABLE t_truncate (id INT PRIMARY KEY, v INT);
		INSERT INTO t_add SELECT seq, seq FROM seq_1_to_50;
		INSERT INTO t_drop SELECT seq, seq, CONCAT('w', seq) FROM seq_1_to_50;
		INSERT INTO t_change SELECT seq, seq FROM seq_1_to_50;
		INSERT INTO t_keyless SELECT seq % 7, CONCAT('w', seq % 5) FROM seq_1_to_50;
		INSERT INTO t_index SELECT seq, seq FROM seq_1_to_50;
		INSERT INTO t_rename SELECT seq, seq FROM seq_1_to_50;
		INSERT INTO t_drop_table SELECT seq, seq FROM seq_1_to_50;
		INSERT INTO t_truncate SELECT seq, seq FROM seq_1_to_50;
	SQL
}

# wait until the copy of `big` has begun (the small tables are not read yet)
copy_started() { # db pid output
	wait_for "! kill -0 $2 || [ \"\$(tgt_sql \"SELECT COUNT(*) FROM \\\`$1\\\`.big\" 2>/dev/null || echo 0)\" -gt 0 ]" 120 \
		"the copy of $1.big to begin"
	kill -0 "$2" || fail "tidm ended before its copy began: $(tail -5 "$3")"
}

compare() { # db: rows, columns, indexes and the table list of both sides
	local db=$1 q
	assert_tables_equal "$db"
	q="SELECT GROUP_CONCAT(TABLE_NAME, ':', COLUMN_NAME, ':', COLUMN_TYPE ORDER BY TABLE_NAME, ORDINAL_POSITION)
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$db'"
	assert_eq "$(src_sql "$q")" "$(tgt_sql "$q")" "$db: columns"
	assert_indexes_equal "$db"
	q="SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db'"
	assert_eq "$(src_sql "$q")" "$(tgt_sql "$q")" "$db: tables"
}

# --- 1. every DDL kind during the copy, type all, no rerun ---------------------------------
db=$(test_db all)
setup "$db" 40000
write_job "$TEST_TMP/all.yaml" name="ddl-copy-$$" type=all "databases=$db" spec.chunk-rows=1000 \
	spec.dump-threads=2 spec.load-threads=2
TIDM_TEST_PAUSE_AFTER_CHUNK=300 "$TIDM_BIN" migrate "$TEST_TMP/all.yaml" --until-caught-up >"$TEST_TMP/all.out" 2>&1 &
pid=$!
copy_started "$db" "$pid" "$TEST_TMP/all.out"
src_db "$db" <<-'SQL'
	INSERT INTO t_add VALUES (101, 101);
	ALTER TABLE t_add ADD COLUMN c5 INT DEFAULT 5;
	INSERT INTO t_add VALUES (102, 102, 7);
	UPDATE t_add SET c5 = 9 WHERE id = 3;
	INSERT INTO t_drop VALUES (101, 101, 'x');
	ALTER TABLE t_drop DROP COLUMN w;
	INSERT INTO t_drop VALUES (102, 102);
	INSERT INTO t_change VALUES (101, 101);
	ALTER TABLE t_change CHANGE COLUMN v vv VARCHAR(20);
	INSERT INTO t_change VALUES (102, 'text');
	UPDATE t_change SET vv = CONCAT(vv, '!') WHERE id = 4;
	INSERT INTO t_keyless VALUES (100, 'before');
	ALTER TABLE t_keyless MODIFY v BIGINT;
	INSERT INTO t_keyless VALUES (10000000000, 'after');
	INSERT INTO t_index VALUES (101, 101);
	ALTER TABLE t_index ADD INDEX iv (v);
	INSERT INTO t_index VALUES (102, 102);
	INSERT INTO t_rename VALUES (101, 101);
	RENAME TABLE t_rename TO t_renamed;
	INSERT INTO t_renamed VALUES (102, 102);
	DELETE FROM t_renamed WHERE id = 5;
	INSERT INTO t_drop_table VALUES (101, 101);
	DROP TABLE t_drop_table;
	INSERT INTO t_truncate VALUES (101, 101);
	TRUNCATE TABLE t_truncate;
	INSERT INTO t_truncate VALUES (102, 102);
SQL
[ "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.t_add")" = 0 ] || fail "the small tables were read before the DDL ran; the test did not hit the copy"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "type all with DDL during the copy: exit $rc: $(tail -5 "$TEST_TMP/all.out")"
grep -E "after the snapshot|no longer on the source|new snapshot" "$TEST_TMP/all.out" || true
compare "$db"

# --- 2. RENAME during the copy, kill -9, the same command again --------------------------------
db=$(test_db ren)
setup "$db" 40000
write_job "$TEST_TMP/ren.yaml" name="ddl-copy-ren-$$" type=all "databases=$db" spec.chunk-rows=1000 \
	spec.dump-threads=2 spec.load-threads=2
TIDM_TEST_PAUSE_AFTER_CHUNK=300 "$TIDM_BIN" migrate "$TEST_TMP/ren.yaml" --until-caught-up >"$TEST_TMP/ren1.out" 2>&1 &
pid=$!
copy_started "$db" "$pid" "$TEST_TMP/ren1.out"
src_sql "USE \`$db\`; INSERT INTO t_rename VALUES (101, 101); RENAME TABLE t_rename TO t_renamed; INSERT INTO t_renamed VALUES (102, 102)"
sleep 1
kill -9 "$pid" 2>/dev/null || fail "tidm ended before the kill: $(tail -5 "$TEST_TMP/ren1.out")"
wait "$pid" 2>/dev/null || true
src_sql "USE \`$db\`; UPDATE t_renamed SET v = -v WHERE id <= 10"
rc=0
"$TIDM_BIN" migrate "$TEST_TMP/ren.yaml" --until-caught-up >"$TEST_TMP/ren2.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "the run after the kill: exit $rc: $(tail -5 "$TEST_TMP/ren2.out")"
grep -E "after the snapshot|no longer on the source|new snapshot" "$TEST_TMP/ren2.out" || true
compare "$db"
