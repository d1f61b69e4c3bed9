#!/usr/bin/env bash
# Online schema change tools alter a copy of a table and swap it in: gh-ost (`_t_gho`,
# RENAME TABLE t TO _t_del, _t_gho TO t) and pt-online-schema-change (`_t_new`, `_t_old`).
# A job that selects only the table (not the copies) gets the copy's ALTERs applied to the
# table at the swap; a copy that is dropped before its swap leaves nothing behind; with the
# whole database selected the copies replicate as tables. Every selected table ends equal
# to the source, columns and indexes too, and the copies never reach the target. (The tools'
# own copying - gh-ost from the binlog, pt-osc by triggers - is played by the workload.)
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
schema="CREATE DATABASE \`$db\`; USE \`$db\`;
CREATE TABLE t (id INT PRIMARY KEY, v INT);
CREATE TABLE \`p q\` (id INT PRIMARY KEY, v VARCHAR(10));
CREATE TABLE other (id INT PRIMARY KEY);
INSERT INTO t SELECT seq, seq FROM seq_1_to_100;
INSERT INTO \`p q\` SELECT seq, seq FROM seq_1_to_50;"
src_sql "$schema"
tgt_sql "$schema"
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
pos=$(src_sql "SHOW MASTER STATUS" | cut -f2)
write_job "$TEST_TMP/job.yaml" name=sync-osc-$$ type=incremental "tables=$db.t,$db.p q" start.binlog-file="$file" \
	start.binlog-pos="$pos"
run_tidm() {
	local rc=0
	out=$("$TIDM_BIN" migrate "$@" --until-caught-up 2>&1) || rc=$?
	[ "$rc" = 0 ] || fail "tidm migrate $*: exit $rc; output: $out"
}
cols() { "${1}_sql" "SELECT GROUP_CONCAT(TABLE_NAME, ':', COLUMN_NAME, ':', COLUMN_TYPE, ':', IFNULL(COLUMN_DEFAULT, '-')
	ORDER BY TABLE_NAME, ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$db' AND TABLE_NAME IN ('t', 'p q')"; }
idx() { "${1}_sql" "SELECT GROUP_CONCAT(TABLE_NAME, ':', INDEX_NAME, ':', COLUMN_NAME ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX)
	FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '$db' AND TABLE_NAME IN ('t', 'p q')"; }

src_sql "USE \`$db\`;
CREATE TABLE _t_gho LIKE t;
ALTER TABLE _t_gho ADD COLUMN w INT NOT NULL DEFAULT 5, ADD KEY kv (v);
INSERT INTO _t_gho (id, v) SELECT id, v FROM t;
INSERT INTO t VALUES (101, 101);
INSERT INTO _t_gho (id, v) VALUES (101, 101);
RENAME TABLE t TO _t_del, _t_gho TO t;
DROP TABLE _t_del;
INSERT INTO t VALUES (102, 102, 1);
CREATE TABLE \`_p q_new\` LIKE \`p q\`;
ALTER TABLE \`_p q_new\` MODIFY v VARCHAR(40), ADD COLUMN z TEXT;
INSERT INTO \`_p q_new\` (id, v) SELECT id, v FROM \`p q\`;
BEGIN; UPDATE \`p q\` SET v = 'changed' WHERE id = 7; UPDATE \`_p q_new\` SET v = 'changed' WHERE id = 7; COMMIT;
RENAME TABLE \`p q\` TO \`_p q_old\`, \`_p q_new\` TO \`p q\`;
DROP TABLE IF EXISTS \`_p q_old\`;
UPDATE \`p q\` SET z = 'after' WHERE id = 1;
CREATE TABLE _t_gho LIKE t;
ALTER TABLE _t_gho DROP COLUMN w;
DROP TABLE _t_gho;
INSERT INTO t VALUES (103, 103, 3);"
run_tidm "$TEST_TMP/job.yaml"
assert_tables_equal "$db" t "p q"
assert_eq "$(cols src)" "$(cols tgt)" "columns after the swaps"
assert_eq "$(idx src)" "$(idx tgt)" "indexes after the swaps"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db' AND TABLE_NAME LIKE '\\_%'")" \
	"no copy reached the target"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM tidm_meta.osc WHERE job = 'sync-osc-$$'")" "nothing kept after the swaps"

# the whole database selected: the copies are tables of the selection
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
pos=$(src_sql "SHOW MASTER STATUS" | cut -f2)
write_job "$TEST_TMP/all.yaml" name=sync-osc-db-$$ type=incremental "databases=$db" start.binlog-file="$file" start.binlog-pos="$pos"
tgt_sql "DROP TABLE \`$db\`.other; CREATE TABLE \`$db\`.other (id INT PRIMARY KEY)"
src_sql "USE \`$db\`;
CREATE TABLE _t_gho LIKE t;
ALTER TABLE _t_gho ADD COLUMN u INT;
INSERT INTO _t_gho (id, v, w) SELECT id, v, w FROM t;
RENAME TABLE t TO _t_del, _t_gho TO t;
DROP TABLE _t_del;"
run_tidm "$TEST_TMP/all.yaml"
assert_tables_equal "$db"
assert_eq "$(cols src)" "$(cols tgt)" "columns after a swap inside the selection"
