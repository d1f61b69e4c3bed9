#!/usr/bin/env bash
# Replication follows row events only. A source whose binlog_format is not ROW is refused
# before anything is copied (types incremental and all), with the message that says how to
# fix it; a change a session wrote as a statement (SET SESSION binlog_format = STATEMENT)
# on a selected table fails the job naming the table and the position, while one on a table
# outside the selection is passed over and the job goes on.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
other=$(test_db other)
schema="CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(20));
CREATE DATABASE \`$other\`; CREATE TABLE \`$other\`.t (id INT PRIMARY KEY, v VARCHAR(20));"
src_sql "$schema"
tgt_sql "$schema"
orig=$(src_sql "SELECT @@GLOBAL.binlog_format")
on_exit "src_sql \"SET GLOBAL binlog_format = '$orig'\" >/dev/null 2>&1 || true"

run_tidm() {
	local want=$1 rc=0
	shift
	out=$("$TIDM_BIN" "$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "tidm $*: exit $rc, expected $want; output: $out"
}

# --- global binlog_format MIXED: refused before anything happens ---------------------------
src_sql "SET GLOBAL binlog_format = 'MIXED'"
# the precheck refuses it (exit 3), naming the item
want="the source's binlog_format is MIXED: tidm replicates row events only"
write_job "$TEST_TMP/inc.yaml" name=sync-format-inc-$$ type=incremental "databases=$db"
run_tidm 3 migrate "$TEST_TMP/inc.yaml" --until-caught-up
assert_contains "$out" "$want"
assert_contains "$out" "binlog-format"
write_job "$TEST_TMP/all.yaml" name=sync-format-all-$$ type=all "databases=$other"
tgt_sql "DROP DATABASE \`$other\`"
run_tidm 3 migrate "$TEST_TMP/all.yaml" --until-caught-up
assert_contains "$out" "$want"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$other'")" \
	"type all refused before its full phase created anything"
tgt_sql "CREATE DATABASE \`$other\`; CREATE TABLE \`$other\`.t (id INT PRIMARY KEY, v VARCHAR(20))"
src_sql "SET GLOBAL binlog_format = 'ROW'"

# --- a statement-format change mid-stream ---------------------------------------------------
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
pos=$(src_sql "SHOW MASTER STATUS" | cut -f2)
write_job "$TEST_TMP/job.yaml" name=sync-format-$$ type=incremental "databases=$db" start.binlog-file="$file" start.binlog-pos="$pos"
src_sql "INSERT INTO \`$db\`.t VALUES (1, 'row');
	SET SESSION binlog_format = 'STATEMENT';
	INSERT INTO \`$other\`.t VALUES (1, 'outside');
	SET SESSION binlog_format = 'ROW';
	INSERT INTO \`$db\`.t VALUES (2, 'row')"
run_tidm 0 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_tables_equal "$db"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM \`$other\`.t")" "the unselected table stays untouched"

src_sql "USE \`$db\`; SET SESSION binlog_format = 'STATEMENT'; UPDATE t SET v = 'statement' WHERE id = 1;
	SET SESSION binlog_format = 'ROW'; INSERT INTO \`$db\`.t VALUES (3, 'row')"
run_tidm 1 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_contains "$out" "was written to the binlog as a statement, not as row events (binlog_format STATEMENT or MIXED in that session), on the selected table \`$db\`.\`t\`: UPDATE t SET v = 'statement' WHERE id = 1"
assert_contains "$out" "$file:"
assert_eq "row" "$(tgt_sql "SELECT v FROM \`$db\`.t WHERE id = 1")" "nothing applied past the statement"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.t WHERE id = 3")" "nothing applied past the statement"
run_tidm 1 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_contains "$out" "on the selected table \`$db\`.\`t\`" "a rerun stops at the same statement"

# --- DDL written under the session's sql_mode -------------------------------------------------
# Read with its quoting (ANSI_QUOTES, NO_BACKSLASH_ESCAPES) and run with what changes its
# meaning (REAL_AS_FLOAT, PIPES_AS_CONCAT): the target's columns equal the source's.
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
pos=$(src_sql "SHOW MASTER STATUS" | cut -f2)
write_job "$TEST_TMP/modes.yaml" name=sync-format-modes-$$ type=incremental "databases=$db" start.binlog-file="$file" start.binlog-pos="$pos"
src_sql "USE \`$db\`;
SET SESSION sql_mode = 'PIPES_AS_CONCAT,REAL_AS_FLOAT';
CREATE TABLE pm (id INT PRIMARY KEY, r REAL, s VARCHAR(20) DEFAULT ('a' || 'b'));
INSERT INTO pm (id, r) VALUES (1, 1.5);
SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES';
CREATE TABLE nbe (id INT PRIMARY KEY, p VARCHAR(20) DEFAULT 'C:\\dir\\', q VARCHAR(20) DEFAULT 'x\\ny');
INSERT INTO nbe (id) VALUES (1);
SET SESSION sql_mode = 'ANSI';
CREATE TABLE \"an\"\"si\" (\"i d\" INT PRIMARY KEY, r REAL, t VARCHAR(20) DEFAULT 'x\\y');
ALTER TABLE \"an\"\"si\" ADD COLUMN \"q\" INT DEFAULT (1 || 0);
INSERT INTO \"an\"\"si\" (\"i d\") VALUES (2);"
run_tidm 0 migrate "$TEST_TMP/modes.yaml" --until-caught-up
assert_tables_equal "$db" pm nbe 'an"si'
q="SELECT GROUP_CONCAT(TABLE_NAME, ':', COLUMN_NAME, ':', COLUMN_TYPE, ':', IFNULL(COLUMN_DEFAULT, '-') ORDER BY TABLE_NAME, ORDINAL_POSITION SEPARATOR '|') FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$db'"
assert_eq "$(src_sql "$q")" "$(tgt_sql "$q")" "column definitions made under the source's sql_mode"
assert_contains "$(tgt_sql "$q")" "pm:r:float" "REAL_AS_FLOAT"
