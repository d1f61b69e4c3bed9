#!/usr/bin/env bash
# DDL on the source while a `type: all` job creates the target's tables: the definitions
# are read under the snapshot's lock, so a table's target definition is the one of the
# snapshot's rows, and the ALTER or DROP that ran after the snapshot replicates from
# the binlog once, without "duplicate column" on every run; a table dropped while it is
# copied is dropped on the target too, in the same run. Ends equal.
. "$(dirname "$0")/../harness/lib.sh"

race() { # $1: the DDL (with @DB@), run when half the tables exist on the target
	local db rc=0 nt=120 i
	db=$(test_db "$2")
	src_sql "CREATE DATABASE \`$db\`"
	{
		for ((i = 0; i < nt; i++)); do printf 'CREATE TABLE `%s`.t%03d (id INT PRIMARY KEY, v INT);\n' "$db" "$i"; done
		echo "CREATE TABLE \`$db\`.zz (id INT PRIMARY KEY, v INT); INSERT INTO \`$db\`.zz VALUES (1, 1), (2, 2);"
		echo "CREATE TABLE \`$db\`.yy (id INT PRIMARY KEY); INSERT INTO \`$db\`.yy VALUES (1);"
	} | src_sql
	write_job "$TEST_TMP/$2.yaml" name="ddl-race-$2-$$" type=all "databases=$db"
	"$TIDM_BIN" migrate "$TEST_TMP/$2.yaml" --until-caught-up >"$TEST_TMP/$2.out" 2>&1 &
	local pid=$!
	wait_for "[ \$(tgt_sql \"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db'\") -gt $((nt / 2)) ]" 120 \
		"half the tables on the target"
	src_sql "${1//@DB@/$db}"
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || fail "$2: tidm migrate: exit $rc: $(tail -5 "$TEST_TMP/$2.out")"
	assert_tables_equal "$db"
	q="SELECT GROUP_CONCAT(TABLE_NAME, ':', COLUMN_NAME ORDER BY TABLE_NAME, ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$db' AND TABLE_NAME IN ('zz', 'yy', 'zz2')"
	assert_eq "$(src_sql "$q")" "$(tgt_sql "$q")" "$2: columns"
}
race "ALTER TABLE \`@DB@\`.zz ADD COLUMN c INT DEFAULT 5; INSERT INTO \`@DB@\`.zz VALUES (3, 3, 3)" alter
race "DROP TABLE \`@DB@\`.yy; ALTER TABLE \`@DB@\`.zz ADD COLUMN c INT DEFAULT 5" drop
