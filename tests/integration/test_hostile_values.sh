#!/usr/bin/env bash
# Hostile values (issue 19, "Hostile input"): every byte 0x00-0xFF in VARBINARY, BINARY,
# BLOB, latin1 TEXT/VARCHAR/CHAR and (where valid: each byte as its latin1 character, and
# 4-byte UTF-8) utf8mb4 TEXT columns, and in keys: a VARBINARY primary key holding each
# single byte, 0x00, backslash, quote, newline, tab, ctrl-Z, trailing spaces and trailing
# 0x00 (each a distinct key), and a latin1_bin VARCHAR key of every byte. Copied by the
# full phase (LOAD DATA LOCAL, then a fresh copy with multi-row REPLACE), then replicated
# from the binlog: INSERT of new hostile keys, UPDATE of the key (bytes prepended and
# appended), DELETE. Each time the target equals the source by checksums, and tidm verify
# says equal.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\` CHARACTER SET utf8mb4"
src_sql "--database=$db" "
CREATE TABLE bytes (
  id INT NOT NULL PRIMARY KEY,
  vb VARBINARY(8), bn BINARY(4), bl BLOB, lb LONGBLOB,
  tl TEXT CHARACTER SET latin1, vl VARCHAR(8) CHARACTER SET latin1, cl CHAR(4) CHARACTER SET latin1,
  tu TEXT CHARACTER SET utf8mb4, cu CHAR(4) CHARACTER SET utf8mb4
);
-- row id: byte id in every column (utf8mb4: its latin1 character); row 256: all bytes at once
INSERT INTO bytes SELECT seq, CHAR(seq), CHAR(seq), CONCAT(CHAR(seq), 'x', CHAR(seq)), CHAR(seq),
  CONVERT(CHAR(seq) USING latin1), CONCAT(CHAR(seq USING latin1), ' '), CONCAT(CHAR(seq USING latin1), CHAR(seq USING latin1)),
  CONVERT(CONVERT(CHAR(seq) USING latin1) USING utf8mb4), CONVERT(CONVERT(CHAR(seq) USING latin1) USING utf8mb4)
  FROM seq_0_to_255;
SET @all = (SELECT GROUP_CONCAT(CHAR(seq) ORDER BY seq SEPARATOR '') FROM seq_0_to_255);
INSERT INTO bytes (id, bl, lb, tl, tu) VALUES
  (256, @all, REPEAT(@all, 1000), CONVERT(@all USING latin1), CONVERT(CONVERT(@all USING latin1) USING utf8mb4)),
  (257, '', '', '', '😀 \\\\ '' \" \\n \\r \\t \\0 \\Z %_'),
  (258, NULL, NULL, NULL, NULL);

CREATE TABLE kb (k VARBINARY(16) NOT NULL PRIMARY KEY, v BLOB, n INT);
INSERT INTO kb SELECT CHAR(seq), CHAR(255 - seq), seq FROM seq_0_to_255;
INSERT INTO kb VALUES (0x0000, 'two zeros', 1000), ('a ', 'a space', 1002), ('a  ', 'a 2 spaces', 1003),
  (0x6100, 'a nul', 1004), (0x610000, 'a 2 nul', 1005), (0x615C, 'a backslash', 1006), (0x5C30, 'backslash 0', 1007),
  (0x5C5C, 'two backslashes', 1008), (0x2727, 'two quotes', 1010), (0x5C27, 'escaped quote', 1011),
  (0x0A0D09, 'nl cr tab', 1012), (0x1A1A, 'ctrl-z', 1013), (0x00FF00FF, 'alternating', 1014),
  (0x2020, 'two spaces', 1016), (0x2C2C, 'commas', 1018), (0x4E554C4C, 'NULL as text', 1019),
  (0x5C4E, 'backslash N', 1020);

