#!/usr/bin/env bash
# kill -9 of tidm at five random moments of a type `all` run under a concurrent workload,
# each followed by a restart: in the end every table equals the source and no keyed
# table has a duplicated or missing row.
. "$(dirname "$0")/../harness/lib.sh"
. "$TIDM_SRC/tests/harness/workload.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`"
workload_setup "$db"
write_job "$TEST_TMP/job.yaml" name=sync-kill type=all "databases=$db,${db}_x" spec.chunk-rows=1000 spec.apply-workers=4 spec.batch=20

WORKLOAD_SLEEP=0.08 workload_run "$db" 1 120 &
wl=$!
RANDOM=$$
for round in 1 2 3 4 5; do
	"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" >>"$TEST_TMP/runs" 2>&1 &
	pid=$!
	delay=$((RANDOM % 2500 + 300))
	sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	echo "round $round: killed after ${delay} ms ($(tgt_sql "SELECT CONCAT(state, '/', stage) FROM tidm_meta.jobs WHERE name = 'sync-kill'" 2>/dev/null))"
done
wait "$wl" || fail "workload failed"
# one more kill, then runs with another apply-workers count: the first (itself killed) keeps
# the stored routing, keyless tables must still not get a replayed row twice
WORKLOAD_SLEEP=0.02 workload_run "$db" 121 160 &
wl=$!
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" >>"$TEST_TMP/runs" 2>&1 &
pid=$!
# replicating with 4 workers (their checkpoints stored) before this kill: on a busy machine
# the five rounds above can all end inside the copy, and a first start of replication
# after the change below would have no stored routing to keep
wait_for "[ \"\$(tgt_sql \"SELECT COUNT(*) FROM tidm_meta.sync_workers WHERE job = 'sync-kill' AND nworkers = 4\")\" -ge 4 ] || ! kill -0 $pid" 300 \
	"replication with 4 workers"
sleep 1.5
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
wait "$wl" || fail "workload failed"
sed -i 's/apply-workers: 4/apply-workers: 7/' "$TEST_TMP/job.yaml"
grep -q "apply-workers: 7" "$TEST_TMP/job.yaml" || fail "job file not changed"
# the run after an unclean stop keeps the stored routing (4 workers), so its own kill -9
# during the replay loses nothing either; the new count comes after a clean stop
WORKLOAD_SLEEP=0.02 workload_run "$db" 161 180 &
wl=$!
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" >"$TEST_TMP/changed" 2>&1 &
pid=$!
# killed once it has said how many workers it applies with (replication has started); a
# fixed delay was sometimes still inside the copy on a busy machine, and then said nothing
switch_said="apply-workers is 7 in the job file, but the previous run \(4 workers\) did not stop cleanly: this run applies with 4 workers|apply-workers changed from 4 to 7"
wait_for "grep -qE '$switch_said|\[syncing\]' '$TEST_TMP/changed' || ! kill -0 $pid" 180 "the run with apply-workers 7 to start replicating"
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
wait "$wl" || fail "workload failed"
# (a kill right after a DDL finds every checkpoint at the DDL's position: the switch is then safe at once)
grep -qE "$switch_said" "$TEST_TMP/changed" ||
	fail "the run after changing apply-workers says neither that it keeps 4 workers nor that it switched: $(cat "$TEST_TMP/changed")"
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/final" 2>&1 || fail "final run failed: $(cat "$TEST_TMP/final")"
cat "$TEST_TMP/final"
assert_tables_equal "$db"
# after the clean stop of --until-caught-up, the next start takes the new count
src_sql "INSERT INTO \`$db\`.w_nokey SELECT * FROM \`$db\`.w_nokey LIMIT 3"
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/relayout" 2>&1 || fail "run with 7 workers failed: $(cat "$TEST_TMP/relayout")"
cat "$TEST_TMP/changed" "$TEST_TMP/relayout" | grep -q "apply-workers changed from 4 to 7" || fail "no switch to 7 workers"
assert_eq 7 "$(tgt_sql "SELECT COUNT(*) FROM tidm_meta.sync_workers WHERE job = 'sync-kill' AND nworkers = 7")" "checkpoint rows of the new count"
assert_tables_equal "$db"
