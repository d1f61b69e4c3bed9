#!/usr/bin/env bash
# tidm verify (offline: the job is not syncing): equal data of every column family gives
# exit 0; planted changed, missing and extra rows in keyed and keyless tables, in each
# family (integers, DECIMAL, FLOAT, DOUBLE, strings of several charsets and a _ci key,
# BLOB, JSON, temporal, BIT, ENUM/SET) are each reported with table, key, side and
# columns (exit 1); the repair SQL applied to the target makes the tables equal
# (assert_tables_equal) and verify exit 0 again; usage errors exit 2; the rows-per-second
# cap slows a pass; a table missing on the target is that table's error.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\` CHARACTER SET utf8mb4"
src_sql "--database=$db" "
CREATE TABLE fam (
  id INT NOT NULL PRIMARY KEY,
  i BIGINT, u BIGINT UNSIGNED, dec1 DECIMAL(30,10),
  f FLOAT, d DOUBLE,
  s VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  l VARCHAR(40) CHARACTER SET latin1, ch CHAR(10) COLLATE utf8mb4_bin,
  bl BLOB, vb VARBINARY(16),
  j JSON,
  dt DATETIME(6), ts TIMESTAMP(3) NULL, dd DATE, tm TIME(2), yr YEAR,
  bt BIT(10), en ENUM('a','b','c'), st SET('x','y','z'),
  g BIGINT AS (i + 1) VIRTUAL
);
INSERT INTO fam (id, i, u, dec1, f, d, s, l, ch, bl, vb, j, dt, ts, dd, tm, yr, bt, en, st)
SELECT seq, seq * 1000003 - 500, 18446744073709551615 - seq, seq / 7, seq / 3 + 0.1, seq / 7 * 1e-30,
  CONCAT('Ünïcödé ', seq, ' 😀'), CONCAT('café ', seq), CONCAT('c', seq), UNHEX(SHA2(seq, 256)), UNHEX(MD5(seq)),
  JSON_OBJECT('n', seq, 'arr', JSON_ARRAY(1.5, 'x', NULL), 'o', JSON_OBJECT('k', 'v')),
  '2024-02-29 23:59:59.999999' - INTERVAL seq MINUTE, '2001-01-01 00:00:00.5' + INTERVAL seq HOUR,
  '1000-01-01' + INTERVAL seq DAY, '-838:59:58.99', 1901 + seq % 255, seq % 1024, 1 + seq % 3, 'x,z'
FROM seq_1_to_5000;
-- NULLs and edge values in one row
INSERT INTO fam (id) VALUES (6000);
INSERT INTO fam (id, f, d, s, l, ch, bl, j) VALUES (6001, 0, -1.7976931348623157e308, '', '', '', '', '[]');
INSERT INTO fam (id, f, d) VALUES (6002, 3.4e38, 2.2250738585072014e-308);
CREATE TABLE ck (name VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL, n INT NOT NULL, v TEXT,
  PRIMARY KEY (name, n));
INSERT INTO ck SELECT CONCAT('name', seq % 50), seq, REPEAT('v', seq % 30) FROM seq_1_to_3000;
INSERT INTO ck VALUES ('abc', 1, 'lower');
CREATE TABLE nk (i INT, f FLOAT, s VARCHAR(20), bl BLOB, j JSON, dt DATETIME(6), bt BIT(3));
INSERT INTO nk SELECT seq % 100, seq % 7 / 3, CONCAT('s', seq % 40), UNHEX(MD5(seq % 60)), JSON_OBJECT('a', seq % 9),
  '2020-01-01' + INTERVAL (seq % 11) SECOND, seq % 8 FROM seq_1_to_2000;
