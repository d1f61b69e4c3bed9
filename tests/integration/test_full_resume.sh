#!/usr/bin/env bash
# kill -9 during the data phase, then the same command again: the result equals the
# source, nothing is duplicated, and chunks finished before the kill are not copied again.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`;
CREATE TABLE \`$db\`.big (id INT PRIMARY KEY, v VARCHAR(100), KEY v (v));
INSERT INTO \`$db\`.big SELECT seq, CONCAT('value-', seq, REPEAT('.', seq % 50)) FROM \`$db\`.seq_1_to_600000;
CREATE TABLE \`$db\`.nokey (a INT, b VARCHAR(20));
INSERT INTO \`$db\`.nokey SELECT seq % 7, 'dup' FROM \`$db\`.seq_1_to_20000;"

write_job "$TEST_TMP/job.yaml" name=resume-job "databases=$db" spec.chunk-rows=10000 spec.dump-threads=1 spec.load-threads=1
done_chunks() { tgt_sql "SELECT COUNT(*) FROM tidm_meta.chunks WHERE job = 'resume-job' AND state = 'done'" 2>/dev/null || echo 0; }

"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" >"$TEST_TMP/run1" 2>&1 &
pid=$!
wait_for "[ \$(done_chunks) -ge 5 ]" 120 "five finished chunks"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
before=$(done_chunks)
total=$(tgt_sql "SELECT COUNT(*) FROM tidm_meta.chunks WHERE job = 'resume-job'")
echo "killed with $before of $total chunks done"
[ "$before" -lt "$total" ] || fail "the run finished before it could be killed ($before/$total)"
assert_eq running "$(tgt_sql "SELECT state FROM tidm_meta.jobs WHERE name = 'resume-job'")" "job state after the kill"
# the secondary index is built once the rows are in: not yet, and it is remembered
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '$db' AND TABLE_NAME = 'big' AND INDEX_NAME = 'v'")" "index v before the rows are in"
assert_eq "ADD KEY \`v\` (\`v\`)" "$(tgt_sql "SELECT TRIM(TRAILING '\\n' FROM deferred_keys) FROM tidm_meta.tables WHERE job = 'resume-job' AND tbl = 'big'")" "index v remembered for later"

# Mark a row of the first finished chunk on the target: a chunk copied again would overwrite it.
first_done=$(tgt_sql "SELECT MIN(no) FROM tidm_meta.chunks WHERE job = 'resume-job' AND tbl = 'big' AND state = 'done'")
[ -n "$first_done" ] && [ "$first_done" != NULL ] || fail "no finished chunk of table big"
upper=$(tgt_sql "SELECT upper_sql FROM tidm_meta.chunks WHERE job = 'resume-job' AND tbl = 'big' AND no = $first_done")
tgt_sql "UPDATE \`$db\`.big SET v = 'MARKER' WHERE id = $upper"

tidm migrate "$TEST_TMP/job.yaml" >"$TEST_TMP/run2" 2>&1 || fail "second run failed: $(cat "$TEST_TMP/run2")"
cat "$TEST_TMP/run2"
assert_contains "$(cat "$TEST_TMP/run2")" "full migration finished (resumed)"
assert_contains "$(cat "$TEST_TMP/run2")" "($before already done before this run)"
assert_eq MARKER "$(tgt_sql "SELECT v FROM \`$db\`.big WHERE id = $upper")" "a chunk finished before the kill was not copied again"
assert_eq finished "$(tgt_sql "SELECT state FROM tidm_meta.jobs WHERE name = 'resume-job'")" "job state"
assert_eq 20000 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.nokey")" "keyless table: no duplicated row"

tgt_sql "UPDATE \`$db\`.big SET v = (SELECT 1) WHERE 0" # no-op; restore the marked row from the source:
tgt_sql "UPDATE \`$db\`.big SET v = '$(src_sql "SELECT v FROM \`$db\`.big WHERE id = $upper")' WHERE id = $upper"
assert_tables_equal "$db"
assert_indexes_equal "$db"
