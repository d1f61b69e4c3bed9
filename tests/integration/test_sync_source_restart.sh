#!/usr/bin/env bash
# The source server restarts in the middle of replication: tidm reconnects, loses and
# repeats nothing, and ends equal to the source. Killed (-9) once, then shut down cleanly
# (SHUTDOWN ends the dump with EOF, which must not be taken for the end of replication).
. "$(dirname "$0")/../harness/lib.sh"
. "$TIDM_SRC/tests/harness/workload.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`"
workload_setup "$db"
write_job "$TEST_TMP/job.yaml" name=source-restart type=all "databases=$db,${db}_x" spec.apply-workers=4
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/run1" 2>&1 || fail "first run: $(cat "$TEST_TMP/run1")"

# replication runs (no --until-caught-up) while the workload writes; the source restarts
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" >"$TEST_TMP/run2" 2>&1 &
pid=$!
WORKLOAD_SLEEP=0.02 workload_run "$db" 1 50
wait_for "grep -q syncing '$TEST_TMP/run2' || [ \$(tgt_sql \"SELECT COUNT(*) FROM \\\`$db\\\`.w_keyed WHERE id > 10000\") -gt 10 ]" 60 "replication to start"
spid=$(cat "$TIDM_TESTDB_DIR/source/mariadbd.pid")
kill -9 "$spid"
sleep 2
bash "$TIDM_SRC/scripts/testdb.sh" start >/dev/null 2>&1 || fail "cannot restart the source"
WORKLOAD_SLEEP=0.02 workload_run "$db" 51 110
spid=$(cat "$TIDM_TESTDB_DIR/source/mariadbd.pid")
src_sql "SHUTDOWN" || true
while kill -0 "$spid" 2>/dev/null; do sleep 0.1; done
kill -0 "$pid" 2>/dev/null || fail "tidm ended when the source shut down cleanly: $(tail -5 "$TEST_TMP/run2")"
bash "$TIDM_SRC/scripts/testdb.sh" start >/dev/null 2>&1 || fail "cannot start the source again"
WORKLOAD_SLEEP=0.02 workload_run "$db" 111 150
wait_for "[ \"\$(tgt_sql \"SELECT COUNT(*) FROM \\\`$db\\\`.w_keyed\")\" = \"\$(src_sql \"SELECT COUNT(*) FROM \\\`$db\\\`.w_keyed\")\" ]" 60 \
	"rows written after the clean restart to arrive"
kill -0 "$pid" 2>/dev/null || fail "tidm ended: $(tail -5 "$TEST_TMP/run2")"
kill -INT "$pid"
wait "$pid" || true
grep -q "paused at" "$TEST_TMP/run2" || fail "tidm did not pause cleanly: $(tail -20 "$TEST_TMP/run2")"
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/run3" 2>&1 || fail "final run: $(cat "$TEST_TMP/run3")"
grep -Eiq "reconnect|lost|binlog stream" "$TEST_TMP/run2" || fail "no sign of a reconnect in: $(tail -20 "$TEST_TMP/run2")"
assert_tables_equal "$db"
