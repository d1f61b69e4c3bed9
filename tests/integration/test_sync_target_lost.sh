#!/usr/bin/env bash
# The target loses tidm's connections in the middle of replication, under a concurrent
# source workload: KILLed on the target (twice), then the target server restarts (kill -9,
# then a clean SHUTDOWN with the target down for 10 s, refusing connections). The same
# tidm process goes on by itself each time: every connection is opened again, replication
# restarts from its checkpoints and catches up, and in the end every table equals the
# source. Fails before the fix: the restart read the chunks on the runner's dead
# connection ("Server has gone away") and never caught up.
. "$(dirname "$0")/../harness/lib.sh"
. "$TIDM_SRC/tests/harness/workload.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`"
workload_setup "$db"
job=target-lost-$$
write_job "$TEST_TMP/job.yaml" name=$job type=all "databases=$db,${db}_x" spec.apply-workers=4
log=$TEST_TMP/run
wl=
forget_job() {
	local t
	tgt_sql "DELETE FROM tidm_meta.jobs WHERE name = '$job'" 2>/dev/null
	for t in tables chunks osc sync_workers; do
		tgt_sql "DELETE FROM tidm_meta.$t WHERE job = '$job'" 2>/dev/null
	done
}
on_exit forget_job
on_exit '[ -n "$wl" ] && kill $wl 2>/dev/null; wait 2>/dev/null'

"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" >"$log" 2>&1 &
pid=$!
on_exit "kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null"
wait_for "[ \"\$(tgt_sql \"SELECT CONCAT(state, '/', stage) FROM tidm_meta.jobs WHERE name = '$job'\")\" = running/sync ]" 90 \
	"replication to start"

alive() {
	kill -0 "$pid" 2>/dev/null || fail "tidm ended $1: $(tail -20 "$log")"
}

# every table of the database has the source's rows (the workload has stopped)
caught_up() {
	local t
	for t in w_keyed w_nokey w_uk w_big "all types"; do
		[ "$(checksum_table source "$db" "$t")" = "$(checksum_table target "$db" "$t")" ] || return 1
	done
}

# the number of times replication restarted after a target error
restarts() {
	grep -c "restarting from the checkpoints" "$log" || true
}

# KILL every connection of root over TCP on the target but this one: tidm's
kill_tidm_conns() {
	local ids id n=0
	ids=$(tgt_sql "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND USER = 'root' AND HOST LIKE '127.0.0.1:%'")
	for id in $ids; do
		# tidm may close the others itself once it sees the first one lost
		tgt_sql "KILL $id" 2>/dev/null || true
		n=$((n + 1))
	done
	[ "$n" -ge 5 ] || fail "found only $n tidm connections on the target to kill"
	echo "killed the $n connections of tidm on the target"
}

target_pid() { cat "$TIDM_TESTDB_DIR/target/mariadbd.pid"; }

# one round: the workload writes iterations FROM..TO while ACTION hits the target
round() {
	local what=$1 from=$2 to=$3 action=$4 before
	before=$(restarts)
	WORKLOAD_SLEEP=0.1 workload_run "$db" "$from" "$to" &
	wl=$!
	sleep 1
	$action
	wait "$wl" || fail "workload $from..$to failed"
	wl=
	wait_for "[ \$(restarts) -gt $before ]" 60 "tidm to notice the lost target connections ($what)"
	alive "after $what"
	wait_for caught_up 60 "replication to catch up after $what"
	alive "after catching up ($what)"
	echo "$what: caught up"
}

restart_target_kill9() {
	local tp
	tp=$(target_pid)
	kill -9 "$tp"
	while kill -0 "$tp" 2>/dev/null; do sleep 0.1; done
	sleep 2
	bash "$TIDM_SRC/scripts/testdb.sh" start >/dev/null 2>&1 || fail "cannot restart the target"
}

restart_target_clean() {
	local tp
	tp=$(target_pid)
	tgt_sql "SHUTDOWN" || true
	while kill -0 "$tp" 2>/dev/null; do sleep 0.1; done
	# down longer than one reopening's own retries (about 8 s): tidm retries the refusal
	sleep 10
	bash "$TIDM_SRC/scripts/testdb.sh" start >/dev/null 2>&1 || fail "cannot start the target again"
}

round "the first KILL" 1 25 kill_tidm_conns
round "the second KILL" 26 50 kill_tidm_conns
round "a target killed (-9) and restarted" 51 95 restart_target_kill9
round "a target shut down and restarted" 96 130 restart_target_clean
# the refused connections of the shut-down target were retried: by a replication restart
# (attempt 2 or later), or - when the restart's backoff had grown by then - by the
# reopening's own retries; either way the round above caught up afterwards
grep -E "transient error on the target \(.*errno 200[23]\)" "$log" | tail -1 | grep -q "attempt [2-9] of 10" ||
	grep -Eq "target connection to .* failed \(.*errno 200[23]\); retry" "$log" ||
	fail "no retry after a refused connection: $(grep -E 'transient error|connection to .* failed' "$log" | tail -3)"

grep -E "restarting from the checkpoints|retry budget" "$log" | cut -c1-240
# a lost target connection is reported by what was lost, not by an empty prefix
if grep -E "WARN|ERROR|error" "$log" | grep -Eq '\(: |^: |error: : '; then
	fail "a message starts with ': ': $(grep -E '\(: |^: |error: : ' "$log" | head -3)"
fi
kill -INT "$pid"
wait "$pid" || true
grep -q "paused at" "$log" || fail "tidm did not pause cleanly: $(tail -20 "$log")"
assert_tables_equal "$db"
