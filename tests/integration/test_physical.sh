#!/usr/bin/env bash
# mode physical (issue 17): into empty target tables, one transaction per table.
#  1. every column type, hostile identifiers, secondary indexes, a keyless table and BIT
#     columns, each table in one transaction: the target equals the source afterwards,
#     index for index;
#  2. a selected table that holds a row on the target: refused naming it, exit 1, nothing
#     written (the table keeps its one row, the other selected table is not created);
#  3. kill -9 while a table loads (batches committed), then the same command: the finished
#     table is not touched again, the interrupted one is emptied and ends equal to the
#     source, no row twice;
#  4. --restart into the filled tables: refused by the run's own check (the precheck
#     passes a job that ran before), nothing written.
. "$(dirname "$0")/../harness/lib.sh"

# --- 1. all types, hostile names ----------------------------------------------------------
db="$(test_db)_ph\`ys db.ü"
qdb="\`${db//\`/\`\`}\`"
on_exit "src_sql 'DROP DATABASE IF EXISTS $qdb' >/dev/null 2>&1 || true; tgt_sql 'DROP DATABASE IF EXISTS $qdb' >/dev/null 2>&1 || true"
src_sql "CREATE DATABASE $qdb CHARACTER SET utf8mb4"
src_sql "--database=$db" "$(cat "$TIDM_SRC/tests/integration/sql/types.sql")"
src_sql "--database=$db" "CREATE TABLE \`indexed\` (id INT NOT NULL AUTO_INCREMENT, x INT NOT NULL, \`we\`\`ird key\` VARCHAR(40), t TEXT,
  PRIMARY KEY (x), KEY (id), KEY \`i x\` (x, id), KEY \`we\`\`ird idx\` (\`we\`\`ird key\`(10)) COMMENT 'c,1', FULLTEXT KEY ft (t)) CHARACTER SET utf8mb4;
INSERT INTO \`indexed\` (x, \`we\`\`ird key\`, t) SELECT seq, CONCAT('k', seq % 13), CONCAT('word', seq) FROM seq_1_to_30000;"
# (each table in one target transaction here; section 3 commits batch by batch, the default)
write_job "$TEST_TMP/types.yaml" name=phys-types mode=physical "databases=\`${db//\`/\`\`}\`" spec.chunk-rows=1000 spec.dump-threads=2
# (and the redo log switch asked for: MariaDB has none, the load goes on with a warning)
echo "  physical: {one-transaction: true, disable-redo-log: true}" >>"$TEST_TMP/types.yaml" # spec: is the last mapping
tidm migrate "$TEST_TMP/types.yaml" >"$TEST_TMP/types.out" 2>&1 || fail "physical migrate failed: $(cat "$TEST_TMP/types.out")"
assert_contains "$(cat "$TEST_TMP/types.out")" "full migration finished"
assert_tables_equal "$db"
assert_indexes_equal "$db"
assert_contains "$(cat "$TEST_TMP/types.out")" "\`indexed\`: 2 secondary indexes built after the rows"
assert_contains "$(cat "$TEST_TMP/types.out")" "WARN  the target's InnoDB redo log stays on for the load: disable-redo-log needs MySQL 8.0.21 or later"

# --- 2. a non-empty target table: refused, nothing written -------------------------------
db2=$(test_db refuse)
src_sql "CREATE DATABASE \`$db2\`;
CREATE TABLE \`$db2\`.\`full one\` (id INT PRIMARY KEY, v INT); INSERT INTO \`$db2\`.\`full one\` VALUES (1, 1), (2, 2);
CREATE TABLE \`$db2\`.other (id INT PRIMARY KEY); INSERT INTO \`$db2\`.other VALUES (1);"
tgt_sql "CREATE DATABASE \`$db2\`; CREATE TABLE \`$db2\`.\`full one\` (id INT PRIMARY KEY, v INT); INSERT INTO \`$db2\`.\`full one\` VALUES (7, 7);"
write_job "$TEST_TMP/refuse.yaml" name=phys-refuse mode=physical "databases=$db2"
set +e
"$TIDM_BIN" migrate "$TEST_TMP/refuse.yaml" >"$TEST_TMP/refuse.out" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] || fail "a physical job into a non-empty table was not refused"
assert_contains "$(grep -A1 physical-empty "$TEST_TMP/refuse.out")" "\`$db2\`.\`full one\` on the target holds rows"
assert_eq "7:7" "$(tgt_sql "SELECT GROUP_CONCAT(id, ':', v) FROM \`$db2\`.\`full one\`")" "the non-empty table is unchanged"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db2' AND TABLE_NAME = 'other'")" "no other table created"

# --- 3. kill -9 mid-load, then resume ----------------------------------------------------
db3=$(test_db kill)
src_sql "CREATE DATABASE \`$db3\`;
CREATE TABLE \`$db3\`.first (id INT PRIMARY KEY, v VARCHAR(100), KEY v (v));
INSERT INTO \`$db3\`.first SELECT seq, CONCAT('first-', seq) FROM \`$db3\`.seq_1_to_50000;
CREATE TABLE \`$db3\`.second (id INT PRIMARY KEY, v VARCHAR(100), KEY v (v));
INSERT INTO \`$db3\`.second SELECT seq, CONCAT('second-', seq) FROM \`$db3\`.seq_1_to_40000;"
src_sql "ANALYZE TABLE \`$db3\`.first, \`$db3\`.second" >/dev/null
write_job "$TEST_TMP/kill.yaml" name=phys-kill mode=physical "databases=$db3" spec.chunk-rows=10000 spec.dump-threads=1
done_chunks() { tgt_sql "SELECT COUNT(*) FROM tidm_meta.chunks WHERE job = 'phys-kill' AND tbl = '$1' AND state = 'done'" 2>/dev/null || echo 0; }
TIDM_TEST_PAUSE_AFTER_CHUNK=1500 "$TIDM_BIN" migrate "$TEST_TMP/kill.yaml" >"$TEST_TMP/kill1.out" 2>&1 &
pid=$!
wait_for "[ \$(done_chunks first) -ge 1 ] || [ \$(done_chunks second) -ge 1 ]" 120 "the first table loaded"
sleep 2
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
cat "$TEST_TMP/kill1.out"
f=$(done_chunks first); s=$(done_chunks second)
total=$(tgt_sql "SELECT COUNT(*) FROM tidm_meta.chunks WHERE job = 'phys-kill'")
echo "killed with first: $f, second: $s chunks done"
if [ "$f" -ge 1 ]; then done_t=first; left_t=second; else done_t=second; left_t=first; fi
assert_eq 0 "$(done_chunks $left_t)" "the interrupted table has no chunk done (one transaction)"
# a mark in the finished table: a copy again would overwrite it
tgt_sql "UPDATE \`$db3\`.$done_t SET v = 'MARKER' WHERE id = 7"
tidm migrate "$TEST_TMP/kill.yaml" >"$TEST_TMP/kill2.out" 2>&1 || fail "the second run failed: $(cat "$TEST_TMP/kill2.out")"
cat "$TEST_TMP/kill2.out"
assert_contains "$(cat "$TEST_TMP/kill2.out")" "full migration finished (resumed)"
assert_contains "$(cat "$TEST_TMP/kill2.out")" "\`$db3\`.\`$left_t\`: emptied, its interrupted load is copied again"
assert_eq MARKER "$(tgt_sql "SELECT v FROM \`$db3\`.$done_t WHERE id = 7")" "the finished table was not copied again"
tgt_sql "UPDATE \`$db3\`.$done_t SET v = '$(src_sql "SELECT v FROM \`$db3\`.$done_t WHERE id = 7")' WHERE id = 7"
assert_tables_equal "$db3"
assert_indexes_equal "$db3"

# --- 4. the run's own check (the precheck passes a job that ran before): --restart of the
# finished job finds its tables full and refuses, naming them, before writing anything
before=$(checksum_table target "$db3" first)
set +e
"$TIDM_BIN" migrate --restart "$TEST_TMP/kill.yaml" >"$TEST_TMP/restart.out" 2>&1
code=$?
set -e
cat "$TEST_TMP/restart.out"
[ "$code" -ne 0 ] || fail "--restart into full tables was not refused"
assert_contains "$(cat "$TEST_TMP/restart.out")" "mode physical writes only into empty tables, and \`$db3\`.\`first\`, \`$db3\`.\`second\` on the target hold rows. Nothing was written."
assert_eq "$before" "$(checksum_table target "$db3" first)" "target unchanged"
assert_eq "$total" "$(tgt_sql "SELECT COUNT(*) FROM tidm_meta.chunks WHERE job = 'phys-kill' AND state = 'done'")" "the chunk marks are kept"

# --- 5. the job service runs a physical job too (tests/harness/service_drive.c) -----------
[ -x "${TIDM_SERVICE_DRIVE:-}" ] || TIDM_SERVICE_DRIVE=$TIDM_BUILD/tidm_service_drive
db5=$(test_db svc)
src_sql "CREATE DATABASE \`$db5\`; CREATE TABLE \`$db5\`.t (id INT PRIMARY KEY, v VARCHAR(32), KEY (v));
INSERT INTO \`$db5\`.t SELECT seq, CONCAT('v', seq) FROM \`$db5\`.seq_1_to_5000;"
write_job "$TEST_TMP/svc.yaml" name=phys-svc type=full mode=physical "databases=$db5" spec.chunk-rows=1000
coproc DRV { "$TIDM_SERVICE_DRIVE" "$TEST_TMP/data" 2>"$TEST_TMP/svc.log"; }
on_exit "kill ${DRV_PID:-0} 2>/dev/null"
cmd() {
	local ans
	echo "$1" >&"${DRV[1]}"
	IFS= read -r -t 300 ans <&"${DRV[0]}" || fail "no answer to '$1' (log: $(tail -5 "$TEST_TMP/svc.log"))"
	case "$ans" in ok*) printf '%s\n' "$ans" ;; *) fail "'$1' answered: $ans (log: $(tail -5 "$TEST_TMP/svc.log"))" ;; esac
}
cmd "open" >/dev/null
cmd "create $TEST_TMP/svc.yaml start" >/dev/null
cmd "wait phys-svc finished/done 180" >/dev/null
assert_contains "$(cmd "get phys-svc")" '"mode":"physical"'
cmd "close" >/dev/null
assert_tables_equal "$db5"
assert_indexes_equal "$db5"
