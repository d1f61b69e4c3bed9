#!/usr/bin/env bash
# Replicated DDL runs under the character set and collations of its source session (the
# QUERY event's status variables), as a MySQL replica does: a database and a table created
# under a non-default collation_server get the source's character set and collation on the
# target, a table written in a latin1 client session (SET NAMES latin1) gets the same
# non-ASCII default and comment, and text outside Latin-1 replicated into them is equal.
. "$(dirname "$0")/../harness/lib.sh"

d1=$(test_db)
d2=$(test_db u)
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
pos=$(src_sql "SHOW MASTER STATUS" | cut -f2)

src_sql "SET SESSION collation_server = utf8mb3_general_ci;
	CREATE DATABASE \`$d1\`;
	CREATE TABLE \`$d1\`.t (id INT PRIMARY KEY, name VARCHAR(20));
	SET SESSION collation_server = utf8mb4_unicode_ci;
	CREATE DATABASE \`$d2\`;
	SET SESSION collation_server = latin1_german1_ci;
	CREATE TABLE \`$d2\`.t (id INT PRIMARY KEY, name VARCHAR(20));"
# a statement whose bytes are latin1: 0xE9 is é, 0xFC ü
src_sql --default-character-set=latin1 "$(printf "SET NAMES latin1; CREATE TABLE \`%s\`.l (id INT PRIMARY KEY,
	s VARCHAR(10) CHARACTER SET utf8mb4 DEFAULT '\xe9t\xe9' COMMENT 'gr\xfc\xdfe')" "$d1")"
src_sql --default-character-set=utf8mb4 "INSERT INTO \`$d1\`.t VALUES (1, 'Ωμέγα'), (2, 'Пётр'), (3, 'ĳ ŉ ǅ');
	INSERT INTO \`$d2\`.t VALUES (1, 'Ωμέγα 漢字 😀');
	INSERT INTO \`$d1\`.l (id) VALUES (1)"

write_job "$TEST_TMP/job.yaml" name=ddl-charset-$$ type=incremental "databases=$d1,$d2" \
	start.binlog-file="$file" start.binlog-pos="$pos"
rc=0
out=$("$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "tidm migrate: exit $rc; output: $out"

q_schemata="SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA
	WHERE SCHEMA_NAME IN ('$d1', '$d2') ORDER BY 1"
q_tables="SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES
	WHERE TABLE_SCHEMA IN ('$d1', '$d2') ORDER BY 1, 2"
q_columns="SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME, COLLATION_NAME, HEX(COLUMN_DEFAULT), HEX(COLUMN_COMMENT)
	FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN ('$d1', '$d2') ORDER BY 1, 2, ORDINAL_POSITION"
assert_contains "$(src_sql "$q_schemata")" "utf8mb3_general_ci" "the source database's collation"
assert_eq "$(src_sql "$q_schemata")" "$(tgt_sql "$q_schemata")" "databases' character set and collation"
assert_eq "$(src_sql "$q_tables")" "$(tgt_sql "$q_tables")" "tables' collation"
assert_eq "$(src_sql "$q_columns")" "$(tgt_sql "$q_columns")" "columns' character set, collation, default, comment"
assert_tables_equal "$d1"
assert_tables_equal "$d2"
assert_eq "$(src_sql --default-character-set=utf8mb4 "SELECT HEX(name) FROM \`$d1\`.t ORDER BY id")" \
	"$(tgt_sql --default-character-set=utf8mb4 "SELECT HEX(name) FROM \`$d1\`.t ORDER BY id")" "non-Latin-1 text"
