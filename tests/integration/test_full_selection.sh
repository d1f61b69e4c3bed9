#!/usr/bin/env bash
# Object selection: only the chosen databases/tables are created and filled; excluded
# ones, other databases and system schemas are untouched.
. "$(dirname "$0")/../harness/lib.sh"

a=$(test_db a)
b=$(test_db b)
c=$(test_db c)
for d in "$a" "$b" "$c"; do
	src_sql "CREATE DATABASE \`$d\`;
CREATE TABLE \`$d\`.t1 (id INT PRIMARY KEY); INSERT INTO \`$d\`.t1 VALUES (1),(2);
CREATE TABLE \`$d\`.t2 (id INT PRIMARY KEY); INSERT INTO \`$d\`.t2 VALUES (3);
CREATE TABLE \`$d\`.tmp_x (id INT PRIMARY KEY); INSERT INTO \`$d\`.tmp_x VALUES (4);
CREATE TABLE \`$d\`.tmp_y (id INT PRIMARY KEY);"
done
# A table in a system schema of the source must never be read or written.
src_sql "CREATE TABLE IF NOT EXISTS mysql.tidm_selection_marker (id INT PRIMARY KEY)"
on_exit "src_sql 'DROP TABLE IF EXISTS mysql.tidm_selection_marker' >/dev/null 2>&1 || true"
sys_before=$(tgt_sql "SELECT COUNT(*), SUM(CRC32(CONCAT(table_schema, '.', table_name))) FROM information_schema.tables WHERE table_schema IN ('mysql','sys','performance_schema')")

write_job "$TEST_TMP/job.yaml" "databases=$a" "tables=$b.t1,$b.tmp_*" "exclude=$a.tmp_*,$b.tmp_y"
tidm migrate "$TEST_TMP/job.yaml" >"$TEST_TMP/out" 2>&1 || fail "tidm migrate failed: $(cat "$TEST_TMP/out")"

tables_of() { tgt_sql "SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM information_schema.tables WHERE table_schema = '$1'"; }
assert_eq "t1,t2" "$(tables_of "$a")" "database $a: all tables but the excluded tmp_*"
assert_eq "t1,tmp_x" "$(tables_of "$b")" "database $b: the chosen tables only"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '$c'")" "database $c not created"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'tidm_selection_marker'")" "system schema table not copied"
assert_eq "$sys_before" "$(tgt_sql "SELECT COUNT(*), SUM(CRC32(CONCAT(table_schema, '.', table_name))) FROM information_schema.tables WHERE table_schema IN ('mysql','sys','performance_schema')")" "target system schemas unchanged"
assert_tables_equal "$a" t1 t2
assert_tables_equal "$b" t1 tmp_x

# "all" (no objects): still no system schema
write_job "$TEST_TMP/all.yaml" name=selection-all "exclude=t_*,sbtest,shop"
out=$(tidm migrate "$TEST_TMP/all.yaml" 2>&1) || fail "tidm migrate (all) failed: $out"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'tidm_selection_marker'")" "system schema table not copied with objects: all"