CREATE TABLE kl (k VARCHAR(4) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL PRIMARY KEY, v INT);
INSERT INTO kl SELECT CHAR(seq USING latin1), seq FROM seq_0_to_255 WHERE seq <> 32;
INSERT INTO kl VALUES (CONCAT('x', CHAR(0 USING latin1)), 300), ('x\\\\', 301), ('x''', 302), (' x', 303);"
assert_eq "256" "$(src_sql "SELECT LENGTH(bl) FROM \`$db\`.bytes WHERE id = 256")" "the all-bytes row"
assert_eq "273" "$(src_sql "SELECT COUNT(*) FROM \`$db\`.kb")" "distinct binary keys on the source"

write_job "$TEST_TMP/job.yaml" name=hostile-values type=all "databases=$db"
rc=0
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/run1" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "tidm migrate (full) exit $rc: $(cat "$TEST_TMP/run1")"
assert_contains "$(cat "$TEST_TMP/run1")" "full migration finished"
assert_tables_equal "$db"
assert_eq "$(src_sql "SELECT GROUP_CONCAT(HEX(k) ORDER BY k) FROM \`$db\`.kb")" "$(tgt_sql "SELECT GROUP_CONCAT(HEX(k) ORDER BY k) FROM \`$db\`.kb")" "binary keys, byte for byte"

# replication: new hostile keys, key updates that prepend/append hostile bytes, deletes
src_sql "--database=$db" "SET @all = (SELECT GROUP_CONCAT(CHAR(seq) ORDER BY seq SEPARATOR '') FROM seq_0_to_255);
INSERT INTO kb VALUES (0x5C0000, 'bs 2 nul', 2000), (0x00275C0A, 'mix', 2001), (0x7A20, 'z space', 2002), (0x7A00, 'z nul', 2003);
UPDATE kb SET k = CONCAT(0x5C, k) WHERE n BETWEEN 0 AND 38;
UPDATE kb SET k = CONCAT(k, 0x00) WHERE n BETWEEN 41 AND 80;
UPDATE kb SET k = CONCAT(k, ' ') WHERE n BETWEEN 101 AND 120;
UPDATE kb SET v = CONCAT(v, 0x00275C) WHERE n > 1000;
DELETE FROM kb WHERE n BETWEEN 200 AND 230 OR k IN (0x27, 0x5C5C, 0x6100);
UPDATE kl SET k = CONCAT(k, CHAR(0 USING latin1)) WHERE v BETWEEN 0 AND 60;
DELETE FROM kl WHERE v BETWEEN 90 AND 95;
INSERT INTO bytes (id, bl, lb, tl, tu, cl) SELECT 1000 + seq, CONCAT(@all, CHAR(seq)), @all, CONVERT(@all USING latin1),
  CONCAT('😀', CONVERT(CONVERT(CHAR(seq) USING latin1) USING utf8mb4)), CHAR(seq USING latin1) FROM seq_0_to_255;
UPDATE bytes SET id = id + 5000, vb = CONCAT(vb, 0x00), bl = REVERSE(bl) WHERE id < 128;
DELETE FROM bytes WHERE id BETWEEN 200 AND 210;"
rc=0
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/run2" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "tidm migrate (replication) exit $rc: $(cat "$TEST_TMP/run2")"
assert_contains "$(cat "$TEST_TMP/run2")" "caught up with the source"
assert_tables_equal "$db"
assert_eq "$(src_sql "SELECT GROUP_CONCAT(HEX(k) ORDER BY k) FROM \`$db\`.kb")" "$(tgt_sql "SELECT GROUP_CONCAT(HEX(k) ORDER BY k) FROM \`$db\`.kb")" "binary keys after replication"
rc=0
out=$("$TIDM_BIN" verify "$TEST_TMP/job.yaml" 2>"$TEST_TMP/verify.err") || rc=$?
[ "$rc" -eq 0 ] || fail "tidm verify exit $rc: $out $(cat "$TEST_TMP/verify.err")"
assert_contains "$out" "verify: 3 tables, 3 equal, 0 different (0 rows), 0 unsettled or in error"

# a fresh copy written with multi-row REPLACE (a target refusing LOAD DATA LOCAL) is equal too
tgt_sql "DROP DATABASE \`$db\`"
write_job "$TEST_TMP/job2.yaml" name=hostile-values-insert "databases=$db" spec.load-method=insert
rc=0
"$TIDM_BIN" migrate "$TEST_TMP/job2.yaml" >"$TEST_TMP/run3" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "tidm migrate (load-method insert) exit $rc: $(cat "$TEST_TMP/run3")"
assert_contains "$(cat "$TEST_TMP/run3")" "rows are written with multi-row REPLACE statements"
assert_tables_equal "$db"
echo "ok: hostile_values"
