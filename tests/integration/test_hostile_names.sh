#!/usr/bin/env bash
# Hostile identifiers end to end (issue 19, "Hostile input"): a database, tables, columns,
# indexes and constraints (PRIMARY, UNIQUE, CHECK, FOREIGN KEY) whose names hold
# backticks, single and double quotes, semicolons, newlines, `--`, `/*`, `*/`, `#`,
# backslashes, spaces, non-ASCII, and names of exactly 64 characters. A job of type `all`
# copies them (full phase), then replicates DML (insert, update of the key, delete) and DDL
# (ADD COLUMN, ADD INDEX, RENAME COLUMN, RENAME TABLE, CREATE TABLE ... LIKE, DROP TABLE)
# on them: the target equals the source (checksums, indexes, constraint names), and `tidm
# verify` says equal too.
# 4-byte UTF-8 (U+1F600) cannot be part of a MariaDB identifier (the server refuses it with
# error 1300: identifiers are utf8mb3); the test asserts that refusal and carries the emoji
# in a table comment, a column default and the values instead.
. "$(dirname "$0")/../harness/lib.sh"

# every hostile byte of the brief in the database name (one name, ≤ 64 characters)
db="$(test_db)_\`'\";--/*#\\ x"$'\n'"y"
qi() { local s=${1//\`/\`\`}; printf '`%s`' "$s"; } # a quoted identifier
qdb=$(qi "$db")
sq() { local s=${1//\\/\\\\}; s=${s//$'\n'/\\n}; printf "'%s'" "${s//\'/\'\'}"; } # a SQL string literal
drop_db() { src_sql "DROP DATABASE IF EXISTS $qdb" >/dev/null 2>&1 || true; tgt_sql "DROP DATABASE IF EXISTS $qdb" >/dev/null 2>&1 || true; }
on_exit drop_db

# the server's limit on 4-byte UTF-8 in identifiers (asserted, so a change is noticed)
rc=0
out=$(src_sql "CREATE TABLE \`$(test_db)_e\`.\`x😀\` (i INT)" 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "MariaDB accepted an emoji table name: the test must then cover it end to end"
assert_contains "$out" "ERROR 1300" "emoji identifier refused by the server"

t1="ta\`ble 'one' \"1\"; -- x /* y */ #z \\ end"
t2="par\`ent'\";--/*#\\"$'\n'"tbl"
c64=$(printf 'c%.0s' {1..60})"\`'\"x" # 64 characters
t64=$(printf 't%.0s' {1..57})";--/*#\\" # 64 characters
assert_eq 64 "$(src_sql "SELECT CHAR_LENGTH($(sq "$c64")), CHAR_LENGTH($(sq "$t64"))" | cut -f1)" "64-character column name"
assert_eq 64 "$(src_sql "SELECT CHAR_LENGTH($(sq "$t64"))")" "64-character table name"
k1="i\`d 'k'"
cq="co'l"
cdq="c\"ol"
csemi="c;ol; DROP TABLE x; --"
cnl="c"$'\n'"ol"
ccom="c -- ol /* x */ #y"
cbs="c\\ol\\"
cuni="naïve 列 ключ"
idx="idx \`'\"; -- /* #\\"$'\n'"i"
uk="uk \`'\";--#"
chk="chk \`'\"; /* -- #\\"
fk="fk \`'\";--/*#\\"$'\n'"f"

src_sql "CREATE DATABASE $qdb CHARACTER SET utf8mb4"
src_sql "--database=$db" "
CREATE TABLE $(qi "$t2") ($(qi "$k1") INT NOT NULL PRIMARY KEY, $(qi "$cq") VARCHAR(20)) CHARACTER SET utf8mb4
  COMMENT 'parent 😀 ''c'' \"d\" \\\\ ;';
CREATE TABLE $(qi "$t1") (
  $(qi "$k1") INT NOT NULL, $(qi "$cq") VARCHAR(40) DEFAULT 'd''ef 😀', $(qi "$cdq") INT, $(qi "$csemi") TEXT,
  $(qi "$cnl") VARCHAR(20), $(qi "$ccom") INT, $(qi "$cbs") VARBINARY(20), $(qi "$cuni") VARCHAR(20), $(qi "$c64") INT,
  $(qi "$t2") INT,
  PRIMARY KEY ($(qi "$k1"), $(qi "$cnl")),
  KEY $(qi "$idx") ($(qi "$ccom"), $(qi "$cbs")),
  UNIQUE KEY $(qi "$uk") ($(qi "$c64")),
  CONSTRAINT $(qi "$chk") CHECK ($(qi "$cdq") IS NULL OR $(qi "$cdq") >= 0),
  CONSTRAINT $(qi "$fk") FOREIGN KEY ($(qi "$t2")) REFERENCES $(qi "$t2") ($(qi "$k1"))
) CHARACTER SET utf8mb4 COMMENT 'one ''q'' \"dq\" ; -- /* #';
CREATE TABLE $(qi "$t64") ($(qi "$c64") INT PRIMARY KEY, v VARCHAR(64)) CHARACTER SET utf8mb4;
INSERT INTO $(qi "$t2") VALUES (1, 'p1'), (2, 'p''2'), (3, 'p;3');
INSERT INTO $(qi "$t1") ($(qi "$k1"), $(qi "$cnl"), $(qi "$cq"), $(qi "$cdq"), $(qi "$csemi"), $(qi "$ccom"), $(qi "$cbs"), $(qi "$cuni"), $(qi "$c64"), $(qi "$t2"))
  SELECT seq, CONCAT('n', seq % 3), CONCAT('q''', seq), seq, CONCAT('; DROP DATABASE x; -- ', seq), seq % 7,
         CONCAT('\\\\', seq, '\\\\'), CONCAT('列', seq), seq, 1 + seq % 3 FROM seq_1_to_300;
INSERT INTO $(qi "$t64") SELECT seq, CONCAT('😀 ', seq) FROM seq_1_to_50;"

# the job names the database by a backquoted pattern (YAML double-quoted: \\ \" \n escaped)
pat=$(qi "$db")
pat=${pat//\\/\\\\}
pat=${pat//\"/\\\"}
pat=${pat//$'\n'/\\n}
write_job "$TEST_TMP/job.yaml" name=hostile-names type=all databases=PLACEHOLDER
PAT=$pat awk '{ if ($0 ~ /^  databases: /) print "  databases: [\"" ENVIRON["PAT"] "\"]"; else print }' \
	"$TEST_TMP/job.yaml" >"$TEST_TMP/job2.yaml"
mv "$TEST_TMP/job2.yaml" "$TEST_TMP/job.yaml"

# 1. the full phase, then replication until caught up
rc=0
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/run1" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "tidm migrate (full) exit $rc: $(cat "$TEST_TMP/run1")"
assert_contains "$(cat "$TEST_TMP/run1")" "full migration finished"
assert_contains "$(cat "$TEST_TMP/run1")" "tables   3"
assert_tables_equal "$db"
assert_indexes_equal "$db"

# 2. DML and DDL on the hostile names, replicated
src_sql "--database=$db" "
INSERT INTO $(qi "$t2") VALUES (4, 'p\\\\4');
INSERT INTO $(qi "$t1") ($(qi "$k1"), $(qi "$cnl"), $(qi "$cdq"), $(qi "$csemi"), $(qi "$c64"), $(qi "$t2"))
  VALUES (1000, 'new', 5, '*/ -- ''', 1000, 4), (1001, 'new', 6, '\\\\''', 1001, NULL);
UPDATE $(qi "$t1") SET $(qi "$k1") = $(qi "$k1") + 5000, $(qi "$cq") = 'moved ''k''' WHERE $(qi "$k1") <= 20;
UPDATE $(qi "$t1") SET $(qi "$cnl") = 'x\\ny' WHERE $(qi "$k1") BETWEEN 21 AND 30;
DELETE FROM $(qi "$t1") WHERE $(qi "$k1") BETWEEN 31 AND 40;
DELETE FROM $(qi "$t64") WHERE $(qi "$c64") > 40;
UPDATE $(qi "$t64") SET $(qi "$c64") = -$(qi "$c64") WHERE $(qi "$c64") <= 5;
ALTER TABLE $(qi "$t1") ADD COLUMN $(qi "added \`'\";--/*#\\"$'\n'"c") VARCHAR(30) DEFAULT 'a''d', ADD INDEX $(qi "added idx ;--/*#") ($(qi "$cdq"));
ALTER TABLE $(qi "$t1") RENAME COLUMN $(qi "$cuni") TO $(qi "renamed \`'\"#;--")
;
INSERT INTO $(qi "$t1") ($(qi "$k1"), $(qi "$cnl"), $(qi "added \`'\";--/*#\\"$'\n'"c"), $(qi "renamed \`'\"#;--"), $(qi "$c64"))
  VALUES (2000, 'after', 'ddl ''ok''', 'r;--', 2000);
RENAME TABLE $(qi "$t64") TO $(qi "moved \`'\"; -- /* #\\"$'\n'"t");
CREATE TABLE $(qi "copy \`'\";--/*#") LIKE $(qi "$t2");
INSERT INTO $(qi "copy \`'\";--/*#") SELECT * FROM $(qi "$t2");
CREATE TABLE $(qi "doomed ';--") (i INT PRIMARY KEY);
INSERT INTO $(qi "doomed ';--") VALUES (1);
DROP TABLE $(qi "doomed ';--");"

rc=0
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/run2" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "tidm migrate (replication) exit $rc: $(cat "$TEST_TMP/run2")"
assert_contains "$(cat "$TEST_TMP/run2")" "caught up with the source"
assert_tables_equal "$db"
assert_indexes_equal "$db"
assert_eq "$(src_sql "SELECT GROUP_CONCAT(TABLE_NAME, ':', CONSTRAINT_NAME, ':', CONSTRAINT_TYPE ORDER BY 1, 2, 3 SEPARATOR '|') FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = $(sq "$db")")" \
	"$(tgt_sql "SELECT GROUP_CONCAT(TABLE_NAME, ':', CONSTRAINT_NAME, ':', CONSTRAINT_TYPE ORDER BY 1, 2, 3 SEPARATOR '|') FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = $(sq "$db")")" \
	"constraint names and kinds"
assert_eq "$(src_sql "SELECT GROUP_CONCAT(TABLE_NAME, ':', COLUMN_NAME, ':', COLUMN_TYPE, ':', IFNULL(COLUMN_DEFAULT, 'NULL') ORDER BY TABLE_NAME, ORDINAL_POSITION SEPARATOR '|') FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = $(sq "$db")")" \
	"$(tgt_sql "SELECT GROUP_CONCAT(TABLE_NAME, ':', COLUMN_NAME, ':', COLUMN_TYPE, ':', IFNULL(COLUMN_DEFAULT, 'NULL') ORDER BY TABLE_NAME, ORDINAL_POSITION SEPARATOR '|') FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = $(sq "$db")")" \
	"columns, types and defaults"
assert_eq "$(src_sql "SELECT GROUP_CONCAT(TABLE_NAME, ':', TABLE_COMMENT ORDER BY 1 SEPARATOR '|') FROM information_schema.TABLES WHERE TABLE_SCHEMA = $(sq "$db")")" \
	"$(tgt_sql "SELECT GROUP_CONCAT(TABLE_NAME, ':', TABLE_COMMENT ORDER BY 1 SEPARATOR '|') FROM information_schema.TABLES WHERE TABLE_SCHEMA = $(sq "$db")")" \
	"table names and comments (4-byte UTF-8 in a comment)"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = $(sq "$db") AND TABLE_NAME = $(sq "doomed ';--")")" "dropped table gone"
assert_eq 5 "$(tgt_sql "SELECT COUNT(*) FROM $qdb.$(qi "moved \`'\"; -- /* #\\"$'\n'"t") WHERE $(qi "$c64") < 0")" "renamed 64-character-column table rows"

# 3. tidm verify on the same job: every table equal
rc=0
out=$("$TIDM_BIN" verify "$TEST_TMP/job.yaml" 2>"$TEST_TMP/verify.err") || rc=$?
[ "$rc" -eq 0 ] || fail "tidm verify exit $rc: $out $(cat "$TEST_TMP/verify.err")"
assert_contains "$out" "verify: 4 tables, 4 equal, 0 different (0 rows), 0 unsettled or in error"

# a planted difference in the hostile table is found and named (verify is not blind to it)
tgt_sql "UPDATE $qdb.$(qi "$t1") SET $(qi "$cdq") = $(qi "$cdq") + 1 WHERE $(qi "$k1") = 2000 OR $(qi "$k1") = 100"
rc=0
out=$("$TIDM_BIN" verify "$TEST_TMP/job.yaml" 2>"$TEST_TMP/verify2.err") || rc=$?
assert_eq 1 "$rc" "verify exit code with a planted difference ($out $(cat "$TEST_TMP/verify2.err"))"
assert_contains "$out" "verify: 4 tables, 3 equal, 1 different (1 rows)"
echo "ok: hostile_names"