INSERT INTO nk VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL), (NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE empty_t (id INT PRIMARY KEY);
"
write_job "$TEST_TMP/job.yaml" "databases=$db" spec.dump-threads=2 spec.verify-chunk-rows=1000 spec.verify=after-full
tidm migrate "$TEST_TMP/job.yaml" >"$TEST_TMP/migrate.out" 2>&1 || fail "migrate: $(cat "$TEST_TMP/migrate.out")"
# spec.verify: after-full - the copy is verified, the summary says so (from tidm_meta)
assert_contains "$(cat "$TEST_TMP/migrate.out")" "job verify: verify (pass 1): 4 of 4 tables equal, 0 rows differ"

# 1. equal data: exit 0, every table equal
out=$(tidm verify "$TEST_TMP/job.yaml" 2>"$TEST_TMP/err") || fail "verify of equal data exited $?: $out $(cat "$TEST_TMP/err")"
echo "$out"
assert_contains "$out" "verify: 4 tables, 4 equal, 0 different (0 rows), 0 unsettled or in error"
assert_contains "$out" "$db.nk"

# 2. plant differences on the target, behind tidm's back
tgt_sql "--database=$db" "
UPDATE fam SET i = i + 1 WHERE id = 1;
UPDATE fam SET u = 7 WHERE id = 2;
UPDATE fam SET dec1 = dec1 + 0.0000000001 WHERE id = 3;
UPDATE fam SET f = 2.5 WHERE id = 4;
UPDATE fam SET d = d * 2 WHERE id = 5;
UPDATE fam SET s = 'ünïcödé 6 😀' WHERE id = 6;
UPDATE fam SET l = 'cafe 7' WHERE id = 7;
UPDATE fam SET ch = 'C8' WHERE id = 8;
UPDATE fam SET bl = UNHEX('00') WHERE id = 9;
UPDATE fam SET vb = NULL WHERE id = 10;
UPDATE fam SET j = JSON_OBJECT('n', 11) WHERE id = 11;
UPDATE fam SET dt = dt + INTERVAL 1 MICROSECOND WHERE id = 12;
UPDATE fam SET ts = ts + INTERVAL 1 SECOND WHERE id = 13;
UPDATE fam SET dd = dd + INTERVAL 1 DAY WHERE id = 14;
UPDATE fam SET tm = '00:00:01' WHERE id = 15;
UPDATE fam SET yr = 2155 WHERE id = 16;
UPDATE fam SET bt = b'1111111111' WHERE id = 17;
UPDATE fam SET en = 'b' WHERE id = 18;
UPDATE fam SET st = '' WHERE id = 19;
UPDATE fam SET s = NULL WHERE id = 6001;
DELETE FROM fam WHERE id IN (100, 4999);
INSERT INTO fam (id, i) VALUES (7000, 1);
UPDATE ck SET name = 'ABC' WHERE name = 'abc' AND n = 1;
DELETE FROM ck WHERE name = 'name7' AND n = 7;
UPDATE ck SET v = 'changed' WHERE name = 'name9' AND n = 2009;
DELETE FROM nk WHERE i IS NULL LIMIT 1;
UPDATE nk SET s = 'other' WHERE i = 5 AND s = 's5' LIMIT 1;
INSERT INTO nk (i, s) VALUES (424242, 'extra'), (424242, 'extra');
INSERT INTO empty_t VALUES (1);
"
rc=0
"$TIDM_BIN" verify "$TEST_TMP/job.yaml" --format json --repair-sql "$TEST_TMP/repair.sql" >"$TEST_TMP/diff.json" 2>"$TEST_TMP/err" || rc=$?
assert_eq 1 "$rc" "exit code with differences ($(cat "$TEST_TMP/err"))"
python3 - "$TEST_TMP/diff.json" "$db" <<'PY' || fail "the report of the planted differences is not as expected"
import json, sys
r = json.load(open(sys.argv[1])); db = sys.argv[2]
t = {x["table"]: x for x in r["tables"]}
assert r["equal"] is False and r["online"] is False, r
def diffs(name):
    return sorted((d["side"], d["key"], d.get("columns", ""), d["rows"]) for d in t[db + "." + name]["differences"])
want = [("changed", "`id`=%d" % i, "`%s`" % c, 1) for i, c in
        enumerate(["i", "u", "dec1", "f", "d", "s", "l", "ch", "bl", "vb", "j", "dt", "ts", "dd", "tm", "yr", "bt", "en", "st"], 1)]
# `i` changed: the generated column follows it
want[0] = ("changed", "`id`=1", "`i`, `g`", 1)
want += [("changed", "`id`=6001", "`s`", 1), ("missing", "`id`=100", "", 1), ("missing", "`id`=4999", "", 1),
         ("extra", "`id`=7000", "", 1)]
got = diffs("fam")
for w in sorted(want):
    assert w in got, ("fam: missing from the report", w, got)
assert len(got) == len(want), ("fam: unexpected differences", sorted(set(got) - set(want)))
assert t[db + ".fam"]["state"] == "different" and t[db + ".fam"]["differing_rows"] == len(want)
ck = diffs("ck")
assert ck == sorted([("extra", "`name`='ABC', `n`=1", "", 1), ("missing", "`name`='abc', `n`=1", "", 1),
                     ("missing", "`name`='name7', `n`=7", "", 1), ("changed", "`name`='name9', `n`=2009", "`v`", 1)]), ck
nk = t[db + ".nk"]
assert nk["keyless"] and nk["state"] == "different", nk
sides = sorted((d["side"], d["rows"]) for d in nk["differences"])
assert sides == [("extra", 1), ("extra", 2), ("missing", 1), ("missing", 1)], sides
assert nk["differing_rows"] == 5, nk
assert any("424242" in d["key"] for d in nk["differences"]), nk
e = t[db + ".empty_t"]
assert e["state"] == "different" and [(d["side"], d["key"]) for d in e["differences"]] == [("extra", "`id`=1")], e
assert r["repair_statements"] > 0
PY

# 3. the repair SQL makes the target equal
tgt_sql <"$TEST_TMP/repair.sql" || fail "the repair SQL failed on the target"
assert_tables_equal "$db"
out=$(tidm verify "$TEST_TMP/job.yaml" 2>"$TEST_TMP/err") || fail "verify after the repair exited $?: $out"
assert_contains "$out" "4 equal, 0 different"

# 4. results in tidm_meta (for the job service and tidm migrate's summary)
assert_eq "equal	5003	0" "$(tgt_sql "SELECT state, rows_checked, differing_rows FROM tidm_meta.verify_tables WHERE job = 'verify' AND db = '$db' AND tbl = 'fam'")" "stored result"

# 5. --tables and usage errors
tgt_sql "UPDATE \`$db\`.ck SET v = 'x' WHERE n = 3"
out=$(tidm verify "$TEST_TMP/job.yaml" --tables "$db.fam" 2>&1) || fail "verify --tables $db.fam: $out"
assert_contains "$out" "verify: 1 tables, 1 equal"
rc=0
out=$("$TIDM_BIN" verify "$TEST_TMP/job.yaml" --tables "$db.ck" 2>&1) || rc=$?
assert_eq 1 "$rc" "verify --tables $db.ck (changed)"
assert_contains "$out" "changed  \`name\`='name3', \`n\`=3  differs in \`v\`"
for args in "" "--format xml $TEST_TMP/job.yaml" "$TEST_TMP/job.yaml --tables nodot" "$TEST_TMP/job.yaml --tables $db.nosuch" \
	"$TEST_TMP/nosuch.yaml" "$TEST_TMP/job.yaml --bogus"; do
	rc=0
	# shellcheck disable=SC2086
	out=$("$TIDM_BIN" verify $args 2>&1) || rc=$?
	assert_eq 2 "$rc" "exit code of 'tidm verify $args' ($out)"
done
out=$("$TIDM_BIN" verify "$TEST_TMP/job.yaml" --tables "$db.nosuch" 2>&1 || true)
assert_contains "$out" "--tables: $db.nosuch is not a table of the job verify on the source"
# 6. the load cap: 5,003 rows at 2,500 rows/s take two seconds or more (0.3 s without)
write_job "$TEST_TMP/slow.yaml" name=verify-slow "databases=$db" spec.verify-chunk-rows=1000 spec.verify-rows-per-second=2500
out=$(tidm verify "$TEST_TMP/slow.yaml" --tables "$db.fam" --format json 2>&1) || fail "verify with a cap: $out"
python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["seconds"] >= 2.0 and r["equal"], r' <<<"$out" ||
	fail "spec.verify-rows-per-second: 2500 did not slow the pass: $out"

# 7. spec.verify: after-full on a type all job run --until-caught-up: one pass, in the summary
write_job "$TEST_TMP/all.yaml" name=verify-all type=all "tables=$db.fam" spec.verify=after-full
src_sql "UPDATE \`$db\`.fam SET i = i + 1 WHERE id < 10"
out=$(tidm migrate "$TEST_TMP/all.yaml" --until-caught-up 2>"$TEST_TMP/all.err") || fail "migrate type all: $(cat "$TEST_TMP/all.err")"
assert_contains "$out" "job verify-all: verify (pass 1): 1 of 1 tables equal, 0 rows differ"
assert_contains "$(cat "$TEST_TMP/all.err")" "verify pass 1: every table equal (1 tables"

# 8. a table missing on the target: that table's error, the others compared
tgt_sql "DROP TABLE \`$db\`.empty_t"
rc=0
out=$("$TIDM_BIN" verify "$TEST_TMP/job.yaml" 2>&1) || rc=$?
assert_eq 1 "$rc" "exit code with a table missing on the target"
grep -Eq "^$db\.empty_t +error " <<<"$out" || fail "empty_t is not in error: $out"
assert_contains "$out" "error: on the target: target query failed"
assert_contains "$out" "Table '$db.empty_t' doesn't exist"
assert_contains "$out" "2 equal, 1 different (1 rows), 1 unsettled or in error"  # ck changed in 5.
echo "ok"
