#!/usr/bin/env bash
# Foreign keys that cascade. The source's binlog holds a parent's DELETE or UPDATE but not
# what ON DELETE CASCADE / SET NULL and ON UPDATE CASCADE did to the child rows; the target
# must do it. A `type: all` job copies a three-level chain (grandparent -> parent -> child,
# cascading deletes and key updates), a SET NULL child and a table with a RESTRICT key, then
# replicates with 8 workers a backlog where child rows are inserted and their parents deleted
# or re-keyed in the next transactions (the cascade must see them); the same again in forced
# safe mode. Then: a child change between two parent DELETEs (grouping must not move it), a
# self-referencing tree, a parent with a CASCADE and a RESTRICT child, and a session with
# foreign_key_checks = 0 on the source (its DELETE cascades nothing there, nor here). Every
# table ends equal to the source.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`; USE \`$db\`;
CREATE TABLE g (id INT PRIMARY KEY, v INT);
CREATE TABLE p (id INT PRIMARY KEY, gid INT, v INT,
	FOREIGN KEY (gid) REFERENCES g (id) ON DELETE CASCADE ON UPDATE CASCADE);
CREATE TABLE \`c hild\` (id INT PRIMARY KEY, pid INT, v INT,
	FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE ON UPDATE CASCADE);
CREATE TABLE sn (id INT PRIMARY KEY, pid INT, FOREIGN KEY (pid) REFERENCES p (id) ON DELETE SET NULL ON UPDATE CASCADE);
CREATE TABLE r (id INT PRIMARY KEY, gid INT, FOREIGN KEY (gid) REFERENCES g (id));
CREATE TABLE other (id INT PRIMARY KEY, v INT);
INSERT INTO g SELECT seq, seq FROM seq_1_to_200;
INSERT INTO p SELECT seq, seq, seq FROM seq_1_to_200;
INSERT INTO \`c hild\` SELECT seq, seq % 200 + 1, seq FROM seq_1_to_400;
INSERT INTO sn SELECT seq, seq FROM seq_1_to_200;
INSERT INTO other SELECT seq, seq FROM seq_1_to_100;"

write_job "$TEST_TMP/job.yaml" name=sync-fk-$$ type=all "databases=$db" spec.apply-workers=8
run_tidm() {
	local rc=0
	out=$("$TIDM_BIN" migrate "$@" --until-caught-up 2>&1) || rc=$?
	[ "$rc" = 0 ] || fail "tidm migrate $*: exit $rc; output: $out"
}
run_tidm "$TEST_TMP/job.yaml"
assert_tables_equal "$db"

backlog() { # $1: first id of this round's new rows
	local b=$1 i
	for ((i = 1; i <= 60; i++)); do
		echo "INSERT INTO \`$db\`.g VALUES ($((b + i)), 0);"
		echo "INSERT INTO \`$db\`.p VALUES ($((b + i)), $((b + i)), 0);"
		echo "INSERT INTO \`$db\`.\`c hild\` VALUES ($((b + i)), $((b + i)), 0), ($((b + 1000 + i)), $((b + i)), 1);"
		echo "INSERT INTO \`$db\`.sn VALUES ($((b + i)), $((b + i)));"
		echo "UPDATE \`$db\`.other SET v = v + 1 WHERE id = $((i % 100 + 1));"
		case $((i % 3)) in
		0) echo "DELETE FROM \`$db\`.g WHERE id = $((b + i));" ;;
		1) echo "UPDATE \`$db\`.g SET id = $((b + 500 + i)) WHERE id = $((b + i));" ;;
		2) echo "BEGIN; DELETE FROM \`$db\`.p WHERE id = $((b + i)); UPDATE \`$db\`.p SET id = $((b + 700 + i)) WHERE id = $(((b + i) % 200 + 1)); COMMIT;" ;;
		esac
	done
}
backlog 10000 | src_sql
run_tidm "$TEST_TMP/job.yaml"
assert_tables_equal "$db"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.\`c hild\` c LEFT JOIN \`$db\`.p ON p.id = c.pid WHERE c.pid IS NOT NULL AND p.id IS NULL")" \
	"no orphan child rows on the target"

write_job "$TEST_TMP/safe.yaml" name=sync-fk-$$ type=all "databases=$db" spec.apply-workers=8 safe-mode=true
backlog 20000 | src_sql
run_tidm "$TEST_TMP/safe.yaml"
assert_tables_equal "$db"

src_sql "USE \`$db\`;
CREATE TABLE tree (id INT PRIMARY KEY, parent_id INT, FOREIGN KEY (parent_id) REFERENCES tree (id) ON DELETE CASCADE);
INSERT INTO tree SELECT seq, NULL FROM seq_1_to_100;
CREATE TABLE r2 (id INT PRIMARY KEY, pid INT, FOREIGN KEY (pid) REFERENCES p (id));
INSERT INTO p SELECT 50000 + seq, NULL, 0 FROM seq_1_to_100;
INSERT INTO r2 SELECT seq, 50000 + seq FROM seq_1_to_100;
INSERT INTO \`c hild\` SELECT 60000 + seq, 50000 + seq, 0 FROM seq_1_to_100;"
{
	for ((i = 1; i <= 100; i++)); do
		echo "INSERT INTO \`$db\`.tree VALUES ($((1000 + i)), $i); DELETE FROM \`$db\`.tree WHERE id = $i;"
		echo "DELETE FROM \`$db\`.r2 WHERE id = $i; DELETE FROM \`$db\`.p WHERE id = $((50000 + i));"
	done
	echo "INSERT INTO \`$db\`.p VALUES (70001, NULL, 0), (70002, NULL, 0);"
	echo "INSERT INTO \`$db\`.\`c hild\` VALUES (70001, 70001, 0), (70002, 70002, 0), (70003, 70002, 0);"
	echo "DELETE FROM \`$db\`.p WHERE id = 70001; UPDATE \`$db\`.\`c hild\` SET v = 9 WHERE id = 70002;"
	echo "INSERT INTO \`$db\`.\`c hild\` VALUES (70004, 70002, 0); DELETE FROM \`$db\`.p WHERE id = 70002;"
	echo "SET SESSION foreign_key_checks = 0; INSERT INTO \`$db\`.p VALUES (70003, NULL, 0);"
	echo "INSERT INTO \`$db\`.\`c hild\` VALUES (70005, 70003, 0); DELETE FROM \`$db\`.p WHERE id = 70003;"
} | src_sql
run_tidm "$TEST_TMP/job.yaml"
assert_tables_equal "$db"
assert_eq 1 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.\`c hild\` WHERE id = 70005")" \
	"a DELETE made with foreign_key_checks = 0 cascades nothing"
