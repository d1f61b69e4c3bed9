#!/usr/bin/env bash
# Full migration of table shapes the other tests do not have, each checked row for row and
# index for index afterwards: 200 small tables, empty and one-row tables, a case-insensitive
# string primary key (keys that differ only in case or trailing spaces cannot exist twice),
# a parent whose non-unique index a child's foreign key uses, a partitioned table with a
# secondary index, rows of several MiB (bigger than a load batch), latin1 text, and a table
# whose every column is part of a secondary index.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`"
{
	for i in $(seq 1 200); do
		echo "CREATE TABLE \`$db\`.\`small $i\` (id INT PRIMARY KEY, v VARCHAR(20), KEY (v));"
		echo "INSERT INTO \`$db\`.\`small $i\` SELECT seq, CONCAT('v', seq * $i) FROM \`$db\`.seq_1_to_$((i % 7));"
	done
	cat <<SQL
CREATE TABLE \`$db\`.one (id INT PRIMARY KEY, v INT, KEY (v));
INSERT INTO \`$db\`.one VALUES (1, 1);
CREATE TABLE \`$db\`.ci (k VARCHAR(40) COLLATE utf8mb4_general_ci PRIMARY KEY, n INT NOT NULL, KEY (n)) CHARACTER SET utf8mb4;
INSERT INTO \`$db\`.ci SELECT CONCAT(IF(seq % 2, 'Key-', 'kEY_'), seq, IF(seq % 3, '', 'é')), seq FROM \`$db\`.seq_1_to_30000;
CREATE TABLE \`$db\`.parent (id INT PRIMARY KEY, code INT NOT NULL, KEY code_idx (code)) ENGINE=InnoDB;
INSERT INTO \`$db\`.parent SELECT seq, seq % 100 FROM \`$db\`.seq_1_to_5000;
CREATE TABLE \`$db\`.child (id INT PRIMARY KEY, code INT, KEY (code), CONSTRAINT fk_code FOREIGN KEY (code) REFERENCES parent (code)) ENGINE=InnoDB;
INSERT INTO \`$db\`.child SELECT seq, seq % 100 FROM \`$db\`.seq_1_to_5000;
CREATE TABLE \`$db\`.parts (id INT NOT NULL, d DATE NOT NULL, v VARCHAR(30), PRIMARY KEY (id, d), KEY dv (d, v))
  PARTITION BY RANGE (YEAR(d)) (PARTITION p0 VALUES LESS THAN (2000), PARTITION p1 VALUES LESS THAN MAXVALUE);
INSERT INTO \`$db\`.parts SELECT seq, '1990-01-01' + INTERVAL seq DAY, CONCAT('p', seq) FROM \`$db\`.seq_1_to_20000;
CREATE TABLE \`$db\`.blobs (id INT PRIMARY KEY, b LONGBLOB, t LONGTEXT, KEY (id, t(10)));
INSERT INTO \`$db\`.blobs SELECT seq, RANDOM_BYTES(1024) , REPEAT(CONCAT('ü\t\n\\\\', seq), 300000) FROM \`$db\`.seq_1_to_4;
UPDATE \`$db\`.blobs SET b = REPEAT(b, 3000) WHERE id = 2;
CREATE TABLE \`$db\`.latin (id INT PRIMARY KEY, s VARCHAR(50) CHARACTER SET latin1, KEY (s)) CHARACTER SET latin1;
INSERT INTO \`$db\`.latin VALUES (1, 'café'), (2, 'naïve ÿ'), (3, ''), (4, NULL);
CREATE TABLE \`$db\`.allkeyed (a INT NOT NULL, b INT NOT NULL, KEY (a), KEY (b, a));
INSERT INTO \`$db\`.allkeyed SELECT seq % 10, seq FROM \`$db\`.seq_1_to_1000;
CREATE TABLE \`$db\`.empty (id INT PRIMARY KEY, v INT, KEY (v));
SQL
} | src_sql

write_job "$TEST_TMP/job.yaml" "databases=$db" spec.chunk-rows=1000 spec.statement-bytes=65536
out=$(tidm migrate "$TEST_TMP/job.yaml" 2>"$TEST_TMP/err") || fail "tidm migrate failed: $(tail -20 "$TEST_TMP/err")"
assert_contains "$out" "tables   209 (0 views)"
assert_tables_equal "$db"
assert_indexes_equal "$db"
assert_eq "$(src_sql "SELECT HEX(b) FROM \`$db\`.blobs WHERE id = 2" | md5sum)" "$(tgt_sql "SELECT HEX(b) FROM \`$db\`.blobs WHERE id = 2" | md5sum)" "a 3 MiB value"
# the foreign key made it, and the parent kept its index from the start (the child needs it)
assert_eq 1 "$(tgt_sql "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = '$db' AND CONSTRAINT_NAME = 'fk_code'")" "foreign key on the target"
grep -q '`parent`: .* built after the rows' "$TEST_TMP/err" && fail "the parent's index was left out although a foreign key uses it"
grep -q '`parts`: 1 secondary index built after the rows' "$TEST_TMP/err" || fail "the partitioned table's index was not deferred: $(grep parts "$TEST_TMP/err")"
# the case-insensitive keys were not merged into each other
assert_eq 30000 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.ci")" "rows with case-insensitive keys"
